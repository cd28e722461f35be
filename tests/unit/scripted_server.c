/*
 * The scripted HTTP server of the unit tests (see scripted_server.h): one thread,
 * 127.0.0.1 on a free port, one request per connection, a capped request log.
 */
#include "scripted_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

_Static_assert(SS_MAX_HEAD <= SS_MAX_REQUEST, "the head fits in a request");

#define POLL_MS 20    /* how long the accept loop waits before looking at the stop flag */
#define BACKLOG 16
#define MAX_EINTR 100 /* retries of one read or write interrupted by a signal */

static int listen_fd = -1, listen_port;
static pthread_t server_thread;
static int started;
static atomic_int stopping;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* guards handler, reqlog, nlog */
static ss_handler handler;
static ss_req reqlog[SS_MAX_LOG];
static int nlog;
static char nothing[1]; /* the headers and body of ss_log_at's empty request */

/* ---- header blocks ---- */

const char *ss_ci_find(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; hay && *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

/* The value of header `name` in a block of "Name: value\r\n" lines, or NULL. */
static const char *block_header(const char *block, const char *name, char *out, size_t outlen)
{
	const char *p = block;
	size_t n = strlen(name);

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			break;
		if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			snprintf(out, outlen, "%.*s", (int)(eol - v), v);
			return out;
		}
		p = eol + 2;
	}
	return NULL;
}

const char *ss_header_of(const ss_req *rq, const char *name, char *out, size_t outlen)
{
	return block_header(rq->headers, name, out, outlen);
}

/* ---- answers ---- */

void ss_reply(ss_answer *an, int status, const char *fmt, ...)
{
	va_list ap;
	int n;

	an->status = status;
	free(an->body);
	an->body = NULL;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (an->body = malloc((size_t)n + 1)) == NULL) {
		fprintf(stderr, "scripted server: no body for the answer %d\n", status);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(an->body, (size_t)n + 1, fmt, ap);
	va_end(ap);
}

int ss_answer_header(ss_answer *an, const char *name, const char *value)
{
	size_t have = an->headers ? strlen(an->headers) : 0, add = strlen(name) + 2 + strlen(value) + 2;
	char *h;

	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n") || !*name || have > SS_MAX_ANSWER_HEADERS ||
	    add > SS_MAX_ANSWER_HEADERS - have)
		return -1;
	h = realloc(an->headers, have + add + 1);
	if (!h)
		return -1;
	snprintf(h + have, add + 1, "%s: %s\r\n", name, value);
	an->headers = h;
	return 0;
}

/* ---- the connection ---- */

/* read(2), retrying an interrupted call a bounded number of times */
static ssize_t read_some(int fd, char *p, size_t n)
{
	int tries;

	for (tries = 0; tries < MAX_EINTR; tries++) {
		ssize_t r = read(fd, p, n);
		if (r >= 0 || errno != EINTR)
			return r;
	}
	return -1;
}

/* Writes all of p; never raises SIGPIPE. Each round writes at least a byte or gives up. */
static int write_all(int fd, const char *p, size_t n)
{
	int eintr = 0;

	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR && ++eintr < MAX_EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The Content-Length of a header block: 0 if absent; -1 if malformed or beyond `max`. */
static long content_length(const char *headers, size_t max)
{
	char v[32], *end;
	unsigned long n;

	if (!block_header(headers, "Content-Length", v, sizeof(v)))
		return 0;
	if (strlen(v) >= sizeof(v) - 1 || v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno || *end || n > max)
		return -1;
	return (long)n;
}

/* Reads one request; 0 with *rq filled (the caller frees headers and body), or -1. */
static int read_request(int fd, char *buf, ss_req *rq)
{
	size_t len = 0, hlen, clen;
	const char *hend = NULL, *first_eol;
	long cl;

	/* the head, up to the blank line: each round reads a byte or more, within SS_MAX_HEAD */
	while (!hend) {
		ssize_t n;
		if (len >= SS_MAX_HEAD)
			return -1;
		n = read_some(fd, buf + len, SS_MAX_HEAD - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		hend = strstr(buf, "\r\n\r\n");
	}
	hlen = (size_t)(hend - buf) + 4;
	first_eol = strstr(buf, "\r\n"); /* at or before hend */
	memset(rq, 0, sizeof(*rq));
	sscanf(buf, "%7s %2047s", rq->method, rq->target);
	rq->headers = strndup(first_eol + 2, hlen - 2 - (size_t)(first_eol + 2 - buf));
	if (!rq->headers)
		return -1;
	cl = content_length(rq->headers, SS_MAX_REQUEST - hlen);
	if (cl < 0)
		goto fail;
	clen = (size_t)cl;
	/* the body: each round reads a byte or more, within SS_MAX_REQUEST */
	while (len < hlen + clen) {
		ssize_t n = read_some(fd, buf + len, hlen + clen - len);
		if (n <= 0)
			goto fail;
		len += (size_t)n;
	}
	rq->body = malloc(clen + 1);
	if (!rq->body)
		goto fail;
	memcpy(rq->body, buf + hlen, clen);
	rq->body[clen] = '\0';
	rq->body_len = clen;
	return 0;
fail:
	free(rq->headers);
	rq->headers = NULL;
	return -1;
}

static void write_answer(int fd, ss_answer *an)
{
	char head[256 + SS_MAX_ANSWER_HEADERS], type[8];
	const char *body = an->body ? an->body : "";
	const char *extra = an->headers ? an->headers : "";
	size_t blen = strlen(body);
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n%sContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
	             an->status, block_header(extra, "Content-Type", type, sizeof(type)) ? "" : "Content-Type: application/json\r\n",
	             blen, extra);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		fprintf(stderr, "scripted server: the answer's headers are too long, answering 500\n");
		n = snprintf(head, sizeof(head), "HTTP/1.1 500 X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		blen = 0;
	}
	if (write_all(fd, head, (size_t)n) < 0 || write_all(fd, body, blen) < 0)
		fprintf(stderr, "scripted server: write failed\n");
}

static void serve_one(int fd)
{
	char *buf = malloc(SS_MAX_REQUEST + 1);
	ss_req rq;
	ss_answer an = { 500, NULL, NULL };
	ss_handler fn;

	if (!buf) {
		fprintf(stderr, "scripted server: out of memory\n");
		return;
	}
	if (read_request(fd, buf, &rq) < 0)
		goto out;
	pthread_mutex_lock(&mu);
	fn = handler;
	pthread_mutex_unlock(&mu);
	if (fn)
		fn(&rq, &an);
	/* logged before the answer is written: a client that has its answer finds its request logged */
	pthread_mutex_lock(&mu);
	if (nlog < SS_MAX_LOG)
		reqlog[nlog++] = rq;
	else {
		free(rq.headers);
		free(rq.body);
	}
	pthread_mutex_unlock(&mu);
	if (an.status == SS_RESET) {
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	} else if (an.status != SS_DROP) {
		write_answer(fd, &an);
	}
	free(an.headers);
	free(an.body);
out:
	free(buf);
}

static void set_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags >= 0)
		fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

