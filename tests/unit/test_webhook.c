/*
 * Webhooks against the scripted HTTP server and a real SQLite store in a fresh
 * directory: the signature (a fixed vector, and recomputed here for every
 * POST), the headers, exactly-once delivery in queue order, retries after a
 * 500 with the next attempt moving forward (a tiny backoff base: the test
 * never sleeps, it calls deliver again and looks at the rows), giving up after
 * max_attempts, redirects never followed, a refused and a silent webhook next
 * to a live one (the live one gets everything; the deadline is respected),
 * events of unconfigured webhooks left alone, the audit log queueing events,
 * and the validation of webhooks in the API and in the config file.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "scripted_server.h"
#include "sha256.h"
#include "store.h"
#include "webhook_internal.h"

#define SECRET "whsec-TOPSECRET-value"

static char dir[256];
static char dbpath[300], cfgpath[300];
static gcmsg_store *store;
static atomic_int live_status = 200;
static int counter;

/* ---- the receiver: /live answers live_status, /redirect a 302 ---- */

static void handler(const ss_req *rq, ss_answer *an)
{
	if (strcmp(rq->target, "/redirect") == 0) {
		ss_reply(an, 302, "moved");
		ss_answer_header(an, "Location", "/live");
		return;
	}
	if (atomic_load(&live_status) == 429) {
		ss_reply(an, 429, "{}");
		ss_answer_header(an, "Retry-After", "7");
		return;
	}
	ss_reply(an, atomic_load(&live_status), "{\"ignored\": true}");
}

static void url_of(char *out, size_t n, const char *path)
{
	snprintf(out, n, "http://127.0.0.1:%d%s", ss_port(), path);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
	(void)state;
	gcmsg_global_init();
	unsetenv("GCMSG_WEBHOOK_URL");
	unsetenv("GCMSG_WEBHOOK_SECRET");
	unsetenv("GCMSG_CONFIG");
	return ss_start();
}

static int group_teardown(void **state)
{
	(void)state;
	ss_stop();
	gcmsg_global_cleanup();
	return 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gcmsg-test-webhook-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/gcmsg.db", dir);
	snprintf(cfgpath, sizeof(cfgpath), "%s/config.toml", dir);
	if (gcmsg_store_open(&store, dbpath, NULL) != GCMSG_OK)
		return -1;
	ss_set_handler(handler);
	ss_clear_log();
	atomic_store(&live_status, 200);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	gcmsg_store_free(store);
	store = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return -1;
	unsetenv("GCMSG_WEBHOOK_URL");
	unsetenv("GCMSG_WEBHOOK_SECRET");
	return 0;
}

/* ---- helpers ---- */

static void set_hooks(const gcmsg_webhook *h, size_t n)
{
	int rc = gcmsg_store_set_webhooks(store, h, n);

	if (rc != GCMSG_OK)
		fail_msg("set_webhooks: %s", gcmsg_store_last_error(store)->explanation);
}

/* Queue one event for a hook, as audit.c would (the body is the event's JSON). */
static void enqueue(const char *hook, char event_id[40])
{
	gcmsg__webhook_row w;
	char body[160];

	snprintf(event_id, 40, "00000000-0000-4000-8000-%012d", ++counter);
	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"type\":\"outcome.sent\",\"created\":\"x\",\"data\":{\"n\":%d}}",
	         event_id, counter);
	memset(&w, 0, sizeof(w));
	w.hook = (char *)hook;
	w.event_id = event_id;
	w.body = body;
	w.created_ms = gcmsg__wall_ms();
	w.next_attempt_ms = w.created_ms;
	assert_int_equal(store->ops->begin(store->backend, &store->err), GCMSG_OK);
	assert_int_equal(store->ops->webhook_insert(store->backend, &w, &store->err), GCMSG_OK);
	assert_int_equal(store->ops->commit(store->backend, &store->err), GCMSG_OK);
}

/* The queue row of an event id for a hook (every row, delivered too); fails the test when absent. */
static const gcmsg_webhook_event *find(const gcmsg_webhook_queue *q, const char *hook, const char *event_id)
{
	size_t i;

	for (i = 0; i < gcmsg_webhook_queue_count(q); i++) {
		const gcmsg_webhook_event *e = gcmsg_webhook_queue_event(q, i);
		if (strcmp(gcmsg_webhook_event_hook(e), hook) == 0 &&
		    strcmp(gcmsg_webhook_event_event_id(e), event_id) == 0)
			return e;
	}
	fail_msg("no queue row for %s/%s", hook, event_id);
	return NULL;
}

static gcmsg_webhook_queue *queue(void)
{
	gcmsg_webhook_queue *q = NULL;

	assert_int_equal(gcmsg_webhook_queue_get(&q, store, 1), GCMSG_OK);
	return q;
}

static int deliver(long deadline_ms, long base_ms, int max_attempts, gcmsg_webhook_report *rep)
{
	gcmsg_webhook_deliver_options o = GCMSG_WEBHOOK_DELIVER_OPTIONS_INIT;

	o.deadline_ms = deadline_ms;
	o.backoff_base_ms = base_ms;
	o.backoff_cap_ms = base_ms ? base_ms * 4 : 0;
	o.max_attempts = max_attempts;
	return gcmsg_webhooks_deliver(store, &o, rep);
}

static int count_target(const char *target)
{
	int i, n = 0;

	for (i = 0; i < ss_log_count(); i++)
		n += strcmp(ss_log_at(i)->target, target) == 0;
	return n;
}

