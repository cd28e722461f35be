#!/usr/bin/env python3
"""Shows that the conformance checker catches what it claims to: each bad exchange must be
reported, each good one must pass. Without this, a checker that accepts everything would pass."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import json  # noqa: E402
from check_spec import Validator  # noqa: E402

SEND = "postConversationsMessageCommunicationMessages"
PATH = "/api/v2/conversations/messages/c1/communications/m1/messages"
MSG = {"id": "x", "timestamp": "2026-11-21T09:00:00.000Z", "textBody": "hi", "status": "sent"}


def entry(**kw):
    e = {"seq": 1, "method": "POST", "path": PATH, "operation": SEND, "status": 200,
         "requestBody": {"textBody": "hi"}, "responseBody": MSG}
    e.update(kw)
    return e


GOOD = [
    entry(),
    entry(status=400, responseBody={"status": 400, "code": "bad.request", "message": "m"}),
    {"seq": 2, "method": "POST", "path": "/api/v2/conversations/messages/c1/communications/m1/typing",
     "operation": "postConversationsMessageCommunicationTyping", "status": 200,
     "requestBody": {"typing": {"type": "On"}}, "responseBody": None},
]
RESP_PATH = "/api/v2/responsemanagement/responses/r1"
RESPONSE = {"id": "r1", "name": "Greeting", "version": 1, "libraries": [{"id": "l1"}],
            "texts": [{"content": "Hi {{X}}", "contentType": "text/plain"}],
            "substitutionsSchema": {"id": "s", "properties": {"X": {"type": "string", "default": "y"}}}}


def get_response(body):
    return {"seq": 4, "method": "GET", "path": RESP_PATH, "operation": "getResponsemanagementResponse",
            "status": 200, "requestBody": None, "responseBody": body}


# a bare {"type": "object"} (JsonSchemaDocument.properties' values) is free-form
GOOD.append(get_response(RESPONSE))
# the documented upstream exception: media or a template go without textBody
GOOD.append(entry(requestBody={"mediaIds": ["m1"]}))
GOOD.append(entry(requestBody={"messagingTemplate": {"responseId": "r1", "bodyParameters": []}}))

# a HEAD answer has no body, whatever its status's schema
HEAD_ME = {"seq": 5, "method": "HEAD", "path": "/api/v2/tokens/me", "operation": "headTokensMe", "status": 401,
           "requestBody": None, "responseBody": None}
GOOD.append(HEAD_ME)

BAD = {
    "a 401 of GET without its ErrorBody": dict(HEAD_ME, method="GET", operation="getTokensMe"),
    "HEAD with an undocumented success status": dict(HEAD_ME, status=204),
    "textBody missing with no other body kind": entry(requestBody={}),
    "unknown property in a model that lists its properties": get_response(dict(RESPONSE, cannedText="x")),
    "unknown request property": entry(requestBody={"textBody": "hi", "stickerIds": ["s"]}),
    "wrong request type": entry(requestBody={"textBody": 5}),
    "missing required response property": entry(responseBody={"id": "x", "textBody": "hi", "status": "sent"}),
    "bad enum in response": entry(responseBody=dict(MSG, status="delivered-ish")),
    "bad date-time": entry(responseBody=dict(MSG, timestamp="yesterday")),
    "undocumented success status": entry(status=201),
    "path does not match operation": entry(path="/api/v2/conversations/chat/messages"),
    "unknown operation": entry(operation="postConversationEvents"),
    "typing body at the wrong level": {"seq": 3, "method": "POST",
        "path": "/api/v2/conversations/messages/c1/communications/m1/typing",
        "operation": "postConversationsMessageCommunicationTyping", "status": 200,
        "requestBody": {"type": "On"}, "responseBody": None},
    "error body with wrong field type": entry(status=403, responseBody={"status": "403", "code": "x"}),
}


def main():
    spec = sys.argv[1]
    if not os.path.exists(spec):
        print(f"SKIP: {spec} is absent")
        return 77
    v = Validator(json.load(open(spec, encoding="utf-8")))
    failed = 0
    for e in GOOD:
        errors, _ = v.check_entry(e)
        if errors:
            print(f"FAIL good exchange reported: {errors}")
            failed += 1
    for name, e in BAD.items():
        errors, _ = v.check_entry(e)
        if not errors:
            print(f"FAIL not caught: {name}")
            failed += 1
        else:
            print(f"ok caught {name}: {errors[0]}")
    print(f"{len(GOOD) + len(BAD) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
