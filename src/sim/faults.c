#include "faults.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"

static int path_matches(const char *pattern, const char *path) {
  const char *p = pattern, *s = path;
  while (*p && *s) {
    const char *pe = strchr(p, '/'), *se = strchr(s, '/');
    size_t pl = pe ? (size_t)(pe - p) : strlen(p), sl = se ? (size_t)(se - s) : strlen(s);
    if (!(pl == 1 && p[0] == '*' && sl > 0) && !(pl == sl && strncmp(p, s, pl) == 0)) return 0;
    if ((pe == NULL) != (se == NULL)) return 0;
    if (pe == NULL) return 1;
    p = pe + 1;
    s = se + 1;
  }
  return *p == '\0' && *s == '\0';
}

int sim_fault_apply(sim_ctx *c) {
  sim_state *st = c->st;
  for (size_t i = 0; i < st->nfaults; i++) {
    sim_fault *f = &st->faults[i];
    if (f->method && strcmp(f->method, c->method) != 0) continue;
    if (!path_matches(f->path, c->path)) continue;
    sim_error(c, f->status, f->code ? f->code : sim_default_code(f->status), "%s",
              f->message ? f->message : "Injected by gcsim");
    if (f->retry_after >= 0) c->retry_after = f->retry_after;
    if (f->times > 0 && --f->times == 0) {
      free(f->method);
      free(f->path);
      free(f->code);
      free(f->message);
      memmove(f, f + 1, (st->nfaults - i - 1) * sizeof *f);
      st->nfaults--;
    }
    return 1;
  }
  return 0;
}

static int get_opt_str(sim_ctx *c, const json_t *spec, const char *key, int required, const char **out) {
  json_t *v = json_object_get(spec, key);
  *out = NULL;
  if (v == NULL) return required ? sim_admin_error(c, 400, key, "required key '%s' is missing", key) : 0;
  if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 1024)
    return sim_admin_error(c, 400, key, "'%s' must be a non-empty string", key);
  *out = json_string_value(v);
  return 0;
}

int sim_fault_install(sim_ctx *c, const json_t *spec) {
  static const char *const keys[] = {"method", "path", "status", "code", "message", "times", "retryAfter", NULL};
  const char *key;
  json_t *v;
  if (!json_is_object(spec)) return sim_admin_error(c, 400, "$", "expected a JSON object");
  json_object_foreach((json_t *)spec, key, v) {
    int ok = 0;
    for (size_t i = 0; keys[i]; i++) ok |= strcmp(key, keys[i]) == 0;
    if (!ok) return sim_admin_error(c, 400, key, "unknown key '%s' (allowed: method, path, status, code, message, times, retryAfter)", key);
  }
  const char *method, *path, *code, *message;
  if (get_opt_str(c, spec, "method", 0, &method) || get_opt_str(c, spec, "path", 1, &path) ||
      get_opt_str(c, spec, "code", 0, &code) || get_opt_str(c, spec, "message", 0, &message))
    return -1;
  if (path[0] != '/') return sim_admin_error(c, 400, "path", "path must start with '/'");
  if (strncmp(path, "/sim/", 5) == 0) return sim_admin_error(c, 400, "path", "the admin API cannot be faulted");
  json_t *status = json_object_get(spec, "status");
  if (!json_is_integer(status) || json_integer_value(status) < 400 || json_integer_value(status) > 599)
    return sim_admin_error(c, 400, "status", "status must be an integer from 400 to 599");
  json_t *times = json_object_get(spec, "times");
  if (times && (!json_is_integer(times) || json_integer_value(times) < 0 || json_integer_value(times) > 1000000))
    return sim_admin_error(c, 400, "times", "times must be an integer from 0 (every request until cleared) to 1000000");
  json_t *ra = json_object_get(spec, "retryAfter");
  if (ra && (!json_is_integer(ra) || json_integer_value(ra) < 0 || json_integer_value(ra) > 86400))
    return sim_admin_error(c, 400, "retryAfter", "retryAfter must be an integer number of seconds (0 to 86400)");
  if (c->st->nfaults >= SIM_MAX_FAULTS) return sim_admin_error(c, 400, "$", "at most %d faults", SIM_MAX_FAULTS);
  sim_fault *f = &c->st->faults[c->st->nfaults];
  memset(f, 0, sizeof *f);
  f->method = method ? strdup(method) : NULL;
  f->path = strdup(path);
  f->code = code ? strdup(code) : NULL;
  f->message = message ? strdup(message) : NULL;
  if ((method && !f->method) || !f->path || (code && !f->code) || (message && !f->message)) {
    free(f->method);
    free(f->path);
    free(f->code);
    free(f->message);
    return sim_admin_error(c, 500, "$", "out of memory");
  }
  f->status = (int)json_integer_value(status);
  f->times = times ? (long)json_integer_value(times) : 1;
  if (f->times == 0) f->times = -1;
  f->retry_after = ra ? (long)json_integer_value(ra) : -1;
  c->st->nfaults++;
  return 0;
}

size_t sim_faults_clear(sim_state *st) {
  size_t n = st->nfaults;
  for (size_t i = 0; i < n; i++) {
    free(st->faults[i].method);
    free(st->faults[i].path);
    free(st->faults[i].code);
    free(st->faults[i].message);
  }
  st->nfaults = 0;
  return n;
}

json_t *sim_faults_json(const sim_state *st) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < st->nfaults; i++) {
    const sim_fault *f = &st->faults[i];
    json_t *o = json_pack("{s:s, s:s, s:i, s:I}", "method", f->method ? f->method : "*", "path", f->path, "status",
                          f->status, "times", (json_int_t)(f->times < 0 ? 0 : f->times));
    if (o && f->code) json_object_set_new(o, "code", json_string(f->code));
    if (o && f->message) json_object_set_new(o, "message", json_string(f->message));
    if (o && f->retry_after >= 0) json_object_set_new(o, "retryAfter", json_integer(f->retry_after));
    json_array_append_new(arr, o);
  }
  return arr;
}
