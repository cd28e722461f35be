/*
 * cmd_validate.c - gcmsg validate (--text T | --response ID|NAME | --file F)
 *                  [--channel C] [--queue Q] [--conversation CONV] [--var ID=VALUE]...
 * Renders like send, then runs the content policy send would run, and prints
 * each violation or "ok". Nothing is sent; exit 5 on a violation.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void validate_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] validate\n"
	      "         (--text TEXT | --response ID|NAME [--library L] [--offline] | --file F [--response ID|NAME])\n"
	      "         [--channel C | --conversation CONV] [--queue Q] [--var ID=VALUE]... [--lang L]\n"
	      "         [--allow-missing] [--json]\n"
	      "\n"
	      "Check a text or a canned response against the content policy, as send would, and print\n"
	      "each violation (rule, byte and character span, message) or \"ok\". Nothing is sent.\n"
	      "Exit 5 when something would be refused.\n"
	      "\n"
	      "  --text TEXT          the text to check\n"
	      "  --response ID|NAME   a canned response (see 'gcmsg send --help' for --library, --offline, --file)\n"
	      "  --channel C          sms, webmessaging, whatsapp, open, facebook, instagram, apple, twitter, chat\n"
	      "  --conversation CONV  take the channel, queue, built-ins and attributes from this conversation\n"
	      "  --queue Q            a queue id, for the policy file's per-queue rules\n"
	      "  --var ID=VALUE       a placeholder value (repeatable)\n"
	      "  --json               print one JSON document\n"
	      "  -h, --help           show this help\n",
	      f);
}

static const char *const CHANNELS[] = { "sms", "webmessaging", "whatsapp", "open", "facebook",
	                                "instagram", "apple", "twitter", "chat" };

static int known_channel(const char *c)
{
	size_t i;

	for (i = 0; i < sizeof(CHANNELS) / sizeof(CHANNELS[0]); i++)
		if (strcmp(CHANNELS[i], c) == 0)
			return 1;
	return 0;
}

int cmd_validate(int argc, char **argv, cli_ctx *ctx)
{
	enum { O_TEXT = 256, O_CHANNEL, O_QUEUE, O_CONV, O_JSON };
	static const struct option opts[] = {
		{ "text", required_argument, NULL, O_TEXT },
		{ "response", required_argument, NULL, CLI_OPT_RESPONSE },
		CLI_SOURCE_OPTIONS,
		CLI_RENDER_OPTIONS,
		{ "channel", required_argument, NULL, O_CHANNEL },
		{ "queue", required_argument, NULL, O_QUEUE },
		{ "conversation", required_argument, NULL, O_CONV },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	gcmsg_render_options ro = GCMSG_RENDER_OPTIONS_INIT;
	const char *text = NULL, *channel = NULL, *queue = NULL, *conv_id = NULL;
	gcmsg_policy *policy = NULL;
	gcmsg_policy_result *pr = NULL;
	gcmsg_client *client = NULL;
	gcmsg_route *route = NULL;
	gcmsg_rendered *rd = NULL;
	cli_canned_loaded loaded;
	cli_canned cn;
	int c, rc, allow;

	memset(&cn, 0, sizeof(cn));
	memset(&loaded, 0, sizeof(loaded));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_TEXT: text = optarg; break;
		case O_CHANNEL: channel = optarg; break;
		case O_QUEUE: queue = optarg; break;
		case O_CONV: conv_id = optarg; break;
		case O_JSON: ctx->json = 1; break;
		case 'h': validate_usage(stdout); return CLI_EXIT_OK;
		case ':': return cli_bad_getopt("validate", argv, 1);
		case '?': return cli_bad_getopt("validate", argv, 0);
		default:
			rc = cli_canned_option(&cn, "validate", c, optarg);
			if (rc)
				return rc < 0 ? cli_bad_getopt("validate", argv, 0) : rc;
		}
	}
	if (optind < argc)
		return cli_usage_error("validate: unexpected argument '%s'", argv[optind]);
	if (!text && !cn.response && !cn.file)
		return cli_usage_error("validate: give the message: --text TEXT, --response ID|NAME or --file F");
	if (text && (cn.response || cn.file || cn.offline || cn.library || cn.lang))
		return cli_usage_error("validate: --text cannot be combined with --response, --file, --offline, "
		                       "--library or --lang");
	if (channel && conv_id)
		return cli_usage_error("validate: --channel and --conversation are exclusive (the conversation "
		                       "gives the channel)");
	if (channel && !known_channel(channel))
		return cli_usage_error("validate: unknown channel '%s' (sms, webmessaging, whatsapp, open, facebook, "
		                       "instagram, apple, twitter, chat)",
		                       channel);
	if ((conv_id && !*conv_id) || (queue && !*queue) || (text && !*text))
		return cli_usage_error("validate: an option's value is empty");
	rc = cli_canned_check(&cn, "validate");
	if (rc)
		return rc;

	rc = cli_policy_open(&policy, ctx);
	if (rc)
		return rc;
	if (conv_id || (!text && !cn.file && !cn.offline)) {
		rc = cli_client_open(&client, ctx);
		if (rc)
			goto out;
	}
	if (!text) {
		rc = cli_canned_load(&loaded, &cn, client, ctx, "validate");
		if (rc)
			goto out;
	}
	if (conv_id) {
		rc = gcmsg_route_resolve(&route, client, conv_id);
		if (rc < 0) {
			cli_print_error("validate", gcmsg_client_last_error(client));
			rc = cli_exit_code(rc);
			goto out;
		}
		channel = gcmsg_route_channel(route);
		if (!queue)
			queue = gcmsg_route_queue_id(route);
	}
	cli_canned_render_options(&ro, &cn, route ? gcmsg_route_conversation(route) : NULL,
	                          route ? gcmsg_route_identity(route) : NULL);
	rc = text ? gcmsg_render_text(&rd, text, NULL, &ro) : gcmsg_render(&rd, loaded.response, &ro);
	if (rc < 0) {
		rc = cli_render_failed("validate", rd, rc);
		goto out;
	}
	allow = cn.allow_missing;
	rc = cli_check_text(&pr, "validate", policy, gcmsg_rendered_text(rd), channel, queue, allow);
	if (rc != GCMSG_OK && rc != GCMSG_EPOLICY) {
		rc = cli_exit_code(rc);
		goto out;
	}
	if (ctx->json) {
		json_t *doc = cli_policy_json(pr);
		if (doc && loaded.response)
			json_object_set_new(doc, "response", cli_response_json(loaded.response, 0));
		if (doc)
			json_object_set_new(doc, "rendering", cli_rendered_json(rd, 0));
		if (cli_print_json(doc) != CLI_EXIT_OK) {
			rc = CLI_EXIT_INTERNAL;
			goto out;
		}
	} else {
		cli_policy_notes(ctx, pr);
		if (gcmsg_policy_result_violation_count(pr))
			cli_print_violations(stdout, NULL, pr);
		else
			puts("ok");
		if (!ctx->quiet)
			cli_print_text_stats(stdout, pr);
	}
	rc = gcmsg_policy_result_violation_count(pr) ? CLI_EXIT_POLICY : CLI_EXIT_OK;
out:
	gcmsg_policy_result_free(pr);
	gcmsg_rendered_free(rd);
	gcmsg_route_free(route);
	cli_canned_loaded_free(&loaded);
	gcmsg_client_free(client);
	gcmsg_policy_free(policy);
	return rc;
}
