/*
 * Tokens against a scripted server: the credentials a client picks from the
 * token cache, renewal before expiry and once on a 401 (refresh_token grant,
 * Basic only for a confidential client), a failed renewal, client-credentials
 * tokens shared through the cache (never over a login), single-flight renewal
 * across two processes (fork) and two threads, gcmsg_login with a fake browser
 * thread (good state, bad state, error=access_denied, timeout, stray
 * connections, a refused code), and gcmsg_logout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "login_internal.h"
#include "scripted_server.h"
#include "sha256.h"

static char dir[256], base[64], cache[512];

/* ---- the scripted Genesys: /oauth/token and /api/v2/tokens/me ---- */

static pthread_mutex_t hmu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char accepted[64];   /* the one bearer the API takes */
	int next;            /* tokens issued */
	int token_delay_ms;  /* the token endpoint answers this much later */
	int token_status;    /* non-zero: the token endpoint refuses with this status */
	int delete_status;   /* non-zero: DELETE tokens/me answers this */
	int cc_refresh;      /* a refresh token with client-credentials tokens too */
} H;

static void handler(const ss_req *rq, ss_answer *an)
{
	char auth[256], want[128];
	int delay;

	pthread_mutex_lock(&hmu);
	delay = H.token_delay_ms;
	pthread_mutex_unlock(&hmu);
	if (strcmp(rq->method, "POST") == 0 && strcmp(rq->target, "/oauth/token") == 0) {
		int n, refresh = strstr(rq->body, "grant_type=client_credentials") == NULL || H.cc_refresh;
		if (delay) {
			struct timespec ts = { delay / 1000, (long)(delay % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&hmu);
		if (H.token_status) {
			ss_reply(an, H.token_status,
			         "{\"error\":\"invalid_grant\",\"description\":\"x\",\"error_description\":\"The refresh "
			         "token was revoked.\"}");
			pthread_mutex_unlock(&hmu);
			return;
		}
		n = ++H.next;
		snprintf(H.accepted, sizeof(H.accepted), "at-%d", n);
		pthread_mutex_unlock(&hmu);
		if (refresh)
			ss_reply(an, 200,
			         "{\"access_token\":\"at-%d\",\"token_type\":\"bearer\",\"expires_in\":3600,"
			         "\"refresh_token\":\"rt-%d\"}",
			         n, n);
		else
			ss_reply(an, 200, "{\"access_token\":\"at-%d\",\"token_type\":\"bearer\",\"expires_in\":3600}", n);
		return;
	}
	if (strcmp(rq->target, "/api/v2/tokens/me") == 0) {
		int ok;
		pthread_mutex_lock(&hmu);
		snprintf(want, sizeof(want), "Bearer %s", H.accepted);
		ok = H.accepted[0] && ss_header_of(rq, "Authorization", auth, sizeof(auth)) && strcmp(auth, want) == 0;
		if (strcmp(rq->method, "DELETE") == 0 && H.delete_status) {
			ss_reply(an, H.delete_status, "{\"code\":\"internal.server.error\",\"message\":\"boom\",\"status\":%d}",
			         H.delete_status);
		} else if (!ok) {
			ss_reply(an, 401, "{\"code\":\"credentials.expired\",\"message\":\"Token expired\",\"status\":401}");
		} else if (strcmp(rq->method, "DELETE") == 0) {
			H.accepted[0] = '\0'; /* revoked */
			ss_reply(an, 200, "%s", "");
		} else {
			ss_reply(an, 200, "{\"organization\":{\"id\":\"o1\",\"name\":\"Org\"}}");
		}
		pthread_mutex_unlock(&hmu);
		return;
	}
	ss_reply(an, 404, "{\"code\":\"not.found\",\"message\":\"no\",\"status\":404}");
}

static void reset_server(const char *accepted)
{
	pthread_mutex_lock(&hmu);
	memset(&H, 0, sizeof(H));
	snprintf(H.accepted, sizeof(H.accepted), "%s", accepted ? accepted : "");
	pthread_mutex_unlock(&hmu);
	ss_clear_log();
	ss_set_handler(handler);
}

/* the token endpoint and DELETE tokens/me answer these statuses (0: as usual) */
static void server_fails(int token_status, int delete_status)
{
	pthread_mutex_lock(&hmu);
	H.token_status = token_status;
	H.delete_status = delete_status;
	pthread_mutex_unlock(&hmu);
}

static const char *accepted_now(void)
{
	static char copy[64];

	pthread_mutex_lock(&hmu);
	snprintf(copy, sizeof(copy), "%s", H.accepted);
	pthread_mutex_unlock(&hmu);
	return copy;
}

/* POSTs to /oauth/token whose form has grant_type=<grant> */
static int token_requests(const char *grant)
{
	char want[64];
	int i, n = 0;

	snprintf(want, sizeof(want), "grant_type=%s", grant);
	for (i = 0; i < ss_log_count(); i++) {
		const ss_req *r = ss_log_at(i);
		if (strcmp(r->target, "/oauth/token") == 0 && strstr(r->body, want))
			n++;
	}
	return n;
}

static const ss_req *last_request(const char *method, const char *target)
{
	const ss_req *hit = NULL;
	int i;

	for (i = 0; i < ss_log_count(); i++) {
		const ss_req *r = ss_log_at(i);
		if (strcmp(r->method, method) == 0 && strcmp(r->target, target) == 0)
			hit = r;
	}
	return hit;
}

/* the decoded value of a form or query field, or NULL */
static const char *field(const char *body, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name), o = 0;
	const char *p = body;

	while (p && *p) {
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			for (p += n + 1; *p && *p != '&' && o + 1 < outlen; p++) {
				if (*p == '%' && p[1] && p[2]) {
					char hex[3] = { p[1], p[2], 0 };
					out[o++] = (char)strtol(hex, NULL, 16);
					p += 2;
				} else {
					out[o++] = *p == '+' ? ' ' : *p;
				}
			}
			out[o] = '\0';
			return out;
		}
		p = strpbrk(p, "&?");
		if (p)
			p++;
	}
	return NULL;
}

