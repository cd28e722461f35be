#!/usr/bin/env python3
"""The chaos test of issue 5: 1,000 sends to distinct conversations (500 SMS through the agentless
route with client credentials, 500 web messaging through the agent route with a user token) while
gcsim injects 429s, 503s, connection resets, latency and commit-then-fail on about 20% of the API
requests (reads and sends alike). Afterwards every transcript must hold exactly one copy of its
message (0 lost, 0 duplicated), and the audit log must account for every send request gcsim saw.

Usage: chaos.py --gcsim PATH --gcmsg PATH [--log-dir DIR] [--sends N] [--workers W] [--seed S]"""
import collections
import concurrent.futures
import fnmatch
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (test_main, AGENTLESS_POST, MESSAGE_POST, CaseFailure, conv_id, count_copies,  # noqa: E402
                     scenario)

SEND_PATHS = (MESSAGE_POST, AGENTLESS_POST)
# Waits scaled down so the run takes seconds, not the production minutes; the policy is the same.
FAST_RETRY = {"GCMSG_RETRY_BACKOFF_BASE_MS": "20", "GCMSG_RETRY_BACKOFF_CAP_MS": "400",
              "GCMSG_READBACK_SETTLE_MS": "50", "GCMSG_READBACK_HORIZON_MS": "1000", "GCMSG_RETRY_BUDGET_MS": "60000",
              "GCMSG_RETRY_MAX_ATTEMPTS": "12"}


def faults():
    """At least one API request in five gets a fault: faults are tried in order, so a path's
    combined chance is 1 - prod(1 - p), a little over 0.2 for every path."""
    f = []
    for name, path in (("send", MESSAGE_POST), ("agentless", AGENTLESS_POST)):
        f += [
            {"id": f"{name}-429", "method": "POST", "path": path, "status": 429, "retryAfter": 1,
             "probability": 0.045},
            {"id": f"{name}-503", "method": "POST", "path": path, "status": 503, "probability": 0.045},
            {"id": f"{name}-reset", "method": "POST", "path": path, "kind": "reset", "probability": 0.03},
            {"id": f"{name}-commit-503", "method": "POST", "path": path, "kind": "commit-then-fail",
             "probability": 0.03},
            {"id": f"{name}-commit-reset", "method": "POST", "path": path, "kind": "commit-then-fail",
             "then": "reset", "probability": 0.03},
            {"id": f"{name}-slow", "method": "POST", "path": path, "kind": "latency", "latencyMs": 150,
             "probability": 0.045},
        ]
    for name, method, path in (("conv", "GET", "/api/v2/conversations/*"),
                               ("msgconv", "GET", "/api/v2/conversations/messages/*"),
                               ("bulk", "POST", "/api/v2/conversations/messages/*/messages/bulk"),
                               ("tokens", "GET", "/api/v2/tokens/me"),
                               ("users", "GET", "/api/v2/users/me")):
        f += [
            {"id": f"{name}-429", "method": method, "path": path, "status": 429, "retryAfter": 1,
             "probability": 0.055},
            {"id": f"{name}-503", "method": method, "path": path, "status": 503, "probability": 0.055},
            {"id": f"{name}-reset", "method": method, "path": path, "kind": "reset", "probability": 0.055},
            {"id": f"{name}-slow", "method": method, "path": path, "kind": "latency", "latencyMs": 100,
             "probability": 0.055},
        ]
    return f


def is_send(entry):
    return entry.get("method") == "POST" and any(fnmatch.fnmatchcase(entry.get("path", "").split("?")[0], p)
                                                 for p in SEND_PATHS)


def conversation_of(entry):
    path = entry.get("path", "").split("?")[0]
    if path == AGENTLESS_POST:
        return None  # the body names the addresses, not the conversation: matched by audit below
    return path.split("/")[5]


