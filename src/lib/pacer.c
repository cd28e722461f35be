/*
 * pacer.c - stay under the server's rate limit instead of bouncing off 429s.
 *
 * Genesys answers every API call with inin-ratelimit-allowed (the limit),
 * inin-ratelimit-count (requests used in the current window) and
 * inin-ratelimit-reset (seconds until the window resets), per OAuth token
 * (the Genesys notes §g; gcsim: one fixed 60 s window per token). One pacer
 * per token: a client's own, or the one the concurrent senders of a bulk run
 * share (gcmsg__shared, used under its lock).
 *
 * The algorithm, before each request at time `now`:
 *
 *  1. A 429 seen with Retry-After R at time t blocks everything until t + R
 *     (only that: the 429 may come from another limit than the window the
 *     headers describe, and its own headers are learnt as any answer's).
 *  2. Without a complete observation: go. Once the observed window has ended
 *     (its end + GCMSG__PACER_SLACK_MS: reset comes in whole seconds and may
 *     be rounded down), a new one has begun: half of its allowance goes at
 *     once, then requests wait for an answer with the new window's count
 *     (many senders must not all rush into it). The end is the earliest
 *     observation time + reset seen in the window: with reset rounded up
 *     (gcsim, and Genesys's "61" for a 60 s window) that is the tightest bound.
 *  3. used = count (as observed) + requests sent since that observation +
 *     requests that were unanswered at it (the server may or may not have
 *     counted them: they are counted, so concurrent senders never overshoot).
 *     usable = allowed - margin, margin = max(1, allowed / 50): a safety
 *     margin for requests this pacer cannot see (another process using the
 *     same token) and for a reset rounded down.
 *  4. used >= usable: the window is spent: wait until it ends, plus the slack.
 *  5. used < allowed / 2: plenty left: go (no pacing while far from the limit).
 *  6. Otherwise spread what is left evenly over the time left: the next
 *     request may go interval = time_left / (usable - used) after the
 *     previous one. As both shrink together, the pace stays steady and the
 *     last usable request lands just before the window resets. Concurrent
 *     senders queue for their turns (gcmsg__pace).
 *
 * The client caps a wait at the retry policy's retry_after_cap_ms: beyond it
 * (an hourly or daily window) the request goes ahead and the server's 429 and
 * its Retry-After decide (see gcmsg__api and the send loop).
 *
 * Header values are outside input: a reset or Retry-After is clamped to
 * GCMSG__PACER_MAX_WAIT_MS and every sum saturates, so no value overflows.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pacer.h"
#include "retry.h"

void gcmsg__pacer_init(gcmsg__pacer *p)
{
	memset(p, 0, sizeof(*p));
	p->last_ms = -1;
}

/* a + b for b >= 0, saturating at LLONG_MAX */
static long long sat_add(long long a, long long b)
{
	if (b < 0)
		b = 0;
	return a > LLONG_MAX - b ? LLONG_MAX : a + b;
}

static long long clamp_wait(long long ms)
{
	return ms < 0 ? 0 : ms > GCMSG__PACER_MAX_WAIT_MS ? GCMSG__PACER_MAX_WAIT_MS : ms;
}

static long long margin_of(long long allowed)
{
	long long m = allowed / GCMSG__PACER_MARGIN_DIV;

	return m < GCMSG__PACER_MARGIN_MIN ? GCMSG__PACER_MARGIN_MIN : m;
}

/* Has the observed window ended (its end + the slack)? */
static int window_over(const gcmsg__pacer *p, long long now_ms)
{
	return !p->known || now_ms >= sat_add(p->window_end_ms, GCMSG__PACER_SLACK_MS);
}

long long gcmsg__pacer_delay(const gcmsg__pacer *p, long long now_ms)
{
	long long wait = 0, w = 0;

	if (p->blocked_until_ms > now_ms)
		wait = p->blocked_until_ms - now_ms;
	if (p->known && window_over(p, now_ms) && p->allowed > 0) {
		/*
		 * A new window, not observed yet: half of it at once, then wait for
		 * an answer to tell more, while one can still come (when every
		 * request has ended without the headers, nothing will tell: go).
		 */
		if (p->fresh_issued >= p->allowed / 2 && p->inflight > 0)
			w = GCMSG__PACER_FRESH_WAIT_MS;
	} else if (p->known && p->allowed > 0) {
		long long used = sat_add(p->count, p->issued);
		long long usable = p->allowed - margin_of(p->allowed);
		long long left_ms = p->window_end_ms - now_ms;

		if (used >= usable) {
			w = sat_add(left_ms, GCMSG__PACER_SLACK_MS);
		} else if (used >= p->allowed - used && left_ms > 0) {
			long long interval = left_ms / (usable - used);
			if (p->last_ms >= 0 && sat_add(p->last_ms, interval) > now_ms)
				w = sat_add(p->last_ms, interval) - now_ms;
		}
	}
	return clamp_wait(w > wait ? w : wait);
}

