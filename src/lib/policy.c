/*
 * policy.c - the content policy: checks of a text and of an attachment, their
 * results, and the policy handle. The file format is policy_file.c's, the
 * built-in detectors are detectors.c's; docs/gcmsg-policy.5.md is the user's
 * reference and include/gcmsg/policy.h the API's.
 *
 * Decisions kept here:
 *  - Lengths are enforced in UTF-16 code units (never fewer than code points:
 *    a text accepted fits whichever Genesys counts). The length.max span
 *    starts at the first code point that does not fit.
 *  - An invalid UTF-8 byte counts as one code point and one UTF-16 unit.
 *  - SMS: GSM-7 when every code point is in the GSM 03.38 basic or extension
 *    table (an extension character takes two septets), else UCS-2 (UTF-16
 *    units). One segment holds 160 septets / 70 units; a longer text is cut
 *    in segments of 153 septets / 67 units, and neither an extension
 *    character's escape pair nor a surrogate pair is split across two
 *    segments. An empty text takes 0 segments.
 *  - Exemptions (allow-list) are applied as findings come, before the cap of
 *    GCMSG__POLICY_MAX_PER_RULE violations per rule, so exempted findings
 *    can never hide a real one behind the cap.
 *  - Every PCRE2 matching failure is a violation (fail-closed): pattern.limit
 *    for a limit, pattern.error otherwise; out of memory is GCMSG_ERROR.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"
#include "response_file.h"
#include "template.h"

/* ---- channels ---- */

const char *const gcmsg__channel_names[GCMSG__CH_COUNT] = {
	"sms", "webmessaging", "whatsapp", "open", "facebook", "instagram", "apple", "twitter", "chat",
};

static int eq_ci(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return 0;
	}
	return *a == *b;
}

gcmsg__channel gcmsg__channel_lookup(const char *name)
{
	int i;

	if (!name)
		return GCMSG__CH_UNKNOWN;
	for (i = 0; i < GCMSG__CH_COUNT; i++)
		if (eq_ci(name, gcmsg__channel_names[i]))
			return (gcmsg__channel)i;
	return GCMSG__CH_UNKNOWN;
}

unsigned gcmsg__channel_limit(gcmsg__channel ch)
{
	switch (ch) {
	case GCMSG__CH_SMS: return GCMSG__LIMIT_SMS;
	case GCMSG__CH_CHAT: return GCMSG__LIMIT_CHAT;
	case GCMSG__CH_UNKNOWN: return GCMSG__LIMIT_SMS;
	default: return GCMSG__LIMIT_MESSAGING;
	}
}

int gcmsg_policy_channel_known(const char *channel)
{
	return gcmsg__channel_lookup(channel) != GCMSG__CH_UNKNOWN;
}

/* ---- GSM 03.38 ---- */

/* the basic table's characters outside printable ASCII (which is all in it but for ` [ \ ] ^ { | } ~) */
static const unsigned short gsm_basic_extra[] = {
	0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x00D8, 0x00F8, 0x00C5, 0x00E5,
	0x0394, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E, 0x00C6, 0x00E6,
	0x00DF, 0x00C9, 0x00A4, 0x00A1, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x00E4, 0x00F6,
	0x00F1, 0x00FC, 0x00E0,
};

int gcmsg__gsm7_class(unsigned long cp)
{
	size_t i;

	if (cp == '\n' || cp == '\r')
		return 1;
	if (cp == '\f' || cp == '^' || cp == '{' || cp == '}' || cp == '\\' || cp == '[' || cp == '~' || cp == ']' ||
	    cp == '|' || cp == 0x20AC)
		return 2;
	if (cp >= 0x20 && cp <= 0x7E)
		return cp == '`' ? 0 : 1;
	for (i = 0; i < sizeof(gsm_basic_extra) / sizeof(gsm_basic_extra[0]); i++)
		if (gsm_basic_extra[i] == cp)
			return 1;
	return 0;
}

/* ---- scopes and the policy handle ---- */

void gcmsg__scope_init(gcmsg__scope *s)
{
	memset(s, 0, sizeof(*s));
	s->max_length = -1;
	s->max_segments = -1;
	memset(s->det, -1, sizeof(s->det));
	s->max_bytes = -1;
}

void gcmsg__scope_clear(gcmsg__scope *s)
{
	gcmsg__free_strv(s->types, s->ntypes);
	free(s->pat);
	gcmsg__scope_init(s);
}

gcmsg_policy *gcmsg__policy_alloc(void)
{
	gcmsg_policy *p = calloc(1, sizeof(*p));
	int i;

	if (!p)
		return NULL;
	gcmsg__err_init(&p->err);
	gcmsg__scope_init(&p->global);
	for (i = 0; i < GCMSG__CH_COUNT; i++)
		gcmsg__scope_init(&p->channels[i]);
	p->match_limit = GCMSG__PCRE_MATCH_LIMIT;
	p->depth_limit = GCMSG__PCRE_DEPTH_LIMIT;
	p->heap_limit_kib = GCMSG__PCRE_HEAP_LIMIT_KIB;
	p->jit = 1;
	return p;
}

void gcmsg_policy_free(gcmsg_policy *p)
{
	size_t i;
	int c;

	if (!p)
		return;
	gcmsg__scope_clear(&p->global);
	for (c = 0; c < GCMSG__CH_COUNT; c++)
		gcmsg__scope_clear(&p->channels[c]);
	for (i = 0; i < p->nqueues; i++) {
		free(p->queues[i].queue_id);
		gcmsg__scope_clear(&p->queues[i].scope);
	}
	free(p->queues);
	for (i = 0; i < p->npatterns; i++) {
		free(p->patterns[i].id);
		free(p->patterns[i].message);
		pcre2_code_free(p->patterns[i].code);
	}
	free(p->patterns);
	for (i = 0; i < p->nallows; i++) {
		free(p->allows[i].id);
		pcre2_code_free(p->allows[i].code);
		gcmsg__free_strv(p->allows[i].rules, p->allows[i].nrules);
	}
	free(p->allows);
	gcmsg__err_clear(&p->err);
	free(p);
}

int gcmsg_policy_new(gcmsg_policy **out)
{
	if (!out)
		return GCMSG_EUSAGE;
	*out = gcmsg__policy_alloc();
	return *out ? GCMSG_OK : GCMSG_ERROR;
}

const gcmsg_error *gcmsg_policy_last_error(const gcmsg_policy *p)
{
	return p ? &p->err.pub : NULL;
}

