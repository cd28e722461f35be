/*
 * media.c - an attachment's way to Genesys Cloud (agent messaging only):
 *   read the file (regular files only, capped) -> sniff its type -> policy
 *   -> POST {route path}/media/uploads {fileName, contentLengthBytes, contentMd5}
 *   -> PUT the bytes to uploadUrl with exactly its uploadHeaders (no Authorization)
 *   -> GET {route path}/media/{id} until valid or invalid, with a bounded backoff.
 * The route path is .../messages/{cid}/communications/{comm}/messages, so the
 * two API paths are the documented .../messages/media/uploads and
 * .../messages/media/{mediaId}.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "md5.h"
#include "mime.h"

/* Never hold more than this in memory for one attachment, whatever the policy allows. */
#define MEDIA_HARD_CAP ((unsigned long long)100 * 1024 * 1024)
/* What is read of a file too large to send, to name its type in the refusal. */
#define SNIFF_PREFIX ((size_t)64 * 1024)
#define POLL_DEFAULT_MS 30000u
#define POLL_FIRST_WAIT_MS 100u
#define POLL_MAX_WAIT_MS 2000u

typedef struct media_req {
	char *method, *url, *body;
	char **headers;
	size_t nheaders;
} media_req;

struct gcmsg_media_file {
	char *id, *file_name, *mime_type, *md5, *status, *url;
	unsigned long long size;
	media_req *reqs;
	size_t nreqs;
};

/* ---- the result ---- */

static void req_dispose(media_req *q)
{
	free(q->method);
	free(q->url);
	free(q->body);
	gcmsg__free_strv(q->headers, q->nheaders);
}

void gcmsg_media_free(gcmsg_media_file *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nreqs; i++)
		req_dispose(&m->reqs[i]);
	free(m->reqs);
	free(m->id);
	free(m->file_name);
	free(m->mime_type);
	free(m->md5);
	free(m->status);
	free(m->url);
	free(m);
}

/* A new request record at the end; NULL on OOM. */
static media_req *add_req(gcmsg_media_file *m, const char *method, char *url_owned, char *body_owned)
{
	media_req *reqs = realloc(m->reqs, (m->nreqs + 1) * sizeof(*reqs)), *q;

	if (!reqs) {
		free(url_owned);
		free(body_owned);
		return NULL;
	}
	m->reqs = reqs;
	q = &reqs[m->nreqs++];
	memset(q, 0, sizeof(*q));
	q->method = gcmsg__strdup(method);
	q->url = url_owned;
	q->body = body_owned;
	return q->method && q->url ? q : NULL;
}

static int add_header(media_req *q, const char *fmt, ...) GCMSG__PRINTF(2, 3);
static int add_header(media_req *q, const char *fmt, ...)
{
	char **h = realloc(q->headers, (q->nheaders + 1) * sizeof(char *));
	va_list ap;

	if (!h)
		return -1;
	q->headers = h;
	va_start(ap, fmt);
	h[q->nheaders] = gcmsg__vasprintf(fmt, ap);
	va_end(ap);
	return h[q->nheaders++] ? 0 : -1;
}

/* An API request as gcmsg__api makes it (the token redacted). */
static int record_api(gcmsg_media_file *m, gcmsg_client *c, const char *method, const char *path,
                      const json_t *body)
{
	char *text = body ? gcmsg__json_body(body) : NULL;
	media_req *q;

	if (body && !text)
		return -1;
	q = add_req(m, method, gcmsg__asprintf("%s%s", c->api_url, path), text);
	if (!q || add_header(q, "Authorization: Bearer <redacted>") < 0 ||
	    add_header(q, "Accept: application/json") < 0 || add_header(q, "User-Agent: gcmsg/%s", GCMSG_VERSION) < 0)
		return -1;
	if (body && add_header(q, "Content-Type: application/json") < 0)
		return -1;
	return 0;
}

/* Header names whose values we do not repeat in the record. */
static int secret_name(const char *name)
{
	static const char *const words[] = { "authorization", "token", "secret", "signature", "credential",
		                             "password", "cookie" };
	size_t i, n = strlen(name), k, w;

	for (w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		k = strlen(words[w]);
		for (i = 0; i + k <= n; i++)
			if (strncasecmp(name + i, words[w], k) == 0)
				return 1;
	}
	return 0;
}

