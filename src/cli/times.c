/*
 * times.c - the times people type after --since/--until, and the times we print.
 * Accepted: RFC 3339 ("2026-11-21T07:30:00Z", "…+01:00", fractions), a date
 * ("2026-11-21", midnight UTC), or an age ("90s", "15m", "2h", "7d": that long
 * before now). Printed: RFC 3339 UTC with milliseconds.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

long long cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static int parse_age(const char *s, long long now_ms, long long *out)
{
	char *end;
	unsigned long long n;
	long long unit;

	if (!isdigit((unsigned char)*s))
		return -1;
	n = strtoull(s, &end, 10);
	if (end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 's': unit = 1000; break;
	case 'm': unit = 60 * 1000; break;
	case 'h': unit = 3600 * 1000; break;
	case 'd': unit = 86400 * 1000; break;
	default: return -1;
	}
	if (n > (unsigned long long)(now_ms / unit))
		return -1; /* before 1970 */
	*out = now_ms - (long long)n * unit;
	return 0;
}

int cli_parse_time(const char *s, long long now_ms, long long *out_ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
	const char *p;

	if (!s || !*s)
		return -1;
	if (parse_age(s, now_ms, out_ms) == 0)
		return 0;
	if (strlen(s) < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	p = s + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi) || p[6] != ':' ||
		    digits(p + 7, 2, &sec))
			return -1;
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
		p += 9;
		if (*p == '.') {
			int n = 0;
			for (p++; isdigit((unsigned char)*p); p++, n++)
				if (n < 3)
					ms = ms * 10 + (*p - '0');
			if (n == 0)
				return -1;
			for (; n < 3; n++)
				ms *= 10;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh, om;
			if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
				return -1;
			off = (oh * 60 + om) * (*p == '+' ? 1 : -1);
			p += 6;
		} else {
			return -1; /* a time without a zone is ambiguous */
		}
	}
	if (*p)
		return -1;
	*out_ms = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec) -
	            off * 60) * 1000) + ms;
	return 0;
}

void cli_format_time(long long ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	if (ms <= 0 || !gmtime_r(&t, &tm) || (n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm)) == 0 || n > 24) {
		snprintf(out, 32, "-");
		return;
	}
	snprintf(out + n, 32 - n, ".%03uZ", (unsigned)((unsigned long long)ms % 1000u));
}