int gcmsg_policy_load_buffer(gcmsg_policy **out, const char *text, size_t len, const char *name)
{
	gcmsg_policy *p;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = p = gcmsg__policy_alloc();
	if (!p)
		return GCMSG_ERROR;
	if (!text && len) {
		p->failed = 1;
		return gcmsg__err_set(&p->err, GCMSG_EUSAGE, "no policy text given");
	}
	rc = gcmsg__policy_parse(p, text ? text : "", len, name ? name : "policy");
	if (rc != GCMSG_OK)
		p->failed = 1;
	return rc;
}

int gcmsg_policy_load_file(gcmsg_policy **out, const char *path)
{
	gcmsg_buf text = GCMSG_BUF_INIT(GCMSG__POLICY_FILE_CAP);
	gcmsg_policy *p;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = p = gcmsg__policy_alloc();
	if (!p)
		return GCMSG_ERROR;
	p->failed = 1;
	if (!path || !*path)
		return gcmsg__err_set(&p->err, GCMSG_EUSAGE, "no policy file given");
	if (gcmsg__read_file(path, &text) < 0) {
		if (errno == EFBIG)
			rc = gcmsg__err_set(&p->err, GCMSG_ECONFIG, "%s: larger than %zu KiB", path,
			                    GCMSG__POLICY_FILE_CAP >> 10);
		else if (errno == EINVAL || errno == EISDIR)
			rc = gcmsg__err_set(&p->err, GCMSG_ECONFIG, "%s: not a regular file", path);
		else
			rc = gcmsg__err_set(&p->err, GCMSG_ECONFIG, "cannot read policy file %s: %s", path,
			                    strerror(errno));
		gcmsg__err_set_fix(&p->err, "check --policy, GCMSG_POLICY or the profile's `policy` key");
		gcmsg__buf_dispose(&text);
		return rc;
	}
	rc = gcmsg__policy_parse(p, gcmsg__buf_cstr(&text), text.len, path);
	gcmsg__buf_dispose(&text);
	if (rc == GCMSG_OK)
		p->failed = 0;
	return rc;
}

pcre2_code *gcmsg__policy_compile(const char *regex, int caseless, int jit, char *err, size_t errlen)
{
	uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C;
	int code;
	PCRE2_SIZE off;
	pcre2_code *re;

	if (caseless)
		options |= PCRE2_CASELESS;
	re = pcre2_compile((PCRE2_SPTR)regex, strlen(regex), options, &code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		snprintf(err, errlen, "%s at byte %zu", (const char *)msg, (size_t)off);
		return NULL;
	}
	/* the interpreter is the fallback when JIT is not available or fails */
	if (jit)
		(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

/* ---- the effective settings for a channel and a queue ---- */

static const char *const default_types[] = {
	"image/jpeg", "image/png", "image/gif", "application/pdf", "video/mp4", "audio/mpeg",
};

typedef struct eff {
	gcmsg__channel ch;
	unsigned genesys;       /* Genesys' limit for the channel */
	size_t limit;           /* the limit applied */
	int lowered;            /* the policy lowered it */
	long max_segments;      /* -1: none */
	int det[GCMSG__DET_COUNT];
	unsigned long long max_bytes;
	const char *const *types;
	size_t ntypes;
	signed char *pat;       /* per pattern: on/off (malloc'd; NULL when there are none) */
} eff;

static const gcmsg__scope *queue_scope(const gcmsg_policy *p, const char *queue_id)
{
	size_t i;

	if (!queue_id)
		return NULL;
	for (i = 0; i < p->nqueues; i++)
		if (strcmp(p->queues[i].queue_id, queue_id) == 0)
			return &p->queues[i].scope;
	return NULL;
}

static void apply_scope(const gcmsg_policy *p, eff *e, const gcmsg__scope *s, long *max_length)
{
	size_t i;
	int d;

	if (!s)
		return;
	if (s->max_length >= 0)
		*max_length = s->max_length;
	if (s->max_segments >= 0)
		e->max_segments = s->max_segments;
	for (d = 0; d < GCMSG__DET_COUNT; d++)
		if (s->det[d] >= 0)
			e->det[d] = s->det[d];
	if (s->max_bytes >= 0)
		e->max_bytes = (unsigned long long)s->max_bytes;
	if (s->types_set) {
		e->types = (const char *const *)s->types;
		e->ntypes = s->ntypes;
	}
	if (s->pat && e->pat)
		for (i = 0; i < p->npatterns; i++)
			if (s->pat[i] >= 0)
				e->pat[i] = s->pat[i];
}

/* 0, or -1 when out of memory */
static int resolve(const gcmsg_policy *p, const gcmsg_check_options *o, eff *e)
{
	long max_length = -1;
	size_t i;
	int d;

	memset(e, 0, sizeof(*e));
	e->ch = gcmsg__channel_lookup(o->channel);
	e->genesys = gcmsg__channel_limit(e->ch);
	e->max_segments = -1;
	for (d = 0; d < GCMSG__DET_COUNT; d++)
		e->det[d] = gcmsg__detector_defaults[d];
	e->max_bytes = GCMSG__ATTACH_DEFAULT_MAX;
	e->types = default_types;
	e->ntypes = sizeof(default_types) / sizeof(default_types[0]);
	if (p->npatterns) {
		e->pat = malloc(p->npatterns);
		if (!e->pat)
			return -1;
		for (i = 0; i < p->npatterns; i++)
			e->pat[i] = (signed char)(p->patterns[i].enabled != 0);
	}
	apply_scope(p, e, &p->global, &max_length);
	if (e->ch != GCMSG__CH_UNKNOWN)
		apply_scope(p, e, &p->channels[e->ch], &max_length);
	apply_scope(p, e, queue_scope(p, o->queue_id), &max_length);
	e->limit = e->genesys;
	if (max_length >= 0 && (size_t)max_length < e->limit) {
		e->limit = (size_t)max_length;
		e->lowered = 1;
	}
	if (e->ch != GCMSG__CH_SMS)
		e->max_segments = -1;
	return 0;
}

/* ---- results ---- */

typedef struct viol {
	char *rule, *message, *brief; /* brief: for the summary; NULL: "<rule> at chars A-B" */
	size_t bs, be, cs, ce;
} viol;

struct gcmsg_policy_result {
	viol *v;
	size_t n, alloc;
	char **notes;
	size_t nnotes, notes_alloc;
	size_t cps, units, limit;
	const char *channel;
	unsigned segments;
	const char *encoding;
	char *summary;
	int oom;
};

static gcmsg_policy_result *result_new(void)
{
	return calloc(1, sizeof(gcmsg_policy_result));
}

void gcmsg_policy_result_free(gcmsg_policy_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->v[i].rule);
		free(r->v[i].message);
		free(r->v[i].brief);
	}
	free(r->v);
	gcmsg__free_strv(r->notes, r->nnotes);
	free(r->summary);
	free(r);
}

