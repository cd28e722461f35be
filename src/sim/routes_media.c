/* The messaging media upload flow: POST …/messages/media/uploads hands out a presigned upload URL
 * served by gcsim itself outside /api/v2 (as Genesys hands out one on a storage host), the upload
 * receiver checks the PUT like a presigned URL would, GET …/messages/media/{mediaId} reports the
 * status, and the admin API shows the bytes. docs/gcsim-scenarios.md ("Media upload") is the
 * contract. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "md5.h"
#include "media.h"
#include "models.h"
#include "routes.h"

#define MAX_FILE_NAME_BYTES 255
#define LISTING_MAX_PAGE_SIZE 100

/* ---- UploadMediaRequest rules ---- */

static int unicode_whitespace(unsigned cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

/* The first code point of valid UTF-8 at s; *n its length in bytes. */
static unsigned decode(const unsigned char *s, size_t *n) {
  if (s[0] < 0x80) {
    *n = 1;
    return s[0];
  }
  if ((s[0] & 0xE0) == 0xC0) {
    *n = 2;
    return (unsigned)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
  }
  if ((s[0] & 0xF0) == 0xE0) {
    *n = 3;
    return (unsigned)(s[0] & 0x0F) << 12 | (unsigned)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
  }
  *n = 4;
  return (unsigned)(s[0] & 0x07) << 18 | (unsigned)(s[1] & 0x3F) << 12 | (unsigned)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

/* Why a fileName breaks the definition's rules (or gcsim's stricter ones), or NULL. The model
 * check has already made sure it is valid UTF-8. */
static const char *file_name_problem(const char *name, char *buf, size_t len) {
  size_t bytes = strlen(name);
  if (bytes == 0) return "it is empty";
  if (bytes > MAX_FILE_NAME_BYTES) return "it is longer than 255 bytes";
  if (name[0] == '.') return "it starts with a dot";
  if (name[bytes - 1] == '/') return "it ends with a forward slash";
  for (const unsigned char *p = (const unsigned char *)name; *p;) {
    size_t n;
    unsigned cp = decode(p, &n);
    if (unicode_whitespace(cp)) return "it contains whitespace";
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return "it contains a control character";
    if (cp < 0x80 && strchr("\\{^}%`]\">[~<#|", (int)cp)) {
      snprintf(buf, len, "it contains the character %c", (char)cp);
      return buf;
    }
    p += n;
  }
  return NULL;
}

static int b64_index(char ch) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const char *at = ch ? strchr(alphabet, ch) : NULL;
  return at ? (int)(at - alphabet) : -1;
}

/* 1 when s is the canonical base64 of 16 bytes (RFC 1864's Content-MD5 form): 22 characters of
 * the standard alphabet, the last one with its low 4 bits zero, then "==". */
static int md5_form_ok(const char *s) {
  if (strlen(s) != 24 || s[22] != '=' || s[23] != '=') return 0;
  for (int i = 0; i < 22; i++)
    if (b64_index(s[i]) < 0) return 0;
  return (b64_index(s[21]) & 15) == 0;
}

static int looks_hex(const char *s) {
  if (strlen(s) != 32) return 0;
  for (; *s; s++)
    if (!strchr("0123456789abcdefABCDEF", *s)) return 0;
  return 1;
}

static int field_error(sim_ctx *c, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int field_error(sim_ctx *c, const char *field, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sim_error(c, 400, "invalid.value", "%s", msg);
  sim_error_detail(c, field, "invalid.value");
  return -1;
}

/* ---- answers ---- */

static int answer(sim_ctx *c, int status, json_t *body) {
  if (body == NULL) return sim_error(c, 500, NULL, "out of memory");
  c->status = status;
  c->resp = body;
  return 0;
}

json_t *sim_media_message_media(sim_ctx *c, const sim_media *m) {
  char *url = sim_media_url(c->st, m);
  json_t *o = url ? json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", m->id, "name", m->name, "mediaType", m->media_type,
                              "contentLengthBytes", (json_int_t)m->len, "url", url)
                  : NULL;
  free(url);
  return o;
}

/* MessageMediaData as a GET shows it with status `visible`: the detected type once the status is
 * no longer uploading, the url only when valid. */
static json_t *media_data(sim_ctx *c, const sim_media *m, sim_media_status visible) {
  char *upload_url = sim_media_upload_url(c->st, m), *self = sim_media_self_uri(m);
  json_t *o = NULL;
  if (upload_url && self)
    o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "id", m->id, "name", m->name, "status",
                  sim_media_status_name(visible), "contentLengthBytes", (json_int_t)(m->bytes ? (long)m->len : m->declared),
                  "uploadUrl", upload_url, "conversationId", m->conv_id, "communicationId", m->comm_id, "selfUri", self);
  free(upload_url);
  free(self);
  if (o && visible != SIM_MEDIA_UPLOADING && m->media_type[0])
    json_object_set_new(o, "mediaType", json_string(m->media_type));
  if (o && visible == SIM_MEDIA_VALID) {
    char *url = sim_media_url(c->st, m);
    if (url == NULL) {
      json_decref(o);
      return NULL;
    }
    json_object_set_new(o, "url", json_string(url));
    free(url);
  }
  return o;
}

