/*
 * token_cache.c - the token cache file (see token_cache.h): a strict reader of
 * our own flat JSON object, a writer, atomic replacement, and the renewal lock.
 *
 * The reader is hand-written rather than jansson: the file is ours and flat
 * (strings and integers), and a reader of our own leaves no copy of a token in
 * a parser's scratch buffers (every buffer here is zeroed before it is freed).
 * Every value must be printable ASCII: a token ends up in an HTTP header.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "secure.h"
#include "token_cache.h"

long long gcmsg__wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec;
}

void gcmsg__token_entry_clear(gcmsg__token_entry *e)
{
	if (!e)
		return;
	free(e->login_url);
	free(e->api_url);
	free(e->client_id);
	gcmsg__free_secret(e->access_token);
	gcmsg__free_secret(e->refresh_token);
	gcmsg__free_secret(e->secret_check);
	memset(e, 0, sizeof(*e));
}

static void wipe_tree(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_string(v)) {
		/* jansson hands out its own buffer; zero it before it is freed */
		gcmsg__wipe((char *)json_string_value(v), json_string_length(v));
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, item)
			wipe_tree(item);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			wipe_tree(item);
	}
}

void gcmsg__json_wipe_decref(json_t *root)
{
	if (!root)
		return;
	wipe_tree(root);
	json_decref(root);
}

/* ---- values ---- */

static int url_ok(const char *u)
{
	return gcmsg__printable(u, 2048) && (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0);
}

#define MAX_EXPIRES_AT (1LL << 40)
#define MAX_LIFETIME (10L * 366 * 24 * 3600)

int gcmsg__token_entry_valid(const gcmsg__token_entry *e)
{
	return e && (e->kind == GCMSG__TOKEN_USER || e->kind == GCMSG__TOKEN_CLIENT) && url_ok(e->login_url) &&
	       url_ok(e->api_url) && gcmsg__printable(e->client_id, 256) &&
	       gcmsg__printable(e->access_token, GCMSG__TOKEN_MAX) && e->expires_at >= 0 &&
	       e->expires_at <= MAX_EXPIRES_AT && e->lifetime >= 0 && e->lifetime <= MAX_LIFETIME &&
	       (!e->refresh_token || (e->kind == GCMSG__TOKEN_USER && gcmsg__printable(e->refresh_token, GCMSG__TOKEN_MAX))) &&
	       (e->kind == GCMSG__TOKEN_USER ? !e->secret_check : gcmsg__printable(e->secret_check, 64));
}

/* ---- the reader ---- */

/*
 * The closed set of reasons a file is refused; the messages quote none of its
 * bytes (the fuzz target checks every message against this list).
 */
enum {
	R_SYNTAX = 0, /* formatted with line and column */
	R_NOT_OBJECT,
	R_UNKNOWN_KEY,
	R_DUP_KEY,
	R_TYPE,
	R_TOO_LONG,
	R_NOT_ASCII,
	R_RANGE,
	R_NO_VERSION,
	R_NEWER,
	R_MISSING,
	R_KIND,
	R_URL,
	R_VALUE,
	R_REFRESH_CLIENT,
	R_CHECK,
	R_COUNT
};

static const char *const reasons[R_COUNT] = {
	[R_SYNTAX] = "not valid JSON (line %d, column %d)",
	[R_NOT_OBJECT] = "not a gcmsg token cache (not a JSON object)",
	[R_UNKNOWN_KEY] = "not a gcmsg token cache (a key gcmsg does not write)",
	[R_DUP_KEY] = "a key appears twice",
	[R_TYPE] = "a value has the wrong type (strings and integers only)",
	[R_TOO_LONG] = "a value is too long",
	[R_NOT_ASCII] = "a value is not printable ASCII",
	[R_RANGE] = "a number is out of range",
	[R_NO_VERSION] = "not a gcmsg token cache (no gcmsgTokenCache version)",
	[R_NEWER] = "written by a newer gcmsg (unknown gcmsgTokenCache version)",
	[R_MISSING] = "an entry lacks kind, loginUrl, apiUrl, clientId, accessToken or expiresAt",
	[R_KIND] = "kind is neither user nor client",
	[R_URL] = "loginUrl or apiUrl is not an http(s) URL",
	[R_VALUE] = "clientId, accessToken or refreshToken is empty or holds spaces",
	[R_REFRESH_CLIENT] = "a client-credentials entry holds a refresh token",
	[R_CHECK] = "secretCheck is missing from a client-credentials entry, or set on a login",
};

