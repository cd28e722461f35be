/*
 * cmd_outbox.c - gcmsg outbox list|retry|drop: the durable outbox of sends
 * (one entry per idempotency key). `retry` resends pending entries and reads
 * unknown ones back first; `drop` makes sure an entry is never sent.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define STATES_UNFINISHED                                                                               \
	((1u << GCMSG_OUTBOX_PENDING) | (1u << GCMSG_OUTBOX_SENDING) | (1u << GCMSG_OUTBOX_UNKNOWN))

static void outbox_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] outbox list [--state S]... [--all] [--conversation C] [--since T]\n"
	      "                                           [--limit N] [--json]\n"
	      "       gcmsg [global options] outbox retry (KEY... | --all) [--json]\n"
	      "       gcmsg [global options] outbox drop KEY... [--json]\n"
	      "\n"
	      "The outbox holds one entry per send (its idempotency key), written before any request.\n"
	      "'list' shows the unfinished entries (pending, sending, unknown) unless --state or --all\n"
	      "says otherwise. 'retry' resends pending entries and reads unknown ones back from the\n"
	      "conversation first, so nothing reaches a customer twice. 'drop' makes sure a pending,\n"
	      "unknown or failed entry is never sent.\n"
	      "\n"
	      "  --state S           pending, sending, unknown, sent, failed or dropped (repeatable)\n"
	      "  --all               every state\n"
	      "  --conversation C    only this conversation\n"
	      "  --since T           created at or after T (RFC 3339, a date, or an age: 90s, 15m, 2h, 7d)\n"
	      "  --limit N           at most N entries\n"
	      "  --json              print one JSON document\n"
	      "  -h, --help          show this help\n",
	      f);
}

static json_t *entry_json(const gcmsg_outbox_entry *e)
{
	char created[32], updated[32], next[32];
	json_t *o;

	cli_format_time(gcmsg_outbox_entry_created_ms(e), created);
	cli_format_time(gcmsg_outbox_entry_updated_ms(e), updated);
	cli_format_time(gcmsg_outbox_entry_next_attempt_ms(e), next);
	o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "key", cli_jstr(gcmsg_outbox_entry_key(e)));
	json_object_set_new(o, "state", json_string(gcmsg_outbox_state_name(gcmsg_outbox_entry_state(e))));
	json_object_set_new(o, "inFlight", json_boolean(gcmsg_outbox_entry_in_flight(e)));
	json_object_set_new(o, "conversationId", cli_jstr(gcmsg_outbox_entry_conversation_id(e)));
	json_object_set_new(o, "communicationId", cli_jstr(gcmsg_outbox_entry_communication_id(e)));
	json_object_set_new(o, "route", cli_jstr(gcmsg_outbox_entry_route(e)));
	json_object_set_new(o, "channel", cli_jstr(gcmsg_outbox_entry_channel(e)));
	json_object_set_new(o, "responseId", cli_jstr(gcmsg_outbox_entry_response_id(e)));
	json_object_set_new(o, "source", cli_jstr(gcmsg_outbox_entry_source(e)));
	json_object_set_new(o, "who", cli_jstr(gcmsg_outbox_entry_who(e)));
	json_object_set_new(o, "textSha256", cli_jstr(gcmsg_outbox_entry_text_sha256(e)));
	json_object_set_new(o, "attempts", json_integer(gcmsg_outbox_entry_attempts(e)));
	json_object_set_new(o, "created", json_string(created));
	json_object_set_new(o, "updated", json_string(updated));
	json_object_set_new(o, "nextAttempt", gcmsg_outbox_entry_next_attempt_ms(e) ? json_string(next) : json_null());
	json_object_set_new(o, "messageId", cli_jstr(gcmsg_outbox_entry_message_id(e)));
	json_object_set_new(o, "httpStatus",
	                    gcmsg_outbox_entry_http_status(e) ? json_integer(gcmsg_outbox_entry_http_status(e))
	                                                      : json_null());
	json_object_set_new(o, "errorCode", cli_jstr(gcmsg_outbox_entry_error_code(e)));
	json_object_set_new(o, "correlationId", cli_jstr(gcmsg_outbox_entry_correlation_id(e)));
	json_object_set_new(o, "lastError", cli_jstr(gcmsg_outbox_entry_last_error(e)));
	return o;
}

static void entry_text(const gcmsg_outbox_entry *e)
{
	char created[32];
	const char *err = gcmsg_outbox_entry_last_error(e);

	cli_format_time(gcmsg_outbox_entry_created_ms(e), created);
	printf("%-8s %s  %s  conversation %s  %s  attempts %d", gcmsg_outbox_state_name(gcmsg_outbox_entry_state(e)),
	       gcmsg_outbox_entry_key(e), created,
	       gcmsg_outbox_entry_conversation_id(e) ? gcmsg_outbox_entry_conversation_id(e) : "-",
	       gcmsg_outbox_entry_route(e) ? gcmsg_outbox_entry_route(e) : "-", gcmsg_outbox_entry_attempts(e));
	if (gcmsg_outbox_entry_message_id(e))
		printf("  message %s", gcmsg_outbox_entry_message_id(e));
	if (gcmsg_outbox_entry_in_flight(e))
		fputs("  (in flight in another process)", stdout);
	putchar('\n');
	if (err && gcmsg_outbox_entry_state(e) != GCMSG_OUTBOX_SENT)
		printf("         %s\n", err);
}

static int do_list(int argc, char **argv, cli_ctx *ctx)
{
	enum { O_STATE = 256, O_ALL, O_CONV, O_SINCE, O_LIMIT, O_JSON };
	static const struct option opts[] = {
		{ "state", required_argument, NULL, O_STATE }, { "all", no_argument, NULL, O_ALL },
		{ "conversation", required_argument, NULL, O_CONV }, { "since", required_argument, NULL, O_SINCE },
		{ "limit", required_argument, NULL, O_LIMIT }, { "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	gcmsg_outbox_filter f = GCMSG_OUTBOX_FILTER_INIT;
	gcmsg_outbox_list *list = NULL;
	gcmsg_store *store = NULL;
	unsigned long limit;
	int c, rc, all = 0, st;
	size_t i;

	f.states = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_STATE:
			st = gcmsg_outbox_state_parse(optarg);
			if (st < 0)
				return cli_usage_error("outbox list: --state wants pending, sending, unknown, sent, "
				                       "failed or dropped, not '%s'",
				                       optarg);
			f.states |= 1u << st;
			break;
		case O_ALL: all = 1; break;
		case O_CONV: f.conversation_id = optarg; break;
		case O_SINCE:
			if (cli_parse_time(optarg, cli_now_ms(), &f.since_ms) < 0)
				return cli_usage_error("outbox list: --since wants RFC 3339, a date or an age (15m, 2h, "
				                       "7d), not '%s'",
				                       optarg);
			break;
		case O_LIMIT:
			if (cli_parse_uint(optarg, 1000000, &limit) < 0 || limit == 0)
				return cli_usage_error("outbox list: --limit wants a number from 1 to 1000000");
			f.limit = limit;
			break;
		case O_JSON: ctx->json = 1; break;
		case 'h': outbox_usage(stdout); return CLI_EXIT_OK;
		case ':': return cli_bad_getopt("outbox list", argv, 1);
		default: return cli_bad_getopt("outbox list", argv, 0);
		}
	}
	if (optind < argc)
		return cli_usage_error("outbox list: unexpected argument '%s'", argv[optind]);
	if (all && f.states)
		return cli_usage_error("outbox list: --all and --state exclude each other");
	if (!all && !f.states)
		f.states = STATES_UNFINISHED;
	if (all)
		f.states = 0;
	rc = cli_store_open(&store, ctx, CLI_STORE_EXISTING);
	if (rc)
		return rc;
	if (!store)
		return ctx->json ? cli_print_json(json_pack("{s:[]}", "entries")) : CLI_EXIT_OK;
	if ((rc = gcmsg_outbox_list_get(&list, store, &f)) < 0) {
		cli_print_error("outbox list", gcmsg_store_last_error(store));
		gcmsg_store_free(store);
		return cli_exit_code(rc);
	}
	if (ctx->json) {
		json_t *a = json_array();
		for (i = 0; a && i < gcmsg_outbox_list_count(list); i++)
			json_array_append_new(a, entry_json(gcmsg_outbox_list_entry(list, i)));
		rc = cli_print_json(json_pack("{s:o}", "entries", a ? a : json_array()));
	} else {
		for (i = 0; i < gcmsg_outbox_list_count(list); i++)
			entry_text(gcmsg_outbox_list_entry(list, i));
		if (!ctx->quiet && gcmsg_outbox_list_count(list) == 0)
			fprintf(stderr, "gcmsg: outbox list: no %sentries\n", all || f.states != STATES_UNFINISHED ? "" : "unfinished ");
		rc = CLI_EXIT_OK;
	}
	gcmsg_outbox_list_free(list);
	gcmsg_store_free(store);
	return rc;
}

/*
 * "user:<id>" or "client:<id>" of the caller, as the outbox records who sent.
 * An entry is resumed only by the caller that recorded it: the same route with
 * other credentials could be refused (an agent route needs that agent's token)
 * and the refusal would end the entry as failed.
 */
