/*
 * cmd_bulk.c - gcmsg bulk FILE: one message per row, validated up front,
 * sent concurrently and exactly once (gcmsg_bulk_send), with a progress bar,
 * a JSON line per row on request, and a summary.
 *
 * The order of work: read and validate the whole file (nothing is sent when
 * --strict finds a bad row); find each distinct response once; then the run.
 * Every row's idempotency key is known before the run (gcmsg_bulk_row_key), so
 * a run that was killed is resumed by running the same command again: rows
 * already sent are answered from the outbox, rows in flight are read back.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAX_CONCURRENCY_TEXT "256"
#define MAX_SHOWN_ERRORS 20 /* row errors printed in text mode; the rest are counted */

typedef struct response_ref {
	const char *response, *library; /* borrowed from the file */
	cli_canned_loaded loaded;
	int found;
} response_ref;

typedef struct bulk_plan {
	const char *path, *run_id;
	cli_canned cn; /* the defaults: --text/--response/--library/--file/--offline/--lang/--var/--allow-missing */
	const char *text;
	unsigned long concurrency;
	int strict, dry_run, progress, audit_text;
	char *data;
	size_t len;
	gcmsg_bulk_file *file;
	gcmsg_bulk_item *items;
	size_t *item_line;    /* the file line of each item */
	char (*keys)[GCMSG_BULK_KEY_LEN]; /* the derived keys (a row's own key is borrowed from the file) */
	gcmsg_var *vars;      /* every item's variables, one array */
	response_ref *refs;
	size_t nrefs;
	size_t invalid;       /* rows refused by the file check or the response lookup */
	gcmsg_policy *policy;
	gcmsg_client *client;
	gcmsg_store *store;
	cli_ctx *ctx;
	cli_progress bar;
	size_t done, failed, shown;
	size_t retryable;     /* failed rows that a rerun may still send (throttled, remote or network) */
} bulk_plan;

/* Set by Ctrl-C / SIGTERM, or when stdout's reader has gone: start no more rows. */
static volatile int interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* One JSON line, flushed (a reader of a pipe sees each row as it ends); a closed pipe stops the run. */
static void put_json_line(json_t *o)
{
	if (!o)
		return;
	if (json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0 || fputc('\n', stdout) == EOF ||
	    fflush(stdout) != 0)
		interrupted = 1;
	json_decref(o);
}

static void bulk_usage(FILE *f)
{
	fputs("usage: gcmsg bulk FILE|- [options]\n"
	      "\n"
	      "Send one message per row of FILE (CSV with a header line, or JSON Lines; '-' reads\n"
	      "stdin), concurrently, each exactly once through the outbox. Rows are checked first.\n"
	      "\n"
	      "Columns (CSV) or members (JSON Lines): conversation (required), response, library,\n"
	      "text, key, and variables (var.NAME or any other CSV column; JSON: \"vars\": {...}).\n"
	      "\n"
	      "Options:\n"
	      "  --text TEXT           the text of rows without a text or response\n"
	      "  --response ID|NAME    the canned response of rows without a text or response\n"
	      "  --library ID|NAME     the library to find responses in\n"
	      "  --file F              find responses in this library file\n"
	      "  --offline             find responses in the synced store\n"
	      "  --lang LANG           render this language variant\n"
	      "  --var ID=VALUE        a variable for every row (a row's own value wins)\n"
	      "  --allow-missing       leave unresolved placeholders in place\n"
	      "  --concurrency N       messages in flight at once (1-" MAX_CONCURRENCY_TEXT ", default 32)\n"
	      "  --run-id ID           send rows again that an earlier run sent (a new set of keys)\n"
	      "  --strict              refuse the whole file when any row is bad\n"
	      "  --dry-run             check the file and find the responses; send nothing\n"
	      "  --audit-text          keep message texts in the audit log\n"
	      "  --progress            show the progress bar even when stderr is not a terminal\n"
	      "  --no-progress         never show the progress bar\n"
	      "  --json                one JSON line per row, then a summary line\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "Exit: 0 every row sent (or sent before), 9 some rows failed or were not sent,\n"
	      "2 a bad file or option (nothing sent), 3 configuration or authentication.\n",
	      f);
}

