#pragma once
#include <vpx/vpx_encoder.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>

/* Macros and variadic controls of libvpx that Swift cannot call. */
static inline vpx_codec_err_t CVPX_vpx_codec_enc_init(vpx_codec_ctx_t *ctx, const vpx_codec_enc_cfg_t *cfg) {
    return vpx_codec_enc_init(ctx, vpx_codec_vp8_cx(), cfg, 0);
}
static inline vpx_codec_err_t CVPX_vpx_codec_dec_init(vpx_codec_ctx_t *ctx) {
    return vpx_codec_dec_init(ctx, vpx_codec_vp8_dx(), NULL, 0);
}
static inline vpx_codec_err_t CVPX_set_cpuused(vpx_codec_ctx_t *ctx, int v) { return vpx_codec_control(ctx, VP8E_SET_CPUUSED, v); }
static inline vpx_codec_err_t CVPX_set_static_threshold(vpx_codec_ctx_t *ctx, unsigned int v) { return vpx_codec_control(ctx, VP8E_SET_STATIC_THRESHOLD, v); }
static inline vpx_codec_err_t CVPX_set_noise_sensitivity(vpx_codec_ctx_t *ctx, unsigned int v) { return vpx_codec_control(ctx, VP8E_SET_NOISE_SENSITIVITY, v); }
static inline vpx_codec_err_t CVPX_set_max_intra_bitrate_pct(vpx_codec_ctx_t *ctx, unsigned int v) { return vpx_codec_control(ctx, VP8E_SET_MAX_INTRA_BITRATE_PCT, v); }
static inline vpx_codec_err_t CVPX_set_token_partitions(vpx_codec_ctx_t *ctx, int v) { return vpx_codec_control(ctx, VP8E_SET_TOKEN_PARTITIONS, v); }
/* VP9 (profile 0, 8-bit): encoder and decoder, and the VP9-only controls. */
static inline vpx_codec_err_t CVPX_vp9_enc_init(vpx_codec_ctx_t *ctx, const vpx_codec_enc_cfg_t *cfg) {
    return vpx_codec_enc_init(ctx, vpx_codec_vp9_cx(), cfg, 0);
}
static inline vpx_codec_err_t CVPX_vp9_dec_init(vpx_codec_ctx_t *ctx) {
    return vpx_codec_dec_init(ctx, vpx_codec_vp9_dx(), NULL, 0);
}
static inline vpx_codec_err_t CVPX_set_vp9_aq_mode(vpx_codec_ctx_t *ctx, unsigned int v) { return vpx_codec_control(ctx, VP9E_SET_AQ_MODE, v); }
static inline vpx_codec_err_t CVPX_set_vp9_row_mt(vpx_codec_ctx_t *ctx, unsigned int v) { return vpx_codec_control(ctx, VP9E_SET_ROW_MT, v); }
static inline vpx_codec_err_t CVPX_set_vp9_tile_columns(vpx_codec_ctx_t *ctx, int v) { return vpx_codec_control(ctx, VP9E_SET_TILE_COLUMNS, v); }
static inline vpx_codec_err_t CVPX_set_vp9_frame_parallel_decoding(vpx_codec_ctx_t *ctx, unsigned int v) { return vpx_codec_control(ctx, VP9E_SET_FRAME_PARALLEL_DECODING, v); }
static inline vpx_codec_err_t CVPX_set_vp9_noise_sensitivity(vpx_codec_ctx_t *ctx, unsigned int v) { return vpx_codec_control(ctx, VP9E_SET_NOISE_SENSITIVITY, v); }
/* Reads the next encoded frame; returns 0 at the end. */
static inline int CVPX_next_frame(vpx_codec_ctx_t *ctx, vpx_codec_iter_t *iter, const void **data, size_t *size, int *key) {
    const vpx_codec_cx_pkt_t *pkt;
    while ((pkt = vpx_codec_get_cx_data(ctx, iter)) != NULL) {
        if (pkt->kind == VPX_CODEC_CX_FRAME_PKT) {
            *data = pkt->data.frame.buf;
            *size = pkt->data.frame.sz;
            *key = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
            return 1;
        }
    }
    return 0;
}
