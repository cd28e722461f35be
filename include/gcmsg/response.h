/*
 * gcmsg/response.h - canned responses: the Response Management model, the
 * remote client (every page, never just the first), local library files and
 * the offline store filled by gcmsg_responses_sync.
 *
 * A response comes from one of three origins and has the same model
 * whichever it is: Genesys Response Management, a library file kept in
 * version control (format: docs/gcmsg-library.5.md), or the local store
 * (library files written by sync, one per library).
 */
#ifndef GCMSG_RESPONSE_H
#define GCMSG_RESPONSE_H

#include "common.h"
#include "client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gcmsg_response gcmsg_response;
typedef struct gcmsg_response_set gcmsg_response_set;
typedef struct gcmsg_sync_report gcmsg_sync_report;

typedef enum gcmsg_response_origin {
	GCMSG_RESPONSE_REMOTE = 0, /**< read from Response Management */
	GCMSG_RESPONSE_FILE,       /**< read from a library file */
	GCMSG_RESPONSE_STORE       /**< read from the offline store */
} gcmsg_response_origin;

/* ---- the model (every string borrowed from the response; any may be NULL) ---- */

GCMSG_EXTERN(const char *) gcmsg_response_id(const gcmsg_response *r);
GCMSG_EXTERN(const char *) gcmsg_response_name(const gcmsg_response *r);
/** Response.version, or -1 when unknown. */
GCMSG_EXTERN(long) gcmsg_response_version(const gcmsg_response *r);
/** The first of Response.libraries[] (a response may sit in several). */
GCMSG_EXTERN(const char *) gcmsg_response_library_id(const gcmsg_response *r);
GCMSG_EXTERN(const char *) gcmsg_response_library_name(const gcmsg_response *r);
GCMSG_EXTERN(size_t) gcmsg_response_library_count(const gcmsg_response *r);
GCMSG_EXTERN(const char *) gcmsg_response_library_id_at(const gcmsg_response *r, size_t i);
GCMSG_EXTERN(const char *) gcmsg_response_library_name_at(const gcmsg_response *r, size_t i);
/** Response.responseType ("MessagingTemplate", ...) or NULL for a plain response. */
GCMSG_EXTERN(const char *) gcmsg_response_type(const gcmsg_response *r);
/** Response.interactionType (chat, email, twitter) or NULL. */
GCMSG_EXTERN(const char *) gcmsg_response_interaction_type(const gcmsg_response *r);
GCMSG_EXTERN(const char *) gcmsg_response_date_created(const gcmsg_response *r);
GCMSG_EXTERN(gcmsg_response_origin) gcmsg_response_origin_of(const gcmsg_response *r);
/** "remote", "file" or "store". */
GCMSG_EXTERN(const char *) gcmsg_response_origin_name(const gcmsg_response *r);
/** The file it was read from (file and store origins), else NULL. */
GCMSG_EXTERN(const char *) gcmsg_response_path(const gcmsg_response *r);

/**
 * Texts (ResponseText): content, contentType ("text/plain" or "text/html"),
 * type ("body" or "subject", NULL when absent) and language (local files:
 * the variant's language; remote: NULL, Response Management has none).
 */
GCMSG_EXTERN(size_t) gcmsg_response_text_count(const gcmsg_response *r);
GCMSG_EXTERN(const char *) gcmsg_response_text_content(const gcmsg_response *r, size_t i);
GCMSG_EXTERN(const char *) gcmsg_response_text_content_type(const gcmsg_response *r, size_t i);
GCMSG_EXTERN(const char *) gcmsg_response_text_type(const gcmsg_response *r, size_t i);
GCMSG_EXTERN(const char *) gcmsg_response_text_language(const gcmsg_response *r, size_t i);
/** The language used when none is asked for (local files), else NULL. */
GCMSG_EXTERN(const char *) gcmsg_response_default_language(const gcmsg_response *r);

