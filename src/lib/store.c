/*
 * store.c - gcmsg_store: the location, the file's safety checks (0700
 * directories, 0600 files, refusing a file others can read), the backend
 * choice, the row helpers shared by the generic files, the wall clock and
 * the host name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

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

void gcmsg__outbox_row_init(gcmsg__outbox_row *r)
{
	memset(r, 0, sizeof(*r));
	r->state = GCMSG_OUTBOX_PENDING;
	r->response_version = -1;
}

void gcmsg__outbox_row_dispose(gcmsg__outbox_row *r)
{
	if (!r)
		return;
	free(r->key);
	free(r->conversation_id);
	free(r->communication_id);
	free(r->route);
	free(r->channel);
	free(r->path);
	gcmsg__free_secret(r->body);
	free(r->body_sha256);
	gcmsg__free_secret(r->match_text);
	free(r->media_id);
	free(r->text_sha256);
	free(r->response_id);
	free(r->library_id);
	free(r->source);
	free(r->who);
	free(r->message_id);
	free(r->error_code);
	free(r->correlation_id);
	free(r->last_error);
	free(r->claim_host);
	gcmsg__outbox_row_init(r);
}

void gcmsg__audit_rec_init(gcmsg__audit_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->response_version = -1;
}

void gcmsg__audit_rec_dispose(gcmsg__audit_rec *r)
{
	if (!r)
		return;
	free(r->event);
	free(r->outcome);
	free(r->key);
	free(r->who);
	free(r->route);
	free(r->conversation_id);
	free(r->communication_id);
	free(r->response_id);
	free(r->library_id);
	free(r->channel);
	free(r->source);
	free(r->error_code);
	free(r->correlation_id);
	free(r->message_id);
	free(r->text_sha256);
	gcmsg__free_secret(r->text);
	free(r->detail);
	gcmsg__audit_rec_init(r);
}

void gcmsg__webhook_row_init(gcmsg__webhook_row *r)
{
	memset(r, 0, sizeof(*r));
}

void gcmsg__webhook_row_dispose(gcmsg__webhook_row *r)
{
	if (!r)
		return;
	free(r->hook);
	free(r->event_id);
	gcmsg__free_secret(r->body);
	free(r->last_error);
	gcmsg__webhook_row_init(r);
}

/* Copy one string member; *ok cleared on out of memory. */
static char *dup_field(const char *s, int *ok)
{
	char *p;

	if (!s)
		return NULL;
	if (!(p = gcmsg__strdup(s)))
		*ok = 0;
	return p;
}

int gcmsg__outbox_row_copy(gcmsg__outbox_row *d, const gcmsg__outbox_row *s)
{
	int ok = 1;

	gcmsg__outbox_row_dispose(d);
	*d = *s; /* the scalars; every string is replaced below */
	d->key = dup_field(s->key, &ok);
	d->conversation_id = dup_field(s->conversation_id, &ok);
	d->communication_id = dup_field(s->communication_id, &ok);
	d->route = dup_field(s->route, &ok);
	d->channel = dup_field(s->channel, &ok);
	d->path = dup_field(s->path, &ok);
	d->body = dup_field(s->body, &ok);
	d->body_sha256 = dup_field(s->body_sha256, &ok);
	d->match_text = dup_field(s->match_text, &ok);
	d->media_id = dup_field(s->media_id, &ok);
	d->text_sha256 = dup_field(s->text_sha256, &ok);
	d->response_id = dup_field(s->response_id, &ok);
	d->library_id = dup_field(s->library_id, &ok);
	d->source = dup_field(s->source, &ok);
	d->who = dup_field(s->who, &ok);
	d->message_id = dup_field(s->message_id, &ok);
	d->error_code = dup_field(s->error_code, &ok);
	d->correlation_id = dup_field(s->correlation_id, &ok);
	d->last_error = dup_field(s->last_error, &ok);
	d->claim_host = dup_field(s->claim_host, &ok);
	if (!ok) {
		gcmsg__outbox_row_dispose(d);
		return GCMSG_ERROR;
	}
	return GCMSG_OK;
}

int gcmsg__audit_rec_copy(gcmsg__audit_rec *d, const gcmsg__audit_rec *s)
{
	int ok = 1;

	gcmsg__audit_rec_dispose(d);
	*d = *s;
	d->event = dup_field(s->event, &ok);
	d->outcome = dup_field(s->outcome, &ok);
	d->key = dup_field(s->key, &ok);
	d->who = dup_field(s->who, &ok);
	d->route = dup_field(s->route, &ok);
	d->conversation_id = dup_field(s->conversation_id, &ok);
	d->communication_id = dup_field(s->communication_id, &ok);
	d->response_id = dup_field(s->response_id, &ok);
	d->library_id = dup_field(s->library_id, &ok);
	d->channel = dup_field(s->channel, &ok);
	d->source = dup_field(s->source, &ok);
	d->error_code = dup_field(s->error_code, &ok);
	d->correlation_id = dup_field(s->correlation_id, &ok);
	d->message_id = dup_field(s->message_id, &ok);
	d->text_sha256 = dup_field(s->text_sha256, &ok);
	d->text = dup_field(s->text, &ok);
	d->detail = dup_field(s->detail, &ok);
	if (!ok) {
		gcmsg__audit_rec_dispose(d);
		return GCMSG_ERROR;
	}
	return GCMSG_OK;
}

int gcmsg__webhook_row_copy(gcmsg__webhook_row *d, const gcmsg__webhook_row *s)
{
	int ok = 1;

	gcmsg__webhook_row_dispose(d);
	*d = *s;
	d->hook = dup_field(s->hook, &ok);
	d->event_id = dup_field(s->event_id, &ok);
	d->body = dup_field(s->body, &ok);
	d->last_error = dup_field(s->last_error, &ok);
	if (!ok) {
		gcmsg__webhook_row_dispose(d);
		return GCMSG_ERROR;
	}
	return GCMSG_OK;
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

const gcmsg_error *gcmsg_store_last_error(const gcmsg_store *s)
{
	return s ? &s->err.pub : NULL;
}

const char *gcmsg_store_backend_name(const gcmsg_store *s)
{
	return s && s->ops ? s->ops->name : NULL;
}
