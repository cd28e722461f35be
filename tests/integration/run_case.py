#!/usr/bin/env python3
"""Runs one data-driven integration case: a real gcsim, the real gcmsg binary.

Usage: run_case.py --gcsim PATH --gcmsg PATH --log-dir DIR [--wrapper CMD] CASE.json

A case file:

{
  "description": "what this shows",
  "scenario": "scenarios/basic.json",            # relative to this directory
  "tls": true,                                   # optional: gcsim serves HTTPS with a fresh
                                                 # self-signed certificate, saved as ${cacert}
  "steps": [
    {"admin": "POST /sim/v1/users/U/token", "body": {...}, "status": 201,
     "save": {"agent_token": "access_token"}},    # saves a top-level key of the answer
    {"gcmsg": ["--access-token", "${agent_token}", "send", "C", "--text", "hi"],
     "env": {"NAME": "value"}, "unset_env": ["GCMSG_API_URL"],
     "exit": 0,
     "stdout": ["substring", ...], "stderr": [...],        # every substring must appear
     "stdout_not": [...], "stderr_not": [...],              # none may appear
     "stdout_lines": 1,                                     # exact number of lines
     "json": {"route.kind": "agent-messaging", ...}},       # stdout parsed as JSON; dotted paths
                                                            # ("a.#" is a's number of elements)
    {"transcript": "C", "count": 1,
     "entries": [{"route": "agent-messaging", "text": "hi"}]},  # subset match, in order
    {"requests": {"method": "POST", "path": "/api/v2/conversations/messages/*"}, "count": 1},
    {"write_file": "${tmp}/home/.gcmsg/config.toml", "content": "...", "mode": "0600"},
    {"write_file": "${tmp}/pic.png", "content_base64": "iVBOR..."},   # binary content
    {"media_bytes": "${media_id}", "equals_file": "${tmp}/pic.png",
     "content_type": "image/png"},                 # what gcsim received for an uploaded media
    {"api": "POST /api/v2/responsemanagement/responses", "client": ["id", "secret"],
     "body": {...}, "status": 200, "save": {"rid": "id"}}   # a Genesys API call as that client
  ]
}

${name} in any string is replaced by a saved value; ${base_url} and ${tmp} are predefined.
gcmsg runs with HOME set to a fresh temporary directory and no GENESYSCLOUD_* variables from
the caller, with GCMSG_API_URL/GCMSG_LOGIN_URL pointing at gcsim (a step may unset them).
Every run is bounded by a timeout; gcsim is always stopped, even when a step fails.
"""
import argparse
import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from gcsim_process import wait_for_port  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
STEP_TIMEOUT = 60
START_TIMEOUT = 20


class CaseFailure(Exception):
    pass


def substitute(value, saved):
    if isinstance(value, str):
        def repl(m):
            if m.group(1) not in saved:
                raise CaseFailure(f"unknown variable ${{{m.group(1)}}}")
            return str(saved[m.group(1)])
        return re.sub(r"\$\{([A-Za-z0-9_]+)\}", repl, value)
    if isinstance(value, list):
        return [substitute(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, saved) for k, v in value.items()}
    return value


def dig(doc, dotted):
    cur = doc
    for part in dotted.split("."):
        if part == "#" and isinstance(cur, (list, dict)):
            cur = len(cur)  # "a.#": the number of elements
            continue
        if isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                raise CaseFailure(f"JSON path '{dotted}': no element '{part}'")
        elif isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            raise CaseFailure(f"JSON path '{dotted}': no key '{part}' in {json.dumps(cur)[:300]}")
    return cur


def subset(expected, actual):
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and subset(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            subset(e, a) for e, a in zip(expected, actual))
    return expected == actual


