/*
 * cmd_responses.c - gcmsg responses list|libraries|search|show|render|sync.
 * Each reads Response Management, a library file (--file) or the offline
 * store (--offline); only sync writes (into the store).
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void responses_usage(FILE *f)
{
	fputs("usage: gcmsg [global options] responses <action> [options]\n"
	      "\n"
	      "Canned responses from Genesys Response Management, a library file (--file F)\n"
	      "or the offline store (--offline, filled by 'responses sync').\n"
	      "\n"
	      "Actions:\n"
	      "  list [--library L]                every response (of one library)\n"
	      "  libraries                         every library\n"
	      "  search PHRASE [--library L]       responses whose name or text contains PHRASE\n"
	      "  show ID|NAME [--library L]        one response: texts, substitutions, versions\n"
	      "  render ID|NAME [--library L] [--conversation CONV] [--var ID=VALUE]... [--lang L]\n"
	      "         [--allow-missing] [--html]\n"
	      "                                    print exactly the text a send would deliver\n"
	      "  sync [--library L] [--dry-run]    copy libraries into the store for offline use\n"
	      "\n"
	      "Source options (list, libraries, search, show, render):\n"
	      "  --file F        a library file (gcmsg-library(5))\n"
	      "  --offline       the store ('gcmsg --store DIR', default ~/.gcmsg/store)\n"
	      "  --library L     a library id or name\n"
	      "  --json          print one JSON document\n"
	      "  -h, --help      show this help\n",
	      f);
}

typedef struct rargs {
	cli_canned cn;
	const char *conversation, *arg;
	int html, dry_run, needs_arg;
} rargs;

static int parse(int argc, char **argv, cli_ctx *ctx, const char *cmd, rargs *a)
{
	enum { O_JSON = 256, O_CONV, O_HTML, O_DRY_RUN };
	static const struct option opts[] = {
		CLI_SOURCE_OPTIONS,
		CLI_RENDER_OPTIONS,
		{ "conversation", required_argument, NULL, O_CONV },
		{ "html", no_argument, NULL, O_HTML },
		{ "dry-run", no_argument, NULL, O_DRY_RUN },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	optind = 0; /* full re-initialisation: the global parse left getopt in '+' mode */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_JSON: ctx->json = 1; break;
		case O_CONV: a->conversation = optarg; break;
		case O_HTML: a->html = 1; break;
		case O_DRY_RUN: a->dry_run = 1; break;
		case 'h': responses_usage(stdout); return -1;
		case ':': return cli_bad_getopt(cmd, argv, 1);
		case '?': return cli_bad_getopt(cmd, argv, 0);
		default:
			rc = cli_canned_option(&a->cn, cmd, c, optarg);
			if (rc)
				return rc < 0 ? cli_bad_getopt(cmd, argv, 0) : rc;
		}
	}
	if (a->needs_arg) {
		if (optind >= argc)
			return cli_usage_error("%s: missing %s", cmd,
			                       strcmp(cmd, "responses search") == 0 ? "PHRASE" : "ID|NAME");
		a->arg = argv[optind++];
		if (!*a->arg)
			return cli_usage_error("%s: the %s is empty", cmd,
			                       strcmp(cmd, "responses search") == 0 ? "phrase" : "id or name");
	}
	if (optind < argc)
		return cli_usage_error("%s: unexpected argument '%s'", cmd, argv[optind]);
	return cli_canned_check(&a->cn, cmd);
}

/* What each action takes (its options outside these are refused, not ignored). */
#define A_SRC 1u
#define A_RENDER 2u
#define A_CONV 4u
#define A_HTML 8u
#define A_DRY 16u
#define A_LIB 32u

/* The options an action does not take are refused rather than ignored. */
static int refuse_unused(const rargs *a, const char *cmd, unsigned allowed)
{
	if (!(allowed & A_SRC) && (a->cn.file || a->cn.offline))
		return cli_usage_error("%s: --file and --offline do not apply", cmd);
	if (!(allowed & A_LIB) && a->cn.library)
		return cli_usage_error("%s: --library does not apply", cmd);
	if (!(allowed & A_RENDER) && (a->cn.nvars || a->cn.lang || a->cn.allow_missing))
		return cli_usage_error("%s: --var, --lang and --allow-missing apply to render only", cmd);
	if (!(allowed & A_CONV) && a->conversation)
		return cli_usage_error("%s: --conversation applies to render only", cmd);
	if (!(allowed & A_HTML) && a->html)
		return cli_usage_error("%s: --html applies to render only", cmd);
	if (!(allowed & A_DRY) && a->dry_run)
		return cli_usage_error("%s: --dry-run applies to sync only", cmd);
	return CLI_EXIT_OK;
}

