/*
 * The token cache file: round trip through real files in a mkdtemp directory,
 * modes (file 0600, new directories 0700), atomic replacement, refusal of a
 * file group or others can access (with the fix), symbolic links and
 * directories, corrupt and foreign files (one line naming the file, never a
 * byte of the token), and the renewal lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <cmocka.h>

#include "secure.h"
#include "token_cache.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gcmsg-test-tcache-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void sample(gcmsg__token_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->kind = GCMSG__TOKEN_USER;
	e->login_url = strdup("https://login.mypurecloud.de");
	e->api_url = strdup("https://api.mypurecloud.de");
	e->client_id = strdup("pkce-\"client\"\\1");
	e->access_token = strdup("SECRET-ACCESS-TOKEN-0123456789");
	e->expires_at = 1795000000;
	e->lifetime = 86400;
	e->refresh_token = strdup("SECRET-REFRESH-TOKEN-abcdef");
}

static void write_raw(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_round_trip(void **state)
{
	gcmsg__token_entry e, back;
	gcmsg__err err;
	const char *p = path_of("new/tokens/DEFAULT.json");
	char sub[512];
	struct stat st;

	(void)state;
	gcmsg__err_init(&err);
	sample(&e);
	assert_int_equal(gcmsg__token_cache_write(p, &e, &err), GCMSG_OK);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(sub, sizeof(sub), "%s/new/tokens", dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(sub, sizeof(sub), "%s/new", dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	assert_int_equal(gcmsg__token_cache_read(p, &back, &err), GCMSG_OK);
	assert_int_equal(back.kind, GCMSG__TOKEN_USER);
	assert_string_equal(back.login_url, e.login_url);
	assert_string_equal(back.api_url, e.api_url);
	assert_string_equal(back.client_id, e.client_id);
	assert_string_equal(back.access_token, e.access_token);
	assert_string_equal(back.refresh_token, e.refresh_token);
	assert_true(back.expires_at == e.expires_at);
	assert_int_equal(back.lifetime, e.lifetime);
	gcmsg__token_entry_clear(&back);

	/* a client-credentials entry has no refresh token; an entry that pretends otherwise is refused */
	gcmsg__free_secret(e.refresh_token);
	e.refresh_token = NULL;
	e.kind = GCMSG__TOKEN_CLIENT;
	e.expires_at = 0;
	e.lifetime = 0;
	assert_false(gcmsg__token_entry_valid(&e)); /* a client entry is bound to its secret */
	e.secret_check = strdup("q7pNcA1P8hmq0U0WmY3v0N2r2rTQh3s6s0E8m1d2c3Q");
	assert_int_equal(gcmsg__token_cache_write(p, &e, &err), GCMSG_OK);
	assert_int_equal(gcmsg__token_cache_read(p, &back, &err), GCMSG_OK);
	assert_int_equal(back.kind, GCMSG__TOKEN_CLIENT);
	assert_null(back.refresh_token);
	assert_string_equal(back.secret_check, e.secret_check);
	assert_true(back.expires_at == 0);
	gcmsg__token_entry_clear(&back);
	e.refresh_token = strdup("x");
	assert_false(gcmsg__token_entry_valid(&e));
	assert_null(gcmsg__token_cache_format(&e));
	assert_int_equal(gcmsg__token_cache_write(p, &e, &err), GCMSG_ERROR);

	gcmsg__token_entry_clear(&e);
	gcmsg__err_clear(&err);
}

static int count_entries(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *de;
	int n = 0;

	assert_non_null(dd);
	while ((de = readdir(dd)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, ".."))
			n++;
	closedir(dd);
	return n;
}

static void test_atomic_replace(void **state)
{
	gcmsg__token_entry e, back;
	gcmsg__err err;
	char sub[512], old[256];
	const char *p;
	struct stat before, after;
	int fd;
	ssize_t n;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/atomic", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	p = path_of("atomic/p.json");
	gcmsg__err_init(&err);
	sample(&e);
	assert_int_equal(gcmsg__token_cache_write(p, &e, &err), GCMSG_OK);
	assert_int_equal(stat(p, &before), 0);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);

	gcmsg__free_secret(e.access_token);
	e.access_token = strdup("SECOND-TOKEN");
	assert_int_equal(gcmsg__token_cache_write(p, &e, &err), GCMSG_OK);
	assert_int_equal(stat(p, &after), 0);
	/* a new file took the name (rename): a reader of the old one still sees it whole */
	assert_true(before.st_ino != after.st_ino);
	n = read(fd, old, sizeof(old) - 1);
	assert_true(n > 0);
	old[n] = '\0';
	assert_non_null(strstr(old, "SECRET-ACCESS-TOKEN-0123456789"));
	close(fd);
	assert_int_equal(gcmsg__token_cache_read(p, &back, &err), GCMSG_OK);
	assert_string_equal(back.access_token, "SECOND-TOKEN");
	gcmsg__token_entry_clear(&back);
	/* no temporary file is left behind */
	assert_int_equal(count_entries(sub), 1);
	gcmsg__token_entry_clear(&e);
	gcmsg__err_clear(&err);
}

static void test_refuses_readable_file(void **state)
{
	gcmsg__token_entry e, back;
	gcmsg__err err;
	const char *p = path_of("readable.json");
	char want[600];

	(void)state;
	gcmsg__err_init(&err);
	sample(&e);
	assert_int_equal(gcmsg__token_cache_write(p, &e, &err), GCMSG_OK);
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(gcmsg__token_cache_read(p, &back, &err), GCMSG_ECONFIG);
	assert_null(back.access_token);
	assert_non_null(strstr(err.pub.explanation, p));
	assert_non_null(strstr(err.pub.explanation, "0644"));
	snprintf(want, sizeof(want), "chmod 600 %s", p);
	assert_non_null(strstr(err.pub.fix, want));
	assert_null(strstr(err.pub.explanation, "SECRET"));
	/* group-writable only is refused too */
	assert_int_equal(chmod(p, 0620), 0);
	assert_int_equal(gcmsg__token_cache_read(p, &back, &err), GCMSG_ECONFIG);
	/* the fix works */
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(gcmsg__token_cache_read(p, &back, &err), GCMSG_OK);
	gcmsg__token_entry_clear(&back);
	/* rewriting it gives 0600 back */
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(gcmsg__token_cache_write(p, &e, &err), GCMSG_OK);
	assert_int_equal(gcmsg__token_cache_read(p, &back, &err), GCMSG_OK);
	gcmsg__token_entry_clear(&back);
	gcmsg__token_entry_clear(&e);
	gcmsg__err_clear(&err);
}

static void test_missing_link_dir(void **state)
{
	gcmsg__token_entry back;
	gcmsg__err err;
	char target[512];

	(void)state;
	gcmsg__err_init(&err);
	assert_int_equal(gcmsg__token_cache_read(path_of("none.json"), &back, &err), GCMSG_ENOTFOUND);
	assert_int_equal(gcmsg__token_cache_remove(path_of("none.json"), &err), GCMSG_ENOTFOUND);

	snprintf(target, sizeof(target), "%s/readable.json", dir);
	assert_int_equal(symlink(target, path_of("link.json")), 0);
	assert_int_equal(gcmsg__token_cache_read(path_of("link.json"), &back, &err), GCMSG_ECONFIG);
	assert_non_null(strstr(err.pub.explanation, "symbolic link"));

	assert_int_equal(mkdir(path_of("adir.json"), 0700), 0);
	assert_int_equal(gcmsg__token_cache_read(path_of("adir.json"), &back, &err), GCMSG_ECONFIG);
	assert_non_null(strstr(err.pub.explanation, "not a regular file"));
	gcmsg__err_clear(&err);
}

