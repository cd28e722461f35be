/*
 * policy_file.c - the policy file (docs/gcmsg-policy.5.md): TOML with arrays
 * of strings, read into a gcmsg_policy. Every error names the file and the
 * line ("policy.toml: line 12: patterns.x: regex does not compile: missing
 * closing parenthesis at byte 5"); unknown tables and keys are errors.
 *
 *   format = 1                          required
 *   [limits] [detectors] [attachments]  the global scope
 *   [pcre]                              matching limits, JIT
 *   [patterns.<id>]                     blocked patterns
 *   [allow.<id>]                        exemptions
 *   [channels.<channel>.<section>]      a channel's scope (section: limits,
 *   [queues."<queue id>".<section>]     detectors, attachments, patterns)
 *
 * Reading order: `format` first (a file of another format is not read
 * further), then the pattern ids (a scope may switch a pattern defined
 * further down), then every key is checked against its table's known keys,
 * then the tables are read in file order.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"
#include "strmap.h"
#include "toml.h"

typedef enum kind {
	K_UNKNOWN = 0,
	K_ROOT,
	K_CONTAINER,  /* holds only tables */
	K_LIMITS,
	K_DETECTORS,
	K_ATTACHMENTS,
	K_SCOPE_PATTERNS,
	K_PCRE,
	K_PATTERN,
	K_ALLOW
} kind;

typedef struct reader {
	gcmsg_policy *p;
	gcmsg__toml_doc doc;
	const char *name;
	gcmsg__strmap queue_index; /* queue id -> index in p->queues */
	size_t queues_alloc;
} reader;

#if defined(__GNUC__)
static int rfail(reader *rd, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif

/* "name: line N: what" (line 0: "name: what") */
static int rfail(reader *rd, int line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = gcmsg__err_vset_at(&rd->p->err, GCMSG_ECONFIG, rd->name, line, fmt, ap);
	va_end(ap);
	return rc;
}

static int oom(reader *rd)
{
	return gcmsg__err_set(&rd->p->err, GCMSG_ERROR, "%s: out of memory", rd->name);
}

static const gcmsg__toml_table *tab(const reader *rd, size_t t)
{
	return &rd->doc.tables[t];
}

static int seg_is(const gcmsg__toml_table *t, size_t i, const char *s)
{
	return i < t->depth && strcmp(t->path[i], s) == 0;
}

static int section_kind(const char *s)
{
	if (strcmp(s, "limits") == 0)
		return K_LIMITS;
	if (strcmp(s, "detectors") == 0)
		return K_DETECTORS;
	if (strcmp(s, "attachments") == 0)
		return K_ATTACHMENTS;
	if (strcmp(s, "patterns") == 0)
		return K_SCOPE_PATTERNS;
	return K_UNKNOWN;
}

/* the channel named exactly (lower case), or -1 */
static int channel_exact(const char *s)
{
	int i;

	for (i = 0; i < GCMSG__CH_COUNT; i++)
		if (strcmp(s, gcmsg__channel_names[i]) == 0)
			return i;
	return -1;
}

static kind classify(const reader *rd, size_t t)
{
	const gcmsg__toml_table *tb = tab(rd, t);

	switch (tb->depth) {
	case 0:
		return K_ROOT;
	case 1:
		if (seg_is(tb, 0, "pcre"))
			return K_PCRE;
		if (seg_is(tb, 0, "patterns") || seg_is(tb, 0, "allow") || seg_is(tb, 0, "channels") ||
		    seg_is(tb, 0, "queues"))
			return K_CONTAINER;
		{
			int k = section_kind(tb->path[0]);
			/* a top-level [patterns] is the definitions' container, handled above */
			return k == K_SCOPE_PATTERNS ? K_UNKNOWN : (kind)k;
		}
	case 2:
		if (seg_is(tb, 0, "patterns"))
			return K_PATTERN;
		if (seg_is(tb, 0, "allow"))
			return K_ALLOW;
		if (seg_is(tb, 0, "channels"))
			return channel_exact(tb->path[1]) >= 0 ? K_CONTAINER : K_UNKNOWN;
		if (seg_is(tb, 0, "queues"))
			return K_CONTAINER;
		return K_UNKNOWN;
	case 3:
		if ((seg_is(tb, 0, "channels") && channel_exact(tb->path[1]) >= 0) || seg_is(tb, 0, "queues"))
			return (kind)section_kind(tb->path[2]);
		return K_UNKNOWN;
	default:
		return K_UNKNOWN;
	}
}

static const char *const root_keys[] = { "format", NULL };
static const char *const limits_keys[] = { "max_length", "max_segments", NULL };
static const char *const attachments_keys[] = { "max_bytes", "types", NULL };
static const char *const pcre_keys[] = { "match_limit", "depth_limit", "heap_limit", "jit", NULL };
static const char *const pattern_keys[] = { "regex", "message", "ignore_case", "enabled", NULL };
static const char *const allow_keys[] = { "regex", "rules", "ignore_case", NULL };

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static void join(char *buf, size_t len, const char *const *list, size_t n)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; (n == (size_t)-1 ? list[i] != NULL : i < n) && used + 1 < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", list[i]);
		if (w < 0 || (size_t)w >= len - used) {
			if (len > 5)
				snprintf(buf + (len - 5), 5, "...");
			return;
		}
		used += (size_t)w;
	}
}

