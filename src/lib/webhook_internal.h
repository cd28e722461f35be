/*
 * webhook_internal.h - what webhook.c shares with config.c and the tests (private).
 */
#ifndef GCMSG_WEBHOOK_INTERNAL_H
#define GCMSG_WEBHOOK_INTERNAL_H

#include <limits.h>
#include <stddef.h>

#include "gcmsg/webhook.h"

/* next_attempt_ms of a row that reached max_attempts: it stays queued, never tried again. */
#define GCMSG__WEBHOOK_NEVER LLONG_MAX

/* Whether name is [A-Za-z0-9_-]{1,64}. */
int gcmsg__webhook_name_ok(const char *name);
/*
 * The rules of gcmsg_store_set_webhooks for one hook (name, URL, secret,
 * event bits): 0, or -1 with the reason in why. The reason never holds the
 * secret nor the URL (which may carry credentials).
 */
int gcmsg__webhook_check(const gcmsg_webhook *h, char *why, size_t whylen);
/*
 * The delay before the next attempt after `attempts` failures: uniform in
 * [base, min(cap, base * 2^attempts)], at least retry_after_s seconds when
 * > 0, never beyond cap.
 */
long long gcmsg__webhook_backoff_ms(int attempts, long base_ms, long cap_ms, long retry_after_s);

#endif
