/* MD5 (src/lib/md5.c): RFC 1321's test suite, large and chunked inputs, the hex and base64 forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "md5.h"

static void hex_of(const void *data, size_t len, char out[GCMSG__MD5_HEX_LEN + 1])
{
	unsigned char d[GCMSG__MD5_LEN];

	gcmsg__md5(data, len, d);
	gcmsg__md5_hex(d, out);
}

/* RFC 1321 appendix A.5 */
static void test_rfc1321_suite(void **state)
{
	static const struct {
		const char *in, *want;
	} v[] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "a", "0cc175b9c0f1b6a831c399e269772661" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
		{ "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		  "d174ab98d277d9f5a5611c2c9f419d9f" },
		{ "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
		  "57edf4a22be3c955ac49da2e2107b67a" },
	};
	char hex[GCMSG__MD5_HEX_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hex_of(v[i].in, strlen(v[i].in), hex);
		assert_string_equal(hex, v[i].want);
	}
}

/* lengths around the padding boundaries (55, 56, 63, 64, 65 bytes) against the chunked form */
static void test_padding_boundaries(void **state)
{
	unsigned char buf[200];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	for (n = 0; n <= sizeof(buf); n++) {
		unsigned char one[GCMSG__MD5_LEN], two[GCMSG__MD5_LEN];
		gcmsg__md5_ctx ctx;

		gcmsg__md5(buf, n, one);
		gcmsg__md5_init(&ctx);
		for (i = 0; i < n; i++)
			gcmsg__md5_update(&ctx, buf + i, 1);
		gcmsg__md5_final(&ctx, two);
		assert_memory_equal(one, two, GCMSG__MD5_LEN);
	}
	/* known values at the boundaries (python hashlib) */
	{
		char hex[GCMSG__MD5_HEX_LEN + 1];
		memset(buf, 'a', 64);
		hex_of(buf, 55, hex);
		assert_string_equal(hex, "ef1772b6dff9a122358552954ad0df65");
		hex_of(buf, 56, hex);
		assert_string_equal(hex, "3b0c8ac703f828b04c6c197006d17218");
		hex_of(buf, 64, hex);
		assert_string_equal(hex, "014842d480b571495a4a0363793f7367");
	}
}

/* a million 'a' (the classic long vector), one shot and in uneven chunks */
static void test_large(void **state)
{
	size_t n = 1000000, off, step;
	char *a = malloc(n), hex[GCMSG__MD5_HEX_LEN + 1];
	unsigned char d[GCMSG__MD5_LEN];
	gcmsg__md5_ctx ctx;

	(void)state;
	assert_non_null(a);
	memset(a, 'a', n);
	hex_of(a, n, hex);
	assert_string_equal(hex, "7707d6ae4e027c70eea2a935c2296f21");
	gcmsg__md5_init(&ctx);
	for (off = 0, step = 1; off < n; off += step, step = step * 3 % 1031 + 1)
		gcmsg__md5_update(&ctx, a + off, off + step > n ? n - off : step);
	gcmsg__md5_final(&ctx, d);
	gcmsg__md5_hex(d, hex);
	assert_string_equal(hex, "7707d6ae4e027c70eea2a935c2296f21");
	free(a);

	/* every byte value: bytes 0..255 repeated 1000 times, then "xyz" */
	a = malloc(256003);
	assert_non_null(a);
	for (off = 0; off < 256000; off++)
		a[off] = (char)(unsigned char)(off & 255);
	memcpy(a + 256000, "xyz", 3);
	hex_of(a, 256003, hex);
	assert_string_equal(hex, "9a373cd9123847bd4c922c103eb77a36");
	free(a);
}

/* Content-MD5 form (RFC 1864): base64 of the 16 bytes */
static void test_base64(void **state)
{
	unsigned char d[GCMSG__MD5_LEN];
	char b64[GCMSG__MD5_BASE64_LEN + 1];

	(void)state;
	gcmsg__md5("", 0, d);
	gcmsg__md5_base64(d, b64);
	assert_string_equal(b64, "1B2M2Y8AsgTpgAmY7PhCfg==");
	gcmsg__md5("abc", 3, d);
	gcmsg__md5_base64(d, b64);
	assert_string_equal(b64, "kAFQmDzST7DWlj99KOF/cg==");
	memset(d, 0xff, sizeof(d));
	gcmsg__md5_base64(d, b64);
	assert_string_equal(b64, "/////////////////////w==");
	assert_int_equal(strlen(b64), GCMSG__MD5_BASE64_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1321_suite),
		cmocka_unit_test(test_padding_boundaries),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
