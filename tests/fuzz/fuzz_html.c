/*
 * libFuzzer target: gcmsg_html_to_text on arbitrary bytes. Whatever the markup, the result is
 * valid UTF-8 without control characters other than LF and tab, has no line ending in a space or
 * tab, never more than one blank line in a row, and is trimmed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *out)
{
	size_t n = strlen(out), i = 0, k;
	unsigned long cp;

	if (n > 0 && (out[0] == ' ' || out[0] == '\t' || out[0] == '\n'))
		abort(); /* not trimmed at the start */
	if (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t' || out[n - 1] == '\n'))
		abort(); /* not trimmed at the end */
	if (strstr(out, "\n\n\n"))
		abort(); /* more than one blank line */
	while (i < n) {
		k = gcmsg__utf8_decode(out + i, n - i, &cp);
		if (k == 0)
			abort(); /* invalid UTF-8 */
		if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
			abort(); /* a control character */
		if (cp == '\n' && i > 0 && (out[i - 1] == ' ' || out[i - 1] == '\t'))
			abort(); /* a line not right-trimmed */
		i += k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL, *again = NULL;
	int rc = gcmsg_html_to_text(&out, (const char *)data, size);

	if (rc != GCMSG_OK) {
		/* only the caps may refuse, and they are far above what a run feeds */
		if (size <= 64 * 1024 || out)
			abort();
		return 0;
	}
	if (!out)
		abort();
	check(out);
	/* deterministic */
	if (gcmsg_html_to_text(&again, (const char *)data, size) != GCMSG_OK || strcmp(out, again) != 0)
		abort();
	gcmsg_free(again);
	gcmsg_free(out);
	return 0;
}
