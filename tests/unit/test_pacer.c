/*
 * pacer.c with an injected clock: a client that waits as told stays under a
 * fixed-window server's limit (no 429) over several windows, is not slowed
 * while far from the limit, resumes at once when a window resets, learns from
 * a 429's Retry-After, ignores headers it cannot read, and clamps the ones
 * that would overflow (a reset of 10^16 s, a Retry-After of LONG_MAX s, a
 * clock near the end of its range): UBSan watches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <limits.h>

#include <cmocka.h>

#include "pacer.h"
#include "retry.h"

/* A server with one fixed window per token, opened by its first request (as gcsim). */
typedef struct fake_server {
	long long allowed, window_ms, start, count, throttled;
	int round_down; /* reset rounded down (else up) to whole seconds */
} fake_server;

/* One request at now: 1 accepted, 0 throttled; the headers it answers with. */
static int serve(fake_server *s, long long now, char *count, char *allowed, char *reset)
{
	long long left;

	if (s->start < 0 || now >= s->start + s->window_ms) {
		s->start = now;
		s->count = 0;
	}
	s->count++;
	left = s->start + s->window_ms - now;
	snprintf(count, 32, "%lld", s->count);
	snprintf(allowed, 32, "%lld", s->allowed);
	snprintf(reset, 32, "%lld", s->round_down ? left / 1000 : (left + 999) / 1000);
	if (s->count > s->allowed) {
		s->throttled++;
		return 0;
	}
	return 1;
}

/* n requests, each taking latency ms, paced; returns the clock at the end. */
static long long drive(gcmsg__pacer *p, fake_server *s, int n, long long now, long long latency, int *unpaced_prefix)
{
	char c[32], a[32], r[32];
	int i, prefix = 0, still = 1;

	for (i = 0; i < n; i++) {
		long long d = gcmsg__pacer_delay(p, now);
		if (d > 0)
			still = 0;
		else if (still)
			prefix++;
		now += d;
		gcmsg__pacer_sent(p, now);
		now += latency;
		if (!serve(s, now, c, a, r))
			gcmsg__pacer_throttled(p, now, 1000);
		gcmsg__pacer_observe(p, now, c, a, r);
	}
	if (unpaced_prefix)
		*unpaced_prefix = prefix;
	return now;
}

static void test_stays_under_the_limit(void **state)
{
	int round_down;

	(void)state;
	for (round_down = 0; round_down <= 1; round_down++) {
		fake_server s = { 30, 60000, -1, 0, 0, round_down };
		gcmsg__pacer p;
		int prefix;
		long long end;

		gcmsg__pacer_init(&p);
		end = drive(&p, &s, 200, 1000000, 5, &prefix);
		if (s.throttled)
			fail_msg("round_down %d: %lld requests throttled", round_down, s.throttled);
		/* not slowed while far from the limit: the first half of a window goes at once */
		assert_true(prefix >= 15);
		/* 200 requests at 29 a window (margin 1) need 7 windows, not many more */
		assert_true(end - 1000000 < 9 * 60000);
	}
}

static void test_spreads_the_rest(void **state)
{
	gcmsg__pacer p;
	long long now = 5000;

	(void)state;
	gcmsg__pacer_init(&p);
	gcmsg__pacer_observe(&p, now, "20", "30", "30");
	gcmsg__pacer_sent(&p, now);
	/* used 21 of usable 29 (margin 1): 8 left over 30 s: one every 3.75 s */
	assert_int_equal(gcmsg__pacer_delay(&p, now), 3750);
	/* the interval follows the time left: 27 s for 8 requests */
	assert_int_equal(gcmsg__pacer_delay(&p, now + 3000), 27000 / 8 - 3000);
	assert_int_equal(gcmsg__pacer_delay(&p, now + 3750), 0);
	/* below half: no wait at all (a new pacer: within a window the count never goes down) */
	gcmsg__pacer_init(&p);
	gcmsg__pacer_observe(&p, now, "14", "30", "30");
	assert_int_equal(gcmsg__pacer_delay(&p, now), 0);
	/* the margin reached: wait for the window to end, plus the slack */
	gcmsg__pacer_observe(&p, now, "29", "30", "30");
	assert_int_equal(gcmsg__pacer_delay(&p, now), 30000 + GCMSG__PACER_SLACK_MS);
	assert_int_equal(gcmsg__pacer_delay(&p, now + 30000 + GCMSG__PACER_SLACK_MS), 0);
	/* a small limit keeps a margin of at least one request */
	gcmsg__pacer_init(&p);
	gcmsg__pacer_observe(&p, now, "4", "5", "10");
	assert_int_equal(gcmsg__pacer_delay(&p, now), 10000 + GCMSG__PACER_SLACK_MS);
}

