/*
 * store.h - the durable store behind the outbox, the audit log and the webhook
 * queue (private). One small vtable per backend: SQLite now (store_sqlite.c),
 * PostgreSQL later. The backends are dumb row stores; the rules (which state
 * may follow which, what goes in an audit record, which events a webhook gets)
 * live in the generic files outbox.c, audit.c, webhook.c and deliver.c, so a
 * second backend cannot drift from the first.
 *
 * Times are wall-clock milliseconds since the Unix epoch (gcmsg__wall_ms),
 * because rows outlive processes and are compared across them.
 *
 * Every write runs inside begin(..)/commit(); a backend's begin is an
 * immediate (write-locking) transaction, so two processes never interleave a
 * read-then-write of the same key. Functions return GCMSG_OK or a negative
 * gcmsg_error_code, with the detail on the store's error (gcmsg__store_err).
 */
#ifndef GCMSG_STORE_PRIVATE_H
#define GCMSG_STORE_PRIVATE_H

#include "internal.h"
#include "gcmsg/store.h"

/* ---- outbox rows: one per idempotency key ---- */
typedef struct gcmsg__outbox_row {
	char *key;
	gcmsg_outbox_state state;
	char *conversation_id, *communication_id;
	char *route;       /* "agent-messaging", "agentless", "legacy-chat" */
	char *channel;     /* "sms", "whatsapp", "webmessaging", "chat", ... */
	char *path;        /* the POST path under the API URL */
	char *body;        /* the JSON request body; NULL once the row is terminal (PII) */
	char *body_sha256; /* hex SHA-256 of the body as first recorded: reusing a key for another body is refused */
	char *match_text;  /* what readback looks for (the text, or a template's rendered text); NULL once terminal */
	char *media_id;    /* what readback looks for when the body is an attachment */
	char *text_sha256; /* hex SHA-256 of the text (kept: the audit and stats use it) */
	char *response_id, *library_id;
	long response_version; /* -1: none */
	char *source;      /* launch source: "cli", "bulk", "watch", "library", ... */
	char *who;         /* the caller: "user:<id>" or "client:<id>" */
	long long created_ms, updated_ms;
	long long first_attempt_ms; /* 0: never attempted */
	long long next_attempt_ms;  /* 0: as soon as possible */
	int attempts;
	char *message_id, *error_code, *correlation_id;
	char *last_error;  /* our one-line explanation; never the text */
	long http_status;
	/*
	 * The claim of a process that has a request in flight (SENDING) or reads
	 * the entry back (UNKNOWN). Without a claim (claim_pid 0), claim_ms keeps
	 * the start of the last attempt that may have reached the server (0: none
	 * known): deliver.c's in-flight horizon runs from it, whichever process
	 * resumes the entry.
	 */
	long claim_pid;
	char *claim_host;
	long long claim_ms;
} gcmsg__outbox_row;

void gcmsg__outbox_row_init(gcmsg__outbox_row *r);
/* Frees every string (body and match_text zeroed first); the struct is left initialised. */
void gcmsg__outbox_row_dispose(gcmsg__outbox_row *r);

/* ---- audit records: one per attempt and per outcome ---- */
typedef struct gcmsg__audit_rec {
	long long id;      /* set by the store */
	long long time_ms;
	char *event;       /* "attempt", "outcome" */
	char *outcome;     /* attempt: "ok", "throttled", "ambiguous", "rejected", "auth-renewed", "readback-found",
	                      "readback-absent", "readback-failed"; outcome: "sent", "failed", "refused",
	                      "unknown", "duplicate", "pending", "dropped" */
	char *key, *who, *route, *conversation_id, *communication_id;
	char *response_id, *library_id;
	long response_version; /* -1: none */
	char *channel, *source;
	long http_status;  /* 0: no answer */
	char *error_code;  /* Genesys ErrorBody code, or ours ("network", "policy.<rule>", ...) */
	char *correlation_id;
	int attempt;       /* 1-based number of the attempt; for an outcome, the attempts made */
	long long latency_ms; /* attempt: the request; outcome: from the first attempt to the outcome */
	char *message_id;
	char *text_sha256;
	char *text;        /* only with audit_text; NULL otherwise */
	char *detail;      /* our one-line explanation (no text, no secret) */
} gcmsg__audit_rec;

void gcmsg__audit_rec_init(gcmsg__audit_rec *r);
void gcmsg__audit_rec_dispose(gcmsg__audit_rec *r);

