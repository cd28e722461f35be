/*
 * store_sqlite.c - the SQLite backend of the store (store.h's vtable).
 *
 * The connection: journal_mode=WAL, a busy timeout, foreign_keys=ON; every
 * write transaction is BEGIN IMMEDIATE.
 *
 * Durability is synchronous=FULL's, by a group commit. In WAL mode FULL is
 * NORMAL plus a sync of the write-ahead log after every commit. The
 * connection runs NORMAL (set and read back) and commit syncs the log itself
 * (wal_sync) before it returns: the caller's transaction is on disk, as with
 * FULL. But the sync happens after the write lock is released, and one sync
 * covers every commit that finished before it began, so concurrent writers
 * (the senders of a bulk run, each with its own connection to the same file)
 * share syncs instead of queueing one each behind the lock.
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

#include <pthread.h>
#include <sqlite3.h>

#include "store_rows.h"

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

/*
 * Column lists, in the order of the schema and of the row kinds (store.c):
 * a statement that reads rows selects them whole (read_row), and one that
 * writes a row numbers its parameters by column, ?N being the kind's Nth
 * (bind_row binds those it uses).
 */
#define OUTBOX_COLS \
	"key, state, conversation_id, communication_id, route, channel, path, body, body_sha256, match_text, " \
	"media_id, text_sha256, response_id, library_id, response_version, source, who, created_ms, updated_ms, " \
	"first_attempt_ms, next_attempt_ms, attempts, message_id, error_code, correlation_id, last_error, " \
	"http_status, claim_pid, claim_host, claim_ms"

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
	                     "text_sha256, text, detail) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
	                     "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23) RETURNING id"),
	[ST_WEBHOOK_INSERT] = ("INSERT INTO webhook_queue (hook, event_id, body, created_ms, next_attempt_ms, "
	                       "attempts, delivered, last_status, last_error) "
	                       "VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
	[ST_WEBHOOK_UPDATE] = ("UPDATE webhook_queue SET next_attempt_ms = ?6, attempts = ?7, delivered = ?8, "
	                       "last_status = ?9, last_error = ?10 WHERE id = ?1"),
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
	int writing; /* this connection holds write_mu (between begin and commit/rollback) */
	long busy_timeout_ms;
	struct sync_group *group; /* the group commit of this file */
};

/*
 * SQLite lets one connection write at a time, and a connection that finds the
 * lock taken sleeps in its busy handler (milliseconds at a time). The
 * concurrent senders of a bulk run each have their own connection; they take
 * turns on this mutex first, so within a process no writer ever sleeps on the
 * lock (other processes still meet the busy timeout). A transaction only does
 * store work, never a request, so the mutex is held briefly.
 */
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;
/*
 * A thread that holds write_mu through one connection and begins on another
 * (tests play two processes so) does not take it again: that connection meets
 * SQLite's busy timeout as before. Nor does a thread that waited the busy
 * timeout for the mutex: then SQLite decides, as without it.
 */
static __thread int write_mu_mine;

/*
 * The group commit of one store file in this process (every connection to the
 * same path shares one). written counts commits whose log frames are written,
 * synced those known to be on disk; one connection at a time syncs.
 */
typedef struct sync_group {
	struct sync_group *next;
	char *path;
	int users;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned long long written, synced;
	int syncing;
} sync_group;

static pthread_mutex_t groups_mu = PTHREAD_MUTEX_INITIALIZER;
static sync_group *groups;

static sync_group *group_join(const char *path)
{
	sync_group *g;

	pthread_mutex_lock(&groups_mu);
	for (g = groups; g && strcmp(g->path, path) != 0; g = g->next)
		;
	if (!g && (g = calloc(1, sizeof(*g)))) {
		if (!(g->path = gcmsg__strdup(path)) || pthread_mutex_init(&g->mu, NULL) != 0) {
			free(g->path);
			free(g);
			g = NULL;
		} else if (pthread_cond_init(&g->cv, NULL) != 0) {
			pthread_mutex_destroy(&g->mu);
			free(g->path);
			free(g);
			g = NULL;
		} else {
			g->next = groups;
			groups = g;
		}
	}
	if (g)
		g->users++;
	pthread_mutex_unlock(&groups_mu);
	return g;
}

