/*
 * render.c - gcmsg_render / gcmsg_render_text: choose the body text of a
 * canned response, flatten text/html, fill the `{{ID}}` placeholders, and
 * report what was filled from where and what was missing or malformed.
 * Pure: no network. The placeholder grammar is in template.h, the HTML
 * flattening in html_text.c.
 *
 * Choosing the text (gcmsg_render):
 *  - candidates are the texts of type "body" (any case) or without a type;
 *    none: GCMSG_ENOTFOUND;
 *  - options.language given: the candidates whose language equals it
 *    (case-insensitively, '_' = '-'), else those whose primary subtag equals
 *    its primary subtag ("fr" finds "fr-CA", "fr-BE" finds "fr"); none:
 *    GCMSG_ENOTFOUND naming the languages there are (a response without
 *    languages, as every remote one, has none to match);
 *  - options.language NULL: the response's default language (matched the
 *    same way), else the candidates without a language, else the language of
 *    the first candidate;
 *  - among those, the first that is not text/html, else the first.
 *
 * Rendering:
 *  - text/html (content type compared case-insensitively, parameters such as
 *    "; charset=utf-8" ignored) is flattened to plain text first
 *    (gcmsg_html_to_text), unless options.keep_html; placeholders are then
 *    found in the flattened text, so values are never taken for markup and
 *    malformed offsets count bytes of the flattened text;
 *  - values are inserted verbatim and never scanned again;
 *  - the result is trimmed of leading and trailing spaces, tabs, CR and LF
 *    (a text from a TOML multi-line string ends with a line break).
 *
 * Values, per distinct id, first match wins:
 *  1. options.vars (the first entry with that id);
 *  2. the built-ins, from options.conversation and options.caller:
 *     CUSTOMER_NAME: the name of the customer participant (the first of
 *       purpose "customer", else the first of purpose "external");
 *     AGENT_NAME: the name of the last agent participant whose userId is the
 *       caller's user id, else of the last agent participant with a name,
 *       else the caller's user name;
 *     AGENT_ALIAS: the caller's preferredName, else the AGENT_NAME built-in
 *       (not an AGENT_NAME given in vars);
 *     an absent or empty name is no value: the id falls through to 3 and 4;
 *  3. the customer participant's attributes[ID] (present, even "", is a value);
 *  4. the response's substitution with that id and a defaultValue (the first
 *     such; "" is a value). gcmsg_render_text has none.
 *
 * Errors: strict rendering (the default) fails with GCMSG_EPOLICY when a
 * placeholder is missing or malformed; options.allow_missing leaves them as
 * written, succeeds, and gcmsg_rendered_warning says what was left. Either
 * way the lists are filled and gcmsg_rendered_text is the text with the
 * problems left in place. The one-line message lists the missing ids (at most
 * 20, then "and N more") and the malformed placeholders (at most 5, each
 * shown in at most 40 bytes, with its byte offset and reason).
 *
 * Caps (GCMSG_EUSAGE beyond): source text and rendered text 1 MiB, a value
 * 64 KiB, 1000 distinct placeholder ids, 1000 malformed placeholders.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "template.h"

#define TEXT_CAP ((size_t)1024 * 1024)
#define VALUE_CAP ((size_t)64 * 1024)
#define MAX_IDS 1000
#define MAX_MALFORMED 1000
#define SLOTS 2048 /* hash slots for ids: a power of two above 2 * MAX_IDS */
#define LIST_IDS 20
#define LIST_MALFORMED 5

typedef struct placeholder {
	char *id, *value; /* value NULL when missing */
	gcmsg_value_source source;
} placeholder;

typedef struct malformed {
	char *text, *reason;
	size_t offset;
} malformed;

struct gcmsg_rendered {
	char *text, *content_type, *language, *error, *warning;
	int flattened, is_template;
	placeholder *ph;
	size_t nph;
	size_t *missing; /* indexes into ph */
	size_t nmissing;
	malformed *mal;
	size_t nmal;
	char *template_response_id, *response_id, *response_name, *library_id;
	long response_version;
};

