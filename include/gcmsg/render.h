/*
 * gcmsg/render.h - turn a canned response (or any text) into exactly what a
 * customer will read: `{{ID}}` placeholders filled, text/html flattened to
 * plain text. Pure: no network.
 *
 * Placeholder grammar (docs/gcmsg.1, "PLACEHOLDERS"):
 *  - `{{ID}}` with ID made of ASCII letters, digits, `_`, `-` and `.`; ids are
 *    case-sensitive, as in Genesys (a plain string replace there).
 *  - Malformed: `{{}}`, `{{ ID }}` (any whitespace inside), other characters
 *    inside, a `{{` nested inside (`{{A{{B}}}}`), and an opening `{{` without
 *    a closing `}}` (reported as the `{{` and the id characters after it, so a
 *    later `{{B}}` is still a placeholder). Strict rendering refuses them like
 *    missing values; --allow-missing leaves them as written.
 *  - A run of three or more `{` opens at its last two: `{{{ID}}}` renders as
 *    `{value}`. A lone `}}` or single braces are literal text.
 *  - Values are inserted verbatim and never scanned again, so a value that
 *    contains `{{X}}` cannot pull in another value.
 *  - text/html is flattened first, then placeholders are filled, so values are
 *    never taken for markup.
 *  - The result is trimmed of leading and trailing spaces, tabs, CR and LF.
 *
 * Values resolve in this order: options.vars (the --var flags); the built-ins
 * AGENT_NAME, AGENT_ALIAS and CUSTOMER_NAME (from the conversation and the
 * caller); the customer participant's attributes[ID]; the substitution's
 * defaultValue. A built-in without a value (no such participant, an empty
 * name) falls through to the attributes and the default like any id; an
 * attribute or a default that is present is a value, even "".
 *
 * Caps (GCMSG_EUSAGE beyond): the text and the result 1 MiB, a value 64 KiB,
 * 1000 distinct placeholders, 1000 malformed ones. src/lib/render.c has the
 * details (text choice, error line format).
 */
#ifndef GCMSG_RENDER_H
#define GCMSG_RENDER_H

#include "common.h"
#include "client.h"
#include "conversation.h"
#include "response.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gcmsg_rendered gcmsg_rendered;

/** One explicit value (`--var ID=value`). */
typedef struct gcmsg_var {
	const char *id;
	const char *value;
} gcmsg_var;

/** Where a placeholder's value came from. */
typedef enum gcmsg_value_source {
	GCMSG_VALUE_MISSING = 0, /**< unresolved (left in place with allow_missing) */
	GCMSG_VALUE_VAR,         /**< options.vars */
	GCMSG_VALUE_BUILTIN,     /**< AGENT_NAME, AGENT_ALIAS, CUSTOMER_NAME */
	GCMSG_VALUE_ATTRIBUTE,   /**< the customer participant's attributes */
	GCMSG_VALUE_DEFAULT      /**< the substitution's defaultValue */
} gcmsg_value_source;

#define GCMSG_RENDER_OPTIONS_VERSION 1

typedef struct gcmsg_render_options {
	unsigned int version;                   /**< GCMSG_RENDER_OPTIONS_VERSION */
	const gcmsg_var *vars;                  /**< explicit values, first wins on repeats */
	size_t var_count;
	/**
	 * Built-ins and attributes come from here (NULL: none). CUSTOMER_NAME is
	 * the customer participant's name (the first of purpose customer, else
	 * the first of purpose external; its attributes are the attributes);
	 * AGENT_NAME the name of the (last) agent participant of `caller` (a
	 * user), else of the last agent participant with a name, else the
	 * caller's user name; AGENT_ALIAS the caller's preferredName, else the
	 * AGENT_NAME built-in.
	 */
	const gcmsg_conversation *conversation;
	const gcmsg_identity *caller;
	/**
	 * The variant to use (local files): its language, case-insensitively, else
	 * its primary subtag ("fr" finds "fr-CA"); none is GCMSG_ENOTFOUND. NULL:
	 * the response's default language, else the texts without a language,
	 * else the first body text's language.
	 */
	const char *language;
	int allow_missing;      /**< leave unresolved/malformed placeholders in place */
	int keep_html;          /**< do not flatten text/html (for display only) */
} gcmsg_render_options;

#define GCMSG_RENDER_OPTIONS_INIT { GCMSG_RENDER_OPTIONS_VERSION, NULL, 0, NULL, NULL, NULL, 0, 0 }

/**
 * Render the response's body text: the text of type "body" (or without a
 * type) in the asked language, text/plain preferred over text/html when a
 * response has both. Like gcmsg_client_new, *out is set even on failure
 * (except out-of-memory, and a NULL out) so the caller can list what was
 * missing and read gcmsg_rendered_error. opts NULL means
 * GCMSG_RENDER_OPTIONS_INIT.
 * GCMSG_EPOLICY: unresolved or malformed placeholders (strict mode);
 * GCMSG_ENOTFOUND: no body text, or none in the asked language;
 * GCMSG_EUSAGE: bad options (unknown version, a var without id or value or
 * whose id is not a placeholder id), no response, or a cap exceeded.
 */
