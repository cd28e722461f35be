#include "render.h"

#include <stdio.h>
#include <string.h>

#include "readback.h"

/* Message.type / MessageMediaParticipant.type enum. */
static const char *const MESSAGE_TYPES[] = {"apple", "facebook", "instagram", "kakao", "line", "open",
                                            "sms",   "telegram", "twitter",   "webmessaging", "whatsapp", NULL};

int sim_conv_is_message(const json_t *conv) {
  const char *m = sim_jstr(conv, "media");
  return m && strcmp(m, "message") == 0;
}

int sim_conv_is_connected(const json_t *conv) {
  const char *s = sim_jstr(conv, "state");
  return s && strcmp(s, "connected") == 0;
}

int sim_part_is_connected(const json_t *part) {
  const char *s = sim_jstr(part, "state");
  return s && strcmp(s, "connected") == 0;
}

const char *sim_part_comm_id(const json_t *part) { return sim_jstr(json_object_get(part, "communication"), "id"); }

json_t *sim_conv_customer(json_t *conv) {
  size_t i;
  json_t *p, *external = NULL;
  json_array_foreach(json_object_get(conv, "participants"), i, p) {
    const char *purpose = sim_jstr(p, "purpose");
    if (strcmp(purpose, "customer") == 0) return p;
    if (external == NULL && strcmp(purpose, "external") == 0) external = p;
  }
  return external;
}

json_t *sim_conv_connected_agent(json_t *conv, const char *user_id) {
  size_t i;
  json_t *p, *found = NULL;
  json_array_foreach(json_object_get(conv, "participants"), i, p) {
    if (strcmp(sim_jstr(p, "purpose"), "agent") != 0 || !sim_part_is_connected(p)) continue;
    const char *uid = sim_jstr(p, "userId");
    if (user_id == NULL || (uid && strcmp(uid, user_id) == 0)) found = p;
  }
  return found;
}

static int valid_message_type(const char *platform) {
  for (size_t i = 0; platform && MESSAGE_TYPES[i]; i++)
    if (strcmp(platform, MESSAGE_TYPES[i]) == 0) return 1;
  return 0;
}

static json_t *address(const char *value) {
  return json_pack("{s:s, s:s}", "addressNormalized", value, "addressRaw", value);
}

static json_t *entity_ref(const char *kind, const char *id, const char *name) {
  char uri[512];
  snprintf(uri, sizeof uri, "/api/v2/%s/%s", kind, id);
  json_t *r = json_pack("{s:s, s:s}", "id", id, "selfUri", uri);
  if (r && name) json_object_set_new(r, "name", json_string(name));
  return r;
}

static const char *end_time(const json_t *conv) {
  const char *e = sim_jstr(conv, "endTime");
  return e ? e : sim_jstr(conv, "startTime");
}

/* The peer of a participant: the customer's peer is the last connected agent's communication;
 * an agent's peer is the customer's communication. */
static const char *peer_of(json_t *conv, json_t *part) {
  const char *purpose = sim_jstr(part, "purpose");
  if (strcmp(purpose, "customer") == 0 || strcmp(purpose, "external") == 0) {
    json_t *agent = sim_conv_connected_agent(conv, NULL);
    return agent ? sim_part_comm_id(agent) : NULL;
  }
  if (strcmp(purpose, "agent") == 0) {
    json_t *cust = sim_conv_customer(conv);
    return cust ? sim_part_comm_id(cust) : NULL;
  }
  return NULL;
}

static json_t *attributes_of(const json_t *part) {
  json_t *a = json_object_get(part, "attributes");
  return a ? json_deep_copy(a) : json_object();
}

static json_t *render_communication(json_t *conv, json_t *part) {
  json_t *comm = json_object_get(part, "communication");
  const char *state = sim_jstr(part, "state");
  json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "id", sim_jstr(comm, "id"), "state", state, "direction",
                        sim_jstr(conv, "direction"), "held", 0);
  if (o == NULL) return NULL;
  if (strcmp(state, "alerting") != 0) json_object_set_new(o, "connectedTime", json_string(sim_jstr(conv, "startTime")));
  if (strcmp(state, "disconnected") == 0) {
    json_object_set_new(o, "disconnectedTime", json_string(end_time(conv)));
    json_object_set_new(o, "disconnectType", json_string("client"));
  }
  if (sim_conv_is_message(conv)) {
    const char *platform = sim_jstr(conv, "platform");
    json_object_set_new(o, "type", json_string(valid_message_type(platform) ? platform : "unknown"));
    const char *from = sim_jstr(comm, "fromAddress"), *to = sim_jstr(comm, "toAddress");
    if (from) json_object_set_new(o, "fromAddress", address(from));
    if (to) json_object_set_new(o, "toAddress", address(to));
  } else {
    const char *provider = sim_jstr(conv, "provider");
    if (provider) json_object_set_new(o, "provider", json_string(provider));
  }
  const char *peer = peer_of(conv, part);
  if (peer) json_object_set_new(o, "peerId", json_string(peer));
  return o;
}