/* ---- errors ---- */

/* Replace the explanation of the last error, keeping its code and the rest of its detail. */
static int explain(gcmsg_client *c, const char *fmt, ...) GCMSG__PRINTF(2, 3);
static int explain(gcmsg_client *c, const char *fmt, ...)
{
	va_list ap;
	char *e;

	va_start(ap, fmt);
	e = gcmsg__vasprintf(fmt, ap);
	va_end(ap);
	if (e) {
		free(c->err.explanation);
		c->err.explanation = e;
		c->err.pub.explanation = e;
	}
	return c->err.pub.code;
}

static int oom(gcmsg_client *c)
{
	return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
}

/* ---- the file ---- */

typedef struct file_data {
	unsigned char *data;
	size_t len;                /* bytes in data */
	unsigned long long size;   /* the file's size */
	int whole;                 /* data holds the whole file; else only its start */
} file_data;

static const char *kind_of(mode_t mode)
{
	if (S_ISDIR(mode))
		return "it is a directory";
	if (S_ISFIFO(mode))
		return "it is a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "it is a device";
	if (S_ISSOCK(mode))
		return "it is a socket";
	return "it is not a regular file";
}

/* read(2) until n bytes or the end; the count read, or -1 (errno set) */
static long long read_full(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (long long)got;
}

/*
 * Open without blocking (a FIFO would wait for a writer) and without following
 * into anything but a regular file; read it whole when it is at most `limit`
 * bytes, else only its start.
 */
