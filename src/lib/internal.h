/* internal.h - private structures and helpers shared by the library's files. */
#ifndef GCMSG_INTERNAL_H
#define GCMSG_INTERNAL_H

#include <stdarg.h>
#include <pthread.h>

#include <curl/curl.h>
#include <jansson.h>

#include "gcmsg/gcmsg.h"
#include "buf.h"

#define GCMSG__BODY_CAP ((size_t)4 * 1024 * 1024) /* HTTP bodies */
#define GCMSG__HEADER_CAP ((size_t)8 * 1024)      /* one header value */

#if defined(__GNUC__)
#define GCMSG__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GCMSG__PRINTF(a, b)
#endif

/* ---- strings (util.c) ---- */
char *gcmsg__strdup(const char *s);                         /* NULL-safe */
char *gcmsg__asprintf(const char *fmt, ...) GCMSG__PRINTF(1, 2); /* NULL on OOM */
char *gcmsg__vasprintf(const char *fmt, va_list ap) GCMSG__PRINTF(1, 0);
void gcmsg__free_secret(char *s);                            /* zero, then free */
/* Percent-encode one path segment (RFC 3986 unreserved kept). */
char *gcmsg__path_escape(const char *segment);
/* Borrowed string member of a JSON object, or NULL when absent or not a string. */
const char *gcmsg__json_str(const json_t *obj, const char *key);
void gcmsg__free_strv(char **v, size_t n);
/* write(2) until all of data is written (EINTR resumed); 0, or -1 with errno. */
int gcmsg__write_all(int fd, const void *data, size_t len);

/* ---- error detail (error.c) ---- */
typedef struct gcmsg__err {
	gcmsg_error pub;
	char *genesys_code, *message, *correlation_id, *details, *explanation, *fix, *rule;
	char **keys, **values;
	size_t nparams;
} gcmsg__err;

void gcmsg__err_init(gcmsg__err *e);
void gcmsg__err_clear(gcmsg__err *e);
/* dst becomes a deep copy of src (a string that cannot be copied is left out); returns its code. */
int gcmsg__err_copy(gcmsg__err *dst, const gcmsg__err *src);
/* Set code and explanation (printf); returns code. Clears what was there. */
int gcmsg__err_set(gcmsg__err *e, int code, const char *fmt, ...) GCMSG__PRINTF(3, 4);
void gcmsg__err_set_fix(gcmsg__err *e, const char *fmt, ...) GCMSG__PRINTF(2, 3);
/* An error in a file people write: "FILE: line N: what" ("FILE: what" when line <= 0). */
int gcmsg__err_vset_at(gcmsg__err *e, int code, const char *file, int line, const char *fmt, va_list ap)
	GCMSG__PRINTF(5, 0);
void gcmsg__err_set_rule(gcmsg__err *e, const char *rule);
/* 401 EAUTH, 403 EPERM, 404 ENOTFOUND, 429 ERATELIMIT, other >= 400 EREMOTE, 2xx OK. */
int gcmsg__status_to_code(long status);
/*
 * Fill from an HTTP answer: status, ErrorBody fields (code, message,
 * messageParams, contextId, details[]), correlation id (header wins), and
 * retry-after. Clears what was there first; returns the mapped code.
 * A body that is not an ErrorBody is tolerated (message stays NULL).
 */
int gcmsg__err_from_http(gcmsg__err *e, long status, const char *body, size_t len,
                         const char *correlation_header, long retry_after);

/* ---- identity (identity.c) ---- */
struct gcmsg_identity {
	gcmsg_caller_kind kind;
	char *user_id, *user_name, *preferred_name, *client_id, *client_name, *org_id, *org_name;
	int perms_known;
	char **perms;
	size_t nperms;
};
/* For tests and whoami: perms may be NULL (unknown) */
gcmsg_identity *gcmsg__identity_new(gcmsg_caller_kind kind, const char *user_id, const char *user_name,
                                    const char *client_id, const char *const *perms, size_t nperms,
                                    int perms_known);
void gcmsg__identity_free(gcmsg_identity *id);
/* "user:<id>" or "client:<id>" as the outbox and audit log record the caller; NULL when unknown or OOM. */
char *gcmsg__identity_who(const gcmsg_identity *id);

/* ---- conversation (conversation.c) ---- */
struct gcmsg_participant {
	char *id, *purpose, *name, *user_id, *queue_id, *address;
	gcmsg_media media;
	char *comm_id, *state, *platform, *from_address, *to_address, *provider;
	char **attr_keys, **attr_values;
	size_t nattrs;
};

