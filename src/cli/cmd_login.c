/*
 * cmd_login.c - gcmsg login [--client-id ID] [--port N] [--no-browser]
 * [--timeout S] [--json] and gcmsg logout [--json]: a user login (authorization
 * code with PKCE through a loopback redirect) saved in the profile's token
 * cache, <store dir>/tokens/<profile>.json, which every other command then
 * uses when no other credentials are configured; and its revocation. Never
 * prints a token or a code.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

char *cli_token_cache_path(const gcmsg_config *cfg, const cli_ctx *ctx)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *profile = ctx->profile && *ctx->profile ? ctx->profile : "DEFAULT";
	char *store = gcmsg_config_store_dir(cfg), *name, *o, *path;
	size_t n = strlen(profile);
	const char *p;

	if (!store)
		return NULL;
	/* the profile as a file name: [A-Za-z0-9._-] kept (no leading dot), anything else %XX */
	name = malloc(n * 3 + 1);
	if (!name) {
		gcmsg_free(store);
		return NULL;
	}
	for (o = name, p = profile; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		    c == '-' || (c == '.' && p != profile)) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	n = strlen(store) + strlen(name) + sizeof("/tokens/.json");
	path = malloc(n);
	if (path)
		snprintf(path, n, "%s/tokens/%s.json", store, name);
	free(name);
	gcmsg_free(store);
	return path;
}

static void log_line(const char *line, void *payload)
{
	(void)payload;
	fprintf(stderr, "gcmsg: %s\n", line);
}

/* ---- login ---- */

static void login_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] login [--client-id ID] [--port N] [--no-browser] [--timeout S] [--json]\n"
	      "\n"
	      "Log in as a user in a browser (OAuth authorization code with PKCE through a\n"
	      "redirect to 127.0.0.1) and save the token in the profile's token cache; other\n"
	      "commands use it when no other credentials are configured. Never prints a token.\n"
	      "\n"
	      "  --client-id ID  OAuth client with the code grant (default: the configured client id)\n"
	      "  --port N        loopback port of the redirect (default: any free port)\n"
	      "  --no-browser    only print the URL to open; do not start a browser\n"
	      "  --timeout S     seconds to wait for the browser (default 300)\n"
	      "  --json          print one JSON document\n"
	      "  -h, --help      show this help\n",
	      f);
}

typedef struct url_ctx {
	int no_browser, quiet;
	pid_t browser;
} url_ctx;

static void show_url(const char *url, void *payload)
{
	url_ctx *u = payload;
	posix_spawn_file_actions_t fa;
	char *argv[3];
	int rc;

	fprintf(stderr, "gcmsg: to log in, open this URL in a browser on this machine:\n%s\n", url);
	fflush(stderr);
	if (u->no_browser)
		return;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	argv[0] = "xdg-open";
	argv[1] = (char *)url;
	argv[2] = NULL;
	rc = posix_spawnp(&u->browser, "xdg-open", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		u->browser = 0;
		if (!u->quiet)
			fprintf(stderr, "gcmsg: warning: browser: cannot start xdg-open (%s); open the URL yourself\n",
			        strerror(rc));
	}
}

static int print_login(const cli_ctx *ctx, const gcmsg_identity *id, const char *client_id, const char *cache)
{
	if (ctx->json) {
		json_t *doc = json_object();
		if (!doc)
			return cli_print_json(NULL);
		json_object_set_new(doc, "loggedIn", json_true());
		json_object_set_new(doc, "kind", json_string(gcmsg_identity_kind_name(id)));
		json_object_set_new(doc, "userId", cli_jstr(gcmsg_identity_user_id(id)));
		json_object_set_new(doc, "userName", cli_jstr(gcmsg_identity_user_name(id)));
		json_object_set_new(doc, "orgId", cli_jstr(gcmsg_identity_org_id(id)));
		json_object_set_new(doc, "orgName", cli_jstr(gcmsg_identity_org_name(id)));
		json_object_set_new(doc, "clientId", cli_jstr(client_id));
		json_object_set_new(doc, "tokenCache", cli_jstr(cache));
		return cli_print_json(doc);
	}
	if (ctx->quiet)
		return CLI_EXIT_OK;
	printf("Logged in as %s", gcmsg_identity_user_name(id) ? gcmsg_identity_user_name(id) : "?");
	if (gcmsg_identity_user_id(id))
		printf(" (%s)", gcmsg_identity_user_id(id));
	if (gcmsg_identity_org_name(id) || gcmsg_identity_org_id(id))
		printf(" in %s", gcmsg_identity_org_name(id) ? gcmsg_identity_org_name(id) : gcmsg_identity_org_id(id));
	printf(" with OAuth client %s.\n", client_id);
	if (cache)
		printf("The login is saved in %s.\n", cache);
	return CLI_EXIT_OK;
}

