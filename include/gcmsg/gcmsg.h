/*
 * gcmsg/gcmsg.h - libgcmsg: send text into live Genesys Cloud conversations
 * through the right endpoint. Umbrella header: includes the whole public API.
 */
#ifndef GCMSG_GCMSG_H
#define GCMSG_GCMSG_H

#define GCMSG_VERSION_MAJOR 0
#define GCMSG_VERSION_MINOR 1
#define GCMSG_VERSION_PATCH 0
#define GCMSG_VERSION "0.1.0"

#include "common.h"
#include "region.h"
#include "client.h"
#include "config.h"
#include "conversation.h"
#include "route.h"
#include "send.h"
#include "response.h"
#include "render.h"
#include "policy.h"
#include "media.h"
#include "store.h"
#include "audit.h"
#include "webhook.h"
#include "login.h"
#include "bulk.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The library's version string, e.g. "0.1.0". */
GCMSG_EXTERN(const char *) gcmsg_version(void);

/**
 * Initialise the libraries gcmsg depends on (libcurl's global state). Call
 * once at program start, before any other thread exists; pair with
 * gcmsg_global_cleanup. Returns GCMSG_OK or GCMSG_ERROR.
 */
GCMSG_EXTERN(int) gcmsg_global_init(void);
GCMSG_EXTERN(void) gcmsg_global_cleanup(void);

#ifdef __cplusplus
}
#endif

#endif
