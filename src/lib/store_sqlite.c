/*
 * store_sqlite.c - the SQLite backend of the store (store.h's vtable).
 *
 * The connection: journal_mode=WAL, synchronous=FULL (set and read back, so
 * the guarantee does not depend on how SQLite was built), a busy timeout,
 * foreign_keys=ON; every write transaction is BEGIN IMMEDIATE.
 *
 * The file: PRAGMA application_id marks a gcmsg store and PRAGMA
 * user_version holds its schema version. An empty file gets the schema; a
 * file of another program, or one written by a newer gcmsg, is refused
 * before anything is written to it.
 *
 * Every statement is prepared with bound parameters; the iterators compose
 * their WHERE clauses from constant fragments only. Errors carry
 * sqlite3_errmsg, never a value of a row (rows hold message texts).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"

#define GCMSG__APP_ID 0x67636d73 /* "gcms" */
#define GCMSG__SCHEMA_VERSION 1
#define STR_(x) #x
#define STR(x) STR_(x)

/* Schema version 1. */
static const char schema_v1[] =
	"CREATE TABLE outbox (\n"
	"  key TEXT NOT NULL PRIMARY KEY CHECK (length(key) > 0),\n"
	"  state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'unknown', 'sent', 'failed', 'dropped')),\n"
	"  conversation_id TEXT,\n"
	"  communication_id TEXT,\n"
	"  route TEXT,\n"
	"  channel TEXT,\n"
	"  path TEXT,\n"
	"  body TEXT CHECK (body IS NULL OR json_valid(body)),\n"
	"  body_sha256 TEXT CHECK (body_sha256 IS NULL OR (length(body_sha256) = 64 AND body_sha256 NOT GLOB '*[^0-9a-f]*')),\n"
	"  match_text TEXT,\n"
	"  media_id TEXT,\n"
	"  text_sha256 TEXT CHECK (text_sha256 IS NULL OR (length(text_sha256) = 64 AND text_sha256 NOT GLOB '*[^0-9a-f]*')),\n"
	"  response_id TEXT,\n"
	"  library_id TEXT,\n"
	"  response_version INTEGER NOT NULL DEFAULT -1 CHECK (response_version >= -1),\n"
	"  source TEXT,\n"
	"  who TEXT,\n"
	"  created_ms INTEGER NOT NULL,\n"
	"  updated_ms INTEGER NOT NULL,\n"
	"  first_attempt_ms INTEGER NOT NULL DEFAULT 0,\n"
	"  next_attempt_ms INTEGER NOT NULL DEFAULT 0,\n"
	"  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
	"  message_id TEXT,\n"
	"  error_code TEXT,\n"
	"  correlation_id TEXT,\n"
	"  last_error TEXT,\n"
	"  http_status INTEGER NOT NULL DEFAULT 0 CHECK (http_status >= 0),\n"
	"  claim_pid INTEGER NOT NULL DEFAULT 0 CHECK (claim_pid >= 0),\n"
	"  claim_host TEXT,\n"
	"  claim_ms INTEGER NOT NULL DEFAULT 0\n"
	") STRICT;\n"
	"CREATE INDEX outbox_due ON outbox (state, next_attempt_ms);\n"
	"CREATE INDEX outbox_conversation ON outbox (conversation_id, created_ms);\n"
	"CREATE INDEX outbox_created ON outbox (created_ms, key);\n"
	"CREATE INDEX outbox_message ON outbox (message_id) WHERE message_id IS NOT NULL;\n"
	"CREATE TABLE audit (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  time_ms INTEGER NOT NULL,\n"
	"  event TEXT NOT NULL CHECK (event IN ('attempt', 'outcome')),\n"
	"  outcome TEXT NOT NULL CHECK (length(outcome) BETWEEN 1 AND 32),\n"
	"  key TEXT,\n"
	"  who TEXT,\n"
	"  route TEXT,\n"
	"  conversation_id TEXT,\n"
	"  communication_id TEXT,\n"
	"  response_id TEXT,\n"
	"  library_id TEXT,\n"
	"  response_version INTEGER NOT NULL DEFAULT -1 CHECK (response_version >= -1),\n"
	"  channel TEXT,\n"
	"  source TEXT,\n"
	"  http_status INTEGER NOT NULL DEFAULT 0 CHECK (http_status >= 0),\n"
	"  error_code TEXT,\n"
	"  correlation_id TEXT,\n"
	"  attempt INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),\n"
	"  latency_ms INTEGER NOT NULL DEFAULT 0 CHECK (latency_ms >= 0),\n"
	"  message_id TEXT,\n"
	"  text_sha256 TEXT CHECK (text_sha256 IS NULL OR (length(text_sha256) = 64 AND text_sha256 NOT GLOB '*[^0-9a-f]*')),\n"
	"  text TEXT,\n"
	"  detail TEXT\n"
	") STRICT;\n"
	"CREATE INDEX audit_time ON audit (time_ms);\n"
	"CREATE INDEX audit_event_time ON audit (event, time_ms);\n"
	"CREATE INDEX audit_key ON audit (key, id);\n"
	"CREATE INDEX audit_conversation ON audit (conversation_id, id);\n"
	"CREATE TABLE webhook_queue (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  hook TEXT NOT NULL CHECK (length(hook) BETWEEN 1 AND 64),\n"
	"  event_id TEXT NOT NULL,\n"
	"  body TEXT NOT NULL CHECK (json_valid(body)),\n"
	"  created_ms INTEGER NOT NULL,\n"
	"  next_attempt_ms INTEGER NOT NULL DEFAULT 0,\n"
	"  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
	"  delivered INTEGER NOT NULL DEFAULT 0 CHECK (delivered IN (0, 1)),\n"
	"  last_status INTEGER NOT NULL DEFAULT 0,\n"
	"  last_error TEXT,\n"
	"  UNIQUE (hook, event_id)\n"
	") STRICT;\n"
	"CREATE INDEX webhook_due ON webhook_queue (hook, next_attempt_ms) WHERE delivered = 0;\n"
	"CREATE INDEX webhook_due_all ON webhook_queue (next_attempt_ms) WHERE delivered = 0;\n"
	"PRAGMA application_id = " STR(GCMSG__APP_ID) ";"
	"PRAGMA user_version = " STR(GCMSG__SCHEMA_VERSION) ";";

