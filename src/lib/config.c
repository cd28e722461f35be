/*
 * config.c - layered configuration: profile file < environment < flags,
 * credentials taken as one group from the highest layer that sets any.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "toml.h"
#include "webhook_internal.h"

#define LAYERS 4 /* index = gcmsg_config_layer; 0 unused */
#define CONFIG_FILE_CAP ((size_t)1024 * 1024)

/* A webhook of the configuration: strings owned, the secret zeroed at free. */
typedef struct cfg_hook {
	char *name, *url, *secret;
	unsigned events;
	size_t tindex; /* its table in the file being read */
} cfg_hook;

struct gcmsg_config {
	gcmsg__err err;
	char *values[LAYERS][GCMSG_CONFIG_KEY_COUNT];
	cfg_hook *hooks;   /* [<profile>.webhooks.<name>] tables of the file, in file order */
	size_t nhooks;
	cfg_hook env_hook; /* GCMSG_WEBHOOK_URL + GCMSG_WEBHOOK_SECRET: the webhook "env" (name NULL: none) */
};

static void hooks_clear(cfg_hook *hooks, size_t n);
static int load_file_hooks(gcmsg_config *cfg, const gcmsg__toml_doc *doc, const char *file, const char *profile);
static int is_hook_secret(const gcmsg__toml_doc *doc, const gcmsg__toml_entry *e);
static int load_env_hook(gcmsg_config *cfg);

static const struct {
	const char *name;
	gcmsg_config_key key;
} file_keys[] = {
	{ "region", GCMSG_CONFIG_REGION },
	{ "environment", GCMSG_CONFIG_REGION }, /* the official gc CLI's name */
	{ "client_id", GCMSG_CONFIG_CLIENT_ID },
	{ "client_credentials", GCMSG_CONFIG_CLIENT_ID }, /* the official gc CLI's name */
	{ "client_secret", GCMSG_CONFIG_CLIENT_SECRET },
	{ "access_token", GCMSG_CONFIG_ACCESS_TOKEN },
	{ "api_url", GCMSG_CONFIG_API_URL },
	{ "login_url", GCMSG_CONFIG_LOGIN_URL },
	{ "cacert", GCMSG_CONFIG_CACERT },
	{ "store", GCMSG_CONFIG_STORE },
	{ "policy", GCMSG_CONFIG_POLICY },
	{ "retry_max_attempts", GCMSG_CONFIG_RETRY_MAX_ATTEMPTS },
	{ "retry_budget_ms", GCMSG_CONFIG_RETRY_BUDGET_MS },
	{ "retry_backoff_base_ms", GCMSG_CONFIG_RETRY_BACKOFF_BASE_MS },
	{ "retry_backoff_cap_ms", GCMSG_CONFIG_RETRY_BACKOFF_CAP_MS },
	{ "retry_after_default_ms", GCMSG_CONFIG_RETRY_AFTER_DEFAULT_MS },
	{ "retry_after_cap_ms", GCMSG_CONFIG_RETRY_AFTER_CAP_MS },
	{ "readback_settle_ms", GCMSG_CONFIG_READBACK_SETTLE_MS },
	{ "readback_horizon_ms", GCMSG_CONFIG_READBACK_HORIZON_MS },
};

