#include <stdlib.h>
#include <string.h>

#include "routes.h"

static const char *const PERM_CONV_VIEW[] = {"conversation:communication:view", NULL};
static const char *const PERM_MESSAGE_CREATE_ANY[] = {"conversation:message:create", "conversation:webmessaging:create",
                                                      NULL};
static const char *const PERM_MESSAGE_CREATE[] = {"conversation:message:create", NULL};
static const char *const PERM_MEDIA_CREATE_ANY[] = {"conversation:message:create", "conversation:webmessaging:create",
                                                    "conversation:socialmedia:create", NULL};
/* ANY of these: reading a message (getConversationsMessageMessage, the bulk read) or a media */
static const char *const PERM_MEDIA_VIEW_ANY[] = {"conversation:message:view", "conversation:webmessaging:view", NULL};
static const char *const PERM_MESSAGE_MEDIA_VIEW[] = {"conversation:messageMedia:view", NULL};
static const char *const PERM_WEBCHAT_CREATE[] = {"conversation:webchat:create", NULL};
static const char *const PERM_LIBRARY_VIEW[] = {"responses:library:view", NULL};
static const char *const PERM_LIBRARY_ADD[] = {"responses:library:add", NULL};
static const char *const PERM_RESPONSE_VIEW[] = {"responses:response:view", NULL};
static const char *const PERM_RESPONSE_ADD[] = {"responses:response:add", NULL};

/* Permissions as the definition's x-inin-requires-permissions lists them. */
const sim_route SIM_API_ROUTES[] = {
    {"GET", "/api/v2/tokens/me", "getTokensMe", SIM_PERM_NONE, NULL, sim_get_tokens_me},
    {"HEAD", "/api/v2/tokens/me", "headTokensMe", SIM_PERM_NONE, NULL, sim_head_tokens_me},
    {"DELETE", "/api/v2/tokens/me", "deleteTokensMe", SIM_PERM_NONE, NULL, sim_delete_tokens_me},
    {"GET", "/api/v2/users/me", "getUsersMe", SIM_PERM_NONE, NULL, sim_get_users_me},
    {"GET", "/api/v2/conversations/*", "getConversation", SIM_PERM_ANY, PERM_CONV_VIEW, sim_get_conversation},
    {"GET", "/api/v2/conversations/messages/*", "getConversationsMessage", SIM_PERM_NONE, NULL,
     sim_get_message_conversation},
    {"GET", "/api/v2/conversations/messages/*/messages/*", "getConversationsMessageMessage", SIM_PERM_ANY,
     PERM_MEDIA_VIEW_ANY, sim_get_conversation_message},
    {"POST", "/api/v2/conversations/messages/*/messages/bulk", "postConversationsMessageMessagesBulk", SIM_PERM_ANY,
     PERM_MEDIA_VIEW_ANY, sim_post_messages_bulk},
    {"GET", "/api/v2/conversations/chats/*", "getConversationsChat", SIM_PERM_NONE, NULL, sim_get_chat_conversation},
    {"POST", "/api/v2/conversations/messages/agentless", "postConversationsMessagesAgentless", SIM_PERM_ALL,
     PERM_MESSAGE_CREATE, sim_post_agentless},
    {"POST", "/api/v2/conversations/messages/*/communications/*/messages", "postConversationsMessageCommunicationMessages",
     SIM_PERM_ANY, PERM_MESSAGE_CREATE_ANY, sim_post_message},
    {"POST", "/api/v2/conversations/messages/*/communications/*/messages/media/uploads",
     "postConversationsMessageCommunicationMessagesMediaUploads", SIM_PERM_ANY, PERM_MEDIA_CREATE_ANY,
     sim_post_media_upload},
    {"GET", "/api/v2/conversations/messages/*/communications/*/messages/media/*",
     "getConversationsMessageCommunicationMessagesMediaMediaId", SIM_PERM_ANY, PERM_MEDIA_VIEW_ANY, sim_get_media},
    {"GET", "/api/v2/conversations/messages/*/communications/*/messages/media",
     "getConversationsMessageCommunicationMessagesMedia", SIM_PERM_ANY, PERM_MESSAGE_MEDIA_VIEW, sim_get_media_listing},
    {"POST", "/api/v2/conversations/messages/*/communications/*/typing", "postConversationsMessageCommunicationTyping",
     SIM_PERM_ANY, PERM_MESSAGE_CREATE_ANY, sim_post_message_typing},
    {"POST", "/api/v2/conversations/chats", "postConversationsChats", SIM_PERM_ALL, PERM_WEBCHAT_CREATE, sim_post_chat},
    {"POST", "/api/v2/conversations/chats/*/communications/*/messages", "postConversationsChatCommunicationMessages",
     SIM_PERM_NONE, NULL, sim_post_chat_message},
    {"POST", "/api/v2/conversations/chats/*/communications/*/typing", "postConversationsChatCommunicationTyping",
     SIM_PERM_NONE, NULL, sim_post_chat_typing},
    {"GET", "/api/v2/responsemanagement/libraries", "getResponsemanagementLibraries", SIM_PERM_ANY, PERM_LIBRARY_VIEW,
     sim_get_libraries},
    {"POST", "/api/v2/responsemanagement/libraries", "postResponsemanagementLibraries", SIM_PERM_ANY, PERM_LIBRARY_ADD,
     sim_post_library},
    {"GET", "/api/v2/responsemanagement/libraries/*", "getResponsemanagementLibrary", SIM_PERM_ANY, PERM_LIBRARY_VIEW,
     sim_get_library},
    {"GET", "/api/v2/responsemanagement/responses", "getResponsemanagementResponses", SIM_PERM_ANY, PERM_RESPONSE_VIEW,
     sim_get_responses},
    {"POST", "/api/v2/responsemanagement/responses", "postResponsemanagementResponses", SIM_PERM_ANY, PERM_RESPONSE_ADD,
     sim_post_response},
    {"POST", "/api/v2/responsemanagement/responses/query", "postResponsemanagementResponsesQuery", SIM_PERM_ANY,
     PERM_RESPONSE_VIEW, sim_post_responses_query},
    {"GET", "/api/v2/responsemanagement/responses/*", "getResponsemanagementResponse", SIM_PERM_ANY, PERM_RESPONSE_VIEW,
     sim_get_response},
    {NULL, NULL, NULL, SIM_PERM_NONE, NULL, NULL},
};