static int read_file(gcmsg_client *c, const char *path, unsigned long long limit, file_data *f)
{
	struct stat st;
	long long got;
	size_t want;
	int fd, rc = GCMSG_OK;
	unsigned char extra;

	memset(f, 0, sizeof(*f));
	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = gcmsg__err_set(&c->err, GCMSG_EUSAGE, "cannot read %s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = gcmsg__err_set(&c->err, GCMSG_EUSAGE, "cannot read %s: %s", path, kind_of(st.st_mode));
		goto done;
	}
	f->size = (unsigned long long)st.st_size;
	f->whole = f->size <= limit;
	want = f->whole ? (size_t)f->size : SNIFF_PREFIX;
	f->data = malloc(want ? want : 1); /* an empty file is the policy's to refuse */
	if (!f->data) {
		rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory reading %s (%llu bytes)", path, f->size);
		goto done;
	}
	got = read_full(fd, f->data, want);
	if (got < 0) {
		rc = gcmsg__err_set(&c->err, GCMSG_EUSAGE, "cannot read %s: %s", path, strerror(errno));
		goto done;
	}
	f->len = (size_t)got;
	/* what is hashed and sent must be the file fstat measured */
	if (f->whole && (f->len != want || read_full(fd, &extra, 1) != 0))
		rc = gcmsg__err_set(&c->err, GCMSG_EUSAGE, "cannot read %s: it changed while being read", path);
done:
	close(fd);
	if (rc < 0) {
		free(f->data);
		memset(f, 0, sizeof(*f));
	}
	return rc;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* ---- policy ---- */

/* What is read whole: the policy's limit, within gcmsg's own. */
static unsigned long long size_limit(const gcmsg_policy *policy, const gcmsg_check_options *co)
{
	unsigned long long max = gcmsg_policy_attachment_max_bytes(policy, co);

	return max < MEDIA_HARD_CAP ? max : MEDIA_HARD_CAP;
}

static int check_policy(gcmsg_client *c, const gcmsg_policy *policy, const gcmsg_check_options *co,
                        const char *name, const char *type, unsigned long long size)
{
	gcmsg_policy_result *pr = NULL;
	int rc;

	rc = gcmsg_policy_check_attachment(&pr, policy, name, type, size, co);
	if (rc == GCMSG_EPOLICY) {
		const char *summary = pr ? gcmsg_policy_result_summary(pr) : NULL;
		gcmsg__err_set(&c->err, GCMSG_EPOLICY, "%s",
		               summary && *summary ? summary : "the attachment was refused by the content policy");
		if (pr && gcmsg_policy_result_violation_count(pr))
			gcmsg__err_set_rule(&c->err, gcmsg_policy_result_rule(pr, 0));
		gcmsg__err_set_fix(&c->err, "send a file the policy allows, or change the policy");
	} else if (rc < 0) {
		const gcmsg_error *pe = policy ? gcmsg_policy_last_error(policy) : NULL;
		gcmsg__err_set(&c->err, rc, "the attachment could not be checked against the content policy: %s",
		               pe && pe->explanation ? pe->explanation : gcmsg_strerror(rc));
	}
	gcmsg_policy_result_free(pr);
	return rc;
}

/* ---- the flow ---- */

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int refuse_route(gcmsg_client *c, const gcmsg_route *route)
{
	gcmsg_route_type kind = gcmsg_route_kind(route);
	int rc;

	if (kind == GCMSG_ROUTE_NONE) {
		rc = gcmsg__err_set(&c->err, gcmsg_route_refusal_code(route), "%s", gcmsg_route_explanation(route));
		gcmsg__err_set_rule(&c->err, gcmsg_route_rule(route));
		if (gcmsg_route_fix(route))
			gcmsg__err_set_fix(&c->err, "%s", gcmsg_route_fix(route));
		return rc;
	}
	rc = gcmsg__err_set(&c->err, GCMSG_EROUTE,
	                    "attachments go only through agent messaging; conversation %s takes the %s route, whose "
	                    "message body has no mediaIds",
	                    gcmsg_route_conversation_id(route), gcmsg_route_type_name(kind));
	gcmsg__err_set_rule(&c->err, "media.agent-only");
	gcmsg__err_set_fix(&c->err, "send the attachment with the user token of the agent connected to the "
	                            "conversation");
	return rc;
}

/* The uploadHeaders as "Name: value" lines, checked; the record gets them too (secrets masked). */
static int upload_headers(gcmsg_client *c, const json_t *obj, media_req *q, char ***lines, size_t *n)
{
	const char *key;
	json_t *v;
	char **out;
	size_t i = 0;

	*lines = NULL;
	*n = 0;
	if (!obj || json_is_null(obj))
		return GCMSG_OK;
	if (!json_is_object(obj))
		return gcmsg__err_set(&c->err, GCMSG_EREMOTE,
		                      "the media upload could not start: uploadHeaders is not an object");
	out = calloc(json_object_size(obj) + 1, sizeof(char *));
	if (!out)
		return oom(c);
	json_object_foreach((json_t *)obj, key, v) {
		const char *val = json_string_value(v);

		if (!val || !gcmsg__http_header_name_ok(key, strlen(key)) || strpbrk(val, "\r\n")) {
			gcmsg__free_strv(out, i);
			return gcmsg__err_set(&c->err, GCMSG_EREMOTE,
			                      "the media upload could not start: uploadHeaders holds an unusable header "
			                      "\"%s\" (not a single-line string)", key);
		}
		if (strcasecmp(key, "Authorization") == 0 || strcasecmp(key, "Proxy-Authorization") == 0 ||
		    strcasecmp(key, "Cookie") == 0) {
			gcmsg__free_strv(out, i);
			return gcmsg__err_set(&c->err, GCMSG_EREMOTE,
			                      "the media upload could not start: uploadHeaders asks for an \"%s\" header, "
			                      "which gcmsg never sends to an upload URL", key);
		}
		out[i] = gcmsg__asprintf("%s: %s", key, val);
		if (!out[i] || add_header(q, "%s: %s", key, secret_name(key) ? "<redacted>" : val) < 0) {
			gcmsg__free_strv(out, i + 1);
			return oom(c);
		}
		i++;
	}
	*lines = out;
	*n = i;
	return GCMSG_OK;
}

/* The printable text of <tag>...</tag> in an XML answer, capped; appended to out. */
static void xml_element(gcmsg_buf *out, const gcmsg_buf *b, const char *tag)
{
	char open[32], close[32];
	const char *s, *e;
	size_t i, n;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	s = b->ptr ? strstr(b->ptr, open) : NULL;
	if (!s)
		return;
	s += strlen(open);
	e = strstr(s, close);
	if (!e)
		return;
	n = (size_t)(e - s) < 160 ? (size_t)(e - s) : 160;
	if (out->len)
		gcmsg__buf_puts(out, ": ");
	for (i = 0; i < n; i++) {
		char ch = s[i];
		gcmsg__buf_append(out, ch >= 0x20 && ch < 0x7F ? &ch : " ", 1);
	}
}

/*
 * What an upload host said, for the error: only S3's <Code> and <Message>. The rest of such an
 * answer can echo the request's signature material (StringToSign, SignatureProvided,
 * AWSAccessKeyId), which must not reach a terminal or a log.
 */
static char *answer_snippet(const gcmsg_buf *b)
{
	gcmsg_buf out = GCMSG_BUF_INIT(512);

	xml_element(&out, b, "Code");
	xml_element(&out, b, "Message");
	return gcmsg__buf_detach(&out);
}

static int put_bytes(gcmsg_client *c, gcmsg_media_file *m, const char *upload_url, const json_t *hdrs_json,
                     const file_data *f)
{
	gcmsg__http_resp r;
	media_req *q;
	char **lines = NULL, *shown = gcmsg__url_redacted(upload_url);
	size_t n = 0;
	long timeout;
	int rc;

	if (!shown)
		return oom(c);
	q = add_req(m, "PUT", shown, NULL);
	if (!q)
		return oom(c);
	rc = upload_headers(c, hdrs_json, q, &lines, &n);
	if (rc < 0)
		return rc;
	if (add_header(q, "User-Agent: gcmsg/%s", GCMSG_VERSION) < 0 ||
	    add_header(q, "Content-Length: %llu", f->size) < 0) {
		gcmsg__free_strv(lines, n);
		return oom(c);
	}
	/* the client's timeout, plus time for the bytes at 16 KB/s or better */
	timeout = c->timeout_ms + (long)(f->size / 16);
	gcmsg__http_resp_init(&r);
	rc = gcmsg__http_foreign(c, "uploadUrl", "PUT", upload_url, (const char *const *)lines, n, f->data, f->len,
	                         timeout, &r);
	gcmsg__free_strv(lines, n);
	if (rc < 0) {
		explain(c, "the media upload failed: %s", c->err.explanation ? c->err.explanation : gcmsg_strerror(rc));
	} else if (r.status < 200 || r.status >= 300) {
		char *snippet = answer_snippet(&r.body);
		rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE, "the media upload was refused: PUT uploadUrl answered %ld",
		                    r.status);
		c->err.pub.http_status = r.status;
		if (snippet) {
			c->err.message = snippet;
			c->err.pub.message = snippet;
		}
		if (r.status == 403)
			gcmsg__err_set_fix(&c->err, "the upload URL may have expired or refused the headers; try again");
	}
	gcmsg__http_resp_dispose(&r);
	return rc;
}

