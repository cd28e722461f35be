/*
 * html_text.c - gcmsg_html_to_text: flatten the text/html of a canned
 * response into plain text for a messaging channel.
 *
 * A small, tolerant, hand-written tokenizer (no HTML library): it never
 * fails on malformed markup, it just does what a reader would expect.
 *
 * Tokens. Tag names are matched case-insensitively; attribute values may be
 * double-quoted, single-quoted or unquoted, and their entities are decoded.
 * `<!-- ... -->` comments (also `--!>`, `<!-->`), `<!DOCTYPE ...>`, `<?...>`
 * and other `<!...>` declarations are dropped. `<![CDATA[...]]>` contributes
 * its content as literal text (no entity decoding). A `<` that does not start
 * a tag (`a < b`, `<3`) is text. A tag cut off by the end of the input is
 * dropped. Misnested and unclosed tags are tolerated: an end tag closes the
 * nearest open element of that name and everything opened after it; an end
 * tag with no open element is ignored (a block end tag still ends the
 * paragraph); `<li>`, `<td>`/`<th>`, `<tr>` and `<a>` close an open one of
 * their kind, as browsers do.
 *
 * Dropped with their content: script, style, title, textarea, iframe,
 * noembed, noframes (raw text up to the matching end tag), and template,
 * noscript, svg, math, object, select.
 *
 * Layout.
 *  - Blocks (p, div, section, article, aside, header, footer, main, nav,
 *    h1-h6, blockquote, address, center, details, summary, dialog, fieldset,
 *    legend, form, figure, figcaption, hgroup, dl, pre, listing, table, hr,
 *    and ul/ol/menu/dir at the top level) are separated by one blank line.
 *  - <br> (and `</br>`) is a line break; tr, dt, dd, caption and li start a
 *    new line.
 *  - Lists: a top-level list is a block (so a list right after a paragraph
 *    has a blank line before it); a nested list starts on the next line.
 *    Items are "- text" (ul, menu, dir, or an li outside a list) or
 *    "N. text" (ol: from start=, 1 by default; li value= resets the number;
 *    type= and reversed are not honoured), indented by two spaces per nesting
 *    level beyond the first (at most 10 levels deep: 18 spaces). Further lines
 *    of an item (after a <br> or a paragraph inside it) are aligned with the
 *    item's text. An item with no text shows no marker.
 *  - Tables: one line per row, cells separated by " | "; line breaks and
 *    blocks inside a cell become a space.
 *  - Links: "text (url)"; just the text when the text is the url (compared
 *    case-insensitively, with or without the http:// or https:// scheme and a
 *    trailing '/'), when the url is mailto:text (ignoring a ?query) or tel:text
 *    (comparing only digits and '+'); just the url when the link has no text.
 *    No url at all without href, for "#fragment" links, and for javascript:,
 *    vbscript: and data: urls. Tabs and line breaks inside an href are
 *    removed, as browsers do.
 *  - <img>: its alt text, if any.
 *
 * Characters.
 *  - Entities: the HTML 4 named set plus &apos; (case-sensitive, ';'
 *    required; an unknown name or a missing ';' leaves the text as written),
 *    and numeric &#NNN; / &#xHH; (';' optional). A numeric reference to 0, to
 *    a surrogate, beyond U+10FFFF or too long is U+FFFD; 128-159 are read as
 *    Windows-1252, as browsers do. Decoding happens once: "&amp;lt;" is "&lt;".
 *  - &nbsp; (and a raw U+00A0) is a plain space that is not collapsed.
 *  - Outside <pre>, runs of whitespace (space, tab, CR, LF, FF) collapse to one
 *    space, and disappear at the start and end of a line. Inside <pre> spaces,
 *    tabs and line breaks are kept (CRLF and CR become LF; a line break right
 *    after <pre> is dropped).
 *  - Invalid UTF-8 becomes U+FFFD (one per offending byte); control characters
 *    other than LF and tab (C0, DEL, C1) and U+FEFF are dropped. The output is
 *    always valid UTF-8.
 *  - Every line is right-trimmed, there is never more than one blank line in a
 *    row (inside <pre> too), and the result is trimmed.
 *
 * Caps: input at most 1 MiB, output at most 4 MiB (GCMSG_EUSAGE beyond).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "template.h"

#define HTML_IN_CAP ((size_t)1024 * 1024)
#define HTML_OUT_CAP ((size_t)4 * 1024 * 1024)
#define STACK_CAP 256      /* open elements that matter for layout; deeper ones are inline */
#define INDENT_LEVELS 10   /* list levels that add indentation */
#define NUM_LIMIT 999999999L

/* ---- entities ---- */

typedef struct entity {
	const char *name;
	unsigned long cp;
} entity;

