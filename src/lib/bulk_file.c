/*
 * bulk_file.c - the bulk file (include/gcmsg/bulk.h): CSV or JSON Lines, read
 * and validated as a whole before anything is sent.
 *
 * What a file may hold (the contract the CLI and its man page describe):
 *
 *  - Format: JSON Lines when the first character that is not a space, tab, CR
 *    or LF (after an optional UTF-8 BOM) is '{', else CSV. A file that starts
 *    with a UTF-16 BOM is refused. Line breaks are LF, CRLF or a lone CR; a
 *    row's `line` is the 1-based physical line where it starts. Lines holding
 *    only spaces and tabs are skipped (outside a quoted field).
 *
 *  - CSV (RFC 4180): a header line, then one row per record. Fields are
 *    separated by ','; a field that starts with '"' is quoted: it may hold
 *    ',', line breaks and doubled quotes ("" for "). A quote inside an
 *    unquoted field, or characters after a closing quote, are row errors. A
 *    quoted field that is never closed is fatal. The last record may end
 *    without a line break. An empty field is absent.
 *    Header names are trimmed of spaces and tabs; known names are matched
 *    case-insensitively: conversation (conversation_id, conversationid),
 *    response (response_id, responseid), library (library_id, libraryid), text,
 *    key (idempotency_key, idempotencykey). "var.NAME" (prefix in any case) is
 *    the variable NAME; any other column is the variable named as the header
 *    (variable names keep their case: placeholders are case-sensitive). Fatal:
 *    no conversation column, an empty name, a name twice (two aliases of one
 *    column, or one variable twice), a variable name that is not a placeholder
 *    id (template.c: letters, digits, '_', '-', '.'), a name that is not UTF-8,
 *    more than GCMSG_BULK_MAX_COLUMNS columns.
 *
 *  - JSON Lines: every non-blank line one object with the members
 *    conversation, response, library, text, key (strings; null = absent) and
 *    vars (an object; null = absent). A variable's value is a string, an
 *    integer (its decimal text) or true/false ("true"/"false"); null means
 *    absent; a real number, an array or an object is a row error (a real's
 *    text would not survive jansson: 1.50 would become "1.5"). An empty string
 *    is an error for conversation, response, library, text and key (in CSV the
 *    empty field is simply absent); a variable may be "".
 *
 *  - Every row: conversation required, a UUID (any case, spaces and tabs
 *    around it trimmed), stored lower-cased. response, library and key are
 *    trimmed of spaces and tabs (in CSV a field of only spaces is then absent);
 *    text and variables are kept verbatim, and a text of only whitespace is an
 *    error. After the defaults exactly one of text and response: a row's own
 *    text or response replaces either default; a row that gives both is an
 *    error; a row's own library with a text is an error (the default library
 *    is simply not used by text rows). key: 1 to 160 printable ASCII
 *    characters, used by one row only. At most GCMSG_BULK_MAX_VARS variables
 *    with the defaults'; a row's own value replaces a default's of the same
 *    name. A row's variables are listed in byte order of their names. Values
 *    must be UTF-8 without NUL bytes. Two rows without keys that would send the
 *    same message (conversation, text or response + library, variables) are
 *    refused on the later one. All problems of a row go into one message,
 *    separated by "; ", each naming the column (CSV: as the header wrote it;
 *    JSON: the member, "vars.NAME" for a variable).
 *
 *  - Fatal errors (GCMSG_EUSAGE; the file then holds no rows and no row
 *    errors): "NAME:LINE: what" in the last error. Out of memory: GCMSG_ERROR,
 *    likewise.
 *
 *  - Message text is PII: no error shows a text or a variable's value. Names
 *    (columns, members) are shown only when they look like names, a
 *    conversation id that is not a UUID only when it looks like an id (one
 *    word, at most 40 bytes), keys at most 40 bytes, escaped; a JSON syntax
 *    error is said in our words (jansson's text quotes the input).
 *
 * Memory: valid rows live in one array; their strings (and the variable
 * pointer arrays) in an arena (blocks from 4 KiB, doubling up to 1 MiB). The
 * defaults are copied once and shared by every row that uses them (a row
 * without variables of its own shares the defaults' arrays). Duplicate keys and messages are found with two
 * open-addressing hash tables that are freed when the parse ends.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "template.h"

#define BF_MAX_KEY 160u
#define BF_MSG_CAP 1024u   /* one row's message */
#define BF_QUOTE_MAX 40u   /* bytes of a value shown in a message */
#define BF_QUOTE_SIZE 200u /* room for a quoted value: 40 bytes as \xNN, the quotes, "..." */
#define BF_ARENA_BLOCK ((size_t)1 << 20)
#define BF_ARENA_MIN_BLOCK ((size_t)4096)
#define BF_ROWS_START 1024u

/* ---- the arena ---- */

typedef struct arena_block {
	struct arena_block *next;
	size_t used, size;
} arena_block; /* the bytes follow the header (aligned as the header: pointers) */

typedef struct arena {
	arena_block *head;
	size_t next; /* the size of the next block: 4 KiB, doubling up to BF_ARENA_BLOCK */
} arena;

typedef struct arena_mark {
	arena_block *head;
	size_t used;
} arena_mark;

static void *arena_alloc(arena *a, size_t n, size_t align)
{
	arena_block *b = a->head, *nb;
	size_t off;

	if (b) {
		off = (b->used + align - 1) & ~(align - 1);
		if (off <= b->size && n <= b->size - off) {
			b->used = off + n;
			return (char *)(b + 1) + off;
		}
	}
	if (n > BF_ARENA_BLOCK / 4) { /* a block of its own, after the current one */
		if (n > SIZE_MAX - sizeof(arena_block))
			return NULL;
		nb = malloc(sizeof(arena_block) + n);
		if (!nb)
			return NULL;
		nb->size = nb->used = n;
		if (b) {
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = NULL;
			a->head = nb;
		}
		return nb + 1;
	}
	if (a->next < BF_ARENA_MIN_BLOCK)
		a->next = BF_ARENA_MIN_BLOCK;
	while (a->next < n)
		a->next *= 2;
	nb = malloc(sizeof(arena_block) + a->next);
	if (!nb)
		return NULL;
	nb->size = a->next;
	if (a->next < BF_ARENA_BLOCK)
		a->next *= 2;
	nb->used = n;
	nb->next = b;
	a->head = nb;
	return nb + 1;
}

