#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void append_within_cap(void **state)
{
	gcmsg_buf b = GCMSG_BUF_INIT(8);

	(void)state;
	assert_string_equal(gcmsg__buf_cstr(&b), "");
	assert_int_equal(gcmsg__buf_puts(&b, "abcd"), 0);
	assert_int_equal(gcmsg__buf_append(&b, "efgh", 4), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(gcmsg__buf_cstr(&b), "abcdefgh");
	gcmsg__buf_dispose(&b);
	assert_null(b.ptr);
}

static void append_over_cap_fails_unchanged(void **state)
{
	gcmsg_buf b = GCMSG_BUF_INIT(5);

	(void)state;
	assert_int_equal(gcmsg__buf_puts(&b, "abc"), 0);
	assert_int_equal(gcmsg__buf_puts(&b, "def"), -1);
	assert_int_equal(b.len, 3);
	assert_string_equal(gcmsg__buf_cstr(&b), "abc");
	assert_int_equal(gcmsg__buf_printf(&b, "%d", 12345), -1);
	assert_int_equal(gcmsg__buf_printf(&b, "%d", 12), 0);
	assert_string_equal(gcmsg__buf_cstr(&b), "abc12");
	/* a huge length must not overflow the check */
	assert_int_equal(gcmsg__buf_append(&b, "x", SIZE_MAX), -1);
	gcmsg__buf_dispose(&b);
}

static void zero_cap_accepts_nothing(void **state)
{
	gcmsg_buf b = GCMSG_BUF_INIT(0);

	(void)state;
	assert_int_equal(gcmsg__buf_append(&b, "", 0), 0);
	assert_int_equal(gcmsg__buf_puts(&b, "a"), -1);
	gcmsg__buf_dispose(&b);
}

static void grows_across_many_appends(void **state)
{
	gcmsg_buf b = GCMSG_BUF_INIT(100000);
	int i;

	(void)state;
	for (i = 0; i < 10000; i++)
		assert_int_equal(gcmsg__buf_puts(&b, "0123456789"), 0);
	assert_int_equal(b.len, 100000);
	assert_int_equal(gcmsg__buf_puts(&b, "x"), -1);
	gcmsg__buf_dispose(&b);
}

static void clear_and_detach(void **state)
{
	gcmsg_buf b = GCMSG_BUF_INIT(64);
	char *p;

	(void)state;
	gcmsg__buf_puts(&b, "secret");
	gcmsg__buf_clear(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(gcmsg__buf_cstr(&b), "");
	gcmsg__buf_puts(&b, "kept");
	p = gcmsg__buf_detach(&b);
	assert_string_equal(p, "kept");
	assert_null(b.ptr);
	assert_int_equal(b.len, 0);
	free(p);
	assert_null(gcmsg__buf_detach(&b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(append_within_cap),
		cmocka_unit_test(append_over_cap_fails_unchanged),
		cmocka_unit_test(zero_cap_accepts_nothing),
		cmocka_unit_test(grows_across_many_appends),
		cmocka_unit_test(clear_and_detach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
