/* cli.h - shared pieces of the gcmsg tool (built only on the public API). */
#ifndef GCMSG_CLI_H
#define GCMSG_CLI_H

#include <gcmsg/gcmsg.h>
#include <jansson.h>
#include <stdio.h>

/* Exit codes (gcmsg(1), docs/internals/design.md). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_INTERNAL = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_CONFIG = 3,
	CLI_EXIT_NOTFOUND = 4,
	CLI_EXIT_POLICY = 5,
	CLI_EXIT_ROUTE = 6,
	CLI_EXIT_THROTTLED = 7,
	CLI_EXIT_REMOTE = 8,
	CLI_EXIT_BULK_FAILED = 9
};

/* Global options, parsed by main.c. */
typedef struct cli_ctx {
	const char *profile, *region, *api_url, *login_url, *client_id, *client_secret, *access_token,
		*cacert, *store, *policy;
	int json, verbose, quiet;
} cli_ctx;

typedef struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, cli_ctx *ctx);
	const char *summary;
} cli_cmd;

int cmd_inspect(int argc, char **argv, cli_ctx *ctx);
int cmd_send(int argc, char **argv, cli_ctx *ctx);
int cmd_responses(int argc, char **argv, cli_ctx *ctx);
int cmd_validate(int argc, char **argv, cli_ctx *ctx);
int cmd_whoami(int argc, char **argv, cli_ctx *ctx);
int cmd_outbox(int argc, char **argv, cli_ctx *ctx);
int cmd_audit(int argc, char **argv, cli_ctx *ctx);
int cmd_stats(int argc, char **argv, cli_ctx *ctx);
int cmd_webhooks(int argc, char **argv, cli_ctx *ctx);
int cmd_login(int argc, char **argv, cli_ctx *ctx);
int cmd_logout(int argc, char **argv, cli_ctx *ctx);
int cmd_bulk(int argc, char **argv, cli_ctx *ctx);
/* The profile's token cache, <store dir>/tokens/<profile>.json (cmd_login.c); free(); NULL without a store dir. */
char *cli_token_cache_path(const gcmsg_config *cfg, const cli_ctx *ctx);

/* ---- the durable store (store_open.c) ---- */
#define CLI_STORE_AUDIT_TEXT 1u /* keep message texts in the audit log (--audit-text) */
#define CLI_STORE_WEBHOOKS 2u   /* configure the profile's webhooks (events get queued) */
#define CLI_STORE_EXISTING 4u   /* a reader: a store that does not exist yet is not made; *out is NULL */
/* <store dir>/gcmsg.db; free with free(). */
int cli_store_path(char **out, cli_ctx *ctx);
/*
 * Open it; on failure prints and returns the exit code. With CLI_STORE_EXISTING
 * and no store yet, *out is NULL and the result is 0 (nothing was ever recorded).
 */
int cli_store_open(gcmsg_store **out, cli_ctx *ctx, unsigned flags);
/* Configure the webhooks of the configuration on the store; prints on failure. */
int cli_store_set_webhooks(gcmsg_store *store, cli_ctx *ctx);
/* After a send: post due webhook events for a short while; never changes the exit code. */
void cli_webhooks_flush(gcmsg_store *store, const cli_ctx *ctx);

/* ---- a progress bar on stderr (progress.c) ---- */
typedef struct cli_progress {
	int on, drawn;
	size_t total, done, failed;
	long long t0, last_ms;
} cli_progress;
void cli_progress_start(cli_progress *p, size_t total, int on);
void cli_progress_update(cli_progress *p, size_t done, size_t failed);
/* Wipe the bar before printing a line of one's own on stderr. */
void cli_progress_clear(cli_progress *p);
void cli_progress_end(cli_progress *p);

/* ---- times (times.c) ---- */
long long cli_now_ms(void);
/* RFC 3339, a date (midnight UTC) or an age ("90s", "15m", "2h", "7d"); 0 or -1. */
int cli_parse_time(const char *s, long long now_ms, long long *out_ms);
/* RFC 3339 UTC with milliseconds, or "-" for 0. */
void cli_format_time(long long ms, char out[32]);

/* output.c */
int cli_exit_code(int gcmsg_code);
/* "gcmsg: <msg>" on one line, exit code 2. */
int cli_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;
/* Print a library error to stderr: what, code, message, correlation id, details, fix. */
void cli_print_error(const char *what, const gcmsg_error *err);
void cli_warn(const cli_ctx *ctx, const char *id, const char *text);
/* Print one JSON document to stdout (steals doc). 0, or exit code 1 on failure. */
int cli_print_json(json_t *doc);
/* json_string or json_null for NULL */
json_t *cli_jstr(const char *s);

/* An unknown option or one missing its value; never echoes a value after '='. Exit 2. */
int cli_bad_option(const char *cmd, const char *word, int missing_value);
/* The same, right after getopt_long returned ':' or '?' (or an unknown value). */
int cli_bad_getopt(const char *cmd, char **argv, int missing_value);
/* The route as a JSON object (cmd_inspect.c). */
json_t *cli_route_json(const gcmsg_route *r);

