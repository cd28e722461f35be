/* Messages read back from a messaging conversation's transcript (readback.h). Every message the
 * transcript holds is readable, including those recorded by a request on which a commit-then-fail
 * fault fired: the client was told the send failed, but the message was delivered, and reading it
 * back is how a client finds out. Typing indicators are not messages. */
#include "readback.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "media.h"
#include "render.h"
#include "routes.h"

#define MAX_BULK_IDS 1000

/* MessageData.messengerType enum. */
static const char *const MESSENGER_TYPES[] = {"sms", "facebook", "twitter", "whatsapp", "webmessaging",
                                              "instagram", "open", "apple", NULL};

static int valid_messenger_type(const char *platform) {
  for (size_t i = 0; platform && MESSENGER_TYPES[i]; i++)
    if (strcmp(platform, MESSENGER_TYPES[i]) == 0) return 1;
  return 0;
}

/* A message of a messaging conversation: sent by an agent, agentless, or by the customer. */
static int is_message(const json_t *entry) {
  const char *route = sim_jstr(entry, "route");
  if (json_is_true(json_object_get(entry, "typing")) || route == NULL) return 0;
  return strcmp(route, "agent-messaging") == 0 || strcmp(route, "agentless") == 0 || strcmp(route, "customer") == 0;
}

/* Septets of a code point in the GSM 03.38 default alphabet: 1 (basic table), 2 (extension table,
 * escaped), 0 (not in the alphabet: the message goes as UCS-2). */
static int gsm_septets(unsigned long cp) {
  static const unsigned long basic[] = {0xA3, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0xD8, 0xF8, 0xC5, 0xE5,
                                        0x394, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xC6,
                                        0xE6, 0xDF, 0xC9, 0xA4, 0xA1, 0xC4, 0xD6, 0xD1, 0xDC, 0xA7, 0xBF, 0xE4,
                                        0xF6, 0xF1, 0xFC, 0xE0};
  if (cp == '\n' || cp == '\r') return 1;
  if (cp == '\f' || cp == 0x20AC) return 2;
  if (cp >= 0x20 && cp <= 0x7E) {
    if (cp == '`') return 0;
    return strchr("^{}\\[~]|", (int)cp) ? 2 : 1;
  }
  for (size_t i = 0; i < sizeof basic / sizeof basic[0]; i++)
    if (basic[i] == cp) return 1;
  return 0;
}

/* SMS segments of a text (3GPP TS 23.040 concatenation): GSM 7-bit, 160 septets in one segment,
 * else 153 per segment; otherwise UCS-2, 70 UTF-16 units in one, else 67 per segment. */
static int sms_segments(const char *text) {
  long septets = 0, units = 0;
  int gsm = 1;
  const unsigned char *p = (const unsigned char *)text;
  while (*p) {
    unsigned long cp;
    int n;
    if (*p < 0x80) {
      cp = *p;
      n = 1;
    } else if ((*p & 0xE0) == 0xC0) {
      cp = *p & 0x1F;
      n = 2;
    } else if ((*p & 0xF0) == 0xE0) {
      cp = *p & 0x0F;
      n = 3;
    } else {
      cp = *p & 0x07;
      n = 4;
    }
    for (int i = 1; i < n && p[i]; i++) cp = (cp << 6) | (p[i] & 0x3F);
    for (int i = 0; i < n && *p; i++) p++;
    units += cp > 0xFFFF ? 2 : 1;
    int s = gsm_septets(cp);
    if (s == 0) gsm = 0;
    septets += s;
  }
  if (gsm) return septets <= 160 ? 1 : (int)((septets + 152) / 153);
  return units <= 70 ? 1 : (int)((units + 66) / 67);
}

static int segment_count(const json_t *conv, const json_t *entry) {
  const char *platform = sim_jstr(conv, "platform"), *text = sim_jstr(entry, "text");
  if (platform == NULL || strcmp(platform, "sms") != 0 || text == NULL) return 1;
  return sms_segments(text);
}

static const char *message_status(const json_t *entry) {
  const char *dir = sim_jstr(entry, "direction");
  return dir && strcmp(dir, "inbound") == 0 ? "received" : "sent";
}

static json_t *details(const json_t *conv, const json_t *entry) {
  char uri[600];
  snprintf(uri, sizeof uri, "/api/v2/conversations/messages/%s/messages/%s", sim_jstr(conv, "id"),
           sim_jstr(entry, "id"));
  return json_pack("{s:s, s:s, s:s, s:i, s:s}", "messageId", sim_jstr(entry, "id"), "messageURI", uri, "messageStatus",
                   message_status(entry), "messageSegmentCount", segment_count(conv, entry), "messageTime",
                   sim_jstr(entry, "time"));
}

