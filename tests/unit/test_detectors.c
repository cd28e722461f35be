/* Unit tests: the built-in detectors (src/lib/detectors.c), one by one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policy_internal.h"

typedef struct hits {
	size_t n;
	size_t start[32], end[32];
	char desc[32][128];
} hits;

static int collect(void *ctx, size_t start, size_t end, const char *description)
{
	hits *h = ctx;

	if (h->n < 32) {
		h->start[h->n] = start;
		h->end[h->n] = end;
		snprintf(h->desc[h->n], sizeof(h->desc[0]), "%s", description);
	}
	h->n++;
	return 0;
}

static hits run(gcmsg__detector d, const char *s)
{
	hits h;

	memset(&h, 0, sizeof(h));
	assert_int_equal(gcmsg__detect(d, s, strlen(s), collect, &h), 0);
	return h;
}

/* exactly one finding, and it is `want` (a substring of s, located by its first occurrence) */
static void expect_one(gcmsg__detector d, const char *s, const char *want)
{
	hits h = run(d, s);
	const char *at = strstr(s, want);

	assert_non_null(at);
	if (h.n != 1)
		fail_msg("%s: %zu findings in '%s', expected 1 ('%s')", gcmsg__detector_names[d], h.n, s, want);
	if (h.start[0] != (size_t)(at - s) || h.end[0] != (size_t)(at - s) + strlen(want))
		fail_msg("%s: span [%zu, %zu) in '%s', expected '%s'", gcmsg__detector_names[d], h.start[0], h.end[0], s,
		         want);
	/* a description never holds the text it found */
	assert_null(strstr(h.desc[0], want));
}

static void expect_none(gcmsg__detector d, const char *s)
{
	hits h = run(d, s);

	if (h.n != 0)
		fail_msg("%s: %zu findings in '%s' (the first [%zu, %zu)), expected none", gcmsg__detector_names[d], h.n, s,
		         h.start[0], h.end[0]);
}

static void luhn(void **state)
{
	(void)state;
	assert_true(gcmsg__luhn_valid("4111111111111111", 16));
	assert_false(gcmsg__luhn_valid("4111111111111112", 16));
	assert_true(gcmsg__luhn_valid("79927398713", 11));
	assert_false(gcmsg__luhn_valid("79927398710", 11));
	assert_false(gcmsg__luhn_valid("", 0));
	assert_false(gcmsg__luhn_valid("41a1", 4));
}

static void payment_cards(void **state)
{
	const gcmsg__detector d = GCMSG__DET_PAYMENT_CARD;
	hits h;

	(void)state;
	/* Luhn-valid numbers of the main networks, together and grouped */
	expect_one(d, "card 4111 1111 1111 1111 thanks", "4111 1111 1111 1111");
	expect_one(d, "card 4111-1111-1111-1111.", "4111-1111-1111-1111");
	expect_one(d, "4111111111111111", "4111111111111111");
	expect_one(d, "mc 5555555555554444", "5555555555554444");
	expect_one(d, "amex 3782 822463 10005", "3782 822463 10005");
	expect_one(d, "discover 6011111111111117", "6011111111111117");
	expect_one(d, "jcb 3530111333300000", "3530111333300000");
	expect_one(d, "mc2 2223003122003222", "2223003122003222");
	expect_one(d, "visa13 4222222222222", "4222222222222");
	expect_one(d, "diners 30569309025904", "30569309025904");
	/* the same numbers with one digit changed: Luhn-invalid, not flagged */
	expect_none(d, "card 4111 1111 1111 1112 thanks");
	expect_none(d, "4111111111111121");
	expect_none(d, "mc 5555555555554445");
	expect_none(d, "amex 378282246310006");
	/* Luhn-valid but no plausible issuer or length */
	expect_none(d, "9111111111111111"); /* 9: no network */
	expect_none(d, "378282246310005000"); /* Amex prefix, 18 digits */
	expect_none(d, "0000000000000000");
	/* separators must be consistent, groups of 3 to 8 */
	expect_none(d, "4111 1111-1111 1111");
	expect_none(d, "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1");
	/* not inside a word, a longer number or a decimal */
	expect_none(d, "ID4111111111111111");
	expect_none(d, "4111111111111111x");
	expect_none(d, "41111111111111111111");
	expect_none(d, "3.4111111111111111");
	/* a card next to other numbers */
	expect_one(d, "order 123456 4111111111111111 due", "4111111111111111");
	expect_one(d, "4111 1111 1111 1111 12 26", "4111 1111 1111 1111");
	/* a card anywhere in a long run of groups (past any cap), or after a group with another separator */
	{
		char buf[256];
		size_t k, n = 0;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "ids");
		for (k = 1; k <= 39; k++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %zu", k);
		snprintf(buf + n, sizeof(buf) - n, " 4111 1111 1111 1111");
		expect_one(d, buf, "4111 1111 1111 1111");
		n = 0;
		for (k = 0; k < 45; k++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "1111 ");
		snprintf(buf + n, sizeof(buf) - n, "4111 1111 1111 1111");
		expect_one(d, buf, "4111 1111 1111 1111");
	}
	expect_one(d, "ref 2024-4111 1111 1111 1111", "4111 1111 1111 1111");
	expect_one(d, "ref 2024 4111-1111-1111-1111 ok", "4111-1111-1111-1111");
	expect_one(d, "12-4111111111111111", "4111111111111111");
	expect_none(d, "ref 2024-4111 1111 1111 1111x");
	/* two cards */
	h = run(d, "4111111111111111 and 5555-5555-5555-4444");
	assert_int_equal(h.n, 2);
	assert_int_equal(h.start[1], 21);
	assert_string_equal(h.desc[0], "a payment card number (Luhn-valid, 16 digits)");
}

