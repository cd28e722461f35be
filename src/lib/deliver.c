/*
 * deliver.c - exactly-once delivery of one message through the outbox.
 *
 * Genesys has no idempotency key, and a send answered 5xx, or not answered,
 * may or may not have reached the customer. So every send with a store has a
 * key and a row in the outbox, written before any request goes out, and the
 * row says what we know:
 *
 *   PENDING  nothing delivered under this key: (re)send it
 *   SENDING  a request is in flight (claim: pid, host, time); a dead claim
 *            means the process died mid-request: read back before anything
 *   UNKNOWN  an ambiguous answer: read back before any resend (a claim on it:
 *            a process is reading it back)
 *   SENT     delivered (message id kept; body and text wiped: PII)
 *   FAILED   the server refused it (4xx); nothing delivered by that attempt
 *   DROPPED  a person dropped it
 *
 * Once a row carries no claim (claim_pid 0), its claim_ms keeps the start of
 * the last attempt that may have reached the server (0: none known): the
 * in-flight horizon below runs from there, in every process that resumes it.
 *
 * The loop (gcmsg__deliver_run), one immediate transaction per step, so two
 * processes never act on one key at once:
 *
 *   PENDING  -> claim (SENDING, attempts + 1, first_attempt_ms), COMMIT, then
 *               POST once (write-ahead: a crash from here on leaves SENDING with
 *               a dead claim), then in a new transaction:
 *      2xx        -> SENT; audit attempt "ok" and outcome "sent"
 *      401        -> once, when a renewal can cure it: token invalidated,
 *                    PENDING, attempt "auth-renewed", send again at once (a 401
 *                    delivered nothing); else as 4xx
 *      other 4xx, 501 -> FAILED; attempt "rejected", outcome "failed"; the
 *                    server's error (as without a store)
 *      429        -> PENDING (next_attempt_ms); attempt "throttled"; wait
 *                    Retry-After (default retry_after_default_ms) + a small
 *                    jitter; beyond the cap or the budget: outcome "pending",
 *                    GCMSG_ERATELIMIT
 *      5xx, timeout, reset, empty reply -> UNKNOWN (claim_ms: this attempt's
 *                    start); attempt "ambiguous"; wait readback_settle_ms + a
 *                    backoff, then read back
 *      no connection (provably unsent) -> PENDING, attempts - 1 (nothing left,
 *                    so no attempt record); backoff, send again
 *      no token   -> PENDING, attempts - 1; outcome "pending"; the login's error
 *               That transaction is retried (GCMSG__STORE_TRIES) when the store
 *               fails (a lock held past the busy timeout): the answer must not
 *               be lost. When it still fails, the call ends GCMSG_EREMOTE "the
 *               message may have been sent" (fix: gcmsg outbox retry <key>), the
 *               row stays SENDING with our claim, and that claim is dead for
 *               this process too (claims are tracked per process: see
 *               claim_alive), so the next attempt reads back first.
 *               A row taken over meanwhile (another process judged our claim
 *               dead) is left alone, but the request still gets its one
 *               attempt record.
 *   UNKNOWN, or SENDING with a dead claim -> claim (the row stays UNKNOWN, with
 *               our claim; attempts unchanged: a read-back is not a send), COMMIT,
 *               read back (readback.c), then:
 *      found      -> SENT with that message id; attempt "readback-found",
 *                    outcome "sent"; read_back = 1. Unless, checked in the
 *                    writing transaction, another key recorded that message
 *                    meanwhile, or another key of this conversation with the
 *                    same text (or media) is SENDING or UNKNOWN: that key may
 *                    own it; then as unknown
 *      absent     -> the in-flight horizon (readback_horizon_ms, default the
 *                    request timeout + 30 s): a request the client gave up on may
 *                    still be carried out by the server. Once the horizon has
 *                    passed since the last attempt that may have reached the
 *                    server started: PENDING; attempt "readback-absent";
 *                    backoff, send again. Before: UNKNOWN; attempt
 *                    "readback-absent"; read again later (the reads left are
 *                    spread so that one comes after the horizon), or, when the
 *                    reads or the budget cannot reach the horizon, outcome
 *                    "unknown" (next_attempt_ms: the horizon)
 *      unknown    -> UNKNOWN; attempt "readback-failed"; backoff, read again
 *   SENT     -> nothing sent: duplicate = 1, outcome "duplicate"
 *   SENDING (or UNKNOWN) with a live claim -> refused: GCMSG_EUSAGE, rule
 *               outbox.in-flight ("being sent / read back by process P on host
 *               H"); the caller's mistake (two senders of one key at once), not
 *               the server's
 *   FAILED, DROPPED -> GCMSG_EUSAGE (resume); a new gcmsg_send re-arms them
 *               (gcmsg__deliver_prepare): UNKNOWN (read back first) when an
 *               earlier attempt may have delivered it (DROPPED after any
 *               attempt, FAILED after more than one), else PENDING
 *
 * Limits per call, from the client's retry policy: at most max_attempts sends
 * and max_attempts read-backs; the call lasts at most budget_ms (wall clock,
 * requests included). When they run out the row keeps its state and the call
 * returns:
 *   PENDING after 429s         GCMSG_ERATELIMIT, outcome "pending"
 *   PENDING otherwise          GCMSG_EREMOTE, outcome "pending" (nothing delivered)
 *   UNKNOWN                    GCMSG_EREMOTE, outcome "unknown"
 * each with a fix naming `gcmsg outbox retry <key>`.
 *
 * Audit records never hold a token; the text only when the store keeps texts
 * (audit.c enforces it as well).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"
#include "readback.h"
#include "retry.h"
#include "sha256.h"

/* The transaction that records a request's answer is tried this many times when the store fails. */
#define GCMSG__STORE_TRIES 5
#define GCMSG__STORE_PAUSE_MS 100

/* ---- keys ---- */

int gcmsg__key_valid(const char *key)
{
	size_t n;

	if (!key)
		return 0;
	for (n = 0; key[n]; n++)
		if ((unsigned char)key[n] < 0x20 || (unsigned char)key[n] > 0x7e)
			return 0;
	return n >= 1 && n <= GCMSG__KEY_MAX;
}

/*
 * The derived key: "d1:" + hex SHA-256 over these netstrings, in order (an
 * absent field is the empty string):
 *   "d1", conversation id, route kind, body kind,
 *   the number of content fields (decimal), each content field,
 *   the time bucket floor(now_s / window_s) (decimal).
 * So the same message to the same conversation along the same route within
 * one window has the same key, and anything else a different one. The
 * communication id is left out (it was the second field before): it changes
 * when the agent reconnects, and a key that changes between two runs of one
 * send is a duplicate waiting to happen. Keys derived the earlier way, and
 * two sends either side of a bucket boundary, differ:
 * gcmsg__deliver_prepare continues the other key of the same message instead.
 */
void gcmsg__key_derive(char out[GCMSG__KEY_DERIVED_LEN], const gcmsg__key_input *in)
{
	gcmsg__sha256_ctx h;
	unsigned char d[GCMSG__SHA256_LEN];
	char num[32];
	size_t i;

	gcmsg__sha256_init(&h);
	gcmsg__sha256_field(&h, "d1");
	gcmsg__sha256_field(&h, in->conversation_id);
	gcmsg__sha256_field(&h, in->route);
	gcmsg__sha256_field(&h, in->body_kind);
	snprintf(num, sizeof(num), "%zu", in->ncontent);
	gcmsg__sha256_field(&h, num);
	for (i = 0; i < in->ncontent; i++)
		gcmsg__sha256_field(&h, in->content[i]);
	snprintf(num, sizeof(num), "%lld", in->bucket);
	gcmsg__sha256_field(&h, num);
	gcmsg__sha256_final(&h, d);
	memcpy(out, "d1:", 3);
	gcmsg__hex(d, sizeof(d), out + 3);
}

char *gcmsg__message_id_of(const char *route, const char *body, size_t len)
{
	json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	const char *id = NULL;
	char *out;

	if (route && strcmp(route, "agentless") == 0)
		/* SendAgentlessOutboundMessageResponse: the message is message.id, else the top id */
		id = gcmsg__json_str(json_object_get(root, "message"), "id");
	if (!id)
		id = gcmsg__json_str(root, "id");
	out = gcmsg__strdup(id);
	json_decref(root);
	return out;
}

void gcmsg__permissions_fix(gcmsg__err *e)
{
	gcmsg_buf b = GCMSG_BUF_INIT(GCMSG__HEADER_CAP);
	size_t i;

	if (e->nparams == 0 || e->fix)
		return;
	for (i = 0; i < e->nparams; i++)
		gcmsg__buf_printf(&b, "%s%s", i ? ", " : "", e->values[i]);
	gcmsg__err_set_fix(e, "grant the caller's role the permissions the server named: %s", gcmsg__buf_cstr(&b));
	gcmsg__buf_dispose(&b);
}

void gcmsg__delivery_result_dispose(gcmsg__delivery_result *r)
{
	free(r->message_id);
	free(r->correlation_id);
	free(r->key);
	memset(r, 0, sizeof(*r));
}

/* ---- the claims this process holds ---- */

