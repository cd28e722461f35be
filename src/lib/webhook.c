/*
 * webhook.c - the configured webhooks of a store, their validation, the
 * signature, and the delivery of queued events (gcmsg/webhook.h).
 *
 * The queue rows are written by audit.c (one per configured hook that wants
 * the event, in the same transaction as the audit record). Here they are
 * posted with the libcurl multi interface: one easy handle per hook, at most
 * one event in flight per hook, the hooks in parallel, so a hook that refuses
 * connections or never answers does not delay the others.
 *
 * Rules of one gcmsg_webhooks_deliver call:
 *  - "due" means next_attempt_ms <= the wall clock at the start of the call,
 *    so an event is tried at most once per call (a failure always moves its
 *    next attempt past that instant);
 *  - before its POST, a row is claimed in a write transaction by moving its
 *    next attempt to the end of a lease (the request's timeout + 30 s): another
 *    process delivering at the same time does not see it as due. A process that
 *    dies with a request in flight leaves the row to be retried after the lease
 *    (at least once: receivers deduplicate by X-Gcmsg-Event-Id);
 *  - a 2xx delivers; anything else (another status, a redirect, which is never
 *    followed, a network failure, no answer within the timeout) is a failed
 *    attempt: attempts + 1, last_status, last_error (never a secret, never the
 *    URL's query), and the next attempt after a delay drawn uniformly from
 *    [base, min(cap, base * 2^attempts)] (full jitter), at least the receiver's
 *    Retry-After (seconds) when it sent one, never beyond the cap;
 *  - after a failed attempt the hook gets no more requests in this call (its
 *    receiver is failing; the others go on);
 *  - after max_attempts failures the row stays in the queue with next_attempt_ms
 *    = GCMSG__WEBHOOK_NEVER: it is never tried again and shows as given up;
 *  - the deadline cuts requests in flight (each request's timeout is capped by
 *    what is left of it): they count as failed attempts ("no answer").
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "sha256.h"
#include "store.h"
#include "webhook_internal.h"

#define NAME_MAX_LEN 64
#define URL_MAX_LEN 4096
#define SECRET_MAX_LEN 4096
#define ANSWER_CAP ((size_t)64 * 1024)  /* bytes of an answer read (and ignored) */
#define LEASE_SLACK_MS 30000LL
#define ERROR_MAX 200                   /* bytes of a last_error */
#define POLL_MAX_MS 1000

/* ---- small helpers ---- */

static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A uniform draw in [0, n] (n >= 0). Not for secrets: jitter only. */
static unsigned long long draw(unsigned long long n)
{
	static unsigned long long state;
	unsigned long long x;

	if (n == 0)
		return 0;
	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != (ssize_t)sizeof(x)) {
		/* splitmix64 over time and pid: good enough to spread retries */
		if (!state)
			state = (unsigned long long)wall_ms() ^ ((unsigned long long)getpid() << 32);
		x = (state += 0x9e3779b97f4a7c15ULL);
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
		x ^= x >> 31;
	}
	if (n == ULLONG_MAX)
		return x;
	return x % (n + 1);
}

long long gcmsg__webhook_backoff_ms(int attempts, long base_ms, long cap_ms, long retry_after_s)
{
	long long hi, lo, delay;
	int i;

	if (base_ms <= 0)
		base_ms = 1;
	if (cap_ms < base_ms)
		cap_ms = base_ms;
	hi = base_ms;
	for (i = 0; i < attempts && hi < cap_ms; i++)
		hi = hi > cap_ms / 2 ? cap_ms : hi * 2;
	if (hi > cap_ms)
		hi = cap_ms;
	lo = base_ms;
	delay = lo + (long long)draw((unsigned long long)(hi - lo));
	if (retry_after_s > 0) {
		long long ra = retry_after_s > LLONG_MAX / 1000 ? LLONG_MAX : (long long)retry_after_s * 1000;
		if (ra > delay)
			delay = ra;
	}
	return delay > cap_ms ? cap_ms : delay;
}

/* ---- validation and configuration ---- */

static int name_ok(const char *name)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

int gcmsg__webhook_name_ok(const char *name)
{
	return name_ok(name);
}