struct gcmsg_conversation {
	char *id, *platform, *start_time, *end_time, *state;
	gcmsg_media media;
	gcmsg_participant *parts;
	size_t nparts;
};

/* Parse a Conversation document. On failure returns GCMSG_EREMOTE and a reason in err. */
int gcmsg__conversation_parse(gcmsg_conversation **out, const json_t *root, char *err, size_t errlen);
/* Merge ChatConversation participants' provider into the parsed conversation. */
void gcmsg__conversation_merge_chat(gcmsg_conversation *conv, const json_t *chat_conversation);

/* ---- route (route.c) ---- */
/*
 * The pure decision: (conversation, identity) -> route. Takes ownership of
 * conv (freed with the route, or on failure). GCMSG_ERROR on out of memory.
 */
int gcmsg__route_decide(gcmsg_route **out, gcmsg_conversation *conv, const gcmsg_identity *identity);
/* Permission match with `*` wildcards per segment ("conversation:*:*"). */
int gcmsg__permission_matches(const char *granted, const char *wanted);

/* ---- HTTP (http.c) ---- */
typedef struct gcmsg__http_resp {
	long status;
	gcmsg_buf body;
	char correlation_id[128];
	char rl_count[32], rl_allowed[32], rl_reset[32];
	long retry_after;
	/*
	 * Issue 5 (retries): could the request have reached the server? 1 once an
	 * answer came, and after failures that may follow the request going out
	 * (timeout, reset, empty reply); 0 when it provably never left (resolving
	 * or connecting failed, the TLS handshake failed, a timeout before the
	 * connection was made). Set by gcmsg__http_perform.
	 */
	int sent_maybe;
	/*
	 * The answer's Date header (ms since the epoch, -1: none or unreadable),
	 * and our wall clock when the request started and when the answer was in:
	 * the server's clock minus ours lies in
	 * [date_ms - recv_wall_ms, date_ms + 1000 - sent_wall_ms] (Date has whole seconds).
	 */
	long long date_ms, sent_wall_ms, recv_wall_ms;
	long long retry_after_date_ms; /* a Retry-After given as an HTTP-date (-1: none); retry_after has it in s */
} gcmsg__http_resp;

/* An HTTP-date (RFC 9110 §5.6.7: IMF-fixdate, RFC 850, asctime) to ms since the epoch; -1 when it is not one. */
long long gcmsg__http_date_ms(const char *s);
/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
long long gcmsg__days_from_civil(long long y, int m, int d);

/*
 * A request outside the API (a presigned upload URL): no Authorization ever
 * (a bearer or Basic credentials are refused), no Accept of ours, and the URL's
 * query (a presigned URL's signature) left out of the log and of error messages.
 */
#define GCMSG__HTTP_FOREIGN 1u

typedef struct gcmsg__http_req {
	const char *method;     /* "GET", "POST", "PUT", ... */
	const char *url;
	const char *bearer;     /* token for Authorization: Bearer, or NULL */
	const char *basic_user; /* HTTP Basic credentials, or NULL */
	const char *basic_pass;
	const char *content_type;
	const char *body;       /* NULL: no body; any bytes (body_len of them) */
	size_t body_len;
	/* Version 2 fields: zero keeps the old behaviour (callers memset the struct). */
	const char *const *headers; /* extra "Name: value" lines, sent as given */
	size_t nheaders;
	unsigned flags;         /* GCMSG__HTTP_* */
	long timeout_ms;        /* whole request; 0: the client's */
} gcmsg__http_req;

void gcmsg__http_resp_init(gcmsg__http_resp *r);
void gcmsg__http_resp_dispose(gcmsg__http_resp *r);
/*
 * GCMSG_OK when an answer arrived (any status); GCMSG_EREMOTE on a network failure;
 * GCMSG_EUSAGE for a header that is not "Name: value" on one line, or a FOREIGN
 * request with credentials or an Authorization/Proxy-Authorization/Cookie header.
 */
int gcmsg__http_perform(gcmsg_client *c, const gcmsg__http_req *req, gcmsg__http_resp *resp);
/*
 * Call a URL outside the API (GCMSG__HTTP_FOREIGN): never an Authorization
 * header. The URL must be https, or http when the client's API URL is http
 * itself (a local gcsim): else GCMSG_EREMOTE (the server handed out an unsafe
 * URL) naming `what` (e.g. "uploadUrl"). Status and headers land in resp.
 */
