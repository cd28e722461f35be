/*
 * gcmsg/config.h - layered configuration: profile file, environment, flags.
 *
 * Precedence: values set with gcmsg_config_set (flags) > environment >
 * profile in the config file. Credentials are taken as one group: the highest
 * layer that sets any of access_token, client_id or client_secret provides all
 * three, so a flag --access-token is never mixed with a client secret from the
 * file.
 */
#ifndef GCMSG_CONFIG_H
#define GCMSG_CONFIG_H

#include "common.h"
#include "client.h"
#include "webhook.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gcmsg_config gcmsg_config;

typedef enum gcmsg_config_key {
	GCMSG_CONFIG_REGION = 0,
	GCMSG_CONFIG_CLIENT_ID,
	GCMSG_CONFIG_CLIENT_SECRET,
	GCMSG_CONFIG_ACCESS_TOKEN,
	GCMSG_CONFIG_API_URL,
	GCMSG_CONFIG_LOGIN_URL,
	GCMSG_CONFIG_CACERT,
	GCMSG_CONFIG_STORE, /**< the offline store directory (synced responses) */
	GCMSG_CONFIG_POLICY, /**< the content policy file */
	/* the retry policy (gcmsg_config_retry_policy): decimal integers */
	GCMSG_CONFIG_RETRY_MAX_ATTEMPTS,      /**< retry_max_attempts, GCMSG_RETRY_MAX_ATTEMPTS */
	GCMSG_CONFIG_RETRY_BUDGET_MS,         /**< retry_budget_ms, GCMSG_RETRY_BUDGET_MS */
	GCMSG_CONFIG_RETRY_BACKOFF_BASE_MS,   /**< retry_backoff_base_ms, GCMSG_RETRY_BACKOFF_BASE_MS */
	GCMSG_CONFIG_RETRY_BACKOFF_CAP_MS,    /**< retry_backoff_cap_ms, GCMSG_RETRY_BACKOFF_CAP_MS */
	GCMSG_CONFIG_RETRY_AFTER_DEFAULT_MS,  /**< retry_after_default_ms, GCMSG_RETRY_AFTER_DEFAULT_MS */
	GCMSG_CONFIG_RETRY_AFTER_CAP_MS,      /**< retry_after_cap_ms, GCMSG_RETRY_AFTER_CAP_MS */
	GCMSG_CONFIG_READBACK_SETTLE_MS,      /**< readback_settle_ms, GCMSG_READBACK_SETTLE_MS */
	GCMSG_CONFIG_READBACK_HORIZON_MS,     /**< readback_horizon_ms, GCMSG_READBACK_HORIZON_MS */
	GCMSG_CONFIG_KEY_COUNT
} gcmsg_config_key;

/** Where a value came from. */
typedef enum gcmsg_config_layer {
	GCMSG_CONFIG_LAYER_NONE = 0,
	GCMSG_CONFIG_LAYER_FILE,
	GCMSG_CONFIG_LAYER_ENV,
	GCMSG_CONFIG_LAYER_FLAG
} gcmsg_config_layer;

GCMSG_EXTERN(int) gcmsg_config_new(gcmsg_config **out);
/** Free; secret values are zeroed first. NULL is allowed. */
GCMSG_EXTERN(void) gcmsg_config_free(gcmsg_config *cfg);
GCMSG_EXTERN(const gcmsg_error *) gcmsg_config_last_error(const gcmsg_config *cfg);

/**
 * The default config file path: $GCMSG_CONFIG, else $HOME/.gcmsg/config.toml.
 * Returns a newly allocated string (free with free()) or NULL when neither
 * variable is set.
 */
GCMSG_EXTERN(char *) gcmsg_config_default_path(void);

/**
 * Read profile `profile` (NULL: "DEFAULT") from the TOML file at `path` (NULL:
 * the default path). A missing file is not an error unless `profile` was
 * named explicitly or `path` was given. Keys: region (or environment),
 * client_id (or client_credentials), client_secret, access_token, api_url,
 * login_url, cacert, store, policy. Errors (GCMSG_ECONFIG) name the file and line; a file
 * holding a secret that group or others can read is refused, with the fix
 * `chmod 600 <path>`.
 */
GCMSG_EXTERN(int) gcmsg_config_load_file(gcmsg_config *cfg, const char *path, const char *profile);

/**
 * Overlay the environment: GENESYSCLOUD_REGION, GENESYSCLOUD_OAUTHCLIENT_ID,
 * GENESYSCLOUD_OAUTHCLIENT_SECRET, GENESYSCLOUD_ACCESS_TOKEN, GCMSG_API_URL,
 * GCMSG_LOGIN_URL, GCMSG_STORE, GCMSG_POLICY, and GCMSG_WEBHOOK_URL +
 * GCMSG_WEBHOOK_SECRET (a webhook named "env"). Empty variables are ignored.
 */
GCMSG_EXTERN(int) gcmsg_config_load_env(gcmsg_config *cfg);

/** Overlay one value at the flag layer (value is copied; NULL is ignored). */
GCMSG_EXTERN(int) gcmsg_config_set(gcmsg_config *cfg, gcmsg_config_key key, const char *value);

/** The effective value (borrowed) or NULL. */
GCMSG_EXTERN(const char *) gcmsg_config_get(const gcmsg_config *cfg, gcmsg_config_key key);

/**
 * The offline store directory: the effective `store` value, else
 * $HOME/.gcmsg/store. Newly allocated (free with gcmsg_free), NULL when
 * neither is known.
 */
GCMSG_EXTERN(char *) gcmsg_config_store_dir(const gcmsg_config *cfg);

/** The layer the effective value came from. */
GCMSG_EXTERN(gcmsg_config_layer) gcmsg_config_source(const gcmsg_config *cfg, gcmsg_config_key key);

/**
 * The configured webhooks: the tables [<profile>.webhooks.<name>] of the
 * file (keys url, secret, and optionally events = ["attempt", "outcome"]; a
 * file holding a secret must be 0600), in file order, then the webhook "env"
 * of GCMSG_WEBHOOK_URL + GCMSG_WEBHOOK_SECRET (both or neither; it replaces a
 * file webhook of that name). Each was checked as gcmsg_store_set_webhooks
 * checks it; errors (GCMSG_ECONFIG) name the file and line, never a secret.
 */
GCMSG_EXTERN(size_t) gcmsg_config_webhook_count(const gcmsg_config *cfg);
/** Fill *out with borrowed strings (they live as long as cfg); GCMSG_EUSAGE beyond the count. */
GCMSG_EXTERN(int) gcmsg_config_webhook(const gcmsg_config *cfg, size_t i, gcmsg_webhook *out);

/**
 * The retry policy the configuration sets (the GCMSG_CONFIG_RETRY_* keys and
 * readback_settle_ms; unset ones stay 0, which means the library's default).
 * *out is initialised first. A value that is not a decimal integer in its
 * range (max attempts 1-100; times 0-86400000 ms, budget and caps at least 1)
 * is GCMSG_ECONFIG naming the key and where it came from.
 */
GCMSG_EXTERN(int) gcmsg_config_retry_policy(gcmsg_config *cfg, gcmsg_retry_policy *out);

/**
 * Fill the string fields of client options with borrowed pointers to the
 * effective values (they live as long as `cfg`). Other fields are untouched.
 */
GCMSG_EXTERN(int) gcmsg_config_apply(const gcmsg_config *cfg, gcmsg_client_options *opts);

#ifdef __cplusplus
}
#endif

#endif
