/*
 * login.c - gcmsg_login: the authorization code grant with PKCE (RFC 7636,
 * S256) through a loopback redirect (RFC 8252 §7.3), and gcmsg_logout.
 *
 * The listener binds 127.0.0.1 only, serves a few connections at once (a
 * browser may open a speculative connection and send nothing on it; when all
 * MAX_CONNS are taken, a new one replaces the oldest), caps each request head
 * at GCMSG__LOGIN_HEAD_MAX bytes and each connection at CONN_TIMEOUT_S, and
 * stops at the first GET /callback that carries our state, or at the deadline
 * (a callback with another state or none gets a 400, and the wait goes on).
 * Before any of it, the token cache must be writable: a code is never spent on
 * a login that could not be saved. The PKCE verifier and the state come from
 * getrandom(2); they, the code and every buffer that held them are zeroed
 * before they are freed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "login_internal.h"
#include "secure.h"
#include "sha256.h"

#define MAX_CONNS 8
#define CONN_TIMEOUT_S 10.0
#define DEFAULT_TIMEOUT_MS 300000L
#define VERIFIER_BYTES 48 /* 64 base64url characters: within RFC 7636's 43-128 */
#define STATE_BYTES 24    /* 32 characters */

/* ---- the request parser (pure; fuzzed by fuzz_login_callback) ---- */

static const char *find_head_end(const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (b[i] != '\n')
			continue;
		if (i + 1 < n && b[i + 1] == '\n')
			return b + i + 2;
		if (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n')
			return b + i + 3;
	}
	return NULL;
}

enum { D_STRICT, D_TEXT, D_LINE };

/*
 * Percent-decode src[0..n) ('+' is a space) into dst (cap bytes + NUL).
 * D_STRICT: printable ASCII without spaces, 1..cap bytes; D_TEXT: printable
 * ASCII with spaces, 1..cap; D_LINE: anything, other bytes become '?', cut at
 * cap. 0, or -1 (a bad escape, or a value D_STRICT/D_TEXT refuse).
 */
static int decode(const char *src, size_t n, char *dst, size_t cap, int mode)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n || gcmsg__hexval(src[i + 1]) < 0 || gcmsg__hexval(src[i + 2]) < 0) {
				dst[o] = '\0';
				return -1;
			}
			c = (unsigned char)(gcmsg__hexval(src[i + 1]) * 16 + gcmsg__hexval(src[i + 2]));
			i += 2;
		}
		if (mode == D_LINE) {
			if (c < 0x20 || c >= 0x7f)
				c = '?';
			if (o < cap)
				dst[o++] = (char)c;
			continue;
		}
		if (c < 0x20 || c >= 0x7f || (mode == D_STRICT && c == ' ') || o >= cap) {
			dst[o] = '\0';
			return -1;
		}
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return mode == D_LINE || o > 0 ? 0 : -1;
}

static int field_is(const char *k, size_t kn, const char *name)
{
	return kn == strlen(name) && memcmp(k, name, kn) == 0;
}

