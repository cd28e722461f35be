/*
 * response_api.c - the Response Management client: libraries, responses of a
 * library, the query, one response, and lookup by id or name. Every listing
 * follows every page (never just the first) with hard guards against a
 * server that keeps announcing pages or repeats one.
 *
 * Endpoints (docs: genesys-rest-api.md §e):
 *   GET  /api/v2/responsemanagement/libraries?pageNumber=&pageSize=&libraryPrefix=
 *   GET  /api/v2/responsemanagement/responses?libraryId=&pageNumber=&pageSize=
 *   POST /api/v2/responsemanagement/responses/query  {queryPhrase, pageSize, pageNumber, filters}
 *   GET  /api/v2/responsemanagement/responses/{id}?expand=substitutionsSchema
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "response_api.h"
#include "strmap.h"
#include "toml.h"

#define RM "/api/v2/responsemanagement"

/* ---- paging ---- */

typedef int (*entity_fn)(void *ctx, const json_t *entity, const char *where);

typedef struct pager {
	gcmsg_client *c;
	const char *method;      /* "GET" or "POST" */
	const char *path;        /* without the query */
	const char *query;       /* GET: the query without the paging parameters ("libraryId=x"), or NULL */
	json_t *body;            /* POST: the request; pageNumber and pageSize are set for each page */
	const char *results_key; /* the listing sits under this member ("results" for the query), or NULL */
	const int *sizes;        /* page sizes to try, 0-terminated: the next when an answer is too large */
} pager;

static const int get_sizes[] = { 100, 25, 0 };     /* GET listings */
static const int query_sizes[] = { 500, 100, 25, 0 }; /* the query allows up to 500 */

/* the answer was too large for us (4 MiB cap) or for Genesys (response.entity.too.large, 413) */
static int too_large(const gcmsg_client *c)
{
	const gcmsg_error *e = &c->err.pub;

	if (e->code != GCMSG_EREMOTE)
		return 0;
	if (e->http_status == 413 || (e->genesys_code && strcmp(e->genesys_code, "response.entity.too.large") == 0))
		return 1;
	return e->http_status == 0 && e->explanation && strstr(e->explanation, "larger than the 4 MiB limit");
}

/* "/path?query" for messages (the paging parameters left out) */
static char *what_of(const pager *pg)
{
	return pg->query ? gcmsg__asprintf("%s?%s", pg->path, pg->query) : gcmsg__strdup(pg->path);
}

/*
 * Every page of a listing, each entity to fn once per id. The callbacks are
 * idempotent by id: a restart with a smaller page size may hand an entity
 * over again.
 */
