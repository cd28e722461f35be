/* buf.h - growable byte buffer with a hard cap (private). Always NUL-terminated. */
#ifndef GCMSG_BUF_H
#define GCMSG_BUF_H

#include <stddef.h>

typedef struct gcmsg_buf {
	char *ptr;     /* NUL-terminated contents, or NULL before the first append */
	size_t len;    /* bytes used, without the NUL */
	size_t alloc;  /* bytes allocated */
	size_t cap;    /* hard maximum of len */
} gcmsg_buf;

#define GCMSG_BUF_INIT(max) { NULL, 0, 0, (max) }

void gcmsg__buf_init(gcmsg_buf *b, size_t cap);
/* 0, or -1 when the cap would be exceeded or memory ran out (buffer unchanged). */
int gcmsg__buf_append(gcmsg_buf *b, const void *data, size_t len);
int gcmsg__buf_puts(gcmsg_buf *b, const char *s);
int gcmsg__buf_printf(gcmsg_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* "" when empty */
const char *gcmsg__buf_cstr(const gcmsg_buf *b);
void gcmsg__buf_clear(gcmsg_buf *b);
/* Zero the contents, then free. */
void gcmsg__buf_dispose(gcmsg_buf *b);
/* Hand the contents over (caller frees); the buffer is left empty. NULL when empty. */
char *gcmsg__buf_detach(gcmsg_buf *b);

#endif
