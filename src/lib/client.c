/* client.c - client handle, configuration checks, the API call helper. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "login_internal.h"
#include "pacer.h"
#include "retry.h"

const char *gcmsg_version(void)
{
	return GCMSG_VERSION;
}

int gcmsg_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? GCMSG_OK : GCMSG_ERROR;
}

void gcmsg_global_cleanup(void)
{
	curl_global_cleanup();
}

static int url_ok(const char *u)
{
	return strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0;
}

/* copy without trailing slashes */
static char *base_url(const char *u)
{
	char *p = gcmsg__strdup(u);
	size_t n;

	if (!p)
		return NULL;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		p[--n] = '\0';
	return p;
}

/* bare: no credentials wanted (gcmsg__client_new_bare); those in o are ignored */
static int client_configure(gcmsg_client *c, const gcmsg_client_options *o, int bare)
{
	gcmsg_region_info info;
	int have_token = !bare && o->access_token && *o->access_token;
	/* with a token cache, gcmsg__auth_configure (auth.c) decides at the end */
	int have_cache = o->version >= 2 && o->token_cache && *o->token_cache;

	if (!bare && !have_token && !have_cache &&
	    !(o->client_id && *o->client_id && o->client_secret && *o->client_secret)) {
		if (o->client_id && *o->client_id)
			gcmsg__err_set(&c->err, GCMSG_ECONFIG, "no client secret for OAuth client '%s'",
			               o->client_id);
		else if (o->client_secret && *o->client_secret)
			gcmsg__err_set(&c->err, GCMSG_ECONFIG, "a client secret was given without a client id");
		else
			gcmsg__err_set(&c->err, GCMSG_ECONFIG, "no credentials configured");
		gcmsg__err_set_fix(&c->err,
		                   "give client credentials (--client-id and --client-secret, or "
		                   "GENESYSCLOUD_OAUTHCLIENT_ID/_SECRET, or a profile) or a user token "
		                   "(--access-token or GENESYSCLOUD_ACCESS_TOKEN)");
		return GCMSG_ECONFIG;
	}
	if ((o->api_url && !url_ok(o->api_url)) || (o->login_url && !url_ok(o->login_url))) {
		gcmsg__err_set(&c->err, GCMSG_ECONFIG, "API and login URLs must start with https:// (or http:// for a local emulator): '%s'",
		               o->api_url && !url_ok(o->api_url) ? o->api_url : o->login_url);
		return GCMSG_ECONFIG;
	}
	if (!o->api_url) {
		const char *region = o->region && *o->region ? o->region : "us_east_1";
		if (gcmsg_region_resolve(&info, region) != GCMSG_OK) {
			gcmsg__err_set(&c->err, GCMSG_ECONFIG, "unknown region '%s'", region);
			gcmsg__err_set_fix(&c->err, "give a region key such as eu-central-1 or eu_central_1, "
			                            "or a domain such as mypurecloud.de");
			return GCMSG_ECONFIG;
		}
		c->api_url = base_url(info.api_url);
		c->login_url = base_url(o->login_url ? o->login_url : info.login_url);
	} else {
		c->api_url = base_url(o->api_url);
		/*
		 * No login URL with an API URL override: never fall back to a real region
		 * (that would send the secret elsewhere). https://api.X -> https://login.X,
		 * otherwise the same base URL (gcsim serves both).
		 */
		if (o->login_url)
			c->login_url = base_url(o->login_url);
		else if (strncmp(o->api_url, "https://api.", 12) == 0)
			c->login_url = gcmsg__asprintf("https://login.%s", o->api_url + 12);
		else
			c->login_url = gcmsg__strdup(o->api_url);
		if (c->login_url) {
			size_t n = strlen(c->login_url);
			while (n > 0 && c->login_url[n - 1] == '/')
				c->login_url[--n] = '\0';
		}
	}
	if (!c->api_url || !c->login_url)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	if (have_token) {
		c->token = gcmsg__strdup(o->access_token);
		c->token_passthrough = 1;
		if (!c->token)
			return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	} else if (!bare) {
		c->client_id = gcmsg__strdup(o->client_id);
		c->client_secret = gcmsg__strdup(o->client_secret);
		if ((o->client_id && !c->client_id) || (o->client_secret && !c->client_secret))
			return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	}
	if (o->cacert && *o->cacert) {
		if (access(o->cacert, R_OK) != 0) {
			gcmsg__err_set(&c->err, GCMSG_ECONFIG, "cannot read the CA file '%s': %s", o->cacert,
			               strerror(errno));
			return GCMSG_ECONFIG;
		}
		c->cacert = gcmsg__strdup(o->cacert);
		if (!c->cacert)
			return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	}
	c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	c->log = o->log;
	c->log_payload = o->log_payload;
	c->retry = (gcmsg_retry_policy)GCMSG_RETRY_POLICY_INIT;
	if (o->version >= 2) {
		if (o->retry) {
			if (o->retry->version != GCMSG_RETRY_POLICY_VERSION)
				return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "unknown gcmsg_retry_policy version %u",
				                      o->retry->version);
			c->retry = *o->retry;
		}
		c->no_pacing = o->no_pacing != 0;
		if (o->token_cache && *o->token_cache && !(c->token_cache = gcmsg__strdup(o->token_cache)))
			return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	}
	if (!have_token && !bare) {
		int rc = gcmsg__auth_configure(c); /* the token cache, or client credentials */
		if (rc < 0)
			return rc;
	}
	c->curl = curl_easy_init();
	if (!c->curl)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "cannot initialise libcurl");
	c->configured = 1;
	return GCMSG_OK;
}