static int fetch_all(pager *pg, entity_fn fn, void *ctx)
{
	gcmsg_client *c = pg->c;
	const int *size;
	char *what = what_of(pg);
	int rc = GCMSG_OK;

	if (!what)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	for (size = pg->sizes; *size; size++) {
		gcmsg__strmap seen = GCMSG__STRMAP_INIT;
		size_t total = 0;
		long page;
		int restart = 0;

		for (page = 1;; page++) {
			json_t *root = NULL;
			const json_t *list, *entities, *v, *e;
			char *path = NULL, where[300];
			size_t i, n, fresh = 0;
			long long page_count = -1;

			if (page > GCMSG__MAX_PAGES) {
				rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE,
				                    "%s %s: more than %d pages; stopped (the server keeps announcing pages)",
				                    pg->method, what, GCMSG__MAX_PAGES);
				goto page_done;
			}
			if (pg->body) {
				if (json_object_set_new(pg->body, "pageSize", json_integer(*size)) < 0 ||
				    json_object_set_new(pg->body, "pageNumber", json_integer(page)) < 0) {
					rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
					goto page_done;
				}
				path = gcmsg__strdup(pg->path);
			} else {
				path = gcmsg__asprintf("%s?%s%spageNumber=%ld&pageSize=%d", pg->path, pg->query ? pg->query : "",
				                       pg->query ? "&" : "", page, *size);
			}
			if (!path) {
				rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
				goto page_done;
			}
			rc = gcmsg__api(c, pg->method, path, pg->body, 0, &root, NULL);
			free(path);
			if (rc < 0) {
				if (too_large(c) && size[1]) {
					gcmsg__log(c, "%s %s: page %ld too large with pageSize %d; starting again with %d",
					           pg->method, what, page, *size, size[1]);
					restart = 1;
				}
				goto page_done;
			}
			snprintf(where, sizeof(where), "the answer to %s %s (page %ld)", pg->method, what, page);
			list = root;
			if (!json_is_object(root)) {
				rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE, "%s is not a JSON object", where);
				goto page_done;
			}
			if (pg->results_key) {
				list = json_object_get(root, pg->results_key);
				if (!json_is_object(list)) {
					rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE, "%s has no '%s' object", where,
					                    pg->results_key);
					goto page_done;
				}
			}
			entities = json_object_get(list, "entities");
			if (!json_is_array(entities)) {
				rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE, "%s has no 'entities' array%s", where,
				                    entities ? " (it is not an array)" : "");
				goto page_done;
			}
			v = json_object_get(list, "pageNumber");
			if (json_is_integer(v) && json_integer_value(v) != page) {
				rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE, "%s says it is page %lld", where,
				                    (long long)json_integer_value(v));
				goto page_done;
			}
			v = json_object_get(list, "pageCount");
			if (json_is_integer(v)) {
				page_count = json_integer_value(v);
				if (page_count > GCMSG__MAX_PAGES) {
					rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE,
					                    "%s announces %lld pages, more than the limit of %d", where,
					                    page_count, GCMSG__MAX_PAGES);
					goto page_done;
				}
			}
			n = json_array_size(entities);
			json_array_foreach(entities, i, e) {
				const char *id = gcmsg__json_str(e, "id");
				char item[340];
				int added;
				if (!json_is_object(e) || !id || !*id) {
					rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE, "%s: entities[%zu] %s", where, i,
					                    json_is_object(e) ? "has no id" : "is not an object");
					goto page_done;
				}
				if (++total > GCMSG__MAX_ENTITIES) {
					rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE,
					                    "%s %s: more than %d entities; stopped", pg->method, what,
					                    GCMSG__MAX_ENTITIES);
					goto page_done;
				}
				added = gcmsg__strmap_put(&seen, id, strlen(id), 0);
				if (added < 0) {
					rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
					goto page_done;
				}
				if (!added)
					continue; /* seen on an earlier page (entries shifted meanwhile) */
				fresh++;
				snprintf(item, sizeof(item), "%s: entities[%zu]", where, i);
				rc = fn(ctx, e, item);
				if (rc < 0)
					goto page_done;
			}
			if (n > 0 && fresh == 0) {
				rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE,
				                    "%s repeats entities of earlier pages only (the server repeated a page)",
				                    where);
				goto page_done;
			}
			{
				/* the last page: an empty one, the announced count, or no next page */
				const char *next = gcmsg__json_str(list, "nextUri");
				int last = n == 0 || (page_count >= 0 ? page >= page_count : !next || !*next);
				json_decref(root);
				if (last)
					break;
			}
			continue;
		page_done:
			json_decref(root);
			break;
		}
		gcmsg__strmap_free(&seen);
		if (!restart)
			break;
		rc = GCMSG_OK;
	}
	free(what);
	return rc;
}

/* strings sent in a JSON body or a query must be UTF-8 */
static int check_utf8(gcmsg_client *c, const char *what, const char *s)
{
	if (s && !gcmsg__toml_utf8_valid(s, strlen(s)))
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "the %s is not valid UTF-8", what);
	return GCMSG_OK;
}

/* ---- libraries ---- */

typedef struct lib_ctx {
	gcmsg_response_set *set;
	const char *prefix;
	gcmsg_client *c;
} lib_ctx;

static int ascii_prefix(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++) {
		char a = *s, b = *prefix;
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (!*s || a != b)
			return 0;
	}
	return 1;
}

static int on_library(void *vctx, const json_t *e, const char *where)
{
	lib_ctx *ctx = vctx;
	const char *name = gcmsg__json_str(e, "name");
	const json_t *v = json_object_get(e, "version");

	(void)where;
	if (ctx->prefix && *ctx->prefix && (!name || !ascii_prefix(name, ctx->prefix)))
		return GCMSG_OK;
	if (gcmsg__response_set_add_library(ctx->set, gcmsg__json_str(e, "id"), name && *name ? name : NULL,
	                                    json_is_integer(v) ? (long)json_integer_value(v) : -1) < 0)
		return gcmsg__err_set(&ctx->c->err, GCMSG_ERROR, "out of memory");
	return GCMSG_OK;
}

