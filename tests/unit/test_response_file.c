/* Library files: reading (model mapping, every rule and its message), loading, canonical writing, round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "response_file.h"
#include "toml.h"

static const char example[] =
	"# Customer care macros, kept in git.\n"
	"format = 1                              # required; 1 is the only version\n"
	"\n"
	"[library]\n"
	"name = \"Customer care\"\n"
	"id = \"b1c5\"\n"
	"version = 4\n"
	"default_language = \"en\"\n"
	"\n"
	"[responses.greeting]\n"
	"name = \"Greeting\"\n"
	"text = \"\"\"\n"
	"Hi {{CUSTOMER_NAME}}, this is {{AGENT_NAME}}.\n"
	"\"\"\"\n"
	"content_type = \"text/plain\"\n"
	"version = 2\n"
	"interaction_type = \"chat\"\n"
	"date_created = \"2026-11-01T10:00:00Z\"\n"
	"\n"
	"[responses.greeting.substitutions.CaseNumber]\n"
	"description = \"Case number\"\n"
	"default = \"unknown\"\n"
	"\n"
	"[responses.greeting.substitutions.Eta]\n"
	"\n"
	"[responses.greeting.languages.fr]\n"
	"text = \"\"\"Bonjour {{CUSTOMER_NAME}}\"\"\"\n"
	"\n"
	"[responses.greeting.languages.de]\n"
	"text = \"<p>Hallo</p>\"\n"
	"content_type = \"text/html\"\n"
	"\n"
	"[responses.0f9a8b7c-0000-4000-8000-00000000a001]\n"
	"name = \"Order shipped\"\n"
	"text = \"Your order {{ORDER}} has shipped.\"\n"
	"response_type = \"MessagingTemplate\"\n"
	"template_name = \"order_shipped\"\n"
	"template_language = \"en_US\"\n"
	"\n"
	"[responses.\"Escalation notice\"]\n"
	"name = \"Escalation\"\n"
	"text = \"<b>Escalated</b>\"\n"
	"content_type = \"text/html\"\n"
	"\n"
	"[responses.\"Escalation notice\".texts.subject]\n"
	"type = \"subject\"\n"
	"text = \"Your case\"\n"
	"content_type = \"text/plain\"\n";

static gcmsg_response_set *parse_mode(const char *text, const char *path, gcmsg__libfile_mode mode, int want)
{
	gcmsg_response_set *set = gcmsg__response_set_new();
	int rc;

	assert_non_null(set);
	rc = gcmsg__library_parse(set, text, strlen(text), path, mode,
	                          mode == GCMSG__LIBFILE_STORE ? GCMSG_RESPONSE_STORE : GCMSG_RESPONSE_FILE, NULL);
	if (rc != want)
		fail_msg("parse gave %d (want %d): %s", rc, want,
		         set->err.pub.explanation ? set->err.pub.explanation : "(no explanation)");
	return set;
}

static void the_example_maps_to_the_model(void **state)
{
	gcmsg_response_set *set = parse_mode(example, "dir/care.toml", GCMSG__LIBFILE_STRICT, 0);
	const gcmsg_response *r;

	(void)state;
	assert_int_equal(gcmsg_response_set_count(set), 3);
	assert_int_equal(gcmsg_response_set_library_count(set), 1);
	assert_string_equal(gcmsg_response_set_library_id(set, 0), "b1c5");
	assert_string_equal(gcmsg_response_set_library_name(set, 0), "Customer care");
	assert_int_equal(gcmsg_response_set_library_version(set, 0), 4);

	r = gcmsg_response_set_get(set, 0);
	assert_string_equal(gcmsg_response_id(r), "greeting");
	assert_string_equal(gcmsg_response_name(r), "Greeting");
	assert_int_equal(gcmsg_response_version(r), 2);
	assert_string_equal(gcmsg_response_interaction_type(r), "chat");
	assert_null(gcmsg_response_type(r));
	assert_false(gcmsg_response_is_template(r));
	assert_string_equal(gcmsg_response_date_created(r), "2026-11-01T10:00:00Z");
	assert_string_equal(gcmsg_response_library_id(r), "b1c5");
	assert_string_equal(gcmsg_response_library_name(r), "Customer care");
	assert_int_equal(gcmsg_response_library_count(r), 1);
	assert_int_equal(gcmsg_response_origin_of(r), GCMSG_RESPONSE_FILE);
	assert_string_equal(gcmsg_response_origin_name(r), "file");
	assert_string_equal(gcmsg_response_path(r), "dir/care.toml");
	assert_string_equal(gcmsg_response_default_language(r), "en");
	assert_int_equal(gcmsg_response_text_count(r), 3);
	assert_string_equal(gcmsg_response_text_content(r, 0), "Hi {{CUSTOMER_NAME}}, this is {{AGENT_NAME}}.\n");
	assert_string_equal(gcmsg_response_text_content_type(r, 0), "text/plain");
	assert_string_equal(gcmsg_response_text_type(r, 0), "body");
	assert_string_equal(gcmsg_response_text_language(r, 0), "en");
	assert_string_equal(gcmsg_response_text_content(r, 1), "Bonjour {{CUSTOMER_NAME}}");
	assert_string_equal(gcmsg_response_text_content_type(r, 1), "text/plain");
	assert_string_equal(gcmsg_response_text_language(r, 1), "fr");
	assert_string_equal(gcmsg_response_text_type(r, 1), "body");
	assert_string_equal(gcmsg_response_text_content_type(r, 2), "text/html");
	assert_string_equal(gcmsg_response_text_language(r, 2), "de");
	assert_int_equal(gcmsg_response_substitution_count(r), 2);
	assert_string_equal(gcmsg_response_substitution_id(r, 0), "CaseNumber");
	assert_string_equal(gcmsg_response_substitution_description(r, 0), "Case number");
	assert_string_equal(gcmsg_response_substitution_default(r, 0), "unknown");
	assert_string_equal(gcmsg_response_substitution_id(r, 1), "Eta");
	assert_null(gcmsg_response_substitution_description(r, 1));
	assert_null(gcmsg_response_substitution_default(r, 1));

	r = gcmsg_response_set_get(set, 1);
	assert_string_equal(gcmsg_response_id(r), "0f9a8b7c-0000-4000-8000-00000000a001");
	assert_int_equal(gcmsg_response_version(r), -1);
	assert_true(gcmsg_response_is_template(r));
	assert_string_equal(gcmsg_response_template_name(r), "order_shipped");
	assert_string_equal(gcmsg_response_template_language(r), "en_US");

	r = gcmsg_response_set_get(set, 2);
	assert_string_equal(gcmsg_response_id(r), "Escalation notice");
	assert_int_equal(gcmsg_response_text_count(r), 2);
	assert_string_equal(gcmsg_response_text_content_type(r, 0), "text/html");
	assert_string_equal(gcmsg_response_text_type(r, 1), "subject");
	assert_string_equal(gcmsg_response_text_content(r, 1), "Your case");
	assert_string_equal(gcmsg_response_text_content_type(r, 1), "text/plain");
	assert_string_equal(gcmsg_response_text_language(r, 1), "en");

	/* finding by name within the file's library */
	assert_int_equal(gcmsg_response_set_find(&r, set, "Escalation", "Customer care"), GCMSG_OK);
	assert_string_equal(gcmsg_response_id(r), "Escalation notice");
	gcmsg_response_set_free(set);
}