void gcmsg__login_parse_request(const char *buf, size_t len, gcmsg__login_callback *out)
{
	size_t n = len < GCMSG__LOGIN_HEAD_MAX ? len : GCMSG__LOGIN_HEAD_MAX;
	const char *end, *line_end, *t, *sp, *q, *p, *qend;

	memset(out, 0, sizeof(*out));
	end = find_head_end(buf, n);
	if (!end) {
		out->kind = len >= GCMSG__LOGIN_HEAD_MAX ? GCMSG__CB_TOO_LARGE : GCMSG__CB_INCOMPLETE;
		return;
	}
	out->kind = GCMSG__CB_BAD;
	line_end = memchr(buf, '\n', (size_t)(end - buf));
	if (!line_end)
		return;
	if (line_end > buf && line_end[-1] == '\r')
		line_end--;
	if (line_end - buf < 4 || memcmp(buf, "GET ", 4) != 0)
		return;
	t = buf + 4;
	sp = memchr(t, ' ', (size_t)(line_end - t));
	if (!sp || sp == t || *t != '/')
		return;
	if (!((line_end - sp == 9) && (memcmp(sp, " HTTP/1.1", 9) == 0 || memcmp(sp, " HTTP/1.0", 9) == 0)))
		return;
	for (p = t; p < sp; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
			return;
	q = memchr(t, '?', (size_t)(sp - t));
	if (!field_is(t, (size_t)((q ? q : sp) - t), "/callback")) {
		out->kind = GCMSG__CB_OTHER;
		return;
	}
	qend = sp;
	for (p = q ? q + 1 : sp; p < qend;) {
		const char *amp = memchr(p, '&', (size_t)(qend - p)), *eq;
		const char *pe = amp ? amp : qend;
		size_t kn;
		char key[24];

		eq = memchr(p, '=', (size_t)(pe - p));
		kn = (size_t)((eq ? eq : pe) - p);
		if (kn > 0 && kn < 3 * sizeof(key) && decode(p, kn, key, sizeof(key) - 1, D_TEXT) == 0) {
			const char *v = eq ? eq + 1 : pe;
			size_t vn = (size_t)(pe - v);
			if (strcmp(key, "code") == 0) {
				if (out->has_code++ || decode(v, vn, out->code, GCMSG__LOGIN_CODE_MAX, D_STRICT) < 0)
					goto bad;
			} else if (strcmp(key, "state") == 0) {
				if (out->has_state++ || decode(v, vn, out->state, GCMSG__LOGIN_STATE_MAX, D_STRICT) < 0)
					goto bad;
			} else if (strcmp(key, "error") == 0) {
				if (out->has_error++ || decode(v, vn, out->error, GCMSG__LOGIN_ERROR_MAX, D_TEXT) < 0)
					goto bad;
			} else if (strcmp(key, "error_description") == 0) {
				if (out->error_description[0] ||
				    decode(v, vn, out->error_description, GCMSG__LOGIN_DESC_MAX, D_LINE) < 0)
					goto bad;
			}
		} else if (kn > 0 && memchr(p, '%', kn) && decode(p, kn, key, 0, D_LINE) < 0) {
			goto bad; /* a malformed escape in a name we do not know */
		}
		p = amp ? amp + 1 : qend;
	}
	out->kind = GCMSG__CB_CALLBACK;
	return;
bad:
	gcmsg__wipe(out, sizeof(*out));
	out->kind = GCMSG__CB_BAD;
}

/* ---- helpers ---- */

static int random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* base64url of n random bytes (unreserved characters only) into out (4*(n+2)/3+1 bytes) */
static int random_token(char *out, size_t nbytes)
{
	unsigned char raw[64];

	if (nbytes > sizeof(raw) || random_bytes(raw, nbytes) < 0)
		return -1;
	gcmsg__base64url(raw, nbytes, out);
	gcmsg__wipe(raw, sizeof(raw));
	return 0;
}

/* A client with the URLs, CA, timeouts, log and cache of client_opts and no credentials yet. */
static int bare_client(gcmsg_client **out, const gcmsg_client_options *co)
{
	if (!out)
		return GCMSG_EUSAGE;
	return gcmsg__client_new_bare(out, co);
}

/* ---- the loopback listener ---- */

typedef struct conn {
	int fd;
	size_t len;
	double deadline;
	char buf[GCMSG__LOGIN_HEAD_MAX];
} conn;

static void conn_close(conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	gcmsg__wipe(k->buf, k->len);
	k->fd = -1;
	k->len = 0;
}

static void write_all_timed(int fd, const char *p, size_t n)
{
	double end = gcmsg__now() + 2.0;

	while (n > 0 && gcmsg__now() < end) {
		struct pollfd pf = { fd, POLLOUT, 0 };
		ssize_t w;
		if (poll(&pf, 1, 200) <= 0)
			continue;
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void html_escape(gcmsg_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': gcmsg__buf_puts(b, "&amp;"); break;
		case '<': gcmsg__buf_puts(b, "&lt;"); break;
		case '>': gcmsg__buf_puts(b, "&gt;"); break;
		case '"': gcmsg__buf_puts(b, "&quot;"); break;
		case '\'': gcmsg__buf_puts(b, "&#39;"); break;
		default: gcmsg__buf_append(b, s, 1); break;
		}
	}
}

/* A small HTML page; `text` is escaped. */
static void answer(int fd, int status, const char *reason, const char *headline, const char *text)
{
	gcmsg_buf body = GCMSG_BUF_INIT(8192), head = GCMSG_BUF_INIT(1024);

	gcmsg__buf_puts(&body, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>gcmsg login</title></head>\n"
	                       "<body style=\"font-family: sans-serif\"><h1>");
	html_escape(&body, headline);
	gcmsg__buf_puts(&body, "</h1>\n<p>");
	html_escape(&body, text);
	gcmsg__buf_puts(&body, "</p>\n</body></html>\n");
	gcmsg__buf_printf(&head,
	                  "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
	                  "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
	                  status, reason, body.len);
	write_all_timed(fd, gcmsg__buf_cstr(&head), head.len);
	write_all_timed(fd, gcmsg__buf_cstr(&body), body.len);
	shutdown(fd, SHUT_WR);
	gcmsg__buf_dispose(&head);
	gcmsg__buf_dispose(&body);
}

static int listen_loopback(gcmsg_client *c, int port, int *fd_out, int *port_out)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "cannot open a socket: %s", strerror(errno));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		int e = errno;
		close(fd);
		gcmsg__err_set(&c->err, GCMSG_ECONFIG, "cannot listen on 127.0.0.1:%d for the login redirect: %s", port,
		               strerror(e));
		gcmsg__err_set_fix(&c->err, "%s", e == EADDRINUSE ? "pick another --port, or 0 for any free port"
		                                                   : "check the loopback interface");
		return GCMSG_ECONFIG;
	}
	*fd_out = fd;
	*port_out = ntohs(a.sin_port);
	return GCMSG_OK;
}