int cmd_login(int argc, char **argv, cli_ctx *ctx)
{
	enum { O_CLIENT_ID = 256, O_PORT, O_NO_BROWSER, O_TIMEOUT, O_JSON };
	static const struct option opts[] = {
		{ "client-id", required_argument, NULL, O_CLIENT_ID },
		{ "port", required_argument, NULL, O_PORT },
		{ "no-browser", no_argument, NULL, O_NO_BROWSER },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	gcmsg_client_options copts = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_login_options lopts = GCMSG_LOGIN_OPTIONS_INIT;
	const gcmsg_identity *id = NULL;
	gcmsg_client *client = NULL;
	gcmsg_config *cfg = NULL;
	const char *client_id = NULL, *cfg_id;
	unsigned long port = 0, timeout = 300;
	url_ctx u = { 0, 0, 0 };
	char *cache = NULL;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_CLIENT_ID: client_id = optarg; break;
		case O_PORT:
			if (cli_parse_uint(optarg, 65535, &port) < 0)
				return cli_usage_error("login: --port takes a number from 0 to 65535");
			break;
		case O_NO_BROWSER: u.no_browser = 1; break;
		case O_TIMEOUT:
			if (cli_parse_uint(optarg, 86400, &timeout) < 0 || timeout == 0)
				return cli_usage_error("login: --timeout takes seconds from 1 to 86400");
			break;
		case O_JSON: ctx->json = 1; break;
		case 'h': login_usage(stdout); return CLI_EXIT_OK;
		case ':': return cli_bad_getopt("login", argv, 1);
		default: return cli_bad_getopt("login", argv, 0);
		}
	}
	if (optind < argc)
		return cli_usage_error("login: unexpected argument '%s'", argv[optind]);
	rc = cli_config_open(&cfg, ctx);
	if (rc)
		return rc;
	gcmsg_config_apply(cfg, &copts);
	cfg_id = copts.client_id;
	if (!client_id)
		client_id = cfg_id;
	/* the configured secret belongs to the configured client only */
	lopts.client_secret = cfg_id && client_id && strcmp(cfg_id, client_id) == 0 ? copts.client_secret : NULL;
	lopts.client_id = client_id;
	lopts.port = (int)port;
	lopts.timeout_ms = (long)timeout * 1000;
	lopts.on_url = show_url;
	lopts.payload = &u;
	u.quiet = ctx->quiet;
	cache = cli_token_cache_path(cfg, ctx);
	if (!cache) {
		gcmsg_config_free(cfg);
		return cli_usage_error("login: no store directory for the token cache: give --store DIR (or set GCMSG_STORE or HOME)");
	}
	copts.token_cache = cache;
	if (ctx->verbose)
		copts.log = log_line;
	if (copts.access_token && *copts.access_token)
		cli_warn(ctx, "login.shadowed",
		         "an access token is configured (--access-token, GENESYSCLOUD_ACCESS_TOKEN or the profile): "
		         "other commands use it before this login");
	else if (cfg_id && client_id && strcmp(cfg_id, client_id) != 0 && copts.client_secret && *copts.client_secret)
		cli_warn(ctx, "login.shadowed",
		         "client credentials of another OAuth client are configured: other commands use them before "
		         "this login");
	rc = gcmsg_login(&client, &copts, &lopts);
	if (u.browser > 0)
		(void)waitpid(u.browser, NULL, WNOHANG);
	if (rc < 0) {
		if (client)
			cli_print_error("login", gcmsg_client_last_error(client));
		else
			fputs("gcmsg: login: out of memory\n", stderr);
		gcmsg_client_free(client);
		gcmsg_config_free(cfg);
		free(cache);
		return cli_exit_code(rc);
	}
	rc = gcmsg_client_whoami(&id, client);
	if (rc < 0) {
		cli_print_error("login (saved, but whoami failed)", gcmsg_client_last_error(client));
		rc = cli_exit_code(rc);
	} else {
		rc = print_login(ctx, id, client_id, cache);
	}
	gcmsg_client_free(client);
	gcmsg_config_free(cfg); /* client_id may be borrowed from it */
	free(cache);
	return rc;
}

