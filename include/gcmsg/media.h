/*
 * gcmsg/media.h - attachments for messaging conversations: the type of a file
 * from its content, and Genesys Cloud's media upload flow
 *
 *   1. POST .../messages/{cid}/communications/{comm}/messages/media/uploads
 *      {"fileName", "contentLengthBytes", "contentMd5"}  ->  MessageMediaUploadData
 *   2. PUT the bytes to its uploadUrl with exactly its uploadHeaders
 *   3. GET .../communications/{comm}/messages/media/{mediaId} until `valid`
 *
 * after which gcmsg_send sends the message with `mediaIds` (see send.h).
 *
 * Decisions (the sources leave these open; this is our reading):
 *  - contentMd5 is RFC 1864's Content-MD5 form: standard base64, with padding,
 *    of the 16-byte MD5 digest of the bytes (24 characters, e.g.
 *    "1B2M2Y8AsgTpgAmY7PhCfg==" for empty content), not hex.
 *  - The type comes from the bytes, never from the file name; see
 *    gcmsg_mime_sniff for the types and their exact strings. Content it does
 *    not know is checked (and refused by the default policy) as
 *    "application/octet-stream".
 *  - The upload step is a PUT (the presigned-URL convention; the API models do
 *    not name the verb). It carries the uploadHeaders and nothing of ours but
 *    Host, User-Agent and Content-Length: never an Authorization header (the
 *    bearer token stays with the API), and uploadHeaders asking for
 *    Authorization or Proxy-Authorization, or holding a line break, are refused.
 *    The uploadUrl must be https, unless the API URL itself is http (a local
 *    gcsim); redirects are not followed.
 *  - Only regular files are read (opened without blocking, checked with fstat
 *    after open: a FIFO or a device is refused), and at most the policy's size
 *    limit: a larger file is refused by the policy before it is read whole.
 *    Every problem with the file is GCMSG_EUSAGE "cannot read FILE: reason",
 *    a missing file included (GCMSG_ENOTFOUND means an unknown id at Genesys).
 *    An empty file is the policy's to refuse (attachment.size).
 *  - fileName is the base name of `path` (after the last '/').
 */
#ifndef GCMSG_MEDIA_H
#define GCMSG_MEDIA_H

#include "common.h"
#include "client.h"
#include "route.h"
#include "policy.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * An uploaded (or, for a dry run, prepared) attachment. Not `gcmsg_media`:
 * that name is the conversation media kind of conversation.h.
 */
typedef struct gcmsg_media_file gcmsg_media_file;

#define GCMSG_MEDIA_OPTIONS_VERSION 1

typedef struct gcmsg_media_options {
	unsigned int version;         /**< GCMSG_MEDIA_OPTIONS_VERSION */
	const gcmsg_policy *policy;   /**< NULL: the default policy */
	unsigned int poll_timeout_ms; /**< how long to wait for valid/invalid; 0: 30000 */
	int dry_run;                  /**< read, check, and prepare the first request; send nothing */
} gcmsg_media_options;

#define GCMSG_MEDIA_OPTIONS_INIT { GCMSG_MEDIA_OPTIONS_VERSION, NULL, 0, 0 }

/**
 * The type of content from its magic bytes: a static string, or NULL when the
 * content is none of these (or len is 0):
 *   image/jpeg, image/png, image/gif (87a, 89a), image/webp, image/bmp,
 *   image/tiff, application/pdf, application/zip (docx, xlsx, jar, ... are
 *   ZIP archives and are reported as such), video/mp4 (ftyp brands isom,
 *   iso2/4/5/6, mp41, mp42, avc1, M4V, MSNV, dash), audio/mp4 (M4A, M4B),
 *   video/quicktime (qt), audio/mpeg (an ID3v2 tag or an MPEG Layer III frame
 *   header), audio/ogg, video/ogg (Theora), audio/wav, and text/plain (valid
 *   UTF-8, checked to the last byte, without control characters other than
 *   tab, line feed, carriage return and form feed).
 */
GCMSG_EXTERN(const char *) gcmsg_mime_sniff(const unsigned char *data, size_t len);

