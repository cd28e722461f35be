/* toml.c - the TOML subset reader and the canonical writer (see toml.h). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "toml.h"

/* One string value can be as large as the document it sits in; the callers cap documents. */
#define STRING_CAP ((size_t)64 * 1024 * 1024)

/* index kinds (low two bits of a gcmsg__strmap value; the rest is the table index) */
#define K_TABLE 0u    /* a table defined by its own header (or the root) */
#define K_IMPLICIT 1u /* a table only implied by a deeper header */
#define K_VALUE 2u    /* a key with a value */

typedef struct parser {
	const char *p, *end; /* the cursor, the end of the document */
	int line;
	char *err;
	size_t errlen;
	gcmsg__toml_doc *doc;
	size_t cur;      /* the current table */
	gcmsg_buf ipath; /* its encoded path (index key prefix) */
	unsigned flags;  /* GCMSG__TOML_* */
} parser;

#if defined(__GNUC__)
static int fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif

static int fail(parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ps->err, ps->errlen, "line %d: ", ps->line);

	if (n >= 0 && (size_t)n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && s[1] >= 0xA0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xF4 && s[1] >= 0x90)
			return 0; /* past U+10FFFF */
		return 4;
	}
	return 0;
}

int gcmsg__toml_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t k = utf8_seq(p, (size_t)(end - p));
		if (!k)
			return 0;
		p += k;
	}
	return 1;
}

static int put_utf8(gcmsg_buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return gcmsg__buf_append(b, u, n);
}

/* ---- lexing ---- */

static void skip_ws(parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

/* a newline at the cursor: its length (1 for LF, 2 for CRLF), else 0 */
static size_t newline_at(const parser *ps)
{
	if (ps->p < ps->end && *ps->p == '\n')
		return 1;
	if (ps->end - ps->p >= 2 && ps->p[0] == '\r' && ps->p[1] == '\n')
		return 2;
	return 0;
}

static void skip_comment(parser *ps)
{
	if (ps->p < ps->end && *ps->p == '#') {
		const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
		ps->p = nl ? nl : ps->end;
		/* a CR right before the LF belongs to the line end */
		if (nl && nl[-1] == '\r')
			ps->p--;
	}
}

/* after a value or header: only whitespace, an optional comment, then the line end */
static int expect_eol(parser *ps)
{
	skip_ws(ps);
	skip_comment(ps);
	if (ps->p >= ps->end || newline_at(ps))
		return 0;
	if (*ps->p == '\r')
		return fail(ps, "carriage return without a line feed");
	return fail(ps, "unexpected characters after the value");
}

static int bare_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

static int is_control(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7F;
}

static int append(parser *ps, gcmsg_buf *b, const char *s, size_t n)
{
	if (gcmsg__buf_append(b, s, n) < 0)
		return fail(ps, "string too long or out of memory");
	return 0;
}

static int hexval(char h)
{
	return h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
}

/* An escape after the backslash (ps->p is past it), for basic strings. */
static int parse_escape(parser *ps, gcmsg_buf *b)
{
	unsigned long cp = 0;
	int digits = 0, i;
	char c;

	if (ps->p >= ps->end)
		return fail(ps, "unterminated string");
	c = *ps->p++;
	switch (c) {
	case 'b': c = '\b'; break;
	case 't': c = '\t'; break;
	case 'n': c = '\n'; break;
	case 'f': c = '\f'; break;
	case 'r': c = '\r'; break;
	case '"': break;
	case '\\': break;
	case 'u': digits = 4; break;
	case 'U': digits = 8; break;
	default:
		if (is_control((unsigned char)c) || c == '\n')
			return fail(ps, "unknown escape (a backslash before a control character)");
		if ((unsigned char)c >= 0x80)
			return fail(ps, "unknown escape (a backslash before a non-ASCII character)");
		return fail(ps, "unknown escape '\\%c'", c);
	}
	if (!digits)
		return append(ps, b, &c, 1);
	for (i = 0; i < digits; i++) {
		int v = ps->p < ps->end ? hexval(*ps->p) : -1;
		if (v < 0)
			return fail(ps, "bad \\%c escape: %d hex digits expected", digits == 4 ? 'u' : 'U', digits);
		ps->p++;
		cp = cp * 16 + (unsigned long)v;
	}
	if (cp == 0)
		return fail(ps, "\\u0000 (NUL) is not supported in strings");
	if (put_utf8(b, cp) < 0)
		return cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)
		               ? fail(ps, "escape is not a Unicode scalar value")
		               : fail(ps, "string too long or out of memory");
	return 0;
}

