/*
 * response.c - the canned-response model shared by every origin (Response
 * Management, library files, the store), sets of responses, and finding one
 * by id or name. Filling a model is the job of response_api.c (remote),
 * response_file.c (files) and response_store.c (sync and the store).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Sets and responses stay far below these; beyond them the input is hostile. */
#define SET_CAP ((size_t)1000000)
#define ITEM_CAP ((size_t)10000)

static int grow(void **p, size_t *alloc, size_t need, size_t size, size_t cap)
{
	size_t n;
	void *q;

	if (need <= *alloc)
		return 0;
	if (need > cap)
		return -1;
	n = *alloc ? *alloc * 2 : 8;
	while (n < need)
		n *= 2;
	if (n > cap)
		n = cap;
	q = realloc(*p, n * size);
	if (!q)
		return -1;
	*p = q;
	*alloc = n;
	return 0;
}

/* an optional copy: NULL stays NULL, a failed copy of non-NULL is -1 */
static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = gcmsg__strdup(src);
	return *dst ? 0 : -1;
}

gcmsg_response *gcmsg__response_new(void)
{
	gcmsg_response *r = calloc(1, sizeof(*r));

	if (r)
		r->version = -1;
	return r;
}

void gcmsg_response_free(gcmsg_response *r)
{
	size_t i;

	if (!r)
		return;
	free(r->id);
	free(r->name);
	free(r->response_type);
	free(r->interaction_type);
	free(r->date_created);
	free(r->default_language);
	gcmsg__free_strv(r->lib_ids, r->nlibs);
	gcmsg__free_strv(r->lib_names, r->nlibs);
	for (i = 0; i < r->ntexts; i++) {
		free(r->texts[i].content);
		free(r->texts[i].content_type);
		free(r->texts[i].type);
		free(r->texts[i].language);
	}
	free(r->texts);
	for (i = 0; i < r->nsubsts; i++) {
		free(r->substs[i].id);
		free(r->substs[i].description);
		free(r->substs[i].default_value);
	}
	free(r->substs);
	free(r->template_name);
	free(r->template_language);
	free(r->path);
	free(r);
}

int gcmsg__response_add_text(gcmsg_response *r, const char *content, const char *content_type,
                             const char *type, const char *language)
{
	gcmsg__response_text t;
	void *p;

	if (r->ntexts >= ITEM_CAP)
		return -1;
	memset(&t, 0, sizeof(t));
	if (dup_opt(&t.content, content ? content : "") || dup_opt(&t.content_type, content_type) ||
	    dup_opt(&t.type, type) || dup_opt(&t.language, language))
		goto fail;
	p = realloc(r->texts, (r->ntexts + 1) * sizeof(*r->texts));
	if (!p)
		goto fail;
	r->texts = p;
	r->texts[r->ntexts++] = t;
	return 0;
fail:
	free(t.content);
	free(t.content_type);
	free(t.type);
	free(t.language);
	return -1;
}

int gcmsg__response_add_subst(gcmsg_response *r, const char *id, const char *description,
                              const char *default_value)
{
	gcmsg__response_subst s;
	void *p;

	if (r->nsubsts >= ITEM_CAP || !id)
		return -1;
	memset(&s, 0, sizeof(s));
	if (dup_opt(&s.id, id) || dup_opt(&s.description, description) ||
	    dup_opt(&s.default_value, default_value))
		goto fail;
	p = realloc(r->substs, (r->nsubsts + 1) * sizeof(*r->substs));
	if (!p)
		goto fail;
	r->substs = p;
	r->substs[r->nsubsts++] = s;
	return 0;
fail:
	free(s.id);
	free(s.description);
	free(s.default_value);
	return -1;
}

int gcmsg__response_add_library(gcmsg_response *r, const char *id, const char *name)
{
	char **ids, **names;
	char *i = NULL, *n = NULL;

	if (r->nlibs >= ITEM_CAP || dup_opt(&i, id) || dup_opt(&n, name))
		goto fail;
	ids = realloc(r->lib_ids, (r->nlibs + 1) * sizeof(char *));
	if (!ids)
		goto fail;
	r->lib_ids = ids;
	names = realloc(r->lib_names, (r->nlibs + 1) * sizeof(char *));
	if (!names)
		goto fail;
	r->lib_names = names;
	r->lib_ids[r->nlibs] = i;
	r->lib_names[r->nlibs] = n;
	r->nlibs++;
	return 0;
fail:
	free(i);
	free(n);
	return -1;
}

static const char *str_or_null(const json_t *obj, const char *key)
{
	const char *s = gcmsg__json_str(obj, key);

	return s && *s ? s : NULL;
}

