#include "faults.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

#define MAX_TIMES 1000000
#define MAX_EVERY_NTH 1000000
#define MAX_RETRY_AFTER 86400

static const char *const KINDS[] = {"status", "latency", "reset", "commit-then-fail", NULL};
static const char *const KEYS[] = {"id",         "method",    "path", "kind",  "status",      "code",     "message",
                                   "retryAfter", "latencyMs", "then", "times", "probability", "everyNth", NULL};

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

static void free_fault(sim_fault *f) {
  free(f->method);
  free(f->path);
  free(f->code);
  free(f->message);
  f->method = f->path = f->code = f->message = NULL;
}

static void remove_fault(sim_state *st, size_t i) {
  free_fault(&st->faults[i]);
  memmove(&st->faults[i], &st->faults[i + 1], (st->nfaults - i - 1) * sizeof st->faults[0]);
  st->nfaults--;
}

/* The fault's own random stream: from the run's seed and the fault's id only, so a fault fires on
 * the same matching requests in every run with the same --seed, whatever else happens. */
static void seed_fault(const sim_state *st, sim_fault *f) {
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
  for (const char *p = f->id; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
  sim_rng_seed(&f->rng, st->seed ^ h);
  (void)sim_rng_next(&f->rng);
}

/* ---- checking a spec ---- */

static int bad(const char **field, const char *key, char *msg, size_t len, const char *fmt, ...) {
  va_list ap;
  *field = key;
  va_start(ap, fmt);
  vsnprintf(msg, len, fmt, ap);
  va_end(ap);
  return -1;
}

static int valid_id(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > SIM_FAULT_ID_MAX) return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("._-", *p)))
      return 0;
  return 1;
}

static int valid_method(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 16) return 0;
  for (const char *p = s; *p; p++)
    if (*p < 'A' || *p > 'Z') return 0;
  return 1;
}

/* An optional non-empty string of at most max bytes. */
static int opt_str(const json_t *spec, const char *key, size_t max, const char **out, const char **field, char *msg,
                   size_t len) {
  json_t *v = json_object_get(spec, key);
  *out = NULL;
  if (v == NULL) return 0;
  if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
    return bad(field, key, msg, len, "'%s' must be a non-empty string of at most %zu bytes", key, max);
  *out = json_string_value(v);
  return 0;
}

static int opt_int(const json_t *spec, const char *key, long long lo, long long hi, long long *out, int *present,
                   const char **field, char *msg, size_t len) {
  json_t *v = json_object_get(spec, key);
  *present = v != NULL;
  if (v == NULL) return 0;
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
    return bad(field, key, msg, len, "'%s' must be an integer from %lld to %lld", key, lo, hi);
  *out = json_integer_value(v);
  return 0;
}

/* Not allowed with this kind: the error names the key and the kind. */
static int forbid(const json_t *spec, const char *key, const char *why, const char **field, char *msg, size_t len) {
  if (json_object_get(spec, key)) return bad(field, key, msg, len, "'%s' is not allowed %s", key, why);
  return 0;
}

