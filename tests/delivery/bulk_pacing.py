#!/usr/bin/env python3
"""gcmsg bulk under a per-token rate limit (issue 6): 32 concurrent senders share one token and
one limiter, and stay under the limit instead of bouncing off it.

gcsim allows 40 requests per 2-second window per token; 150 messages need 300 API requests, so the
run spans several windows. Every customer must get one copy, and fewer than 1% of the requests may
be answered 429 (the shared limiter reserves each request a slot from the inin-ratelimit-*
headers). The achieved rate against the limit is printed; how close it comes is the benchmark's
business (bench/), not a test's.

Usage: bulk_pacing.py --gcsim PATH --gcmsg PATH [--log-dir DIR]"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import test_main, CaseFailure, conv_id, count_copies, scenario  # noqa: E402

N = 150
LIMIT, WINDOW = 40, 2


def limited(args):
    doc = scenario(0, N, rate=LIMIT)
    doc["limits"]["rateLimitWindowSeconds"] = WINDOW
    return doc


def main():
    return test_main("bulk_pacing", limited, lambda run, args: pacing(run))


def pacing(run):
    path = os.path.join(run.workdir, "rows.csv")
    expected = {conv_id(i): f"Paced bulk notice {i}" for i in range(1, N + 1)}
    with open(path, "w") as f:
        f.write("conversation,text\n" + "".join(f"{c},{t}\n" for c, t in expected.items()))
    token = run.agent_args()
    seq0 = max((e.get("seq", 0) for e in run.requests()), default=0)
    code, out, err = run.run(token + ["bulk", path, "--concurrency", "32", "--json"], timeout=600)
    if code != 0:
        raise CaseFailure(f"bulk exited {code}: {err[-1500:]}")
    summary = json.loads(out.splitlines()[-1])["summary"]
    api = [e for e in run.requests() if e.get("seq", 0) > seq0 and e.get("path", "").startswith("/api/v2/")]
    throttled = [e for e in api if e.get("status") == 429]
    lost, dup, stray = count_copies(run, expected)
    secs = summary["elapsed_ms"] / 1000
    print(f"bulk_pacing: limit {LIMIT} requests per {WINDOW} s per token ({LIMIT / WINDOW:.0f}/s); {N} messages in "
          f"{len(api)} API requests over {secs:.1f} s ({len(api) / secs:.1f} requests/s); 429 answers: "
          f"{len(throttled)} ({100 * len(throttled) / len(api):.2f}%); lost {len(lost)}, duplicated {len(dup)}")
    if lost or dup or stray:
        raise CaseFailure(f"lost {lost[:3]}, duplicated {dup[:3]}, stray {stray[:3]}")
    if len(throttled) * 100 >= len(api):
        raise CaseFailure(f"{len(throttled)} of {len(api)} requests were answered 429 (1% or more)")
    if summary["throttled"] != len(throttled):
        raise CaseFailure(f"the summary counts {summary['throttled']} 429s, gcsim answered {len(throttled)}")
    print("PASS bulk_pacing: under the limit, every message once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
