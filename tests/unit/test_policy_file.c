/* Unit tests: the policy file (src/lib/policy_file.c, docs/gcmsg-policy.5.md). */
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

#include "gcmsg/gcmsg.h"
#include "policy_internal.h"

static gcmsg_policy *load_ok(const char *text)
{
	gcmsg_policy *p = NULL;

	if (gcmsg_policy_load_buffer(&p, text, strlen(text), "p.toml") != GCMSG_OK)
		fail_msg("did not load: %s", gcmsg_policy_last_error(p)->explanation);
	return p;
}

/* the load fails with ECONFIG and an explanation holding `want` */
static void expect_error(const char *text, const char *want)
{
	gcmsg_policy *p = NULL;
	gcmsg_policy_result *r = NULL;
	const gcmsg_error *e;
	int rc = gcmsg_policy_load_buffer(&p, text, strlen(text), "p.toml");

	assert_non_null(p); /* set even on failure */
	e = gcmsg_policy_last_error(p);
	if (rc != GCMSG_ECONFIG || !e->explanation || !strstr(e->explanation, want))
		fail_msg("rc %d, error '%s', expected one holding '%s' for:\n%s", rc, e->explanation ? e->explanation : "(none)",
		         want, text);
	assert_int_equal(e->code, GCMSG_ECONFIG);
	assert_string_equal(e->fix, "correct p.toml (the format is in gcmsg-policy(5))");
	/* a policy that failed to load refuses every check */
	assert_int_equal(gcmsg_policy_check_text(&r, p, "x", 1, NULL), GCMSG_EUSAGE);
	assert_null(r);
	gcmsg_policy_free(p);
}

static void minimal_and_defaults(void **state)
{
	gcmsg_policy *p = load_ok("format = 1\n");
	int d;

	(void)state;
	assert_int_equal(p->npatterns, 0);
	assert_int_equal(p->nallows, 0);
	assert_int_equal(p->match_limit, GCMSG__PCRE_MATCH_LIMIT);
	assert_int_equal(p->depth_limit, GCMSG__PCRE_DEPTH_LIMIT);
	assert_int_equal(p->heap_limit_kib, GCMSG__PCRE_HEAP_LIMIT_KIB);
	assert_int_equal(p->jit, 1);
	for (d = 0; d < GCMSG__DET_COUNT; d++)
		assert_int_equal(p->global.det[d], -1);
	assert_null(gcmsg_policy_last_error(p)->explanation);
	gcmsg_policy_free(p);
	/* comments, blank lines, CRLF */
	p = load_ok("# a policy\r\n\r\nformat = 1 # the format\r\n[detectors]\r\nemail = true\r\n");
	assert_int_equal(p->global.det[GCMSG__DET_EMAIL], 1);
	gcmsg_policy_free(p);
}

static void full_file(void **state)
{
	gcmsg_policy *p = load_ok("format = 1\n"
	                          "[limits]\nmax_length = 1500\nmax_segments = 4\n"
	                          "[detectors]\nemail = true\nphone = false\n"
	                          "[attachments]\nmax_bytes = 5242880\ntypes = [\n  \"image/jpeg\",\n  \"IMAGE/*\",\n]\n"
	                          "[pcre]\nmatch_limit = 5000\ndepth_limit = 300\nheap_limit = 1024\njit = false\n"
	                          "[channels.sms.limits]\nmax_length = 700\nmax_segments = 3\n"
	                          "[channels.sms.patterns]\nlate = false\n"
	                          "[queues.\"8a1c-44\".detectors]\nphone = true\n"
	                          "[queues.\"8a1c-44\".attachments]\ntypes = []\n"
	                          "[patterns.ticket]\nregex = 'INT-\\d{6}'\nmessage = \"no internal ids\"\nignore_case = true\n"
	                          "[patterns.late]\nregex = 'zzz'\nenabled = false\n"
	                          "[allow.test-card]\nregex = '4111[ -]?1111[ -]?1111[ -]?1111'\n"
	                          "rules = [\"detector.payment-card\", \"pattern.ticket\"]\n");

	(void)state;
	assert_int_equal(p->global.max_length, 1500);
	assert_int_equal(p->global.max_segments, 4);
	assert_int_equal(p->global.det[GCMSG__DET_EMAIL], 1);
	assert_int_equal(p->global.det[GCMSG__DET_PHONE], 0);
	assert_int_equal(p->global.det[GCMSG__DET_IBAN], -1);
	assert_int_equal(p->global.max_bytes, 5242880);
	assert_int_equal(p->global.ntypes, 2);
	assert_string_equal(p->global.types[0], "image/jpeg");
	assert_string_equal(p->global.types[1], "image/");
	assert_int_equal(p->match_limit, 5000);
	assert_int_equal(p->depth_limit, 300);
	assert_int_equal(p->heap_limit_kib, 1024);
	assert_int_equal(p->jit, 0);
	assert_int_equal(p->channels[GCMSG__CH_SMS].max_length, 700);
	assert_int_equal(p->channels[GCMSG__CH_SMS].max_segments, 3);
	assert_non_null(p->channels[GCMSG__CH_SMS].pat);
	assert_int_equal(p->channels[GCMSG__CH_SMS].pat[0], -1);
	assert_int_equal(p->channels[GCMSG__CH_SMS].pat[1], 0);
	assert_int_equal(p->nqueues, 1);
	assert_string_equal(p->queues[0].queue_id, "8a1c-44");
	assert_int_equal(p->queues[0].scope.det[GCMSG__DET_PHONE], 1);
	assert_int_equal(p->queues[0].scope.types_set, 1);
	assert_int_equal(p->queues[0].scope.ntypes, 0);
	assert_int_equal(p->npatterns, 2);
	assert_string_equal(p->patterns[0].id, "ticket");
	assert_string_equal(p->patterns[0].message, "no internal ids");
	assert_int_equal(p->patterns[0].enabled, 1);
	assert_int_equal(p->patterns[1].enabled, 0);
	assert_int_equal(p->nallows, 1);
	assert_int_equal(p->allows[0].nrules, 2);
	gcmsg_policy_free(p);
}

