/*
 * gcmsg/audit.h - the audit log (one record per attempt and per outcome of
 * every send made through a store) and the statistics computed from it.
 *
 * A record holds who, route, conversation, communication, response
 * id/version/library, channel, launch source, outcome, HTTP status, Genesys
 * error code, ININ-Correlation-Id, attempt number, latency, message id and a
 * SHA-256 of the text; the text itself only when the store was opened with
 * audit_text. Never a token or a secret.
 */
#ifndef GCMSG_AUDIT_H
#define GCMSG_AUDIT_H

#include "common.h"
#include "store.h"
#include "route.h"
#include "render.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GCMSG_AUDIT_FILTER_VERSION 1

typedef struct gcmsg_audit_filter {
	unsigned int version;        /**< GCMSG_AUDIT_FILTER_VERSION */
	long long since_ms;          /**< at or after (ms since the epoch); 0: no bound */
	long long until_ms;          /**< before; 0: no bound */
	const char *conversation_id; /**< or NULL */
	const char *key;             /**< one idempotency key, or NULL */
	const char *event;           /**< "attempt", "outcome", or NULL for both */
	size_t limit;                /**< 0: no limit (oldest first) */
} gcmsg_audit_filter;

#define GCMSG_AUDIT_FILTER_INIT { GCMSG_AUDIT_FILTER_VERSION, 0, 0, NULL, NULL, NULL, 0 }

typedef struct gcmsg_audit_list gcmsg_audit_list;
typedef struct gcmsg_audit_record gcmsg_audit_record;

GCMSG_EXTERN(int) gcmsg_audit_list_get(gcmsg_audit_list **out, gcmsg_store *store,
                                       const gcmsg_audit_filter *filter);
GCMSG_EXTERN(void) gcmsg_audit_list_free(gcmsg_audit_list *list);
GCMSG_EXTERN(size_t) gcmsg_audit_list_count(const gcmsg_audit_list *list);
GCMSG_EXTERN(const gcmsg_audit_record *) gcmsg_audit_list_record(const gcmsg_audit_list *list, size_t i);

GCMSG_EXTERN(long long) gcmsg_audit_record_id(const gcmsg_audit_record *r);
GCMSG_EXTERN(long long) gcmsg_audit_record_time_ms(const gcmsg_audit_record *r);
/** "attempt" or "outcome". */
GCMSG_EXTERN(const char *) gcmsg_audit_record_event(const gcmsg_audit_record *r);
/**
 * attempt: "ok", "throttled", "ambiguous", "rejected", "auth-renewed",
 * "readback-found", "readback-absent", "readback-failed";
 * outcome: "sent", "failed", "refused", "unknown", "duplicate", "pending", "dropped".
 */