gcmsg_response *gcmsg__response_from_json(const json_t *obj, char *err, size_t errlen)
{
	gcmsg_response *r;
	const json_t *v, *item, *wa;
	size_t i;

	if (!json_is_object(obj)) {
		snprintf(err, errlen, "a response is not a JSON object");
		return NULL;
	}
	if (!str_or_null(obj, "id")) {
		snprintf(err, errlen, "a response has no id");
		return NULL;
	}
	r = gcmsg__response_new();
	if (!r)
		goto oom;
	if (dup_opt(&r->id, str_or_null(obj, "id")) || dup_opt(&r->name, str_or_null(obj, "name")) ||
	    dup_opt(&r->response_type, str_or_null(obj, "responseType")) ||
	    dup_opt(&r->interaction_type, str_or_null(obj, "interactionType")) ||
	    dup_opt(&r->date_created, str_or_null(obj, "dateCreated")))
		goto oom;
	v = json_object_get(obj, "version");
	if (json_is_integer(v))
		r->version = (long)json_integer_value(v);
	json_array_foreach(json_object_get(obj, "libraries"), i, item) {
		if (str_or_null(item, "id") &&
		    gcmsg__response_add_library(r, str_or_null(item, "id"), str_or_null(item, "name")))
			goto oom;
	}
	json_array_foreach(json_object_get(obj, "texts"), i, item) {
		const char *content = gcmsg__json_str(item, "content");

		if (!content) {
			snprintf(err, errlen, "response %s: texts[%zu] has no content", r->id, i);
			gcmsg_response_free(r);
			return NULL;
		}
		if (gcmsg__response_add_text(r, content, str_or_null(item, "contentType"),
		                             str_or_null(item, "type"), NULL))
			goto oom;
	}
	json_array_foreach(json_object_get(obj, "substitutions"), i, item) {
		if (!str_or_null(item, "id")) {
			snprintf(err, errlen, "response %s: substitutions[%zu] has no id", r->id, i);
			gcmsg_response_free(r);
			return NULL;
		}
		if (gcmsg__response_add_subst(r, str_or_null(item, "id"), gcmsg__json_str(item, "description"),
		                              gcmsg__json_str(item, "defaultValue")))
			goto oom;
	}
	wa = json_object_get(json_object_get(obj, "messagingTemplate"), "whatsApp");
	if (json_is_object(wa) && (dup_opt(&r->template_name, str_or_null(wa, "name")) ||
	                           dup_opt(&r->template_language, str_or_null(wa, "language"))))
		goto oom;
	r->origin = GCMSG_RESPONSE_REMOTE;
	return r;
oom:
	snprintf(err, errlen, "out of memory");
	gcmsg_response_free(r);
	return NULL;
}

gcmsg_response *gcmsg__response_dup(const gcmsg_response *src)
{
	gcmsg_response *r = gcmsg__response_new();
	size_t i;

	if (!r)
		return NULL;
	if (dup_opt(&r->id, src->id) || dup_opt(&r->name, src->name) ||
	    dup_opt(&r->response_type, src->response_type) ||
	    dup_opt(&r->interaction_type, src->interaction_type) ||
	    dup_opt(&r->date_created, src->date_created) ||
	    dup_opt(&r->default_language, src->default_language) ||
	    dup_opt(&r->template_name, src->template_name) ||
	    dup_opt(&r->template_language, src->template_language) || dup_opt(&r->path, src->path))
		goto fail;
	r->version = src->version;
	r->origin = src->origin;
	for (i = 0; i < src->nlibs; i++)
		if (gcmsg__response_add_library(r, src->lib_ids[i], src->lib_names[i]))
			goto fail;
	for (i = 0; i < src->ntexts; i++)
		if (gcmsg__response_add_text(r, src->texts[i].content, src->texts[i].content_type,
		                             src->texts[i].type, src->texts[i].language))
			goto fail;
	for (i = 0; i < src->nsubsts; i++)
		if (gcmsg__response_add_subst(r, src->substs[i].id, src->substs[i].description,
		                              src->substs[i].default_value))
			goto fail;
	return r;
fail:
	gcmsg_response_free(r);
	return NULL;
}

/* ---- accessors ---- */

const char *gcmsg_response_id(const gcmsg_response *r) { return r ? r->id : NULL; }
const char *gcmsg_response_name(const gcmsg_response *r) { return r ? r->name : NULL; }
long gcmsg_response_version(const gcmsg_response *r) { return r ? r->version : -1; }
size_t gcmsg_response_library_count(const gcmsg_response *r) { return r ? r->nlibs : 0; }

const char *gcmsg_response_library_id_at(const gcmsg_response *r, size_t i)
{
	return r && i < r->nlibs ? r->lib_ids[i] : NULL;
}

