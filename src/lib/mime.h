/* mime.h - content type from magic bytes (private side of gcmsg_mime_sniff). */
#ifndef GCMSG_MIME_H
#define GCMSG_MIME_H

#include <stddef.h>

/*
 * Sniff `len` bytes. `partial` says they are only the start of the content:
 * a multi-byte UTF-8 sequence cut at the end then does not stop the text
 * reading. Returns one of gcmsg__mime_types or NULL (unknown, or len 0).
 */
const char *gcmsg__mime_sniff(const unsigned char *data, size_t len, int partial);

/* Every type the sniffer can answer, NULL-terminated (tests and the fuzz target). */
extern const char *const gcmsg__mime_types[];

/* The label the upload flow uses for content the sniffer does not know. */
#define GCMSG__MIME_UNKNOWN "application/octet-stream"

#endif
