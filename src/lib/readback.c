/*
 * readback.c - after an ambiguous answer to a send, find out whether the
 * message reached the conversation, so that it is resent only when it
 * provably did not.
 *
 *  1. GET /api/v2/conversations/messages/{conversationId} (MessageConversation):
 *     every participant's messages[] (MessageDetails) gives a messageId and a
 *     messageTime. The ids are collected once each (participants may list the
 *     same message: gcsim lists every message under the customer, and the
 *     agent's own under the agent). A participant without messages[] makes the
 *     listing incomplete (UNKNOWN), and so does a listing without any message
 *     of a conversation we know holds some.
 *     Times: the messages' times are the server's clock, our first attempt's
 *     start is ours. The answer's Date header gives the skew: server minus
 *     ours is at least Date - (our clock when the answer was in), since Date
 *     is the server's time, rounded down to the second, when it answered. So
 *     our first attempt started, on the server's clock, at or after
 *       from = since + (Date - received) - GCMSG__RB_MARGIN_MS
 *     (the margin: the server's clocks among themselves). Ids timed before
 *     `from` were there before we tried and are left out; a message without
 *     a readable time is kept. No usable Date header: UNKNOWN (a five-minute
 *     skew once made an old message of ours look older than the attempt, and
 *     an absent verdict resent it).
 *  2. POST /api/v2/conversations/messages/{conversationId}/messages/bulk with
 *     those ids, at most 1,000 per request (the API's limit), more requests
 *     when needed. Each answer (TextMessageListing) is judged:
 *       FOUND   an entity we asked for that is outbound (or has no direction),
 *               timed at or after `from`, created by our user when both are
 *               known (createdBy.id, agent route: another agent's identical
 *               text is not ours), whose textBody (or normalizedMessage.text)
 *               equals our text byte for byte (a template's: its rendered
 *               text), or whose media[] (or normalizedMessage.content[].
 *               attachment) holds our media id, and that no other outbox key
 *               has recorded as its message (two identical texts sent under
 *               two keys each claim their own);
 *       ABSENT  nothing matches and every id asked for came back;
 *       UNKNOWN a malformed answer, an id that did not come back (we cannot
 *               tell what it was), a matching message without a readable
 *               time, an ownership the store could not tell.
 *     FOUND anywhere wins; else any UNKNOWN makes the whole UNKNOWN.
 *  The agentless route sends with useExistingActiveConversation: into an
 *  ended conversation the message opens a new one, which this read cannot
 *  see. So on that route ABSENT needs the conversation's customer
 *  participant to be connected now (then it was at the attempt: an ended
 *  conversation does not come back); else UNKNOWN (FOUND stays FOUND).
 *  A failed request (any non-2xx, no answer) is UNKNOWN: the caller waits and
 *  reads again. A legacy web chat is always UNKNOWN: the chat message list
 *  left the API with web chat v2 (Genesys notes §c), so there is nothing to
 *  read back; its ambiguous sends stay in the outbox for a person to decide.
 *  Whether an ABSENT may lead to a resend (the in-flight horizon) is the
 *  caller's decision (deliver.c).
 *
 *  Strictness is deliberate: a wrong ABSENT sends a duplicate, a wrong FOUND
 *  loses a message; UNKNOWN only delays.
 */
#include <stdlib.h>
#include <string.h>

#include "readback.h"

const char *gcmsg__rb_verdict_name(gcmsg__rb_verdict v)
{
	switch (v) {
	case GCMSG__RB_FOUND: return "found";
	case GCMSG__RB_ABSENT: return "absent";
	default: return "unknown";
	}
}

void gcmsg__rb_result_init(gcmsg__rb_result *r)
{
	memset(r, 0, sizeof(*r));
}

void gcmsg__rb_result_dispose(gcmsg__rb_result *r)
{
	free(r->message_id);
	r->message_id = NULL;
}

/* ---- time ---- */

static int digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

long long gcmsg__iso8601_ms(const char *s)
{
	int y, mo, d, h, mi, sec, ms = 0, oh = 0, om = 0, sign = 0, i;
	const char *p;

	if (!s || strlen(s) < 20)
		return -1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) || s[13] != ':' ||
	    digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.' || *p == ',') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (i = 0; *p >= '0' && *p <= '9'; p++, i++)
			if (i < 3)
				ms = ms * 10 + (*p - '0');
		for (; i < 3; i++)
			ms *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (digits(p, 2, &oh))
			return -1;
		p += 2;
		if (*p == ':')
			p++;
		if (digits(p, 2, &om))
			return -1;
		p += 2;
		if (oh > 23 || om > 59)
			return -1;
	} else {
		return -1; /* no zone: the time is not known */
	}
	if (*p)
		return -1;
	return ((gcmsg__days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + sec) -
	        sign * (oh * 3600LL + om * 60LL)) * 1000LL + ms;
}

