/*
 * gcmsg/client.h - the client handle: configuration, authentication, HTTP and
 * the caller's identity.
 *
 * A gcmsg_client is not thread-safe: use one per thread.
 */
#ifndef GCMSG_CLIENT_H
#define GCMSG_CLIENT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gcmsg_client gcmsg_client;
typedef struct gcmsg_identity gcmsg_identity;

/**
 * Log callback for verbose mode. `line` is one request line (method, URL,
 * status, correlation id, rate-limit headers), never a secret, an
 * Authorization header or a body. It is only valid during the call.
 */
typedef void (*gcmsg_log_cb)(const char *line, void *payload);

/**
 * How API requests are retried (version 2 of the client options). Reads are
 * retried on 429, 5xx (not 501), timeouts, resets and empty replies. A message
 * send is retried only when it is safe: after a 429, or after an ambiguous
 * failure once the conversation has been read back and the message is
 * provably absent (see gcmsg_send with a store). Other 4xx are never retried.
 * Waits use exponential backoff with full jitter: a uniform draw in
 * [0, min(cap, base * 2^n)]; a 429 waits its Retry-After (seconds or an
 * HTTP-date) plus a small jitter (up to a tenth of it, at most 1 s), never
 * less. Zero fields take the defaults (fields added later keep that rule, so
 * a policy written for an earlier field list keeps its meaning).
 */
#define GCMSG_RETRY_POLICY_VERSION 1

typedef struct gcmsg_retry_policy {
	unsigned int version;        /**< GCMSG_RETRY_POLICY_VERSION */
	int max_attempts;            /**< requests per operation, the first included; 0: 8; 1: never retry */
	long retry_after_default_ms; /**< a 429 without Retry-After; 0: 3000 */
	long retry_after_cap_ms;     /**< a longer Retry-After gives up at once (GCMSG_ERATELIMIT); 0: 180000 */
	long budget_ms;              /**< wall-clock time per operation from its first request (waits, requests and
	                                  pacing included); 0: 300000 */
	long backoff_base_ms;        /**< 0: 500 */
	long backoff_cap_ms;         /**< 0: 30000 */
	long readback_settle_ms;     /**< wait before reading a conversation back after an ambiguous answer; 0: 1000 */
	unsigned long long seed;     /**< the jitter's generator; 0: seeded from the clock and pid */
	/**
	 * The in-flight horizon of a send with a store: a request the client gave
	 * up on (a timeout, a reset, a 5xx) may still be carried out by the server
	 * for a while. A read-back that does not find the message justifies a
	 * resend only once this much time has passed since that request started;
	 * before, the conversation is read again later, or, when the budget cannot
	 * reach the horizon, the send ends with an unknown outcome (nothing is
	 * resent). 0: the client's request timeout (gcmsg_client_options.timeout_ms)
	 * + 30000.
	 */
	long readback_horizon_ms;
} gcmsg_retry_policy;

#define GCMSG_RETRY_POLICY_INIT { GCMSG_RETRY_POLICY_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

#define GCMSG_CLIENT_OPTIONS_VERSION 2

/**
 * Options of gcmsg_client_new. Strings are copied. Either `access_token`, or
 * both `client_id` and `client_secret`, must be given (an access token wins).
 * The API and login base URLs come from `api_url`/`login_url` when given
 * (http:// is accepted there, for a local emulator or gateway), else from
 * `region` (always https), else from the default region us_east_1. With
 * `api_url` and no `login_url`, the login URL is derived from the API URL
 * (https://api.X gives https://login.X; anything else is used as is, as gcsim
 * serves both), never from a region.
 */
