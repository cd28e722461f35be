/*
 * login_internal.h - what auth.c, login.c and client.c share about tokens
 * (private): the token endpoint, the token cache hook of client_configure,
 * and the loopback redirect's one-request parser (fuzzed).
 */
#ifndef GCMSG_LOGIN_INTERNAL_H
#define GCMSG_LOGIN_INTERNAL_H

#include "internal.h"
#include "token_cache.h"

/* ---- auth.c ---- */

/*
 * Called by client_configure when no access token was given: read the token
 * cache (when there is one) and pick the credentials, in this order:
 *  1. the login saved by `gcmsg login` (a user token), when it was made against
 *     this client's login and API URLs and, if a client id is configured, by
 *     that client (a configured secret then authenticates its refreshes: a
 *     confidential client);
 *  2. client credentials (id and secret); a client-credentials token the cache
 *     holds for that client is reused, and new ones are saved there (never over
 *     a login);
 *  3. otherwise GCMSG_ECONFIG naming what is missing, the cache file, and
 *     `gcmsg login`.
 * A cache that cannot be read is an error only when it is needed (no client
 * credentials); otherwise it is left alone for this client.
 */
int gcmsg__auth_configure(gcmsg_client *c);

/* What the token endpoint handed out (secrets: clear with gcmsg__token_answer_clear). */
typedef struct gcmsg__token_answer {
	char *access_token, *refresh_token;
	long expires_in; /* 0: not given */
} gcmsg__token_answer;

void gcmsg__token_answer_clear(gcmsg__token_answer *a);

/*
 * POST <login>/oauth/token with this form body (application/x-www-form-urlencoded),
 * Basic authentication when basic_user is given. GCMSG_OK with *out filled, or
 * an error on the client: GCMSG_EAUTH for 400/401/403 (OAuth `error` as the
 * code, `error_description` as the message), else as any answer. `what` names
 * the request in the explanation ("the login service refused WHAT (HTTP n)").
 */
int gcmsg__auth_token_post(gcmsg_client *c, const char *form, const char *basic_user, const char *basic_pass,
                           const char *what, gcmsg__token_answer *out);

/*
 * Take a token answer into the client (it steals the strings): the token, its
 * expiry, and a refresh token when one came (the old one stays otherwise).
 */
void gcmsg__auth_take(gcmsg_client *c, gcmsg__token_answer *a);

/* Save the client's token in its cache (the caller holds the lock). kind: user or client. */
int gcmsg__auth_save(gcmsg_client *c, gcmsg__token_kind kind);

/* Form encoding of one value ("application/x-www-form-urlencoded", %XX); free with gcmsg__free_secret. */
char *gcmsg__form_escape(const char *s);

/* ---- login.c: the loopback redirect ---- */

#define GCMSG__LOGIN_HEAD_MAX 8192 /* request line and headers of one browser request */
#define GCMSG__LOGIN_CODE_MAX 2048
#define GCMSG__LOGIN_STATE_MAX 256
#define GCMSG__LOGIN_ERROR_MAX 128
#define GCMSG__LOGIN_DESC_MAX 256

typedef enum gcmsg__cb_kind {
	GCMSG__CB_INCOMPLETE = 0, /* no end of the head yet: read more */
	GCMSG__CB_TOO_LARGE,      /* GCMSG__LOGIN_HEAD_MAX bytes without the end of the head: 431 */
	GCMSG__CB_BAD,            /* not an HTTP/1.x GET with an origin-form target, or a malformed query: 400 */
	GCMSG__CB_OTHER,          /* a GET of another path (/favicon.ico): 404 */
	GCMSG__CB_CALLBACK        /* GET /callback?...: the fields below */
} gcmsg__cb_kind;

typedef struct gcmsg__login_callback {
	gcmsg__cb_kind kind;
	int has_code, has_state, has_error;
	char code[GCMSG__LOGIN_CODE_MAX + 1];   /* printable ASCII, no spaces */
	char state[GCMSG__LOGIN_STATE_MAX + 1]; /* printable ASCII, no spaces */
	char error[GCMSG__LOGIN_ERROR_MAX + 1]; /* printable ASCII (RFC 6749 error codes) */
	char error_description[GCMSG__LOGIN_DESC_MAX + 1]; /* one line: other bytes shown as '?', cut */
} gcmsg__login_callback;

/*
 * Parse what a browser sent so far (len bytes, any bytes) on the redirect
 * listener. Pure and bounded: only the first GCMSG__LOGIN_HEAD_MAX bytes are
 * looked at. A query with code, state or error twice, or a code or state that
 * is empty, too long or not printable ASCII, is GCMSG__CB_BAD.
 */
void gcmsg__login_parse_request(const char *buf, size_t len, gcmsg__login_callback *out);

#endif
