#pragma once
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/bio.h>

/* Macros and variadic calls of OpenSSL that Swift cannot call directly. */

static inline long COpenSSL_DTLSv1_get_timeout(SSL *ssl, struct timeval *tv) { return DTLSv1_get_timeout(ssl, tv); }
static inline long COpenSSL_DTLSv1_handle_timeout(SSL *ssl) { return DTLSv1_handle_timeout(ssl); }
static inline long COpenSSL_SSL_set_mtu(SSL *ssl, long mtu) { return SSL_set_mtu(ssl, mtu); }
static inline long COpenSSL_BIO_set_mem_eof_return(BIO *bio, long v) { return BIO_set_mem_eof_return(bio, v); }
static inline long COpenSSL_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int v) { return SSL_CTX_set_min_proto_version(ctx, v); }
static inline long COpenSSL_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int v) { return SSL_CTX_set_max_proto_version(ctx, v); }
static inline EVP_PKEY *COpenSSL_EVP_EC_gen_P256(void) { return EVP_EC_gen("P-256"); }
static inline unsigned long COpenSSL_ERR_get_error_all_reason(char *buffer, size_t length) {
    unsigned long code = ERR_get_error();
    if (code != 0) ERR_error_string_n(code, buffer, length);
    return code;
}