static void library_id_defaults_to_the_file_name(void **state)
{
	gcmsg_response_set *set;
	const char *min = "format = 1\n[library]\nname = \"L\"\n[responses.a]\nname = \"A\"\ntext = \"\"\n";
	gcmsg__library_info info;

	(void)state;
	set = parse_mode(min, "/x/y/customer-care.toml", GCMSG__LIBFILE_STRICT, 0);
	assert_string_equal(gcmsg_response_set_library_id(set, 0), "customer-care");
	assert_int_equal(gcmsg_response_set_library_version(set, 0), -1);
	assert_string_equal(gcmsg_response_library_id(gcmsg_response_set_get(set, 0)), "customer-care");
	assert_null(gcmsg_response_default_language(gcmsg_response_set_get(set, 0)));
	assert_null(gcmsg_response_text_language(gcmsg_response_set_get(set, 0), 0));
	assert_string_equal(gcmsg_response_text_content(gcmsg_response_set_get(set, 0), 0), "");
	gcmsg_response_set_free(set);
	set = parse_mode(min, "plain", GCMSG__LIBFILE_STRICT, 0);
	assert_string_equal(gcmsg_response_set_library_id(set, 0), "plain");
	gcmsg_response_set_free(set);

	set = gcmsg__response_set_new();
	assert_int_equal(gcmsg__library_parse(set, min, strlen(min), "lib.toml", GCMSG__LIBFILE_STRICT,
	                                      GCMSG_RESPONSE_FILE, &info),
	                 0);
	assert_string_equal(info.id, "lib");
	assert_string_equal(info.name, "L");
	assert_null(info.default_language);
	assert_int_equal(info.version, -1);
	gcmsg__library_info_clear(&info);
	gcmsg_response_set_free(set);
}

