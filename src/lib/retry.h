/*
 * retry.h - what an HTTP outcome means for a retry, and how long to wait
 * before the next attempt (private; retry.c). Pure apart from the seeding of
 * the generator when the policy's seed is 0, the operation's clock (the
 * budget is wall-clock time; tests inject a clock) and gcmsg__sleep_ms.
 */
#ifndef GCMSG_RETRY_H
#define GCMSG_RETRY_H

#include <stdint.h>

#include "internal.h"

/* What one attempt's outcome means. */
typedef enum gcmsg__outcome {
	GCMSG__OUTCOME_OK = 0,    /* 2xx */
	GCMSG__OUTCOME_THROTTLED, /* 429: wait Retry-After, then again */
	GCMSG__OUTCOME_AUTH,      /* 401: renew the token (once), then again */
	GCMSG__OUTCOME_REJECTED,  /* other 4xx, 501, 1xx/3xx: never again */
	GCMSG__OUTCOME_AMBIGUOUS, /* 5xx but 501, or no answer after the request may have left */
	GCMSG__OUTCOME_UNSENT     /* no answer, and the request provably never left (connect failure) */
} gcmsg__outcome;

/*
 * status: the HTTP status, 0 when no answer came; sent_maybe (only read when
 * status is 0): could the request have reached the server
 * (gcmsg__http_resp.sent_maybe).
 */
gcmsg__outcome gcmsg__retry_classify(long status, int sent_maybe);
/* "ok", "throttled", "auth", "rejected", "ambiguous", "unsent". */
const char *gcmsg__outcome_name(gcmsg__outcome o);

/*
 * The policy with every zero (or negative) field replaced by its default;
 * readback_horizon_ms stays 0 (its default depends on the client: see
 * gcmsg__retry_horizon_ms).
 */
void gcmsg__retry_policy_fill(gcmsg_retry_policy *out, const gcmsg_retry_policy *in);

/* The in-flight horizon: p->readback_horizon_ms, or (0) the request timeout + GCMSG__HORIZON_EXTRA_MS. */
#define GCMSG__HORIZON_EXTRA_MS 30000L
long long gcmsg__retry_horizon_ms(const gcmsg_retry_policy *p, long timeout_ms);

/* A Retry-After (whole seconds, -1 when absent) in ms: absent -> default_ms; clamped (no overflow). */
#define GCMSG__RETRY_AFTER_MAX_S 100000000L
long long gcmsg__retry_after_ms(long retry_after_s, long default_ms);
/* The jitter added to a Retry-After of ra_ms: uniform in [0, min(ra_ms / 10, GCMSG__THROTTLE_JITTER_MS)]. */
#define GCMSG__THROTTLE_JITTER_MS 1000LL

/* splitmix64: a small, fast generator with a 64-bit state. */
uint64_t gcmsg__rand_next(uint64_t *state);
/* Uniform in [0, bound] (bound >= 0). */
long long gcmsg__rand_upto(uint64_t *state, long long bound);

/* Why a retry loop stops. */
typedef enum gcmsg__retry_stop {
	GCMSG__RETRY_GO = 0,          /* retry after *wait_ms */
	GCMSG__RETRY_NOT_RETRYABLE,   /* OK, REJECTED (and AUTH: renewal is the caller's business) */
	GCMSG__RETRY_ATTEMPTS,        /* max_attempts reached */
	GCMSG__RETRY_BUDGET,          /* the wait would go beyond budget_ms */
	GCMSG__RETRY_AFTER_CAP        /* a Retry-After beyond retry_after_cap_ms */
} gcmsg__retry_stop;

/* "retry", "not retryable", "attempts exhausted", "retry budget exhausted", "Retry-After beyond the cap". */
const char *gcmsg__retry_stop_name(gcmsg__retry_stop s);

/* The retry state of one operation. */
typedef struct gcmsg__retry {
	gcmsg_retry_policy p;  /* filled */
	uint64_t rng;
	int attempts;          /* attempts made so far (gcmsg__retry_next counts the one it is told about) */
	int backoffs;          /* exponent n of the next backoff */
	long long waited_ms;   /* total of the waits granted */
	long long (*clock)(void); /* monotonic ms (gcmsg__mono_ms; a test may put its own) */
	long long start_ms;    /* the clock when the operation started */
} gcmsg__retry;

/*
 * Start an operation under policy p (NULL: the defaults) now: its budget runs
 * from here. The generator is seeded from p->seed, or, when it is 0, from the
 * clock, the pid and a process-wide counter.
 */
void gcmsg__retry_init(gcmsg__retry *r, const gcmsg_retry_policy *p);

/*
 * What is left of the budget: budget_ms less the time since the operation
 * started (requests, pacing and waits), or less the waits granted when that is
 * more (a wait is granted before it is slept). 0 when spent.
 */
long long gcmsg__retry_budget_left(const gcmsg__retry *r);

/*
 * The attempt just made ended with outcome o (retry_after_s: the answer's
 * Retry-After in seconds, -1 when absent). Counts the attempt, then decides:
 * GCMSG__RETRY_GO with *wait_ms set, or why not. Waits:
 *  - THROTTLED: gcmsg__retry_throttle.
 *  - AMBIGUOUS, UNSENT: full jitter, uniform(0, min(cap, base * 2^n)), n the
 *    backoffs drawn so far; clipped to what is left of the budget, and
 *    GCMSG__RETRY_BUDGET once nothing is left.
 * Waits granted are added to waited_ms.
 */
gcmsg__retry_stop gcmsg__retry_next(gcmsg__retry *r, gcmsg__outcome o, long retry_after_s, long long *wait_ms);

/*
 * The wait after a 429 (the attempt not counted): Retry-After (else
 * retry_after_default_ms) plus a jitter of up to a tenth of it (at most
 * GCMSG__THROTTLE_JITTER_MS), never less than the Retry-After, so that
 * senders throttled together do not come back together. Beyond
 * retry_after_cap_ms: GCMSG__RETRY_AFTER_CAP (*wait_ms the Retry-After);
 * beyond what is left of the budget: GCMSG__RETRY_BUDGET (waking up early
 * would only meet another 429; the jitter alone is clipped to the budget).
 */
gcmsg__retry_stop gcmsg__retry_throttle(gcmsg__retry *r, long retry_after_s, long long *wait_ms);

/* One backoff draw (the AMBIGUOUS/UNSENT rule above) without counting an attempt; -1 when the budget is spent. */
long long gcmsg__retry_backoff(gcmsg__retry *r);
/* Take extra_ms out of the budget (e.g. the read-back settle time): 0, or -1 when it does not fit. */
int gcmsg__retry_spend(gcmsg__retry *r, long long extra_ms);

/* Sleep, resuming after signals. */
void gcmsg__sleep_ms(long long ms);
/* The monotonic clock in ms. */
long long gcmsg__mono_ms(void);

#endif