int gcmsg__token_cache_reason_known(const char *reason)
{
	int i, a, b, n = 0;

	for (i = 1; i < R_COUNT; i++)
		if (strcmp(reason, reasons[i]) == 0)
			return 1;
	if (sscanf(reason, "not valid JSON (line %d, column %d)%n", &a, &b, &n) == 2 && reason[n] == '\0')
		return 1;
	return 0;
}

typedef struct rd {
	const char *p, *end, *start, *line_start;
	int line, reason;
	const char *err_at;
} rd;

static int fail(rd *r, int reason)
{
	if (r->reason < 0) {
		r->reason = reason;
		r->err_at = r->p;
	}
	return -1;
}

static void skip_ws(rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' || *r->p == '\n')) {
		if (*r->p == '\n') {
			r->line++;
			r->line_start = r->p + 1;
		}
		r->p++;
	}
}

static void drop(char *buf, size_t raw)
{
	gcmsg__wipe(buf, raw + 1);
	free(buf);
}

/*
 * A JSON string at r->p (the opening quote) into *out (malloc'd, at most max
 * bytes). Escapes are decoded; only ASCII survives (\u0080 and above, raw bytes
 * of 0x80 and above, and raw control characters are refused).
 */
static int read_string(rd *r, char **out, size_t max)
{
	const char *q;
	char *buf;
	size_t n = 0, raw;

	*out = NULL;
	r->p++; /* the quote */
	for (q = r->p; q < r->end && *q != '"'; q++)
		if (*q == '\\' && q + 1 < r->end)
			q++;
	if (q >= r->end) {
		r->p = r->end;
		return fail(r, R_SYNTAX);
	}
	raw = (size_t)(q - r->p);
	if (raw > max * 6 + 6)
		return fail(r, R_TOO_LONG);
	buf = malloc(raw + 1);
	if (!buf)
		return fail(r, R_TOO_LONG);
	while (*r->p != '"') {
		unsigned char c = (unsigned char)*r->p;
		if (c < 0x20) {
			drop(buf, raw);
			return fail(r, R_SYNTAX);
		}
		if (c >= 0x80) {
			drop(buf, raw);
			return fail(r, R_NOT_ASCII);
		}
		if (c == '\\') {
			char e = r->p[1];
			r->p += 2;
			switch (e) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				int i, v = 0;
				for (i = 0; i < 4; i++) {
					int h = r->p + i < q ? gcmsg__hexval(r->p[i]) : -1;
					if (h < 0) {
						drop(buf, raw);
						return fail(r, R_SYNTAX);
					}
					v = v * 16 + h;
				}
				r->p += 4;
				if (v >= 0x80 || v == 0) {
					drop(buf, raw);
					return fail(r, R_NOT_ASCII);
				}
				c = (unsigned char)v;
				break;
			}
			default:
				r->p--;
				drop(buf, raw);
				return fail(r, R_SYNTAX);
			}
		} else {
			r->p++;
		}
		buf[n++] = (char)c;
		if (n > max) {
			drop(buf, raw);
			return fail(r, R_TOO_LONG);
		}
	}
	r->p++; /* the closing quote */
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* A JSON integer (no fraction, no exponent) in [0, max]. */
static int read_integer(rd *r, long long max, long long *out)
{
	long long v = 0;
	int neg = 0, digits = 0;

	if (*r->p == '-') {
		neg = 1;
		r->p++;
	}
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		if (digits && v == 0)
			return fail(r, R_SYNTAX); /* a leading zero */
		if (v > (LLONG_MAX - 9) / 10)
			return fail(r, R_RANGE);
		v = v * 10 + (*r->p - '0');
		digits++;
		r->p++;
	}
	if (!digits)
		return fail(r, R_SYNTAX);
	if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
		return fail(r, R_TYPE);
	if (neg || v > max)
		return fail(r, R_RANGE);
	*out = v;
	return 0;
}

enum { K_VERSION, K_KIND, K_LOGIN, K_API, K_CLIENT, K_ACCESS, K_EXPIRES, K_LIFETIME, K_REFRESH, K_CHECK, K_COUNT };
static const char *const keys[K_COUNT] = { "gcmsgTokenCache", "kind", "loginUrl", "apiUrl", "clientId",
	                                   "accessToken", "expiresAt", "lifetime", "refreshToken", "secretCheck" };

