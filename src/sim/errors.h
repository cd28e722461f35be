/* ErrorBody answers (Genesys shape, contextId = the ININ-Correlation-Id) and admin errors. */
#ifndef GCSIM_ERRORS_H
#define GCSIM_ERRORS_H

#include "context.h"

/* Sets c->status and an ErrorBody {message, code, status, contextId}. Returns -1 so handlers can
 * `return sim_error(...)`. */
int sim_error(sim_ctx *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds messageParams[key] = value and messageWithParams to the current ErrorBody. */
void sim_error_param(sim_ctx *c, const char *key, const char *value, const char *message_with_params);
/* Adds a details[] entry naming a field. */
void sim_error_detail(sim_ctx *c, const char *field, const char *error_code);
/* Adds a details[] entry naming a field and an entity (entityName), e.g. a template parameter id. */
void sim_error_detail_entity(sim_ctx *c, const char *field, const char *error_code, const char *entity_name);
/* Adds a details[] entry naming a field and an entity by id (entityId), e.g. a media id. */
void sim_error_detail_id(sim_ctx *c, const char *field, const char *error_code, const char *entity_id);
/* Admin API error: {"error": message, "path": path}. Returns -1. */
int sim_admin_error(sim_ctx *c, int status, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Default code for an HTTP status (bad.request, not.found, ...). */
const char *sim_default_code(int status);

#endif