/* The HTML 4 set and &apos;, sorted by strcmp for bsearch. */
static const entity entities[] = {
	{ "AElig", 0x00C6 }, { "Aacute", 0x00C1 }, { "Acirc", 0x00C2 }, { "Agrave", 0x00C0 },
	{ "Alpha", 0x0391 }, { "Aring", 0x00C5 }, { "Atilde", 0x00C3 }, { "Auml", 0x00C4 },
	{ "Beta", 0x0392 }, { "Ccedil", 0x00C7 }, { "Chi", 0x03A7 }, { "Dagger", 0x2021 },
	{ "Delta", 0x0394 }, { "ETH", 0x00D0 }, { "Eacute", 0x00C9 }, { "Ecirc", 0x00CA },
	{ "Egrave", 0x00C8 }, { "Epsilon", 0x0395 }, { "Eta", 0x0397 }, { "Euml", 0x00CB },
	{ "Gamma", 0x0393 }, { "Iacute", 0x00CD }, { "Icirc", 0x00CE }, { "Igrave", 0x00CC },
	{ "Iota", 0x0399 }, { "Iuml", 0x00CF }, { "Kappa", 0x039A }, { "Lambda", 0x039B },
	{ "Mu", 0x039C }, { "Ntilde", 0x00D1 }, { "Nu", 0x039D }, { "OElig", 0x0152 },
	{ "Oacute", 0x00D3 }, { "Ocirc", 0x00D4 }, { "Ograve", 0x00D2 }, { "Omega", 0x03A9 },
	{ "Omicron", 0x039F }, { "Oslash", 0x00D8 }, { "Otilde", 0x00D5 }, { "Ouml", 0x00D6 },
	{ "Phi", 0x03A6 }, { "Pi", 0x03A0 }, { "Prime", 0x2033 }, { "Psi", 0x03A8 }, { "Rho", 0x03A1 },
	{ "Scaron", 0x0160 }, { "Sigma", 0x03A3 }, { "THORN", 0x00DE }, { "Tau", 0x03A4 },
	{ "Theta", 0x0398 }, { "Uacute", 0x00DA }, { "Ucirc", 0x00DB }, { "Ugrave", 0x00D9 },
	{ "Upsilon", 0x03A5 }, { "Uuml", 0x00DC }, { "Xi", 0x039E }, { "Yacute", 0x00DD },
	{ "Yuml", 0x0178 }, { "Zeta", 0x0396 }, { "aacute", 0x00E1 }, { "acirc", 0x00E2 },
	{ "acute", 0x00B4 }, { "aelig", 0x00E6 }, { "agrave", 0x00E0 }, { "alefsym", 0x2135 },
	{ "alpha", 0x03B1 }, { "amp", 0x0026 }, { "and", 0x2227 }, { "ang", 0x2220 }, { "apos", 0x0027 },
	{ "aring", 0x00E5 }, { "asymp", 0x2248 }, { "atilde", 0x00E3 }, { "auml", 0x00E4 },
	{ "bdquo", 0x201E }, { "beta", 0x03B2 }, { "brvbar", 0x00A6 }, { "bull", 0x2022 },
	{ "cap", 0x2229 }, { "ccedil", 0x00E7 }, { "cedil", 0x00B8 }, { "cent", 0x00A2 },
	{ "chi", 0x03C7 }, { "circ", 0x02C6 }, { "clubs", 0x2663 }, { "cong", 0x2245 },
	{ "copy", 0x00A9 }, { "crarr", 0x21B5 }, { "cup", 0x222A }, { "curren", 0x00A4 },
	{ "dArr", 0x21D3 }, { "dagger", 0x2020 }, { "darr", 0x2193 }, { "deg", 0x00B0 },
	{ "delta", 0x03B4 }, { "diams", 0x2666 }, { "divide", 0x00F7 }, { "eacute", 0x00E9 },
	{ "ecirc", 0x00EA }, { "egrave", 0x00E8 }, { "empty", 0x2205 }, { "emsp", 0x2003 },
	{ "ensp", 0x2002 }, { "epsilon", 0x03B5 }, { "equiv", 0x2261 }, { "eta", 0x03B7 },
	{ "eth", 0x00F0 }, { "euml", 0x00EB }, { "euro", 0x20AC }, { "exist", 0x2203 },
	{ "fnof", 0x0192 }, { "forall", 0x2200 }, { "frac12", 0x00BD }, { "frac14", 0x00BC },
	{ "frac34", 0x00BE }, { "frasl", 0x2044 }, { "gamma", 0x03B3 }, { "ge", 0x2265 },
	{ "gt", 0x003E }, { "hArr", 0x21D4 }, { "harr", 0x2194 }, { "hearts", 0x2665 },
	{ "hellip", 0x2026 }, { "iacute", 0x00ED }, { "icirc", 0x00EE }, { "iexcl", 0x00A1 },
	{ "igrave", 0x00EC }, { "image", 0x2111 }, { "infin", 0x221E }, { "int", 0x222B },
	{ "iota", 0x03B9 }, { "iquest", 0x00BF }, { "isin", 0x2208 }, { "iuml", 0x00EF },
	{ "kappa", 0x03BA }, { "lArr", 0x21D0 }, { "lambda", 0x03BB }, { "lang", 0x27E8 },
	{ "laquo", 0x00AB }, { "larr", 0x2190 }, { "lceil", 0x2308 }, { "ldquo", 0x201C },
	{ "le", 0x2264 }, { "lfloor", 0x230A }, { "lowast", 0x2217 }, { "loz", 0x25CA },
	{ "lrm", 0x200E }, { "lsaquo", 0x2039 }, { "lsquo", 0x2018 }, { "lt", 0x003C },
	{ "macr", 0x00AF }, { "mdash", 0x2014 }, { "micro", 0x00B5 }, { "middot", 0x00B7 },
	{ "minus", 0x2212 }, { "mu", 0x03BC }, { "nabla", 0x2207 }, { "nbsp", 0x00A0 },
	{ "ndash", 0x2013 }, { "ne", 0x2260 }, { "ni", 0x220B }, { "not", 0x00AC }, { "notin", 0x2209 },
	{ "nsub", 0x2284 }, { "ntilde", 0x00F1 }, { "nu", 0x03BD }, { "oacute", 0x00F3 },
	{ "ocirc", 0x00F4 }, { "oelig", 0x0153 }, { "ograve", 0x00F2 }, { "oline", 0x203E },
	{ "omega", 0x03C9 }, { "omicron", 0x03BF }, { "oplus", 0x2295 }, { "or", 0x2228 },
	{ "ordf", 0x00AA }, { "ordm", 0x00BA }, { "oslash", 0x00F8 }, { "otilde", 0x00F5 },
	{ "otimes", 0x2297 }, { "ouml", 0x00F6 }, { "para", 0x00B6 }, { "part", 0x2202 },
	{ "permil", 0x2030 }, { "perp", 0x22A5 }, { "phi", 0x03C6 }, { "pi", 0x03C0 }, { "piv", 0x03D6 },
	{ "plusmn", 0x00B1 }, { "pound", 0x00A3 }, { "prime", 0x2032 }, { "prod", 0x220F },
	{ "prop", 0x221D }, { "psi", 0x03C8 }, { "quot", 0x0022 }, { "rArr", 0x21D2 },
	{ "radic", 0x221A }, { "rang", 0x27E9 }, { "raquo", 0x00BB }, { "rarr", 0x2192 },
	{ "rceil", 0x2309 }, { "rdquo", 0x201D }, { "real", 0x211C }, { "reg", 0x00AE },
	{ "rfloor", 0x230B }, { "rho", 0x03C1 }, { "rlm", 0x200F }, { "rsaquo", 0x203A },
	{ "rsquo", 0x2019 }, { "sbquo", 0x201A }, { "scaron", 0x0161 }, { "sdot", 0x22C5 },
	{ "sect", 0x00A7 }, { "shy", 0x00AD }, { "sigma", 0x03C3 }, { "sigmaf", 0x03C2 },
	{ "sim", 0x223C }, { "spades", 0x2660 }, { "sub", 0x2282 }, { "sube", 0x2286 }, { "sum", 0x2211 },
	{ "sup", 0x2283 }, { "sup1", 0x00B9 }, { "sup2", 0x00B2 }, { "sup3", 0x00B3 }, { "supe", 0x2287 },
	{ "szlig", 0x00DF }, { "tau", 0x03C4 }, { "there4", 0x2234 }, { "theta", 0x03B8 },
	{ "thetasym", 0x03D1 }, { "thinsp", 0x2009 }, { "thorn", 0x00FE }, { "tilde", 0x02DC },
	{ "times", 0x00D7 }, { "trade", 0x2122 }, { "uArr", 0x21D1 }, { "uacute", 0x00FA },
	{ "uarr", 0x2191 }, { "ucirc", 0x00FB }, { "ugrave", 0x00F9 }, { "uml", 0x00A8 },
	{ "upsih", 0x03D2 }, { "upsilon", 0x03C5 }, { "uuml", 0x00FC }, { "weierp", 0x2118 },
	{ "xi", 0x03BE }, { "yacute", 0x00FD }, { "yen", 0x00A5 }, { "yuml", 0x00FF }, { "zeta", 0x03B6 },
	{ "zwj", 0x200D }, { "zwnj", 0x200C },
};