#if defined(__GNUC__)
static void add_violation(gcmsg_policy_result *r, const char *rule, size_t bs, size_t be, const char *brief,
                          const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void add_note(gcmsg_policy_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif

/* brief NULL: the summary says "<rule> at chars A-B" */
static void add_violation(gcmsg_policy_result *r, const char *rule, size_t bs, size_t be, const char *brief,
                          const char *fmt, ...)
{
	va_list ap;
	viol *v;

	if (r->oom)
		return;
	if (r->n == r->alloc) {
		size_t n = r->alloc ? r->alloc * 2 : 8;
		viol *nv = realloc(r->v, n * sizeof(*nv));
		if (!nv) {
			r->oom = 1;
			return;
		}
		r->v = nv;
		r->alloc = n;
	}
	v = &r->v[r->n];
	memset(v, 0, sizeof(*v));
	v->bs = bs;
	v->be = be;
	v->rule = gcmsg__strdup(rule);
	v->brief = brief ? gcmsg__strdup(brief) : NULL;
	va_start(ap, fmt);
	v->message = gcmsg__vasprintf(fmt, ap);
	va_end(ap);
	r->n++;
	if (!v->rule || !v->message || (brief && !v->brief))
		r->oom = 1;
}

static void add_note(gcmsg_policy_result *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (r->oom)
		return;
	if (r->nnotes == r->notes_alloc) {
		size_t n = r->notes_alloc ? r->notes_alloc * 2 : 4;
		char **nv = realloc(r->notes, n * sizeof(*nv));
		if (!nv) {
			r->oom = 1;
			return;
		}
		r->notes = nv;
		r->notes_alloc = n;
	}
	va_start(ap, fmt);
	s = gcmsg__vasprintf(fmt, ap);
	va_end(ap);
	if (!s) {
		r->oom = 1;
		return;
	}
	r->notes[r->nnotes++] = s;
}

static void note_cap(gcmsg_policy_result *r, const char *rule)
{
	add_note(r, "%s: more than %zu violations; the rest are not listed", rule, GCMSG__POLICY_MAX_PER_RULE);
}

static int cmp_viol(const void *x, const void *y)
{
	const viol *a = x, *b = y;

	if (a->bs != b->bs)
		return a->bs < b->bs ? -1 : 1;
	if (a->be != b->be)
		return a->be < b->be ? -1 : 1;
	return strcmp(a->rule, b->rule);
}

/* one UTF-8 character at s[i..len): its length (an invalid byte: 1) and code point (invalid: -1) */
static size_t char_at(const char *s, size_t len, size_t i, long *cp)
{
	unsigned long c;
	size_t k = gcmsg__utf8_decode(s + i, len - i, &c);

	if (!k) {
		*cp = -1;
		return 1;
	}
	*cp = (long)c;
	return k;
}

typedef struct offref {
	size_t off;
	size_t *slot;
} offref;

static int cmp_offref(const void *x, const void *y)
{
	const offref *a = x, *b = y;

	return a->off < b->off ? -1 : a->off > b->off;
}

/* char offsets: for each byte offset, the number of characters starting before it */
static void char_offsets(gcmsg_policy_result *r, const char *s, size_t len)
{
	offref *refs;
	size_t i, k, chars = 0, pos = 0;
	long cp;

	if (!r->n)
		return;
	refs = malloc(2 * r->n * sizeof(*refs));
	if (!refs) {
		r->oom = 1;
		return;
	}
	for (i = 0; i < r->n; i++) {
		refs[2 * i].off = r->v[i].bs;
		refs[2 * i].slot = &r->v[i].cs;
		refs[2 * i + 1].off = r->v[i].be;
		refs[2 * i + 1].slot = &r->v[i].ce;
	}
	qsort(refs, 2 * r->n, sizeof(*refs), cmp_offref);
	for (k = 0; k < 2 * r->n; k++) {
		while (pos < len && pos < refs[k].off) {
			pos += char_at(s, len, pos, &cp);
			chars++;
		}
		*refs[k].slot = chars;
	}
	free(refs);
}

static void build_summary(gcmsg_policy_result *r)
{
	gcmsg_buf b = GCMSG_BUF_INIT(16 * 1024);
	size_t i;
	int rc = 0;

	for (i = 0; i < r->n && rc == 0; i++) {
		char one[512];
		if (r->v[i].brief)
			snprintf(one, sizeof(one), "%s", r->v[i].brief);
		else if (r->v[i].ce > r->v[i].cs + 1)
			snprintf(one, sizeof(one), "%s at chars %zu-%zu", r->v[i].rule, r->v[i].cs, r->v[i].ce);
		else
			snprintf(one, sizeof(one), "%s at char %zu", r->v[i].rule, r->v[i].cs);
		if (b.len + strlen(one) + 64 > b.cap) {
			rc = gcmsg__buf_printf(&b, "; and %zu more", r->n - i);
			break;
		}
		rc = gcmsg__buf_printf(&b, "%s%s", i ? "; " : "", one);
	}
	if (rc < 0) {
		r->oom = 1;
		gcmsg__buf_dispose(&b);
		return;
	}
	r->summary = b.ptr ? gcmsg__buf_detach(&b) : gcmsg__strdup("");
	if (!r->summary)
		r->oom = 1;
}

/* sort, char spans, summary; then the return code (the result is freed on OOM) */
static int finish(gcmsg_policy_result **out, gcmsg_policy_result *r, const char *s, size_t len)
{
	if (!r->oom && r->n)
		qsort(r->v, r->n, sizeof(*r->v), cmp_viol);
	if (!r->oom)
		char_offsets(r, s, len);
	if (!r->oom)
		build_summary(r);
	if (r->oom) {
		gcmsg_policy_result_free(r);
		return GCMSG_ERROR;
	}
	*out = r;
	return r->n ? GCMSG_EPOLICY : GCMSG_OK;
}

/* ---- the check's state ---- */

typedef struct range {
	size_t s, e;
} range;

typedef struct allow_state {
	int computed;
	range *m;
	size_t n, alloc;
} allow_state;

typedef struct check {
	const gcmsg_policy *p;
	const eff *e;
	gcmsg_policy_result *r;
	const char *text;
	size_t len;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
	pcre2_match_data *md;       /* for the patterns */
	pcre2_match_data *md_allow; /* for the allow-list (computed while a pattern is being matched) */
	allow_state *allow;   /* per allow entry */
	const char *rule;     /* detector callback: the rule */
	size_t count;         /* detector callback: listed so far */
	int error;            /* GCMSG_ERROR once out of memory */
} check;

#define MATCH_SLACK 64 /* zeroed bytes after a subject given to PCRE2 (see gcmsg_policy_check_text) */

static int match_setup(check *c)
{
	const gcmsg_policy *p = c->p;

	c->mctx = pcre2_match_context_create(NULL);
	c->md = pcre2_match_data_create(1, NULL);
	c->md_allow = pcre2_match_data_create(1, NULL);
	if (!c->mctx || !c->md || !c->md_allow)
		return -1;
	pcre2_set_match_limit(c->mctx, (uint32_t)p->match_limit);
	pcre2_set_depth_limit(c->mctx, (uint32_t)p->depth_limit);
	pcre2_set_heap_limit(c->mctx, (uint32_t)p->heap_limit_kib);
	if (p->jit) {
		/* JIT code has its own stack (a limit of its own); match_limit applies to it too */
		c->jstack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
		if (c->jstack)
			pcre2_jit_stack_assign(c->mctx, NULL, c->jstack);
	}
	return 0;
}

static void match_cleanup(check *c)
{
	pcre2_match_data_free(c->md);
	pcre2_match_data_free(c->md_allow);
	pcre2_jit_stack_free(c->jstack);
	pcre2_match_context_free(c->mctx);
}

static const char *limit_name(int rc)
{
	switch (rc) {
	case PCRE2_ERROR_MATCHLIMIT: return "match limit";
	case PCRE2_ERROR_DEPTHLIMIT: return "depth limit";
	case PCRE2_ERROR_HEAPLIMIT: return "heap limit";
	case PCRE2_ERROR_JIT_STACKLIMIT: return "JIT stack limit";
	default: return NULL;
	}
}

/* the next character boundary after i (an invalid byte is one character) */
static size_t next_char(const char *s, size_t len, size_t i)
{
	long cp;

	return i < len ? i + char_at(s, len, i, &cp) : len + 1;
}

/*
 * All non-empty matches of `code` from offset 0, in order; calls fn for each.
 * Returns 0 at the end, 1 when fn stopped, or a negative PCRE2 error (no match
 * is not one). *at receives the offset where an error happened.
 *
 * An empty match is never a violation, but it must not hide a non-empty one
 * at the same place (`\b|secret` matches empty before "secret"): as in
 * pcre2demo, the search is tried again at that offset, anchored and not empty
 * there, and only then moves one character on.
 */
static int each_match(check *c, const pcre2_code *code, pcre2_match_data *md,
                      int (*fn)(check *, size_t, size_t, void *), void *arg, size_t *at)
{
	size_t off = 0;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);

	while (off <= c->len) {
		int rc = pcre2_match(code, (PCRE2_SPTR)c->text, c->len, off, 0, md, c->mctx);
		size_t x, next;
		if (rc == PCRE2_ERROR_NOMATCH)
			return 0;
		if (rc < 0) {
			*at = off;
			return rc;
		}
		if (ov[1] > ov[0] && ov[1] <= c->len && ov[1] > off) {
			if (fn(c, ov[0], ov[1], arg))
				return 1;
			off = ov[1];
			continue;
		}
		/* an empty match (or \K tricks) at x */
		x = ov[0] > off && ov[0] <= c->len ? ov[0] : off;
		next = next_char(c->text, c->len, x);
		if (x < c->len) {
			rc = pcre2_match(code, (PCRE2_SPTR)c->text, c->len, x, PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED, md,
			                 c->mctx);
			if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
				*at = x;
				return rc;
			}
			if (rc >= 0 && ov[1] > ov[0] && ov[1] <= c->len && ov[1] > x) {
				if (fn(c, ov[0], ov[1], arg))
					return 1;
				next = ov[1];
			}
		}
		off = next;
	}
	return 0;
}

