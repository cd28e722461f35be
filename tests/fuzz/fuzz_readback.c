/*
 * libFuzzer target: the read-back parsers (outside input). The same bytes go
 * to the MessageConversation reader and to the TextMessageListing judge (with
 * the ids the first found, or a fixed list). Checked: ids come back sorted,
 * unique and non-empty; FOUND exactly when an id is returned, that id was
 * asked for and is not another key's; the ISO-8601 reader stays in bounds.
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
	gcmsg__rb_query q = { "c1", "agent-messaging", "Hello there", NULL, 0, owned, NULL };
	const char *const *ask = fixed;
	gcmsg__rb_verdict v;
	char **ids = NULL, *found = NULL, why[256], *copy;
	size_t n = 0, nask = 5, i;
	int rc;

	if (size < 1)
		return 0;
	/* the first byte picks the query: text or media, and a time bound or none */
	if (data[0] & 1) {
		q.text = NULL;
		q.media_id = "md-1";
	}
	q.since_ms = (data[0] & 2) ? 1795251601123LL : 0;
	data++;
	size--;

	rc = gcmsg__rb_ids((const char *)data, size, q.since_ms, &ids, &n, why, sizeof(why));
	if (rc == 0) {
		for (i = 0; i < n; i++) {
			if (!ids[i] || !*ids[i])
				abort();
			if (i && strcmp(ids[i - 1], ids[i]) >= 0)
				abort(); /* not sorted, or not unique */
		}
		if (n) {
			ask = (const char *const *)ids;
			nask = n;
		}
	} else if (ids || n) {
		abort();
	}
	if (gcmsg__rb_match((const char *)data, size, ask, nask, &q, &v, &found, why, sizeof(why)) == 0) {
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
	gcmsg__free_strv(ids, n);

	/* the time reader on the bytes as a string */
	copy = malloc(size + 1);
	if (copy) {
		memcpy(copy, data, size);
		copy[size] = '\0';
		(void)gcmsg__iso8601_ms(copy);
		free(copy);
	}
	return 0;
}