static int poll_status(gcmsg_client *c, gcmsg_media_file *m, const char *poll_path, unsigned int timeout_ms)
{
	double start = gcmsg__now(), waited;
	unsigned int wait = POLL_FIRST_WAIT_MS;
	json_t *ans = NULL;
	int rc;

	for (;;) {
		const char *status, *url;

		if (record_api(m, c, "GET", poll_path, NULL) < 0)
			return oom(c);
		rc = gcmsg__api(c, "GET", poll_path, NULL, 0, &ans, NULL);
		if (rc < 0)
			return explain(c, "checking media %s failed: %s", m->id,
			               c->err.explanation ? c->err.explanation : gcmsg_strerror(rc));
		status = gcmsg__json_str(ans, "status");
		if (status && strcmp(status, "valid") == 0) {
			url = gcmsg__json_str(ans, "url");
			m->status = gcmsg__strdup("valid");
			m->url = gcmsg__strdup(url);
			json_decref(ans);
			return m->status && (!url || m->url) ? GCMSG_OK : oom(c);
		}
		if (status && strcmp(status, "invalid") == 0) {
			json_decref(ans);
			rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE, "media %s became invalid", m->id);
			gcmsg__err_set_fix(&c->err, "Genesys refused the uploaded file (its type, size or content); check "
			                            "the file and send it again");
			return rc;
		}
		if (status && strcmp(status, "uploading") != 0) {
			rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE, "media %s has the unknown status \"%s\"", m->id,
			                    status);
			json_decref(ans);
			return rc;
		}
		json_decref(ans);
		ans = NULL;
		/* uploading (or no status yet): wait, never past the deadline */
		waited = (gcmsg__now() - start) * 1000.0;
		if (waited >= (double)timeout_ms) {
			rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE, "media %s still uploading after %g s", m->id,
			                    timeout_ms / 1000.0);
			gcmsg__err_set_fix(&c->err, "try again later, or wait longer (a larger poll timeout)");
			return rc;
		}
		sleep_ms(wait < timeout_ms - (unsigned int)waited ? wait : timeout_ms - (unsigned int)waited);
		wait = wait * 2 < POLL_MAX_WAIT_MS ? wait * 2 : POLL_MAX_WAIT_MS;
	}
}