/* Column lists: the readers below depend on these orders. */
#define OUTBOX_COLS \
	"key, state, conversation_id, communication_id, route, channel, path, body, body_sha256, match_text, " \
	"media_id, text_sha256, response_id, library_id, response_version, source, who, created_ms, updated_ms, " \
	"first_attempt_ms, next_attempt_ms, attempts, message_id, error_code, correlation_id, last_error, " \
	"http_status, claim_pid, claim_host, claim_ms"
#define OUTBOX_NCOLS 30

#define AUDIT_COLS \
	"id, time_ms, event, outcome, key, who, route, conversation_id, communication_id, response_id, " \
	"library_id, response_version, channel, source, http_status, error_code, correlation_id, attempt, " \
	"latency_ms, message_id, text_sha256, text, detail"

#define WEBHOOK_COLS \
	"id, hook, event_id, body, created_ms, next_attempt_ms, attempts, delivered, last_status, last_error"

enum {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_OUTBOX_GET,
	ST_OUTBOX_INSERT,
	ST_OUTBOX_UPDATE,
	ST_OUTBOX_KEY_OF_MESSAGE,
	ST_AUDIT_APPEND,
	ST_WEBHOOK_INSERT,
	ST_WEBHOOK_UPDATE,
	ST_COUNT
};

static const char *const st_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_OUTBOX_GET] = ("SELECT " OUTBOX_COLS " FROM outbox WHERE key = ?1"),
	[ST_OUTBOX_INSERT] = ("INSERT INTO outbox (" OUTBOX_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
	                      "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, "
	                      "?26, ?27, ?28, ?29, ?30)"),
	[ST_OUTBOX_UPDATE] = ("UPDATE outbox SET state = ?2, conversation_id = ?3, communication_id = ?4, "
	                      "route = ?5, channel = ?6, path = ?7, body = ?8, body_sha256 = ?9, match_text = ?10, "
	                      "media_id = ?11, text_sha256 = ?12, response_id = ?13, library_id = ?14, "
	                      "response_version = ?15, source = ?16, who = ?17, updated_ms = ?19, "
	                      "first_attempt_ms = ?20, next_attempt_ms = ?21, attempts = ?22, message_id = ?23, "
	                      "error_code = ?24, correlation_id = ?25, last_error = ?26, http_status = ?27, "
	                      "claim_pid = ?28, claim_host = ?29, claim_ms = ?30 WHERE key = ?1"),
	[ST_OUTBOX_KEY_OF_MESSAGE] = "SELECT key FROM outbox WHERE message_id = ?1 ORDER BY created_ms LIMIT 1",
	[ST_AUDIT_APPEND] = ("INSERT INTO audit (time_ms, event, outcome, key, who, route, conversation_id, "
	                     "communication_id, response_id, library_id, response_version, channel, source, "
	                     "http_status, error_code, correlation_id, attempt, latency_ms, message_id, "
	                     "text_sha256, text, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
	                     "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22) RETURNING id"),
	[ST_WEBHOOK_INSERT] = ("INSERT INTO webhook_queue (hook, event_id, body, created_ms, next_attempt_ms, "
	                       "attempts, delivered, last_status, last_error) "
	                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
	[ST_WEBHOOK_UPDATE] = ("UPDATE webhook_queue SET attempts = ?2, delivered = ?3, last_status = ?4, "
	                       "last_error = ?5, next_attempt_ms = ?6 WHERE id = ?1"),
};

/*
 * The sends of a statistics window (store.h, gcmsg__stats_send): one row per
 * key with an outcome at or after ?1 (a keyless outcome is a send of its
 * own), its deciding record joined back for the columns; its attempts are
 * the requests (attempt records but the read-backs).
 */
static const char stats_sql[] =
	"WITH o AS ("
	"  SELECT id, key, outcome FROM audit WHERE event = 'outcome' AND time_ms >= ?1"
	"), d AS ("
	"  SELECT key, COALESCE(MAX(CASE WHEN outcome <> 'duplicate' THEN id END), MAX(id)) AS did,"
	"         MAX(outcome = 'duplicate') AS dup"
	"  FROM o GROUP BY key, CASE WHEN key IS NULL THEN id END"
	"), a AS ("
	"  SELECT key, COUNT(*) AS n, MAX(outcome = 'throttled') AS thr"
	"  FROM audit WHERE event = 'attempt' AND time_ms >= ?1 AND key IS NOT NULL"
	"    AND outcome NOT IN ('readback-found', 'readback-absent', 'readback-failed') GROUP BY key"
	") "
	"SELECT r.outcome, COALESCE(r.route, ''), COALESCE(r.response_id, ''), r.latency_ms, d.dup,"
	"       COALESCE(a.n, 0), COALESCE(a.thr, 0) "
	"FROM d JOIN audit AS r ON r.id = d.did LEFT JOIN a ON a.key = d.key";

struct gcmsg__store_backend {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST_COUNT];
	int last_rc; /* the SQLite result code of the last failure (db_fail) */
};

/* ---- errors ---- */

static int code_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_READONLY:
	case SQLITE_AUTH:
		return GCMSG_ECONFIG;
	case SQLITE_CONSTRAINT:
		return GCMSG_EUSAGE;
	default:
		return GCMSG_ERROR;
	}
}