static const char *table_name(const reader *rd, size_t t)
{
	return tab(rd, t)->name;
}

static int pattern_index(const gcmsg_policy *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->npatterns; i++)
		if (strcmp(p->patterns[i].id, id) == 0)
			return (int)i;
	return -1;
}

static int known_tables_error(reader *rd, size_t t)
{
	const gcmsg__toml_table *tb = tab(rd, t);

	if (tb->depth >= 2 && seg_is(tb, 0, "channels") && channel_exact(tb->path[1]) < 0) {
		char known[256];
		join(known, sizeof(known), gcmsg__channel_names, GCMSG__CH_COUNT);
		return rfail(rd, tb->line, "[%s]: unknown channel '%s' (known: %s)", tb->name, tb->path[1], known);
	}
	if (tb->depth == 3)
		return rfail(rd, tb->line, "unknown table [%s] (a channel or a queue has: limits, detectors, attachments, "
		                           "patterns)",
		             tb->name);
	return rfail(rd, tb->line,
	             "unknown table [%s] (known: [limits], [detectors], [attachments], [pcre], [patterns.<id>], "
	             "[allow.<id>], [channels.<channel>.<section>], [queues.\"<queue id>\".<section>])",
	             tb->name);
}

/* every key of the document against its table's known keys */
static int check_keys(reader *rd)
{
	size_t i;

	for (i = 0; i < rd->doc.count; i++) {
		const gcmsg__toml_entry *e = &rd->doc.items[i];
		kind k = classify(rd, e->tindex);
		const char *const *known = NULL;
		char list[512];

		switch (k) {
		case K_UNKNOWN:
			return known_tables_error(rd, e->tindex);
		case K_ROOT: known = root_keys; break;
		case K_LIMITS: known = limits_keys; break;
		case K_ATTACHMENTS: known = attachments_keys; break;
		case K_PCRE: known = pcre_keys; break;
		case K_PATTERN: known = pattern_keys; break;
		case K_ALLOW: known = allow_keys; break;
		case K_CONTAINER:
			return rfail(rd, e->line, "[%s]: unknown key '%s' ([%s] holds only tables)", table_name(rd, e->tindex),
			             e->key, table_name(rd, e->tindex));
		case K_DETECTORS:
			if (gcmsg__detector_lookup(e->key) >= 0)
				continue;
			join(list, sizeof(list), gcmsg__detector_names, GCMSG__DET_COUNT);
			return rfail(rd, e->line, "[%s]: unknown detector '%s' (known: %s)", table_name(rd, e->tindex), e->key,
			             list);
		case K_SCOPE_PATTERNS:
			if (pattern_index(rd->p, e->key) >= 0)
				continue;
			return rfail(rd, e->line, "[%s]: '%s' is not a pattern defined in this file (a [patterns.%s] table)",
			             table_name(rd, e->tindex), e->key, e->key);
		}
		if (in_list(known, e->key))
			continue;
		join(list, sizeof(list), known, (size_t)-1);
		if (k == K_ROOT)
			return rfail(rd, e->line, "unknown key '%s' before any table (known: %s)", e->key, list);
		return rfail(rd, e->line, "[%s]: unknown key '%s' (known: %s)", table_name(rd, e->tindex), e->key, list);
	}
	return GCMSG_OK;
}

