#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "admin.h"
#include "auth.h"
#include "errors.h"
#include "faults.h"
#include "oauth.h"
#include "ratelimit.h"
#include "reqlog.h"
#include "routes.h"

static int split_path(sim_ctx *c) {
  const char *p = c->path;
  if (*p != '/') return -1;
  p++;
  while (*p) {
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (c->nsegs >= SIM_MAX_SEGMENTS) return -1;
    c->segs[c->nsegs] = sim_url_decode(p, len, 0);
    if (c->segs[c->nsegs] == NULL) return -1;
    c->nsegs++;
    if (end == NULL) break;
    p = end + 1;
  }
  return 0;
}

static int route_matches(const sim_route *r, const sim_ctx *c) {
  const char *p = r->pattern + 1;
  size_t i = 0;
  while (*p) {
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (i >= c->nsegs) return 0;
    if (!(len == 1 && *p == '*') && (strlen(c->segs[i]) != len || strncmp(c->segs[i], p, len) != 0)) return 0;
    if (len == 1 && *p == '*' && c->segs[i][0] == '\0') return 0;
    i++;
    if (end == NULL) break;
    p = end + 1;
  }
  return i == c->nsegs;
}

static const sim_route *find_route(const sim_ctx *c, int *path_known) {
  *path_known = 0;
  for (const sim_route *r = SIM_API_ROUTES; r->method; r++) {
    if (!route_matches(r, c)) continue;
    *path_known = 1;
    if (strcmp(r->method, c->method) == 0) return r;
  }
  return NULL;
}

static void api(sim_ctx *c) {
  int path_known;
  const sim_route *r = find_route(c, &path_known);
  if (r) c->operation = r->operation;
  if (sim_fault_apply(c)) {
    if (!c->fault.drop) sim_rate_unauthenticated(c);
    return;
  }
  if (r == NULL) {
    sim_rate_unauthenticated(c);
    sim_error(c, 404, "not.found", "No resource %s %s in this API (gcsim serves a subset of Genesys Cloud).", c->method,
              c->path);
    return;
  }
  if (sim_authenticate(c)) {
    sim_rate_unauthenticated(c);
    return;
  }
  if (sim_rate_check(c) || sim_require_permissions(c, r->perm_mode, r->perms)) return;
  r->handler(c);
}

static void handle(sim_ctx *c) {
  if (c->nsegs >= 2 && strcmp(c->segs[0], "sim") == 0 && strcmp(c->segs[1], "v1") == 0) {
    sim_admin(c);
    return;
  }
  if (c->nsegs >= 2 && strcmp(c->segs[0], "api") == 0 && strcmp(c->segs[1], "v2") == 0) {
    api(c);
    return;
  }
  if (sim_fault_apply(c)) return;
  /* The storage side of the media upload flow: outside /api/v2, as Genesys hands out URLs on
   * another host. No bearer token, no rate limit. */
  if (c->nsegs >= 1 && strcmp(c->segs[0], "uploads") == 0) {
    sim_upload_receive(c);
    return;
  }
  if (c->nsegs >= 1 && strcmp(c->segs[0], "media") == 0) {
    sim_media_fetch(c);
    return;
  }
  if (c->nsegs == 2 && strcmp(c->segs[0], "oauth") == 0 && strcmp(c->segs[1], "token") == 0) {
    sim_oauth_token(c);
    return;
  }
  if (c->nsegs == 2 && strcmp(c->segs[0], "oauth") == 0 && strcmp(c->segs[1], "authorize") == 0) {
    sim_oauth_authorize(c);
    return;
  }
  sim_error(c, 404, "not.found", "No resource %s %s.", c->method, c->path);
}

/* The connection being served by this thread. MHD runs every connection in its own thread
 * (MHD_USE_THREAD_PER_CONNECTION, see main.c) and calls the URI logger in that thread before the
 * request's callback, so a thread-local variable is enough to find the connection again. */
static __thread struct MHD_Connection *current_connection;

void *sim_uri_logger(void *cls, const char *uri, struct MHD_Connection *con) {
  current_connection = con;
  return ulfius_uri_logger(cls, uri);
}

/* A reset fault: neither ulfius nor MHD lets a callback abort a connection, so shut its socket
 * down under them, with SO_LINGER 0 so the close MHD then does sends a TCP RST. The client gets no
 * byte of an answer: it reads EOF ("empty reply from server") or ECONNRESET. MHD's own attempt to
 * send the answer fails, and it closes the connection and cleans up as after any client loss. */
static void drop_connection(void) {
  const union MHD_ConnectionInfo *ci =
      current_connection ? MHD_get_connection_info(current_connection, MHD_CONNECTION_INFO_CONNECTION_FD) : NULL;
  if (ci == NULL) return;
  struct linger lg = {1, 0};
  setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  shutdown(ci->connect_fd, SHUT_RDWR);
}

static json_t *logged_headers(const struct _u_request *req) {
  json_t *h = json_object();
  const char **keys = u_map_enum_keys(req->map_header);
  for (size_t i = 0; h && keys && keys[i]; i++) {
    const char *v = u_map_get(req->map_header, keys[i]);
    if (v == NULL) continue;
    if (strcasecmp(keys[i], "Authorization") == 0 || strcasecmp(keys[i], "Cookie") == 0 ||
        strcasecmp(keys[i], "Proxy-Authorization") == 0) {
      char red[64];
      sim_redact_authorization(v, red, sizeof red);
      json_object_set_new(h, keys[i], json_string(red));
    } else {
      json_t *s = json_string(v);
      json_object_set_new(h, keys[i], s ? s : json_string("<not UTF-8>"));
    }
  }
  return h ? h : json_object();
}