/* a one-line "basic" or 'literal' string at ps->p */
static int parse_oneline(parser *ps, gcmsg_buf *b)
{
	char q = *ps->p++;

	for (;;) {
		unsigned char c;
		const char *s;
		if (ps->p >= ps->end || *ps->p == '\n' || newline_at(ps))
			return fail(ps, "unterminated string");
		c = (unsigned char)*ps->p;
		if (c == (unsigned char)q) {
			ps->p++;
			return 0;
		}
		if (is_control(c))
			return fail(ps, "control character in a string (write it as an escape)");
		if (c == '\\' && q == '"') {
			ps->p++;
			if (parse_escape(ps, b) < 0)
				return -1;
			continue;
		}
		/* a run of ordinary characters */
		s = ps->p;
		while (ps->p < ps->end && *ps->p != q && *ps->p != '\\' && !is_control((unsigned char)*ps->p))
			ps->p++;
		if (ps->p < ps->end && *ps->p == '\\' && q == '\'')
			ps->p++; /* a literal backslash */
		if (append(ps, b, s, (size_t)(ps->p - s)) < 0)
			return -1;
	}
}

/* a multi-line """basic""" or '''literal''' string at ps->p */
static int parse_multiline(parser *ps, gcmsg_buf *b)
{
	char q = *ps->p;
	int start = ps->line;
	size_t nl;

	ps->p += 3;
	nl = newline_at(ps);
	if (nl) { /* a newline right after the opening delimiter is trimmed */
		ps->p += nl;
		ps->line++;
	}
	for (;;) {
		unsigned char c;
		if (ps->p >= ps->end) {
			ps->line = start;
			return fail(ps, "unterminated multi-line string (opened here)");
		}
		c = (unsigned char)*ps->p;
		if (c == (unsigned char)q) {
			size_t run = 0;
			while (ps->p + run < ps->end && ps->p[run] == q)
				run++;
			if (run < 3) {
				if (append(ps, b, ps->p, run) < 0)
					return -1;
				ps->p += run;
				continue;
			}
			if (run > 5)
				return fail(ps, "too many quotes: %zu in a row in a multi-line string", run);
			/* up to two quotes right before the closing delimiter belong to the string */
			if (append(ps, b, ps->p, run - 3) < 0)
				return -1;
			ps->p += run;
			return 0;
		}
		if ((nl = newline_at(ps)) != 0) {
			if (append(ps, b, "\n", 1) < 0)
				return -1;
			ps->p += nl;
			ps->line++;
			continue;
		}
		if (is_control(c))
			return fail(ps, c == '\r' ? "carriage return without a line feed in a string"
			                          : "control character in a string (write it as an escape)");
		if (c == '\\' && q == '"') {
			const char *s = ++ps->p;
			/* a line-ending backslash: trim it, the line end and every blank after it */
			while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
				ps->p++;
			if (newline_at(ps)) {
				while (ps->p < ps->end) {
					if (*ps->p == ' ' || *ps->p == '\t') {
						ps->p++;
					} else if ((nl = newline_at(ps)) != 0) {
						ps->p += nl;
						ps->line++;
					} else {
						break;
					}
				}
				continue;
			}
			ps->p = s;
			if (parse_escape(ps, b) < 0)
				return -1;
			continue;
		}
		{
			const char *s = ps->p;
			while (ps->p < ps->end && *ps->p != q && *ps->p != '\\' && !is_control((unsigned char)*ps->p))
				ps->p++;
			if (ps->p < ps->end && *ps->p == '\\' && q == '\'')
				ps->p++;
			if (append(ps, b, s, (size_t)(ps->p - s)) < 0)
				return -1;
		}
	}
}

