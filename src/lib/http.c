/*
 * http.c - the one libcurl easy handle of a client. Every request starts from
 * curl_easy_reset (which keeps the live connection) and applies the same base
 * settings: timeouts, NOSIGNAL, error buffer, body caps, TLS verification on.
 */
#include <errno.h>
#include <limits.h>
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
	r->date_ms = -1;
	r->retry_after_date_ms = -1;
}

/* ---- HTTP-dates (RFC 9110 §5.6.7) ---- */

long long gcmsg__days_from_civil(long long y, int m, int d)
{
	/* H. Hinnant's days_from_civil */
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int num(const char **p, int ndig, int *out)
{
	int v = 0, i;

	for (i = 0; i < ndig; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += ndig;
	*out = v;
	return 0;
}

static int month_of(const char **p)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int i;

	for (i = 0; i < 12; i++)
		if (strncmp(*p, names + 3 * i, 3) == 0) {
			*p += 3;
			return i + 1;
		}
	return -1;
}

static int lit(const char **p, const char *l)
{
	size_t n = strlen(l);

	if (strncmp(*p, l, n) != 0)
		return -1;
	*p += n;
	return 0;
}

/* "HH:MM:SS" */
static int hms(const char **p, int *h, int *mi, int *sec)
{
	return num(p, 2, h) || lit(p, ":") || num(p, 2, mi) || lit(p, ":") || num(p, 2, sec) ? -1 : 0;
}

long long gcmsg__http_date_ms(const char *s)
{
	const char *p = s;
	int y = 0, mo, d, h, mi, sec;

	if (!s)
		return -1;
	while (*p >= 'A' && *p <= 'z' && ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
		p++; /* the day name: not checked against the date */
	if (p == s)
		return -1;
	if (*p == ',' && p - s == 3) {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		p++;
		if (lit(&p, " ") || num(&p, 2, &d) || lit(&p, " ") || (mo = month_of(&p)) < 0 || lit(&p, " ") ||
		    num(&p, 4, &y) || lit(&p, " ") || hms(&p, &h, &mi, &sec) || lit(&p, " GMT"))
			return -1;
	} else if (*p == ',') {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year more than 50 years ahead is in the past */
		int yy;
		p++;
		if (lit(&p, " ") || num(&p, 2, &d) || lit(&p, "-") || (mo = month_of(&p)) < 0 || lit(&p, "-") ||
		    num(&p, 2, &yy) || lit(&p, " ") || hms(&p, &h, &mi, &sec) || lit(&p, " GMT"))
			return -1;
		{
			time_t now = time(NULL);
			struct tm tm;
			int cy = gmtime_r(&now, &tm) ? tm.tm_year + 1900 : 2000;
			y = cy - cy % 100 + yy;
			if (y > cy + 50)
				y -= 100;
		}
	} else if (*p == ' ' && p - s == 3) {
		/* asctime: "Sun Nov  6 08:49:37 1994" */
		p++;
		if ((mo = month_of(&p)) < 0 || lit(&p, " "))
			return -1;
		if (*p == ' ') {
			p++;
			if (num(&p, 1, &d))
				return -1;
		} else if (num(&p, 2, &d)) {
			return -1;
		}
		if (lit(&p, " ") || hms(&p, &h, &mi, &sec) || lit(&p, " ") || num(&p, 4, &y))
			return -1;
	} else {
		return -1;
	}
	if (*p || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	return ((gcmsg__days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + sec)) * 1000LL;
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
		r->date_ms = -1;
		r->retry_after_date_ms = -1;
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
		/* delay-seconds, or an HTTP-date (turned into seconds once the answer is in: see retry_after_of) */
		char tmp[64];
		char *end;
		long secs;
		copy_value(tmp, sizeof(tmp), v, (size_t)(buf + n - v));
		errno = 0;
		secs = tmp[0] >= '0' && tmp[0] <= '9' ? strtol(tmp, &end, 10) : -1;
		if (secs >= 0 && *end == '\0')
			r->retry_after = errno == ERANGE ? LONG_MAX : secs;
		else
			r->retry_after_date_ms = gcmsg__http_date_ms(tmp);
	} else if (IS("Date")) {
		char tmp[64];
		copy_value(tmp, sizeof(tmp), v, (size_t)(buf + n - v));
		r->date_ms = gcmsg__http_date_ms(tmp);
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

static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A Retry-After given as an HTTP-date: the seconds from the answer's Date
 * (the server's own clock: our clock's skew does not matter), else from our
 * clock, rounded up; a date in the past is 0.
 */
static void retry_after_of(gcmsg__http_resp *r)
{
	long long from, d;

	if (r->retry_after >= 0 || r->retry_after_date_ms < 0)
		return;
	from = r->date_ms >= 0 ? r->date_ms : r->recv_wall_ms;
	d = r->retry_after_date_ms - from;
	d = d <= 0 ? 0 : (d + 999) / 1000;
	r->retry_after = d > LONG_MAX ? LONG_MAX : (long)d;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

char *gcmsg__url_redacted(const char *url)
{
	size_t n = strcspn(url, "?#");

	if (url[n] == '\0')
		return gcmsg__strdup(url);
	return gcmsg__asprintf("%.*s?<redacted>", (int)n, url);
}

int gcmsg__http_header_name_ok(const char *name, size_t len)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      (ch && strchr(tchar, ch))))
			return 0;
	}
	return len > 0;
}

/* "Name: value": a token name, a colon, no line break anywhere; *name_len set. */
static int header_ok(const char *line, size_t *name_len)
{
	size_t n = strcspn(line, ":");

	if (line[n] != ':' || !gcmsg__http_header_name_ok(line, n))
		return 0;
	*name_len = n;
	return strpbrk(line, "\r\n") == NULL;
}

static int header_is(const char *line, size_t name_len, const char *name)
{
	return name_len == strlen(name) && strncasecmp(line, name, name_len) == 0;
}

/* Does one of the extra headers set `name`? */
static int has_header(const gcmsg__http_req *req, const char *name)
{
	size_t i, nl;

	for (i = 0; i < req->nheaders; i++)
		if (header_ok(req->headers[i], &nl) && header_is(req->headers[i], nl, name))
			return 1;
	return 0;
}

static int check_headers(gcmsg_client *c, const gcmsg__http_req *req)
{
	size_t i, nl;

	if ((req->flags & GCMSG__HTTP_FOREIGN) && (req->bearer || req->basic_user))
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "credentials for a URL outside the API were refused");
	for (i = 0; i < req->nheaders; i++) {
		const char *line = req->headers[i];
		if (!line || !header_ok(line, &nl))
			return gcmsg__err_set(&c->err, GCMSG_EUSAGE,
			                      "request header %zu is not a single \"Name: value\" line", i + 1);
		if ((req->flags & GCMSG__HTTP_FOREIGN) &&
		    (header_is(line, nl, "Authorization") || header_is(line, nl, "Proxy-Authorization") ||
		     header_is(line, nl, "Cookie")))
			return gcmsg__err_set(&c->err, GCMSG_EUSAGE,
			                      "a %.*s header is never sent to a URL outside the API", (int)nl, line);
	}
	return GCMSG_OK;
}

