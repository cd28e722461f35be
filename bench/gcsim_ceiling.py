#!/usr/bin/env python3
"""gcsim's own ceiling: how many requests a second gcsim answers for the traffic of `gcmsg bulk`
(GET /api/v2/conversations/{id}, then POST .../messages/{id}/communications/{commId}/messages, per
message) over keep-alive connections, with and without an injected latency (--latency-ms).

For each gcsim binary, connection count and latency it starts a fresh gcsim on 127.0.0.1 with a
generated scenario of N web messaging conversations (each: a customer and a connected agent, the
ids of tests/delivery/harness.py), mints the agent's user token (the agent send needs a user
context: a client-credentials token gets 400 there, as on Genesys), checks that the client-
credentials grant answers, warms up, then drives gcsim with wrk (bench/gcsim_ceiling.lua) and
records requests/s, latency percentiles, gcsim's own CPU time per request and its memory.

    bench/gcsim_ceiling.py [--gcsim LABEL=PATH]... [--connections 64,128] [--latencies 0,20]
                           [--duration 10] [--conversations 10000] [--request-log] [--rows FILE]...
                           [--out bench/results/gcsim_ceiling.md]

A binary without --latency-ms (an older gcsim) gets the latency as two `latency` faults on the two
paths instead. wrk shares the machine with gcsim: on a small machine the figures are a floor.
Standard library only, plus wrk (apt-get install wrk). Exit 0 when every run answered only 2xx.
"""
import argparse
import base64
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LUA = os.path.join(HERE, "gcsim_ceiling.lua")

ORG = "55555555-0000-4000-8000-00000000d001"
AGENT = "22222222-0000-4000-8000-00000000d001"
SERVICE, SERVICE_SECRET = "bench-service", "bench-service-secret-0123456789abcdef"
PERMS = ["conversation:message:create", "conversation:webmessaging:create", "conversation:communication:view",
         "conversation:message:view", "conversation:webmessaging:view"]
CONV_PATH = "/api/v2/conversations/*"
SEND_PATH = "/api/v2/conversations/messages/*/communications/*/messages"


def conversation(i):
    return {
        "id": f"11111111-0000-4000-8000-{i:012d}", "media": "message", "platform": "webmessaging",
        "state": "connected", "startTime": "2026-11-21T09:00:00Z",
        "participants": [
            {"id": f"33333333-0000-4000-8000-{i:012d}", "purpose": "customer", "name": f"Guest {i}",
             "communication": {"id": f"44444444-0000-4000-8000-{i:012d}", "fromAddress": f"guest-{i}",
                               "toAddress": "77777777-0000-4000-8000-000000000001"}},
            {"id": f"33333333-0000-4001-8000-{i:012d}", "purpose": "agent", "userId": AGENT, "name": "Dana Agent",
             "communication": {"id": f"44444444-0000-4001-8000-{i:012d}"}},
        ],
    }


def scenario(n):
    # a limit the run cannot reach: the ceiling of gcsim, not of its rate limiter
    return {"org": {"id": ORG, "name": "Ceiling"},
            "limits": {"requestsPerMinutePerToken": 1000000, "rateLimitWindowSeconds": 1},
            "clients": [{"id": SERVICE, "secret": SERVICE_SECRET, "name": "Bench service",
                         "grants": ["client-credentials"], "permissions": PERMS}],
            "users": [{"id": AGENT, "name": "Dana Agent", "permissions": PERMS}],
            "conversations": [conversation(i) for i in range(1, n + 1)]}


