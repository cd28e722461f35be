/*
 * libFuzzer target: rendering with placeholders (gcmsg_render and gcmsg_render_text).
 *
 * Input: one flag byte, then NUL-separated parts: the template, then up to 8 `ID=value` vars.
 * Flags: 1 allow_missing, 2 text/html, 4 keep_html, 8 with a conversation and a caller,
 * 16 through a response (with substitution defaults), 32 the response is a MessagingTemplate.
 *
 * Checks: no crash; the codes and lists agree (strict: OK exactly when nothing is missing or
 * malformed; allow_missing: never EPOLICY); a value's source is right for vars; the output is
 * valid UTF-8 when the template and the values are; and, when nothing is malformed, an
 * independent naive reading of the grammar finds the same placeholders in the same order and
 * produces the same text (so no well-formed placeholder is left unfilled when none is missing).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VARS 8

static gcmsg_conversation *conversation;
static gcmsg_identity *caller;

static void setup(void)
{
	static const char doc[] =
		"{\"id\":\"c\",\"participants\":["
		"{\"purpose\":\"customer\",\"name\":\"Jane \\u00c5sa\",\"attributes\":{\"A\":\"attr-a\",\"CASE_ID\":\"C-1\","
		"\"EMPTY\":\"\",\"B\":\"{{A}}\"}},"
		"{\"purpose\":\"agent\",\"name\":\"Alice\",\"userId\":\"u-1\"}]}";
	json_t *root;
	char err[128];

	if (conversation)
		return;
	root = json_loads(doc, 0, NULL);
	if (!root || gcmsg__conversation_parse(&conversation, root, err, sizeof err) != GCMSG_OK)
		abort();
	json_decref(root);
	caller = gcmsg__identity_new(GCMSG_CALLER_USER, "u-1", "Alice User", NULL, NULL, 0, 0);
	if (!caller)
		abort();
}

static int valid_utf8(const char *s, size_t n)
{
	size_t i = 0, k;
	unsigned long cp;

	while (i < n) {
		k = gcmsg__utf8_decode(s + i, n - i, &cp);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

/* ---- a naive second reading of the grammar, for texts without malformed placeholders ---- */

typedef struct ref {
	char *out;
	size_t len, cap;
	const char *ids[1024];
	size_t idlen[1024], nids;
} ref;

static void ref_put(ref *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->out = realloc(r->out, r->cap);
		if (!r->out)
			abort();
	}
	memcpy(r->out + r->len, s, n);
	r->len += n;
	r->out[r->len] = '\0';
}

/* The library's value of an id (NULL: missing), by searching its placeholder list. */
static const char *value_of(const gcmsg_rendered *rd, const char *id, size_t n, int *found)
{
	size_t i;

	*found = 0;
	for (i = 0; i < gcmsg_rendered_placeholder_count(rd); i++) {
		const char *pid = gcmsg_rendered_placeholder_id(rd, i);
		if (strlen(pid) == n && memcmp(pid, id, n) == 0) {
			*found = 1;
			return gcmsg_rendered_placeholder_value(rd, i);
		}
	}
	return NULL;
}

static void reference(ref *r, const char *s, size_t n, const gcmsg_rendered *rd)
{
	size_t i = 0, run, j, k;

	while (i < n) {
		if (i + 1 < n && s[i] == '{' && s[i + 1] == '{') {
			for (run = i; run < n && s[run] == '{'; run++)
				;
			ref_put(r, s + i, run - 2 - i);
			i = run - 2;
			for (j = i + 2; j < n && gcmsg__tpl_id_char((unsigned char)s[j]); j++)
				;
			if (j > i + 2 && j + 1 < n && s[j] == '}' && s[j + 1] == '}') {
				int found, seen = 0;
				const char *v = value_of(rd, s + i + 2, j - i - 2, &found);
				if (!found)
					abort(); /* a placeholder the library did not report */
				for (k = 0; k < r->nids; k++)
					seen |= r->idlen[k] == j - i - 2 && memcmp(r->ids[k], s + i + 2, j - i - 2) == 0;
				if (!seen && r->nids < 1024) {
					r->ids[r->nids] = s + i + 2;
					r->idlen[r->nids++] = j - i - 2;
				}
				if (v)
					ref_put(r, v, strlen(v));
				else
					ref_put(r, s + i, j + 2 - i);
				i = j + 2;
				continue;
			}
			abort(); /* no malformed placeholder was reported, yet this "{{" opens none */
		}
		ref_put(r, s + i, 1);
		i++;
	}
}

static int is_trim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void compare(const gcmsg_rendered *rd, const char *src, int flatten)
{
	ref r;
	char *flat = NULL;
	const char *s = src, *text = gcmsg_rendered_text(rd);
	size_t a, z, i;

	memset(&r, 0, sizeof(r));
	if (flatten) {
		if (gcmsg_html_to_text(&flat, src, strlen(src)) != GCMSG_OK)
			abort();
		s = flat;
	}
	reference(&r, s, strlen(s), rd);
	ref_put(&r, "", 0);
	for (a = 0; a < r.len && is_trim(r.out[a]); a++)
		;
	for (z = r.len; z > a && is_trim(r.out[z - 1]); z--)
		;
	if (strlen(text) != z - a || memcmp(text, r.out + a, z - a) != 0)
		abort(); /* different text */
	if (r.nids != gcmsg_rendered_placeholder_count(rd))
		abort();
	for (i = 0; i < r.nids; i++) {
		const char *id = gcmsg_rendered_placeholder_id(rd, i);
		if (strlen(id) != r.idlen[i] || memcmp(id, r.ids[i], r.idlen[i]) != 0)
			abort(); /* a different order */
	}
	free(r.out);
	gcmsg_free(flat);
}

