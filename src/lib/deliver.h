/*
 * deliver.h - exactly-once delivery of one message through the outbox
 * (private; deliver.c). gcmsg_send (with a store) and gcmsg_outbox_resume are
 * built on it.
 */
#ifndef GCMSG_DELIVER_H
#define GCMSG_DELIVER_H

#include "internal.h"
#include "store.h"

/* "d1:" + 64 hex digits + NUL */
#define GCMSG__KEY_DERIVED_LEN (3 + 64 + 1)
#define GCMSG__KEY_MAX 200

/* 1 when key is 1 to 200 printable ASCII characters (0x20 to 0x7e). */
int gcmsg__key_valid(const char *key);

/*
 * What a derived key covers. content[] depends on body_kind: "text" {the
 * text}, "template" {response id, then id and value of each body parameter
 * in order}, "media" {media id}. bucket = floor(now_s / window_s). Not the
 * communication id: it changes when the agent reconnects.
 */
typedef struct gcmsg__key_input {
	const char *conversation_id, *route, *body_kind;
	const char *const *content;
	size_t ncontent;
	long long bucket;
} gcmsg__key_input;

/* "d1:" + hex SHA-256 of the fields as netstrings (see deliver.c). */
void gcmsg__key_derive(char out[GCMSG__KEY_DERIVED_LEN], const gcmsg__key_input *in);

/* A new send (borrowed strings), as gcmsg_send records it. */
typedef struct gcmsg__delivery {
	const char *key;
	const char *path, *body;       /* the POST under the API URL and its JSON body */
	const char *conversation_id, *communication_id, *route, *channel;
	const char *match_text;        /* the text, or a template's rendered text; NULL for media */
	const char *media_id;
	const char *response_id, *library_id;
	long response_version;         /* -1: none */
	const char *source, *who;
	int derived;                   /* the key was derived (gcmsg__key_derive) ... */
	unsigned window_s;             /* ... with this window */
} gcmsg__delivery;

typedef struct gcmsg__delivery_result {
	char *message_id, *correlation_id;
	long http_status;  /* of the answer that delivered it; 0 for a duplicate or a read-back */
	int attempts;      /* requests made for the message in this call (0: a duplicate) */
	int duplicate;     /* the key had been delivered already: nothing sent */
	int read_back;     /* a read-back found it delivered by an earlier, ambiguous attempt */
	char *key;         /* prepare: another key of the same message, continued instead of the derived one */
} gcmsg__delivery_result;

void gcmsg__delivery_result_dispose(gcmsg__delivery_result *r);

/* What the loop needs besides the row. */
typedef struct gcmsg__deliver_opts {
	const char *source;  /* the audit's launch source; NULL: the row's */
	const char *who;     /* the audit's caller; NULL: the row's */
	gcmsg_attempt_cb on_attempt;
	void *attempt_payload;
} gcmsg__deliver_opts;

/*
 * A key the outbox holds as SENT: answered from it as gcmsg_send would (res:
 * duplicate, message id; outcome "duplicate" audited), without any request or
 * route: 1. Any other state, or no entry: 0, nothing done. Or an error.
 */
int gcmsg__deliver_if_sent(gcmsg_client *c, gcmsg_store *s, const char *key, const gcmsg__deliver_opts *o,
                           gcmsg__delivery_result *res);

/*
 * Record the send in the outbox (one immediate transaction): a new key is
 * inserted PENDING; a key used for another body is refused (GCMSG_EUSAGE); a
 * key already sent is answered as a duplicate (*go = 0, res filled, audited);
 * a key a live process is sending is refused (GCMSG_EUSAGE, rule
 * outbox.in-flight); a failed or dropped key is re-armed: UNKNOWN when an
 * earlier attempt may have delivered it (dropped after an attempt, failed
 * after more than one), else PENDING. A new derived key first looks for the
 * same message (conversation, route, body hash) unfinished under another key
 * (this bucket or the previous one) or sent in this bucket: that key is
 * continued instead, named in res->key. *go = 1: run gcmsg__deliver_run next
 * (with res->key when set).
 */
int gcmsg__deliver_prepare(gcmsg_client *c, gcmsg_store *s, const gcmsg__delivery *d, gcmsg__delivery_result *res,
                           int *go);

/*
 * The delivery loop of the outbox row `key`, from its recorded request (see
 * deliver.c for the state machine). GCMSG_OK once it is sent (now, by a
 * read-back, or already: a duplicate), else the code of its end state with
 * the detail and a fix on the client.
 */
int gcmsg__deliver_run(gcmsg_client *c, gcmsg_store *s, const char *key, const gcmsg__deliver_opts *o,
                       gcmsg__delivery_result *res);

/* The message id of a send's answer on this route ("agentless": message.id first). */
char *gcmsg__message_id_of(const char *route, const char *body, size_t len);

/* A 403 naming the missing permissions (messageParams): the fix that grants them (unless a fix is set). */
void gcmsg__permissions_fix(gcmsg__err *e);

#endif
