/* gcsim's own request-body model tables, written from the public API definition (Platform API
 * 10662), and a validator that answers the Genesys-style 400 ErrorBody. The same tables check
 * the parts of a scenario that are Genesys models (a response's messagingTemplate). */
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
  SIM_T_STRING_ARRAY, /* items checked against enums when given */
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
  int read_only;            /* readOnly in the definition: accepted in requests, then ignored */
} sim_prop;

struct sim_model {
  const char *name;
  const sim_prop *props; /* terminated by a {NULL} entry */
};

extern const sim_model SIM_MODEL_ADDITIONAL_MESSAGE;
extern const sim_model SIM_MODEL_UPLOAD_MEDIA_REQUEST;
extern const sim_model SIM_MODEL_MESSAGE_TYPING_EVENT_REQUEST;
extern const sim_model SIM_MODEL_SEND_AGENTLESS_REQUEST;
extern const sim_model SIM_MODEL_CREATE_WEB_CHAT_REQUEST;
extern const sim_model SIM_MODEL_CREATE_WEB_CHAT_MESSAGE_REQUEST;
extern const sim_model SIM_MODEL_SEND_MESSAGING_TEMPLATE;
extern const sim_model SIM_MODEL_LIBRARY;
extern const sim_model SIM_MODEL_RESPONSE;
extern const sim_model SIM_MODEL_RESPONSE_SUBSTITUTION;
extern const sim_model SIM_MODEL_RESPONSE_QUERY_REQUEST;
extern const sim_model SIM_MODEL_MESSAGING_TEMPLATE;
extern const sim_model SIM_MODEL_FOOTER_TEMPLATE;
extern const sim_model SIM_MODEL_APPLE_INVITATION;
extern const sim_model SIM_MODEL_RMS_ASSET_REF;

/* The first problem found by sim_model_check. */
typedef struct sim_model_error {
  char code[32];         /* ErrorBody code: bad.request, invalid.property, invalid.value */
  char field[256];       /* dotted field path (details[].fieldName) */
  char detail_code[32];  /* details[].errorCode: required, invalid.property, invalid.value */
  char message[512];     /* one sentence */
} sim_model_error;

/* Checks an object against a model: required properties, types, enums, no unknown properties
 * (null stands for absent). Field paths start with prefix ("" for the top level). 0 when valid;
 * otherwise -1 with err filled in. */
int sim_model_check(const sim_model *model, const json_t *obj, const char *prefix, sim_model_error *err);

/* A deep copy of a valid object keeping only the model's properties, without nulls and, unless
 * keep_read_only, without readOnly properties (they are ignored in requests). NULL on OOM. */
json_t *sim_model_copy(const sim_model *model, const json_t *obj, int keep_read_only);

/* Checks c->body against a model: body present and a JSON object, then sim_model_check. 0 when
 * valid; otherwise a 400 ErrorBody is set and -1 returned. */
int sim_validate_body(sim_ctx *c, const sim_model *model);

#endif