static void format_errors(void **state)
{
	(void)state;
	expect_error("", "p.toml: missing 'format = 1'");
	expect_error("[detectors]\nemail = true\n", "p.toml: missing 'format = 1'");
	expect_error("format = 2\n", "p.toml: line 1: format = 2 is not supported");
	expect_error("# c\nformat = \"1\"\n", "p.toml: line 2: 'format' must be an integer");
	/* TOML syntax errors name the line too */
	expect_error("format = 1\n[limits\n", "p.toml: line 2: ']' expected");
	expect_error("format = 1\nx = [1]\n", "p.toml: line 2: arrays hold only strings");
}

static void unknown_tables_and_keys(void **state)
{
	(void)state;
	expect_error("format = 1\nversion = 3\n", "p.toml: line 2: unknown key 'version' before any table (known: format)");
	expect_error("format = 1\n[limit]\nmax_length = 5\n", "p.toml: line 2: unknown table [limit]");
	expect_error("format = 1\n\n[global]\n", "p.toml: line 3: unknown table [global]");
	expect_error("format = 1\n[limits]\nmax_len = 5\n",
	             "p.toml: line 3: [limits]: unknown key 'max_len' (known: max_length, max_segments)");
	expect_error("format = 1\n[detectors]\ncard = true\n", "p.toml: line 3: [detectors]: unknown detector 'card'");
	expect_error("format = 1\n[attachments]\nmax_size = 1\n", "line 3: [attachments]: unknown key 'max_size'");
	expect_error("format = 1\n[pcre]\nlimit = 1\n", "line 3: [pcre]: unknown key 'limit'");
	expect_error("format = 1\n[channels.telegram.limits]\nmax_length = 5\n",
	             "p.toml: line 2: [channels.telegram.limits]: unknown channel 'telegram'");
	expect_error("format = 1\n[channels.SMS.limits]\n", "line 2: [channels.SMS.limits]: unknown channel 'SMS'");
	expect_error("format = 1\n[channels.sms]\nmax_length = 5\n",
	             "line 3: [channels.sms]: unknown key 'max_length' ([channels.sms] holds only tables)");
	expect_error("format = 1\n[channels.sms.rules]\n", "line 2: unknown table [channels.sms.rules]");
	expect_error("format = 1\n[queues.q1.pcre]\n", "line 2: unknown table [queues.q1.pcre]");
	expect_error("format = 1\n[queues.q1.limits.x]\n", "line 2: unknown table [queues.q1.limits.x]");
	expect_error("format = 1\n[patterns.a.b]\nregex = 'a'\n", "line 2: unknown table [patterns.a.b]");
	expect_error("format = 1\n[allow.a.b]\n", "line 2: unknown table [allow.a.b]");
	expect_error("format = 1\n[patterns]\nx = 1\n", "line 3: [patterns]: unknown key 'x' ([patterns] holds only tables)");
	expect_error("format = 1\n[patterns.a]\nregex = 'a'\nflags = 'i'\n", "line 4: [patterns.a]: unknown key 'flags'");
	expect_error("format = 1\n[allow.a]\nregex = 'a'\nrules = [\"detector.email\"]\nwhy = 'x'\n",
	             "line 5: [allow.a]: unknown key 'why'");
	expect_error("format = 1\n[queues.q.patterns]\nnope = false\n",
	             "line 3: [queues.q.patterns]: 'nope' is not a pattern defined in this file");
	expect_error("format = 1\n[queues.\"\".limits]\n", "line 2: [queues.\"\".limits]: a queue id must not be empty");
	expect_error("format = 1\n[queues.\"a b\".limits]\n", "a queue id holds a space");
}