static char *arena_strndup(arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = arena_alloc(a, n + 1, 1);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static arena_mark arena_get_mark(const arena *a)
{
	arena_mark m = { a->head, a->head ? a->head->used : 0 };
	return m;
}

/* Give back what was allocated since the mark, when it all went into the same block. */
static void arena_rollback(arena *a, arena_mark m)
{
	if (a->head && a->head == m.head && a->head->used >= m.used)
		a->head->used = m.used;
}

static void arena_free(arena *a)
{
	arena_block *b = a->head, *next;

	for (; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
	a->next = 0;
}

/* ---- hashing ---- */

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

#define FNV_START 14695981039346656037ULL

/* a string and its terminator, so that "ab"+"c" and "a"+"bc" differ */
static uint64_t fnv_str(uint64_t h, const char *s)
{
	if (!s)
		return fnv(h, "\x01\x02", 2);
	return fnv(h, s, strlen(s) + 1);
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/*
 * An open-addressing table of hashes to a value (0: an empty slot). Two of
 * them: keys -> the line that used the key first (key set), and the messages
 * of rows without keys -> row index + 1 (key NULL).
 */
typedef struct hslot {
	uint64_t hash;
	const char *key; /* NUL-terminated, in the arena; NULL in the message table */
	size_t value;    /* 0: empty */
} hslot;

typedef struct htable {
	hslot *slots;
	size_t cap, count;
} htable;

/* Room for one more entry at most half full: doubled (rehashed) when needed. */
static int htable_reserve(htable *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 1024, i, j;
	hslot *ns;

	if ((t->count + 1) * 2 <= t->cap)
		return 0;
	if (ncap > SIZE_MAX / sizeof(hslot))
		return -1;
	ns = calloc(ncap, sizeof(hslot));
	if (!ns)
		return -1;
	for (i = 0; i < t->cap; i++) {
		if (!t->slots[i].value)
			continue;
		for (j = (size_t)t->slots[i].hash & (ncap - 1); ns[j].value; j = (j + 1) & (ncap - 1))
			;
		ns[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
	return 0;
}

/* ---- the file ---- */

struct gcmsg_bulk_file {
	gcmsg__err err;
	const char *format; /* "csv", "jsonl" or NULL */
	arena ar;
	gcmsg_bulk_row *rows;
	size_t nrows, rows_alloc;
	gcmsg_bulk_row_error *errs;
	size_t nkept, errs_alloc, nerrs;
};

/* ---- the parser ---- */

enum col_kind { K_CONV, K_RESP, K_LIB, K_TEXT, K_KEY, K_VAR, K_COUNT };

static const struct {
	const char *name;
	enum col_kind kind;
} known_columns[] = {
	{ "conversation", K_CONV },   { "conversation_id", K_CONV }, { "conversationid", K_CONV },
	{ "response", K_RESP },       { "response_id", K_RESP },     { "responseid", K_RESP },
	{ "library", K_LIB },         { "library_id", K_LIB },       { "libraryid", K_LIB },
	{ "text", K_TEXT },           { "key", K_KEY },              { "idempotency_key", K_KEY },
	{ "idempotencykey", K_KEY },
};

static const char *const kind_names[K_COUNT] = { "conversation", "response", "library", "text", "key", "vars" };

enum { Q_STRAY = 1, Q_AFTER = 2 };

/* one CSV record: its fields, unescaped and NUL-terminated in the scratch buffer */
typedef struct csv_rec {
	size_t line;
	size_t nfields; /* all of them; the first GCMSG_BULK_MAX_COLUMNS are kept */
	size_t off[GCMSG_BULK_MAX_COLUMNS], len[GCMSG_BULK_MAX_COLUMNS];
	unsigned char bad[GCMSG_BULK_MAX_COLUMNS];
} csv_rec;

typedef struct csv_col {
	enum col_kind kind;
	const char *label; /* the name as written (trimmed), in the arena */
	const char *var;   /* K_VAR: the variable name, in the arena */
} csv_col;

/* a value of a row as read: in the scratch buffer (CSV) or in jansson's tree (JSON) */
typedef struct val {
	const char *p;
	size_t n;
	int set;
	int bad; /* given, but not as a string (JSON): already reported */
	const char *label;
} val;

typedef struct var_in {
	const char *name; /* NUL-terminated; CSV: in the arena (stable), JSON: in jansson's tree */
	int name_stored;
	const char *label; /* CSV: the column's name; JSON: NULL ("vars.NAME") */
	const char *p;     /* the value, NUL-terminated */
	size_t n;
} var_in;

typedef struct row_in {
	size_t line;
	val v[K_VAR]; /* conversation, response, library, text, key */
	var_in vars[GCMSG_BULK_MAX_COLUMNS];
	size_t nvars;      /* kept */
	size_t nvars_seen; /* JSON: members of vars (more than GCMSG_BULK_MAX_VARS are not kept) */
	int vars_bad;      /* a variable has a problem: skip the merge */
} row_in;

/* a variable of the merged list */
typedef struct var_out {
	const char *name;
	int name_stored;
	const char *value;
	size_t n;
	int value_stored; /* a default's: already in the arena */
} var_out;

typedef struct parser {
	gcmsg_bulk_file *f;
	const char *name;
	const char *d;
	size_t len, pos, line, records;
	int json;
	char *scratch;
	csv_rec rec;
	/* defaults, in the arena */
	const char *d_resp, *d_lib, *d_text;
	size_t d_nvars;
	const char **d_names, **d_values; /* sorted by name */
	/* CSV header */
	size_t ncols;
	csv_col cols[GCMSG_BULK_MAX_COLUMNS];
	size_t var_cols[GCMSG_BULK_MAX_COLUMNS]; /* column indices, sorted by variable name */
	size_t nvar_cols;
	long col_of[K_VAR];
	/* the row in progress */
	row_in in;
	var_out merged[2 * GCMSG_BULK_MAX_VARS];
	size_t nmerged;
	char numbuf[GCMSG_BULK_MAX_VARS][32];
	gcmsg_buf msg;
	int msg_full;
	size_t nproblems; /* of the row in progress (the message may be cut, or lost to out of memory) */
	htable keys; /* key -> first line */
	htable msgs; /* message of a row without key -> row index + 1 */
} parser;

/* ---- messages ---- */

/* s[0..n) for a message: quoted, at most BF_QUOTE_MAX bytes of it, control and non-UTF-8 bytes as \xNN. */
static const char *quote(char out[BF_QUOTE_SIZE], const char *s, size_t n)
{
	size_t i = 0, o = 0;

	out[o++] = '"';
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		unsigned long cp;
		size_t k = 1;
		if (i >= BF_QUOTE_MAX)
			break;
		if (c >= 0x80) {
			k = gcmsg__utf8_decode(s + i, n - i, &cp);
			if (k > 0 && i + k > BF_QUOTE_MAX)
				break;
		}
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c >= 0x20 && c < 0x7F) {
			out[o++] = (char)c;
		} else if (c >= 0x80 && k > 0) {
			memcpy(out + o, s + i, k);
			o += k;
		} else {
			k = 1;
			o += (size_t)snprintf(out + o, 5, "\\x%02X", c);
		}
		i += k;
	}
	out[o++] = '"';
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/*
 * Message text is PII: no message may show a text, a variable's value, or
 * anything that may be one (a header-less CSV's first row read as the header,
 * a text in the conversation column). A name (a column, a member) is shown
 * only when it looks like one, an id only when it looks like one; jansson's
 * error text (it quotes the input) is never used.
 */

/* a column or member name as people write them: letters, digits, '_', '-', '.', a few spaces, few digits */
static int name_like(const char *s, size_t n)
{
	size_t i, spaces = 0, digits = 0;

	if (n == 0 || n > BF_QUOTE_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= '0' && c <= '9')
			digits++;
		else if (c == ' ')
			spaces++;
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return spaces <= 2 && digits <= 4; /* not a sentence; not a phone, card or social security number */
}

/* an id as people get them wrong (a UUID with a typo, braces, a prefix): one word, at most BF_QUOTE_MAX bytes */
static int id_like(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > BF_QUOTE_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.' || c == ':' || c == '{' || c == '}'))
			return 0;
	}
	return 1;
}

/* printable ASCII without spaces, at most BF_QUOTE_MAX bytes: "var.a{b}" is a column name with a typo */
static int one_word(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > BF_QUOTE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F)
			return 0;
	return 1;
}

/*
 * A row that jansson refused, in our words (its text quotes the input, "near
 * '...'", which may be a message text): what (NULL: nothing more to say) and
 * a hint ("" or " (...)").
 */
static const char *json_error_words(enum json_error_code code, const char **hint)
{
	*hint = "";
	switch (code) {
	case json_error_invalid_syntax:
		*hint = " (a missing quote, comma, colon or brace, a backslash that starts no valid escape, a lone "
		        "surrogate \\uD800-\\uDFFF, or a tab or other control character inside a string?)";
		return "a syntax error";
	case json_error_premature_end_of_input:
		*hint = " (a missing quote or brace?)";
		return "the line ends before the object does";
	case json_error_end_of_input_expected:
		*hint = " (one object per line)";
		return "more after the object";
	case json_error_invalid_utf8: return "not valid UTF-8";
	case json_error_null_character:
		*hint = " (a NUL character)";
		return "a string holds \\u0000";
	case json_error_null_byte_in_key:
		*hint = " (a NUL character)";
		return "a member name holds \\u0000";
	case json_error_duplicate_key:
		*hint = " (a member given twice)";
		return "a duplicate member";
	case json_error_numeric_overflow: return "a number too large";
	case json_error_stack_overflow: return "nested too deeply";
	case json_error_unknown:
	case json_error_out_of_memory:
	case json_error_cannot_open_file:
	case json_error_invalid_argument:
	case json_error_invalid_format:
	case json_error_wrong_type:
	case json_error_null_value:
	case json_error_item_not_found:
	case json_error_index_out_of_range:
	default: break;
	}
	return NULL;
}

/* Add one problem to the row's message ("; " between them). */
static void problem(parser *P, const char *fmt, ...) GCMSG__PRINTF(2, 3);
static void problem(parser *P, const char *fmt, ...)
{
	char piece[600];
	va_list ap;
	int n;

	P->nproblems++;
	if (P->msg_full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(piece)) { /* a very long column name: cut, and say so */
		memcpy(piece + sizeof(piece) - 4, "...", 4);
		n = (int)sizeof(piece) - 1;
	}
	if (P->msg.len + 2 + (size_t)n > BF_MSG_CAP - 8) {
		P->msg_full = 1;
		gcmsg__buf_puts(&P->msg, P->msg.len ? "; ..." : "...");
		return;
	}
	if (P->msg.len)
		gcmsg__buf_puts(&P->msg, "; ");
	gcmsg__buf_puts(&P->msg, piece);
}

static int oom(parser *P)
{
	return gcmsg__err_set(&P->f->err, GCMSG_ERROR, "%s: out of memory", P->name);
}

/* A fatal problem of the file: "NAME:LINE: what" ("NAME: what" for line 0). */
static int fatal(parser *P, size_t line, const char *fmt, ...) GCMSG__PRINTF(3, 4);
static int fatal(parser *P, size_t line, const char *fmt, ...)
{
	char *what;
	va_list ap;

	va_start(ap, fmt);
	what = gcmsg__vasprintf(fmt, ap);
	va_end(ap);
	if (!what)
		return oom(P);
	if (line)
		gcmsg__err_set(&P->f->err, GCMSG_EUSAGE, "%s:%zu: %s", P->name, line, what);
	else
		gcmsg__err_set(&P->f->err, GCMSG_EUSAGE, "%s: %s", P->name, what);
	free(what);
	return GCMSG_EUSAGE;
}

/* A refused row: counted, and kept while fewer than GCMSG_BULK_MAX_ERRORS are. */
static int row_error(parser *P, size_t line, const char *msg)
{
	gcmsg_bulk_file *f = P->f;
	char *m;

	f->nerrs++;
	if (f->nkept >= GCMSG_BULK_MAX_ERRORS)
		return 0;
	if (f->nkept == f->errs_alloc) {
		size_t na = f->errs_alloc ? f->errs_alloc * 2 : 16;
		gcmsg_bulk_row_error *ne;
		if (na > GCMSG_BULK_MAX_ERRORS)
			na = GCMSG_BULK_MAX_ERRORS;
		ne = realloc(f->errs, na * sizeof(*ne));
		if (!ne)
			return oom(P);
		f->errs = ne;
		f->errs_alloc = na;
	}
	m = arena_strndup(&f->ar, msg, strlen(msg));
	if (!m)
		return oom(P);
	f->errs[f->nkept].line = line;
	f->errs[f->nkept].message = m;
	f->nkept++;
	return 0;
}

/* The row in progress is refused with the problems said so far. */
static int refuse(parser *P)
{
	if (P->msg.len == 0) /* problem() could not keep a word of it */
		return oom(P);
	return row_error(P, P->in.line, gcmsg__buf_cstr(&P->msg));
}

/* ---- small checks ---- */

static int is_blank_char(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **p, size_t *n)
{
	while (*n && is_blank_char(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_blank_char((*p)[*n - 1]))
		(*n)--;
}

/* SIZE_MAX when s[0..n) is UTF-8 without NUL bytes; else the offset of the first bad byte (*nul: it is a NUL). */
static size_t utf8_bad(const char *s, size_t n, int *nul)
{
	size_t i = 0;

	*nul = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		unsigned long cp;
		size_t k;
		if (c >= 0x01 && c < 0x80) {
			i++;
			continue;
		}
		if (c == 0) {
			*nul = 1;
			return i;
		}
		k = gcmsg__utf8_decode(s + i, n - i, &cp);
		if (!k)
			return i;
		i += k;
	}
	return SIZE_MAX;
}

/* ASCII case-insensitive equality of s[0..n) and the lower-case word w */
static int word_eq(const char *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (w[i] == '\0' || c != w[i])
			return 0;
	}
	return w[n] == '\0';
}

static int uuid_lower(const char *s, size_t n, char out[37])
{
	size_t i;

	if (n != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (c >= '0' && c <= '9') {
		} else if (c >= 'a' && c <= 'f') {
		} else if (c >= 'A' && c <= 'F') {
			c = (char)(c - 'A' + 'a');
		} else {
			return 0;
		}
		out[i] = c;
	}
	out[36] = '\0';
	return 1;
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* ---- the defaults ---- */

static int cmp_var_out(const void *a, const void *b)
{
	return strcmp(((const var_out *)a)->name, ((const var_out *)b)->name);
}

static int defaults_error(parser *P, const char *fmt, ...) GCMSG__PRINTF(2, 3);
static int defaults_error(parser *P, const char *fmt, ...)
{
	char *what;
	va_list ap;

	va_start(ap, fmt);
	what = gcmsg__vasprintf(fmt, ap);
	va_end(ap);
	if (!what)
		return oom(P);
	gcmsg__err_set(&P->f->err, GCMSG_EUSAGE, "bulk defaults: %s", what);
	free(what);
	return GCMSG_EUSAGE;
}

static int default_string(parser *P, const char *what, const char *s, int trimmed, const char **out)
{
	size_t n, bad;
	int nul;
	const char *p = s;

	*out = NULL;
	if (!s)
		return 0;
	n = strlen(s);
	bad = utf8_bad(s, n, &nul);
	if (bad != SIZE_MAX)
		return defaults_error(P, "the %s is not valid UTF-8 (byte %zu)", what, bad + 1);
	if (trimmed)
		trim(&p, &n);
	if (n == 0)
		return 0;
	if (!trimmed) {
		size_t i;
		for (i = 0; i < n && (is_blank_char(p[i]) || p[i] == '\r' || p[i] == '\n'); i++)
			;
		if (i == n)
			return defaults_error(P, "the %s is blank", what);
	}
	*out = arena_strndup(&P->f->ar, p, n);
	return *out ? 0 : oom(P);
}

static int load_defaults(parser *P, const gcmsg_bulk_defaults *d)
{
	var_out tmp[GCMSG_BULK_MAX_VARS];
	size_t i;
	int rc;

	if (!d)
		return 0;
	if (d->version != GCMSG_BULK_DEFAULTS_VERSION)
		return defaults_error(P, "version %u; this library knows version %d", d->version,
		                      GCMSG_BULK_DEFAULTS_VERSION);
	if ((rc = default_string(P, "response", d->response, 1, &P->d_resp)) != 0 ||
	    (rc = default_string(P, "library", d->library, 1, &P->d_lib)) != 0 ||
	    (rc = default_string(P, "text", d->text, 0, &P->d_text)) != 0)
		return rc;
	if (P->d_resp && P->d_text)
		return defaults_error(P, "both a response and a text (a row sends one or the other)");
	if (d->var_count == 0)
		return 0;
	if (!d->var_names || !d->var_values)
		return defaults_error(P, "var_count is %zu but var_names or var_values is NULL", d->var_count);
	if (d->var_count > GCMSG_BULK_MAX_VARS)
		return defaults_error(P, "%zu variables, at most %u", d->var_count, GCMSG_BULK_MAX_VARS);
	for (i = 0; i < d->var_count; i++) {
		const char *name = d->var_names[i], *value = d->var_values[i];
		char q[BF_QUOTE_SIZE];
		size_t bad;
		int nul;
		if (!name || !value)
			return defaults_error(P, "variable %zu has no %s", i + 1, name ? "value" : "name");
		if (!gcmsg__tpl_valid_id(name, strlen(name)))
			return defaults_error(P, "%s is not a variable name (letters, digits, _, - and .)",
			                      quote(q, name, strlen(name)));
		bad = utf8_bad(value, strlen(value), &nul);
		if (bad != SIZE_MAX)
			return defaults_error(P, "the value of %s is not valid UTF-8 (byte %zu)", name, bad + 1);
		tmp[i].name = name;
		tmp[i].value = value;
	}
	qsort(tmp, d->var_count, sizeof(tmp[0]), cmp_var_out);
	for (i = 1; i < d->var_count; i++)
		if (strcmp(tmp[i - 1].name, tmp[i].name) == 0)
			return defaults_error(P, "the variable %s is given twice", tmp[i].name);
	P->d_names = arena_alloc(&P->f->ar, d->var_count * sizeof(char *), sizeof(char *));
	P->d_values = arena_alloc(&P->f->ar, d->var_count * sizeof(char *), sizeof(char *));
	if (!P->d_names || !P->d_values)
		return oom(P);
	for (i = 0; i < d->var_count; i++) {
		P->d_names[i] = arena_strndup(&P->f->ar, tmp[i].name, strlen(tmp[i].name));
		P->d_values[i] = arena_strndup(&P->f->ar, tmp[i].value, strlen(tmp[i].value));
		if (!P->d_names[i] || !P->d_values[i])
			return oom(P);
	}
	P->d_nvars = d->var_count;
	return 0;
}

/* ---- a row: checks, defaults, duplicates, and into the file ---- */

/* UTF-8 check of a given value; 0 when it is bad (and said so). */
static int value_utf8_ok(parser *P, const char *label, const char *p, size_t n)
{
	int nul;
	size_t bad = utf8_bad(p, n, &nul);

	if (bad == SIZE_MAX)
		return 1;
	if (nul)
		problem(P, "%s: a NUL byte (byte %zu)", label, bad + 1);
	else
		problem(P, "%s: not valid UTF-8 (byte %zu)", label, bad + 1);
	return 0;
}

static int cmp_var_in(const void *a, const void *b)
{
	return strcmp(((const var_in *)a)->name, ((const var_in *)b)->name);
}

static uint64_t row_hash(const gcmsg_bulk_row *r)
{
	uint64_t h = FNV_START;
	size_t i;

	h = fnv_str(h, r->conversation_id);
	h = fnv_str(h, r->text ? "t" : "r");
	h = fnv_str(h, r->text ? r->text : r->response);
	h = fnv_str(h, r->library);
	for (i = 0; i < r->var_count; i++) {
		h = fnv_str(h, r->var_names[i]);
		h = fnv_str(h, r->var_values[i]);
	}
	return mix64(h);
}

static int opt_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return a == b || strcmp(a, b) == 0;
}

/* Would a and b send the same message? (variables are sorted by name in both) */
static int same_message(const gcmsg_bulk_row *a, const gcmsg_bulk_row *b)
{
	size_t i;

	if (strcmp(a->conversation_id, b->conversation_id) != 0 || !opt_eq(a->text, b->text) ||
	    !opt_eq(a->response, b->response) || !opt_eq(a->library, b->library) || a->var_count != b->var_count)
		return 0;
	for (i = 0; i < a->var_count; i++)
		if (!opt_eq(a->var_names[i], b->var_names[i]) || !opt_eq(a->var_values[i], b->var_values[i]))
			return 0;
	return 1;
}

/*
 * The key: -1 out of memory; 0 fine (*stored: it in the arena, first use);
 * 1 used on an earlier line (*earlier).
 */
static int key_use(parser *P, const char *k, size_t n, size_t line, const char **stored, size_t *earlier)
{
	htable *t = &P->keys;
	uint64_t h = mix64(fnv(FNV_START, k, n));
	size_t i;

	if (htable_reserve(t) < 0)
		return -1;
	for (i = (size_t)h & (t->cap - 1); t->slots[i].value; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].hash == h && strncmp(t->slots[i].key, k, n) == 0 && t->slots[i].key[n] == '\0') {
			*earlier = t->slots[i].value;
			return 1;
		}
	}
	*stored = arena_strndup(&P->f->ar, k, n);
	if (!*stored)
		return -1;
	t->slots[i].hash = h;
	t->slots[i].key = *stored;
	t->slots[i].value = line;
	t->count++;
	return 0;
}

