/*
 * detectors.c - the built-in detectors of the content policy: payment card
 * numbers, IBANs, US social security numbers, e-mail addresses, phone numbers
 * and credentials. Each is a hand-written scanner over bytes (no backtracking
 * regex, so no ReDoS): linear in the text, or linear times a small constant.
 * Only ASCII letters and digits are looked at; any other byte is a boundary.
 *
 * Definitions (docs/gcmsg-policy.5.md, "Detectors", says the same for users):
 *
 *  payment-card  13 to 19 digits, written together or in groups of 3 to 8
 *                digits joined by one space or one dash (the same separator
 *                throughout), Luhn-valid, with a plausible issuer prefix and
 *                length (see iin_ok). Not a part of a longer word or of a
 *                decimal number. In a longer run of groups, any consecutive
 *                groups are tried, however long the run and whatever
 *                separator came before (a card after an order number, a
 *                list of numbers or "2024-" is found).
 *  iban          a country code of the table below, two check digits and the
 *                rest, letters and digits, single spaces allowed between
 *                them; exactly the country's length; mod-97 == 1. Upper or
 *                lower case.
 *  us-ssn        AAA-GG-SSSS or AAA GG SSSS (one separator kind), area
 *                001-899 but 666, group 01-99, serial 0001-9999, not inside a
 *                longer number (joined to it by the SSN's own separator or
 *                - . /; a space next to a dashed SSN is a boundary). Nine digits written together are not flagged
 *                (order numbers and the like look the same).
 *  email         local@domain.tld: local part of letters, digits and ._%+-,
 *                a domain of two or more labels of letters, digits and -,
 *                the last one two or more letters.
 *  phone         '+' and 8 to 15 digits, or 10 to 15 digits with at least one
 *                separator (space, '-', '.', parentheses); not an IPv4
 *                address, not a run that starts like a date.
 *  credential    a key (letters, digits, _ - .) that ends with password/
 *                passwd/pwd/passphrase/secret/api_key/access_token/
 *                auth_token/private_key/access_key ('_' there: '_', '-', '.'
 *                or nothing), optionally followed by _key/_access_key/_token/
 *                _value (client_secret, PGPASSWORD, aws_secret_access_key;
 *                not secretary), then '=' or ':' and a
 *                value (after ':' and a space the value must be 4 or more
 *                characters and hold something else than letters, so
 *                "password: see below" passes); "Bearer <token of 16+
 *                characters>"; "Authorization:" with a scheme and a
 *                credential of 8+ characters, or one token of 16+; AWS access
 *                key ids (AKIA/ASIA + 16); GitHub tokens (ghp_/gho_/ghs_/ghu_/
 *                ghr_ + 36, github_pat_ + 22); Slack tokens (xox[bpars]- +
 *                10); Google API keys (AIza + 35); Stripe live keys (sk_live_,
 *                rk_live_ + 16); PEM private key blocks (to their END line);
 *                JSON Web Tokens (two base64url parts starting eyJ, then the
 *                signature). Overlapping findings are merged into one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

const char *const gcmsg__detector_names[GCMSG__DET_COUNT] = {
	"payment-card", "iban", "us-ssn", "email", "phone", "credential",
};

const int gcmsg__detector_defaults[GCMSG__DET_COUNT] = { 1, 1, 1, 0, 0, 1 };

int gcmsg__detector_lookup(const char *name)
{
	int i;

	if (!name)
		return -1;
	for (i = 0; i < GCMSG__DET_COUNT; i++)
		if (strcmp(name, gcmsg__detector_names[i]) == 0)
			return i;
	return -1;
}

/* ---- character classes (ASCII only) ---- */

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_alnum(unsigned char c)
{
	return is_digit(c) || is_alpha(c);
}

static int is_word(unsigned char c)
{
	return is_alnum(c) || c == '_';
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static unsigned char upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
}

#define U(s, i) ((unsigned char)(s)[i])

/* ---- payment cards ---- */

int gcmsg__luhn_valid(const char *digits, size_t n)
{
	unsigned sum = 0;
	size_t i;
	int dbl = 0;

	if (n == 0)
		return 0;
	for (i = n; i-- > 0;) {
		unsigned d = (unsigned)(digits[i] - '0');
		if (d > 9)
			return 0;
		if (dbl) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		dbl = !dbl;
	}
	return sum % 10 == 0;
}

