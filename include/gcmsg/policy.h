/*
 * gcmsg/policy.h - the content policy: every message is checked before it is
 * sent, and a violation names its rule and the offending span. Pure: no
 * network. The policy file format, the rule ids and the defaults are in
 * docs/gcmsg-policy.5.md.
 *
 * Rule ids (stable): text.empty, text.utf8, text.control, length.max,
 * sms.segments, placeholder.unresolved, pattern.<id>, pattern.limit,
 * pattern.error, detector.payment-card, detector.iban, detector.us-ssn,
 * detector.email, detector.phone, detector.credential, attachment.name,
 * attachment.type, attachment.size.
 *
 * Counting: lengths are enforced in UTF-16 code units, which are never fewer
 * than code points, so a text gcmsg accepts fits whichever of the two Genesys
 * counts as a "character". Both counts are reported. Spans are [start, end),
 * 0-based, in bytes and in code points; an invalid UTF-8 byte counts as one
 * code point and one UTF-16 unit (as U+FFFD would).
 *
 * Messages never contain the text they matched (it may be a card number or a
 * password): they describe it.
 *
 * A gcmsg_policy is immutable once loaded: threads may check with one policy
 * at the same time (each check allocates its own matching state).
 */
#ifndef GCMSG_POLICY_H
#define GCMSG_POLICY_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gcmsg_policy gcmsg_policy;               /**< compiled rules */
typedef struct gcmsg_policy_result gcmsg_policy_result; /**< violations + text statistics */

/** The built-in defaults (no file). GCMSG_ERROR when out of memory. */
GCMSG_EXTERN(int) gcmsg_policy_new(gcmsg_policy **out);

/**
 * Read a policy file. Like gcmsg_client_new, *out is set even on failure
 * (except out of memory): gcmsg_policy_last_error explains it, naming the file
 * and line ("policy.toml: line 12: patterns.x: regex does not compile: ...");
 * the caller frees it either way, and a policy that failed to load refuses
 * every check (GCMSG_EUSAGE). GCMSG_ECONFIG for a file that cannot be read or
 * is not a valid policy file; GCMSG_EUSAGE for a NULL out or path.
 */
GCMSG_EXTERN(int) gcmsg_policy_load_file(gcmsg_policy **out, const char *path);

/**
 * The same, from memory: `name` (NULL: "policy") stands for the file in
 * messages. For tests, and for policies that do not live in a file.
 */
GCMSG_EXTERN(int) gcmsg_policy_load_buffer(gcmsg_policy **out, const char *text, size_t len, const char *name);

/** The detail of the last failure on the handle (only meaningful right after it). */
GCMSG_EXTERN(const gcmsg_error *) gcmsg_policy_last_error(const gcmsg_policy *p);

/** NULL is allowed. */
GCMSG_EXTERN(void) gcmsg_policy_free(gcmsg_policy *p);

#define GCMSG_CHECK_OPTIONS_VERSION 1

typedef struct gcmsg_check_options {
	unsigned int version; /**< GCMSG_CHECK_OPTIONS_VERSION */
	/**
	 * "sms", "webmessaging", "whatsapp", "open", "facebook", "instagram",
	 * "apple", "twitter", or "chat" (legacy web chat), case-insensitively.
	 * NULL, or a name gcmsg does not know: the strictest limit (765, as SMS)
	 * applies and the result carries a note saying so.
	 */
	const char *channel;
	const char *queue_id;   /**< for per-queue overrides, or NULL */
	int allow_placeholders; /**< --allow-missing: a {{ID}} left in the text is then not a violation */
} gcmsg_check_options;

#define GCMSG_CHECK_OPTIONS_INIT { GCMSG_CHECK_OPTIONS_VERSION, NULL, NULL, 0 }

/** Whether gcmsg knows the channel name (case-insensitively), e.g. to validate --channel. */
GCMSG_EXTERN(int) gcmsg_policy_channel_known(const char *channel);

/**
 * Check a text. GCMSG_OK: clean; GCMSG_EPOLICY: at least one violation; *out
 * is set in both cases (free it with gcmsg_policy_result_free). Otherwise
 * *out is NULL and the code is GCMSG_EUSAGE (NULL out, NULL text with a
 * length, an unknown options version, a policy that failed to load, a text
 * over 16 MiB) or GCMSG_ERROR (out of memory). policy NULL: the built-in
 * defaults; opts NULL: GCMSG_CHECK_OPTIONS_INIT. `text` need not be
 * NUL-terminated.
 *
 * Texts over 16 KiB are over every Genesys limit whatever they hold (a UTF-16
 * unit takes at most 3 bytes of UTF-8): for them only the text, length and SMS
 * rules are checked, and a note says so.
 */
