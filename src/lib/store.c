/*
 * store.c - gcmsg_store: the location, the file's safety checks (0700
 * directories, 0600 files, refusing a file others can read), the backend
 * choice, the rows described once (store_rows.h: the row kinds, the row
 * helpers and the row lists), the wall clock and the host name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_rows.h"

/* ---- clock and host ---- */

long long gcmsg__wall_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (long long)time(NULL) * 1000;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char host_name[256];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void host_name_init(void)
{
	if (gethostname(host_name, sizeof(host_name)) != 0)
		host_name[0] = '\0';
	host_name[sizeof(host_name) - 1] = '\0';
}

const char *gcmsg__host_name(void)
{
	pthread_once(&host_once, host_name_init);
	return host_name;
}

/* ---- rows ---- */

#define FIELD(row, member, type, none) { #member, offsetof(row, member), GCMSG__FIELD_##type, none }
#define OUTBOX(member, type) FIELD(gcmsg__outbox_row, member, type, 0)
#define AUDIT(member, type) FIELD(gcmsg__audit_rec, member, type, 0)
#define WEBHOOK(member, type) FIELD(gcmsg__webhook_row, member, type, 0)

/* In the column order of the tables (store_sqlite.c's schema). */
static const gcmsg__field outbox_fields[] = {
	OUTBOX(key, TEXT), OUTBOX(state, STATE), OUTBOX(conversation_id, TEXT), OUTBOX(communication_id, TEXT),
	OUTBOX(route, TEXT), OUTBOX(channel, TEXT), OUTBOX(path, TEXT), OUTBOX(body, SECRET),
	OUTBOX(body_sha256, TEXT), OUTBOX(match_text, SECRET), OUTBOX(media_id, TEXT), OUTBOX(text_sha256, TEXT),
	OUTBOX(response_id, TEXT), OUTBOX(library_id, TEXT), FIELD(gcmsg__outbox_row, response_version, LONG, -1),
	OUTBOX(source, TEXT), OUTBOX(who, TEXT), OUTBOX(created_ms, LLONG), OUTBOX(updated_ms, LLONG),
	OUTBOX(first_attempt_ms, LLONG), OUTBOX(next_attempt_ms, LLONG), OUTBOX(attempts, INT),
	OUTBOX(message_id, TEXT), OUTBOX(error_code, TEXT), OUTBOX(correlation_id, TEXT), OUTBOX(last_error, TEXT),
	OUTBOX(http_status, LONG), OUTBOX(claim_pid, LONG), OUTBOX(claim_host, TEXT), OUTBOX(claim_ms, LLONG),
};

static const gcmsg__field audit_fields[] = {
	AUDIT(id, LLONG), AUDIT(time_ms, LLONG), AUDIT(event, TEXT), AUDIT(outcome, TEXT), AUDIT(key, TEXT),
	AUDIT(who, TEXT), AUDIT(route, TEXT), AUDIT(conversation_id, TEXT), AUDIT(communication_id, TEXT),
	AUDIT(response_id, TEXT), AUDIT(library_id, TEXT), FIELD(gcmsg__audit_rec, response_version, LONG, -1),
	AUDIT(channel, TEXT), AUDIT(source, TEXT), AUDIT(http_status, LONG), AUDIT(error_code, TEXT),
	AUDIT(correlation_id, TEXT), AUDIT(attempt, INT), AUDIT(latency_ms, LLONG), AUDIT(message_id, TEXT),
	AUDIT(text_sha256, TEXT), AUDIT(text, SECRET), AUDIT(detail, TEXT),
};

static const gcmsg__field webhook_fields[] = {
	WEBHOOK(id, LLONG), WEBHOOK(hook, TEXT), WEBHOOK(event_id, TEXT), WEBHOOK(body, SECRET),
	WEBHOOK(created_ms, LLONG), WEBHOOK(next_attempt_ms, LLONG), WEBHOOK(attempts, INT),
	WEBHOOK(delivered, BOOL), WEBHOOK(last_status, LONG), WEBHOOK(last_error, TEXT),
};

#define KIND(row, fields) { sizeof(row), fields, sizeof(fields) / sizeof(fields[0]) }
const gcmsg__row_kind gcmsg__outbox_kind = KIND(gcmsg__outbox_row, outbox_fields);
const gcmsg__row_kind gcmsg__audit_kind = KIND(gcmsg__audit_rec, audit_fields);
const gcmsg__row_kind gcmsg__webhook_kind = KIND(gcmsg__webhook_row, webhook_fields);