static struct curl_slist *add_line(struct curl_slist *hdrs, const char *line, int *ok)
{
	struct curl_slist *tmp;

	if (!*ok)
		return hdrs;
	tmp = curl_slist_append(hdrs, line);
	*ok = tmp != NULL;
	return tmp ? tmp : hdrs;
}

/* An extra header as curl wants it: "Name;" sends an empty value ("Name:" would remove it). */
static struct curl_slist *add_extra(struct curl_slist *hdrs, const char *line, int *ok)
{
	size_t nl = strcspn(line, ":");
	const char *v = line + nl + 1;
	char *semi;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v)
		return add_line(hdrs, line, ok);
	semi = gcmsg__asprintf("%.*s;", (int)nl, line);
	if (!semi) {
		*ok = 0;
		return hdrs;
	}
	hdrs = add_line(hdrs, semi, ok);
	free(semi);
	return hdrs;
}

/*
 * After a failed transfer: could the request have reached the server? Not
 * when no connection was ever made (resolving, connecting or the TLS
 * handshake failed, or the connect phase timed out: curl had not begun the
 * transfer, CURLINFO_PRETRANSFER_TIME_T is still 0). Anything else (a timeout
 * while waiting for the answer, a reset, an empty reply, a failed send half
 * way) may follow the server acting on it.
 */
