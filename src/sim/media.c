#include "media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const SIM_MEDIA_SNIFFABLE[] = {
    "image/jpeg", "image/png",  "image/gif",       "image/webp",     "image/tiff",      "application/pdf",
    "video/mp4",  "video/quicktime", "video/3gpp", "audio/mp4",      "audio/mpeg",      "audio/ogg",
    "audio/wav",  "application/zip", "text/plain", "application/octet-stream", NULL,
};

const char *const SIM_MEDIA_DEFAULT_TYPES[] = {"image/jpeg", "image/png", "image/gif", "application/pdf",
                                               "video/mp4",  "audio/mpeg", NULL};

int sim_media_type_sniffable(const char *type) {
  for (size_t i = 0; type && SIM_MEDIA_SNIFFABLE[i]; i++)
    if (strcmp(type, SIM_MEDIA_SNIFFABLE[i]) == 0) return 1;
  return 0;
}

/* 1 when the bytes are UTF-8 text without NUL or control characters (tab, LF, CR, FF allowed). */
static int looks_like_text(const unsigned char *b, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = b[i];
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7F) return 0;
      i++;
      continue;
    }
    int extra;
    unsigned cp;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if (i + (size_t)extra >= n) return 0;
    for (int k = 1; k <= extra; k++) {
      if ((b[i + (size_t)k] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (b[i + (size_t)k] & 0x3F);
    }
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp < 0xA0))
      return 0;
    i += (size_t)extra + 1;
  }
  return 1;
}

const char *sim_media_sniff(const unsigned char *b, size_t n) {
  if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return "image/jpeg";
  if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return "image/png";
  if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0)) return "image/gif";
  if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0) return "image/webp";
  if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WAVE", 4) == 0) return "audio/wav";
  if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0)) return "image/tiff";
  if (n >= 5 && memcmp(b, "%PDF-", 5) == 0) return "application/pdf";
  if (n >= 12 && memcmp(b + 4, "ftyp", 4) == 0) {
    /* ISO base media file: the major brand tells the family */
    if (memcmp(b + 8, "qt  ", 4) == 0) return "video/quicktime";
    if (memcmp(b + 8, "M4A ", 4) == 0 || memcmp(b + 8, "M4B ", 4) == 0) return "audio/mp4";
    if (memcmp(b + 8, "3gp", 3) == 0 || memcmp(b + 8, "3g2", 3) == 0) return "video/3gpp";
    return "video/mp4";
  }
  if (n >= 4 && memcmp(b, "OggS", 4) == 0) return "audio/ogg";
  if (n >= 3 && memcmp(b, "ID3", 3) == 0) return "audio/mpeg";
  /* an MPEG audio frame header: 11 sync bits, a defined version (not 01) and layer (not 00) */
  if (n >= 4 && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0 && (b[1] & 0x18) != 0x08 && (b[1] & 0x06) != 0 &&
      (b[2] & 0xF0) != 0xF0 && (b[2] & 0x0C) != 0x0C)
    return "audio/mpeg";
  if (n >= 4 && b[0] == 'P' && b[1] == 'K' && ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6)))
    return "application/zip";
  if (n > 0 && looks_like_text(b, n)) return "text/plain";
  return "application/octet-stream";
}

const char *sim_media_attachment_kind(const char *mime) {
  if (strncmp(mime, "image/", 6) == 0) return "Image";
  if (strncmp(mime, "video/", 6) == 0) return "Video";
  if (strncmp(mime, "audio/", 6) == 0) return "Audio";
  return "File";
}

static void media_free(sim_media *m) {
  free(m->conv_id);
  free(m->comm_id);
  free(m->user_id);
  free(m->name);
  free(m->md5_b64);
  free(m->bytes);
}

void sim_media_clear(sim_state *st) {
  for (size_t i = 0; i < st->nmedia; i++) media_free(&st->media[i]);
  free(st->media);
  st->media = NULL;
  st->nmedia = 0;
  st->media_reserved = 0;
}

