/* The request log: in memory (capped, oldest dropped) and, with --request-log, JSON Lines
 * written as each request ends. Authorization is always redacted; secrets never logged. */
#ifndef GCSIM_REQLOG_H
#define GCSIM_REQLOG_H

#include "context.h"

/* headers: an object of request headers, already redacted (taken). */
void sim_reqlog_record(sim_ctx *c, json_t *headers);
/* "Bearer <redacted>" style replacement of an Authorization value (buf >= 32). */
void sim_redact_authorization(const char *value, char *buf, size_t len);

#endif
