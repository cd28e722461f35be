/* The placeholder scanner (template.c): every piece of the grammar in template.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "template.h"

/*
 * The pieces of s, one per line: "T:text", "P:id", "M@offset:text:reason".
 * Also checks that pieces are contiguous and cover the text.
 */
static char *pieces_n(const char *s, size_t len)
{
	static char buf[4096];
	size_t pos = 0, used = 0, expect = 0;
	gcmsg__tpl_piece p;

	buf[0] = '\0';
	while (gcmsg__tpl_next(s, len, &pos, &p)) {
		int n = 0;
		assert_int_equal(p.off, expect);
		assert_true(p.len > 0);
		expect = p.off + p.len;
		assert_int_equal(pos, expect);
		switch (p.kind) {
		case GCMSG__TPL_TEXT:
			n = snprintf(buf + used, sizeof(buf) - used, "T:%.*s\n", (int)p.len, s + p.off);
			break;
		case GCMSG__TPL_PLACEHOLDER:
			assert_int_equal(p.id_off, p.off + 2);
			assert_int_equal(p.id_len + 4, p.len);
			n = snprintf(buf + used, sizeof(buf) - used, "P:%.*s\n", (int)p.id_len, s + p.id_off);
			break;
		case GCMSG__TPL_MALFORMED:
			n = snprintf(buf + used, sizeof(buf) - used, "M@%zu:%.*s:%s\n", p.off, (int)p.len, s + p.off,
			             p.reason);
			break;
		}
		assert_true(n > 0 && (size_t)n < sizeof(buf) - used);
		used += (size_t)n;
	}
	assert_int_equal(expect, len);
	return buf;
}

static char *pieces(const char *s)
{
	return pieces_n(s, strlen(s));
}

static void test_plain(void **state)
{
	(void)state;
	assert_string_equal(pieces(""), "");
	assert_string_equal(pieces("no placeholders"), "T:no placeholders\n");
	assert_string_equal(pieces("Hello {{NAME}}!"), "T:Hello \nP:NAME\nT:!\n");
	assert_string_equal(pieces("{{A}}{{b.c-d_9}}"), "P:A\nP:b.c-d_9\n");
	/* an empty template scans to nothing and NULL is nothing */
	{
		size_t pos = 0;
		gcmsg__tpl_piece p;
		assert_int_equal(gcmsg__tpl_next(NULL, 3, &pos, &p), 0);
	}
}

static void test_braces(void **state)
{
	(void)state;
	/* a run of three or more opens at its last two */
	assert_string_equal(pieces("{{{X}}}"), "T:{\nP:X\nT:}\n");
	assert_string_equal(pieces("{{{{X}}}}"), "T:{{\nP:X\nT:}}\n");
	assert_string_equal(pieces("a{{{X}}"), "T:a{\nP:X\n");
	/* the first }} closes */
	assert_string_equal(pieces("{{A}}}"), "P:A\nT:}\n");
	/* lone }} and single braces are text */
	assert_string_equal(pieces("a }} b { c } {d}"), "T:a }} b { c } {d}\n");
	assert_string_equal(pieces("{"), "T:{\n");
	assert_string_equal(pieces("x{"), "T:x{\n");
	assert_string_equal(pieces("}}{{A}}"), "T:}}\nP:A\n");
}

static void test_malformed(void **state)
{
	(void)state;
	assert_string_equal(pieces("x{{}}y"), "T:x\nM@1:{{}}:empty {{}}\nT:y\n");
	assert_string_equal(pieces("Hi {{ NAME }}"), "T:Hi \nM@3:{{ NAME }}:whitespace inside {{ }}\n");
	assert_string_equal(pieces("{{A\tB}}"), "M@0:{{A\tB}}:whitespace inside {{ }}\n");
	assert_string_equal(pieces("{{A\nB}}"), "M@0:{{A\nB}}:whitespace inside {{ }}\n");
	/* whitespace is named before a bad character */
	assert_string_equal(pieces("{{A! B}}"), "M@0:{{A! B}}:whitespace inside {{ }}\n");
	assert_string_equal(pieces("{{A!}}"), "M@0:{{A!}}:character '!' not allowed in a placeholder id\n");
	assert_string_equal(pieces("{{A}B}}"), "M@0:{{A}B}}:character '}' not allowed in a placeholder id\n");
	assert_string_equal(pieces("{{A{B}}"), "M@0:{{A{B}}:character '{' not allowed in a placeholder id\n");
	assert_string_equal(pieces("{{caf\xc3\xa9}}"),
	                    "M@0:{{caf\xc3\xa9}}:character '\xc3\xa9' (U+00E9) not allowed in a placeholder id\n");
	assert_string_equal(pieces("{{\xf0\x9f\x98\x80}}"),
	                    "M@0:{{\xf0\x9f\x98\x80}}:character '\xf0\x9f\x98\x80' (U+1F600) not allowed in a "
	                    "placeholder id\n");
	assert_string_equal(pieces("{{A\xff}}"), "M@0:{{A\xff}}:byte 0xFF (not UTF-8) not allowed in a placeholder id\n");
	assert_string_equal(pieces("{{A\x01}}"), "M@0:{{A\x01}}:character U+0001 not allowed in a placeholder id\n");
	/* a NUL inside is a character like any other */
	assert_string_equal(pieces_n("{{A\0B}}", 7), "M@0:{{A:character U+0000 not allowed in a placeholder id\n");
}

