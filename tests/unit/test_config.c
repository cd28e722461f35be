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

#include <gcmsg/gcmsg.h>

static char dir[256];
static char path[300];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gcmsg-test-config-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/config.toml", dir);
	unsetenv("GENESYSCLOUD_REGION");
	unsetenv("GENESYSCLOUD_OAUTHCLIENT_ID");
	unsetenv("GENESYSCLOUD_OAUTHCLIENT_SECRET");
	unsetenv("GENESYSCLOUD_ACCESS_TOKEN");
	unsetenv("GCMSG_API_URL");
	unsetenv("GCMSG_LOGIN_URL");
	unsetenv("GCMSG_CONFIG");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_file(const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static const char profiles[] = "[DEFAULT]\n"
                               "environment = \"mypurecloud.ie\"\n"
                               "client_credentials = \"file-id\"\n"
                               "client_secret = \"file-secret\"\n"
                               "api_url = \"http://127.0.0.1:1\"\n"
                               "[ro]\n"
                               "region = \"eu-central-1\"\n"
                               "access_token = \"file-token\"\n";

static void secret_file_must_be_0600(void **state)
{
	gcmsg_config *cfg;
	const gcmsg_error *e;

	(void)state;
	write_file(profiles, 0644);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_ECONFIG);
	e = gcmsg_config_last_error(cfg);
	assert_int_equal(e->code, GCMSG_ECONFIG);
	assert_non_null(strstr(e->explanation, path));
	assert_non_null(strstr(e->explanation, "0644"));
	assert_null(strstr(e->explanation, "file-secret"));
	assert_non_null(e->fix);
	assert_non_null(strstr(e->fix, "chmod 600"));
	assert_non_null(strstr(e->fix, path));
	gcmsg_config_free(cfg);

	/* 0600 (and 0400) are fine */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_OK);
	gcmsg_config_free(cfg);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_OK);
	gcmsg_config_free(cfg);
}

static void file_without_secret_may_be_0644(void **state)
{
	gcmsg_config *cfg;

	(void)state;
	write_file("[DEFAULT]\nregion = \"mypurecloud.jp\"\n", 0644);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_OK);
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_REGION), "mypurecloud.jp");
	gcmsg_config_free(cfg);
}

static void profiles_and_gc_names(void **state)
{
	gcmsg_config *cfg;

	(void)state;
	write_file(profiles, 0600);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_OK);
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_REGION), "mypurecloud.ie");
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_CLIENT_ID), "file-id");
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_CLIENT_SECRET), "file-secret");
	assert_null(gcmsg_config_get(cfg, GCMSG_CONFIG_ACCESS_TOKEN));
	assert_int_equal(gcmsg_config_source(cfg, GCMSG_CONFIG_CLIENT_ID), GCMSG_CONFIG_LAYER_FILE);
	gcmsg_config_free(cfg);

	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, "ro"), GCMSG_OK);
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_REGION), "eu-central-1");
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_ACCESS_TOKEN), "file-token");
	assert_null(gcmsg_config_get(cfg, GCMSG_CONFIG_CLIENT_ID));
	assert_null(gcmsg_config_get(cfg, GCMSG_CONFIG_API_URL)); /* profiles are independent */
	gcmsg_config_free(cfg);

	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, "nosuch"), GCMSG_ECONFIG);
	assert_non_null(strstr(gcmsg_config_last_error(cfg)->explanation, "nosuch"));
	gcmsg_config_free(cfg);
}

