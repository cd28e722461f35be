#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void full_error_body(void **state)
{
	gcmsg__err e;
	static const char body[] =
		"{\"message\":\"Missing permissions: conversation:message:create\","
		"\"code\":\"missing.any.permissions\",\"status\":403,"
		"\"messageParams\":{\"permissions\":\"conversation:message:create\",\"n\":\"1\"},"
		"\"contextId\":\"ctx-123\","
		"\"details\":[{\"errorCode\":\"invalid.value\",\"fieldName\":\"textBody\"},{\"fieldName\":\"x\"}],"
		"\"errors\":[]}";

	(void)state;
	gcmsg__err_init(&e);
	assert_int_equal(gcmsg__err_from_http(&e, 403, body, sizeof(body) - 1, NULL, -1), GCMSG_EPERM);
	assert_int_equal(e.pub.code, GCMSG_EPERM);
	assert_int_equal(e.pub.http_status, 403);
	assert_string_equal(e.pub.genesys_code, "missing.any.permissions");
	assert_string_equal(e.pub.message, "Missing permissions: conversation:message:create");
	assert_string_equal(e.pub.correlation_id, "ctx-123");
	assert_int_equal(e.pub.param_count, 2);
	assert_string_equal(e.pub.param_keys[0], "permissions");
	assert_string_equal(e.pub.param_values[0], "conversation:message:create");
	assert_string_equal(e.pub.details, "textBody: invalid.value; x");
	gcmsg__err_clear(&e);
	assert_null(e.pub.genesys_code);
	assert_int_equal(e.pub.param_count, 0);
}

static void header_correlation_id_wins(void **state)
{
	gcmsg__err e;
	static const char body[] = "{\"code\":\"not.found\",\"message\":\"x\",\"contextId\":\"body-id\"}";

	(void)state;
	gcmsg__err_init(&e);
	assert_int_equal(gcmsg__err_from_http(&e, 404, body, sizeof(body) - 1, "hdr-id", -1), GCMSG_ENOTFOUND);
	assert_string_equal(e.pub.correlation_id, "hdr-id");
	gcmsg__err_clear(&e);
}

static void status_mapping(void **state)
{
	(void)state;
	assert_int_equal(gcmsg__status_to_code(200), GCMSG_OK);
	assert_int_equal(gcmsg__status_to_code(202), GCMSG_OK);
	assert_int_equal(gcmsg__status_to_code(400), GCMSG_EREMOTE);
	assert_int_equal(gcmsg__status_to_code(401), GCMSG_EAUTH);
	assert_int_equal(gcmsg__status_to_code(403), GCMSG_EPERM);
	assert_int_equal(gcmsg__status_to_code(404), GCMSG_ENOTFOUND);
	assert_int_equal(gcmsg__status_to_code(409), GCMSG_EREMOTE);
	assert_int_equal(gcmsg__status_to_code(429), GCMSG_ERATELIMIT);
	assert_int_equal(gcmsg__status_to_code(500), GCMSG_EREMOTE);
	assert_int_equal(gcmsg__status_to_code(503), GCMSG_EREMOTE);
}

static void not_an_error_body(void **state)
{
	gcmsg__err e;
	static const char *const bodies[] = { "<html>Bad Gateway</html>", "[1,2]", "{\"code\":5}", "", "null" };
	size_t i;

	(void)state;
	gcmsg__err_init(&e);
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_int_equal(gcmsg__err_from_http(&e, 502, bodies[i], strlen(bodies[i]), NULL, -1),
		                 GCMSG_EREMOTE);
		assert_null(e.pub.genesys_code);
		assert_null(e.pub.message);
		assert_int_equal(e.pub.http_status, 502);
	}
	assert_int_equal(gcmsg__err_from_http(&e, 429, "{\"code\":\"too.many.requests.retry.after\"}", 39,
	                                      "c", 7),
	                 GCMSG_ERATELIMIT);
	assert_int_equal(e.pub.retry_after, 7);
	gcmsg__err_clear(&e);
}

static void set_and_strerror(void **state)
{
	gcmsg__err e;
	int code;

	(void)state;
	gcmsg__err_init(&e);
	assert_int_equal(gcmsg__err_set(&e, GCMSG_ECONFIG, "bad %s", "thing"), GCMSG_ECONFIG);
	assert_string_equal(e.pub.explanation, "bad thing");
	gcmsg__err_set_fix(&e, "chmod 600 %s", "/x");
	assert_string_equal(e.pub.fix, "chmod 600 /x");
	gcmsg__err_set_rule(&e, "conversation.ended");
	assert_string_equal(e.pub.rule, "conversation.ended");
	gcmsg__err_clear(&e);
	for (code = GCMSG_EREMOTE; code <= GCMSG_OK; code++)
		assert_non_null(gcmsg_strerror(code));
	assert_string_equal(gcmsg_strerror(12345), "unknown error");
}

static void token_renewal_policy(void **state)
{
	(void)state;
	/* a 24 h token: renewed in its last 60 s */
	assert_false(gcmsg__auth_needs_renewal(1000.0, 1000.0 + 86400, 86400));
	assert_false(gcmsg__auth_needs_renewal(1000.0 + 86400 - 61, 1000.0 + 86400, 86400));
	assert_true(gcmsg__auth_needs_renewal(1000.0 + 86400 - 60, 1000.0 + 86400, 86400));
	assert_true(gcmsg__auth_needs_renewal(1000.0 + 86400 + 5, 1000.0 + 86400, 86400));
	/* a 5 min token: 10% of its lifetime (30 s) */
	assert_false(gcmsg__auth_needs_renewal(1269.0, 1300.0, 300));
	assert_true(gcmsg__auth_needs_renewal(1270.0, 1300.0, 300));
	/* unknown expiry: only a 401 renews */
	assert_false(gcmsg__auth_needs_renewal(1e9, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_error_body),
		cmocka_unit_test(header_correlation_id_wins),
		cmocka_unit_test(status_mapping),
		cmocka_unit_test(not_an_error_body),
		cmocka_unit_test(set_and_strerror),
		cmocka_unit_test(token_renewal_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