static int caller_of(gcmsg_client *client, char *out, size_t len)
{
	const gcmsg_identity *id = NULL;
	int rc = gcmsg_client_whoami(&id, client);

	if (rc < 0)
		return rc;
	if (gcmsg_identity_kind(id) == GCMSG_CALLER_USER && gcmsg_identity_user_id(id))
		snprintf(out, len, "user:%s", gcmsg_identity_user_id(id));
	else if (gcmsg_identity_client_id(id))
		snprintf(out, len, "client:%s", gcmsg_identity_client_id(id));
	else
		out[0] = '\0';
	return GCMSG_OK;
}

/* An entry recorded without a caller may be resumed by anyone; otherwise only by that caller. */
static int same_caller(const char *who, const char *caller)
{
	return !who || !*who || strcmp(who, caller) == 0;
}

/*
 * Several keys, one exit code: the most serious. An internal error (1) is the
 * most serious of all, although its number is the smallest.
 */
static int worse(int a, int b)
{
	if (a == CLI_EXIT_INTERNAL || b == CLI_EXIT_INTERNAL)
		return CLI_EXIT_INTERNAL;
	return a > b ? a : b;
}

/* A key that was not resumed, in the JSON results: why, and its exit code. */
static void skipped_json(json_t *out, const char *key, const char *why, int code)
{
	if (out)
		json_array_append_new(out, json_pack("{s:s, s:b, s:n, s:s, s:i, s:b, s:b, s:i}", "key", key, "ok", 0,
		                                     "messageId", "error", why, "attempts", 0, "duplicate", 0,
		                                     "readBack", 0, "exit", code));
}

