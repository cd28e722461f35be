/* Response Management: libraries and responses (list, get, create, query), rendered as the
 * Genesys models Library, Response and their paged listings. The choices gcsim makes where the
 * definition is silent (ordering, case, limits) are in docs/gcsim-scenarios.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "models.h"
#include "routes.h"
#include "scenario.h"

#define DEFAULT_PAGE_SIZE 25
#define LIST_MAX_PAGE_SIZE 100  /* GET listings: the definition gives no maximum; gcsim's choice */
#define QUERY_MAX_PAGE_SIZE 500 /* ResponseQueryRequest.pageSize: "Default: 25, Maximum: 500" */
#define MAX_PAGE_NUMBER 1000000
#define MAX_LIBRARIES 10000
#define MAX_RESPONSES 10000
#define MAX_NAME_LEN 4096
#define MAX_RESPONSE_LIBRARIES 100 /* as in scenarios */
#define MAX_RESPONSE_TEXTS 100
#define MAX_RESPONSE_SUBSTITUTIONS 500

static const char LIBRARIES_PATH[] = "/api/v2/responsemanagement/libraries";
static const char RESPONSES_PATH[] = "/api/v2/responsemanagement/responses";
static const char QUERY_PATH[] = "/api/v2/responsemanagement/responses/query";

/* ---- rendering ---- */

static json_t *render_library(const json_t *lib) {
  char uri[512];
  snprintf(uri, sizeof uri, "%s/%s", LIBRARIES_PATH, sim_jstr(lib, "id"));
  return json_pack("{s:s, s:s, s:O, s:s, s:s}", "id", sim_jstr(lib, "id"), "name", sim_jstr(lib, "name"), "version",
                   json_object_get(lib, "version"), "dateCreated", sim_jstr(lib, "dateCreated"), "selfUri", uri);
}

/* JsonSchemaDocument: one string property per substitution (description and default when set). */
static json_t *substitutions_schema(const json_t *resp) {
  json_t *props = json_object();
  size_t i;
  json_t *s;
  if (props == NULL) return NULL;
  json_array_foreach(json_object_get(resp, "substitutions"), i, s) {
    json_t *p = json_pack("{s:s}", "type", "string");
    if (p == NULL) break;
    if (sim_jstr(s, "description")) json_object_set_new(p, "description", json_string(sim_jstr(s, "description")));
    if (sim_jstr(s, "defaultValue")) json_object_set_new(p, "default", json_string(sim_jstr(s, "defaultValue")));
    json_object_set_new(props, sim_jstr(s, "id"), p);
  }
  return json_pack("{s:s, s:s, s:s, s:o}", "$schema", "http://json-schema.org/draft-04/schema#", "title",
                   sim_jstr(resp, "name"), "type", "object", "properties", props);
}

static json_t *render_response(sim_state *st, const json_t *resp, int expand_schema) {
  char uri[512];
  json_t *libs = json_array();
  size_t i;
  json_t *v;
  if (libs == NULL) return NULL;
  json_array_foreach(json_object_get(resp, "libraries"), i, v) {
    const char *lid = json_string_value(v);
    snprintf(uri, sizeof uri, "%s/%s", LIBRARIES_PATH, lid);
    json_t *ref = json_pack("{s:s, s:s}", "id", lid, "selfUri", uri);
    const char *lname = sim_jstr(sim_find_library(st, lid), "name");
    if (ref && lname) json_object_set_new(ref, "name", json_string(lname));
    json_array_append_new(libs, ref);
  }
  snprintf(uri, sizeof uri, "%s/%s", RESPONSES_PATH, sim_jstr(resp, "id"));
  json_t *o = json_pack("{s:s, s:s, s:O, s:o, s:O, s:O, s:s, s:s}", "id", sim_jstr(resp, "id"), "name",
                        sim_jstr(resp, "name"), "version", json_object_get(resp, "version"), "libraries", libs, "texts",
                        json_object_get(resp, "texts"), "substitutions", json_object_get(resp, "substitutions"),
                        "dateCreated", sim_jstr(resp, "dateCreated"), "selfUri", uri);
  if (o == NULL) return NULL;
  static const char *const optional[] = {"interactionType", "responseType", "messagingTemplate", "assets", "footer",
                                         "appleInvitation", NULL};
  for (i = 0; optional[i]; i++) {
    json_t *x = json_object_get(resp, optional[i]);
    if (x) json_object_set_new(o, optional[i], json_deep_copy(x));
  }
  if (expand_schema) json_object_set_new(o, "substitutionsSchema", substitutions_schema(resp));
  return o;
}