static int parse_object(rd *r, gcmsg__token_entry *e, long long *version)
{
	int seen[K_COUNT] = { 0 };
	int first = 1;

	skip_ws(r);
	if (r->p >= r->end)
		return fail(r, R_SYNTAX);
	if (*r->p != '{')
		return fail(r, *r->p == '[' || *r->p == '"' || *r->p == '-' || (*r->p >= '0' && *r->p <= '9') ||
		                        *r->p == 't' || *r->p == 'f' || *r->p == 'n'
		                    ? R_NOT_OBJECT
		                    : R_SYNTAX);
	r->p++;
	for (;;) {
		char *key = NULL, *s = NULL;
		long long v = 0;
		int k;

		skip_ws(r);
		if (r->p >= r->end)
			return fail(r, R_SYNTAX);
		if (first && *r->p == '}') {
			r->p++;
			break;
		}
		if (*r->p != '"')
			return fail(r, R_SYNTAX);
		if (read_string(r, &key, 64) < 0)
			return -1;
		for (k = 0; k < K_COUNT && strcmp(key, keys[k]) != 0; k++)
			;
		free(key);
		skip_ws(r);
		if (r->p >= r->end || *r->p != ':')
			return fail(r, R_SYNTAX);
		r->p++;
		skip_ws(r);
		if (r->p >= r->end)
			return fail(r, R_SYNTAX);
		if (k == K_COUNT)
			return fail(r, R_UNKNOWN_KEY);
		if (seen[k]++)
			return fail(r, R_DUP_KEY);
		if (k == K_VERSION || k == K_EXPIRES || k == K_LIFETIME) {
			if (*r->p != '-' && !(*r->p >= '0' && *r->p <= '9'))
				return fail(r, R_TYPE);
			if (read_integer(r, k == K_VERSION ? 1000000 : k == K_EXPIRES ? MAX_EXPIRES_AT : MAX_LIFETIME,
			                 &v) < 0)
				return -1;
			if (k == K_VERSION)
				*version = v;
			else if (k == K_EXPIRES)
				e->expires_at = v;
			else
				e->lifetime = (long)v;
		} else {
			if (*r->p != '"')
				return fail(r, R_TYPE);
			if (read_string(r, &s, k == K_ACCESS || k == K_REFRESH ? GCMSG__TOKEN_MAX : 2048) < 0)
				return -1;
			switch (k) {
			case K_KIND:
				e->kind = strcmp(s, "user") == 0     ? GCMSG__TOKEN_USER
				          : strcmp(s, "client") == 0 ? GCMSG__TOKEN_CLIENT
				                                     : (gcmsg__token_kind)-1;
				free(s);
				break;
			case K_LOGIN: e->login_url = s; break;
			case K_API: e->api_url = s; break;
			case K_CLIENT: e->client_id = s; break;
			case K_ACCESS: e->access_token = s; break;
			case K_CHECK: e->secret_check = s; break;
			default: e->refresh_token = s; break;
			}
		}
		first = 0;
		skip_ws(r);
		if (r->p >= r->end)
			return fail(r, R_SYNTAX);
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		if (*r->p != '}')
			return fail(r, R_SYNTAX);
		r->p++;
		break;
	}
	skip_ws(r);
	if (r->p != r->end)
		return fail(r, R_SYNTAX);
	if (!seen[K_VERSION])
		return fail(r, R_NO_VERSION);
	if (*version != GCMSG__TOKEN_CACHE_VERSION)
		return fail(r, *version > GCMSG__TOKEN_CACHE_VERSION ? R_NEWER : R_RANGE);
	if (!seen[K_KIND] || !seen[K_LOGIN] || !seen[K_API] || !seen[K_CLIENT] || !seen[K_ACCESS] ||
	    !seen[K_EXPIRES])
		return fail(r, R_MISSING);
	if (e->kind != GCMSG__TOKEN_USER && e->kind != GCMSG__TOKEN_CLIENT)
		return fail(r, R_KIND);
	if (!url_ok(e->login_url) || !url_ok(e->api_url))
		return fail(r, R_URL);
	if (!gcmsg__printable(e->client_id, 256) || !gcmsg__printable(e->access_token, GCMSG__TOKEN_MAX) ||
	    (e->refresh_token && !gcmsg__printable(e->refresh_token, GCMSG__TOKEN_MAX)))
		return fail(r, R_VALUE);
	if (e->refresh_token && e->kind != GCMSG__TOKEN_USER)
		return fail(r, R_REFRESH_CLIENT);
	if (e->kind == GCMSG__TOKEN_USER ? e->secret_check != NULL : !gcmsg__printable(e->secret_check, 64))
		return fail(r, R_CHECK);
	return 0;
}

