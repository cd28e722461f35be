/* Unit tests: the content policy checks (src/lib/policy.c) through the public API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gcmsg/gcmsg.h"
#include "policy_internal.h"

/* ---- helpers ---- */

static char *repeat(const char *unit, size_t n, const char *tail)
{
	size_t ul = strlen(unit), tl = tail ? strlen(tail) : 0, i;
	char *s = malloc(ul * n + tl + 1);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	if (tl)
		memcpy(s + ul * n, tail, tl);
	s[ul * n + tl] = '\0';
	return s;
}

static gcmsg_policy *load(const char *text)
{
	gcmsg_policy *p = NULL;
	int rc = gcmsg_policy_load_buffer(&p, text, strlen(text), "test.toml");

	if (rc != GCMSG_OK)
		fail_msg("policy did not load: %s", gcmsg_policy_last_error(p)->explanation);
	return p;
}

static gcmsg_policy_result *check_on(const gcmsg_policy *p, const char *text, const char *channel, int *rc_out)
{
	gcmsg_check_options o = GCMSG_CHECK_OPTIONS_INIT;
	gcmsg_policy_result *r = NULL;
	int rc;

	o.channel = channel;
	rc = gcmsg_policy_check_text(&r, p, text, strlen(text), &o);
	assert_true(rc == GCMSG_OK || rc == GCMSG_EPOLICY);
	assert_non_null(r);
	assert_int_equal(rc == GCMSG_EPOLICY, gcmsg_policy_result_violation_count(r) > 0);
	if (rc_out)
		*rc_out = rc;
	return r;
}

static gcmsg_policy_result *check(const char *text, const char *channel)
{
	return check_on(NULL, text, channel, NULL);
}

/* the index of the only violation of `rule`, failing when there is not exactly one */
static size_t only(const gcmsg_policy_result *r, const char *rule)
{
	size_t i, n = 0, at = 0;

	for (i = 0; i < gcmsg_policy_result_violation_count(r); i++) {
		if (strcmp(gcmsg_policy_result_rule(r, i), rule) == 0) {
			n++;
			at = i;
		}
	}
	if (n != 1)
		fail_msg("%zu violations of %s (summary: %s)", n, rule, gcmsg_policy_result_summary(r));
	return at;
}

static size_t count_rule(const gcmsg_policy_result *r, const char *rule)
{
	size_t i, n = 0;

	for (i = 0; i < gcmsg_policy_result_violation_count(r); i++)
		n += strcmp(gcmsg_policy_result_rule(r, i), rule) == 0;
	return n;
}

static void expect_clean(const char *text, const char *channel)
{
	gcmsg_policy_result *r = check(text, channel);

	if (gcmsg_policy_result_violation_count(r))
		fail_msg("'%.60s' on %s: %s", text, channel ? channel : "(unknown)", gcmsg_policy_result_summary(r));
	assert_string_equal(gcmsg_policy_result_summary(r), "");
	gcmsg_policy_result_free(r);
}

static void expect_clean_on(const gcmsg_policy *p, const char *text)
{
	gcmsg_policy_result *r = check_on(p, text, "webmessaging", NULL);

	if (gcmsg_policy_result_violation_count(r))
		fail_msg("'%.60s': %s", text, gcmsg_policy_result_summary(r));
	gcmsg_policy_result_free(r);
}

static void expect_span(const gcmsg_policy_result *r, size_t i, size_t bs, size_t be, size_t cs, size_t ce)
{
	if (gcmsg_policy_result_byte_start(r, i) != bs || gcmsg_policy_result_byte_end(r, i) != be ||
	    gcmsg_policy_result_char_start(r, i) != cs || gcmsg_policy_result_char_end(r, i) != ce)
		fail_msg("%s: bytes [%zu, %zu) chars [%zu, %zu), expected bytes [%zu, %zu) chars [%zu, %zu)",
		         gcmsg_policy_result_rule(r, i), gcmsg_policy_result_byte_start(r, i),
		         gcmsg_policy_result_byte_end(r, i), gcmsg_policy_result_char_start(r, i),
		         gcmsg_policy_result_char_end(r, i), bs, be, cs, ce);
}

#define EMOJI "\xF0\x9F\x98\x80" /* U+1F600: 4 bytes, 1 code point, 2 UTF-16 units */
#define ZHE "\xD0\xB6"           /* U+0436: not in GSM 03.38 */
#define EURO "\xE2\x82\xAC"      /* U+20AC: a GSM extension character */

/* ---- text rules ---- */

static void clean_texts(void **state)
{
	(void)state;
	expect_clean("Hello, your order has shipped.", "webmessaging");
	expect_clean("Two lines\nand a\ttab", "sms");
	expect_clean("Grüße " EMOJI, "whatsapp");
	expect_clean("{single braces} and }} are fine", "open");
}

static void empty_texts(void **state)
{
	gcmsg_policy_result *r;
	size_t i;

	(void)state;
	r = check("", "sms");
	i = only(r, "text.empty");
	expect_span(r, i, 0, 0, 0, 0);
	assert_string_equal(gcmsg_policy_result_summary(r), "text.empty");
	gcmsg_policy_result_free(r);
	r = check("  \n\t \xC2\xA0", "sms"); /* spaces, a line feed, a tab, a no-break space */
	i = only(r, "text.empty");
	assert_string_equal(gcmsg_policy_result_message(r, i), "the text holds only whitespace");
	gcmsg_policy_result_free(r);
	/* invisible characters: zero-width space, non-joiner, joiner, word joiner, Hangul filler, Braille blank, BOM */
	{
		static const char *const invisible[] = { "\xE2\x80\x8B", "\xE2\x80\x8C", "\xE2\x80\x8D", "\xE2\x81\xA0",
			                                     "\xE3\x85\xA4", "\xE2\xA0\x80", "\xEF\xBB\xBF" };
		size_t k;
		for (k = 0; k < sizeof(invisible) / sizeof(invisible[0]); k++) {
			char buf[32];
			snprintf(buf, sizeof(buf), "%s %s", invisible[k], invisible[k]);
			r = check(buf, "webmessaging");
			i = only(r, "text.empty");
			expect_span(r, i, 0, strlen(buf), 0, 3);
			gcmsg_policy_result_free(r);
		}
		r = check("\xE2\x80\x8C\xE2\x80\x8D\xE2\x81\xA0\xE3\x85\xA4\xE2\xA0\x80\n", "sms");
		i = only(r, "text.empty");
		assert_string_equal(gcmsg_policy_result_message(r, i), "the text holds only whitespace and invisible characters");
		gcmsg_policy_result_free(r);
		/* with something visible, not empty */
		r = check("\xE2\x80\x8Dok\xE2\x80\x8C", "webmessaging");
		assert_int_equal(count_rule(r, "text.empty"), 0);
		gcmsg_policy_result_free(r);
	}
}