static int collect_range(check *c, size_t s, size_t e, void *arg)
{
	allow_state *a = arg;
	range *m;

	if (a->n >= 100000)
		return 1; /* enough: fewer exemptions is the safe side */
	if (a->n == a->alloc) {
		size_t cap = a->alloc ? a->alloc * 2 : 8;
		m = realloc(a->m, cap * sizeof(*m));
		if (!m) {
			c->error = GCMSG_ERROR;
			return 1;
		}
		a->m = m;
		a->alloc = cap;
	}
	a->m[a->n].s = s;
	a->m[a->n].e = e;
	a->n++;
	return 0;
}

static int allow_lists(const gcmsg__allow *a, const char *rule)
{
	size_t i;

	for (i = 0; i < a->nrules; i++)
		if (strcmp(a->rules[i], rule) == 0)
			return 1;
	return 0;
}

/* whether [bs, be) of a `rule` finding lies inside a match of an allow entry listing the rule */
static int exempt(check *c, const char *rule, size_t bs, size_t be)
{
	size_t i;

	for (i = 0; i < c->p->nallows; i++) {
		const gcmsg__allow *a = &c->p->allows[i];
		allow_state *st = &c->allow[i];
		size_t lo = 0, hi;
		if (!allow_lists(a, rule))
			continue;
		if (!st->computed) {
			size_t at = 0;
			int rc;
			st->computed = 1;
			rc = each_match(c, a->code, c->md_allow, collect_range, st, &at);
			if (rc == PCRE2_ERROR_NOMEMORY)
				c->error = GCMSG_ERROR;
			else if (rc < 0)
				add_note(c->r, "allow.%s could not be matched (%s) from byte %zu on: nothing after it is exempted",
				         a->id, limit_name(rc) ? limit_name(rc) : "a PCRE2 error", at);
		}
		/* the last match starting at or before bs */
		hi = st->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (st->m[mid].s <= bs)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0 && st->m[lo - 1].e >= be)
			return 1;
	}
	return 0;
}

/* ---- the text checks ---- */

