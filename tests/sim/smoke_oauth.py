#!/usr/bin/env python3
"""Smoke test of gcsim's user login (the `gcmsg login` flow): the authorization code grant with
PKCE through a loopback redirect to a real listener, as the official `gc` CLI does it; every
refusal of /oauth/authorize (the 400 page that never redirects, and the error redirects) and of
/oauth/token (invalid_grant, invalid_request, invalid_client, unauthorized_client, each grant a
client lacks; every answer no-store and no-cache, every 401 a Basic challenge); the refresh
token (rotation, reuse, expiry); DELETE and HEAD /api/v2/tokens/me; the code-grant user token on
the other routes; the admin token listing; the scenario keys' validation; and that no code,
verifier, token, refresh token or secret reaches the request log or stderr.

Usage: smoke_oauth.py PATH/TO/gcsim PATH/TO/tests/sim/scenarios/login.json
Standard library only. Exit 0 on success, 1 on the first failure (with the reason).
"""
import base64
import hashlib
import http.server
import json
import os
import random
import subprocess
import sys
import threading
import urllib.parse
import urllib.request

from simlib import ALICE, C, CAROL, COMM, HTTP_TIMEOUT, check, expect_error, run_main

CLI = "gcmsg-cli"  # public: PKCE, no secret; registered http://127.0.0.1/callback, http://localhost:8400/oauth
WEB = "web-console"  # confidential: secret, code and client-credentials; https://console.example.com/oauth/callback
WEB_SECRET = "web-console-secret"
WEB_URI = "https://console.example.com/oauth/callback"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SECRETS = set()  # every credential seen: none may show in the log or on stderr


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce(length=64, seed=None):
    """A verifier of `length` unreserved characters and its S256 challenge, with hashlib."""
    rng = random.Random(seed)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    verifier = "".join(rng.choice(alphabet) for _ in range(length))
    SECRETS.add(verifier)
    return verifier, b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def basic(client, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{client}:{secret}".encode()).decode()}


def authorize(sim, client=CLI, redirect_uri="http://127.0.0.1:5555/callback", challenge=None, method="S256",
              state="st-1", response_type="code", extra=(), http_method="GET"):
    q = [("response_type", response_type), ("client_id", client), ("redirect_uri", redirect_uri),
         ("code_challenge", challenge), ("code_challenge_method", method), ("state", state), *extra]
    query = urllib.parse.urlencode([(k, v) for k, v in q if v is not None])
    return sim.call(http_method, "/oauth/authorize?" + query)


def location(a, redirect_uri):
    """The redirect's query as a dict; checks that it goes to redirect_uri."""
    check(a.status == 302, "authorize answers 302", {"status": a.status, "body": a.raw[:300]})
    loc = a.header("Location")
    check(loc and loc.startswith(redirect_uri + "?"), "the redirect goes to the redirect_uri", loc)
    check(a.header("Cache-Control") == "no-store" and a.raw == b"", "302: no-store, no body", dict(a.headers))
    pairs = urllib.parse.parse_qsl(loc.split("?", 1)[1], keep_blank_values=True)
    check(len({k for k, _ in pairs}) == len(pairs), "no parameter twice", loc)
    return dict(pairs)


def get_code(sim, challenge, redirect_uri="http://127.0.0.1:5555/callback", client=CLI, state="st-1"):
    q = location(authorize(sim, client=client, redirect_uri=redirect_uri, challenge=challenge, state=state),
                 redirect_uri)
    check(set(q) == ({"code", "state"} if state is not None else {"code"}) and q.get("state") == state,
          "code and state", q)
    SECRETS.add(q["code"])
    return q["code"]


def token(sim, fields, headers=None):
    h = dict(FORM)
    h.update(headers or {})
    a = sim.call("POST", "/oauth/token", raw=urllib.parse.urlencode(fields).encode(), headers=h)
    if a.status == 200:
        SECRETS.update(v for k, v in a.json.items() if k in ("access_token", "refresh_token"))
    # RFC 6749 §5.1: no cache may keep an answer of the token endpoint
    check(a.header("Cache-Control") == "no-store" and a.header("Pragma") == "no-cache",
          f"/oauth/token {a.status}: Cache-Control: no-store, Pragma: no-cache", dict(a.headers))
    # §5.2 (and RFC 9110 §15.5.2): a 401 challenges with the scheme the client authenticates with
    challenge = a.header("WWW-Authenticate") or ""
    check(challenge.startswith('Basic realm="') if a.status == 401 else not challenge,
          f"/oauth/token {a.status}: WWW-Authenticate Basic on a 401 only", dict(a.headers))
    return a


def exchange(sim, code, verifier, redirect_uri="http://127.0.0.1:5555/callback", client=CLI, headers=None):
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
              "code_verifier": verifier}
    if client is not None:
        fields["client_id"] = client
    return token(sim, fields, headers)