/* What one rendering needs besides the result. */
typedef struct ctx {
	const gcmsg_render_options *opts;
	const gcmsg_response *response; /* NULL for gcmsg_render_text */
	const gcmsg_participant *customer;
	const char *customer_name, *agent_name, *agent_alias;
	unsigned short slots[SLOTS]; /* index + 1 into ph, 0 = free */
	int failed;                  /* a gcmsg_error_code once something went wrong */
} ctx;

static const gcmsg_render_options default_options = GCMSG_RENDER_OPTIONS_INIT;

/* ---- small helpers ---- */

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive equality of a[0..an) and b[0..bn), '_' and '-' equal when `tags` */
static int eq_ci(const char *a, size_t an, const char *b, size_t bn, int tags)
{
	size_t i;

	if (an != bn)
		return 0;
	for (i = 0; i < an; i++) {
		char x = lower(a[i]), y = lower(b[i]);
		if (tags && x == '_')
			x = '-';
		if (tags && y == '_')
			y = '-';
		if (x != y)
			return 0;
	}
	return 1;
}

static int is_html(const char *content_type)
{
	size_t a = 0, z;

	if (!content_type)
		return 0;
	while (content_type[a] == ' ' || content_type[a] == '\t')
		a++;
	for (z = a; content_type[z] && content_type[z] != ';'; z++)
		;
	while (z > a && (content_type[z - 1] == ' ' || content_type[z - 1] == '\t'))
		z--;
	return eq_ci(content_type + a, z - a, "text/html", 9, 0);
}

static size_t primary_len(const char *lang)
{
	size_t n = 0;

	while (lang[n] && lang[n] != '-' && lang[n] != '_')
		n++;
	return n;
}

/* 2: same language, 1: same primary subtag, 0: neither (or no language) */
static int lang_match(const char *have, const char *want)
{
	if (!have || !*have || !want || !*want)
		return 0;
	if (eq_ci(have, strlen(have), want, strlen(want), 1))
		return 2;
	if (eq_ci(have, primary_len(have), want, primary_len(want), 0))
		return 1;
	return 0;
}

/* ---- the result ---- */

void gcmsg_rendered_free(gcmsg_rendered *r)
{
	size_t i;

	if (!r)
		return;
	free(r->text);
	free(r->content_type);
	free(r->language);
	free(r->error);
	free(r->warning);
	for (i = 0; i < r->nph; i++) {
		free(r->ph[i].id);
		free(r->ph[i].value);
	}
	free(r->ph);
	free(r->missing);
	for (i = 0; i < r->nmal; i++) {
		free(r->mal[i].text);
		free(r->mal[i].reason);
	}
	free(r->mal);
	free(r->template_response_id);
	free(r->response_id);
	free(r->response_name);
	free(r->library_id);
	free(r);
}

const char *gcmsg_rendered_text(const gcmsg_rendered *r) { return r ? r->text : NULL; }
const char *gcmsg_rendered_content_type(const gcmsg_rendered *r) { return r ? r->content_type : NULL; }
int gcmsg_rendered_flattened(const gcmsg_rendered *r) { return r ? r->flattened : 0; }
const char *gcmsg_rendered_language(const gcmsg_rendered *r) { return r ? r->language : NULL; }
const char *gcmsg_rendered_error(const gcmsg_rendered *r) { return r ? r->error : NULL; }
const char *gcmsg_rendered_warning(const gcmsg_rendered *r) { return r ? r->warning : NULL; }
size_t gcmsg_rendered_placeholder_count(const gcmsg_rendered *r) { return r ? r->nph : 0; }

const char *gcmsg_rendered_placeholder_id(const gcmsg_rendered *r, size_t i)
{
	return r && i < r->nph ? r->ph[i].id : NULL;
}

const char *gcmsg_rendered_placeholder_value(const gcmsg_rendered *r, size_t i)
{
	return r && i < r->nph ? r->ph[i].value : NULL;
}

gcmsg_value_source gcmsg_rendered_placeholder_source(const gcmsg_rendered *r, size_t i)
{
	return r && i < r->nph ? r->ph[i].source : GCMSG_VALUE_MISSING;
}