static int parse(bulk_plan *p, int argc, char **argv, cli_ctx *ctx)
{
	enum { O_TEXT = 256, O_CONC, O_RUN_ID, O_STRICT, O_DRY_RUN, O_AUDIT_TEXT, O_PROGRESS, O_NO_PROGRESS, O_JSON };
	static const struct option opts[] = {
		{ "text", required_argument, NULL, O_TEXT },
		{ "response", required_argument, NULL, CLI_OPT_RESPONSE },
		CLI_SOURCE_OPTIONS,
		CLI_RENDER_OPTIONS,
		{ "concurrency", required_argument, NULL, O_CONC },
		{ "run-id", required_argument, NULL, O_RUN_ID },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "dry-run", no_argument, NULL, O_DRY_RUN },
		{ "audit-text", no_argument, NULL, O_AUDIT_TEXT },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "no-progress", no_argument, NULL, O_NO_PROGRESS },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	p->concurrency = GCMSG_BULK_DEFAULT_CONCURRENCY;
	p->progress = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_TEXT:
			if (!*optarg)
				return cli_usage_error("bulk: --text is empty");
			p->text = optarg;
			break;
		case O_CONC:
			if (cli_parse_uint(optarg, GCMSG_BULK_MAX_CONCURRENCY, &p->concurrency) < 0 || p->concurrency == 0)
				return cli_usage_error("bulk: --concurrency wants 1 to %d, not '%s'",
				                       GCMSG_BULK_MAX_CONCURRENCY, optarg);
			break;
		case O_RUN_ID:
			if (!*optarg || strlen(optarg) > 128)
				return cli_usage_error("bulk: --run-id wants 1 to 128 characters");
			p->run_id = optarg;
			break;
		case O_STRICT: p->strict = 1; break;
		case O_DRY_RUN: p->dry_run = 1; break;
		case O_AUDIT_TEXT: p->audit_text = 1; break;
		case O_PROGRESS: p->progress = 1; break;
		case O_NO_PROGRESS: p->progress = 0; break;
		case O_JSON: ctx->json = 1; break;
		case 'h': bulk_usage(stdout); return -1;
		case ':': return cli_bad_getopt("bulk", argv, 1);
		case '?': return cli_bad_getopt("bulk", argv, 0);
		default:
			rc = cli_canned_option(&p->cn, "bulk", c, optarg);
			if (rc < 0)
				return cli_bad_getopt("bulk", argv, 0);
			if (rc)
				return rc;
		}
	}
	if (optind >= argc)
		return cli_usage_error("bulk: missing FILE (a CSV or JSON Lines file, or - for stdin)");
	p->path = argv[optind++];
	if (optind < argc)
		return cli_usage_error("bulk: unexpected argument '%s'", argv[optind]);
	if (p->text && p->cn.response)
		return cli_usage_error("bulk: --text and --response are exclusive (rows may still give either)");
	if (p->progress < 0)
		p->progress = isatty(STDERR_FILENO) && !ctx->quiet;
	return cli_canned_check(&p->cn, "bulk");
}

