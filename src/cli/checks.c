/*
 * checks.c - the content policy as the tool shows it: loading the policy the
 * configuration names, checking a text or an attachment, and printing the
 * violations (rule, spans, message; never the offending text itself).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_policy_open(gcmsg_policy **out, cli_ctx *ctx)
{
	gcmsg_config *cfg = NULL;
	const char *path;
	int rc;

	*out = NULL;
	rc = cli_config_open(&cfg, ctx);
	if (rc)
		return rc;
	path = gcmsg_config_get(cfg, GCMSG_CONFIG_POLICY);
	rc = path ? gcmsg_policy_load_file(out, path) : gcmsg_policy_new(out);
	gcmsg_config_free(cfg);
	if (rc < 0) {
		if (*out)
			cli_print_error("policy", gcmsg_policy_last_error(*out));
		else
			fputs("gcmsg: out of memory\n", stderr);
		gcmsg_policy_free(*out);
		*out = NULL;
		return cli_exit_code(rc);
	}
	return CLI_EXIT_OK;
}

void cli_print_violations(FILE *f, const char *cmd, const gcmsg_policy_result *pr)
{
	size_t i;

	for (i = 0; i < gcmsg_policy_result_violation_count(pr); i++)
		fprintf(f, "%s%s%s%s at bytes %zu-%zu, characters %zu-%zu: %s\n", cmd ? "gcmsg: " : "",
		        cmd ? cmd : "", cmd ? ": " : "",
		        gcmsg_policy_result_rule(pr, i), gcmsg_policy_result_byte_start(pr, i),
		        gcmsg_policy_result_byte_end(pr, i), gcmsg_policy_result_char_start(pr, i),
		        gcmsg_policy_result_char_end(pr, i), gcmsg_policy_result_message(pr, i));
}

json_t *cli_policy_json(const gcmsg_policy_result *pr)
{
	json_t *doc = json_object(), *v = json_array();
	size_t i;

	if (!doc || !v) {
		json_decref(doc);
		json_decref(v);
		return NULL;
	}
	for (i = 0; i < gcmsg_policy_result_violation_count(pr); i++)
		json_array_append_new(
			v, json_pack("{s:s, s:s, s:{s:I, s:I}, s:{s:I, s:I}}", "rule", gcmsg_policy_result_rule(pr, i),
		                     "message", gcmsg_policy_result_message(pr, i), "bytes", "start",
		                     (json_int_t)gcmsg_policy_result_byte_start(pr, i), "end",
		                     (json_int_t)gcmsg_policy_result_byte_end(pr, i), "characters", "start",
		                     (json_int_t)gcmsg_policy_result_char_start(pr, i), "end",
		                     (json_int_t)gcmsg_policy_result_char_end(pr, i)));
	json_object_set_new(doc, "ok", json_boolean(gcmsg_policy_result_violation_count(pr) == 0));
	{
		json_t *notes = json_array();
		for (i = 0; notes && i < gcmsg_policy_result_note_count(pr); i++)
			json_array_append_new(notes, json_string(gcmsg_policy_result_note(pr, i)));
		json_object_set_new(doc, "notes", notes ? notes : json_array());
	}
	json_object_set_new(doc, "violations", v);
	json_object_set_new(doc, "channel", cli_jstr(gcmsg_policy_result_channel(pr)));
	json_object_set_new(doc, "codePoints", json_integer((json_int_t)gcmsg_policy_result_code_points(pr)));
	json_object_set_new(doc, "utf16Units", json_integer((json_int_t)gcmsg_policy_result_utf16_units(pr)));
	json_object_set_new(doc, "lengthLimit", json_integer((json_int_t)gcmsg_policy_result_length_limit(pr)));
	if (gcmsg_policy_result_sms_encoding(pr)) {
		json_object_set_new(doc, "smsSegments", json_integer(gcmsg_policy_result_sms_segments(pr)));
		json_object_set_new(doc, "smsEncoding", json_string(gcmsg_policy_result_sms_encoding(pr)));
	}
	return doc;
}

void cli_policy_notes(const cli_ctx *ctx, const gcmsg_policy_result *pr)
{
	size_t i;

	/* what the check could not say as a violation: an unknown channel, a capped rule, ... */
	for (i = 0; i < gcmsg_policy_result_note_count(pr); i++)
		cli_warn(ctx, "policy.note", gcmsg_policy_result_note(pr, i));
}

void cli_print_text_stats(FILE *f, const gcmsg_policy_result *pr)
{
	fprintf(f, "length: %zu of %zu (UTF-16 units; %zu code points) for channel %s\n",
	        gcmsg_policy_result_utf16_units(pr), gcmsg_policy_result_length_limit(pr),
	        gcmsg_policy_result_code_points(pr),
	        gcmsg_policy_result_channel(pr) ? gcmsg_policy_result_channel(pr) : "unknown");
	if (gcmsg_policy_result_sms_encoding(pr))
		fprintf(f, "sms: %u segment%s, %s\n", gcmsg_policy_result_sms_segments(pr),
		        gcmsg_policy_result_sms_segments(pr) == 1 ? "" : "s", gcmsg_policy_result_sms_encoding(pr));
}

int cli_check_text(gcmsg_policy_result **out, const char *cmd, const gcmsg_policy *policy, const char *text,
                   const char *channel, const char *queue, int allow_placeholders)
{
	gcmsg_check_options co = GCMSG_CHECK_OPTIONS_INIT;
	int rc;

	co.channel = channel;
	co.queue_id = queue;
	co.allow_placeholders = allow_placeholders;
	rc = gcmsg_policy_check_text(out, policy, text, strlen(text), &co);
	if (rc == GCMSG_OK || rc == GCMSG_EPOLICY)
		return rc;
	fprintf(stderr, "gcmsg: %s: the content policy could not check the text (%s)\n", cmd, gcmsg_strerror(rc));
	return rc;
}
