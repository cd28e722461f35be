/* Unit tests: the bulk file parser (src/lib/bulk_file.c, include/gcmsg/bulk.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "gcmsg/gcmsg.h"

#define C1 "0b0e3f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
#define C2 "11111111-2222-4333-8444-555555555555"
#define C3 "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

static gcmsg_bulk_file *parse_d(const char *text, const gcmsg_bulk_defaults *d)
{
	gcmsg_bulk_file *f = NULL;
	int rc = gcmsg_bulk_file_parse(&f, text, strlen(text), "b.csv", d);

	assert_non_null(f);
	if (rc != GCMSG_OK)
		fail_msg("rc %d: %s\nfor:\n%s", rc, gcmsg_bulk_file_last_error(f)->explanation, text);
	assert_null(gcmsg_bulk_file_last_error(f)->explanation);
	return f;
}

/* every row is valid */
static gcmsg_bulk_file *parse_clean(const char *text, const gcmsg_bulk_defaults *d, size_t rows)
{
	gcmsg_bulk_file *f = parse_d(text, d);

	if (gcmsg_bulk_file_error_count(f))
		fail_msg("line %zu: %s\nfor:\n%s", gcmsg_bulk_file_error(f, 0)->line, gcmsg_bulk_file_error(f, 0)->message,
		         text);
	assert_int_equal(gcmsg_bulk_file_row_count(f), rows);
	return f;
}

/* the parse fails with EUSAGE, an explanation holding `want`, and nothing in the file */
static void expect_fatal_d(const char *text, size_t len, const gcmsg_bulk_defaults *d, const char *want)
{
	gcmsg_bulk_file *f = NULL;
	int rc = gcmsg_bulk_file_parse(&f, text, len, "b.csv", d);
	const gcmsg_error *e;

	assert_non_null(f);
	e = gcmsg_bulk_file_last_error(f);
	if (rc != GCMSG_EUSAGE || !e->explanation || !strstr(e->explanation, want))
		fail_msg("rc %d, error '%s', expected one holding '%s' for:\n%.300s", rc,
		         e->explanation ? e->explanation : "(none)", want, text);
	assert_int_equal(e->code, GCMSG_EUSAGE);
	assert_int_equal(gcmsg_bulk_file_row_count(f), 0);
	assert_int_equal(gcmsg_bulk_file_error_count(f), 0);
	assert_null(gcmsg_bulk_file_row(f, 0));
	gcmsg_bulk_file_free(f);
}

static void expect_fatal(const char *text, const char *want)
{
	expect_fatal_d(text, strlen(text), NULL, want);
}

/* exactly one row error, at `line`, whose message holds `want` (the other rows valid) */
static void expect_row_error_d(const char *text, const gcmsg_bulk_defaults *d, size_t line, const char *want)
{
	gcmsg_bulk_file *f = parse_d(text, d);
	const gcmsg_bulk_row_error *e;

	if (gcmsg_bulk_file_error_count(f) != 1)
		fail_msg("%zu row errors (first: %s), expected one holding '%s' for:\n%s", gcmsg_bulk_file_error_count(f),
		         gcmsg_bulk_file_error_count(f) ? gcmsg_bulk_file_error(f, 0)->message : "-", want, text);
	assert_int_equal(gcmsg_bulk_file_errors_kept(f), 1);
	e = gcmsg_bulk_file_error(f, 0);
	assert_non_null(e);
	if (e->line != line || !strstr(e->message, want))
		fail_msg("line %zu: '%s', expected line %zu: '%s' for:\n%s", e->line, e->message, line, want, text);
	assert_null(strchr(e->message, '\n'));
	assert_null(gcmsg_bulk_file_error(f, 1));
	gcmsg_bulk_file_free(f);
}

static void expect_row_error(const char *text, size_t line, const char *want)
{
	expect_row_error_d(text, NULL, line, want);
}

static const char *var_of(const gcmsg_bulk_row *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->var_count; i++)
		if (strcmp(r->var_names[i], name) == 0)
			return r->var_values[i];
	return NULL;
}

/* ---- CSV ---- */

static void csv_basics(void **state)
{
	gcmsg_bulk_file *f;
	const gcmsg_bulk_row *r;

	(void)state;
	f = parse_clean("conversation,text\n" C1 ",Hello there\n  0B0E3F3A-1C2D-4E5F-8A9B-0C1D2E3F4A5C ,Bye\n", NULL, 2);
	assert_string_equal(gcmsg_bulk_file_format(f), "csv");
	r = gcmsg_bulk_file_row(f, 0);
	assert_int_equal(r->line, 2);
	assert_string_equal(r->conversation_id, C1);
	assert_string_equal(r->text, "Hello there");
	assert_null(r->response);
	assert_null(r->library);
	assert_null(r->key);
	assert_int_equal(r->var_count, 0);
	r = gcmsg_bulk_file_row(f, 1);
	assert_int_equal(r->line, 3);
	assert_string_equal(r->conversation_id, "0b0e3f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5c"); /* trimmed, lower-cased */
	assert_string_equal(r->text, "Bye");
	assert_null(gcmsg_bulk_file_row(f, 2));
	gcmsg_bulk_file_free(f);

	/* response, library, key; the last line without a newline; response and library trimmed */
	f = parse_clean("conversation,response,library,key\n" C1 ", Welcome , Support ,k-1\n" C2 ",Bye,,k 2", NULL, 2);
	r = gcmsg_bulk_file_row(f, 0);
	assert_string_equal(r->response, "Welcome");
	assert_string_equal(r->library, "Support");
	assert_string_equal(r->key, "k-1");
	assert_null(r->text);
	r = gcmsg_bulk_file_row(f, 1);
	assert_int_equal(r->line, 3);
	assert_string_equal(r->response, "Bye");
	assert_null(r->library); /* empty field: absent */
	assert_string_equal(r->key, "k 2");
	gcmsg_bulk_file_free(f);

	/* a header and no rows is a valid, empty file */
	f = parse_clean("conversation,text\n", NULL, 0);
	assert_int_equal(gcmsg_bulk_file_error_count(f), 0);
	gcmsg_bulk_file_free(f);

	/* text kept verbatim (spaces around it) */
	f = parse_clean("conversation,text\n" C1 ",  two spaces  \n", NULL, 1);
	assert_string_equal(gcmsg_bulk_file_row(f, 0)->text, "  two spaces  ");
	gcmsg_bulk_file_free(f);
}

