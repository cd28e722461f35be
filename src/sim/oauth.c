/* POST /oauth/token: the client-credentials, authorization-code (PKCE) and refresh-token grants.
 * Errors have the OAuth shape {error, description, error_description} (RFC 6749 §5.2, the Go
 * SDK's AuthErrorResponse). Every answer has Cache-Control: no-store and Pragma: no-cache (§5.1);
 * a 401 has WWW-Authenticate: Basic (§5.2, RFC 9110 §15.5.2). Codes, verifiers, secrets and
 * tokens never reach a log or a message. */
#include "oauth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "sha256.h"

#define MAX_FORM_FIELDS 32
#define BASIC_CHALLENGE "Basic realm=\"gcsim\", charset=\"UTF-8\""

static int oauth_error(sim_ctx *c, int status, const char *error, const char *description) {
  json_decref(c->resp);
  c->status = status;
  c->resp = json_pack("{s:s, s:s, s:s}", "error", error, "description", description, "error_description", description);
  return -1;
}

/* oauth_error for the functions that answer a client: NULL. */
static json_t *client_error(sim_ctx *c, int status, const char *error, const char *description) {
  oauth_error(c, status, error, description);
  return NULL;
}

/* The form as logged: every field except the ones that carry secrets. */
static json_t *loggable_form(const json_t *form) {
  static const char *const secret_fields[] = {"client_secret", "password", "refresh_token", "code", "code_verifier",
                                              "assertion", NULL};
  json_t *copy = json_deep_copy(form);
  for (size_t i = 0; copy && secret_fields[i]; i++) json_object_del(copy, secret_fields[i]);
  return copy;
}

static int client_has_grant(const json_t *client, const char *grant) {
  size_t i;
  json_t *g;
  json_array_foreach(json_object_get(client, "grants"), i, g) {
    if (strcmp(json_string_value(g), grant) == 0) return 1;
  }
  return 0;
}

/* The client of a token request. A confidential client authenticates with HTTP Basic
 * (client_id:client_secret), as Genesys' SDKs do; a public client sends no secret at all, only
 * client_id in the form (the PKCE token request). `basic_required`: the client-credentials grant,
 * where even the client id comes from the Basic header. NULL with the OAuth error set. */
static json_t *token_client(sim_ctx *c, const json_t *form, int basic_required) {
  const char *h = c->authorization, *form_id = sim_jstr(form, "client_id");
  if (sim_jstr(form, "client_secret"))
    return client_error(c, 401, "invalid_client",
                       "gcsim takes the client secret only as HTTP Basic authentication (Authorization: Basic), never "
                       "in the form.");
  if (h == NULL || strncasecmp(h, "Basic ", 6) != 0) {
    if (basic_required || form_id == NULL || *form_id == '\0') {
      if (basic_required)
        return client_error(c, 401, "invalid_client", "Client authentication is required (Authorization: Basic).");
      return client_error(c, 400, "invalid_request", "client_id is required (or HTTP Basic client authentication).");
    }
    json_t *client = sim_find_client(c->st, form_id);
    if (client == NULL) return client_error(c, 401, "invalid_client", "Unknown client_id.");
    if (!json_is_true(json_object_get(client, "public")))
      return client_error(c, 401, "invalid_client",
                         "This client is confidential: authenticate with its secret (Authorization: Basic).");
    return client;
  }
  char *decoded = sim_base64_decode(h + 6, NULL);
  char *colon = decoded ? strchr(decoded, ':') : NULL;
  if (colon == NULL) {
    sim_free_secret(decoded);
    return client_error(c, 401, "invalid_client", "The Basic credentials are malformed.");
  }
  *colon = '\0';
  json_t *client = sim_find_client(c->st, decoded);
  const char *secret = sim_jstr(client, "secret");
  int ok = client != NULL && secret != NULL && sim_secret_equal(secret, colon + 1);
  int is_public = client != NULL && json_is_true(json_object_get(client, "public"));
  int mismatch = form_id != NULL && strcmp(form_id, decoded) != 0;
  *colon = ':';
  sim_free_secret(decoded);
  if (is_public)
    return client_error(c, 401, "invalid_client",
                       "This client is public: it has no secret; send client_id in the form and no Authorization.");
  if (!ok) return client_error(c, 401, "invalid_client", "Client authentication failed: unknown client or wrong secret.");
  if (mismatch)
    return client_error(c, 400, "invalid_request", "client_id in the form is not the client of the Basic credentials.");
  return client;
}