static int client_failed(const char *cmd, gcmsg_client *client, int rc)
{
	cli_print_error(cmd, gcmsg_client_last_error(client));
	return cli_exit_code(rc);
}

/* ---- list / search: a table, or a JSON array ---- */

static int print_set(const gcmsg_response_set *set, const cli_ctx *ctx, const char *const *only, size_t nonly)
{
	size_t i, n = gcmsg_response_set_count(set);

	if (ctx->json) {
		json_t *a = json_array();
		for (i = 0; a && i < n; i++)
			if (!only || only[i])
				json_array_append_new(a, cli_response_json(gcmsg_response_set_get(set, i), 0));
		return cli_print_json(a);
	}
	if (!ctx->quiet)
		printf("%-36s  %-7s  %-24s  %s\n", "ID", "VERSION", "LIBRARY", "NAME");
	for (i = 0; i < n; i++) {
		const gcmsg_response *r = gcmsg_response_set_get(set, i);
		const char *lib = gcmsg_response_library_name(r) ? gcmsg_response_library_name(r)
		                                                 : gcmsg_response_library_id(r);
		char ver[24] = "-";

		if (only && !only[i])
			continue;
		if (gcmsg_response_version(r) >= 0)
			snprintf(ver, sizeof(ver), "%ld", gcmsg_response_version(r));
		printf("%-36s  %-7s  %-24s  %s%s\n", gcmsg_response_id(r), ver, lib ? lib : "-",
		       gcmsg_response_name(r) ? gcmsg_response_name(r) : "",
		       gcmsg_response_is_template(r) ? "  [template]" : "");
	}
	(void)nonly;
	return CLI_EXIT_OK;
}

/* case-insensitive (ASCII) substring */
static int contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	if (!hay)
		return 0;
	for (; *hay; hay++) {
		for (i = 0; i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]); i++)
			;
		if (i == n)
			return 1;
	}
	return n == 0;
}

static int in_library(const gcmsg_response *r, const char *lib)
{
	size_t i;

	if (!lib)
		return 1;
	for (i = 0; i < gcmsg_response_library_count(r); i++) {
		const char *id = gcmsg_response_library_id_at(r, i), *name = gcmsg_response_library_name_at(r, i);
		if ((id && strcmp(id, lib) == 0) || (name && strcmp(name, lib) == 0))
			return 1;
	}
	return 0;
}

/* Is `lib` the id or the name of one of the set's libraries? (as the remote listing would ask) */
static int library_known(const gcmsg_response_set *set, const char *lib)
{
	size_t i;

	for (i = 0; i < gcmsg_response_set_library_count(set); i++) {
		const char *id = gcmsg_response_set_library_id(set, i), *name = gcmsg_response_set_library_name(set, i);
		if ((id && strcmp(id, lib) == 0) || (name && strcmp(name, lib) == 0))
			return 1;
	}
	return 0;
}

/* list and search over a local set: the same semantics as the server's (name or text, any case) */
static int local_filter(gcmsg_response_set *set, const cli_ctx *ctx, const char *phrase, const char *lib)
{
	size_t i, j, n = gcmsg_response_set_count(set);
	const char **only = calloc(n ? n : 1, sizeof(char *));
	int rc;

	if (!only)
		return CLI_EXIT_INTERNAL;
	for (i = 0; i < n; i++) {
		const gcmsg_response *r = gcmsg_response_set_get(set, i);
		int hit = in_library(r, lib) && (!phrase || contains_ci(gcmsg_response_name(r), phrase));

		for (j = 0; phrase && !hit && in_library(r, lib) && j < gcmsg_response_text_count(r); j++)
			hit = contains_ci(gcmsg_response_text_content(r, j), phrase);
		only[i] = hit ? "" : NULL;
	}
	if (lib && !library_known(set, lib)) {
		free(only);
		fprintf(stderr, "gcmsg: responses: no library '%s' here\n", lib);
		return CLI_EXIT_NOTFOUND;
	}
	rc = print_set(set, ctx, only, n);
	free(only);
	return rc;
}

