/*
 * gcmsg/login.h - a user login for command-line tools: the OAuth authorization
 * code grant with PKCE (RFC 7636, S256) through a loopback redirect (RFC 8252),
 * the token cache it fills, and logout.
 *
 * The token cache is one file (mode 0600, directory 0700, replaced atomically)
 * holding the login URL, API URL, client id, the kind of token (a user login,
 * or a client-credentials token kept so that short runs share one), the access
 * token, its expiry and the refresh token. A client created with
 * gcmsg_client_options.token_cache and no other credentials uses the login in
 * it, renews it with the refresh token (shortly before expiry, and once on a
 * 401), and writes renewed tokens back; renewals are single-flight across
 * threads and processes (an exclusive lock on "<cache>.lock", after which the
 * cache is read again). See gcmsg_client_new for the order in which
 * credentials are chosen.
 */
#ifndef GCMSG_LOGIN_H
#define GCMSG_LOGIN_H

#include "common.h"
#include "client.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Called once the loopback listener is ready, with the authorize URL the user
 * must open in a browser (the CLI prints it, and may start a browser). The URL
 * holds no secret: the client id, the redirect URI, the PKCE challenge and the
 * state. It is only valid during the call.
 */
typedef void (*gcmsg_login_url_cb)(const char *authorize_url, void *payload);

#define GCMSG_LOGIN_OPTIONS_VERSION 1

typedef struct gcmsg_login_options {
	unsigned int version;    /**< GCMSG_LOGIN_OPTIONS_VERSION */
	/** The OAuth client (authorization code grant; required). Its redirect URIs must allow
	 *  http://127.0.0.1:PORT/callback. */
	const char *client_id;
	/** A confidential client's secret (HTTP Basic on the token request), or NULL for a public
	 *  (PKCE-only) client, which sends client_id in the form and no Authorization. */
	const char *client_secret;
	int port;                /**< loopback port of the redirect, 1-65535; 0: any free port */
	long timeout_ms;         /**< how long to wait for the browser to come back; 0: 300000 */
	gcmsg_login_url_cb on_url; /**< required */
	void *payload;
} gcmsg_login_options;

#define GCMSG_LOGIN_OPTIONS_INIT { GCMSG_LOGIN_OPTIONS_VERSION, NULL, NULL, 0, 0, NULL, NULL }

/**
 * Log in as a user. Builds a client from `client_opts` (its URLs, CA, timeouts,
 * log, and token_cache; credentials in it are ignored), listens on 127.0.0.1,
 * hands the authorize URL
 *   <login>/oauth/authorize?response_type=code&client_id=...&redirect_uri=
 *   http://127.0.0.1:<port>/callback&code_challenge=...&code_challenge_method=S256&state=...
 * to on_url, accepts connections until a GET /callback with the state it sent
 * arrives (other paths get a 404, a callback with another state or none a 400,
 * and the wait goes on, so that nobody who finds the port can end the login;
 * each request head is capped at 8 KiB, and idle connections cannot keep the
 * redirect out), exchanges the code (grant_type=authorization_code with the
 * code_verifier), answers the browser with a short page saying how it went,
 * and saves the tokens in client_opts->token_cache (when given). Before it
 * listens, it checks that the cache can be written (its directory, its lock),
 * so that no code is spent on a login it could not keep. The verifier, state
 * and code are zeroed before they are freed.
 *
 * Returns GCMSG_OK, GCMSG_EUSAGE (bad options), GCMSG_ECONFIG (bad URL, port
 * in use, cache not writable), GCMSG_EAUTH (the redirect carried error=...
 * with the right state, no browser came back in time, the token endpoint
 * refused the code, the cache lock stayed taken), GCMSG_EREMOTE (network) or
 * GCMSG_ERROR. Like
 * gcmsg_client_new, `*out` is set even on failure (not on out-of-memory) so
 * that gcmsg_client_last_error(*out) explains it; on success it is a client
 * holding the user token (e.g. for gcmsg_client_whoami). Free it either way.
 */
GCMSG_EXTERN(int) gcmsg_login(gcmsg_client **out, const gcmsg_client_options *client_opts,
                              const gcmsg_login_options *opts);

/** What gcmsg_logout found and did. */
typedef enum gcmsg_logout_outcome {
	GCMSG_LOGOUT_NOT_LOGGED_IN = 0, /**< there was no token cache file: nothing to do */
	GCMSG_LOGOUT_REVOKED = 1,       /**< DELETE /api/v2/tokens/me revoked the token; the file is removed */
	GCMSG_LOGOUT_ALREADY_INVALID = 2 /**< the server no longer took the token (expired, revoked, refresh
	                                      refused); the file is removed */
} gcmsg_logout_outcome;

/**
 * Log out: read client_opts->token_cache (required), revoke its token with
 * DELETE /api/v2/tokens/me (renewing it first if it has expired and a refresh
 * token is there, so that the login itself is revoked), then remove the file.
 * The token is only ever sent to the API URL it was issued for: a cache made
 * against other URLs than client_opts' is refused (GCMSG_ECONFIG).
 *
 * The file is removed only when the token was revoked (2xx) or the server no
 * longer takes it (401, or its renewal is refused). GCMSG_OK with *outcome
 * set; GCMSG_ECONFIG for a cache that cannot be read (left in place: the
 * message names the file and the fix); GCMSG_EREMOTE when the server could not
 * be reached, failed (5xx) or refused otherwise: the file is kept (the login
 * still works, a refresh token lives for weeks) and the error says so and to
 * log out again; GCMSG_EAUTH with the file kept when an expired token could
 * not be renewed for another reason (the cache lock stayed taken). `*out` as
 * for gcmsg_login.
 */
GCMSG_EXTERN(int) gcmsg_logout(gcmsg_client **out, const gcmsg_client_options *client_opts,
                               gcmsg_logout_outcome *outcome);

#ifdef __cplusplus
}
#endif

#endif
