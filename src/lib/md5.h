/*
 * md5.h - MD5 (RFC 1321), private. Used only for the Content-MD5 of a media
 * upload (an integrity check asked for by the API), never for security.
 */
#ifndef GCMSG_MD5_H
#define GCMSG_MD5_H

#include <stddef.h>
#include <stdint.h>

#define GCMSG__MD5_LEN 16
#define GCMSG__MD5_HEX_LEN 32    /* without the NUL */
#define GCMSG__MD5_BASE64_LEN 24 /* without the NUL */

typedef struct gcmsg__md5_ctx {
	uint32_t state[4];
	uint64_t bytes;           /* message length so far, in bytes */
	unsigned char block[64];  /* pending input, `bytes % 64` of it used */
} gcmsg__md5_ctx;

void gcmsg__md5_init(gcmsg__md5_ctx *ctx);
void gcmsg__md5_update(gcmsg__md5_ctx *ctx, const void *data, size_t len);
/* Writes the 16-byte digest and wipes the context. */
void gcmsg__md5_final(gcmsg__md5_ctx *ctx, unsigned char digest[GCMSG__MD5_LEN]);
/* One shot. */
void gcmsg__md5(const void *data, size_t len, unsigned char digest[GCMSG__MD5_LEN]);
/* Lower-case hex, NUL-terminated (out: 33 bytes). */
void gcmsg__md5_hex(const unsigned char digest[GCMSG__MD5_LEN], char out[GCMSG__MD5_HEX_LEN + 1]);
/* Standard base64 with padding (RFC 1864's Content-MD5 form), NUL-terminated (out: 25 bytes). */
void gcmsg__md5_base64(const unsigned char digest[GCMSG__MD5_LEN], char out[GCMSG__MD5_BASE64_LEN + 1]);

#endif
