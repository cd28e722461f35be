/*
 * The outbox's public side: state names, listing with filters and every
 * accessor, claims (this process alive, a dead child, another host's lease,
 * a zombie, a reused pid), in-flight entries and the drop rules with their
 * audit record and webhook event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"
#include "gcmsg/webhook.h"

/* Set a row's claim (SENDING) to pid/host/ms. */
/* A claim on the entry, in state SENDING (a request in flight) unless it is UNKNOWN (a read-back). */
static void set_claim(gcmsg_store *s, const char *key, long pid, const char *host, long long ms)
{
	gcmsg__outbox_row r;

	gcmsg__outbox_row_init(&r);
	assert_int_equal(s->ops->outbox_get(s->backend, key, &r, &s->err), GCMSG_OK);
	if (r.state != GCMSG_OUTBOX_UNKNOWN)
		r.state = GCMSG_OUTBOX_SENDING;
	r.claim_pid = pid;
	free(r.claim_host);
	r.claim_host = host ? strdup(host) : NULL;
	r.claim_ms = ms;
	assert_int_equal(s->ops->outbox_update(s->backend, &r, &s->err), GCMSG_OK);
	gcmsg__outbox_row_dispose(&r);
}

static void state_names(void **state)
{
	static const char *const names[] = { "pending", "sending", "unknown", "sent", "failed", "dropped" };
	int i;

	(void)state;
	for (i = 0; i < 6; i++) {
		assert_string_equal(gcmsg_outbox_state_name((gcmsg_outbox_state)i), names[i]);
		assert_int_equal(gcmsg_outbox_state_parse(names[i]), i);
	}
	assert_string_equal(gcmsg_outbox_state_name((gcmsg_outbox_state)6), "invalid");
	assert_string_equal(gcmsg_outbox_state_name((gcmsg_outbox_state)-1), "invalid");
	assert_int_equal(gcmsg_outbox_state_parse("Sent"), -1);
	assert_int_equal(gcmsg_outbox_state_parse(""), -1);
	assert_int_equal(gcmsg_outbox_state_parse(NULL), -1);
}

static const char *list_keys(gcmsg_store *s, const gcmsg_outbox_filter *f)
{
	static char buf[256];
	gcmsg_outbox_list *l = NULL;
	size_t i, n = 0;

	assert_int_equal(gcmsg_outbox_list_get(&l, s, f), GCMSG_OK);
	buf[0] = '\0';
	for (i = 0; i < gcmsg_outbox_list_count(l); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "," : "",
		                      gcmsg_outbox_entry_key(gcmsg_outbox_list_entry(l, i)));
	gcmsg_outbox_list_free(l);
	return buf;
}

