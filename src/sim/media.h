/* Message media (the messaging media upload flow): the store of uploads, gcsim's own content
 * sniffing, and the status a media shows. The routes are in routes_media.c; the contract is in
 * docs/gcsim-scenarios.md ("Media upload"). */
#ifndef GCSIM_MEDIA_H
#define GCSIM_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "state.h"

#define SIM_MAX_MEDIA 1000
/* Sum of the declared sizes of the media gcsim holds at once. */
#define SIM_MAX_MEDIA_STORE (512L * 1024 * 1024)
/* The largest limits.mediaMaxBytes a scenario may set (and the largest body the server reads). */
#define SIM_MEDIA_MAX_BYTES_CAP (100L * 1024 * 1024)
#define SIM_MEDIA_DEFAULT_MAX_BYTES (10L * 1024 * 1024)
#define SIM_MEDIA_DEFAULT_POLLS 1
#define SIM_MEDIA_MAX_POLLS 100
/* An upload URL is good for this long on gcsim's clock. */
#define SIM_UPLOAD_URL_LIFETIME_S 3600
#define SIM_UPLOAD_SIGNATURE_LEN 43

typedef enum { SIM_MEDIA_UPLOADING, SIM_MEDIA_VALID, SIM_MEDIA_INVALID } sim_media_status;

typedef struct sim_media {
  char id[40];
  char signature[SIM_UPLOAD_SIGNATURE_LEN + 1];
  char *conv_id, *comm_id, *user_id;
  char *name;     /* UploadMediaRequest.fileName */
  char *md5_b64;  /* UploadMediaRequest.contentMd5, or NULL */
  long declared;  /* UploadMediaRequest.contentLengthBytes */
  int64_t created_ms, expires_ms;
  /* Set once a PUT was accepted, or refused for its content (size, MD5): the verdict is known. */
  int settled;
  sim_media_status verdict;
  long polls_left;        /* GETs that still answer uploading after settling */
  unsigned char *bytes;   /* the accepted body (NULL until then, and for a content refusal) */
  size_t len;
  int64_t uploaded_ms;
  char media_type[64];    /* sniffed; "" until bytes arrive */
  char actual_md5[25];    /* base64 MD5 of the accepted bytes */
  char reason[512];       /* why the media is invalid, "" otherwise */
  long puts;              /* PUTs received */
  int last_status;        /* the last refused PUT: HTTP status (0: none), code and message */
  char last_code[40];
  char last_message[512];
} sim_media;

/* The sniffable types; limits.mediaTypes may name only these. */
extern const char *const SIM_MEDIA_SNIFFABLE[];
/* The default of limits.mediaTypes. */
extern const char *const SIM_MEDIA_DEFAULT_TYPES[];
int sim_media_type_sniffable(const char *type);

/* gcsim's content sniffing: a MIME type from the first bytes (never NULL). */
const char *sim_media_sniff(const unsigned char *bytes, size_t len);
/* ConversationContentAttachment.mediaType for a MIME type: Image, Video, Audio or File. */
const char *sim_media_attachment_kind(const char *mime);

/* A new media (not yet uploaded); NULL when gcsim holds too many (count or declared bytes) or on
 * OOM, with *full set in the first case. */
sim_media *sim_media_new(sim_state *st, const char *conv_id, const char *comm_id, const char *user_id,
                         const char *name, const char *md5_b64, long declared, int *full);
sim_media *sim_media_find(sim_state *st, const char *id);
void sim_media_clear(sim_state *st);

/* The status a GET shows (does not consume a poll). */
sim_media_status sim_media_visible(const sim_media *m);
const char *sim_media_status_name(sim_media_status s);

/* URLs: uploadUrl ({base}/uploads/{id}?signature=…), url ({base}/media/{id}/{name}) and the
 * selfUri of the Genesys resource. malloc'd; NULL on OOM. */
char *sim_media_upload_url(const sim_state *st, const sim_media *m);
char *sim_media_url(const sim_state *st, const sim_media *m);
char *sim_media_self_uri(const sim_media *m);
/* The uploadHeaders map the client must send with its PUT. */
json_t *sim_media_upload_headers(const sim_media *m);

/* Limits of the live org (normalized scenario). */
long sim_media_max_bytes(const sim_state *st);
long sim_media_processing_polls(const sim_state *st);
int sim_media_type_allowed(const sim_state *st, const char *type);
/* The allowed types as one comma-separated line (buf). */
void sim_media_allowed_list(const sim_state *st, char *buf, size_t len);

/* The admin view of a media (GET /sim/v1/media/{id}/info). */
json_t *sim_media_info(const sim_state *st, const sim_media *m);

#endif