static void ibans(void **state)
{
	const gcmsg__detector d = GCMSG__DET_IBAN;

	(void)state;
	assert_int_equal(gcmsg__iban_length("DE"), 22);
	assert_int_equal(gcmsg__iban_length("NO"), 15);
	assert_int_equal(gcmsg__iban_length("ZZ"), 0);
	assert_true(gcmsg__iban_valid("DE89370400440532013000", 22));
	assert_false(gcmsg__iban_valid("DE89370400440532013001", 22));
	assert_false(gcmsg__iban_valid("DE8937040044053201300", 21));
	assert_true(gcmsg__iban_valid("GB82WEST12345698765432", 22));
	expect_one(d, "pay to DE89 3704 0044 0532 0130 00 today", "DE89 3704 0044 0532 0130 00");
	expect_one(d, "GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32");
	expect_one(d, "iban: NL91ABNA0417164300.", "NL91ABNA0417164300");
	expect_one(d, "FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606");
	expect_one(d, "lower de89370400440532013000 too", "de89370400440532013000");
	expect_one(d, "NO93 8601 1117 947", "NO93 8601 1117 947");
	/* check digits wrong, length wrong, unknown country, glued to a word */
	expect_none(d, "DE89 3704 0044 0532 0130 01");
	expect_none(d, "DE88 3704 0044 0532 0130 00");
	expect_none(d, "DE89 3704 0044 0532 0130 0");
	expect_none(d, "DE89370400440532013000X");
	expect_none(d, "XDE89370400440532013000");
	expect_none(d, "ZZ89 3704 0044 0532 0130 00");
	/* spaces: single ones only */
	expect_none(d, "DE89  3704 0044 0532 0130 00");
}

static void ssns(void **state)
{
	const gcmsg__detector d = GCMSG__DET_US_SSN;

	(void)state;
	assert_true(gcmsg__ssn_valid(1, 1, 1));
	assert_true(gcmsg__ssn_valid(899, 99, 9999));
	assert_true(gcmsg__ssn_valid(665, 1, 1));
	assert_false(gcmsg__ssn_valid(0, 12, 3456));
	assert_false(gcmsg__ssn_valid(666, 12, 3456));
	assert_false(gcmsg__ssn_valid(900, 12, 3456));
	assert_false(gcmsg__ssn_valid(999, 12, 3456));
	assert_false(gcmsg__ssn_valid(123, 0, 3456));
	assert_false(gcmsg__ssn_valid(123, 45, 0));
	expect_one(d, "ssn 123-45-6789.", "123-45-6789");
	expect_one(d, "ssn 123 45 6789", "123 45 6789");
	expect_one(d, "899-99-9999", "899-99-9999");
	expect_none(d, "000-12-3456");
	expect_none(d, "666-12-3456");
	expect_none(d, "900-12-3456");
	expect_none(d, "123-00-4567");
	expect_none(d, "123-45-0000");
	expect_none(d, "123456789");        /* undashed: not flagged */
	expect_none(d, "123-45 6789");      /* mixed separators */
	expect_none(d, "123-45-6789-0");    /* part of a longer number */
	expect_none(d, "1123-45-6789");
	expect_none(d, "12-123-45-6789");
	expect_none(d, "A123-45-6789");
	/* a space next to a dashed SSN is a boundary, not a longer number */
	expect_one(d, "SSN 123-45-6789 2 kids", "123-45-6789");
	expect_one(d, "Room 12 123-45-6789", "123-45-6789");
	expect_one(d, "12 123-45-6789 34", "123-45-6789");
	/* its own separator kind and - . / still join */
	expect_none(d, "12 123 45 6789");
	expect_none(d, "123 45 6789 2");
	expect_none(d, "123-45-6789/2");
	expect_none(d, "1.123-45-6789");
	expect_none(d, "123 45 6789-1");
}