static int is_triple(const parser *ps)
{
	return ps->end - ps->p >= 3 && (memcmp(ps->p, "\"\"\"", 3) == 0 || memcmp(ps->p, "'''", 3) == 0);
}

static int finish_string(parser *ps, gcmsg_buf *b, char **out)
{
	*out = b->ptr ? gcmsg__buf_detach(b) : calloc(1, 1);
	if (!*out)
		return fail(ps, "out of memory");
	return 0;
}

/* A key (or table name segment): bare, "basic" or 'literal'; malloc'd. */
static int parse_key(parser *ps, char **out)
{
	const char *s = ps->p;

	*out = NULL;
	if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\'')) {
		gcmsg_buf b = GCMSG_BUF_INIT(STRING_CAP);
		if (is_triple(ps))
			return fail(ps, "a multi-line string cannot be a key");
		if (parse_oneline(ps, &b) < 0) {
			gcmsg__buf_dispose(&b);
			return -1;
		}
		return finish_string(ps, &b, out);
	}
	while (ps->p < ps->end && bare_char(*ps->p))
		ps->p++;
	if (ps->p == s)
		return fail(ps, "a key or table name was expected");
	*out = malloc((size_t)(ps->p - s) + 1);
	if (!*out)
		return fail(ps, "out of memory");
	memcpy(*out, s, (size_t)(ps->p - s));
	(*out)[ps->p - s] = '\0';
	return 0;
}

static void free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		volatile char *z = v[i];
		while (*z)
			*z++ = 0;
		free(v[i]);
	}
	free(v);
}

/* blanks, line ends and comments between array elements */
static int skip_array_space(parser *ps)
{
	size_t nl;

	for (;;) {
		skip_ws(ps);
		skip_comment(ps);
		if ((nl = newline_at(ps)) != 0) {
			ps->p += nl;
			ps->line++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '\r')
			return fail(ps, "carriage return without a line feed");
		return 0;
	}
}

/* an array of strings at ps->p ('['); GCMSG__TOML_ARRAYS only */
static int parse_array(parser *ps, gcmsg__toml_entry *e)
{
	int start = ps->line;
	size_t alloc = 0;

	ps->p++;
	for (;;) {
		gcmsg_buf b = GCMSG_BUF_INIT(STRING_CAP);
		char *str;
		int rc;

		if (skip_array_space(ps) < 0)
			return -1;
		if (ps->p >= ps->end) {
			ps->line = start;
			return fail(ps, "unterminated array (opened here)");
		}
		if (*ps->p == ']') {
			ps->p++;
			return 0;
		}
		if (*ps->p != '"' && *ps->p != '\'') {
			if (*ps->p == ',')
				return fail(ps, "an array element was expected before ','");
			return fail(ps, "arrays hold only strings (in quotes)");
		}
		if (e->narr == GCMSG__TOML_MAX_ARRAY)
			return fail(ps, "more than %zu strings in one array", GCMSG__TOML_MAX_ARRAY);
		rc = is_triple(ps) ? parse_multiline(ps, &b) : parse_oneline(ps, &b);
		if (rc < 0 || finish_string(ps, &b, &str) < 0) {
			gcmsg__buf_dispose(&b);
			return -1;
		}
		if (e->narr == alloc) {
			size_t n = alloc ? alloc * 2 : 8;
			char **v = realloc(e->arr, n * sizeof(*v));
			if (!v) {
				free(str);
				return fail(ps, "out of memory");
			}
			e->arr = v;
			alloc = n;
		}
		e->arr[e->narr++] = str;
		if (skip_array_space(ps) < 0)
			return -1;
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return 0;
		}
		if (ps->p >= ps->end) {
			ps->line = start;
			return fail(ps, "unterminated array (opened here)");
		}
		return fail(ps, "',' or ']' expected after an array element");
	}
}

