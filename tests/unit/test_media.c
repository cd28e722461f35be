/*
 * The media upload flow against a scripted HTTP server in a thread: the exact
 * uploads body and contentMd5, the PUT with exactly the uploadHeaders and never
 * Authorization, polling uploading -> valid, invalid, the bounded poll, refusals
 * before any request (route, file, policy), unsafe upload URLs and headers,
 * failing steps named, and the HTTP layer's rules for foreign URLs.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "route_fixture.h"
#include "internal.h"
#include "md5.h"
#include "scripted_server.h"

static gcmsg_client *client;
static gcmsg_identity *alice, *svc;
static char dir[256];

static int setup(void **state)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	char url[64];

	(void)state;
	gcmsg_global_init();
	if (ss_start() < 0)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ss_port());
	o.access_token = "test-token";
	o.api_url = url;
	if (gcmsg_client_new(&client, &o) != GCMSG_OK)
		return -1;
	alice = gcmsg__identity_new(GCMSG_CALLER_USER, "u1", "Alice", NULL, NULL, 0, 0);
	svc = gcmsg__identity_new(GCMSG_CALLER_CLIENT, NULL, NULL, "svc", NULL, 0, 0);
	snprintf(dir, sizeof(dir), "/tmp/gcmsg-test-media-XXXXXX");
	return alice && svc && mkdtemp(dir) ? 0 : -1;
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

static int before(void **state)
{
	(void)state;
	ss_clear_log();
	ss_set_handler(NULL);
	return 0;
}

static const char *explanation(void)
{
	const char *e = gcmsg_client_last_error(client)->explanation;
	return e ? e : "(null)";
}

static void expect_explanation(const char *want)
{
	if (!strstr(explanation(), want))
		fail_msg("explanation '%s' lacks '%s'", explanation(), want);
}

/* ---- fixtures ---- */

static const char webmsg[] =
	"{'id':'c1','participants':["
	"{'id':'p1','purpose':'customer','messages':[{'id':'m1','state':'connected','type':'webmessaging'}]},"
	"{'id':'p2','purpose':'agent','userId':'u1','queueId':'q1','messages':[{'id':'m2','state':'connected','type':'webmessaging'}]}]}";

#define API_BASE "/api/v2/conversations/messages/c1/communications/m2/messages/media"

/* a small PNG-looking file: signature, then bytes of every value */
static unsigned char png[300];

static const char *make_file(const char *name, const void *data, size_t len)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

static const char *png_file(void)
{
	size_t i;

	memcpy(png, "\x89PNG\r\n\x1A\n", 8);
	for (i = 8; i < sizeof(png); i++)
		png[i] = (unsigned char)(i * 31);
	png[100] = 0; /* a NUL in the body: the upload is binary-safe */
	return make_file("pic.png", png, sizeof(png));
}

static void png_md5(char out[GCMSG__MD5_BASE64_LEN + 1])
{
	unsigned char d[GCMSG__MD5_LEN];

	gcmsg__md5(png, sizeof(png), d);
	gcmsg__md5_base64(d, out);
}

/* ---- a scripted media service ---- */

static int polls_uploading;   /* how many polls answer "uploading" before the final status */
static const char *final_status = "valid";
static int put_status = 200;
static const char *upload_headers_json = "{\"Content-Type\":\"image/png\",\"x-amz-tagging\":\"gcmsg=1\"}";
static const char *upload_url_fmt = "http://127.0.0.1:%d/upload/me-1?X-Amz-Signature=s1gn&X-Amz-Credential=cr";
static const char *media_id = "me-1";
static int polls_seen;

