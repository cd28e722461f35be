/*
 * A scripted HTTP/1.1 server for unit tests, in a thread of the test process.
 *
 * It listens on 127.0.0.1 only, on a free port the kernel picks (ss_port()), and
 * serves one request per connection (answers carry "Connection: close"). Every
 * request is parsed into a ss_req (method, target, header block, raw body with its
 * length), handed to the test's handler, which fills a ss_answer (status, extra
 * header lines, body), and kept in a request log of at most SS_MAX_LOG entries.
 * A request is logged before its answer is written, so once a client has its
 * answer the test sees the request in the log.
 *
 * Every buffer is capped: a request line and headers longer than SS_MAX_HEAD, or
 * a request longer than SS_MAX_REQUEST, is dropped unanswered; a read or write
 * that stalls gives up after SS_IO_TIMEOUT_S.
 *
 * Only one server runs per process (ss_start ... ss_stop); the log, the handler
 * and the port are process-wide. The functions are called from the test's
 * thread; the handler runs in the server's thread.
 */
#ifndef GCMSG_TESTS_SCRIPTED_SERVER_H
#define GCMSG_TESTS_SCRIPTED_SERVER_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define SS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SS_PRINTF(f, a)
#endif

#define SS_MAX_LOG 4096                 /* requests kept in the log; later ones are answered, not kept */
#define SS_MAX_HEAD (64u * 1024u)       /* request line and headers, with the blank line */
#define SS_MAX_REQUEST (1024u * 1024u)  /* the whole request: head and body */
#define SS_MAX_ANSWER_HEADERS 4096u     /* the extra header lines of an answer */
#define SS_IO_TIMEOUT_S 5               /* a stalled read or write of one connection gives up */

/* A request as the server received it. */
typedef struct ss_req {
	char method[8];
	char target[2048];   /* truncated beyond 2047 bytes */
	char *headers;       /* the header lines after the request line, each "Name: value\r\n"; never NULL */
	char *body;          /* the raw body (may hold NULs), NUL-terminated after body_len bytes; never NULL */
	size_t body_len;
} ss_req;

/*
 * Statuses a handler may set instead of an HTTP status (the request is logged as any other):
 * SS_DROP closes the connection without a byte of answer (the client reads an empty reply);
 * SS_RESET resets it (SO_LINGER 0: the client reads ECONNRESET, or an empty reply).
 */
#define SS_DROP (-1)
#define SS_RESET (-2)

/* The answer a handler fills; the server frees what it holds. */
typedef struct ss_answer {
	int status;    /* 500 unless the handler sets it */
	char *headers; /* malloc'd extra header lines, each "Name: value\r\n", or NULL (ss_answer_header) */
	char *body;    /* malloc'd and NUL-terminated, or NULL for an empty body (ss_reply) */
} ss_answer;

/* Runs in the server's thread, once per request. Without a handler, every request is answered 500. */
typedef void (*ss_handler)(const ss_req *rq, ss_answer *an);

/* Starts the server: 0, or -1 (nothing left behind). */
int ss_start(void);
/* Stops the server, joins its thread, empties the log and drops the handler. Safe if not started. */
void ss_stop(void);
/* The port the server listens on (127.0.0.1), valid between ss_start and ss_stop. */
int ss_port(void);

void ss_set_handler(ss_handler fn);

/* Empties the request log. */
void ss_clear_log(void);
/* How many requests the log holds. */
int ss_log_count(void);
/* The i-th request of the log (from 0); outside the log, an empty request (no method, no target). */
const ss_req *ss_log_at(int i);
/* How many logged requests have this method. */
int ss_count_method(const char *method);

/* Sets the status and a printf-formatted body (replacing one already set). */
void ss_reply(ss_answer *an, int status, const char *fmt, ...) SS_PRINTF(3, 4);
/* Adds the header line "name: value"; a Content-Type given here replaces the default
 * application/json. -1 (nothing added) on CR or LF, beyond SS_MAX_ANSWER_HEADERS, or on OOM. */
int ss_answer_header(ss_answer *an, const char *name, const char *value);

/* The value of header `name` in a request (first match, case-insensitive name, leading blanks
 * skipped), copied into out (truncated to outlen - 1 bytes); NULL if absent. */
const char *ss_header_of(const ss_req *rq, const char *name, char *out, size_t outlen);
/* The first case-insensitive occurrence of needle in hay (strcasestr without _GNU_SOURCE), or NULL. */
const char *ss_ci_find(const char *hay, const char *needle);
/* ms since the epoch as RFC 3339 UTC with milliseconds ("2026-11-21T09:00:00.000Z"), as the API writes times. */
void ss_iso_time(long long ms, char *out, size_t len);

#endif
