/*
 * gcmsg/webhook.h - webhooks: every audit record of a store becomes an event,
 * queued durably (in the same transaction as the record) for each configured
 * webhook, and posted later by gcmsg_webhooks_deliver. A send never waits for
 * a webhook: enqueueing is a row in the store.
 *
 * The POST:
 *   Content-Type: application/json
 *   X-Gcmsg-Event-Id: <event id>          (a UUID; the same on every retry)
 *   X-Gcmsg-Timestamp: <unix seconds of this delivery attempt>
 *   X-Gcmsg-Signature-256: sha256=<base64 of HMAC-SHA256(secret, "<timestamp>.<body>")>
 *   body: {"id": "<event id>", "type": "<event>.<outcome>", "created": "<RFC 3339 UTC>",
 *          "data": <the audit record's JSON, gcmsg_audit_record_json>}
 * A 2xx answer delivers the event; anything else (or no answer within the
 * timeout) is retried with exponential backoff and full jitter, per webhook,
 * so a dead webhook never holds back a live one.
 */
#ifndef GCMSG_WEBHOOK_H
#define GCMSG_WEBHOOK_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GCMSG_WEBHOOK_EVENT_ATTEMPT 1u /**< audit records of event "attempt" */
#define GCMSG_WEBHOOK_EVENT_OUTCOME 2u /**< audit records of event "outcome" */

typedef struct gcmsg_webhook {
	const char *name;   /**< [A-Za-z0-9_-]{1,64}; rows in the queue refer to it */
	const char *url;    /**< https (http only to a loopback address) */
	const char *secret; /**< the HMAC key; required, never logged */
	unsigned int events; /**< GCMSG_WEBHOOK_EVENT_* bits; 0: both */
} gcmsg_webhook;

/**
 * Configure the store's webhooks (copied; secrets zeroed at free). Records
 * appended afterwards are queued for them. GCMSG_EUSAGE names a bad name,
 * URL or missing secret.
 */
GCMSG_EXTERN(int) gcmsg_store_set_webhooks(gcmsg_store *store, const gcmsg_webhook *hooks, size_t n);

#define GCMSG_WEBHOOK_DELIVER_OPTIONS_VERSION 1

typedef struct gcmsg_webhook_deliver_options {
	unsigned int version;    /**< GCMSG_WEBHOOK_DELIVER_OPTIONS_VERSION */
	long deadline_ms;        /**< give up (leaving the rest queued) after this long; 0: 5000 */
	long timeout_ms;         /**< one POST; 0: 5000 (capped by the deadline) */
	long backoff_base_ms;    /**< first retry delay; 0: 1000 */
	long backoff_cap_ms;     /**< largest retry delay; 0: 3600000 */
	int max_attempts;        /**< after this many failures the event stays queued but is no longer tried; 0: 20 */
	const char *cacert;      /**< CA bundle for https webhooks, or NULL for the system's */
} gcmsg_webhook_deliver_options;

#define GCMSG_WEBHOOK_DELIVER_OPTIONS_INIT { GCMSG_WEBHOOK_DELIVER_OPTIONS_VERSION, 0, 0, 0, 0, 0, NULL }

typedef struct gcmsg_webhook_report {
	unsigned long delivered; /**< events posted with a 2xx answer in this call */
	unsigned long failed;    /**< attempts that failed in this call (the events stay queued) */
	unsigned long pending;   /**< events still queued for a configured webhook afterwards */
} gcmsg_webhook_report;

/**
 * Post the due events of every configured webhook, concurrently (one
 * connection per webhook, at most one event in flight per webhook, in queue
 * order), until none is due or the deadline passes. Events of webhooks that
 * are no longer configured are left alone. report may be NULL.
 *
 * An event is tried at most once per call; after a failed attempt its webhook
 * gets no more requests in this call. Before its POST an event is claimed in
 * the store (for its timeout + 30 s), so processes delivering at the same
 * time do not post it twice; a process that dies with a POST in flight leaves
 * it to be retried after the claim (receivers deduplicate by event id). After
 * max_attempts failures an event stays queued but is never tried again
 * (gcmsg_webhook_event_given_up). The deadline cuts POSTs in flight: they
 * count as failed attempts.
 *
 * GCMSG_OK when every event that was due went out (or none was due);
 * GCMSG_EREMOTE when an attempt failed or the deadline passed with events
 * still due (the report counts them; gcmsg_store_last_error names the first
 * failure, never a secret); another code when the store failed.
 */