/* The whole file (or stdin) in memory, one byte more than the limit at most. */
static int read_input(bulk_plan *p)
{
	FILE *f = strcmp(p->path, "-") == 0 ? stdin : fopen(p->path, "rb");
	size_t cap = 1 << 16;
	size_t max = (size_t)GCMSG_BULK_MAX_BYTES + 1;

	if (!f) {
		fprintf(stderr, "gcmsg: bulk: cannot open %s: %s\n", p->path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	p->data = malloc(cap);
	while (p->data) {
		size_t got = fread(p->data + p->len, 1, cap - p->len, f);
		p->len += got;
		if (p->len < cap)
			break;
		if (cap >= max)
			break;
		cap = cap * 2 > max ? max : cap * 2;
		char *bigger = realloc(p->data, cap);
		if (!bigger) {
			free(p->data);
			p->data = NULL;
		} else {
			p->data = bigger;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "gcmsg: bulk: cannot read %s: %s\n", p->path, strerror(errno));
		if (f != stdin)
			fclose(f);
		return CLI_EXIT_USAGE;
	}
	if (f != stdin)
		fclose(f);
	if (!p->data) {
		fputs("gcmsg: bulk: out of memory reading the file\n", stderr);
		return CLI_EXIT_INTERNAL;
	}
	return CLI_EXIT_OK;
}

static const char *shown_name(const bulk_plan *p)
{
	return strcmp(p->path, "-") == 0 ? "<stdin>" : p->path;
}

static void print_invalid_json(size_t line, const char *message)
{
	put_json_line(json_pack("{s:I, s:s, s:{s:s, s:s}}", "line", (json_int_t)line, "status", "invalid", "error",
	                        "code", "usage", "message", message));
}

static void row_invalid(bulk_plan *p, size_t line, const char *message)
{
	p->invalid++;
	if (p->ctx->json)
		print_invalid_json(line, message);
	else if (p->shown++ < MAX_SHOWN_ERRORS)
		fprintf(stderr, "gcmsg: bulk: %s:%zu: %s\n", shown_name(p), line, message);
}

static int check_file(bulk_plan *p)
{
	gcmsg_bulk_defaults d = GCMSG_BULK_DEFAULTS_INIT;
	const char *names[CLI_MAX_VARS], *values[CLI_MAX_VARS];
	size_t i, n;
	int rc;

	d.text = p->text;
	d.response = p->cn.response;
	d.library = p->cn.library;
	for (i = 0; i < p->cn.nvars; i++) {
		names[i] = p->cn.vars[i].id;
		values[i] = p->cn.vars[i].value;
	}
	d.var_count = p->cn.nvars;
	d.var_names = names;
	d.var_values = values;
	rc = gcmsg_bulk_file_parse(&p->file, p->data, p->len, shown_name(p), &d);
	if (!p->file) {
		fputs("gcmsg: bulk: out of memory reading the file\n", stderr);
		return CLI_EXIT_INTERNAL;
	}
	if (rc < 0) {
		cli_print_error("bulk", gcmsg_bulk_file_last_error(p->file));
		fputs("gcmsg: bulk: nothing was sent\n", stderr);
		return cli_exit_code(rc);
	}
	n = gcmsg_bulk_file_errors_kept(p->file);
	for (i = 0; i < n; i++) {
		const gcmsg_bulk_row_error *e = gcmsg_bulk_file_error(p->file, i);
		row_invalid(p, e->line, e->message);
	}
	/* the rows beyond the kept errors are counted, not described */
	p->invalid += gcmsg_bulk_file_error_count(p->file) - n;
	return CLI_EXIT_OK;
}

static response_ref *ref_of(bulk_plan *p, const gcmsg_bulk_row *row)
{
	size_t i;

	for (i = 0; i < p->nrefs; i++) {
		response_ref *r = &p->refs[i];
		if (strcmp(r->response, row->response) == 0 &&
		    (r->library == row->library || (r->library && row->library && strcmp(r->library, row->library) == 0)))
			return r;
	}
	return NULL;
}

/*
 * Find each distinct response once. A response that does not exist makes its
 * rows invalid (they are reported like the file's bad rows); any other
 * failure (credentials, network) ends the command.
 */
static int find_responses(bulk_plan *p)
{
	size_t i, n = gcmsg_bulk_file_row_count(p->file);

	p->refs = calloc(n ? n : 1, sizeof(*p->refs));
	if (!p->refs)
		return CLI_EXIT_INTERNAL;
	for (i = 0; i < n; i++) {
		const gcmsg_bulk_row *row = gcmsg_bulk_file_row(p->file, i);
		cli_canned cn = p->cn;
		response_ref *r;
		char where[512];
		int rc;

		if (!row->response || ref_of(p, row))
			continue;
		r = &p->refs[p->nrefs++];
		r->response = row->response;
		r->library = row->library;
		cn.response = row->response;
		cn.library = row->library;
		snprintf(where, sizeof(where), "bulk: %s:%zu", shown_name(p), row->line);
		rc = cli_canned_load(&r->loaded, &cn, p->client, p->ctx, where);
		if (rc == CLI_EXIT_NOTFOUND)
			continue; /* printed; its rows are invalid */
		if (rc)
			return rc;
		r->found = 1;
	}
	return CLI_EXIT_OK;
}

/* The keys given so far: an open-addressing set of (key, line). */
typedef struct key_set {
	size_t cap;
	const char **key;
	size_t *line;
} key_set;

static size_t key_hash(const char *s)
{
	size_t h = (size_t)1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211ULL;
	return h;
}

/*
 * A row's key against the earlier rows' (its own key may equal the key made
 * for another row): the earlier line, 0 when new (then recorded), -1 on OOM.
 */
static long long key_seen(bulk_plan *p, key_set *x, const char *key, size_t line)
{
	size_t h;

	if (!x->key) {
		size_t n = gcmsg_bulk_file_row_count(p->file);
		for (x->cap = 16; x->cap < 2 * n; x->cap *= 2)
			;
		x->key = calloc(x->cap, sizeof(*x->key));
		x->line = calloc(x->cap, sizeof(*x->line));
		if (!x->key || !x->line)
			return -1;
	}
	for (h = key_hash(key) & (x->cap - 1); x->key[h]; h = (h + 1) & (x->cap - 1))
		if (strcmp(x->key[h], key) == 0)
			return (long long)x->line[h];
	x->key[h] = key;
	x->line[h] = line;
	return 0;
}

static void key_set_free(key_set *x)
{
	free(x->key);
	free(x->line);
}

static int build_items(bulk_plan *p, size_t *count)
{
	size_t n = gcmsg_bulk_file_row_count(p->file), i, k = 0, nvars = 0, v = 0;
	key_set seen = { 0, NULL, NULL };
	long long dup;

	for (i = 0; i < n; i++)
		nvars += gcmsg_bulk_file_row(p->file, i)->var_count;
	p->items = calloc(n ? n : 1, sizeof(*p->items));
	p->item_line = calloc(n ? n : 1, sizeof(*p->item_line));
	p->keys = calloc(n ? n : 1, sizeof(*p->keys));
	p->vars = calloc(nvars ? nvars : 1, sizeof(*p->vars));
	if (!p->items || !p->item_line || !p->keys || !p->vars) {
		fputs("gcmsg: bulk: out of memory\n", stderr);
		return CLI_EXIT_INTERNAL;
	}
	for (i = 0; i < n; i++) {
		const gcmsg_bulk_row *row = gcmsg_bulk_file_row(p->file, i);
		gcmsg_bulk_item *it = &p->items[k];
		size_t j;

		if (row->response) {
			response_ref *r = ref_of(p, row);
			if (!r || !r->found) {
				char msg[300];
				snprintf(msg, sizeof(msg), "response '%.200s' not found", row->response);
				row_invalid(p, row->line, msg);
				continue;
			}
			it->response = r->loaded.response;
		} else {
			it->text = row->text;
		}
		if (row->key) {
			it->key = row->key;
		} else if (gcmsg_bulk_row_key(p->keys[k], sizeof(p->keys[k]), p->run_id, row) == GCMSG_OK) {
			it->key = p->keys[k];
		} else {
			row_invalid(p, row->line, "no key could be made for the row");
			continue;
		}
		if ((dup = key_seen(p, &seen, it->key, row->line)) != 0) {
			char msg[120];
			if (dup < 0) {
				fputs("gcmsg: bulk: out of memory\n", stderr);
				key_set_free(&seen);
				return CLI_EXIT_INTERNAL;
			}
			snprintf(msg, sizeof(msg), "the same idempotency key as line %zu (a row's key, or the key of the "
			                           "same message)", (size_t)dup);
			row_invalid(p, row->line, msg);
			continue;
		}
		it->conversation_id = row->conversation_id;
		it->vars = p->vars + v;
		it->var_count = row->var_count;
		for (j = 0; j < row->var_count; j++, v++) {
			p->vars[v].id = row->var_names[j];
			p->vars[v].value = row->var_values[j];
		}
		p->item_line[k] = row->line;
		k++;
	}
	*count = k;
	key_set_free(&seen);
	return CLI_EXIT_OK;
}

static json_t *error_json(const gcmsg_error *e)
{
	if (!e)
		return json_null();
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:o}", "code", gcmsg_strerror(e->code), "rule",
	                 cli_jstr(e->rule), "genesys_code", cli_jstr(e->genesys_code), "message", cli_jstr(e->message),
	                 "explanation", cli_jstr(e->explanation), "fix", cli_jstr(e->fix), "http_status",
	                 (json_int_t)e->http_status, "correlation_id", cli_jstr(e->correlation_id));
}