static void csv_quoting(void **state)
{
	gcmsg_bulk_file *f;
	const gcmsg_bulk_row *r;

	(void)state;
	f = parse_clean("conversation,text,key\n"
	                "\"" C1 "\",\"Hello, world\",a\n"                    /* line 2 */
	                C2 ",\"She said \"\"hi\"\"\",b\n"                     /* line 3 */
	                C3 ",\"line one\nline two\r\nline three\",c\n"        /* lines 4-6 */
	                C1 ",\"\"\"quoted\"\"\",d\n"                          /* line 7 */
	                C1 ",\"a\nb\",\"e\"",                                 /* lines 8-9, no final newline */
	                NULL, 5);
	r = gcmsg_bulk_file_row(f, 0);
	assert_int_equal(r->line, 2);
	assert_string_equal(r->conversation_id, C1);
	assert_string_equal(r->text, "Hello, world");
	r = gcmsg_bulk_file_row(f, 1);
	assert_int_equal(r->line, 3);
	assert_string_equal(r->text, "She said \"hi\"");
	r = gcmsg_bulk_file_row(f, 2);
	assert_int_equal(r->line, 4);
	assert_string_equal(r->text, "line one\nline two\r\nline three");
	r = gcmsg_bulk_file_row(f, 3);
	assert_int_equal(r->line, 7); /* the quoted line breaks counted */
	assert_string_equal(r->text, "\"quoted\"");
	r = gcmsg_bulk_file_row(f, 4);
	assert_int_equal(r->line, 8);
	assert_string_equal(r->text, "a\nb");
	assert_string_equal(r->key, "e");
	gcmsg_bulk_file_free(f);

	/* a quoted empty field is absent like an empty one */
	f = parse_clean("conversation,text,key\n" C1 ",hi,\"\"\n", NULL, 1);
	assert_null(gcmsg_bulk_file_row(f, 0)->key);
	gcmsg_bulk_file_free(f);

	/* an error after a multi-line field names the right line */
	expect_row_error("conversation,text\n" C1 ",\"a\n\nb\"\nnot-a-uuid,x\n", 5, "conversation: not a UUID");
}

static void csv_crlf_bom_blank(void **state)
{
	gcmsg_bulk_file *f;

	(void)state;
	f = parse_clean("\xEF\xBB\xBF"
	                "conversation,text\r\n" C1 ",one\r\n\r\n   \r\n" C2 ",two\r\n\t\r\n",
	                NULL, 2);
	assert_string_equal(gcmsg_bulk_file_format(f), "csv");
	assert_int_equal(gcmsg_bulk_file_row(f, 0)->line, 2);
	assert_string_equal(gcmsg_bulk_file_row(f, 0)->text, "one");
	assert_int_equal(gcmsg_bulk_file_row(f, 1)->line, 5);
	assert_string_equal(gcmsg_bulk_file_row(f, 1)->text, "two");
	gcmsg_bulk_file_free(f);

	/* blank lines before the header; the BOM and the header's line counted */
	f = parse_clean("\xEF\xBB\xBF\n\n" "conversation,text\n\n" C1 ",one\n", NULL, 1);
	assert_int_equal(gcmsg_bulk_file_row(f, 0)->line, 5);
	gcmsg_bulk_file_free(f);

	/* a lone CR is a line break too (classic Mac) */
	f = parse_clean("conversation,text\r" C1 ",one\r" C2 ",two", NULL, 2);
	assert_int_equal(gcmsg_bulk_file_row(f, 1)->line, 3);
	assert_string_equal(gcmsg_bulk_file_row(f, 1)->text, "two");
	gcmsg_bulk_file_free(f);

	/* a single-column file: blank lines still skipped */
	f = parse_d("conversation\n" C1 "\n\n" C2 "\n", NULL);
	assert_int_equal(gcmsg_bulk_file_row_count(f), 0);
	assert_int_equal(gcmsg_bulk_file_error_count(f), 2); /* no text and no response */
	assert_int_equal(gcmsg_bulk_file_error(f, 1)->line, 4);
	gcmsg_bulk_file_free(f);
}

static void csv_header_aliases_and_case(void **state)
{
	static const char *const headers[] = {
		" Conversation_ID ,RESPONSE,Library,Idempotency_Key",
		"conversationId,response_id,LIBRARY,key",
		"CONVERSATIONID,ResponseId,library_id,idempotencyKey",
		"\"conversation\",\"response\",\"libraryId\",\"KEY\"",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		char text[512];
		gcmsg_bulk_file *f;
		const gcmsg_bulk_row *r;
		snprintf(text, sizeof(text), "%s\n" C1 ",Welcome,Support,k1\n", headers[i]);
		f = parse_clean(text, NULL, 1);
		r = gcmsg_bulk_file_row(f, 0);
		assert_string_equal(r->conversation_id, C1);
		assert_string_equal(r->response, "Welcome");
		assert_string_equal(r->library, "Support");
		assert_string_equal(r->key, "k1");
		assert_int_equal(r->var_count, 0);
		gcmsg_bulk_file_free(f);
	}
}

static void csv_variables(void **state)
{
	gcmsg_bulk_file *f;
	const gcmsg_bulk_row *r;

	(void)state;
	f = parse_clean("conversation,response,var.first_name,Ticket,VAR.order.id,zone-1\n"
	                C1 ",Welcome,Jane,T-1,42,eu\n"
	                C2 ",Welcome,,T-2,,\n",
	                NULL, 2);
	r = gcmsg_bulk_file_row(f, 0);
	assert_int_equal(r->var_count, 4);
	/* listed by name (bytes) */
	assert_string_equal(r->var_names[0], "Ticket");
	assert_string_equal(r->var_names[1], "first_name");
	assert_string_equal(r->var_names[2], "order.id");
	assert_string_equal(r->var_names[3], "zone-1");
	assert_string_equal(var_of(r, "first_name"), "Jane");
	assert_string_equal(var_of(r, "Ticket"), "T-1");
	assert_string_equal(var_of(r, "order.id"), "42");
	assert_string_equal(var_of(r, "zone-1"), "eu");
	r = gcmsg_bulk_file_row(f, 1);
	assert_int_equal(r->var_count, 1); /* empty fields are absent */
	assert_string_equal(var_of(r, "Ticket"), "T-2");
	gcmsg_bulk_file_free(f);

	/* case matters for variables (placeholders are case-sensitive) */
	f = parse_clean("conversation,text,name,Name\n" C1 ",hi,a,b\n", NULL, 1);
	assert_string_equal(var_of(gcmsg_bulk_file_row(f, 0), "name"), "a");
	assert_string_equal(var_of(gcmsg_bulk_file_row(f, 0), "Name"), "b");
	gcmsg_bulk_file_free(f);

	/* values are verbatim: spaces, quotes, line breaks */
	f = parse_clean("conversation,text,v\n" C1 ",hi,\" x \"\"y\"\"\nz \"\n", NULL, 1);
	assert_string_equal(var_of(gcmsg_bulk_file_row(f, 0), "v"), " x \"y\"\nz ");
	gcmsg_bulk_file_free(f);
}

