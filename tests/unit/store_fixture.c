/*
 * store_fixture.c - the store tests' shared fixture (store_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"

static char dir[256];

/* ---- a temporary directory per test ---- */

static void rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char sub[1024];

	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode) && (d = opendir(path))) {
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			rm_rf(sub);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

int fx_setup(void **state)
{
	*state = NULL;
	snprintf(dir, sizeof(dir), "/tmp/gcmsg-test-store-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

int fx_setup_store(void **state)
{
	gcmsg_store *s = NULL;

	if (fx_setup(state) < 0)
		return -1;
	if (gcmsg_store_open(&s, fx_path("gcmsg.db"), NULL) != GCMSG_OK) {
		gcmsg_store_free(s);
		rm_rf(dir);
		return -1;
	}
	*state = s;
	return 0;
}

int fx_teardown(void **state)
{
	gcmsg_store_free(*state);
	rm_rf(dir);
	return 0;
}

const char *fx_path(const char *name)
{
	static char buf[4][512];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, name);
	return buf[n];
}

gcmsg_store *fx_open(const char *location, const gcmsg_store_options *opts)
{
	gcmsg_store *s = NULL;
	int rc = gcmsg_store_open(&s, location, opts);

	if (rc != GCMSG_OK)
		fprintf(stderr, "open %s: %s\n", location, gcmsg_store_last_error(s)->explanation);
	assert_int_equal(rc, GCMSG_OK);
	assert_non_null(s);
	return s;
}

/* ---- rows to put in a store ---- */

void fx_outbox_row(gcmsg__outbox_row *r, const char *key, gcmsg_outbox_state state, const char *conv,
                   long long created)
{
	int sent = state == GCMSG_OUTBOX_SENT, failed = state == GCMSG_OUTBOX_FAILED;

	gcmsg__outbox_row_init(r);
	r->key = (char *)key;
	r->state = state;
	r->conversation_id = (char *)conv;
	r->communication_id = "comm";
	r->route = "agent-messaging";
	r->channel = "webmessaging";
	r->path = "/api/v2/conversations/messages/c/communications/m/messages";
	r->body = sent ? NULL : "{\"textBody\":\"hi\"}";
	r->match_text = sent ? NULL : "hi";
	r->text_sha256 = FX_TEXT_SHA256;
	r->response_id = "resp";
	r->library_id = "lib";
	r->response_version = 2;
	r->source = "cli";
	r->who = "user:u";
	r->created_ms = created;
	r->updated_ms = created + 1;
	r->next_attempt_ms = created + 2;
	r->first_attempt_ms = created ? created + 3 : 0;
	r->attempts = 1;
	r->message_id = sent ? "msg" : NULL;
	r->http_status = failed ? 400 : 0;
	r->error_code = failed ? "bad.request" : NULL;
	r->correlation_id = "corr";
	r->last_error = failed ? "the server refused it" : NULL;
}

void fx_put_outbox(gcmsg_store *s, const char *key, gcmsg_outbox_state state, const char *conv, long long created)
{
	gcmsg__outbox_row r;

	fx_outbox_row(&r, key, state, conv, created);
	assert_int_equal(s->ops->outbox_insert(s->backend, &r, &s->err), GCMSG_OK);
}

gcmsg__audit_rec fx_rec(long long time_ms, const char *event, const char *outcome, const char *key)
{
	gcmsg__audit_rec r;

	gcmsg__audit_rec_init(&r);
	r.time_ms = time_ms;
	r.event = (char *)event;
	r.outcome = (char *)outcome;
	r.key = (char *)key;
	return r;
}

void fx_full_rec(gcmsg__audit_rec *r, const char *event, const char *outcome)
{
	*r = fx_rec(1714566896789LL, event, outcome, "key-1");
	r->who = "user:u-1";
	r->route = "agent-messaging";
	r->conversation_id = "conv-1";
	r->communication_id = "comm-1";
	r->response_id = "resp-1";
	r->library_id = "lib-1";
	r->response_version = 4;
	r->channel = "webmessaging";
	r->source = "cli";
	r->http_status = 200;
	r->correlation_id = "corr-1";
	r->attempt = 1;
	r->latency_ms = 120;
	r->message_id = "msg-1";
	r->text_sha256 = FX_TEXT_SHA256;
	r->text = "Hello there";
	r->detail = "delivered";
}

void fx_add_hook(gcmsg_store *s, const char *name, unsigned events)
{
	gcmsg__hook *h = realloc(s->hooks, (s->nhooks + 1) * sizeof(*h));

	assert_non_null(h);
	s->hooks = h;
	h += s->nhooks++;
	h->name = strdup(name);
	h->url = strdup("https://hooks.example.test/x");
	h->secret = strdup("the-secret");
	h->events = events;
}

/* ---- rows copied out of a walk ---- */

gcmsg__err fx_rows_err;

int fx_grab_webhook(const gcmsg__webhook_row *row, void *rows)
{
	return gcmsg__row_list_add(rows, row);
}

int fx_grab_rec(const gcmsg__audit_rec *rec, void *rows)
{
	return gcmsg__row_list_add(rows, rec);
}

static void *row_at(const gcmsg__row_list *rows, size_t i)
{
	const void *row = gcmsg__row_list_at(rows, i);

	if (!row)
		fail_msg("no row %zu: the list has %zu", i, rows->count);
	return (void *)(uintptr_t)row;
}

gcmsg__webhook_row *fx_webhook_at(const gcmsg__row_list *rows, size_t i)
{
	return row_at(rows, i);
}

gcmsg__audit_rec *fx_rec_at(const gcmsg__row_list *rows, size_t i)
{
	return row_at(rows, i);
}