static void precedence_flags_env_file(void **state)
{
	gcmsg_config *cfg;
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;

	(void)state;
	write_file(profiles, 0600);
	setenv("GENESYSCLOUD_REGION", "mypurecloud.jp", 1);
	setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "env-id", 1);
	setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "env-secret", 1);
	setenv("GCMSG_LOGIN_URL", "", 1); /* empty: ignored */
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_env(cfg), GCMSG_OK);
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_REGION), "mypurecloud.jp");
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_CLIENT_ID), "env-id");
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_CLIENT_SECRET), "env-secret");
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_API_URL), "http://127.0.0.1:1");
	assert_null(gcmsg_config_get(cfg, GCMSG_CONFIG_LOGIN_URL));
	assert_int_equal(gcmsg_config_set(cfg, GCMSG_CONFIG_REGION, "mypurecloud.de"), GCMSG_OK);
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_REGION), "mypurecloud.de");
	assert_int_equal(gcmsg_config_source(cfg, GCMSG_CONFIG_REGION), GCMSG_CONFIG_LAYER_FLAG);
	/* a flag access token replaces the whole credential group of lower layers */
	assert_int_equal(gcmsg_config_set(cfg, GCMSG_CONFIG_ACCESS_TOKEN, "flag-token"), GCMSG_OK);
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_ACCESS_TOKEN), "flag-token");
	assert_null(gcmsg_config_get(cfg, GCMSG_CONFIG_CLIENT_ID));
	assert_null(gcmsg_config_get(cfg, GCMSG_CONFIG_CLIENT_SECRET));
	assert_int_equal(gcmsg_config_apply(cfg, &o), GCMSG_OK);
	assert_string_equal(o.access_token, "flag-token");
	assert_null(o.client_secret);
	assert_string_equal(o.region, "mypurecloud.de");
	gcmsg_config_free(cfg);
	unsetenv("GENESYSCLOUD_REGION");
	unsetenv("GENESYSCLOUD_OAUTHCLIENT_ID");
	unsetenv("GENESYSCLOUD_OAUTHCLIENT_SECRET");
	unsetenv("GCMSG_LOGIN_URL");
}

static void bad_files(void **state)
{
	gcmsg_config *cfg;
	const gcmsg_error *e;

	(void)state;
	write_file("[DEFAULT]\nclient_id = \"unterminated\n", 0600);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_ECONFIG);
	e = gcmsg_config_last_error(cfg);
	assert_non_null(strstr(e->explanation, path));
	assert_non_null(strstr(e->explanation, "line 2"));
	gcmsg_config_free(cfg);

	write_file("[DEFAULT]\nregoin = \"mypurecloud.de\"\n", 0600);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_ECONFIG);
	assert_non_null(strstr(gcmsg_config_last_error(cfg)->explanation, "unknown key 'regoin'"));
	assert_non_null(strstr(gcmsg_config_last_error(cfg)->explanation, "line 2"));
	gcmsg_config_free(cfg);

	write_file("[DEFAULT]\nregion = 1\n", 0600);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_ECONFIG);
	assert_non_null(strstr(gcmsg_config_last_error(cfg)->explanation, "must be a string"));
	gcmsg_config_free(cfg);

	/* an unquoted secret is named by its key, never echoed */
	write_file("[DEFAULT]\nclient_id = \"x\"\nclient_secret = Sup3rS3cretValue\n", 0600);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_ECONFIG);
	e = gcmsg_config_last_error(cfg);
	assert_non_null(strstr(e->explanation, "bad value for 'client_secret'"));
	assert_null(strstr(e->explanation, "Sup3r"));
	gcmsg_config_free(cfg);
	write_file("[DEFAULT]\nclient_secret = \"Sup3rS3cretValue\"junk\n", 0600);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_ECONFIG);
	assert_null(strstr(gcmsg_config_last_error(cfg)->explanation, "Sup3r"));
	assert_null(strstr(gcmsg_config_last_error(cfg)->explanation, "junk"));
	gcmsg_config_free(cfg);

	write_file("[DEFAULT]\nregion = \"a\"\nenvironment = \"b\"\n", 0600);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_ECONFIG);
	gcmsg_config_free(cfg);
}

static void missing_default_file_is_fine(void **state)
{
	gcmsg_config *cfg;
	char home[300];

	(void)state;
	snprintf(home, sizeof(home), "%s/nohome", dir);
	setenv("HOME", home, 1);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, NULL, NULL), GCMSG_OK);
	/* but a named profile needs the file */
	assert_int_equal(gcmsg_config_load_file(cfg, NULL, "prod"), GCMSG_ECONFIG);
	gcmsg_config_free(cfg);
	/* GCMSG_CONFIG points elsewhere */
	write_file("[DEFAULT]\nregion = \"mypurecloud.ie\"\n", 0600);
	setenv("GCMSG_CONFIG", path, 1);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, NULL, NULL), GCMSG_OK);
	assert_string_equal(gcmsg_config_get(cfg, GCMSG_CONFIG_REGION), "mypurecloud.ie");
	gcmsg_config_free(cfg);
	unsetenv("GCMSG_CONFIG");
}

