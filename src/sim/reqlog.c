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
 * token replaced. */
static json_t *loggable_response(const json_t *resp) {
  if (resp == NULL) return json_null();
  json_t *copy = json_deep_copy(resp);
  if (copy && json_is_object(copy) && json_object_get(copy, "access_token"))
    json_object_set_new(copy, "access_token", json_string("<redacted>"));
  return copy ? copy : json_null();
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
  json_t *entry = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:i, s:o, s:s}", "seq", (json_int_t)++st->request_seq,
                            "time", now, "method", c->method, "path", c->path, "query", c->query, "operation",
                            c->operation ? json_string(c->operation) : json_null(), "headers", headers, "requestBody",
                            req_body, "status", c->status, "responseBody",
                            !c->log_resp_body ? json_null()
                            : c->log_resp    ? json_incref(c->log_resp)
                            : c->raw_resp    ? json_null()
                                             : loggable_response(c->resp), "correlationId", c->corr);
  if (entry == NULL) return;
  if (c->fault.drop) { /* the client got no answer at all */
    json_object_set_new(entry, "status", json_null());
    json_object_set_new(entry, "responseBody", json_null());
  }
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
