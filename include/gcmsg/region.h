/*
 * gcmsg/region.h - Genesys Cloud regions: the table built into the official
 * SDKs, plus raw domains.
 */
#ifndef GCMSG_REGION_H
#define GCMSG_REGION_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One row of the built-in table. */
typedef struct gcmsg_region {
	const char *key;    /**< SDK key, e.g. "eu_central_1" */
	const char *domain; /**< e.g. "mypurecloud.de" */
} gcmsg_region;

/** Longest domain accepted (DNS limit). */
#define GCMSG_REGION_DOMAIN_MAX 253

/** The result of resolving a region name. */
typedef struct gcmsg_region_info {
	const gcmsg_region *known;  /**< the table row, or NULL for a raw domain */
	char domain[GCMSG_REGION_DOMAIN_MAX + 1];
	char api_url[GCMSG_REGION_DOMAIN_MAX + 16];   /**< "https://api.<domain>" */
	char login_url[GCMSG_REGION_DOMAIN_MAX + 16]; /**< "https://login.<domain>" */
} gcmsg_region_info;

/** Number of rows in the built-in table. */
GCMSG_EXTERN(size_t) gcmsg_region_count(void);

/** Row i of the built-in table, or NULL when i is out of range. */
GCMSG_EXTERN(const gcmsg_region *) gcmsg_region_at(size_t i);

/**
 * Resolve a region given as an SDK key with underscores or hyphens
 * ("eu_central_1", "eu-central-1", case-insensitive), a domain of the table
 * ("mypurecloud.de") or any other syntactically valid domain (raw domain).
 * Returns GCMSG_OK, GCMSG_EUSAGE for NULL arguments, or GCMSG_ENOTFOUND when
 * the name is neither a known key nor a valid domain.
 */
GCMSG_EXTERN(int) gcmsg_region_resolve(gcmsg_region_info *out, const char *name);

#ifdef __cplusplus
}
#endif

#endif