GCMSG_EXTERN(int) gcmsg_render(gcmsg_rendered **out, const gcmsg_response *response,
                               const gcmsg_render_options *opts);

/**
 * Render an ad-hoc text (content_type NULL means text/plain). No defaults
 * exist for it; everything else is as gcmsg_render.
 */
GCMSG_EXTERN(int) gcmsg_render_text(gcmsg_rendered **out, const char *text, const char *content_type,
                                    const gcmsg_render_options *opts);

GCMSG_EXTERN(void) gcmsg_rendered_free(gcmsg_rendered *r);

/** The final text (UTF-8); with a failure, the text with the problems left in place. */
GCMSG_EXTERN(const char *) gcmsg_rendered_text(const gcmsg_rendered *r);
/** The content type of the source text, and whether it was flattened from HTML. */
GCMSG_EXTERN(const char *) gcmsg_rendered_content_type(const gcmsg_rendered *r);
GCMSG_EXTERN(int) gcmsg_rendered_flattened(const gcmsg_rendered *r);
/** The language variant used, or NULL. */
GCMSG_EXTERN(const char *) gcmsg_rendered_language(const gcmsg_rendered *r);
/** One line describing the failure ("unresolved placeholders: CASE_ID, ETA"), or NULL. */
GCMSG_EXTERN(const char *) gcmsg_rendered_error(const gcmsg_rendered *r);
/**
 * After a successful rendering with allow_missing: the same kind of line,
 * saying what was left in place, for the caller to warn with; else NULL.
 */
GCMSG_EXTERN(const char *) gcmsg_rendered_warning(const gcmsg_rendered *r);

/** Distinct placeholder ids in order of first appearance, with value and source. */
GCMSG_EXTERN(size_t) gcmsg_rendered_placeholder_count(const gcmsg_rendered *r);
GCMSG_EXTERN(const char *) gcmsg_rendered_placeholder_id(const gcmsg_rendered *r, size_t i);
/** NULL when missing. */
GCMSG_EXTERN(const char *) gcmsg_rendered_placeholder_value(const gcmsg_rendered *r, size_t i);
GCMSG_EXTERN(gcmsg_value_source) gcmsg_rendered_placeholder_source(const gcmsg_rendered *r, size_t i);
/** "var", "builtin", "attribute", "default" or "missing" ("unknown" outside the enum). */
GCMSG_EXTERN(const char *) gcmsg_value_source_name(gcmsg_value_source source);

/** Unresolved ids, distinct, in order of first appearance. */
GCMSG_EXTERN(size_t) gcmsg_rendered_missing_count(const gcmsg_rendered *r);
GCMSG_EXTERN(const char *) gcmsg_rendered_missing(const gcmsg_rendered *r, size_t i);

/** Malformed placeholders: the text as written, its byte offset in the rendered source, why. */
GCMSG_EXTERN(size_t) gcmsg_rendered_malformed_count(const gcmsg_rendered *r);
GCMSG_EXTERN(const char *) gcmsg_rendered_malformed_text(const gcmsg_rendered *r, size_t i);
GCMSG_EXTERN(size_t) gcmsg_rendered_malformed_offset(const gcmsg_rendered *r, size_t i);
GCMSG_EXTERN(const char *) gcmsg_rendered_malformed_reason(const gcmsg_rendered *r, size_t i);

/**
 * A MessagingTemplate response renders to a template send: the response id
 * and one body parameter {id, value} per distinct placeholder of the body text
 * (the placeholders above, in order). gcmsg_rendered_text is then the text
 * the customer will see, for display and validation.
 */
GCMSG_EXTERN(int) gcmsg_rendered_is_template(const gcmsg_rendered *r);
GCMSG_EXTERN(const char *) gcmsg_rendered_template_response_id(const gcmsg_rendered *r);
/** The response rendered (id, name, version, library), or NULL for gcmsg_render_text. */
GCMSG_EXTERN(const char *) gcmsg_rendered_response_id(const gcmsg_rendered *r);
GCMSG_EXTERN(const char *) gcmsg_rendered_response_name(const gcmsg_rendered *r);
GCMSG_EXTERN(long) gcmsg_rendered_response_version(const gcmsg_rendered *r);
GCMSG_EXTERN(const char *) gcmsg_rendered_library_id(const gcmsg_rendered *r);

/**
 * Flatten text/html to plain text for messaging channels: paragraphs and
 * block elements separated by a blank line, <br> as a line break, lists as
 * "- item" / "1. item" (nested lists indented by two spaces per level),
 * links as "text (url)" (just the text when it is the url), images as their
 * alt text, named and numeric entities decoded (invalid ones become U+FFFD),
 * script/style/head/template content dropped, runs of whitespace collapsed
 * outside <pre>, and the result trimmed. Input is capped at 1 MiB
 * (GCMSG_EUSAGE beyond). *out is allocated; free it with gcmsg_free.
 */
GCMSG_EXTERN(int) gcmsg_html_to_text(char **out, const char *html, size_t len);

/** Free memory the library handed out as a plain string. */
GCMSG_EXTERN(void) gcmsg_free(void *p);

#ifdef __cplusplus
}
#endif

#endif
