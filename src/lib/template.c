/*
 * template.c - the `{{ID}}` placeholder scanner. The grammar is described in
 * template.h; this file only cuts text into literal, placeholder and
 * malformed pieces. It never allocates.
 */
#include <stdio.h>
#include <string.h>

#include "template.h"

int gcmsg__tpl_id_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-' || c == '.';
}

int gcmsg__tpl_valid_id(const char *s, size_t len)
{
	size_t i;

	if (!s || len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!gcmsg__tpl_id_char((unsigned char)s[i]))
			return 0;
	return 1;
}

size_t gcmsg__utf8_decode(const char *str, size_t len, unsigned long *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned long c;
	size_t n, i;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 2;
		c = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		n = 3;
		c = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_pair(const char *s, size_t len, size_t i, char c)
{
	return i + 1 < len && s[i] == c && s[i + 1] == c;
}

/* the reason for content s[0..n) between {{ and }} that holds no "{{", or NULL when it is an id */
static int classify(const char *s, size_t n, char *reason, size_t rlen)
{
	size_t i;
	unsigned long cp;
	size_t k;

	if (n == 0) {
		snprintf(reason, rlen, "empty {{}}");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (is_space((unsigned char)s[i])) {
			snprintf(reason, rlen, "whitespace inside {{ }}");
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (gcmsg__tpl_id_char(c))
			continue;
		if (c >= 0x21 && c <= 0x7E)
			snprintf(reason, rlen, "character '%c' not allowed in a placeholder id", c);
		else if (c < 0x80)
			snprintf(reason, rlen, "character U+%04X not allowed in a placeholder id", (unsigned)c);
		else if ((k = gcmsg__utf8_decode(s + i, n - i, &cp)) > 0)
			snprintf(reason, rlen, "character '%.*s' (U+%04lX) not allowed in a placeholder id", (int)k,
			         s + i, cp);
		else
			snprintf(reason, rlen, "byte 0x%02X (not UTF-8) not allowed in a placeholder id", (unsigned)c);
		return 1;
	}
	return 0;
}

int gcmsg__tpl_next(const char *s, size_t len, size_t *pos, gcmsg__tpl_piece *p)
{
	size_t i = *pos, j, run, open, q, end;

	if (!s || i >= len)
		return 0;
	memset(p, 0, sizeof(*p));
	p->off = i;

	/* the next "{{", then the end of its run of braces: it opens at the last two */
	for (j = i; j < len && !is_pair(s, len, j, '{'); j++)
		;
	if (j >= len) {
		p->kind = GCMSG__TPL_TEXT;
		p->len = len - i;
		*pos = len;
		return 1;
	}
	for (run = j; run < len && s[run] == '{'; run++)
		;
	open = run - 2;
	if (open > i) {
		p->kind = GCMSG__TPL_TEXT;
		p->len = open - i;
		*pos = open;
		return 1;
	}

	/* s[i..i+2) is "{{": find the first "}}", or a "{{" before it */
	for (q = i + 2; q < len; q++) {
		if (is_pair(s, len, q, '}') || is_pair(s, len, q, '{'))
			break;
	}
	if (q < len && s[q] == '}') {
		if (classify(s + i + 2, q - (i + 2), p->reason, sizeof(p->reason))) {
			p->kind = GCMSG__TPL_MALFORMED;
		} else {
			p->kind = GCMSG__TPL_PLACEHOLDER;
			p->id_off = i + 2;
			p->id_len = q - (i + 2);
		}
		p->len = q + 2 - i;
		*pos = q + 2;
		return 1;
	}
	p->kind = GCMSG__TPL_MALFORMED;
	if (q < len) {
		/*
		 * a "{{" at q before any "}}": nesting when it holds an id and its "}}" is
		 * followed by another "}}". Only id characters are scanned, so a text of many
		 * unclosed "{{" stays linear (a scan to the next "}}" made it quadratic).
		 */
		for (end = q + 2; end < len && s[end] == '{'; end++) /* a longer run opens at its last two */
			;
		for (; end < len && gcmsg__tpl_id_char((unsigned char)s[end]); end++)
			;
		if (end + 3 < len && is_pair(s, len, end, '}') && s[end + 2] == '}' && s[end + 3] == '}') {
			snprintf(p->reason, sizeof(p->reason), "'{{' nested inside a placeholder");
			p->len = end + 4 - i;
			*pos = end + 4;
			return 1;
		}
	}
	/* unclosed: the "{{" and the id characters right after it */
	for (end = i + 2; end < len && gcmsg__tpl_id_char((unsigned char)s[end]); end++)
		;
	snprintf(p->reason, sizeof(p->reason), "'{{' without a closing '}}'");
	p->len = end - i;
	*pos = end;
	return 1;
}
