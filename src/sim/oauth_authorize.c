/* GET /oauth/authorize: the browser step of the authorization-code grant with PKCE (RFC 6749
 * §4.1.1, RFC 7636 §4.3), as `gcmsg login` drives it through a loopback redirect (RFC 8252).
 * Nobody sits at a browser here: gcsim logs in and consents as the client's consentUser at once,
 * and answers the 302 back to the client's redirect URI with a single-use code. */
#include "oauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"

#define MAX_QUERY_FIELDS 32
#define MAX_STATE_LEN 2048

typedef struct uri_parts {
  int https;
  char host[256]; /* lower-cased, with the brackets of an IPv6 literal */
  const char *rest; /* path and query (into the parsed string); "" when absent */
} uri_parts;

static int host_is_loopback(const char *host) {
  return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0;
}

static int bad(const char **why, const char *message) {
  *why = message;
  return -1;
}

static int parse_uri(const char *uri, uri_parts *u, const char **why) {
  size_t n = strlen(uri);
  if (n == 0) return bad(why, "it is empty");
  if (n > SIM_MAX_REDIRECT_URI_LEN) return bad(why, "it is longer than 2048 bytes");
  for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
    if (*p <= 0x20 || *p >= 0x7f)
      return bad(why, "it contains whitespace, control or non-ASCII characters (percent-encode them)");
  if (strchr(uri, '#')) return bad(why, "it has a fragment (#...), which a redirect URI must not have (RFC 6749 section 3.1.2)");
  const char *p;
  if (strncmp(uri, "https://", 8) == 0) {
    u->https = 1;
    p = uri + 8;
  } else if (strncmp(uri, "http://", 7) == 0) {
    u->https = 0;
    p = uri + 7;
  } else {
    return bad(why, "it is not an absolute http:// or https:// URI");
  }
  size_t alen = strcspn(p, "/?");
  if (alen == 0) return bad(why, "it has no host");
  if (memchr(p, '@', alen)) return bad(why, "it has user information (user@host)");
  size_t hlen;
  if (*p == '[') {
    const char *close = memchr(p, ']', alen);
    if (close == NULL) return bad(why, "its IPv6 host has no closing bracket");
    hlen = (size_t)(close - p) + 1;
    for (size_t i = 1; i + 1 < hlen; i++)
      if (!strchr("0123456789abcdefABCDEF:.", p[i])) return bad(why, "its host is not a valid IPv6 literal");
  } else {
    hlen = strcspn(p, ":/?");
    if (hlen > alen) hlen = alen;
    if (hlen == 0) return bad(why, "it has no host");
    for (size_t i = 0; i < hlen; i++)
      if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
            p[i] == '.' || p[i] == '-'))
        return bad(why, "its host has characters a host name cannot have");
  }
  if (hlen >= sizeof u->host) return bad(why, "its host is too long");
  for (size_t i = 0; i < hlen; i++) u->host[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
  u->host[hlen] = '\0';
  if (hlen < alen) {
    if (p[hlen] != ':') return bad(why, "it has characters after the host that are not a port");
    size_t plen = alen - hlen - 1;
    long port = 0;
    if (plen == 0 || plen > 5) return bad(why, "its port is not a number from 1 to 65535");
    for (size_t i = 0; i < plen; i++) {
      char ch = p[hlen + 1 + i];
      if (ch < '0' || ch > '9') return bad(why, "its port is not a number from 1 to 65535");
      port = port * 10 + (ch - '0');
    }
    if (port < 1 || port > 65535) return bad(why, "its port is not a number from 1 to 65535");
  }
  u->rest = p + alen;
  return 0;
}

int sim_redirect_uri_check(const char *uri, int registration, const char **why) {
  uri_parts u;
  if (parse_uri(uri, &u, why) != 0) return -1;
  if (registration && !u.https && !host_is_loopback(u.host)) {
    *why = "http is only for a loopback host (127.0.0.1, localhost, [::1]); use https";
    return -1;
  }
  return 0;
}

