/*
 * bulk.c - send many items at once, each exactly once.
 *
 * The run is `concurrency` sender threads and one transport thread
 * (transport.c) that performs every request on one libcurl multi handle. A
 * sender takes the next item, resolves its route, renders it for that
 * conversation and hands it to gcmsg_send with its own store handle, so every
 * item goes through the outbox and the delivery loop (deliver.c) exactly as a
 * single send does: write-ahead record, 429 waits, read-backs, audit. The
 * senders share the caller's client through gcmsg__shared: one token (renewed
 * once for all) and one rate limiter, which reserves each request its slot.
 *
 * Why threads that block rather than an event loop over the delivery state
 * machine: the delivery loop is the part that must not be wrong, and it stays
 * one piece of straight-line code, the same for a single send and for bulk;
 * the threads cost a small stack each and spend their life asleep, while the
 * network work is multiplexed by the one multi handle.
 *
 * Items are handed out in order through a counter; results reach the caller's
 * callback one at a time (under cb_mu).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deliver.h"
#include "pacer.h"
#include "sha256.h"
#include "retry.h"
#include "store.h"
#include "transport.h"

typedef struct run run;

typedef struct sender {
	run *r;
	pthread_t thread;
	gcmsg_client *c;
	gcmsg_store *store;
	int started;
} sender;

struct run {
	const gcmsg_bulk_item *items;
	size_t n;
	const gcmsg_bulk_options *o;
	pthread_mutex_t mu; /* next, stop, the summary, the callback */
	size_t next;
	int stop;          /* a fatal error: start no more items */
	int fatal_code;
	gcmsg__err fatal;
	gcmsg_bulk_summary *sum;
	size_t done;
};

static int cancelled(run *r)
{
	return r->o->cancel && *r->o->cancel;
}

/* The next item to start, or -1 when none is left (or the run stops). */
static long long take(run *r)
{
	long long i = -1;

	pthread_mutex_lock(&r->mu);
	if (!r->stop && !cancelled(r) && r->next < r->n)
		i = (long long)r->next++;
	pthread_mutex_unlock(&r->mu);
	return i;
}

static void report(run *r, gcmsg_bulk_item_result *res)
{
	pthread_mutex_lock(&r->mu);
	r->done++;
	if (res->code == GCMSG_OK && res->duplicate)
		r->sum->duplicates++;
	else if (res->code == GCMSG_OK)
		r->sum->sent++;
	else
		r->sum->failed++;
	if (r->o->on_item)
		r->o->on_item(res, r->o->payload);
	pthread_mutex_unlock(&r->mu);
}

/*
 * Errors that are not the item's but the run's: the store or the credentials
 * are gone, or memory ran out. Every further item would fail the same way, so
 * the run stops starting new ones (each item already started still ends).
 */
static int fatal(int code)
{
	return code == GCMSG_ERROR || code == GCMSG_ECONFIG || code == GCMSG_EAUTH;
}

static void stop_run(run *r, int code, const gcmsg__err *why)
{
	pthread_mutex_lock(&r->mu);
	if (!r->stop) {
		r->stop = 1;
		r->fatal_code = code;
		gcmsg__err_copy(&r->fatal, why);
	}
	pthread_mutex_unlock(&r->mu);
}

/* 1 when the outbox holds the key as sent (res filled, the duplicate audited), 0 when not, or an error. */
static int sent_before(sender *s, const char *key, gcmsg_bulk_item_result *res, gcmsg__delivery_result *dr)
{
	gcmsg__deliver_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.source = s->r->o->source ? s->r->o->source : "bulk";
	rc = gcmsg__deliver_if_sent(s->c, s->store, key, &o, dr);
	if (rc == 1) {
		res->duplicate = 1;
		res->message_id = dr->message_id;
	}
	return rc;
}