GCMSG_EXTERN(int) gcmsg_webhooks_deliver(gcmsg_store *store, const gcmsg_webhook_deliver_options *opts,
                                         gcmsg_webhook_report *report);

/* ---- the queue, for people (gcmsg webhooks list) ---- */

typedef struct gcmsg_webhook_queue gcmsg_webhook_queue;
typedef struct gcmsg_webhook_event gcmsg_webhook_event;

/**
 * The queued events of every webhook, configured or not, oldest first;
 * delivered ones too when all != 0. Free with gcmsg_webhook_queue_free.
 */
GCMSG_EXTERN(int) gcmsg_webhook_queue_get(gcmsg_webhook_queue **out, gcmsg_store *store, int all);
GCMSG_EXTERN(void) gcmsg_webhook_queue_free(gcmsg_webhook_queue *queue);
GCMSG_EXTERN(size_t) gcmsg_webhook_queue_count(const gcmsg_webhook_queue *queue);
/** Borrowed; lives as long as the queue. NULL beyond the count. */
GCMSG_EXTERN(const gcmsg_webhook_event *) gcmsg_webhook_queue_event(const gcmsg_webhook_queue *queue, size_t i);

/** The queue row's id (one per event and webhook). */
GCMSG_EXTERN(long long) gcmsg_webhook_event_id(const gcmsg_webhook_event *e);
GCMSG_EXTERN(const char *) gcmsg_webhook_event_hook(const gcmsg_webhook_event *e);
/** X-Gcmsg-Event-Id: the same for every webhook that gets the event. */
GCMSG_EXTERN(const char *) gcmsg_webhook_event_event_id(const gcmsg_webhook_event *e);
/** The body's "type" ("<event>.<outcome>"), or NULL when the body has none. */
GCMSG_EXTERN(const char *) gcmsg_webhook_event_type(const gcmsg_webhook_event *e);
/** The JSON as it is posted (it holds a message text only with audit_text). */
GCMSG_EXTERN(const char *) gcmsg_webhook_event_body(const gcmsg_webhook_event *e);
GCMSG_EXTERN(long long) gcmsg_webhook_event_created_ms(const gcmsg_webhook_event *e);
GCMSG_EXTERN(int) gcmsg_webhook_event_attempts(const gcmsg_webhook_event *e);
/** Wall-clock ms of the next attempt (0: as soon as possible); -1 when delivered or given up. */
GCMSG_EXTERN(long long) gcmsg_webhook_event_next_attempt_ms(const gcmsg_webhook_event *e);
GCMSG_EXTERN(int) gcmsg_webhook_event_delivered(const gcmsg_webhook_event *e);
/** Non-zero when max_attempts failures were reached: queued, never tried again. */
GCMSG_EXTERN(int) gcmsg_webhook_event_given_up(const gcmsg_webhook_event *e);
/** The HTTP status of the last attempt, 0 when none answered. */
GCMSG_EXTERN(long) gcmsg_webhook_event_last_status(const gcmsg_webhook_event *e);
/** Why the last attempt failed (no secret, no URL query), or NULL. */
GCMSG_EXTERN(const char *) gcmsg_webhook_event_last_error(const gcmsg_webhook_event *e);

/**
 * The signature header value for a body and a timestamp: "sha256=<base64>".
 * *out is allocated; free it with gcmsg_free. For receivers written in C and
 * for tests.
 */
GCMSG_EXTERN(int) gcmsg_webhook_sign(char **out, const char *secret, long long timestamp, const char *body,
                                     size_t len);

#ifdef __cplusplus
}
#endif

#endif
