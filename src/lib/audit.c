/*
 * audit.c - the audit log: appending a record together with its webhook
 * events (one transaction), the record's JSON (the export's lines and the
 * events' "data"), listing and streaming export.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "store_rows.h"
#include "gcmsg/webhook.h"

static const char *const attempt_outcomes[] = { "ok", "throttled", "ambiguous", "rejected", "auth-renewed",
	                                        "readback-found", "readback-absent", "readback-failed", NULL };
static const char *const outcome_outcomes[] = { "sent", "failed", "refused", "unknown",
	                                        "duplicate", "pending", "dropped", NULL };

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* ---- JSON ---- */

/* RFC 3339 UTC with milliseconds: "2024-05-01T12:34:56.789Z" (out: 32 bytes). */
static void rfc3339_ms(long long ms, char out[32])
{
	long long sec = ms / 1000, rem = ms % 1000;
	struct tm tm;
	time_t t;

	if (rem < 0) {
		rem += 1000;
		sec--;
	}
	t = (time_t)sec;
	if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out + strlen(out), 32 - strlen(out), ".%03lldZ", rem);
}

/* Length of a valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)) /* overlong, surrogates */
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/* A JSON string of s, invalid UTF-8 replaced by U+FFFD; null for NULL; NULL on OOM. */
static json_t *jstr(const char *s)
{
	const unsigned char *p;
	size_t n, i = 0, o = 0;
	char *copy;
	json_t *j;

	if (!s)
		return json_null();
	if ((j = json_string(s)))
		return j;
	n = strlen(s);
	if (n > ((size_t)-1) / 3 - 1 || !(copy = malloc(n * 3 + 1)))
		return NULL;
	p = (const unsigned char *)s;
	while (i < n) {
		size_t k = utf8_seq(p + i, n - i);
		if (k) {
			memcpy(copy + o, p + i, k);
			o += k;
			i += k;
		} else {
			memcpy(copy + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn(copy, o);
	free(copy);
	return j;
}

static int set(json_t *o, const char *key, json_t *v)
{
	return v ? json_object_set_new(o, key, v) : -1;
}

/* The record as a JSON object, keys in the documented order (gcmsg/audit.h). */
static json_t *rec_json(const gcmsg__audit_rec *r)
{
	char when[32];
	json_t *o = json_object();
	int bad = 0;

	if (!o)
		return NULL;
	rfc3339_ms(r->time_ms, when);
	bad |= set(o, "id", json_integer(r->id));
	bad |= set(o, "time", json_string(when));
	bad |= set(o, "event", jstr(r->event));
	bad |= set(o, "outcome", jstr(r->outcome));
	bad |= set(o, "key", jstr(r->key));
	bad |= set(o, "who", jstr(r->who));
	bad |= set(o, "route", jstr(r->route));
	bad |= set(o, "conversationId", jstr(r->conversation_id));
	bad |= set(o, "communicationId", jstr(r->communication_id));
	bad |= set(o, "responseId", jstr(r->response_id));
	bad |= set(o, "responseVersion", r->response_version >= 0 ? json_integer(r->response_version) : json_null());
	bad |= set(o, "libraryId", jstr(r->library_id));
	bad |= set(o, "channel", jstr(r->channel));
	bad |= set(o, "source", jstr(r->source));
	bad |= set(o, "attempt", json_integer(r->attempt));
	bad |= set(o, "httpStatus", r->http_status > 0 ? json_integer(r->http_status) : json_null());
	bad |= set(o, "errorCode", jstr(r->error_code));
	bad |= set(o, "correlationId", jstr(r->correlation_id));
	bad |= set(o, "latencyMs", json_integer(r->latency_ms));
	bad |= set(o, "messageId", jstr(r->message_id));
	bad |= set(o, "textSha256", jstr(r->text_sha256));
	bad |= set(o, "text", jstr(r->text));
	bad |= set(o, "detail", jstr(r->detail));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static char *rec_line(const gcmsg__audit_rec *r)
{
	json_t *o = rec_json(r);
	char *line;

	if (!o)
		return NULL;
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return line;
}

/* ---- events ---- */

static int random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = getrandom(buf + got, n - got, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)k;
	}
	return 0;
}

/* A random (version 4) UUID, lower-case, 37 bytes with the NUL. */
static int uuid_v4(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u[16];
	size_t i, o = 0;

	if (random_bytes(u, sizeof(u)) < 0)
		return -1;
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u[i] >> 4];
		out[o++] = hex[u[i] & 15];
	}
	out[o] = '\0';
	return 0;
}