/* A slot for a new connection: a free one, else the oldest connection's (closed). */
static conn *take_slot(conn *k)
{
	conn *oldest = NULL;
	int i;

	for (i = 0; i < MAX_CONNS; i++) {
		if (k[i].fd < 0)
			return &k[i];
		if (!oldest || k[i].deadline < oldest->deadline)
			oldest = &k[i];
	}
	conn_close(oldest); /* idle connections cannot keep the redirect out */
	return oldest;
}

/*
 * Serve connections until a GET /callback with our state arrives (its
 * connection is handed back open in *cb_fd, the parsed request in *cb) or the
 * deadline passes. A callback with another state or none is answered 400 and
 * the wait goes on (*refused counts them): only the authorization server's
 * redirect carries the state, so a local process or a web page that finds the
 * port cannot end the login. The listener is always polled: when every slot
 * is taken, a new connection replaces the oldest one.
 */
static int wait_callback(gcmsg_client *c, int lfd, double deadline, const char *state, gcmsg__login_callback *cb,
                         int *cb_fd, int *refused)
{
	conn *k = calloc(MAX_CONNS, sizeof(conn));
	int i, rc = GCMSG_EAUTH;

	*cb_fd = -1;
	*refused = 0;
	if (!k)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	for (i = 0; i < MAX_CONNS; i++)
		k[i].fd = -1;
	for (;;) {
		struct pollfd pf[MAX_CONNS + 1];
		int slot[MAX_CONNS + 1], np = 0, ready;
		double now = gcmsg__now(), next = deadline;
		long ms;

		if (now >= deadline)
			break; /* GCMSG_EAUTH: the caller says how long it waited */
		for (i = 0; i < MAX_CONNS; i++) {
			if (k[i].fd < 0)
				continue;
			if (now >= k[i].deadline) {
				conn_close(&k[i]); /* a connection that never sent a whole request */
				continue;
			}
			if (k[i].deadline < next)
				next = k[i].deadline;
			pf[np].fd = k[i].fd;
			pf[np].events = POLLIN;
			pf[np].revents = 0;
			slot[np++] = i;
		}
		pf[np].fd = lfd;
		pf[np].events = POLLIN;
		pf[np].revents = 0;
		slot[np++] = -1;
		ms = (long)((next - now) * 1000.0) + 1;
		ready = poll(pf, (nfds_t)np, (int)(ms > 1000 ? 1000 : ms));
		if (ready < 0 && errno != EINTR) {
			rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "waiting for the login redirect: %s", strerror(errno));
			break;
		}
		if (ready <= 0)
			continue;
		for (i = 0; i < np; i++) {
			conn *x;
			ssize_t got;
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (slot[i] < 0) {
				int fd = accept(lfd, NULL, NULL);
				if (fd >= 0 && (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)) {
					close(fd);
					fd = -1;
				}
				if (fd >= 0) {
					x = take_slot(k);
					x->fd = fd;
					x->len = 0;
					x->deadline = gcmsg__now() + CONN_TIMEOUT_S;
				}
				continue;
			}
			x = &k[slot[i]];
			if (x->fd < 0)
				continue; /* replaced by a newer connection in this round */
			got = recv(x->fd, x->buf + x->len, sizeof(x->buf) - x->len, 0);
			if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
				continue;
			if (got <= 0) {
				conn_close(x);
				continue;
			}
			x->len += (size_t)got;
			gcmsg__login_parse_request(x->buf, x->len, cb);
			switch (cb->kind) {
			case GCMSG__CB_INCOMPLETE: continue;
			case GCMSG__CB_TOO_LARGE:
				answer(x->fd, 431, "Request Header Fields Too Large", "Request too large",
				       "gcmsg is waiting for the login redirect only.");
				conn_close(x);
				continue;
			case GCMSG__CB_BAD:
				answer(x->fd, 400, "Bad Request", "Bad request",
				       "gcmsg is waiting for the login redirect only.");
				conn_close(x);
				continue;
			case GCMSG__CB_OTHER:
				answer(x->fd, 404, "Not Found", "Not found", "gcmsg is waiting for the login redirect only.");
				conn_close(x);
				continue;
			case GCMSG__CB_CALLBACK:
				if (!cb->has_state || !gcmsg__secret_equal(cb->state, state)) {
					gcmsg__log(c, "refused a login redirect with %s state; still waiting",
					           cb->has_state ? "the wrong" : "no");
					gcmsg__wipe(cb, sizeof(*cb));
					answer(x->fd, 400, "Bad Request", "Not this login",
					       "This redirect does not belong to the login gcmsg is waiting for (its state is "
					       "wrong or missing). gcmsg goes on waiting: open the URL it printed.");
					conn_close(x);
					++*refused;
					continue;
				}
				*cb_fd = x->fd;
				x->fd = -1;
				conn_close(x);
				rc = GCMSG_OK;
				goto done;
			}
		}
	}