static void test_counts_requests_in_flight(void **state)
{
	gcmsg__pacer p;
	long long now = 1000;

	(void)state;
	gcmsg__pacer_init(&p);
	/* concurrent senders: 45 requests unanswered when an answer says 10 of 100 are used */
	p.inflight = 45;
	p.last_ms = now;
	gcmsg__pacer_observe(&p, now, "10", "100", "60");
	assert_int_equal(p.issued, 45);
	/* used 55 of usable 98: past half, so the 43 left are spread over the 60 s */
	assert_int_equal(gcmsg__pacer_delay(&p, now), 60000 / 43);
	/* without them it would go at once */
	p.inflight = 0;
	gcmsg__pacer_observe(&p, now, "10", "100", "60");
	assert_int_equal(gcmsg__pacer_delay(&p, now), 0);
}

static void test_late_answers(void **state)
{
	gcmsg__pacer p;
	long long now = 0;

	(void)state;
	gcmsg__pacer_init(&p);
	/* window 1: 0..60 s, 299 of 300 used */
	gcmsg__pacer_observe(&p, now, "299", "300", "60");
	/* window 2 observed at 61 s: 150 used, ends at 121 s */
	now = 61000;
	gcmsg__pacer_observe(&p, now, "150", "300", "60");
	assert_int_equal(p.window_end_ms, 121000);
	/* a late answer of window 1 (its reset 0) ends nothing */
	now = 61300;
	gcmsg__pacer_observe(&p, now, "299", "300", "0");
	assert_int_equal(p.window_end_ms, 121000);
	assert_int_equal(p.count, 150);
	/* within window 2, an answer that overtook a later one does not lower the count */
	gcmsg__pacer_observe(&p, now, "170", "300", "60");
	gcmsg__pacer_observe(&p, now, "160", "300", "60");
	assert_int_equal(p.count, 170);
}

static void test_new_window_without_answers(void **state)
{
	gcmsg__pacer p;
	long long now = 0;
	int i;

	(void)state;
	gcmsg__pacer_init(&p);
	gcmsg__pacer_observe(&p, now, "10", "10", "1");
	now = 5000; /* the window is over: half of the next goes, then it waits for an answer */
	for (i = 0; i < 5; i++) {
		assert_int_equal(gcmsg__pacer_delay(&p, now), 0);
		gcmsg__pacer_sent(&p, now);
		p.inflight++;
	}
	assert_int_equal(gcmsg__pacer_delay(&p, now), GCMSG__PACER_FRESH_WAIT_MS);
	/* every one of them ended without headers (a network failure): nothing will tell, so go */
	p.inflight = 0;
	assert_int_equal(gcmsg__pacer_delay(&p, now), 0);
}

static void test_window_resets(void **state)
{
	fake_server s = { 10, 1000, -1, 0, 0, 0 };
	gcmsg__pacer p;
	char c[32], a[32], r[32];
	long long now;

	(void)state;
	gcmsg__pacer_init(&p);
	/* 9 of 10 used at once (usable: 9): the next one waits */
	for (now = 0; now < 9; now++) {
		gcmsg__pacer_sent(&p, now);
		assert_int_equal(serve(&s, now, c, a, r), 1);
		gcmsg__pacer_observe(&p, now, c, a, r);
	}
	/* each answer said the window resets in 1 s (rounded up): the first one (at 0) bounds it best */
	assert_int_equal(gcmsg__pacer_delay(&p, now), (0 + 1000) - 9 + GCMSG__PACER_SLACK_MS);
	/* the window ends: the next answer shows a fresh count and nothing waits */
	now = p.window_end_ms + GCMSG__PACER_SLACK_MS;
	assert_int_equal(gcmsg__pacer_delay(&p, now), 0);
	gcmsg__pacer_sent(&p, now);
	assert_int_equal(serve(&s, now, c, a, r), 1);
	gcmsg__pacer_observe(&p, now, c, a, r);
	assert_string_equal(c, "1");
	assert_int_equal(gcmsg__pacer_delay(&p, now), 0);
}

