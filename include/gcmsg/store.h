/*
 * gcmsg/store.h - the durable local store: the outbox (one row per
 * idempotency key, written before any request goes out), the audit log and
 * the webhook queue.
 *
 * The default backend is SQLite (WAL, synchronous=FULL, every write in an
 * immediate transaction), safe to share between processes on one machine.
 * The file is created 0600 in a 0700 directory. A store is not thread-safe:
 * open one per thread.
 */
#ifndef GCMSG_STORE_H
#define GCMSG_STORE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gcmsg_store gcmsg_store;

#define GCMSG_STORE_OPTIONS_VERSION 1

typedef struct gcmsg_store_options {
	unsigned int version;  /**< GCMSG_STORE_OPTIONS_VERSION */
	long busy_timeout_ms;  /**< wait for another process's write lock; 0: 5000 */
	int audit_text;        /**< keep message texts in the audit log (they are PII; off by default) */
} gcmsg_store_options;

#define GCMSG_STORE_OPTIONS_INIT { GCMSG_STORE_OPTIONS_VERSION, 0, 0 }

/**
 * Open (creating when absent) the store at `location`: a file path, or
 * "sqlite:PATH". Missing parent directories are created 0700; a new file is
 * created 0600, and an existing one that group or others can read is refused
 * (GCMSG_ECONFIG, fix: chmod 600). A file that is not a gcmsg store, or one
 * written by a newer gcmsg, is GCMSG_ECONFIG. Like gcmsg_client_new, *out is
 * set even on failure (not on out of memory) so that gcmsg_store_last_error
 * can explain it; free it either way.
 */
GCMSG_EXTERN(int) gcmsg_store_open(gcmsg_store **out, const char *location, const gcmsg_store_options *opts);
GCMSG_EXTERN(void) gcmsg_store_free(gcmsg_store *store);
GCMSG_EXTERN(const gcmsg_error *) gcmsg_store_last_error(const gcmsg_store *store);
/** "sqlite"; NULL when the store did not open. */
GCMSG_EXTERN(const char *) gcmsg_store_backend_name(const gcmsg_store *store);

/* ---- the outbox ---- */

typedef enum gcmsg_outbox_state {
	GCMSG_OUTBOX_PENDING = 0, /**< recorded, not delivered yet: will be sent (again) */
	GCMSG_OUTBOX_SENDING = 1, /**< a request is (or was, if its process died) in flight */
	GCMSG_OUTBOX_UNKNOWN = 2, /**< an ambiguous answer: read the conversation back before any resend */
	GCMSG_OUTBOX_SENT = 3,    /**< delivered (terminal) */
	GCMSG_OUTBOX_FAILED = 4,  /**< refused by the server, nothing delivered (terminal) */
	GCMSG_OUTBOX_DROPPED = 5  /**< dropped by a person (terminal) */
} gcmsg_outbox_state;

/** "pending", "sending", "unknown", "sent", "failed", "dropped". */
GCMSG_EXTERN(const char *) gcmsg_outbox_state_name(gcmsg_outbox_state state);
/** The state of a name, or -1. */
GCMSG_EXTERN(int) gcmsg_outbox_state_parse(const char *name);

#define GCMSG_OUTBOX_FILTER_VERSION 1

typedef struct gcmsg_outbox_filter {
	unsigned int version;        /**< GCMSG_OUTBOX_FILTER_VERSION */
	unsigned int states;         /**< bit (1u << state) per wanted state; 0: every state */
	const char *key;             /**< one idempotency key, or NULL */
	const char *conversation_id; /**< or NULL */
	long long since_ms;          /**< created at or after (ms since the epoch); 0: no bound */
	size_t limit;                /**< 0: no limit */
} gcmsg_outbox_filter;

#define GCMSG_OUTBOX_FILTER_INIT { GCMSG_OUTBOX_FILTER_VERSION, 0, NULL, NULL, 0, 0 }

typedef struct gcmsg_outbox_list gcmsg_outbox_list;
typedef struct gcmsg_outbox_entry gcmsg_outbox_entry;

/** Entries oldest first. */
GCMSG_EXTERN(int) gcmsg_outbox_list_get(gcmsg_outbox_list **out, gcmsg_store *store,
                                        const gcmsg_outbox_filter *filter);
GCMSG_EXTERN(void) gcmsg_outbox_list_free(gcmsg_outbox_list *list);
GCMSG_EXTERN(size_t) gcmsg_outbox_list_count(const gcmsg_outbox_list *list);
/** Borrowed; lives as long as the list. */
GCMSG_EXTERN(const gcmsg_outbox_entry *) gcmsg_outbox_list_entry(const gcmsg_outbox_list *list, size_t i);

GCMSG_EXTERN(const char *) gcmsg_outbox_entry_key(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(gcmsg_outbox_state) gcmsg_outbox_entry_state(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(const char *) gcmsg_outbox_entry_conversation_id(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(const char *) gcmsg_outbox_entry_communication_id(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(const char *) gcmsg_outbox_entry_route(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(const char *) gcmsg_outbox_entry_channel(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(const char *) gcmsg_outbox_entry_response_id(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(const char *) gcmsg_outbox_entry_source(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(const char *) gcmsg_outbox_entry_who(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(const char *) gcmsg_outbox_entry_text_sha256(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(int) gcmsg_outbox_entry_attempts(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(long long) gcmsg_outbox_entry_created_ms(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(long long) gcmsg_outbox_entry_updated_ms(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(long long) gcmsg_outbox_entry_next_attempt_ms(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(const char *) gcmsg_outbox_entry_message_id(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(long) gcmsg_outbox_entry_http_status(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(const char *) gcmsg_outbox_entry_error_code(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(const char *) gcmsg_outbox_entry_correlation_id(const gcmsg_outbox_entry *e);
GCMSG_EXTERN(const char *) gcmsg_outbox_entry_last_error(const gcmsg_outbox_entry *e);
/** Non-zero when a live process holds the entry (state sending, its process still running). */
GCMSG_EXTERN(int) gcmsg_outbox_entry_in_flight(const gcmsg_outbox_entry *e);

/**
 * Drop a pending, unknown or failed entry, or an abandoned sending one (its
 * process died), so that it is never sent (audited as outcome "dropped"; its
 * recorded request is erased). A sent entry cannot be dropped (GCMSG_EUSAGE);
 * an entry a live process is sending neither (GCMSG_EUSAGE); an unknown key is
 * GCMSG_ENOTFOUND. Dropping a dropped entry is GCMSG_OK (nothing is written).
 */
GCMSG_EXTERN(int) gcmsg_outbox_drop(gcmsg_store *store, const char *key);

/* Resending entries needs a client: see gcmsg_outbox_resume in send.h. */

#ifdef __cplusplus
}
#endif

#endif