int gcmsg__token_cache_parse(gcmsg__token_entry *out, const char *data, size_t len, const char *path,
                             gcmsg__err *err)
{
	rd r;
	long long version = -1;

	memset(out, 0, sizeof(*out));
	r.p = r.start = r.line_start = data ? data : "";
	r.end = r.p + (data ? len : 0);
	r.line = 1;
	r.reason = -1;
	r.err_at = NULL;
	if (parse_object(&r, out, &version) == 0)
		return GCMSG_OK;
	gcmsg__token_entry_clear(out);
	if (r.reason == R_SYNTAX) {
		/* line and column of the failure: positions, never the bytes there */
		int col = (int)(r.err_at - r.line_start) + 1;
		gcmsg__err_set(err, GCMSG_ECONFIG, "token cache %s: not valid JSON (line %d, column %d)", path, r.line,
		               col);
	} else {
		gcmsg__err_set(err, GCMSG_ECONFIG, "token cache %s: %s", path, reasons[r.reason]);
	}
	gcmsg__err_set_fix(err, "run 'gcmsg login' again, which replaces the file (or remove it)");
	return GCMSG_ECONFIG;
}

/* ---- the writer ---- */

static size_t json_len(const char *s)
{
	size_t n = 2;

	for (; *s; s++)
		n += (*s == '"' || *s == '\\') ? 2 : 1;
	return n;
}

static char *put_json(char *o, const char *s)
{
	*o++ = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '"';
	return o;
}

char *gcmsg__token_cache_format(const gcmsg__token_entry *e)
{
	const char *names[7] = { "kind", "loginUrl", "apiUrl", "clientId", "accessToken", "refreshToken",
		                 "secretCheck" };
	const char *vals[7];
	char head[64], tail[96], *out, *o;
	size_t n, i;
	int hn, tn;

	if (!gcmsg__token_entry_valid(e))
		return NULL;
	vals[0] = e->kind == GCMSG__TOKEN_USER ? "user" : "client";
	vals[1] = e->login_url;
	vals[2] = e->api_url;
	vals[3] = e->client_id;
	vals[4] = e->access_token;
	vals[5] = e->refresh_token;
	vals[6] = e->secret_check;
	hn = snprintf(head, sizeof(head), "{\n  \"gcmsgTokenCache\": %d", GCMSG__TOKEN_CACHE_VERSION);
	tn = snprintf(tail, sizeof(tail), ",\n  \"expiresAt\": %lld,\n  \"lifetime\": %ld\n}\n", e->expires_at,
	              e->lifetime);
	n = (size_t)hn + (size_t)tn + 1;
	for (i = 0; i < 7; i++)
		if (vals[i])
			n += 4 + json_len(names[i]) + 2 + json_len(vals[i]);
	out = malloc(n);
	if (!out)
		return NULL;
	memcpy(out, head, (size_t)hn);
	o = out + hn;
	for (i = 0; i < 7; i++) {
		if (!vals[i])
			continue;
		memcpy(o, ",\n  ", 4);
		o = put_json(o + 4, names[i]);
		*o++ = ':';
		*o++ = ' ';
		o = put_json(o, vals[i]);
	}
	memcpy(o, tail, (size_t)tn + 1);
	return out;
}

/* ---- files ---- */

/* the directory part of path ("." when none), malloc'd */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return gcmsg__strdup(".");
	if (slash == path)
		return gcmsg__strdup("/");
	return gcmsg__asprintf("%.*s", (int)(slash - path), path);
}

/* mkdir -p with mode 0700 for what is missing; 0 or -1 (errno) */
static int make_dirs(const char *dir)
{
	char *p = gcmsg__strdup(dir), *s;
	struct stat st;
	int rc = 0;

	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	for (s = p + 1;; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && (errno != EEXIST || stat(p, &st) < 0 || !S_ISDIR(st.st_mode))) {
			if (errno == EEXIST)
				errno = ENOTDIR;
			rc = -1;
		}
		*s = c;
		if (c == '\0' || rc < 0)
			break;
	}
	free(p);
	return rc;
}

