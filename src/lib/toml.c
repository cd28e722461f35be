/* toml.c - the TOML subset reader (see toml.h). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "toml.h"

#define LINE_CAP ((size_t)64 * 1024)

typedef struct parser {
	const char *p, *end; /* the current line */
	int line;
	char *err;
	size_t errlen;
} parser;

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

static void skip_ws(parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

/* after a value or header: only whitespace and an optional comment */
static int expect_eol(parser *ps)
{
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p != '#')
		return fail(ps, "unexpected '%c' after the value", *ps->p);
	return 0;
}

static int bare_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
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

/* A "basic" or 'literal' string at ps->p; returns a malloc'd value. */
static int parse_string(parser *ps, char **out)
{
	char q = *ps->p++;
	gcmsg_buf b = GCMSG_BUF_INIT(LINE_CAP);

	*out = NULL;
	for (;;) {
		char c;
		if (ps->p >= ps->end) {
			gcmsg__buf_dispose(&b);
			return fail(ps, "unterminated string");
		}
		c = *ps->p++;
		if (c == q)
			break;
		if ((unsigned char)c < 0x20 && c != '\t') {
			gcmsg__buf_dispose(&b);
			return fail(ps, "control character in a string");
		}
		if (c == '\\' && q == '"') {
			unsigned long cp = 0;
			int digits = 0, i;
			if (ps->p >= ps->end) {
				gcmsg__buf_dispose(&b);
				return fail(ps, "unterminated string");
			}
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
				gcmsg__buf_dispose(&b);
				return fail(ps, "unknown escape '\\%c'", c);
			}
			if (digits) {
				for (i = 0; i < digits; i++) {
					char h = ps->p < ps->end ? *ps->p++ : '\0';
					int v = h >= '0' && h <= '9' ? h - '0' :
					        h >= 'a' && h <= 'f' ? h - 'a' + 10 :
					        h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
					if (v < 0) {
						gcmsg__buf_dispose(&b);
						return fail(ps, "bad \\%c escape: %d hex digits expected",
						            digits == 4 ? 'u' : 'U', digits);
					}
					cp = cp * 16 + (unsigned long)v;
				}
				if (put_utf8(&b, cp) < 0) {
					gcmsg__buf_dispose(&b);
					return fail(ps, "escape is not a Unicode scalar value");
				}
				continue;
			}
		}
		if (gcmsg__buf_append(&b, &c, 1) < 0) {
			gcmsg__buf_dispose(&b);
			return fail(ps, "string too long");
		}
	}
	*out = b.ptr ? gcmsg__buf_detach(&b) : calloc(1, 1);
	if (!*out)
		return fail(ps, "out of memory");
	return 0;
}

static int parse_key(parser *ps, char **out)
{
	const char *s = ps->p;

	if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\''))
		return parse_string(ps, out);
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

static int add_entry(gcmsg__toml_doc *doc, gcmsg__toml_entry *e)
{
	if (doc->count == doc->alloc) {
		size_t n = doc->alloc ? doc->alloc * 2 : 16;
		gcmsg__toml_entry *items = realloc(doc->items, n * sizeof(*items));
		if (!items)
			return -1;
		doc->items = items;
		doc->alloc = n;
	}
	doc->items[doc->count++] = *e;
	return 0;
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
}

static int parse_value(parser *ps, gcmsg__toml_entry *e)
{
	const char *s = ps->p;

	if (ps->p >= ps->end || *ps->p == '#')
		return fail(ps, "a value was expected after '='");
	if (*ps->p == '"' || *ps->p == '\'') {
		if (ps->end - ps->p >= 3 && (memcmp(ps->p, "\"\"\"", 3) == 0 || memcmp(ps->p, "'''", 3) == 0))
			return fail(ps, "multi-line strings are not supported");
		e->type = GCMSG_TOML_STRING;
		return parse_string(ps, &e->str);
	}
	while (ps->p < ps->end && *ps->p != ' ' && *ps->p != '\t' && *ps->p != '#')
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
		if (q < ps->p && (*q == '+' || *q == '-'))
			digits[n++] = *q++;
		if (q == ps->p)
			return fail(ps, "bad value '%.*s'", (int)(ps->p - s), s);
		for (; q < ps->p; q++) {
			if (*q >= '0' && *q <= '9' && n < sizeof(digits) - 1) {
				digits[n++] = *q;
				prev_digit = 1;
			} else if (*q == '_' && prev_digit && q + 1 < ps->p && q[1] >= '0' && q[1] <= '9') {
				prev_digit = 0;
			} else {
				return fail(ps, "bad value '%.*s' (strings need quotes)", (int)(ps->p - s), s);
			}
		}
		digits[n] = '\0';
		if ((digits[0] == '0' && n > 1) || ((digits[0] == '+' || digits[0] == '-') && digits[1] == '0' && n > 2))
			return fail(ps, "leading zeros are not allowed in '%.*s'", (int)(ps->p - s), s);
		errno = 0;
		e->num = strtoll(digits, NULL, 10);
		if (errno == ERANGE)
			return fail(ps, "integer out of range");
		e->type = GCMSG_TOML_INT;
		return 0;
	}
}