done:
	for (i = 0; i < MAX_CONNS; i++)
		conn_close(&k[i]);
	gcmsg__wipe(k, MAX_CONNS * sizeof(conn));
	free(k);
	return rc;
}

/* ---- login ---- */

static int check_options(gcmsg_client *c, const gcmsg_login_options *o)
{
	if (!o)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "no login options given");
	if (o->version != GCMSG_LOGIN_OPTIONS_VERSION)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "unknown gcmsg_login_options version %u", o->version);
	if (!o->client_id || !*o->client_id) {
		gcmsg__err_set(&c->err, GCMSG_ECONFIG, "no OAuth client id to log in with");
		gcmsg__err_set_fix(&c->err, "give the id of an OAuth client with the authorization code grant "
		                            "(--client-id, GENESYSCLOUD_OAUTHCLIENT_ID or the profile's client_id)");
		return GCMSG_ECONFIG;
	}
	if (!gcmsg__printable(o->client_id, 256))
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "the client id has spaces, control or non-ASCII characters");
	if (o->port < 0 || o->port > 65535)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "the redirect port %d is not 0 to 65535", o->port);
	if (o->timeout_ms < 0)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "a negative login timeout");
	if (!o->on_url)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "no on_url callback to show the authorize URL");
	return GCMSG_OK;
}

