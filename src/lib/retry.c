/*
 * retry.c - what an HTTP outcome means for a retry, and the waits between
 * attempts.
 *
 * Classification (the suggested policy of the Genesys notes, §g, made
 * precise):
 *   2xx                         OK
 *   429                         THROTTLED  (Retry-After, else the default; beyond the cap: give up)
 *   401                         AUTH       (renew the token once; the request did nothing)
 *   other 4xx, 501, 1xx, 3xx    REJECTED   (never retried: the server understood and refused;
 *                                           501 will not start working; we follow no redirect)
 *   500, 502, 503, 504, 5xx     AMBIGUOUS  (the server may have acted before failing)
 *   no answer, maybe sent       AMBIGUOUS  (timeout, reset, empty reply, TLS failure mid-way)
 *   no answer, never sent       UNSENT     (could not resolve or connect: safe to send again)
 *
 * Waits: a 429 waits its Retry-After (the server knows its window) plus a
 * small jitter (up to a tenth, at most 1 s: senders throttled together do not
 * all come back in the same millisecond), everything else exponential backoff
 * with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * uniform(0, min(cap, base * 2^n)). One operation lasts at most budget_ms of
 * wall-clock time from its start (its requests and pacing count, not only the
 * waits), and makes at most max_attempts attempts.
 *
 * Every product and sum of values that come from outside (headers, policies)
 * is clamped: a huge Retry-After or cap must not overflow.
 *
 * The generator is splitmix64 (Steele, Lea, Flood 2014): one 64-bit state,
 * good enough for jitter, and deterministic for a given seed so that tests
 * can replay a schedule.
 */
#include <errno.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "retry.h"

gcmsg__outcome gcmsg__retry_classify(long status, int sent_maybe)
{
	if (status == 0)
		return sent_maybe ? GCMSG__OUTCOME_AMBIGUOUS : GCMSG__OUTCOME_UNSENT;
	if (status >= 200 && status < 300)
		return GCMSG__OUTCOME_OK;
	if (status == 429)
		return GCMSG__OUTCOME_THROTTLED;
	if (status == 401)
		return GCMSG__OUTCOME_AUTH;
	if (status == 501)
		return GCMSG__OUTCOME_REJECTED;
	if (status >= 500 && status < 600)
		return GCMSG__OUTCOME_AMBIGUOUS;
	/* 4xx, and what we never expect: 1xx (curl handles 100), 3xx (no redirect is followed), >= 600 */
	return GCMSG__OUTCOME_REJECTED;
}

const char *gcmsg__outcome_name(gcmsg__outcome o)
{
	switch (o) {
	case GCMSG__OUTCOME_OK: return "ok";
	case GCMSG__OUTCOME_THROTTLED: return "throttled";
	case GCMSG__OUTCOME_AUTH: return "auth";
	case GCMSG__OUTCOME_REJECTED: return "rejected";
	case GCMSG__OUTCOME_AMBIGUOUS: return "ambiguous";
	case GCMSG__OUTCOME_UNSENT: return "unsent";
	}
	return "?";
}

const char *gcmsg__retry_stop_name(gcmsg__retry_stop s)
{
	switch (s) {
	case GCMSG__RETRY_GO: return "retry";
	case GCMSG__RETRY_NOT_RETRYABLE: return "not retryable";
	case GCMSG__RETRY_ATTEMPTS: return "attempts exhausted";
	case GCMSG__RETRY_BUDGET: return "retry budget exhausted";
	case GCMSG__RETRY_AFTER_CAP: return "Retry-After beyond the cap";
	}
	return "?";
}

void gcmsg__retry_policy_fill(gcmsg_retry_policy *out, const gcmsg_retry_policy *in)
{
	gcmsg_retry_policy p = GCMSG_RETRY_POLICY_INIT;

	if (in)
		p = *in;
	p.version = GCMSG_RETRY_POLICY_VERSION;
	if (p.max_attempts <= 0)
		p.max_attempts = 8;
	if (p.retry_after_default_ms <= 0)
		p.retry_after_default_ms = 3000;
	if (p.retry_after_cap_ms <= 0)
		p.retry_after_cap_ms = 180000;
	if (p.budget_ms <= 0)
		p.budget_ms = 300000;
	if (p.backoff_base_ms <= 0)
		p.backoff_base_ms = 500;
	if (p.backoff_cap_ms <= 0)
		p.backoff_cap_ms = 30000;
	if (p.readback_settle_ms <= 0)
		p.readback_settle_ms = 1000;
	if (p.readback_horizon_ms < 0)
		p.readback_horizon_ms = 0;
	*out = p;
}

long long gcmsg__retry_horizon_ms(const gcmsg_retry_policy *p, long timeout_ms)
{
	if (p && p->readback_horizon_ms > 0)
		return p->readback_horizon_ms;
	return (long long)(timeout_ms > 0 ? timeout_ms : 30000) + GCMSG__HORIZON_EXTRA_MS;
}

long long gcmsg__retry_after_ms(long retry_after_s, long default_ms)
{
	if (retry_after_s < 0)
		return default_ms > 0 ? default_ms : 0;
	/* anything near LONG_MAX is beyond any cap anyway */
	if (retry_after_s > GCMSG__RETRY_AFTER_MAX_S)
		retry_after_s = GCMSG__RETRY_AFTER_MAX_S;
	return (long long)retry_after_s * 1000;
}

