/*
 * libFuzzer target: the bulk file parser (gcmsg_bulk_file_parse) on arbitrary bytes, without
 * defaults and with a default text and variables.
 *
 * Checks: no crash or leak; GCMSG_OK, GCMSG_EUSAGE or (out of memory) GCMSG_ERROR; a failure
 * leaves no rows or row errors and an explanation that names the file; a success has a format,
 * and every row keeps the promises of bulk.h (a lower-case UUID, exactly one of text and
 * response, a library only with a response, a printable key of 1 to 160 characters, at most
 * GCMSG_BULK_MAX_VARS variables with valid, sorted, distinct names), rows and row errors in
 * file order, the kept errors one line each.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcmsg/gcmsg.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_bulk_file: %s\n%s\n", what, detail ? detail : "");
	abort();
}

static void check_row(const gcmsg_bulk_row *r, const gcmsg_bulk_defaults *d)
{
	size_t i;

	if (!r->conversation_id || strlen(r->conversation_id) != 36)
		die("conversation id not 36 characters", r->conversation_id);
	for (i = 0; i < 36; i++) {
		char c = r->conversation_id[i];
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			die("conversation id not a lower-case UUID", r->conversation_id);
	}
	if (!r->text == !r->response)
		die("not exactly one of text and response", r->conversation_id);
	if (r->library && !r->response)
		die("a library with a text", r->library);
	if ((r->text && !*r->text) || (r->response && !*r->response) || (r->library && !*r->library))
		die("an empty string", NULL);
	if (r->key) {
		size_t n = strlen(r->key);
		if (n < 1 || n > 160)
			die("key length", r->key);
		for (i = 0; i < n; i++)
			if ((unsigned char)r->key[i] < 0x20 || (unsigned char)r->key[i] > 0x7E)
				die("key not printable", r->key);
	}
	if (r->var_count > GCMSG_BULK_MAX_VARS)
		die("too many variables", NULL);
	if (r->var_count && (!r->var_names || !r->var_values))
		die("variable arrays missing", NULL);
	for (i = 0; i < r->var_count; i++) {
		if (!r->var_names[i] || !r->var_values[i])
			die("a NULL variable", NULL);
		if (!gcmsg__tpl_valid_id(r->var_names[i], strlen(r->var_names[i])))
			die("a variable name that is not a placeholder id", r->var_names[i]);
		if (i && strcmp(r->var_names[i - 1], r->var_names[i]) >= 0)
			die("variables not sorted or repeated", r->var_names[i]);
	}
	if (d && d->text && !r->response && !r->text)
		die("the default text not applied", NULL);
}

static void one(const uint8_t *data, size_t size, const gcmsg_bulk_defaults *d)
{
	gcmsg_bulk_file *f = NULL;
	int rc = gcmsg_bulk_file_parse(&f, (const char *)data, size, "fuzz.csv", d);
	const gcmsg_error *e;
	size_t i, n, kept, last = 0;

	if (!f) {
		if (rc != GCMSG_ERROR)
			die("no file without an out-of-memory", NULL);
		return;
	}
	e = gcmsg_bulk_file_last_error(f);
	if (!e)
		die("no last error", NULL);
	if (rc != GCMSG_OK) {
		if (rc != GCMSG_EUSAGE && rc != GCMSG_ERROR)
			die("unexpected return code", NULL);
		if (e->code != rc)
			die("last error code differs from the return code", e->explanation);
		if (rc == GCMSG_EUSAGE && (!e->explanation || strncmp(e->explanation, "fuzz.csv", 8) != 0))
			die("a fatal error that does not name the file", e->explanation);
		if (gcmsg_bulk_file_row_count(f) || gcmsg_bulk_file_error_count(f) || gcmsg_bulk_file_row(f, 0))
			die("rows kept after a fatal error", e->explanation);
		gcmsg_bulk_file_free(f);
		return;
	}
	if (e->explanation || e->code != GCMSG_OK)
		die("an explanation after a success", e->explanation);
	if (!gcmsg_bulk_file_format(f))
		die("no format after a success", NULL);
	n = gcmsg_bulk_file_row_count(f);
	for (i = 0; i < n; i++) {
		const gcmsg_bulk_row *r = gcmsg_bulk_file_row(f, i);
		if (!r || r->line <= last)
			die("rows out of order", NULL);
		last = r->line;
		check_row(r, d);
	}
	if (gcmsg_bulk_file_row(f, n))
		die("a row past the end", NULL);
	kept = gcmsg_bulk_file_errors_kept(f);
	if (kept > GCMSG_BULK_MAX_ERRORS || kept > gcmsg_bulk_file_error_count(f) ||
	    (gcmsg_bulk_file_error_count(f) <= GCMSG_BULK_MAX_ERRORS && kept != gcmsg_bulk_file_error_count(f)))
		die("errors kept and counted disagree", NULL);
	last = 0;
	for (i = 0; i < kept; i++) {
		const gcmsg_bulk_row_error *x = gcmsg_bulk_file_error(f, i);
		if (!x || !x->message || !*x->message || x->line <= last)
			die("row errors out of order or empty", NULL);
		if (strchr(x->message, '\n') || strchr(x->message, '\r') || strlen(x->message) > 1024)
			die("a row error that is not one short line", x->message);
		last = x->line;
	}
	if (gcmsg_bulk_file_error(f, kept))
		die("a row error past the end", NULL);
	gcmsg_bulk_file_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "name", "Ticket" };
	static const char *const values[] = { "Customer", "T-0" };
	gcmsg_bulk_defaults d = GCMSG_BULK_DEFAULTS_INIT;

	one(data, size, NULL);
	d.text = "Hello {{name}}";
	d.library = "Support";
	d.var_count = 2;
	d.var_names = names;
	d.var_values = values;
	one(data, size, &d);
	return 0;
}
