#!/usr/bin/env python3
"""Smoke test of reading messages back (what a client does after an ambiguous send): the
MessageDetails of every participant in GET /api/v2/conversations/messages/{id}, a message by id
(getConversationsMessageMessage) and in bulk (postConversationsMessageMessagesBulk), after agent,
agentless, template, media, customer and commit-then-fail sends; SMS segment counts; the bulk
body's limits and refusals; permissions, faults, rate-limit headers and the request log on these
routes.

Usage: smoke_readback.py PATH/TO/gcsim PATH/TO/scenarios/demo.json
Standard library only. Exit 0 on success, 1 on the first failure (with the reason).
"""
import json
import sys

from simlib import (ALICE, C, COMM, UUID, Media, check, expect_error, expect_field, fake_file, run_main)

RESP4 = "00000000-0000-4000-8000-0000000001b4"
SEND = lambda conv: f"/api/v2/conversations/messages/{C(conv)}/communications/{COMM(conv, 3)}/messages"
MSGS = lambda conv: f"/api/v2/conversations/messages/{C(conv)}"
BULK = lambda conv: f"/api/v2/conversations/messages/{C(conv)}/messages/bulk"
VIEW_ANY = "[conversation:message:view, conversation:webmessaging:view]"


def participants(sim, conv, token):
    a = sim.call("GET", MSGS(conv), token=token)
    check(a.status == 200, f"GET messages conversation {conv}", a.json)
    return {p["purpose"]: p for p in a.json["participants"]}


def ids(details):
    return [d["messageId"] for d in details]


def all_ids(parts):
    """What a client does: collect the message ids of every participant, once each."""
    seen = []
    for p in parts.values():
        for mid in ids(p["messages"]):
            if mid not in seen:
                seen.append(mid)
    return seen


def sends(sim, alice, service):
    """One message of every kind into C1 (web messaging: agent text, media, customer) and C2 (SMS:
    agent text, agentless, commit-then-fail), C3 (WhatsApp template). Returns what was sent."""
    sent = {}
    check(sim.call("POST", f"{SEND(1)[:-len('/messages')]}/typing", {"typing": {"type": "On"}}, token=alice).status ==
          200, "typing (not a message)")
    a = sim.call("POST", f"/sim/v1/conversations/{C(1)}/customer-messages", {"text": "My router is down"})
    check(a.status == 201, "a customer message", a.json)
    sent["customer"] = a.json
    a = sim.call("POST", SEND(1), {"textBody": "Hello Jane"}, token=alice)
    check(a.status == 200, "agent text", a.json)
    sent["agent"] = a.json
    m = Media(sim, alice, C(1), COMM(1, 3), fake_file("png", 3000, seed=21), name="router.png")
    check(m.put().status == 200 and [m.get()["status"], m.get()["status"]] == ["uploading", "valid"], "media valid")
    a = m.send()
    check(a.status == 200 and a.json["media"][0]["id"] == m.id, "media send", a.json)
    sent["media"] = a.json
    sent["media_id"] = m.id
    agentless = {"fromAddress": "+15550001000", "toAddress": "+15551230002", "toAddressMessengerType": "sms",
                 "textBody": "Your appointment is at 10:00", "useExistingActiveConversation": True}
    a = sim.call("POST", "/api/v2/conversations/messages/agentless", agentless, token=service)
    check(a.status == 200 and a.json["conversationId"] == C(2), "agentless into C2", a.json)
    sent["agentless"] = a.json
    a = sim.call("POST", "/sim/v1/faults", {"id": "lost-answer", "method": "POST",
                                            "path": "/api/v2/conversations/messages/*/communications/*/messages",
                                            "kind": "commit-then-fail", "times": 1})
    check(a.status == 201, "install commit-then-fail", a.json)
    a = sim.call("POST", SEND(2), {"textBody": "Did this arrive?"}, token=alice)
    expect_error(a, 503, "service.unavailable", "commit-then-fail answers 503")
    sent["ctf_text"] = "Did this arrive?"
    params = [{"id": "1", "value": "Wanda"}, {"id": "2", "value": "A-7731"}, {"id": "3", "value": "today"}]
    a = sim.call("POST", SEND(3), {"messagingTemplate": {"responseId": RESP4, "bodyParameters": params}}, token=alice)
    check(a.status == 200, "template send", a.json)
    sent["template"] = a.json
    sent["template_text"] = "Hello Wanda, your order A-7731 has shipped and will arrive today."
    return sent