/* A line (or a JSON object) per resumed key; the worst exit code wins. */
static int resume_one(gcmsg_client *client, gcmsg_store *store, const char *key, const cli_ctx *ctx, json_t *out)
{
	gcmsg_send_options so = GCMSG_SEND_OPTIONS_INIT;
	gcmsg_send_result *res = NULL;
	const gcmsg_error *e;
	int rc;

	so.source = "cli-retry";
	rc = gcmsg_outbox_resume(&res, client, store, key, &so);
	e = gcmsg_client_last_error(client);
	if (out) {
		json_array_append_new(
			out, json_pack("{s:s, s:b, s:o, s:o, s:i, s:b, s:b, s:o}", "key", key, "ok", rc == GCMSG_OK,
		                       "messageId", cli_jstr(rc == GCMSG_OK ? gcmsg_send_result_message_id(res) : NULL),
		                       "error", rc == GCMSG_OK ? json_null() : cli_jstr(e->explanation), "attempts",
		                       rc == GCMSG_OK ? gcmsg_send_result_attempts(res) : 0, "duplicate",
		                       rc == GCMSG_OK && gcmsg_send_result_duplicate(res), "readBack",
		                       rc == GCMSG_OK && gcmsg_send_result_read_back(res), "exit",
		                       json_integer(cli_exit_code(rc))));
	}
	if (rc < 0) {
		cli_print_error(key, e);
	} else if (!ctx->json && !ctx->quiet) {
		if (gcmsg_send_result_duplicate(res))
			printf("%s: already delivered as %s; nothing sent\n", key,
			       gcmsg_send_result_message_id(res) ? gcmsg_send_result_message_id(res) : "(no id)");
		else if (gcmsg_send_result_read_back(res))
			printf("%s: found delivered as %s (read back); nothing resent\n", key,
			       gcmsg_send_result_message_id(res) ? gcmsg_send_result_message_id(res) : "(no id)");
		else
			printf("%s: sent %s (%d attempt%s)\n", key,
			       gcmsg_send_result_message_id(res) ? gcmsg_send_result_message_id(res) : "(no id)",
			       gcmsg_send_result_attempts(res), gcmsg_send_result_attempts(res) == 1 ? "" : "s");
	}
	gcmsg_send_result_free(res);
	return cli_exit_code(rc);
}

