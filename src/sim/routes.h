/* The Genesys operations gcsim serves (/api/v2/) and helpers they share. Every handler runs with
 * the state lock held, after authentication, rate limiting and the permission check. */
#ifndef GCSIM_ROUTES_H
#define GCSIM_ROUTES_H

#include "auth.h"
#include "context.h"

typedef int (*sim_handler)(sim_ctx *c);

typedef struct sim_route {
  const char *method;
  const char *pattern; /* '*' stands for one path segment (a path parameter) */
  const char *operation;
  sim_perm_mode perm_mode;
  const char *const *perms;
  sim_handler handler;
} sim_route;

/* The /api/v2/ route table (terminated by a NULL method). */
extern const sim_route SIM_API_ROUTES[];

/* 1 when the query string carries name=value (also inside a comma-separated value). */
int sim_query_has(const char *query, const char *name, const char *value);

/* The percent-decoded value of the first name=value in the query string ('+' is a space), malloc'd;
 * NULL when absent, or with *malformed set when it cannot be decoded (or on OOM). */
char *sim_query_get(const char *query, const char *name, int *malformed);

/* agent_comm.c: what differs between the messaging and the legacy-chat agent endpoints. */
typedef struct sim_agent_media {
  int messaging;           /* 1: serves messaging conversations; 0: chat conversations */
  const char *label;       /* "messaging" or "chat", for messages */
  const char *noun;        /* what can no longer be sent into an ended conversation */
  const char *state_code;  /* ErrorBody code: the conversation is disconnected */
  const char *member_code; /* ErrorBody code: not the caller's communication, or not connected */
} sim_agent_media;
extern const sim_agent_media SIM_AGENT_MESSAGING, SIM_AGENT_CHAT;

/* Finds the caller's own connected agent communication named by the path
 * (.../{conversationId}/communications/{communicationId}/...), or sets the Genesys error. */
int sim_resolve_agent_comm(sim_ctx *c, const sim_agent_media *m, json_t **conv_out, json_t **part_out);
/* The same for reading (GET of media): an ended conversation or a disconnected agent is fine. */
int sim_resolve_agent_comm_read(sim_ctx *c, const sim_agent_media *m, json_t **conv_out, json_t **part_out);

/* routes_identity.c */
int sim_get_tokens_me(sim_ctx *c);
int sim_delete_tokens_me(sim_ctx *c);
int sim_head_tokens_me(sim_ctx *c);
int sim_get_users_me(sim_ctx *c);
/* routes_conversations.c */
int sim_get_conversation(sim_ctx *c);
int sim_get_message_conversation(sim_ctx *c);
int sim_get_chat_conversation(sim_ctx *c);
/* routes_readback.c: reading messages back (MessageData by id, and in bulk) */
int sim_get_conversation_message(sim_ctx *c);
int sim_post_messages_bulk(sim_ctx *c);
/* routes_send.c */
int sim_post_message(sim_ctx *c);
int sim_post_message_typing(sim_ctx *c);
int sim_post_agentless(sim_ctx *c);
/* routes_media.c (message media; the upload receiver and admin views are outside /api/v2) */
int sim_post_media_upload(sim_ctx *c);
int sim_get_media(sim_ctx *c);
int sim_get_media_listing(sim_ctx *c);
/* PUT {base}/uploads/{mediaId}?signature=…: the presigned upload URL. */
int sim_upload_receive(sim_ctx *c);
/* GET {base}/media/{mediaId}/{name}: the bytes of a valid media (MessageMediaData.url). */
int sim_media_fetch(sim_ctx *c);
/* Admin: GET /sim/v1/media, /sim/v1/media/{id} (bytes), /sim/v1/media/{id}/info. */
int sim_admin_media(sim_ctx *c);
/* The MessageMedia / transcript view of a media {id, name, mediaType, contentLengthBytes, url}. */
struct sim_media;
json_t *sim_media_message_media(sim_ctx *c, const struct sim_media *m);
/* routes_responses.c (Response Management) */
int sim_get_libraries(sim_ctx *c);
int sim_get_library(sim_ctx *c);
int sim_post_library(sim_ctx *c);
int sim_get_responses(sim_ctx *c);
int sim_get_response(sim_ctx *c);
int sim_post_response(sim_ctx *c);
int sim_post_responses_query(sim_ctx *c);
/* routes_chat.c */
int sim_post_chat(sim_ctx *c);
int sim_post_chat_message(sim_ctx *c);
int sim_post_chat_typing(sim_ctx *c);

/* A transcript entry skeleton {id, time, direction, route, sender:{}, typing}; NULL on OOM. */
json_t *sim_entry_new(sim_ctx *c, const char *id, const char *direction, const char *route, int typing);
/* Fills entry.sender from a participant (participantId, communicationId, userId, name, purpose). */
void sim_entry_sender_participant(sim_ctx *c, json_t *entry, json_t *part);

#endif
