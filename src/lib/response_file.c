/*
 * response_file.c - library files: canned responses kept in version control
 * (and, written by sync, in the offline store). Format and rules:
 * docs/gcmsg-library.5.md. Reading goes through the TOML reader (toml.c);
 * writing is canonical so that a synced file only changes when its content
 * does, and whatever is read writes back to the same model.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "response_file.h"
#include "response_api.h"
#include "strmap.h"
#include "toml.h"

/* ---- small helpers ---- */

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static size_t max_responses(gcmsg__libfile_mode mode)
{
	return mode == GCMSG__LIBFILE_STORE ? GCMSG__STOREFILE_MAX_RESPONSES : GCMSG__LIBFILE_MAX_RESPONSES;
}

void gcmsg__library_info_clear(gcmsg__library_info *info)
{
	if (!info)
		return;
	free(info->id);
	free(info->name);
	free(info->default_language);
	memset(info, 0, sizeof(*info));
	info->version = -1;
}

int gcmsg__read_file(const char *path, gcmsg_buf *b)
{
	struct stat st;
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), saved; /* a FIFO must not block us */

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if ((unsigned long long)st.st_size > (unsigned long long)b->cap) {
		errno = EFBIG;
		goto fail;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		if (gcmsg__buf_append(b, chunk, (size_t)n) < 0) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* ---- reading ---- */

typedef struct resp_builder {
	size_t tindex;                     /* its [responses.<id>] table */
	size_t *substs, *langs, *texts;    /* tables of its substitutions, variants, other texts */
	size_t nsubsts, nlangs, ntexts;
} resp_builder;

typedef struct reader {
	const char *path;
	gcmsg__libfile_mode mode;
	gcmsg__toml_doc doc;
	gcmsg_response_set *set;           /* where errors go */
	resp_builder *resps;
	size_t nresps;
	gcmsg__strmap ids;                 /* response id -> index in resps */
	gcmsg__library_info lib;
	int oom;
} reader;

#if defined(__GNUC__)
static int rfail(reader *rd, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif

/* "path: line N: what" (line 0: no line) */
static int rfail(reader *rd, int line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = gcmsg__err_vset_at(&rd->set->err, GCMSG_ECONFIG, rd->path, line, fmt, ap);
	va_end(ap);
	return rc;
}

static int room(reader *rd)
{
	rd->oom = 1;
	return gcmsg__err_set(&rd->set->err, GCMSG_ERROR, "%s: out of memory", rd->path);
}

static const gcmsg__toml_table *table_of(const reader *rd, size_t t)
{
	return &rd->doc.tables[t];
}

/* the line to blame for a table: its header's */
static int tline(const reader *rd, size_t t)
{
	return rd->doc.tables[t].line > 0 ? rd->doc.tables[t].line : 1;
}

static const char *const library_keys[] = { "name", "id", "version", "default_language", NULL };
static const char *const response_keys[] = { "name", "text", "content_type", "version", "interaction_type",
	                                     "response_type", "template_name", "template_language",
	                                     "date_created", NULL };
static const char *const subst_keys[] = { "description", "default", NULL };
static const char *const lang_keys[] = { "text", "content_type", NULL };
static const char *const text_keys[] = { "text", "content_type", "type", "language", NULL };
static const char *const root_keys[] = { "format", NULL };
static const char *const no_keys[] = { NULL };

static const char *const content_types[] = { "text/plain", "text/html", NULL };
static const char *const interaction_types[] = { "chat", "email", "twitter", NULL };
static const char *const response_types[] = { "MessagingTemplate", "CampaignSmsTemplate",
	                                      "CampaignEmailTemplate", "Footer", "Form", "AppleInvitation",
	                                      NULL };
static const char *const text_types[] = { "body", "subject", NULL };

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static void join_list(char *out, size_t outlen, const char *const *list)
{
	size_t n = 0;

	out[0] = '\0';
	for (; *list && n < outlen; list++) {
		int k = snprintf(out + n, outlen - n, "%s%s", n ? ", " : "", *list);
		if (k < 0)
			break;
		n += (size_t)k;
	}
}

/* What kind of table is doc->tables[t]; the keys it allows. NULL: not a table of the format. */
enum tkind { T_ROOT, T_LIBRARY, T_CONTAINER, T_RESPONSE, T_SUBST, T_LANG, T_TEXT };

static const char *const *kind_keys(enum tkind k)
{
	switch (k) {
	case T_ROOT: return root_keys;
	case T_LIBRARY: return library_keys;
	case T_RESPONSE: return response_keys;
	case T_SUBST: return subst_keys;
	case T_LANG: return lang_keys;
	case T_TEXT: return text_keys;
	default: return no_keys;
	}
}

static int classify(const gcmsg__toml_table *t, enum tkind *kind)
{
	char *const *p = t->path;

	switch (t->depth) {
	case 0:
		*kind = T_ROOT;
		return 0;
	case 1:
		if (strcmp(p[0], "library") == 0) {
			*kind = T_LIBRARY;
			return 0;
		}
		if (strcmp(p[0], "responses") == 0) {
			*kind = T_CONTAINER;
			return 0;
		}
		return -1;
	case 2:
		if (strcmp(p[0], "responses") != 0)
			return -1;
		*kind = T_RESPONSE;
		return 0;
	case 3:
	case 4:
		if (strcmp(p[0], "responses") != 0)
			return -1;
		if (strcmp(p[2], "substitutions") == 0)
			*kind = t->depth == 3 ? T_CONTAINER : T_SUBST;
		else if (strcmp(p[2], "languages") == 0)
			*kind = t->depth == 3 ? T_CONTAINER : T_LANG;
		else if (strcmp(p[2], "texts") == 0)
			*kind = t->depth == 3 ? T_CONTAINER : T_TEXT;
		else
			return -1;
		return 0;
	default:
		return -1;
	}
}

static int table_error(reader *rd, size_t t)
{
	const gcmsg__toml_table *tab = table_of(rd, t);

	if (tab->depth >= 3 && strcmp(tab->path[0], "responses") == 0)
		return rfail(rd, tline(rd, t),
		             "unknown table [%s] (a response's tables are substitutions.<id>, languages.<language> "
		             "and texts.<label>)",
		             tab->name);
	return rfail(rd, tline(rd, t), "unknown table [%s] (known: [library], [responses.<id>])", tab->name);
}

/* every key must be known in its table */
static int check_keys(reader *rd, const enum tkind *kinds)
{
	size_t i;
	char known[256];

	for (i = 0; i < rd->doc.count; i++) {
		const gcmsg__toml_entry *e = &rd->doc.items[i];
		enum tkind k = kinds[e->tindex];
		const char *const *keys = kind_keys(k);
		if (in_list(keys, e->key))
			continue;
		if (k == T_CONTAINER)
			return rfail(rd, e->line, "%s: unknown key '%s' (%s holds only tables)", e->table, e->key,
			             e->table);
		join_list(known, sizeof(known), keys);
		if (k == T_ROOT)
			return rfail(rd, e->line, "unknown key '%s' before any table (known: %s)", e->key, known);
		return rfail(rd, e->line, "%s: unknown key '%s' (known: %s)", e->table, e->key, known);
	}
	return 0;
}

/* typed getters: 1 found, 0 absent, -1 error (reported) */
static int get_str(reader *rd, size_t t, const char *key, const char **out, int nonempty)
{
	const gcmsg__toml_entry *e = gcmsg__toml_get_in(&rd->doc, t, key);

	*out = NULL;
	if (!e)
		return 0;
	if (e->type != GCMSG_TOML_STRING)
		return rfail(rd, e->line, "%s: '%s' must be a string", table_of(rd, t)->name, key), -1;
	if (nonempty && !*e->str)
		return rfail(rd, e->line, "%s: '%s' must not be empty", table_of(rd, t)->name, key), -1;
	*out = e->str;
	return 1;
}

static int get_enum(reader *rd, size_t t, const char *key, const char *const *values, const char **out)
{
	const gcmsg__toml_entry *e;
	char known[256];
	int rc = get_str(rd, t, key, out, 1);

	if (rc <= 0 || rd->mode == GCMSG__LIBFILE_STORE || in_list(values, *out))
		return rc;
	e = gcmsg__toml_get_in(&rd->doc, t, key);
	join_list(known, sizeof(known), values);
	rfail(rd, e->line, "%s: bad %s '%s' (one of: %s)", table_of(rd, t)->name, key, *out, known);
	return -1;
}

static int get_version(reader *rd, size_t t, const char *key, long *out)
{
	const gcmsg__toml_entry *e = gcmsg__toml_get_in(&rd->doc, t, key);

	*out = -1;
	if (!e)
		return 0;
	if (e->type != GCMSG_TOML_INT)
		return rfail(rd, e->line, "%s: '%s' must be an integer", table_of(rd, t)->name, key), -1;
	if (e->num < 0 || e->num > LONG_MAX)
		return rfail(rd, e->line, "%s: '%s' must be 0 or more", table_of(rd, t)->name, key), -1;
	*out = (long)e->num;
	return 1;
}

static int missing(reader *rd, size_t t, const char *key)
{
	const gcmsg__toml_table *tab = table_of(rd, t);

	if (tab->depth == 0)
		return rfail(rd, 1, "missing required key '%s'", key);
	return rfail(rd, tline(rd, t), "%s: missing required key '%s'", tab->name, key);
}

static int push_index(size_t **arr, size_t *n, size_t v)
{
	size_t *p = realloc(*arr, (*n + 1) * sizeof(size_t));

	if (!p)
		return -1;
	*arr = p;
	p[(*n)++] = v;
	return 0;
}

static void free_builders(reader *rd)
{
	size_t i;

	for (i = 0; i < rd->nresps; i++) {
		free(rd->resps[i].substs);
		free(rd->resps[i].langs);
		free(rd->resps[i].texts);
	}
	free(rd->resps);
	rd->resps = NULL;
	rd->nresps = 0;
	gcmsg__strmap_free(&rd->ids);
}

/* group the tables: one builder per response, sub-tables appended to theirs in file order */
static int collect(reader *rd, const enum tkind *kinds)
{
	size_t t, v;

	for (t = 0; t < rd->doc.ntables; t++) {
		const gcmsg__toml_table *tab = table_of(rd, t);
		resp_builder *b;
		int rc;
		if (kinds[t] == T_RESPONSE) {
			const char *id = tab->path[1];
			if (!*id)
				return rfail(rd, tline(rd, t), "%s: a response id must not be empty", tab->name);
			if (rd->nresps == max_responses(rd->mode))
				return rfail(rd, tline(rd, t), "more than %zu responses in one file",
				             max_responses(rd->mode));
			b = realloc(rd->resps, (rd->nresps + 1) * sizeof(*b));
			if (!b)
				return room(rd);
			rd->resps = b;
			b = &rd->resps[rd->nresps];
			memset(b, 0, sizeof(*b));
			b->tindex = t;
			if (gcmsg__strmap_put(&rd->ids, id, strlen(id), rd->nresps) < 0)
				return room(rd);
			rd->nresps++;
			continue;
		}
		if (kinds[t] != T_SUBST && kinds[t] != T_LANG && kinds[t] != T_TEXT)
			continue;
		if (!*tab->path[3])
			return rfail(rd, tline(rd, t), "%s: %s must not be empty", tab->name,
			             kinds[t] == T_SUBST ? "a substitution id" :
			             kinds[t] == T_LANG ? "a language" : "a text label");
		/* the response table comes first: it is a prefix, implied if not defined */
		if (!gcmsg__strmap_get(&rd->ids, tab->path[1], strlen(tab->path[1]), &v))
			return rfail(rd, tline(rd, t), "%s: internal error: no response table", tab->name);
		b = &rd->resps[v];
		if (kinds[t] == T_SUBST) {
			if (b->nsubsts == GCMSG__LIBFILE_MAX_ITEMS)
				return rfail(rd, tline(rd, t), "%s: more than %zu substitutions", tab->name,
				             GCMSG__LIBFILE_MAX_ITEMS);
			rc = push_index(&b->substs, &b->nsubsts, t);
		} else {
			if (b->nlangs + b->ntexts == GCMSG__LIBFILE_MAX_ITEMS)
				return rfail(rd, tline(rd, t), "%s: more than %zu texts", tab->name,
				             GCMSG__LIBFILE_MAX_ITEMS);
			rc = kinds[t] == T_LANG ? push_index(&b->langs, &b->nlangs, t) : push_index(&b->texts, &b->ntexts, t);
		}
		if (rc < 0)
			return room(rd);
	}
	return 0;
}

static char *base_id(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;
	char *id;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".toml") == 0)
		n -= 5;
	id = malloc(n + 1);
	if (id) {
		memcpy(id, base, n);
		id[n] = '\0';
	}
	return id;
}