/* Timed before from_ms (server clock): there before we tried, not ours. An unreadable time is not "before". */
static int too_old(const char *time, long long from_ms)
{
	long long t;

	if (from_ms <= 0 || !time)
		return 0;
	t = gcmsg__iso8601_ms(time);
	return t >= 0 && t < from_ms;
}

/* ---- step 1: the candidate ids ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define WHY(...) (why && whylen ? (void)snprintf(why, whylen, __VA_ARGS__) : (void)0)

void gcmsg__rb_listing_dispose(gcmsg__rb_listing *l)
{
	gcmsg__free_strv(l->ids, l->n);
	memset(l, 0, sizeof(*l));
	l->connected = -1;
}

/* The customer participant's state: purpose customer, else the first external one. */
static int customer_connected(json_t *parts)
{
	json_t *part, *cust = NULL, *ext = NULL;
	const char *state;
	size_t i;

	json_array_foreach(parts, i, part) {
		const char *purpose = gcmsg__json_str(part, "purpose");
		if (purpose && strcmp(purpose, "customer") == 0 && !cust)
			cust = part;
		else if (purpose && strcmp(purpose, "external") == 0 && !ext)
			ext = part;
	}
	if (!cust)
		cust = ext;
	state = gcmsg__json_str(cust, "state");
	return !state ? -1 : strcmp(state, "connected") == 0;
}

int gcmsg__rb_ids(const char *json, size_t len, long long from_ms, gcmsg__rb_listing *out, char *why,
                  size_t whylen)
{
	json_t *root, *parts, *part;
	char **ids = NULL;
	size_t n = 0, cap = 0, listed = 0, i, j, k;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->connected = -1;
	root = json_loadb(json, len, JSON_ALLOW_NUL, NULL);
	if (!json_is_object(root)) {
		WHY("the conversation is not a JSON object");
		json_decref(root);
		return -1;
	}
	parts = json_object_get(root, "participants");
	if (!json_is_array(parts)) {
		WHY("the conversation has no participants[]");
		rc = -1;
		goto done;
	}
	json_array_foreach(parts, i, part) {
		json_t *msgs, *m;
		if (!json_is_object(part)) {
			WHY("participant %zu is not an object", i);
			rc = -1;
			goto done;
		}
		msgs = json_object_get(part, "messages");
		if (!msgs) {
			/* it may list messages we would not see: the listing is not complete */
			WHY("participant %zu has no messages[]: the listing may be incomplete", i);
			rc = -1;
			goto done;
		}
		if (!json_is_array(msgs)) {
			WHY("participant %zu: messages is not an array", i);
			rc = -1;
			goto done;
		}
		json_array_foreach(msgs, j, m) {
			const char *id = gcmsg__json_str(m, "messageId");
			if (!id || !*id) {
				WHY("participant %zu: message %zu has no messageId", i, j);
				rc = -1;
				goto done;
			}
			listed++;
			if (too_old(gcmsg__json_str(m, "messageTime"), from_ms))
				continue;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				char **t = realloc(ids, ncap * sizeof(*ids));
				if (!t) {
					rc = -2;
					goto done;
				}
				ids = t;
				cap = ncap;
			}
			if (!(ids[n] = gcmsg__strdup(id))) {
				rc = -2;
				goto done;
			}
			n++;
		}
	}
	if (n > 1) {
		qsort(ids, n, sizeof(*ids), cmp_str);
		for (k = 1, j = 1; j < n; j++) {
			if (strcmp(ids[j], ids[k - 1]) == 0)
				free(ids[j]);
			else
				ids[k++] = ids[j];
		}
		n = k;
	}
	out->connected = customer_connected(parts);
done:
	json_decref(root);
	if (rc < 0) {
		gcmsg__free_strv(ids, n);
		out->connected = -1;
		return rc;
	}
	out->ids = ids;
	out->n = n;
	out->listed = listed;
	return 0;
}

/* ---- step 2: judge a listing ---- */

static int same_text(const json_t *v, const char *text)
{
	size_t n = strlen(text);

	return json_is_string(v) && json_string_length(v) == n && memcmp(json_string_value(v), text, n) == 0;
}

static int carries(const json_t *ent, const gcmsg__rb_query *q)
{
	const json_t *norm = json_object_get(ent, "normalizedMessage");
	size_t i;
	json_t *m;

	if (q->media_id) {
		json_array_foreach(json_object_get(ent, "media"), i, m) {
			const char *id = gcmsg__json_str(m, "id");
			if (id && strcmp(id, q->media_id) == 0)
				return 1;
		}
		json_array_foreach(json_object_get(norm, "content"), i, m) {
			const char *id = gcmsg__json_str(json_object_get(m, "attachment"), "id");
			if (id && strcmp(id, q->media_id) == 0)
				return 1;
		}
		return 0;
	}
	if (!q->text)
		return 0;
	return same_text(json_object_get(ent, "textBody"), q->text) ||
	       same_text(json_object_get(norm, "text"), q->text);
}

