/*
 * auth.c - tokens: client credentials (POST <login>/oauth/token with Basic
 * auth and grant_type=client_credentials), the refresh of a `gcmsg login`
 * (grant_type=refresh_token), and the token cache that lets processes share
 * them. A token is renewed shortly before expiry and once on a 401 (see
 * gcmsg__api); a token passed in by the caller (access_token) is used as is
 * and cannot be renewed.
 *
 * Renewal is single-flight across threads and processes: the renewer holds an
 * exclusive flock on "<cache>.lock"; once it has it, it re-reads the cache, and
 * when another process renewed meanwhile, it takes that token instead of
 * asking for one more. A failed renewal is GCMSG_EAUTH with the OAuth error and
 * the fix, never a crash.
 *
 * The mode of a client follows from what it holds: it renews a login (user
 * token) when it has a refresh token or no client secret, and asks for a
 * client-credentials token otherwise.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "login_internal.h"
#include "secure.h"
#include "sha256.h"

#define REJECTED (-1.0) /* token_expires_at of a token a 401 refused (kept to tell it apart) */

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
	if (c->shared) {
		/* the parent's token, unless another sender has replaced it meanwhile */
		gcmsg_client *p = c->shared->parent;
		pthread_mutex_lock(&c->shared->mu);
		if (p->token && c->token && strcmp(p->token, c->token) == 0)
			gcmsg__auth_invalidate(p);
		pthread_mutex_unlock(&c->shared->mu);
		return;
	}
	/*
	 * The refused token is kept (marked) until it is replaced: the renewal must
	 * not take the very same token back from the cache.
	 */
	if (c->token)
		c->token_expires_at = REJECTED;
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
	return c->token && c->token_expires_at != REJECTED &&
	       !gcmsg__auth_needs_renewal(gcmsg__now(), c->token_expires_at, c->token_lifetime);
}

/* a login (user token) rather than client credentials */
static int login_mode(const gcmsg_client *c)
{
	return c->refresh_token || !c->client_secret || !*c->client_secret;
}

static void explain(gcmsg_client *c, const char *fmt, ...) GCMSG__PRINTF(2, 3);
static void explain(gcmsg_client *c, const char *fmt, ...)
{
	va_list ap;
	char *what;

	va_start(ap, fmt);
	what = gcmsg__vasprintf(fmt, ap);
	va_end(ap);
	if (!what)
		return;
	free(c->err.explanation);
	c->err.explanation = what;
	c->err.pub.explanation = what;
}

void gcmsg__token_answer_clear(gcmsg__token_answer *a)
{
	gcmsg__free_secret(a->access_token);
	gcmsg__free_secret(a->refresh_token);
	memset(a, 0, sizeof(*a));
}

char *gcmsg__form_escape(const char *s)
{
	return gcmsg__path_escape(s); /* RFC 3986 unreserved kept, everything else %XX */
}

/* token values go into an Authorization header: printable ASCII, no spaces */
static int token_ok(const char *t)
{
	return gcmsg__printable(t, GCMSG__TOKEN_MAX);
}

int gcmsg__auth_token_post(gcmsg_client *c, const char *form, const char *basic_user, const char *basic_pass,
                           const char *what, gcmsg__token_answer *out)
{
	gcmsg__http_resp r;
	gcmsg__http_req req;
	char *url;
	json_t *root = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!c->login_url)
		return gcmsg__err_set(&c->err, GCMSG_ECONFIG, "no login URL configured");
	url = gcmsg__asprintf("%s/oauth/token", c->login_url);
	if (!url)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	gcmsg__http_resp_init(&r);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.basic_user = basic_user;
	req.basic_pass = basic_user ? basic_pass : NULL;
	req.content_type = "application/x-www-form-urlencoded";
	req.body = form;
	req.body_len = strlen(form);
	rc = gcmsg__http_perform(c, &req, &r);
	if (rc < 0)
		goto done; /* network failure: the detail names the login URL */
	if (r.body.len)
		root = json_loadb(r.body.ptr, r.body.len, 0, NULL);
	if (r.status >= 200 && r.status < 300) {
		const char *tok = gcmsg__json_str(root, "access_token");
		const char *refresh = gcmsg__json_str(root, "refresh_token");
		json_t *exp = json_object_get(root, "expires_in");
		if (!token_ok(tok) || (refresh && !token_ok(refresh))) {
			rc = gcmsg__err_set(&c->err, GCMSG_EAUTH,
			                    "the login service answered %ld without a usable access_token", r.status);
			c->err.pub.http_status = r.status;
			goto done;
		}
		out->access_token = gcmsg__strdup(tok);
		out->refresh_token = refresh ? gcmsg__strdup(refresh) : NULL;
		out->expires_in = json_is_integer(exp) && json_integer_value(exp) > 0 &&
		                                  json_integer_value(exp) < 10L * 366 * 24 * 3600
		                      ? (long)json_integer_value(exp)
		                      : 0;
		if (!out->access_token || (refresh && !out->refresh_token)) {
			gcmsg__token_answer_clear(out);
			rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
			goto done;
		}
		rc = GCMSG_OK;
		goto done;
	}
	/* OAuth error: {error, description, error_description} */
	{
		const char *error = gcmsg__json_str(root, "error");
		const char *desc = gcmsg__json_str(root, "error_description");
		if (!desc)
			desc = gcmsg__json_str(root, "description");
		rc = gcmsg__err_from_http(&c->err, r.status, r.body.ptr, r.body.len, r.correlation_id, r.retry_after);
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
		explain(c, "the login service refused %s (HTTP %ld)", what, r.status);
	}