static int do_retry(int argc, char **argv, cli_ctx *ctx)
{
	enum { O_ALL = 256, O_JSON };
	static const struct option opts[] = {
		{ "all", no_argument, NULL, O_ALL }, { "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },  { NULL, 0, NULL, 0 },
	};
	gcmsg_outbox_filter f = GCMSG_OUTBOX_FILTER_INIT;
	gcmsg_outbox_list *list = NULL;
	gcmsg_client *client = NULL;
	gcmsg_store *store = NULL;
	json_t *results = NULL;
	char caller[300];
	int c, k, rc, all = 0, worst = CLI_EXIT_OK;
	size_t i;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_ALL: all = 1; break;
		case O_JSON: ctx->json = 1; break;
		case 'h': outbox_usage(stdout); return CLI_EXIT_OK;
		case ':': return cli_bad_getopt("outbox retry", argv, 1);
		default: return cli_bad_getopt("outbox retry", argv, 0);
		}
	}
	if (all == (optind < argc))
		return cli_usage_error("outbox retry: give the keys to resend, or --all (not both)");
	rc = cli_store_open(&store, ctx, CLI_STORE_WEBHOOKS | CLI_STORE_EXISTING);
	if (!rc && !store) { /* nothing was ever recorded */
		if (ctx->json)
			return cli_print_json(json_pack("{s:[]}", "results"));
		return all ? CLI_EXIT_OK : CLI_EXIT_NOTFOUND;
	}
	if (!rc)
		rc = cli_client_open(&client, ctx);
	if (rc)
		goto out;
	if (ctx->json && !(results = json_array())) {
		rc = cli_print_json(NULL);
		goto out;
	}
	if ((rc = caller_of(client, caller, sizeof(caller))) < 0) {
		cli_print_error("outbox retry", gcmsg_client_last_error(client));
		rc = cli_exit_code(rc);
		goto out;
	}
	f.states = all ? (1u << GCMSG_OUTBOX_PENDING) | (1u << GCMSG_OUTBOX_SENDING) | (1u << GCMSG_OUTBOX_UNKNOWN)
	               : 0;
	for (k = all ? 0 : optind; all || k < argc; k++) {
		size_t n;
		if (!all)
			f.key = argv[k];
		gcmsg_outbox_list_free(list);
		list = NULL;
		if ((rc = gcmsg_outbox_list_get(&list, store, &f)) < 0) {
			cli_print_error("outbox retry", gcmsg_store_last_error(store));
			rc = cli_exit_code(rc);
			goto out;
		}
		n = gcmsg_outbox_list_count(list);
		if (!all && n == 0) {
			fprintf(stderr, "gcmsg: outbox retry: no entry has the key %s\n", argv[k]);
			skipped_json(results, argv[k], "no entry has this key", CLI_EXIT_NOTFOUND);
			worst = worse(worst, CLI_EXIT_NOTFOUND);
		}
		for (i = 0; i < n; i++) {
			const gcmsg_outbox_entry *e = gcmsg_outbox_list_entry(list, i);
			if (gcmsg_outbox_entry_in_flight(e)) {
				/* --all leaves it to its process; a key asked for by name was not done: say so */
				if (!ctx->quiet || !all)
					fprintf(stderr, "gcmsg: outbox retry: %s is being sent by another process; skipped\n",
					        gcmsg_outbox_entry_key(e));
				skipped_json(results, gcmsg_outbox_entry_key(e), "being sent by another process",
				             all ? CLI_EXIT_OK : CLI_EXIT_USAGE);
				if (!all)
					worst = worse(worst, CLI_EXIT_USAGE);
				continue;
			}
			if (!same_caller(gcmsg_outbox_entry_who(e), caller)) {
				if (!ctx->quiet || !all)
					fprintf(stderr, "gcmsg: outbox retry: %s was recorded by %s; resume it with those "
					                "credentials (skipped)\n",
					        gcmsg_outbox_entry_key(e), gcmsg_outbox_entry_who(e));
				skipped_json(results, gcmsg_outbox_entry_key(e), "recorded by another caller",
				             all ? CLI_EXIT_OK : CLI_EXIT_CONFIG);
				if (!all)
					worst = worse(worst, CLI_EXIT_CONFIG);
				continue;
			}
			worst = worse(worst, resume_one(client, store, gcmsg_outbox_entry_key(e), ctx, results));
		}
		if (all) {
			if (!ctx->json && !ctx->quiet && n == 0)
				fputs("gcmsg: outbox retry: nothing to resend\n", stderr);
			break;
		}
	}
	rc = worst;
	if (results) {
		int prc = cli_print_json(json_pack("{s:o}", "results", results));
		results = NULL;
		if (prc && !rc)
			rc = prc;
	}
	cli_webhooks_flush(store, ctx);