long long gcmsg__mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t gcmsg__rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

long long gcmsg__rand_upto(uint64_t *state, long long bound)
{
	uint64_t span, limit, x;

	if (bound <= 0)
		return 0;
	span = (uint64_t)bound + 1;
	/* reject the top partial range so that every value is equally likely */
	limit = UINT64_MAX - (UINT64_MAX % span);
	do
		x = gcmsg__rand_next(state);
	while (x >= limit);
	return (long long)(x % span);
}

void gcmsg__retry_init(gcmsg__retry *r, const gcmsg_retry_policy *p)
{
	static _Atomic uint64_t counter;

	gcmsg__retry_policy_fill(&r->p, p);
	if (r->p.seed) {
		r->rng = r->p.seed;
	} else {
		struct timespec ts;
		uint64_t n = atomic_fetch_add(&counter, 1) + 1;
		clock_gettime(CLOCK_REALTIME, &ts);
		r->rng = ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^
		         ((uint64_t)getpid() << 32) ^ (n * 0x9e3779b97f4a7c15ULL);
	}
	r->attempts = 0;
	r->backoffs = 0;
	r->waited_ms = 0;
	r->clock = gcmsg__mono_ms;
	r->start_ms = r->clock();
}

long long gcmsg__retry_budget_left(const gcmsg__retry *r)
{
	long long used = r->clock ? r->clock() - r->start_ms : 0, left;

	if (used < r->waited_ms)
		used = r->waited_ms;
	left = r->p.budget_ms - used;
	return left > 0 ? left : 0;
}

long long gcmsg__retry_backoff(gcmsg__retry *r)
{
	long long ceiling = r->p.backoff_cap_ms, left = gcmsg__retry_budget_left(r), wait;

	if (left <= 0)
		return -1;
	/* base * 2^n without overflow: once it passes the cap (or half the range), the cap it is */
	if (r->backoffs < 63) {
		long long grown = r->p.backoff_base_ms;
		int i;
		for (i = 0; i < r->backoffs && grown < ceiling; i++) {
			if (grown > ceiling / 2) {
				grown = ceiling;
				break;
			}
			grown *= 2;
		}
		if (grown < ceiling)
			ceiling = grown;
	}
	if (r->backoffs < 1000000)
		r->backoffs++;
	wait = gcmsg__rand_upto(&r->rng, ceiling);
	if (wait > left)
		wait = left;
	r->waited_ms += wait;
	return wait;
}

int gcmsg__retry_spend(gcmsg__retry *r, long long extra_ms)
{
	if (extra_ms < 0)
		extra_ms = 0;
	if (extra_ms > gcmsg__retry_budget_left(r))
		return -1;
	r->waited_ms += extra_ms;
	return 0;
}

gcmsg__retry_stop gcmsg__retry_throttle(gcmsg__retry *r, long retry_after_s, long long *wait_ms)
{
	long long ra = gcmsg__retry_after_ms(retry_after_s, r->p.retry_after_default_ms), bound, left;

	*wait_ms = ra;
	if (ra > r->p.retry_after_cap_ms)
		return GCMSG__RETRY_AFTER_CAP;
	left = gcmsg__retry_budget_left(r);
	if (ra > left)
		return GCMSG__RETRY_BUDGET;
	bound = ra / 10 < GCMSG__THROTTLE_JITTER_MS ? ra / 10 : GCMSG__THROTTLE_JITTER_MS;
	if (bound > left - ra)
		bound = left - ra;
	*wait_ms = ra + gcmsg__rand_upto(&r->rng, bound);
	r->waited_ms += *wait_ms;
	return GCMSG__RETRY_GO;
}

gcmsg__retry_stop gcmsg__retry_next(gcmsg__retry *r, gcmsg__outcome o, long retry_after_s, long long *wait_ms)
{
	long long w;

	*wait_ms = 0;
	r->attempts++;
	if (o != GCMSG__OUTCOME_THROTTLED && o != GCMSG__OUTCOME_AMBIGUOUS && o != GCMSG__OUTCOME_UNSENT)
		return GCMSG__RETRY_NOT_RETRYABLE;
	if (o == GCMSG__OUTCOME_THROTTLED &&
	    gcmsg__retry_after_ms(retry_after_s, r->p.retry_after_default_ms) > r->p.retry_after_cap_ms)
		return GCMSG__RETRY_AFTER_CAP;
	if (r->attempts >= r->p.max_attempts)
		return GCMSG__RETRY_ATTEMPTS;
	if (o == GCMSG__OUTCOME_THROTTLED) {
		gcmsg__retry_stop s = gcmsg__retry_throttle(r, retry_after_s, &w);
		if (s != GCMSG__RETRY_GO)
			return s;
	} else {
		w = gcmsg__retry_backoff(r);
		if (w < 0)
			return GCMSG__RETRY_BUDGET;
	}
	*wait_ms = w;
	return GCMSG__RETRY_GO;
}

void gcmsg__sleep_ms(long long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