int gcmsg_libraries_list(gcmsg_response_set **out, gcmsg_client *client, const char *name_prefix)
{
	gcmsg_response_set *set;
	lib_ctx ctx;
	pager pg;
	char *esc = NULL, *query = NULL;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (!client)
		return GCMSG_EUSAGE;
	if (check_utf8(client, "library prefix", name_prefix) < 0)
		return GCMSG_EUSAGE;
	set = gcmsg__response_set_new();
	if (name_prefix && *name_prefix) {
		esc = gcmsg__path_escape(name_prefix);
		query = esc ? gcmsg__asprintf("libraryPrefix=%s", esc) : NULL;
	}
	if (!set || (name_prefix && *name_prefix && !query)) {
		free(esc);
		gcmsg_response_set_free(set);
		return gcmsg__err_set(&client->err, GCMSG_ERROR, "out of memory");
	}
	memset(&pg, 0, sizeof(pg));
	pg.c = client;
	pg.method = "GET";
	pg.path = RM "/libraries";
	pg.query = query;
	pg.sizes = get_sizes;
	ctx.set = set;
	ctx.prefix = name_prefix;
	ctx.c = client;
	rc = fetch_all(&pg, on_library, &ctx);
	free(esc);
	free(query);
	if (rc < 0) {
		gcmsg_response_set_free(set);
		return rc;
	}
	*out = set;
	return GCMSG_OK;
}

int gcmsg__library_resolve(gcmsg_client *c, const gcmsg_response_set *libs, const char *library, size_t *idx)
{
	gcmsg_buf ids = GCMSG_BUF_INIT(4096);
	size_t i, hits = 0;
	int rc;

	for (i = 0; i < libs->nlibs; i++) {
		if (strcmp(libs->libs[i].id, library) == 0) {
			*idx = i;
			return GCMSG_OK;
		}
	}
	for (i = 0; i < libs->nlibs; i++) {
		if (!libs->libs[i].name || strcmp(libs->libs[i].name, library) != 0)
			continue;
		if (hits++ == 0)
			*idx = i;
		gcmsg__buf_printf(&ids, "%s%s", hits > 1 ? ", " : "", libs->libs[i].id);
	}
	if (hits == 1) {
		gcmsg__buf_dispose(&ids);
		return GCMSG_OK;
	}
	if (hits == 0) {
		rc = gcmsg__err_set(&c->err, GCMSG_ENOTFOUND, "no library '%s'", library);
		gcmsg__err_set_fix(&c->err, "give a library's exact name (case matters) or its id");
	} else {
		rc = gcmsg__err_set(&c->err, GCMSG_EUSAGE, "%zu libraries are named '%s': %s", hits, library,
		                    gcmsg__buf_cstr(&ids));
		gcmsg__err_set_fix(&c->err, "give the library by id");
	}
	gcmsg__buf_dispose(&ids);
	return rc;
}

/* ---- responses ---- */

typedef struct resp_ctx {
	gcmsg_client *c;
	gcmsg_response_set *set;          /* where responses go */
	const gcmsg_response_set *libs;   /* every library (names for references without one), or NULL */
	gcmsg__strmap ids;                /* response id -> index in set */
	const char *library_id;           /* the library listed (GET), or NULL */
	const char *name;                 /* keep only this exact name (lookup), or NULL */
} resp_ctx;

static const char *lib_name_of(const gcmsg_response_set *libs, const char *id)
{
	size_t i;

	for (i = 0; libs && i < libs->nlibs; i++)
		if (strcmp(libs->libs[i].id, id) == 0)
			return libs->libs[i].name;
	return NULL;
}

static int has_library(const gcmsg_response *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->nlibs; i++)
		if (strcmp(r->lib_ids[i], id) == 0)
			return 1;
	return 0;
}