def listing(sim, alice, service, sent):
    transcript = {n: sim.transcript(C(n)) for n in (1, 2, 3)}
    for n, entries in transcript.items():
        msgs = [e for e in entries if not e["typing"]]
        parts = participants(sim, n, service)
        cust, agent, acd = parts["customer"], parts["agent"], parts["acd"]
        check(ids(cust["messages"]) == [e["id"] for e in msgs],
              f"C{n}: the customer participant lists every message of the conversation, in order", cust["messages"])
        check(ids(agent["messages"]) == [e["id"] for e in msgs if e["route"] == "agent-messaging"],
              f"C{n}: the agent participant lists the messages it sent", agent["messages"])
        check(acd["messages"] == [], f"C{n}: the acd participant lists none", acd)
        for d in cust["messages"]:
            e = next(e for e in msgs if e["id"] == d["messageId"])
            want = {"messageId": e["id"], "messageURI": f"{MSGS(n)}/messages/{e['id']}",
                    "messageStatus": "received" if e["direction"] == "inbound" else "sent",
                    "messageSegmentCount": 1, "messageTime": e["time"]}
            check(d == want, f"C{n}: MessageDetails of {e['route']}", {"got": d, "want": want})
        check(participants(sim, n, alice)["customer"]["messages"] == cust["messages"], "a user token reads the same")
    c1 = [e for e in transcript[1] if not e["typing"]]
    check([e["route"] for e in c1] == ["customer", "agent-messaging", "agent-messaging"], "C1 transcript", c1)
    c2 = transcript[2]
    check([e["route"] for e in c2] == ["agentless", "agent-messaging"] and c2[1]["committedThenFailed"] is True,
          "C2: the agentless message and the commit-then-fail one", c2)
    return transcript


def sms_segments(sim, alice):
    """messageSegmentCount on SMS: GSM 7-bit 160 septets in one segment, then 153 each; extension
    characters take two septets; anything outside the GSM alphabet makes it UCS-2 (70, then 67)."""
    cases = [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("[" * 80, 1), ("[" * 81, 2),
             ("\u00e9" * 160, 1), ("\u20ac" * 81, 2), ("\u0142" * 70, 1), ("\u0142" * 71, 2), ("\u0142" * 134, 2),
             ("\u0142" * 135, 3), ("\U0001F600" * 35, 1), ("\U0001F600" * 36, 2), ("`" * 71, 2)]
    sent = []
    for text, _ in cases:
        a = sim.call("POST", SEND(2), {"textBody": text}, token=alice)
        check(a.status == 200, "SMS send for segments", a.json)
        sent.append(a.json["id"])
    details = {d["messageId"]: d for d in participants(sim, 2, alice)["agent"]["messages"]}
    for (text, want), mid in zip(cases, sent):
        got = details[mid]["messageSegmentCount"]
        check(got == want, f"SMS of {len(text)} x U+{ord(text[0]):04X}: {want} segment(s)", got)
    wa = participants(sim, 1, alice)["agent"]["messages"]
    check(all(d["messageSegmentCount"] == 1 for d in wa), "other platforms: one segment", wa)


def by_id(sim, alice, service, sent, transcript):
    a = sim.call("GET", f"{MSGS(1)}/messages/{sent['agent']['id']}", token=service)
    check(a.status == 200, "GET a message by id", a.json)
    md = a.json
    check(md["id"] == sent["agent"]["id"] and md["textBody"] == "Hello Jane" and md["direction"] == "outbound" and
          md["status"] == "sent" and md["messengerType"] == "webmessaging" and md["conversationId"] == C(1) and
          md["timestamp"] == sent["agent"]["timestamp"] and md["fromAddress"] == sent["agent"]["fromAddress"] and
          md["toAddress"] == sent["agent"]["toAddress"] and md["selfUri"] == f"{MSGS(1)}/messages/{md['id']}" and
          md["createdBy"] == {"id": ALICE, "name": "Alice Agent", "version": 1, "selfUri": f"/api/v2/users/{ALICE}"} and
          md["normalizedMessage"] == sent["agent"]["normalizedMessage"], "MessageData of an agent message", md)
    check(sim.call("GET", f"{MSGS(1)}/messages/{md['id']}?useNormalizedMessage=true", token=alice).json == md,
          "useNormalizedMessage is accepted and ignored (both forms are always there)")
    typing = next(e for e in transcript[1] if e["typing"])
    for path, what in ((f"{MSGS(1)}/messages/nope", "unknown message"),
                       (f"{MSGS(1)}/messages/{typing['id']}", "a typing indicator is not a message"),
                       (f"{MSGS(1)}/messages/{sent['agentless']['id']}", "a message of another conversation"),
                       (f"/api/v2/conversations/messages/nope/messages/{md['id']}", "unknown conversation"),
                       (f"/api/v2/conversations/messages/{C(6)}/messages/{md['id']}", "a chat conversation")):
        expect_error(sim.call("GET", path, token=alice), 404, "not.found", f"GET message: {what}")
    a = sim.call("GET", f"{MSGS(1)}/messages/nope", token=alice)
    check(a.json["messageParams"] == {"messageId": "nope"}, "the 404 names the message id", a.json)


