#include "scenario.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "faults.h"
#include "media.h"
#include "models.h"
#include "oauth.h"
#include "ratelimit.h"

#define MAX_ITEMS 10000
#define MAX_PERMISSIONS 500
#define MAX_ID_LEN 256
#define MAX_TEXT_LEN 4096
#define MAX_CONTENT_LEN (256 * 1024)
#define MAX_RESPONSE_LIBRARIES 100
#define MAX_RESPONSE_TEXTS 100
#define MAX_RESPONSE_SUBSTITUTIONS 500

static int fail(sim_verr *err, const char *path, const char *fmt, ...) {
  va_list ap;
  snprintf(err->path, sizeof err->path, "%s", path);
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return -1;
}

/* A JSON path only ever feeds an error message, so an over-long one is cut and marked. */
static void mark_cut(char *out, size_t len, int n) {
  if (n >= (int)len && len > 4) memcpy(out + len - 4, "...", 4);
}

static void subpath(char *out, size_t len, const char *base, const char *key) {
  mark_cut(out, len, snprintf(out, len, "%s.%s", base, key));
}

static void indexpath(char *out, size_t len, const char *base, size_t i) {
  mark_cut(out, len, snprintf(out, len, "%s[%zu]", base, i));
}

/* Unknown keys are errors: a mistyped key must not silently do nothing. */
static int check_keys(const json_t *obj, const char *path, const char *const *allowed, sim_verr *err) {
  const char *key;
  json_t *v;
  if (!json_is_object(obj)) return fail(err, path, "expected an object");
  json_object_foreach((json_t *)obj, key, v) {
    int ok = 0;
    for (size_t i = 0; allowed[i]; i++)
      if (strcmp(key, allowed[i]) == 0) ok = 1;
    if (!ok) {
      char p[256];
      char list[256] = "";
      for (size_t i = 0; allowed[i]; i++) {
        if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, allowed[i], sizeof list - strlen(list) - 1);
      }
      subpath(p, sizeof p, path, key);
      return fail(err, p, "unknown key '%s' (allowed: %s)", key, list);
    }
  }
  return 0;
}

/* A string member: required or optional; *out is NULL when absent. */
static int get_str(const json_t *obj, const char *key, const char *path, int required, size_t max_len,
                   const char **out, sim_verr *err) {
  char p[256];
  json_t *v = json_object_get(obj, key);
  subpath(p, sizeof p, path, key);
  *out = NULL;
  if (v == NULL) return required ? fail(err, p, "required key '%s' is missing", key) : 0;
  if (!json_is_string(v)) return fail(err, p, "expected a string");
  if (json_string_length(v) == 0) return fail(err, p, "must not be empty");
  if (json_string_length(v) > max_len) return fail(err, p, "longer than %zu bytes", max_len);
  if (sim_utf8_count(json_string_value(v)) < 0 || strlen(json_string_value(v)) != json_string_length(v))
    return fail(err, p, "not valid UTF-8 text");
  *out = json_string_value(v);
  return 0;
}

static int get_enum(const json_t *obj, const char *key, const char *path, const char *const *values,
                    const char *dflt, const char **out, sim_verr *err) {
  if (get_str(obj, key, path, dflt == NULL, MAX_ID_LEN, out, err)) return -1;
  if (*out == NULL) {
    *out = dflt;
    return 0;
  }
  char list[256] = "";
  for (size_t i = 0; values[i]; i++) {
    if (strcmp(*out, values[i]) == 0) return 0;
    if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
    strncat(list, values[i], sizeof list - strlen(list) - 1);
  }
  char p[256];
  subpath(p, sizeof p, path, key);
  return fail(err, p, "'%s' is not one of: %s", *out, list);
}

static int get_time(const json_t *obj, const char *key, const char *path, int64_t *out, int *present,
                    sim_verr *err) {
  const char *s;
  *present = 0;
  if (get_str(obj, key, path, 0, 64, &s, err)) return -1;
  if (s == NULL) return 0;
  if (sim_parse_time(s, out) != 0) {
    char p[256];
    subpath(p, sizeof p, path, key);
    return fail(err, p, "'%s' is not an ISO-8601 date-time such as 2026-11-21T09:00:00Z", s);
  }
  *present = 1;
  return 0;
}

static int get_positive_int(const json_t *obj, const char *key, const char *path, long long lo, long long hi,
                            long long dflt, long long *out, sim_verr *err) {
  char p[256];
  json_t *v = json_object_get(obj, key);
  subpath(p, sizeof p, path, key);
  if (v == NULL) {
    *out = dflt;
    return 0;
  }
  if (!json_is_integer(v)) return fail(err, p, "expected an integer");
  *out = json_integer_value(v);
  if (*out < lo || *out > hi) return fail(err, p, "must be between %lld and %lld", lo, hi);
  return 0;
}

/* An array of strings (validated, copied); permissions get a shape check. */
static json_t *get_str_array(const json_t *obj, const char *key, const char *path, int permissions,
                             sim_verr *err) {
  char p[256], ip[280];
  json_t *v = json_object_get(obj, key);
  subpath(p, sizeof p, path, key);
  json_t *out = json_array();
  if (out == NULL) {
    fail(err, p, "out of memory");
    return NULL;
  }
  if (v == NULL) return out;
  if (!json_is_array(v)) {
    json_decref(out);
    fail(err, p, "expected an array of strings");
    return NULL;
  }
  if (json_array_size(v) > MAX_PERMISSIONS) {
    json_decref(out);
    fail(err, p, "more than %d items", MAX_PERMISSIONS);
    return NULL;
  }
  size_t i;
  json_t *item;
  json_array_foreach(v, i, item) {
    indexpath(ip, sizeof ip, p, i);
    const char *s = json_string_value(item);
    if (s == NULL || *s == '\0' || strlen(s) > MAX_ID_LEN) {
      json_decref(out);
      fail(err, ip, "expected a non-empty string");
      return NULL;
    }
    if (permissions) {
      int colons = 0;
      for (const char *c = s; *c; c++) colons += (*c == ':');
      if (colons != 2 || s[0] == ':' || s[strlen(s) - 1] == ':' || strstr(s, "::")) {
        json_decref(out);
        fail(err, ip, "'%s' is not a permission of the form domain:entity:action", s);
        return NULL;
      }
    }
    json_array_append(out, item);
  }
  return out;
}

static int id_taken(const json_t *arr, const char *id) {
  size_t i;
  json_t *v;
  json_array_foreach((json_t *)arr, i, v) {
    const char *vid = sim_jstr(v, "id");
    if (vid && strcmp(vid, id) == 0) return 1;
  }
  return 0;
}