static const char *store(parser *P, const char *p, size_t n, int stored)
{
	return stored ? p : arena_strndup(&P->f->ar, p, n);
}

/*
 * Into the file: the strings into the arena, the row into the array, unless a
 * row without a key repeats an earlier message (*dup_line then, nothing kept).
 */
static int commit(parser *P, const char conv[37], const val *text, int text_dflt, const val *resp, int resp_dflt,
                  const val *lib, int lib_dflt, const char *key, size_t *dup_line)
{
	gcmsg_bulk_file *f = P->f;
	arena_mark mark = arena_get_mark(&f->ar);
	gcmsg_bulk_row r;
	size_t i, own = 0;

	memset(&r, 0, sizeof(r));
	*dup_line = 0;
	r.line = P->in.line;
	r.key = key;
	if (!(r.conversation_id = arena_strndup(&f->ar, conv, 36)))
		return -1;
	if (text) {
		if (!(r.text = store(P, text->p, text->n, text_dflt)))
			return -1;
	} else {
		if (!(r.response = store(P, resp->p, resp->n, resp_dflt)))
			return -1;
		if (lib && !(r.library = store(P, lib->p, lib->n, lib_dflt)))
			return -1;
	}
	for (i = 0; i < P->nmerged; i++)
		if (!P->merged[i].value_stored)
			own++;
	if (own == 0) {
		r.var_count = P->d_nvars;
		r.var_names = P->d_names;
		r.var_values = P->d_values;
	} else {
		const char **names = arena_alloc(&f->ar, P->nmerged * sizeof(char *), sizeof(char *));
		const char **values = arena_alloc(&f->ar, P->nmerged * sizeof(char *), sizeof(char *));
		if (!names || !values)
			return -1;
		for (i = 0; i < P->nmerged; i++) {
			const var_out *v = &P->merged[i];
			names[i] = store(P, v->name, strlen(v->name), v->name_stored);
			values[i] = store(P, v->value, v->n, v->value_stored);
			if (!names[i] || !values[i])
				return -1;
		}
		r.var_count = P->nmerged;
		r.var_names = names;
		r.var_values = values;
	}
	if (!key) {
		htable *t = &P->msgs;
		uint64_t h = row_hash(&r);
		size_t j;
		if (htable_reserve(t) < 0)
			return -1;
		for (j = (size_t)h & (t->cap - 1); t->slots[j].value; j = (j + 1) & (t->cap - 1)) {
			const gcmsg_bulk_row *o = &f->rows[t->slots[j].value - 1];
			if (t->slots[j].hash == h && same_message(o, &r)) {
				*dup_line = o->line;
				arena_rollback(&f->ar, mark);
				return 0;
			}
		}
		t->slots[j].hash = h;
		t->slots[j].value = f->nrows + 1;
		t->count++;
	}
	if (f->nrows == f->rows_alloc) {
		size_t na = f->rows_alloc ? f->rows_alloc * 2 : BF_ROWS_START;
		gcmsg_bulk_row *nr;
		if (na > GCMSG_BULK_MAX_ROWS)
			na = GCMSG_BULK_MAX_ROWS;
		nr = realloc(f->rows, na * sizeof(*nr));
		if (!nr)
			return -1;
		f->rows = nr;
		f->rows_alloc = na;
	}
	f->rows[f->nrows++] = r;
	return 0;
}

