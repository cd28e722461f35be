#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "media.h"
#include "models.h"
#include "render.h"
#include "routes.h"
#include "scenario.h"

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

/* Text length in UTF-16 code units (a character above U+FFFF, such as most emoji, counts 2: never
 * fewer than code points, so gcsim is at least as strict as Genesys whichever unit it counts in)
 * against the platform's limit; `field` is textBody, or messagingTemplate for the rendered text of
 * a template. */
static int check_length(sim_ctx *c, const char *text, const char *platform, const char *field) {
  if (text == NULL) return 0;
  long n = sim_utf16_count(text), max = max_chars(platform);
  if (n <= max) return 0;
  char buf[32], mwp[160];
  snprintf(buf, sizeof buf, "%ld", max);
  snprintf(mwp, sizeof mwp, "%s is longer than {maxLength} characters (counted in UTF-16 code units).", field);
  sim_error(c, 400, "invalid.value",
            "%s%s is %ld characters long; %s messages allow at most %ld characters (counted in UTF-16 code units).",
            field, strcmp(field, "textBody") ? " (the rendered text)" : "", n, platform, max);
  sim_error_param(c, "maxLength", buf, mwp);
  sim_error_detail(c, field, "invalid.value");
  return -1;
}

static int blank(const char *s) {
  for (; *s; s++)
    if (!strchr(" \t\r\n\v\f", *s)) return 0;
  return 1;
}

/* Exactly one body kind: a non-empty textBody, non-empty mediaIds (one id), or a messagingTemplate.
 * The details name every field concerned: each kind given when several are, each possible kind
 * when none is. A textBody of only whitespace is empty. */
static int check_one_body_kind(sim_ctx *c, int allow_media) {
  const char *text = sim_jstr(c->body, "textBody");
  json_t *media = json_object_get(c->body, "mediaIds"), *tmpl = json_object_get(c->body, "messagingTemplate");
  int has_text = text && *text, has_media = allow_media && json_array_size(media) > 0,
      has_tmpl = tmpl && !json_is_null(tmpl);
  int kinds = has_text + has_media + has_tmpl;
  const char *names = allow_media ? "textBody, mediaIds or messagingTemplate" : "textBody or messagingTemplate";
  if (kinds == 1 && has_text && blank(text)) {
    sim_error(c, 400, "bad.request", "textBody holds only whitespace: the message would be empty. Give exactly one of %s.",
              names);
    sim_error_detail(c, "textBody", "required");
    return -1;
  }
  if (kinds == 1 && has_media && json_array_size(media) > 1) {
    sim_error(c, 400, "bad.request",
              "mediaIds holds %zu media ids; a message carries one media id: send each media as its own message.",
              json_array_size(media));
    sim_error_detail(c, "mediaIds", "invalid.value");
    return -1;
  }
  if (kinds == 1) return 0;
  if (kinds == 0) {
    sim_error(c, 400, "bad.request", "The message is empty: give exactly one of %s.", names);
    sim_error_detail(c, "textBody", "required");
    if (allow_media) sim_error_detail(c, "mediaIds", "required");
    sim_error_detail(c, "messagingTemplate", "required");
    return -1;
  }
  sim_error(c, 400, "bad.request",
            "Give exactly one body kind: %s cannot be combined in one message (send them as separate messages).", names);
  if (has_text) sim_error_detail(c, "textBody", "invalid.value");
  if (has_media) sim_error_detail(c, "mediaIds", "invalid.value");
  if (has_tmpl) sim_error_detail(c, "messagingTemplate", "invalid.value");
  return -1;
}

/* The media of mediaIds (at most one, see check_one_body_kind): it must exist, belong to this
 * conversation and communication, and show status valid. *out is NULL without mediaIds. */
