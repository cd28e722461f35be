#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gcmsg__buf_init(gcmsg_buf *b, size_t cap)
{
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

static int buf_reserve(gcmsg_buf *b, size_t extra)
{
	size_t need, n;
	char *p;

	if (extra > b->cap || b->len > b->cap - extra)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n = n > ((size_t)-1) / 2 ? need : n * 2;
	p = realloc(b->ptr, n);
	if (!p)
		return -1;
	b->ptr = p;
	b->alloc = n;
	return 0;
}

int gcmsg__buf_append(gcmsg_buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int gcmsg__buf_puts(gcmsg_buf *b, const char *s)
{
	return gcmsg__buf_append(b, s, strlen(s));
}

int gcmsg__buf_printf(gcmsg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *gcmsg__buf_cstr(const gcmsg_buf *b)
{
	return b->ptr ? b->ptr : "";
}

void gcmsg__buf_clear(gcmsg_buf *b)
{
	if (b->ptr) {
		memset(b->ptr, 0, b->len);
		b->ptr[0] = '\0';
	}
	b->len = 0;
}

void gcmsg__buf_dispose(gcmsg_buf *b)
{
	if (b->ptr)
		memset(b->ptr, 0, b->alloc);
	free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
}

char *gcmsg__buf_detach(gcmsg_buf *b)
{
	char *p = b->ptr;

	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}
