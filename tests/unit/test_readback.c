/*
 * Reads against a scripted HTTP server.
 *  - gcmsg__api retries reads (GET, and POSTs flagged as reads) on 429, 5xx,
 *    dropped connections and refused connections within the retry policy,
 *    logs each retry, and never retries other POSTs or 4xx; the HTTP layer
 *    says whether a failed request could have left.
 *  - gcmsg__readback: found / absent / unknown (the GET fails, the bulk read
 *    fails, malformed or incomplete answers, legacy chat), ids owned by
 *    another key skipped, old ids left out, more than 1000 ids split; the
 *    server's clock (its Date header) set against ours: a skew of minutes
 *    either way, no Date at all; a participant without messages[], an empty
 *    listing of a conversation known to hold messages, an agentless
 *    conversation no longer connected, another agent's identical text, a
 *    matching message without a time; and the pure parsers, the ISO-8601 and
 *    HTTP-date readers, a Retry-After given as a date.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "readback.h"
#include "scripted_server.h"

static gcmsg_client *client;
static char logbuf[16384];

static void log_cb(const char *line, void *payload)
{
	(void)payload;
	if (strlen(logbuf) + strlen(line) + 2 < sizeof(logbuf)) {
		strcat(logbuf, line);
		strcat(logbuf, "\n");
	}
}

static gcmsg_client *new_client(int port, int max_attempts, long timeout_ms)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_retry_policy p = GCMSG_RETRY_POLICY_INIT;
	gcmsg_client *c = NULL;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	p.max_attempts = max_attempts;
	p.backoff_base_ms = 1;
	p.backoff_cap_ms = 2;
	p.retry_after_default_ms = 1;
	p.retry_after_cap_ms = 5000;
	p.readback_settle_ms = 1;
	p.seed = 99;
	o.access_token = "test-token";
	o.api_url = url;
	o.retry = &p;
	o.log = log_cb;
	o.timeout_ms = timeout_ms;
	if (gcmsg_client_new(&c, &o) != GCMSG_OK) {
		gcmsg_client_free(c);
		return NULL;
	}
	return c;
}

static int setup(void **state)
{
	(void)state;
	gcmsg_global_init();
	if (ss_start() < 0)
		return -1;
	client = new_client(ss_port(), 4, 0);
	return client ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ss_stop();
	gcmsg_client_free(client);
	gcmsg_global_cleanup();
	return 0;
}

/* ---- a script of answers, consumed in order; then 200 {} ---- */

typedef struct step {
	int status;
	const char *retry_after; /* or NULL */
	const char *body;        /* or NULL */
} step;

static step script[64];
static int nscript, next_step;

static void play(const ss_req *rq, ss_answer *an)
{
	(void)rq;
	if (next_step < nscript) {
		const step *s = &script[next_step++];
		an->status = s->status;
		if (s->body)
			ss_reply(an, s->status, "%s", s->body);
		if (s->retry_after)
			ss_answer_header(an, "Retry-After", s->retry_after);
		return;
	}
	ss_reply(an, 200, "{}");
}

static void set_script(const step *steps, int n)
{
	memcpy(script, steps, (size_t)n * sizeof(*steps));
	nscript = n;
	next_step = 0;
}

static int before(void **state)
{
	(void)state;
	ss_clear_log();
	ss_set_handler(play);
	nscript = next_step = 0;
	logbuf[0] = '\0';
	return 0;
}

