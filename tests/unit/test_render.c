/* gcmsg_render / gcmsg_render_text: text choice, values and their sources, problems, caps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#define ALICE "22222222-0000-4000-8000-000000000001"
#define BOB "22222222-0000-4000-8000-000000000002"

#define DEMO_HTML                                                                                             \
	"<p>Thanks for contacting us, {{CUSTOMER_NAME}}!</p><p>Our team is available:</p><ul><li>Mon&ndash;Fri " \
	"8:00&ndash;18:00</li><li>Sat 9:00&ndash;13:00</li></ul><p>Meanwhile, see <a "                           \
	"href=\"https://help.example.com/\">our help centre</a>.</p>"
#define DEMO_TEXT                                                                                             \
	"Thanks for contacting us, Jane Customer!\n\nOur team is available:\n\n- Mon\xe2\x80\x93"                 \
	"Fri 8:00\xe2\x80\x93"                                                                                    \
	"18:00\n- Sat 9:00\xe2\x80\x93"                                                                           \
	"13:00\n\nMeanwhile, see our help centre (https://help.example.com/)."

/* Fixtures are written with ' for " to keep them readable. */
static gcmsg_conversation *conv_from(const char *fixture)
{
	char *text = strdup(fixture), *p, err[256];
	json_t *root;
	json_error_t jerr;
	gcmsg_conversation *c = NULL;

	assert_non_null(text);
	for (p = text; *p; p++)
		if (*p == '\'')
			*p = '"';
	root = json_loads(text, 0, &jerr);
	if (!root)
		fail_msg("fixture is not JSON: %s: %s", jerr.text, text);
	assert_int_equal(gcmsg__conversation_parse(&c, root, err, sizeof(err)), GCMSG_OK);
	json_decref(root);
	free(text);
	return c;
}

/* A messaging conversation: customer Jane (attributes), agents Alice then Bob then Alice again. */
static const char conv_fixture[] =
	"{'id':'c1','participants':["
	"{'id':'p0','purpose':'acd','name':'Queue'},"
	"{'id':'p1','purpose':'customer','name':'Jane Customer','attributes':{'CASE_ID':'C-42','EMPTY':'',"
	"'CUSTOMER_NAME':'attr name','Lang':'fr'},'messages':[{'id':'m1','state':'connected','type':'webmessaging'}]},"
	"{'id':'p2','purpose':'agent','name':'Alice Agent','userId':'" ALICE "'},"
	"{'id':'p3','purpose':'agent','name':'Bob Agent','userId':'" BOB "'},"
	"{'id':'p4','purpose':'agent','name':'Alice Again','userId':'" ALICE "'},"
	"{'id':'p5','purpose':'agent','userId':'" BOB "'}"
	"]}";

static gcmsg_identity *user(const char *uid, const char *name, const char *preferred)
{
	gcmsg_identity *id = gcmsg__identity_new(GCMSG_CALLER_USER, uid, name, NULL, NULL, 0, 0);

	assert_non_null(id);
	if (preferred) {
		id->preferred_name = strdup(preferred);
		assert_non_null(id->preferred_name);
	}
	return id;
}

static gcmsg_response *response_with(const char *content, const char *content_type)
{
	gcmsg_response *r = gcmsg__response_new();

	assert_non_null(r);
	if (content)
		assert_int_equal(gcmsg__response_add_text(r, content, content_type, "body", NULL), 0);
	return r;
}

/* Render an ad-hoc text; asserts the code and returns the result (never NULL). */
static gcmsg_rendered *text_rc(const char *text, const char *ct, const gcmsg_render_options *o, int rc)
{
	gcmsg_rendered *r = NULL;

	assert_int_equal(gcmsg_render_text(&r, text, ct, o), rc);
	assert_non_null(r);
	return r;
}

static gcmsg_rendered *resp_rc(const gcmsg_response *resp, const gcmsg_render_options *o, int rc)
{
	gcmsg_rendered *r = NULL;
	int got = gcmsg_render(&r, resp, o);

	if (got != rc)
		fail_msg("gcmsg_render: %d, expected %d (%s)", got, rc, r ? gcmsg_rendered_error(r) : "no result");
	assert_non_null(r);
	return r;
}

static void test_demo(void **state)
{
	gcmsg_var vars[] = { { "CUSTOMER_NAME", "Jane Customer" } };
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_response *resp = response_with(DEMO_HTML, "text/html");
	gcmsg_conversation *conv = conv_from(conv_fixture);
	gcmsg_rendered *r;

	(void)state;
	o.vars = vars;
	o.var_count = 1;
	r = resp_rc(resp, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), DEMO_TEXT);
	assert_true(gcmsg_rendered_flattened(r));
	assert_string_equal(gcmsg_rendered_content_type(r), "text/html");
	assert_null(gcmsg_rendered_error(r));
	assert_null(gcmsg_rendered_warning(r));
	assert_int_equal(gcmsg_rendered_placeholder_count(r), 1);
	assert_string_equal(gcmsg_rendered_placeholder_id(r, 0), "CUSTOMER_NAME");
	assert_string_equal(gcmsg_rendered_placeholder_value(r, 0), "Jane Customer");
	assert_int_equal(gcmsg_rendered_placeholder_source(r, 0), GCMSG_VALUE_VAR);
	gcmsg_rendered_free(r);

	/* the same from the conversation */
	o.vars = NULL;
	o.var_count = 0;
	o.conversation = conv;
	r = resp_rc(resp, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), DEMO_TEXT);
	assert_int_equal(gcmsg_rendered_placeholder_source(r, 0), GCMSG_VALUE_BUILTIN);
	gcmsg_rendered_free(r);

	/* keep_html: the markup stays, the value goes in as is */
	o.keep_html = 1;
	r = resp_rc(resp, &o, GCMSG_OK);
	assert_false(gcmsg_rendered_flattened(r));
	assert_non_null(strstr(gcmsg_rendered_text(r), "<p>Thanks for contacting us, Jane Customer!</p>"));
	gcmsg_rendered_free(r);

	gcmsg_conversation_free(conv);
	gcmsg_response_free(resp);
}