static int is_text(const gcmsg__field *f)
{
	return f->type == GCMSG__FIELD_TEXT || f->type == GCMSG__FIELD_SECRET;
}

static char **text_at(const gcmsg__field *f, void *row)
{
	return (char **)(void *)((unsigned char *)row + f->offset);
}

const char *gcmsg__field_text(const gcmsg__field *f, const void *row)
{
	return *(char *const *)(const void *)((const unsigned char *)row + f->offset);
}

void gcmsg__field_set_text(const gcmsg__field *f, void *row, char *s)
{
	*text_at(f, row) = s;
}

long long gcmsg__field_int(const gcmsg__field *f, const void *row)
{
	const void *p = (const unsigned char *)row + f->offset;

	switch (f->type) {
	case GCMSG__FIELD_INT:
		return *(const int *)p;
	case GCMSG__FIELD_BOOL:
		return *(const int *)p != 0;
	case GCMSG__FIELD_LONG:
		return *(const long *)p;
	case GCMSG__FIELD_LLONG:
		return *(const long long *)p;
	case GCMSG__FIELD_STATE:
		return (long long)*(const gcmsg_outbox_state *)p;
	default:
		return 0;
	}
}

void gcmsg__field_set_int(const gcmsg__field *f, void *row, long long v)
{
	void *p = (unsigned char *)row + f->offset;

	switch (f->type) {
	case GCMSG__FIELD_INT:
	case GCMSG__FIELD_BOOL:
		*(int *)p = (int)v;
		break;
	case GCMSG__FIELD_LONG:
		*(long *)p = (long)v;
		break;
	case GCMSG__FIELD_LLONG:
		*(long long *)p = v;
		break;
	case GCMSG__FIELD_STATE:
		*(gcmsg_outbox_state *)p = (gcmsg_outbox_state)v;
		break;
	default:
		break;
	}
}

/* Every number at its value in a new row, every text NULL. */
static void row_init(const gcmsg__row_kind *k, void *row)
{
	size_t i;

	memset(row, 0, k->size);
	for (i = 0; i < k->count; i++)
		if (!is_text(&k->fields[i]) && k->fields[i].none)
			gcmsg__field_set_int(&k->fields[i], row, k->fields[i].none);
}

/* Free every text (secrets zeroed first); the members are left dangling. */
static void free_texts(const gcmsg__row_kind *k, void *row)
{
	size_t i;

	for (i = 0; i < k->count; i++) {
		if (k->fields[i].type == GCMSG__FIELD_SECRET)
			gcmsg__free_secret(*text_at(&k->fields[i], row));
		else if (k->fields[i].type == GCMSG__FIELD_TEXT)
			free(*text_at(&k->fields[i], row));
	}
}

static void row_dispose(const gcmsg__row_kind *k, void *row)
{
	if (!row)
		return;
	free_texts(k, row);
	row_init(k, row);
}

/* Copy src into d, which holds no text of its own; on out of memory d is left initialised. */
static int row_copy(const gcmsg__row_kind *k, void *d, const void *src)
{
	size_t i;
	int ok = 1;

	memcpy(d, src, k->size); /* the numbers; every text is replaced below */
	for (i = 0; i < k->count; i++) {
		char **t;
		if (!is_text(&k->fields[i]))
			continue;
		t = text_at(&k->fields[i], d);
		if (*t && !(*t = gcmsg__strdup(*t)))
			ok = 0;
	}
	if (!ok) {
		row_dispose(k, d);
		return GCMSG_ERROR;
	}
	return GCMSG_OK;
}

/* The typed row helpers of store.h: ROW_init, ROW_dispose and ROW_copy of each row struct ROW. */
#define ROW_HELPERS(ROW, kind) \
	void ROW##_init(ROW *r) \
	{ \
		row_init(&kind, r); \
	} \
	void ROW##_dispose(ROW *r) \
	{ \
		row_dispose(&kind, r); \
	} \
	int ROW##_copy(ROW *d, const ROW *s) \
	{ \
		ROW##_dispose(d); \
		return row_copy(&kind, d, s); \
	}

ROW_HELPERS(gcmsg__outbox_row, gcmsg__outbox_kind)
ROW_HELPERS(gcmsg__audit_rec, gcmsg__audit_kind)
ROW_HELPERS(gcmsg__webhook_row, gcmsg__webhook_kind)