/* fill library names the answer left out; 0 or -1 (OOM) */
int gcmsg__response_fill_library_names(gcmsg_response *r, const gcmsg_response_set *libs)
{
	size_t i;

	for (i = 0; i < r->nlibs; i++) {
		const char *name;
		if (r->lib_names[i] || !(name = lib_name_of(libs, r->lib_ids[i])))
			continue;
		r->lib_names[i] = gcmsg__strdup(name);
		if (!r->lib_names[i])
			return -1;
	}
	return 0;
}

static int on_response(void *vctx, const json_t *e, const char *where)
{
	resp_ctx *ctx = vctx;
	gcmsg_response *r;
	char why[256];
	size_t at;
	int added;

	if (ctx->name) {
		const char *name = gcmsg__json_str(e, "name");
		if (!name || strcmp(name, ctx->name) != 0)
			return GCMSG_OK; /* the server's match may be looser than ours */
	}
	r = gcmsg__response_from_json(e, why, sizeof(why));
	if (!r)
		return gcmsg__err_set(&ctx->c->err, strcmp(why, "out of memory") == 0 ? GCMSG_ERROR : GCMSG_EREMOTE,
		                      "%s: %s", where, why);
	if (ctx->library_id && !has_library(r, ctx->library_id) &&
	    gcmsg__response_add_library(r, ctx->library_id, lib_name_of(ctx->libs, ctx->library_id)) < 0)
		goto oom;
	if (gcmsg__response_fill_library_names(r, ctx->libs) < 0)
		goto oom;
	if (gcmsg__strmap_get(&ctx->ids, r->id, strlen(r->id), &at)) {
		/* listed again (under another library): once per set, with every library */
		gcmsg_response *have = ctx->set->items[at];
		size_t i;
		for (i = 0; i < r->nlibs; i++)
			if (!has_library(have, r->lib_ids[i]) &&
			    gcmsg__response_add_library(have, r->lib_ids[i], r->lib_names[i]) < 0)
				goto oom;
		gcmsg_response_free(r);
		return GCMSG_OK;
	}
	added = gcmsg__strmap_put(&ctx->ids, r->id, strlen(r->id), ctx->set->count);
	if (added < 0)
		goto oom;
	if (gcmsg__response_set_add(ctx->set, r) < 0)
		return gcmsg__err_set(&ctx->c->err, GCMSG_ERROR, "out of memory");
	return GCMSG_OK;
oom:
	gcmsg_response_free(r);
	return gcmsg__err_set(&ctx->c->err, GCMSG_ERROR, "out of memory");
}

int gcmsg__responses_of_library(gcmsg_client *c, gcmsg_response_set *set, const gcmsg_response_set *libs,
                                const char *library_id)
{
	resp_ctx ctx;
	pager pg;
	char *esc = gcmsg__path_escape(library_id), *query = esc ? gcmsg__asprintf("libraryId=%s", esc) : NULL;
	size_t i;
	int rc;

	free(esc);
	if (!query)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	memset(&ctx, 0, sizeof(ctx));
	ctx.c = c;
	ctx.set = set;
	ctx.libs = libs;
	ctx.library_id = library_id;
	/* responses already in the set (another library's listing) are merged, not repeated */
	for (i = 0; i < set->count; i++) {
		if (gcmsg__strmap_put(&ctx.ids, set->items[i]->id, strlen(set->items[i]->id), i) < 0) {
			gcmsg__strmap_free(&ctx.ids);
			free(query);
			return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		}
	}
	memset(&pg, 0, sizeof(pg));
	pg.c = c;
	pg.method = "GET";
	pg.path = RM "/responses";
	pg.query = query;
	pg.sizes = get_sizes;
	rc = fetch_all(&pg, on_response, &ctx);
	gcmsg__strmap_free(&ctx.ids);
	free(query);
	return rc;
}

static int add_set_library(gcmsg_client *c, gcmsg_response_set *set, const gcmsg__library *l)
{
	if (gcmsg__response_set_add_library(set, l->id, l->name, l->version) < 0)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	return GCMSG_OK;
}

/*
 * The start of a listing or a search: every library (for names and for
 * resolving `library`), an empty result set, and - when a library is named -
 * its index in *libs_out, already added to the set (SIZE_MAX otherwise).
 */
