/* gcsim's org state. Everything here sits behind one mutex (ulfius runs a thread per
 * connection): the dispatcher takes it for the whole of a request, so the functions below
 * assume the caller holds it unless they say otherwise. */
#ifndef GCSIM_STATE_H
#define GCSIM_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "util.h"

#define SIM_MAX_TOKENS 100000
#define SIM_MAX_CONVERSATIONS 100000
#define SIM_MAX_TRANSCRIPT 10000
#define SIM_MAX_FAULTS 100
#define SIM_MAX_REQUEST_LOG 10000
#define SIM_TOKEN_LEN 48
/* --latency-ms and limits.latencyMs: 0 to this */
#define SIM_MAX_LATENCY_MS 60000

#define SIM_MAX_CODES 10000
/* An authorization code is good for this long on gcsim's clock (oauth_code.c). */
#define SIM_CODE_LIFETIME_S 60
#define SIM_CHALLENGE_LEN 43

typedef enum { SIM_TOKEN_CLIENT, SIM_TOKEN_USER } sim_token_kind;
/* How a token was obtained: the admin API (a user token standing in for a browser login), the
 * client-credentials grant, or the authorization-code grant (and its refreshes). */
typedef enum { SIM_GRANT_ADMIN, SIM_GRANT_CLIENT_CREDENTIALS, SIM_GRANT_CODE } sim_grant_kind;

typedef struct sim_token {
  char value[SIM_TOKEN_LEN + 1];
  sim_token_kind kind;
  char *principal; /* client id or user id */
  char *client_id; /* the OAuth client of a code-grant token; NULL otherwise */
  sim_grant_kind grant;
  long long grant_id; /* code grant: the login (code redemption) it descends from; 0 otherwise */
  int revoked;        /* DELETE /api/v2/tokens/me, or its grant was revoked: unknown from then on */
  int64_t issued_ms, expires_ms;
  int64_t window_start_ms; /* rate-limit window (gcsim's clock) */
  long window_count;
} sim_token;

/* An authorization code (GET /oauth/authorize), single use, bound to its client, redirect URI,
 * PKCE challenge and the consenting user. */
typedef struct sim_auth_code {
  char value[SIM_TOKEN_LEN + 1];
  char *client_id, *user_id, *redirect_uri;
  char challenge[SIM_CHALLENGE_LEN + 1];
  int64_t issued_ms, expires_ms;
  int used;
  long long grant_id; /* the login its redemption started (0: not redeemed) */
} sim_auth_code;

typedef enum { SIM_REFRESH_LIVE, SIM_REFRESH_ROTATED, SIM_REFRESH_REVOKED } sim_refresh_state;

/* A refresh token of the code grant. Refreshing rotates it: the old one is kept, ROTATED, so that
 * a second use can be recognised (and revokes its whole grant). */
typedef struct sim_refresh {
  char value[SIM_TOKEN_LEN + 1];
  long long grant_id;
  char *client_id, *user_id;
  int64_t issued_ms, expires_ms;
  sim_refresh_state state;
} sim_refresh;

typedef enum { SIM_FAULT_STATUS, SIM_FAULT_LATENCY, SIM_FAULT_RESET, SIM_FAULT_COMMIT_THEN_FAIL } sim_fault_kind;

#define SIM_FAULT_ID_MAX 64

/* An injected fault (faults.c; docs/gcsim-scenarios.md "Faults"). */
typedef struct sim_fault {
  char id[SIM_FAULT_ID_MAX + 1];
  char *method; /* NULL = any */
  char *path;   /* segments, '*' matches one */
  sim_fault_kind kind;
  int status;   /* status and commit-then-fail (0 with then_reset) */
  char *code, *message;
  long retry_after; /* -1 = no header */
  long latency_ms;  /* latency */
  int then_reset;   /* commit-then-fail: drop the connection instead of answering */
  long times;       /* firings left; -1 = until cleared */
  double probability; /* < 0: not used */
  long every_nth;     /* 0: not used */
  long long seen, fired; /* requests considered, firings */
  sim_rng rng;        /* its own stream, seeded from --seed and the id */
} sim_fault;

struct sim_media; /* media.h */

