#!/usr/bin/env python3
"""Token expiry mid-run (issue 5): sends whose access token expires while they are under way must
not fail. gcsim's clock is moved past the tokens' lifetime while gcsim holds one of a send's
requests (a latency fault), so the next request of that send meets 401 credentials.expired: gcmsg
renews the token once and carries on. Every send exits 0 and reaches its customer exactly once.

Usage: token_expiry.py --gcsim PATH --gcmsg PATH [--log-dir DIR]"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import test_main, CaseFailure, conv_id, count_copies, scenario  # noqa: E402

N = 12
LIFETIME = 300




def main():
    return test_main("token_expiry", lambda args: scenario(N, 0, token_lifetime=LIFETIME),
                     lambda run, args: expiry(run))


def expiry(run):
    expected = {}
    expired_mid_send = 0
    # where the token runs out: after reading the conversation, or after reading the caller
    holds = ["/api/v2/conversations/{conv}", "/api/v2/tokens/me"]
    for i in range(1, N + 1):
        conv = conv_id(i)
        text = f"Your appointment {i} is confirmed."
        expected[conv] = text
        args = run.service_args() + ["send", conv, "--text", text, "--idempotency-key", f"expiry-{i}"]
        if i % 2:
            run.run(args, check=0)
            continue
        fid = f"hold-{i}"
        path = holds[(i // 2) % 2].format(conv=conv)
        status, doc = run.sim.admin("POST", "/sim/v1/faults", {"id": fid, "method": "GET", "path": path,
                                                              "kind": "latency", "latencyMs": 3000})
        if status != 201:
            raise CaseFailure(f"installing {fid} answered {status}: {doc}")
        proc = run.popen(args)
        run.wait_fired(fid)
        status, doc = run.sim.admin("POST", "/sim/v1/clock/advance", {"seconds": LIFETIME + 60})
        if status != 200:
            raise CaseFailure(f"advancing the clock answered {status}")
        out, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            raise CaseFailure(f"send {i} failed after its token expired: exit {proc.returncode}: "
                              f"{err.decode(errors='replace')}")
        expired_mid_send += 1

    requests = run.requests()
    expired_answers = sum(1 for e in requests if e.get("status") == 401 and
                          "credentials.expired" in json.dumps(e.get("responseBody")))
    grants = sum(1 for e in requests if e.get("path", "").startswith("/oauth/token"))
    lost, dup, stray = count_copies(run, expected)
    print(f"token expiry: {N} sends, {expired_mid_send} with the token expiring mid-send; gcsim answered "
          f"401 credentials.expired {expired_answers} times and granted {grants} tokens; "
          f"lost {len(lost)}, duplicated {len(dup)}")
    if expired_answers < expired_mid_send:
        raise CaseFailure("the tokens did not expire mid-send as arranged")
    if lost or dup or stray:
        raise CaseFailure(f"lost {lost}, duplicated {dup}, stray {stray}")
    print("PASS token_expiry: no send failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
