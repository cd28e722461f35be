/*
 * readback.h - was our message delivered? Read the conversation back and look
 * for it (private; readback.c). Used after an ambiguous answer to a send
 * (5xx, timeout, reset, empty reply) and before resuming an abandoned one:
 * a message is resent only when the read-back proves it absent.
 */
#ifndef GCMSG_READBACK_H
#define GCMSG_READBACK_H

#include "internal.h"

typedef enum gcmsg__rb_verdict {
	GCMSG__RB_UNKNOWN = 0, /* a read failed, an answer was malformed or incomplete, or the route has no read-back */
	GCMSG__RB_FOUND,       /* an outbound message with our content, owned by no other key */
	GCMSG__RB_ABSENT       /* every read succeeded completely and nothing matches */
} gcmsg__rb_verdict;

/* "unknown", "found", "absent". */
const char *gcmsg__rb_verdict_name(gcmsg__rb_verdict v);

/*
 * Is this message id already recorded by another outbox key (the store's
 * outbox_key_of_message)? 1 yes (not ours to claim), 0 no, < 0 cannot tell.
 */
typedef int (*gcmsg__rb_owned_cb)(const char *message_id, void *payload);

/* Messages whose time is this much before the first attempt are not ours (clock skew allowance). */
#define GCMSG__RB_SKEW_MS (5LL * 60 * 1000)
/* Message ids per messages/bulk request (the API's maximum). */
#define GCMSG__RB_BULK_MAX 1000

typedef struct gcmsg__rb_query {
	const char *conversation_id;
	const char *route;      /* "agent-messaging", "agentless", "legacy-chat" */
	const char *text;       /* what was sent: the text, or a template's rendered text; or NULL */
	const char *media_id;   /* an attachment's media id instead of a text; or NULL */
	long long since_ms;     /* wall-clock ms of the first attempt; 0: no bound */
	gcmsg__rb_owned_cb owned; /* or NULL: nothing is owned */
	void *owned_payload;
} gcmsg__rb_query;

typedef struct gcmsg__rb_result {
	gcmsg__rb_verdict verdict;
	char *message_id;        /* FOUND: the message's id (malloc'd) */
	long http_status;        /* of the last request (0: none, or no answer) */
	char correlation_id[128];/* of the last request */
	int requests;            /* requests made */
	char why[256];           /* one line on how the verdict was reached (never the text) */
} gcmsg__rb_result;

void gcmsg__rb_result_init(gcmsg__rb_result *r);
void gcmsg__rb_result_dispose(gcmsg__rb_result *r);

/*
 * GET /api/v2/conversations/messages/{id}, then POST .../messages/bulk with
 * the candidate ids (at most GCMSG__RB_BULK_MAX per request). Each request is
 * made once (paced; a 401 renews the token once): the caller retries an
 * UNKNOWN. GCMSG_OK with the verdict in *res (a failed read is a verdict,
 * UNKNOWN, with the detail on the client), or GCMSG_ERROR (out of memory).
 */
int gcmsg__readback(gcmsg_client *c, const gcmsg__rb_query *q, gcmsg__rb_result *res);

/* ---- the pure parts (outside input: fuzzed by tests/fuzz/fuzz_readback.c) ---- */

/*
 * The message ids of a MessageConversation document (every participant's
 * messages[].messageId), each once, leaving out those whose messageTime is
 * more than GCMSG__RB_SKEW_MS before since_ms (since_ms 0: none left out).
 * 0 with *ids (malloc'd array of malloc'd strings; free with gcmsg__free_strv),
 * -1 when the document is malformed (why says how), -2 out of memory.
 */
int gcmsg__rb_ids(const char *json, size_t len, long long since_ms, char ***ids, size_t *n, char *why,
                  size_t whylen);

/*
 * Judge a TextMessageListing answered for ids[0..n): FOUND (*found_id
 * malloc'd) when an entity asked for is outbound (or of no direction), not
 * timed before the skew allowance, carries our text (textBody or
 * normalizedMessage.text, byte for byte) or our media id (media[].id or
 * normalizedMessage.content[].attachment.id), and is owned by no other key;
 * ABSENT when none is and every id asked for came back; UNKNOWN otherwise
 * (malformed, an id missing, an ownership that cannot be told).
 * 0, or -2 out of memory.
 */
int gcmsg__rb_match(const char *json, size_t len, const char *const *ids, size_t n, const gcmsg__rb_query *q,
                    gcmsg__rb_verdict *verdict, char **found_id, char *why, size_t whylen);

/* ISO-8601 date-time ("2026-11-21T09:00:01.123Z", "+02:00" offsets) to ms since the epoch; -1 when it is not one. */
long long gcmsg__iso8601_ms(const char *s);

#endif