void gcmsg__pacer_sent(gcmsg__pacer *p, long long now_ms)
{
	if (p->known && window_over(p, now_ms)) {
		if (p->fresh_issued < LLONG_MAX)
			p->fresh_issued++;
	} else if (p->issued < LLONG_MAX) {
		p->issued++;
	}
	p->last_ms = now_ms;
}

/* A non-negative decimal integer (no sign, no garbage), else -1. */
static long long header_number(const char *s)
{
	long long v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (1LL << 50))
			return -1; /* absurd: ignore */
		v = v * 10 + (*s - '0');
	}
	return v;
}

void gcmsg__pacer_observe(gcmsg__pacer *p, long long now_ms, const char *count, const char *allowed,
                          const char *reset)
{
	long long c = header_number(count), a = header_number(allowed), r = header_number(reset), end;
	int same_window;

	if (c < 0 || a <= 0 || r < 0)
		return;
	/* reset (seconds, at most 2^50) in ms, clamped: no overflow */
	end = sat_add(now_ms, clamp_wait(r > GCMSG__PACER_MAX_WAIT_MS / 1000 ? GCMSG__PACER_MAX_WAIT_MS : r * 1000));
	/*
	 * Within the window we know, an answer can move its end earlier by the
	 * rounding of reset (1 s) at most. One that ends it sooner is a late
	 * answer to a request of the window before: ignored, or it would end this
	 * window early and let a second burst in. (Unless it says the window is
	 * spent: a limit the server enforces is never ignored.)
	 */
	if (p->known && now_ms < p->window_end_ms && end + 1000 < p->window_end_ms && c < a)
		return;
	same_window = p->known && now_ms < p->window_end_ms && end <= sat_add(p->window_end_ms, 1000);
	/* answers overtake each other: within a window the count only grows */
	p->count = same_window && p->count > c ? p->count : c;
	p->known = 1;
	p->allowed = a;
	if (!same_window || end < p->window_end_ms)
		p->window_end_ms = end;
	p->issued = p->inflight;
	p->fresh_issued = 0;
}

void gcmsg__pacer_throttled(gcmsg__pacer *p, long long now_ms, long long retry_after_ms)
{
	long long until = sat_add(now_ms, clamp_wait(retry_after_ms));

	/*
	 * Only the Retry-After: a 429 may come from another limit than the token's
	 * window the headers describe (a service's own limit, an organization's),
	 * so it does not mark that window spent; the headers of the 429 itself,
	 * observed as any answer's, say whether it is.
	 */
	if (until > p->blocked_until_ms)
		p->blocked_until_ms = until;
}

/* The pacer slot of c's token: its own, or the shared one (locked by the caller). */
static gcmsg__pacer **slot_of(gcmsg_client *c)
{
	return c->shared ? &c->shared->pacer : &c->pacer;
}

static void lock(gcmsg_client *c)
{
	if (c->shared)
		pthread_mutex_lock(&c->shared->mu);
}

static void unlock(gcmsg_client *c)
{
	if (c->shared)
		pthread_mutex_unlock(&c->shared->mu);
}

/* A sender waiting for its turn (gcmsg__shared's queue); on its own stack. */
typedef struct gcmsg__pace_waiter {
	pthread_cond_t cv;
	struct gcmsg__pace_waiter *next;
} pace_waiter;

/* What a request's wait was, for the log. */
typedef struct pace_note {
	long long start, waited, capped, count, issued, allowed;
} pace_note;

/*
 * Under the lock (when shared): wait until the pacer gives this request its
 * turn, then take it. Only one sender at a time waits here: it sleeps (at most
 * GCMSG__PACER_RECHECK_MS at a time, so an answer that arrives meanwhile
 * counts) and looks again.
 */
