/*
 * canned.c - the options every canned-response command shares (--response,
 * --library, --file, --offline, --lang, --var, --allow-missing), finding the
 * response they name, and rendering it with what the user asked for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-' || c == '.';
}

static int add_var(cli_canned *cn, const char *cmd, char *arg)
{
	char *eq = strchr(arg, '=');
	size_t i;

	if (!eq || eq == arg)
		return cli_usage_error("%s: --var wants ID=VALUE (e.g. --var CaseNumber=CS-1042)", cmd);
	*eq = '\0';
	for (i = 0; arg[i]; i++)
		if (!id_char(arg[i])) {
			/* the value may be PII: name the id only */
			return cli_usage_error("%s: --var %s: a placeholder id has only letters, digits, "
			                       "'_', '-' and '.'",
			                       cmd, arg);
		}
	for (i = 0; i < cn->nvars; i++)
		if (strcmp(cn->vars[i].id, arg) == 0)
			return cli_usage_error("%s: --var %s is given twice", cmd, arg);
	if (cn->nvars >= CLI_MAX_VARS)
		return cli_usage_error("%s: at most %d --var options", cmd, CLI_MAX_VARS);
	cn->vars[cn->nvars].id = arg;
	cn->vars[cn->nvars].value = eq + 1;
	cn->nvars++;
	return CLI_EXIT_OK;
}

int cli_canned_option(cli_canned *cn, const char *cmd, int opt, char *arg)
{
	switch (opt) {
	case CLI_OPT_RESPONSE: cn->response = arg; break;
	case CLI_OPT_LIBRARY: cn->library = arg; break;
	case CLI_OPT_FILE: cn->file = arg; break;
	case CLI_OPT_OFFLINE: cn->offline = 1; break;
	case CLI_OPT_LANG: cn->lang = arg; break;
	case CLI_OPT_VAR: return add_var(cn, cmd, arg);
	case CLI_OPT_ALLOW_MISSING: cn->allow_missing = 1; break;
	default: return -1;
	}
	if (arg && !*arg)
		return cli_usage_error("%s: an option's value is empty", cmd);
	return CLI_EXIT_OK;
}

int cli_canned_check(const cli_canned *cn, const char *cmd)
{
	if (cn->file && cn->offline)
		return cli_usage_error("%s: --file and --offline are exclusive (a file is already offline)", cmd);
	return CLI_EXIT_OK;
}

/* Report a failure of a set (file, store, find) and give the exit code. */
static int set_failed(const char *cmd, gcmsg_response_set *set, int rc)
{
	cli_print_error(cmd, gcmsg_response_set_last_error(set));
	return cli_exit_code(rc);
}

int cli_canned_open_local(gcmsg_response_set **out, const cli_canned *cn, cli_ctx *ctx, const char *cmd)
{
	char *store = NULL;
	int rc;

	*out = NULL;
	if (cn->file) {
		rc = gcmsg_response_set_load_file(out, cn->file);
	} else {
		rc = cli_store_dir(&store, ctx);
		if (rc)
			return rc;
		rc = gcmsg_response_set_load_store(out, store);
		gcmsg_free(store);
	}
	if (rc < 0) {
		if (!*out) {
			fprintf(stderr, "gcmsg: %s: out of memory\n", cmd);
			return CLI_EXIT_INTERNAL;
		}
		rc = set_failed(cmd, *out, rc);
		gcmsg_response_set_free(*out);
		*out = NULL;
		return rc;
	}
	return CLI_EXIT_OK;
}

void cli_canned_loaded_free(cli_canned_loaded *l)
{
	gcmsg_response_set_free(l->set);
	gcmsg_response_free(l->owned);
	memset(l, 0, sizeof(*l));
}

