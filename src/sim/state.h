/* gcsim's org state. Everything here sits behind one mutex (ulfius runs a thread per
 * connection): the dispatcher takes it for the whole of a request, so the functions below
 * assume the caller holds it unless they say otherwise. */
#ifndef GCSIM_STATE_H
#define GCSIM_STATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "util.h"

#define SIM_MAX_TOKENS 100000
#define SIM_MAX_CONVERSATIONS 10000
#define SIM_MAX_TRANSCRIPT 10000
#define SIM_MAX_FAULTS 100
#define SIM_MAX_REQUEST_LOG 10000
#define SIM_TOKEN_LEN 48

typedef enum { SIM_TOKEN_CLIENT, SIM_TOKEN_USER } sim_token_kind;

typedef struct sim_token {
  char value[SIM_TOKEN_LEN + 1];
  sim_token_kind kind;
  char *principal; /* client id or user id */
  int64_t issued_ms, expires_ms;
  int64_t window_start_ms; /* rate-limit window (gcsim's clock) */
  long window_count;
} sim_token;

typedef struct sim_fault {
  char *method; /* NULL = any */
  char *path;   /* segments, '*' matches one */
  int status;
  char *code, *message;
  long times; /* remaining; -1 = forever */
  long retry_after; /* -1 = no header */
} sim_fault;

struct sim_media; /* media.h */

typedef struct sim_state {
  pthread_mutex_t lock;
  json_t *initial;  /* the normalized scenario to reset to */
  json_t *org;      /* the live, normalized scenario */
  json_t *transcripts; /* conversation id -> array of entries */
  sim_token *tokens;
  size_t ntokens;
  sim_fault faults[SIM_MAX_FAULTS];
  size_t nfaults;
  json_t *requests; /* array, at most SIM_MAX_REQUEST_LOG, oldest dropped */
  long long request_seq;
  FILE *request_log; /* --request-log, JSON Lines; may be NULL */
  int64_t clock_offset_ms;
  struct sim_media *media; /* uploaded message media (media.h), oldest first */
  size_t nmedia;
  size_t media_reserved; /* sum of the declared sizes of the media held */
  sim_rng rng;
  char base_url[128];
  int quiet;
} sim_state;

int sim_state_init(sim_state *st, json_t *normalized_scenario, uint64_t seed);
void sim_state_free(sim_state *st);
void sim_state_lock(sim_state *st);
void sim_state_unlock(sim_state *st);

/* Replaces the org with a normalized scenario (takes a reference); clears tokens, transcripts,
 * media. */
void sim_state_load(sim_state *st, json_t *normalized_scenario);
/* Back to the initial scenario; clears tokens, transcripts, media, request log, faults. */
void sim_state_reset(sim_state *st);

int64_t sim_now_ms(const sim_state *st);
void sim_now_iso(const sim_state *st, char *buf, size_t len);
void sim_new_uuid(sim_state *st, char *buf, size_t len);

/* Lookups into the org (borrowed references). */
json_t *sim_find_client(const sim_state *st, const char *id);
json_t *sim_find_user(const sim_state *st, const char *id);
json_t *sim_find_queue(const sim_state *st, const char *id);
json_t *sim_find_conversation(const sim_state *st, const char *id);
json_t *sim_find_library(const sim_state *st, const char *id);
json_t *sim_find_response(const sim_state *st, const char *id);
/* The participant whose communication has that id, or NULL. */
json_t *sim_find_participant_by_comm(json_t *conv, const char *comm_id);
long sim_rate_limit(const sim_state *st);

/* Transcript of a conversation (created on demand); NULL on allocation failure. */
json_t *sim_transcript(sim_state *st, const char *conv_id);
/* Appends an entry (takes the reference), dropping the oldest beyond the cap. */
int sim_transcript_append(sim_state *st, const char *conv_id, json_t *entry);

/* Tokens. Issue returns the stored token, or NULL when full/out of memory. */
sim_token *sim_issue_token(sim_state *st, sim_token_kind kind, const char *principal, long lifetime_s);
sim_token *sim_find_token(sim_state *st, const char *value);

/* Adds a conversation (takes the reference). 0 on success. */
int sim_add_conversation(sim_state *st, json_t *conv);

#endif
