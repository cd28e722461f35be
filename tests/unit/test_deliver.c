/*
 * Exactly-once delivery (gcmsg_send with a store, gcmsg_outbox_resume) against
 * a scripted server that keeps the conversation's messages, with a real SQLite
 * store in a mkdtemp directory. Waits are a millisecond at most: the tests
 * assert on the requests the server saw, the outbox rows and the audit log,
 * never on time.
 *
 * 2xx; 429 then 2xx; 503 after the message was recorded (commit-then-fail) and
 * a dropped connection after it -> read back, found, exactly one message; 503
 * before it -> absent -> resent -> one message; 400 -> failed, no retry; a key
 * reused for another body; a duplicate answered from the outbox without a
 * request; a dead claim (a child that claims, then dies) read back first; a
 * live claim refused; 401 renewed once; the retry budget or attempts spent ->
 * pending (ERATELIMIT / EREMOTE) or unknown (EREMOTE), then resumed; the
 * derived key's encoding; the audit records of every attempt and outcome.
 * And the paths a review found: the in-flight horizon (a request the server
 * carries out after the client gave up: read again, never resent before the
 * horizon; unknown when the budget cannot reach it; a failed key with an
 * earlier ambiguous attempt re-armed unknown); the server's clock minutes off
 * ours; an agentless conversation that ended; an identical text of another
 * sender or of another key of ours; a derived key continued across a changed
 * key; the store locked when the answer comes (retried, then "may have been
 * sent", and the claim dead for this process too); a claim taken over while
 * the request was out (its attempt still audited).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "route_fixture.h"
#include "deliver.h"
#include "internal.h"
#include "scripted_server.h"
#include "store.h"

static gcmsg_client *client;
static gcmsg_identity *alice, *svc;
static gcmsg_store *store;
static char dir[256];
static int store_n;

/* ---- the fake server: one messaging conversation c1 (agent route) and one SMS conversation c2 ---- */

typedef struct post_step {
	int commit;              /* record the message before answering */
	int status;              /* HTTP status, or SS_DROP / SS_RESET */
	const char *retry_after; /* or NULL */
	const char *code;        /* ErrorBody code, or NULL for the status's */
} post_step;

static post_step script[32];
static int nscript, next_step, get_fail, bulk_fail, token_n;
/* the server's clock: ours + srv_skew_ms (its Date header, its messages' times) */
static long long srv_skew_ms;
/* c2 (the SMS conversation) has ended: an agentless send opens a new conversation, "c2-new" */
static int c2_ended;
/* a message the server carries out late: recorded when the conversation is read for the late_at-th time */
static const char *late_text;
static int late_at, gets;
/* called in the server's thread when a send arrives, before it is answered */
static void (*on_post)(void);

typedef struct srv_msg {
	char id[32], conv[8];
	char *text, *media;
	long long time_ms;
} srv_msg;

static srv_msg msgs[64];
static int nmsgs, msg_n;

static long long wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static srv_msg *add_msg(const char *conv, const char *text, const char *media)
{
	srv_msg *m = &msgs[nmsgs++];

	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "msg-%d", ++msg_n);
	snprintf(m->conv, sizeof(m->conv), "%s", conv);
	m->text = text ? strdup(text) : NULL;
	m->media = media ? strdup(media) : NULL;
	m->time_ms = wall_now();
	return m;
}

static int count_msgs(const char *conv, const char *text)
{
	int i, n = 0;

	for (i = 0; i < nmsgs; i++)
		n += strcmp(msgs[i].conv, conv) == 0 && msgs[i].text && strcmp(msgs[i].text, text) == 0;
	return n;
}

static const char *default_code(int status)
{
	switch (status) {
	case 400: return "bad.request";
	case 401: return "credentials.expired";
	case 403: return "missing.any.permissions";
	case 429: return "too.many.requests.retry.after";
	case 500: return "internal.server.error";
	default: return "service.unavailable";
	}
}

/* The Date header of the server's clock (IMF-fixdate). */
static void add_date(ss_answer *an)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)((wall_now() + srv_skew_ms) / 1000);
	struct tm tm;
	char v[64];

	gmtime_r(&t, &tm);
	snprintf(v, sizeof(v), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	ss_answer_header(an, "Date", v);
}

static void answer_send(const ss_req *rq, ss_answer *an, const char *conv, int agentless)
{
	post_step st = { 1, 200, NULL, NULL };
	srv_msg *m = NULL;

	if (next_step < nscript)
		st = script[next_step++];
	if (on_post)
		on_post();
	if (agentless && c2_ended)
		conv = "c2-new";
	if (st.commit) {
		json_t *b = json_loads(rq->body, 0, NULL);
		m = add_msg(conv, gcmsg__json_str(b, "textBody"),
		            json_string_value(json_array_get(json_object_get(b, "mediaIds"), 0)));
		json_decref(b);
	}
	if (st.status == SS_DROP || st.status == SS_RESET) {
		an->status = st.status;
		return;
	}
	if (st.status >= 200 && st.status < 300) {
		if (agentless)
			ss_reply(an, st.status, "{\"id\":\"agl-%d\",\"message\":{\"id\":\"%s\"}}", msg_n, m ? m->id : "?");
		else
			ss_reply(an, st.status, "{\"id\":\"%s\",\"status\":\"sent\"}", m ? m->id : "?");
		ss_answer_header(an, "ININ-Correlation-Id", "corr-ok");
		return;
	}
	ss_reply(an, st.status, "{\"code\":\"%s\",\"status\":%d,\"message\":\"scripted\",\"contextId\":\"ctx-%d\"}",
	         st.code ? st.code : default_code(st.status), st.status, next_step);
	if (st.retry_after)
		ss_answer_header(an, "Retry-After", st.retry_after);
}

static void answer_conversation(ss_answer *an, const char *conv)
{
	json_t *list = json_array(), *doc;
	char t[40], *text;
	int i;

	for (i = 0; i < nmsgs; i++) {
		if (strcmp(msgs[i].conv, conv) != 0)
			continue;
		ss_iso_time(msgs[i].time_ms + srv_skew_ms, t, sizeof(t));
		json_array_append_new(list, json_pack("{s:s, s:s}", "messageId", msgs[i].id, "messageTime", t));
	}
	doc = json_pack("{s:s, s:[{s:s, s:s, s:s, s:o}]}", "id", conv, "participants", "id", "p1", "purpose",
	                "customer", "state", strcmp(conv, "c2") == 0 && c2_ended ? "disconnected" : "connected",
	                "messages", list);
	text = json_dumps(doc, JSON_COMPACT);
	ss_reply(an, 200, "%s", text);
	add_date(an);
	free(text);
	json_decref(doc);
}

static void answer_bulk(const ss_req *rq, ss_answer *an)
{
	json_t *ids = json_loads(rq->body, 0, NULL), *ents = json_array(), *id, *doc;
	size_t i;
	int k;
	char *text;

	json_array_foreach(ids, i, id) {
		for (k = 0; k < nmsgs; k++) {
			char t[40];
			json_t *e;
			if (strcmp(msgs[k].id, json_string_value(id)) != 0)
				continue;
			ss_iso_time(msgs[k].time_ms + srv_skew_ms, t, sizeof(t));
			e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", msgs[k].id, "timestamp", t, "direction", "outbound",
			              "status", "sent", "textBody", msgs[k].text ? msgs[k].text : "");
			if (msgs[k].media)
				json_object_set_new(e, "media", json_pack("[{s:s}]", "id", msgs[k].media));
			json_array_append_new(ents, e);
		}
	}
	doc = json_pack("{s:o}", "entities", ents);
	text = json_dumps(doc, JSON_COMPACT);
	ss_reply(an, 200, "%s", text);
	add_date(an);
	free(text);
	json_decref(doc);
	json_decref(ids);
}