static unsigned prefix(const char *d, size_t k)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < k; i++)
		v = v * 10 + (unsigned)(d[i] - '0');
	return v;
}

/* a plausible issuer (IIN) prefix for a number of n (13 to 19) digits */
static int iin_ok(const char *d, size_t n)
{
	unsigned p2 = prefix(d, 2), p3 = prefix(d, 3), p4 = prefix(d, 4);

	switch (d[0]) {
	case '1': /* UATP */
		return n == 15;
	case '2': /* Mastercard 2-series */
		return p4 >= 2221 && p4 <= 2720 && n == 16;
	case '3':
		if (p2 == 34 || p2 == 37) /* American Express */
			return n == 15;
		if ((p3 >= 300 && p3 <= 305) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39) /* Diners */
			return n >= 14;
		if (p4 >= 3528 && p4 <= 3589) /* JCB */
			return n >= 16;
		return 0;
	case '4': /* Visa */
		return 1;
	case '5':
		if (p2 >= 51 && p2 <= 55) /* Mastercard */
			return n == 16;
		return 1; /* Maestro 50, 56-59 */
	case '6': /* Discover, UnionPay, Maestro, RuPay, ... */
		return 1;
	default:
		return 0;
	}
}

/* the length of the run of digits at s[i..] */
static size_t digit_run(const char *s, size_t len, size_t i)
{
	size_t j = i;

	while (j < len && is_digit(U(s, j)))
		j++;
	return j - i;
}

/* a card may start at i: not inside a word, nor the decimals of a number */
static int card_left_ok(const char *s, size_t i)
{
	return !(i > 0 && (is_word(U(s, i - 1)) ||
	                   ((s[i - 1] == '.' || s[i - 1] == ',') && i > 1 && is_digit(U(s, i - 2)))));
}

/* a card may end at e (exclusive): no word nor decimals right after it */
static int card_right_ok(const char *s, size_t len, size_t e)
{
	return !(e < len && (is_word(U(s, e)) || ((s[e] == '.' || s[e] == ',') && e + 1 < len && is_digit(U(s, e + 1)))));
}

/*
 * Every group of digits (a maximal run) is a candidate start; from it, the
 * following groups are added while they are joined by the same one-character
 * separator and each holds 3 to 8 digits, up to 19 digits: at most 7 groups
 * are looked at per start, so the scan is linear times a small constant, and
 * a card is found wherever it sits in a longer run of groups, whatever comes
 * before it (another separator, any number of groups). The longest valid
 * window from a start wins; the scan goes on after it.
 */
static int detect_cards(const char *s, size_t len, gcmsg__finding_cb cb, void *ctx)
{
	size_t i = 0;

	while (i < len) {
		size_t glen, best_end = 0, best_nd = 0;
		int rc;

		if (!is_digit(U(s, i))) {
			i++;
			continue;
		}
		/* i starts a run of digits (the scan only lands on a run's first digit) */
		glen = digit_run(s, len, i);
		if (card_left_ok(s, i)) {
			char digits[19];
			size_t n = 0, h_off = i, h_len = glen, groups = 0, k, e;
			char sep = 0;

			for (;;) {
				if (n + h_len > 19)
					break;
				/* several groups: each of 3 to 8 digits */
				if (groups > 0 && (h_len < 3 || h_len > 8 || glen < 3 || glen > 8))
					break;
				for (k = 0; k < h_len; k++)
					digits[n + k] = s[h_off + k];
				n += h_len;
				groups++;
				e = h_off + h_len;
				if (n >= 13 && card_right_ok(s, len, e) && iin_ok(digits, n) && gcmsg__luhn_valid(digits, n)) {
					best_end = e;
					best_nd = n;
				}
				if (!(e + 1 < len && (s[e] == ' ' || s[e] == '-') && (!sep || s[e] == sep) && is_digit(U(s, e + 1))))
					break;
				sep = s[e];
				h_off = e + 1;
				h_len = digit_run(s, len, h_off);
			}
		}
		if (best_end) {
			char desc[96];
			snprintf(desc, sizeof(desc), "a payment card number (Luhn-valid, %zu digits)", best_nd);
			rc = cb(ctx, i, best_end, desc);
			if (rc)
				return rc;
			i = best_end;
			continue;
		}
		i += glen;
	}
	return 0;
}

/* ---- IBAN ---- */

