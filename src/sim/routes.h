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

/* routes_identity.c */
int sim_get_tokens_me(sim_ctx *c);
int sim_get_users_me(sim_ctx *c);
/* routes_conversations.c */
int sim_get_conversation(sim_ctx *c);
int sim_get_message_conversation(sim_ctx *c);
int sim_get_chat_conversation(sim_ctx *c);
/* routes_send.c */
int sim_post_message(sim_ctx *c);
int sim_post_message_typing(sim_ctx *c);
int sim_post_agentless(sim_ctx *c);
/* routes_chat.c */
int sim_post_chat(sim_ctx *c);
int sim_post_chat_message(sim_ctx *c);
int sim_post_chat_typing(sim_ctx *c);

/* A transcript entry skeleton {id, time, direction, route, sender:{}, typing}; NULL on OOM. */
json_t *sim_entry_new(sim_ctx *c, const char *id, const char *direction, const char *route, int typing);
/* Fills entry.sender from a participant (participantId, communicationId, userId, name, purpose). */
void sim_entry_sender_participant(sim_ctx *c, json_t *entry, json_t *part);

#endif
