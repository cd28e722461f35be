/*
 * The store and its SQLite backend, on real files in a mkdtemp directory:
 * location parsing, file and directory modes, refusals (unsafe modes, a file
 * that is not SQLite, another program's database, a newer schema), the
 * PRAGMAs, every column of every row kind, filters and ordering,
 * transactions, and two processes writing at once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store_fixture.h"

static unsigned mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (unsigned)(st.st_mode & 07777);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* An explanation on one line, holding `needle`. */
static void assert_one_line(const gcmsg_error *e, const char *needle)
{
	assert_non_null(e);
	assert_non_null(e->explanation);
	assert_null(strchr(e->explanation, '\n'));
	if (!strstr(e->explanation, needle))
		fail_msg("'%s' not in '%s'", needle, e->explanation);
}

/* ---- opening ---- */

static void open_creates_private_dirs_and_files(void **state)
{
	mode_t old = umask(0); /* the modes must not depend on the umask */
	gcmsg_store *s;
	gcmsg__audit_rec r;
	long long id = 0;
	const char *db = fx_path("a/b/gcmsg.db");

	(void)state;
	s = fx_open(db, NULL);
	assert_string_equal(gcmsg_store_backend_name(s), "sqlite");
	assert_int_equal(mode_of(fx_path("a")), 0700);
	assert_int_equal(mode_of(fx_path("a/b")), 0700);
	assert_int_equal(mode_of(db), 0600);
	/* a write makes the WAL and shared-memory files: they are private too */
	r = fx_rec(1, "attempt", "ok", NULL);
	assert_int_equal(s->ops->audit_append(s->backend, &r, &id, &s->err), GCMSG_OK);
	assert_true(id > 0);
	assert_int_equal(mode_of(fx_path("a/b/gcmsg.db-wal")), 0600);
	assert_int_equal(mode_of(fx_path("a/b/gcmsg.db-shm")), 0600);
	gcmsg_store_free(s);
	umask(old);

	/* an existing directory keeps its mode; the store reopens with its data */
	assert_int_equal(chmod(fx_path("a"), 0750), 0);
	s = fx_open(db, NULL);
	assert_int_equal(mode_of(fx_path("a")), 0750);
	gcmsg_store_free(s);
}

static void pragmas_read_back(void **state)
{
	gcmsg_store_options o = GCMSG_STORE_OPTIONS_INIT;
	gcmsg_store *s = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;
	struct {
		const char *sql, *want;
	} checks[] = {
		/* synchronous NORMAL: the log is synced by the commit itself (a group commit), as FULL would */
		{ "PRAGMA journal_mode", "wal" },  { "PRAGMA synchronous", "1" },
		{ "PRAGMA foreign_keys", "1" },    { "PRAGMA busy_timeout", "1234" },
		{ "PRAGMA secure_delete", "1" },
		{ "PRAGMA user_version", "1" },    { "PRAGMA application_id", "1734569331" },
	};
	size_t i;

	(void)state;
	o.busy_timeout_ms = 1234;
	assert_int_equal(gcmsg_store_open(&s, fx_path("p.db"), &o), GCMSG_OK);
	db = gcmsg__store_sqlite_handle(s);
	assert_non_null(db);
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		assert_int_equal(sqlite3_prepare_v2(db, checks[i].sql, -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), checks[i].want);
		sqlite3_finalize(st);
	}
	/* every table is STRICT */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT name, strict FROM pragma_table_list WHERE schema = 'main' "
	                                        "AND name NOT LIKE 'sqlite_%' ORDER BY name",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	for (i = 0; sqlite3_step(st) == SQLITE_ROW; i++)
		assert_int_equal(sqlite3_column_int(st, 1), 1);
	assert_int_equal(i, 3);
	sqlite3_finalize(st);
	gcmsg_store_free(s);
}

/* The row kinds (store_rows.h) name every column of their table, in its order: the backend binds and reads by them. */
static void row_kinds_match_the_schema(void **state)
{
	static const struct {
		const char *sql;
		const gcmsg__row_kind *kind;
	} tables[] = {
		{ "SELECT * FROM outbox", &gcmsg__outbox_kind },
		{ "SELECT * FROM audit", &gcmsg__audit_kind },
		{ "SELECT * FROM webhook_queue", &gcmsg__webhook_kind },
	};
	gcmsg_store *s;
	sqlite3_stmt *st;
	size_t t, i;

	(void)state;
	s = fx_open(fx_path("kinds.db"), NULL);
	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		assert_int_equal(sqlite3_prepare_v2(gcmsg__store_sqlite_handle(s), tables[t].sql, -1, &st, NULL),
		                 SQLITE_OK);
		assert_int_equal(sqlite3_column_count(st), tables[t].kind->count);
		for (i = 0; i < tables[t].kind->count; i++)
			assert_string_equal(sqlite3_column_name(st, (int)i), tables[t].kind->fields[i].name);
		sqlite3_finalize(st);
	}
	gcmsg_store_free(s);
}

