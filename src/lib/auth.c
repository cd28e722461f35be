/*
 * auth.c - client-credentials tokens: POST <login>/oauth/token with Basic auth
 * and grant_type=client_credentials; cached in memory, renewed shortly before
 * expiry and once on a 401 (see gcmsg__api). A token passed in by the caller
 * (access_token) is used as is and cannot be renewed.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

double gcmsg__now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void gcmsg__auth_invalidate(gcmsg_client *c)
{
	if (c->token_passthrough)
		return;
	gcmsg__free_secret(c->token);
	c->token = NULL;
	c->token_expires_at = 0;
}

int gcmsg__auth_needs_renewal(double now, double expires_at, long lifetime)
{
	double margin;

	if (expires_at <= 0)
		return 0; /* no expiry known: use it until a 401 says otherwise */
	margin = lifetime >= 600 ? 60.0 : (double)(lifetime > 0 ? lifetime : 0) / 10.0;
	return now >= expires_at - margin;
}

static int token_fresh(const gcmsg_client *c)
{
	return c->token && !gcmsg__auth_needs_renewal(gcmsg__now(), c->token_expires_at, c->token_lifetime);
}

static int token_request(gcmsg_client *c)
{
	static const char form[] = "grant_type=client_credentials";
	gcmsg__http_resp r;
	gcmsg__http_req req;
	char *url;
	json_t *root = NULL;
	int rc;

	if (!c->login_url)
		return gcmsg__err_set(&c->err, GCMSG_ECONFIG, "no login URL configured");
	url = gcmsg__asprintf("%s/oauth/token", c->login_url);
	if (!url)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	gcmsg__http_resp_init(&r);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.basic_user = c->client_id;
	req.basic_pass = c->client_secret;
	req.content_type = "application/x-www-form-urlencoded";
	req.body = form;
	req.body_len = sizeof(form) - 1;
	rc = gcmsg__http_perform(c, &req, &r);
	if (rc < 0) {
		/* network failure: keep the detail, say it was the login */
		goto done;
	}
	if (r.body.len)
		root = json_loadb(r.body.ptr, r.body.len, 0, NULL);
	if (r.status >= 200 && r.status < 300) {
		const char *tok = gcmsg__json_str(root, "access_token");
		json_t *exp = json_object_get(root, "expires_in");
		if (!tok || !*tok) {
			rc = gcmsg__err_set(&c->err, GCMSG_EAUTH,
			                    "the login service answered %ld without an access_token", r.status);
			c->err.pub.http_status = r.status;
			goto done;
		}
		gcmsg__free_secret(c->token);
		c->token = gcmsg__strdup(tok);
		if (!c->token) {
			rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
			goto done;
		}
		c->token_lifetime = json_is_integer(exp) ? (long)json_integer_value(exp) : 0;
		c->token_expires_at = c->token_lifetime > 0 ? gcmsg__now() + (double)c->token_lifetime : 0;
		rc = GCMSG_OK;
		goto done;
	}
	/* OAuth error: {error, description, error_description} */
	{
		const char *error = gcmsg__json_str(root, "error");
		const char *desc = gcmsg__json_str(root, "error_description");
		if (!desc)
			desc = gcmsg__json_str(root, "description");
		rc = gcmsg__err_from_http(&c->err, r.status, r.body.ptr, r.body.len, r.correlation_id,
		                          r.retry_after);
		if (r.status == 400 || r.status == 401 || r.status == 403)
			rc = c->err.pub.code = GCMSG_EAUTH;
		if (error && !c->err.genesys_code) {
			c->err.genesys_code = gcmsg__strdup(error);
			c->err.pub.genesys_code = c->err.genesys_code;
		}
		if (desc && !c->err.message) {
			c->err.message = gcmsg__strdup(desc);
			c->err.pub.message = c->err.message;
		}
		free(c->err.explanation);
		c->err.explanation = gcmsg__asprintf("the login service refused the client credentials of "
		                                     "OAuth client '%s' (HTTP %ld)",
		                                     c->client_id, r.status);
		c->err.pub.explanation = c->err.explanation;
		if (rc == GCMSG_EAUTH)
			gcmsg__err_set_fix(&c->err, "check the client id and secret, that the client has the "
			                            "client-credentials grant, and the region (%s)",
			                   c->login_url);
	}
done:
	json_decref(root);
	gcmsg__http_resp_dispose(&r);
	free(url);
	return rc;
}

int gcmsg__auth_token(gcmsg_client *c, const char **token)
{
	int rc;

	*token = NULL;
	if (c->token_passthrough) {
		*token = c->token;
		return GCMSG_OK;
	}
	if (!token_fresh(c)) {
		rc = token_request(c);
		if (rc < 0)
			return rc;
	}
	*token = c->token;
	return GCMSG_OK;
}
