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
 * Items are handed out in file order, except that the items of one
 * conversation go one after the other (an item waits while an earlier one of
 * its conversation is going; a sender takes a later item meanwhile), so a
 * conversation gets its messages in the order of the file. Results reach the
 * caller's callback one at a time (under the run's mutex).
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
	pthread_mutex_t mu; /* everything below, and the callback */
	pthread_cond_t cv;  /* an item ended */
	size_t next;        /* items before it have all started */
	long long *prev;    /* the previous item of the same conversation, or -1 */
	unsigned char *state; /* per item: 0 waiting, 1 started, 2 ended */
	int stop;           /* a fatal error: start no more items */
	int fatal_code;
	gcmsg__err fatal;
	gcmsg_bulk_summary *sum;
	size_t done;
};

static int cancelled(run *r)
{
	return r->o->cancel && *r->o->cancel;
}

/* How far past the first unstarted item a sender looks for one it may start. */
#define LOOKAHEAD 4096

/*
 * The next item to start, or -1 when none is left (or the run stops). Items
 * of one conversation go one after the other, in file order: an item whose
 * conversation has an earlier item still going waits, and the sender takes a
 * later item of another conversation meanwhile.
 */
static long long take(run *r)
{
	long long got = -1;
	size_t i;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		if (r->stop || cancelled(r))
			break;
		while (r->next < r->n && r->state[r->next])
			r->next++;
		if (r->next >= r->n)
			break;
		for (i = r->next; i < r->n && i - r->next < LOOKAHEAD; i++)
			if (!r->state[i] && (r->prev[i] < 0 || r->state[r->prev[i]] == 2)) {
				got = (long long)i;
				break;
			}
		if (got >= 0) {
			r->state[got] = 1;
			break;
		}
		/* everything in reach waits for an earlier item: wait for one to end (or a cancel) */
		{
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100 * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&r->cv, &r->mu, &until);
		}
	}
	pthread_mutex_unlock(&r->mu);
	return got;
}