/* ---- query parameters ---- */

static int query_param_error(sim_ctx *c, const char *name, const char *value, const char *allowed) {
  sim_error(c, 400, "invalid.query.param.value", "Value [%.100s] is not valid for parameter [%s]. Allowable values are: %s",
            value, name, allowed);
  sim_error_detail(c, name, "invalid.query.param.value");
  return -1;
}

/* An optional decoded query parameter (*out malloc'd or NULL). */
static int query_string(sim_ctx *c, const char *name, char **out) {
  int malformed;
  *out = sim_query_get(c->query, name, &malformed);
  if (malformed) {
    sim_error(c, 400, "bad.request", "The query parameter %s is not correctly percent-encoded.", name);
    sim_error_detail(c, name, "invalid.query.param.value");
    return -1;
  }
  return 0;
}

/* An optional integer query parameter within [lo, hi]. */
static int query_int(sim_ctx *c, const char *name, long dflt, long lo, long hi, long *out) {
  char *v, allowed[64];
  if (query_string(c, name, &v)) return -1;
  *out = dflt;
  if (v == NULL) return 0;
  char *end = NULL;
  long n = 0;
  int ok = *v != '\0' && strlen(v) <= 10;
  for (const char *p = v; ok && *p; p++) ok = (*p >= '0' && *p <= '9') || (p == v && *p == '-');
  if (ok) n = strtol(v, &end, 10);
  if (!ok || end == NULL || *end != '\0' || n < lo || n > hi) {
    snprintf(allowed, sizeof allowed, "integers from %ld to %ld", lo, hi);
    query_param_error(c, name, v, allowed);
    free(v);
    return -1;
  }
  free(v);
  *out = n;
  return 0;
}

/* expand: absent, or substitutionsSchema. */
static int query_expand(sim_ctx *c, int *expand) {
  char *v;
  *expand = 0;
  if (query_string(c, "expand", &v)) return -1;
  if (v == NULL) return 0;
  int ok = strcmp(v, "substitutionsSchema") == 0;
  if (!ok) query_param_error(c, "expand", v, "substitutionsSchema");
  free(v);
  *expand = ok;
  return ok ? 0 : -1;
}

/* ---- listings ---- */

static int by_name_then_id(const void *a, const void *b) {
  const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
  int r = strcasecmp(sim_jstr(x, "name"), sim_jstr(y, "name"));
  return r ? r : strcmp(sim_jstr(x, "id"), sim_jstr(y, "id"));
}

static void page_uri(char *buf, size_t len, const char *path, const char *params, long size, long number) {
  snprintf(buf, len, "%s?%s%spageSize=%ld&pageNumber=%ld", path, params, *params ? "&" : "", size, number);
}

typedef json_t *(*render_fn)(sim_state *st, const json_t *item, int expand);

static json_t *render_library_item(sim_state *st, const json_t *item, int expand) {
  (void)st;
  (void)expand;
  return render_library(item);
}

/* One page of the matching items (borrowed, sorted here) with the Genesys paging fields.
 * `params` are the other query parameters, already encoded, for the URIs. */
