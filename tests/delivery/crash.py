#!/usr/bin/env python3
"""The crash test of issue 5: a run of sends killed with SIGKILL at several points, then resumed
by running the same sends again (same idempotency keys) and 'gcmsg outbox retry --all': 0 lost,
0 duplicated.

The kill points, each made exact with a gcsim fault that holds the request and a bounded poll of
gcsim's fault counters (no sleeping):
  before-record   while the conversation is being read: no outbox entry yet
  in-flight       while the message POST is held by gcsim, which records the message after the
                  client has died: the classic duplicate maker (the resume must read it back)
  during-readback after an ambiguous 503 (committed), while the read-back is held
  throttled-wait  while waiting out a 429's Retry-After (the entry is pending)
  resume          while 'gcmsg outbox retry' itself reads an entry back
plus a committed reset (no answer at all) that the same run reads back.

Usage: crash.py --gcsim PATH --gcmsg PATH [--log-dir DIR]"""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import test_main, CaseFailure, conv_id, count_copies, scenario  # noqa: E402

FAST_RETRY = {"GCMSG_RETRY_BACKOFF_BASE_MS": "20", "GCMSG_READBACK_SETTLE_MS": "20",
              "GCMSG_READBACK_HORIZON_MS": "5000"}
N = 12  # conversations 1..12: web messaging, sent by the agent




def wait_transcript(run, conv, n, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len([e for e in run.transcript(conv) if not e.get("typing")]) >= n:
            return
        time.sleep(0.02)
    raise CaseFailure(f"{conv} never got its message")


def fault(run, body):
    status, doc = run.sim.admin("POST", "/sim/v1/faults", body)
    if status != 201:
        raise CaseFailure(f"installing fault {body.get('id')} answered {status}: {doc}")


def send_args(run, i):
    return run.agent_args() + ["send", conv_id(i), "--text", f"Crash-safe notice {i}",
                               "--idempotency-key", f"crash-{i}"]


def killed_send(run, i, fault_id, state=None):
    """Start send i, wait until gcsim holds the request of fault_id (and, with state, until the
    outbox shows the entry in that state: a fault that answers at once has fired before gcmsg
    has read the answer), SIGKILL gcmsg."""
    proc = run.popen(send_args(run, i), env=FAST_RETRY)
    try:
        run.wait_fired(fault_id)
        if state is not None:
            wait_state(run, f"crash-{i}", state)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    if proc.returncode != -signal.SIGKILL:
        raise CaseFailure(f"send {i} was not killed (exit {proc.returncode})")


def wait_state(run, key, state, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if outbox_states(run).get(key) == state:
            return
        time.sleep(0.02)
    raise CaseFailure(f"{key} never reached {state!r} (it is {outbox_states(run).get(key)!r})")


def outbox_states(run):
    code, out, err = run.run(["outbox", "list", "--all", "--json"], check=0)
    return {e["key"]: e["state"] for e in json.loads(out)["entries"]}


def main():
    return test_main("crash", lambda args: scenario(0, N), lambda run, args: crash(run))


def crash(run):
    expected = {conv_id(i): f"Crash-safe notice {i}" for i in range(1, N + 1)}
    post = lambda i: f"/api/v2/conversations/messages/{conv_id(i)}/communications/*/messages"  # noqa: E731

    # 1, 2: sent normally
    for i in (1, 2):
        run.run(send_args(run, i), env=FAST_RETRY, check=0)
    # 3: killed while its conversation is read (nothing recorded yet)
    fault(run, {"id": "hold-read-3", "method": "GET", "path": f"/api/v2/conversations/{conv_id(3)}",
                "kind": "latency", "latencyMs": 6000})
    killed_send(run, 3, "hold-read-3")
    # 4: killed while gcsim holds its POST; gcsim records the message after gcmsg is gone
    fault(run, {"id": "hold-post-4", "method": "POST", "path": post(4), "kind": "latency", "latencyMs": 4000})
    killed_send(run, 4, "hold-post-4")
    wait_transcript(run, conv_id(4), 1)
    # 5: a committed 503, then killed while the read-back is held
    fault(run, {"id": "commit-5", "method": "POST", "path": post(5), "kind": "commit-then-fail"})
    fault(run, {"id": "hold-readback-5", "method": "GET", "path": f"/api/v2/conversations/messages/{conv_id(5)}",
                "kind": "latency", "latencyMs": 6000})
    killed_send(run, 5, "hold-readback-5")
    # 6: killed while waiting out a 429
    fault(run, {"id": "throttle-6", "method": "POST", "path": post(6), "status": 429, "retryAfter": 60})
    killed_send(run, 6, "throttle-6", state="pending")
    # 7: a committed reset (no answer at all), then sent on and read back in the same run
    fault(run, {"id": "commit-reset-7", "method": "POST", "path": post(7), "kind": "commit-then-fail",
                "then": "reset"})
    run.run(send_args(run, 7), env=FAST_RETRY, check=0)
    # 8: sent normally after the crashes (the store is fine)
    run.run(send_args(run, 8), env=FAST_RETRY, check=0)

    states = outbox_states(run)
    print("after the kills: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
    # a killed process leaves what it was doing: a request in flight (sending, its claim now dead),
    # a read-back of an unclear answer (unknown, or still sending), a wait (pending)
    for key, want in (("crash-4", {"sending"}), ("crash-5", {"sending", "unknown"}), ("crash-6", {"pending"})):
        if states.get(key) not in want:
            raise CaseFailure(f"{key} is {states.get(key)!r} after the kill, expected {' or '.join(sorted(want))}")
    if "crash-3" in states:
        raise CaseFailure("crash-3 was recorded before its route was known")

    # The resume itself killed: 'outbox retry crash-4' killed while its read-back is held
    fault(run, {"id": "hold-resume-4", "method": "GET", "path": f"/api/v2/conversations/messages/{conv_id(4)}",
                "kind": "latency", "latencyMs": 6000})
    proc = run.popen(run.agent_args() + ["outbox", "retry", "crash-4"], env=FAST_RETRY)
    try:
        run.wait_fired("hold-resume-4")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    # Resume: 'outbox retry --all' finishes what was recorded, then the whole run is started again
    # from the top, as a user would rerun a script: every key is sent at most once.
    code, out, err = run.run(run.agent_args() + ["outbox", "retry", "--all"], env=FAST_RETRY, check=0)
    print("outbox retry --all:\n  " + "\n  ".join(out.strip().splitlines()))
    for i in range(1, N + 1):
        code, out, err = run.run(send_args(run, i), env=FAST_RETRY, check=0)
    left = {k: v for k, v in outbox_states(run).items() if v != "sent"}
    if left:
        raise CaseFailure(f"entries not sent after the resume: {left}")

    lost, dup, stray = count_copies(run, expected)
    print(f"crash: {N} sends; killed before the record, with the POST in flight, during a read-back, "
          f"during a 429 wait, and during the resume itself; then resumed: lost {len(lost)}, "
          f"duplicated {len(dup)}, stray {len(stray)}")
    if lost or dup or stray:
        raise CaseFailure(f"lost {lost}, duplicated {dup}, stray {stray}")
    print("PASS crash: 0 lost, 0 duplicated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