/* ---- typed getters: 1 found, 0 absent, or an error code (< 0) ---- */

static int get_int(reader *rd, size_t t, const char *key, long long lo, long long hi, long long *out)
{
	const gcmsg__toml_entry *e = gcmsg__toml_get_in(&rd->doc, t, key);

	if (!e)
		return 0;
	if (e->type != GCMSG_TOML_INT)
		return rfail(rd, e->line, "[%s]: '%s' must be an integer", table_name(rd, t), key);
	if (e->num < lo || e->num > hi)
		return rfail(rd, e->line, "[%s]: %s = %lld is out of range (%lld to %lld)", table_name(rd, t), key, e->num,
		             lo, hi);
	*out = e->num;
	return 1;
}

static int get_bool(reader *rd, size_t t, const char *key, int *out)
{
	const gcmsg__toml_entry *e = gcmsg__toml_get_in(&rd->doc, t, key);

	if (!e)
		return 0;
	if (e->type != GCMSG_TOML_BOOL)
		return rfail(rd, e->line, "[%s]: '%s' must be true or false", table_name(rd, t), key);
	*out = e->num != 0;
	return 1;
}

static int get_str(reader *rd, size_t t, const char *key, const gcmsg__toml_entry **out)
{
	const gcmsg__toml_entry *e = gcmsg__toml_get_in(&rd->doc, t, key);

	*out = e;
	if (!e)
		return 0;
	if (e->type != GCMSG_TOML_STRING)
		return rfail(rd, e->line, "[%s]: '%s' must be a string", table_name(rd, t), key);
	if (!*e->str)
		return rfail(rd, e->line, "[%s]: '%s' must not be empty", table_name(rd, t), key);
	return 1;
}

static int table_line(const reader *rd, size_t t)
{
	return tab(rd, t)->line;
}

/* ---- scopes ---- */

/* the scope a table of depth 1 or 3 belongs to; NULL when out of memory (reported) */
static gcmsg__scope *scope_of(reader *rd, size_t t, int *channel)
{
	const gcmsg__toml_table *tb = tab(rd, t);
	gcmsg_policy *p = rd->p;
	size_t idx;

	*channel = -2; /* global */
	if (tb->depth == 1)
		return &p->global;
	if (seg_is(tb, 0, "channels")) {
		*channel = channel_exact(tb->path[1]);
		return &p->channels[*channel];
	}
	/* a queue: found or added */
	*channel = -1;
	if (gcmsg__strmap_get(&rd->queue_index, tb->path[1], strlen(tb->path[1]), &idx))
		return &p->queues[idx].scope;
	if (p->nqueues == GCMSG__POLICY_MAX_QUEUES) {
		rfail(rd, tb->line, "more than %zu queues", GCMSG__POLICY_MAX_QUEUES);
		return NULL;
	}
	if (p->nqueues == rd->queues_alloc) {
		size_t n = rd->queues_alloc ? rd->queues_alloc * 2 : 8;
		gcmsg__queue_scope *q = realloc(p->queues, n * sizeof(*q));
		if (!q) {
			oom(rd);
			return NULL;
		}
		p->queues = q;
		rd->queues_alloc = n;
	}
	p->queues[p->nqueues].queue_id = gcmsg__strdup(tb->path[1]);
	gcmsg__scope_init(&p->queues[p->nqueues].scope);
	if (!p->queues[p->nqueues].queue_id ||
	    gcmsg__strmap_put(&rd->queue_index, tb->path[1], strlen(tb->path[1]), p->nqueues) < 0) {
		free(p->queues[p->nqueues].queue_id);
		oom(rd);
		return NULL;
	}
	return &p->queues[p->nqueues++].scope;
}