const gcmsg__toml_entry *gcmsg__toml_get(const gcmsg__toml_doc *doc, const char *table, const char *key)
{
	size_t i;

	for (i = 0; i < doc->count; i++)
		if (strcmp(doc->items[i].table, table) == 0 && strcmp(doc->items[i].key, key) == 0)
			return &doc->items[i];
	return NULL;
}

int gcmsg__toml_has_table(const gcmsg__toml_doc *doc, const char *table)
{
	size_t i;

	for (i = 0; i < doc->ntables; i++)
		if (strcmp(doc->tables[i], table) == 0)
			return 1;
	return 0;
}

static int parse_line(parser *ps, gcmsg__toml_doc *doc, char **table)
{
	gcmsg__toml_entry e;

	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p == '#')
		return 0;
	if (*ps->p == '[') {
		char *name = NULL, **tables;
		ps->p++;
		if (ps->p < ps->end && *ps->p == '[')
			return fail(ps, "arrays of tables are not supported");
		skip_ws(ps);
		if (parse_key(ps, &name) < 0)
			return -1;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ']') {
			free(name);
			return fail(ps, ps->p < ps->end && *ps->p == '.' ? "dotted table names are not supported"
			                                                  : "']' expected after the table name");
		}
		ps->p++;
		if (expect_eol(ps) < 0) {
			free(name);
			return -1;
		}
		if (gcmsg__toml_has_table(doc, name)) {
			fail(ps, "table [%s] is defined twice", name);
			free(name);
			return -1;
		}
		tables = realloc(doc->tables, (doc->ntables + 1) * sizeof(char *));
		if (!tables) {
			free(name);
			return fail(ps, "out of memory");
		}
		doc->tables = tables;
		doc->tables[doc->ntables++] = name;
		free(*table);
		*table = malloc(strlen(name) + 1);
		if (!*table)
			return fail(ps, "out of memory");
		strcpy(*table, name);
		return 0;
	}
	memset(&e, 0, sizeof(e));
	e.line = ps->line;
	if (parse_key(ps, &e.key) < 0)
		return -1;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '.') {
		free_entry(&e);
		return fail(ps, "dotted keys are not supported");
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
	e.table = malloc(strlen(*table) + 1);
	if (!e.table) {
		free_entry(&e);
		return fail(ps, "out of memory");
	}
	strcpy(e.table, *table);
	if (gcmsg__toml_get(doc, e.table, e.key)) {
		fail(ps, "key '%s' is defined twice", e.key);
		free_entry(&e);
		return -1;
	}
	if (add_entry(doc, &e) < 0) {
		free_entry(&e);
		return fail(ps, "out of memory");
	}
	return 0;
}

int gcmsg__toml_parse(gcmsg__toml_doc *doc, const char *text, size_t len, char *err, size_t errlen)
{
	parser ps;
	const char *p = text, *end = text + len;
	char *table = calloc(1, 1);

	memset(doc, 0, sizeof(*doc));
	ps.err = err;
	ps.errlen = errlen;
	ps.line = 0;
	if (!table) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* skip a UTF-8 byte order mark */
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		ps.line++;
		if (memchr(p, '\0', (size_t)(le - p))) {
			fail(&ps, "NUL byte in the file");
			goto bad;
		}
		if (le > p && le[-1] == '\r')
			le--;
		if ((size_t)(le - p) > LINE_CAP) {
			fail(&ps, "line longer than %zu bytes", LINE_CAP);
			goto bad;
		}
		ps.p = p;
		ps.end = le;
		if (parse_line(&ps, doc, &table) < 0)
			goto bad;
		p = nl ? nl + 1 : end;
	}
	free(table);
	return 0;
bad:
	free(table);
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
		free(doc->tables[i]);
	free(doc->tables);
	memset(doc, 0, sizeof(*doc));
}
