/*
 * transport.h - one thread owning a libcurl multi handle, performing the
 * transfers of many sender threads (private; see transport.c).
 */
#ifndef GCMSG_TRANSPORT_H
#define GCMSG_TRANSPORT_H

#include "internal.h"

typedef struct gcmsg__transport gcmsg__transport;

/* Start the thread; max_connections: how many idle connections to keep. GCMSG_OK or GCMSG_ERROR. */
int gcmsg__transport_new(gcmsg__transport **out, unsigned max_connections);
/* Stop once the transfers handed over have ended, and free. NULL-safe. */
void gcmsg__transport_free(gcmsg__transport *t);

/* gcmsg__transport_perform (declared in internal.h for http.c): like curl_easy_perform. */

#endif