/* The URL rules; a reason (without the URL: it may hold credentials) in why. */
static int url_ok(const char *url, char *why, size_t whylen)
{
	const char *p, *auth;
	CURLU *u;
	char *scheme = NULL, *host = NULL, *user = NULL;
	int ok = 0;

	if (!url || !*url) {
		snprintf(why, whylen, "the URL is missing");
		return 0;
	}
	if (strlen(url) > URL_MAX_LEN) {
		snprintf(why, whylen, "the URL is longer than %d bytes", URL_MAX_LEN);
		return 0;
	}
	for (p = url; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			snprintf(why, whylen, "the URL holds a space or a control character");
			return 0;
		}
	}
	auth = strstr(url, "://");
	if (auth)
		for (p = auth + 3; *p && *p != '/' && *p != '?' && *p != '#'; p++)
			if (*p == '@') {
				snprintf(why, whylen, "the URL carries a user name or password (put no credentials in it; "
				                      "the secret signs the events)");
				return 0;
			}
	u = curl_url();
	if (!u) {
		snprintf(why, whylen, "out of memory");
		return 0;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
		snprintf(why, whylen, "the URL is not a valid absolute http(s) URL");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		snprintf(why, whylen, "the URL carries a user name or password");
		goto out;
	}
	if (strcasecmp(scheme, "https") == 0) {
		ok = 1;
	} else if (strcasecmp(scheme, "http") == 0) {
		if (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "[::1]") == 0 || strcasecmp(host, "localhost") == 0)
			ok = 1;
		else
			snprintf(why, whylen, "plain http is only allowed to 127.0.0.1, ::1 or localhost: use https");
	} else {
		snprintf(why, whylen, "the URL must be https (http only to 127.0.0.1, ::1 or localhost)");
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}

int gcmsg__webhook_check(const gcmsg_webhook *h, char *why, size_t whylen)
{
	if (!name_ok(h->name)) {
		snprintf(why, whylen, "the name must be 1 to %d of A-Z a-z 0-9 _ -", NAME_MAX_LEN);
		return -1;
	}
	if (!url_ok(h->url, why, whylen))
		return -1;
	if (!h->secret || !*h->secret) {
		snprintf(why, whylen, "the secret is missing (it signs every event)");
		return -1;
	}
	if (strlen(h->secret) > SECRET_MAX_LEN) {
		snprintf(why, whylen, "the secret is longer than %d bytes", SECRET_MAX_LEN);
		return -1;
	}
	if (h->events & ~(GCMSG_WEBHOOK_EVENT_ATTEMPT | GCMSG_WEBHOOK_EVENT_OUTCOME)) {
		snprintf(why, whylen, "unknown event bits 0x%x", h->events);
		return -1;
	}
	return 0;
}

int gcmsg_store_set_webhooks(gcmsg_store *s, const gcmsg_webhook *hooks, size_t n)
{
	gcmsg__hook *copy = NULL;
	char why[256];
	size_t i, j;

	if (!s)
		return GCMSG_EUSAGE;
	gcmsg__err_clear(&s->err);
	if (n && !hooks)
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "webhooks: %zu given, but no array", n);
	for (i = 0; i < n; i++) {
		if (gcmsg__webhook_check(&hooks[i], why, sizeof(why)) < 0) {
			if (name_ok(hooks[i].name))
				return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "webhook '%s': %s", hooks[i].name, why);
			return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "webhook %zu: %s", i + 1, why);
		}
		for (j = 0; j < i; j++)
			if (strcmp(hooks[i].name, hooks[j].name) == 0)
				return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "webhook '%s' is configured twice",
				                      hooks[i].name);
	}
	if (n) {
		copy = calloc(n, sizeof(*copy));
		if (!copy)
			return gcmsg__err_set(&s->err, GCMSG_ERROR, "out of memory");
		for (i = 0; i < n; i++) {
			copy[i].name = gcmsg__strdup(hooks[i].name);
			copy[i].url = gcmsg__strdup(hooks[i].url);
			copy[i].secret = gcmsg__strdup(hooks[i].secret);
			copy[i].events = hooks[i].events ? hooks[i].events
			                                 : (GCMSG_WEBHOOK_EVENT_ATTEMPT | GCMSG_WEBHOOK_EVENT_OUTCOME);
			if (!copy[i].name || !copy[i].url || !copy[i].secret) {
				gcmsg__hooks_free(copy, n);
				return gcmsg__err_set(&s->err, GCMSG_ERROR, "out of memory");
			}
		}
	}
	gcmsg__hooks_free(s->hooks, s->nhooks);
	s->hooks = copy;
	s->nhooks = n;
	return GCMSG_OK;
}