int gcmsg_media_upload(gcmsg_media_file **out, gcmsg_client *c, const gcmsg_route *route, const char *path,
                       const gcmsg_media_options *opts)
{
	static const gcmsg_media_options defaults = GCMSG_MEDIA_OPTIONS_INIT;
	const gcmsg_media_options *o = opts ? opts : &defaults;
	gcmsg_check_options co = GCMSG_CHECK_OPTIONS_INIT;
	gcmsg_media_file *m = NULL;
	file_data f = { NULL, 0, 0, 0 };
	unsigned char digest[GCMSG__MD5_LEN];
	char md5[GCMSG__MD5_BASE64_LEN + 1], *uploads_path = NULL, *poll_path = NULL, *esc = NULL;
	const char *type, *name, *id, *upload_url;
	json_t *body = NULL, *ans = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!c)
		return GCMSG_EUSAGE;
	if (!out || !route || !path || !*path)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "gcmsg_media_upload needs a result, a route and a path");
	if (o->version != GCMSG_MEDIA_OPTIONS_VERSION)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "unknown gcmsg_media_options version %u", o->version);
	if (gcmsg_route_kind(route) != GCMSG_ROUTE_AGENT_MESSAGING)
		return refuse_route(c, route);

	/* the file, its type, the policy: all before any request */
	/* the same channel and queue the text is checked against (gcmsg_send, validate) */
	co.channel = gcmsg_route_channel(route);
	co.queue_id = gcmsg_route_queue_id(route);
	rc = read_file(c, path, size_limit(o->policy, &co), &f);
	if (rc < 0)
		return rc;
	name = base_name(path);
	type = gcmsg__mime_sniff(f.data, f.len, !f.whole);
	if (!type)
		type = GCMSG__MIME_UNKNOWN;
	rc = check_policy(c, o->policy, &co, name, type, f.size);
	if (rc < 0)
		goto done;
	if (!f.whole) {
		/* the policy allows more than gcmsg will hold in memory */
		rc = gcmsg__err_set(&c->err, GCMSG_EPOLICY, "%s is %llu bytes: more than gcmsg's limit of %llu MiB for an attachment",
		                    path, f.size, MEDIA_HARD_CAP / (1024 * 1024));
		goto done;
	}
	gcmsg__md5(f.data, f.len, digest);
	gcmsg__md5_base64(digest, md5);

	m = calloc(1, sizeof(*m));
	if (!m) {
		rc = oom(c);
		goto done;
	}
	m->file_name = gcmsg__strdup(name);
	m->mime_type = gcmsg__strdup(type);
	m->md5 = gcmsg__strdup(md5);
	m->size = f.size;
	body = json_pack("{s:s, s:I, s:s}", "fileName", name, "contentLengthBytes", (json_int_t)f.size, "contentMd5",
	                 md5);
	if (!m->file_name || !m->mime_type || !m->md5) {
		rc = oom(c);
		goto done;
	}
	if (!body) {
		/* json_pack refuses only a name that is not UTF-8 here (or memory) */
		rc = gcmsg__err_set(&c->err, GCMSG_EUSAGE, "cannot send %s: its file name is not valid UTF-8", path);
		goto done;
	}
	uploads_path = gcmsg__asprintf("%s/media/uploads", gcmsg_route_path(route));
	if (!uploads_path || record_api(m, c, "POST", uploads_path, body) < 0) {
		rc = oom(c);
		goto done;
	}
	if (o->dry_run) {
		m->status = gcmsg__strdup("unchecked");
		rc = m->status ? GCMSG_OK : oom(c);
		goto done;
	}

	/* 1. ask for an upload URL */
	rc = gcmsg__api(c, "POST", uploads_path, body, 0, &ans, NULL);
	if (rc < 0) {
		explain(c, "the media upload could not start: %s",
		        c->err.explanation ? c->err.explanation : gcmsg_strerror(rc));
		goto done;
	}
	id = gcmsg__json_str(ans, "id");
	upload_url = gcmsg__json_str(ans, "uploadUrl");
	if (!id || !*id || !upload_url || !*upload_url) {
		rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE,
		                    "the media upload could not start: the answer to POST %s has no %s", uploads_path,
		                    !id || !*id ? "id" : "uploadUrl");
		goto done;
	}
	m->id = gcmsg__strdup(id);
	esc = gcmsg__path_escape(id);
	poll_path = esc ? gcmsg__asprintf("%s/media/%s", gcmsg_route_path(route), esc) : NULL;
	if (!m->id || !poll_path) {
		rc = oom(c);
		goto done;
	}

	/* 2. the bytes, 3. until valid */
	rc = put_bytes(c, m, upload_url, json_object_get(ans, "uploadHeaders"), &f);
	if (rc < 0)
		goto done;
	rc = poll_status(c, m, poll_path, o->poll_timeout_ms ? o->poll_timeout_ms : POLL_DEFAULT_MS);