/* What a new conversation is checked against, each a JSON object used as a set of ids (so that
 * a scenario of 100,000 conversations loads in linear time): the org's conversation ids and
 * communication ids (unique across the org), and the user and queue ids participants may name. */
typedef struct conv_sets {
  json_t *convs, *comms, *users, *queues;
} conv_sets;

static int set_add(json_t *set, const char *id) { return id ? json_object_set_new(set, id, json_true()) : 0; }

/* The ids of the objects of an array, added to a set. 0, or -1 when out of memory. */
static int set_add_ids(json_t *set, const json_t *arr) {
  size_t i;
  json_t *v;
  json_array_foreach((json_t *)arr, i, v) {
    if (set_add(set, sim_jstr(v, "id"))) return -1;
  }
  return 0;
}

/* Records a (normalized) conversation's id and communication ids. */
static int sets_add_conversation(conv_sets *s, const json_t *conv) {
  size_t i;
  json_t *p;
  if (set_add(s->convs, sim_jstr(conv, "id"))) return -1;
  json_array_foreach(json_object_get(conv, "participants"), i, p) {
    if (set_add(s->comms, sim_jstr(json_object_get(p, "communication"), "id"))) return -1;
  }
  return 0;
}

static void sets_free(conv_sets *s) {
  json_decref(s->convs);
  json_decref(s->comms);
  json_decref(s->users);
  json_decref(s->queues);
  memset(s, 0, sizeof *s);
}

/* The sets of an org: its users and queues, and its conversations when with_convs. */
static int sets_init(conv_sets *s, const json_t *org, int with_convs) {
  s->convs = json_object();
  s->comms = json_object();
  s->users = json_object();
  s->queues = json_object();
  if (s->convs == NULL || s->comms == NULL || s->users == NULL || s->queues == NULL ||
      set_add_ids(s->users, json_object_get(org, "users")) || set_add_ids(s->queues, json_object_get(org, "queues")))
    goto oom;
  if (with_convs) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(org, "conversations"), i, c) {
      if (sets_add_conversation(s, c)) goto oom;
    }
  }
  return 0;
oom:
  sets_free(s);
  return -1;
}

static const char *const CONV_KEYS[] = {"id",       "description", "media",     "platform",     "provider",
                                        "state",    "direction",   "startTime", "endTime",      "name",
                                        "participants", NULL};
static const char *const PART_KEYS[] = {"id",      "purpose", "name",       "address",       "state",
                                        "userId",  "queueId", "attributes", "communication", NULL};
static const char *const COMM_KEYS[] = {"id", "fromAddress", "toAddress", NULL};
static const char *const MEDIA[] = {"message", "chat", NULL};
static const char *const PLATFORMS[] = {"webmessaging", "sms",  "whatsapp", "open",     "facebook", "apple",
                                        "instagram",    "line", "telegram", "twitter", "kakao",    NULL};
static const char *const CONV_STATES[] = {"connected", "disconnected", NULL};
static const char *const PART_STATES[] = {"connected", "disconnected", "alerting", NULL};
static const char *const DIRECTIONS[] = {"inbound", "outbound", NULL};
static const char *const PURPOSES[] = {"customer", "external", "agent", "acd", "workflow", "user", "ivr", "api",
                                       "station",  "dialer.system", "campaign", "voicemail", NULL};

static json_t *normalize_participant(const json_t *in, const char *path, const char *conv_state,
                                     const conv_sets *sets, json_t *seen_comms, json_t *seen_parts, sim_rng *rng,
                                     sim_verr *err) {
  const char *id, *purpose, *name, *address, *state, *user_id, *queue_id, *comm_id, *from, *to;
  char p[256], cp[256], gen[40], gen2[40];
  if (check_keys(in, path, PART_KEYS, err)) return NULL;
  if (get_str(in, "id", path, 0, MAX_ID_LEN, &id, err) || get_enum(in, "purpose", path, PURPOSES, NULL, &purpose, err) ||
      get_str(in, "name", path, 0, MAX_TEXT_LEN, &name, err) ||
      get_str(in, "address", path, 0, MAX_ID_LEN, &address, err) ||
      get_enum(in, "state", path, PART_STATES, conv_state, &state, err) ||
      get_str(in, "userId", path, 0, MAX_ID_LEN, &user_id, err) ||
      get_str(in, "queueId", path, 0, MAX_ID_LEN, &queue_id, err))
    return NULL;
  if (strcmp(conv_state, "disconnected") == 0 && strcmp(state, "disconnected") != 0) {
    subpath(p, sizeof p, path, "state");
    fail(err, p, "a participant of a disconnected conversation must be disconnected");
    return NULL;
  }
  if (id == NULL) {
    sim_rng_uuid(rng, gen, sizeof gen);
    id = gen;
  }
  if (json_object_get(seen_parts, id)) {
    subpath(p, sizeof p, path, "id");
    fail(err, p, "participant id '%s' is used twice in this conversation", id);
    return NULL;
  }
  if (user_id && !json_object_get(sets->users, user_id)) {
    subpath(p, sizeof p, path, "userId");
    fail(err, p, "no user with id '%s' in users", user_id);
    return NULL;
  }
  if (queue_id && !json_object_get(sets->queues, queue_id)) {
    subpath(p, sizeof p, path, "queueId");
    fail(err, p, "no queue with id '%s' in queues", queue_id);
    return NULL;
  }
  if (strcmp(purpose, "agent") == 0 && user_id == NULL) {
    subpath(p, sizeof p, path, "userId");
    fail(err, p, "an agent participant needs a userId");
    return NULL;
  }
  json_t *attrs = json_object_get(in, "attributes");
  subpath(p, sizeof p, path, "attributes");
  if (attrs != NULL) {
    const char *k;
    json_t *v;
    if (!json_is_object(attrs)) {
      fail(err, p, "expected an object of strings");
      return NULL;
    }
    if (json_object_size(attrs) > 200) {
      fail(err, p, "more than 200 attributes");
      return NULL;
    }
    json_object_foreach(attrs, k, v) {
      if (!json_is_string(v)) {
        char ap[300];
        snprintf(ap, sizeof ap, "%s.%s", p, k);
        fail(err, ap, "attribute values must be strings");
        return NULL;
      }
    }
  }
  json_t *comm = json_object_get(in, "communication");
  subpath(cp, sizeof cp, path, "communication");
  if (comm == NULL) {
    fail(err, cp, "required key 'communication' is missing");
    return NULL;
  }
  if (check_keys(comm, cp, COMM_KEYS, err) || get_str(comm, "id", cp, 0, MAX_ID_LEN, &comm_id, err) ||
      get_str(comm, "fromAddress", cp, 0, MAX_ID_LEN, &from, err) ||
      get_str(comm, "toAddress", cp, 0, MAX_ID_LEN, &to, err))
    return NULL;
  if (comm_id == NULL) {
    sim_rng_uuid(rng, gen2, sizeof gen2);
    comm_id = gen2;
  }
  if (json_object_get(seen_comms, comm_id) || json_object_get(sets->comms, comm_id)) {
    subpath(p, sizeof p, cp, "id");
    fail(err, p, "communication id '%s' is used twice", comm_id);
    return NULL;
  }
  json_t *out = json_pack("{s:s, s:s, s:s}", "id", id, "purpose", purpose, "state", state);
  json_t *ocomm = json_pack("{s:s}", "id", comm_id);
  if (out == NULL || ocomm == NULL) {
    json_decref(out);
    json_decref(ocomm);
    fail(err, path, "out of memory");
    return NULL;
  }
  if (from) json_object_set_new(ocomm, "fromAddress", json_string(from));
  if (to) json_object_set_new(ocomm, "toAddress", json_string(to));
  json_object_set_new(out, "communication", ocomm);
  if (name) json_object_set_new(out, "name", json_string(name));
  if (address) json_object_set_new(out, "address", json_string(address));
  if (user_id) json_object_set_new(out, "userId", json_string(user_id));
  if (queue_id) json_object_set_new(out, "queueId", json_string(queue_id));
  if (attrs) json_object_set_new(out, "attributes", json_deep_copy(attrs));
  json_object_set_new(seen_comms, comm_id, json_true());
  json_object_set_new(seen_parts, id, json_true());
  return out;
}