static void test_sources_and_precedence(void **state)
{
	gcmsg_conversation *conv = conv_from(conv_fixture);
	gcmsg_identity *me = user(ALICE, "Alice User", NULL);
	gcmsg_response *resp =
		response_with("{{X}}|{{CASE_ID}}|{{D}}|{{EMPTY}}|{{DE}}|{{CUSTOMER_NAME}}|{{Lang}}|{{lang}}|{{AGENT_NAME}}",
	                      "text/plain");
	gcmsg_var vars[] = { { "X", "from var" }, { "X", "second" }, { "D", "var beats default" } };
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_rendered *r;

	(void)state;
	assert_int_equal(gcmsg__response_add_subst(resp, "CASE_ID", "case", "default case"), 0);
	assert_int_equal(gcmsg__response_add_subst(resp, "D", NULL, "default d"), 0);
	assert_int_equal(gcmsg__response_add_subst(resp, "DE", NULL, NULL), 0);
	assert_int_equal(gcmsg__response_add_subst(resp, "DE", NULL, ""), 0);
	assert_int_equal(gcmsg__response_add_subst(resp, "lang", NULL, "default lang"), 0);
	assert_int_equal(gcmsg__response_add_subst(resp, "AGENT_NAME", NULL, "default agent"), 0);
	o.vars = vars;
	o.var_count = 3;
	o.conversation = conv;
	o.caller = me;
	r = resp_rc(resp, &o, GCMSG_OK);
	/* var (first wins) > built-in > attribute (even "") > default (even ""); ids are case-sensitive */
	assert_string_equal(gcmsg_rendered_text(r),
	                    "from var|C-42|var beats default|||Jane Customer|fr|default lang|Alice Again");
	assert_int_equal(gcmsg_rendered_placeholder_count(r), 9);
	{
		static const char *const ids[] = { "X",   "CASE_ID", "D", "EMPTY", "DE", "CUSTOMER_NAME", "Lang",
			                           "lang", "AGENT_NAME" };
		static const gcmsg_value_source src[] = { GCMSG_VALUE_VAR,     GCMSG_VALUE_ATTRIBUTE, GCMSG_VALUE_VAR,
			                                  GCMSG_VALUE_ATTRIBUTE, GCMSG_VALUE_DEFAULT,   GCMSG_VALUE_BUILTIN,
			                                  GCMSG_VALUE_ATTRIBUTE, GCMSG_VALUE_DEFAULT,   GCMSG_VALUE_BUILTIN };
		size_t i;
		for (i = 0; i < 9; i++) {
			assert_string_equal(gcmsg_rendered_placeholder_id(r, i), ids[i]);
			assert_int_equal(gcmsg_rendered_placeholder_source(r, i), src[i]);
		}
	}
	assert_string_equal(gcmsg_rendered_placeholder_value(r, 3), "");
	assert_string_equal(gcmsg_rendered_placeholder_value(r, 4), "");
	assert_int_equal(gcmsg_rendered_missing_count(r), 0);
	gcmsg_rendered_free(r);

	/* without the conversation: defaults, and the caller's name for AGENT_NAME */
	o.conversation = NULL;
	r = resp_rc(resp, &o, GCMSG_EPOLICY);
	assert_string_equal(gcmsg_rendered_text(r),
	                    "from var|default case|var beats default|{{EMPTY}}||{{CUSTOMER_NAME}}|{{Lang}}|default "
	                    "lang|Alice User");
	assert_string_equal(gcmsg_rendered_error(r), "unresolved placeholders: EMPTY, CUSTOMER_NAME, Lang");
	assert_int_equal(gcmsg_rendered_missing_count(r), 3);
	assert_string_equal(gcmsg_rendered_missing(r, 0), "EMPTY");
	assert_string_equal(gcmsg_rendered_missing(r, 1), "CUSTOMER_NAME");
	assert_string_equal(gcmsg_rendered_missing(r, 2), "Lang");
	assert_null(gcmsg_rendered_placeholder_value(r, 3));
	assert_int_equal(gcmsg_rendered_placeholder_source(r, 3), GCMSG_VALUE_MISSING);
	gcmsg_rendered_free(r);

	/* no caller either: a built-in with no value falls through to the default */
	o.caller = NULL;
	r = resp_rc(resp, &o, GCMSG_EPOLICY);
	assert_int_equal(gcmsg_rendered_placeholder_source(r, 8), GCMSG_VALUE_DEFAULT);
	assert_string_equal(gcmsg_rendered_placeholder_value(r, 8), "default agent");
	gcmsg_rendered_free(r);

	gcmsg_response_free(resp);
	gcmsg__identity_free(me);
	gcmsg_conversation_free(conv);
}