static void check(const gcmsg_rendered *rd, int rc, const gcmsg_render_options *o, const char *tpl,
                  int values_utf8, int flatten)
{
	size_t i, k, nph, nmiss, nmal;
	const char *text;

	if (!rd)
		abort();
	if (rc == GCMSG_EUSAGE) {
		if (!gcmsg_rendered_error(rd))
			abort();
		return;
	}
	if (rc != GCMSG_OK && rc != GCMSG_EPOLICY)
		abort();
	text = gcmsg_rendered_text(rd);
	nph = gcmsg_rendered_placeholder_count(rd);
	nmiss = gcmsg_rendered_missing_count(rd);
	nmal = gcmsg_rendered_malformed_count(rd);
	if (!text)
		abort();
	if (o->allow_missing && rc != GCMSG_OK)
		abort();
	if (!o->allow_missing && (rc == GCMSG_OK) != (nmiss == 0 && nmal == 0))
		abort();
	if (rc == GCMSG_EPOLICY && !gcmsg_rendered_error(rd))
		abort();
	if (rc == GCMSG_OK && gcmsg_rendered_error(rd))
		abort();
	if (o->allow_missing && (nmiss || nmal) && !gcmsg_rendered_warning(rd))
		abort();
	/* the missing list: the placeholders without value, in order */
	for (i = 0, k = 0; i < nph; i++) {
		const char *id = gcmsg_rendered_placeholder_id(rd, i);
		const char *v = gcmsg_rendered_placeholder_value(rd, i);
		gcmsg_value_source src = gcmsg_rendered_placeholder_source(rd, i);
		if (!id || !gcmsg__tpl_valid_id(id, strlen(id)) || (src == GCMSG_VALUE_MISSING) != (v == NULL))
			abort();
		if (src == GCMSG_VALUE_MISSING) {
			if (k >= nmiss || strcmp(gcmsg_rendered_missing(rd, k), id) != 0)
				abort();
			k++;
		}
		if (src == GCMSG_VALUE_VAR) {
			size_t j;
			for (j = 0; j < o->var_count && strcmp(o->vars[j].id, id) != 0; j++)
				;
			if (j == o->var_count || strcmp(o->vars[j].value, v) != 0)
				abort(); /* not the first var of that id */
		}
	}
	if (k != nmiss)
		abort();
	for (i = 0; i < nmal; i++)
		if (!gcmsg_rendered_malformed_text(rd, i) || strncmp(gcmsg_rendered_malformed_text(rd, i), "{{", 2) != 0 ||
		    !gcmsg_rendered_malformed_reason(rd, i))
			abort();
	if (values_utf8 && (flatten || valid_utf8(tpl, strlen(tpl))) && !valid_utf8(text, strlen(text)))
		abort();
	if (nmal == 0)
		compare(rd, tpl, flatten);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_var vars[MAX_VARS];
	char *buf, *parts[1 + MAX_VARS];
	size_t nparts = 0, i;
	unsigned flags;
	int rc, values_utf8 = 1, html;
	gcmsg_rendered *rd = NULL;

	if (size < 1)
		return 0;
	setup();
	flags = data[0];
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	parts[nparts++] = buf;
	for (i = 0; i < size - 1 && nparts < 1 + MAX_VARS; i++)
		if (buf[i] == '\0')
			parts[nparts++] = buf + i + 1;
	for (i = 1; i < nparts; i++) {
		char *eq = strchr(parts[i], '=');
		vars[i - 1].id = parts[i];
		vars[i - 1].value = "";
		if (eq) {
			*eq = '\0';
			vars[i - 1].value = eq + 1;
		}
		values_utf8 &= valid_utf8(vars[i - 1].value, strlen(vars[i - 1].value));
	}
	o.vars = vars;
	o.var_count = nparts - 1;
	o.allow_missing = flags & 1;
	o.keep_html = (flags & 4) != 0;
	html = (flags & 2) != 0;
	if (flags & 8) {
		o.conversation = conversation;
		o.caller = caller;
	}
	if (flags & 16) {
		gcmsg_response *resp = gcmsg__response_new();
		if (!resp || gcmsg__response_add_text(resp, parts[0], html ? "text/html" : "text/plain", "body", NULL) ||
		    gcmsg__response_add_subst(resp, "D", NULL, "default-d") || gcmsg__response_add_subst(resp, "A", NULL, NULL) ||
		    gcmsg__response_add_subst(resp, "E", NULL, "")) {
			gcmsg_response_free(resp);
			free(buf);
			return 0;
		}
		if (flags & 32)
			resp->response_type = gcmsg__strdup("MessagingTemplate");
		rc = gcmsg_render(&rd, resp, &o);
		if (rc == GCMSG_ERROR)
			abort();
		if ((flags & 32) && rd && (!gcmsg_rendered_is_template(rd) || gcmsg_rendered_template_response_id(rd)))
			abort(); /* a template; its response has no id here */
		gcmsg_response_free(resp);
	} else {
		rc = gcmsg_render_text(&rd, parts[0], html ? "text/html" : NULL, &o);
		if (rc == GCMSG_ERROR)
			abort();
	}
	check(rd, rc, &o, parts[0], values_utf8, html && !o.keep_html);
	gcmsg_rendered_free(rd);
	free(buf);
	return 0;
}