static void expect_error_mode(const char *text, gcmsg__libfile_mode mode, const char *want)
{
	gcmsg_response_set *set = parse_mode(text, "lib.toml", mode, GCMSG_ECONFIG);

	assert_int_equal(set->err.pub.code, GCMSG_ECONFIG);
	if (!set->err.pub.explanation || strcmp(set->err.pub.explanation, want) != 0)
		fail_msg("got  '%s'\nwant '%s'", set->err.pub.explanation ? set->err.pub.explanation : "(null)", want);
	/* nothing half-read is left in the set */
	assert_int_equal(gcmsg_response_set_count(set), 0);
	assert_int_equal(gcmsg_response_set_library_count(set), 0);
	gcmsg_response_set_free(set);
}

static void expect_error(const char *text, const char *want)
{
	expect_error_mode(text, GCMSG__LIBFILE_STRICT, want);
}

#define HEAD "format = 1\n[library]\nname = \"L\"\n"
#define HEADL "format = 1\n[library]\nname = \"L\"\ndefault_language = \"en\"\n"

static void every_rule_names_file_and_line(void **state)
{
	(void)state;
	/* the header */
	expect_error("[library]\nname = \"L\"\n", "lib.toml: line 1: missing required key 'format'");
	expect_error("format = 2\n[library]\nname = \"L\"\n",
	             "lib.toml: line 1: format = 2 is not supported (this gcmsg reads format 1)");
	expect_error("format = \"1\"\n", "lib.toml: line 1: 'format' must be an integer (format = 1)");
	expect_error("format = 1\n", "lib.toml: no [library] table (it needs at least: name = \"...\")");
	expect_error("format = 1\n[library]\nid = \"x\"\n", "lib.toml: line 2: library: missing required key 'name'");
	expect_error("format = 1\n[library]\nname = \"\"\n", "lib.toml: line 3: library: 'name' must not be empty");
	expect_error("format = 1\n[library]\nname = \"L\"\nversion = -1\n",
	             "lib.toml: line 4: library: 'version' must be 0 or more");
	expect_error("format = 1\n[library]\nname = \"L\"\nversion = \"4\"\n",
	             "lib.toml: line 4: library: 'version' must be an integer");
	expect_error("format = 1\nname = \"L\"\n",
	             "lib.toml: line 2: unknown key 'name' before any table (known: format)");
	/* a template is sent by its Response Management id, so its key must be one */
	expect_error(HEAD "[responses.shipped]\nname = \"S\"\ntext = \"Hi {{1}}\"\nresponse_type = "
	                  "\"MessagingTemplate\"\ntemplate_name = \"s\"\ntemplate_language = \"en_US\"\n",
	             "lib.toml: line 7: responses.shipped: a MessagingTemplate response is sent by its Genesys id: "
	             "name the table [responses.<the response's Response Management id>]");
	/* unknown keys and tables: a typo never does nothing */
	expect_error(HEAD "nmae = \"x\"\n",
	             "lib.toml: line 4: library: unknown key 'nmae' (known: name, id, version, default_language)");
	expect_error(HEAD "[responses.greeting]\nname = \"G\"\ntxt = \"hi\"\n",
	             "lib.toml: line 6: responses.greeting: unknown key 'txt' (known: name, text, content_type, "
	             "version, interaction_type, response_type, template_name, template_language, date_created)");
	expect_error(HEAD "[responses.g.substitutions.X]\ndefault_value = \"1\"\n",
	             "lib.toml: line 5: responses.g.substitutions.X: unknown key 'default_value' (known: "
	             "description, default)");
	expect_error(HEAD "[responses.g.languages.fr]\ntext = \"x\"\nlanguage = \"fr\"\n",
	             "lib.toml: line 6: responses.g.languages.fr: unknown key 'language' (known: text, content_type)");
	expect_error(HEAD "[responses]\nname = \"x\"\n",
	             "lib.toml: line 5: responses: unknown key 'name' (responses holds only tables)");
	expect_error(HEAD "[responses.g.substitutions]\nX = \"x\"\n",
	             "lib.toml: line 5: responses.g.substitutions: unknown key 'X' (responses.g.substitutions "
	             "holds only tables)");
	expect_error(HEAD "[respones.greeting]\n",
	             "lib.toml: line 4: unknown table [respones.greeting] (known: [library], [responses.<id>])");
	expect_error(HEAD "[responses.g.substitution.X]\n",
	             "lib.toml: line 4: unknown table [responses.g.substitution.X] (a response's tables are "
	             "substitutions.<id>, languages.<language> and texts.<label>)");
	expect_error(HEAD "[responses.g.languages.fr.x]\n",
	             "lib.toml: line 4: unknown table [responses.g.languages.fr.x] (a response's tables are "
	             "substitutions.<id>, languages.<language> and texts.<label>)");
	expect_error(HEAD "[library.x]\n", "lib.toml: line 4: unknown table [library.x] (known: [library], "
	                                   "[responses.<id>])");
	/* required keys, line of the table */
	expect_error(HEAD "\n[responses.greeting]\nname = \"Greeting\"\n",
	             "lib.toml: line 5: responses.greeting: missing required key 'text'");
	expect_error(HEAD "[responses.greeting]\ntext = \"x\"\n",
	             "lib.toml: line 4: responses.greeting: missing required key 'name'");
	expect_error(HEAD "[responses.g.substitutions.X]\n",
	             "lib.toml: line 4: responses.g: missing required key 'name'");
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"\"\n[responses.g.languages.fr]\ncontent_type = "
	                  "\"text/html\"\n",
	             "lib.toml: line 7: responses.g.languages.fr: missing required key 'text'");
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"\"\n[responses.g.texts.s]\ntype = \"subject\"\n",
	             "lib.toml: line 7: responses.g.texts.s: missing required key 'text'");
	/* values */
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = 1\n",
	             "lib.toml: line 6: responses.g: 'text' must be a string");
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"x\"\ncontent_type = \"text/markdown\"\n",
	             "lib.toml: line 7: responses.g: bad content_type 'text/markdown' (one of: text/plain, "
	             "text/html)");
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"x\"\ninteraction_type = \"sms\"\n",
	             "lib.toml: line 7: responses.g: bad interaction_type 'sms' (one of: chat, email, twitter)");
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"x\"\nresponse_type = \"Template\"\n",
	             "lib.toml: line 7: responses.g: bad response_type 'Template' (one of: MessagingTemplate, "
	             "CampaignSmsTemplate, CampaignEmailTemplate, Footer, Form, AppleInvitation)");
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"x\"\nresponse_type = \"MessagingTemplate\"\n"
	                  "template_language = \"en_US\"\n",
	             "lib.toml: line 4: responses.g: missing required key 'template_name'");
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"x\"\nresponse_type = \"MessagingTemplate\"\n"
	                  "template_name = \"t\"\n",
	             "lib.toml: line 4: responses.g: missing required key 'template_language'");
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"x\"\ntemplate_name = \"t\"\n",
	             "lib.toml: line 7: responses.g: 'template_name' only applies to response_type = "
	             "\"MessagingTemplate\"");
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"x\"\nversion = -2\n",
	             "lib.toml: line 7: responses.g: 'version' must be 0 or more");
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"x\"\n[responses.g.texts.1]\ntext = \"y\"\n"
	                  "type = \"footer\"\n",
	             "lib.toml: line 9: responses.g.texts.1: bad type 'footer' (one of: body, subject)");
	/* names are unique in a library */
	expect_error(HEAD "[responses.a]\nname = \"Same\"\ntext = \"x\"\n[responses.b]\ntext = \"y\"\nname = \"Same\"\n",
	             "lib.toml: line 9: responses.b: name 'Same' is already the name of responses.a (line 5); "
	             "names must be unique in a library");
	/* a variant in the default language */
	expect_error(HEADL "[responses.g]\nname = \"G\"\ntext = \"x\"\n[responses.g.languages.en]\ntext = \"y\"\n",
	             "lib.toml: line 8: responses.g.languages.en: 'en' is the default_language: its text is the "
	             "response's 'text'");
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"x\"\n[responses.g.languages.\"\"]\ntext = \"y\"\n",
	             "lib.toml: line 7: responses.g.languages.\"\": a language must not be empty");
	expect_error(HEAD "[responses.\"\"]\nname = \"G\"\ntext = \"x\"\n",
	             "lib.toml: line 4: responses.\"\": a response id must not be empty");
	/* text encoding and TOML syntax */
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"\"\"\nbad \xc3\x28 byte\n\"\"\"\n",
	             "lib.toml: line 7: invalid UTF-8");
	expect_error(HEAD "[responses.g]\nname = \"G\"\ntext = \"\"\"\nnever closed\n",
	             "lib.toml: line 6: unterminated multi-line string (opened here)");
	expect_error(HEAD "[responses.g]\nname = \"G\"\nname = \"H\"\n", "lib.toml: line 6: key 'name' is defined twice");
}

