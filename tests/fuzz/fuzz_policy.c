/*
 * libFuzzer target: the content policy checks (gcmsg_policy_check_text and
 * gcmsg_policy_check_attachment) on arbitrary bytes.
 *
 * Input: one flag byte, then the text (or, with flag 128, the attachment's file name).
 * Flags: bits 0-3 the channel (see channels[]; past its end: none), 16 allow_placeholders,
 * 32 the policy with patterns (else the built-in defaults), 64 the queue "q1",
 * 128 an attachment (the type from the bits 0-2, the size from the text's length).
 *
 * Checks: no crash; the code and the list agree; every span is within the text, start <= end,
 * the list is sorted; the char spans are what an independent count of the code points before
 * each byte offset gives; the counts agree with an independent count; messages are one line and
 * a detector's never holds the text it flagged; the summary is empty exactly when the list is.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gcmsg/gcmsg.h"
#include "policy_internal.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gcmsg_policy *patterned;

static const char *const channels[] = { "sms",       "webmessaging", "whatsapp", "open",     "facebook", "instagram",
                                        "apple",     "twitter",      "chat",     "SMS",      "telegram" };

static const char *const types[] = { "image/png",  "image/jpeg; x=y", "application/pdf", "text/plain",
                                     "IMAGE/GIF", "not a type",      "",                NULL };

static void setup(void)
{
	static const char file[] =
		"format = 1\n"
		"[detectors]\nemail = true\nphone = true\n"
		"[pcre]\nmatch_limit = 20000\ndepth_limit = 2000\n"
		"[patterns.ticket]\nregex = 'INT-\\d{6}'\nmessage = \"internal ticket\"\n"
		"[patterns.secret]\nregex = '\\bsecret\\b'\nignore_case = true\n"
		"[patterns.redos]\nregex = '(a+)+$'\n"
		"[patterns.accents]\nregex = '[\\x{e9}\\x{e8}]{2,}'\n"
		"[patterns.off]\nregex = 'zz'\nenabled = false\n"
		"[allow.test-card]\nregex = '4111[ -]?1111[ -]?1111[ -]?1111'\nrules = [\"detector.payment-card\"]\n"
		"[allow.demo]\nregex = 'INT-0{6}'\nrules = [\"pattern.ticket\", \"pattern.secret\"]\n"
		"[channels.sms.limits]\nmax_segments = 2\n"
		"[channels.chat.patterns]\noff = true\n"
		"[queues.q1.limits]\nmax_length = 100\n"
		"[queues.q1.attachments]\ntypes = [\"image/*\"]\nmax_bytes = 64\n";

	if (patterned)
		return;
	if (gcmsg_policy_load_buffer(&patterned, file, sizeof(file) - 1, "fuzz") != GCMSG_OK)
		abort();
}

/* an independent count: a valid character, else one byte */
static size_t step(const char *s, size_t n, size_t i, int *astral)
{
	unsigned long cp;
	size_t k = gcmsg__utf8_decode(s + i, n - i, &cp);

	*astral = k && cp > 0xFFFF;
	return k ? k : 1;
}

/* for every byte offset 0..n: the number of characters that start before it */
static size_t *char_index(const char *s, size_t n)
{
	size_t *idx = malloc((n + 1) * sizeof(*idx)), i = 0, c = 0, k;
	int astral;

	if (!idx)
		abort();
	while (i < n) {
		size_t len = step(s, n, i, &astral);
		idx[i] = c;
		for (k = 1; k < len; k++)
			idx[i + k] = c + 1; /* inside a character: it started before */
		i += len;
		c++;
	}
	idx[n] = c;
	return idx;
}