/* ---- webhook queue: one row per (event, webhook) ---- */
typedef struct gcmsg__webhook_row {
	long long id;      /* set by the store */
	char *hook;        /* the webhook's name */
	char *event_id;    /* a UUID, also sent as X-Gcmsg-Event-Id */
	char *body;        /* the JSON event as it is posted (signed as is) */
	long long created_ms, next_attempt_ms;
	int attempts;
	int delivered;     /* 1 once a 2xx came back */
	long last_status;  /* 0: no answer */
	char *last_error;
} gcmsg__webhook_row;

void gcmsg__webhook_row_init(gcmsg__webhook_row *r);
void gcmsg__webhook_row_dispose(gcmsg__webhook_row *r);

/* Deep copies into an initialised dst (disposed first); GCMSG_OK or GCMSG_ERROR (out of memory, dst left initialised). */
int gcmsg__outbox_row_copy(gcmsg__outbox_row *dst, const gcmsg__outbox_row *src);
int gcmsg__audit_rec_copy(gcmsg__audit_rec *dst, const gcmsg__audit_rec *src);
int gcmsg__webhook_row_copy(gcmsg__webhook_row *dst, const gcmsg__webhook_row *src);

/* ---- filters (copied from the public ones) ---- */
typedef struct gcmsg__outbox_query {
	unsigned states;          /* bit (1u << state) per wanted state; 0: all */
	const char *key;          /* exact, or NULL */
	const char *conversation_id;
	long long since_ms;       /* created at or after; 0: no bound */
	long long due_before_ms;  /* next_attempt_ms <= this; 0: no bound */
	size_t limit;             /* 0: no limit; ordered by created_ms, then key */
} gcmsg__outbox_query;

typedef struct gcmsg__audit_query {
	long long since_ms, until_ms; /* 0: no bound; until is exclusive */
	const char *conversation_id;
	const char *key;
	const char *event;        /* "attempt", "outcome" or NULL */
	size_t limit;             /* 0: no limit; ordered by id */
} gcmsg__audit_query;

/* Row callbacks: the row is borrowed for the call; return non-zero to stop (that value is returned). */
typedef int (*gcmsg__outbox_cb)(const gcmsg__outbox_row *row, void *payload);
typedef int (*gcmsg__audit_cb)(const gcmsg__audit_rec *rec, void *payload);
typedef int (*gcmsg__webhook_cb)(const gcmsg__webhook_row *row, void *payload);

/*
 * One send of the statistics window (stats.c, gcmsg_stats_get): the outcome
 * records at or after since_ms grouped by key (an outcome without a key is a
 * send of its own). Its deciding record is its last outcome in the window
 * that is not "duplicate" (by id), else its last "duplicate".
 */
typedef struct gcmsg__stats_send {
	const char *outcome;      /* of the deciding record */
	const char *route;        /* of the deciding record; "" for none */
	const char *response_id;  /* of the deciding record; "" for none */
	long long latency_ms;     /* of the deciding record */
	int duplicate;            /* at least one outcome "duplicate" in the window */
	long attempts;            /* attempt records of the key in the window, read-backs ("readback-*") excepted */
	int throttled;            /* at least one of them has outcome "throttled" */
} gcmsg__stats_send;

typedef int (*gcmsg__stats_cb)(const gcmsg__stats_send *send, void *payload);

typedef struct gcmsg__store_backend gcmsg__store_backend; /* a backend's own state */