/**
 * Upload the file at `path` for sending along `route`, and wait until Genesys
 * says it is valid. In order:
 *  - the route must be agent messaging (the agentless and legacy chat bodies
 *    carry no mediaIds): else GCMSG_EROUTE, rule `media.agent-only`; a refused
 *    route gives gcmsg_route_refusal_code(route) with its rule;
 *  - read the file (regular files only, capped; GCMSG_EUSAGE "cannot read
 *    FILE: reason"), sniff its type, hash it;
 *  - gcmsg_policy_check_attachment(base name, type, size): a violation is
 *    GCMSG_EPOLICY with the policy's summary as the explanation, before any
 *    request;
 *  - a dry run stops here: GCMSG_OK, the uploads request recorded, status
 *    "unchecked", no media id;
 *  - POST .../messages/media/uploads ("the media upload could not start: POST
 *    ... answered 400", the code of the status as for any API call); its answer
 *    must hold id and uploadUrl;
 *  - PUT the bytes to uploadUrl: any status but 2xx is GCMSG_EREMOTE ("the
 *    media upload was refused: PUT uploadUrl answered 403", http_status set,
 *    the storage host's answer, made printable and cut at 300 bytes, as the
 *    error's message): the storage host is not the API, so its 401/403 say
 *    nothing about the token's rights; a network failure is "the media upload
 *    failed: ...";
 *  - GET .../messages/media/{id} at once, then until `valid` (GCMSG_OK) or
 *    `invalid` (GCMSG_EREMOTE "media ID became invalid"), waiting 100 ms, then
 *    twice as long each time up to 2 s, never past poll_timeout_ms (GCMSG_EREMOTE
 *    "media ID still uploading after N s"); a failing GET keeps its code
 *    ("checking media ID failed: ...").
 * The detail of a failure is on the client (gcmsg_client_last_error).
 * On GCMSG_OK, *out holds the result; on failure *out is NULL.
 */
GCMSG_EXTERN(int) gcmsg_media_upload(gcmsg_media_file **out, gcmsg_client *client, const gcmsg_route *route,
                                     const char *path, const gcmsg_media_options *opts);
GCMSG_EXTERN(void) gcmsg_media_free(gcmsg_media_file *m);

/** The media id for `mediaIds`; NULL for a dry run. */
GCMSG_EXTERN(const char *) gcmsg_media_id(const gcmsg_media_file *m);
/** The fileName sent: the base name of the path. */
GCMSG_EXTERN(const char *) gcmsg_media_file_name(const gcmsg_media_file *m);
/** The sniffed type ("application/octet-stream" when unknown). */
GCMSG_EXTERN(const char *) gcmsg_media_mime_type(const gcmsg_media_file *m);
GCMSG_EXTERN(unsigned long long) gcmsg_media_size(const gcmsg_media_file *m);
/** contentMd5 as sent: base64 of the MD5 digest (RFC 1864). */
GCMSG_EXTERN(const char *) gcmsg_media_md5(const gcmsg_media_file *m);
/** "valid", or "unchecked" for a dry run. */
GCMSG_EXTERN(const char *) gcmsg_media_status(const gcmsg_media_file *m);
/** MessageMediaData.url when the server gave one, else NULL. */
GCMSG_EXTERN(const char *) gcmsg_media_url(const gcmsg_media_file *m);

/**
 * The requests made (or, for a dry run, that would be made), in order: the
 * uploads POST, the PUT, then each poll GET. Headers are "Name: value"; the
 * API's Authorization shows as "Bearer <redacted>". The PUT's URL shows its
 * query as "?<redacted>" (a presigned URL's query is its signature) and its
 * body is NULL (the bytes are not repeated here); so is a GET's.
 */
GCMSG_EXTERN(size_t) gcmsg_media_request_count(const gcmsg_media_file *m);
GCMSG_EXTERN(const char *) gcmsg_media_request_method(const gcmsg_media_file *m, size_t i);
GCMSG_EXTERN(const char *) gcmsg_media_request_url(const gcmsg_media_file *m, size_t i);
GCMSG_EXTERN(size_t) gcmsg_media_request_header_count(const gcmsg_media_file *m, size_t i);
GCMSG_EXTERN(const char *) gcmsg_media_request_header(const gcmsg_media_file *m, size_t i, size_t j);
GCMSG_EXTERN(const char *) gcmsg_media_request_body(const gcmsg_media_file *m, size_t i);

#ifdef __cplusplus
}
#endif

#endif