static int count_in_log(const char *needle)
{
	int n = 0;
	const char *p = logbuf;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* ---- gcmsg__api: reads retried ---- */

static void test_get_retried_on_5xx(void **state)
{
	static const step s[] = { { 503, NULL, "{\"code\":\"service.unavailable\"}" }, { 502, NULL, NULL } };
	json_t *out = NULL;

	(void)state;
	set_script(s, 2);
	assert_int_equal(gcmsg__api(client, "GET", "/api/v2/x", NULL, 0, &out, NULL), GCMSG_OK);
	assert_int_equal(ss_log_count(), 3);
	assert_non_null(out);
	json_decref(out);
	if (!strstr(logbuf, "GET /api/v2/x -> 503; retry 1 in ") || !strstr(logbuf, "GET /api/v2/x -> 502; retry 2 in "))
		fail_msg("log lacks the retries:\n%s", logbuf);
}

static void test_get_retried_on_429(void **state)
{
	static const step s[] = { { 429, "0", "{\"code\":\"too.many.requests.retry.after\"}" },
		                  { 429, NULL, NULL } };

	(void)state;
	set_script(s, 2);
	assert_int_equal(gcmsg__api(client, "GET", "/api/v2/y", NULL, 0, NULL, NULL), GCMSG_OK);
	assert_int_equal(ss_log_count(), 3);
	assert_int_equal(count_in_log("-> 429; retry"), 2);
}

static void test_get_retry_after_beyond_cap(void **state)
{
	static const step s[] = { { 429, "3600", "{\"code\":\"too.many.requests.retry.after\"}" } };

	(void)state;
	set_script(s, 1);
	assert_int_equal(gcmsg__api(client, "GET", "/api/v2/y", NULL, 0, NULL, NULL), GCMSG_ERATELIMIT);
	assert_int_equal(ss_log_count(), 1);
	assert_int_equal(gcmsg_client_last_error(client)->retry_after, 3600);
	assert_non_null(strstr(logbuf, "not retried: Retry-After beyond the cap"));
}

static void test_get_gives_up_after_max_attempts(void **state)
{
	static const step s[] = { { 500, NULL, NULL }, { 500, NULL, NULL }, { 500, NULL, NULL },
		                  { 500, NULL, NULL }, { 500, NULL, NULL } };

	(void)state;
	set_script(s, 5);
	assert_int_equal(gcmsg__api(client, "GET", "/api/v2/z", NULL, 0, NULL, NULL), GCMSG_EREMOTE);
	assert_int_equal(ss_log_count(), 4);
	assert_int_equal(gcmsg_client_last_error(client)->http_status, 500);
	assert_non_null(strstr(logbuf, "not retried: attempts exhausted"));
}

static void test_4xx_and_501_not_retried(void **state)
{
	static const step s[] = { { 404, NULL, "{\"code\":\"not.found\"}" } };
	static const step s2[] = { { 501, NULL, NULL } };

	(void)state;
	set_script(s, 1);
	assert_int_equal(gcmsg__api(client, "GET", "/api/v2/q", NULL, 0, NULL, NULL), GCMSG_ENOTFOUND);
	assert_int_equal(ss_log_count(), 1);
	ss_clear_log();
	set_script(s2, 1);
	assert_int_equal(gcmsg__api(client, "GET", "/api/v2/q", NULL, 0, NULL, NULL), GCMSG_EREMOTE);
	assert_int_equal(ss_log_count(), 1);
	assert_null(strstr(logbuf, "retry"));
}

static void test_post_not_retried(void **state)
{
	static const step s[] = { { 503, NULL, NULL } };
	json_t *body = json_pack("{s:s}", "textBody", "hi");

	(void)state;
	set_script(s, 1);
	assert_int_equal(gcmsg__api(client, "POST", "/api/v2/send", body, 0, NULL, NULL), GCMSG_EREMOTE);
	assert_int_equal(ss_log_count(), 1);
	/* a dropped connection neither */
	ss_clear_log();
	{
		static const step d[] = { { SS_DROP, NULL, NULL } };
		gcmsg__http_resp r;
		gcmsg__http_resp_init(&r);
		set_script(d, 1);
		assert_int_equal(gcmsg__api(client, "POST", "/api/v2/send", body, 0, NULL, &r), GCMSG_EREMOTE);
		assert_int_equal(ss_log_count(), 1);
		assert_int_equal(r.status, 0);
		assert_int_equal(r.sent_maybe, 1);
		gcmsg__http_resp_dispose(&r);
	}
	json_decref(body);
}

static void test_read_post_retried(void **state)
{
	static const step s[] = { { 503, NULL, NULL }, { SS_DROP, NULL, NULL } };
	json_t *ids = json_pack("[s]", "m1"), *out = NULL;

	(void)state;
	set_script(s, 2);
	assert_int_equal(gcmsg__api(client, "POST", "/api/v2/bulk", ids, GCMSG__API_READ, &out, NULL), GCMSG_OK);
	assert_int_equal(ss_log_count(), 3);
	assert_string_equal(ss_log_at(2)->body, "[\"m1\"]");
	json_decref(out);
	json_decref(ids);
}

static void test_no_retry_flag(void **state)
{
	static const step s[] = { { 503, NULL, NULL } };

	(void)state;
	set_script(s, 1);
	assert_int_equal(gcmsg__api(client, "GET", "/api/v2/x", NULL, GCMSG__API_NO_RETRY, NULL, NULL), GCMSG_EREMOTE);
	assert_int_equal(ss_log_count(), 1);
}

static void test_get_retried_on_drop_and_reset(void **state)
{
	static const step s[] = { { SS_DROP, NULL, NULL }, { SS_RESET, NULL, NULL } };

	(void)state;
	set_script(s, 2);
	assert_int_equal(gcmsg__api(client, "GET", "/api/v2/x", NULL, 0, NULL, NULL), GCMSG_OK);
	assert_int_equal(ss_log_count(), 3);
	assert_int_equal(count_in_log("-> 0; retry"), 2);
}

/* a port nobody listens on: bound, never listening, so connecting is refused */
static int closed_port(int *fd_out)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
		return -1;
	*fd_out = fd;
	return ntohs(a.sin_port);
}

static void test_connect_failure_is_unsent_and_retried(void **state)
{
	int fd = -1, port = closed_port(&fd);
	gcmsg_client *c;
	gcmsg__http_resp r;
	int token_failed = 1;

	(void)state;
	assert_true(port > 0);
	c = new_client(port, 3, 0);
	assert_non_null(c);
	gcmsg__http_resp_init(&r);
	/* the HTTP layer: no connection, so the request provably never left */
	assert_int_equal(gcmsg__api_once(c, "POST", "/api/v2/send", "{}", &r, &token_failed), GCMSG_EREMOTE);
	assert_int_equal(token_failed, 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.sent_maybe, 0);
	/* a read is retried (3 attempts), each logged */
	logbuf[0] = '\0';
	assert_int_equal(gcmsg__api(c, "GET", "/api/v2/x", NULL, 0, NULL, &r), GCMSG_EREMOTE);
	assert_int_equal(count_in_log("GET /api/v2/x -> 0; retry"), 2);
	assert_non_null(strstr(logbuf, "not retried: attempts exhausted"));
	gcmsg__http_resp_dispose(&r);
	gcmsg_client_free(c);
	close(fd);
}

/* The handler holds its answer until the test lets it go (after the client gave up), at most 20 s. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void gated_handler(const ss_req *rq, ss_answer *an)
{
	struct timespec until;

	(void)rq;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_mutex_lock(&gate_mu);
	while (!gate_open)
		if (pthread_cond_timedwait(&gate_cv, &gate_mu, &until) != 0)
			break;
	pthread_mutex_unlock(&gate_mu);
	ss_reply(an, 200, "{}");
}

static void gate(int open)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = open;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static void test_timeout_is_ambiguous(void **state)
{
	gcmsg_client *c = new_client(ss_port(), 1, 100);
	gcmsg__http_resp r;
	int token_failed, i;

	(void)state;
	assert_non_null(c);
	gcmsg__http_resp_init(&r);
	/* the server takes the request and answers only once the client's timeout has passed (whatever the load) */
	gate(0);
	ss_set_handler(gated_handler);
	assert_int_equal(gcmsg__api_once(c, "POST", "/api/v2/send", "{}", &r, &token_failed), GCMSG_EREMOTE);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.sent_maybe, 1);
	gate(1);
	gcmsg__http_resp_dispose(&r);
	gcmsg_client_free(c);
	/* the server logs the request once its handler is done: wait for it (bounded), so no later test sees it */
	for (i = 0; i < 2000 && ss_log_count() < 1; i++)
		usleep(10 * 1000);
	assert_int_equal(ss_log_count(), 1);
}