static void test_builtins(void **state)
{
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_conversation *conv = conv_from(conv_fixture);
	gcmsg_identity *alice = user(ALICE, "Alice User", "Ali");
	gcmsg_identity *bob = user(BOB, "Bob User", NULL);
	gcmsg_identity *carol = user("33333333-0000-4000-8000-000000000003", "Carol User", NULL);
	gcmsg_identity *svc = gcmsg__identity_new(GCMSG_CALLER_CLIENT, NULL, NULL, "svc", NULL, 0, 0);
	const char *t = "{{CUSTOMER_NAME}}/{{AGENT_NAME}}/{{AGENT_ALIAS}}";
	gcmsg_rendered *r;

	(void)state;
	o.conversation = conv;
	/* Alice: her last agent participant; her preferredName */
	o.caller = alice;
	r = text_rc(t, NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "Jane Customer/Alice Again/Ali");
	gcmsg_rendered_free(r);
	/* Bob: his last participant has no name, so his earlier one; no preferredName: AGENT_NAME */
	o.caller = bob;
	r = text_rc(t, NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "Jane Customer/Bob Agent/Bob Agent");
	gcmsg_rendered_free(r);
	/* Carol is not in the conversation: the last agent participant with a name */
	o.caller = carol;
	r = text_rc(t, NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "Jane Customer/Alice Again/Alice Again");
	gcmsg_rendered_free(r);
	/* a client-credentials caller: the same */
	o.caller = svc;
	r = text_rc(t, NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "Jane Customer/Alice Again/Alice Again");
	gcmsg_rendered_free(r);
	/* no conversation: the caller's names */
	o.conversation = NULL;
	o.caller = alice;
	o.allow_missing = 1;
	r = text_rc(t, NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "{{CUSTOMER_NAME}}/Alice User/Ali");
	assert_string_equal(gcmsg_rendered_warning(r), "unresolved placeholder: CUSTOMER_NAME");
	gcmsg_rendered_free(r);
	/* a var for AGENT_NAME does not change the AGENT_ALIAS built-in */
	{
		gcmsg_var v[] = { { "AGENT_NAME", "Override" } };
		o.caller = bob;
		o.vars = v;
		o.var_count = 1;
		r = text_rc(t, NULL, &o, GCMSG_OK);
		assert_string_equal(gcmsg_rendered_text(r), "{{CUSTOMER_NAME}}/Override/Bob User");
		gcmsg_rendered_free(r);
		o.vars = NULL;
		o.var_count = 0;
	}
	gcmsg_conversation_free(conv);

	/* purpose external when there is no customer; the first one; an empty name is no value */
	conv = conv_from("{'id':'c2','participants':[{'purpose':'agent','name':'A'},"
	                 "{'purpose':'external','name':'Ext One','attributes':{'X':'ext attr'}},"
	                 "{'purpose':'external','name':'Ext Two'}]}");
	o.conversation = conv;
	o.caller = NULL;
	r = text_rc("{{CUSTOMER_NAME}} {{X}} {{AGENT_ALIAS}}", NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "Ext One ext attr A");
	gcmsg_rendered_free(r);
	gcmsg_conversation_free(conv);

	conv = conv_from("{'id':'c3','participants':[{'purpose':'external','name':'Ext'},"
	                 "{'purpose':'customer','name':'','attributes':{'CUSTOMER_NAME':'from attribute'}}]}");
	o.conversation = conv;
	r = text_rc("{{CUSTOMER_NAME}}|{{AGENT_NAME}}", NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "from attribute|{{AGENT_NAME}}");
	assert_int_equal(gcmsg_rendered_placeholder_source(r, 0), GCMSG_VALUE_ATTRIBUTE);
	gcmsg_rendered_free(r);
	gcmsg_conversation_free(conv);

	gcmsg__identity_free(alice);
	gcmsg__identity_free(bob);
	gcmsg__identity_free(carol);
	gcmsg__identity_free(svc);
}

static void test_values_verbatim(void **state)
{
	gcmsg_var vars[] = { { "A", "{{B}}" }, { "B", "b" }, { "X", "v" }, { "H", "<b>&amp;</b>" } };
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_rendered *r;

	(void)state;
	o.vars = vars;
	o.var_count = 4;
	/* a value is never scanned again */
	r = text_rc("{{A}} {{A}}", NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "{{B}} {{B}}");
	assert_int_equal(gcmsg_rendered_placeholder_count(r), 1);
	gcmsg_rendered_free(r);
	/* brace runs */
	r = text_rc("{{{X}}} {{{{X}}}} {{X}}}", NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "{v} {{v}} v}");
	gcmsg_rendered_free(r);
	/* in HTML, values are filled after flattening: never markup, never entities */
	r = text_rc("<p>{{H}}</p>", "text/html", &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "<b>&amp;</b>");
	gcmsg_rendered_free(r);
	/* duplicates: one entry, in order of first appearance */
	r = text_rc("{{X}}{{B}}{{X}}{{Z}}{{B}}{{Z}}", NULL, &o, GCMSG_EPOLICY);
	assert_string_equal(gcmsg_rendered_text(r), "vbv{{Z}}b{{Z}}");
	assert_int_equal(gcmsg_rendered_placeholder_count(r), 3);
	assert_string_equal(gcmsg_rendered_placeholder_id(r, 0), "X");
	assert_string_equal(gcmsg_rendered_placeholder_id(r, 1), "B");
	assert_string_equal(gcmsg_rendered_placeholder_id(r, 2), "Z");
	assert_int_equal(gcmsg_rendered_missing_count(r), 1);
	assert_string_equal(gcmsg_rendered_error(r), "unresolved placeholder: Z");
	gcmsg_rendered_free(r);
}