static json_t *listing(sim_state *st, json_t **items, size_t n, long size, long number, const char *path,
                       const char *params, render_fn render, int expand) {
  char uri[2048];
  long long total = (long long)n, page_count = (total + size - 1) / size;
  qsort(items, n, sizeof *items, by_name_then_id);
  json_t *entities = json_array();
  json_t *o = json_pack("{s:o, s:i, s:i, s:I, s:I}", "entities", entities, "pageSize", (int)size, "pageNumber",
                        (int)number, "total", (json_int_t)total, "pageCount", (json_int_t)page_count);
  if (o == NULL) return NULL;
  long long first = (long long)(number - 1) * size;
  for (long long i = first; i < total && i < first + size; i++) {
    json_t *r = render(st, items[i], expand);
    if (r == NULL || json_array_append_new(entities, r)) {
      json_decref(o);
      return NULL;
    }
  }
  page_uri(uri, sizeof uri, path, params, size, 1);
  json_object_set_new(o, "firstUri", json_string(uri));
  page_uri(uri, sizeof uri, path, params, size, number);
  json_object_set_new(o, "selfUri", json_string(uri));
  page_uri(uri, sizeof uri, path, params, size, page_count > 0 ? (long)page_count : 1);
  json_object_set_new(o, "lastUri", json_string(uri));
  if (number < page_count) {
    page_uri(uri, sizeof uri, path, params, size, number + 1);
    json_object_set_new(o, "nextUri", json_string(uri));
  }
  if (number > 1) {
    page_uri(uri, sizeof uri, path, params, size, number - 1);
    json_object_set_new(o, "previousUri", json_string(uri));
  }
  return o;
}

/* Appends "name=value" (value percent-encoded) to a query-string buffer. */
static void add_param(char *buf, size_t len, const char *name, const char *value) {
  char *enc = sim_url_encode(value);
  size_t used = strlen(buf);
  if (enc && used < len) snprintf(buf + used, len - used, "%s%s=%s", used ? "&" : "", name, enc);
  free(enc);
}

/* ---- ASCII case-insensitive matching ---- */

static int ci_prefix(const char *s, const char *prefix) { return strncasecmp(s, prefix, strlen(prefix)) == 0; }

static int ci_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return m <= n && strcasecmp(s + n - m, suffix) == 0;
}

static int ci_contains(const char *s, const char *needle) {
  size_t m = strlen(needle);
  for (; *s; s++)
    if (strncasecmp(s, needle, m) == 0) return 1;
  return m == 0;
}

static int library_has_whatsapp_template(sim_state *st, const char *lib_id) {
  size_t i, j;
  json_t *r, *l;
  json_array_foreach(json_object_get(st->org, "responses"), i, r) {
    if (json_object_get(json_object_get(r, "messagingTemplate"), "whatsApp") == NULL) continue;
    json_array_foreach(json_object_get(r, "libraries"), j, l) {
      if (strcmp(json_string_value(l), lib_id) == 0) return 1;
    }
  }
  return 0;
}

/* ---- libraries ---- */

int sim_get_libraries(sim_ctx *c) {
  long size, number;
  char *prefix = NULL, *filter = NULL, params[1024] = "";
  if (query_int(c, "pageSize", DEFAULT_PAGE_SIZE, 1, LIST_MAX_PAGE_SIZE, &size) ||
      query_int(c, "pageNumber", 1, 1, MAX_PAGE_NUMBER, &number) || query_string(c, "libraryPrefix", &prefix) ||
      query_string(c, "messagingTemplateFilter", &filter))
    goto done;
  if (filter && strcmp(filter, "whatsapp") != 0) {
    query_param_error(c, "messagingTemplateFilter", filter, "whatsapp");
    goto done;
  }
  if (prefix && *prefix) add_param(params, sizeof params, "libraryPrefix", prefix);
  if (filter) add_param(params, sizeof params, "messagingTemplateFilter", filter);
  json_t *libs = json_object_get(c->st->org, "libraries");
  json_t **items = malloc((json_array_size(libs) + 1) * sizeof *items);
  if (items == NULL) {
    sim_error(c, 500, NULL, "out of memory");
    goto done;
  }
  size_t n = 0, i;
  json_t *lib;
  json_array_foreach(libs, i, lib) {
    if (prefix && *prefix && !ci_prefix(sim_jstr(lib, "name"), prefix)) continue;
    if (filter && !library_has_whatsapp_template(c->st, sim_jstr(lib, "id"))) continue;
    items[n++] = lib;
  }
  c->resp = listing(c->st, items, n, size, number, LIBRARIES_PATH, params, render_library_item, 0);
  free(items);
  if (c->resp == NULL) sim_error(c, 500, NULL, "out of memory");
  else c->status = 200;
done:
  free(prefix);
  free(filter);
  return c->status == 200 ? 0 : -1;
}

