/*
 * response_store.c - the offline store: `<store_dir>/responses/<library-id>.toml`,
 * one library file per synced library (format: docs/gcmsg-library.5.md),
 * written by gcmsg_responses_sync and read by gcmsg_response_set_load_store.
 *
 * Sync fetches every library first and writes afterwards, so a failure
 * while fetching changes nothing. Each file is written atomically (a
 * temporary file in the same directory, fsync, rename, fsync of the
 * directory) and only when its bytes change; directories are created 0700.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "response_api.h"
#include "response_file.h"
#include "strmap.h"

#define STORE_SUBDIR "responses"
#define MAX_ID_LEN 200
#define MAX_STORE_FILES 100000 /* library files in a store */

/* ---- the pure comparison ---- */

void gcmsg__sync_diff_free(gcmsg__sync_diff *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->count; i++)
		gcmsg_response_free(d->items[i]);
	free(d->items);
	memset(d, 0, sizeof(*d));
}

static int is_main_text(const gcmsg__response_text *t)
{
	return (!t->type || strcmp(t->type, "body") == 0) && !t->language;
}

/* a remote response as the store keeps it */
static gcmsg_response *normalize(const gcmsg_response *src, const char *library_id, const char *library_name)
{
	gcmsg_response *r = gcmsg__response_dup(src);
	size_t i, j, k;

	if (!r)
		return NULL;
	gcmsg__free_strv(r->lib_ids, r->nlibs);
	gcmsg__free_strv(r->lib_names, r->nlibs);
	r->lib_ids = r->lib_names = NULL;
	r->nlibs = 0;
	free(r->default_language);
	r->default_language = NULL;
	free(r->path);
	r->path = NULL;
	r->origin = GCMSG_RESPONSE_STORE;
	if (r->version < 0)
		r->version = -1;
	if (gcmsg__response_add_library(r, library_id, library_name) < 0) {
		gcmsg_response_free(r);
		return NULL;
	}
	/* the body text first: it becomes the file's `text` */
	for (i = 0; i < r->ntexts && !is_main_text(&r->texts[i]); i++)
		;
	if (i > 0 && i < r->ntexts) {
		gcmsg__response_text t = r->texts[i];
		memmove(&r->texts[1], &r->texts[0], i * sizeof(t));
		r->texts[0] = t;
	}
	/* a substitution id once (the first wins): a file cannot repeat a table */
	for (i = 0, k = 0; i < r->nsubsts; i++) {
		int dup = 0;
		for (j = 0; j < k && !dup; j++)
			dup = strcmp(r->substs[j].id, r->substs[i].id) == 0;
		if (dup) {
			free(r->substs[i].id);
			free(r->substs[i].description);
			free(r->substs[i].default_value);
			continue;
		}
		r->substs[k++] = r->substs[i];
	}
	r->nsubsts = k;
	return r;
}

/* the bytes a response takes in its library's file (NULL when it cannot be written) */
static char *rendered(const gcmsg_response *r, const gcmsg__library_info *lib)
{
	gcmsg_buf b = GCMSG_BUF_INIT(GCMSG__STOREFILE_CAP);
	gcmsg_response *items[1];
	char err[256];

	items[0] = (gcmsg_response *)r;
	if (gcmsg__library_write(&b, NULL, lib, items, 1, err, sizeof(err)) < 0) {
		gcmsg__buf_dispose(&b);
		return NULL;
	}
	return gcmsg__buf_detach(&b);
}

static int same_content(const gcmsg_response *a, const gcmsg_response *b, const gcmsg__library_info *lib)
{
	char *x = rendered(a, lib), *y = rendered(b, lib);
	int same = x && y && strcmp(x, y) == 0;

	free(x);
	free(y);
	return same;
}

static int by_name_then_id(const void *pa, const void *pb)
{
	const gcmsg_response *a = *(gcmsg_response *const *)pa, *b = *(gcmsg_response *const *)pb;
	int c = strcmp(a->name ? a->name : "", b->name ? b->name : "");

	if (c)
		return c;
	if (!a->name != !b->name)
		return a->name ? -1 : 1;
	return strcmp(a->id, b->id);
}