/* Exchange the code: grant_type=authorization_code with the verifier (+ Basic for a confidential client). */
static int exchange(gcmsg_client *c, const char *code, const char *redirect_uri, const char *verifier)
{
	gcmsg__token_answer a;
	char *ecode = gcmsg__form_escape(code), *eredir = gcmsg__form_escape(redirect_uri);
	char *eid = gcmsg__form_escape(c->client_id), *ever = gcmsg__form_escape(verifier), *form = NULL;
	int rc, secret = c->client_secret != NULL;

	if (ecode && eredir && eid && ever)
		form = gcmsg__asprintf("grant_type=authorization_code&code=%s&redirect_uri=%s&client_id=%s&code_verifier=%s",
		                       ecode, eredir, eid, ever);
	gcmsg__free_secret(ecode);
	free(eredir);
	free(eid);
	gcmsg__free_secret(ever);
	if (!form)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	rc = gcmsg__auth_token_post(c, form, secret ? c->client_id : NULL, secret ? c->client_secret : NULL,
	                            "the authorization code", &a);
	gcmsg__free_secret(form);
	if (rc == GCMSG_EAUTH && c->err.pub.http_status)
		gcmsg__err_set_fix(&c->err,
		                   "run 'gcmsg login' again; check that OAuth client '%s' has the authorization code "
		                   "grant, allows the redirect URI http://127.0.0.1/callback (any port), and is %s",
		                   c->client_id, secret ? "confidential (its secret is right)" : "a public (PKCE) client");
	if (rc < 0)
		return rc;
	gcmsg__auth_take(c, &a);
	gcmsg__token_answer_clear(&a);
	return GCMSG_OK;
}

/* Before the browser: can the login be saved? (the directory made, the lock taken, a file created there) */
static int check_cache(gcmsg_client *c)
{
	int rc;

	if (!c->token_cache)
		return GCMSG_OK;
	rc = gcmsg__token_cache_check_writable(c->token_cache, c->timeout_ms + c->connect_timeout_ms + 5000, &c->err);
	if (rc == GCMSG_ECONFIG)
		gcmsg__err_set_fix(&c->err, "the login could not be saved: make the directory of %s writable (or use "
		                            "another store), then log in again",
		                   c->token_cache);
	return rc;
}

static int save_login(gcmsg_client *c)
{
	int lock = -1, rc;

	if (!c->token_cache)
		return GCMSG_OK;
	rc = gcmsg__token_cache_lock(c->token_cache, c->timeout_ms + c->connect_timeout_ms + 5000, &lock, &c->err);
	if (rc < 0)
		return rc;
	rc = gcmsg__auth_save(c, GCMSG__TOKEN_USER);
	gcmsg__token_cache_unlock(lock);
	if (rc < 0)
		gcmsg__err_set_fix(&c->err, "the login worked but could not be saved: check the directory of %s",
		                   c->token_cache);
	return rc;
}