static void media_handler(const ss_req *rq, ss_answer *an)
{
	if (strcmp(rq->method, "POST") == 0 && strcmp(rq->target, API_BASE "/uploads") == 0) {
		char url[256];
		snprintf(url, sizeof(url), upload_url_fmt, ss_port());
		ss_reply(an, 200, "{\"id\":\"%s\",\"name\":\"pic.png\",\"uploadUrl\":\"%s\",\"uploadHeaders\":%s}", media_id,
		         url, upload_headers_json);
	} else if (strcmp(rq->method, "PUT") == 0 && strncmp(rq->target, "/upload/", 8) == 0) {
		if (put_status == 403)
			ss_reply(an, 403, "<Error><Code>SignatureDoesNotMatch</Code><Message>The signature does "
			                  "not match</Message><StringToSign>AWS4-HMAC-SHA256 s3cr3t</StringToSign>"
			                  "<SignatureProvided>s1gn</SignatureProvided></Error>");
		else
			ss_reply(an, put_status, "%s", "");
	} else if (strcmp(rq->method, "GET") == 0 && strncmp(rq->target, API_BASE "/", strlen(API_BASE) + 1) == 0) {
		if (polls_seen++ < polls_uploading)
			ss_reply(an, 200, "{\"id\":\"%s\",\"status\":\"uploading\"}", media_id);
		else
			ss_reply(an, 200, "{\"id\":\"%s\",\"status\":\"%s\",\"url\":\"https://media.example/me-1\","
			                  "\"mediaType\":\"image/png\"}",
			         media_id, final_status);
	} else {
		ss_reply(an, 404, "{\"code\":\"not.found\",\"status\":404,\"message\":\"no such path\"}");
	}
}

static void script(int uploading, const char *status)
{
	polls_uploading = uploading;
	polls_seen = 0;
	final_status = status;
	put_status = 200;
	upload_headers_json = "{\"Content-Type\":\"image/png\",\"x-amz-tagging\":\"gcmsg=1\"}";
	upload_url_fmt = "http://127.0.0.1:%d/upload/me-1?X-Amz-Signature=s1gn&X-Amz-Credential=cr";
	media_id = "me-1";
	ss_set_handler(media_handler);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- tests ---- */

static void upload_valid_after_polling(void **state)
{
	gcmsg_route *r = route_for(webmsg, alice);
	gcmsg_media_options o = GCMSG_MEDIA_OPTIONS_INIT;
	gcmsg_media_file *m = NULL;
	const char *path = png_file();
	char md5[GCMSG__MD5_BASE64_LEN + 1], want[512], v[256];
	size_t i;

	(void)state;
	script(2, "valid");
	png_md5(md5);
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, &o), GCMSG_OK);
	assert_non_null(m);
	assert_string_equal(gcmsg_media_id(m), "me-1");
	assert_string_equal(gcmsg_media_file_name(m), "pic.png");
	assert_string_equal(gcmsg_media_mime_type(m), "image/png");
	assert_int_equal(gcmsg_media_size(m), sizeof(png));
	assert_string_equal(gcmsg_media_md5(m), md5);
	assert_string_equal(gcmsg_media_status(m), "valid");
	assert_string_equal(gcmsg_media_url(m), "https://media.example/me-1");

	/* on the wire: POST, PUT, three GETs */
	assert_int_equal(ss_log_count(), 5);
	assert_string_equal(ss_log_at(0)->method, "POST");
	assert_string_equal(ss_log_at(0)->target, API_BASE "/uploads");
	snprintf(want, sizeof(want), "{\"fileName\":\"pic.png\",\"contentLengthBytes\":%zu,\"contentMd5\":\"%s\"}",
	         sizeof(png), md5);
	assert_string_equal((const char *)ss_log_at(0)->body, want);
	assert_string_equal(ss_header_of(ss_log_at(0), "Authorization", v, sizeof(v)), "Bearer test-token");
	assert_string_equal(ss_header_of(ss_log_at(0), "Content-Type", v, sizeof(v)), "application/json");

	assert_string_equal(ss_log_at(1)->method, "PUT");
	assert_string_equal(ss_log_at(1)->target, "/upload/me-1?X-Amz-Signature=s1gn&X-Amz-Credential=cr");
	assert_int_equal(ss_log_at(1)->body_len, sizeof(png));
	assert_memory_equal(ss_log_at(1)->body, png, sizeof(png));
	assert_string_equal(ss_header_of(ss_log_at(1), "Content-Type", v, sizeof(v)), "image/png");
	assert_string_equal(ss_header_of(ss_log_at(1), "x-amz-tagging", v, sizeof(v)), "gcmsg=1");
	assert_null(ss_header_of(ss_log_at(1), "Authorization", v, sizeof(v)));
	assert_null(ss_ci_find(ss_log_at(1)->headers, "test-token"));
	assert_null(ss_header_of(ss_log_at(1), "Accept", v, sizeof(v)));
	assert_null(ss_header_of(ss_log_at(1), "Cookie", v, sizeof(v)));

	for (i = 2; i < 5; i++) {
		assert_string_equal(ss_log_at(i)->method, "GET");
		assert_string_equal(ss_log_at(i)->target, API_BASE "/me-1");
		assert_string_equal(ss_header_of(ss_log_at(i), "Authorization", v, sizeof(v)), "Bearer test-token");
	}

	/* the record: the same requests, the token and the signature redacted */
	assert_int_equal(gcmsg_media_request_count(m), 5);
	assert_string_equal(gcmsg_media_request_method(m, 0), "POST");
	snprintf(want, sizeof(want), "http://127.0.0.1:%d" API_BASE "/uploads", ss_port());
	assert_string_equal(gcmsg_media_request_url(m, 0), want);
	assert_string_equal(gcmsg_media_request_body(m, 0), (const char *)ss_log_at(0)->body);
	assert_string_equal(gcmsg_media_request_header(m, 0, 0), "Authorization: Bearer <redacted>");
	assert_string_equal(gcmsg_media_request_method(m, 1), "PUT");
	snprintf(want, sizeof(want), "http://127.0.0.1:%d/upload/me-1?<redacted>", ss_port());
	assert_string_equal(gcmsg_media_request_url(m, 1), want);
	assert_null(gcmsg_media_request_body(m, 1));
	for (i = 0; i < gcmsg_media_request_header_count(m, 1); i++)
		assert_null(ss_ci_find(gcmsg_media_request_header(m, 1, i), "Authorization"));
	assert_string_equal(gcmsg_media_request_header(m, 1, 0), "Content-Type: image/png");
	assert_string_equal(gcmsg_media_request_header(m, 1, 1), "x-amz-tagging: gcmsg=1");
	assert_string_equal(gcmsg_media_request_method(m, 4), "GET");
	assert_null(gcmsg_media_request_body(m, 4));
	assert_null(gcmsg_media_request_method(m, 5));
	assert_null(gcmsg_media_request_header(m, 1, 99));
	gcmsg_media_free(m);
	gcmsg_route_free(r);
}