static void store_mode_is_lenient_where_genesys_is(void **state)
{
	gcmsg_response_set *set;
	const gcmsg_response *r;

	(void)state;
	set = parse_mode(HEAD "[responses.a]\nname = \"Same\"\n"
	                      "[responses.b]\nname = \"Same\"\ntext = \"x\"\ncontent_type = \"text/markdown\"\n"
	                      "response_type = \"NewKind\"\ninteraction_type = \"sms\"\n"
	                      "[responses.c]\nresponse_type = \"MessagingTemplate\"\n"
	                      "[responses.c.texts.1]\ntype = \"footer\"\ntext = \"f\"\n",
	                 "store.toml", GCMSG__LIBFILE_STORE, 0);
	assert_int_equal(gcmsg_response_set_count(set), 3);
	r = gcmsg_response_set_get(set, 0);
	assert_int_equal(gcmsg_response_text_count(r), 0);
	assert_int_equal(gcmsg_response_origin_of(r), GCMSG_RESPONSE_STORE);
	r = gcmsg_response_set_get(set, 2);
	assert_null(gcmsg_response_name(r));
	assert_string_equal(gcmsg_response_text_type(r, 0), "footer");
	gcmsg_response_set_free(set);
	/* the syntax and the keys are as strict */
	expect_error_mode(HEAD "[responses.a]\nnmae = \"x\"\n", GCMSG__LIBFILE_STORE,
	                  "lib.toml: line 5: responses.a: unknown key 'nmae' (known: name, text, content_type, "
	                  "version, interaction_type, response_type, template_name, template_language, "
	                  "date_created)");
	expect_error_mode(HEAD "[responses.a]\nname = \"\"\n", GCMSG__LIBFILE_STORE,
	                  "lib.toml: line 5: responses.a: 'name' must not be empty");
}