int gcmsg_login(gcmsg_client **out, const gcmsg_client_options *client_opts, const gcmsg_login_options *opts)
{
	char verifier[4 * ((VERIFIER_BYTES + 2) / 3) + 1], state[4 * ((STATE_BYTES + 2) / 3) + 1];
	char challenge[4 * ((GCMSG__SHA256_LEN + 2) / 3) + 1], redirect[64];
	unsigned char digest[GCMSG__SHA256_LEN];
	char *url = NULL, *eid = NULL, *eredir = NULL;
	gcmsg__login_callback *cb = NULL;
	gcmsg_client *c;
	int rc, lfd = -1, cfd = -1, port = 0, refused = 0;
	long timeout;

	rc = bare_client(out, client_opts);
	if (rc < 0)
		return rc;
	c = *out;
	rc = check_options(c, opts);
	if (rc < 0)
		return rc;
	c->client_id = gcmsg__strdup(opts->client_id);
	c->client_secret = opts->client_secret && *opts->client_secret ? gcmsg__strdup(opts->client_secret) : NULL;
	cb = malloc(sizeof(*cb));
	if (!c->client_id || (opts->client_secret && *opts->client_secret && !c->client_secret) || !cb) {
		free(cb);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	}
	memset(cb, 0, sizeof(*cb));
	rc = check_cache(c);
	if (rc < 0)
		goto done;
	if (random_token(verifier, VERIFIER_BYTES) < 0 || random_token(state, STATE_BYTES) < 0) {
		rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "cannot read random bytes (getrandom): %s", strerror(errno));
		goto done;
	}
	gcmsg__sha256(verifier, strlen(verifier), digest);
	gcmsg__base64url(digest, sizeof(digest), challenge);
	rc = listen_loopback(c, opts->port, &lfd, &port);
	if (rc < 0)
		goto done;
	snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%d/callback", port);
	eid = gcmsg__form_escape(c->client_id);
	eredir = gcmsg__form_escape(redirect);
	url = eid && eredir ? gcmsg__asprintf("%s/oauth/authorize?response_type=code&client_id=%s&redirect_uri=%s"
	                                      "&code_challenge=%s&code_challenge_method=S256&state=%s",
	                                      c->login_url, eid, eredir, challenge, state)
	                    : NULL;
	if (!url) {
		rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		goto done;
	}
	gcmsg__log(c, "waiting for the login redirect on %s", redirect);
	opts->on_url(url, opts->payload);
	timeout = opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	rc = wait_callback(c, lfd, gcmsg__now() + (double)timeout / 1000.0, state, cb, &cfd, &refused);
	close(lfd);
	lfd = -1;
	if (rc == GCMSG_EAUTH) {
		if (refused)
			gcmsg__err_set(&c->err, GCMSG_EAUTH,
			               "no browser came back to the login redirect within %ld s (%d redirect%s with a wrong "
			               "or missing state refused: stale or forged)",
			               (timeout + 999) / 1000, refused, refused == 1 ? "" : "s");
		else
			gcmsg__err_set(&c->err, GCMSG_EAUTH, "no browser came back to the login redirect within %ld s",
			               (timeout + 999) / 1000);
		gcmsg__err_set_fix(&c->err, "open the URL gcmsg printed in a browser on this machine and log in; run "
		                            "'gcmsg login' again (--timeout S gives more time)");
		goto done;
	}
	if (rc < 0)
		goto done;
	if (cb->has_error) {
		gcmsg_buf line = GCMSG_BUF_INIT(512);
		gcmsg__buf_printf(&line, "The login service said: %s%s%s. Run gcmsg login again.", cb->error,
		                  cb->error_description[0] ? ": " : "", cb->error_description);
		answer(cfd, 200, "OK", "Login failed", gcmsg__buf_cstr(&line));
		gcmsg__buf_dispose(&line);
		rc = gcmsg__err_set(&c->err, GCMSG_EAUTH, "the login was refused");
		c->err.genesys_code = gcmsg__strdup(cb->error);
		c->err.pub.genesys_code = c->err.genesys_code;
		if (cb->error_description[0]) {
			c->err.message = gcmsg__strdup(cb->error_description);
			c->err.pub.message = c->err.message;
		}
		gcmsg__err_set_fix(&c->err, "%s",
		                   strcmp(cb->error, "access_denied") == 0
		                       ? "log in and allow gcmsg access, then run 'gcmsg login' again"
		                       : "check the OAuth client (authorization code grant, redirect URI "
		                         "http://127.0.0.1/callback), then run 'gcmsg login' again");
		goto done;
	}
	if (!cb->has_code) {
		answer(cfd, 400, "Bad Request", "Login failed", "The redirect carried no authorization code.");
		rc = gcmsg__err_set(&c->err, GCMSG_EAUTH, "the login redirect carried no authorization code");
		gcmsg__err_set_fix(&c->err, "run 'gcmsg login' again");
		goto done;
	}
	rc = exchange(c, cb->code, redirect, verifier);
	if (rc == GCMSG_OK)
		rc = save_login(c);
	if (rc == GCMSG_OK)
		answer(cfd, 200, "OK", "Logged in", "gcmsg has its token. You can close this window.");
	else
		answer(cfd, 200, "OK", "Login failed",
		       c->err.pub.explanation ? c->err.pub.explanation : "The token request failed.");
