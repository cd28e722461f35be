/*
 * gcmsg/route.h - which endpoint a message to a conversation must take, or
 * why there is none. The rules and their stable ids are the route table of
 * docs/internals/design.md.
 */
#ifndef GCMSG_ROUTE_H
#define GCMSG_ROUTE_H

#include "common.h"
#include "client.h"
#include "conversation.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gcmsg_route gcmsg_route;

typedef enum gcmsg_route_type {
	GCMSG_ROUTE_NONE = 0,         /**< refused: see rule, explanation, fix */
	GCMSG_ROUTE_AGENT_MESSAGING,  /**< POST .../messages/{cid}/communications/{comm}/messages */
	GCMSG_ROUTE_AGENTLESS,        /**< POST /api/v2/conversations/messages/agentless */
	GCMSG_ROUTE_LEGACY_CHAT       /**< POST .../chats/{cid}/communications/{comm}/messages */
} gcmsg_route_type;

/**
 * Read the caller's identity and the conversation, then decide. A refusal is
 * not a failure: it returns GCMSG_OK with kind GCMSG_ROUTE_NONE. Failures are
 * those of reading (GCMSG_EAUTH, GCMSG_ENOTFOUND, GCMSG_EREMOTE, ...).
 * The route borrows the client's identity: free the route before the client.
 */
GCMSG_EXTERN(int) gcmsg_route_resolve(gcmsg_route **out, gcmsg_client *client,
                                      const char *conversation_id);
GCMSG_EXTERN(void) gcmsg_route_free(gcmsg_route *route);

GCMSG_EXTERN(gcmsg_route_type) gcmsg_route_kind(const gcmsg_route *route);
/** "agent-messaging", "agentless", "legacy-chat" or "none". */
GCMSG_EXTERN(const char *) gcmsg_route_type_name(gcmsg_route_type kind);
/** Stable rule id, e.g. "messaging.agent", "conversation.ended". */
GCMSG_EXTERN(const char *) gcmsg_route_rule(const gcmsg_route *route);
/** One sentence explaining the decision, naming the ids involved. */
GCMSG_EXTERN(const char *) gcmsg_route_explanation(const gcmsg_route *route);
/** What would make a send possible (refusals), or NULL. */
GCMSG_EXTERN(const char *) gcmsg_route_fix(const gcmsg_route *route);
/**
 * The code gcmsg_send returns for this route when it is a refusal:
 * GCMSG_EROUTE, or GCMSG_EPERM for permission.missing; GCMSG_OK otherwise.
 */
GCMSG_EXTERN(int) gcmsg_route_refusal_code(const gcmsg_route *route);

/** Warnings: an id (e.g. "chat.retired") and its sentence. */
GCMSG_EXTERN(size_t) gcmsg_route_warning_count(const gcmsg_route *route);
GCMSG_EXTERN(const char *) gcmsg_route_warning_id(const gcmsg_route *route, size_t i);
GCMSG_EXTERN(const char *) gcmsg_route_warning_text(const gcmsg_route *route, size_t i);

GCMSG_EXTERN(const char *) gcmsg_route_conversation_id(const gcmsg_route *route);
/** The sending communication (agent messaging, legacy chat), else NULL. */
GCMSG_EXTERN(const char *) gcmsg_route_communication_id(const gcmsg_route *route);
/** "POST" for a route, NULL for a refusal. */
GCMSG_EXTERN(const char *) gcmsg_route_method(const gcmsg_route *route);
/** The request path (no host, no query), NULL for a refusal. */
GCMSG_EXTERN(const char *) gcmsg_route_path(const gcmsg_route *route);
/** Agentless only: fromAddress, toAddress and toAddressMessengerType. */
GCMSG_EXTERN(const char *) gcmsg_route_from_address(const gcmsg_route *route);
GCMSG_EXTERN(const char *) gcmsg_route_to_address(const gcmsg_route *route);
GCMSG_EXTERN(const char *) gcmsg_route_messenger_type(const gcmsg_route *route);

/**
 * What the content policy checks against: the channel ("chat" for a legacy web
 * chat, else the messaging platform: "sms", "webmessaging", ...; NULL when
 * unknown) and the queue (the last ACD participant's queueId, or NULL).
 */
GCMSG_EXTERN(const char *) gcmsg_route_channel(const gcmsg_route *route);
GCMSG_EXTERN(const char *) gcmsg_route_queue_id(const gcmsg_route *route);

/** permission.missing: "ANY" or "ALL", and the permissions of the route. */
GCMSG_EXTERN(const char *) gcmsg_route_permission_mode(const gcmsg_route *route);
GCMSG_EXTERN(size_t) gcmsg_route_missing_permission_count(const gcmsg_route *route);
GCMSG_EXTERN(const char *) gcmsg_route_missing_permission(const gcmsg_route *route, size_t i);

/** The conversation and identity the decision was made from (borrowed). */
GCMSG_EXTERN(const gcmsg_conversation *) gcmsg_route_conversation(const gcmsg_route *route);
GCMSG_EXTERN(const gcmsg_identity *) gcmsg_route_identity(const gcmsg_route *route);

#ifdef __cplusplus
}
#endif

#endif
