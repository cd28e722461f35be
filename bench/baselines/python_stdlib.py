#!/usr/bin/env python3
"""Baseline: the Python script people write from the common tutorials, standard library only.

One token (a client-credentials token requested once, or the agent's token given in
GENESYSCLOUD_ACCESS_TOKEN), reused for every message; then, one conversation after the other:
GET the conversation, take the agent participant's messaging communication, POST the text to
/api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages.
With --agentless it posts to /api/v2/conversations/messages/agentless instead, with the addresses
of the customer's communication. No retries, no pacing, no idempotency: an error is printed and
the script goes on with the next conversation, as the tutorials do.

Usage: python_stdlib.py --base-url URL [--agentless] FILE
  FILE: one message per line, "conversationId<TAB>text".
  Credentials: GENESYSCLOUD_ACCESS_TOKEN, or GENESYSCLOUD_OAUTHCLIENT_ID and
  GENESYSCLOUD_OAUTHCLIENT_SECRET (the official tools' variable names).
Prints one summary line on stderr; exits 1 when any message failed."""
import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


def get_token(base_url, client_id, client_secret):
    auth = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    req = urllib.request.Request(
        base_url + "/oauth/token",
        data=urllib.parse.urlencode({"grant_type": "client_credentials"}).encode(),
        headers={"Authorization": "Basic " + auth, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST")
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())["access_token"]


def api(base_url, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base_url + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read() or b"null")


def send_as_agent(base_url, token, conversation_id, text):
    conversation = api(base_url, token, "GET", f"/api/v2/conversations/{conversation_id}")
    agent = [p for p in conversation["participants"] if p["purpose"] == "agent"][-1]
    communication_id = agent["messages"][0]["id"]
    api(base_url, token, "POST",
        f"/api/v2/conversations/messages/{conversation_id}/communications/{communication_id}/messages",
        {"textBody": text})


def send_agentless(base_url, token, conversation_id, text):
    conversation = api(base_url, token, "GET", f"/api/v2/conversations/{conversation_id}")
    customer = [p for p in conversation["participants"] if p["purpose"] == "customer"][0]
    message = customer["messages"][0]
    api(base_url, token, "POST", "/api/v2/conversations/messages/agentless", {
        "fromAddress": message["toAddress"]["addressNormalized"],
        "toAddress": message["fromAddress"]["addressNormalized"],
        "toAddressMessengerType": message["type"],
        "textBody": text,
        "useExistingActiveConversation": True,
    })


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--agentless", action="store_true")
    parser.add_argument("file")
    args = parser.parse_args()

    token = os.environ.get("GENESYSCLOUD_ACCESS_TOKEN")
    if not token:
        token = get_token(args.base_url, os.environ["GENESYSCLOUD_OAUTHCLIENT_ID"],
                          os.environ["GENESYSCLOUD_OAUTHCLIENT_SECRET"])
    send = send_agentless if args.agentless else send_as_agent

    sent = failed = 0
    with open(args.file, encoding="utf-8") as f:
        for line in f:
            conversation_id, text = line.rstrip("\n").split("\t", 1)
            try:
                send(args.base_url, token, conversation_id, text)
                sent += 1
            except urllib.error.HTTPError as e:
                failed += 1
                print(f"{conversation_id}: HTTP {e.code} {e.read()[:200]!r}", file=sys.stderr)
            except (urllib.error.URLError, OSError, KeyError, IndexError) as e:
                failed += 1
                print(f"{conversation_id}: {e}", file=sys.stderr)
    print(f"python_stdlib: sent {sent}, failed {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
