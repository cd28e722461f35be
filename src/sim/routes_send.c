#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "models.h"
#include "render.h"
#include "routes.h"

#define SMS_MAX_CHARS 765
#define MESSAGING_MAX_CHARS 2000

/* MessageData.messengerType enum. */
static const char *const MESSENGER_TYPES[] = {"sms", "facebook", "twitter", "whatsapp", "webmessaging",
                                              "instagram", "open", "apple", NULL};

static int valid_messenger_type(const char *platform) {
  for (size_t i = 0; platform && MESSENGER_TYPES[i]; i++)
    if (strcmp(platform, MESSENGER_TYPES[i]) == 0) return 1;
  return 0;
}

static long max_chars(const char *platform) {
  return platform && strcmp(platform, "sms") == 0 ? SMS_MAX_CHARS : MESSAGING_MAX_CHARS;
}

/* textBody length in Unicode code points against the platform's limit. */
static int check_length(sim_ctx *c, const char *text, const char *platform) {
  if (text == NULL) return 0;
  long n = sim_utf8_count(text), max = max_chars(platform);
  if (n <= max) return 0;
  char buf[32];
  snprintf(buf, sizeof buf, "%ld", max);
  sim_error(c, 400, "invalid.value",
            "textBody is %ld characters long; %s messages allow at most %ld characters (counted in Unicode code points).",
            n, platform, max);
  sim_error_param(c, "maxLength", buf, "textBody is longer than {maxLength} characters.");
  sim_error_detail(c, "textBody", "invalid.value");
  return -1;
}

/* Exactly one body kind: a non-empty textBody, non-empty mediaIds, or a messagingTemplate. */
static int check_one_body_kind(sim_ctx *c, int allow_media) {
  const char *text = sim_jstr(c->body, "textBody");
  json_t *media = json_object_get(c->body, "mediaIds"), *tmpl = json_object_get(c->body, "messagingTemplate");
  int kinds = (text && *text) + (allow_media && json_array_size(media) > 0) + (tmpl && !json_is_null(tmpl));
  const char *names = allow_media ? "textBody, mediaIds or messagingTemplate" : "textBody or messagingTemplate";
  if (kinds == 1) return 0;
  if (kinds == 0)
    sim_error(c, 400, "bad.request", "The message is empty: give exactly one of %s.", names);
  else
    sim_error(c, 400, "bad.request", "Give exactly one body kind: %s cannot be combined in one message.", names);
  sim_error_detail(c, "textBody", kinds == 0 ? "required" : "invalid.value");
  return -1;
}

/* MessageData for an outbound message into conv. */
static json_t *message_data(sim_ctx *c, json_t *conv, const char *msg_id, const char *text, const char *now) {
  char uri[512];
  const char *cid = sim_jstr(conv, "id"), *platform = sim_jstr(conv, "platform");
  snprintf(uri, sizeof uri, "/api/v2/conversations/messages/%s/messages/%s", cid, msg_id);
  json_t *md = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", msg_id, "timestamp", now, "direction",
                         "outbound", "textBody", text ? text : "", "status", "sent", "conversationId", cid, "selfUri", uri);
  if (md == NULL) return NULL;
  if (valid_messenger_type(platform)) json_object_set_new(md, "messengerType", json_string(platform));
  json_t *cust = sim_conv_customer(conv);
  json_t *comm = json_object_get(cust, "communication");
  const char *business = sim_jstr(comm, "toAddress");
  const char *customer = sim_jstr(comm, "fromAddress") ? sim_jstr(comm, "fromAddress") : sim_jstr(cust, "address");
  if (business) json_object_set_new(md, "fromAddress", json_string(business));
  if (customer) json_object_set_new(md, "toAddress", json_string(customer));
  (void)c;
  return md;
}

int sim_post_message(sim_ctx *c) {
  json_t *conv, *part;
  if (sim_require_user(c) || sim_validate_body(c, &SIM_MODEL_ADDITIONAL_MESSAGE) || check_one_body_kind(c, 1) ||
      sim_resolve_agent_comm(c, &SIM_AGENT_MESSAGING, &conv, &part))
    return -1;
  const char *text = sim_jstr(c->body, "textBody");
  if (check_length(c, text, sim_jstr(conv, "platform"))) return -1;
  char id[40], now[40];
  sim_new_uuid(c->st, id, sizeof id);
  sim_now_iso(c->st, now, sizeof now);
  json_t *md = message_data(c, conv, id, text, now);
  json_t *media = json_object_get(c->body, "mediaIds");
  if (md && json_array_size(media) > 0) {
    json_t *list = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(media, i, m) json_array_append_new(list, json_pack("{s:O}", "id", m));
    json_object_set_new(md, "media", list);
  }
  json_t *entry = sim_entry_new(c, id, "outbound", "agent-messaging", 0);
  if (md == NULL || entry == NULL) {
    json_decref(md);
    json_decref(entry);
    return sim_error(c, 500, NULL, "out of memory");
  }
  json_object_set_new(entry, "time", json_string(now));
  sim_entry_sender_participant(c, entry, part);
  if (text && *text) json_object_set_new(entry, "text", json_string(text));
  if (json_array_size(media) > 0) json_object_set(entry, "mediaIds", media);
  json_t *tmpl = json_object_get(c->body, "messagingTemplate");
  if (json_is_object(tmpl)) json_object_set(entry, "messagingTemplate", tmpl);
  sim_transcript_append(c->st, sim_jstr(conv, "id"), entry);
  c->status = 200;
  c->resp = md;
  return 0;
}