#define TOK "SECRET-TOKEN-sx7Q"
#define GOOD_HEAD "{\"gcmsgTokenCache\": 1, \"kind\": \"user\", \"loginUrl\": \"https://login.x\", "
#define GOOD_TAIL "\"apiUrl\": \"https://api.x\", \"clientId\": \"c\", \"accessToken\": \"" TOK "\", \"expiresAt\": 5}"

static void test_corrupt_files(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"[\"" TOK "\"]",
		"\"" TOK "\"",
		"nul",
		"{\"gcmsgTokenCache\": 1, \"accessToken\": \"" TOK "\"",
		"{\"gcmsgTokenCache\": 2, \"kind\": \"user\", \"accessToken\": \"" TOK "\"}",
		"{\"accessToken\": \"" TOK "\"}",
		"{\"" TOK "\": 1}",
		"{\"gcmsgTokenCache\": 1, \"gcmsgTokenCache\": 1, \"accessToken\": \"" TOK "\"}",
		GOOD_HEAD "\"apiUrl\": \"https://api.x\", \"clientId\": \"c\", \"accessToken\": \"" TOK " x\", \"expiresAt\": 5}",
		GOOD_HEAD "\"apiUrl\": \"https://api.x\", \"clientId\": \"c\", \"accessToken\": \"" TOK "\\n\", \"expiresAt\": 5}",
		GOOD_HEAD "\"apiUrl\": \"https://api.x\", \"clientId\": \"c\", \"accessToken\": \"" TOK "\\u00e9\", \"expiresAt\": 5}",
		GOOD_HEAD "\"apiUrl\": \"https://api.x\", \"clientId\": \"c\", \"accessToken\": \"" TOK "\xc3\xa9\", \"expiresAt\": 5}",
		GOOD_HEAD "\"apiUrl\": \"https://api.x\", \"clientId\": \"c\", \"accessToken\": \"" TOK "\", \"expiresAt\": -5}",
		GOOD_HEAD "\"apiUrl\": \"https://api.x\", \"clientId\": \"c\", \"accessToken\": \"" TOK "\", \"expiresAt\": 5.5}",
		GOOD_HEAD "\"apiUrl\": \"https://api.x\", \"clientId\": \"c\", \"accessToken\": \"" TOK "\", \"expiresAt\": \"5\"}",
		GOOD_HEAD "\"apiUrl\": \"ftp://api.x\", \"clientId\": \"c\", \"accessToken\": \"" TOK "\", \"expiresAt\": 5}",
		GOOD_HEAD "\"apiUrl\": \"https://api.x\", \"clientId\": \"c\", \"accessToken\": \"" TOK "\"}",
		GOOD_HEAD GOOD_TAIL " " TOK,
		"{\"gcmsgTokenCache\": 1, \"kind\": \"client\", \"refreshToken\": \"" TOK "\", \"loginUrl\": \"https://login.x\", " GOOD_TAIL,
		"{\"gcmsgTokenCache\": 1, \"kind\": \"robot\", \"loginUrl\": \"https://login.x\", " GOOD_TAIL,
		"{\"gcmsgTokenCache\": 1, \"kind\": \"client\", \"loginUrl\": \"https://login.x\", " GOOD_TAIL,
		"{\"gcmsgTokenCache\": 1, \"secretCheck\": \"abc\", \"kind\": \"user\", \"loginUrl\": \"https://login.x\", " GOOD_TAIL,
	};
	gcmsg__token_entry back;
	gcmsg__err err;
	const char *p = path_of("corrupt.json");
	size_t i;

	(void)state;
	gcmsg__err_init(&err);
	/* the good one parses (so that each bad one differs from it in one way) */
	write_raw(p, GOOD_HEAD GOOD_TAIL, strlen(GOOD_HEAD GOOD_TAIL), 0600);
	assert_int_equal(gcmsg__token_cache_read(p, &back, &err), GCMSG_OK);
	assert_string_equal(back.access_token, TOK);
	gcmsg__token_entry_clear(&back);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *msg, *reason;
		char prefix[600];
		write_raw(p, bad[i], strlen(bad[i]), 0600);
		if (gcmsg__token_cache_read(p, &back, &err) != GCMSG_ECONFIG)
			fail_msg("case %zu was accepted", i);
		msg = err.pub.explanation;
		snprintf(prefix, sizeof(prefix), "token cache %s: ", p);
		if (strncmp(msg, prefix, strlen(prefix)) != 0)
			fail_msg("case %zu: '%s' does not name the file", i, msg);
		reason = msg + strlen(prefix);
		if (!gcmsg__token_cache_reason_known(reason))
			fail_msg("case %zu: unknown reason '%s'", i, reason);
		if (strstr(msg, "SECRET") || strchr(msg, '\n'))
			fail_msg("case %zu: '%s' echoes the file or spans lines", i, msg);
		assert_non_null(strstr(err.pub.fix, "gcmsg login"));
		assert_null(back.access_token);
	}
	/* NUL bytes, and a file larger than any cache */
	write_raw(p, "{\"gcmsgTokenCache\"\0: 1}", 23, 0600);
	assert_int_equal(gcmsg__token_cache_read(p, &back, &err), GCMSG_ECONFIG);
	{
		size_t big = GCMSG__TOKEN_CACHE_MAX + 10;
		char *huge = malloc(big);
		assert_non_null(huge);
		memset(huge, ' ', big);
		huge[0] = '{';
		write_raw(p, huge, big, 0600);
		free(huge);
		assert_int_equal(gcmsg__token_cache_read(p, &back, &err), GCMSG_ECONFIG);
		assert_non_null(strstr(err.pub.explanation, "larger than"));
	}
	/* line and column of a syntax error, never the text there */
	write_raw(p, "{\n  \"kind\" \"" TOK "\"}", strlen("{\n  \"kind\" \"" TOK "\"}"), 0600);
	assert_int_equal(gcmsg__token_cache_read(p, &back, &err), GCMSG_ECONFIG);
	assert_non_null(strstr(err.pub.explanation, "not valid JSON (line 2, column 10)"));
	gcmsg__err_clear(&err);
}