/* ---- loading from disk ---- */

static char tmpdir[256];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gcmsg-test-file-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void load_file_reads_and_explains(void **state)
{
	gcmsg_response_set *set;
	char path[512];
	char *big;

	(void)state;
	snprintf(path, sizeof(path), "%s/care.toml", tmpdir);
	write_text(path, example, strlen(example));
	assert_int_equal(gcmsg_response_set_load_file(&set, path), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_count(set), 3);
	assert_string_equal(gcmsg_response_path(gcmsg_response_set_get(set, 0)), path);
	gcmsg_response_set_free(set);

	snprintf(path, sizeof(path), "%s/absent.toml", tmpdir);
	assert_int_equal(gcmsg_response_set_load_file(&set, path), GCMSG_ECONFIG);
	assert_non_null(set);
	assert_non_null(strstr(gcmsg_response_set_last_error(set)->explanation, "cannot read library file"));
	assert_non_null(strstr(gcmsg_response_set_last_error(set)->explanation, "No such file"));
	gcmsg_response_set_free(set);

	assert_int_equal(gcmsg_response_set_load_file(&set, tmpdir), GCMSG_ECONFIG);
	assert_non_null(strstr(gcmsg_response_set_last_error(set)->explanation, "Is a directory"));
	gcmsg_response_set_free(set);

	snprintf(path, sizeof(path), "%s/big.toml", tmpdir);
	big = malloc(GCMSG__LIBFILE_CAP + 1);
	assert_non_null(big);
	memset(big, '#', GCMSG__LIBFILE_CAP + 1);
	write_text(path, big, GCMSG__LIBFILE_CAP + 1);
	free(big);
	assert_int_equal(gcmsg_response_set_load_file(&set, path), GCMSG_ECONFIG);
	assert_non_null(strstr(gcmsg_response_set_last_error(set)->explanation, "larger than 8 MiB"));
	gcmsg_response_set_free(set);

	snprintf(path, sizeof(path), "%s/bad.toml", tmpdir);
	write_text(path, HEAD "[responses.g]\nname = \"G\"\n", strlen(HEAD "[responses.g]\nname = \"G\"\n"));
	assert_int_equal(gcmsg_response_set_load_file(&set, path), GCMSG_ECONFIG);
	{
		char want[600];
		snprintf(want, sizeof(want), "%s: line 4: responses.g: missing required key 'text'", path);
		assert_string_equal(gcmsg_response_set_last_error(set)->explanation, want);
	}
	gcmsg_response_set_free(set);

	assert_int_equal(gcmsg_response_set_load_file(&set, ""), GCMSG_EUSAGE);
	gcmsg_response_set_free(set);
	assert_int_equal(gcmsg_response_set_load_file(NULL, path), GCMSG_EUSAGE);
}