static int read_header(reader *rd, size_t library_t)
{
	const gcmsg__toml_entry *fmt = gcmsg__toml_get_in(&rd->doc, 0, "format");
	const char *name, *id, *lang;

	if (!fmt)
		return missing(rd, 0, "format");
	if (fmt->type != GCMSG_TOML_INT)
		return rfail(rd, fmt->line, "'format' must be an integer (format = 1)");
	if (fmt->num != 1)
		return rfail(rd, fmt->line, "format = %lld is not supported (this gcmsg reads format 1)", fmt->num);
	if (library_t == (size_t)-1)
		return rfail(rd, 0, "no [library] table (it needs at least: name = \"...\")");
	if (get_str(rd, library_t, "name", &name, 1) < 0 || get_str(rd, library_t, "id", &id, 1) < 0 ||
	    get_str(rd, library_t, "default_language", &lang, 1) < 0 ||
	    get_version(rd, library_t, "version", &rd->lib.version) < 0)
		return GCMSG_ECONFIG;
	if (!name)
		return missing(rd, library_t, "name");
	rd->lib.name = gcmsg__strdup(name);
	rd->lib.id = id ? gcmsg__strdup(id) : base_id(rd->path);
	if (lang)
		rd->lib.default_language = gcmsg__strdup(lang);
	if (!rd->lib.name || !rd->lib.id || (lang && !rd->lib.default_language))
		return room(rd);
	if (!*rd->lib.id)
		return rfail(rd, tline(rd, library_t), "library: no id, and none can be derived from the file name");
	return 0;
}