static int is_space_cp(long cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' || cp == 0x85 ||
	       cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

/* whitespace, or an invisible character that shows nothing on its own (zero-width ones, fillers, blanks) */
static int is_blank_cp(long cp)
{
	return is_space_cp(cp) || cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0x2060 || cp == 0x3164 ||
	       cp == 0x2800 || cp == 0xFEFF;
}

/* C0 but tab and line feed, DEL, C1, and U+FEFF (a byte order mark or zero-width no-break space) */
static int is_control_cp(long cp)
{
	return (cp >= 0 && cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFEFF;
}

static const char *control_name(long cp)
{
	switch (cp) {
	case 0: return " (NUL)";
	case 7: return " (BEL)";
	case 8: return " (backspace)";
	case 0x0B: return " (vertical tab)";
	case 0x0C: return " (form feed)";
	case 0x0D: return " (carriage return; line ends must be \\n)";
	case 0x1B: return " (escape)";
	case 0x7F: return " (DEL)";
	case 0xFEFF: return " (byte order mark / zero-width no-break space)";
	default: return "";
	}
}

/* text.utf8, text.control, text.empty and the counts */
static void scan_text(check *c)
{
	const char *s = c->text;
	size_t len = c->len, i = 0, bad = 0, ctl = 0;
	int only_space = 1, invisible = 0;
	gcmsg_policy_result *r = c->r;

	while (i < len) {
		long cp;
		size_t k = char_at(s, len, i, &cp), j;
		r->cps++;
		r->units += cp > 0xFFFF ? 2 : 1;
		if (cp < 0) {
			/* a run of invalid bytes */
			size_t nbytes = 1;
			for (j = i + 1; j < len; j++) {
				long cp2;
				if (char_at(s, len, j, &cp2) != 1 || cp2 >= 0)
					break;
				nbytes++;
				r->cps++;
				r->units++;
			}
			if (bad < GCMSG__POLICY_MAX_PER_RULE)
				add_violation(r, "text.utf8", i, i + nbytes, NULL, "invalid UTF-8 (%zu byte%s)", nbytes,
				              nbytes == 1 ? "" : "s");
			else if (bad == GCMSG__POLICY_MAX_PER_RULE)
				note_cap(r, "text.utf8");
			bad++;
			only_space = 0;
			i += nbytes;
			continue;
		}
		if (is_control_cp(cp)) {
			/* a run of control characters */
			size_t n = 1, end = i + k;
			for (;;) {
				long cp2;
				size_t k2;
				if (end >= len)
					break;
				k2 = char_at(s, len, end, &cp2);
				if (!is_control_cp(cp2))
					break;
				n++;
				r->cps++;
				r->units++;
				if (!is_blank_cp(cp2))
					only_space = 0;
				end += k2;
			}
			if (ctl < GCMSG__POLICY_MAX_PER_RULE) {
				if (n == 1)
					add_violation(r, "text.control", i, end, NULL, "a control character U+%04lX%s", (unsigned long)cp,
					              control_name(cp));
				else
					add_violation(r, "text.control", i, end, NULL, "%zu control characters, the first U+%04lX%s", n,
					              (unsigned long)cp, control_name(cp));
			} else if (ctl == GCMSG__POLICY_MAX_PER_RULE) {
				note_cap(r, "text.control");
			}
			ctl++;
			if (!is_blank_cp(cp))
				only_space = 0;
			i = end;
			continue;
		}
		if (!is_blank_cp(cp))
			only_space = 0;
		else if (!is_space_cp(cp))
			invisible = 1;
		i += k;
	}
	if (len == 0)
		add_violation(r, "text.empty", 0, 0, "text.empty", "the text is empty");
	else if (only_space && invisible)
		add_violation(r, "text.empty", 0, len, "text.empty", "the text holds only whitespace and invisible characters");
	else if (only_space)
		add_violation(r, "text.empty", 0, len, "text.empty", "the text holds only whitespace");
}

/* the byte offset of the first character that takes the count past `limit` UTF-16 units */
static size_t crossing(const char *s, size_t len, size_t limit)
{
	size_t i = 0, units = 0;

	while (i < len) {
		long cp;
		size_t k = char_at(s, len, i, &cp);
		units += cp > 0xFFFF ? 2 : 1;
		if (units > limit)
			return i;
		i += k;
	}
	return len;
}

static void check_length(check *c)
{
	const eff *e = c->e;
	gcmsg_policy_result *r = c->r;
	char brief[128];

	r->limit = e->limit;
	if (r->units <= e->limit)
		return;
	snprintf(brief, sizeof(brief), "length.max (%zu > %zu UTF-16 units)", r->units, e->limit);
	if (e->ch == GCMSG__CH_UNKNOWN)
		add_violation(r, "length.max", crossing(c->text, c->len, e->limit), c->len, brief,
		              "the text is %zu UTF-16 units long (%zu code points); the channel is unknown, so the "
		              "strictest limit applies: %zu",
		              r->units, r->cps, e->limit);
	else if (e->lowered)
		add_violation(r, "length.max", crossing(c->text, c->len, e->limit), c->len, brief,
		              "the text is %zu UTF-16 units long (%zu code points); the policy's limit for %s is %zu "
		              "(Genesys allows %u)",
		              r->units, r->cps, gcmsg__channel_names[e->ch], e->limit, e->genesys);
	else
		add_violation(r, "length.max", crossing(c->text, c->len, e->limit), c->len, brief,
		              "the text is %zu UTF-16 units long (%zu code points); the limit for %s is %zu", r->units,
		              r->cps, gcmsg__channel_names[e->ch], e->limit);
}

/* SMS: encoding, segments, and sms.segments */
static void check_sms(check *c)
{
	const char *s = c->text;
	size_t len = c->len, i = 0, total = 0, single, multi, cur = 0, over_at = len;
	gcmsg_policy_result *r = c->r;
	unsigned segs = 0;
	int gsm = 1;
	long cp;

	while (i < len) {
		size_t k = char_at(s, len, i, &cp);
		if (cp < 0 || !gcmsg__gsm7_class((unsigned long)cp)) {
			gsm = 0;
			break;
		}
		i += k;
	}
	r->encoding = gsm ? "GSM-7" : "UCS-2";
	single = gsm ? 160 : 70;
	multi = gsm ? 153 : 67;
	for (i = 0; i < len;) {
		size_t k = char_at(s, len, i, &cp);
		total += gsm ? (size_t)gcmsg__gsm7_class((unsigned long)cp) : (cp > 0xFFFF ? 2u : 1u);
		i += k;
	}
	if (len == 0) {
		segs = 0;
	} else if (total <= single) {
		segs = 1;
	} else {
		/* fill segments of `multi`, never splitting a character's septets or units */
		segs = 1;
		for (i = 0; i < len;) {
			size_t k = char_at(s, len, i, &cp);
			size_t w = gsm ? (size_t)gcmsg__gsm7_class((unsigned long)cp) : (cp > 0xFFFF ? 2u : 1u);
			if (cur + w > multi) {
				segs++;
				cur = 0;
				if (c->e->max_segments >= 0 && segs == (unsigned)c->e->max_segments + 1)
					over_at = i;
			}
			cur += w;
			i += k;
		}
	}
	r->segments = segs;
	if (c->e->max_segments >= 0 && segs > (unsigned)c->e->max_segments) {
		char brief[96];
		snprintf(brief, sizeof(brief), "sms.segments (%u > %ld segments)", segs, c->e->max_segments);
		add_violation(r, "sms.segments", over_at, len, brief,
		              "the text takes %u SMS segments (%s, %zu %s); the policy allows %ld", segs, r->encoding, total,
		              gsm ? "septets" : "UTF-16 units", c->e->max_segments);
	}
}

static void check_placeholders(check *c)
{
	size_t pos = 0, n = 0;
	gcmsg__tpl_piece piece;

	while (gcmsg__tpl_next(c->text, c->len, &pos, &piece)) {
		if (piece.kind == GCMSG__TPL_TEXT)
			continue;
		if (n == GCMSG__POLICY_MAX_PER_RULE) {
			note_cap(c->r, "placeholder.unresolved");
			return;
		}
		/*
		 * A malformed one ({{ A }}) too: the renderer refuses those of a template,
		 * but a value (--var, an attribute) is never parsed, so one may come from there.
		 * The reason names at most one character, never the text.
		 */
		if (piece.kind == GCMSG__TPL_MALFORMED)
			add_violation(c->r, "placeholder.unresolved", piece.off, piece.off + piece.len, NULL,
			              "a malformed placeholder (%s)", piece.reason);
		else
			add_violation(c->r, "placeholder.unresolved", piece.off, piece.off + piece.len, NULL,
			              "an unresolved placeholder (a {{...}} with a %zu-character id): it was given no value",
			              piece.id_len);
		n++;
	}
}

static int on_finding(void *ctx, size_t start, size_t end, const char *description)
{
	check *c = ctx;

	if (c->r->oom)
		return 1;
	if (exempt(c, c->rule, start, end))
		return c->error ? 1 : 0;
	if (c->error)
		return 1;
	if (c->count == GCMSG__POLICY_MAX_PER_RULE) {
		note_cap(c->r, c->rule);
		return 1;
	}
	add_violation(c->r, c->rule, start, end, NULL, "%s", description);
	c->count++;
	return 0;
}

static void run_detectors(check *c)
{
	int d;

	for (d = 0; d < GCMSG__DET_COUNT && !c->error && !c->r->oom; d++) {
		char rule[64];
		if (!c->e->det[d])
			continue;
		snprintf(rule, sizeof(rule), "detector.%s", gcmsg__detector_names[d]);
		c->rule = rule;
		c->count = 0;
		if (gcmsg__detect((gcmsg__detector)d, c->text, c->len, on_finding, c) == -1)
			c->error = GCMSG_ERROR;
		c->rule = NULL;
	}
}

typedef struct pat_arg {
	const gcmsg__pattern *pat;
	char rule[160];
	size_t count;
} pat_arg;

static int on_pattern_match(check *c, size_t s, size_t e, void *arg)
{
	pat_arg *a = arg;

	if (c->r->oom)
		return 1;
	if (exempt(c, a->rule, s, e))
		return c->error ? 1 : 0;
	if (c->error)
		return 1;
	if (a->count == GCMSG__POLICY_MAX_PER_RULE) {
		note_cap(c->r, a->rule);
		return 1;
	}
	if (a->pat->message)
		add_violation(c->r, a->rule, s, e, NULL, "%s", a->pat->message);
	else
		add_violation(c->r, a->rule, s, e, NULL, "matches the blocked pattern '%s'", a->pat->id);
	a->count++;
	return 0;
}

static void run_patterns(check *c)
{
	size_t i;

	for (i = 0; i < c->p->npatterns && !c->error && !c->r->oom; i++) {
		const gcmsg__pattern *pat = &c->p->patterns[i];
		pat_arg a;
		size_t at = 0;
		int rc;

		if (!c->e->pat || !c->e->pat[i])
			continue;
		memset(&a, 0, sizeof(a));
		a.pat = pat;
		snprintf(a.rule, sizeof(a.rule), "pattern.%s", pat->id);
		rc = each_match(c, pat->code, c->md, on_pattern_match, &a, &at);
		if (rc >= 0)
			continue;
		if (rc == PCRE2_ERROR_NOMEMORY) {
			c->error = GCMSG_ERROR;
		} else if (limit_name(rc)) {
			char brief[200];
			unsigned long v = rc == PCRE2_ERROR_MATCHLIMIT   ? c->p->match_limit
			                  : rc == PCRE2_ERROR_DEPTHLIMIT ? c->p->depth_limit
			                  : rc == PCRE2_ERROR_HEAPLIMIT  ? c->p->heap_limit_kib
			                                                 : 1024;
			const char *unit = rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT ? " KiB" : "";
			snprintf(brief, sizeof(brief), "pattern.limit (pattern '%s', %s)", pat->id, limit_name(rc));
			add_violation(c->r, "pattern.limit", at, c->len, brief,
			              "pattern '%s' could not be checked: PCRE2 stopped at its %s (%lu%s), so the text is "
			              "refused (fail-closed); simplify the pattern or raise the limit in [pcre]",
			              pat->id, limit_name(rc), v, unit);
		} else {
			PCRE2_UCHAR msg[160];
			char brief[200];
			if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
				snprintf((char *)msg, sizeof(msg), "error %d", rc);
			snprintf(brief, sizeof(brief), "pattern.error (pattern '%s')", pat->id);
			add_violation(c->r, "pattern.error", at, c->len, brief,
			              "pattern '%s' could not be checked (PCRE2: %s), so the text is refused (fail-closed)",
			              pat->id, (const char *)msg);
		}
	}
}

/* ---- the public checks ---- */

static const gcmsg_check_options default_options = GCMSG_CHECK_OPTIONS_INIT;

/* the policy to use (a fresh default one for NULL, to be freed by the caller: *tmp) */
static int pick(const gcmsg_policy *policy, const gcmsg_check_options **opts, const gcmsg_policy **p,
                gcmsg_policy **tmp)
{
	*tmp = NULL;
	if (!*opts)
		*opts = &default_options;
	if ((*opts)->version != GCMSG_CHECK_OPTIONS_VERSION)
		return GCMSG_EUSAGE;
	if (policy) {
		if (policy->failed)
			return GCMSG_EUSAGE;
		*p = policy;
		return GCMSG_OK;
	}
	*tmp = gcmsg__policy_alloc();
	if (!*tmp)
		return GCMSG_ERROR;
	*p = *tmp;
	return GCMSG_OK;
}

static void note_channel(gcmsg_policy_result *r, const eff *e, const gcmsg_check_options *o)
{
	r->channel = e->ch == GCMSG__CH_UNKNOWN ? NULL : gcmsg__channel_names[e->ch];
	if (e->ch != GCMSG__CH_UNKNOWN)
		return;
	if (o->channel) {
		int printable = strlen(o->channel) <= 40;
		const char *q;
		for (q = o->channel; printable && *q; q++)
			printable = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
			            *q == '-' || *q == '_';
		if (printable)
			add_note(r, "channel '%s' is not one gcmsg knows: the strictest limit applies (%u UTF-16 units, as SMS)",
			         o->channel, GCMSG__LIMIT_SMS);
		else
			add_note(r, "the channel is not one gcmsg knows: the strictest limit applies (%u UTF-16 units, as SMS)",
			         GCMSG__LIMIT_SMS);
	} else {
		add_note(r, "the channel is unknown: the strictest limit applies (%u UTF-16 units, as SMS)", GCMSG__LIMIT_SMS);
	}
}

/*
 * The start of every check: the policy to use (the defaults for NULL), a new result, the
 * effective rules for the options' channel and queue, and the check's state on `text`.
 * On failure nothing is left to free.
 */
static int check_begin(check *c, eff *e, gcmsg_policy **tmp, const gcmsg_policy *policy,
                       const gcmsg_check_options **opts, const char *text, size_t len)
{
	const gcmsg_policy *p = NULL;
	gcmsg_policy_result *r;
	int rc = pick(policy, opts, &p, tmp);

	if (rc != GCMSG_OK)
		return rc;
	r = result_new();
	if (!r || resolve(p, *opts, e) < 0) {
		gcmsg_policy_free(*tmp);
		free(r);
		return GCMSG_ERROR;
	}
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->e = e;
	c->r = r;
	c->text = text;
	c->len = len;
	return GCMSG_OK;
}

int gcmsg_policy_check_text(gcmsg_policy_result **out, const gcmsg_policy *policy, const char *text, size_t len,
                            const gcmsg_check_options *opts)
{
	const gcmsg_policy *p = NULL;
	gcmsg_policy *tmp;
	gcmsg_policy_result *r;
	char *padded = NULL;
	check c;
	eff e;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if ((!text && len) || len > GCMSG__POLICY_TEXT_CAP)
		return GCMSG_EUSAGE;
	if (!text)
		text = "";
	rc = check_begin(&c, &e, &tmp, policy, &opts, text, len);
	if (rc != GCMSG_OK)
		return rc;
	p = c.p;
	r = c.r;
	note_channel(r, &e, opts);
	scan_text(&c);
	check_length(&c);
	if (e.ch == GCMSG__CH_SMS)
		check_sms(&c);
	if (len > GCMSG__POLICY_DEEP_CAP) {
		add_note(r, "the text is over %zu KiB, beyond every Genesys limit: only the text, length and SMS rules were "
		            "checked",
		         GCMSG__POLICY_DEEP_CAP >> 10);
	} else {
		if (!opts->allow_placeholders)
			check_placeholders(&c);
		if (p->nallows) {
			c.allow = calloc(p->nallows, sizeof(*c.allow));
			if (!c.allow)
				c.error = GCMSG_ERROR;
		}
		if (!c.error && (p->npatterns || p->nallows) && match_setup(&c) < 0)
			c.error = GCMSG_ERROR;
		/*
		 * PCRE2's JIT code reads the subject in aligned 16-byte chunks and may read past
		 * its end (harmless inside the allocation, but not ours to read): match a copy
		 * with zeroed slack after it. The offsets are the same.
		 */
		if (!c.error && (p->npatterns || p->nallows)) {
			padded = calloc(1, len + MATCH_SLACK);
			if (padded) {
				memcpy(padded, text, len);
				c.text = padded;
			} else {
				c.error = GCMSG_ERROR;
			}
		}
		if (!c.error)
			run_detectors(&c);
		if (!c.error)
			run_patterns(&c);
		match_cleanup(&c);
		free(padded);
		if (c.allow) {
			size_t i;
			for (i = 0; i < p->nallows; i++)
				free(c.allow[i].m);
			free(c.allow);
		}
	}
	free(e.pat);
	gcmsg_policy_free(tmp);
	if (c.error) {
		gcmsg_policy_result_free(r);
		return GCMSG_ERROR;
	}
	return finish(out, r, text, len);
}

/* ---- attachments ---- */

static int mime_token_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || strchr("!#$&^_.+-", ch);
}

/* "type/subtype" of a MIME type: lower case, parameters and blanks dropped; 0 when it is not one */
static int mime_normalise(const char *in, char *out, size_t outlen)
{
	size_t n = 0, slash = 0;
	const char *q = in;

	while (*q == ' ' || *q == '\t')
		q++;
	for (; *q && *q != ';' && *q != ' ' && *q != '\t'; q++) {
		unsigned char ch = (unsigned char)*q;
		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch + 32);
		if (ch == '/') {
			if (slash || n == 0)
				return 0;
			slash = n + 1;
		} else if (!ch || !mime_token_char(ch)) {
			return 0;
		}
		if (n + 1 >= outlen)
			return 0;
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return slash && slash < n;
}

static int type_allowed(const eff *e, const char *type)
{
	size_t i;

	for (i = 0; i < e->ntypes; i++) {
		const char *t = e->types[i];
		size_t n = strlen(t);
		if (n && t[n - 1] == '/' ? strncmp(type, t, n) == 0 : strcmp(type, t) == 0)
			return 1;
	}
	return 0;
}

static void allowed_list(const eff *e, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < e->ntypes; i++) {
		const char *t = e->types[i];
		size_t tl = strlen(t);
		int more = n + tl + (tl && t[tl - 1] == '/' ? 1 : 0) + 8 > len;
		if (more) {
			snprintf(buf + n, len - n, ", ...");
			return;
		}
		n += (size_t)snprintf(buf + n, len - n, "%s%s%s", i ? ", " : "", t, tl && t[tl - 1] == '/' ? "*" : "");
	}
	if (!e->ntypes)
		snprintf(buf, len, "none");
}