/* ---- the signature ---- */

/* "sha256=<base64>" of HMAC-SHA256(secret, "<timestamp>.<body>") into out (>= 7 + 45 bytes). */
static int sign(char *out, size_t outlen, const char *secret, long long ts, const char *body, size_t len)
{
	unsigned char mac[GCMSG__SHA256_LEN];
	char prefix[32];
	size_t plen;
	char *msg;
	int n;

	n = snprintf(prefix, sizeof(prefix), "%lld.", ts);
	if (n < 0 || (size_t)n >= sizeof(prefix) || outlen < sizeof("sha256=") + 44)
		return -1;
	plen = (size_t)n;
	if (len > SIZE_MAX - plen - 1)
		return -1;
	msg = malloc(plen + len + 1);
	if (!msg)
		return -1;
	memcpy(msg, prefix, plen);
	if (len)
		memcpy(msg + plen, body, len);
	gcmsg__hmac_sha256(secret, strlen(secret), msg, plen + len, mac);
	/* the body may be PII: do not leave a copy behind */
	memset(msg, 0, plen + len);
	free(msg);
	memcpy(out, "sha256=", 7);
	gcmsg__base64(mac, sizeof(mac), out + 7);
	return 0;
}

int gcmsg_webhook_sign(char **out, const char *secret, long long timestamp, const char *body, size_t len)
{
	char sig[64];

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (!secret || !*secret || (!body && len))
		return GCMSG_EUSAGE;
	if (sign(sig, sizeof(sig), secret, timestamp, body ? body : "", len) < 0)
		return GCMSG_ERROR;
	*out = gcmsg__strdup(sig);
	return *out ? GCMSG_OK : GCMSG_ERROR;
}

/* ---- queue rows ---- */

static void row_clear(gcmsg__webhook_row *r)
{
	free(r->hook);
	free(r->event_id);
	if (r->body) {
		memset(r->body, 0, strlen(r->body)); /* the audit data may hold a text (audit_text) */
		free(r->body);
	}
	free(r->last_error);
	memset(r, 0, sizeof(*r));
}

static int row_copy(gcmsg__webhook_row *dst, const gcmsg__webhook_row *src)
{
	*dst = *src;
	dst->hook = gcmsg__strdup(src->hook);
	dst->event_id = gcmsg__strdup(src->event_id);
	dst->body = gcmsg__strdup(src->body);
	dst->last_error = gcmsg__strdup(src->last_error);
	if ((src->hook && !dst->hook) || (src->event_id && !dst->event_id) || (src->body && !dst->body) ||
	    (src->last_error && !dst->last_error)) {
		row_clear(dst);
		return -1;
	}
	return 0;
}

typedef struct one_row {
	gcmsg__webhook_row row;
	int found, oom;
} one_row;

static int take_one(const gcmsg__webhook_row *row, void *payload)
{
	one_row *o = payload;

	if (o->found)
		return 1;
	if (row_copy(&o->row, row) < 0) {
		o->oom = 1;
		return 1;
	}
	o->found = 1;
	return 1; /* one is enough */
}

static int store_ready(gcmsg_store *s)
{
	return s && s->ops && s->backend;
}

/* Write a row's attempt fields in a transaction of its own. */
static int row_update(gcmsg_store *s, const gcmsg__webhook_row *row)
{
	int rc = s->ops->begin(s->backend, &s->err);

	if (rc < 0)
		return rc;
	rc = s->ops->webhook_update(s->backend, row, &s->err);
	if (rc < 0) {
		s->ops->rollback(s->backend);
		return rc;
	}
	return s->ops->commit(s->backend, &s->err);
}

/*
 * The oldest row of `hook` due at due_ms, claimed until lease_until: 1 with
 * *out filled, 0 when none is due, or an error code.
 */