/* "store PATH: WHAT: <sqlite3_errmsg>"; the code from the SQLite result code. */
static int db_fail(gcmsg__store_backend *b, gcmsg__err *err, int rc, const char *what)
{
	const char *msg = b->db ? sqlite3_errmsg(b->db) : sqlite3_errstr(rc);
	int code = code_of(rc);

	b->last_rc = rc;
	gcmsg__err_set(err, code, "store %s: %s: %s", b->path, what, msg ? msg : sqlite3_errstr(rc));
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		gcmsg__err_set_fix(err, "another process held the store's write lock too long; try again");
	else if ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_PERM)
		gcmsg__err_set_fix(err, "the store and its directory must be writable by this user");
	return code;
}

static int oom(gcmsg__err *err)
{
	return gcmsg__err_set(err, GCMSG_ERROR, "out of memory");
}

/* ---- binding and reading ---- */

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int bind_outbox(sqlite3_stmt *st, const gcmsg__outbox_row *r)
{
	const char *state;
	int rc = 0;

	if ((int)r->state < GCMSG_OUTBOX_PENDING || (int)r->state > GCMSG_OUTBOX_DROPPED)
		return SQLITE_MISUSE;
	state = gcmsg_outbox_state_name(r->state);
	rc |= bind_text(st, 1, r->key);
	rc |= bind_text(st, 2, state);
	rc |= bind_text(st, 3, r->conversation_id);
	rc |= bind_text(st, 4, r->communication_id);
	rc |= bind_text(st, 5, r->route);
	rc |= bind_text(st, 6, r->channel);
	rc |= bind_text(st, 7, r->path);
	rc |= bind_text(st, 8, r->body);
	rc |= bind_text(st, 9, r->body_sha256);
	rc |= bind_text(st, 10, r->match_text);
	rc |= bind_text(st, 11, r->media_id);
	rc |= bind_text(st, 12, r->text_sha256);
	rc |= bind_text(st, 13, r->response_id);
	rc |= bind_text(st, 14, r->library_id);
	rc |= sqlite3_bind_int64(st, 15, r->response_version);
	rc |= bind_text(st, 16, r->source);
	rc |= bind_text(st, 17, r->who);
	rc |= sqlite3_bind_int64(st, 18, r->created_ms);
	rc |= sqlite3_bind_int64(st, 19, r->updated_ms);
	rc |= sqlite3_bind_int64(st, 20, r->first_attempt_ms);
	rc |= sqlite3_bind_int64(st, 21, r->next_attempt_ms);
	rc |= sqlite3_bind_int64(st, 22, r->attempts);
	rc |= bind_text(st, 23, r->message_id);
	rc |= bind_text(st, 24, r->error_code);
	rc |= bind_text(st, 25, r->correlation_id);
	rc |= bind_text(st, 26, r->last_error);
	rc |= sqlite3_bind_int64(st, 27, r->http_status);
	rc |= sqlite3_bind_int64(st, 28, r->claim_pid);
	rc |= bind_text(st, 29, r->claim_host);
	rc |= sqlite3_bind_int64(st, 30, r->claim_ms);
	return rc ? SQLITE_ERROR : SQLITE_OK;
}

/* A borrowed text column (valid until the next step or reset); NULL for SQL NULL; *ok = 0 on OOM. */
static char *col_text(sqlite3_stmt *st, int i, int *ok)
{
	const unsigned char *p;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	p = sqlite3_column_text(st, i);
	if (!p) {
		*ok = 0;
		return NULL;
	}
	return (char *)(uintptr_t)p;
}

/* Fill r with borrowed pointers into the current row of st (columns OUTBOX_COLS). */
static int read_outbox(sqlite3_stmt *st, gcmsg__outbox_row *r)
{
	int ok = 1, state;

	gcmsg__outbox_row_init(r);
	r->key = col_text(st, 0, &ok);
	state = gcmsg_outbox_state_parse((const char *)sqlite3_column_text(st, 1));
	if (state < 0)
		return -1;
	r->state = (gcmsg_outbox_state)state;
	r->conversation_id = col_text(st, 2, &ok);
	r->communication_id = col_text(st, 3, &ok);
	r->route = col_text(st, 4, &ok);
	r->channel = col_text(st, 5, &ok);
	r->path = col_text(st, 6, &ok);
	r->body = col_text(st, 7, &ok);
	r->body_sha256 = col_text(st, 8, &ok);
	r->match_text = col_text(st, 9, &ok);
	r->media_id = col_text(st, 10, &ok);
	r->text_sha256 = col_text(st, 11, &ok);
	r->response_id = col_text(st, 12, &ok);
	r->library_id = col_text(st, 13, &ok);
	r->response_version = (long)sqlite3_column_int64(st, 14);
	r->source = col_text(st, 15, &ok);
	r->who = col_text(st, 16, &ok);
	r->created_ms = sqlite3_column_int64(st, 17);
	r->updated_ms = sqlite3_column_int64(st, 18);
	r->first_attempt_ms = sqlite3_column_int64(st, 19);
	r->next_attempt_ms = sqlite3_column_int64(st, 20);
	r->attempts = (int)sqlite3_column_int64(st, 21);
	r->message_id = col_text(st, 22, &ok);
	r->error_code = col_text(st, 23, &ok);
	r->correlation_id = col_text(st, 24, &ok);
	r->last_error = col_text(st, 25, &ok);
	r->http_status = (long)sqlite3_column_int64(st, 26);
	r->claim_pid = (long)sqlite3_column_int64(st, 27);
	r->claim_host = col_text(st, 28, &ok);
	r->claim_ms = sqlite3_column_int64(st, 29);
	return ok ? 0 : -2;
}