static void test_unicode(void **state)
{
	gcmsg_var vars[] = { { "NAME", "Zo\xc3\xab \xe6\x9d\x8e\xe9\x9b\xb7 \xf0\x9f\x91\x8b e\xcc\x81" } };
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_conversation *conv =
		conv_from("{'id':'c','participants':[{'purpose':'customer','name':'\\u00c5sa \\ud83d\\ude00'}]}");
	gcmsg_rendered *r;

	(void)state;
	o.vars = vars;
	o.var_count = 1;
	o.conversation = conv;
	r = text_rc("\xc2\xa1Hola {{NAME}}! \xe2\x80\x94 {{CUSTOMER_NAME}}", NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "\xc2\xa1Hola Zo\xc3\xab \xe6\x9d\x8e\xe9\x9b\xb7 \xf0\x9f\x91\x8b "
	                                            "e\xcc\x81! \xe2\x80\x94 \xc3\x85sa \xf0\x9f\x98\x80");
	gcmsg_rendered_free(r);
	/* a multi-byte character inside braces is malformed, offsets count bytes */
	r = text_rc("\xc3\xa9t\xc3\xa9 {{\xc3\xa9}}", NULL, &o, GCMSG_EPOLICY);
	assert_string_equal(gcmsg_rendered_error(r),
	                    "malformed: at byte 6 (character '\xc3\xa9' (U+00E9) not allowed in a "
	                    "placeholder id)");
	assert_int_equal(gcmsg_rendered_malformed_offset(r, 0), 6);
	gcmsg_rendered_free(r);
	gcmsg_conversation_free(conv);
}

static void test_malformed(void **state)
{
	gcmsg_var vars[] = { { "NAME", "Jane" } };
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	const char *t = "Hello {{X}} {{ NAME }} {{CASE_ID}}, {{}} {{A!}} {{ETA}} {{X}} {{A{{B}}}} {{NAME";
	gcmsg_rendered *r;

	(void)state;
	o.vars = vars;
	o.var_count = 1;
	r = text_rc("Hello {{CASE_ID}} {{ NAME }} {{ETA}}", NULL, &o, GCMSG_EPOLICY);
	assert_string_equal(gcmsg_rendered_error(r),
	                    "unresolved placeholders: CASE_ID, ETA; malformed: at byte 18 (whitespace "
	                    "inside {{ }})");
	assert_string_equal(gcmsg_rendered_text(r), "Hello {{CASE_ID}} {{ NAME }} {{ETA}}");
	assert_null(gcmsg_rendered_warning(r));
	gcmsg_rendered_free(r);

	r = text_rc(t, NULL, &o, GCMSG_EPOLICY);
	assert_string_equal(gcmsg_rendered_text(r), t);
	assert_int_equal(gcmsg_rendered_missing_count(r), 3);
	assert_int_equal(gcmsg_rendered_malformed_count(r), 5);
	assert_string_equal(gcmsg_rendered_malformed_text(r, 0), "{{ NAME }}");
	assert_int_equal(gcmsg_rendered_malformed_offset(r, 0), 12);
	assert_string_equal(gcmsg_rendered_malformed_reason(r, 0), "whitespace inside {{ }}");
	assert_string_equal(gcmsg_rendered_malformed_text(r, 1), "{{}}");
	assert_string_equal(gcmsg_rendered_malformed_reason(r, 1), "empty {{}}");
	assert_string_equal(gcmsg_rendered_malformed_text(r, 2), "{{A!}}");
	assert_string_equal(gcmsg_rendered_malformed_reason(r, 2), "character '!' not allowed in a placeholder id");
	assert_string_equal(gcmsg_rendered_malformed_text(r, 3), "{{A{{B}}}}");
	assert_string_equal(gcmsg_rendered_malformed_reason(r, 3), "'{{' nested inside a placeholder");
	assert_string_equal(gcmsg_rendered_malformed_text(r, 4), "{{NAME");
	assert_string_equal(gcmsg_rendered_malformed_reason(r, 4), "'{{' without a closing '}}'");
	assert_string_equal(gcmsg_rendered_error(r),
	                    "unresolved placeholders: X, CASE_ID, ETA; malformed (5): at byte 12 "
	                    "(whitespace inside {{ }}), at byte 36 (empty {{}}), at byte 41 (character "
	                    "'!' not allowed in a placeholder id), at byte 62 ('{{' nested inside a "
	                    "placeholder), at byte 73 ('{{' without a closing '}}')");
	gcmsg_rendered_free(r);

	/* allow_missing: the same text and lists, success, and a warning */
	o.allow_missing = 1;
	r = text_rc(t, NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), t);
	assert_null(gcmsg_rendered_error(r));
	assert_non_null(gcmsg_rendered_warning(r));
	assert_int_equal(strncmp(gcmsg_rendered_warning(r), "unresolved placeholders: X, CASE_ID, ETA; malformed (5)", 55),
	                 0);
	assert_int_equal(gcmsg_rendered_missing_count(r), 3);
	assert_int_equal(gcmsg_rendered_malformed_count(r), 5);
	gcmsg_rendered_free(r);
	o.allow_missing = 0;

	/* only malformed: the line names offsets and reasons, never the text (it is personal data) */
	r = text_rc("{{ a very long placeholder that goes on and on and on }} {{A\nB}}", NULL, &o, GCMSG_EPOLICY);
	assert_string_equal(gcmsg_rendered_error(r),
	                    "malformed (2): at byte 0 (whitespace inside "
	                    "{{ }}), at byte 57 (whitespace inside {{ }})");
	gcmsg_rendered_free(r);
	r = text_rc("{{\x01}} {{\xff}}", NULL, &o, GCMSG_EPOLICY);
	assert_string_equal(gcmsg_rendered_error(r),
	                    "malformed (2): at byte 0 (character U+0001 not allowed in a placeholder id), "
	                    "at byte 6 (byte 0xFF (not UTF-8) not allowed in a placeholder id)");
	gcmsg_rendered_free(r);

	/* in HTML, offsets are in the flattened text */
	r = text_rc("<p>Hi</p><p>{{ X }}</p>", "text/html", &o, GCMSG_EPOLICY);
	assert_string_equal(gcmsg_rendered_text(r), "Hi\n\n{{ X }}");
	assert_int_equal(gcmsg_rendered_malformed_offset(r, 0), 4);
	gcmsg_rendered_free(r);
}

