#!/usr/bin/env python3
"""gcmsg bulk (issue 6) against a real gcsim: a file of 1,000 good rows and some bad ones.

* The run: every good row reaches its conversation exactly once, rendered for that conversation
  (a canned response found by name with a per-row variable, or the default text with the
  customer's name and a per-row variable); the bad rows are reported with their line numbers (a
  malformed id before anything is sent; a conversation gcsim does not know and one that has
  ended, when their turn comes); one JSON line per row and a summary; exit 9.
* The rerun of the same file: nothing is sent again (every good row answered from the outbox as
  sent before); gcsim sees no message POST.
* --strict on the same file: refused as a whole, no request at all, exit 2.
* JSON Lines on stdin with a new --run-id: those rows are sent again, once more each.
* The audit log holds one "sent" outcome per message sent, with source "bulk".
* A reader of --json that goes away after one line (| head -1): exit 9, not killed by SIGPIPE
  mid-send; the rerun sends the rest, each message once.

Usage: bulk.py --gcsim PATH --gcmsg PATH [--log-dir DIR]"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (test_main, MESSAGE_POST, CaseFailure, conv_id, count_copies, outbound_texts, scenario,  # noqa: E402
                     web_conversation)

N = 1000
LIB = "55555555-0000-4000-8000-0000000b0001"
RESPONSE = {"id": "aaaaaaaa-0000-4000-8000-0000000b0002", "name": "Escalation notice", "version": 5,
            "libraries": [LIB],
            "texts": [{"content": "Hi {{CUSTOMER_NAME}}, case {{CaseNumber}} is escalated; expect news within "
                                  "{{ETA}}.", "contentType": "text/plain"}],
            "substitutions": [{"id": "CaseNumber", "description": "Case number"},
                              {"id": "ETA", "description": "Time to the next update", "defaultValue": "24 hours"}]}
DEFAULT_TEXT = "Notice for {{CUSTOMER_NAME}}: reference {{Ref}}"
UNKNOWN_CONV = "11111111-0000-4000-8000-00000000ffff"
ENDED = N + 1


def expected_text(i):
    if i % 2:
        return f"Hi Guest {i}, case CS-{i} is escalated; expect news within 24 hours."
    return f"Notice for Guest {i}: reference R{i}"


def write_rows(path):
    """Line 1 is the header; row i (1..N) is on line i + 1; three bad rows follow."""
    lines = ["conversation,response,CaseNumber,var.Ref"]
    for i in range(1, N + 1):
        lines.append(f"{conv_id(i)},Escalation notice,CS-{i}," if i % 2 else f"{conv_id(i)},,,R{i}")
    lines.append("not-a-uuid,,,R0")                      # line N + 2: refused before anything is sent
    lines.append(f"{UNKNOWN_CONV},,,R1")                 # line N + 3: gcsim answers 404
    lines.append(f"{conv_id(ENDED)},,,R2")               # line N + 4: the conversation has ended
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def post_count(run):
    return sum(1 for e in run.requests() if e.get("method") == "POST" and e.get("path", "").startswith(
        "/api/v2/conversations/messages/") and e.get("path", "").endswith("/messages"))


def api_requests(run):
    return sum(1 for e in run.requests() if e.get("path", "").startswith(("/api/", "/oauth/")))


def json_lines(out):
    rows, summary = [], None
    for line in out.splitlines():
        doc = json.loads(line)
        if "summary" in doc:
            summary = doc["summary"]
        else:
            rows.append(doc)
    if summary is None:
        raise CaseFailure("no summary line in the --json output")
    return rows, summary


def with_responses(args):
    ended = web_conversation(ENDED)
    ended["state"] = "disconnected"
    ended["endTime"] = "2026-11-21T09:30:00Z"
    for p in ended["participants"]:
        p["state"] = "disconnected"
    doc = scenario(0, N, extra={"libraries": [{"id": LIB, "name": "Care", "version": 1}], "responses": [RESPONSE]})
    doc["conversations"].append(ended)
    doc["users"][0]["permissions"] = doc["users"][0]["permissions"] + ["responses:response:view",
                                                                       "responses:library:view"]
    return doc


def main():
    return test_main("bulk", with_responses, lambda run, args: bulk(run))


def bulk(run):
    path = os.path.join(run.workdir, "rows.csv")
    write_rows(path)
    argv = run.agent_args() + ["bulk", path, "--text", DEFAULT_TEXT, "--concurrency", "24", "--json"]

    # the run
    code, out, err = run.run(argv, timeout=600)
    if code != 9:
        raise CaseFailure(f"bulk exited {code}, expected 9 (some rows failed)\n{err[-2000:]}")
    rows, summary = json_lines(out)
    by_status = {}
    for r in rows:
        by_status.setdefault(r["status"], []).append(r)
    sent = by_status.get("sent", [])
    if len(sent) != N or summary["sent"] != N:
        raise CaseFailure(f"{len(sent)} rows sent (summary {summary['sent']}), expected {N}")
    invalid = by_status.get("invalid", [])
    if [r["line"] for r in invalid] != [N + 2] or "conversation" not in invalid[0]["error"]["message"]:
        raise CaseFailure(f"the invalid rows are {invalid}, expected line {N + 2} naming the conversation")
    failed = {r["line"]: r for r in by_status.get("failed", [])}
    if sorted(failed) != [N + 3, N + 4]:
        raise CaseFailure(f"failed rows on lines {sorted(failed)}, expected {[N + 3, N + 4]}")
    if failed[N + 3]["error"]["code"] != "not found" or failed[N + 3]["stage"] != "route":
        raise CaseFailure(f"the unknown conversation failed as {failed[N + 3]}")
    if failed[N + 4]["error"]["code"] != "conversation cannot receive it":
        raise CaseFailure(f"the ended conversation failed as {failed[N + 4]}")
    if summary["failed"] != 2 or summary["invalid"] != 1 or summary["rows"] != N + 3:
        raise CaseFailure(f"summary {summary}")
    if any(r["line"] != int(r["conversation"].rsplit("-", 1)[1]) + 1 for r in sent):
        raise CaseFailure("a row's line number does not match its conversation")
    if len({r["key"] for r in sent}) != N:
        raise CaseFailure("two rows share an idempotency key")
    expected = {conv_id(i): expected_text(i) for i in range(1, N + 1)}
    lost, dup, stray = count_copies(run, expected)
    if lost or dup or stray:
        raise CaseFailure(f"lost {lost[:3]}, duplicated {dup[:3]}, stray {stray[:3]}")
    if outbound_texts(run.transcript(conv_id(ENDED))):
        raise CaseFailure("the ended conversation got a message")
    posts = post_count(run)
    print(f"bulk: {N + 3} rows, {summary['sent']} sent in {summary['elapsed_ms']} ms with {summary['requests']} "
          f"API requests ({posts} message POSTs), 1 invalid (line {N + 2}), 2 failed (lines {N + 3}, {N + 4}); "
          f"lost 0, duplicated 0")

    # the rerun: nothing is sent again
    code, out, err = run.run(argv, timeout=600)
    rows, summary = json_lines(out)
    again = [r for r in rows if r["status"] == "duplicate"]
    # only the two failed rows make requests again (their conversations are read)
    if code != 9 or len(again) != N or summary["sent"] != 0 or post_count(run) != posts or summary["requests"] > 4:
        raise CaseFailure(f"the rerun: exit {code}, {len(again)} answered as sent before, summary {summary}, "
                          f"message POSTs {post_count(run) - posts}")
    print(f"rerun: {len(again)} rows answered from the outbox; {summary['requests']} API requests "
          f"(the failed rows), 0 message POSTs")

    # --strict: refused whole, before any request
    before = api_requests(run)
    code, out, err = run.run(run.agent_args() + ["bulk", path, "--text", DEFAULT_TEXT, "--strict"])
    if code != 2 or api_requests(run) != before or f"rows.csv:{N + 2}:" not in err:
        raise CaseFailure(f"--strict: exit {code}, {api_requests(run) - before} requests, stderr {err[-500:]}")
    print(f"--strict: refused with exit 2 naming line {N + 2}, no request made")

    # JSON Lines on stdin, a new run id: sent once more
    stdin = "".join(json.dumps({"conversation": conv_id(i), "text": "Second notice {{Ref}}", "vars": {"Ref": f"S{i}"}})
                    + "\n" for i in range(1, 11))
    proc = subprocess.run(run.gcmsg_argv(run.agent_args() + ["bulk", "-", "--run-id", "second", "--json"]),
                          input=stdin.encode(), env=run.env(), capture_output=True, timeout=120)
    rows, summary = json_lines(proc.stdout.decode())
    if proc.returncode != 0 or summary["sent"] != 10:
        raise CaseFailure(f"stdin run: exit {proc.returncode}, summary {summary}, {proc.stderr.decode()[-500:]}")
    for i in range(1, 11):
        texts = outbound_texts(run.transcript(conv_id(i)))
        if texts != [expected_text(i), f"Second notice S{i}"]:
            raise CaseFailure(f"{conv_id(i)} holds {texts}")
    print("stdin (JSON Lines) with --run-id second: 10 more sent, one each")

    # the audit log: one "sent" outcome per message, source bulk
    code, out, err = run.run(["audit", "--event", "outcome", "--export", "-"], check=0)
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    sent_records = [r for r in records if r.get("outcome") == "sent" and r.get("source") == "bulk"]
    if len(sent_records) != N + 10:
        raise CaseFailure(f"{len(sent_records)} 'sent' outcomes from bulk in the audit log, expected {N + 10}")
    print(f"audit: {len(sent_records)} sent outcomes with source bulk")
    # a reader of --json that goes away (| head -1): the run stops starting rows instead of being
    # killed by SIGPIPE mid-send, and a rerun finishes the rest, each once
    pipe_rows = os.path.join(run.workdir, "pipe.csv")
    with open(pipe_rows, "w") as f:
        f.write("conversation,text\n" + "".join(f"{conv_id(i)},Pipe notice {i}\n" for i in range(1, 301)))
    argv = run.agent_args() + ["bulk", pipe_rows, "--json", "--concurrency", "4"]
    # gcsim holds each POST 30 ms, so the run is still going when the reader leaves
    status, doc = run.sim.admin("POST", "/sim/v1/faults", {"id": "slow", "method": "POST", "path": MESSAGE_POST,
                                                          "kind": "latency", "latencyMs": 30, "probability": 1.0})
    if status != 201:
        raise CaseFailure(f"installing the latency fault answered {status}: {doc}")
    proc = subprocess.Popen(run.gcmsg_argv(argv), env=run.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    first = proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=300)
    if not first or proc.returncode != 9:
        raise CaseFailure(f"bulk with its reader gone exited {proc.returncode} (expected 9, not killed by "
                          f"SIGPIPE): {err.decode()[-500:]}")
    run.sim.admin("DELETE", "/sim/v1/faults")
    code, out, err = run.run(argv, timeout=600)
    summary = json.loads(out.splitlines()[-1])["summary"]
    if code != 0 or summary["duplicates"] + summary["sent"] != 300:
        raise CaseFailure(f"the rerun after the reader left: exit {code}, summary {summary}")
    for i in range(1, 301):
        n = outbound_texts(run.transcript(conv_id(i))).count(f"Pipe notice {i}")
        if n != 1:
            raise CaseFailure(f"{conv_id(i)} got 'Pipe notice {i}' {n} times")
    print(f"reader gone after one line: exit 9, then the rerun: {summary['sent']} sent, {summary['duplicates']} "
          f"sent before; each of the 300 once")
    print("PASS bulk: every row once, bad rows reported by line, reruns send nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
