#include "auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errors.h"

int sim_authenticate(sim_ctx *c) {
  const char *h = c->authorization;
  if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0')
    return sim_error(c, 401, "authentication.required",
                     "No authentication bearer token specified in authorization header.");
  const char *value = h + 7;
  while (*value == ' ') value++;
  sim_token *t = sim_find_token(c->st, value);
  if (t == NULL) return sim_error(c, 401, "bad.credentials", "Invalid login credentials.");
  if (sim_now_ms(c->st) >= t->expires_ms)
    return sim_error(c, 401, "credentials.expired", "The supplied credentials are expired and cannot be used.");
  c->tok = t;
  return 0;
}

static int part_covers(const char *g, size_t glen, const char *w, size_t wlen) {
  if (glen == 1 && g[0] == '*') return 1;
  return glen == wlen && strncmp(g, w, glen) == 0;
}

int sim_permission_covers(const char *granted, const char *wanted) {
  const char *g = granted, *w = wanted;
  for (int part = 0; part < 3; part++) {
    const char *ge = strchr(g, ':'), *we = strchr(w, ':');
    size_t gl = ge ? (size_t)(ge - g) : strlen(g), wl = we ? (size_t)(we - w) : strlen(w);
    if (!part_covers(g, gl, w, wl)) return 0;
    if (part < 2) {
      if (ge == NULL || we == NULL) return 0;
      g = ge + 1;
      w = we + 1;
    } else if (ge != NULL || we != NULL) {
      return 0;
    }
  }
  return 1;
}

json_t *sim_caller_permissions(sim_ctx *c) {
  if (c->tok == NULL) return NULL;
  json_t *who = c->tok->kind == SIM_TOKEN_USER ? sim_find_user(c->st, c->tok->principal)
                                               : sim_find_client(c->st, c->tok->principal);
  return json_object_get(who, "permissions");
}

static int has_permission(json_t *granted, const char *wanted) {
  size_t i;
  json_t *g;
  json_array_foreach(granted, i, g) {
    if (sim_permission_covers(json_string_value(g), wanted)) return 1;
  }
  return 0;
}

int sim_require_permissions(sim_ctx *c, sim_perm_mode mode, const char *const *perms) {
  if (mode == SIM_PERM_NONE || perms == NULL) return 0;
  json_t *granted = sim_caller_permissions(c);
  char missing[512] = "";
  size_t nmissing = 0, total = 0;
  for (size_t i = 0; perms[i]; i++, total++) {
    if (has_permission(granted, perms[i])) {
      if (mode == SIM_PERM_ANY) return 0;
      continue;
    }
    if (nmissing++) strncat(missing, ", ", sizeof missing - strlen(missing) - 1);
    strncat(missing, perms[i], sizeof missing - strlen(missing) - 1);
  }
  if (nmissing == 0) return 0;
  char list[540];
  snprintf(list, sizeof list, "[%s]", missing);
  if (mode == SIM_PERM_ANY) {
    sim_error(c, 403, "missing.any.permissions",
              "Unable to perform the requested action. You must have at least one of the following permissions assigned: %s",
              list);
    sim_error_param(c, "permissions", list,
                    "Unable to perform the requested action. You must have at least one of the following permissions assigned: {permissions}");
  } else {
    sim_error(c, 403, "missing.permissions",
              "Unable to perform the requested action. You are missing the following permission(s): %s", list);
    sim_error_param(c, "permissions", list,
                    "Unable to perform the requested action. You are missing the following permission(s): {permissions}");
  }
  (void)total;
  return -1;
}

int sim_require_user(sim_ctx *c) {
  if (c->tok && c->tok->kind == SIM_TOKEN_USER) return 0;
  return sim_error(c, 400, "bad.request",
                   "This request requires a user context. Client credentials cannot be used for requests to this resource.");
}

int sim_require_client(sim_ctx *c) {
  if (c->tok && c->tok->kind == SIM_TOKEN_CLIENT) return 0;
  return sim_error(c, 400, "bad.request",
                   "Agentless messages are sent by an OAuth client (client-credentials grant), not on behalf of a user; "
                   "use a client-credentials token, or send as the conversation's agent with this user token.");
}

const char *sim_caller_name(sim_ctx *c) {
  if (c->tok == NULL) return "";
  json_t *who = c->tok->kind == SIM_TOKEN_USER ? sim_find_user(c->st, c->tok->principal)
                                               : sim_find_client(c->st, c->tok->principal);
  const char *name = sim_jstr(who, "name");
  return name ? name : c->tok->principal;
}