def bulk(sim, alice, service, sent):
    # what a client does after an ambiguous send: every participant's ids, then the bodies in bulk
    for n in (1, 2, 3):
        parts = participants(sim, n, service)
        wanted = all_ids(parts)
        a = sim.call("POST", BULK(n), wanted, token=service)
        check(a.status == 200 and [e["id"] for e in a.json["entities"]] == wanted, f"C{n}: bulk lists every id asked",
              a.json)
        single = [sim.call("GET", f"{MSGS(n)}/messages/{mid}", token=alice).json for mid in wanted]
        check(a.json["entities"] == single, f"C{n}: bulk entities equal the single GETs")
    c1 = {e["id"]: e for e in sim.call("POST", BULK(1), all_ids(participants(sim, 1, alice)), token=alice).json["entities"]}
    cust = c1[sent["customer"]["id"]]
    check(cust["direction"] == "inbound" and cust["status"] == "received" and cust["textBody"] == "My router is down"
          and cust["fromAddress"] == "6a1b5d0e-guest-jane" and cust["toAddress"] == "7f3e1c2a-0000-4000-8000-00000000d3b1"
          and "createdBy" not in cust and cust["normalizedMessage"]["direction"] == "Inbound", "inbound MessageData", cust)
    media = c1[sent["media"]["id"]]
    check(media["textBody"] == "" and media["media"] == sent["media"]["media"] and
          media["media"][0]["id"] == sent["media_id"] and
          media["normalizedMessage"] == sent["media"]["normalizedMessage"] and media["createdBy"]["id"] == ALICE,
          "media MessageData: media[].id is the media id", media)
    c2 = sim.call("POST", BULK(2), all_ids(participants(sim, 2, alice)), token=alice).json["entities"]
    agentless = next(e for e in c2 if e["id"] == sent["agentless"]["id"])
    check(agentless["textBody"] == "Your appointment is at 10:00" and "createdBy" not in agentless and
          agentless["fromAddress"] == "+15550001000" and agentless["toAddress"] == "+15551230002" and
          agentless["messengerType"] == "sms", "agentless MessageData (no user created it)", agentless)
    lost = [e for e in c2 if e["textBody"] == sent["ctf_text"]]
    check(len(lost) == 1 and lost[0]["status"] == "sent" and lost[0]["createdBy"]["id"] == ALICE,
          "the commit-then-fail message is there to be found", c2)
    c3 = sim.call("POST", BULK(3), [sent["template"]["id"]], token=alice).json["entities"]
    check(len(c3) == 1 and c3[0]["textBody"] == sent["template_text"] and
          c3[0]["normalizedMessage"]["text"] == sent["template_text"], "template MessageData: the rendered text", c3)

    # the body: order, duplicates, unknown ids, limits, refusals
    one, two = sent["agent"]["id"], sent["customer"]["id"]
    a = sim.call("POST", BULK(1), [two, "nope", one, two, sent["agentless"]["id"]], token=alice)
    check(a.status == 200 and [e["id"] for e in a.json["entities"]] == [two, one],
          "order asked, duplicates once, unknown and other conversations' ids left out", a.json)
    check(sim.call("POST", BULK(1) + "?useNormalizedMessage=true", [one], token=alice).json["entities"][0] == c1[one],
          "bulk: useNormalizedMessage accepted and ignored")
    a = sim.call("POST", BULK(1), [], token=alice)
    check(a.status == 200 and a.json == {"entities": []}, "an empty array: no entities", a.json)
    a = sim.call("POST", BULK(1), [one] + [f"id-{i}" for i in range(999)], token=alice)
    check(a.status == 200 and [e["id"] for e in a.json["entities"]] == [one], "1000 ids accepted", len(a.raw))
    a = sim.call("POST", BULK(1), [one] + [f"id-{i}" for i in range(1000)], token=alice)
    j = expect_field(a, 400, "invalid.value", "messageIds", "1001 ids")
    check(j["messageParams"]["maxItems"] == "1000" and "1001" in j["message"], "the limit is named", j)
    for body, field, code, what in (({"messageIds": [one]}, "messageIds", "invalid.value", "an object body"),
                                    (one, "messageIds", "invalid.value", "a string body"),
                                    ([one, 7], "messageIds[1]", "invalid.value", "a number among the ids"),
                                    ([""], "messageIds[0]", "invalid.value", "an empty id")):
        expect_field(sim.call("POST", BULK(1), body, token=alice), 400, code, field, f"bulk: {what}")
    expect_field(sim.call("POST", BULK(1), token=alice), 400, "bad.request", "messageIds", "bulk without a body")
    expect_field(sim.call("POST", BULK(1), raw=b"[nope", token=alice, headers={"Content-Type": "application/json"}),
                 400, "invalid.value", "messageIds", "bulk: malformed JSON")
    expect_error(sim.call("POST", BULK(6), [one], token=alice), 404, "not.found", "bulk: a chat conversation")
    expect_error(sim.call("POST", "/api/v2/conversations/messages/nope/messages/bulk", [one], token=alice), 404,
                 "not.found", "bulk: unknown conversation")
    expect_error(sim.call("POST", BULK(1), [one]), 401, "authentication.required", "bulk without a token")
    expect_error(sim.call("GET", f"{MSGS(1)}/messages/{one}"), 401, "authentication.required", "GET without a token")

    # faults, correlation ids and rate-limit headers as on every route
    a = sim.call("POST", "/sim/v1/faults", {"method": "POST", "path": "/api/v2/conversations/messages/*/messages/bulk",
                                            "status": 429, "times": 1})
    check(a.status == 201, "install a 429 on bulk", a.json)
    a = sim.call("POST", BULK(1), [one], token=alice)
    expect_error(a, 429, "too.many.requests", "a faulted bulk")
    check(a.header("Retry-After") == "3" and a.header("inin-ratelimit-count") == "0", "429 fault headers",
          dict(a.headers))
    a = sim.call("POST", BULK(1), [one], token=alice)
    check(a.status == 200 and UUID.match(a.header("ININ-Correlation-Id")) and
          int(a.header("inin-ratelimit-count")) > 0 and a.header("inin-ratelimit-allowed") == "300" and
          a.header("inin-ratelimit-reset") is not None, "bulk answers carry the usual headers", dict(a.headers))
    log = sim.call("GET", "/sim/v1/requests").json["entries"]
    ops = {e["operation"] for e in log if "/messages/bulk" in e["path"] or "/messages/" in e["path"]}
    check({"postConversationsMessageMessagesBulk", "getConversationsMessageMessage", "getConversationsMessage"} <= ops,
          "the request log names the operations", sorted(o for o in ops if o))
    faulted = [e for e in log if e.get("fault") and e["path"] == BULK(1)]
    check(len(faulted) == 1 and faulted[0]["status"] == 429, "the faulted bulk is logged with its fault", faulted)


