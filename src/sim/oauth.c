#include "oauth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errors.h"

#define MAX_FORM_FIELDS 32

static int oauth_error(sim_ctx *c, int status, const char *error, const char *description) {
  json_decref(c->resp);
  c->status = status;
  c->resp = json_pack("{s:s, s:s, s:s}", "error", error, "description", description, "error_description", description);
  return -1;
}

/* The form as logged: every field except the ones that carry secrets. */
static json_t *loggable_form(const json_t *form) {
  static const char *const secret_fields[] = {"client_secret", "password", "refresh_token", "code", "code_verifier",
                                              "assertion", NULL};
  json_t *copy = json_deep_copy(form);
  for (size_t i = 0; copy && secret_fields[i]; i++) json_object_del(copy, secret_fields[i]);
  return copy;
}

int sim_oauth_token(sim_ctx *c) {
  if (strcmp(c->method, "POST") != 0) return oauth_error(c, 400, "invalid_request", "Use POST for /oauth/token.");
  json_t *form = sim_parse_form(c->raw_body ? c->raw_body : "", c->raw_len, MAX_FORM_FIELDS);
  if (form == NULL) return oauth_error(c, 400, "invalid_request", "The form body is malformed.");
  c->log_body = loggable_form(form);
  const char *grant = sim_jstr(form, "grant_type");
  int rc;
  if (grant == NULL) {
    rc = oauth_error(c, 400, "invalid_request", "Missing grant_type.");
    goto done;
  }
  if (strcmp(grant, "client_credentials") != 0) {
    rc = oauth_error(c, 400, "unsupported_grant_type", "gcsim supports grant_type=client_credentials only.");
    goto done;
  }
  const char *h = c->authorization;
  if (h == NULL || strncasecmp(h, "Basic ", 6) != 0) {
    rc = oauth_error(c, 401, "invalid_client", "Client authentication is required (Authorization: Basic).");
    goto done;
  }
  char *decoded = sim_base64_decode(h + 6, NULL);
  char *colon = decoded ? strchr(decoded, ':') : NULL;
  if (colon == NULL) {
    sim_free_secret(decoded);
    rc = oauth_error(c, 401, "invalid_client", "The Basic credentials are malformed.");
    goto done;
  }
  *colon = '\0';
  json_t *client = sim_find_client(c->st, decoded);
  int ok = client != NULL && sim_secret_equal(sim_jstr(client, "secret"), colon + 1);
  *colon = ':';
  sim_free_secret(decoded);
  if (!ok) {
    rc = oauth_error(c, 401, "invalid_client", "Client authentication failed: unknown client or wrong secret.");
    goto done;
  }
  int granted = 0;
  size_t i;
  json_t *g;
  json_array_foreach(json_object_get(client, "grants"), i, g) granted |= strcmp(json_string_value(g), "client-credentials") == 0;
  if (!granted) {
    rc = oauth_error(c, 400, "unsupported_grant_type", "This client is not allowed the client_credentials grant.");
    goto done;
  }
  long lifetime = (long)json_integer_value(json_object_get(client, "tokenLifetimeSeconds"));
  sim_token *t = sim_issue_token(c->st, SIM_TOKEN_CLIENT, sim_jstr(client, "id"), lifetime);
  if (t == NULL) {
    rc = oauth_error(c, 503, "temporarily_unavailable", "gcsim holds too many tokens.");
    goto done;
  }
  c->status = 200;
  c->resp = json_pack("{s:s, s:s, s:I}", "access_token", t->value, "token_type", "bearer", "expires_in",
                      (json_int_t)lifetime);
  rc = 0;
done:
  json_decref(form);
  return rc;
}