int sim_post_message_typing(sim_ctx *c) {
  json_t *conv, *part;
  if (sim_require_user(c) || sim_validate_body(c, &SIM_MODEL_MESSAGE_TYPING_EVENT_REQUEST) ||
      sim_resolve_agent_comm(c, &SIM_AGENT_MESSAGING, &conv, &part))
    return -1;
  char id[40];
  sim_new_uuid(c->st, id, sizeof id);
  json_t *entry = sim_entry_new(c, id, "outbound", "agent-messaging", 1);
  if (entry == NULL) return sim_error(c, 500, NULL, "out of memory");
  sim_entry_sender_participant(c, entry, part);
  sim_transcript_append(c->st, sim_jstr(conv, "id"), entry);
  c->status = 200;
  c->resp = NULL;
  return 0;
}

/* The connected conversation whose customer communication matches the agentless addresses. */
static json_t *find_active(sim_ctx *c, const char *from, const char *to, const char *type) {
  size_t i;
  json_t *conv;
  json_array_foreach(json_object_get(c->st->org, "conversations"), i, conv) {
    if (!sim_conv_is_message(conv) || !sim_conv_is_connected(conv)) continue;
    const char *platform = sim_jstr(conv, "platform");
    if (platform == NULL || strcmp(platform, type) != 0) continue;
    json_t *cust = sim_conv_customer(conv);
    json_t *comm = json_object_get(cust, "communication");
    const char *cust_from = sim_jstr(comm, "fromAddress"), *cust_to = sim_jstr(comm, "toAddress");
    const char *cust_addr = sim_jstr(cust, "address");
    int to_ok = (cust_from && strcmp(cust_from, to) == 0) || (cust_from == NULL && cust_addr && strcmp(cust_addr, to) == 0);
    if (to_ok && cust_to && strcmp(cust_to, from) == 0) return conv;
  }
  return NULL;
}

/* A new outbound conversation for an agentless message that has no active one to join. */
static json_t *new_outbound(sim_ctx *c, const char *from, const char *to, const char *type) {
  char cid[40], pid[40], mid[40], now[40];
  sim_new_uuid(c->st, cid, sizeof cid);
  sim_new_uuid(c->st, pid, sizeof pid);
  sim_new_uuid(c->st, mid, sizeof mid);
  sim_now_iso(c->st, now, sizeof now);
  json_t *conv = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}}]}", "id", cid,
                           "media", "message", "platform", type, "state", "connected", "direction", "outbound",
                           "startTime", now, "description", "created by an agentless message", "participants", "id", pid,
                           "purpose", "customer", "state", "connected", "address", to, "communication", "id", mid,
                           "fromAddress", to, "toAddress", from);
  if (conv == NULL) return NULL;
  if (sim_add_conversation(c->st, conv) != 0) return NULL;
  return conv;
}

int sim_post_agentless(sim_ctx *c) {
  if (sim_require_client(c) || sim_validate_body(c, &SIM_MODEL_SEND_AGENTLESS_REQUEST) || check_one_body_kind(c, 0))
    return -1;
  const char *type = sim_jstr(c->body, "toAddressMessengerType");
  const char *from = sim_jstr(c->body, "fromAddress"), *to = sim_jstr(c->body, "toAddress");
  const char *text = sim_jstr(c->body, "textBody");
  int use_existing = json_is_true(json_object_get(c->body, "useExistingActiveConversation"));
  if (strcmp(type, "webmessaging") == 0) {
    sim_error(c, 400, "bad.request",
              "toAddressMessengerType webmessaging is not supported for agentless messages: a web messaging guest has "
              "no address to send to (toAddress unsupported). Send as the conversation's agent with a user token.");
    sim_error_detail(c, "toAddressMessengerType", "invalid.value");
    return -1;
  }
  if (check_length(c, text, type)) return -1;
  json_t *conv = use_existing ? find_active(c, from, to, type) : NULL;
  if (conv == NULL) conv = new_outbound(c, from, to, type);
  if (conv == NULL) return sim_error(c, 503, "service.unavailable", "gcsim holds too many conversations.");
  char id[40], now[40], uri[256];
  sim_new_uuid(c->st, id, sizeof id);
  sim_now_iso(c->st, now, sizeof now);
  json_t *md = message_data(c, conv, id, text, now);
  snprintf(uri, sizeof uri, "/api/v2/conversations/messages/agentless/%s", id);
  json_t *resp = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:s}", "id", id, "conversationId",
                           sim_jstr(conv, "id"), "fromAddress", from, "toAddress", to, "messengerType", type,
                           "useExistingActiveConversation", use_existing, "timestamp", now, "message", md, "selfUri", uri);
  json_t *entry = sim_entry_new(c, id, "outbound", "agentless", 0);
  if (resp == NULL || entry == NULL) {
    json_decref(resp);
    json_decref(entry);
    return sim_error(c, 500, NULL, "out of memory");
  }
  json_t *tmpl = json_object_get(c->body, "messagingTemplate");
  if (text && *text) {
    json_object_set_new(resp, "textBody", json_string(text));
    json_object_set_new(entry, "text", json_string(text));
  }
  if (json_is_object(tmpl)) {
    json_object_set(resp, "messagingTemplate", tmpl);
    json_object_set(entry, "messagingTemplate", tmpl);
  }
  json_object_set_new(entry, "time", json_string(now));
  json_t *sender = json_object_get(entry, "sender");
  json_object_set_new(sender, "clientId", json_string(c->tok->principal));
  json_object_set_new(sender, "name", json_string(sim_caller_name(c)));
  sim_transcript_append(c->st, sim_jstr(conv, "id"), entry);
  c->status = 200;
  c->resp = resp;
  return 0;
}
