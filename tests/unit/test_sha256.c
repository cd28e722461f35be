/*
 * SHA-256, HMAC-SHA256 and the encodings (src/lib/sha256.c): FIPS 180-4 and
 * RFC 4231 vectors, a million 'a's fed in odd chunks, RFC 4648 base64 vectors,
 * and RFC 7636's PKCE example.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sha256.h"

static void test_fips_vectors(void **state)
{
	static const struct {
		const char *in, *want;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
		  "mnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	char hex[65];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		gcmsg__sha256_hex(v[i].in, strlen(v[i].in), hex);
		assert_string_equal(hex, v[i].want);
	}
}

static void test_million_a_in_chunks(void **state)
{
	static const size_t chunks[] = { 1, 63, 64, 65, 127, 1000 };
	char block[1000], hex[65];
	unsigned char d[GCMSG__SHA256_LEN];
	gcmsg__sha256_ctx s;
	size_t done = 0, k = 0;

	(void)state;
	memset(block, 'a', sizeof(block));
	gcmsg__sha256_init(&s);
	while (done < 1000000) {
		size_t n = chunks[k++ % 6];
		if (n > 1000000 - done)
			n = 1000000 - done;
		gcmsg__sha256_update(&s, block, n);
		done += n;
	}
	gcmsg__sha256_final(&s, d);
	gcmsg__hex(d, sizeof(d), hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* RFC 4231 test cases 1, 2, 6 (a key longer than the block) */
static void test_hmac_rfc4231(void **state)
{
	unsigned char key1[20], key6[131], mac[GCMSG__SHA256_LEN];
	char hex[65];
	const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";

	(void)state;
	memset(key1, 0x0b, sizeof(key1));
	gcmsg__hmac_sha256(key1, sizeof(key1), "Hi There", 8, mac);
	gcmsg__hex(mac, sizeof(mac), hex);
	assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	gcmsg__hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	gcmsg__hex(mac, sizeof(mac), hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key6, 0xaa, sizeof(key6));
	gcmsg__hmac_sha256(key6, sizeof(key6), big, strlen(big), mac);
	gcmsg__hex(mac, sizeof(mac), hex);
	assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_base64_rfc4648(void **state)
{
	static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	static const char *want_url[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	char out[16];
	size_t i;

	(void)state;
	for (i = 0; i < 7; i++) {
		assert_int_equal(gcmsg__base64((const unsigned char *)in[i], strlen(in[i]), out), strlen(want[i]));
		assert_string_equal(out, want[i]);
		gcmsg__base64url((const unsigned char *)in[i], strlen(in[i]), out);
		assert_string_equal(out, want_url[i]);
	}
	gcmsg__base64url((const unsigned char *)"\xfb\xff\xbf", 3, out);
	assert_string_equal(out, "-_-_");
}

/* RFC 7636 appendix B: the S256 challenge of its verifier */
static void test_pkce_example(void **state)
{
	const char *verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	unsigned char d[GCMSG__SHA256_LEN];
	char out[64];

	(void)state;
	gcmsg__sha256(verifier, strlen(verifier), d);
	gcmsg__base64url(d, sizeof(d), out);
	assert_string_equal(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_vectors),   cmocka_unit_test(test_million_a_in_chunks),
		cmocka_unit_test(test_hmac_rfc4231),   cmocka_unit_test(test_base64_rfc4648),
		cmocka_unit_test(test_pkce_example),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