static json_t *normalize_conversation(const json_t *in, const char *path, const conv_sets *sets, sim_rng *rng,
                                      int id_optional, sim_verr *err) {
  const char *id, *desc, *media, *platform, *provider, *state, *direction, *name;
  int64_t start_ms = 0, end_ms = 0;
  int has_start, has_end;
  char p[256], gen[40], tbuf[40];
  if (check_keys(in, path, CONV_KEYS, err)) return NULL;
  if (get_str(in, "id", path, !id_optional, MAX_ID_LEN, &id, err) ||
      get_str(in, "description", path, 0, MAX_TEXT_LEN, &desc, err) ||
      get_enum(in, "media", path, MEDIA, NULL, &media, err) ||
      get_str(in, "platform", path, 0, MAX_ID_LEN, &platform, err) ||
      get_str(in, "provider", path, 0, MAX_ID_LEN, &provider, err) ||
      get_enum(in, "state", path, CONV_STATES, "connected", &state, err) ||
      get_enum(in, "direction", path, DIRECTIONS, "inbound", &direction, err) ||
      get_str(in, "name", path, 0, MAX_TEXT_LEN, &name, err) ||
      get_time(in, "startTime", path, &start_ms, &has_start, err) ||
      get_time(in, "endTime", path, &end_ms, &has_end, err))
    return NULL;
  if (id == NULL) {
    sim_rng_uuid(rng, gen, sizeof gen);
    id = gen;
  }
  if (json_object_get(sets->convs, id)) {
    subpath(p, sizeof p, path, "id");
    fail(err, p, "conversation id '%s' is used twice", id);
    return NULL;
  }
  if (strcmp(media, "message") == 0) {
    if (platform == NULL) {
      subpath(p, sizeof p, path, "platform");
      fail(err, p, "required key 'platform' is missing (messaging conversations need one)");
      return NULL;
    }
    if (get_enum(in, "platform", path, PLATFORMS, NULL, &platform, err)) return NULL;
    if (provider) {
      subpath(p, sizeof p, path, "provider");
      fail(err, p, "'provider' is only for chat conversations (third-party chats)");
      return NULL;
    }
  } else if (platform) {
    subpath(p, sizeof p, path, "platform");
    fail(err, p, "'platform' is only for messaging conversations");
    return NULL;
  }
  if (!has_start) start_ms = sim_real_now_ms();
  if (has_end && strcmp(state, "connected") == 0) {
    subpath(p, sizeof p, path, "endTime");
    fail(err, p, "a connected conversation has no endTime");
    return NULL;
  }
  if (!has_end) end_ms = start_ms;
  if (end_ms < start_ms) {
    subpath(p, sizeof p, path, "endTime");
    fail(err, p, "endTime is before startTime");
    return NULL;
  }
  json_t *parts_in = json_object_get(in, "participants");
  subpath(p, sizeof p, path, "participants");
  if (!json_is_array(parts_in) || json_array_size(parts_in) == 0) {
    fail(err, p, parts_in ? "expected a non-empty array" : "required key 'participants' is missing");
    return NULL;
  }
  if (json_array_size(parts_in) > 100) {
    fail(err, p, "more than 100 participants");
    return NULL;
  }
  json_t *out = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "media", media, "state", state, "direction", direction);
  json_t *parts = json_array(), *seen_comms = json_object(), *seen_parts = json_object();
  if (out == NULL || parts == NULL || seen_comms == NULL || seen_parts == NULL) {
    fail(err, path, "out of memory");
    goto error;
  }
  size_t i;
  json_t *pin;
  json_array_foreach(parts_in, i, pin) {
    char pp[280];
    indexpath(pp, sizeof pp, p, i);
    json_t *norm = normalize_participant(pin, pp, state, sets, seen_comms, seen_parts, rng, err);
    if (norm == NULL) goto error;
    json_array_append_new(parts, norm);
  }
  json_decref(seen_comms);
  json_decref(seen_parts);
  seen_comms = seen_parts = NULL;
  json_object_set_new(out, "participants", parts);
  parts = NULL;
  if (platform) json_object_set_new(out, "platform", json_string(platform));
  if (provider) json_object_set_new(out, "provider", json_string(provider));
  if (desc) json_object_set_new(out, "description", json_string(desc));
  if (name) json_object_set_new(out, "name", json_string(name));
  sim_format_time(start_ms, tbuf, sizeof tbuf);
  json_object_set_new(out, "startTime", json_string(tbuf));
  if (strcmp(state, "disconnected") == 0) {
    sim_format_time(end_ms, tbuf, sizeof tbuf);
    json_object_set_new(out, "endTime", json_string(tbuf));
  }
  return out;
error:
  json_decref(out);
  json_decref(parts);
  json_decref(seen_comms);
  json_decref(seen_parts);
  return NULL;
}

json_t *sim_conversation_normalize(const json_t *in, const char *path, const json_t *org, sim_rng *rng,
                                   int id_optional, sim_verr *err) {
  conv_sets sets;
  if (sets_init(&sets, org, 1)) {
    fail(err, path, "out of memory");
    return NULL;
  }
  json_t *out = normalize_conversation(in, path, &sets, rng, id_optional, err);
  sets_free(&sets);
  return out;
}

