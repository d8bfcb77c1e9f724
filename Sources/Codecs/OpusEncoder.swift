internal import COpus
import Media

/// Opus (libopus) for 20 ms frames at 48 kHz, mono or stereo (RFC 7587 payloads).
/// Not thread-safe: one encoding thread owns it.
public final class OpusEncoder {
    private let encoder: OpaquePointer
    public let channels: Int
    private var output = [UInt8](repeating: 0, count: 1500)

    public init(channels: Int, bitrate: Int, inbandFEC: Bool, dtx: Bool) throws {
        var error: Int32 = 0
        guard let encoder = opus_encoder_create(48000, Int32(channels), OPUS_APPLICATION_VOIP, &error), error == OPUS_OK else {
            throw MediaError.codec("opus_encoder_create failed (\(error))")
        }
        self.encoder = encoder
        self.channels = channels
        _ = COpus_set_bitrate(encoder, Int32(bitrate))
        _ = COpus_set_inband_fec(encoder, inbandFEC ? 1 : 0)
        _ = COpus_set_dtx(encoder, dtx ? 1 : 0)
        _ = COpus_set_signal_voice(encoder)
        if inbandFEC { _ = COpus_set_packet_loss_perc(encoder, 10) }
    }

    deinit { opus_encoder_destroy(encoder) }

    /// One Opus packet for one 20 ms frame. With DTX, silence yields packets of 1-2 bytes.
    public func encode(_ frame: AudioFrame) throws -> [UInt8] {
        let count = frame.samples.withUnsafeBufferPointer { pcm in
            output.withUnsafeMutableBufferPointer { out in
                opus_encode(encoder, pcm.baseAddress!, Int32(AudioFrame.samplesPerChannel), out.baseAddress!, Int32(out.count))
            }
        }
        guard count > 0 else { throw MediaError.codec("opus_encode failed (\(count))") }
        return Array(output.prefix(Int(count)))
    }

    public func setBitrate(_ bitsPerSecond: Int) {
        _ = COpus_set_bitrate(encoder, Int32(bitsPerSecond))
    }
}