sim_media *sim_media_new(sim_state *st, const char *conv_id, const char *comm_id, const char *user_id,
                         const char *name, const char *md5_b64, long declared, int *full) {
  *full = 0;
  if (st->nmedia >= SIM_MAX_MEDIA || st->media_reserved + (size_t)declared > (size_t)SIM_MAX_MEDIA_STORE) {
    *full = 1;
    return NULL;
  }
  sim_media *grown = realloc(st->media, (st->nmedia + 1) * sizeof *grown);
  if (grown == NULL) return NULL;
  st->media = grown;
  sim_media *m = &st->media[st->nmedia];
  memset(m, 0, sizeof *m);
  m->conv_id = strdup(conv_id);
  m->comm_id = strdup(comm_id);
  m->user_id = strdup(user_id);
  m->name = strdup(name);
  m->md5_b64 = md5_b64 ? strdup(md5_b64) : NULL;
  if (!m->conv_id || !m->comm_id || !m->user_id || !m->name || (md5_b64 && !m->md5_b64)) {
    media_free(m);
    return NULL;
  }
  sim_new_uuid(st, m->id, sizeof m->id);
  sim_rng_token(&st->rng, m->signature, sizeof m->signature);
  m->declared = declared;
  m->created_ms = sim_now_ms(st);
  m->expires_ms = m->created_ms + (int64_t)SIM_UPLOAD_URL_LIFETIME_S * 1000;
  m->verdict = SIM_MEDIA_UPLOADING;
  st->nmedia++;
  st->media_reserved += (size_t)declared;
  return m;
}

sim_media *sim_media_find(sim_state *st, const char *id) {
  for (size_t i = 0; id && i < st->nmedia; i++)
    if (strcmp(st->media[i].id, id) == 0) return &st->media[i];
  return NULL;
}

sim_media_status sim_media_visible(const sim_media *m) {
  if (!m->settled || m->polls_left > 0) return SIM_MEDIA_UPLOADING;
  return m->verdict;
}

const char *sim_media_status_name(sim_media_status s) {
  switch (s) {
  case SIM_MEDIA_VALID: return "valid";
  case SIM_MEDIA_INVALID: return "invalid";
  default: return "uploading";
  }
}

static char *format(const char *fmt, const char *a, const char *b, const char *c2) {
  int n = snprintf(NULL, 0, fmt, a, b, c2);
  if (n < 0) return NULL;
  char *out = malloc((size_t)n + 1);
  if (out) snprintf(out, (size_t)n + 1, fmt, a, b, c2);
  return out;
}

char *sim_media_upload_url(const sim_state *st, const sim_media *m) {
  return format("%s/uploads/%s?signature=%s", st->base_url, m->id, m->signature);
}

char *sim_media_url(const sim_state *st, const sim_media *m) {
  char *enc = sim_url_encode(m->name);
  if (enc == NULL) return NULL;
  char *out = format("%s/media/%s/%s", st->base_url, m->id, enc);
  free(enc);
  return out;
}

char *sim_media_self_uri(const sim_media *m) {
  int n = snprintf(NULL, 0, "/api/v2/conversations/messages/%s/communications/%s/messages/media/%s", m->conv_id,
                   m->comm_id, m->id);
  char *out = n < 0 ? NULL : malloc((size_t)n + 1);
  if (out)
    snprintf(out, (size_t)n + 1, "/api/v2/conversations/messages/%s/communications/%s/messages/media/%s", m->conv_id,
             m->comm_id, m->id);
  return out;
}

json_t *sim_media_upload_headers(const sim_media *m) {
  json_t *h = json_pack("{s:s, s:s, s:s}", "Content-Type", "application/octet-stream", "x-amz-server-side-encryption",
                        "AES256", "x-amz-meta-media-id", m->id);
  if (h && m->md5_b64) json_object_set_new(h, "Content-MD5", json_string(m->md5_b64));
  return h;
}

static json_t *limits(const sim_state *st) { return json_object_get(st->org, "limits"); }

long sim_media_max_bytes(const sim_state *st) {
  json_t *v = json_object_get(limits(st), "mediaMaxBytes");
  return v ? (long)json_integer_value(v) : SIM_MEDIA_DEFAULT_MAX_BYTES;
}