static void handler(const ss_req *rq, ss_answer *an)
{
	const char *t = rq->target;

	if (strcmp(rq->method, "POST") == 0 && strcmp(t, "/oauth/token") == 0) {
		ss_reply(an, 200, "{\"access_token\":\"tok-%d\",\"token_type\":\"bearer\",\"expires_in\":3600}", ++token_n);
	} else if (strcmp(rq->method, "POST") == 0 &&
	           strcmp(t, "/api/v2/conversations/messages/c1/communications/m2/messages") == 0) {
		answer_send(rq, an, "c1", 0);
	} else if (strcmp(rq->method, "POST") == 0 &&
	           strcmp(t, "/api/v2/conversations/chats/c3/communications/ch2/messages") == 0) {
		answer_send(rq, an, "c3", 0);
	} else if (strcmp(rq->method, "POST") == 0 && strcmp(t, "/api/v2/conversations/messages/agentless") == 0) {
		answer_send(rq, an, "c2", 1);
	} else if (strcmp(rq->method, "POST") == 0 &&
	           strcmp(t, "/api/v2/conversations/messages/c1/communications/m2/typing") == 0) {
		ss_reply(an, 200, "%s", "");
	} else if (strcmp(rq->method, "GET") == 0 && strncmp(t, "/api/v2/conversations/messages/c", 32) == 0 &&
	           strlen(t) == 33) {
		if (get_fail) {
			if (get_fail > 0)
				get_fail--;
			ss_reply(an, 503, "{\"code\":\"service.unavailable\",\"status\":503}");
			return;
		}
		if (late_text && ++gets == late_at)
			add_msg(t + 31, late_text, NULL); /* the request the client gave up on, carried out now */
		answer_conversation(an, t + 31);
	} else if (strcmp(rq->method, "POST") == 0 && strstr(t, "/messages/bulk")) {
		if (bulk_fail) {
			ss_reply(an, 500, "{\"code\":\"internal.server.error\",\"status\":500}");
			return;
		}
		answer_bulk(rq, an);
	} else {
		ss_reply(an, 404, "{\"code\":\"not.found\",\"status\":404}");
	}
}

static void set_script(const post_step *steps, int n)
{
	memcpy(script, steps, (size_t)n * sizeof(*steps));
	nscript = n;
	next_step = 0;
}

/* requests of the log whose method and target contain these */
static int seen(const char *method, const char *needle)
{
	int i, n = 0;

	for (i = 0; i < ss_log_count(); i++)
		n += strcmp(ss_log_at(i)->method, method) == 0 && strstr(ss_log_at(i)->target, needle) != NULL;
	return n;
}

#define SENDS() (seen("POST", "/communications/m2/messages") + seen("POST", "/messages/agentless"))

/* ---- clients, store, routes ---- */

static gcmsg_client *new_client_h(int max_attempts, long budget_ms, int with_secret, long horizon_ms)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_retry_policy p = GCMSG_RETRY_POLICY_INIT;
	gcmsg_client *c = NULL;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ss_port());
	p.readback_horizon_ms = horizon_ms;
	p.max_attempts = max_attempts;
	p.backoff_base_ms = 1;
	p.backoff_cap_ms = 1;
	p.retry_after_default_ms = 1;
	p.retry_after_cap_ms = 2000;
	p.readback_settle_ms = 1;
	p.budget_ms = budget_ms;
	p.seed = 7;
	if (with_secret) {
		o.client_id = "svc";
		o.client_secret = "svc-secret";
	} else {
		o.access_token = "test-token";
	}
	o.api_url = url;
	o.retry = &p;
	if (gcmsg_client_new(&c, &o) != GCMSG_OK) {
		gcmsg_client_free(c);
		return NULL;
	}
	return c;
}

/* An in-flight horizon of 1 ms: absent is absent at once (the tests below of the horizon set their own). */
static gcmsg_client *new_client(int max_attempts, long budget_ms, int with_secret)
{
	return new_client_h(max_attempts, budget_ms, with_secret, 1);
}

static const char webmsg[] =
	"{'id':'c1','participants':["
	"{'id':'p1','purpose':'customer','messages':[{'id':'m1','state':'connected','type':'webmessaging'}]},"
	"{'id':'p2','purpose':'agent','userId':'u1','messages':[{'id':'m2','state':'connected','type':'webmessaging'}]}]}";

static const char sms[] =
	"{'id':'c2','participants':[{'id':'p1','purpose':'customer','messages':[{'id':'m1',"
	"'state':'connected','type':'sms','fromAddress':{'addressNormalized':'+15551230002'},"
	"'toAddress':{'addressNormalized':'+15550009999'}}]}]}";

static gcmsg_route *agent_route, *sms_route;