static int library_not_found(sim_ctx *c, const char *id) {
  sim_error(c, 404, "not.found", "The response library %s was not found.", id);
  sim_error_param(c, "libraryId", id, "The response library {libraryId} was not found.");
  return -1;
}

int sim_get_library(sim_ctx *c) {
  json_t *lib = sim_find_library(c->st, c->segs[4]);
  if (lib == NULL) return library_not_found(c, c->segs[4]);
  c->resp = render_library(lib);
  if (c->resp == NULL) return sim_error(c, 500, NULL, "out of memory");
  c->status = 200;
  return 0;
}

/* A required non-empty string property of the body (already type-checked). */
static int non_empty(sim_ctx *c, const json_t *obj, const char *key, const char *field) {
  const char *s = sim_jstr(obj, key);
  if (s == NULL) {
    sim_error(c, 400, "bad.request", "The property '%s' is required.", field);
    sim_error_detail(c, field, "required");
    return -1;
  }
  if (*s == '\0' || strlen(s) > MAX_NAME_LEN) {
    sim_error(c, 400, "invalid.value", "Invalid value for %s: expected a non-empty string of at most %d bytes.", field,
              MAX_NAME_LEN);
    sim_error_detail(c, field, "invalid.value");
    return -1;
  }
  return 0;
}

int sim_post_library(sim_ctx *c) {
  if (sim_validate_body(c, &SIM_MODEL_LIBRARY) || non_empty(c, c->body, "name", "name")) return -1;
  json_t *libs = json_object_get(c->st->org, "libraries");
  if (json_array_size(libs) >= MAX_LIBRARIES)
    return sim_error(c, 400, "bad.request", "gcsim holds at most %d response libraries.", MAX_LIBRARIES);
  char id[40], now[40];
  sim_new_uuid(c->st, id, sizeof id);
  sim_now_iso(c->st, now, sizeof now);
  json_t *lib = json_pack("{s:s, s:s, s:i, s:s}", "id", id, "name", sim_jstr(c->body, "name"), "version", 1,
                          "dateCreated", now);
  if (lib == NULL || json_array_append_new(libs, lib)) return sim_error(c, 500, NULL, "out of memory");
  c->resp = render_library(lib);
  if (c->resp == NULL) return sim_error(c, 500, NULL, "out of memory");
  c->status = 200;
  return 0;
}

/* ---- responses ---- */

static int response_in_library(const json_t *resp, const char *lib_id) {
  size_t i;
  json_t *l;
  json_array_foreach(json_object_get(resp, "libraries"), i, l) {
    if (strcmp(json_string_value(l), lib_id) == 0) return 1;
  }
  return 0;
}

int sim_get_responses(sim_ctx *c) {
  long size, number;
  int expand;
  char *lib_id = NULL, params[1024] = "";
  if (query_string(c, "libraryId", &lib_id)) return -1;
  if (lib_id == NULL || *lib_id == '\0') {
    free(lib_id);
    sim_error(c, 400, "bad.request", "The query parameter libraryId is required: the id of the library to list.");
    sim_error_detail(c, "libraryId", "required");
    return -1;
  }
  if (query_int(c, "pageSize", DEFAULT_PAGE_SIZE, 1, LIST_MAX_PAGE_SIZE, &size) ||
      query_int(c, "pageNumber", 1, 1, MAX_PAGE_NUMBER, &number) || query_expand(c, &expand))
    goto done;
  if (sim_find_library(c->st, lib_id) == NULL) {
    library_not_found(c, lib_id);
    goto done;
  }
  add_param(params, sizeof params, "libraryId", lib_id);
  if (expand) add_param(params, sizeof params, "expand", "substitutionsSchema");
  json_t *all = json_object_get(c->st->org, "responses");
  json_t **items = malloc((json_array_size(all) + 1) * sizeof *items);
  if (items == NULL) {
    sim_error(c, 500, NULL, "out of memory");
    goto done;
  }
  size_t n = 0, i;
  json_t *r;
  json_array_foreach(all, i, r) {
    if (response_in_library(r, lib_id)) items[n++] = r;
  }
  c->resp = listing(c->st, items, n, size, number, RESPONSES_PATH, params, render_response, expand);
  free(items);
  if (c->resp == NULL) sim_error(c, 500, NULL, "out of memory");
  else c->status = 200;
done:
  free(lib_id);
  return c->status == 200 ? 0 : -1;
}