static int inbound(const json_t *ent)
{
	const char *d = gcmsg__json_str(ent, "direction");
	const char *nd = gcmsg__json_str(json_object_get(ent, "normalizedMessage"), "direction");

	return (d && strcmp(d, "inbound") == 0) || (nd && strcmp(nd, "Inbound") == 0);
}

/* Created by someone else than our user (both known)? */
static int someone_else(const json_t *ent, const char *user_id)
{
	const char *by = gcmsg__json_str(json_object_get(ent, "createdBy"), "id");

	return user_id && *user_id && by && strcmp(by, user_id) != 0;
}

int gcmsg__rb_match(const char *json, size_t len, const char *const *ids, size_t n, const gcmsg__rb_query *q,
                    long long from_ms, gcmsg__rb_verdict *verdict, char **found_id, char *why, size_t whylen)
{
	json_t *root, *ents, *ent;
	unsigned char *seen = NULL;
	size_t i, j, missing = 0;
	int uncertain = 0, rc = 0;

	*verdict = GCMSG__RB_UNKNOWN;
	*found_id = NULL;
	root = json_loadb(json, len, JSON_ALLOW_NUL, NULL);
	ents = json_object_get(root, "entities");
	if (!json_is_object(root) || !json_is_array(ents)) {
		WHY("the messages/bulk answer has no entities[]");
		json_decref(root);
		return 0;
	}
	if (n && !(seen = calloc(n, 1))) {
		json_decref(root);
		return -2;
	}
	json_array_foreach(ents, i, ent) {
		const char *id = gcmsg__json_str(ent, "id");
		int asked = 0;

		if (!json_is_object(ent) || !id || !*id) {
			WHY("messages/bulk: entity %zu has no id", i);
			uncertain = 1;
			continue;
		}
		for (j = 0; j < n; j++)
			if (strcmp(ids[j], id) == 0) {
				seen[j] = 1;
				asked = 1;
			}
		if (!asked || inbound(ent) || too_old(gcmsg__json_str(ent, "timestamp"), from_ms) || !carries(ent, q) ||
		    someone_else(ent, q->user_id))
			continue;
		if (from_ms > 0 && gcmsg__iso8601_ms(gcmsg__json_str(ent, "timestamp")) < 0) {
			/* ours, or someone's from before we tried: cannot tell */
			WHY("message %s matches, but has no readable timestamp", id);
			uncertain = 1;
			continue;
		}
		if (q->owned) {
			int o = q->owned(id, q->owned_payload);
			if (o > 0)
				continue; /* another key's message with the same content */
			if (o < 0) {
				WHY("message %s matches, but the outbox could not tell whether another key owns it", id);
				uncertain = 1;
				continue;
			}
		}
		if (!(*found_id = gcmsg__strdup(id))) {
			rc = -2;
			goto done;
		}
		*verdict = GCMSG__RB_FOUND;
		WHY("message %s is ours", id);
		goto done;
	}
	for (j = 0; j < n; j++)
		missing += !seen[j];
	if (uncertain)
		goto done;
	if (missing) {
		WHY("messages/bulk did not return %zu of the %zu messages asked for", missing, n);
		goto done;
	}
	*verdict = GCMSG__RB_ABSENT;
	WHY("none of the %zu messages is ours", n);
done:
	free(seen);
	json_decref(root);
	return rc;
}

/* ---- the reads ---- */

static void note(gcmsg__rb_result *res, const gcmsg__http_resp *r)
{
	res->requests++;
	res->http_status = r->status;
	memcpy(res->correlation_id, r->correlation_id, sizeof(res->correlation_id));
}

static void failed_read(gcmsg_client *c, gcmsg__rb_result *res, const char *what)
{
	const char *e = c->err.pub.explanation;

	snprintf(res->why, sizeof(res->why), "%s failed: %s", what, e ? e : gcmsg_strerror(c->err.pub.code));
}