GCMSG_EXTERN(int) gcmsg_policy_check_text(gcmsg_policy_result **out, const gcmsg_policy *policy, const char *text,
                                          size_t len, const gcmsg_check_options *opts);

/**
 * Check an attachment before any request: the file name (Genesys' media file
 * name rules and ours: attachment.name), the MIME type detected from the
 * content against the allow-list (attachment.type; NULL: unknown, refused)
 * and the size (attachment.size; 0 bytes is refused). Codes and *out as
 * gcmsg_policy_check_text. The result's spans are in the file name; its
 * statistics are the file name's.
 */
GCMSG_EXTERN(int) gcmsg_policy_check_attachment(gcmsg_policy_result **out, const gcmsg_policy *policy,
                                                const char *file_name, const char *mime_type,
                                                unsigned long long size, const gcmsg_check_options *opts);

/** NULL is allowed. */
GCMSG_EXTERN(void) gcmsg_policy_result_free(gcmsg_policy_result *r);

/** Violations, sorted by byte_start, then byte_end. */
GCMSG_EXTERN(size_t) gcmsg_policy_result_violation_count(const gcmsg_policy_result *r);
/** The rule id, e.g. "detector.payment-card". NULL when i is out of range. */
GCMSG_EXTERN(const char *) gcmsg_policy_result_rule(const gcmsg_policy_result *r, size_t i);
/**
 * One line, never holding the matched text: "a payment card number
 * (Luhn-valid, 16 digits)". NULL when i is out of range.
 */
GCMSG_EXTERN(const char *) gcmsg_policy_result_message(const gcmsg_policy_result *r, size_t i);
/** [start, end) in bytes (0 when i is out of range). */
GCMSG_EXTERN(size_t) gcmsg_policy_result_byte_start(const gcmsg_policy_result *r, size_t i);
GCMSG_EXTERN(size_t) gcmsg_policy_result_byte_end(const gcmsg_policy_result *r, size_t i);
/** [start, end) in code points. */
GCMSG_EXTERN(size_t) gcmsg_policy_result_char_start(const gcmsg_policy_result *r, size_t i);
GCMSG_EXTERN(size_t) gcmsg_policy_result_char_end(const gcmsg_policy_result *r, size_t i);

/* ---- statistics of the checked text ---- */

GCMSG_EXTERN(size_t) gcmsg_policy_result_code_points(const gcmsg_policy_result *r);
GCMSG_EXTERN(size_t) gcmsg_policy_result_utf16_units(const gcmsg_policy_result *r);
/** The length limit applied, in UTF-16 units (0 for an attachment). */
GCMSG_EXTERN(size_t) gcmsg_policy_result_length_limit(const gcmsg_policy_result *r);
/** The channel checked for, in lower case; NULL when unknown. */
GCMSG_EXTERN(const char *) gcmsg_policy_result_channel(const gcmsg_policy_result *r);
/** SMS only (else 0): the number of segments the text takes. */
GCMSG_EXTERN(unsigned) gcmsg_policy_result_sms_segments(const gcmsg_policy_result *r);
/** SMS only (else NULL): "GSM-7" or "UCS-2". */
GCMSG_EXTERN(const char *) gcmsg_policy_result_sms_encoding(const gcmsg_policy_result *r);

/**
 * One line summarising every violation, for errors: "detector.payment-card at
 * chars 10-29; length.max (2013 > 2000 UTF-16 units)" (char spans as above,
 * [start, end)). "" when there is none.
 */
GCMSG_EXTERN(const char *) gcmsg_policy_result_summary(const gcmsg_policy_result *r);

/**
 * Notes that are not violations, one line each: the channel was unknown and
 * the strictest limit applied; a text over 16 KiB was only partly checked; a
 * limit error in an allow-list pattern. NULL when i is out of range.
 */
GCMSG_EXTERN(size_t) gcmsg_policy_result_note_count(const gcmsg_policy_result *r);
GCMSG_EXTERN(const char *) gcmsg_policy_result_note(const gcmsg_policy_result *r, size_t i);

/**
 * The attachment size limit in bytes for this channel and queue (the media
 * code refuses larger files before any request). policy NULL: the defaults
 * (10 MiB); opts NULL: GCMSG_CHECK_OPTIONS_INIT.
 */
GCMSG_EXTERN(unsigned long long) gcmsg_policy_attachment_max_bytes(const gcmsg_policy *p,
                                                                   const gcmsg_check_options *opts);

#ifdef __cplusplus
}
#endif

#endif
