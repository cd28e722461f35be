#include "reqlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"

void sim_redact_authorization(const char *value, char *buf, size_t len) {
  size_t scheme = 0;
  while (value[scheme] && value[scheme] != ' ' && scheme < 16) scheme++;
  if (value[scheme] == ' ' && scheme > 0)
    snprintf(buf, len, "%.*s <redacted>", (int)scheme, value);
  else
    snprintf(buf, len, "<redacted>");
}

/* Response bodies carrying tokens (/oauth/token, /sim/v1/users/{id}/token) are logged with the
 * tokens replaced. */
static json_t *loggable_response(const json_t *resp) {
  if (resp == NULL) return json_null();
  json_t *copy = json_deep_copy(resp);
  static const char *const secret_keys[] = {"access_token", "refresh_token", NULL};
  for (size_t i = 0; copy && json_is_object(copy) && secret_keys[i]; i++)
    if (json_object_get(copy, secret_keys[i])) json_object_set_new(copy, secret_keys[i], json_string("<redacted>"));
  return copy ? copy : json_null();
}

/* Query parameters that carry a credential never reach the log: their values are replaced. */
static int secret_query_key(const char *key, size_t len) {
  static const char *const keys[] = {"code", "code_verifier", "refresh_token", "access_token", "client_secret",
                                     "password", "assertion", NULL};
  for (size_t i = 0; keys[i]; i++)
    if (strlen(keys[i]) == len && strncmp(keys[i], key, len) == 0) return 1;
  return 0;
}

static json_t *loggable_query(const char *query) {
  size_t n = strlen(query);
  char *out = malloc(n + 1 + 10 * (n / 2 + 1)); /* each parameter grows by at most "<redacted>" */
  if (out == NULL) return json_string("<redacted>");
  size_t o = 0;
  for (const char *p = query; *p;) {
    size_t len = strcspn(p, "&"), klen = strcspn(p, "=&");
    memcpy(out + o, p, klen);
    o += klen;
    if (klen < len) {
      if (secret_query_key(p, klen)) {
        memcpy(out + o, "=<redacted>", 11);
        o += 11;
      } else {
        memcpy(out + o, p + klen, len - klen);
        o += len - klen;
      }
    }
    p += len;
    if (*p == '&') {
      out[o++] = '&';
      p++;
    }
  }
  out[o] = '\0';
  json_t *s = json_string(out);
  free(out);
  return s ? s : json_string("<not UTF-8>");
}

void sim_reqlog_record(sim_ctx *c, json_t *headers) {
  sim_state *st = c->st;
  char now[40];
  sim_now_iso(st, now, sizeof now);
  json_t *req_body;
  if (c->log_body) req_body = json_incref(c->log_body);
  else if (c->body) req_body = json_incref(c->body);
  else if (c->body_malformed && c->raw_body) req_body = json_stringn(c->raw_body, c->raw_len > 4096 ? 4096 : c->raw_len);
  else req_body = json_null();
  if (req_body == NULL) req_body = json_null();
  json_t *entry = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:i, s:o, s:s}", "seq",
                            (json_int_t)++st->request_seq, "time", now, "method", c->method, "path", c->path, "query",
                            loggable_query(c->query), "operation",
                            c->operation ? json_string(c->operation) : json_null(), "headers", headers, "requestBody",
                            req_body, "status", c->status, "responseBody",
                            !c->log_resp_body || strcmp(c->method, "HEAD") == 0 ? json_null()
                            : c->log_resp    ? json_incref(c->log_resp)
                            : c->raw_resp    ? json_null()
                                             : loggable_response(c->resp), "correlationId", c->corr);
  if (entry == NULL) return;
  if (c->fault.drop) { /* the client got no answer at all */
    json_object_set_new(entry, "status", json_null());
    json_object_set_new(entry, "responseBody", json_null());
  }
  if (c->latency_ms > 0) json_object_set_new(entry, "latencyMs", json_integer(c->latency_ms));
  json_t *fault = sim_fault_log_json(c);
  if (fault) json_object_set_new(entry, "fault", fault);
  if (st->request_log) {
    char *line = json_dumps(entry, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (line) {
      fputs(line, st->request_log);
      fputc('\n', st->request_log);
      fflush(st->request_log);
      free(line);
    }
  }
  while (json_array_size(st->requests) >= SIM_MAX_REQUEST_LOG) json_array_remove(st->requests, 0);
  json_array_append_new(st->requests, entry);
}
