/*
 * http.c - the one libcurl easy handle of a client. Every request starts from
 * curl_easy_reset (which keeps the live connection) and applies the same base
 * settings: timeouts, NOSIGNAL, error buffer, body caps, TLS verification on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"

void gcmsg__http_resp_init(gcmsg__http_resp *r)
{
	memset(r, 0, sizeof(*r));
	gcmsg__buf_init(&r->body, GCMSG__BODY_CAP);
	r->retry_after = -1;
}

void gcmsg__http_resp_dispose(gcmsg__http_resp *r)
{
	gcmsg__buf_dispose(&r->body);
}

void gcmsg__log(gcmsg_client *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!c->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->log(line, c->log_payload);
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	gcmsg__http_resp *r = userdata;
	size_t n = size * nmemb;

	if (gcmsg__buf_append(&r->body, ptr, n) < 0)
		return 0; /* over the cap: curl fails the transfer with CURLE_WRITE_ERROR */
	return n;
}

static void copy_value(char *dst, size_t dstlen, const char *v, size_t vlen)
{
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ' ||
	                v[vlen - 1] == '\t'))
		vlen--;
	if (vlen >= dstlen)
		vlen = dstlen - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	gcmsg__http_resp *r = userdata;
	size_t n = size * nitems, nl;
	const char *colon, *v;

	if (n > GCMSG__HEADER_CAP)
		return n; /* ignore oversized header lines */
	if (n > 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* a new response (e.g. after 100 Continue): forget the previous one's headers */
		r->correlation_id[0] = r->rl_count[0] = r->rl_allowed[0] = r->rl_reset[0] = '\0';
		r->retry_after = -1;
		return n;
	}
	colon = memchr(buf, ':', n);
	if (!colon)
		return n;
	nl = (size_t)(colon - buf);
	v = colon + 1;
	while (v < buf + n && (*v == ' ' || *v == '\t'))
		v++;
#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(buf, name, nl) == 0)
	if (IS("ININ-Correlation-Id"))
		copy_value(r->correlation_id, sizeof(r->correlation_id), v, (size_t)(buf + n - v));
	else if (IS("inin-ratelimit-count"))
		copy_value(r->rl_count, sizeof(r->rl_count), v, (size_t)(buf + n - v));
	else if (IS("inin-ratelimit-allowed"))
		copy_value(r->rl_allowed, sizeof(r->rl_allowed), v, (size_t)(buf + n - v));
	else if (IS("inin-ratelimit-reset"))
		copy_value(r->rl_reset, sizeof(r->rl_reset), v, (size_t)(buf + n - v));
	else if (IS("Retry-After")) {
		char tmp[32];
		char *end;
		long secs;
		copy_value(tmp, sizeof(tmp), v, (size_t)(buf + n - v));
		secs = strtol(tmp, &end, 10);
		if (end != tmp && *end == '\0' && secs >= 0)
			r->retry_after = secs;
	}
#undef IS
	return n;
}

static void wipe_slist(struct curl_slist *l)
{
	for (; l; l = l->next) {
		volatile char *p = l->data;
		while (p && *p)
			*p++ = 0;
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int gcmsg__http_perform(gcmsg_client *c, const gcmsg__http_req *req, gcmsg__http_resp *resp)
{
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL, *tmp;
	char *auth = NULL;
	CURLcode rc;
	double t0;
	int ok = 1;

	gcmsg__buf_clear(&resp->body);
	resp->status = 0;
	resp->correlation_id[0] = resp->rl_count[0] = resp->rl_allowed[0] = resp->rl_reset[0] = '\0';
	resp->retry_after = -1;

	curl_easy_reset(h);
	c->curl_errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)GCMSG__BODY_CAP);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L); /* always on: no switch exists */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "gcmsg/" GCMSG_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(h, CURLOPT_URL, req->url);

	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(req->method, "POST") == 0)
			curl_easy_setopt(h, CURLOPT_POST, 1L);
		else
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}

	tmp = curl_slist_append(hdrs, "Accept: application/json");
	ok = ok && tmp;
	hdrs = tmp ? tmp : hdrs;
	if (ok && req->content_type) {
		char *ct = gcmsg__asprintf("Content-Type: %s", req->content_type);
		tmp = ct ? curl_slist_append(hdrs, ct) : NULL;
		free(ct);
		ok = tmp != NULL;
		hdrs = tmp ? tmp : hdrs;
	} else if (ok && strcmp(req->method, "GET") != 0) {
		/* no body type: stop curl from adding a form content type */
		tmp = curl_slist_append(hdrs, "Content-Type:");
		ok = tmp != NULL;
		hdrs = tmp ? tmp : hdrs;
	}
	if (ok) {
		/* curl adds "Expect: 100-continue" to large POSTs; not needed here */
		tmp = curl_slist_append(hdrs, "Expect:");
		ok = tmp != NULL;
		hdrs = tmp ? tmp : hdrs;
	}
	if (ok && req->bearer) {
		auth = gcmsg__asprintf("Authorization: Bearer %s", req->bearer);
		tmp = auth ? curl_slist_append(hdrs, auth) : NULL;
		ok = tmp != NULL;
		hdrs = tmp ? tmp : hdrs;
	}
	if (ok && req->basic_user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, req->basic_user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, req->basic_pass ? req->basic_pass : "");
	}
	gcmsg__free_secret(auth);
	if (!ok) {
		wipe_slist(hdrs);
		curl_slist_free_all(hdrs);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory building a request");
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

	t0 = now_ms();
	rc = curl_easy_perform(h);
	/* drop every reference to secrets held in the handle's options */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_USERNAME, NULL);
	curl_easy_setopt(h, CURLOPT_PASSWORD, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	wipe_slist(hdrs);
	curl_slist_free_all(hdrs);

	if (rc != CURLE_OK) {
		const char *why = c->curl_errbuf[0] ? c->curl_errbuf : curl_easy_strerror(rc);
		if (rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED)
			why = "the answer is larger than the 4 MiB limit";
		gcmsg__log(c, "%s %s -> failed: %s", req->method, req->url, why);
		gcmsg__err_set(&c->err, GCMSG_EREMOTE, "%s %s failed: %s", req->method, req->url, why);
		if (rc == CURLE_SSL_CACERT || rc == CURLE_PEER_FAILED_VERIFICATION ||
		    rc == CURLE_SSL_CACERT_BADFILE)
			gcmsg__err_set_fix(&c->err, "check the server certificate, or give its CA with --cacert FILE");
		else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
		         rc == CURLE_OPERATION_TIMEDOUT)
			gcmsg__err_set_fix(&c->err, "check the region / --api-url and the network");
		return GCMSG_EREMOTE;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	gcmsg__log(c, "%s %s -> %ld (correlation id %s; ratelimit count %s allowed %s reset %s) %.0f ms",
	           req->method, req->url, resp->status,
	           resp->correlation_id[0] ? resp->correlation_id : "-",
	           resp->rl_count[0] ? resp->rl_count : "-", resp->rl_allowed[0] ? resp->rl_allowed : "-",
	           resp->rl_reset[0] ? resp->rl_reset : "-", now_ms() - t0);
	return GCMSG_OK;
}
