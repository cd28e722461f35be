/*
 * MIME sniffing (src/lib/mime.c): every type from a minimal header, every
 * truncation of those headers (never the full type, never out of bounds),
 * the UTF-8 text rules, and the prefix mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gcmsg/media.h"
#include "mime.h"

typedef struct sample {
	const char *name, *type;
	const unsigned char *data;
	size_t len;
} sample;

#define S(name, type, lit) { name, type, (const unsigned char *)(lit), sizeof(lit) - 1 }

static const sample samples[] = {
	S("jpeg", "image/jpeg", "\xFF\xD8\xFF\xE0\0\x10JFIF\0"),
	S("jpeg-min", "image/jpeg", "\xFF\xD8\xFF"),
	S("png", "image/png", "\x89PNG\r\n\x1A\n\0\0\0\rIHDR"),
	S("gif87a", "image/gif", "GIF87a\x01\0\x01\0"),
	S("gif89a", "image/gif", "GIF89a"),
	S("webp", "image/webp", "RIFF\x24\0\0\0WEBPVP8 "),
	S("wav", "audio/wav", "RIFF\x24\0\0\0WAVEfmt "),
	S("pdf", "application/pdf", "%PDF-1.7\n"),
	S("mp4-isom", "video/mp4", "\0\0\0\x18" "ftypisom\0\0\x02\0isomiso2"),
	S("mp4-mp41", "video/mp4", "\0\0\0\x14" "ftypmp41\0\0\0\0mp41"),
	S("mp4-mp42", "video/mp4", "\0\0\0\x10" "ftypmp42\0\0\0\0"),
	S("m4v", "video/mp4", "\0\0\0\x10" "ftypM4V \0\0\0\0"),
	S("m4a", "audio/mp4", "\0\0\0\x18" "ftypM4A \0\0\0\0M4A mp42"),
	S("quicktime", "video/quicktime", "\0\0\0\x14" "ftypqt  \0\0\x02\0qt  "),
	/* an unknown major brand, but a known compatible one */
	S("mp4-compatible", "video/mp4", "\0\0\0\x1C" "ftypXYZ1\0\0\0\0abcdefghmp42"),
	S("mp3-id3v2.3", "audio/mpeg", "ID3\x03\0\0\0\0\x0F\x76"),
	S("mp3-id3v2.4", "audio/mpeg", "ID3\x04\0\0\0\0\0\0"),
	S("mp3-frame", "audio/mpeg", "\xFF\xFB\x90\x64"),     /* MPEG-1 Layer III 128 kbit/s 44.1 kHz */
	S("mp3-frame-v2", "audio/mpeg", "\xFF\xF3\x48\xC4"),  /* MPEG-2 Layer III */
	S("ogg", "audio/ogg", "OggS\0\x02\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\x01\x1E\x01vorbis"),
	S("ogg-theora", "video/ogg", "OggS\0\x02\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\x01\x2A\x80theora"),
	S("bmp", "image/bmp", "BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0"),
	S("tiff-le", "image/tiff", "II*\0\x08\0\0\0"),
	S("tiff-be", "image/tiff", "MM\0*\0\0\0\x08"),
	S("zip", "application/zip", "PK\x03\x04\x14\0\0\0"),
	S("zip-empty", "application/zip", "PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
	S("text", "text/plain", "Hello, world.\n"),
	S("text-utf8", "text/plain", "K\xC3\xA4se \xE2\x82\xAC \xF0\x9F\x98\x80\n"),
	S("text-bom", "text/plain", "\xEF\xBB\xBFhi"),
	S("text-controls", "text/plain", "a\tb\r\nc\fd"),
};

static int known(const char *t)
{
	size_t i;

	for (i = 0; gcmsg__mime_types[i]; i++)
		if (gcmsg__mime_types[i] == t)
			return 1;
	return 0;
}

/* Copy to the heap with nothing after it, so ASan sees any read past len. */
static const char *sniff_exact(const unsigned char *d, size_t len)
{
	unsigned char *copy = malloc(len ? len : 1);
	const char *t;

	assert_non_null(copy);
	memcpy(copy, d, len);
	t = gcmsg_mime_sniff(copy, len);
	free(copy);
	return t;
}

static void test_every_type(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const char *t = sniff_exact(samples[i].data, samples[i].len);
		if (!t || strcmp(t, samples[i].type) != 0)
			fail_msg("%s: got %s, want %s", samples[i].name, t ? t : "NULL", samples[i].type);
		assert_true(known(t));
	}
}