static int act_list(rargs *a, cli_ctx *ctx, const char *phrase)
{
	const char *cmd = phrase ? "responses search" : "responses list";
	gcmsg_response_set *set = NULL;
	gcmsg_client *client = NULL;
	int rc;

	if (a->cn.file || a->cn.offline) {
		rc = cli_canned_open_local(&set, &a->cn, ctx, cmd);
		if (rc)
			return rc;
		rc = local_filter(set, ctx, phrase, a->cn.library);
		gcmsg_response_set_free(set);
		return rc;
	}
	rc = cli_client_open(&client, ctx);
	if (rc)
		return rc;
	rc = phrase ? gcmsg_responses_search(&set, client, phrase, a->cn.library)
	            : gcmsg_responses_list(&set, client, a->cn.library);
	rc = rc < 0 ? client_failed(cmd, client, rc) : print_set(set, ctx, NULL, 0);
	gcmsg_response_set_free(set);
	gcmsg_client_free(client);
	return rc;
}

static int act_libraries(rargs *a, cli_ctx *ctx)
{
	gcmsg_response_set *set = NULL;
	gcmsg_client *client = NULL;
	size_t i;
	int rc;

	if (a->cn.file || a->cn.offline) {
		rc = cli_canned_open_local(&set, &a->cn, ctx, "responses libraries");
	} else {
		rc = cli_client_open(&client, ctx);
		if (rc)
			return rc;
		rc = gcmsg_libraries_list(&set, client, NULL);
		if (rc < 0)
			rc = client_failed("responses libraries", client, rc);
	}
	if (rc == CLI_EXIT_OK && ctx->json) {
		json_t *arr = json_array();
		for (i = 0; arr && i < gcmsg_response_set_library_count(set); i++) {
			long v = gcmsg_response_set_library_version(set, i);
			json_array_append_new(arr, json_pack("{s:o, s:o, s:o}", "id",
			                                     cli_jstr(gcmsg_response_set_library_id(set, i)), "name",
			                                     cli_jstr(gcmsg_response_set_library_name(set, i)),
			                                     "version", v >= 0 ? json_integer(v) : json_null()));
		}
		rc = cli_print_json(arr);
	} else if (rc == CLI_EXIT_OK) {
		if (!ctx->quiet)
			printf("%-36s  %-7s  %s\n", "ID", "VERSION", "NAME");
		for (i = 0; i < gcmsg_response_set_library_count(set); i++) {
			char ver[24] = "-";
			if (gcmsg_response_set_library_version(set, i) >= 0)
				snprintf(ver, sizeof(ver), "%ld", gcmsg_response_set_library_version(set, i));
			printf("%-36s  %-7s  %s\n", gcmsg_response_set_library_id(set, i), ver,
			       gcmsg_response_set_library_name(set, i) ? gcmsg_response_set_library_name(set, i) : "");
		}
	}
	gcmsg_response_set_free(set);
	gcmsg_client_free(client);
	return rc;
}

static void print_indented(const char *text)
{
	const char *p = text ? text : "";

	fputs("    ", stdout);
	for (; *p; p++) {
		putchar(*p);
		if (*p == '\n' && p[1])
			fputs("    ", stdout);
	}
	putchar('\n');
}

static int show_text(const gcmsg_response *r)
{
	size_t i;

	printf("id:          %s\n", gcmsg_response_id(r));
	printf("name:        %s\n", gcmsg_response_name(r) ? gcmsg_response_name(r) : "");
	if (gcmsg_response_version(r) >= 0)
		printf("version:     %ld\n", gcmsg_response_version(r));
	for (i = 0; i < gcmsg_response_library_count(r); i++)
		printf("library:     %s (%s)\n",
		       gcmsg_response_library_name_at(r, i) ? gcmsg_response_library_name_at(r, i) : "-",
		       gcmsg_response_library_id_at(r, i));
	if (gcmsg_response_type(r))
		printf("type:        %s\n", gcmsg_response_type(r));
	if (gcmsg_response_template_name(r))
		printf("template:    %s (%s)\n", gcmsg_response_template_name(r),
		       gcmsg_response_template_language(r) ? gcmsg_response_template_language(r) : "-");
	printf("origin:      %s%s%s\n", gcmsg_response_origin_name(r), gcmsg_response_path(r) ? " " : "",
	       gcmsg_response_path(r) ? gcmsg_response_path(r) : "");
	if (gcmsg_response_date_created(r))
		printf("created:     %s\n", gcmsg_response_date_created(r));
	if (gcmsg_response_substitution_count(r)) {
		printf("substitutions:\n");
		for (i = 0; i < gcmsg_response_substitution_count(r); i++) {
			const char *d = gcmsg_response_substitution_description(r, i);
			const char *v = gcmsg_response_substitution_default(r, i);
			printf("  {{%s}}%s%s", gcmsg_response_substitution_id(r, i), d && *d ? "  " : "", d ? d : "");
			if (v)
				printf("  (default: %s)", v);
			putchar('\n');
		}
	}
	for (i = 0; i < gcmsg_response_text_count(r); i++) {
		const char *lang = gcmsg_response_text_language(r, i), *type = gcmsg_response_text_type(r, i);
		printf("text %zu: %s%s%s%s%s\n", i + 1,
		       gcmsg_response_text_content_type(r, i) ? gcmsg_response_text_content_type(r, i) : "text/plain",
		       type ? ", " : "", type ? type : "", lang ? ", language " : "", lang ? lang : "");
		print_indented(gcmsg_response_text_content(r, i));
	}
	return CLI_EXIT_OK;
}

