/*
 * libFuzzer target: MIME sniffing (gcmsg_mime_sniff) and, on the same bytes, MD5.
 *
 * Checks: no crash and no read outside the input (the input is copied to a heap
 * block of exactly its size); the answer is NULL or one of the sniffer's own
 * strings (the very pointers of gcmsg__mime_types); text/plain only for input
 * without NUL, ESC or DEL bytes; the same answer twice; the prefix mode answers the same
 * for everything but unknown content (where it may only add text/plain); MD5
 * fed in two pieces, split where the first byte says, equals the one-shot MD5.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gcmsg/media.h"
#include "md5.h"
#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int known(const char *t)
{
	size_t i;

	for (i = 0; gcmsg__mime_types[i]; i++)
		if (gcmsg__mime_types[i] == t)
			return strcmp(t, gcmsg__mime_types[i]) == 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1), one[GCMSG__MD5_LEN], two[GCMSG__MD5_LEN];
	const char *t, *again, *partial;
	gcmsg__md5_ctx ctx;
	size_t split;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	t = gcmsg_mime_sniff(copy, size);
	if (t && !known(t))
		abort();
	if (size == 0 && t)
		abort();
	if (t && strcmp(t, "text/plain") == 0 && (memchr(copy, 0, size) || memchr(copy, 0x1B, size) || memchr(copy, 0x7F, size)))
		abort();
	again = gcmsg_mime_sniff(copy, size);
	if (again != t)
		abort();
	partial = gcmsg__mime_sniff(copy, size, 1);
	if (partial && !known(partial))
		abort();
	if (t ? partial != t : (partial && strcmp(partial, "text/plain") != 0))
		abort();

	split = size ? copy[0] % (size + 1) : 0;
	gcmsg__md5(copy, size, one);
	gcmsg__md5_init(&ctx);
	gcmsg__md5_update(&ctx, copy, split);
	gcmsg__md5_update(&ctx, copy + split, size - split);
	gcmsg__md5_final(&ctx, two);
	if (memcmp(one, two, sizeof(one)) != 0)
		abort();
	free(copy);
	return 0;
}