/* Merge the defaults' variables (sorted) with the row's own (sorted): the row's value wins. */
static void merge_vars(parser *P)
{
	row_in *in = &P->in;
	size_t a = 0, b = 0;

	P->nmerged = 0;
	while (a < P->d_nvars || b < in->nvars) {
		var_out *o = &P->merged[P->nmerged++];
		int c = a >= P->d_nvars ? 1 : b >= in->nvars ? -1 : strcmp(P->d_names[a], in->vars[b].name);
		if (c < 0) {
			o->name = P->d_names[a];
			o->name_stored = 1;
			o->value = P->d_values[a];
			o->n = strlen(o->value);
			o->value_stored = 1;
			a++;
		} else {
			if (c == 0) {
				o->name = P->d_names[a];
				o->name_stored = 1;
				a++;
			} else {
				o->name = in->vars[b].name;
				o->name_stored = in->vars[b].name_stored;
			}
			o->value = in->vars[b].p;
			o->n = in->vars[b].n;
			o->value_stored = 0;
			b++;
		}
	}
}

static void var_label(const var_in *v, char *out, size_t size)
{
	if (v->label)
		snprintf(out, size, "%s", v->label);
	else
		snprintf(out, size, "vars.%s", v->name);
}

/* Check the row in P->in; into the file, or a row error. 0, or an error code (out of memory). */
static int finish_row(parser *P)
{
	row_in *in = &P->in;
	val *conv = &in->v[K_CONV], *resp = &in->v[K_RESP], *lib = &in->v[K_LIB], *text = &in->v[K_TEXT],
	    *key = &in->v[K_KEY];
	const char *stored_key = NULL;
	char conv_lc[37], q[BF_QUOTE_SIZE];
	int ok[K_VAR], k, own_text, own_resp, own_lib;
	val dtext, dresp, dlib;
	const val *use_text = NULL, *use_resp = NULL, *use_lib = NULL;
	int text_dflt = 0, resp_dflt = 0, lib_dflt = 0;
	size_t i;

	memset(conv_lc, 0, sizeof(conv_lc));
	memset(&dtext, 0, sizeof(dtext));
	memset(&dresp, 0, sizeof(dresp));
	memset(&dlib, 0, sizeof(dlib));
	/* every given value is UTF-8 (the key has its own, stricter check) */
	for (k = 0; k < K_VAR; k++) {
		ok[k] = !in->v[k].bad;
		if (in->v[k].bad)
			in->v[k].set = 0;
		if (in->v[k].set && k != K_KEY)
			ok[k] = value_utf8_ok(P, in->v[k].label, in->v[k].p, in->v[k].n);
	}
	for (i = 0; i < in->nvars; i++) {
		char label[300];
		var_label(&in->vars[i], label, sizeof(label));
		if (!value_utf8_ok(P, label, in->vars[i].p, in->vars[i].n))
			in->vars_bad = 1;
	}
	/* trimmed values; in CSV, nothing left means absent, in JSON an empty string is an error */
	for (k = 0; k < K_VAR; k++) {
		val *v = &in->v[k];
		if (!v->set || !ok[k] || k == K_TEXT)
			continue;
		trim(&v->p, &v->n);
		if (v->n == 0) {
			if (P->json) { /* said here; not "missing" again */
				problem(P, "%s: empty", v->label);
				ok[k] = 0;
			}
			v->set = 0;
		}
	}
	if (text->set && ok[K_TEXT]) {
		if (text->n == 0) {
			problem(P, "%s: empty", text->label);
			ok[K_TEXT] = 0;
		} else {
			for (i = 0; i < text->n && (is_blank_char(text->p[i]) || text->p[i] == '\r' || text->p[i] == '\n'); i++)
				;
			if (i == text->n) {
				problem(P, "%s: blank (only spaces and line breaks)", text->label);
				ok[K_TEXT] = 0;
			}
		}
	}
	/* conversation */
	if (!conv->set) {
		if (ok[K_CONV])
			problem(P, "%s: missing", conv->label);
	} else if (ok[K_CONV] && !uuid_lower(conv->p, conv->n, conv_lc)) {
		if (id_like(conv->p, conv->n))
			problem(P, "%s: not a UUID (8-4-4-4-12 hex digits): %s", conv->label, quote(q, conv->p, conv->n));
		else /* a text in the wrong column, say: not shown */
			problem(P, "%s: not a UUID (8-4-4-4-12 hex digits); the value (%zu bytes) is not shown: it does not "
			           "look like an id (is this the conversation column?)",
			        conv->label, conv->n);
		ok[K_CONV] = 0;
	}
	/* text or response, after the defaults */
	own_text = text->set || text->bad;
	own_resp = resp->set || resp->bad;
	own_lib = lib->set || lib->bad;
	if (own_text && own_resp) {
		problem(P, "%s and %s: both given (a row sends a text or a response, not both)", text->label, resp->label);
	} else if (own_text || (!own_resp && P->d_text)) {
		if (own_text) {
			use_text = text;
		} else {
			dtext.p = P->d_text;
			dtext.n = strlen(P->d_text);
			use_text = &dtext;
			text_dflt = 1;
		}
		if (own_lib)
			problem(P, "%s: given with a text (a library is where a response is looked up)", lib->label);
	} else if (own_resp || P->d_resp) {
		if (own_resp) {
			use_resp = resp;
		} else {
			dresp.p = P->d_resp;
			dresp.n = strlen(P->d_resp);
			use_resp = &dresp;
			resp_dflt = 1;
		}
		if (own_lib) {
			use_lib = lib;
		} else if (P->d_lib) {
			dlib.p = P->d_lib;
			dlib.n = strlen(P->d_lib);
			use_lib = &dlib;
			lib_dflt = 1;
		}
	} else if (ok[K_TEXT] && ok[K_RESP]) {
		problem(P, "no text and no response (give one in the row, or a default for every row)");
	}
	/* key */
	if (key->set) {
		if (key->n > BF_MAX_KEY) {
			problem(P, "%s: %zu characters, at most %u", key->label, key->n, BF_MAX_KEY);
		} else {
			for (i = 0; i < key->n; i++)
				if ((unsigned char)key->p[i] < 0x20 || (unsigned char)key->p[i] > 0x7E)
					break;
			if (i < key->n) {
				problem(P, "%s: byte 0x%02X at character %zu is not printable ASCII", key->label,
				        (unsigned char)key->p[i], i + 1);
			} else {
				size_t earlier = 0;
				int u = key_use(P, key->p, key->n, in->line, &stored_key, &earlier);
				if (u < 0)
					return oom(P);
				if (u > 0) {
					problem(P, "%s: %s is already the key of line %zu", key->label, quote(q, key->p, key->n),
					        earlier);
					stored_key = NULL;
				}
			}
		}
	}
	/* variables */
	if (!in->vars_bad) {
		if (in->nvars_seen > GCMSG_BULK_MAX_VARS || in->nvars > GCMSG_BULK_MAX_VARS) {
			problem(P, "%zu variables, at most %u", in->nvars_seen > in->nvars ? in->nvars_seen : in->nvars,
			        GCMSG_BULK_MAX_VARS);
		} else {
			if (P->json && in->nvars > 1)
				qsort(in->vars, in->nvars, sizeof(in->vars[0]), cmp_var_in);
			merge_vars(P);
			if (P->nmerged > GCMSG_BULK_MAX_VARS)
				problem(P, "%zu variables with the defaults', at most %u", P->nmerged, GCMSG_BULK_MAX_VARS);
		}
	}
	if (P->nproblems == 0) {
		size_t dup = 0;
		if (commit(P, conv_lc, use_text, text_dflt, use_resp, resp_dflt, use_lib, lib_dflt, stored_key, &dup) < 0)
			return oom(P);
		if (dup)
			problem(P, "the same message as line %zu; give each row its own key to send both", dup);
	}
	return P->nproblems ? refuse(P) : 0;
}

