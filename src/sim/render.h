/* A normalized scenario conversation rendered as the Genesys models Conversation,
 * MessageConversation and ChatConversation (only properties those models define). */
#ifndef GCSIM_RENDER_H
#define GCSIM_RENDER_H

#include <jansson.h>

#include "state.h"

json_t *sim_render_conversation(sim_state *st, json_t *conv);
json_t *sim_render_message_conversation(sim_state *st, json_t *conv);
json_t *sim_render_chat_conversation(sim_state *st, json_t *conv);

/* Conversation helpers (borrowed results). */
int sim_conv_is_message(const json_t *conv);
int sim_conv_is_connected(const json_t *conv);
int sim_part_is_connected(const json_t *part);
/* The customer participant (purpose customer, else external), or NULL. */
json_t *sim_conv_customer(json_t *conv);
/* The last connected agent participant (of user_id when not NULL), or NULL. */
json_t *sim_conv_connected_agent(json_t *conv, const char *user_id);
const char *sim_part_comm_id(const json_t *part);

#endif