static int entity_cmp(const void *key, const void *e)
{
	return strcmp((const char *)key, ((const entity *)e)->name);
}

/* Windows-1252 for &#128; - &#159; (0 where it has no character: left as C1, dropped) */
static const unsigned short cp1252[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,
	0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
	0x0153, 0, 0x017E, 0x0178,
};

static int is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The character reference at s[i] == '&': its code point and length, or 0
 * when it is not one (the '&' is then literal text).
 */
static size_t entity_at(const char *s, size_t len, size_t i, unsigned long *cp)
{
	size_t j = i + 1, n;
	char name[16];
	const entity *e;

	if (j < len && s[j] == '#') {
		unsigned long v = 0;
		int hex = 0, d, digits = 0, over = 0;
		j++;
		if (j < len && (s[j] == 'x' || s[j] == 'X')) {
			hex = 1;
			j++;
		}
		for (; j < len; j++) {
			d = hex ? hexval((unsigned char)s[j]) : (s[j] >= '0' && s[j] <= '9' ? s[j] - '0' : -1);
			if (d < 0)
				break;
			digits++;
			if (v > 0x10FFFF)
				over = 1;
			else
				v = v * (hex ? 16 : 10) + (unsigned long)d;
		}
		if (!digits)
			return 0;
		if (j < len && s[j] == ';')
			j++;
		if (over || v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			v = 0xFFFD;
		else if (v >= 0x80 && v <= 0x9F && cp1252[v - 0x80])
			v = cp1252[v - 0x80];
		*cp = v;
		return j - i;
	}
	for (n = 0; j < len && n < sizeof(name) - 1 && is_alnum((unsigned char)s[j]); j++)
		name[n++] = s[j];
	if (n == 0 || j >= len || s[j] != ';')
		return 0;
	name[n] = '\0';
	e = bsearch(name, entities, sizeof(entities) / sizeof(entities[0]), sizeof(entities[0]), entity_cmp);
	if (!e)
		return 0;
	*cp = e->cp;
	return j + 1 - i;
}

static size_t utf8_encode(unsigned long cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* One character of text at s[i]: a code point (U+FFFD for a bad byte) and its length. */
static size_t char_at(const char *s, size_t len, size_t i, unsigned long *cp)
{
	size_t n = gcmsg__utf8_decode(s + i, len - i, cp);

	if (n == 0) {
		*cp = 0xFFFD;
		n = 1;
	}
	return n;
}

/* ---- tags ---- */

enum tag {
	T_OTHER = 0,
	T_A, T_BR, T_IMG, T_P, T_HR, T_PRE, T_LISTING,
	T_UL, T_OL, T_MENU, T_DIR, T_LI, T_DL, T_DT, T_DD,
	T_TABLE, T_TR, T_TD, T_TH, T_CAPTION,
	T_BLOCK,
	/* raw text, dropped */
	T_SCRIPT, T_STYLE, T_TITLE, T_TEXTAREA, T_IFRAME, T_NOEMBED, T_NOFRAMES,
	/* parsed, dropped with their content */
	T_TEMPLATE, T_NOSCRIPT, T_SVG, T_MATH, T_OBJECT, T_SELECT
};

static const struct {
	const char *name;
	enum tag tag;
} tag_names[] = {
	{ "a", T_A }, { "address", T_BLOCK }, { "article", T_BLOCK }, { "aside", T_BLOCK },
	{ "blockquote", T_BLOCK }, { "br", T_BR }, { "caption", T_CAPTION }, { "center", T_BLOCK },
	{ "dd", T_DD }, { "details", T_BLOCK }, { "dialog", T_BLOCK }, { "dir", T_DIR }, { "div", T_BLOCK },
	{ "dl", T_DL }, { "dt", T_DT }, { "fieldset", T_BLOCK }, { "figcaption", T_BLOCK },
	{ "figure", T_BLOCK }, { "footer", T_BLOCK }, { "form", T_BLOCK }, { "h1", T_BLOCK },
	{ "h2", T_BLOCK }, { "h3", T_BLOCK }, { "h4", T_BLOCK }, { "h5", T_BLOCK }, { "h6", T_BLOCK },
	{ "header", T_BLOCK }, { "hgroup", T_BLOCK }, { "hr", T_HR }, { "iframe", T_IFRAME },
	{ "img", T_IMG }, { "legend", T_BLOCK }, { "li", T_LI }, { "listing", T_LISTING },
	{ "main", T_BLOCK }, { "math", T_MATH }, { "menu", T_MENU }, { "nav", T_BLOCK },
	{ "noembed", T_NOEMBED }, { "noframes", T_NOFRAMES }, { "noscript", T_NOSCRIPT },
	{ "object", T_OBJECT }, { "ol", T_OL }, { "p", T_P }, { "pre", T_PRE }, { "script", T_SCRIPT },
	{ "section", T_BLOCK }, { "select", T_SELECT }, { "style", T_STYLE }, { "summary", T_BLOCK },
	{ "svg", T_SVG }, { "table", T_TABLE }, { "td", T_TD }, { "template", T_TEMPLATE },
	{ "textarea", T_TEXTAREA }, { "th", T_TH }, { "title", T_TITLE }, { "tr", T_TR },
	{ "ul", T_UL },
};

static int is_raw_drop(enum tag t)
{
	return t >= T_SCRIPT && t <= T_NOFRAMES;
}

static int is_parsed_drop(enum tag t)
{
	return t >= T_TEMPLATE && t <= T_SELECT;
}

static int is_tag_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static enum tag tag_lookup(const char *s, size_t n)
{
	size_t i, k;

	for (i = 0; i < sizeof(tag_names) / sizeof(tag_names[0]); i++) {
		const char *name = tag_names[i].name;
		for (k = 0; k < n && name[k] && lower(s[k]) == name[k]; k++)
			;
		if (k == n && name[k] == '\0')
			return tag_names[i].tag;
	}
	return T_OTHER;
}

static const char *tag_name(enum tag t)
{
	size_t i;

	for (i = 0; i < sizeof(tag_names) / sizeof(tag_names[0]); i++)
		if (tag_names[i].tag == t)
			return tag_names[i].name;
	return "";
}

/* A parsed tag: name, self-closing flag and the few attributes we read (spans in the input). */
typedef struct span {
	size_t off, len;
	int set;
} span;

typedef struct tag_tok {
	enum tag tag;
	int end, self_closing;
	span href, alt, start, value;
} tag_tok;

/*
 * Parse the tag at s[i] == '<' (start tag when s[i+1] is a letter, end tag
 * when s[i+1..] is "/" + letter). Returns the index after it, or len when the
 * input ends inside it (the tag is then dropped: t->tag = T_OTHER).
 */
static size_t parse_tag(const char *s, size_t len, size_t i, tag_tok *t)
{
	size_t j = i + 1, ns, vs, ve, an, ae;
	int sc = 0;

	memset(t, 0, sizeof(*t));
	if (s[j] == '/') {
		t->end = 1;
		j++;
	}
	ns = j;
	while (j < len && !is_tag_space(s[j]) && s[j] != '/' && s[j] != '>')
		j++;
	t->tag = tag_lookup(s + ns, j - ns);
	for (;;) {
		while (j < len && (is_tag_space(s[j]) || s[j] == '/')) {
			if (s[j] == '/')
				sc = 1;
			else
				sc = 0;
			j++;
		}
		if (j >= len)
			break;
		if (s[j] == '>') {
			t->self_closing = sc;
			return j + 1;
		}
		sc = 0;
		an = j;
		if (s[j] == '=')
			j++;
		while (j < len && !is_tag_space(s[j]) && s[j] != '/' && s[j] != '>' && s[j] != '=')
			j++;
		ae = j;
		while (j < len && is_tag_space(s[j]))
			j++;
		vs = ve = j;
		if (j < len && s[j] == '=') {
			j++;
			while (j < len && is_tag_space(s[j]))
				j++;
			if (j < len && (s[j] == '"' || s[j] == '\'')) {
				char q = s[j++];
				vs = j;
				while (j < len && s[j] != q)
					j++;
				ve = j;
				if (j >= len)
					break;
				j++;
			} else {
				vs = j;
				while (j < len && !is_tag_space(s[j]) && s[j] != '>')
					j++;
				ve = j;
			}
		}
		{
			span *dst = NULL;
			size_t n = ae - an;
			if (n == 4 && lower(s[an]) == 'h' && lower(s[an + 1]) == 'r' && lower(s[an + 2]) == 'e' &&
			    lower(s[an + 3]) == 'f')
				dst = &t->href;
			else if (n == 3 && lower(s[an]) == 'a' && lower(s[an + 1]) == 'l' && lower(s[an + 2]) == 't')
				dst = &t->alt;
			else if (n == 5 && lower(s[an]) == 's' && lower(s[an + 1]) == 't' && lower(s[an + 2]) == 'a' &&
			         lower(s[an + 3]) == 'r' && lower(s[an + 4]) == 't')
				dst = &t->start;
			else if (n == 5 && lower(s[an]) == 'v' && lower(s[an + 1]) == 'a' && lower(s[an + 2]) == 'l' &&
			         lower(s[an + 3]) == 'u' && lower(s[an + 4]) == 'e')
				dst = &t->value;
			if (dst && !dst->set) { /* the first occurrence wins */
				dst->off = vs;
				dst->len = ve - vs;
				dst->set = 1;
			}
		}
	}
	t->tag = T_OTHER;
	return len;
}

/* ---- the writer ---- */

enum frame_kind { F_LIST, F_LI, F_A, F_PRE, F_CELL, F_TR, F_TABLE };

typedef struct frame {
	enum frame_kind kind;
	enum tag tag;
	long counter;  /* F_LIST: the next number */
	int ordered;   /* F_LIST */
	size_t indent; /* F_LI: where further lines of the item start */
	size_t start;  /* F_A: output offset of the link text (once started) */
	int started;   /* F_A */
	char *href;    /* F_A: the url to show, or NULL */
} frame;

typedef struct writer {
	gcmsg_buf out;
	int fail;                /* GCMSG_EUSAGE (cap) or GCMSG_ERROR (memory) */
	int brk;                 /* newlines wanted before the next text: 1 line, 2 blank line */
	int space;               /* a collapsible space is pending */
	int sep;                 /* a cell separator is pending */
	int has_marker;          /* a list marker waits for the item's text */
	char marker[24];
	size_t marker_indent;
	size_t indent;           /* where lines of the innermost list item start */
	frame stack[STACK_CAP];
	size_t depth;
	int pre, pre_nl, cr;     /* open <pre>s; drop the next LF; last char was CR */
	int cells, lists;        /* open cells and lists */
	size_t row_cells;
	int link;                /* stack index of the open <a>, or -1 */
	enum tag drop_tag;       /* dropping the content of this element ... */
	size_t drop;             /* ... this deep */
} writer;

static void put_raw(writer *w, const char *p, size_t n)
{
	if (w->fail)
		return;
	if (n > w->out.cap - w->out.len) {
		w->fail = GCMSG_EUSAGE;
		return;
	}
	if (gcmsg__buf_append(&w->out, p, n) < 0)
		w->fail = GCMSG_ERROR;
}

static void put_spaces(writer *w, size_t n)
{
	static const char sp[] = "                        ";

	while (n > 0 && !w->fail) {
		size_t k = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;
		put_raw(w, sp, k);
		n -= k;
	}
}

static void rtrim_line(writer *w)
{
	while (w->out.len > 0 && (w->out.ptr[w->out.len - 1] == ' ' || w->out.ptr[w->out.len - 1] == '\t'))
		w->out.ptr[--w->out.len] = '\0';
}

static size_t trailing_newlines(const writer *w)
{
	size_t n = 0;

	while (n < w->out.len && n < 2 && w->out.ptr[w->out.len - 1 - n] == '\n')
		n++;
	return n;
}

/* A line break: right-trim the line; nothing at the very start; never a second blank line. */
static void newline(writer *w)
{
	rtrim_line(w);
	if (w->out.len == 0 || trailing_newlines(w) >= 2)
		return;
	put_raw(w, "\n", 1);
}

/* Make the output end with at least n line breaks (the pending block/line break). */
static void flush_break(writer *w)
{
	if (w->brk && w->out.len > 0) {
		rtrim_line(w);
		while (w->out.len > 0 && trailing_newlines(w) < (size_t)w->brk && !w->fail)
			newline(w);
	}
	w->brk = 0;
}

static void want_break(writer *w, int n)
{
	if (w->cells > 0)
		w->space = 1;
	else if (n > w->brk)
		w->brk = n;
}

/* <br>, or a line break inside <pre>: a line break that adds up */
static void hard_break(writer *w)
{
	if (w->cells > 0) {
		w->space = 1;
		return;
	}
	flush_break(w);
	newline(w);
	w->space = 0;
	w->sep = 0;
}

/* Visible text: pending breaks, separator, indentation or marker, space, then the bytes. */
static void put_visible(writer *w, const char *p, size_t n)
{
	int at_start;

	flush_break(w);
	at_start = w->out.len == 0 || w->out.ptr[w->out.len - 1] == '\n';
	if (w->sep) {
		if (!at_start)
			put_raw(w, " | ", 3);
		w->sep = 0;
		w->space = 0;
	}
	if (at_start) {
		if (w->has_marker) {
			put_spaces(w, w->marker_indent);
			put_raw(w, w->marker, strlen(w->marker));
		} else {
			put_spaces(w, w->indent);
		}
	} else if (w->has_marker) {
		put_raw(w, " ", 1);
		put_raw(w, w->marker, strlen(w->marker));
	} else if (w->space) {
		put_raw(w, " ", 1);
	}
	w->has_marker = 0;
	w->space = 0;
	if (w->link >= 0 && !w->stack[w->link].started) {
		w->stack[w->link].start = w->out.len;
		w->stack[w->link].started = 1;
	}
	put_raw(w, p, n);
}

/* One character of text (after entity and UTF-8 decoding). */
static void put_char(writer *w, unsigned long cp)
{
	char enc[4];
	int was_cr = w->cr, first = w->pre_nl;

	w->cr = 0;
	w->pre_nl = 0;
	if (cp == '\n' && was_cr)
		return; /* CRLF: one line break */
	if (cp == '\r' || cp == '\n') {
		w->cr = cp == '\r';
		if (!w->pre)
			w->space = 1;
		else if (!first)
			hard_break(w);
		return;
	}
	if (cp == ' ' || cp == '\t' || cp == '\f') {
		if (!w->pre)
			w->space = 1;
		else if (cp == '\t')
			put_visible(w, "\t", 1);
		else
			put_visible(w, " ", 1);
		return;
	}
	if (cp == 0xA0) {
		put_visible(w, " ", 1);
		return;
	}
	if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0xFEFF)
		return;
	put_visible(w, enc, utf8_encode(cp, enc));
}

/* Text s[i..end): entities decoded when `decode`, invalid UTF-8 repaired. */
static void put_text(writer *w, const char *s, size_t i, size_t end, int decode)
{
	unsigned long cp;
	size_t n;

	while (i < end && !w->fail) {
		if (decode && s[i] == '&' && (n = entity_at(s, end, i, &cp)) > 0) {
			put_char(w, cp);
			i += n;
			continue;
		}
		n = char_at(s, end, i, &cp);
		put_char(w, cp);
		i += n;
	}
}

/* ---- attribute values ---- */

/*
 * Decode an attribute value (entities, UTF-8 repair, controls dropped) into a
 * new string trimmed of spaces. Tabs and line breaks are removed from a url
 * (as browsers do), and are spaces elsewhere. NULL on out of memory.
 */
static char *attr_value(const char *s, span sp, int url)
{
	gcmsg_buf b = GCMSG_BUF_INIT(HTML_IN_CAP);
	size_t i = sp.off, end = sp.off + sp.len, n, a, z;
	unsigned long cp;
	char enc[4];
	char *r;

	while (i < end) {
		if (s[i] == '&' && (n = entity_at(s, end, i, &cp)) > 0)
			i += n;
		else
			i += char_at(s, end, i, &cp);
		if (cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f') {
			if (url)
				continue;
			cp = ' ';
		}
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0xFEFF)
			continue;
		if (cp == 0xA0)
			cp = ' ';
		if (gcmsg__buf_append(&b, enc, utf8_encode(cp, enc)) < 0) {
			gcmsg__buf_dispose(&b);
			return NULL;
		}
	}
	if (!b.ptr)
		return gcmsg__strdup("");
	for (a = 0; a < b.len && b.ptr[a] == ' '; a++)
		;
	for (z = b.len; z > a && b.ptr[z - 1] == ' '; z--)
		;
	memmove(b.ptr, b.ptr + a, z - a);
	b.ptr[z - a] = '\0';
	r = gcmsg__buf_detach(&b);
	return r;
}