static const char *status_of(const gcmsg_bulk_item_result *r)
{
	if (r->code != GCMSG_OK)
		return "failed";
	return r->duplicate ? "duplicate" : "sent";
}

/* One item ended (called one at a time by gcmsg_bulk_send). */
static void on_item(const gcmsg_bulk_item_result *r, void *payload)
{
	bulk_plan *p = payload;
	const gcmsg_bulk_item *it = &p->items[r->index];

	p->done++;
	if (r->code != GCMSG_OK)
		p->failed++;
	if (r->code == GCMSG_ERATELIMIT || r->code == GCMSG_EREMOTE)
		p->retryable++;
	if (p->ctx->json) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:i, s:b, s:I}", "line",
		                      (json_int_t)p->item_line[r->index], "conversation", it->conversation_id, "key",
		                      r->key, "status", status_of(r), "message_id", cli_jstr(r->message_id), "route",
		                      cli_jstr(r->route), "attempts", r->attempts, "read_back", r->read_back,
		                      "latency_ms", (json_int_t)r->latency_ms);
		if (o && r->code != GCMSG_OK) {
			json_object_set_new(o, "stage", cli_jstr(r->stage));
			json_object_set_new(o, "error", error_json(r->error));
		}
		put_json_line(o);
	} else if (r->code != GCMSG_OK && p->shown++ < MAX_SHOWN_ERRORS) {
		char what[512];
		cli_progress_clear(&p->bar);
		snprintf(what, sizeof(what), "bulk: %s:%zu: conversation %s", shown_name(p), p->item_line[r->index],
		         it->conversation_id);
		cli_print_error(what, r->error);
	} else if (r->code == GCMSG_OK && p->ctx->verbose) {
		cli_progress_clear(&p->bar);
		fprintf(stderr, "gcmsg: bulk: %s:%zu: %s %s\n", shown_name(p), p->item_line[r->index], status_of(r),
		        r->message_id ? r->message_id : "");
	}
	cli_progress_update(&p->bar, p->done, p->failed);
}