static void value_errors(void **state)
{
	(void)state;
	expect_error("format = 1\n[limits]\nmax_length = \"100\"\n", "line 3: [limits]: 'max_length' must be an integer");
	expect_error("format = 1\n[limits]\nmax_length = 0\n", "line 3: [limits]: max_length = 0 is out of range");
	expect_error("format = 1\n[limits]\nmax_length = 4001\n",
	             "line 3: [limits]: max_length = 4001 is above every Genesys limit");
	expect_error("format = 1\n[channels.sms.limits]\nmax_length = 766\n",
	             "line 3: [channels.sms.limits]: max_length = 766 is above Genesys' limit for sms (765 UTF-16 units)");
	expect_error("format = 1\n[channels.webmessaging.limits]\nmax_length = 2001\n", "limit for webmessaging (2000");
	expect_error("format = 1\n[channels.webmessaging.limits]\nmax_segments = 2\n",
	             "line 3: [channels.webmessaging.limits]: max_segments applies only to sms");
	expect_error("format = 1\n[limits]\nmax_segments = 256\n", "max_segments = 256 is out of range (1 to 255)");
	expect_error("format = 1\n[detectors]\nemail = 1\n", "line 3: [detectors]: 'email' must be true or false");
	expect_error("format = 1\n[attachments]\nmax_bytes = 2147483648\n", "max_bytes = 2147483648 is out of range");
	expect_error("format = 1\n[attachments]\nmax_bytes = 0\n", "max_bytes = 0 is out of range");
	expect_error("format = 1\n[attachments]\ntypes = \"image/png\"\n", "line 3: [attachments]: 'types' must be an array");
	expect_error("format = 1\n[attachments]\ntypes = [\"png\"]\n", "types: 'png' is not a MIME type");
	expect_error("format = 1\n[attachments]\ntypes = [\"image/\"]\n", "types: 'image/' is not a MIME type");
	expect_error("format = 1\n[attachments]\ntypes = [\"*/*\"]\n", "types: '*/*' is not a MIME type");
	expect_error("format = 1\n[attachments]\ntypes = [\"image/png;q=1\"]\n", "is not a MIME type");
	expect_error("format = 1\n[pcre]\nmatch_limit = 0\n", "line 3: [pcre]: match_limit = 0 is out of range");
	expect_error("format = 1\n[pcre]\nheap_limit = 1\n", "heap_limit = 1 is out of range (64 to");
	expect_error("format = 1\n[pcre]\njit = \"yes\"\n", "'jit' must be true or false");
	expect_error("format = 1\n[channels.sms.patterns]\n[patterns.a]\nregex = 'a'\n[channels.sms.patterns]\n",
	             "table [channels.sms.patterns] is defined twice");
}