static int build_response(reader *rd, const resp_builder *b, gcmsg__strmap *names, gcmsg_response **out)
{
	size_t t = b->tindex, i;
	const gcmsg__toml_table *tab = table_of(rd, t);
	const char *name, *text, *ct, *itype, *rtype, *tname, *tlang, *date, *dl = rd->lib.default_language;
	gcmsg_response *r;
	int strict = rd->mode == GCMSG__LIBFILE_STRICT;
	long version;

	*out = NULL;
	if (get_str(rd, t, "name", &name, 1) < 0 || get_str(rd, t, "text", &text, 0) < 0 ||
	    get_enum(rd, t, "content_type", content_types, &ct) < 0 || get_version(rd, t, "version", &version) < 0 ||
	    get_enum(rd, t, "interaction_type", interaction_types, &itype) < 0 ||
	    get_enum(rd, t, "response_type", response_types, &rtype) < 0 ||
	    get_str(rd, t, "template_name", &tname, 1) < 0 || get_str(rd, t, "template_language", &tlang, 1) < 0 ||
	    get_str(rd, t, "date_created", &date, 1) < 0)
		return GCMSG_ECONFIG;
	if (strict && !name)
		return missing(rd, t, "name");
	if (strict && !text)
		return missing(rd, t, "text");
	if (strict && name) {
		size_t other;
		int rc = gcmsg__strmap_put(names, name, strlen(name), t);
		if (rc < 0)
			return room(rd);
		if (rc == 0 && gcmsg__strmap_get(names, name, strlen(name), &other)) {
			const gcmsg__toml_entry *e = gcmsg__toml_get_in(&rd->doc, t, "name");
			return rfail(rd, e->line, "%s: name '%s' is already the name of %s (line %d); names must be unique "
			             "in a library", tab->name, name, table_of(rd, other)->name,
			             gcmsg__toml_get_in(&rd->doc, other, "name")->line);
		}
	}
	if (strict) {
		int is_template = rtype && strcmp(rtype, "MessagingTemplate") == 0;
		if (is_template && !tname)
			return missing(rd, t, "template_name");
		if (is_template && !tlang)
			return missing(rd, t, "template_language");
		/* Genesys fills a template from its own copy: the send names it by its Response
		 * Management id, so the table key must be that id */
		if (is_template && !gcmsg__looks_like_id(tab->path[1]))
			return rfail(rd, gcmsg__toml_get_in(&rd->doc, t, "response_type")->line,
			             "%s: a MessagingTemplate response is sent by its Genesys id: name the table "
			             "[responses.<the response's Response Management id>]",
			             tab->name);
		if (!is_template && (tname || tlang)) {
			const char *k = tname ? "template_name" : "template_language";
			return rfail(rd, gcmsg__toml_get_in(&rd->doc, t, k)->line,
			             "%s: '%s' only applies to response_type = \"MessagingTemplate\"", tab->name, k);
		}
	}
	r = gcmsg__response_new();
	if (!r)
		return room(rd);
	r->version = version;
	r->origin = GCMSG_RESPONSE_FILE;
	if (!(r->id = gcmsg__strdup(tab->path[1])) || (name && !(r->name = gcmsg__strdup(name))) ||
	    (itype && !(r->interaction_type = gcmsg__strdup(itype))) ||
	    (rtype && !(r->response_type = gcmsg__strdup(rtype))) ||
	    (tname && !(r->template_name = gcmsg__strdup(tname))) ||
	    (tlang && !(r->template_language = gcmsg__strdup(tlang))) ||
	    (date && !(r->date_created = gcmsg__strdup(date))) ||
	    (dl && !(r->default_language = gcmsg__strdup(dl))) ||
	    gcmsg__response_add_library(r, rd->lib.id, rd->lib.name))
		goto oom;
	if (!ct)
		ct = "text/plain";
	if (text && gcmsg__response_add_text(r, text, ct, "body", dl))
		goto oom;
	for (i = 0; i < b->nlangs; i++) {
		size_t lt = b->langs[i];
		const char *lang = table_of(rd, lt)->path[3], *vt, *vct;
		if (get_str(rd, lt, "text", &vt, 0) < 0 || get_enum(rd, lt, "content_type", content_types, &vct) < 0)
			goto bad;
		if (!vt) {
			missing(rd, lt, "text");
			goto bad;
		}
		if (dl && strcmp(lang, dl) == 0) {
			rfail(rd, tline(rd, lt), "%s: '%s' is the default_language: its text is the response's 'text'",
			      table_of(rd, lt)->name, lang);
			goto bad;
		}
		if (gcmsg__response_add_text(r, vt, vct ? vct : ct, "body", lang))
			goto oom;
	}
	for (i = 0; i < b->ntexts; i++) {
		size_t xt = b->texts[i];
		const char *xtext, *xct, *xtype, *xlang;
		if (get_str(rd, xt, "text", &xtext, 0) < 0 || get_enum(rd, xt, "content_type", content_types, &xct) < 0 ||
		    get_enum(rd, xt, "type", text_types, &xtype) < 0 || get_str(rd, xt, "language", &xlang, 1) < 0)
			goto bad;
		if (!xtext) {
			missing(rd, xt, "text");
			goto bad;
		}
		if (gcmsg__response_add_text(r, xtext, xct ? xct : ct, xtype ? xtype : "body", xlang ? xlang : dl))
			goto oom;
	}
	for (i = 0; i < b->nsubsts; i++) {
		size_t st = b->substs[i];
		const char *desc, *def;
		if (get_str(rd, st, "description", &desc, 0) < 0 || get_str(rd, st, "default", &def, 0) < 0)
			goto bad;
		if (gcmsg__response_add_subst(r, table_of(rd, st)->path[3], desc, def))
			goto oom;
	}
	if (!(r->path = gcmsg__strdup(rd->path)))
		goto oom;
	*out = r;
	return 0;
oom:
	gcmsg_response_free(r);
	return room(rd);
bad:
	gcmsg_response_free(r);
	return GCMSG_ECONFIG;
}

