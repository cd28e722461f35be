/* The route decision on parsed conversation fixtures: every rule id of design.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#define ALICE "22222222-0000-4000-8000-000000000001"
#define CAROL "22222222-0000-4000-8000-000000000003"

static const char *const all_perms[] = { "conversation:message:create", "conversation:webmessaging:create",
	                                 "conversation:communication:view" };

/* Fixtures are written with ' for " to keep them readable. */
static gcmsg_conversation *conv_from(const char *fixture)
{
	char *text = strdup(fixture), *p, err[256];
	json_t *root;
	json_error_t jerr;
	gcmsg_conversation *c = NULL;

	assert_non_null(text);
	for (p = text; *p; p++)
		if (*p == '\'')
			*p = '"';
	root = json_loads(text, 0, &jerr);
	if (!root)
		fail_msg("fixture is not JSON: %s: %s", jerr.text, text);
	assert_int_equal(gcmsg__conversation_parse(&c, root, err, sizeof(err)), GCMSG_OK);
	json_decref(root);
	free(text);
	return c;
}

static gcmsg_route *decide(const char *fixture, const gcmsg_identity *id)
{
	gcmsg_route *r = NULL;

	assert_int_equal(gcmsg__route_decide(&r, conv_from(fixture), id), GCMSG_OK);
	assert_non_null(r);
	assert_non_null(gcmsg_route_rule(r));
	assert_non_null(gcmsg_route_explanation(r));
	return r;
}

static gcmsg_identity *user(const char *uid, const char *const *perms, size_t n)
{
	gcmsg_identity *id = gcmsg__identity_new(GCMSG_CALLER_USER, uid, "Some User", NULL, perms, n, 1);
	assert_non_null(id);
	return id;
}

static gcmsg_identity *client(void)
{
	gcmsg_identity *id = gcmsg__identity_new(GCMSG_CALLER_CLIENT, NULL, NULL, "svc", NULL, 0, 0);
	assert_non_null(id);
	return id;
}

static void assert_refused(const gcmsg_route *r, const char *rule, int code)
{
	assert_int_equal(gcmsg_route_kind(r), GCMSG_ROUTE_NONE);
	assert_string_equal(gcmsg_route_type_name(gcmsg_route_kind(r)), "none");
	assert_string_equal(gcmsg_route_rule(r), rule);
	assert_int_equal(gcmsg_route_refusal_code(r), code);
	assert_non_null(gcmsg_route_fix(r));
	assert_null(gcmsg_route_method(r));
	assert_null(gcmsg_route_path(r));
}

#define WEBMSG_PARTS(agent_state)                                                                           \
	"'participants':["                                                                                    \
	"{'id':'p-cust','purpose':'customer','name':'Jane','messages':[{'id':'m-cust','state':'connected',"  \
	"'type':'webmessaging','fromAddress':{'addressNormalized':'guest'},'toAddress':{'addressNormalized':" \
	"'deploy-1'}}]},"                                                                                      \
	"{'id':'p-acd','purpose':'acd','messages':[{'id':'m-acd','state':'disconnected','type':'webmessaging'}]}," \
	"{'id':'p-old','purpose':'agent','userId':'" ALICE "','messages':[{'id':'m-old','state':'disconnected'," \
	"'type':'webmessaging'}]},"                                                                            \
	"{'id':'p-agent','purpose':'agent','userId':'" ALICE "','name':'Alice','messages':[{'id':'m-agent',"  \
	"'state':'" agent_state "','type':'webmessaging'}]}]"

static const char webmsg[] = "{'id':'c-web','startTime':'2026-11-21T09:00:00Z'," WEBMSG_PARTS("connected") "}";

