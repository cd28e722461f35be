/*
 * cmd_send.c - gcmsg send CONV (--text T | --response ID|NAME [--library L] | --file F)
 *              [--var K=V]... [--lang L] [--allow-missing] [--typing] [--delay MS]
 *              [--dry-run] [--json]
 * The route is resolved first: the conversation and the caller it reads give
 * the built-in values and the customer's attributes to the renderer.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define MAX_DELAY_MS 600000UL /* 10 minutes */

static void send_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] send CONVERSATION_ID\n"
	      "         (--text TEXT | --response ID|NAME [--library L] [--offline] | --file F [--response ID|NAME])\n"
	      "         [--var ID=VALUE]... [--lang L] [--allow-missing] [--typing] [--delay MS] [--dry-run] [--json]\n"
	      "\n"
	      "Send a text or a canned response into the conversation along the route 'gcmsg inspect'\n"
	      "shows. {{ID}} placeholders are filled from --var, the built-ins AGENT_NAME, AGENT_ALIAS and\n"
	      "CUSTOMER_NAME, the customer's attributes, then the response's defaults; any left unfilled\n"
	      "refuses the send (exit 5) unless --allow-missing.\n"
	      "\n"
	      "  --text TEXT          the message text (UTF-8)\n"
	      "  --response ID|NAME   a Response Management response, by id or by name\n"
	      "  --library L          the library (id or name) to look the name up in\n"
	      "  --offline            take the response from the store ('gcmsg responses sync')\n"
	      "  --file F             take the response from a library file (gcmsg-library(5))\n"
	      "  --var ID=VALUE       a placeholder value (repeatable; wins over every other source)\n"
	      "  --lang L             the language variant of a library-file response\n"
	      "  --allow-missing      leave unresolved placeholders in place, as Genesys does\n"
	      "  --typing             show a typing indicator first (agent messaging and legacy chat)\n"
	      "  --delay MS           wait MS milliseconds before sending the text (0-600000)\n"
	      "  --dry-run            print the rendered text and the exact request(s); send nothing\n"
	      "  --json               print one JSON document\n"
	      "  -h, --help           show this help\n",
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

static int print_json(const gcmsg_route *route, const gcmsg_send_result *res, const gcmsg_response *resp,
                      const gcmsg_rendered *rd)
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
	if (resp)
		json_object_set_new(doc, "response", cli_response_json(resp, 0));
	if (rd)
		json_object_set_new(doc, "rendering", cli_rendered_json(rd, gcmsg_send_result_dry_run(res)));
	json_object_set_new(doc, "warnings", warnings_json(res));
	return cli_print_json(doc);
}

static void print_rendered(const gcmsg_response *resp, const gcmsg_rendered *rd)
{
	if (resp) {
		printf("response: %s", gcmsg_response_name(resp) ? gcmsg_response_name(resp) : gcmsg_response_id(resp));
		if (gcmsg_response_version(resp) >= 0)
			printf(" (version %ld", gcmsg_response_version(resp));
		else
			printf(" (");
		printf("%s%s, %s)\n", gcmsg_response_version(resp) >= 0 ? ", " : "", gcmsg_response_id(resp),
		       gcmsg_response_origin_name(resp));
	}
	cli_print_placeholders(stdout, rd);
	printf("text:\n%s\n\n", gcmsg_rendered_text(rd));
}