int gcmsg__library_parse(gcmsg_response_set *set, const char *text, size_t len, const char *path,
                         gcmsg__libfile_mode mode, gcmsg_response_origin origin, gcmsg__library_info *info)
{
	reader rd;
	char why[512];
	enum tkind *kinds = NULL;
	gcmsg_response **made = NULL;
	gcmsg__strmap names = GCMSG__STRMAP_INIT;
	size_t t, i, nmade = 0, library_t = (size_t)-1;
	int rc = GCMSG_ECONFIG;

	memset(&rd, 0, sizeof(rd));
	rd.path = path;
	rd.mode = mode;
	rd.set = set;
	rd.lib.version = -1;
	if (info) {
		memset(info, 0, sizeof(*info));
		info->version = -1;
	}
	if (len > (mode == GCMSG__LIBFILE_STORE ? GCMSG__STOREFILE_CAP : GCMSG__LIBFILE_CAP))
		return rfail(&rd, 0, "larger than %zu MiB",
		             (mode == GCMSG__LIBFILE_STORE ? GCMSG__STOREFILE_CAP : GCMSG__LIBFILE_CAP) >> 20);
	if (gcmsg__toml_parse(&rd.doc, text, len, why, sizeof(why)) < 0)
		return gcmsg__err_set(&set->err, GCMSG_ECONFIG, "%s: %s", path, why);
	kinds = calloc(rd.doc.ntables, sizeof(*kinds));
	if (!kinds) {
		rc = room(&rd);
		goto out;
	}
	for (t = 0; t < rd.doc.ntables; t++) {
		/* an unknown table only implied is reported through the deeper one written */
		if (classify(table_of(&rd, t), &kinds[t]) < 0) {
			if (!table_of(&rd, t)->implicit) {
				rc = table_error(&rd, t);
				goto out;
			}
			kinds[t] = T_CONTAINER; /* implied tables hold no keys */
		}
		if (kinds[t] == T_LIBRARY)
			library_t = t;
	}
	if ((rc = check_keys(&rd, kinds)) < 0 || (rc = read_header(&rd, library_t)) < 0 ||
	    (rc = collect(&rd, kinds)) < 0)
		goto out;
	made = calloc(rd.nresps ? rd.nresps : 1, sizeof(*made));
	if (!made) {
		rc = room(&rd);
		goto out;
	}
	for (i = 0; i < rd.nresps; i++) {
		if ((rc = build_response(&rd, &rd.resps[i], &names, &made[nmade])) < 0)
			goto out;
		made[nmade++]->origin = origin;
	}
	/* all good: hand everything over */
	if (gcmsg__response_set_add_library(set, rd.lib.id, rd.lib.name, rd.lib.version) < 0) {
		rc = room(&rd);
		goto out;
	}
	for (i = 0; i < nmade; i++) {
		gcmsg_response *r = made[i];
		made[i] = NULL;
		if (gcmsg__response_set_add(set, r) < 0) {
			rc = room(&rd);
			goto out;
		}
	}
	if (info) {
		*info = rd.lib;
		memset(&rd.lib, 0, sizeof(rd.lib));
	}
	rc = GCMSG_OK;
out:
	for (i = 0; i < nmade; i++)
		gcmsg_response_free(made[i]);
	free(made);
	free(kinds);
	free_builders(&rd);
	gcmsg__strmap_free(&names);
	gcmsg__library_info_clear(&rd.lib);
	gcmsg__toml_free(&rd.doc);
	return rc;
}

