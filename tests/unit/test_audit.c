/*
 * The audit log: records and their webhook events in one transaction (one
 * row per hook that wants the event), the event's JSON shape, texts kept
 * only with audit_text, the record JSON, listing with filters, and the
 * streaming JSON Lines export.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_fixture.h"
#include "gcmsg/webhook.h"

static gcmsg_store *open_store(int audit_text)
{
	gcmsg_store_options o = GCMSG_STORE_OPTIONS_INIT;

	o.audit_text = audit_text;
	return fx_open(fx_path(audit_text ? "with-text.db" : "gcmsg.db"), &o);
}

static size_t webhook_rows(gcmsg_store *s, gcmsg__row_list *w)
{
	gcmsg__row_list_dispose(w);
	assert_int_equal(s->ops->webhook_list(s->backend, 1, fx_grab_webhook, w, &s->err), GCMSG_OK);
	return w->count;
}

static gcmsg_audit_list *all_records(gcmsg_store *s)
{
	gcmsg_audit_list *l = NULL;

	assert_int_equal(gcmsg_audit_list_get(&l, s, NULL), GCMSG_OK);
	return l;
}

static int is_uuid_v4(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
			return 0;
		}
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* The keys of an object, in order, joined by commas. */
static const char *keys_of(json_t *o)
{
	static char buf[1024];
	const char *k;
	json_t *v;
	size_t n = 0;

	buf[0] = '\0';
	json_object_foreach(o, k, v)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? "," : "", k);
	return buf;
}

#define RECORD_KEYS \
	"id,time,event,outcome,key,who,route,conversationId,communicationId,responseId,responseVersion,libraryId," \
	"channel,source,attempt,httpStatus,errorCode,correlationId,latencyMs,messageId,textSha256,text,detail"

