/*
 * store_fixture.h - what the store's unit tests share (test_store, test_outbox,
 * test_audit, test_stats): a temporary directory per test, stores opened in
 * it, rows to put in them, and rows copied out of a walk over them.
 *
 * Include it after <cmocka.h>; its helpers fail the test on any error.
 */
#ifndef GCMSG_TEST_STORE_FIXTURE_H
#define GCMSG_TEST_STORE_FIXTURE_H

#include "store_rows.h"

/* ---- a temporary directory per test ---- */

/* cmocka setup: a new directory under /tmp; *state = NULL (a test may put its store there). */
int fx_setup(void **state);
/* cmocka setup: a new directory and the store "gcmsg.db" in it (default options), in *state. */
int fx_setup_store(void **state);
/* cmocka teardown: frees the store in *state, removes the directory and all it holds. */
int fx_teardown(void **state);

/* name in the test's directory (four buffers in turn: a result lives through the next three calls). */
const char *fx_path(const char *name);
/* The store at location (opts NULL: the defaults); its error is printed and the test fails if it cannot open. */
gcmsg_store *fx_open(const char *location, const gcmsg_store_options *opts);

/* ---- rows to put in a store (their strings borrowed literals) ---- */

/*
 * An outbox row as deliver.c leaves it in state: every column but the
 * claim, media_id and body_sha256; the request only while not sent; the
 * message id only when sent; the error only when failed. Updated at created
 * + 1, due at created + 2, first attempted at created + 3 (0 when created is 0).
 */
void fx_outbox_row(gcmsg__outbox_row *r, const char *key, gcmsg_outbox_state state, const char *conv,
                   long long created);
/* fx_outbox_row, inserted into s. */
void fx_put_outbox(gcmsg_store *s, const char *key, gcmsg_outbox_state state, const char *conv, long long created);

/* An audit record of these fields and nothing else. */
gcmsg__audit_rec fx_rec(long long time_ms, const char *event, const char *outcome, const char *key);
/*
 * An audit record with every field set: time 1714566896789 (2024-05-01T12:34:56.789Z),
 * key "key-1", who "user:u-1", route "agent-messaging", conversation "conv-1",
 * communication "comm-1", response "resp-1" version 4 of library "lib-1",
 * channel "webmessaging", source "cli", HTTP 200, no error code, correlation
 * "corr-1", attempt 1, latency 120, message "msg-1", text "Hello there",
 * text_sha256 FX_TEXT_SHA256, detail "delivered".
 */
void fx_full_rec(gcmsg__audit_rec *r, const char *event, const char *outcome);

/* The SHA-256 of "hi", the text of fx_outbox_row. */
#define FX_TEXT_SHA256 "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4"

/* Configure one more webhook on s (as gcmsg_store_set_webhooks would). */
void fx_add_hook(gcmsg_store *s, const char *name, unsigned events);

/* ---- rows copied out of a walk: a row list (store_rows.h) ---- */

extern gcmsg__err fx_rows_err;
/* An empty list of rows of kind: gcmsg__row_list w = FX_ROWS(gcmsg__webhook_kind); */
#define FX_ROWS(row_kind) { .kind = &(row_kind), .err = &fx_rows_err }

/* Callbacks of a walk: copy the row into the list in payload. */
int fx_grab_webhook(const gcmsg__webhook_row *row, void *rows);
int fx_grab_rec(const gcmsg__audit_rec *rec, void *rows);
/* Row i of the list, to read or change (the test fails when there is none). */
gcmsg__webhook_row *fx_webhook_at(const gcmsg__row_list *rows, size_t i);
gcmsg__audit_rec *fx_rec_at(const gcmsg__row_list *rows, size_t i);

#endif