static const struct {
	const char *env;
	gcmsg_config_key key;
} env_keys[] = {
	{ "GENESYSCLOUD_REGION", GCMSG_CONFIG_REGION },
	{ "GENESYSCLOUD_OAUTHCLIENT_ID", GCMSG_CONFIG_CLIENT_ID },
	{ "GENESYSCLOUD_OAUTHCLIENT_SECRET", GCMSG_CONFIG_CLIENT_SECRET },
	{ "GENESYSCLOUD_ACCESS_TOKEN", GCMSG_CONFIG_ACCESS_TOKEN },
	{ "GCMSG_API_URL", GCMSG_CONFIG_API_URL },
	{ "GCMSG_LOGIN_URL", GCMSG_CONFIG_LOGIN_URL },
	{ "GCMSG_STORE", GCMSG_CONFIG_STORE },
	{ "GCMSG_POLICY", GCMSG_CONFIG_POLICY },
	{ "GCMSG_RETRY_MAX_ATTEMPTS", GCMSG_CONFIG_RETRY_MAX_ATTEMPTS },
	{ "GCMSG_RETRY_BUDGET_MS", GCMSG_CONFIG_RETRY_BUDGET_MS },
	{ "GCMSG_RETRY_BACKOFF_BASE_MS", GCMSG_CONFIG_RETRY_BACKOFF_BASE_MS },
	{ "GCMSG_RETRY_BACKOFF_CAP_MS", GCMSG_CONFIG_RETRY_BACKOFF_CAP_MS },
	{ "GCMSG_RETRY_AFTER_DEFAULT_MS", GCMSG_CONFIG_RETRY_AFTER_DEFAULT_MS },
	{ "GCMSG_RETRY_AFTER_CAP_MS", GCMSG_CONFIG_RETRY_AFTER_CAP_MS },
	{ "GCMSG_READBACK_SETTLE_MS", GCMSG_CONFIG_READBACK_SETTLE_MS },
	{ "GCMSG_READBACK_HORIZON_MS", GCMSG_CONFIG_READBACK_HORIZON_MS },
};

/* The keys whose values are whole numbers (the retry policy). */
static int is_number_key(gcmsg_config_key k)
{
	return k >= GCMSG_CONFIG_RETRY_MAX_ATTEMPTS && k < GCMSG_CONFIG_KEY_COUNT;
}

static int is_credential(gcmsg_config_key k)
{
	return k == GCMSG_CONFIG_CLIENT_ID || k == GCMSG_CONFIG_CLIENT_SECRET || k == GCMSG_CONFIG_ACCESS_TOKEN;
}

int gcmsg_config_new(gcmsg_config **out)
{
	if (!out)
		return GCMSG_EUSAGE;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return GCMSG_ERROR;
	gcmsg__err_init(&(*out)->err);
	return GCMSG_OK;
}

void gcmsg_config_free(gcmsg_config *cfg)
{
	int l, k;

	if (!cfg)
		return;
	for (l = 0; l < LAYERS; l++)
		for (k = 0; k < GCMSG_CONFIG_KEY_COUNT; k++)
			gcmsg__free_secret(cfg->values[l][k]);
	hooks_clear(cfg->hooks, cfg->nhooks);
	hooks_clear(&cfg->env_hook, 1);
	free(cfg->hooks);
	gcmsg__err_clear(&cfg->err);
	free(cfg);
}

const gcmsg_error *gcmsg_config_last_error(const gcmsg_config *cfg)
{
	return cfg ? &cfg->err.pub : NULL;
}

static int set_layer(gcmsg_config *cfg, int layer, gcmsg_config_key key, const char *value)
{
	char *v = gcmsg__strdup(value);

	if (!v)
		return gcmsg__err_set(&cfg->err, GCMSG_ERROR, "out of memory");
	gcmsg__free_secret(cfg->values[layer][key]);
	cfg->values[layer][key] = v;
	return GCMSG_OK;
}

char *gcmsg_config_default_path(void)
{
	const char *p = getenv("GCMSG_CONFIG"), *home;

	if (p && *p)
		return gcmsg__strdup(p);
	home = getenv("HOME");
	if (!home || !*home)
		return NULL;
	return gcmsg__asprintf("%s/.gcmsg/config.toml", home);
}

/* Read a whole (small) file; -1 with errno on failure. */
static int read_file(int fd, gcmsg_buf *b)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (gcmsg__buf_append(b, chunk, (size_t)n) < 0) {
			errno = EFBIG;
			return -1;
		}
	}
	return 0;
}