/*
 * A claim with our pid and host is alive only while the call that took it
 * runs: each step tracks its claim here from the commit that took it to the
 * end of the step. A claim of ours that is not tracked was left behind (the
 * store failed after a request, so its answer could not be recorded; or it
 * is a dead process's whose pid we got again, as happens in containers): as
 * dead as a dead process's, so it is read back. Process-wide (two clients of
 * one process may share a store).
 */
typedef struct live_claim {
	struct live_claim *next;
	long long ms;
	char key[];
} live_claim;

static pthread_mutex_t claims_mu = PTHREAD_MUTEX_INITIALIZER;
static live_claim *claims;

static void claim_track(const char *key, long long ms)
{
	size_t n = strlen(key) + 1;
	live_claim *l = malloc(sizeof(*l) + n);

	if (!l)
		return; /* then the claim looks dead to this process only: it reads back before anything */
	memcpy(l->key, key, n);
	l->ms = ms;
	pthread_mutex_lock(&claims_mu);
	l->next = claims;
	claims = l;
	pthread_mutex_unlock(&claims_mu);
}

static void claim_untrack(const char *key, long long ms)
{
	live_claim **p, *dead = NULL;

	pthread_mutex_lock(&claims_mu);
	for (p = &claims; *p; p = &(*p)->next)
		if ((*p)->ms == ms && strcmp((*p)->key, key) == 0) {
			dead = *p;
			*p = dead->next;
			break;
		}
	pthread_mutex_unlock(&claims_mu);
	free(dead);
}

int gcmsg__outbox_claim_held(const char *key, long long ms)
{
	live_claim *l;
	int yes = 0;

	pthread_mutex_lock(&claims_mu);
	for (l = claims; l && !yes; l = l->next)
		yes = l->ms == ms && strcmp(l->key, key) == 0;
	pthread_mutex_unlock(&claims_mu);
	return yes;
}

/* Is the row's claim alive? (Ours: while tracked here; see gcmsg__outbox_claim_alive.) */
static int claim_alive(const gcmsg__outbox_row *row)
{
	return gcmsg__outbox_claim_alive(row, gcmsg__wall_ms());
}

/* ---- the run of one key ---- */

typedef struct run {
	gcmsg_client *c;
	gcmsg_store *s;
	const char *key;
	const gcmsg__deliver_opts *o;
	gcmsg__retry retry;
	int sends, tries, readbacks, renewed, throttled_last; /* sends: requests that left; tries: every go */
	int store_failed;  /* the last failure came from the store */
	long long horizon_ms;          /* the in-flight horizon (policy, or the request timeout + 30 s) */
	long long att_wall_ms, att_mono_ms; /* the start of this call's last ambiguous attempt (0: none) */
	gcmsg__delivery_result *res;
	char last[320];    /* the last send's answer, for the final error ("POST ... answered 503") */
	char rb_why[600];  /* the last read-back's conclusion */
} run;

/* The store's failure, on the client where gcmsg_send's caller looks. */
static int store_fail(run *u, int rc)
{
	const char *e = u->s->err.pub.explanation;

	u->store_failed = 1;
	gcmsg__err_set(&u->c->err, rc, "the outbox failed: %s", e ? e : gcmsg_strerror(rc));
	return rc;
}

static int oom(run *u)
{
	u->store_failed = 0;
	return gcmsg__err_set(&u->c->err, GCMSG_ERROR, "out of memory");
}

static int tx_begin(run *u)
{
	int rc = u->s->ops->begin(u->s->backend, &u->s->err);

	return rc < 0 ? store_fail(u, rc) : GCMSG_OK;
}

static void tx_rollback(run *u)
{
	u->s->ops->rollback(u->s->backend);
}

/* Commit; on failure the transaction is rolled back. */
static int tx_commit(run *u)
{
	int rc = u->s->ops->commit(u->s->backend, &u->s->err);

	if (rc < 0) {
		tx_rollback(u);
		return store_fail(u, rc);
	}
	return GCMSG_OK;
}

static int load(run *u, gcmsg__outbox_row *row)
{
	int rc;

	gcmsg__outbox_row_dispose(row);
	gcmsg__outbox_row_init(row);
	rc = u->s->ops->outbox_get(u->s->backend, u->key, row, &u->s->err);
	if (rc == GCMSG_ENOTFOUND) {
		gcmsg__err_set(&u->c->err, GCMSG_ENOTFOUND, "no outbox entry has the key %s", u->key);
		gcmsg__err_set_fix(&u->c->err, "gcmsg outbox list shows the entries");
		return rc;
	}
	return rc < 0 ? store_fail(u, rc) : GCMSG_OK;
}

static int save(run *u, gcmsg__outbox_row *row)
{
	int rc;

	row->updated_ms = gcmsg__wall_ms();
	rc = u->s->ops->outbox_update(u->s->backend, row, &u->s->err);
	return rc < 0 ? store_fail(u, rc) : GCMSG_OK;
}

static int set_str(char **dst, const char *v)
{
	char *n = NULL;

	if (v && !(n = gcmsg__strdup(v)))
		return -1;
	free(*dst);
	*dst = n;
	return 0;
}

/* No claim any more; claim_ms keeps attempt_ms, the start of the last attempt that may have reached the server. */
static void release(gcmsg__outbox_row *r, long long attempt_ms)
{
	r->claim_pid = 0;
	free(r->claim_host);
	r->claim_host = NULL;
	r->claim_ms = attempt_ms > 0 ? attempt_ms : 0;
}

/* The start of the last attempt that may have reached the server, as far as the row tells (never too early). */
static long long attempt_start(const gcmsg__outbox_row *r)
{
	/* a claim's time is its attempt's start, or a later read-back's; a released row keeps the attempt's */
	if (r->claim_ms > 0)
		return r->claim_ms;
	/* not recorded (an older row, or one dropped by a person): its last change came after any attempt */
	if (r->updated_ms > 0)
		return r->updated_ms;
	return gcmsg__wall_ms();
}

/* A terminal row keeps no request, no text and no claim (PII). */
static void wipe(gcmsg__outbox_row *r)
{
	gcmsg__free_secret(r->body);
	r->body = NULL;
	gcmsg__free_secret(r->match_text);
	r->match_text = NULL;
	r->next_attempt_ms = 0;
	release(r, 0);
}

/* Still our claim (nobody took the row over while our request was out)? */
static int ours(const gcmsg__outbox_row *r, gcmsg_outbox_state state, long long claim_ms)
{
	const char *host = gcmsg__host_name();

	return r->state == state && r->claim_pid == (long)getpid() && r->claim_ms == claim_ms && r->claim_host &&
	       strcmp(r->claim_host, host) == 0;
}

/* One audit record of the row, inside the current transaction. */
typedef struct audit_fields {
	long status;
	const char *code, *corr, *message_id, *text, *detail;
	long long latency_ms;
} audit_fields;

static int audit(run *u, const gcmsg__outbox_row *row, const char *event, const char *outcome, const audit_fields *f)
{
	gcmsg__audit_rec rec;
	int rc;

	gcmsg__audit_rec_init(&rec); /* every string borrowed */
	rec.time_ms = gcmsg__wall_ms();
	rec.event = (char *)event;
	rec.outcome = (char *)outcome;
	rec.key = row->key;
	rec.who = (char *)(u->o && u->o->who ? u->o->who : row->who);
	rec.route = row->route;
	rec.conversation_id = row->conversation_id;
	rec.communication_id = row->communication_id;
	rec.response_id = row->response_id;
	rec.library_id = row->library_id;
	rec.response_version = row->response_version;
	rec.channel = row->channel;
	rec.source = (char *)(u->o && u->o->source ? u->o->source : row->source);
	rec.http_status = f->status;
	rec.error_code = (char *)f->code;
	rec.correlation_id = (char *)(f->corr && *f->corr ? f->corr : NULL);
	rec.attempt = row->attempts;
	rec.latency_ms = f->latency_ms;
	rec.message_id = (char *)f->message_id;
	rec.text_sha256 = row->text_sha256;
	rec.text = u->s->audit_text ? (char *)f->text : NULL;
	rec.detail = (char *)f->detail;
	rc = gcmsg__audit_record(u->s, &rec, 1);
	return rc < 0 ? store_fail(u, rc) : GCMSG_OK;
}

static long long since_first(const gcmsg__outbox_row *row)
{
	long long now = gcmsg__wall_ms();

	return row->first_attempt_ms > 0 && now > row->first_attempt_ms ? now - row->first_attempt_ms : 0;
}

static void notify(run *u, const gcmsg__outbox_row *row, const char *outcome, const audit_fields *f, long long wait)
{
	gcmsg_attempt a;

	if (!u->o || !u->o->on_attempt)
		return;
	memset(&a, 0, sizeof(a));
	a.key = row->key;
	a.attempt = row->attempts;
	a.outcome = outcome;
	a.http_status = f->status;
	a.error_code = f->code;
	a.correlation_id = f->corr && *f->corr ? f->corr : NULL;
	a.latency_ms = f->latency_ms;
	a.wait_ms = wait;
	u->o->on_attempt(&a, u->o->attempt_payload);
}