static int check_media(sim_ctx *c, sim_media **out) {
  json_t *ids = json_object_get(c->body, "mediaIds");
  *out = NULL;
  if (json_array_size(ids) == 0) return 0;
  const char *id = json_string_value(json_array_get(ids, 0));
  const char *cid = c->segs[4], *comm = c->segs[6];
  sim_media *m = sim_media_find(c->st, id);
  if (m == NULL) {
    sim_error(c, 400, "bad.request",
              "mediaIds: there is no media %.100s. Upload the file with POST .../messages/media/uploads first and send "
              "the id it answers.",
              id);
    sim_error_param(c, "mediaId", id, "There is no media {mediaId}.");
    sim_error_detail_id(c, "mediaIds", "invalid.value", id);
    return -1;
  }
  if (strcmp(m->conv_id, cid) != 0 || strcmp(m->comm_id, comm) != 0) {
    sim_error(c, 400, "bad.request",
              "mediaIds: the media %s was uploaded to communication %.100s of conversation %.100s, not to this one: "
              "upload it again here.",
              m->id, m->comm_id, m->conv_id);
    sim_error_param(c, "mediaId", m->id, "The media {mediaId} belongs to another communication.");
    sim_error_detail_id(c, "mediaIds", "invalid.value", m->id);
    return -1;
  }
  sim_media_status visible = sim_media_visible(m);
  if (visible != SIM_MEDIA_VALID) {
    if (visible == SIM_MEDIA_UPLOADING)
      sim_error(c, 400, "bad.request",
                "mediaIds: the media %s is uploading, not valid: wait until GET .../messages/media/%s answers status "
                "valid.",
                m->id, m->id);
    else
      sim_error(c, 400, "bad.request", "mediaIds: the media %s is invalid (%s): it cannot be sent.", m->id, m->reason);
    sim_error_param(c, "mediaId", m->id, "The media {mediaId} is {status}.");
    sim_error_param(c, "status", sim_media_status_name(visible), "The media {mediaId} is {status}.");
    sim_error_detail_id(c, "mediaIds", "invalid.value", m->id);
    return -1;
  }
  *out = m;
  return 0;
}

/* ---- messaging templates (SendMessagingTemplateRequest) ---- */

static int is_placeholder_char(char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
         ch == '-';
}

/* Length of the placeholder id at s ("{{id}}"), or 0 when s does not start one. */
static size_t placeholder_at(const char *s, size_t *total) {
  if (s[0] != '{' || s[1] != '{') return 0;
  size_t n = 0;
  while (is_placeholder_char(s[2 + n])) n++;
  if (n == 0 || s[2 + n] != '}' || s[3 + n] != '}') return 0;
  *total = n + 4;
  return n;
}

/* The distinct placeholder ids of a template body, in order of first appearance. */
static json_t *placeholder_ids(const char *text) {
  json_t *ids = json_object(), *order = json_array();
  if (ids == NULL || order == NULL) goto oom;
  for (const char *p = text; *p;) {
    size_t total, n = placeholder_at(p, &total);
    if (n == 0) {
      p++;
      continue;
    }
    json_t *id = json_stringn(p + 2, n);
    if (id == NULL) goto oom;
    if (json_object_get(ids, json_string_value(id)) == NULL) {
      json_object_set_new(ids, json_string_value(id), json_true());
      json_array_append(order, id);
    }
    json_decref(id);
    p += total;
  }
  json_decref(ids);
  return order;
oom:
  json_decref(ids);
  json_decref(order);
  return NULL;
}

/* The template body with every {{id}} replaced by values[id] (one pass), malloc'd. */
static char *substitute(const char *text, const json_t *values) {
  char *out = NULL;
  size_t len = 0;
  for (int pass = 0; pass < 2; pass++) {
    size_t o = 0;
    for (const char *p = text; *p;) {
      size_t total, n = placeholder_at(p, &total);
      const char *val = NULL;
      if (n > 0) {
        char *id = strndup(p + 2, n);
        if (id == NULL) {
          free(out);
          return NULL;
        }
        val = json_string_value(json_object_get(values, id)); /* borrowed from values */
        free(id);
      }
      if (val == NULL) {
        if (out) out[o] = *p;
        o++;
        p++;
        continue;
      }
      size_t vl = strlen(val);
      if (out) memcpy(out + o, val, vl);
      o += vl;
      p += total;
    }
    if (pass == 0) {
      len = o;
      out = malloc(len + 1);
      if (out == NULL) return NULL;
    }
  }
  out[len] = '\0';
  return out;
}

