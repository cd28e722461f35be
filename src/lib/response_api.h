/* response_api.h - Response Management helpers shared by response_api.c and response_store.c (private). */
#ifndef GCMSG_RESPONSE_API_H
#define GCMSG_RESPONSE_API_H

#include "internal.h"

/* Guards of every listing: beyond them the server is misbehaving (an error, never a silent stop). */
#define GCMSG__MAX_PAGES 10000
#define GCMSG__MAX_ENTITIES 1000000

/*
 * Resolve `library` (an id, else an exact, case-sensitive name) among the
 * libraries of `libs`: its index in libs->libs. GCMSG_ENOTFOUND "no library
 * 'X'"; GCMSG_EUSAGE when several libraries have that name (naming their ids).
 * Detail on the client.
 */
int gcmsg__library_resolve(gcmsg_client *c, const gcmsg_response_set *libs, const char *library, size_t *idx);

/*
 * Append every response of one library (GET .../responses?libraryId=, every
 * page) to `set`: once per id (a response already there gains the library),
 * library names filled from `libs` (may be NULL). Detail on the client.
 */
int gcmsg__responses_of_library(gcmsg_client *c, gcmsg_response_set *set, const gcmsg_response_set *libs,
                                const char *library_id);

/* Fill library names a response's references lack from `libs`. 0, or -1 when out of memory. */
int gcmsg__response_fill_library_names(gcmsg_response *r, const gcmsg_response_set *libs);

/* Whether s has the shape of a Genesys id (a UUID: 8-4-4-4-12 hex digits). */
int gcmsg__looks_like_id(const char *s);

#endif