static void test_many_problems(void **state)
{
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	char text[2048];
	size_t i, n = 0;
	gcmsg_rendered *r;

	(void)state;
	for (i = 0; i < 23; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "{{M%zu}}", i);
	for (i = 0; i < 7; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "{{ %zu }}", i);
	r = text_rc(text, NULL, &o, GCMSG_EPOLICY);
	assert_int_equal(gcmsg_rendered_missing_count(r), 23);
	assert_int_equal(gcmsg_rendered_malformed_count(r), 7);
	assert_string_equal(gcmsg_rendered_error(r),
	                    "unresolved placeholders: M0, M1, M2, M3, M4, M5, M6, M7, M8, M9, M10, M11, M12, M13, M14, "
	                    "M15, M16, M17, M18, M19 and 3 more; malformed (7): at byte 151 (whitespace "
	                    "inside {{ }}), at byte 158 (whitespace inside {{ }}), at byte 165 "
	                    "(whitespace inside {{ }}), at byte 172 (whitespace inside {{ }}), at "
	                    "byte 179 (whitespace inside {{ }}) and 2 more");
	gcmsg_rendered_free(r);
}

static gcmsg_response *multilingual(void)
{
	gcmsg_response *r = gcmsg__response_new();

	assert_non_null(r);
	assert_int_equal(gcmsg__response_add_text(r, "Subject EN", "text/plain", "subject", "en"), 0);
	assert_int_equal(gcmsg__response_add_text(r, "<p>Hello</p>", "text/html", "body", "en"), 0);
	assert_int_equal(gcmsg__response_add_text(r, "Hello plain", "text/plain", "BODY", "en"), 0);
	assert_int_equal(gcmsg__response_add_text(r, "<p>Bonjour (CA)</p>", "Text/HTML; charset=utf-8", NULL, "fr-CA"), 0);
	assert_int_equal(gcmsg__response_add_text(r, "Bonjour", "text/plain", "body", "fr"), 0);
	assert_int_equal(gcmsg__response_add_text(r, "Hallo (subject)", "text/plain", "subject", "de"), 0);
	return r;
}

static void expect_lang(const gcmsg_response *resp, const char *want, const char *text, const char *lang)
{
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_rendered *r;

	o.language = want;
	r = resp_rc(resp, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), text);
	if (lang)
		assert_string_equal(gcmsg_rendered_language(r), lang);
	else
		assert_null(gcmsg_rendered_language(r));
	gcmsg_rendered_free(r);
}

static void test_language(void **state)
{
	gcmsg_response *resp = multilingual();
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_rendered *r;

	(void)state;
	/* exact (any case, '_' for '-'), plain preferred over html */
	expect_lang(resp, "en", "Hello plain", "en");
	expect_lang(resp, "EN", "Hello plain", "en");
	expect_lang(resp, "fr", "Bonjour", "fr");
	expect_lang(resp, "fr_ca", "Bonjour (CA)", "fr-CA");
	/* primary subtag: both fr texts match fr-BE; the plain one wins */
	expect_lang(resp, "fr-BE", "Bonjour", "fr");
	expect_lang(resp, "en-GB", "Hello plain", "en");
	/* none in that language (a subject does not count) */
	o.language = "de";
	r = resp_rc(resp, &o, GCMSG_ENOTFOUND);
	assert_string_equal(gcmsg_rendered_error(r),
	                    "the response has no body text in language 'de' (available: en, fr-CA, fr)");
	assert_null(gcmsg_rendered_text(r));
	gcmsg_rendered_free(r);

	/* no language asked: the default language ... */
	resp->default_language = strdup("fr-ca");
	expect_lang(resp, NULL, "Bonjour (CA)", "fr-CA");
	free(resp->default_language);
	resp->default_language = strdup("fr-FR");
	expect_lang(resp, NULL, "Bonjour", "fr");
	/* ... else the first candidate's language when every text has one */
	free(resp->default_language);
	resp->default_language = strdup("it");
	expect_lang(resp, NULL, "Hello plain", "en");
	free(resp->default_language);
	resp->default_language = NULL;
	expect_lang(resp, NULL, "Hello plain", "en");
	/* ... else the texts without a language */
	assert_int_equal(gcmsg__response_add_text(resp, "<p>No language</p>", "text/html", "body", NULL), 0);
	expect_lang(resp, NULL, "No language", NULL);
	gcmsg_response_free(resp);

	/* a response without languages has nothing for a language */
	resp = response_with("Plain", "text/plain");
	o.language = "en";
	r = resp_rc(resp, &o, GCMSG_ENOTFOUND);
	assert_string_equal(gcmsg_rendered_error(r),
	                    "the response has no body text in language 'en' (its texts have no language)");
	gcmsg_rendered_free(r);
	gcmsg_response_free(resp);

	/* no body text at all */
	resp = gcmsg__response_new();
	assert_non_null(resp);
	r = resp_rc(resp, NULL, GCMSG_ENOTFOUND);
	assert_string_equal(gcmsg_rendered_error(r), "the response has no body text");
	gcmsg_rendered_free(r);
	assert_int_equal(gcmsg__response_add_text(resp, "S", "text/plain", "subject", NULL), 0);
	r = resp_rc(resp, NULL, GCMSG_ENOTFOUND);
	assert_string_equal(gcmsg_rendered_error(r), "the response has no body text");
	gcmsg_rendered_free(r);
	gcmsg_response_free(resp);
}