static int template_error(sim_ctx *c, const char *field, const char *detail_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int template_error(sim_ctx *c, const char *field, const char *detail_code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sim_error(c, 400, "bad.request", "%s", msg);
  sim_error_detail(c, field, detail_code);
  return -1;
}

/* Appends ", id" to a list buffer. */
static void list_add(char *buf, size_t len, const char *id) {
  size_t used = strlen(buf);
  if (used < len) snprintf(buf + used, len - used, "%s%s", used ? ", " : "", id);
}

/* Checks a template send against its response and the channel, and renders the text the customer
 * receives. On success *rendered (malloc'd) and *record (the transcript's messagingTemplate) are
 * set. `channel` is the conversation's platform (agent route) or toAddressMessengerType. */
static int resolve_template(sim_ctx *c, const json_t *tmpl, const char *channel, char **rendered, json_t **record) {
  const char *rid = sim_jstr(tmpl, "responseId");
  *rendered = NULL;
  *record = NULL;
  if (rid == NULL || *rid == '\0')
    return template_error(c, "messagingTemplate.responseId", "required",
                          "messagingTemplate.responseId is required: the id of a Response Management response of "
                          "responseType MessagingTemplate.");
  json_t *resp = sim_find_response(c->st, rid);
  if (resp == NULL)
    return template_error(c, "messagingTemplate.responseId", "invalid.value",
                          "messagingTemplate.responseId %.100s: no such response in Response Management.", rid);
  const char *rtype = sim_jstr(resp, "responseType");
  json_t *wa = json_object_get(json_object_get(resp, "messagingTemplate"), "whatsApp");
  if (rtype == NULL || strcmp(rtype, "MessagingTemplate") != 0 || wa == NULL)
    return template_error(c, "messagingTemplate.responseId", "invalid.value",
                          "messagingTemplate.responseId %.100s: the response '%.200s' is not a messaging template "
                          "(responseType %s); send its text as textBody instead.",
                          rid, sim_jstr(resp, "name"), rtype ? rtype : "none");
  if (channel == NULL || strcmp(channel, "whatsapp") != 0)
    return template_error(c, "messagingTemplate", "invalid.value",
                          "Messaging templates can only be sent to WhatsApp; this message goes to %s. Send the text as "
                          "textBody instead.",
                          channel ? channel : "an unknown channel");
  json_t *body_params = json_object_get(tmpl, "bodyParameters"), *old_params = json_object_get(tmpl, "parameters");
  const char *pfield = "messagingTemplate.bodyParameters";
  if (json_is_null(body_params)) body_params = NULL;
  if (json_is_null(old_params)) old_params = NULL;
  if (body_params && old_params)
    return template_error(c, "messagingTemplate.parameters", "invalid.value",
                          "Give the body parameters once: bodyParameters, or the deprecated parameters, not both.");
  if (old_params) {
    body_params = old_params;
    pfield = "messagingTemplate.parameters";
  }
  json_t *values = json_object(), *given = json_array();
  if (values == NULL || given == NULL) goto oom;
  size_t i;
  json_t *p;
  char field[96];
  json_array_foreach(body_params, i, p) {
    const char *id = sim_jstr(p, "id"), *value = sim_jstr(p, "value");
    if (id == NULL || *id == '\0') {
      snprintf(field, sizeof field, "%s[%zu].id", pfield, i);
      template_error(c, field, "required", "%s is required: the substitution id of the template body parameter.", field);
      goto fail;
    }
    if (value == NULL || *value == '\0') {
      snprintf(field, sizeof field, "%s[%zu].value", pfield, i);
      template_error(c, field, "required",
                     "%s is required and must not be empty (WhatsApp refuses empty template parameters).", field);
      goto fail;
    }
    if (json_object_get(values, id)) {
      snprintf(field, sizeof field, "%s[%zu].id", pfield, i);
      template_error(c, field, "invalid.value", "The body parameter '%.100s' is given twice.", id);
      goto fail;
    }
    json_object_set_new(values, id, json_string(value));
    json_array_append_new(given, json_pack("{s:s, s:s}", "id", id, "value", value));
  }
  const char *body = sim_response_body_text(resp);
  json_t *ids = placeholder_ids(body ? body : "");
  if (ids == NULL) goto oom;
  char missing[512] = "", unknown[512] = "";
  json_t *id;
  json_array_foreach(ids, i, id) {
    if (json_object_get(values, json_string_value(id)) == NULL) list_add(missing, sizeof missing, json_string_value(id));
  }
  const char *key;
  json_object_foreach(values, key, p) {
    int known = 0;
    json_array_foreach(ids, i, id) known |= strcmp(json_string_value(id), key) == 0;
    if (!known) list_add(unknown, sizeof unknown, key);
  }
  if (*missing || *unknown) {
    sim_error(c, 400, "bad.request",
              "The messaging template %s (response %s) cannot be sent: %s%s%s%s%s. Give one body parameter per "
              "{{id}} of its body text.",
              sim_jstr(wa, "name"), rid, *missing ? "missing body parameters: " : "", missing,
              *missing && *unknown ? "; " : "", *unknown ? "unknown body parameters: " : "", unknown);
    if (*missing) sim_error_param(c, "missing", missing, NULL);
    if (*unknown) sim_error_param(c, "unknown", unknown, NULL);
    json_array_foreach(ids, i, id) {
      if (json_object_get(values, json_string_value(id)) == NULL)
        sim_error_detail_entity(c, pfield, "required", json_string_value(id));
    }
    json_object_foreach(values, key, p) {
      int known = 0;
      json_array_foreach(ids, i, id) known |= strcmp(json_string_value(id), key) == 0;
      if (!known) sim_error_detail_entity(c, pfield, "invalid.value", key);
    }
    json_decref(ids);
    goto fail;
  }
  json_decref(ids);
  *rendered = substitute(body ? body : "", values);
  *record = json_pack("{s:s, s:s, s:s, s:o}", "responseId", rid, "name", sim_jstr(wa, "name"), "language",
                      sim_jstr(wa, "language"), "bodyParameters", given);
  given = NULL;
  if (*rendered == NULL || *record == NULL) goto oom;
  static const char *const extra[] = {"headerParameters", "buttonUrlParameters", NULL};
  for (i = 0; extra[i]; i++) {
    json_t *x = json_object_get(tmpl, extra[i]);
    if (json_is_array(x)) json_object_set(*record, extra[i], x);
  }
  json_decref(values);
  return 0;
oom:
  sim_error(c, 500, NULL, "out of memory");
fail:
  json_decref(values);
  json_decref(given);
  free(*rendered);
  json_decref(*record);
  *rendered = NULL;
  *record = NULL;
  return -1;
}

/* normalizedMessage of an outbound message: its text and, for a media message, the attachment. */
static json_t *normalized_message(sim_ctx *c, const char *msg_id, const char *text, const sim_media *m) {
  json_t *n = json_pack("{s:s, s:s, s:s}", "id", msg_id, "type", "Text", "direction", "Outbound");
  if (n == NULL) return NULL;
  if (text && *text) json_object_set_new(n, "text", json_string(text));
  if (m) {
    char *url = sim_media_url(c->st, m);
    json_t *att = url ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "mediaType", sim_media_attachment_kind(m->media_type),
                                  "id", m->id, "url", url, "mime", m->media_type, "filename", m->name,
                                  "contentSizeBytes", (json_int_t)m->len)
                      : NULL;
    free(url);
    if (att == NULL) {
      json_decref(n);
      return NULL;
    }
    json_object_set_new(n, "content", json_pack("[{s:s, s:o}]", "contentType", "Attachment", "attachment", att));
  }
  return n;
}