static int request_may_have_left(CURL *h, CURLcode rc)
{
	curl_off_t pretransfer = 0;

	switch (rc) {
	case CURLE_FAILED_INIT: /* the transfer never started (transport.c) */
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		if (curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer) == CURLE_OK && pretransfer == 0)
			return 0;
		return 1;
	default:
		return 1;
	}
}

/* A request body handed to libcurl once (see gcmsg__http_perform). */
typedef struct body_source {
	const char *p;
	size_t left;
} body_source;

static size_t body_read(char *buf, size_t size, size_t nitems, void *userdata)
{
	body_source *b = userdata;
	size_t n = size * nitems;

	if (n > b->left)
		n = b->left;
	if (n)
		memcpy(buf, b->p, n);
	b->p += n;
	b->left -= n;
	return n;
}

static int body_seek(void *userdata, curl_off_t offset, int origin)
{
	(void)userdata;
	(void)offset;
	(void)origin;
	return CURL_SEEKFUNC_FAIL; /* never send a body twice */
}

int gcmsg__http_perform(gcmsg_client *c, const gcmsg__http_req *req, gcmsg__http_resp *resp)
{
	CURL *h = c->curl;
	body_source body_src = {NULL, 0};
	struct curl_slist *hdrs = NULL;
	char *auth = NULL, *shown;
	const char *display = req->url;
	CURLcode rc;
	double t0;
	int ok = 1, foreign = (req->flags & GCMSG__HTTP_FOREIGN) != 0;
	size_t i;

	gcmsg__buf_clear(&resp->body);
	resp->status = 0;
	resp->sent_maybe = 0;
	resp->correlation_id[0] = resp->rl_count[0] = resp->rl_allowed[0] = resp->rl_reset[0] = '\0';
	resp->retry_after = -1;
	resp->date_ms = resp->retry_after_date_ms = -1;
	resp->sent_wall_ms = resp->recv_wall_ms = 0;
	if (check_headers(c, req) < 0)
		return c->err.pub.code;
	/* what the log and the error messages show of the URL */
	shown = foreign ? gcmsg__url_redacted(req->url) : NULL;
	if (foreign && !shown)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory building a request");
	if (shown)
		display = shown;

	curl_easy_reset(h);
	c->curl_errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : c->timeout_ms);
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
		size_t len = req->body ? req->body_len : 0;

		/*
		 * libcurl silently sends a request again when a reused connection dies
		 * before any answer ("Connection died, retrying a fresh connect"), or
		 * when an HTTP/2 stream is refused; a message POST sent twice reaches
		 * the customer twice. Only our own loop (deliver.c) may decide that a
		 * send goes again. So the body is handed over by a read callback whose
		 * rewind always fails: once any of it has gone out, libcurl cannot send
		 * it again and reports CURLE_SEND_FAIL_REWIND, an ambiguous failure that
		 * deliver.c reads back. A request without a body has nothing to rewind,
		 * so it goes on a new connection instead.
		 */
		if (strcmp(req->method, "POST") == 0) {
			curl_easy_setopt(h, CURLOPT_POST, 1L);
		} else {
			curl_easy_setopt(h, CURLOPT_POST, 1L);
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
		}
		body_src.p = req->body;
		body_src.left = len;
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, body_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &body_src);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, body_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, &body_src);
		if (len == 0)
			curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	}
	if (c->transport)
		curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L); /* wait for HTTP/2 rather than open more connections */

	/* a foreign URL gets no Accept at all (not even curl's default) unless asked for */
	if (!has_header(req, "Accept"))
		hdrs = add_line(hdrs, foreign ? "Accept:" : "Accept: application/json", &ok);
	if (ok && req->content_type) {
		char *ct = gcmsg__asprintf("Content-Type: %s", req->content_type);
		if (ct)
			hdrs = add_line(hdrs, ct, &ok);
		else
			ok = 0;
		free(ct);
	} else if (strcmp(req->method, "GET") != 0 && !has_header(req, "Content-Type")) {
		/* no body type: stop curl from adding a form content type */
		hdrs = add_line(hdrs, "Content-Type:", &ok);
	}
	/* curl adds "Expect: 100-continue" to large POSTs; not needed here */
	if (!has_header(req, "Expect"))
		hdrs = add_line(hdrs, "Expect:", &ok);
	for (i = 0; i < req->nheaders; i++)
		hdrs = add_extra(hdrs, req->headers[i], &ok);
	if (ok && req->bearer) {
		auth = gcmsg__asprintf("Authorization: Bearer %s", req->bearer);
		if (auth)
			hdrs = add_line(hdrs, auth, &ok);
		else
			ok = 0;
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
		free(shown);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory building a request");
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

	t0 = now_ms();
	resp->sent_wall_ms = wall_ms();
	rc = c->transport ? gcmsg__transport_perform(c->transport, h) : curl_easy_perform(h);
	resp->recv_wall_ms = wall_ms();
	/* drop every reference to secrets held in the handle's options */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_USERNAME, NULL);
	curl_easy_setopt(h, CURLOPT_PASSWORD, NULL);
	curl_easy_setopt(h, CURLOPT_READDATA, NULL);
	curl_easy_setopt(h, CURLOPT_SEEKDATA, NULL);
	wipe_slist(hdrs);
	curl_slist_free_all(hdrs);

	resp->sent_maybe = 1;
	if (rc != CURLE_OK) {
		const char *why = c->curl_errbuf[0] ? c->curl_errbuf : curl_easy_strerror(rc);

		resp->sent_maybe = request_may_have_left(h, rc);
		if (rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED)
			why = "the answer is larger than the 4 MiB limit";
		else if (rc == CURLE_SEND_FAIL_REWIND)
			why = "the connection closed before an answer (not sent again: it may have arrived)";
		gcmsg__log(c, "%s %s -> failed: %s", req->method, display, why);
		gcmsg__err_set(&c->err, GCMSG_EREMOTE, "%s %s failed: %s", req->method, display, why);
		if (rc == CURLE_SSL_CACERT || rc == CURLE_PEER_FAILED_VERIFICATION ||
		    rc == CURLE_SSL_CACERT_BADFILE)
			gcmsg__err_set_fix(&c->err, "check the server certificate, or give its CA with --cacert FILE");
		else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
		         rc == CURLE_OPERATION_TIMEDOUT)
			gcmsg__err_set_fix(&c->err, "check the region / --api-url and the network");
		free(shown);
		return GCMSG_EREMOTE;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	retry_after_of(resp);
	gcmsg__log(c, "%s %s -> %ld (correlation id %s; ratelimit count %s allowed %s reset %s) %.0f ms",
	           req->method, display, resp->status,
	           resp->correlation_id[0] ? resp->correlation_id : "-",
	           resp->rl_count[0] ? resp->rl_count : "-", resp->rl_allowed[0] ? resp->rl_allowed : "-",
	           resp->rl_reset[0] ? resp->rl_reset : "-", now_ms() - t0);
	free(shown);
	return GCMSG_OK;
}