/* ---- gcmsg__readback against a fake conversation ---- */

typedef struct fake_msg {
	char id[40];
	long long time_ms;
	int inbound;
	const char *text;     /* or NULL */
	const char *media_id; /* or NULL */
	int no_time;
	const char *by;       /* createdBy.id, or NULL */
} fake_msg;

#define MAX_FAKE 3000
static fake_msg msgs[MAX_FAKE];
static int nmsgs;
static int get_status, bulk_status, get_malformed, bulk_malformed, bulk_omit_first, bulk_calls;
static int bulk_sizes[16];
/* the server's clock: ours + skew (its Date header and the messages' times); no_date: no Date header */
static long long skew_ms;
static int no_date, acd_without_messages;
static const char *customer_state; /* NULL: "connected" */

static long long wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static fake_msg *add_msg(const char *id, long long time_ms, int inbound, const char *text, const char *media_id)
{
	fake_msg *m = &msgs[nmsgs++];

	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->time_ms = time_ms;
	m->inbound = inbound;
	m->text = text;
	m->media_id = media_id;
	return m;
}

static json_t *details_of(const fake_msg *m)
{
	char t[40];
	json_t *d = json_pack("{s:s, s:s}", "messageId", m->id, "messageStatus", m->inbound ? "received" : "sent");

	if (!m->no_time) {
		ss_iso_time(m->time_ms + skew_ms, t, sizeof(t));
		json_object_set_new(d, "messageTime", json_string(t));
	}
	return d;
}

/* The Date header of the server's clock (IMF-fixdate). */
static void add_date(ss_answer *an)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)((wall_now() + skew_ms) / 1000);
	struct tm tm;
	char v[64];

	if (no_date)
		return;
	gmtime_r(&t, &tm);
	snprintf(v, sizeof(v), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	ss_answer_header(an, "Date", v);
}