def refresh(sim, refresh_token, client=CLI, headers=None):
    fields = {"grant_type": "refresh_token"}
    if refresh_token is not None:
        fields["refresh_token"] = refresh_token
    if client is not None:
        fields["client_id"] = client
    return token(sim, fields, headers)


def expect_oauth(a, status, error, what, contains=None):
    check(a.status == status and a.json and a.json.get("error") == error, f"{what}: {status} {error}",
          {"status": a.status, "body": a.json})
    check(set(a.json) == {"error", "description", "error_description"} and a.json["error_description"],
          f"{what}: OAuth error shape", a.json)
    if contains:
        check(contains in a.json["error_description"], f"{what}: says '{contains}'", a.json)


def expect_page(a, status, what, contains):
    check(a.status == status, f"{what}: {status} page", {"status": a.status, "body": a.raw[:300]})
    check(a.header("Location") is None, f"{what}: never redirects", a.header("Location"))
    text = a.raw.decode()
    check(a.header("Content-Type") == "text/html; charset=utf-8" and text.startswith("<!DOCTYPE html>") and
          contains in text, f"{what}: an HTML page saying '{contains}'", text)


def expect_redirect_error(a, error, what, state="st-1", contains=None, redirect_uri="http://127.0.0.1:5555/callback"):
    q = location(a, redirect_uri)
    want = {"error", "error_description"} | ({"state"} if state is not None else set())
    check(set(q) == want and q["error"] == error and q.get("state") == state, f"{what}: redirect with error={error}", q)
    if contains:
        check(contains in q["error_description"], f"{what}: says '{contains}'", q)


class Listener:
    """The loopback redirect receiver a CLI runs while the browser logs in (RFC 8252 §7.3)."""

    def __init__(self):
        got = self.got = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                got.append(self.path)
                body = b"<p>You are logged in; you can close this window.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.server.timeout = HTTP_TIMEOUT
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.handle_request)
        self.thread.start()

    def close(self):
        self.thread.join(HTTP_TIMEOUT)
        self.server.server_close()


def full_flow(sim):
    """What `gcmsg login` does: a verifier, the browser to /oauth/authorize, gcsim's 302 to the
    loopback listener on a port of its own choosing, the code exchanged without a secret."""
    verifier, challenge = pkce(64, seed=1)
    state = "s t&a=t/\u00e9"
    listener = Listener()
    try:
        redirect_uri = f"http://127.0.0.1:{listener.port}/callback"  # registered without a port
        a = authorize(sim, redirect_uri=redirect_uri, challenge=challenge, state=state)
        q = location(a, redirect_uri)
        check(q["state"] == state and len(q["code"]) >= 32, "code and the state, percent-encoded", q)
        with urllib.request.urlopen(a.header("Location"), timeout=HTTP_TIMEOUT) as r:  # the browser follows it
            check(r.status == 200, "the listener answered the browser")
    finally:
        listener.close()
    check(len(listener.got) == 1, "the listener got one request", listener.got)
    got = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(listener.got[0]).query))
    check(urllib.parse.urlsplit(listener.got[0]).path == "/callback" and got == q, "the listener got code and state",
          listener.got)
    SECRETS.add(got["code"])
    a = exchange(sim, got["code"], verifier, redirect_uri=redirect_uri)
    check(a.status == 200 and set(a.json) == {"access_token", "token_type", "expires_in", "refresh_token"} and
          a.json["token_type"] == "bearer" and a.json["expires_in"] == 3600 and a.json["access_token"] and
          a.json["refresh_token"] and a.json["refresh_token"] != a.json["access_token"], "token answer", a.json)
    return a.json


