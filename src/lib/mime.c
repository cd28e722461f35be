/*
 * mime.c - the type of a file from its first bytes, never from its name.
 * Signatures: JPEG, PNG, GIF87a/89a, WebP and WAV (RIFF), PDF, ISO base media
 * (ftyp box: MP4, M4V, M4A, QuickTime), MP3 (ID3 tag or a Layer III frame
 * header), Ogg, BMP, TIFF, ZIP; then UTF-8 text. Anything else is unknown
 * (NULL). Every check reads within `len`: inputs may be short.
 */
#include <string.h>

#include "gcmsg/media.h"
#include "mime.h"

#define T_JPEG "image/jpeg"
#define T_PNG "image/png"
#define T_GIF "image/gif"
#define T_WEBP "image/webp"
#define T_BMP "image/bmp"
#define T_TIFF "image/tiff"
#define T_PDF "application/pdf"
#define T_ZIP "application/zip"
#define T_MP4 "video/mp4"
#define T_QT "video/quicktime"
#define T_M4A "audio/mp4"
#define T_MP3 "audio/mpeg"
#define T_OGG "audio/ogg"
#define T_OGV "video/ogg"
#define T_WAV "audio/wav"
#define T_TEXT "text/plain"

const char *const gcmsg__mime_types[] = {
	T_JPEG, T_PNG, T_GIF, T_WEBP, T_BMP, T_TIFF, T_PDF, T_ZIP, T_MP4,
	T_QT,   T_M4A, T_MP3, T_OGG,  T_OGV, T_WAV,  T_TEXT, NULL,
};

static int starts(const unsigned char *d, size_t len, size_t off, const char *magic, size_t mlen)
{
	return len >= off + mlen && memcmp(d + off, magic, mlen) == 0;
}
#define STARTS(d, len, off, lit) starts((d), (len), (off), (lit), sizeof(lit) - 1)

static unsigned long be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

static unsigned long le32(const unsigned char *p)
{
	return (unsigned long)p[3] << 24 | (unsigned long)p[2] << 16 | (unsigned long)p[1] << 8 | p[0];
}

/* The type of one ISO base media brand, or NULL. */
static const char *brand_type(const unsigned char *b)
{
	static const struct {
		char brand[5];
		const char *type;
	} brands[] = {
		{ "isom", T_MP4 }, { "iso2", T_MP4 }, { "iso4", T_MP4 }, { "iso5", T_MP4 }, { "iso6", T_MP4 },
		{ "mp41", T_MP4 }, { "mp42", T_MP4 }, { "avc1", T_MP4 }, { "M4V ", T_MP4 }, { "M4VH", T_MP4 },
		{ "M4VP", T_MP4 }, { "MSNV", T_MP4 }, { "dash", T_MP4 }, { "M4A ", T_M4A }, { "M4B ", T_M4A },
		{ "qt  ", T_QT },
	};
	size_t i;

	for (i = 0; i < sizeof(brands) / sizeof(brands[0]); i++)
		if (memcmp(b, brands[i].brand, 4) == 0)
			return brands[i].type;
	return NULL;
}

/*
 * ISO base media file (ISO/IEC 14496-12): the first box is `ftyp`: size (32-bit
 * big endian), "ftyp", major brand, minor version, compatible brands. The major
 * brand decides; when we do not know it, the first known compatible brand does.
 */
static const char *ftyp(const unsigned char *d, size_t len)
{
	unsigned long size;
	size_t end, off;
	const char *t;

	if (len < 12 || memcmp(d + 4, "ftyp", 4) != 0)
		return NULL;
	size = be32(d);
	if (size < 16 || size > 4096 || size % 4)
		return NULL; /* an ftyp box holds a few brands, four bytes each */
	if ((t = brand_type(d + 8)) != NULL)
		return t;
	end = len < size ? len : (size_t)size;
	for (off = 16; off + 4 <= end; off += 4)
		if ((t = brand_type(d + off)) != NULL)
			return t;
	return NULL;
}

/* MPEG audio frame header of Layer III (MP3): 11 sync bits, then valid fields. */
static int mp3_frame(const unsigned char *d, size_t len)
{
	unsigned version, layer, bitrate, rate;

	if (len < 4 || d[0] != 0xFF || (d[1] & 0xE0) != 0xE0)
		return 0;
	version = (d[1] >> 3) & 3; /* 1 is reserved */
	layer = (d[1] >> 1) & 3;   /* 1 is Layer III */
	bitrate = d[2] >> 4;       /* 0 "free", 15 bad */
	rate = (d[2] >> 2) & 3;    /* 3 reserved */
	return version != 1 && layer == 1 && bitrate != 0 && bitrate != 15 && rate != 3;
}