/* A header with more content after it keeps its type. */
static void test_with_trailing_binary(void **state)
{
	unsigned char buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		if (strcmp(samples[i].type, "text/plain") == 0)
			continue;
		memcpy(buf, samples[i].data, samples[i].len);
		memset(buf + samples[i].len, 0, sizeof(buf) - samples[i].len);
		buf[sizeof(buf) - 1] = 0xFF;
		assert_string_equal(sniff_exact(buf, sizeof(buf)), samples[i].type);
	}
}

/*
 * Every proper prefix of a binary sample is its own type (when the prefix is
 * still a whole signature), text (its bytes may happen to be ASCII) or unknown.
 */
static void test_truncated(void **state)
{
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		if (strcmp(samples[i].type, "text/plain") == 0)
			continue;
		for (n = 0; n < samples[i].len; n++) {
			const char *t = sniff_exact(samples[i].data, n);
			/* a Theora stream cut before its first packet is still an Ogg stream */
			if (t && strcmp(t, "audio/ogg") == 0 && strcmp(samples[i].type, "video/ogg") == 0)
				continue;
			if (t && strcmp(t, "text/plain") != 0 && strcmp(t, samples[i].type) != 0)
				fail_msg("%s cut at %zu: %s", samples[i].name, n, t);
			if (t)
				assert_true(known(t));
		}
	}
	/* the minimal lengths: one byte short is no longer the type */
	assert_null(sniff_exact((const unsigned char *)"\xFF\xD8", 2));
	assert_null(sniff_exact((const unsigned char *)"\x89PNG\r\n\x1A", 7));
	assert_string_equal(sniff_exact((const unsigned char *)"GIF89", 5), "text/plain");
	assert_null(sniff_exact((const unsigned char *)"RIFF\x24\0\0\0WEB", 11));
	assert_string_equal(sniff_exact((const unsigned char *)"%PDF", 4), "text/plain");
	assert_null(sniff_exact((const unsigned char *)"\0\0\0\x18" "ftypiso", 11));
	assert_null(sniff_exact((const unsigned char *)"ID3\x03\0\0\0\0\x0F", 9));
	assert_null(sniff_exact((const unsigned char *)"\xFF\xFB\x90", 3));
	assert_string_equal(sniff_exact((const unsigned char *)"OggS", 4), "text/plain");
	assert_null(sniff_exact((const unsigned char *)"BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0", 17));
	assert_string_equal(sniff_exact((const unsigned char *)"II*", 3), "text/plain");
	assert_null(sniff_exact((const unsigned char *)"PK\x03", 3)); /* a control character: not text */
	assert_null(sniff_exact((const unsigned char *)"", 0));
	assert_null(gcmsg_mime_sniff(NULL, 10));
}

/* Near misses are not taken for the type. */
static void test_near_misses(void **state)
{
	(void)state;
	/* an ftyp box of an unknown brand only */
	assert_null(sniff_exact((const unsigned char *)"\0\0\0\x14" "ftypXXXX\0\0\0\0YYYY", 20));
	/* an ftyp box size that cannot be one */
	assert_null(sniff_exact((const unsigned char *)"\0\0\0\x08" "ftypisom\0\0\0\0", 16));
	assert_null(sniff_exact((const unsigned char *)"\x7F\0\0\x10" "ftypisom\0\0\0\0", 16));
	/* RIFF of another kind (AVI) */
	assert_null(sniff_exact((const unsigned char *)"RIFF\x24\0\0\0AVI LIST", 16));
	/* frame sync but Layer I, a reserved version, a bad bitrate, a reserved rate */
	assert_null(sniff_exact((const unsigned char *)"\xFF\xFF\x90\x64", 4));
	assert_null(sniff_exact((const unsigned char *)"\xFF\xEB\x90\x64", 4));
	assert_null(sniff_exact((const unsigned char *)"\xFF\xFB\xF0\x64", 4));
	assert_null(sniff_exact((const unsigned char *)"\xFF\xFB\x9C\x64", 4));
	/* AAC ADTS (layer bits 00) is not MP3 */
	assert_null(sniff_exact((const unsigned char *)"\xFF\xF1\x50\x80", 4));
	/* ID3 with a non-sync-safe size, or version 5 */
	assert_null(sniff_exact((const unsigned char *)"ID3\x03\0\0\x80\0\0\0", 10));
	assert_null(sniff_exact((const unsigned char *)"ID3\x05\0\0\0\0\0\x01", 10));
	/* "BM" text is text, not a bitmap */
	assert_string_equal(sniff_exact((const unsigned char *)"BM is a text file", 17), "text/plain");
	/* a bitmap with an unknown DIB header size */
	assert_null(sniff_exact((const unsigned char *)"BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x29\0\0\0", 18));
	/* "OggS" followed by a bad version */
	assert_null(sniff_exact((const unsigned char *)"OggS\x01\x02\0\0", 8));
}