static void webhooks_in_the_same_transaction(void **state)
{
	gcmsg_store *s = open_store(0);
	gcmsg__audit_rec r;
	gcmsg_audit_list *l;
	gcmsg__row_list w = FX_ROWS(gcmsg__webhook_kind);
	json_t *ev, *data, *rec;
	json_error_t jerr;
	char *line = NULL;

	*state = s;
	fx_add_hook(s, "every", 0);                              /* 0: both events */
	fx_add_hook(s, "outcomes", GCMSG_WEBHOOK_EVENT_OUTCOME);
	fx_add_hook(s, "attempts", GCMSG_WEBHOOK_EVENT_ATTEMPT);
	fx_add_hook(s, "both", GCMSG_WEBHOOK_EVENT_ATTEMPT | GCMSG_WEBHOOK_EVENT_OUTCOME);

	fx_full_rec(&r, "attempt", "ok");
	assert_int_equal(gcmsg__audit_record(s, &r, 0), GCMSG_OK);
	assert_int_equal(webhook_rows(s, &w), 3);
	assert_string_equal(fx_webhook_at(&w, 0)->hook, "every");
	assert_string_equal(fx_webhook_at(&w, 1)->hook, "attempts");
	assert_string_equal(fx_webhook_at(&w, 2)->hook, "both");
	/* one event: the same id and body for every webhook */
	assert_string_equal(fx_webhook_at(&w, 0)->event_id, fx_webhook_at(&w, 1)->event_id);
	assert_string_equal(fx_webhook_at(&w, 0)->body, fx_webhook_at(&w, 2)->body);
	assert_true(is_uuid_v4(fx_webhook_at(&w, 0)->event_id));
	assert_int_equal(fx_webhook_at(&w, 0)->created_ms, r.time_ms);
	assert_int_equal(fx_webhook_at(&w, 0)->next_attempt_ms, r.time_ms);
	assert_int_equal(fx_webhook_at(&w, 0)->attempts, 0);
	assert_int_equal(fx_webhook_at(&w, 0)->delivered, 0);

	/* the event: {"id", "type", "created", "data"} */
	ev = json_loads(fx_webhook_at(&w, 0)->body, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(ev);
	assert_string_equal(keys_of(ev), "id,type,created,data");
	assert_string_equal(json_string_value(json_object_get(ev, "id")), fx_webhook_at(&w, 0)->event_id);
	assert_string_equal(json_string_value(json_object_get(ev, "type")), "attempt.ok");
	assert_string_equal(json_string_value(json_object_get(ev, "created")), "2024-05-01T12:34:56.789Z");
	data = json_object_get(ev, "data");
	assert_true(json_is_object(data));
	assert_string_equal(keys_of(data), RECORD_KEYS);
	/* data is the record's JSON, with its new id */
	l = all_records(s);
	assert_int_equal(gcmsg_audit_list_count(l), 1);
	assert_int_equal(json_integer_value(json_object_get(data, "id")),
	                 gcmsg_audit_record_id(gcmsg_audit_list_record(l, 0)));
	assert_true(gcmsg_audit_record_id(gcmsg_audit_list_record(l, 0)) > 0);
	assert_int_equal(gcmsg_audit_record_json(&line, gcmsg_audit_list_record(l, 0)), GCMSG_OK);
	rec = json_loads(line, 0, &jerr);
	assert_non_null(rec);
	assert_true(json_equal(rec, data));
	assert_true(json_is_null(json_object_get(data, "text"))); /* no audit_text */
	json_decref(rec);
	gcmsg_free(line);
	json_decref(ev);
	gcmsg_audit_list_free(l);

	/* an outcome: every, outcomes, both; a new event id */
	fx_full_rec(&r, "outcome", "sent");
	assert_int_equal(gcmsg__audit_record(s, &r, 0), GCMSG_OK);
	assert_int_equal(webhook_rows(s, &w), 6);
	assert_string_equal(fx_webhook_at(&w, 3)->hook, "every");
	assert_string_equal(fx_webhook_at(&w, 4)->hook, "outcomes");
	assert_string_equal(fx_webhook_at(&w, 5)->hook, "both");
	assert_string_not_equal(fx_webhook_at(&w, 3)->event_id, fx_webhook_at(&w, 0)->event_id);
	ev = json_loads(fx_webhook_at(&w, 4)->body, 0, &jerr);
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "type")), "outcome.sent");
	json_decref(ev);

	/* inside the caller's transaction: both go with its rollback */
	assert_int_equal(s->ops->begin(s->backend, &s->err), GCMSG_OK);
	assert_int_equal(gcmsg__audit_record(s, &r, 1), GCMSG_OK);
	s->ops->rollback(s->backend);
	assert_int_equal(webhook_rows(s, &w), 6);
	l = all_records(s);
	assert_int_equal(gcmsg_audit_list_count(l), 2);
	gcmsg_audit_list_free(l);

	/* a webhook row that cannot be queued takes its record with it */
	free(s->hooks[3].name);
	s->hooks[3].name = strdup("a-name-longer-than-sixty-four-characters-that-the-queue-refuses-x");
	assert_int_equal(gcmsg__audit_record(s, &r, 0), GCMSG_EUSAGE);
	assert_int_equal(webhook_rows(s, &w), 6);
	l = all_records(s);
	assert_int_equal(gcmsg_audit_list_count(l), 2);
	gcmsg_audit_list_free(l);

	/* no webhooks: no rows */
	gcmsg__hooks_free(s->hooks, s->nhooks);
	s->hooks = NULL;
	s->nhooks = 0;
	assert_int_equal(gcmsg__audit_record(s, &r, 0), GCMSG_OK);
	assert_int_equal(webhook_rows(s, &w), 6);
	gcmsg__row_list_dispose(&w);
}

static void text_only_with_audit_text(void **state)
{
	gcmsg_store *plain = open_store(0), *keeping = open_store(1);
	gcmsg__audit_rec r;
	gcmsg_audit_list *l;
	gcmsg__row_list w = FX_ROWS(gcmsg__webhook_kind);
	json_t *ev;

	*state = plain;
	fx_add_hook(plain, "h", 0);
	fx_add_hook(keeping, "h", 0);
	fx_full_rec(&r, "outcome", "sent");
	assert_int_equal(gcmsg__audit_record(plain, &r, 0), GCMSG_OK);
	assert_int_equal(gcmsg__audit_record(keeping, &r, 0), GCMSG_OK);

	l = all_records(plain);
	assert_null(gcmsg_audit_record_text(gcmsg_audit_list_record(l, 0)));
	assert_string_equal(gcmsg_audit_record_text_sha256(gcmsg_audit_list_record(l, 0)), r.text_sha256);
	gcmsg_audit_list_free(l);
	assert_int_equal(webhook_rows(plain, &w), 1);
	assert_null(strstr(fx_webhook_at(&w, 0)->body, "Hello there"));
	ev = json_loads(fx_webhook_at(&w, 0)->body, 0, NULL);
	assert_true(json_is_null(json_object_get(json_object_get(ev, "data"), "text")));
	json_decref(ev);

	l = all_records(keeping);
	assert_string_equal(gcmsg_audit_record_text(gcmsg_audit_list_record(l, 0)), "Hello there");
	gcmsg_audit_list_free(l);
	assert_int_equal(webhook_rows(keeping, &w), 1);
	ev = json_loads(fx_webhook_at(&w, 0)->body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "data"), "text")), "Hello there");
	json_decref(ev);
	gcmsg__row_list_dispose(&w);
	gcmsg_store_free(keeping);
}

