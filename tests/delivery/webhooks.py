#!/usr/bin/env python3
"""Webhooks (issue 5): a receiver sees every event of a run of sends exactly once, each with a
valid X-Gcmsg-Signature-256, while a second webhook that is dead (nothing listens on its port) and
a third that accepts connections and never answers hold nothing up: after each send exits, the live
receiver already has that send's events, every send exits 0, and the dead hooks' events stay queued
for later ('gcmsg webhooks list'), never lost.

Usage: webhooks.py --gcsim PATH --gcmsg PATH [--log-dir DIR]"""
import argparse
import collections
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import CaseFailure, Run, conv_id, count_copies, scenario  # noqa: E402
from webhook_receiver import WebhookReceiver  # noqa: E402

N = 10
LIVE_SECRET = "live-webhook-secret-6f1c2d"


def closed_port():
    """A loopback port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gcsim", required=True)
    ap.add_argument("--gcmsg", required=True)
    ap.add_argument("--log-dir")
    args = ap.parse_args()
    run = Run(args.gcsim, args.gcmsg, "webhooks", scenario(N, 0), args.log_dir)
    try:
        with WebhookReceiver(secret=LIVE_SECRET) as live, WebhookReceiver(secret="hung-secret") as hung:
            hung.set(hang=True)
            return webhooks(run, live, hung)
    except CaseFailure as e:
        print(f"FAIL webhooks: {e}")
        print("gcsim stderr (tail):\n" + run.sim.stderr_text())
        return 1
    finally:
        run.close()


def webhooks(run, live, hung):
    config = os.path.join(run.home, ".gcmsg", "config.toml")
    os.makedirs(os.path.dirname(config), mode=0o700)
    with open(os.open(config, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(f'''[DEFAULT.webhooks.live]
url = "{live.url('/hook')}"
secret = "{LIVE_SECRET}"

[DEFAULT.webhooks.dead]
url = "http://127.0.0.1:{closed_port()}/hook"
secret = "dead-webhook-secret"

[DEFAULT.webhooks.hung]
url = "{hung.url('/hook')}"
secret = "hung-secret"
''')
    expected = {}
    for i in range(1, N + 1):
        conv = conv_id(i)
        expected[conv] = f"Webhook-audited notice {i}"
        run.run(run.service_args() + ["send", conv, "--text", expected[conv], "--idempotency-key", f"hook-{i}"],
                check=0, timeout=120)
        # this send's events are already at the live receiver: the dead and hung hooks held nothing up
        code, out, err = run.run(["audit", "--key", f"hook-{i}", "--json"], check=0)
        ids = {r["id"] for r in json.loads(out)["records"]}
        got = [r for r in live.requests if json.loads(r["body"])["data"]["key"] == f"hook-{i}"]
        if not ids or {json.loads(r["body"])["data"]["id"] for r in got} != ids:
            raise CaseFailure(f"after send {i} exited, the live webhook had {len(got)} of its "
                              f"{len(ids)} events")

    code, out, err = run.run(["audit", "--export", "-"], check=0)
    records = [json.loads(line) for line in out.splitlines()]
    events = collections.Counter(r["event_id"] for r in live.requests)
    bad_sig = [r for r in live.requests if not r["signature_ok"]]
    record_ids = collections.Counter(json.loads(r["body"])["data"]["id"] for r in live.requests)
    dup = [e for e, n in events.items() if n > 1]
    missing = [r["id"] for r in records if record_ids[r["id"]] != 1]

    code, out, err = run.run(["webhooks", "list", "--json"], check=0)
    queued = collections.Counter(e["hook"] for e in json.loads(out)["events"] if not e["delivered"])
    lost, dupmsg, stray = count_copies(run, expected)
    print(f"webhooks: {N} sends, {len(records)} audit records; the live webhook got {len(live.requests)} "
          f"POSTs for {len(events)} events, {len(dup)} twice, {len(bad_sig)} with a bad signature, "
          f"{len(missing)} records without exactly one event; still queued, not lost: "
          f"{queued['dead']} for the dead webhook, {queued['hung']} for the one that never answers")
    if dup or bad_sig or missing or len(live.requests) != len(records):
        raise CaseFailure("the live webhook did not see every event exactly once with a valid signature")
    if queued["dead"] != len(records) or queued["hung"] != len(records) or queued["live"]:
        raise CaseFailure(f"the queue should hold every event for the dead hooks and none for the live one: "
                          f"{dict(queued)}")
    if lost or dupmsg or stray:
        raise CaseFailure(f"messages lost {lost}, duplicated {dupmsg}, stray {stray}")
    print("PASS webhooks: every event exactly once, signed, each before the next send; the dead webhooks held nothing back")
    return 0


if __name__ == "__main__":
    sys.exit(main())