static void test_learns_from_429(void **state)
{
	gcmsg__pacer p;

	(void)state;
	gcmsg__pacer_init(&p);
	/* without any headers, a 429 still blocks for its Retry-After */
	gcmsg__pacer_throttled(&p, 1000, 3000);
	assert_int_equal(gcmsg__pacer_delay(&p, 1000), 3000);
	assert_int_equal(gcmsg__pacer_delay(&p, 2500), 1500);
	assert_int_equal(gcmsg__pacer_delay(&p, 4000), 0);
	/*
	 * headers that say there is room: the 429 came from another limit (a
	 * service's, or an injected fault): its Retry-After only, not the window
	 */
	gcmsg__pacer_init(&p);
	gcmsg__pacer_observe(&p, 0, "3", "100", "60");
	assert_int_equal(gcmsg__pacer_delay(&p, 0), 0);
	gcmsg__pacer_throttled(&p, 0, 2000);
	assert_int_equal(gcmsg__pacer_delay(&p, 0), 2000);
	assert_int_equal(gcmsg__pacer_delay(&p, 2000), 0);
	/* the 429's own headers say the window is spent: wait for it */
	gcmsg__pacer_observe(&p, 3000, "101", "100", "20");
	gcmsg__pacer_throttled(&p, 3000, 20000);
	assert_int_equal(gcmsg__pacer_delay(&p, 3000), 20000 + GCMSG__PACER_SLACK_MS);
	assert_int_equal(gcmsg__pacer_delay(&p, 24000), 0);
}

static void test_garbage_headers(void **state)
{
	gcmsg__pacer p;

	(void)state;
	gcmsg__pacer_init(&p);
	assert_int_equal(gcmsg__pacer_delay(&p, 0), 0);
	gcmsg__pacer_observe(&p, 0, "", "", "");
	gcmsg__pacer_observe(&p, 0, "29", "x30", "60");
	gcmsg__pacer_observe(&p, 0, "29", "30", "-1");
	gcmsg__pacer_observe(&p, 0, "29", "0", "60");
	gcmsg__pacer_observe(&p, 0, NULL, "30", "60");
	gcmsg__pacer_observe(&p, 0, "99999999999999999999", "30", "60");
	assert_int_equal(p.known, 0);
	assert_int_equal(gcmsg__pacer_delay(&p, 0), 0);
}

static void test_huge_values_clamped(void **state)
{
	gcmsg__pacer p;
	long long d;

	(void)state;
	/* a reset within header_number's 2^50 guard, but * 1000 would overflow */
	gcmsg__pacer_init(&p);
	gcmsg__pacer_observe(&p, 1000, "5", "10", "10000000000000000");
	assert_int_equal(p.known, 1);
	assert_true(p.window_end_ms == 1000 + GCMSG__PACER_MAX_WAIT_MS);
	assert_int_equal(gcmsg__pacer_delay(&p, 2000), 0); /* 5 of 10: far from the limit */
	gcmsg__pacer_observe(&p, 1000, "9", "10", "1125899906842624");
	d = gcmsg__pacer_delay(&p, 2000);
	assert_true(d > 0 && d <= GCMSG__PACER_MAX_WAIT_MS);
	/* a Retry-After of LONG_MAX seconds, as strtol clamps a huge one: no overflow anywhere */
	gcmsg__pacer_init(&p);
	gcmsg__pacer_throttled(&p, 1000, gcmsg__retry_after_ms(LONG_MAX, 3000));
	assert_true(p.blocked_until_ms > 1000);
	d = gcmsg__pacer_delay(&p, 1000);
	assert_true(d > 0 && d <= GCMSG__PACER_MAX_WAIT_MS);
	gcmsg__pacer_throttled(&p, 1000, LLONG_MAX);
	assert_true(gcmsg__pacer_delay(&p, 1000) <= GCMSG__PACER_MAX_WAIT_MS);
	/* a clock near its end */
	gcmsg__pacer_init(&p);
	gcmsg__pacer_throttled(&p, LLONG_MAX - 10, 5000);
	assert_true(p.blocked_until_ms == LLONG_MAX);
	gcmsg__pacer_observe(&p, LLONG_MAX - 10, "9", "10", "60");
	gcmsg__pacer_sent(&p, LLONG_MAX - 10);
	d = gcmsg__pacer_delay(&p, LLONG_MAX - 5);
	assert_true(d >= 0 && d <= GCMSG__PACER_MAX_WAIT_MS);
	/* negative waits are none */
	gcmsg__pacer_init(&p);
	gcmsg__pacer_throttled(&p, 0, -5);
	assert_int_equal(gcmsg__pacer_delay(&p, 0), 0);
	/* the conversion itself: absent, zero, huge */
	assert_true(gcmsg__retry_after_ms(-1, 3000) == 3000);
	assert_true(gcmsg__retry_after_ms(0, 3000) == 0);
	assert_true(gcmsg__retry_after_ms(LONG_MAX, 3000) == GCMSG__RETRY_AFTER_MAX_S * 1000LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stays_under_the_limit), cmocka_unit_test(test_spreads_the_rest),
		cmocka_unit_test(test_counts_requests_in_flight),
		cmocka_unit_test(test_late_answers),
		cmocka_unit_test(test_new_window_without_answers),
		cmocka_unit_test(test_window_resets),         cmocka_unit_test(test_learns_from_429),
		cmocka_unit_test(test_garbage_headers),       cmocka_unit_test(test_huge_values_clamped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