static int prefix_ci(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (lower(*s) != *prefix)
			return 0;
	return 1;
}

/* The url a link shows, or NULL (none, a fragment, a script or data url). Takes href. */
static char *usable_url(char *href)
{
	if (!href || !*href || href[0] == '#' || prefix_ci(href, "javascript:") || prefix_ci(href, "vbscript:") ||
	    prefix_ci(href, "data:")) {
		free(href);
		return NULL;
	}
	return href;
}

static int eq_ci(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i;

	if (an != bn)
		return 0;
	for (i = 0; i < an; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

/* only digits and '+' of s[0..n), into o (at most 64); 0 when s holds anything but phone characters */
static size_t phone_digits(const char *s, size_t n, char *o)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];
		if ((c >= '0' && c <= '9') || c == '+') {
			if (k >= 64)
				return 0;
			o[k++] = c;
		} else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
			return 0;
		}
	}
	return k;
}

/* Whether a link's text says its url already. */
static int text_is_url(const char *text, size_t tn, const char *url)
{
	size_t un = strlen(url);
	const char *u = url;

	if (prefix_ci(url, "mailto:")) {
		const char *q = strchr(url + 7, '?');
		size_t an = q ? (size_t)(q - (url + 7)) : un - 7;
		if (eq_ci(text, tn, url + 7, an))
			return 1;
	}
	if (prefix_ci(url, "tel:")) {
		char a[64], b[64];
		size_t na = phone_digits(text, tn, a), nb = phone_digits(url + 4, un - 4, b);
		if (na > 0 && na == nb && memcmp(a, b, na) == 0)
			return 1;
	}
	if (tn > 0 && text[tn - 1] == '/')
		tn--;
	if (un > 0 && url[un - 1] == '/')
		un--;
	if (eq_ci(text, tn, u, un))
		return 1;
	if (prefix_ci(url, "http://")) {
		u += 7;
		un -= 7;
	} else if (prefix_ci(url, "https://")) {
		u += 8;
		un -= 8;
	} else {
		return 0;
	}
	return eq_ci(text, tn, u, un);
}