static int check_queue_id(reader *rd, size_t t)
{
	const gcmsg__toml_table *tb = tab(rd, t);
	const char *q;

	if (!*tb->path[1])
		return rfail(rd, tb->line, "[%s]: a queue id must not be empty", tb->name);
	if (strlen(tb->path[1]) > 128)
		return rfail(rd, tb->line, "[%s]: a queue id of more than 128 bytes", tb->name);
	for (q = tb->path[1]; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7F)
			return rfail(rd, tb->line, "[%s]: a queue id holds a space or a control character", tb->name);
	return GCMSG_OK;
}

static int read_limits(reader *rd, size_t t, gcmsg__scope *s, int channel)
{
	long long v;
	int rc;
	long long hi = channel >= 0 ? (long long)gcmsg__channel_limit((gcmsg__channel)channel) : GCMSG__LIMIT_MAX;

	rc = get_int(rd, t, "max_length", 1, 0x7fffffffLL, &v);
	if (rc < 0)
		return rc;
	if (rc) {
		if (v > hi) {
			const gcmsg__toml_entry *e = gcmsg__toml_get_in(&rd->doc, t, "max_length");
			if (channel >= 0)
				return rfail(rd, e->line,
				             "[%s]: max_length = %lld is above Genesys' limit for %s (%lld UTF-16 units); a "
				             "policy may only lower it",
				             table_name(rd, t), v, gcmsg__channel_names[channel], hi);
			return rfail(rd, e->line,
			             "[%s]: max_length = %lld is above every Genesys limit (the highest is %lld, legacy chat); "
			             "a policy may only lower them",
			             table_name(rd, t), v, hi);
		}
		s->max_length = (long)v;
	}
	rc = get_int(rd, t, "max_segments", 1, GCMSG__SMS_MAX_SEGMENTS, &v);
	if (rc < 0)
		return rc;
	if (rc) {
		if (channel >= 0 && channel != GCMSG__CH_SMS)
			return rfail(rd, gcmsg__toml_get_in(&rd->doc, t, "max_segments")->line,
			             "[%s]: max_segments applies only to sms", table_name(rd, t));
		s->max_segments = (long)v;
	}
	return GCMSG_OK;
}

static int read_detectors(reader *rd, size_t t, gcmsg__scope *s)
{
	int d, on, rc;

	for (d = 0; d < GCMSG__DET_COUNT; d++) {
		rc = get_bool(rd, t, gcmsg__detector_names[d], &on);
		if (rc < 0)
			return rc;
		if (rc)
			s->det[d] = (signed char)on;
	}
	return GCMSG_OK;
}

static int mime_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr("!#$&^_.+-", c));
}

/* "type/subtype", or a wildcard "type/" followed by "*" (any case): lower case, "type/" for the wildcard; NULL when invalid or OOM */
static char *mime_entry(const char *in, int *bad)
{
	size_t n = strlen(in), i, slash = 0;
	char *out;

	*bad = 1;
	if (n == 0 || n > 127)
		return NULL;
	out = malloc(n + 1);
	if (!out) {
		*bad = 0;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		if (c == '/' && !slash && i > 0) {
			slash = i + 1;
		} else if (c == '*' && slash == i && i + 1 == n) {
			out[i] = '\0'; /* "type/" */
			*bad = 0;
			return out;
		} else if (!mime_char(c)) {
			free(out);
			return NULL;
		}
		out[i] = (char)c;
	}
	out[n] = '\0';
	if (!slash || slash == n) {
		free(out);
		return NULL;
	}
	*bad = 0;
	return out;
}