int gcmsg__sync_compare(gcmsg__sync_diff *out, gcmsg_response *const *stored, size_t nstored,
                        gcmsg_response *const *remote, size_t nremote, const char *library_id,
                        const char *library_name)
{
	gcmsg__strmap have = GCMSG__STRMAP_INIT, seen = GCMSG__STRMAP_INIT;
	gcmsg__library_info lib;
	size_t i, at;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	lib.id = (char *)library_id;
	lib.name = (char *)library_name;
	lib.default_language = NULL;
	lib.version = -1;
	out->items = calloc(nremote ? nremote : 1, sizeof(*out->items));
	if (!out->items)
		return -1;
	for (i = 0; i < nstored; i++)
		if (stored[i]->id && gcmsg__strmap_put(&have, stored[i]->id, strlen(stored[i]->id), i) < 0)
			goto out;
	for (i = 0; i < nremote; i++) {
		const gcmsg_response *r = remote[i], *s = NULL;
		gcmsg_response *keep;
		int added = gcmsg__strmap_put(&seen, r->id, strlen(r->id), i);
		if (added < 0)
			goto out;
		if (!added)
			continue; /* listed twice: once is enough */
		if (gcmsg__strmap_get(&have, r->id, strlen(r->id), &at))
			s = stored[at];
		if (s && s->version >= 0 && s->version == r->version) {
			keep = gcmsg__response_dup(s);
			out->unchanged++;
		} else {
			keep = normalize(r, library_id, library_name);
			if (keep && s && (s->version < 0 || r->version < 0) && same_content(s, keep, &lib)) {
				gcmsg_response_free(keep);
				keep = gcmsg__response_dup(s);
				out->unchanged++;
			} else if (s) {
				out->updated++;
			} else {
				out->added++;
			}
		}
		if (!keep)
			goto out;
		out->items[out->count++] = keep;
	}
	for (i = 0; i < nstored; i++) {
		size_t first;
		/* each stored id once (the first wins, as when reading) */
		if (!stored[i]->id || !gcmsg__strmap_get(&have, stored[i]->id, strlen(stored[i]->id), &first) || first != i)
			continue;
		if (!gcmsg__strmap_get(&seen, stored[i]->id, strlen(stored[i]->id), NULL))
			out->removed++;
	}
	qsort(out->items, out->count, sizeof(*out->items), by_name_then_id);
	rc = 0;
out:
	gcmsg__strmap_free(&have);
	gcmsg__strmap_free(&seen);
	if (rc < 0)
		gcmsg__sync_diff_free(out);
	return rc;
}

/* ---- files and directories ---- */

int gcmsg__store_id_ok(const char *id)
{
	const char *p;

	if (!id || !*id || *id == '.' || strlen(id) > MAX_ID_LEN)
		return 0;
	for (p = id; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '_' || *p == '-'))
			return 0;
	return 1;
}