static void test_plain_vs_html(void **state)
{
	gcmsg_response *resp = gcmsg__response_new();
	gcmsg_rendered *r;

	(void)state;
	assert_non_null(resp);
	assert_int_equal(gcmsg__response_add_text(resp, "<p>html</p>", "TEXT/HTML", "body", NULL), 0);
	r = resp_rc(resp, NULL, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "html");
	assert_true(gcmsg_rendered_flattened(r));
	assert_string_equal(gcmsg_rendered_content_type(r), "TEXT/HTML");
	gcmsg_rendered_free(r);
	/* a later plain text wins; no content type is plain */
	assert_int_equal(gcmsg__response_add_text(resp, "  <p>plain</p>\n", NULL, NULL, NULL), 0);
	r = resp_rc(resp, NULL, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "<p>plain</p>");
	assert_false(gcmsg_rendered_flattened(r));
	assert_string_equal(gcmsg_rendered_content_type(r), "text/plain");
	gcmsg_rendered_free(r);
	gcmsg_response_free(resp);

	/* render_text: NULL content type is text/plain; "text/html ;q" is html; other types are plain */
	r = text_rc("<b>x</b>", NULL, NULL, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "<b>x</b>");
	assert_string_equal(gcmsg_rendered_content_type(r), "text/plain");
	gcmsg_rendered_free(r);
	r = text_rc("<b>x</b>", " text/html ;q=1", NULL, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "x");
	gcmsg_rendered_free(r);
	r = text_rc("<b>x</b>", "text/htmlx", NULL, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "<b>x</b>");
	gcmsg_rendered_free(r);
}

static void test_trim(void **state)
{
	gcmsg_var vars[] = { { "SIG", "" }, { "SP", "  " } };
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_rendered *r;

	(void)state;
	o.vars = vars;
	o.var_count = 2;
	/* a TOML multi-line string ends with a line break; values at the ends are trimmed too */
	r = text_rc("\n\t Thanks,\n  the team\r\n\n", NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "Thanks,\n  the team");
	gcmsg_rendered_free(r);
	r = text_rc("{{SP}}Thanks {{SIG}}", NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "Thanks");
	gcmsg_rendered_free(r);
	r = text_rc(" \n ", NULL, &o, GCMSG_OK);
	assert_string_equal(gcmsg_rendered_text(r), "");
	gcmsg_rendered_free(r);
	/* malformed offsets count from the untrimmed text */
	r = text_rc("\n\n{{}}", NULL, &o, GCMSG_EPOLICY);
	assert_string_equal(gcmsg_rendered_text(r), "{{}}");
	assert_int_equal(gcmsg_rendered_malformed_offset(r, 0), 2);
	gcmsg_rendered_free(r);
}

static void test_template_and_metadata(void **state)
{
	gcmsg_var vars[] = { { "1", "Jane" }, { "2", "C-42" } };
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_response *resp = response_with("Hi {{1}}, case {{2}} ({{1}}).", "text/plain");
	gcmsg_rendered *r;

	(void)state;
	resp->id = strdup("resp-1");
	resp->name = strdup("Greeting");
	resp->version = 3;
	assert_int_equal(gcmsg__response_add_library(resp, "lib-1", "Library One"), 0);
	assert_int_equal(gcmsg__response_add_library(resp, "lib-2", "Library Two"), 0);
	o.vars = vars;
	o.var_count = 2;

	r = resp_rc(resp, &o, GCMSG_OK);
	assert_false(gcmsg_rendered_is_template(r));
	assert_null(gcmsg_rendered_template_response_id(r));
	assert_string_equal(gcmsg_rendered_response_id(r), "resp-1");
	assert_string_equal(gcmsg_rendered_response_name(r), "Greeting");
	assert_int_equal(gcmsg_rendered_response_version(r), 3);
	assert_string_equal(gcmsg_rendered_library_id(r), "lib-1");
	gcmsg_rendered_free(r);

	resp->response_type = strdup("MessagingTemplate");
	r = resp_rc(resp, &o, GCMSG_OK);
	assert_true(gcmsg_rendered_is_template(r));
	assert_string_equal(gcmsg_rendered_template_response_id(r), "resp-1");
	assert_string_equal(gcmsg_rendered_text(r), "Hi Jane, case C-42 (Jane).");
	/* the body parameters: one per distinct placeholder, in order */
	assert_int_equal(gcmsg_rendered_placeholder_count(r), 2);
	assert_string_equal(gcmsg_rendered_placeholder_id(r, 0), "1");
	assert_string_equal(gcmsg_rendered_placeholder_value(r, 0), "Jane");
	assert_string_equal(gcmsg_rendered_placeholder_id(r, 1), "2");
	assert_string_equal(gcmsg_rendered_placeholder_value(r, 1), "C-42");
	gcmsg_rendered_free(r);

	/* a missing parameter is refused like any placeholder, and the metadata is still there */
	o.var_count = 1;
	r = resp_rc(resp, &o, GCMSG_EPOLICY);
	assert_true(gcmsg_rendered_is_template(r));
	assert_string_equal(gcmsg_rendered_error(r), "unresolved placeholder: 2");
	gcmsg_rendered_free(r);
	gcmsg_response_free(resp);

	/* ad-hoc text: no metadata */
	r = text_rc("x", NULL, NULL, GCMSG_OK);
	assert_null(gcmsg_rendered_response_id(r));
	assert_null(gcmsg_rendered_response_name(r));
	assert_null(gcmsg_rendered_library_id(r));
	assert_null(gcmsg_rendered_language(r));
	assert_int_equal(gcmsg_rendered_response_version(r), -1);
	assert_false(gcmsg_rendered_is_template(r));
	gcmsg_rendered_free(r);
}

