/*
 * cmd_audit.c - gcmsg audit [--since T] [--until T] [--conversation C] [--key K]
 *               [--event E] [--limit N] [--json | --export FILE]
 * The audit log: one record per attempt and per outcome of every send. Texts
 * appear only as SHA-256 (unless the sends were made with --audit-text).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void audit_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] audit [--since T] [--until T] [--conversation C] [--key K]\n"
	      "                                    [--event attempt|outcome] [--limit N] [--json | --export FILE]\n"
	      "\n"
	      "Show the audit log: one record per attempt and per outcome of every send, with who sent\n"
	      "what where (response, route, conversation, communication), the HTTP status, Genesys code,\n"
	      "correlation id, latency, message id and a SHA-256 of the text (never the text, unless the\n"
	      "send used --audit-text).\n"
	      "\n"
	      "  --since T           at or after T (RFC 3339, a date, or an age: 90s, 15m, 2h, 7d)\n"
	      "  --until T           before T\n"
	      "  --conversation C    only this conversation\n"
	      "  --key K             only this idempotency key\n"
	      "  --event E           only attempts, or only outcomes\n"
	      "  --limit N           at most N records (the oldest first)\n"
	      "  --json              print one JSON document {\"records\": [...]}\n"
	      "  --export FILE       write JSON Lines to FILE ('-' for stdout), one record per line\n"
	      "  -h, --help          show this help\n",
	      f);
}

static json_t *record_json(const gcmsg_audit_record *r)
{
	char *line = NULL;
	json_t *o = NULL;

	if (gcmsg_audit_record_json(&line, r) == GCMSG_OK)
		o = json_loads(line, 0, NULL);
	gcmsg_free(line);
	return o;
}

static void record_text(const gcmsg_audit_record *r)
{
	char when[32];
	const char *v;

	cli_format_time(gcmsg_audit_record_time_ms(r), when);
	printf("%s  %-7s %-15s %s  conversation %s", when, gcmsg_audit_record_event(r), gcmsg_audit_record_outcome(r),
	       gcmsg_audit_record_key(r) ? gcmsg_audit_record_key(r) : "-",
	       gcmsg_audit_record_conversation_id(r) ? gcmsg_audit_record_conversation_id(r) : "-");
	if (gcmsg_audit_record_attempt(r))
		printf("  attempt %d", gcmsg_audit_record_attempt(r));
	if (gcmsg_audit_record_http_status(r))
		printf("  HTTP %ld", gcmsg_audit_record_http_status(r));
	if ((v = gcmsg_audit_record_error_code(r)))
		printf("  %s", v);
	if (gcmsg_audit_record_latency_ms(r) > 0)
		printf("  %lld ms", gcmsg_audit_record_latency_ms(r));
	if ((v = gcmsg_audit_record_message_id(r)))
		printf("  message %s", v);
	if ((v = gcmsg_audit_record_correlation_id(r)))
		printf("  correlation %s", v);
	putchar('\n');
}

typedef struct export_sink {
	FILE *f;
	int failed;
} export_sink;

static int write_line(const char *line, size_t len, void *payload)
{
	export_sink *s = payload;

	if (fwrite(line, 1, len, s->f) != len || fputc('\n', s->f) == EOF) {
		s->failed = errno ? errno : EIO;
		return 1;
	}
	return 0;
}

/*
 * Export as JSON Lines to stdout ("-") or a file. A file is written whole or
 * not at all: a new 0600 file next to it (the log holds ids and hashes, and
 * texts with --audit-text) renamed over it at the end, so an existing file
 * never keeps looser permissions, a symlink there is replaced rather than
 * followed, and a failed export leaves the old file as it was. No store: an
 * empty export.
 */
static int do_export(gcmsg_store *store, const gcmsg_audit_filter *f, const char *path)
{
	export_sink sink = { stdout, 0 };
	char tmp[4096];
	int rc = GCMSG_OK, fd = -1, to_file = strcmp(path, "-") != 0;

	if (to_file) {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= sizeof(tmp)) {
			fprintf(stderr, "gcmsg: audit: the file name is too long: %s\n", path);
			return CLI_EXIT_USAGE;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || !(sink.f = fdopen(fd, "w"))) {
			fprintf(stderr, "gcmsg: audit: cannot write %s: %s\n", path, strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			return CLI_EXIT_CONFIG;
		}
	}
	if (store)
		rc = gcmsg_audit_export(store, f, write_line, &sink);
	if (to_file) {
		if (!sink.failed && (fflush(sink.f) != 0 || fsync(fileno(sink.f)) != 0))
			sink.failed = errno ? errno : EIO;
		if (fclose(sink.f) != 0 && !sink.failed)
			sink.failed = errno ? errno : EIO;
		if (!sink.failed && rc == GCMSG_OK && rename(tmp, path) != 0)
			sink.failed = errno ? errno : EIO;
		if (sink.failed || rc < 0)
			unlink(tmp);
	}
	if (sink.failed) {
		fprintf(stderr, "gcmsg: audit: writing %s failed: %s\n", path, strerror(sink.failed));
		return CLI_EXIT_INTERNAL;
	}
	if (rc < 0) {
		cli_print_error("audit", gcmsg_store_last_error(store));
		return cli_exit_code(rc);
	}
	return CLI_EXIT_OK;
}

