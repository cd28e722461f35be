/* Reading messages back from a messaging conversation's transcript, as Genesys shows them: the
 * MessageDetails of each participant in GET /api/v2/conversations/messages/{id}, and MessageData
 * by id (getConversationsMessageMessage, postConversationsMessageMessagesBulk). The handlers are
 * in routes_readback.c; the contract is in docs/gcsim-scenarios.md ("Reading messages back"). */
#ifndef GCSIM_READBACK_H
#define GCSIM_READBACK_H

#include <jansson.h>

#include "state.h"

/* The MessageDetails array of one participant of a messaging conversation: the messages an agent
 * participant sent, and, for the customer participant, every message of the conversation. */
json_t *sim_readback_details(sim_state *st, json_t *conv, json_t *part);

/* The transcript entry of a message (not a typing indicator) of that conversation, or NULL. */
json_t *sim_readback_find(sim_state *st, json_t *conv, const char *message_id);

/* MessageData of a transcript entry of conv. NULL on OOM. */
json_t *sim_readback_message_data(sim_state *st, json_t *conv, const json_t *entry);

#endif
