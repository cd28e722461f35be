/* output.c - errors, warnings, JSON printing and client set-up for the commands. */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_exit_code(int code)
{
	switch (code) {
	case GCMSG_OK: return CLI_EXIT_OK;
	case GCMSG_EUSAGE: return CLI_EXIT_USAGE;
	case GCMSG_ECONFIG:
	case GCMSG_EAUTH:
	case GCMSG_EPERM: return CLI_EXIT_CONFIG;
	case GCMSG_ENOTFOUND: return CLI_EXIT_NOTFOUND;
	case GCMSG_EPOLICY: return CLI_EXIT_POLICY;
	case GCMSG_EROUTE: return CLI_EXIT_ROUTE;
	case GCMSG_ERATELIMIT: return CLI_EXIT_THROTTLED;
	case GCMSG_EREMOTE: return CLI_EXIT_REMOTE;
	default: return CLI_EXIT_INTERNAL;
	}
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("gcmsg: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see gcmsg --help)\n", stderr);
	return CLI_EXIT_USAGE;
}

int cli_bad_option(const char *cmd, const char *word, int missing_value)
{
	const char *eq = strchr(word, '=');
	int len = eq ? (int)(eq - word) : (int)strlen(word);

	if (missing_value)
		return cli_usage_error("%s%soption '%.*s' needs a value", cmd ? cmd : "", cmd ? ": " : "", len,
		                       word);
	return cli_usage_error("%s%sunknown option '%.*s'", cmd ? cmd : "", cmd ? ": " : "", len, word);
}

int cli_bad_getopt(const char *cmd, char **argv, int missing_value)
{
	/* inside a cluster (-xq) optind has not moved on: argv[optind - 1] is the word
	 * before it, perhaps a message text; name the short option instead */
	if (optopt > 0 && optopt < 256) {
		char word[3] = { '-', (char)optopt, '\0' };
		return cli_bad_option(cmd, word, missing_value);
	}
	return cli_bad_option(cmd, optind > 0 ? argv[optind - 1] : "?", missing_value);
}

void cli_print_error(const char *what, const gcmsg_error *e)
{
	size_t i;

	if (!e) {
		fprintf(stderr, "gcmsg: %s: failed\n", what);
		return;
	}
	fprintf(stderr, "gcmsg: %s: ", what);
	if (e->rule)
		fprintf(stderr, "%s: %s", e->rule, e->explanation ? e->explanation : gcmsg_strerror(e->code));
	else if (e->genesys_code || e->message)
		fprintf(stderr, "%s: %s", e->genesys_code ? e->genesys_code : gcmsg_strerror(e->code),
		        e->message ? e->message : (e->explanation ? e->explanation : ""));
	else
		fputs(e->explanation ? e->explanation : gcmsg_strerror(e->code), stderr);
	if (e->http_status)
		fprintf(stderr, " (HTTP %ld", e->http_status);
	if (e->correlation_id)
		fprintf(stderr, "%scorrelation id %s)", e->http_status ? ", " : " (", e->correlation_id);
	else if (e->http_status)
		fputc(')', stderr);
	fputc('\n', stderr);
	if (!e->rule && (e->genesys_code || e->message) && e->explanation)
		fprintf(stderr, "gcmsg: %s\n", e->explanation);
	if (e->details)
		fprintf(stderr, "gcmsg: details: %s\n", e->details);
	if (e->param_count) {
		fputs("gcmsg: messageParams:", stderr);
		for (i = 0; i < e->param_count; i++)
			fprintf(stderr, "%s %s=%s", i ? "," : "", e->param_keys[i], e->param_values[i]);
		fputc('\n', stderr);
	}
	if (e->retry_after >= 0 && e->code == GCMSG_ERATELIMIT)
		fprintf(stderr, "gcmsg: retry after %ld s\n", e->retry_after);
	if (e->fix)
		fprintf(stderr, "gcmsg: fix: %s\n", e->fix);
}

void cli_warn(const cli_ctx *ctx, const char *id, const char *text)
{
	if (!ctx->quiet)
		fprintf(stderr, "gcmsg: warning: %s: %s\n", id, text);
}

json_t *cli_jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