static const struct {
	char cc[3];
	unsigned char len;
} iban_table[] = {
	{ "AD", 24 }, { "AE", 23 }, { "AL", 28 }, { "AT", 20 }, { "AZ", 28 }, { "BA", 20 }, { "BE", 16 },
	{ "BG", 22 }, { "BH", 22 }, { "BI", 27 }, { "BR", 29 }, { "BY", 28 }, { "CH", 21 }, { "CR", 22 },
	{ "CY", 28 }, { "CZ", 24 }, { "DE", 22 }, { "DJ", 27 }, { "DK", 18 }, { "DO", 28 }, { "EE", 20 },
	{ "EG", 29 }, { "ES", 24 }, { "FI", 18 }, { "FK", 18 }, { "FO", 18 }, { "FR", 27 }, { "GB", 22 },
	{ "GE", 22 }, { "GI", 23 }, { "GL", 18 }, { "GR", 27 }, { "GT", 28 }, { "HR", 21 }, { "HU", 28 },
	{ "IE", 22 }, { "IL", 23 }, { "IQ", 23 }, { "IS", 26 }, { "IT", 27 }, { "JO", 30 }, { "KW", 30 },
	{ "KZ", 20 }, { "LB", 28 }, { "LC", 32 }, { "LI", 21 }, { "LT", 20 }, { "LU", 20 }, { "LV", 21 },
	{ "LY", 25 }, { "MC", 27 }, { "MD", 24 }, { "ME", 22 }, { "MK", 19 }, { "MN", 20 }, { "MR", 27 },
	{ "MT", 31 }, { "MU", 30 }, { "NI", 28 }, { "NL", 18 }, { "NO", 15 }, { "OM", 23 }, { "PK", 24 },
	{ "PL", 28 }, { "PS", 29 }, { "PT", 25 }, { "QA", 29 }, { "RO", 24 }, { "RS", 22 }, { "RU", 33 },
	{ "SA", 24 }, { "SC", 31 }, { "SD", 18 }, { "SE", 24 }, { "SI", 19 }, { "SK", 24 }, { "SM", 27 },
	{ "SO", 23 }, { "ST", 25 }, { "SV", 28 }, { "TL", 23 }, { "TN", 24 }, { "TR", 26 }, { "UA", 29 },
	{ "VA", 22 }, { "VG", 24 }, { "XK", 20 }, { "YE", 30 },
};

unsigned gcmsg__iban_length(const char *cc)
{
	size_t i;

	for (i = 0; i < sizeof(iban_table) / sizeof(iban_table[0]); i++)
		if (iban_table[i].cc[0] == cc[0] && iban_table[i].cc[1] == cc[1])
			return iban_table[i].len;
	return 0;
}

int gcmsg__iban_valid(const char *iban, size_t n)
{
	unsigned rem = 0;
	size_t i;

	if (n < 5 || !is_alpha(U(iban, 0)) || !is_alpha(U(iban, 1)) || !is_digit(U(iban, 2)) ||
	    !is_digit(U(iban, 3)) || gcmsg__iban_length(iban) != n)
		return 0;
	/* the first four characters go to the end; letters are 10..35 */
	for (i = 0; i < n; i++) {
		unsigned char c = U(iban, (i + 4) % n);
		if (is_digit(c))
			rem = (rem * 10 + (unsigned)(c - '0')) % 97;
		else if (c >= 'A' && c <= 'Z')
			rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
		else
			return 0;
	}
	return rem == 1;
}

static int detect_iban(const char *s, size_t len, gcmsg__finding_cb cb, void *ctx)
{
	size_t i = 0;

	while (i + 4 <= len) {
		char buf[40], desc[96];
		unsigned want;
		size_t count, j;
		int rc;

		if (!is_alpha(U(s, i)) || !is_alpha(U(s, i + 1)) || !is_digit(U(s, i + 2)) || !is_digit(U(s, i + 3)) ||
		    (i > 0 && is_word(U(s, i - 1)))) {
			i++;
			continue;
		}
		buf[0] = (char)upper(U(s, i));
		buf[1] = (char)upper(U(s, i + 1));
		want = gcmsg__iban_length(buf);
		if (!want) {
			i++;
			continue;
		}
		buf[2] = s[i + 2];
		buf[3] = s[i + 3];
		count = 4;
		j = i + 4;
		while (count < want && j < len) {
			if (is_alnum(U(s, j))) {
				buf[count++] = (char)upper(U(s, j));
				j++;
			} else if (s[j] == ' ' && j + 1 < len && is_alnum(U(s, j + 1))) {
				j++;
			} else {
				break;
			}
		}
		if (count != want || (j < len && is_word(U(s, j))) || !gcmsg__iban_valid(buf, count)) {
			i++;
			continue;
		}
		snprintf(desc, sizeof(desc), "an IBAN (country %c%c, %u characters, mod-97 check valid)", buf[0], buf[1],
		         want);
		rc = cb(ctx, i, j, desc);
		if (rc)
			return rc;
		i = j;
	}
	return 0;
}