static void client_needs_credentials(void **state)
{
	gcmsg_client_options o = GCMSG_CLIENT_OPTIONS_INIT;
	gcmsg_client *c;

	(void)state;
	assert_int_equal(gcmsg_client_new(&c, &o), GCMSG_ECONFIG);
	assert_non_null(c);
	assert_non_null(strstr(gcmsg_client_last_error(c)->explanation, "credentials"));
	gcmsg_client_free(c);

	o.client_id = "id";
	o.client_secret = "secret";
	o.region = "mars_1";
	assert_int_equal(gcmsg_client_new(&c, &o), GCMSG_ECONFIG);
	assert_non_null(strstr(gcmsg_client_last_error(c)->explanation, "mars_1"));
	gcmsg_client_free(c);

	o.region = "eu-central-1";
	assert_int_equal(gcmsg_client_new(&c, &o), GCMSG_OK);
	assert_string_equal(gcmsg_client_api_url(c), "https://api.mypurecloud.de");
	gcmsg_client_free(c);

	o.cacert = "/nonexistent/ca.pem";
	assert_int_equal(gcmsg_client_new(&c, &o), GCMSG_ECONFIG);
	assert_non_null(strstr(gcmsg_client_last_error(c)->explanation, "/nonexistent/ca.pem"));
	gcmsg_client_free(c);
	o.cacert = NULL;

	o.api_url = "ftp://example.com";
	assert_int_equal(gcmsg_client_new(&c, &o), GCMSG_ECONFIG);
	gcmsg_client_free(c);

	o.version = 99;
	assert_int_equal(gcmsg_client_new(&c, &o), GCMSG_EUSAGE);
	gcmsg_client_free(c);
}

/* The retry policy: numbers (TOML integers or strings) from the file, the environment over them. */
static void retry_policy_keys(void **state)
{
	gcmsg_config *cfg = NULL;
	gcmsg_retry_policy p;

	(void)state;
	write_file("[DEFAULT]\nretry_budget_ms = 60000\nretry_max_attempts = \"5\"\nreadback_horizon_ms = 45000\n", 0644);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_OK);
	setenv("GCMSG_RETRY_BACKOFF_BASE_MS", "20", 1);
	setenv("GCMSG_RETRY_MAX_ATTEMPTS", "3", 1);
	assert_int_equal(gcmsg_config_load_env(cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_retry_policy(cfg, &p), GCMSG_OK);
	assert_int_equal(p.version, GCMSG_RETRY_POLICY_VERSION);
	assert_int_equal(p.budget_ms, 60000);
	assert_int_equal(p.max_attempts, 3); /* the environment wins over the file */
	assert_int_equal(p.backoff_base_ms, 20);
	assert_int_equal(p.readback_horizon_ms, 45000);
	assert_int_equal(p.backoff_cap_ms, 0); /* unset: the library's default */
	gcmsg_config_free(cfg);

	/* out of range, not a number: one line naming where the value came from */
	setenv("GCMSG_RETRY_MAX_ATTEMPTS", "0", 1);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_env(cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_retry_policy(cfg, &p), GCMSG_ECONFIG);
	assert_non_null(strstr(gcmsg_config_last_error(cfg)->explanation, "GCMSG_RETRY_MAX_ATTEMPTS"));
	gcmsg_config_free(cfg);
	unsetenv("GCMSG_RETRY_MAX_ATTEMPTS");
	unsetenv("GCMSG_RETRY_BACKOFF_BASE_MS");

	write_file("[DEFAULT]\nretry_budget_ms = \"soon\"\n", 0644);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_OK);
	assert_int_equal(gcmsg_config_retry_policy(cfg, &p), GCMSG_ECONFIG);
	assert_non_null(strstr(gcmsg_config_last_error(cfg)->explanation, "retry_budget_ms"));
	gcmsg_config_free(cfg);

	write_file("[DEFAULT]\nretry_budget_ms = true\n", 0644);
	assert_int_equal(gcmsg_config_new(&cfg), GCMSG_OK);
	assert_int_equal(gcmsg_config_load_file(cfg, path, NULL), GCMSG_ECONFIG);
	assert_non_null(strstr(gcmsg_config_last_error(cfg)->explanation, "must be a number"));
	gcmsg_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(secret_file_must_be_0600),
		cmocka_unit_test(file_without_secret_may_be_0644),
		cmocka_unit_test(profiles_and_gc_names),
		cmocka_unit_test(precedence_flags_env_file),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(missing_default_file_is_fine),
		cmocka_unit_test(client_needs_credentials),
		cmocka_unit_test(retry_policy_keys),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