static void defaults(void **state)
{
	gcmsg_bulk_defaults d = GCMSG_BULK_DEFAULTS_INIT;
	const char *names[] = { "region", "agent" };
	const char *values[] = { "EU", "Bot" };
	gcmsg_bulk_file *f;
	const gcmsg_bulk_row *r;

	(void)state;
	/* a default text; a row's own response replaces it, as does its own text */
	d.text = "Default text";
	f = parse_clean("conversation,text,response\n" C1 ",,\n" C2 ",Own,\n" C3 ",,Welcome\n", &d, 3);
	r = gcmsg_bulk_file_row(f, 0);
	assert_string_equal(r->text, "Default text");
	assert_null(r->response);
	r = gcmsg_bulk_file_row(f, 1);
	assert_string_equal(r->text, "Own");
	r = gcmsg_bulk_file_row(f, 2);
	assert_null(r->text);
	assert_string_equal(r->response, "Welcome");
	assert_null(r->library);
	gcmsg_bulk_file_free(f);

	/* a default response and library; a row's text replaces the response (and the library is not used) */
	d.text = NULL;
	d.response = "Welcome";
	d.library = "Support";
	f = parse_clean("conversation,text,library\n" C1 ",,\n" C2 ",Own text,\n" C3 ",,Sales\n", &d, 3);
	r = gcmsg_bulk_file_row(f, 0);
	assert_string_equal(r->response, "Welcome");
	assert_string_equal(r->library, "Support");
	r = gcmsg_bulk_file_row(f, 1);
	assert_string_equal(r->text, "Own text");
	assert_null(r->response);
	assert_null(r->library);
	r = gcmsg_bulk_file_row(f, 2);
	assert_string_equal(r->response, "Welcome");
	assert_string_equal(r->library, "Sales");
	/* the defaults' strings are shared, not copied per row */
	assert_ptr_equal(gcmsg_bulk_file_row(f, 0)->response, gcmsg_bulk_file_row(f, 2)->response);
	gcmsg_bulk_file_free(f);

	/* default variables in every row; a row's own value wins */
	d.var_count = 2;
	d.var_names = names;
	d.var_values = values;
	f = parse_clean("conversation,var.region,name\n" C1 ",,Jane\n" C2 ",US,\n" C3 ",,\n", &d, 3);
	r = gcmsg_bulk_file_row(f, 0);
	assert_int_equal(r->var_count, 3);
	assert_string_equal(r->var_names[0], "agent");
	assert_string_equal(r->var_names[1], "name");
	assert_string_equal(r->var_names[2], "region");
	assert_string_equal(var_of(r, "region"), "EU");
	assert_string_equal(var_of(r, "agent"), "Bot");
	assert_string_equal(var_of(r, "name"), "Jane");
	r = gcmsg_bulk_file_row(f, 1);
	assert_int_equal(r->var_count, 2);
	assert_string_equal(var_of(r, "region"), "US");
	assert_string_equal(var_of(r, "agent"), "Bot");
	r = gcmsg_bulk_file_row(f, 2);
	assert_int_equal(r->var_count, 2);
	assert_string_equal(var_of(r, "region"), "EU");
	gcmsg_bulk_file_free(f);

	/* a row giving both, with the defaults, is still an error; a library with its own text too */
	d.var_count = 0;
	expect_row_error_d("conversation,text,response\n" C1 ",a,b\n", &d, 2,
	                   "text and response: both given (a row sends a text or a response, not both)");
	expect_row_error_d("conversation,text,library\n" C1 ",a,Sales\n", &d, 2,
	                   "library: given with a text (a library is where a response is looked up)");

	/* the defaults themselves */
	d.text = "x";
	expect_fatal_d("conversation\n" C1 "\n", 50, &d, "bulk defaults: both a response and a text");
	d.text = NULL;
	d.version = 99;
	expect_fatal_d("conversation\n", 13, &d, "bulk defaults: version 99; this library knows version 1");
	d.version = GCMSG_BULK_DEFAULTS_VERSION;
	{
		const char *bad_names[] = { "ok", "not ok" };
		const char *dup_names[] = { "x", "x" };
		d.var_count = 2;
		d.var_names = bad_names;
		expect_fatal_d("conversation\n", 13, &d, "bulk defaults: \"not ok\" is not a variable name");
		d.var_names = dup_names;
		expect_fatal_d("conversation\n", 13, &d, "bulk defaults: the variable x is given twice");
		d.var_values = NULL;
		expect_fatal_d("conversation\n", 13, &d, "bulk defaults: var_count is 2 but var_names or var_values is NULL");
	}
}