const char *gcmsg_value_source_name(gcmsg_value_source source)
{
	switch (source) {
	case GCMSG_VALUE_MISSING:
		return "missing";
	case GCMSG_VALUE_VAR:
		return "var";
	case GCMSG_VALUE_BUILTIN:
		return "builtin";
	case GCMSG_VALUE_ATTRIBUTE:
		return "attribute";
	case GCMSG_VALUE_DEFAULT:
		return "default";
	}
	return "unknown";
}

size_t gcmsg_rendered_missing_count(const gcmsg_rendered *r) { return r ? r->nmissing : 0; }

const char *gcmsg_rendered_missing(const gcmsg_rendered *r, size_t i)
{
	return r && i < r->nmissing ? r->ph[r->missing[i]].id : NULL;
}

size_t gcmsg_rendered_malformed_count(const gcmsg_rendered *r) { return r ? r->nmal : 0; }

const char *gcmsg_rendered_malformed_text(const gcmsg_rendered *r, size_t i)
{
	return r && i < r->nmal ? r->mal[i].text : NULL;
}

size_t gcmsg_rendered_malformed_offset(const gcmsg_rendered *r, size_t i)
{
	return r && i < r->nmal ? r->mal[i].offset : 0;
}

const char *gcmsg_rendered_malformed_reason(const gcmsg_rendered *r, size_t i)
{
	return r && i < r->nmal ? r->mal[i].reason : NULL;
}

int gcmsg_rendered_is_template(const gcmsg_rendered *r) { return r ? r->is_template : 0; }
const char *gcmsg_rendered_template_response_id(const gcmsg_rendered *r) { return r ? r->template_response_id : NULL; }
const char *gcmsg_rendered_response_id(const gcmsg_rendered *r) { return r ? r->response_id : NULL; }
const char *gcmsg_rendered_response_name(const gcmsg_rendered *r) { return r ? r->response_name : NULL; }
long gcmsg_rendered_response_version(const gcmsg_rendered *r) { return r ? r->response_version : -1; }
const char *gcmsg_rendered_library_id(const gcmsg_rendered *r) { return r ? r->library_id : NULL; }

/* Set the error line (printf); returns code, or GCMSG_ERROR when even that failed. */
static int fail(gcmsg_rendered *r, int code, const char *fmt, ...) GCMSG__PRINTF(3, 4);

static int fail(gcmsg_rendered *r, int code, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = gcmsg__vasprintf(fmt, ap);
	va_end(ap);
	if (!p)
		return GCMSG_ERROR;
	free(r->error);
	r->error = p;
	return code;
}

/* ---- values ---- */

