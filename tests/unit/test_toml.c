#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "toml.h"

static int parse(gcmsg__toml_doc *doc, const char *text, char *err, size_t errlen)
{
	return gcmsg__toml_parse(doc, text, strlen(text), err, errlen);
}

static void good_document(void **state)
{
	gcmsg__toml_doc doc;
	char err[256];
	const gcmsg__toml_entry *e;

	(void)state;
	assert_int_equal(parse(&doc,
	                       "# profiles\n"
	                       "top = 'before any table'\n"
	                       "[DEFAULT]\n"
	                       "region = \"mypurecloud.ie\"   # Dublin\n"
	                       "  client_id=\"abc\"\r\n"
	                       "\n"
	                       "[frankfurt]\n"
	                       "enabled = true\n"
	                       "off = false\n"
	                       "retries = 1_000\n"
	                       "neg = -42\n"
	                       "\"quoted key\" = \"v\"\n"
	                       "[\"my profile\"]\n"
	                       "x = \"y\"\n",
	                       err, sizeof(err)),
	                 0);
	e = gcmsg__toml_get(&doc, "", "top");
	assert_non_null(e);
	assert_string_equal(e->str, "before any table");
	e = gcmsg__toml_get(&doc, "DEFAULT", "region");
	assert_non_null(e);
	assert_int_equal(e->type, GCMSG_TOML_STRING);
	assert_string_equal(e->str, "mypurecloud.ie");
	assert_int_equal(e->line, 4);
	assert_string_equal(gcmsg__toml_get(&doc, "DEFAULT", "client_id")->str, "abc");
	e = gcmsg__toml_get(&doc, "frankfurt", "enabled");
	assert_int_equal(e->type, GCMSG_TOML_BOOL);
	assert_int_equal(e->num, 1);
	assert_int_equal(gcmsg__toml_get(&doc, "frankfurt", "off")->num, 0);
	e = gcmsg__toml_get(&doc, "frankfurt", "retries");
	assert_int_equal(e->type, GCMSG_TOML_INT);
	assert_int_equal(e->num, 1000);
	assert_int_equal(gcmsg__toml_get(&doc, "frankfurt", "neg")->num, -42);
	assert_string_equal(gcmsg__toml_get(&doc, "frankfurt", "quoted key")->str, "v");
	assert_true(gcmsg__toml_has_table(&doc, "my profile"));
	assert_false(gcmsg__toml_has_table(&doc, "nope"));
	assert_null(gcmsg__toml_get(&doc, "DEFAULT", "enabled"));
	gcmsg__toml_free(&doc);
}

static void escapes_and_comments(void **state)
{
	gcmsg__toml_doc doc;
	char err[256];

	(void)state;
	assert_int_equal(parse(&doc,
	                       "[t]\n"
	                       "a = \"q\\\"uote \\\\ tab\\t nl\\n\"\n"
	                       "b = \"s3cr=t#1\"   # secret with = and #\n"
	                       "c = \"\\u00e9\\U0001F600\"\n"
	                       "d = 'C:\\path\\no escapes'\n"
	                       "e = \"\"\n",
	                       err, sizeof(err)),
	                 0);
	assert_string_equal(gcmsg__toml_get(&doc, "t", "a")->str, "q\"uote \\ tab\t nl\n");
	assert_string_equal(gcmsg__toml_get(&doc, "t", "b")->str, "s3cr=t#1");
	assert_string_equal(gcmsg__toml_get(&doc, "t", "c")->str, "\xc3\xa9\xf0\x9f\x98\x80");
	assert_string_equal(gcmsg__toml_get(&doc, "t", "d")->str, "C:\\path\\no escapes");
	assert_string_equal(gcmsg__toml_get(&doc, "t", "e")->str, "");
	gcmsg__toml_free(&doc);
}

static void expect_error(const char *text, const char *want)
{
	gcmsg__toml_doc doc;
	char err[256];

	assert_int_equal(parse(&doc, text, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s' for input '%s'", err, want, text);
	assert_int_equal(doc.count, 0);
	assert_null(doc.items);
}

static void bad_lines_name_their_line(void **state)
{
	(void)state;
	expect_error("[DEFAULT]\nclient_id = \"unterminated\n", "line 2: unterminated string");
	expect_error("a = 1\nb = bare\n", "line 2: bad value");
	expect_error("# c\n\n[t\n", "line 3: ']' expected");
	expect_error("x\n", "line 1: '=' expected");
	expect_error("x =\n", "line 1: a value was expected");
	expect_error("x = \"a\" junk\n", "line 1: unexpected 'j'");
	expect_error("x = \"\\q\"\n", "line 1: unknown escape");
	expect_error("x = \"\\u12\"\n", "line 1: bad \\u escape");
	expect_error("x = \"\\uD800\"\n", "line 1: escape is not a Unicode scalar value");
	expect_error("[t]\na = 1\na = 2\n", "line 3: key 'a' is defined twice");
	expect_error("[t]\n[t]\n", "line 2: table [t] is defined twice");
	expect_error("[[t]]\n", "line 1: arrays of tables");
	expect_error("a.b = 1\n", "line 1: dotted keys");
	expect_error("x = \"\"\"multi\"\"\"\n", "line 1: multi-line strings");
	expect_error("x = 007\n", "line 1: leading zeros");
	expect_error("x = 99999999999999999999\n", "line 1: integer out of range");
	expect_error("x = [1, 2]\n", "line 1: bad value");
	expect_error("x = \"a\x01b\"\n", "line 1: control character");
}

static void nul_byte_is_an_error(void **state)
{
	gcmsg__toml_doc doc;
	char err[256];
	static const char text[] = "a = \"x\"\nb = \"y\0z\"\n";

	(void)state;
	assert_int_equal(gcmsg__toml_parse(&doc, text, sizeof(text) - 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_document),
		cmocka_unit_test(escapes_and_comments),
		cmocka_unit_test(bad_lines_name_their_line),
		cmocka_unit_test(nul_byte_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