static void print_summary(bulk_plan *p, const gcmsg_bulk_summary *s, size_t rows)
{
	double secs = (double)s->elapsed_ms / 1000.0;
	double rate = secs > 0 ? (double)(s->sent + s->duplicates) / secs : 0;

	if (p->ctx->json) {
		json_t *o = json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}}", "summary", "rows",
		                      (json_int_t)rows, "sent", (json_int_t)s->sent, "duplicates",
		                      (json_int_t)s->duplicates, "failed", (json_int_t)s->failed, "invalid",
		                      (json_int_t)p->invalid, "not_started", (json_int_t)s->not_started, "requests",
		                      (json_int_t)s->requests, "throttled", (json_int_t)s->throttled, "elapsed_ms",
		                      (json_int_t)s->elapsed_ms, "messages_per_second", rate);
		put_json_line(o);
		return;
	}
	if (p->shown > MAX_SHOWN_ERRORS)
		fprintf(stderr, "gcmsg: bulk: %zu more failed or invalid rows not shown (--json lists every row)\n",
		        p->shown - MAX_SHOWN_ERRORS);
	if (p->ctx->quiet && !s->failed && !p->invalid && !s->not_started)
		return;
	printf("bulk: %zu rows: %zu sent, %zu sent before (not sent again), %zu failed, %zu invalid, %zu not started\n",
	       rows, s->sent, s->duplicates, s->failed, p->invalid, s->not_started);
	if (s->elapsed_ms < 1000) /* a rate over a few milliseconds says nothing */
		printf("bulk: %zu API requests, %zu answered 429; %lld ms\n", s->requests, s->throttled, s->elapsed_ms);
	else
		printf("bulk: %zu API requests, %zu answered 429; %.1f s, %.*f messages/s\n", s->requests, s->throttled,
		       secs, rate < 10 ? 1 : 0, rate);
	if (s->not_started || p->retryable)
		printf("bulk: run the same command again to finish: rows already sent are not sent again\n");
}

static void plan_free(bulk_plan *p)
{
	size_t i;

	for (i = 0; i < p->nrefs; i++)
		cli_canned_loaded_free(&p->refs[i].loaded);
	free(p->refs);
	free(p->items);
	free(p->item_line);
	free(p->keys);
	free(p->vars);
	gcmsg_bulk_file_free(p->file);
	free(p->data);
	gcmsg_client_free(p->client);
	gcmsg_store_free(p->store);
	gcmsg_policy_free(p->policy);
}