static void location_forms(void **state)
{
	gcmsg_store_options bad = GCMSG_STORE_OPTIONS_INIT;
	gcmsg_store *s = NULL;
	char loc[600];

	(void)state;
	snprintf(loc, sizeof(loc), "sqlite:%s", fx_path("prefixed.db"));
	s = fx_open(loc, NULL);
	gcmsg_store_free(s);
	assert_int_equal(mode_of(fx_path("prefixed.db")), 0600);

	assert_int_equal(gcmsg_store_open(&s, "postgresql://db.example/gcmsg", NULL), GCMSG_ECONFIG);
	assert_non_null(s); /* set on failure, to explain it */
	assert_one_line(gcmsg_store_last_error(s), "not built in this version");
	assert_null(gcmsg_store_backend_name(s));
	gcmsg_store_free(s);

	assert_int_equal(gcmsg_store_open(&s, "redis://localhost", NULL), GCMSG_ECONFIG);
	assert_one_line(gcmsg_store_last_error(s), "unknown store location");
	gcmsg_store_free(s);

	assert_int_equal(gcmsg_store_open(&s, "", NULL), GCMSG_EUSAGE);
	gcmsg_store_free(s);
	assert_int_equal(gcmsg_store_open(&s, "sqlite:", NULL), GCMSG_EUSAGE);
	gcmsg_store_free(s);
	assert_int_equal(gcmsg_store_open(&s, NULL, NULL), GCMSG_EUSAGE);
	gcmsg_store_free(s);
	bad.version = 99;
	assert_int_equal(gcmsg_store_open(&s, fx_path("v.db"), &bad), GCMSG_EUSAGE);
	assert_one_line(gcmsg_store_last_error(s), "version");
	gcmsg_store_free(s);
	bad.version = GCMSG_STORE_OPTIONS_VERSION;
	bad.busy_timeout_ms = -1;
	assert_int_equal(gcmsg_store_open(&s, fx_path("v.db"), &bad), GCMSG_EUSAGE);
	gcmsg_store_free(s);
	assert_int_equal(gcmsg_store_open(NULL, fx_path("v.db"), NULL), GCMSG_EUSAGE);
	assert_null(gcmsg_store_last_error(NULL));
	assert_null(gcmsg_store_backend_name(NULL));
	gcmsg_store_free(NULL);

	/* a directory, and a parent that is a file */
	assert_int_equal(mkdir(fx_path("adir"), 0700), 0);
	assert_int_equal(gcmsg_store_open(&s, fx_path("adir"), NULL), GCMSG_ECONFIG);
	assert_one_line(gcmsg_store_last_error(s), "not a regular file");
	gcmsg_store_free(s);
	write_file(fx_path("afile"), "x", 0600);
	assert_int_equal(gcmsg_store_open(&s, fx_path("afile/gcmsg.db"), NULL), GCMSG_ECONFIG);
	assert_one_line(gcmsg_store_last_error(s), "cannot create the directory");
	gcmsg_store_free(s);
}

static void unsafe_modes_refused(void **state)
{
	gcmsg_store *s = NULL;
	const gcmsg_error *e;
	char fix[600];
	static const mode_t modes[] = { 0640, 0604, 0620, 0660 };
	size_t i;

	(void)state;
	s = fx_open(fx_path("m.db"), NULL);
	gcmsg_store_free(s);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(fx_path("m.db"), modes[i]), 0);
		assert_int_equal(gcmsg_store_open(&s, fx_path("m.db"), NULL), GCMSG_ECONFIG);
		e = gcmsg_store_last_error(s);
		assert_one_line(e, "group or others can access it");
		snprintf(fix, sizeof(fix), "chmod 600 %s", fx_path("m.db"));
		assert_string_equal(e->fix, fix);
		gcmsg_store_free(s);
	}
	assert_int_equal(chmod(fx_path("m.db"), 0600), 0);

	/* a left-over WAL file that others can read is refused too */
	write_file(fx_path("m.db-wal"), "", 0644);
	assert_int_equal(gcmsg_store_open(&s, fx_path("m.db"), NULL), GCMSG_ECONFIG);
	assert_one_line(gcmsg_store_last_error(s), "m.db-wal has mode 0644");
	gcmsg_store_free(s);
	unlink(fx_path("m.db-wal"));
	s = fx_open(fx_path("m.db"), NULL);
	gcmsg_store_free(s);
}

static void not_sqlite_refused(void **state)
{
	static const char text[] = "this is a list of things to do, not a database\n"
	                           "and it goes on for a while so that SQLite reads a header\n";
	gcmsg_store *s = NULL;
	char back[256];
	FILE *f;
	size_t n;

	(void)state;
	write_file(fx_path("notes.txt"), text, 0600);
	assert_int_equal(gcmsg_store_open(&s, fx_path("notes.txt"), NULL), GCMSG_ECONFIG);
	assert_one_line(gcmsg_store_last_error(s), "not a database");
	assert_non_null(gcmsg_store_last_error(s)->fix);
	gcmsg_store_free(s);
	/* left as it was */
	f = fopen(fx_path("notes.txt"), "r");
	assert_non_null(f);
	n = fread(back, 1, sizeof(back), f);
	fclose(f);
	assert_int_equal(n, strlen(text));
	assert_memory_equal(back, text, n);
}