int gcmsg_response_set_load_file(gcmsg_response_set **out, const char *path)
{
	gcmsg_response_set *set;
	gcmsg_buf text = GCMSG_BUF_INIT(GCMSG__LIBFILE_CAP);
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = set = gcmsg__response_set_new();
	if (!set)
		return GCMSG_ERROR;
	if (!path || !*path)
		return gcmsg__err_set(&set->err, GCMSG_EUSAGE, "no library file given");
	if (gcmsg__read_file(path, &text) < 0) {
		if (errno == EFBIG)
			rc = gcmsg__err_set(&set->err, GCMSG_ECONFIG, "%s: larger than %zu MiB", path,
			                    GCMSG__LIBFILE_CAP >> 20);
		else if (errno == EINVAL)
			rc = gcmsg__err_set(&set->err, GCMSG_ECONFIG, "%s: not a regular file", path);
		else
			rc = gcmsg__err_set(&set->err, GCMSG_ECONFIG, "cannot read library file %s: %s", path,
			                    strerror(errno));
		gcmsg__buf_dispose(&text);
		return rc;
	}
	rc = gcmsg__library_parse(set, text.ptr ? text.ptr : "", text.len, path, GCMSG__LIBFILE_STRICT,
	                          GCMSG_RESPONSE_FILE, NULL);
	gcmsg__buf_dispose(&text);
	return rc;
}

