/*
 * identity.c - who the caller is. GET /api/v2/tokens/me (no permission
 * needed) gives the organization and the OAuth client; GET
 * /api/v2/users/me?expand=authorization answers 200 only for a user token
 * (with the user's permissions); a client-credentials token gets 400, 401 or
 * 403 there.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

gcmsg_identity *gcmsg__identity_new(gcmsg_caller_kind kind, const char *user_id, const char *user_name,
                                    const char *client_id, const char *const *perms, size_t nperms,
                                    int perms_known)
{
	gcmsg_identity *id = calloc(1, sizeof(*id));
	size_t i;

	if (!id)
		return NULL;
	id->kind = kind;
	id->user_id = gcmsg__strdup(user_id);
	id->user_name = gcmsg__strdup(user_name);
	id->client_id = gcmsg__strdup(client_id);
	id->perms_known = perms_known;
	if (nperms) {
		id->perms = calloc(nperms, sizeof(char *));
		if (!id->perms) {
			gcmsg__identity_free(id);
			return NULL;
		}
		for (i = 0; i < nperms; i++) {
			id->perms[i] = gcmsg__strdup(perms[i]);
			if (!id->perms[i]) {
				id->nperms = i;
				gcmsg__identity_free(id);
				return NULL;
			}
		}
		id->nperms = nperms;
	}
	return id;
}

void gcmsg__identity_free(gcmsg_identity *id)
{
	if (!id)
		return;
	free(id->user_id);
	free(id->user_name);
	free(id->preferred_name);
	free(id->client_id);
	free(id->client_name);
	free(id->org_id);
	free(id->org_name);
	gcmsg__free_strv(id->perms, id->nperms);
	free(id);
}

static void read_user(gcmsg_identity *id, const json_t *me)
{
	const json_t *authz = json_object_get(me, "authorization");
	const json_t *perms = json_object_get(authz, "permissions");
	size_t i, n = 0;
	const json_t *p;

	id->kind = GCMSG_CALLER_USER;
	id->user_id = gcmsg__strdup(gcmsg__json_str(me, "id"));
	id->user_name = gcmsg__strdup(gcmsg__json_str(me, "name"));
	id->preferred_name = gcmsg__strdup(gcmsg__json_str(me, "preferredName"));
	if (!id->org_id) {
		const json_t *org = json_object_get(me, "organization");
		id->org_id = gcmsg__strdup(gcmsg__json_str(org, "id"));
		id->org_name = gcmsg__strdup(gcmsg__json_str(org, "name"));
	}
	if (!json_is_array(perms))
		return;
	id->perms = calloc(json_array_size(perms) + 1, sizeof(char *));
	if (!id->perms)
		return;
	json_array_foreach(perms, i, p) {
		if (json_is_string(p))
			id->perms[n++] = gcmsg__strdup(json_string_value(p));
	}
	id->nperms = n;
	id->perms_known = 1;
}

int gcmsg_client_whoami(const gcmsg_identity **out, gcmsg_client *c)
{
	json_t *tokeninfo = NULL, *me = NULL;
	gcmsg__http_resp r;
	gcmsg_identity *id;
	int rc;

	if (!out || !c)
		return GCMSG_EUSAGE;
	*out = NULL;
	if (c->identity) {
		*out = c->identity;
		return GCMSG_OK;
	}
	rc = gcmsg__api(c, "GET", "/api/v2/tokens/me", NULL, 0, &tokeninfo, NULL);
	if (rc < 0)
		return rc;
	id = calloc(1, sizeof(*id));
	if (!id) {
		json_decref(tokeninfo);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	}
	{
		const json_t *org = json_object_get(tokeninfo, "organization");
		const json_t *cl = json_object_get(tokeninfo, "OAuthClient");
		id->org_id = gcmsg__strdup(gcmsg__json_str(org, "id"));
		id->org_name = gcmsg__strdup(gcmsg__json_str(org, "name"));
		id->client_id = gcmsg__strdup(gcmsg__json_str(cl, "id"));
		id->client_name = gcmsg__strdup(gcmsg__json_str(cl, "name"));
		if (!id->client_id && c->client_id)
			id->client_id = gcmsg__strdup(c->client_id);
	}
	json_decref(tokeninfo);

	gcmsg__http_resp_init(&r);
	rc = gcmsg__api(c, "GET", "/api/v2/users/me?expand=authorization", NULL,
	                GCMSG__API_NO_RENEW | GCMSG__API_NO_ERROR, &me, &r);
	if (rc == GCMSG_OK && r.status == 200 && json_is_object(me)) {
		read_user(id, me);
	} else if (rc == GCMSG_OK && (r.status == 400 || r.status == 401 || r.status == 403)) {
		id->kind = GCMSG_CALLER_CLIENT;
	} else if (rc == GCMSG_OK) {
		rc = gcmsg__err_from_http(&c->err, r.status, r.body.ptr, r.body.len, r.correlation_id,
		                          r.retry_after);
		free(c->err.explanation);
		c->err.explanation = gcmsg__asprintf("GET /api/v2/users/me answered %ld", r.status);
		c->err.pub.explanation = c->err.explanation;
		if (rc == GCMSG_OK)
			rc = GCMSG_EREMOTE;
	}
	json_decref(me);
	gcmsg__http_resp_dispose(&r);
	if (rc < 0) {
		gcmsg__identity_free(id);
		return rc;
	}
	c->identity = id;
	*out = id;
	return GCMSG_OK;
}

gcmsg_caller_kind gcmsg_identity_kind(const gcmsg_identity *id)
{
	return id ? id->kind : GCMSG_CALLER_UNKNOWN;
}

const char *gcmsg_identity_kind_name(const gcmsg_identity *id)
{
	switch (gcmsg_identity_kind(id)) {
	case GCMSG_CALLER_USER: return "user";
	case GCMSG_CALLER_CLIENT: return "client";
	default: return "unknown";
	}
}

const char *gcmsg_identity_user_id(const gcmsg_identity *id) { return id ? id->user_id : NULL; }
const char *gcmsg_identity_user_name(const gcmsg_identity *id) { return id ? id->user_name : NULL; }
const char *gcmsg_identity_user_preferred_name(const gcmsg_identity *id) { return id ? id->preferred_name : NULL; }
const char *gcmsg_identity_client_id(const gcmsg_identity *id) { return id ? id->client_id : NULL; }
const char *gcmsg_identity_client_name(const gcmsg_identity *id) { return id ? id->client_name : NULL; }
const char *gcmsg_identity_org_id(const gcmsg_identity *id) { return id ? id->org_id : NULL; }
const char *gcmsg_identity_org_name(const gcmsg_identity *id) { return id ? id->org_name : NULL; }
int gcmsg_identity_permissions_known(const gcmsg_identity *id) { return id ? id->perms_known : 0; }
size_t gcmsg_identity_permission_count(const gcmsg_identity *id) { return id ? id->nperms : 0; }

const char *gcmsg_identity_permission(const gcmsg_identity *id, size_t i)
{
	return id && i < id->nperms ? id->perms[i] : NULL;
}

char *gcmsg__identity_who(const gcmsg_identity *id)
{
	if (!id)
		return NULL;
	if (id->kind == GCMSG_CALLER_USER && id->user_id)
		return gcmsg__asprintf("user:%s", id->user_id);
	if (id->client_id)
		return gcmsg__asprintf("client:%s", id->client_id);
	return NULL;
}