static void foreign_database_refused(void **state)
{
	gcmsg_store *s = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;

	(void)state;
	assert_int_equal(sqlite3_open(fx_path("other.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE things (a TEXT)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(chmod(fx_path("other.db"), 0600), 0);
	assert_int_equal(gcmsg_store_open(&s, fx_path("other.db"), NULL), GCMSG_ECONFIG);
	assert_one_line(gcmsg_store_last_error(s), "is not a gcmsg store");
	gcmsg_store_free(s);
	/* untouched: still in its rollback-journal mode */
	assert_int_equal(sqlite3_open(fx_path("other.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "delete");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void newer_schema_refused(void **state)
{
	gcmsg_store *s;
	sqlite3 *db;

	(void)state;
	s = fx_open(fx_path("new.db"), NULL);
	gcmsg_store_free(s);
	assert_int_equal(sqlite3_open(fx_path("new.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(gcmsg_store_open(&s, fx_path("new.db"), NULL), GCMSG_ECONFIG);
	assert_one_line(gcmsg_store_last_error(s), "written by a newer gcmsg (schema 7; this version reads up to 1)");
	gcmsg_store_free(s);
}

/* ---- outbox rows ---- */

/* An outbox row with every column set (the fixture's, and what its state leaves out), its strings its own. */
static void full_row(gcmsg__outbox_row *r, const char *key)
{
	gcmsg__outbox_row b;

	fx_outbox_row(&b, key, GCMSG_OUTBOX_UNKNOWN, "conv-1", 1700000000001LL);
	b.body = "{\"textBody\":\"Hello \\u00e9 there\"}"; /* an escape in the JSON, UTF-8 in the text */
	b.match_text = "Hello \xc3\xa9 there";
	b.body_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	b.media_id = "media-3";
	b.message_id = "msg-8";
	b.http_status = 503;
	b.error_code = "bad.request";
	b.last_error = "the server answered 503";
	b.claim_pid = 4242;
	b.claim_host = "host-10";
	b.claim_ms = 1700000000011LL;
	gcmsg__outbox_row_init(r);
	assert_int_equal(gcmsg__outbox_row_copy(r, &b), GCMSG_OK);
}

#define SAME_STR(f) \
	do { \
		if (a->f == NULL || b->f == NULL) \
			assert_ptr_equal(a->f, b->f); \
		else \
			assert_string_equal(a->f, b->f); \
	} while (0)

static void assert_same_outbox(const gcmsg__outbox_row *a, const gcmsg__outbox_row *b)
{
	SAME_STR(key);
	assert_int_equal(a->state, b->state);
	SAME_STR(conversation_id);
	SAME_STR(communication_id);
	SAME_STR(route);
	SAME_STR(channel);
	SAME_STR(path);
	SAME_STR(body);
	SAME_STR(body_sha256);
	SAME_STR(match_text);
	SAME_STR(media_id);
	SAME_STR(text_sha256);
	SAME_STR(response_id);
	SAME_STR(library_id);
	assert_int_equal(a->response_version, b->response_version);
	SAME_STR(source);
	SAME_STR(who);
	assert_int_equal(a->created_ms, b->created_ms);
	assert_int_equal(a->updated_ms, b->updated_ms);
	assert_int_equal(a->first_attempt_ms, b->first_attempt_ms);
	assert_int_equal(a->next_attempt_ms, b->next_attempt_ms);
	assert_int_equal(a->attempts, b->attempts);
	SAME_STR(message_id);
	SAME_STR(error_code);
	SAME_STR(correlation_id);
	SAME_STR(last_error);
	assert_int_equal(a->http_status, b->http_status);
	assert_int_equal(a->claim_pid, b->claim_pid);
	SAME_STR(claim_host);
	assert_int_equal(a->claim_ms, b->claim_ms);
}

static void outbox_round_trip(void **state)
{
	gcmsg_store *s;
	gcmsg__outbox_row in, out, empty, copy;

	(void)state;
	s = fx_open(fx_path("rt.db"), NULL);
	full_row(&in, "key-1");
	assert_int_equal(s->ops->outbox_insert(s->backend, &in, &s->err), GCMSG_OK);
	gcmsg__outbox_row_init(&out);
	assert_int_equal(s->ops->outbox_get(s->backend, "key-1", &out, &s->err), GCMSG_OK);
	assert_same_outbox(&in, &out);
	gcmsg__outbox_row_init(&copy);
	assert_int_equal(gcmsg__outbox_row_copy(&copy, &out), GCMSG_OK);
	assert_same_outbox(&in, &copy);
	gcmsg__outbox_row_dispose(&copy);

	/* NULLs stay NULL, empty strings stay empty */
	gcmsg__outbox_row_init(&empty);
	empty.key = strdup("key-2");
	empty.route = strdup("");
	empty.created_ms = empty.updated_ms = 5;
	assert_int_equal(s->ops->outbox_insert(s->backend, &empty, &s->err), GCMSG_OK);
	assert_int_equal(s->ops->outbox_get(s->backend, "key-2", &out, &s->err), GCMSG_OK);
	assert_same_outbox(&empty, &out);
	assert_null(out.body);
	assert_string_equal(out.route, "");
	assert_int_equal(out.response_version, -1);
	assert_int_equal(out.state, GCMSG_OUTBOX_PENDING);

	/* every state survives */
	for (int st = GCMSG_OUTBOX_PENDING; st <= GCMSG_OUTBOX_DROPPED; st++) {
		in.state = (gcmsg_outbox_state)st;
		assert_int_equal(s->ops->outbox_update(s->backend, &in, &s->err), GCMSG_OK);
		assert_int_equal(s->ops->outbox_get(s->backend, "key-1", &out, &s->err), GCMSG_OK);
		assert_int_equal(out.state, st);
	}
	in.state = (gcmsg_outbox_state)42;
	assert_int_equal(s->ops->outbox_insert(s->backend, &in, &s->err), GCMSG_EUSAGE);
	gcmsg__outbox_row_dispose(&out);
	gcmsg__outbox_row_dispose(&in);
	gcmsg__outbox_row_dispose(&empty);
	gcmsg_store_free(s);
}

static void outbox_transitions_and_keys(void **state)
{
	gcmsg_store *s;
	gcmsg__outbox_row r, out;
	char *key = NULL;

	(void)state;
	s = fx_open(fx_path("tr.db"), NULL);
	full_row(&r, "k");
	r.state = GCMSG_OUTBOX_PENDING;
	r.message_id = (free(r.message_id), NULL);
	assert_int_equal(s->ops->outbox_insert(s->backend, &r, &s->err), GCMSG_OK);
	/* a key is recorded once */
	assert_int_equal(s->ops->outbox_insert(s->backend, &r, &s->err), GCMSG_EUSAGE);
	assert_one_line(gcmsg_store_last_error(s), "already holds key k");

	/* pending -> sending (claimed) -> sent, the request erased */
	r.state = GCMSG_OUTBOX_SENDING;
	r.attempts = 1;
	assert_int_equal(gcmsg__outbox_claim(&r, 1700000000100LL), GCMSG_OK);
	assert_int_equal(s->ops->outbox_update(s->backend, &r, &s->err), GCMSG_OK);
	gcmsg__outbox_row_init(&out);
	assert_int_equal(s->ops->outbox_get(s->backend, "k", &out, &s->err), GCMSG_OK);
	assert_int_equal(out.state, GCMSG_OUTBOX_SENDING);
	assert_int_equal(out.claim_pid, (long)getpid());
	assert_string_equal(out.claim_host, gcmsg__host_name());
	assert_int_equal(out.claim_ms, 1700000000100LL);
	r.state = GCMSG_OUTBOX_SENT;
	r.message_id = strdup("m-1");
	free(r.body);
	r.body = NULL;
	free(r.match_text);
	r.match_text = NULL;
	r.created_ms = 1; /* not updated */
	assert_int_equal(s->ops->outbox_update(s->backend, &r, &s->err), GCMSG_OK);
	assert_int_equal(s->ops->outbox_get(s->backend, "k", &out, &s->err), GCMSG_OK);
	assert_int_equal(out.state, GCMSG_OUTBOX_SENT);
	assert_null(out.body);
	assert_null(out.match_text);
	assert_int_equal(out.created_ms, 1700000000001LL);
	assert_string_equal(out.message_id, "m-1");

	/* the key of a message */
	assert_int_equal(s->ops->outbox_key_of_message(s->backend, "m-1", &key, &s->err), GCMSG_OK);
	assert_string_equal(key, "k");
	free(key);
	assert_int_equal(s->ops->outbox_key_of_message(s->backend, "m-2", &key, &s->err), GCMSG_ENOTFOUND);
	assert_null(key);

	/* absent keys */
	assert_int_equal(s->ops->outbox_get(s->backend, "nope", &out, &s->err), GCMSG_ENOTFOUND);
	free(r.key);
	r.key = strdup("nope");
	assert_int_equal(s->ops->outbox_update(s->backend, &r, &s->err), GCMSG_ENOTFOUND);

	/* a body that is not JSON is refused by the schema, and the error does not show it */
	free(r.key);
	r.key = strdup("k2");
	r.state = GCMSG_OUTBOX_PENDING;
	r.body = strdup("secret text {not json");
	assert_int_equal(s->ops->outbox_insert(s->backend, &r, &s->err), GCMSG_EUSAGE);
	assert_one_line(gcmsg_store_last_error(s), "CHECK constraint failed");
	assert_null(strstr(gcmsg_store_last_error(s)->explanation, "secret"));
	gcmsg__outbox_row_dispose(&out);
	gcmsg__outbox_row_dispose(&r);
	gcmsg_store_free(s);
}

typedef struct keys_seen {
	char keys[16][16];
	size_t n;
} keys_seen;

static int see_outbox(const gcmsg__outbox_row *row, void *payload)
{
	keys_seen *k = payload;

	assert_true(k->n < 16);
	snprintf(k->keys[k->n++], sizeof(k->keys[0]), "%s", row->key);
	return 0;
}

static const char *joined(const keys_seen *k)
{
	static char buf[256];
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < k->n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "," : "", k->keys[i]);
	return buf;
}

static const char *outbox_keys(gcmsg_store *s, const gcmsg__outbox_query *q)
{
	keys_seen k = { .n = 0 };

	assert_int_equal(s->ops->outbox_query(s->backend, q, see_outbox, &k, &s->err), GCMSG_OK);
	return joined(&k);
}

static int stop_at_two(const gcmsg__outbox_row *row, void *payload)
{
	int *n = payload;

	(void)row;
	return ++*n == 2 ? 77 : 0;
}

static void outbox_queries(void **state)
{
	static const struct {
		const char *key, *conv;
		gcmsg_outbox_state state;
		long long created, next;
	} rows[] = {
		{ "e", "c1", GCMSG_OUTBOX_PENDING, 300, 0 },   { "a", "c2", GCMSG_OUTBOX_SENT, 100, 0 },
		{ "d", "c1", GCMSG_OUTBOX_PENDING, 200, 900 }, { "c", "c1", GCMSG_OUTBOX_UNKNOWN, 200, 500 },
		{ "b", "c2", GCMSG_OUTBOX_FAILED, 150, 0 },
	};
	gcmsg_store *s;
	gcmsg__outbox_query q;
	size_t i;
	int n = 0;

	(void)state;
	s = fx_open(fx_path("q.db"), NULL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		gcmsg__outbox_row r;
		fx_outbox_row(&r, rows[i].key, rows[i].state, rows[i].conv, rows[i].created);
		r.next_attempt_ms = rows[i].next;
		assert_int_equal(s->ops->outbox_insert(s->backend, &r, &s->err), GCMSG_OK);
	}
	memset(&q, 0, sizeof(q));
	assert_string_equal(outbox_keys(s, &q), "a,b,c,d,e"); /* created, then key */
	q.states = 1u << GCMSG_OUTBOX_PENDING | 1u << GCMSG_OUTBOX_UNKNOWN;
	assert_string_equal(outbox_keys(s, &q), "c,d,e");
	q.due_before_ms = 600;
	assert_string_equal(outbox_keys(s, &q), "c,e");
	q.due_before_ms = 0;
	q.limit = 2;
	assert_string_equal(outbox_keys(s, &q), "c,d");
	memset(&q, 0, sizeof(q));
	q.conversation_id = "c2";
	assert_string_equal(outbox_keys(s, &q), "a,b");
	memset(&q, 0, sizeof(q));
	q.since_ms = 200;
	assert_string_equal(outbox_keys(s, &q), "c,d,e");
	memset(&q, 0, sizeof(q));
	q.key = "d";
	assert_string_equal(outbox_keys(s, &q), "d");
	memset(&q, 0, sizeof(q));
	q.states = 1u << 20; /* no known state */
	assert_string_equal(outbox_keys(s, &q), "");
	/* a callback's non-zero value stops the walk and is returned */
	memset(&q, 0, sizeof(q));
	assert_int_equal(s->ops->outbox_query(s->backend, &q, stop_at_two, &n, &s->err), 77);
	assert_int_equal(n, 2);
	gcmsg_store_free(s);
}

/* ---- audit and webhook rows ---- */

static void assert_same_audit(const gcmsg__audit_rec *a, const gcmsg__audit_rec *b)
{
	assert_int_equal(a->time_ms, b->time_ms);
	SAME_STR(event);
	SAME_STR(outcome);
	SAME_STR(key);
	SAME_STR(who);
	SAME_STR(route);
	SAME_STR(conversation_id);
	SAME_STR(communication_id);
	SAME_STR(response_id);
	SAME_STR(library_id);
	assert_int_equal(a->response_version, b->response_version);
	SAME_STR(channel);
	SAME_STR(source);
	assert_int_equal(a->http_status, b->http_status);
	SAME_STR(error_code);
	SAME_STR(correlation_id);
	assert_int_equal(a->attempt, b->attempt);
	assert_int_equal(a->latency_ms, b->latency_ms);
	SAME_STR(message_id);
	SAME_STR(text_sha256);
	SAME_STR(text);
	SAME_STR(detail);
}

static void audit_round_trip(void **state)
{
	gcmsg_store *s;
	gcmsg__audit_rec in, bare;
	gcmsg__audit_query q;
	gcmsg__row_list out = FX_ROWS(gcmsg__audit_kind);
	long long id1 = 0, id2 = 0;

	(void)state;
	s = fx_open(fx_path("au.db"), NULL);
	fx_full_rec(&in, "attempt", "throttled");
	in.error_code = "too.many.requests"; /* every column set */
	assert_int_equal(s->ops->audit_append(s->backend, &in, &id1, &s->err), GCMSG_OK);
	bare = fx_rec(5, "outcome", "refused", NULL);
	assert_int_equal(s->ops->audit_append(s->backend, &bare, &id2, &s->err), GCMSG_OK);
	assert_true(id2 > id1 && id1 > 0);

	memset(&q, 0, sizeof(q));
	q.key = "key-1";
	assert_int_equal(s->ops->audit_query(s->backend, &q, fx_grab_rec, &out, &s->err), GCMSG_OK);
	assert_int_equal(out.count, 1);
	assert_int_equal(fx_rec_at(&out, 0)->id, id1);
	assert_same_audit(&in, fx_rec_at(&out, 0));
	gcmsg__row_list_dispose(&out);
	memset(&q, 0, sizeof(q));
	q.event = "outcome";
	assert_int_equal(s->ops->audit_query(s->backend, &q, fx_grab_rec, &out, &s->err), GCMSG_OK);
	assert_int_equal(out.count, 1);
	assert_int_equal(fx_rec_at(&out, 0)->id, id2);
	assert_same_audit(&bare, fx_rec_at(&out, 0));
	assert_null(fx_rec_at(&out, 0)->key);
	assert_int_equal(fx_rec_at(&out, 0)->response_version, -1);

	/* the schema refuses a bad event */
	bare.event = "other";
	assert_int_equal(s->ops->audit_append(s->backend, &bare, &id2, &s->err), GCMSG_EUSAGE);
	gcmsg__row_list_dispose(&out);
	gcmsg_store_free(s);
}

static void audit_queries(void **state)
{
	static const struct {
		long long t;
		const char *event, *outcome, *key, *conv;
	} recs[] = {
		{ 10, "attempt", "ok", "k1", "c1" },   { 20, "outcome", "sent", "k1", "c1" },
		{ 5, "attempt", "ok", "k2", "c2" },    { 30, "outcome", "failed", "k2", "c2" },
		{ 40, "outcome", "refused", NULL, "c1" },
	};
	gcmsg_store *s;
	gcmsg__audit_query q;
	gcmsg__row_list k = FX_ROWS(gcmsg__audit_kind);
	size_t i;

	(void)state;
	s = fx_open(fx_path("aq.db"), NULL);
	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		gcmsg__audit_rec r = fx_rec(recs[i].t, recs[i].event, recs[i].outcome, recs[i].key);
		long long id;
		r.conversation_id = (char *)recs[i].conv;
		assert_int_equal(s->ops->audit_append(s->backend, &r, &id, &s->err), GCMSG_OK);
	}
#define TIMES(...) \
	do { \
		long long want[] = { __VA_ARGS__ }; \
		gcmsg__row_list_dispose(&k); \
		assert_int_equal(s->ops->audit_query(s->backend, &q, fx_grab_rec, &k, &s->err), GCMSG_OK); \
		assert_int_equal(k.count, sizeof(want) / sizeof(want[0])); \
		for (i = 0; i < k.count; i++) \
			assert_int_equal(fx_rec_at(&k, i)->time_ms, want[i]); \
	} while (0)
	memset(&q, 0, sizeof(q));
	TIMES(10, 20, 5, 30, 40); /* by id: the order of appending */
	q.since_ms = 10;
	q.until_ms = 30;
	TIMES(10, 20);
	memset(&q, 0, sizeof(q));
	q.conversation_id = "c1";
	TIMES(10, 20, 40);
	q.event = "outcome";
	TIMES(20, 40);
	q.limit = 1;
	TIMES(20);
	memset(&q, 0, sizeof(q));
	q.key = "k2";
	TIMES(5, 30);
#undef TIMES
	gcmsg__row_list_dispose(&k);
	gcmsg_store_free(s);
}

static void webhook_rows(void **state)
{
	gcmsg_store *s;
	gcmsg__webhook_row w;
	gcmsg__row_list h = FX_ROWS(gcmsg__webhook_kind);

	(void)state;
	s = fx_open(fx_path("wh.db"), NULL);
	gcmsg__webhook_row_init(&w);
	w.hook = "alpha";
	w.event_id = "e-1";
	w.body = "{\"id\":\"e-1\"}";
	w.created_ms = 100;
	w.next_attempt_ms = 100;
	assert_int_equal(s->ops->webhook_insert(s->backend, &w, &s->err), GCMSG_OK);
	w.hook = "beta";
	w.next_attempt_ms = 500;
	assert_int_equal(s->ops->webhook_insert(s->backend, &w, &s->err), GCMSG_OK);
	/* one row per (hook, event) */
	assert_int_equal(s->ops->webhook_insert(s->backend, &w, &s->err), GCMSG_EUSAGE);
	w.hook = "alpha";
	w.event_id = "e-2";
	w.body = "not json";
	assert_int_equal(s->ops->webhook_insert(s->backend, &w, &s->err), GCMSG_EUSAGE);

	assert_int_equal(s->ops->webhook_due(s->backend, NULL, 200, 0, fx_grab_webhook, &h, &s->err), GCMSG_OK);
	assert_int_equal(h.count, 1);
	assert_string_equal(fx_webhook_at(&h, 0)->hook, "alpha");
	assert_string_equal(fx_webhook_at(&h, 0)->event_id, "e-1");
	assert_string_equal(fx_webhook_at(&h, 0)->body, "{\"id\":\"e-1\"}");
	assert_int_equal(fx_webhook_at(&h, 0)->created_ms, 100);
	assert_int_equal(fx_webhook_at(&h, 0)->next_attempt_ms, 100);
	assert_int_equal(fx_webhook_at(&h, 0)->attempts, 0);
	assert_int_equal(fx_webhook_at(&h, 0)->delivered, 0);
	assert_int_equal(fx_webhook_at(&h, 0)->last_status, 0);
	assert_null(fx_webhook_at(&h, 0)->last_error);

	/* a failed attempt, then a delivery */
	fx_webhook_at(&h, 0)->attempts = 1;
	fx_webhook_at(&h, 0)->last_status = 502;
	fx_webhook_at(&h, 0)->last_error = strdup("the webhook answered 502");
	fx_webhook_at(&h, 0)->next_attempt_ms = 1000;
	assert_int_equal(s->ops->webhook_update(s->backend, fx_webhook_at(&h, 0), &s->err), GCMSG_OK);
	w = *fx_webhook_at(&h, 0);
	gcmsg__row_list_dispose(&h);
	assert_int_equal(s->ops->webhook_due(s->backend, NULL, 999, 0, fx_grab_webhook, &h, &s->err), GCMSG_OK);
	assert_int_equal(h.count, 1);
	assert_string_equal(fx_webhook_at(&h, 0)->hook, "beta");
	gcmsg__row_list_dispose(&h);
	assert_int_equal(s->ops->webhook_due(s->backend, "alpha", 1000, 0, fx_grab_webhook, &h, &s->err), GCMSG_OK);
	assert_int_equal(h.count, 1);
	assert_int_equal(fx_webhook_at(&h, 0)->attempts, 1);
	assert_int_equal(fx_webhook_at(&h, 0)->last_status, 502);
	assert_string_equal(fx_webhook_at(&h, 0)->last_error, "the webhook answered 502");
	fx_webhook_at(&h, 0)->delivered = 1;
	fx_webhook_at(&h, 0)->attempts = 2;
	fx_webhook_at(&h, 0)->last_status = 204;
	assert_int_equal(s->ops->webhook_update(s->backend, fx_webhook_at(&h, 0), &s->err), GCMSG_OK);
	gcmsg__row_list_dispose(&h);
	assert_int_equal(s->ops->webhook_due(s->backend, NULL, 5000, 1, fx_grab_webhook, &h, &s->err), GCMSG_OK);
	assert_int_equal(h.count, 1);
	assert_string_equal(fx_webhook_at(&h, 0)->hook, "beta");
	gcmsg__row_list_dispose(&h);
	assert_int_equal(s->ops->webhook_list(s->backend, 0, fx_grab_webhook, &h, &s->err), GCMSG_OK);
	assert_int_equal(h.count, 1);
	gcmsg__row_list_dispose(&h);
	assert_int_equal(s->ops->webhook_list(s->backend, 1, fx_grab_webhook, &h, &s->err), GCMSG_OK);
	assert_int_equal(h.count, 2);
	assert_string_equal(fx_webhook_at(&h, 0)->hook, "alpha");
	assert_int_equal(fx_webhook_at(&h, 0)->delivered, 1);
	assert_int_equal(fx_webhook_at(&h, 0)->last_status, 204);
	w.id = 999;
	w.last_error = NULL;
	assert_int_equal(s->ops->webhook_update(s->backend, &w, &s->err), GCMSG_ENOTFOUND);
	gcmsg__row_list_dispose(&h);
	gcmsg_store_free(s);
}

static void transactions(void **state)
{
	gcmsg_store *s, *other;
	gcmsg__outbox_row r, out;

	(void)state;
	s = fx_open(fx_path("tx.db"), NULL);
	other = fx_open(fx_path("tx.db"), NULL);
	gcmsg__outbox_row_init(&r);
	r.key = "k";
	assert_int_equal(s->ops->begin(s->backend, &s->err), GCMSG_OK);
	assert_int_equal(s->ops->outbox_insert(s->backend, &r, &s->err), GCMSG_OK);
	s->ops->rollback(s->backend);
	gcmsg__outbox_row_init(&out);
	assert_int_equal(s->ops->outbox_get(s->backend, "k", &out, &s->err), GCMSG_ENOTFOUND);

	assert_int_equal(s->ops->begin(s->backend, &s->err), GCMSG_OK);
	assert_int_equal(s->ops->outbox_insert(s->backend, &r, &s->err), GCMSG_OK);
	/* not visible to another connection until committed */
	assert_int_equal(other->ops->outbox_get(other->backend, "k", &out, &other->err), GCMSG_ENOTFOUND);
	assert_int_equal(s->ops->commit(s->backend, &s->err), GCMSG_OK);
	assert_int_equal(other->ops->outbox_get(other->backend, "k", &out, &other->err), GCMSG_OK);
	gcmsg__outbox_row_dispose(&out);
	s->ops->rollback(s->backend); /* harmless outside a transaction */

	/* freed inside a transaction: rolled back */
	r.key = "left-open";
	assert_int_equal(s->ops->begin(s->backend, &s->err), GCMSG_OK);
	assert_int_equal(s->ops->outbox_insert(s->backend, &r, &s->err), GCMSG_OK);
	gcmsg_store_free(s);
	assert_int_equal(other->ops->outbox_get(other->backend, "left-open", &out, &other->err), GCMSG_ENOTFOUND);
	assert_int_equal(other->ops->begin(other->backend, &other->err), GCMSG_OK); /* the lock is free */
	other->ops->rollback(other->backend);
	gcmsg_store_free(other);
}

static void busy_is_an_error_with_the_reason(void **state)
{
	gcmsg_store_options o = GCMSG_STORE_OPTIONS_INIT;
	gcmsg_store *s, *other = NULL;

	(void)state;
	s = fx_open(fx_path("busy.db"), NULL);
	o.busy_timeout_ms = 50;
	assert_int_equal(gcmsg_store_open(&other, fx_path("busy.db"), &o), GCMSG_OK);
	assert_int_equal(s->ops->begin(s->backend, &s->err), GCMSG_OK);
	assert_int_equal(other->ops->begin(other->backend, &other->err), GCMSG_ERROR);
	assert_one_line(gcmsg_store_last_error(other), "database is locked");
	assert_non_null(gcmsg_store_last_error(other)->fix);
	s->ops->rollback(s->backend);
	assert_int_equal(other->ops->begin(other->backend, &other->err), GCMSG_OK);
	other->ops->rollback(other->backend);
	gcmsg_store_free(other);
	gcmsg_store_free(s);
}

/* ---- two processes at once ---- */

#define PER_CHILD_AUDIT 500
#define PER_CHILD_OUTBOX 250

static int child_work(int which, int go_fd)
{
	gcmsg_store *s = NULL;
	char go, key[64], outcome_key[64];
	int i, rc, bad = 0;

	if (read(go_fd, &go, 1) != 1)
		return 10;
	close(go_fd);
	rc = gcmsg_store_open(&s, fx_path("conc/gcmsg.db"), NULL); /* both create the store at once */
	if (rc) {
		fprintf(stderr, "child %d: open: %s\n", which, gcmsg_store_last_error(s)->explanation);
		gcmsg_store_free(s);
		return 11;
	}
	for (i = 0; i < PER_CHILD_AUDIT && !bad; i++) {
		gcmsg__audit_rec r;
		snprintf(outcome_key, sizeof(outcome_key), "p%d-%d", which, i);
		r = fx_rec(1000 + i, "attempt", "ok", outcome_key);
		if ((rc = gcmsg__audit_record(s, &r, 0)) != GCMSG_OK) {
			fprintf(stderr, "child %d: audit %d: %s\n", which, i, gcmsg_store_last_error(s)->explanation);
			bad = 12;
		}
		if (i % 2 == 0 && !bad) {
			gcmsg__outbox_row o;
			gcmsg__outbox_row_init(&o);
			snprintf(key, sizeof(key), "p%d-row-%d", which, i / 2);
			o.key = key;
			o.created_ms = o.updated_ms = 2000 + i;
			o.body = "{}";
			if ((rc = s->ops->begin(s->backend, &s->err)) == GCMSG_OK &&
			    (rc = s->ops->outbox_insert(s->backend, &o, &s->err)) == GCMSG_OK)
				rc = s->ops->commit(s->backend, &s->err);
			else
				s->ops->rollback(s->backend);
			if (rc) {
				fprintf(stderr, "child %d: outbox %d: %s\n", which, i,
				        gcmsg_store_last_error(s)->explanation);
				bad = 13;
			}
		}
	}
	gcmsg_store_free(s);
	return bad;
}

typedef struct conc_seen {
	unsigned char seen[2][PER_CHILD_AUDIT];
	long long last_id;
	size_t n;
	int dup;
} conc_seen;

static int see_conc(const gcmsg__audit_rec *rec, void *payload)
{
	conc_seen *c = payload;
	int which, i;

	assert_true(rec->id > c->last_id); /* unique and increasing */
	c->last_id = rec->id;
	assert_int_equal(sscanf(rec->key, "p%d-%d", &which, &i), 2);
	assert_true(which >= 0 && which < 2 && i >= 0 && i < PER_CHILD_AUDIT);
	if (c->seen[which][i]++)
		c->dup = 1;
	c->n++;
	return 0;
}

static int count_outbox(const gcmsg__outbox_row *row, void *payload)
{
	(void)row;
	++*(int *)payload;
	return 0;
}

/*
 * The senders of a bulk run: threads, each with its own handle on one store,
 * committing at once. Every commit returns after a sync that covers it (the
 * group commit); none fails on the lock; every record lands once.
 */
#define THREADS 8
#define PER_THREAD 150

typedef struct writer {
	gcmsg_store *s;
	int which, failed;
} writer;

static void *write_many(void *arg)
{
	writer *w = arg;
	char key[32];
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		gcmsg__audit_rec r;
		long long id;
		snprintf(key, sizeof(key), "t%d-%d", w->which, i);
		r = fx_rec(1000 + i, "attempt", "ok", key);
		if (w->s->ops->begin(w->s->backend, &w->s->err) < 0 ||
		    w->s->ops->audit_append(w->s->backend, &r, &id, &w->s->err) < 0 ||
		    w->s->ops->commit(w->s->backend, &w->s->err) < 0)
			w->failed++;
	}
	return NULL;
}

static int count_threads(const gcmsg__audit_rec *rec, void *payload)
{
	int (*seen)[PER_THREAD] = payload, which, i;

	if (sscanf(rec->key, "t%d-%d", &which, &i) == 2 && which >= 0 && which < THREADS && i >= 0 && i < PER_THREAD)
		seen[which][i]++;
	return 0;
}

static void threads_commit_together(void **state)
{
	static int seen[THREADS][PER_THREAD];
	pthread_t t[THREADS];
	writer w[THREADS];
	gcmsg_store *s = fx_open(fx_path("threads/gcmsg.db"), NULL);
	gcmsg__audit_query q;
	int i, j;

	(void)state;
	for (i = 0; i < THREADS; i++) {
		w[i].which = i;
		w[i].failed = 0;
		assert_int_equal(gcmsg__store_reopen(&w[i].s, s), GCMSG_OK);
	}
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, write_many, &w[i]), 0);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failed, 0);
		gcmsg_store_free(w[i].s);
	}
	memset(&q, 0, sizeof(q));
	memset(seen, 0, sizeof(seen));
	assert_int_equal(s->ops->audit_query(s->backend, &q, count_threads, seen, &s->err), GCMSG_OK);
	for (i = 0; i < THREADS; i++)
		for (j = 0; j < PER_THREAD; j++)
			assert_int_equal(seen[i][j], 1);
	gcmsg_store_free(s);
}

static void two_processes_at_once(void **state)
{
	int pipes[2][2], status, w, rows = 0;
	pid_t pids[2];
	gcmsg_store *s;
	gcmsg__audit_query q;
	gcmsg__outbox_query oq;
	conc_seen *c = calloc(1, sizeof(*c));

	(void)state;
	assert_non_null(c);
	for (w = 0; w < 2; w++) {
		assert_int_equal(pipe(pipes[w]), 0);
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			int rc;
			close(pipes[w][1]);
			if (w == 1)
				close(pipes[0][1]);
			free(c);
			rc = child_work(w, pipes[w][0]);
			_exit(rc);
		}
		close(pipes[w][0]);
	}
	for (w = 0; w < 2; w++) { /* go: both open the new store and write at the same time */
		assert_int_equal(write(pipes[w][1], "g", 1), 1);
		close(pipes[w][1]);
	}
	for (w = 0; w < 2; w++) {
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0); /* no error, no SQLITE_BUSY */
	}
	s = fx_open(fx_path("conc/gcmsg.db"), NULL);
	memset(&q, 0, sizeof(q));
	assert_int_equal(s->ops->audit_query(s->backend, &q, see_conc, c, &s->err), GCMSG_OK);
	assert_int_equal(c->n, 2 * PER_CHILD_AUDIT); /* every record once, ids unique */
	assert_int_equal(c->dup, 0);
	memset(&oq, 0, sizeof(oq));
	assert_int_equal(s->ops->outbox_query(s->backend, &oq, count_outbox, &rows, &s->err), GCMSG_OK);
	assert_int_equal(rows, 2 * PER_CHILD_OUTBOX);
	gcmsg_store_free(s);
	free(c);
}

/* Processes opening one new store at the same instant: each sees either an empty file or the whole schema. */
static void many_processes_create_one_store(void **state)
{
	enum { ROUNDS = 8, PROCS = 6, RECORDS = 5 };
	int round, w, status, go[2];
	pid_t pids[PROCS];
	char name[64];

	(void)state;
	for (round = 0; round < ROUNDS; round++) {
		gcmsg_store *s;
		gcmsg__audit_query q;
		conc_seen *c = calloc(1, sizeof(*c));

		assert_non_null(c);
		snprintf(name, sizeof(name), "race%d/gcmsg.db", round);
		assert_int_equal(pipe(go), 0);
		for (w = 0; w < PROCS; w++) {
			pids[w] = fork();
			assert_true(pids[w] >= 0);
			if (pids[w] == 0) {
				gcmsg_store *cs = NULL;
				char key[32], byte;
				int i, bad = 0;
				close(go[1]);
				free(c);
				if (read(go[0], &byte, 1) != 0) /* released when the parent closes the pipe */
					_exit(10);
				if (gcmsg_store_open(&cs, fx_path(name), NULL) != GCMSG_OK) {
					fprintf(stderr, "open: %s\n", gcmsg_store_last_error(cs)->explanation);
					bad = 11;
				}
				for (i = 0; i < RECORDS && !bad; i++) {
					gcmsg__audit_rec r;
					snprintf(key, sizeof(key), "p%d-%d", w % 2, w / 2 * RECORDS + i);
					r = fx_rec(0, "attempt", "ok", key); /* no time: now */
					if (gcmsg__audit_record(cs, &r, 0) != GCMSG_OK) {
						fprintf(stderr, "audit: %s\n", gcmsg_store_last_error(cs)->explanation);
						bad = 12;
					}
				}
				gcmsg_store_free(cs);
				_exit(bad);
			}
		}
		close(go[0]);
		close(go[1]); /* go */
		for (w = 0; w < PROCS; w++) {
			assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
		}
		s = fx_open(fx_path(name), NULL);
		memset(&q, 0, sizeof(q));
		assert_int_equal(s->ops->audit_query(s->backend, &q, see_conc, c, &s->err), GCMSG_OK);
		assert_int_equal(c->n, PROCS * RECORDS);
		assert_int_equal(c->dup, 0);
		gcmsg_store_free(s);
		free(c);
	}
}

static void row_helpers(void **state)
{
	gcmsg__outbox_row o;
	gcmsg__audit_rec a;
	gcmsg__webhook_row w;
	gcmsg__hook *hooks;
	long long t1, t2;

	(void)state;
	gcmsg__outbox_row_init(&o);
	assert_int_equal(o.state, GCMSG_OUTBOX_PENDING);
	assert_int_equal(o.response_version, -1);
	assert_null(o.key);
	full_row(&o, "x");
	gcmsg__outbox_row_dispose(&o);
	assert_null(o.body);
	assert_int_equal(o.response_version, -1);
	gcmsg__outbox_row_dispose(NULL);
	gcmsg__audit_rec_init(&a);
	assert_int_equal(a.response_version, -1);
	a.text = strdup("hello");
	gcmsg__audit_rec_dispose(&a);
	assert_null(a.text);
	gcmsg__webhook_row_init(&w);
	w.body = strdup("{}");
	gcmsg__webhook_row_dispose(&w);
	assert_null(w.body);
	hooks = calloc(2, sizeof(*hooks));
	hooks[0].name = strdup("a");
	hooks[0].secret = strdup("s3cret");
	hooks[1].url = strdup("https://example.test/");
	gcmsg__hooks_free(hooks, 2);
	gcmsg__hooks_free(NULL, 0);

	t1 = gcmsg__wall_ms();
	t2 = gcmsg__wall_ms();
	assert_true(t1 > 1600000000000LL && t2 >= t1);
	assert_non_null(gcmsg__host_name());
	assert_ptr_equal(gcmsg__host_name(), gcmsg__host_name());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(open_creates_private_dirs_and_files, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(pragmas_read_back, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(row_kinds_match_the_schema, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(location_forms, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(unsafe_modes_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(not_sqlite_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(foreign_database_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(newer_schema_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(outbox_round_trip, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(outbox_transitions_and_keys, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(outbox_queries, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(audit_round_trip, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(audit_queries, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(webhook_rows, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(transactions, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(busy_is_an_error_with_the_reason, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(two_processes_at_once, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(threads_commit_together, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(many_processes_create_one_store, fx_setup, fx_teardown),
		cmocka_unit_test(row_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