int gcmsg_config_load_file(gcmsg_config *cfg, const char *path, const char *profile)
{
	char *def = NULL;
	const char *file, *table = profile ? profile : "DEFAULT";
	gcmsg_buf text = GCMSG_BUF_INIT(CONFIG_FILE_CAP);
	gcmsg__toml_doc doc;
	char why[512], num[32];
	struct stat st;
	int fd, rc = GCMSG_OK;
	size_t i, j;

	if (!cfg)
		return GCMSG_EUSAGE;
	gcmsg__err_clear(&cfg->err);
	if (!path) {
		def = gcmsg_config_default_path();
		if (!def) {
			if (profile) {
				rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG,
				                    "profile '%s' asked for, but neither GCMSG_CONFIG nor HOME is set",
				                    profile);
			}
			return rc;
		}
	}
	file = path ? path : def;
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && !path && !profile && !getenv("GCMSG_CONFIG")) {
			free(def);
			return GCMSG_OK; /* no config file: nothing to read */
		}
		rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "cannot read config file %s: %s", file,
		                    strerror(errno));
		if (errno == ENOENT && profile)
			gcmsg__err_set_fix(&cfg->err, "create %s with a [%s] table, or drop --profile", file, profile);
		free(def);
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "config file %s is not a regular file", file);
		close(fd);
		free(def);
		return rc;
	}
	if (read_file(fd, &text) < 0) {
		rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "cannot read config file %s: %s", file,
		                    errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		close(fd);
		gcmsg__buf_dispose(&text);
		free(def);
		return rc;
	}
	close(fd);
	/* arrays: a webhook's events = ["attempt", "outcome"] */
	if (gcmsg__toml_parse_ex(&doc, gcmsg__buf_cstr(&text), text.len, GCMSG__TOML_ARRAYS, why, sizeof(why)) < 0) {
		gcmsg__buf_dispose(&text);
		rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "%s: %s", file, why);
		free(def);
		return rc;
	}
	gcmsg__buf_dispose(&text);

	/* a file holding any secret must not be readable by group or others */
	if (st.st_mode & 077) {
		for (i = 0; i < doc.count; i++) {
			if (strcmp(doc.items[i].key, "client_secret") == 0 ||
			    strcmp(doc.items[i].key, "access_token") == 0 || is_hook_secret(&doc, &doc.items[i])) {
				rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG,
				                    "config file %s holds a secret (%s, line %d) but its mode is %04o: "
				                    "group or others can read it",
				                    file, doc.items[i].key, doc.items[i].line,
				                    (unsigned)(st.st_mode & 07777));
				gcmsg__err_set_fix(&cfg->err, "chmod 600 %s", file);
				goto out;
			}
		}
	}
	if (!gcmsg__toml_has_table(&doc, table)) {
		if (profile) {
			rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "profile '%s' is not in %s", profile, file);
			gcmsg__err_set_fix(&cfg->err, "add a [%s] table to %s, or pick another --profile", profile,
			                   file);
		}
		goto out;
	}
	for (i = 0; i < doc.count; i++) {
		const gcmsg__toml_entry *e = &doc.items[i];
		int known = 0;
		if (strcmp(e->table, table) != 0)
			continue;
		for (j = 0; j < sizeof(file_keys) / sizeof(file_keys[0]); j++) {
			if (strcmp(e->key, file_keys[j].name) != 0)
				continue;
			known = 1;
			/* the retry settings are numbers, and may be written as TOML integers */
			if (e->type == GCMSG_TOML_INT && is_number_key(file_keys[j].key)) {
				snprintf(num, sizeof(num), "%lld", e->num);
			} else if (e->type != GCMSG_TOML_STRING) {
				rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "%s: line %d: '%s' must be a %s", file,
				                    e->line, e->key, is_number_key(file_keys[j].key) ? "number" : "string");
				goto out;
			}
			if (cfg->values[GCMSG_CONFIG_LAYER_FILE][file_keys[j].key]) {
				rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG,
				                    "%s: line %d: '%s' sets the same value as another key of [%s]",
				                    file, e->line, e->key, table);
				goto out;
			}
			rc = set_layer(cfg, GCMSG_CONFIG_LAYER_FILE, file_keys[j].key,
			               e->type == GCMSG_TOML_INT ? num : e->str);
			if (rc < 0)
				goto out;
		}
		if (!known) {
			rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "%s: line %d: unknown key '%s' in [%s]", file,
			                    e->line, e->key, table);
			gcmsg__err_set_fix(&cfg->err, "known keys: region (or environment), client_id (or "
			                              "client_credentials), client_secret, access_token, api_url, "
			                              "login_url, cacert, store, policy, retry_max_attempts, "
			                              "retry_budget_ms, retry_backoff_base_ms, retry_backoff_cap_ms, "
			                              "retry_after_default_ms, retry_after_cap_ms, readback_settle_ms, "
			                              "readback_horizon_ms; webhooks are tables [%s.webhooks.NAME]",
			                   table);
			goto out;
		}
	}
	rc = load_file_hooks(cfg, &doc, file, table);