/* An empty path is "/" (RFC 3986 §6.2.3), so http://127.0.0.1:5000 matches http://127.0.0.1/. */
static int same_rest(const char *a, const char *b) {
  if (*a == '?' || *a == '\0') {
    if (*b == '/') b++;
  } else if (*b == '?' || *b == '\0') {
    if (*a == '/') a++;
  }
  return strcmp(a, b) == 0;
}

int sim_redirect_uri_matches(const char *registered, const char *requested) {
  if (strcmp(registered, requested) == 0) return 1;
  uri_parts r, q;
  const char *why;
  if (parse_uri(registered, &r, &why) != 0 || parse_uri(requested, &q, &why) != 0) return 0;
  if (r.https || !host_is_loopback(r.host)) return 0; /* anything else: the exact string only */
  return !q.https && strcmp(r.host, q.host) == 0 && same_rest(r.rest, q.rest);
}

/* The 400 page for a request gcsim must not redirect (unknown client, unregistered redirect URI):
 * a small HTML page for the person at the browser. Nothing from the request is reflected. */
static int page(sim_ctx *c, int status, const char *message) {
  static const char fmt[] = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>gcsim login error</title></head>"
                            "<body><h1>Login error</h1><p>%s</p></body></html>\n";
  size_t len = sizeof fmt + strlen(message);
  char *html = malloc(len);
  if (html == NULL) return sim_error(c, 500, NULL, "out of memory");
  snprintf(html, len, fmt, message);
  json_decref(c->resp);
  c->resp = NULL;
  c->status = status;
  c->raw_resp = html;
  c->raw_resp_len = strlen(html);
  c->raw_resp_type = "text/html; charset=utf-8";
  json_decref(c->log_resp);
  c->log_resp = json_string(message);
  return -1;
}

static void add_header(sim_ctx *c, const char *name, const char *value) {
  if (c->headers_out == NULL) c->headers_out = json_object();
  if (c->headers_out) json_object_set_new(c->headers_out, name, json_string(value));
}

/* Appends "?name=value" or "&name=value" (value percent-encoded unless encode is 0) to a growing
 * string. 0, or -1 on OOM. */
static int append_param(char **out, const char *name, const char *value, int encode) {
  char *enc = encode ? sim_url_encode(value) : strdup(value);
  if (enc == NULL) return -1;
  size_t old = strlen(*out), add = strlen(name) + strlen(enc) + 2;
  char *grown = realloc(*out, old + add + 1);
  if (grown == NULL) {
    free(enc);
    return -1;
  }
  snprintf(grown + old, add + 1, "%c%s=%s", strchr(grown, '?') ? '&' : '?', name, enc);
  free(enc);
  *out = grown;
  return 0;
}

/* The 302 back to the client: redirect_uri plus the parameters (name, value pairs, NULL-ended;
 * a NULL value is left out). The log shows the Location with any code redacted. */
static int redirect(sim_ctx *c, const char *redirect_uri, const char *const *params) {
  char *loc = strdup(redirect_uri), *logged = strdup(redirect_uri);
  for (size_t i = 0; loc && logged && params[i]; i += 2) {
    if (params[i + 1] == NULL) continue;
    int secret = strcmp(params[i], "code") == 0;
    if (append_param(&loc, params[i], params[i + 1], 1) ||
        append_param(&logged, params[i], secret ? "<redacted>" : params[i + 1], !secret)) {
      sim_free_secret(loc);
      loc = NULL;
    }
  }
  if (loc == NULL || logged == NULL) {
    sim_free_secret(loc);
    free(logged);
    return sim_error(c, 500, NULL, "out of memory");
  }
  json_decref(c->resp);
  c->resp = NULL;
  c->status = 302;
  add_header(c, "Location", loc);
  add_header(c, "Cache-Control", "no-store");
  json_decref(c->log_resp);
  c->log_resp = json_pack("{s:s}", "location", logged);
  sim_free_secret(loc);
  free(logged);
  return 0;
}

/* An error sent back to the client (RFC 6749 §4.1.2.1): error, error_description, state. */
static int redirect_error(sim_ctx *c, const char *redirect_uri, const char *state, const char *error,
                          const char *description) {
  const char *params[] = {"error", error, "error_description", description, "state", state, NULL};
  redirect(c, redirect_uri, params);
  return -1;
}