json_t *sim_readback_details(sim_state *st, json_t *conv, json_t *part) {
  json_t *out = json_array();
  json_t *t = json_object_get(st->transcripts, sim_jstr(conv, "id"));
  int is_customer = part == sim_conv_customer(conv);
  const char *pid = sim_jstr(part, "id");
  size_t i;
  json_t *e;
  json_array_foreach(t, i, e) {
    if (out == NULL) break;
    if (!is_message(e)) continue;
    const char *sender = sim_jstr(json_object_get(e, "sender"), "participantId");
    int own = strcmp(sim_jstr(e, "route"), "agent-messaging") == 0 && sender && pid && strcmp(sender, pid) == 0;
    if (is_customer || own) json_array_append_new(out, details(conv, e));
  }
  return out;
}

json_t *sim_readback_find(sim_state *st, json_t *conv, const char *message_id) {
  json_t *t = json_object_get(st->transcripts, sim_jstr(conv, "id"));
  size_t i;
  json_t *e;
  json_array_foreach(t, i, e) {
    const char *id = sim_jstr(e, "id");
    if (id && strcmp(id, message_id) == 0) return is_message(e) ? e : NULL;
  }
  return NULL;
}

/* normalizedMessage: the text and, for a media message, its attachment. */
static json_t *normalized(const json_t *entry, const char *text, int inbound) {
  json_t *n = json_pack("{s:s, s:s, s:s}", "id", sim_jstr(entry, "id"), "type", "Text", "direction",
                        inbound ? "Inbound" : "Outbound");
  if (n == NULL) return NULL;
  if (*text) json_object_set_new(n, "text", json_string(text));
  json_t *media = json_object_get(entry, "media");
  if (json_array_size(media) > 0) {
    json_t *content = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(media, i, m) {
      const char *mime = sim_jstr(m, "mediaType");
      json_t *att = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "mediaType", sim_media_attachment_kind(mime ? mime : ""),
                              "id", sim_jstr(m, "id"), "url", sim_jstr(m, "url"), "mime", mime ? mime : "",
                              "filename", sim_jstr(m, "name"), "contentSizeBytes",
                              json_object_get(m, "contentLengthBytes"));
      json_array_append_new(content, json_pack("{s:s, s:o}", "contentType", "Attachment", "attachment", att));
    }
    json_object_set_new(n, "content", content);
  }
  return n;
}

json_t *sim_readback_message_data(sim_state *st, json_t *conv, const json_t *entry) {
  char uri[600];
  const char *cid = sim_jstr(conv, "id"), *mid = sim_jstr(entry, "id"), *platform = sim_jstr(conv, "platform");
  const char *text = sim_jstr(entry, "text");
  int inbound = strcmp(message_status(entry), "received") == 0;
  if (text == NULL) text = "";
  snprintf(uri, sizeof uri, "/api/v2/conversations/messages/%s/messages/%s", cid, mid);
  json_t *md = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", mid, "timestamp", sim_jstr(entry, "time"),
                         "direction", inbound ? "inbound" : "outbound", "textBody", text, "status",
                         message_status(entry), "conversationId", cid, "selfUri", uri);
  if (md == NULL) return NULL;
  if (valid_messenger_type(platform)) json_object_set_new(md, "messengerType", json_string(platform));
  /* the customer communication's addresses, as the send answered them */
  json_t *cust = sim_conv_customer(conv);
  json_t *comm = json_object_get(cust, "communication");
  const char *business = sim_jstr(comm, "toAddress");
  const char *customer = sim_jstr(comm, "fromAddress") ? sim_jstr(comm, "fromAddress") : sim_jstr(cust, "address");
  const char *from = inbound ? customer : business, *to = inbound ? business : customer;
  if (from) json_object_set_new(md, "fromAddress", json_string(from));
  if (to) json_object_set_new(md, "toAddress", json_string(to));
  json_t *media = json_object_get(entry, "media");
  if (json_array_size(media) > 0) json_object_set_new(md, "media", json_deep_copy(media));
  json_t *norm = normalized(entry, text, inbound);
  if (norm == NULL) {
    json_decref(md);
    return NULL;
  }
  json_object_set_new(md, "normalizedMessage", norm);
  const char *uid = sim_jstr(json_object_get(entry, "sender"), "userId");
  if (uid && !inbound) {
    json_t *user = sim_find_user(st, uid);
    char user_uri[300];
    snprintf(user_uri, sizeof user_uri, "/api/v2/users/%s", uid);
    json_t *by = json_pack("{s:s, s:i, s:s}", "id", uid, "version", 1, "selfUri", user_uri);
    const char *name = sim_jstr(user, "name");
    if (by && name) json_object_set_new(by, "name", json_string(name));
    if (by) json_object_set_new(md, "createdBy", by);
  }
  return md;
}