long sim_media_processing_polls(const sim_state *st) {
  json_t *v = json_object_get(limits(st), "mediaProcessingPolls");
  return v ? (long)json_integer_value(v) : SIM_MEDIA_DEFAULT_POLLS;
}

int sim_media_type_allowed(const sim_state *st, const char *type) {
  json_t *types = json_object_get(limits(st), "mediaTypes");
  size_t i;
  json_t *t;
  if (types == NULL) {
    for (i = 0; SIM_MEDIA_DEFAULT_TYPES[i]; i++)
      if (strcmp(type, SIM_MEDIA_DEFAULT_TYPES[i]) == 0) return 1;
    return 0;
  }
  json_array_foreach(types, i, t) {
    if (strcmp(type, json_string_value(t)) == 0) return 1;
  }
  return 0;
}

void sim_media_allowed_list(const sim_state *st, char *buf, size_t len) {
  json_t *types = json_object_get(limits(st), "mediaTypes");
  size_t i, n = types ? json_array_size(types) : 0;
  if (len == 0) return;
  buf[0] = '\0';
  for (i = 0; types ? i < n : SIM_MEDIA_DEFAULT_TYPES[i] != NULL; i++) {
    const char *t = types ? json_string_value(json_array_get(types, i)) : SIM_MEDIA_DEFAULT_TYPES[i];
    size_t used = strlen(buf);
    if (used < len) snprintf(buf + used, len - used, "%s%s", i ? ", " : "", t);
  }
  if (buf[0] == '\0') snprintf(buf, len, "none");
}

json_t *sim_media_info(const sim_state *st, const sim_media *m) {
  char created[40], expires[40], uploaded[40];
  sim_format_time(m->created_ms, created, sizeof created);
  sim_format_time(m->expires_ms, expires, sizeof expires);
  char *upload_url = sim_media_upload_url(st, m), *url = sim_media_url(st, m), *self = sim_media_self_uri(m);
  json_t *info = NULL;
  if (upload_url && url && self)
    info = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:s, s:s, s:s, s:I, s:I}", "id", m->id,
                     "conversationId", m->conv_id, "communicationId", m->comm_id, "userId", m->user_id, "name", m->name,
                     "contentLengthBytes", (json_int_t)m->declared, "status",
                     sim_media_status_name(sim_media_visible(m)), "uploadUrl", upload_url, "uploadHeaders",
                     sim_media_upload_headers(m), "selfUri", self, "created", created, "expires", expires, "puts",
                     (json_int_t)m->puts, "pollsLeft", (json_int_t)m->polls_left);
  if (info) {
    json_object_set_new(info, "contentMd5", m->md5_b64 ? json_string(m->md5_b64) : json_null());
    json_object_set_new(info, "verdict", m->settled ? json_string(sim_media_status_name(m->verdict)) : json_null());
    json_object_set_new(info, "reason", m->reason[0] ? json_string(m->reason) : json_null());
    if (m->bytes) {
      sim_format_time(m->uploaded_ms, uploaded, sizeof uploaded);
      json_object_set_new(info, "uploaded", json_string(uploaded));
      json_object_set_new(info, "size", json_integer((json_int_t)m->len));
      json_object_set_new(info, "md5", json_string(m->actual_md5));
      json_object_set_new(info, "mediaType", json_string(m->media_type));
      json_object_set_new(info, "url", json_string(url));
    } else {
      json_object_set_new(info, "uploaded", json_null());
      json_object_set_new(info, "size", json_null());
      json_object_set_new(info, "md5", json_null());
      json_object_set_new(info, "mediaType", json_null());
      json_object_set_new(info, "url", json_null());
    }
    json_object_set_new(info, "lastRefusal",
                        m->last_status ? json_pack("{s:i, s:s, s:s}", "status", m->last_status, "code", m->last_code,
                                                   "message", m->last_message)
                                       : json_null());
  }
  free(upload_url);
  free(url);
  free(self);
  return info;
}
