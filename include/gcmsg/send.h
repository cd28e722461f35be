/*
 * gcmsg/send.h - send a text (and optionally a typing indicator) along a
 * resolved route.
 *
 * Without a store, the message POST is never retried, except once after
 * renewing an expired token (401): an ambiguous failure is reported as such.
 * With a store (version 4), the send is exactly-once: its idempotency key is
 * recorded in the outbox before any request; a 429 is waited out and resent;
 * an ambiguous failure (5xx, timeout, reset, empty reply) makes gcmsg read the
 * conversation back and resend only when the message is provably absent; a
 * key already delivered is answered from the outbox without a request; and
 * every attempt and outcome goes to the audit log.
 */
#ifndef GCMSG_SEND_H
#define GCMSG_SEND_H

#include "common.h"
#include "client.h"
#include "route.h"
#include "render.h"
#include "policy.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gcmsg_send_result gcmsg_send_result;

/** One attempt of a send, as the attempt callback sees it (borrowed for the call). */
typedef struct gcmsg_attempt {
	const char *key;            /**< the idempotency key */
	int attempt;                /**< 1-based */
	const char *outcome;        /**< as the audit log: "ok", "throttled", "ambiguous", "rejected", ... */
	long http_status;           /**< 0: no answer */
	const char *error_code;     /**< Genesys code, or NULL */
	const char *correlation_id; /**< or NULL */
	long long latency_ms;
	long long wait_ms;          /**< the wait before the next attempt, 0 when none follows */
} gcmsg_attempt;

typedef void (*gcmsg_attempt_cb)(const gcmsg_attempt *attempt, void *payload);

#define GCMSG_SEND_OPTIONS_VERSION 4

typedef struct gcmsg_send_options {
	unsigned int version;  /**< GCMSG_SEND_OPTIONS_VERSION (1 and 2 are still accepted) */
	const char *text;      /**< the message text, UTF-8; or NULL with `rendered` or `media_id` */
	int typing;            /**< send a typing indicator first */
	unsigned int delay_ms; /**< wait between the typing indicator and the text */
	int dry_run;           /**< build the requests, send nothing */
	/**
	 * Version 2: a rendered canned response, instead of `text`. A
	 * MessagingTemplate response goes out as `messagingTemplate` {responseId,
	 * bodyParameters} (WhatsApp conversations only); anything else as its text.
	 * It must have rendered without error.
	 */
	const gcmsg_rendered *rendered;
	/**
	 * Version 3. Every text (and template text) is checked against `policy`
	 * (NULL: the built-in defaults) before anything is sent; placeholders left
	 * by an allow-missing rendering, or when `allow_placeholders` is set, are not
	 * a violation.
	 */
	const gcmsg_policy *policy;
	int allow_placeholders;
	/** Version 3: send this uploaded media (gcmsg_media_upload) instead of a text. */
	const char *media_id;
	/** Version 4: the outbox and audit log; NULL sends without them (at most once, unaudited). */
	gcmsg_store *store;
	/**
	 * Version 4: the idempotency key (1 to 200 printable ASCII characters), or
	 * NULL to derive one: "d1:" + hex SHA-256 of conversation id, route, the
	 * body's kind and content, and the time bucket floor(now /
	 * idempotency_window_s) (not the communication id: it changes when the
	 * agent reconnects). Before a new derived key is recorded, the outbox is
	 * searched for the same message (conversation, route, request body)
	 * unfinished under another key (this bucket or the previous one) or sent
	 * in this bucket: that key is continued instead (see
	 * gcmsg_send_result_idempotency_key).
	 */
	const char *idempotency_key;
	unsigned int idempotency_window_s; /**< 0: 86400 */
	const char *source;                /**< launch source in the audit log; NULL: "library" */
	gcmsg_attempt_cb on_attempt;       /**< or NULL */
	void *attempt_payload;
} gcmsg_send_options;

#define GCMSG_SEND_OPTIONS_INIT \
	{ GCMSG_SEND_OPTIONS_VERSION, NULL, 0, 0, 0, NULL, NULL, 0, NULL, NULL, NULL, 0, NULL, NULL, NULL }