static void test_arguments(void **state)
{
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_response *resp = response_with("x", NULL);
	gcmsg_rendered *r = (gcmsg_rendered *)1;

	(void)state;
	assert_int_equal(gcmsg_render(NULL, resp, NULL), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_render_text(NULL, "x", NULL, NULL), GCMSG_EUSAGE);
	r = resp_rc(NULL, NULL, GCMSG_EUSAGE);
	assert_string_equal(gcmsg_rendered_error(r), "no response to render");
	gcmsg_rendered_free(r);
	r = text_rc(NULL, NULL, NULL, GCMSG_EUSAGE);
	assert_string_equal(gcmsg_rendered_error(r), "no text to render");
	gcmsg_rendered_free(r);

	o.version = 2;
	r = resp_rc(resp, &o, GCMSG_EUSAGE);
	assert_string_equal(gcmsg_rendered_error(r), "render options version 2 is not supported (expected 1)");
	gcmsg_rendered_free(r);
	o.version = GCMSG_RENDER_OPTIONS_VERSION;
	o.var_count = 1;
	r = text_rc("x", NULL, &o, GCMSG_EUSAGE);
	assert_string_equal(gcmsg_rendered_error(r), "render options: var_count is 1 but vars is NULL");
	gcmsg_rendered_free(r);
	{
		gcmsg_var bad_id[] = { { "A B", "x" } }, no_id[] = { { NULL, "x" } }, no_value[] = { { "A", NULL } },
			  empty_id[] = { { "", "x" } };
		o.vars = bad_id;
		r = text_rc("x", NULL, &o, GCMSG_EUSAGE);
		assert_string_equal(gcmsg_rendered_error(r),
		                    "'A B' is not a placeholder id (letters, digits, '_', '-' and '.' only)");
		gcmsg_rendered_free(r);
		o.vars = empty_id;
		gcmsg_rendered_free(text_rc("x", NULL, &o, GCMSG_EUSAGE));
		o.vars = no_id;
		r = text_rc("x", NULL, &o, GCMSG_EUSAGE);
		assert_string_equal(gcmsg_rendered_error(r), "render options: vars[0] has no id");
		gcmsg_rendered_free(r);
		o.vars = no_value;
		r = text_rc("x", NULL, &o, GCMSG_EUSAGE);
		assert_string_equal(gcmsg_rendered_error(r), "render options: vars[0] has no value");
		gcmsg_rendered_free(r);
	}
	gcmsg_response_free(resp);

	/* accessors are safe on NULL and out of range */
	assert_null(gcmsg_rendered_text(NULL));
	assert_null(gcmsg_rendered_content_type(NULL));
	assert_int_equal(gcmsg_rendered_flattened(NULL), 0);
	assert_null(gcmsg_rendered_language(NULL));
	assert_null(gcmsg_rendered_error(NULL));
	assert_null(gcmsg_rendered_warning(NULL));
	assert_int_equal(gcmsg_rendered_placeholder_count(NULL), 0);
	assert_null(gcmsg_rendered_placeholder_id(NULL, 0));
	assert_null(gcmsg_rendered_placeholder_value(NULL, 0));
	assert_int_equal(gcmsg_rendered_placeholder_source(NULL, 0), GCMSG_VALUE_MISSING);
	assert_int_equal(gcmsg_rendered_missing_count(NULL), 0);
	assert_null(gcmsg_rendered_missing(NULL, 0));
	assert_int_equal(gcmsg_rendered_malformed_count(NULL), 0);
	assert_null(gcmsg_rendered_malformed_text(NULL, 0));
	assert_int_equal(gcmsg_rendered_malformed_offset(NULL, 0), 0);
	assert_null(gcmsg_rendered_malformed_reason(NULL, 0));
	assert_int_equal(gcmsg_rendered_is_template(NULL), 0);
	assert_null(gcmsg_rendered_template_response_id(NULL));
	assert_null(gcmsg_rendered_response_id(NULL));
	assert_null(gcmsg_rendered_response_name(NULL));
	assert_int_equal(gcmsg_rendered_response_version(NULL), -1);
	assert_null(gcmsg_rendered_library_id(NULL));
	gcmsg_rendered_free(NULL);
	r = text_rc("{{A}}", NULL, NULL, GCMSG_EPOLICY);
	assert_null(gcmsg_rendered_placeholder_id(r, 1));
	assert_null(gcmsg_rendered_placeholder_value(r, 0));
	assert_int_equal(gcmsg_rendered_placeholder_source(r, 1), GCMSG_VALUE_MISSING);
	assert_null(gcmsg_rendered_missing(r, 1));
	assert_null(gcmsg_rendered_malformed_text(r, 0));
	assert_int_equal(gcmsg_rendered_malformed_offset(r, 0), 0);
	assert_null(gcmsg_rendered_malformed_reason(r, 0));
	gcmsg_rendered_free(r);

	assert_string_equal(gcmsg_value_source_name(GCMSG_VALUE_MISSING), "missing");
	assert_string_equal(gcmsg_value_source_name(GCMSG_VALUE_VAR), "var");
	assert_string_equal(gcmsg_value_source_name(GCMSG_VALUE_BUILTIN), "builtin");
	assert_string_equal(gcmsg_value_source_name(GCMSG_VALUE_ATTRIBUTE), "attribute");
	assert_string_equal(gcmsg_value_source_name(GCMSG_VALUE_DEFAULT), "default");
	assert_string_equal(gcmsg_value_source_name((gcmsg_value_source)42), "unknown");
}

