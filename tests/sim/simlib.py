"""Helpers shared by gcsim's smoke tests (smoke.py, smoke_readback.py, smoke_oauth.py): a gcsim
process on a free loopback port, HTTP calls that never follow redirects, the checks, and the
media upload flow. Standard library only."""
import base64
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from gcsim_process import wait_for_port  # noqa: E402

START_TIMEOUT = 20
HTTP_TIMEOUT = 20
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

C = lambda n: f"00000000-0000-4000-8000-0000000000c{n}"
ALICE, BOB, CAROL = (f"00000000-0000-4000-8000-0000000000a{n}" for n in (1, 2, 3))
COMM = lambda conv, k: f"00000000-0000-4000-8000-000000000e{conv}{k}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer to look at (the /oauth/authorize redirect), not a hop to follow."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


class Failure(Exception):
    pass


def check(cond, what, detail=None):
    if not cond:
        raise Failure(what + ("" if detail is None else f": {json.dumps(detail)[:1500]}"))


class Answer:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    def header(self, name):
        return self.headers.get(name)


class Sim:
    def __init__(self, gcsim, scenario, workdir, extra=(), seed=7):
        self.port_file = os.path.join(workdir, "port")
        self.log_file = os.path.join(workdir, "requests.jsonl")
        self.stderr = open(os.path.join(workdir, "stderr"), "w+")
        self.proc = subprocess.Popen(
            [gcsim, "--listen", "127.0.0.1:0", "--scenario", scenario, "--port-file", self.port_file,
             "--request-log", self.log_file, "--seed", str(seed), *extra],
            stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        port = wait_for_port(self.proc, self.port_file, START_TIMEOUT)
        if port is None and self.proc.poll() is not None:
            raise Failure(f"gcsim exited with {self.proc.returncode} at start: {self.stderr_text()}")
        if port is None:
            self.stop()
            raise Failure("gcsim did not write its port file in time")
        self.base = f"http://127.0.0.1:{port}"
        first = self.proc.stdout.readline().strip()
        check(first == self.base, "first stdout line is the base URL", first)

    def stderr_text(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()[-3000:]

    def call(self, method, path, body=None, token=None, headers=None, raw=None):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        h = {"Content-Type": "application/json"} if data is not None and raw is None else {}
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with _OPENER.open(req, timeout=HTTP_TIMEOUT) as r:
                return Answer(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Answer(e.code, e.headers, e.read())

    def token(self, client_id, secret):
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return self.call("POST", "/oauth/token", raw=b"grant_type=client_credentials",
                         headers={"Authorization": "Basic " + basic,
                                  "Content-Type": "application/x-www-form-urlencoded"})

    def user_token(self, user, expires=None):
        a = self.call("POST", f"/sim/v1/users/{user}/token", {} if expires is None else {"expiresIn": expires})
        check(a.status == 201, "admin user token 201", a.json)
        return a.json["access_token"]

    def transcript(self, conv):
        a = self.call("GET", f"/sim/v1/conversations/{conv}/transcript")
        check(a.status == 200, "transcript 200", a.json)
        return a.json["entries"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("gcsim did not stop within 15 s of SIGTERM")
        self.proc.stdout.close()
        self.stderr.close()
        return self.proc.returncode


def expect_error(a, status, code, what):
    check(a.status == status, f"{what}: status {status}", {"got": a.status, "body": a.json})
    check(a.json and a.json.get("code") == code, f"{what}: code {code}", a.json)
    corr = a.header("ININ-Correlation-Id")
    check(corr and UUID.match(corr), f"{what}: ININ-Correlation-Id is a UUID", corr)
    check(a.json.get("contextId") == corr and a.json.get("status") == status, f"{what}: contextId/status", a.json)


def expect_field(a, status, code, field, what):
    expect_error(a, status, code, what)
    check(a.json["details"][0]["fieldName"] == field, f"{what}: details names {field}", a.json)
    return a.json


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def fake_file(kind, size, seed=1):
    """size bytes that gcsim's sniffing takes for `kind` (magic bytes, then noise)."""
    magic = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff\xe0", "gif": b"GIF89a", "pdf": b"%PDF-1.7\n",
             "mp4": b"\x00\x00\x00\x18ftypisom", "mp3": b"ID3\x04\x00", "zip": b"PK\x03\x04"}[kind]
    rng = random.Random(seed)
    return magic + bytes(rng.getrandbits(8) for _ in range(size - len(magic)))


def upload_path(conv, comm):
    return f"/api/v2/conversations/messages/{conv}/communications/{comm}/messages/media"


class Media:
    """One media through the flow: create the upload, PUT the bytes, poll."""

    def __init__(self, sim, token, conv, comm, data, name="photo.png", md5=True):
        self.sim, self.token, self.conv, self.comm, self.data = sim, token, conv, comm, data
        body = {"fileName": name, "contentLengthBytes": len(data)}
        if md5:
            body["contentMd5"] = md5_b64(data)
        a = sim.call("POST", upload_path(conv, comm) + "/uploads", body, token=token)
        check(a.status == 200, f"uploads {name}: 200", a.json)
        self.upload = a.json
        self.id = a.json["id"]

    def put(self, data=None, headers=None, drop=(), url=None, method="PUT", token=None):
        h = {k: v for k, v in self.upload["uploadHeaders"].items() if k not in drop}
        h.update(headers or {})
        url = url or self.upload["uploadUrl"]
        check(url.startswith(self.sim.base + "/"), "uploadUrl is served by gcsim", url)
        return self.sim.call(method, url[len(self.sim.base):], raw=self.data if data is None else data, headers=h,
                             token=token)

    def get(self, token=None):
        a = self.sim.call("GET", upload_path(self.conv, self.comm) + "/" + self.id, token=token or self.token)
        check(a.status == 200, "GET media 200", a.json)
        return a.json

    def send(self, body=None, token=None):
        return self.sim.call("POST", f"/api/v2/conversations/messages/{self.conv}/communications/{self.comm}/messages",
                             {"textBody": "", "mediaIds": [self.id]} if body is None else body,
                             token=token or self.token)


def run_main(name, usage, body):
    """The main of a smoke test: `body(sim, gcsim, scenario_doc, workdir)` runs against a gcsim started with
    argv[2]; its request log is copied to $GCSIM_SMOKE_KEEP_LOG (for sim_answers) once it stopped cleanly."""
    if len(sys.argv) != 3:
        print(usage, file=sys.stderr)
        return 2
    gcsim, scenario = sys.argv[1], sys.argv[2]
    with open(scenario) as f:
        scenario_doc = json.load(f)
    with tempfile.TemporaryDirectory(prefix=f"gcsim-{name}-") as workdir:
        sim = None
        try:
            sim = Sim(gcsim, scenario, workdir)
            body(sim, gcsim, scenario_doc, workdir)
            code = sim.stop()
            keep = os.environ.get("GCSIM_SMOKE_KEEP_LOG")
            if keep:
                with open(sim.log_file) as src, open(keep, "w") as dst:
                    dst.write(src.read())
            sim = None
            check(code == 0, "gcsim exits 0 on SIGTERM", code)
        except Failure as e:
            print(f"FAIL: {e}")
            if sim is not None:
                print("gcsim stderr (tail):\n" + sim.stderr_text())
            return 1
        finally:
            if sim is not None:
                try:
                    sim.stop()
                except Failure:
                    pass
    print(f"PASS {name}")
    return 0