def call(base, method, path, body=None, headers=None, raw=None):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    h = {"Content-Type": "application/json"} if data is not None and raw is None else {}
    h.update(headers or {})
    req = urllib.request.Request(base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "wrk": (wrk.stdout + wrk.stderr).split(" Copyright")[0].strip() or "wrk"}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Gcsim:
    def __init__(self, binary, scenario_file, workdir, latency, request_log):
        self.port_file = os.path.join(workdir, "port")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        with subprocess.Popen([binary, "--help"], stdout=subprocess.PIPE, text=True) as p:
            self.has_flag = "--latency-ms" in p.stdout.read()
        argv = [binary, "--listen", "127.0.0.1:0", "--scenario", scenario_file, "--port-file", self.port_file,
                "--seed", "1", "--quiet"]
        if self.has_flag and latency:
            argv += ["--latency-ms", str(latency)]
        if request_log:  # as bench/run starts it
            self.log_file = os.path.join(workdir, "requests.jsonl")
            if os.path.exists(self.log_file):
                os.unlink(self.log_file)
            argv += ["--request-log", self.log_file]
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = None
        while time.monotonic() - t0 < 900 and self.proc.poll() is None:
            try:
                with open(self.port_file) as f:
                    port = int(f.read().strip() or "0") or None
            except (FileNotFoundError, ValueError):
                pass
            if port:
                break
            time.sleep(0.01)
        if not port:
            self.proc.kill()
            raise SystemExit(f"gcsim did not start: {self.proc.stderr.read()[-2000:]}")
        self.start_s = time.monotonic() - t0
        self.base = f"http://127.0.0.1:{port}"
        if latency and not self.has_flag:
            for path, method in ((CONV_PATH, "GET"), (SEND_PATH, "POST")):
                status, doc = call(self.base, "POST", "/sim/v1/faults",
                                   {"method": method, "path": path, "kind": "latency", "latencyMs": latency,
                                    "times": 0})
                if status != 201:
                    raise SystemExit(f"installing a latency fault answered {status}: {doc}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        rc = self.proc.wait(timeout=60)
        return rc, time.monotonic() - t0


def wrk(base, token, n, connections, threads, duration):
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s", "-s", LUA,
            base, "--", token, str(n), str(threads)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120)
    m = re.search(r"^RESULT (\{.*\})$", out.stdout, re.M)
    if out.returncode != 0 or not m:
        raise SystemExit(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    return json.loads(m.group(1))


def one_run(label, binary, scenario_file, n, workdir, connections, latency, threads, duration, warmup, request_log):
    sim = Gcsim(binary, scenario_file, workdir, latency, request_log)
    try:
        basic = base64.b64encode(f"{SERVICE}:{SERVICE_SECRET}".encode()).decode()
        status, doc = call(sim.base, "POST", "/oauth/token", raw=b"grant_type=client_credentials",
                           headers={"Authorization": "Basic " + basic,
                                    "Content-Type": "application/x-www-form-urlencoded"})
        if status != 200 or not doc.get("access_token"):
            raise SystemExit(f"client credentials answered {status}: {doc}")
        status, doc = call(sim.base, "POST", f"/sim/v1/users/{AGENT}/token", {"expiresIn": 86400})
        if status != 201:
            raise SystemExit(f"minting the agent's token answered {status}: {doc}")
        token = doc["access_token"]
        if warmup:
            wrk(sim.base, token, n, connections, threads, warmup)
        cpu0 = cpu_seconds(sim.proc.pid)
        r = wrk(sim.base, token, n, connections, threads, duration)
        cpu = cpu_seconds(sim.proc.pid) - cpu0
        rss = rss_mib(sim.proc.pid)
        with open("/proc/loadavg") as f:
            load = float(f.read().split()[0])
        status, doc = call(sim.base, "GET", "/sim/v1/conversations/11111111-0000-4000-8000-000000000001/transcript")
        if status != 200 or not doc.get("entries"):
            raise SystemExit(f"the sends left no transcript entry: {status} {str(doc)[:300]}")
    finally:
        rc, stop_s = sim.stop()
    secs = r["duration_us"] / 1e6
    errors = sum(r[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    row = {"label": label, "connections": connections, "latency_ms": latency, "rps": r["requests"] / secs,
           "requests": r["requests"], "p50_ms": r["p50_us"] / 1000, "p90_ms": r["p90_us"] / 1000,
           "p99_ms": r["p99_us"] / 1000, "p999_ms": r["p999_us"] / 1000, "max_ms": r["lat_max_us"] / 1000,
           "errors": errors, "cpu_us_per_req": cpu / max(r["requests"], 1) * 1e6,
           "cpu_cores": cpu / secs, "rss_mib": rss, "start_s": sim.start_s, "stop_s": stop_s, "exit": rc, "load1": load,
           "latency_via": "flag" if sim.has_flag or not latency else "faults", "request_log": bool(request_log)}
    print(json.dumps(row), flush=True)
    return row


def markdown(info, rows, args):
    lines = [f"Machine: {info['nproc']} CPUs ({info['cpu']}), Linux {info['kernel']}; {info['wrk']}, "
             f"{args.threads} wrk threads on the same CPUs as gcsim.",
             f"Scenario: {args.conversations} web messaging conversations; each run {args.duration} s after a "
             f"{args.warmup} s warm-up, a fresh gcsim (--quiet; --request-log where the log column says so).", "",
             "| gcsim | log | conns | latency | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors "
             "| gcsim CPU µs/req | gcsim cores | RSS MiB | start s | load |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lat = f"{r['latency_ms']} ms" + (" (faults)" if r["latency_via"] == "faults" else "")
        lines.append(f"| {r['label']} | {'yes' if r.get('request_log') else 'no'} | {r['connections']} | {lat} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                     f"{r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {r['p999_ms']:.2f} | {r['max_ms']:.1f} | "
                     f"{r['errors']} | {r['cpu_us_per_req']:.0f} | {r['cpu_cores']:.2f} | {r['rss_mib']:.0f} | "
                     f"{r['start_s']:.2f} | {r['load1'] if 'load1' in r else '–'} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gcsim", action="append", default=[], metavar="LABEL=PATH",
                    help="a gcsim binary to measure (repeatable; default build/bin/gcsim unless --rows)")
    ap.add_argument("--connections", default="64,128")
    ap.add_argument("--latencies", default="0,20")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--conversations", type=int, default=10000)
    ap.add_argument("--request-log", action="store_true", help="start gcsim with --request-log (as bench/run does)")
    ap.add_argument("--rows", action="append", default=[], metavar="FILE",
                    help="include the rows (JSON lines this script printed) of an earlier run in the table")
    ap.add_argument("--out", help="write the results as a markdown table to this file")
    args = ap.parse_args()
    binaries = [g.split("=", 1) if "=" in g else ["gcsim", g] for g in args.gcsim]
    if not binaries and not args.rows:
        binaries = [["gcsim", os.path.join(ROOT, "build", "bin", "gcsim")]]
    info = machine()
    rows = []
    for path in args.rows:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.startswith("{")]
    with tempfile.TemporaryDirectory(prefix="gcsim-ceiling-") as workdir:
        scenario_file = os.path.join(workdir, "scenario.json")
        with open(scenario_file, "w") as f:
            json.dump(scenario(args.conversations), f)
        for label, binary in binaries:
            for latency in (int(x) for x in args.latencies.split(",")):
                for conns in (int(x) for x in args.connections.split(",")):
                    rows.append(one_run(label, binary, scenario_file, args.conversations, workdir, conns, latency,
                                        args.threads, args.duration, args.warmup, args.request_log))
    table = markdown(info, rows, args)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table)
    print(table)
    return 0 if all(r["errors"] == 0 and r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