static void test_caps(void **state)
{
	size_t mib = (size_t)1024 * 1024, kib64 = (size_t)64 * 1024, i, n;
	char *big = malloc(mib + 2), *val = malloc(kib64 + 2);
	gcmsg_var vars[] = { { "V", NULL } };
	gcmsg_render_options o = GCMSG_RENDER_OPTIONS_INIT;
	gcmsg_response *resp;
	gcmsg_rendered *r;

	(void)state;
	assert_non_null(big);
	assert_non_null(val);
	/* a value: 64 KiB is fine, one byte more is not (var, attribute or default alike) */
	memset(val, 'v', kib64 + 1);
	val[kib64] = '\0';
	vars[0].value = val;
	o.vars = vars;
	o.var_count = 1;
	r = text_rc("{{V}}", NULL, &o, GCMSG_OK);
	assert_int_equal(strlen(gcmsg_rendered_text(r)), kib64);
	gcmsg_rendered_free(r);
	val[kib64] = 'v';
	val[kib64 + 1] = '\0';
	r = text_rc("{{V}}", NULL, &o, GCMSG_EUSAGE);
	assert_string_equal(gcmsg_rendered_error(r), "the value of V is longer than 64 KiB");
	gcmsg_rendered_free(r);
	resp = response_with("{{D}}", NULL);
	assert_int_equal(gcmsg__response_add_subst(resp, "D", NULL, val), 0);
	r = resp_rc(resp, NULL, GCMSG_EUSAGE);
	assert_string_equal(gcmsg_rendered_error(r), "the value of D (default) is longer than 64 KiB");
	gcmsg_rendered_free(r);
	gcmsg_response_free(resp);
	val[kib64] = '\0';

	/* the text: 1 MiB is fine, one byte more is not */
	memset(big, 'a', mib + 1);
	big[mib + 1] = '\0';
	r = text_rc(big, NULL, NULL, GCMSG_EUSAGE);
	assert_string_equal(gcmsg_rendered_error(r), "the text is longer than 1 MiB (1048577 bytes)");
	gcmsg_rendered_free(r);
	big[mib] = '\0';
	r = text_rc(big, NULL, NULL, GCMSG_OK);
	assert_int_equal(strlen(gcmsg_rendered_text(r)), mib);
	gcmsg_rendered_free(r);
	/* the result: at most 1 MiB */
	memcpy(big + mib - 10, "{{V}}", 5);
	r = text_rc(big, NULL, &o, GCMSG_EUSAGE);
	assert_string_equal(gcmsg_rendered_error(r), "the rendered text would be longer than 1 MiB");
	gcmsg_rendered_free(r);

	/* HTML that flattens to more than the flattener's 4 MiB */
	{
		static const char head[] = "<ul><ul><ul><ul><ul><ul><ul><ul><ul><ul>";
		size_t h = strlen(head);
		memcpy(big, head, h);
		for (i = h; i + 5 <= mib; i += 5)
			memcpy(big + i, "<li>a", 5);
		big[i] = '\0';
		r = text_rc(big, "text/html", NULL, GCMSG_EUSAGE);
		assert_string_equal(gcmsg_rendered_error(r), "the text/html flattens to more than 4 MiB");
		gcmsg_rendered_free(r);
	}

	/* 1000 distinct placeholders, and malformed ones */
	for (i = 0, n = 0; i < 1000; i++)
		n += (size_t)sprintf(big + n, "{{P%zu}}", i);
	o.allow_missing = 1;
	r = text_rc(big, NULL, &o, GCMSG_OK);
	assert_int_equal(gcmsg_rendered_missing_count(r), 1000);
	gcmsg_rendered_free(r);
	strcpy(big + n, "{{P1000}}");
	r = text_rc(big, NULL, &o, GCMSG_EUSAGE);
	assert_string_equal(gcmsg_rendered_error(r), "the text has more than 1000 distinct placeholders");
	gcmsg_rendered_free(r);
	for (i = 0, n = 0; i < 1000; i++)
		n += (size_t)sprintf(big + n, "{{}}");
	r = text_rc(big, NULL, &o, GCMSG_OK);
	assert_int_equal(gcmsg_rendered_malformed_count(r), 1000);
	gcmsg_rendered_free(r);
	strcpy(big + n, "{{}}");
	r = text_rc(big, NULL, &o, GCMSG_EUSAGE);
	assert_string_equal(gcmsg_rendered_error(r), "the text has more than 1000 malformed placeholders");
	gcmsg_rendered_free(r);

	free(big);
	free(val);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo),          cmocka_unit_test(test_sources_and_precedence),
		cmocka_unit_test(test_builtins),      cmocka_unit_test(test_values_verbatim),
		cmocka_unit_test(test_unicode),       cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_many_problems), cmocka_unit_test(test_language),
		cmocka_unit_test(test_plain_vs_html), cmocka_unit_test(test_trim),
		cmocka_unit_test(test_template_and_metadata), cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