/* ---- writing ---- */

typedef struct writer {
	gcmsg_buf *b;
	char *err;
	size_t errlen;
	const char *where; /* the response being written, for messages */
} writer;

static int wfail(writer *w, const char *what)
{
	if (w->where)
		snprintf(w->err, w->errlen, "response %s: %s", w->where, what);
	else
		snprintf(w->err, w->errlen, "%s", what);
	return -1;
}

static int put_str(writer *w, const char *key, const char *value)
{
	if (!value)
		return 0;
	if (!gcmsg__toml_utf8_valid(value, strlen(value)))
		return wfail(w, "a value is not valid UTF-8");
	if (gcmsg__buf_puts(w->b, key) < 0 || gcmsg__buf_puts(w->b, " = ") < 0 ||
	    gcmsg__toml_write_string(w->b, value) < 0 || gcmsg__buf_puts(w->b, "\n") < 0)
		return wfail(w, "the file would be too large");
	return 0;
}

static int put_int(writer *w, const char *key, long v)
{
	if (v < 0)
		return 0;
	if (gcmsg__buf_printf(w->b, "%s = %ld\n", key, v) < 0)
		return wfail(w, "the file would be too large");
	return 0;
}

static int put_header(writer *w, const char *id, const char *sub, const char *key)
{
	const char *path[4] = { "responses", id, sub, key };

	if (!gcmsg__toml_utf8_valid(id, strlen(id)) || (key && !gcmsg__toml_utf8_valid(key, strlen(key))))
		return wfail(w, "an id is not valid UTF-8");
	if (gcmsg__buf_puts(w->b, "\n") < 0 || gcmsg__toml_write_header(w->b, path, sub ? 4 : 2) < 0)
		return wfail(w, "the file would be too large");
	return 0;
}