/* ---- writing ---- */

static char *write_set(const gcmsg_response_set *set, const gcmsg__library_info *lib, const char *comment)
{
	gcmsg_buf b = GCMSG_BUF_INIT(GCMSG__STOREFILE_CAP);
	char err[256];

	if (gcmsg__library_write(&b, comment, lib, set->items, set->count, err, sizeof(err)) != 0)
		fail_msg("write failed: %s", err);
	return gcmsg__buf_detach(&b);
}

/* read -> write -> read gives the same model, and writing again the same bytes */
static void assert_round_trip(const char *text, gcmsg__libfile_mode mode)
{
	gcmsg_response_set *a = gcmsg__response_set_new(), *b = gcmsg__response_set_new();
	gcmsg__library_info info;
	char *w1, *w2;
	size_t i;

	if (gcmsg__library_parse(a, text, strlen(text), "rt.toml", mode, GCMSG_RESPONSE_FILE, &info) != 0)
		fail_msg("parse: %s", a->err.pub.explanation);
	w1 = write_set(a, &info, NULL);
	if (gcmsg__library_parse(b, w1, strlen(w1), "rt.toml", mode, GCMSG_RESPONSE_FILE, NULL) != 0)
		fail_msg("re-parse: %s\n%s", b->err.pub.explanation, w1);
	assert_int_equal(a->count, b->count);
	for (i = 0; i < a->count; i++)
		if (!gcmsg__response_equal(a->items[i], b->items[i]))
			fail_msg("response %zu differs after a round trip:\n%s", i, w1);
	assert_string_equal(gcmsg_response_set_library_id(a, 0), gcmsg_response_set_library_id(b, 0));
	assert_string_equal(gcmsg_response_set_library_name(a, 0), gcmsg_response_set_library_name(b, 0));
	assert_int_equal(gcmsg_response_set_library_version(a, 0), gcmsg_response_set_library_version(b, 0));
	w2 = write_set(b, &info, NULL);
	assert_string_equal(w1, w2);
	free(w1);
	free(w2);
	gcmsg__library_info_clear(&info);
	gcmsg_response_set_free(a);
	gcmsg_response_set_free(b);
}

static void canonical_output(void **state)
{
	gcmsg_response_set *set = parse_mode(example, "care.toml", GCMSG__LIBFILE_STRICT, 0);
	gcmsg__library_info info = { "b1c5", "Customer care", "en", 4 };
	char *out = write_set(set, &info, "Customer care macros.\nSecond line");

	(void)state;
	assert_string_equal(out,
	                    "# Customer care macros.\n"
	                    "# Second line\n"
	                    "format = 1\n"
	                    "\n"
	                    "[library]\n"
	                    "name = \"Customer care\"\n"
	                    "id = \"b1c5\"\n"
	                    "version = 4\n"
	                    "default_language = \"en\"\n"
	                    "\n"
	                    "[responses.greeting]\n"
	                    "name = \"Greeting\"\n"
	                    "text = \"\"\"\n"
	                    "Hi {{CUSTOMER_NAME}}, this is {{AGENT_NAME}}.\n"
	                    "\"\"\"\n"
	                    "version = 2\n"
	                    "interaction_type = \"chat\"\n"
	                    "date_created = \"2026-11-01T10:00:00Z\"\n"
	                    "\n"
	                    "[responses.greeting.substitutions.CaseNumber]\n"
	                    "description = \"Case number\"\n"
	                    "default = \"unknown\"\n"
	                    "\n"
	                    "[responses.greeting.substitutions.Eta]\n"
	                    "\n"
	                    "[responses.greeting.languages.fr]\n"
	                    "text = \"Bonjour {{CUSTOMER_NAME}}\"\n"
	                    "\n"
	                    "[responses.greeting.languages.de]\n"
	                    "text = \"<p>Hallo</p>\"\n"
	                    "content_type = \"text/html\"\n"
	                    "\n"
	                    "[responses.0f9a8b7c-0000-4000-8000-00000000a001]\n"
	                    "name = \"Order shipped\"\n"
	                    "text = \"Your order {{ORDER}} has shipped.\"\n"
	                    "response_type = \"MessagingTemplate\"\n"
	                    "template_name = \"order_shipped\"\n"
	                    "template_language = \"en_US\"\n"
	                    "\n"
	                    "[responses.\"Escalation notice\"]\n"
	                    "name = \"Escalation\"\n"
	                    "text = \"<b>Escalated</b>\"\n"
	                    "content_type = \"text/html\"\n"
	                    "\n"
	                    "[responses.\"Escalation notice\".texts.1]\n"
	                    "type = \"subject\"\n"
	                    "text = \"Your case\"\n"
	                    "content_type = \"text/plain\"\n");
	free(out);
	gcmsg_response_set_free(set);
}