/* ID3v2 tag: "ID3", major version 2..4, revision below 0xFF, four sync-safe size bytes. */
static int id3(const unsigned char *d, size_t len)
{
	return len >= 10 && memcmp(d, "ID3", 3) == 0 && d[3] >= 2 && d[3] <= 4 && d[4] != 0xFF &&
	       !((d[6] | d[7] | d[8] | d[9]) & 0x80);
}

/* Windows bitmap: "BM", reserved words zero, a known DIB header size at 14. */
static int bmp(const unsigned char *d, size_t len)
{
	unsigned long dib;

	if (len < 18 || d[0] != 'B' || d[1] != 'M' || d[6] || d[7] || d[8] || d[9])
		return 0;
	dib = le32(d + 14);
	return dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 || dib == 124;
}

/*
 * Text: strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF)
 * without control characters but tab, line feed, carriage return and form feed
 * (no NUL, no other C0, no DEL, no C1: binary data that happens to be valid UTF-8
 * mostly has some). With `partial`, a sequence cut by the end of the data is
 * accepted.
 */
static int utf8_text(const unsigned char *d, size_t len, int partial)
{
	size_t i = 0, k, n;

	while (i < len) {
		unsigned char c = d[i];
		unsigned char lo = 0x80, hi = 0xBF;

		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7F)
				return 0;
			i++;
			continue;
		}
		if (c == 0xC2)
			lo = 0xA0; /* U+0080..U+009F are the C1 controls */
		if (c >= 0xC2 && c <= 0xDF)
			n = 1;
		else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			if (c == 0xE0)
				lo = 0xA0; /* overlong */
			else if (c == 0xED)
				hi = 0x9F; /* surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			if (c == 0xF0)
				lo = 0x90; /* overlong */
			else if (c == 0xF4)
				hi = 0x8F; /* above U+10FFFF */
		} else
			return 0;
		for (k = 1; k <= n; k++) {
			if (i + k >= len)
				return partial; /* cut by the end of the data */
			if (d[i + k] < (k == 1 ? lo : 0x80) || d[i + k] > (k == 1 ? hi : 0xBF))
				return 0;
		}
		i += n + 1;
	}
	return 1;
}

const char *gcmsg__mime_sniff(const unsigned char *d, size_t len, int partial)
{
	const char *t;

	if (!d || len == 0)
		return NULL;
	if (STARTS(d, len, 0, "\xFF\xD8\xFF"))
		return T_JPEG;
	if (STARTS(d, len, 0, "\x89PNG\r\n\x1A\n"))
		return T_PNG;
	if (STARTS(d, len, 0, "GIF87a") || STARTS(d, len, 0, "GIF89a"))
		return T_GIF;
	if (STARTS(d, len, 0, "RIFF") && STARTS(d, len, 8, "WEBP"))
		return T_WEBP;
	if (STARTS(d, len, 0, "RIFF") && STARTS(d, len, 8, "WAVE"))
		return T_WAV;
	if (STARTS(d, len, 0, "%PDF-"))
		return T_PDF;
	if ((t = ftyp(d, len)) != NULL)
		return t;
	if (id3(d, len) || mp3_frame(d, len))
		return T_MP3;
	if (STARTS(d, len, 0, "OggS\0"))
		/* the first page's first packet: a Theora header makes it a video */
		return STARTS(d, len, 28, "\x80theora") ? T_OGV : T_OGG;
	if (bmp(d, len))
		return T_BMP;
	if (STARTS(d, len, 0, "II*\0") || STARTS(d, len, 0, "MM\0*"))
		return T_TIFF;
	/* local file header, or the end record of an empty archive; docx, xlsx, jar... are ZIP too */
	if (STARTS(d, len, 0, "PK\x03\x04") || STARTS(d, len, 0, "PK\x05\x06"))
		return T_ZIP;
	if (utf8_text(d, len, partial))
		return T_TEXT;
	return NULL;
}

const char *gcmsg_mime_sniff(const unsigned char *data, size_t len)
{
	return gcmsg__mime_sniff(data, len, 0);
}