static void listing(void **state)
{
	gcmsg_store *s = *state;
	gcmsg_outbox_filter f = GCMSG_OUTBOX_FILTER_INIT;
	gcmsg_outbox_list *l = NULL;
	const gcmsg_outbox_entry *e;

	fx_put_outbox(s, "k3", GCMSG_OUTBOX_FAILED, "c1", 300);
	fx_put_outbox(s, "k1", GCMSG_OUTBOX_SENT, "c2", 100);
	fx_put_outbox(s, "k2", GCMSG_OUTBOX_PENDING, "c1", 200);
	assert_string_equal(list_keys(s, NULL), "k1,k2,k3");
	f.states = 1u << GCMSG_OUTBOX_PENDING | 1u << GCMSG_OUTBOX_FAILED;
	assert_string_equal(list_keys(s, &f), "k2,k3");
	f.limit = 1;
	assert_string_equal(list_keys(s, &f), "k2");
	f = (gcmsg_outbox_filter)GCMSG_OUTBOX_FILTER_INIT;
	f.conversation_id = "c1";
	assert_string_equal(list_keys(s, &f), "k2,k3");
	f = (gcmsg_outbox_filter)GCMSG_OUTBOX_FILTER_INIT;
	f.since_ms = 150;
	assert_string_equal(list_keys(s, &f), "k2,k3");
	f = (gcmsg_outbox_filter)GCMSG_OUTBOX_FILTER_INIT;
	f.key = "k1";
	assert_string_equal(list_keys(s, &f), "k1");
	f.key = "none";
	assert_string_equal(list_keys(s, &f), "");

	/* every accessor */
	f.key = "k3";
	assert_int_equal(gcmsg_outbox_list_get(&l, s, &f), GCMSG_OK);
	assert_int_equal(gcmsg_outbox_list_count(l), 1);
	e = gcmsg_outbox_list_entry(l, 0);
	assert_null(gcmsg_outbox_list_entry(l, 1));
	assert_string_equal(gcmsg_outbox_entry_key(e), "k3");
	assert_int_equal(gcmsg_outbox_entry_state(e), GCMSG_OUTBOX_FAILED);
	assert_string_equal(gcmsg_outbox_entry_conversation_id(e), "c1");
	assert_string_equal(gcmsg_outbox_entry_communication_id(e), "comm");
	assert_string_equal(gcmsg_outbox_entry_route(e), "agent-messaging");
	assert_string_equal(gcmsg_outbox_entry_channel(e), "webmessaging");
	assert_string_equal(gcmsg_outbox_entry_response_id(e), "resp");
	assert_string_equal(gcmsg_outbox_entry_source(e), "cli");
	assert_string_equal(gcmsg_outbox_entry_who(e), "user:u");
	assert_string_equal(gcmsg_outbox_entry_text_sha256(e), FX_TEXT_SHA256);
	assert_int_equal(gcmsg_outbox_entry_attempts(e), 1);
	assert_int_equal(gcmsg_outbox_entry_created_ms(e), 300);
	assert_int_equal(gcmsg_outbox_entry_updated_ms(e), 301);
	assert_int_equal(gcmsg_outbox_entry_next_attempt_ms(e), 302);
	assert_null(gcmsg_outbox_entry_message_id(e));
	assert_int_equal(gcmsg_outbox_entry_http_status(e), 400);
	assert_string_equal(gcmsg_outbox_entry_error_code(e), "bad.request");
	assert_string_equal(gcmsg_outbox_entry_correlation_id(e), "corr");
	assert_string_equal(gcmsg_outbox_entry_last_error(e), "the server refused it");
	assert_int_equal(gcmsg_outbox_entry_in_flight(e), 0);
	gcmsg_outbox_list_free(l);

	/* NULL-safe accessors, bad filters */
	assert_null(gcmsg_outbox_entry_key(NULL));
	assert_int_equal(gcmsg_outbox_entry_attempts(NULL), 0);
	assert_int_equal(gcmsg_outbox_entry_in_flight(NULL), 0);
	assert_int_equal(gcmsg_outbox_list_count(NULL), 0);
	assert_null(gcmsg_outbox_list_entry(NULL, 0));
	gcmsg_outbox_list_free(NULL);
	f.version = 99;
	assert_int_equal(gcmsg_outbox_list_get(&l, s, &f), GCMSG_EUSAGE);
	assert_null(l);
	assert_non_null(strstr(gcmsg_store_last_error(s)->explanation, "version"));
	assert_int_equal(gcmsg_outbox_list_get(&l, NULL, NULL), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_outbox_list_get(NULL, s, NULL), GCMSG_EUSAGE);
}

/*
 * The pid of a child process that has exited (and been reaped). It execs
 * true rather than exiting in place, so that the parent's open store is not
 * reported as lost by a leak checker in the child.
 */
static long dead_child_pid(void)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return (long)pid;
}

