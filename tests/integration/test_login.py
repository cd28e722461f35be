#!/usr/bin/env python3
"""gcmsg login / logout against a real gcsim (scenarios/login.json), as a user would do it.

Usage: test_login.py --gcsim PATH --gcmsg PATH --log-dir DIR [--wrapper CMD]

The real `gcmsg login --no-browser` runs in the background; the test reads the authorize URL it
prints, GETs it without following the redirect (gcsim consents as the scenario's consentUser and
answers 302), then GETs the Location as a browser would, and waits for gcmsg to exit. Then:
whoami and send use only the token cache; the cache file is 0600 in a 0700 directory; a token
refused after gcsim's clock moved past its expiry is refreshed once (401 path) and a one-second
token is refreshed before it is used (expiry path); a confidential client's login works with its
secret; a forged redirect (wrong or no state) gets a 400 and the login goes on with the real one;
only forged redirects, error=access_denied, a refused code, no browser at all and a token cache
that cannot be written (found before any URL is printed) exit 3 with one clear line; a logout whose
revocation fails (503) exits 8 and keeps the login, which still works; logout revokes the login (the
old token then gets 401 bad.credentials, its refresh token invalid_grant) and removes the file; every
code, token and refresh token gcsim handed out (as many as its admin listing counts) was seen by the
test, and none appears in any output, on gcsim's stderr or in its request log.

Every wait is bounded and polls a real condition; --wrapper runs each gcmsg under valgrind.
"""
import argparse
import base64
import json
import os
import queue
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_case import CaseFailure, Sim  # noqa: E402  (the gcsim process helper of the cases)

STEP_TIMEOUT = 90
CONV = "11111111-0000-4000-8000-000000000001"
ALICE = "22222222-0000-4000-8000-000000000001"
CONFIDENTIAL_SECRET = "gcmsg-confidential-secret-0123456789"


def check(cond, what):
    if not cond:
        raise CaseFailure(what)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


NO_REDIRECT = urllib.request.build_opener(NoRedirect)


def authorize(url):
    """GET the authorize URL as a browser would, without following: the Location of the 302."""
    try:
        with NO_REDIRECT.open(url, timeout=STEP_TIMEOUT) as resp:
            raise CaseFailure(f"authorize answered {resp.status}, not a redirect")
    except urllib.error.HTTPError as e:
        check(e.code == 302, f"authorize answered {e.code}: {e.read()[:300]!r}")
        location = e.headers.get("Location")
        check(location, "the 302 has no Location")
        return location


def visit(url):
    """The browser following the redirect to gcmsg's loopback listener: (status, page)."""
    try:
        with urllib.request.urlopen(url, timeout=STEP_TIMEOUT) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def query(url):
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


def with_query(url, **changes):
    parts = urllib.parse.urlsplit(url)
    q = dict(urllib.parse.parse_qsl(parts.query))
    q.update(changes)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))