out:
	gcmsg__toml_free(&doc);
	free(def);
	return rc;
}

int gcmsg_config_load_env(gcmsg_config *cfg)
{
	size_t i;
	int rc;

	if (!cfg)
		return GCMSG_EUSAGE;
	for (i = 0; i < sizeof(env_keys) / sizeof(env_keys[0]); i++) {
		const char *v = getenv(env_keys[i].env);
		if (!v || !*v)
			continue;
		rc = set_layer(cfg, GCMSG_CONFIG_LAYER_ENV, env_keys[i].key, v);
		if (rc < 0)
			return rc;
	}
	return load_env_hook(cfg);
}

int gcmsg_config_set(gcmsg_config *cfg, gcmsg_config_key key, const char *value)
{
	if (!cfg || (int)key < 0 || key >= GCMSG_CONFIG_KEY_COUNT)
		return GCMSG_EUSAGE;
	if (!value)
		return GCMSG_OK;
	return set_layer(cfg, GCMSG_CONFIG_LAYER_FLAG, key, value);
}

static int credential_layer(const gcmsg_config *cfg)
{
	int l;

	for (l = LAYERS - 1; l > 0; l--)
		if (cfg->values[l][GCMSG_CONFIG_CLIENT_ID] || cfg->values[l][GCMSG_CONFIG_CLIENT_SECRET] ||
		    cfg->values[l][GCMSG_CONFIG_ACCESS_TOKEN])
			return l;
	return 0;
}

gcmsg_config_layer gcmsg_config_source(const gcmsg_config *cfg, gcmsg_config_key key)
{
	int l;

	if (!cfg || (int)key < 0 || key >= GCMSG_CONFIG_KEY_COUNT)
		return GCMSG_CONFIG_LAYER_NONE;
	if (is_credential(key)) {
		l = credential_layer(cfg);
		return l && cfg->values[l][key] ? (gcmsg_config_layer)l : GCMSG_CONFIG_LAYER_NONE;
	}
	for (l = LAYERS - 1; l > 0; l--)
		if (cfg->values[l][key])
			return (gcmsg_config_layer)l;
	return GCMSG_CONFIG_LAYER_NONE;
}

const char *gcmsg_config_get(const gcmsg_config *cfg, gcmsg_config_key key)
{
	gcmsg_config_layer l = gcmsg_config_source(cfg, key);

	return l == GCMSG_CONFIG_LAYER_NONE ? NULL : cfg->values[l][key];
}

/* The name a key has where its value came from: the file key, the variable, or a flag. */
static const char *key_origin(const gcmsg_config *cfg, gcmsg_config_key key)
{
	size_t i;

	switch (gcmsg_config_source(cfg, key)) {
	case GCMSG_CONFIG_LAYER_ENV:
		for (i = 0; i < sizeof(env_keys) / sizeof(env_keys[0]); i++)
			if (env_keys[i].key == key)
				return env_keys[i].env;
		break;
	case GCMSG_CONFIG_LAYER_FILE:
		for (i = 0; i < sizeof(file_keys) / sizeof(file_keys[0]); i++)
			if (file_keys[i].key == key)
				return file_keys[i].name;
		break;
	default:
		break;
	}
	return "a flag";
}

/* One retry setting: absent leaves *out alone; else a decimal integer in [lo, hi]. */
static int retry_value(gcmsg_config *cfg, gcmsg_config_key key, long lo, long hi, long *out)
{
	const char *v = gcmsg_config_get(cfg, key);
	char *end;
	long n;

	if (!v)
		return GCMSG_OK;
	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || *end || errno || n < lo || n > hi || *v == '+' || *v == ' ')
		return gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "%s: '%s' is not a whole number from %ld to %ld",
		                      key_origin(cfg, key), v, lo, hi);
	*out = n;
	return GCMSG_OK;
}

