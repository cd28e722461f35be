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
 *   FAILED   the server refused it (4xx); nothing delivered
 *   DROPPED  a person dropped it
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
 *                    Retry-After (default retry_after_default_ms); beyond the cap
 *                    or the budget: outcome "pending", GCMSG_ERATELIMIT
 *      5xx, timeout, reset, empty reply -> UNKNOWN; attempt "ambiguous"; wait
 *                    readback_settle_ms + a backoff, then read back
 *      no connection (provably unsent) -> PENDING, attempts - 1 (nothing left,
 *                    so no attempt record); backoff, send again
 *      no token   -> PENDING, attempts - 1; outcome "pending"; the login's error
 *   UNKNOWN, or SENDING with a dead claim -> claim (the row stays UNKNOWN, with
 *               our claim; attempts unchanged: a read-back is not a send), COMMIT,
 *               read back (readback.c), then:
 *      found      -> SENT with that message id; attempt "readback-found",
 *                    outcome "sent"; read_back = 1
 *      absent     -> PENDING; attempt "readback-absent"; backoff, send again
 *      unknown    -> UNKNOWN; attempt "readback-failed"; backoff, read again
 *   SENT     -> nothing sent: duplicate = 1, outcome "duplicate"
 *   SENDING (or UNKNOWN) with a live claim -> refused: GCMSG_EUSAGE, rule
 *               outbox.in-flight ("being sent / read back by process P on host
 *               H"); the caller's mistake (two senders of one key at once), not
 *               the server's
 *   FAILED, DROPPED -> GCMSG_EUSAGE (resume); a new gcmsg_send re-arms them
 *               (gcmsg__deliver_prepare)
 *
 * Limits per call, from the client's retry policy: at most max_attempts sends
 * and max_attempts read-backs; every wait comes out of budget_ms. When they
 * run out the row keeps its state and the call returns:
 *   PENDING after 429s         GCMSG_ERATELIMIT, outcome "pending"
 *   PENDING otherwise          GCMSG_EREMOTE, outcome "pending" (nothing delivered)
 *   UNKNOWN                    GCMSG_EREMOTE, outcome "unknown"
 * each with a fix naming `gcmsg outbox retry <key>`.
 *
 * Audit records never hold a token; the text only when the store keeps texts
 * (audit.c enforces it as well).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"
#include "readback.h"
#include "retry.h"
#include "sha256.h"

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

/* One field as a netstring ("<decimal length>:<bytes>,"): no concatenation of fields is ambiguous. */
static void netstring(gcmsg__sha256_ctx *h, const char *s)
{
	char len[32];
	size_t n = s ? strlen(s) : 0;
	int k = snprintf(len, sizeof(len), "%zu:", n);

	gcmsg__sha256_update(h, len, (size_t)k);
	gcmsg__sha256_update(h, s ? s : "", n);
	gcmsg__sha256_update(h, ",", 1);
}

/*
 * The derived key: "d1:" + hex SHA-256 over these netstrings, in order (an
 * absent field is the empty string):
 *   "d1", conversation id, communication id, route kind, body kind,
 *   the number of content fields (decimal), each content field,
 *   the time bucket floor(now_s / window_s) (decimal).
 * So the same message to the same conversation along the same route within
 * one window has the same key, and anything else a different one. Two sends
 * either side of a bucket boundary get different keys: the window bounds how
 * long an identical message is taken for a repeat, not a sliding interval.
 */
void gcmsg__key_derive(char out[GCMSG__KEY_DERIVED_LEN], const gcmsg__key_input *in)
{
	gcmsg__sha256_ctx h;
	unsigned char d[GCMSG__SHA256_LEN];
	char num[32];
	size_t i;

	gcmsg__sha256_init(&h);
	netstring(&h, "d1");
	netstring(&h, in->conversation_id);
	netstring(&h, in->communication_id);
	netstring(&h, in->route);
	netstring(&h, in->body_kind);
	snprintf(num, sizeof(num), "%zu", in->ncontent);
	netstring(&h, num);
	for (i = 0; i < in->ncontent; i++)
		netstring(&h, in->content[i]);
	snprintf(num, sizeof(num), "%lld", in->bucket);
	netstring(&h, num);
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

void gcmsg__delivery_result_dispose(gcmsg__delivery_result *r)
{
	free(r->message_id);
	free(r->correlation_id);
	memset(r, 0, sizeof(*r));
}

/* ---- the run of one key ---- */

typedef struct run {
	gcmsg_client *c;
	gcmsg_store *s;
	const char *key;
	const gcmsg__deliver_opts *o;
	gcmsg__retry retry;
	int sends, tries, readbacks, renewed, throttled_last; /* sends: requests that left; tries: every go */
	gcmsg__delivery_result *res;
	char last[320];    /* the last send's answer, for the final error ("POST ... answered 503") */
	char rb_why[256];  /* the last read-back's conclusion */
} run;

static long long mono_ms(void)
{
	return (long long)(gcmsg__now() * 1000.0);
}

/* The store's failure, on the client where gcmsg_send's caller looks. */
static int store_fail(run *u, int rc)
{
	const char *e = u->s->err.pub.explanation;

	gcmsg__err_set(&u->c->err, rc, "the outbox failed: %s", e ? e : gcmsg_strerror(rc));
	return rc;
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
	int rc = u->s->ops->outbox_get(u->s->backend, u->key, row, &u->s->err);

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

static void release(gcmsg__outbox_row *r)
{
	r->claim_pid = 0;
	free(r->claim_host);
	r->claim_host = NULL;
	r->claim_ms = 0;
}

/* A terminal row keeps no request and no text (PII). */
static void wipe(gcmsg__outbox_row *r)
{
	gcmsg__free_secret(r->body);
	r->body = NULL;
	gcmsg__free_secret(r->match_text);
	r->match_text = NULL;
	r->next_attempt_ms = 0;
	release(r);
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
		return gcmsg__err_set(&u->c->err, GCMSG_ERROR, "out of memory");
	return GCMSG_OK;
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

/* The end of the road for this call: the row stays as it is (already saved), outcome audited, code returned. */
static int give_up(run *u, gcmsg__outbox_row *row, const char *outcome, int code)
{
	audit_fields f = { 0, row->error_code, row->correlation_id, NULL, NULL, NULL, since_first(row) };
	char detail[1024];
	int rc;

	f.status = row->http_status;
	if (strcmp(outcome, "unknown") == 0)
		snprintf(detail, sizeof(detail), "outcome unknown after %d send(s) and %d read-back(s): %s%s%s", u->sends,
		         u->readbacks, u->last, u->rb_why[0] ? "; read-back: " : "", u->rb_why);
	else
		snprintf(detail, sizeof(detail), "not delivered yet, kept in the outbox: %s", u->last);
	f.detail = detail;
	free(row->last_error);
	row->last_error = gcmsg__strdup(detail);
	if ((rc = save(u, row)) < 0 || (rc = audit(u, row, "outcome", outcome, &f)) < 0) {
		tx_rollback(u);
		return rc;
	}
	if ((rc = tx_commit(u)) < 0)
		return rc;
	if (strcmp(outcome, "unknown") == 0) {
		gcmsg__err_set(&u->c->err, GCMSG_EREMOTE, "the outcome of the send is unknown: %s%s%s", u->last,
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
		gcmsg__err_set(&u->c->err, code, "the message was not delivered: %s%s%s", u->last,
		               u->rb_why[0] ? "; read-back: " : "", u->rb_why);
		u->c->err.pub.http_status = row->http_status;
		gcmsg__err_set_fix(&u->c->err, "nothing was delivered; kept in the outbox: gcmsg outbox retry %s sends "
		                               "it again",
		                   u->key);
	}
	u->c->err.pub.code = code;
	return code;
}

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

/* UNKNOWN or abandoned SENDING: read back. Entered inside a transaction with row loaded. */
static int readback_step(run *u, gcmsg__outbox_row *row, int *done)
{
	gcmsg__rb_query q;
	gcmsg__rb_result rb;
	gcmsg__outbox_row now_row;
	audit_fields f;
	long long claim_ms, t0, w;
	int rc, rb_rc;

	*done = 1;
	if (u->readbacks >= u->retry.p.max_attempts) {
		row->state = GCMSG_OUTBOX_UNKNOWN;
		release(row);
		return give_up(u, row, "unknown", GCMSG_EREMOTE);
	}
	/*
	 * The row stays UNKNOWN (that is what it is while we look), with our
	 * claim on it so that no other process reads it back and resends at the
	 * same time; a crash here leaves UNKNOWN with a dead claim: read back again.
	 */
	row->state = GCMSG_OUTBOX_UNKNOWN;
	if (gcmsg__outbox_claim(row, gcmsg__wall_ms()) < 0) {
		tx_rollback(u);
		return gcmsg__err_set(&u->c->err, GCMSG_ERROR, "out of memory");
	}
	claim_ms = row->claim_ms;
	if ((rc = save(u, row)) < 0) {
		tx_rollback(u);
		return rc;
	}
	if ((rc = tx_commit(u)) < 0)
		return rc;

	memset(&q, 0, sizeof(q));
	q.conversation_id = row->conversation_id;
	q.route = row->route;
	q.text = row->media_id ? NULL : row->match_text;
	q.media_id = row->media_id;
	q.since_ms = row->first_attempt_ms;
	q.owned = owned_by_other;
	q.owned_payload = u;
	gcmsg__rb_result_init(&rb);
	t0 = mono_ms();
	rb_rc = gcmsg__readback(u->c, &q, &rb);
	u->readbacks++;
	snprintf(u->rb_why, sizeof(u->rb_why), "%s", rb.why);

	gcmsg__outbox_row_init(&now_row);
	if ((rc = tx_begin(u)) < 0) {
		gcmsg__rb_result_dispose(&rb);
		return rc;
	}
	if ((rc = load(u, &now_row)) < 0) {
		tx_rollback(u);
		gcmsg__rb_result_dispose(&rb);
		gcmsg__outbox_row_dispose(&now_row);
		return rc;
	}
	if (!ours(&now_row, GCMSG_OUTBOX_UNKNOWN, claim_ms)) {
		tx_rollback(u);
		gcmsg__rb_result_dispose(&rb);
		gcmsg__outbox_row_dispose(&now_row);
		return gcmsg__err_set(&u->c->err, GCMSG_ERROR,
		                      "outbox entry %s was taken over by another process during the read-back", u->key);
	}
	if (rb_rc < 0) /* out of memory: the verdict is unknown */
		rb.verdict = GCMSG__RB_UNKNOWN;
	memset(&f, 0, sizeof(f));
	f.status = rb.http_status;
	f.corr = rb.correlation_id;
	f.latency_ms = mono_ms() - t0;
	f.detail = rb.why;
	row = &now_row;

	if (rb.verdict == GCMSG__RB_FOUND) {
		char *text = row->match_text;
		audit_fields out = { 0, NULL, NULL, rb.message_id, NULL, "found by a read-back", since_first(row) };

		row->match_text = NULL; /* ours now: audited (when the store keeps texts), then wiped */
		out.text = text;
		f.message_id = rb.message_id;
		row->state = GCMSG_OUTBOX_SENT;
		wipe(row);
		free(row->error_code);
		row->error_code = NULL;
		free(row->last_error);
		row->last_error = NULL;
		if (set_str(&row->message_id, rb.message_id) < 0) {
			tx_rollback(u);
			rc = gcmsg__err_set(&u->c->err, GCMSG_ERROR, "out of memory");
		} else if ((rc = save(u, row)) == 0 && (rc = audit(u, row, "attempt", "readback-found", &f)) == 0 &&
		           (rc = audit(u, row, "outcome", "sent", &out)) == 0) {
			rc = tx_commit(u);
		} else {
			tx_rollback(u);
		}
		gcmsg__free_secret(text);
		if (rc == GCMSG_OK) {
			notify(u, row, "readback-found", &f, 0);
			u->res->read_back = 1;
			u->res->http_status = 0;
			if (set_str(&u->res->message_id, rb.message_id) < 0)
				rc = gcmsg__err_set(&u->c->err, GCMSG_ERROR, "out of memory");
		}
		goto out;
	}

	release(row);
	if (rb.verdict == GCMSG__RB_ABSENT) {
		/* provably not delivered: back to PENDING, then a backoff and a new send */
		row->state = GCMSG_OUTBOX_PENDING;
		if ((rc = save(u, row)) < 0 || (rc = audit(u, row, "attempt", "readback-absent", &f)) < 0) {
			tx_rollback(u);
			goto out;
		}
		if (u->tries >= u->retry.p.max_attempts || (w = gcmsg__retry_backoff(&u->retry)) < 0) {
			if ((rc = give_up(u, row, "pending", GCMSG_EREMOTE)) == GCMSG_EREMOTE)
				notify(u, row, "readback-absent", &f, 0);
			goto out;
		}
	} else {
		row->state = GCMSG_OUTBOX_UNKNOWN;
		if ((rc = save(u, row)) < 0 || (rc = audit(u, row, "attempt", "readback-failed", &f)) < 0) {
			tx_rollback(u);
			goto out;
		}
		/* nothing could be read (legacy chat: no read-back in the API): waiting would not change that */
		if (rb.requests == 0 || u->readbacks >= u->retry.p.max_attempts ||
		    (w = gcmsg__retry_backoff(&u->retry)) < 0) {
			if ((rc = give_up(u, row, "unknown", GCMSG_EREMOTE)) == GCMSG_EREMOTE)
				notify(u, row, "readback-failed", &f, 0);
			goto out;
		}
	}
	row->next_attempt_ms = gcmsg__wall_ms() + w;
	if ((rc = save(u, row)) < 0) {
		tx_rollback(u);
		goto out;
	}
	if ((rc = tx_commit(u)) < 0)
		goto out;
	notify(u, row, rb.verdict == GCMSG__RB_ABSENT ? "readback-absent" : "readback-failed", &f, w);
	gcmsg__log(u->c, "outbox %s: read-back %s (%s); next step in %lld ms", u->key,
	           gcmsg__rb_verdict_name(rb.verdict), rb.why, w);
	gcmsg__sleep_ms(w);
	*done = 0;
out:
	gcmsg__rb_result_dispose(&rb);
	gcmsg__outbox_row_dispose(&now_row);
	return rc;
}

/* The server's refusal of the send, as gcmsg_send reports it without a store. */
static int refused(run *u, const char *path, const gcmsg__http_resp *r)
{
	int rc = gcmsg__api_error(u->c, "POST", path, r);
	gcmsg__err *e = &u->c->err;
	size_t i;

	if (r->status == 403 && e->nparams > 0) {
		gcmsg_buf b = GCMSG_BUF_INIT(GCMSG__HEADER_CAP);
		for (i = 0; i < e->nparams; i++)
			gcmsg__buf_printf(&b, "%s%s", i ? ", " : "", e->values[i]);
		gcmsg__err_set_fix(e, "grant the caller's role the permissions the server named: %s", gcmsg__buf_cstr(&b));
		gcmsg__buf_dispose(&b);
	} else if (r->status == 400 && !e->fix) {
		gcmsg__err_set_fix(e, "nothing was delivered; check the text against the channel's limits (SMS 765, "
		                      "other messaging 2000 characters)");
	}
	return rc;
}

/* Wait after a 429: GCMSG__RETRY_GO with *w, or why not. */
static gcmsg__retry_stop throttle_wait(run *u, long retry_after_s, long long *w)
{
	const gcmsg_retry_policy *p = &u->retry.p;

	*w = retry_after_s < 0 ? p->retry_after_default_ms
	     : retry_after_s > 100000000L ? 100000000000LL : (long long)retry_after_s * 1000;
	if (*w > p->retry_after_cap_ms)
		return GCMSG__RETRY_AFTER_CAP;
	if (u->tries >= p->max_attempts)
		return GCMSG__RETRY_ATTEMPTS;
	if (gcmsg__retry_spend(&u->retry, *w) < 0)
		return GCMSG__RETRY_BUDGET;
	return GCMSG__RETRY_GO;
}

/* PENDING: claim, send once, record what came of it. Entered inside a transaction with row loaded. */
static int send_step(run *u, gcmsg__outbox_row *row, int *done)
{
	gcmsg__http_resp r;
	gcmsg__outbox_row now_row;
	gcmsg__outcome o;
	audit_fields f;
	long long claim_ms, t0, w = 0, now;
	char *code = NULL, *path = NULL, *body = NULL;
	int rc, token_failed = 0, left, fatal = 0, first_attempt_set = 0;

	*done = 1;
	if (u->tries >= u->retry.p.max_attempts) {
		release(row);
		row->state = GCMSG_OUTBOX_PENDING;
		return give_up(u, row, "pending", u->throttled_last ? GCMSG_ERATELIMIT : GCMSG_EREMOTE);
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
	if (row->first_attempt_ms <= 0) {
		row->first_attempt_ms = now;
		first_attempt_set = 1;
	}
	row->next_attempt_ms = 0;
	if (!path || !body || gcmsg__outbox_claim(row, now) < 0) {
		tx_rollback(u);
		free(path);
		gcmsg__free_secret(body);
		return gcmsg__err_set(&u->c->err, GCMSG_ERROR, "out of memory");
	}
	claim_ms = row->claim_ms;
	if ((rc = save(u, row)) < 0) {
		tx_rollback(u);
		free(path);
		gcmsg__free_secret(body);
		return rc;
	}
	if ((rc = tx_commit(u)) < 0) {
		free(path);
		gcmsg__free_secret(body);
		return rc;
	}

	/* write-ahead done: from here a crash leaves SENDING with a dead claim, read back before any resend */
	gcmsg__http_resp_init(&r);
	gcmsg__outbox_row_init(&now_row);
	memset(&f, 0, sizeof(f));
	u->tries++;
	t0 = mono_ms();
	rc = gcmsg__api_once(u->c, "POST", path, body, &r, &token_failed);
	f.latency_ms = mono_ms() - t0;
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
	f.status = r.status;
	f.corr = r.correlation_id;
	code = r.status >= 300 ? answer_code(&r) : NULL;
	f.code = code ? code : (left && r.status == 0) ? "network" : NULL;

	if ((rc = tx_begin(u)) < 0)
		goto out;
	if ((rc = load(u, &now_row)) < 0) {
		tx_rollback(u);
		goto out;
	}
	if (!ours(&now_row, GCMSG_OUTBOX_SENDING, claim_ms)) {
		tx_rollback(u);
		rc = gcmsg__err_set(&u->c->err, GCMSG_ERROR,
		                    "outbox entry %s was taken over by another process while its request was out", u->key);
		goto out;
	}
	row = &now_row;
	release(row);
	row->http_status = r.status;
	if (set_str(&row->error_code, f.code) < 0 || set_str(&row->correlation_id, f.corr && *f.corr ? f.corr : NULL) < 0) {
		tx_rollback(u);
		rc = gcmsg__err_set(&u->c->err, GCMSG_ERROR, "out of memory");
		goto out;
	}
	u->throttled_last = o == GCMSG__OUTCOME_THROTTLED;

	if (!left) {
		/* nothing left: not an attempt (no record); the row is as before the claim */
		gcmsg__retry_stop stop = GCMSG__RETRY_NOT_RETRYABLE;
		row->state = GCMSG_OUTBOX_PENDING;
		row->attempts--;
		if (first_attempt_set)
			row->first_attempt_ms = 0;
		if (!fatal) {
			if (o == GCMSG__OUTCOME_THROTTLED)
				stop = throttle_wait(u, u->c->err.pub.retry_after, &w);
			else if (u->tries < u->retry.p.max_attempts && (w = gcmsg__retry_backoff(&u->retry)) >= 0)
				stop = GCMSG__RETRY_GO;
			else
				stop = GCMSG__RETRY_BUDGET;
		}
		if (fatal) {
			/* keep the login's (or our) error as it is; the row waits for a retry */
			audit_fields g = { 0, NULL, NULL, NULL, NULL, u->last, since_first(row) };
			int code_now = u->c->err.pub.code < 0 ? u->c->err.pub.code : GCMSG_ERROR;

			free(row->last_error);
			row->last_error = gcmsg__strdup(u->last);
			if ((rc = save(u, row)) < 0 || (rc = audit(u, row, "outcome", "pending", &g)) < 0) {
				tx_rollback(u);
				goto out;
			}
			if ((rc = tx_commit(u)) == GCMSG_OK) {
				gcmsg__err_set_fix(&u->c->err, "nothing was sent; kept in the outbox: gcmsg outbox retry %s "
				                               "sends it once this is fixed",
				                   u->key);
				u->c->err.pub.code = code_now;
				rc = code_now;
			}
			goto out;
		}
		if (stop != GCMSG__RETRY_GO) {
			rc = give_up(u, row, "pending", o == GCMSG__OUTCOME_THROTTLED ? GCMSG_ERATELIMIT : GCMSG_EREMOTE);
			goto out;
		}
		row->next_attempt_ms = gcmsg__wall_ms() + w;
		if ((rc = save(u, row)) < 0) {
			tx_rollback(u);
			goto out;
		}
		if ((rc = tx_commit(u)) < 0)
			goto out;
		gcmsg__log(u->c, "outbox %s: %s; nothing was sent; again in %lld ms", u->key, u->last, w);
		gcmsg__sleep_ms(w);
		*done = 0;
		goto out;
	}

	if (o == GCMSG__OUTCOME_AUTH && (u->renewed || u->c->token_passthrough || !gcmsg__api_renewable_401(&r)))
		o = GCMSG__OUTCOME_REJECTED; /* no renewal can cure it: a refusal like any other */
	switch (o) {
	case GCMSG__OUTCOME_OK: {
		char *text = row->match_text, *mid = gcmsg__message_id_of(row->route, r.body.ptr, r.body.len);
		audit_fields out = { r.status, NULL, r.correlation_id, mid, NULL, NULL, since_first(row) };

		row->match_text = NULL;
		out.text = text;
		f.message_id = mid;
		row->state = GCMSG_OUTBOX_SENT;
		wipe(row);
		free(row->last_error);
		row->last_error = NULL;
		free(row->error_code);
		row->error_code = NULL;
		free(row->message_id);
		row->message_id = mid;
		if ((rc = save(u, row)) == 0 && (rc = audit(u, row, "attempt", "ok", &f)) == 0 &&
		    (rc = audit(u, row, "outcome", "sent", &out)) == 0)
			rc = tx_commit(u);
		else
			tx_rollback(u);
		gcmsg__free_secret(text);
		if (rc == GCMSG_OK) {
			notify(u, row, "ok", &f, 0);
			u->res->http_status = r.status;
			if (set_str(&u->res->message_id, mid) < 0 ||
			    set_str(&u->res->correlation_id, r.correlation_id[0] ? r.correlation_id : NULL) < 0)
				rc = gcmsg__err_set(&u->c->err, GCMSG_ERROR, "out of memory");
		}
		goto out;
	}
	case GCMSG__OUTCOME_AUTH:
		/* a 401 delivered nothing: renew the token once and send again at once */
		u->renewed = 1;
		row->state = GCMSG_OUTBOX_PENDING;
		if ((rc = save(u, row)) < 0 || (rc = audit(u, row, "attempt", "auth-renewed", &f)) < 0) {
			tx_rollback(u);
			goto out;
		}
		if ((rc = tx_commit(u)) < 0)
			goto out;
		notify(u, row, "auth-renewed", &f, 0);
		gcmsg__log(u->c, "outbox %s: token refused (401): renewing it once and sending again", u->key);
		gcmsg__auth_invalidate(u->c);
		*done = 0;
		goto out;
	case GCMSG__OUTCOME_REJECTED: {
		char *text = row->match_text;
		int code_now = refused(u, path, &r); /* the server's error, as without a store */
		audit_fields out = f;

		row->match_text = NULL;
		out.text = text;
		out.latency_ms = since_first(row);
		out.detail = u->c->err.pub.explanation;
		row->state = GCMSG_OUTBOX_FAILED;
		wipe(row);
		free(row->last_error);
		row->last_error = gcmsg__strdup(u->c->err.pub.explanation);
		if ((rc = save(u, row)) == 0 && (rc = audit(u, row, "attempt", "rejected", &f)) == 0 &&
		    (rc = audit(u, row, "outcome", "failed", &out)) == 0)
			rc = tx_commit(u);
		else
			tx_rollback(u);
		gcmsg__free_secret(text);
		if (rc == GCMSG_OK) {
			notify(u, row, "rejected", &f, 0);
			rc = code_now;
		}
		goto out;
	}
	case GCMSG__OUTCOME_THROTTLED: {
		gcmsg__retry_stop stop = throttle_wait(u, r.retry_after, &w);

		row->state = GCMSG_OUTBOX_PENDING;
		row->next_attempt_ms = gcmsg__wall_ms() + w;
		if ((rc = save(u, row)) < 0 || (rc = audit(u, row, "attempt", "throttled", &f)) < 0) {
			tx_rollback(u);
			goto out;
		}
		if (stop != GCMSG__RETRY_GO) {
			gcmsg__api_error(u->c, "POST", path, &r); /* the 429 as the server gave it */
			rc = give_up(u, row, "pending", GCMSG_ERATELIMIT);
			if (rc == GCMSG_ERATELIMIT)
				notify(u, row, "throttled", &f, 0);
			if (rc == GCMSG_ERATELIMIT && stop == GCMSG__RETRY_AFTER_CAP)
				gcmsg__err_set_fix(&u->c->err, "the server asks to wait %lld s, beyond the %ld s cap; nothing "
				                               "was delivered; kept in the outbox: gcmsg outbox retry %s sends "
				                               "it later",
				                   w / 1000, u->retry.p.retry_after_cap_ms / 1000, u->key);
			goto out;
		}
		if ((rc = tx_commit(u)) < 0)
			goto out;
		notify(u, row, "throttled", &f, w);
		gcmsg__log(u->c, "outbox %s: %s (throttled); again in %lld ms", u->key, u->last, w);
		gcmsg__sleep_ms(w);
		*done = 0;
		goto out;
	}
	default: { /* AMBIGUOUS: it may have been delivered; read back before anything else */
		int can = u->readbacks < u->retry.p.max_attempts &&
		          gcmsg__retry_spend(&u->retry, u->retry.p.readback_settle_ms) == 0;

		row->state = GCMSG_OUTBOX_UNKNOWN;
		if (can) {
			long long b = gcmsg__retry_backoff(&u->retry);
			w = u->retry.p.readback_settle_ms + (b > 0 ? b : 0);
			row->next_attempt_ms = gcmsg__wall_ms() + w;
		}
		if ((rc = save(u, row)) < 0 || (rc = audit(u, row, "attempt", "ambiguous", &f)) < 0) {
			tx_rollback(u);
			goto out;
		}
		if (!can) {
			rc = give_up(u, row, "unknown", GCMSG_EREMOTE);
			if (rc == GCMSG_EREMOTE)
				notify(u, row, "ambiguous", &f, 0);
			goto out;
		}
		if ((rc = tx_commit(u)) < 0)
			goto out;
		notify(u, row, "ambiguous", &f, w);
		gcmsg__log(u->c, "outbox %s: %s (ambiguous); reading the conversation back in %lld ms", u->key, u->last, w);
		gcmsg__sleep_ms(w);
		*done = 0;
		goto out;
	}
	}
out:
	free(code);
	free(path);
	gcmsg__free_secret(body);
	gcmsg__http_resp_dispose(&r);
	gcmsg__outbox_row_dispose(&now_row);
	return rc;
}

int gcmsg__deliver_run(gcmsg_client *c, gcmsg_store *s, const char *key, const gcmsg__deliver_opts *o,
                       gcmsg__delivery_result *res)
{
	run u;
	int rc;

	memset(&u, 0, sizeof(u));
	u.c = c;
	u.s = s;
	u.key = key;
	u.o = o;
	u.res = res;
	gcmsg__retry_init(&u.retry, &c->retry);
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
				rc = set_str(&u.res->message_id, row.message_id) < 0
				     ? gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory") : GCMSG_OK;
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
			if (gcmsg__outbox_claim_alive(&row, gcmsg__wall_ms())) {
				tx_rollback(&u);
				rc = in_flight(&u, &row);
				break;
			}
			/* the claimer died with a request possibly out */
			rc = readback_step(&u, &row, &done);
			break;
		case GCMSG_OUTBOX_UNKNOWN:
			if (gcmsg__outbox_claim_alive(&row, gcmsg__wall_ms())) {
				/* another process is reading it back */
				tx_rollback(&u);
				rc = in_flight(&u, &row);
				break;
			}
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
	memset(&u, 0, sizeof(u));
	u.c = c;
	u.s = s;
	u.key = d->key;
	u.o = &o;
	u.res = res;
	gcmsg__sha256_hex(d->body, strlen(d->body), body_sha);
	if (d->match_text)
		gcmsg__sha256_hex(d->match_text, strlen(d->match_text), text_sha);
	gcmsg__outbox_row_init(&row);
	if ((rc = tx_begin(&u)) < 0)
		return rc;
	rc = s->ops->outbox_get(s->backend, d->key, &row, &s->err);
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
			rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
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
		if (gcmsg__outbox_claim_alive(&row, now)) {
			tx_rollback(&u);
			rc = in_flight(&u, &row);
			gcmsg__outbox_row_dispose(&row);
			return rc;
		}
		break;
	case GCMSG_OUTBOX_FAILED:
	case GCMSG_OUTBOX_DROPPED:
		/*
		 * An explicit new send re-arms the key. FAILED: the server refused it,
		 * nothing was delivered: PENDING, a fresh series of attempts. DROPPED:
		 * a person stopped it, possibly from UNKNOWN (we cannot tell any more):
		 * when it was ever attempted it is re-armed UNKNOWN, so that it is read
		 * back before anything is sent; else PENDING.
		 */
		row.state = row.state == GCMSG_OUTBOX_DROPPED && row.attempts > 0 ? GCMSG_OUTBOX_UNKNOWN
		                                                                  : GCMSG_OUTBOX_PENDING;
		if (row.state == GCMSG_OUTBOX_PENDING)
			row.first_attempt_ms = 0;
		row.next_attempt_ms = 0;
		row.http_status = 0;
		release(&row);
		if (set_str(&row.message_id, NULL) || set_str(&row.error_code, NULL) || set_str(&row.last_error, NULL) ||
		    set_str(&row.correlation_id, NULL)) {
			tx_rollback(&u);
			gcmsg__outbox_row_dispose(&row);
			return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		}
		break;
	default:
		break;
	}
	/* the request (wiped when the row went terminal) comes back from this call: the same body, by its hash */
	if ((!row.body && set_str(&row.body, d->body) < 0) ||
	    (!row.match_text && d->match_text && set_str(&row.match_text, d->match_text) < 0) ||
	    (!row.path && set_str(&row.path, d->path) < 0)) {
		tx_rollback(&u);
		gcmsg__outbox_row_dispose(&row);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
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
