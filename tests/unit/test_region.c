#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <gcmsg/region.h>

/* The full table of genesys-rest-api.md §b, written out here independently of region.c. */
static const struct {
	const char *key, *domain;
} expected[] = {
	{ "us_east_1", "mypurecloud.com" },       { "eu_west_1", "mypurecloud.ie" },
	{ "ap_southeast_2", "mypurecloud.com.au" }, { "ap_northeast_1", "mypurecloud.jp" },
	{ "eu_central_1", "mypurecloud.de" },     { "us_west_2", "usw2.pure.cloud" },
	{ "ca_central_1", "cac1.pure.cloud" },    { "ap_northeast_2", "apne2.pure.cloud" },
	{ "eu_west_2", "euw2.pure.cloud" },       { "ap_south_1", "aps1.pure.cloud" },
	{ "us_east_2", "use2.us-gov-pure.cloud" }, { "sa_east_1", "sae1.pure.cloud" },
	{ "me_central_1", "mec1.pure.cloud" },    { "ap_northeast_3", "apne3.pure.cloud" },
	{ "eu_central_2", "euc2.pure.cloud" },    { "mx_central_1", "mxc1.pure.cloud" },
	{ "ap_southeast_1", "apse1.pure.cloud" }, { "eusc_de_east_1", "edee1.eusc-pure.cloud" },
};
#define N (sizeof(expected) / sizeof(expected[0]))

static void table_has_every_row(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(gcmsg_region_count(), N);
	for (i = 0; i < N; i++) {
		assert_non_null(gcmsg_region_at(i));
		assert_string_equal(gcmsg_region_at(i)->key, expected[i].key);
		assert_string_equal(gcmsg_region_at(i)->domain, expected[i].domain);
	}
	assert_null(gcmsg_region_at(N));
}

static void every_row_resolves_by_all_spellings(void **state)
{
	gcmsg_region_info info;
	char hyphen[64], want[300];
	size_t i, j;

	(void)state;
	for (i = 0; i < N; i++) {
		/* underscore key */
		assert_int_equal(gcmsg_region_resolve(&info, expected[i].key), GCMSG_OK);
		assert_non_null(info.known);
		assert_string_equal(info.domain, expected[i].domain);
		snprintf(want, sizeof(want), "https://api.%s", expected[i].domain);
		assert_string_equal(info.api_url, want);
		snprintf(want, sizeof(want), "https://login.%s", expected[i].domain);
		assert_string_equal(info.login_url, want);
		/* hyphen key */
		snprintf(hyphen, sizeof(hyphen), "%s", expected[i].key);
		for (j = 0; hyphen[j]; j++)
			if (hyphen[j] == '_')
				hyphen[j] = '-';
		assert_int_equal(gcmsg_region_resolve(&info, hyphen), GCMSG_OK);
		assert_string_equal(info.domain, expected[i].domain);
		/* domain */
		assert_int_equal(gcmsg_region_resolve(&info, expected[i].domain), GCMSG_OK);
		assert_non_null(info.known);
		assert_string_equal(info.known->key, expected[i].key);
	}
}

static void special_rows(void **state)
{
	gcmsg_region_info info;

	(void)state;
	assert_int_equal(gcmsg_region_resolve(&info, "eu-central-1"), GCMSG_OK);
	assert_string_equal(info.api_url, "https://api.mypurecloud.de");
	assert_int_equal(gcmsg_region_resolve(&info, "US-EAST-2"), GCMSG_OK);
	assert_string_equal(info.login_url, "https://login.use2.us-gov-pure.cloud");
	assert_int_equal(gcmsg_region_resolve(&info, "eusc-de-east-1"), GCMSG_OK);
	assert_string_equal(info.api_url, "https://api.edee1.eusc-pure.cloud");
}

static void raw_domain(void **state)
{
	gcmsg_region_info info;

	(void)state;
	assert_int_equal(gcmsg_region_resolve(&info, "new1.pure.cloud"), GCMSG_OK);
	assert_null(info.known);
	assert_string_equal(info.api_url, "https://api.new1.pure.cloud");
	assert_string_equal(info.login_url, "https://login.new1.pure.cloud");
	assert_int_equal(gcmsg_region_resolve(&info, "Example.COM"), GCMSG_OK);
	assert_string_equal(info.domain, "example.com");
}

static void unknown_is_an_error(void **state)
{
	gcmsg_region_info info;
	char longname[400];

	(void)state;
	assert_int_equal(gcmsg_region_resolve(&info, "mars_north_1"), GCMSG_ENOTFOUND);
	assert_int_equal(gcmsg_region_resolve(&info, ""), GCMSG_ENOTFOUND);
	assert_int_equal(gcmsg_region_resolve(&info, "https://api.mypurecloud.de"), GCMSG_ENOTFOUND);
	assert_int_equal(gcmsg_region_resolve(&info, "bad..domain"), GCMSG_ENOTFOUND);
	assert_int_equal(gcmsg_region_resolve(&info, "-bad.domain"), GCMSG_ENOTFOUND);
	assert_int_equal(gcmsg_region_resolve(&info, "evil.com/path"), GCMSG_ENOTFOUND);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	longname[10] = '.';
	assert_int_equal(gcmsg_region_resolve(&info, longname), GCMSG_ENOTFOUND);
	assert_int_equal(gcmsg_region_resolve(NULL, "eu_west_1"), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_region_resolve(&info, NULL), GCMSG_EUSAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_has_every_row),
		cmocka_unit_test(every_row_resolves_by_all_spellings),
		cmocka_unit_test(special_rows),
		cmocka_unit_test(raw_domain),
		cmocka_unit_test(unknown_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