const char *gcmsg_response_library_name_at(const gcmsg_response *r, size_t i)
{
	return r && i < r->nlibs ? r->lib_names[i] : NULL;
}

const char *gcmsg_response_library_id(const gcmsg_response *r) { return gcmsg_response_library_id_at(r, 0); }
const char *gcmsg_response_library_name(const gcmsg_response *r) { return gcmsg_response_library_name_at(r, 0); }
const char *gcmsg_response_type(const gcmsg_response *r) { return r ? r->response_type : NULL; }
const char *gcmsg_response_interaction_type(const gcmsg_response *r) { return r ? r->interaction_type : NULL; }
const char *gcmsg_response_date_created(const gcmsg_response *r) { return r ? r->date_created : NULL; }
gcmsg_response_origin gcmsg_response_origin_of(const gcmsg_response *r) { return r ? r->origin : GCMSG_RESPONSE_REMOTE; }

const char *gcmsg_response_origin_name(const gcmsg_response *r)
{
	switch (gcmsg_response_origin_of(r)) {
	case GCMSG_RESPONSE_FILE:
		return "file";
	case GCMSG_RESPONSE_STORE:
		return "store";
	default:
		return "remote";
	}
}

const char *gcmsg_response_path(const gcmsg_response *r) { return r ? r->path : NULL; }
size_t gcmsg_response_text_count(const gcmsg_response *r) { return r ? r->ntexts : 0; }

#define TEXT_FIELD(fn, field)                                                   \
	const char *fn(const gcmsg_response *r, size_t i)                       \
	{                                                                       \
		return r && i < r->ntexts ? r->texts[i].field : NULL;           \
	}
TEXT_FIELD(gcmsg_response_text_content, content)
TEXT_FIELD(gcmsg_response_text_content_type, content_type)
TEXT_FIELD(gcmsg_response_text_type, type)
TEXT_FIELD(gcmsg_response_text_language, language)

const char *gcmsg_response_default_language(const gcmsg_response *r) { return r ? r->default_language : NULL; }
size_t gcmsg_response_substitution_count(const gcmsg_response *r) { return r ? r->nsubsts : 0; }

#define SUBST_FIELD(fn, field)                                                  \
	const char *fn(const gcmsg_response *r, size_t i)                       \
	{                                                                       \
		return r && i < r->nsubsts ? r->substs[i].field : NULL;         \
	}
SUBST_FIELD(gcmsg_response_substitution_id, id)
SUBST_FIELD(gcmsg_response_substitution_description, description)
SUBST_FIELD(gcmsg_response_substitution_default, default_value)

const char *gcmsg_response_template_name(const gcmsg_response *r) { return r ? r->template_name : NULL; }
const char *gcmsg_response_template_language(const gcmsg_response *r) { return r ? r->template_language : NULL; }

int gcmsg_response_is_template(const gcmsg_response *r)
{
	return r && r->response_type && strcmp(r->response_type, "MessagingTemplate") == 0;
}

/* ---- sets ---- */

gcmsg_response_set *gcmsg__response_set_new(void)
{
	gcmsg_response_set *set = calloc(1, sizeof(*set));

	if (set)
		gcmsg__err_init(&set->err);
	return set;
}

void gcmsg_response_set_free(gcmsg_response_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->count; i++)
		gcmsg_response_free(set->items[i]);
	free(set->items);
	for (i = 0; i < set->nlibs; i++) {
		free(set->libs[i].id);
		free(set->libs[i].name);
	}
	free(set->libs);
	gcmsg__err_clear(&set->err);
	free(set);
}

int gcmsg__response_set_add(gcmsg_response_set *set, gcmsg_response *r)
{
	if (grow((void **)&set->items, &set->alloc, set->count + 1, sizeof(*set->items), SET_CAP)) {
		gcmsg_response_free(r);
		return -1;
	}
	set->items[set->count++] = r;
	return 0;
}

int gcmsg__response_set_add_library(gcmsg_response_set *set, const char *id, const char *name, long version)
{
	gcmsg__library *l;
	size_t i;

	if (!id)
		return -1;
	for (i = 0; i < set->nlibs; i++) {
		l = &set->libs[i];
		if (strcmp(l->id, id) != 0)
			continue;
		if (!l->name && name && dup_opt(&l->name, name))
			return -1;
		if (l->version < 0)
			l->version = version;
		return 0;
	}
	if (grow((void **)&set->libs, &set->libs_alloc, set->nlibs + 1, sizeof(*set->libs), ITEM_CAP))
		return -1;
	l = &set->libs[set->nlibs];
	memset(l, 0, sizeof(*l));
	if (dup_opt(&l->id, id) || dup_opt(&l->name, name)) {
		free(l->id);
		free(l->name);
		return -1;
	}
	l->version = version;
	set->nlibs++;
	return 0;
}