static int read_audit(sqlite3_stmt *st, gcmsg__audit_rec *r)
{
	int ok = 1;

	gcmsg__audit_rec_init(r);
	r->id = sqlite3_column_int64(st, 0);
	r->time_ms = sqlite3_column_int64(st, 1);
	r->event = col_text(st, 2, &ok);
	r->outcome = col_text(st, 3, &ok);
	r->key = col_text(st, 4, &ok);
	r->who = col_text(st, 5, &ok);
	r->route = col_text(st, 6, &ok);
	r->conversation_id = col_text(st, 7, &ok);
	r->communication_id = col_text(st, 8, &ok);
	r->response_id = col_text(st, 9, &ok);
	r->library_id = col_text(st, 10, &ok);
	r->response_version = (long)sqlite3_column_int64(st, 11);
	r->channel = col_text(st, 12, &ok);
	r->source = col_text(st, 13, &ok);
	r->http_status = (long)sqlite3_column_int64(st, 14);
	r->error_code = col_text(st, 15, &ok);
	r->correlation_id = col_text(st, 16, &ok);
	r->attempt = (int)sqlite3_column_int64(st, 17);
	r->latency_ms = sqlite3_column_int64(st, 18);
	r->message_id = col_text(st, 19, &ok);
	r->text_sha256 = col_text(st, 20, &ok);
	r->text = col_text(st, 21, &ok);
	r->detail = col_text(st, 22, &ok);
	return ok ? 0 : -2;
}

static int read_webhook(sqlite3_stmt *st, gcmsg__webhook_row *r)
{
	int ok = 1;

	gcmsg__webhook_row_init(r);
	r->id = sqlite3_column_int64(st, 0);
	r->hook = col_text(st, 1, &ok);
	r->event_id = col_text(st, 2, &ok);
	r->body = col_text(st, 3, &ok);
	r->created_ms = sqlite3_column_int64(st, 4);
	r->next_attempt_ms = sqlite3_column_int64(st, 5);
	r->attempts = (int)sqlite3_column_int64(st, 6);
	r->delivered = (int)sqlite3_column_int64(st, 7);
	r->last_status = (long)sqlite3_column_int64(st, 8);
	r->last_error = col_text(st, 9, &ok);
	return ok ? 0 : -2;
}

static sqlite3_stmt *stmt(gcmsg__store_backend *b, int which)
{
	sqlite3_stmt *st = b->st[which];

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return st;
}

/* Step a statement that returns no row (or whose rows are ignored); resets it. */
static int run(gcmsg__store_backend *b, sqlite3_stmt *st, gcmsg__err *err, const char *what)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		int code = db_fail(b, err, rc, what);
		sqlite3_reset(st);
		return code;
	}
	sqlite3_reset(st);
	return GCMSG_OK;
}

/* ---- transactions ---- */

static int sq_begin(gcmsg__store_backend *b, gcmsg__err *err)
{
	return run(b, stmt(b, ST_BEGIN), err, "cannot begin a transaction");
}

static void sq_rollback(gcmsg__store_backend *b)
{
	if (!sqlite3_get_autocommit(b->db)) {
		sqlite3_stmt *st = stmt(b, ST_ROLLBACK);
		if (st) {
			sqlite3_step(st);
			sqlite3_reset(st);
		} else {
			sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
		}
	}
}

/* A failed commit rolls back (the transaction is over either way). */
static int sq_commit(gcmsg__store_backend *b, gcmsg__err *err)
{
	int rc = run(b, stmt(b, ST_COMMIT), err, "cannot commit");

	if (rc < 0)
		sq_rollback(b);
	return rc;
}

/* ---- outbox ---- */

static int sq_outbox_get(gcmsg__store_backend *b, const char *key, gcmsg__outbox_row *out, gcmsg__err *err)
{
	sqlite3_stmt *st = stmt(b, ST_OUTBOX_GET);
	gcmsg__outbox_row row;
	int rc;

	if (!key)
		return gcmsg__err_set(err, GCMSG_EUSAGE, "no outbox key given");
	bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return gcmsg__err_set(err, GCMSG_ENOTFOUND, "no outbox entry with key %s", key);
	}
	if (rc != SQLITE_ROW) {
		rc = db_fail(b, err, rc, "cannot read the outbox");
		sqlite3_reset(st);
		return rc;
	}
	if ((rc = read_outbox(st, &row)) < 0) {
		sqlite3_reset(st);
		return rc == -1 ? gcmsg__err_set(err, GCMSG_ERROR, "store %s: an outbox row has an unknown state",
		                                 b->path)
		                : oom(err);
	}
	rc = gcmsg__outbox_row_copy(out, &row);
	sqlite3_reset(st);
	return rc < 0 ? oom(err) : GCMSG_OK;
}

static int sq_outbox_insert(gcmsg__store_backend *b, const gcmsg__outbox_row *row, gcmsg__err *err)
{
	sqlite3_stmt *st = stmt(b, ST_OUTBOX_INSERT);
	int rc;

	if (!row->key)
		return gcmsg__err_set(err, GCMSG_EUSAGE, "no outbox key given");
	if (bind_outbox(st, row) != SQLITE_OK)
		return gcmsg__err_set(err, GCMSG_EUSAGE, "invalid outbox row (state %d)", (int)row->state);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		sqlite3_reset(st);
		return gcmsg__err_set(err, GCMSG_EUSAGE, "the outbox already holds key %s", row->key);
	}
	if (rc != SQLITE_DONE) {
		rc = db_fail(b, err, rc, "cannot record the outbox entry");
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return GCMSG_OK;
}

static int sq_outbox_update(gcmsg__store_backend *b, const gcmsg__outbox_row *row, gcmsg__err *err)
{
	sqlite3_stmt *st = stmt(b, ST_OUTBOX_UPDATE);
	int rc;

	if (!row->key)
		return gcmsg__err_set(err, GCMSG_EUSAGE, "no outbox key given");
	if (bind_outbox(st, row) != SQLITE_OK)
		return gcmsg__err_set(err, GCMSG_EUSAGE, "invalid outbox row (state %d)", (int)row->state);
	if ((rc = run(b, st, err, "cannot update the outbox entry")) < 0)
		return rc;
	if (sqlite3_changes(b->db) == 0)
		return gcmsg__err_set(err, GCMSG_ENOTFOUND, "no outbox entry with key %s", row->key);
	return GCMSG_OK;
}