/* The event as posted: {"id", "type", "created", "data"}. */
static char *event_body(const gcmsg__audit_rec *r, const char *event_id)
{
	char created[32];
	char *type = gcmsg__asprintf("%s.%s", r->event, r->outcome), *body = NULL;
	json_t *o = json_object(), *data = rec_json(r);

	rfc3339_ms(r->time_ms, created);
	if (type && o && data && set(o, "id", json_string(event_id)) == 0 && set(o, "type", jstr(type)) == 0 &&
	    set(o, "created", json_string(created)) == 0 && json_object_set(o, "data", data) == 0)
		body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(data);
	json_decref(o);
	free(type);
	return body;
}

static int hook_wants(const gcmsg__hook *h, const char *event)
{
	unsigned bits = h->events ? h->events : GCMSG_WEBHOOK_EVENT_ATTEMPT | GCMSG_WEBHOOK_EVENT_OUTCOME;

	if (strcmp(event, "attempt") == 0)
		return (bits & GCMSG_WEBHOOK_EVENT_ATTEMPT) != 0;
	return (bits & GCMSG_WEBHOOK_EVENT_OUTCOME) != 0;
}

static int enqueue_events(gcmsg_store *s, const gcmsg__audit_rec *r)
{
	gcmsg__webhook_row w;
	char event_id[37];
	char *body = NULL;
	size_t i;
	int rc = GCMSG_OK;

	for (i = 0; i < s->nhooks && rc == GCMSG_OK; i++) {
		if (!hook_wants(&s->hooks[i], r->event))
			continue;
		if (!body) { /* one event, the same id and body for every webhook */
			if (uuid_v4(event_id) < 0)
				return gcmsg__err_set(&s->err, GCMSG_ERROR, "cannot read random bytes: %s",
				                      strerror(errno));
			if (!(body = event_body(r, event_id)))
				return gcmsg__err_set(&s->err, GCMSG_ERROR, "out of memory");
		}
		gcmsg__webhook_row_init(&w);
		w.hook = s->hooks[i].name;
		w.event_id = event_id;
		w.body = body;
		w.created_ms = r->time_ms;
		w.next_attempt_ms = r->time_ms;
		rc = s->ops->webhook_insert(s->backend, &w, &s->err);
	}
	gcmsg__free_secret(body);
	return rc;
}

int gcmsg__audit_record(gcmsg_store *s, const gcmsg__audit_rec *rec, int in_tx)
{
	gcmsg__audit_rec r;
	int rc;

	if (!rec)
		return GCMSG_EUSAGE;
	if ((rc = gcmsg__store_ready(s)) < 0)
		return rc;
	if (!rec->event || !rec->outcome ||
	    !(strcmp(rec->event, "attempt") == 0 ? in_list(attempt_outcomes, rec->outcome)
	      : strcmp(rec->event, "outcome") == 0 ? in_list(outcome_outcomes, rec->outcome) : 0))
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "invalid audit record (event %s, outcome %s)",
		                      rec->event ? rec->event : "none", rec->outcome ? rec->outcome : "none");
	r = *rec; /* borrowed strings */
	if (!s->audit_text)
		r.text = NULL; /* texts are PII: kept only when asked */
	if (r.time_ms <= 0)
		r.time_ms = gcmsg__wall_ms();
	if (r.latency_ms < 0)
		r.latency_ms = 0; /* the wall clock stepped back */
	if (r.attempt < 0)
		r.attempt = 0;
	if (r.http_status < 0)
		r.http_status = 0;
	if (r.response_version < -1)
		r.response_version = -1;

	if (!in_tx && (rc = s->ops->begin(s->backend, &s->err)) < 0)
		return rc;
	rc = s->ops->audit_append(s->backend, &r, &r.id, &s->err);
	if (rc == GCMSG_OK)
		rc = enqueue_events(s, &r);
	if (in_tx)
		return rc;
	if (rc < 0) {
		s->ops->rollback(s->backend);
		return rc;
	}
	return s->ops->commit(s->backend, &s->err);
}

/* ---- the public records ---- */

/* A record is a row of the list, seen through its only member. */
struct gcmsg_audit_record {
	gcmsg__audit_rec rec;
};

struct gcmsg_audit_list {
	gcmsg__row_list rows; /* of gcmsg__audit_kind */
};

int gcmsg_audit_record_json(char **out, const gcmsg_audit_record *r)
{
	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (!r)
		return GCMSG_EUSAGE;
	*out = rec_line(&r->rec);
	return *out ? GCMSG_OK : GCMSG_ERROR;
}

#define REC_GETTER(type, name, field, none) \
	type gcmsg_audit_record_##name(const gcmsg_audit_record *r) \
	{ \
		return r ? r->rec.field : none; \
	}

