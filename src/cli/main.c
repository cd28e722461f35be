/* main.c - gcmsg: global options, then a subcommand from the table. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_cmd commands[] = {
	{ "inspect", cmd_inspect, "show a conversation, who you are, and the route send would take" },
	{ "send", cmd_send, "send a text or a canned response into a conversation along its route" },
	{ "bulk", cmd_bulk, "send one message per row of a CSV or JSON Lines file, concurrently" },
	{ "responses", cmd_responses, "list, search, show, render and sync canned responses" },
	{ "validate", cmd_validate, "check a text or a canned response against the content policy" },
	{ "whoami", cmd_whoami, "show who the configured credentials are, and what they may do" },
	{ "login", cmd_login, "log in as a user in a browser; later commands use the saved login" },
	{ "logout", cmd_logout, "revoke the saved login and remove its token cache" },
	{ "outbox", cmd_outbox, "list, resend or drop the sends recorded in the durable outbox" },
	{ "audit", cmd_audit, "show or export the audit log of every send attempt and outcome" },
	{ "stats", cmd_stats, "delivery figures: sent, failed, retried, throttled, latency" },
	{ "webhooks", cmd_webhooks, "list the queued webhook events, or deliver the due ones" },
};

/* "inspect, send, ...": the table's names, for usage errors. */
static const char *command_names(void)
{
	static char names[256];
	size_t i, n = 0;

	if (names[0])
		return names;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		int w = snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "", commands[i].name);
		if (w < 0 || (size_t)w >= sizeof(names) - n)
			break;
		n += (size_t)w;
	}
	return names;
}

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: gcmsg [global options] <command> [command options]\n"
	      "\n"
	      "Send text into live Genesys Cloud conversations through the right endpoint.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Global options:\n"
	      "  --profile NAME        profile of ~/.gcmsg/config.toml (default: DEFAULT)\n"
	      "  --region REGION       region key (eu-central-1, eu_central_1) or domain (mypurecloud.de)\n"
	      "  --api-url URL         API base URL (overrides the region; e.g. a local gcsim)\n"
	      "  --login-url URL       login base URL (overrides the region)\n"
	      "  --client-id ID        OAuth client id (client-credentials grant)\n"
	      "  --client-secret S     OAuth client secret\n"
	      "  --access-token T      a user (or other) access token; cannot be renewed\n"
	      "  --cacert FILE         CA bundle for TLS verification (always on)\n"
	      "  --store DIR           offline store of synced responses (default ~/.gcmsg/store)\n"
	      "  --policy FILE         content policy file (default: the built-in rules)\n"
	      "  --json                print one JSON document\n"
	      "  -v, --verbose         log each request line to stderr (no secrets, no text)\n"
	      "  -q, --quiet           print no warnings and no success output\n"
	      "  -h, --help            show this help\n"
	      "  --version             show the version\n"
	      "\n"
	      "Environment: GENESYSCLOUD_REGION, GENESYSCLOUD_OAUTHCLIENT_ID,\n"
	      "GENESYSCLOUD_OAUTHCLIENT_SECRET, GENESYSCLOUD_ACCESS_TOKEN, GCMSG_API_URL,\n"
	      "GCMSG_LOGIN_URL, GCMSG_STORE, GCMSG_POLICY, GCMSG_CONFIG.\n"
	      "Precedence: flags > environment > profile.\n"
	      "\n"
	      "Exit codes: 0 ok, 1 internal, 2 usage, 3 configuration/authentication/permission,\n"
	      "4 not found, 5 content policy, 6 conversation cannot receive it, 7 throttled,\n"
	      "8 remote or network failure, 9 bulk finished with some rows failed.\n"
	      "\n"
	      "Run 'gcmsg <command> --help' for a command's options; see gcmsg(1).\n",
	      f);
}

enum {
	OPT_PROFILE = 256,
	OPT_REGION,
	OPT_API_URL,
	OPT_LOGIN_URL,
	OPT_CLIENT_ID,
	OPT_CLIENT_SECRET,
	OPT_ACCESS_TOKEN,
	OPT_CACERT,
	OPT_STORE,
	OPT_POLICY,
	OPT_JSON,
	OPT_VERSION
};