class Gcmsg:
    def __init__(self, args, sim, workdir):
        self.args, self.sim, self.workdir = args, sim, workdir
        self.home = os.path.join(workdir, "home")
        os.makedirs(self.home)
        self.outputs = []  # every stdout and stderr, for the secrets scan

    def env(self, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESYSCLOUD_", "GCMSG_"))}
        env.update(HOME=self.home, GCMSG_API_URL=self.sim.base_url, GCMSG_LOGIN_URL=self.sim.base_url)
        env.update(extra or {})
        return env

    def argv(self, args):
        return shlex.split(self.args.wrapper) + [self.args.gcmsg] + args

    def run(self, args, exit_code=0, env=None, stdout=(), stderr=()):
        proc = subprocess.run(self.argv(args), env=self.env(env), capture_output=True, timeout=STEP_TIMEOUT,
                              stdin=subprocess.DEVNULL)
        out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
        self.outputs += [out, err]
        context = f"\n  gcmsg {' '.join(args)}\n  exit {proc.returncode}\n  stdout: {out}\n  stderr: {err}"
        check(proc.returncode == exit_code, f"expected exit {exit_code}{context}")
        for s in stdout:
            check(s in out, f"stdout lacks {s!r}{context}")
        for s in stderr:
            check(s in err, f"stderr lacks {s!r}{context}")
        return out, err

    def login(self, args, browser, env=None, exit_code=0, stdout=(), stderr=()):
        """Run `gcmsg ... login --no-browser ...` in the background; browser(url) plays the user."""
        argv = self.argv(args)
        proc = subprocess.Popen(argv, env=self.env(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        lines = queue.Queue()
        err_lines, out_chunks = [], []

        def pump_err():
            for raw in proc.stderr:
                line = raw.decode(errors="replace")
                err_lines.append(line)
                lines.put(line)
            lines.put(None)

        def pump_out():
            out_chunks.append(proc.stdout.read().decode(errors="replace"))

        threads = [threading.Thread(target=pump_err, daemon=True), threading.Thread(target=pump_out, daemon=True)]
        for t in threads:
            t.start()
        url, result = None, None
        try:
            deadline = time.monotonic() + STEP_TIMEOUT
            prefix = self.sim.base_url + "/oauth/authorize?"
            while url is None and time.monotonic() < deadline:
                try:
                    line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if line is None:
                    break
                if line.startswith(prefix):
                    url = line.strip()
            if url is not None and browser is not None:
                result = browser(url)
            proc.wait(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise CaseFailure(f"gcmsg login did not finish within {STEP_TIMEOUT} s: {''.join(err_lines)}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for t in threads:
                t.join(timeout=STEP_TIMEOUT)
        out, err = "".join(out_chunks), "".join(err_lines)
        self.outputs += [out, err]
        context = f"\n  gcmsg {' '.join(args)}\n  exit {proc.returncode}\n  stdout: {out}\n  stderr: {err}"
        check(url is not None or browser is None, f"gcmsg login printed no authorize URL{context}")
        check(proc.returncode == exit_code, f"expected exit {exit_code}{context}")
        for s in stdout:
            check(s in out, f"stdout lacks {s!r}{context}")
        for s in stderr:
            check(s in err, f"stderr lacks {s!r}{context}")
        return url, result, out, err


def requests_since(sim, mark):
    status, doc = sim.admin("GET", "/sim/v1/requests")
    check(status == 200, f"request log: {status}")
    return [e for e in doc["entries"] if e["seq"] > mark and not e["path"].startswith("/sim/")]


def last_seq(sim):
    status, doc = sim.admin("GET", "/sim/v1/requests")
    return max([e["seq"] for e in doc["entries"]] or [0])


def read_cache(path):
    st = os.stat(path)
    check(stat.S_IMODE(st.st_mode) == 0o600, f"{path} has mode {oct(stat.S_IMODE(st.st_mode))}, not 0600")
    dmode = stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)
    check(dmode == 0o700, f"{os.path.dirname(path)} has mode {oct(dmode)}, not 0700")
    with open(path) as f:
        return json.load(f)


def without_state(url):
    parts = urllib.parse.urlsplit(url)
    q = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "state"]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))


class Seen:
    """Every credential gcsim hands out in the flow, captured where the test sees it: codes from the
    redirects it follows, tokens and refresh tokens from the token cache files it can read."""

    def __init__(self):
        self.codes, self.access, self.refresh = set(), set(), set()

    def cache(self, doc):
        self.access.add(doc["accessToken"])
        if doc.get("refreshToken"):
            self.refresh.add(doc["refreshToken"])
        return doc

    def all(self):
        return self.codes | self.access | self.refresh


def good_browser(url):
    q = query(url)
    check(q.get("response_type") == "code" and q.get("code_challenge_method") == "S256", f"authorize URL {url}")
    check(len(q.get("code_challenge", "")) == 43 and q.get("state"), f"authorize URL {url}")
    check(q.get("redirect_uri", "").startswith("http://127.0.0.1:") and q["redirect_uri"].endswith("/callback"),
          f"redirect_uri of {url}")
    location = authorize(url)
    check(location.startswith(q["redirect_uri"] + "?"), f"Location {location} is not the redirect URI")
    status, page = visit(location)
    check(status == 200 and "Logged in" in page, f"the browser got {status}: {page}")
    return query(location)["code"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gcsim", required=True)
    ap.add_argument("--gcmsg", required=True)
    ap.add_argument("--log-dir", required=True)
    ap.add_argument("--wrapper", default="")
    args = ap.parse_args()
    name = "login" + ("-wrapped" if args.wrapper else "")
    os.makedirs(args.log_dir, exist_ok=True)
    log_path = os.path.join(args.log_dir, name + ".jsonl")
    workdir = tempfile.mkdtemp(prefix=f"gcmsg-{name}-")
    sim = None
    seen = Seen()
    try:
        sim = Sim(args.gcsim, os.path.join(HERE, "scenarios", "login.json"), log_path, workdir)
        g = Gcmsg(args, sim, workdir)
        cache = os.path.join(g.home, ".gcmsg", "store", "tokens", "DEFAULT.json")

        # 1. log in (public PKCE client), as a user would
        url, code, out, _ = g.login(["--json", "login", "--no-browser", "--client-id", "gcmsg-cli"], good_browser)
        seen.codes.add(code)
        doc = json.loads(out)
        check(doc["loggedIn"] is True and doc["userId"] == ALICE and doc["userName"] == "Alice Agent"
              and doc["orgName"] == "Login Test Org" and doc["tokenCache"] == cache, f"login --json: {doc}")
        c1 = seen.cache(read_cache(cache))
        check(c1["kind"] == "user" and c1["clientId"] == "gcmsg-cli" and c1.get("refreshToken"), f"cache {c1}")

        # 2. whoami and send with nothing but the cache
        mark = last_seq(sim)
        out, _ = g.run(["whoami", "--json"])
        me = json.loads(out)
        check(me["kind"] == "user" and me["userId"] == ALICE and me["clientId"] == "gcmsg-cli", f"whoami {me}")
        check(not [e for e in requests_since(sim, mark) if e["path"] == "/oauth/token"], "whoami asked for a token")
        g.run(["send", CONV, "--text", "Hello from a login"], stdout=["agent-messaging"])
        status, tr = sim.admin("GET", f"/sim/v1/conversations/{CONV}/transcript")
        last = tr["entries"][-1]
        check(last.get("text") == "Hello from a login" and last["sender"].get("userId") == ALICE
              and last.get("route") == "agent-messaging", f"transcript entry {last}")

        # 3. a token the server no longer takes (its clock is past the expiry): refreshed once, on the 401
        mark = last_seq(sim)
        status, _ = sim.admin("POST", "/sim/v1/clock/advance", {"seconds": 7200})
        check(status == 200, "clock/advance")
        g.run(["whoami", "--json"], stdout=['"kind": "user"'])
        steps = [(e["method"], e["path"], e["status"]) for e in requests_since(sim, mark)]
        check(steps[:3] == [("GET", "/api/v2/tokens/me", 401), ("POST", "/oauth/token", 200),
                            ("GET", "/api/v2/tokens/me", 200)], f"requests after the clock moved: {steps}")
        check(sum(1 for s in steps if s[1] == "/oauth/token") == 1, f"more than one renewal: {steps}")
        c2 = seen.cache(read_cache(cache))
        check(c2["accessToken"] != c1["accessToken"] and c2["refreshToken"] != c1["refreshToken"],
              "the renewed (rotated) tokens were not saved")

        # 4. one-second tokens: renewed before use once expired (another store: another cache)
        store2 = os.path.join(workdir, "store2")
        cache2 = os.path.join(store2, "tokens", "DEFAULT.json")
        _, code, _, _ = g.login(["--store", store2, "login", "--no-browser", "--client-id", "gcmsg-cli-short"],
                                good_browser, stdout=["Logged in as Alice Agent"])
        seen.codes.add(code)
        s1 = seen.cache(read_cache(cache2))
        deadline = time.monotonic() + 15
        while time.time() < s1["expiresAt"] + 0.05 and time.monotonic() < deadline:
            time.sleep(0.05)  # bounded: until the saved expiry has passed on the wall clock
        check(time.time() >= s1["expiresAt"], "the one-second token did not expire in time")
        # gcsim's clock stands still from here, so that the renewed one-second token stays good on the
        # server until the logout below revokes it
        status, _ = sim.admin("POST", "/sim/v1/clock/freeze")
        check(status == 200, "clock/freeze")
        mark = last_seq(sim)
        g.run(["--store", store2, "whoami"], stdout=["Alice Agent"])
        steps = [(e["method"], e["path"], e["status"]) for e in requests_since(sim, mark)]
        check(steps[:2] == [("POST", "/oauth/token", 200), ("GET", "/api/v2/tokens/me", 200)],
              f"an expired token was not renewed before use: {steps}")
        s2 = seen.cache(read_cache(cache2))
        # the logout revokes the token the test has seen, rather than renewing it once more first (a
        # renewal whose tokens the test would never see): the file says it expires later
        with open(cache2, "w") as f:
            json.dump(dict(s2, expiresAt=int(time.time()) + 3600), f)
        mark = last_seq(sim)
        g.run(["--store", store2, "logout"], stdout=["Logged out: the token was revoked"])
        steps = [(e["method"], e["path"], e["status"]) for e in requests_since(sim, mark)]
        check(steps == [("DELETE", "/api/v2/tokens/me", 200)], f"the logout renewed first: {steps}")
        status, _ = sim.admin("POST", "/sim/v1/clock/resume")
        check(status == 200, "clock/resume")

        # 5. a confidential client: its secret (from the environment) authenticates the code and refresh
        store3 = os.path.join(workdir, "store3")
        conf_env = {"GENESYSCLOUD_OAUTHCLIENT_ID": "gcmsg-confidential",
                    "GENESYSCLOUD_OAUTHCLIENT_SECRET": CONFIDENTIAL_SECRET}
        _, code, _, _ = g.login(["--store", store3, "login", "--no-browser"], good_browser, env=conf_env,
                                stdout=["with OAuth client gcmsg-confidential"])
        seen.codes.add(code)
        seen.cache(read_cache(os.path.join(store3, "tokens", "DEFAULT.json")))
        out, _ = g.run(["--store", store3, "whoami", "--json"], env=conf_env)
        check(json.loads(out)["kind"] == "user", "the confidential client's login was not used")
        g.run(["--store", store3, "logout"], env=conf_env, stdout=["revoked"])

        # 6. a forged redirect (another state, or none) gets a 400 and does not end the login: the real
        # redirect still logs in
        store5 = os.path.join(workdir, "store5")

        def forged_then_real(url):
            location = authorize(url)
            seen.codes.add(query(location)["code"])
            for forged in (with_query(location, state="forged-state"), without_state(location)):
                status, page = visit(forged)
                check(status == 400 and "Not this login" in page, f"forged redirect: the browser got {status}")
            status, page = visit(location)
            check(status == 200 and "Logged in" in page, f"the real redirect: the browser got {status}: {page}")

        g.login(["--store", store5, "login", "--no-browser", "--client-id", "gcmsg-cli"], forged_then_real,
                stdout=["Logged in as Alice Agent"])
        seen.cache(read_cache(os.path.join(store5, "tokens", "DEFAULT.json")))
        g.run(["--store", store5, "logout"], stdout=["revoked"])

        # 6b. failures exit 3 with one clear line, and save nothing
        store4 = os.path.join(workdir, "store4")
        cache4 = os.path.join(store4, "tokens", "DEFAULT.json")

        def forged_only(url):
            location = authorize(url)
            seen.codes.add(query(location)["code"])
            status, page = visit(with_query(location, state="forged-state"))
            check(status == 400 and "Not this login" in page, f"forged state: the browser got {status}")

        g.login(["--store", store4, "login", "--no-browser", "--client-id", "gcmsg-cli", "--timeout", "5"],
                forged_only, exit_code=3,
                stderr=["no browser came back to the login redirect within 5 s",
                        "1 redirect with a wrong or missing state refused", "fix: open the URL"])

        def denied(url):
            q = query(url)
            status, page = visit(q["redirect_uri"] + "?" + urllib.parse.urlencode(
                {"error": "access_denied", "error_description": "The user cancelled.", "state": q["state"]}))
            check(status == 200 and "access_denied" in page, f"denied: the browser got {status}: {page}")

        g.login(["--store", store4, "login", "--no-browser", "--client-id", "gcmsg-cli"], denied,
                exit_code=3, stderr=["access_denied: The user cancelled.", "the login was refused"])

        def bogus_code(url):
            q = query(url)
            status, page = visit(q["redirect_uri"] + "?" + urllib.parse.urlencode(
                {"code": "not-a-code", "state": q["state"]}))
            check("Login failed" in page, f"bogus code: the browser got {status}: {page}")

        g.login(["--store", store4, "login", "--no-browser", "--client-id", "gcmsg-cli"], bogus_code,
                exit_code=3, stderr=["invalid_grant", "refused the authorization code"])
        g.login(["--store", store4, "login", "--no-browser", "--client-id", "gcmsg-cli", "--timeout", "1"], None,
                exit_code=3, stderr=["no browser came back to the login redirect within 1 s"])
        g.run(["--store", store4, "login", "--no-browser"], exit_code=3,
              stderr=["no OAuth client id to log in with"])
        check(not os.path.exists(cache4), "a failed login left a token cache")
        # a token cache that cannot be written is found before the browser is sent anywhere
        blocker = os.path.join(workdir, "not-a-directory")
        open(blocker, "w").close()
        mark = last_seq(sim)
        out, err = g.run(["--store", os.path.join(blocker, "store"), "login", "--no-browser", "--client-id",
                          "gcmsg-cli", "--timeout", "5"], exit_code=3,
                         stderr=["cannot create the token cache directory", "writable"])
        check("/oauth/authorize" not in out + err, f"an authorize URL was printed: {out}{err}")
        check(not requests_since(sim, mark), "a login with an unwritable cache reached gcsim")

        # 7a. a revocation that fails keeps the login, which still works, and says to log out again
        final = read_cache(cache)
        status, _ = sim.admin("POST", "/sim/v1/faults", {"method": "DELETE", "path": "/api/v2/tokens/me",
                                                          "status": 503, "times": 1})
        check(status == 201, "install a 503 on DELETE tokens/me")
        g.run(["logout"], exit_code=8,
              stderr=["could not revoke the login", "503", "it is still valid", "run 'gcmsg logout' again"])
        check(read_cache(cache) == final, "a failed logout changed or removed the token cache")
        g.run(["whoami"], stdout=["Alice Agent"])

        # 7. logout revokes the login and removes the file
        g.run(["logout"], stdout=["Logged out: the token was revoked"])
        check(not os.path.exists(cache), "logout left the token cache")
        status, body = sim.api("GET", "/api/v2/tokens/me", final["accessToken"])
        check(status == 401 and body and body.get("code") == "bad.credentials", f"revoked token: {status} {body}")
        form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": final["refreshToken"],
                                       "client_id": "gcmsg-cli"}).encode()
        try:
            urllib.request.urlopen(urllib.request.Request(sim.base_url + "/oauth/token", data=form),
                                   timeout=STEP_TIMEOUT)
            raise CaseFailure("the revoked login's refresh token still works")
        except urllib.error.HTTPError as e:
            check(e.code == 400 and json.loads(e.read())["error"] == "invalid_grant", f"refresh after logout: {e.code}")
        g.run(["--access-token", final["accessToken"], "whoami"], exit_code=3,
              stderr=["bad.credentials", "get a new one (log in again)"])
        g.run(["whoami"], exit_code=3, stderr=["no credentials configured, and no login in " + cache, "gcmsg login"])
        g.run(["logout"], stdout=["Not logged in"])
        out, _ = g.run(["logout", "--json"])
        check(json.loads(out)["outcome"] == "not-logged-in", f"logout --json: {out}")

        # 8. every code, token and refresh token gcsim handed out was seen by the test, and none of them
        # appears in any output or log
        status, listed = sim.admin("GET", "/sim/v1/tokens")
        check(status == 200, "GET /sim/v1/tokens")
        for kind, mine in (("codes", seen.codes), ("accessTokens", seen.access), ("refreshTokens", seen.refresh)):
            check(len(listed[kind]) == len(mine),
                  f"gcsim handed out {len(listed[kind])} {kind}, the test saw {len(mine)}: {listed[kind]}")
        code = sim.stop()
        sim = None
        check(code == 0, f"gcsim exited with {code}")
        with open(log_path, encoding="utf-8", errors="replace") as f:
            sim_log = f.read()
        with open(os.path.join(workdir, "gcsim.stderr"), encoding="utf-8", errors="replace") as f:
            sim_err = f.read()
        secrets = sorted(x for x in seen.all() if x)
        check(len(secrets) == len(seen.codes) + len(seen.access) + len(seen.refresh)
              and all(len(x) >= 16 for x in secrets), "the credentials seen are distinct and long enough to search for")
        for s in secrets:
            for i, text in enumerate(g.outputs):
                check(s not in text, f"a token or code appears in gcmsg output #{i}: {text[:400]}")
            check(s not in sim_err, "a token or code appears in gcsim's stderr")
            check(s not in sim_log, "a token or code appears in gcsim's request log")
        print(f"PASS {name}: login, cached use, renewal on 401 and before expiry, confidential client, forged "
              f"redirects, failures, a failed and a good logout, {len(secrets)} credentials seen and none shown")
        return 0
    except CaseFailure as e:
        print(f"FAIL {name}: {e}")
        if sim is not None:
            print("gcsim stderr (tail):\n" + sim.stderr_text())
        return 1
    finally:
        if sim is not None:
            try:
                sim.stop()
            except CaseFailure:
                pass
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