static int claim_next(gcmsg_store *s, const char *hook, long long due_ms, long long lease_until,
                      gcmsg__webhook_row *out)
{
	one_row o;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = s->ops->begin(s->backend, &s->err);
	if (rc < 0)
		return rc;
	rc = s->ops->webhook_due(s->backend, hook, due_ms, 1, take_one, &o, &s->err);
	if (o.oom) {
		s->ops->rollback(s->backend);
		return gcmsg__err_set(&s->err, GCMSG_ERROR, "out of memory reading the webhook queue");
	}
	if (rc < 0) {
		s->ops->rollback(s->backend);
		row_clear(&o.row);
		return rc;
	}
	if (!o.found) {
		s->ops->rollback(s->backend);
		return 0;
	}
	{
		long long was = o.row.next_attempt_ms;
		o.row.next_attempt_ms = lease_until;
		rc = s->ops->webhook_update(s->backend, &o.row, &s->err);
		o.row.next_attempt_ms = was;
	}
	if (rc < 0) {
		s->ops->rollback(s->backend);
		row_clear(&o.row);
		return rc;
	}
	rc = s->ops->commit(s->backend, &s->err);
	if (rc < 0) {
		row_clear(&o.row);
		return rc;
	}
	*out = o.row;
	return 1;
}

/* ---- delivery ---- */

typedef struct slot {
	const gcmsg__hook *hook;
	CURL *easy;
	struct curl_slist *hdrs;
	gcmsg__webhook_row row; /* the event in flight */
	int busy;               /* a transfer is in the multi handle */
	int done;               /* no more requests for this hook in this call */
	size_t answer_bytes;
	int answer_capped;
	long retry_after;       /* seconds, -1: none */
	long timeout_ms;        /* of the request in flight */
	char errbuf[CURL_ERROR_SIZE];
} slot;

static size_t discard_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	slot *sl = userdata;
	size_t n = size * nmemb;

	(void)ptr;
	if (n > ANSWER_CAP - sl->answer_bytes) {
		sl->answer_capped = 1;
		return 0; /* enough: the answer is ignored anyway */
	}
	sl->answer_bytes += n;
	return n;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	slot *sl = userdata;
	size_t n = size * nitems;
	static const char ra[] = "retry-after:";

	if (n > 5 && strncmp(buf, "HTTP/", 5) == 0)
		sl->retry_after = -1;
	else if (n > sizeof(ra) - 1 && n < 64 && strncasecmp(buf, ra, sizeof(ra) - 1) == 0) {
		char tmp[64], *end;
		long v;
		memcpy(tmp, buf + sizeof(ra) - 1, n - (sizeof(ra) - 1));
		tmp[n - (sizeof(ra) - 1)] = '\0';
		v = strtol(tmp, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (end != tmp && *end == '\0' && v >= 0)
			sl->retry_after = v;
	}
	return n;
}