static int read_attachments(reader *rd, size_t t, gcmsg__scope *s)
{
	const gcmsg__toml_entry *e;
	long long v;
	size_t i;
	int rc = get_int(rd, t, "max_bytes", 1, (long long)GCMSG__ATTACH_HARD_MAX, &v);

	if (rc < 0)
		return rc;
	if (rc)
		s->max_bytes = v;
	e = gcmsg__toml_get_in(&rd->doc, t, "types");
	if (!e)
		return GCMSG_OK;
	if (e->type != GCMSG_TOML_ARRAY)
		return rfail(rd, e->line, "[%s]: 'types' must be an array of MIME types ([\"image/png\", \"image/*\"])",
		             table_name(rd, t));
	if (e->narr > GCMSG__POLICY_MAX_TYPES)
		return rfail(rd, e->line, "[%s]: more than %zu types", table_name(rd, t), GCMSG__POLICY_MAX_TYPES);
	if (e->narr) {
		s->types = calloc(e->narr, sizeof(char *));
		if (!s->types)
			return oom(rd);
	}
	s->types_set = 1;
	for (i = 0; i < e->narr; i++) {
		int bad;
		char *m = mime_entry(e->arr[i], &bad);
		if (!m && bad)
			return rfail(rd, e->line, "[%s]: types: '%.80s' is not a MIME type (type/subtype, or type/*)",
			             table_name(rd, t), e->arr[i]);
		if (!m)
			return oom(rd);
		s->types[s->ntypes++] = m;
	}
	return GCMSG_OK;
}

static int read_scope_patterns(reader *rd, size_t t, gcmsg__scope *s)
{
	size_t i;
	int on, rc;

	/* check_keys made sure that every key here names a pattern */
	for (i = 0; i < rd->p->npatterns; i++) {
		rc = get_bool(rd, t, rd->p->patterns[i].id, &on);
		if (rc < 0)
			return rc;
		if (!rc)
			continue;
		if (!s->pat) {
			s->pat = malloc(rd->p->npatterns);
			if (!s->pat)
				return oom(rd);
			memset(s->pat, -1, rd->p->npatterns);
		}
		s->pat[i] = (signed char)on;
	}
	return GCMSG_OK;
}

static int read_pcre(reader *rd, size_t t)
{
	gcmsg_policy *p = rd->p;
	long long v;
	int rc, on;

	if ((rc = get_int(rd, t, "match_limit", 1, 100000000LL, &v)) < 0)
		return rc;
	if (rc)
		p->match_limit = (unsigned long)v;
	if ((rc = get_int(rd, t, "depth_limit", 1, 100000000LL, &v)) < 0)
		return rc;
	if (rc)
		p->depth_limit = (unsigned long)v;
	if ((rc = get_int(rd, t, "heap_limit", 64, 4194304LL, &v)) < 0)
		return rc;
	if (rc)
		p->heap_limit_kib = (unsigned long)v;
	if ((rc = get_bool(rd, t, "jit", &on)) < 0)
		return rc;
	if (rc)
		p->jit = on;
	return GCMSG_OK;
}

/* ---- patterns and allow entries ---- */