static void row_begin(parser *P, size_t line)
{
	int k;

	memset(P->in.v, 0, sizeof(P->in.v));
	P->in.line = line;
	P->in.nvars = P->in.nvars_seen = 0;
	P->in.vars_bad = 0;
	P->nmerged = 0;
	for (k = 0; k < K_VAR; k++)
		P->in.v[k].label = kind_names[k];
	gcmsg__buf_clear(&P->msg);
	P->msg_full = 0;
	P->nproblems = 0;
}

/* ---- CSV ---- */

/* At a line of only spaces and tabs (or at the end): skip it and return 1. */
static int skip_blank_line(parser *P)
{
	size_t q = P->pos;

	while (q < P->len && is_blank_char(P->d[q]))
		q++;
	if (q == P->len) {
		P->pos = q;
		return 1;
	}
	if (P->d[q] != '\n' && P->d[q] != '\r')
		return 0;
	if (P->d[q] == '\r' && q + 1 < P->len && P->d[q + 1] == '\n')
		q++;
	P->pos = q + 1;
	P->line++;
	return 1;
}

static int too_long(parser *P, size_t line, int in_quotes, size_t qline)
{
	if (in_quotes)
		return fatal(P, line, "a row longer than %u bytes (the quoted field opened on line %zu is never closed?)",
		             GCMSG_BULK_MAX_LINE, qline);
	return fatal(P, line, "a row longer than %u bytes", GCMSG_BULK_MAX_LINE);
}