static void claims(void **state)
{
	gcmsg__outbox_row r;
	long long now = gcmsg__wall_ms();
	const char *host = gcmsg__host_name();
	int status;
	pid_t zombie;

	(void)state;
	gcmsg__outbox_row_init(&r);
	assert_int_equal(gcmsg__outbox_claim_alive(&r, now), 0); /* no claim */
	assert_int_equal(gcmsg__outbox_claim_alive(NULL, now), 0);

	/* this process's claim: alive only while a delivery call holds it (none here: left behind) */
	assert_int_equal(gcmsg__outbox_claim(&r, now), GCMSG_OK);
	assert_int_equal(r.claim_pid, (long)getpid());
	assert_string_equal(r.claim_host, host);
	assert_int_equal(r.claim_ms, now);
	assert_int_equal(gcmsg__outbox_claim_alive(&r, now), 0);
	assert_int_equal(gcmsg__outbox_claim(&r, now), GCMSG_OK);                 /* re-claiming frees the old host */

	/* a child that claimed and exited: dead */
	if (!*host)
		skip();
	{
		int fds[2];
		long claimed = 0;
		pid_t pid;

		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			gcmsg__outbox_row c;
			gcmsg__outbox_row_init(&c);
			int ok = gcmsg__outbox_claim(&c, now) == GCMSG_OK &&
			         write(fds[1], &c.claim_pid, sizeof(long)) == (ssize_t)sizeof(long);
			gcmsg__outbox_row_dispose(&c);
			_exit(ok ? 0 : 1);
		}
		close(fds[1]);
		assert_int_equal(read(fds[0], &claimed, sizeof(claimed)), (ssize_t)sizeof(claimed));
		close(fds[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_int_equal(claimed, (long)pid);
		r.claim_pid = claimed;
		assert_int_equal(gcmsg__outbox_claim_alive(&r, now), 0);
	}

	/* a child that exited but is not reaped yet (a zombie): dead */
	zombie = fork();
	assert_true(zombie >= 0);
	if (zombie == 0)
		_exit(0);
	r.claim_pid = (long)zombie;
	for (int i = 0; i < 200 && gcmsg__outbox_claim_alive(&r, now); i++)
		usleep(10000); /* until it has exited */
	assert_int_equal(gcmsg__outbox_claim_alive(&r, now), 0);
	assert_int_equal(waitpid(zombie, &status, 0), zombie);

	/* a live process that started long after the claim holds a reused pid: dead */
	r.claim_pid = (long)getppid();
	r.claim_ms = now;
	assert_int_equal(gcmsg__outbox_claim_alive(&r, now), 1);
	r.claim_ms = 1000; /* 1970: every process started after it */
	assert_int_equal(gcmsg__outbox_claim_alive(&r, now), 0);

	/* another host: the lease */
	free(r.claim_host);
	r.claim_host = strdup("some-other-host.invalid");
	r.claim_pid = (long)getpid();
	r.claim_ms = now;
	assert_int_equal(gcmsg__outbox_claim_alive(&r, now + GCMSG__CLAIM_LEASE_MS - 1), 1);
	assert_int_equal(gcmsg__outbox_claim_alive(&r, now + GCMSG__CLAIM_LEASE_MS), 0);
	/* no host name: the lease too */
	free(r.claim_host);
	r.claim_host = NULL;
	assert_int_equal(gcmsg__outbox_claim_alive(&r, now + 1), 1);
	assert_int_equal(gcmsg__outbox_claim_alive(&r, now + GCMSG__CLAIM_LEASE_MS), 0);
	gcmsg__outbox_row_dispose(&r);
}

static void in_flight(void **state)
{
	gcmsg_store *s = *state;
	gcmsg_outbox_filter f = GCMSG_OUTBOX_FILTER_INIT;
	gcmsg_outbox_list *l = NULL;
	long long now = gcmsg__wall_ms();

	fx_put_outbox(s, "live", GCMSG_OUTBOX_PENDING, "c", 1);
	fx_put_outbox(s, "dead", GCMSG_OUTBOX_PENDING, "c", 2);
	fx_put_outbox(s, "idle", GCMSG_OUTBOX_PENDING, "c", 3);
	set_claim(s, "live", (long)getppid(), gcmsg__host_name(), now); /* a live process: our parent */
	set_claim(s, "dead", dead_child_pid(), gcmsg__host_name(), now);
	f.states = 1u << GCMSG_OUTBOX_SENDING;
	assert_int_equal(gcmsg_outbox_list_get(&l, s, &f), GCMSG_OK);
	assert_int_equal(gcmsg_outbox_list_count(l), 2);
	assert_string_equal(gcmsg_outbox_entry_key(gcmsg_outbox_list_entry(l, 0)), "live");
	assert_int_equal(gcmsg_outbox_entry_in_flight(gcmsg_outbox_list_entry(l, 0)), 1);
	assert_string_equal(gcmsg_outbox_entry_key(gcmsg_outbox_list_entry(l, 1)), "dead");
	assert_int_equal(gcmsg_outbox_entry_in_flight(gcmsg_outbox_list_entry(l, 1)), 0);
	gcmsg_outbox_list_free(l);
}

static size_t audit_of(gcmsg_store *s, const char *key, gcmsg__row_list *recs)
{
	gcmsg__audit_query q;

	memset(&q, 0, sizeof(q));
	q.key = key;
	gcmsg__row_list_dispose(recs);
	assert_int_equal(s->ops->audit_query(s->backend, &q, fx_grab_rec, recs, &s->err), GCMSG_OK);
	return recs->count;
}

static int count_webhooks(const gcmsg__webhook_row *row, void *payload)
{
	(void)row;
	++*(int *)payload;
	return 0;
}

static gcmsg_outbox_state state_of(gcmsg_store *s, const char *key)
{
	gcmsg__outbox_row r;
	gcmsg_outbox_state st;

	gcmsg__outbox_row_init(&r);
	assert_int_equal(s->ops->outbox_get(s->backend, key, &r, &s->err), GCMSG_OK);
	st = r.state;
	if (st == GCMSG_OUTBOX_DROPPED) { /* the request is erased, the claim cleared */
		assert_null(r.body);
		assert_null(r.match_text);
		assert_int_equal(r.claim_pid, 0);
		assert_null(r.claim_host);
		assert_string_equal(r.text_sha256, FX_TEXT_SHA256);
	}
	gcmsg__outbox_row_dispose(&r);
	return st;
}

static void drop_rules(void **state)
{
	gcmsg_store *s = *state;
	gcmsg__row_list a = FX_ROWS(gcmsg__audit_kind);
	const gcmsg__audit_rec *r;
	long long before = gcmsg__wall_ms();
	int hooks = 0;

	/* a webhook that wants outcomes: the drop's event is queued with it */
	fx_add_hook(s, "ops", GCMSG_WEBHOOK_EVENT_OUTCOME);

	fx_put_outbox(s, "pending", GCMSG_OUTBOX_PENDING, "c", 1);
	fx_put_outbox(s, "unknown", GCMSG_OUTBOX_UNKNOWN, "c", 2);
	fx_put_outbox(s, "failed", GCMSG_OUTBOX_FAILED, "c", 3);
	fx_put_outbox(s, "sent", GCMSG_OUTBOX_SENT, "c", 4);
	fx_put_outbox(s, "live", GCMSG_OUTBOX_PENDING, "c", 5);
	fx_put_outbox(s, "abandoned", GCMSG_OUTBOX_PENDING, "c", 6);
	fx_put_outbox(s, "reading", GCMSG_OUTBOX_UNKNOWN, "c", 7);
	set_claim(s, "live", (long)getppid(), gcmsg__host_name(), before); /* a live process: our parent */
	set_claim(s, "reading", (long)getppid(), gcmsg__host_name(), before);
	set_claim(s, "abandoned", dead_child_pid(), gcmsg__host_name(), before);

	/* pending: dropped, audited */
	assert_int_equal(gcmsg_outbox_drop(s, "pending"), GCMSG_OK);
	assert_int_equal(state_of(s, "pending"), GCMSG_OUTBOX_DROPPED);
	assert_int_equal(audit_of(s, "pending", &a), 1);
	r = fx_rec_at(&a, 0);
	assert_string_equal(r->event, "outcome");
	assert_string_equal(r->outcome, "dropped");
	assert_string_equal(r->key, "pending");
	assert_string_equal(r->conversation_id, "c");
	assert_string_equal(r->communication_id, "comm");
	assert_string_equal(r->route, "agent-messaging");
	assert_string_equal(r->channel, "webmessaging");
	assert_string_equal(r->response_id, "resp");
	assert_string_equal(r->library_id, "lib");
	assert_int_equal(r->response_version, 2);
	assert_string_equal(r->source, "cli");
	assert_string_equal(r->who, "user:u");
	assert_int_equal(r->attempt, 1);
	assert_string_equal(r->detail, "dropped from state pending");
	assert_string_equal(r->text_sha256, FX_TEXT_SHA256);
	assert_null(r->text);
	assert_true(r->time_ms >= before);
	assert_int_equal(s->ops->webhook_list(s->backend, 1, count_webhooks, &hooks, &s->err), GCMSG_OK);
	assert_int_equal(hooks, 1);

	/* dropping it again: OK, nothing more written */
	assert_int_equal(gcmsg_outbox_drop(s, "pending"), GCMSG_OK);
	assert_int_equal(audit_of(s, "pending", &a), 1);

	/* unknown and failed: dropped */
	assert_int_equal(gcmsg_outbox_drop(s, "unknown"), GCMSG_OK);
	assert_int_equal(state_of(s, "unknown"), GCMSG_OUTBOX_DROPPED);
	assert_int_equal(audit_of(s, "unknown", &a), 1);
	assert_string_equal(fx_rec_at(&a, 0)->detail, "dropped from state unknown");
	assert_int_equal(gcmsg_outbox_drop(s, "failed"), GCMSG_OK);
	assert_int_equal(state_of(s, "failed"), GCMSG_OUTBOX_DROPPED);

	/* sent: refused */
	assert_int_equal(gcmsg_outbox_drop(s, "sent"), GCMSG_EUSAGE);
	assert_non_null(strstr(gcmsg_store_last_error(s)->explanation, "was sent"));
	assert_int_equal(state_of(s, "sent"), GCMSG_OUTBOX_SENT);
	assert_int_equal(audit_of(s, "sent", &a), 0);

	/* a live process sending it: refused */
	assert_int_equal(gcmsg_outbox_drop(s, "live"), GCMSG_EUSAGE);
	assert_non_null(strstr(gcmsg_store_last_error(s)->explanation, "live process"));
	assert_int_equal(state_of(s, "live"), GCMSG_OUTBOX_SENDING);
	assert_int_equal(audit_of(s, "live", &a), 0);

	/* a live process reading it back: refused too (the read-back's answer would be lost) */
	assert_int_equal(gcmsg_outbox_drop(s, "reading"), GCMSG_EUSAGE);
	assert_non_null(strstr(gcmsg_store_last_error(s)->explanation, "read back"));
	assert_int_equal(state_of(s, "reading"), GCMSG_OUTBOX_UNKNOWN);

	/* its process died: dropped */
	assert_int_equal(gcmsg_outbox_drop(s, "abandoned"), GCMSG_OK);
	assert_int_equal(state_of(s, "abandoned"), GCMSG_OUTBOX_DROPPED);
	assert_int_equal(audit_of(s, "abandoned", &a), 1);
	assert_string_equal(fx_rec_at(&a, 0)->detail, "dropped from state sending");

	/* unknown keys, bad arguments */
	assert_int_equal(gcmsg_outbox_drop(s, "nope"), GCMSG_ENOTFOUND);
	assert_non_null(strstr(gcmsg_store_last_error(s)->explanation, "nope"));
	assert_int_equal(gcmsg_outbox_drop(s, ""), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_outbox_drop(s, NULL), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_outbox_drop(NULL, "x"), GCMSG_EUSAGE);

	hooks = 0;
	assert_int_equal(s->ops->webhook_list(s->backend, 1, count_webhooks, &hooks, &s->err), GCMSG_OK);
	assert_int_equal(hooks, 4); /* pending, unknown, failed, abandoned */
	gcmsg__row_list_dispose(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_names),
		cmocka_unit_test_setup_teardown(listing, fx_setup_store, fx_teardown),
		cmocka_unit_test(claims),
		cmocka_unit_test_setup_teardown(in_flight, fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(drop_rules, fx_setup_store, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