static int client_new(gcmsg_client **out, const gcmsg_client_options *opts, int bare)
{
	gcmsg_client *c;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return GCMSG_ERROR;
	gcmsg__err_init(&c->err);
	*out = c;
	if (!opts)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "no client options given");
	if (opts->version < 1 || opts->version > GCMSG_CLIENT_OPTIONS_VERSION)
		return gcmsg__err_set(&c->err, GCMSG_EUSAGE, "unknown gcmsg_client_options version %u",
		                      opts->version);
	return client_configure(c, opts, bare);
}

int gcmsg_client_new(gcmsg_client **out, const gcmsg_client_options *opts)
{
	return client_new(out, opts, 0);
}

int gcmsg__client_new_bare(gcmsg_client **out, const gcmsg_client_options *opts)
{
	return client_new(out, opts, 1);
}

/* The parent's log callback, one line at a time (forked clients log from many threads). */
static void shared_log(const char *line, void *payload)
{
	gcmsg__shared *sh = payload;

	pthread_mutex_lock(&sh->mu);
	if (sh->parent->log)
		sh->parent->log(line, sh->parent->log_payload);
	pthread_mutex_unlock(&sh->mu);
}

int gcmsg__client_fork(gcmsg_client **out, gcmsg_client *parent, gcmsg__shared *sh, struct gcmsg__transport *t)
{
	gcmsg_client *c;

	*out = NULL;
	if (!(c = calloc(1, sizeof(*c))))
		return gcmsg__err_set(&parent->err, GCMSG_ERROR, "out of memory");
	gcmsg__err_init(&c->err);
	c->api_url = gcmsg__strdup(parent->api_url);
	c->login_url = gcmsg__strdup(parent->login_url);
	c->cacert = parent->cacert ? gcmsg__strdup(parent->cacert) : NULL;
	c->curl = curl_easy_init();
	if (!c->api_url || !c->login_url || (parent->cacert && !c->cacert) || !c->curl) {
		gcmsg_client_free(c);
		return gcmsg__err_set(&parent->err, GCMSG_ERROR, "out of memory");
	}
	/* no credentials of its own: every token comes from the parent (auth.c) */
	c->token_passthrough = parent->token_passthrough;
	c->connect_timeout_ms = parent->connect_timeout_ms;
	c->timeout_ms = parent->timeout_ms;
	c->log = parent->log ? shared_log : NULL;
	c->log_payload = sh;
	c->retry = parent->retry;
	c->no_pacing = parent->no_pacing;
	c->identity = parent->identity;
	c->identity_borrowed = 1;
	c->shared = sh;
	c->transport = t;
	c->configured = 1;
	*out = c;
	return GCMSG_OK;
}

void gcmsg_client_free(gcmsg_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	gcmsg__err_clear(&c->err);
	free(c->api_url);
	free(c->login_url);
	free(c->client_id);
	gcmsg__free_secret(c->client_secret);
	gcmsg__free_secret(c->token);
	gcmsg__free_secret(c->refresh_token);
	free(c->token_cache);
	free(c->pacer);
	free(c->cacert);
	if (!c->identity_borrowed)
		gcmsg__identity_free(c->identity);
	free(c);
}

const gcmsg_error *gcmsg_client_last_error(const gcmsg_client *c)
{
	return c ? &c->err.pub : NULL;
}

const char *gcmsg_client_api_url(const gcmsg_client *c)
{
	return c ? c->api_url : NULL;
}

char *gcmsg__json_body(const json_t *body)
{
	return json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

int gcmsg__api_renewable_401(const gcmsg__http_resp *r)
{
	json_t *root;
	const char *code;
	int yes = 0;

	root = json_loadb(gcmsg__buf_cstr(&r->body), r->body.len, 0, NULL);
	code = gcmsg__json_str(root, "code");
	if (code && (strcmp(code, "credentials.expired") == 0 || strcmp(code, "bad.credentials") == 0))
		yes = 1;
	json_decref(root);
	return yes;
}

int gcmsg__api_once(gcmsg_client *c, const char *method, const char *path, const char *body,
                    gcmsg__http_resp *r, int *token_failed)
{
	gcmsg__http_req req;
	const char *token;
	char *url;
	int rc;

	*token_failed = 0;
	gcmsg__buf_clear(&r->body);
	r->status = 0;
	r->sent_maybe = 0;
	r->retry_after = -1;
	r->date_ms = r->retry_after_date_ms = -1;
	r->correlation_id[0] = r->rl_count[0] = r->rl_allowed[0] = r->rl_reset[0] = '\0';
	rc = gcmsg__auth_token(c, &token);
	if (rc < 0) {
		*token_failed = 1;
		return rc;
	}
	url = gcmsg__asprintf("%s%s", c->api_url, path);
	if (!url)
		return gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.bearer = token;
	if (body) {
		req.content_type = "application/json";
		req.body = body;
		req.body_len = strlen(body);
	}
	gcmsg__pace(c, method, path);
	rc = gcmsg__http_perform(c, &req, r);
	gcmsg__pace_learn(c, rc == GCMSG_OK ? r : NULL);
	free(url);
	return rc;
}

int gcmsg__api_error(gcmsg_client *c, const char *method, const char *path, const gcmsg__http_resp *r)
{
	int rc = gcmsg__err_from_http(&c->err, r->status, r->body.ptr, r->body.len, r->correlation_id,
	                              r->retry_after);
	char *what = gcmsg__asprintf("%s %s answered %ld", method, path, r->status);

	free(c->err.explanation);
	c->err.explanation = what;
	c->err.pub.explanation = what;
	if (r->status == 401) {
		if (c->token_passthrough)
			gcmsg__err_set_fix(&c->err, "the access token was refused; gcmsg cannot renew a token it "
			                            "did not obtain: get a new one (log in again), or use client "
			                            "credentials");
		else
			gcmsg__err_set_fix(&c->err, "the token was refused even after renewing it: check the "
			                            "OAuth client and its organization");
	} else if (r->status == 429) {
		if (r->retry_after >= 0)
			gcmsg__err_set_fix(&c->err, "wait %ld s (Retry-After) and try again", r->retry_after);
		else
			gcmsg__err_set_fix(&c->err, "wait a few seconds and try again (the answer had no "
			                            "Retry-After header)");
	}
	return rc;
}

/*
 * Reads (GET, HEAD, and POSTs flagged GCMSG__API_READ) are retried on a 429,
 * an ambiguous failure (5xx but 501, timeout, reset, empty reply) and a
 * connection that could not be made, within the client's retry policy; each
 * retry is logged. A failure to get a token is retried the same way when it is
 * a network failure, a 429 or a 5xx of the login service. Other POSTs are made
 * once (plus the one renewal on a 401): a message sent twice reaches the
 * customer twice, so the send path (deliver.c) does its own retrying.
 */
int gcmsg__api(gcmsg_client *c, const char *method, const char *path, const json_t *body,
               unsigned flags, json_t **out, gcmsg__http_resp *resp_out)
{
	gcmsg__http_resp local, *r = resp_out ? resp_out : &local;
	gcmsg__retry retry;
	char *text = NULL;
	int rc, renewed = 0, token_failed;
	int is_read = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 || (flags & GCMSG__API_READ);
	int retries = is_read && !(flags & GCMSG__API_NO_RETRY);

	if (out)
		*out = NULL;
	if (!c || !c->configured)
		return c ? c->err.pub.code : GCMSG_EUSAGE;
	if (!resp_out)
		gcmsg__http_resp_init(&local);
	if (body && !(text = gcmsg__json_body(body))) {
		rc = gcmsg__err_set(&c->err, GCMSG_ERROR, "out of memory");
		goto done;
	}
	gcmsg__retry_init(&retry, &c->retry);
	for (;;) {
		gcmsg__outcome o;
		long long wait;
		long status, retry_after;
		gcmsg__retry_stop stop;

		rc = gcmsg__api_once(c, method, path, text, r, &token_failed);
		if (rc == GCMSG_OK && r->status == 401 && !(flags & GCMSG__API_NO_RENEW) && !renewed &&
		    !c->token_passthrough && gcmsg__api_renewable_401(r)) {
			gcmsg__log(c, "token refused (401): renewing it once and retrying");
			gcmsg__auth_invalidate(c);
			renewed = 1;
			continue;
		}
		if (!retries || (rc < 0 && rc != GCMSG_EREMOTE && rc != GCMSG_ERATELIMIT))
			break;
		if (token_failed) {
			/* the login service's answer (or none): the request itself never left */
			status = c->err.pub.http_status;
			retry_after = c->err.pub.retry_after;
			o = gcmsg__retry_classify(status, 0);
		} else {
			status = r->status;
			retry_after = r->retry_after;
			o = gcmsg__retry_classify(status, r->sent_maybe);
		}
		stop = gcmsg__retry_next(&retry, o, retry_after, &wait);
		if (stop != GCMSG__RETRY_GO) {
			if (o == GCMSG__OUTCOME_THROTTLED || o == GCMSG__OUTCOME_AMBIGUOUS || o == GCMSG__OUTCOME_UNSENT)
				gcmsg__log(c, "%s %s%s -> %ld; not retried: %s", method, path,
				           token_failed ? " (login)" : "", status, gcmsg__retry_stop_name(stop));
			break;
		}
		gcmsg__log(c, "%s %s%s -> %ld; retry %d in %lld ms", method, path, token_failed ? " (login)" : "",
		           status, retry.attempts, wait);
		gcmsg__sleep_ms(wait);
	}
	if (rc < 0)
		goto done;
	if (r->status >= 200 && r->status < 300) {
		if (out && r->body.len) {
			json_error_t jerr;
			*out = json_loadb(r->body.ptr, r->body.len, 0, &jerr);
			if (!*out) {
				rc = gcmsg__err_set(&c->err, GCMSG_EREMOTE,
				                    "the answer to %s %s is not JSON: line %d column %d: %s",
				                    method, path, jerr.line, jerr.column, jerr.text);
				c->err.pub.http_status = r->status;
				goto done;
			}
		}
		rc = GCMSG_OK;
		goto done;
	}
	if (flags & GCMSG__API_NO_ERROR) {
		rc = GCMSG_OK;
		goto done;
	}
	rc = gcmsg__api_error(c, method, path, r);
done:
	free(text);
	if (!resp_out)
		gcmsg__http_resp_dispose(&local);
	return rc;
}