def user_token_behaviour(sim, tok):
    """A code-grant token is a user token of the consent user, like the admin API's."""
    at = tok["access_token"]
    a = sim.call("GET", "/api/v2/tokens/me", token=at)
    check(a.status == 200 and a.json["OAuthClient"]["id"] == CLI and
          a.json["OAuthClient"]["authorizedGrantType"] == "CODE" and a.json["OAuthClient"]["name"] == "gcmsg CLI (PKCE)",
          "tokens/me names the client and the CODE grant", a.json)
    a = sim.call("GET", "/api/v2/users/me?expand=authorization", token=at)
    check(a.status == 200 and a.json["id"] == ALICE and "conversation:message:create" in
          a.json["authorization"]["permissions"], "users/me is the consent user", a.json)
    a = sim.call("POST", f"/api/v2/conversations/messages/{C(1)}/communications/{COMM(1, 3)}/messages",
                 {"textBody": "Hello from a login"}, token=at)
    check(a.status == 200, "the agent route takes the login token", a.json)
    e = sim.transcript(C(1))[-1]
    check(e["sender"]["userId"] == ALICE and e["text"] == "Hello from a login", "the transcript names the user", e)
    b = sim.call("GET", f"/api/v2/conversations/messages/{C(1)}/messages/{a.json['id']}", token=at)
    check(b.status == 200 and b.json["createdBy"]["id"] == ALICE, "read back: createdBy the user", b.json)
    a = sim.call("HEAD", "/api/v2/tokens/me", token=at)
    check(a.status == 200 and a.raw == b"" and a.header("inin-ratelimit-count"), "HEAD tokens/me: 200, no body",
          dict(a.headers))


def verifier_lengths(sim):
    """RFC 7636 §4.1: 43 to 128 characters; these lengths cross SHA-256's padding boundaries."""
    for n in (43, 55, 56, 63, 64, 65, 119, 120, 127, 128):
        verifier, challenge = pkce(n, seed=n)
        a = exchange(sim, get_code(sim, challenge), verifier)
        check(a.status == 200, f"a {n}-character verifier", a.json)
    for bad in ("a" * 42, "a" * 129, "a" * 50 + "+", "a" * 50 + "="):
        verifier, challenge = pkce(60, seed=7)
        code = get_code(sim, challenge)
        expect_oauth(exchange(sim, code, bad), 400, "invalid_request", f"verifier {bad[-3:]!r} of {len(bad)}",
                     "43 to 128")
        check(exchange(sim, code, verifier).status == 200, "a malformed verifier does not use the code up")


def authorize_refusals(sim):
    _, challenge = pkce(50, seed=2)
    ok_uri = "http://127.0.0.1:5555/callback"
    expect_page(authorize(sim, client=None, challenge=challenge), 400, "no client_id", "no client_id")
    expect_page(authorize(sim, client="nope", challenge=challenge), 400, "unknown client", "Unknown client")
    expect_page(authorize(sim, client="blind-service", challenge=challenge), 400, "a client without the code grant",
                "not allowed the authorization code grant")
    expect_page(authorize(sim, redirect_uri=None, challenge=challenge), 400, "no redirect_uri", "no redirect_uri")
    for uri in ("http://127.0.0.1:5555/other", "https://127.0.0.1/callback", "http://127.0.0.2/callback",
                "http://localhost:5555/callback", "http://127.0.0.1:5555/callback/", "http://127.0.0.1:5555/callback?x=1",
                "https://evil.example/callback", WEB_URI, "http://127.0.0.1:5555/callback#frag", "not a uri"):
        expect_page(authorize(sim, redirect_uri=uri, challenge=challenge), 400, f"redirect_uri {uri}",
                    "redirect_uri")
    # loopback registrations match any port (RFC 8252 §7.3); an https one only exactly
    for uri in ("http://127.0.0.1/callback", "http://127.0.0.1:1/callback", "http://127.0.0.1:65535/callback",
                "http://localhost:9999/oauth", "http://LOCALHOST/oauth"):
        get_code(sim, challenge, redirect_uri=uri)
    get_code(sim, challenge, redirect_uri=WEB_URI, client=WEB)
    for uri in ("https://console.example.com:8443/oauth/callback", "https://console.example.com/oauth/callback2",
                "http://console.example.com/oauth/callback"):
        expect_page(authorize(sim, client=WEB, redirect_uri=uri, challenge=challenge), 400, f"confidential {uri}",
                    "not registered")
    a = authorize(sim, challenge=challenge, extra=(("client_id", CLI),))
    expect_page(a, 400, "a repeated parameter", "repeats a parameter")
    a = authorize(sim, challenge=challenge, http_method="POST")
    expect_page(a, 405, "POST to authorize", "Use GET")
    check(a.header("Allow") == "GET", "405 Allow: GET", dict(a.headers))
    # with a good client and redirect_uri, errors go back to the client (RFC 6749 §4.1.2.1)
    expect_redirect_error(authorize(sim, challenge=challenge, response_type=None), "invalid_request",
                          "no response_type", contains="response_type")
    expect_redirect_error(authorize(sim, challenge=challenge, response_type="token"), "unsupported_response_type",
                          "response_type=token")
    expect_redirect_error(authorize(sim, challenge=None), "invalid_request", "no code_challenge", contains="PKCE")
    expect_redirect_error(authorize(sim, challenge=challenge, method=None), "invalid_request", "no method",
                          contains="S256")
    expect_redirect_error(authorize(sim, challenge=challenge, method="plain"), "invalid_request", "plain refused",
                          contains="plain")
    expect_redirect_error(authorize(sim, challenge=challenge, method="S512"), "invalid_request", "another method")
    for bad in (challenge[:-1], challenge + "A", challenge[:-1] + "=", challenge[:-1] + "+"):
        expect_redirect_error(authorize(sim, challenge=bad), "invalid_request", f"challenge {bad[-4:]}",
                              contains="43 characters")
    expect_redirect_error(authorize(sim, challenge=None, state=None), "invalid_request", "no state: none echoed",
                          state=None)
    expect_redirect_error(authorize(sim, challenge=challenge, state="x" * 2049), "invalid_request", "state too long",
                          state=None)
    a = authorize(sim, challenge=challenge, extra=(("scope", "conversations"), ("prompt", "login")))
    check(a.status == 302 and "code=" in a.header("Location"), "unknown parameters and scope are ignored", a.raw)
    SECRETS.add(location(a, ok_uri)["code"])