static int challenge_syntax_ok(const char *s) {
  if (strlen(s) != SIM_CHALLENGE_LEN) return 0;
  for (; *s; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
      return 0;
  return 1;
}

static int authorize(sim_ctx *c, const json_t *q) {
  const char *client_id = sim_jstr(q, "client_id"), *uri = sim_jstr(q, "redirect_uri");
  json_t *client = client_id ? sim_find_client(c->st, client_id) : NULL;
  if (client_id == NULL || *client_id == '\0') return page(c, 400, "The request has no client_id.");
  if (client == NULL) return page(c, 400, "Unknown client: no OAuth client has this client_id.");
  json_t *registered = json_object_get(client, "redirectUris");
  if (json_array_size(registered) == 0)
    return page(c, 400, "This client is not allowed the authorization code grant (it has no redirect URIs).");
  if (uri == NULL || *uri == '\0')
    return page(c, 400, "The request has no redirect_uri (gcsim requires it, one of the client's registered URIs).");
  const char *why;
  if (sim_redirect_uri_check(uri, 0, &why) != 0)
    return page(c, 400, "redirect_uri is not a URI gcsim can redirect to.");
  int matched = 0;
  size_t i;
  json_t *r;
  json_array_foreach(registered, i, r) matched |= sim_redirect_uri_matches(json_string_value(r), uri);
  if (!matched)
    return page(c, 400, "redirect_uri is not registered for this client: gcsim never redirects to an unregistered URI.");

  /* From here on the client's own redirect URI is trusted: errors go back to it. */
  const char *state = sim_jstr(q, "state"), *type = sim_jstr(q, "response_type");
  const char *challenge = sim_jstr(q, "code_challenge"), *method = sim_jstr(q, "code_challenge_method");
  if (state && strlen(state) > MAX_STATE_LEN)
    return redirect_error(c, uri, NULL, "invalid_request", "state is longer than 2048 bytes.");
  if (type == NULL || *type == '\0') return redirect_error(c, uri, state, "invalid_request", "response_type is required.");
  if (strcmp(type, "code") != 0)
    return redirect_error(c, uri, state, "unsupported_response_type", "gcsim serves response_type=code only.");
  if (challenge == NULL || *challenge == '\0')
    return redirect_error(c, uri, state, "invalid_request", "code_challenge is required (PKCE with S256, RFC 7636).");
  if (method == NULL || *method == '\0')
    return redirect_error(c, uri, state, "invalid_request", "code_challenge_method=S256 is required.");
  if (strcmp(method, "S256") != 0)
    return redirect_error(c, uri, state, "invalid_request",
                          strcmp(method, "plain") == 0 ? "code_challenge_method plain is not accepted: use S256."
                                                       : "code_challenge_method must be S256.");
  if (!challenge_syntax_ok(challenge))
    return redirect_error(c, uri, state, "invalid_request",
                          "code_challenge must be base64url(SHA-256(code_verifier)) without padding: 43 characters.");
  const char *user = sim_jstr(client, "consentUser");
  if (user == NULL || sim_find_user(c->st, user) == NULL)
    return redirect_error(c, uri, state, "access_denied", "The consent user of this client does not exist.");
  sim_auth_code *a = sim_code_new(c->st, client_id, user, uri, challenge);
  if (a == NULL) return redirect_error(c, uri, state, "temporarily_unavailable", "gcsim holds too many codes.");
  const char *params[] = {"code", a->value, "state", state, NULL};
  return redirect(c, uri, params);
}

int sim_oauth_authorize(sim_ctx *c) {
  if (strcmp(c->method, "GET") != 0) {
    add_header(c, "Allow", "GET");
    return page(c, 405, "Use GET for /oauth/authorize.");
  }
  json_t *q = sim_parse_form(c->query, strlen(c->query), MAX_QUERY_FIELDS);
  if (q == NULL) return page(c, 400, "The query string is malformed, or repeats a parameter.");
  int rc = authorize(c, q);
  json_decref(q);
  return rc;
}