int sim_get_response(sim_ctx *c) {
  int expand;
  if (query_expand(c, &expand)) return -1;
  json_t *r = sim_find_response(c->st, c->segs[4]);
  if (r == NULL) {
    sim_error(c, 404, "not.found", "The response %s was not found.", c->segs[4]);
    sim_error_param(c, "responseId", c->segs[4], "The response {responseId} was not found.");
    return -1;
  }
  c->resp = render_response(c->st, r, expand);
  if (c->resp == NULL) return sim_error(c, 500, NULL, "out of memory");
  c->status = 200;
  return 0;
}

static int body_error(sim_ctx *c, const char *code, const char *field, const char *detail_code, const char *msg) {
  sim_error(c, 400, code, "%s", msg);
  sim_error_detail(c, field, detail_code);
  return -1;
}

/* The body's libraries[] as an array of existing, distinct library ids. */
static json_t *body_libraries(sim_ctx *c) {
  char field[64], msg[512];
  json_t *in = json_object_get(c->body, "libraries"), *ids = json_array();
  size_t i, j;
  json_t *ref, *seen;
  if (ids == NULL) {
    sim_error(c, 500, NULL, "out of memory");
    return NULL;
  }
  if (json_array_size(in) == 0 || json_array_size(in) > MAX_RESPONSE_LIBRARIES) {
    snprintf(msg, sizeof msg, "Invalid value for libraries: a response belongs to 1 to %d libraries.",
             MAX_RESPONSE_LIBRARIES);
    body_error(c, "invalid.value", "libraries", "invalid.value", msg);
    goto error;
  }
  json_array_foreach(in, i, ref) {
    const char *id = sim_jstr(ref, "id");
    snprintf(field, sizeof field, "libraries[%zu].id", i);
    if (id == NULL) {
      snprintf(msg, sizeof msg, "The property '%s' is required: libraries are referenced by id.", field);
      body_error(c, "bad.request", field, "required", msg);
      goto error;
    }
    if (sim_find_library(c->st, id) == NULL) {
      snprintf(msg, sizeof msg, "The response library %.100s (%s) was not found.", id, field);
      body_error(c, "bad.request", field, "invalid.value", msg);
      goto error;
    }
    json_array_foreach(ids, j, seen) {
      if (strcmp(json_string_value(seen), id) == 0) {
        snprintf(msg, sizeof msg, "The response library %.100s is listed twice (%s).", id, field);
        body_error(c, "invalid.value", field, "invalid.value", msg);
        goto error;
      }
    }
    json_array_append_new(ids, json_string(id));
  }
  return ids;
error:
  json_decref(ids);
  return NULL;
}

static json_t *body_texts(sim_ctx *c, const char *rtype) {
  char field[64], msg[256];
  json_t *in = json_object_get(c->body, "texts"), *out = json_array();
  size_t i;
  json_t *t;
  if (out == NULL) {
    sim_error(c, 500, NULL, "out of memory");
    return NULL;
  }
  if (json_array_size(in) == 0 && sim_response_type_needs_texts(rtype)) {
    snprintf(msg, sizeof msg, "The property 'texts' is required for %s responses: give at least one text.",
             rtype ? rtype : "plain (no responseType)");
    body_error(c, "bad.request", "texts", "required", msg);
    json_decref(out);
    return NULL;
  }
  if (json_array_size(in) > MAX_RESPONSE_TEXTS) {
    snprintf(msg, sizeof msg, "Invalid value for texts: at most %d texts.", MAX_RESPONSE_TEXTS);
    body_error(c, "invalid.value", "texts", "invalid.value", msg);
    json_decref(out);
    return NULL;
  }
  json_array_foreach(in, i, t) {
    const char *ctype = sim_jstr(t, "contentType"), *type = sim_jstr(t, "type");
    snprintf(field, sizeof field, "texts[%zu].content", i);
    if (non_empty(c, t, "content", field)) {
      json_decref(out);
      return NULL;
    }
    json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "content", sim_jstr(t, "content"), "contentType",
                                         ctype ? ctype : "text/plain", "type", type ? type : "body"));
  }
  return out;
}