int sim_query_has(const char *query, const char *name, const char *value) {
  size_t nlen = strlen(name), vlen = strlen(value);
  const char *p = query;
  while (p && *p) {
    const char *end = strchr(p, '&');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
      /* values here are plain words; %2C is the encoded comma */
      const char *v = p + nlen + 1, *vend = p + len;
      while (v < vend) {
        const char *comma = v;
        while (comma < vend && *comma != ',' && strncmp(comma, "%2C", 3) != 0 && strncmp(comma, "%2c", 3) != 0) comma++;
        if ((size_t)(comma - v) == vlen && strncmp(v, value, vlen) == 0) return 1;
        v = comma < vend ? comma + (*comma == ',' ? 1 : 3) : vend;
      }
    }
    p = end ? end + 1 : NULL;
  }
  return 0;
}

char *sim_query_get(const char *query, const char *name, int *malformed) {
  size_t nlen = strlen(name);
  const char *p = query;
  *malformed = 0;
  while (p && *p) {
    const char *end = strchr(p, '&');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    size_t klen = eq ? (size_t)(eq - p) : len;
    char *key = sim_url_decode(p, klen, 1);
    int match = key && strlen(key) == nlen && strcmp(key, name) == 0;
    free(key);
    if (match) {
      char *v = eq ? sim_url_decode(eq + 1, len - klen - 1, 1) : strdup("");
      if (v == NULL) *malformed = 1;
      return v;
    }
    p = end ? end + 1 : NULL;
  }
  return NULL;
}

json_t *sim_entry_new(sim_ctx *c, const char *id, const char *direction, const char *route, int typing) {
  char now[40];
  sim_now_iso(c->st, now, sizeof now);
  return json_pack("{s:s, s:s, s:s, s:s, s:{}, s:b}", "id", id, "time", now, "direction", direction, "route", route,
                   "sender", "typing", typing);
}

void sim_entry_sender_participant(sim_ctx *c, json_t *entry, json_t *part) {
  json_t *sender = json_object_get(entry, "sender");
  if (sender == NULL || part == NULL) return;
  const char *uid = sim_jstr(part, "userId"), *name = sim_jstr(part, "name");
  json_object_set_new(sender, "participantId", json_string(sim_jstr(part, "id")));
  json_object_set_new(sender, "communicationId", json_string(sim_jstr(json_object_get(part, "communication"), "id")));
  if (uid) {
    json_object_set_new(sender, "userId", json_string(uid));
    if (name == NULL) name = sim_jstr(sim_find_user(c->st, uid), "name");
  }
  if (name) json_object_set_new(sender, "name", json_string(name));
  json_object_set_new(sender, "purpose", json_string(sim_jstr(part, "purpose")));
}
