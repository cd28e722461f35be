/* The offline store: the pure sync comparison, loading the store, file names, atomic writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "response_file.h"

/* ---- the comparison ---- */

static gcmsg_response *mk(const char *id, const char *name, long version, const char *text)
{
	gcmsg_response *r = gcmsg__response_new();

	assert_non_null(r);
	r->id = strdup(id);
	r->name = name ? strdup(name) : NULL;
	r->version = version;
	if (text)
		assert_int_equal(gcmsg__response_add_text(r, text, "text/plain", "body", NULL), 0);
	return r;
}

static const char *ids_of(const gcmsg__sync_diff *d)
{
	static char buf[512];
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < d->count; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "," : "", d->items[i]->id);
	return buf;
}

static void free_all(gcmsg_response **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		gcmsg_response_free(v[i]);
}

static void compare_counts_every_case(void **state)
{
	gcmsg_response *stored[4], *remote[5];
	gcmsg__sync_diff d;

	(void)state;
	stored[0] = mk("same", "Same", 3, "stored text");   /* same version: kept as stored */
	stored[1] = mk("bumped", "Bumped", 1, "old");       /* a new version: updated */
	stored[2] = mk("gone", "Gone", 1, "bye");           /* not remote any more: removed */
	stored[3] = mk("nover", "No version", -1, "same");  /* no version, same content: unchanged */
	remote[0] = mk("same", "Same", 3, "remote text differs but the version does not");
	remote[1] = mk("bumped", "Bumped", 2, "new");
	remote[2] = mk("new", "A new one", 1, "hello");
	remote[3] = mk("nover", "No version", -1, "same");
	remote[4] = mk("new", "A new one (listed twice)", 9, "again");
	assert_int_equal(gcmsg__sync_compare(&d, stored, 4, remote, 5, "L1", "Lib"), 0);
	assert_int_equal(d.added, 1);
	assert_int_equal(d.updated, 1);
	assert_int_equal(d.unchanged, 2);
	assert_int_equal(d.removed, 1);
	assert_int_equal(d.count, 4);
	/* sorted by name, then id */
	assert_string_equal(ids_of(&d), "new,bumped,nover,same");
	/* unchanged: the stored entry as it is */
	assert_string_equal(d.items[3]->texts[0].content, "stored text");
	/* updated and added: the remote content, as the store keeps it */
	assert_string_equal(d.items[1]->texts[0].content, "new");
	assert_int_equal(d.items[1]->version, 2);
	assert_int_equal(d.items[0]->origin, GCMSG_RESPONSE_STORE);
	assert_int_equal(d.items[0]->nlibs, 1);
	assert_string_equal(d.items[0]->lib_ids[0], "L1");
	assert_string_equal(d.items[0]->lib_names[0], "Lib");
	assert_string_equal(d.items[0]->name, "A new one"); /* the first listing wins */
	gcmsg__sync_diff_free(&d);

	/* no version and a different content: updated */
	free(remote[3]->texts[0].content);
	remote[3]->texts[0].content = strdup("changed");
	assert_int_equal(gcmsg__sync_compare(&d, stored, 4, remote, 4, "L1", "Lib"), 0);
	assert_int_equal(d.updated, 2);
	assert_int_equal(d.unchanged, 1);
	gcmsg__sync_diff_free(&d);

	/* nothing stored: all added; nothing remote: all removed */
	assert_int_equal(gcmsg__sync_compare(&d, NULL, 0, remote, 4, "L1", "Lib"), 0);
	assert_int_equal(d.added, 4);
	assert_int_equal(d.removed, 0);
	gcmsg__sync_diff_free(&d);
	assert_int_equal(gcmsg__sync_compare(&d, stored, 4, NULL, 0, "L1", "Lib"), 0);
	assert_int_equal(d.count, 0);
	assert_int_equal(d.removed, 4);
	gcmsg__sync_diff_free(&d);
	free_all(stored, 4);
	free_all(remote, 5);
}

