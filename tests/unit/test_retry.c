/*
 * retry.c: the classification of HTTP outcomes, the policy's defaults, the
 * waits (Retry-After, its cap, full-jitter backoff within its bounds), the
 * budget and attempt limits, and the generator's determinism per seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 7, &w), GCMSG__RETRY_GO);
	assert_int_equal(w, 7000);
	/* no Retry-After: the default */
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, -1, &w), GCMSG__RETRY_GO);
	assert_int_equal(w, 3000);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 0, &w), GCMSG__RETRY_GO);
	assert_int_equal(w, 0);
	assert_int_equal(r.waited_ms, 10000);
	/* exactly the cap is waited; beyond it gives up at once, whatever the budget */
	r = fresh(10, 500, 30000, 10000000L, 1);
	assert_int_equal(gcmsg__retry_next(&r, GCMSG__OUTCOME_THROTTLED, 180, &w), GCMSG__RETRY_GO);
	assert_int_equal(w, 180000);
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
		assert_int_equal(w, 1);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