static void messaging_agent_last_connected_wins(void **state)
{
	gcmsg_identity *id = user(ALICE, all_perms, 3);
	gcmsg_route *r = decide(webmsg, id);

	(void)state;
	assert_int_equal(gcmsg_route_kind(r), GCMSG_ROUTE_AGENT_MESSAGING);
	assert_string_equal(gcmsg_route_type_name(gcmsg_route_kind(r)), "agent-messaging");
	assert_string_equal(gcmsg_route_rule(r), "messaging.agent");
	assert_string_equal(gcmsg_route_communication_id(r), "m-agent");
	assert_string_equal(gcmsg_route_method(r), "POST");
	assert_string_equal(gcmsg_route_path(r),
	                    "/api/v2/conversations/messages/c-web/communications/m-agent/messages");
	assert_int_equal(gcmsg_route_refusal_code(r), GCMSG_OK);
	assert_int_equal(gcmsg_route_warning_count(r), 0);
	assert_non_null(strstr(gcmsg_route_explanation(r), "m-agent"));
	assert_string_equal(gcmsg_conversation_platform(gcmsg_route_conversation(r)), "webmessaging");
	assert_string_equal(gcmsg_conversation_state(gcmsg_route_conversation(r)), "connected");
	assert_ptr_equal(gcmsg_route_identity(r), id);
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void messaging_agent_wildcard_permission(void **state)
{
	static const char *const wild[] = { "conversation:*:*" };
	gcmsg_identity *id = user(ALICE, wild, 1);
	gcmsg_route *r = decide(webmsg, id);

	(void)state;
	assert_string_equal(gcmsg_route_rule(r), "messaging.agent");
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void permission_missing_names_any_of(void **state)
{
	static const char *const view_only[] = { "conversation:communication:view", "conversation:message:view" };
	gcmsg_identity *id = user(ALICE, view_only, 2);
	gcmsg_route *r = decide(webmsg, id);

	(void)state;
	assert_refused(r, "permission.missing", GCMSG_EPERM);
	assert_string_equal(gcmsg_route_permission_mode(r), "ANY");
	assert_int_equal(gcmsg_route_missing_permission_count(r), 2);
	assert_string_equal(gcmsg_route_missing_permission(r, 0), "conversation:message:create");
	assert_string_equal(gcmsg_route_missing_permission(r, 1), "conversation:webmessaging:create");
	assert_non_null(strstr(gcmsg_route_explanation(r), "ANY of conversation:message:create"));
	assert_null(gcmsg_route_communication_id(r));
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void permission_matching(void **state)
{
	(void)state;
	assert_true(gcmsg__permission_matches("conversation:message:create", "conversation:message:create"));
	assert_true(gcmsg__permission_matches("conversation:*:create", "conversation:message:create"));
	assert_true(gcmsg__permission_matches("conversation:message:*", "conversation:message:create"));
	assert_true(gcmsg__permission_matches("*:*:*", "conversation:message:create"));
	assert_false(gcmsg__permission_matches("conversation:message:view", "conversation:message:create"));
	assert_false(gcmsg__permission_matches("conversation:message", "conversation:message:create"));
	assert_false(gcmsg__permission_matches("conversation:message:create:x", "conversation:message:create"));
	assert_false(gcmsg__permission_matches("conv*:message:create", "conversation:message:create"));
}

static void messaging_not_agent(void **state)
{
	gcmsg_identity *id = user(CAROL, all_perms, 3);
	gcmsg_route *r = decide(webmsg, id);

	(void)state;
	assert_refused(r, "messaging.not-agent", GCMSG_EROUTE);
	assert_non_null(strstr(gcmsg_route_explanation(r), CAROL));
	assert_non_null(strstr(gcmsg_route_fix(r), ALICE));
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void messaging_agent_not_connected_is_not_agent(void **state)
{
	static const char alerting[] = "{'id':'c-web','startTime':'x'," WEBMSG_PARTS("alerting") "}";
	gcmsg_identity *id = user(ALICE, all_perms, 3);
	gcmsg_route *r = decide(alerting, id);

	(void)state;
	assert_refused(r, "messaging.not-agent", GCMSG_EROUTE);
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void webmessaging_client_credentials(void **state)
{
	gcmsg_identity *id = client();
	gcmsg_route *r = decide(webmsg, id);

	(void)state;
	assert_refused(r, "messaging.webmessaging-agentless", GCMSG_EROUTE);
	assert_non_null(strstr(gcmsg_route_fix(r), "user token"));
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void conversation_ended_by_end_time(void **state)
{
	static const char ended[] = "{'id':'c-end','startTime':'x','endTime':'2026-11-21T10:00:00Z',"
		WEBMSG_PARTS("connected") "}";
	gcmsg_identity *id = user(ALICE, all_perms, 3);
	gcmsg_route *r = decide(ended, id);

	(void)state;
	assert_refused(r, "conversation.ended", GCMSG_EROUTE);
	assert_non_null(strstr(gcmsg_route_explanation(r), "c-end"));
	assert_string_equal(gcmsg_conversation_state(gcmsg_route_conversation(r)), "disconnected");
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void conversation_ended_by_customer_state(void **state)
{
	static const char gone[] =
		"{'id':'c-gone','participants':["
		"{'id':'p1','purpose':'customer','messages':[{'id':'m1','state':'disconnected','type':'sms'}]},"
		"{'id':'p2','purpose':'agent','userId':'" ALICE "','messages':[{'id':'m2','state':'connected','type':'sms'}]}]}";
	gcmsg_identity *id = client();
	gcmsg_route *r = decide(gone, id);

	(void)state;
	assert_refused(r, "conversation.ended", GCMSG_EROUTE);
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static const char sms[] =
	"{'id':'c-sms','participants':["
	"{'id':'p1','purpose':'customer','name':'Sam','address':'+15551230002','messages':[{'id':'m1',"
	"'state':'connected','type':'sms','fromAddress':{'addressNormalized':'+15551230002'},"
	"'toAddress':{'addressNormalized':'+15550009999'}}]},"
	"{'id':'p2','purpose':'agent','userId':'" ALICE "','messages':[{'id':'m2','state':'connected','type':'sms'}]}]}";

static void agentless_for_client_credentials(void **state)
{
	gcmsg_identity *id = client();
	gcmsg_route *r = decide(sms, id);

	(void)state;
	assert_int_equal(gcmsg_route_kind(r), GCMSG_ROUTE_AGENTLESS);
	assert_string_equal(gcmsg_route_type_name(gcmsg_route_kind(r)), "agentless");
	assert_string_equal(gcmsg_route_rule(r), "messaging.agentless");
	assert_string_equal(gcmsg_route_path(r), "/api/v2/conversations/messages/agentless");
	assert_string_equal(gcmsg_route_from_address(r), "+15550009999");
	assert_string_equal(gcmsg_route_to_address(r), "+15551230002");
	assert_string_equal(gcmsg_route_messenger_type(r), "sms");
	assert_null(gcmsg_route_communication_id(r));
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void agentless_plain_string_addresses_and_participant_address(void **state)
{
	static const char wa[] =
		"{'id':'c-wa','participants':["
		"{'id':'p1','purpose':'customer','address':'15551230003','messages':[{'id':'m1',"
		"'state':'connected','type':'whatsapp','toAddress':'integration-7'}]}]}";
	gcmsg_identity *id = client();
	gcmsg_route *r = decide(wa, id);

	(void)state;
	assert_string_equal(gcmsg_route_rule(r), "messaging.agentless");
	assert_string_equal(gcmsg_route_from_address(r), "integration-7");
	assert_string_equal(gcmsg_route_to_address(r), "15551230003");
	assert_string_equal(gcmsg_route_messenger_type(r), "whatsapp");
	/* agentless WhatsApp takes templates only: said before anything is sent */
	assert_int_equal(gcmsg_route_warning_count(r), 1);
	assert_string_equal(gcmsg_route_warning_id(r, 0), "whatsapp.template-only");
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void agentless_without_addresses(void **state)
{
	static const char noaddr[] =
		"{'id':'c-open','participants':["
		"{'id':'p1','purpose':'customer','messages':[{'id':'m1','state':'connected','type':'open'}]}]}";
	gcmsg_identity *id = client();
	gcmsg_route *r = decide(noaddr, id);

	(void)state;
	assert_refused(r, "messaging.agentless-no-address", GCMSG_EROUTE);
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void sms_with_user_token_goes_agent(void **state)
{
	gcmsg_identity *id = user(ALICE, all_perms, 3);
	gcmsg_route *r = decide(sms, id);

	(void)state;
	assert_string_equal(gcmsg_route_rule(r), "messaging.agent");
	assert_string_equal(gcmsg_route_communication_id(r), "m2");
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void unsupported_platform(void **state)
{
	static const char fb[] =
		"{'id':'c-fb','participants':["
		"{'id':'p1','purpose':'customer','messages':[{'id':'m1','state':'connected','type':'facebook',"
		"'fromAddress':'a','toAddress':'b'}]}]}";
	gcmsg_identity *id = client();
	gcmsg_route *r = decide(fb, id);

	(void)state;
	assert_refused(r, "messaging.unsupported-platform", GCMSG_EROUTE);
	assert_non_null(strstr(gcmsg_route_explanation(r), "facebook"));
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static const char chat[] =
	"{'id':'c-chat','participants':["
	"{'id':'p1','purpose':'customer','name':'Chet','chats':[{'id':'ch1','state':'connected'}]},"
	"{'id':'p2','purpose':'agent','userId':'" ALICE "','chats':[{'id':'ch2','state':'connected'}]}]}";

static void legacy_chat_with_warning(void **state)
{
	gcmsg_identity *id = user(ALICE, NULL, 0); /* the chat send lists no permission */
	gcmsg_route *r = decide(chat, id);

	(void)state;
	assert_int_equal(gcmsg_route_kind(r), GCMSG_ROUTE_LEGACY_CHAT);
	assert_string_equal(gcmsg_route_type_name(gcmsg_route_kind(r)), "legacy-chat");
	assert_string_equal(gcmsg_route_rule(r), "chat.legacy");
	assert_string_equal(gcmsg_route_path(r), "/api/v2/conversations/chats/c-chat/communications/ch2/messages");
	assert_string_equal(gcmsg_route_communication_id(r), "ch2");
	assert_int_equal(gcmsg_route_warning_count(r), 1);
	assert_string_equal(gcmsg_route_warning_id(r, 0), "chat.retired");
	assert_non_null(strstr(gcmsg_route_warning_text(r, 0), "2025-11-06"));
	assert_non_null(strstr(gcmsg_route_warning_text(r, 0), "2026-08-15"));
	assert_string_equal(gcmsg_conversation_media_name(gcmsg_route_conversation(r)), "chat");
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void chat_not_agent(void **state)
{
	gcmsg_identity *u = user(CAROL, all_perms, 3), *cl = client();
	gcmsg_route *r = decide(chat, u);

	(void)state;
	assert_refused(r, "chat.not-agent", GCMSG_EROUTE);
	gcmsg_route_free(r);
	r = decide(chat, cl);
	assert_refused(r, "chat.not-agent", GCMSG_EROUTE);
	gcmsg_route_free(r);
	gcmsg__identity_free(u);
	gcmsg__identity_free(cl);
}

static void chat_third_party_in_conversation(void **state)
{
	static const char tp[] =
		"{'id':'c-tp','participants':["
		"{'id':'p1','purpose':'external','chats':[{'id':'ch1','state':'connected','provider':'Acme'}]},"
		"{'id':'p2','purpose':'agent','userId':'" ALICE "','chats':[{'id':'ch2','state':'connected'}]}]}";
	gcmsg_identity *id = user(ALICE, all_perms, 3);
	gcmsg_route *r = decide(tp, id);

	(void)state;
	assert_refused(r, "chat.third-party", GCMSG_EROUTE);
	assert_non_null(strstr(gcmsg_route_explanation(r), "Acme"));
	assert_string_equal(gcmsg_participant_provider(gcmsg_conversation_participant(gcmsg_route_conversation(r), 0)), "Acme");
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void chat_third_party_from_chat_conversation(void **state)
{
	gcmsg_conversation *c = conv_from(
		"{'id':'c-tp2','participants':["
		"{'id':'p1','purpose':'external','chats':[{'id':'ch1','state':'connected'}]},"
		"{'id':'p2','purpose':'acd','chats':[{'id':'ch2','state':'connected'}]}]}");
	json_t *chatconv = json_loads("{\"id\":\"c-tp2\",\"participants\":[{\"id\":\"p1\",\"provider\":"
	                              "\"Acme Chat Provider\"},{\"id\":\"p2\"}]}",
	                              0, NULL);
	gcmsg_identity *id = client();
	gcmsg_route *r;

	(void)state;
	gcmsg__conversation_merge_chat(c, chatconv);
	json_decref(chatconv);
	assert_int_equal(gcmsg__route_decide(&r, c, id), GCMSG_OK);
	assert_refused(r, "chat.third-party", GCMSG_EROUTE);
	assert_non_null(strstr(gcmsg_route_explanation(r), "Acme Chat Provider"));
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void other_media_unsupported(void **state)
{
	static const char call[] =
		"{'id':'c-call','participants':["
		"{'id':'p1','purpose':'customer','calls':[{'id':'k1','state':'connected'}]}]}";
	gcmsg_identity *id = user(ALICE, all_perms, 3);
	gcmsg_route *r = decide(call, id);

	(void)state;
	assert_refused(r, "media.unsupported", GCMSG_EROUTE);
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

static void parse_rejects_non_conversations(void **state)
{
	gcmsg_conversation *c = (gcmsg_conversation *)1;
	char err[128];
	json_t *j;

	(void)state;
	j = json_loads("[1]", 0, NULL);
	assert_int_equal(gcmsg__conversation_parse(&c, j, err, sizeof(err)), GCMSG_EREMOTE);
	assert_null(c);
	json_decref(j);
	j = json_loads("{\"id\":\"x\"}", 0, NULL);
	assert_int_equal(gcmsg__conversation_parse(&c, j, err, sizeof(err)), GCMSG_EREMOTE);
	assert_non_null(strstr(err, "participants"));
	json_decref(j);
	j = json_loads("{\"id\":\"x\",\"participants\":[5]}", 0, NULL);
	assert_int_equal(gcmsg__conversation_parse(&c, j, err, sizeof(err)), GCMSG_EREMOTE);
	json_decref(j);
}

static void path_segments_are_escaped(void **state)
{
	static const char odd[] =
		"{'id':'c/../x?y','participants':["
		"{'id':'p2','purpose':'agent','userId':'" ALICE "','messages':[{'id':'m 2','state':'connected','type':'sms'}]}]}";
	gcmsg_identity *id = user(ALICE, all_perms, 3);
	gcmsg_route *r = decide(odd, id);

	(void)state;
	assert_string_equal(gcmsg_route_path(r),
	                    "/api/v2/conversations/messages/c%2F..%2Fx%3Fy/communications/m%202/messages");
	gcmsg_route_free(r);
	gcmsg__identity_free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(messaging_agent_last_connected_wins),
		cmocka_unit_test(messaging_agent_wildcard_permission),
		cmocka_unit_test(permission_missing_names_any_of),
		cmocka_unit_test(permission_matching),
		cmocka_unit_test(messaging_not_agent),
		cmocka_unit_test(messaging_agent_not_connected_is_not_agent),
		cmocka_unit_test(webmessaging_client_credentials),
		cmocka_unit_test(conversation_ended_by_end_time),
		cmocka_unit_test(conversation_ended_by_customer_state),
		cmocka_unit_test(agentless_for_client_credentials),
		cmocka_unit_test(agentless_plain_string_addresses_and_participant_address),
		cmocka_unit_test(agentless_without_addresses),
		cmocka_unit_test(sms_with_user_token_goes_agent),
		cmocka_unit_test(unsupported_platform),
		cmocka_unit_test(legacy_chat_with_warning),
		cmocka_unit_test(chat_not_agent),
		cmocka_unit_test(chat_third_party_in_conversation),
		cmocka_unit_test(chat_third_party_from_chat_conversation),
		cmocka_unit_test(other_media_unsupported),
		cmocka_unit_test(parse_rejects_non_conversations),
		cmocka_unit_test(path_segments_are_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