/* mkdir -p, creating what is missing with mode 0700; 0 or -1 (errno) */
static int make_dirs(const char *path)
{
	char *p = gcmsg__strdup(path), *s;
	struct stat st;
	int rc = 0;

	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	for (s = p + 1; rc == 0; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0) {
			if (errno != EEXIST || stat(p, &st) < 0)
				rc = -1;
			else if (!S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				rc = -1;
			}
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

int gcmsg__store_write_atomic(const char *dir, const char *path, const char *data, size_t len)
{
	char *tmp = gcmsg__asprintf("%s/.gcmsg-sync-XXXXXX", dir);
	int fd, saved, dfd;

	if (!tmp) {
		errno = ENOMEM;
		return -1;
	}
	fd = mkstemp(tmp); /* mode 0600 */
	if (fd < 0) {
		saved = errno;
		free(tmp);
		errno = saved;
		return -1;
	}
	if (gcmsg__write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		errno = saved;
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		saved = errno;
		unlink(tmp);
		free(tmp);
		errno = saved;
		return -1;
	}
	free(tmp);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the *.toml names of dir (not hidden), sorted; -1 with errno when dir cannot be read */
static int list_toml(const char *dir, char ***out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t count = 0;
	int saved;

	*out = NULL;
	*n = 0;
	if (!d)
		return -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char **nv;
		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".toml") != 0)
			continue;
		if (count == MAX_STORE_FILES) {
			gcmsg__free_strv(v, count);
			closedir(d);
			errno = EMFILE;
			return -1;
		}
		nv = realloc(v, (count + 1) * sizeof(char *));
		if (!nv || !(nv[count] = gcmsg__strdup(de->d_name))) {
			v = nv ? nv : v;
			gcmsg__free_strv(v, count);
			closedir(d);
			errno = ENOMEM;
			return -1;
		}
		v = nv;
		count++;
	}
	saved = errno;
	closedir(d);
	if (saved) {
		gcmsg__free_strv(v, count);
		errno = saved;
		return -1;
	}
	if (count)
		qsort(v, count, sizeof(char *), by_str);
	*out = v;
	*n = count;
	return 0;
}

/* parse one store file into a fresh set; 0, or the code with the detail on `into`->err */
static int read_store_file(gcmsg_response_set *into, const char *path, gcmsg__library_info *info)
{
	gcmsg_buf text = GCMSG_BUF_INIT(GCMSG__STOREFILE_CAP);
	int rc;

	if (gcmsg__read_file(path, &text) < 0) {
		if (errno == EFBIG)
			rc = gcmsg__err_set(&into->err, GCMSG_ECONFIG, "%s: larger than %zu MiB", path,
			                    GCMSG__STOREFILE_CAP >> 20);
		else
			rc = gcmsg__err_set(&into->err, GCMSG_ECONFIG, "cannot read %s: %s", path,
			                    errno == EINVAL ? "not a regular file" : strerror(errno));
		gcmsg__buf_dispose(&text);
		return rc;
	}
	rc = gcmsg__library_parse(into, text.ptr ? text.ptr : "", text.len, path, GCMSG__LIBFILE_STORE,
	                          GCMSG_RESPONSE_STORE, info);
	gcmsg__buf_dispose(&text);
	return rc;
}

/* ---- loading the store ---- */

