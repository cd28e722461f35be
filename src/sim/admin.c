#include "admin.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "faults.h"
#include "render.h"
#include "reqlog.h"
#include "routes.h"
#include "scenario.h"

#define MAX_CUSTOMER_TEXT 20000
#define MAX_USER_TOKEN_LIFETIME (48 * 3600)

static int is(sim_ctx *c, const char *method, size_t nsegs, const char *const *segs) {
  if (strcmp(c->method, method) != 0 || c->nsegs != nsegs) return 0;
  for (size_t i = 0; i < nsegs; i++)
    if (segs[i] && strcmp(c->segs[i], segs[i]) != 0) return 0;
  return 1;
}

/* Body for admin calls: an object, or nothing when optional. */
static int admin_body(sim_ctx *c, int required) {
  if (c->body_malformed) return sim_admin_error(c, 400, "$", "the body is not valid JSON");
  if (c->body == NULL) return required ? sim_admin_error(c, 400, "$", "a JSON object body is required") : 0;
  if (!json_is_object(c->body)) return sim_admin_error(c, 400, "$", "the body must be a JSON object");
  return 0;
}

static int only_keys(sim_ctx *c, const char *const *keys) {
  const char *key;
  json_t *v;
  if (c->body == NULL) return 0;
  json_object_foreach(c->body, key, v) {
    int ok = 0;
    for (size_t i = 0; keys[i]; i++) ok |= strcmp(key, keys[i]) == 0;
    if (!ok) {
      char p[300];
      snprintf(p, sizeof p, "$.%s", key);
      return sim_admin_error(c, 400, p, "unknown key '%s'", key);
    }
  }
  return 0;
}

static json_t *conversation_or_404(sim_ctx *c, const char *id) {
  json_t *conv = sim_find_conversation(c->st, id);
  if (conv == NULL) sim_admin_error(c, 404, c->path, "no conversation with id '%s'", id);
  return conv;
}

static int ok(sim_ctx *c, int status, json_t *body) {
  if (body == NULL) return sim_admin_error(c, 500, "$", "out of memory");
  c->status = status;
  c->resp = body;
  return 0;
}

static int health(sim_ctx *c) {
  return ok(c, 200, json_pack("{s:b, s:s, s:I}", "ok", 1, "baseUrl", c->st->base_url, "latencyMs",
                              (json_int_t)sim_latency_ms(c->st)));
}

/* A scenario as logged: the clients' secrets replaced. */
static json_t *loggable_scenario(const json_t *doc) {
  json_t *copy = json_deep_copy(doc);
  size_t i;
  json_t *client;
  json_array_foreach(json_object_get(copy, "clients"), i, client) {
    if (json_is_object(client) && json_object_get(client, "secret"))
      json_object_set_new(client, "secret", json_string("<redacted>"));
  }
  return copy;
}

static int load_scenario(sim_ctx *c) {
  if (c->body) c->log_body = loggable_scenario(c->body);
  if (admin_body(c, 1)) return -1;
  sim_verr err;
  json_t *norm = sim_scenario_normalize(c->body, &c->st->rng, &err);
  if (norm == NULL) return sim_admin_error(c, 400, err.path, "%s", err.message);
  sim_state_load(c->st, norm);
  return ok(c, 200, json_pack("{s:b}", "loaded", 1));
}

static int reset(sim_ctx *c) {
  sim_state_reset(c->st);
  return ok(c, 200, json_pack("{s:b}", "reset", 1));
}

static int create_conversation(sim_ctx *c) {
  if (admin_body(c, 1)) return -1;
  sim_verr err;
  json_t *conv = sim_conversation_normalize(c->body, "$", c->st->org, &c->st->rng, 1, &err);
  if (conv == NULL) return sim_admin_error(c, 400, err.path, "%s", err.message);
  if (sim_add_conversation(c->st, conv) != 0)
    return sim_admin_error(c, 400, "$", "gcsim holds at most %d conversations", SIM_MAX_CONVERSATIONS);
  return ok(c, 201, sim_render_conversation(c->st, conv));
}

