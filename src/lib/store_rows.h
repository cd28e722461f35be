/*
 * store_rows.h - the store's rows described once (private; store.c).
 *
 * A row kind lists the members of one row struct of store.h: one field per
 * column of the row's table, in the table's column order, named as the
 * column. The row helpers of store.h (init, dispose, copy) work through it,
 * the SQLite backend binds and reads rows through it, and a row list holds
 * rows of any kind. A new column is a member, a field and a column.
 */
#ifndef GCMSG_STORE_ROWS_H
#define GCMSG_STORE_ROWS_H

#include "store.h"

typedef enum gcmsg__field_type {
	GCMSG__FIELD_TEXT,   /* char *, NULL for none */
	GCMSG__FIELD_SECRET, /* char * that may hold a message text or a request: zeroed before it is freed */
	GCMSG__FIELD_INT,    /* int */
	GCMSG__FIELD_BOOL,   /* int, stored as 0 or 1 */
	GCMSG__FIELD_LONG,   /* long */
	GCMSG__FIELD_LLONG,  /* long long */
	GCMSG__FIELD_STATE   /* gcmsg_outbox_state, stored as its name */
} gcmsg__field_type;

typedef struct gcmsg__field {
	const char *name; /* the column */
	size_t offset;    /* of the member in the row struct */
	gcmsg__field_type type;
	long none;        /* a number's value in a new row (the column's DEFAULT): 0, or -1 for response_version */
} gcmsg__field;

typedef struct gcmsg__row_kind {
	size_t size; /* of the row struct */
	const gcmsg__field *fields;
	size_t count;
} gcmsg__row_kind;

extern const gcmsg__row_kind gcmsg__outbox_kind;  /* gcmsg__outbox_row, table outbox */
extern const gcmsg__row_kind gcmsg__audit_kind;   /* gcmsg__audit_rec, table audit */
extern const gcmsg__row_kind gcmsg__webhook_kind; /* gcmsg__webhook_row, table webhook_queue */

/* A text member (TEXT, SECRET), borrowed from the row. */
const char *gcmsg__field_text(const gcmsg__field *f, const void *row);
/* Point a text member at s (the old value is not freed). */
void gcmsg__field_set_text(const gcmsg__field *f, void *row, char *s);
/* A number member (INT, BOOL as 0 or 1, LONG, LLONG, STATE), widened. */
long long gcmsg__field_int(const gcmsg__field *f, const void *row);
void gcmsg__field_set_int(const gcmsg__field *f, void *row, long long v);

/*
 * The rows of one kind copied out of the store: what the public outbox and
 * audit listings hold. Zero it and set kind and err; then add rows, typically
 * from a store callback (an out of memory is told on err and stops the walk).
 */
typedef struct gcmsg__row_list {
	const gcmsg__row_kind *kind;
	gcmsg__err *err;
	unsigned char *items; /* count rows of kind->size bytes */
	size_t count, alloc;
} gcmsg__row_list;

/* Append a deep copy of row: 0, or GCMSG_ERROR (out of memory, told on list->err). */
int gcmsg__row_list_add(gcmsg__row_list *list, const void *row);
/* Row i, borrowed; NULL when i is out of range. */
const void *gcmsg__row_list_at(const gcmsg__row_list *list, size_t i);
/* Free every row and the array; the list is left empty. */
void gcmsg__row_list_dispose(gcmsg__row_list *list);

/* GCMSG_OK when s is given and open; else GCMSG_EUSAGE (told on s->err when s is given). */
int gcmsg__store_ready(gcmsg_store *s);

#endif