typedef struct sim_state {
  pthread_mutex_t lock;
  json_t *initial;  /* the normalized scenario to reset to */
  json_t *org;      /* the live, normalized scenario */
  /* Indexes into org's conversations (references to the same objects), kept with it: id ->
   * conversation, and the agentless key (platform, customer address, business address; see
   * sim_find_agentless_conversations) -> array of messaging conversations in org order. */
  json_t *conv_index;
  json_t *agentless_index;
  json_t *transcripts; /* conversation id -> array of entries */
  sim_token *tokens;
  size_t ntokens;
  json_t *token_index; /* token value -> its position in tokens (rebuilt when tokens are purged) */
  sim_auth_code *codes;
  size_t ncodes;
  sim_refresh *refreshes;
  size_t nrefreshes;
  long long grant_counter; /* code redemptions: grant ids g1, g2, ... */
  sim_fault faults[SIM_MAX_FAULTS];
  size_t nfaults;
  /* The request log in memory: its entries as JSON text (reqlog.c), a ring of at most
   * SIM_MAX_REQUEST_LOG, the oldest at request_head; kept as text because an entry is written once
   * and read rarely (GET /sim/v1/requests), and a tree per entry costs more to build and free. */
  char **request_lines;
  size_t request_head, request_count;
  long long request_seq;
  FILE *request_log; /* --request-log, JSON Lines; may be NULL */
  int64_t clock_offset_ms;
  int clock_frozen;      /* POST /sim/v1/clock/freeze: gcsim's clock stands still at frozen_ms */
  int64_t frozen_ms;     /* the real time the clock was frozen at (clock_offset_ms still applies) */
  struct sim_media *media; /* uploaded message media (media.h), oldest first */
  size_t nmedia;
  size_t media_reserved; /* sum of the declared sizes of the media held */
  sim_rng rng;
  uint64_t seed;     /* --seed (or the time-based one): faults draw from it */
  long long fault_counter; /* for generated fault ids f1, f2, ... */
  pthread_cond_t wake; /* latency faults wait on it (CLOCK_MONOTONIC); broadcast at stop */
  int stopping;
  int stop_fd;         /* an eventfd, readable once gcsim stops: the injected latency polls it */
  long latency_flag_ms; /* --latency-ms, or -1: the scenario's limits.latencyMs applies */
  _Atomic long latency_ms; /* the injected latency in force (read without the lock) */
  int mark_committed; /* a commit-then-fail request is being handled: mark its transcript entries */
  const char *mark_fault_id;
  char base_url[128];
  int quiet;
} sim_state;

/* latency_flag_ms: --latency-ms, or -1 when not given. */
int sim_state_init(sim_state *st, json_t *normalized_scenario, uint64_t seed, long latency_flag_ms);
void sim_state_free(sim_state *st);
void sim_state_lock(sim_state *st);
void sim_state_unlock(sim_state *st);

/* Replaces the org with a normalized scenario (takes a reference); clears tokens, transcripts,
 * media; a scenario with a "faults" key replaces the installed faults with its own. */
void sim_state_load(sim_state *st, json_t *normalized_scenario);
/* Back to the initial scenario; clears tokens, transcripts, media, request log, and puts the
 * faults back to the scenario's (none when it has none). */
void sim_state_reset(sim_state *st);

/* Waits up to ms milliseconds with the lock released (other requests go on); returns early when
 * gcsim stops. The caller holds the lock, and holds it again on return. */
void sim_state_wait_ms(sim_state *st, long ms);
/* Waits ms milliseconds without any lock (the caller must not hold the state lock); returns early
 * when gcsim stops. The global injected latency (--latency-ms, limits.latencyMs). */
void sim_state_sleep_ms(sim_state *st, long ms);
/* The injected latency in force: --latency-ms when given, else the live scenario's
 * limits.latencyMs. Needs no lock. */
long sim_latency_ms(const sim_state *st);
/* Empties the in-memory request log. */
void sim_requests_clear(sim_state *st);
/* Wakes every waiter for good (SIGTERM/SIGINT): takes the lock itself. */
void sim_state_stop(sim_state *st);

int64_t sim_now_ms(const sim_state *st);
void sim_now_iso(const sim_state *st, char *buf, size_t len);
void sim_new_uuid(sim_state *st, char *buf, size_t len);

/* Lookups into the org (borrowed references). */
json_t *sim_find_client(const sim_state *st, const char *id);
json_t *sim_find_user(const sim_state *st, const char *id);
json_t *sim_find_queue(const sim_state *st, const char *id);
json_t *sim_find_conversation(const sim_state *st, const char *id);
/* The messaging conversations of that platform whose customer communication has fromAddress (or,
 * without one, the participant's address) = customer and toAddress = business, in org order
 * (borrowed array, NULL when none). Connected or not: the caller checks. */
json_t *sim_find_agentless_conversations(const sim_state *st, const char *platform, const char *customer,
                                         const char *business);
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
/* The live or expired token with that value; NULL when unknown or revoked. */
sim_token *sim_find_token(sim_state *st, const char *value);

/* Authorization codes and refresh tokens (the code grant). NULL when full or out of memory. */
sim_auth_code *sim_code_new(sim_state *st, const char *client_id, const char *user_id, const char *redirect_uri,
                            const char *challenge);
sim_auth_code *sim_code_find(sim_state *st, const char *value);
sim_refresh *sim_refresh_new(sim_state *st, long long grant_id, const char *client_id, const char *user_id,
                             long lifetime_s);
sim_refresh *sim_refresh_find(sim_state *st, const char *value);
/* Revokes every access token and refresh token of a code grant (a login). */
void sim_grant_revoke(sim_state *st, long long grant_id);

/* Adds a conversation (takes the reference). 0 on success. */
int sim_add_conversation(sim_state *st, json_t *conv);

#endif