/* Genesys refuses these in a media file name */
static const char genesys_reserved[] = "\\{^}%`]\">[~<#|";

static void check_name(check *c)
{
	const char *s = c->text;
	size_t len = c->len, i = 0, listed = 0;
	gcmsg_policy_result *r = c->r;

#define NAME_VIOLATION(bs, be, ...)                                                                                \
	do {                                                                                                       \
		if (listed < GCMSG__POLICY_MAX_PER_RULE)                                                          \
			add_violation(r, "attachment.name", (bs), (be), NULL, __VA_ARGS__);                        \
		else if (listed == GCMSG__POLICY_MAX_PER_RULE)                                                    \
			note_cap(r, "attachment.name");                                                            \
		listed++;                                                                                          \
	} while (0)

	if (len == 0) {
		add_violation(r, "attachment.name", 0, 0, "attachment.name (empty)", "the file name is empty");
		return;
	}
	if (s[0] == '.')
		NAME_VIOLATION(0, 1, "the file name starts with '.' (Genesys refuses it)");
	while (i < len) {
		long cp;
		size_t k = char_at(s, len, i, &cp);
		r->cps++;
		r->units += cp > 0xFFFF ? 2 : 1;
		if (cp < 0)
			NAME_VIOLATION(i, i + 1, "invalid UTF-8 in the file name");
		else if (is_control_cp(cp) || cp == '\t' || cp == '\n')
			NAME_VIOLATION(i, i + k, "a control character U+%04lX in the file name", (unsigned long)cp);
		else if (is_space_cp(cp) || cp == 0x180E)
			NAME_VIOLATION(i, i + k, "whitespace in the file name (Genesys refuses it)");
		else if (cp == '/')
			NAME_VIOLATION(i, i + k, "a '/' in the file name: give a file name, not a path");
		else if (cp > 0 && cp < 0x80 && strchr(genesys_reserved, (int)cp))
			NAME_VIOLATION(i, i + k, "'%c' in the file name (Genesys refuses any of \\ { ^ } %% ` ] \" > [ ~ < # |)",
			               (char)cp);
		i += k;
	}
	if (len > 255) {
		/* the span: the characters that do not fit in 255 bytes */
		size_t at = 0;
		long cp;
		while (at < len) {
			size_t k = char_at(s, len, at, &cp);
			if (at + k > 255)
				break;
			at += k;
		}
		NAME_VIOLATION(at, len, "the file name is %zu bytes long; the limit is 255", len);
	}
#undef NAME_VIOLATION
}

