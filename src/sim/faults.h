/* Injected faults (docs/gcsim-scenarios.md, "Faults"): a fault matches by method and path
 * pattern and fires on the next `times` matching requests, with a seeded probability, or on
 * every Nth one; it answers a status, delays the answer, drops the connection, or lets the
 * request be handled and then fails it (commit-then-fail). */
#ifndef GCSIM_FAULTS_H
#define GCSIM_FAULTS_H

#include "context.h"

#define SIM_FAULT_MAX_LATENCY_MS 60000

/* Called before a request is handled. Decides which fault (if any) fires and records it in
 * c->fault. Returns 1 when the request must not be handled (an ErrorBody answer is set, or
 * c->fault.drop says to drop the connection), 0 to handle it (no fault; a latency fault, after
 * its wait with the lock released; or a commit-then-fail, c->fault.pending). */
int sim_fault_apply(sim_ctx *c);
/* After the handler of a commit-then-fail request: replaces its answer by the fault's. */
void sim_fault_after(sim_ctx *c);
/* The fault that fired, for the request log ({id, kind, ...}), or NULL when none did. */
json_t *sim_fault_log_json(const sim_ctx *c);
/* Frees what c->fault owns. */
void sim_fault_ctx_free(sim_ctx *c);

/* Checks one fault spec (an admin body, or one item of a scenario's "faults"). 0 when valid;
 * else -1 with *field set to the offending key (NULL: the whole object) and msg filled. */
int sim_fault_check(const json_t *spec, const char **field, char *msg, size_t msglen);
/* Installs a fault from its admin JSON; 0 or -1 with an admin error answer set. On success
 * *id_out (when not NULL) points at the new fault's id. */
int sim_fault_install(sim_ctx *c, const json_t *spec, const char **id_out);
/* Replaces every installed fault with the specs (a scenario's checked "faults", or NULL for
 * none). 0, or -1 when out of memory. */
int sim_faults_load(sim_state *st, const json_t *specs);
/* Removes every fault; returns how many there were. */
size_t sim_faults_clear(sim_state *st);
/* The installed faults as JSON. */
json_t *sim_faults_json(const sim_state *st);

#endif