static int read_all(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;

	for (;;) {
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		n += (size_t)got;
		if (n == cap) {
			errno = EFBIG;
			return -1;
		}
	}
	*len = n;
	return 0;
}

int gcmsg__token_cache_read(const char *path, gcmsg__token_entry *out, gcmsg__err *err)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT) {
			gcmsg__err_set(err, GCMSG_ENOTFOUND, "no token cache %s", path);
			return GCMSG_ENOTFOUND;
		}
		gcmsg__err_set(err, GCMSG_ECONFIG, "token cache %s: %s", path,
		               e == ELOOP ? "a symbolic link, not a file gcmsg wrote" : strerror(e));
		gcmsg__err_set_fix(err, "remove %s and run 'gcmsg login' again", path);
		return GCMSG_ECONFIG;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		gcmsg__err_set(err, GCMSG_ECONFIG, "token cache %s: not a regular file", path);
		gcmsg__err_set_fix(err, "remove %s and run 'gcmsg login' again", path);
		return GCMSG_ECONFIG;
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		gcmsg__err_set(err, GCMSG_ECONFIG, "token cache %s: owned by another user (uid %u)", path,
		               (unsigned)st.st_uid);
		gcmsg__err_set_fix(err, "remove %s and run 'gcmsg login' again", path);
		return GCMSG_ECONFIG;
	}
	if (st.st_mode & 077) {
		close(fd);
		gcmsg__err_set(err, GCMSG_ECONFIG,
		               "token cache %s: its mode is %04o: group or others can access the tokens in it", path,
		               (unsigned)(st.st_mode & 07777));
		gcmsg__err_set_fix(err, "chmod 600 %s (or 'gcmsg logout' to revoke the token and remove the file)",
		                   path);
		return GCMSG_ECONFIG;
	}
	if ((size_t)st.st_size > GCMSG__TOKEN_CACHE_MAX) {
		close(fd);
		gcmsg__err_set(err, GCMSG_ECONFIG, "token cache %s: larger than %zu bytes: not a gcmsg token cache",
		               path, GCMSG__TOKEN_CACHE_MAX);
		gcmsg__err_set_fix(err, "remove %s and run 'gcmsg login' again", path);
		return GCMSG_ECONFIG;
	}
	buf = malloc(GCMSG__TOKEN_CACHE_MAX + 1);
	if (!buf) {
		close(fd);
		return gcmsg__err_set(err, GCMSG_ERROR, "out of memory");
	}
	if (read_all(fd, buf, GCMSG__TOKEN_CACHE_MAX + 1, &len) < 0) {
		int e = errno;
		close(fd);
		gcmsg__wipe(buf, GCMSG__TOKEN_CACHE_MAX + 1);
		free(buf);
		gcmsg__err_set(err, GCMSG_ECONFIG, "token cache %s: %s", path,
		               e == EFBIG ? "too large: not a gcmsg token cache" : strerror(e));
		gcmsg__err_set_fix(err, "remove %s and run 'gcmsg login' again", path);
		return GCMSG_ECONFIG;
	}
	close(fd);
	rc = gcmsg__token_cache_parse(out, buf, len, path, err);
	gcmsg__wipe(buf, len);
	free(buf);
	return rc;
}