done:
	if (lfd >= 0)
		close(lfd);
	if (cfd >= 0)
		close(cfd);
	if (cb) {
		gcmsg__wipe(cb, sizeof(*cb));
		free(cb);
	}
	gcmsg__wipe(verifier, sizeof(verifier));
	gcmsg__wipe(state, sizeof(state));
	gcmsg__wipe(challenge, sizeof(challenge));
	if (url) {
		gcmsg__wipe(url, strlen(url));
		free(url);
	}
	free(eid);
	free(eredir);
	return rc;
}

/* ---- logout ---- */

/*
 * After a GCMSG_EAUTH from the revocation: did the login service refuse the
 * renewal (the refresh token is revoked or expired: 4xx), or was there nothing
 * to renew the token with? Not when the renewal could not be made at all (the
 * cache lock stayed taken, an answer without a usable token).
 */
static int renewal_refused(const gcmsg_client *c)
{
	long st = c->err.pub.http_status;

	return (st >= 400 && st < 500) || (st == 0 && !c->refresh_token);
}

/* The revocation failed with rc: the file stays, and the error says so. */
static int keep_login(gcmsg_client *c, int rc)
{
	char *what = gcmsg__asprintf("could not revoke the login (%s): it is still valid, and %s still holds it",
	                             c->err.explanation ? c->err.explanation : gcmsg_strerror(rc), c->token_cache);

	if (what) {
		free(c->err.explanation);
		c->err.explanation = what;
		c->err.pub.explanation = what;
	}
	c->err.pub.code = rc;
	gcmsg__err_set_fix(&c->err, "run 'gcmsg logout' again once the service answers (check the network and the "
	                            "region)");
	return rc;
}