done:
	gcmsg__json_wipe_decref(root);
	gcmsg__http_resp_dispose(&r);
	free(url);
	return rc;
}

void gcmsg__auth_take(gcmsg_client *c, gcmsg__token_answer *a)
{
	gcmsg__free_secret(c->token);
	c->token = a->access_token;
	a->access_token = NULL;
	c->token_lifetime = a->expires_in;
	c->token_expires_at = a->expires_in > 0 ? gcmsg__now() + (double)a->expires_in : 0;
	if (a->refresh_token) {
		gcmsg__free_secret(c->refresh_token);
		c->refresh_token = a->refresh_token;
		a->refresh_token = NULL;
	}
}

static int client_credentials(gcmsg_client *c)
{
	static const char form[] = "grant_type=client_credentials";
	gcmsg__token_answer a;
	char *what = gcmsg__asprintf("the client credentials of OAuth client '%s'", c->client_id);
	int rc;

	if (!what)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	rc = gcmsg__auth_token_post(c, form, c->client_id, c->client_secret, what, &a);
	free(what);
	if (rc == GCMSG_EAUTH && c->err.pub.http_status)
		gcmsg__err_set_fix(&c->err, "check the client id and secret, that the client has the "
		                            "client-credentials grant, and the region (%s)",
		                   c->login_url);
	if (rc < 0)
		return rc;
	/* a refresh token belongs to a login: one given here would turn this client into one */
	gcmsg__free_secret(a.refresh_token);
	a.refresh_token = NULL;
	gcmsg__auth_take(c, &a);
	gcmsg__token_answer_clear(&a);
	return GCMSG_OK;
}

/* grant_type=refresh_token (+ client_id; Basic only for a confidential client) */
static int refresh(gcmsg_client *c)
{
	gcmsg__token_answer a;
	char *rt, *id, *form, *what;
	int rc, secret = c->client_secret && *c->client_secret;

	if (!c->refresh_token) {
		rc = gcmsg__err_set(&c->err, GCMSG_EAUTH,
		                    "the login token has expired or was refused, and there is no refresh token "
		                    "to renew it");
		gcmsg__err_set_fix(&c->err, "run 'gcmsg login' again");
		return rc;
	}
	rt = gcmsg__form_escape(c->refresh_token);
	id = gcmsg__form_escape(c->client_id ? c->client_id : "");
	form = rt && id ? gcmsg__asprintf("grant_type=refresh_token&refresh_token=%s&client_id=%s", rt, id) : NULL;
	what = gcmsg__asprintf("to renew the login of OAuth client '%s'", c->client_id ? c->client_id : "");
	gcmsg__free_secret(rt);
	free(id);
	if (!form || !what) {
		gcmsg__free_secret(form);
		free(what);
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	}
	rc = gcmsg__auth_token_post(c, form, secret ? c->client_id : NULL, secret ? c->client_secret : NULL, what,
	                            &a);
	gcmsg__free_secret(form);
	free(what);
	if (rc == GCMSG_EAUTH && c->err.pub.http_status)
		gcmsg__err_set_fix(&c->err, "the login has expired or was revoked: run 'gcmsg login' again");
	if (rc < 0)
		return rc;
	gcmsg__auth_take(c, &a);
	gcmsg__token_answer_clear(&a);
	return GCMSG_OK;
}

