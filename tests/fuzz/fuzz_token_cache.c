/*
 * libFuzzer target: the token cache reader on arbitrary bytes. Never a crash;
 * a refusal is one line "token cache PATH: REASON" with REASON from the closed
 * set (so no byte of the file, a token above all, is ever echoed); an accepted
 * file is valid, and writing it back and reading that again gives the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PATH "/fuzz/tokens/DEFAULT.json"

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gcmsg__token_entry e, back;
	gcmsg__err err;
	const char *prefix = "token cache " PATH ": ";
	int rc;

	gcmsg__err_init(&err);
	rc = gcmsg__token_cache_parse(&e, (const char *)data, size, PATH, &err);
	if (rc != GCMSG_OK) {
		const char *msg = err.pub.explanation;
		if (rc != GCMSG_ECONFIG || !msg || strncmp(msg, prefix, strlen(prefix)) != 0 ||
		    !gcmsg__token_cache_reason_known(msg + strlen(prefix)) || strchr(msg, '\n') || !err.pub.fix)
			abort();
		if (e.access_token || e.refresh_token || e.client_id || e.login_url || e.api_url)
			abort(); /* nothing is left behind on failure */
	} else {
		char *text;
		if (!gcmsg__token_entry_valid(&e))
			abort();
		text = gcmsg__token_cache_format(&e);
		if (!text)
			abort();
		if (gcmsg__token_cache_parse(&back, text, strlen(text), PATH, &err) != GCMSG_OK)
			abort();
		if (back.kind != e.kind || !same(back.login_url, e.login_url) || !same(back.api_url, e.api_url) ||
		    !same(back.client_id, e.client_id) || !same(back.access_token, e.access_token) ||
		    !same(back.refresh_token, e.refresh_token) || back.expires_at != e.expires_at ||
		    back.lifetime != e.lifetime)
			abort();
		gcmsg__free_secret(text);
		gcmsg__token_entry_clear(&back);
	}
	gcmsg__token_entry_clear(&e);
	gcmsg__err_clear(&err);
	return 0;
}