int gcmsg_response_set_load_store(gcmsg_response_set **out, const char *store_dir)
{
	gcmsg_response_set *set;
	gcmsg__strmap ids = GCMSG__STRMAP_INIT;
	char *dir = NULL, **names = NULL;
	size_t n = 0, i, j;
	int rc = GCMSG_OK;

	if (!out)
		return GCMSG_EUSAGE;
	*out = set = gcmsg__response_set_new();
	if (!set)
		return GCMSG_ERROR;
	if (!store_dir || !*store_dir)
		return gcmsg__err_set(&set->err, GCMSG_EUSAGE, "no store directory given");
	dir = gcmsg__asprintf("%s/" STORE_SUBDIR, store_dir);
	if (!dir)
		return gcmsg__err_set(&set->err, GCMSG_ERROR, "out of memory");
	if (list_toml(dir, &names, &n) < 0) {
		if (errno == ENOENT) {
			rc = gcmsg__err_set(&set->err, GCMSG_ENOTFOUND, "no synced responses: %s does not exist", dir);
			gcmsg__err_set_fix(&set->err, "run gcmsg responses sync");
		} else {
			rc = gcmsg__err_set(&set->err, errno == ENOMEM ? GCMSG_ERROR : GCMSG_ECONFIG,
			                    "cannot read the store %s: %s", dir,
			                    errno == EMFILE ? "more than 100000 library files" : strerror(errno));
		}
		goto out;
	}
	if (n == 0) {
		rc = gcmsg__err_set(&set->err, GCMSG_ENOTFOUND, "no synced responses: %s holds no library file", dir);
		gcmsg__err_set_fix(&set->err, "run gcmsg responses sync");
		goto out;
	}
	for (i = 0; i < n; i++) {
		gcmsg_response_set *one = gcmsg__response_set_new();
		char *path = gcmsg__asprintf("%s/%s", dir, names[i]);
		if (!one || !path) {
			gcmsg_response_set_free(one);
			free(path);
			rc = gcmsg__err_set(&set->err, GCMSG_ERROR, "out of memory");
			goto out;
		}
		rc = read_store_file(one, path, NULL);
		free(path);
		if (rc < 0) {
			/* the file's message, on the set */
			rc = gcmsg__err_set(&set->err, rc, "%s", one->err.pub.explanation ? one->err.pub.explanation : "?");
			gcmsg__err_set_fix(&set->err, "run gcmsg responses sync (it rewrites the store's files)");
			gcmsg_response_set_free(one);
			goto out;
		}
		for (j = 0; rc == GCMSG_OK && j < one->nlibs; j++)
			if (gcmsg__response_set_add_library(set, one->libs[j].id, one->libs[j].name, one->libs[j].version) < 0)
				rc = GCMSG_ERROR;
		/* a response in several libraries is in several files: once in the set, with each library */
		for (j = 0; rc == GCMSG_OK && j < one->count; j++) {
			gcmsg_response *r = one->items[j];
			size_t at = 0;
			int added = gcmsg__strmap_put(&ids, r->id, strlen(r->id), set->count);
			if (added < 0) {
				rc = GCMSG_ERROR;
			} else if (!added) {
				gcmsg_response *have;
				size_t k;
				gcmsg__strmap_get(&ids, r->id, strlen(r->id), &at);
				have = set->items[at];
				for (k = 0; rc == GCMSG_OK && k < r->nlibs; k++) {
					size_t m;
					int known = 0;
					for (m = 0; m < have->nlibs; m++)
						known |= strcmp(have->lib_ids[m], r->lib_ids[k]) == 0;
					if (!known && gcmsg__response_add_library(have, r->lib_ids[k], r->lib_names[k]) < 0)
						rc = GCMSG_ERROR;
				}
			} else {
				one->items[j] = NULL;
				if (gcmsg__response_set_add(set, r) < 0)
					rc = GCMSG_ERROR;
			}
		}
		for (j = 0; j < one->count; j++)
			gcmsg_response_free(one->items[j]);
		one->count = 0;
		gcmsg_response_set_free(one);
		if (rc < 0) {
			rc = gcmsg__err_set(&set->err, GCMSG_ERROR, "out of memory");
			goto out;
		}
	}
out:
	gcmsg__strmap_free(&ids);
	gcmsg__free_strv(names, n);
	free(dir);
	return rc;
}

/* ---- sync ---- */

typedef struct rep_lib {
	char *id, *name, *path;
	size_t added, updated, unchanged, removed;
	int written, deleted;
	char *content; /* what to write (written, not deleted) */
	size_t len;
} rep_lib;

struct gcmsg_sync_report {
	rep_lib *libs;
	size_t n;
};

void gcmsg_sync_report_free(gcmsg_sync_report *rep)
{
	size_t i;

	if (!rep)
		return;
	for (i = 0; i < rep->n; i++) {
		free(rep->libs[i].id);
		free(rep->libs[i].name);
		free(rep->libs[i].path);
		free(rep->libs[i].content);
	}
	free(rep->libs);
	free(rep);
}

static rep_lib *rep_add(gcmsg_sync_report *rep, const char *id, const char *name, const char *path)
{
	rep_lib *p = realloc(rep->libs, (rep->n + 1) * sizeof(*p)), *l;

	if (!p)
		return NULL;
	rep->libs = p;
	l = &p[rep->n];
	memset(l, 0, sizeof(*l));
	l->id = gcmsg__strdup(id);
	l->name = gcmsg__strdup(name);
	l->path = gcmsg__strdup(path);
	if (!l->id || (name && !l->name) || !l->path) {
		free(l->id);
		free(l->name);
		free(l->path);
		return NULL;
	}
	rep->n++;
	return l;
}