/* ---- logout ---- */

static void logout_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] logout [--json]\n"
	      "\n"
	      "Revoke the token saved in the profile's token cache (DELETE /api/v2/tokens/me)\n"
	      "and remove the file. Not being logged in is not an error.\n"
	      "\n"
	      "  --json       print one JSON document\n"
	      "  -h, --help   show this help\n",
	      f);
}

int cmd_logout(int argc, char **argv, cli_ctx *ctx)
{
	enum { O_JSON = 256 };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	gcmsg_client_options copts = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_logout_outcome outcome = GCMSG_LOGOUT_NOT_LOGGED_IN;
	gcmsg_client *client = NULL;
	gcmsg_config *cfg = NULL;
	char *cache;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_JSON: ctx->json = 1; break;
		case 'h': logout_usage(stdout); return CLI_EXIT_OK;
		case ':': return cli_bad_getopt("logout", argv, 1);
		default: return cli_bad_getopt("logout", argv, 0);
		}
	}
	if (optind < argc)
		return cli_usage_error("logout: unexpected argument '%s'", argv[optind]);
	rc = cli_config_open(&cfg, ctx);
	if (rc)
		return rc;
	gcmsg_config_apply(cfg, &copts);
	copts.access_token = NULL; /* logout is about the cache only */
	cache = cli_token_cache_path(cfg, ctx);
	if (!cache) {
		gcmsg_config_free(cfg);
		return cli_usage_error("logout: no store directory for the token cache: give --store DIR (or set GCMSG_STORE or HOME)");
	}
	copts.token_cache = cache;
	if (ctx->verbose)
		copts.log = log_line;
	rc = gcmsg_logout(&client, &copts, &outcome);
	gcmsg_config_free(cfg);
	if (rc < 0) {
		if (client)
			cli_print_error("logout", gcmsg_client_last_error(client));
		else
			fputs("gcmsg: logout: out of memory\n", stderr);
		gcmsg_client_free(client);
		free(cache);
		return cli_exit_code(rc);
	}
	gcmsg_client_free(client);
	if (ctx->json) {
		json_t *doc = json_object();
		if (doc) {
			json_object_set_new(doc, "loggedOut", json_boolean(outcome != GCMSG_LOGOUT_NOT_LOGGED_IN));
			json_object_set_new(doc, "outcome",
			                    json_string(outcome == GCMSG_LOGOUT_REVOKED ? "revoked"
			                                : outcome == GCMSG_LOGOUT_ALREADY_INVALID ? "already-invalid"
			                                                                          : "not-logged-in"));
			json_object_set_new(doc, "tokenCache", json_string(cache));
		}
		rc = cli_print_json(doc);
	} else if (!ctx->quiet) {
		if (outcome == GCMSG_LOGOUT_REVOKED)
			printf("Logged out: the token was revoked and %s removed.\n", cache);
		else if (outcome == GCMSG_LOGOUT_ALREADY_INVALID)
			printf("Logged out: the token was no longer valid; %s removed.\n", cache);
		else
			printf("Not logged in: there is no %s.\n", cache);
		rc = CLI_EXIT_OK;
	}
	free(cache);
	return rc;
}
