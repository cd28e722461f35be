#include "state.h"

#include "faults.h"
#include "media.h"
#include "render.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static void free_token(sim_token *t) {
  free(t->principal);
  free(t->client_id);
  memset(t->value, 0, sizeof t->value);
}

static void free_code(sim_auth_code *a) {
  free(a->client_id);
  free(a->user_id);
  free(a->redirect_uri);
  memset(a->value, 0, sizeof a->value);
}

static void free_refresh(sim_refresh *r) {
  free(r->client_id);
  free(r->user_id);
  memset(r->value, 0, sizeof r->value);
}

/* Tokens, authorization codes and refresh tokens: every credential gcsim handed out. */
static void clear_tokens(sim_state *st) {
  for (size_t i = 0; i < st->ntokens; i++) free_token(&st->tokens[i]);
  free(st->tokens);
  st->tokens = NULL;
  st->ntokens = 0;
  json_object_clear(st->token_index);
  for (size_t i = 0; i < st->ncodes; i++) free_code(&st->codes[i]);
  free(st->codes);
  st->codes = NULL;
  st->ncodes = 0;
  for (size_t i = 0; i < st->nrefreshes; i++) free_refresh(&st->refreshes[i]);
  free(st->refreshes);
  st->refreshes = NULL;
  st->nrefreshes = 0;
  st->grant_counter = 0;
}

/* The agentless key of a messaging conversation: platform, customer address and business address,
 * NUL-separated (no address holds a NUL, so no two triples meet), malloc'd, its length in *len; NULL
 * when the conversation cannot be joined by an agentless message (an address missing) or on OOM. */
static char *agentless_key(const char *platform, const char *customer, const char *business, size_t *len) {
  if (platform == NULL || customer == NULL || business == NULL) return NULL;
  size_t a = strlen(platform), b = strlen(customer), c = strlen(business);
  char *key = malloc(a + b + c + 3);
  if (key == NULL) return NULL;
  memcpy(key, platform, a + 1);
  memcpy(key + a + 1, customer, b + 1);
  memcpy(key + a + b + 2, business, c + 1);
  *len = a + b + c + 2;
  return key;
}

/* Adds a conversation to the indexes. 0, or -1 when out of memory. */
static int index_conversation(sim_state *st, json_t *conv) {
  const char *id = sim_jstr(conv, "id");
  if (id == NULL || json_object_set(st->conv_index, id, conv) != 0) return -1;
  if (!sim_conv_is_message(conv)) return 0;
  json_t *cust = sim_conv_customer(conv);
  json_t *comm = json_object_get(cust, "communication");
  const char *from = sim_jstr(comm, "fromAddress"), *to = sim_jstr(comm, "toAddress");
  size_t klen;
  char *key = agentless_key(sim_jstr(conv, "platform"), from ? from : sim_jstr(cust, "address"), to, &klen);
  if (key == NULL) return 0;
  json_t *list = json_object_getn(st->agentless_index, key, klen);
  if (list == NULL) {
    list = json_array();
    if (list == NULL || json_object_setn_new(st->agentless_index, key, klen, list) != 0) list = NULL;
  }
  free(key);
  return list ? json_array_append(list, conv) : -1;
}

/* Rebuilds the indexes from org (after a load or a reset). */
static void index_org(sim_state *st) {
  size_t i;
  json_t *conv;
  json_object_clear(st->conv_index);
  json_object_clear(st->agentless_index);
  json_array_foreach(json_object_get(st->org, "conversations"), i, conv) index_conversation(st, conv);
}

/* The latency in force after the org changed: the flag wins over the scenario. */
static void update_latency(sim_state *st) {
  long ms = st->latency_flag_ms >= 0
                ? st->latency_flag_ms
                : (long)json_integer_value(json_object_get(json_object_get(st->org, "limits"), "latencyMs"));
  atomic_store(&st->latency_ms, ms);
}

int sim_state_init(sim_state *st, json_t *normalized_scenario, uint64_t seed, long latency_flag_ms) {
  memset(st, 0, sizeof *st);
  st->latency_flag_ms = latency_flag_ms;
  st->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (st->stop_fd < 0) return -1;
  if (pthread_mutex_init(&st->lock, NULL) != 0) return -1;
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
      pthread_cond_init(&st->wake, &ca) != 0)
    return -1;
  pthread_condattr_destroy(&ca);
  sim_rng_seed(&st->rng, seed);
  st->seed = seed;
  st->transcripts = json_object();
  st->request_lines = calloc(SIM_MAX_REQUEST_LOG, sizeof *st->request_lines);
  st->conv_index = json_object();
  st->agentless_index = json_object();
  st->token_index = json_object();
  if (st->transcripts == NULL || st->request_lines == NULL || st->conv_index == NULL || st->agentless_index == NULL ||
      st->token_index == NULL)
    return -1;
  st->initial = json_incref(normalized_scenario); /* never changed in place: reset copies it */
  st->org = json_deep_copy(normalized_scenario);
  if (st->initial == NULL || st->org == NULL) return -1;
  index_org(st);
  update_latency(st);
  return sim_faults_load(st, json_object_get(st->initial, "faults"));
}

