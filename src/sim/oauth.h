/* The login side of gcsim (/oauth/): the token endpoint (client credentials, authorization code
 * with PKCE, refresh token) and the authorization endpoint, with OAuth-style error bodies
 * (RFC 6749 §5.2). See docs/gcsim-scenarios.md, "OAuth". */
#ifndef GCSIM_OAUTH_H
#define GCSIM_OAUTH_H

#include "context.h"

/* refreshTokenLifetimeSeconds: default 30 days, at most a year. */
#define SIM_REFRESH_DEFAULT_LIFETIME (30L * 86400)
#define SIM_REFRESH_MAX_LIFETIME (365L * 86400)
#define SIM_MAX_REDIRECT_URIS 20
#define SIM_MAX_REDIRECT_URI_LEN 2048

/* POST /oauth/token. */
int sim_oauth_token(sim_ctx *c);
/* GET /oauth/authorize: auto-consent as the client's consentUser, then the 302 to the client. */
int sim_oauth_authorize(sim_ctx *c);

/* 0 when uri is an absolute http(s) URI gcsim can redirect to: no fragment, no user info, no
 * whitespace or control characters, at most SIM_MAX_REDIRECT_URI_LEN bytes; a registration
 * (registration != 0) may use http only for a loopback host (127.0.0.1, localhost, [::1]).
 * Otherwise -1 and *why says what is wrong. */
int sim_redirect_uri_check(const char *uri, int registration, const char **why);
/* 1 when a requested redirect_uri matches a registered one: the same string, or, for a loopback
 * http registration, the same scheme, host, path and query on any port (RFC 8252 §7.3). */
int sim_redirect_uri_matches(const char *registered, const char *requested);

#endif