static int parse_value(parser *ps, gcmsg__toml_entry *e)
{
	const char *s = ps->p;

	if (ps->p >= ps->end || *ps->p == '#' || newline_at(ps))
		return fail(ps, "a value was expected after '='");
	if (*ps->p == '[' && (ps->flags & GCMSG__TOML_ARRAYS)) {
		e->type = GCMSG_TOML_ARRAY;
		return parse_array(ps, e);
	}
	if (*ps->p == '"' || *ps->p == '\'') {
		gcmsg_buf b = GCMSG_BUF_INIT(STRING_CAP);
		int rc = is_triple(ps) ? parse_multiline(ps, &b) : parse_oneline(ps, &b);
		if (rc < 0) {
			gcmsg__buf_dispose(&b);
			return -1;
		}
		e->type = GCMSG_TOML_STRING;
		return finish_string(ps, &b, &e->str);
	}
	while (ps->p < ps->end && *ps->p != ' ' && *ps->p != '\t' && *ps->p != '#' && *ps->p != '\n' &&
	       *ps->p != '\r')
		ps->p++;
	if ((size_t)(ps->p - s) == 4 && memcmp(s, "true", 4) == 0) {
		e->type = GCMSG_TOML_BOOL;
		e->num = 1;
		return 0;
	}
	if ((size_t)(ps->p - s) == 5 && memcmp(s, "false", 5) == 0) {
		e->type = GCMSG_TOML_BOOL;
		e->num = 0;
		return 0;
	}
	{
		char digits[32];
		size_t n = 0;
		const char *q = s;
		int prev_digit = 0;
		/* never echo the value: this reader also reads files holding secrets */
		const char *key = e->key ? e->key : "?";
		if (q < ps->p && (*q == '+' || *q == '-'))
			digits[n++] = *q++;
		if (q == ps->p)
			return fail(ps, "bad value for '%s'", key);
		for (; q < ps->p; q++) {
			if (*q >= '0' && *q <= '9' && n < sizeof(digits) - 1) {
				digits[n++] = *q;
				prev_digit = 1;
			} else if (*q >= '0' && *q <= '9') {
				return fail(ps, "integer out of range");
			} else if (*q == '_' && prev_digit && q + 1 < ps->p && q[1] >= '0' && q[1] <= '9') {
				prev_digit = 0;
			} else {
				return fail(ps, "bad value for '%s' (strings need quotes)", key);
			}
		}
		digits[n] = '\0';
		if ((digits[0] == '0' && n > 1) || ((digits[0] == '+' || digits[0] == '-') && digits[1] == '0' && n > 2))
			return fail(ps, "leading zeros are not allowed in the value of '%s'", key);
		errno = 0;
		e->num = strtoll(digits, NULL, 10);
		if (errno == ERANGE)
			return fail(ps, "integer out of range");
		e->type = GCMSG_TOML_INT;
		return 0;
	}
}

/* ---- the document ---- */

/* append one segment to an encoded path: "<length>:<bytes>" */
static int encode_seg(gcmsg_buf *b, const char *seg)
{
	size_t n = strlen(seg);

	return gcmsg__buf_printf(b, "%zu:", n) < 0 || gcmsg__buf_append(b, seg, n) < 0 ? -1 : 0;
}

static int encode_path(gcmsg_buf *b, char *const *path, size_t depth)
{
	size_t i;

	gcmsg__buf_clear(b);
	for (i = 0; i < depth; i++)
		if (encode_seg(b, path[i]) < 0)
			return -1;
	return 0;
}

static void free_table(gcmsg__toml_table *t)
{
	size_t i;

	free(t->name);
	for (i = 0; i < t->depth; i++)
		free(t->path[i]);
	free(t->path);
}

int gcmsg__toml_is_bare(const char *key)
{
	const char *p;

	if (!*key)
		return 0;
	for (p = key; *p; p++)
		if (!bare_char(*p))
			return 0;
	return 1;
}

