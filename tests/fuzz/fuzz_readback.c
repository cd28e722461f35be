/*
 * libFuzzer target: the read-back parsers (outside input). The same bytes go
 * to the MessageConversation reader and to the TextMessageListing judge (with
 * the ids the first found, or a fixed list). Checked: ids come back sorted,
 * unique and non-empty, no more than the messages listed; FOUND exactly when
 * an id is returned, that id was asked for and is not another key's; the
 * ISO-8601 and HTTP-date readers stay in bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "readback.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int owned(const char *id, void *payload)
{
	(void)payload;
	if (strcmp(id, "owned") == 0)
		return 1;
	if (strcmp(id, "unsure") == 0)
		return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = { "m1", "m2", "owned", "unsure", "m3" };
	gcmsg__rb_query q = { "c1", "agent-messaging", "Hello there", NULL, 0, "u1", 0, owned, NULL };
	const char *const *ask = fixed;
	gcmsg__rb_listing l;
	gcmsg__rb_verdict v;
	char *found = NULL, why[256], *copy;
	size_t nask = 5, i;
	long long from_ms;
	int rc;

	if (size < 1)
		return 0;
	/* the first byte picks the query: text or media, and a time bound or none */
	if (data[0] & 1) {
		q.text = NULL;
		q.media_id = "md-1";
	}
	from_ms = (data[0] & 2) ? 1795251601123LL : 0;
	if (data[0] & 4)
		q.user_id = NULL;
	data++;
	size--;

	rc = gcmsg__rb_ids((const char *)data, size, from_ms, &l, why, sizeof(why));
	if (rc == 0) {
		if (l.n > l.listed || l.connected < -1 || l.connected > 1)
			abort();
		for (i = 0; i < l.n; i++) {
			if (!l.ids[i] || !*l.ids[i])
				abort();
			if (i && strcmp(l.ids[i - 1], l.ids[i]) >= 0)
				abort(); /* not sorted, or not unique */
		}
		if (l.n) {
			ask = (const char *const *)l.ids;
			nask = l.n;
		}
	} else if (l.ids || l.n) {
		abort();
	}
	if (gcmsg__rb_match((const char *)data, size, ask, nask, &q, from_ms, &v, &found, why, sizeof(why)) == 0) {
		if ((v == GCMSG__RB_FOUND) != (found != NULL))
			abort();
		if (found) {
			int asked = 0;
			for (i = 0; i < nask; i++)
				asked |= strcmp(ask[i], found) == 0;
			if (!asked || strcmp(found, "owned") == 0 || strcmp(found, "unsure") == 0)
				abort();
		}
		if (strlen(why) >= sizeof(why))
			abort();
	}
	free(found);
	gcmsg__rb_listing_dispose(&l);

	/* the time reader on the bytes as a string */
	copy = malloc(size + 1);
	if (copy) {
		memcpy(copy, data, size);
		copy[size] = '\0';
		(void)gcmsg__iso8601_ms(copy);
		(void)gcmsg__http_date_ms(copy);
		free(copy);
	}
	return 0;
}