int cli_canned_load(cli_canned_loaded *l, const cli_canned *cn, gcmsg_client *client, cli_ctx *ctx,
                    const char *cmd)
{
	int rc;

	memset(l, 0, sizeof(*l));
	if (cn->file || cn->offline) {
		rc = cli_canned_open_local(&l->set, cn, ctx, cmd);
		if (rc)
			return rc;
		if (!cn->response && cn->file && gcmsg_response_set_count(l->set) == 1 && !cn->library) {
			l->response = gcmsg_response_set_get(l->set, 0);
			return CLI_EXIT_OK;
		}
		if (!cn->response) {
			size_t n = gcmsg_response_set_count(l->set);
			cli_canned_loaded_free(l);
			if (cn->file && n == 1)
				return cli_usage_error("%s: name the response (--response ID|NAME) when giving --library",
				                       cmd);
			return cli_usage_error("%s: name the response (--response ID|NAME); %s holds %zu", cmd,
			                       cn->file ? cn->file : "the store", n);
		}
		rc = gcmsg_response_set_find(&l->response, l->set, cn->response, cn->library);
		if (rc < 0) {
			rc = set_failed(cmd, l->set, rc);
			cli_canned_loaded_free(l);
		}
		return rc;
	}
	if (!cn->response)
		return cli_usage_error("%s: name the response (--response ID|NAME)", cmd);
	rc = gcmsg_response_lookup(&l->owned, client, cn->response, cn->library);
	if (rc < 0) {
		cli_print_error(cmd, gcmsg_client_last_error(client));
		return cli_exit_code(rc);
	}
	l->response = l->owned;
	return CLI_EXIT_OK;
}

void cli_canned_render_options(gcmsg_render_options *ro, const cli_canned *cn, const gcmsg_conversation *conv,
                               const gcmsg_identity *caller)
{
	ro->vars = cn->nvars ? cn->vars : NULL;
	ro->var_count = cn->nvars;
	ro->conversation = conv;
	ro->caller = caller;
	ro->language = cn->lang;
	ro->allow_missing = cn->allow_missing;
}

int cli_render_failed(const char *cmd, const gcmsg_rendered *rd, int rc)
{
	const char *what = rd ? gcmsg_rendered_error(rd) : NULL;

	if (!rd) {
		fprintf(stderr, "gcmsg: %s: out of memory\n", cmd);
		return CLI_EXIT_INTERNAL;
	}
	fprintf(stderr, "gcmsg: %s: %s: %s (nothing was sent)\n", cmd, gcmsg_strerror(rc),
	        what ? what : "the response cannot be rendered");
	if (rc == GCMSG_EPOLICY)
		fputs("gcmsg: fix: give each value with --var ID=VALUE, or --allow-missing to leave "
		      "placeholders in place as Genesys does\n",
		      stderr);
	return cli_exit_code(rc);
}

void cli_render_warnings(const cli_ctx *ctx, const gcmsg_rendered *rd)
{
	char line[512];
	size_t i;

	if (!rd)
		return;
	for (i = 0; i < gcmsg_rendered_missing_count(rd); i++) {
		snprintf(line, sizeof(line), "{{%s}} has no value and is left in place (--allow-missing)",
		         gcmsg_rendered_missing(rd, i));
		cli_warn(ctx, "placeholder.missing", line);
	}
	for (i = 0; i < gcmsg_rendered_malformed_count(rd); i++) {
		snprintf(line, sizeof(line), "malformed placeholder at byte %zu left as written: %s",
		         gcmsg_rendered_malformed_offset(rd, i), gcmsg_rendered_malformed_reason(rd, i));
		cli_warn(ctx, "placeholder.malformed", line);
	}
}