static void csv_row_errors(void **state)
{
	char text[1024], longkey[200];

	(void)state;
	expect_row_error("conversation,text\n" C1 ",a,b\n", 2, "3 fields, the header has 2");
	expect_row_error("conversation,text,key,response\n" C1 ",a,b,c,d\n", 2, "5 fields, the header has 4");
	expect_row_error("conversation,text\n" C1 "\n", 2, "1 field, the header has 2");
	expect_row_error("conversation,text\n,hello\n", 2, "conversation: missing");
	expect_row_error("conversation_id,text\n   ,hello\n", 2, "conversation_id: missing");
	expect_row_error("conversation,text\n1234,hello\n", 2,
	                 "conversation: not a UUID (8-4-4-4-12 hex digits): \"1234\"");
	expect_row_error("conversation,text\n0b0e3f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5g,hello\n", 2, "not a UUID");
	expect_row_error("conversation,text\n0b0e3f3a1c2d-4e5f-8a9b-0c1d2e3f4a5bb,hello\n", 2, "not a UUID");
	expect_row_error("conversation,Text,Response_Id\n" C1 ",a,b\n", 2,
	                 "Text and Response_Id: both given (a row sends a text or a response, not both)");
	expect_row_error("conversation,text,response\n" C1 ",,\n", 2,
	                 "no text and no response (give one in the row, or a default for every row)");
	expect_row_error("conversation,library\n" C1 ",Support\n", 2, "no text and no response");
	expect_row_error("conversation,text,library\n" C1 ",hi,Support\n", 2, "library: given with a text");
	expect_row_error("conversation,text\n" C1 ",\"  \n \"\n", 2, "text: blank (only spaces and line breaks)");
	/* keys */
	memset(longkey, 'k', 161);
	longkey[161] = '\0';
	snprintf(text, sizeof(text), "conversation,text,key\n" C1 ",hi,%s\n", longkey);
	expect_row_error(text, 2, "key: 161 characters, at most 160");
	longkey[160] = '\0';
	snprintf(text, sizeof(text), "conversation,text,key\n" C1 ",hi,%s\n", longkey);
	gcmsg_bulk_file_free(parse_clean(text, NULL, 1));
	expect_row_error("conversation,text,key\n" C1 ",hi,a\tb\n", 2, "key: byte 0x09 at character 2 is not printable ASCII");
	expect_row_error("conversation,text,key\n" C1 ",hi,caf\xC3\xA9\n", 2,
	                 "key: byte 0xC3 at character 4 is not printable ASCII");
	expect_row_error("conversation,text,idempotency_key\n" C1 ",hi,k1\n" C2 ",hi,k2\n" C3 ",hi, k1 \n", 4,
	                 "idempotency_key: \"k1\" is already the key of line 2");
	/* the same message twice without keys; with keys, or different, both are fine */
	expect_row_error("conversation,text\n" C1 ",hi\n" C2 ",hi\n" C1 ",hi\n", 4,
	                 "the same message as line 2; give each row its own key to send both");
	expect_row_error("conversation,response,library,v\n" C1 ",R,L,1\n" C1 ",R,L,1\n", 3, "the same message as line 2");
	gcmsg_bulk_file_free(parse_clean("conversation,text,key\n" C1 ",hi,a\n" C1 ",hi,b\n" C1 ",hi,\n", NULL, 3));
	gcmsg_bulk_file_free(parse_clean("conversation,response,library,v\n" C1 ",R,L,1\n" C1 ",R,L,2\n" C1 ",R,M,1\n"
	                                 C1 ",R,,1\n" C1 ",S,L,1\n" C1 ",R,L,\n",
	                                 NULL, 6));
	/* UTF-8 and NUL bytes, naming the column */
	expect_row_error("conversation,text\n" C1 ",caf\xE9\n", 2, "text: not valid UTF-8 (byte 4)");
	expect_row_error("conversation,text,var.name\n" C1 ",hi,\xC0\xAF\n", 2, "var.name: not valid UTF-8 (byte 1)");
	expect_row_error("conversation,response\n" C1 ",\xED\xA0\x80x\n", 2, "response: not valid UTF-8 (byte 1)");
	{
		static const char nul_row[] = "conversation,text\n" C1 ",a\0b\n";
		gcmsg_bulk_file *f = NULL;
		assert_int_equal(gcmsg_bulk_file_parse(&f, nul_row, sizeof(nul_row) - 1, "b.csv", NULL), GCMSG_OK);
		assert_int_equal(gcmsg_bulk_file_error_count(f), 1);
		assert_string_equal(gcmsg_bulk_file_error(f, 0)->message, "text: a NUL byte (byte 2)");
		gcmsg_bulk_file_free(f);
	}
	/* quoting mistakes */
	expect_row_error("conversation,text\n" C1 ",5\" screen\n", 2,
	                 "text: a quote inside an unquoted field (quote the whole field and double the quote)");
	expect_row_error("conversation,text\n" C1 ",\"a\"b\n", 2, "text: characters after the closing quote");
	/* every problem of a row in one message */
	expect_row_error("conversation,text,response,key\nnope,a,b,\x01\n", 2,
	                 "conversation: not a UUID (8-4-4-4-12 hex digits): \"nope\"; text and response: both given "
	                 "(a row sends a text or a response, not both); key: byte 0x01 at character 1 is not printable ASCII");
	/* too many variables: the row's own, and with the defaults' */
	{
		char hdr[4096], row[4096];
		size_t o = 0, p = 0, i;
		const char *dn[] = { "zz" };
		const char *dv[] = { "1" };
		gcmsg_bulk_defaults d = GCMSG_BULK_DEFAULTS_INIT;
		char *buf;
		o += (size_t)snprintf(hdr + o, sizeof(hdr) - o, "conversation,text");
		p += (size_t)snprintf(row + p, sizeof(row) - p, C1 ",hi");
		for (i = 0; i < 65; i++) {
			o += (size_t)snprintf(hdr + o, sizeof(hdr) - o, ",v%zu", i);
			p += (size_t)snprintf(row + p, sizeof(row) - p, ",%zu", i);
		}
		buf = malloc(o + p + 64);
		assert_non_null(buf);
		sprintf(buf, "%s\n%s\n", hdr, row);
		expect_row_error(buf, 2, "65 variables, at most 64");
		/* 64 of its own is fine; one more from the defaults is not */
		sprintf(buf, "%s\n%s\n", hdr, row);
		*strrchr(buf, ',') = '\0';
		strcat(buf, ",\n"); /* v64 empty: absent */
		gcmsg_bulk_file_free(parse_clean(buf, NULL, 1));
		d.var_count = 1;
		d.var_names = dn;
		d.var_values = dv;
		expect_row_error_d(buf, &d, 2, "65 variables with the defaults', at most 64");
		free(buf);
	}
}

static void csv_fatal_errors(void **state)
{
	char *big;
	size_t i, n;
	gcmsg_bulk_file *f = NULL;

	(void)state;
	/* no conversation column: the file, line 1, the columns found */
	{
		const gcmsg_error *e;
		assert_int_equal(gcmsg_bulk_file_parse(&f, "id,text,Name\n1,2,3\n", 19, "list.csv", NULL), GCMSG_EUSAGE);
		e = gcmsg_bulk_file_last_error(f);
		assert_int_equal(e->code, GCMSG_EUSAGE);
		assert_string_equal(e->explanation, "list.csv:1: no conversation column (the columns are \"id\", \"text\", \"Name\")");
		assert_non_null(e->fix);
		assert_string_equal(gcmsg_bulk_file_format(f), "csv");
		gcmsg_bulk_file_free(f);
	}
	expect_fatal("\n\ntext\n", "b.csv:3: no conversation column (the columns are \"text\")");
	/* before any other complaint about the header */
	expect_fatal("Name,first name,,x\"y\n", "b.csv:1: no conversation column (the columns are \"Name\", \"first name\", "
	                                    "\"\"; column 4 is not a column name: is the header line missing?)");
	expect_fatal("conversation,conversation_id\n", "b.csv:1: column 2 (conversation_id) repeats column 1 (conversation)");
	expect_fatal("conversation,text,TEXT\n", "b.csv:1: column 3 (TEXT) repeats column 2 (text)");
	expect_fatal("conversation,Key,idempotency_key\n", "column 3 (idempotency_key) repeats column 2 (Key)");
	expect_fatal("conversation,var.x,x\n", "b.csv:1: column 3 (x) repeats column 2 (var.x): the variable x");
	expect_fatal("conversation,,text\n", "b.csv:1: column 2 has no name");
	expect_fatal("conversation,text,\n", "b.csv:1: column 3 has no name");
	expect_fatal("conversation,\"\",text\n", "b.csv:1: column 2 has no name");
	expect_fatal("conversation, \t ,text\n", "b.csv:1: column 2 has no name");
	expect_fatal("conversation, \"\" ,text\n", "b.csv:1: column 2: a quote inside an unquoted name");
	expect_fatal("conversation,first name\n",
	             "b.csv:1: column 2 (\"first name\"): not a known column (conversation, response, library, text, key) "
	             "and \"first name\" is not a variable name (letters, digits, _, - and .)");
	expect_fatal("conversation,var.\n", "column 2 (var.): no variable name after \"var.\"");
	expect_fatal("conversation,var.a{b}\n", "\"a{b}\" is not a variable name");
	expect_fatal("conversation,na\xEFme\n", "b.csv:1: column 2: the name is not valid UTF-8 (byte 3)");
	expect_fatal("conversation,te\"xt\n", "column 2: a quote inside an unquoted name");
	/* an unclosed quote, on one line or several */
	expect_fatal("conversation,text\n" C1 ",\"abc", "b.csv:2: the quote that opens field 2 (text) is never closed");
	expect_fatal("conversation,text\n" C1 ",hi\n" C2 ",x,\"abc\n\ndef\n",
	             "b.csv:3: the quote that opens field 3 is never closed");
	expect_fatal("conversation,text\n" C1 ",hi\n" C2 ",\"abc\n\"\n" C3 ",\"x\n",
	             "b.csv:5: the quote that opens field 2 (text) is never closed");
	expect_fatal("conversation,text\n" C1 ",hi\n\"" C2 "\nx\",\"abc\n",
	             "b.csv:3: the quote that opens field 2 (text) on line 4 is never closed");
	expect_fatal("\"conversation,text\n", "b.csv:1: the quote that opens field 1 is never closed");
	/* empty; UTF-16 */
	expect_fatal("", "b.csv: empty (no header line and no rows)");
	expect_fatal("\xEF\xBB\xBF \r\n\t\n", "b.csv: empty");
	expect_fatal_d("\xFF\xFE" "c\0o\0", 6, NULL, "b.csv:1: UTF-16 text (save the file as UTF-8)");
	/* more columns than allowed */
	n = 300 * 8 + 32;
	big = malloc(n);
	assert_non_null(big);
	strcpy(big, "conversation");
	for (i = 1; i < 300; i++)
		sprintf(big + strlen(big), ",c%zu", i);
	strcat(big, "\n");
	expect_fatal(big, "b.csv:1: 300 columns, at most 256");
	free(big);
	/* a row longer than the limit, quoted or not */
	n = GCMSG_BULK_MAX_LINE + 200;
	big = malloc(n + 64);
	assert_non_null(big);
	strcpy(big, "conversation,text\n" C1 ",hi\n" C1 ",");
	i = strlen(big);
	memset(big + i, 'x', GCMSG_BULK_MAX_LINE);
	strcpy(big + i + GCMSG_BULK_MAX_LINE, "\n");
	expect_fatal(big, "b.csv:3: a row longer than 65536 bytes");
	big[i] = '"';
	expect_fatal(big, "b.csv:3: a row longer than 65536 bytes (the quoted field opened on line 3 is never closed?)");
	/* exactly at the limit is fine */
	strcpy(big, "conversation,text\n" C1 ",");
	i = strlen(big);
	memset(big + i, 'x', GCMSG_BULK_MAX_LINE - 37);
	strcpy(big + i + GCMSG_BULK_MAX_LINE - 37, "\n");
	gcmsg_bulk_file_free(parse_clean(big, NULL, 1));
	free(big);
}