int cmd_audit(int argc, char **argv, cli_ctx *ctx)
{
	enum { O_SINCE = 256, O_UNTIL, O_CONV, O_KEY, O_EVENT, O_LIMIT, O_JSON, O_EXPORT };
	static const struct option opts[] = {
		{ "since", required_argument, NULL, O_SINCE },  { "until", required_argument, NULL, O_UNTIL },
		{ "conversation", required_argument, NULL, O_CONV }, { "key", required_argument, NULL, O_KEY },
		{ "event", required_argument, NULL, O_EVENT },  { "limit", required_argument, NULL, O_LIMIT },
		{ "json", no_argument, NULL, O_JSON },          { "export", required_argument, NULL, O_EXPORT },
		{ "help", no_argument, NULL, 'h' },             { NULL, 0, NULL, 0 },
	};
	gcmsg_audit_filter f = GCMSG_AUDIT_FILTER_INIT;
	gcmsg_audit_list *list = NULL;
	gcmsg_store *store = NULL;
	const char *export_path = NULL;
	long long now = cli_now_ms();
	unsigned long limit;
	int c, rc, until_given = 0;
	size_t i;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_SINCE:
		case O_UNTIL:
			until_given |= c == O_UNTIL;
			if (cli_parse_time(optarg, now, c == O_SINCE ? &f.since_ms : &f.until_ms) < 0)
				return cli_usage_error("audit: --%s wants RFC 3339, a date or an age (15m, 2h, 7d), not '%s'",
				                       c == O_SINCE ? "since" : "until", optarg);
			break;
		case O_CONV: f.conversation_id = optarg; break;
		case O_KEY: f.key = optarg; break;
		case O_EVENT:
			if (strcmp(optarg, "attempt") != 0 && strcmp(optarg, "outcome") != 0)
				return cli_usage_error("audit: --event wants attempt or outcome, not '%s'", optarg);
			f.event = optarg;
			break;
		case O_LIMIT:
			if (cli_parse_uint(optarg, 100000000, &limit) < 0 || limit == 0)
				return cli_usage_error("audit: --limit wants a number from 1 to 100000000");
			f.limit = limit;
			break;
		case O_JSON: ctx->json = 1; break;
		case O_EXPORT:
			if (!*optarg)
				return cli_usage_error("audit: --export wants a file name, or - for stdout");
			export_path = optarg;
			break;
		case 'h': audit_usage(stdout); return CLI_EXIT_OK;
		case ':': return cli_bad_getopt("audit", argv, 1);
		default: return cli_bad_getopt("audit", argv, 0);
		}
	}
	if (optind < argc)
		return cli_usage_error("audit: unexpected argument '%s'", argv[optind]);
	if (export_path && ctx->json)
		return cli_usage_error("audit: --export writes JSON Lines; it cannot be combined with --json");
	if (until_given && f.until_ms <= 0)
		f.until_ms = 1; /* before the epoch: nothing can match (0 would mean no bound) */
	if (until_given && f.until_ms <= f.since_ms)
		return cli_usage_error("audit: --until must be after --since");
	rc = cli_store_open(&store, ctx, CLI_STORE_EXISTING);
	if (rc)
		return rc;
	if (!store) /* nothing recorded yet: an empty answer (an export is an empty file) */
		return export_path ? do_export(NULL, &f, export_path)
		                   : ctx->json ? cli_print_json(json_pack("{s:[]}", "records")) : CLI_EXIT_OK;
	if (export_path) {
		rc = do_export(store, &f, export_path);
		gcmsg_store_free(store);
		return rc;
	}
	if ((rc = gcmsg_audit_list_get(&list, store, &f)) < 0) {
		cli_print_error("audit", gcmsg_store_last_error(store));
		gcmsg_store_free(store);
		return cli_exit_code(rc);
	}
	if (ctx->json) {
		json_t *a = json_array();
		for (i = 0; a && i < gcmsg_audit_list_count(list); i++) {
			json_t *o = record_json(gcmsg_audit_list_record(list, i));
			if (!o || json_array_append_new(a, o) < 0) {
				json_decref(a);
				a = NULL;
			}
		}
		rc = a ? cli_print_json(json_pack("{s:o}", "records", a)) : cli_print_json(NULL);
	} else {
		for (i = 0; i < gcmsg_audit_list_count(list); i++)
			record_text(gcmsg_audit_list_record(list, i));
		if (!ctx->quiet && gcmsg_audit_list_count(list) == 0)
			fputs("gcmsg: audit: no records\n", stderr);
		rc = CLI_EXIT_OK;
	}
	gcmsg_audit_list_free(list);
	gcmsg_store_free(store);
	return rc;
}