static json_t *body_substitutions(sim_ctx *c) {
  char field[64], msg[256];
  json_t *in = json_object_get(c->body, "substitutions"), *out = json_array();
  size_t i, j;
  json_t *s, *seen;
  if (out == NULL) {
    sim_error(c, 500, NULL, "out of memory");
    return NULL;
  }
  if (json_array_size(in) > MAX_RESPONSE_SUBSTITUTIONS) {
    snprintf(msg, sizeof msg, "Invalid value for substitutions: at most %d substitutions.", MAX_RESPONSE_SUBSTITUTIONS);
    body_error(c, "invalid.value", "substitutions", "invalid.value", msg);
    goto error;
  }
  json_array_foreach(in, i, s) {
    snprintf(field, sizeof field, "substitutions[%zu].id", i);
    if (non_empty(c, s, "id", field)) goto error;
    json_array_foreach(out, j, seen) {
      if (strcmp(sim_jstr(seen, "id"), sim_jstr(s, "id")) == 0) {
        snprintf(msg, sizeof msg, "The substitution id '%.100s' is used twice (%s).", sim_jstr(s, "id"), field);
        body_error(c, "invalid.value", field, "invalid.value", msg);
        goto error;
      }
    }
    json_t *o = sim_model_copy(&SIM_MODEL_RESPONSE_SUBSTITUTION, s, 0);
    if (o == NULL || json_array_append_new(out, o)) {
      sim_error(c, 500, NULL, "out of memory");
      goto error;
    }
  }
  return out;
error:
  json_decref(out);
  return NULL;
}

/* A property that only goes with one responseType. */
static int only_with_type(sim_ctx *c, const char *key, const char *rtype, const char *wanted) {
  char msg[256];
  if (json_object_get(c->body, key) == NULL || json_is_null(json_object_get(c->body, key))) return 0;
  if (rtype && strcmp(rtype, wanted) == 0) return 0;
  snprintf(msg, sizeof msg, "Invalid value for %s: it is only for responses of responseType %s.", key, wanted);
  return body_error(c, "invalid.value", key, "invalid.value", msg);
}

int sim_post_response(sim_ctx *c) {
  int expand;
  if (query_expand(c, &expand) || sim_validate_body(c, &SIM_MODEL_RESPONSE) || non_empty(c, c->body, "name", "name"))
    return -1;
  const char *rtype = sim_jstr(c->body, "responseType"), *itype = sim_jstr(c->body, "interactionType");
  if (only_with_type(c, "messagingTemplate", rtype, "MessagingTemplate") ||
      only_with_type(c, "footer", rtype, "Footer") || only_with_type(c, "appleInvitation", rtype, "AppleInvitation"))
    return -1;
  json_t *all = json_object_get(c->st->org, "responses");
  if (json_array_size(all) >= MAX_RESPONSES)
    return sim_error(c, 400, "bad.request", "gcsim holds at most %d responses.", MAX_RESPONSES);
  json_t *libs = body_libraries(c);
  if (libs == NULL) return -1;
  json_t *texts = body_texts(c, rtype);
  json_t *substs = texts ? body_substitutions(c) : NULL;
  if (texts == NULL || substs == NULL) {
    json_decref(libs);
    json_decref(texts);
    return -1;
  }
  char id[40], now[40];
  sim_new_uuid(c->st, id, sizeof id);
  sim_now_iso(c->st, now, sizeof now);
  json_t *r = json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:s}", "id", id, "name", sim_jstr(c->body, "name"), "version", 1,
                        "libraries", libs, "texts", texts, "substitutions", substs, "dateCreated", now);
  if (r == NULL) return sim_error(c, 500, NULL, "out of memory");
  if (itype) json_object_set_new(r, "interactionType", json_string(itype));
  if (rtype) json_object_set_new(r, "responseType", json_string(rtype));
  struct {
    const char *key;
    const sim_model *model;
    int array;
  } extras[] = {{"messagingTemplate", &SIM_MODEL_MESSAGING_TEMPLATE, 0},
                {"footer", &SIM_MODEL_FOOTER_TEMPLATE, 0},
                {"appleInvitation", &SIM_MODEL_APPLE_INVITATION, 0},
                {"assets", &SIM_MODEL_RMS_ASSET_REF, 1}};
  for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
    json_t *v = json_object_get(c->body, extras[i].key);
    if (v == NULL || json_is_null(v)) continue;
    json_t *copy;
    if (extras[i].array) {
      copy = json_array();
      size_t j;
      json_t *item;
      json_array_foreach(v, j, item) json_array_append_new(copy, sim_model_copy(extras[i].model, item, 0));
    } else {
      copy = sim_model_copy(extras[i].model, v, 0);
    }
    json_object_set_new(r, extras[i].key, copy);
  }
  if (rtype && strcmp(rtype, "MessagingTemplate") == 0) {
    json_t *wa = json_object_get(json_object_get(r, "messagingTemplate"), "whatsApp");
    if (wa == NULL) {
      json_decref(r);
      return body_error(c, "bad.request", "messagingTemplate.whatsApp", "required",
                        "A MessagingTemplate response needs messagingTemplate.whatsApp (name and language).");
    }
    if (sim_response_body_text(r) == NULL) {
      json_decref(r);
      return body_error(c, "bad.request", "texts", "required",
                        "A MessagingTemplate response needs a text of type body (the template body).");
    }
  }
  if (json_array_append_new(all, r)) return sim_error(c, 500, NULL, "out of memory");
  c->resp = render_response(c->st, r, expand);
  if (c->resp == NULL) return sim_error(c, 500, NULL, "out of memory");
  c->status = 200;
  return 0;
}