static void record_json_every_field(void **state)
{
	gcmsg_store *s = open_store(1);
	gcmsg__audit_rec r;
	gcmsg_audit_list *l;
	const gcmsg_audit_record *a;
	json_t *o;
	char *line = NULL;

	*state = s;
	fx_full_rec(&r, "attempt", "throttled");
	r.http_status = 429;
	r.error_code = "too.many.requests";
	r.attempt = 2;
	r.detail = "bad byte \xff here";
	assert_int_equal(gcmsg__audit_record(s, &r, 0), GCMSG_OK);
	l = all_records(s);
	a = gcmsg_audit_list_record(l, 0);
	/* the accessors */
	assert_true(gcmsg_audit_record_id(a) > 0);
	assert_int_equal(gcmsg_audit_record_time_ms(a), 1714566896789LL);
	assert_string_equal(gcmsg_audit_record_event(a), "attempt");
	assert_string_equal(gcmsg_audit_record_outcome(a), "throttled");
	assert_string_equal(gcmsg_audit_record_key(a), "key-1");
	assert_string_equal(gcmsg_audit_record_who(a), "user:u-1");
	assert_string_equal(gcmsg_audit_record_route(a), "agent-messaging");
	assert_string_equal(gcmsg_audit_record_conversation_id(a), "conv-1");
	assert_string_equal(gcmsg_audit_record_communication_id(a), "comm-1");
	assert_string_equal(gcmsg_audit_record_response_id(a), "resp-1");
	assert_int_equal(gcmsg_audit_record_response_version(a), 4);
	assert_string_equal(gcmsg_audit_record_library_id(a), "lib-1");
	assert_string_equal(gcmsg_audit_record_channel(a), "webmessaging");
	assert_string_equal(gcmsg_audit_record_source(a), "cli");
	assert_int_equal(gcmsg_audit_record_http_status(a), 429);
	assert_string_equal(gcmsg_audit_record_error_code(a), "too.many.requests");
	assert_string_equal(gcmsg_audit_record_correlation_id(a), "corr-1");
	assert_int_equal(gcmsg_audit_record_attempt(a), 2);
	assert_int_equal(gcmsg_audit_record_latency_ms(a), 120);
	assert_string_equal(gcmsg_audit_record_message_id(a), "msg-1");
	assert_string_equal(gcmsg_audit_record_text_sha256(a), r.text_sha256);
	assert_string_equal(gcmsg_audit_record_text(a), "Hello there");
	assert_string_equal(gcmsg_audit_record_detail(a), "bad byte \xff here");

	assert_int_equal(gcmsg_audit_record_json(&line, a), GCMSG_OK);
	assert_null(strchr(line, '\n'));
	o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(o);
	assert_string_equal(keys_of(o), RECORD_KEYS);
	assert_int_equal(json_integer_value(json_object_get(o, "id")), gcmsg_audit_record_id(a));
	assert_string_equal(json_string_value(json_object_get(o, "time")), "2024-05-01T12:34:56.789Z");
	assert_string_equal(json_string_value(json_object_get(o, "event")), "attempt");
	assert_string_equal(json_string_value(json_object_get(o, "outcome")), "throttled");
	assert_string_equal(json_string_value(json_object_get(o, "key")), "key-1");
	assert_string_equal(json_string_value(json_object_get(o, "who")), "user:u-1");
	assert_string_equal(json_string_value(json_object_get(o, "route")), "agent-messaging");
	assert_string_equal(json_string_value(json_object_get(o, "conversationId")), "conv-1");
	assert_string_equal(json_string_value(json_object_get(o, "communicationId")), "comm-1");
	assert_string_equal(json_string_value(json_object_get(o, "responseId")), "resp-1");
	assert_int_equal(json_integer_value(json_object_get(o, "responseVersion")), 4);
	assert_string_equal(json_string_value(json_object_get(o, "libraryId")), "lib-1");
	assert_string_equal(json_string_value(json_object_get(o, "channel")), "webmessaging");
	assert_string_equal(json_string_value(json_object_get(o, "source")), "cli");
	assert_int_equal(json_integer_value(json_object_get(o, "attempt")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "httpStatus")), 429);
	assert_string_equal(json_string_value(json_object_get(o, "errorCode")), "too.many.requests");
	assert_string_equal(json_string_value(json_object_get(o, "correlationId")), "corr-1");
	assert_int_equal(json_integer_value(json_object_get(o, "latencyMs")), 120);
	assert_string_equal(json_string_value(json_object_get(o, "messageId")), "msg-1");
	assert_string_equal(json_string_value(json_object_get(o, "textSha256")), r.text_sha256);
	assert_string_equal(json_string_value(json_object_get(o, "text")), "Hello there");
	assert_string_equal(json_string_value(json_object_get(o, "detail")), "bad byte \xef\xbf\xbd here");
	json_decref(o);
	gcmsg_free(line);
	gcmsg_audit_list_free(l);

	/* absent values are null */
	r = fx_rec(1, "outcome", "refused", NULL);
	assert_int_equal(gcmsg__audit_record(s, &r, 0), GCMSG_OK);
	l = all_records(s);
	assert_int_equal(gcmsg_audit_list_count(l), 2);
	assert_int_equal(gcmsg_audit_record_json(&line, gcmsg_audit_list_record(l, 1)), GCMSG_OK);
	o = json_loads(line, 0, NULL);
	assert_non_null(o);
	assert_string_equal(keys_of(o), RECORD_KEYS);
	assert_string_equal(json_string_value(json_object_get(o, "time")), "1970-01-01T00:00:00.001Z");
	{
		static const char *const nulls[] = { "key", "who", "route", "conversationId", "communicationId",
			                             "responseId", "responseVersion", "libraryId", "channel", "source",
			                             "httpStatus", "errorCode", "correlationId", "messageId",
			                             "textSha256", "text", "detail" };
		size_t i;
		for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
			if (!json_is_null(json_object_get(o, nulls[i])))
				fail_msg("%s is not null", nulls[i]);
	}
	assert_int_equal(json_integer_value(json_object_get(o, "attempt")), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "latencyMs")), 0);
	json_decref(o);
	gcmsg_free(line);
	gcmsg_audit_list_free(l);

	assert_int_equal(gcmsg_audit_record_json(&line, NULL), GCMSG_EUSAGE);
	assert_null(line);
	assert_int_equal(gcmsg_audit_record_json(NULL, NULL), GCMSG_EUSAGE);
	assert_null(gcmsg_audit_record_key(NULL));
	assert_int_equal(gcmsg_audit_record_response_version(NULL), -1);
}