static int setup(void **state)
{
	(void)state;
	gcmsg_global_init();
	if (ss_start() < 0)
		return -1;
	ss_set_handler(handler);
	snprintf(dir, sizeof(dir), "/tmp/gcmsg-test-deliver-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	alice = gcmsg__identity_new(GCMSG_CALLER_USER, "u1", "Alice", NULL, NULL, 0, 0);
	svc = gcmsg__identity_new(GCMSG_CALLER_CLIENT, NULL, NULL, "svc", NULL, 0, 0);
	client = new_client(5, 60000, 0);
	return alice && svc && client ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	ss_stop();
	gcmsg__identity_free(alice);
	gcmsg__identity_free(svc);
	gcmsg_client_free(client);
	gcmsg_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* each test: a new store, a new conversation state, a clean log */
static int before(void **state)
{
	char path[400];
	int i;

	(void)state;
	for (i = 0; i < nmsgs; i++) {
		free(msgs[i].text);
		free(msgs[i].media);
	}
	nmsgs = nscript = next_step = get_fail = bulk_fail = msg_n = 0;
	srv_skew_ms = 0;
	c2_ended = late_at = gets = 0;
	late_text = NULL;
	on_post = NULL;
	snprintf(path, sizeof(path), "%s/s%d/gcmsg.db", dir, ++store_n);
	if (gcmsg_store_open(&store, path, NULL) != GCMSG_OK)
		return -1;
	agent_route = route_for(webmsg, alice);
	sms_route = route_for(sms, svc);
	ss_clear_log();
	return 0;
}

static int after(void **state)
{
	(void)state;
	gcmsg_store_free(store);
	store = NULL;
	gcmsg_route_free(agent_route);
	gcmsg_route_free(sms_route);
	return 0;
}

/* ---- helpers ---- */

static char attempts_seen[512];

static void on_attempt(const gcmsg_attempt *a, void *payload)
{
	(void)payload;
	if (strlen(attempts_seen) + 40 < sizeof(attempts_seen)) {
		char one[64];
		snprintf(one, sizeof(one), "%s%d:%s:%ld", attempts_seen[0] ? "," : "", a->attempt, a->outcome, a->http_status);
		strcat(attempts_seen, one);
	}
}

static int send_text(gcmsg_send_result **res, gcmsg_client *c, const gcmsg_route *r, const char *text, const char *key)
{
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;

	so.text = text;
	so.store = store;
	so.idempotency_key = key;
	so.source = "test";
	so.on_attempt = on_attempt;
	attempts_seen[0] = '\0';
	return gcmsg_send(res, c, r, &so);
}

/* The row of key (private struct: body and text visible); the caller disposes. */
static void row_of(const char *key, gcmsg__outbox_row *row)
{
	gcmsg__outbox_row_init(row);
	assert_int_equal(store->ops->outbox_get(store->backend, key, row, &store->err), GCMSG_OK);
}

static gcmsg_outbox_state state_of(const char *key)
{
	gcmsg__outbox_row row;
	gcmsg_outbox_state st;

	row_of(key, &row);
	st = row.state;
	gcmsg__outbox_row_dispose(&row);
	return st;
}

/* "event:outcome,..." of the audit records of key, oldest first */
static const char *audit_of(const char *key)
{
	static char out[1024];
	gcmsg_audit_filter f = GCMSG_AUDIT_FILTER_INIT;
	gcmsg_audit_list *l = NULL;
	size_t i;

	f.key = key;
	out[0] = '\0';
	assert_int_equal(gcmsg_audit_list_get(&l, store, &f), GCMSG_OK);
	for (i = 0; i < gcmsg_audit_list_count(l); i++) {
		const gcmsg_audit_record *r = gcmsg_audit_list_record(l, i);
		char one[80];
		snprintf(one, sizeof(one), "%s%s:%s", i ? "," : "", gcmsg_audit_record_event(r), gcmsg_audit_record_outcome(r));
		strncat(out, one, sizeof(out) - strlen(out) - 1);
		/* never the text (the store does not keep texts), never a token */
		assert_null(gcmsg_audit_record_text(r));
		assert_string_equal(gcmsg_audit_record_source(r), "test");
	}
	gcmsg_audit_list_free(l);
	return out;
}

static void expect_audit(const char *key, const char *want)
{
	const char *got = audit_of(key);

	if (strcmp(got, want) != 0)
		fail_msg("audit of %s:\n  got  %s\n  want %s", key, got, want);
}

static const char *err_fix(void)
{
	const char *f = gcmsg_client_last_error(client)->fix;
	return f ? f : "(none)";
}

/* ---- the tests ---- */

static void test_sent(void **state)
{
	gcmsg_send_result *res;
	gcmsg__outbox_row row;
	const char *key;

	(void)state;
	assert_int_equal(send_text(&res, client, agent_route, "Hello Jane", NULL), GCMSG_OK);
	key = gcmsg_send_result_idempotency_key(res);
	assert_non_null(key);
	assert_int_equal(strlen(key), 67);
	assert_memory_equal(key, "d1:", 3);
	assert_int_equal(gcmsg_send_result_attempts(res), 1);
	assert_int_equal(gcmsg_send_result_duplicate(res), 0);
	assert_int_equal(gcmsg_send_result_read_back(res), 0);
	assert_int_equal(gcmsg_send_result_http_status(res), 200);
	assert_string_equal(gcmsg_send_result_message_id(res), "msg-1");
	assert_string_equal(gcmsg_send_result_correlation_id(res), "corr-ok");
	assert_int_equal(SENDS(), 1);
	assert_int_equal(ss_log_count(), 1);
	row_of(key, &row);
	assert_int_equal(row.state, GCMSG_OUTBOX_SENT);
	assert_null(row.body);       /* PII wiped once terminal */
	assert_null(row.match_text);
	assert_non_null(row.body_sha256);
	assert_non_null(row.text_sha256);
	assert_string_equal(row.message_id, "msg-1");
	assert_string_equal(row.who, "user:u1");
	assert_string_equal(row.route, "agent-messaging");
	assert_string_equal(row.channel, "webmessaging");
	assert_string_equal(row.source, "test");
	assert_int_equal(row.attempts, 1);
	assert_int_equal(row.claim_pid, 0);
	gcmsg__outbox_row_dispose(&row);
	expect_audit(key, "attempt:ok,outcome:sent");
	assert_string_equal(attempts_seen, "1:ok:200");
	gcmsg_send_result_free(res);
}

static void test_agentless_message_id(void **state)
{
	gcmsg_send_result *res;

	(void)state;
	assert_int_equal(send_text(&res, client, sms_route, "Your engineer arrives at 10:00.", "sms-1"), GCMSG_OK);
	assert_string_equal(gcmsg_send_result_message_id(res), "msg-1"); /* message.id, not the response's id */
	assert_int_equal(count_msgs("c2", "Your engineer arrives at 10:00."), 1);
	expect_audit("sms-1", "attempt:ok,outcome:sent");
	gcmsg_send_result_free(res);
}

static void test_throttled_then_sent(void **state)
{
	static const post_step s[] = { { 0, 429, "0", NULL }, { 0, 429, NULL, "too.many.requests" } };
	gcmsg_send_result *res;

	(void)state;
	set_script(s, 2);
	assert_int_equal(send_text(&res, client, agent_route, "Hello Jane", "k-429"), GCMSG_OK);
	assert_int_equal(SENDS(), 3);
	assert_int_equal(gcmsg_send_result_attempts(res), 3);
	assert_int_equal(count_msgs("c1", "Hello Jane"), 1);
	expect_audit("k-429", "attempt:throttled,attempt:throttled,attempt:ok,outcome:sent");
	assert_string_equal(attempts_seen, "1:throttled:429,2:throttled:429,3:ok:200");
	gcmsg_send_result_free(res);
}

static void test_commit_then_503_read_back(void **state)
{
	static const post_step s[] = { { 1, 503, NULL, NULL } };
	gcmsg_send_result *res;

	(void)state;
	set_script(s, 1);
	assert_int_equal(send_text(&res, client, agent_route, "Your case is escalated", "k-ctf"), GCMSG_OK);
	assert_int_equal(SENDS(), 1);                       /* never resent */
	assert_int_equal(seen("GET", "/api/v2/conversations/messages/c1"), 1);
	assert_int_equal(seen("POST", "/messages/bulk"), 1);
	assert_int_equal(count_msgs("c1", "Your case is escalated"), 1); /* exactly one */
	assert_int_equal(gcmsg_send_result_read_back(res), 1);
	assert_string_equal(gcmsg_send_result_message_id(res), "msg-1");
	assert_int_equal(state_of("k-ctf"), GCMSG_OUTBOX_SENT);
	expect_audit("k-ctf", "attempt:ambiguous,attempt:readback-found,outcome:sent");
	assert_string_equal(attempts_seen, "1:ambiguous:503,1:readback-found:200");
	gcmsg_send_result_free(res);
}

static void test_commit_then_drop_read_back(void **state)
{
	static const post_step s[] = { { 1, SS_DROP, NULL, NULL } };
	static const post_step r[] = { { 1, SS_RESET, NULL, NULL } };
	gcmsg_send_result *res;

	(void)state;
	set_script(s, 1);
	assert_int_equal(send_text(&res, client, agent_route, "Dropped after commit", "k-drop"), GCMSG_OK);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(count_msgs("c1", "Dropped after commit"), 1);
	assert_int_equal(gcmsg_send_result_read_back(res), 1);
	expect_audit("k-drop", "attempt:ambiguous,attempt:readback-found,outcome:sent");
	gcmsg_send_result_free(res);
	/* a reset, too */
	set_script(r, 1);
	ss_clear_log();
	assert_int_equal(send_text(&res, client, agent_route, "Reset after commit", "k-reset"), GCMSG_OK);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(count_msgs("c1", "Reset after commit"), 1);
	gcmsg_send_result_free(res);
}

static void test_503_absent_resent(void **state)
{
	static const post_step s[] = { { 0, 503, NULL, NULL }, { 0, SS_DROP, NULL, NULL } };
	gcmsg_send_result *res;

	(void)state;
	add_msg("c1", "An older message", NULL);
	set_script(s, 2);
	assert_int_equal(send_text(&res, client, agent_route, "Not committed", "k-absent"), GCMSG_OK);
	assert_int_equal(SENDS(), 3);
	assert_int_equal(seen("GET", "/api/v2/conversations/messages/c1"), 2);
	assert_int_equal(count_msgs("c1", "Not committed"), 1);
	assert_int_equal(gcmsg_send_result_read_back(res), 0);
	assert_int_equal(gcmsg_send_result_attempts(res), 3);
	expect_audit("k-absent", "attempt:ambiguous,attempt:readback-absent,attempt:ambiguous,attempt:readback-absent,"
	                         "attempt:ok,outcome:sent");
	gcmsg_send_result_free(res);
}

static void test_rejected_not_retried(void **state)
{
	static const post_step s[] = { { 0, 400, NULL, "invalid.value" } };
	gcmsg_send_result *res = NULL;
	gcmsg__outbox_row row;
	const gcmsg_error *e;

	(void)state;
	set_script(s, 1);
	assert_int_equal(send_text(&res, client, agent_route, "Too long, say", "k-400"), GCMSG_EREMOTE);
	assert_null(res);
	assert_int_equal(ss_log_count(), 1);
	e = gcmsg_client_last_error(client);
	assert_int_equal(e->http_status, 400);
	assert_string_equal(e->genesys_code, "invalid.value");
	assert_non_null(strstr(e->explanation, "answered 400"));
	assert_non_null(strstr(err_fix(), "nothing was delivered"));
	row_of("k-400", &row);
	assert_int_equal(row.state, GCMSG_OUTBOX_FAILED);
	assert_null(row.body);
	assert_int_equal(row.http_status, 400);
	assert_string_equal(row.error_code, "invalid.value");
	gcmsg__outbox_row_dispose(&row);
	expect_audit("k-400", "attempt:rejected,outcome:failed");
	/* a new explicit send re-arms it (nothing was delivered) */
	ss_clear_log();
	assert_int_equal(send_text(&res, client, agent_route, "Too long, say", "k-400"), GCMSG_OK);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(state_of("k-400"), GCMSG_OUTBOX_SENT);
	gcmsg_send_result_free(res);
	/* but resume leaves a failed entry alone */
	set_script(s, 1);
	assert_int_equal(send_text(&res, client, agent_route, "Refused again", "k-400b"), GCMSG_EREMOTE);
	assert_int_equal(gcmsg_outbox_resume(&res, client, store, "k-400b", NULL), GCMSG_EUSAGE);
}

static void test_key_reused_for_another_body(void **state)
{
	gcmsg_send_result *res = NULL;

	(void)state;
	assert_int_equal(send_text(&res, client, agent_route, "First text", "k-same"), GCMSG_OK);
	gcmsg_send_result_free(res);
	ss_clear_log();
	assert_int_equal(send_text(&res, client, agent_route, "Second text", "k-same"), GCMSG_EUSAGE);
	assert_null(res);
	assert_int_equal(ss_log_count(), 0);
	assert_non_null(strstr(gcmsg_client_last_error(client)->explanation,
	                       "idempotency key k-same was already used for a different message"));
	assert_string_equal(gcmsg_client_last_error(client)->rule, "outbox.key-reused");
	expect_audit("k-same", "attempt:ok,outcome:sent");
	/* an invalid key is refused before anything */
	assert_int_equal(send_text(&res, client, agent_route, "x", "tab\tkey"), GCMSG_EUSAGE);
	assert_int_equal(send_text(&res, client, agent_route, "x", ""), GCMSG_EUSAGE);
	{
		char big[202];
		memset(big, 'k', 201);
		big[201] = '\0';
		assert_int_equal(send_text(&res, client, agent_route, "x", big), GCMSG_EUSAGE);
		big[200] = '\0';
		assert_int_equal(send_text(&res, client, agent_route, "x", big), GCMSG_OK);
		gcmsg_send_result_free(res);
	}
}

static void test_duplicate_from_outbox(void **state)
{
	gcmsg_send_result *res, *again;
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;

	(void)state;
	assert_int_equal(send_text(&res, client, agent_route, "Only once", NULL), GCMSG_OK);
	ss_clear_log();
	/* the same message again: the same derived key, answered from the outbox, typing included */
	so.text = "Only once";
	so.store = store;
	so.source = "test";
	so.typing = 1;
	assert_int_equal(gcmsg_send(&again, client, agent_route, &so), GCMSG_OK);
	assert_int_equal(ss_log_count(), 0);
	assert_int_equal(gcmsg_send_result_duplicate(again), 1);
	assert_int_equal(gcmsg_send_result_attempts(again), 0);
	assert_string_equal(gcmsg_send_result_idempotency_key(again), gcmsg_send_result_idempotency_key(res));
	assert_string_equal(gcmsg_send_result_message_id(again), "msg-1");
	expect_audit(gcmsg_send_result_idempotency_key(res), "attempt:ok,outcome:sent,outcome:duplicate");
	/* resume of a sent entry: a duplicate too */
	gcmsg_send_result_free(again);
	assert_int_equal(gcmsg_outbox_resume(&again, client, store, gcmsg_send_result_idempotency_key(res), NULL),
	                 GCMSG_OK);
	assert_int_equal(gcmsg_send_result_duplicate(again), 1);
	assert_int_equal(ss_log_count(), 0);
	assert_int_equal(count_msgs("c1", "Only once"), 1);
	gcmsg_send_result_free(again);
	gcmsg_send_result_free(res);
}

/* Record key as PENDING (as gcmsg_send does before any request). */
static void record_pending(const char *key, const char *text)
{
	gcmsg__delivery d;
	gcmsg__delivery_result dr;
	char *body = gcmsg__asprintf("{\"textBody\":\"%s\"}", text);
	int go = 0;

	memset(&d, 0, sizeof(d));
	memset(&dr, 0, sizeof(dr));
	d.key = key;
	d.path = "/api/v2/conversations/messages/c1/communications/m2/messages";
	d.body = body;
	d.conversation_id = "c1";
	d.communication_id = "m2";
	d.route = "agent-messaging";
	d.channel = "webmessaging";
	d.match_text = text;
	d.response_version = -1;
	d.source = "test";
	d.who = "user:u1";
	assert_int_equal(gcmsg__deliver_prepare(client, store, &d, &dr, &go), GCMSG_OK);
	assert_int_equal(go, 1);
	gcmsg__delivery_result_dispose(&dr);
	free(body);
}

/*
 * In a child: claim key (SENDING, attempts + 1) as a send would just before
 * its POST, then exit or wait. With wait_fd, the child writes one byte to
 * ready_fd once the claim is committed, then waits until wait_fd closes.
 */
static int ready_fd = -1;

static pid_t child_claims(const char *key, gcmsg_outbox_state st, int wait_fd, int other_fd)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		gcmsg_store *s = NULL;
		gcmsg__outbox_row row;
		char path[400], b;
		long long now = gcmsg__wall_ms();

		if (other_fd >= 0)
			close(other_fd); /* the pipe's write end: only the parent's may keep it open */
		snprintf(path, sizeof(path), "%s/s%d/gcmsg.db", dir, store_n);
		if (gcmsg_store_open(&s, path, NULL) != GCMSG_OK)
			_exit(3);
		gcmsg__outbox_row_init(&row);
		if (s->ops->begin(s->backend, &s->err) < 0 || s->ops->outbox_get(s->backend, key, &row, &s->err) < 0)
			_exit(4);
		row.state = st;
		row.attempts++;
		row.first_attempt_ms = now;
		gcmsg__outbox_claim(&row, now);
		if (s->ops->outbox_update(s->backend, &row, &s->err) < 0 || s->ops->commit(s->backend, &s->err) < 0)
			_exit(5);
		gcmsg__outbox_row_dispose(&row);
		gcmsg_store_free(s);
		if (wait_fd >= 0) {
			/* claimed: say so, then "in flight" until the parent closes the pipe */
			b = 1;
			if (ready_fd >= 0 && write(ready_fd, &b, 1) != 1)
				_exit(7);
			while (read(wait_fd, &b, 1) < 0 && errno == EINTR)
				;
		}
		/* die as a crash does: at once, nothing cleaned up (and no leak check under valgrind) */
		kill(getpid(), SIGKILL);
		_exit(6);
	}
	return pid;
}