typedef struct gcmsg_client_options {
	unsigned int version;      /**< GCMSG_CLIENT_OPTIONS_VERSION */
	const char *api_url;       /**< e.g. "https://api.mypurecloud.de" */
	const char *login_url;     /**< e.g. "https://login.mypurecloud.de" */
	const char *region;        /**< see gcmsg_region_resolve */
	const char *client_id;     /**< OAuth client (client-credentials grant) */
	const char *client_secret;
	const char *access_token;  /**< a token obtained elsewhere; cannot be renewed */
	const char *cacert;        /**< CA bundle file; TLS verification is always on */
	long connect_timeout_ms;   /**< 0: default 10000 */
	long timeout_ms;           /**< whole request; 0: default 30000 */
	gcmsg_log_cb log;          /**< verbose request log, or NULL */
	void *log_payload;
	/* version 2 */
	const gcmsg_retry_policy *retry; /**< copied; NULL: the defaults */
	int no_pacing;             /**< do not pace requests from the inin-ratelimit-* headers */
	/**
	 * A token cache file (0600, see gcmsg/login.h): tokens obtained by
	 * `gcmsg login` (with their refresh token) are read from it, and renewed
	 * tokens are written back. NULL: none.
	 */
	const char *token_cache;
} gcmsg_client_options;

#define GCMSG_CLIENT_OPTIONS_INIT \
	{ GCMSG_CLIENT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0, NULL }

/**
 * Create a client. Nothing is sent yet. Returns GCMSG_OK, GCMSG_EUSAGE (NULL
 * argument, unknown options version), GCMSG_ECONFIG (no credentials, unknown
 * region, bad URL) or GCMSG_ERROR (out of memory).
 *
 * Like hiredis' redisConnect, `*out` is set to a handle even when the call
 * fails on configuration (not on out-of-memory), so that
 * gcmsg_client_last_error(*out) can explain the failure; free it either way.
 */
GCMSG_EXTERN(int) gcmsg_client_new(gcmsg_client **out, const gcmsg_client_options *opts);

/** Free a client; secrets and tokens are zeroed first. NULL is allowed. */
GCMSG_EXTERN(void) gcmsg_client_free(gcmsg_client *client);

/** Detail of the last failure on this client (never NULL for a non-NULL client). */
GCMSG_EXTERN(const gcmsg_error *) gcmsg_client_last_error(const gcmsg_client *client);

/** The API base URL in use (borrowed). */
GCMSG_EXTERN(const char *) gcmsg_client_api_url(const gcmsg_client *client);

/** Who the token belongs to. */
typedef enum gcmsg_caller_kind {
	GCMSG_CALLER_UNKNOWN = 0,
	GCMSG_CALLER_USER = 1,   /**< a user token (implicit, code, PKCE login) */
	GCMSG_CALLER_CLIENT = 2  /**< client credentials: no user context */
} gcmsg_caller_kind;

/**
 * Find out who the caller is: GET /api/v2/tokens/me, then
 * GET /api/v2/users/me?expand=authorization (200 means a user token; 400, 401
 * or 403 there means client credentials). The result is cached in the client
 * and borrowed: it lives as long as the client.
 */
GCMSG_EXTERN(int) gcmsg_client_whoami(const gcmsg_identity **out, gcmsg_client *client);

GCMSG_EXTERN(gcmsg_caller_kind) gcmsg_identity_kind(const gcmsg_identity *id);
/** "user", "client" or "unknown". */
GCMSG_EXTERN(const char *) gcmsg_identity_kind_name(const gcmsg_identity *id);
GCMSG_EXTERN(const char *) gcmsg_identity_user_id(const gcmsg_identity *id);
GCMSG_EXTERN(const char *) gcmsg_identity_user_name(const gcmsg_identity *id);
/** User.preferredName ("preferred full name of the agent"; the AGENT_ALIAS built-in), or NULL. */
GCMSG_EXTERN(const char *) gcmsg_identity_user_preferred_name(const gcmsg_identity *id);
GCMSG_EXTERN(const char *) gcmsg_identity_client_id(const gcmsg_identity *id);
GCMSG_EXTERN(const char *) gcmsg_identity_client_name(const gcmsg_identity *id);
GCMSG_EXTERN(const char *) gcmsg_identity_org_id(const gcmsg_identity *id);
GCMSG_EXTERN(const char *) gcmsg_identity_org_name(const gcmsg_identity *id);
/** Non-zero when the permissions are known (user tokens with expand=authorization). */
GCMSG_EXTERN(int) gcmsg_identity_permissions_known(const gcmsg_identity *id);
GCMSG_EXTERN(size_t) gcmsg_identity_permission_count(const gcmsg_identity *id);
GCMSG_EXTERN(const char *) gcmsg_identity_permission(const gcmsg_identity *id, size_t i);

#ifdef __cplusplus
}
#endif

#endif