static void test_text_rules(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		int text;
	} v[] = {
		{ "plain", 5, 1 },
		{ "nul\0inside", 10, 0 },
		{ "\xC3\xA4", 2, 1 },            /* U+00E4 */
		{ "\xC3", 1, 0 },                /* cut */
		{ "\xC0\xAF", 2, 0 },            /* overlong '/' */
		{ "\xC1\xBF", 2, 0 },            /* overlong */
		{ "\xE0\x80\xAF", 3, 0 },        /* overlong */
		{ "\xE0\xA0\x80", 3, 1 },        /* U+0800 */
		{ "\xED\xA0\x80", 3, 0 },        /* surrogate U+D800 */
		{ "\xED\x9F\xBF", 3, 1 },        /* U+D7FF */
		{ "\xEF\xBF\xBF", 3, 1 },        /* U+FFFF */
		{ "\xF0\x8F\xBF\xBF", 4, 0 },    /* overlong */
		{ "\xF0\x90\x80\x80", 4, 1 },    /* U+10000 */
		{ "\xF4\x8F\xBF\xBF", 4, 1 },    /* U+10FFFF */
		{ "\xF4\x90\x80\x80", 4, 0 },    /* above U+10FFFF */
		{ "\xF5\x80\x80\x80", 4, 0 },
		{ "\x80", 1, 0 },                /* lone continuation */
		{ "a\xE2\x82", 3, 0 },           /* cut */
		{ "a\xE2\x28\xA1", 4, 0 },       /* bad continuation */
		{ "\xFE\xFF\0h\0i", 6, 0 },      /* UTF-16 */
		{ "esc \x1B[0m", 8, 0 },         /* C0 control */
		{ "bell\a", 5, 0 },
		{ "del\x7F", 4, 0 },
		{ "nel \xC2\x85", 6, 0 },       /* C1 control U+0085 */
		{ "\xC2\x9F", 2, 0 },            /* U+009F */
		{ "nbsp \xC2\xA0", 7, 1 },      /* U+00A0 */
		{ "t\tn\nr\rf\f", 8, 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *t = sniff_exact((const unsigned char *)v[i].s, v[i].n);
		if ((t != NULL) != v[i].text || (t && strcmp(t, "text/plain") != 0))
			fail_msg("text case %zu: got %s", i, t ? t : "NULL");
	}
}

/* The prefix mode forgives a sequence cut by the end of the prefix, and nothing else. */
static void test_partial(void **state)
{
	(void)state;
	assert_null(gcmsg__mime_sniff((const unsigned char *)"abc\xE2\x82", 5, 0));
	assert_string_equal(gcmsg__mime_sniff((const unsigned char *)"abc\xE2\x82", 5, 1), "text/plain");
	assert_string_equal(gcmsg__mime_sniff((const unsigned char *)"abc\xF0", 4, 1), "text/plain");
	assert_null(gcmsg__mime_sniff((const unsigned char *)"abc\xE2\x28", 5, 1));
	assert_null(gcmsg__mime_sniff((const unsigned char *)"ab\0c", 4, 1));
	assert_null(gcmsg__mime_sniff((const unsigned char *)"abc\xC0", 4, 1));
	assert_string_equal(gcmsg__mime_sniff((const unsigned char *)"\x89PNG\r\n\x1A\n", 8, 1), "image/png");
}

/* The list of types is what the header documents, with no duplicates. */
static void test_type_list(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; gcmsg__mime_types[i]; i++)
		for (j = i + 1; gcmsg__mime_types[j]; j++)
			assert_string_not_equal(gcmsg__mime_types[i], gcmsg__mime_types[j]);
	assert_int_equal(i, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type),
		cmocka_unit_test(test_with_trailing_binary),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_near_misses),
		cmocka_unit_test(test_text_rules),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_type_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
