/* MD5 (RFC 1321), for the upload receiver's Content-MD5 checks (RFC 1864). Not for security. */
#ifndef GCSIM_MD5_H
#define GCSIM_MD5_H

#include <stddef.h>

/* The 16-byte MD5 digest of len bytes. */
void sim_md5(const unsigned char *data, size_t len, unsigned char digest[16]);

#endif
