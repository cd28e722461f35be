/*
 * gcmsg/common.h - export macro, error codes and the error detail struct.
 *
 * Conventions of the whole public API (see docs/internals/design.md):
 *  - every function that can fail returns int: GCMSG_OK (0) or a negative
 *    gcmsg_error_code; the detail is kept on the handle (gcmsg_client_last_error,
 *    gcmsg_config_last_error) and is only meaningful right after a failing call;
 *  - an object handed out through a `**out` argument belongs to the caller, who
 *    frees it with that type's _free function;
 *  - a pointer *returned* by a getter is borrowed and lives as long as its parent.
 */
#ifndef GCMSG_COMMON_H
#define GCMSG_COMMON_H

#include <stddef.h>

#if defined(__GNUC__) && __GNUC__ >= 4
#define GCMSG_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define GCMSG_EXTERN(type) extern type
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Return codes. The CLI maps them to exit codes (see gcmsg(1)). */
typedef enum gcmsg_error_code {
	GCMSG_OK = 0,
	GCMSG_ERROR = -1,      /**< internal error (out of memory, bug) */
	GCMSG_EUSAGE = -2,     /**< bad argument from the caller */
	GCMSG_ECONFIG = -3,    /**< configuration missing or unsafe */
	GCMSG_EAUTH = -4,      /**< authentication failed */
	GCMSG_EPERM = -5,      /**< a permission is missing */
	GCMSG_ENOTFOUND = -6,  /**< 404 or unknown id */
	GCMSG_EPOLICY = -7,    /**< refused by content policy, nothing sent */
	GCMSG_EROUTE = -8,     /**< the conversation cannot receive it */
	GCMSG_ERATELIMIT = -9, /**< throttled */
	GCMSG_EREMOTE = -10    /**< the server refused or failed, or the network failed */
} gcmsg_error_code;

/**
 * Detail of the last failure on a handle. Every pointer is borrowed from the
 * handle and stays valid until the next call on that handle; any of them may be
 * NULL when unknown.
 */
typedef struct gcmsg_error {
	int code;                    /**< a gcmsg_error_code */
	long http_status;            /**< HTTP status, 0 when no answer was received */
	const char *genesys_code;    /**< ErrorBody `code` (or OAuth `error`) */
	const char *message;         /**< ErrorBody `message` (server's words) */
	const char *correlation_id;  /**< ININ-Correlation-Id header or `contextId` */
	size_t param_count;          /**< number of ErrorBody `messageParams` */
	const char *const *param_keys;
	const char *const *param_values;
	const char *details;         /**< ErrorBody `details[]` flattened: "field: code; ..." */
	const char *explanation;     /**< our one-line explanation of what went wrong */
	const char *fix;             /**< what would fix it, when we know */
	const char *rule;            /**< route rule id, for refusals by the route decision */
	long retry_after;            /**< Retry-After seconds on 429, else -1 */
} gcmsg_error;

/** A short English name of a gcmsg_error_code ("not found", ...). Never NULL. */
GCMSG_EXTERN(const char *) gcmsg_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif
