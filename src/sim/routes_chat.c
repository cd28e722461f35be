/* Legacy ACD web chat (deprecated in Platform API 8789, removed in 10706; still emulated so
 * that the legacy route and third-party chats can be shown and diagnosed). */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "models.h"
#include "render.h"
#include "routes.h"

#define CHAT_MAX_CHARS 4000

int sim_post_chat(sim_ctx *c) {
  if (sim_validate_body(c, &SIM_MODEL_CREATE_WEB_CHAT_REQUEST)) return -1;
  const char *queue_id = sim_jstr(c->body, "queueId"), *provider = sim_jstr(c->body, "provider");
  const char *customer = sim_jstr(c->body, "customerName");
  if (sim_find_queue(c->st, queue_id) == NULL) {
    sim_error(c, 400, "bad.request", "The queue %s does not exist.", queue_id);
    sim_error_detail(c, "queueId", "invalid.value");
    return -1;
  }
  if (*provider == '\0') {
    sim_error(c, 400, "bad.request", "provider must not be empty.");
    sim_error_detail(c, "provider", "invalid.value");
    return -1;
  }
  char cid[40], p1[40], m1[40], p2[40], m2[40], now[40];
  sim_new_uuid(c->st, cid, sizeof cid);
  sim_new_uuid(c->st, p1, sizeof p1);
  sim_new_uuid(c->st, m1, sizeof m1);
  sim_new_uuid(c->st, p2, sizeof p2);
  sim_new_uuid(c->st, m2, sizeof m2);
  sim_now_iso(c->st, now, sizeof now);
  json_t *attrs = json_object_get(c->body, "attributes");
  json_t *cust = json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", p1, "purpose", "customer", "state", "connected",
                           "communication", "id", m1);
  json_t *acd = json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "id", p2, "purpose", "acd", "state", "connected", "queueId",
                          queue_id, "communication", "id", m2);
  json_t *conv = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[o, o]}", "id", cid, "media", "chat", "provider",
                           provider, "state", "connected", "direction", "inbound", "startTime", now, "description",
                           "third-party chat created by POST /api/v2/conversations/chats", "participants", cust, acd);
  if (conv == NULL) return sim_error(c, 500, NULL, "out of memory");
  if (customer) json_object_set_new(cust, "name", json_string(customer));
  if (json_is_object(attrs)) json_object_set(cust, "attributes", attrs);
  if (sim_add_conversation(c->st, conv) != 0)
    return sim_error(c, 503, "service.unavailable", "gcsim holds too many conversations.");
  c->resp = sim_render_chat_conversation(c->st, conv);
  if (c->resp == NULL) return sim_error(c, 500, NULL, "out of memory");
  c->status = 200;
  return 0;
}

static json_t *chat_conversation_ref(json_t *conv) {
  char uri[512];
  snprintf(uri, sizeof uri, "/api/v2/conversations/chats/%s", sim_jstr(conv, "id"));
  return json_pack("{s:s, s:s}", "id", sim_jstr(conv, "id"), "selfUri", uri);
}

static json_t *member_info(sim_ctx *c, json_t *conv, json_t *part) {
  const char *name = sim_jstr(part, "name");
  if (name == NULL) name = sim_caller_name(c);
  return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", sim_part_comm_id(part), "role", "AGENT", "state", "CONNECTED",
                   "displayName", name, "joinDate", sim_jstr(conv, "startTime"));
}

int sim_post_chat_message(sim_ctx *c) {
  json_t *conv, *part;
  if (sim_require_user(c) || sim_validate_body(c, &SIM_MODEL_CREATE_WEB_CHAT_MESSAGE_REQUEST) ||
      sim_resolve_agent_comm(c, &SIM_AGENT_CHAT, &conv, &part))
    return -1;
  const char *body = sim_jstr(c->body, "body");
  const char *body_type = sim_jstr(c->body, "bodyType");
  if (body_type == NULL) body_type = "standard";
  long n = sim_utf16_count(body); /* UTF-16 code units, as for messaging (routes_send.c) */
  if (n > CHAT_MAX_CHARS) {
    sim_error(c, 400, "invalid.value",
              "body is %ld characters long; chat messages allow at most %d characters (counted in UTF-16 code units).",
              n, CHAT_MAX_CHARS);
    sim_error_detail(c, "body", "invalid.value");
    return -1;
  }
  if (n == 0) {
    sim_error(c, 400, "bad.request", "The chat message body is empty.");
    sim_error_detail(c, "body", "required");
    return -1;
  }
  char id[40], now[40], uri[512];
  sim_new_uuid(c->st, id, sizeof id);
  sim_now_iso(c->st, now, sizeof now);
  snprintf(uri, sizeof uri, "/api/v2/conversations/chats/%s/messages/%s", sim_jstr(conv, "id"), id);
  json_t *resp = json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:s}", "id", id, "conversation", chat_conversation_ref(conv),
                           "sender", member_info(c, conv, part), "body", body, "bodyType", body_type, "timestamp", now,
                           "selfUri", uri);
  json_t *entry = sim_entry_new(c, id, "outbound", "legacy-chat", 0);
  if (resp == NULL || entry == NULL) {
    json_decref(resp);
    json_decref(entry);
    return sim_error(c, 500, NULL, "out of memory");
  }
  json_object_set_new(entry, "time", json_string(now));
  sim_entry_sender_participant(c, entry, part);
  json_object_set_new(entry, "bodyType", json_string(body_type));
  json_object_set_new(entry, "text", json_string(body));
  sim_transcript_append(c->st, sim_jstr(conv, "id"), entry);
  c->status = 200;
  c->resp = resp;
  return 0;
}

int sim_post_chat_typing(sim_ctx *c) {
  json_t *conv, *part;
  if (sim_require_user(c) || sim_resolve_agent_comm(c, &SIM_AGENT_CHAT, &conv, &part)) return -1;
  char id[40], now[40];
  sim_new_uuid(c->st, id, sizeof id);
  sim_now_iso(c->st, now, sizeof now);
  json_t *resp = json_pack("{s:s, s:o, s:o, s:s}", "id", id, "conversation", chat_conversation_ref(conv), "sender",
                           member_info(c, conv, part), "timestamp", now);
  json_t *entry = sim_entry_new(c, id, "outbound", "legacy-chat", 1);
  if (resp == NULL || entry == NULL) {
    json_decref(resp);
    json_decref(entry);
    return sim_error(c, 500, NULL, "out of memory");
  }
  json_object_set_new(entry, "time", json_string(now));
  sim_entry_sender_participant(c, entry, part);
  sim_transcript_append(c->st, sim_jstr(conv, "id"), entry);
  c->status = 200;
  c->resp = resp;
  return 0;
}