static int end_conversation(sim_ctx *c) {
  json_t *conv = conversation_or_404(c, c->segs[3]);
  if (conv == NULL) return -1;
  if (sim_conv_is_connected(conv)) {
    char now[40];
    sim_now_iso(c->st, now, sizeof now);
    json_object_set_new(conv, "state", json_string("disconnected"));
    json_object_set_new(conv, "endTime", json_string(now));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(conv, "participants"), i, p) json_object_set_new(p, "state", json_string("disconnected"));
  }
  return ok(c, 200, sim_render_conversation(c->st, conv));
}

static int customer_message(sim_ctx *c) {
  static const char *const keys[] = {"text", NULL};
  json_t *conv = conversation_or_404(c, c->segs[3]);
  if (conv == NULL || admin_body(c, 1) || only_keys(c, keys)) return -1;
  const char *text = sim_jstr(c->body, "text");
  if (text == NULL || *text == '\0') return sim_admin_error(c, 400, "$.text", "'text' must be a non-empty string");
  if (strlen(text) > MAX_CUSTOMER_TEXT) return sim_admin_error(c, 400, "$.text", "'text' is longer than %d bytes", MAX_CUSTOMER_TEXT);
  if (!sim_conv_is_connected(conv))
    return sim_admin_error(c, 400, c->path, "conversation '%s' is disconnected", sim_jstr(conv, "id"));
  json_t *cust = sim_conv_customer(conv);
  if (cust == NULL) return sim_admin_error(c, 400, c->path, "conversation '%s' has no customer participant", sim_jstr(conv, "id"));
  char id[40];
  sim_new_uuid(c->st, id, sizeof id);
  json_t *entry = sim_entry_new(c, id, "inbound", "customer", 0);
  if (entry == NULL) return sim_admin_error(c, 500, "$", "out of memory");
  sim_entry_sender_participant(c, entry, cust);
  json_object_set_new(entry, "text", json_string(text));
  if (!sim_conv_is_message(conv)) json_object_set_new(entry, "bodyType", json_string("standard"));
  json_t *answer = json_deep_copy(entry);
  sim_transcript_append(c->st, sim_jstr(conv, "id"), entry);
  return ok(c, 201, answer);
}

static int transcript(sim_ctx *c) {
  json_t *conv = conversation_or_404(c, c->segs[3]);
  if (conv == NULL) return -1;
  json_t *t = sim_transcript(c->st, sim_jstr(conv, "id"));
  return ok(c, 200, json_pack("{s:s, s:O}", "conversationId", sim_jstr(conv, "id"), "entries", t ? t : json_array()));
}

static int user_token(sim_ctx *c) {
  static const char *const keys[] = {"expiresIn", NULL};
  const char *uid = c->segs[3];
  if (sim_find_user(c->st, uid) == NULL) return sim_admin_error(c, 404, c->path, "no user with id '%s'", uid);
  if (admin_body(c, 0) || only_keys(c, keys)) return -1;
  long lifetime = 86400;
  json_t *e = json_object_get(c->body, "expiresIn");
  if (e) {
    if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > MAX_USER_TOKEN_LIFETIME)
      return sim_admin_error(c, 400, "$.expiresIn", "expiresIn must be an integer from 1 to %d seconds", MAX_USER_TOKEN_LIFETIME);
    lifetime = (long)json_integer_value(e);
  }
  sim_token *t = sim_issue_token(c->st, SIM_TOKEN_USER, uid, lifetime);
  if (t == NULL) return sim_admin_error(c, 400, "$", "gcsim holds too many tokens");
  return ok(c, 201, json_pack("{s:s, s:s, s:I}", "access_token", t->value, "token_type", "bearer", "expires_in",
                              (json_int_t)lifetime));
}

