/*
 * stats.c - figures computed from the audit log (definitions in
 * gcmsg/audit.h). The backend reduces the log to one row per send in SQL
 * (gcmsg__stats_send); this file groups them (total, per route, per
 * response) and takes the latency percentiles by nearest rank.
 */
#include <stdlib.h>
#include <string.h>

#include "store_rows.h"

typedef struct group {
	gcmsg_stats_row row; /* row.key points at key */
	char *key;
	long long *lat;      /* latencies of the sent sends */
	size_t nlat, alat;
} group;

typedef struct group_set {
	group *items; /* sorted by key */
	size_t count, alloc;
} group_set;

struct gcmsg_stats {
	group total;
	group_set routes, responses;
};

static void group_dispose(group *g)
{
	free(g->key);
	free(g->lat);
}

static void set_dispose(group_set *s)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		group_dispose(&s->items[i]);
	free(s->items);
}

void gcmsg_stats_free(gcmsg_stats *st)
{
	if (!st)
		return;
	group_dispose(&st->total);
	set_dispose(&st->routes);
	set_dispose(&st->responses);
	free(st);
}

/* The group of key, inserted in order when new; NULL on out of memory. */
static group *group_of(group_set *s, const char *key)
{
	size_t lo = 0, hi = s->count;
	group *g;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->items[mid].key, key);
		if (c == 0)
			return &s->items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->count == s->alloc) {
		size_t n = s->alloc ? s->alloc * 2 : 8;
		if (n > ((size_t)-1) / sizeof(*g) || !(g = realloc(s->items, n * sizeof(*g))))
			return NULL;
		s->items = g;
		s->alloc = n;
	}
	g = &s->items[lo];
	memmove(g + 1, g, (s->count - lo) * sizeof(*g));
	memset(g, 0, sizeof(*g));
	if (!(g->key = gcmsg__strdup(key))) {
		memmove(g, g + 1, (s->count - lo) * sizeof(*g));
		return NULL;
	}
	s->count++;
	return g;
}

static int add_send(group *g, const gcmsg__stats_send *s)
{
	gcmsg_stats_row *r = &g->row;

	if (s->duplicate)
		r->duplicates++;
	if (strcmp(s->outcome, "sent") == 0) {
		r->sent++;
		if (g->nlat == g->alat) {
			size_t n = g->alat ? g->alat * 2 : 16;
			long long *p;
			if (n > ((size_t)-1) / sizeof(*p) || !(p = realloc(g->lat, n * sizeof(*p))))
				return -1;
			g->lat = p;
			g->alat = n;
		}
		g->lat[g->nlat++] = s->latency_ms;
	} else if (strcmp(s->outcome, "failed") == 0) {
		r->failed++;
	} else if (strcmp(s->outcome, "refused") == 0) {
		r->refused++;
	} else if (strcmp(s->outcome, "unknown") == 0) {
		r->unknown++;
	} else if (strcmp(s->outcome, "pending") == 0) {
		r->pending++;
	} else if (strcmp(s->outcome, "dropped") == 0) {
		r->dropped++;
	} /* "duplicate": only counted above */
	r->attempts += (unsigned long)(s->attempts > 0 ? s->attempts : 0);
	if (s->attempts > 1)
		r->retried++;
	if (s->throttled)
		r->throttled++;
	return 0;
}

typedef struct stats_ctx {
	gcmsg_store *store;
	gcmsg_stats *st;
} stats_ctx;

static int each_send(const gcmsg__stats_send *s, void *payload)
{
	stats_ctx *c = payload;
	group *route, *response;

	if (add_send(&c->st->total, s) < 0 || !(route = group_of(&c->st->routes, s->route)) ||
	    add_send(route, s) < 0 || !(response = group_of(&c->st->responses, s->response_id)) ||
	    add_send(response, s) < 0)
		return gcmsg__err_set(&c->store->err, GCMSG_ERROR, "out of memory");
	return 0;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p% of the values at or below it. */
static double nearest_rank(const long long *sorted, size_t n, unsigned p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (n * p + 99) / 100; /* ceil(p / 100 * n) */
	if (rank < 1)
		rank = 1;
	return (double)sorted[rank - 1];
}

static void finish(group *g)
{
	gcmsg_stats_row *r = &g->row;
	unsigned long decided = r->sent + r->failed + r->unknown + r->pending;

	r->key = g->key;
	r->delivery_rate = decided ? (double)r->sent / (double)decided : 0;
	if (g->nlat)
		qsort(g->lat, g->nlat, sizeof(*g->lat), cmp_ll);
	r->p50_ms = nearest_rank(g->lat, g->nlat, 50);
	r->p95_ms = nearest_rank(g->lat, g->nlat, 95);
	r->p99_ms = nearest_rank(g->lat, g->nlat, 99);
}

int gcmsg_stats_get(gcmsg_stats **out, gcmsg_store *store, long long since_ms)
{
	stats_ctx ctx;
	size_t i;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if ((rc = gcmsg__store_ready(store)) < 0)
		return rc;
	if (since_ms < 0)
		return gcmsg__err_set(&store->err, GCMSG_EUSAGE, "since_ms must not be negative");
	ctx.store = store;
	if (!(ctx.st = calloc(1, sizeof(*ctx.st))))
		return gcmsg__err_set(&store->err, GCMSG_ERROR, "out of memory");
	rc = store->ops->stats_sends(store->backend, since_ms, each_send, &ctx, &store->err);
	if (rc != 0) {
		gcmsg_stats_free(ctx.st);
		return rc;
	}
	finish(&ctx.st->total);
	for (i = 0; i < ctx.st->routes.count; i++)
		finish(&ctx.st->routes.items[i]);
	for (i = 0; i < ctx.st->responses.count; i++)
		finish(&ctx.st->responses.items[i]);
	*out = ctx.st;
	return GCMSG_OK;
}

const gcmsg_stats_row *gcmsg_stats_total(const gcmsg_stats *st)
{
	return st ? &st->total.row : NULL;
}

size_t gcmsg_stats_route_count(const gcmsg_stats *st)
{
	return st ? st->routes.count : 0;
}

const gcmsg_stats_row *gcmsg_stats_route(const gcmsg_stats *st, size_t i)
{
	return st && i < st->routes.count ? &st->routes.items[i].row : NULL;
}

size_t gcmsg_stats_response_count(const gcmsg_stats *st)
{
	return st ? st->responses.count : 0;
}

const gcmsg_stats_row *gcmsg_stats_response(const gcmsg_stats *st, size_t i)
{
	return st && i < st->responses.count ? &st->responses.items[i].row : NULL;
}