static void wait_child(pid_t pid)
{
	int st = 0;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st))
		fail_msg("the claiming child exited %d", WEXITSTATUS(st));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
}

static void test_resume_dead_claim(void **state)
{
	gcmsg_send_result *res;

	(void)state;
	/* the child "sent" it (the server has it), then died before recording the answer */
	record_pending("k-dead", "Sent by a dead process");
	wait_child(child_claims("k-dead", GCMSG_OUTBOX_SENDING, -1, -1));
	add_msg("c1", "Sent by a dead process", NULL);
	assert_int_equal(state_of("k-dead"), GCMSG_OUTBOX_SENDING);
	assert_int_equal(gcmsg_outbox_resume(&res, client, store, "k-dead", NULL), GCMSG_OK);
	assert_int_equal(SENDS(), 0); /* read back, found: no resend */
	assert_int_equal(seen("GET", "/api/v2/conversations/messages/c1"), 1);
	assert_int_equal(gcmsg_send_result_read_back(res), 1);
	assert_int_equal(count_msgs("c1", "Sent by a dead process"), 1);
	assert_int_equal(state_of("k-dead"), GCMSG_OUTBOX_SENT);
	gcmsg_send_result_free(res);

	/* the child died before its request left: read back, absent, sent once */
	ss_clear_log();
	record_pending("k-dead2", "Never left");
	wait_child(child_claims("k-dead2", GCMSG_OUTBOX_SENDING, -1, -1));
	assert_int_equal(gcmsg_outbox_resume(&res, client, store, "k-dead2", NULL), GCMSG_OK);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(gcmsg_send_result_read_back(res), 0);
	assert_int_equal(count_msgs("c1", "Never left"), 1);
	gcmsg_send_result_free(res);
	/* a plain send of the same key now is a duplicate */
	ss_clear_log();
	assert_int_equal(send_text(&res, client, agent_route, "Never left", "k-dead2"), GCMSG_OK);
	assert_int_equal(gcmsg_send_result_duplicate(res), 1);
	assert_int_equal(ss_log_count(), 0);
	gcmsg_send_result_free(res);
}

