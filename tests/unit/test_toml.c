#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "toml.h"
#include "buf.h"

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
	expect_error("x = \"a\" junk\n", "line 1: unexpected characters after the value");
	expect_error("x = \"\\q\"\n", "line 1: unknown escape");
	expect_error("x = \"\\u12\"\n", "line 1: bad \\u escape");
	expect_error("x = \"\\uD800\"\n", "line 1: escape is not a Unicode scalar value");
	expect_error("[t]\na = 1\na = 2\n", "line 3: key 'a' is defined twice");
	expect_error("[t]\n[t]\n", "line 2: table [t] is defined twice");
	expect_error("[[t]]\n", "line 1: arrays of tables");
	expect_error("a.b = 1\n", "line 1: dotted keys");
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


static const char *str_of(const gcmsg__toml_doc *doc, const char *table, const char *key)
{
	const gcmsg__toml_entry *e = gcmsg__toml_get(doc, table, key);

	assert_non_null(e);
	assert_int_equal(e->type, GCMSG_TOML_STRING);
	return e->str;
}

static void multiline_basic_strings(void **state)
{
	gcmsg__toml_doc doc;
	char err[256];

	(void)state;
	assert_int_equal(parse(&doc,
	                       "a = \"\"\"\nHi {{CUSTOMER_NAME}},\nthis is {{AGENT_NAME}}.\n\"\"\"\n"
	                       "b = \"\"\"no newline trimmed\"\"\"\n"
	                       "c = \"\"\"\r\nCRLF after the delimiter\r\nand inside\r\n\"\"\"\n"
	                       "d = \"\"\"\\\n   joined \\\n\n   lines\\\n\"\"\"\n"
	                       "e = \"\"\"tab\\t quote\\\" \\u00e9 \\\\ \"one\" \"\"two\"\" \"\"\"\n"
	                       "f = \"\"\"ends with quotes\"\"\"\"\"\n"
	                       "g = \"\"\"\"\"\"\n"
	                       "h = \"\"\"\n\n\"\"\"\n"
	                       "i = \"\"\"trailing   \n  spaces  \"\"\"   # comment\n"
	                       "j = \"\"\"one quote\"\"\"\"\n"
	                       "k = \"\"\"\\\n\"\"\"\n"
	                       "after = 1\n",
	                       err, sizeof(err)),
	                 0);
	assert_string_equal(str_of(&doc, "", "a"), "Hi {{CUSTOMER_NAME}},\nthis is {{AGENT_NAME}}.\n");
	assert_string_equal(str_of(&doc, "", "b"), "no newline trimmed");
	assert_string_equal(str_of(&doc, "", "c"), "CRLF after the delimiter\nand inside\n");
	assert_string_equal(str_of(&doc, "", "d"), "joined lines");
	assert_string_equal(str_of(&doc, "", "e"), "tab\t quote\" \xc3\xa9 \\ \"one\" \"\"two\"\" ");
	assert_string_equal(str_of(&doc, "", "f"), "ends with quotes\"\"");
	assert_string_equal(str_of(&doc, "", "g"), "");
	assert_string_equal(str_of(&doc, "", "h"), "\n");
	assert_string_equal(str_of(&doc, "", "i"), "trailing   \n  spaces  ");
	assert_string_equal(str_of(&doc, "", "j"), "one quote\"");
	assert_string_equal(str_of(&doc, "", "k"), "");
	/* line numbers keep counting through multi-line strings */
	assert_int_equal(gcmsg__toml_get(&doc, "", "b")->line, 5);
	assert_int_equal(gcmsg__toml_get(&doc, "", "after")->line, 26);
	gcmsg__toml_free(&doc);
}