/* ---- US social security numbers ---- */

int gcmsg__ssn_valid(unsigned area, unsigned group_, unsigned serial)
{
	return area >= 1 && area <= 899 && area != 666 && group_ >= 1 && group_ <= 99 && serial >= 1 &&
	       serial <= 9999;
}

/* exactly k digits at s[i..]: their value, or -1 */
static long digits_at(const char *s, size_t len, size_t i, size_t k)
{
	long v = 0;
	size_t m;

	if (i + k > len)
		return -1;
	for (m = 0; m < k; m++) {
		if (!is_digit(U(s, i + m)))
			return -1;
		v = v * 10 + (s[i + m] - '0');
	}
	return v;
}

/*
 * Whether c, next to an SSN written with `sep` and followed (or preceded) by a
 * digit, joins it to a longer number: the SSN's own separator and - . / do;
 * a plain space next to a dashed SSN does not ("Room 12 123-45-6789").
 */
static int number_sep(char c, char sep)
{
	return c == sep || c == '-' || c == '.' || c == '/';
}

static int detect_ssn(const char *s, size_t len, gcmsg__finding_cb cb, void *ctx)
{
	size_t i;

	for (i = 0; i + 11 <= len; i++) {
		long a, g, sr;
		char sep;
		size_t end = i + 11;
		int rc;

		if (!is_digit(U(s, i)))
			continue;
		sep = s[i + 3];
		if ((sep != '-' && sep != ' ') || s[i + 6] != sep)
			continue;
		if (i > 0 && (is_word(U(s, i - 1)) || (number_sep(s[i - 1], sep) && i > 1 && is_digit(U(s, i - 2)))))
			continue;
		a = digits_at(s, len, i, 3);
		g = digits_at(s, len, i + 4, 2);
		sr = digits_at(s, len, i + 7, 4);
		if (a < 0 || g < 0 || sr < 0)
			continue;
		if (end < len && (is_word(U(s, end)) || (number_sep(s[end], sep) && end + 1 < len && is_digit(U(s, end + 1)))))
			continue;
		if (!gcmsg__ssn_valid((unsigned)a, (unsigned)g, (unsigned)sr))
			continue;
		rc = cb(ctx, i, end, "a US social security number (area-group-serial form)");
		if (rc)
			return rc;
		i = end - 1;
	}
	return 0;
}

/* ---- e-mail addresses ---- */