/* ErrorBody code of an answer (malloc'd), or NULL. */
static char *answer_code(const gcmsg__http_resp *r)
{
	json_t *root = r->body.len ? json_loadb(r->body.ptr, r->body.len, 0, NULL) : NULL;
	char *code = gcmsg__strdup(gcmsg__json_str(root, "code"));

	json_decref(root);
	return code;
}

/* ---- what a step writes ---- */

/*
 * One step's change of the row and its audit records, applied to the row as
 * loaded in the writing transaction. Built before the transaction, so that a
 * transaction retried after a store failure writes the same thing.
 */
typedef struct change {
	gcmsg_outbox_state state;
	int unsent, clear_first_attempt; /* a send that never left: attempts - 1 (and no first attempt after all) */
	long long next_attempt_ms;
	long long attempt_ms;            /* claim_ms once released (see release) */
	int answer;                      /* record the answer: */
	long http_status;
	const char *error_code, *correlation_id;
	const char *message_id;          /* SENT: the message's id */
	int set_last_error;
	const char *last_error;
	const char *attempt;             /* the attempt record's outcome, or NULL */
	audit_fields af;
	int attempt_no;                  /* its attempt number (0: the row's) */
	const char *outcome;             /* the outcome record's, or NULL */
	audit_fields of;                 /* (its text: the row's, when the row ends) */
} change;

static int apply(run *u, gcmsg__outbox_row *row, const change *ch)
{
	int terminal = ch->state == GCMSG_OUTBOX_SENT || ch->state == GCMSG_OUTBOX_FAILED, rc;
	char *text = NULL;
	audit_fields of = ch->of;

	release(row, ch->state == GCMSG_OUTBOX_SENT ? 0 : ch->attempt_ms);
	row->state = ch->state;
	if (ch->unsent) {
		row->attempts--;
		if (ch->clear_first_attempt)
			row->first_attempt_ms = 0;
	}
	row->next_attempt_ms = ch->next_attempt_ms;
	if (ch->answer) {
		row->http_status = ch->http_status;
		if (set_str(&row->error_code, ch->error_code) < 0 ||
		    set_str(&row->correlation_id, ch->correlation_id && *ch->correlation_id ? ch->correlation_id : NULL) < 0)
			return oom(u);
	}
	if (terminal) {
		/* ours now: audited (when the store keeps texts), then wiped */
		text = row->match_text;
		row->match_text = NULL;
		wipe(row);
		if (ch->state == GCMSG_OUTBOX_FAILED)
			row->claim_ms = ch->attempt_ms > 0 ? ch->attempt_ms : 0;
	}
	if (ch->state == GCMSG_OUTBOX_SENT &&
	    (set_str(&row->message_id, ch->message_id) < 0 || set_str(&row->error_code, NULL) < 0 ||
	     set_str(&row->last_error, NULL) < 0)) {
		gcmsg__free_secret(text);
		return oom(u);
	}
	if (ch->set_last_error && set_str(&row->last_error, ch->last_error) < 0) {
		gcmsg__free_secret(text);
		return oom(u);
	}
	of.text = text;
	rc = save(u, row);
	if (rc == GCMSG_OK && ch->attempt) {
		int keep = row->attempts;
		if (ch->attempt_no > 0)
			row->attempts = ch->attempt_no;
		rc = audit(u, row, "attempt", ch->attempt, &ch->af);
		row->attempts = keep;
	}
	if (rc == GCMSG_OK && ch->outcome)
		rc = audit(u, row, "outcome", ch->outcome, &of);
	gcmsg__free_secret(text);
	return rc;
}

/* Apply ch to the row loaded in the open transaction and commit (nothing is retried: no request is at stake). */
static int finish_in_tx(run *u, gcmsg__outbox_row *row, const change *ch)
{
	int rc = apply(u, row, ch);

	if (rc < 0) {
		tx_rollback(u);
		return rc;
	}
	return tx_commit(u);
}

/*
 * After a request (or a read-back) under our claim (state, claim_ms): apply
 * ch to the row in a new transaction. A store failure (busy past its
 * timeout, I/O) is tried again, GCMSG__STORE_TRIES times in all, with pauses:
 * the answer of a request must not be lost. *out is the row as written. A row
 * that is no longer ours (taken over) is left alone, but the attempt record
 * of our request is still written (each request the server saw has one):
 * *taken = 1, GCMSG_OK.
 */
typedef int (*change_fn)(run *u, gcmsg__outbox_row *row, void *ctx, change *ch);

static int commit_change(run *u, gcmsg_outbox_state state, long long claim_ms, change *ch, change_fn decide,
                         void *ctx, gcmsg__outbox_row *out, int *taken)
{
	int rc = GCMSG_OK, i;

	*taken = 0;
	for (i = 0; i < GCMSG__STORE_TRIES; i++) {
		if (i > 0) {
			long long pause = (long long)GCMSG__STORE_PAUSE_MS << (i - 1);
			gcmsg__log(u->c, "outbox %s: %s; recording the answer again in %lld ms", u->key,
			           u->c->err.pub.explanation ? u->c->err.pub.explanation : "the store failed", pause);
			gcmsg__sleep_ms(pause);
		}
		u->store_failed = 0;
		if ((rc = tx_begin(u)) < 0)
			goto again;
		if ((rc = load(u, out)) < 0) {
			tx_rollback(u);
			goto again;
		}
		if (!ours(out, state, claim_ms)) {
			*taken = 1;
			if (ch->attempt) {
				int keep = out->attempts;
				if (ch->attempt_no > 0)
					out->attempts = ch->attempt_no;
				rc = audit(u, out, "attempt", ch->attempt, &ch->af);
				out->attempts = keep;
			}
			if (rc < 0) {
				tx_rollback(u);
				goto again;
			}
			if ((rc = tx_commit(u)) < 0)
				goto again;
			return GCMSG_OK;
		}
		if (decide && (rc = decide(u, out, ctx, ch)) < 0) {
			tx_rollback(u);
			goto again;
		}
		if ((rc = apply(u, out, ch)) < 0) {
			tx_rollback(u);
			goto again;
		}
		if ((rc = tx_commit(u)) == GCMSG_OK)
			return GCMSG_OK;
again:
		if (!u->store_failed)
			return rc;
	}
	return rc;
}

static int in_flight(run *u, const gcmsg__outbox_row *row)
{
	int rc = gcmsg__err_set(&u->c->err, GCMSG_EUSAGE, "outbox entry %s is being %s by process %ld on %s", u->key,
	                        row->state == GCMSG_OUTBOX_UNKNOWN ? "read back" : "sent", row->claim_pid,
	                        row->claim_host && *row->claim_host ? row->claim_host : "another host");

	gcmsg__err_set_rule(&u->c->err, "outbox.in-flight");
	gcmsg__err_set_fix(&u->c->err, "wait for that process to finish (gcmsg outbox list shows the entry); "
	                               "nothing was sent now");
	return rc;
}

/* The key was delivered before: answer from the outbox. */
static int duplicate(run *u, const gcmsg__outbox_row *row)
{
	audit_fields f = { 0, NULL, NULL, row->message_id, NULL, "already sent: answered from the outbox", 0 };
	int rc;

	if ((rc = tx_begin(u)) < 0)
		return rc;
	if ((rc = audit(u, row, "outcome", "duplicate", &f)) < 0) {
		tx_rollback(u);
		return rc;
	}
	if ((rc = tx_commit(u)) < 0)
		return rc;
	u->res->duplicate = 1;
	if (set_str(&u->res->message_id, row->message_id) < 0)
		return oom(u);
	return GCMSG_OK;
}

/* ---- giving up for this call ---- */

/* What the last send said, for an error: this call's, else what the row remembers. */
static void last_answer(const run *u, const gcmsg__outbox_row *row, char *out, size_t len)
{
	if (u->last[0])
		snprintf(out, len, "%s", u->last);
	else if (row->http_status > 0)
		snprintf(out, len, "an earlier attempt was answered %ld%s%s", row->http_status,
		         row->error_code ? " " : "", row->error_code ? row->error_code : "");
	else if (row->attempts > 0)
		snprintf(out, len, "an earlier attempt had no answer");
	else
		snprintf(out, len, "nothing was sent yet");
}

/*
 * The end of the road for this call: the row keeps its state. ch gets the
 * outcome record (outcome, its detail in buf) and the row's last_error; the
 * caller writes it, then calls give_up_error.
 */
static void give_up_change(run *u, const gcmsg__outbox_row *row, const char *outcome, change *ch, char *buf,
                           size_t len)
{
	char what[400];

	last_answer(u, row, what, sizeof(what));
	if (strcmp(outcome, "unknown") == 0)
		snprintf(buf, len, "outcome unknown after %d send(s) and %d read-back(s): %s%s%s", u->sends, u->readbacks,
		         what, u->rb_why[0] ? "; read-back: " : "", u->rb_why);
	else
		snprintf(buf, len, "not delivered yet, kept in the outbox: %s%s%s", what,
		         u->rb_why[0] ? "; read-back: " : "", u->rb_why);
	ch->outcome = outcome;
	/* the answer this step records, else the row's last one */
	ch->of.status = ch->answer ? ch->http_status : row->http_status;
	ch->of.code = ch->answer ? ch->error_code : row->error_code;
	ch->of.corr = ch->answer ? ch->correlation_id : row->correlation_id;
	ch->of.latency_ms = since_first(row);
	ch->of.detail = buf;
	ch->set_last_error = 1;
	ch->last_error = buf;
}