static void multiline_literal_strings(void **state)
{
	gcmsg__toml_doc doc;
	char err[256];

	(void)state;
	assert_int_equal(parse(&doc,
	                       "a = '''\nC:\\no\\escapes \\n here\n  \"quotes\" and 'one' and ''two''\n'''\n"
	                       "b = '''x'''''\n"
	                       "c = '''\r\nwin\r\n'''\n",
	                       err, sizeof(err)),
	                 0);
	assert_string_equal(str_of(&doc, "", "a"),
	                    "C:\\no\\escapes \\n here\n  \"quotes\" and 'one' and ''two''\n");
	assert_string_equal(str_of(&doc, "", "b"), "x''");
	assert_string_equal(str_of(&doc, "", "c"), "win\n");
	gcmsg__toml_free(&doc);
}

static void dotted_tables(void **state)
{
	gcmsg__toml_doc doc;
	char err[256];
	const gcmsg__toml_entry *e;
	const gcmsg__toml_table *t;
	size_t i, greeting = 0, subst = 0;

	(void)state;
	assert_int_equal(parse(&doc,
	                       "format = 1\n"
	                       "[responses.greeting]\n"
	                       "name = \"Greeting\"\n"
	                       "[ responses . \"Escalation notice\" . substitutions . 'CaseNumber' ]\n"
	                       "description = \"Case number\"\n"
	                       "[responses]\n"
	                       "x = 1\n"
	                       "[\"a.b\"]\n"
	                       "y = 2\n",
	                       err, sizeof(err)),
	                 0);
	/* root, responses (implied, then defined), responses.greeting, Escalation notice (implied),
	   its substitutions (implied), CaseNumber, "a.b" */
	assert_int_equal(doc.ntables, 7);
	assert_string_equal(doc.tables[0].name, "");
	assert_int_equal(doc.tables[0].depth, 0);
	t = &doc.tables[1];
	assert_string_equal(t->name, "responses");
	assert_false(t->implicit);
	assert_int_equal(t->line, 6);
	for (i = 0; i < doc.ntables; i++) {
		if (strcmp(doc.tables[i].name, "responses.greeting") == 0)
			greeting = i;
		if (strcmp(doc.tables[i].name, "responses.\"Escalation notice\".substitutions.CaseNumber") == 0)
			subst = i;
	}
	assert_true(greeting && subst);
	assert_int_equal(doc.tables[greeting].depth, 2);
	assert_string_equal(doc.tables[greeting].path[1], "greeting");
	t = &doc.tables[subst];
	assert_int_equal(t->depth, 4);
	assert_string_equal(t->path[1], "Escalation notice");
	assert_string_equal(t->path[3], "CaseNumber");
	assert_int_equal(t->line, 4);
	assert_true(doc.tables[subst - 1].implicit);
	assert_int_equal(doc.tables[subst - 1].line, 4);
	e = gcmsg__toml_get_in(&doc, greeting, "name");
	assert_non_null(e);
	assert_string_equal(e->str, "Greeting");
	assert_string_equal(e->table, "responses.greeting");
	assert_int_equal(e->tindex, greeting);
	assert_string_equal(gcmsg__toml_get_in(&doc, subst, "description")->str, "Case number");
	assert_null(gcmsg__toml_get_in(&doc, subst, "name"));
	assert_null(gcmsg__toml_get_in(&doc, 999, "name"));
	/* one-segment lookups (what config.c uses) never reach a dotted table */
	assert_int_equal(gcmsg__toml_get(&doc, "", "format")->num, 1);
	assert_int_equal(gcmsg__toml_get(&doc, "responses", "x")->num, 1);
	assert_int_equal(gcmsg__toml_get(&doc, "a.b", "y")->num, 2);
	assert_null(gcmsg__toml_get(&doc, "responses.greeting", "name"));
	assert_true(gcmsg__toml_has_table(&doc, "responses"));
	assert_true(gcmsg__toml_has_table(&doc, "a.b"));
	assert_false(gcmsg__toml_has_table(&doc, "responses.greeting"));
	assert_false(gcmsg__toml_has_table(&doc, ""));
	gcmsg__toml_free(&doc);

	/* a table only implied is found, and may be defined later (once) */
	assert_int_equal(parse(&doc, "[a.b]\n[a]\nk = 1\n", err, sizeof(err)), 0);
	assert_true(gcmsg__toml_has_table(&doc, "a"));
	assert_int_equal(gcmsg__toml_get(&doc, "a", "k")->num, 1);
	gcmsg__toml_free(&doc);
}