static int act_show(rargs *a, cli_ctx *ctx)
{
	cli_canned_loaded l;
	gcmsg_client *client = NULL;
	int rc;

	a->cn.response = a->arg;
	if (!a->cn.file && !a->cn.offline) {
		rc = cli_client_open(&client, ctx);
		if (rc)
			return rc;
	}
	rc = cli_canned_load(&l, &a->cn, client, ctx, "responses show");
	if (rc == CLI_EXIT_OK) {
		rc = ctx->json ? cli_print_json(cli_response_json(l.response, 1)) : show_text(l.response);
		cli_canned_loaded_free(&l);
	}
	gcmsg_client_free(client);
	return rc;
}

static int act_render(rargs *a, cli_ctx *ctx)
{
	gcmsg_render_options ro = GCMSG_RENDER_OPTIONS_INIT;
	cli_canned_loaded l;
	gcmsg_client *client = NULL;
	gcmsg_conversation *conv = NULL;
	const gcmsg_identity *caller = NULL;
	gcmsg_rendered *rd = NULL;
	int rc;

	memset(&l, 0, sizeof(l));
	a->cn.response = a->arg;
	if ((!a->cn.file && !a->cn.offline) || a->conversation) {
		rc = cli_client_open(&client, ctx);
		if (rc)
			return rc;
	}
	rc = cli_canned_load(&l, &a->cn, client, ctx, "responses render");
	if (rc)
		goto out;
	if (a->conversation) {
		rc = gcmsg_conversation_get(&conv, client, a->conversation);
		if (rc == GCMSG_OK)
			rc = gcmsg_client_whoami(&caller, client);
		if (rc < 0) {
			rc = client_failed("responses render", client, rc);
			goto out;
		}
	}
	cli_canned_render_options(&ro, &a->cn, conv, caller);
	ro.keep_html = a->html;
	rc = gcmsg_render(&rd, l.response, &ro);
	if (rc < 0) {
		rc = cli_render_failed("responses render", rd, rc);
		goto out;
	}
	cli_render_warnings(ctx, rd);
	if (ctx->json) {
		json_t *doc = cli_rendered_json(rd, 1);
		if (doc) {
			json_object_set_new(doc, "text", json_string(gcmsg_rendered_text(rd)));
			json_object_set_new(doc, "response", cli_response_json(l.response, 0));
		}
		rc = cli_print_json(doc);
	} else {
		/* stdout holds exactly the text a send would deliver */
		printf("%s\n", gcmsg_rendered_text(rd));
		if (ctx->verbose)
			cli_print_placeholders(stderr, rd);
		rc = CLI_EXIT_OK;
	}
out:
	gcmsg_rendered_free(rd);
	gcmsg_conversation_free(conv);
	cli_canned_loaded_free(&l);
	gcmsg_client_free(client);
	return rc;
}