static const char *const TOP_KEYS[] = {"description", "org",       "limits",    "clients", "users",
                                       "queues",      "libraries", "responses", "conversations", "faults", NULL};
static const char *const ORG_KEYS[] = {"id", "name", NULL};
static const char *const LIMIT_KEYS[] = {"requestsPerMinutePerToken", "rateLimitWindowSeconds", "mediaMaxBytes",
                                         "mediaTypes", "mediaProcessingPolls", "latencyMs", NULL};
static const char *const CLIENT_KEYS[] = {"id", "secret", "name", "grants", "tokenLifetimeSeconds", "permissions",
                                          "description", "public", "redirectUris", "consentUser",
                                          "refreshTokenLifetimeSeconds", NULL};
static const char *const USER_KEYS[] = {"id", "name", "email", "preferredName", "permissions", NULL};
static const char *const QUEUE_KEYS[] = {"id", "name", NULL};
static const char *const GRANTS[] = {"client-credentials", "code", "token", "saml2-bearer", "password", NULL};

static const json_t *array_member(const json_t *doc, const char *key, size_t max, sim_verr *err) {
  json_t *v = json_object_get(doc, key);
  if (v != NULL && !json_is_array(v)) {
    char p[64];
    snprintf(p, sizeof p, "$.%s", key);
    fail(err, p, "expected an array");
    return NULL;
  }
  if (v != NULL && json_array_size(v) > max) {
    char p[64];
    snprintf(p, sizeof p, "$.%s", key);
    fail(err, p, "more than %zu items", max);
    return NULL;
  }
  return v;
}

static int has_grant(const json_t *grants, const char *grant) {
  size_t i;
  json_t *g;
  json_array_foreach((json_t *)grants, i, g) {
    if (strcmp(json_string_value(g), grant) == 0) return 1;
  }
  return 0;
}

/* The code grant's keys of a client (redirectUris, consentUser, refreshTokenLifetimeSeconds) into
 * o; consentUser is checked against the users once they are read (check_consent_users). */
static int normalize_code_grant(const json_t *c, const char *path, json_t *grants, json_t *o, sim_verr *err) {
  char p[96], ip[112];
  int code = has_grant(grants, "code");
  static const char *const only_code[] = {"redirectUris", "consentUser", "refreshTokenLifetimeSeconds", NULL};
  for (size_t k = 0; only_code[k]; k++) {
    if (!code && json_object_get(c, only_code[k])) {
      subpath(p, sizeof p, path, only_code[k]);
      return fail(err, p, "'%s' is only for a client with the \"code\" grant", only_code[k]);
    }
  }
  if (!code) return 0;
  const char *user;
  long long refresh = SIM_REFRESH_DEFAULT_LIFETIME;
  if (get_str(c, "consentUser", path, 1, MAX_ID_LEN, &user, err) ||
      get_positive_int(c, "refreshTokenLifetimeSeconds", path, 1, SIM_REFRESH_MAX_LIFETIME,
                       SIM_REFRESH_DEFAULT_LIFETIME, &refresh, err))
    return -1;
  json_t *uris = json_object_get(c, "redirectUris");
  subpath(p, sizeof p, path, "redirectUris");
  if (uris == NULL) return fail(err, p, "required key 'redirectUris' is missing (a client with the \"code\" grant needs "
                                        "its registered redirect URIs)");
  if (!json_is_array(uris) || json_array_size(uris) == 0)
    return fail(err, p, "expected a non-empty array of redirect URIs");
  if (json_array_size(uris) > SIM_MAX_REDIRECT_URIS) return fail(err, p, "more than %d items", SIM_MAX_REDIRECT_URIS);
  size_t i;
  json_t *u;
  json_array_foreach(uris, i, u) {
    indexpath(ip, sizeof ip, p, i);
    const char *why = NULL;
    if (!json_is_string(u)) return fail(err, ip, "expected a string");
    if (sim_redirect_uri_check(json_string_value(u), 1, &why) != 0)
      return fail(err, ip, "'%.200s' is not a usable redirect URI: %s", json_string_value(u), why);
  }
  json_object_set_new(o, "redirectUris", json_deep_copy(uris));
  json_object_set_new(o, "consentUser", json_string(user));
  json_object_set_new(o, "refreshTokenLifetimeSeconds", json_integer(refresh));
  return 0;
}

static int normalize_clients(const json_t *in, json_t *out, sim_verr *err) {
  size_t i;
  json_t *c;
  json_array_foreach((json_t *)in, i, c) {
    char path[64];
    const char *id, *secret, *name, *desc;
    long long lifetime = 86400;
    snprintf(path, sizeof path, "$.clients[%zu]", i);
    json_t *pub = json_object_get(c, "public");
    char pp[96];
    subpath(pp, sizeof pp, path, "public");
    if (check_keys(c, path, CLIENT_KEYS, err) || get_str(c, "id", path, 1, MAX_ID_LEN, &id, err))
      return -1;
    if (pub != NULL && !json_is_boolean(pub)) return fail(err, pp, "expected true or false");
    int is_public = json_is_true(pub);
    if (get_str(c, "secret", path, !is_public, MAX_ID_LEN, &secret, err) ||
        get_str(c, "name", path, 0, MAX_TEXT_LEN, &name, err) ||
        get_str(c, "description", path, 0, MAX_TEXT_LEN, &desc, err) ||
        get_positive_int(c, "tokenLifetimeSeconds", path, 1, 172800, 86400, &lifetime, err))
      return -1;
    if (is_public && secret) {
      char p[80];
      subpath(p, sizeof p, path, "secret");
      return fail(err, p, "a public client has no secret (it proves itself with PKCE); remove 'secret' or 'public'");
    }
    if (id_taken(out, id)) {
      char p[80];
      subpath(p, sizeof p, path, "id");
      return fail(err, p, "client id '%s' is used twice", id);
    }
    json_t *grants = get_str_array(c, "grants", path, 0, err);
    if (grants == NULL) return -1;
    if (json_array_size(grants) == 0) json_array_append_new(grants, json_string(is_public ? "code" : "client-credentials"));
    size_t g;
    json_t *gv;
    json_array_foreach(grants, g, gv) {
      char p[96];
      snprintf(p, sizeof p, "%s.grants[%zu]", path, g);
      int ok = 0;
      for (size_t k = 0; GRANTS[k]; k++) ok |= strcmp(json_string_value(gv), GRANTS[k]) == 0;
      if (!ok) {
        json_decref(grants);
        return fail(err, p, "'%s' is not a grant (client-credentials, code, token, saml2-bearer, password)",
                    json_string_value(gv));
      }
      if (is_public && strcmp(json_string_value(gv), "code") != 0 && strcmp(json_string_value(gv), "token") != 0) {
        fail(err, p, "a public client can only have the grants code and token ('%s' needs a client secret)",
             json_string_value(gv));
        json_decref(grants);
        return -1;
      }
      for (size_t k = 0; k < g; k++) {
        if (strcmp(json_string_value(json_array_get(grants, k)), json_string_value(gv)) == 0) {
          fail(err, p, "grant '%s' is listed twice", json_string_value(gv));
          json_decref(grants);
          return -1;
        }
      }
    }
    json_t *perms = get_str_array(c, "permissions", path, 1, err);
    if (perms == NULL) {
      json_decref(grants);
      return -1;
    }
    json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:o, s:b}", "id", id, "name", name ? name : id, "grants", grants,
                          "tokenLifetimeSeconds", (json_int_t)lifetime, "permissions", perms, "public", is_public);
    if (o == NULL) return fail(err, path, "out of memory");
    if (secret) json_object_set_new(o, "secret", json_string(secret));
    if (normalize_code_grant(c, path, grants, o, err)) {
      json_decref(o);
      return -1;
    }
    if (json_array_append_new(out, o)) return fail(err, path, "out of memory");
  }
  return 0;
}