static void bad_extended_syntax(void **state)
{
	(void)state;
	expect_error("a = \"\"\"never\nclosed\n", "line 1: unterminated multi-line string");
	expect_error("x = 1\na = '''never\n", "line 2: unterminated multi-line string");
	expect_error("a = \"\"\"x\"\"\"\"\"\"\n", "line 1: too many quotes");
	expect_error("a = \"\"\"ok\"\"\" junk\n", "line 1: unexpected characters after the value");
	expect_error("a = \"\"\"\nbad \\q\n\"\"\"\n", "line 2: unknown escape");
	expect_error("a = \"\"\"\nbad \\ x\n\"\"\"\n", "line 2: unknown escape");
	expect_error("a = \"\"\"\nraw\x01\n\"\"\"\n", "line 2: control character");
	expect_error("a = \"\"\"\nraw\rCR\n\"\"\"\n", "line 2: carriage return");
	expect_error("a = '''\nraw\x7f\n'''\n", "line 2: control character");
	expect_error("a = \"del\x7f\"\n", "line 1: control character");
	expect_error("a = 1\rb = 2\n", "line 1: carriage return");
	expect_error("\"\"\"k\"\"\" = 1\n", "line 1: a multi-line string cannot be a key");
	expect_error("a = \"\\u0000\"\n", "line 1: \\u0000 (NUL) is not supported");
	expect_error("ok = 1\nbad = \"\xff\"\n", "line 2: invalid UTF-8");
	expect_error("# \xc0\xaf overlong\n", "line 1: invalid UTF-8");
	expect_error("a = \"\xed\xa0\x80\"\n", "line 1: invalid UTF-8");
	expect_error("[a.b]\n[a.b]\n", "line 2: table [a.b] is defined twice");
	expect_error("[a]\n[a.b]\n[a]\n", "line 3: table [a] is defined twice");
	expect_error("[a]\nb = 1\n[a.b.c]\n", "line 3: 'a.b' is a key with a value, not a table");
	expect_error("[a.b]\n[a]\nb = 1\n", "line 3: key 'b' is already a table ([a.b])");
	expect_error("[a.]\n", "line 1: a key or table name was expected");
	expect_error("[a.b\n", "line 1: ']' expected");
	expect_error("[a b]\n", "line 1: ']' expected");
	expect_error("[\"a\nb\"]\n", "line 1: unterminated string");
	expect_error("[a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.A.B.C.D.E.F.G]\n",
	             "line 1: a table name of more than 32 parts");
}

/* write a value (and a table name), read them back: byte for byte */
static void round_trip_one(const char *value)
{
	gcmsg_buf b = GCMSG_BUF_INIT(1 << 20);
	gcmsg__toml_doc doc;
	char err[256];

	assert_int_equal(gcmsg__buf_puts(&b, "v = "), 0);
	assert_int_equal(gcmsg__toml_write_string(&b, value), 0);
	assert_int_equal(gcmsg__buf_puts(&b, "\n["), 0);
	assert_int_equal(gcmsg__toml_write_key(&b, value), 0);
	assert_int_equal(gcmsg__buf_puts(&b, "]\n"), 0);
	if (gcmsg__toml_parse(&doc, b.ptr, b.len, err, sizeof(err)) != 0)
		fail_msg("cannot read back %s: %s", b.ptr, err);
	assert_string_equal(gcmsg__toml_get(&doc, "", "v")->str, value);
	assert_int_equal(doc.ntables, 2);
	assert_string_equal(doc.tables[1].path[0], value);
	gcmsg__toml_free(&doc);
	gcmsg__buf_dispose(&b);
}