static int local_char(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static int domain_char(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '-';
}

/* whether d[0..n) is two or more labels, the last of two or more letters */
static int domain_ok(const char *d, size_t n)
{
	size_t i, label = 0, labels = 0;
	int last_alpha = 1;

	for (i = 0; i <= n; i++) {
		if (i == n || d[i] == '.') {
			if (label == 0 || d[i - 1] == '-' || d[i - label] == '-')
				return 0;
			labels++;
			if (i == n)
				return labels >= 2 && label >= 2 && last_alpha;
			label = 0;
			last_alpha = 1;
			continue;
		}
		label++;
		if (!is_alpha(U(d, i)))
			last_alpha = 0;
	}
	return 0;
}

static int detect_email(const char *s, size_t len, gcmsg__finding_cb cb, void *ctx)
{
	size_t at, prev_end = 0;

	for (at = 0; at < len; at++) {
		size_t a, b;
		int rc;

		if (s[at] != '@')
			continue;
		for (a = at; a > prev_end && local_char(U(s, a - 1)); a--)
			;
		while (a < at && s[a] == '.')
			a++;
		if (a == at || s[at - 1] == '.')
			continue;
		for (b = at + 1; b < len && domain_char(U(s, b)); b++)
			;
		while (b > at + 1 && (s[b - 1] == '.' || s[b - 1] == '-'))
			b--;
		if (b == at + 1 || !domain_ok(s + at + 1, b - at - 1))
			continue;
		if (b < len && (s[b] == '_' || s[b] == '@'))
			continue;
		rc = cb(ctx, a, b, "an e-mail address");
		if (rc)
			return rc;
		prev_end = b;
		at = b - 1;
	}
	return 0;
}

/* ---- phone numbers ---- */

static int ipv4_shape(const char *s, size_t a, size_t b)
{
	size_t i, groups = 1, run = 0;

	for (i = a; i < b; i++) {
		if (is_digit(U(s, i))) {
			if (++run > 3)
				return 0;
		} else if (s[i] == '.') {
			groups++;
			run = 0;
		} else {
			return 0;
		}
	}
	return groups == 4;
}

/* a run that starts like a date: dddd-dd-dd or dd-dd-dddd (any of - . / as the separator) */
static int date_shape(const char *s, size_t a, size_t b)
{
	static const char *const shapes[] = { "dddd-dd-dd", "dd-dd-dddd" };
	size_t k, m;

	for (k = 0; k < 2; k++) {
		const char *sh = shapes[k];
		int ok = a + 10 <= b;
		for (m = 0; ok && m < 10; m++) {
			unsigned char c = U(s, a + m);
			ok = sh[m] == 'd' ? is_digit(c) : (c == '-' || c == '.' || c == '/');
		}
		if (ok)
			return 1;
	}
	return 0;
}

static int detect_phone(const char *s, size_t len, gcmsg__finding_cb cb, void *ctx)
{
	size_t i = 0;

	while (i < len) {
		size_t j, end, digits = 0, seps = 0;
		int plus = 0, rc;
		unsigned char c = U(s, i);

		if (!(is_digit(c) || ((c == '+' || c == '(') && i + 1 < len && is_digit(U(s, i + 1)))) ||
		    (i > 0 && (is_word(U(s, i - 1)) || s[i - 1] == '+' || s[i - 1] == '.' || s[i - 1] == '-'))) {
			i++;
			continue;
		}
		j = i;
		if (c == '+') {
			plus = 1;
			j++;
		}
		end = j;
		while (j < len) {
			unsigned char d = U(s, j);
			if (is_digit(d)) {
				digits++;
				j++;
				end = j;
			} else if ((d == ' ' || d == '-' || d == '.' || d == '(') && j + 1 < len &&
			           (is_digit(U(s, j + 1)) || s[j + 1] == '(')) {
				seps++;
				j++;
			} else if (d == ')' && j > i && is_digit(U(s, j - 1))) {
				seps++;
				j++;
				if (j < len && (s[j] == ' ' || s[j] == '-') && j + 1 < len && is_digit(U(s, j + 1)))
					j++;
			} else {
				break;
			}
		}
		if (((plus && digits >= 8 && digits <= 15) || (!plus && seps >= 1 && digits >= 10 && digits <= 15)) &&
		    !(end < len && is_word(U(s, end))) && !ipv4_shape(s, i, end) && !date_shape(s, i, end)) {
			char desc[64];
			snprintf(desc, sizeof(desc), "a phone number (%zu digits)", digits);
			rc = cb(ctx, i, end, desc);
			if (rc)
				return rc;
		}
		i = j > i ? j : i + 1;
	}
	return 0;
}

/* ---- credentials ---- */

typedef struct finding {
	size_t start, end;
	const char *desc;
} finding;

typedef struct findings {
	finding *v;
	size_t n, alloc;
	int full; /* 1: the cap was reached; 2: out of memory */
} findings;

#define CRED_MAX_FINDINGS ((size_t)10000)

static void add(findings *f, size_t start, size_t end, const char *desc)
{
	if (f->full)
		return;
	if (f->n == f->alloc) {
		size_t n = f->alloc ? f->alloc * 2 : 16;
		finding *v;
		if (n > CRED_MAX_FINDINGS) {
			/* so many that the text is refused anyway: report those found */
			f->full = 1;
			return;
		}
		v = realloc(f->v, n * sizeof(*v));
		if (!v) {
			f->full = 2; /* the scan fails: never a silent pass */
			return;
		}
		f->v = v;
		f->alloc = n;
	}
	f->v[f->n].start = start;
	f->v[f->n].end = end;
	f->v[f->n].desc = desc;
	f->n++;
}

/* case-insensitive: does s[i..] start with the lower-case word w? */
static int word_at(const char *s, size_t len, size_t i, const char *w)
{
	size_t k, n = strlen(w);

	if (i + n > len)
		return 0;
	for (k = 0; k < n; k++)
		if (lower(U(s, i + k)) != (unsigned char)w[k])
			return 0;
	return 1;
}

static int token_char(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=' || c == '-';
}

static int value_char(unsigned char c)
{
	return c > ' ' && c != 0x7F && !strchr("&,;\"'<>", c);
}

static size_t run_of(const char *s, size_t len, size_t i, int (*cls)(unsigned char))
{
	size_t j = i;

	while (j < len && cls(U(s, j)))
		j++;
	return j - i;
}

static int b64url_char(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '-';
}

static int upper_alnum(unsigned char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z');
}

static int slack_char(unsigned char c)
{
	return is_alnum(c) || c == '-';
}

static int gh_pat_char(unsigned char c)
{
	return is_alnum(c) || c == '_';
}

static int only_letters(const char *s, size_t a, size_t b)
{
	size_t i;

	for (i = a; i < b; i++)
		if (!is_alpha(U(s, i)))
			return 0;
	return 1;
}

/*
 * Assignment keys: a name of letters, digits, '_', '-' and '.' that ends with
 * one of assign_words, optionally followed by one of assign_tails. A '_' in
 * these words stands for '_', '-', '.' or nothing (api_key, api-key, apiKey).
 * Anything may come before the word (client_secret, PGPASSWORD); nothing else
 * after it (secretary, password_reset_url are not keys of a secret).
 */
static const char *const assign_words[] = {
	"password", "passwd", "passphrase", "pwd", "secret", "api_key", "access_token", "auth_token",
	"private_key", "access_key",
};

static const char *const assign_tails[] = { "", "_key", "_access_key", "_token", "_value" };

#define CRED_MAX_KEY 64 /* bytes of a key looked at, back from its end */

static int key_char(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '-' || c == '.';
}

/* s[i..e) starts with the word w (case-insensitive, '_' as above): the end of the match, or 0 */
static size_t key_word_at(const char *s, size_t i, size_t e, const char *w)
{
	for (; *w; w++) {
		if (*w == '_') {
			if (i < e && (s[i] == '_' || s[i] == '-' || s[i] == '.'))
				i++;
			continue;
		}
		if (i >= e || lower(U(s, i)) != (unsigned char)*w)
			return 0;
		i++;
	}
	return i;
}

/* whether the key s[a..e) ends with a word and a tail */
static int secret_key(const char *s, size_t a, size_t e)
{
	size_t p, k, t, q;

	for (p = a; p < e; p++) {
		for (k = 0; k < sizeof(assign_words) / sizeof(assign_words[0]); k++) {
			q = key_word_at(s, p, e, assign_words[k]);
			if (!q)
				continue;
			for (t = 0; t < sizeof(assign_tails) / sizeof(assign_tails[0]); t++) {
				if (!assign_tails[t][0] ? q == e : key_word_at(s, q, e, assign_tails[t]) == e)
					return 1;
			}
		}
	}
	return 0;
}

/* key ('=' | ':') value, with s[i] the '=' or ':' */
static void cred_assignment(const char *s, size_t len, size_t i, findings *f)
{
	size_t k = i, a, j, v, n;
	int colon = s[i] == ':', spaced;

	while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t'))
		k--;
	if (k > 0 && (s[k - 1] == '"' || s[k - 1] == '\''))
		k--; /* "password": "..." */
	for (a = k; a > 0 && k - a < CRED_MAX_KEY && key_char(U(s, a - 1)); a--)
		;
	/* a key starts with a letter or a digit (not "-password" nor ".secret" of a path) */
	while (a < k && !is_alnum(U(s, a)))
		a++;
	if (a == k || !secret_key(s, a, k))
		return;
	j = i + 1;
	v = j;
	while (v < len && (s[v] == ' ' || s[v] == '\t'))
		v++;
	spaced = v > j;
	if (v < len && (s[v] == '"' || s[v] == '\''))
		v++;
	n = run_of(s, len, v, value_char);
	if (n == 0)
		return;
	if (colon && spaced && (n < 4 || only_letters(s, v, v + n)))
		return;
	add(f, a, v + n, "a credential (a password or secret assignment)");
}

static void cred_bearer(const char *s, size_t len, size_t i, findings *f)
{
	size_t j, n;

	if ((i > 0 && is_word(U(s, i - 1))) || !word_at(s, len, i, "bearer"))
		return;
	j = i + 6;
	if (j >= len || (s[j] != ' ' && s[j] != '\t'))
		return;
	while (j < len && (s[j] == ' ' || s[j] == '\t'))
		j++;
	n = run_of(s, len, j, token_char);
	if (n >= 16)
		add(f, i, j + n, "a credential (a bearer token)");
}

static void cred_authorization(const char *s, size_t len, size_t i, findings *f)
{
	size_t j, n1, n2, w2;

	if ((i > 0 && is_word(U(s, i - 1))) || !word_at(s, len, i, "authorization"))
		return;
	j = i + 13;
	if (j < len && (s[j] == '"' || s[j] == '\''))
		j++;
	while (j < len && (s[j] == ' ' || s[j] == '\t'))
		j++;
	if (j >= len || s[j] != ':')
		return;
	j++;
	while (j < len && (s[j] == ' ' || s[j] == '\t'))
		j++;
	if (j < len && (s[j] == '"' || s[j] == '\''))
		j++;
	n1 = run_of(s, len, j, token_char);
	if (n1 >= 16) {
		add(f, i, j + n1, "a credential (an Authorization header)");
		return;
	}
	if (n1 < 2 || n1 > 20 || !only_letters(s, j, j + n1))
		return;
	w2 = j + n1;
	if (w2 >= len || s[w2] != ' ')
		return;
	w2++;
	n2 = run_of(s, len, w2, token_char);
	if (n2 >= 8)
		add(f, i, w2 + n2, "a credential (an Authorization header)");
}

/* prefix + at least `min` characters of `cls` (exactly `exact` when not 0), as a whole word */
static void cred_shape(const char *s, size_t len, size_t i, const char *pfx, int (*cls)(unsigned char),
                       size_t min, size_t exact, const char *desc, findings *f)
{
	size_t p = strlen(pfx), n;

	if (i + p > len || memcmp(s + i, pfx, p) != 0 || (i > 0 && is_word(U(s, i - 1))))
		return;
	n = run_of(s, len, i + p, cls);
	if (n < min || (exact && n != exact))
		return;
	if (i + p + n < len && is_word(U(s, i + p + n)))
		return;
	add(f, i, i + p + n, desc);
}

static void cred_pem(const char *s, size_t len, size_t i, findings *f)
{
	static const char begin[] = "-----BEGIN ", end_tag[] = "-----END ";
	const size_t nb = sizeof(begin) - 1, ne = sizeof(end_tag) - 1;
	size_t j, k, m;

	if (i + nb > len || memcmp(s + i, begin, nb) != 0)
		return;
	/* the label: capitals and spaces, then "-----" */
	for (j = i + nb; j < len && j - i < 80 && ((s[j] >= 'A' && s[j] <= 'Z') || s[j] == ' '); j++)
		;
	if (j + 5 > len || memcmp(s + j, "-----", 5) != 0)
		return;
	if (!((j - i >= nb + 11 && memcmp(s + j - 11, "PRIVATE KEY", 11) == 0) ||
	      (j - i >= nb + 17 && memcmp(s + j - 17, "PRIVATE KEY BLOCK", 17) == 0)))
		return;
	j += 5;
	/* to the end of the END line, else to the end of the text */
	for (k = j; k + ne <= len; k++) {
		if (memcmp(s + k, end_tag, ne) != 0)
			continue;
		for (m = k + ne; m + 5 <= len && m - k < 100; m++) {
			if (memcmp(s + m, "-----", 5) == 0) {
				add(f, i, m + 5, "a credential (a private key block)");
				return;
			}
		}
		break;
	}
	add(f, i, len, "a credential (a private key block)");
}

static void cred_jwt(const char *s, size_t len, size_t i, findings *f)
{
	size_t a, b, c;

	if (i + 3 > len || memcmp(s + i, "eyJ", 3) != 0 || (i > 0 && (b64url_char(U(s, i - 1)) || s[i - 1] == '.')))
		return;
	a = run_of(s, len, i, b64url_char);
	if (a < 10 || i + a >= len || s[i + a] != '.')
		return;
	b = i + a + 1;
	if (b + 3 > len || memcmp(s + b, "eyJ", 3) != 0)
		return;
	c = run_of(s, len, b, b64url_char);
	if (c < 10 || b + c >= len || s[b + c] != '.')
		return;
	c = b + c + 1;
	c += run_of(s, len, c, b64url_char);
	add(f, i, c, "a credential (a JSON Web Token)");
}

static int cmp_finding(const void *x, const void *y)
{
	const finding *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->end != b->end)
		return a->end > b->end ? -1 : 1;
	return 0;
}

