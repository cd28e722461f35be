/*
 * sha256.h - SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and the encodings
 * their users need (private). Used for the audit log's text hashes, derived
 * idempotency keys, webhook signatures and the PKCE code challenge. Our own
 * code: libcurl is built against GnuTLS here and OpenSSL elsewhere, and
 * neither is part of our public dependency list.
 */
#ifndef GCMSG_SHA256_H
#define GCMSG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define GCMSG__SHA256_LEN 32

typedef struct gcmsg__sha256 {
	uint32_t h[8];
	uint64_t len;        /* bytes hashed so far */
	unsigned char block[64];
	size_t fill;
} gcmsg__sha256_ctx;

void gcmsg__sha256_init(gcmsg__sha256_ctx *s);
void gcmsg__sha256_update(gcmsg__sha256_ctx *s, const void *data, size_t len);
void gcmsg__sha256_final(gcmsg__sha256_ctx *s, unsigned char out[GCMSG__SHA256_LEN]);
void gcmsg__sha256(const void *data, size_t len, unsigned char out[GCMSG__SHA256_LEN]);
void gcmsg__hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                        unsigned char out[GCMSG__SHA256_LEN]);

/* Lower-case hex; out holds 2 * len + 1 bytes. */
/* One field as a netstring ("<decimal length>:<bytes>,"; NULL as ""): no concatenation of fields is ambiguous. */
void gcmsg__sha256_field(gcmsg__sha256_ctx *h, const char *s);
void gcmsg__hex(const unsigned char *in, size_t len, char *out);
/* Hex SHA-256 of data (65 bytes with the NUL). */
void gcmsg__sha256_hex(const void *data, size_t len, char out[2 * GCMSG__SHA256_LEN + 1]);
/*
 * Base64 (RFC 4648 §4, padded) or base64url (§5, no padding) of in; out holds
 * at least 4 * ((len + 2) / 3) + 1 bytes. Returns the length written.
 */
size_t gcmsg__base64(const unsigned char *in, size_t len, char *out);
size_t gcmsg__base64url(const unsigned char *in, size_t len, char *out);

#endif