/* MessageData for an outbound message into conv (with its media when m is not NULL). */
static json_t *message_data(sim_ctx *c, json_t *conv, const char *msg_id, const char *text, const char *now,
                            const sim_media *m) {
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
  if (m) json_object_set_new(md, "media", json_pack("[o]", sim_media_message_media(c, m)));
  json_t *norm = normalized_message(c, msg_id, text, m);
  if (norm == NULL || (m && json_object_get(md, "media") == NULL)) {
    json_decref(norm);
    json_decref(md);
    return NULL;
  }
  json_object_set_new(md, "normalizedMessage", norm);
  return md;
}

int sim_post_message(sim_ctx *c) {
  json_t *conv, *part;
  sim_media *m;
  if (sim_require_user(c) || sim_validate_body(c, &SIM_MODEL_ADDITIONAL_MESSAGE) || check_one_body_kind(c, 1) ||
      sim_resolve_agent_comm(c, &SIM_AGENT_MESSAGING, &conv, &part) || check_media(c, &m))
    return -1;
  const char *text = sim_jstr(c->body, "textBody"), *platform = sim_jstr(conv, "platform");
  json_t *tmpl = json_object_get(c->body, "messagingTemplate"), *record = NULL;
  char *rendered = NULL;
  if (json_is_object(tmpl)) {
    if (resolve_template(c, tmpl, platform, &rendered, &record)) return -1;
    text = rendered;
  }
  if (check_length(c, text, platform, rendered ? "messagingTemplate" : "textBody")) {
    free(rendered);
    json_decref(record);
    return -1;
  }
  char id[40], now[40];
  sim_new_uuid(c->st, id, sizeof id);
  sim_now_iso(c->st, now, sizeof now);
  json_t *md = message_data(c, conv, id, text, now, m);
  json_t *entry = sim_entry_new(c, id, "outbound", "agent-messaging", 0);
  json_t *entry_media = m ? json_pack("[o]", sim_media_message_media(c, m)) : NULL;
  if (md == NULL || entry == NULL || (m && entry_media == NULL)) {
    json_decref(entry_media);
    json_decref(md);
    json_decref(entry);
    free(rendered);
    json_decref(record);
    return sim_error(c, 500, NULL, "out of memory");
  }
  json_object_set_new(entry, "time", json_string(now));
  sim_entry_sender_participant(c, entry, part);
  if (text && *text) json_object_set_new(entry, "text", json_string(text));
  if (entry_media) json_object_set_new(entry, "media", entry_media);
  if (record) json_object_set_new(entry, "messagingTemplate", record);
  free(rendered);
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

/* The first connected conversation (in org order) of that platform whose customer communication
 * has fromAddress (or, without one, the participant's address) = the body's toAddress and
 * toAddress = the body's fromAddress: an index lookup (state.h), not a scan of the org. */
static json_t *find_active(sim_ctx *c, const char *from, const char *to, const char *type) {
  size_t i;
  json_t *conv;
  json_array_foreach(sim_find_agentless_conversations(c->st, type, to, from), i, conv) {
    if (sim_conv_is_connected(conv)) return conv;
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
  json_t *tmpl = json_object_get(c->body, "messagingTemplate"), *record = NULL;
  char *rendered = NULL;
  if (strcmp(type, "whatsapp") == 0 && !json_is_object(tmpl)) {
    sim_error(c, 400, "bad.request",
              "Agentless WhatsApp messages must use a messaging template: give messagingTemplate (the responseId of a "
              "MessagingTemplate response and its bodyParameters) instead of textBody.");
    sim_error_detail(c, "messagingTemplate", "required");
    return -1;
  }
  if (json_is_object(tmpl)) {
    if (resolve_template(c, tmpl, type, &rendered, &record)) return -1;
    text = rendered;
  }
  if (check_length(c, text, type, rendered ? "messagingTemplate" : "textBody")) {
    free(rendered);
    json_decref(record);
    return -1;
  }
  json_t *conv = use_existing ? find_active(c, from, to, type) : NULL;
  if (conv == NULL) conv = new_outbound(c, from, to, type);
  if (conv == NULL) {
    free(rendered);
    json_decref(record);
    return sim_error(c, 503, "service.unavailable", "gcsim holds too many conversations.");
  }
  char id[40], now[40], uri[256];
  sim_new_uuid(c->st, id, sizeof id);
  sim_now_iso(c->st, now, sizeof now);
  json_t *md = message_data(c, conv, id, text, now, NULL);
  snprintf(uri, sizeof uri, "/api/v2/conversations/messages/agentless/%s", id);
  json_t *resp = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:s}", "id", id, "conversationId",
                           sim_jstr(conv, "id"), "fromAddress", from, "toAddress", to, "messengerType", type,
                           "useExistingActiveConversation", use_existing, "timestamp", now, "message", md, "selfUri", uri);
  json_t *entry = sim_entry_new(c, id, "outbound", "agentless", 0);
  if (resp == NULL || entry == NULL) {
    json_decref(resp);
    json_decref(entry);
    free(rendered);
    json_decref(record);
    return sim_error(c, 500, NULL, "out of memory");
  }
  if (text && *text) {
    json_object_set_new(resp, "textBody", json_string(text));
    json_object_set_new(entry, "text", json_string(text));
  }
  if (record) {
    json_object_set_new(resp, "messagingTemplate", sim_model_copy(&SIM_MODEL_SEND_MESSAGING_TEMPLATE, tmpl, 0));
    json_object_set_new(entry, "messagingTemplate", record);
  }
  free(rendered);
  json_object_set_new(entry, "time", json_string(now));
  json_t *sender = json_object_get(entry, "sender");
  json_object_set_new(sender, "clientId", json_string(c->tok->principal));
  json_object_set_new(sender, "name", json_string(sim_caller_name(c)));
  sim_transcript_append(c->st, sim_jstr(conv, "id"), entry);
  c->status = 200;
  c->resp = resp;
  return 0;
}
