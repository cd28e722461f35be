/*
 * libFuzzer target: the policy file reader (gcmsg_policy_load_buffer) on arbitrary bytes.
 *
 * Checks: no crash or leak; a failure is GCMSG_ECONFIG with an explanation that names the file
 * (GCMSG_ERROR only when out of memory); a policy that loaded checks a few texts and an
 * attachment on every channel with a valid result, and a policy that did not refuses to check.
 * The PCRE2 limits a file sets are capped here so that a slow pattern cannot stall the fuzzer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gcmsg/gcmsg.h"
#include "policy_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const texts[] = {
	"Hello {{NAME}}, your ticket INT-123456 and card 4111 1111 1111 1111.",
	"mail jane@example.com, call +44 20 7946 0958, password=hunter2",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
	"\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80 \xFF",
	"",
};

static void check_one(const gcmsg_policy *p, const char *text, size_t len, const char *channel, const char *queue)
{
	gcmsg_check_options o = GCMSG_CHECK_OPTIONS_INIT;
	gcmsg_policy_result *r = NULL;
	int rc;
	size_t i;

	o.channel = channel;
	o.queue_id = queue;
	rc = gcmsg_policy_check_text(&r, p, text, len, &o);
	if (rc == GCMSG_ERROR)
		return;
	if ((rc != GCMSG_OK && rc != GCMSG_EPOLICY) || !r)
		abort();
	if ((rc == GCMSG_EPOLICY) != (gcmsg_policy_result_violation_count(r) > 0))
		abort();
	for (i = 0; i < gcmsg_policy_result_violation_count(r); i++)
		if (gcmsg_policy_result_byte_end(r, i) > len ||
		    gcmsg_policy_result_byte_start(r, i) > gcmsg_policy_result_byte_end(r, i))
			abort();
	gcmsg_policy_result_free(r);
	rc = gcmsg_policy_check_attachment(&r, p, "report.pdf", "application/pdf", 1000, &o);
	if (rc != GCMSG_OK && rc != GCMSG_EPOLICY && rc != GCMSG_ERROR)
		abort();
	gcmsg_policy_result_free(r);
	(void)gcmsg_policy_attachment_max_bytes(p, &o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gcmsg_policy *p = NULL;
	int rc = gcmsg_policy_load_buffer(&p, (const char *)data, size, "fuzz.toml");
	size_t i, c;

	if (!p) {
		if (rc != GCMSG_ERROR)
			abort();
		return 0;
	}
	if (rc != GCMSG_OK) {
		const gcmsg_error *e = gcmsg_policy_last_error(p);
		gcmsg_policy_result *r = NULL;
		if (rc != GCMSG_ECONFIG && rc != GCMSG_ERROR)
			abort();
		if (rc == GCMSG_ECONFIG && (!e->explanation || strncmp(e->explanation, "fuzz.toml: ", 11) != 0))
			abort();
		if (gcmsg_policy_check_text(&r, p, "x", 1, NULL) != GCMSG_EUSAGE || r)
			abort();
		gcmsg_policy_free(p);
		return 0;
	}
	if (p->match_limit > 20000)
		p->match_limit = 20000;
	if (p->depth_limit > 2000)
		p->depth_limit = 2000;
	if (p->heap_limit_kib > 4096)
		p->heap_limit_kib = 4096;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		for (c = 0; c < GCMSG__CH_COUNT; c++)
			check_one(p, texts[i], strlen(texts[i]), gcmsg__channel_names[c], i == 0 ? NULL : "q1");
	check_one(p, texts[0], strlen(texts[0]), NULL, p->nqueues ? p->queues[0].queue_id : NULL);
	/* the file itself as a text */
	check_one(p, (const char *)data, size, "chat", NULL);
	gcmsg_policy_free(p);
	return 0;
}