int gcmsg_policy_check_attachment(gcmsg_policy_result **out, const gcmsg_policy *policy, const char *file_name,
                                  const char *mime_type, unsigned long long size, const gcmsg_check_options *opts)
{
	gcmsg_policy *tmp;
	gcmsg_policy_result *r;
	check c;
	eff e;
	char type[128], allowed[512];
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (!file_name)
		file_name = "";
	if (strlen(file_name) > GCMSG__POLICY_TEXT_CAP)
		return GCMSG_EUSAGE;
	rc = check_begin(&c, &e, &tmp, policy, &opts, file_name, strlen(file_name));
	if (rc != GCMSG_OK)
		return rc;
	r = c.r;
	r->channel = e.ch == GCMSG__CH_UNKNOWN ? NULL : gcmsg__channel_names[e.ch];
	check_name(&c);
	allowed_list(&e, allowed, sizeof(allowed));
	if (!mime_type || !*mime_type) {
		add_violation(r, "attachment.type", 0, 0, "attachment.type (unknown type)",
		              "the file's type could not be determined (allowed: %s)", allowed);
	} else if (!mime_normalise(mime_type, type, sizeof(type))) {
		add_violation(r, "attachment.type", 0, 0, "attachment.type (not a MIME type)",
		              "the detected type is not a MIME type (allowed: %s)", allowed);
	} else if (!type_allowed(&e, type)) {
		char brief[200];
		snprintf(brief, sizeof(brief), "attachment.type (%s not allowed)", type);
		add_violation(r, "attachment.type", 0, 0, brief, "%s is not an allowed attachment type (allowed: %s)", type,
		              allowed);
	}
	if (size == 0) {
		add_violation(r, "attachment.size", 0, 0, "attachment.size (empty file)", "the file is empty");
	} else if (size > e.max_bytes) {
		char brief[128];
		snprintf(brief, sizeof(brief), "attachment.size (%llu > %llu bytes)", size, e.max_bytes);
		add_violation(r, "attachment.size", 0, 0, brief, "the file is %llu bytes; the limit is %llu bytes", size,
		              e.max_bytes);
	}
	free(e.pat);
	gcmsg_policy_free(tmp);
	return finish(out, r, file_name, c.len);
}