static void send_one(sender *s, size_t i)
{
	run *r = s->r;
	const gcmsg_bulk_item *it = &r->items[i];
	gcmsg_bulk_item_result res;
	gcmsg_render_options ro = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_route *route = NULL;
	gcmsg_rendered *rd = NULL;
	gcmsg_send_result *sr = NULL;
	gcmsg__delivery_result dr;
	long long t0 = gcmsg__mono_ms();
	int rc;

	memset(&res, 0, sizeof(res));
	memset(&dr, 0, sizeof(dr));
	res.index = i;
	res.key = it->key;
	gcmsg__err_clear(&s->c->err);
	/* a row sent by an earlier run: no request at all (a resumed run goes straight to the rest) */
	rc = sent_before(s, it->key, &res, &dr);
	if (rc < 0)
		res.stage = "send";
	if (rc != 0)
		goto out;
	rc = gcmsg_route_resolve(&route, s->c, it->conversation_id);
	if (rc < 0) {
		res.stage = "route";
		goto out;
	}
	res.route = gcmsg_route_type_name(gcmsg_route_kind(route));
	ro.vars = it->vars;
	ro.var_count = it->var_count;
	ro.conversation = gcmsg_route_conversation(route);
	ro.caller = gcmsg_route_identity(route);
	ro.language = r->o->language;
	ro.allow_missing = r->o->allow_missing;
	rc = it->response ? gcmsg_render(&rd, it->response, &ro) : gcmsg_render_text(&rd, it->text, NULL, &ro);
	if (rc < 0) {
		const char *what = rd ? gcmsg_rendered_error(rd) : NULL;
		res.stage = "render";
		gcmsg__err_set(&s->c->err, rc, "the %s cannot be rendered: %s", it->response ? "response" : "text",
		               what ? what : "out of memory");
		if (rd)
			gcmsg_audit_refused(s->store, route, NULL, rd,
			                    gcmsg_rendered_missing_count(rd) ? "placeholder.missing" : "placeholder.malformed",
			                    r->o->source ? r->o->source : "bulk", s->c->err.explanation);
		goto out;
	}
	so.rendered = rd;
	so.policy = r->o->policy;
	so.allow_placeholders = r->o->allow_missing;
	so.store = s->store;
	so.idempotency_key = it->key;
	so.source = r->o->source ? r->o->source : "bulk";
	rc = gcmsg_send(&sr, s->c, route, &so);
	if (rc < 0)
		res.stage = "send";
	res.message_id = gcmsg_send_result_message_id(sr);
	res.attempts = gcmsg_send_result_attempts(sr);
	res.duplicate = gcmsg_send_result_duplicate(sr);
	res.read_back = gcmsg_send_result_read_back(sr);
out:
	res.code = rc < 0 ? rc : GCMSG_OK;
	res.error = rc < 0 ? gcmsg_client_last_error(s->c) : NULL;
	res.latency_ms = gcmsg__mono_ms() - t0;
	if (rc < 0 && fatal(rc))
		stop_run(r, rc, &s->c->err);
	report(r, &res);
	gcmsg__delivery_result_dispose(&dr);
	gcmsg_send_result_free(sr);
	gcmsg_rendered_free(rd);
	gcmsg_route_free(route);
}

static void *sender_main(void *arg)
{
	sender *s = arg;
	long long i;

	while ((i = take(s->r)) >= 0)
		send_one(s, (size_t)i);
	return NULL;
}

static int check(gcmsg_client *c, const gcmsg_bulk_item *items, size_t n, const gcmsg_bulk_options *o)
{
	size_t i;

	if (!o || o->version != GCMSG_BULK_OPTIONS_VERSION)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "unknown gcmsg_bulk_options version %u",
		                      o ? o->version : 0);
	if (!o->store)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "a bulk run needs a store (the outbox)");
	if (o->concurrency > GCMSG_BULK_MAX_CONCURRENCY)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "concurrency %u is above the maximum of %d",
		                      o->concurrency, GCMSG_BULK_MAX_CONCURRENCY);
	if (n && !items)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "%zu items, but no array", n);
	for (i = 0; i < n; i++) {
		const gcmsg_bulk_item *it = &items[i];
		if (!it->conversation_id || !*it->conversation_id)
			return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "item %zu has no conversation id", i);
		if (!it->text == !it->response)
			return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "item %zu needs a text or a response (one of them)",
			                      i);
		if (!it->key || !gcmsg__key_valid(it->key))
			return gcmsg__err_set(&c->err, GCMSG_EUSAGE,
			                      "item %zu needs an idempotency key of 1 to %d printable ASCII characters", i,
			                      GCMSG__KEY_MAX);
		if (it->var_count && !it->vars)
			return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "item %zu: %zu variables, but no array", i,
			                      it->var_count);
	}
	return GCMSG_OK;
}

static void senders_free(sender *s, unsigned n)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		gcmsg_store_free(s[k].store);
		gcmsg_client_free(s[k].c);
	}
	free(s);
}