static void test_unclosed(void **state)
{
	(void)state;
	assert_string_equal(pieces("Dear {{NAME, welcome"),
	                    "T:Dear \nM@5:{{NAME:'{{' without a closing '}}'\nT:, welcome\n");
	assert_string_equal(pieces("{{"), "M@0:{{:'{{' without a closing '}}'\n");
	assert_string_equal(pieces("end {{ X"), "T:end \nM@4:{{:'{{' without a closing '}}'\nT: X\n");
	/* another {{ first: the unclosed one does not swallow the next placeholder */
	assert_string_equal(pieces("{{NAME, case {{CASE}} ok"),
	                    "M@0:{{NAME:'{{' without a closing '}}'\nT:, case \nP:CASE\nT: ok\n");
	assert_string_equal(pieces("{{A {{B}} }}"), "M@0:{{A:'{{' without a closing '}}'\nT: \nP:B\nT: }}\n");
	assert_string_equal(pieces("{{A{{"), "M@0:{{A:'{{' without a closing '}}'\nM@3:{{:'{{' without a closing '}}'\n");
}

static void test_nested(void **state)
{
	(void)state;
	assert_string_equal(pieces("x{{A{{B}}}}y"), "T:x\nM@1:{{A{{B}}}}:'{{' nested inside a placeholder\nT:y\n");
	assert_string_equal(pieces("{{A{{{B}}}}}"), "M@0:{{A{{{B}}}}:'{{' nested inside a placeholder\nT:}\n");
	/* not nested when the inner }} is not followed by another */
	assert_string_equal(pieces("{{A{{B}}"), "M@0:{{A:'{{' without a closing '}}'\nP:B\n");
}

static void test_ids(void **state)
{
	(void)state;
	assert_true(gcmsg__tpl_valid_id("CASE_ID", 7));
	assert_true(gcmsg__tpl_valid_id("a.b-c_9", 7));
	assert_false(gcmsg__tpl_valid_id("", 0));
	assert_false(gcmsg__tpl_valid_id(NULL, 0));
	assert_false(gcmsg__tpl_valid_id("A B", 3));
	assert_false(gcmsg__tpl_valid_id("A{", 2));
	assert_false(gcmsg__tpl_valid_id("\xc3\xa9", 2));
}

static void test_utf8(void **state)
{
	unsigned long cp = 0;

	(void)state;
	assert_int_equal(gcmsg__utf8_decode("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(gcmsg__utf8_decode("\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xE9);
	assert_int_equal(gcmsg__utf8_decode("\xe2\x80\x93", 3, &cp), 3);
	assert_int_equal(cp, 0x2013);
	assert_int_equal(gcmsg__utf8_decode("\xf4\x8f\xbf\xbf", 4, &cp), 4);
	assert_int_equal(cp, 0x10FFFF);
	assert_int_equal(gcmsg__utf8_decode("", 0, &cp), 0);
	assert_int_equal(gcmsg__utf8_decode("\xc3", 1, &cp), 0);             /* truncated */
	assert_int_equal(gcmsg__utf8_decode("\xc0\xaf", 2, &cp), 0);         /* overlong */
	assert_int_equal(gcmsg__utf8_decode("\xe0\x80\xaf", 3, &cp), 0);     /* overlong */
	assert_int_equal(gcmsg__utf8_decode("\xed\xa0\x80", 3, &cp), 0);     /* surrogate */
	assert_int_equal(gcmsg__utf8_decode("\xf4\x90\x80\x80", 4, &cp), 0); /* > U+10FFFF */
	assert_int_equal(gcmsg__utf8_decode("\x80", 1, &cp), 0);             /* stray continuation */
	assert_int_equal(gcmsg__utf8_decode("\xc3(", 2, &cp), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),   cmocka_unit_test(test_braces), cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_unclosed), cmocka_unit_test(test_nested), cmocka_unit_test(test_ids),
		cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