static void record_rules(void **state)
{
	gcmsg_store *s = open_store(0);
	gcmsg__audit_rec r;
	gcmsg_audit_list *l;
	long long before = gcmsg__wall_ms();

	*state = s;
	gcmsg__audit_rec_init(&r);
	r.event = "outcome";
	r.outcome = "exploded";
	assert_int_equal(gcmsg__audit_record(s, &r, 0), GCMSG_EUSAGE);
	r.event = "attempt";
	r.outcome = "sent"; /* an outcome's word on an attempt */
	assert_int_equal(gcmsg__audit_record(s, &r, 0), GCMSG_EUSAGE);
	r.event = NULL;
	assert_int_equal(gcmsg__audit_record(s, &r, 0), GCMSG_EUSAGE);
	assert_int_equal(gcmsg__audit_record(NULL, &r, 0), GCMSG_EUSAGE);
	assert_int_equal(gcmsg__audit_record(s, NULL, 0), GCMSG_EUSAGE);

	/* no time: now; a negative latency (the clock stepped back) is 0 */
	r.event = "outcome";
	r.outcome = "sent";
	r.latency_ms = -5;
	assert_int_equal(gcmsg__audit_record(s, &r, 0), GCMSG_OK);
	l = all_records(s);
	assert_int_equal(gcmsg_audit_list_count(l), 1);
	assert_true(gcmsg_audit_record_time_ms(gcmsg_audit_list_record(l, 0)) >= before);
	assert_int_equal(gcmsg_audit_record_latency_ms(gcmsg_audit_list_record(l, 0)), 0);
	gcmsg_audit_list_free(l);
}

