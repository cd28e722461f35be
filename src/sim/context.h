/* One request as the handlers see it. The dispatcher fills it, holds the state lock while a
 * handler runs, then turns status/resp into the HTTP answer and a request-log entry. */
#ifndef GCSIM_CONTEXT_H
#define GCSIM_CONTEXT_H

#include <stddef.h>

#include <jansson.h>
#include <ulfius.h>

#include "state.h"

#define SIM_MAX_SEGMENTS 16
#define SIM_MAX_BODY (1024 * 1024)

typedef struct sim_ctx {
  sim_state *st;
  const char *method;
  const char *path;   /* as received (still percent-encoded) */
  const char *query;  /* after '?', or "" */
  char *segs[SIM_MAX_SEGMENTS]; /* percent-decoded path segments */
  size_t nsegs;
  const char *authorization; /* the Authorization header or NULL; never logged */
  const char *raw_body;
  size_t raw_len;
  const struct _u_request *req; /* for request headers beyond Authorization */
  int binary_body;     /* the body is bytes (the upload receiver): never parsed as JSON */
  json_t *body;        /* parsed JSON body, or NULL */
  int body_malformed;  /* a body was sent but is not JSON */
  sim_token *tok;      /* the caller's token once authenticated */
  char corr[40];       /* ININ-Correlation-Id */
  const char *operation; /* spec operationId, NULL outside /api/v2 */
  int status;
  json_t *resp;        /* response body (owned) or NULL for an empty body */
  char *raw_resp;      /* a non-JSON response body (owned; wins over resp), raw_resp_len bytes */
  size_t raw_resp_len;
  const char *raw_resp_type; /* its Content-Type */
  json_t *log_resp;    /* responseBody for the log when the answer is not JSON (owned) */
  json_t *headers_out; /* extra response headers, name -> value (owned) or NULL */
  json_t *log_body;    /* requestBody for the log when it differs from body (owned) */
  int log_resp_body;   /* 0: log responseBody as null (e.g. GET /sim/v1/requests) */
  long retry_after;    /* Retry-After seconds, -1 for none */
  long latency_ms;     /* the injected latency this request waited (--latency-ms, limits.latencyMs) */
  int rl_set;
  long rl_count, rl_allowed, rl_reset;
  /* The fault that fired on this request (faults.c), copied: the fault may be gone by the end. */
  struct {
    int fired;
    char id[SIM_FAULT_ID_MAX + 1];
    sim_fault_kind kind;
    long latency_ms;
    int drop;           /* answer nothing: the connection is dropped */
    int pending;        /* commit-then-fail: handled normally, then the answer is replaced */
    int then_reset;
    int status;
    char *code, *message; /* owned */
    long retry_after;
    int handled_status; /* commit-then-fail: what the handler answered */
  } fault;
} sim_ctx;

#endif