unsigned long long gcmsg_policy_attachment_max_bytes(const gcmsg_policy *p, const gcmsg_check_options *opts)
{
	unsigned long long v = GCMSG__ATTACH_DEFAULT_MAX;
	eff e;

	if (!opts || opts->version != GCMSG_CHECK_OPTIONS_VERSION)
		opts = &default_options;
	if (!p || p->failed)
		return v;
	if (resolve(p, opts, &e) == 0) {
		v = e.max_bytes;
		free(e.pat);
	}
	return v;
}

/* ---- result getters ---- */

size_t gcmsg_policy_result_violation_count(const gcmsg_policy_result *r)
{
	return r ? r->n : 0;
}

#define VIOL(r, i) ((r) && (i) < (r)->n ? &(r)->v[i] : NULL)

const char *gcmsg_policy_result_rule(const gcmsg_policy_result *r, size_t i)
{
	const viol *v = VIOL(r, i);
	return v ? v->rule : NULL;
}

const char *gcmsg_policy_result_message(const gcmsg_policy_result *r, size_t i)
{
	const viol *v = VIOL(r, i);
	return v ? v->message : NULL;
}

size_t gcmsg_policy_result_byte_start(const gcmsg_policy_result *r, size_t i)
{
	const viol *v = VIOL(r, i);
	return v ? v->bs : 0;
}

size_t gcmsg_policy_result_byte_end(const gcmsg_policy_result *r, size_t i)
{
	const viol *v = VIOL(r, i);
	return v ? v->be : 0;
}

size_t gcmsg_policy_result_char_start(const gcmsg_policy_result *r, size_t i)
{
	const viol *v = VIOL(r, i);
	return v ? v->cs : 0;
}

size_t gcmsg_policy_result_char_end(const gcmsg_policy_result *r, size_t i)
{
	const viol *v = VIOL(r, i);
	return v ? v->ce : 0;
}

size_t gcmsg_policy_result_code_points(const gcmsg_policy_result *r)
{
	return r ? r->cps : 0;
}

size_t gcmsg_policy_result_utf16_units(const gcmsg_policy_result *r)
{
	return r ? r->units : 0;
}

size_t gcmsg_policy_result_length_limit(const gcmsg_policy_result *r)
{
	return r ? r->limit : 0;
}

const char *gcmsg_policy_result_channel(const gcmsg_policy_result *r)
{
	return r ? r->channel : NULL;
}

unsigned gcmsg_policy_result_sms_segments(const gcmsg_policy_result *r)
{
	return r ? r->segments : 0;
}

const char *gcmsg_policy_result_sms_encoding(const gcmsg_policy_result *r)
{
	return r ? r->encoding : NULL;
}

const char *gcmsg_policy_result_summary(const gcmsg_policy_result *r)
{
	return r && r->summary ? r->summary : "";
}

size_t gcmsg_policy_result_note_count(const gcmsg_policy_result *r)
{
	return r ? r->nnotes : 0;
}

const char *gcmsg_policy_result_note(const gcmsg_policy_result *r, size_t i)
{
	return r && i < r->nnotes ? r->notes[i] : NULL;
}
