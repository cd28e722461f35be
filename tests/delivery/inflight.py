#!/usr/bin/env python3
"""In-flight requests (the review of issue 5): a send the client gave up on may still be carried out
by the server afterwards; reading the conversation back too early finds nothing, and a resend then
reaches the customer twice.

gcsim holds each send (a latency fault) longer than gcmsg's request timeout (30 s), then carries it
out. Three sends at once:
 1. agentless (client credentials) and 2. agent route (a user token): gcmsg times out, reads back
    (absent: the request is still held) and, within its in-flight horizon (default: the request
    timeout + 30 s, longer than the fault's latency), reads again instead of resending: it finds the
    message. One copy each, one send request each.
 3. agentless into a conversation that ends while the send is held: gcsim carries it out into a new
    conversation (useExistingActiveConversation finds none connected), which reading the old one
    back cannot see. The send ends with an unknown outcome; neither it nor an 'outbox retry' resends.

What is asserted is what the customer got (copies in the transcripts) and what gcsim saw (send
requests), never how long anything took.

Usage: inflight.py --gcsim PATH --gcmsg PATH [--log-dir DIR]"""
import argparse
import fnmatch
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (AGENTLESS_POST, MESSAGE_POST, CaseFailure, Run, conv_id, outbound_texts,  # noqa: E402
                     scenario)

# gcmsg's request timeout is 30 s: the faults hold a send longer, then carry it out
LATENCY_MS = 33000
# quick read-backs; the horizon stays the default (the request timeout + 30 s)
FAST = {"GCMSG_RETRY_BACKOFF_BASE_MS": "200", "GCMSG_RETRY_BACKOFF_CAP_MS": "2000",
        "GCMSG_READBACK_SETTLE_MS": "200"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gcsim", required=True)
    ap.add_argument("--gcmsg", required=True)
    ap.add_argument("--log-dir")
    args = ap.parse_args()
    # conversations 1-2: SMS (agentless), 3: web messaging (agent route)
    run = Run(args.gcsim, args.gcmsg, "inflight", scenario(2, 1), args.log_dir)
    try:
        held_sends(run)
        print("PASS inflight: 0 duplicated; nothing resent while the server may still carry a send out")
        return 0
    except CaseFailure as e:
        print(f"FAIL inflight: {e}")
        print("gcsim stderr (tail):\n" + run.sim.stderr_text())
        return 1
    finally:
        run.close()


def sends_seen(run, path_pattern, needle):
    """Send requests gcsim saw on that route whose path or body names needle."""
    n = 0
    for e in run.requests():
        if e.get("method") != "POST" or not fnmatch.fnmatchcase(e.get("path", "").split("?")[0], path_pattern):
            continue
        if needle in e.get("path", "") or needle in json.dumps(e.get("requestBody")):
            n += 1
    return n


def copies(run, conv, text):
    return outbound_texts(run.transcript(conv)).count(text)


def install(run, fault):
    status, doc = run.sim.admin("POST", "/sim/v1/faults", fault)
    if status != 201:
        raise CaseFailure(f"installing {fault['id']} answered {status}: {doc}")


def held_sends(run):
    sends = [
        # key, conversation, credentials, send path, what names its request, ends while held
        ("inflight-1", conv_id(1), run.service_args(), AGENTLESS_POST, "+15550000001", False),
        ("inflight-2", conv_id(3), run.agent_args(), MESSAGE_POST, conv_id(3), False),
        ("inflight-ended", conv_id(2), run.service_args(), AGENTLESS_POST, "+15550000002", True),
    ]
    procs = []
    for key, conv, creds, path, needle, ends in sends:
        install(run, {"id": f"hold-{key}", "method": "POST",
                      "path": AGENTLESS_POST if path == AGENTLESS_POST else MESSAGE_POST.replace("*", conv, 1),
                      "kind": "latency", "latencyMs": LATENCY_MS, "times": 1})
        text = f"Held by the server ({key}): your visit is at 10:00."
        proc = run.popen(creds + ["send", conv, "--text", text, "--idempotency-key", key, "--json"], env=FAST)
        procs.append((key, conv, text, path, needle, ends, proc))
        # one send at a time into gcsim's hands (the two agentless faults match either agentless send)
        run.wait_fired(f"hold-{key}")
    # every send is held now: the third one's conversation ends before gcsim carries it out
    status, doc = run.sim.admin("POST", f"/sim/v1/conversations/{conv_id(2)}/end")
    if status != 200:
        raise CaseFailure(f"ending {conv_id(2)} answered {status}: {doc}")

    results = {}
    for key, conv, text, path, needle, ends, proc in procs:
        out, err = proc.communicate(timeout=300)
        results[key] = (proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))
    # gcsim logs a request once it is carried out: wait for every held one, then count what the customers got
    for key, *_ in procs:
        run.wait_for_request(lambda e, k=key: (e.get("fault") or {}).get("id") == f"hold-{k}", timeout=120)

    for key, conv, text, path, needle, ends, proc in procs:
        code, out, err = results[key]
        if ends:
            retry_code, _, retry_err = run.run(run.service_args() + ["outbox", "retry", key], env=FAST,
                                               timeout=300)
            seen = sends_seen(run, path, needle)
            print(f"  {key}: exit {code}, then outbox retry: exit {retry_code}; send requests: {seen}; "
                  f"copies in the ended conversation: {copies(run, conv, text)}")
            if code != 8 or retry_code != 8:
                raise CaseFailure(f"{key} ended {code} / {retry_code}, not 8 (unknown): "
                                  f"{err.strip()} / {retry_err.strip()}")
            if "outcome of the send is unknown" not in err:
                raise CaseFailure(f"{key} did not say its outcome is unknown: {err.strip()}")
            if seen != 1:
                raise CaseFailure(f"gcsim saw {seen} sends of {key}: it was resent")
            if copies(run, conv, text) != 0:
                raise CaseFailure(f"the ended conversation {conv} got the message")
            continue
        if code != 0:
            raise CaseFailure(f"{key} exited {code}: {err.strip()}")
        doc = json.loads(out)
        n = copies(run, conv, text)
        seen = sends_seen(run, path, needle)
        print(f"  {key}: exit 0, found by a read-back: {doc.get('readBack')}, copies: {n}, send requests: {seen}")
        if n != 1:
            raise CaseFailure(f"{conv} holds {n} copies of {key}'s message, not 1")
        if seen != 1:
            raise CaseFailure(f"gcsim saw {seen} sends of {key}: the held one was resent")
        if not doc.get("readBack"):
            raise CaseFailure(f"{key} was not found by a read-back: {out.strip()}")

    # the audit log: each held send had one attempt (ambiguous: timed out), then read-backs
    code, out, err = run.run(["audit", "--export", "-"], check=0)
    recs = [json.loads(line) for line in out.splitlines()]
    for key, *_ in sends:
        got = [r["outcome"] for r in recs if r.get("key") == key and r["event"] == "attempt"]
        if got.count("ambiguous") != 1 or any(o in ("ok", "rejected", "throttled") for o in got):
            raise CaseFailure(f"attempts of {key} in the audit log: {got}")


if __name__ == "__main__":
    sys.exit(main())