static void dry_run_sends_nothing(void **state)
{
	gcmsg_route *r = route_for(webmsg, alice);
	gcmsg_media_options o = GCMSG_MEDIA_OPTIONS_INIT;
	gcmsg_media_file *m = NULL;
	const char *path = png_file();
	char md5[GCMSG__MD5_BASE64_LEN + 1], want[512];

	(void)state;
	script(0, "valid");
	o.dry_run = 1;
	png_md5(md5);
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, &o), GCMSG_OK);
	assert_int_equal(ss_log_count(), 0);
	assert_null(gcmsg_media_id(m));
	assert_string_equal(gcmsg_media_status(m), "unchecked");
	assert_null(gcmsg_media_url(m));
	assert_int_equal(gcmsg_media_request_count(m), 1);
	assert_string_equal(gcmsg_media_request_method(m, 0), "POST");
	snprintf(want, sizeof(want), "{\"fileName\":\"pic.png\",\"contentLengthBytes\":%zu,\"contentMd5\":\"%s\"}",
	         sizeof(png), md5);
	assert_string_equal(gcmsg_media_request_body(m, 0), want);
	gcmsg_media_free(m);
	gcmsg_route_free(r);
}

/* RFC 1864's form: base64 of the digest, checked against a known value */
static void content_md5_form(void **state)
{
	gcmsg_route *r = route_for(webmsg, alice);
	gcmsg_media_options o = GCMSG_MEDIA_OPTIONS_INIT;
	gcmsg_media_file *m = NULL;
	const char *path = make_file("hello.pdf", "%PDF-1.7\nhello\n", 15);

	(void)state;
	o.dry_run = 1;
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, &o), GCMSG_OK);
	/* base64 of md5("%PDF-1.7\nhello\n"), as python's hashlib and base64 give it */
	assert_string_equal(gcmsg_media_md5(m), "QJ28SxDYf7U/TTtrnKxbOg==");
	assert_string_equal(gcmsg_media_mime_type(m), "application/pdf");
	assert_string_equal(gcmsg_media_file_name(m), "hello.pdf");
	assert_int_equal(gcmsg_media_size(m), 15);
	gcmsg_media_free(m);
	gcmsg_route_free(r);
}

static void invalid_media(void **state)
{
	gcmsg_route *r = route_for(webmsg, alice);
	gcmsg_media_file *m = (gcmsg_media_file *)1;
	const char *path = png_file();

	(void)state;
	script(1, "invalid");
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EREMOTE);
	assert_null(m);
	expect_explanation("media me-1 became invalid");
	assert_int_equal(ss_count_method("GET"), 2);

	/* a status the model does not have */
	before(NULL);
	script(0, "weird");
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EREMOTE);
	expect_explanation("media me-1 has the unknown status \"weird\"");
	assert_int_equal(ss_count_method("GET"), 1);
	gcmsg_route_free(r);
}