/* A port nothing listens on (bound, then closed): connections are refused. */
static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A socket that listens but never accepts: the kernel completes the handshake, nobody answers. */
static int silent_listener(int *port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* The signature recomputed here, independently of gcmsg_webhook_sign. */
static void expected_signature(char out[64], const char *secret, const char *ts, const char *body, size_t len)
{
	unsigned char mac[GCMSG__SHA256_LEN];
	size_t tl = strlen(ts);
	char *msg = malloc(tl + 1 + len);

	assert_non_null(msg);
	memcpy(msg, ts, tl);
	msg[tl] = '.';
	memcpy(msg + tl + 1, body, len);
	gcmsg__hmac_sha256(secret, strlen(secret), msg, tl + 1 + len, mac);
	free(msg);
	memcpy(out, "sha256=", 7);
	gcmsg__base64(mac, sizeof(mac), out + 7);
}

/* ---- the signature ---- */

static void sign_vector(void **state)
{
	char *sig = NULL, want[64];

	(void)state;
	/* python3: base64(hmac.new(b'key', b'1700000000.{"a":1}', sha256).digest()) */
	assert_int_equal(gcmsg_webhook_sign(&sig, "key", 1700000000LL, "{\"a\":1}", 7), GCMSG_OK);
	assert_string_equal(sig, "sha256=pDjjmL+vxX5Dlrt/wjBEIvD3aOll0HPKMTy1LiLmrQM=");
	gcmsg_free(sig);
	assert_int_equal(gcmsg_webhook_sign(&sig, SECRET, 42, "", 0), GCMSG_OK);
	expected_signature(want, SECRET, "42", "", 0);
	assert_string_equal(sig, want);
	gcmsg_free(sig);
	assert_int_equal(gcmsg_webhook_sign(&sig, "", 1, "x", 1), GCMSG_EUSAGE);
	assert_null(sig);
	assert_int_equal(gcmsg_webhook_sign(&sig, NULL, 1, "x", 1), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_webhook_sign(NULL, "k", 1, "x", 1), GCMSG_EUSAGE);
}

static void backoff_bounds(void **state)
{
	int a, k;

	(void)state;
	for (a = 1; a <= 40; a++) {
		for (k = 0; k < 20; k++) {
			long long d = gcmsg__webhook_backoff_ms(a, 100, 60000, -1);
			long long hi = a < 20 ? 100LL << a : 60000;
			assert_true(d >= 100);
			assert_true(d <= (hi < 60000 ? hi : 60000));
		}
	}
	assert_int_equal(gcmsg__webhook_backoff_ms(3, 100, 60000, 7), 7000); /* Retry-After wins when later */
	assert_int_equal(gcmsg__webhook_backoff_ms(3, 100, 5000, 7), 5000);  /* never beyond the cap */
	assert_int_equal(gcmsg__webhook_backoff_ms(1, 5000, 1000, -1), 5000); /* cap below base: base */
}

/* ---- validation ---- */

static void set_webhooks_validation(void **state)
{
	static const struct {
		const char *name, *url, *secret;
		unsigned events;
		const char *why; /* NULL: accepted */
	} cases[] = {
		{ "ok", "https://hooks.example.com/x?a=1", SECRET, 0, NULL },
		{ "a_b-C9", "http://127.0.0.1:9/x", SECRET, GCMSG_WEBHOOK_EVENT_OUTCOME, NULL },
		{ "v6", "http://[::1]:9/", SECRET, 0, NULL },
		{ "lh", "http://LocalHost/x", SECRET, 0, NULL },
		{ "", "https://h/", SECRET, 0, "name" },
		{ "bad name", "https://h/", SECRET, 0, "name" },
		{ "0123456789012345678901234567890123456789012345678901234567890123x", "https://h/", SECRET, 0, "name" },
		{ "plain", "http://hooks.example.com/x", SECRET, 0, "https" },
		{ "plain2", "http://127.0.0.2/x", SECRET, 0, "https" },
		{ "ftp", "ftp://h/x", SECRET, 0, "https" },
		{ "creds", "https://user:PASSWORD@h/x", SECRET, 0, "user name or password" },
		{ "creds2", "https://user@h/x", SECRET, 0, "user name or password" },
		{ "trick", "http://127.0.0.1@evil.example/x", SECRET, 0, "user name or password" },
		{ "space", "https://h/a b", SECRET, 0, "space" },
		{ "nourl", NULL, SECRET, 0, "URL" },
		{ "relative", "/x", SECRET, 0, "URL" },
		{ "nosecret", "https://h/", NULL, 0, "secret" },
		{ "empty", "https://h/", "", 0, "secret" },
		{ "bits", "https://h/", SECRET, 8, "event" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gcmsg_webhook h = { cases[i].name, cases[i].url, cases[i].secret, cases[i].events };
		int rc = gcmsg_store_set_webhooks(store, &h, 1);
		const gcmsg_error *e = gcmsg_store_last_error(store);
		if (!cases[i].why) {
			if (rc != GCMSG_OK)
				fail_msg("case %zu refused: %s", i, e->explanation);
			assert_int_equal(store->nhooks, 1);
			assert_string_equal(store->hooks[0].url, cases[i].url);
			assert_int_not_equal(store->hooks[0].events, 0); /* 0 means both */
			continue;
		}
		if (rc != GCMSG_EUSAGE)
			fail_msg("case %zu (%s) accepted", i, cases[i].name);
		assert_non_null(e->explanation);
		if (!strstr(e->explanation, cases[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, e->explanation, cases[i].why);
		assert_null(strstr(e->explanation, "TOPSECRET"));
		assert_null(strstr(e->explanation, "PASSWORD"));
	}
	{
		gcmsg_webhook two[2] = { { "same", "https://a/", SECRET, 0 }, { "same", "https://b/", SECRET, 0 } };
		assert_int_equal(gcmsg_store_set_webhooks(store, two, 2), GCMSG_EUSAGE);
		assert_non_null(strstr(gcmsg_store_last_error(store)->explanation, "twice"));
		two[1].name = "other";
		assert_int_equal(gcmsg_store_set_webhooks(store, two, 2), GCMSG_OK);
		assert_int_equal(store->nhooks, 2);
		assert_int_equal(store->hooks[0].events, GCMSG_WEBHOOK_EVENT_ATTEMPT | GCMSG_WEBHOOK_EVENT_OUTCOME);
		/* the hooks are copies */
		assert_ptr_not_equal(store->hooks[0].secret, two[0].secret);
		assert_int_equal(gcmsg_store_set_webhooks(store, NULL, 0), GCMSG_OK);
		assert_int_equal(store->nhooks, 0);
		assert_int_equal(gcmsg_store_set_webhooks(store, NULL, 1), GCMSG_EUSAGE);
		assert_int_equal(gcmsg_store_set_webhooks(NULL, two, 1), GCMSG_EUSAGE);
	}
}

static void deliver_options_validation(void **state)
{
	gcmsg_webhook_deliver_options o = GCMSG_WEBHOOK_DELIVER_OPTIONS_INIT;
	gcmsg_webhook_report rep;
	char url[64];
	gcmsg_webhook h = { "live", url, SECRET, 0 };

	(void)state;
	/* no webhook configured: nothing to do */
	assert_int_equal(gcmsg_webhooks_deliver(store, NULL, &rep), GCMSG_OK);
	assert_int_equal(rep.delivered + rep.failed + rep.pending, 0);
	url_of(url, sizeof(url), "/live");
	set_hooks(&h, 1);
	o.version = 99;
	assert_int_equal(gcmsg_webhooks_deliver(store, &o, &rep), GCMSG_EUSAGE);
	o.version = GCMSG_WEBHOOK_DELIVER_OPTIONS_VERSION;
	o.timeout_ms = -1;
	assert_int_equal(gcmsg_webhooks_deliver(store, &o, &rep), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_webhooks_deliver(NULL, NULL, NULL), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_webhooks_deliver(store, NULL, NULL), GCMSG_OK);
	assert_int_equal(ss_log_count(), 0);
}

/* ---- delivery ---- */

static void headers_and_signature(void **state)
{
	char url[64], eid[40], hv[256], want[64], ua[64];
	gcmsg_webhook h = { "live", url, SECRET, 0 };
	gcmsg_webhook_report rep;
	gcmsg_webhook_queue *q;
	const gcmsg_webhook_event *e;
	const ss_req *rq;
	long long ts;

	(void)state;
	url_of(url, sizeof(url), "/live");
	set_hooks(&h, 1);
	enqueue("live", eid);
	assert_int_equal(deliver(0, 0, 0, &rep), GCMSG_OK);
	assert_int_equal(rep.delivered, 1);
	assert_int_equal(rep.failed, 0);
	assert_int_equal(rep.pending, 0);
	assert_int_equal(ss_log_count(), 1);
	rq = ss_log_at(0);
	assert_string_equal(rq->method, "POST");
	assert_string_equal(rq->target, "/live");
	assert_non_null(ss_header_of(rq, "Content-Type", hv, sizeof(hv)));
	assert_string_equal(hv, "application/json");
	assert_non_null(ss_header_of(rq, "X-Gcmsg-Event-Id", hv, sizeof(hv)));
	assert_string_equal(hv, eid);
	snprintf(ua, sizeof(ua), "gcmsg/%s", GCMSG_VERSION);
	assert_non_null(ss_header_of(rq, "User-Agent", hv, sizeof(hv)));
	assert_string_equal(hv, ua);
	assert_null(ss_header_of(rq, "Authorization", hv, sizeof(hv)));
	assert_null(ss_header_of(rq, "Expect", hv, sizeof(hv)));
	assert_non_null(ss_header_of(rq, "X-Gcmsg-Timestamp", hv, sizeof(hv)));
	ts = atoll(hv);
	assert_true(ts > 0 && llabs(ts - (long long)time(NULL)) < 60);
	expected_signature(want, SECRET, hv, rq->body, rq->body_len);
	assert_non_null(ss_header_of(rq, "X-Gcmsg-Signature-256", hv, sizeof(hv)));
	assert_string_equal(hv, want);
	/* the body goes out as queued */
	assert_non_null(strstr(rq->body, eid));
	assert_non_null(strstr(rq->body, "\"type\":\"outcome.sent\""));

	q = queue();
	e = find(q, "live", eid);
	assert_true(gcmsg_webhook_event_delivered(e));
	assert_int_equal(gcmsg_webhook_event_attempts(e), 1);
	assert_int_equal(gcmsg_webhook_event_last_status(e), 200);
	assert_null(gcmsg_webhook_event_last_error(e));
	assert_string_equal(gcmsg_webhook_event_type(e), "outcome.sent");
	assert_int_equal(gcmsg_webhook_event_next_attempt_ms(e), -1);
	gcmsg_webhook_queue_free(q);
	/* a delivered event is not listed without all */
	assert_int_equal(gcmsg_webhook_queue_get(&q, store, 0), GCMSG_OK);
	assert_int_equal(gcmsg_webhook_queue_count(q), 0);
	gcmsg_webhook_queue_free(q);
}

static void exactly_once_in_order(void **state)
{
	enum { N = 25 };
	char url[64], eids[N][40], hv[64];
	gcmsg_webhook h = { "live", url, SECRET, 0 };
	gcmsg_webhook_report rep;
	int i;

	(void)state;
	url_of(url, sizeof(url), "/live");
	set_hooks(&h, 1);
	for (i = 0; i < N; i++)
		enqueue("live", eids[i]);
	assert_int_equal(deliver(0, 0, 0, &rep), GCMSG_OK);
	assert_int_equal(rep.delivered, N);
	assert_int_equal(rep.pending, 0);
	assert_int_equal(ss_log_count(), N);
	for (i = 0; i < N; i++) {
		assert_non_null(ss_header_of(ss_log_at(i), "X-Gcmsg-Event-Id", hv, sizeof(hv)));
		assert_string_equal(hv, eids[i]);
	}
	/* nothing left: a second run posts nothing */
	assert_int_equal(deliver(0, 0, 0, &rep), GCMSG_OK);
	assert_int_equal(rep.delivered, 0);
	assert_int_equal(ss_log_count(), N);
}

static void retry_after_500_with_backoff(void **state)
{
	char url[64], e1[40], e2[40], e3[40];
	gcmsg_webhook h = { "live", url, SECRET, 0 };
	gcmsg_webhook_report rep;
	gcmsg_webhook_queue *q;
	const gcmsg_webhook_event *e;
	const gcmsg_error *err;
	long long before, next1, next2;
	int i, attempts = 1;

	(void)state;
	url_of(url, sizeof(url), "/live");
	set_hooks(&h, 1);
	enqueue("live", e1);
	enqueue("live", e2);
	enqueue("live", e3);
	atomic_store(&live_status, 500);
	before = gcmsg__wall_ms();
	assert_int_equal(deliver(0, 2, 0, &rep), GCMSG_EREMOTE);
	assert_int_equal(rep.delivered, 0);
	assert_int_equal(rep.failed, 1); /* a failing webhook gets no more requests in this run */
	assert_int_equal(rep.pending, 3);
	assert_int_equal(ss_log_count(), 1);
	err = gcmsg_store_last_error(store);
	assert_non_null(strstr(err->explanation, "'live'"));
	assert_non_null(strstr(err->explanation, "HTTP 500"));
	assert_null(strstr(err->explanation, "TOPSECRET"));
	q = queue();
	e = find(q, "live", e1);
	assert_false(gcmsg_webhook_event_delivered(e));
	assert_int_equal(gcmsg_webhook_event_attempts(e), 1);
	assert_int_equal(gcmsg_webhook_event_last_status(e), 500);
	assert_string_equal(gcmsg_webhook_event_last_error(e), "HTTP 500");
	next1 = gcmsg_webhook_event_next_attempt_ms(e);
	assert_true(next1 > before); /* moved forward: base 2 ms, cap 8 ms */
	assert_int_equal(gcmsg_webhook_event_attempts(find(q, "live", e2)), 0);
	gcmsg_webhook_queue_free(q);

	/* called again (as often as it takes for the tiny backoff to pass): a second attempt */
	for (i = 0; i < 100000 && attempts < 2; i++) {
		int rc = deliver(0, 2, 0, &rep);
		assert_int_equal(rc, rep.failed ? GCMSG_EREMOTE : GCMSG_OK);
		assert_int_equal(rep.delivered, 0);
		q = queue();
		attempts = gcmsg_webhook_event_attempts(find(q, "live", e1));
		next2 = gcmsg_webhook_event_next_attempt_ms(find(q, "live", e1));
		gcmsg_webhook_queue_free(q);
	}
	assert_int_equal(attempts, 2);
	assert_true(next2 > next1);

	/* the receiver recovers: every event is delivered, once each, in order */
	atomic_store(&live_status, 200);
	ss_clear_log();
	for (i = 0; i < 100000; i++) {
		deliver(0, 2, 0, &rep);
		q = queue();
		attempts = gcmsg_webhook_event_delivered(find(q, "live", e1)) +
		           gcmsg_webhook_event_delivered(find(q, "live", e2)) +
		           gcmsg_webhook_event_delivered(find(q, "live", e3));
		gcmsg_webhook_queue_free(q);
		if (attempts == 3)
			break;
	}
	assert_int_equal(attempts, 3);
	/* once each (an event in backoff does not hold back the newer ones, so the order may change) */
	assert_int_equal(ss_log_count(), 3);
	{
		char a[64], b[64], c[64];
		assert_non_null(ss_header_of(ss_log_at(0), "X-Gcmsg-Event-Id", a, sizeof(a)));
		assert_non_null(ss_header_of(ss_log_at(1), "X-Gcmsg-Event-Id", b, sizeof(b)));
		assert_non_null(ss_header_of(ss_log_at(2), "X-Gcmsg-Event-Id", c, sizeof(c)));
		assert_true(strcmp(a, b) != 0 && strcmp(b, c) != 0 && strcmp(a, c) != 0);
	}
}

static void retry_after_header_sets_the_delay(void **state)
{
	char url[64], e1[40];
	gcmsg_webhook h = { "live", url, SECRET, 0 };
	gcmsg_webhook_deliver_options o = GCMSG_WEBHOOK_DELIVER_OPTIONS_INIT;
	gcmsg_webhook_report rep;
	gcmsg_webhook_queue *q;
	long long before, next;

	(void)state;
	url_of(url, sizeof(url), "/live");
	set_hooks(&h, 1);
	enqueue("live", e1);
	atomic_store(&live_status, 429); /* with Retry-After: 7 */
	o.backoff_base_ms = 1;
	o.backoff_cap_ms = 60000;
	before = gcmsg__wall_ms();
	assert_int_equal(gcmsg_webhooks_deliver(store, &o, &rep), GCMSG_EREMOTE);
	q = queue();
	next = gcmsg_webhook_event_next_attempt_ms(find(q, "live", e1));
	assert_int_equal(gcmsg_webhook_event_last_status(find(q, "live", e1)), 429);
	gcmsg_webhook_queue_free(q);
	assert_true(next >= before + 7000);
}

static void gives_up_after_max_attempts(void **state)
{
	char url[64], e1[40], e2[40];
	gcmsg_webhook h = { "live", url, SECRET, 0 };
	gcmsg_webhook_report rep;
	gcmsg_webhook_queue *q;
	const gcmsg_webhook_event *e;
	char why[512] = "";
	int i, given_up = 0, n;

	(void)state;
	url_of(url, sizeof(url), "/live");
	set_hooks(&h, 1);
	enqueue("live", e1);
	atomic_store(&live_status, 503);
	for (i = 0; i < 100000 && !given_up; i++) {
		if (deliver(0, 1, 2, &rep) == GCMSG_EREMOTE)
			snprintf(why, sizeof(why), "%s", gcmsg_store_last_error(store)->explanation);
		q = queue();
		given_up = gcmsg_webhook_event_given_up(find(q, "live", e1));
		gcmsg_webhook_queue_free(q);
	}
	assert_true(given_up);
	assert_non_null(strstr(why, "given up"));
	q = queue();
	e = find(q, "live", e1);
	assert_int_equal(gcmsg_webhook_event_attempts(e), 2);
	assert_int_equal(gcmsg_webhook_event_next_attempt_ms(e), -1);
	assert_false(gcmsg_webhook_event_delivered(e));
	gcmsg_webhook_queue_free(q);
	/* it stays queued, is never tried again, and does not hold back a newer event */
	n = ss_log_count();
	atomic_store(&live_status, 200);
	enqueue("live", e2);
	assert_int_equal(deliver(0, 1, 2, &rep), GCMSG_OK);
	assert_int_equal(rep.delivered, 1);
	assert_int_equal(rep.pending, 1);
	assert_int_equal(ss_log_count(), n + 1);
	q = queue();
	assert_true(gcmsg_webhook_event_given_up(find(q, "live", e1)));
	assert_true(gcmsg_webhook_event_delivered(find(q, "live", e2)));
	gcmsg_webhook_queue_free(q);
}

static void redirect_not_followed(void **state)
{
	char url[64], e1[40];
	gcmsg_webhook h = { "moved", url, SECRET, 0 };
	gcmsg_webhook_report rep;
	gcmsg_webhook_queue *q;
	const gcmsg_webhook_event *e;

	(void)state;
	url_of(url, sizeof(url), "/redirect");
	set_hooks(&h, 1);
	enqueue("moved", e1);
	assert_int_equal(deliver(0, 0, 0, &rep), GCMSG_EREMOTE);
	assert_int_equal(ss_log_count(), 1);
	assert_int_equal(count_target("/live"), 0);
	q = queue();
	e = find(q, "moved", e1);
	assert_int_equal(gcmsg_webhook_event_last_status(e), 302);
	assert_non_null(strstr(gcmsg_webhook_event_last_error(e), "redirect"));
	gcmsg_webhook_queue_free(q);
}

static void refused_next_to_live(void **state)
{
	enum { N = 5 };
	char live_url[64], dead_url[64], le[N][40], de[N][40], hv[64];
	gcmsg_webhook h[2] = { { "dead", dead_url, SECRET, 0 }, { "live", live_url, SECRET, 0 } };
	gcmsg_webhook_report rep;
	gcmsg_webhook_queue *q;
	const gcmsg_webhook_event *e;
	int i;

	(void)state;
	url_of(live_url, sizeof(live_url), "/live");
	snprintf(dead_url, sizeof(dead_url), "http://127.0.0.1:%d/dead", closed_port());
	set_hooks(h, 2);
	for (i = 0; i < N; i++) {
		enqueue("dead", de[i]);
		enqueue("live", le[i]);
	}
	assert_int_equal(deliver(0, 60000, 0, &rep), GCMSG_EREMOTE);
	assert_int_equal(rep.delivered, N);
	assert_int_equal(rep.failed, 1);
	assert_int_equal(rep.pending, N);
	assert_int_equal(ss_log_count(), N);
	for (i = 0; i < N; i++) {
		assert_string_equal(ss_log_at(i)->target, "/live");
		assert_non_null(ss_header_of(ss_log_at(i), "X-Gcmsg-Event-Id", hv, sizeof(hv)));
		assert_string_equal(hv, le[i]);
	}
	q = queue();
	e = find(q, "dead", de[0]);
	assert_int_equal(gcmsg_webhook_event_attempts(e), 1);
	assert_int_equal(gcmsg_webhook_event_last_status(e), 0);
	assert_non_null(gcmsg_webhook_event_last_error(e));
	assert_true(gcmsg_webhook_event_next_attempt_ms(e) > gcmsg__wall_ms() + 1000); /* backing off */
	for (i = 1; i < N; i++)
		assert_int_equal(gcmsg_webhook_event_attempts(find(q, "dead", de[i])), 0);
	gcmsg_webhook_queue_free(q);

	/* while the dead one backs off, a new event of the live one goes out at once */
	{
		char more[40];
		enqueue("live", more);
		deliver(0, 60000, 0, &rep);
		assert_int_equal(rep.delivered, 1);
		assert_int_equal(count_target("/live"), N + 1);
	}
}

static void silent_next_to_live(void **state)
{
	enum { N = 3 };
	char live_url[64], slow_url[64], le[N][40], se[N][40];
	gcmsg_webhook h[2] = { { "slow", slow_url, SECRET, 0 }, { "live", live_url, SECRET, 0 } };
	gcmsg_webhook_deliver_options o = GCMSG_WEBHOOK_DELIVER_OPTIONS_INIT;
	gcmsg_webhook_report rep;
	gcmsg_webhook_queue *q;
	const gcmsg_webhook_event *e;
	int i, port, fd = silent_listener(&port);

	(void)state;
	url_of(live_url, sizeof(live_url), "/live");
	snprintf(slow_url, sizeof(slow_url), "http://127.0.0.1:%d/slow", port);
	set_hooks(h, 2);
	for (i = 0; i < N; i++) {
		enqueue("slow", se[i]);
		enqueue("live", le[i]);
	}
	o.deadline_ms = 1500;  /* far shorter than the timeout: the deadline cuts the silent POST */
	o.timeout_ms = 60000;
	assert_int_equal(gcmsg_webhooks_deliver(store, &o, &rep), GCMSG_EREMOTE);
	/* it returned; the live webhook got everything, the silent one's events stay queued */
	assert_int_equal(rep.delivered, N);
	assert_int_equal(rep.failed, 1);
	assert_int_equal(rep.pending, N);
	assert_int_equal(count_target("/live"), N);
	q = queue();
	for (i = 0; i < N; i++) {
		assert_true(gcmsg_webhook_event_delivered(find(q, "live", le[i])));
		assert_false(gcmsg_webhook_event_delivered(find(q, "slow", se[i])));
	}
	e = find(q, "slow", se[0]);
	assert_int_equal(gcmsg_webhook_event_attempts(e), 1);
	assert_non_null(strstr(gcmsg_webhook_event_last_error(e), "no answer"));
	gcmsg_webhook_queue_free(q);
	close(fd);
}

static void unconfigured_left_alone(void **state)
{
	char url[64], g[40], l[40];
	gcmsg_webhook h = { "live", url, SECRET, 0 };
	gcmsg_webhook_report rep;
	gcmsg_webhook_queue *q;

	(void)state;
	url_of(url, sizeof(url), "/live");
	set_hooks(&h, 1);
	enqueue("gone", g);
	enqueue("live", l);
	assert_int_equal(deliver(0, 0, 0, &rep), GCMSG_OK);
	assert_int_equal(rep.delivered, 1);
	assert_int_equal(rep.pending, 0); /* only configured webhooks count */
	assert_int_equal(ss_log_count(), 1);
	q = queue();
	assert_int_equal(gcmsg_webhook_event_attempts(find(q, "gone", g)), 0);
	assert_false(gcmsg_webhook_event_delivered(find(q, "gone", g)));
	gcmsg_webhook_queue_free(q);
	assert_int_equal(gcmsg_webhook_queue_get(&q, store, 0), GCMSG_OK);
	assert_int_equal(gcmsg_webhook_queue_count(q), 1);
	assert_string_equal(gcmsg_webhook_event_hook(gcmsg_webhook_queue_event(q, 0)), "gone");
	assert_null(gcmsg_webhook_queue_event(q, 1));
	gcmsg_webhook_queue_free(q);
}

/* The audit log queues the events, per webhook and event kind; what arrives is what was queued. */
static void audit_records_become_events(void **state)
{
	char url_all[64], url_out[64], hv[64], want[64], ts[32];
	gcmsg_webhook h[2] = { { "all", url_all, SECRET, 0 }, { "outcomes", url_out, "other-secret", GCMSG_WEBHOOK_EVENT_OUTCOME } };
	gcmsg__audit_rec r;
	gcmsg_webhook_report rep;
	json_t *body;
	int i;

	(void)state;
	url_of(url_all, sizeof(url_all), "/all");
	url_of(url_out, sizeof(url_out), "/outcomes");
	set_hooks(h, 2);
	gcmsg__audit_rec_init(&r);
	r.event = "attempt";
	r.outcome = "ok";
	r.key = "k1";
	r.conversation_id = "conv-1";
	r.http_status = 200;
	r.attempt = 1;
	assert_int_equal(gcmsg__audit_record(store, &r, 0), GCMSG_OK);
	r.event = "outcome";
	r.outcome = "sent";
	assert_int_equal(gcmsg__audit_record(store, &r, 0), GCMSG_OK);
	assert_int_equal(deliver(0, 0, 0, &rep), GCMSG_OK);
	assert_int_equal(rep.delivered, 3);
	assert_int_equal(count_target("/all"), 2);
	assert_int_equal(count_target("/outcomes"), 1);
	for (i = 0; i < ss_log_count(); i++) {
		const ss_req *rq = ss_log_at(i);
		const char *secret = strcmp(rq->target, "/all") == 0 ? SECRET : "other-secret";
		body = json_loadb(rq->body, rq->body_len, 0, NULL);
		assert_non_null(body);
		assert_non_null(ss_header_of(rq, "X-Gcmsg-Event-Id", hv, sizeof(hv)));
		assert_string_equal(gcmsg__json_str(body, "id"), hv);
		assert_non_null(json_object_get(body, "data"));
		assert_string_equal(gcmsg__json_str(json_object_get(body, "data"), "conversationId"), "conv-1");
		if (strcmp(rq->target, "/outcomes") == 0)
			assert_string_equal(gcmsg__json_str(body, "type"), "outcome.sent");
		assert_non_null(ss_header_of(rq, "X-Gcmsg-Timestamp", ts, sizeof(ts)));
		expected_signature(want, secret, ts, rq->body, rq->body_len);
		assert_non_null(ss_header_of(rq, "X-Gcmsg-Signature-256", hv, sizeof(hv)));
		assert_string_equal(hv, want);
		json_decref(body);
	}
}

/* ---- configuration ---- */

static void write_config(const char *text, mode_t mode)
{
	FILE *f = fopen(cfgpath, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(cfgpath, mode), 0);
}

/* Load cfgpath's profile; the error code, the config left in *out (freed by the caller). */
static int load(gcmsg_config **out, const char *profile)
{
	assert_int_equal(gcmsg_config_new(out), GCMSG_OK);
	return gcmsg_config_load_file(*out, cfgpath, profile);
}

static void config_webhooks(void **state)
{
	gcmsg_config *cfg;
	gcmsg_webhook w;

	(void)state;
	write_config("[DEFAULT]\n"
	             "region = \"mypurecloud.ie\"\n"
	             "[DEFAULT.webhooks.audit-sink]\n"
	             "url = \"https://hooks.example.com/gcmsg\"\n"
	             "secret = \"" SECRET "\"\n"
	             "events = [\"outcome\"]\n"
	             "[DEFAULT.webhooks.local]\n"
	             "url = 'http://127.0.0.1:8080/x'\n"
	             "secret = \"s2\"\n"
	             "[other.webhooks.elsewhere]\n"
	             "url = \"https://h/\"\n"
	             "secret = \"s3\"\n",
	             0600);
	assert_int_equal(load(&cfg, NULL), GCMSG_OK);
	assert_int_equal(gcmsg_config_webhook_count(cfg), 2);
	assert_int_equal(gcmsg_config_webhook(cfg, 0, &w), GCMSG_OK);
	assert_string_equal(w.name, "audit-sink");
	assert_string_equal(w.url, "https://hooks.example.com/gcmsg");
	assert_string_equal(w.secret, SECRET);
	assert_int_equal(w.events, GCMSG_WEBHOOK_EVENT_OUTCOME);
	assert_int_equal(gcmsg_config_webhook(cfg, 1, &w), GCMSG_OK);
	assert_string_equal(w.name, "local");
	assert_int_equal(w.events, 0);
	assert_int_equal(gcmsg_config_webhook(cfg, 2, &w), GCMSG_EUSAGE);
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_REGION), "mypurecloud.ie");
	/* the environment adds the webhook "env" */
	setenv("GCMSG_WEBHOOK_URL", "https://env.example.com/h", 1);
	setenv("GCMSG_WEBHOOK_SECRET", "env-secret", 1);
	assert_int_equal(gcmsg_config_load_env(cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_webhook_count(cfg), 3);
	assert_int_equal(gcmsg_config_webhook(cfg, 2, &w), GCMSG_OK);
	assert_string_equal(w.name, "env");
	assert_string_equal(w.url, "https://env.example.com/h");
	assert_string_equal(w.secret, "env-secret");
	/* the configured hooks are accepted by the store as they are */
	{
		gcmsg_webhook all[3];
		size_t i;
		for (i = 0; i < 3; i++)
			assert_int_equal(gcmsg_config_webhook(cfg, i, &all[i]), GCMSG_OK);
		assert_int_equal(gcmsg_store_set_webhooks(store, all, 3), GCMSG_OK);
	}
	gcmsg_config_free(cfg);
	/* the other profile has its own */
	assert_int_equal(load(&cfg, "other"), GCMSG_OK);
	assert_int_equal(gcmsg_config_webhook_count(cfg), 1);
	assert_int_equal(gcmsg_config_webhook(cfg, 0, &w), GCMSG_OK);
	assert_string_equal(w.name, "elsewhere");
	gcmsg_config_free(cfg);
}

static void config_env_webhook(void **state)
{
	gcmsg_config *cfg;
	gcmsg_webhook w;
	const gcmsg_error *e;

	(void)state;
	/* a file webhook named env gives way to the environment's */
	write_config("[DEFAULT.webhooks.env]\nurl = \"https://file.example.com/\"\nsecret = \"f\"\n", 0600);
	assert_int_equal(load(&cfg, NULL), GCMSG_OK);
	assert_int_equal(gcmsg_config_webhook_count(cfg), 1);
	setenv("GCMSG_WEBHOOK_URL", "http://localhost:9/h", 1);
	setenv("GCMSG_WEBHOOK_SECRET", "env-secret", 1);
	assert_int_equal(gcmsg_config_load_env(cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_webhook_count(cfg), 1);
	assert_int_equal(gcmsg_config_webhook(cfg, 0, &w), GCMSG_OK);
	assert_string_equal(w.url, "http://localhost:9/h");
	gcmsg_config_free(cfg);

	/* one without the other */
	unsetenv("GCMSG_WEBHOOK_SECRET");
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_env(cfg), GCMSG_ECONFIG);
	e = gcmsg_config_last_error(cfg);
	assert_non_null(strstr(e->explanation, "GCMSG_WEBHOOK_SECRET"));
	gcmsg_config_free(cfg);
	/* an unsafe URL; the secret is never echoed */
	setenv("GCMSG_WEBHOOK_URL", "http://hooks.example.com/h", 1);
	setenv("GCMSG_WEBHOOK_SECRET", "TOPSECRET", 1);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_env(cfg), GCMSG_ECONFIG);
	e = gcmsg_config_last_error(cfg);
	assert_non_null(strstr(e->explanation, "GCMSG_WEBHOOK_URL"));
	assert_non_null(strstr(e->explanation, "https"));
	assert_null(strstr(e->explanation, "TOPSECRET"));
	gcmsg_config_free(cfg);
}

static void config_webhook_errors(void **state)
{
	static const struct {
		const char *text;
		mode_t mode;
		const char *want1, *want2; /* in the explanation */
	} cases[] = {
		/* a webhook secret makes the file secret: 0600 */
		{ "[DEFAULT.webhooks.a]\nurl = \"https://h/\"\nsecret = \"" SECRET "\"\n", 0644, "line 3", "0644" },
		{ "[x]\n[x.webhooks.a]\nurl = \"https://h/\"\nsecret = \"" SECRET "\"\n", 0640, "line 4", "secret" },
		{ "[DEFAULT.webhooks.a]\nurl = \"https://h/\"\n", 0600, "line 1", "no secret" },
		{ "[DEFAULT.webhooks.a]\nsecret = \"" SECRET "\"\n", 0600, "line 1", "no url" },
		{ "[DEFAULT.webhooks.a]\nurl = \"http://hooks.example.com/\"\nsecret = \"" SECRET "\"\n", 0600,
		  "line 1", "https" },
		{ "[DEFAULT.webhooks.a]\nurl = \"https://u:PASSWORD@h/\"\nsecret = \"" SECRET "\"\n", 0600, "line 1",
		  "user name or password" },
		{ "[DEFAULT.webhooks.a]\nurl = \"https://h/\"\nsecret = \"" SECRET "\"\ncolour = \"red\"\n", 0600,
		  "line 4", "unknown key 'colour'" },
		{ "[DEFAULT.webhooks.a]\nurl = \"https://h/\"\nsecret = \"" SECRET "\"\nevents = [\"sent\"]\n", 0600,
		  "line 4", "events" },
		{ "[DEFAULT.webhooks.a]\nurl = \"https://h/\"\nsecret = \"" SECRET "\"\nevents = []\n", 0600,
		  "line 4", "events" },
		{ "[DEFAULT.webhooks.a]\nurl = \"https://h/\"\nsecret = \"" SECRET "\"\nevents = \"outcome\"\n", 0600,
		  "line 4", "events" },
		{ "[DEFAULT.webhooks.a]\nurl = [\"https://h/\"]\nsecret = \"" SECRET "\"\n", 0600, "line 2",
		  "must be a string" },
		{ "[DEFAULT.webhooks]\nurl = \"https://h/\"\n", 0600, "line 2", "[DEFAULT.webhooks.NAME]" },
		{ "[DEFAULT.webhooks.\"bad name\"]\nurl = \"https://h/\"\nsecret = \"" SECRET "\"\n", 0600, "line 1",
		  "name" },
		{ "[DEFAULT.webhooks.a.b]\nurl = \"https://h/\"\nsecret = \"" SECRET "\"\n", 0600, "line 1",
		  "too deep" },
		/* arrays stay refused where a string is wanted */
		{ "[DEFAULT]\nregion = [\"a\"]\n", 0600, "line 2", "must be a string" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gcmsg_config *cfg;
		const gcmsg_error *e;
		int rc;
		write_config(cases[i].text, cases[i].mode);
		rc = load(&cfg, strncmp(cases[i].text, "[x]", 3) == 0 ? "x" : NULL);
		e = gcmsg_config_last_error(cfg);
		if (rc != GCMSG_ECONFIG)
			fail_msg("case %zu: %d, not ECONFIG", i, rc);
		assert_non_null(e->explanation);
		if (!strstr(e->explanation, cfgpath) || !strstr(e->explanation, cases[i].want1) ||
		    !strstr(e->explanation, cases[i].want2))
			fail_msg("case %zu: '%s' lacks '%s' or '%s'", i, e->explanation, cases[i].want1, cases[i].want2);
		assert_null(strstr(e->explanation, "TOPSECRET"));
		assert_null(strstr(e->explanation, "PASSWORD"));
		if (cases[i].mode != 0600) {
			assert_non_null(e->fix);
			assert_non_null(strstr(e->fix, "chmod 600"));
		}
		assert_int_equal(gcmsg_config_webhook_count(cfg), 0);
		gcmsg_config_free(cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sign_vector),
		cmocka_unit_test(backoff_bounds),
		cmocka_unit_test_setup_teardown(set_webhooks_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(deliver_options_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(headers_and_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(exactly_once_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(retry_after_500_with_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(retry_after_header_sets_the_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(gives_up_after_max_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(redirect_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_next_to_live, setup, teardown),
		cmocka_unit_test_setup_teardown(silent_next_to_live, setup, teardown),
		cmocka_unit_test_setup_teardown(unconfigured_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_records_become_events, setup, teardown),
		cmocka_unit_test_setup_teardown(config_webhooks, setup, teardown),
		cmocka_unit_test_setup_teardown(config_env_webhook, setup, teardown),
		cmocka_unit_test_setup_teardown(config_webhook_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