static void invalid_utf8(void **state)
{
	gcmsg_policy_result *r;
	size_t i;

	(void)state;
	r = check("ab\xFF\xFE" "cd\xC3", "webmessaging");
	assert_int_equal(count_rule(r, "text.utf8"), 2);
	expect_span(r, 0, 2, 4, 2, 4);
	expect_span(r, 1, 6, 7, 6, 7);
	assert_string_equal(gcmsg_policy_result_message(r, 0), "invalid UTF-8 (2 bytes)");
	/* a bad byte counts as one code point and one unit */
	assert_int_equal(gcmsg_policy_result_code_points(r), 7);
	assert_int_equal(gcmsg_policy_result_utf16_units(r), 7);
	gcmsg_policy_result_free(r);
	/* overlong forms and surrogates are invalid too */
	r = check("x\xC0\xAFy\xED\xA0\x80z", "webmessaging");
	assert_int_equal(count_rule(r, "text.utf8"), 2);
	gcmsg_policy_result_free(r);
	/* a multi-byte character before: char spans differ from byte spans */
	r = check("\xC3\xA9\xC3\xA9\x80", "webmessaging");
	i = only(r, "text.utf8");
	expect_span(r, i, 4, 5, 2, 3);
	gcmsg_policy_result_free(r);
}

static void control_characters(void **state)
{
	gcmsg_policy_result *r;
	size_t i;

	(void)state;
	r = check("ring\x07the bell", "sms");
	i = only(r, "text.control");
	expect_span(r, i, 4, 5, 4, 5);
	assert_string_equal(gcmsg_policy_result_message(r, i), "a control character U+0007 (BEL)");
	gcmsg_policy_result_free(r);
	r = check("windows\r\nline", "sms");
	i = only(r, "text.control");
	assert_non_null(strstr(gcmsg_policy_result_message(r, i), "carriage return"));
	gcmsg_policy_result_free(r);
	r = check("\xEF\xBB\xBFhello", "sms"); /* U+FEFF */
	i = only(r, "text.control");
	expect_span(r, i, 0, 3, 0, 1);
	gcmsg_policy_result_free(r);
	r = check("c1 \xC2\x85 and del \x7F and nul", "sms");
	assert_int_equal(count_rule(r, "text.control"), 2);
	gcmsg_policy_result_free(r);
	/* a run is one violation */
	r = check("a\x01\x02\x03z", "sms");
	i = only(r, "text.control");
	expect_span(r, i, 1, 4, 1, 4);
	assert_non_null(strstr(gcmsg_policy_result_message(r, i), "3 control characters"));
	gcmsg_policy_result_free(r);
	/* NUL inside the given length */
	{
		gcmsg_check_options o = GCMSG_CHECK_OPTIONS_INIT;
		r = NULL;
		assert_int_equal(gcmsg_policy_check_text(&r, NULL, "a\0b", 3, &o), GCMSG_EPOLICY);
		i = only(r, "text.control");
		assert_non_null(strstr(gcmsg_policy_result_message(r, i), "U+0000"));
		gcmsg_policy_result_free(r);
	}
}

/* ---- lengths ---- */

static void length_boundaries_in_utf16_units(void **state)
{
	gcmsg_policy_result *r;
	char *s;
	size_t i;

	(void)state;
	/* 1000 emoji: 1000 code points, 2000 units: exactly the limit */
	s = repeat(EMOJI, 1000, NULL);
	r = check(s, "webmessaging");
	assert_int_equal(gcmsg_policy_result_violation_count(r), 0);
	assert_int_equal(gcmsg_policy_result_code_points(r), 1000);
	assert_int_equal(gcmsg_policy_result_utf16_units(r), 2000);
	assert_int_equal(gcmsg_policy_result_length_limit(r), 2000);
	assert_string_equal(gcmsg_policy_result_channel(r), "webmessaging");
	gcmsg_policy_result_free(r);
	free(s);
	/* one more unit: refused, the span from the character that crosses the limit */
	s = repeat(EMOJI, 1000, "a");
	r = check(s, "whatsapp");
	i = only(r, "length.max");
	expect_span(r, i, 4000, 4001, 1000, 1001);
	assert_string_equal(gcmsg_policy_result_summary(r), "length.max (2001 > 2000 UTF-16 units)");
	gcmsg_policy_result_free(r);
	free(s);
	/* under the limit in code points (1500), over it in units (3000) */
	s = repeat(EMOJI, 1500, NULL);
	r = check(s, "facebook");
	i = only(r, "length.max");
	expect_span(r, i, 4000, 6000, 1000, 1500);
	assert_non_null(strstr(gcmsg_policy_result_message(r, i), "3000 UTF-16 units long (1500 code points)"));
	gcmsg_policy_result_free(r);
	free(s);
	/* an emoji that would straddle the limit is the crossing character */
	s = repeat("a", 1999, EMOJI);
	r = check(s, "instagram");
	i = only(r, "length.max");
	expect_span(r, i, 1999, 2003, 1999, 2000);
	gcmsg_policy_result_free(r);
	free(s);
}

static void length_limits_per_channel(void **state)
{
	gcmsg_policy_result *r;
	char *s;
	size_t i;

	(void)state;
	s = repeat("a", 765, NULL);
	expect_clean(s, "sms");
	free(s);
	s = repeat("a", 766, NULL);
	r = check(s, "SMS"); /* case-insensitive */
	i = only(r, "length.max");
	expect_span(r, i, 765, 766, 765, 766);
	assert_int_equal(gcmsg_policy_result_length_limit(r), 765);
	assert_string_equal(gcmsg_policy_result_channel(r), "sms");
	gcmsg_policy_result_free(r);
	free(s);
	/* SMS in emoji: 382 fit (764 units), 383 do not */
	s = repeat(EMOJI, 382, NULL);
	expect_clean(s, "sms");
	free(s);
	s = repeat(EMOJI, 383, NULL);
	r = check(s, "sms");
	only(r, "length.max");
	gcmsg_policy_result_free(r);
	free(s);
	/* legacy chat: 4000 */
	s = repeat("a", 4000, NULL);
	expect_clean(s, "chat");
	free(s);
	s = repeat("a", 4001, NULL);
	r = check(s, "chat");
	only(r, "length.max");
	gcmsg_policy_result_free(r);
	/* the other messaging channels: 2000 */
	r = check(s, "apple");
	assert_int_equal(gcmsg_policy_result_length_limit(r), 2000);
	gcmsg_policy_result_free(r);
	r = check(s, "twitter");
	assert_int_equal(gcmsg_policy_result_length_limit(r), 2000);
	gcmsg_policy_result_free(r);
	free(s);
}