/* Bounded: gives up at the deadline, with few polls (a backoff, no busy loop). */
static void poll_timeout(void **state)
{
	gcmsg_route *r = route_for(webmsg, alice);
	gcmsg_media_options o = GCMSG_MEDIA_OPTIONS_INIT;
	gcmsg_media_file *m = NULL;
	const char *path = png_file();
	double t0, took;

	(void)state;
	script(1000000, "valid");
	o.poll_timeout_ms = 700;
	t0 = now_s();
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, &o), GCMSG_EREMOTE);
	took = now_s() - t0;
	expect_explanation("media me-1 still uploading after 0.7 s");
	assert_true(took >= 0.7);
	assert_true(took < 2.0);
	/* waits of 100, 200, 400 ms and the rest: at most 5 polls */
	assert_true(ss_count_method("GET") >= 3);
	assert_true(ss_count_method("GET") <= 5);
	gcmsg_route_free(r);
}

static void upload_refused(void **state)
{
	gcmsg_route *r = route_for(webmsg, alice);
	gcmsg_media_file *m = NULL;
	const char *path = png_file();
	const gcmsg_error *e;

	(void)state;
	script(0, "valid");
	put_status = 403;
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EREMOTE);
	e = gcmsg_client_last_error(client);
	expect_explanation("the media upload was refused: PUT uploadUrl answered 403");
	assert_int_equal(e->http_status, 403);
	assert_non_null(e->message);
	assert_string_equal(e->message, "SignatureDoesNotMatch: The signature does not match");
	/* the signature never reaches an error message, nor what S3 echoes of the request */
	assert_null(strstr(explanation(), "s1gn"));
	assert_int_equal(ss_count_method("GET"), 0);
	gcmsg_route_free(r);
}

static void uploads_request_refused(void **state)
{
	gcmsg_route *r = route_for(
		"{'id':'c9','participants':["
		"{'id':'p2','purpose':'agent','userId':'u1','messages':[{'id':'m9','state':'connected','type':'webmessaging'}]}]}",
		alice);
	gcmsg_media_file *m = NULL;
	const char *path = png_file();

	(void)state;
	script(0, "valid"); /* answers 404 for this conversation's path */
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_ENOTFOUND);
	expect_explanation("the media upload could not start: POST /api/v2/conversations/messages/c9/communications/m9/"
	                   "messages/media/uploads answered 404");
	assert_int_equal(ss_log_count(), 1);
	gcmsg_route_free(r);
}

static void bad_upload_answers(void **state)
{
	gcmsg_route *r = route_for(webmsg, alice);
	gcmsg_media_file *m = NULL;
	const char *path = png_file();

	(void)state;
	/* the server asks for an Authorization header on the upload: refused, nothing PUT */
	script(0, "valid");
	upload_headers_json = "{\"authorization\":\"Bearer x\"}";
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EREMOTE);
	expect_explanation("uploadHeaders asks for an \"authorization\" header");
	assert_int_equal(ss_count_method("PUT"), 0);

	/* a header value with a line break (header injection) */
	before(NULL);
	script(0, "valid");
	upload_headers_json = "{\"X-A\":\"1\\r\\nAuthorization: Bearer x\"}";
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EREMOTE);
	expect_explanation("uploadHeaders holds an unusable header \"X-A\"");
	assert_int_equal(ss_count_method("PUT"), 0);

	/* a header name that is not a token */
	before(NULL);
	script(0, "valid");
	upload_headers_json = "{\"X A\":\"1\"}";
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EREMOTE);
	expect_explanation("uploadHeaders holds an unusable header \"X A\"");
	assert_int_equal(ss_count_method("PUT"), 0);

	/* a non-string header value */
	before(NULL);
	script(0, "valid");
	upload_headers_json = "{\"X-A\":1}";
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EREMOTE);
	assert_int_equal(ss_count_method("PUT"), 0);

	/* an upload URL of another scheme */
	before(NULL);
	script(0, "valid");
	upload_url_fmt = "ftp://127.0.0.1:%d/upload/me-1";
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EREMOTE);
	expect_explanation("refusing the uploadUrl ftp://127.0.0.1:");
	assert_int_equal(ss_count_method("PUT"), 0);

	/* the upload host cannot be reached: the step is named, the signature is not shown */
	before(NULL);
	script(0, "valid");
	upload_url_fmt = "http://127.0.0.1:1/upload/me-1?X-Amz-Signature=s1gn&p=%d";
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EREMOTE);
	expect_explanation("the media upload failed: PUT http://127.0.0.1:1/upload/me-1?<redacted> failed");
	assert_null(strstr(explanation(), "s1gn"));
	assert_int_equal(ss_count_method("GET"), 0);

	/* credentials in the upload URL: curl would send them, logs would show them */
	before(NULL);
	script(0, "valid");
	upload_url_fmt = "http://user:pw@127.0.0.1:%d/upload/me-1";
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EREMOTE);
	expect_explanation("refusing the uploadUrl: it carries a user name or password");
	assert_null(strstr(explanation(), "pw"));
	assert_int_equal(ss_count_method("PUT"), 0);

	/* no uploadUrl at all */
	before(NULL);
	script(0, "valid");
	upload_url_fmt = "";
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EREMOTE);
	expect_explanation("has no uploadUrl");
	assert_null(m);
	gcmsg_route_free(r);
}