/* ---- the token cache ---- */

/* wall-clock expiry of the client's token (0 unknown) */
static long long wall_expiry(const gcmsg_client *c)
{
	double left;

	if (c->token_expires_at <= 0)
		return 0;
	left = c->token_expires_at - gcmsg__now();
	return gcmsg__wall_now() + (long long)(left > 0 ? left + 0.5 : 0);
}

/* take the entry's token (and refresh token) into the client; the entry keeps nothing secret */
static void adopt(gcmsg_client *c, gcmsg__token_entry *e)
{
	gcmsg__free_secret(c->token);
	c->token = e->access_token;
	e->access_token = NULL;
	c->token_lifetime = e->lifetime;
	if (e->expires_at > 0) {
		double at = gcmsg__now() + (double)(e->expires_at - gcmsg__wall_now());
		c->token_expires_at = at > 0 ? at : 1e-9; /* long past: renew at once */
	} else {
		c->token_expires_at = 0;
	}
	if (e->refresh_token) {
		gcmsg__free_secret(c->refresh_token);
		c->refresh_token = e->refresh_token;
		e->refresh_token = NULL;
	}
}

/*
 * The secretCheck of a client entry: base64url HMAC-SHA256 keyed with the
 * client secret over "gcmsg token cache 1\n" clientId "\n" accessToken (44 bytes
 * with the NUL). A cached client token is taken only by a client whose secret
 * gives the same: a wrong or rotated secret asks the login service again.
 */
static int secret_check(const char *secret, const char *client_id, const char *token, char out[48])
{
	unsigned char mac[GCMSG__SHA256_LEN];
	char *msg = gcmsg__asprintf("gcmsg token cache 1\n%s\n%s", client_id, token);

	if (!msg)
		return -1;
	gcmsg__hmac_sha256(secret, strlen(secret), msg, strlen(msg), mac);
	gcmsg__free_secret(msg);
	gcmsg__base64url(mac, sizeof(mac), out);
	gcmsg__wipe(mac, sizeof(mac));
	return 0;
}

static int secret_matches(const gcmsg_client *c, const gcmsg__token_entry *e)
{
	char want[48];
	int same;

	if (!c->client_secret || !*c->client_secret || !e->secret_check ||
	    secret_check(c->client_secret, e->client_id, e->access_token, want) < 0)
		return 0;
	same = gcmsg__secret_equal(want, e->secret_check);
	gcmsg__wipe(want, sizeof(want));
	return same;
}

static int same_urls(const gcmsg_client *c, const gcmsg__token_entry *e)
{
	return strcmp(e->login_url, c->login_url) == 0 && strcmp(e->api_url, c->api_url) == 0;
}

/* an entry this client may take: same URLs, same client, the kind of its mode */
static int entry_ours(const gcmsg_client *c, const gcmsg__token_entry *e)
{
	if (!same_urls(c, e) || !c->client_id || strcmp(e->client_id, c->client_id) != 0)
		return 0;
	return login_mode(c) ? e->kind == GCMSG__TOKEN_USER : e->kind == GCMSG__TOKEN_CLIENT && secret_matches(c, e);
}

int gcmsg__auth_save(gcmsg_client *c, gcmsg__token_kind kind)
{
	gcmsg__token_entry e;
	char check[48];

	if (!c->token_cache || !c->token || !c->client_id)
		return GCMSG_OK;
	if (kind == GCMSG__TOKEN_CLIENT &&
	    (!c->client_secret || secret_check(c->client_secret, c->client_id, c->token, check) < 0))
		return GCMSG_OK; /* nothing to bind it to: not kept */
	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.login_url = c->login_url;
	e.api_url = c->api_url;
	e.client_id = c->client_id;
	e.access_token = c->token;
	e.expires_at = wall_expiry(c);
	e.lifetime = c->token_lifetime;
	e.refresh_token = kind == GCMSG__TOKEN_USER ? c->refresh_token : NULL;
	e.secret_check = kind == GCMSG__TOKEN_CLIENT ? check : NULL;
	return gcmsg__token_cache_write(c->token_cache, &e, &c->err); /* borrowed strings: no clear */
}