def make_certificate(workdir):
    """A throwaway self-signed certificate for 127.0.0.1 (the case's own CA)."""
    cert, key = os.path.join(workdir, "gcsim.crt"), os.path.join(workdir, "gcsim.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=STEP_TIMEOUT)
    return cert, key


class Sim:
    def __init__(self, gcsim, scenario, log_path, workdir, tls=False):
        self.port_file = os.path.join(workdir, "gcsim.port")
        self.ssl = None
        extra = []
        if tls:
            self.cacert, key = make_certificate(workdir)
            self.ssl = ssl.create_default_context(cafile=self.cacert)
            extra = ["--tls-cert", self.cacert, "--tls-key", key]
        if os.path.exists(log_path):
            os.remove(log_path)
        self.stderr = open(os.path.join(workdir, "gcsim.stderr"), "w+")
        self.proc = subprocess.Popen(
            [gcsim, "--listen", "127.0.0.1:0", "--scenario", scenario, "--port-file", self.port_file,
             "--request-log", log_path, "--quiet"] + extra,
            stdout=subprocess.DEVNULL, stderr=self.stderr)
        port = wait_for_port(self.proc, self.port_file, START_TIMEOUT)
        if port is None and self.proc.poll() is not None:
            raise CaseFailure(f"gcsim exited with {self.proc.returncode} at start: {self.stderr_text()}")
        if port is None:
            self.stop()
            raise CaseFailure("gcsim did not write its port file in time")
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"

    def stderr_text(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()[-2000:]

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=STEP_TIMEOUT, context=self.ssl) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            raise CaseFailure(f"admin {method} {path}: answer is not JSON: {raw[:200]!r}")
        return status, doc

    def client_token(self, client_id, secret):
        """A client-credentials token from gcsim's /oauth/token, as any Genesys client gets one."""
        import base64
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        req = urllib.request.Request(self.base_url + "/oauth/token", data=b"grant_type=client_credentials",
                                     method="POST", headers={
                                         "Authorization": "Basic " + basic,
                                         "Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, timeout=STEP_TIMEOUT, context=self.ssl) as resp:
            return json.loads(resp.read())["access_token"]

    def api(self, method, path, token, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers={
            "Content-Type": "application/json", "Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=STEP_TIMEOUT, context=self.ssl) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        return status, (json.loads(raw) if raw else None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise CaseFailure("gcsim did not stop within 15 s of SIGTERM")
        code = self.proc.returncode
        self.stderr.close()
        return code


def run_gcmsg(args, step, sim, saved, workdir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESYSCLOUD_", "GCMSG_"))}
    env["HOME"] = os.path.join(workdir, "home")
    os.makedirs(env["HOME"], exist_ok=True)
    env["GCMSG_API_URL"] = sim.base_url
    env["GCMSG_LOGIN_URL"] = sim.base_url
    for k, v in substitute(step.get("env", {}), saved).items():
        env[k] = v
    for k in step.get("unset_env", []):
        env.pop(k, None)
    argv = shlex.split(args.wrapper) + [args.gcmsg] + substitute(step["gcmsg"], saved)
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, timeout=STEP_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise CaseFailure(f"gcmsg did not finish within {STEP_TIMEOUT} s")
    out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    shown = " ".join(substitute(step["gcmsg"], saved))
    context = f"\n  command: gcmsg {shown}\n  exit: {proc.returncode}\n  stdout: {out}\n  stderr: {err}"
    if "exit" in step and proc.returncode != step["exit"]:
        raise CaseFailure(f"expected exit {step['exit']}{context}")
    for s in substitute(step.get("stdout", []), saved):
        if s not in out:
            raise CaseFailure(f"stdout lacks {s!r}{context}")
    for s in substitute(step.get("stderr", []), saved):
        if s not in err:
            raise CaseFailure(f"stderr lacks {s!r}{context}")
    for s in substitute(step.get("stdout_not", []), saved):
        if s in out:
            raise CaseFailure(f"stdout must not contain {s!r}{context}")
    for s in substitute(step.get("stderr_not", []), saved):
        if s in err:
            raise CaseFailure(f"stderr must not contain {s!r}{context}")
    if "stdout_lines" in step and len(out.splitlines()) != step["stdout_lines"]:
        raise CaseFailure(f"expected {step['stdout_lines']} stdout lines{context}")
    if "json" in step:
        try:
            doc = json.loads(out)
        except ValueError as e:
            raise CaseFailure(f"stdout is not one JSON document ({e}){context}")
        for path, want in substitute(step["json"], saved).items():
            got = dig(doc, path)
            if not subset(want, got):
                raise CaseFailure(f"JSON {path}: expected {want!r}, got {got!r}{context}")
        for name, path in step.get("save_json", {}).items():
            saved[name] = dig(doc, path)


def run_step(i, step, args, sim, saved, workdir):
    if "admin" in step:
        method, path = substitute(step["admin"], saved).split(" ", 1)
        status, doc = sim.admin(method, path, substitute(step.get("body"), saved))
        want = step.get("status")
        if want is not None and status != want:
            raise CaseFailure(f"admin {method} {path}: expected {want}, got {status}: {doc}")
        if want is None and not 200 <= status < 300:
            raise CaseFailure(f"admin {method} {path}: status {status}: {doc}")
        for name, key in step.get("save", {}).items():
            saved[name] = dig(doc, key)
    elif "api" in step:
        method, path = substitute(step["api"], saved).split(" ", 1)
        token = sim.client_token(*substitute(step["client"], saved))
        status, doc = sim.api(method, path, token, substitute(step.get("body"), saved))
        if status != step.get("status", 200):
            raise CaseFailure(f"{method} {path}: expected {step.get('status', 200)}, got {status}: {doc}")
        for name, key in step.get("save", {}).items():
            saved[name] = dig(doc, key)
    elif "gcmsg" in step:
        run_gcmsg(args, step, sim, saved, workdir)
    elif "write_file" in step:
        path = substitute(step["write_file"], saved)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if "content_base64" in step:  # binary files (attachments)
            import base64
            with open(path, "wb") as f:
                f.write(base64.b64decode(step["content_base64"]))
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(substitute(step["content"], saved))
        os.chmod(path, int(step.get("mode", "0600"), 8))
    elif "media_bytes" in step:
        # the bytes gcsim received for a media id must equal a local file
        media = substitute(step["media_bytes"], saved)
        req = urllib.request.Request(f"{sim.base_url}/sim/v1/media/{media}")
        with urllib.request.urlopen(req, timeout=STEP_TIMEOUT, context=sim.ssl) as resp:
            got, ctype = resp.read(), resp.headers.get("Content-Type", "")
        with open(substitute(step["equals_file"], saved), "rb") as f:
            want = f.read()
        if got != want:
            raise CaseFailure(f"media {media}: gcsim holds {len(got)} bytes, the file has {len(want)}")
        if "content_type" in step and not ctype.startswith(step["content_type"]):
            raise CaseFailure(f"media {media}: Content-Type {ctype!r}, expected {step['content_type']!r}")
    elif "transcript" in step:
        conv = substitute(step["transcript"], saved)
        status, doc = sim.admin("GET", f"/sim/v1/conversations/{conv}/transcript")
        if status != 200:
            raise CaseFailure(f"transcript of {conv}: status {status}: {doc}")
        entries = [e for e in doc["entries"] if step.get("typing", True) or not e.get("typing")]
        if "count" in step and len(entries) != step["count"]:
            raise CaseFailure(f"transcript of {conv}: expected {step['count']} entries, got "
                              f"{json.dumps(entries, indent=1)}")
        want = substitute(step.get("entries", []), saved)
        for idx, w in enumerate(want):
            if idx >= len(entries) or not subset(w, entries[idx]):
                raise CaseFailure(f"transcript of {conv}: entry {idx} should match {w}, entries: "
                                  f"{json.dumps(entries, indent=1)}")
    elif "requests" in step:
        status, doc = sim.admin("GET", "/sim/v1/requests")
        match = substitute(step["requests"], saved)
        hits = [e for e in doc["entries"]
                if e.get("method") == match.get("method", e.get("method"))
                and fnmatch.fnmatchcase(e.get("path", ""), match.get("path", "*"))]
        if "count" in step and len(hits) != step["count"]:
            raise CaseFailure(f"expected {step['count']} requests matching {match}, got {len(hits)}: "
                              f"{[(e['method'], e['path'], e['status']) for e in hits]}")
        for forbidden in step.get("absent_everywhere", []):
            blob = json.dumps(doc)
            if forbidden in blob:
                raise CaseFailure(f"request log contains {forbidden!r}")
    else:
        raise CaseFailure(f"step {i}: unknown step kind {sorted(step)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gcsim", required=True)
    ap.add_argument("--gcmsg", required=True)
    ap.add_argument("--log-dir", required=True)
    ap.add_argument("--wrapper", default="",
                    help="command prefix for gcmsg, e.g. valgrind (its error exit code then fails the step)")
    ap.add_argument("case")
    args = ap.parse_args()
    with open(args.case, encoding="utf-8") as f:
        case = json.load(f)
    name = os.path.splitext(os.path.basename(args.case))[0]
    if args.wrapper:
        name += "-wrapped"
    os.makedirs(args.log_dir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix=f"gcmsg-{name}-")
    sim = None
    try:
        sim = Sim(args.gcsim, os.path.join(HERE, case["scenario"]),
                  os.path.join(args.log_dir, name + ".jsonl"), workdir, tls=case.get("tls", False))
        saved = {"base_url": sim.base_url, "tmp": workdir}
        if case.get("tls"):
            saved["cacert"] = sim.cacert
        for i, step in enumerate(case["steps"]):
            try:
                run_step(i, step, args, sim, saved, workdir)
            except CaseFailure as e:
                raise CaseFailure(f"step {i} ({step.get('note', next(iter(step)))}): {e}")
        code = sim.stop()
        sim = None
        if code != 0:
            raise CaseFailure(f"gcsim exited with {code} after SIGTERM")
        print(f"PASS {name}: {case.get('description', '')}")
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
