/* cmd_send.c - gcmsg send CONV --text T [--typing] [--delay MS] [--dry-run] [--json] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define MAX_DELAY_MS 600000UL /* 10 minutes */

static void send_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] send CONVERSATION_ID --text TEXT [--typing] [--delay MS]\n"
	      "                                  [--dry-run] [--json]\n"
	      "\n"
	      "Send TEXT into the conversation along the route 'gcmsg inspect' shows.\n"
	      "\n"
	      "  --text TEXT   the message text (UTF-8)\n"
	      "  --typing      show a typing indicator first (agent messaging and legacy chat)\n"
	      "  --delay MS    wait MS milliseconds before sending the text (0-600000)\n"
	      "  --dry-run     print the exact request(s), Authorization redacted; send nothing\n"
	      "  --json        print one JSON document\n"
	      "  -h, --help    show this help\n",
	      f);
}

static int print_dry_run_text(const gcmsg_send_result *res)
{
	size_t i, j;

	for (i = 0; i < gcmsg_send_result_request_count(res); i++) {
		if (i)
			putchar('\n');
		printf("%s %s\n", gcmsg_send_result_request_method(res, i), gcmsg_send_result_request_url(res, i));
		for (j = 0; j < gcmsg_send_result_request_header_count(res, i); j++)
			printf("%s\n", gcmsg_send_result_request_header(res, i, j));
		if (gcmsg_send_result_request_body(res, i))
			printf("\n%s\n", gcmsg_send_result_request_body(res, i));
	}
	return CLI_EXIT_OK;
}

static json_t *warnings_json(const gcmsg_send_result *res)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < gcmsg_send_result_warning_count(res); i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "id", gcmsg_send_result_warning_id(res, i),
		                                   "text", gcmsg_send_result_warning_text(res, i)));
	return a;
}

static int print_json(const gcmsg_route *route, const gcmsg_send_result *res)
{
	json_t *doc = json_object();
	size_t i, j;

	if (!doc)
		return cli_print_json(NULL);
	json_object_set_new(doc, "dryRun", json_boolean(gcmsg_send_result_dry_run(res)));
	json_object_set_new(doc, "messageId", cli_jstr(gcmsg_send_result_message_id(res)));
	json_object_set_new(doc, "route", json_string(gcmsg_route_type_name(gcmsg_route_kind(route))));
	json_object_set_new(doc, "rule", cli_jstr(gcmsg_route_rule(route)));
	json_object_set_new(doc, "conversationId", cli_jstr(gcmsg_route_conversation_id(route)));
	json_object_set_new(doc, "communicationId", cli_jstr(gcmsg_route_communication_id(route)));
	if (gcmsg_send_result_dry_run(res)) {
		json_t *reqs = json_array();
		for (i = 0; reqs && i < gcmsg_send_result_request_count(res); i++) {
			json_t *hdrs = json_array(), *body = NULL;
			const char *b = gcmsg_send_result_request_body(res, i);
			for (j = 0; hdrs && j < gcmsg_send_result_request_header_count(res, i); j++)
				json_array_append_new(hdrs, json_string(gcmsg_send_result_request_header(res, i, j)));
			if (b)
				body = json_loads(b, 0, NULL);
			json_array_append_new(reqs, json_pack("{s:s, s:s, s:o, s:o}", "method",
			                                      gcmsg_send_result_request_method(res, i), "url",
			                                      gcmsg_send_result_request_url(res, i), "headers",
			                                      hdrs ? hdrs : json_array(), "body",
			                                      body ? body : json_null()));
		}
		json_object_set_new(doc, "requests", reqs ? reqs : json_array());
	} else {
		json_object_set_new(doc, "httpStatus", json_integer(gcmsg_send_result_http_status(res)));
		json_object_set_new(doc, "correlationId", cli_jstr(gcmsg_send_result_correlation_id(res)));
	}
	json_object_set_new(doc, "warnings", warnings_json(res));
	return cli_print_json(doc);
}

