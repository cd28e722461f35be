#!/usr/bin/env python3
"""No token, secret or message text in any log or audit line (issue 5). A run with everything
switched on (-v, --json, retries and read-backs from injected faults, a throttled send left in
the outbox, webhooks, the audit log and its export, the outbox listing, stats) is searched for
the client secret, the webhook secret, every access token involved, and the message texts. The
texts may appear in exactly two places: a --dry-run (whose purpose is to show the request) and
the audit log of a send made with --audit-text.

Usage: no_leaks.py --gcsim PATH --gcmsg PATH [--log-dir DIR]"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import (AGENTLESS_POST, MESSAGE_POST, SERVICE, SERVICE_SECRET, CaseFailure, Run,  # noqa: E402
                     conv_id, scenario)
from webhook_receiver import WebhookReceiver  # noqa: E402

HOOK_SECRET = "hook-secret-never-printed-93ad"
FAST = {"GCMSG_RETRY_BACKOFF_BASE_MS": "10", "GCMSG_READBACK_SETTLE_MS": "10", "GCMSG_RETRY_BUDGET_MS": "5000",
        "GCMSG_READBACK_HORIZON_MS": "500"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gcsim", required=True)
    ap.add_argument("--gcmsg", required=True)
    ap.add_argument("--log-dir")
    args = ap.parse_args()
    faults = [{"id": "commit", "method": "POST", "path": MESSAGE_POST, "kind": "commit-then-fail", "everyNth": 2},
              {"id": "throttle", "method": "POST", "path": AGENTLESS_POST, "status": 429, "retryAfter": 1,
               "everyNth": 3},
              {"id": "reset", "method": "GET", "path": "/api/v2/conversations/*", "kind": "reset", "everyNth": 4}]
    run = Run(args.gcsim, args.gcmsg, "no_leaks", scenario(4, 4, faults=faults), args.log_dir)
    try:
        with WebhookReceiver(secret=HOOK_SECRET) as rx:
            return leaks(run, rx)
    except CaseFailure as e:
        print(f"FAIL no_leaks: {e}")
        print("gcsim stderr (tail):\n" + run.sim.stderr_text())
        return 1
    finally:
        run.close()


def leaks(run, rx):
    env = dict(FAST, GCMSG_WEBHOOK_URL=rx.url("/hook"), GCMSG_WEBHOOK_SECRET=HOOK_SECRET)
    service_token = run.sim.client_token(SERVICE, SERVICE_SECRET)
    agent = run.agent_args()
    secrets = {"client secret": SERVICE_SECRET, "webhook secret": HOOK_SECRET,
               "service token": service_token, "agent token": agent[1]}
    texts = {}
    outputs = []  # (what, text) that must hold no secret and no message text

    def record(what, result, codes=(0,)):
        code, out, err = result
        outputs.append((what + " stdout", out))
        outputs.append((what + " stderr", err))
        if code not in codes:  # a run that failed early would have little to leak
            raise CaseFailure(f"{what} exited {code}: {err.strip()[:300]}")
        return code

    for i in range(1, 9):
        conv = conv_id(i)
        texts[i] = f"PII-MARKER-{i} Dear customer, your card ending 4242 is blocked"
        creds = (run.service_args() if i <= 2 else ["--access-token", service_token]) if i <= 4 else agent
        for flags in (["-v"], ["-v", "--json"]):
            # a send throttled beyond its small budget (7) or left unknown (8) is fine here: it waits
            record(f"send {i} {flags}", run.run(creds + flags + ["send", conv, "--text", texts[i],
                                                                 "--idempotency-key", f"leak-{i}"], env=env),
                   codes=(0, 7, 8))
    # a bulk file of its own (agentless into the SMS conversations, the agent into the web ones),
    # with the faults still firing: its -v lines, JSON lines and summary hold neither texts nor tokens
    rows = os.path.join(run.workdir, "leak-rows.csv")
    with open(rows, "w") as f:
        f.write("conversation,text\n")
        for i in range(1, 5):
            texts[100 + i] = f"PII-MARKER-{100 + i} Bulk notice: your card ending 4242 is blocked"
            f.write(f"{conv_id(i)},{texts[100 + i]}\n")
    for flags in (["-v"], ["-v", "--json"]):
        record(f"bulk {flags}", run.run(run.service_args() + flags + ["bulk", rows, "--progress"], env=env),
               codes=(0, 9))
    # a dry run shows the text (that is its purpose) but never a token
    code, out, err = run.run(agent + ["-v", "send", conv_id(5), "--text", texts[5], "--dry-run"], env=env)
    dry = [("dry-run stdout", out), ("dry-run stderr", err)]
    # a send with --audit-text keeps its text in the audit log only
    audit_text = "PII-KEPT-ON-PURPOSE in the audit log"
    record("send --audit-text", run.run(agent + ["send", conv_id(6), "--text", audit_text, "--audit-text",
                                                 "--idempotency-key", "leak-kept"], env=env))
    for args in (["outbox", "list", "--all"], ["outbox", "list", "--all", "--json"], ["audit"],
                 ["audit", "--json"], ["audit", "--export", "-"], ["stats"], ["stats", "--json"],
                 ["webhooks", "list", "--all", "--json"], ["-v", "whoami"]):
        record(" ".join(args), run.run(run.service_args() + args if args[-1] == "whoami" else args, env=env))
    for r in rx.requests:
        outputs.append(("webhook event", json.dumps(r["headers"]) + r["body"]))
    # the tokens gcmsg obtained itself and keeps in its cache (the file is the one place they may be)
    for n, token in enumerate(run.cached_tokens()):
        secrets[f"cached token {n + 1}"] = token
    if not any(k.startswith("cached token") for k in secrets):
        raise CaseFailure("gcmsg cached no token: the search would miss the tokens it obtained itself")

    problems = []
    for what, text in outputs + dry:
        for name, secret in secrets.items():
            if secret in text:
                problems.append(f"{what} contains the {name}")
    audit_lines = [t for w, t in outputs if w.startswith(("audit", "webhook"))]
    for what, text in outputs:
        for i, t in texts.items():
            if t in text or f"PII-MARKER-{i} " in text:
                problems.append(f"{what} contains the text of message {i}")
        if audit_text in text and not what.startswith(("audit", "webhook")):
            problems.append(f"{what} contains the --audit-text message")
    if not any(audit_text in t for t in audit_lines):
        problems.append("--audit-text did not keep the text in the audit log")
    if not any(texts[5] in t for w, t in dry):
        problems.append("the dry run did not show the text it would send")
    attempts = sum(t.count(": attempt ") for w, t in outputs)
    searched = sum(len(t) for w, t in outputs + dry)
    print(f"no_leaks: searched {len(outputs) + len(dry)} outputs ({searched} bytes: stdout, stderr with -v, "
          f"audit, export, outbox, stats, {len(rx.requests)} webhook events; {attempts} attempt lines) for "
          f"{len(secrets)} secrets and {len(texts)} message texts: {len(problems)} found")
    if problems:
        raise CaseFailure("; ".join(problems[:10]))
    print("PASS no_leaks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
