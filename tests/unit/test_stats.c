/*
 * Statistics from a hand-built audit log: sends that were sent, failed,
 * refused, unknown, pending, dropped, duplicated, throttled and retried, a
 * window that cuts some of them off, and latency percentiles by nearest rank
 * on lists small enough to check by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "store_fixture.h"

static void rec(gcmsg_store *s, long long t, const char *event, const char *outcome, const char *key,
                const char *route, const char *response, long long latency)
{
	gcmsg__audit_rec r = fx_rec(t, event, outcome, key);

	r.route = (char *)route;
	r.response_id = (char *)response;
	r.latency_ms = latency;
	assert_int_equal(gcmsg__audit_record(s, &r, 0), GCMSG_OK);
}

#define AM "agent-messaging"
#define AL "agentless"
#define LC "legacy-chat"
#define T0 10000 /* the window starts here */

/*
 * The log (time, event, outcome, key, route, response, latency). In the
 * window (t >= T0):
 *   k1  ok                              -> sent 100      AM R1
 *   k2  throttled, ok                   -> sent 300      AL R1   retried, throttled
 *   k3  rejected                        -> failed        AM R2
 *   k4  (no attempt)                    -> refused       AM ""
 *   k5  ambiguous                       -> unknown       AL R2
 *   k6  throttled x3                    -> pending       AL ""   retried, throttled
 *   k7  ok -> sent 200, then duplicate  -> sent + dup    AM R1
 *   k8  only a duplicate (its send was before T0)        AM R1
 *   k9  ambiguous, readback-absent, ok  -> sent 500      AM R2   retried (3 attempts)
 *   k10 ok                              -> sent 50       LC R1
 *   k11 (no attempt)                    -> dropped       AL R2
 *   k12 throttled -> pending, resumed: ok -> sent 900    AL R1   retried, throttled
 *   two keyless refusals (no route, no response): two sends
 * Before the window: k8's attempt and sent (latency 70), k13 (ok, sent 40, AM R3).
 */
static void build_log(gcmsg_store *s)
{
	rec(s, 5000, "attempt", "ok", "k8", AM, "R1", 65);
	rec(s, 5001, "outcome", "sent", "k8", AM, "R1", 70);
	rec(s, 5002, "attempt", "ok", "k13", AM, "R3", 35);
	rec(s, 5003, "outcome", "sent", "k13", AM, "R3", 40);

	rec(s, T0 + 1, "attempt", "ok", "k1", AM, "R1", 90);
	rec(s, T0 + 2, "outcome", "sent", "k1", AM, "R1", 100);
	rec(s, T0 + 3, "attempt", "throttled", "k2", AL, "R1", 10);
	rec(s, T0 + 4, "attempt", "ok", "k3", AM, "R2", 80);      /* interleaved sends */
	rec(s, T0 + 5, "attempt", "ok", "k2", AL, "R1", 20);
	rec(s, T0 + 6, "outcome", "sent", "k2", AL, "R1", 300);
	rec(s, T0 + 7, "outcome", "failed", "k3", AM, "R2", 85);
	rec(s, T0 + 8, "outcome", "refused", "k4", AM, NULL, 0);
	rec(s, T0 + 9, "attempt", "ambiguous", "k5", AL, "R2", 30000);
	rec(s, T0 + 10, "outcome", "unknown", "k5", AL, "R2", 30001);
	rec(s, T0 + 11, "attempt", "throttled", "k6", AL, NULL, 5);
	rec(s, T0 + 12, "attempt", "throttled", "k6", AL, NULL, 5);
	rec(s, T0 + 13, "attempt", "throttled", "k6", AL, NULL, 5);
	rec(s, T0 + 14, "outcome", "pending", "k6", AL, NULL, 9000);
	rec(s, T0 + 15, "attempt", "ok", "k7", AM, "R1", 150);
	rec(s, T0 + 16, "outcome", "sent", "k7", AM, "R1", 200);
	rec(s, T0 + 17, "outcome", "duplicate", "k7", AM, "R1", 0);
	rec(s, T0 + 18, "outcome", "duplicate", "k8", AM, "R1", 0);
	rec(s, T0 + 19, "attempt", "ambiguous", "k9", AM, "R2", 100);
	rec(s, T0 + 20, "attempt", "readback-absent", "k9", AM, "R2", 100);
	rec(s, T0 + 21, "attempt", "ok", "k9", AM, "R2", 100);
	rec(s, T0 + 22, "outcome", "sent", "k9", AM, "R2", 500);
	rec(s, T0 + 23, "attempt", "ok", "k10", LC, "R1", 40);
	rec(s, T0 + 24, "outcome", "sent", "k10", LC, "R1", 50);
	rec(s, T0 + 25, "outcome", "dropped", "k11", AL, "R2", 0);
	rec(s, T0 + 26, "attempt", "throttled", "k12", AL, "R1", 5);
	rec(s, T0 + 27, "outcome", "pending", "k12", AL, "R1", 6000);
	rec(s, T0 + 28, "attempt", "ok", "k12", AL, "R1", 60);
	rec(s, T0 + 29, "outcome", "sent", "k12", AL, "R1", 900);
	rec(s, T0 + 30, "outcome", "refused", NULL, NULL, NULL, 0);
	rec(s, T0 + 31, "outcome", "refused", NULL, NULL, NULL, 0);
}