const char *gcmsg__response_set_library_lookup(const gcmsg_response_set *set, const char *library)
{
	size_t i;

	for (i = 0; i < set->nlibs; i++)
		if (strcmp(set->libs[i].id, library) == 0)
			return set->libs[i].id;
	for (i = 0; i < set->nlibs; i++)
		if (set->libs[i].name && strcmp(set->libs[i].name, library) == 0)
			return set->libs[i].id;
	return NULL;
}

size_t gcmsg_response_set_count(const gcmsg_response_set *set) { return set ? set->count : 0; }

const gcmsg_response *gcmsg_response_set_get(const gcmsg_response_set *set, size_t i)
{
	return set && i < set->count ? set->items[i] : NULL;
}

size_t gcmsg_response_set_library_count(const gcmsg_response_set *set) { return set ? set->nlibs : 0; }

const char *gcmsg_response_set_library_id(const gcmsg_response_set *set, size_t i)
{
	return set && i < set->nlibs ? set->libs[i].id : NULL;
}

const char *gcmsg_response_set_library_name(const gcmsg_response_set *set, size_t i)
{
	return set && i < set->nlibs ? set->libs[i].name : NULL;
}

long gcmsg_response_set_library_version(const gcmsg_response_set *set, size_t i)
{
	return set && i < set->nlibs ? set->libs[i].version : -1;
}

const gcmsg_error *gcmsg_response_set_last_error(const gcmsg_response_set *set)
{
	return set ? &set->err.pub : NULL;
}

static int in_library(const gcmsg_response *r, const char *library)
{
	size_t i;

	if (!library)
		return 1;
	for (i = 0; i < r->nlibs; i++)
		if (strcmp(r->lib_ids[i], library) == 0 || (r->lib_names[i] && strcmp(r->lib_names[i], library) == 0))
			return 1;
	return 0;
}

/* Do two responses sit in the same first library (the one a listing shows)? */
static int same_libraries(const gcmsg_response *a, const gcmsg_response *b)
{
	if (!a->nlibs || !b->nlibs)
		return a->nlibs == b->nlibs;
	return strcmp(a->lib_ids[0], b->lib_ids[0]) == 0;
}

int gcmsg_response_set_find(const gcmsg_response **out, gcmsg_response_set *set, const char *id_or_name,
                            const char *library)
{
	const gcmsg_response *hit = NULL;
	gcmsg_buf where = GCMSG_BUF_INIT(4096);
	size_t i, nhits = 0;
	int rc, across = 0;

	if (!out || !set || !id_or_name || !*id_or_name) {
		if (set)
			gcmsg__err_set(&set->err, GCMSG_EUSAGE, "no response id or name given");
		return GCMSG_EUSAGE;
	}
	*out = NULL;
	for (i = 0; i < set->count; i++) {
		if (set->items[i]->id && strcmp(set->items[i]->id, id_or_name) == 0 &&
		    in_library(set->items[i], library)) {
			*out = set->items[i];
			return GCMSG_OK;
		}
	}
	for (i = 0; i < set->count; i++) {
		const gcmsg_response *r = set->items[i];

		if (!r->name || strcmp(r->name, id_or_name) != 0 || !in_library(r, library))
			continue;
		if (nhits++ == 0)
			hit = r;
		else if (!same_libraries(hit, r))
			across = 1;
		gcmsg__buf_printf(&where, "%s%s in library '%s' (%s)", nhits > 1 ? ", " : "", r->id,
		                  r->nlibs && r->lib_names[0] ? r->lib_names[0] : "-", r->nlibs ? r->lib_ids[0] : "-");
	}
	if (nhits == 1) {
		gcmsg__buf_dispose(&where);
		*out = hit;
		return GCMSG_OK;
	}
	if (nhits > 1) {
		rc = gcmsg__err_set(&set->err, GCMSG_EUSAGE, "response name '%s' matches %zu responses: %s",
		                    id_or_name, nhits, gcmsg__buf_cstr(&where));
		gcmsg__err_set_fix(&set->err, "%s",
		                   across ? "choose the library with --library (its name or id), or give the "
		                            "response id"
		                          : "the name repeats within one library: give the response id");
	} else if (library) {
		rc = gcmsg__err_set(&set->err, GCMSG_ENOTFOUND, "no response '%s' in library '%s'", id_or_name,
		                    library);
	} else {
		rc = gcmsg__err_set(&set->err, GCMSG_ENOTFOUND, "no response with id or name '%s'", id_or_name);
	}
	gcmsg__buf_dispose(&where);
	return rc;
}