static int valid_id(const char *id)
{
	size_t n = strlen(id), i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* pass A: the pattern ids, in file order */
static int collect_patterns(reader *rd)
{
	gcmsg_policy *p = rd->p;
	size_t t, n = 0, alloc = 0;

	for (t = 1; t < rd->doc.ntables; t++) {
		const gcmsg__toml_table *tb = tab(rd, t);
		gcmsg__pattern *pat;
		if (tb->depth != 2 || !seg_is(tb, 0, "patterns"))
			continue;
		if (!valid_id(tb->path[1]))
			return rfail(rd, tb->line, "[%s]: a pattern id is 1 to 64 letters, digits, '_' or '-'", tb->name);
		if (strcmp(tb->path[1], "limit") == 0 || strcmp(tb->path[1], "error") == 0)
			return rfail(rd, tb->line, "[%s]: '%s' is reserved (rule pattern.%s is gcmsg's own)", tb->name,
			             tb->path[1], tb->path[1]);
		if (n == GCMSG__POLICY_MAX_PATTERNS)
			return rfail(rd, tb->line, "more than %zu patterns", GCMSG__POLICY_MAX_PATTERNS);
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 8;
			gcmsg__pattern *v = realloc(p->patterns, na * sizeof(*v));
			if (!v)
				return oom(rd);
			p->patterns = v;
			alloc = na;
		}
		pat = &p->patterns[n];
		memset(pat, 0, sizeof(*pat));
		pat->enabled = 1;
		pat->id = gcmsg__strdup(tb->path[1]);
		if (!pat->id)
			return oom(rd);
		p->npatterns = ++n;
	}
	return GCMSG_OK;
}

/* the regex of a [patterns.*] or [allow.*] table, compiled */
static int compile_regex(reader *rd, size_t t, int caseless, pcre2_code **out)
{
	const gcmsg__toml_entry *e;
	char why[320];
	int rc = get_str(rd, t, "regex", &e);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return rfail(rd, table_line(rd, t), "[%s]: missing required key 'regex'", table_name(rd, t));
	if (strlen(e->str) > GCMSG__POLICY_MAX_REGEX)
		return rfail(rd, e->line, "[%s]: a regex of more than %zu KiB", table_name(rd, t), GCMSG__POLICY_MAX_REGEX >> 10);
	*out = gcmsg__policy_compile(e->str, caseless, rd->p->jit, why, sizeof(why));
	if (!*out)
		return rfail(rd, e->line, "[%s]: regex does not compile: %s", table_name(rd, t), why);
	return GCMSG_OK;
}

/*
 * Whether the compiled regex may match the empty string: PCRE2's minimum
 * length of a match is 0 (so `\b|word` and `(?=.*x)` are refused: they match
 * empty somewhere, where an empty subject may not show it), or it matches the
 * empty subject (small limits: a failure counts as no).
 */
static int matches_empty(const pcre2_code *code)
{
	pcre2_match_data *md;
	pcre2_match_context *mc;
	/* JIT code reads past the end of the subject: zeroed slack, as in policy.c */
	static const char empty[64];
	uint32_t minlength = 0;
	int rc = -1;

	if (pcre2_pattern_info(code, PCRE2_INFO_MINLENGTH, &minlength) != 0 || minlength == 0)
		return 1;
	md = pcre2_match_data_create(1, NULL);
	mc = pcre2_match_context_create(NULL);
	if (md && mc) {
		pcre2_set_match_limit(mc, 10000);
		pcre2_set_depth_limit(mc, 1000);
		rc = pcre2_match(code, (PCRE2_SPTR)empty, 0, 0, 0, md, mc);
	}
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	return rc >= 0;
}

