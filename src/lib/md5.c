/*
 * md5.c - MD5 message digest, written from RFC 1321 (sections 3.1 to 3.5):
 * pad to 448 mod 512 bits, append the 64-bit little-endian bit length, then
 * four rounds of sixteen operations per 64-byte block.
 */
#include <string.h>

#include "md5.h"

/* T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 section 3.4 */
static const uint32_t T[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* per-round left-rotation amounts */
static const unsigned char S[4][4] = { { 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 } };

static uint32_t rotl(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void transform(uint32_t state[4], const unsigned char block[64])
{
	uint32_t X[16], a = state[0], b = state[1], c = state[2], d = state[3];
	unsigned i;

	for (i = 0; i < 16; i++)
		X[i] = (uint32_t)block[i * 4] | (uint32_t)block[i * 4 + 1] << 8 | (uint32_t)block[i * 4 + 2] << 16 |
		       (uint32_t)block[i * 4 + 3] << 24;
	for (i = 0; i < 64; i++) {
		uint32_t f, tmp;
		unsigned k, round = i / 16;

		switch (round) {
		case 0: /* F(X,Y,Z) = XY v not(X) Z */
			f = (b & c) | (~b & d);
			k = i;
			break;
		case 1: /* G(X,Y,Z) = XZ v Y not(Z) */
			f = (b & d) | (c & ~d);
			k = (5 * i + 1) % 16;
			break;
		case 2: /* H(X,Y,Z) = X xor Y xor Z */
			f = b ^ c ^ d;
			k = (3 * i + 5) % 16;
			break;
		default: /* I(X,Y,Z) = Y xor (X v not(Z)) */
			f = c ^ (b | ~d);
			k = (7 * i) % 16;
			break;
		}
		tmp = d;
		d = c;
		c = b;
		b = b + rotl(a + f + X[k] + T[i], S[round][i % 4]);
		a = tmp;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
}

void gcmsg__md5_init(gcmsg__md5_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	/* RFC 1321 section 3.3: word A = 01 23 45 67 (low-order byte first), ... */
	ctx->state[0] = 0x67452301;
	ctx->state[1] = 0xefcdab89;
	ctx->state[2] = 0x98badcfe;
	ctx->state[3] = 0x10325476;
}

void gcmsg__md5_update(gcmsg__md5_ctx *ctx, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t used = (size_t)(ctx->bytes % 64);

	ctx->bytes += len;
	if (used) {
		size_t take = 64 - used < len ? 64 - used : len;
		memcpy(ctx->block + used, p, take);
		p += take;
		len -= take;
		if (used + take < 64)
			return;
		transform(ctx->state, ctx->block);
	}
	for (; len >= 64; p += 64, len -= 64)
		transform(ctx->state, p);
	if (len)
		memcpy(ctx->block, p, len);
}

void gcmsg__md5_final(gcmsg__md5_ctx *ctx, unsigned char digest[GCMSG__MD5_LEN])
{
	static const unsigned char pad[64] = { 0x80 };
	unsigned char length[8];
	uint64_t bits = ctx->bytes * 8; /* modulo 2^64, as section 3.2 says */
	size_t used = (size_t)(ctx->bytes % 64), i;
	volatile unsigned char *wipe;

	for (i = 0; i < 8; i++)
		length[i] = (unsigned char)(bits >> (8 * i));
	/* section 3.1: a single 1 bit, then 0 bits until the length is 448 mod 512 */
	gcmsg__md5_update(ctx, pad, used < 56 ? 56 - used : 120 - used);
	gcmsg__md5_update(ctx, length, 8);
	for (i = 0; i < 4; i++) {
		digest[i * 4] = (unsigned char)ctx->state[i];
		digest[i * 4 + 1] = (unsigned char)(ctx->state[i] >> 8);
		digest[i * 4 + 2] = (unsigned char)(ctx->state[i] >> 16);
		digest[i * 4 + 3] = (unsigned char)(ctx->state[i] >> 24);
	}
	for (wipe = (volatile unsigned char *)ctx, i = 0; i < sizeof(*ctx); i++)
		wipe[i] = 0;
}

void gcmsg__md5(const void *data, size_t len, unsigned char digest[GCMSG__MD5_LEN])
{
	gcmsg__md5_ctx ctx;

	gcmsg__md5_init(&ctx);
	gcmsg__md5_update(&ctx, data, len);
	gcmsg__md5_final(&ctx, digest);
}

void gcmsg__md5_hex(const unsigned char digest[GCMSG__MD5_LEN], char out[GCMSG__MD5_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < GCMSG__MD5_LEN; i++) {
		out[i * 2] = hex[digest[i] >> 4];
		out[i * 2 + 1] = hex[digest[i] & 15];
	}
	out[GCMSG__MD5_HEX_LEN] = '\0';
}

void gcmsg__md5_base64(const unsigned char digest[GCMSG__MD5_LEN], char out[GCMSG__MD5_BASE64_LEN + 1])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	/* 16 bytes: five full groups of three, then one byte and "==" */
	for (i = 0; i + 3 <= GCMSG__MD5_LEN; i += 3) {
		uint32_t v = (uint32_t)digest[i] << 16 | (uint32_t)digest[i + 1] << 8 | digest[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	out[o++] = b64[digest[15] >> 2];
	out[o++] = b64[(digest[15] & 3) << 4];
	out[o++] = '=';
	out[o++] = '=';
	out[o] = '\0';
}