int cli_print_json(json_t *doc)
{
	int rc;

	if (!doc) {
		fputs("gcmsg: out of memory building the JSON output\n", stderr);
		return CLI_EXIT_INTERNAL;
	}
	rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (rc < 0 || fputc('\n', stdout) == EOF) {
		fputs("gcmsg: cannot write the JSON output\n", stderr);
		return CLI_EXIT_INTERNAL;
	}
	return CLI_EXIT_OK;
}

int cli_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static void log_line(const char *line, void *payload)
{
	(void)payload;
	fprintf(stderr, "gcmsg: %s\n", line);
}

int cli_config_open(gcmsg_config **out, cli_ctx *ctx)
{
	gcmsg_config *cfg = NULL;
	int rc;

	*out = NULL;
	if (gcmsg_config_new(&cfg) < 0) {
		fputs("gcmsg: out of memory\n", stderr);
		return CLI_EXIT_INTERNAL;
	}
	rc = gcmsg_config_load_file(cfg, NULL, ctx->profile);
	if (rc == GCMSG_OK)
		rc = gcmsg_config_load_env(cfg);
	if (rc == GCMSG_OK) {
		const struct {
			gcmsg_config_key key;
			const char *value;
		} flags[] = {
			{ GCMSG_CONFIG_REGION, ctx->region },
			{ GCMSG_CONFIG_API_URL, ctx->api_url },
			{ GCMSG_CONFIG_LOGIN_URL, ctx->login_url },
			{ GCMSG_CONFIG_CLIENT_ID, ctx->client_id },
			{ GCMSG_CONFIG_CLIENT_SECRET, ctx->client_secret },
			{ GCMSG_CONFIG_ACCESS_TOKEN, ctx->access_token },
			{ GCMSG_CONFIG_CACERT, ctx->cacert },
			{ GCMSG_CONFIG_STORE, ctx->store },
			{ GCMSG_CONFIG_POLICY, ctx->policy },
		};
		size_t i;
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]) && rc == GCMSG_OK; i++)
			rc = gcmsg_config_set(cfg, flags[i].key, flags[i].value);
	}
	if (rc < 0) {
		cli_print_error("configuration", gcmsg_config_last_error(cfg));
		gcmsg_config_free(cfg);
		return cli_exit_code(rc);
	}
	*out = cfg;
	return CLI_EXIT_OK;
}

int cli_store_dir(char **out, cli_ctx *ctx)
{
	gcmsg_config *cfg;
	int rc = cli_config_open(&cfg, ctx);

	*out = NULL;
	if (rc)
		return rc;
	*out = gcmsg_config_store_dir(cfg);
	gcmsg_config_free(cfg);
	if (!*out)
		return cli_usage_error("no store directory: give --store DIR (or set GCMSG_STORE or HOME)");
	return CLI_EXIT_OK;
}

int cli_client_open(gcmsg_client **out, cli_ctx *ctx)
{
	gcmsg_client_options opts = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_retry_policy retry;
	gcmsg_config *cfg = NULL;
	char *token_cache;
	int rc;

	*out = NULL;
	rc = cli_config_open(&cfg, ctx);
	if (rc)
		return rc;
	gcmsg_config_apply(cfg, &opts);
	if ((rc = gcmsg_config_retry_policy(cfg, &retry)) < 0) {
		cli_print_error("configuration", gcmsg_config_last_error(cfg));
		gcmsg_config_free(cfg);
		return cli_exit_code(rc);
	}
	opts.retry = &retry;
	if (ctx->verbose) {
		opts.log = log_line;
		opts.log_payload = NULL;
	}
	/* the login of `gcmsg login` (and shared client-credentials tokens); see gcmsg(1) CREDENTIALS */
	token_cache = cli_token_cache_path(cfg, ctx);
	opts.token_cache = token_cache;
	rc = gcmsg_client_new(out, &opts);
	free(token_cache);
	gcmsg_config_free(cfg); /* the client copied what it needs */
	if (rc < 0) {
		if (*out)
			cli_print_error("configuration", gcmsg_client_last_error(*out));
		else
			fputs("gcmsg: out of memory\n", stderr);
		gcmsg_client_free(*out);
		*out = NULL;
		return cli_exit_code(rc);
	}
	return CLI_EXIT_OK;
}