static char *display_name(char *const *path, size_t depth)
{
	gcmsg_buf b = GCMSG_BUF_INIT(STRING_CAP);
	size_t i;

	if (depth == 0)
		return calloc(1, 1);
	if (depth == 1)
		return strdup(path[0]);
	for (i = 0; i < depth; i++) {
		if ((i && gcmsg__buf_puts(&b, ".") < 0) || gcmsg__toml_write_key(&b, path[i]) < 0) {
			gcmsg__buf_dispose(&b);
			return NULL;
		}
	}
	return gcmsg__buf_detach(&b);
}

static int too_many(parser *ps)
{
	if (ps->doc->count + ps->doc->ntables >= GCMSG__TOML_MAX_ITEMS)
		return fail(ps, "too many keys and tables (more than %zu)", GCMSG__TOML_MAX_ITEMS);
	return 0;
}

/* Add a table (copies the first `depth` segments); its index in *out. */
static int add_table(parser *ps, char *const *path, size_t depth, int implicit, size_t *out)
{
	gcmsg__toml_doc *doc = ps->doc;
	gcmsg__toml_table *t;
	size_t i;

	if (too_many(ps) < 0)
		return -1;
	if (doc->ntables == doc->tables_alloc) {
		size_t n = doc->tables_alloc ? doc->tables_alloc * 2 : 16;
		gcmsg__toml_table *tables = realloc(doc->tables, n * sizeof(*tables));
		if (!tables)
			return fail(ps, "out of memory");
		doc->tables = tables;
		doc->tables_alloc = n;
	}
	t = &doc->tables[doc->ntables];
	memset(t, 0, sizeof(*t));
	t->line = ps->line;
	t->implicit = implicit;
	if (depth) {
		t->path = calloc(depth, sizeof(char *));
		if (!t->path)
			return fail(ps, "out of memory");
	}
	for (i = 0; i < depth; i++) {
		t->path[i] = strdup(path[i]);
		if (!t->path[i]) {
			t->depth = i;
			free_table(t);
			return fail(ps, "out of memory");
		}
	}
	t->depth = depth;
	t->name = display_name(path, depth);
	if (!t->name) {
		free_table(t);
		return fail(ps, "out of memory");
	}
	*out = doc->ntables++;
	return 0;
}

static void free_segs(char **segs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(segs[i]);
}

