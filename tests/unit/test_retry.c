/*
 * retry.c: the classification of HTTP outcomes, the policy's defaults, the
 * waits (Retry-After with its jitter and cap, full-jitter backoff within its
 * bounds), the budget (wall-clock time, on an injected clock) and attempt
 * limits, the generator's determinism per seed, the in-flight horizon's
 * default, and values that would overflow (a huge cap, base, Retry-After or
 * budget): UBSan watches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "retry.h"

static void test_classify(void **state)
{
	static const struct {
		long status;
		int sent_maybe;
		gcmsg__outcome want;
	} table[] = {
		{ 200, 1, GCMSG__OUTCOME_OK },        { 201, 1, GCMSG__OUTCOME_OK },
		{ 202, 1, GCMSG__OUTCOME_OK },        { 204, 1, GCMSG__OUTCOME_OK },
		{ 299, 1, GCMSG__OUTCOME_OK },        { 429, 1, GCMSG__OUTCOME_THROTTLED },
		{ 401, 1, GCMSG__OUTCOME_AUTH },      { 400, 1, GCMSG__OUTCOME_REJECTED },
		{ 403, 1, GCMSG__OUTCOME_REJECTED },  { 404, 1, GCMSG__OUTCOME_REJECTED },
		{ 408, 1, GCMSG__OUTCOME_REJECTED },  { 409, 1, GCMSG__OUTCOME_REJECTED },
		{ 413, 1, GCMSG__OUTCOME_REJECTED },  { 415, 1, GCMSG__OUTCOME_REJECTED },
		{ 501, 1, GCMSG__OUTCOME_REJECTED },  { 500, 1, GCMSG__OUTCOME_AMBIGUOUS },
		{ 502, 1, GCMSG__OUTCOME_AMBIGUOUS }, { 503, 1, GCMSG__OUTCOME_AMBIGUOUS },
		{ 504, 1, GCMSG__OUTCOME_AMBIGUOUS }, { 599, 1, GCMSG__OUTCOME_AMBIGUOUS },
		{ 0, 1, GCMSG__OUTCOME_AMBIGUOUS },   { 0, 0, GCMSG__OUTCOME_UNSENT },
		{ 301, 1, GCMSG__OUTCOME_REJECTED },  { 100, 1, GCMSG__OUTCOME_REJECTED },
		{ 600, 1, GCMSG__OUTCOME_REJECTED },
		/* sent_maybe only matters without an answer */
		{ 503, 0, GCMSG__OUTCOME_AMBIGUOUS }, { 200, 0, GCMSG__OUTCOME_OK },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		gcmsg__outcome got = gcmsg__retry_classify(table[i].status, table[i].sent_maybe);
		if (got != table[i].want)
			fail_msg("status %ld sent_maybe %d: %s, want %s", table[i].status, table[i].sent_maybe,
			         gcmsg__outcome_name(got), gcmsg__outcome_name(table[i].want));
	}
	assert_string_equal(gcmsg__outcome_name(GCMSG__OUTCOME_AMBIGUOUS), "ambiguous");
	assert_string_equal(gcmsg__outcome_name(GCMSG__OUTCOME_UNSENT), "unsent");
}

static void test_policy_defaults(void **state)
{
	gcmsg_retry_policy in = GCMSG_RETRY_POLICY_INIT, p;

	(void)state;
	gcmsg__retry_policy_fill(&p, NULL);
	assert_int_equal(p.max_attempts, 8);
	assert_int_equal(p.retry_after_default_ms, 3000);
	assert_int_equal(p.retry_after_cap_ms, 180000);
	assert_int_equal(p.budget_ms, 300000);
	assert_int_equal(p.backoff_base_ms, 500);
	assert_int_equal(p.backoff_cap_ms, 30000);
	assert_int_equal(p.readback_settle_ms, 1000);
	in.max_attempts = 1;
	in.backoff_base_ms = 7;
	in.budget_ms = -5; /* nonsense takes the default */
	gcmsg__retry_policy_fill(&p, &in);
	assert_int_equal(p.max_attempts, 1);
	assert_int_equal(p.backoff_base_ms, 7);
	assert_int_equal(p.budget_ms, 300000);
}

/* The operations' clock: it moves only when a test moves it. */
static long long fake_now;

static long long fake_clock(void)
{
	return fake_now;
}

static gcmsg__retry fresh(int max_attempts, long base, long cap, long budget, unsigned long long seed)
{
	gcmsg_retry_policy p = GCMSG_RETRY_POLICY_INIT;
	gcmsg__retry r;

	p.max_attempts = max_attempts;
	p.backoff_base_ms = base;
	p.backoff_cap_ms = cap;
	p.budget_ms = budget;
	p.seed = seed;
	gcmsg__retry_init(&r, &p);
	r.clock = fake_clock;
	r.start_ms = fake_now;
	return r;
}