/* Parses a spec into f (strings allocated; id left empty when the spec has none). */
static int parse(const json_t *spec, sim_fault *f, const char **field, char *msg, size_t len) {
  const char *key;
  json_t *v;
  memset(f, 0, sizeof *f);
  *field = NULL;
  if (!json_is_object(spec)) return bad(field, NULL, msg, len, "a fault must be a JSON object");
  json_object_foreach((json_t *)spec, key, v) {
    int ok = 0;
    for (size_t i = 0; KEYS[i]; i++) ok |= strcmp(key, KEYS[i]) == 0;
    if (!ok)
      return bad(field, key, msg, len,
                 "unknown key '%s' (allowed: id, method, path, kind, status, code, message, retryAfter, latencyMs, "
                 "then, times, probability, everyNth)",
                 key);
  }
  const char *id, *method, *path, *kind, *code, *message, *then;
  if (opt_str(spec, "id", SIM_FAULT_ID_MAX, &id, field, msg, len) ||
      opt_str(spec, "method", 16, &method, field, msg, len) || opt_str(spec, "path", 1024, &path, field, msg, len) ||
      opt_str(spec, "kind", 32, &kind, field, msg, len) || opt_str(spec, "code", 256, &code, field, msg, len) ||
      opt_str(spec, "message", 1024, &message, field, msg, len) || opt_str(spec, "then", 16, &then, field, msg, len))
    return -1;
  if (id && !valid_id(id))
    return bad(field, "id", msg, len, "'id' takes 1 to %d letters, digits, '.', '_' or '-'", SIM_FAULT_ID_MAX);
  if (method && !valid_method(method))
    return bad(field, "method", msg, len, "'method' must be an HTTP method in capitals, such as POST");
  if (path == NULL) return bad(field, "path", msg, len, "required key 'path' is missing");
  if (path[0] != '/') return bad(field, "path", msg, len, "'path' must start with '/'");
  if (strncmp(path, "/sim/", 5) == 0 || strcmp(path, "/sim") == 0)
    return bad(field, "path", msg, len, "'path': the admin API (/sim/...) cannot be faulted");
  f->kind = SIM_FAULT_STATUS;
  if (kind) {
    int k = -1;
    for (int i = 0; KINDS[i]; i++)
      if (strcmp(kind, KINDS[i]) == 0) k = i;
    if (k < 0) return bad(field, "kind", msg, len, "'kind' must be status, latency, reset or commit-then-fail");
    f->kind = (sim_fault_kind)k;
  }

  long long status = 0, retry = -1, latency = 0, times = 1, nth = 0;
  int has_status, has_retry, has_latency, has_times, has_nth;
  if (opt_int(spec, "status", 400, 599, &status, &has_status, field, msg, len) ||
      opt_int(spec, "retryAfter", 0, MAX_RETRY_AFTER, &retry, &has_retry, field, msg, len) ||
      opt_int(spec, "latencyMs", 1, SIM_FAULT_MAX_LATENCY_MS, &latency, &has_latency, field, msg, len) ||
      opt_int(spec, "times", 0, MAX_TIMES, &times, &has_times, field, msg, len) ||
      opt_int(spec, "everyNth", 1, MAX_EVERY_NTH, &nth, &has_nth, field, msg, len))
    return -1;
  json_t *p = json_object_get(spec, "probability");
  f->probability = -1;
  if (p) {
    if (!json_is_number(p) || isnan(json_number_value(p)) || json_number_value(p) < 0 || json_number_value(p) > 1)
      return bad(field, "probability", msg, len, "'probability' must be a number from 0 to 1");
    if (has_nth) return bad(field, "everyNth", msg, len, "'everyNth' and 'probability' do not go together");
    f->probability = json_number_value(p);
  }

  switch (f->kind) {
  case SIM_FAULT_STATUS:
    if (!has_status) return bad(field, "status", msg, len, "'status' (400 to 599) is required for kind status");
    if (forbid(spec, "latencyMs", "with kind status", field, msg, len) ||
        forbid(spec, "then", "with kind status", field, msg, len))
      return -1;
    break;
  case SIM_FAULT_LATENCY:
    if (!has_latency)
      return bad(field, "latencyMs", msg, len, "'latencyMs' (1 to %d) is required for kind latency",
                 SIM_FAULT_MAX_LATENCY_MS);
    for (const char *const *k = (const char *const[]){"status", "code", "message", "retryAfter", "then", NULL}; *k; k++)
      if (forbid(spec, *k, "with kind latency (the request is served normally after the delay)", field, msg, len))
        return -1;
    break;
  case SIM_FAULT_RESET:
    for (const char *const *k = (const char *const[]){"status", "code", "message", "retryAfter", "latencyMs", "then",
                                                      NULL};
         *k; k++)
      if (forbid(spec, *k, "with kind reset (the connection is dropped without an answer)", field, msg, len))
        return -1;
    break;
  case SIM_FAULT_COMMIT_THEN_FAIL:
    if (forbid(spec, "latencyMs", "with kind commit-then-fail", field, msg, len)) return -1;
    if (then && strcmp(then, "status") != 0 && strcmp(then, "reset") != 0)
      return bad(field, "then", msg, len, "'then' must be status or reset");
    f->then_reset = then && strcmp(then, "reset") == 0;
    if (f->then_reset) {
      for (const char *const *k = (const char *const[]){"status", "code", "message", "retryAfter", NULL}; *k; k++)
        if (forbid(spec, *k, "with then reset (the connection is dropped without an answer)", field, msg, len))
          return -1;
    } else {
      if (has_status && status < 500)
        return bad(field, "status", msg, len, "'status' must be from 500 to 599 for kind commit-then-fail");
      if (!has_status) status = 503;
    }
    break;
  }

  if (id) snprintf(f->id, sizeof f->id, "%s", id);
  f->status = (int)status;
  f->retry_after = has_retry ? (long)retry : (f->status == 429 ? 3 : -1); /* Genesys: 429 always has one */
  f->latency_ms = (long)latency;
  f->every_nth = (long)nth;
  /* times counts firings; with a probability or every Nth it is unlimited unless given */
  if (!has_times && (p || has_nth)) times = 0;
  f->times = times == 0 ? -1 : (long)times;
  f->method = method ? strdup(method) : NULL;
  f->path = strdup(path);
  f->code = code ? strdup(code) : NULL;
  f->message = message ? strdup(message) : NULL;
  if ((method && !f->method) || !f->path || (code && !f->code) || (message && !f->message)) {
    free_fault(f);
    return bad(field, NULL, msg, len, "out of memory");
  }
  return 0;
}

