/*
 * libFuzzer target: the one-request parser of the login's loopback redirect on
 * arbitrary bytes (what any local process or web page could send). Never a
 * crash or a read beyond the input; the kind is one of the five; every field
 * is NUL-terminated within its bounds; code and state are printable ASCII
 * without spaces, error printable ASCII, error_description one line; a field
 * is set only for a callback.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "login_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s, size_t cap, int spaces_ok, int empty_ok)
{
	size_t n = strnlen(s, cap + 1), i;

	if (n > cap || (!empty_ok && n == 0))
		abort();
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || (!spaces_ok && c == ' '))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gcmsg__login_callback cb;
	/* an exact-size copy, so that ASan sees any read past the end */
	char *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	gcmsg__login_parse_request(copy, size, &cb);
	free(copy);
	if (cb.kind < GCMSG__CB_INCOMPLETE || cb.kind > GCMSG__CB_CALLBACK)
		abort();
	if (cb.kind == GCMSG__CB_INCOMPLETE && size >= GCMSG__LOGIN_HEAD_MAX)
		abort();
	if (cb.kind != GCMSG__CB_CALLBACK) {
		if (cb.has_code || cb.has_state || cb.has_error || cb.code[0] || cb.state[0] || cb.error[0] ||
		    cb.error_description[0])
			abort();
		return 0;
	}
	check(cb.code, GCMSG__LOGIN_CODE_MAX, 0, !cb.has_code);
	check(cb.state, GCMSG__LOGIN_STATE_MAX, 0, !cb.has_state);
	check(cb.error, GCMSG__LOGIN_ERROR_MAX, 1, !cb.has_error);
	check(cb.error_description, GCMSG__LOGIN_DESC_MAX, 1, 1);
	if ((!cb.has_code && cb.code[0]) || (!cb.has_state && cb.state[0]) || (!cb.has_error && cb.error[0]))
		abort();
	return 0;
}