/* One record at P->pos into P->rec (fields in P->scratch). 0, or a fatal error. */
static int csv_record(parser *P)
{
	csv_rec *r = &P->rec;
	const char *d = P->d;
	size_t end = P->len, pos = P->pos, start = P->pos, o = 0;
	size_t lim = (size_t)GCMSG_BULK_MAX_LINE + 1; /* raw bytes at which the row is too long */
	char *out = P->scratch;

	r->line = P->line;
	r->nfields = 0;
	for (;;) {
		size_t fo = o;
		unsigned char bad = 0;
		if (pos < end && d[pos] == '"') {
			size_t qline = P->line;
			pos++;
			for (;;) {
				char c;
				if (pos - start >= lim)
					return too_long(P, r->line, 1, qline);
				if (pos >= end) {
					char fname[80];
					if (r->nfields < P->ncols && strlen(P->cols[r->nfields].label) < 40)
						snprintf(fname, sizeof(fname), "field %zu (%s)", r->nfields + 1,
						         P->cols[r->nfields].label);
					else
						snprintf(fname, sizeof(fname), "field %zu", r->nfields + 1);
					if (qline == r->line)
						return fatal(P, r->line, "the quote that opens %s is never closed", fname);
					return fatal(P, r->line, "the quote that opens %s on line %zu is never closed", fname, qline);
				}
				c = d[pos];
				if (c == '"') {
					if (pos + 1 < end && d[pos + 1] == '"') {
						out[o++] = '"';
						pos += 2;
						continue;
					}
					pos++;
					break;
				}
				if (c == '\n' || (c == '\r' && !(pos + 1 < end && d[pos + 1] == '\n')))
					P->line++;
				out[o++] = c;
				pos++;
			}
			while (pos < end && d[pos] != ',' && d[pos] != '\n' && d[pos] != '\r') {
				if (pos - start >= lim)
					return too_long(P, r->line, 0, 0);
				bad |= Q_AFTER;
				out[o++] = d[pos++];
			}
		} else {
			while (pos < end) {
				char c = d[pos];
				if (c == ',' || c == '\n' || c == '\r')
					break;
				if (pos - start >= lim)
					return too_long(P, r->line, 0, 0);
				if (c == '"')
					bad |= Q_STRAY;
				out[o++] = c;
				pos++;
			}
		}
		if (pos - start >= lim)
			return too_long(P, r->line, 0, 0);
		out[o++] = '\0';
		if (r->nfields < GCMSG_BULK_MAX_COLUMNS) {
			r->off[r->nfields] = fo;
			r->len[r->nfields] = o - 1 - fo;
			r->bad[r->nfields] = bad;
		}
		r->nfields++;
		if (pos < end && d[pos] == ',') {
			pos++;
			continue;
		}
		break;
	}
	if (pos < end) { /* the line break */
		if (d[pos] == '\r' && pos + 1 < end && d[pos + 1] == '\n')
			pos++;
		pos++;
		P->line++;
	}
	P->pos = pos;
	return 0;
}

static int cmp_var_col(const void *a, const void *b, const parser *P)
{
	return strcmp(P->cols[*(const size_t *)a].var, P->cols[*(const size_t *)b].var);
}

/* insertion sort of the variable columns by name (at most GCMSG_BULK_MAX_COLUMNS, once) */
static void sort_var_cols(parser *P)
{
	size_t i, j;

	for (i = 1; i < P->nvar_cols; i++) {
		size_t c = P->var_cols[i];
		for (j = i; j > 0 && cmp_var_col(&P->var_cols[j - 1], &c, P) > 0; j--)
			P->var_cols[j] = P->var_cols[j - 1];
		P->var_cols[j] = c;
	}
}

/*
 * What the header holds, for "no conversation column": its names where they
 * look like names; a field that does not (a UUID, a text: the header line is
 * missing and this is a row) only by its number. 1: the header line looks
 * missing.
 */
static int header_list(parser *P, gcmsg_buf *b)
{
	const csv_rec *r = &P->rec;
	size_t i, nnames = 0, nbad = 0, bad[GCMSG_BULK_MAX_COLUMNS];
	char q[BF_QUOTE_SIZE], lc[37];
	int cut = 0;

	for (i = 0; i < r->nfields && i < GCMSG_BULK_MAX_COLUMNS; i++) {
		const char *s = P->scratch + r->off[i];
		size_t n = r->len[i];
		trim(&s, &n);
		if (uuid_lower(s, n, lc)) {
			gcmsg__buf_printf(b, "column %zu holds a UUID: is the header line missing?", i + 1);
			return 1;
		}
	}
	for (i = 0; i < r->nfields && i < GCMSG_BULK_MAX_COLUMNS; i++) {
		const char *s = P->scratch + r->off[i];
		size_t n = r->len[i];
		trim(&s, &n);
		if (n && !name_like(s, n)) {
			bad[nbad++] = i + 1;
			continue;
		}
		if (cut)
			continue;
		if (nnames && b->len + BF_QUOTE_SIZE + 8 > 2048) {
			gcmsg__buf_puts(b, ", ...");
			cut = 1;
			continue;
		}
		gcmsg__buf_puts(b, nnames++ ? ", " : "the columns are ");
		gcmsg__buf_puts(b, quote(q, s, n));
	}
	if (nbad == 0)
		return 0;
	if (nnames)
		gcmsg__buf_puts(b, "; ");
	gcmsg__buf_puts(b, nbad == 1 ? "column " : "columns ");
	for (i = 0; i < nbad; i++)
		gcmsg__buf_printf(b, "%s%zu", i == 0 ? "" : i + 1 == nbad ? " and " : ", ", bad[i]);
	gcmsg__buf_puts(b, nbad == 1 ? " is not a column name" : " are not column names");
	gcmsg__buf_puts(b, ": is the header line missing?");
	return 1;
}

