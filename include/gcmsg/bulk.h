/*
 * gcmsg/bulk.h - many messages at once: the bulk file and the concurrent run.
 *
 * A bulk file is CSV with a header line, or JSON Lines (one object per line),
 * one message per row. gcmsg_bulk_file_parse reads and validates all of it up
 * front, so that a bad row is reported with its line number before anything
 * is sent. gcmsg_bulk_send then sends the items concurrently, each exactly
 * once through the outbox (see send.h), paced by the rate limiter.
 */
#ifndef GCMSG_BULK_H
#define GCMSG_BULK_H

#include "common.h"
#include "client.h"
#include "policy.h"
#include "render.h"
#include "response.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the file ---- */

typedef struct gcmsg_bulk_file gcmsg_bulk_file;

/*
 * Limits of a bulk file. Beyond any of them the file (not a row) is refused.
 */
#define GCMSG_BULK_MAX_BYTES (256u * 1024 * 1024) /**< the whole file */
#define GCMSG_BULK_MAX_ROWS 1000000u              /**< data rows (CSV) or lines (JSON Lines) */
#define GCMSG_BULK_MAX_LINE 65536u                /**< one row, quoted line breaks included */
#define GCMSG_BULK_MAX_COLUMNS 256u               /**< CSV columns */
#define GCMSG_BULK_MAX_VARS 64u                   /**< variables of one row */
#define GCMSG_BULK_MAX_ERRORS 1000u               /**< row errors kept (the count goes on) */

/** Values for rows that do not give their own (all optional). */
#define GCMSG_BULK_DEFAULTS_VERSION 1
typedef struct gcmsg_bulk_defaults {
	unsigned int version;         /**< GCMSG_BULK_DEFAULTS_VERSION */
	const char *response;         /**< response id or name */
	const char *library;          /**< library id or name the response is looked up in */
	const char *text;             /**< a literal text (instead of a response) */
	size_t var_count;             /**< variables every row gets; a row's own value wins */
	const char *const *var_names;
	const char *const *var_values;
} gcmsg_bulk_defaults;

#define GCMSG_BULK_DEFAULTS_INIT { GCMSG_BULK_DEFAULTS_VERSION, NULL, NULL, NULL, 0, NULL, NULL }

/**
 * One valid row, defaults applied (borrowed from the file). Exactly one of
 * `response` and `text` is set.
 */
typedef struct gcmsg_bulk_row {
	size_t line;                  /**< 1-based line where the row starts */
	const char *conversation_id;  /**< a UUID, lower-cased */
	const char *response;         /**< response id or name, or NULL */
	const char *library;          /**< or NULL */
	const char *text;             /**< or NULL */
	const char *key;              /**< the row's own idempotency key, or NULL */
	size_t var_count;
	const char *const *var_names;
	const char *const *var_values;
} gcmsg_bulk_row;

/** A row that was refused. */
typedef struct gcmsg_bulk_file_error {
	size_t line;                  /**< 1-based line where the row starts */
	const char *message;          /**< one line: what is wrong, naming the column or field */
} gcmsg_bulk_row_error;

/**
 * Parse and validate a whole bulk file held in memory. `name` (for messages;
 * NULL: "-") names it. The format is JSON Lines when the first non-blank
 * character is '{', else CSV (RFC 4180, a header line, optional UTF-8 BOM,
 * LF or CRLF).
 *
 * CSV columns (case-insensitive): conversation (or conversation_id,
 * conversationId), response (response_id, responseId), library, text, key
 * (idempotency_key). A column named var.NAME, and any other column, is the
 * variable NAME. JSON Lines members: conversation, response, library, text,
 * key, vars (an object of strings); another member is a row error.
 *
 * Returns GCMSG_OK when the file could be read as a whole, even if some rows
 * were refused (see gcmsg_bulk_file_error_count); GCMSG_EUSAGE when it could
 * not (no conversation column, a header or format error, a limit exceeded:
 * the detail in gcmsg_bulk_file_last_error). *out is set either way (NULL only
 * when out of memory: GCMSG_ERROR), and the caller frees it.
 */
GCMSG_EXTERN(int) gcmsg_bulk_file_parse(gcmsg_bulk_file **out, const char *data, size_t len, const char *name,
                                        const gcmsg_bulk_defaults *defaults);
GCMSG_EXTERN(void) gcmsg_bulk_file_free(gcmsg_bulk_file *f);
/** Detail of a failed parse ("NAME:LINE: ..."); never NULL for a non-NULL file. */
GCMSG_EXTERN(const gcmsg_error *) gcmsg_bulk_file_last_error(const gcmsg_bulk_file *f);
/** "csv" or "jsonl"; NULL when the format could not be told. */
GCMSG_EXTERN(const char *) gcmsg_bulk_file_format(const gcmsg_bulk_file *f);
/** Valid rows, in file order. */
GCMSG_EXTERN(size_t) gcmsg_bulk_file_row_count(const gcmsg_bulk_file *f);
GCMSG_EXTERN(const gcmsg_bulk_row *) gcmsg_bulk_file_row(const gcmsg_bulk_file *f, size_t i);
/** All refused rows (counted beyond GCMSG_BULK_MAX_ERRORS); the first ones are kept, in file order. */
GCMSG_EXTERN(size_t) gcmsg_bulk_file_error_count(const gcmsg_bulk_file *f);
GCMSG_EXTERN(size_t) gcmsg_bulk_file_errors_kept(const gcmsg_bulk_file *f);
GCMSG_EXTERN(const gcmsg_bulk_row_error *) gcmsg_bulk_file_error(const gcmsg_bulk_file *f, size_t i);