def token_refusals(sim):
    verifier, challenge = pkce(70, seed=3)
    uri = "http://127.0.0.1:5555/callback"
    # wrong verifier: refused, and the code is used up
    code = get_code(sim, challenge)
    other, _ = pkce(70, seed=4)
    expect_oauth(exchange(sim, code, other), 400, "invalid_grant", "wrong verifier", "code_verifier")
    expect_oauth(exchange(sim, code, verifier), 400, "invalid_grant", "the code after a failed attempt", "already used")
    # another redirect_uri (even another port of the same registration)
    code = get_code(sim, challenge)
    expect_oauth(exchange(sim, code, verifier, redirect_uri="http://127.0.0.1:5556/callback"), 400, "invalid_grant",
                 "another redirect_uri", "redirect_uri")
    # another client
    code = get_code(sim, challenge)
    expect_oauth(exchange(sim, code, verifier, client=WEB, headers=basic(WEB, WEB_SECRET)), 400, "invalid_grant",
                 "a code of another client", "another client")
    # unknown code, missing fields
    expect_oauth(exchange(sim, "no-such-code", verifier), 400, "invalid_grant", "unknown code", "Unknown")
    code = get_code(sim, challenge)
    for field in ("code", "redirect_uri", "code_verifier"):
        fields = {"grant_type": "authorization_code", "client_id": CLI, "code": code, "redirect_uri": uri,
                  "code_verifier": verifier}
        del fields[field]
        expect_oauth(token(sim, fields), 400, "invalid_request", f"no {field}", field)
    # client authentication
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": uri, "code_verifier": verifier}
    expect_oauth(token(sim, fields), 400, "invalid_request", "no client_id", "client_id")
    expect_oauth(token(sim, dict(fields, client_id="nope")), 401, "invalid_client", "unknown client_id")
    expect_oauth(token(sim, dict(fields, client_id=CLI), basic(CLI, "x")), 401, "invalid_client",
                 "Basic for a public client", "public")
    expect_oauth(token(sim, dict(fields, client_id=CLI, client_secret="x")), 401, "invalid_client",
                 "client_secret in the form", "Basic")
    expect_oauth(token(sim, dict(fields, client_id=WEB)), 401, "invalid_client", "confidential without Basic",
                 "confidential")
    expect_oauth(token(sim, dict(fields, client_id=WEB), basic(WEB, "wrong")), 401, "invalid_client",
                 "confidential, wrong secret")
    expect_oauth(token(sim, dict(fields, client_id=CLI), basic(WEB, WEB_SECRET)), 400, "invalid_request",
                 "client_id differs from the Basic client")
    expect_oauth(token(sim, dict(fields, client_id="demo-service")), 401, "invalid_client",
                 "a client-credentials client without Basic")
    expect_oauth(token(sim, fields, basic("demo-service", "demo-service-secret")), 400, "unauthorized_client",
                 "a client without the code grant")
    expect_oauth(token(sim, {"grant_type": "password", "username": "a", "password": "b"}), 400,
                 "unsupported_grant_type", "password grant")
    a = sim.call("POST", "/oauth/token", raw=b"grant_type=authorization_code&grant_type=refresh_token", headers=FORM)
    expect_oauth(a, 400, "invalid_request", "a repeated form field", "repeats")
    check(exchange(sim, code, verifier).status == 200, "the code survived the refused client attempts")
    # expiry: codes live 60 s on gcsim's clock
    check(sim.call("POST", "/sim/v1/clock/freeze").status == 200, "freeze")
    code = get_code(sim, challenge)
    sim.call("POST", "/sim/v1/clock/advance", {"seconds": 60})
    expect_oauth(exchange(sim, code, verifier), 400, "invalid_grant", "a code 60 s old", "expired")
    code = get_code(sim, challenge)
    sim.call("POST", "/sim/v1/clock/advance", {"seconds": 59.999})
    check(exchange(sim, code, verifier).status == 200, "a code just under 60 s old")
    check(sim.call("POST", "/sim/v1/clock/resume").status == 200, "resume")
    # the client-credentials grant is unchanged, also for a client that has both grants
    a = token(sim, {"grant_type": "client_credentials"}, basic(WEB, WEB_SECRET))
    check(a.status == 200 and "refresh_token" not in a.json and a.json["expires_in"] == 7200, "web-console CC", a.json)
    expect_oauth(token(sim, {"grant_type": "client_credentials", "client_id": CLI}), 401, "invalid_client",
                 "client credentials without Basic")