REC_GETTER(long long, id, id, 0)
REC_GETTER(long long, time_ms, time_ms, 0)
REC_GETTER(const char *, event, event, NULL)
REC_GETTER(const char *, outcome, outcome, NULL)
REC_GETTER(const char *, key, key, NULL)
REC_GETTER(const char *, who, who, NULL)
REC_GETTER(const char *, route, route, NULL)
REC_GETTER(const char *, conversation_id, conversation_id, NULL)
REC_GETTER(const char *, communication_id, communication_id, NULL)
REC_GETTER(const char *, response_id, response_id, NULL)
REC_GETTER(long, response_version, response_version, -1)
REC_GETTER(const char *, library_id, library_id, NULL)
REC_GETTER(const char *, channel, channel, NULL)
REC_GETTER(const char *, source, source, NULL)
REC_GETTER(long, http_status, http_status, 0)
REC_GETTER(const char *, error_code, error_code, NULL)
REC_GETTER(const char *, correlation_id, correlation_id, NULL)
REC_GETTER(int, attempt, attempt, 0)
REC_GETTER(long long, latency_ms, latency_ms, 0)
REC_GETTER(const char *, message_id, message_id, NULL)
REC_GETTER(const char *, text_sha256, text_sha256, NULL)
REC_GETTER(const char *, text, text, NULL)
REC_GETTER(const char *, detail, detail, NULL)

void gcmsg_audit_list_free(gcmsg_audit_list *list)
{
	if (!list)
		return;
	gcmsg__row_list_dispose(&list->rows);
	free(list);
}

size_t gcmsg_audit_list_count(const gcmsg_audit_list *list)
{
	return list ? list->rows.count : 0;
}

const gcmsg_audit_record *gcmsg_audit_list_record(const gcmsg_audit_list *list, size_t i)
{
	return list ? gcmsg__row_list_at(&list->rows, i) : NULL;
}

static int filter_query(gcmsg_store *s, const gcmsg_audit_filter *f, gcmsg__audit_query *q)
{
	static const gcmsg_audit_filter defaults = GCMSG_AUDIT_FILTER_INIT;

	if (!f)
		f = &defaults;
	if (f->version != GCMSG_AUDIT_FILTER_VERSION)
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "unknown gcmsg_audit_filter version %u", f->version);
	if (f->event && strcmp(f->event, "attempt") != 0 && strcmp(f->event, "outcome") != 0)
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "unknown audit event '%s' (attempt or outcome)",
		                      f->event);
	memset(q, 0, sizeof(*q));
	q->since_ms = f->since_ms;
	q->until_ms = f->until_ms;
	q->conversation_id = f->conversation_id;
	q->key = f->key;
	q->event = f->event;
	q->limit = f->limit;
	return GCMSG_OK;
}

static int collect(const gcmsg__audit_rec *rec, void *rows)
{
	return gcmsg__row_list_add(rows, rec);
}

int gcmsg_audit_list_get(gcmsg_audit_list **out, gcmsg_store *store, const gcmsg_audit_filter *filter)
{
	gcmsg__audit_query q;
	gcmsg_audit_list *list;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if ((rc = gcmsg__store_ready(store)) < 0)
		return rc;
	if ((rc = filter_query(store, filter, &q)) < 0)
		return rc;
	if (!(list = calloc(1, sizeof(*list))))
		return gcmsg__err_set(&store->err, GCMSG_ERROR, "out of memory");
	list->rows.kind = &gcmsg__audit_kind;
	list->rows.err = &store->err;
	if ((rc = store->ops->audit_query(store->backend, &q, collect, &list->rows, &store->err)) != 0)
		gcmsg_audit_list_free(list);
	else
		*out = list;
	return rc;
}

typedef struct export_ctx {
	gcmsg_store *store;
	gcmsg_audit_line_cb cb;
	void *payload;
} export_ctx;

static int export_one(const gcmsg__audit_rec *rec, void *payload)
{
	export_ctx *c = payload;
	char *line = rec_line(rec);
	int rc;

	if (!line)
		return gcmsg__err_set(&c->store->err, GCMSG_ERROR, "out of memory");
	rc = c->cb(line, strlen(line), c->payload);
	gcmsg__free_secret(line); /* may hold a text */
	return rc;
}

int gcmsg_audit_export(gcmsg_store *store, const gcmsg_audit_filter *filter, gcmsg_audit_line_cb cb,
                       void *payload)
{
	gcmsg__audit_query q;
	export_ctx ctx;
	int rc;

	if ((rc = gcmsg__store_ready(store)) < 0)
		return rc;
	if (!cb)
		return gcmsg__err_set(&store->err, GCMSG_EUSAGE, "no line callback given");
	if ((rc = filter_query(store, filter, &q)) < 0)
		return rc;
	ctx.store = store;
	ctx.cb = cb;
	ctx.payload = payload;
	return store->ops->audit_query(store->backend, &q, export_one, &ctx, &store->err);
}