/* The client's error once a give-up is written (row: as written). Returns code. */
static int give_up_error(run *u, const gcmsg__outbox_row *row, const char *outcome, int code)
{
	char what[400];

	last_answer(u, row, what, sizeof(what));
	if (strcmp(outcome, "unknown") == 0) {
		gcmsg__err_set(&u->c->err, GCMSG_EREMOTE, "the outcome of the send is unknown: %s%s%s", what,
		               u->rb_why[0] ? "; read-back: " : "", u->rb_why);
		gcmsg__err_set_fix(&u->c->err, "the outcome is unknown; kept in the outbox: gcmsg outbox retry %s reads "
		                               "the conversation back before resending",
		                   u->key);
	} else if (code == GCMSG_ERATELIMIT) {
		/* the client's error holds the 429 (code, message, Retry-After): only the fix changes */
		gcmsg__err_set_fix(&u->c->err, "throttled beyond the retry budget; nothing was delivered; kept in the "
		                               "outbox: gcmsg outbox retry %s sends it later",
		                   u->key);
	} else {
		gcmsg__err_set(&u->c->err, code, "the message was not delivered: %s%s%s", what,
		               u->rb_why[0] ? "; read-back: " : "", u->rb_why);
		u->c->err.pub.http_status = row->http_status;
		gcmsg__err_set_fix(&u->c->err, "nothing was delivered; kept in the outbox: gcmsg outbox retry %s sends "
		                               "it again",
		                   u->key);
	}
	u->c->err.pub.code = code;
	return code;
}

/* The answer of a request could not be recorded, even after retrying: say what that means. */
static int unrecorded(run *u, const char *what)
{
	char e[400];

	snprintf(e, sizeof(e), "%s", u->c->err.pub.explanation ? u->c->err.pub.explanation : "the outbox failed");
	gcmsg__err_set(&u->c->err, GCMSG_EREMOTE, "the outcome of the send is unknown: %s, but the answer could not be "
	                                          "recorded (%s); the message may have been sent",
	               what, e);
	gcmsg__err_set_fix(&u->c->err, "once the outbox is writable again, gcmsg outbox retry %s reads the conversation "
	                               "back before resending",
	                   u->key);
	return GCMSG_EREMOTE;
}

/* ---- read-back ---- */

/* Is message_id another key's? (readback.c's ownership question) */
static int owned_by_other(const char *message_id, void *payload)
{
	run *u = payload;
	char *k = NULL;
	int rc = u->s->ops->outbox_key_of_message(u->s->backend, message_id, &k, &u->s->err), other;

	if (rc == GCMSG_ENOTFOUND)
		return 0;
	if (rc < 0)
		return -1;
	other = !k || strcmp(k, u->key) != 0;
	free(k);
	return other;
}

/* Rows of the conversation, for the questions below. */
typedef struct conv_scan {
	const gcmsg__outbox_row *self;
	int found;
	char other[GCMSG__KEY_MAX + 1];
} conv_scan;

/* A SENT row that recorded a message: the conversation holds messages. */
static int has_message(const gcmsg__outbox_row *row, void *payload)
{
	conv_scan *sc = payload;

	if (row->state != GCMSG_OUTBOX_SENT || !row->message_id || !*row->message_id)
		return 0;
	sc->found = 1;
	return 1;
}

/* Another key, sending or unknown, with our text (or media): it may own a message that carries it. */
static int same_content(const gcmsg__outbox_row *row, void *payload)
{
	conv_scan *sc = payload;
	const gcmsg__outbox_row *me = sc->self;

	if (!row->key || strcmp(row->key, me->key) == 0 ||
	    (row->state != GCMSG_OUTBOX_SENDING && row->state != GCMSG_OUTBOX_UNKNOWN))
		return 0;
	if (me->media_id ? !(row->media_id && strcmp(row->media_id, me->media_id) == 0)
	                 : !(me->text_sha256 && row->text_sha256 && strcmp(row->text_sha256, me->text_sha256) == 0))
		return 0;
	sc->found = 1;
	snprintf(sc->other, sizeof(sc->other), "%s", row->key);
	return 1;
}

/* Ask the store about the conversation of row: 1 when fn found a row, 0 not, < 0 the store failed. */
static int scan_conversation(run *u, const gcmsg__outbox_row *row, unsigned states, gcmsg__outbox_cb fn,
                             conv_scan *sc)
{
	gcmsg__outbox_query q;
	int rc;

	memset(&q, 0, sizeof(q));
	memset(sc, 0, sizeof(*sc));
	sc->self = row;
	q.states = states;
	q.conversation_id = row->conversation_id;
	if (!row->conversation_id)
		return 0;
	rc = u->s->ops->outbox_query(u->s->backend, &q, fn, sc, &u->s->err);
	if (rc < 0)
		return store_fail(u, rc);
	return sc->found;
}

/* What a read-back step decided; the change is built in the writing transaction (rb_decide). */
typedef struct rb_step {
	gcmsg__rb_result rb;
	gcmsg__rb_verdict verdict;     /* after the checks in the transaction */
	long long attempt_ms, horizon_at, wait_ms;
	int before_horizon;            /* absent, and the horizon has not passed */
	long long w_absent, w_early, w_unknown; /* the waits drawn before the transaction (-1: none left) */
	int give_up;                   /* the outcome to give up with: 1 pending, 2 unknown */
	int early;                     /* absent, but before the horizon */
	audit_fields f;
	char detail[600], why[320], gbuf[1200];
} rb_step;

/*
 * Within the in-flight horizon: the next read's wait. The reads go on at the
 * usual pace (settle time + backoff: a request landing late is found soon),
 * keeping the last read allowed for just after the horizon, when absent
 * finally means absent. -1 when the reads or the budget cannot reach the
 * horizon (the whole way, not only this wait).
 */
static long long horizon_wait(run *u, long long remaining)
{
	int left = u->retry.p.max_attempts - u->readbacks;
	long long w;

	if (left < 1 || remaining + 1 > gcmsg__retry_budget_left(&u->retry))
		return -1;
	if (left == 1) {
		w = remaining + 1;
		return gcmsg__retry_spend(&u->retry, w) == 0 ? w : -1;
	}
	w = gcmsg__retry_backoff(&u->retry);
	if (w < 0)
		return -1;
	if (w < u->retry.p.readback_settle_ms)
		w = u->retry.p.readback_settle_ms;
	return w > remaining + 1 ? remaining + 1 : w;
}

/* How long until the horizon (<= 0: passed), on the wall clock and, for this call's own attempt, the monotonic one. */
static long long horizon_remaining(const run *u, long long attempt_ms)
{
	long long rem = attempt_ms + u->horizon_ms - gcmsg__wall_ms();

	if (u->att_wall_ms > 0 && u->att_wall_ms == attempt_ms) {
		long long m = u->att_mono_ms + u->horizon_ms - gcmsg__mono_ms();
		if (m > rem)
			rem = m;
	}
	return rem;
}

static void clock_of(long long ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, len, "%H:%M:%SZ", &tm))
		snprintf(out, len, "%lld ms", ms);
}