/* The media named by the path (segment 9) if it belongs to the path's conversation and
 * communication; otherwise a 404. */
static sim_media *path_media(sim_ctx *c) {
  const char *cid = c->segs[4], *comm = c->segs[6], *mid = c->segs[9];
  sim_media *m = sim_media_find(c->st, mid);
  if (m == NULL || strcmp(m->conv_id, cid) != 0 || strcmp(m->comm_id, comm) != 0) {
    sim_error(c, 404, "not.found", "The media %.100s was not found in communication %.100s of conversation %.100s.", mid,
              comm, cid);
    sim_error_param(c, "mediaId", mid, "The media {mediaId} was not found.");
    return NULL;
  }
  return m;
}

/* ---- POST …/messages/media/uploads ---- */

int sim_post_media_upload(sim_ctx *c) {
  json_t *conv, *part;
  if (sim_require_user(c) || sim_validate_body(c, &SIM_MODEL_UPLOAD_MEDIA_REQUEST)) return -1;
  const char *name = sim_jstr(c->body, "fileName"), *md5 = sim_jstr(c->body, "contentMd5");
  json_int_t len = json_integer_value(json_object_get(c->body, "contentLengthBytes"));
  char buf[64];
  const char *problem = file_name_problem(name, buf, sizeof buf);
  if (problem)
    return field_error(c, "fileName",
                       "fileName '%.300s' is not allowed: %s. A file name must not start with a dot or end with a "
                       "forward slash, and must not contain whitespace, control characters or any of \\{^}%%`]\">[~<#|.",
                       name, problem);
  if (len <= 0 || len > INT32_MAX)
    return field_error(c, "contentLengthBytes", "contentLengthBytes %lld is not valid: give the file's size in bytes "
                       "(a positive 32-bit integer).", (long long)len);
  long max = sim_media_max_bytes(c->st);
  if (len > max) {
    char mx[32];
    snprintf(mx, sizeof mx, "%ld", max);
    field_error(c, "contentLengthBytes", "contentLengthBytes %lld is over the limit: message media may be at most %ld bytes.",
                (long long)len, max);
    sim_error_param(c, "maxBytes", mx, "Message media may be at most {maxBytes} bytes.");
    return -1;
  }
  if (md5 && !md5_form_ok(md5))
    return field_error(c, "contentMd5",
                       "contentMd5 '%.100s' is not valid: give the base64 encoding of the 16-byte MD5 digest of the "
                       "file (RFC 1864), such as 1B2M2Y8AsgTpgAmY7PhCfg==%s.",
                       md5, looks_hex(md5) ? "; a hexadecimal digest is not accepted" : "");
  if (sim_resolve_agent_comm(c, &SIM_AGENT_MESSAGING, &conv, &part)) return -1;
  int full;
  sim_media *m = sim_media_new(c->st, c->segs[4], c->segs[6], c->tok->principal, name, md5, (long)len, &full);
  if (m == NULL && full)
    return sim_error(c, 503, "service.unavailable",
                     "gcsim holds too many media (at most %d, %ld bytes declared in all); reset it with POST /sim/v1/reset.",
                     SIM_MAX_MEDIA, SIM_MAX_MEDIA_STORE);
  if (m == NULL) return sim_error(c, 500, NULL, "out of memory");
  char *upload_url = sim_media_upload_url(c->st, m), *self = sim_media_self_uri(m);
  json_t *o = upload_url && self ? json_pack("{s:s, s:s, s:s, s:o, s:s}", "id", m->id, "name", m->name, "uploadUrl",
                                             upload_url, "uploadHeaders", sim_media_upload_headers(m), "selfUri", self)
                                 : NULL;
  free(upload_url);
  free(self);
  return answer(c, 200, o);
}