/* Build the config (profile < environment < flags); on failure prints and returns the exit code. */
int cli_config_open(gcmsg_config **out, cli_ctx *ctx);
/* Build config + client from the global options; on failure prints and returns the exit code. */
int cli_client_open(gcmsg_client **out, cli_ctx *ctx);
/* The offline store directory (--store > GCMSG_STORE > profile > ~/.gcmsg/store); free with gcmsg_free. */
int cli_store_dir(char **out, cli_ctx *ctx);

/* Parse a non-negative decimal integer no larger than max; -1 on failure. */
int cli_parse_uint(const char *s, unsigned long max, unsigned long *out);

/* ---- the content policy (checks.c) ---- */

/* The policy file the configuration names (--policy > GCMSG_POLICY > profile), else the defaults. */
int cli_policy_open(gcmsg_policy **out, cli_ctx *ctx);
/* gcmsg_policy_check_text with these options; GCMSG_OK, GCMSG_EPOLICY, or another code (printed). */
int cli_check_text(gcmsg_policy_result **out, const char *cmd, const gcmsg_policy *policy, const char *text,
                   const char *channel, const char *queue, int allow_placeholders);
/* "gcmsg: CMD: RULE at bytes a-b, characters c-d: MESSAGE", one line each (no prefix when cmd is NULL) */
void cli_print_violations(FILE *f, const char *cmd, const gcmsg_policy_result *pr);
void cli_print_text_stats(FILE *f, const gcmsg_policy_result *pr);
/* The result's notes as warnings (stderr; none with -q). */
void cli_policy_notes(const cli_ctx *ctx, const gcmsg_policy_result *pr);
json_t *cli_policy_json(const gcmsg_policy_result *pr);

/* ---- canned responses (canned.c) ---- */

#define CLI_MAX_VARS 256

/* getopt_long values of the shared canned-response options */
enum {
	CLI_OPT_RESPONSE = 400,
	CLI_OPT_LIBRARY,
	CLI_OPT_FILE,
	CLI_OPT_OFFLINE,
	CLI_OPT_LANG,
	CLI_OPT_VAR,
	CLI_OPT_ALLOW_MISSING
};

#define CLI_SOURCE_OPTIONS                                                       \
	{ "library", required_argument, NULL, CLI_OPT_LIBRARY },                 \
	{ "file", required_argument, NULL, CLI_OPT_FILE },                       \
	{ "offline", no_argument, NULL, CLI_OPT_OFFLINE }
#define CLI_RENDER_OPTIONS                                                       \
	{ "lang", required_argument, NULL, CLI_OPT_LANG },                       \
	{ "var", required_argument, NULL, CLI_OPT_VAR },                         \
	{ "allow-missing", no_argument, NULL, CLI_OPT_ALLOW_MISSING }

typedef struct cli_canned {
	const char *response, *library, *file, *lang;
	int offline, allow_missing;
	gcmsg_var vars[CLI_MAX_VARS];
	size_t nvars;
} cli_canned;

/* A response found for a command, and what owns it. */
typedef struct cli_canned_loaded {
	gcmsg_response_set *set;       /* file or store */
	gcmsg_response *owned;         /* remote lookup */
	const gcmsg_response *response;
} cli_canned_loaded;

/* Take one shared option (-1 when opt is not one of them); usage errors print and return 2. */
int cli_canned_option(cli_canned *cn, const char *cmd, int opt, char *arg);
int cli_canned_check(const cli_canned *cn, const char *cmd);
/* The file (--file) or the store (otherwise) as a set; prints failures. */
int cli_canned_open_local(gcmsg_response_set **out, const cli_canned *cn, cli_ctx *ctx, const char *cmd);
/* Find the response: in --file, in the store (--offline), else in Response Management. */
int cli_canned_load(cli_canned_loaded *l, const cli_canned *cn, gcmsg_client *client, cli_ctx *ctx,
                    const char *cmd);
void cli_canned_loaded_free(cli_canned_loaded *l);
void cli_canned_render_options(gcmsg_render_options *ro, const cli_canned *cn, const gcmsg_conversation *conv,
                               const gcmsg_identity *caller);
/* Print why rendering failed (nothing sent) and give the exit code. */
int cli_render_failed(const char *cmd, const gcmsg_rendered *rd, int rc);
/* Warnings for placeholders left in place by --allow-missing. */
void cli_render_warnings(const cli_ctx *ctx, const gcmsg_rendered *rd);
json_t *cli_response_json(const gcmsg_response *r, int full);
/* placeholders (values only when asked: they may be PII), missing, content type, ... */
json_t *cli_rendered_json(const gcmsg_rendered *rd, int with_values);
void cli_print_placeholders(FILE *f, const gcmsg_rendered *rd);

#endif