/* In the writing transaction: the last checks of a FOUND, then the change for the verdict. */
static int rb_decide(run *u, gcmsg__outbox_row *row, void *ctx, change *ch)
{
	rb_step *st = ctx;
	conv_scan sc;
	int rc;

	st->verdict = st->rb.verdict;
	st->give_up = 0;
	st->early = 0;
	st->wait_ms = 0;
	snprintf(st->why, sizeof(st->why), "%s", st->rb.why);
	if (st->verdict == GCMSG__RB_FOUND) {
		/* recorded by another key meanwhile, or another key of ours may own it: not ours to take */
		if ((rc = owned_by_other(st->rb.message_id, u)) != 0) {
			if (rc < 0)
				return store_fail(u, GCMSG_ERROR);
			st->verdict = GCMSG__RB_UNKNOWN;
			snprintf(st->why, sizeof(st->why), "message %s matches, but another outbox key recorded it",
			         st->rb.message_id);
		} else if ((rc = scan_conversation(u, row, (1u << GCMSG_OUTBOX_SENDING) | (1u << GCMSG_OUTBOX_UNKNOWN),
		                                   same_content, &sc)) != 0) {
			if (rc < 0)
				return rc;
			st->verdict = GCMSG__RB_UNKNOWN;
			snprintf(st->why, sizeof(st->why), "message %s matches, but outbox entry %s with the same content is "
			         "being sent or unknown: it may be that one's", st->rb.message_id, sc.other);
		}
	}
	snprintf(u->rb_why, sizeof(u->rb_why), "%s", st->why);

	memset(ch, 0, sizeof(*ch));
	ch->attempt_ms = st->attempt_ms;
	st->f.detail = st->why;
	if (st->verdict == GCMSG__RB_FOUND) {
		ch->state = GCMSG_OUTBOX_SENT;
		ch->message_id = st->rb.message_id;
		st->f.message_id = st->rb.message_id;
		ch->attempt = "readback-found";
		ch->af = st->f;
		ch->outcome = "sent";
		ch->of.message_id = st->rb.message_id;
		ch->of.detail = "found by a read-back";
		ch->of.latency_ms = since_first(row);
		return GCMSG_OK;
	}
	if (st->verdict == GCMSG__RB_ABSENT) {
		ch->attempt = "readback-absent";
		if (!st->before_horizon) {
			/* provably not delivered, and past the horizon: back to PENDING, then a new send */
			ch->state = GCMSG_OUTBOX_PENDING;
			ch->af = st->f;
			if (u->tries >= u->retry.p.max_attempts || st->w_absent < 0) {
				st->give_up = 1;
				give_up_change(u, row, "pending", ch, st->gbuf, sizeof(st->gbuf));
			} else {
				st->wait_ms = st->w_absent;
				ch->next_attempt_ms = gcmsg__wall_ms() + st->wait_ms;
			}
			return GCMSG_OK;
		}
		/* absent so far, but the server may still carry out the attempt: read again, never resend yet */
		{
			char at[32], until[32];
			long long w = st->w_early;
			clock_of(st->attempt_ms, at, sizeof(at));
			clock_of(st->horizon_at, until, sizeof(until));
			st->early = 1;
			snprintf(st->detail, sizeof(st->detail), "%s; but the attempt of %s may still be carried out until "
			         "%s (the in-flight horizon)", st->why, at, until);
			snprintf(u->rb_why, sizeof(u->rb_why), "%s", st->detail);
			st->f.detail = st->detail;
			ch->state = GCMSG_OUTBOX_UNKNOWN;
			ch->af = st->f;
			if (w < 0) {
				st->give_up = 2;
				give_up_change(u, row, "unknown", ch, st->gbuf, sizeof(st->gbuf));
				ch->next_attempt_ms = st->horizon_at;
			} else {
				st->wait_ms = w;
				ch->next_attempt_ms = gcmsg__wall_ms() + w;
			}
		}
		return GCMSG_OK;
	}
	ch->state = GCMSG_OUTBOX_UNKNOWN;
	ch->attempt = "readback-failed";
	ch->af = st->f;
	/* nothing could be read (legacy chat: no read-back in the API): waiting would not change that */
	if (st->rb.requests == 0 || u->readbacks >= u->retry.p.max_attempts || st->w_unknown < 0) {
		st->give_up = 2;
		give_up_change(u, row, "unknown", ch, st->gbuf, sizeof(st->gbuf));
	} else {
		st->wait_ms = st->w_unknown;
		ch->next_attempt_ms = gcmsg__wall_ms() + st->wait_ms;
	}
	return GCMSG_OK;
}

/* UNKNOWN or abandoned SENDING: read back. Entered inside a transaction with row loaded. */
static int readback_step(run *u, gcmsg__outbox_row *row, int *done)
{
	gcmsg__rb_query q;
	gcmsg__outbox_row now_row;
	rb_step *st;
	conv_scan sc;
	change ch;
	long long claim_ms, t0;
	int rc, rb_rc, expect, taken = 0;
	const char *user = NULL;

	*done = 1;
	if (!(st = calloc(1, sizeof(*st)))) {
		tx_rollback(u);
		return oom(u);
	}
	gcmsg__rb_result_init(&st->rb);
	gcmsg__outbox_row_init(&now_row);
	st->attempt_ms = attempt_start(row);
	if (u->readbacks >= u->retry.p.max_attempts) {
		memset(&ch, 0, sizeof(ch));
		ch.state = GCMSG_OUTBOX_UNKNOWN;
		ch.attempt_ms = st->attempt_ms;
		ch.next_attempt_ms = row->next_attempt_ms;
		give_up_change(u, row, "unknown", &ch, st->gbuf, sizeof(st->gbuf));
		if ((rc = finish_in_tx(u, row, &ch)) == GCMSG_OK)
			rc = give_up_error(u, row, "unknown", GCMSG_EREMOTE);
		goto out;
	}
	/* the conversation is known to hold messages: an empty listing of it is incomplete */
	if ((expect = scan_conversation(u, row, 1u << GCMSG_OUTBOX_SENT, has_message, &sc)) < 0) {
		tx_rollback(u);
		rc = expect;
		goto out;
	}
	/*
	 * The row stays UNKNOWN (that is what it is while we look), with our
	 * claim on it so that no other process reads it back and resends at the
	 * same time; a crash here leaves UNKNOWN with a dead claim: read back again.
	 */
	row->state = GCMSG_OUTBOX_UNKNOWN;
	if (gcmsg__outbox_claim(row, gcmsg__wall_ms()) < 0) {
		tx_rollback(u);
		rc = oom(u);
		goto out;
	}
	claim_ms = row->claim_ms;
	if ((rc = save(u, row)) < 0) {
		tx_rollback(u);
		goto out;
	}
	/* tracked before the commit: another thread of this process must never see it untracked (dead) */
	claim_track(u->key, claim_ms);
	if ((rc = tx_commit(u)) < 0) {
		claim_untrack(u->key, claim_ms);
		goto out;
	}

	memset(&q, 0, sizeof(q));
	if (row->route && strcmp(row->route, "agent-messaging") == 0 && row->who && strncmp(row->who, "user:", 5) == 0)
		user = row->who + 5;
	q.conversation_id = row->conversation_id;
	q.route = row->route;
	q.text = row->media_id ? NULL : row->match_text;
	q.media_id = row->media_id;
	q.since_ms = row->first_attempt_ms > 0 ? row->first_attempt_ms : st->attempt_ms;
	q.user_id = user;
	q.expect_messages = expect;
	q.owned = owned_by_other;
	q.owned_payload = u;
	t0 = gcmsg__mono_ms();
	rb_rc = gcmsg__readback(u->c, &q, &st->rb);
	u->readbacks++;
	if (rb_rc < 0) /* out of memory: the verdict is unknown */
		st->rb.verdict = GCMSG__RB_UNKNOWN;
	st->f.status = st->rb.http_status;
	st->f.corr = st->rb.correlation_id;
	st->f.latency_ms = gcmsg__mono_ms() - t0;
	st->horizon_at = st->attempt_ms + u->horizon_ms;
	/* the waits the verdict may need, drawn once (the writing transaction may run again) */
	st->w_absent = st->w_early = st->w_unknown = -1;
	if (st->rb.verdict == GCMSG__RB_ABSENT) {
		long long rem = horizon_remaining(u, st->attempt_ms);
		st->before_horizon = rem > 0;
		if (st->before_horizon)
			st->w_early = horizon_wait(u, rem);
		else
			st->w_absent = gcmsg__retry_backoff(&u->retry);
	} else {
		/* unknown; or found, should a check in the writing transaction undo it */
		st->w_unknown = gcmsg__retry_backoff(&u->retry);
	}
	memset(&ch, 0, sizeof(ch)); /* a row taken over meanwhile gets no read-back record */
	rc = commit_change(u, GCMSG_OUTBOX_UNKNOWN, claim_ms, &ch, rb_decide, st, &now_row, &taken);
	claim_untrack(u->key, claim_ms);
	if (rc < 0) {
		if (u->store_failed) {
			char what[64];
			snprintf(what, sizeof(what), "a read-back said %s", gcmsg__rb_verdict_name(st->rb.verdict));
			rc = unrecorded(u, what);
		}
		goto out;
	}
	if (taken) {
		rc = gcmsg__err_set(&u->c->err, GCMSG_ERROR,
		                    "outbox entry %s was taken over by another process during the read-back", u->key);
		goto out;
	}
	if (st->verdict == GCMSG__RB_FOUND) {
		notify(u, &now_row, "readback-found", &st->f, 0);
		u->res->read_back = 1;
		u->res->http_status = 0;
		if (set_str(&u->res->message_id, st->rb.message_id) < 0)
			rc = oom(u);
		goto out;
	}
	if (st->give_up) {
		rc = give_up_error(u, &now_row, st->give_up == 1 ? "pending" : "unknown", GCMSG_EREMOTE);
		notify(u, &now_row, st->verdict == GCMSG__RB_ABSENT ? "readback-absent" : "readback-failed", &st->f, 0);
		goto out;
	}
	notify(u, &now_row, st->verdict == GCMSG__RB_ABSENT ? "readback-absent" : "readback-failed", &st->f,
	       st->wait_ms);
	gcmsg__log(u->c, "outbox %s: read-back %s (%s); %s in %lld ms", u->key, gcmsg__rb_verdict_name(st->verdict),
	           st->early ? st->detail : st->why,
	           st->verdict == GCMSG__RB_ABSENT && !st->early ? "sending again" : "reading again", st->wait_ms);
	gcmsg__sleep_ms(st->wait_ms);
	*done = 0;
out:
	gcmsg__rb_result_dispose(&st->rb);
	free(st);
	gcmsg__outbox_row_dispose(&now_row);
	return rc;
}

/* ---- sending ---- */