static void pattern_errors(void **state)
{
	(void)state;
	/* PCRE2's message and offset, at the regex's line */
	expect_error("format = 1\n[patterns.bad]\nmessage = \"m\"\nregex = 'a(b'\n",
	             "p.toml: line 4: [patterns.bad]: regex does not compile: missing closing parenthesis at byte 3");
	expect_error("format = 1\n[patterns.bad]\nregex = '[z-a]'\n", "line 3: [patterns.bad]: regex does not compile: range out of order");
	expect_error("format = 1\n[patterns.bad]\nregex = 'a\\C'\n", "regex does not compile");
	expect_error("format = 1\n[patterns.none]\nmessage = \"m\"\n", "line 2: [patterns.none]: missing required key 'regex'");
	expect_error("format = 1\n[patterns.e]\nregex = ''\n", "line 3: [patterns.e]: 'regex' must not be empty");
	expect_error("format = 1\n[patterns.e]\nregex = 1\n", "'regex' must be a string");
	expect_error("format = 1\n[patterns.star]\nregex = 'a*'\n", "line 3: [patterns.star]: the regex matches the empty string");
	/* patterns whose matches are all empty somewhere (not on an empty subject): their minimum length is 0 */
	expect_error("format = 1\n[patterns.la]\nregex = '(?i)(?=.*internal use only)'\n",
	             "p.toml: line 3: [patterns.la]: the regex matches the empty string");
	expect_error("format = 1\n[patterns.wb]\nregex = '\\b|secretword'\n",
	             "p.toml: line 3: [patterns.wb]: the regex matches the empty string");
	expect_error("format = 1\n[patterns.lb]\n\nregex = '(?<=secret)'\n", "line 4: [patterns.lb]: the regex matches the empty string");
	expect_error("format = 1\n[patterns.end]\nregex = 'x?$'\n", "line 3: [patterns.end]: the regex matches the empty string");
	/* lookarounds and anchors around something to match are fine */
	gcmsg_policy_free(load_ok("format = 1\n[patterns.a]\nregex = '(?i)(?=.*internal)internal use only'\n"
	                          "[patterns.b]\nregex = '\\bsecretword\\b'\n[patterns.c]\nregex = '(?<=id:)\\d+'\n"));
	expect_error("format = 1\n[patterns.limit]\nregex = 'a'\n", "line 2: [patterns.limit]: 'limit' is reserved");
	expect_error("format = 1\n[patterns.error]\nregex = 'a'\n", "'error' is reserved");
	expect_error("format = 1\n[patterns.\"a b\"]\nregex = 'a'\n", "a pattern id is 1 to 64 letters");
	expect_error("format = 1\n[patterns.a]\nregex = 'a'\nmessage = \"\"\"two\nlines\"\"\"\n", "a message is one line");
	expect_error("format = 1\n[patterns.a]\nregex = 'a'\nignore_case = 'yes'\n", "'ignore_case' must be true or false");
	expect_error("format = 1\n[patterns.a]\nregex = 'a'\nenabled = 0\n", "'enabled' must be true or false");
}

static void allow_errors(void **state)
{
	(void)state;
	expect_error("format = 1\n[allow.a]\nregex = 'x'\n", "line 2: [allow.a]: missing required key 'rules'");
	expect_error("format = 1\n[allow.a]\nregex = 'x'\nrules = \"detector.email\"\n",
	             "line 4: [allow.a]: 'rules' must be a non-empty array");
	expect_error("format = 1\n[allow.a]\nregex = 'x'\nrules = []\n", "'rules' must be a non-empty array");
	expect_error("format = 1\n[allow.a]\nregex = 'x'\nrules = [\"length.max\"]\n",
	             "line 4: [allow.a]: rules: 'length.max' cannot be exempted");
	expect_error("format = 1\n[allow.a]\nregex = 'x'\nrules = [\"detector.card\"]\n", "'detector.card' cannot be exempted");
	expect_error("format = 1\n[allow.a]\nregex = 'x'\nrules = [\"pattern.nope\"]\n", "'pattern.nope' cannot be exempted");
	expect_error("format = 1\n[allow.a]\nregex = 'x'\nrules = [\"pattern.limit\"]\n", "'pattern.limit' cannot be exempted");
	expect_error("format = 1\n[allow.a]\nrules = [\"detector.email\"]\n", "line 2: [allow.a]: missing required key 'regex'");
	expect_error("format = 1\n[allow.a]\nrules = [\"detector.email\"]\nregex = '(('\n",
	             "line 4: [allow.a]: regex does not compile");
}

/* a scope may switch a pattern defined further down; an allow entry may name one */
static void order_does_not_matter(void **state)
{
	gcmsg_policy *p = load_ok("format = 1\n"
	                          "[allow.demo]\nregex = 'INT-000000'\nrules = [\"pattern.ticket\"]\n"
	                          "[channels.chat.patterns]\nticket = false\n"
	                          "[patterns.ticket]\nregex = 'INT-\\d{6}'\n");

	(void)state;
	assert_int_equal(p->npatterns, 1);
	assert_int_equal(p->channels[GCMSG__CH_CHAT].pat[0], 0);
	gcmsg_policy_free(p);
}