int gcmsg_config_retry_policy(gcmsg_config *cfg, gcmsg_retry_policy *out)
{
	static const long DAY_MS = 86400000L;
	long attempts = 0;
	int rc;

	if (!cfg || !out)
		return GCMSG_EUSAGE;
	*out = (gcmsg_retry_policy)GCMSG_RETRY_POLICY_INIT;
	if ((rc = retry_value(cfg, GCMSG_CONFIG_RETRY_MAX_ATTEMPTS, 1, 100, &attempts)) < 0 ||
	    (rc = retry_value(cfg, GCMSG_CONFIG_RETRY_BUDGET_MS, 1, DAY_MS, &out->budget_ms)) < 0 ||
	    (rc = retry_value(cfg, GCMSG_CONFIG_RETRY_BACKOFF_BASE_MS, 1, DAY_MS, &out->backoff_base_ms)) < 0 ||
	    (rc = retry_value(cfg, GCMSG_CONFIG_RETRY_BACKOFF_CAP_MS, 1, DAY_MS, &out->backoff_cap_ms)) < 0 ||
	    (rc = retry_value(cfg, GCMSG_CONFIG_RETRY_AFTER_DEFAULT_MS, 1, DAY_MS, &out->retry_after_default_ms)) < 0 ||
	    (rc = retry_value(cfg, GCMSG_CONFIG_RETRY_AFTER_CAP_MS, 1, DAY_MS, &out->retry_after_cap_ms)) < 0 ||
	    (rc = retry_value(cfg, GCMSG_CONFIG_READBACK_SETTLE_MS, 1, DAY_MS, &out->readback_settle_ms)) < 0 ||
	    (rc = retry_value(cfg, GCMSG_CONFIG_READBACK_HORIZON_MS, 1, DAY_MS, &out->readback_horizon_ms)) < 0)
		return rc;
	out->max_attempts = (int)attempts;
	return GCMSG_OK;
}

int gcmsg_config_apply(const gcmsg_config *cfg, gcmsg_client_options *o)
{
	if (!cfg || !o)
		return GCMSG_EUSAGE;
	o->region = gcmsg_config_get(cfg, GCMSG_CONFIG_REGION);
	o->client_id = gcmsg_config_get(cfg, GCMSG_CONFIG_CLIENT_ID);
	o->client_secret = gcmsg_config_get(cfg, GCMSG_CONFIG_CLIENT_SECRET);
	o->access_token = gcmsg_config_get(cfg, GCMSG_CONFIG_ACCESS_TOKEN);
	o->api_url = gcmsg_config_get(cfg, GCMSG_CONFIG_API_URL);
	o->login_url = gcmsg_config_get(cfg, GCMSG_CONFIG_LOGIN_URL);
	o->cacert = gcmsg_config_get(cfg, GCMSG_CONFIG_CACERT);
	return GCMSG_OK;
}

char *gcmsg_config_store_dir(const gcmsg_config *cfg)
{
	const char *v = cfg ? gcmsg_config_get(cfg, GCMSG_CONFIG_STORE) : NULL;
	const char *home = getenv("HOME");

	if (v && *v)
		return gcmsg__strdup(v);
	if (home && *home)
		return gcmsg__asprintf("%s/.gcmsg/store", home);
	return NULL;
}

/* ---- webhooks: [<profile>.webhooks.<name>] tables, and GCMSG_WEBHOOK_URL/_SECRET ---- */

#define CFG_MAX_HOOKS 64

static void hooks_clear(cfg_hook *hooks, size_t n)
{
	size_t i;

	for (i = 0; hooks && i < n; i++) {
		free(hooks[i].name);
		free(hooks[i].url);
		gcmsg__free_secret(hooks[i].secret);
		memset(&hooks[i], 0, sizeof(hooks[i]));
	}
}

/* Is the table [<any>.webhooks.<name>] (for the secret-file rule, every profile counts)? */
static int is_hook_table(const gcmsg__toml_table *t)
{
	return t->depth == 3 && strcmp(t->path[1], "webhooks") == 0;
}

