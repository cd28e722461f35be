/* cli.h - shared pieces of the gcmsg tool (built only on the public API). */
#ifndef GCMSG_CLI_H
#define GCMSG_CLI_H

#include <gcmsg/gcmsg.h>
#include <jansson.h>

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
	CLI_EXIT_REMOTE = 8
};

/* Global options, parsed by main.c. */
typedef struct cli_ctx {
	const char *profile, *region, *api_url, *login_url, *client_id, *client_secret, *access_token,
		*cacert;
	int json, verbose, quiet;
} cli_ctx;

typedef struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, cli_ctx *ctx);
	const char *summary;
} cli_cmd;

int cmd_inspect(int argc, char **argv, cli_ctx *ctx);
int cmd_send(int argc, char **argv, cli_ctx *ctx);

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
/* The route as a JSON object (cmd_inspect.c). */
json_t *cli_route_json(const gcmsg_route *r);

/* Build config + client from the global options; on failure prints and returns the exit code. */
int cli_client_open(gcmsg_client **out, cli_ctx *ctx);

/* Parse a non-negative decimal integer no larger than max; -1 on failure. */
int cli_parse_uint(const char *s, unsigned long max, unsigned long *out);

#endif