static void round_trips_of_nasty_content(void **state)
{
	static const char *const texts[] = {
		"",
		"\"quotes\" \"\"two\"\" \"\"\"three\"\"\" \"\"\"\"four\"\"\"\"",
		"back\\slash \\n not an escape \\\n line-ending backslash\\",
		"crlf\r\nlines\r\n",
		"\ttabs\tand trailing spaces   \n  \n",
		"\nleading newline",
		"\n\n",
		"unicode \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xe2\x80\xa8",
		"controls \x01\x1b\x7f and a lone CR\r",
		"ends with a quote\n\"",
		"'''literal''' \"\"\"basic\"\"\" # not a comment\n[not.a.table]\n",
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		gcmsg_response *r = gcmsg__response_new();
		gcmsg_response_set *set = gcmsg__response_set_new();
		gcmsg__library_info lib = { "lib", "Lib \"quoted\"\n", NULL, 1 };
		char *out;
		r->id = strdup(i % 2 ? "id with spaces \"and quotes\"" : "plain-id");
		r->name = strdup(texts[i][0] ? texts[i] : "empty");
		r->version = (long)i;
		r->origin = GCMSG_RESPONSE_FILE;
		r->path = strdup("rt.toml");
		assert_int_equal(gcmsg__response_add_library(r, "lib", "Lib \"quoted\"\n"), 0);
		assert_int_equal(gcmsg__response_add_text(r, texts[i], "text/plain", "body", NULL), 0);
		for (j = 0; j < 3; j++)
			assert_int_equal(gcmsg__response_add_text(r, texts[(i + j + 1) % 11], j == 1 ? "text/html" : "text/plain",
			                                          j == 2 ? "subject" : "body", j == 0 ? "fr" : NULL),
			                 0);
		assert_int_equal(gcmsg__response_add_subst(r, texts[i][0] ? texts[i] : "S", texts[(i + 1) % 11], texts[i]), 0);
		assert_int_equal(gcmsg__response_set_add(set, r), 0);
		assert_int_equal(gcmsg__response_set_add_library(set, "lib", "Lib \"quoted\"\n", 1), 0);
		out = write_set(set, &lib, NULL);
		assert_round_trip(out, GCMSG__LIBFILE_STRICT);
		{
			/* the model written is the model read */
			gcmsg_response_set *back = parse_mode(out, "rt.toml", GCMSG__LIBFILE_STRICT, 0);
			assert_true(gcmsg__response_equal(r, gcmsg_response_set_get(back, 0)));
			gcmsg_response_set_free(back);
		}
		free(out);
		gcmsg_response_set_free(set);
	}
	assert_round_trip(example, GCMSG__LIBFILE_STRICT);
}