static int csv_header(parser *P)
{
	csv_rec *r = &P->rec;
	size_t i, j, line;
	char q[BF_QUOTE_SIZE], q2[BF_QUOTE_SIZE];
	int rc;

	while (P->pos < P->len && skip_blank_line(P))
		;
	if ((rc = csv_record(P)) != 0)
		return rc;
	line = r->line;
	if (r->nfields > GCMSG_BULK_MAX_COLUMNS)
		return fatal(P, line, "%zu columns, at most %u", r->nfields, GCMSG_BULK_MAX_COLUMNS);
	/* a file that is not a bulk file at all: say that first */
	for (i = 0; i < r->nfields; i++) {
		const char *s = P->scratch + r->off[i];
		size_t n = r->len[i], k;
		trim(&s, &n);
		for (k = 0; k < sizeof(known_columns) / sizeof(known_columns[0]); k++)
			if (known_columns[k].kind == K_CONV && word_eq(s, n, known_columns[k].name))
				break;
		if (k < sizeof(known_columns) / sizeof(known_columns[0]))
			break;
	}
	if (i == r->nfields) {
		gcmsg_buf b = GCMSG_BUF_INIT(4096);
		int missing = header_list(P, &b);
		rc = fatal(P, line, "no conversation column (%s)", gcmsg__buf_cstr(&b));
		gcmsg__buf_dispose(&b);
		if (rc == GCMSG_EUSAGE)
			gcmsg__err_set_fix(&P->f->err,
			                   missing ? "if the file has no header line, start it with one that names the columns, "
			                             "e.g. conversation,text"
			                           : "name the column of conversation ids \"conversation\" (or conversation_id)");
		return rc;
	}
	for (i = 0; i < K_VAR; i++)
		P->col_of[i] = -1;
	P->ncols = r->nfields;
	for (i = 0; i < r->nfields; i++) {
		const char *s = P->scratch + r->off[i];
		size_t n = r->len[i], bad, k;
		int nul;
		csv_col *c = &P->cols[i];
		if (r->bad[i] & Q_STRAY)
			return fatal(P, line, "column %zu: a quote inside an unquoted name (quote the whole name and double the quote)",
			             i + 1);
		if (r->bad[i] & Q_AFTER)
			return fatal(P, line, "column %zu: characters after the closing quote", i + 1);
		bad = utf8_bad(s, n, &nul);
		if (bad != SIZE_MAX)
			return fatal(P, line, "column %zu: the name %s (byte %zu)", i + 1,
			             nul ? "holds a NUL byte" : "is not valid UTF-8", bad + 1);
		trim(&s, &n);
		if (n == 0)
			return fatal(P, line, "column %zu has no name", i + 1);
		if (!(c->label = arena_strndup(&P->f->ar, s, n)))
			return oom(P);
		c->kind = K_VAR;
		c->var = NULL;
		for (k = 0; k < sizeof(known_columns) / sizeof(known_columns[0]); k++)
			if (word_eq(s, n, known_columns[k].name)) {
				c->kind = known_columns[k].kind;
				break;
			}
		if (c->kind == K_VAR) {
			const char *v = c->label;
			size_t vn = n;
			if (n >= 4 && word_eq(s, 4, "var.")) {
				v += 4;
				vn -= 4;
				if (vn == 0)
					return fatal(P, line, "column %zu (%s): no variable name after \"var.\"", i + 1, c->label);
			}
			if (!gcmsg__tpl_valid_id(v, vn) && !name_like(c->label, n) && !(v > c->label && one_word(v, vn)))
				return fatal(P, line,
				             "column %zu: not a known column (conversation, response, library, text, key) "
				             "and not a variable name (letters, digits, _, - and .); the name is not shown: it "
				             "does not look like a column name",
				             i + 1);
			if (!gcmsg__tpl_valid_id(v, vn))
				return fatal(P, line,
				             "column %zu (%s): not a known column (conversation, response, library, text, key) "
				             "and %s is not a variable name (letters, digits, _, - and .)",
				             i + 1, quote(q, c->label, n), quote(q2, v, vn));
			c->var = v;
			for (j = 0; j < i; j++)
				if (P->cols[j].kind == K_VAR && strcmp(P->cols[j].var, v) == 0)
					return fatal(P, line, "column %zu (%s) repeats column %zu (%s): the variable %s", i + 1,
					             c->label, j + 1, P->cols[j].label, v);
			P->var_cols[P->nvar_cols++] = i;
		} else {
			if (P->col_of[c->kind] >= 0)
				return fatal(P, line, "column %zu (%s) repeats column %ld (%s)", i + 1, c->label,
				             P->col_of[c->kind] + 1, P->cols[P->col_of[c->kind]].label);
			P->col_of[c->kind] = (long)i;
		}
	}
	sort_var_cols(P);
	return 0;
}

static int csv_row(parser *P)
{
	csv_rec *r = &P->rec;
	size_t i;

	row_begin(P, r->line);
	if (r->nfields != P->ncols) {
		problem(P, "%zu %s, the header has %zu", r->nfields, plural(r->nfields, "field", "fields"), P->ncols);
		return refuse(P);
	}
	for (i = 0; i < P->ncols; i++) {
		const csv_col *c = &P->cols[i];
		if (r->bad[i] & Q_STRAY)
			problem(P, "%s: a quote inside an unquoted field (quote the whole field and double the quote)", c->label);
		if (r->bad[i] & Q_AFTER)
			problem(P, "%s: characters after the closing quote", c->label);
		if (c->kind != K_VAR) {
			val *v = &P->in.v[c->kind];
			v->label = c->label;
			if (r->len[i]) {
				v->p = P->scratch + r->off[i];
				v->n = r->len[i];
				v->set = 1;
			}
		}
	}
	if (P->nproblems) /* quoting problems: the values are not what the writer meant */
		return refuse(P);
	for (i = 0; i < P->nvar_cols; i++) {
		size_t ci = P->var_cols[i];
		var_in *v;
		if (r->len[ci] == 0)
			continue;
		v = &P->in.vars[P->in.nvars++];
		v->name = P->cols[ci].var;
		v->name_stored = 1;
		v->label = P->cols[ci].label;
		v->p = P->scratch + r->off[ci];
		v->n = r->len[ci];
	}
	P->in.nvars_seen = P->in.nvars;
	return finish_row(P);
}

static int parse_csv(parser *P)
{
	int rc;

	/* a record's fields and their NULs: at most twice its bytes (see csv_record) */
	P->scratch = malloc(2 * (P->len < GCMSG_BULK_MAX_LINE ? P->len : (size_t)GCMSG_BULK_MAX_LINE) + 8);
	if (!P->scratch)
		return oom(P);
	if ((rc = csv_header(P)) != 0)
		return rc;
	while (P->pos < P->len) {
		if (skip_blank_line(P))
			continue;
		if (++P->records > GCMSG_BULK_MAX_ROWS)
			return fatal(P, P->line, "more than %u rows", GCMSG_BULK_MAX_ROWS);
		if ((rc = csv_record(P)) != 0 || (rc = csv_row(P)) != 0)
			return rc;
	}
	return 0;
}

/* ---- JSON Lines ---- */

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