/* Compose SQL from constant fragments (never from values). */
typedef struct sqlbuf {
	char s[1024];
	size_t n;
	int overflow;
} sqlbuf;

static void sql_add(sqlbuf *q, const char *frag)
{
	size_t n = strlen(frag);

	if (q->n + n >= sizeof(q->s)) {
		q->overflow = 1;
		return;
	}
	memcpy(q->s + q->n, frag, n + 1);
	q->n += n;
}

static int sq_prepare(gcmsg__store_backend *b, const sqlbuf *q, sqlite3_stmt **st, gcmsg__err *err)
{
	int rc;

	*st = NULL;
	if (q->overflow)
		return gcmsg__err_set(err, GCMSG_ERROR, "store query too long");
	rc = sqlite3_prepare_v2(b->db, q->s, (int)q->n + 1, st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(b, err, rc, "cannot prepare a query");
	return GCMSG_OK;
}

/* Step every row, calling each(st) until it returns non-zero; finalizes st. */
static int iterate(gcmsg__store_backend *b, sqlite3_stmt *st, int (*each)(sqlite3_stmt *, void *), void *ctx,
                   gcmsg__err *err, const char *what)
{
	int rc, stop = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((stop = each(st, ctx)) != 0)
			break;
	}
	if (!stop && rc != SQLITE_DONE)
		stop = db_fail(b, err, rc, what);
	sqlite3_finalize(st);
	return stop;
}

typedef struct row_ctx {
	gcmsg__store_backend *b;
	gcmsg__err *err;
	void *cb;
	void *payload;
} row_ctx;

static int each_outbox(sqlite3_stmt *st, void *p)
{
	row_ctx *c = p;
	gcmsg__outbox_row row;
	int rc = read_outbox(st, &row);

	if (rc == -1)
		return gcmsg__err_set(c->err, GCMSG_ERROR, "store %s: an outbox row has an unknown state", c->b->path);
	if (rc < 0)
		return oom(c->err);
	return ((gcmsg__outbox_cb)c->cb)(&row, c->payload);
}

static int sq_outbox_query(gcmsg__store_backend *b, const gcmsg__outbox_query *q, gcmsg__outbox_cb cb,
                           void *payload, gcmsg__err *err)
{
	sqlbuf sql = { .n = 0 };
	sqlite3_stmt *st;
	row_ctx ctx = { b, err, (void *)cb, payload };
	int rc, i = 0, s, first = 1;

	sql_add(&sql, "SELECT " OUTBOX_COLS " FROM outbox WHERE 1");
	if (q->states) {
		sql_add(&sql, " AND state IN (");
		for (s = GCMSG_OUTBOX_PENDING; s <= GCMSG_OUTBOX_DROPPED; s++) {
			if (q->states & (1u << s)) {
				sql_add(&sql, first ? "?" : ", ?");
				first = 0;
			}
		}
		if (first)
			sql_add(&sql, "NULL"); /* no known state wanted: nothing matches */
		sql_add(&sql, ")");
	}
	if (q->key)
		sql_add(&sql, " AND key = ?");
	if (q->conversation_id)
		sql_add(&sql, " AND conversation_id = ?");
	if (q->since_ms)
		sql_add(&sql, " AND created_ms >= ?");
	if (q->due_before_ms)
		sql_add(&sql, " AND next_attempt_ms <= ?");
	sql_add(&sql, " ORDER BY created_ms, key");
	if (q->limit)
		sql_add(&sql, " LIMIT ?");
	if ((rc = sq_prepare(b, &sql, &st, err)) < 0)
		return rc;
	if (q->states)
		for (s = GCMSG_OUTBOX_PENDING; s <= GCMSG_OUTBOX_DROPPED; s++)
			if (q->states & (1u << s))
				bind_text(st, ++i, gcmsg_outbox_state_name((gcmsg_outbox_state)s));
	if (q->key)
		bind_text(st, ++i, q->key);
	if (q->conversation_id)
		bind_text(st, ++i, q->conversation_id);
	if (q->since_ms)
		sqlite3_bind_int64(st, ++i, q->since_ms);
	if (q->due_before_ms)
		sqlite3_bind_int64(st, ++i, q->due_before_ms);
	if (q->limit)
		sqlite3_bind_int64(st, ++i, q->limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)q->limit);
	return iterate(b, st, each_outbox, &ctx, err, "cannot read the outbox");
}

static int sq_outbox_key_of_message(gcmsg__store_backend *b, const char *message_id, char **key_out,
                                    gcmsg__err *err)
{
	sqlite3_stmt *st = stmt(b, ST_OUTBOX_KEY_OF_MESSAGE);
	int rc;

	*key_out = NULL;
	if (!message_id)
		return gcmsg__err_set(err, GCMSG_EUSAGE, "no message id given");
	bind_text(st, 1, message_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return gcmsg__err_set(err, GCMSG_ENOTFOUND, "no outbox entry recorded message %s", message_id);
	}
	if (rc != SQLITE_ROW) {
		rc = db_fail(b, err, rc, "cannot read the outbox");
		sqlite3_reset(st);
		return rc;
	}
	*key_out = gcmsg__strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return *key_out ? GCMSG_OK : oom(err);
}

/* ---- audit ---- */