/* 200 {access_token, token_type, expires_in[, refresh_token]}. */
static int token_answer(sim_ctx *c, const sim_token *t, long lifetime, const sim_refresh *r) {
  c->status = 200;
  c->resp = json_pack("{s:s, s:s, s:I}", "access_token", t->value, "token_type", "bearer", "expires_in",
                      (json_int_t)lifetime);
  if (c->resp && r) json_object_set_new(c->resp, "refresh_token", json_string(r->value));
  return c->resp ? 0 : oauth_error(c, 500, "server_error", "out of memory");
}

static int client_credentials(sim_ctx *c, const json_t *form) {
  json_t *client = token_client(c, form, 1);
  if (client == NULL) return -1;
  if (!client_has_grant(client, "client-credentials"))
    return oauth_error(c, 400, "unauthorized_client", "This client is not allowed the client_credentials grant.");
  long lifetime = (long)json_integer_value(json_object_get(client, "tokenLifetimeSeconds"));
  sim_token *t = sim_issue_token(c->st, SIM_TOKEN_CLIENT, sim_jstr(client, "id"), lifetime);
  if (t == NULL) return oauth_error(c, 503, "temporarily_unavailable", "gcsim holds too many tokens.");
  return token_answer(c, t, lifetime, NULL);
}

/* An access token and a refresh token of a code grant (login) for the client's consent user. */
static int issue_code_tokens(sim_ctx *c, const json_t *client, const char *user_id, long long grant_id) {
  long lifetime = (long)json_integer_value(json_object_get(client, "tokenLifetimeSeconds"));
  long refresh_lifetime = (long)json_integer_value(json_object_get(client, "refreshTokenLifetimeSeconds"));
  const char *client_id = sim_jstr(client, "id");
  sim_refresh *r = sim_refresh_new(c->st, grant_id, client_id, user_id, refresh_lifetime);
  sim_token *t = r ? sim_issue_token(c->st, SIM_TOKEN_USER, user_id, lifetime) : NULL;
  if (t) t->client_id = strdup(client_id);
  if (r == NULL || t == NULL || t->client_id == NULL) {
    if (r) r->state = SIM_REFRESH_REVOKED;
    if (t) t->revoked = 1;
    return oauth_error(c, 503, "temporarily_unavailable", "gcsim holds too many tokens.");
  }
  t->grant = SIM_GRANT_CODE;
  t->grant_id = grant_id;
  return token_answer(c, t, lifetime, r);
}

