/* Small helpers shared by gcsim's modules: time, ids, strings, UTF-8, encodings. */
#ifndef GCSIM_UTIL_H
#define GCSIM_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Formats a millisecond Unix time as "YYYY-MM-DDTHH:MM:SS.mmmZ" (buf >= 32 bytes). */
void sim_format_time(int64_t ms, char *buf, size_t len);
/* Parses an ISO-8601 date-time (Z or +hh:mm offset); 0 on success. */
int sim_parse_time(const char *s, int64_t *ms_out);
/* Milliseconds since the epoch on the real clock. */
int64_t sim_real_now_ms(void);

/* A small deterministic generator (splitmix64); not for cryptography. */
typedef struct sim_rng {
  uint64_t s;
} sim_rng;
void sim_rng_seed(sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(sim_rng *r);
/* A version-4 style UUID string (buf >= 37 bytes). */
void sim_rng_uuid(sim_rng *r, char *buf, size_t len);
/* len-1 characters of [A-Za-z0-9_-] then NUL. */
void sim_rng_token(sim_rng *r, char *buf, size_t len);

/* Number of Unicode code points in valid UTF-8 text; -1 when not valid UTF-8. */
long sim_utf8_count(const char *s);
/* Length of valid UTF-8 text in UTF-16 code units (a code point above U+FFFF counts 2); -1 when
 * not valid UTF-8. The unit gcsim counts message lengths in. */
long sim_utf16_count(const char *s);

/* Decodes base64 (standard alphabet, padding optional) into a NUL-terminated malloc'd buffer;
 * NULL on bad input or allocation failure. The caller frees with sim_free_secret. */
char *sim_base64_decode(const char *in, size_t *out_len);
/* Standard base64 with padding of len bytes into a NUL-terminated malloc'd string; NULL on OOM. */
char *sim_base64_encode(const unsigned char *in, size_t len);
/* Zeroes then frees a string holding a secret. */
void sim_free_secret(char *s);

/* Percent-decodes (and '+' to space when form != 0) into a new malloc'd string; NULL on error. */
char *sim_url_decode(const char *s, size_t len, int form);
/* Percent-encodes everything but RFC 3986 unreserved characters into a new malloc'd string. */
char *sim_url_encode(const char *s);
/* Parses an application/x-www-form-urlencoded body into a JSON object of strings
 * (at most max_fields fields); NULL on malformed input. */
json_t *sim_parse_form(const char *body, size_t len, size_t max_fields);

/* Constant-time comparison of two NUL-terminated strings. 1 when equal. */
int sim_secret_equal(const char *a, const char *b);

/* Convenience accessors: NULL when absent or not a string. */
const char *sim_jstr(const json_t *obj, const char *key);

#endif