/* The server's refusal of the send, as gcmsg_send reports it without a store. */
static int refused(run *u, const char *path, const gcmsg__http_resp *r)
{
	int rc = gcmsg__api_error(u->c, "POST", path, r);
	gcmsg__err *e = &u->c->err;

	if (r->status == 403)
		gcmsg__permissions_fix(e);
	else if (r->status == 400 && !e->fix)
		gcmsg__err_set_fix(e, "nothing was delivered; check the text against the channel's limits (SMS 765, "
		                      "other messaging 2000 characters)");
	return rc;
}

/* Wait after a 429: GCMSG__RETRY_GO with *w, or why not. */
static gcmsg__retry_stop throttle_wait(run *u, long retry_after_s, long long *w)
{
	gcmsg__retry_stop s = gcmsg__retry_throttle(&u->retry, retry_after_s, w);

	if (s == GCMSG__RETRY_GO && u->tries >= u->retry.p.max_attempts)
		return GCMSG__RETRY_ATTEMPTS;
	return s;
}

/* What to do once a send's answer is recorded. */
typedef enum after_send {
	AFTER_AGAIN,    /* sleep wait_ms, then the loop goes on */
	AFTER_SENT,
	AFTER_RENEW,    /* a 401: renew the token, then at once again */
	AFTER_REJECTED, /* return the server's refusal */
	AFTER_FATAL,    /* nothing left: return the error (a login's, ...) */
	AFTER_GIVE_UP   /* give_up_error(give_up_outcome, give_up_code) */
} after_send;

/* PENDING: claim, send once, record what came of it. Entered inside a transaction with row loaded. */
static int send_step(run *u, gcmsg__outbox_row *row, int *done)
{
	gcmsg__http_resp r;
	gcmsg__outbox_row now_row;
	gcmsg__outcome o;
	gcmsg__retry_stop stop = GCMSG__RETRY_GO;
	audit_fields f;
	change ch;
	after_send after = AFTER_AGAIN;
	const char *gu_outcome = "pending", *note = NULL;
	char gbuf[1200], *code = NULL, *path = NULL, *body = NULL, *mid = NULL;
	long long claim_ms, t0, w = 0, now, prev_attempt_ms;
	int rc, token_failed = 0, left, fatal = 0, first_attempt_set = 0, attempt_no, gu_code = GCMSG_EREMOTE;
	int taken = 0, code_now = GCMSG_ERROR;

	*done = 1;
	memset(&ch, 0, sizeof(ch));
	prev_attempt_ms = row->claim_pid == 0 ? row->claim_ms : attempt_start(row);
	if (u->tries >= u->retry.p.max_attempts) {
		ch.state = GCMSG_OUTBOX_PENDING;
		ch.attempt_ms = prev_attempt_ms;
		ch.next_attempt_ms = row->next_attempt_ms;
		give_up_change(u, row, "pending", &ch, gbuf, sizeof(gbuf));
		if ((rc = finish_in_tx(u, row, &ch)) < 0)
			return rc;
		return give_up_error(u, row, "pending", u->throttled_last ? GCMSG_ERATELIMIT : GCMSG_EREMOTE);
	}
	if (!row->path || !row->body) {
		tx_rollback(u);
		return gcmsg__err_set(&u->c->err, GCMSG_ERROR, "outbox entry %s has no request recorded", u->key);
	}
	path = gcmsg__strdup(row->path);
	body = gcmsg__strdup(row->body);
	now = gcmsg__wall_ms();
	row->state = GCMSG_OUTBOX_SENDING;
	row->attempts++;
	attempt_no = row->attempts;
	if (row->first_attempt_ms <= 0) {
		row->first_attempt_ms = now;
		first_attempt_set = 1;
	}
	row->next_attempt_ms = 0;
	if (!path || !body || gcmsg__outbox_claim(row, now) < 0) {
		tx_rollback(u);
		free(path);
		gcmsg__free_secret(body);
		return oom(u);
	}
	claim_ms = row->claim_ms;
	if ((rc = save(u, row)) < 0) {
		tx_rollback(u);
		free(path);
		gcmsg__free_secret(body);
		return rc;
	}
	claim_track(u->key, claim_ms); /* before the commit, as above */
	if ((rc = tx_commit(u)) < 0) {
		claim_untrack(u->key, claim_ms);
		free(path);
		gcmsg__free_secret(body);
		return rc;
	}

	/* write-ahead done: from here a crash leaves SENDING with a dead claim, read back before any resend */
	gcmsg__http_resp_init(&r);
	gcmsg__outbox_row_init(&now_row);
	memset(&f, 0, sizeof(f));
	u->tries++;
	t0 = gcmsg__mono_ms();
	rc = gcmsg__api_once(u->c, "POST", path, body, &r, &token_failed);
	f.latency_ms = gcmsg__mono_ms() - t0;
	if (token_failed) {
		/* the request never left; the login's answer decides whether to wait and try again */
		o = gcmsg__retry_classify(u->c->err.pub.http_status, 0);
		if (o == GCMSG__OUTCOME_AMBIGUOUS)
			o = GCMSG__OUTCOME_UNSENT;
		if (o != GCMSG__OUTCOME_UNSENT && o != GCMSG__OUTCOME_THROTTLED)
			fatal = 1;
		snprintf(u->last, sizeof(u->last), "getting a token failed: %s",
		         u->c->err.pub.explanation ? u->c->err.pub.explanation : gcmsg_strerror(rc));
	} else if (rc == GCMSG_OK) {
		o = gcmsg__retry_classify(r.status, 1);
		snprintf(u->last, sizeof(u->last), "POST %s answered %ld", path, r.status);
	} else if (rc == GCMSG_EREMOTE) {
		o = gcmsg__retry_classify(0, r.sent_maybe);
		snprintf(u->last, sizeof(u->last), "%s",
		         u->c->err.pub.explanation ? u->c->err.pub.explanation : "the request failed");
	} else {
		/* refused before it left (out of memory, a bad header) */
		o = GCMSG__OUTCOME_UNSENT;
		fatal = 1;
		snprintf(u->last, sizeof(u->last), "%s",
		         u->c->err.pub.explanation ? u->c->err.pub.explanation : gcmsg_strerror(rc));
	}
	left = !token_failed && !fatal && o != GCMSG__OUTCOME_UNSENT;
	if (left)
		u->sends++;
	if (o == GCMSG__OUTCOME_AUTH && (u->renewed || u->c->token_passthrough || !gcmsg__api_renewable_401(&r)))
		o = GCMSG__OUTCOME_REJECTED; /* no renewal can cure it: a refusal like any other */
	gcmsg__log(u->c, "outbox %s: attempt %d: %s (%s)", u->key, attempt_no, u->last,
	           left ? gcmsg__outcome_name(o) : fatal ? "not sent" : "unsent");
	f.status = r.status;
	f.corr = r.correlation_id;
	code = r.status >= 300 ? answer_code(&r) : NULL;
	f.code = code ? code : (left && r.status == 0) ? "network" : NULL;
	u->throttled_last = o == GCMSG__OUTCOME_THROTTLED;

	/* what the answer means for the row: decided once, written (and retried) below */
	ch.answer = 1;
	ch.http_status = r.status;
	ch.error_code = f.code;
	ch.correlation_id = f.corr;
	ch.attempt_no = attempt_no;
	ch.attempt_ms = prev_attempt_ms; /* an attempt that surely delivered nothing does not move it */
	if (!left) {
		/* nothing left: not an attempt (no record); the row is as before the claim */
		ch.state = GCMSG_OUTBOX_PENDING;
		ch.unsent = 1;
		ch.clear_first_attempt = first_attempt_set;
		if (fatal) {
			/* keep the login's (or our) error as it is; the row waits for a retry */
			code_now = u->c->err.pub.code < 0 ? u->c->err.pub.code : GCMSG_ERROR;
			ch.outcome = "pending";
			ch.of.detail = u->last;
			ch.set_last_error = 1;
			ch.last_error = u->last;
			after = AFTER_FATAL;
		} else {
			if (o == GCMSG__OUTCOME_THROTTLED)
				stop = throttle_wait(u, u->c->err.pub.retry_after, &w);
			else if (u->tries < u->retry.p.max_attempts && (w = gcmsg__retry_backoff(&u->retry)) >= 0)
				stop = GCMSG__RETRY_GO;
			else
				stop = GCMSG__RETRY_BUDGET;
			if (stop != GCMSG__RETRY_GO) {
				after = AFTER_GIVE_UP;
				gu_code = o == GCMSG__OUTCOME_THROTTLED ? GCMSG_ERATELIMIT : GCMSG_EREMOTE;
				give_up_change(u, row, "pending", &ch, gbuf, sizeof(gbuf));
			} else {
				ch.next_attempt_ms = gcmsg__wall_ms() + w;
				note = "nothing was sent; again";
			}
		}
	} else {
		switch (o) {
		case GCMSG__OUTCOME_OK:
			mid = gcmsg__message_id_of(row->route, r.body.ptr, r.body.len);
			f.message_id = mid;
			ch.state = GCMSG_OUTBOX_SENT;
			ch.message_id = mid;
			ch.attempt = "ok";
			ch.outcome = "sent";
			ch.of.status = r.status;
			ch.of.corr = r.correlation_id;
			ch.of.message_id = mid;
			after = AFTER_SENT;
			break;
		case GCMSG__OUTCOME_AUTH:
			/* a 401 delivered nothing: renew the token once and send again at once */
			ch.state = GCMSG_OUTBOX_PENDING;
			ch.attempt = "auth-renewed";
			after = AFTER_RENEW;
			break;
		case GCMSG__OUTCOME_REJECTED:
			code_now = refused(u, path, &r); /* the server's error, as without a store */
			ch.state = GCMSG_OUTBOX_FAILED;
			ch.attempt = "rejected";
			ch.outcome = "failed";
			ch.of = f;
			ch.of.latency_ms = since_first(row);
			ch.of.detail = u->c->err.pub.explanation;
			ch.set_last_error = 1;
			ch.last_error = u->c->err.pub.explanation;
			after = AFTER_REJECTED;
			break;
		case GCMSG__OUTCOME_THROTTLED:
			stop = throttle_wait(u, r.retry_after, &w);
			ch.state = GCMSG_OUTBOX_PENDING;
			ch.attempt = "throttled";
			if (stop != GCMSG__RETRY_GO) {
				gcmsg__api_error(u->c, "POST", path, &r); /* the 429 as the server gave it */
				ch.next_attempt_ms = gcmsg__wall_ms() + w;
				after = AFTER_GIVE_UP;
				gu_code = GCMSG_ERATELIMIT;
				give_up_change(u, row, "pending", &ch, gbuf, sizeof(gbuf));
			} else {
				ch.next_attempt_ms = gcmsg__wall_ms() + w;
				note = "throttled; again";
			}
			break;
		default: { /* AMBIGUOUS: it may have been delivered; read back before anything else */
			int can = u->readbacks < u->retry.p.max_attempts &&
			          gcmsg__retry_spend(&u->retry, u->retry.p.readback_settle_ms) == 0;
			ch.state = GCMSG_OUTBOX_UNKNOWN;
			ch.attempt = "ambiguous";
			ch.attempt_ms = claim_ms; /* the horizon runs from this attempt's start */
			u->att_wall_ms = claim_ms;
			u->att_mono_ms = t0;
			if (can) {
				long long b = gcmsg__retry_backoff(&u->retry);
				w = u->retry.p.readback_settle_ms + (b > 0 ? b : 0);
				ch.next_attempt_ms = gcmsg__wall_ms() + w;
				note = "ambiguous; reading the conversation back";
			} else {
				after = AFTER_GIVE_UP;
				gu_outcome = "unknown";
				give_up_change(u, row, "unknown", &ch, gbuf, sizeof(gbuf));
			}
			break;
		}
		}
	}
	ch.af = f;
	if (ch.outcome && ch.of.latency_ms == 0)
		ch.of.latency_ms = since_first(row);

	rc = commit_change(u, GCMSG_OUTBOX_SENDING, claim_ms, &ch, NULL, NULL, &now_row, &taken);
	claim_untrack(u->key, claim_ms);
	if (rc < 0) {
		if (u->store_failed && left)
			rc = unrecorded(u, u->last);
		else if (u->store_failed)
			gcmsg__err_set_fix(&u->c->err, "nothing was sent; gcmsg outbox retry %s sends it once the outbox is "
			                               "writable again", u->key);
		goto out;
	}
	if (taken) {
		rc = gcmsg__err_set(&u->c->err, GCMSG_ERROR,
		                    "outbox entry %s was taken over by another process while its request was out", u->key);
		goto out;
	}
	switch (after) {
	case AFTER_SENT:
		notify(u, &now_row, "ok", &f, 0);
		u->res->http_status = r.status;
		if (set_str(&u->res->message_id, mid) < 0 ||
		    set_str(&u->res->correlation_id, r.correlation_id[0] ? r.correlation_id : NULL) < 0)
			rc = oom(u);
		break;
	case AFTER_RENEW:
		u->renewed = 1;
		notify(u, &now_row, "auth-renewed", &f, 0);
		gcmsg__log(u->c, "outbox %s: token refused (401): renewing it once and sending again", u->key);
		gcmsg__auth_invalidate(u->c);
		*done = 0;
		break;
	case AFTER_REJECTED:
		notify(u, &now_row, "rejected", &f, 0);
		rc = code_now;
		break;
	case AFTER_FATAL:
		gcmsg__err_set_fix(&u->c->err, "nothing was sent; kept in the outbox: gcmsg outbox retry %s sends it once "
		                               "this is fixed",
		                   u->key);
		u->c->err.pub.code = code_now;
		rc = code_now;
		break;
	case AFTER_GIVE_UP:
		rc = give_up_error(u, &now_row, gu_outcome, gu_code);
		if (left)
			notify(u, &now_row, ch.attempt, &f, 0);
		if (gu_code == GCMSG_ERATELIMIT && stop == GCMSG__RETRY_AFTER_CAP)
			gcmsg__err_set_fix(&u->c->err, "the server asks to wait %lld s, beyond the %ld s cap; nothing was "
			                               "delivered; kept in the outbox: gcmsg outbox retry %s sends it later",
			                   w / 1000, u->retry.p.retry_after_cap_ms / 1000, u->key);
		break;
	default:
		if (left)
			notify(u, &now_row, ch.attempt, &f, w);
		gcmsg__log(u->c, "outbox %s: %s; %s in %lld ms", u->key, u->last, note ? note : "again", w);
		gcmsg__sleep_ms(w);
		*done = 0;
		break;
	}
out:
	free(mid);
	free(code);
	free(path);
	gcmsg__free_secret(body);
	gcmsg__http_resp_dispose(&r);
	gcmsg__outbox_row_dispose(&now_row);
	return rc;
}