/* ---- query ---- */

typedef enum { OP_IN, OP_EQUALS, OP_NOTEQUALS, OP_BEGINS_WITH, OP_ENDS_WITH, OP_CONTAINS } filter_op;
static const char *const OPERATORS[] = {"IN", "EQUALS", "NOTEQUALS", "BEGINS_WITH", "ENDS_WITH", "CONTAINS", NULL};
static const char *const FILTER_NAMES[] = {"name", "libraryId", "text.contentType", "messagingTemplate", "responseType",
                                           NULL};

/* The values a response has for a filter field (borrowed strings; at most cap). */
static size_t field_values(const json_t *r, const char *name, const char **out, size_t cap) {
  size_t n = 0, i;
  json_t *v;
  if (strcmp(name, "name") == 0) {
    out[n++] = sim_jstr(r, "name");
  } else if (strcmp(name, "libraryId") == 0) {
    json_array_foreach(json_object_get(r, "libraries"), i, v) if (n < cap) out[n++] = json_string_value(v);
  } else if (strcmp(name, "text.contentType") == 0) {
    json_array_foreach(json_object_get(r, "texts"), i, v) if (n < cap) out[n++] = sim_jstr(v, "contentType");
  } else if (strcmp(name, "messagingTemplate") == 0) {
    if (json_object_get(json_object_get(r, "messagingTemplate"), "whatsApp")) out[n++] = "whatsapp";
  } else if (strcmp(name, "responseType") == 0) {
    if (sim_jstr(r, "responseType")) out[n++] = sim_jstr(r, "responseType");
  }
  return n;
}

static int value_matches(filter_op op, int exact, const char *have, const char *want) {
  switch (op) {
  case OP_IN:
  case OP_EQUALS:
  case OP_NOTEQUALS: return exact ? strcmp(have, want) == 0 : strcasecmp(have, want) == 0;
  case OP_BEGINS_WITH: return ci_prefix(have, want);
  case OP_ENDS_WITH: return ci_suffix(have, want);
  case OP_CONTAINS: return ci_contains(have, want);
  }
  return 0;
}