static const char *const github_prefixes[] = { "ghp_", "gho_", "ghs_", "ghu_", "ghr_" };

static int detect_credentials(const char *s, size_t len, gcmsg__finding_cb cb, void *ctx)
{
	findings f = { NULL, 0, 0, 0 };
	size_t i, k;
	int rc = 0;

	for (i = 0; i < len && !f.full; i++) {
		switch (lower(U(s, i))) {
		case '=':
		case ':':
			cred_assignment(s, len, i, &f);
			break;
		case 's':
			cred_shape(s, len, i, "sk_live_", is_alnum, 16, 0, "a credential (a Stripe live key)", &f);
			break;
		case 'a':
			cred_authorization(s, len, i, &f);
			cred_shape(s, len, i, "AKIA", upper_alnum, 16, 16, "a credential (an AWS access key id)", &f);
			cred_shape(s, len, i, "ASIA", upper_alnum, 16, 16, "a credential (an AWS access key id)", &f);
			cred_shape(s, len, i, "AIza", b64url_char, 35, 0, "a credential (a Google API key)", &f);
			break;
		case 'b':
			cred_bearer(s, len, i, &f);
			break;
		case 'g':
			for (k = 0; k < sizeof(github_prefixes) / sizeof(github_prefixes[0]); k++)
				cred_shape(s, len, i, github_prefixes[k], is_alnum, 36, 0, "a credential (a GitHub token)", &f);
			cred_shape(s, len, i, "github_pat_", gh_pat_char, 22, 0, "a credential (a GitHub token)", &f);
			break;
		case 'x':
			if (i + 5 <= len && memcmp(s + i, "xox", 3) == 0 && s[i + 3] && strchr("bpars", s[i + 3]) &&
			    s[i + 4] == '-') {
				char pfx[6];
				memcpy(pfx, s + i, 5);
				pfx[5] = '\0';
				cred_shape(s, len, i, pfx, slack_char, 10, 0, "a credential (a Slack token)", &f);
			}
			break;
		case 'r':
			cred_shape(s, len, i, "rk_live_", is_alnum, 16, 0, "a credential (a Stripe live key)", &f);
			break;
		case '-':
			cred_pem(s, len, i, &f);
			break;
		case 'e':
			cred_jwt(s, len, i, &f);
			break;
		default:
			break;
		}
	}
	if (f.full == 2) {
		free(f.v);
		return -1;
	}
	if (f.n)
		qsort(f.v, f.n, sizeof(*f.v), cmp_finding);
	/* overlapping findings are merged: the first one's description, the union of the spans */
	for (i = 0; i < f.n && !rc;) {
		size_t start = f.v[i].start, end = f.v[i].end;
		const char *desc = f.v[i].desc;
		for (k = i + 1; k < f.n && f.v[k].start < end; k++)
			if (f.v[k].end > end)
				end = f.v[k].end;
		rc = cb(ctx, start, end, desc);
		i = k;
	}
	free(f.v);
	return rc;
}

int gcmsg__detect(gcmsg__detector d, const char *s, size_t len, gcmsg__finding_cb cb, void *ctx)
{
	if (!s || !cb)
		return 0;
	switch (d) {
	case GCMSG__DET_PAYMENT_CARD: return detect_cards(s, len, cb, ctx);
	case GCMSG__DET_IBAN: return detect_iban(s, len, cb, ctx);
	case GCMSG__DET_US_SSN: return detect_ssn(s, len, cb, ctx);
	case GCMSG__DET_EMAIL: return detect_email(s, len, cb, ctx);
	case GCMSG__DET_PHONE: return detect_phone(s, len, cb, ctx);
	case GCMSG__DET_CREDENTIAL: return detect_credentials(s, len, cb, ctx);
	default: return 0;
	}
}