static int parse_header(parser *ps)
{
	char *segs[GCMSG__TOML_MAX_DEPTH];
	size_t n = 0, i, v, tindex;
	gcmsg_buf enc = GCMSG_BUF_INIT(STRING_CAP);
	int rc = -1, found;

	ps->p++; /* '[' */
	if (ps->p < ps->end && *ps->p == '[')
		return fail(ps, "arrays of tables are not supported");
	for (;;) {
		skip_ws(ps);
		if (n == GCMSG__TOML_MAX_DEPTH) {
			fail(ps, "a table name of more than %d parts", GCMSG__TOML_MAX_DEPTH);
			goto out;
		}
		if (parse_key(ps, &segs[n]) < 0)
			goto out;
		n++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == '.') {
			ps->p++;
			continue;
		}
		break;
	}
	if (ps->p >= ps->end || *ps->p != ']') {
		fail(ps, "']' expected after the table name");
		goto out;
	}
	ps->p++;
	if (expect_eol(ps) < 0)
		goto out;
	/* every shorter prefix is a table, implied if not defined yet */
	for (i = 1; i <= n; i++) {
		if (encode_seg(&enc, segs[i - 1]) < 0) {
			fail(ps, "out of memory");
			goto out;
		}
		found = gcmsg__strmap_get(&ps->doc->index, enc.ptr, enc.len, &v);
		if (found && (v & 3u) == K_VALUE) {
			char *name = display_name(segs, i);
			fail(ps, "'%s' is a key with a value, not a table", name ? name : "?");
			free(name);
			goto out;
		}
		if (i < n) {
			if (found)
				continue;
			if (add_table(ps, segs, i, 1, &tindex) < 0)
				goto out;
			if (gcmsg__strmap_put(&ps->doc->index, enc.ptr, enc.len, (tindex << 2) | K_IMPLICIT) < 0) {
				fail(ps, "out of memory");
				goto out;
			}
			continue;
		}
		if (found && (v & 3u) == K_TABLE) {
			fail(ps, "table [%s] is defined twice", ps->doc->tables[v >> 2].name);
			goto out;
		}
		if (found) { /* implied so far: now defined */
			tindex = v >> 2;
			ps->doc->tables[tindex].implicit = 0;
			ps->doc->tables[tindex].line = ps->line;
			gcmsg__strmap_set(&ps->doc->index, enc.ptr, enc.len, (tindex << 2) | K_TABLE);
		} else {
			if (add_table(ps, segs, n, 0, &tindex) < 0)
				goto out;
			if (gcmsg__strmap_put(&ps->doc->index, enc.ptr, enc.len, (tindex << 2) | K_TABLE) < 0) {
				fail(ps, "out of memory");
				goto out;
			}
		}
	}
	ps->cur = tindex;
	gcmsg__buf_clear(&ps->ipath);
	if (enc.len && gcmsg__buf_append(&ps->ipath, enc.ptr, enc.len) < 0) {
		fail(ps, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free_segs(segs, n);
	gcmsg__buf_dispose(&enc);
	return rc;
}

static void free_entry(gcmsg__toml_entry *e)
{
	free(e->table);
	free(e->key);
	if (e->str) {
		volatile char *v = e->str;
		while (*v)
			*v++ = 0;
	}
	free(e->str);
	free_strings(e->arr, e->narr);
}

static int parse_keyval(parser *ps)
{
	gcmsg__toml_doc *doc = ps->doc;
	gcmsg__toml_entry e;
	size_t keylen, v;

	memset(&e, 0, sizeof(e));
	e.line = ps->line;
	if (parse_key(ps, &e.key) < 0)
		return -1;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '.') {
		free_entry(&e);
		return fail(ps, "dotted keys are not supported (use a [table] header)");
	}
	if (ps->p >= ps->end || *ps->p != '=') {
		free_entry(&e);
		return fail(ps, "'=' expected after key");
	}
	ps->p++;
	skip_ws(ps);
	if (parse_value(ps, &e) < 0 || expect_eol(ps) < 0) {
		free_entry(&e);
		return -1;
	}
	/* the key's place in the index: its table's path + the key */
	keylen = ps->ipath.len;
	if (encode_seg(&ps->ipath, e.key) < 0) {
		free_entry(&e);
		return fail(ps, "out of memory");
	}
	if (gcmsg__strmap_get(&doc->index, ps->ipath.ptr, ps->ipath.len, &v)) {
		ps->line = e.line;
		if ((v & 3u) == K_VALUE)
			fail(ps, "key '%s' is defined twice", e.key);
		else
			fail(ps, "key '%s' is already a table ([%s])", e.key, doc->tables[v >> 2].name);
		goto bad;
	}
	if (too_many(ps) < 0)
		goto bad;
	e.tindex = ps->cur;
	e.table = strdup(doc->tables[ps->cur].name);
	if (!e.table)
		goto oom;
	if (doc->count == doc->alloc) {
		size_t n = doc->alloc ? doc->alloc * 2 : 16;
		gcmsg__toml_entry *items = realloc(doc->items, n * sizeof(*items));
		if (!items)
			goto oom;
		doc->items = items;
		doc->alloc = n;
	}
	if (gcmsg__strmap_put(&doc->index, ps->ipath.ptr, ps->ipath.len, (doc->count << 2) | K_VALUE) < 0)
		goto oom;
	doc->items[doc->count++] = e;
	ps->ipath.len = keylen;
	return 0;
oom:
	fail(ps, "out of memory");
bad:
	ps->ipath.len = keylen;
	free_entry(&e);
	return -1;
}

