/*
 * libFuzzer target: the library-file reader (TOML + the format's rules) on
 * arbitrary bytes, in both modes (a file people write, a store file), and the
 * round trip: whatever is read must write, read back to the same model, and
 * write again to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "response_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_library_file: %s\n%s\n", what, detail ? detail : "");
	abort();
}

static void one_mode(const uint8_t *data, size_t size, gcmsg__libfile_mode mode)
{
	gcmsg_response_set *a = gcmsg__response_set_new(), *b = gcmsg__response_set_new();
	gcmsg__library_info info;
	gcmsg_buf w1 = GCMSG_BUF_INIT(GCMSG__STOREFILE_CAP), w2 = GCMSG_BUF_INIT(GCMSG__STOREFILE_CAP);
	char err[512];
	size_t i;

	if (!a || !b)
		abort();
	if (gcmsg__library_parse(a, (const char *)data, size, "fuzz.toml", mode, GCMSG_RESPONSE_FILE, &info) != 0) {
		if (!a->err.pub.explanation || strncmp(a->err.pub.explanation, "fuzz.toml: ", 11) != 0)
			die("an error that does not name the file", a->err.pub.explanation);
		goto out;
	}
	if (gcmsg__library_write(&w1, "fuzz\ncomment", &info, a->items, a->count, err, sizeof(err)) != 0)
		die("a model that was read cannot be written", err);
	if (gcmsg__library_parse(b, w1.ptr, w1.len, "fuzz.toml", mode, GCMSG_RESPONSE_FILE, NULL) != 0)
		die("what was written cannot be read back", b->err.pub.explanation);
	if (a->count != b->count || a->nlibs != 1 || b->nlibs != 1 || strcmp(a->libs[0].id, b->libs[0].id) != 0 ||
	    strcmp(a->libs[0].name, b->libs[0].name) != 0 || a->libs[0].version != b->libs[0].version)
		die("the set changed in a round trip", w1.ptr);
	for (i = 0; i < a->count; i++)
		if (!gcmsg__response_equal(a->items[i], b->items[i]))
			die("a response changed in a round trip", w1.ptr);
	if (gcmsg__library_write(&w2, "fuzz\ncomment", &info, b->items, b->count, err, sizeof(err)) != 0)
		die("the model read back cannot be written", err);
	if (w1.len != w2.len || memcmp(w1.ptr, w2.ptr, w1.len) != 0)
		die("writing is not stable", w1.ptr);
	gcmsg__library_info_clear(&info);
out:
	gcmsg__buf_dispose(&w1);
	gcmsg__buf_dispose(&w2);
	gcmsg_response_set_free(a);
	gcmsg_response_set_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one_mode(data, size, GCMSG__LIBFILE_STRICT);
	one_mode(data, size, GCMSG__LIBFILE_STORE);
	return 0;
}