static void test_live_claim_refused(void **state)
{
	gcmsg_send_result *res = NULL;
	int fds[2];
	pid_t pid;
	static const struct {
		gcmsg_outbox_state st;
		const char *key, *says;
	} cases[] = { { GCMSG_OUTBOX_SENDING, "k-live", "is being sent by process" },
		      { GCMSG_OUTBOX_UNKNOWN, "k-live-rb", "is being read back by process" } };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
		int ready[2];
		char b = 0;
		record_pending(cases[i].key, "In flight elsewhere");
		assert_int_equal(pipe(fds), 0);
		assert_int_equal(pipe(ready), 0);
		ready_fd = ready[1];
		pid = child_claims(cases[i].key, cases[i].st, fds[0], fds[1]);
		ready_fd = -1;
		close(ready[1]);
		close(fds[0]);
		/* the claim has landed once the child says so (however long that takes) */
		assert_int_equal(read(ready[0], &b, 1), 1);
		close(ready[0]);
		assert_int_equal(state_of(cases[i].key), cases[i].st);
		assert_int_equal(gcmsg_outbox_resume(&res, client, store, cases[i].key, NULL), GCMSG_EUSAGE);
		assert_string_equal(gcmsg_client_last_error(client)->rule, "outbox.in-flight");
		assert_non_null(strstr(gcmsg_client_last_error(client)->explanation, cases[i].says));
		/* a new send of the same key neither */
		so.text = "In flight elsewhere";
		so.store = store;
		so.idempotency_key = cases[i].key;
		assert_int_equal(gcmsg_send(&res, client, agent_route, &so), GCMSG_EUSAGE);
		assert_int_equal(ss_log_count(), 0);
		close(fds[1]);
		wait_child(pid);
		/* once the claimer is gone: read back, absent, sent */
		assert_int_equal(gcmsg_outbox_resume(&res, client, store, cases[i].key, NULL), GCMSG_OK);
		assert_int_equal(SENDS(), 1);
		gcmsg_send_result_free(res);
		ss_clear_log();
	}
	assert_int_equal(count_msgs("c1", "In flight elsewhere"), 2);
}

static void test_throttled_beyond_budget(void **state)
{
	static const post_step cap[] = { { 0, 429, "3600", NULL } };
	static const post_step many[] = { { 0, 429, "0", NULL }, { 0, 429, "0", NULL }, { 0, 429, "0", NULL },
		                          { 0, 429, "0", NULL }, { 0, 429, "0", NULL }, { 0, 429, "0", NULL } };
	gcmsg_send_result *res = NULL;
	gcmsg__outbox_row row;
	long long t0;

	(void)state;
	/* a Retry-After beyond the cap: give up at once, pending */
	set_script(cap, 1);
	t0 = gcmsg__wall_ms();
	assert_int_equal(send_text(&res, client, agent_route, "Later", "k-cap"), GCMSG_ERATELIMIT);
	assert_int_equal(SENDS(), 1);
	assert_non_null(strstr(err_fix(), "gcmsg outbox retry k-cap"));
	assert_int_equal(gcmsg_client_last_error(client)->retry_after, 3600);
	row_of("k-cap", &row);
	assert_int_equal(row.state, GCMSG_OUTBOX_PENDING);
	assert_non_null(row.body); /* kept for the retry */
	assert_true(row.next_attempt_ms >= t0 + 3600 * 1000LL); /* not before the Retry-After */
	gcmsg__outbox_row_dispose(&row);
	expect_audit("k-cap", "attempt:throttled,outcome:pending");
	/* attempts spent (5) */
	set_script(many, 6);
	ss_clear_log();
	assert_int_equal(send_text(&res, client, agent_route, "Later 2", "k-many"), GCMSG_ERATELIMIT);
	assert_int_equal(SENDS(), 5);
	assert_int_equal(state_of("k-many"), GCMSG_OUTBOX_PENDING);
	expect_audit("k-many", "attempt:throttled,attempt:throttled,attempt:throttled,attempt:throttled,"
	                       "attempt:throttled,outcome:pending");
	/* resume sends it once the server lets it */
	ss_clear_log();
	nscript = next_step = 0;
	assert_int_equal(gcmsg_outbox_resume(&res, client, store, "k-many", NULL), GCMSG_OK);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(count_msgs("c1", "Later 2"), 1);
	gcmsg_send_result_free(res);
}

static void test_unknown_then_resumed(void **state)
{
	static const post_step s[] = { { 1, 502, NULL, NULL } };
	gcmsg_send_result *res = NULL;
	gcmsg__outbox_row row;

	(void)state;
	set_script(s, 1);
	get_fail = -1; /* the conversation cannot be read back */
	assert_int_equal(send_text(&res, client, agent_route, "Maybe delivered", "k-unk"), GCMSG_EREMOTE);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(seen("GET", "/api/v2/conversations/messages/c1"), 5); /* max_attempts read-backs */
	assert_string_equal(err_fix(), "the outcome is unknown; kept in the outbox: gcmsg outbox retry k-unk reads the "
	                               "conversation back before resending");
	row_of("k-unk", &row);
	assert_int_equal(row.state, GCMSG_OUTBOX_UNKNOWN);
	assert_non_null(row.body);
	assert_int_equal(row.claim_pid, 0);
	gcmsg__outbox_row_dispose(&row);
	expect_audit("k-unk", "attempt:ambiguous,attempt:readback-failed,attempt:readback-failed,"
	                      "attempt:readback-failed,attempt:readback-failed,attempt:readback-failed,outcome:unknown");
	/* later: the conversation reads again, the message is there: no resend */
	get_fail = 0;
	ss_clear_log();
	assert_int_equal(gcmsg_outbox_resume(&res, client, store, "k-unk", NULL), GCMSG_OK);
	assert_int_equal(SENDS(), 0);
	assert_int_equal(gcmsg_send_result_read_back(res), 1);
	assert_int_equal(count_msgs("c1", "Maybe delivered"), 1);
	gcmsg_send_result_free(res);
	/* the same with a send that had not gone through: the budget spent on read-backs, then resumed and sent */
	set_script((const post_step[]){ { 0, 503, NULL, NULL } }, 1);
	get_fail = -1;
	ss_clear_log();
	assert_int_equal(send_text(&res, client, agent_route, "Not delivered", "k-unk2"), GCMSG_EREMOTE);
	get_fail = 0;
	assert_int_equal(gcmsg_outbox_resume(&res, client, store, "k-unk2", NULL), GCMSG_OK);
	assert_int_equal(SENDS(), 2);
	assert_int_equal(count_msgs("c1", "Not delivered"), 1);
	gcmsg_send_result_free(res);
}

static void test_budget_spent_absent_pending(void **state)
{
	static const post_step s[] = { { 0, 503, NULL, NULL }, { 0, 503, NULL, NULL }, { 0, 503, NULL, NULL } };
	gcmsg_client *c = new_client(2, 60000, 0);
	gcmsg_send_result *res = NULL;

	(void)state;
	assert_non_null(c);
	set_script(s, 3);
	/* two sends allowed: 503, read back absent, 503, read back absent: nothing delivered, pending */
	assert_int_equal(send_text(&res, c, agent_route, "Two tries", "k-two"), GCMSG_EREMOTE);
	assert_int_equal(SENDS(), 2);
	assert_int_equal(state_of("k-two"), GCMSG_OUTBOX_PENDING);
	assert_non_null(strstr(gcmsg_client_last_error(c)->fix, "nothing was delivered; kept in the outbox: gcmsg "
	                                                         "outbox retry k-two"));
	expect_audit("k-two", "attempt:ambiguous,attempt:readback-absent,attempt:ambiguous,attempt:readback-absent,"
	                      "outcome:pending");
	gcmsg_client_free(c);
}