int gcmsg__readback(gcmsg_client *c, const gcmsg__rb_query *q, gcmsg__rb_result *res)
{
	gcmsg__http_resp r;
	gcmsg__rb_listing l;
	char *cid = NULL, *path = NULL, *bulk = NULL;
	size_t off;
	long long from_ms = 0;
	int rc = GCMSG_OK, uncertain = 0, no_absent = 0;

	gcmsg__rb_result_dispose(res);
	gcmsg__rb_result_init(res);
	memset(&l, 0, sizeof(l));
	if (q->route && strcmp(q->route, "legacy-chat") == 0) {
		snprintf(res->why, sizeof(res->why), "a legacy web chat cannot be read back (the API has no chat "
		                                     "message list any more)");
		return GCMSG_OK;
	}
	if (!q->conversation_id || (!q->text && !q->media_id)) {
		snprintf(res->why, sizeof(res->why), "nothing to look for");
		return GCMSG_OK;
	}
	gcmsg__http_resp_init(&r);
	cid = gcmsg__path_escape(q->conversation_id);
	path = cid ? gcmsg__asprintf("/api/v2/conversations/messages/%s", cid) : NULL;
	bulk = cid ? gcmsg__asprintf("/api/v2/conversations/messages/%s/messages/bulk", cid) : NULL;
	if (!path || !bulk)
		goto oom;
	if (gcmsg__api(c, "GET", path, NULL, GCMSG__API_NO_RETRY, NULL, &r) < 0) {
		note(res, &r);
		failed_read(c, res, "reading the conversation back");
		goto done;
	}
	note(res, &r);
	if (r.date_ms >= 0) {
		res->skew_known = 1;
		res->skew_ms = r.date_ms - r.recv_wall_ms;
	}
	if (q->since_ms > 0) {
		if (!res->skew_known) {
			snprintf(res->why, sizeof(res->why), "the server's answer has no usable Date header: the messages' "
			                                     "times cannot be set against our first attempt");
			goto done;
		}
		from_ms = q->since_ms + res->skew_ms - GCMSG__RB_MARGIN_MS;
		if (from_ms <= 0)
			from_ms = 1;
	}
	switch (gcmsg__rb_ids(r.body.ptr ? r.body.ptr : "", r.body.len, from_ms, &l, res->why, sizeof(res->why))) {
	case 0: break;
	case -1: goto done;
	default: goto oom;
	}
	if (l.listed == 0 && q->expect_messages) {
		snprintf(res->why, sizeof(res->why), "the conversation lists no message at all, though messages were "
		                                     "sent into it: the listing is incomplete");
		goto done;
	}
	if (q->route && strcmp(q->route, "agentless") == 0 && l.connected != 1)
		no_absent = 1; /* the send may have opened a new conversation: only FOUND can be told */
	for (off = 0; off < l.n; off += GCMSG__RB_BULK_MAX) {
		size_t cnt = l.n - off < GCMSG__RB_BULK_MAX ? l.n - off : GCMSG__RB_BULK_MAX, i;
		json_t *arr = json_array();
		gcmsg__rb_verdict v;
		char *found = NULL, why[sizeof(res->why)] = "";
		int bad = 0;

		for (i = 0; arr && i < cnt; i++)
			bad |= json_array_append_new(arr, json_string(l.ids[off + i])) < 0;
		if (!arr || bad) {
			json_decref(arr);
			goto oom;
		}
		rc = gcmsg__api(c, "POST", bulk, arr, GCMSG__API_READ | GCMSG__API_NO_RETRY, NULL, &r);
		json_decref(arr);
		note(res, &r);
		if (rc < 0) {
			rc = GCMSG_OK;
			failed_read(c, res, "reading the messages back (messages/bulk)");
			goto done;
		}
		if (gcmsg__rb_match(r.body.ptr ? r.body.ptr : "", r.body.len, (const char *const *)l.ids + off, cnt, q,
		                    from_ms, &v, &found, why, sizeof(why)) < 0)
			goto oom;
		if (v == GCMSG__RB_FOUND) {
			res->verdict = GCMSG__RB_FOUND;
			res->message_id = found;
			memcpy(res->why, why, sizeof(why));
			goto done;
		}
		if (v == GCMSG__RB_UNKNOWN && !uncertain) {
			uncertain = 1; /* keep looking: a later batch may still hold it */
			memcpy(res->why, why, sizeof(why));
		}
	}
	if (uncertain)
		goto done;
	if (no_absent) {
		snprintf(res->why, sizeof(res->why), "not in this conversation, but it is no longer connected: an "
		                                     "agentless send into it may have opened a new conversation");
		goto done;
	}
	res->verdict = GCMSG__RB_ABSENT;
	if (l.n == 0)
		snprintf(res->why, sizeof(res->why), "the conversation lists no message since the first attempt");
	else
		snprintf(res->why, sizeof(res->why), "none of the %zu messages since the first attempt is ours", l.n);
	goto done;
oom:
	rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	res->verdict = GCMSG__RB_UNKNOWN;
done:
	gcmsg__rb_listing_dispose(&l);
	gcmsg__http_resp_dispose(&r);
	free(cid);
	free(path);
	free(bulk);
	return rc;
}