static int renew(gcmsg_client *c)
{
	gcmsg__token_entry e;
	gcmsg__err quiet;
	int lock = -1, rc, have = 0, user = login_mode(c);

	memset(&e, 0, sizeof(e));
	if (c->token_cache) {
		long wait = c->timeout_ms + c->connect_timeout_ms + 5000;
		rc = gcmsg__token_cache_lock(c->token_cache, wait, &lock, &c->err);
		if ((rc == GCMSG_ECONFIG || rc == GCMSG_EAUTH) && !user) {
			/*
			 * Client credentials do not need the cache: carry on without it. A cache
			 * that cannot be made or locked is left for good; a lock another process
			 * has held too long (GCMSG_EAUTH) only for this renewal, whose token is
			 * then not saved (it is not ours to write without the lock).
			 */
			gcmsg__log(c, "not using the token cache%s: %s", rc == GCMSG_EAUTH ? " for this renewal" : "",
			           c->err.explanation ? c->err.explanation : "?");
			gcmsg__err_clear(&c->err);
			if (rc == GCMSG_ECONFIG) {
				free(c->token_cache);
				c->token_cache = NULL;
			}
			return client_credentials(c);
		}
		if (rc < 0)
			return rc; /* a login is not renewed without the lock: a refresh token may be spent once */
		/* another thread or process may have renewed it while we waited */
		gcmsg__err_init(&quiet);
		have = gcmsg__token_cache_read(c->token_cache, &e, &quiet) == GCMSG_OK;
		gcmsg__err_clear(&quiet);
		if (have && entry_ours(c, &e)) {
			int other = !c->token || strcmp(e.access_token, c->token) != 0;
			if (other && !gcmsg__auth_needs_renewal((double)gcmsg__wall_now(), (double)e.expires_at, e.lifetime)) {
				adopt(c, &e);
				gcmsg__log(c, "token renewed by another gcmsg meanwhile: using it (token cache)");
				rc = GCMSG_OK;
				goto done;
			}
			/* a refresh token rotated by another process is the one the server knows now */
			if (user && e.refresh_token && (!c->refresh_token || strcmp(e.refresh_token, c->refresh_token) != 0)) {
				gcmsg__free_secret(c->refresh_token);
				c->refresh_token = e.refresh_token;
				e.refresh_token = NULL;
			}
		}
	}
	rc = user ? refresh(c) : client_credentials(c);
	if (rc == GCMSG_OK && c->token_cache && !(have && !user && e.kind == GCMSG__TOKEN_USER)) {
		/* never a client token over a login; a failure to save costs the next run a renewal */
		gcmsg__err saved = c->err;
		gcmsg__err_init(&c->err);
		if (gcmsg__auth_save(c, user ? GCMSG__TOKEN_USER : GCMSG__TOKEN_CLIENT) < 0)
			gcmsg__log(c, "the renewed token could not be saved: %s",
			           c->err.explanation ? c->err.explanation : "?");
		gcmsg__err_clear(&c->err);
		c->err = saved;
	}
done:
	gcmsg__token_cache_unlock(lock);
	gcmsg__token_entry_clear(&e);
	return rc;
}

/* A forked client's token: the parent's, renewed there once for every sender (gcmsg__shared). */
static int shared_token(gcmsg_client *c, const char **token)
{
	gcmsg__shared *sh = c->shared;
	const char *t = NULL;
	int rc;

	pthread_mutex_lock(&sh->mu);
	rc = gcmsg__auth_token(sh->parent, &t);
	if (rc < 0) {
		gcmsg__err_copy(&c->err, &sh->parent->err);
	} else if (!c->token || strcmp(c->token, t) != 0) {
		char *copy = gcmsg__strdup(t);
		if (!copy) {
			rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		} else {
			gcmsg__free_secret(c->token);
			c->token = copy;
		}
	}
	pthread_mutex_unlock(&sh->mu);
	*token = rc < 0 ? NULL : c->token;
	return rc;
}

int gcmsg__auth_token(gcmsg_client *c, const char **token)
{
	int rc;

	*token = NULL;
	if (c->shared)
		return shared_token(c, token);
	if (c->token_passthrough) {
		*token = c->token;
		return GCMSG_OK;
	}
	if (!token_fresh(c)) {
		rc = renew(c);
		if (rc < 0)
			return rc;
	}
	*token = c->token;
	return GCMSG_OK;
}

