/*
 * pacer.h - request pacing from the inin-ratelimit-* headers (private;
 * pacer.c). The core is pure: every function takes the time (monotonic
 * milliseconds) from its caller, so tests drive it with their own clock.
 */
#ifndef GCMSG_PACER_H
#define GCMSG_PACER_H

#include "internal.h"

/* Flat (client.c frees it with free()). */
struct gcmsg__pacer {
	int known;                  /* a complete set of headers was seen */
	long long allowed, count;   /* as of the last observation */
	long long window_end_ms;    /* observation time + reset */
	long long issued;           /* requests sent since that observation (or unanswered at it) */
	long long inflight;         /* requests sent and not answered yet */
	long long fresh_issued;     /* requests sent since the observed window ended, before a new observation */
	long long last_ms;          /* when the last request went out; -1: none yet */
	long long blocked_until_ms; /* a 429's Retry-After runs until then; 0: none */
};

typedef struct gcmsg__pacer gcmsg__pacer;

/* Requests held back from the limit: max(GCMSG__PACER_MARGIN_MIN, allowed / GCMSG__PACER_MARGIN_DIV). */
#define GCMSG__PACER_MARGIN_MIN 1
#define GCMSG__PACER_MARGIN_DIV 50
/* Waiting for a window to reset, wait this much longer (reset is given in whole seconds). */
#define GCMSG__PACER_SLACK_MS 500
/* No wait (reset, Retry-After, delay) is taken as longer than this: a bigger header is clamped. */
/* A new window nobody has observed yet: after half its allowance, wait this long for an answer's headers. */
#define GCMSG__PACER_FRESH_WAIT_MS 20
/* Concurrent senders waiting for their turn look again at least this often. */
#define GCMSG__PACER_RECHECK_MS 50
#define GCMSG__PACER_MAX_WAIT_MS (366LL * 86400 * 1000)

void gcmsg__pacer_init(gcmsg__pacer *p);
/* How long to wait before the next request at now_ms (0: go). */
long long gcmsg__pacer_delay(const gcmsg__pacer *p, long long now_ms);
/* A request goes out at now_ms. */
void gcmsg__pacer_sent(gcmsg__pacer *p, long long now_ms);
/* An answer's headers (as received; any may be empty or garbage: then nothing is learnt; reset is clamped). */
void gcmsg__pacer_observe(gcmsg__pacer *p, long long now_ms, const char *count, const char *allowed,
                          const char *reset);
/*
 * A 429: nothing goes out for retry_after_ms (clamped to GCMSG__PACER_MAX_WAIT_MS).
 * The window the headers describe is not marked spent: the 429 may come from
 * another limit; its own headers are observed as any answer's.
 */
void gcmsg__pacer_throttled(gcmsg__pacer *p, long long now_ms, long long retry_after_ms);

/* The client's side (no-ops with no_pacing): wait before a request, learn from its answer. */
void gcmsg__pace(gcmsg_client *c, const char *method, const char *path);
/* After every request: r is its answer, or NULL when none came. */
void gcmsg__pace_learn(gcmsg_client *c, const gcmsg__http_resp *r);

#endif
