/* gcsim's own request-body model tables, written from the public API definition (Platform API
 * 10662), and a validator that answers the Genesys-style 400 ErrorBody. */
#ifndef GCSIM_MODELS_H
#define GCSIM_MODELS_H

#include "context.h"

typedef enum {
  SIM_T_STRING,
  SIM_T_DATETIME,
  SIM_T_BOOL,
  SIM_T_INT,
  SIM_T_OBJECT,       /* a nested model */
  SIM_T_ANY_OBJECT,   /* a free-form object (not checked further) */
  SIM_T_STRING_ARRAY,
  SIM_T_OBJECT_ARRAY, /* array of a nested model */
  SIM_T_STRING_MAP    /* object of strings */
} sim_type;

typedef struct sim_model sim_model;
typedef struct sim_prop {
  const char *name;
  sim_type type;
  int required;
  const char *const *enums; /* NULL-terminated, or NULL */
  const sim_model *model;   /* for SIM_T_OBJECT / SIM_T_OBJECT_ARRAY */
} sim_prop;

struct sim_model {
  const char *name;
  const sim_prop *props; /* terminated by a {NULL} entry */
};

extern const sim_model SIM_MODEL_ADDITIONAL_MESSAGE;
extern const sim_model SIM_MODEL_MESSAGE_TYPING_EVENT_REQUEST;
extern const sim_model SIM_MODEL_SEND_AGENTLESS_REQUEST;
extern const sim_model SIM_MODEL_CREATE_WEB_CHAT_REQUEST;
extern const sim_model SIM_MODEL_CREATE_WEB_CHAT_MESSAGE_REQUEST;

/* Checks c->body against a model: body present and a JSON object, required properties, types,
 * enums, no unknown properties. 0 when valid; otherwise a 400 ErrorBody is set and -1 returned. */
int sim_validate_body(sim_ctx *c, const sim_model *model);

#endif