/* ---- the routes ---- */

/* The messaging conversation of the path's {conversationId}, or a 404 not.found. */
static json_t *messaging_conversation(sim_ctx *c) {
  const char *id = c->segs[4];
  json_t *conv = sim_find_conversation(c->st, id);
  if (conv == NULL) {
    sim_error(c, 404, "not.found", "The conversation %s was not found.", id);
    sim_error_param(c, "conversationId", id, "The conversation {conversationId} was not found.");
    return NULL;
  }
  if (!sim_conv_is_message(conv)) {
    sim_error(c, 404, "not.found", "The conversation %s is not a messaging conversation.", id);
    sim_error_param(c, "conversationId", id, "The conversation {conversationId} is not a messaging conversation.");
    return NULL;
  }
  return conv;
}

static int answer(sim_ctx *c, json_t *body) {
  if (body == NULL) return sim_error(c, 500, NULL, "out of memory");
  c->status = 200;
  c->resp = body;
  return 0;
}

/* GET /api/v2/conversations/messages/{conversationId}/messages/{messageId}. `useNormalizedMessage`
 * is ignored: the answer always carries both forms (as the sends' answers). */
int sim_get_conversation_message(sim_ctx *c) {
  json_t *conv = messaging_conversation(c);
  if (conv == NULL) return -1;
  const char *mid = c->segs[6];
  json_t *entry = sim_readback_find(c->st, conv, mid);
  if (entry == NULL) {
    sim_error(c, 404, "not.found", "The message %s was not found in conversation %s.", mid, sim_jstr(conv, "id"));
    sim_error_param(c, "messageId", mid, "The message {messageId} was not found.");
    return -1;
  }
  return answer(c, sim_readback_message_data(c->st, conv, entry));
}

static int bulk_body_error(sim_ctx *c, const char *field, const char *detail_code, const char *message) {
  sim_error(c, 400, strcmp(detail_code, "required") == 0 ? "bad.request" : "invalid.value", "%s", message);
  sim_error_detail(c, field, detail_code);
  return -1;
}

/* POST /api/v2/conversations/messages/{conversationId}/messages/bulk: the body is a JSON array of
 * message ids (at most 1000). The answer lists the messages found, once each, in the order asked;
 * ids that name no message of this conversation (unknown ids, typing indicators, another
 * conversation's messages) are left out. */
int sim_post_messages_bulk(sim_ctx *c) {
  if (c->body_malformed)
    return bulk_body_error(c, "messageIds", "invalid.value",
                           "The request could not be understood by the server due to malformed syntax: the body is not "
                           "valid JSON (give a JSON array of message ids).");
  if (c->body == NULL)
    return bulk_body_error(c, "messageIds", "required", "A request body is required: a JSON array of message ids.");
  if (!json_is_array(c->body))
    return bulk_body_error(c, "messageIds", "invalid.value", "The request body must be a JSON array of message ids.");
  size_t n = json_array_size(c->body);
  if (n > MAX_BULK_IDS) {
    char msg[160];
    snprintf(msg, sizeof msg, "The body holds %zu message ids; at most %d can be requested at once.", n, MAX_BULK_IDS);
    bulk_body_error(c, "messageIds", "invalid.value", msg);
    sim_error_param(c, "maxItems", "1000", "At most {maxItems} message ids can be requested at once.");
    return -1;
  }
  size_t i;
  json_t *id;
  json_array_foreach(c->body, i, id) {
    if (!json_is_string(id) || json_string_length(id) == 0) {
      char field[48], msg[160];
      snprintf(field, sizeof field, "messageIds[%zu]", i);
      snprintf(msg, sizeof msg, "%s must be a non-empty string (a message id).", field);
      return bulk_body_error(c, field, "invalid.value", msg);
    }
  }
  json_t *conv = messaging_conversation(c);
  if (conv == NULL) return -1;
  json_t *entities = json_array(), *seen = json_object();
  if (entities == NULL || seen == NULL) {
    json_decref(entities);
    json_decref(seen);
    return sim_error(c, 500, NULL, "out of memory");
  }
  json_array_foreach(c->body, i, id) {
    const char *mid = json_string_value(id);
    if (json_object_get(seen, mid)) continue;
    json_object_set_new(seen, mid, json_true());
    json_t *entry = sim_readback_find(c->st, conv, mid);
    if (entry) json_array_append_new(entities, sim_readback_message_data(c->st, conv, entry));
  }
  json_decref(seen);
  return answer(c, json_pack("{s:o}", "entities", entities));
}