static int sq_audit_append(gcmsg__store_backend *b, const gcmsg__audit_rec *r, long long *id_out,
                           gcmsg__err *err)
{
	sqlite3_stmt *st = stmt(b, ST_AUDIT_APPEND);
	int rc = 0;

	if (id_out)
		*id_out = 0;
	rc |= sqlite3_bind_int64(st, 1, r->time_ms);
	rc |= bind_text(st, 2, r->event);
	rc |= bind_text(st, 3, r->outcome);
	rc |= bind_text(st, 4, r->key);
	rc |= bind_text(st, 5, r->who);
	rc |= bind_text(st, 6, r->route);
	rc |= bind_text(st, 7, r->conversation_id);
	rc |= bind_text(st, 8, r->communication_id);
	rc |= bind_text(st, 9, r->response_id);
	rc |= bind_text(st, 10, r->library_id);
	rc |= sqlite3_bind_int64(st, 11, r->response_version);
	rc |= bind_text(st, 12, r->channel);
	rc |= bind_text(st, 13, r->source);
	rc |= sqlite3_bind_int64(st, 14, r->http_status);
	rc |= bind_text(st, 15, r->error_code);
	rc |= bind_text(st, 16, r->correlation_id);
	rc |= sqlite3_bind_int64(st, 17, r->attempt);
	rc |= sqlite3_bind_int64(st, 18, r->latency_ms);
	rc |= bind_text(st, 19, r->message_id);
	rc |= bind_text(st, 20, r->text_sha256);
	rc |= bind_text(st, 21, r->text);
	rc |= bind_text(st, 22, r->detail);
	if (rc)
		return db_fail(b, err, SQLITE_ERROR, "cannot bind an audit record");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = db_fail(b, err, rc, "cannot append to the audit log");
		sqlite3_reset(st);
		return rc;
	}
	if (id_out)
		*id_out = sqlite3_column_int64(st, 0);
	return run(b, st, err, "cannot append to the audit log"); /* finish the statement */
}

static int each_audit(sqlite3_stmt *st, void *p)
{
	row_ctx *c = p;
	gcmsg__audit_rec rec;

	if (read_audit(st, &rec) < 0)
		return oom(c->err);
	return ((gcmsg__audit_cb)c->cb)(&rec, c->payload);
}

static int sq_audit_query(gcmsg__store_backend *b, const gcmsg__audit_query *q, gcmsg__audit_cb cb, void *payload,
                          gcmsg__err *err)
{
	sqlbuf sql = { .n = 0 };
	sqlite3_stmt *st;
	row_ctx ctx = { b, err, (void *)cb, payload };
	int rc, i = 0;

	sql_add(&sql, "SELECT " AUDIT_COLS " FROM audit WHERE 1");
	if (q->since_ms)
		sql_add(&sql, " AND time_ms >= ?");
	if (q->until_ms)
		sql_add(&sql, " AND time_ms < ?");
	if (q->conversation_id)
		sql_add(&sql, " AND conversation_id = ?");
	if (q->key)
		sql_add(&sql, " AND key = ?");
	if (q->event)
		sql_add(&sql, " AND event = ?");
	sql_add(&sql, " ORDER BY id");
	if (q->limit)
		sql_add(&sql, " LIMIT ?");
	if ((rc = sq_prepare(b, &sql, &st, err)) < 0)
		return rc;
	if (q->since_ms)
		sqlite3_bind_int64(st, ++i, q->since_ms);
	if (q->until_ms)
		sqlite3_bind_int64(st, ++i, q->until_ms);
	if (q->conversation_id)
		bind_text(st, ++i, q->conversation_id);
	if (q->key)
		bind_text(st, ++i, q->key);
	if (q->event)
		bind_text(st, ++i, q->event);
	if (q->limit)
		sqlite3_bind_int64(st, ++i, q->limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)q->limit);
	return iterate(b, st, each_audit, &ctx, err, "cannot read the audit log");
}

/* ---- webhook queue ---- */

static int sq_webhook_insert(gcmsg__store_backend *b, const gcmsg__webhook_row *r, gcmsg__err *err)
{
	sqlite3_stmt *st = stmt(b, ST_WEBHOOK_INSERT);
	int rc = 0;

	rc |= bind_text(st, 1, r->hook);
	rc |= bind_text(st, 2, r->event_id);
	rc |= bind_text(st, 3, r->body);
	rc |= sqlite3_bind_int64(st, 4, r->created_ms);
	rc |= sqlite3_bind_int64(st, 5, r->next_attempt_ms);
	rc |= sqlite3_bind_int64(st, 6, r->attempts);
	rc |= sqlite3_bind_int64(st, 7, r->delivered != 0);
	rc |= sqlite3_bind_int64(st, 8, r->last_status);
	rc |= bind_text(st, 9, r->last_error);
	if (rc)
		return db_fail(b, err, SQLITE_ERROR, "cannot bind a webhook event");
	return run(b, st, err, "cannot queue a webhook event");
}

static int sq_webhook_update(gcmsg__store_backend *b, const gcmsg__webhook_row *r, gcmsg__err *err)
{
	sqlite3_stmt *st = stmt(b, ST_WEBHOOK_UPDATE);
	int rc = 0;

	rc |= sqlite3_bind_int64(st, 1, r->id);
	rc |= sqlite3_bind_int64(st, 2, r->attempts);
	rc |= sqlite3_bind_int64(st, 3, r->delivered != 0);
	rc |= sqlite3_bind_int64(st, 4, r->last_status);
	rc |= bind_text(st, 5, r->last_error);
	rc |= sqlite3_bind_int64(st, 6, r->next_attempt_ms);
	if (rc)
		return db_fail(b, err, SQLITE_ERROR, "cannot bind a webhook event");
	if ((rc = run(b, st, err, "cannot update a webhook event")) < 0)
		return rc;
	if (sqlite3_changes(b->db) == 0)
		return gcmsg__err_set(err, GCMSG_ENOTFOUND, "no webhook event with id %lld", r->id);
	return GCMSG_OK;
}

static int each_webhook(sqlite3_stmt *st, void *p)
{
	row_ctx *c = p;
	gcmsg__webhook_row row;

	if (read_webhook(st, &row) < 0)
		return oom(c->err);
	return ((gcmsg__webhook_cb)c->cb)(&row, c->payload);
}