/* ---- row lists ---- */

int gcmsg__row_list_add(gcmsg__row_list *l, const void *row)
{
	size_t size = l->kind->size;

	if (l->count == l->alloc) {
		size_t n = l->alloc ? l->alloc * 2 : 16;
		unsigned char *p;
		if (n > ((size_t)-1) / size || !(p = realloc(l->items, n * size)))
			return gcmsg__err_set(l->err, GCMSG_ERROR, "out of memory");
		l->items = p;
		l->alloc = n;
	}
	if (row_copy(l->kind, l->items + l->count * size, row) < 0)
		return gcmsg__err_set(l->err, GCMSG_ERROR, "out of memory");
	l->count++;
	return 0;
}

const void *gcmsg__row_list_at(const gcmsg__row_list *l, size_t i)
{
	return i < l->count ? l->items + i * l->kind->size : NULL;
}

void gcmsg__row_list_dispose(gcmsg__row_list *l)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		free_texts(l->kind, l->items + i * l->kind->size);
	free(l->items);
	l->items = NULL;
	l->count = l->alloc = 0;
}

void gcmsg__hooks_free(gcmsg__hook *hooks, size_t n)
{
	size_t i;

	if (!hooks)
		return;
	for (i = 0; i < n; i++) {
		free(hooks[i].name);
		free(hooks[i].url);
		gcmsg__free_secret(hooks[i].secret);
	}
	free(hooks);
}

/* ---- the file ---- */