static void writer_round_trips(void **state)
{
	static const char *const nasty[] = {
		"",
		"plain",
		"\n",
		"\n\nleading newlines",
		"quotes \" and \"\" and \"\"\" and \"\"\"\" end\"",
		"\"",
		"\"\"",
		"\"\"\"",
		"line\n\"\"\"\nmore\"\n\"",
		"back\\slash\\\nline-ending backslash \\\n  indented",
		"crlf\r\nline\r\nlone cr\r",
		"\r\n",
		"tabs\there\t\n\tand there",
		"trailing spaces   \n   \n",
		"unicode \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xe2\x80\xa8 sep",
		"controls \x01\x08\x0b\x0c\x1b\x1f\x7f end",
		"controls on a line\n\x01\x08\x0b\x0c\x1b\x1f\x7f end",
		"'''literal''' and ''' \n'''",
		"# not a comment\n[not.a.table]\nkey = \"value\"\n",
		"ends with backslash\\",
		"ends with newline and quote\n\"",
		"ends with newline and backslash\n\\",
		"Hi {{CUSTOMER_NAME}}, this is {{AGENT_NAME}}.\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++)
		round_trip_one(nasty[i]);
}

static void writer_output(void **state)
{
	gcmsg_buf b = GCMSG_BUF_INIT(4096);
	const char *path[] = { "responses", "Escalation notice", "substitutions", "Case\"Number" };

	(void)state;
	assert_int_equal(gcmsg__toml_write_key(&b, "bare-key_1"), 0);
	assert_int_equal(gcmsg__buf_puts(&b, " "), 0);
	assert_int_equal(gcmsg__toml_write_key(&b, ""), 0);
	assert_int_equal(gcmsg__buf_puts(&b, " "), 0);
	assert_int_equal(gcmsg__toml_write_string(&b, "tab\tq\"\x01"), 0);
	assert_int_equal(gcmsg__buf_puts(&b, " "), 0);
	assert_int_equal(gcmsg__toml_write_string(&b, "a\n\"\"b\"\r"), 0);
	assert_int_equal(gcmsg__buf_puts(&b, "\n"), 0);
	assert_int_equal(gcmsg__toml_write_header(&b, path, 4), 0);
	assert_string_equal(b.ptr, "bare-key_1 \"\" \"tab\\tq\\\"\\u0001\" \"\"\"\na\n\\\"\"b\"\\r\"\"\"\n"
	                           "[responses.\"Escalation notice\".substitutions.\"Case\\\"Number\"]\n");
	/* invalid UTF-8 cannot be written */
	assert_int_equal(gcmsg__toml_write_string(&b, "bad \xff"), -1);
	assert_int_equal(gcmsg__toml_write_key(&b, "\xc3"), -1);
	assert_true(gcmsg__toml_is_bare("A-z_0"));
	assert_false(gcmsg__toml_is_bare("a.b"));
	assert_false(gcmsg__toml_is_bare(""));
	gcmsg__buf_dispose(&b);
}

static void utf8_validation(void **state)
{
	(void)state;
	assert_true(gcmsg__toml_utf8_valid("", 0));
	assert_true(gcmsg__toml_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 14));
	assert_false(gcmsg__toml_utf8_valid("\xc3", 1));
	assert_false(gcmsg__toml_utf8_valid("\xc1\xbf", 2));         /* overlong */
	assert_false(gcmsg__toml_utf8_valid("\xe0\x9f\xbf", 3));     /* overlong */
	assert_false(gcmsg__toml_utf8_valid("\xed\xbf\xbf", 3));     /* surrogate */
	assert_false(gcmsg__toml_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	assert_false(gcmsg__toml_utf8_valid("\x80", 1));
}

static void arrays_of_strings(void **state)
{
	gcmsg__toml_doc doc;
	char err[256];
	const gcmsg__toml_entry *e;
	static const char text[] =
		"[t]\n"
		"one = [\"a\", 'b\\c']\n"
		"empty = []\n"
		"multi = [\n"
		"  \"image/jpeg\",   # a comment\n"
		"\n"
		"  'image/png',\r\n"
		"]\n"
		"after = 1\n"
		"ml = [\"\"\"\nx\ny\"\"\"]\n";

	(void)state;
	assert_int_equal(gcmsg__toml_parse_ex(&doc, text, sizeof(text) - 1, GCMSG__TOML_ARRAYS, err, sizeof(err)), 0);
	e = gcmsg__toml_get(&doc, "t", "one");
	assert_non_null(e);
	assert_int_equal(e->type, GCMSG_TOML_ARRAY);
	assert_int_equal(e->narr, 2);
	assert_string_equal(e->arr[0], "a");
	assert_string_equal(e->arr[1], "b\\c");
	e = gcmsg__toml_get(&doc, "t", "empty");
	assert_int_equal(e->type, GCMSG_TOML_ARRAY);
	assert_int_equal(e->narr, 0);
	e = gcmsg__toml_get(&doc, "t", "multi");
	assert_int_equal(e->line, 4);
	assert_int_equal(e->narr, 2);
	assert_string_equal(e->arr[1], "image/png");
	e = gcmsg__toml_get(&doc, "t", "after");
	assert_int_equal(e->line, 9); /* lines inside the array were counted */
	e = gcmsg__toml_get(&doc, "t", "ml");
	assert_int_equal(e->narr, 1);
	assert_string_equal(e->arr[0], "x\ny");
	gcmsg__toml_free(&doc);

	/* without the flag, arrays stay refused */
	assert_int_equal(parse(&doc, "x = [\"a\"]\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 1: bad value"));
}

static void expect_array_error(const char *text, const char *want)
{
	gcmsg__toml_doc doc;
	char err[256];

	assert_int_equal(gcmsg__toml_parse_ex(&doc, text, strlen(text), GCMSG__TOML_ARRAYS, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s' for input '%s'", err, want, text);
	assert_int_equal(doc.count, 0);
}

static void bad_arrays(void **state)
{
	(void)state;
	expect_array_error("x = [1, 2]\n", "line 1: arrays hold only strings");
	expect_array_error("x = [\"a\", true]\n", "line 1: arrays hold only strings");
	expect_array_error("x = [[\"a\"]]\n", "line 1: arrays hold only strings");
	expect_array_error("x = [,]\n", "line 1: an array element was expected before ','");
	expect_array_error("x = [\"a\",,]\n", "line 1: an array element was expected");
	expect_array_error("x = [\"a\" \"b\"]\n", "line 1: ',' or ']' expected");
	expect_array_error("a = 1\nx = [\n\"a\",\n", "line 2: unterminated array");
	expect_array_error("x = [\"a\"\n", "line 1: unterminated array");
	expect_array_error("x = [\"a\"] junk\n", "line 1: unexpected characters after the value");
	expect_array_error("x = [\n\"a\",\n\"unterminated\n]\n", "line 3: unterminated string");
	expect_array_error("x = [\"a\"\r]\n", "line 1: carriage return");
	expect_array_error("x = [\"a\"]\nx = []\n", "line 2: key 'x' is defined twice");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_document),
		cmocka_unit_test(escapes_and_comments),
		cmocka_unit_test(bad_lines_name_their_line),
		cmocka_unit_test(nul_byte_is_an_error),
		cmocka_unit_test(multiline_basic_strings),
		cmocka_unit_test(multiline_literal_strings),
		cmocka_unit_test(dotted_tables),
		cmocka_unit_test(bad_extended_syntax),
		cmocka_unit_test(writer_round_trips),
		cmocka_unit_test(writer_output),
		cmocka_unit_test(utf8_validation),
		cmocka_unit_test(arrays_of_strings),
		cmocka_unit_test(bad_arrays),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