static int begin_scope(gcmsg_client *client, const char *library, gcmsg_response_set **libs_out,
                       gcmsg_response_set **set_out, size_t *idx)
{
	int rc;

	*libs_out = *set_out = NULL;
	*idx = SIZE_MAX;
	rc = gcmsg_libraries_list(libs_out, client, NULL);
	if (rc < 0)
		return rc;
	*set_out = gcmsg__response_set_new();
	if (!*set_out)
		return gcmsg__err_set(&client->err, GCMSG_ERROR, "out of memory");
	if (!library)
		return GCMSG_OK;
	rc = gcmsg__library_resolve(client, *libs_out, library, idx);
	if (rc == GCMSG_OK)
		rc = add_set_library(client, *set_out, &(*libs_out)->libs[*idx]);
	return rc;
}

int gcmsg_responses_list(gcmsg_response_set **out, gcmsg_client *client, const char *library)
{
	gcmsg_response_set *libs = NULL, *set = NULL;
	size_t i, idx;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (!client)
		return GCMSG_EUSAGE;
	if (library && !*library)
		return gcmsg__err_set(&client->err, GCMSG_EUSAGE, "an empty library name");
	rc = begin_scope(client, library, &libs, &set, &idx);
	if (rc < 0)
		goto out;
	if (library) {
		rc = gcmsg__responses_of_library(client, set, libs, libs->libs[idx].id);
	} else {
		for (i = 0; rc == GCMSG_OK && i < libs->nlibs; i++) {
			rc = add_set_library(client, set, &libs->libs[i]);
			if (rc == GCMSG_OK)
				rc = gcmsg__responses_of_library(client, set, libs, libs->libs[i].id);
		}
	}
out:
	gcmsg_response_set_free(libs);
	if (rc < 0) {
		gcmsg_response_set_free(set);
		return rc;
	}
	*out = set;
	return GCMSG_OK;
}

/* POST .../responses/query: every page, into set (deduplicated by id) */
static int query_all(gcmsg_client *c, gcmsg_response_set *set, const gcmsg_response_set *libs, const char *phrase,
                     const char *name, const char *library_id)
{
	json_t *body = json_object(), *filters = json_array();
	resp_ctx ctx;
	pager pg;
	int rc = GCMSG_OK;

	memset(&ctx, 0, sizeof(ctx));
	ctx.c = c;
	ctx.set = set;
	ctx.libs = libs;
	ctx.name = name;
	if (!body || !filters)
		goto oom;
	if (phrase && *phrase && json_object_set_new(body, "queryPhrase", json_string(phrase)) < 0)
		goto oom;
	/* placeholders, so that the keys come in this order; set again for every page */
	if (json_object_set_new(body, "pageSize", json_integer(0)) < 0 ||
	    json_object_set_new(body, "pageNumber", json_integer(1)) < 0)
		goto oom;
	if (name && json_array_append_new(filters, json_pack("{s:s, s:s, s:[s]}", "name", "name", "operator",
	                                                     "EQUALS", "values", name)) < 0)
		goto oom;
	if (library_id && json_array_append_new(filters, json_pack("{s:s, s:s, s:[s]}", "name", "libraryId",
	                                                           "operator", "EQUALS", "values", library_id)) < 0)
		goto oom;
	if (json_array_size(filters)) {
		if (json_object_set(body, "filters", filters) < 0)
			goto oom;
	}
	memset(&pg, 0, sizeof(pg));
	pg.c = c;
	pg.method = "POST";
	pg.path = RM "/responses/query";
	pg.body = body;
	pg.results_key = "results";
	pg.sizes = query_sizes;
	rc = fetch_all(&pg, on_response, &ctx);
	goto out;
oom:
	rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
out:
	gcmsg__strmap_free(&ctx.ids);
	json_decref(filters);
	json_decref(body);
	return rc;
}

