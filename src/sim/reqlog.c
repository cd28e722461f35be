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
static json_t *loggable_response(json_t *resp) {
  static const char *const secret_keys[] = {"access_token", "refresh_token", NULL};
  if (resp == NULL) return json_null();
  /* the entry is serialized at once, while this request still owns resp: a copy only to redact */
  if (!json_is_object(resp) || (json_object_get(resp, secret_keys[0]) == NULL && json_object_get(resp, secret_keys[1]) == NULL))
    return json_incref(resp);
  json_t *copy = json_deep_copy(resp);
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

static int all_ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80) return 0;
  return 1;
}

/* Concatenates the parts of a log line: `head` without its closing brace, `,"responseBody":`, the
 * body, a comma and `tail` without its opening brace. NULL when out of memory. */
static char *join_line(const char *head, const char *body, const char *tail) {
  size_t h = strlen(head), b = strlen(body), t = strlen(tail);
  static const char key[] = ",\"responseBody\":";
  char *line = malloc(h - 1 + sizeof key - 1 + b + 1 + t - 1 + 1);
  if (line == NULL) return NULL;
  char *p = line;
  memcpy(p, head, h - 1);
  p += h - 1;
  memcpy(p, key, sizeof key - 1);
  p += sizeof key - 1;
  memcpy(p, body, b);
  p += b;
  *p++ = ',';
  memcpy(p, tail + 1, t); /* with its NUL */
  return line;
}

void sim_reqlog_record(sim_ctx *c, json_t *headers, const char *answer_text) {
  sim_state *st = c->st;
  char now[40];
  sim_now_iso(st, now, sizeof now);
  json_t *req_body;
  if (c->log_body) req_body = json_incref(c->log_body);
  else if (c->body) req_body = json_incref(c->body);
  else if (c->body_malformed && c->raw_body) req_body = json_stringn(c->raw_body, c->raw_len > 4096 ? 4096 : c->raw_len);
  else req_body = json_null();
  if (req_body == NULL) req_body = json_null();
  /* The entry, in the order of its keys: head, responseBody, tail. It is written as text at once
   * (JSON_ENSURE_ASCII), so the response body, when logged as the client got it, is the answer's
   * own text (when ASCII, as the escaped form of anything else would differ) rather than a second
   * serialization of it. */
  json_t *head = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "seq", (json_int_t)++st->request_seq,
                           "time", now, "method", c->method, "path", c->path, "query", loggable_query(c->query),
                           "operation", c->operation ? json_string(c->operation) : json_null(), "headers", headers,
                           "requestBody", req_body, "status",
                           c->fault.drop ? json_null() : json_integer(c->status)); /* drop: no answer at all */
  json_t *tail = json_pack("{s:s}", "correlationId", c->corr);
  if (tail && c->latency_ms > 0) json_object_set_new(tail, "latencyMs", json_integer(c->latency_ms));
  json_t *fault = sim_fault_log_json(c);
  if (tail && fault) json_object_set_new(tail, "fault", fault);
  else json_decref(fault);
  json_t *body = NULL;
  const char *body_text = "null";
  char *body_dump = NULL;
  if (c->fault.drop || !c->log_resp_body || strcmp(c->method, "HEAD") == 0) body = NULL;
  else if (c->log_resp) body = json_incref(c->log_resp);
  else if (c->raw_resp) body = NULL;
  else if (c->resp && (body = loggable_response(c->resp)) == c->resp && answer_text && all_ascii(answer_text)) {
    body_text = answer_text; /* exactly what json_dumps would write */
    json_decref(body);
    body = NULL;
  }
  if (body) {
    body_dump = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
    json_decref(body);
    body_text = body_dump;
  }
  char *head_text = head ? json_dumps(head, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
  char *tail_text = tail ? json_dumps(tail, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
  char *line = head_text && tail_text && body_text ? join_line(head_text, body_text, tail_text) : NULL;
  json_decref(head);
  json_decref(tail);
  free(head_text);
  free(tail_text);
  free(body_dump);
  if (line == NULL) return;
  if (st->request_log) { /* into the FILE's buffer, in seq order; the caller flushes (sim_reqlog_flush) */
    fputs(line, st->request_log);
    fputc('\n', st->request_log);
  }
  size_t slot = (st->request_head + st->request_count) % SIM_MAX_REQUEST_LOG;
  if (st->request_count == SIM_MAX_REQUEST_LOG) { /* full: the oldest goes */
    free(st->request_lines[st->request_head]);
    st->request_head = (st->request_head + 1) % SIM_MAX_REQUEST_LOG;
  } else {
    st->request_count++;
  }
  st->request_lines[slot] = line;
}

char *sim_reqlog_entries_text(const sim_state *st, size_t *len) {
  static const char head[] = "{\"entries\":[", tail[] = "]}";
  size_t n = sizeof head - 1 + sizeof tail - 1;
  for (size_t i = 0; i < st->request_count; i++)
    n += strlen(st->request_lines[(st->request_head + i) % SIM_MAX_REQUEST_LOG]) + 1;
  char *out = malloc(n + 1), *p = out;
  if (out == NULL) return NULL;
  memcpy(p, head, sizeof head - 1);
  p += sizeof head - 1;
  for (size_t i = 0; i < st->request_count; i++) {
    const char *line = st->request_lines[(st->request_head + i) % SIM_MAX_REQUEST_LOG];
    size_t l = strlen(line);
    if (i) *p++ = ',';
    memcpy(p, line, l);
    p += l;
  }
  memcpy(p, tail, sizeof tail);
  *len = (size_t)(p - out) + sizeof tail - 1;
  return out;
}

void sim_reqlog_flush(sim_state *st) {
  if (st->request_log) fflush(st->request_log); /* stdio locks the FILE itself */
}