static void limits_rows_and_bytes(void **state)
{
	size_t n = GCMSG_BULK_MAX_ROWS + 1, i, o;
	char *big;
	void *huge;
	gcmsg_bulk_file *f = NULL;

	(void)state;
	/* more rows than allowed: fatal, at the first row too many */
	big = malloc(13 + 2 * n + 1);
	assert_non_null(big);
	memcpy(big, "conversation\n", 13);
	o = 13;
	for (i = 0; i < n; i++) {
		big[o++] = 'x';
		big[o++] = '\n';
	}
	big[o] = '\0';
	expect_fatal_d(big, o, NULL, "b.csv:1000002: more than 1000000 rows");
	/* exactly the limit: every row read (here all refused) */
	assert_int_equal(gcmsg_bulk_file_parse(&f, big, o - 2, "b.csv", NULL), GCMSG_OK);
	assert_int_equal(gcmsg_bulk_file_error_count(f), GCMSG_BULK_MAX_ROWS);
	assert_int_equal(gcmsg_bulk_file_errors_kept(f), GCMSG_BULK_MAX_ERRORS);
	gcmsg_bulk_file_free(f);
	free(big);
	/* larger than the limit: refused before a byte is read (untouched, unreserved pages) */
	n = (size_t)GCMSG_BULK_MAX_BYTES + 1;
	huge = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(huge != MAP_FAILED);
	expect_fatal_d(huge, n, NULL, "b.csv: 268435457 bytes, larger than 256 MiB");
	munmap(huge, n);
}

static void error_cap(void **state)
{
	size_t n = 1500, i, o;
	char *text = malloc(64 + n * 64);
	gcmsg_bulk_file *f;

	(void)state;
	assert_non_null(text);
	o = (size_t)sprintf(text, "conversation,text\n");
	for (i = 0; i < n; i++) {
		o += (size_t)sprintf(text + o, "bad-%zu,hello\n", i);
		if (i % 2 == 0) /* valid rows in between */
			o += (size_t)sprintf(text + o, "%08zx-0000-4000-8000-000000000000,hello\n", i);
	}
	f = parse_d(text, NULL);
	assert_int_equal(gcmsg_bulk_file_error_count(f), 1500);
	assert_int_equal(gcmsg_bulk_file_errors_kept(f), 1000);
	assert_int_equal(gcmsg_bulk_file_row_count(f), 750);
	assert_int_equal(gcmsg_bulk_file_error(f, 0)->line, 2);
	assert_string_equal(gcmsg_bulk_file_error(f, 0)->message,
	                    "conversation: not a UUID (8-4-4-4-12 hex digits): \"bad-0\"");
	assert_int_equal(gcmsg_bulk_file_error(f, 1)->line, 4);
	assert_int_equal(gcmsg_bulk_file_error(f, 999)->line, 2 + 999 + 500); /* 999 bad and 500 good lines before it */
	assert_non_null(strstr(gcmsg_bulk_file_error(f, 999)->message, "\"bad-999\""));
	assert_null(gcmsg_bulk_file_error(f, 1000));
	assert_int_equal(gcmsg_bulk_file_row(f, 749)->line, 3 + 1498 + 749);
	gcmsg_bulk_file_free(f);
	free(text);
}

static void valid_and_invalid_rows(void **state)
{
	gcmsg_bulk_file *f;

	(void)state;
	f = parse_d("conversation,text,key\n" C1 ",one,k1\n"
	            "oops,two,k2\n" C2 ",three,k3\n" C3 ",four,k1\n" C3 ",five,k2\n",
	            NULL);
	assert_int_equal(gcmsg_bulk_file_row_count(f), 2);
	assert_int_equal(gcmsg_bulk_file_row(f, 0)->line, 2);
	assert_string_equal(gcmsg_bulk_file_row(f, 0)->text, "one");
	assert_int_equal(gcmsg_bulk_file_row(f, 1)->line, 4);
	assert_string_equal(gcmsg_bulk_file_row(f, 1)->text, "three");
	assert_int_equal(gcmsg_bulk_file_error_count(f), 3);
	assert_int_equal(gcmsg_bulk_file_error(f, 0)->line, 3);
	assert_int_equal(gcmsg_bulk_file_error(f, 1)->line, 5);
	assert_string_equal(gcmsg_bulk_file_error(f, 1)->message, "key: \"k1\" is already the key of line 2");
	/* a refused row's key is still taken: two rows cannot share it once the first is fixed */
	assert_int_equal(gcmsg_bulk_file_error(f, 2)->line, 6);
	assert_string_equal(gcmsg_bulk_file_error(f, 2)->message, "key: \"k2\" is already the key of line 3");
	gcmsg_bulk_file_free(f);
}

/* ---- JSON Lines ---- */