static void report(run *r, gcmsg_bulk_item_result *res)
{
	pthread_mutex_lock(&r->mu);
	r->done++;
	r->state[res->index] = 2;
	pthread_cond_broadcast(&r->cv);
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
 * Errors that are not the item's but the run's: the configuration or the
 * credentials are unusable. Every further item would fail the same way, so
 * the run stops starting new ones (each item already started still ends).
 */
static int fatal(int code)
{
	return code == GCMSG_ECONFIG || code == GCMSG_EAUTH;
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

/* A key of gcmsg_bulk_row_key's own making ("b1:" + 64 hex digits). */
static int derived_key(const char *k)
{
	size_t n;

	if (strncmp(k, "b1:", 3) != 0)
		return 0;
	for (n = 3; k[n]; n++)
		if (!((k[n] >= '0' && k[n] <= '9') || (k[n] >= 'a' && k[n] <= 'f')))
			return 0;
	return n == 3 + 64;
}

enum { KEY_NEW, KEY_SENT, KEY_UNFINISHED };

/*
 * What the outbox knows of an item's key, so that a rerun goes straight to
 * what is left. KEY_SENT: a derived key sent before (the key is made of the
 * conversation and the message, so the row is this item): answered from the
 * outbox, audited as a duplicate, without a request. KEY_UNFINISHED: an
 * earlier run of this conversation's item stopped mid-way (pending, in flight,
 * unknown): resumed from its recorded request, as `gcmsg outbox retry` does,
 * even if a rendering would now differ. Anything else, or a key recorded for
 * another conversation, takes the normal way (gcmsg_send), which answers a
 * duplicate or refuses a key reused for another message.
 */
static int known_key(sender *s, const gcmsg_bulk_item *it, char **route)
{
	gcmsg__outbox_row row;
	int rc, k = KEY_NEW;

	gcmsg__outbox_row_init(&row);
	rc = s->store->ops->outbox_get(s->store->backend, it->key, &row, &s->store->err);
	if (rc == GCMSG_OK && row.conversation_id && strcmp(row.conversation_id, it->conversation_id) == 0) {
		if (row.state == GCMSG_OUTBOX_SENT && derived_key(it->key))
			k = KEY_SENT;
		else if (row.state == GCMSG_OUTBOX_PENDING || row.state == GCMSG_OUTBOX_SENDING ||
		         row.state == GCMSG_OUTBOX_UNKNOWN)
			k = KEY_UNFINISHED;
		if (k != KEY_NEW && row.route)
			*route = gcmsg__strdup(row.route);
	}
	gcmsg__outbox_row_dispose(&row);
	return k; /* a store that cannot be read: the normal way will say so */
}

/* Answered from the outbox: audited as a duplicate, no request. 0, or an error. */
static int answer_sent(sender *s, const gcmsg_bulk_item *it, gcmsg_bulk_item_result *res, gcmsg__delivery_result *dr)
{
	gcmsg__deliver_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.source = s->r->o->source ? s->r->o->source : "bulk";
	rc = gcmsg__deliver_if_sent(s->c, s->store, it->key, &o, dr);
	if (rc == 1) {
		res->duplicate = 1;
		res->message_id = dr->message_id;
		return GCMSG_OK;
	}
	return rc < 0 ? rc : gcmsg__err_set(&s->c->err, GCMSG_ERROR, "outbox entry %s changed meanwhile", it->key);
}

/* Render the item for its conversation; a refusal is audited. */
static int render(sender *s, const gcmsg_bulk_item *it, const gcmsg_route *route, gcmsg_rendered **rd)
{
	gcmsg_render_options ro = GCMSG_RENDER_OPTIONS_INIT;
	const gcmsg_bulk_options *o = s->r->o;
	const char *what;
	int rc;

	ro.vars = it->vars;
	ro.var_count = it->var_count;
	ro.conversation = gcmsg_route_conversation(route);
	ro.caller = gcmsg_route_identity(route);
	ro.language = o->language;
	ro.allow_missing = o->allow_missing;
	rc = it->response ? gcmsg_render(rd, it->response, &ro) : gcmsg_render_text(rd, it->text, NULL, &ro);
	if (rc >= 0)
		return rc;
	what = *rd ? gcmsg_rendered_error(*rd) : NULL;
	gcmsg__err_set(&s->c->err, rc, "the %s cannot be rendered: %s", it->response ? "response" : "text",
	               what ? what : "out of memory");
	if (*rd)
		gcmsg_audit_refused(s->store, route, NULL, *rd,
		                    gcmsg_rendered_missing_count(*rd) ? "placeholder.missing" : "placeholder.malformed",
		                    o->source ? o->source : "bulk", s->c->err.explanation);
	return rc;
}

static void send_one(sender *s, size_t i)
{
	run *r = s->r;
	const gcmsg_bulk_item *it = &r->items[i];
	gcmsg_bulk_item_result res;
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_route *route = NULL;
	gcmsg_rendered *rd = NULL;
	gcmsg_send_result *sr = NULL;
	gcmsg__delivery_result dr;
	char *known_route = NULL;
	long long t0 = gcmsg__mono_ms();
	int rc, known;

	memset(&res, 0, sizeof(res));
	memset(&dr, 0, sizeof(dr));
	res.index = i;
	res.key = it->key;
	gcmsg__err_clear(&s->c->err);
	so.store = s->store;
	so.idempotency_key = it->key;
	so.source = r->o->source ? r->o->source : "bulk";
	known = known_key(s, it, &known_route);
	res.route = known_route;
	if (known == KEY_SENT) {
		if ((rc = answer_sent(s, it, &res, &dr)) < 0)
			res.stage = "send";
		goto out;
	}
	if (known == KEY_UNFINISHED) {
		rc = gcmsg_outbox_resume(&sr, s->c, s->store, it->key, &so);
		if (rc < 0)
			res.stage = "send";
		goto result;
	}
	rc = gcmsg_route_resolve(&route, s->c, it->conversation_id);
	if (rc < 0) {
		res.stage = "route";
		goto out;
	}
	res.route = gcmsg_route_type_name(gcmsg_route_kind(route));
	if ((rc = render(s, it, route, &rd)) < 0) {
		res.stage = "render";
		goto out;
	}
	so.rendered = rd;
	so.policy = r->o->policy;
	so.allow_placeholders = r->o->allow_missing;
	rc = gcmsg_send(&sr, s->c, route, &so);
	if (rc < 0)
		res.stage = "send";
result:
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
	free(known_route);
}

static void *sender_main(void *arg)
{
	sender *s = arg;
	long long i;

	while ((i = take(s->r)) >= 0)
		send_one(s, (size_t)i);
	return NULL;
}

/* ---- items by string: an open-addressing index (FNV-1a), for keys and conversations ---- */

typedef struct str_index {
	size_t cap;   /* a power of two, at least twice the entries */
	size_t *slot; /* item index + 1; 0: empty */
} str_index;

static size_t fnv1a(const char *s)
{
	size_t h = (size_t)1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211ULL;
	return h;
}

static int index_init(str_index *x, size_t n)
{
	x->cap = 16;
	while (x->cap < 2 * n)
		x->cap *= 2;
	x->slot = calloc(x->cap, sizeof(*x->slot));
	return x->slot ? 0 : -1;
}

/*
 * Look up the string of item i (by get): returns the item recorded under it,
 * or -1. Item i is recorded when the string was absent, or in the found
 * item's place when `replace`.
 */
static long long index_put(str_index *x, const gcmsg_bulk_item *items, size_t i,
                           const char *(*get)(const gcmsg_bulk_item *), int replace)
{
	const char *v = get(&items[i]);
	size_t h = fnv1a(v) & (x->cap - 1);
	long long found = -1;

	for (; x->slot[h]; h = (h + 1) & (x->cap - 1))
		if (strcmp(get(&items[x->slot[h] - 1]), v) == 0) {
			found = (long long)(x->slot[h] - 1);
			break;
		}
	if (found < 0 || replace)
		x->slot[h] = i + 1;
	return found;
}

static const char *key_of(const gcmsg_bulk_item *it)
{
	return it->key;
}

static const char *conversation_of(const gcmsg_bulk_item *it)
{
	return it->conversation_id;
}

/* Two items under one key would be one message: refuse (naming both). */
static int unique_keys(gcmsg_client *c, const gcmsg_bulk_item *items, size_t n)
{
	str_index x;
	long long j;
	size_t i;
	int rc = GCMSG_OK;

	if (index_init(&x, n) < 0)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	for (i = 0; i < n; i++)
		if ((j = index_put(&x, items, i, key_of, 0)) >= 0) {
			rc = gcmsg__err_set(&c->err, GCMSG_EUSAGE, "items %lld and %zu have the same idempotency key %s", j,
			                    i, items[i].key);
			break;
		}
	free(x.slot);
	return rc;
}

/* prev[i]: the item before i with the same conversation, or -1 (items of one conversation go in order). */
static int chain_conversations(long long *prev, const gcmsg_bulk_item *items, size_t n)
{
	str_index x;
	size_t i;

	if (index_init(&x, n) < 0)
		return -1;
	for (i = 0; i < n; i++)
		prev[i] = index_put(&x, items, i, conversation_of, 1);
	free(x.slot);
	return 0;
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
	return unique_keys(c, items, n);
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
	if (!(r.prev = malloc(n * sizeof(*r.prev))) || !(r.state = calloc(n, 1)) ||
	    chain_conversations(r.prev, items, n) < 0) {
		free(r.prev);
		free(r.state);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	}
	if (pthread_mutex_init(&r.mu, NULL) != 0 || pthread_cond_init(&r.cv, NULL) != 0 ||
	    pthread_mutex_init(&sh.mu, NULL) != 0) {
		free(r.prev);
		free(r.state);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "cannot create a mutex"); /* (a leaked mutex: nothing to free) */
	}
	sh.pacer = c->pacer; /* what the client learnt so far; handed back at the end */
	c->pacer = NULL;
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
			if (s[k].store)
				gcmsg__err_copy(&c->err, &s[k].store->err);
			else
				gcmsg__err_set(&c->err, rc, "out of memory opening the store");
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
	free(r.prev);
	free(r.state);
	pthread_mutex_destroy(&sh.mu);
	pthread_cond_destroy(&r.cv);
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