static void writer_orders_remote_shapes(void **state)
{
	/* a remote-like model: subject first, no languages, types and content types missing */
	gcmsg_response *r = gcmsg__response_new();
	gcmsg_response_set *set = gcmsg__response_set_new(), *back;
	gcmsg__library_info lib = { "L1", "Lib", NULL, -1 };
	const gcmsg_response *b;
	char *out;

	(void)state;
	r->id = strdup("r1");
	r->origin = GCMSG_RESPONSE_STORE;
	assert_int_equal(gcmsg__response_add_text(r, "Subject", NULL, "subject", NULL), 0);
	assert_int_equal(gcmsg__response_add_text(r, "<p>Body</p>", "text/html", NULL, NULL), 0);
	assert_int_equal(gcmsg__response_set_add(set, r), 0);
	out = write_set(set, &lib, NULL);
	/* no main text (the first is a subject): every text is a texts.<n> table */
	assert_string_equal(out, "format = 1\n\n[library]\nname = \"Lib\"\nid = \"L1\"\n\n"
	                         "[responses.r1]\n\n"
	                         "[responses.r1.texts.1]\ntype = \"subject\"\ntext = \"Subject\"\n\n"
	                         "[responses.r1.texts.2]\ntext = \"<p>Body</p>\"\ncontent_type = \"text/html\"\n");
	back = parse_mode(out, "s.toml", GCMSG__LIBFILE_STORE, 0);
	b = gcmsg_response_set_get(back, 0);
	assert_int_equal(gcmsg_response_text_count(b), 2);
	assert_string_equal(gcmsg_response_text_type(b, 0), "subject");
	assert_string_equal(gcmsg_response_text_content_type(b, 0), "text/plain");
	assert_string_equal(gcmsg_response_text_type(b, 1), "body");
	assert_null(gcmsg_response_name(b));
	gcmsg_response_set_free(back);
	free(out);
	gcmsg_response_set_free(set);
}

static void writer_refuses_what_cannot_be_read_back(void **state)
{
	gcmsg_buf b = GCMSG_BUF_INIT(1 << 20);
	gcmsg__library_info lib = { "L1", "Lib", "en", -1 };
	gcmsg__library_info nolib = { NULL, "Lib", NULL, -1 };
	gcmsg_response *r = gcmsg__response_new();
	gcmsg_response *items[1];
	char err[256];

	(void)state;
	items[0] = r;
	r->id = strdup("r1");
	r->default_language = strdup("en");
	assert_int_equal(gcmsg__response_add_text(r, "bad \xff", "text/plain", "body", "en"), 0);
	assert_int_equal(gcmsg__library_write(&b, NULL, &lib, items, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "response r1: a value is not valid UTF-8");
	gcmsg__buf_clear(&b);
	assert_int_equal(gcmsg__library_write(&b, NULL, &nolib, items, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "a library needs an id and a name");
	gcmsg__buf_clear(&b);
	free(r->texts[0].content);
	r->texts[0].content = strdup("ok");
	assert_int_equal(gcmsg__response_add_subst(r, "X", NULL, NULL), 0);
	assert_int_equal(gcmsg__response_add_subst(r, "X", NULL, NULL), 0);
	assert_int_equal(gcmsg__library_write(&b, NULL, &lib, items, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "response r1: a substitution id appears twice");
	gcmsg__buf_dispose(&b);
	gcmsg_response_free(r);
}

/* docs/gcmsg-library.5.md: its complete example is a valid file, and round-trips */
static void the_documented_example_is_valid(void **state)
{
	char path[1024], *p, *start, *end;
	gcmsg_buf doc = GCMSG_BUF_INIT(1 << 20);
	gcmsg_response_set *set;

	(void)state;
	snprintf(path, sizeof(path), "%s", __FILE__);
	p = strstr(path, "tests/unit/");
	if (!p)
		skip();
	snprintf(p, sizeof(path) - (size_t)(p - path), "docs/gcmsg-library.5.md");
	assert_int_equal(gcmsg__read_file(path, &doc), 0);
	start = strstr(doc.ptr, "```toml\n");
	assert_non_null(start);
	start += 8;
	end = strstr(start, "```");
	assert_non_null(end);
	*end = '\0';
	set = parse_mode(start, "example.toml", GCMSG__LIBFILE_STRICT, 0);
	assert_int_equal(gcmsg_response_set_count(set), 3);
	assert_string_equal(gcmsg_response_set_library_id(set, 0), "b1c5e0a2-7d4f-4c1e-9a56-0f3e2d1c4b5a");
	assert_true(gcmsg_response_is_template(gcmsg_response_set_get(set, 1)));
	gcmsg_response_set_free(set);
	assert_round_trip(start, GCMSG__LIBFILE_STRICT);
	gcmsg__buf_dispose(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_example_maps_to_the_model),
		cmocka_unit_test(library_id_defaults_to_the_file_name),
		cmocka_unit_test(every_rule_names_file_and_line),
		cmocka_unit_test(store_mode_is_lenient_where_genesys_is),
		cmocka_unit_test(load_file_reads_and_explains),
		cmocka_unit_test(canonical_output),
		cmocka_unit_test(round_trips_of_nasty_content),
		cmocka_unit_test(writer_orders_remote_shapes),
		cmocka_unit_test(writer_refuses_what_cannot_be_read_back),
		cmocka_unit_test(the_documented_example_is_valid),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