int sim_fault_check(const json_t *spec, const char **field, char *msg, size_t msglen) {
  sim_fault f;
  int rc = parse(spec, &f, field, msg, msglen);
  if (rc == 0) free_fault(&f);
  return rc;
}

static int id_taken(const sim_state *st, const char *id) {
  for (size_t i = 0; i < st->nfaults; i++)
    if (strcmp(st->faults[i].id, id) == 0) return 1;
  return 0;
}

int sim_fault_install(sim_ctx *c, const json_t *spec, const char **id_out) {
  sim_state *st = c->st;
  sim_fault f;
  const char *field;
  char msg[512], path[64];
  if (parse(spec, &f, &field, msg, sizeof msg) != 0) {
    snprintf(path, sizeof path, "$%s%s", field ? "." : "", field ? field : "");
    return sim_admin_error(c, 400, path, "%s", msg);
  }
  if (f.id[0] && id_taken(st, f.id)) {
    free_fault(&f);
    return sim_admin_error(c, 400, "$.id", "a fault with id '%s' is already installed", f.id);
  }
  if (st->nfaults >= SIM_MAX_FAULTS) {
    free_fault(&f);
    return sim_admin_error(c, 400, "$", "at most %d faults", SIM_MAX_FAULTS);
  }
  while (!f.id[0] || id_taken(st, f.id)) snprintf(f.id, sizeof f.id, "f%lld", ++st->fault_counter);
  seed_fault(st, &f);
  st->faults[st->nfaults++] = f;
  if (id_out) *id_out = st->faults[st->nfaults - 1].id;
  return 0;
}

int sim_faults_load(sim_state *st, const json_t *specs) {
  size_t i;
  json_t *spec;
  sim_faults_clear(st);
  json_array_foreach((json_t *)specs, i, spec) {
    sim_fault f;
    const char *field;
    char msg[512];
    if (st->nfaults >= SIM_MAX_FAULTS || parse(spec, &f, &field, msg, sizeof msg) != 0) return -1;
    if (!f.id[0]) snprintf(f.id, sizeof f.id, "s%zu", i + 1);
    seed_fault(st, &f);
    st->faults[st->nfaults++] = f;
  }
  return 0;
}

size_t sim_faults_clear(sim_state *st) {
  size_t n = st->nfaults;
  for (size_t i = 0; i < n; i++) free_fault(&st->faults[i]);
  st->nfaults = 0;
  return n;
}

json_t *sim_faults_json(const sim_state *st) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < st->nfaults; i++) {
    const sim_fault *f = &st->faults[i];
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "id", f->id, "kind", KINDS[f->kind], "method",
                          f->method ? f->method : "*", "path", f->path, "times",
                          (json_int_t)(f->times < 0 ? 0 : f->times), "seen", (json_int_t)f->seen, "fired",
                          (json_int_t)f->fired);
    if (o == NULL) continue;
    if (f->probability >= 0) json_object_set_new(o, "probability", json_real(f->probability));
    if (f->every_nth > 0) json_object_set_new(o, "everyNth", json_integer(f->every_nth));
    if (f->status) json_object_set_new(o, "status", json_integer(f->status));
    if (f->code) json_object_set_new(o, "code", json_string(f->code));
    if (f->message) json_object_set_new(o, "message", json_string(f->message));
    if (f->retry_after >= 0) json_object_set_new(o, "retryAfter", json_integer(f->retry_after));
    if (f->kind == SIM_FAULT_LATENCY) json_object_set_new(o, "latencyMs", json_integer(f->latency_ms));
    if (f->kind == SIM_FAULT_COMMIT_THEN_FAIL)
      json_object_set_new(o, "then", json_string(f->then_reset ? "reset" : "status"));
    json_array_append_new(arr, o);
  }
  return arr;
}

