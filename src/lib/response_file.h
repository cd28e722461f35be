/*
 * response_file.h - library files (format: docs/gcmsg-library.5.md) read
 * from memory and written canonically, model comparison, and the pure part
 * of sync (private to response_*.c and the unit tests / fuzz target).
 */
#ifndef GCMSG_RESPONSE_FILE_H
#define GCMSG_RESPONSE_FILE_H

#include "internal.h"

#define GCMSG__LIBFILE_CAP ((size_t)8 * 1024 * 1024)    /* bytes of a library file */
#define GCMSG__LIBFILE_MAX_RESPONSES ((size_t)10000)    /* responses in a library file */
#define GCMSG__STOREFILE_CAP ((size_t)64 * 1024 * 1024) /* bytes of a store file (written by sync) */
#define GCMSG__STOREFILE_MAX_RESPONSES ((size_t)100000) /* responses in a store file */
#define GCMSG__LIBFILE_MAX_ITEMS ((size_t)1000)         /* substitutions, and texts, of one response */

/* How strictly a file is read. */
typedef enum gcmsg__libfile_mode {
	/*
	 * A file people write: `name` and `text` required, names unique,
	 * enumerations checked, MessagingTemplate needs its template keys.
	 */
	GCMSG__LIBFILE_STRICT = 0,
	/*
	 * A store file (written by sync from what Genesys holds): the same
	 * syntax and keys, but `name` and `text` may be absent, names may repeat
	 * and enumerations take any value Genesys may add.
	 */
	GCMSG__LIBFILE_STORE
} gcmsg__libfile_mode;

/* A file's [library] table (every string may be NULL but id and name). */
typedef struct gcmsg__library_info {
	char *id, *name, *default_language;
	long version; /* -1: absent */
} gcmsg__library_info;

void gcmsg__library_info_clear(gcmsg__library_info *info);

/*
 * Parse a library file held in memory. `path` names the file in messages,
 * becomes each response's path, and gives the default library id (its base
 * name without ".toml"). On success the responses (origin `origin`) and the
 * library are appended to `set` and, when `info` is non-NULL, the [library]
 * table is copied there. On failure nothing is added and set->err holds
 * GCMSG_ECONFIG "path: line N: what" (GCMSG_ERROR when out of memory).
 */
int gcmsg__library_parse(gcmsg_response_set *set, const char *text, size_t len, const char *path,
                         gcmsg__libfile_mode mode, gcmsg_response_origin origin,
                         gcmsg__library_info *info);

/*
 * Write a library file: `comment` (NULL, or text whose lines each become a
 * "# " line), `format = 1`, [library] (name, id, version, default_language)
 * and the responses in the given order, in the canonical form: fixed key
 * order, a blank line between tables, strings as gcmsg__toml_write_string.
 * 0, or -1 with the reason in err (invalid UTF-8, a response that the format
 * cannot express, over the 8 MiB cap).
 */
int gcmsg__library_write(gcmsg_buf *out, const char *comment, const gcmsg__library_info *lib,
                         gcmsg_response *const *items, size_t n, char *err, size_t errlen);

/* Deep equality of two models (every field, path and origin included). */
int gcmsg__response_equal(const gcmsg_response *a, const gcmsg_response *b);

/* Read a whole regular file into b (capped by b->cap). 0, or -1 with errno (EFBIG when over the cap). */
int gcmsg__read_file(const char *path, gcmsg_buf *b);

/* ---- sync (response_store.c) ---- */

typedef struct gcmsg__sync_diff {
	gcmsg_response **items; /* the library's new content, sorted by name then id; owned */
	size_t count;
	size_t added, updated, unchanged, removed;
} gcmsg__sync_diff;

/*
 * The pure comparison behind sync: `stored` (what the store file holds, may
 * be empty) against `remote` (every response of the library now). A remote
 * response whose id is stored with the same version (>= 0) keeps the stored
 * entry as it is (unchanged); without a version on either side the two are
 * compared field by field (equal: unchanged). A new id is added, any other
 * is updated, a stored id gone from `remote` is removed. Copies are made;
 * each result carries origin STORE, `library` (id, name) as its only library
 * and `default_language` NULL, with the first body text moved to the front.
 * Duplicate ids in `remote` count once (the first wins), and so do repeated
 * substitution ids of one response. 0, or -1 when out of memory.
 */
int gcmsg__sync_compare(gcmsg__sync_diff *out, gcmsg_response *const *stored, size_t nstored,
                        gcmsg_response *const *remote, size_t nremote, const char *library_id,
                        const char *library_name);
void gcmsg__sync_diff_free(gcmsg__sync_diff *d);

/* Whether a library id can name a store file: [A-Za-z0-9._-], not starting with '.', at most 200 bytes. */
int gcmsg__store_id_ok(const char *id);
/*
 * Replace `path` (in directory `dir`) with `data` atomically: a temporary
 * file (mode 0600) in `dir`, fsync, rename, fsync of `dir`. 0, or -1 with errno.
 */
int gcmsg__store_write_atomic(const char *dir, const char *path, const char *data, size_t len);

#endif