static void json_vars(parser *P, json_t *vars)
{
	const char *name;
	json_t *v;
	char q[BF_QUOTE_SIZE];
	size_t member = 0;

	if (json_is_null(vars))
		return;
	if (!json_is_object(vars)) {
		problem(P, "vars: not an object (%s)", json_kind(vars));
		P->in.vars_bad = 1;
		return;
	}
	json_object_foreach(vars, name, v) {
		size_t nlen = strlen(name);
		var_in *o;
		member++;
		if (!gcmsg__tpl_valid_id(name, nlen)) {
			if (name_like(name, nlen))
				problem(P, "vars: %s is not a variable name (letters, digits, _, - and .)", quote(q, name, nlen));
			else
				problem(P, "vars: member %zu is not a variable name (letters, digits, _, - and .; the name is "
				           "not shown: it does not look like one)",
				        member);
			P->in.vars_bad = 1;
			continue;
		}
		if (json_is_null(v))
			continue;
		if (!json_is_string(v) && !json_is_integer(v) && !json_is_boolean(v)) {
			problem(P, "vars.%s: %s (give a string)", name, json_kind(v));
			P->in.vars_bad = 1;
			continue;
		}
		if (++P->in.nvars_seen > GCMSG_BULK_MAX_VARS)
			continue;
		o = &P->in.vars[P->in.nvars];
		o->name = name;
		o->name_stored = 0;
		o->label = NULL;
		if (json_is_string(v)) {
			o->p = json_string_value(v);
			o->n = json_string_length(v);
		} else {
			char *buf = P->numbuf[P->in.nvars];
			if (json_is_integer(v))
				snprintf(buf, sizeof(P->numbuf[0]), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			else
				snprintf(buf, sizeof(P->numbuf[0]), "%s", json_is_true(v) ? "true" : "false");
			o->p = buf;
			o->n = strlen(buf);
		}
		P->in.nvars++;
	}
}

static int json_row(parser *P, size_t line, const char *s, size_t n)
{
	json_error_t je;
	json_t *obj, *v;
	const char *name, *words, *jhint;
	char q[BF_QUOTE_SIZE];
	size_t member = 0;
	int rc;

	row_begin(P, line);
	obj = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
	if (!obj) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return oom(P);
		words = json_error_words(json_error_code(&je), &jhint);
		if (je.column > 0)
			problem(P, "not valid JSON: %s at column %d%s", words ? words : "an error", je.column, jhint);
		else
			problem(P, "not valid JSON%s%s%s", words ? ": " : "", words ? words : "", jhint);
		return refuse(P);
	}
	if (!json_is_object(obj)) {
		problem(P, "not a JSON object (%s)", json_kind(obj));
		json_decref(obj);
		return refuse(P);
	}
	json_object_foreach(obj, name, v) {
		size_t nlen = strlen(name), k;
		int kind = -1;
		member++;
		for (k = 0; k < K_COUNT; k++)
			if (strcmp(name, kind_names[k]) == 0)
				kind = (int)k;
		if (kind == K_VAR) {
			json_vars(P, v);
			continue;
		}
		if (kind < 0) {
			const char *hint = NULL;
			if (word_eq(name, nlen, "vars") || word_eq(name, nlen, "variables") ||
			    (nlen > 4 && word_eq(name, 4, "var.")))
				hint = "vars";
			for (k = 0; k < sizeof(known_columns) / sizeof(known_columns[0]); k++)
				if (word_eq(name, nlen, known_columns[k].name))
					hint = kind_names[known_columns[k].kind];
			if (!name_like(name, nlen))
				problem(P, "unknown member %zu (its name is not shown: it does not look like a name; the members "
				           "are conversation, response, library, text, key and vars)",
				        member);
			else if (hint)
				problem(P, "unknown member %s (did you mean \"%s\"?)", quote(q, name, nlen), hint);
			else
				problem(P, "unknown member %s (the members are conversation, response, library, text, key "
				           "and vars)",
				        quote(q, name, nlen));
			continue;
		}
		if (json_is_null(v))
			continue;
		if (!json_is_string(v)) {
			problem(P, "%s: not a string (%s)", name, json_kind(v));
			P->in.v[kind].bad = 1;
			continue;
		}
		P->in.v[kind].p = json_string_value(v);
		P->in.v[kind].n = json_string_length(v);
		P->in.v[kind].set = 1;
	}
	rc = finish_row(P); /* with the problems so far: one message for all */
	json_decref(obj);
	return rc;
}

static int parse_jsonl(parser *P)
{
	int rc;

	while (P->pos < P->len) {
		size_t s = P->pos, e = s, line = P->line, i;
		while (e < P->len && P->d[e] != '\n' && P->d[e] != '\r')
			e++;
		P->pos = e;
		if (e < P->len) {
			if (P->d[e] == '\r' && e + 1 < P->len && P->d[e + 1] == '\n')
				P->pos++;
			P->pos++;
			P->line++;
		}
		if (e - s > GCMSG_BULK_MAX_LINE)
			return fatal(P, line, "a line longer than %u bytes", GCMSG_BULK_MAX_LINE);
		for (i = s; i < e && is_blank_char(P->d[i]); i++)
			;
		if (i == e)
			continue;
		if (++P->records > GCMSG_BULK_MAX_ROWS)
			return fatal(P, line, "more than %u rows", GCMSG_BULK_MAX_ROWS);
		if ((rc = json_row(P, line, P->d + s, e - s)) != 0)
			return rc;
	}
	return 0;
}

/* ---- the public functions ---- */

static int parse(parser *P, const gcmsg_bulk_defaults *defaults)
{
	const unsigned char *u = (const unsigned char *)P->d;
	size_t i;
	int rc;

	if (P->len > GCMSG_BULK_MAX_BYTES)
		return fatal(P, 0, "%zu bytes, larger than %u MiB", P->len, GCMSG_BULK_MAX_BYTES / (1024 * 1024));
	if ((rc = load_defaults(P, defaults)) != 0)
		return rc;
	if (P->len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
		return fatal(P, 1, "UTF-16 text (save the file as UTF-8)");
	if (P->len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		P->pos = 3;
	for (i = P->pos; i < P->len && (is_blank_char(P->d[i]) || P->d[i] == '\r' || P->d[i] == '\n'); i++)
		;
	if (i == P->len)
		return fatal(P, 0, "empty (no header line and no rows)");
	P->json = P->d[i] == '{';
	P->f->format = P->json ? "jsonl" : "csv";
	return P->json ? parse_jsonl(P) : parse_csv(P);
}

int gcmsg_bulk_file_parse(gcmsg_bulk_file **out, const char *data, size_t len, const char *name,
                          const gcmsg_bulk_defaults *defaults)
{
	gcmsg_bulk_file *f;
	parser *P;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return GCMSG_ERROR;
	gcmsg__err_init(&f->err);
	*out = f;
	P = calloc(1, sizeof(*P));
	if (!P) {
		gcmsg_bulk_file_free(f);
		*out = NULL;
		return GCMSG_ERROR;
	}
	P->f = f;
	P->name = name ? name : "-";
	P->d = data;
	P->len = len;
	P->line = 1;
	gcmsg__buf_init(&P->msg, BF_MSG_CAP);
	if (!data && len)
		rc = gcmsg__err_set(&f->err, GCMSG_EUSAGE, "%s: no data (NULL with a length of %zu)", P->name, len);
	else
		rc = parse(P, defaults);
	if (rc != GCMSG_OK) {
		/* nothing of a file that could not be read as a whole */
		f->nrows = f->nkept = f->nerrs = 0;
		free(f->rows);
		free(f->errs);
		f->rows = NULL;
		f->errs = NULL;
		f->rows_alloc = f->errs_alloc = 0;
		arena_free(&f->ar);
	}
	gcmsg__buf_dispose(&P->msg);
	free(P->keys.slots);
	free(P->msgs.slots);
	free(P->scratch);
	free(P);
	return rc;
}

void gcmsg_bulk_file_free(gcmsg_bulk_file *f)
{
	if (!f)
		return;
	gcmsg__err_clear(&f->err);
	arena_free(&f->ar);
	free(f->rows);
	free(f->errs);
	free(f);
}

const gcmsg_error *gcmsg_bulk_file_last_error(const gcmsg_bulk_file *f)
{
	return f ? &f->err.pub : NULL;
}

const char *gcmsg_bulk_file_format(const gcmsg_bulk_file *f)
{
	return f ? f->format : NULL;
}

size_t gcmsg_bulk_file_row_count(const gcmsg_bulk_file *f)
{
	return f ? f->nrows : 0;
}

const gcmsg_bulk_row *gcmsg_bulk_file_row(const gcmsg_bulk_file *f, size_t i)
{
	return f && i < f->nrows ? &f->rows[i] : NULL;
}

size_t gcmsg_bulk_file_error_count(const gcmsg_bulk_file *f)
{
	return f ? f->nerrs : 0;
}

size_t gcmsg_bulk_file_errors_kept(const gcmsg_bulk_file *f)
{
	return f ? f->nkept : 0;
}

const gcmsg_bulk_row_error *gcmsg_bulk_file_error(const gcmsg_bulk_file *f, size_t i)
{
	return f && i < f->nkept ? &f->errs[i] : NULL;
}