static int verifier_syntax_ok(const char *v) {
  size_t n = strlen(v);
  if (n < 43 || n > 128) return 0;
  for (; *v; v++)
    if (!((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') || strchr("-._~", *v)))
      return 0;
  return 1;
}

/* grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5). Once the code is found, this
 * attempt uses it up whatever its outcome; a second use is refused and revokes every token that
 * the first use obtained (RFC 6749 §4.1.2). */
static int authorization_code(sim_ctx *c, const json_t *form) {
  json_t *client = token_client(c, form, 0);
  if (client == NULL) return -1;
  if (!client_has_grant(client, "code"))
    return oauth_error(c, 400, "unauthorized_client", "This client is not allowed the authorization_code grant.");
  const char *code = sim_jstr(form, "code"), *redirect = sim_jstr(form, "redirect_uri"),
             *verifier = sim_jstr(form, "code_verifier");
  if (code == NULL || *code == '\0') return oauth_error(c, 400, "invalid_request", "code is required.");
  if (redirect == NULL || *redirect == '\0')
    return oauth_error(c, 400, "invalid_request", "redirect_uri is required (the one given to /oauth/authorize).");
  if (verifier == NULL || *verifier == '\0')
    return oauth_error(c, 400, "invalid_request", "code_verifier is required (PKCE, RFC 7636).");
  if (!verifier_syntax_ok(verifier))
    return oauth_error(c, 400, "invalid_request",
                       "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 section 4.1).");
  sim_auth_code *a = sim_code_find(c->st, code);
  if (a == NULL) return oauth_error(c, 400, "invalid_grant", "Unknown authorization code.");
  if (a->used) {
    sim_grant_revoke(c->st, a->grant_id);
    return oauth_error(c, 400, "invalid_grant",
                       "This authorization code was already used; the tokens obtained with it are revoked.");
  }
  a->used = 1;
  if (sim_now_ms(c->st) >= a->expires_ms)
    return oauth_error(c, 400, "invalid_grant", "The authorization code has expired (codes live 60 seconds).");
  if (strcmp(a->client_id, sim_jstr(client, "id")) != 0)
    return oauth_error(c, 400, "invalid_grant", "The authorization code was issued to another client.");
  if (strcmp(a->redirect_uri, redirect) != 0)
    return oauth_error(c, 400, "invalid_grant", "redirect_uri differs from the one given to /oauth/authorize.");
  char challenge[44];
  sim_pkce_s256(verifier, challenge);
  if (!sim_secret_equal(challenge, a->challenge))
    return oauth_error(c, 400, "invalid_grant", "code_verifier does not match the code_challenge (S256).");
  if (sim_find_user(c->st, a->user_id) == NULL)
    return oauth_error(c, 400, "invalid_grant", "The user of this authorization code no longer exists.");
  a->grant_id = ++c->st->grant_counter;
  char user_id[300];
  snprintf(user_id, sizeof user_id, "%s", a->user_id); /* a may move when the tables grow */
  return issue_code_tokens(c, client, user_id, c->st->grant_counter);
}

/* grant_type=refresh_token (RFC 6749 §6). Refresh tokens rotate: the answer carries a new one and
 * the old one is spent; using a spent one again revokes the whole grant (every access token and
 * refresh token of that login). */
static int refresh_token(sim_ctx *c, const json_t *form) {
  json_t *client = token_client(c, form, 0);
  if (client == NULL) return -1;
  if (!client_has_grant(client, "code"))
    return oauth_error(c, 400, "unauthorized_client", "This client is not allowed the refresh_token grant.");
  const char *value = sim_jstr(form, "refresh_token");
  if (value == NULL || *value == '\0') return oauth_error(c, 400, "invalid_request", "refresh_token is required.");
  sim_refresh *r = sim_refresh_find(c->st, value);
  if (r == NULL) return oauth_error(c, 400, "invalid_grant", "Unknown refresh token.");
  if (strcmp(r->client_id, sim_jstr(client, "id")) != 0)
    return oauth_error(c, 400, "invalid_grant", "The refresh token was issued to another client.");
  if (r->state == SIM_REFRESH_REVOKED) return oauth_error(c, 400, "invalid_grant", "The refresh token was revoked.");
  if (r->state == SIM_REFRESH_ROTATED) {
    sim_grant_revoke(c->st, r->grant_id);
    return oauth_error(c, 400, "invalid_grant",
                       "The refresh token was already used (refresh tokens rotate); every token of this login is "
                       "revoked: log in again.");
  }
  if (sim_now_ms(c->st) >= r->expires_ms) return oauth_error(c, 400, "invalid_grant", "The refresh token has expired.");
  if (sim_find_user(c->st, r->user_id) == NULL)
    return oauth_error(c, 400, "invalid_grant", "The user of this refresh token no longer exists.");
  r->state = SIM_REFRESH_ROTATED;
  char user_id[300];
  snprintf(user_id, sizeof user_id, "%s", r->user_id); /* r may move when the table grows */
  return issue_code_tokens(c, client, user_id, r->grant_id);
}

static void set_header(sim_ctx *c, const char *name, const char *value) {
  if (c->headers_out == NULL) c->headers_out = json_object();
  if (c->headers_out) json_object_set_new(c->headers_out, name, json_string(value));
}

static int token_endpoint(sim_ctx *c) {
  if (strcmp(c->method, "POST") != 0) return oauth_error(c, 400, "invalid_request", "Use POST for /oauth/token.");
  json_t *form = sim_parse_form(c->raw_body ? c->raw_body : "", c->raw_len, MAX_FORM_FIELDS);
  if (form == NULL)
    return oauth_error(c, 400, "invalid_request", "The form body is malformed (or repeats a parameter).");
  c->log_body = loggable_form(form);
  const char *grant = sim_jstr(form, "grant_type");
  int rc;
  if (grant == NULL)
    rc = oauth_error(c, 400, "invalid_request", "Missing grant_type.");
  else if (strcmp(grant, "client_credentials") == 0)
    rc = client_credentials(c, form);
  else if (strcmp(grant, "authorization_code") == 0)
    rc = authorization_code(c, form);
  else if (strcmp(grant, "refresh_token") == 0)
    rc = refresh_token(c, form);
  else
    rc = oauth_error(c, 400, "unsupported_grant_type",
                     "gcsim supports grant_type client_credentials, authorization_code and refresh_token.");
  json_decref(form);
  return rc;
}

int sim_oauth_token(sim_ctx *c) {
  int rc = token_endpoint(c);
  /* RFC 6749 §5.1: an answer that may carry tokens is never stored by a cache */
  set_header(c, "Cache-Control", "no-store");
  set_header(c, "Pragma", "no-cache");
  /* §5.2: a client that tried Basic (or must use it) is told the scheme; RFC 9110 wants it on every 401 */
  if (c->status == 401) set_header(c, "WWW-Authenticate", BASIC_CHALLENGE);
  return rc;
}
