/* gcmsg_send in dry-run mode: the exact requests for every route, without a network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "route_fixture.h"
#include "internal.h"

static gcmsg_client *client;
static gcmsg_identity *alice, *svc;

static int setup(void **state)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;

	(void)state;
	o.access_token = "not-a-real-token";
	o.api_url = "http://127.0.0.1:9/"; /* never contacted: dry runs only */
	if (gcmsg_client_new(&client, &o) != GCMSG_OK)
		return -1;
	alice = gcmsg__identity_new(GCMSG_CALLER_USER, "u1", "Alice", NULL, NULL, 0, 0);
	svc = gcmsg__identity_new(GCMSG_CALLER_CLIENT, NULL, NULL, "svc", NULL, 0, 0);
	return alice && svc ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	gcmsg__identity_free(alice);
	gcmsg__identity_free(svc);
	gcmsg_client_free(client);
	return 0;
}

static void assert_headers(const gcmsg_send_result *res, size_t i, int with_body)
{
	size_t j, n = gcmsg_send_result_request_header_count(res, i);
	int auth = 0, ct = 0;

	for (j = 0; j < n; j++) {
		const char *h = gcmsg_send_result_request_header(res, i, j);
		assert_null(strstr(h, "not-a-real-token"));
		if (strncmp(h, "Authorization:", 14) == 0) {
			assert_string_equal(h, "Authorization: Bearer <redacted>");
			auth = 1;
		}
		if (strcmp(h, "Content-Type: application/json") == 0)
			ct = 1;
	}
	assert_true(auth);
	assert_int_equal(ct, with_body);
}

static const char webmsg[] =
	"{'id':'c1','participants':["
	"{'id':'p1','purpose':'customer','messages':[{'id':'m1','state':'connected','type':'webmessaging'}]},"
	"{'id':'p2','purpose':'agent','userId':'u1','messages':[{'id':'m2','state':'connected','type':'webmessaging'}]}]}";

static void agent_messaging_with_typing(void **state)
{
	gcmsg_route *r = route_for(webmsg, alice);
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_send_result *res;

	(void)state;
	so.text = "Hi \"Jane\" \xc3\xa9";
	so.typing = 1;
	so.dry_run = 1;
	assert_int_equal(gcmsg_send(&res, client, r, &so), GCMSG_OK);
	assert_true(gcmsg_send_result_dry_run(res));
	assert_null(gcmsg_send_result_message_id(res));
	assert_int_equal(gcmsg_send_result_request_count(res), 2);
	assert_string_equal(gcmsg_send_result_request_method(res, 0), "POST");
	assert_string_equal(gcmsg_send_result_request_url(res, 0),
	                    "http://127.0.0.1:9/api/v2/conversations/messages/c1/communications/m2/typing");
	assert_string_equal(gcmsg_send_result_request_body(res, 0), "{\"typing\":{\"type\":\"On\"}}");
	assert_headers(res, 0, 1);
	assert_string_equal(gcmsg_send_result_request_url(res, 1),
	                    "http://127.0.0.1:9/api/v2/conversations/messages/c1/communications/m2/messages");
	assert_string_equal(gcmsg_send_result_request_body(res, 1), "{\"textBody\":\"Hi \\\"Jane\\\" \xc3\xa9\"}");
	assert_headers(res, 1, 1);
	assert_null(gcmsg_send_result_request_url(res, 2));
	gcmsg_send_result_free(res);
	gcmsg_route_free(r);
}

