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

#define LAYERS 4 /* index = gcmsg_config_layer; 0 unused */
#define CONFIG_FILE_CAP ((size_t)1024 * 1024)

struct gcmsg_config {
	gcmsg__err err;
	char *values[LAYERS][GCMSG_CONFIG_KEY_COUNT];
};

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
};

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
	char why[512];
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
	if (gcmsg__toml_parse(&doc, gcmsg__buf_cstr(&text), text.len, why, sizeof(why)) < 0) {
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
			    strcmp(doc.items[i].key, "access_token") == 0) {
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
			if (e->type != GCMSG_TOML_STRING) {
				rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "%s: line %d: '%s' must be a string",
				                    file, e->line, e->key);
				goto out;
			}
			if (cfg->values[GCMSG_CONFIG_LAYER_FILE][file_keys[j].key]) {
				rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG,
				                    "%s: line %d: '%s' sets the same value as another key of [%s]",
				                    file, e->line, e->key, table);
				goto out;
			}
			rc = set_layer(cfg, GCMSG_CONFIG_LAYER_FILE, file_keys[j].key, e->str);
			if (rc < 0)
				goto out;
		}
		if (!known) {
			rc = gcmsg__err_set(&cfg->err, GCMSG_ECONFIG, "%s: line %d: unknown key '%s' in [%s]", file,
			                    e->line, e->key, table);
			gcmsg__err_set_fix(&cfg->err, "known keys: region (or environment), client_id (or "
			                              "client_credentials), client_secret, access_token, api_url, "
			                              "login_url, cacert, store, policy");
			goto out;
		}
	}
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
	return GCMSG_OK;
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
