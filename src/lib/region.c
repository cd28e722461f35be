/* region.c - the region table of the official SDKs, and raw domains. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gcmsg/region.h"

static const gcmsg_region regions[] = {
	{ "us_east_1", "mypurecloud.com" },
	{ "eu_west_1", "mypurecloud.ie" },
	{ "ap_southeast_2", "mypurecloud.com.au" },
	{ "ap_northeast_1", "mypurecloud.jp" },
	{ "eu_central_1", "mypurecloud.de" },
	{ "us_west_2", "usw2.pure.cloud" },
	{ "ca_central_1", "cac1.pure.cloud" },
	{ "ap_northeast_2", "apne2.pure.cloud" },
	{ "eu_west_2", "euw2.pure.cloud" },
	{ "ap_south_1", "aps1.pure.cloud" },
	{ "us_east_2", "use2.us-gov-pure.cloud" }, /* US government cloud */
	{ "sa_east_1", "sae1.pure.cloud" },
	{ "me_central_1", "mec1.pure.cloud" },
	{ "ap_northeast_3", "apne3.pure.cloud" },
	{ "eu_central_2", "euc2.pure.cloud" },
	{ "mx_central_1", "mxc1.pure.cloud" },
	{ "ap_southeast_1", "apse1.pure.cloud" },
	{ "eusc_de_east_1", "edee1.eusc-pure.cloud" },
};

size_t gcmsg_region_count(void)
{
	return sizeof(regions) / sizeof(regions[0]);
}

const gcmsg_region *gcmsg_region_at(size_t i)
{
	return i < gcmsg_region_count() ? &regions[i] : NULL;
}

/* key comparison: case-insensitive, '-' and '_' equal */
static int key_equal(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = (char)tolower((unsigned char)*a), y = (char)tolower((unsigned char)*b);
		if (x == '-')
			x = '_';
		if (y == '-')
			y = '_';
		if (x != y)
			return 0;
	}
	return *a == *b;
}

/* A hostname: labels of [a-z0-9-], not starting or ending with '-', at least one dot. */
static int valid_domain(const char *d)
{
	size_t len = strlen(d), label = 0, dots = 0, i;

	if (len == 0 || len > GCMSG_REGION_DOMAIN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char ch = d[i];
		if (ch == '.') {
			if (label == 0 || d[i - 1] == '-')
				return 0;
			label = 0;
			dots++;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-') {
			if (label == 0 && ch == '-')
				return 0;
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return dots > 0 && label > 0 && d[len - 1] != '-';
}

int gcmsg_region_resolve(gcmsg_region_info *out, const char *name)
{
	size_t i, n = gcmsg_region_count();
	char lower[GCMSG_REGION_DOMAIN_MAX + 1];

	if (!out || !name)
		return GCMSG_EUSAGE;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		if (key_equal(name, regions[i].key) || strcasecmp(name, regions[i].domain) == 0) {
			out->known = &regions[i];
			snprintf(out->domain, sizeof(out->domain), "%s", regions[i].domain);
			break;
		}
	}
	if (!out->known) {
		size_t len = strlen(name);
		if (len > GCMSG_REGION_DOMAIN_MAX)
			return GCMSG_ENOTFOUND;
		for (i = 0; i <= len; i++)
			lower[i] = (char)tolower((unsigned char)name[i]);
		if (!valid_domain(lower))
			return GCMSG_ENOTFOUND;
		memcpy(out->domain, lower, len + 1);
	}
	snprintf(out->api_url, sizeof(out->api_url), "https://api.%s", out->domain);
	snprintf(out->login_url, sizeof(out->login_url), "https://login.%s", out->domain);
	return GCMSG_OK;
}