void sim_state_free(sim_state *st) {
  clear_tokens(st);
  sim_faults_clear(st);
  sim_media_clear(st);
  json_decref(st->initial);
  json_decref(st->org);
  json_decref(st->transcripts);
  sim_requests_clear(st);
  free(st->request_lines);
  json_decref(st->conv_index);
  json_decref(st->agentless_index);
  json_decref(st->token_index);
  if (st->stop_fd >= 0) close(st->stop_fd);
  if (st->request_log) fclose(st->request_log);
  pthread_cond_destroy(&st->wake);
  pthread_mutex_destroy(&st->lock);
}

void sim_requests_clear(sim_state *st) {
  for (size_t i = 0; st->request_lines && i < st->request_count; i++) {
    size_t k = (st->request_head + i) % SIM_MAX_REQUEST_LOG;
    free(st->request_lines[k]);
    st->request_lines[k] = NULL;
  }
  st->request_head = st->request_count = 0;
}

void sim_state_lock(sim_state *st) { pthread_mutex_lock(&st->lock); }
void sim_state_unlock(sim_state *st) { pthread_mutex_unlock(&st->lock); }

void sim_state_wait_ms(sim_state *st, long ms) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += ms / 1000;
  deadline.tv_nsec += (ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  while (!st->stopping)
    if (pthread_cond_timedwait(&st->wake, &st->lock, &deadline) == ETIMEDOUT) break;
}

void sim_state_sleep_ms(sim_state *st, long ms) {
  struct timespec now, end;
  clock_gettime(CLOCK_MONOTONIC, &end);
  int64_t end_ms = (int64_t)end.tv_sec * 1000 + end.tv_nsec / 1000000 + ms;
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t left = end_ms - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    if (left <= 0) return;
    struct pollfd p = {st->stop_fd, POLLIN, 0};
    int n = poll(&p, 1, (int)left);
    if (n > 0) return; /* gcsim stops */
    if (n < 0 && errno != EINTR) return;
  }
}

long sim_latency_ms(const sim_state *st) { return atomic_load(&st->latency_ms); }

void sim_state_stop(sim_state *st) {
  pthread_mutex_lock(&st->lock);
  st->stopping = 1;
  pthread_cond_broadcast(&st->wake);
  pthread_mutex_unlock(&st->lock);
  uint64_t one = 1;
  if (write(st->stop_fd, &one, sizeof one) < 0) { /* already signalled: the counter stays readable */
  }
}

void sim_state_load(sim_state *st, json_t *normalized_scenario) {
  json_t *org = json_deep_copy(normalized_scenario);
  if (org == NULL) {
    json_decref(normalized_scenario);
    return;
  }
  json_decref(st->initial);
  st->initial = normalized_scenario;
  json_decref(st->org);
  st->org = org;
  index_org(st);
  update_latency(st);
  json_object_clear(st->transcripts);
  clear_tokens(st);
  sim_media_clear(st);
  if (json_object_get(st->initial, "faults")) sim_faults_load(st, json_object_get(st->initial, "faults"));
}

void sim_state_reset(sim_state *st) {
  json_t *org = json_deep_copy(st->initial);
  if (org != NULL) {
    json_decref(st->org);
    st->org = org;
    index_org(st);
  }
  update_latency(st);
  json_object_clear(st->transcripts);
  sim_requests_clear(st);
  st->request_seq = 0;
  clear_tokens(st);
  st->fault_counter = 0;
  sim_faults_load(st, json_object_get(st->initial, "faults"));
  sim_media_clear(st);
  st->clock_offset_ms = 0;
  st->clock_frozen = 0;
}

int64_t sim_now_ms(const sim_state *st) {
  return (st->clock_frozen ? st->frozen_ms : sim_real_now_ms()) + st->clock_offset_ms;
}

void sim_now_iso(const sim_state *st, char *buf, size_t len) { sim_format_time(sim_now_ms(st), buf, len); }

void sim_new_uuid(sim_state *st, char *buf, size_t len) { sim_rng_uuid(&st->rng, buf, len); }

static json_t *find_by_id(json_t *arr, const char *id) {
  size_t i;
  json_t *v;
  if (id == NULL) return NULL;
  json_array_foreach(arr, i, v) {
    const char *vid = sim_jstr(v, "id");
    if (vid && strcmp(vid, id) == 0) return v;
  }
  return NULL;
}