GCMSG_EXTERN(const char *) gcmsg_audit_record_outcome(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_key(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_who(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_route(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_conversation_id(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_communication_id(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_response_id(const gcmsg_audit_record *r);
GCMSG_EXTERN(long) gcmsg_audit_record_response_version(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_library_id(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_channel(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_source(const gcmsg_audit_record *r);
GCMSG_EXTERN(long) gcmsg_audit_record_http_status(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_error_code(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_correlation_id(const gcmsg_audit_record *r);
GCMSG_EXTERN(int) gcmsg_audit_record_attempt(const gcmsg_audit_record *r);
GCMSG_EXTERN(long long) gcmsg_audit_record_latency_ms(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_message_id(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_text_sha256(const gcmsg_audit_record *r);
/** NULL unless the store keeps texts (audit_text). */
GCMSG_EXTERN(const char *) gcmsg_audit_record_text(const gcmsg_audit_record *r);
GCMSG_EXTERN(const char *) gcmsg_audit_record_detail(const gcmsg_audit_record *r);

/**
 * The record as one line of JSON (no newline), the shape of the JSON Lines
 * export and of the webhook events' "data": absent values are null. *out is
 * allocated; free it with gcmsg_free.
 *
 * Keys, always all of them and in this order: "id" (integer), "time" (RFC 3339
 * UTC with milliseconds, "2024-05-01T12:34:56.789Z"), "event", "outcome",
 * "key", "who", "route", "conversationId", "communicationId", "responseId",
 * "responseVersion" (integer or null), "libraryId", "channel", "source",
 * "attempt" (integer), "httpStatus" (integer, null when no answer),
 * "errorCode", "correlationId", "latencyMs" (integer), "messageId",
 * "textSha256", "text" (null unless the store keeps texts), "detail".
 * Strings are null when absent; invalid UTF-8 is replaced by U+FFFD.
 */
GCMSG_EXTERN(int) gcmsg_audit_record_json(char **out, const gcmsg_audit_record *r);

/** Called once per exported line (no newline); non-zero stops the export and is returned. */
typedef int (*gcmsg_audit_line_cb)(const char *line, size_t len, void *payload);

/** Stream the matching records as JSON Lines, oldest first, without loading them all. */
GCMSG_EXTERN(int) gcmsg_audit_export(gcmsg_store *store, const gcmsg_audit_filter *filter,
                                     gcmsg_audit_line_cb cb, void *payload);

/**
 * Record a send that was refused before any request (the content policy, a
 * rendering that could not be completed, or a route that cannot take it):
 * one audit record, event "outcome", outcome "refused", error_code `rule`
 * (e.g. "detector.payment-card", "placeholder.missing", "conversation.ended").
 * `route` gives the conversation, communication, route and caller (when it is
 * known: a route refusal has no communication); `text` (or the rendered
 * response's text, and its response id/version/library) is hashed, kept only
 * when the store keeps texts. `detail` is our one-line explanation: it must
 * not hold the text. No outbox entry is made: nothing was sent.
 */
GCMSG_EXTERN(int) gcmsg_audit_refused(gcmsg_store *store, const gcmsg_route *route, const char *text,
                                      const gcmsg_rendered *rendered, const char *rule, const char *source,
                                      const char *detail);

/* ---- statistics ----
 *
 * Definitions. The window is every record with time_ms >= since_ms. A send
 * is an idempotency key with at least one outcome record in the window (an
 * outcome record without a key is a send of its own). Its deciding record is
 * its last outcome record in the window (by id) that is not "duplicate", or,
 * when it has only "duplicate" outcomes there, its last one; the deciding
 * record gives the send's state (sent, failed, refused, unknown, pending,
 * dropped), route, response id and latency. Then, per send:
 *  - duplicates: it has at least one outcome "duplicate" in the window (it
 *    also counts in its state unless it has only duplicates there);
 *  - attempts: the attempt records of its key in the window that are
 *    requests: every attempt outcome but "readback-found", "readback-absent"
 *    and "readback-failed" (a read-back is a GET, not a send);
 *  - retried: more than one of them; throttled: at least one "throttled".
 * Grouped as the total, per route kind and per response id (both "" when the
 * deciding record has none). p50/p95/p99: nearest rank (the value at rank
 * ceil(p/100 * n) of the n sorted latencies) of the latency_ms of the deciding
 * records of the sent sends; 0 when none.
 */

/** One row of figures: the total, one route, or one response. Counts are of sends (idempotency keys). */
typedef struct gcmsg_stats_row {
	const char *key;          /**< route kind, response id ("" for free text), or NULL for the total */
	unsigned long sent;       /**< outcome sent */
	unsigned long failed;     /**< outcome failed (the server refused; nothing delivered) */
	unsigned long refused;    /**< outcome refused (content policy or route; nothing sent) */
	unsigned long unknown;    /**< outcome unknown (ambiguous, not resolved yet) */
	unsigned long pending;    /**< outcome pending (throttled beyond the budget, or not finished) */
	unsigned long duplicates; /**< sends answered from the outbox (already delivered) */
	unsigned long retried;    /**< sends that needed more than one attempt */
	unsigned long throttled;  /**< sends that met at least one 429 */
	unsigned long attempts;   /**< requests made */
	double delivery_rate;     /**< sent / (sent + failed + unknown + pending); 0 when none */
	double p50_ms, p95_ms, p99_ms; /**< latency of sent messages: first attempt to outcome (nearest rank) */
	unsigned long dropped;    /**< outcome dropped (by a person; not in delivery_rate) */
} gcmsg_stats_row;

typedef struct gcmsg_stats gcmsg_stats;

/** Figures over the records at or after since_ms (0: all); definitions above. */
GCMSG_EXTERN(int) gcmsg_stats_get(gcmsg_stats **out, gcmsg_store *store, long long since_ms);
GCMSG_EXTERN(void) gcmsg_stats_free(gcmsg_stats *stats);
GCMSG_EXTERN(const gcmsg_stats_row *) gcmsg_stats_total(const gcmsg_stats *stats);
/** Per route kind, sorted by key. */
GCMSG_EXTERN(size_t) gcmsg_stats_route_count(const gcmsg_stats *stats);
GCMSG_EXTERN(const gcmsg_stats_row *) gcmsg_stats_route(const gcmsg_stats *stats, size_t i);
/** Per response id ("" gathers free texts), sorted by key. */
GCMSG_EXTERN(size_t) gcmsg_stats_response_count(const gcmsg_stats *stats);
GCMSG_EXTERN(const gcmsg_stats_row *) gcmsg_stats_response(const gcmsg_stats *stats, size_t i);

#ifdef __cplusplus
}
#endif

#endif