def main():
    def more(ap):
        ap.add_argument("--sends", type=int, default=1000)
        ap.add_argument("--workers", type=int, default=8)

    def doc(args):
        return scenario(args.sends // 2, args.sends - args.sends // 2, faults=faults())

    return test_main("chaos", doc, lambda run, args: chaos(run, args.sends // 2, args.sends - args.sends // 2,
                                                           args.workers), more)


def chaos(run, n_sms, n_web, workers):
    agent = run.agent_args()
    service = run.service_args()
    expected = {}
    jobs = []
    for i in range(1, n_sms + n_web + 1):
        conv = conv_id(i)
        text = f"Chaos notice {i}: your case {conv[-6:]} is with us."
        expected[conv] = text
        creds = service if i <= n_sms else agent
        jobs.append(creds + ["send", conv, "--text", text, "--idempotency-key", f"chaos-{i}", "--json"])

    t0 = time.monotonic()
    exits = collections.Counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for code, out, err in pool.map(lambda a: run.run(a, env=FAST_RETRY, timeout=300), jobs):
            exits[code] += 1
            if code not in (0, 7, 8):
                raise CaseFailure(f"a send exited {code}: {err.strip()}")
    first_pass = time.monotonic() - t0

    # Sends that ended throttled beyond their budget or with an unknown outcome stay in the outbox;
    # 'outbox retry --all' finishes them (each caller resumes its own entries).
    rounds = 0
    while rounds < 10:
        code, out, err = run.run(["outbox", "list", "--json"], check=0)
        left = json.loads(out)["entries"]
        if not left:
            break
        rounds += 1
        for creds in (service, agent):
            run.run(creds + ["outbox", "retry", "--all"], env=FAST_RETRY, timeout=600)
    if left:
        raise CaseFailure(f"{len(left)} sends still unfinished after {rounds} retry rounds: {left[:3]}")
    wall = time.monotonic() - t0

    lost, dup, stray = count_copies(run, expected)

    # The audit log against gcsim's request log: every send request gcsim saw (answered, failed,
    # dropped or slow) is one attempt record, conversation by conversation.
    code, out, err = run.run(["audit", "--export", "-"], check=0)
    records = [json.loads(line) for line in out.splitlines()]
    attempts = collections.Counter()
    outcomes = {}
    readbacks = collections.Counter()
    for r in records:
        if r["event"] == "attempt" and r["outcome"].startswith("readback-"):
            readbacks[r["outcome"]] += 1
        elif r["event"] == "attempt":
            attempts[r["conversationId"]] += 1
        else:
            outcomes[r["key"]] = r["outcome"]
    requests = run.requests()
    seen = collections.Counter()
    agentless_seen = 0
    for e in requests:
        if is_send(e):
            conv = conversation_of(e)
            if conv is None:
                agentless_seen += 1
            else:
                seen[conv] += 1
    agentless_audited = sum(n for c, n in attempts.items() if int(c[-12:]) <= n_sms)
    mismatched = [c for c in expected if int(c[-12:]) > n_sms and attempts[c] != seen[c]]
    if agentless_audited != agentless_seen:
        mismatched.append(f"agentless: audit {agentless_audited} vs gcsim {agentless_seen}")
    not_sent = [k for k, o in outcomes.items() if o not in ("sent", "duplicate")]

    status, fdoc = run.sim.admin("GET", "/sim/v1/faults")
    fired = collections.Counter()
    for f in fdoc["faults"]:
        fired[f["id"].split("-", 1)[1]] += f.get("fired", 0)
    api_requests = sum(1 for e in requests if e.get("path", "").startswith("/api/v2/"))
    faulted = sum(1 for e in requests if e.get("path", "").startswith("/api/v2/") and e.get("fault"))

    print(f"chaos: {n_sms + n_web} sends ({n_sms} agentless SMS, {n_web} agent web messaging), "
          f"{workers} parallel gcmsg processes")
    print(f"  API requests seen by gcsim: {api_requests}, with a fault: {faulted} "
          f"({100.0 * faulted / max(api_requests, 1):.1f}%)")
    print("  faults fired: " + ", ".join(f"{k} {v}" for k, v in sorted(fired.items())))
    print(f"  send requests: {sum(seen.values()) + agentless_seen} for {n_sms + n_web} messages; "
          f"read-backs: " + ", ".join(f"{k} {v}" for k, v in sorted(readbacks.items())))
    print(f"  first pass exits: " + ", ".join(f"{k}: {v}" for k, v in sorted(exits.items())) +
          f"; outbox retry rounds: {rounds}")
    print(f"  lost: {len(lost)}, duplicated: {len(dup)}, stray messages: {len(stray)}")
    print(f"  audit: {sum(attempts.values())} send attempts recorded, gcsim saw "
          f"{sum(seen.values()) + agentless_seen}; mismatches: {len(mismatched)}; "
          f"keys not ending sent: {len(not_sent)}")
    print(f"  wall time: {wall:.1f} s (first pass {first_pass:.1f} s)")
    problems = []
    if lost:
        problems.append(f"lost: {lost[:5]}")
    if dup:
        problems.append(f"duplicated: {dup[:5]}")
    if stray:
        problems.append(f"stray: {stray[:3]}")
    if mismatched:
        problems.append(f"audit and request log disagree: {mismatched[:5]}")
    if not_sent or len(outcomes) != n_sms + n_web:
        problems.append(f"outcomes: {len(outcomes)} keys, not sent: {not_sent[:5]}")
    if faulted < 0.18 * api_requests:
        problems.append("fewer faults fired than the test is about (20% of the requests)")
    if problems:
        # what happened to the first troubled conversation, request by request
        conv = (dup[0][0] if dup else lost[0] if lost else
                next((m for m in mismatched if m.startswith("1111")), None))
        if conv:
            print(f"  requests about {conv}:")
            address = f"+1555{int(conv[-12:]):07d}"  # an SMS customer's, in agentless bodies
            for e in requests:
                body = json.dumps(e.get("requestBody"))
                if conv in e.get("path", "") or conv in body or address in body:
                    print(f"    {e.get('seq')} {e.get('time', '')} {e.get('method')} {e.get('path')} -> "
                          f"{e.get('status')} {json.dumps(e.get('fault')) if e.get('fault') else ''}")
            print(f"  audit records of {conv}:")
            for r in records:
                if r["conversationId"] == conv:
                    print(f"    {r['id']} {r['event']} {r['outcome']} attempt {r['attempt']} "
                          f"HTTP {r['httpStatus']} {r['errorCode']} {r['detail']}")
        raise CaseFailure("; ".join(problems))
    print("PASS chaos: 0 lost, 0 duplicated, every attempt audited")
    return 0


if __name__ == "__main__":
    sys.exit(main())
