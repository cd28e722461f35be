/* The request log: in memory (capped, oldest dropped) and, with --request-log, JSON Lines
 * written as each request ends. Authorization is always redacted; secrets never logged. */
#ifndef GCSIM_REQLOG_H
#define GCSIM_REQLOG_H

#include "context.h"

/* headers: an object of request headers, already redacted (taken). answer_text: the JSON text of
 * the answer (json_dumps of c->resp, JSON_COMPACT), or NULL. */
void sim_reqlog_record(sim_ctx *c, json_t *headers, const char *answer_text);
/* Writes out the --request-log lines recorded so far. Called without the state lock, before the
 * answer goes out: the lines went into the FILE's buffer in seq order under the lock (stdio locks
 * the FILE for each call), and the write itself holds up no other request. */
void sim_reqlog_flush(sim_state *st);
/* The in-memory request log as the body of GET /sim/v1/requests, {"entries": [...]} (JSON text,
 * malloc'd, *len bytes); NULL when out of memory. */
char *sim_reqlog_entries_text(const sim_state *st, size_t *len);
/* "Bearer <redacted>" style replacement of an Authorization value (buf >= 32). */
void sim_redact_authorization(const char *value, char *buf, size_t len);

#endif