int cmd_send(int argc, char **argv, cli_ctx *ctx)
{
	enum { O_TEXT = 256, O_TYPING, O_DELAY, O_DRY_RUN, O_JSON, O_LATER };
	static const struct option opts[] = {
		{ "text", required_argument, NULL, O_TEXT },
		{ "response", required_argument, NULL, CLI_OPT_RESPONSE },
		CLI_SOURCE_OPTIONS,
		CLI_RENDER_OPTIONS,
		{ "typing", no_argument, NULL, O_TYPING },
		{ "delay", required_argument, NULL, O_DELAY },
		{ "dry-run", no_argument, NULL, O_DRY_RUN },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		/* later issues: refused with a clear message for now */
		{ "idempotency-key", required_argument, NULL, O_LATER },
		{ NULL, 0, NULL, 0 },
	};
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_render_options ro = GCMSG_RENDER_OPTIONS_INIT;
	cli_canned cn;
	cli_canned_loaded loaded;
	gcmsg_client *client = NULL;
	gcmsg_route *route = NULL;
	gcmsg_send_result *res = NULL;
	gcmsg_rendered *rd = NULL;
	const char *conv_id, *text = NULL;
	unsigned long delay = 0;
	int c, rc, idx = 0;
	size_t i;

	memset(&cn, 0, sizeof(cn));
	memset(&loaded, 0, sizeof(loaded));
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
		case '?': return cli_bad_option("send", argv[optind - 1], 0);
		default:
			rc = cli_canned_option(&cn, "send", c, optarg);
			if (rc)
				return rc < 0 ? cli_bad_option("send", argv[optind - 1], 0) : rc;
		}
	}
	if (optind >= argc)
		return cli_usage_error("send: missing CONVERSATION_ID");
	conv_id = argv[optind++];
	if (optind < argc)
		return cli_usage_error("send: unexpected argument '%s'", argv[optind]);
	if (!*conv_id)
		return cli_usage_error("send: the conversation id is empty");
	if (!text && !cn.response && !cn.file)
		return cli_usage_error("send: give the message: --text TEXT, --response ID|NAME or --file F");
	if (text && (cn.response || cn.file || cn.offline || cn.library || cn.lang))
		return cli_usage_error("send: --text cannot be combined with --response, --file, --offline, "
		                       "--library or --lang");
	if (text && !*text)
		return cli_usage_error("send: --text is empty");
	rc = cli_canned_check(&cn, "send");
	if (rc)
		return rc;
	so.delay_ms = (unsigned int)delay;

	rc = cli_client_open(&client, ctx);
	if (rc)
		return rc;
	if (!text) {
		/* find the response before touching the conversation: a typo fails fast */
		rc = cli_canned_load(&loaded, &cn, client, ctx, "send");
		if (rc)
			goto out;
	}
	rc = gcmsg_route_resolve(&route, client, conv_id);
	if (rc < 0) {
		cli_print_error("send", gcmsg_client_last_error(client));
		rc = cli_exit_code(rc);
		goto out;
	}
	cli_canned_render_options(&ro, &cn, gcmsg_route_conversation(route), gcmsg_route_identity(route));
	rc = text ? gcmsg_render_text(&rd, text, NULL, &ro) : gcmsg_render(&rd, loaded.response, &ro);
	if (rc < 0) {
		rc = cli_render_failed("send", rd, rc);
		goto out;
	}
	cli_render_warnings(ctx, rd);
	so.rendered = rd;
	rc = gcmsg_send(&res, client, route, &so);
	if (rc < 0) {
		cli_print_error("send", gcmsg_client_last_error(client));
		rc = cli_exit_code(rc);
		goto out;
	}
	for (i = 0; i < gcmsg_send_result_warning_count(res); i++)
		cli_warn(ctx, gcmsg_send_result_warning_id(res, i), gcmsg_send_result_warning_text(res, i));
	if (ctx->json) {
		rc = print_json(route, res, loaded.response, rd);
	} else if (gcmsg_send_result_dry_run(res)) {
		print_rendered(loaded.response, rd);
		rc = print_dry_run_text(res);
	} else {
		rc = CLI_EXIT_OK;
		if (!ctx->quiet) {
			printf("sent %s via %s to conversation %s",
			       gcmsg_send_result_message_id(res) ? gcmsg_send_result_message_id(res) : "(no id)",
			       gcmsg_route_type_name(gcmsg_route_kind(route)), gcmsg_route_conversation_id(route));
			if (loaded.response)
				printf(" (response '%s'%s)", gcmsg_response_name(loaded.response),
				       gcmsg_rendered_is_template(rd) ? " as a messaging template" : "");
			putchar('\n');
		}
	}
	if (gcmsg_send_result_dry_run(res) && !ctx->quiet) {
		fflush(stdout); /* keep the note after the output it refers to on a terminal */
		fputs("gcmsg: dry run: nothing was sent\n", stderr);
	}
out:
	gcmsg_send_result_free(res);
	gcmsg_rendered_free(rd);
	gcmsg_route_free(route);
	cli_canned_loaded_free(&loaded);
	gcmsg_client_free(client);
	return rc;
}