/* ---- GET …/messages/media/{mediaId} ---- */

int sim_get_media(sim_ctx *c) {
  json_t *conv, *part;
  if (sim_require_user(c) || sim_resolve_agent_comm_read(c, &SIM_AGENT_MESSAGING, &conv, &part)) return -1;
  sim_media *m = path_media(c);
  if (m == NULL) return -1;
  sim_media_status visible = sim_media_visible(m);
  if (m->settled && m->polls_left > 0) m->polls_left--; /* "processing": the first GETs after the upload */
  return answer(c, 200, media_data(c, m, visible));
}

/* ---- GET …/messages/media (MessageMediaListing, 202 as the definition says) ---- */

static int query_param_error(sim_ctx *c, const char *name, const char *value, const char *allowed) {
  sim_error(c, 400, "invalid.query.param.value", "Value [%.100s] is not valid for parameter [%s]. Allowable values are: %s",
            value, name, allowed);
  sim_error_detail(c, name, "invalid.query.param.value");
  return -1;
}

static int query_long(sim_ctx *c, const char *name, long dflt, long lo, long hi, long *out) {
  int malformed;
  char *v = sim_query_get(c->query, name, &malformed), allowed[64];
  *out = dflt;
  if (malformed) return query_param_error(c, name, "(not percent-encoded)", "integers");
  if (v == NULL) return 0;
  int ok = *v != '\0' && strlen(v) <= 9;
  for (const char *p = v; ok && *p; p++) ok = *p >= '0' && *p <= '9';
  long n = ok ? strtol(v, NULL, 10) : 0;
  if (!ok || n < lo || n > hi) {
    snprintf(allowed, sizeof allowed, "integers from %ld to %ld", lo, hi);
    query_param_error(c, name, v, allowed);
    free(v);
    return -1;
  }
  free(v);
  *out = n;
  return 0;
}

static void page_uri(char *buf, size_t len, const char *path, const char *status, long size, long number) {
  snprintf(buf, len, "%s?%s%s%spageSize=%ld&pageNumber=%ld", path, status ? "status=" : "", status ? status : "",
           status ? "&" : "", size, number);
}

int sim_get_media_listing(sim_ctx *c) {
  json_t *conv, *part;
  if (sim_require_user(c) || sim_resolve_agent_comm_read(c, &SIM_AGENT_MESSAGING, &conv, &part)) return -1;
  int malformed;
  char *status = sim_query_get(c->query, "status", &malformed);
  if (malformed || (status && strcmp(status, "uploading") && strcmp(status, "valid") && strcmp(status, "invalid"))) {
    query_param_error(c, "status", status ? status : "(not percent-encoded)", "uploading, valid, invalid");
    free(status);
    return -1;
  }
  long size, number;
  if (query_long(c, "pageSize", 25, 1, LISTING_MAX_PAGE_SIZE, &size) || query_long(c, "pageNumber", 1, 1, 1000000, &number)) {
    free(status);
    return -1;
  }
  json_t *entities = json_array();
  long long total = 0, first = (long long)(number - 1) * size;
  for (size_t i = 0; entities && i < c->st->nmedia; i++) {
    sim_media *m = &c->st->media[i];
    if (strcmp(m->conv_id, c->segs[4]) || strcmp(m->comm_id, c->segs[6])) continue;
    sim_media_status visible = sim_media_visible(m);
    if (status && strcmp(status, sim_media_status_name(visible)) != 0) continue;
    if (total >= first && total < first + size) json_array_append_new(entities, media_data(c, m, visible));
    total++;
  }
  char path[1024], uri[1400];
  snprintf(path, sizeof path, "/api/v2/conversations/messages/%s/communications/%s/messages/media", c->segs[4],
           c->segs[6]);
  long long pages = (total + size - 1) / size;
  json_t *o = json_pack("{s:o, s:i, s:i, s:I, s:I}", "entities", entities, "pageSize", (int)size, "pageNumber",
                        (int)number, "total", (json_int_t)total, "pageCount", (json_int_t)pages);
  if (o) {
    page_uri(uri, sizeof uri, path, status, size, 1);
    json_object_set_new(o, "firstUri", json_string(uri));
    page_uri(uri, sizeof uri, path, status, size, number);
    json_object_set_new(o, "selfUri", json_string(uri));
    page_uri(uri, sizeof uri, path, status, size, pages > 0 ? (long)pages : 1);
    json_object_set_new(o, "lastUri", json_string(uri));
    if (number < pages) {
      page_uri(uri, sizeof uri, path, status, size, number + 1);
      json_object_set_new(o, "nextUri", json_string(uri));
    }
    if (number > 1) {
      page_uri(uri, sizeof uri, path, status, size, number - 1);
      json_object_set_new(o, "previousUri", json_string(uri));
    }
  }
  free(status);
  return answer(c, 202, o);
}