static void jsonl_basics(void **state)
{
	gcmsg_bulk_file *f;
	const gcmsg_bulk_row *r;

	(void)state;
	f = parse_clean("\xEF\xBB\xBF"
	                "{\"conversation\": \" " C1 " \", \"text\": \"Hello\\nthere\", \"key\": \"k1\"}\r\n"
	                "\r\n"
	                "  {\"conversation\": \"" C2 "\", \"response\": \" Welcome \", \"library\": \"Support\","
	                " \"vars\": {\"name\": \"Jane\", \"count\": 3, \"vip\": true, \"gone\": null, \"e\": \"\"}}\n"
	                "{\"conversation\": \"" C3 "\", \"text\": \"x\", \"response\": null, \"library\": null, \"vars\": null}",
	                NULL, 3);
	assert_string_equal(gcmsg_bulk_file_format(f), "jsonl");
	r = gcmsg_bulk_file_row(f, 0);
	assert_int_equal(r->line, 1);
	assert_string_equal(r->conversation_id, C1);
	assert_string_equal(r->text, "Hello\nthere");
	assert_string_equal(r->key, "k1");
	r = gcmsg_bulk_file_row(f, 1);
	assert_int_equal(r->line, 3);
	assert_string_equal(r->response, "Welcome");
	assert_string_equal(r->library, "Support");
	assert_null(r->text);
	assert_int_equal(r->var_count, 4);
	assert_string_equal(r->var_names[0], "count");
	assert_string_equal(r->var_values[0], "3");
	assert_string_equal(r->var_names[1], "e");
	assert_string_equal(r->var_values[1], "");
	assert_string_equal(var_of(r, "name"), "Jane");
	assert_string_equal(var_of(r, "vip"), "true");
	assert_null(var_of(r, "gone"));
	r = gcmsg_bulk_file_row(f, 2);
	assert_int_equal(r->line, 4);
	assert_string_equal(r->text, "x");
	gcmsg_bulk_file_free(f);

	/* defaults apply as in CSV */
	{
		gcmsg_bulk_defaults d = GCMSG_BULK_DEFAULTS_INIT;
		const char *names[] = { "name" };
		const char *values[] = { "Customer" };
		d.response = "Welcome";
		d.var_count = 1;
		d.var_names = names;
		d.var_values = values;
		f = parse_clean("{\"conversation\": \"" C1 "\"}\n{\"conversation\": \"" C2 "\", \"vars\": {\"name\": \"Jo\"}}\n",
		                &d, 2);
		assert_string_equal(gcmsg_bulk_file_row(f, 0)->response, "Welcome");
		assert_string_equal(var_of(gcmsg_bulk_file_row(f, 0), "name"), "Customer");
		assert_string_equal(var_of(gcmsg_bulk_file_row(f, 1), "name"), "Jo");
		gcmsg_bulk_file_free(f);
	}
	/* variables in another order are the same message */
	expect_row_error("{\"conversation\": \"" C1 "\", \"text\": \"t\", \"vars\": {\"a\": \"1\", \"b\": \"2\"}}\n"
	                 "{\"conversation\": \"" C1 "\", \"text\": \"t\", \"vars\": {\"b\": \"2\", \"a\": \"1\"}}\n",
	                 2, "the same message as line 1; give each row its own key to send both");
}

static void jsonl_errors(void **state)
{
	char *big;
	size_t i;

	(void)state;
#define J1 "{\"conversation\": \"" C1 "\", \"text\": \"ok\"}\n"
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\"\n", 2, "not valid JSON: ");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\"\n", 2, " at column ");
	expect_row_error(J1 "[1, 2]\n", 2, "not a JSON object (an array)");
	expect_row_error(J1 "\"text\"\n", 2, "not valid JSON");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\"} {}\n", 2, "not valid JSON");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"text\": \"y\"}\n", 2, "duplicate");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"colour\": \"red\"}\n", 2,
	                 "unknown member \"colour\" (the members are conversation, response, library, text, key and vars)");
	expect_row_error(J1 "{\"conversationId\": \"" C2 "\", \"text\": \"x\"}\n", 2,
	                 "unknown member \"conversationId\" (did you mean \"conversation\"?); conversation: missing");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"var.a\": \"1\"}\n", 2,
	                 "unknown member \"var.a\" (did you mean \"vars\"?)");
	expect_row_error(J1 "{\"conversation\": 12, \"text\": \"x\"}\n", 2, "conversation: not a string (an integer)");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": [\"x\"]}\n", 2, "text: not a string (an array)");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"key\": 5}\n", 2, "key: not a string (an integer)");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"vars\": [1]}\n", 2, "vars: not an object (an array)");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"vars\": {\"p\": 1.5}}\n", 2,
	                 "vars.p: a number (give a string)");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"vars\": {\"p\": {}}}\n", 2,
	                 "vars.p: an object (give a string)");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"vars\": {\"a b\": \"1\"}}\n", 2,
	                 "vars: \"a b\" is not a variable name (letters, digits, _, - and .)");
	expect_row_error(J1 "{\"conversation\": \"\", \"text\": \"x\"}\n", 2, "conversation: empty");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"\"}\n", 2, "text: empty");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"key\": \" \"}\n", 2, "key: empty");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"response\": \"\"}\n", 2, "response: empty");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\"}\n", 2, "no text and no response");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"a\", \"response\": \"b\"}\n", 2,
	                 "text and response: both given");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"key\": \"k\"}\n"
	                    "{\"conversation\": \"" C3 "\", \"text\": \"y\", \"key\": \"k\"}\n",
	                 3, "key: \"k\" is already the key of line 2");
	expect_row_error(J1 "{}\n", 2, "conversation: missing");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"caf\\u00e9 \\ud800\"}\n", 2, "not valid JSON");
	expect_row_error(J1 "{\"conversation\": \"" C2 "\", \"text\": \"a\xFF\"}\n", 2, "not valid JSON");
	/* too many variables */
	big = malloc(8192);
	assert_non_null(big);
	strcpy(big, J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"vars\": {");
	for (i = 0; i < 70; i++)
		sprintf(big + strlen(big), "%s\"v%zu\": \"x\"", i ? ", " : "", i);
	strcat(big, "}}\n");
	expect_row_error(big, 2, "70 variables, at most 64");
	free(big);
	/* a line too long: fatal */
	big = malloc(GCMSG_BULK_MAX_LINE + 512);
	assert_non_null(big);
	strcpy(big, J1 "{\"conversation\": \"" C2 "\", \"text\": \"");
	i = strlen(big);
	memset(big + i, 'x', GCMSG_BULK_MAX_LINE);
	strcpy(big + i + GCMSG_BULK_MAX_LINE, "\"}\n");
	expect_fatal(big, "b.csv:2: a line longer than 65536 bytes");
	free(big);
#undef J1
}

/* ---- volume ---- */