static void listing_filters(void **state)
{
	gcmsg_store *s = open_store(0);
	gcmsg_audit_filter f = GCMSG_AUDIT_FILTER_INIT;
	gcmsg_audit_list *l = NULL;
	static const struct {
		long long t;
		const char *event, *outcome, *key, *conv;
	} recs[] = {
		{ 100, "attempt", "ok", "k1", "c1" },      { 200, "outcome", "sent", "k1", "c1" },
		{ 150, "attempt", "rejected", "k2", "c2" }, { 300, "outcome", "failed", "k2", "c2" },
	};
	size_t i;

	*state = s;
	for (i = 0; i < 4; i++) {
		gcmsg__audit_rec r = fx_rec(recs[i].t, recs[i].event, recs[i].outcome, recs[i].key);
		r.conversation_id = (char *)recs[i].conv;
		assert_int_equal(gcmsg__audit_record(s, &r, 0), GCMSG_OK);
	}
#define EXPECT(...) \
	do { \
		long long want[] = { __VA_ARGS__ }; \
		assert_int_equal(gcmsg_audit_list_get(&l, s, &f), GCMSG_OK); \
		assert_int_equal(gcmsg_audit_list_count(l), sizeof(want) / sizeof(want[0])); \
		for (i = 0; i < gcmsg_audit_list_count(l); i++) \
			assert_int_equal(gcmsg_audit_record_time_ms(gcmsg_audit_list_record(l, i)), want[i]); \
		gcmsg_audit_list_free(l); \
	} while (0)
	EXPECT(100, 200, 150, 300);
	f.since_ms = 150;
	EXPECT(200, 150, 300);
	f.until_ms = 300;
	EXPECT(200, 150);
	f = (gcmsg_audit_filter)GCMSG_AUDIT_FILTER_INIT;
	f.conversation_id = "c2";
	EXPECT(150, 300);
	f.event = "outcome";
	EXPECT(300);
	f = (gcmsg_audit_filter)GCMSG_AUDIT_FILTER_INIT;
	f.key = "k1";
	f.limit = 1;
	EXPECT(100);
#undef EXPECT
	f.event = "neither";
	assert_int_equal(gcmsg_audit_list_get(&l, s, &f), GCMSG_EUSAGE);
	assert_null(l);
	f.event = NULL;
	f.version = 0;
	assert_int_equal(gcmsg_audit_list_get(&l, s, &f), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_audit_list_count(NULL), 0);
	assert_null(gcmsg_audit_list_record(NULL, 0));
	gcmsg_audit_list_free(NULL);
}

typedef struct sink {
	size_t lines;
	long long last_id;
	size_t stop_after;
	int bad;
} sink;

static int take_line(const char *line, size_t len, void *payload)
{
	sink *k = payload;
	json_t *o;
	json_error_t jerr;

	if (len != strlen(line) || memchr(line, '\n', len))
		k->bad = 1;
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o || !json_is_object(o) || strcmp(keys_of(o), RECORD_KEYS) != 0 ||
	    json_integer_value(json_object_get(o, "id")) <= k->last_id)
		k->bad = 1;
	else
		k->last_id = json_integer_value(json_object_get(o, "id"));
	json_decref(o);
	k->lines++;
	return k->stop_after && k->lines == k->stop_after ? 42 : 0;
}

static void export_json_lines(void **state)
{
	gcmsg_store *s = open_store(0);
	gcmsg_audit_filter f = GCMSG_AUDIT_FILTER_INIT;
	sink k = { 0, 0, 0, 0 };
	int i;

	*state = s;
	assert_int_equal(s->ops->begin(s->backend, &s->err), GCMSG_OK);
	for (i = 0; i < 2000; i++) {
		gcmsg__audit_rec r;
		char key[32];
		fx_full_rec(&r, i % 2 ? "outcome" : "attempt", i % 2 ? "sent" : "ok");
		snprintf(key, sizeof(key), "k%d", i / 2);
		r.key = key;
		r.time_ms = 1000 + i;
		r.detail = i % 7 ? "line \"quoted\"\n\tand\\ escaped" : NULL;
		assert_int_equal(gcmsg__audit_record(s, &r, 1), GCMSG_OK);
	}
	assert_int_equal(s->ops->commit(s->backend, &s->err), GCMSG_OK);

	assert_int_equal(gcmsg_audit_export(s, NULL, take_line, &k), GCMSG_OK);
	assert_int_equal(k.lines, 2000);
	assert_int_equal(k.bad, 0);

	memset(&k, 0, sizeof(k));
	f.event = "outcome";
	f.since_ms = 2000;
	assert_int_equal(gcmsg_audit_export(s, &f, take_line, &k), GCMSG_OK);
	assert_int_equal(k.lines, 500);
	assert_int_equal(k.bad, 0);

	/* the callback stops it */
	memset(&k, 0, sizeof(k));
	k.stop_after = 3;
	assert_int_equal(gcmsg_audit_export(s, NULL, take_line, &k), 42);
	assert_int_equal(k.lines, 3);

	assert_int_equal(gcmsg_audit_export(s, NULL, NULL, &k), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_audit_export(NULL, NULL, take_line, &k), GCMSG_EUSAGE);
	f.version = 9;
	assert_int_equal(gcmsg_audit_export(s, &f, take_line, &k), GCMSG_EUSAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(webhooks_in_the_same_transaction, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(text_only_with_audit_text, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(record_json_every_field, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(record_rules, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(listing_filters, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(export_json_lines, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