static int sq_webhook_due(gcmsg__store_backend *b, const char *hook, long long now_ms, size_t limit,
                          gcmsg__webhook_cb cb, void *payload, gcmsg__err *err)
{
	sqlbuf sql = { .n = 0 };
	sqlite3_stmt *st;
	row_ctx ctx = { b, err, (void *)cb, payload };
	int rc, i = 0;

	sql_add(&sql, "SELECT " WEBHOOK_COLS " FROM webhook_queue WHERE delivered = 0 AND next_attempt_ms <= ?");
	if (hook)
		sql_add(&sql, " AND hook = ?");
	sql_add(&sql, " ORDER BY id");
	if (limit)
		sql_add(&sql, " LIMIT ?");
	if ((rc = sq_prepare(b, &sql, &st, err)) < 0)
		return rc;
	sqlite3_bind_int64(st, ++i, now_ms);
	if (hook)
		bind_text(st, ++i, hook);
	if (limit)
		sqlite3_bind_int64(st, ++i, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
	return iterate(b, st, each_webhook, &ctx, err, "cannot read the webhook queue");
}

static int sq_webhook_list(gcmsg__store_backend *b, int all, gcmsg__webhook_cb cb, void *payload,
                           gcmsg__err *err)
{
	sqlbuf sql = { .n = 0 };
	sqlite3_stmt *st;
	row_ctx ctx = { b, err, (void *)cb, payload };
	int rc;

	sql_add(&sql, "SELECT " WEBHOOK_COLS " FROM webhook_queue");
	if (!all)
		sql_add(&sql, " WHERE delivered = 0");
	sql_add(&sql, " ORDER BY id");
	if ((rc = sq_prepare(b, &sql, &st, err)) < 0)
		return rc;
	return iterate(b, st, each_webhook, &ctx, err, "cannot read the webhook queue");
}

/* ---- statistics ---- */

static int each_send(sqlite3_stmt *st, void *p)
{
	row_ctx *c = p;
	gcmsg__stats_send s;
	int ok = 1;

	s.outcome = col_text(st, 0, &ok);
	s.route = col_text(st, 1, &ok);
	s.response_id = col_text(st, 2, &ok);
	s.latency_ms = sqlite3_column_int64(st, 3);
	s.duplicate = sqlite3_column_int64(st, 4) != 0;
	s.attempts = (long)sqlite3_column_int64(st, 5);
	s.throttled = sqlite3_column_int64(st, 6) != 0;
	if (!ok || !s.outcome || !s.route || !s.response_id)
		return oom(c->err);
	return ((gcmsg__stats_cb)c->cb)(&s, c->payload);
}

static int sq_stats_sends(gcmsg__store_backend *b, long long since_ms, gcmsg__stats_cb cb, void *payload,
                          gcmsg__err *err)
{
	sqlite3_stmt *st = NULL;
	row_ctx ctx = { b, err, (void *)cb, payload };
	int rc = sqlite3_prepare_v2(b->db, stats_sql, (int)sizeof(stats_sql), &st, NULL);

	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return db_fail(b, err, rc, "cannot prepare the statistics query");
	}
	sqlite3_bind_int64(st, 1, since_ms);
	return iterate(b, st, each_send, &ctx, err, "cannot read the audit log");
}

/* ---- open and close ---- */

static void sq_close(gcmsg__store_backend *b)
{
	size_t i;

	if (!b)
		return;
	if (b->db)
		sq_rollback(b); /* a transaction left open is not committed */
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(b->st[i]);
	if (b->db)
		sqlite3_close_v2(b->db);
	free(b->path);
	free(b);
}

static const gcmsg__store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.outbox_get = sq_outbox_get,
	.outbox_insert = sq_outbox_insert,
	.outbox_update = sq_outbox_update,
	.outbox_query = sq_outbox_query,
	.outbox_key_of_message = sq_outbox_key_of_message,
	.audit_append = sq_audit_append,
	.audit_query = sq_audit_query,
	.webhook_insert = sq_webhook_insert,
	.webhook_due = sq_webhook_due,
	.webhook_update = sq_webhook_update,
	.webhook_list = sq_webhook_list,
	.stats_sends = sq_stats_sends,
};

/* One integer from a constant statement (a PRAGMA or a count). */
static int query_int(gcmsg__store_backend *b, const char *sql, sqlite3_int64 *out, gcmsg__err *err,
                     const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(b->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
			return GCMSG_OK;
		}
	}
	rc = db_fail(b, err, rc, what);
	sqlite3_finalize(st);
	return rc;
}

/* One text from a constant statement, copied into out. */
static int query_text(gcmsg__store_backend *b, const char *sql, char *out, size_t size, gcmsg__err *err,
                      const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(b->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(st, 0);
			snprintf(out, size, "%s", t ? t : "");
			sqlite3_finalize(st);
			return GCMSG_OK;
		}
	}
	rc = db_fail(b, err, rc, what);
	sqlite3_finalize(st);
	return rc;
}

/*
 * What the file is: 0 empty (to be created), 1 a gcmsg store of a schema we
 * read, or an error. One statement, so one snapshot: another process may be
 * creating the schema meanwhile.
 */
