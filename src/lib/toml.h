/*
 * toml.h - reader and writer for the TOML subset gcmsg uses (private): the
 * profiles of ~/.gcmsg/config.toml and the library files of
 * docs/gcmsg-library.5.md.
 *
 * Read, per TOML 1.0: [table] headers, dotted ones included, with bare or
 * quoted segments ([responses."Escalation notice".substitutions.CaseNumber]);
 * key = value with a bare or quoted key; basic "strings" with escapes,
 * 'literal strings', multi-line """basic""" strings (a newline right after
 * the opening delimiter is trimmed, a line-ending backslash joins lines) and
 * multi-line '''literal''' strings; true/false; decimal integers (with _
 * separators); # comments; blank lines; LF or CRLF line ends (a CRLF inside a
 * multi-line string is read as LF). The document must be valid UTF-8 without
 * NUL bytes, and strings cannot hold U+0000 (\u0000), since values are C
 * strings. Not read (an error naming the line): dotted keys (a.b = 1), arrays
 * (unless GCMSG__TOML_ARRAYS is given, see gcmsg__toml_parse_ex), inline
 * tables, arrays of tables, floats, dates, hex/octal/binary integers.
 *
 * Tables: [a.b] implicitly defines [a]; a table may be defined by its own
 * header once (also after a deeper one); a key defined twice, a table
 * defined twice, and a key that is also a table are errors.
 */
#ifndef GCMSG_TOML_H
#define GCMSG_TOML_H

#include <stddef.h>

#include "buf.h"
#include "strmap.h"

typedef enum { GCMSG_TOML_STRING, GCMSG_TOML_BOOL, GCMSG_TOML_INT, GCMSG_TOML_ARRAY } gcmsg__toml_type;

/* Caps: a document beyond them is refused (hostile input). */
#define GCMSG__TOML_MAX_ITEMS ((size_t)1000000) /* keys and tables together */
#define GCMSG__TOML_MAX_DEPTH 32                /* segments of a table name */
#define GCMSG__TOML_MAX_ARRAY ((size_t)100000)   /* strings in one array */

/* gcmsg__toml_parse_ex flags */
#define GCMSG__TOML_ARRAYS 1u /* read arrays of strings (GCMSG_TOML_ARRAY) */

typedef struct gcmsg__toml_table {
	/*
	 * "" for the root; one segment: the segment as written (unquoted);
	 * deeper: the segments joined by '.', each quoted when it is not a bare
	 * key (responses."Escalation notice") - for messages; use path to match.
	 */
	char *name;
	char **path;
	size_t depth;  /* 0 for the root */
	int line;      /* its header's line, or that of the first header implying it; 0 for the root */
	int implicit;  /* only implied by a deeper header, never defined by its own */
} gcmsg__toml_table;

typedef struct gcmsg__toml_entry {
	char *table;   /* its table's name (gcmsg__toml_table.name); "" for keys before any header */
	size_t tindex; /* its table: doc->tables[tindex] */
	char *key;
	gcmsg__toml_type type;
	char *str;     /* STRING */
	long long num; /* INT, and BOOL (0/1) */
	char **arr;    /* ARRAY: the strings, in order */
	size_t narr;
	int line;      /* the line of the key */
} gcmsg__toml_entry;

typedef struct gcmsg__toml_doc {
	gcmsg__toml_entry *items; /* in file order */
	size_t count, alloc;
	gcmsg__toml_table *tables; /* tables[0] is the root; then in order of first appearance */
	size_t ntables, tables_alloc;
	gcmsg__strmap index;       /* private: table paths and keys */
} gcmsg__toml_doc;

/*
 * Parse `len` bytes. 0 on success; -1 with "line N: what" in err (the doc is
 * then empty, and gcmsg__toml_free is still safe to call).
 */
int gcmsg__toml_parse(gcmsg__toml_doc *doc, const char *text, size_t len, char *err, size_t errlen);
/*
 * The same, with flags. GCMSG__TOML_ARRAYS: a value may also be an array of
 * strings, `["a", 'b']`, on one line or several (a trailing comma, blank
 * lines and # comments allowed between the elements; every element a one-line
 * or multi-line string; at most GCMSG__TOML_MAX_ARRAY of them). Any other
 * element (a number, a boolean, a nested array) is an error naming its line.
 * The entry's line is that of its key.
 */
int gcmsg__toml_parse_ex(gcmsg__toml_doc *doc, const char *text, size_t len, unsigned flags, char *err,
                         size_t errlen);
/* Frees everything; string values are zeroed first (they may be secrets). */
void gcmsg__toml_free(gcmsg__toml_doc *doc);
/*
 * The entry `key` of the table named `table`, or NULL: "" is the root, any
 * other name a one-segment table ([name] or ["name"]); deeper tables are not
 * found this way (see gcmsg__toml_get_in).
 */
const gcmsg__toml_entry *gcmsg__toml_get(const gcmsg__toml_doc *doc, const char *table, const char *key);
/* Whether a one-segment table `table` exists (defined or implied). */
int gcmsg__toml_has_table(const gcmsg__toml_doc *doc, const char *table);
/* The entry `key` of doc->tables[tindex], or NULL. */
const gcmsg__toml_entry *gcmsg__toml_get_in(const gcmsg__toml_doc *doc, size_t tindex, const char *key);

/* ---- writing (canonical output; each returns 0, or -1: invalid UTF-8 or over the buffer's cap) ---- */

/* Whether `key` can be written bare (A-Za-z0-9_- and not empty). */
int gcmsg__toml_is_bare(const char *key);
/* A key: bare when it can be, else a "basic string". */
int gcmsg__toml_write_key(gcmsg_buf *b, const char *key);
/*
 * A string value: a one-line "basic string" (escapes for ", \ and control
 * characters), or, when it holds a line feed, a multi-line basic string that
 * opens with """ and a line feed and reads back byte for byte (\ and control
 * characters other than tab and LF escaped, quotes escaped where a run
 * could end the string, CR written as \r).
 */
int gcmsg__toml_write_string(gcmsg_buf *b, const char *s);
/* A table header "[a.b]\n", each segment written as a key. */
int gcmsg__toml_write_header(gcmsg_buf *b, const char *const *path, size_t depth);

/* Whether s[0..len) is valid UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
int gcmsg__toml_utf8_valid(const char *s, size_t len);

#endif