static char *temp_file(const char *content, size_t len)
{
	char *path = strdup("/tmp/gcmsg-policy-test-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static void files(void **state)
{
	gcmsg_policy *p = NULL;
	char *path;
	const char *text = "format = 1\n[limits]\nmax_length = 99999\n";
	char want[512];

	(void)state;
	path = temp_file(text, strlen(text));
	assert_int_equal(gcmsg_policy_load_file(&p, path), GCMSG_ECONFIG);
	snprintf(want, sizeof(want), "%s: line 3: [limits]: max_length = 99999", path);
	assert_non_null(strstr(gcmsg_policy_last_error(p)->explanation, want));
	gcmsg_policy_free(p);
	unlink(path);
	free(path);
	text = "format = 1\n[detectors]\nphone = true\n";
	path = temp_file(text, strlen(text));
	assert_int_equal(gcmsg_policy_load_file(&p, path), GCMSG_OK);
	assert_int_equal(p->global.det[GCMSG__DET_PHONE], 1);
	gcmsg_policy_free(p);
	unlink(path);
	free(path);
	/* missing, a directory, too large */
	assert_int_equal(gcmsg_policy_load_file(&p, "/nonexistent/policy.toml"), GCMSG_ECONFIG);
	assert_non_null(strstr(gcmsg_policy_last_error(p)->explanation, "cannot read policy file /nonexistent/policy.toml"));
	assert_non_null(gcmsg_policy_last_error(p)->fix);
	gcmsg_policy_free(p);
	assert_int_equal(gcmsg_policy_load_file(&p, "/tmp"), GCMSG_ECONFIG);
	assert_non_null(strstr(gcmsg_policy_last_error(p)->explanation, "not a regular file"));
	gcmsg_policy_free(p);
	{
		size_t n = GCMSG__POLICY_FILE_CAP + 1;
		char *big = malloc(n);
		assert_non_null(big);
		memset(big, '#', n);
		path = temp_file(big, n);
		free(big);
		assert_int_equal(gcmsg_policy_load_file(&p, path), GCMSG_ECONFIG);
		assert_non_null(strstr(gcmsg_policy_last_error(p)->explanation, "larger than 1024 KiB"));
		gcmsg_policy_free(p);
		unlink(path);
		free(path);
	}
	assert_int_equal(gcmsg_policy_load_file(&p, NULL), GCMSG_EUSAGE);
	gcmsg_policy_free(p);
	assert_int_equal(gcmsg_policy_load_file(NULL, "x"), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_policy_load_buffer(NULL, "x", 1, NULL), GCMSG_EUSAGE);
}

/* docs/gcmsg-policy.5.md: its complete example is a valid file that does what it says */
static void documented_example(void **state)
{
	char path[4096], *p, *text, *start, *end;
	FILE *f;
	long n;
	gcmsg_policy *pol;
	gcmsg_policy_result *r = NULL;
	gcmsg_check_options o = GCMSG_CHECK_OPTIONS_INIT;

	(void)state;
	snprintf(path, sizeof(path), "%s", __FILE__);
	p = strstr(path, "tests/unit/");
	assert_non_null(p);
	snprintf(p, sizeof(path) - (size_t)(p - path), "docs/gcmsg-policy.5.md");
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = malloc((size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	text[n] = '\0';
	fclose(f);
	start = strstr(text, "```toml\n");
	assert_non_null(start);
	start += 8;
	end = strstr(start, "```");
	assert_non_null(end);
	*end = '\0';
	pol = load_ok(start);
	/* what the example promises */
	o.channel = "sms";
	assert_int_equal(gcmsg_policy_check_text(&r, pol, "Your ticket INT-123456", 22, &o), GCMSG_EPOLICY);
	assert_string_equal(gcmsg_policy_result_rule(r, 0), "pattern.internal-ticket");
	gcmsg_policy_result_free(r);
	assert_int_equal(gcmsg_policy_check_text(&r, pol, "Test card 4111 1111 1111 1111", 29, &o), GCMSG_OK);
	gcmsg_policy_result_free(r);
	assert_int_equal(gcmsg_policy_check_text(&r, pol, "mail a@example.com", 18, &o), GCMSG_EPOLICY);
	assert_string_equal(gcmsg_policy_result_rule(r, 0), "detector.email");
	assert_int_equal(gcmsg_policy_result_length_limit(r), 600);
	gcmsg_policy_result_free(r);
	free(text);
	gcmsg_policy_free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(minimal_and_defaults),
		cmocka_unit_test(full_file),
		cmocka_unit_test(format_errors),
		cmocka_unit_test(unknown_tables_and_keys),
		cmocka_unit_test(value_errors),
		cmocka_unit_test(pattern_errors),
		cmocka_unit_test(allow_errors),
		cmocka_unit_test(order_does_not_matter),
		cmocka_unit_test(files),
		cmocka_unit_test(documented_example),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