static void emails(void **state)
{
	const gcmsg__detector d = GCMSG__DET_EMAIL;
	hits h;

	(void)state;
	expect_one(d, "mail jane.doe+x@example.co.uk.", "jane.doe+x@example.co.uk");
	expect_one(d, "<a_b@mail-1.example.com>", "a_b@mail-1.example.com");
	expect_none(d, "a@b");
	expect_none(d, "x@localhost");
	expect_none(d, "x@example.c0m");
	expect_none(d, "@example.com");
	expect_none(d, "a.@example.com");
	expect_none(d, "a@-example.com");
	h = run(d, "a@b.cd@e.fg");
	assert_int_equal(h.n, 1);
}

static void phones(void **state)
{
	const gcmsg__detector d = GCMSG__DET_PHONE;

	(void)state;
	expect_one(d, "call +44 20 7946 0958 now", "+44 20 7946 0958");
	expect_one(d, "call (555) 123-4567.", "(555) 123-4567");
	expect_one(d, "555-123-4567", "555-123-4567");
	expect_one(d, "+15551234567", "+15551234567");
	expect_none(d, "5551234567");          /* plain digits: an order number as likely */
	expect_none(d, "192.168.100.200");     /* an IPv4 address */
	expect_none(d, "2024-01-15 10:30");    /* a date and a time */
	expect_none(d, "+1234567");            /* too short */
	expect_none(d, "555-1234");
}