static int is_hook_secret(const gcmsg__toml_doc *doc, const gcmsg__toml_entry *e)
{
	return strcmp(e->key, "secret") == 0 && e->tindex < doc->ntables && is_hook_table(&doc->tables[e->tindex]);
}

static int hook_events(gcmsg_config *cfg, const char *file, const gcmsg__toml_entry *e, unsigned *out)
{
	size_t i;

	if (e->type != GCMSG_TOML_ARRAY || e->narr == 0)
		goto bad;
	*out = 0;
	for (i = 0; i < e->narr; i++) {
		if (strcmp(e->arr[i], "attempt") == 0)
			*out |= GCMSG_WEBHOOK_EVENT_ATTEMPT;
		else if (strcmp(e->arr[i], "outcome") == 0)
			*out |= GCMSG_WEBHOOK_EVENT_OUTCOME;
		else
			goto bad;
	}
	return GCMSG_OK;
bad:
	gcmsg__err_set(&cfg->err, GCMSG_ECONFIG,
	               "%s: line %d: 'events' must be a non-empty array of \"attempt\" and \"outcome\"", file,
	               e->line);
	return GCMSG_ECONFIG;
}

static int load_file_hooks(gcmsg_config *cfg, const gcmsg__toml_doc *doc, const char *file, const char *profile)
{
	cfg_hook *hooks = NULL;
	size_t n = 0, i, j;
	int rc = GCMSG_OK;

	/* the webhook tables of the profile, in file order */
	for (i = 0; i < doc->ntables; i++) {
		const gcmsg__toml_table *t = &doc->tables[i];
		if (t->depth < 3 || strcmp(t->path[0], profile) != 0 || strcmp(t->path[1], "webhooks") != 0)
			continue;
		if (t->depth > 3) {
			rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG,
			                    "%s: line %d: [%s] is too deep: a webhook is a table [%s.webhooks.NAME]", file,
			                    t->line, t->name, profile);
			goto fail;
		}
		if (!gcmsg__webhook_name_ok(t->path[2])) {
			rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG,
			                    "%s: line %d: a webhook name must be 1 to 64 of A-Z a-z 0-9 _ -", file, t->line);
			goto fail;
		}
		if (n == CFG_MAX_HOOKS) {
			rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "%s: line %d: more than %d webhooks in [%s]", file,
			                    t->line, CFG_MAX_HOOKS, profile);
			goto fail;
		}
		if (!hooks && !(hooks = calloc(CFG_MAX_HOOKS, sizeof(*hooks)))) {
			rc = gcmsg__err_set(&cfg->err, GCMSG_ERROR, "out of memory");
			goto fail;
		}
		hooks[n].tindex = i;
		hooks[n].name = gcmsg__strdup(t->path[2]);
		if (!hooks[n++].name) {
			rc = gcmsg__err_set(&cfg->err, GCMSG_ERROR, "out of memory");
			goto fail;
		}
	}
	/* their keys; a key right in [<profile>.webhooks] is a mistake */
	for (i = 0; i < doc->count; i++) {
		const gcmsg__toml_entry *e = &doc->items[i];
		const gcmsg__toml_table *t = &doc->tables[e->tindex];
		cfg_hook *h = NULL;
		if (t->depth < 2 || strcmp(t->path[0], profile) != 0 || strcmp(t->path[1], "webhooks") != 0)
			continue;
		if (t->depth == 2) {
			rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG,
			                    "%s: line %d: '%s' in [%s]: a webhook is a table [%s.webhooks.NAME]", file,
			                    e->line, e->key, t->name, profile);
			goto fail;
		}
		for (j = 0; j < n && !h; j++)
			if (hooks[j].tindex == e->tindex)
				h = &hooks[j];
		if (!h)
			continue; /* a deeper table: refused above */
		if (strcmp(e->key, "url") == 0 || strcmp(e->key, "secret") == 0) {
			char **slot = e->key[0] == 'u' ? &h->url : &h->secret;
			if (e->type != GCMSG_TOML_STRING) {
				rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "%s: line %d: '%s' must be a string", file,
				                    e->line, e->key);
				goto fail;
			}
			if (!(*slot = gcmsg__strdup(e->str))) {
				rc = gcmsg__err_set(&cfg->err, GCMSG_ERROR, "out of memory");
				goto fail;
			}
		} else if (strcmp(e->key, "events") == 0) {
			rc = hook_events(cfg, file, e, &h->events);
			if (rc < 0)
				goto fail;
		} else {
			rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "%s: line %d: unknown key '%s' in [%s]", file,
			                    e->line, e->key, t->name);
			gcmsg__err_set_fix(&cfg->err, "a webhook's keys: url, secret, events");
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		gcmsg_webhook w = { hooks[i].name, hooks[i].url, hooks[i].secret, hooks[i].events };
		char why[256];
		int line = doc->tables[hooks[i].tindex].line;
		if (!hooks[i].url || !hooks[i].secret) {
			rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "%s: line %d: webhook '%s' has no %s", file, line,
			                    hooks[i].name, hooks[i].url ? "secret" : "url");
			goto fail;
		}
		if (gcmsg__webhook_check(&w, why, sizeof(why)) < 0) {
			rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "%s: line %d: webhook '%s': %s", file, line,
			                    hooks[i].name, why);
			goto fail;
		}
	}
	hooks_clear(cfg->hooks, cfg->nhooks);
	free(cfg->hooks);
	cfg->hooks = hooks;
	cfg->nhooks = n;
	return GCMSG_OK;
