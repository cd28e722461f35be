/*
 * cmd_stats.c - gcmsg stats [--since T] [--json]: sent, failed, refused,
 * retried, throttled, delivery rate and latency percentiles, in total, per
 * route and per response, from the audit log.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void stats_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] stats [--since T] [--json]\n"
	      "\n"
	      "Figures from the audit log: sends that were sent, failed (the server refused), refused\n"
	      "(content policy or route; nothing sent), left unknown or pending ('open'), dropped, answered\n"
	      "as duplicates; how many needed retries or met a 429; the delivery rate; and the latency of\n"
	      "delivered messages (p50, p95, p99 from the first attempt to the outcome). In total, per\n"
	      "route and per response.\n"
	      "\n"
	      "  --since T    outcomes at or after T (RFC 3339, a date, or an age: 90s, 15m, 2h, 7d)\n"
	      "  --json       print one JSON document\n"
	      "  -h, --help   show this help\n",
	      f);
}

static json_t *row_json(const gcmsg_stats_row *r)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:{s:f, s:f, s:f}}", "sent",
	                 (json_int_t)r->sent, "failed", (json_int_t)r->failed, "refused", (json_int_t)r->refused,
	                 "unknown", (json_int_t)r->unknown, "pending", (json_int_t)r->pending, "duplicates",
	                 (json_int_t)r->duplicates, "dropped", (json_int_t)r->dropped, "retried",
	                 (json_int_t)r->retried, "throttled",
	                 (json_int_t)r->throttled, "attempts", (json_int_t)r->attempts, "deliveryRate",
	                 r->delivery_rate, "latencyMs", "p50", r->p50_ms, "p95", r->p95_ms, "p99", r->p99_ms);
}

static json_t *group_json(const gcmsg_stats *s, size_t (*count)(const gcmsg_stats *),
                          const gcmsg_stats_row *(*row)(const gcmsg_stats *, size_t))
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o && i < count(s); i++)
		json_object_set_new(o, row(s, i)->key ? row(s, i)->key : "", row_json(row(s, i)));
	return o;
}

static void row_text(const char *label, const gcmsg_stats_row *r)
{
	printf("%-36.36s %6lu %6lu %7lu %7lu %7lu %7lu %5lu %7lu %9lu %7.1f%% %7.0f %7.0f %7.0f\n", label, r->sent,
	       r->failed, r->refused, r->unknown + r->pending, r->dropped, r->duplicates, r->retried, r->throttled,
	       r->attempts, r->delivery_rate * 100.0, r->p50_ms, r->p95_ms, r->p99_ms);
}

static void header(const char *title)
{
	printf("%-36s %6s %6s %7s %7s %7s %7s %5s %7s %9s %8s %7s %7s %7s\n", title, "sent", "failed", "refused",
	       "open", "dropped", "dupl.", "retr.", "thrott.", "attempts", "rate", "p50 ms", "p95 ms", "p99 ms");
}

int cmd_stats(int argc, char **argv, cli_ctx *ctx)
{
	enum { O_SINCE = 256, O_JSON };
	static const struct option opts[] = {
		{ "since", required_argument, NULL, O_SINCE },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	gcmsg_store *store = NULL;
	gcmsg_stats *st = NULL;
	long long since = 0;
	int c, rc;
	size_t i;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_SINCE:
			if (cli_parse_time(optarg, cli_now_ms(), &since) < 0)
				return cli_usage_error("stats: --since wants RFC 3339, a date or an age (15m, 2h, 7d), "
				                       "not '%s'",
				                       optarg);
			break;
		case O_JSON: ctx->json = 1; break;
		case 'h': stats_usage(stdout); return CLI_EXIT_OK;
		case ':': return cli_bad_getopt("stats", argv, 1);
		default: return cli_bad_getopt("stats", argv, 0);
		}
	}
	if (optind < argc)
		return cli_usage_error("stats: unexpected argument '%s'", argv[optind]);
	rc = cli_store_open(&store, ctx, CLI_STORE_EXISTING);
	if (rc)
		return rc;
	if (!store) { /* nothing recorded yet: every figure is 0 */
		gcmsg_stats_row zero;
		memset(&zero, 0, sizeof(zero));
		return ctx->json ? cli_print_json(json_pack("{s:o, s:o, s:{}, s:{}}", "since", json_null(), "total",
		                                            row_json(&zero), "routes", "responses"))
		                 : CLI_EXIT_OK;
	}
	if ((rc = gcmsg_stats_get(&st, store, since)) < 0) {
		cli_print_error("stats", gcmsg_store_last_error(store));
		gcmsg_store_free(store);
		return cli_exit_code(rc);
	}
	if (ctx->json) {
		char from[32];
		cli_format_time(since, from);
		rc = cli_print_json(json_pack("{s:o, s:o, s:o, s:o}", "since", since ? json_string(from) : json_null(),
		                              "total", row_json(gcmsg_stats_total(st)), "routes",
		                              group_json(st, gcmsg_stats_route_count, gcmsg_stats_route), "responses",
		                              group_json(st, gcmsg_stats_response_count, gcmsg_stats_response)));
	} else {
		header("");
		row_text("total", gcmsg_stats_total(st));
		if (gcmsg_stats_route_count(st)) {
			putchar('\n');
			header("route");
			for (i = 0; i < gcmsg_stats_route_count(st); i++) {
				const gcmsg_stats_row *r = gcmsg_stats_route(st, i);
				/* refusals before a route was found (an ended conversation, a third-party chat) */
				row_text(r->key && *r->key ? r->key : "(none)", r);
			}
		}
		if (gcmsg_stats_response_count(st)) {
			putchar('\n');
			header("response");
			for (i = 0; i < gcmsg_stats_response_count(st); i++) {
				const gcmsg_stats_row *r = gcmsg_stats_response(st, i);
				row_text(r->key && *r->key ? r->key : "(free text)", r);
			}
		}
		rc = CLI_EXIT_OK;
	}
	gcmsg_stats_free(st);
	gcmsg_store_free(store);
	return rc;
}