/** Substitutions (ResponseSubstitution): id, description, defaultValue. */
GCMSG_EXTERN(size_t) gcmsg_response_substitution_count(const gcmsg_response *r);
GCMSG_EXTERN(const char *) gcmsg_response_substitution_id(const gcmsg_response *r, size_t i);
GCMSG_EXTERN(const char *) gcmsg_response_substitution_description(const gcmsg_response *r, size_t i);
GCMSG_EXTERN(const char *) gcmsg_response_substitution_default(const gcmsg_response *r, size_t i);

/** MessagingTemplate responses: messagingTemplate.whatsApp name and language, else NULL. */
GCMSG_EXTERN(const char *) gcmsg_response_template_name(const gcmsg_response *r);
GCMSG_EXTERN(const char *) gcmsg_response_template_language(const gcmsg_response *r);
/** Non-zero for a response sent as a messagingTemplate (responseType MessagingTemplate). */
GCMSG_EXTERN(int) gcmsg_response_is_template(const gcmsg_response *r);

GCMSG_EXTERN(void) gcmsg_response_free(gcmsg_response *r);

/* ---- sets: a library listing, a search result, a file, the store ---- */

GCMSG_EXTERN(size_t) gcmsg_response_set_count(const gcmsg_response_set *set);
GCMSG_EXTERN(const gcmsg_response *) gcmsg_response_set_get(const gcmsg_response_set *set, size_t i);
/** The libraries the set knows of (id, name, version; version -1 when unknown). */
GCMSG_EXTERN(size_t) gcmsg_response_set_library_count(const gcmsg_response_set *set);
GCMSG_EXTERN(const char *) gcmsg_response_set_library_id(const gcmsg_response_set *set, size_t i);
GCMSG_EXTERN(const char *) gcmsg_response_set_library_name(const gcmsg_response_set *set, size_t i);
GCMSG_EXTERN(long) gcmsg_response_set_library_version(const gcmsg_response_set *set, size_t i);
/** Detail of the last failure on this set (loading, finding). Never NULL for a non-NULL set. */
GCMSG_EXTERN(const gcmsg_error *) gcmsg_response_set_last_error(const gcmsg_response_set *set);
GCMSG_EXTERN(void) gcmsg_response_set_free(gcmsg_response_set *set);

/**
 * Find one response in a set by id, else by exact name (case-sensitive),
 * optionally within a library given by id or name. *out is borrowed from the
 * set. GCMSG_ENOTFOUND when nothing matches; GCMSG_EUSAGE when a name matches
 * in several libraries (the detail names them and asks for a library).
 */
GCMSG_EXTERN(int) gcmsg_response_set_find(const gcmsg_response **out, gcmsg_response_set *set,
                                          const char *id_or_name, const char *library);

/**
 * Load a library file. Like gcmsg_client_new, *out is set even when loading
 * fails (not on out-of-memory) so that gcmsg_response_set_last_error explains
 * it (file and line); free it either way. Errors: GCMSG_ECONFIG for a file
 * that cannot be read or is malformed.
 */
GCMSG_EXTERN(int) gcmsg_response_set_load_file(gcmsg_response_set **out, const char *path);

/**
 * Load every library synced into the store directory `store_dir`
 * (every `.toml` file in `<store_dir>/responses/`). An absent or empty store is GCMSG_ENOTFOUND
 * with the fix "run gcmsg responses sync". *out as for load_file.
 */
GCMSG_EXTERN(int) gcmsg_response_set_load_store(gcmsg_response_set **out, const char *store_dir);

/* ---- Response Management (remote; detail on the client) ---- */

/** Every library (all pages), optionally only names starting with `name_prefix`. */
GCMSG_EXTERN(int) gcmsg_libraries_list(gcmsg_response_set **out, gcmsg_client *client,
                                       const char *name_prefix);
/**
 * Every response of one library (id or name), or of every library when
 * `library` is NULL: GET /api/v2/responsemanagement/responses?libraryId=, all
 * pages. An unknown library is GCMSG_ENOTFOUND.
 */