/* consentUser names a user of the scenario (users are read after clients). */
static int check_consent_users(const json_t *clients, const json_t *users, sim_verr *err) {
  size_t i;
  json_t *c;
  json_array_foreach((json_t *)clients, i, c) {
    const char *user = sim_jstr(c, "consentUser");
    if (user && !id_taken(users, user)) {
      char p[96];
      snprintf(p, sizeof p, "$.clients[%zu].consentUser", i);
      return fail(err, p, "no user with id '%s' in users (consentUser is the user gcsim logs in and consents as)",
                  user);
    }
  }
  return 0;
}

static int normalize_users(const json_t *in, json_t *out, sim_verr *err) {
  size_t i;
  json_t *u;
  json_array_foreach((json_t *)in, i, u) {
    char path[64];
    const char *id, *name, *email, *preferred;
    snprintf(path, sizeof path, "$.users[%zu]", i);
    if (check_keys(u, path, USER_KEYS, err) || get_str(u, "id", path, 1, MAX_ID_LEN, &id, err) ||
        get_str(u, "name", path, 1, MAX_TEXT_LEN, &name, err) || get_str(u, "email", path, 0, MAX_ID_LEN, &email, err) ||
        get_str(u, "preferredName", path, 0, MAX_TEXT_LEN, &preferred, err))
      return -1;
    if (id_taken(out, id)) {
      char p[80];
      subpath(p, sizeof p, path, "id");
      return fail(err, p, "user id '%s' is used twice", id);
    }
    json_t *perms = get_str_array(u, "permissions", path, 1, err);
    if (perms == NULL) return -1;
    json_t *o = json_pack("{s:s, s:s, s:o}", "id", id, "name", name, "permissions", perms);
    if (o == NULL) return fail(err, path, "out of memory");
    if (email) json_object_set_new(o, "email", json_string(email));
    if (preferred) json_object_set_new(o, "preferredName", json_string(preferred));
    if (json_array_append_new(out, o)) return fail(err, path, "out of memory");
  }
  return 0;
}

static int normalize_queues(const json_t *in, json_t *out, sim_verr *err) {
  size_t i;
  json_t *q;
  json_array_foreach((json_t *)in, i, q) {
    char path[64];
    const char *id, *name;
    snprintf(path, sizeof path, "$.queues[%zu]", i);
    if (check_keys(q, path, QUEUE_KEYS, err) || get_str(q, "id", path, 1, MAX_ID_LEN, &id, err) ||
        get_str(q, "name", path, 0, MAX_TEXT_LEN, &name, err))
      return -1;
    if (id_taken(out, id)) {
      char p[80];
      subpath(p, sizeof p, path, "id");
      return fail(err, p, "queue id '%s' is used twice", id);
    }
    json_t *o = json_pack("{s:s, s:s}", "id", id, "name", name ? name : id);
    if (o == NULL || json_array_append_new(out, o)) return fail(err, path, "out of memory");
  }
  return 0;
}

static const char *const LIBRARY_KEYS[] = {"id", "name", "version", "dateCreated", NULL};
static const char *const RESPONSE_KEYS[] = {"id",           "name",          "version",         "libraries",
                                            "texts",        "substitutions", "interactionType", "responseType",
                                            "messagingTemplate", "dateCreated", NULL};
static const char *const TEXT_KEYS[] = {"content", "contentType", "type", NULL};
static const char *const SUBSTITUTION_KEYS[] = {"id", "description", "defaultValue", NULL};
static const char *const CONTENT_TYPES[] = {"text/plain", "text/html", NULL};
static const char *const TEXT_TYPES[] = {"body", "subject", NULL};
static const char *const INTERACTION_TYPES[] = {"chat", "email", "twitter", NULL};
static const char *const RESPONSE_TYPES[] = {"MessagingTemplate", "CampaignSmsTemplate", "CampaignEmailTemplate",
                                             "Footer", "Form", "AppleInvitation", NULL};

/* Response.texts is required for these response types (and for a plain response). */
int sim_response_type_needs_texts(const char *response_type) {
  return response_type == NULL || strcmp(response_type, "Footer") == 0 ||
         strcmp(response_type, "MessagingTemplate") == 0 || strcmp(response_type, "CampaignEmailTemplate") == 0;
}

/* id (generated when absent, unique among out), dateCreated (default: now) and version. */
static int entity_basics(const json_t *in, const char *path, const json_t *out, const char *what, sim_rng *rng,
                         json_t *o, sim_verr *err) {
  const char *id;
  char gen[40], p[256], tbuf[40];
  int64_t created;
  int has_created;
  long long version;
  if (get_str(in, "id", path, 0, MAX_ID_LEN, &id, err) ||
      get_positive_int(in, "version", path, 1, 2147483647, 1, &version, err) ||
      get_time(in, "dateCreated", path, &created, &has_created, err))
    return -1;
  if (id == NULL) {
    sim_rng_uuid(rng, gen, sizeof gen);
    id = gen;
  }
  if (id_taken(out, id)) {
    subpath(p, sizeof p, path, "id");
    return fail(err, p, "%s id '%s' is used twice", what, id);
  }
  sim_format_time(has_created ? created : sim_real_now_ms(), tbuf, sizeof tbuf);
  json_object_set_new(o, "id", json_string(id));
  json_object_set_new(o, "version", json_integer(version));
  json_object_set_new(o, "dateCreated", json_string(tbuf));
  return 0;
}

static int normalize_libraries(const json_t *in, json_t *out, sim_rng *rng, sim_verr *err) {
  size_t i;
  json_t *l;
  json_array_foreach((json_t *)in, i, l) {
    char path[64];
    const char *name;
    snprintf(path, sizeof path, "$.libraries[%zu]", i);
    if (check_keys(l, path, LIBRARY_KEYS, err) || get_str(l, "name", path, 1, MAX_TEXT_LEN, &name, err)) return -1;
    json_t *o = json_pack("{s:s}", "name", name);
    if (o == NULL) return fail(err, path, "out of memory");
    if (entity_basics(l, path, out, "library", rng, o, err)) {
      json_decref(o);
      return -1;
    }
    if (json_array_append_new(out, o)) return fail(err, path, "out of memory");
  }
  return 0;
}

/* A non-empty array member with at most max items (NULL with err set otherwise, or when absent
 * and required; *absent set when absent and optional). */
static const json_t *array_of(const json_t *obj, const char *key, const char *path, int required, size_t max,
                              int *absent, sim_verr *err) {
  char p[256];
  json_t *v = json_object_get(obj, key);
  subpath(p, sizeof p, path, key);
  *absent = 0;
  if (v == NULL) {
    if (required) fail(err, p, "required key '%s' is missing", key);
    else *absent = 1;
    return NULL;
  }
  if (!json_is_array(v) || json_array_size(v) == 0) {
    fail(err, p, "expected a non-empty array");
    return NULL;
  }
  if (json_array_size(v) > max) {
    fail(err, p, "more than %zu items", max);
    return NULL;
  }
  return v;
}

static json_t *normalize_texts(const json_t *texts, const char *path, sim_verr *err) {
  json_t *out = json_array();
  size_t i;
  json_t *t;
  if (out == NULL) {
    fail(err, path, "out of memory");
    return NULL;
  }
  json_array_foreach((json_t *)texts, i, t) {
    char tp[256];
    const char *content, *ctype, *type;
    indexpath(tp, sizeof tp, path, i);
    if (check_keys(t, tp, TEXT_KEYS, err) || get_str(t, "content", tp, 1, MAX_CONTENT_LEN, &content, err) ||
        get_enum(t, "contentType", tp, CONTENT_TYPES, "text/plain", &ctype, err) ||
        get_enum(t, "type", tp, TEXT_TYPES, "body", &type, err) ||
        json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "content", content, "contentType", ctype, "type", type))) {
      if (err->message[0] == '\0') fail(err, tp, "out of memory");
      json_decref(out);
      return NULL;
    }
  }
  return out;
}

static json_t *normalize_substitutions(const json_t *substs, const char *path, sim_verr *err) {
  json_t *out = json_array();
  size_t i;
  json_t *s;
  if (out == NULL) {
    fail(err, path, "out of memory");
    return NULL;
  }
  json_array_foreach((json_t *)substs, i, s) {
    char sp[256], p[280];
    const char *id, *desc, *dflt;
    indexpath(sp, sizeof sp, path, i);
    if (check_keys(s, sp, SUBSTITUTION_KEYS, err) || get_str(s, "id", sp, 1, MAX_ID_LEN, &id, err) ||
        get_str(s, "description", sp, 0, MAX_TEXT_LEN, &desc, err))
      goto error;
    /* a default value may be empty: it stands for "replace with nothing" */
    json_t *dv = json_object_get(s, "defaultValue");
    dflt = json_string_value(dv);
    if (dv != NULL && (dflt == NULL || strlen(dflt) != json_string_length(dv) || sim_utf8_count(dflt) < 0 ||
                       json_string_length(dv) > MAX_TEXT_LEN)) {
      subpath(p, sizeof p, sp, "defaultValue");
      fail(err, p, "expected a string of valid UTF-8 text, at most %d bytes", MAX_TEXT_LEN);
      goto error;
    }
    if (id_taken(out, id)) {
      subpath(p, sizeof p, sp, "id");
      fail(err, p, "substitution id '%s' is used twice in this response", id);
      goto error;
    }
    json_t *o = json_pack("{s:s}", "id", id);
    if (o == NULL) goto oom;
    if (desc) json_object_set_new(o, "description", json_string(desc));
    if (dflt) json_object_set_new(o, "defaultValue", json_string(dflt));
    if (json_array_append_new(out, o)) goto oom;
  }
  return out;
oom:
  fail(err, path, "out of memory");
error:
  json_decref(out);
  return NULL;
}