static void take_turn(gcmsg_client *c, const gcmsg_retry_policy *pol, pace_note *n)
{
	gcmsg__pacer *p;
	long long now, d;

	for (;;) {
		p = *slot_of(c);
		now = gcmsg__mono_ms();
		d = p ? gcmsg__pacer_delay(p, now) : 0;
		if (d > pol->retry_after_cap_ms) {
			n->capped = d; /* an hourly or daily window: go ahead, the server decides */
			d = 0;
		}
		if (d <= 0)
			break;
		unlock(c);
		gcmsg__sleep_ms(c->shared && d > GCMSG__PACER_RECHECK_MS ? GCMSG__PACER_RECHECK_MS : d);
		lock(c);
	}
	n->waited = now - n->start;
	if (p) {
		n->count = p->count;
		n->issued = p->issued;
		n->allowed = p->allowed;
		gcmsg__pacer_sent(p, now);
		if (p->inflight < LLONG_MAX)
			p->inflight++;
	}
}

/*
 * Wait for this request's turn, then take it. The senders of a bulk run that
 * share a pacer queue for their turns in order: the first in the queue waits
 * for the turn, the others sleep until they are first (one wake-up each, not
 * one per sender per turn). With nobody waiting and a turn free, a request
 * goes at once.
 */
void gcmsg__pace(gcmsg_client *c, const char *method, const char *path)
{
	gcmsg_retry_policy pol;
	pace_note n;

	if (c->no_pacing)
		return;
	memset(&n, 0, sizeof(n));
	gcmsg__retry_policy_fill(&pol, &c->retry);
	lock(c);
	n.start = gcmsg__mono_ms();
	if (!c->shared || (!c->shared->wait_head && (!c->shared->pacer ||
	                                             gcmsg__pacer_delay(c->shared->pacer, n.start) <= 0))) {
		take_turn(c, &pol, &n);
	} else {
		gcmsg__shared *sh = c->shared;
		pace_waiter me;

		me.next = NULL;
		pthread_cond_init(&me.cv, NULL);
		if (sh->wait_tail)
			sh->wait_tail->next = &me;
		else
			sh->wait_head = &me;
		sh->wait_tail = &me;
		while (sh->wait_head != &me)
			pthread_cond_wait(&me.cv, &sh->mu);
		take_turn(c, &pol, &n);
		sh->wait_head = me.next;
		if (!sh->wait_head)
			sh->wait_tail = NULL;
		else
			pthread_cond_signal(&sh->wait_head->cv);
		pthread_cond_destroy(&me.cv);
	}
	unlock(c);
	if (n.capped)
		gcmsg__log(c, "pacing: %s %s would have to wait %lld ms for the rate limit window; "
		              "going ahead (the server decides)",
		           method, path, n.capped);
	else if (n.waited > 0)
		gcmsg__log(c, "pacing: %s %s waited %lld ms (ratelimit count %lld+%lld of %lld)", method, path,
		           n.waited, n.count, n.issued, n.allowed);
}

void gcmsg__pace_learn(gcmsg_client *c, const gcmsg__http_resp *r)
{
	gcmsg__pacer **slot, *p;
	long long now;

	if (c->no_pacing)
		return;
	lock(c);
	if (c->shared && r) {
		c->shared->requests++;
		if (r->status == 429)
			c->shared->throttled++;
	}
	slot = slot_of(c);
	if (*slot && (*slot)->inflight > 0)
		(*slot)->inflight--;
	/* nothing to learn from an answer without the headers, or from no answer */
	if (!r || (r->status != 429 && !(r->rl_count[0] && r->rl_allowed[0] && r->rl_reset[0])))
		goto out;
	if (!*slot) {
		if (!(*slot = malloc(sizeof(**slot))))
			goto out; /* pacing is an optimisation: go without */
		gcmsg__pacer_init(*slot);
	}
	p = *slot;
	now = gcmsg__mono_ms();
	gcmsg__pacer_observe(p, now, r->rl_count, r->rl_allowed, r->rl_reset);
	if (r->status == 429) {
		gcmsg_retry_policy pol;
		gcmsg__retry_policy_fill(&pol, &c->retry);
		gcmsg__pacer_throttled(p, now, gcmsg__retry_after_ms(r->retry_after, pol.retry_after_default_ms));
	}
out:
	unlock(c);
}
