#!/usr/bin/env python3
"""A bulk run killed midway and restarted (issue 6): 0 duplicated, 0 lost.

gcsim holds every message POST for a moment (a latency fault) and fails some of them after
recording the message (commit-then-fail: 503 or a dropped connection) or throttles them (429), so
that at the kill there are rows sent, rows in flight (their POSTs finish in gcsim after gcmsg has
died), rows being read back and rows waiting. gcmsg bulk is killed with SIGKILL once gcsim has taken
a third of the POSTs (polled, never slept on), then the same command is run again, as a user would,
until it exits 0 (at most three times). Every conversation must hold its message exactly once.

Usage: bulk_crash.py --gcsim PATH --gcmsg PATH [--log-dir DIR]"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import test_main, MESSAGE_POST, CaseFailure, conv_id, count_copies, scenario  # noqa: E402

N = 1200
KILL_AT = N // 3
FAST_RETRY = {"GCMSG_RETRY_BACKOFF_BASE_MS": "20", "GCMSG_READBACK_SETTLE_MS": "20",
              "GCMSG_READBACK_HORIZON_MS": "3000"}
# gcsim tries faults in order and applies the first that fires: the hold comes last
FAULTS = [
    {"id": "commit-503", "method": "POST", "path": MESSAGE_POST, "kind": "commit-then-fail", "probability": 0.03},
    {"id": "commit-reset", "method": "POST", "path": MESSAGE_POST, "kind": "commit-then-fail", "then": "reset",
     "probability": 0.03},
    {"id": "throttle", "method": "POST", "path": MESSAGE_POST, "status": 429, "retryAfter": 1, "probability": 0.03},
    {"id": "hold", "method": "POST", "path": MESSAGE_POST, "kind": "latency", "latencyMs": 40, "probability": 1.0},
]


def fired(run, fault_id):
    status, doc = run.sim.admin("GET", "/sim/v1/faults")
    return sum(f.get("fired", 0) for f in doc.get("faults", []) if f.get("id") == fault_id)


def main():
    return test_main("bulk_crash", lambda args: scenario(0, N), lambda run, args: crash(run))


def summary_of(out):
    for line in reversed(out.splitlines()):
        doc = json.loads(line)
        if "summary" in doc:
            return doc["summary"]
    raise CaseFailure("no summary line")


def crash(run):
    for f in FAULTS:
        status, doc = run.sim.admin("POST", "/sim/v1/faults", f)
        if status != 201:
            raise CaseFailure(f"installing fault {f['id']} answered {status}: {doc}")
    path = os.path.join(run.workdir, "rows.csv")
    expected = {conv_id(i): f"Incident notice {i}: service restored" for i in range(1, N + 1)}
    with open(path, "w") as f:
        f.write("conversation,text\n" + "".join(f"{c},{t}\n" for c, t in expected.items()))
    argv = run.agent_args() + ["bulk", path, "--concurrency", "16", "--json"]

    # the output goes to a file: a pipe nobody reads would stall the run once full
    out_file = open(os.path.join(run.workdir, "killed-run.jsonl"), "wb")
    proc = subprocess.Popen(run.gcmsg_argv(argv), env=run.env(FAST_RETRY), stdout=out_file,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while fired(run, "hold") < KILL_AT:
            if proc.poll() is not None:
                raise CaseFailure(f"the run ended (exit {proc.returncode}) before it could be killed")
            if time.monotonic() > deadline:
                raise CaseFailure("gcsim never took a third of the POSTs")
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        out_file.close()
    if proc.returncode != -signal.SIGKILL:
        raise CaseFailure(f"the run was not killed (exit {proc.returncode})")
    code, out, err = run.run(["outbox", "list", "--all", "--json"], check=0)
    states = {}
    for e in json.loads(out)["entries"]:
        states[e["state"]] = states.get(e["state"], 0) + 1
    posts_at_kill = fired(run, "hold")
    print(f"killed after gcsim took {posts_at_kill} message POSTs; the outbox then held: "
          + ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
    if states.get("sent", 0) == 0 or states.get("sent", 0) >= N:
        raise CaseFailure(f"the kill was not midway: {states}")

    for attempt in range(1, 4):
        code, out, err = run.run(argv, env=FAST_RETRY, timeout=600)
        s = summary_of(out)
        rows = [json.loads(line) for line in out.splitlines() if "summary" not in line]
        read_back = sum(1 for r in rows if r.get("read_back"))
        print(f"rerun {attempt}: exit {code}; {s['sent']} sent, {s['duplicates']} sent before, {read_back} found "
              f"by reading back, {s['failed']} failed")
        if code == 0:
            break
    else:
        raise CaseFailure(f"three reruns did not finish the file: {err[-1500:]}")

    lost, dup, stray = count_copies(run, expected)
    print(f"bulk_crash: {N} rows, killed midway, rerun: lost {len(lost)}, duplicated {len(dup)}, "
          f"stray {len(stray)}; faults fired: 429 {fired(run, 'throttle')}, commit-503 {fired(run, 'commit-503')}, "
          f"commit-reset {fired(run, 'commit-reset')}")
    if lost or dup or stray:
        raise CaseFailure(f"lost {lost[:3]}, duplicated {dup[:3]}, stray {stray[:3]}")
    print("PASS bulk_crash: 0 lost, 0 duplicated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