static void unknown_channel_is_strictest(void **state)
{
	gcmsg_policy_result *r;
	char *s = repeat("a", 766, NULL);
	size_t i;

	(void)state;
	r = check(s, NULL);
	i = only(r, "length.max");
	assert_int_equal(gcmsg_policy_result_length_limit(r), 765);
	assert_null(gcmsg_policy_result_channel(r));
	assert_non_null(strstr(gcmsg_policy_result_message(r, i), "unknown"));
	assert_int_equal(gcmsg_policy_result_note_count(r), 1);
	assert_non_null(strstr(gcmsg_policy_result_note(r, 0), "strictest limit"));
	assert_int_equal(gcmsg_policy_result_sms_segments(r), 0);
	assert_null(gcmsg_policy_result_sms_encoding(r));
	gcmsg_policy_result_free(r);
	r = check("hello", "telegram");
	assert_int_equal(gcmsg_policy_result_violation_count(r), 0);
	assert_int_equal(gcmsg_policy_result_length_limit(r), 765);
	assert_non_null(strstr(gcmsg_policy_result_note(r, 0), "'telegram'"));
	gcmsg_policy_result_free(r);
	free(s);
	assert_true(gcmsg_policy_channel_known("sms"));
	assert_true(gcmsg_policy_channel_known("WebMessaging"));
	assert_true(gcmsg_policy_channel_known("chat"));
	assert_false(gcmsg_policy_channel_known("telegram"));
	assert_false(gcmsg_policy_channel_known(NULL));
}

static void policy_lowers_limits(void **state)
{
	gcmsg_policy *p = load("format = 1\n"
	                       "[limits]\nmax_length = 1500\n"
	                       "[channels.sms.limits]\nmax_length = 100\n"
	                       "[queues.q1.limits]\nmax_length = 50\n");
	gcmsg_policy_result *r;
	gcmsg_check_options o = GCMSG_CHECK_OPTIONS_INIT;
	char *s = repeat("a", 120, NULL);
	char *big = repeat("a", 1501, NULL);
	size_t i;

	(void)state;
	r = check_on(p, s, "sms", NULL);
	i = only(r, "length.max");
	assert_int_equal(gcmsg_policy_result_length_limit(r), 100);
	assert_non_null(strstr(gcmsg_policy_result_message(r, i), "Genesys allows 765"));
	gcmsg_policy_result_free(r);
	r = check_on(p, big, "webmessaging", NULL);
	assert_int_equal(gcmsg_policy_result_length_limit(r), 1500);
	only(r, "length.max");
	gcmsg_policy_result_free(r);
	/* the global 1500 never raises SMS' 765 */
	r = check_on(p, big, "chat", NULL);
	assert_int_equal(gcmsg_policy_result_length_limit(r), 1500);
	gcmsg_policy_result_free(r);
	/* a queue beats the channel */
	o.channel = "sms";
	o.queue_id = "q1";
	r = NULL;
	assert_int_equal(gcmsg_policy_check_text(&r, p, s, 120, &o), GCMSG_EPOLICY);
	assert_int_equal(gcmsg_policy_result_length_limit(r), 50);
	gcmsg_policy_result_free(r);
	o.queue_id = "another";
	assert_int_equal(gcmsg_policy_check_text(&r, p, s, 120, &o), GCMSG_EPOLICY);
	assert_int_equal(gcmsg_policy_result_length_limit(r), 100);
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
	free(s);
	free(big);
}

/* ---- SMS segments ---- */

static void sms_segments(void **state)
{
	static const struct {
		const char *unit;
		size_t n;
		const char *tail;
		unsigned segments;
		const char *encoding;
	} cases[] = {
		{ "a", 160, NULL, 1, "GSM-7" },
		{ "a", 161, NULL, 2, "GSM-7" },
		{ "a", 306, NULL, 2, "GSM-7" },
		{ "a", 307, NULL, 3, "GSM-7" },
		{ "a", 765, NULL, 5, "GSM-7" },
		{ "\xC3\xA9", 160, NULL, 1, "GSM-7" },     /* é is in the basic table */
		{ EURO, 80, NULL, 1, "GSM-7" },            /* 160 septets */
		{ EURO, 81, NULL, 2, "GSM-7" },            /* 162 septets */
		{ "[", 80, NULL, 1, "GSM-7" },
		{ "a", 159, "{", 2, "GSM-7" },             /* 161 septets */
		{ ZHE, 70, NULL, 1, "UCS-2" },
		{ ZHE, 71, NULL, 2, "UCS-2" },
		{ ZHE, 134, NULL, 2, "UCS-2" },
		{ ZHE, 135, NULL, 3, "UCS-2" },
		{ "a", 159, ZHE, 3, "UCS-2" },             /* one non-GSM character makes it all UCS-2 */
		{ "a", 69, "`", 1, "UCS-2" },              /* the backtick is not in GSM 03.38 */
		{ EMOJI, 35, NULL, 1, "UCS-2" },           /* 70 units */
		{ EMOJI, 36, NULL, 2, "UCS-2" },           /* 72 units */
		{ "a", 0, NULL, 0, "GSM-7" },
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char *s = repeat(cases[k].unit, cases[k].n, cases[k].tail);
		gcmsg_policy_result *r = check(s, "sms");
		if (gcmsg_policy_result_sms_segments(r) != cases[k].segments ||
		    strcmp(gcmsg_policy_result_sms_encoding(r), cases[k].encoding) != 0)
			fail_msg("case %zu: %u segments %s, expected %u %s", k, gcmsg_policy_result_sms_segments(r),
			         gcmsg_policy_result_sms_encoding(r), cases[k].segments, cases[k].encoding);
		gcmsg_policy_result_free(r);
		free(s);
	}
	/* not reported for other channels */
	{
		gcmsg_policy_result *r = check("hello", "webmessaging");
		assert_int_equal(gcmsg_policy_result_sms_segments(r), 0);
		assert_null(gcmsg_policy_result_sms_encoding(r));
		gcmsg_policy_result_free(r);
	}
}