static int filter_matches(const json_t *r, const json_t *filter) {
  const char *name = sim_jstr(filter, "name"), *ops = sim_jstr(filter, "operator");
  const char *have[MAX_RESPONSE_TEXTS + MAX_RESPONSE_LIBRARIES + 1];
  filter_op op = OP_IN;
  for (size_t k = 0; OPERATORS[k]; k++)
    if (strcmp(ops, OPERATORS[k]) == 0) op = (filter_op)k;
  int exact = strcmp(name, "libraryId") == 0;
  size_t n = field_values(r, name, have, sizeof have / sizeof have[0]), i, j;
  json_t *want;
  int any = 0;
  for (i = 0; i < n && !any; i++) {
    json_array_foreach(json_object_get(filter, "values"), j, want) {
      if (value_matches(op, exact, have[i], json_string_value(want))) {
        any = 1;
        break;
      }
    }
  }
  return op == OP_NOTEQUALS ? !any : any;
}

static int phrase_matches(const json_t *r, const char *phrase) {
  if (phrase == NULL || *phrase == '\0' || ci_contains(sim_jstr(r, "name"), phrase)) return 1;
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(r, "texts"), i, t) {
    if (ci_contains(sim_jstr(t, "content"), phrase)) return 1;
  }
  return 0;
}

static int check_filters(sim_ctx *c, const json_t *filters) {
  char field[64], msg[512];
  size_t i;
  json_t *f;
  json_array_foreach(filters, i, f) {
    const char *name = sim_jstr(f, "name");
    int known = 0;
    for (size_t k = 0; FILTER_NAMES[k]; k++) known |= strcmp(name, FILTER_NAMES[k]) == 0;
    if (!known) {
      snprintf(field, sizeof field, "filters[%zu].name", i);
      snprintf(msg, sizeof msg,
               "Invalid value '%.100s' for %s: must be one of [name, libraryId, text.contentType, messagingTemplate, "
               "responseType].",
               name, field);
      return body_error(c, "invalid.value", field, "invalid.value", msg);
    }
    if (json_array_size(json_object_get(f, "values")) == 0) {
      snprintf(field, sizeof field, "filters[%zu].values", i);
      snprintf(msg, sizeof msg, "Invalid value for %s: give at least one value to filter on.", field);
      return body_error(c, "invalid.value", field, "invalid.value", msg);
    }
  }
  return 0;
}

static int body_int(sim_ctx *c, const char *key, long dflt, long lo, long hi, long *out) {
  char msg[256];
  json_t *v = json_object_get(c->body, key);
  *out = dflt;
  if (v == NULL || json_is_null(v)) return 0;
  json_int_t n = json_integer_value(v);
  if (n < lo || n > hi) {
    snprintf(msg, sizeof msg, "Invalid value %lld for %s: must be from %ld to %ld.", (long long)n, key, lo, hi);
    return body_error(c, "invalid.value", key, "invalid.value", msg);
  }
  *out = (long)n;
  return 0;
}

int sim_post_responses_query(sim_ctx *c) {
  long size, number;
  if (sim_validate_body(c, &SIM_MODEL_RESPONSE_QUERY_REQUEST) ||
      body_int(c, "pageSize", DEFAULT_PAGE_SIZE, 1, QUERY_MAX_PAGE_SIZE, &size) ||
      body_int(c, "pageNumber", 1, 1, MAX_PAGE_NUMBER, &number))
    return -1;
  json_t *filters = json_object_get(c->body, "filters");
  if (check_filters(c, filters)) return -1;
  const char *phrase = sim_jstr(c->body, "queryPhrase");
  json_t *all = json_object_get(c->st->org, "responses");
  json_t **items = malloc((json_array_size(all) + 1) * sizeof *items);
  if (items == NULL) return sim_error(c, 500, NULL, "out of memory");
  size_t n = 0, i, j;
  json_t *r, *f;
  json_array_foreach(all, i, r) {
    if (!phrase_matches(r, phrase)) continue;
    int ok = 1;
    json_array_foreach(filters, j, f) {
      if (!filter_matches(r, f)) {
        ok = 0;
        break;
      }
    }
    if (ok) items[n++] = r;
  }
  json_t *list = listing(c->st, items, n, size, number, QUERY_PATH, "", render_response, 0);
  free(items);
  c->resp = list ? json_pack("{s:o}", "results", list) : NULL;
  if (c->resp == NULL) return sim_error(c, 500, NULL, "out of memory");
  c->status = 200;
  return 0;
}