static void set_long_header(struct _u_response *res, const char *name, long v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%ld", v);
  ulfius_add_header_to_response(res, name, buf);
}

int sim_dispatch(const struct _u_request *req, struct _u_response *res, void *user_data) {
  sim_ctx c;
  memset(&c, 0, sizeof c);
  c.st = user_data;
  c.method = req->http_verb;
  c.path = req->url_path ? req->url_path : "/";
  const char *q = req->http_url ? strchr(req->http_url, '?') : NULL;
  c.query = q ? q + 1 : "";
  c.authorization = u_map_get_case(req->map_header, "Authorization");
  c.raw_body = req->binary_body;
  c.raw_len = req->binary_body_length;
  c.req = req;
  c.retry_after = -1;
  c.log_resp_body = 1;
  c.status = 500;

  int path_ok = split_path(&c) == 0;
  int is_oauth = c.nsegs == 2 && strcmp(c.segs[0], "oauth") == 0;
  c.binary_body = path_ok && c.nsegs >= 1 && strcmp(c.segs[0], "uploads") == 0;
  /* an upload's size is the receiver's to judge (against contentLengthBytes) */
  int too_large = !c.binary_body && c.raw_len > SIM_MAX_BODY;
  if (c.binary_body) {
    char note[64];
    snprintf(note, sizeof note, "<%zu bytes>", c.raw_len);
    c.log_body = json_string(note);
  } else if (c.raw_len > 0 && !is_oauth && !too_large) {
    size_t i = 0;
    while (i < c.raw_len && strchr(" \t\r\n", c.raw_body[i])) i++;
    if (i < c.raw_len) {
      c.body = json_loadb(c.raw_body, c.raw_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
      c.body_malformed = c.body == NULL;
    }
  }

  sim_state *st = c.st;
  /* The injected latency: in this connection's own thread (MHD_USE_THREAD_PER_CONNECTION), before
   * the state lock is taken, so that every other request goes on meanwhile. Not for the admin API. */
  int admin = path_ok && c.nsegs >= 2 && strcmp(c.segs[0], "sim") == 0 && strcmp(c.segs[1], "v1") == 0;
  c.latency_ms = admin ? 0 : sim_latency_ms(st);
  if (c.latency_ms > 0) sim_state_sleep_ms(st, c.latency_ms);
  json_t *headers = logged_headers(req); /* for the log: the request's own, no state */
  sim_state_lock(st);
  sim_new_uuid(st, c.corr, sizeof c.corr);
  if (!path_ok)
    sim_error(&c, 404, "not.found", "No resource at this path.");
  else if (too_large)
    sim_error(&c, 413, "request.entity.too.large", "The request body is larger than %d bytes.", SIM_MAX_BODY);
  else
    handle(&c);
  sim_fault_after(&c);

  /* Under the lock only what reads the state: the answer's text (an admin answer may hold live
   * parts of it, such as a transcript) and the request log entry (its seq, in handling order). */
  char *text = !c.fault.drop && c.resp && !c.raw_resp ? json_dumps(c.resp, JSON_COMPACT) : NULL;
  sim_reqlog_record(&c, headers, text);
  char ctype[128]; /* raw_resp_type may point into the state (a media's type) */
  snprintf(ctype, sizeof ctype, "%s", c.raw_resp_type ? c.raw_resp_type : "application/octet-stream");
  sim_state_unlock(st);
  sim_reqlog_flush(st);

  if (c.fault.drop) {
    drop_connection();
    ulfius_add_header_to_response(res, "Connection", "close");
    ulfius_set_empty_body_response(res, 500);
    if (!st->quiet) fprintf(stderr, "gcsim: %s %s -> connection dropped (%s)\n", c.method, c.path, c.corr);
    goto done;
  }
  ulfius_add_header_to_response(res, "ININ-Correlation-Id", c.corr);
  if (c.rl_set) {
    set_long_header(res, "inin-ratelimit-count", c.rl_count);
    set_long_header(res, "inin-ratelimit-allowed", c.rl_allowed);
    set_long_header(res, "inin-ratelimit-reset", c.rl_reset);
  }
  if (c.retry_after >= 0) set_long_header(res, "Retry-After", c.retry_after);
  const char *hname;
  json_t *hvalue;
  json_object_foreach(c.headers_out, hname, hvalue) ulfius_add_header_to_response(res, hname, json_string_value(hvalue));
  if (c.raw_resp) {
    ulfius_add_header_to_response(res, "Content-Type", ctype);
    ulfius_set_binary_body_response(res, (unsigned)c.status, c.raw_resp, c.raw_resp_len);
  } else if (text) {
    ulfius_add_header_to_response(res, "Content-Type", "application/json");
    ulfius_set_string_body_response(res, (unsigned)c.status, text);
  } else {
    ulfius_set_empty_body_response(res, (unsigned)c.status);
  }
  if (!st->quiet)
    fprintf(stderr, "gcsim: %s %s -> %d (%s)\n", c.method, c.path, c.status, c.corr);
done:
  free(text);
  json_decref(c.body);
  json_decref(c.resp);
  json_decref(c.log_body);
  free(c.raw_resp);
  json_decref(c.log_resp);
  json_decref(c.headers_out);
  for (size_t i = 0; i < c.nsegs; i++) free(c.segs[i]);
  sim_fault_ctx_free(&c);
  return U_CALLBACK_COMPLETE;
}