/*
 * The comment a store file starts with. The URL loses any user:password@
 * part (never written to disk); the writer neutralises control characters.
 */
static char *store_comment(const gcmsg_client *c)
{
	const char *url = c->api_url ? c->api_url : "?", *host = strstr(url, "://"), *at, *slash;
	size_t scheme = host ? (size_t)(host - url) + 3 : 0;

	if (host) {
		at = strchr(url + scheme, '@');
		slash = strchr(url + scheme, '/');
		if (at && (!slash || at < slash))
			return gcmsg__asprintf("Synced by gcmsg responses sync from %.*s%s \xe2\x80\x94 do not edit: the "
			                       "next sync replaces it.",
			                       (int)scheme, url, at + 1);
	}
	return gcmsg__asprintf("Synced by gcmsg responses sync from %s \xe2\x80\x94 do not edit: the next sync "
	                       "replaces it.",
	                       url);
}

/* fetch, compare and render one library (writes nothing) */
static int sync_library(gcmsg_client *c, gcmsg_sync_report *rep, const gcmsg_response_set *libs,
                        const gcmsg__library *l, const char *dir, const char *comment)
{
	gcmsg_response_set *remote = NULL, *stored = NULL;
	gcmsg_buf old = GCMSG_BUF_INIT(GCMSG__STOREFILE_CAP), out = GCMSG_BUF_INIT(GCMSG__STOREFILE_CAP);
	gcmsg__sync_diff diff;
	gcmsg__library_info info;
	char *path = NULL, err[512];
	const char *name = l->name ? l->name : l->id;
	rep_lib *e;
	int rc, exists = 0;

	memset(&diff, 0, sizeof(diff));
	if (!gcmsg__store_id_ok(l->id))
		return gcmsg__err_set(&c->err, GCMSG_EREMOTE,
		                      "library '%s' has the id '%.200s', which cannot be a file name in the store", name,
		                      l->id);
	path = gcmsg__asprintf("%s/%s.toml", dir, l->id);
	remote = gcmsg__response_set_new();
	stored = gcmsg__response_set_new();
	if (!path || !remote || !stored) {
		rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		goto out;
	}
	rc = gcmsg__responses_of_library(c, remote, libs, l->id);
	if (rc < 0)
		goto out;
	if (remote->count > GCMSG__STOREFILE_MAX_RESPONSES) {
		rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE, "library '%s' has %zu responses, more than a store file holds (%zu)",
		                    name, remote->count, GCMSG__STOREFILE_MAX_RESPONSES);
		goto out;
	}
	if (gcmsg__read_file(path, &old) == 0) {
		exists = 1;
		if (gcmsg__library_parse(stored, old.ptr ? old.ptr : "", old.len, path, GCMSG__LIBFILE_STORE,
		                         GCMSG_RESPONSE_STORE, NULL) < 0)
			gcmsg__log(c, "%s cannot be read (%s): it is replaced whole", path,
			           stored->err.pub.explanation ? stored->err.pub.explanation : "?");
	} else if (errno != ENOENT) {
		gcmsg__log(c, "%s cannot be read (%s): it is replaced whole", path, strerror(errno));
		exists = 1;
		gcmsg__buf_clear(&old);
	}
	if (gcmsg__sync_compare(&diff, stored->items, stored->count, remote->items, remote->count, l->id, name) < 0) {
		rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		goto out;
	}
	info.id = l->id;
	info.name = (char *)name;
	info.default_language = NULL;
	info.version = l->version;
	if (gcmsg__library_write(&out, comment, &info, diff.items, diff.count, err, sizeof(err)) < 0) {
		rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE, "library '%s' cannot be stored: %s", name, err);
		goto out;
	}
	e = rep_add(rep, l->id, name, path);
	if (!e) {
		rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		goto out;
	}
	e->added = diff.added;
	e->updated = diff.updated;
	e->unchanged = diff.unchanged;
	e->removed = diff.removed;
	e->written = !exists || old.len != out.len || memcmp(old.ptr ? old.ptr : "", out.ptr ? out.ptr : "", out.len) != 0;
	if (e->written) {
		e->len = out.len;
		e->content = gcmsg__buf_detach(&out);
	}
	rc = GCMSG_OK;