static int normalize_responses(const json_t *in, const json_t *libraries, json_t *out, sim_rng *rng, sim_verr *err) {
  size_t i;
  json_t *r;
  json_array_foreach((json_t *)in, i, r) {
    char path[64], p[256];
    const char *name, *itype, *rtype;
    int absent;
    snprintf(path, sizeof path, "$.responses[%zu]", i);
    if (check_keys(r, path, RESPONSE_KEYS, err) || get_str(r, "name", path, 1, MAX_TEXT_LEN, &name, err) ||
        get_enum(r, "interactionType", path, INTERACTION_TYPES, "", &itype, err) ||
        get_enum(r, "responseType", path, RESPONSE_TYPES, "", &rtype, err))
      return -1;
    if (*itype == '\0') itype = NULL;
    if (*rtype == '\0') rtype = NULL;
    json_t *o = json_pack("{s:s, s:[], s:[], s:[]}", "name", name, "libraries", "texts", "substitutions");
    if (o == NULL) return fail(err, path, "out of memory");
    if (entity_basics(r, path, out, "response", rng, o, err)) goto error;

    subpath(p, sizeof p, path, "libraries");
    const json_t *libs = array_of(r, "libraries", path, 1, MAX_RESPONSE_LIBRARIES, &absent, err);
    if (libs == NULL) goto error;
    size_t j;
    json_t *lib;
    json_array_foreach((json_t *)libs, j, lib) {
      char lp[280];
      indexpath(lp, sizeof lp, p, j);
      const char *lid = json_string_value(lib);
      if (lid == NULL) {
        fail(err, lp, "expected a library id (a string)");
        goto error;
      }
      if (!id_taken(libraries, lid)) {
        fail(err, lp, "no library with id '%s' in libraries", lid);
        goto error;
      }
      if (id_taken(json_object_get(o, "libraries"), lid)) {
        fail(err, lp, "library '%s' is listed twice", lid);
        goto error;
      }
      json_array_append_new(json_object_get(o, "libraries"), json_pack("{s:s}", "id", lid));
    }
    /* stored as plain ids */
    json_t *ids = json_array();
    json_array_foreach(json_object_get(o, "libraries"), j, lib) json_array_append_new(ids, json_string(sim_jstr(lib, "id")));
    json_object_set_new(o, "libraries", ids);

    subpath(p, sizeof p, path, "texts");
    const json_t *texts = array_of(r, "texts", path, sim_response_type_needs_texts(rtype), MAX_RESPONSE_TEXTS, &absent,
                                   err);
    if (texts == NULL && !absent) {
      if (!json_object_get(r, "texts"))
        fail(err, p, "required key 'texts' is missing (%s responses need texts)", rtype ? rtype : "plain");
      goto error;
    }
    if (texts) {
      json_t *nt = normalize_texts(texts, p, err);
      if (nt == NULL) goto error;
      json_object_set_new(o, "texts", nt);
    }
    subpath(p, sizeof p, path, "substitutions");
    const json_t *substs = array_of(r, "substitutions", path, 0, MAX_RESPONSE_SUBSTITUTIONS, &absent, err);
    if (substs == NULL && !absent) goto error;
    if (substs) {
      json_t *ns = normalize_substitutions(substs, p, err);
      if (ns == NULL) goto error;
      json_object_set_new(o, "substitutions", ns);
    }

    subpath(p, sizeof p, path, "messagingTemplate");
    json_t *mt = json_object_get(r, "messagingTemplate");
    int is_template = rtype && strcmp(rtype, "MessagingTemplate") == 0;
    if (mt != NULL) {
      sim_model_error merr;
      if (!is_template) {
        fail(err, p, "'messagingTemplate' is only for responses of responseType MessagingTemplate");
        goto error;
      }
      if (sim_model_check(&SIM_MODEL_MESSAGING_TEMPLATE, mt, "", &merr)) {
        char mp[520];
        snprintf(mp, sizeof mp, "%s%s%s", p, merr.field[0] ? "." : "", merr.field);
        fail(err, mp, "%s", merr.message);
        goto error;
      }
      json_object_set_new(o, "messagingTemplate", sim_model_copy(&SIM_MODEL_MESSAGING_TEMPLATE, mt, 1));
    }
    if (is_template) {
      if (json_object_get(json_object_get(o, "messagingTemplate"), "whatsApp") == NULL) {
        fail(err, p, "a MessagingTemplate response needs messagingTemplate.whatsApp (name and language)");
        goto error;
      }
      if (sim_response_body_text(o) == NULL) {
        subpath(p, sizeof p, path, "texts");
        fail(err, p, "a MessagingTemplate response needs a text of type body (the template body)");
        goto error;
      }
    }
    if (itype) json_object_set_new(o, "interactionType", json_string(itype));
    if (rtype) json_object_set_new(o, "responseType", json_string(rtype));
    if (json_array_append_new(out, o)) return fail(err, path, "out of memory");
    continue;
  error:
    json_decref(o);
    return -1;
  }
  return 0;
}

/* limits.mediaTypes: an array of distinct types gcsim can sniff (default SIM_MEDIA_DEFAULT_TYPES). */
static json_t *media_types(const json_t *limits, sim_verr *err) {
  json_t *v = json_object_get(limits, "mediaTypes"), *out = json_array();
  if (out == NULL) {
    fail(err, "$.limits.mediaTypes", "out of memory");
    return NULL;
  }
  size_t i;
  json_t *t;
  if (v == NULL) {
    for (i = 0; SIM_MEDIA_DEFAULT_TYPES[i]; i++) json_array_append_new(out, json_string(SIM_MEDIA_DEFAULT_TYPES[i]));
    return out;
  }
  if (!json_is_array(v)) {
    json_decref(out);
    fail(err, "$.limits.mediaTypes", "expected an array of media types such as \"image/png\"");
    return NULL;
  }
  json_array_foreach(v, i, t) {
    char p[64];
    indexpath(p, sizeof p, "$.limits.mediaTypes", i);
    const char *s = json_string_value(t);
    int dup = 0;
    size_t j;
    json_t *seen;
    json_array_foreach(out, j, seen) dup |= s && strcmp(s, json_string_value(seen)) == 0;
    if (s == NULL || !sim_media_type_sniffable(s) || dup) {
      char list[512] = "";
      for (j = 0; SIM_MEDIA_SNIFFABLE[j]; j++) {
        if (j) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, SIM_MEDIA_SNIFFABLE[j], sizeof list - strlen(list) - 1);
      }
      json_decref(out);
      if (dup) fail(err, p, "'%s' is listed twice", s);
      else fail(err, p, "%s%s%s is not a type gcsim can detect in content (one of: %s)", s ? "'" : "",
                s ? s : "a non-string", s ? "'" : "", list);
      return NULL;
    }
    json_array_append(out, t);
  }
  return out;
}

const char *sim_response_body_text(const json_t *response) {
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(response, "texts"), i, t) {
    const char *type = sim_jstr(t, "type");
    if (type == NULL || strcmp(type, "body") == 0) return sim_jstr(t, "content");
  }
  return NULL;
}

/* faults: each checked as the admin API checks POST /sim/v1/faults; ids filled in (s1, s2, ... by
 * position) and unique. */
static json_t *normalize_faults(const json_t *in, sim_verr *err) {
  json_t *out = json_array();
  size_t i;
  json_t *f;
  if (out == NULL) {
    fail(err, "$.faults", "out of memory");
    return NULL;
  }
  if (json_array_size(in) > SIM_MAX_FAULTS) {
    fail(err, "$.faults", "at most %d faults", SIM_MAX_FAULTS);
    json_decref(out);
    return NULL;
  }
  json_array_foreach((json_t *)in, i, f) {
    char p[64], fp[128], msg[512];
    const char *field;
    indexpath(p, sizeof p, "$.faults", i);
    if (sim_fault_check(f, &field, msg, sizeof msg) != 0) {
      if (field) subpath(fp, sizeof fp, p, field);
      fail(err, field ? fp : p, "%s", msg);
      json_decref(out);
      return NULL;
    }
    json_t *copy = json_deep_copy(f);
    if (copy && json_object_get(copy, "id") == NULL) {
      char id[32];
      snprintf(id, sizeof id, "s%zu", i + 1);
      json_object_set_new(copy, "id", json_string(id));
    }
    size_t j;
    json_t *prev;
    json_array_foreach(out, j, prev) {
      if (copy && strcmp(sim_jstr(prev, "id"), sim_jstr(copy, "id")) == 0) {
        subpath(fp, sizeof fp, p, "id");
        fail(err, fp, "fault id '%s' is used twice", sim_jstr(copy, "id"));
        json_decref(copy);
        json_decref(out);
        return NULL;
      }
    }
    if (copy == NULL || json_array_append_new(out, copy)) {
      fail(err, p, "out of memory");
      json_decref(out);
      return NULL;
    }
  }
  return out;
}

