/*
 * The bulk run's contract checks and its keys (src/lib/bulk.c). The run itself
 * is exercised against a real gcsim by tests/delivery/bulk*.py and the
 * bulk_cli integration case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gcmsg/gcmsg.h"

#define CONV "11111111-0000-4000-8000-000000000001"

static gcmsg_bulk_row row_of(const char *text, const char *const *names, const char *const *values, size_t n)
{
	gcmsg_bulk_row r;

	memset(&r, 0, sizeof(r));
	r.line = 2;
	r.conversation_id = CONV;
	r.text = text;
	r.var_count = n;
	r.var_names = names;
	r.var_values = values;
	return r;
}

static void test_keys(void **state)
{
	static const char *const n1[] = { "A", "B" }, *const v1[] = { "1", "2" };
	static const char *const n2[] = { "B", "A" }, *const v2[] = { "2", "1" };
	static const char *const v3[] = { "1", "3" };
	char k1[GCMSG_BULK_KEY_LEN], k2[GCMSG_BULK_KEY_LEN], k3[GCMSG_BULK_KEY_LEN], small[10];
	gcmsg_bulk_row a = row_of("Hi {{A}}", n1, v1, 2), b = row_of("Hi {{A}}", n2, v2, 2);
	gcmsg_bulk_row c = row_of("Hi {{A}}", n1, v3, 2);

	(void)state;
	assert_int_equal(gcmsg_bulk_row_key(k1, sizeof(k1), NULL, &a), GCMSG_OK);
	assert_int_equal(strlen(k1), GCMSG_BULK_KEY_LEN - 1);
	assert_memory_equal(k1, "b1:", 3);
	/* the same message with its variables in another order: the same key */
	assert_int_equal(gcmsg_bulk_row_key(k2, sizeof(k2), NULL, &b), GCMSG_OK);
	assert_string_equal(k1, k2);
	/* another value, another run id, another conversation, a response instead of a text: another key */
	assert_int_equal(gcmsg_bulk_row_key(k3, sizeof(k3), NULL, &c), GCMSG_OK);
	assert_string_not_equal(k1, k3);
	assert_int_equal(gcmsg_bulk_row_key(k3, sizeof(k3), "again", &a), GCMSG_OK);
	assert_string_not_equal(k1, k3);
	a.conversation_id = "11111111-0000-4000-8000-000000000002";
	assert_int_equal(gcmsg_bulk_row_key(k3, sizeof(k3), NULL, &a), GCMSG_OK);
	assert_string_not_equal(k1, k3);
	a.conversation_id = CONV;
	a.text = NULL;
	a.response = "Hi {{A}}";
	assert_int_equal(gcmsg_bulk_row_key(k3, sizeof(k3), NULL, &a), GCMSG_OK);
	assert_string_not_equal(k1, k3);
	/* the row's own key is the key, whatever the rest */
	a.key = "incident-42/row-7";
	assert_int_equal(gcmsg_bulk_row_key(k3, sizeof(k3), "again", &a), GCMSG_OK);
	assert_string_equal(k3, "incident-42/row-7");
	/* too small a buffer */
	assert_int_equal(gcmsg_bulk_row_key(small, sizeof(small), NULL, &a), GCMSG_EUSAGE);
	a.key = NULL;
	assert_int_equal(gcmsg_bulk_row_key(small, sizeof(small), NULL, &a), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_bulk_row_key(NULL, 80, NULL, &a), GCMSG_EUSAGE);
}

static void test_refuses_bad_runs(void **state)
{
	gcmsg_client_options co = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_bulk_options o = GCMSG_BULK_OPTIONS_INIT;
	gcmsg_bulk_summary sum;
	gcmsg_bulk_item it = { CONV, "hi", NULL, NULL, 0, "k1" };
	gcmsg_client *c = NULL;
	gcmsg_store *s = NULL;
	char dir[] = "/tmp/gcmsg-test-bulk-XXXXXX", path[128];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gcmsg.db", dir);
	assert_int_equal(gcmsg_store_open(&s, path, NULL), GCMSG_OK);
	co.api_url = "http://127.0.0.1:9";
	co.access_token = "not-a-real-token";
	assert_int_equal(gcmsg_client_new(&c, &co), GCMSG_OK);

	/* no store */
	assert_int_equal(gcmsg_bulk_send(c, &it, 1, &o, &sum), GCMSG_EUSAGE);
	assert_non_null(strstr(gcmsg_client_last_error(c)->explanation, "store"));
	assert_int_equal(sum.not_started, 1);
	o.store = s;
	/* a bad version, too many at once */
	o.version = 99;
	assert_int_equal(gcmsg_bulk_send(c, &it, 1, &o, NULL), GCMSG_EUSAGE);
	o.version = GCMSG_BULK_OPTIONS_VERSION;
	o.concurrency = GCMSG_BULK_MAX_CONCURRENCY + 1;
	assert_int_equal(gcmsg_bulk_send(c, &it, 1, &o, NULL), GCMSG_EUSAGE);
	o.concurrency = 4;
	/* items: no key, both text and response, no conversation */
	it.key = NULL;
	assert_int_equal(gcmsg_bulk_send(c, &it, 1, &o, NULL), GCMSG_EUSAGE);
	assert_non_null(strstr(gcmsg_client_last_error(c)->explanation, "idempotency key"));
	it.key = "k1";
	it.response = (const gcmsg_response *)&it; /* never read: refused first */
	assert_int_equal(gcmsg_bulk_send(c, &it, 1, &o, NULL), GCMSG_EUSAGE);
	it.response = NULL;
	it.conversation_id = "";
	assert_int_equal(gcmsg_bulk_send(c, &it, 1, &o, NULL), GCMSG_EUSAGE);
	it.conversation_id = CONV;
	/* two items under one key would be one message */
	{
		gcmsg_bulk_item two[2] = { { CONV, "hi", NULL, NULL, 0, "same" },
			                   { "11111111-0000-4000-8000-000000000002", "ho", NULL, NULL, 0, "same" } };
		assert_int_equal(gcmsg_bulk_send(c, two, 2, &o, NULL), GCMSG_EUSAGE);
		assert_non_null(strstr(gcmsg_client_last_error(c)->explanation, "same idempotency key"));
	}
	it.conversation_id = CONV;
	/* nothing to do is done at once, without a request */
	assert_int_equal(gcmsg_bulk_send(c, NULL, 0, &o, &sum), GCMSG_OK);
	assert_int_equal(sum.items, 0);
	assert_int_equal(gcmsg_bulk_send(NULL, &it, 1, &o, NULL), GCMSG_EUSAGE);

	gcmsg_client_free(c);
	gcmsg_store_free(s);
	unlink(path);
	snprintf(path, sizeof(path), "%s/gcmsg.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/gcmsg.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_refuses_bad_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