def grant_not_allowed(sim, scenario_doc):
    """RFC 6749 §5.2: an authenticated client asking for a grant it may not use is unauthorized_client
    (unsupported_grant_type is for a grant type the server does not know)."""
    doc = json.loads(json.dumps(scenario_doc))
    doc["clients"].append({"id": "code-only", "name": "Confidential, code grant only", "secret": "code-only-secret",
                           "grants": ["code"], "redirectUris": [WEB_URI], "consentUser": ALICE})
    check(sim.call("POST", "/sim/v1/scenario", doc).status == 200, "load a client with the code grant only")
    SECRETS.add("code-only-secret")
    expect_oauth(token(sim, {"grant_type": "client_credentials"}, basic("code-only", "code-only-secret")), 400,
                 "unauthorized_client", "client credentials for a client with the code grant only", "client_credentials")
    expect_oauth(token(sim, {"grant_type": "client_credentials"}, basic("code-only", "wrong")), 401, "invalid_client",
                 "a wrong secret is invalid_client before any grant check")
    expect_oauth(token(sim, {"grant_type": "password"}, basic("code-only", "code-only-secret")), 400,
                 "unsupported_grant_type", "a grant type gcsim does not know")
    expect_oauth(token(sim, {"grant_type": "refresh_token", "refresh_token": "x"}, basic("demo-service",
                 "demo-service-secret")), 400, "unauthorized_client", "refresh for a client-credentials client")
    check(sim.call("POST", "/sim/v1/scenario", scenario_doc).status == 200, "load the login scenario back")


def confidential(sim):
    verifier, challenge = pkce(80, seed=5)
    code = get_code(sim, challenge, redirect_uri=WEB_URI, client=WEB)
    a = exchange(sim, code, verifier, redirect_uri=WEB_URI, client=None, headers=basic(WEB, WEB_SECRET))
    check(a.status == 200 and a.json["expires_in"] == 7200, "confidential client: Basic, no client_id", a.json)
    me = sim.call("GET", "/api/v2/users/me", token=a.json["access_token"]).json
    check(me["id"] == CAROL, "its consent user", me)
    b = refresh(sim, a.json["refresh_token"], client=None, headers=basic(WEB, WEB_SECRET))
    check(b.status == 200, "confidential refresh with Basic", b.json)
    expect_oauth(refresh(sim, b.json["refresh_token"], client=WEB), 401, "invalid_client",
                 "confidential refresh without Basic")
    expect_oauth(refresh(sim, b.json["refresh_token"]), 400, "invalid_grant", "another client's refresh token",
                 "another client")
    check(refresh(sim, b.json["refresh_token"], client=None, headers=basic(WEB, WEB_SECRET)).status == 200,
          "a refused attempt does not spend the refresh token")