int gcmsg_responses_search(gcmsg_response_set **out, gcmsg_client *client, const char *phrase, const char *library)
{
	gcmsg_response_set *libs = NULL, *set = NULL;
	const char *library_id = NULL;
	size_t i, j, idx;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (!client)
		return GCMSG_EUSAGE;
	if (library && !*library)
		return gcmsg__err_set(&client->err, GCMSG_EUSAGE, "an empty library name");
	if (check_utf8(client, "search phrase", phrase) < 0 || check_utf8(client, "library name", library) < 0)
		return GCMSG_EUSAGE;
	rc = begin_scope(client, library, &libs, &set, &idx);
	if (rc < 0)
		goto out;
	if (library)
		library_id = libs->libs[idx].id;
	rc = query_all(client, set, libs, phrase, NULL, library_id);
	if (rc < 0 || library)
		goto out;
	/* the libraries the hits belong to, in listing order */
	for (i = 0; rc == GCMSG_OK && i < libs->nlibs; i++)
		for (j = 0; j < set->count; j++)
			if (has_library(set->items[j], libs->libs[i].id)) {
				rc = add_set_library(client, set, &libs->libs[i]);
				break;
			}
out:
	gcmsg_response_set_free(libs);
	if (rc < 0) {
		gcmsg_response_set_free(set);
		return rc;
	}
	*out = set;
	return GCMSG_OK;
}

int gcmsg_response_get(gcmsg_response **out, gcmsg_client *client, const char *response_id)
{
	json_t *root = NULL;
	char *esc, *path, why[256];
	gcmsg_response *r;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (!client)
		return GCMSG_EUSAGE;
	if (!response_id || !*response_id)
		return gcmsg__err_set(&client->err, GCMSG_EUSAGE, "no response id given");
	esc = gcmsg__path_escape(response_id);
	path = esc ? gcmsg__asprintf(RM "/responses/%s?expand=substitutionsSchema", esc) : NULL;
	free(esc);
	if (!path)
		return gcmsg__err_set(&client->err, GCMSG_ERROR, "out of memory");
	rc = gcmsg__api(client, "GET", path, NULL, 0, &root, NULL);
	if (rc < 0)
		goto out;
	if (!json_is_object(root)) {
		rc = gcmsg__err_set(&client->err, GCMSG_EREMOTE, "the answer to GET %s is not a JSON object", path);
		goto out;
	}
	r = gcmsg__response_from_json(root, why, sizeof(why));
	if (!r) {
		rc = gcmsg__err_set(&client->err, strcmp(why, "out of memory") == 0 ? GCMSG_ERROR : GCMSG_EREMOTE,
		                    "the answer to GET %s: %s", path, why);
		goto out;
	}
	*out = r;
out:
	json_decref(root);
	free(path);
	return rc;
}

int gcmsg__looks_like_id(const char *s)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	size_t g;
	int i;

	for (g = 0; g < 5; g++) {
		for (i = 0; i < groups[g]; i++, s++)
			if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
				return 0;
		if (g < 4 && *s++ != '-')
			return 0;
	}
	return *s == '\0';
}

static int in_library(const gcmsg_response *r, const char *library)
{
	size_t i;

	for (i = 0; i < r->nlibs; i++)
		if (strcmp(r->lib_ids[i], library) == 0 || (r->lib_names[i] && strcmp(r->lib_names[i], library) == 0))
			return 1;
	return 0;
}

/* "'Lib A' (id)" of a response's first library */
static void describe_library(gcmsg_buf *b, const gcmsg_response *r)
{
	if (!r->nlibs)
		gcmsg__buf_puts(b, "no library");
	else if (r->lib_names[0])
		gcmsg__buf_printf(b, "library '%s' (%s)", r->lib_names[0], r->lib_ids[0]);
	else
		gcmsg__buf_printf(b, "library %s", r->lib_ids[0]);
}

