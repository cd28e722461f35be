/* SHA-256 (FIPS 180-4), for PKCE's S256 code challenge (RFC 7636 §4.2). */
#ifndef GCSIM_SHA256_H
#define GCSIM_SHA256_H

#include <stddef.h>

/* The 32-byte SHA-256 digest of len bytes. */
void sim_sha256(const unsigned char *data, size_t len, unsigned char digest[32]);

/* base64url (RFC 4648 §5) of SHA-256(ASCII verifier), without padding: the S256 code challenge
 * (43 characters) into out (>= 44 bytes). */
void sim_pkce_s256(const char *verifier, char out[44]);

#endif