out:
	json_decref(results);
	gcmsg_outbox_list_free(list);
	gcmsg_client_free(client);
	gcmsg_store_free(store);
	return rc;
}

static int do_drop(int argc, char **argv, cli_ctx *ctx)
{
	gcmsg_store *store = NULL;
	json_t *results = NULL;
	int i, nkeys, rc, worst = CLI_EXIT_OK;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		outbox_usage(stdout);
		return CLI_EXIT_OK;
	}
	for (i = 1, nkeys = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			ctx->json = 1;
		else if (argv[i][0] == '-')
			return cli_bad_option("outbox drop", argv[i], 0);
		else
			argv[1 + nkeys++] = argv[i];
	}
	argc = 1 + nkeys;
	if (argc < 2)
		return cli_usage_error("outbox drop: give the keys to drop");
	rc = cli_store_open(&store, ctx, CLI_STORE_WEBHOOKS | CLI_STORE_EXISTING);
	if (rc)
		return rc;
	if (ctx->json && !(results = json_array())) {
		gcmsg_store_free(store);
		return cli_print_json(NULL);
	}
	for (i = 1; i < argc; i++) {
		rc = store ? gcmsg_outbox_drop(store, argv[i]) : GCMSG_ENOTFOUND;
		if (rc < 0) {
			const gcmsg_error *e = store ? gcmsg_store_last_error(store) : NULL;
			const char *why = e && e->explanation ? e->explanation : "no entry has this key";
			if (store)
				cli_print_error(argv[i], e);
			else
				fprintf(stderr, "gcmsg: %s: %s\n", argv[i], why);
			if (results)
				json_array_append_new(results, json_pack("{s:s, s:b, s:s, s:i}", "key", argv[i], "dropped", 0,
				                                         "error", why, "exit", cli_exit_code(rc)));
			worst = worse(worst, cli_exit_code(rc));
		} else if (results) {
			json_array_append_new(results, json_pack("{s:s, s:b, s:n, s:i}", "key", argv[i], "dropped", 1,
			                                         "error", "exit", 0));
		} else if (!ctx->quiet) {
			printf("%s: dropped; it will never be sent\n", argv[i]);
		}
	}
	if (results) {
		rc = cli_print_json(json_pack("{s:o}", "results", results));
		worst = worse(worst, rc);
	}
	cli_webhooks_flush(store, ctx);
	gcmsg_store_free(store);
	return worst;
}

int cmd_outbox(int argc, char **argv, cli_ctx *ctx)
{
	if (argc < 2)
		return cli_usage_error("outbox: give a subcommand: list, retry or drop");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		outbox_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "list") == 0)
		return do_list(argc - 1, argv + 1, ctx);
	if (strcmp(argv[1], "retry") == 0)
		return do_retry(argc - 1, argv + 1, ctx);
	if (strcmp(argv[1], "drop") == 0)
		return do_drop(argc - 1, argv + 1, ctx);
	return cli_usage_error("outbox: unknown subcommand '%s' (list, retry, drop)", argv[1]);
}
