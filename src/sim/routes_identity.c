#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "routes.h"

static json_t *org_entity(sim_ctx *c) {
  json_t *org = json_object_get(c->st->org, "org");
  return json_pack("{s:s, s:s}", "id", sim_jstr(org, "id"), "name", sim_jstr(org, "name"));
}

int sim_get_tokens_me(sim_ctx *c) {
  json_t *client;
  if (c->tok->kind == SIM_TOKEN_CLIENT) {
    json_t *cl = sim_find_client(c->st, c->tok->principal);
    client = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", c->tok->principal, "name", sim_jstr(cl, "name"),
                       "authorizedGrantType", "CLIENT-CREDENTIALS", "state", "active", "organization", org_entity(c));
  } else if (c->tok->grant == SIM_GRANT_CODE && c->tok->client_id) {
    /* a login through /oauth/authorize: the client that obtained it (OAuthClient.authorizedGrantType
     * has no separate value for PKCE: CODE) */
    json_t *cl = sim_find_client(c->st, c->tok->client_id);
    const char *name = sim_jstr(cl, "name");
    client = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", c->tok->client_id, "name", name ? name : c->tok->client_id,
                       "authorizedGrantType", "CODE", "state", "active", "organization", org_entity(c));
  } else {
    /* A user token stands for an agent's browser login (implicit grant). */
    client = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", "gcsim-browser-login", "name", "gcsim browser login",
                       "authorizedGrantType", "TOKEN", "state", "active", "organization", org_entity(c));
  }
  c->status = 200;
  c->resp = json_pack("{s:o, s:o, s:[], s:o}", "organization", org_entity(c), "homeOrganization", org_entity(c),
                      "authorizedScope", "OAuthClient", client);
  return c->resp ? 0 : sim_error(c, 500, NULL, "out of memory");
}

int sim_get_users_me(sim_ctx *c) {
  if (sim_require_user(c)) return -1;
  json_t *u = sim_find_user(c->st, c->tok->principal);
  if (u == NULL) return sim_error(c, 404, "not.found", "The user of this token no longer exists.");
  char uri[512];
  snprintf(uri, sizeof uri, "/api/v2/users/%s", sim_jstr(u, "id"));
  const char *email = sim_jstr(u, "email");
  c->resp = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "id", sim_jstr(u, "id"), "name", sim_jstr(u, "name"),
                      "state", "active", "username", email ? email : sim_jstr(u, "id"), "version", 1, "selfUri", uri);
  if (c->resp == NULL) return sim_error(c, 500, NULL, "out of memory");
  if (email) json_object_set_new(c->resp, "email", json_string(email));
  if (sim_jstr(u, "preferredName")) json_object_set_new(c->resp, "preferredName", json_string(sim_jstr(u, "preferredName")));
  if (sim_query_has(c->query, "expand", "authorization"))
    json_object_set_new(c->resp, "authorization",
                        json_pack("{s:[], s:O}", "roles", "permissions", json_object_get(u, "permissions")));
  c->status = 200;
  return 0;
}

/* DELETE /api/v2/tokens/me: revokes the calling token. A token of a login (the code grant) takes its
 * whole grant with it: every access token and the refresh token obtained through that login
 * (stricter than Genesys, whose docs say only "Delete auth token used to make the request"). */
int sim_delete_tokens_me(sim_ctx *c) {
  if (c->tok->grant_id) sim_grant_revoke(c->st, c->tok->grant_id);
  c->tok->revoked = 1;
  c->status = 200;
  c->resp = NULL;
  return 0;
}

/* HEAD /api/v2/tokens/me: 200 without a body while the token is good (the 401s come from the
 * authentication step, as on every route). */
int sim_head_tokens_me(sim_ctx *c) {
  c->status = 200;
  c->resp = NULL;
  return 0;
}