/* An empty header value is sent empty (curl would drop "Name:"); an odd id is escaped in the poll path. */
static void empty_header_and_escaped_id(void **state)
{
	gcmsg_route *r = route_for(webmsg, alice);
	gcmsg_media_file *m = NULL;
	const char *path = png_file();
	char v[64];

	(void)state;
	script(0, "valid");
	upload_headers_json = "{\"X-Empty\":\"\",\"x-amz-security-token\":\"tok\"}";
	media_id = "a/b c";
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_OK);
	assert_int_equal(ss_log_count(), 3);
	assert_string_equal(ss_header_of(ss_log_at(1), "X-Empty", v, sizeof(v)), "");
	assert_string_equal(ss_header_of(ss_log_at(1), "x-amz-security-token", v, sizeof(v)), "tok");
	/* no Content-Type was asked for, and none of curl's is added */
	assert_null(ss_header_of(ss_log_at(1), "Content-Type", v, sizeof(v)));
	assert_string_equal(ss_log_at(2)->target, API_BASE "/a%2Fb%20c");
	/* the record masks the token-like header */
	assert_string_equal(gcmsg_media_request_header(m, 1, 1), "x-amz-security-token: <redacted>");
	gcmsg_media_free(m);
	gcmsg_route_free(r);
}

/* Only agent messaging: the other routes are refused before anything is read or sent. */
static void routes_refused(void **state)
{
	gcmsg_route *agentless = route_for(
		"{'id':'c2','participants':[{'id':'p1','purpose':'customer','messages':[{'id':'m1',"
		"'state':'connected','type':'sms','fromAddress':{'addressNormalized':'+15551230002'},"
		"'toAddress':{'addressNormalized':'+15550009999'}}]}]}",
		svc);
	gcmsg_route *chat = route_for(
		"{'id':'c3','participants':[{'id':'p1','purpose':'customer','chats':[{'id':'ch1','state':'connected'}]},"
		"{'id':'p2','purpose':'agent','userId':'u1','chats':[{'id':'ch2','state':'connected'}]}]}",
		alice);
	gcmsg_route *none = route_for(webmsg, svc);
	gcmsg_media_file *m = NULL;
	const char *path = png_file();

	(void)state;
	ss_set_handler(media_handler);
	assert_int_equal(gcmsg_media_upload(&m, client, agentless, path, NULL), GCMSG_EROUTE);
	assert_string_equal(gcmsg_client_last_error(client)->rule, "media.agent-only");
	expect_explanation("agentless");
	assert_int_equal(gcmsg_media_upload(&m, client, chat, path, NULL), GCMSG_EROUTE);
	assert_string_equal(gcmsg_client_last_error(client)->rule, "media.agent-only");
	expect_explanation("legacy-chat");
	assert_int_equal(gcmsg_media_upload(&m, client, none, path, NULL), GCMSG_EROUTE);
	assert_string_equal(gcmsg_client_last_error(client)->rule, "messaging.webmessaging-agentless");
	/* refused before the file is even looked at */
	assert_int_equal(gcmsg_media_upload(&m, client, chat, "/nonexistent/x.png", NULL), GCMSG_EROUTE);
	assert_null(m);
	assert_int_equal(ss_log_count(), 0);
	gcmsg_route_free(agentless);
	gcmsg_route_free(chat);
	gcmsg_route_free(none);
}