int cmd_send(int argc, char **argv, cli_ctx *ctx)
{
	enum { O_TEXT = 256, O_TYPING, O_DELAY, O_DRY_RUN, O_JSON, O_LATER };
	static const struct option opts[] = {
		{ "text", required_argument, NULL, O_TEXT },
		{ "typing", no_argument, NULL, O_TYPING },
		{ "delay", required_argument, NULL, O_DELAY },
		{ "dry-run", no_argument, NULL, O_DRY_RUN },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		/* later issues: refused with a clear message for now */
		{ "idempotency-key", required_argument, NULL, O_LATER },
		{ "response", required_argument, NULL, O_LATER },
		{ "library", required_argument, NULL, O_LATER },
		{ "file", required_argument, NULL, O_LATER },
		{ "var", required_argument, NULL, O_LATER },
		{ NULL, 0, NULL, 0 },
	};
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_client *client = NULL;
	gcmsg_route *route = NULL;
	gcmsg_send_result *res = NULL;
	const char *conv_id, *text = NULL;
	unsigned long delay = 0;
	int c, rc, idx = 0;
	size_t i;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, &idx)) != -1) {
		switch (c) {
		case O_TEXT: text = optarg; break;
		case O_TYPING: so.typing = 1; break;
		case O_DELAY:
			if (cli_parse_uint(optarg, MAX_DELAY_MS, &delay) < 0)
				return cli_usage_error("send: --delay wants milliseconds from 0 to %lu, not '%s'",
				                       MAX_DELAY_MS, optarg);
			break;
		case O_DRY_RUN: so.dry_run = 1; break;
		case O_JSON: ctx->json = 1; break;
		case 'h': send_usage(stdout); return CLI_EXIT_OK;
		case O_LATER:
			return cli_usage_error("send: --%s is not yet supported", opts[idx].name);
		case ':': return cli_bad_option("send", argv[optind - 1], 1);
		default: return cli_bad_option("send", argv[optind - 1], 0);
		}
	}
	if (optind >= argc)
		return cli_usage_error("send: missing CONVERSATION_ID");
	conv_id = argv[optind++];
	if (optind < argc)
		return cli_usage_error("send: unexpected argument '%s'", argv[optind]);
	if (!*conv_id)
		return cli_usage_error("send: the conversation id is empty");
	if (!text)
		return cli_usage_error("send: --text TEXT is required");
	if (!*text)
		return cli_usage_error("send: --text is empty");
	so.text = text;
	so.delay_ms = (unsigned int)delay;

	rc = cli_client_open(&client, ctx);
	if (rc)
		return rc;
	rc = gcmsg_route_resolve(&route, client, conv_id);
	if (rc < 0) {
		cli_print_error("send", gcmsg_client_last_error(client));
		gcmsg_client_free(client);
		return cli_exit_code(rc);
	}
	rc = gcmsg_send(&res, client, route, &so);
	if (rc < 0) {
		cli_print_error("send", gcmsg_client_last_error(client));
		gcmsg_route_free(route);
		gcmsg_client_free(client);
		return cli_exit_code(rc);
	}
	for (i = 0; i < gcmsg_send_result_warning_count(res); i++)
		cli_warn(ctx, gcmsg_send_result_warning_id(res, i), gcmsg_send_result_warning_text(res, i));
	if (ctx->json)
		rc = print_json(route, res);
	else if (gcmsg_send_result_dry_run(res))
		rc = print_dry_run_text(res);
	else if (!ctx->quiet)
		printf("sent %s via %s to conversation %s\n",
		       gcmsg_send_result_message_id(res) ? gcmsg_send_result_message_id(res) : "(no id)",
		       gcmsg_route_type_name(gcmsg_route_kind(route)), gcmsg_route_conversation_id(route));
	if (gcmsg_send_result_dry_run(res) && !ctx->quiet)
		fputs("gcmsg: dry run: nothing was sent\n", stderr);
	gcmsg_send_result_free(res);
	gcmsg_route_free(route);
	gcmsg_client_free(client);
	return rc;
}