/* ---- fixtures ---- */

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	gcmsg_global_init();
	if (ss_start() < 0)
		return -1;
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", ss_port());
	snprintf(dir, sizeof(dir), "/tmp/gcmsg-test-login-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cache, sizeof(cache), "%s/store/tokens/DEFAULT.json", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	ss_stop();
	gcmsg_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int before(void **state)
{
	(void)state;
	unlink(cache);
	reset_server(NULL);
	return 0;
}

static gcmsg_retry_policy once = { .version = GCMSG_RETRY_POLICY_VERSION, .max_attempts = 1 };

static int new_client(gcmsg_client **c, const char *id, const char *secret, const char *api)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;

	o.api_url = api ? api : base;
	o.client_id = id;
	o.client_secret = secret;
	o.token_cache = cache;
	o.retry = &once;
	o.timeout_ms = 10000;
	return gcmsg_client_new(c, &o);
}

static void seed(gcmsg__token_kind kind, const char *client_id, const char *at, long long expires_in,
                 const char *rt, const char *url)
{
	gcmsg__token_entry e;
	gcmsg__err err;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.login_url = (char *)(url ? url : base);
	e.api_url = (char *)(url ? url : base);
	e.client_id = (char *)client_id;
	e.access_token = (char *)at;
	e.expires_at = gcmsg__wall_now() + expires_in;
	e.lifetime = 3600;
	e.refresh_token = (char *)rt;
	gcmsg__err_init(&err);
	if (gcmsg__token_cache_write(cache, &e, &err) != GCMSG_OK)
		fail_msg("seed: %s", err.pub.explanation);
	gcmsg__err_clear(&err);
}

static gcmsg__token_entry cached(void)
{
	gcmsg__token_entry e;
	gcmsg__err err;

	gcmsg__err_init(&err);
	if (gcmsg__token_cache_read(cache, &e, &err) != GCMSG_OK)
		fail_msg("cache: %s", err.pub.explanation ? err.pub.explanation : "?");
	gcmsg__err_clear(&err);
	return e;
}

static int get_me(gcmsg_client *c)
{
	return gcmsg__api(c, "GET", "/api/v2/tokens/me", NULL, 0, NULL, NULL);
}

static const char *explanation(gcmsg_client *c)
{
	const char *e = gcmsg_client_last_error(c)->explanation;
	return e ? e : "(null)";
}

static void expect_in(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("'%s' lacks '%s'", hay ? hay : "(null)", needle);
}

/* ---- which credentials ---- */