def refreshes(sim, tok):
    a = refresh(sim, tok["refresh_token"])
    check(a.status == 200 and set(a.json) == {"access_token", "token_type", "expires_in", "refresh_token"} and
          a.json["refresh_token"] != tok["refresh_token"] and a.json["access_token"] != tok["access_token"],
          "refresh: a new access token and a new refresh token (rotation)", a.json)
    new = a.json
    check(sim.call("GET", "/api/v2/users/me", token=new["access_token"]).json["id"] == ALICE, "the new token is Alice's")
    check(sim.call("GET", "/api/v2/users/me", token=tok["access_token"]).status == 200,
          "the previous access token stays good until it expires")
    expect_oauth(refresh(sim, None), 400, "invalid_request", "no refresh_token", "refresh_token")
    expect_oauth(refresh(sim, "nope"), 400, "invalid_grant", "unknown refresh token", "Unknown")
    # reuse of a spent refresh token revokes the whole login
    expect_oauth(refresh(sim, tok["refresh_token"]), 400, "invalid_grant", "a spent refresh token", "already used")
    for at in (tok["access_token"], new["access_token"]):
        expect_error(sim.call("GET", "/api/v2/users/me", token=at), 401, "bad.credentials", "revoked by the reuse")
    expect_oauth(refresh(sim, new["refresh_token"]), 400, "invalid_grant", "the newest refresh token too", "revoked")
    # expiry of the access token, then of the refresh token (refreshTokenLifetimeSeconds 86400)
    check(sim.call("POST", "/sim/v1/clock/freeze").status == 200, "freeze")
    verifier, challenge = pkce(90, seed=6)
    tok = exchange(sim, get_code(sim, challenge), verifier).json
    sim.call("POST", "/sim/v1/clock/advance", {"seconds": 3600})
    expect_error(sim.call("GET", "/api/v2/users/me", token=tok["access_token"]), 401, "credentials.expired",
                 "access token after expires_in")
    a = refresh(sim, tok["refresh_token"])
    check(a.status == 200 and sim.call("GET", "/api/v2/users/me", token=a.json["access_token"]).status == 200,
          "refresh after the access token expired", a.json)
    sim.call("POST", "/sim/v1/clock/advance", {"seconds": 86400})
    expect_oauth(refresh(sim, a.json["refresh_token"]), 400, "invalid_grant", "refresh token after its lifetime",
                 "expired")
    check(sim.call("POST", "/sim/v1/clock/resume").status == 200, "resume")


def code_reuse(sim):
    verifier, challenge = pkce(100, seed=8)
    code = get_code(sim, challenge)
    tok = exchange(sim, code, verifier).json
    check(sim.call("HEAD", "/api/v2/tokens/me", token=tok["access_token"]).status == 200, "good before the reuse")
    expect_oauth(exchange(sim, code, verifier), 400, "invalid_grant", "a reused code", "already used")
    a = sim.call("HEAD", "/api/v2/tokens/me", token=tok["access_token"])
    check(a.status == 401 and a.raw == b"", "HEAD of a revoked token: 401 without a body", a.status)
    expect_error(sim.call("GET", "/api/v2/tokens/me", token=tok["access_token"]), 401, "bad.credentials",
                 "tokens of a reused code are revoked")
    expect_oauth(refresh(sim, tok["refresh_token"]), 400, "invalid_grant", "its refresh token too", "revoked")