int gcmsg__http_foreign(gcmsg_client *c, const char *what, const char *method, const char *url,
                        const char *const *headers, size_t nheaders, const void *body, size_t len,
                        long timeout_ms, gcmsg__http_resp *resp);
/* Is name[0..len) an HTTP header name (an RFC 9110 token)? */
int gcmsg__http_header_name_ok(const char *name, size_t len);
/* The URL without its query and fragment ("?<redacted>" in their place); NULL on OOM. */
char *gcmsg__url_redacted(const char *url);
void gcmsg__log(gcmsg_client *c, const char *fmt, ...) GCMSG__PRINTF(2, 3);

/*
 * Concurrent senders (bulk.c): their requests run on one thread that owns a
 * libcurl multi handle (transport.c); perform hands it the easy handle and
 * waits for the transfer's end. One connection pool, HTTP/2 multiplexing.
 */
struct gcmsg__transport;
CURLcode gcmsg__transport_perform(struct gcmsg__transport *t, CURL *h);

/*
 * What the clients of concurrent senders share with the client they were
 * forked from (client.c, auth.c, pacer.c): its token (renewed on the parent,
 * under mu, so one renewal serves all) and one rate limiter for that token.
 */
typedef struct gcmsg__shared {
	pthread_mutex_t mu;
	gcmsg_client *parent;
	struct gcmsg__pacer *pacer; /* NULL until the first answer with inin-ratelimit-* headers */
	struct gcmsg__pace_waiter *wait_head, *wait_tail; /* senders waiting for a turn, first come first served */
	long long requests, throttled; /* answers seen, and how many were 429 */
} gcmsg__shared;

/* ---- client (client.c) ---- */
struct gcmsg_client {
	gcmsg__err err;
	char *api_url, *login_url, *client_id, *client_secret, *cacert;
	long connect_timeout_ms, timeout_ms;
	gcmsg_log_cb log;
	void *log_payload;
	CURL *curl;
	char curl_errbuf[CURL_ERROR_SIZE];
	int configured;
	/* token (auth.c) */
	char *token;
	int token_passthrough;
	double token_expires_at; /* monotonic seconds; 0 = unknown/never */
	long token_lifetime;
	char *refresh_token;     /* from a code (login) grant; renewals use it (auth.c) */
	char *token_cache;       /* the token cache file, or NULL (token_cache.c) */
	gcmsg_identity *identity;
	/* retries and pacing (retry.c, pacer.c) */
	gcmsg_retry_policy retry;  /* defaults filled in */
	int no_pacing;
	struct gcmsg__pacer *pacer; /* NULL until the first answer with inin-ratelimit-* headers */
	/* a client forked for a concurrent sender (gcmsg__client_fork); NULL otherwise */
	gcmsg__shared *shared;
	struct gcmsg__transport *transport;
	int identity_borrowed; /* identity belongs to the parent */
};

/*
 * A client for one concurrent sender: the parent's settings, its own easy
 * handle, requests through transport, token, identity and pacer shared with
 * the parent through sh (see gcmsg__shared). The parent must outlive it and
 * must not be used otherwise meanwhile.
 */
int gcmsg__client_fork(gcmsg_client **out, gcmsg_client *parent, gcmsg__shared *sh, struct gcmsg__transport *t);

/*
 * gcmsg_client_new without credentials: URLs, CA, timeouts, log, retry policy
 * and token cache of opts, no token and no client (any in opts are ignored,
 * the cache is not read). For gcmsg_login and gcmsg_logout, which set them.
 */
int gcmsg__client_new_bare(gcmsg_client **out, const gcmsg_client_options *opts);

#define GCMSG__API_NO_RENEW 1u   /* a 401 is an answer, not a reason to renew */
#define GCMSG__API_NO_ERROR 2u   /* a non-2xx answer is returned as GCMSG_OK with resp->status */

/*
 * One API call: method, path (+ query) under api_url, optional JSON body
 * (borrowed), bearer token, the single renewal + retry on a 401, status
 * mapping. *out receives the parsed JSON answer of a 2xx (NULL when empty).
 * resp (optional) receives the status and headers of the final answer.
 */
int gcmsg__api(gcmsg_client *c, const char *method, const char *path, const json_t *body,
               unsigned flags, json_t **out, gcmsg__http_resp *resp);
/* Serialize as the library sends it (compact, keys in insertion order). */
char *gcmsg__json_body(const json_t *body);