/* Fields common to Participant, MessageMediaParticipant and ChatMediaParticipant. */
static json_t *participant_base(sim_state *st, json_t *conv, json_t *part) {
  const char *state = sim_jstr(part, "state");
  json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "id", sim_jstr(part, "id"), "purpose", sim_jstr(part, "purpose"),
                        "startTime", sim_jstr(conv, "startTime"), "attributes", attributes_of(part));
  if (o == NULL) return NULL;
  (void)st;
  if (strcmp(state, "alerting") != 0) json_object_set_new(o, "connectedTime", json_string(sim_jstr(conv, "startTime")));
  if (strcmp(state, "disconnected") == 0) json_object_set_new(o, "endTime", json_string(end_time(conv)));
  const char *name = sim_jstr(part, "name"), *addr = sim_jstr(part, "address");
  if (name == NULL && sim_jstr(part, "userId")) name = sim_jstr(sim_find_user(st, sim_jstr(part, "userId")), "name");
  if (name) json_object_set_new(o, "name", json_string(name));
  if (addr) json_object_set_new(o, "address", json_string(addr));
  return o;
}

json_t *sim_render_conversation(sim_state *st, json_t *conv) {
  char uri[512];
  const char *id = sim_jstr(conv, "id");
  snprintf(uri, sizeof uri, "/api/v2/conversations/%s", id);
  json_t *parts = json_array();
  json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s}", "id", id, "startTime", sim_jstr(conv, "startTime"), "state",
                        sim_jstr(conv, "state"), "participants", parts, "selfUri", uri);
  if (o == NULL) return NULL;
  if (sim_jstr(conv, "endTime")) json_object_set_new(o, "endTime", json_string(sim_jstr(conv, "endTime")));
  if (sim_jstr(conv, "name")) json_object_set_new(o, "name", json_string(sim_jstr(conv, "name")));
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(conv, "participants"), i, p) {
    json_t *r = participant_base(st, conv, p);
    if (r == NULL) break;
    const char *uid = sim_jstr(p, "userId"), *qid = sim_jstr(p, "queueId");
    if (uid) {
      snprintf(uri, sizeof uri, "/api/v2/users/%s", uid);
      json_object_set_new(r, "userId", json_string(uid));
      json_object_set_new(r, "userUri", json_string(uri));
    }
    if (qid) {
      json_object_set_new(r, "queueId", json_string(qid));
      const char *qname = sim_jstr(sim_find_queue(st, qid), "name");
      if (qname) json_object_set_new(r, "queueName", json_string(qname));
    }
    json_t *comms = json_array();
    json_array_append_new(comms, render_communication(conv, p));
    json_object_set_new(r, sim_conv_is_message(conv) ? "messages" : "chats", comms);
    json_array_append_new(parts, r);
  }
  return o;
}

static json_t *media_participant(sim_state *st, json_t *conv, json_t *p) {
  json_t *r = participant_base(st, conv, p);
  if (r == NULL) return NULL;
  json_object_set_new(r, "state", json_string(sim_jstr(p, "state")));
  json_object_set_new(r, "direction", json_string(sim_jstr(conv, "direction")));
  json_object_set_new(r, "held", json_false());
  json_object_set_new(r, "wrapupRequired", json_false());
  const char *uid = sim_jstr(p, "userId"), *qid = sim_jstr(p, "queueId");
  if (uid) json_object_set_new(r, "user", entity_ref("users", uid, sim_jstr(sim_find_user(st, uid), "name")));
  if (qid) json_object_set_new(r, "queue", entity_ref("routing/queues", qid, sim_jstr(sim_find_queue(st, qid), "name")));
  const char *peer = peer_of(conv, p);
  if (peer) json_object_set_new(r, "peer", json_string(peer));
  return r;
}

json_t *sim_render_message_conversation(sim_state *st, json_t *conv) {
  char uri[512];
  const char *id = sim_jstr(conv, "id");
  snprintf(uri, sizeof uri, "/api/v2/conversations/messages/%s", id);
  json_t *parts = json_array();
  json_t *o = json_pack("{s:s, s:o, s:s}", "id", id, "participants", parts, "selfUri", uri);
  if (o == NULL) return NULL;
  if (sim_jstr(conv, "name")) json_object_set_new(o, "name", json_string(sim_jstr(conv, "name")));
  const char *platform = sim_jstr(conv, "platform");
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(conv, "participants"), i, p) {
    json_t *r = media_participant(st, conv, p);
    if (r == NULL) break;
    json_object_set_new(r, "type", json_string(valid_message_type(platform) ? platform : "unknown"));
    json_t *comm = json_object_get(p, "communication");
    const char *from = sim_jstr(comm, "fromAddress"), *to = sim_jstr(comm, "toAddress");
    if (from) json_object_set_new(r, "fromAddress", address(from));
    if (to) json_object_set_new(r, "toAddress", address(to));
    json_t *messages = sim_readback_details(st, conv, p);
    if (messages) json_object_set_new(r, "messages", messages);
    json_array_append_new(parts, r);
  }
  return o;
}

json_t *sim_render_chat_conversation(sim_state *st, json_t *conv) {
  char uri[512];
  const char *id = sim_jstr(conv, "id");
  snprintf(uri, sizeof uri, "/api/v2/conversations/chats/%s", id);
  json_t *parts = json_array();
  json_t *o = json_pack("{s:s, s:o, s:s}", "id", id, "participants", parts, "selfUri", uri);
  if (o == NULL) return NULL;
  if (sim_jstr(conv, "name")) json_object_set_new(o, "name", json_string(sim_jstr(conv, "name")));
  const char *provider = sim_jstr(conv, "provider");
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(conv, "participants"), i, p) {
    json_t *r = media_participant(st, conv, p);
    if (r == NULL) break;
    if (provider) json_object_set_new(r, "provider", json_string(provider));
    json_array_append_new(parts, r);
  }
  return o;
}