static int clock_advance(sim_ctx *c) {
  static const char *const keys[] = {"seconds", NULL};
  if (admin_body(c, 1) || only_keys(c, keys)) return -1;
  json_t *s = json_object_get(c->body, "seconds");
  if (!json_is_number(s) || json_number_value(s) < 0 || json_number_value(s) > 10.0 * 365 * 86400 ||
      isnan(json_number_value(s)))
    return sim_admin_error(c, 400, "$.seconds", "seconds must be a number from 0 to 315360000");
  c->st->clock_offset_ms += (int64_t)llround(json_number_value(s) * 1000.0);
  char now[40];
  sim_now_iso(c->st, now, sizeof now);
  return ok(c, 200, json_pack("{s:s}", "now", now));
}

/* The clock stands still (for tests that read time-derived values, such as inin-ratelimit-reset,
 * exactly); clock/advance still moves it. */
static int clock_freeze(sim_ctx *c, int freeze) {
  if (admin_body(c, 0) || only_keys(c, (const char *const[]){NULL})) return -1;
  sim_state *st = c->st;
  if (freeze && !st->clock_frozen) {
    st->frozen_ms = sim_real_now_ms();
    st->clock_frozen = 1;
  } else if (!freeze && st->clock_frozen) {
    st->clock_offset_ms += st->frozen_ms - sim_real_now_ms(); /* go on from where it stood */
    st->clock_frozen = 0;
  }
  char now[40];
  sim_now_iso(st, now, sizeof now);
  return ok(c, 200, json_pack("{s:s, s:b}", "now", now, "frozen", st->clock_frozen));
}

static const char *credential_state(int revoked, int used, int64_t expires_ms, int64_t now) {
  if (revoked) return "revoked";
  if (used) return "used";
  return now >= expires_ms ? "expired" : "live";
}

static json_t *time_json(int64_t ms) {
  char buf[40];
  sim_format_time(ms, buf, sizeof buf);
  return json_string(buf);
}

static json_t *grant_json(long long id) {
  char buf[32];
  if (id == 0) return json_null();
  snprintf(buf, sizeof buf, "g%lld", id);
  return json_string(buf);
}

/* Every credential gcsim handed out since the last load or reset, without its value. */
static int tokens(sim_ctx *c) {
  static const char *const GRANTS[] = {"admin", "client-credentials", "code"};
  sim_state *st = c->st;
  int64_t now = sim_now_ms(st);
  json_t *access = json_array(), *refresh = json_array(), *codes = json_array();
  long live_access = 0, live_refresh = 0, live_codes = 0;
  for (size_t i = 0; access && i < st->ntokens; i++) {
    const sim_token *t = &st->tokens[i];
    const char *state = credential_state(t->revoked, 0, t->expires_ms, now);
    live_access += strcmp(state, "live") == 0;
    json_array_append_new(access, json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:s}", "kind",
                                            t->kind == SIM_TOKEN_USER ? "user" : "client", "principal", t->principal,
                                            "clientId", t->client_id ? json_string(t->client_id) : json_null(), "grant",
                                            GRANTS[t->grant], "grantId", grant_json(t->grant_id), "issued",
                                            time_json(t->issued_ms), "expires", time_json(t->expires_ms), "state", state));
  }
  for (size_t i = 0; refresh && i < st->nrefreshes; i++) {
    const sim_refresh *r = &st->refreshes[i];
    const char *state = r->state == SIM_REFRESH_ROTATED ? "rotated"
                        : credential_state(r->state == SIM_REFRESH_REVOKED, 0, r->expires_ms, now);
    live_refresh += strcmp(state, "live") == 0;
    json_array_append_new(refresh, json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "clientId", r->client_id, "userId",
                                             r->user_id, "grantId", grant_json(r->grant_id), "issued",
                                             time_json(r->issued_ms), "expires", time_json(r->expires_ms), "state", state));
  }
  for (size_t i = 0; codes && i < st->ncodes; i++) {
    const sim_auth_code *a = &st->codes[i];
    const char *state = credential_state(0, a->used, a->expires_ms, now);
    live_codes += strcmp(state, "live") == 0;
    json_array_append_new(codes, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s}", "clientId", a->client_id, "userId",
                                           a->user_id, "redirectUri", a->redirect_uri, "grantId",
                                           grant_json(a->grant_id), "issued", time_json(a->issued_ms), "expires",
                                           time_json(a->expires_ms), "state", state));
  }
  return ok(c, 200, json_pack("{s:{s:i, s:i, s:i}, s:o, s:o, s:o}", "live", "accessTokens", (int)live_access,
                              "refreshTokens", (int)live_refresh, "codes", (int)live_codes, "accessTokens", access,
                              "refreshTokens", refresh, "codes", codes));
}