/**
 * Send. A refused route returns gcmsg_route_refusal_code(route) with the
 * rule, explanation and fix in the client's last error. The body must fit the
 * route, else GCMSG_EROUTE with one of the rules `template.not-messaging`
 * (a template into a legacy chat), `template.not-whatsapp` (a template into
 * another platform), `messaging.whatsapp-agentless-text` (Genesys takes only
 * templates from the agentless route into WhatsApp) or `media.agent-only`
 * (media goes only through the agent messaging route). A text the content
 * policy refuses is GCMSG_EPOLICY with the violations summarised, before any
 * request. A server error keeps
 * its code, message, messageParams (e.g. the missing permissions of a 403) and
 * correlation id. On GCMSG_OK, *out holds the result.
 *
 * With a store (version 4) the end states are: GCMSG_OK (sent now, found by a
 * read-back, or a duplicate answered from the outbox); the server's refusal as
 * above (entry failed); GCMSG_ERATELIMIT (throttled beyond the retry budget or
 * a Retry-After beyond its cap: entry pending); GCMSG_EREMOTE (not delivered
 * after the attempts or budget: entry pending; or the outcome is unknown:
 * entry unknown, read back before any resend; or the answer could not be
 * recorded because the store failed: the message may have been sent, entry
 * sending, read back before any resend); GCMSG_EUSAGE with rule
 * "outbox.key-reused" (the key was recorded for a different body) or
 * "outbox.in-flight" (a live process is sending that key). The fix of a kept
 * entry names `gcmsg outbox retry <key>`.
 *
 * An ambiguous answer (5xx, timeout, reset) is followed by reading the
 * conversation back; the message is resent only when it is absent and the
 * in-flight horizon (gcmsg_retry_policy.readback_horizon_ms, default the
 * request timeout + 30 s) has passed since that attempt started: a server may
 * carry out a request after the client gave up on it. The read-back sets the
 * messages' times against the attempt on the server's clock (from the
 * answer's Date header; without one the outcome stays unknown), and counts
 * only outbound messages with the same text or media sent at or after the
 * first attempt (minus a few seconds), by the same user when the server says
 * who sent them, recorded by no other key, while no other key of the
 * conversation with the same text is being sent or unknown. On the agentless
 * route an absent message counts only while the conversation is still
 * connected (into an ended one, the send opens a new conversation).
 */
GCMSG_EXTERN(int) gcmsg_send(gcmsg_send_result **out, gcmsg_client *client,
                             const gcmsg_route *route, const gcmsg_send_options *opts);
GCMSG_EXTERN(void) gcmsg_send_result_free(gcmsg_send_result *result);

/**
 * Send the outbox entry `key` again from its recorded request (a run that was
 * killed, throttled beyond its budget, or left an unknown outcome): an
 * unknown or abandoned in-flight entry is read back first. Only pending,
 * unknown and abandoned sending entries are resumed; a sent one is answered
 * as a duplicate, a failed or dropped one is GCMSG_EUSAGE. Options used:
 * dry_run, source, on_attempt (and the store given here).
 */
GCMSG_EXTERN(int) gcmsg_outbox_resume(gcmsg_send_result **out, gcmsg_client *client, gcmsg_store *store,
                                      const char *key, const gcmsg_send_options *opts);

GCMSG_EXTERN(int) gcmsg_send_result_dry_run(const gcmsg_send_result *result);
/** The id the server gave the message (NULL for a dry run or when absent). */
GCMSG_EXTERN(const char *) gcmsg_send_result_message_id(const gcmsg_send_result *result);
GCMSG_EXTERN(long) gcmsg_send_result_http_status(const gcmsg_send_result *result);
GCMSG_EXTERN(const char *) gcmsg_send_result_correlation_id(const gcmsg_send_result *result);
/** With a store: the idempotency key used (given or derived); NULL without one. */
GCMSG_EXTERN(const char *) gcmsg_send_result_idempotency_key(const gcmsg_send_result *result);
/** Requests made for the message (retries included; 0 for a duplicate or a dry run). */
GCMSG_EXTERN(int) gcmsg_send_result_attempts(const gcmsg_send_result *result);
/** Non-zero when the key had already been delivered: nothing was sent now. */
GCMSG_EXTERN(int) gcmsg_send_result_duplicate(const gcmsg_send_result *result);
/** Non-zero when a read-back found the message delivered by an earlier, ambiguous attempt. */
GCMSG_EXTERN(int) gcmsg_send_result_read_back(const gcmsg_send_result *result);
/** Warning ids and sentences (the route's, plus any from the send). */
GCMSG_EXTERN(size_t) gcmsg_send_result_warning_count(const gcmsg_send_result *result);
GCMSG_EXTERN(const char *) gcmsg_send_result_warning_id(const gcmsg_send_result *result, size_t i);
GCMSG_EXTERN(const char *) gcmsg_send_result_warning_text(const gcmsg_send_result *result, size_t i);

/**
 * The requests made (or, for a dry run, that would be made), in order: the
 * typing indicator first when asked, then the message. Headers are
 * "Name: value" strings with Authorization shown as "Bearer <redacted>".
 * The body is NULL for a request without one.
 */
GCMSG_EXTERN(size_t) gcmsg_send_result_request_count(const gcmsg_send_result *result);
GCMSG_EXTERN(const char *) gcmsg_send_result_request_method(const gcmsg_send_result *result, size_t i);
GCMSG_EXTERN(const char *) gcmsg_send_result_request_url(const gcmsg_send_result *result, size_t i);
GCMSG_EXTERN(size_t) gcmsg_send_result_request_header_count(const gcmsg_send_result *result, size_t i);
GCMSG_EXTERN(const char *) gcmsg_send_result_request_header(const gcmsg_send_result *result, size_t i,
                                                            size_t j);
GCMSG_EXTERN(const char *) gcmsg_send_result_request_body(const gcmsg_send_result *result, size_t i);

#ifdef __cplusplus
}
#endif

#endif