static void close_link(writer *w, frame *f)
{
	size_t a, z;

	w->link = -1;
	if (!f->href)
		return;
	if (!f->started || f->start > w->out.len) {
		put_visible(w, f->href, strlen(f->href));
	} else {
		for (a = f->start; a < w->out.len && (w->out.ptr[a] == ' ' || w->out.ptr[a] == '\n'); a++)
			;
		for (z = w->out.len; z > a && (w->out.ptr[z - 1] == ' ' || w->out.ptr[z - 1] == '\n' ||
		                               w->out.ptr[z - 1] == '\t');
		     z--)
			;
		if (z == a) {
			put_visible(w, f->href, strlen(f->href));
		} else if (!text_is_url(w->out.ptr + a, z - a, f->href)) {
			if (w->out.ptr[w->out.len - 1] == '\n') {
				put_visible(w, "(", 1);
			} else {
				put_raw(w, " (", 2);
			}
			put_raw(w, f->href, strlen(f->href));
			put_raw(w, ")", 1);
		}
	}
	free(f->href);
	f->href = NULL;
}

/* ---- the element stack ---- */

static void update_indent(writer *w)
{
	size_t k = w->depth;

	w->indent = 0;
	while (k-- > 0) {
		if (w->stack[k].kind == F_LI) {
			w->indent = w->stack[k].indent;
			return;
		}
	}
}