/* An event id fit for a header: a UUID's characters. */
static int event_id_ok(const char *id)
{
	size_t i, n = id ? strlen(id) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

static struct curl_slist *hdr_add(struct curl_slist *l, const char *line, int *ok)
{
	struct curl_slist *t;

	if (!*ok)
		return l;
	t = curl_slist_append(l, line);
	if (!t) {
		*ok = 0;
		return l;
	}
	return t;
}

/* Set up and add the transfer of sl->row; -1 with why filled when it cannot be. */
static int start_transfer(CURLM *m, slot *sl, long timeout_ms, const char *cacert, char *why, size_t whylen)
{
	char line[160], sig[64];
	long long ts = (long long)time(NULL);
	const char *body = sl->row.body ? sl->row.body : "";
	int ok = 1;

	sl->retry_after = -1;
	if (!event_id_ok(sl->row.event_id)) {
		snprintf(why, whylen, "the queued event id is not a UUID");
		return -1;
	}
	if (sign(sig, sizeof(sig), sl->hook->secret, ts, body, strlen(body)) < 0) {
		snprintf(why, whylen, "out of memory signing the event");
		return -1;
	}
	sl->hdrs = hdr_add(sl->hdrs, "Content-Type: application/json", &ok);
	sl->hdrs = hdr_add(sl->hdrs, "Expect:", &ok);
	snprintf(line, sizeof(line), "X-Gcmsg-Event-Id: %s", sl->row.event_id);
	sl->hdrs = hdr_add(sl->hdrs, line, &ok);
	snprintf(line, sizeof(line), "X-Gcmsg-Timestamp: %lld", ts);
	sl->hdrs = hdr_add(sl->hdrs, line, &ok);
	snprintf(line, sizeof(line), "X-Gcmsg-Signature-256: %s", sig);
	sl->hdrs = hdr_add(sl->hdrs, line, &ok);
	if (!ok) {
		curl_slist_free_all(sl->hdrs);
		sl->hdrs = NULL;
		snprintf(why, whylen, "out of memory building the request");
		return -1;
	}

	curl_easy_reset(sl->easy);
	sl->errbuf[0] = '\0';
	sl->answer_bytes = 0;
	sl->answer_capped = 0;
	sl->retry_after = -1;
	sl->timeout_ms = timeout_ms;
	curl_easy_setopt(sl->easy, CURLOPT_PRIVATE, sl);
	curl_easy_setopt(sl->easy, CURLOPT_ERRORBUFFER, sl->errbuf);
	curl_easy_setopt(sl->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(sl->easy, CURLOPT_URL, sl->hook->url);
	curl_easy_setopt(sl->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(sl->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(sl->easy, CURLOPT_SSL_VERIFYPEER, 1L); /* always on: no switch exists */
	curl_easy_setopt(sl->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cacert)
		curl_easy_setopt(sl->easy, CURLOPT_CAINFO, cacert);
	curl_easy_setopt(sl->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(sl->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(sl->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ANSWER_CAP);
	curl_easy_setopt(sl->easy, CURLOPT_USERAGENT, "gcmsg/" GCMSG_VERSION);
	curl_easy_setopt(sl->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(sl->easy, CURLOPT_HTTPHEADER, sl->hdrs);
	curl_easy_setopt(sl->easy, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(sl->easy, CURLOPT_WRITEDATA, sl);
	curl_easy_setopt(sl->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(sl->easy, CURLOPT_HEADERDATA, sl);
	if (curl_multi_add_handle(m, sl->easy) != CURLM_OK) {
		curl_slist_free_all(sl->hdrs);
		sl->hdrs = NULL;
		snprintf(why, whylen, "cannot start the request");
		return -1;
	}
	sl->busy = 1;
	return 0;
}

static void end_transfer(CURLM *m, slot *sl)
{
	if (sl->busy)
		curl_multi_remove_handle(m, sl->easy);
	sl->busy = 0;
	curl_easy_setopt(sl->easy, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(sl->hdrs);
	sl->hdrs = NULL;
}

typedef struct run {
	gcmsg_store *s;
	const gcmsg_webhook_deliver_options *o;
	gcmsg_webhook_report rep;
	char first_failure[ERROR_MAX + 80];
} run;

/* Record the outcome of sl->row's attempt (ok: delivered), then forget the row. */
static int record(run *r, slot *sl, int ok, long status, const char *why)
{
	gcmsg__webhook_row *row = &sl->row;
	int rc;

	row->attempts++;
	row->last_status = status;
	free(row->last_error);
	row->last_error = NULL;
	if (ok) {
		row->delivered = 1;
		r->rep.delivered++;
	} else {
		char *e = gcmsg__asprintf("%.*s", ERROR_MAX, why ? why : "failed");
		if (!e) {
			row_clear(row);
			return gcmsg__err_set(&r->s->err, GCMSG_ERROR, "out of memory");
		}
		row->last_error = e;
		if (row->attempts >= r->o->max_attempts)
			row->next_attempt_ms = GCMSG__WEBHOOK_NEVER;
		else
			row->next_attempt_ms = wall_ms() + gcmsg__webhook_backoff_ms(row->attempts, r->o->backoff_base_ms,
			                                                             r->o->backoff_cap_ms,
			                                                             sl->retry_after);
		r->rep.failed++;
		if (!r->first_failure[0])
			snprintf(r->first_failure, sizeof(r->first_failure), "webhook '%s': %s%s", sl->hook->name, e,
			         row->next_attempt_ms == GCMSG__WEBHOOK_NEVER ? " (given up: max attempts reached)" : "");
		sl->done = 1; /* its receiver is failing: no more requests to it in this call */
	}
	rc = row_update(r->s, row);
	row_clear(row);
	return rc;
}

/* What a finished transfer means for its row. */
static int finish(run *r, CURLM *m, slot *sl, CURLcode res)
{
	long status = 0;
	char why[ERROR_MAX + 40];

	curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &status);
	end_transfer(m, sl);
	if (res == CURLE_OK || ((res == CURLE_WRITE_ERROR || res == CURLE_FILESIZE_EXCEEDED) && status)) {
		/* an answer came (its body, capped, is ignored) */
		if (status >= 200 && status < 300)
			return record(r, sl, 1, status, NULL);
		if (status >= 300 && status < 400)
			snprintf(why, sizeof(why), "HTTP %ld: a redirect, which is never followed", status);
		else
			snprintf(why, sizeof(why), "HTTP %ld", status);
		return record(r, sl, 0, status, why);
	}
	if (res == CURLE_OPERATION_TIMEDOUT)
		snprintf(why, sizeof(why), "no answer within %ld ms", sl->timeout_ms);
	else
		snprintf(why, sizeof(why), "%.*s", ERROR_MAX, sl->errbuf[0] ? sl->errbuf : curl_easy_strerror(res));
	return record(r, sl, 0, status, why);
}

typedef struct counter {
	const gcmsg_store *s;
	unsigned long n;
} counter;

static int count_configured(const gcmsg__webhook_row *row, void *payload)
{
	counter *c = payload;
	size_t i;

	if (row->delivered)
		return 0;
	for (i = 0; i < c->s->nhooks; i++)
		if (row->hook && strcmp(row->hook, c->s->hooks[i].name) == 0) {
			c->n++;
			break;
		}
	return 0;
}

static int check_options(gcmsg_store *s, const gcmsg_webhook_deliver_options *in,
                         gcmsg_webhook_deliver_options *o)
{
	static const gcmsg_webhook_deliver_options defaults = GCMSG_WEBHOOK_DELIVER_OPTIONS_INIT;

	*o = in ? *in : defaults;
	if (o->version != GCMSG_WEBHOOK_DELIVER_OPTIONS_VERSION)
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "webhook delivery options: unknown version %u",
		                      o->version);
	if (o->deadline_ms < 0 || o->timeout_ms < 0 || o->backoff_base_ms < 0 || o->backoff_cap_ms < 0 ||
	    o->max_attempts < 0)
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "webhook delivery options: negative value");
	if (!o->deadline_ms)
		o->deadline_ms = 5000;
	if (!o->timeout_ms)
		o->timeout_ms = 5000;
	if (!o->backoff_base_ms)
		o->backoff_base_ms = 1000;
	if (!o->backoff_cap_ms)
		o->backoff_cap_ms = 3600000;
	if (o->backoff_cap_ms < o->backoff_base_ms)
		o->backoff_cap_ms = o->backoff_base_ms;
	if (!o->max_attempts)
		o->max_attempts = 20;
	return GCMSG_OK;
}

int gcmsg_webhooks_deliver(gcmsg_store *s, const gcmsg_webhook_deliver_options *opts, gcmsg_webhook_report *report)
{
	gcmsg_webhook_deliver_options o;
	run r;
	slot *slots = NULL;
	CURLM *m = NULL;
	long long due_ms, deadline;
	int rc = GCMSG_OK, cut = 0;
	size_t i;

	if (report)
		memset(report, 0, sizeof(*report));
	if (!s)
		return GCMSG_EUSAGE;
	gcmsg__err_clear(&s->err);
	if (!store_ready(s))
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "the store is not open");
	rc = check_options(s, opts, &o);
	if (rc < 0)
		return rc;
	memset(&r, 0, sizeof(r));
	r.s = s;
	r.o = &o;
	if (s->nhooks == 0)
		return GCMSG_OK;

	due_ms = wall_ms();
	deadline = mono_ms() + o.deadline_ms;
	slots = calloc(s->nhooks, sizeof(*slots));
	m = curl_multi_init();
	if (!slots || !m) {
		rc = gcmsg__err_set(&s->err, GCMSG_ERROR, "out of memory");
		goto out;
	}
	for (i = 0; i < s->nhooks; i++) {
		slots[i].hook = &s->hooks[i];
		slots[i].easy = curl_easy_init();
		if (!slots[i].easy) {
			rc = gcmsg__err_set(&s->err, GCMSG_ERROR, "out of memory");
			goto out;
		}
	}

	for (;;) {
		long long left = deadline - mono_ms();
		int busy = 0, running = 0, finished = 0;
		CURLMsg *msg;
		int q;

		if (left <= 0) {
			cut = 1;
			break;
		}
		/* every idle hook takes its next due event */
		for (i = 0; i < s->nhooks; i++) {
			slot *sl = &slots[i];
			long t = o.timeout_ms < left ? o.timeout_ms : (long)left;
			char why[128];
			if (sl->busy || sl->done)
				continue;
			rc = claim_next(s, sl->hook->name, due_ms, wall_ms() + t + LEASE_SLACK_MS, &sl->row);
			if (rc < 0)
				goto out;
			if (rc == 0) {
				sl->done = 1; /* nothing due */
				continue;
			}
			rc = GCMSG_OK;
			if (start_transfer(m, sl, t, o.cacert, why, sizeof(why)) < 0) {
				rc = record(&r, sl, 0, 0, why);
				if (rc < 0)
					goto out;
			}
		}
		for (i = 0; i < s->nhooks; i++)
			busy += slots[i].busy;
		if (!busy)
			break;
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &q)) != NULL) {
			char *priv = NULL;
			slot *sl;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			sl = (slot *)(void *)priv;
			if (!sl || !sl->busy)
				continue;
			rc = finish(&r, m, sl, msg->data.result);
			finished++;
			if (rc < 0)
				goto out;
		}
		if (finished)
			continue; /* start the next events right away */
		left = deadline - mono_ms();
		if (left <= 0)
			continue;
		curl_multi_poll(m, NULL, 0, left < POLL_MAX_MS ? (int)left : POLL_MAX_MS, NULL);
	}
	/* the deadline passed: requests still in flight failed (no answer in time) */
	for (i = 0; i < s->nhooks; i++) {
		slot *sl = &slots[i];
		char why[64];
		if (!sl->busy)
			continue;
		end_transfer(m, sl);
		snprintf(why, sizeof(why), "no answer before the deadline (%ld ms)", o.deadline_ms);
		rc = record(&r, sl, 0, 0, why);
		if (rc < 0)
			goto out;
	}
	rc = GCMSG_OK;

out:
	for (i = 0; slots && i < s->nhooks; i++) {
		if (slots[i].busy)
			end_transfer(m, &slots[i]);
		if (slots[i].easy)
			curl_easy_cleanup(slots[i].easy);
		row_clear(&slots[i].row); /* a claimed row not recorded: its lease runs out */
	}
	if (m)
		curl_multi_cleanup(m);
	if (rc == GCMSG_OK) {
		counter c = { s, 0 };
		int lrc = s->ops->webhook_list(s->backend, 0, count_configured, &c, &s->err);
		if (lrc < 0) {
			rc = lrc;
		} else {
			r.rep.pending = c.n;
			for (i = 0; cut && i < s->nhooks; i++)
				if (!slots[i].done)
					break;
			if (r.rep.failed) {
				rc = gcmsg__err_set(&s->err, GCMSG_EREMOTE, "%lu webhook delivery attempt%s failed; first: %s",
				                    r.rep.failed, r.rep.failed == 1 ? "" : "s", r.first_failure);
			} else if (cut && i < s->nhooks) {
				rc = gcmsg__err_set(&s->err, GCMSG_EREMOTE,
				                    "the deadline (%ld ms) passed with webhook events still due",
				                    o.deadline_ms);
			}
		}
	}
	free(slots);
	if (report)
		*report = r.rep;
	return rc;
}

/* ---- the queue, for people ---- */

struct gcmsg_webhook_event {
	gcmsg__webhook_row row;
	char *type;
};

struct gcmsg_webhook_queue {
	gcmsg_webhook_event *items;
	size_t count, alloc;
};

static void event_clear(gcmsg_webhook_event *e)
{
	row_clear(&e->row);
	free(e->type);
	e->type = NULL;
}

void gcmsg_webhook_queue_free(gcmsg_webhook_queue *q)
{
	size_t i;

	if (!q)
		return;
	for (i = 0; i < q->count; i++)
		event_clear(&q->items[i]);
	free(q->items);
	free(q);
}

static int queue_add(const gcmsg__webhook_row *row, void *payload)
{
	gcmsg_webhook_queue *q = payload;
	gcmsg_webhook_event *e;
	json_t *doc;

	if (q->count == q->alloc) {
		size_t n = q->alloc ? q->alloc * 2 : 16;
		gcmsg_webhook_event *t = realloc(q->items, n * sizeof(*t));
		if (!t)
			return -1;
		q->items = t;
		q->alloc = n;
	}
	e = &q->items[q->count];
	memset(e, 0, sizeof(*e));
	if (row_copy(&e->row, row) < 0)
		return -1;
	doc = row->body ? json_loads(row->body, 0, NULL) : NULL;
	if (doc) {
		const char *t = gcmsg__json_str(doc, "type");
		e->type = t ? gcmsg__strdup(t) : NULL;
		json_decref(doc);
		if (t && !e->type) {
			event_clear(e);
			return -1;
		}
	}
	q->count++;
	return 0;
}

int gcmsg_webhook_queue_get(gcmsg_webhook_queue **out, gcmsg_store *s, int all)
{
	gcmsg_webhook_queue *q;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (!s)
		return GCMSG_EUSAGE;
	gcmsg__err_clear(&s->err);
	if (!store_ready(s))
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "the store is not open");
	q = calloc(1, sizeof(*q));
	if (!q)
		return gcmsg__err_set(&s->err, GCMSG_ERROR, "out of memory");
	rc = s->ops->webhook_list(s->backend, all, queue_add, q, &s->err);
	if (rc != 0) {
		gcmsg_webhook_queue_free(q);
		if (rc > 0 || s->err.pub.code == GCMSG_OK)
			return gcmsg__err_set(&s->err, GCMSG_ERROR, "out of memory reading the webhook queue");
		return rc;
	}
	*out = q;
	return GCMSG_OK;
}

size_t gcmsg_webhook_queue_count(const gcmsg_webhook_queue *q)
{
	return q ? q->count : 0;
}

const gcmsg_webhook_event *gcmsg_webhook_queue_event(const gcmsg_webhook_queue *q, size_t i)
{
	return q && i < q->count ? &q->items[i] : NULL;
}

long long gcmsg_webhook_event_id(const gcmsg_webhook_event *e)
{
	return e ? e->row.id : 0;
}

const char *gcmsg_webhook_event_hook(const gcmsg_webhook_event *e)
{
	return e ? e->row.hook : NULL;
}

const char *gcmsg_webhook_event_event_id(const gcmsg_webhook_event *e)
{
	return e ? e->row.event_id : NULL;
}

const char *gcmsg_webhook_event_type(const gcmsg_webhook_event *e)
{
	return e ? e->type : NULL;
}

const char *gcmsg_webhook_event_body(const gcmsg_webhook_event *e)
{
	return e ? e->row.body : NULL;
}

long long gcmsg_webhook_event_created_ms(const gcmsg_webhook_event *e)
{
	return e ? e->row.created_ms : 0;
}

int gcmsg_webhook_event_attempts(const gcmsg_webhook_event *e)
{
	return e ? e->row.attempts : 0;
}

long long gcmsg_webhook_event_next_attempt_ms(const gcmsg_webhook_event *e)
{
	if (!e || e->row.delivered || e->row.next_attempt_ms == GCMSG__WEBHOOK_NEVER)
		return -1;
	return e->row.next_attempt_ms;
}

int gcmsg_webhook_event_delivered(const gcmsg_webhook_event *e)
{
	return e ? e->row.delivered : 0;
}

int gcmsg_webhook_event_given_up(const gcmsg_webhook_event *e)
{
	return e && !e->row.delivered && e->row.next_attempt_ms == GCMSG__WEBHOOK_NEVER;
}

long gcmsg_webhook_event_last_status(const gcmsg_webhook_event *e)
{
	return e ? e->row.last_status : 0;
}

const char *gcmsg_webhook_event_last_error(const gcmsg_webhook_event *e)
{
	return e ? e->row.last_error : NULL;
}