/* ---- the upload receiver: PUT {base}/uploads/{mediaId}?signature=… ---- */

/* Appends s to the XML text in out (at most len bytes in all), escaped; bytes of text that is not
 * valid UTF-8 and control characters become '?'. */
static void xml_append(char *out, size_t len, const char *s) {
  int utf8 = sim_utf8_count(s) >= 0;
  size_t o = strlen(out);
  for (const unsigned char *p = (const unsigned char *)s; *p && o + 7 < len; p++) {
    const char *rep = NULL;
    switch (*p) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&apos;"; break;
    default: break;
    }
    if (rep) {
      memcpy(out + o, rep, strlen(rep));
      o += strlen(rep);
    } else {
      out[o++] = (char)((*p < 0x20 || *p == 0x7F || (*p >= 0x80 && !utf8)) ? '?' : *p);
    }
  }
  out[o] = '\0';
}

static void set_raw(sim_ctx *c, int status, char *body, size_t len, const char *type, json_t *log) {
  json_decref(c->resp);
  c->resp = NULL;
  free(c->raw_resp);
  json_decref(c->log_resp);
  c->status = status;
  c->raw_resp = body;
  c->raw_resp_len = len;
  c->raw_resp_type = type;
  c->log_resp = log;
}

static void add_header(sim_ctx *c, const char *name, const char *value) {
  if (c->headers_out == NULL) c->headers_out = json_object();
  if (c->headers_out) json_object_set_new(c->headers_out, name, json_string(value));
}