static void test_backoff_bounds(void **state)
{
	unsigned long long seed;

	(void)state;
	for (seed = 1; seed <= 200; seed++) {
		gcmsg__retry r = fresh(100, 100, 5000, 100000000L, seed);
		int n;
		for (n = 0; n < 12; n++) {
			long long ceiling = 100LL << n, w;
			if (ceiling > 5000)
				ceiling = 5000;
			assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_AMBIGUOUS, -1, &w), GCMSG__RETRY_GO);
			if (w < 0 || w > ceiling)
				fail_msg("seed %llu backoff %d: %lld outside [0, %lld]", seed, n, w, ceiling);
		}
	}
}

static void test_backoff_spread(void **state)
{
	/* full jitter: the draws of the first backoff cover [0, base] rather than clustering */
	long long lo = 1000, hi = -1, sum = 0;
	unsigned long long seed;
	int n = 0;

	(void)state;
	for (seed = 1; seed <= 2000; seed++) {
		gcmsg__retry r = fresh(5, 1000, 30000, 300000, seed);
		long long w;
		assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_UNSENT, -1, &w), GCMSG__RETRY_GO);
		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
		sum += w;
		n++;
	}
	assert_true(lo < 20);
	assert_true(hi > 980);
	assert_true(sum / n > 450 && sum / n < 550);
}

static void test_huge_exponent(void **state)
{
	gcmsg__retry r = fresh(1000, 500, 30000, 1000000000L, 9);
	long long w;
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_AMBIGUOUS, -1, &w), GCMSG__RETRY_GO);
		assert_true(w >= 0 && w <= 30000);
	}
}

static void test_retry_after(void **state)
{
	gcmsg__retry r = fresh(10, 500, 30000, 300000, 1);
	long long w;

	(void)state;
	long long total = 0;

	/* the Retry-After plus a jitter of up to a tenth of it, never less */
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 7, &w), GCMSG__RETRY_GO);
	assert_true(w >= 7000 && w <= 7700);
	total += w;
	/* no Retry-After: the default */
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, -1, &w), GCMSG__RETRY_GO);
	assert_true(w >= 3000 && w <= 3300);
	total += w;
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 0, &w), GCMSG__RETRY_GO);
	assert_int_equal(w, 0);
	assert_int_equal(r.waited_ms, total);
	/* exactly the cap is waited (and at most 1 s of jitter); beyond it gives up at once, whatever the budget */
	r = fresh(10, 500, 30000, 10000000L, 1);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 180, &w), GCMSG__RETRY_GO);
	assert_true(w >= 180000 && w <= 181000);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 181, &w), GCMSG__RETRY_AFTER_CAP);
	assert_int_equal(w, 0);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 86400L * 365 * 1000, &w),
	                 GCMSG__RETRY_AFTER_CAP);
	/* a custom cap and default */
	{
		gcmsg_retry_policy p = GCMSG_RETRY_POLICY_INIT;
		p.retry_after_cap_ms = 2000;
		p.retry_after_default_ms = 1;
		gcmsg__retry_init(&r, &p);
		assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, -1, &w), GCMSG__RETRY_GO);
		assert_int_equal(w, 1); /* a tenth of 1 ms: no jitter */
		assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 3, &w), GCMSG__RETRY_AFTER_CAP);
	}
}

static void test_budget(void **state)
{
	gcmsg__retry r = fresh(100, 1000, 1000, 2500, 3);
	long long w, total = 0;
	gcmsg__retry_stop s;

	(void)state;
	/* a Retry-After longer than what is left stops rather than waking up early */
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 2, &w), GCMSG__RETRY_GO);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 1, &w), GCMSG__RETRY_BUDGET);
	/* backoffs are clipped to what is left, then stop */
	r = fresh(100, 1000, 1000, 2500, 3);
	while ((s = gcmsg__retry_next(&r, GCMSG__OUTCOME_AMBIGUOUS, -1, &w)) == GCMSG__RETRY_GO) {
		total += w;
		assert_true(total <= 2500);
	}
	assert_int_equal(s, GCMSG__RETRY_BUDGET);
	assert_int_equal(total, 2500);
	assert_int_equal(r.waited_ms, 2500);
	/* spend: the settle time comes out of the same budget */
	r = fresh(100, 10, 10, 100, 3);
	assert_int_equal(gcmsg__retry_spend(&r, 60), 0);
	assert_int_equal(gcmsg__retry_spend(&r, 41), -1);
	assert_int_equal(gcmsg__retry_spend(&r, 40), 0);
	assert_int_equal(gcmsg__retry_backoff(&r), -1);
}