static const struct option global_opts[] = {
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "api-url", required_argument, NULL, OPT_API_URL },
	{ "login-url", required_argument, NULL, OPT_LOGIN_URL },
	{ "client-id", required_argument, NULL, OPT_CLIENT_ID },
	{ "client-secret", required_argument, NULL, OPT_CLIENT_SECRET },
	{ "access-token", required_argument, NULL, OPT_ACCESS_TOKEN },
	{ "cacert", required_argument, NULL, OPT_CACERT },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/*
 * Take a secret out of argv: keep a private copy and blank the original, so
 * that /proc/PID/cmdline (ps) no longer shows it once gcmsg has started. The
 * window before this runs remains: prefer the environment or a 0600 profile.
 */
static char *take_secret(char *arg, char **slot)
{
	size_t n = strlen(arg);
	char *copy = malloc(n + 1);

	if (copy) {
		memcpy(copy, arg, n + 1);
		memset(arg, 'x', n);
	}
	if (*slot) {
		memset(*slot, 0, strlen(*slot));
		free(*slot);
	}
	*slot = copy;
	return copy;
}

static void drop_secret(char *s)
{
	if (s) {
		volatile char *v = s;
		while (*v)
			*v++ = 0;
	}
	free(s);
}

/* The option word that getopt stopped on, for error messages. */
static const char *offending(int argc, char **argv)
{
	int i = optind - 1;

	if (i < 1 || i >= argc)
		return "?";
	return argv[i];
}

static int run(int argc, char **argv, char **secret_out, char **token_out)
{
	cli_ctx ctx;
	char **secret = secret_out, **token = token_out;
	int c, rc;
	size_t i;

	memset(&ctx, 0, sizeof(ctx));
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:vqh", global_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PROFILE: ctx.profile = optarg; break;
		case OPT_REGION: ctx.region = optarg; break;
		case OPT_API_URL: ctx.api_url = optarg; break;
		case OPT_LOGIN_URL: ctx.login_url = optarg; break;
		case OPT_CLIENT_ID: ctx.client_id = optarg; break;
		case OPT_CLIENT_SECRET: ctx.client_secret = take_secret(optarg, secret); break;
		case OPT_ACCESS_TOKEN: ctx.access_token = take_secret(optarg, token); break;
		case OPT_CACERT: ctx.cacert = optarg; break;
		case OPT_STORE: ctx.store = optarg; break;
		case OPT_POLICY: ctx.policy = optarg; break;
		case OPT_JSON: ctx.json = 1; break;
		case 'v': ctx.verbose = 1; break;
		case 'q': ctx.quiet = 1; break;
		case 'h': usage(stdout); return CLI_EXIT_OK;
		case OPT_VERSION: printf("gcmsg %s\n", gcmsg_version()); return CLI_EXIT_OK;
		case ':': return cli_bad_option(NULL, offending(argc, argv), 1);
		default:
			if (optopt && optopt < 256) {
				char word[3] = { '-', (char)optopt, '\0' };
				return cli_bad_option(NULL, word, 0);
			}
			return cli_bad_option(NULL, offending(argc, argv), 0);
		}
	}
	if (optind >= argc)
		return cli_usage_error("no command given (commands: %s)", command_names());
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			optind = 0; /* full re-initialisation of getopt for the subcommand */
			if (gcmsg_global_init() < 0) {
				fputs("gcmsg: cannot initialise libcurl\n", stderr);
				return CLI_EXIT_INTERNAL;
			}
			rc = commands[i].fn(sub_argc, sub_argv, &ctx);
			gcmsg_global_cleanup();
			if (fflush(stdout) != 0 || ferror(stdout)) {
				/* the answer is lost: say so (a send may still have happened: its outcome is in the audit log) */
				fprintf(stderr, "gcmsg: %s: writing the output failed: %s\n", commands[i].name,
				        strerror(errno ? errno : EIO));
				return rc ? rc : CLI_EXIT_INTERNAL;
			}
			return rc;
		}
	}
	return cli_usage_error("unknown command '%s' (commands: %s)", argv[optind], command_names());
}

int main(int argc, char **argv)
{
	char *secret = NULL, *token = NULL;
	int rc = run(argc, argv, &secret, &token);

	drop_secret(secret);
	drop_secret(token);
	return rc;
}
