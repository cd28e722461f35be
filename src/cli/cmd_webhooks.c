/*
 * cmd_webhooks.c - gcmsg webhooks list [--all] [--json] | webhooks deliver
 * [--deadline MS] [--json]: the webhook queue of the store
 * (<store dir>/gcmsg.db). Never prints an event's body (it may hold a text
 * with --audit-text), a secret, or a webhook's URL.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_DEADLINE_MS 30000UL
#define MAX_DEADLINE_MS 3600000UL

static void webhooks_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] webhooks list [--all] [--json]\n"
	      "       gcmsg [global options] webhooks deliver [--deadline MS] [--json]\n"
	      "\n"
	      "The webhook queue of the store: every audit record becomes an event for each\n"
	      "configured webhook, posted signed (see WEBHOOKS in gcmsg(1)).\n"
	      "\n"
	      "  list         the queued events per webhook (never their bodies)\n"
	      "  deliver      post the events that are due now, every webhook in parallel\n"
	      "\n"
	      "  --all        list delivered events too\n"
	      "  --deadline MS  stop delivering after MS milliseconds (default 30000)\n"
	      "  --json       print one JSON document\n"
	      "  -h, --help   show this help\n",
	      f);
}

/* "now" when due, the time otherwise; "never" when given up; "-" when delivered. */
static const char *next_text(const gcmsg_webhook_event *e, long long now, char buf[32])
{
	long long next = gcmsg_webhook_event_next_attempt_ms(e);

	if (gcmsg_webhook_event_delivered(e))
		return "-";
	if (gcmsg_webhook_event_given_up(e))
		return "never";
	if (next <= now)
		return "now";
	cli_format_time(next, buf);
	return buf;
}

static json_t *event_json(const gcmsg_webhook_event *e)
{
	json_t *o = json_object();
	char t[32];
	long long next = gcmsg_webhook_event_next_attempt_ms(e);
	long status = gcmsg_webhook_event_last_status(e);

	if (!o)
		return NULL;
	json_object_set_new(o, "hook", cli_jstr(gcmsg_webhook_event_hook(e)));
	json_object_set_new(o, "id", json_integer(gcmsg_webhook_event_id(e)));
	json_object_set_new(o, "eventId", cli_jstr(gcmsg_webhook_event_event_id(e)));
	json_object_set_new(o, "type", cli_jstr(gcmsg_webhook_event_type(e)));
	cli_format_time(gcmsg_webhook_event_created_ms(e), t);
	json_object_set_new(o, "created", json_string(t));
	json_object_set_new(o, "attempts", json_integer(gcmsg_webhook_event_attempts(e)));
	if (next < 0) {
		json_object_set_new(o, "nextAttempt", json_null());
	} else {
		/* 0: as soon as possible */
		cli_format_time(next > 0 ? next : gcmsg_webhook_event_created_ms(e), t);
		json_object_set_new(o, "nextAttempt", json_string(t));
	}
	json_object_set_new(o, "delivered", json_boolean(gcmsg_webhook_event_delivered(e)));
	json_object_set_new(o, "givenUp", json_boolean(gcmsg_webhook_event_given_up(e)));
	json_object_set_new(o, "lastStatus", status ? json_integer(status) : json_null());
	json_object_set_new(o, "lastError", cli_jstr(gcmsg_webhook_event_last_error(e)));
	return o;
}

static int list_json(const gcmsg_webhook_queue *q)
{
	json_t *doc = json_object(), *arr = json_array();
	size_t i, n = gcmsg_webhook_queue_count(q);

	if (!doc || !arr) {
		json_decref(doc);
		json_decref(arr);
		return cli_print_json(NULL);
	}
	for (i = 0; i < n; i++) {
		json_t *o = event_json(gcmsg_webhook_queue_event(q, i));
		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(doc);
			json_decref(arr);
			return cli_print_json(NULL);
		}
	}
	json_object_set_new(doc, "events", arr);
	return cli_print_json(doc);
}

static int list_text(const gcmsg_webhook_queue *q, const cli_ctx *ctx, int all)
{
	size_t i, n = gcmsg_webhook_queue_count(q);
	long long now = cli_now_ms();

	if (n == 0) {
		if (!ctx->quiet)
			printf("no %swebhook events\n", all ? "" : "queued ");
		return CLI_EXIT_OK;
	}
	printf("%-16s %8s  %-36s  %-18s %8s  %-24s %6s  %s\n", "HOOK", "ID", "EVENT ID", "TYPE", "ATTEMPTS",
	       "NEXT ATTEMPT", "STATUS", "LAST ERROR");
	for (i = 0; i < n; i++) {
		const gcmsg_webhook_event *e = gcmsg_webhook_queue_event(q, i);
		const char *type = gcmsg_webhook_event_type(e), *err = gcmsg_webhook_event_last_error(e);
		long status = gcmsg_webhook_event_last_status(e);
		char buf[32], st[16];
		if (status)
			snprintf(st, sizeof(st), "%ld", status);
		else
			snprintf(st, sizeof(st), "-");
		printf("%-16s %8lld  %-36s  %-18s %8d  %-24s %6s  %s\n", gcmsg_webhook_event_hook(e),
		       gcmsg_webhook_event_id(e), gcmsg_webhook_event_event_id(e), type ? type : "-",
		       gcmsg_webhook_event_attempts(e), next_text(e, now, buf), st,
		       gcmsg_webhook_event_delivered(e) ? "delivered" : (err ? err : "-"));
	}
	return CLI_EXIT_OK;
}