static int read_pattern(reader *rd, size_t t)
{
	gcmsg__pattern *pat = &rd->p->patterns[pattern_index(rd->p, tab(rd, t)->path[1])];
	const gcmsg__toml_entry *msg;
	int caseless = 0, rc;
	const char *q;

	if ((rc = get_bool(rd, t, "ignore_case", &caseless)) < 0)
		return rc;
	if ((rc = get_bool(rd, t, "enabled", &pat->enabled)) < 0)
		return rc;
	if ((rc = get_str(rd, t, "message", &msg)) < 0)
		return rc;
	if (rc) {
		if (strlen(msg->str) > 300)
			return rfail(rd, msg->line, "[%s]: a message of more than 300 bytes", table_name(rd, t));
		for (q = msg->str; *q; q++)
			if ((unsigned char)*q < ' ' || *q == 0x7F)
				return rfail(rd, msg->line, "[%s]: a message is one line, without control characters",
				             table_name(rd, t));
		pat->message = gcmsg__strdup(msg->str);
		if (!pat->message)
			return oom(rd);
	}
	if ((rc = compile_regex(rd, t, caseless, &pat->code)) < 0)
		return rc;
	if (matches_empty(pat->code))
		return rfail(rd, gcmsg__toml_get_in(&rd->doc, t, "regex")->line,
		             "[%s]: the regex matches the empty string; a blocked pattern must match at least one "
		             "character",
		             table_name(rd, t));
	return GCMSG_OK;
}

static int exemptable(const gcmsg_policy *p, const char *rule)
{
	if (strncmp(rule, "detector.", 9) == 0)
		return gcmsg__detector_lookup(rule + 9) >= 0;
	if (strncmp(rule, "pattern.", 8) == 0)
		return pattern_index(p, rule + 8) >= 0;
	return 0;
}

static int read_allow(reader *rd, size_t t, size_t *alloc)
{
	gcmsg_policy *p = rd->p;
	const gcmsg__toml_table *tb = tab(rd, t);
	const gcmsg__toml_entry *e;
	gcmsg__allow *a;
	int caseless = 0, rc;
	size_t i;

	if (!valid_id(tb->path[1]))
		return rfail(rd, tb->line, "[%s]: an allow id is 1 to 64 letters, digits, '_' or '-'", tb->name);
	if (p->nallows == GCMSG__POLICY_MAX_PATTERNS)
		return rfail(rd, tb->line, "more than %zu allow entries", GCMSG__POLICY_MAX_PATTERNS);
	if (p->nallows == *alloc) {
		size_t n = *alloc ? *alloc * 2 : 8;
		gcmsg__allow *v = realloc(p->allows, n * sizeof(*v));
		if (!v)
			return oom(rd);
		p->allows = v;
		*alloc = n;
	}
	a = &p->allows[p->nallows];
	memset(a, 0, sizeof(*a));
	a->id = gcmsg__strdup(tb->path[1]);
	if (!a->id)
		return oom(rd);
	p->nallows++;
	e = gcmsg__toml_get_in(&rd->doc, t, "rules");
	if (!e)
		return rfail(rd, tb->line, "[%s]: missing required key 'rules' (the rule ids it exempts, e.g. "
		                           "[\"detector.payment-card\"])",
		             tb->name);
	if (e->type != GCMSG_TOML_ARRAY || e->narr == 0)
		return rfail(rd, e->line, "[%s]: 'rules' must be a non-empty array of rule ids", tb->name);
	if (e->narr > 100)
		return rfail(rd, e->line, "[%s]: more than 100 rules", tb->name);
	for (i = 0; i < e->narr; i++)
		if (!exemptable(p, e->arr[i]))
			return rfail(rd, e->line,
			             "[%s]: rules: '%.80s' cannot be exempted (only detector.<name> and pattern.<id> of a "
			             "pattern defined in this file)",
			             tb->name, e->arr[i]);
	a->rules = calloc(e->narr, sizeof(char *));
	if (!a->rules)
		return oom(rd);
	for (i = 0; i < e->narr; i++) {
		a->rules[i] = gcmsg__strdup(e->arr[i]);
		if (!a->rules[i])
			return oom(rd);
		a->nrules = i + 1;
	}
	if ((rc = get_bool(rd, t, "ignore_case", &caseless)) < 0)
		return rc;
	return compile_regex(rd, t, caseless, &a->code);
}

/* ---- the document ---- */