def revoke(sim):
    verifier, challenge = pkce(110, seed=9)
    tok = exchange(sim, get_code(sim, challenge), verifier).json
    second = refresh(sim, tok["refresh_token"]).json  # same login, a later access token
    live = sim.call("GET", "/sim/v1/tokens").json["live"]
    at = tok["access_token"]
    a = sim.call("DELETE", "/api/v2/tokens/me", token=at)
    check(a.status == 200 and a.raw == b"" and a.header("ININ-Correlation-Id"), "DELETE tokens/me: 200, no body",
          a.status)
    for method, path, body in (("GET", "/api/v2/tokens/me", None), ("GET", "/api/v2/users/me", None),
                               ("DELETE", "/api/v2/tokens/me", None), ("GET", f"/api/v2/conversations/{C(1)}", None),
                               ("POST", f"/api/v2/conversations/messages/{C(1)}/communications/{COMM(1, 3)}/messages",
                                {"textBody": "x"}),
                               ("POST", f"/api/v2/conversations/messages/{C(1)}/messages/bulk", [])):
        expect_error(sim.call(method, path, body, token=at), 401, "bad.credentials", f"revoked: {method} {path}")
    check(sim.call("HEAD", "/api/v2/tokens/me", token=at).status == 401, "revoked: HEAD 401")
    expect_error(sim.call("GET", "/api/v2/users/me", token=second["access_token"]), 401, "bad.credentials",
                 "the login's other access token is revoked too")
    expect_oauth(refresh(sim, second["refresh_token"]), 400, "invalid_grant", "the login's refresh token is revoked",
                 "revoked")
    after = sim.call("GET", "/sim/v1/tokens").json
    check(after["live"]["accessTokens"] == live["accessTokens"] - 2 and
          after["live"]["refreshTokens"] == live["refreshTokens"] - 1, "admin: two access tokens and a refresh token "
          "fewer", {"before": live, "after": after["live"]})
    check(not SECRETS & set(json.dumps(after).split('"')), "the admin listing holds no credential")
    states = [t["state"] for t in after["refreshTokens"] if t["grantId"] == after["accessTokens"][-1]["grantId"]]
    check(states == ["revoked", "revoked"] or states == ["rotated", "revoked"], "refresh states", after["refreshTokens"])
    # other kinds of token
    service = sim.token("demo-service", "demo-service-secret").json["access_token"]
    check(sim.call("DELETE", "/api/v2/tokens/me", token=service).status == 200, "DELETE a client-credentials token")
    expect_error(sim.call("GET", "/api/v2/tokens/me", token=service), 401, "bad.credentials", "revoked CC token")
    other = sim.token("demo-service", "demo-service-secret").json["access_token"]
    check(sim.call("GET", "/api/v2/tokens/me", token=other).status == 200, "another token of that client still works")
    admin_minted = sim.user_token(ALICE)
    check(sim.call("DELETE", "/api/v2/tokens/me", token=admin_minted).status == 200, "DELETE an admin user token")
    expect_error(sim.call("GET", "/api/v2/users/me", token=admin_minted), 401, "bad.credentials", "revoked user token")
    expect_error(sim.call("DELETE", "/api/v2/tokens/me"), 401, "authentication.required", "DELETE without a token")


def scenario_validation(sim, gcsim, scenario_doc, workdir):
    users = scenario_doc["users"]
    good = {"id": "x", "public": True, "grants": ["code"], "redirectUris": ["http://127.0.0.1/cb"],
            "consentUser": ALICE}
    cases = [
        (dict(good, secret="s"), "$.clients[0].secret", "public client has no secret"),
        (dict(good, grants=["code", "client-credentials"]), "$.clients[0].grants[1]", "public client"),
        (dict(good, public="yes"), "$.clients[0].public", "true or false"),
        ({k: v for k, v in good.items() if k != "public"}, "$.clients[0].secret", "required"),
        ({k: v for k, v in good.items() if k != "redirectUris"}, "$.clients[0].redirectUris", "required"),
        (dict(good, redirectUris=[]), "$.clients[0].redirectUris", "non-empty"),
        (dict(good, redirectUris="http://127.0.0.1/cb"), "$.clients[0].redirectUris", "array"),
        (dict(good, redirectUris=["http://127.0.0.1/cb", 5]), "$.clients[0].redirectUris[1]", "string"),
        (dict(good, redirectUris=["ftp://127.0.0.1/cb"]), "$.clients[0].redirectUris[0]", "http"),
        (dict(good, redirectUris=["http://app.example.com/cb"]), "$.clients[0].redirectUris[0]", "loopback"),
        (dict(good, redirectUris=["https://app.example.com/cb#x"]), "$.clients[0].redirectUris[0]", "fragment"),
        (dict(good, redirectUris=["https://user@app.example.com/cb"]), "$.clients[0].redirectUris[0]", "user"),
        (dict(good, redirectUris=["https://app.example.com:0/cb"]), "$.clients[0].redirectUris[0]", "port"),
        (dict(good, redirectUris=["http://127.0.0.1/cb"] * 21), "$.clients[0].redirectUris", "more than 20"),
        ({k: v for k, v in good.items() if k != "consentUser"}, "$.clients[0].consentUser", "required"),
        (dict(good, consentUser="nobody"), "$.clients[0].consentUser", "no user with id 'nobody'"),
        (dict(good, refreshTokenLifetimeSeconds=0), "$.clients[0].refreshTokenLifetimeSeconds", "between"),
        (dict(good, refreshTokenLifetimeSeconds=31536001), "$.clients[0].refreshTokenLifetimeSeconds", "between"),
        (dict(good, grants=["code", "code"]), "$.clients[0].grants[1]", "twice"),
        ({"id": "y", "secret": "s", "redirectUris": ["http://127.0.0.1/cb"]}, "$.clients[0].redirectUris",
         "only for a client with the \"code\" grant"),
        ({"id": "y", "secret": "s", "consentUser": ALICE}, "$.clients[0].consentUser", "only for"),
        ({"id": "y", "secret": "s", "refreshTokenLifetimeSeconds": 60}, "$.clients[0].refreshTokenLifetimeSeconds",
         "only for"),
    ]
    for client, path, says in cases:
        a = sim.call("POST", "/sim/v1/scenario", {"clients": [client], "users": users})
        check(a.status == 400 and a.json["path"] == path and says in a.json["error"], f"scenario error at {path} "
              f"({says})", a.json)
    for client in (good, dict(good, public=False, secret="s", grants=["code", "client-credentials"],
                              redirectUris=["https://a.example/cb", "http://[::1]/cb", "http://localhost:8080/x?y=1"],
                              refreshTokenLifetimeSeconds=31536000)):
        a = sim.call("POST", "/sim/v1/scenario", {"clients": [client], "users": users})
        check(a.status == 200, "a valid code client loads", {"client": client, "answer": a.json})
    bad = os.path.join(workdir, "bad-login.json")
    doc = json.loads(json.dumps(scenario_doc))
    doc["clients"][0]["consentUser"] = "nobody"
    with open(bad, "w") as f:
        json.dump(doc, f)
    p = subprocess.run([gcsim, "--scenario", bad], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "$.clients[0].consentUser" in p.stderr,
          "a bad scenario file: exit 2, one line naming the path", p.stderr)
    check(sim.call("POST", "/sim/v1/scenario", scenario_doc).status == 200, "load the login scenario back")