static int do_list(gcmsg_store *store, const cli_ctx *ctx, int all)
{
	gcmsg_webhook_queue *q = NULL;
	int rc = gcmsg_webhook_queue_get(&q, store, all);

	if (rc < 0) {
		cli_print_error("webhooks list", gcmsg_store_last_error(store));
		return cli_exit_code(rc);
	}
	rc = ctx->json ? list_json(q) : list_text(q, ctx, all);
	gcmsg_webhook_queue_free(q);
	return rc;
}

static int do_deliver(gcmsg_store *store, const cli_ctx *ctx, unsigned long deadline_ms, size_t nhooks)
{
	gcmsg_webhook_deliver_options o = GCMSG_WEBHOOK_DELIVER_OPTIONS_INIT;
	gcmsg_webhook_report rep = { 0, 0, 0 };
	int rc, out = CLI_EXIT_OK;

	if (nhooks == 0) {
		if (ctx->json) {
			json_t *doc = json_pack("{s:i,s:i,s:i,s:i}", "webhooks", 0, "delivered", 0, "failed", 0, "pending", 0);
			return cli_print_json(doc);
		}
		if (!ctx->quiet)
			printf("no webhooks configured: nothing to deliver\n");
		return CLI_EXIT_OK;
	}
	o.deadline_ms = (long)deadline_ms;
	o.cacert = ctx->cacert;
	rc = gcmsg_webhooks_deliver(store, &o, &rep);
	if (rc < 0 && rc != GCMSG_EREMOTE) {
		cli_print_error("webhooks deliver", gcmsg_store_last_error(store));
		return cli_exit_code(rc);
	}
	if (rc == GCMSG_EREMOTE) {
		cli_print_error("webhooks deliver", gcmsg_store_last_error(store));
		out = CLI_EXIT_REMOTE;
	}
	if (ctx->json) {
		json_t *doc = json_pack("{s:I,s:I,s:I,s:I}", "webhooks", (json_int_t)nhooks, "delivered",
		                        (json_int_t)rep.delivered, "failed", (json_int_t)rep.failed, "pending",
		                        (json_int_t)rep.pending);
		int prc = cli_print_json(doc);
		return prc ? prc : out;
	}
	if (!ctx->quiet)
		printf("delivered %lu, failed %lu, still queued %lu\n", rep.delivered, rep.failed, rep.pending);
	return out;
}

static size_t configured_hooks(cli_ctx *ctx)
{
	gcmsg_config *cfg = NULL;
	size_t n;

	if (cli_config_open(&cfg, ctx))
		return 0;
	n = gcmsg_config_webhook_count(cfg);
	gcmsg_config_free(cfg);
	return n;
}

int cmd_webhooks(int argc, char **argv, cli_ctx *ctx)
{
	enum { O_JSON = 256, O_ALL, O_DEADLINE };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "all", no_argument, NULL, O_ALL },
		{ "deadline", required_argument, NULL, O_DEADLINE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	gcmsg_store *store = NULL;
	const char *action;
	unsigned long deadline = DEFAULT_DEADLINE_MS;
	int c, rc, all = 0, deadline_given = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_JSON: ctx->json = 1; break;
		case O_ALL: all = 1; break;
		case O_DEADLINE:
			if (cli_parse_uint(optarg, MAX_DEADLINE_MS, &deadline) < 0 || deadline == 0)
				return cli_usage_error("webhooks: --deadline wants milliseconds, 1-%lu", MAX_DEADLINE_MS);
			deadline_given = 1;
			break;
		case 'h': webhooks_usage(stdout); return CLI_EXIT_OK;
		case ':': return cli_bad_getopt("webhooks", argv, 1);
		default: return cli_bad_getopt("webhooks", argv, 0);
		}
	}
	if (optind >= argc)
		return cli_usage_error("webhooks: say list or deliver");
	action = argv[optind++];
	if (optind < argc)
		return cli_usage_error("webhooks: unexpected argument '%s'", argv[optind]);
	if (strcmp(action, "list") == 0) {
		if (deadline_given)
			return cli_usage_error("webhooks list: --deadline belongs to deliver");
	} else if (strcmp(action, "deliver") == 0) {
		if (all)
			return cli_usage_error("webhooks deliver: --all belongs to list");
	} else {
		return cli_usage_error("webhooks: unknown action '%s' (list, deliver)", action);
	}
	rc = cli_store_open(&store, ctx, CLI_STORE_WEBHOOKS | CLI_STORE_EXISTING);
	if (rc)
		return rc;
	if (!store) /* nothing was ever queued */
		return ctx->json ? cli_print_json(strcmp(action, "list") == 0
		                                      ? json_pack("{s:[]}", "events")
		                                      : json_pack("{s:I,s:i,s:i,s:i}", "webhooks",
		                                                  (json_int_t)configured_hooks(ctx), "delivered", 0,
		                                                  "failed", 0, "pending", 0))
		                 : CLI_EXIT_OK;
	if (strcmp(action, "list") == 0)
		rc = do_list(store, ctx, all);
	else
		rc = do_deliver(store, ctx, deadline, configured_hooks(ctx));
	gcmsg_store_free(store);
	return rc;
}