out:
	gcmsg__sync_diff_free(&diff);
	gcmsg_response_set_free(remote);
	gcmsg_response_set_free(stored);
	gcmsg__buf_dispose(&old);
	gcmsg__buf_dispose(&out);
	free(path);
	return rc;
}

/* store files of libraries that no longer exist (a sync of every library) */
/*
 * Did a sync write this file? Only those may be deleted: a library file kept by
 * hand in a folder that happens to be a store must survive a sync.
 */
static int written_by_sync(const char *path)
{
	static const char mark[] = "# Synced by gcmsg responses sync";
	char head[sizeof(mark) - 1];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), ok;

	if (fd < 0)
		return 0;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	do
		n = ok ? read(fd, head, sizeof(head)) : -1;
	while (n < 0 && errno == EINTR);
	close(fd);
	return n == (ssize_t)sizeof(head) && memcmp(head, mark, sizeof(head)) == 0;
}

static int find_stale(gcmsg_client *c, gcmsg_sync_report *rep, const gcmsg_response_set *libs, const char *dir)
{
	char **names = NULL;
	size_t n = 0, i, j;
	int rc = GCMSG_OK;

	if (list_toml(dir, &names, &n) < 0) {
		if (errno == ENOENT)
			return GCMSG_OK;
		return gcmsg__err_set(&c->err, errno == ENOMEM ? GCMSG_ERROR : GCMSG_ECONFIG, "cannot read the store %s: %s",
		                      dir, strerror(errno));
	}
	for (i = 0; rc == GCMSG_OK && i < n; i++) {
		size_t len = strlen(names[i]) - 5;
		int live = 0;
		char *id, *path;
		gcmsg_response_set *old;
		gcmsg__library_info info;
		rep_lib *e;
		for (j = 0; j < libs->nlibs && !live; j++)
			live = strlen(libs->libs[j].id) == len && strncmp(libs->libs[j].id, names[i], len) == 0;
		if (live)
			continue;
		id = gcmsg__strdup(names[i]);
		path = gcmsg__asprintf("%s/%s", dir, names[i]);
		old = gcmsg__response_set_new();
		if (!id || !path || !old) {
			free(id);
			free(path);
			gcmsg_response_set_free(old);
			rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
			break;
		}
		id[len] = '\0';
		memset(&info, 0, sizeof(info));
		if (!written_by_sync(path) || read_store_file(old, path, &info) < 0 || !info.id ||
		    strcmp(info.id, id) != 0) {
			gcmsg__log(c, "%s was not written by a sync (or cannot be read): left alone", path);
			gcmsg__library_info_clear(&info);
			gcmsg_response_set_free(old);
			free(id);
			free(path);
			continue;
		}
		e = rep_add(rep, id, info.name, path);
		if (!e) {
			rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		} else {
			e->removed = old->count;
			e->written = 1;
			e->deleted = 1;
		}
		gcmsg__library_info_clear(&info);
		gcmsg_response_set_free(old);
		free(id);
		free(path);
	}
	gcmsg__free_strv(names, n);
	return rc;
}