static void run_init(run *u, gcmsg_client *c, gcmsg_store *s, const char *key, const gcmsg__deliver_opts *o,
                     gcmsg__delivery_result *res)
{
	memset(u, 0, sizeof(*u));
	u->c = c;
	u->s = s;
	u->key = key;
	u->o = o;
	u->res = res;
}

int gcmsg__deliver_run(gcmsg_client *c, gcmsg_store *s, const char *key, const gcmsg__deliver_opts *o,
                       gcmsg__delivery_result *res)
{
	run u;
	int rc;

	run_init(&u, c, s, key, o, res);
	gcmsg__retry_init(&u.retry, &c->retry);
	u.horizon_ms = gcmsg__retry_horizon_ms(&c->retry, c->timeout_ms);
	for (;;) {
		gcmsg__outbox_row row;
		int done = 1;

		gcmsg__outbox_row_init(&row);
		if ((rc = tx_begin(&u)) < 0)
			break;
		if ((rc = load(&u, &row)) < 0) {
			tx_rollback(&u);
			gcmsg__outbox_row_dispose(&row);
			break;
		}
		switch (row.state) {
		case GCMSG_OUTBOX_SENT:
			tx_rollback(&u);
			if (u.sends || u.readbacks) {
				/* another process finished it while we waited */
				u.res->duplicate = 0;
				rc = set_str(&u.res->message_id, row.message_id) < 0 ? oom(&u) : GCMSG_OK;
			} else {
				rc = duplicate(&u, &row);
			}
			break;
		case GCMSG_OUTBOX_FAILED:
		case GCMSG_OUTBOX_DROPPED:
			tx_rollback(&u);
			rc = gcmsg__err_set(&c->err, GCMSG_EUSAGE, "outbox entry %s is %s: nothing to send", key,
			                    gcmsg_outbox_state_name(row.state));
			gcmsg__err_set_fix(&c->err, row.state == GCMSG_OUTBOX_FAILED
			                            ? "the server refused it (gcmsg outbox list shows why); send it again "
			                              "with gcmsg send and the same key once that is fixed"
			                            : "it was dropped on purpose; send it again with gcmsg send and the "
			                              "same key if it should go after all");
			break;
		case GCMSG_OUTBOX_SENDING:
		case GCMSG_OUTBOX_UNKNOWN:
			if (claim_alive(&row)) {
				/* another process is sending it, or reading it back */
				tx_rollback(&u);
				rc = in_flight(&u, &row);
				break;
			}
			/* unknown, or the claimer died (or gave up) with a request possibly out: read back */
			rc = readback_step(&u, &row, &done);
			break;
		default:
			rc = send_step(&u, &row, &done);
			break;
		}
		gcmsg__outbox_row_dispose(&row);
		if (done)
			break;
	}
	res->attempts = u.sends;
	return rc;
}

/* ---- recording a new send ---- */

/* Another key's row of the same message, for a derived key (see gcmsg__deliver_prepare). */
typedef struct same_message {
	const char *body_sha, *route;
	long long sent_from_ms; /* a SENT row counts from here: the current bucket's start */
	char key[GCMSG__KEY_MAX + 1];
	int found;
} same_message;