/* neither an escape pair nor a surrogate pair is split: one more segment than a naive count */
static void sms_segments_do_not_split_characters(void **state)
{
	char *a = repeat("a", 152, NULL), *b, *s;
	gcmsg_policy_result *r;

	(void)state;
	/* 152 + 2 + 152 = 306 septets: naively 2 segments, but the euro cannot straddle 153 */
	b = repeat("a", 152, NULL);
	s = malloc(strlen(a) + strlen(EURO) + strlen(b) + 1);
	assert_non_null(s);
	sprintf(s, "%s%s%s", a, EURO, b);
	r = check(s, "sms");
	assert_string_equal(gcmsg_policy_result_sms_encoding(r), "GSM-7");
	assert_int_equal(gcmsg_policy_result_sms_segments(r), 3);
	gcmsg_policy_result_free(r);
	free(a);
	free(b);
	free(s);
	/* 66 + 2 + 66 = 134 units: naively 2, but the surrogate pair cannot straddle 67 */
	a = repeat(ZHE, 66, EMOJI);
	b = repeat(ZHE, 66, NULL);
	s = malloc(strlen(a) + strlen(b) + 1);
	assert_non_null(s);
	sprintf(s, "%s%s", a, b);
	r = check(s, "sms");
	assert_string_equal(gcmsg_policy_result_sms_encoding(r), "UCS-2");
	assert_int_equal(gcmsg_policy_result_sms_segments(r), 3);
	gcmsg_policy_result_free(r);
	free(a);
	free(b);
	free(s);
}

static void sms_max_segments(void **state)
{
	gcmsg_policy *p = load("format = 1\n[channels.sms.limits]\nmax_segments = 1\n");
	gcmsg_policy_result *r;
	char *s = repeat("a", 161, NULL);
	size_t i;

	(void)state;
	r = check_on(p, s, "sms", NULL);
	i = only(r, "sms.segments");
	expect_span(r, i, 153, 161, 153, 161);
	assert_string_equal(gcmsg_policy_result_summary(r), "sms.segments (2 > 1 segments)");
	gcmsg_policy_result_free(r);
	r = check_on(p, "short", "sms", NULL);
	assert_int_equal(gcmsg_policy_result_violation_count(r), 0);
	gcmsg_policy_result_free(r);
	/* other channels do not count segments */
	r = check_on(p, s, "webmessaging", NULL);
	assert_int_equal(gcmsg_policy_result_violation_count(r), 0);
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
	free(s);
}

/* ---- placeholders ---- */

static void placeholders(void **state)
{
	gcmsg_check_options o = GCMSG_CHECK_OPTIONS_INIT;
	gcmsg_policy_result *r;
	const char *t = "Hi {{CUSTOMER_NAME}}, case {{CASE.ID}} and {{{X}}}";
	size_t i;

	(void)state;
	r = check(t, "webmessaging");
	assert_int_equal(count_rule(r, "placeholder.unresolved"), 3);
	expect_span(r, 0, 3, 20, 3, 20);
	/* the message names the id's length, never the id */
	assert_null(strstr(gcmsg_policy_result_message(r, 0), "CUSTOMER_NAME"));
	assert_non_null(strstr(gcmsg_policy_result_message(r, 0), "13-character id"));
	/* {{{X}}}: the placeholder is the inner {{X}} */
	expect_span(r, 2, 44, 49, 44, 49);
	gcmsg_policy_result_free(r);
	o.channel = "webmessaging";
	o.allow_placeholders = 1;
	assert_int_equal(gcmsg_policy_check_text(&r, NULL, t, strlen(t), &o), GCMSG_OK);
	gcmsg_policy_result_free(r);
	/*
	 * malformed ones are flagged too (a value from --var or an attribute is never
	 * parsed by the renderer), with the reason and never the text
	 */
	r = check("{{ A }} {{}} {{A!}} {{open", "webmessaging");
	assert_int_equal(count_rule(r, "placeholder.unresolved"), 4);
	assert_int_equal(gcmsg_policy_result_violation_count(r), 4);
	expect_span(r, 0, 0, 7, 0, 7);
	assert_string_equal(gcmsg_policy_result_message(r, 0), "a malformed placeholder (whitespace inside {{ }})");
	assert_string_equal(gcmsg_policy_result_message(r, 1), "a malformed placeholder (empty {{}})");
	assert_null(strstr(gcmsg_policy_result_message(r, 3), "open"));
	gcmsg_policy_result_free(r);
	r = check("Dear {{ CUSTOMER_NAME }}, hello", "webmessaging");
	i = only(r, "placeholder.unresolved");
	expect_span(r, i, 5, 24, 5, 24);
	assert_null(strstr(gcmsg_policy_result_message(r, i), "CUSTOMER"));
	gcmsg_policy_result_free(r);
	r = check("x {{A{{B}}}} y", "webmessaging");
	assert_int_equal(count_rule(r, "placeholder.unresolved"), 1);
	gcmsg_policy_result_free(r);
	/* allowed placeholders: malformed ones pass as well */
	assert_int_equal(gcmsg_policy_check_text(&r, NULL, "{{ A }} {{}}", 12, &o), GCMSG_OK);
	gcmsg_policy_result_free(r);
	r = check("{{A}}", "webmessaging");
	i = only(r, "placeholder.unresolved");
	assert_string_equal(gcmsg_policy_result_summary(r), "placeholder.unresolved at chars 0-5");
	(void)i;
	gcmsg_policy_result_free(r);
}

/* ---- detectors through the policy ---- */

static void detectors_default_and_switched(void **state)
{
	gcmsg_policy *p;
	gcmsg_policy_result *r;
	gcmsg_check_options o = GCMSG_CHECK_OPTIONS_INIT;
	const char *t = "mail jane@example.com or call +44 20 7946 0958";
	size_t i;

	(void)state;
	/* card: on by default; a Luhn-invalid number passes */
	r = check("my card is 4111 1111 1111 1111 ok", "webmessaging");
	i = only(r, "detector.payment-card");
	expect_span(r, i, 11, 30, 11, 30);
	assert_string_equal(gcmsg_policy_result_message(r, i), "a payment card number (Luhn-valid, 16 digits)");
	assert_string_equal(gcmsg_policy_result_summary(r), "detector.payment-card at chars 11-30");
	gcmsg_policy_result_free(r);
	expect_clean("my card is 4111 1111 1111 1112 ok", "webmessaging");
	/* char spans after multi-byte text */
	r = check("\xC3\xA9\xC3\xA9 4111111111111111", "webmessaging");
	i = only(r, "detector.payment-card");
	expect_span(r, i, 5, 21, 3, 19);
	gcmsg_policy_result_free(r);
	r = check("IBAN DE89 3704 0044 0532 0130 00", "webmessaging");
	only(r, "detector.iban");
	gcmsg_policy_result_free(r);
	r = check("SSN 123-45-6789", "webmessaging");
	only(r, "detector.us-ssn");
	gcmsg_policy_result_free(r);
	r = check("login with password=hunter2", "webmessaging");
	only(r, "detector.credential");
	gcmsg_policy_result_free(r);
	/* e-mail and phone: off by default */
	expect_clean(t, "webmessaging");
	/* switched on globally, off for one channel, on again for a queue */
	p = load("format = 1\n[detectors]\nemail = true\nphone = true\npayment-card = false\n"
	         "[channels.sms.detectors]\nemail = false\n"
	         "[queues.\"a0b1-c2\".detectors]\nemail = true\n");
	r = check_on(p, t, "webmessaging", NULL);
	only(r, "detector.email");
	only(r, "detector.phone");
	gcmsg_policy_result_free(r);
	r = check_on(p, t, "sms", NULL);
	assert_int_equal(count_rule(r, "detector.email"), 0);
	only(r, "detector.phone");
	gcmsg_policy_result_free(r);
	o.channel = "sms";
	o.queue_id = "a0b1-c2";
	assert_int_equal(gcmsg_policy_check_text(&r, p, t, strlen(t), &o), GCMSG_EPOLICY);
	only(r, "detector.email");
	gcmsg_policy_result_free(r);
	r = check_on(p, "4111111111111111", "webmessaging", NULL);
	assert_int_equal(gcmsg_policy_result_violation_count(r), 0);
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
}

