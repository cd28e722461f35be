/* cmd_inspect.c - gcmsg inspect CONV: the conversation, the caller, and the route. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

static void inspect_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] inspect CONVERSATION_ID [--json]\n"
	      "\n"
	      "Read the conversation and your identity, and show the route 'gcmsg send' would take,\n"
	      "or the rule that refuses it with its explanation and fix. Sends nothing.\n"
	      "\n"
	      "  --json       print one JSON document (keys: conversation, caller, route)\n"
	      "  -h, --help   show this help\n",
	      f);
}

static json_t *participant_json(const gcmsg_participant *p)
{
	json_t *o = json_object(), *attrs = json_object();
	size_t i;

	if (!o || !attrs) {
		json_decref(o);
		json_decref(attrs);
		return NULL;
	}
	for (i = 0; i < gcmsg_participant_attribute_count(p); i++)
		json_object_set_new(attrs, gcmsg_participant_attribute_key(p, i),
		                    cli_jstr(gcmsg_participant_attribute_value(p, i)));
	json_object_set_new(o, "id", cli_jstr(gcmsg_participant_id(p)));
	json_object_set_new(o, "purpose", cli_jstr(gcmsg_participant_purpose(p)));
	json_object_set_new(o, "name", cli_jstr(gcmsg_participant_name(p)));
	json_object_set_new(o, "state", cli_jstr(gcmsg_participant_state(p)));
	json_object_set_new(o, "userId", cli_jstr(gcmsg_participant_user_id(p)));
	json_object_set_new(o, "queueId", cli_jstr(gcmsg_participant_queue_id(p)));
	json_object_set_new(o, "communicationId", cli_jstr(gcmsg_participant_communication_id(p)));
	json_object_set_new(o, "platform", cli_jstr(gcmsg_participant_platform(p)));
	json_object_set_new(o, "address", cli_jstr(gcmsg_participant_address(p)));
	json_object_set_new(o, "fromAddress", cli_jstr(gcmsg_participant_from_address(p)));
	json_object_set_new(o, "toAddress", cli_jstr(gcmsg_participant_to_address(p)));
	json_object_set_new(o, "provider", cli_jstr(gcmsg_participant_provider(p)));
	json_object_set_new(o, "attributes", attrs);
	return o;
}

json_t *cli_route_json(const gcmsg_route *r)
{
	json_t *o = json_object(), *warnings = json_array(), *missing = json_array();
	size_t i;

	if (!o || !warnings || !missing) {
		json_decref(o);
		json_decref(warnings);
		json_decref(missing);
		return NULL;
	}
	for (i = 0; i < gcmsg_route_warning_count(r); i++)
		json_array_append_new(warnings, json_pack("{s:s, s:s}", "id", gcmsg_route_warning_id(r, i),
		                                          "text", gcmsg_route_warning_text(r, i)));
	for (i = 0; i < gcmsg_route_missing_permission_count(r); i++)
		json_array_append_new(missing, json_string(gcmsg_route_missing_permission(r, i)));
	json_object_set_new(o, "kind", json_string(gcmsg_route_type_name(gcmsg_route_kind(r))));
	json_object_set_new(o, "rule", cli_jstr(gcmsg_route_rule(r)));
	json_object_set_new(o, "method", cli_jstr(gcmsg_route_method(r)));
	json_object_set_new(o, "path", cli_jstr(gcmsg_route_path(r)));
	json_object_set_new(o, "conversationId", cli_jstr(gcmsg_route_conversation_id(r)));
	json_object_set_new(o, "communicationId", cli_jstr(gcmsg_route_communication_id(r)));
	json_object_set_new(o, "fromAddress", cli_jstr(gcmsg_route_from_address(r)));
	json_object_set_new(o, "toAddress", cli_jstr(gcmsg_route_to_address(r)));
	json_object_set_new(o, "toAddressMessengerType", cli_jstr(gcmsg_route_messenger_type(r)));
	json_object_set_new(o, "warnings", warnings);
	json_object_set_new(o, "explanation", cli_jstr(gcmsg_route_explanation(r)));
	json_object_set_new(o, "fix", cli_jstr(gcmsg_route_fix(r)));
	json_object_set_new(o, "permissionMode", cli_jstr(gcmsg_route_permission_mode(r)));
	json_object_set_new(o, "missingPermissions", missing);
	return o;
}

static int inspect_json(const gcmsg_route *r)
{
	const gcmsg_conversation *c = gcmsg_route_conversation(r);
	const gcmsg_identity *id = gcmsg_route_identity(r);
	json_t *doc, *parts = json_array();
	size_t i;

	for (i = 0; parts && i < gcmsg_conversation_participant_count(c); i++)
		json_array_append_new(parts, participant_json(gcmsg_conversation_participant(c, i)));
	doc = json_pack("{s:{s:o, s:s, s:o, s:o, s:o, s:o, s:o}, "
	                "s:{s:s, s:o, s:o, s:o, s:o, s:o, s:o}, s:o}",
	                "conversation", "id", cli_jstr(gcmsg_conversation_id(c)), "media",
	                gcmsg_conversation_media_name(c), "platform", cli_jstr(gcmsg_conversation_platform(c)),
	                "state", cli_jstr(gcmsg_conversation_state(c)), "startTime",
	                cli_jstr(gcmsg_conversation_start_time(c)), "endTime",
	                cli_jstr(gcmsg_conversation_end_time(c)), "participants",
	                parts ? parts : json_array(),
	                "caller", "kind", gcmsg_identity_kind_name(id), "userId",
	                cli_jstr(gcmsg_identity_user_id(id)), "name", cli_jstr(gcmsg_identity_user_name(id)),
	                "clientId", cli_jstr(gcmsg_identity_client_id(id)), "clientName",
	                cli_jstr(gcmsg_identity_client_name(id)), "orgId", cli_jstr(gcmsg_identity_org_id(id)),
	                "orgName", cli_jstr(gcmsg_identity_org_name(id)),
	                "route", cli_route_json(r));
	return cli_print_json(doc);
}

static void inspect_text(const gcmsg_route *r)
{
	const gcmsg_conversation *c = gcmsg_route_conversation(r);
	const gcmsg_identity *id = gcmsg_route_identity(r);
	size_t i;

	printf("conversation  %s\n", dash(gcmsg_conversation_id(c)));
	printf("media         %s%s%s%s\n", gcmsg_conversation_media_name(c),
	       gcmsg_conversation_platform(c) ? " (" : "", gcmsg_conversation_platform(c) ? gcmsg_conversation_platform(c) : "",
	       gcmsg_conversation_platform(c) ? ")" : "");
	printf("state         %s%s%s\n", dash(gcmsg_conversation_state(c)),
	       gcmsg_conversation_end_time(c) ? ", ended " : "",
	       gcmsg_conversation_end_time(c) ? gcmsg_conversation_end_time(c) : "");
	printf("participants  %zu\n", gcmsg_conversation_participant_count(c));
	for (i = 0; i < gcmsg_conversation_participant_count(c); i++) {
		const gcmsg_participant *p = gcmsg_conversation_participant(c, i);
		printf("  %-9s %-22s %-12s user %-36s communication %s%s%s\n", dash(gcmsg_participant_purpose(p)),
		       dash(gcmsg_participant_name(p)), dash(gcmsg_participant_state(p)),
		       dash(gcmsg_participant_user_id(p)), dash(gcmsg_participant_communication_id(p)),
		       gcmsg_participant_provider(p) ? " provider " : "",
		       gcmsg_participant_provider(p) ? gcmsg_participant_provider(p) : "");
	}
	if (gcmsg_identity_kind(id) == GCMSG_CALLER_USER)
		printf("caller        user %s (%s)\n", dash(gcmsg_identity_user_id(id)),
		       dash(gcmsg_identity_user_name(id)));
	else
		printf("caller        %s %s (client credentials)\n", gcmsg_identity_kind_name(id),
		       dash(gcmsg_identity_client_id(id)));
	printf("route         %s (rule %s)\n", gcmsg_route_type_name(gcmsg_route_kind(r)),
	       dash(gcmsg_route_rule(r)));
	if (gcmsg_route_kind(r) != GCMSG_ROUTE_NONE) {
		printf("  request     %s %s\n", gcmsg_route_method(r), gcmsg_route_path(r));
		if (gcmsg_route_communication_id(r))
			printf("  communication %s\n", gcmsg_route_communication_id(r));
		if (gcmsg_route_kind(r) == GCMSG_ROUTE_AGENTLESS)
			printf("  addresses   from %s to %s (%s)\n", gcmsg_route_from_address(r),
			       gcmsg_route_to_address(r), gcmsg_route_messenger_type(r));
	}
	printf("  why         %s\n", dash(gcmsg_route_explanation(r)));
	if (gcmsg_route_fix(r))
		printf("  fix         %s\n", gcmsg_route_fix(r));
	for (i = 0; i < gcmsg_route_warning_count(r); i++)
		printf("  warning     %s: %s\n", gcmsg_route_warning_id(r, i), gcmsg_route_warning_text(r, i));
}

int cmd_inspect(int argc, char **argv, cli_ctx *ctx)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conv_id = NULL;
	gcmsg_client *client = NULL;
	gcmsg_route *route = NULL;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': ctx->json = 1; break;
		case 'h': inspect_usage(stdout); return CLI_EXIT_OK;
		case ':': return cli_bad_getopt("inspect", argv, 1);
		default: return cli_bad_getopt("inspect", argv, 0);
		}
	}
	if (optind >= argc)
		return cli_usage_error("inspect: missing CONVERSATION_ID");
	conv_id = argv[optind++];
	if (optind < argc)
		return cli_usage_error("inspect: unexpected argument '%s'", argv[optind]);
	if (!*conv_id)
		return cli_usage_error("inspect: the conversation id is empty");

	rc = cli_client_open(&client, ctx);
	if (rc)
		return rc;
	rc = gcmsg_route_resolve(&route, client, conv_id);
	if (rc < 0) {
		cli_print_error("inspect", gcmsg_client_last_error(client));
		gcmsg_client_free(client);
		return cli_exit_code(rc);
	}
	rc = CLI_EXIT_OK;
	if (ctx->json)
		rc = inspect_json(route);
	else if (!ctx->quiet)
		inspect_text(route);
	gcmsg_route_free(route);
	gcmsg_client_free(client);
	return rc;
}