/* ---- applying ---- */

/* 1 when the fault fires on this (matching) request: its counters move either way. */
static int fires(sim_fault *f) {
  f->seen++;
  if (f->every_nth > 0) return f->seen % f->every_nth == 0;
  if (f->probability >= 0) {
    double u = (double)(sim_rng_next(&f->rng) >> 11) * (1.0 / 9007199254740992.0); /* [0, 1) */
    return u < f->probability;
  }
  return 1;
}

static void answer_error(sim_ctx *c, int status, const char *code, const char *message, long retry_after,
                         const char *dflt) {
  sim_error(c, status, code ? code : sim_default_code(status), "%s", message ? message : dflt);
  c->retry_after = retry_after;
}

int sim_fault_apply(sim_ctx *c) {
  sim_state *st = c->st;
  for (size_t i = 0; i < st->nfaults; i++) {
    sim_fault *f = &st->faults[i];
    if (f->method && strcmp(f->method, c->method) != 0) continue;
    if (!path_matches(f->path, c->path)) continue;
    if (!fires(f)) continue;
    f->fired++;
    c->fault.fired = 1;
    memcpy(c->fault.id, f->id, sizeof c->fault.id);
    c->fault.kind = f->kind;
    c->fault.latency_ms = f->latency_ms;
    c->fault.then_reset = f->then_reset;
    c->fault.status = f->status;
    c->fault.retry_after = f->retry_after;
    c->fault.code = f->code ? strdup(f->code) : NULL;
    c->fault.message = f->message ? strdup(f->message) : NULL;
    if (f->times > 0 && --f->times == 0) remove_fault(st, i);
    f = NULL; /* may be gone */
    switch (c->fault.kind) {
    case SIM_FAULT_STATUS:
      answer_error(c, c->fault.status, c->fault.code, c->fault.message, c->fault.retry_after, "Injected by gcsim");
      return 1;
    case SIM_FAULT_LATENCY:
      /* every connection has its own thread (MHD_USE_THREAD_PER_CONNECTION); the wait releases
       * the state lock, so other requests go on meanwhile */
      sim_state_wait_ms(st, c->fault.latency_ms);
      return 0;
    case SIM_FAULT_RESET:
      c->fault.drop = 1;
      return 1;
    case SIM_FAULT_COMMIT_THEN_FAIL:
      c->fault.pending = 1;
      st->mark_committed = 1; /* sim_transcript_append marks what this request records */
      st->mark_fault_id = c->fault.id;
      return 0;
    }
  }
  return 0;
}

void sim_fault_after(sim_ctx *c) {
  if (!c->fault.pending) return;
  c->fault.pending = 0;
  c->st->mark_committed = 0;
  c->st->mark_fault_id = NULL;
  c->fault.handled_status = c->status;
  json_decref(c->resp);
  c->resp = NULL;
  free(c->raw_resp);
  c->raw_resp = NULL;
  c->raw_resp_len = 0;
  c->raw_resp_type = NULL;
  json_decref(c->log_resp);
  c->log_resp = NULL;
  json_decref(c->headers_out);
  c->headers_out = NULL;
  c->retry_after = -1;
  if (c->fault.then_reset) {
    c->fault.drop = 1;
    return;
  }
  answer_error(c, c->fault.status, c->fault.code, c->fault.message, c->fault.retry_after,
               "Injected by gcsim after the request was carried out");
}

json_t *sim_fault_log_json(const sim_ctx *c) {
  if (!c->fault.fired) return NULL;
  json_t *o = json_pack("{s:s, s:s}", "id", c->fault.id, "kind", KINDS[c->fault.kind]);
  if (o == NULL) return NULL;
  if (c->fault.kind == SIM_FAULT_LATENCY) json_object_set_new(o, "latencyMs", json_integer(c->fault.latency_ms));
  if (c->fault.kind == SIM_FAULT_COMMIT_THEN_FAIL) {
    json_object_set_new(o, "then", json_string(c->fault.then_reset ? "reset" : "status"));
    json_object_set_new(o, "handledStatus", json_integer(c->fault.handled_status));
  }
  return o;
}

void sim_fault_ctx_free(sim_ctx *c) {
  free(c->fault.code);
  free(c->fault.message);
  c->fault.code = c->fault.message = NULL;
}