/* no message ever holds the text it flagged */
static void messages_never_hold_the_match(void **state)
{
	gcmsg_policy *p = load("format = 1\n[detectors]\nemail = true\nphone = true\n"
	                       "[patterns.ticket]\nregex = 'INT-\\d{6}'\n");
	const char *t = "card 4111 1111 1111 1111, iban GB82 WEST 1234 5698 7654 32, ssn 123-45-6789, "
	                "mail jane.doe@example.com, phone +1 (555) 123-4567, password=Sup3rS3cret!, "
	                "key AKIAIOSFODNN7EXAMPLE, ticket INT-123456, Bearer abcdefghijklmnopqrstuvwx, "
	                "{{CASE_ID}}";
	gcmsg_policy_result *r = check_on(p, t, "chat", NULL);
	size_t i, n = gcmsg_policy_result_violation_count(r);

	(void)state;
	assert_true(n >= 10);
	for (i = 0; i < n; i++) {
		size_t bs = gcmsg_policy_result_byte_start(r, i), be = gcmsg_policy_result_byte_end(r, i);
		char span[256];
		snprintf(span, sizeof(span), "%.*s", (int)(be - bs), t + bs);
		assert_true(be > bs);
		if (strstr(gcmsg_policy_result_message(r, i), span) || strstr(gcmsg_policy_result_summary(r), span))
			fail_msg("%s: the message or summary holds '%s'", gcmsg_policy_result_rule(r, i), span);
	}
	/* nor any of the secrets' telling parts */
	assert_null(strstr(gcmsg_policy_result_summary(r), "4111"));
	for (i = 0; i < n; i++) {
		const char *m = gcmsg_policy_result_message(r, i);
		assert_null(strstr(m, "4111"));
		assert_null(strstr(m, "WEST"));
		assert_null(strstr(m, "6789"));
		assert_null(strstr(m, "jane"));
		assert_null(strstr(m, "555"));
		assert_null(strstr(m, "Sup3r"));
		assert_null(strstr(m, "AKIA"));
		assert_null(strstr(m, "123456"));
		assert_null(strstr(m, "abcdefgh"));
		assert_null(strstr(m, "CASE_ID"));
	}
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
}

/* ---- patterns ---- */

static void blocked_patterns(void **state)
{
	gcmsg_policy *p = load("format = 1\n"
	                       "[patterns.internal-ticket]\nregex = 'INT-\\d{6}'\n"
	                       "message = \"internal ticket ids must not reach customers\"\n"
	                       "[patterns.swear]\nregex = '\\bdarn\\b'\nignore_case = true\n"
	                       "[patterns.off]\nregex = 'xyzzy'\nenabled = false\n"
	                       "[channels.chat.patterns]\noff = true\nswear = false\n");
	gcmsg_policy_result *r;
	size_t i;

	(void)state;
	r = check_on(p, "see INT-123456 and INT-654321, DARN it, xyzzy", "webmessaging", NULL);
	assert_int_equal(count_rule(r, "pattern.internal-ticket"), 2);
	i = only(r, "pattern.swear");
	expect_span(r, i, 31, 35, 31, 35);
	assert_string_equal(gcmsg_policy_result_message(r, 0), "internal ticket ids must not reach customers");
	assert_string_equal(gcmsg_policy_result_message(r, i), "matches the blocked pattern 'swear'");
	assert_int_equal(count_rule(r, "pattern.off"), 0);
	gcmsg_policy_result_free(r);
	/* per channel: off switched on, swear switched off */
	r = check_on(p, "DARN xyzzy", "chat", NULL);
	only(r, "pattern.off");
	assert_int_equal(count_rule(r, "pattern.swear"), 0);
	gcmsg_policy_result_free(r);
	/* UTF-8 text: char spans */
	r = check_on(p, "\xC3\xA9t\xC3\xA9 INT-000001", "webmessaging", NULL);
	i = only(r, "pattern.internal-ticket");
	expect_span(r, i, 6, 16, 4, 14);
	gcmsg_policy_result_free(r);
	/* invalid UTF-8 in the text does not stop the patterns */
	r = check_on(p, "\xFF INT-000001 \xFE", "webmessaging", NULL);
	only(r, "pattern.internal-ticket");
	assert_int_equal(count_rule(r, "text.utf8"), 2);
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
}

/*
 * An empty match must not hide a non-empty one at the same offset. Such a pattern
 * is refused when a file is read; one compiled directly (and an allow entry, which
 * may match empty) still finds its non-empty matches.
 */
static void empty_matches_do_not_hide_matches(void **state)
{
	static const char *const regexes[] = { "\\b|secretword", "(?=secret)|secretword", "x*secretword|\\b" };
	int jit;
	size_t k;

	(void)state;
	for (jit = 0; jit < 2; jit++) {
		for (k = 0; k < sizeof(regexes) / sizeof(regexes[0]); k++) {
			gcmsg_policy *p = load("format = 1\n[patterns.w]\nregex = 'placeholder-never-seen'\n");
			gcmsg_policy_result *r;
			char err[256];
			size_t i;
			pcre2_code *code = gcmsg__policy_compile(regexes[k], 0, jit, err, sizeof(err));
			assert_non_null(code);
			pcre2_code_free(p->patterns[0].code);
			p->patterns[0].code = code;
			r = check_on(p, "the secretword, a secretword", "webmessaging", NULL);
			if (count_rule(r, "pattern.w") != 2)
				fail_msg("'%s' (jit %d): %s", regexes[k], jit, gcmsg_policy_result_summary(r));
			expect_span(r, 0, 4, 14, 4, 14);
			gcmsg_policy_result_free(r);
			r = check_on(p, "secretword", "webmessaging", NULL);
			i = only(r, "pattern.w");
			expect_span(r, i, 0, 10, 0, 10);
			gcmsg_policy_result_free(r);
			expect_clean_on(p, "no secrets here");
			gcmsg_policy_free(p);
		}
	}
}