static int is_purpose(const gcmsg_participant *p, const char *purpose)
{
	return p->purpose && strcmp(p->purpose, purpose) == 0;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static void builtins(ctx *c)
{
	const gcmsg_conversation *conv = c->opts->conversation;
	const gcmsg_identity *caller = c->opts->caller;
	const char *uid = caller ? nonempty(caller->user_id) : NULL;
	const char *mine = NULL, *last = NULL;
	size_t i;

	if (conv) {
		for (i = 0; i < conv->nparts && !c->customer; i++)
			if (is_purpose(&conv->parts[i], "customer"))
				c->customer = &conv->parts[i];
		for (i = 0; i < conv->nparts && !c->customer; i++)
			if (is_purpose(&conv->parts[i], "external"))
				c->customer = &conv->parts[i];
		for (i = 0; i < conv->nparts; i++) {
			const gcmsg_participant *p = &conv->parts[i];
			if (!is_purpose(p, "agent"))
				continue;
			if (uid && p->user_id && strcmp(p->user_id, uid) == 0)
				mine = nonempty(p->name) ? p->name : mine;
			if (nonempty(p->name))
				last = p->name;
		}
	}
	c->customer_name = c->customer ? nonempty(c->customer->name) : NULL;
	c->agent_name = mine ? mine : last ? last : caller ? nonempty(caller->user_name) : NULL;
	c->agent_alias = caller && nonempty(caller->preferred_name) ? caller->preferred_name : c->agent_name;
}

static const char *resolve(const ctx *c, const char *id, gcmsg_value_source *src)
{
	const gcmsg_render_options *o = c->opts;
	const char *v = NULL;
	size_t i;

	for (i = 0; i < o->var_count; i++) {
		if (strcmp(o->vars[i].id, id) == 0) {
			*src = GCMSG_VALUE_VAR;
			return o->vars[i].value;
		}
	}
	if (strcmp(id, "CUSTOMER_NAME") == 0)
		v = c->customer_name;
	else if (strcmp(id, "AGENT_NAME") == 0)
		v = c->agent_name;
	else if (strcmp(id, "AGENT_ALIAS") == 0)
		v = c->agent_alias;
	if (v) {
		*src = GCMSG_VALUE_BUILTIN;
		return v;
	}
	if (c->customer) {
		for (i = 0; i < c->customer->nattrs; i++) {
			if (c->customer->attr_keys[i] && c->customer->attr_values[i] &&
			    strcmp(c->customer->attr_keys[i], id) == 0) {
				*src = GCMSG_VALUE_ATTRIBUTE;
				return c->customer->attr_values[i];
			}
		}
	}
	if (c->response) {
		for (i = 0; i < c->response->nsubsts; i++) {
			const gcmsg__response_subst *s = &c->response->substs[i];
			if (s->id && s->default_value && strcmp(s->id, id) == 0) {
				*src = GCMSG_VALUE_DEFAULT;
				return s->default_value;
			}
		}
	}
	*src = GCMSG_VALUE_MISSING;
	return NULL;
}

static unsigned long hash(const char *s, size_t n)
{
	unsigned long h = 2166136261ul;
	size_t i;

	for (i = 0; i < n; i++)
		h = ((h ^ (unsigned char)s[i]) * 16777619ul) & 0xFFFFFFFFul;
	return h;
}

/* The placeholder entry of an id (resolved when first seen); its index, or -1 with c->failed set. */
static long placeholder_of(ctx *c, gcmsg_rendered *r, const char *id, size_t n)
{
	size_t k = hash(id, n) & (SLOTS - 1);
	placeholder *p;
	const char *v;
	void *q;

	while (c->slots[k]) {
		p = &r->ph[c->slots[k] - 1];
		if (strlen(p->id) == n && memcmp(p->id, id, n) == 0)
			return (long)c->slots[k] - 1;
		k = (k + 1) & (SLOTS - 1);
	}
	if (r->nph >= MAX_IDS) {
		c->failed = fail(r, GCMSG_EUSAGE, "the text has more than %d distinct placeholders", MAX_IDS);
		return -1;
	}
	q = realloc(r->ph, (r->nph + 1) * sizeof(*r->ph));
	if (!q)
		goto oom;
	r->ph = q;
	p = &r->ph[r->nph];
	memset(p, 0, sizeof(*p));
	if (!(p->id = malloc(n + 1)))
		goto oom;
	memcpy(p->id, id, n);
	p->id[n] = '\0';
	r->nph++;
	c->slots[k] = (unsigned short)r->nph;
	v = resolve(c, p->id, &p->source);
	if (v && strlen(v) > VALUE_CAP) {
		c->failed = fail(r, GCMSG_EUSAGE, "the value of %s (%s) is longer than 64 KiB", p->id,
		                 gcmsg_value_source_name(p->source));
		return -1;
	}
	if (v && !(p->value = gcmsg__strdup(v)))
		goto oom;
	if (!v) {
		q = realloc(r->missing, (r->nmissing + 1) * sizeof(*r->missing));
		if (!q)
			goto oom;
		r->missing = q;
		r->missing[r->nmissing++] = r->nph - 1;
	}
	return (long)r->nph - 1;
oom:
	c->failed = GCMSG_ERROR;
	return -1;
}

static int add_malformed(ctx *c, gcmsg_rendered *r, const char *src, const gcmsg__tpl_piece *pc)
{
	malformed *m;
	void *q;

	if (r->nmal >= MAX_MALFORMED) {
		c->failed = fail(r, GCMSG_EUSAGE, "the text has more than %d malformed placeholders", MAX_MALFORMED);
		return -1;
	}
	q = realloc(r->mal, (r->nmal + 1) * sizeof(*r->mal));
	if (!q)
		goto oom;
	r->mal = q;
	m = &r->mal[r->nmal];
	memset(m, 0, sizeof(*m));
	m->offset = pc->off;
	m->text = malloc(pc->len + 1);
	m->reason = gcmsg__strdup(pc->reason);
	if (!m->text || !m->reason) {
		free(m->text);
		free(m->reason);
		goto oom;
	}
	memcpy(m->text, src + pc->off, pc->len);
	m->text[pc->len] = '\0';
	r->nmal++;
	return 0;
oom:
	c->failed = GCMSG_ERROR;
	return -1;
}

/* ---- the problem line ---- */

/* "unresolved placeholders: A, B; malformed: at byte 3 (whitespace inside {{ }})" */
static char *problem_line(const gcmsg_rendered *r)
{
	gcmsg_buf b = GCMSG_BUF_INIT(64 * 1024);
	size_t i;

	if (r->nmissing) {
		gcmsg__buf_puts(&b, r->nmissing == 1 ? "unresolved placeholder: " : "unresolved placeholders: ");
		for (i = 0; i < r->nmissing && i < LIST_IDS; i++)
			gcmsg__buf_printf(&b, "%s%s", i ? ", " : "", r->ph[r->missing[i]].id);
		if (r->nmissing > LIST_IDS)
			gcmsg__buf_printf(&b, " and %zu more", r->nmissing - LIST_IDS);
	}
	if (r->nmal) {
		if (r->nmissing)
			gcmsg__buf_puts(&b, "; ");
		if (r->nmal == 1)
			gcmsg__buf_puts(&b, "malformed: ");
		else
			gcmsg__buf_printf(&b, "malformed (%zu): ", r->nmal);
		for (i = 0; i < r->nmal && i < LIST_MALFORMED; i++) {
			/* the offset and the reason, never the text: the line goes to stderr and
			 * errors, and message text is personal data (gcmsg_rendered_malformed_text has it) */
			gcmsg__buf_printf(&b, "%sat byte %zu (%s)", i ? ", " : "", r->mal[i].offset, r->mal[i].reason);
		}
		if (r->nmal > LIST_MALFORMED)
			gcmsg__buf_printf(&b, " and %zu more", r->nmal - LIST_MALFORMED);
	}
	if (!b.ptr)
		return NULL;
	return gcmsg__buf_detach(&b);
}

/* ---- rendering ---- */

static int check_options(gcmsg_rendered *r, const gcmsg_render_options *o)
{
	size_t i;

	if (o->version != GCMSG_RENDER_OPTIONS_VERSION)
		return fail(r, GCMSG_EUSAGE, "render options version %u is not supported (expected %d)", o->version,
		            GCMSG_RENDER_OPTIONS_VERSION);
	if (o->var_count > 0 && !o->vars)
		return fail(r, GCMSG_EUSAGE, "render options: var_count is %zu but vars is NULL", o->var_count);
	for (i = 0; i < o->var_count; i++) {
		const gcmsg_var *v = &o->vars[i];
		if (!v->id || !v->value)
			return fail(r, GCMSG_EUSAGE, "render options: vars[%zu] has no %s", i, v->id ? "value" : "id");
		if (!gcmsg__tpl_valid_id(v->id, strlen(v->id)))
			return fail(r, GCMSG_EUSAGE,
			            "'%.64s' is not a placeholder id (letters, digits, '_', '-' and '.' only)", v->id);
		if (strlen(v->value) > VALUE_CAP)
			return fail(r, GCMSG_EUSAGE, "the value of %s is longer than 64 KiB", v->id);
	}
	return GCMSG_OK;
}

static int trim_char(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * Fill the placeholders of src (content type ct) into r. src is the response's
 * text (or the ad-hoc text), not yet flattened.
 */
static int render_into(gcmsg_rendered *r, ctx *c, const char *src, const char *ct)
{
	const gcmsg_render_options *o = c->opts;
	gcmsg_buf out = GCMSG_BUF_INIT(TEXT_CAP);
	char *flat = NULL;
	const char *s = src;
	size_t len = strlen(src), pos = 0, a, z;
	gcmsg__tpl_piece pc;
	int rc;

	if (!(r->content_type = gcmsg__strdup(ct ? ct : "text/plain")))
		return GCMSG_ERROR;
	if (len > TEXT_CAP)
		return fail(r, GCMSG_EUSAGE, "the text is longer than 1 MiB (%zu bytes)", len);
	if (is_html(ct) && !o->keep_html) {
		rc = gcmsg_html_to_text(&flat, src, len);
		if (rc == GCMSG_EUSAGE)
			return fail(r, rc, "the text/html flattens to more than 4 MiB");
		if (rc != GCMSG_OK)
			return rc;
		r->flattened = 1;
		s = flat;
		len = strlen(flat);
	}
	builtins(c);
	while (gcmsg__tpl_next(s, len, &pos, &pc)) {
		const char *add = s + pc.off;
		size_t addlen = pc.len;
		if (pc.kind == GCMSG__TPL_PLACEHOLDER) {
			long k = placeholder_of(c, r, s + pc.id_off, pc.id_len);
			if (k < 0)
				break;
			if (r->ph[k].value) {
				add = r->ph[k].value;
				addlen = strlen(add);
			}
		} else if (pc.kind == GCMSG__TPL_MALFORMED) {
			if (add_malformed(c, r, s, &pc) < 0)
				break;
		}
		if (gcmsg__buf_append(&out, add, addlen) < 0) {
			c->failed = addlen > out.cap - out.len
			                    ? fail(r, GCMSG_EUSAGE, "the rendered text would be longer than 1 MiB")
			                    : GCMSG_ERROR;
			break;
		}
	}
	free(flat);
	if (c->failed) {
		gcmsg__buf_dispose(&out);
		return c->failed;
	}
	for (a = 0; a < out.len && trim_char(out.ptr[a]); a++)
		;
	for (z = out.len; z > a && trim_char(out.ptr[z - 1]); z--)
		;
	r->text = malloc(z - a + 1);
	if (!r->text) {
		gcmsg__buf_dispose(&out);
		return GCMSG_ERROR;
	}
	if (z > a)
		memcpy(r->text, out.ptr + a, z - a);
	r->text[z - a] = '\0';
	gcmsg__buf_dispose(&out);

	if (r->nmissing || r->nmal) {
		char *line = problem_line(r);
		if (!line)
			return GCMSG_ERROR;
		if (o->allow_missing) {
			r->warning = line;
		} else {
			r->error = line;
			return GCMSG_EPOLICY;
		}
	}
	return GCMSG_OK;
}

/* Allocate the result, check the options; GCMSG_ERROR (and *out NULL) only when out of memory. */
static int begin(gcmsg_rendered **out, ctx *c, const gcmsg_render_options *opts)
{
	gcmsg_rendered *r = calloc(1, sizeof(*r));

	*out = r;
	if (!r)
		return GCMSG_ERROR;
	r->response_version = -1;
	memset(c, 0, sizeof(*c));
	c->opts = opts ? opts : &default_options;
	return check_options(r, c->opts);
}

static int finish(gcmsg_rendered **out, int rc)
{
	if (rc == GCMSG_ERROR) {
		gcmsg_rendered_free(*out);
		*out = NULL;
	}
	return rc;
}

int gcmsg_render_text(gcmsg_rendered **out, const char *text, const char *content_type,
                      const gcmsg_render_options *opts)
{
	ctx *c;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	c = malloc(sizeof(*c));
	if (!c) {
		*out = NULL;
		return GCMSG_ERROR;
	}
	rc = begin(out, c, opts);
	if (rc == GCMSG_OK && !text)
		rc = fail(*out, GCMSG_EUSAGE, "no text to render");
	if (rc == GCMSG_OK)
		rc = render_into(*out, c, text, content_type);
	free(c);
	return finish(out, rc);
}

/* Languages of the body texts, distinct, for "none in language X" */
static int no_language(gcmsg_rendered *r, const gcmsg_response *resp, const char *want)
{
	gcmsg_buf b = GCMSG_BUF_INIT(4096);
	size_t i, k, n = 0;
	int rc;

	for (i = 0; i < resp->ntexts; i++) {
		const gcmsg__response_text *t = &resp->texts[i];
		int seen = 0;
		if (!t->language || !*t->language || (t->type && !eq_ci(t->type, strlen(t->type), "body", 4, 0)))
			continue;
		for (k = 0; k < i && !seen; k++) {
			const gcmsg__response_text *u = &resp->texts[k];
			seen = u->language && (!u->type || eq_ci(u->type, strlen(u->type), "body", 4, 0)) &&
			       eq_ci(u->language, strlen(u->language), t->language, strlen(t->language), 1);
		}
		if (!seen)
			gcmsg__buf_printf(&b, "%s%.32s", n++ ? ", " : "", t->language);
	}
	if (n)
		rc = fail(r, GCMSG_ENOTFOUND, "the response has no body text in language '%.32s' (available: %s)", want,
		          gcmsg__buf_cstr(&b));
	else
		rc = fail(r, GCMSG_ENOTFOUND,
		          "the response has no body text in language '%.32s' (its texts have no language)", want);
	gcmsg__buf_dispose(&b);
	return rc;
}

/* The index of the text to render, or a negative code (error set on r). */
static long choose_text(gcmsg_rendered *r, const gcmsg_response *resp, const char *want)
{
	size_t i, first = resp->ntexts;
	int best = 0, m, none = 0;
	const char *lang = NULL;
	long plain = -1, any = -1;

	for (i = 0; i < resp->ntexts; i++) {
		const gcmsg__response_text *t = &resp->texts[i];
		if (t->type && !eq_ci(t->type, strlen(t->type), "body", 4, 0))
			continue;
		if (first == resp->ntexts)
			first = i;
		if (!t->language || !*t->language)
			none = 1;
		m = lang_match(t->language, want ? want : resp->default_language);
		if (m > best)
			best = m;
	}
	if (first == resp->ntexts)
		return fail(r, GCMSG_ENOTFOUND, "the response has no body text");
	if (want && best == 0)
		return no_language(r, resp, want);

	/* which texts are eligible: best language match, else no language, else the first's language */
	if (!best && !none)
		lang = resp->texts[first].language;
	for (i = first; i < resp->ntexts; i++) {
		const gcmsg__response_text *t = &resp->texts[i];
		int ok;
		if (t->type && !eq_ci(t->type, strlen(t->type), "body", 4, 0))
			continue;
		if (best)
			ok = lang_match(t->language, want ? want : resp->default_language) == best;
		else if (none)
			ok = !t->language || !*t->language;
		else
			ok = eq_ci(t->language, strlen(t->language), lang, strlen(lang), 1);
		if (!ok)
			continue;
		if (any < 0)
			any = (long)i;
		if (plain < 0 && !is_html(t->content_type))
			plain = (long)i;
	}
	return plain >= 0 ? plain : any;
}

int gcmsg_render(gcmsg_rendered **out, const gcmsg_response *response, const gcmsg_render_options *opts)
{
	gcmsg_rendered *r;
	ctx *c;
	long k;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	c = malloc(sizeof(*c));
	if (!c) {
		*out = NULL;
		return GCMSG_ERROR;
	}
	rc = begin(out, c, opts);
	r = *out;
	if (rc == GCMSG_ERROR || !r)
		goto done;
	if (!response) {
		if (rc == GCMSG_OK)
			rc = fail(r, GCMSG_EUSAGE, "no response to render");
		goto done;
	}
	c->response = response;
	r->response_version = response->version;
	r->is_template = gcmsg_response_is_template(response);
	if ((response->id && !(r->response_id = gcmsg__strdup(response->id))) ||
	    (response->name && !(r->response_name = gcmsg__strdup(response->name))) ||
	    (response->nlibs && response->lib_ids[0] && !(r->library_id = gcmsg__strdup(response->lib_ids[0]))) ||
	    (r->is_template && response->id && !(r->template_response_id = gcmsg__strdup(response->id)))) {
		rc = GCMSG_ERROR;
		goto done;
	}
	if (rc != GCMSG_OK)
		goto done;
	k = choose_text(r, response, c->opts->language);
	if (k < 0) {
		rc = (int)k;
		goto done;
	}
	if (response->texts[k].language && !(r->language = gcmsg__strdup(response->texts[k].language))) {
		rc = GCMSG_ERROR;
		goto done;
	}
	rc = render_into(r, c, response->texts[k].content ? response->texts[k].content : "",
	                 response->texts[k].content_type);
done:
	free(c);
	return finish(out, rc);
}