static void test_throttle_jitter(void **state)
{
	/* senders throttled together come back spread out, each after its Retry-After */
	long long lo = LLONG_MAX, hi = -1, w;
	unsigned long long seed;

	(void)state;
	for (seed = 1; seed <= 500; seed++) {
		gcmsg__retry r = fresh(5, 500, 30000, 300000, seed);
		assert_int_equal(gcmsg__retry_throttle(&r, 2, &w), GCMSG__RETRY_GO);
		assert_true(w >= 2000 && w <= 2200);
		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
	}
	assert_true(lo < 2020);
	assert_true(hi > 2180);
	/* long ones get at most a second */
	{
		gcmsg__retry r = fresh(5, 500, 30000, 300000, 3);
		assert_int_equal(gcmsg__retry_throttle(&r, 100, &w), GCMSG__RETRY_GO);
		assert_true(w >= 100000 && w <= 101000);
	}
	/* the jitter is clipped to the budget, the Retry-After never */
	{
		gcmsg__retry r = fresh(5, 500, 30000, 2050, 3);
		assert_int_equal(gcmsg__retry_throttle(&r, 2, &w), GCMSG__RETRY_GO);
		assert_true(w >= 2000 && w <= 2050);
		r = fresh(5, 500, 30000, 1999, 3);
		assert_int_equal(gcmsg__retry_throttle(&r, 2, &w), GCMSG__RETRY_BUDGET);
	}
}

static void test_budget_is_wall_clock(void **state)
{
	gcmsg__retry r = fresh(100, 10, 10, 1000, 3);
	long long w;

	(void)state;
	/* requests and pacing count, not only the waits: 900 ms spent in requests leaves 100 */
	fake_now += 900;
	assert_int_equal(gcmsg__retry_budget_left(&r), 100);
	assert_int_equal(gcmsg__retry_spend(&r, 101), -1);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 1, &w), GCMSG__RETRY_BUDGET);
	fake_now += 100;
	assert_int_equal(gcmsg__retry_backoff(&r), -1);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_AMBIGUOUS, -1, &w), GCMSG__RETRY_BUDGET);
	/* a wait granted counts at once, before it is slept */
	r = fresh(100, 10, 10, 1000, 3);
	assert_int_equal(gcmsg__retry_spend(&r, 600), 0);
	assert_int_equal(gcmsg__retry_budget_left(&r), 400);
	fake_now += 600; /* slept */
	assert_int_equal(gcmsg__retry_budget_left(&r), 400);
}

static void test_huge_values(void **state)
{
	gcmsg__retry r;
	long long w;
	int i;

	(void)state;
	/* a cap of LONG_MAX and a large base: base * 2^n must not overflow */
	r = fresh(1000, LONG_MAX / 3, LONG_MAX, LONG_MAX, 11);
	for (i = 0; i < 70; i++) {
		w = gcmsg__retry_backoff(&r); /* within what is left of the budget, or -1 once it is spent */
		assert_true(w >= -1);
		assert_true(r.waited_ms >= 0 && r.waited_ms <= LONG_MAX);
	}
	r = fresh(1000, 1, LONG_MAX, LONG_MAX, 12);
	for (i = 0; i < 100; i++)
		assert_true(gcmsg__retry_backoff(&r) >= -1);
	/* a Retry-After of LONG_MAX s under a cap of LONG_MAX ms: clamped, then over the budget */
	{
		gcmsg_retry_policy p = GCMSG_RETRY_POLICY_INIT;
		p.retry_after_cap_ms = LONG_MAX;
		p.budget_ms = LONG_MAX;
		p.seed = 5;
		gcmsg__retry_init(&r, &p);
		r.clock = fake_clock;
		r.start_ms = fake_now;
		assert_int_equal(gcmsg__retry_throttle(&r, LONG_MAX, &w), GCMSG__RETRY_GO);
		assert_true(w >= GCMSG__RETRY_AFTER_MAX_S * 1000LL);
		assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, LONG_MAX, &w), GCMSG__RETRY_GO);
		p.retry_after_default_ms = LONG_MAX;
		gcmsg__retry_init(&r, &p);
		assert_int_equal(gcmsg__retry_throttle(&r, -1, &w), GCMSG__RETRY_GO);
	}
}