static int run(bulk_plan *p, size_t nitems, size_t rows)
{
	gcmsg_bulk_options o = GCMSG_BULK_OPTIONS_INIT;
	gcmsg_bulk_summary sum;
	struct sigaction sa, old_int, old_term, ign;
	int rc;

	o.concurrency = (unsigned)p->concurrency;
	o.store = p->store;
	o.policy = p->policy;
	o.language = p->cn.lang;
	o.allow_missing = p->cn.allow_missing;
	o.source = "bulk";
	o.on_item = on_item;
	o.payload = p;
	o.cancel = &interrupted;
	/*
	 * Ctrl-C stops starting rows; the ones in flight end and are recorded. A
	 * second Ctrl-C ends the process at once (SA_RESETHAND): whatever was in
	 * flight is read back by the next run. A reader of stdout that goes away
	 * (| head) stops the run like a Ctrl-C, instead of killing it mid-send;
	 * SIGPIPE stays ignored to the end (the summary meets the closed pipe
	 * too), and main reports the failed write.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, NULL);
	cli_progress_start(&p->bar, nitems, p->progress && !p->ctx->json);
	rc = gcmsg_bulk_send(p->client, p->items, nitems, &o, &sum);
	cli_progress_end(&p->bar);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (rc < 0) {
		cli_print_error("bulk", gcmsg_client_last_error(p->client));
		print_summary(p, &sum, rows);
		return cli_exit_code(rc);
	}
	if (interrupted && sum.not_started && !p->ctx->json)
		fprintf(stderr, "gcmsg: bulk: interrupted: %zu rows not started\n", sum.not_started);
	print_summary(p, &sum, rows);
	return sum.failed || sum.not_started || p->invalid ? CLI_EXIT_BULK_FAILED : CLI_EXIT_OK;
}

int cmd_bulk(int argc, char **argv, cli_ctx *ctx)
{
	bulk_plan p;
	size_t nitems = 0, rows;
	int rc;

	memset(&p, 0, sizeof(p));
	p.ctx = ctx;
	rc = parse(&p, argc, argv, ctx);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((rc = read_input(&p)) || (rc = check_file(&p)))
		goto out;
	rows = gcmsg_bulk_file_row_count(p.file) + gcmsg_bulk_file_error_count(p.file);
	if (p.strict && p.invalid) {
		fprintf(stderr, "gcmsg: bulk: --strict: %zu of %zu rows are bad: nothing was sent\n", p.invalid, rows);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if ((rc = cli_policy_open(&p.policy, ctx)) || (rc = cli_client_open(&p.client, ctx)) ||
	    (rc = find_responses(&p)) || (rc = build_items(&p, &nitems)))
		goto out;
	if (p.strict && p.invalid) {
		fprintf(stderr, "gcmsg: bulk: --strict: %zu of %zu rows are bad: nothing was sent\n", p.invalid, rows);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (p.dry_run) {
		if (ctx->json)
			printf("{\"summary\":{\"rows\":%zu,\"valid\":%zu,\"invalid\":%zu,\"dry_run\":true}}\n", rows, nitems,
			       p.invalid);
		else
			printf("bulk: %zu rows: %zu ready to send, %zu invalid (dry run: nothing was sent)\n", rows, nitems,
			       p.invalid);
		rc = p.invalid ? CLI_EXIT_BULK_FAILED : CLI_EXIT_OK;
		goto out;
	}
	if (nitems == 0) {
		if (!ctx->json)
			printf("bulk: %zu rows: nothing to send\n", rows);
		rc = p.invalid ? CLI_EXIT_BULK_FAILED : CLI_EXIT_OK;
		goto out;
	}
	if ((rc = cli_store_open(&p.store, ctx, CLI_STORE_WEBHOOKS | (p.audit_text ? CLI_STORE_AUDIT_TEXT : 0))))
		goto out;
	rc = run(&p, nitems, rows);
	fflush(stdout);
	cli_webhooks_flush(p.store, ctx);
out:
	plan_free(&p);
	return rc;
}
