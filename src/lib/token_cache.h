/*
 * token_cache.h - the token cache file (private): one JSON file per profile
 * holding the token of a `gcmsg login` (with its refresh token) or a reused
 * client-credentials token, and the lock that makes renewals single-flight
 * across threads and processes.
 *
 * The file (written by us only, docs/gcmsg.1 FILES):
 *
 *   { "gcmsgTokenCache": 1, "kind": "user" | "client",
 *     "loginUrl": "https://login.X", "apiUrl": "https://api.X", "clientId": "...",
 *     "accessToken": "...", "expiresAt": <unix seconds, 0 = unknown>,
 *     "lifetime": <expires_in seconds, 0 = unknown>,
 *     "refreshToken": "..." (user entries, optional), "secretCheck": "..." (client entries) }
 *
 * Mode 0600 in a directory created 0700, replaced atomically (temp file, fsync,
 * rename). A file group or others can access, or owned by another user, is
 * refused with the fix. Errors are one line naming the file, built from a
 * closed set of reasons: they never quote the file's contents.
 */
#ifndef GCMSG_TOKEN_CACHE_H
#define GCMSG_TOKEN_CACHE_H

#include "internal.h"

#define GCMSG__TOKEN_CACHE_VERSION 1
#define GCMSG__TOKEN_CACHE_MAX ((size_t)64 * 1024) /* bytes of a cache file */
#define GCMSG__TOKEN_MAX ((size_t)8 * 1024)        /* an access or refresh token (a header value) */

typedef enum gcmsg__token_kind {
	GCMSG__TOKEN_NONE = 0,
	GCMSG__TOKEN_USER = 1,  /* from gcmsg login (code grant with PKCE) */
	GCMSG__TOKEN_CLIENT = 2 /* client credentials, cached so that short runs share one */
} gcmsg__token_kind;

typedef struct gcmsg__token_entry {
	gcmsg__token_kind kind;
	char *login_url, *api_url, *client_id;
	char *access_token;  /* secret */
	long long expires_at; /* wall clock, Unix seconds; 0: unknown */
	long lifetime;       /* seconds the token was given for (expires_in); 0: unknown */
	char *refresh_token; /* secret, or NULL */
	/*
	 * Client entries only: base64url HMAC-SHA256 keyed with the client secret
	 * over "gcmsg token cache 1\n" clientId "\n" accessToken (auth.c), so that a
	 * cached client token is reused only with the secret that obtained it.
	 */
	char *secret_check;
} gcmsg__token_entry;

/* Zero the secrets, free every string, leave the entry empty. */
void gcmsg__token_entry_clear(gcmsg__token_entry *e);

/*
 * Parse a cache file's bytes. GCMSG_OK with *out filled (caller clears it), or
 * GCMSG_ECONFIG with err set to "<path>: <reason>" (+ a fix); never a crash,
 * never a byte of the input in the message.
 */
int gcmsg__token_cache_parse(gcmsg__token_entry *out, const char *data, size_t len, const char *path,
                             gcmsg__err *err);
/* For tests and the fuzz target: is `reason` (a parse error after "token cache FILE: ") one of ours? */
int gcmsg__token_cache_reason_known(const char *reason);
/* The file's text (a secret: free with gcmsg__free_secret), or NULL (invalid entry, OOM). */
char *gcmsg__token_cache_format(const gcmsg__token_entry *e);
/* Is the entry complete and valid (what format writes and parse accepts)? */
int gcmsg__token_entry_valid(const gcmsg__token_entry *e);

/*
 * Read the file. GCMSG_OK (filled), GCMSG_ENOTFOUND (no such file; err says so),
 * GCMSG_ECONFIG (unsafe mode or owner, not a regular file, unreadable, corrupt,
 * foreign), GCMSG_ERROR (out of memory).
 */
int gcmsg__token_cache_read(const char *path, gcmsg__token_entry *out, gcmsg__err *err);
/* Replace the file atomically (directories created 0700, file 0600). */
int gcmsg__token_cache_write(const char *path, const gcmsg__token_entry *e, gcmsg__err *err);
/* Remove the file: GCMSG_OK, GCMSG_ENOTFOUND (there was none), GCMSG_ECONFIG. */
int gcmsg__token_cache_remove(const char *path, gcmsg__err *err);

/*
 * Take the exclusive lock of the cache (flock on "<path>.lock", created 0600
 * next to it), waiting at most timeout_ms. *fd receives the lock's descriptor
 * (release with gcmsg__token_cache_unlock). flock locks belong to an open file
 * description, so two clients of one process exclude each other too.
 */
int gcmsg__token_cache_lock(const char *path, long timeout_ms, int *fd, gcmsg__err *err);
void gcmsg__token_cache_unlock(int fd);

/*
 * Could a login be saved at path? The directories are made and the lock taken
 * (waiting at most timeout_ms, then released), and a file is created and
 * removed in the directory. GCMSG_OK, GCMSG_ECONFIG (naming the directory and
 * why), GCMSG_EAUTH (the lock stayed taken), GCMSG_ERROR (out of memory).
 */
int gcmsg__token_cache_check_writable(const char *path, long timeout_ms, gcmsg__err *err);

/* Zero every string value of a JSON tree (a token answer), then release it. */
void gcmsg__json_wipe_decref(json_t *root);

/* Wall-clock seconds (CLOCK_REALTIME). */
long long gcmsg__wall_now(void);

#endif