static int is_body(const gcmsg__response_text *t)
{
	return !t->type || strcmp(t->type, "body") == 0;
}

static const char *ct_or_plain(const char *ct)
{
	return ct ? ct : "text/plain";
}

static int write_response(writer *w, const gcmsg__library_info *lib, const gcmsg_response *r)
{
	const char *dl = lib->default_language, *ct = "text/plain";
	size_t i, first = 0, nvariants, label = 0;
	char **seen = NULL;
	int rc = -1, has_main;

	w->where = r->id;
	if (!r->id || !*r->id)
		return wfail(w, "a response without an id");
	if (!str_eq(r->default_language, dl))
		return wfail(w, "its default language differs from the library's");
	has_main = r->ntexts && is_body(&r->texts[0]) && str_eq(r->texts[0].language, dl);
	if (has_main) {
		ct = ct_or_plain(r->texts[0].content_type);
		first = 1;
	}
	if (r->nsubsts > GCMSG__LIBFILE_MAX_ITEMS || r->ntexts - first > GCMSG__LIBFILE_MAX_ITEMS)
		return wfail(w, "more substitutions or texts than a library file holds (1000 each)");
	if (put_header(w, r->id, NULL, NULL) < 0 || put_str(w, "name", r->name) < 0 ||
	    (has_main && put_str(w, "text", r->texts[0].content) < 0) ||
	    (has_main && strcmp(ct, "text/plain") != 0 && put_str(w, "content_type", ct) < 0) ||
	    put_int(w, "version", r->version) < 0 || put_str(w, "interaction_type", r->interaction_type) < 0 ||
	    put_str(w, "response_type", r->response_type) < 0 || put_str(w, "template_name", r->template_name) < 0 ||
	    put_str(w, "template_language", r->template_language) < 0 ||
	    put_str(w, "date_created", r->date_created) < 0)
		return -1;
	for (i = 0; i < r->nsubsts; i++) {
		const gcmsg__response_subst *s = &r->substs[i];
		size_t j;
		for (j = 0; j < i; j++)
			if (strcmp(r->substs[j].id, s->id) == 0)
				return wfail(w, "a substitution id appears twice");
		if (!*s->id)
			return wfail(w, "a substitution without an id");
		if (put_header(w, r->id, "substitutions", s->id) < 0 || put_str(w, "description", s->description) < 0 ||
		    put_str(w, "default", s->default_value) < 0)
			return -1;
	}
	/*
	 * Language variants: the body texts right after the main one, each in
	 * a language of its own other than the default. What follows is written
	 * as texts.<n> tables, which read back after the variants: the order holds.
	 */
	seen = calloc(r->ntexts + 1, sizeof(char *));
	if (!seen)
		return wfail(w, "out of memory");
	for (i = first, nvariants = 0; i < r->ntexts; i++, nvariants++) {
		const gcmsg__response_text *t = &r->texts[i];
		size_t j;
		int dup = 0;
		if (!is_body(t) || !t->language || !*t->language || str_eq(t->language, dl))
			break;
		for (j = 0; j < nvariants; j++)
			dup |= strcmp(seen[j], t->language) == 0;
		if (dup)
			break;
		seen[nvariants] = t->language;
		if (put_header(w, r->id, "languages", t->language) < 0 || put_str(w, "text", t->content) < 0 ||
		    (strcmp(ct_or_plain(t->content_type), ct) != 0 &&
		     put_str(w, "content_type", ct_or_plain(t->content_type)) < 0))
			goto out;
	}
	for (; i < r->ntexts; i++) {
		const gcmsg__response_text *t = &r->texts[i];
		char num[32];
		snprintf(num, sizeof(num), "%zu", ++label);
		if (!str_eq(t->language, dl) && !t->language) {
			wfail(w, "a text without a language in a library with a default_language");
			goto out;
		}
		if (t->language && !*t->language) {
			wfail(w, "a text with an empty language");
			goto out;
		}
		if (put_header(w, r->id, "texts", num) < 0 ||
		    (!is_body(t) && put_str(w, "type", t->type) < 0) || put_str(w, "text", t->content) < 0 ||
		    (strcmp(ct_or_plain(t->content_type), ct) != 0 &&
		     put_str(w, "content_type", ct_or_plain(t->content_type)) < 0) ||
		    (!str_eq(t->language, dl) && put_str(w, "language", t->language) < 0))
			goto out;
	}
	rc = 0;
out:
	free(seen);
	return rc;
}