static frame *push(writer *w, enum frame_kind kind, enum tag tag)
{
	frame *f;

	if (w->depth >= STACK_CAP)
		return NULL;
	f = &w->stack[w->depth++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->tag = tag;
	return f;
}

/* Close the elements at stack index k and above, innermost first. */
static void pop_to(writer *w, size_t k)
{
	while (w->depth > k) {
		frame *f = &w->stack[w->depth - 1];
		switch (f->kind) {
		case F_LIST:
			w->lists--;
			want_break(w, w->lists == 0 ? 2 : 1);
			break;
		case F_LI:
			want_break(w, 1);
			w->has_marker = 0;
			break;
		case F_A:
			close_link(w, f);
			break;
		case F_PRE:
			w->pre--;
			want_break(w, 2);
			break;
		case F_CELL:
			w->cells--;
			break;
		case F_TR:
			want_break(w, 1);
			break;
		case F_TABLE:
			want_break(w, 2);
			break;
		}
		w->depth--;
	}
	update_indent(w);
}

/* The innermost open frame of `kind` (or with `tag`) above any of the `stop` kinds, or -1. */
static long find_frame(const writer *w, int kind, enum tag tag, unsigned stop_mask)
{
	size_t k = w->depth;

	while (k-- > 0) {
		const frame *f = &w->stack[k];
		if ((kind >= 0 && (int)f->kind == kind) || (tag != T_OTHER && f->tag == tag))
			return (long)k;
		if (stop_mask & (1u << f->kind))
			return -1;
	}
	return -1;
}

#define STOP(k) (1u << (k))

static long parse_long(const char *s, span sp)
{
	size_t i = sp.off, end = sp.off + sp.len;
	long v = 0;
	int neg = 0, digits = 0;

	while (i < end && is_tag_space(s[i]))
		i++;
	if (i < end && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < end && s[i] >= '0' && s[i] <= '9'; i++) {
		digits++;
		if (v < NUM_LIMIT)
			v = v * 10 + (s[i] - '0');
	}
	if (!digits)
		return LONG_MIN;
	if (v > NUM_LIMIT)
		v = NUM_LIMIT;
	return neg ? -v : v;
}

static void start_item(writer *w, const char *s, const tag_tok *t)
{
	long k = find_frame(w, F_LI, T_OTHER, STOP(F_LIST) | STOP(F_TABLE) | STOP(F_CELL));
	long list;
	frame *f;
	size_t level;

	if (k >= 0)
		pop_to(w, (size_t)k);
	want_break(w, 1);
	list = find_frame(w, F_LIST, T_OTHER, STOP(F_TABLE) | STOP(F_CELL));
	if (list >= 0 && w->stack[list].ordered) {
		frame *l = &w->stack[list];
		long v = t->value.set ? parse_long(s, t->value) : LONG_MIN;
		if (v != LONG_MIN)
			l->counter = v;
		snprintf(w->marker, sizeof(w->marker), "%ld. ", l->counter);
		if (l->counter < NUM_LIMIT)
			l->counter++;
	} else {
		snprintf(w->marker, sizeof(w->marker), "- ");
	}
	level = w->lists > 0 ? (size_t)w->lists - 1 : 0;
	if (level > INDENT_LEVELS - 1)
		level = INDENT_LEVELS - 1;
	w->marker_indent = 2 * level;
	w->has_marker = 1;
	f = push(w, F_LI, T_LI);
	if (f) {
		f->indent = w->marker_indent + strlen(w->marker);
		update_indent(w);
	}
}

static void start_tag(writer *w, const char *s, const tag_tok *t)
{
	frame *f;
	long k;

	switch (t->tag) {
	case T_BR:
		hard_break(w);
		break;
	case T_P:
	case T_HR:
	case T_BLOCK:
	case T_DL:
		want_break(w, 2);
		break;
	case T_DT:
	case T_DD:
	case T_CAPTION:
		want_break(w, 1);
		break;
	case T_PRE:
	case T_LISTING:
		want_break(w, 2);
		if ((f = push(w, F_PRE, t->tag)) != NULL) {
			w->pre++;
			w->pre_nl = 1;
		}
		break;
	case T_UL:
	case T_OL:
	case T_MENU:
	case T_DIR:
		want_break(w, w->lists == 0 ? 2 : 1);
		if ((f = push(w, F_LIST, t->tag)) != NULL) {
			w->lists++;
			f->ordered = t->tag == T_OL;
			f->counter = 1;
			if (f->ordered && t->start.set) {
				long v = parse_long(s, t->start);
				if (v != LONG_MIN)
					f->counter = v;
			}
		}
		break;
	case T_LI:
		start_item(w, s, t);
		break;
	case T_TABLE:
		want_break(w, 2);
		push(w, F_TABLE, T_TABLE);
		w->row_cells = 0;
		break;
	case T_TR:
		k = find_frame(w, F_TR, T_OTHER, STOP(F_TABLE));
		if (k >= 0) {
			pop_to(w, (size_t)k);
		} else {
			k = find_frame(w, F_TABLE, T_OTHER, 0);
			if (k >= 0)
				pop_to(w, (size_t)k + 1);
		}
		want_break(w, 1);
		push(w, F_TR, T_TR);
		w->row_cells = 0;
		break;
	case T_TD:
	case T_TH:
		k = find_frame(w, F_CELL, T_OTHER, STOP(F_TR) | STOP(F_TABLE));
		if (k >= 0)
			pop_to(w, (size_t)k);
		if (w->row_cells++ > 0)
			w->sep = 1;
		if (push(w, F_CELL, t->tag))
			w->cells++;
		break;
	case T_A:
		if (w->link >= 0)
			pop_to(w, (size_t)w->link);
		if ((f = push(w, F_A, T_A)) != NULL) {
			f->href = t->href.set ? usable_url(attr_value(s, t->href, 1)) : NULL;
			w->link = (int)(w->depth - 1);
		}
		break;
	case T_IMG:
		if (t->alt.set) {
			char *alt = attr_value(s, t->alt, 0);
			if (!alt)
				w->fail = GCMSG_ERROR;
			else
				put_text(w, alt, 0, strlen(alt), 0);
			free(alt);
		}
		break;
	default:
		break;
	}
}

static void end_tag(writer *w, const tag_tok *t)
{
	long k;

	switch (t->tag) {
	case T_BR:
		hard_break(w); /* `</br>` is a <br>, as in browsers */
		return;
	case T_P:
	case T_HR:
	case T_BLOCK:
	case T_DL:
		want_break(w, 2);
		return;
	case T_DT:
	case T_DD:
	case T_CAPTION:
		want_break(w, 1);
		return;
	case T_PRE:
	case T_LISTING:
	case T_UL:
	case T_OL:
	case T_MENU:
	case T_DIR:
	case T_LI:
	case T_TABLE:
	case T_TR:
	case T_TD:
	case T_TH:
	case T_A:
		k = find_frame(w, -1, t->tag, 0);
		if (k >= 0)
			pop_to(w, (size_t)k);
		else if (t->tag == T_PRE || t->tag == T_LISTING || t->tag == T_TABLE)
			want_break(w, 2);
		return;
	default:
		return;
	}
}

/* ---- the tokenizer ---- */

/* Index after the end tag `</name` (any case, then space, '/', '>' or the end) closing raw text. */
static size_t skip_raw(const char *s, size_t len, size_t i, const char *name)
{
	size_t n = strlen(name), k;

	for (; i + 1 < len; i++) {
		if (s[i] != '<' || s[i + 1] != '/' || len - (i + 2) < n)
			continue;
		for (k = 0; k < n && lower(s[i + 2 + k]) == name[k]; k++)
			;
		if (k == n && (i + 2 + n == len || is_tag_space(s[i + 2 + n]) || s[i + 2 + n] == '/' ||
		               s[i + 2 + n] == '>'))
			return i;
	}
	return len;
}

static size_t find(const char *s, size_t len, size_t i, const char *needle)
{
	size_t n = strlen(needle);

	for (; i + n <= len; i++)
		if (memcmp(s + i, needle, n) == 0)
			return i;
	return len;
}

static size_t skip_comment(const char *s, size_t len, size_t i)
{
	/* i is after "<!--"; "<!-->" and "<!--->" are whole comments */
	if (i < len && s[i] == '>')
		return i + 1;
	if (i + 1 < len && s[i] == '-' && s[i + 1] == '>')
		return i + 2;
	for (; i + 2 < len; i++) {
		if (s[i] != '-' || s[i + 1] != '-')
			continue;
		if (s[i + 2] == '>')
			return i + 3;
		if (s[i + 2] == '!' && i + 3 < len && s[i + 3] == '>')
			return i + 4;
	}
	return len;
}

enum markup { M_NONE, M_TAG, M_COMMENT, M_CDATA, M_BOGUS };

static enum markup markup_at(const char *s, size_t len, size_t i)
{
	if (i + 1 >= len)
		return M_NONE;
	if (is_alpha(s[i + 1]) || (s[i + 1] == '/' && i + 2 < len && is_alpha(s[i + 2])))
		return M_TAG;
	if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0)
		return M_COMMENT;
	if (len - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0)
		return M_CDATA;
	if (s[i + 1] == '!' || s[i + 1] == '?' || s[i + 1] == '/')
		return M_BOGUS;
	return M_NONE;
}

