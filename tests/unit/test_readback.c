/*
 * Reads against a scripted HTTP server: gcmsg__api retries reads (GET, and
 * POSTs flagged as reads) on 429, 5xx, dropped connections and refused
 * connections within the retry policy, logs each retry, and never retries
 * other POSTs or 4xx; the HTTP layer says whether a failed request could have
 * left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
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

static void slow_handler(const ss_req *rq, ss_answer *an)
{
	(void)rq;
	usleep(300 * 1000);
	ss_reply(an, 200, "{}");
}

static void test_timeout_is_ambiguous(void **state)
{
	gcmsg_client *c = new_client(ss_port(), 1, 150);
	gcmsg__http_resp r;
	int token_failed;

	(void)state;
	assert_non_null(c);
	gcmsg__http_resp_init(&r);
	/* the server takes the request and answers after the client's timeout */
	ss_set_handler(slow_handler);
	assert_int_equal(gcmsg__api_once(c, "POST", "/api/v2/send", "{}", &r, &token_failed), GCMSG_EREMOTE);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.sent_maybe, 1);
	gcmsg__http_resp_dispose(&r);
	gcmsg_client_free(c);
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
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