static void conversation_handler(const ss_req *rq, ss_answer *an)
{
	if (strcmp(rq->method, "GET") == 0 && strcmp(rq->target, "/api/v2/conversations/messages/c1") == 0) {
		json_t *agent, *cust, *doc;
		char *text;
		int i;

		if (get_status) {
			ss_reply(an, get_status, "{\"code\":\"service.unavailable\",\"status\":%d}", get_status);
			return;
		}
		if (get_malformed) {
			ss_reply(an, 200, "{\"participants\": [ {\"messages\": [ {\"messageId\": ");
			return;
		}
		agent = json_array();
		cust = json_array();
		for (i = 0; i < nmsgs; i++) {
			json_array_append_new(cust, details_of(&msgs[i]));
			if (!msgs[i].inbound)
				json_array_append_new(agent, details_of(&msgs[i]));
		}
		doc = json_pack("{s:s, s:[{s:s, s:s, s:s, s:o}, {s:s, s:s, s:s, s:o}, {s:s, s:s, s:s}]}", "id", "c1",
		                "participants", "id", "p1", "purpose", "customer", "state",
		                customer_state ? customer_state : "connected", "messages", cust, "id", "p2", "purpose",
		                "agent", "state", "connected", "messages", agent, "id", "p3", "purpose", "acd", "state",
		                "disconnected");
		if (!acd_without_messages)
			json_object_set_new(json_array_get(json_object_get(doc, "participants"), 2), "messages", json_array());
		text = json_dumps(doc, JSON_COMPACT);
		ss_reply(an, 200, "%s", text);
		add_date(an);
		free(text);
		json_decref(doc);
		return;
	}
	if (strcmp(rq->method, "POST") == 0 &&
	    strcmp(rq->target, "/api/v2/conversations/messages/c1/messages/bulk") == 0) {
		json_t *ids = json_loads(rq->body, 0, NULL), *ents = json_array(), *id, *doc;
		size_t i;
		char *text;

		if (bulk_calls < 16)
			bulk_sizes[bulk_calls] = (int)json_array_size(ids);
		bulk_calls++;
		if (bulk_status) {
			ss_reply(an, bulk_status, "{\"code\":\"internal.server.error\"}");
			json_decref(ids);
			json_decref(ents);
			return;
		}
		if (bulk_malformed) {
			ss_reply(an, 200, "{\"entities\": 7}");
			json_decref(ids);
			json_decref(ents);
			return;
		}
		json_array_foreach(ids, i, id) {
			int k;
			if (bulk_omit_first && i == 0)
				continue;
			for (k = 0; k < nmsgs; k++) {
				const fake_msg *m = &msgs[k];
				char t[40];
				json_t *e;
				if (strcmp(m->id, json_string_value(id)) != 0)
					continue;
				ss_iso_time(m->time_ms + skew_ms, t, sizeof(t));
				e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", m->id, "timestamp", t, "direction",
				              m->inbound ? "inbound" : "outbound", "status", "sent", "textBody",
				              m->text ? m->text : "");
				if (m->no_time)
					json_object_del(e, "timestamp");
				if (m->by)
					json_object_set_new(e, "createdBy", json_pack("{s:s}", "id", m->by));
				if (m->media_id)
					json_object_set_new(e, "media", json_pack("[{s:s, s:s}]", "id", m->media_id, "mediaType",
					                                          "image/png"));
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
		return;
	}
	ss_reply(an, 404, "{\"code\":\"not.found\"}");
}

static int before_rb(void **state)
{
	(void)state;
	ss_clear_log();
	ss_set_handler(conversation_handler);
	nmsgs = get_status = bulk_status = get_malformed = bulk_malformed = bulk_omit_first = bulk_calls = 0;
	skew_ms = 0;
	no_date = acd_without_messages = 0;
	customer_state = NULL;
	memset(bulk_sizes, 0, sizeof(bulk_sizes));
	logbuf[0] = '\0';
	return 0;
}

/* the outbox: a list of message ids other keys own; "?" makes the answer unknown */
static const char *owned_ids[4];

static int owned(const char *message_id, void *payload)
{
	int i;

	(void)payload;
	for (i = 0; i < 4 && owned_ids[i]; i++) {
		if (strcmp(owned_ids[i], "?") == 0)
			return -1;
		if (strcmp(owned_ids[i], message_id) == 0)
			return 1;
	}
	return 0;
}

static gcmsg__rb_verdict rb_on(const char *route, const char *text, const char *media_id, long long since,
                                gcmsg__rb_result *res)
{
	gcmsg__rb_query q = { "c1", route, text, media_id, since, "u-me", 0, owned, NULL };

	gcmsg__rb_result_init(res);
	assert_int_equal(gcmsg__readback(client, &q, res), GCMSG_OK);
	assert_int_equal(res->requests, ss_log_count());
	assert_true((res->verdict == GCMSG__RB_FOUND) == (res->message_id != NULL));
	return res->verdict;
}

static gcmsg__rb_verdict rb(const char *text, const char *media_id, long long since, gcmsg__rb_result *res)
{
	return rb_on("agent-messaging", text, media_id, since, res);
}

static void test_rb_found(void **state)
{
	long long now = wall_now();
	gcmsg__rb_result res;

	(void)state;
	memset(owned_ids, 0, sizeof(owned_ids));
	add_msg("in-1", now - 1000, 1, "Hello there", NULL); /* the customer's, same words */
	add_msg("out-1", now - 500, 0, "Something else", NULL);
	add_msg("out-2", now + 200, 0, "Hello there", NULL);
	assert_int_equal(rb("Hello there", NULL, now, &res), GCMSG__RB_FOUND);
	assert_string_equal(res.message_id, "out-2");
	assert_int_equal(res.requests, 2);
	/* each id asked once, though two participants list the outbound ones */
	assert_int_equal(bulk_sizes[0], 3);
	assert_string_equal(ss_log_at(1)->body, "[\"in-1\",\"out-1\",\"out-2\"]");
	gcmsg__rb_result_dispose(&res);
}

static void test_rb_absent(void **state)
{
	long long now = wall_now();
	gcmsg__rb_result res;

	(void)state;
	memset(owned_ids, 0, sizeof(owned_ids));
	add_msg("in-1", now - 1000, 1, "Hello there", NULL); /* inbound: never ours */
	add_msg("out-1", now + 10, 0, "Hello there!", NULL); /* not byte for byte */
	add_msg("out-2", now + 20, 0, "hello there", NULL);
	assert_int_equal(rb("Hello there", NULL, now, &res), GCMSG__RB_ABSENT);
	assert_int_equal(res.requests, 2);
	gcmsg__rb_result_dispose(&res);
	/* a conversation without messages: one request */
	before_rb(NULL);
	assert_int_equal(rb("Hello there", NULL, now, &res), GCMSG__RB_ABSENT);
	assert_int_equal(res.requests, 1);
	gcmsg__rb_result_dispose(&res);
}

static void test_rb_old_ids_left_out(void **state)
{
	long long now = wall_now();
	gcmsg__rb_result res;
	fake_msg *m;

	(void)state;
	memset(owned_ids, 0, sizeof(owned_ids));
	/* an hour before the first attempt: an earlier send of the same text, not ours */
	add_msg("old-1", now - 3600 * 1000LL, 0, "Hello there", NULL);
	/* ten seconds before: not ours either */
	add_msg("old-2", now - 10 * 1000LL, 0, "Hello there", NULL);
	/* within the margin: kept */
	add_msg("near-1", now - 1000LL, 0, "Other", NULL);
	/* no time: kept */
	m = add_msg("notime-1", now, 0, "Other 2", NULL);
	m->no_time = 1;
	assert_int_equal(rb("Hello there", NULL, now, &res), GCMSG__RB_ABSENT);
	assert_string_equal(ss_log_at(1)->body, "[\"near-1\",\"notime-1\"]");
	assert_true(res.skew_known);
	gcmsg__rb_result_dispose(&res);
	/* since 0: no bound, and then the old one is found */
	before_rb(NULL);
	add_msg("old-1", now - 3600 * 1000LL, 0, "Hello there", NULL);
	assert_int_equal(rb("Hello there", NULL, 0, &res), GCMSG__RB_FOUND);
	gcmsg__rb_result_dispose(&res);
}

static void test_rb_owned_by_another_key(void **state)
{
	long long now = wall_now();
	gcmsg__rb_result res;

	(void)state;
	add_msg("out-1", now + 10, 0, "Same words", NULL);
	add_msg("out-2", now + 20, 0, "Same words", NULL);
	memset(owned_ids, 0, sizeof(owned_ids));
	owned_ids[0] = "out-1";
	assert_int_equal(rb("Same words", NULL, now, &res), GCMSG__RB_FOUND);
	assert_string_equal(res.message_id, "out-2");
	gcmsg__rb_result_dispose(&res);
	ss_clear_log();
	owned_ids[1] = "out-2";
	assert_int_equal(rb("Same words", NULL, now, &res), GCMSG__RB_ABSENT);
	gcmsg__rb_result_dispose(&res);
	ss_clear_log();
	owned_ids[1] = "?";
	assert_int_equal(rb("Same words", NULL, now, &res), GCMSG__RB_UNKNOWN);
	assert_non_null(strstr(res.why, "could not tell"));
	gcmsg__rb_result_dispose(&res);
	memset(owned_ids, 0, sizeof(owned_ids));
}

static void test_rb_media(void **state)
{
	long long now = wall_now();
	gcmsg__rb_result res;

	(void)state;
	memset(owned_ids, 0, sizeof(owned_ids));
	add_msg("out-1", now + 10, 0, NULL, "media-9");
	add_msg("out-2", now + 20, 0, NULL, "media-7");
	assert_int_equal(rb(NULL, "media-7", now, &res), GCMSG__RB_FOUND);
	assert_string_equal(res.message_id, "out-2");
	gcmsg__rb_result_dispose(&res);
	ss_clear_log();
	assert_int_equal(rb(NULL, "media-8", now, &res), GCMSG__RB_ABSENT);
	gcmsg__rb_result_dispose(&res);
}

static void test_rb_unknown(void **state)
{
	long long now = wall_now();
	gcmsg__rb_result res;

	(void)state;
	memset(owned_ids, 0, sizeof(owned_ids));
	add_msg("out-1", now + 10, 0, "Hello there", NULL);
	/* the GET fails: no retry here (the caller retries), no bulk */
	get_status = 503;
	assert_int_equal(rb("Hello there", NULL, now, &res), GCMSG__RB_UNKNOWN);
	assert_int_equal(res.requests, 1);
	assert_int_equal(res.http_status, 503);
	assert_non_null(strstr(res.why, "reading the conversation back failed"));
	gcmsg__rb_result_dispose(&res);
	/* the bulk read fails */
	ss_clear_log();
	get_status = 0;
	bulk_status = 500;
	assert_int_equal(rb("Hello there", NULL, now, &res), GCMSG__RB_UNKNOWN);
	assert_int_equal(res.requests, 2);
	assert_int_equal(res.http_status, 500);
	gcmsg__rb_result_dispose(&res);
	/* malformed answers */
	ss_clear_log();
	bulk_status = 0;
	get_malformed = 1;
	assert_int_equal(rb("Hello there", NULL, now, &res), GCMSG__RB_UNKNOWN);
	assert_int_equal(res.requests, 1);
	gcmsg__rb_result_dispose(&res);
	ss_clear_log();
	get_malformed = 0;
	bulk_malformed = 1;
	assert_int_equal(rb("Hello there", NULL, now, &res), GCMSG__RB_UNKNOWN);
	assert_non_null(strstr(res.why, "no entities"));
	gcmsg__rb_result_dispose(&res);
	/* an id that did not come back: it may have been ours */
	ss_clear_log();
	bulk_malformed = 0;
	add_msg("out-2", now + 20, 0, "Other", NULL);
	bulk_omit_first = 1;
	assert_int_equal(rb("Hello there", NULL, now, &res), GCMSG__RB_UNKNOWN);
	assert_non_null(strstr(res.why, "did not return 1 of the 2"));
	gcmsg__rb_result_dispose(&res);
	/* the route has no read-back: no request at all */
	ss_clear_log();
	{
		gcmsg__rb_query q = { "c1", "legacy-chat", "Hello there", NULL, now, NULL, 0, NULL, NULL };
		gcmsg__rb_result_init(&res);
		assert_int_equal(gcmsg__readback(client, &q, &res), GCMSG_OK);
		assert_int_equal(res.verdict, GCMSG__RB_UNKNOWN);
		assert_int_equal(ss_log_count(), 0);
		gcmsg__rb_result_dispose(&res);
	}
}

static void test_rb_split_beyond_1000(void **state)
{
	long long now = wall_now();
	gcmsg__rb_result res;
	char id[40];
	int i;

	(void)state;
	memset(owned_ids, 0, sizeof(owned_ids));
	for (i = 0; i < 2500; i++) {
		snprintf(id, sizeof(id), "m-%05d", i);
		add_msg(id, now + i, i % 3 == 0, i == 2401 ? "The one" : "Filler", NULL);
	}
	assert_int_equal(rb("The one", NULL, now, &res), GCMSG__RB_FOUND);
	assert_string_equal(res.message_id, "m-02401");
	assert_int_equal(bulk_calls, 3);
	assert_int_equal(bulk_sizes[0], 1000);
	assert_int_equal(bulk_sizes[1], 1000);
	assert_int_equal(bulk_sizes[2], 500);
	gcmsg__rb_result_dispose(&res);
	/* absent: every batch read */
	before_rb(NULL);
	for (i = 0; i < 2001; i++) {
		snprintf(id, sizeof(id), "m-%05d", i);
		add_msg(id, now + i, 0, "Filler", NULL);
	}
	assert_int_equal(rb("The one", NULL, now, &res), GCMSG__RB_ABSENT);
	assert_int_equal(bulk_calls, 3);
	assert_int_equal(bulk_sizes[2], 1);
	gcmsg__rb_result_dispose(&res);
}

/* The server's clock six minutes behind ours, then ahead: its Date header sets its times against ours. */
static void test_rb_clock_skew(void **state)
{
	long long now = wall_now();
	gcmsg__rb_result res;

	(void)state;
	memset(owned_ids, 0, sizeof(owned_ids));
	/* our message, delivered just after our first attempt; the server dates it on its own clock */
	skew_ms = -6 * 60 * 1000LL;
	add_msg("out-1", now + 100, 0, "Skewed", NULL);
	assert_int_equal(rb("Skewed", NULL, now, &res), GCMSG__RB_FOUND);
	assert_string_equal(res.message_id, "out-1");
	assert_true(res.skew_known);
	assert_true(res.skew_ms <= skew_ms && res.skew_ms > skew_ms - 2000);
	gcmsg__rb_result_dispose(&res);
	/* a server clock ahead: an identical message from a minute before our attempt is still not ours */
	before_rb(NULL);
	skew_ms = 6 * 60 * 1000LL;
	add_msg("old-1", now - 60 * 1000LL, 0, "Skewed", NULL);
	assert_int_equal(rb("Skewed", NULL, now, &res), GCMSG__RB_ABSENT);
	assert_string_equal(res.why, "the conversation lists no message since the first attempt");
	gcmsg__rb_result_dispose(&res);
	/* and ours, after the attempt, is found */
	add_msg("out-2", now + 50, 0, "Skewed", NULL);
	ss_clear_log();
	assert_int_equal(rb("Skewed", NULL, now, &res), GCMSG__RB_FOUND);
	assert_string_equal(res.message_id, "out-2");
	gcmsg__rb_result_dispose(&res);
}

static void test_rb_no_date_unknown(void **state)
{
	long long now = wall_now();
	gcmsg__rb_result res;

	(void)state;
	memset(owned_ids, 0, sizeof(owned_ids));
	no_date = 1;
	add_msg("out-1", now + 10, 0, "Other", NULL);
	assert_int_equal(rb("Hello", NULL, now, &res), GCMSG__RB_UNKNOWN);
	assert_non_null(strstr(res.why, "no usable Date header"));
	assert_int_equal(res.requests, 1);
	gcmsg__rb_result_dispose(&res);
	/* without a time bound (since 0) the clock does not matter */
	ss_clear_log();
	assert_int_equal(rb("Hello", NULL, 0, &res), GCMSG__RB_ABSENT);
	gcmsg__rb_result_dispose(&res);
}

static void test_rb_incomplete_listing(void **state)
{
	long long now = wall_now();
	gcmsg__rb_result res;
	gcmsg__rb_query q = { "c1", "agent-messaging", "Hello", NULL, now, "u-me", 1, owned, NULL };

	(void)state;
	memset(owned_ids, 0, sizeof(owned_ids));
	/* a participant without messages[] */
	acd_without_messages = 1;
	add_msg("out-1", now + 10, 0, "Other", NULL);
	assert_int_equal(rb("Hello", NULL, now, &res), GCMSG__RB_UNKNOWN);
	assert_non_null(strstr(res.why, "has no messages[]"));
	gcmsg__rb_result_dispose(&res);
	/* nothing listed at all, though the conversation is known to hold messages */
	before_rb(NULL);
	gcmsg__rb_result_init(&res);
	assert_int_equal(gcmsg__readback(client, &q, &res), GCMSG_OK);
	assert_int_equal(res.verdict, GCMSG__RB_UNKNOWN);
	assert_non_null(strstr(res.why, "lists no message at all"));
	gcmsg__rb_result_dispose(&res);
	/* not expected: absent */
	q.expect_messages = 0;
	assert_int_equal(gcmsg__readback(client, &q, &res), GCMSG_OK);
	assert_int_equal(res.verdict, GCMSG__RB_ABSENT);
	gcmsg__rb_result_dispose(&res);
}

static void test_rb_agentless_not_connected(void **state)
{
	long long now = wall_now();
	gcmsg__rb_result res;

	(void)state;
	memset(owned_ids, 0, sizeof(owned_ids));
	add_msg("out-1", now + 10, 0, "Other", NULL);
	assert_int_equal(rb_on("agentless", "Hello", NULL, now, &res), GCMSG__RB_ABSENT);
	gcmsg__rb_result_dispose(&res);
	/* ended: a send with useExistingActiveConversation may have opened another conversation */
	customer_state = "disconnected";
	ss_clear_log();
	assert_int_equal(rb_on("agentless", "Hello", NULL, now, &res), GCMSG__RB_UNKNOWN);
	assert_non_null(strstr(res.why, "no longer connected"));
	gcmsg__rb_result_dispose(&res);
	/* but a message found in it is found */
	add_msg("out-2", now + 20, 0, "Hello", NULL);
	ss_clear_log();
	assert_int_equal(rb_on("agentless", "Hello", NULL, now, &res), GCMSG__RB_FOUND);
	assert_string_equal(res.message_id, "out-2");
	gcmsg__rb_result_dispose(&res);
	/* the agent route does not care */
	before_rb(NULL);
	customer_state = "disconnected";
	assert_int_equal(rb("Hello", NULL, now, &res), GCMSG__RB_ABSENT);
	gcmsg__rb_result_dispose(&res);
}

static void test_rb_someone_elses_identical_text(void **state)
{
	long long now = wall_now();
	gcmsg__rb_result res;
	fake_msg *m;

	(void)state;
	memset(owned_ids, 0, sizeof(owned_ids));
	/* another agent's identical text after our attempt: not ours */
	m = add_msg("out-1", now + 10, 0, "Same words", NULL);
	m->by = "u-other";
	assert_int_equal(rb("Same words", NULL, now, &res), GCMSG__RB_ABSENT);
	gcmsg__rb_result_dispose(&res);
	/* ours (createdBy us, or not given) is */
	m = add_msg("out-2", now + 20, 0, "Same words", NULL);
	m->by = "u-me";
	ss_clear_log();
	assert_int_equal(rb("Same words", NULL, now, &res), GCMSG__RB_FOUND);
	assert_string_equal(res.message_id, "out-2");
	gcmsg__rb_result_dispose(&res);
	/* a matching message without a readable time: cannot tell whose */
	before_rb(NULL);
	m = add_msg("out-3", now + 20, 0, "Same words", NULL);
	m->no_time = 1;
	assert_int_equal(rb("Same words", NULL, now, &res), GCMSG__RB_UNKNOWN);
	assert_non_null(strstr(res.why, "no readable timestamp"));
	gcmsg__rb_result_dispose(&res);
}

/* ---- the pure parts ---- */

static void test_http_date(void **state)
{
	(void)state;
	assert_true(gcmsg__http_date_ms("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777000LL);
	assert_true(gcmsg__http_date_ms("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777000LL);
	assert_true(gcmsg__http_date_ms("Sun Nov  6 08:49:37 1994") == 784111777000LL);
	assert_true(gcmsg__http_date_ms("Sat, 21 Nov 2026 09:00:01 GMT") == 1795251601000LL);
	assert_true(gcmsg__http_date_ms("Sat, 21 Nov 2026 09:00:01 UTC") == -1);
	assert_true(gcmsg__http_date_ms("Sat, 21 Foo 2026 09:00:01 GMT") == -1);
	assert_true(gcmsg__http_date_ms("Sat, 21 Nov 2026 09:00 GMT") == -1);
	assert_true(gcmsg__http_date_ms("Sat, 21 Nov 2026 09:00:01 GMT junk") == -1);
	assert_true(gcmsg__http_date_ms("120") == -1);
	assert_true(gcmsg__http_date_ms("") == -1);
	assert_true(gcmsg__http_date_ms(NULL) == -1);
}

static void retry_after_date_handler(const ss_req *rq, ss_answer *an)
{
	/* Date 09:00:00, Retry-After 09:00:42: 42 s whatever our clock says */
	(void)rq;
	ss_reply(an, 429, "{\"code\":\"too.many.requests\"}");
	ss_answer_header(an, "Date", "Sat, 21 Nov 2026 09:00:00 GMT");
	ss_answer_header(an, "Retry-After", "Sat, 21 Nov 2026 09:00:42 GMT");
}

static void test_retry_after_http_date(void **state)
{
	gcmsg__http_resp r;
	int token_failed;

	(void)state;
	ss_set_handler(retry_after_date_handler);
	gcmsg__http_resp_init(&r);
	assert_int_equal(gcmsg__api_once(client, "GET", "/api/v2/x", NULL, &r, &token_failed), GCMSG_OK);
	assert_int_equal(r.status, 429);
	assert_int_equal(r.retry_after, 42);
	assert_true(r.date_ms == gcmsg__http_date_ms("Sat, 21 Nov 2026 09:00:00 GMT"));
	assert_true(r.recv_wall_ms >= r.sent_wall_ms && r.sent_wall_ms > 0);
	gcmsg__http_resp_dispose(&r);
}

static void test_iso8601(void **state)
{
	(void)state;
	assert_true(gcmsg__iso8601_ms("1970-01-01T00:00:00Z") == 0);
	assert_true(gcmsg__iso8601_ms("1970-01-01T00:00:00.001Z") == 1);
	assert_true(gcmsg__iso8601_ms("2026-11-21T09:00:01.123Z") == 1795251601123LL);
	assert_true(gcmsg__iso8601_ms("2026-11-21T09:00:01.1Z") == 1795251601100LL);
	assert_true(gcmsg__iso8601_ms("2026-11-21T09:00:01.123456Z") == 1795251601123LL);
	assert_true(gcmsg__iso8601_ms("2026-11-21T11:00:01.123+02:00") == 1795251601123LL);
	assert_true(gcmsg__iso8601_ms("2026-11-21T08:00:01.123-0100") == 1795251601123LL);
	assert_true(gcmsg__iso8601_ms("2000-02-29T12:00:00Z") == 951825600000LL);
	assert_true(gcmsg__iso8601_ms("2026-11-21T09:00:01") == -1);
	assert_true(gcmsg__iso8601_ms("2026-13-21T09:00:01Z") == -1);
	assert_true(gcmsg__iso8601_ms("2026-11-21T09:00:01.Z") == -1);
	assert_true(gcmsg__iso8601_ms("2026-11-21T09:00:01Zjunk") == -1);
	assert_true(gcmsg__iso8601_ms("yesterday") == -1);
	assert_true(gcmsg__iso8601_ms(NULL) == -1);
}

static void test_rb_ids_pure(void **state)
{
	gcmsg__rb_listing l;
	char why[128];

	(void)state;
#define IDS(doc) gcmsg__rb_ids(doc, strlen(doc), 0, &l, why, sizeof(why))
	assert_int_equal(IDS("[]"), -1);
	assert_int_equal(IDS("{}"), -1);
	assert_non_null(strstr(why, "participants"));
	assert_int_equal(IDS("{\"participants\":[1]}"), -1);
	assert_int_equal(IDS("{\"participants\":[{\"messages\":{}}]}"), -1);
	assert_int_equal(IDS("{\"participants\":[{\"messages\":[{\"messageId\":\"\"}]}]}"), -1);
	/* a participant without messages[]: it may list what we would not see */
	assert_int_equal(IDS("{\"participants\":[{},{\"messages\":[{\"messageId\":\"b\"}]}]}"), -1);
	assert_non_null(strstr(why, "participant 0 has no messages[]"));
	assert_null(l.ids);
	assert_int_equal(IDS("{\"participants\":[{\"purpose\":\"customer\",\"state\":\"connected\",\"messages\":[]},"
	                     "{\"messages\":[{\"messageId\":\"b\"},{\"messageId\":\"a\"},{\"messageId\":\"b\"}]}]}"), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.listed, 3);
	assert_int_equal(l.connected, 1);
	assert_string_equal(l.ids[0], "a");
	assert_string_equal(l.ids[1], "b");
	gcmsg__rb_listing_dispose(&l);
	/* the customer: purpose customer, else the first external; its state */
	assert_int_equal(IDS("{\"participants\":[{\"purpose\":\"external\",\"state\":\"disconnected\",\"messages\":[]},"
	                     "{\"purpose\":\"external\",\"state\":\"connected\",\"messages\":[]}]}"), 0);
	assert_int_equal(l.connected, 0);
	assert_int_equal(l.listed, 0);
	gcmsg__rb_listing_dispose(&l);
	assert_int_equal(IDS("{\"participants\":[{\"purpose\":\"agent\",\"state\":\"connected\",\"messages\":[]}]}"), 0);
	assert_int_equal(l.connected, -1);
	gcmsg__rb_listing_dispose(&l);
	/* times: before from_ms left out (but listed), none or unreadable kept */
	{
		const char *doc = "{\"participants\":[{\"messages\":[{\"messageId\":\"old\",\"messageTime\":"
		                  "\"2026-11-21T09:00:00.000Z\"},{\"messageId\":\"new\",\"messageTime\":"
		                  "\"2026-11-21T09:00:02.000Z\"},{\"messageId\":\"x\",\"messageTime\":\"later\"}]}]}";
		assert_int_equal(gcmsg__rb_ids(doc, strlen(doc), gcmsg__iso8601_ms("2026-11-21T09:00:01Z"), &l, why,
		                               sizeof(why)), 0);
		assert_int_equal(l.listed, 3);
		assert_int_equal(l.n, 2);
		assert_string_equal(l.ids[0], "new");
		assert_string_equal(l.ids[1], "x");
		gcmsg__rb_listing_dispose(&l);
	}
#undef IDS
}

static void test_rb_match_pure(void **state)
{
	static const char *const ids[] = { "x", "y" };
	gcmsg__rb_query q = { "c1", "agentless", "Hi", NULL, 0, NULL, 0, NULL, NULL };
	gcmsg__rb_verdict v;
	char *found, why[128];
	const char *doc;

	(void)state;
	doc = "{\"entities\":[{\"id\":\"x\",\"textBody\":\"Hi\",\"direction\":\"outbound\"},{\"id\":\"y\"}]}";
	assert_int_equal(gcmsg__rb_match(doc, strlen(doc), ids, 2, &q, 0, &v, &found, why, sizeof(why)), 0);
	assert_int_equal(v, GCMSG__RB_FOUND);
	assert_string_equal(found, "x");
	free(found);
	/* an entity we did not ask for is not ours to judge */
	doc = "{\"entities\":[{\"id\":\"z\",\"textBody\":\"Hi\"},{\"id\":\"x\"},{\"id\":\"y\"}]}";
	assert_int_equal(gcmsg__rb_match(doc, strlen(doc), ids, 2, &q, 0, &v, &found, why, sizeof(why)), 0);
	assert_int_equal(v, GCMSG__RB_ABSENT);
	assert_null(found);
	/* normalizedMessage.text counts; an embedded NUL does not match a shorter text */
	doc = "{\"entities\":[{\"id\":\"x\",\"normalizedMessage\":{\"type\":\"Text\",\"text\":\"Hi\"}},{\"id\":\"y\"}]}";
	assert_int_equal(gcmsg__rb_match(doc, strlen(doc), ids, 2, &q, 0, &v, &found, why, sizeof(why)), 0);
	assert_int_equal(v, GCMSG__RB_FOUND);
	free(found);
	doc = "{\"entities\":[{\"id\":\"x\",\"textBody\":\"Hi\\u0000there\"},{\"id\":\"y\"}]}";
	assert_int_equal(gcmsg__rb_match(doc, strlen(doc), ids, 2, &q, 0, &v, &found, why, sizeof(why)), 0);
	assert_int_equal(v, GCMSG__RB_ABSENT);
	/* Inbound in the normalized form */
	doc = "{\"entities\":[{\"id\":\"x\",\"textBody\":\"Hi\",\"normalizedMessage\":{\"direction\":\"Inbound\"}},{\"id\":\"y\"}]}";
	assert_int_equal(gcmsg__rb_match(doc, strlen(doc), ids, 2, &q, 0, &v, &found, why, sizeof(why)), 0);
	assert_int_equal(v, GCMSG__RB_ABSENT);
	/* an entity without an id */
	doc = "{\"entities\":[{\"textBody\":\"Hi\"},{\"id\":\"x\"},{\"id\":\"y\"}]}";
	assert_int_equal(gcmsg__rb_match(doc, strlen(doc), ids, 2, &q, 0, &v, &found, why, sizeof(why)), 0);
	assert_int_equal(v, GCMSG__RB_UNKNOWN);
	/* not JSON */
	assert_int_equal(gcmsg__rb_match("{", 1, ids, 2, &q, 0, &v, &found, why, sizeof(why)), 0);
	assert_int_equal(v, GCMSG__RB_UNKNOWN);
	/* attachments in the normalized form */
	q.text = NULL;
	q.media_id = "md-1";
	doc = "{\"entities\":[{\"id\":\"y\",\"normalizedMessage\":{\"content\":[{\"attachment\":{\"id\":\"md-1\"}}]}},"
	      "{\"id\":\"x\"}]}";
	assert_int_equal(gcmsg__rb_match(doc, strlen(doc), ids, 2, &q, 0, &v, &found, why, sizeof(why)), 0);
	assert_int_equal(v, GCMSG__RB_FOUND);
	assert_string_equal(found, "y");
	free(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_get_retried_on_5xx, before),
		cmocka_unit_test_setup(test_get_retried_on_429, before),
		cmocka_unit_test_setup(test_get_retry_after_beyond_cap, before),
		cmocka_unit_test_setup(test_get_gives_up_after_max_attempts, before),
		cmocka_unit_test_setup(test_4xx_and_501_not_retried, before),
		cmocka_unit_test_setup(test_post_not_retried, before),
		cmocka_unit_test_setup(test_read_post_retried, before),
		cmocka_unit_test_setup(test_no_retry_flag, before),
		cmocka_unit_test_setup(test_get_retried_on_drop_and_reset, before),
		cmocka_unit_test_setup(test_connect_failure_is_unsent_and_retried, before),
		cmocka_unit_test_setup(test_timeout_is_ambiguous, before),
		cmocka_unit_test_setup(test_rb_found, before_rb),
		cmocka_unit_test_setup(test_rb_absent, before_rb),
		cmocka_unit_test_setup(test_rb_old_ids_left_out, before_rb),
		cmocka_unit_test_setup(test_rb_owned_by_another_key, before_rb),
		cmocka_unit_test_setup(test_rb_media, before_rb),
		cmocka_unit_test_setup(test_rb_unknown, before_rb),
		cmocka_unit_test_setup(test_rb_split_beyond_1000, before_rb),
		cmocka_unit_test_setup(test_rb_clock_skew, before_rb),
		cmocka_unit_test_setup(test_rb_no_date_unknown, before_rb),
		cmocka_unit_test_setup(test_rb_incomplete_listing, before_rb),
		cmocka_unit_test_setup(test_rb_agentless_not_connected, before_rb),
		cmocka_unit_test_setup(test_rb_someone_elses_identical_text, before_rb),
		cmocka_unit_test(test_http_date),
		cmocka_unit_test_setup(test_retry_after_http_date, before),
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_rb_ids_pure),
		cmocka_unit_test(test_rb_match_pure),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
