/* Scenario files: parse, validate (unknown keys are errors, named by JSON path) and normalize
 * (every default filled in) so the rest of gcsim reads one shape. See docs/gcsim-scenarios.md. */
#ifndef GCSIM_SCENARIO_H
#define GCSIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util.h"

typedef struct sim_verr {
  char path[256];    /* JSON path of the offending value, "$" for the document */
  char message[384]; /* one line, no trailing period */
} sim_verr;

/* Reads and normalizes a scenario file. NULL on error, with err filled in. */
json_t *sim_scenario_load_file(const char *file, sim_rng *rng, sim_verr *err);
/* Normalizes a parsed scenario document (not consumed). NULL on error. */
json_t *sim_scenario_normalize(const json_t *doc, sim_rng *rng, sim_verr *err);
/* Normalizes one conversation in scenario format against an org (for the admin API: the id may
 * be missing and is then generated; ids already used in the org are refused). NULL on error. */
json_t *sim_conversation_normalize(const json_t *conv, const char *path, const json_t *org, sim_rng *rng,
                                   int id_optional, sim_verr *err);

/* Response Management helpers shared with the API handlers. */
/* 1 when Response.texts is required for that responseType (NULL: a plain response). */
int sim_response_type_needs_texts(const char *response_type);
/* The content of a normalized response's first text of type body, or NULL. */
const char *sim_response_body_text(const json_t *response);

#endif