static void compare_normalizes_remote_shapes(void **state)
{
	gcmsg_response *remote[1];
	gcmsg__sync_diff d;
	gcmsg_response *r;

	(void)state;
	remote[0] = r = mk("r", "R", 1, NULL);
	assert_int_equal(gcmsg__response_add_library(r, "other", "Other"), 0);
	assert_int_equal(gcmsg__response_add_text(r, "Subject", "text/plain", "subject", NULL), 0);
	assert_int_equal(gcmsg__response_add_text(r, "<p>Body</p>", "text/html", NULL, NULL), 0);
	assert_int_equal(gcmsg__response_add_subst(r, "A", "first", NULL), 0);
	assert_int_equal(gcmsg__response_add_subst(r, "B", NULL, NULL), 0);
	assert_int_equal(gcmsg__response_add_subst(r, "A", "second", NULL), 0);
	assert_int_equal(gcmsg__sync_compare(&d, NULL, 0, remote, 1, "L1", "Lib"), 0);
	r = d.items[0];
	/* the body first (it is the file's text), the library the one synced, a substitution id once */
	assert_string_equal(r->texts[0].content, "<p>Body</p>");
	assert_string_equal(r->texts[1].type, "subject");
	assert_int_equal(r->nlibs, 1);
	assert_string_equal(r->lib_ids[0], "L1");
	assert_int_equal(r->nsubsts, 2);
	assert_string_equal(r->substs[0].description, "first");
	assert_string_equal(r->substs[1].id, "B");
	gcmsg__sync_diff_free(&d);
	free_all(remote, 1);
}

/* a synced file read back, compared with the same remote: all unchanged, same bytes */
static void compare_is_stable_through_a_file(void **state)
{
	gcmsg_response *remote[2];
	gcmsg__sync_diff d, d2;
	gcmsg__library_info lib = { "L1", "Lib", NULL, 5 };
	gcmsg_buf a = GCMSG_BUF_INIT(1 << 20), b = GCMSG_BUF_INIT(1 << 20);
	gcmsg_response_set *set = gcmsg__response_set_new();
	char err[256];

	(void)state;
	remote[0] = mk("x", NULL, -1, "no name, no version");
	remote[1] = mk("y", "Y", 4, "line\r\n\"\"\"quoted\"\"\"");
	assert_int_equal(gcmsg__response_add_text(remote[1], "subject", NULL, "subject", NULL), 0);
	assert_int_equal(gcmsg__sync_compare(&d, NULL, 0, remote, 2, "L1", "Lib"), 0);
	assert_int_equal(gcmsg__library_write(&a, "comment", &lib, d.items, d.count, err, sizeof(err)), 0);
	assert_int_equal(gcmsg__library_parse(set, a.ptr, a.len, "L1.toml", GCMSG__LIBFILE_STORE, GCMSG_RESPONSE_STORE,
	                                      NULL),
	                 0);
	assert_int_equal(gcmsg__sync_compare(&d2, set->items, set->count, remote, 2, "L1", "Lib"), 0);
	assert_int_equal(d2.unchanged, 2);
	assert_int_equal(d2.added + d2.updated + d2.removed, 0);
	assert_int_equal(gcmsg__library_write(&b, "comment", &lib, d2.items, d2.count, err, sizeof(err)), 0);
	assert_string_equal(a.ptr, b.ptr);
	gcmsg__sync_diff_free(&d);
	gcmsg__sync_diff_free(&d2);
	gcmsg_response_set_free(set);
	gcmsg__buf_dispose(&a);
	gcmsg__buf_dispose(&b);
	free_all(remote, 2);
}

/* ---- the store on disk ---- */