/* A type the default policy refuses: refused before any request. */
static void policy_refusal_first(void **state)
{
	gcmsg_route *r = route_for(webmsg, alice);
	gcmsg_media_file *m = NULL;
	unsigned char blob[64];
	const char *path;
	size_t i;

	(void)state;
	ss_set_handler(media_handler);
	for (i = 0; i < sizeof(blob); i++)
		blob[i] = (unsigned char)(0x80 + i); /* not UTF-8, no signature: unknown */
	path = make_file("blob.bin", blob, sizeof(blob));
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EPOLICY);
	assert_null(m);
	assert_non_null(gcmsg_client_last_error(client)->explanation);
	assert_int_equal(ss_log_count(), 0);

	/* a name Genesys refuses (whitespace) */
	path = make_file("my pic.png", png, sizeof(png));
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EPOLICY);
	assert_int_equal(ss_log_count(), 0);
	gcmsg_route_free(r);
}

/* A file over the policy's size limit is refused before it is read whole, and before any request. */
static void too_large(void **state)
{
	gcmsg_route *r = route_for(webmsg, alice);
	gcmsg_media_file *m = NULL;
	const char *path = png_file();
	int fd;

	(void)state;
	ss_set_handler(media_handler);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	/* sparse: 11 MiB over the 10 MiB default, the PNG signature first */
	assert_int_equal(ftruncate(fd, 11L * 1024 * 1024), 0);
	close(fd);
	assert_int_equal(gcmsg_media_upload(&m, client, r, path, NULL), GCMSG_EPOLICY);
	expect_explanation("attachment.size");
	assert_null(strstr(explanation(), "attachment.type")); /* the type was sniffed from the start */
	assert_null(m);
	assert_int_equal(ss_log_count(), 0);
	gcmsg_route_free(r);
}

static void file_problems(void **state)
{
	gcmsg_route *r = route_for(webmsg, alice);
	gcmsg_media_file *m = NULL;
	char fifo[512], sub[512], empty[512];
	gcmsg_media_options bad = GCMSG_MEDIA_OPTIONS_INIT;

	(void)state;
	ss_set_handler(media_handler);
	assert_int_equal(gcmsg_media_upload(&m, client, r, "/nonexistent/x.png", NULL), GCMSG_EUSAGE);
	expect_explanation("cannot read /nonexistent/x.png: No such file or directory");

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(gcmsg_media_upload(&m, client, r, sub, NULL), GCMSG_EUSAGE);
	expect_explanation("it is a directory");

	/* a FIFO without a writer: refused at once, never waited on */
	snprintf(fifo, sizeof(fifo), "%s/fifo.png", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(gcmsg_media_upload(&m, client, r, fifo, NULL), GCMSG_EUSAGE);
	expect_explanation("it is a FIFO");

	assert_int_equal(gcmsg_media_upload(&m, client, r, "/dev/null", NULL), GCMSG_EUSAGE);
	expect_explanation("it is a device");

	/* an empty file is the policy's to refuse (attachment.size) */
	snprintf(empty, sizeof(empty), "%s", make_file("empty.txt", "", 0));
	assert_int_equal(gcmsg_media_upload(&m, client, r, empty, NULL), GCMSG_EPOLICY);
	expect_explanation("attachment.");

	/* bad calls */
	assert_int_equal(gcmsg_media_upload(&m, client, r, NULL, NULL), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_media_upload(NULL, client, r, empty, NULL), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_media_upload(&m, NULL, r, empty, NULL), GCMSG_EUSAGE);
	bad.version = 99;
	assert_int_equal(gcmsg_media_upload(&m, client, r, empty, &bad), GCMSG_EUSAGE);
	expect_explanation("unknown gcmsg_media_options version 99");
	assert_null(m);
	assert_int_equal(ss_log_count(), 0);
	gcmsg_media_free(NULL);
	assert_null(gcmsg_media_id(NULL));
	assert_int_equal(gcmsg_media_request_count(NULL), 0);
	gcmsg_route_free(r);
}

/* ---- the HTTP layer's foreign calls ---- */

static void foreign_needs_https_when_the_api_is_https(void **state)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_client *https_client = NULL;
	gcmsg__http_resp resp;
	char url[128];

	(void)state;
	ss_set_handler(media_handler);
	o.access_token = "test-token";
	o.api_url = "https://api.example.invalid";
	assert_int_equal(gcmsg_client_new(&https_client, &o), GCMSG_OK);
	gcmsg__http_resp_init(&resp);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/upload/x?sig=secret", ss_port());
	assert_int_equal(gcmsg__http_foreign(https_client, "uploadUrl", "PUT", url, NULL, 0, "x", 1, 0, &resp),
	                 GCMSG_EREMOTE);
	assert_non_null(strstr(gcmsg_client_last_error(https_client)->explanation,
	                       "refusing the uploadUrl http://127.0.0.1:"));
	assert_non_null(strstr(gcmsg_client_last_error(https_client)->explanation, "plain http, while the API is https"));
	assert_null(strstr(gcmsg_client_last_error(https_client)->explanation, "secret"));
	assert_int_equal(ss_log_count(), 0);
	/* with an http API (a local gcsim), http is fine */
	assert_int_equal(gcmsg__http_foreign(client, "uploadUrl", "PUT", url, NULL, 0, "x", 1, 0, &resp), GCMSG_OK);
	assert_int_equal(ss_log_count(), 1);
	gcmsg__http_resp_dispose(&resp);
	gcmsg_client_free(https_client);
}