static int identify(gcmsg__store_backend *b, gcmsg__err *err)
{
	static const char sql[] = "SELECT (SELECT application_id FROM pragma_application_id), "
	                          "(SELECT user_version FROM pragma_user_version), "
	                          "(SELECT count(*) FROM sqlite_schema)";
	sqlite3_int64 app = 0, version = 0, objects = 0;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(b->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		app = sqlite3_column_int64(st, 0);
		version = sqlite3_column_int64(st, 1);
		objects = sqlite3_column_int64(st, 2);
		rc = GCMSG_OK;
	} else if ((rc & 0xff) == SQLITE_NOTADB) {
		b->last_rc = rc;
		rc = gcmsg__err_set(err, GCMSG_ECONFIG, "store %s is not a gcmsg store: %s", b->path,
		                    sqlite3_errmsg(b->db));
	} else {
		rc = db_fail(b, err, rc, "cannot read the file");
	}
	sqlite3_finalize(st);
	if (rc < 0) {
		if (rc == GCMSG_ECONFIG)
			gcmsg__err_set_fix(err, "give another store path, or move %s away", b->path);
		return rc;
	}
	if (app == 0 && version == 0 && objects == 0)
		return 0;
	if (app != GCMSG__APP_ID || version < 1) {
		rc = gcmsg__err_set(err, GCMSG_ECONFIG,
		                    "store %s is not a gcmsg store: an SQLite database of another program", b->path);
		gcmsg__err_set_fix(err, "give another store path, or move %s away", b->path);
		return rc;
	}
	if (version > GCMSG__SCHEMA_VERSION) {
		rc = gcmsg__err_set(err, GCMSG_ECONFIG,
		                    "store %s was written by a newer gcmsg (schema %lld; this version reads up to %d)",
		                    b->path, (long long)version, GCMSG__SCHEMA_VERSION);
		gcmsg__err_set_fix(err, "use a newer gcmsg with this store, or give another store path");
		return rc;
	}
	return 1;
}

/* Set a PRAGMA (a constant statement) and check what it reads back. */
static int pragma_int(gcmsg__store_backend *b, const char *set, const char *get, sqlite3_int64 want,
                      gcmsg__err *err, const char *what)
{
	sqlite3_int64 got = -1;
	char *msg = NULL;
	int rc = sqlite3_exec(b->db, set, NULL, NULL, &msg);

	sqlite3_free(msg);
	if (rc != SQLITE_OK)
		return db_fail(b, err, rc, what);
	if ((rc = query_int(b, get, &got, err, what)) < 0)
		return rc;
	if (got != want)
		return gcmsg__err_set(err, GCMSG_ECONFIG, "store %s: %s: it reads back as %lld", b->path, what,
		                      (long long)got);
	return GCMSG_OK;
}

static int configure(gcmsg__store_backend *b, gcmsg__err *err)
{
	char mode[32];
	int rc;

	if ((rc = query_text(b, "PRAGMA journal_mode = WAL", mode, sizeof(mode), err,
	                     "cannot use write-ahead logging")) < 0)
		return rc;
	if (strcmp(mode, "wal") != 0) {
		rc = gcmsg__err_set(err, GCMSG_ECONFIG, "store %s: cannot use write-ahead logging (journal mode %s)",
		                    b->path, mode);
		gcmsg__err_set_fix(err, "put the store on a local file system");
		return rc;
	}
	if ((rc = pragma_int(b, "PRAGMA synchronous = FULL", "PRAGMA synchronous", 2, err,
	                     "cannot set synchronous=FULL")) < 0)
		return rc;
	return pragma_int(b, "PRAGMA foreign_keys = ON", "PRAGMA foreign_keys", 1, err, "cannot set foreign_keys");
}

/* Create the schema of an empty file, unless another process did it first. */
static int create_schema(gcmsg__store_backend *b, gcmsg__err *err)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
	sqlite3_free(msg);
	if (rc != SQLITE_OK)
		return db_fail(b, err, rc, "cannot begin a transaction");
	if ((rc = identify(b, err)) == 0) {
		rc = sqlite3_exec(b->db, schema_v1, NULL, NULL, &msg);
		sqlite3_free(msg);
		if (rc != SQLITE_OK) {
			rc = db_fail(b, err, rc, "cannot create the schema");
			sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	} else if (rc < 0) {
		sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	rc = sqlite3_exec(b->db, "COMMIT", NULL, NULL, &msg);
	sqlite3_free(msg);
	if (rc != SQLITE_OK) {
		rc = db_fail(b, err, rc, "cannot create the schema");
		sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return GCMSG_OK;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int gcmsg__store_sqlite_open(gcmsg__store_backend **out, const gcmsg__store_ops **ops, const char *path,
                             const gcmsg_store_options *opts, gcmsg__err *err)
{
	gcmsg__store_backend *b;
	long timeout = opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 5000;
	long long deadline;
	size_t i;
	int rc, kind;

	*out = NULL;
	*ops = NULL;
	if (!(b = calloc(1, sizeof(*b))) || !(b->path = gcmsg__strdup(path))) {
		free(b);
		return oom(err);
	}
	rc = sqlite3_open_v2(path, &b->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(b, err, rc, "cannot open");
		sq_close(b);
		return rc;
	}
	sqlite3_extended_result_codes(b->db, 1);
	sqlite3_busy_timeout(b->db, timeout > INT32_MAX ? INT32_MAX : (int)timeout);
	sqlite3_db_config(b->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);

	/*
	 * Know what the file is before changing anything in it. Switching a new
	 * file to WAL while another process does the same can answer
	 * SQLITE_BUSY without waiting for the busy handler: retry until the
	 * busy timeout.
	 */
	deadline = mono_ms() + timeout;
	for (;;) {
		b->last_rc = SQLITE_OK;
		if ((kind = identify(b, err)) >= 0 && (rc = configure(b, err)) == GCMSG_OK &&
		    (kind == 1 || (rc = create_schema(b, err)) == GCMSG_OK))
			break;
		if (kind < 0)
			rc = kind;
		if (((b->last_rc & 0xff) != SQLITE_BUSY && (b->last_rc & 0xff) != SQLITE_LOCKED) ||
		    mono_ms() >= deadline) {
			sq_close(b);
			return rc;
		}
		sleep_ms(10);
	}
	for (i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(b->db, st_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &b->st[i], NULL);
		if (rc != SQLITE_OK) {
			rc = db_fail(b, err, rc, "the file does not have the expected schema");
			sq_close(b);
			return rc;
		}
	}
	*out = b;
	*ops = &sqlite_ops;
	return GCMSG_OK;
}

void *gcmsg__store_sqlite_handle(const gcmsg_store *s)
{
	return s && s->ops == &sqlite_ops && s->backend ? s->backend->db : NULL;
}