json_t *cli_response_json(const gcmsg_response *r, int full)
{
	json_t *doc = json_object(), *libs = json_array();
	size_t i;

	if (!doc || !libs) {
		json_decref(doc);
		json_decref(libs);
		return NULL;
	}
	json_object_set_new(doc, "id", cli_jstr(gcmsg_response_id(r)));
	json_object_set_new(doc, "name", cli_jstr(gcmsg_response_name(r)));
	json_object_set_new(doc, "version",
	                    gcmsg_response_version(r) >= 0 ? json_integer(gcmsg_response_version(r)) : json_null());
	for (i = 0; i < gcmsg_response_library_count(r); i++)
		json_array_append_new(libs, json_pack("{s:o, s:o}", "id", cli_jstr(gcmsg_response_library_id_at(r, i)),
		                                      "name", cli_jstr(gcmsg_response_library_name_at(r, i))));
	json_object_set_new(doc, "libraries", libs);
	json_object_set_new(doc, "responseType", cli_jstr(gcmsg_response_type(r)));
	json_object_set_new(doc, "origin", json_string(gcmsg_response_origin_name(r)));
	if (!full)
		return doc;
	json_object_set_new(doc, "path", cli_jstr(gcmsg_response_path(r)));
	json_object_set_new(doc, "interactionType", cli_jstr(gcmsg_response_interaction_type(r)));
	json_object_set_new(doc, "dateCreated", cli_jstr(gcmsg_response_date_created(r)));
	json_object_set_new(doc, "defaultLanguage", cli_jstr(gcmsg_response_default_language(r)));
	{
		json_t *texts = json_array(), *subs = json_array();
		for (i = 0; texts && i < gcmsg_response_text_count(r); i++)
			json_array_append_new(texts, json_pack("{s:o, s:o, s:o, s:o}", "content",
			                                       cli_jstr(gcmsg_response_text_content(r, i)), "contentType",
			                                       cli_jstr(gcmsg_response_text_content_type(r, i)), "type",
			                                       cli_jstr(gcmsg_response_text_type(r, i)), "language",
			                                       cli_jstr(gcmsg_response_text_language(r, i))));
		for (i = 0; subs && i < gcmsg_response_substitution_count(r); i++)
			json_array_append_new(subs, json_pack("{s:o, s:o, s:o}", "id",
			                                      cli_jstr(gcmsg_response_substitution_id(r, i)),
			                                      "description",
			                                      cli_jstr(gcmsg_response_substitution_description(r, i)),
			                                      "defaultValue",
			                                      cli_jstr(gcmsg_response_substitution_default(r, i))));
		json_object_set_new(doc, "texts", texts ? texts : json_array());
		json_object_set_new(doc, "substitutions", subs ? subs : json_array());
	}
	if (gcmsg_response_template_name(r))
		json_object_set_new(doc, "messagingTemplate",
		                    json_pack("{s:{s:o, s:o}}", "whatsApp", "name",
		                              cli_jstr(gcmsg_response_template_name(r)), "language",
		                              cli_jstr(gcmsg_response_template_language(r))));
	return doc;
}

json_t *cli_rendered_json(const gcmsg_rendered *rd, int with_values)
{
	json_t *doc = json_object(), *ph = json_array(), *missing = json_array();
	size_t i;

	if (!doc || !ph || !missing) {
		json_decref(doc);
		json_decref(ph);
		json_decref(missing);
		return NULL;
	}
	for (i = 0; i < gcmsg_rendered_placeholder_count(rd); i++) {
		json_t *p = json_pack("{s:o, s:s}", "id", cli_jstr(gcmsg_rendered_placeholder_id(rd, i)), "source",
		                      gcmsg_value_source_name(gcmsg_rendered_placeholder_source(rd, i)));
		if (p && with_values)
			json_object_set_new(p, "value", cli_jstr(gcmsg_rendered_placeholder_value(rd, i)));
		json_array_append_new(ph, p);
	}
	for (i = 0; i < gcmsg_rendered_missing_count(rd); i++)
		json_array_append_new(missing, cli_jstr(gcmsg_rendered_missing(rd, i)));
	json_object_set_new(doc, "placeholders", ph);
	json_object_set_new(doc, "missing", missing);
	json_object_set_new(doc, "contentType", cli_jstr(gcmsg_rendered_content_type(rd)));
	json_object_set_new(doc, "flattenedFromHtml", json_boolean(gcmsg_rendered_flattened(rd)));
	json_object_set_new(doc, "language", cli_jstr(gcmsg_rendered_language(rd)));
	json_object_set_new(doc, "template", json_boolean(gcmsg_rendered_is_template(rd)));
	return doc;
}

void cli_print_placeholders(FILE *f, const gcmsg_rendered *rd)
{
	size_t i, n = gcmsg_rendered_placeholder_count(rd);

	if (!n)
		return;
	fputs("placeholders:", f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s %s (%s)", i ? "," : "", gcmsg_rendered_placeholder_id(rd, i),
		        gcmsg_value_source_name(gcmsg_rendered_placeholder_source(rd, i)));
	fputc('\n', f);
}
