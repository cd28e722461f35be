/*
 * toml.h - reader for the TOML subset of gcmsg profiles (private):
 * [table] headers (bare or "quoted" names), key = value with bare or quoted
 * keys, basic "strings" with escapes, 'literal strings', true/false, decimal
 * integers (with _ separators), # comments, blank lines. Anything else is an
 * error naming the line.
 */
#ifndef GCMSG_TOML_H
#define GCMSG_TOML_H

#include <stddef.h>

typedef enum { GCMSG_TOML_STRING, GCMSG_TOML_BOOL, GCMSG_TOML_INT } gcmsg__toml_type;

typedef struct gcmsg__toml_entry {
	char *table;  /* "" for keys before the first table */
	char *key;
	gcmsg__toml_type type;
	char *str;    /* STRING */
	long long num; /* INT, and BOOL (0/1) */
	int line;
} gcmsg__toml_entry;

typedef struct gcmsg__toml_doc {
	gcmsg__toml_entry *items;
	size_t count, alloc;
	char **tables; /* every table header seen, in order */
	size_t ntables;
} gcmsg__toml_doc;

/*
 * Parse `len` bytes. 0 on success; -1 with "line N: what" in err (the doc is
 * then empty). Duplicate keys and tables are errors.
 */
int gcmsg__toml_parse(gcmsg__toml_doc *doc, const char *text, size_t len, char *err, size_t errlen);
/* Frees everything; string values are zeroed first (they may be secrets). */
void gcmsg__toml_free(gcmsg__toml_doc *doc);
/* The entry of table/key, or NULL. */
const gcmsg__toml_entry *gcmsg__toml_get(const gcmsg__toml_doc *doc, const char *table, const char *key);
int gcmsg__toml_has_table(const gcmsg__toml_doc *doc, const char *table);

#endif