static void allow_entry_matching_empty_still_exempts(void **state)
{
	gcmsg_policy *p = load("format = 1\n"
	                       "[allow.test-card]\nregex = '\\b|4111 1111 1111 1111'\nrules = [\"detector.payment-card\"]\n");
	gcmsg_policy_result *r;

	(void)state;
	r = check_on(p, "card 4111 1111 1111 1111 ok", "webmessaging", NULL);
	if (gcmsg_policy_result_violation_count(r))
		fail_msg("not exempted: %s", gcmsg_policy_result_summary(r));
	gcmsg_policy_result_free(r);
	r = check_on(p, "card 5555 5555 5555 4444 ok", "webmessaging", NULL);
	only(r, "detector.payment-card");
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
}

static void catastrophic_pattern(int jit)
{
	char file[256];
	gcmsg_policy *p;
	gcmsg_policy_result *r;
	clock_t t0;
	double secs;
	size_t i;

	snprintf(file, sizeof(file),
	         "format = 1\n[pcre]\njit = %s\n[patterns.redos]\nregex = '(a+)+$'\n[patterns.after]\nregex = 'zz'\n",
	         jit ? "true" : "false");
	p = load(file);
	t0 = clock();
	r = check_on(p, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa! zz", "webmessaging", NULL);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	if (secs > 2.0)
		fail_msg("the catastrophic pattern took %.2f s (jit %d)", secs, jit);
	/* fail-closed: a violation naming the pattern, not "no match" */
	i = only(r, "pattern.limit");
	assert_non_null(strstr(gcmsg_policy_result_message(r, i), "'redos'"));
	assert_non_null(strstr(gcmsg_policy_result_message(r, i), "match limit"));
	assert_non_null(strstr(gcmsg_policy_result_summary(r), "pattern.limit (pattern 'redos', match limit)"));
	/* the other patterns still ran */
	only(r, "pattern.after");
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
}

static void catastrophic_pattern_jit(void **state)
{
	(void)state;
	catastrophic_pattern(1);
}

static void catastrophic_pattern_interpreter(void **state)
{
	(void)state;
	catastrophic_pattern(0);
}

static void pattern_limits_configurable(void **state)
{
	/* a tiny match limit stops an ordinary pattern: still fail-closed */
	gcmsg_policy *p = load("format = 1\n[pcre]\nmatch_limit = 1\njit = false\n[patterns.w]\nregex = '(?:\\w+\\s)+x'\n");
	gcmsg_policy_result *r = check_on(p, "one two three four five six sevenx", "webmessaging", NULL);

	(void)state;
	only(r, "pattern.limit");
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
	/* and a depth limit */
	p = load("format = 1\n[pcre]\ndepth_limit = 2\njit = false\n[patterns.w]\nregex = '(a|b)*c'\n");
	r = check_on(p, "ababababababababababababd c", "webmessaging", NULL);
	only(r, "pattern.limit");
	assert_non_null(strstr(gcmsg_policy_result_message(r, 0), "depth limit"));
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
}

/* ---- the allow-list ---- */

static void allow_list_exempts_documented_strings(void **state)
{
	gcmsg_policy *p = load("format = 1\n"
	                       "[patterns.ticket]\nregex = 'INT-\\d{6}'\n"
	                       "[allow.test-card]\nregex = '4111[ -]?1111[ -]?1111[ -]?1111'\nrules = [\"detector.payment-card\"]\n"
	                       "[allow.demo-ticket]\nregex = 'INT-000000'\nrules = [\"pattern.ticket\"]\n");
	gcmsg_policy_result *r;
	size_t i;

	(void)state;
	r = check_on(p, "test with 4111 1111 1111 1111 or 4111111111111111", "webmessaging", NULL);
	assert_int_equal(gcmsg_policy_result_violation_count(r), 0);
	gcmsg_policy_result_free(r);
	/* a real card next to it is still flagged */
	r = check_on(p, "test 4111 1111 1111 1111, real 5555 5555 5555 4444", "webmessaging", NULL);
	i = only(r, "detector.payment-card");
	expect_span(r, i, 31, 50, 31, 50);
	gcmsg_policy_result_free(r);
	r = check_on(p, "INT-000000 is the demo, INT-123456 is not", "webmessaging", NULL);
	i = only(r, "pattern.ticket");
	assert_int_equal(gcmsg_policy_result_byte_start(r, i), 24);
	gcmsg_policy_result_free(r);
	/* an exemption covers only its rules: the demo ticket does not exempt a card */
	r = check_on(p, "INT-000000", "webmessaging", NULL);
	assert_int_equal(gcmsg_policy_result_violation_count(r), 0);
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
}

/* exempted findings never hide a real one behind the per-rule cap */
static void allow_list_before_the_cap(void **state)
{
	gcmsg_policy *p = load("format = 1\n[allow.test-card]\nregex = '4111111111111111'\nrules = [\"detector.payment-card\"]\n");
	char *s = repeat("4111111111111111 ", 150, "5555555555554444");
	gcmsg_policy_result *r = check_on(p, s, "chat", NULL);
	size_t i = only(r, "detector.payment-card");

	(void)state;
	assert_int_equal(gcmsg_policy_result_byte_start(r, i), 150 * 17);
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
	free(s);
}

static void per_rule_cap(void **state)
{
	char *s = repeat("4111111111111111 ", 150, NULL);
	gcmsg_policy_result *r = check(s, "chat");
	size_t k, found = 0;

	(void)state;
	assert_int_equal(count_rule(r, "detector.payment-card"), 100);
	for (k = 0; k < gcmsg_policy_result_note_count(r); k++)
		found |= strstr(gcmsg_policy_result_note(r, k), "detector.payment-card: more than 100") != NULL;
	assert_true(found);
	gcmsg_policy_result_free(r);
	free(s);
}

/* ---- big texts, summary, ordering ---- */

static void big_texts_are_partly_checked(void **state)
{
	char *s = repeat("a", 20000, " 4111111111111111 {{X}}");
	gcmsg_policy_result *r = check(s, "chat");

	(void)state;
	only(r, "length.max");
	assert_int_equal(gcmsg_policy_result_violation_count(r), 1);
	assert_int_equal(gcmsg_policy_result_note_count(r), 1);
	assert_non_null(strstr(gcmsg_policy_result_note(r, 0), "only the text, length and SMS rules"));
	gcmsg_policy_result_free(r);
	free(s);
}

static void sorted_and_summarised(void **state)
{
	gcmsg_policy_result *r = check("{{A}} \x07 4111111111111111 \xFF", "sms");
	size_t i, n = gcmsg_policy_result_violation_count(r);

	(void)state;
	assert_int_equal(n, 4);
	for (i = 1; i < n; i++)
		assert_true(gcmsg_policy_result_byte_start(r, i - 1) <= gcmsg_policy_result_byte_start(r, i));
	assert_string_equal(gcmsg_policy_result_summary(r), "placeholder.unresolved at chars 0-5; text.control at char 6; "
	                                                   "detector.payment-card at chars 8-24; text.utf8 at char 25");
	/* out of range */
	assert_null(gcmsg_policy_result_rule(r, n));
	assert_null(gcmsg_policy_result_message(r, n));
	assert_int_equal(gcmsg_policy_result_byte_end(r, n), 0);
	assert_null(gcmsg_policy_result_note(r, 99));
	gcmsg_policy_result_free(r);
}

static void usage_errors(void **state)
{
	gcmsg_check_options o = GCMSG_CHECK_OPTIONS_INIT;
	gcmsg_policy_result *r = (gcmsg_policy_result *)&o;
	gcmsg_policy *bad = NULL;

	(void)state;
	assert_int_equal(gcmsg_policy_check_text(NULL, NULL, "x", 1, NULL), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_policy_check_text(&r, NULL, NULL, 1, NULL), GCMSG_EUSAGE);
	assert_null(r);
	o.version = 99;
	assert_int_equal(gcmsg_policy_check_text(&r, NULL, "x", 1, &o), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_policy_check_attachment(&r, NULL, "a.png", "image/png", 1, &o), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_policy_load_buffer(&bad, "nope", 4, NULL), GCMSG_ECONFIG);
	assert_int_equal(gcmsg_policy_check_text(&r, bad, "x", 1, NULL), GCMSG_EUSAGE);
	assert_null(r);
	gcmsg_policy_free(bad);
	/* NULL text of length 0 is the empty text */
	assert_int_equal(gcmsg_policy_check_text(&r, NULL, NULL, 0, NULL), GCMSG_EPOLICY);
	only(r, "text.empty");
	gcmsg_policy_result_free(r);
	gcmsg_policy_result_free(NULL);
	gcmsg_policy_free(NULL);
	assert_int_equal(gcmsg_policy_result_violation_count(NULL), 0);
	assert_string_equal(gcmsg_policy_result_summary(NULL), "");
	{
		gcmsg_policy *p = NULL;
		assert_int_equal(gcmsg_policy_new(&p), GCMSG_OK);
		assert_int_equal(gcmsg_policy_check_text(&r, p, "ok", 2, NULL), GCMSG_OK);
		gcmsg_policy_result_free(r);
		gcmsg_policy_free(p);
	}
}

/* ---- attachments ---- */

static gcmsg_policy_result *attach(const gcmsg_policy *p, const char *name, const char *type, unsigned long long size,
                                   const char *channel)
{
	gcmsg_check_options o = GCMSG_CHECK_OPTIONS_INIT;
	gcmsg_policy_result *r = NULL;
	int rc;

	o.channel = channel;
	rc = gcmsg_policy_check_attachment(&r, p, name, type, size, &o);
	assert_true(rc == GCMSG_OK || rc == GCMSG_EPOLICY);
	assert_non_null(r);
	assert_int_equal(rc == GCMSG_EPOLICY, gcmsg_policy_result_violation_count(r) > 0);
	return r;
}

static void attachment_names(void **state)
{
	static const struct {
		const char *name;
		size_t violations;
		size_t bs, be;
	} cases[] = {
		{ "report.pdf", 0, 0, 0 },
		{ "r\xC3\xA9sum\xC3\xA9-2024_v2.pdf", 0, 0, 0 },
		{ "", 1, 0, 0 },
		{ ".hidden.pdf", 1, 0, 1 },
		{ "a b.pdf", 1, 1, 2 },
		{ "a\xC2\xA0" "b.pdf", 1, 1, 3 },     /* a no-break space */
		{ "a\tb.pdf", 1, 1, 2 },
		{ "dir/a.pdf", 1, 3, 4 },
		{ "a.pdf/", 1, 5, 6 },
		{ "a#b.pdf", 1, 1, 2 },
		{ "a\\b{c}.pdf", 3, 1, 2 },
		{ "50%.pdf", 1, 2, 3 },
		{ "x\xFF.pdf", 1, 1, 2 },
		{ "x\x01.pdf", 1, 1, 2 },
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		gcmsg_policy_result *r = attach(NULL, cases[k].name, "application/pdf", 1000, "webmessaging");
		if (count_rule(r, "attachment.name") != cases[k].violations)
			fail_msg("'%s': %s", cases[k].name, gcmsg_policy_result_summary(r));
		if (cases[k].violations &&
		    (gcmsg_policy_result_byte_start(r, 0) != cases[k].bs || gcmsg_policy_result_byte_end(r, 0) != cases[k].be))
			fail_msg("'%s': span [%zu, %zu)", cases[k].name, gcmsg_policy_result_byte_start(r, 0),
			         gcmsg_policy_result_byte_end(r, 0));
		assert_int_equal(gcmsg_policy_result_violation_count(r), cases[k].violations);
		assert_int_equal(gcmsg_policy_result_length_limit(r), 0);
		gcmsg_policy_result_free(r);
	}
	/* every reserved character */
	{
		const char *reserved = "\\{^}%`]\">[~<#|";
		for (k = 0; reserved[k]; k++) {
			char name[16];
			gcmsg_policy_result *r;
			snprintf(name, sizeof(name), "a%cb.png", reserved[k]);
			r = attach(NULL, name, "image/png", 10, "sms");
			only(r, "attachment.name");
			gcmsg_policy_result_free(r);
		}
	}
	/* 255 bytes pass, 256 do not; the span is what does not fit */
	{
		char *ok = repeat("a", 251, ".png"), *long_ = repeat("a", 252, ".png");
		gcmsg_policy_result *r = attach(NULL, ok, "image/png", 10, "sms");
		size_t i;
		assert_int_equal(gcmsg_policy_result_violation_count(r), 0);
		gcmsg_policy_result_free(r);
		r = attach(NULL, long_, "image/png", 10, "sms");
		i = only(r, "attachment.name");
		expect_span(r, i, 255, 256, 255, 256);
		gcmsg_policy_result_free(r);
		free(ok);
		free(long_);
	}
}

static void attachment_types(void **state)
{
	gcmsg_policy *p;
	gcmsg_policy_result *r;
	size_t i;

	(void)state;
	static const char *const ok[] = { "image/jpeg", "image/png", "image/gif", "application/pdf",
	                                  "video/mp4", "audio/mpeg", "IMAGE/PNG", "image/png; charset=binary" };
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		r = attach(NULL, "f", ok[i], 10, "webmessaging");
		assert_int_equal(gcmsg_policy_result_violation_count(r), 0);
		gcmsg_policy_result_free(r);
	}
	r = attach(NULL, "f.bmp", "image/bmp", 10, "webmessaging");
	i = only(r, "attachment.type");
	assert_string_equal(gcmsg_policy_result_summary(r), "attachment.type (image/bmp not allowed)");
	assert_non_null(strstr(gcmsg_policy_result_message(r, i), "allowed: image/jpeg, image/png"));
	gcmsg_policy_result_free(r);
	r = attach(NULL, "f", NULL, 10, "webmessaging");
	only(r, "attachment.type");
	gcmsg_policy_result_free(r);
	r = attach(NULL, "f", "not a type", 10, "webmessaging");
	only(r, "attachment.type");
	gcmsg_policy_result_free(r);
	/* a file's list, a wildcard, and a channel's own list */
	p = load("format = 1\n[attachments]\ntypes = [\"image/*\", \"text/plain\"]\n"
	         "[channels.sms.attachments]\ntypes = [\"image/jpeg\"]\n");
	r = attach(p, "f", "image/webp", 10, "webmessaging");
	assert_int_equal(gcmsg_policy_result_violation_count(r), 0);
	gcmsg_policy_result_free(r);
	r = attach(p, "f", "application/pdf", 10, "webmessaging");
	i = only(r, "attachment.type");
	assert_non_null(strstr(gcmsg_policy_result_message(r, i), "allowed: image/*, text/plain"));
	gcmsg_policy_result_free(r);
	r = attach(p, "f", "image/png", 10, "sms");
	only(r, "attachment.type");
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
}

