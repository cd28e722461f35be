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

/*
 * Our first attempt started at since_ms on our clock, which is since_ms +
 * skew on the server's (skew estimated from the Date header of the read's
 * answer, never more than the real one). A message timed more than this
 * margin before that was there before we tried: not ours. The margin covers
 * the server's own clocks (the one that dates the answer and the one that
 * times the message).
 */
#define GCMSG__RB_MARGIN_MS 2000LL
/* Message ids per messages/bulk request (the API's maximum). */
#define GCMSG__RB_BULK_MAX 1000

typedef struct gcmsg__rb_query {
	const char *conversation_id;
	const char *route;      /* "agent-messaging", "agentless", "legacy-chat" */
	const char *text;       /* what was sent: the text, or a template's rendered text; or NULL */
	const char *media_id;   /* an attachment's media id instead of a text; or NULL */
	long long since_ms;     /* our wall-clock ms when the first attempt started; 0: no bound (no Date needed) */
	const char *user_id;    /* the sender's user id (agent route): a message createdBy someone else is not ours */
	int expect_messages;    /* messages are known to be in the conversation: an empty listing is incomplete */
	gcmsg__rb_owned_cb owned; /* or NULL: nothing is owned */
	void *owned_payload;
} gcmsg__rb_query;

typedef struct gcmsg__rb_result {
	gcmsg__rb_verdict verdict;
	char *message_id;        /* FOUND: the message's id (malloc'd) */
	long http_status;        /* of the last request (0: none, or no answer) */
	char correlation_id[128];/* of the last request */
	int requests;            /* requests made */
	int skew_known;          /* the server's Date was read: */
	long long skew_ms;       /* the server's clock minus ours, a lower bound (Date has whole seconds) */
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
 * Never ABSENT without a usable Date header on the GET's answer (when
 * since_ms is set), with a participant whose messages[] is missing, with an
 * empty listing of a conversation expected to hold messages, or on the
 * agentless route when the conversation is no longer connected (a send with
 * useExistingActiveConversation into an ended conversation opens a new one).
 */
int gcmsg__readback(gcmsg_client *c, const gcmsg__rb_query *q, gcmsg__rb_result *res);

/* ---- the pure parts (outside input: fuzzed by tests/fuzz/fuzz_readback.c) ---- */

/* What a MessageConversation document lists. */
typedef struct gcmsg__rb_listing {
	char **ids;       /* candidates: listed at or after from_ms, or without a readable time; sorted, each once */
	size_t n;
	size_t listed;    /* message entries listed by all the participants, old ones included */
	int connected;    /* the customer participant (purpose customer, else the first external): 1 connected,
	                     0 another state, -1 none or no state */
} gcmsg__rb_listing;

void gcmsg__rb_listing_dispose(gcmsg__rb_listing *l);

/*
 * The message ids of a MessageConversation document (every participant's
 * messages[].messageId), leaving out those whose messageTime is before
 * from_ms (the server's clock; 0: none left out). Every participant must
 * carry a messages[] (empty when it lists nothing), else the listing is
 * incomplete. 0 with *out filled (dispose it), -1 when the document is
 * malformed or incomplete (why says how), -2 out of memory.
 */
int gcmsg__rb_ids(const char *json, size_t len, long long from_ms, gcmsg__rb_listing *out, char *why,
                  size_t whylen);

/*
 * Judge a TextMessageListing answered for ids[0..n): FOUND (*found_id
 * malloc'd) when an entity asked for is outbound (or of no direction), timed
 * at or after from_ms (server clock; 0: no bound), created by q->user_id when
 * both are known, carries our text (textBody or normalizedMessage.text, byte
 * for byte) or our media id (media[].id or normalizedMessage.content[].
 * attachment.id), and is owned by no other key; ABSENT when none is and every
 * id asked for came back; UNKNOWN otherwise (malformed, an id missing, a
 * matching message without a readable time, an ownership that cannot be told).
 * 0, or -2 out of memory.
 */
int gcmsg__rb_match(const char *json, size_t len, const char *const *ids, size_t n, const gcmsg__rb_query *q,
                    long long from_ms, gcmsg__rb_verdict *verdict, char **found_id, char *why, size_t whylen);

/* ISO-8601 date-time ("2026-11-21T09:00:01.123Z", "+02:00" offsets) to ms since the epoch; -1 when it is not one. */
long long gcmsg__iso8601_ms(const char *s);

#endif