static void test_renewed_once_on_401(void **state)
{
	static const post_step s[] = { { 0, 401, NULL, "credentials.expired" } };
	static const post_step twice[] = { { 0, 401, NULL, "credentials.expired" },
		                           { 0, 401, NULL, "credentials.expired" } };
	gcmsg_client *c = new_client(5, 60000, 1);
	gcmsg_send_result *res = NULL;

	(void)state;
	assert_non_null(c);
	set_script(s, 1);
	assert_int_equal(send_text(&res, c, sms_route, "Renew first", "k-401"), GCMSG_OK);
	assert_int_equal(SENDS(), 2);
	assert_int_equal(seen("POST", "/oauth/token"), 2);
	expect_audit("k-401", "attempt:auth-renewed,attempt:ok,outcome:sent");
	gcmsg_send_result_free(res);
	/* refused again after the renewal: failed, EAUTH */
	set_script(twice, 2);
	ss_clear_log();
	assert_int_equal(send_text(&res, c, sms_route, "Renew fails", "k-401b"), GCMSG_EAUTH);
	assert_int_equal(SENDS(), 2);
	assert_int_equal(state_of("k-401b"), GCMSG_OUTBOX_FAILED);
	expect_audit("k-401b", "attempt:auth-renewed,attempt:rejected,outcome:failed");
	gcmsg_client_free(c);
}

static void test_connect_failure_pending(void **state)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_retry_policy p = GCMSG_RETRY_POLICY_INIT;
	gcmsg_client *c = NULL;
	gcmsg_send_result *res = NULL;
	gcmsg__outbox_row row;

	(void)state;
	p.max_attempts = 3;
	p.backoff_base_ms = 1;
	p.backoff_cap_ms = 1;
	o.access_token = "t";
	o.api_url = "http://127.0.0.1:9"; /* discard: refused */
	o.retry = &p;
	assert_int_equal(gcmsg_client_new(&c, &o), GCMSG_OK);
	assert_int_equal(send_text(&res, c, agent_route, "No network", "k-net"), GCMSG_EREMOTE);
	row_of("k-net", &row);
	assert_int_equal(row.state, GCMSG_OUTBOX_PENDING);
	assert_int_equal(row.attempts, 0); /* nothing ever left */
	assert_int_equal(row.first_attempt_ms, 0);
	gcmsg__outbox_row_dispose(&row);
	assert_non_null(strstr(gcmsg_client_last_error(c)->fix, "gcmsg outbox retry k-net"));
	expect_audit("k-net", "outcome:pending");
	gcmsg_client_free(c);
}

static void test_dry_run_and_no_store(void **state)
{
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_send_result *res;
	gcmsg_outbox_list *l;

	(void)state;
	so.text = "Just looking";
	so.store = store;
	so.dry_run = 1;
	assert_int_equal(gcmsg_send(&res, client, agent_route, &so), GCMSG_OK);
	assert_non_null(gcmsg_send_result_idempotency_key(res));
	assert_int_equal(gcmsg_send_result_attempts(res), 0);
	assert_int_equal(ss_log_count(), 0);
	gcmsg_send_result_free(res);
	assert_int_equal(gcmsg_outbox_list_get(&l, store, NULL), GCMSG_OK);
	assert_int_equal(gcmsg_outbox_list_count(l), 0);
	gcmsg_outbox_list_free(l);
	/* without a store: as before, at most once, no key */
	so.store = NULL;
	so.dry_run = 0;
	set_script((const post_step[]){ { 1, 503, NULL, NULL } }, 1);
	assert_int_equal(gcmsg_send(&res, client, agent_route, &so), GCMSG_EREMOTE);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(ss_log_count(), 1);
	assert_non_null(strstr(err_fix(), "gcmsg does not retry sends"));
	so.text = "Once more";
	assert_int_equal(gcmsg_send(&res, client, agent_route, &so), GCMSG_OK);
	assert_null(gcmsg_send_result_idempotency_key(res));
	assert_int_equal(gcmsg_send_result_attempts(res), 1);
	gcmsg_send_result_free(res);
}

static void test_typing_not_in_outbox(void **state)
{
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_send_result *res;

	(void)state;
	so.text = "With typing";
	so.store = store;
	so.typing = 1;
	so.source = "test";
	so.idempotency_key = "k-typing";
	assert_int_equal(gcmsg_send(&res, client, agent_route, &so), GCMSG_OK);
	assert_int_equal(seen("POST", "/typing"), 1);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(gcmsg_send_result_request_count(res), 2);
	expect_audit("k-typing", "attempt:ok,outcome:sent");
	gcmsg_send_result_free(res);
}

static void test_legacy_chat_unknown_at_once(void **state)
{
	static const post_step s[] = { { 1, 504, NULL, "request.timeout" } };
	gcmsg_route *chat = route_for("{'id':'c3','participants':["
	                              "{'id':'p1','purpose':'customer','chats':[{'id':'ch1','state':'connected'}]},"
	                              "{'id':'p2','purpose':'agent','userId':'u1','chats':[{'id':'ch2','state':'connected'}]}]}",
	                              alice);
	gcmsg_send_result *res = NULL;

	(void)state;
	assert_int_equal(gcmsg_route_kind(chat), GCMSG_ROUTE_LEGACY_CHAT);
	set_script(s, 1);
	/* no read-back exists for chats: an ambiguous answer stays unknown, never resent */
	assert_int_equal(send_text(&res, client, chat, "Chat notice", "k-chat"), GCMSG_EREMOTE);
	assert_int_equal(ss_log_count(), 1);
	assert_int_equal(state_of("k-chat"), GCMSG_OUTBOX_UNKNOWN);
	assert_non_null(strstr(gcmsg_client_last_error(client)->explanation, "legacy web chat cannot be read back"));
	expect_audit("k-chat", "attempt:ambiguous,attempt:readback-failed,outcome:unknown");
	gcmsg_route_free(chat);
}

/* ---- the review's paths ---- */

/* Change key's row as fn says, in one transaction of a second handle (another process, as far as the store goes). */
static void with_row(const char *key, void (*fn)(gcmsg__outbox_row *row))
{
	gcmsg_store *s2 = NULL;
	gcmsg__outbox_row row;
	char path[400];

	snprintf(path, sizeof(path), "%s/s%d/gcmsg.db", dir, store_n);
	assert_int_equal(gcmsg_store_open(&s2, path, NULL), GCMSG_OK);
	gcmsg__outbox_row_init(&row);
	assert_int_equal(s2->ops->begin(s2->backend, &s2->err), GCMSG_OK);
	assert_int_equal(s2->ops->outbox_get(s2->backend, key, &row, &s2->err), GCMSG_OK);
	fn(&row);
	assert_int_equal(s2->ops->outbox_update(s2->backend, &row, &s2->err), GCMSG_OK);
	assert_int_equal(s2->ops->commit(s2->backend, &s2->err), GCMSG_OK);
	gcmsg__outbox_row_dispose(&row);
	gcmsg_store_free(s2);
}

/*
 * The server is still working on the first request when the client gives up
 * (a 504, a timeout): the first read-back does not see the message yet. With
 * the in-flight horizon, absent is not a reason to resend yet: the second
 * read finds it. One message.
 */
static void test_server_still_working_no_resend(void **state)
{
	static const post_step s[] = { { 0, 504, NULL, "gateway.timeout" } };
	gcmsg_client *c = new_client_h(5, 120000, 0, 60000); /* a budget that can reach the horizon */
	gcmsg_send_result *res = NULL;

	(void)state;
	assert_non_null(c);
	set_script(s, 1);
	late_text = "Carried out late";
	late_at = 2; /* the request lands between the first and the second read */
	assert_int_equal(send_text(&res, c, agent_route, "Carried out late", "k-late"), GCMSG_OK);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(count_msgs("c1", "Carried out late"), 1);
	assert_int_equal(gcmsg_send_result_read_back(res), 1);
	expect_audit("k-late", "attempt:ambiguous,attempt:readback-absent,attempt:readback-found,outcome:sent");
	gcmsg_send_result_free(res);
	gcmsg_client_free(c);
}