static void many_rows(void **state)
{
	size_t n = 100000, i, o = 0;
	char *text = malloc(64 + n * 192);
	gcmsg_bulk_file *f;
	const gcmsg_bulk_row *r;

	(void)state;
	assert_non_null(text);
	o += (size_t)sprintf(text, "conversation,response,library,key,var.n\n");
	for (i = 0; i < n; i++)
		o += (size_t)sprintf(text + o, "%08zx-0000-4000-8000-%012zx,Welcome,Support,,%zu\n", i, i % 7, i);
	f = parse_clean(text, NULL, n);
	for (i = 0; i < n; i += 9973) {
		char conv[40], num[24];
		r = gcmsg_bulk_file_row(f, i);
		snprintf(conv, sizeof(conv), "%08zx-0000-4000-8000-%012zx", i, i % 7);
		snprintf(num, sizeof(num), "%zu", i);
		assert_int_equal(r->line, i + 2);
		assert_string_equal(r->conversation_id, conv);
		assert_string_equal(r->response, "Welcome");
		assert_string_equal(var_of(r, "n"), num);
	}
	gcmsg_bulk_file_free(f);

	/* the same rows again: every one the same message as its first copy */
	memcpy(text + o, text + 40, o - 40);
	o += o - 40;
	text[o] = '\0';
	f = parse_d(text, NULL);
	assert_int_equal(gcmsg_bulk_file_row_count(f), n);
	assert_int_equal(gcmsg_bulk_file_error_count(f), n);
	assert_int_equal(gcmsg_bulk_file_error(f, 0)->line, n + 2);
	assert_string_equal(gcmsg_bulk_file_error(f, 0)->message,
	                    "the same message as line 2; give each row its own key to send both");
	gcmsg_bulk_file_free(f);

	/* JSON Lines, keyed */
	o = 0;
	for (i = 0; i < n; i++)
		o += (size_t)sprintf(text + o, "{\"conversation\":\"%08zx-0000-4000-8000-000000000001\",\"text\":\"t\",\"key\":\"k%zu\"}\n",
		                     i % 1000, i);
	f = parse_clean(text, NULL, n);
	assert_string_equal(gcmsg_bulk_file_row(f, n - 1)->key, "k99999");
	assert_int_equal(gcmsg_bulk_file_row(f, n - 1)->line, n);
	gcmsg_bulk_file_free(f);
	free(text);
}

/* ---- the API's edges ---- */

static void accessors_and_arguments(void **state)
{
	gcmsg_bulk_file *f = NULL;

	(void)state;
	assert_null(gcmsg_bulk_file_last_error(NULL));
	assert_null(gcmsg_bulk_file_format(NULL));
	assert_int_equal(gcmsg_bulk_file_row_count(NULL), 0);
	assert_null(gcmsg_bulk_file_row(NULL, 0));
	assert_int_equal(gcmsg_bulk_file_error_count(NULL), 0);
	assert_int_equal(gcmsg_bulk_file_errors_kept(NULL), 0);
	assert_null(gcmsg_bulk_file_error(NULL, 0));
	gcmsg_bulk_file_free(NULL);
	assert_int_equal(gcmsg_bulk_file_parse(NULL, "x", 1, NULL, NULL), GCMSG_EUSAGE);
	/* NULL data with a length */
	assert_int_equal(gcmsg_bulk_file_parse(&f, NULL, 5, NULL, NULL), GCMSG_EUSAGE);
	assert_non_null(f);
	assert_non_null(gcmsg_bulk_file_last_error(f)->explanation);
	gcmsg_bulk_file_free(f);
	/* NULL name: "-" */
	f = NULL;
	assert_int_equal(gcmsg_bulk_file_parse(&f, NULL, 0, NULL, NULL), GCMSG_EUSAGE);
	assert_string_equal(gcmsg_bulk_file_last_error(f)->explanation, "-: empty (no header line and no rows)");
	assert_null(gcmsg_bulk_file_format(f));
	gcmsg_bulk_file_free(f);
	/* out of range */
	f = parse_d("conversation,text\n" C1 ",hi\nx,y\n", NULL);
	assert_int_equal(gcmsg_bulk_file_row_count(f), 1);
	assert_non_null(gcmsg_bulk_file_row(f, 0));
	assert_null(gcmsg_bulk_file_row(f, 1));
	assert_null(gcmsg_bulk_file_row(f, (size_t)-1));
	assert_non_null(gcmsg_bulk_file_error(f, 0));
	assert_null(gcmsg_bulk_file_error(f, 1));
	assert_null(gcmsg_bulk_file_error(f, (size_t)-1));
	assert_int_equal(gcmsg_bulk_file_last_error(f)->code, GCMSG_OK);
	gcmsg_bulk_file_free(f);
}

/* ---- message text is PII: it never appears in an error ---- */

#define SECRET "078-05-1120"
#define J1 "{\"conversation\": \"" C1 "\", \"text\": \"ok\"}\n"

static void assert_secret_free(const char *what, const char *msg)
{
	if (msg && (strstr(msg, SECRET) || strstr(msg, "SSN") || strstr(msg, "Dear Ann")))
		fail_msg("%s shows the text: '%s'", what, msg);
}

/* parse; no message of the result (row errors, the last error and its fix) holds the secret */
static void expect_secret_free(const char *text, size_t len)
{
	gcmsg_bulk_file *f = NULL;
	const gcmsg_error *e;
	size_t i;

	(void)gcmsg_bulk_file_parse(&f, text, len, "b.csv", NULL);
	assert_non_null(f);
	e = gcmsg_bulk_file_last_error(f);
	assert_secret_free("the error", e->explanation);
	assert_secret_free("the fix", e->fix);
	for (i = 0; i < gcmsg_bulk_file_errors_kept(f); i++)
		assert_secret_free("a row error", gcmsg_bulk_file_error(f, i)->message);
	assert_true(e->explanation || gcmsg_bulk_file_error_count(f) > 0);
	gcmsg_bulk_file_free(f);
}

static void row_error_secret_free(const char *text, size_t len, const char *want)
{
	expect_secret_free(text, len);
	expect_row_error(text, 2, want);
}

static void fatal_secret_free(const char *text, const char *want)
{
	expect_secret_free(text, strlen(text));
	expect_fatal(text, want);
}

