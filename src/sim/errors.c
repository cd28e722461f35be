#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

const char *sim_default_code(int status) {
  switch (status) {
  case 400: return "bad.request";
  case 401: return "authentication.required";
  case 403: return "not.authorized";
  case 404: return "not.found";
  case 408: return "client.timeout";
  case 409: return "request.conflict";
  case 413: return "request.entity.too.large";
  case 415: return "unsupported.media.type";
  case 429: return "too.many.requests";
  case 503: return "service.unavailable";
  case 504: return "request.timeout";
  default: return status >= 500 ? "internal.server.error" : "bad.request";
  }
}

int sim_error(sim_ctx *c, int status, const char *code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_decref(c->resp);
  c->status = status;
  c->resp = json_pack("{s:s, s:s, s:i, s:s}", "message", msg, "code", code ? code : sim_default_code(status),
                      "status", status, "contextId", c->corr);
  return -1;
}

void sim_error_param(sim_ctx *c, const char *key, const char *value, const char *message_with_params) {
  if (c->resp == NULL) return;
  json_t *params = json_object_get(c->resp, "messageParams");
  if (params == NULL) {
    params = json_object();
    if (params == NULL || json_object_set_new(c->resp, "messageParams", params)) return;
  }
  json_object_set_new(params, key, json_string(value));
  if (message_with_params) json_object_set_new(c->resp, "messageWithParams", json_string(message_with_params));
}

void sim_error_detail(sim_ctx *c, const char *field, const char *error_code) {
  sim_error_detail_entity(c, field, error_code, NULL);
}

static void add_detail(sim_ctx *c, const char *field, const char *error_code, const char *entity_id,
                       const char *entity_name) {
  if (c->resp == NULL) return;
  json_t *details = json_object_get(c->resp, "details");
  if (details == NULL) {
    details = json_array();
    if (details == NULL || json_object_set_new(c->resp, "details", details)) return;
  }
  json_t *d = json_pack("{s:s}", "fieldName", field);
  if (d == NULL) return;
  if (error_code) json_object_set_new(d, "errorCode", json_string(error_code));
  if (entity_id) json_object_set_new(d, "entityId", json_string(entity_id));
  if (entity_name) json_object_set_new(d, "entityName", json_string(entity_name));
  json_array_append_new(details, d);
}

void sim_error_detail_entity(sim_ctx *c, const char *field, const char *error_code, const char *entity_name) {
  add_detail(c, field, error_code, NULL, entity_name);
}

void sim_error_detail_id(sim_ctx *c, const char *field, const char *error_code, const char *entity_id) {
  add_detail(c, field, error_code, entity_id, NULL);
}

int sim_admin_error(sim_ctx *c, int status, const char *path, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_decref(c->resp);
  c->status = status;
  c->resp = json_pack("{s:s, s:s}", "error", msg, "path", path ? path : c->path);
  return -1;
}