static void agentless_body(void **state)
{
	gcmsg_route *r = route_for(
		"{'id':'c2','participants':[{'id':'p1','purpose':'customer','messages':[{'id':'m1',"
		"'state':'connected','type':'sms','fromAddress':{'addressNormalized':'+15551230002'},"
		"'toAddress':{'addressNormalized':'+15550009999'}}]}]}",
		svc);
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_send_result *res;

	(void)state;
	so.text = "Your engineer arrives at 10:00.";
	so.typing = 1;
	so.dry_run = 1;
	assert_int_equal(gcmsg_send(&res, client, r, &so), GCMSG_OK);
	assert_int_equal(gcmsg_send_result_request_count(res), 1);
	assert_string_equal(gcmsg_send_result_request_url(res, 0),
	                    "http://127.0.0.1:9/api/v2/conversations/messages/agentless");
	assert_string_equal(gcmsg_send_result_request_body(res, 0),
	                    "{\"fromAddress\":\"+15550009999\",\"toAddress\":\"+15551230002\","
	                    "\"toAddressMessengerType\":\"sms\",\"textBody\":\"Your engineer arrives at 10:00.\","
	                    "\"useExistingActiveConversation\":true}");
	assert_int_equal(gcmsg_send_result_warning_count(res), 1);
	assert_string_equal(gcmsg_send_result_warning_id(res, 0), "typing.unsupported");
	gcmsg_send_result_free(res);
	gcmsg_route_free(r);
}

static void legacy_chat_typing_without_body(void **state)
{
	gcmsg_route *r = route_for(
		"{'id':'c3','participants':[{'id':'p1','purpose':'customer','chats':[{'id':'ch1','state':'connected'}]},"
		"{'id':'p2','purpose':'agent','userId':'u1','chats':[{'id':'ch2','state':'connected'}]}]}",
		alice);
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_send_result *res;

	(void)state;
	so.text = "Hello from chat";
	so.typing = 1;
	so.dry_run = 1;
	assert_int_equal(gcmsg_send(&res, client, r, &so), GCMSG_OK);
	assert_int_equal(gcmsg_send_result_request_count(res), 2);
	assert_string_equal(gcmsg_send_result_request_url(res, 0),
	                    "http://127.0.0.1:9/api/v2/conversations/chats/c3/communications/ch2/typing");
	assert_null(gcmsg_send_result_request_body(res, 0));
	assert_headers(res, 0, 0);
	assert_string_equal(gcmsg_send_result_request_body(res, 1),
	                    "{\"body\":\"Hello from chat\",\"bodyType\":\"standard\"}");
	assert_int_equal(gcmsg_send_result_warning_count(res), 1);
	assert_string_equal(gcmsg_send_result_warning_id(res, 0), "chat.retired");
	gcmsg_send_result_free(res);
	gcmsg_route_free(r);
}

static void refusals_and_bad_input(void **state)
{
	gcmsg_route *r = route_for(webmsg, svc), *ok = route_for(webmsg, alice);
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_send_result *res = (gcmsg_send_result *)1;
	const gcmsg_error *e;

	(void)state;
	so.text = "hi";
	so.dry_run = 1;
	assert_int_equal(gcmsg_send(&res, client, r, &so), GCMSG_EROUTE);
	assert_null(res);
	e = gcmsg_client_last_error(client);
	assert_string_equal(e->rule, "messaging.webmessaging-agentless");
	assert_non_null(e->explanation);
	assert_non_null(e->fix);

	/* the content policy runs inside gcmsg_send too, before anything is built */
	so.text = "bad \xff utf-8";
	assert_int_equal(gcmsg_send(&res, client, ok, &so), GCMSG_EPOLICY);
	assert_string_equal(gcmsg_client_last_error(client)->rule, "text.utf8");
	so.text = "card 4539 1488 0343 6467";
	assert_int_equal(gcmsg_send(&res, client, ok, &so), GCMSG_EPOLICY);
	assert_string_equal(gcmsg_client_last_error(client)->rule, "detector.payment-card");
	assert_null(strstr(gcmsg_client_last_error(client)->explanation, "4539"));
	so.text = "";
	assert_int_equal(gcmsg_send(&res, client, ok, &so), GCMSG_EUSAGE);
	so.text = "hi";
	so.version = 7;
	assert_int_equal(gcmsg_send(&res, client, ok, &so), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_send(NULL, client, ok, &so), GCMSG_EUSAGE);
	gcmsg_route_free(r);
	gcmsg_route_free(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(agent_messaging_with_typing),
		cmocka_unit_test(agentless_body),
		cmocka_unit_test(legacy_chat_typing_without_body),
		cmocka_unit_test(refusals_and_bad_input),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