int gcmsg_responses_sync(gcmsg_sync_report **out, gcmsg_client *client, const gcmsg_sync_options *opts)
{
	gcmsg_response_set *libs = NULL;
	gcmsg_sync_report *rep = NULL;
	char *dir = NULL, *comment = NULL;
	size_t i, idx;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (!client)
		return GCMSG_EUSAGE;
	if (!opts)
		return gcmsg__err_set(&client->err, GCMSG_EUSAGE, "no sync options given");
	if (opts->version != GCMSG_SYNC_OPTIONS_VERSION)
		return gcmsg__err_set(&client->err, GCMSG_EUSAGE, "unknown gcmsg_sync_options version %u", opts->version);
	if (!opts->store_dir || !*opts->store_dir)
		return gcmsg__err_set(&client->err, GCMSG_EUSAGE, "no store directory given");
	if (opts->library && !*opts->library)
		return gcmsg__err_set(&client->err, GCMSG_EUSAGE, "an empty library name");
	rep = calloc(1, sizeof(*rep));
	dir = gcmsg__asprintf("%s/" STORE_SUBDIR, opts->store_dir);
	comment = store_comment(client);
	if (!rep || !dir || !comment) {
		rc = gcmsg__err_set(&client->err, GCMSG_ERROR, "out of memory");
		goto out;
	}
	rc = gcmsg_libraries_list(&libs, client, NULL);
	if (rc < 0)
		goto out;
	/* 1. fetch and compare everything; nothing is written if this fails */
	if (opts->library) {
		rc = gcmsg__library_resolve(client, libs, opts->library, &idx);
		if (rc == GCMSG_OK)
			rc = sync_library(client, rep, libs, &libs->libs[idx], dir, comment);
	} else {
		for (i = 0; rc == GCMSG_OK && i < libs->nlibs; i++)
			rc = sync_library(client, rep, libs, &libs->libs[i], dir, comment);
		if (rc == GCMSG_OK)
			rc = find_stale(client, rep, libs, dir);
	}
	if (rc < 0 || opts->dry_run)
		goto out;
	/* 2. write what changed */
	for (i = 0; i < rep->n; i++) {
		rep_lib *e = &rep->libs[i];
		if (e->deleted) {
			if (unlink(e->path) < 0 && errno != ENOENT) {
				rc = gcmsg__err_set(&client->err, GCMSG_ECONFIG, "cannot delete %s: %s", e->path,
				                    strerror(errno));
				goto out;
			}
			continue;
		}
		if (!e->written)
			continue;
		if (make_dirs(dir) < 0) {
			rc = gcmsg__err_set(&client->err, GCMSG_ECONFIG, "cannot create the store directory %s: %s", dir,
			                    strerror(errno));
			goto out;
		}
		if (gcmsg__store_write_atomic(dir, e->path, e->content ? e->content : "", e->len) < 0) {
			rc = gcmsg__err_set(&client->err, GCMSG_ECONFIG, "cannot write %s: %s", e->path, strerror(errno));
			goto out;
		}
	}
out:
	gcmsg_response_set_free(libs);
	free(dir);
	free(comment);
	if (rep) {
		for (i = 0; i < rep->n; i++) {
			free(rep->libs[i].content);
			rep->libs[i].content = NULL;
		}
	}
	if (rc < 0) {
		gcmsg_sync_report_free(rep);
		return rc;
	}
	*out = rep;
	return GCMSG_OK;
}

/* ---- the report ---- */

size_t gcmsg_sync_report_library_count(const gcmsg_sync_report *rep)
{
	return rep ? rep->n : 0;
}

#define REP_FIELD(type, fn, expr, none)                                          \
	type fn(const gcmsg_sync_report *rep, size_t i)                          \
	{                                                                        \
		return rep && i < rep->n ? rep->libs[i].expr : none;             \
	}
REP_FIELD(const char *, gcmsg_sync_report_library_id, id, NULL)
REP_FIELD(const char *, gcmsg_sync_report_library_name, name, NULL)
REP_FIELD(const char *, gcmsg_sync_report_path, path, NULL)
REP_FIELD(size_t, gcmsg_sync_report_added, added, 0)
REP_FIELD(size_t, gcmsg_sync_report_updated, updated, 0)
REP_FIELD(size_t, gcmsg_sync_report_unchanged, unchanged, 0)
REP_FIELD(size_t, gcmsg_sync_report_removed, removed, 0)
REP_FIELD(int, gcmsg_sync_report_written, written, 0)
REP_FIELD(int, gcmsg_sync_report_deleted, deleted, 0)