static int install_fault(sim_ctx *c) {
  const char *id;
  if (admin_body(c, 1) || sim_fault_install(c, c->body, &id)) return -1;
  return ok(c, 201, json_pack("{s:b, s:s, s:o}", "installed", 1, "id", id, "faults", sim_faults_json(c->st)));
}

static int clear_faults(sim_ctx *c) {
  size_t n = sim_faults_clear(c->st);
  return ok(c, 200, json_pack("{s:I}", "cleared", (json_int_t)n));
}

static int requests(sim_ctx *c) {
  c->log_resp_body = 0; /* the log must not nest itself */
  c->raw_resp = sim_reqlog_entries_text(c->st, &c->raw_resp_len); /* the entries are kept as JSON text */
  if (c->raw_resp == NULL) return sim_admin_error(c, 500, "$", "out of memory");
  c->raw_resp_type = "application/json";
  c->status = 200;
  return 0;
}

int sim_admin(sim_ctx *c) {
  static const char *const HEALTH[] = {"sim", "v1", "health"};
  static const char *const SCENARIO[] = {"sim", "v1", "scenario"};
  static const char *const RESET[] = {"sim", "v1", "reset"};
  static const char *const CONVS[] = {"sim", "v1", "conversations"};
  static const char *const CONV_END[] = {"sim", "v1", "conversations", NULL, "end"};
  static const char *const CONV_CUST[] = {"sim", "v1", "conversations", NULL, "customer-messages"};
  static const char *const CONV_TRANSCRIPT[] = {"sim", "v1", "conversations", NULL, "transcript"};
  static const char *const USER_TOKEN[] = {"sim", "v1", "users", NULL, "token"};
  static const char *const CLOCK[] = {"sim", "v1", "clock", "advance"};
  static const char *const CLOCK_FREEZE[] = {"sim", "v1", "clock", "freeze"};
  static const char *const CLOCK_RESUME[] = {"sim", "v1", "clock", "resume"};
  static const char *const TOKENS[] = {"sim", "v1", "tokens"};
  static const char *const FAULTS[] = {"sim", "v1", "faults"};
  static const char *const REQUESTS[] = {"sim", "v1", "requests"};
  if (is(c, "GET", 3, HEALTH)) return health(c);
  if (is(c, "POST", 3, SCENARIO)) return load_scenario(c);
  if (is(c, "POST", 3, RESET)) return reset(c);
  if (is(c, "POST", 3, CONVS)) return create_conversation(c);
  if (is(c, "POST", 5, CONV_END)) return end_conversation(c);
  if (is(c, "POST", 5, CONV_CUST)) return customer_message(c);
  if (is(c, "GET", 5, CONV_TRANSCRIPT)) return transcript(c);
  if (is(c, "POST", 5, USER_TOKEN)) return user_token(c);
  if (is(c, "POST", 4, CLOCK)) return clock_advance(c);
  if (is(c, "POST", 4, CLOCK_FREEZE)) return clock_freeze(c, 1);
  if (is(c, "POST", 4, CLOCK_RESUME)) return clock_freeze(c, 0);
  if (is(c, "GET", 3, TOKENS)) return tokens(c);
  if (is(c, "POST", 3, FAULTS)) return install_fault(c);
  if (is(c, "DELETE", 3, FAULTS)) return clear_faults(c);
  if (is(c, "GET", 3, FAULTS)) return ok(c, 200, json_pack("{s:o}", "faults", sim_faults_json(c->st)));
  if (is(c, "GET", 3, REQUESTS)) return requests(c);
  if (c->nsegs >= 3 && strcmp(c->segs[2], "media") == 0) return sim_admin_media(c);
  return sim_admin_error(c, 404, c->path, "no admin operation %s %s", c->method, c->path);
}