json_t *sim_find_client(const sim_state *st, const char *id) { return find_by_id(json_object_get(st->org, "clients"), id); }
json_t *sim_find_user(const sim_state *st, const char *id) { return find_by_id(json_object_get(st->org, "users"), id); }
json_t *sim_find_queue(const sim_state *st, const char *id) { return find_by_id(json_object_get(st->org, "queues"), id); }
json_t *sim_find_library(const sim_state *st, const char *id) { return find_by_id(json_object_get(st->org, "libraries"), id); }
json_t *sim_find_response(const sim_state *st, const char *id) { return find_by_id(json_object_get(st->org, "responses"), id); }
json_t *sim_find_conversation(const sim_state *st, const char *id) {
  return id ? json_object_get(st->conv_index, id) : NULL;
}

json_t *sim_find_agentless_conversations(const sim_state *st, const char *platform, const char *customer,
                                         const char *business) {
  size_t klen;
  char *key = agentless_key(platform, customer, business, &klen);
  json_t *list = key ? json_object_getn(st->agentless_index, key, klen) : NULL;
  free(key);
  return list;
}

json_t *sim_find_participant_by_comm(json_t *conv, const char *comm_id) {
  size_t i;
  json_t *p;
  if (comm_id == NULL) return NULL;
  json_array_foreach(json_object_get(conv, "participants"), i, p) {
    const char *cid = sim_jstr(json_object_get(p, "communication"), "id");
    if (cid && strcmp(cid, comm_id) == 0) return p;
  }
  return NULL;
}

long sim_rate_limit(const sim_state *st) {
  return (long)json_integer_value(json_object_get(json_object_get(st->org, "limits"), "requestsPerMinutePerToken"));
}

json_t *sim_transcript(sim_state *st, const char *conv_id) {
  json_t *t = json_object_get(st->transcripts, conv_id);
  if (t) return t;
  t = json_array();
  if (t == NULL || json_object_set_new(st->transcripts, conv_id, t) != 0) return NULL;
  return t;
}

int sim_transcript_append(sim_state *st, const char *conv_id, json_t *entry) {
  json_t *t = sim_transcript(st, conv_id);
  if (t == NULL) {
    json_decref(entry);
    return -1;
  }
  while (json_array_size(t) >= SIM_MAX_TRANSCRIPT) json_array_remove(t, 0);
  if (st->mark_committed && json_is_object(entry)) {
    json_object_set_new(entry, "committedThenFailed", json_true());
    if (st->mark_fault_id) json_object_set_new(entry, "faultId", json_string(st->mark_fault_id));
  }
  return json_array_append_new(t, entry);
}

/* Makes room: tokens revoked, or expired for an hour (until then they still answer
 * credentials.expired rather than bad.credentials). */
static void purge_expired_tokens(sim_state *st) {
  int64_t now = sim_now_ms(st);
  size_t o = 0;
  for (size_t i = 0; i < st->ntokens; i++) {
    if (st->tokens[i].revoked || st->tokens[i].expires_ms + 3600 * 1000 < now) {
      free_token(&st->tokens[i]);
      continue;
    }
    st->tokens[o++] = st->tokens[i];
  }
  st->ntokens = o;
  json_object_clear(st->token_index); /* positions moved */
  for (size_t i = 0; i < st->ntokens; i++)
    json_object_set_new(st->token_index, st->tokens[i].value, json_integer((json_int_t)i));
}

sim_token *sim_issue_token(sim_state *st, sim_token_kind kind, const char *principal, long lifetime_s) {
  if (st->ntokens >= SIM_MAX_TOKENS) purge_expired_tokens(st);
  if (st->ntokens >= SIM_MAX_TOKENS) return NULL;
  sim_token *grown = realloc(st->tokens, (st->ntokens + 1) * sizeof *grown);
  if (grown == NULL) return NULL;
  st->tokens = grown;
  sim_token *t = &st->tokens[st->ntokens];
  memset(t, 0, sizeof *t);
  t->principal = strdup(principal);
  if (t->principal == NULL) return NULL;
  sim_rng_token(&st->rng, t->value, sizeof t->value);
  t->kind = kind;
  t->grant = kind == SIM_TOKEN_CLIENT ? SIM_GRANT_CLIENT_CREDENTIALS : SIM_GRANT_ADMIN;
  t->issued_ms = sim_now_ms(st);
  t->expires_ms = t->issued_ms + (int64_t)lifetime_s * 1000;
  if (json_object_set_new(st->token_index, t->value, json_integer((json_int_t)st->ntokens)) != 0) {
    free_token(t);
    return NULL;
  }
  st->ntokens++;
  return t;
}

/* Through the index, not a scan of every token handed out (a client that asks for a token per
 * request would otherwise make each request slower); the match is still compared in constant time. */