static void attachment_sizes(void **state)
{
	gcmsg_policy *p;
	gcmsg_policy_result *r;
	gcmsg_check_options o = GCMSG_CHECK_OPTIONS_INIT;

	(void)state;
	r = attach(NULL, "f.png", "image/png", 10ULL * 1024 * 1024, "webmessaging");
	assert_int_equal(gcmsg_policy_result_violation_count(r), 0);
	gcmsg_policy_result_free(r);
	r = attach(NULL, "f.png", "image/png", 10ULL * 1024 * 1024 + 1, "webmessaging");
	only(r, "attachment.size");
	assert_string_equal(gcmsg_policy_result_summary(r), "attachment.size (10485761 > 10485760 bytes)");
	gcmsg_policy_result_free(r);
	r = attach(NULL, "f.png", "image/png", 0, "webmessaging");
	only(r, "attachment.size");
	gcmsg_policy_result_free(r);
	assert_int_equal(gcmsg_policy_attachment_max_bytes(NULL, NULL), 10ULL * 1024 * 1024);
	p = load("format = 1\n[attachments]\nmax_bytes = 5242880\n[channels.sms.attachments]\nmax_bytes = 1000\n"
	         "[queues.vip.attachments]\nmax_bytes = 2000\n");
	assert_int_equal(gcmsg_policy_attachment_max_bytes(p, NULL), 5242880);
	o.channel = "sms";
	assert_int_equal(gcmsg_policy_attachment_max_bytes(p, &o), 1000);
	o.queue_id = "vip";
	assert_int_equal(gcmsg_policy_attachment_max_bytes(p, &o), 2000);
	r = attach(p, "f.png", "image/png", 1001, "sms");
	only(r, "attachment.size");
	gcmsg_policy_result_free(r);
	r = attach(p, "f.png", "image/png", 1001, "webmessaging");
	assert_int_equal(gcmsg_policy_result_violation_count(r), 0);
	gcmsg_policy_result_free(r);
	gcmsg_policy_free(p);
	/* several problems at once */
	r = attach(NULL, ".a b.exe", "application/x-msdownload", 0, "sms");
	assert_int_equal(gcmsg_policy_result_violation_count(r), 4);
	gcmsg_policy_result_free(r);
}