static int act_sync(rargs *a, cli_ctx *ctx)
{
	gcmsg_sync_options so = GCMSG_SYNC_OPTIONS_INIT;
	gcmsg_sync_report *rep = NULL;
	gcmsg_client *client = NULL;
	char *store = NULL;
	size_t i;
	int rc;

	rc = cli_store_dir(&store, ctx);
	if (rc)
		return rc;
	rc = cli_client_open(&client, ctx);
	if (rc) {
		gcmsg_free(store);
		return rc;
	}
	so.store_dir = store;
	so.library = a->cn.library;
	so.dry_run = a->dry_run;
	rc = gcmsg_responses_sync(&rep, client, &so);
	if (rc < 0) {
		rc = client_failed("responses sync", client, rc);
		goto out;
	}
	if (ctx->json) {
		json_t *arr = json_array();
		for (i = 0; arr && i < gcmsg_sync_report_library_count(rep); i++)
			json_array_append_new(
				arr, json_pack("{s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:b, s:b}", "libraryId",
			                       cli_jstr(gcmsg_sync_report_library_id(rep, i)), "libraryName",
			                       cli_jstr(gcmsg_sync_report_library_name(rep, i)), "path",
			                       cli_jstr(gcmsg_sync_report_path(rep, i)), "added",
			                       (json_int_t)gcmsg_sync_report_added(rep, i), "updated",
			                       (json_int_t)gcmsg_sync_report_updated(rep, i), "unchanged",
			                       (json_int_t)gcmsg_sync_report_unchanged(rep, i), "removed",
			                       (json_int_t)gcmsg_sync_report_removed(rep, i), "written",
			                       gcmsg_sync_report_written(rep, i), "deleted",
			                       gcmsg_sync_report_deleted(rep, i)));
		json_t *doc = json_pack("{s:b, s:s, s:o}", "dryRun", a->dry_run, "store", store, "libraries",
		                        arr ? arr : json_array());
		rc = cli_print_json(doc);
	} else if (!ctx->quiet) {
		for (i = 0; i < gcmsg_sync_report_library_count(rep); i++) {
			if (gcmsg_sync_report_deleted(rep, i)) {
				printf("%s (%s): gone from Genesys; %zu removed%s %s\n",
				       gcmsg_sync_report_library_name(rep, i) ? gcmsg_sync_report_library_name(rep, i)
				                                              : "-",
				       gcmsg_sync_report_library_id(rep, i), gcmsg_sync_report_removed(rep, i),
				       a->dry_run ? ", would delete" : ", deleted", gcmsg_sync_report_path(rep, i));
				continue;
			}
			printf("%s (%s): %zu added, %zu updated, %zu unchanged, %zu removed%s%s\n",
			       gcmsg_sync_report_library_name(rep, i) ? gcmsg_sync_report_library_name(rep, i) : "-",
			       gcmsg_sync_report_library_id(rep, i), gcmsg_sync_report_added(rep, i),
			       gcmsg_sync_report_updated(rep, i), gcmsg_sync_report_unchanged(rep, i),
			       gcmsg_sync_report_removed(rep, i),
			       gcmsg_sync_report_written(rep, i) ? (a->dry_run ? " -> would write " : " -> ") : "",
			       gcmsg_sync_report_written(rep, i) ? gcmsg_sync_report_path(rep, i) : "");
		}
		if (a->dry_run)
			fputs("gcmsg: dry run: the store was not changed\n", stderr);
	}
out:
	gcmsg_sync_report_free(rep);
	gcmsg_client_free(client);
	gcmsg_free(store);
	return rc;
}

int cmd_responses(int argc, char **argv, cli_ctx *ctx)
{
	static const struct {
		const char *name;
		unsigned allowed;
		int needs_arg;
	} actions[] = {
		{ "list", A_SRC | A_LIB, 0 },
		{ "libraries", A_SRC, 0 },
		{ "search", A_SRC | A_LIB, 1 },
		{ "show", A_SRC | A_LIB, 1 },
		{ "render", A_SRC | A_LIB | A_RENDER | A_CONV | A_HTML, 1 },
		{ "sync", A_LIB | A_DRY, 0 },
	};
	char cmd[48];
	rargs a;
	size_t i;
	int rc;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		responses_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(argv[1], actions[i].name) == 0)
			break;
	if (i == sizeof(actions) / sizeof(actions[0]))
		return cli_usage_error("responses: unknown action '%s' (list, libraries, search, show, render, "
		                       "sync)",
		                       argv[1]);
	memset(&a, 0, sizeof(a));
	a.needs_arg = actions[i].needs_arg;
	snprintf(cmd, sizeof(cmd), "responses %s", actions[i].name);
	rc = parse(argc - 1, argv + 1, ctx, cmd, &a);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	rc = refuse_unused(&a, cmd, actions[i].allowed);
	if (rc)
		return rc;
	switch (i) {
	case 0: return act_list(&a, ctx, NULL);
	case 1: return act_libraries(&a, ctx);
	case 2: return act_list(&a, ctx, a.arg);
	case 3: return act_show(&a, ctx);
	case 4: return act_render(&a, ctx);
	default: return act_sync(&a, ctx);
	}
}