/* An S3-style XML error (what a storage host answers a presigned request); recorded on the media. */
static int storage_error(sim_ctx *c, sim_media *m, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int storage_error(sim_ctx *c, sim_media *m, int status, const char *code, const char *fmt, ...) {
  char msg[700], xml[2400] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(xml, sizeof xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>", code);
  xml_append(xml, sizeof xml - 200, msg);
  strncat(xml, "</Message><Resource>", sizeof xml - strlen(xml) - 1);
  xml_append(xml, sizeof xml - 120, c->path);
  strncat(xml, "</Resource><RequestId>", sizeof xml - strlen(xml) - 1);
  strncat(xml, c->corr, sizeof xml - strlen(xml) - 1);
  strncat(xml, "</RequestId></Error>\n", sizeof xml - strlen(xml) - 1);
  char *body = strdup(xml);
  if (body == NULL) return sim_error(c, 500, NULL, "out of memory");
  set_raw(c, status, body, strlen(body), "application/xml", json_string(body));
  if (m) {
    m->last_status = status;
    snprintf(m->last_code, sizeof m->last_code, "%s", code);
    snprintf(m->last_message, sizeof m->last_message, "%.500s", msg);
  }
  return -1;
}

/* The request header (any case) or NULL. */
static const char *header(sim_ctx *c, const char *name) {
  return c->req ? u_map_get_case(c->req->map_header, name) : NULL;
}

/* A refusal for the content (size, MD5): the upload failed and the media becomes invalid. */
static void settle_invalid(sim_ctx *c, sim_media *m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void settle_invalid(sim_ctx *c, sim_media *m, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->reason, sizeof m->reason, fmt, ap);
  va_end(ap);
  m->settled = 1;
  m->verdict = SIM_MEDIA_INVALID;
  m->polls_left = sim_media_processing_polls(c->st);
}

int sim_upload_receive(sim_ctx *c) {
  sim_media *m = c->nsegs == 2 ? sim_media_find(c->st, c->segs[1]) : NULL;
  if (m == NULL)
    return storage_error(c, NULL, 404, "NoSuchUpload",
                         "No upload at this URL: gcsim holds no media with this id (a reset or a scenario load drops "
                         "every media).");
  if (strcmp(c->method, "PUT") != 0) {
    add_header(c, "Allow", "PUT");
    return storage_error(c, m, 405, "MethodNotAllowed",
                         "The upload URL takes the file's bytes with PUT, not %.20s.", c->method);
  }
  m->puts++;
  if (c->authorization)
    return storage_error(c, m, 403, "AccessDenied",
                         "An Authorization header was sent to the upload URL. The URL is presigned (its signature "
                         "authorizes the upload): send no Authorization header, and never a Genesys Cloud token, to it.");
  int malformed;
  char *sig = sim_query_get(c->query, "signature", &malformed);
  if (sig == NULL) {
    return storage_error(c, m, 403, "AccessDenied",
                         "The upload URL's signature query parameter is missing: use uploadUrl exactly as given.");
  }
  int sig_ok = sim_secret_equal(sig, m->signature);
  free(sig);
  if (!sig_ok)
    return storage_error(c, m, 403, "SignatureDoesNotMatch",
                         "The signature of the upload URL does not match: use uploadUrl exactly as given.");
  if (sim_now_ms(c->st) >= m->expires_ms) {
    char until[40];
    sim_format_time(m->expires_ms, until, sizeof until);
    return storage_error(c, m, 403, "AccessDenied",
                         "Request has expired: the upload URL was valid for %d seconds, until %s. Ask for a new one.",
                         SIM_UPLOAD_URL_LIFETIME_S, until);
  }
  if (m->settled)
    return storage_error(c, m, 409, "UploadAlreadyReceived",
                         "This upload URL was already used (media %s is %s): ask for a new upload URL to upload again.",
                         m->id, sim_media_status_name(m->verdict));
  json_t *want = sim_media_upload_headers(m);
  const char *name;
  json_t *v;
  json_object_foreach(want, name, v) {
    const char *got = header(c, name);
    if (got == NULL || strcmp(got, json_string_value(v)) != 0) {
      if (got == NULL)
        storage_error(c, m, 403, "SignatureDoesNotMatch",
                      "The header %s is missing: the upload was signed with every header of uploadHeaders, so send "
                      "each of them with its value.",
                      name);
      else
        storage_error(c, m, 403, "SignatureDoesNotMatch",
                      "The header %s is '%.200s', but the upload was signed for '%s': send every header of "
                      "uploadHeaders with exactly its value.",
                      name, got, json_string_value(v));
      json_decref(want);
      return -1;
    }
  }
  json_decref(want);
  const char *sent_md5 = header(c, "Content-MD5");
  if (sent_md5 && !md5_form_ok(sent_md5))
    return storage_error(c, m, 400, "InvalidDigest",
                         "The Content-MD5 header '%.100s' is not the base64 of a 16-byte MD5 digest (RFC 1864).",
                         sent_md5);
  if (c->raw_len != (size_t)m->declared) {
    int shorter = c->raw_len < (size_t)m->declared;
    settle_invalid(c, m, "the upload had %zu bytes, not the %ld bytes of contentLengthBytes", c->raw_len, m->declared);
    return storage_error(c, m, 400, shorter ? "IncompleteBody" : "EntityTooLarge",
                         "The body has %zu bytes, but the upload URL was created for %ld bytes (contentLengthBytes). "
                         "The media is now invalid.",
                         c->raw_len, m->declared);
  }
  unsigned char digest[16];
  sim_md5((const unsigned char *)c->raw_body, c->raw_len, digest);
  char *actual = sim_base64_encode(digest, sizeof digest);
  if (actual == NULL) return sim_error(c, 500, NULL, "out of memory");
  const char *expected = m->md5_b64 ? m->md5_b64 : sent_md5;
  if (expected && strcmp(actual, expected) != 0) {
    settle_invalid(c, m, "the bytes' MD5 is %s, not %s", actual, expected);
    storage_error(c, m, 400, "BadDigest",
                  "The Content-MD5 you specified did not match what was received: the body's MD5 is %s, not %s. "
                  "The media is now invalid.",
                  actual, expected);
    free(actual);
    return -1;
  }
  m->bytes = malloc(c->raw_len ? c->raw_len : 1);
  if (m->bytes == NULL) {
    free(actual);
    return sim_error(c, 500, NULL, "out of memory");
  }
  memcpy(m->bytes, c->raw_body, c->raw_len);
  m->len = c->raw_len;
  m->uploaded_ms = sim_now_ms(c->st);
  snprintf(m->actual_md5, sizeof m->actual_md5, "%s", actual);
  free(actual);
  snprintf(m->media_type, sizeof m->media_type, "%s", sim_media_sniff(m->bytes, m->len));
  m->settled = 1;
  m->polls_left = sim_media_processing_polls(c->st);
  if (sim_media_type_allowed(c->st, m->media_type)) {
    m->verdict = SIM_MEDIA_VALID;
  } else {
    char allowed[360];
    sim_media_allowed_list(c->st, allowed, sizeof allowed);
    m->verdict = SIM_MEDIA_INVALID;
    snprintf(m->reason, sizeof m->reason, "the content is %.63s (detected from its bytes), not an allowed media type (%.359s)",
             m->media_type, allowed);
  }
  char etag[40];
  snprintf(etag, sizeof etag, "\"");
  for (int i = 0; i < 16; i++) snprintf(etag + 1 + 2 * i, sizeof etag - 1 - 2 * (size_t)i, "%02x", digest[i]);
  strncat(etag, "\"", sizeof etag - strlen(etag) - 1);
  add_header(c, "ETag", etag);
  set_raw(c, 200, NULL, 0, NULL, NULL);
  return 0;
}

/* ---- GET {base}/media/{mediaId}/{name}: the url of a valid media ---- */

static void binary_answer(sim_ctx *c, const sim_media *m) {
  char *copy = malloc(m->len ? m->len : 1), note[128];
  if (copy == NULL) {
    sim_error(c, 500, NULL, "out of memory");
    return;
  }
  memcpy(copy, m->bytes, m->len);
  snprintf(note, sizeof note, "<%zu bytes of %s>", m->len, m->media_type);
  set_raw(c, 200, copy, m->len, m->media_type, json_string(note));
}

int sim_media_fetch(sim_ctx *c) {
  sim_media *m = c->nsegs == 3 ? sim_media_find(c->st, c->segs[1]) : NULL;
  if (m == NULL || strcmp(c->method, "GET") != 0 || strcmp(c->segs[2], m->name) != 0 ||
      sim_media_visible(m) != SIM_MEDIA_VALID)
    return storage_error(c, NULL, 404, "NoSuchKey", "No media at this URL (only a valid media's url serves its bytes).");
  binary_answer(c, m);
  return 0;
}

/* ---- admin: /sim/v1/media[/{id}[/info]] ---- */

int sim_admin_media(sim_ctx *c) {
  if (strcmp(c->method, "GET") != 0 || c->nsegs > 5 || (c->nsegs == 5 && strcmp(c->segs[4], "info") != 0))
    return sim_admin_error(c, 404, c->path, "no admin operation %s %s", c->method, c->path);
  if (c->nsegs == 3) {
    json_t *list = json_array();
    for (size_t i = 0; list && i < c->st->nmedia; i++) json_array_append_new(list, sim_media_info(c->st, &c->st->media[i]));
    json_t *o = list ? json_pack("{s:o}", "entities", list) : NULL;
    if (o == NULL) return sim_admin_error(c, 500, "$", "out of memory");
    c->status = 200;
    c->resp = o;
    return 0;
  }
  sim_media *m = sim_media_find(c->st, c->segs[3]);
  if (m == NULL) return sim_admin_error(c, 404, c->path, "no media with id '%s'", c->segs[3]);
  if (c->nsegs == 5) {
    json_t *o = sim_media_info(c->st, m);
    if (o == NULL) return sim_admin_error(c, 500, "$", "out of memory");
    c->status = 200;
    c->resp = o;
    return 0;
  }
  if (m->bytes == NULL)
    return sim_admin_error(c, 404, c->path, "media '%s' has no bytes: no upload was accepted (status %s)", m->id,
                           sim_media_status_name(sim_media_visible(m)));
  binary_answer(c, m);
  return 0;
}