static char tmpdir[256];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gcmsg-test-store-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void load_store_reads_every_library(void **state)
{
	gcmsg_response_set *set;
	const gcmsg_response *r;
	char store[300], dir[400], want[600];

	(void)state;
	snprintf(store, sizeof(store), "%s/s1", tmpdir);
	/* absent */
	assert_int_equal(gcmsg_response_set_load_store(&set, store), GCMSG_ENOTFOUND);
	snprintf(want, sizeof(want), "no synced responses: %s/responses does not exist", store);
	assert_string_equal(gcmsg_response_set_last_error(set)->explanation, want);
	assert_string_equal(gcmsg_response_set_last_error(set)->fix, "run gcmsg responses sync");
	gcmsg_response_set_free(set);
	/* empty (what is not a library file is ignored) */
	assert_int_equal(mkdir(store, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/responses", store);
	assert_int_equal(mkdir(dir, 0700), 0);
	put(dir, ".gcmsg-sync-abc123", "junk");
	put(dir, ".hidden.toml", "junk");
	put(dir, "notes.txt", "junk");
	assert_int_equal(gcmsg_response_set_load_store(&set, store), GCMSG_ENOTFOUND);
	snprintf(want, sizeof(want), "no synced responses: %s holds no library file", dir);
	assert_string_equal(gcmsg_response_set_last_error(set)->explanation, want);
	gcmsg_response_set_free(set);
	/* two libraries, read in file-name order; a response in both is in the set once */
	put(dir, "b.toml", "format = 1\n[library]\nname = \"B\"\nid = \"b\"\n"
	                   "[responses.shared]\nname = \"Shared\"\ntext = \"from b\"\n"
	                   "[responses.only-b]\nname = \"Only B\"\n");
	put(dir, "a.toml", "format = 1\n[library]\nname = \"A\"\nid = \"a\"\nversion = 2\n"
	                   "[responses.shared]\nname = \"Shared\"\ntext = \"from a\"\nversion = 1\n");
	assert_int_equal(gcmsg_response_set_load_store(&set, store), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_library_count(set), 2);
	assert_string_equal(gcmsg_response_set_library_id(set, 0), "a");
	assert_int_equal(gcmsg_response_set_library_version(set, 0), 2);
	assert_int_equal(gcmsg_response_set_count(set), 2);
	r = gcmsg_response_set_get(set, 0);
	assert_string_equal(gcmsg_response_text_content(r, 0), "from a");
	assert_int_equal(gcmsg_response_library_count(r), 2);
	assert_string_equal(gcmsg_response_library_name_at(r, 1), "B");
	assert_int_equal(gcmsg_response_origin_of(r), GCMSG_RESPONSE_STORE);
	snprintf(want, sizeof(want), "%s/a.toml", dir);
	assert_string_equal(gcmsg_response_path(r), want);
	/* found by name without ambiguity, and by library */
	assert_int_equal(gcmsg_response_set_find(&r, set, "Shared", NULL), GCMSG_OK);
	assert_int_equal(gcmsg_response_set_find(&r, set, "Only B", "A"), GCMSG_ENOTFOUND);
	assert_int_equal(gcmsg_response_set_find(&r, set, "Only B", "B"), GCMSG_OK);
	gcmsg_response_set_free(set);
	/* a bad file is named */
	put(dir, "c.toml", "format = 1\n[library]\nname = \"C\"\n[responses.x]\nnmae = \"typo\"\n");
	assert_int_equal(gcmsg_response_set_load_store(&set, store), GCMSG_ECONFIG);
	snprintf(want, sizeof(want), "%s/c.toml: line 5: responses.x: unknown key 'nmae'", dir);
	assert_memory_equal(gcmsg_response_set_last_error(set)->explanation, want, strlen(want));
	assert_string_equal(gcmsg_response_set_last_error(set)->fix, "run gcmsg responses sync (it rewrites the store's files)");
	gcmsg_response_set_free(set);
	assert_int_equal(gcmsg_response_set_load_store(&set, ""), GCMSG_EUSAGE);
	gcmsg_response_set_free(set);
}

static void ids_that_can_be_file_names(void **state)
{
	(void)state;
	assert_true(gcmsg__store_id_ok("b1c5e0a2-7d4f-4c1e-9a56-0f3e2d1c4b5a"));
	assert_true(gcmsg__store_id_ok("Lib_1.v2"));
	assert_false(gcmsg__store_id_ok(""));
	assert_false(gcmsg__store_id_ok(NULL));
	assert_false(gcmsg__store_id_ok(".hidden"));
	assert_false(gcmsg__store_id_ok(".."));
	assert_false(gcmsg__store_id_ok("../x"));
	assert_false(gcmsg__store_id_ok("a/b"));
	assert_false(gcmsg__store_id_ok("a b"));
	assert_false(gcmsg__store_id_ok("caf\xc3\xa9"));
	{
		char longid[202];
		memset(longid, 'a', 201);
		longid[201] = '\0';
		assert_false(gcmsg__store_id_ok(longid));
		longid[200] = '\0';
		assert_true(gcmsg__store_id_ok(longid));
	}
}

static void atomic_writes(void **state)
{
	char dir[300], path[400];
	struct stat st;
	DIR *d;
	struct dirent *de;
	int files = 0;
	FILE *f;
	char got[64];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/atomic", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/L.toml", dir);
	assert_int_equal(gcmsg__store_write_atomic(dir, path, "first\n", 6), 0);
	assert_int_equal(gcmsg__store_write_atomic(dir, path, "second\n", 7), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(fgets(got, sizeof(got), f));
	fclose(f);
	assert_string_equal(got, "second\n");
	/* no temporary file left behind */
	d = opendir(dir);
	while ((de = readdir(d)) != NULL)
		files += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 1);
	/* a directory that does not exist */
	snprintf(dir, sizeof(dir), "%s/nope", tmpdir);
	snprintf(path, sizeof(path), "%s/L.toml", dir);
	assert_int_equal(gcmsg__store_write_atomic(dir, path, "x", 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(compare_counts_every_case),
		cmocka_unit_test(compare_normalizes_remote_shapes),
		cmocka_unit_test(compare_is_stable_through_a_file),
		cmocka_unit_test(load_store_reads_every_library),
		cmocka_unit_test(ids_that_can_be_file_names),
		cmocka_unit_test(atomic_writes),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