static void credentials(void **state)
{
	const gcmsg__detector d = GCMSG__DET_CREDENTIAL;
	hits h;

	(void)state;
	expect_one(d, "use password=hunter2 now", "password=hunter2");
	expect_one(d, "Password: Summer2024!", "Password: Summer2024!");
	expect_one(d, "pwd:abc", "pwd:abc");
	expect_one(d, "passwd = 's3cr3t'", "passwd = 's3cr3t");
	expect_one(d, "client_secret=xyz42", "client_secret=xyz42");
	/* the keyword at the end of a longer key, or followed by _key, _access_key, _token, _value */
	expect_one(d, "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG");
	expect_one(d, "secret_key: x9Fk2!aa", "secret_key: x9Fk2!aa");
	expect_one(d, "export PGPASSWORD=hunter22;", "PGPASSWORD=hunter22");
	expect_one(d, "private_key=MIIEvQIBADANBg", "private_key=MIIEvQIBADANBg");
	expect_one(d, "api_key=abcd1234", "api_key=abcd1234");
	expect_one(d, "apiKey: \"k-123456\"", "apiKey: \"k-123456");
	expect_one(d, "x-api-key: abcd1234", "x-api-key: abcd1234");
	expect_one(d, "access_token=ya29.a0Af", "access_token=ya29.a0Af");
	expect_one(d, "AWS_ACCESS_KEY=abc123", "AWS_ACCESS_KEY=abc123");
	expect_one(d, "{\"dbPassword\": \"p4ss\"}", "dbPassword\": \"p4ss");
	expect_none(d, "secret_santa: Bob2");
	expect_none(d, "password_reset_url: https://example.com/r");
	expect_none(d, "secretkeeper=x1");
	expect_none(d, "secret_key: see below");
	expect_none(d, "api_key:");
	expect_one(d, "{\"password\": \"p4ss\"}", "password\": \"p4ss");
	expect_one(d, "?user=a&password=abc&x=1", "password=abc");
	expect_none(d, "password: see below");
	expect_none(d, "reset your password: click the link");
	expect_none(d, "secretary: Jane");
	expect_none(d, "passwords are case-sensitive");
	expect_none(d, "password=");
	/* bearer tokens and Authorization headers */
	expect_one(d, "Bearer abcdefghijklmnop1234", "Bearer abcdefghijklmnop1234");
	expect_one(d, "Authorization: Bearer abcdefghijklmnop1234", "Authorization: Bearer abcdefghijklmnop1234");
	expect_one(d, "authorization: Basic dXNlcjpwYXNzd29yZA==", "authorization: Basic dXNlcjpwYXNzd29yZA==");
	expect_none(d, "the bearer of bad news");
	expect_none(d, "Authorization: pending");
	expect_none(d, "Authorization: Bearer <redacted>");
	/* key shapes */
	expect_one(d, "key AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE");
	expect_one(d, "ASIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE");
	expect_none(d, "AKIAIOSFODNN7EXAMPL");
	expect_none(d, "AKIAIOSFODNN7EXAMPLEX");
	expect_none(d, "xAKIAIOSFODNN7EXAMPLE");
	expect_one(d, "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789");
	expect_one(d, "gho_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "gho_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	expect_one(d, "ghs_abcdefghijklmnopqrstuvwxyz0123456789", "ghs_abcdefghijklmnopqrstuvwxyz0123456789");
	expect_one(d, "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop");
	expect_none(d, "ghp_short");
	expect_one(d, "xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij");
	expect_one(d, "xoxp-1234567890-abcdefghij", "xoxp-1234567890-abcdefghij");
	expect_none(d, "xoxq-1234567890-abcdefghij");
	expect_one(d, "AIzaSyA-1234567890abcdefghijklmnopqrstu", "AIzaSyA-1234567890abcdefghijklmnopqrstu");
	expect_none(d, "AIzaShort");
	expect_one(d, "sk_live_abcdefghijklmnop1234", "sk_live_abcdefghijklmnop1234");
	expect_one(d, "rk_live_abcdefghijklmnop1234", "rk_live_abcdefghijklmnop1234");
	expect_none(d, "sk_test_abcdefghijklmnop1234");
	expect_one(d, "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\ny",
	           "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----");
	expect_one(d, "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk");
	expect_none(d, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
	expect_one(d, "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
	           "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U");
	expect_none(d, "eyJhbGciOiJIUzI1NiJ9.notjson.sig");
	/* several findings, in order, none overlapping */
	h = run(d, "password=a1 then AKIAIOSFODNN7EXAMPLE then Bearer abcdefghijklmnop1234");
	assert_int_equal(h.n, 3);
	assert_true(h.end[0] <= h.start[1] && h.end[1] <= h.start[2]);
}

/* the scanners stay fast on hostile input (no backtracking) */
static void hostile_inputs_are_fast(void **state)
{
	size_t n = 16 * 1024, i;
	char *s = malloc(n + 1);
	clock_t t0;
	int d;
	static const char *const fills[] = { "1 ", "1-", "a@", "@a.", "password=", "Bearer ", "-----BEGIN PRIVATE KEY-----",
	                                     "eyJaaaaaaaaaa.", "+1 (", "DE89 ", "4111 ", "1234-",
	                                     "aws_secret_access_key:", "a_password_key_" };

	(void)state;
	assert_non_null(s);
	for (size_t f = 0; f < sizeof(fills) / sizeof(fills[0]); f++) {
		size_t fl = strlen(fills[f]);
		for (i = 0; i < n; i++)
			s[i] = fills[f][i % fl];
		s[n] = '\0';
		t0 = clock();
		for (d = 0; d < GCMSG__DET_COUNT; d++) {
			hits h;
			memset(&h, 0, sizeof(h));
			assert_true(gcmsg__detect((gcmsg__detector)d, s, n, collect, &h) >= 0);
		}
		if ((double)(clock() - t0) / CLOCKS_PER_SEC > 1.0)
			fail_msg("the detectors took over a second on 16 KiB of '%s'", fills[f]);
	}
	free(s);
}

static void names(void **state)
{
	(void)state;
	assert_int_equal(gcmsg__detector_lookup("payment-card"), GCMSG__DET_PAYMENT_CARD);
	assert_int_equal(gcmsg__detector_lookup("credential"), GCMSG__DET_CREDENTIAL);
	assert_int_equal(gcmsg__detector_lookup("nope"), -1);
	assert_int_equal(gcmsg__detector_lookup(NULL), -1);
	assert_true(gcmsg__detector_defaults[GCMSG__DET_PAYMENT_CARD]);
	assert_false(gcmsg__detector_defaults[GCMSG__DET_EMAIL]);
	assert_false(gcmsg__detector_defaults[GCMSG__DET_PHONE]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(luhn),
		cmocka_unit_test(payment_cards),
		cmocka_unit_test(ibans),
		cmocka_unit_test(ssns),
		cmocka_unit_test(emails),
		cmocka_unit_test(phones),
		cmocka_unit_test(credentials),
		cmocka_unit_test(hostile_inputs_are_fast),
		cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