static void group_leave(sync_group *g)
{
	sync_group **p;

	if (!g)
		return;
	pthread_mutex_lock(&groups_mu);
	if (--g->users == 0) {
		for (p = &groups; *p != g; p = &(*p)->next)
			;
		*p = g->next;
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g->path);
		free(g);
	}
	pthread_mutex_unlock(&groups_mu);
}

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

/*
 * Bind the fields of row that st uses, the kind's Nth field as ?N (a number
 * the statement skips has no name, and its member is not read); SQLITE_MISUSE
 * for an outbox state out of range.
 */
static int bind_row(sqlite3_stmt *st, const gcmsg__row_kind *k, const void *row)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < k->count; i++) {
		const gcmsg__field *f = &k->fields[i];
		int n = (int)i + 1;
		long long v;

		if (!sqlite3_bind_parameter_name(st, n))
			continue;
		switch (f->type) {
		case GCMSG__FIELD_TEXT:
		case GCMSG__FIELD_SECRET:
			rc |= bind_text(st, n, gcmsg__field_text(f, row));
			break;
		case GCMSG__FIELD_STATE:
			v = gcmsg__field_int(f, row);
			if (v < GCMSG_OUTBOX_PENDING || v > GCMSG_OUTBOX_DROPPED)
				return SQLITE_MISUSE;
			rc |= bind_text(st, n, gcmsg_outbox_state_name((gcmsg_outbox_state)v));
			break;
		default:
			rc |= sqlite3_bind_int64(st, n, gcmsg__field_int(f, row));
			break;
		}
	}
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

/*
 * Fill row with the current row of st, whose columns are the kind's fields
 * in order; the texts are borrowed (valid until the next step or reset).
 */