int gcmsg__library_write(gcmsg_buf *out, const char *comment, const gcmsg__library_info *lib,
                         gcmsg_response *const *items, size_t n, char *err, size_t errlen)
{
	writer w;
	size_t i;

	w.b = out;
	w.err = err;
	w.errlen = errlen;
	w.where = NULL;
	if (!lib || !lib->id || !*lib->id || !lib->name || !*lib->name)
		return wfail(&w, "a library needs an id and a name");
	if (lib->default_language && !*lib->default_language)
		return wfail(&w, "an empty default_language");
	if (comment) {
		const char *p = comment;
		if (!gcmsg__toml_utf8_valid(comment, strlen(comment)))
			return wfail(&w, "the comment is not valid UTF-8");
		while (*p) {
			size_t k = strcspn(p, "\n");
			if (gcmsg__buf_puts(out, k ? "# " : "#") < 0)
				return wfail(&w, "the file would be too large");
			for (i = 0; i < k; i++) {
				char c = (unsigned char)p[i] < 0x20 && p[i] != '\t' ? '?' : p[i] == 0x7F ? '?' : p[i];
				if (gcmsg__buf_append(out, &c, 1) < 0)
					return wfail(&w, "the file would be too large");
			}
			if (gcmsg__buf_puts(out, "\n") < 0)
				return wfail(&w, "the file would be too large");
			p += k + (p[k] ? 1 : 0);
		}
	}
	if (gcmsg__buf_puts(out, "format = 1\n\n[library]\n") < 0)
		return wfail(&w, "the file would be too large");
	if (put_str(&w, "name", lib->name) < 0 ||
	    put_str(&w, "id", lib->id) < 0 || put_int(&w, "version", lib->version) < 0 ||
	    put_str(&w, "default_language", lib->default_language) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (write_response(&w, lib, items[i]) < 0)
			return -1;
	return 0;
}

/* ---- comparison ---- */

static int strv_eq(char *const *a, char *const *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!str_eq(a[i], b[i]))
			return 0;
	return 1;
}

int gcmsg__response_equal(const gcmsg_response *a, const gcmsg_response *b)
{
	size_t i;

	if (a == b)
		return 1;
	if (!a || !b)
		return 0;
	if (!str_eq(a->id, b->id) || !str_eq(a->name, b->name) || !str_eq(a->response_type, b->response_type) ||
	    !str_eq(a->interaction_type, b->interaction_type) || !str_eq(a->date_created, b->date_created) ||
	    !str_eq(a->default_language, b->default_language) || a->version != b->version ||
	    !str_eq(a->template_name, b->template_name) || !str_eq(a->template_language, b->template_language) ||
	    a->origin != b->origin || !str_eq(a->path, b->path) || a->nlibs != b->nlibs ||
	    a->ntexts != b->ntexts || a->nsubsts != b->nsubsts)
		return 0;
	if (!strv_eq(a->lib_ids, b->lib_ids, a->nlibs) || !strv_eq(a->lib_names, b->lib_names, a->nlibs))
		return 0;
	for (i = 0; i < a->ntexts; i++) {
		const gcmsg__response_text *x = &a->texts[i], *y = &b->texts[i];
		if (!str_eq(x->content, y->content) || !str_eq(x->content_type, y->content_type) ||
		    !str_eq(x->type, y->type) || !str_eq(x->language, y->language))
			return 0;
	}
	for (i = 0; i < a->nsubsts; i++) {
		const gcmsg__response_subst *x = &a->substs[i], *y = &b->substs[i];
		if (!str_eq(x->id, y->id) || !str_eq(x->description, y->description) ||
		    !str_eq(x->default_value, y->default_value))
			return 0;
	}
	return 1;
}