static void test_horizon_beyond_budget_unknown(void **state)
{
	static const post_step s[] = { { 0, 503, NULL, NULL } };
	gcmsg_client *c = new_client_h(5, 300, 0, 60000);
	gcmsg_send_result *res = NULL;
	gcmsg__outbox_row row;

	(void)state;
	assert_non_null(c);
	set_script(s, 1);
	/* not delivered, but the budget cannot wait for the horizon: unknown, nothing resent */
	assert_int_equal(send_text(&res, c, agent_route, "Not yet", "k-hz"), GCMSG_EREMOTE);
	assert_int_equal(SENDS(), 1);
	assert_non_null(strstr(gcmsg_client_last_error(c)->explanation, "in-flight horizon"));
	assert_non_null(strstr(gcmsg_client_last_error(c)->fix, "gcmsg outbox retry k-hz"));
	row_of("k-hz", &row);
	assert_int_equal(row.state, GCMSG_OUTBOX_UNKNOWN);
	assert_true(row.claim_ms > 0 && row.claim_pid == 0); /* the attempt's start, for whoever resumes it */
	assert_true(row.next_attempt_ms >= row.claim_ms + 60000);
	gcmsg__outbox_row_dispose(&row);
	expect_audit("k-hz", "attempt:ambiguous,attempt:readback-absent,outcome:unknown");
	/* resumed under the same horizon: still not sent */
	ss_clear_log();
	assert_int_equal(gcmsg_outbox_resume(&res, c, store, "k-hz", NULL), GCMSG_EREMOTE);
	assert_int_equal(SENDS(), 0);
	assert_int_equal(state_of("k-hz"), GCMSG_OUTBOX_UNKNOWN);
	/* resumed once the horizon has passed (here: a client with a horizon of 1 ms): absent, sent once */
	assert_int_equal(gcmsg_outbox_resume(&res, client, store, "k-hz", NULL), GCMSG_OK);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(count_msgs("c1", "Not yet"), 1);
	gcmsg_send_result_free(res);
	gcmsg_client_free(c);
}

/* 503 (not carried out yet), absent, resent, 400: failed. The first one lands later: a new send finds it. */
static void test_failed_after_ambiguous_rearmed_unknown(void **state)
{
	static const post_step s[] = { { 0, 503, NULL, NULL }, { 0, 400, NULL, "invalid.value" } };
	gcmsg_send_result *res = NULL;

	(void)state;
	set_script(s, 2);
	assert_int_equal(send_text(&res, client, agent_route, "Landed late", "k-f"), GCMSG_EREMOTE);
	assert_int_equal(state_of("k-f"), GCMSG_OUTBOX_FAILED);
	assert_int_equal(SENDS(), 2);
	add_msg("c1", "Landed late", NULL); /* the first attempt, carried out after all */
	ss_clear_log();
	assert_int_equal(send_text(&res, client, agent_route, "Landed late", "k-f"), GCMSG_OK);
	assert_int_equal(SENDS(), 0); /* read back first: found */
	assert_int_equal(gcmsg_send_result_read_back(res), 1);
	assert_int_equal(count_msgs("c1", "Landed late"), 1);
	gcmsg_send_result_free(res);
}

static void test_server_clock_minutes_off(void **state)
{
	static const post_step ctf[] = { { 1, 503, NULL, NULL } };
	static const post_step lost[] = { { 0, 503, NULL, NULL } };
	gcmsg_send_result *res = NULL;
	srv_msg *m;

	(void)state;
	/* the server's clock 6 minutes behind ours: our delivered message is recognised, not resent */
	srv_skew_ms = -6 * 60 * 1000LL;
	set_script(ctf, 1);
	assert_int_equal(send_text(&res, client, agent_route, "Skewed behind", "k-behind"), GCMSG_OK);
	assert_int_equal(gcmsg_send_result_read_back(res), 1);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(count_msgs("c1", "Skewed behind"), 1);
	gcmsg_send_result_free(res);
	/* 6 minutes ahead: someone's identical message of a minute ago is not taken for ours: ours is sent */
	srv_skew_ms = 6 * 60 * 1000LL;
	m = add_msg("c1", "Skewed ahead", NULL);
	m->time_ms -= 60 * 1000;
	set_script(lost, 1);
	ss_clear_log();
	assert_int_equal(send_text(&res, client, agent_route, "Skewed ahead", "k-ahead"), GCMSG_OK);
	assert_int_equal(gcmsg_send_result_read_back(res), 0);
	assert_int_equal(SENDS(), 2);
	assert_int_equal(count_msgs("c1", "Skewed ahead"), 2); /* theirs and ours */
	gcmsg_send_result_free(res);
}

static void test_agentless_conversation_ended(void **state)
{
	static const post_step s[] = { { 1, 503, NULL, NULL } };
	gcmsg_send_result *res = NULL;

	(void)state;
	/* the conversation ended before the send: the agentless message opened another one */
	c2_ended = 1;
	set_script(s, 1);
	assert_int_equal(send_text(&res, client, sms_route, "Your engineer arrives at 10:00", "k-agl"), GCMSG_EREMOTE);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(state_of("k-agl"), GCMSG_OUTBOX_UNKNOWN);
	assert_non_null(strstr(gcmsg_client_last_error(client)->explanation, "no longer connected"));
	assert_int_equal(count_msgs("c2-new", "Your engineer arrives at 10:00"), 1);
	assert_int_equal(count_msgs("c2", "Your engineer arrives at 10:00"), 0);
}

static void make_unknown(gcmsg__outbox_row *row)
{
	row->state = GCMSG_OUTBOX_UNKNOWN;
	row->attempts = 1;
	row->first_attempt_ms = gcmsg__wall_ms() - 1000;
	row->claim_ms = row->first_attempt_ms;
}

static void test_identical_text_of_another_key(void **state)
{
	static const post_step s[] = { { 1, 503, NULL, NULL } };
	gcmsg_send_result *res = NULL;

	(void)state;
	/* another key of this store, same text, outcome unknown: the message read back may be that one's */
	record_pending("k-other", "Same text twice");
	with_row("k-other", make_unknown);
	set_script(s, 1);
	assert_int_equal(send_text(&res, client, agent_route, "Same text twice", "k-mine"), GCMSG_EREMOTE);
	assert_int_equal(SENDS(), 1);
	assert_int_equal(state_of("k-mine"), GCMSG_OUTBOX_UNKNOWN);
	assert_non_null(strstr(gcmsg_client_last_error(client)->explanation, "k-other"));
	assert_int_equal(count_msgs("c1", "Same text twice"), 1);
}

static const char webmsg_m3[] =
	"{'id':'c1','participants':["
	"{'id':'p1','purpose':'customer','messages':[{'id':'m1','state':'connected','type':'webmessaging'}]},"
	"{'id':'p3','purpose':'agent','userId':'u1','messages':[{'id':'m3','state':'connected','type':'webmessaging'}]}]}";

static void test_derived_key_continued(void **state)
{
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_send_result *res = NULL, *again = NULL;
	gcmsg_route *reconnected = route_for(webmsg_m3, alice);
	gcmsg_outbox_list *l = NULL;

	(void)state;
	/* the agent reconnected (a new communication): the same derived key, a duplicate */
	assert_int_equal(send_text(&res, client, agent_route, "Before the reconnect", NULL), GCMSG_OK);
	ss_clear_log();
	so.text = "Before the reconnect";
	so.store = store;
	so.source = "test";
	assert_int_equal(gcmsg_send(&again, client, reconnected, &so), GCMSG_OK);
	assert_int_equal(gcmsg_send_result_duplicate(again), 1);
	assert_int_equal(ss_log_count(), 0);
	assert_string_equal(gcmsg_send_result_idempotency_key(again), gcmsg_send_result_idempotency_key(res));
	gcmsg_send_result_free(again);
	gcmsg_send_result_free(res);
	/* the same message unfinished under another key (an earlier version's, or the previous bucket's): continued */
	record_pending("d1:an-older-derived-key", "Pending across the change"); /* e.g. with the communication */
	assert_int_equal(send_text(&res, client, agent_route, "Pending across the change", NULL), GCMSG_OK);
	assert_string_equal(gcmsg_send_result_idempotency_key(res), "d1:an-older-derived-key");
	assert_int_equal(SENDS(), 1);
	assert_int_equal(count_msgs("c1", "Pending across the change"), 1);
	assert_int_equal(state_of("d1:an-older-derived-key"), GCMSG_OUTBOX_SENT);
	assert_int_equal(gcmsg_outbox_list_get(&l, store, NULL), GCMSG_OK);
	assert_int_equal(gcmsg_outbox_list_count(l), 2); /* no second entry for it */
	gcmsg_outbox_list_free(l);
	gcmsg_send_result_free(res);
	/* an explicit key is never redirected */
	assert_int_equal(send_text(&res, client, agent_route, "Pending across the change", "k-explicit"), GCMSG_OK);
	assert_string_equal(gcmsg_send_result_idempotency_key(res), "k-explicit");
	gcmsg_send_result_free(res);
	gcmsg_route_free(reconnected);
}