static size_t handle_tag(writer *w, const char *s, size_t len, size_t i)
{
	tag_tok t;
	size_t j = parse_tag(s, len, i, &t);

	w->pre_nl = 0; /* only a line break right after <pre> is dropped */
	if (w->drop) {
		if (t.tag == w->drop_tag && t.end)
			w->drop--;
		else if (t.tag == w->drop_tag && !t.self_closing)
			w->drop++;
	} else if (!t.end && is_parsed_drop(t.tag)) {
		if (!t.self_closing) {
			w->drop_tag = t.tag;
			w->drop = 1;
		}
	} else if (t.end) {
		end_tag(w, &t);
	} else {
		start_tag(w, s, &t);
	}
	if (!t.end && is_raw_drop(t.tag))
		j = skip_raw(s, len, j, tag_name(t.tag));
	return j;
}

static void run(writer *w, const char *s, size_t len)
{
	size_t i = 0, text = 0, j;
	enum markup m;

	while (i < len && !w->fail) {
		const char *lt = memchr(s + i, '<', len - i);
		if (!lt)
			break;
		i = (size_t)(lt - s);
		m = markup_at(s, len, i);
		if (m == M_NONE) { /* a '<' that starts nothing (`a < b`, `<3`) is text */
			i++;
			continue;
		}
		if (!w->drop)
			put_text(w, s, text, i, 1);
		switch (m) {
		case M_TAG:
			j = handle_tag(w, s, len, i);
			break;
		case M_COMMENT:
			j = skip_comment(s, len, i + 4);
			break;
		case M_CDATA:
			j = find(s, len, i + 9, "]]>");
			if (!w->drop)
				put_text(w, s, i + 9, j, 0);
			j = j < len ? j + 3 : len;
			break;
		default:
			j = find(s, len, i + 1, ">");
			j = j < len ? j + 1 : len;
			break;
		}
		i = text = j;
	}
	if (!w->drop && !w->fail)
		put_text(w, s, text, len, 1);
}