typedef struct want {
	const char *key;
	unsigned long sent, failed, refused, unknown, pending, dropped, duplicates, retried, throttled, attempts;
	double rate, p50, p95, p99;
} want;

static void check(const gcmsg_stats_row *r, const want *w)
{
	assert_non_null(r);
	if (w->key)
		assert_string_equal(r->key, w->key);
	else
		assert_null(r->key);
	assert_int_equal(r->sent, w->sent);
	assert_int_equal(r->failed, w->failed);
	assert_int_equal(r->refused, w->refused);
	assert_int_equal(r->unknown, w->unknown);
	assert_int_equal(r->pending, w->pending);
	assert_int_equal(r->dropped, w->dropped);
	assert_int_equal(r->duplicates, w->duplicates);
	assert_int_equal(r->retried, w->retried);
	assert_int_equal(r->throttled, w->throttled);
	assert_int_equal(r->attempts, w->attempts);
	assert_float_equal(r->delivery_rate, w->rate, 1e-9);
	assert_float_equal(r->p50_ms, w->p50, 1e-9);
	assert_float_equal(r->p95_ms, w->p95, 1e-9);
	assert_float_equal(r->p99_ms, w->p99, 1e-9);
}

static void figures_in_the_window(void **state)
{
	gcmsg_store *s = *state;
	gcmsg_stats *st = NULL;
	/* sent latencies: k1 100, k2 300, k7 200, k9 500, k10 50, k12 900 -> 50 100 200 300 500 900 */
	static const want total = { NULL, 6, 1, 3, 1, 1, 1, 2, 4, 3, 14, 6.0 / 9, 200, 900, 900 };
	static const want routes[] = {
		/* the keyless refusals */
		{ "", 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		/* k1 k3 k4 k7 k8 k9: latencies 100 200 500 */
		{ AM, 3, 1, 1, 0, 0, 0, 2, 1, 0, 5, 3.0 / 4, 200, 500, 500 },
		/* k2 k5 k6 k11 k12: latencies 300 900 */
		{ AL, 2, 0, 0, 1, 1, 1, 0, 3, 3, 8, 2.0 / 4, 300, 900, 900 },
		{ LC, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1.0, 50, 50, 50 },
	};
	static const want responses[] = {
		/* k4, k6, two keyless */
		{ "", 0, 0, 3, 0, 1, 0, 0, 1, 1, 3, 0, 0, 0, 0 },
		/* k1 k2 k7 k8 k10 k12: latencies 50 100 200 300 900 */
		{ "R1", 5, 0, 0, 0, 0, 0, 2, 2, 2, 7, 1.0, 200, 900, 900 },
		/* k3 k5 k9 k11 */
		{ "R2", 1, 1, 0, 1, 0, 1, 0, 1, 0, 4, 1.0 / 3, 500, 500, 500 },
	};
	size_t i;

	build_log(s);
	assert_int_equal(gcmsg_stats_get(&st, s, T0), GCMSG_OK);
	check(gcmsg_stats_total(st), &total);
	assert_int_equal(gcmsg_stats_route_count(st), 4);
	for (i = 0; i < 4; i++)
		check(gcmsg_stats_route(st, i), &routes[i]);
	assert_null(gcmsg_stats_route(st, 4));
	assert_int_equal(gcmsg_stats_response_count(st), 3);
	for (i = 0; i < 3; i++)
		check(gcmsg_stats_response(st, i), &responses[i]);
	assert_null(gcmsg_stats_response(st, 3));
	gcmsg_stats_free(st);
}

static void figures_of_everything(void **state)
{
	gcmsg_store *s = *state;
	gcmsg_stats *st = NULL;
	/*
	 * Since 0, k8 is decided by its sent (70) and still counts one duplicate;
	 * k13 is sent (40); their attempts count. Latencies: 40 50 70 100 200 300
	 * 500 900 (n = 8): p50 rank 4 -> 100, p95 rank 8 -> 900, p99 rank 8 -> 900.
	 */
	static const want total = { NULL, 8, 1, 3, 1, 1, 1, 2, 4, 3, 16, 8.0 / 11, 100, 900, 900 };
	const gcmsg_stats_row *r;

	build_log(s);
	assert_int_equal(gcmsg_stats_get(&st, s, 0), GCMSG_OK);
	check(gcmsg_stats_total(st), &total);
	assert_int_equal(gcmsg_stats_response_count(st), 4);
	r = gcmsg_stats_response(st, 3);
	assert_string_equal(r->key, "R3");
	assert_int_equal(r->sent, 1);
	assert_int_equal(r->attempts, 1);
	gcmsg_stats_free(st);

	/* after everything: nothing */
	assert_int_equal(gcmsg_stats_get(&st, s, T0 + 1000), GCMSG_OK);
	check(gcmsg_stats_total(st), &(want){ NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
	assert_int_equal(gcmsg_stats_route_count(st), 0);
	assert_int_equal(gcmsg_stats_response_count(st), 0);
	gcmsg_stats_free(st);
}

static void percentiles_by_nearest_rank(void **state)
{
	gcmsg_store *s = *state;
	gcmsg_stats *st = NULL;
	/* 20 sent sends, latencies 10..200 in a shuffled order */
	static const int order[20] = { 7, 19, 2, 13, 0, 16, 5, 11, 18, 3, 9, 14, 1, 17, 6, 12, 4, 15, 8, 10 };
	char key[16];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "p%d", i);
		rec(s, 100 + i, "attempt", "ok", key, AM, "R", 1);
		rec(s, 200 + i, "outcome", "sent", key, AM, "R", 10LL * (order[i] + 1));
	}
	/* ranks: p50 ceil(10) = 10 -> 100; p95 ceil(19) = 19 -> 190; p99 ceil(19.8) = 20 -> 200 */
	assert_int_equal(gcmsg_stats_get(&st, s, 0), GCMSG_OK);
	check(gcmsg_stats_total(st), &(want){ NULL, 20, 0, 0, 0, 0, 0, 0, 0, 0, 20, 1.0, 100, 190, 200 });
	gcmsg_stats_free(st);

	/* one more, 21 values 10..210: p50 ceil(10.5) = 11 -> 110; p95 ceil(19.95) = 20 -> 200; p99 21 -> 210 */
	rec(s, 300, "outcome", "sent", "p20", AM, "R", 210);
	assert_int_equal(gcmsg_stats_get(&st, s, 0), GCMSG_OK);
	check(gcmsg_stats_total(st), &(want){ NULL, 21, 0, 0, 0, 0, 0, 0, 0, 0, 20, 1.0, 110, 200, 210 });
	gcmsg_stats_free(st);
}

static void readbacks_are_not_requests(void **state)
{
	gcmsg_store *s = *state;
	gcmsg_stats *st = NULL;

	/* one request, ambiguous, found by a read-back: one attempt, not retried */
	rec(s, 1, "attempt", "ambiguous", "r1", AM, "R", 100);
	rec(s, 2, "attempt", "readback-found", "r1", AM, "R", 40);
	rec(s, 3, "outcome", "sent", "r1", AM, "R", 150);
	/* a read-back that failed, then a resend: two requests */
	rec(s, 4, "attempt", "ambiguous", "r2", AM, "R", 100);
	rec(s, 5, "attempt", "readback-failed", "r2", AM, "R", 40);
	rec(s, 6, "attempt", "readback-absent", "r2", AM, "R", 40);
	rec(s, 7, "attempt", "auth-renewed", "r2", AM, "R", 10);
	rec(s, 8, "attempt", "ok", "r2", AM, "R", 100);
	rec(s, 9, "outcome", "sent", "r2", AM, "R", 350);
	assert_int_equal(gcmsg_stats_get(&st, s, 0), GCMSG_OK);
	check(gcmsg_stats_total(st), &(want){ NULL, 2, 0, 0, 0, 0, 0, 0, 1, 0, 4, 1.0, 150, 350, 350 });
	gcmsg_stats_free(st);
}

static void arguments(void **state)
{
	gcmsg_store *s = *state;
	gcmsg_stats *st = NULL;

	assert_int_equal(gcmsg_stats_get(&st, s, 0), GCMSG_OK); /* an empty log */
	check(gcmsg_stats_total(st), &(want){ NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
	gcmsg_stats_free(st);
	assert_int_equal(gcmsg_stats_get(&st, s, -1), GCMSG_EUSAGE);
	assert_null(st);
	assert_int_equal(gcmsg_stats_get(&st, NULL, 0), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_stats_get(NULL, s, 0), GCMSG_EUSAGE);
	assert_null(gcmsg_stats_total(NULL));
	assert_int_equal(gcmsg_stats_route_count(NULL), 0);
	assert_null(gcmsg_stats_route(NULL, 0));
	assert_int_equal(gcmsg_stats_response_count(NULL), 0);
	assert_null(gcmsg_stats_response(NULL, 0));
	gcmsg_stats_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(figures_in_the_window, fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(figures_of_everything, fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(percentiles_by_nearest_rank, fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(readbacks_are_not_requests, fx_setup_store, fx_teardown),
		cmocka_unit_test_setup_teardown(arguments, fx_setup_store, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