static void test_lock(void **state)
{
	gcmsg__err err;
	const char *p = path_of("locked/p.json");
	int a = -1, b = -1;
	struct stat st;
	char lockpath[600];

	(void)state;
	gcmsg__err_init(&err);
	assert_int_equal(gcmsg__token_cache_lock(p, 1000, &a, &err), GCMSG_OK);
	snprintf(lockpath, sizeof(lockpath), "%s.lock", p);
	assert_int_equal(stat(lockpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* a second open file description of the same process is excluded too */
	assert_int_equal(gcmsg__token_cache_lock(p, 120, &b, &err), GCMSG_EAUTH);
	assert_int_equal(b, -1);
	assert_non_null(strstr(err.pub.explanation, "another gcmsg"));
	gcmsg__token_cache_unlock(a);
	assert_int_equal(gcmsg__token_cache_lock(p, 120, &b, &err), GCMSG_OK);
	gcmsg__token_cache_unlock(b);
	gcmsg__err_clear(&err);
}

static void test_remove(void **state)
{
	gcmsg__token_entry e;
	gcmsg__err err;
	const char *p = path_of("gone.json");

	(void)state;
	gcmsg__err_init(&err);
	sample(&e);
	assert_int_equal(gcmsg__token_cache_write(p, &e, &err), GCMSG_OK);
	assert_int_equal(gcmsg__token_cache_remove(p, &err), GCMSG_OK);
	assert_int_equal(access(p, F_OK), -1);
	gcmsg__token_entry_clear(&e);
	gcmsg__err_clear(&err);
}

static void test_json_wipe(void **state)
{
	json_t *doc = json_pack("{s:s, s:[s, {s:s}], s:i}", "access_token", "abc", "list", "def", "k", "ghi", "n", 3);

	(void)state;
	assert_non_null(doc);
	gcmsg__json_wipe_decref(doc);
	gcmsg__json_wipe_decref(NULL);
}

static void test_check_writable(void **state)
{
	gcmsg__err err;
	char blocker[512], below[600], sub[512];
	int lock = -1;
	struct stat st;
	FILE *f;

	(void)state;
	gcmsg__err_init(&err);
	/* the directories are made (0700), the lock is created, nothing else is left behind */
	snprintf(sub, sizeof(sub), "%s/w/tokens", dir);
	snprintf(below, sizeof(below), "%s/DEFAULT.json", sub);
	assert_int_equal(gcmsg__token_cache_check_writable(below, 1000, &err), GCMSG_OK);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(count_entries(sub), 1); /* DEFAULT.json.lock */
	assert_int_equal(access(below, F_OK), -1);
	/* the lock is released again */
	assert_int_equal(gcmsg__token_cache_lock(below, 100, &lock, &err), GCMSG_OK);
	/* ... and a lock that stays taken is GCMSG_EAUTH */
	assert_int_equal(gcmsg__token_cache_check_writable(below, 100, &err), GCMSG_EAUTH);
	gcmsg__token_cache_unlock(lock);
	/* a directory that cannot be made (below a regular file; root ignores modes) */
	snprintf(blocker, sizeof(blocker), "%s/plain-file", dir);
	f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(below, sizeof(below), "%s/tokens/DEFAULT.json", blocker);
	assert_int_equal(gcmsg__token_cache_check_writable(below, 1000, &err), GCMSG_ECONFIG);
	assert_non_null(strstr(err.pub.explanation, "cannot create the token cache directory"));
	/* a directory where the file should be */
	snprintf(below, sizeof(below), "%s/w/tokens/ADIR.json", dir);
	assert_int_equal(mkdir(below, 0700), 0);
	assert_int_equal(gcmsg__token_cache_check_writable(below, 1000, &err), GCMSG_ECONFIG);
	assert_non_null(strstr(err.pub.explanation, "a directory is in its place"));
	gcmsg__err_clear(&err);
}

static void test_secure_helpers(void **state)
{
	static const struct {
		const char *a, *b;
		int equal;
	} pairs[] = { { "abc", "abc", 1 }, { "", "", 1 }, { "abc", "abd", 0 }, { "abc", "abcd", 0 },
		      { "abcd", "abc", 0 }, { "", "a", 0 } };
	static const struct {
		const char *s;
		size_t max;
		int ok;
	} values[] = { { "a~!Z", 4, 1 }, { "a~!Z", 3, 0 }, { "", 10, 0 }, { NULL, 10, 0 },
		       { "a b", 10, 0 }, { "a\x7f", 10, 0 }, { "\xc3\xa9", 10, 0 } };
	static const char digits[] = "09afAFg/";
	static const int hex[] = { 0, 9, 10, 15, 10, 15, -1, -1 };
	char buf[8] = "secret!";
	size_t i;

	(void)state;
	gcmsg__wipe(buf, sizeof(buf));
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		assert_int_equal(gcmsg__secret_equal(pairs[i].a, pairs[i].b), pairs[i].equal);
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		assert_int_equal(gcmsg__printable(values[i].s, values[i].max), values[i].ok);
	for (i = 0; digits[i]; i++)
		assert_int_equal(gcmsg__hexval(digits[i]), hex[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_atomic_replace),
		cmocka_unit_test(test_refuses_readable_file),
		cmocka_unit_test(test_missing_link_dir),
		cmocka_unit_test(test_corrupt_files),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_json_wipe),
		cmocka_unit_test(test_check_writable),
		cmocka_unit_test(test_secure_helpers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