int gcmsg__deliver_if_sent(gcmsg_client *c, gcmsg_store *s, const char *key, const gcmsg__deliver_opts *o,
                           gcmsg__delivery_result *res)
{
	gcmsg__outbox_row row;
	run u;
	int rc;

	run_init(&u, c, s, key, o, res);
	gcmsg__outbox_row_init(&row);
	rc = s->ops->outbox_get(s->backend, key, &row, &s->err);
	if (rc == GCMSG_ENOTFOUND)
		rc = 0;
	else if (rc < 0)
		rc = store_fail(&u, rc);
	else if (row.state != GCMSG_OUTBOX_SENT)
		rc = 0;
	else if ((rc = duplicate(&u, &row)) == GCMSG_OK)
		rc = 1;
	gcmsg__outbox_row_dispose(&row);
	return rc;
}

static int is_same_message(const gcmsg__outbox_row *row, void *payload)
{
	same_message *sm = payload;

	if (!row->key || !row->body_sha256 || strcmp(row->body_sha256, sm->body_sha) != 0 ||
	    (sm->route && row->route && strcmp(row->route, sm->route) != 0))
		return 0;
	if (row->state == GCMSG_OUTBOX_SENT && row->created_ms < sm->sent_from_ms)
		return 0;
	if (strlen(row->key) >= sizeof(sm->key))
		return 0;
	memcpy(sm->key, row->key, strlen(row->key) + 1);
	sm->found = 1;
	return 1;
}

int gcmsg__deliver_prepare(gcmsg_client *c, gcmsg_store *s, const gcmsg__delivery *d, gcmsg__delivery_result *res,
                           int *go)
{
	gcmsg__outbox_row row;
	gcmsg__deliver_opts o = { d->source, d->who, NULL, NULL };
	char body_sha[2 * GCMSG__SHA256_LEN + 1], text_sha[2 * GCMSG__SHA256_LEN + 1];
	long long now = gcmsg__wall_ms();
	run u;
	int rc;

	*go = 0;
	run_init(&u, c, s, d->key, &o, res);
	gcmsg__sha256_hex(d->body, strlen(d->body), body_sha);
	if (d->match_text)
		gcmsg__sha256_hex(d->match_text, strlen(d->match_text), text_sha);
	gcmsg__outbox_row_init(&row);
	if ((rc = tx_begin(&u)) < 0)
		return rc;
	rc = s->ops->outbox_get(s->backend, d->key, &row, &s->err);
	if (rc == GCMSG_ENOTFOUND && d->derived && d->window_s > 0 && d->conversation_id) {
		/*
		 * A derived key not seen before. The same message may be unfinished
		 * under another key: derived in the previous time bucket (a send that
		 * runs across the boundary), or by an earlier version (d1 keys had the
		 * communication id, which changes when the agent reconnects). Continue
		 * that key rather than start a second copy of the message; a SENT one
		 * of the current bucket is a duplicate, as the same key would be.
		 */
		long long win = (long long)d->window_s * 1000, bucket = now / win;
		same_message sm;
		gcmsg__outbox_query q;

		memset(&sm, 0, sizeof(sm));
		memset(&q, 0, sizeof(q));
		sm.body_sha = body_sha;
		sm.route = d->route;
		sm.sent_from_ms = bucket * win;
		q.states = (1u << GCMSG_OUTBOX_PENDING) | (1u << GCMSG_OUTBOX_SENDING) | (1u << GCMSG_OUTBOX_UNKNOWN) |
		           (1u << GCMSG_OUTBOX_SENT);
		q.conversation_id = d->conversation_id;
		q.since_ms = (bucket - 1) * win;
		rc = s->ops->outbox_query(s->backend, &q, is_same_message, &sm, &s->err);
		if (rc < 0) {
			tx_rollback(&u);
			gcmsg__outbox_row_dispose(&row);
			return store_fail(&u, rc);
		}
		if (sm.found) {
			gcmsg__delivery again = *d;
			tx_rollback(&u);
			gcmsg__outbox_row_dispose(&row);
			gcmsg__log(c, "outbox: %s continues outbox entry %s (the same message, not finished or just sent)",
			           d->key, sm.key);
			if (set_str(&res->key, sm.key) < 0)
				return oom(&u);
			again.key = res->key;
			again.derived = 0;
			return gcmsg__deliver_prepare(c, s, &again, res, go);
		}
		rc = GCMSG_ENOTFOUND;
	}
	if (rc == GCMSG_ENOTFOUND) {
		int bad = 0;
		gcmsg__outbox_row_dispose(&row);
		gcmsg__outbox_row_init(&row);
		row.state = GCMSG_OUTBOX_PENDING;
		bad |= set_str(&row.key, d->key) | set_str(&row.conversation_id, d->conversation_id) |
		       set_str(&row.communication_id, d->communication_id) | set_str(&row.route, d->route) |
		       set_str(&row.channel, d->channel) | set_str(&row.path, d->path) | set_str(&row.body, d->body) |
		       set_str(&row.body_sha256, body_sha) | set_str(&row.match_text, d->match_text) |
		       set_str(&row.media_id, d->media_id) | set_str(&row.text_sha256, d->match_text ? text_sha : NULL) |
		       set_str(&row.response_id, d->response_id) | set_str(&row.library_id, d->library_id) |
		       set_str(&row.source, d->source ? d->source : "library") | set_str(&row.who, d->who);
		row.response_version = d->response_version;
		row.created_ms = row.updated_ms = now;
		if (bad) {
			tx_rollback(&u);
			rc = oom(&u);
		} else if ((rc = s->ops->outbox_insert(s->backend, &row, &s->err)) < 0) {
			tx_rollback(&u);
			store_fail(&u, rc);
		} else if ((rc = tx_commit(&u)) == GCMSG_OK) {
			*go = 1;
		}
		gcmsg__outbox_row_dispose(&row);
		return rc;
	}
	if (rc < 0) {
		tx_rollback(&u);
		gcmsg__outbox_row_dispose(&row);
		return store_fail(&u, rc);
	}
	if (!row.body_sha256 || strcmp(row.body_sha256, body_sha) != 0) {
		tx_rollback(&u);
		gcmsg__outbox_row_dispose(&row);
		rc = gcmsg__err_set(&c->err, GCMSG_EUSAGE, "idempotency key %s was already used for a different message",
		                    d->key);
		gcmsg__err_set_rule(&c->err, "outbox.key-reused");
		gcmsg__err_set_fix(&c->err, "give each message its own key (or none: gcmsg derives one); nothing was sent");
		return rc;
	}
	switch (row.state) {
	case GCMSG_OUTBOX_SENT:
		tx_rollback(&u);
		rc = duplicate(&u, &row);
		gcmsg__outbox_row_dispose(&row);
		return rc;
	case GCMSG_OUTBOX_SENDING:
	case GCMSG_OUTBOX_UNKNOWN: /* a claim on an unknown row: a process is reading it back */
		if (claim_alive(&row)) {
			tx_rollback(&u);
			rc = in_flight(&u, &row);
			gcmsg__outbox_row_dispose(&row);
			return rc;
		}
		break;
	case GCMSG_OUTBOX_FAILED:
	case GCMSG_OUTBOX_DROPPED: {
		/*
		 * An explicit new send re-arms the key. When an earlier attempt may
		 * have delivered it, it is re-armed UNKNOWN, so that it is read back
		 * before anything is sent (with the in-flight horizon from that
		 * attempt): DROPPED after any attempt (a person stopped it, possibly
		 * from UNKNOWN: we cannot tell any more), FAILED after more than one
		 * (the refused attempt delivered nothing, an earlier ambiguous one may
		 * have: 503, read back absent, resent, 400). Else PENDING: a fresh
		 * series of attempts.
		 */
		int maybe = row.state == GCMSG_OUTBOX_DROPPED ? row.attempts > 0 : row.attempts > 1;
		long long att = attempt_start(&row);

		row.state = maybe ? GCMSG_OUTBOX_UNKNOWN : GCMSG_OUTBOX_PENDING;
		if (!maybe)
			row.first_attempt_ms = 0;
		release(&row, maybe ? att : 0);
		row.next_attempt_ms = 0;
		row.http_status = 0;
		if (set_str(&row.message_id, NULL) || set_str(&row.error_code, NULL) || set_str(&row.last_error, NULL) ||
		    set_str(&row.correlation_id, NULL)) {
			tx_rollback(&u);
			gcmsg__outbox_row_dispose(&row);
			return oom(&u);
		}
		break;
	}
	default:
		break;
	}
	/*
	 * The request (wiped when the row went terminal) comes back from this
	 * call: the same body, by its hash. Its path and communication are this
	 * call's: the agent may have reconnected (a new communication) since.
	 */
	if ((!row.body && set_str(&row.body, d->body) < 0) ||
	    (!row.match_text && d->match_text && set_str(&row.match_text, d->match_text) < 0) ||
	    (d->path && set_str(&row.path, d->path) < 0) ||
	    (d->communication_id && set_str(&row.communication_id, d->communication_id) < 0)) {
		tx_rollback(&u);
		gcmsg__outbox_row_dispose(&row);
		return oom(&u);
	}
	if ((rc = save(&u, &row)) < 0) {
		tx_rollback(&u);
		gcmsg__outbox_row_dispose(&row);
		return rc;
	}
	gcmsg__outbox_row_dispose(&row);
	if ((rc = tx_commit(&u)) == GCMSG_OK)
		*go = 1;
	return rc;
}