GCMSG_EXTERN(int) gcmsg_responses_list(gcmsg_response_set **out, gcmsg_client *client,
                                       const char *library);
/**
 * POST /api/v2/responsemanagement/responses/query with queryPhrase (NULL or
 * "" matches everything), optionally filtered to one library, all pages.
 */
GCMSG_EXTERN(int) gcmsg_responses_search(gcmsg_response_set **out, gcmsg_client *client,
                                         const char *phrase, const char *library);
/** GET /api/v2/responsemanagement/responses/{id}?expand=substitutionsSchema. */
GCMSG_EXTERN(int) gcmsg_response_get(gcmsg_response **out, gcmsg_client *client, const char *response_id);
/**
 * By id (when it looks like one and exists), else by exact name through a
 * name-filtered query, optionally within a library (id or name). Ambiguous
 * names are GCMSG_EUSAGE naming the libraries; none is GCMSG_ENOTFOUND.
 */
GCMSG_EXTERN(int) gcmsg_response_lookup(gcmsg_response **out, gcmsg_client *client,
                                        const char *id_or_name, const char *library);

/* ---- the offline store ---- */

#define GCMSG_SYNC_OPTIONS_VERSION 1

typedef struct gcmsg_sync_options {
	unsigned int version;  /**< GCMSG_SYNC_OPTIONS_VERSION */
	const char *store_dir; /**< required: where libraries are written */
	const char *library;   /**< one library (id or name), or NULL for all */
	int dry_run;           /**< compare and report, write nothing */
} gcmsg_sync_options;

#define GCMSG_SYNC_OPTIONS_INIT { GCMSG_SYNC_OPTIONS_VERSION, NULL, NULL, 0 }

/**
 * Copy libraries into the store: one library file per library, written
 * atomically (temporary file + rename) and only when something changed. A
 * response whose `version` equals the stored one is kept as stored
 * (unchanged); a new one is added; a different version replaces it (updated);
 * one gone from Genesys is removed.
 */
GCMSG_EXTERN(int) gcmsg_responses_sync(gcmsg_sync_report **out, gcmsg_client *client,
                                       const gcmsg_sync_options *opts);
GCMSG_EXTERN(size_t) gcmsg_sync_report_library_count(const gcmsg_sync_report *rep);
GCMSG_EXTERN(const char *) gcmsg_sync_report_library_id(const gcmsg_sync_report *rep, size_t i);
GCMSG_EXTERN(const char *) gcmsg_sync_report_library_name(const gcmsg_sync_report *rep, size_t i);
GCMSG_EXTERN(const char *) gcmsg_sync_report_path(const gcmsg_sync_report *rep, size_t i);
GCMSG_EXTERN(size_t) gcmsg_sync_report_added(const gcmsg_sync_report *rep, size_t i);
GCMSG_EXTERN(size_t) gcmsg_sync_report_updated(const gcmsg_sync_report *rep, size_t i);
GCMSG_EXTERN(size_t) gcmsg_sync_report_unchanged(const gcmsg_sync_report *rep, size_t i);
GCMSG_EXTERN(size_t) gcmsg_sync_report_removed(const gcmsg_sync_report *rep, size_t i);
/**
 * Non-zero when the library's file was (or, for a dry run, would be)
 * written, or deleted: its bytes change.
 */
GCMSG_EXTERN(int) gcmsg_sync_report_written(const gcmsg_sync_report *rep, size_t i);
/**
 * Non-zero when the library no longer exists in Genesys and its file was
 * (or would be) deleted; removed() then counts the responses it held. Only
 * a sync of every library (options.library NULL) deletes.
 */
GCMSG_EXTERN(int) gcmsg_sync_report_deleted(const gcmsg_sync_report *rep, size_t i);
GCMSG_EXTERN(void) gcmsg_sync_report_free(gcmsg_sync_report *rep);

#ifdef __cplusplus
}
#endif

#endif