fail:
	hooks_clear(hooks, n);
	free(hooks);
	return rc;
}

static int load_env_hook(gcmsg_config *cfg)
{
	const char *url = getenv("GCMSG_WEBHOOK_URL"), *secret = getenv("GCMSG_WEBHOOK_SECRET");
	gcmsg_webhook w = { "env", url, secret, 0 };
	char why[256];
	cfg_hook h;

	if ((!url || !*url) && (!secret || !*secret))
		return GCMSG_OK;
	if (!url || !*url || !secret || !*secret) {
		gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "%s is set but %s is not: the webhook 'env' needs both",
		               url && *url ? "GCMSG_WEBHOOK_URL" : "GCMSG_WEBHOOK_SECRET",
		               url && *url ? "GCMSG_WEBHOOK_SECRET" : "GCMSG_WEBHOOK_URL");
		return GCMSG_ECONFIG;
	}
	if (gcmsg__webhook_check(&w, why, sizeof(why)) < 0) {
		gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "GCMSG_WEBHOOK_URL: %s", why);
		return GCMSG_ECONFIG;
	}
	memset(&h, 0, sizeof(h));
	h.name = gcmsg__strdup("env");
	h.url = gcmsg__strdup(url);
	h.secret = gcmsg__strdup(secret);
	if (!h.name || !h.url || !h.secret) {
		hooks_clear(&h, 1);
		return gcmsg__err_set(&cfg->err, GCMSG_ERROR, "out of memory");
	}
	hooks_clear(&cfg->env_hook, 1);
	cfg->env_hook = h;
	return GCMSG_OK;
}

/* A file webhook named "env" gives way to the environment's. */
static int file_hook_shown(const gcmsg_config *cfg, size_t i)
{
	return !cfg->env_hook.name || strcmp(cfg->hooks[i].name, "env") != 0;
}

size_t gcmsg_config_webhook_count(const gcmsg_config *cfg)
{
	size_t i, n = 0;

	if (!cfg)
		return 0;
	for (i = 0; i < cfg->nhooks; i++)
		n += (size_t)file_hook_shown(cfg, i);
	return n + (cfg->env_hook.name != NULL);
}

int gcmsg_config_webhook(const gcmsg_config *cfg, size_t i, gcmsg_webhook *out)
{
	const cfg_hook *h = NULL;
	size_t k;

	if (!cfg || !out)
		return GCMSG_EUSAGE;
	for (k = 0; k < cfg->nhooks && !h; k++) {
		if (!file_hook_shown(cfg, k))
			continue;
		if (i == 0)
			h = &cfg->hooks[k];
		else
			i--;
	}
	if (!h && i == 0 && cfg->env_hook.name)
		h = &cfg->env_hook;
	if (!h)
		return GCMSG_EUSAGE;
	out->name = h->name;
	out->url = h->url;
	out->secret = h->secret;
	out->events = h->events;
	return GCMSG_OK;
}