json_t *sim_scenario_normalize(const json_t *doc, sim_rng *rng, sim_verr *err) {
  const char *org_id, *org_name, *desc;
  long long rpm = 300, window = SIM_RATE_DEFAULT_WINDOW_S, media_max = SIM_MEDIA_DEFAULT_MAX_BYTES,
            media_polls = SIM_MEDIA_DEFAULT_POLLS, latency = 0;
  json_t *types = NULL;
  memset(err, 0, sizeof *err);
  if (check_keys(doc, "$", TOP_KEYS, err)) return NULL;
  if (get_str(doc, "description", "$", 0, MAX_TEXT_LEN, &desc, err)) return NULL;
  json_t *org_in = json_object_get(doc, "org");
  json_t *limits_in = json_object_get(doc, "limits");
  json_t *empty = json_object();
  if (empty == NULL) {
    fail(err, "$", "out of memory");
    return NULL;
  }
  if ((org_in && check_keys(org_in, "$.org", ORG_KEYS, err)) ||
      get_str(org_in ? org_in : empty, "id", "$.org", 0, MAX_ID_LEN, &org_id, err) ||
      get_str(org_in ? org_in : empty, "name", "$.org", 0, MAX_TEXT_LEN, &org_name, err) ||
      (limits_in && check_keys(limits_in, "$.limits", LIMIT_KEYS, err)) ||
      get_positive_int(limits_in ? limits_in : empty, "requestsPerMinutePerToken", "$.limits", 1, 1000000, 300, &rpm,
                       err) ||
      get_positive_int(limits_in ? limits_in : empty, "rateLimitWindowSeconds", "$.limits", 1, SIM_RATE_MAX_WINDOW_S,
                       SIM_RATE_DEFAULT_WINDOW_S, &window, err) ||
      get_positive_int(limits_in ? limits_in : empty, "mediaMaxBytes", "$.limits", 1, SIM_MEDIA_MAX_BYTES_CAP,
                       SIM_MEDIA_DEFAULT_MAX_BYTES, &media_max, err) ||
      get_positive_int(limits_in ? limits_in : empty, "mediaProcessingPolls", "$.limits", 0, SIM_MEDIA_MAX_POLLS,
                       SIM_MEDIA_DEFAULT_POLLS, &media_polls, err) ||
      get_positive_int(limits_in ? limits_in : empty, "latencyMs", "$.limits", 0, SIM_MAX_LATENCY_MS, 0, &latency,
                       err) ||
      (types = media_types(limits_in ? limits_in : empty, err)) == NULL) {
    json_decref(empty);
    return NULL;
  }
  json_decref(empty);
  /* an array member, or NULL when absent; an error stops (types is not handed over yet) */
  const json_t *clients, *users, *queues, *libraries, *responses, *convs, *faults_in;
#define MEMBER(var, key) (((var) = array_member(doc, key, MAX_ITEMS, err)) == NULL && err->message[0])
  if (MEMBER(clients, "clients") || MEMBER(users, "users") || MEMBER(queues, "queues") ||
      MEMBER(libraries, "libraries") || MEMBER(responses, "responses") ||
      ((convs = array_member(doc, "conversations", SIM_MAX_CONVERSATIONS, err)) == NULL && err->message[0]) ||
      MEMBER(faults_in, "faults")) {
    json_decref(types);
    return NULL;
  }
#undef MEMBER
  json_t *out = json_pack("{s:{s:s, s:s}, s:{s:I, s:I, s:I, s:o, s:I, s:I}, s:[], s:[], s:[], s:[], s:[], s:[]}",
                          "org", "id", org_id ? org_id : "00000000-0000-4000-8000-00000000000a", "name",
                          org_name ? org_name : "gcsim org", "limits", "requestsPerMinutePerToken", (json_int_t)rpm,
                          "rateLimitWindowSeconds", (json_int_t)window, "mediaMaxBytes", (json_int_t)media_max,
                          "mediaTypes", types, "mediaProcessingPolls", (json_int_t)media_polls, "latencyMs",
                          (json_int_t)latency, "clients", "users", "queues", "libraries", "responses",
                          "conversations");
  if (out == NULL) {
    fail(err, "$", "out of memory");
    return NULL;
  }
  if ((clients && normalize_clients(clients, json_object_get(out, "clients"), err)) ||
      (users && normalize_users(users, json_object_get(out, "users"), err)) ||
      check_consent_users(json_object_get(out, "clients"), json_object_get(out, "users"), err) ||
      (queues && normalize_queues(queues, json_object_get(out, "queues"), err)) ||
      (libraries && normalize_libraries(libraries, json_object_get(out, "libraries"), rng, err)) ||
      (responses && normalize_responses(responses, json_object_get(out, "libraries"), json_object_get(out, "responses"),
                                        rng, err))) {
    json_decref(out);
    return NULL;
  }
  conv_sets sets;
  if (sets_init(&sets, out, 0)) {
    json_decref(out);
    fail(err, "$.conversations", "out of memory");
    return NULL;
  }
  size_t i;
  json_t *c;
  json_array_foreach((json_t *)convs, i, c) {
    char path[64];
    snprintf(path, sizeof path, "$.conversations[%zu]", i);
    json_t *norm = normalize_conversation(c, path, &sets, rng, 0, err);
    int bad = norm == NULL;
    if (!bad && sets_add_conversation(&sets, norm)) {
      json_decref(norm);
      bad = 1;
    } else if (!bad && json_array_append_new(json_object_get(out, "conversations"), norm)) {
      bad = 1;
    }
    if (bad) {
      if (!err->message[0]) fail(err, path, "out of memory");
      sets_free(&sets);
      json_decref(out);
      return NULL;
    }
  }
  sets_free(&sets);
  if (faults_in) {
    json_t *faults = normalize_faults(faults_in, err);
    if (faults == NULL || json_object_set_new(out, "faults", faults)) {
      json_decref(out);
      return NULL;
    }
  }
  return out;
}

json_t *sim_scenario_load_file(const char *file, sim_rng *rng, sim_verr *err) {
  json_error_t jerr;
  memset(err, 0, sizeof *err);
  json_t *doc = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
  if (doc == NULL) {
    snprintf(err->path, sizeof err->path, "$");
    if (jerr.line > 0)
      snprintf(err->message, sizeof err->message, "not valid JSON at line %d, column %d: %s", jerr.line, jerr.column,
               jerr.text);
    else
      snprintf(err->message, sizeof err->message, "%s", jerr.text);
    return NULL;
  }
  json_t *norm = sim_scenario_normalize(doc, rng, err);
  json_decref(doc);
  return norm;
}