typedef struct gcmsg__store_ops {
	const char *name; /* "sqlite" */
	void (*close)(gcmsg__store_backend *b);

	int (*begin)(gcmsg__store_backend *b, gcmsg__err *err);    /* immediate: takes the write lock */
	int (*commit)(gcmsg__store_backend *b, gcmsg__err *err);
	void (*rollback)(gcmsg__store_backend *b);

	/* GCMSG_OK with *out filled (caller disposes), GCMSG_ENOTFOUND, or an error. */
	int (*outbox_get)(gcmsg__store_backend *b, const char *key, gcmsg__outbox_row *out, gcmsg__err *err);
	/* GCMSG_EUSAGE when the key exists. */
	int (*outbox_insert)(gcmsg__store_backend *b, const gcmsg__outbox_row *row, gcmsg__err *err);
	/* Every column but key and created_ms, by key; GCMSG_ENOTFOUND when absent. */
	int (*outbox_update)(gcmsg__store_backend *b, const gcmsg__outbox_row *row, gcmsg__err *err);
	int (*outbox_query)(gcmsg__store_backend *b, const gcmsg__outbox_query *q, gcmsg__outbox_cb cb,
	                    void *payload, gcmsg__err *err);
	/* The key of the row that recorded message_id, or ENOTFOUND (readback must not claim another's message). */
	int (*outbox_key_of_message)(gcmsg__store_backend *b, const char *message_id, char **key_out,
	                             gcmsg__err *err);

	/* Append; rec->id is ignored, *id_out receives the new id. */
	int (*audit_append)(gcmsg__store_backend *b, const gcmsg__audit_rec *rec, long long *id_out,
	                    gcmsg__err *err);
	int (*audit_query)(gcmsg__store_backend *b, const gcmsg__audit_query *q, gcmsg__audit_cb cb,
	                   void *payload, gcmsg__err *err);

	int (*webhook_insert)(gcmsg__store_backend *b, const gcmsg__webhook_row *row, gcmsg__err *err);
	/* Undelivered rows with next_attempt_ms <= now_ms (hook NULL: every hook), oldest first, at most limit. */
	int (*webhook_due)(gcmsg__store_backend *b, const char *hook, long long now_ms, size_t limit,
	                   gcmsg__webhook_cb cb, void *payload, gcmsg__err *err);
	/* attempts, delivered, last_status, last_error, next_attempt_ms, by id. */
	int (*webhook_update)(gcmsg__store_backend *b, const gcmsg__webhook_row *row, gcmsg__err *err);
	/* Every row (delivered too when all != 0), oldest first. */
	int (*webhook_list)(gcmsg__store_backend *b, int all, gcmsg__webhook_cb cb, void *payload, gcmsg__err *err);

	/* One call per send of the statistics window (gcmsg__stats_send), in no particular order. */
	int (*stats_sends)(gcmsg__store_backend *b, long long since_ms, gcmsg__stats_cb cb, void *payload,
	                   gcmsg__err *err);
} gcmsg__store_ops;

/* A configured webhook (gcmsg_store_set_webhooks): strings owned, the secret zeroed at free. */
typedef struct gcmsg__hook {
	char *name, *url, *secret;
	unsigned events; /* GCMSG_WEBHOOK_EVENT_* bits */
} gcmsg__hook;

struct gcmsg_store {
	gcmsg__err err;
	const gcmsg__store_ops *ops;
	gcmsg__store_backend *backend;
	char *location;
	gcmsg__hook *hooks;
	size_t nhooks;
	int audit_text; /* keep message texts in the audit log (gcmsg_store_options.audit_text) */
	long busy_timeout_ms;
};

/* Another handle on s's store, with its options and webhooks (one per concurrent sender: bulk.c). */
int gcmsg__store_reopen(gcmsg_store **out, gcmsg_store *s);

/* Free n hooks (the secrets zeroed first) and the array (store.c); NULL-safe. */
void gcmsg__hooks_free(gcmsg__hook *hooks, size_t n);

/* Open the SQLite backend at path (store_sqlite.c). */
int gcmsg__store_sqlite_open(gcmsg__store_backend **out, const gcmsg__store_ops **ops, const char *path,
                             const gcmsg_store_options *opts, gcmsg__err *err);
/* For tests: the sqlite3 * connection of a store on the SQLite backend, else NULL. */
void *gcmsg__store_sqlite_handle(const gcmsg_store *s);

/*
 * Append an audit record and, in the same transaction, one webhook row per
 * configured hook that wants the event (audit.c). The caller may already be
 * inside a transaction (in_tx != 0); otherwise one is opened and committed.
 */
int gcmsg__audit_record(gcmsg_store *s, const gcmsg__audit_rec *rec, int in_tx);

/*
 * Claims (outbox.c). A process claims a row (state SENDING) with its pid, host
 * name and the time before its request goes out. The claim is alive while
 * that process runs: same host and kill(pid, 0) succeeds (or fails with
 * EPERM), unless Linux's /proc shows that pid is a zombie or a process started
 * more than a minute after the claim (the pid was reused). A claim from
 * another host (or with no host name) is alive until it is older than
 * GCMSG__CLAIM_LEASE_MS. A dead claim means the process died with a request
 * possibly in flight: the row is read back before anything is resent.
 */
#define GCMSG__CLAIM_LEASE_MS (10LL * 60 * 1000)
int gcmsg__outbox_claim_alive(const gcmsg__outbox_row *row, long long now_ms);
/*
 * A claim with this process's pid and host: 1 while a delivery call of this
 * process holds it (deliver.c tracks each claim from the commit that takes it
 * to the end of its step), else 0: left behind (the store failed after the
 * request), or a dead process's whose pid this one reuses (containers).
 */
int gcmsg__outbox_claim_held(const char *key, long long claim_ms);
/* Fill the claim fields for this process. */
int gcmsg__outbox_claim(gcmsg__outbox_row *row, long long now_ms);
/* This machine's host name (gethostname, cached), "" when unknown. */
const char *gcmsg__host_name(void);

/* Wall clock in ms since the epoch (rows are compared across processes). */
long long gcmsg__wall_ms(void);

#endif