/* ---- auth (auth.c) ---- */
int gcmsg__auth_token(gcmsg_client *c, const char **token);
void gcmsg__auth_invalidate(gcmsg_client *c);
/*
 * Renewal policy: renew within 60 s of expiry, or within 10% of the lifetime for
 * tokens living less than 10 minutes. expires_at <= 0 means unknown (never renew early).
 */
int gcmsg__auth_needs_renewal(double now, double expires_at, long lifetime);
double gcmsg__now(void);

/* ---- responses (response.c: the model and sets; response_*.c fill them) ---- */
typedef struct gcmsg__response_text {
	char *content, *content_type, *type, *language;
} gcmsg__response_text;

typedef struct gcmsg__response_subst {
	char *id, *description, *default_value;
} gcmsg__response_subst;

struct gcmsg_response {
	char *id, *name, *response_type, *interaction_type, *date_created, *default_language;
	long version; /* -1: unknown */
	char **lib_ids, **lib_names; /* Response.libraries[], names may be NULL */
	size_t nlibs;
	gcmsg__response_text *texts;
	size_t ntexts;
	gcmsg__response_subst *substs;
	size_t nsubsts;
	char *template_name, *template_language; /* messagingTemplate.whatsApp */
	gcmsg_response_origin origin;
	char *path;
};

typedef struct gcmsg__library {
	char *id, *name;
	long version; /* -1: unknown */
} gcmsg__library;

struct gcmsg_response_set {
	gcmsg__err err;
	gcmsg_response **items;
	size_t count, alloc;
	gcmsg__library *libs;
	size_t nlibs, libs_alloc;
};

gcmsg_response *gcmsg__response_new(void);
/* Append (copies) a text / substitution / library reference; 0 or -1 (OOM). */
int gcmsg__response_add_text(gcmsg_response *r, const char *content, const char *content_type,
                             const char *type, const char *language);
int gcmsg__response_add_subst(gcmsg_response *r, const char *id, const char *description,
                              const char *default_value);
int gcmsg__response_add_library(gcmsg_response *r, const char *id, const char *name);
/* Parse a Genesys Response object (origin REMOTE). NULL with a reason in err when it is not one. */
gcmsg_response *gcmsg__response_from_json(const json_t *obj, char *err, size_t errlen);
/* A deep copy. */
gcmsg_response *gcmsg__response_dup(const gcmsg_response *r);

gcmsg_response_set *gcmsg__response_set_new(void);
/* Takes ownership of r (freed on failure); 0 or -1 (OOM). */
int gcmsg__response_set_add(gcmsg_response_set *set, gcmsg_response *r);
/* Adds a library unless one with that id is known (then fills a missing name/version). */
int gcmsg__response_set_add_library(gcmsg_response_set *set, const char *id, const char *name, long version);
/* Library id for `library` (an id or a name) among the set's libraries, or NULL. */
const char *gcmsg__response_set_library_lookup(const gcmsg_response_set *set, const char *library);

/* ---- region (region.c) used by client.c ---- */

/* ==== issue 5: retries, pacing, delivery (client.c, retry.c, pacer.c, readback.c, deliver.c) ==== */

#define GCMSG__API_NO_RETRY 4u  /* a GET (or READ) made once: its caller retries (read-back) */
#define GCMSG__API_READ 8u      /* a POST that only reads (messages/bulk): retried like a GET */

/*
 * One request under api_url: pacing, a token, the request, the pacer learns
 * from the answer. No retry, no renewal. body: JSON text or NULL. GCMSG_OK
 * when an answer (any status) is in r. Otherwise r->status is 0 and either
 * *token_failed is 1 (getting a token failed: the request never left; the
 * detail, with the login answer's status, is on the client) or the request
 * failed on the network (r->sent_maybe says whether it may have left).
 */
int gcmsg__api_once(gcmsg_client *c, const char *method, const char *path, const char *body,
                    gcmsg__http_resp *r, int *token_failed);
/* Is this 401 one a renewed token can cure (credentials.expired, bad.credentials)? */
int gcmsg__api_renewable_401(const gcmsg__http_resp *r);
/* Fill c->err from a non-2xx answer of METHOD PATH as gcmsg__api does (code, detail, fixes); returns the code. */
int gcmsg__api_error(gcmsg_client *c, const char *method, const char *path, const gcmsg__http_resp *r);

/* ==== end of issue 5 additions ==== */

#endif