def permissions(sim, scenario_doc):
    """A caller with neither view permission: 403 naming both (ANY); the conversation GET needs none."""
    doc = json.loads(json.dumps(scenario_doc))
    doc["clients"].append({"id": "blind", "secret": "blind-secret", "permissions": ["conversation:communication:view"]})
    doc["users"].append({"id": "blind-user", "name": "Blind User", "permissions": ["conversation:message:create"]})
    check(sim.call("POST", "/sim/v1/scenario", doc).status == 200, "load the demo with blind callers")
    blind = sim.token("blind", "blind-secret").json["access_token"]
    blind_user = sim.user_token("blind-user")
    for token in (blind, blind_user):
        a = sim.call("POST", BULK(1), ["x"], token=token)
        expect_error(a, 403, "missing.any.permissions", "bulk without a view permission")
        check(a.json["messageParams"]["permissions"] == VIEW_ANY, "the 403 names both permissions", a.json)
        a = sim.call("GET", f"{MSGS(1)}/messages/x", token=token)
        expect_error(a, 403, "missing.any.permissions", "GET message without a view permission")
        check(sim.call("GET", MSGS(1), token=token).status == 200, "the conversation GET needs no permission")
    a = sim.call("POST", BULK(1), {"not": "an array"}, token=blind)
    check(a.status == 403, "permissions are checked before the body", a.json)
    check(sim.call("POST", "/sim/v1/scenario", scenario_doc).status == 200, "load the demo back")


def body(sim, gcsim, scenario_doc, workdir):
    alice = sim.user_token(ALICE)
    service = sim.token("demo-service", "demo-service-secret").json["access_token"]
    for n in (1, 2):
        parts = participants(sim, n, service)
        check(all(p["messages"] == [] for p in parts.values()), f"C{n}: no messages before any send", parts)
    sent = sends(sim, alice, service)
    transcript = listing(sim, alice, service, sent)
    by_id(sim, alice, service, sent, transcript)
    bulk(sim, alice, service, sent)
    sms_segments(sim, alice)
    permissions(sim, scenario_doc)


if __name__ == "__main__":
    sys.exit(run_main("sim_readback", __doc__, body))