static void no_message_text_in_errors(void **state)
{
	static const char nul_row[] = J1 "{\"conversation\": \"" C2 "\", \"text\": \"SSN " SECRET "\\u0000\"}\n";
	static const char raw_nul[] = J1 "{\"conversation\": \"" C2 "\", \"text\": \"SSN " SECRET "\0\"}\n";
	static const char *const bad_json[] = {
		/* an invalid escape: jansson says near '"SSN 078-05-1120\q' */
		J1 "{\"conversation\": \"" C2 "\", \"text\": \"SSN " SECRET "\\q\"}\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\": \"SSN " SECRET "\\u12\"}\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\": \"SSN " SECRET "\\ud800\"}\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\": \"SSN " SECRET "\tx\"}\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\": \"SSN " SECRET "\xFF\"}\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\": \"SSN " SECRET "\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\": \"SSN " SECRET "\"\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\"} SSN " SECRET "\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\"} \"SSN " SECRET "\"\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\": SSN " SECRET "}\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\" \"SSN " SECRET "\"}\n",
		J1 "{\"conversation\": \"" C2 "\" \"text\": \"SSN " SECRET "\"}\n",
		J1 "{\"conversation\": \"" C2 "\", \"SSN " SECRET "\"}\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\": [\"SSN " SECRET "\"}\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"vars\": {\"n\": 99999999999999999999999}}\n",
		J1 "{\"conversation\": \"" C2 "\", \"text\": \"SSN " SECRET "\", \"text\": \"SSN " SECRET "\"}\n",
		J1 "SSN " SECRET "\n",
		J1 "\"SSN " SECRET "\"\n",
	};
	size_t i;

	(void)state;
	/* JSON Lines: a row jansson refuses is described in our words, with the column */
	row_error_secret_free(bad_json[0], strlen(bad_json[0]), "not valid JSON: a syntax error at column 83 (a missing");
	for (i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++)
		row_error_secret_free(bad_json[i], strlen(bad_json[i]), "not valid JSON");
	expect_row_error(bad_json[4], 2, "not valid JSON: not valid UTF-8");
	expect_row_error(bad_json[5], 2, "not valid JSON: the line ends before the object does");
	expect_row_error(bad_json[7], 2, "not valid JSON: more after the object at column 73 (one object per line)");
	expect_row_error(bad_json[14], 2, "not valid JSON: a number too large");
	expect_row_error(bad_json[15], 2, "not valid JSON: a duplicate member");
	row_error_secret_free(nul_row, strlen(nul_row), "not valid JSON: a string holds \\u0000");
	row_error_secret_free(raw_nul, sizeof(raw_nul) - 1, "not valid JSON");
	{
		static const char nul_key[] = J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"SSN\\u0000\": 1}\n";
		row_error_secret_free(nul_key, strlen(nul_key), "not valid JSON: a member name holds \\u0000");
	}
	/* a text in the conversation member or column: not shown */
	{
		static const char *const rows[] = {
			J1 "{\"conversation\": \"SSN " SECRET "\", \"text\": \"x\"}\n",
			J1 "{\"conversation\": \"Dear Ann,\", \"text\": \"x\"}\n",
			"conversation,text\n\"SSN " SECRET "\"," C1 "\n",
			"conversation,text\nDear Ann," C1 "\n",
		};
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			row_error_secret_free(rows[i], strlen(rows[i]),
			                      "conversation: not a UUID (8-4-4-4-12 hex digits); the value (");
		expect_row_error(rows[0], 2, "the value (15 bytes) is not shown: it does not look like an id");
	}
	/* an id that is not a UUID is shown, 40 bytes at most */
	expect_row_error("conversation,text\n{" C1 "},x\n", 2,
	                 "conversation: not a UUID (8-4-4-4-12 hex digits): \"{" C1 "}\"");
	expect_row_error("conversation,text\nurn:uuid:" C1 ",x\n", 2,
	                 "conversation: not a UUID (8-4-4-4-12 hex digits); the value (45 bytes) is not shown");
	/* keys: 40 bytes at most */
	expect_row_error("conversation,text,key\n" C1 ",a,k0123456789012345678901234567890123456789XYZ\n" C2
	                 ",b,k0123456789012345678901234567890123456789XYZ\n",
	                 3, "key: \"k012345678901234567890123456789012345678\"... is already the key of line 2");
	/* member names that are no names: not shown */
	{
		static const char a[] = J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"Dear Ann, SSN " SECRET "\": 1}\n";
		static const char b[] = J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"SSN " SECRET "\": 1}\n";
		static const char c[] = J1 "{\"conversation\": \"" C2 "\", \"text\": \"x\", \"vars\": {\"a\": \"1\", "
		                           "\"Dear Ann, SSN " SECRET "\": \"2\"}}\n";
		row_error_secret_free(a, strlen(a), "unknown member 3 (its name is not shown: it does not look like a name; "
		                                    "the members are conversation, response, library, text, key and vars)");
		row_error_secret_free(b, strlen(b), "unknown member 3 (its name is not shown");
		row_error_secret_free(c, strlen(c), "vars: member 2 is not a variable name (letters, digits, _, - and .; "
		                                    "the name is not shown: it does not look like one)");
	}
	/* CSV without a header line: the first row is read as the header, and not shown */
	fatal_secret_free(C1 ",SSN " SECRET "\n" C2 ",hello\n",
	                  "b.csv:1: no conversation column (column 1 holds a UUID: is the header line missing?)");
	fatal_secret_free("x," C1 ",\"Dear Ann, your code is 4411\"\n",
	                  "b.csv:1: no conversation column (column 2 holds a UUID: is the header line missing?)");
	fatal_secret_free("not-an-id,SSN " SECRET "\n",
	                  "b.csv:1: no conversation column (the columns are \"not-an-id\"; column 2 is not a column name: "
	                  "is the header line missing?)");
	fatal_secret_free("12,\"Dear Ann, see you\",SSN " SECRET "\n",
	                  "b.csv:1: no conversation column (the columns are \"12\"; columns 2 and 3 are not column names: "
	                  "is the header line missing?)");
	fatal_secret_free("\"Dear Ann, see you\"\n", "b.csv:1: no conversation column (column 1 is not a column name: "
	                                             "is the header line missing?)");
	{
		gcmsg_bulk_file *f = NULL;
		const char *t = C1 ",SSN " SECRET "\n";
		assert_int_equal(gcmsg_bulk_file_parse(&f, t, strlen(t), "b.csv", NULL), GCMSG_EUSAGE);
		assert_non_null(gcmsg_bulk_file_last_error(f)->fix);
		assert_non_null(strstr(gcmsg_bulk_file_last_error(f)->fix, "header line"));
		gcmsg_bulk_file_free(f);
	}
	/* a header with a conversation column and a name that is no name */
	fatal_secret_free("conversation,\"Dear Ann, SSN " SECRET "\"\n",
	                  "b.csv:1: column 2: not a known column (conversation, response, library, text, key) and not "
	                  "a variable name (letters, digits, _, - and .); the name is not shown");
	fatal_secret_free("conversation,\"var.Dear Ann, SSN " SECRET "\"\n", "b.csv:1: column 2: not a known column");
}
#undef J1

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csv_basics),
		cmocka_unit_test(csv_quoting),
		cmocka_unit_test(csv_crlf_bom_blank),
		cmocka_unit_test(csv_header_aliases_and_case),
		cmocka_unit_test(csv_variables),
		cmocka_unit_test(defaults),
		cmocka_unit_test(csv_row_errors),
		cmocka_unit_test(csv_fatal_errors),
		cmocka_unit_test(limits_rows_and_bytes),
		cmocka_unit_test(error_cap),
		cmocka_unit_test(valid_and_invalid_rows),
		cmocka_unit_test(jsonl_basics),
		cmocka_unit_test(jsonl_errors),
		cmocka_unit_test(no_message_text_in_errors),
		cmocka_unit_test(many_rows),
		cmocka_unit_test(accessors_and_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
