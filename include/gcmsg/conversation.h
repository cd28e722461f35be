/*
 * gcmsg/conversation.h - a conversation as read from Genesys Cloud
 * (GET /api/v2/conversations/{id}, plus GET /api/v2/conversations/chats/{id}
 * for a chat's provider), with participant accessors.
 */
#ifndef GCMSG_CONVERSATION_H
#define GCMSG_CONVERSATION_H

#include "common.h"
#include "client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gcmsg_conversation gcmsg_conversation;
typedef struct gcmsg_participant gcmsg_participant;

typedef enum gcmsg_media {
	GCMSG_MEDIA_UNKNOWN = 0, /**< no communication we know of */
	GCMSG_MEDIA_MESSAGE,     /**< messaging: participants carry messages[] */
	GCMSG_MEDIA_CHAT,        /**< legacy ACD web chat or third-party chat: chats[] */
	GCMSG_MEDIA_OTHER        /**< voice, email, ... */
} gcmsg_media;

/** Read and parse a conversation. GCMSG_ENOTFOUND for an unknown id. */
GCMSG_EXTERN(int) gcmsg_conversation_get(gcmsg_conversation **out, gcmsg_client *client,
                                         const char *conversation_id);
GCMSG_EXTERN(void) gcmsg_conversation_free(gcmsg_conversation *conv);

GCMSG_EXTERN(const char *) gcmsg_conversation_id(const gcmsg_conversation *conv);
GCMSG_EXTERN(gcmsg_media) gcmsg_conversation_media(const gcmsg_conversation *conv);
/** "message", "chat", "other" or "unknown". */
GCMSG_EXTERN(const char *) gcmsg_conversation_media_name(const gcmsg_conversation *conv);
/** Messaging platform (Message.type: webmessaging, sms, ...) or NULL. */
GCMSG_EXTERN(const char *) gcmsg_conversation_platform(const gcmsg_conversation *conv);
/**
 * Derived state: "disconnected" when it has an endTime or every customer
 * communication is disconnected/terminated, else "connected" when a
 * communication is connected, else the first state seen, else "unknown".
 */
GCMSG_EXTERN(const char *) gcmsg_conversation_state(const gcmsg_conversation *conv);
GCMSG_EXTERN(const char *) gcmsg_conversation_start_time(const gcmsg_conversation *conv);
GCMSG_EXTERN(const char *) gcmsg_conversation_end_time(const gcmsg_conversation *conv);
GCMSG_EXTERN(size_t) gcmsg_conversation_participant_count(const gcmsg_conversation *conv);
GCMSG_EXTERN(const gcmsg_participant *) gcmsg_conversation_participant(const gcmsg_conversation *conv,
                                                                       size_t i);

/* Participant accessors; every string is borrowed and may be NULL. */
GCMSG_EXTERN(const char *) gcmsg_participant_id(const gcmsg_participant *p);
GCMSG_EXTERN(const char *) gcmsg_participant_purpose(const gcmsg_participant *p);
GCMSG_EXTERN(const char *) gcmsg_participant_name(const gcmsg_participant *p);
GCMSG_EXTERN(const char *) gcmsg_participant_user_id(const gcmsg_participant *p);
GCMSG_EXTERN(const char *) gcmsg_participant_queue_id(const gcmsg_participant *p);
GCMSG_EXTERN(const char *) gcmsg_participant_address(const gcmsg_participant *p);
/** Kind of the participant's (first) communication. */
GCMSG_EXTERN(gcmsg_media) gcmsg_participant_media(const gcmsg_participant *p);
/** The communication id (messages[0].id or chats[0].id). */
GCMSG_EXTERN(const char *) gcmsg_participant_communication_id(const gcmsg_participant *p);
/** The communication state (connected, disconnected, ...). */
GCMSG_EXTERN(const char *) gcmsg_participant_state(const gcmsg_participant *p);
/** Messaging platform of the communication (Message.type). */
GCMSG_EXTERN(const char *) gcmsg_participant_platform(const gcmsg_participant *p);
GCMSG_EXTERN(const char *) gcmsg_participant_from_address(const gcmsg_participant *p);
GCMSG_EXTERN(const char *) gcmsg_participant_to_address(const gcmsg_participant *p);
/** Third-party chat provider, when the chat has one. */
GCMSG_EXTERN(const char *) gcmsg_participant_provider(const gcmsg_participant *p);
GCMSG_EXTERN(size_t) gcmsg_participant_attribute_count(const gcmsg_participant *p);
GCMSG_EXTERN(const char *) gcmsg_participant_attribute_key(const gcmsg_participant *p, size_t i);
GCMSG_EXTERN(const char *) gcmsg_participant_attribute_value(const gcmsg_participant *p, size_t i);
/** The value of attribute `key`, or NULL. */
GCMSG_EXTERN(const char *) gcmsg_participant_attribute(const gcmsg_participant *p, const char *key);

#ifdef __cplusplus
}
#endif

#endif