/* every line: no NUL byte, valid UTF-8 */
static int check_bytes(parser *ps, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	ps->line = 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (memchr(p, '\0', (size_t)(le - p)))
			return fail(ps, "NUL byte in the file");
		if (!gcmsg__toml_utf8_valid(p, (size_t)(le - p)))
			return fail(ps, "invalid UTF-8");
		if (!nl)
			break;
		p = nl + 1;
		ps->line++;
	}
	return 0;
}

int gcmsg__toml_parse(gcmsg__toml_doc *doc, const char *text, size_t len, char *err, size_t errlen)
{
	return gcmsg__toml_parse_ex(doc, text, len, 0, err, errlen);
}

int gcmsg__toml_parse_ex(gcmsg__toml_doc *doc, const char *text, size_t len, unsigned flags, char *err,
                         size_t errlen)
{
	parser ps;
	size_t root, nl;

	memset(doc, 0, sizeof(*doc));
	memset(&ps, 0, sizeof(ps));
	ps.flags = flags;
	ps.err = err;
	ps.errlen = errlen;
	ps.doc = doc;
	gcmsg__buf_init(&ps.ipath, STRING_CAP);
	if (errlen)
		err[0] = '\0';
	/* skip a UTF-8 byte order mark */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	if (check_bytes(&ps, text, len) < 0)
		goto bad;
	ps.line = 0;
	if (add_table(&ps, NULL, 0, 0, &root) < 0)
		goto bad;
	ps.line = 1;
	ps.cur = root;
	ps.p = text;
	ps.end = text + len;
	while (ps.p < ps.end) {
		skip_ws(&ps);
		if (ps.p >= ps.end)
			break;
		if ((nl = newline_at(&ps)) != 0) {
			ps.p += nl;
			ps.line++;
			continue;
		}
		if (*ps.p == '#') {
			skip_comment(&ps);
			continue;
		}
		if (*ps.p == '\r') {
			fail(&ps, "carriage return without a line feed");
			goto bad;
		}
		if ((*ps.p == '[' ? parse_header(&ps) : parse_keyval(&ps)) < 0)
			goto bad;
	}
	gcmsg__buf_dispose(&ps.ipath);
	return 0;
bad:
	gcmsg__buf_dispose(&ps.ipath);
	gcmsg__toml_free(doc);
	return -1;
}

void gcmsg__toml_free(gcmsg__toml_doc *doc)
{
	size_t i;

	for (i = 0; i < doc->count; i++)
		free_entry(&doc->items[i]);
	free(doc->items);
	for (i = 0; i < doc->ntables; i++)
		free_table(&doc->tables[i]);
	free(doc->tables);
	gcmsg__strmap_free(&doc->index);
	memset(doc, 0, sizeof(*doc));
}

const gcmsg__toml_entry *gcmsg__toml_get_in(const gcmsg__toml_doc *doc, size_t tindex, const char *key)
{
	gcmsg_buf enc = GCMSG_BUF_INIT(STRING_CAP);
	const gcmsg__toml_entry *e = NULL;
	size_t v;

	if (tindex >= doc->ntables)
		return NULL;
	if (encode_path(&enc, doc->tables[tindex].path, doc->tables[tindex].depth) == 0 &&
	    encode_seg(&enc, key) == 0 && gcmsg__strmap_get(&doc->index, enc.ptr ? enc.ptr : "", enc.len, &v) &&
	    (v & 3u) == K_VALUE)
		e = &doc->items[v >> 2];
	gcmsg__buf_dispose(&enc);
	return e;
}

/* the one-segment table `table` ("" the root), or (size_t)-1 */
static size_t find_table(const gcmsg__toml_doc *doc, const char *table)
{
	gcmsg_buf enc = GCMSG_BUF_INIT(STRING_CAP);
	size_t v, found = (size_t)-1;

	if (!doc->ntables)
		return found;
	if (!*table)
		return 0;
	if (encode_seg(&enc, table) == 0 && gcmsg__strmap_get(&doc->index, enc.ptr, enc.len, &v) &&
	    (v & 3u) != K_VALUE)
		found = v >> 2;
	gcmsg__buf_dispose(&enc);
	return found;
}