/** Room for a key of gcmsg_bulk_row_key: "b1:" + 64 hex digits + NUL. */
#define GCMSG_BULK_KEY_LEN 68

/**
 * The idempotency key of a row: its own `key` when it has one, else "b1:" +
 * hex SHA-256 of run_id (NULL: none), the conversation and what is sent (the
 * response and library, or the text, and the variables by name). Rerunning
 * rows that were sent, from this file or another, therefore sends none of
 * them again; a run meant to send the same rows again gives a new run_id.
 * GCMSG_EUSAGE when out is too small for the key.
 */
GCMSG_EXTERN(int) gcmsg_bulk_row_key(char *out, size_t size, const char *run_id, const gcmsg_bulk_row *row);

/* ---- the run ---- */

/**
 * One message to send: where, what, and under which idempotency key. The
 * text or response is rendered for each conversation once its route is known
 * (CUSTOMER_NAME, AGENT_NAME, attributes), with `vars` first, as `gcmsg send`.
 */
typedef struct gcmsg_bulk_item {
	const char *conversation_id;
	const char *text;               /**< a text (its placeholders rendered too), or NULL */
	const gcmsg_response *response; /**< or a canned response (read-only: shared by items) */
	const gcmsg_var *vars;          /**< explicit values, or NULL */
	size_t var_count;
	const char *key;                /**< the idempotency key (required: a rerun must find it again) */
} gcmsg_bulk_item;

/** What became of one item (borrowed for the callback). */
typedef struct gcmsg_bulk_item_result {
	size_t index;                  /**< into the items array */
	int code;                      /**< GCMSG_OK or the gcmsg_error_code of gcmsg_send */
	const gcmsg_error *error;      /**< the detail when code != GCMSG_OK, else NULL */
	const char *stage;             /**< where it failed: "route", "render" or "send"; NULL when sent */
	const char *key;
	const char *message_id;        /**< when sent, or NULL */
	const char *route;             /**< route kind, or NULL when the route was not resolved */
	int attempts;                  /**< send requests made by this run for it */
	int duplicate;                 /**< already sent under this key (by an earlier run): nothing sent now */
	int read_back;                 /**< found by reading the conversation back */
	long long latency_ms;          /**< from the item's start to its end */
} gcmsg_bulk_item_result;

/** Called once per item, from one thread at a time (never concurrently). */
typedef void (*gcmsg_bulk_item_cb)(const gcmsg_bulk_item_result *r, void *payload);

#define GCMSG_BULK_MAX_CONCURRENCY 256
#define GCMSG_BULK_DEFAULT_CONCURRENCY 32

#define GCMSG_BULK_OPTIONS_VERSION 1
typedef struct gcmsg_bulk_options {
	unsigned int version;          /**< GCMSG_BULK_OPTIONS_VERSION */
	unsigned int concurrency;      /**< items in flight at once; 0: GCMSG_BULK_DEFAULT_CONCURRENCY */
	/**
	 * The outbox and audit log (required). Each concurrent sender opens its
	 * own handle on the same store (gcmsg_store_reopen); this one is not used
	 * from other threads.
	 */
	gcmsg_store *store;
	const gcmsg_policy *policy;    /**< as gcmsg_send_options */
	const char *language;          /**< as gcmsg_render_options */
	int allow_missing;             /**< leave unresolved placeholders (and let the policy pass them) */
	const char *source;            /**< audit `source`; NULL: "bulk" */
	gcmsg_bulk_item_cb on_item;
	void *payload;
	/** Set to non-zero (from any thread or a signal handler) to stop starting new items. */
	volatile int *cancel;
} gcmsg_bulk_options;

#define GCMSG_BULK_OPTIONS_INIT { GCMSG_BULK_OPTIONS_VERSION, 0, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL }

/** Totals of a run. */
typedef struct gcmsg_bulk_summary {
	size_t items, sent, duplicates, failed, not_started;
	size_t requests, throttled;    /**< API requests made, and how many were answered 429 */
	long long elapsed_ms;
} gcmsg_bulk_summary;

/**
 * Send every item, at most `concurrency` at a time over libcurl's multi
 * interface (one connection pool; HTTP/2 multiplexing where offered), all
 * sharing the client's token and rate limiter. Each item resolves its route
 * (gcmsg_route_resolve) and goes through gcmsg_send with the store. The
 * client must not be used by the caller during the call.
 *
 * Returns GCMSG_OK when every item was attempted (some may have failed: see
 * the summary and the callback), or an error when the run itself could not go
 * on (the detail on the client); summary (optional) is filled either way.
 */
GCMSG_EXTERN(int) gcmsg_bulk_send(gcmsg_client *c, const gcmsg_bulk_item *items, size_t n,
                                  const gcmsg_bulk_options *opts, gcmsg_bulk_summary *summary);

#ifdef __cplusplus
}
#endif

#endif