static void *server_main(void *arg)
{
	struct timeval tv = { SS_IO_TIMEOUT_S, 0 };

	(void)arg;
	while (!atomic_load(&stopping)) {
		struct pollfd p = { listen_fd, POLLIN, 0 };
		int fd;
		if (poll(&p, 1, POLL_MS) <= 0)
			continue;
		fd = accept(listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		set_cloexec(fd);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		serve_one(fd);
		close(fd);
	}
	return NULL;
}

/* ---- start, stop, the log ---- */

int ss_start(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	if (started)
		return -1;
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0)
		return -1;
	set_cloexec(listen_fd);
	/* 127.0.0.1, port 0: the kernel picks a free port (no SO_REUSEADDR, so never a port in use) */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if (bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(listen_fd, BACKLOG) < 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&a, &alen) < 0)
		goto fail;
	listen_port = ntohs(a.sin_port);
	atomic_store(&stopping, 0);
	if (pthread_create(&server_thread, NULL, server_main, NULL) != 0)
		goto fail;
	started = 1;
	return 0;
fail:
	close(listen_fd);
	listen_fd = -1;
	listen_port = 0;
	return -1;
}

void ss_stop(void)
{
	if (started) {
		atomic_store(&stopping, 1);
		pthread_join(server_thread, NULL);
		close(listen_fd);
		listen_fd = -1;
		listen_port = 0;
		started = 0;
	}
	ss_clear_log();
	ss_set_handler(NULL);
}

int ss_port(void)
{
	return listen_port;
}

void ss_set_handler(ss_handler fn)
{
	pthread_mutex_lock(&mu);
	handler = fn;
	pthread_mutex_unlock(&mu);
}

void ss_clear_log(void)
{
	int i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < nlog; i++) {
		free(reqlog[i].headers);
		free(reqlog[i].body);
		memset(&reqlog[i], 0, sizeof(reqlog[i]));
	}
	nlog = 0;
	pthread_mutex_unlock(&mu);
}

int ss_log_count(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = nlog;
	pthread_mutex_unlock(&mu);
	return n;
}

const ss_req *ss_log_at(int i)
{
	static ss_req none = { "", "", nothing, nothing, 0 };
	const ss_req *r = &none;

	pthread_mutex_lock(&mu);
	if (i >= 0 && i < nlog)
		r = &reqlog[i];
	pthread_mutex_unlock(&mu);
	return r;
}

int ss_count_method(const char *method)
{
	int i, n = 0;

	pthread_mutex_lock(&mu);
	for (i = 0; i < nlog; i++)
		n += strcmp(reqlog[i].method, method) == 0;
	pthread_mutex_unlock(&mu);
	return n;
}

void ss_iso_time(long long ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	if (!len)
		return;
	out[0] = '\0';
	if (!gmtime_r(&t, &tm) || (n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
		return;
	snprintf(out + n, len - n, ".%03uZ", (unsigned)((unsigned long long)ms % 1000u));
}