int gcmsg_logout(gcmsg_client **out, const gcmsg_client_options *client_opts, gcmsg_logout_outcome *outcome)
{
	gcmsg__token_entry e;
	gcmsg__http_resp r;
	gcmsg__err local;
	gcmsg_client *c;
	int rc, lock = -1, revoke_rc, want_secret;

	rc = bare_client(out, client_opts);
	if (rc < 0)
		return rc;
	c = *out;
	if (!outcome)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "no outcome pointer given");
	*outcome = GCMSG_LOGOUT_NOT_LOGGED_IN;
	if (!c->token_cache)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "no token cache given to log out of");
	rc = gcmsg__token_cache_read(c->token_cache, &e, &c->err);
	if (rc == GCMSG_ENOTFOUND) {
		gcmsg__err_clear(&c->err);
		return GCMSG_OK;
	}
	if (rc < 0)
		return rc; /* unsafe, corrupt or foreign: left in place, the message names it */
	if (strcmp(e.login_url, c->login_url) != 0 || strcmp(e.api_url, c->api_url) != 0) {
		rc = gcmsg__err_set(&c->err, GCMSG_ECONFIG,
		                    "the login in %s was made against %s (API %s), but the configuration points at %s "
		                    "(API %s): its token is sent nowhere else",
		                    c->token_cache, e.login_url, e.api_url, c->login_url, c->api_url);
		gcmsg__err_set_fix(&c->err, "run 'gcmsg logout' with the region or URLs of that login, or remove %s",
		                   c->token_cache);
		gcmsg__token_entry_clear(&e);
		return rc;
	}
	/*
	 * The entry's own client. A configured secret is used only to renew a
	 * confidential client's login; a client-credentials token is never renewed
	 * just to be revoked (with no secret, an expired one counts as invalid).
	 */
	want_secret = e.kind == GCMSG__TOKEN_USER && e.refresh_token && client_opts->client_id &&
	              client_opts->client_secret && *client_opts->client_secret &&
	              strcmp(client_opts->client_id, e.client_id) == 0;
	c->client_id = gcmsg__strdup(e.client_id);
	if (want_secret)
		c->client_secret = gcmsg__strdup(client_opts->client_secret);
	if (!c->client_id || (want_secret && !c->client_secret)) {
		gcmsg__token_entry_clear(&e);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	}
	c->token = e.access_token;
	e.access_token = NULL;
	c->token_lifetime = e.lifetime;
	c->token_expires_at = 0;
	if (e.expires_at > 0) {
		double at = gcmsg__now() + (double)(e.expires_at - gcmsg__wall_now());
		c->token_expires_at = at > 0 ? at : 1e-9;
	}
	c->refresh_token = e.refresh_token;
	e.refresh_token = NULL;
	gcmsg__token_entry_clear(&e);

	/* revoke (an expired login is renewed first, so that the login itself goes) */
	gcmsg__http_resp_init(&r);
	revoke_rc = gcmsg__api(c, "DELETE", "/api/v2/tokens/me", NULL, GCMSG__API_NO_ERROR, NULL, &r);
	if (revoke_rc == GCMSG_OK && r.status >= 200 && r.status < 300) {
		*outcome = GCMSG_LOGOUT_REVOKED;
	} else if ((revoke_rc == GCMSG_OK && r.status == 401) || (revoke_rc == GCMSG_EAUTH && renewal_refused(c))) {
		*outcome = GCMSG_LOGOUT_ALREADY_INVALID; /* nothing is left to revoke */
	} else {
		/*
		 * A network failure, a 5xx, any other answer, or a renewal that could not
		 * be made (the login service unreachable, the lock held): the login may
		 * well still work (a refresh token lives for weeks), so its only copy stays.
		 */
		if (revoke_rc == GCMSG_OK) {
			gcmsg__api_error(c, "DELETE", "/api/v2/tokens/me", &r);
			revoke_rc = c->err.pub.code = GCMSG_EREMOTE;
		}
		gcmsg__http_resp_dispose(&r);
		return keep_login(c, revoke_rc);
	}
	gcmsg__http_resp_dispose(&r);

	/* remove the file under the lock, so that no renewal writes it back meanwhile (without, if that times out) */
	gcmsg__err_init(&local);
	(void)gcmsg__token_cache_lock(c->token_cache, c->timeout_ms + c->connect_timeout_ms + 5000, &lock, &local);
	gcmsg__err_clear(&local);
	rc = gcmsg__token_cache_remove(c->token_cache, &local);
	gcmsg__token_cache_unlock(lock);
	if (rc < 0 && rc != GCMSG_ENOTFOUND) {
		rc = gcmsg__err_set(&c->err, rc, "%s", local.explanation ? local.explanation : "cannot remove the token cache");
		gcmsg__err_clear(&local);
		return rc;
	}
	gcmsg__err_clear(&local);
	gcmsg__err_clear(&c->err);
	return GCMSG_OK;
}
