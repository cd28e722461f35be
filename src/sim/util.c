#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void sim_format_time(int64_t ms, char *buf, size_t len) {
  time_t secs = (time_t)(ms / 1000);
  int millis = (int)(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    secs -= 1;
  }
  struct tm tm;
  if (gmtime_r(&secs, &tm) == NULL) {
    snprintf(buf, len, "1970-01-01T00:00:00.000Z");
    return;
  }
  snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

static int digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

static int64_t days_from_civil(int y, int m, int d) {
  /* Howard Hinnant's algorithm, proleptic Gregorian calendar. */
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int sim_parse_time(const char *s, int64_t *ms_out) {
  int y, mo, d, h, mi, se;
  if (s == NULL || strlen(s) < 20) return -1;
  if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
      digits(s + 8, 2, &d) || s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
      digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return -1;
  const char *p = s + 19;
  int64_t frac_ms = 0;
  if (*p == '.') {
    p++;
    int n = 0;
    int64_t scale = 100;
    while (*p >= '0' && *p <= '9') {
      if (n < 3) frac_ms += (*p - '0') * scale;
      scale /= 10;
      n++;
      p++;
    }
    if (n == 0) return -1;
  }
  int64_t offset_min = 0;
  if (*p == 'Z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om;
    if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59) return -1;
    offset_min = (int64_t)oh * 60 + om;
    if (*p == '-') offset_min = -offset_min;
    p += 6;
  } else {
    return -1;
  }
  if (*p != '\0') return -1;
  int64_t days = days_from_civil(y, mo, d);
  int64_t secs = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + se - offset_min * 60;
  *ms_out = secs * 1000 + frac_ms;
  return 0;
}

int64_t sim_real_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sim_rng_seed(sim_rng *r, uint64_t seed) { r->s = seed; }

uint64_t sim_rng_next(sim_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void sim_rng_uuid(sim_rng *r, char *buf, size_t len) {
  uint64_t a = sim_rng_next(r), b = sim_rng_next(r);
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  snprintf(buf, len, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)((a >> 16) & 0xFFFF),
           (unsigned)(a & 0xFFFF), (unsigned)(b >> 48), (unsigned long long)(b & 0xFFFFFFFFFFFFULL));
}

void sim_rng_token(sim_rng *r, char *buf, size_t len) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  if (len == 0) return;
  uint64_t bits = 0;
  int left = 0;
  for (size_t i = 0; i + 1 < len; i++) {
    if (left < 6) {
      bits = sim_rng_next(r);
      left = 64;
    }
    buf[i] = alphabet[bits & 63];
    bits >>= 6;
    left -= 6;
  }
  buf[len - 1] = '\0';
}

/* Counts code points (units16 == 0) or UTF-16 code units (units16 != 0). */
static long utf8_measure(const char *s, int units16) {
  const unsigned char *p = (const unsigned char *)s;
  long n = 0;
  while (*p) {
    unsigned c = *p;
    int extra;
    unsigned cp;
    if (c < 0x80) {
      extra = 0;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return -1;
    }
    p++;
    for (int i = 0; i < extra; i++, p++) {
      if ((*p & 0xC0) != 0x80) return -1;
      cp = (cp << 6) | (*p & 0x3F);
    }
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return -1;
    n += units16 && cp > 0xFFFF ? 2 : 1;
  }
  return n;
}

long sim_utf8_count(const char *s) { return utf8_measure(s, 0); }
long sim_utf16_count(const char *s) { return utf8_measure(s, 1); }

static int b64val(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

char *sim_base64_decode(const char *in, size_t *out_len) {
  size_t n = strlen(in);
  while (n > 0 && in[n - 1] == '=') n--;
  if (n % 4 == 1) return NULL;
  char *out = malloc(n / 4 * 3 + 4);
  if (out == NULL) return NULL;
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64val((unsigned char)in[i]);
    if (v < 0) {
      sim_free_secret(out);
      return NULL;
    }
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (char)((acc >> bits) & 0xFF);
    }
  }
  out[o] = '\0';
  if (out_len) *out_len = o;
  return out;
}

char *sim_base64_encode(const unsigned char *in, size_t len) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *out = malloc((len + 2) / 3 * 4 + 1);
  if (out == NULL) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < len) v |= in[i + 2];
    out[o++] = alphabet[(v >> 18) & 63];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
  }
  out[o] = '\0';
  return out;
}

void sim_free_secret(char *s) {
  if (s == NULL) return;
  volatile char *p = s;
  while (*p) *p++ = 0;
  free(s);
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char *sim_url_decode(const char *s, size_t len, int form) {
  char *out = malloc(len + 1);
  if (out == NULL) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '%') {
      if (i + 2 >= len || hexval((unsigned char)s[i + 1]) < 0 || hexval((unsigned char)s[i + 2]) < 0) {
        free(out);
        return NULL;
      }
      int v = hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]);
      if (v == 0) {
        free(out);
        return NULL;
      }
      out[o++] = (char)v;
      i += 2;
    } else if (form && s[i] == '+') {
      out[o++] = ' ';
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  return out;
}

char *sim_url_encode(const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(s);
  char *out = malloc(n * 3 + 1);
  if (out == NULL) return NULL;
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
      out[o++] = (char)*p;
    } else {
      out[o++] = '%';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    }
  }
  out[o] = '\0';
  return out;
}

json_t *sim_parse_form(const char *body, size_t len, size_t max_fields) {
  json_t *obj = json_object();
  if (obj == NULL) return NULL;
  size_t i = 0, fields = 0;
  while (i < len) {
    size_t end = i;
    while (end < len && body[end] != '&') end++;
    if (end > i) {
      if (++fields > max_fields) goto fail;
      size_t eq = i;
      while (eq < end && body[eq] != '=') eq++;
      char *k = sim_url_decode(body + i, eq - i, 1);
      char *v = sim_url_decode(eq < end ? body + eq + 1 : "", eq < end ? end - eq - 1 : 0, 1);
      /* a repeated parameter is malformed (RFC 6749 §3.1: parameters MUST NOT repeat) */
      int bad = (k == NULL || v == NULL || json_object_get(obj, k) != NULL ||
                 json_object_set_new(obj, k, json_string(v)) != 0);
      free(k);
      sim_free_secret(v);
      if (bad) goto fail;
    }
    i = end + 1;
  }
  return obj;
fail:
  json_decref(obj);
  return NULL;
}

int sim_secret_equal(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  unsigned diff = (unsigned)(la ^ lb);
  for (size_t i = 0; i < la; i++) diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
  return diff == 0 && la == lb;
}

const char *sim_jstr(const json_t *obj, const char *key) {
  if (!json_is_object(obj)) return NULL;
  return json_string_value(json_object_get(obj, key));
}