static void test_cache_login_used(void **state)
{
	gcmsg_client *c;
	const ss_req *r;
	char auth[128];

	(void)state;
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", 3600, "rt-0", NULL);
	reset_server("at-0");
	assert_int_equal(new_client(&c, NULL, NULL, NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	r = last_request("GET", "/api/v2/tokens/me");
	assert_non_null(r);
	assert_string_equal(ss_header_of(r, "Authorization", auth, sizeof(auth)), "Bearer at-0");
	assert_int_equal(token_requests(""), 0);
	gcmsg_client_free(c);

	/* a configured client id of that same login is fine; another one without a secret is not */
	assert_int_equal(new_client(&c, "pkce", NULL, NULL), GCMSG_OK);
	gcmsg_client_free(c);
	assert_int_equal(new_client(&c, "other", NULL, NULL), GCMSG_ECONFIG);
	expect_in(explanation(c), "made with OAuth client 'pkce', not the configured 'other'");
	gcmsg_client_free(c);
}

static void test_no_credentials(void **state)
{
	gcmsg_client *c;
	const gcmsg_error *e;

	(void)state;
	assert_int_equal(new_client(&c, NULL, NULL, NULL), GCMSG_ECONFIG);
	e = gcmsg_client_last_error(c);
	expect_in(e->explanation, "no credentials configured, and no login in");
	expect_in(e->explanation, cache);
	expect_in(e->fix, "gcmsg login");
	gcmsg_client_free(c);
	assert_int_equal(new_client(&c, "svc", NULL, NULL), GCMSG_ECONFIG);
	expect_in(explanation(c), "no client secret for OAuth client 'svc'");
	gcmsg_client_free(c);
	assert_int_equal(ss_log_count(), 0);
}

static void test_cache_other_url(void **state)
{
	gcmsg_client *c;

	(void)state;
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", 3600, "rt-0", "https://api.mypurecloud.de");
	assert_int_equal(new_client(&c, NULL, NULL, NULL), GCMSG_ECONFIG);
	expect_in(explanation(c), "was made against https://api.mypurecloud.de");
	gcmsg_client_free(c);
	assert_int_equal(ss_log_count(), 0);
}

static void test_corrupt_cache(void **state)
{
	gcmsg_client *c;
	FILE *f;

	(void)state;
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", 3600, "rt-0", NULL);
	f = fopen(cache, "w");
	assert_non_null(f);
	fputs("{\"gcmsgTokenCache\": 1, \"accessToken\": \"SECRET-at\"", f);
	fclose(f);
	/* needed: its error, naming the file, never its content */
	assert_int_equal(new_client(&c, NULL, NULL, NULL), GCMSG_ECONFIG);
	expect_in(explanation(c), cache);
	assert_null(strstr(explanation(c), "SECRET"));
	gcmsg_client_free(c);
	/* not needed (client credentials): left alone */
	reset_server(NULL);
	assert_int_equal(new_client(&c, "svc", "s3cret", NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	assert_int_equal(token_requests("client_credentials"), 1);
	gcmsg_client_free(c);
	/* and an unsafe one, needed: the fix is chmod */
	assert_int_equal(chmod(cache, 0644), 0);
	assert_int_equal(new_client(&c, NULL, NULL, NULL), GCMSG_ECONFIG);
	expect_in(gcmsg_client_last_error(c)->fix, "chmod 600");
	gcmsg_client_free(c);
}

static void test_access_token_wins(void **state)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_client *c;
	char auth[128];

	(void)state;
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", 3600, "rt-0", NULL);
	reset_server("given");
	o.api_url = base;
	o.access_token = "given";
	o.token_cache = cache;
	assert_int_equal(gcmsg_client_new(&c, &o), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	assert_string_equal(ss_header_of(last_request("GET", "/api/v2/tokens/me"), "Authorization", auth, sizeof(auth)),
	                    "Bearer given");
	gcmsg_client_free(c);
}

/* ---- renewal ---- */

static void test_refresh_before_expiry(void **state)
{
	gcmsg_client *c;
	gcmsg__token_entry e;
	const ss_req *r;
	char v[128];
	struct stat st;

	(void)state;
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", 30, "rt-0", NULL); /* within the 60 s margin */
	assert_int_equal(new_client(&c, NULL, NULL, NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	assert_int_equal(token_requests("refresh_token"), 1);
	r = last_request("POST", "/oauth/token");
	assert_string_equal(field(r->body, "refresh_token", v, sizeof(v)), "rt-0");
	assert_string_equal(field(r->body, "client_id", v, sizeof(v)), "pkce");
	assert_null(ss_header_of(r, "Authorization", v, sizeof(v))); /* a public client: no Basic */
	/* the renewed token (and the rotated refresh token) are saved, 0600 */
	e = cached();
	assert_int_equal(e.kind, GCMSG__TOKEN_USER);
	assert_string_equal(e.access_token, "at-1");
	assert_string_equal(e.refresh_token, "rt-1");
	assert_true(e.expires_at > gcmsg__wall_now() + 3500);
	gcmsg__token_entry_clear(&e);
	assert_int_equal(stat(cache, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* fresh now: no second renewal */
	assert_int_equal(get_me(c), GCMSG_OK);
	assert_int_equal(token_requests("refresh_token"), 1);
	gcmsg_client_free(c);
}

static void test_refresh_confidential(void **state)
{
	gcmsg_client *c;
	char v[128];

	(void)state;
	seed(GCMSG__TOKEN_USER, "conf", "at-0", -10, "rt-0", NULL);
	assert_int_equal(new_client(&c, "conf", "conf-secret", NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	assert_int_equal(token_requests("refresh_token"), 1);
	assert_int_equal(token_requests("client_credentials"), 0);
	/* Basic base64("conf:conf-secret") */
	assert_string_equal(ss_header_of(last_request("POST", "/oauth/token"), "Authorization", v, sizeof(v)),
	                    "Basic Y29uZjpjb25mLXNlY3JldA==");
	gcmsg_client_free(c);
}

static void test_refresh_on_401(void **state)
{
	gcmsg_client *c;

	(void)state;
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", 3600, "rt-0", NULL);
	reset_server("something-else"); /* at-0 looks fresh, but the server refuses it */
	assert_int_equal(new_client(&c, NULL, NULL, NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	assert_int_equal(token_requests("refresh_token"), 1);
	assert_int_equal(ss_count_method("GET"), 2);
	gcmsg_client_free(c);
}

static void test_renewal_fails(void **state)
{
	gcmsg_client *c;
	const gcmsg_error *e;

	(void)state;
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", -10, "rt-0", NULL);
	pthread_mutex_lock(&hmu);
	H.token_status = 400;
	pthread_mutex_unlock(&hmu);
	assert_int_equal(new_client(&c, NULL, NULL, NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_EAUTH);
	e = gcmsg_client_last_error(c);
	assert_string_equal(e->genesys_code, "invalid_grant");
	expect_in(e->message, "revoked");
	expect_in(e->explanation, "to renew the login of OAuth client 'pkce'");
	expect_in(e->fix, "gcmsg login");
	assert_int_equal(ss_count_method("GET"), 0);
	gcmsg_client_free(c);

	/* no refresh token at all */
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", -10, NULL, NULL);
	reset_server(NULL);
	assert_int_equal(new_client(&c, NULL, NULL, NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_EAUTH);
	expect_in(gcmsg_client_last_error(c)->fix, "gcmsg login");
	assert_int_equal(ss_log_count(), 0);
	gcmsg_client_free(c);
}

static void test_client_token_shared(void **state)
{
	gcmsg_client *c;
	gcmsg__token_entry e;
	char auth[64];

	(void)state;
	assert_int_equal(new_client(&c, "svc", "s3cret", NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	gcmsg_client_free(c);
	assert_int_equal(token_requests("client_credentials"), 1);
	e = cached();
	assert_int_equal(e.kind, GCMSG__TOKEN_CLIENT);
	assert_string_equal(e.client_id, "svc");
	assert_null(e.refresh_token);
	assert_int_equal(strlen(e.secret_check), 43);
	assert_null(strstr(e.secret_check, "s3cret"));
	gcmsg__token_entry_clear(&e);
	/* the next run reuses it */
	assert_int_equal(new_client(&c, "svc", "s3cret", NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	gcmsg_client_free(c);
	assert_int_equal(token_requests("client_credentials"), 1);
	assert_string_equal(ss_header_of(last_request("GET", "/api/v2/tokens/me"), "Authorization", auth, sizeof(auth)),
	                    "Bearer at-1");
	/* a wrong (or rotated) secret does not get the cached token: the login service decides */
	pthread_mutex_lock(&hmu);
	H.token_status = 401;
	pthread_mutex_unlock(&hmu);
	assert_int_equal(new_client(&c, "svc", "wrong-secret", NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_EAUTH);
	gcmsg_client_free(c);
	assert_int_equal(token_requests("client_credentials"), 2);
	e = cached();
	assert_string_equal(e.access_token, "at-1"); /* a refusal changes nothing */
	gcmsg__token_entry_clear(&e);
	pthread_mutex_lock(&hmu);
	H.token_status = 0;
	pthread_mutex_unlock(&hmu);
	/* another client's token is not taken: a token of its own, which replaces it */
	assert_int_equal(new_client(&c, "svc2", "s3cret", NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	gcmsg_client_free(c);
	assert_int_equal(token_requests("client_credentials"), 3);

	/* client credentials never replace a login (of another client) */
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", 3600, "rt-0", NULL);
	reset_server(NULL);
	assert_int_equal(new_client(&c, "svc", "s3cret", NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	gcmsg_client_free(c);
	assert_int_equal(token_requests("client_credentials"), 1);
	e = cached();
	assert_int_equal(e.kind, GCMSG__TOKEN_USER);
	assert_string_equal(e.access_token, "at-0");
	gcmsg__token_entry_clear(&e);
}

static void test_client_ignores_refresh_token(void **state)
{
	gcmsg_client *c;
	gcmsg__token_entry e;

	(void)state;
	pthread_mutex_lock(&hmu);
	H.cc_refresh = 1;
	pthread_mutex_unlock(&hmu);
	assert_int_equal(new_client(&c, "svc", "s3cret", NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	e = cached();
	assert_int_equal(e.kind, GCMSG__TOKEN_CLIENT);
	assert_null(e.refresh_token);
	gcmsg__token_entry_clear(&e);
	/* the next renewal is client credentials again, not a refresh */
	gcmsg__auth_invalidate(c);
	assert_int_equal(get_me(c), GCMSG_OK);
	assert_int_equal(token_requests("client_credentials"), 2);
	assert_int_equal(token_requests("refresh_token"), 0);
	gcmsg_client_free(c);
}

/* a cache below a regular file called name: its directory cannot be made (root ignores modes) */
static const char *unwritable_cache(const char *name)
{
	static char path[700];
	char blocker[600];
	FILE *f;

	snprintf(blocker, sizeof(blocker), "%s/%s", dir, name);
	f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/tokens/DEFAULT.json", blocker);
	return path;
}

static void test_client_unwritable_cache(void **state)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_client *c;

	(void)state;
	o.api_url = base;
	o.client_id = "svc";
	o.client_secret = "s3cret";
	o.token_cache = unwritable_cache("not-a-dir");
	o.retry = &once;
	assert_int_equal(gcmsg_client_new(&c, &o), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK); /* client credentials work without a cache */
	assert_int_equal(token_requests("client_credentials"), 1);
	gcmsg_client_free(c);
}

/* another process holds the cache lock too long: client credentials carry on without the cache */
static void test_client_lock_timeout(void **state)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_client *c;
	gcmsg__token_entry e;
	gcmsg__err err;
	int lock = -1;

	(void)state;
	gcmsg__err_init(&err);
	assert_int_equal(gcmsg__token_cache_lock(cache, 1000, &lock, &err), GCMSG_OK);
	o.api_url = base;
	o.client_id = "svc";
	o.client_secret = "s3cret";
	o.token_cache = cache;
	o.retry = &once;
	o.timeout_ms = 200;
	o.connect_timeout_ms = 200;
	assert_int_equal(gcmsg_client_new(&c, &o), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	assert_int_equal(token_requests("client_credentials"), 1);
	assert_int_equal(access(cache, F_OK), -1); /* not written without the lock */
	gcmsg__token_cache_unlock(lock);
	/* the cache is still this client's: the next renewal saves its token */
	gcmsg__auth_invalidate(c);
	assert_int_equal(get_me(c), GCMSG_OK);
	assert_int_equal(token_requests("client_credentials"), 2);
	e = cached();
	assert_int_equal(e.kind, GCMSG__TOKEN_CLIENT);
	assert_string_equal(e.access_token, "at-2");
	gcmsg__token_entry_clear(&e);
	gcmsg_client_free(c);
	gcmsg__err_clear(&err);
}

/* ---- single flight ---- */

static void test_two_processes_one_renewal(void **state)
{
	int ready[2], go[2], k, status;
	pid_t pid[2];
	char b[2];
	gcmsg__token_entry e;

	(void)state;
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", -10, "rt-0", NULL);
	pthread_mutex_lock(&hmu);
	H.token_delay_ms = 300; /* the first renewal is still under way when the second process wants one */
	pthread_mutex_unlock(&hmu);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	for (k = 0; k < 2; k++) {
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0) {
			gcmsg_client *c;
			char x;
			int rc;
			/* both hold the expired token before either renews */
			if (new_client(&c, NULL, NULL, NULL) != GCMSG_OK)
				_exit(10);
			if (write(ready[1], "r", 1) != 1 || read(go[0], &x, 1) != 1)
				_exit(11);
			rc = get_me(c);
			gcmsg_client_free(c);
			_exit(rc == GCMSG_OK ? 0 : 20);
		}
	}
	assert_int_equal(read(ready[0], b, 1), 1);
	assert_int_equal(read(ready[0], b + 1, 1), 1);
	assert_int_equal(write(go[1], "gg", 2), 2);
	for (k = 0; k < 2; k++) {
		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	/* exactly one token request reached the server; both used its token */
	assert_int_equal(token_requests(""), 1);
	assert_int_equal(ss_count_method("GET"), 2);
	e = cached();
	assert_string_equal(e.access_token, "at-1");
	gcmsg__token_entry_clear(&e);
}

static pthread_barrier_t barrier;

static void *renew_thread(void *arg)
{
	gcmsg_client *c;
	intptr_t rc;

	(void)arg;
	if (new_client(&c, NULL, NULL, NULL) != GCMSG_OK) {
		pthread_barrier_wait(&barrier);
		gcmsg_client_free(c);
		return (void *)(intptr_t)-100;
	}
	pthread_barrier_wait(&barrier);
	rc = get_me(c);
	gcmsg_client_free(c);
	return (void *)rc;
}

static void test_two_threads_one_renewal(void **state)
{
	pthread_t t[2];
	void *rv;
	int k;

	(void)state;
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", -10, "rt-0", NULL);
	pthread_mutex_lock(&hmu);
	H.token_delay_ms = 300;
	pthread_mutex_unlock(&hmu);
	assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
	for (k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&t[k], NULL, renew_thread, NULL), 0);
	for (k = 0; k < 2; k++) {
		assert_int_equal(pthread_join(t[k], &rv), 0);
		assert_int_equal((intptr_t)rv, GCMSG_OK);
	}
	pthread_barrier_destroy(&barrier);
	assert_int_equal(token_requests(""), 1);
}

/* ---- login with a fake browser ---- */

enum { B_GOOD, B_BAD_STATE, B_NO_STATE, B_FORGED_ERROR, B_FORGED_ONLY, B_ERROR, B_NONE, B_STRAY, B_IDLE_FLOOD };

#define IDLE_FLOOD 20 /* idle connections, more than the listener has slots */

typedef struct browser {
	int mode;
	char url[4096];
	int status;      /* of the callback's answer */
	char page[8192];
	int forged_status; /* of a forged callback's answer (B_BAD_STATE, B_NO_STATE, B_FORGED_*) */
	char forged_page[4096];
	int stray_404, stray_431;
	pthread_t th;
	int started;
} browser;

/* One HTTP exchange with the loopback listener: send `req`, read the whole answer. */
static int http_once(int port, const char *req, size_t len, char *page, size_t pagelen)
{
	struct sockaddr_in a;
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
	size_t got = 0;
	ssize_t n;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	while (got + 1 < pagelen && (n = recv(fd, page + got, pagelen - 1 - got, 0)) > 0)
		got += (size_t)n;
	page[got] = '\0';
	close(fd);
	if (sscanf(page, "HTTP/1.1 %d", &status) != 1)
		status = -1;
	return status;
}

static int idle_connection(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *browse(void *arg)
{
	browser *b = arg;
	char redirect[256], state[300], target[1024], req[2048], scratch[4096];
	int port = 0, idle = -1, flood[IDLE_FLOOD], k;

	if (!field(b->url, "redirect_uri", redirect, sizeof(redirect)) || !field(b->url, "state", state, sizeof(state)) ||
	    sscanf(redirect, "http://127.0.0.1:%d/callback", &port) != 1)
		return NULL;
	if (b->mode == B_STRAY) {
		/* a speculative connection that sends nothing, a favicon, an oversized head */
		static char big[9500];
		idle = idle_connection(port);
		snprintf(req, sizeof(req), "GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
		b->stray_404 = http_once(port, req, strlen(req), scratch, sizeof(scratch));
		memset(big, 'a', sizeof(big));
		memcpy(big, "GET /callback?x=1 HTTP/1.1\r\nX-Big: ", 35);
		b->stray_431 = http_once(port, big, sizeof(big), scratch, sizeof(scratch));
	}
	if (b->mode == B_BAD_STATE || b->mode == B_NO_STATE || b->mode == B_FORGED_ERROR || b->mode == B_FORGED_ONLY) {
		/* a local process or a web page that found the port, before the real redirect (or instead of it) */
		if (b->mode == B_NO_STATE)
			snprintf(target, sizeof(target), "/callback?code=FORGED");
		else if (b->mode == B_FORGED_ERROR)
			snprintf(target, sizeof(target), "/callback?error=access_denied&state=not-%s", state);
		else
			snprintf(target, sizeof(target), "/callback?code=FORGED&state=not-%s", state);
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", target, port);
		b->forged_status = http_once(port, req, strlen(req), b->forged_page, sizeof(b->forged_page));
		if (b->mode == B_FORGED_ONLY)
			return NULL;
	}
	for (k = 0; k < IDLE_FLOOD; k++)
		flood[k] = b->mode == B_IDLE_FLOOD ? idle_connection(port) : -1;
	switch (b->mode) {
	case B_ERROR:
		snprintf(target, sizeof(target),
		         "/callback?error=access_denied&error_description=The+user+said+%%3Cno%%3E%%0A&state=%s", state);
		break;
	default: snprintf(target, sizeof(target), "/callback?code=CODE-1%%2Bx&state=%s&session_state=s", state); break;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/html\r\n\r\n", target, port);
	b->status = http_once(port, req, strlen(req), b->page, sizeof(b->page));
	if (idle >= 0)
		close(idle);
	for (k = 0; k < IDLE_FLOOD; k++)
		if (flood[k] >= 0)
			close(flood[k]);
	return NULL;
}

static void on_url(const char *url, void *payload)
{
	browser *b = payload;

	snprintf(b->url, sizeof(b->url), "%s", url);
	if (b->mode != B_NONE && pthread_create(&b->th, NULL, browse, b) == 0)
		b->started = 1;
}

/* gcmsg_login with a fake browser in this mode (b is reset and filled), saving to path */
static int login_to(gcmsg_client **c, browser *b, int mode, const char *secret, int port, long timeout_ms,
                    const char *path)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_login_options lo = GCMSG_LOGIN_OPTIONS_INIT;
	int rc;

	memset(b, 0, sizeof(*b));
	b->mode = mode;
	o.api_url = base;
	o.token_cache = path;
	o.retry = &once;
	lo.client_id = "pkce";
	lo.client_secret = secret;
	lo.port = port;
	lo.timeout_ms = timeout_ms;
	lo.on_url = on_url;
	lo.payload = b;
	rc = gcmsg_login(c, &o, &lo);
	if (b->started)
		pthread_join(b->th, NULL);
	return rc;
}

/* the same with the public client, any port and the usual cache */
static int login(gcmsg_client **c, browser *b, int mode, long timeout_ms)
{
	return login_to(c, b, mode, NULL, 0, timeout_ms, cache);
}

static void test_login_good(void **state)
{
	browser b;
	gcmsg_client *c;
	gcmsg__token_entry e;
	const ss_req *r;
	char v[512], challenge[64], redirect[128], want[160];
	unsigned char digest[GCMSG__SHA256_LEN];
	size_t i;
	struct stat st;

	(void)state;
	assert_int_equal(login(&c, &b, B_GOOD, 20000), GCMSG_OK);
	/* the authorize URL */
	snprintf(want, sizeof(want), "%s/oauth/authorize?response_type=code&client_id=pkce&", base);
	assert_true(strncmp(b.url, want, strlen(want)) == 0);
	assert_string_equal(field(b.url, "code_challenge_method", v, sizeof(v)), "S256");
	assert_non_null(field(b.url, "code_challenge", challenge, sizeof(challenge)));
	assert_int_equal(strlen(challenge), 43);
	assert_non_null(field(b.url, "redirect_uri", redirect, sizeof(redirect)));
	assert_true(strncmp(redirect, "http://127.0.0.1:", 17) == 0);
	assert_int_equal(strlen(field(b.url, "state", v, sizeof(v))), 32);
	/* the browser got the success page */
	assert_int_equal(b.status, 200);
	expect_in(b.page, "Logged in");
	/* the code exchange: PKCE, public client */
	r = last_request("POST", "/oauth/token");
	assert_non_null(r);
	assert_string_equal(field(r->body, "grant_type", v, sizeof(v)), "authorization_code");
	assert_string_equal(field(r->body, "code", v, sizeof(v)), "CODE-1+x");
	assert_string_equal(field(r->body, "redirect_uri", v, sizeof(v)), redirect);
	assert_string_equal(field(r->body, "client_id", v, sizeof(v)), "pkce");
	assert_non_null(field(r->body, "code_verifier", v, sizeof(v)));
	assert_true(strlen(v) >= 43 && strlen(v) <= 128);
	for (i = 0; v[i]; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", v[i]));
	gcmsg__sha256(v, strlen(v), digest);
	gcmsg__base64url(digest, sizeof(digest), v);
	assert_string_equal(v, challenge);
	assert_null(ss_header_of(r, "Authorization", v, sizeof(v)));
	/* saved */
	e = cached();
	assert_int_equal(e.kind, GCMSG__TOKEN_USER);
	assert_string_equal(e.client_id, "pkce");
	assert_string_equal(e.access_token, "at-1");
	assert_string_equal(e.refresh_token, "rt-1");
	assert_string_equal(e.api_url, base);
	gcmsg__token_entry_clear(&e);
	assert_int_equal(stat(cache, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* the client holds the login */
	assert_int_equal(get_me(c), GCMSG_OK);
	assert_int_equal(token_requests(""), 1);
	gcmsg_client_free(c);
	/* and a new client finds it */
	assert_int_equal(new_client(&c, NULL, NULL, NULL), GCMSG_OK);
	assert_int_equal(get_me(c), GCMSG_OK);
	gcmsg_client_free(c);
	assert_int_equal(token_requests(""), 1);
}

static void test_login_confidential_fixed_port(void **state)
{
	browser b;
	gcmsg_client *c;
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	char v[256], want[64];
	int fd, port;

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	port = ntohs(a.sin_port);
	close(fd);
	assert_int_equal(login_to(&c, &b, B_GOOD, "conf-secret", port, 20000, cache), GCMSG_OK);
	snprintf(want, sizeof(want), "http://127.0.0.1:%d/callback", port);
	assert_string_equal(field(b.url, "redirect_uri", v, sizeof(v)), want);
	assert_string_equal(ss_header_of(last_request("POST", "/oauth/token"), "Authorization", v, sizeof(v)),
	                    "Basic cGtjZTpjb25mLXNlY3JldA==");
	gcmsg_client_free(c);
}

/* a callback with a wrong or missing state gets a 400 and the wait goes on: the real redirect still logs in */
static void test_login_forged_redirects(void **state)
{
	browser b;
	gcmsg_client *c;
	gcmsg__token_entry e;
	const ss_req *r;
	char v[64];
	int mode;

	(void)state;
	for (mode = B_BAD_STATE; mode <= B_FORGED_ERROR; mode++) {
		unlink(cache);
		reset_server(NULL);
		assert_int_equal(login(&c, &b, mode, 20000), GCMSG_OK);
		assert_int_equal(b.forged_status, 400);
		expect_in(b.forged_page, "Not this login");
		assert_int_equal(b.status, 200);
		expect_in(b.page, "Logged in");
		/* only the real code was exchanged */
		assert_int_equal(token_requests(""), 1);
		r = last_request("POST", "/oauth/token");
		assert_string_equal(field(r->body, "code", v, sizeof(v)), "CODE-1+x");
		e = cached();
		assert_string_equal(e.access_token, "at-1");
		gcmsg__token_entry_clear(&e);
		gcmsg_client_free(c);
	}
}

/* more idle connections than slots: the redirect still gets in at once (the oldest make room) */
static void test_login_idle_flood(void **state)
{
	browser b;
	gcmsg_client *c;
	double t0 = gcmsg__now();

	(void)state;
	assert_int_equal(login(&c, &b, B_IDLE_FLOOD, 5000), GCMSG_OK);
	assert_int_equal(b.status, 200);
	assert_true(gcmsg__now() - t0 < 4.0);
	gcmsg_client_free(c);
}

/* a cache that cannot be written is found before the browser is sent anywhere: no code is spent */
static void test_login_unwritable_cache(void **state)
{
	browser b;
	gcmsg_client *c;

	(void)state;
	assert_int_equal(login_to(&c, &b, B_GOOD, NULL, 0, 20000, unwritable_cache("login-blocker")), GCMSG_ECONFIG);
	expect_in(explanation(c), "cannot create the token cache directory");
	expect_in(gcmsg_client_last_error(c)->fix, "writable");
	assert_false(b.started);
	assert_int_equal(b.url[0], '\0');
	assert_int_equal(ss_log_count(), 0);
	gcmsg_client_free(c);
}

static void test_login_error_redirect(void **state)
{
	browser b;
	gcmsg_client *c;
	const gcmsg_error *e;

	(void)state;
	assert_int_equal(login(&c, &b, B_ERROR, 20000), GCMSG_EAUTH);
	e = gcmsg_client_last_error(c);
	assert_string_equal(e->genesys_code, "access_denied");
	assert_string_equal(e->message, "The user said <no>?"); /* one line */
	expect_in(e->explanation, "the login was refused");
	expect_in(b.page, "Login failed");
	expect_in(b.page, "&lt;no&gt;"); /* escaped in the page */
	assert_int_equal(token_requests(""), 0);
	gcmsg_client_free(c);
}

static void test_login_timeout(void **state)
{
	browser b;
	gcmsg_client *c;
	double t0;

	(void)state;
	t0 = gcmsg__now();
	assert_int_equal(login(&c, &b, B_NONE, 300), GCMSG_EAUTH);
	assert_true(gcmsg__now() - t0 < 5.0);
	expect_in(explanation(c), "no browser came back");
	expect_in(gcmsg_client_last_error(c)->fix, "--timeout");
	assert_int_equal(ss_log_count(), 0);
	gcmsg_client_free(c);
	/* only forged callbacks: the login times out too, and says that it refused them */
	assert_int_equal(login(&c, &b, B_FORGED_ONLY, 1500), GCMSG_EAUTH);
	assert_int_equal(b.forged_status, 400);
	expect_in(explanation(c), "no browser came back to the login redirect within 2 s");
	expect_in(explanation(c), "1 redirect with a wrong or missing state refused");
	expect_in(gcmsg_client_last_error(c)->fix, "gcmsg login");
	assert_int_equal(ss_log_count(), 0);
	assert_int_equal(access(cache, F_OK), -1);
	gcmsg_client_free(c);
}

static void test_login_stray_requests(void **state)
{
	browser b;
	gcmsg_client *c;

	(void)state;
	assert_int_equal(login(&c, &b, B_STRAY, 20000), GCMSG_OK);
	assert_int_equal(b.stray_404, 404);
	assert_int_equal(b.stray_431, 431);
	assert_int_equal(b.status, 200);
	gcmsg_client_free(c);
}

static void test_login_code_refused(void **state)
{
	browser b;
	gcmsg_client *c;

	(void)state;
	server_fails(400, 0);
	assert_int_equal(login(&c, &b, B_GOOD, 20000), GCMSG_EAUTH);
	expect_in(explanation(c), "refused the authorization code");
	expect_in(gcmsg_client_last_error(c)->fix, "gcmsg login");
	expect_in(b.page, "Login failed");
	assert_int_equal(access(cache, F_OK), -1);
	gcmsg_client_free(c);
}

static void test_login_bad_options(void **state)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_login_options lo = GCMSG_LOGIN_OPTIONS_INIT;
	gcmsg_client *c;

	(void)state;
	o.api_url = base;
	lo.on_url = on_url;
	assert_int_equal(gcmsg_login(&c, &o, &lo), GCMSG_ECONFIG); /* no client id */
	gcmsg_client_free(c);
	lo.client_id = "pkce";
	lo.port = 70000;
	assert_int_equal(gcmsg_login(&c, &o, &lo), GCMSG_EUSAGE);
	gcmsg_client_free(c);
	lo.port = 0;
	lo.version = 99;
	assert_int_equal(gcmsg_login(&c, &o, &lo), GCMSG_EUSAGE);
	gcmsg_client_free(c);
	assert_int_equal(gcmsg_login(NULL, &o, &lo), GCMSG_EUSAGE);
}

/* ---- logout ---- */

static int logout_within(gcmsg_client **c, gcmsg_logout_outcome *out, const char *api, long timeout_ms)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;

	o.api_url = api ? api : base;
	o.token_cache = cache;
	o.retry = &once;
	o.timeout_ms = timeout_ms;
	o.connect_timeout_ms = timeout_ms;
	return gcmsg_logout(c, &o, out);
}

static int logout(gcmsg_client **c, gcmsg_logout_outcome *out, const char *api)
{
	return logout_within(c, out, api, 0);
}

static void test_logout(void **state)
{
	gcmsg_client *c;
	gcmsg_logout_outcome out;
	char auth[64];

	(void)state;
	/* revoked with the cached token, then removed */
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", 3600, "rt-0", NULL);
	reset_server("at-0");
	assert_int_equal(logout(&c, &out, NULL), GCMSG_OK);
	assert_int_equal(out, GCMSG_LOGOUT_REVOKED);
	assert_string_equal(ss_header_of(last_request("DELETE", "/api/v2/tokens/me"), "Authorization", auth, sizeof(auth)),
	                    "Bearer at-0");
	assert_string_equal(accepted_now(), "");
	assert_int_equal(access(cache, F_OK), -1);
	gcmsg_client_free(c);

	/* nothing to do */
	reset_server(NULL);
	assert_int_equal(logout(&c, &out, NULL), GCMSG_OK);
	assert_int_equal(out, GCMSG_LOGOUT_NOT_LOGGED_IN);
	assert_int_equal(ss_log_count(), 0);
	gcmsg_client_free(c);

	/* an expired login is renewed first, so that the login itself is revoked */
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", -10, "rt-0", NULL);
	reset_server(NULL);
	assert_int_equal(logout(&c, &out, NULL), GCMSG_OK);
	assert_int_equal(out, GCMSG_LOGOUT_REVOKED);
	assert_int_equal(token_requests("refresh_token"), 1);
	assert_string_equal(ss_header_of(last_request("DELETE", "/api/v2/tokens/me"), "Authorization", auth, sizeof(auth)),
	                    "Bearer at-1");
	assert_int_equal(access(cache, F_OK), -1);
	gcmsg_client_free(c);

	/* already refused, no way to renew: removed */
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", 3600, NULL, NULL);
	reset_server("other");
	assert_int_equal(logout(&c, &out, NULL), GCMSG_OK);
	assert_int_equal(out, GCMSG_LOGOUT_ALREADY_INVALID);
	assert_int_equal(access(cache, F_OK), -1);
	gcmsg_client_free(c);
}

static void test_logout_failures(void **state)
{
	gcmsg_client *c;
	gcmsg_logout_outcome out;
	gcmsg__err err;
	int k, lock = -1;
	FILE *f;
	/*
	 * The revocation fails: the server answers 5xx or refuses otherwise, cannot
	 * be reached, or an expired login's renewal fails (5xx). The login still
	 * works, so its only copy stays, and the error says so.
	 */
	static const struct {
		long long expires_in;
		const char *url;
		int token_status, delete_status;
	} kept[] = { { 3600, NULL, 0, 500 }, { 3600, NULL, 0, 503 }, { 3600, NULL, 0, 403 },
		     { 3600, "http://127.0.0.1:1", 0, 0 }, { -10, NULL, 503, 0 } };

	(void)state;
	for (k = 0; k < (int)(sizeof(kept) / sizeof(kept[0])); k++) {
		seed(GCMSG__TOKEN_USER, "pkce", "at-0", kept[k].expires_in, "rt-0", kept[k].url);
		reset_server("at-0");
		server_fails(kept[k].token_status, kept[k].delete_status);
		assert_int_equal(logout(&c, &out, kept[k].url), GCMSG_EREMOTE);
		expect_in(explanation(c), "could not revoke the login (");
		expect_in(explanation(c), "it is still valid");
		expect_in(explanation(c), cache);
		expect_in(gcmsg_client_last_error(c)->fix, "run 'gcmsg logout' again");
		assert_int_equal(access(cache, F_OK), 0);
		if (kept[k].token_status)
			assert_int_equal(ss_count_method("DELETE"), 0);
		gcmsg_client_free(c);
	}
	/* ... and the next logout, once the services answer, renews the kept login and revokes it */
	reset_server(NULL);
	assert_int_equal(logout(&c, &out, NULL), GCMSG_OK);
	assert_int_equal(out, GCMSG_LOGOUT_REVOKED);
	assert_int_equal(token_requests("refresh_token"), 1);
	assert_int_equal(access(cache, F_OK), -1);
	gcmsg_client_free(c);

	/* an expired login whose renewal waits for a lock another gcmsg holds: kept */
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", -10, "rt-0", NULL);
	gcmsg__err_init(&err);
	assert_int_equal(gcmsg__token_cache_lock(cache, 1000, &lock, &err), GCMSG_OK);
	reset_server(NULL);
	assert_int_equal(logout_within(&c, &out, NULL, 200), GCMSG_EAUTH);
	expect_in(explanation(c), "another gcmsg");
	expect_in(explanation(c), "it is still valid");
	assert_int_equal(access(cache, F_OK), 0);
	assert_int_equal(ss_log_count(), 0);
	gcmsg_client_free(c);
	gcmsg__token_cache_unlock(lock);
	gcmsg__err_clear(&err);

	/* ... whose renewal is refused (invalid_grant): nothing is left to revoke, removed */
	reset_server(NULL);
	server_fails(400, 0);
	assert_int_equal(logout(&c, &out, NULL), GCMSG_OK);
	assert_int_equal(out, GCMSG_LOGOUT_ALREADY_INVALID);
	assert_int_equal(access(cache, F_OK), -1);
	gcmsg_client_free(c);

	/* never sent to other URLs than its own */
	seed(GCMSG__TOKEN_USER, "pkce", "at-0", 3600, "rt-0", "https://api.mypurecloud.de");
	reset_server(NULL);
	assert_int_equal(logout(&c, &out, NULL), GCMSG_ECONFIG);
	expect_in(explanation(c), "sent nowhere else");
	assert_int_equal(ss_log_count(), 0);
	assert_int_equal(access(cache, F_OK), 0);
	gcmsg_client_free(c);

	/* a corrupt file stays, named */
	f = fopen(cache, "w");
	assert_non_null(f);
	fputs("garbage", f);
	fclose(f);
	assert_int_equal(logout(&c, &out, NULL), GCMSG_ECONFIG);
	expect_in(explanation(c), cache);
	assert_int_equal(access(cache, F_OK), 0);
	gcmsg_client_free(c);
}

/* ---- the callback parser ---- */

static void test_parse_request(void **state)
{
	static const struct {
		const char *req;
		gcmsg__cb_kind kind;
	} cases[] = {
		{ "GET /callback?code=a&state=xyz HTTP/1.1\r\nHost", GCMSG__CB_INCOMPLETE },
		{ "GET /callback?code=a&code=b HTTP/1.1\r\n\r\n", GCMSG__CB_BAD },
		{ "GET /callback?code=a%0d HTTP/1.1\r\n\r\n", GCMSG__CB_BAD },
		{ "GET /callback?code=a%zz HTTP/1.1\r\n\r\n", GCMSG__CB_BAD },
		{ "POST /callback?code=a HTTP/1.1\r\n\r\n", GCMSG__CB_BAD },
		{ "GET /callbackx?code=a HTTP/1.1\n\n", GCMSG__CB_OTHER },
		{ "GET http://evil/callback?code=a HTTP/1.1\r\n\r\n", GCMSG__CB_BAD },
	};
	gcmsg__login_callback cb;
	const char *s;
	size_t i;

	(void)state;
	s = "GET /callback?code=a%2Fb&state=xyz HTTP/1.1\r\nHost: x\r\n\r\n";
	gcmsg__login_parse_request(s, strlen(s), &cb);
	assert_int_equal(cb.kind, GCMSG__CB_CALLBACK);
	assert_string_equal(cb.code, "a/b");
	assert_string_equal(cb.state, "xyz");
	s = "GET /callback HTTP/1.0\r\n\r\n";
	gcmsg__login_parse_request(s, strlen(s), &cb);
	assert_int_equal(cb.kind, GCMSG__CB_CALLBACK);
	assert_false(cb.has_code || cb.has_state || cb.has_error);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gcmsg__login_parse_request(cases[i].req, strlen(cases[i].req), &cb);
		if (cb.kind != cases[i].kind)
			fail_msg("'%s': kind %d, not %d", cases[i].req, (int)cb.kind, (int)cases[i].kind);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cache_login_used, before),
		cmocka_unit_test_setup(test_no_credentials, before),
		cmocka_unit_test_setup(test_cache_other_url, before),
		cmocka_unit_test_setup(test_corrupt_cache, before),
		cmocka_unit_test_setup(test_access_token_wins, before),
		cmocka_unit_test_setup(test_refresh_before_expiry, before),
		cmocka_unit_test_setup(test_refresh_confidential, before),
		cmocka_unit_test_setup(test_refresh_on_401, before),
		cmocka_unit_test_setup(test_renewal_fails, before),
		cmocka_unit_test_setup(test_client_token_shared, before),
		cmocka_unit_test_setup(test_client_ignores_refresh_token, before),
		cmocka_unit_test_setup(test_client_unwritable_cache, before),
		cmocka_unit_test_setup(test_client_lock_timeout, before),
		cmocka_unit_test_setup(test_two_processes_one_renewal, before),
		cmocka_unit_test_setup(test_two_threads_one_renewal, before),
		cmocka_unit_test_setup(test_login_good, before),
		cmocka_unit_test_setup(test_login_confidential_fixed_port, before),
		cmocka_unit_test_setup(test_login_forged_redirects, before),
		cmocka_unit_test_setup(test_login_idle_flood, before),
		cmocka_unit_test_setup(test_login_unwritable_cache, before),
		cmocka_unit_test_setup(test_login_error_redirect, before),
		cmocka_unit_test_setup(test_login_timeout, before),
		cmocka_unit_test_setup(test_login_stray_requests, before),
		cmocka_unit_test_setup(test_login_code_refused, before),
		cmocka_unit_test_setup(test_login_bad_options, before),
		cmocka_unit_test_setup(test_logout, before),
		cmocka_unit_test_setup(test_logout_failures, before),
		cmocka_unit_test(test_parse_request),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