int gcmsg_response_lookup(gcmsg_response **out, gcmsg_client *client, const char *id_or_name, const char *library)
{
	gcmsg_response_set *libs = NULL, *hits = NULL;
	gcmsg_response *r = NULL;
	const char *library_id = NULL, *library_name = NULL;
	size_t i, idx;
	int rc, by_id;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (!client)
		return GCMSG_EUSAGE;
	if (!id_or_name || !*id_or_name)
		return gcmsg__err_set(&client->err, GCMSG_EUSAGE, "no response id or name given");
	if (library && !*library)
		return gcmsg__err_set(&client->err, GCMSG_EUSAGE, "an empty library name");
	if (check_utf8(client, "response name", id_or_name) < 0 || check_utf8(client, "library name", library) < 0)
		return GCMSG_EUSAGE;
	by_id = gcmsg__looks_like_id(id_or_name);
	if (by_id) {
		rc = gcmsg_response_get(&r, client, id_or_name);
		if (rc == GCMSG_OK) {
			if (!library || in_library(r, library)) {
				*out = r;
				return GCMSG_OK;
			}
			rc = gcmsg__err_set(&client->err, GCMSG_ENOTFOUND, "response %s%s%s%s is not in library '%s'",
			                    r->id, r->name ? " ('" : "", r->name ? r->name : "", r->name ? "')" : "",
			                    library);
			gcmsg_response_free(r);
			return rc;
		}
		if (rc != GCMSG_ENOTFOUND)
			return rc;
		gcmsg__log(client, "no response with id %s: looking it up as a name", id_or_name);
	}
	if (library) {
		rc = gcmsg_libraries_list(&libs, client, NULL);
		if (rc < 0)
			return rc;
		rc = gcmsg__library_resolve(client, libs, library, &idx);
		if (rc < 0)
			goto out;
		library_id = libs->libs[idx].id;
		library_name = libs->libs[idx].name ? libs->libs[idx].name : library_id;
	}
	hits = gcmsg__response_set_new();
	if (!hits) {
		rc = gcmsg__err_set(&client->err, GCMSG_ERROR, "out of memory");
		goto out;
	}
	rc = query_all(client, hits, libs, NULL, id_or_name, library_id);
	if (rc < 0)
		goto out;
	if (hits->count == 0) {
		if (library)
			rc = gcmsg__err_set(&client->err, GCMSG_ENOTFOUND, "no response named '%s' in library '%s'",
			                    id_or_name, library_name);
		else if (by_id)
			rc = gcmsg__err_set(&client->err, GCMSG_ENOTFOUND, "no response with id or name '%s'", id_or_name);
		else
			rc = gcmsg__err_set(&client->err, GCMSG_ENOTFOUND, "no response named '%s'", id_or_name);
		gcmsg__err_set_fix(&client->err, "names are matched exactly (case matters); search with a phrase to "
		                                 "find it");
		goto out;
	}
	if (hits->count > 1) {
		gcmsg_buf list = GCMSG_BUF_INIT(8192);
		int several_libraries = 0;
		for (i = 0; i < hits->count; i++) {
			const gcmsg_response *h = hits->items[i];
			gcmsg__buf_printf(&list, "%s%s in ", i ? ", " : "", h->id);
			describe_library(&list, h);
			if (i && (h->nlibs == 0) != (hits->items[0]->nlibs == 0))
				several_libraries = 1;
			else if (i && h->nlibs && hits->items[0]->nlibs && strcmp(h->lib_ids[0], hits->items[0]->lib_ids[0]))
				several_libraries = 1;
		}
		rc = gcmsg__err_set(&client->err, GCMSG_EUSAGE, "response name '%s' matches %zu responses: %s",
		                    id_or_name, hits->count, gcmsg__buf_cstr(&list));
		if (several_libraries && !library)
			gcmsg__err_set_fix(&client->err, "choose the library with --library (its name or id), or give "
			                                 "the response id");
		else
			gcmsg__err_set_fix(&client->err, "the name repeats within one library: give the response id");
		gcmsg__buf_dispose(&list);
		goto out;
	}
	/* one: read it whole */
	rc = gcmsg_response_get(&r, client, hits->items[0]->id);
	if (rc < 0)
		goto out;
	for (i = 0; i < r->nlibs; i++) {
		const char *name;
		size_t k;
		if (r->lib_names[i])
			continue;
		name = NULL;
		for (k = 0; k < hits->items[0]->nlibs && !name; k++)
			if (strcmp(hits->items[0]->lib_ids[k], r->lib_ids[i]) == 0)
				name = hits->items[0]->lib_names[k];
		if (!name)
			name = lib_name_of(libs, r->lib_ids[i]);
		if (name && !(r->lib_names[i] = gcmsg__strdup(name))) {
			rc = gcmsg__err_set(&client->err, GCMSG_ERROR, "out of memory");
			gcmsg_response_free(r);
			goto out;
		}
	}
	*out = r;
out:
	gcmsg_response_set_free(libs);
	gcmsg_response_set_free(hits);
	return rc;
}