static void test_horizon_default(void **state)
{
	gcmsg_retry_policy p = GCMSG_RETRY_POLICY_INIT, f;

	(void)state;
	assert_true(gcmsg__retry_horizon_ms(&p, 30000) == 60000);
	assert_true(gcmsg__retry_horizon_ms(&p, 5000) == 35000);
	assert_true(gcmsg__retry_horizon_ms(&p, 0) == 60000);
	assert_true(gcmsg__retry_horizon_ms(NULL, 1000) == 31000);
	p.readback_horizon_ms = 1234;
	assert_true(gcmsg__retry_horizon_ms(&p, 30000) == 1234);
	p.readback_horizon_ms = -3; /* nonsense: the default */
	gcmsg__retry_policy_fill(&f, &p);
	assert_true(gcmsg__retry_horizon_ms(&f, 30000) == 60000);
}

static void test_attempts(void **state)
{
	gcmsg__retry r = fresh(3, 1, 1, 100000, 5);
	long long w;

	(void)state;
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_AMBIGUOUS, -1, &w), GCMSG__RETRY_GO);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 0, &w), GCMSG__RETRY_GO);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_UNSENT, -1, &w), GCMSG__RETRY_ATTEMPTS);
	assert_int_equal(r.attempts, 3);
	/* 1: never retry */
	r = fresh(1, 1, 1, 100000, 5);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_AMBIGUOUS, -1, &w), GCMSG__RETRY_ATTEMPTS);
	/* never retried, whatever is left */
	r = fresh(8, 1, 1, 100000, 5);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_OK, -1, &w), GCMSG__RETRY_NOT_RETRYABLE);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_REJECTED, -1, &w), GCMSG__RETRY_NOT_RETRYABLE);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_AUTH, -1, &w), GCMSG__RETRY_NOT_RETRYABLE);
	assert_string_equal(gcmsg__retry_stop_name(GCMSG__RETRY_BUDGET), "retry budget exhausted");
}

static void test_determinism(void **state)
{
	gcmsg__retry a = fresh(100, 100, 100000, 100000000L, 42), b = fresh(100, 100, 100000, 100000000L, 42);
	gcmsg__retry c = fresh(100, 100, 100000, 100000000L, 43);
	gcmsg_retry_policy p = GCMSG_RETRY_POLICY_INIT;
	gcmsg__retry z1, z2;
	int i, differ = 0;
	long long wa, wb, wc;

	(void)state;
	for (i = 0; i < 10; i++) {
		assert_int_equal(gcmsg__retry_next(&a, GCMSG__OUTCOME_AMBIGUOUS, -1, &wa), GCMSG__RETRY_GO);
		assert_int_equal(gcmsg__retry_next(&b, GCMSG__OUTCOME_AMBIGUOUS, -1, &wb), GCMSG__RETRY_GO);
		assert_int_equal(gcmsg__retry_next(&c, GCMSG__OUTCOME_AMBIGUOUS, -1, &wc), GCMSG__RETRY_GO);
		assert_int_equal(wa, wb);
		differ += wa != wc;
	}
	assert_true(differ > 0);
	/* a known value of splitmix64 (seed 1234567: first output 6457827717110365317) */
	{
		uint64_t s = 1234567;
		assert_true(gcmsg__rand_next(&s) == 6457827717110365317ULL);
	}
	/* seed 0: seeded from the clock, the pid and a counter, so two operations differ */
	gcmsg__retry_init(&z1, &p);
	gcmsg__retry_init(&z2, &p);
	assert_true(z1.rng != z2.rng);
}

static void test_rand_upto(void **state)
{
	uint64_t s = 7;
	int seen[4] = { 0 }, i;

	(void)state;
	assert_int_equal(gcmsg__rand_upto(&s, 0), 0);
	assert_int_equal(gcmsg__rand_upto(&s, -3), 0);
	for (i = 0; i < 4000; i++) {
		long long v = gcmsg__rand_upto(&s, 3);
		assert_true(v >= 0 && v <= 3);
		seen[v]++;
	}
	for (i = 0; i < 4; i++)
		assert_true(seen[i] > 800 && seen[i] < 1200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),     cmocka_unit_test(test_policy_defaults),
		cmocka_unit_test(test_backoff_bounds), cmocka_unit_test(test_backoff_spread),
		cmocka_unit_test(test_huge_exponent), cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_budget),       cmocka_unit_test(test_attempts),
		cmocka_unit_test(test_determinism),  cmocka_unit_test(test_rand_upto),
		cmocka_unit_test(test_throttle_jitter), cmocka_unit_test(test_budget_is_wall_clock),
		cmocka_unit_test(test_huge_values),  cmocka_unit_test(test_horizon_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