int gcmsg_html_to_text(char **out, const char *html, size_t len)
{
	writer *w;
	size_t a;
	int rc;

	if (!out)
		return GCMSG_EUSAGE;
	*out = NULL;
	if ((!html && len > 0) || len > HTML_IN_CAP)
		return GCMSG_EUSAGE;
	w = calloc(1, sizeof(*w));
	if (!w)
		return GCMSG_ERROR;
	gcmsg__buf_init(&w->out, HTML_OUT_CAP);
	w->link = -1;
	if (len > 0)
		run(w, html, len);
	pop_to(w, 0); /* closes open links too */
	rc = w->fail;
	if (rc) {
		gcmsg__buf_dispose(&w->out);
		free(w);
		return rc;
	}
	/* trim: lines are already right-trimmed; the end may hold line breaks, the start spaces */
	while (w->out.len > 0 && (w->out.ptr[w->out.len - 1] == '\n' || w->out.ptr[w->out.len - 1] == ' ' ||
	                          w->out.ptr[w->out.len - 1] == '\t'))
		w->out.ptr[--w->out.len] = '\0';
	for (a = 0; a < w->out.len && (w->out.ptr[a] == ' ' || w->out.ptr[a] == '\t' || w->out.ptr[a] == '\n'); a++)
		;
	if (!w->out.ptr) {
		*out = gcmsg__strdup("");
	} else {
		memmove(w->out.ptr, w->out.ptr + a, w->out.len - a + 1);
		w->out.len -= a;
		*out = gcmsg__buf_detach(&w->out);
	}
	free(w);
	return *out ? GCMSG_OK : GCMSG_ERROR;
}