def faults(sim):
    a = sim.call("POST", "/sim/v1/faults", {"method": "GET", "path": "/oauth/authorize", "status": 503, "times": 1})
    check(a.status == 201, "install a fault on /oauth/authorize", a.json)
    _, challenge = pkce(50, seed=10)
    expect_error(authorize(sim, challenge=challenge), 503, "service.unavailable", "a faulted authorize")
    get_code(sim, challenge)


def no_secrets(sim):
    log = sim.call("GET", "/sim/v1/requests").json["entries"]
    text = json.dumps(log) + open(sim.log_file).read() + sim.stderr_text()
    leaked = [s for s in SECRETS | {WEB_SECRET, "demo-service-secret"} if s in text]
    check(not leaked, "no code, verifier, token, refresh token or secret in the request log or on stderr",
          leaked[:3])
    auth = [e for e in log if e["path"] == "/oauth/authorize" and e["status"] == 302]
    check(auth and all("code=<redacted>" in e["responseBody"]["location"] or "error=" in e["responseBody"]["location"]
                       for e in auth), "authorize is logged with the Location, its code redacted", auth[0])
    tok = [e for e in log if e["path"] == "/oauth/token" and e["status"] == 200]
    check(tok and all(e["responseBody"]["access_token"] == "<redacted>" and
                      e["responseBody"].get("refresh_token", "<redacted>") == "<redacted>" and
                      not {"code", "code_verifier", "refresh_token", "client_secret"} & set(e["requestBody"])
                      for e in tok), "token exchanges are logged without their secrets", tok[0])
    heads = [e for e in log if e["method"] == "HEAD"]
    check(heads and all(e["responseBody"] is None and e["operation"] == "headTokensMe" for e in heads),
          "HEAD is logged without a body", heads[0])
    dels = [e for e in log if e["method"] == "DELETE" and e["status"] == 200]
    check(dels and all(e["operation"] == "deleteTokensMe" for e in dels), "DELETE tokens/me logged", dels[0])


def body(sim, gcsim, scenario_doc, workdir):
    tok = full_flow(sim)
    user_token_behaviour(sim, tok)
    verifier_lengths(sim)
    authorize_refusals(sim)
    token_refusals(sim)
    confidential(sim)
    refreshes(sim, tok)
    code_reuse(sim)
    revoke(sim)
    faults(sim)
    grant_not_allowed(sim, scenario_doc)
    scenario_validation(sim, gcsim, scenario_doc, workdir)
    no_secrets(sim)


if __name__ == "__main__":
    sys.exit(run_main("sim_oauth", __doc__, body))