static void foreign_refuses_credentials(void **state)
{
	gcmsg__http_resp resp;
	gcmsg__http_req hr;
	char url[128];
	const char *auth[] = { "authorization: Bearer x" }, *crlf[] = { "X-A: 1\r\nX-B: 2" }, *noname[] = { ": v" };

	(void)state;
	ss_set_handler(media_handler);
	gcmsg__http_resp_init(&resp);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/upload/x", ss_port());
	memset(&hr, 0, sizeof(hr));
	hr.method = "PUT";
	hr.url = url;
	hr.flags = GCMSG__HTTP_FOREIGN;
	hr.bearer = "test-token";
	assert_int_equal(gcmsg__http_perform(client, &hr, &resp), GCMSG_EUSAGE);
	hr.bearer = NULL;
	hr.headers = auth;
	hr.nheaders = 1;
	assert_int_equal(gcmsg__http_perform(client, &hr, &resp), GCMSG_EUSAGE);
	assert_int_equal(gcmsg__http_foreign(client, "uploadUrl", "PUT", url, auth, 1, NULL, 0, 0, &resp), GCMSG_EUSAGE);
	/* any request: a header must be one "Name: value" line */
	hr.flags = 0;
	hr.headers = crlf;
	assert_int_equal(gcmsg__http_perform(client, &hr, &resp), GCMSG_EUSAGE);
	hr.headers = noname;
	assert_int_equal(gcmsg__http_perform(client, &hr, &resp), GCMSG_EUSAGE);
	assert_int_equal(ss_log_count(), 0);
	gcmsg__http_resp_dispose(&resp);
}

static void url_redaction(void **state)
{
	char *s;

	(void)state;
	s = gcmsg__url_redacted("https://s3.example/b/k?X-Amz-Signature=abc");
	assert_string_equal(s, "https://s3.example/b/k?<redacted>");
	free(s);
	s = gcmsg__url_redacted("https://s3.example/b/k#frag");
	assert_string_equal(s, "https://s3.example/b/k?<redacted>");
	free(s);
	s = gcmsg__url_redacted("https://s3.example/b/k");
	assert_string_equal(s, "https://s3.example/b/k");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(upload_valid_after_polling, before),
		cmocka_unit_test_setup(dry_run_sends_nothing, before),
		cmocka_unit_test_setup(content_md5_form, before),
		cmocka_unit_test_setup(invalid_media, before),
		cmocka_unit_test_setup(poll_timeout, before),
		cmocka_unit_test_setup(upload_refused, before),
		cmocka_unit_test_setup(uploads_request_refused, before),
		cmocka_unit_test_setup(bad_upload_answers, before),
		cmocka_unit_test_setup(empty_header_and_escaped_id, before),
		cmocka_unit_test_setup(routes_refused, before),
		cmocka_unit_test_setup(policy_refusal_first, before),
		cmocka_unit_test_setup(too_large, before),
		cmocka_unit_test_setup(file_problems, before),
		cmocka_unit_test_setup(foreign_needs_https_when_the_api_is_https, before),
		cmocka_unit_test_setup(foreign_refuses_credentials, before),
		cmocka_unit_test_setup(url_redaction, before),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