/* The store's write lock, held by another connection from the moment the send reaches the server. */
static gcmsg_store *locker;

static void lock_store(void)
{
	assert_int_equal(locker->ops->begin(locker->backend, &locker->err), GCMSG_OK);
	on_post = NULL;
}

static void test_store_locked_after_post(void **state)
{
	static const post_step s[] = { { 1, 200, NULL, NULL } };
	gcmsg_store_options so = GCMSG_STORE_OPTIONS_INIT;
	gcmsg_send_result *res = NULL;
	gcmsg__outbox_row row;
	char path[400];

	(void)state;
	snprintf(path, sizeof(path), "%s/s%d/gcmsg.db", dir, store_n);
	gcmsg_store_free(store);
	so.busy_timeout_ms = 20;
	assert_int_equal(gcmsg_store_open(&store, path, &so), GCMSG_OK);
	assert_int_equal(gcmsg_store_open(&locker, path, &so), GCMSG_OK);
	set_script(s, 1);
	on_post = lock_store;
	/* delivered, but the answer cannot be recorded: tried again, then "may have been sent" */
	assert_int_equal(send_text(&res, client, agent_route, "Locked out", "k-lock"), GCMSG_EREMOTE);
	assert_int_equal(SENDS(), 1);
	assert_non_null(strstr(gcmsg_client_last_error(client)->explanation, "may have been sent"));
	assert_non_null(strstr(err_fix(), "gcmsg outbox retry k-lock"));
	locker->ops->rollback(locker->backend);
	gcmsg_store_free(locker);
	locker = NULL;
	row_of("k-lock", &row);
	assert_int_equal(row.state, GCMSG_OUTBOX_SENDING);
	assert_int_equal(row.claim_pid, (long)getpid()); /* our claim, left behind ... */
	gcmsg__outbox_row_dispose(&row);
	/* ... and dead for this process too: the next send of the key reads back, finds it, sends nothing */
	ss_clear_log();
	assert_int_equal(send_text(&res, client, agent_route, "Locked out", "k-lock"), GCMSG_OK);
	assert_int_equal(SENDS(), 0);
	assert_int_equal(gcmsg_send_result_read_back(res), 1);
	assert_int_equal(count_msgs("c1", "Locked out"), 1);
	gcmsg_send_result_free(res);
}

static void take_over(gcmsg__outbox_row *row)
{
	row->claim_pid = 1; /* another process, alive */
	row->claim_ms += 1;
}

static void take_over_now(void)
{
	on_post = NULL;
	with_row("k-taken", take_over);
}

static void test_claim_taken_over_still_audited(void **state)
{
	static const post_step s[] = { { 1, 200, NULL, NULL } };
	gcmsg_send_result *res = NULL;
	gcmsg__outbox_row row;

	(void)state;
	set_script(s, 1);
	on_post = take_over_now;
	assert_int_equal(send_text(&res, client, agent_route, "Taken over", "k-taken"), GCMSG_ERROR);
	assert_non_null(strstr(gcmsg_client_last_error(client)->explanation, "taken over"));
	/* the request reached the server: its one attempt record; the row is the other process's */
	expect_audit("k-taken", "attempt:ok");
	row_of("k-taken", &row);
	assert_int_equal(row.state, GCMSG_OUTBOX_SENDING);
	assert_int_equal(row.claim_pid, 1);
	gcmsg__outbox_row_dispose(&row);
}

static void test_derived_key_encoding(void **state)
{
	static const char *const text[] = { "Hello" };
	static const char *const tmpl[] = { "r-1", "NAME", "Jo", "ORDER", "42" };
	gcmsg__key_input in = { "c1", "agent-messaging", "text", text, 1, 20000 };
	char key[GCMSG__KEY_DERIVED_LEN];

	(void)state;
	gcmsg__key_derive(key, &in);
	assert_string_equal(key, "d1:d95c803ea92bfb5c214a32528042f9bdc39fbc5ff061f180b9ff77d4e3406975");
	in = (gcmsg__key_input){ "c1", "agentless", "template", tmpl, 5, 7 };
	gcmsg__key_derive(key, &in);
	assert_string_equal(key, "d1:1df7142abb748eba9b78847952268fd56e2b005f4c0f8945b26fd006909aa864");
	/* the fields cannot run into each other: "ab"+"c" differs from "a"+"bc" */
	{
		static const char *const a[] = { "ab", "c" }, *const b[] = { "a", "bc" };
		char ka[GCMSG__KEY_DERIVED_LEN], kb[GCMSG__KEY_DERIVED_LEN];
		gcmsg__key_input x = { "c1", "agent-messaging", "template", a, 2, 1 };
		gcmsg__key_input y = { "c1", "agent-messaging", "template", b, 2, 1 };
		gcmsg__key_derive(ka, &x);
		gcmsg__key_derive(kb, &y);
		assert_string_not_equal(ka, kb);
	}
	assert_true(gcmsg__key_valid("a"));
	assert_true(gcmsg__key_valid("chaos-1 with spaces"));
	assert_false(gcmsg__key_valid(""));
	assert_false(gcmsg__key_valid("caf\xc3\xa9"));
	assert_false(gcmsg__key_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sent, before, after),
		cmocka_unit_test_setup_teardown(test_agentless_message_id, before, after),
		cmocka_unit_test_setup_teardown(test_throttled_then_sent, before, after),
		cmocka_unit_test_setup_teardown(test_commit_then_503_read_back, before, after),
		cmocka_unit_test_setup_teardown(test_commit_then_drop_read_back, before, after),
		cmocka_unit_test_setup_teardown(test_503_absent_resent, before, after),
		cmocka_unit_test_setup_teardown(test_rejected_not_retried, before, after),
		cmocka_unit_test_setup_teardown(test_key_reused_for_another_body, before, after),
		cmocka_unit_test_setup_teardown(test_duplicate_from_outbox, before, after),
		cmocka_unit_test_setup_teardown(test_resume_dead_claim, before, after),
		cmocka_unit_test_setup_teardown(test_live_claim_refused, before, after),
		cmocka_unit_test_setup_teardown(test_throttled_beyond_budget, before, after),
		cmocka_unit_test_setup_teardown(test_unknown_then_resumed, before, after),
		cmocka_unit_test_setup_teardown(test_budget_spent_absent_pending, before, after),
		cmocka_unit_test_setup_teardown(test_renewed_once_on_401, before, after),
		cmocka_unit_test_setup_teardown(test_connect_failure_pending, before, after),
		cmocka_unit_test_setup_teardown(test_dry_run_and_no_store, before, after),
		cmocka_unit_test_setup_teardown(test_typing_not_in_outbox, before, after),
		cmocka_unit_test_setup_teardown(test_legacy_chat_unknown_at_once, before, after),
		cmocka_unit_test_setup_teardown(test_server_still_working_no_resend, before, after),
		cmocka_unit_test_setup_teardown(test_horizon_beyond_budget_unknown, before, after),
		cmocka_unit_test_setup_teardown(test_failed_after_ambiguous_rearmed_unknown, before, after),
		cmocka_unit_test_setup_teardown(test_server_clock_minutes_off, before, after),
		cmocka_unit_test_setup_teardown(test_agentless_conversation_ended, before, after),
		cmocka_unit_test_setup_teardown(test_identical_text_of_another_key, before, after),
		cmocka_unit_test_setup_teardown(test_derived_key_continued, before, after),
		cmocka_unit_test_setup_teardown(test_store_locked_after_post, before, after),
		cmocka_unit_test_setup_teardown(test_claim_taken_over_still_audited, before, after),
		cmocka_unit_test(test_derived_key_encoding),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