const gcmsg__toml_entry *gcmsg__toml_get(const gcmsg__toml_doc *doc, const char *table, const char *key)
{
	size_t t = find_table(doc, table);

	return t == (size_t)-1 ? NULL : gcmsg__toml_get_in(doc, t, key);
}

int gcmsg__toml_has_table(const gcmsg__toml_doc *doc, const char *table)
{
	return *table && find_table(doc, table) != (size_t)-1;
}

/* ---- writing ---- */

static int put_escaped_control(gcmsg_buf *b, unsigned char c)
{
	switch (c) {
	case '\b': return gcmsg__buf_puts(b, "\\b");
	case '\t': return gcmsg__buf_puts(b, "\\t");
	case '\n': return gcmsg__buf_puts(b, "\\n");
	case '\f': return gcmsg__buf_puts(b, "\\f");
	case '\r': return gcmsg__buf_puts(b, "\\r");
	default: return gcmsg__buf_printf(b, "\\u%04X", c);
	}
}

static int write_basic(gcmsg_buf *b, const char *s)
{
	const char *p = s, *run = s;

	if (gcmsg__buf_puts(b, "\"") < 0)
		return -1;
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7F)
			continue;
		if (gcmsg__buf_append(b, run, (size_t)(p - run)) < 0)
			return -1;
		run = p + 1;
		if ((c == '"' || c == '\\') ? gcmsg__buf_printf(b, "\\%c", c) < 0 : put_escaped_control(b, c) < 0)
			return -1;
	}
	if (gcmsg__buf_append(b, run, (size_t)(p - run)) < 0)
		return -1;
	return gcmsg__buf_puts(b, "\"");
}

static int write_multiline(gcmsg_buf *b, const char *s)
{
	const char *p = s, *run = s;

	/* the line feed after the delimiter is trimmed on reading */
	if (gcmsg__buf_puts(b, "\"\"\"\n") < 0)
		return -1;
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		int esc;
		if (c == '"')
			/* a quote followed by another, or last, could make a closing run */
			esc = p[1] == '"' || p[1] == '\0';
		else
			esc = c == '\\' || (c < 0x20 && c != '\t' && c != '\n') || c == 0x7F;
		if (!esc)
			continue;
		if (gcmsg__buf_append(b, run, (size_t)(p - run)) < 0)
			return -1;
		run = p + 1;
		if ((c == '"' || c == '\\') ? gcmsg__buf_printf(b, "\\%c", c) < 0 : put_escaped_control(b, c) < 0)
			return -1;
	}
	if (gcmsg__buf_append(b, run, (size_t)(p - run)) < 0)
		return -1;
	return gcmsg__buf_puts(b, "\"\"\"");
}

int gcmsg__toml_write_key(gcmsg_buf *b, const char *key)
{
	if (!gcmsg__toml_utf8_valid(key, strlen(key)))
		return -1;
	return gcmsg__toml_is_bare(key) ? gcmsg__buf_puts(b, key) : write_basic(b, key);
}

int gcmsg__toml_write_string(gcmsg_buf *b, const char *s)
{
	if (!gcmsg__toml_utf8_valid(s, strlen(s)))
		return -1;
	return strchr(s, '\n') ? write_multiline(b, s) : write_basic(b, s);
}

int gcmsg__toml_write_header(gcmsg_buf *b, const char *const *path, size_t depth)
{
	size_t i;

	if (gcmsg__buf_puts(b, "[") < 0)
		return -1;
	for (i = 0; i < depth; i++)
		if ((i && gcmsg__buf_puts(b, ".") < 0) || gcmsg__toml_write_key(b, path[i]) < 0)
			return -1;
	return gcmsg__buf_puts(b, "]\n");
}