static void gsm_table(void **state)
{
	(void)state;
	assert_int_equal(gcmsg__gsm7_class('A'), 1);
	assert_int_equal(gcmsg__gsm7_class('@'), 1);
	assert_int_equal(gcmsg__gsm7_class('\n'), 1);
	assert_int_equal(gcmsg__gsm7_class(0xE9), 1);   /* é */
	assert_int_equal(gcmsg__gsm7_class(0x394), 1);  /* Δ */
	assert_int_equal(gcmsg__gsm7_class(0x20AC), 2); /* € */
	assert_int_equal(gcmsg__gsm7_class('{'), 2);
	assert_int_equal(gcmsg__gsm7_class('|'), 2);
	assert_int_equal(gcmsg__gsm7_class('`'), 0);
	assert_int_equal(gcmsg__gsm7_class('\t'), 0);
	assert_int_equal(gcmsg__gsm7_class(0xE7), 0);   /* ç: only Ç is in the table */
	assert_int_equal(gcmsg__gsm7_class(0x1F600), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_texts),
		cmocka_unit_test(empty_texts),
		cmocka_unit_test(invalid_utf8),
		cmocka_unit_test(control_characters),
		cmocka_unit_test(length_boundaries_in_utf16_units),
		cmocka_unit_test(length_limits_per_channel),
		cmocka_unit_test(unknown_channel_is_strictest),
		cmocka_unit_test(policy_lowers_limits),
		cmocka_unit_test(sms_segments),
		cmocka_unit_test(sms_segments_do_not_split_characters),
		cmocka_unit_test(sms_max_segments),
		cmocka_unit_test(placeholders),
		cmocka_unit_test(detectors_default_and_switched),
		cmocka_unit_test(messages_never_hold_the_match),
		cmocka_unit_test(blocked_patterns),
		cmocka_unit_test(empty_matches_do_not_hide_matches),
		cmocka_unit_test(allow_entry_matching_empty_still_exempts),
		cmocka_unit_test(catastrophic_pattern_jit),
		cmocka_unit_test(catastrophic_pattern_interpreter),
		cmocka_unit_test(pattern_limits_configurable),
		cmocka_unit_test(allow_list_exempts_documented_strings),
		cmocka_unit_test(allow_list_before_the_cap),
		cmocka_unit_test(per_rule_cap),
		cmocka_unit_test(big_texts_are_partly_checked),
		cmocka_unit_test(sorted_and_summarised),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(attachment_names),
		cmocka_unit_test(attachment_types),
		cmocka_unit_test(attachment_sizes),
		cmocka_unit_test(gsm_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