static int read_format(reader *rd)
{
	const gcmsg__toml_entry *e = gcmsg__toml_get_in(&rd->doc, 0, "format");

	if (!e)
		return rfail(rd, 0, "missing 'format = 1' (the first line of a policy file)");
	if (e->type != GCMSG_TOML_INT)
		return rfail(rd, e->line, "'format' must be an integer (format = 1)");
	if (e->num != 1)
		return rfail(rd, e->line, "format = %lld is not supported (this gcmsg reads format 1)", e->num);
	return GCMSG_OK;
}

static int read_tables(reader *rd)
{
	size_t t, allow_alloc = 0;
	int rc;

	/* [pcre] first: `jit` applies to every regex compiled below */
	for (t = 1; t < rd->doc.ntables; t++)
		if (classify(rd, t) == K_PCRE && (rc = read_pcre(rd, t)) < 0)
			return rc;
	for (t = 1; t < rd->doc.ntables; t++) {
		const gcmsg__toml_table *tb = tab(rd, t);
		gcmsg__scope *s;
		int channel;
		kind k = classify(rd, t);

		if (tb->implicit && (k == K_UNKNOWN || k == K_PATTERN || k == K_ALLOW))
			continue; /* only implied by a deeper header, which is reported instead */
		if (k == K_UNKNOWN)
			return known_tables_error(rd, t);
		if (tb->depth >= 2 && !tb->implicit && seg_is(tb, 0, "queues") && (rc = check_queue_id(rd, t)) < 0)
			return rc;
		switch (k) {
		case K_LIMITS:
		case K_DETECTORS:
		case K_ATTACHMENTS:
		case K_SCOPE_PATTERNS:
			s = scope_of(rd, t, &channel);
			if (!s)
				return rd->p->err.pub.code;
			rc = k == K_LIMITS        ? read_limits(rd, t, s, channel)
			     : k == K_DETECTORS   ? read_detectors(rd, t, s)
			     : k == K_ATTACHMENTS ? read_attachments(rd, t, s)
			                          : read_scope_patterns(rd, t, s);
			break;
		case K_PATTERN:
			rc = read_pattern(rd, t);
			break;
		case K_ALLOW:
			rc = read_allow(rd, t, &allow_alloc);
			break;
		default:
			rc = GCMSG_OK;
			break;
		}
		if (rc < 0)
			return rc;
	}
	return GCMSG_OK;
}

int gcmsg__policy_parse(gcmsg_policy *p, const char *text, size_t len, const char *name)
{
	reader rd;
	char why[512];
	int rc;

	memset(&rd, 0, sizeof(rd));
	rd.p = p;
	rd.name = name;
	if (len > GCMSG__POLICY_FILE_CAP)
		return rfail(&rd, 0, "larger than %zu KiB", GCMSG__POLICY_FILE_CAP >> 10);
	if (gcmsg__toml_parse_ex(&rd.doc, text, len, GCMSG__TOML_ARRAYS, why, sizeof(why)) < 0) {
		rc = strstr(why, "out of memory") ? oom(&rd) : gcmsg__err_set(&p->err, GCMSG_ECONFIG, "%s: %s", name, why);
		gcmsg__toml_free(&rd.doc);
		if (rc == GCMSG_ECONFIG)
			gcmsg__err_set_fix(&p->err, "correct %s (the format is in gcmsg-policy(5))", name);
		return rc;
	}
	rc = read_format(&rd);
	if (rc == GCMSG_OK)
		rc = collect_patterns(&rd);
	if (rc == GCMSG_OK)
		rc = check_keys(&rd);
	if (rc == GCMSG_OK)
		rc = read_tables(&rd);
	gcmsg__toml_free(&rd.doc);
	gcmsg__strmap_free(&rd.queue_index);
	if (rc == GCMSG_OK)
		gcmsg__err_clear(&p->err);
	else if (rc == GCMSG_ECONFIG)
		gcmsg__err_set_fix(&p->err, "correct %s (the format is in gcmsg-policy(5))", name);
	return rc;
}
