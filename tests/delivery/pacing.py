#!/usr/bin/env python3
"""Pacing (issue 5): a long run stays under the per-token rate limit instead of bouncing off 429s.
gcsim allows 20 requests per 3-second window per token. Forty sends are first parked in the outbox
(each meets a 429 whose Retry-After is beyond the 180 s cap, so gcmsg gives up at once and keeps it
pending, exit 7); then one 'gcmsg outbox retry --all' resends all forty in a single process, which
needs well over one window's allowance. gcmsg reads inin-ratelimit-* from every answer and spreads
its requests: gcsim must answer no 429 during the resume, and every customer gets one copy.

Usage: pacing.py --gcsim PATH --gcmsg PATH [--log-dir DIR]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import test_main, AGENTLESS_POST, CaseFailure, conv_id, count_copies, scenario  # noqa: E402

N = 40
LIMIT, WINDOW = 20, 3


def limited(args):
    doc = scenario(N, 0, rate=LIMIT)
    doc["limits"]["rateLimitWindowSeconds"] = WINDOW
    return doc


def main():
    return test_main("pacing", limited, lambda run, args: pacing(run))


def pacing(run):
    status, doc = run.sim.admin("POST", "/sim/v1/faults", {"id": "park", "method": "POST", "path": AGENTLESS_POST,
                                                          "status": 429, "retryAfter": 600, "times": 0})
    if status != 201:
        raise CaseFailure(f"installing the fault answered {status}: {doc}")
    expected = {}
    for i in range(1, N + 1):
        expected[conv_id(i)] = f"Paced notice {i}"
        # parking 40 sends takes 4-5 requests each: the pacer spreads these too
        run.run(run.service_args() + ["send", conv_id(i), "--text", expected[conv_id(i)], "--idempotency-key",
                                      f"paced-{i}"], check=7)
    run.sim.admin("DELETE", "/sim/v1/faults")
    seq0 = max(e.get("seq", 0) for e in run.requests())

    code, out, err = run.run(run.service_args() + ["-v", "outbox", "retry", "--all"], check=0, timeout=600)
    resumed = [e for e in run.requests() if e.get("seq", 0) > seq0 and e.get("path", "").startswith("/api/v2/")]
    throttled = [e for e in resumed if e.get("status") == 429]
    sends = [e for e in resumed if e.get("method") == "POST" and e.get("path", "").split("?")[0] == AGENTLESS_POST]
    lost, dup, stray = count_copies(run, expected)
    print(f"pacing: limit {LIMIT} requests per {WINDOW} s per token; one process resent {len(sends)} parked "
          f"sends in {len(resumed)} API requests; gcsim answered 429 to {len(throttled)} of them; "
          f"lost {len(lost)}, duplicated {len(dup)}")
    if len(resumed) <= LIMIT:
        raise CaseFailure("the resume fitted in one window: it proves nothing about pacing")
    if throttled:
        raise CaseFailure(f"{len(throttled)} requests were answered 429: the pacer let the run hit the limit")
    if lost or dup or stray:
        raise CaseFailure(f"lost {lost}, duplicated {dup}, stray {stray}")
    print("PASS pacing: no 429 while resending twice the window's allowance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