/* mkdir -p of the parents of path, each missing one created 0700; 0 or -1 with errno. */
static int make_parent_dirs(const char *path)
{
	char *p = gcmsg__strdup(path), *s, *last;
	struct stat st;
	int rc = 0;

	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	last = strrchr(p, '/');
	if (!last || last == p) {
		free(p);
		return 0; /* the current directory or / */
	}
	*last = '\0';
	for (s = p + 1; rc == 0; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (s > p && s[-1] != '/') {
			if (mkdir(p, 0700) == 0) {
				if (chmod(p, 0700) < 0) /* whatever the umask */
					rc = -1;
			} else if (errno != EEXIST || stat(p, &st) < 0) {
				rc = -1;
			} else if (!S_ISDIR(st.st_mode)) {
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

/* An existing file (the store, its -wal or -shm) must be a regular file nobody else can read. */
static int check_existing(gcmsg_store *s, const char *file, const char *path)
{
	struct stat st;

	if (stat(file, &st) < 0) {
		if (errno == ENOENT)
			return GCMSG_OK;
		return gcmsg__err_set(&s->err, GCMSG_ECONFIG, "cannot use store %s: %s", file, strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return gcmsg__err_set(&s->err, GCMSG_ECONFIG, "store %s is not a regular file", file);
	if (st.st_mode & 077) {
		gcmsg__err_set(&s->err, GCMSG_ECONFIG,
		               "store %s has mode %04o: group or others can access it (it holds message "
		               "bodies and the audit log)",
		               file, (unsigned)(st.st_mode & 07777));
		if (strcmp(file, path) == 0)
			gcmsg__err_set_fix(&s->err, "chmod 600 %s", file);
		else
			gcmsg__err_set_fix(&s->err, "chmod 600 %s %s", path, file);
		return GCMSG_ECONFIG;
	}
	return GCMSG_OK;
}

static int prepare_file(gcmsg_store *s, const char *path)
{
	static const char *const suffixes[] = { "-wal", "-shm", "-journal" };
	size_t i;
	int fd, rc;

	if (make_parent_dirs(path) < 0)
		return gcmsg__err_set(&s->err, GCMSG_ECONFIG, "cannot create the directory of store %s: %s", path,
		                      strerror(errno));
	/*
	 * A new file is created here, 0600 whatever the umask, before SQLite
	 * opens it; SQLite then gives its -wal and -shm files the database
	 * file's mode.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		if (fchmod(fd, 0600) < 0) {
			rc = gcmsg__err_set(&s->err, GCMSG_ECONFIG, "cannot set the mode of store %s: %s", path,
			                    strerror(errno));
			close(fd);
			return rc;
		}
		close(fd);
	} else if (errno != EEXIST) {
		return gcmsg__err_set(&s->err, GCMSG_ECONFIG, "cannot create store %s: %s", path, strerror(errno));
	}
	if ((rc = check_existing(s, path, path)) < 0)
		return rc;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *side = gcmsg__asprintf("%s%s", path, suffixes[i]);
		if (!side)
			return gcmsg__err_set(&s->err, GCMSG_ERROR, "out of memory");
		rc = check_existing(s, side, path);
		free(side);
		if (rc < 0)
			return rc;
	}
	return GCMSG_OK;
}

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A "scheme://" prefix: letters, digits, '+', '-', '.' then "://". */
static int has_scheme(const char *s)
{
	const char *p = s;

	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+' ||
	       *p == '-' || *p == '.')
		p++;
	return p > s && strncmp(p, "://", 3) == 0;
}

int gcmsg_store_open(gcmsg_store **out, const char *location, const gcmsg_store_options *opts)
{
	gcmsg_store_options defaults = GCMSG_STORE_OPTIONS_INIT;
	gcmsg_store *s;
	const char *path;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return GCMSG_ERROR;
	gcmsg__err_init(&s->err);
	*out = s;
	if (!opts)
		opts = &defaults;
	if (opts->version != GCMSG_STORE_OPTIONS_VERSION)
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "unknown gcmsg_store_options version %u",
		                      opts->version);
	if (opts->busy_timeout_ms < 0)
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "busy_timeout_ms must not be negative");
	if (!location || !*location)
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "no store location given");
	s->audit_text = opts->audit_text != 0;
	s->busy_timeout_ms = opts->busy_timeout_ms;
	if (!(s->location = gcmsg__strdup(location)))
		return gcmsg__err_set(&s->err, GCMSG_ERROR, "out of memory");

	if (has_prefix(location, "postgresql://") || has_prefix(location, "postgres://")) {
		rc = gcmsg__err_set(&s->err, GCMSG_ECONFIG,
		                    "the PostgreSQL store is not built in this version");
		gcmsg__err_set_fix(&s->err, "use a file path (SQLite) as the store");
		return rc;
	}
	path = has_prefix(location, "sqlite:") ? location + strlen("sqlite:") : location;
	if (has_scheme(path)) {
		rc = gcmsg__err_set(&s->err, GCMSG_ECONFIG, "unknown store location '%s'", location);
		gcmsg__err_set_fix(&s->err, "give a file path, or sqlite:PATH");
		return rc;
	}
	if (!*path)
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "no path in store location '%s'", location);
	if (strlen(path) >= PATH_MAX)
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "store path too long");
	if ((rc = prepare_file(s, path)) < 0)
		return rc;
	return gcmsg__store_sqlite_open(&s->backend, &s->ops, path, opts, &s->err);
}

int gcmsg__store_reopen(gcmsg_store **out, gcmsg_store *s)
{
	gcmsg_store_options o = GCMSG_STORE_OPTIONS_INIT;
	gcmsg_webhook *hooks = NULL;
	size_t i;
	int rc;

	o.audit_text = s->audit_text;
	o.busy_timeout_ms = s->busy_timeout_ms;
	if ((rc = gcmsg_store_open(out, s->location, &o)) < 0 || !s->nhooks)
		return rc;
	if (!(hooks = calloc(s->nhooks, sizeof(*hooks))))
		return gcmsg__err_set(&(*out)->err, GCMSG_ERROR, "out of memory");
	for (i = 0; i < s->nhooks; i++) {
		hooks[i].name = s->hooks[i].name;
		hooks[i].url = s->hooks[i].url;
		hooks[i].secret = s->hooks[i].secret;
		hooks[i].events = s->hooks[i].events;
	}
	rc = gcmsg_store_set_webhooks(*out, hooks, s->nhooks);
	free(hooks);
	return rc;
}

void gcmsg_store_free(gcmsg_store *s)
{
	if (!s)
		return;
	if (s->ops && s->backend)
		s->ops->close(s->backend);
	gcmsg__hooks_free(s->hooks, s->nhooks);
	free(s->location);
	gcmsg__err_clear(&s->err);
	free(s);
}

int gcmsg__store_ready(gcmsg_store *s)
{
	if (!s)
		return GCMSG_EUSAGE;
	if (!s->ops)
		return gcmsg__err_set(&s->err, GCMSG_EUSAGE, "the store is not open");
	return GCMSG_OK;
}

const gcmsg_error *gcmsg_store_last_error(const gcmsg_store *s)
{
	return s ? &s->err.pub : NULL;
}

const char *gcmsg_store_backend_name(const gcmsg_store *s)
{
	return s && s->ops ? s->ops->name : NULL;
}