static const char creds_fix[] =
	"run 'gcmsg login' (a user login, saved for this profile), or give client credentials "
	"(--client-id and --client-secret, or GENESYSCLOUD_OAUTHCLIENT_ID/_SECRET, or a profile) or a "
	"token (--access-token or GENESYSCLOUD_ACCESS_TOKEN)";

int gcmsg__auth_configure(gcmsg_client *c)
{
	gcmsg__token_entry e;
	int have_id = c->client_id && *c->client_id, have_secret = c->client_secret && *c->client_secret;
	int rc;

	if (have_secret && !have_id) {
		gcmsg__err_set(&c->err, GCMSG_ECONFIG, "a client secret was given without a client id");
		gcmsg__err_set_fix(&c->err, "%s", creds_fix);
		return GCMSG_ECONFIG;
	}
	if (!c->token_cache) {
		if (have_id && have_secret)
			return GCMSG_OK;
		if (have_id)
			gcmsg__err_set(&c->err, GCMSG_ECONFIG, "no client secret for OAuth client '%s'", c->client_id);
		else
			gcmsg__err_set(&c->err, GCMSG_ECONFIG, "no credentials configured");
		gcmsg__err_set_fix(&c->err, "%s", creds_fix);
		return GCMSG_ECONFIG;
	}
	rc = gcmsg__token_cache_read(c->token_cache, &e, &c->err);
	if (rc == GCMSG_ERROR)
		return rc;
	if (rc == GCMSG_ECONFIG) {
		if (!(have_id && have_secret))
			return rc; /* the cache is needed: its error (naming the file, with the fix) stands */
		gcmsg__log(c, "not using the token cache: %s", c->err.explanation ? c->err.explanation : "?");
		gcmsg__err_clear(&c->err);
		free(c->token_cache);
		c->token_cache = NULL;
		return GCMSG_OK;
	}
	gcmsg__err_clear(&c->err);
	if (rc == GCMSG_OK && e.kind == GCMSG__TOKEN_USER && same_urls(c, &e) &&
	    (!have_id || strcmp(e.client_id, c->client_id) == 0)) {
		/* the login: a configured secret of the same client renews it; else none is used */
		if (!have_id && !(c->client_id = gcmsg__strdup(e.client_id))) {
			gcmsg__token_entry_clear(&e);
			return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		}
		if (!e.refresh_token) {
			gcmsg__free_secret(c->client_secret);
			c->client_secret = NULL;
		}
		adopt(c, &e);
		gcmsg__token_entry_clear(&e);
		return GCMSG_OK;
	}
	if (have_id && have_secret) {
		if (rc == GCMSG_OK && e.kind == GCMSG__TOKEN_CLIENT && same_urls(c, &e) &&
		    strcmp(e.client_id, c->client_id) == 0 && secret_matches(c, &e))
			adopt(c, &e);
		gcmsg__token_entry_clear(&e);
		return GCMSG_OK;
	}
	/* the cache cannot stand in for the missing credentials: say why */
	if (rc == GCMSG_ENOTFOUND) {
		if (have_id)
			gcmsg__err_set(&c->err, GCMSG_ECONFIG, "no client secret for OAuth client '%s', and no login in %s",
			               c->client_id, c->token_cache);
		else
			gcmsg__err_set(&c->err, GCMSG_ECONFIG, "no credentials configured, and no login in %s",
			               c->token_cache);
	} else if (e.kind == GCMSG__TOKEN_CLIENT) {
		gcmsg__err_set(&c->err, GCMSG_ECONFIG,
		               "no credentials configured: %s holds a client-credentials token of OAuth client "
		               "'%s', which is used only together with that client's secret",
		               c->token_cache, e.client_id);
	} else if (!same_urls(c, &e)) {
		gcmsg__err_set(&c->err, GCMSG_ECONFIG,
		               "the login in %s was made against %s (API %s), not the configured %s (API %s)",
		               c->token_cache, e.login_url, e.api_url, c->login_url, c->api_url);
	} else {
		gcmsg__err_set(&c->err, GCMSG_ECONFIG,
		               "the login in %s was made with OAuth client '%s', not the configured '%s' (which has "
		               "no client secret)",
		               c->token_cache, e.client_id, c->client_id);
	}
	gcmsg__err_set_fix(&c->err, "%s", creds_fix);
	gcmsg__token_entry_clear(&e);
	return GCMSG_ECONFIG;
}
