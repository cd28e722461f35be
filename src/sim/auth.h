/* Bearer tokens on /api/v2/ and the permission checks of each operation. */
#ifndef GCSIM_AUTH_H
#define GCSIM_AUTH_H

#include "context.h"

typedef enum { SIM_PERM_NONE, SIM_PERM_ANY, SIM_PERM_ALL } sim_perm_mode;

/* Sets c->tok from "Authorization: Bearer ...", or answers 401 authentication.required /
 * bad.credentials / credentials.expired. 0 when authenticated. */
int sim_authenticate(sim_ctx *c);
/* 1 when a granted permission (with '*' wildcards per part) covers the wanted one. */
int sim_permission_covers(const char *granted, const char *wanted);
/* The caller's permissions (borrowed JSON array of strings). */
json_t *sim_caller_permissions(sim_ctx *c);
/* 403 missing.any.permissions / missing.permissions naming what is missing. 0 when allowed. */
int sim_require_permissions(sim_ctx *c, sim_perm_mode mode, const char *const *perms);
/* 400 unless the token carries a user context (the Genesys users/me answer). */
int sim_require_user(sim_ctx *c);
/* 400 unless the token is a client-credentials token. */
int sim_require_client(sim_ctx *c);
/* The caller's display name (user name or client name); never NULL. */
const char *sim_caller_name(sim_ctx *c);

#endif
