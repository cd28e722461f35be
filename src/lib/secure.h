/*
 * secure.h - small helpers for code that handles secrets (private): zeroing
 * that the compiler keeps, a comparison whose time does not depend on where
 * two secrets differ, and the value checks of tokens, ids and states. Used by
 * auth.c, token_cache.c and login.c.
 */
#ifndef GCMSG_SECURE_H
#define GCMSG_SECURE_H

#include <stddef.h>

/* Zero n bytes at p through a volatile pointer (not optimised away before a free). */
void gcmsg__wipe(void *p, size_t n);

/*
 * 1 when the strings are equal. The time depends on their lengths only, not on
 * their bytes: for comparing a secret we hold with one we were sent.
 */
int gcmsg__secret_equal(const char *a, const char *b);

/*
 * 1 when s holds 1 to max bytes of printable ASCII without spaces (0x21 to
 * 0x7e): what a token, a client id, a state or a URL must be to go into an
 * HTTP header or a query. NULL is 0.
 */
int gcmsg__printable(const char *s, size_t max);

/* The value of a hexadecimal digit (either case), or -1. */
int gcmsg__hexval(char c);

#endif