static void check_result(const gcmsg_policy_result *r, int rc, const char *s, size_t n, int text)
{
	size_t i, count, cps = 0, units = 0, *idx;
	int astral;
	const char *summary;

	if (!r || (rc != GCMSG_OK && rc != GCMSG_EPOLICY))
		abort();
	count = gcmsg_policy_result_violation_count(r);
	if ((rc == GCMSG_EPOLICY) != (count > 0))
		abort();
	summary = gcmsg_policy_result_summary(r);
	if (!summary || (*summary == '\0') != (count == 0))
		abort();
	for (i = 0; i < n;) {
		i += step(s, n, i, &astral);
		cps++;
		units += astral ? 2 : 1;
	}
	if (gcmsg_policy_result_code_points(r) != cps || gcmsg_policy_result_utf16_units(r) != units)
		abort();
	if (text && (gcmsg_policy_result_length_limit(r) == 0 || gcmsg_policy_result_length_limit(r) > 4000))
		abort();
	idx = char_index(s, n);
	for (i = 0; i < count; i++) {
		const char *rule = gcmsg_policy_result_rule(r, i), *msg = gcmsg_policy_result_message(r, i), *q;
		size_t bs = gcmsg_policy_result_byte_start(r, i), be = gcmsg_policy_result_byte_end(r, i);
		size_t cs = gcmsg_policy_result_char_start(r, i), ce = gcmsg_policy_result_char_end(r, i);
		if (!rule || !msg || !*rule || !*msg)
			abort();
		if (bs > be || be > n || cs > ce || ce > cps)
			abort();
		if (cs != idx[bs] || ce != idx[be])
			abort();
		if (i > 0 && (gcmsg_policy_result_byte_start(r, i - 1) > bs ||
		              (gcmsg_policy_result_byte_start(r, i - 1) == bs && gcmsg_policy_result_byte_end(r, i - 1) > be)))
			abort();
		for (q = msg; *q; q++)
			if ((unsigned char)*q < 0x20)
				abort(); /* one line */
		if (strncmp(rule, "detector.", 9) == 0 && be - bs >= 4) {
			char *span = malloc(be - bs + 1);
			if (!span)
				abort();
			memcpy(span, s + bs, be - bs);
			span[be - bs] = '\0';
			if (strlen(span) == be - bs && (strstr(msg, span) || strstr(summary, span)))
				abort(); /* the message holds what it flagged */
			free(span);
		}
	}
	free(idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gcmsg_check_options o = GCMSG_CHECK_OPTIONS_INIT;
	gcmsg_policy_result *r = NULL;
	const gcmsg_policy *p;
	const char *s;
	size_t n, ch;
	unsigned flags;
	int rc;

	if (size < 1)
		return 0;
	setup();
	flags = data[0];
	s = (const char *)data + 1;
	n = size - 1;
	ch = flags & 15u;
	o.channel = ch < sizeof(channels) / sizeof(channels[0]) ? channels[ch] : NULL;
	o.allow_placeholders = (flags & 16u) != 0;
	o.queue_id = flags & 64u ? "q1" : NULL;
	p = flags & 32u ? patterned : NULL;
	if (flags & 128u) {
		/* an attachment: the file name is a C string */
		char *name = malloc(n + 1);
		if (!name)
			return 0;
		memcpy(name, s, n);
		name[n] = '\0';
		rc = gcmsg_policy_check_attachment(&r, p, name, types[flags & 7u], n * 1000, &o);
		if (rc == GCMSG_ERROR) {
			free(name);
			return 0;
		}
		check_result(r, rc, name, strlen(name), 0);
		if (gcmsg_policy_result_length_limit(r) != 0)
			abort();
		free(name);
	} else {
		rc = gcmsg_policy_check_text(&r, p, s, n, &o);
		if (rc == GCMSG_ERROR)
			return 0;
		check_result(r, rc, s, n, 1);
		if (o.channel && gcmsg__channel_lookup(o.channel) == GCMSG__CH_SMS) {
			const char *enc = gcmsg_policy_result_sms_encoding(r);
			if (!enc || (strcmp(enc, "GSM-7") != 0 && strcmp(enc, "UCS-2") != 0))
				abort();
			if ((gcmsg_policy_result_sms_segments(r) == 0) != (n == 0))
				abort();
		} else if (gcmsg_policy_result_sms_segments(r) != 0 || gcmsg_policy_result_sms_encoding(r)) {
			abort();
		}
	}
	gcmsg_policy_result_free(r);
	return 0;
}