sim_token *sim_find_token(sim_state *st, const char *value) {
  json_t *pos = value ? json_object_get(st->token_index, value) : NULL;
  if (pos == NULL) return NULL;
  json_int_t i = json_integer_value(pos);
  if (i < 0 || (size_t)i >= st->ntokens) return NULL;
  sim_token *t = &st->tokens[i];
  return !t->revoked && sim_secret_equal(t->value, value) ? t : NULL;
}

sim_auth_code *sim_code_new(sim_state *st, const char *client_id, const char *user_id, const char *redirect_uri,
                            const char *challenge) {
  int64_t now = sim_now_ms(st);
  if (st->ncodes >= SIM_MAX_CODES) { /* drop the used and expired ones */
    size_t o = 0;
    for (size_t i = 0; i < st->ncodes; i++) {
      if (st->codes[i].used || st->codes[i].expires_ms <= now) {
        free_code(&st->codes[i]);
        continue;
      }
      st->codes[o++] = st->codes[i];
    }
    st->ncodes = o;
  }
  if (st->ncodes >= SIM_MAX_CODES) return NULL;
  sim_auth_code *grown = realloc(st->codes, (st->ncodes + 1) * sizeof *grown);
  if (grown == NULL) return NULL;
  st->codes = grown;
  sim_auth_code *a = &st->codes[st->ncodes];
  memset(a, 0, sizeof *a);
  a->client_id = strdup(client_id);
  a->user_id = strdup(user_id);
  a->redirect_uri = strdup(redirect_uri);
  if (a->client_id == NULL || a->user_id == NULL || a->redirect_uri == NULL) {
    free_code(a);
    return NULL;
  }
  snprintf(a->challenge, sizeof a->challenge, "%s", challenge);
  sim_rng_token(&st->rng, a->value, sizeof a->value);
  a->issued_ms = now;
  a->expires_ms = now + (int64_t)SIM_CODE_LIFETIME_S * 1000;
  st->ncodes++;
  return a;
}

sim_auth_code *sim_code_find(sim_state *st, const char *value) {
  for (size_t i = 0; i < st->ncodes; i++)
    if (sim_secret_equal(st->codes[i].value, value)) return &st->codes[i];
  return NULL;
}

sim_refresh *sim_refresh_new(sim_state *st, long long grant_id, const char *client_id, const char *user_id,
                             long lifetime_s) {
  int64_t now = sim_now_ms(st);
  if (st->nrefreshes >= SIM_MAX_TOKENS) { /* drop the expired ones (a reused one is then just unknown) */
    size_t o = 0;
    for (size_t i = 0; i < st->nrefreshes; i++) {
      if (st->refreshes[i].expires_ms <= now) {
        free_refresh(&st->refreshes[i]);
        continue;
      }
      st->refreshes[o++] = st->refreshes[i];
    }
    st->nrefreshes = o;
  }
  if (st->nrefreshes >= SIM_MAX_TOKENS) return NULL;
  sim_refresh *grown = realloc(st->refreshes, (st->nrefreshes + 1) * sizeof *grown);
  if (grown == NULL) return NULL;
  st->refreshes = grown;
  sim_refresh *r = &st->refreshes[st->nrefreshes];
  memset(r, 0, sizeof *r);
  r->client_id = strdup(client_id);
  r->user_id = strdup(user_id);
  if (r->client_id == NULL || r->user_id == NULL) {
    free_refresh(r);
    return NULL;
  }
  sim_rng_token(&st->rng, r->value, sizeof r->value);
  r->grant_id = grant_id;
  r->issued_ms = now;
  r->expires_ms = now + (int64_t)lifetime_s * 1000;
  r->state = SIM_REFRESH_LIVE;
  st->nrefreshes++;
  return r;
}

sim_refresh *sim_refresh_find(sim_state *st, const char *value) {
  for (size_t i = 0; i < st->nrefreshes; i++)
    if (sim_secret_equal(st->refreshes[i].value, value)) return &st->refreshes[i];
  return NULL;
}

void sim_grant_revoke(sim_state *st, long long grant_id) {
  if (grant_id == 0) return;
  for (size_t i = 0; i < st->ntokens; i++)
    if (st->tokens[i].grant_id == grant_id) st->tokens[i].revoked = 1;
  for (size_t i = 0; i < st->nrefreshes; i++)
    if (st->refreshes[i].grant_id == grant_id) st->refreshes[i].state = SIM_REFRESH_REVOKED;
}

int sim_add_conversation(sim_state *st, json_t *conv) {
  json_t *convs = json_object_get(st->org, "conversations");
  if (json_array_size(convs) >= SIM_MAX_CONVERSATIONS) {
    json_decref(conv);
    return -1;
  }
  if (json_array_append_new(convs, conv) != 0) return -1;
  return index_conversation(st, conv);
}