done:
	json_decref(body);
	json_decref(ans);
	free(uploads_path);
	free(poll_path);
	free(esc);
	free(f.data);
	if (rc < 0) {
		gcmsg_media_free(m);
		return rc;
	}
	*out = m;
	return GCMSG_OK;
}

/* ---- accessors ---- */

const char *gcmsg_media_id(const gcmsg_media_file *m) { return m ? m->id : NULL; }
const char *gcmsg_media_file_name(const gcmsg_media_file *m) { return m ? m->file_name : NULL; }
const char *gcmsg_media_mime_type(const gcmsg_media_file *m) { return m ? m->mime_type : NULL; }
unsigned long long gcmsg_media_size(const gcmsg_media_file *m) { return m ? m->size : 0; }
const char *gcmsg_media_md5(const gcmsg_media_file *m) { return m ? m->md5 : NULL; }
const char *gcmsg_media_status(const gcmsg_media_file *m) { return m ? m->status : NULL; }
const char *gcmsg_media_url(const gcmsg_media_file *m) { return m ? m->url : NULL; }
size_t gcmsg_media_request_count(const gcmsg_media_file *m) { return m ? m->nreqs : 0; }

static const media_req *req_at(const gcmsg_media_file *m, size_t i)
{
	return m && i < m->nreqs ? &m->reqs[i] : NULL;
}

const char *gcmsg_media_request_method(const gcmsg_media_file *m, size_t i)
{
	const media_req *q = req_at(m, i);
	return q ? q->method : NULL;
}

const char *gcmsg_media_request_url(const gcmsg_media_file *m, size_t i)
{
	const media_req *q = req_at(m, i);
	return q ? q->url : NULL;
}

size_t gcmsg_media_request_header_count(const gcmsg_media_file *m, size_t i)
{
	const media_req *q = req_at(m, i);
	return q ? q->nheaders : 0;
}

const char *gcmsg_media_request_header(const gcmsg_media_file *m, size_t i, size_t j)
{
	const media_req *q = req_at(m, i);
	return q && j < q->nheaders ? q->headers[j] : NULL;
}

const char *gcmsg_media_request_body(const gcmsg_media_file *m, size_t i)
{
	const media_req *q = req_at(m, i);
	return q ? q->body : NULL;
}