static int has_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncasecmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

/* "scheme://user[:password]@host...": an '@' in the authority part */
static int has_userinfo(const char *url)
{
	const char *a = strstr(url, "://"), *p;

	if (!a)
		return 0;
	for (p = a + 3; *p && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p == '@')
			return 1;
	return 0;
}

int gcmsg__http_foreign(gcmsg_client *c, const char *what, const char *method, const char *url,
                        const char *const *headers, size_t nheaders, const void *body, size_t len,
                        long timeout_ms, gcmsg__http_resp *resp)
{
	gcmsg__http_req req;

	if (!has_scheme(url, "https") && !(has_scheme(url, "http") && has_scheme(c->api_url, "http"))) {
		char *shown = gcmsg__url_redacted(url);
		gcmsg__err_set(&c->err, GCMSG_EREMOTE, "refusing the %s %s: %s", what, shown ? shown : "",
		               has_scheme(url, "http") ? "plain http, while the API is https" : "not an https URL");
		free(shown);
		return GCMSG_EREMOTE;
	}
	if (has_userinfo(url)) {
		/* curl would send it as Basic credentials, and logs would show it */
		gcmsg__err_set(&c->err, GCMSG_EREMOTE, "refusing the %s: it carries a user name or password", what);
		return GCMSG_EREMOTE;
	}
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = body ? len : 0;
	req.headers = headers;
	req.nheaders = nheaders;
	req.flags = GCMSG__HTTP_FOREIGN;
	req.timeout_ms = timeout_ms;
	return gcmsg__http_perform(c, &req, resp);
}