int gcmsg_bulk_send(gcmsg_client *c, const gcmsg_bulk_item *items, size_t n, const gcmsg_bulk_options *opts,
                    gcmsg_bulk_summary *summary)
{
	gcmsg_bulk_summary local;
	gcmsg__transport *t = NULL;
	gcmsg__shared sh;
	sender *s = NULL;
	const gcmsg_identity *id;
	unsigned k, want;
	run r;
	long long t0 = gcmsg__mono_ms();
	int rc;

	if (!c)
		return GCMSG_EUSAGE;
	if (!summary)
		summary = &local;
	memset(summary, 0, sizeof(*summary));
	summary->items = n;
	summary->not_started = n;
	gcmsg__err_clear(&c->err);
	if ((rc = check(c, items, n, opts)) < 0)
		return rc;
	if (n == 0)
		return GCMSG_OK;
	/* the token and the caller's identity, once, before any sender needs them */
	if ((rc = gcmsg_client_whoami(&id, c)) < 0)
		return rc;
	want = opts->concurrency ? opts->concurrency : GCMSG_BULK_DEFAULT_CONCURRENCY;
	if (want > n)
		want = (unsigned)n;

	memset(&r, 0, sizeof(r));
	r.items = items;
	r.n = n;
	r.o = opts;
	r.sum = summary;
	gcmsg__err_init(&r.fatal);
	memset(&sh, 0, sizeof(sh));
	sh.parent = c;
	sh.pacer = c->pacer; /* what the client learnt so far; handed back at the end */
	c->pacer = NULL;
	if (pthread_mutex_init(&r.mu, NULL) != 0 || pthread_mutex_init(&sh.mu, NULL) != 0)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "cannot create a mutex");
	if (gcmsg__transport_new(&t, want) < 0) {
		rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "cannot start the transfer thread");
		goto done;
	}
	if (!(s = calloc(want, sizeof(*s)))) {
		rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		goto done;
	}
	for (k = 0; k < want; k++) {
		s[k].r = &r;
		if ((rc = gcmsg__client_fork(&s[k].c, c, &sh, t)) < 0)
			goto done;
		if ((rc = gcmsg__store_reopen(&s[k].store, opts->store)) < 0) {
			gcmsg__err_copy(&c->err, &s[k].store->err);
			goto done;
		}
	}
	for (k = 0; k < want; k++) {
		if (pthread_create(&s[k].thread, NULL, sender_main, &s[k]) != 0)
			break;
		s[k].started = 1;
	}
	if (k == 0)
		rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "cannot start a sender thread");
	for (k = 0; k < want; k++)
		if (s[k].started)
			pthread_join(s[k].thread, NULL);
	if (r.stop)
		rc = gcmsg__err_copy(&c->err, &r.fatal);
done:
	if (s)
		senders_free(s, want);
	gcmsg__transport_free(t);
	summary->not_started = n - r.done;
	summary->requests = (size_t)sh.requests;
	summary->throttled = (size_t)sh.throttled;
	summary->elapsed_ms = gcmsg__mono_ms() - t0;
	free(c->pacer);
	c->pacer = sh.pacer;
	gcmsg__err_clear(&r.fatal);
	pthread_mutex_destroy(&sh.mu);
	pthread_mutex_destroy(&r.mu);
	return rc;
}

/* ---- keys ---- */

/* order[] = the row's variables sorted by name (at most 64: an insertion sort), so the key does not depend on column order. */
static void sort_by_name(size_t *order, size_t n, const char *const *names)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		size_t v = i;
		for (j = i; j > 0 && strcmp(names[order[j - 1]], names[v]) > 0; j--)
			order[j] = order[j - 1];
		order[j] = v;
	}
}

int gcmsg_bulk_row_key(char *out, size_t size, const char *run_id, const gcmsg_bulk_row *row)
{
	unsigned char d[GCMSG__SHA256_LEN];
	size_t order[GCMSG_BULK_MAX_VARS], i, nv;
	gcmsg__sha256_ctx h;

	if (!out || !row)
		return GCMSG_EUSAGE;
	if (row->key) {
		if (strlen(row->key) >= size)
			return GCMSG_EUSAGE;
		memcpy(out, row->key, strlen(row->key) + 1);
		return GCMSG_OK;
	}
	if (size < GCMSG_BULK_KEY_LEN)
		return GCMSG_EUSAGE;
	nv = row->var_count < GCMSG_BULK_MAX_VARS ? row->var_count : GCMSG_BULK_MAX_VARS;
	sort_by_name(order, nv, row->var_names);
	gcmsg__sha256_init(&h);
	gcmsg__sha256_field(&h, "b1");
	gcmsg__sha256_field(&h, run_id);
	gcmsg__sha256_field(&h, row->conversation_id);
	gcmsg__sha256_field(&h, row->response ? "response" : "text");
	gcmsg__sha256_field(&h, row->response ? row->response : row->text);
	gcmsg__sha256_field(&h, row->library);
	for (i = 0; i < nv; i++) {
		gcmsg__sha256_field(&h, row->var_names[order[i]]);
		gcmsg__sha256_field(&h, row->var_values[order[i]]);
	}
	gcmsg__sha256_final(&h, d);
	memcpy(out, "b1:", 3);
	gcmsg__hex(d, sizeof(d), out + 3);
	return GCMSG_OK;
}