int gcmsg__token_cache_write(const char *path, const gcmsg__token_entry *e, gcmsg__err *err)
{
	char *dir = dir_of(path), *tmp = NULL, *text = NULL;
	int fd = -1, rc = GCMSG_OK, saved, dfd;

	if (!dir)
		return gcmsg__err_set(err, GCMSG_ERROR, "out of memory");
	text = gcmsg__token_cache_format(e);
	if (!text) {
		free(dir);
		return gcmsg__err_set(err, GCMSG_ERROR, "cannot write the token cache %s: an invalid entry", path);
	}
	if (make_dirs(dir) < 0) {
		rc = gcmsg__err_set(err, GCMSG_ECONFIG, "cannot create the token cache directory %s: %s", dir,
		                    strerror(errno));
		goto done;
	}
	tmp = gcmsg__asprintf("%s/.gcmsg-token-XXXXXX", dir);
	if (!tmp) {
		rc = gcmsg__err_set(err, GCMSG_ERROR, "out of memory");
		goto done;
	}
	fd = mkstemp(tmp); /* mode 0600, O_EXCL */
	if (fd < 0) {
		rc = gcmsg__err_set(err, GCMSG_ECONFIG, "cannot write the token cache in %s: %s", dir, strerror(errno));
		goto done;
	}
	if (fchmod(fd, 0600) < 0 || gcmsg__write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		rc = gcmsg__err_set(err, GCMSG_ECONFIG, "cannot write the token cache %s: %s", path, strerror(saved));
		goto done;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		saved = errno;
		unlink(tmp);
		rc = gcmsg__err_set(err, GCMSG_ECONFIG, "cannot replace the token cache %s: %s", path, strerror(saved));
		goto done;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
done:
	gcmsg__free_secret(text);
	free(tmp);
	free(dir);
	return rc;
}

int gcmsg__token_cache_remove(const char *path, gcmsg__err *err)
{
	if (unlink(path) == 0)
		return GCMSG_OK;
	if (errno == ENOENT) {
		gcmsg__err_set(err, GCMSG_ENOTFOUND, "no token cache %s", path);
		return GCMSG_ENOTFOUND;
	}
	return gcmsg__err_set(err, GCMSG_ECONFIG, "cannot remove the token cache %s: %s", path, strerror(errno));
}

/* ---- the lock ---- */

int gcmsg__token_cache_lock(const char *path, long timeout_ms, int *out, gcmsg__err *err)
{
	char *lock = gcmsg__asprintf("%s.lock", path), *dir = dir_of(path);
	struct timespec start, now, nap;
	long waited_ms = 0, step_ms = 5;
	int fd = -1;

	*out = -1;
	if (!lock || !dir) {
		free(lock);
		free(dir);
		return gcmsg__err_set(err, GCMSG_ERROR, "out of memory");
	}
	if (make_dirs(dir) < 0) {
		gcmsg__err_set(err, GCMSG_ECONFIG, "cannot create the token cache directory %s: %s", dir,
		               strerror(errno));
		goto fail;
	}
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		gcmsg__err_set(err, GCMSG_ECONFIG, "cannot open the token cache lock %s: %s", lock, strerror(errno));
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			gcmsg__err_set(err, GCMSG_ECONFIG, "cannot lock %s: %s", lock, strerror(errno));
			goto fail;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited_ms = (long)((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
		if (waited_ms >= timeout_ms) {
			gcmsg__err_set(err, GCMSG_EAUTH,
			               "another gcmsg has been renewing the token for %ld ms (it holds %s)", waited_ms,
			               lock);
			gcmsg__err_set_fix(err, "try again; if no other gcmsg runs, check what holds %s", lock);
			goto fail;
		}
		nap.tv_sec = 0;
		nap.tv_nsec = step_ms * 1000000L;
		nanosleep(&nap, NULL);
		if (step_ms < 50)
			step_ms *= 2;
	}
	free(lock);
	free(dir);
	*out = fd;
	return GCMSG_OK;
fail:
	if (fd >= 0)
		close(fd);
	free(lock);
	free(dir);
	return err->pub.code;
}

void gcmsg__token_cache_unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

int gcmsg__token_cache_check_writable(const char *path, long timeout_ms, gcmsg__err *err)
{
	struct stat st;
	char *dir = NULL, *probe = NULL;
	int lock = -1, fd, rc;

	rc = gcmsg__token_cache_lock(path, timeout_ms, &lock, err); /* makes the directories, creates the lock */
	if (rc < 0)
		return rc;
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = gcmsg__err_set(err, GCMSG_ECONFIG, "cannot write the token cache %s: a directory is in its place",
		                    path);
		goto done;
	}
	dir = dir_of(path);
	probe = dir ? gcmsg__asprintf("%s/.gcmsg-token-XXXXXX", dir) : NULL;
	if (!probe) {
		rc = gcmsg__err_set(err, GCMSG_ERROR, "out of memory");
		goto done;
	}
	fd = mkstemp(probe); /* what a write does first */
	if (fd < 0) {
		rc = gcmsg__err_set(err, GCMSG_ECONFIG, "cannot write the token cache in %s: %s", dir, strerror(errno));
		goto done;
	}
	close(fd);
	unlink(probe);
done:
	gcmsg__token_cache_unlock(lock);
	free(probe);
	free(dir);
	return rc;
}