static int read_row(gcmsg__store_backend *b, sqlite3_stmt *st, const gcmsg__row_kind *k, void *row,
                    gcmsg__err *err)
{
	size_t i;
	int ok = 1, state;

	memset(row, 0, k->size);
	for (i = 0; i < k->count; i++) {
		const gcmsg__field *f = &k->fields[i];
		int c = (int)i;

		switch (f->type) {
		case GCMSG__FIELD_TEXT:
		case GCMSG__FIELD_SECRET:
			gcmsg__field_set_text(f, row, col_text(st, c, &ok));
			break;
		case GCMSG__FIELD_STATE:
			if ((state = gcmsg_outbox_state_parse((const char *)sqlite3_column_text(st, c))) < 0)
				return gcmsg__err_set(err, GCMSG_ERROR, "store %s: an outbox row has an unknown state",
				                      b->path);
			gcmsg__field_set_int(f, row, state);
			break;
		default:
			gcmsg__field_set_int(f, row, sqlite3_column_int64(st, c));
			break;
		}
	}
	return ok ? GCMSG_OK : oom(err);
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

static void write_release(gcmsg__store_backend *b)
{
	if (b->writing) {
		b->writing = 0;
		write_mu_mine = 0;
		pthread_mutex_unlock(&write_mu);
	}
}

static int sq_begin(gcmsg__store_backend *b, gcmsg__err *err)
{
	int rc, took = 0;

	if (!b->writing && !write_mu_mine) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += b->busy_timeout_ms / 1000;
		until.tv_nsec += (b->busy_timeout_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (pthread_mutex_timedlock(&write_mu, &until) == 0) {
			took = 1;
			b->writing = 1;
			write_mu_mine = 1;
		}
	}
	rc = run(b, stmt(b, ST_BEGIN), err, "cannot begin a transaction");
	if (rc < 0 && took)
		write_release(b);
	return rc;
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
	write_release(b);
}

/* Sync this connection's write-ahead log: the frames of every connection to the file. */
static int sync_log(gcmsg__store_backend *b)
{
	sqlite3_file *f = NULL;
	int rc = sqlite3_file_control(b->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);

	if (rc != SQLITE_OK)
		return rc;
	if (!f || !f->pMethods)
		return SQLITE_IOERR_FSYNC; /* no log to sync: never claim durability we did not get */
	return f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
}

/*
 * After a commit: return once a sync that began after it has succeeded. The
 * first committer to find no sync under way does it for all; the others wait.
 * A failed sync is not counted: a waiter then syncs again itself.
 */
static int wal_sync(gcmsg__store_backend *b, gcmsg__err *err)
{
	sync_group *g = b->group;
	unsigned long long mine, target;
	int rc = SQLITE_OK;

	if (!g)
		rc = sync_log(b);
	else {
		pthread_mutex_lock(&g->mu);
		mine = ++g->written;
		while (g->synced < mine) {
			if (g->syncing) {
				pthread_cond_wait(&g->cv, &g->mu);
				continue;
			}
			g->syncing = 1;
			target = g->written;
			pthread_mutex_unlock(&g->mu);
			rc = sync_log(b);
			pthread_mutex_lock(&g->mu);
			g->syncing = 0;
			if (rc == SQLITE_OK && target > g->synced)
				g->synced = target;
			pthread_cond_broadcast(&g->cv);
			if (rc != SQLITE_OK)
				break;
		}
		pthread_mutex_unlock(&g->mu);
	}
	if (rc != SQLITE_OK)
		return db_fail(b, err, rc, "cannot sync the write-ahead log (the last change may not be on disk)");
	return GCMSG_OK;
}

/* A failed commit rolls back (the transaction is over either way); a commit returns once it is on disk. */
static int sq_commit(gcmsg__store_backend *b, gcmsg__err *err)
{
	int rc = run(b, stmt(b, ST_COMMIT), err, "cannot commit");

	if (rc < 0)
		sq_rollback(b);
	write_release(b);
	return rc < 0 ? rc : wal_sync(b, err);
}

/*
 * Step a statement that returns at most one row: 1 with st on the row (the
 * caller resets it), 0 when there is none, or an error (st reset either way).
 */
static int step_one(gcmsg__store_backend *b, sqlite3_stmt *st, gcmsg__err *err, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	rc = rc == SQLITE_DONE ? 0 : db_fail(b, err, rc, what);
	sqlite3_reset(st);
	return rc;
}

/* ---- queries: composed from constant fragments (never from values), their parameters in order ---- */

typedef struct query {
	char sql[1024];
	size_t n;
	int overflow;
	struct {
		const char *text; /* NULL: num */
		sqlite3_int64 num;
	} args[16];
	int nargs;
} query;

static void sql_add(query *q, const char *frag)
{
	size_t n = strlen(frag);

	if (q->n + n >= sizeof(q->sql)) {
		q->overflow = 1;
		return;
	}
	memcpy(q->sql + q->n, frag, n + 1);
	q->n += n;
}

/* A fragment with one parameter, and its value. */
static void sql_text(query *q, const char *frag, const char *value)
{
	if (q->nargs == (int)(sizeof(q->args) / sizeof(q->args[0]))) {
		q->overflow = 1;
		return;
	}
	sql_add(q, frag);
	q->args[q->nargs].text = value;
	q->args[q->nargs++].num = 0;
}

static void sql_int(query *q, const char *frag, long long value)
{
	sql_text(q, frag, NULL);
	if (!q->overflow)
		q->args[q->nargs - 1].num = value;
}

static void sql_limit(query *q, size_t limit)
{
	if (limit)
		sql_int(q, " LIMIT ?", limit > INT64_MAX ? INT64_MAX : (long long)limit);
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

/* A walk over rows: the callback of their kind is set, the others are NULL. */
typedef struct row_ctx {
	gcmsg__store_backend *b;
	gcmsg__err *err;
	gcmsg__outbox_cb outbox;
	gcmsg__audit_cb audit;
	gcmsg__webhook_cb webhook;
	gcmsg__stats_cb stats;
	void *payload;
} row_ctx;

static int each_row(sqlite3_stmt *st, void *p)
{
	row_ctx *c = p;
	union {
		gcmsg__outbox_row outbox;
		gcmsg__audit_rec audit;
		gcmsg__webhook_row webhook;
	} row;
	const gcmsg__row_kind *kind = c->outbox ? &gcmsg__outbox_kind
	                            : c->audit  ? &gcmsg__audit_kind
	                                        : &gcmsg__webhook_kind;
	int rc = read_row(c->b, st, kind, &row, c->err);

	if (rc < 0)
		return rc;
	if (c->outbox)
		return c->outbox(&row.outbox, c->payload);
	if (c->audit)
		return c->audit(&row.audit, c->payload);
	return c->webhook(&row.webhook, c->payload);
}

/* Prepare q, bind its parameters and walk its rows (each_row); a callback's non-zero value is returned. */
static int run_query(gcmsg__store_backend *b, const query *q, row_ctx *c, const char *what)
{
	sqlite3_stmt *st = NULL;
	int i, rc;

	if (q->overflow)
		return gcmsg__err_set(c->err, GCMSG_ERROR, "store query too long");
	rc = sqlite3_prepare_v2(b->db, q->sql, (int)q->n + 1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(b, c->err, rc, "cannot prepare a query");
	for (i = 0; i < q->nargs; i++) {
		if (q->args[i].text)
			bind_text(st, i + 1, q->args[i].text);
		else
			sqlite3_bind_int64(st, i + 1, q->args[i].num);
	}
	return iterate(b, st, each_row, c, c->err, what);
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
	if ((rc = step_one(b, st, err, "cannot read the outbox")) <= 0)
		return rc < 0 ? rc : gcmsg__err_set(err, GCMSG_ENOTFOUND, "no outbox entry with key %s", key);
	if ((rc = read_row(b, st, &gcmsg__outbox_kind, &row, err)) == GCMSG_OK &&
	    gcmsg__outbox_row_copy(out, &row) < 0)
		rc = oom(err);
	sqlite3_reset(st);
	return rc;
}

/* Bind a whole outbox row to the insert or the update. */
static int bind_outbox(sqlite3_stmt *st, const gcmsg__outbox_row *row, gcmsg__err *err)
{
	if (!row->key)
		return gcmsg__err_set(err, GCMSG_EUSAGE, "no outbox key given");
	if (bind_row(st, &gcmsg__outbox_kind, row) != SQLITE_OK)
		return gcmsg__err_set(err, GCMSG_EUSAGE, "invalid outbox row (state %d)", (int)row->state);
	return GCMSG_OK;
}

static int sq_outbox_insert(gcmsg__store_backend *b, const gcmsg__outbox_row *row, gcmsg__err *err)
{
	sqlite3_stmt *st = stmt(b, ST_OUTBOX_INSERT);
	int rc;

	if ((rc = bind_outbox(st, row, err)) < 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = gcmsg__err_set(err, GCMSG_EUSAGE, "the outbox already holds key %s", row->key);
	else
		rc = rc == SQLITE_DONE ? GCMSG_OK : db_fail(b, err, rc, "cannot record the outbox entry");
	sqlite3_reset(st);
	return rc;
}

static int sq_outbox_update(gcmsg__store_backend *b, const gcmsg__outbox_row *row, gcmsg__err *err)
{
	sqlite3_stmt *st = stmt(b, ST_OUTBOX_UPDATE);
	int rc;

	if ((rc = bind_outbox(st, row, err)) < 0)
		return rc;
	if ((rc = run(b, st, err, "cannot update the outbox entry")) < 0)
		return rc;
	if (sqlite3_changes(b->db) == 0)
		return gcmsg__err_set(err, GCMSG_ENOTFOUND, "no outbox entry with key %s", row->key);
	return GCMSG_OK;
}

static int sq_outbox_query(gcmsg__store_backend *b, const gcmsg__outbox_query *oq, gcmsg__outbox_cb cb,
                           void *payload, gcmsg__err *err)
{
	query q = { .n = 0 };
	row_ctx ctx = { .b = b, .err = err, .outbox = cb, .payload = payload };
	int s;

	sql_add(&q, "SELECT " OUTBOX_COLS " FROM outbox WHERE 1");
	if (oq->states) {
		sql_add(&q, " AND state IN (NULL"); /* matches nothing: no known state wanted, nothing found */
		for (s = GCMSG_OUTBOX_PENDING; s <= GCMSG_OUTBOX_DROPPED; s++)
			if (oq->states & (1u << s))
				sql_text(&q, ", ?", gcmsg_outbox_state_name((gcmsg_outbox_state)s));
		sql_add(&q, ")");
	}
	if (oq->key)
		sql_text(&q, " AND key = ?", oq->key);
	if (oq->conversation_id)
		sql_text(&q, " AND conversation_id = ?", oq->conversation_id);
	if (oq->since_ms)
		sql_int(&q, " AND created_ms >= ?", oq->since_ms);
	if (oq->due_before_ms)
		sql_int(&q, " AND next_attempt_ms <= ?", oq->due_before_ms);
	sql_add(&q, " ORDER BY created_ms, key");
	sql_limit(&q, oq->limit);
	return run_query(b, &q, &ctx, "cannot read the outbox");
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
	if ((rc = step_one(b, st, err, "cannot read the outbox")) <= 0)
		return rc < 0 ? rc
		              : gcmsg__err_set(err, GCMSG_ENOTFOUND, "no outbox entry recorded message %s", message_id);
	*key_out = gcmsg__strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return *key_out ? GCMSG_OK : oom(err);
}

/* ---- audit ---- */

static int sq_audit_append(gcmsg__store_backend *b, const gcmsg__audit_rec *r, long long *id_out,
                           gcmsg__err *err)
{
	sqlite3_stmt *st = stmt(b, ST_AUDIT_APPEND);
	int rc;

	if (id_out)
		*id_out = 0;
	if (bind_row(st, &gcmsg__audit_kind, r) != SQLITE_OK)
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

static int sq_audit_query(gcmsg__store_backend *b, const gcmsg__audit_query *aq, gcmsg__audit_cb cb,
                          void *payload, gcmsg__err *err)
{
	query q = { .n = 0 };
	row_ctx ctx = { .b = b, .err = err, .audit = cb, .payload = payload };

	sql_add(&q, "SELECT " AUDIT_COLS " FROM audit WHERE 1");
	if (aq->since_ms)
		sql_int(&q, " AND time_ms >= ?", aq->since_ms);
	if (aq->until_ms)
		sql_int(&q, " AND time_ms < ?", aq->until_ms);
	if (aq->conversation_id)
		sql_text(&q, " AND conversation_id = ?", aq->conversation_id);
	if (aq->key)
		sql_text(&q, " AND key = ?", aq->key);
	if (aq->event)
		sql_text(&q, " AND event = ?", aq->event);
	sql_add(&q, " ORDER BY id");
	sql_limit(&q, aq->limit);
	return run_query(b, &q, &ctx, "cannot read the audit log");
}

/* ---- webhook queue ---- */

static int sq_webhook_insert(gcmsg__store_backend *b, const gcmsg__webhook_row *r, gcmsg__err *err)
{
	sqlite3_stmt *st = stmt(b, ST_WEBHOOK_INSERT);

	if (bind_row(st, &gcmsg__webhook_kind, r) != SQLITE_OK)
		return db_fail(b, err, SQLITE_ERROR, "cannot bind a webhook event");
	return run(b, st, err, "cannot queue a webhook event");
}

static int sq_webhook_update(gcmsg__store_backend *b, const gcmsg__webhook_row *r, gcmsg__err *err)
{
	sqlite3_stmt *st = stmt(b, ST_WEBHOOK_UPDATE);
	int rc;

	if (bind_row(st, &gcmsg__webhook_kind, r) != SQLITE_OK)
		return db_fail(b, err, SQLITE_ERROR, "cannot bind a webhook event");
	if ((rc = run(b, st, err, "cannot update a webhook event")) < 0)
		return rc;
	if (sqlite3_changes(b->db) == 0)
		return gcmsg__err_set(err, GCMSG_ENOTFOUND, "no webhook event with id %lld", r->id);
	return GCMSG_OK;
}

static int sq_webhook_due(gcmsg__store_backend *b, const char *hook, long long now_ms, size_t limit,
                          gcmsg__webhook_cb cb, void *payload, gcmsg__err *err)
{
	query q = { .n = 0 };
	row_ctx ctx = { .b = b, .err = err, .webhook = cb, .payload = payload };

	sql_add(&q, "SELECT " WEBHOOK_COLS " FROM webhook_queue WHERE delivered = 0");
	sql_int(&q, " AND next_attempt_ms <= ?", now_ms);
	if (hook)
		sql_text(&q, " AND hook = ?", hook);
	sql_add(&q, " ORDER BY id");
	sql_limit(&q, limit);
	return run_query(b, &q, &ctx, "cannot read the webhook queue");
}

static int sq_webhook_list(gcmsg__store_backend *b, int all, gcmsg__webhook_cb cb, void *payload,
                           gcmsg__err *err)
{
	query q = { .n = 0 };
	row_ctx ctx = { .b = b, .err = err, .webhook = cb, .payload = payload };

	sql_add(&q, "SELECT " WEBHOOK_COLS " FROM webhook_queue");
	if (!all)
		sql_add(&q, " WHERE delivered = 0");
	sql_add(&q, " ORDER BY id");
	return run_query(b, &q, &ctx, "cannot read the webhook queue");
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
	return c->stats(&s, c->payload);
}

static int sq_stats_sends(gcmsg__store_backend *b, long long since_ms, gcmsg__stats_cb cb, void *payload,
                          gcmsg__err *err)
{
	sqlite3_stmt *st = NULL;
	row_ctx ctx = { .b = b, .err = err, .stats = cb, .payload = payload };
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
	group_leave(b->group);
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

/* Prepare a constant statement and step to its first row: GCMSG_OK with *st on it (the caller finalizes). */
static int query_row(gcmsg__store_backend *b, const char *sql, sqlite3_stmt **st, gcmsg__err *err,
                     const char *what)
{
	int rc = sqlite3_prepare_v2(b->db, sql, -1, st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(*st)) == SQLITE_ROW)
		return GCMSG_OK;
	rc = db_fail(b, err, rc, what);
	sqlite3_finalize(*st);
	*st = NULL;
	return rc;
}

/* One integer from a constant statement (a PRAGMA or a count). */
static int query_int(gcmsg__store_backend *b, const char *sql, sqlite3_int64 *out, gcmsg__err *err,
                     const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = query_row(b, sql, &st, err, what);

	if (rc == GCMSG_OK)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc;
}

/* One text from a constant statement, copied into out. */
static int query_text(gcmsg__store_backend *b, const char *sql, char *out, size_t size, gcmsg__err *err,
                      const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = query_row(b, sql, &st, err, what);

	if (rc == GCMSG_OK) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		snprintf(out, size, "%s", t ? t : "");
	}
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
	/* NORMAL + the log synced at every commit (wal_sync) = FULL's durability, as a group commit */
	if ((rc = pragma_int(b, "PRAGMA synchronous = NORMAL", "PRAGMA synchronous", 1, err,
	                     "cannot set synchronous=NORMAL")) < 0)
		return rc;
	/*
	 * A finished send's text is wiped from its row (it is PII); without this,
	 * SQLite would leave the old bytes in free pages of the file. (Frames of the
	 * write-ahead log still hold them until the next checkpoint reuses them.)
	 */
	if ((rc = pragma_int(b, "PRAGMA secure_delete = ON", "PRAGMA secure_delete", 1, err,
	                     "cannot set secure_delete")) < 0)
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
	if ((rc = sync_log(b)) != SQLITE_OK)
		return db_fail(b, err, rc, "cannot sync the new schema");
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
	b->busy_timeout_ms = timeout > INT32_MAX ? INT32_MAX : timeout;
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
	{
		/* one group commit per file, however it is named */
		char *real = realpath(path, NULL);
		b->group = group_join(real ? real : path);
		free(real);
		if (!b->group) {
			sq_close(b);
			return oom(err);
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
