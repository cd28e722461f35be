#!/usr/bin/env python3
"""Smoke test of gcsim: start it on a free loopback port with the demo scenario and exercise
OAuth, token checks, the conversation GETs, every send route, refusals, the media upload flow
(uploads, the presigned PUT, status polling, sending mediaIds, every refusal), length limits in
UTF-16 code units, the admin API, clock, rate limiting, faults and the request log's redaction;
then stop it with SIGTERM. Faults get their own part (fault_injection): every kind (status with
and without Retry-After, latency, reset, commit-then-fail answering a 5xx or dropping the
connection), every-Nth and seeded-probability firing (two gcsim runs with the same --seed fire on
the same requests), faults seeded by a scenario, and the admin API's validation.

Usage: smoke.py PATH/TO/gcsim PATH/TO/scenarios/demo.json
Standard library only. Exit 0 on success, 1 on the first failure (with the reason).
"""
import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

from simlib import (ALICE, BOB, C, CAROL, COMM, HTTP_TIMEOUT, UUID, Failure, Media, Sim, check, expect_error,
                    expect_field, fake_file, md5_b64, upload_path)


def bad_scenarios(gcsim, scenario, workdir):
    with open(scenario) as f:
        doc = json.load(f)
    doc["conversations"][0]["participants"][0]["purpse"] = "customer"
    bad = os.path.join(workdir, "bad.json")
    with open(bad, "w") as f:
        json.dump(doc, f)
    p = subprocess.run([gcsim, "--scenario", bad], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2, "bad scenario exits 2", p.returncode)
    lines = p.stderr.strip().splitlines()
    check(len(lines) == 1 and "$.conversations[0].participants[0].purpse" in lines[0] and "unknown key" in lines[0],
          "bad scenario: one line naming the JSON path", p.stderr)
    with open(bad, "w") as f:
        f.write("{ not json")
    p = subprocess.run([gcsim, "--scenario", bad], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, "malformed scenario exits 2, one line", p.stderr)
    p = subprocess.run([gcsim, "--scenario", os.path.join(workdir, "absent.json")], capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 2, "missing scenario exits 2", p.stderr)
    p = subprocess.run([gcsim, "--no-such-flag"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and "--no-such-flag" in p.stderr, "unknown flag exits 2 naming it", p.stderr)
    p = subprocess.run([gcsim, "--help"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "--scenario" in p.stdout, "--help", p.stdout)


LIB = lambda n: f"00000000-0000-4000-8000-0000000001a{n}"
RESP = lambda n: f"00000000-0000-4000-8000-0000000001b{n}"
RM = "/api/v2/responsemanagement"
BULK_LIB = "00000000-0000-4000-8000-0000000001a9"
BULK_COUNT = 57


def names(listing):
    return [e["name"] for e in listing["entities"]]


def check_paging(a, what, total, page_size, page_number, path_prefix):
    check(a.status == 200, f"{what}: 200", a.json)
    j = a.json
    page_count = (total + page_size - 1) // page_size
    check(j["total"] == total and j["pageSize"] == page_size and j["pageNumber"] == page_number and
          j["pageCount"] == page_count, f"{what}: total {total}, pageCount {page_count}", {k: v for k, v in j.items()
                                                                                         if k != "entities"})
    expected = max(0, min(page_size, total - (page_number - 1) * page_size))
    check(len(j["entities"]) == expected, f"{what}: {expected} entities on page {page_number}", len(j["entities"]))
    for key in ("firstUri", "selfUri", "lastUri"):
        check(j[key].startswith(path_prefix + "?"), f"{what}: {key} is path + query", j[key])
    check(j["firstUri"].endswith(f"pageSize={page_size}&pageNumber=1") and
          j["selfUri"].endswith(f"pageSize={page_size}&pageNumber={page_number}") and
          j["lastUri"].endswith(f"pageSize={page_size}&pageNumber={max(page_count, 1)}"), f"{what}: URIs", j)
    check(("nextUri" in j) == (page_number < page_count), f"{what}: nextUri only when a next page exists", j)
    check(("previousUri" in j) == (page_number > 1), f"{what}: previousUri only after page 1", j)
    if "nextUri" in j:
        check(j["nextUri"].endswith(f"pageNumber={page_number + 1}"), f"{what}: nextUri", j["nextUri"])
    return j


def bulk_scenario(scenario_doc):
    """The demo plus a library of BULK_COUNT responses and a client allowed to add (for paging and POST)."""
    doc = json.loads(json.dumps(scenario_doc))
    doc["libraries"].append({"id": BULK_LIB, "name": "Bulk"})
    for i in range(BULK_COUNT):
        doc["responses"].append({"id": f"00000000-0000-4000-8000-00000000b{i:03d}", "name": f"bulk reply {i:02d}",
                                 "libraries": [BULK_LIB, LIB(1)] if i == 0 else [BULK_LIB],
                                 "texts": [{"content": f"Bulk text number {i}"}]})
    doc["clients"].append({"id": "rm-admin", "secret": "rm-admin-secret",
                           "permissions": ["responses:*:*", "conversation:message:create"]})
    return doc


def response_management(sim, scenario_doc, service, readonly, alice, bob):
    # Libraries
    a = sim.call("GET", f"{RM}/libraries", token=service)
    j = check_paging(a, "libraries", 2, 25, 1, f"{RM}/libraries")
    check(names(j) == ["Customer care", "WhatsApp templates"], "libraries ordered by name", j)
    lib = j["entities"][0]
    check(lib["id"] == LIB(1) and lib["version"] == 1 and lib["selfUri"] == f"{RM}/libraries/{LIB(1)}" and
          lib["dateCreated"].startswith("2026-11-01T09:00:00"), "Library document", lib)
    a = sim.call("GET", f"{RM}/libraries?libraryPrefix=whats", token=alice)
    check(a.status == 200 and names(a.json) == ["WhatsApp templates"], "libraryPrefix (case-insensitive)", a.json)
    check("libraryPrefix=whats&" in a.json["selfUri"], "libraryPrefix kept in the URIs", a.json["selfUri"])
    a = sim.call("GET", f"{RM}/libraries?messagingTemplateFilter=whatsapp", token=service)
    check(a.status == 200 and names(a.json) == ["WhatsApp templates"], "messagingTemplateFilter=whatsapp", a.json)
    a = sim.call("GET", f"{RM}/libraries?messagingTemplateFilter=sms", token=service)
    expect_error(a, 400, "invalid.query.param.value", "messagingTemplateFilter enum")
    check(a.json["details"][0]["fieldName"] == "messagingTemplateFilter", "filter detail", a.json)
    a = sim.call("GET", f"{RM}/libraries/{LIB(2)}", token=readonly)
    check(a.status == 200 and a.json["name"] == "WhatsApp templates", "GET library", a.json)
    expect_error(sim.call("GET", f"{RM}/libraries/nope", token=service), 404, "not.found", "unknown library")
    for q, what in (("pageSize=101", "pageSize over 100"), ("pageSize=0", "pageSize 0"), ("pageNumber=0", "pageNumber 0"),
                    ("pageSize=abc", "pageSize not a number")):
        a = sim.call("GET", f"{RM}/libraries?{q}", token=service)
        expect_error(a, 400, "invalid.query.param.value", what)
        check(a.json["details"][0]["fieldName"] == q.split("=")[0], f"{what}: detail", a.json)
    a = sim.call("GET", f"{RM}/libraries?pageNumber=3", token=service)
    check_paging(a, "libraries past the end", 2, 25, 3, f"{RM}/libraries")

    # Responses of a library
    a = sim.call("GET", f"{RM}/responses", token=service)
    expect_error(a, 400, "bad.request", "libraryId missing")
    check(a.json["details"][0]["fieldName"] == "libraryId" and "libraryId" in a.json["message"], "names libraryId",
          a.json)
    expect_error(sim.call("GET", f"{RM}/responses?libraryId=nope", token=service), 404, "not.found",
                 "responses of an unknown library")
    a = sim.call("GET", f"{RM}/responses?libraryId={LIB(1)}", token=service)
    j = check_paging(a, "responses of Customer care", 3, 25, 1, f"{RM}/responses")
    check(names(j) == ["After-hours notice", "Escalation notice", "Greeting"], "responses ordered by name", j)
    check(j["selfUri"] == f"{RM}/responses?libraryId={LIB(1)}&pageSize=25&pageNumber=1", "selfUri like Genesys", j)
    check(all("substitutionsSchema" not in e for e in j["entities"]), "no schema without expand", j)
    html = j["entities"][0]
    check(html["texts"][0]["contentType"] == "text/html" and html["texts"][0]["type"] == "body" and
          html["libraries"] == [{"id": LIB(1), "name": "Customer care", "selfUri": f"{RM}/libraries/{LIB(1)}"}],
          "Response texts and libraries", html)
    a = sim.call("GET", f"{RM}/responses?libraryId={LIB(1)}&expand=substitutionsSchema", token=service)
    esc = a.json["entities"][1]
    check(a.status == 200 and set(esc["substitutionsSchema"]["properties"]) == {"CaseNumber", "ETA"} and
          "expand=substitutionsSchema" in a.json["selfUri"], "listing expand=substitutionsSchema", a.json)
    a = sim.call("GET", f"{RM}/responses/{RESP(2)}", token=alice)
    check(a.status == 200 and a.json["name"] == "Escalation notice" and a.json["version"] == 1 and
          a.json["substitutions"] == [{"id": "CaseNumber", "description": "Case number"},
                                      {"id": "ETA", "description": "Time to the next update", "defaultValue": "24 hours"}]
          and "substitutionsSchema" not in a.json, "GET response", a.json)
    a = sim.call("GET", f"{RM}/responses/{RESP(2)}?expand=substitutionsSchema", token=alice)
    props = a.json["substitutionsSchema"]["properties"]
    check(props["ETA"] == {"type": "string", "description": "Time to the next update", "default": "24 hours"} and
          props["CaseNumber"]["type"] == "string", "substitutionsSchema", a.json)
    a = sim.call("GET", f"{RM}/responses/{RESP(4)}", token=alice)
    check(a.json["responseType"] == "MessagingTemplate" and
          a.json["messagingTemplate"] == {"whatsApp": {"name": "order_shipped", "language": "en_US"}}, "template", a.json)
    expect_error(sim.call("GET", f"{RM}/responses/nope", token=service), 404, "not.found", "unknown response")
    a = sim.call("GET", f"{RM}/responses/{RESP(2)}?expand=everything", token=service)
    expect_error(a, 400, "invalid.query.param.value", "expand enum")

    # Permissions
    a = sim.call("GET", f"{RM}/libraries", token=bob)
    expect_error(a, 403, "missing.any.permissions", "Bob cannot view libraries")
    check(a.json["messageParams"]["permissions"] == "[responses:library:view]", "403 names the permission", a.json)
    a = sim.call("POST", f"{RM}/responses/query", {}, token=bob)
    expect_error(a, 403, "missing.any.permissions", "Bob cannot query responses")
    check("responses:response:view" in a.json["message"], "403 message names the permission", a.json)
    a = sim.call("POST", f"{RM}/libraries", {"name": "Mine"}, token=service)
    expect_error(a, 403, "missing.any.permissions", "demo-service cannot add libraries")
    check(a.json["messageParams"]["permissions"] == "[responses:library:add]", "403 names library:add", a.json)
    a = sim.call("POST", f"{RM}/responses", {"name": "x", "libraries": [{"id": LIB(1)}], "texts": [{"content": "x"}]},
                 token=alice)
    expect_error(a, 403, "missing.any.permissions", "Alice cannot add responses")

    # Query
    query = lambda body: sim.call("POST", f"{RM}/responses/query", body, token=service)

    def hits(body, what):
        a = query(body)
        check(a.status == 200 and "results" in a.json, f"{what}: 200 ResponseQueryResults", a.json)
        return names(a.json["results"])
    everything = hits({}, "query without phrase")
    check(everything == ["After-hours notice", "Escalation notice", "Greeting", "Order shipped"], "all, by name",
          everything)
    r = query({"pageSize": 2}).json["results"]
    check(r["total"] == 4 and r["pageCount"] == 2 and r["nextUri"] == f"{RM}/responses/query?pageSize=2&pageNumber=2",
          "query paging fields", r)
    check(hits({"queryPhrase": "ESCALATED"}, "phrase in text") == ["Escalation notice"], "phrase matches text")
    check(hits({"queryPhrase": "greet"}, "phrase in name") == ["Greeting"], "phrase matches name")
    check(hits({"queryPhrase": ""}, "empty phrase") == everything, "empty phrase matches all")
    check(hits({"queryPhrase": "no such words"}, "no hits") == [], "phrase without hits")
    for flt, want in (
            ({"name": "name", "operator": "EQUALS", "values": ["greeting"]}, ["Greeting"]),
            ({"name": "name", "operator": "IN", "values": ["Greeting", "Order shipped"]}, ["Greeting", "Order shipped"]),
            ({"name": "libraryId", "operator": "EQUALS", "values": [LIB(2)]}, ["Order shipped"]),
            ({"name": "libraryId", "operator": "IN", "values": [LIB(2).upper()]}, []),
            ({"name": "responseType", "operator": "NOTEQUALS", "values": ["MessagingTemplate"]},
             ["After-hours notice", "Escalation notice", "Greeting"]),
            ({"name": "name", "operator": "BEGINS_WITH", "values": ["after"]}, ["After-hours notice"]),
            ({"name": "name", "operator": "ENDS_WITH", "values": ["NOTICE"]}, ["After-hours notice", "Escalation notice"]),
            ({"name": "name", "operator": "CONTAINS", "values": ["ship"]}, ["Order shipped"]),
            ({"name": "text.contentType", "operator": "EQUALS", "values": ["text/html"]}, ["After-hours notice"]),
            ({"name": "messagingTemplate", "operator": "EQUALS", "values": ["whatsapp"]}, ["Order shipped"]),
            ({"name": "responseType", "operator": "EQUALS", "values": ["MessagingTemplate"]}, ["Order shipped"])):
        got = hits({"filters": [flt]}, f"filter {flt}")
        check(got == want, f"filter {flt['name']} {flt['operator']} {flt['values']}", got)
    got = hits({"queryPhrase": "{{customer_name}}",
                "filters": [{"name": "libraryId", "operator": "EQUALS", "values": [LIB(1)]},
                            {"name": "name", "operator": "NOTEQUALS", "values": ["greeting"]},
                            {"name": "text.contentType", "operator": "NOTEQUALS", "values": ["text/html"]}]},
               "phrase and three filters")
    check(got == ["Escalation notice"], "filters AND together with the phrase", got)
    for body, status, code, field, what in (
            ({"pageSize": 501}, 400, "invalid.value", "pageSize", "query pageSize 501"),
            ({"pageSize": 0}, 400, "invalid.value", "pageSize", "query pageSize 0"),
            ({"pageNumber": 0}, 400, "invalid.value", "pageNumber", "query pageNumber 0"),
            ({"filters": [{"name": "colour", "operator": "EQUALS", "values": ["x"]}]}, 400, "invalid.value",
             "filters[0].name", "unknown filter name"),
            ({"filters": [{"name": "name", "operator": "LIKE", "values": ["x"]}]}, 400, "invalid.value",
             "filters[0].operator", "unknown operator"),
            ({"filters": [{"name": "name", "operator": "IN", "values": []}]}, 400, "invalid.value",
             "filters[0].values", "empty values"),
            ({"filters": [{"name": "name", "operator": "IN"}]}, 400, "bad.request", "filters[0].values",
             "values missing"),
            ({"query": "x"}, 400, "invalid.property", "query", "unknown property")):
        a = query(body)
        expect_error(a, status, code, what)
        check(a.json["details"][0]["fieldName"] == field, f"{what}: details names {field}", a.json)
    check(query({"pageSize": 500}).status == 200, "query pageSize 500 accepted")

    # Paging across pages, and creating libraries and responses, on a bigger org
    check(sim.call("POST", "/sim/v1/scenario", bulk_scenario(scenario_doc)).json == {"loaded": True}, "load bulk org")
    admin = sim.token("rm-admin", "rm-admin-secret").json["access_token"]
    seen, url, pages = [], f"{RM}/responses?libraryId={BULK_LIB}&pageSize=10", 0
    while url:
        pages += 1
        check(pages <= 6, "nextUri ends", url)
        j = check_paging(sim.call("GET", url, token=admin), f"bulk page {pages}", BULK_COUNT, 10, pages,
                         f"{RM}/responses")
        seen += [e["id"] for e in j["entities"]]
        url = j.get("nextUri")
    check(pages == 6 and len(seen) == BULK_COUNT and len(set(seen)) == BULK_COUNT, "every response once over 6 pages",
          {"pages": pages, "ids": len(seen), "distinct": len(set(seen))})
    check(seen == [f"00000000-0000-4000-8000-00000000b{i:03d}" for i in range(BULK_COUNT)], "bulk order by name", seen)
    check_paging(sim.call("GET", f"{RM}/responses?libraryId={BULK_LIB}&pageSize=10&pageNumber=9", token=admin),
                 "bulk past the end", BULK_COUNT, 10, 9, f"{RM}/responses")
    a = sim.call("GET", f"{RM}/responses?libraryId={LIB(1)}", token=admin)
    check(names(a.json) == ["After-hours notice", "bulk reply 00", "Escalation notice", "Greeting"],
          "a response in two libraries; names sort case-insensitively", names(a.json))
    libs, url = [], f"{RM}/libraries?pageSize=1"
    while url:
        j = sim.call("GET", url, token=admin).json
        libs += names(j)
        url = j.get("nextUri")
    check(libs == ["Bulk", "Customer care", "WhatsApp templates"], "libraries one per page via nextUri", libs)
    r = sim.call("POST", f"{RM}/responses/query", {"queryPhrase": "bulk text", "pageSize": 20, "pageNumber": 3},
                 token=admin).json["results"]
    check(r["total"] == BULK_COUNT and r["pageCount"] == 3 and len(r["entities"]) == 17 and "nextUri" not in r and
          r["previousUri"].endswith("pageNumber=2"), "query last page", {k: v for k, v in r.items() if k != "entities"})

    a = sim.call("POST", f"{RM}/libraries", {"name": "Created here", "id": "ignored", "version": 7}, token=admin)
    check(a.status == 200 and UUID.match(a.json["id"]) and a.json["version"] == 1 and a.json["name"] == "Created here"
          and a.json["selfUri"] == f"{RM}/libraries/{a.json['id']}" and "dateCreated" in a.json, "POST library", a.json)
    new_lib = a.json
    check(sim.call("GET", f"{RM}/libraries/{new_lib['id']}", token=admin).json == new_lib, "GET the new library")
    a = sim.call("POST", f"{RM}/libraries", {"version": 1}, token=admin)
    expect_error(a, 400, "bad.request", "library name required")
    check(a.json["details"][0]["fieldName"] == "name", "library name detail", a.json)
    body = {"name": "Created response", "libraries": [{"id": new_lib["id"]}],
            "texts": [{"content": "Hello {{Who}}", "contentType": "text/plain"}],
            "substitutions": [{"id": "Who", "defaultValue": "there"}], "interactionType": "chat"}
    a = sim.call("POST", f"{RM}/responses?expand=substitutionsSchema", body, token=admin)
    check(a.status == 200 and UUID.match(a.json["id"]) and a.json["version"] == 1 and
          a.json["libraries"] == [{"id": new_lib["id"], "name": "Created here", "selfUri": new_lib["selfUri"]}] and
          a.json["texts"] == [{"content": "Hello {{Who}}", "contentType": "text/plain", "type": "body"}] and
          a.json["interactionType"] == "chat" and "Who" in a.json["substitutionsSchema"]["properties"],
          "POST response", a.json)
    created = a.json
    got = sim.call("GET", f"{RM}/responses/{created['id']}?expand=substitutionsSchema", token=admin).json
    check(got == created, "GET the new response", got)
    a = sim.call("GET", f"{RM}/responses?libraryId={new_lib['id']}", token=admin)
    check(names(a.json) == ["Created response"], "the new response is listed in its library", a.json)
    for bad, status, code, field, what in (
            ({"name": "x", "texts": [{"content": "x"}]}, 400, "bad.request", "libraries", "libraries required"),
            ({"name": "x", "libraries": [{"id": "nope"}], "texts": [{"content": "x"}]}, 400, "bad.request",
             "libraries[0].id", "unknown library"),
            ({"name": "x", "libraries": [{"id": BULK_LIB}]}, 400, "bad.request", "texts", "texts required"),
            ({"name": "x", "libraries": [{"id": BULK_LIB}], "texts": [{"contentType": "text/plain"}]}, 400,
             "bad.request", "texts[0].content", "text content required"),
            ({"name": "x", "libraries": [{"id": BULK_LIB}], "texts": [{"content": "x", "contentType": "text/rtf"}]},
             400, "invalid.value", "texts[0].contentType", "contentType enum"),
            ({"name": "x", "libraries": [{"id": BULK_LIB}], "texts": [{"content": "x"}], "responseType": "Letter"},
             400, "invalid.value", "responseType", "responseType enum"),
            ({"name": "x", "libraries": [{"id": BULK_LIB}], "texts": [{"content": "x"}],
              "responseType": "MessagingTemplate"}, 400, "bad.request", "messagingTemplate.whatsApp",
             "template needs whatsApp"),
            ({"name": "x", "libraries": [{"id": BULK_LIB}], "texts": [{"content": "x"}], "responseType": "MessagingTemplate",
              "messagingTemplate": {"whatsApp": {"name": "t"}}}, 400, "bad.request", "messagingTemplate.whatsApp.language",
             "whatsApp language required"),
            ({"name": "x", "libraries": [{"id": BULK_LIB}], "texts": [{"content": "x"}],
              "messagingTemplate": {"whatsApp": {"name": "t", "language": "en"}}}, 400, "invalid.value",
             "messagingTemplate", "template definition on a plain response"),
            ({"libraries": [{"id": BULK_LIB}], "texts": [{"content": "x"}]}, 400, "bad.request", "name",
             "name required")):
        a = sim.call("POST", f"{RM}/responses", bad, token=admin)
        expect_error(a, status, code, what)
        check(a.json["details"][0]["fieldName"] == field, f"{what}: details names {field}", a.json)
    a = sim.call("POST", f"{RM}/responses", {
        "name": "Created template", "libraries": [{"id": new_lib["id"]}], "responseType": "MessagingTemplate",
        "texts": [{"content": "Hi {{1}}"}], "substitutions": [{"id": "1"}],
        "messagingTemplate": {"whatsApp": {"name": "hi", "language": "en_GB", "templateStatus": "ignored"}}},
        token=admin)
    check(a.status == 200 and a.json["messagingTemplate"] == {"whatsApp": {"name": "hi", "language": "en_GB"}},
          "POST a template response (readOnly templateStatus ignored)", a.json)
    a = sim.call("GET", f"{RM}/libraries?messagingTemplateFilter=whatsapp", token=admin)
    check(names(a.json) == ["Created here", "WhatsApp templates"], "filter sees the new template library", a.json)
    check(sim.call("POST", "/sim/v1/scenario", scenario_doc).status == 200, "load the demo back")
    check(sim.call("GET", f"{RM}/libraries/{new_lib['id']}", token=service).status == 401, "tokens cleared by load")
    lib = {"id": "L", "name": "L"}
    plain = {"name": "x", "libraries": ["L"], "texts": [{"content": "x"}]}
    wa = {"name": "t", "libraries": ["L"], "texts": [{"content": "Hi {{1}}"}], "responseType": "MessagingTemplate",
          "messagingTemplate": {"whatsApp": {"name": "t", "language": "en"}}}
    for doc, path in (
            ({"libraries": [lib], "responses": [dict(plain, libraries=["nope"])]}, "$.responses[0].libraries[0]"),
            ({"libraries": [lib], "responses": [dict(plain, txts=[])]}, "$.responses[0].txts"),
            ({"libraries": [{"name": "L", "colour": "red"}]}, "$.libraries[0].colour"),
            ({"libraries": [{"id": "L"}]}, "$.libraries[0].name"),
            ({"libraries": [lib], "responses": [{"name": "x", "libraries": ["L"]}]}, "$.responses[0].texts"),
            ({"libraries": [lib], "responses": [dict(plain, texts=[{"content": "x", "contentType": "text/rtf"}])]},
             "$.responses[0].texts[0].contentType"),
            ({"libraries": [lib], "responses": [dict(plain, responseType="Letter")]}, "$.responses[0].responseType"),
            ({"libraries": [lib], "responses": [dict(wa, messagingTemplate={"whatsApp": {"name": "t"}})]},
             "$.responses[0].messagingTemplate.whatsApp.language"),
            ({"libraries": [lib], "responses": [dict(wa, messagingTemplate={})]}, "$.responses[0].messagingTemplate"),
            ({"libraries": [lib], "responses": [dict(plain, messagingTemplate=wa["messagingTemplate"])]},
             "$.responses[0].messagingTemplate"),
            ({"libraries": [lib], "responses": [dict(plain, substitutions=[{"id": "a"}, {"id": "a"}])]},
             "$.responses[0].substitutions[1].id"),
            ({"users": [{"id": "u", "name": "U", "preferredName": 3}]}, "$.users[0].preferredName")):
        a = sim.call("POST", "/sim/v1/scenario", doc)
        check(a.status == 400 and a.json["path"] == path, f"scenario error at {path}", a.json)
    a = sim.call("POST", "/sim/v1/scenario", {"libraries": [lib], "responses": [plain, wa]})
    check(a.json == {"loaded": True}, "minimal libraries and responses load", a.json)
    check(sim.call("POST", "/sim/v1/scenario", scenario_doc).status == 200, "load the demo back again")


def template_sends(sim):
    service = sim.token("demo-service", "demo-service-secret").json["access_token"]
    alice = sim.user_token(ALICE)
    wa_send = f"/api/v2/conversations/messages/{C(3)}/communications/{COMM(3, 3)}/messages"
    params = [{"id": "1", "value": "Ann"}, {"id": "2", "value": "A-1001"}, {"id": "3", "value": "tomorrow"}]
    rendered = "Hello Ann, your order A-1001 has shipped and will arrive tomorrow."
    tmpl = lambda **kw: {"textBody": "", "messagingTemplate": dict({"responseId": RESP(4), "bodyParameters": params}, **kw)}
    a = sim.call("POST", wa_send, tmpl(), token=alice)
    check(a.status == 200 and a.json["textBody"] == rendered and a.json["messengerType"] == "whatsapp",
          "template send: MessageData textBody rendered", a.json)
    e = sim.transcript(C(3))[-1]
    check(e["id"] == a.json["id"] and e["route"] == "agent-messaging" and e["text"] == rendered and
          e["messagingTemplate"] == {"responseId": RESP(4), "name": "order_shipped", "language": "en_US",
                                     "bodyParameters": params}, "template transcript entry", e)
    old = {"textBody": "", "messagingTemplate": {"responseId": RESP(4), "parameters": params}}
    a = sim.call("POST", wa_send, old, token=alice)
    check(a.status == 200 and a.json["textBody"] == rendered, "deprecated parameters accepted", a.json)

    def refused(body, field, what, path=wa_send, token=alice, code="bad.request"):
        a = sim.call("POST", path, body, token=token)
        expect_error(a, 400, code, what)
        check(a.json["details"][0]["fieldName"] == field, f"{what}: details names {field}", a.json)
        return a.json
    refused({"textBody": "", "messagingTemplate": {"bodyParameters": params}}, "messagingTemplate.responseId",
            "template without responseId")
    refused(tmpl(responseId="nope"), "messagingTemplate.responseId", "template with an unknown response")
    refused(tmpl(responseId=RESP(1)), "messagingTemplate.responseId", "template with a plain response")
    refused({"textBody": "", "messagingTemplate": {"responseId": RESP(4), "bodyParameters": params,
                                                   "parameters": params}}, "messagingTemplate.parameters",
            "bodyParameters and parameters together")
    refused(tmpl(), "messagingTemplate", "template into web messaging",
            path=f"/api/v2/conversations/messages/{C(1)}/communications/{COMM(1, 3)}/messages")
    j = refused(tmpl(bodyParameters=params[:2]), "messagingTemplate.bodyParameters", "missing body parameter")
    check("missing body parameters: 3" in j["message"] and j["details"][0]["entityName"] == "3" and
          j["details"][0]["errorCode"] == "required" and j["messageParams"]["missing"] == "3", "missing names 3", j)
    j = refused(tmpl(bodyParameters=params + [{"id": "4", "value": "x"}, {"id": "CaseNumber", "value": "y"}]),
                "messagingTemplate.bodyParameters", "unknown body parameters")
    check("unknown body parameters: 4, CaseNumber" in j["message"] and
          [d["entityName"] for d in j["details"]] == ["4", "CaseNumber"], "unknown ids listed", j)
    j = refused(tmpl(bodyParameters=[params[0], {"id": "9", "value": "x"}]), "messagingTemplate.bodyParameters",
                "missing and unknown body parameters")
    check("missing body parameters: 2, 3; unknown body parameters: 9" in j["message"] and len(j["details"]) == 3,
          "missing and unknown together", j)
    refused(tmpl(bodyParameters=[params[0], params[1], {"id": "3", "value": ""}]),
            "messagingTemplate.bodyParameters[2].value", "empty parameter value")
    refused(tmpl(bodyParameters=[params[0], params[1], {"value": "x"}]), "messagingTemplate.bodyParameters[2].id",
            "parameter without id")
    refused(tmpl(bodyParameters=params + [params[0]]), "messagingTemplate.bodyParameters[3].id", "parameter twice",)
    refused({"textBody": "hi", "messagingTemplate": tmpl()["messagingTemplate"]}, "textBody",
            "text and template together")

    agentless = {"fromAddress": "+15550002000", "toAddress": "+447700900123", "toAddressMessengerType": "whatsapp",
                 "messagingTemplate": {"responseId": RESP(4), "bodyParameters": params},
                 "useExistingActiveConversation": True}
    a = sim.call("POST", "/api/v2/conversations/messages/agentless", agentless, token=service)
    check(a.status == 200 and a.json["conversationId"] == C(3) and a.json["message"]["textBody"] == rendered and
          a.json["messagingTemplate"] == agentless["messagingTemplate"], "agentless whatsapp template", a.json)
    e = sim.transcript(C(3))[-1]
    check(e["route"] == "agentless" and e["text"] == rendered and e["messagingTemplate"]["name"] == "order_shipped" and
          e["sender"]["clientId"] == "demo-service", "agentless template transcript entry", e)
    refused(dict(agentless, messagingTemplate={"responseId": RESP(4), "bodyParameters": params[1:]}),
            "messagingTemplate.bodyParameters", "agentless template missing a parameter",
            path="/api/v2/conversations/messages/agentless", token=service)
    refused(dict(agentless, toAddressMessengerType="sms", fromAddress="+15550001000", toAddress="+15551230002"),
            "messagingTemplate", "agentless template to SMS", path="/api/v2/conversations/messages/agentless",
            token=service)


MEDIA_DEFAULT_TYPES = ["image/jpeg", "image/png", "image/gif", "application/pdf", "video/mp4", "audio/mpeg"]


def expect_storage_error(a, status, code, what, contains=None):
    check(a.status == status, f"{what}: status {status}", {"got": a.status, "body": a.raw.decode(errors="replace")})
    text = a.raw.decode()
    check(a.header("Content-Type") == "application/xml" and text.startswith('<?xml version="1.0" encoding="UTF-8"?>') and
          f"<Code>{code}</Code>" in text and "<RequestId>" in text, f"{what}: S3-style XML error {code}", text)
    if contains:
        check(contains in text, f"{what}: message says '{contains}'", text)


def media_uploads(sim, scenario_doc):
    alice, carol, bob = sim.user_token(ALICE), sim.user_token(CAROL), sim.user_token(BOB)
    service = sim.token("demo-service", "demo-service-secret").json["access_token"]
    c1, up = (C(1), COMM(1, 3)), upload_path(C(1), COMM(1, 3))
    send1 = f"/api/v2/conversations/messages/{C(1)}/communications/{COMM(1, 3)}/messages"

    # The happy path: uploads -> PUT with the headers -> uploading -> valid -> send -> transcript -> bytes
    data = fake_file("png", 5000)
    m = Media(sim, alice, *c1, data)
    u = m.upload
    check(UUID.match(m.id) and u["name"] == "photo.png" and u["selfUri"] == f"{up}/{m.id}" and
          re.fullmatch(re.escape(f"{sim.base}/uploads/{m.id}?signature=") + r"[A-Za-z0-9_-]{43}", u["uploadUrl"]),
          "MessageMediaUploadData", u)
    check(u["uploadHeaders"] == {"Content-Type": "application/octet-stream", "Content-MD5": md5_b64(data),
                                 "x-amz-server-side-encryption": "AES256", "x-amz-meta-media-id": m.id},
          "uploadHeaders", u["uploadHeaders"])
    for _ in range(3):
        g = m.get()
        check(g["status"] == "uploading" and "url" not in g and "mediaType" not in g and
              g["contentLengthBytes"] == 5000 and g["uploadUrl"] == u["uploadUrl"] and g["conversationId"] == C(1) and
              g["communicationId"] == COMM(1, 3) and g["selfUri"] == u["selfUri"], "before the PUT: uploading", g)
    a = m.send()
    j = expect_field(a, 400, "bad.request", "mediaIds", "send an uploading media")
    check(j["details"][0]["entityId"] == m.id and j["messageParams"] == {"mediaId": m.id, "status": "uploading"},
          "uploading media named with its status", j)
    a = m.put()
    check(a.status == 200 and a.raw == b"" and a.header("ETag") == '"' + hashlib.md5(data).hexdigest() + '"',
          "PUT 200 with the MD5 ETag", {"status": a.status, "etag": a.header("ETag")})
    g = m.get()
    check(g["status"] == "uploading" and "url" not in g, "first GET after the PUT: still uploading (processing)", g)
    g = m.get()
    media_url = f"{sim.base}/media/{m.id}/photo.png"
    check(g["status"] == "valid" and g["mediaType"] == "image/png" and g["url"] == media_url and
          g["contentLengthBytes"] == 5000, "then valid with the sniffed type and url", g)
    check(m.get() == g, "valid stays valid")
    a = sim.call("GET", media_url[len(sim.base):])
    check(a.status == 200 and a.raw == data and a.header("Content-Type") == "image/png", "the url serves the bytes",
          a.status)
    a = m.send()
    want_media = {"id": m.id, "name": "photo.png", "mediaType": "image/png", "contentLengthBytes": 5000, "url": media_url}
    check(a.status == 200 and a.json["textBody"] == "" and a.json["media"] == [want_media], "send mediaIds: MessageData",
          a.json)
    att = a.json["normalizedMessage"]["content"][0]
    check(a.json["normalizedMessage"]["type"] == "Text" and "text" not in a.json["normalizedMessage"] and
          att["contentType"] == "Attachment" and
          att["attachment"] == {"mediaType": "Image", "id": m.id, "url": media_url, "mime": "image/png",
                                "filename": "photo.png", "contentSizeBytes": 5000}, "normalizedMessage attachment", a.json)
    e = sim.transcript(C(1))[-1]
    check(e["id"] == a.json["id"] and e["route"] == "agent-messaging" and e["media"] == [want_media] and
          "text" not in e and "mediaIds" not in e, "transcript entry carries the media", e)
    a = sim.call("GET", f"/sim/v1/media/{m.id}")
    check(a.status == 200 and a.raw == data and a.header("Content-Type") == "image/png", "admin bytes are the upload",
          a.status)
    info = sim.call("GET", f"/sim/v1/media/{m.id}/info").json
    check(info["status"] == "valid" and info["verdict"] == "valid" and info["md5"] == md5_b64(data) and
          info["size"] == 5000 and info["mediaType"] == "image/png" and info["userId"] == ALICE and
          info["puts"] == 1 and info["lastRefusal"] is None and info["reason"] is None, "admin info", info)
    check(sim.call("GET", "/sim/v1/media").json["entities"][0]["id"] == m.id, "admin media listing")
    check(sim.call("GET", "/sim/v1/media/nope").status == 404, "admin bytes of an unknown media: 404")
    expect_storage_error(m.put(), 409, "UploadAlreadyReceived", "a second PUT to a used URL")
    again = m.send()
    check(again.status == 200, "a valid media can be sent again", again.json)

    # UploadMediaRequest refusals
    for name, why in ((".hidden.png", "starts with a dot"), ("folder/", "ends with a forward slash"),
                      ("my photo.png", "whitespace"), ("no\u00a0break.png", "whitespace"), ("tab\there", "whitespace"),
                      ("ctl\u0007.png", "control character"), ("", "empty"), ("x" * 256, "longer than 255 bytes")) + \
            tuple((f"a{ch}b.png", f"character {ch}") for ch in '\\{^}%`]">[~<#|'):
        a = sim.call("POST", up + "/uploads", {"fileName": name, "contentLengthBytes": 10}, token=alice)
        j = expect_field(a, 400, "invalid.value", "fileName", f"fileName {name!r}")
        check(why in j["message"], f"fileName {name!r}: the message says why", j)
    check(sim.call("POST", up + "/uploads", {"fileName": "r\u00e9sum\u00e9-2026.pdf", "contentLengthBytes": 10},
                   token=alice).status == 200, "a non-ASCII file name without forbidden characters is fine")
    expect_field(sim.call("POST", up + "/uploads", {"contentLengthBytes": 10}, token=alice), 400, "bad.request",
                 "fileName", "fileName missing")
    expect_field(sim.call("POST", up + "/uploads", {"fileName": "a.png"}, token=alice), 400, "bad.request",
                 "contentLengthBytes", "contentLengthBytes missing")
    for n in (0, -1, 2 ** 31, "12", 1.5):
        expect_field(sim.call("POST", up + "/uploads", {"fileName": "a.png", "contentLengthBytes": n}, token=alice), 400,
                     "invalid.value", "contentLengthBytes", f"contentLengthBytes {n!r}")
    a = sim.call("POST", up + "/uploads", {"fileName": "big.mp4", "contentLengthBytes": 10485761}, token=alice)
    j = expect_field(a, 400, "invalid.value", "contentLengthBytes", "over the default 10 MiB limit")
    check(j["messageParams"]["maxBytes"] == "10485760", "the limit is named", j)
    for md5 in ("abc", hashlib.md5(b"x").hexdigest(), "1B2M2Y8AsgTpgAmY7PhCfh==", "1B2M2Y8AsgTpgAmY7PhCfg", ""):
        a = sim.call("POST", up + "/uploads", {"fileName": "a.png", "contentLengthBytes": 1, "contentMd5": md5},
                     token=alice)
        expect_field(a, 400, "invalid.value", "contentMd5", f"contentMd5 {md5!r}")
    a = sim.call("POST", up + "/uploads", {"fileName": "a.png", "contentLengthBytes": 1,
                                           "contentMd5": hashlib.md5(b"x").hexdigest()}, token=alice)
    check("hexadecimal" in a.json["message"], "a hex digest is called out", a.json)
    expect_field(sim.call("POST", up + "/uploads", {"fileName": "a.png", "contentLengthBytes": 1, "size": 1},
                          token=alice), 400, "invalid.property", "size", "unknown property in UploadMediaRequest")
    ok_body = {"fileName": "a.png", "contentLengthBytes": 10}
    expect_error(sim.call("POST", up + "/uploads", ok_body, token=service), 400, "bad.request",
                 "uploads with client credentials")
    a = sim.call("POST", upload_path(C(9), COMM(9, 3)) + "/uploads", ok_body, token=bob)
    expect_error(a, 403, "missing.any.permissions", "Bob cannot create media")
    check(a.json["messageParams"]["permissions"] == "[conversation:message:create, conversation:webmessaging:create, "
          "conversation:socialmedia:create]", "the 403 names the three permissions", a.json)
    expect_error(sim.call("POST", up + "/uploads", ok_body, token=carol), 400, "bad.request",
                 "uploads to another agent's communication")
    expect_error(sim.call("POST", upload_path(C(8), COMM(8, 3)) + "/uploads", ok_body, token=alice), 400, "bad.request",
                 "uploads into an ended conversation")
    expect_error(sim.call("POST", upload_path(C(1), "nope") + "/uploads", ok_body, token=alice), 404, "not.found",
                 "uploads to an unknown communication")
    expect_error(sim.call("POST", upload_path(C(6), COMM(6, 3)) + "/uploads", ok_body, token=alice), 404, "not.found",
                 "uploads into a chat conversation")

    # The PUT: authorization-type refusals leave the media uploading and the URL usable
    data = fake_file("jpeg", 3000, seed=2)
    m = Media(sim, alice, *c1, data, name="scan.jpg")
    expect_storage_error(m.put(token=alice), 403, "AccessDenied", "PUT with a bearer token", "Authorization")
    expect_storage_error(m.put(headers={"Authorization": "Basic eDp5"}), 403, "AccessDenied", "PUT with any Authorization")
    expect_storage_error(m.put(url=m.upload["uploadUrl"].split("?")[0]), 403, "AccessDenied", "PUT without the signature",
                         "signature")
    expect_storage_error(m.put(url=m.upload["uploadUrl"][:-3] + "AAA"), 403, "SignatureDoesNotMatch", "PUT, wrong signature")
    expect_storage_error(m.put(drop=("x-amz-server-side-encryption",)), 403, "SignatureDoesNotMatch",
                         "PUT without an upload header", "x-amz-server-side-encryption is missing")
    expect_storage_error(m.put(drop=("Content-MD5",)), 403, "SignatureDoesNotMatch", "PUT without Content-MD5",
                         "Content-MD5 is missing")
    expect_storage_error(m.put(headers={"Content-Type": "image/jpeg"}), 403, "SignatureDoesNotMatch",
                         "PUT with another Content-Type", "image/jpeg")
    expect_storage_error(m.put(headers={"x-amz-meta-media-id": "other"}), 403, "SignatureDoesNotMatch",
                         "PUT with another header value")
    expect_storage_error(m.put(method="POST"), 405, "MethodNotAllowed", "POST to the upload URL")
    expect_storage_error(sim.call("PUT", "/uploads/nope?signature=x", raw=b"x"), 404, "NoSuchUpload",
                         "PUT to an unknown upload")
    g = m.get()
    check(g["status"] == "uploading", "refused PUTs leave the media uploading", g)
    info = sim.call("GET", f"/sim/v1/media/{m.id}/info").json
    check(info["lastRefusal"]["status"] == 405 and info["puts"] == 8 and info["verdict"] is None, "refusals recorded",
          info)
    a = sim.call("POST", "/sim/v1/faults", {"method": "PUT", "path": "/uploads/*", "status": 503, "retryAfter": 1})
    check(a.status == 201, "install a fault on the upload receiver", a.json)
    a = m.put()
    expect_error(a, 503, "service.unavailable", "faulted PUT")
    check(a.header("Retry-After") == "1" and m.get()["status"] == "uploading", "a faulted PUT changes nothing", a.json)
    check(m.put().status == 200, "the URL still takes the right PUT")
    check([m.get()["status"], m.get()["status"]] == ["uploading", "valid"], "then processing, then valid")
    log = sim.call("GET", "/sim/v1/requests").json["entries"]
    puts = [e for e in log if e["method"] == "PUT" and e["path"] == f"/uploads/{m.id}"]
    check(len(puts) == 10 and alice not in json.dumps(log), "PUTs logged, the leaked token redacted", len(puts))
    check(puts[0]["headers"]["Authorization"] == "Bearer <redacted>" and puts[0]["requestBody"] == "<3000 bytes>" and
          "<Code>AccessDenied</Code>" in puts[0]["responseBody"] and puts[0]["operation"] is None, "PUT log entry",
          puts[0])

    # Content refusals: the upload fails and the media becomes invalid
    m = Media(sim, alice, *c1, fake_file("png", 2000, seed=3), name="short.png")
    a = m.put(data=m.data[:1999])
    expect_storage_error(a, 400, "IncompleteBody", "a body shorter than contentLengthBytes", "1999 bytes")
    check([m.get()["status"], m.get()["status"]] == ["uploading", "invalid"], "a short body makes the media invalid")
    j = expect_field(m.send(), 400, "bad.request", "mediaIds", "send an invalid media")
    check(j["messageParams"]["status"] == "invalid" and j["details"][0]["entityId"] == m.id, "invalid named", j)
    expect_storage_error(m.put(), 409, "UploadAlreadyReceived", "PUT after a content refusal")
    m = Media(sim, alice, *c1, fake_file("png", 2000, seed=4), name="long.png")
    expect_storage_error(m.put(data=m.data + b"x"), 400, "EntityTooLarge", "a body longer than contentLengthBytes")
    m = Media(sim, alice, *c1, fake_file("png", 2000, seed=5), name="digest.png")
    other = fake_file("png", 2000, seed=6)
    expect_storage_error(m.put(data=other), 400, "BadDigest", "bytes that do not match contentMd5", md5_b64(other))
    check([m.get()["status"], m.get()["status"]] == ["uploading", "invalid"], "an MD5 mismatch makes the media invalid")
    info = sim.call("GET", f"/sim/v1/media/{m.id}/info").json
    check(info["verdict"] == "invalid" and "MD5" in info["reason"] and info["size"] is None, "no bytes kept", info)
    m = Media(sim, alice, *c1, fake_file("gif", 800, seed=7), name="anim.gif", md5=False)
    check("Content-MD5" not in m.upload["uploadHeaders"], "no Content-MD5 header without contentMd5", m.upload)
    expect_storage_error(m.put(headers={"Content-MD5": md5_b64(b"other")}), 400, "BadDigest",
                         "a Content-MD5 header of the client's own is checked too")
    m = Media(sim, alice, *c1, fake_file("gif", 800, seed=8), name="anim2.gif", md5=False)
    expect_storage_error(m.put(headers={"Content-MD5": "nope"}), 400, "InvalidDigest", "a malformed Content-MD5 header")
    m = Media(sim, alice, *c1, fake_file("gif", 800, seed=9), name="anim3.gif", md5=False)
    check(m.put().status == 200 and [m.get()["status"], m.get()["status"]] == ["uploading", "valid"],
          "without contentMd5 the PUT needs no Content-MD5")

    # A type outside limits.mediaTypes: the PUT is accepted, the media turns invalid
    m = Media(sim, alice, *c1, fake_file("zip", 1500, seed=10), name="archive.zip")
    check(m.put().status == 200, "a zip uploads")
    check(m.get()["status"] == "uploading", "zip: processing")
    g = m.get()
    check(g["status"] == "invalid" and g["mediaType"] == "application/zip" and "url" not in g, "zip: invalid", g)
    j = expect_field(m.send(), 400, "bad.request", "mediaIds", "send a disallowed type")
    check("application/zip" in j["message"], "the reason is given", j)
    check(sim.call("GET", f"/media/{m.id}/archive.zip").status == 404, "an invalid media's url serves nothing")
    check(sim.call("GET", f"/sim/v1/media/{m.id}").raw == m.data, "admin still has the refused type's bytes")

    # Expiry of the upload URL on gcsim's clock
    m = Media(sim, alice, *c1, fake_file("pdf", 900, seed=11), name="late.pdf")
    sim.call("POST", "/sim/v1/clock/advance", {"seconds": 3601})
    expect_storage_error(m.put(), 403, "AccessDenied", "PUT after the URL expired", "expired")

    # mediaIds on the send
    other = Media(sim, alice, C(4), COMM(4, 3), fake_file("mp3", 1200, seed=12), name="voice.mp3")
    check(other.put().status == 200 and [other.get()["status"], other.get()["status"]] == ["uploading", "valid"],
          "an mp3 in another conversation is valid")
    check(other.get()["mediaType"] == "audio/mpeg", "mp3 sniffed as audio/mpeg")
    a = sim.call("POST", send1, {"textBody": "", "mediaIds": [other.id]}, token=alice)
    j = expect_field(a, 400, "bad.request", "mediaIds", "send another conversation's media")
    check(j["details"][0]["entityId"] == other.id and C(4) in j["message"], "names the media and its conversation", j)
    expect_error(sim.call("GET", f"{up}/{other.id}", token=alice), 404, "not.found", "GET another conversation's media")
    expect_error(sim.call("GET", f"{up}/nope", token=alice), 404, "not.found", "GET an unknown media")
    expect_error(sim.call("GET", f"{up}/{other.id}", token=service), 400, "bad.request", "GET media with client credentials")
    a = sim.call("POST", send1, {"textBody": "", "mediaIds": ["nope"]}, token=alice)
    j = expect_field(a, 400, "bad.request", "mediaIds", "send an unknown media id")
    check(j["details"][0]["entityId"] == "nope", "the unknown id is named", j)
    good = Media(sim, alice, *c1, fake_file("mp4", 4000, seed=13), name="clip.mp4")
    check(good.put().status == 200 and [good.get()["status"], good.get()["status"]] == ["uploading", "valid"],
          "an mp4 is valid")
    a = sim.call("POST", send1, {"textBody": "", "mediaIds": [good.id, good.id]}, token=alice)
    expect_field(a, 400, "bad.request", "mediaIds", "two media ids")
    check("one media id" in a.json["message"], "one media id per message", a.json)
    a = sim.call("POST", send1, {"textBody": "look", "mediaIds": [good.id]}, token=alice)
    j = expect_field(a, 400, "bad.request", "textBody", "textBody and mediaIds together")
    check([d["fieldName"] for d in j["details"]] == ["textBody", "mediaIds"], "details name both kinds", j)
    a = sim.call("POST", send1, {"textBody": "look", "mediaIds": [good.id],
                                 "messagingTemplate": {"responseId": RESP(4)}}, token=alice)
    j = expect_field(a, 400, "bad.request", "textBody", "three kinds together")
    check([d["fieldName"] for d in j["details"]] == ["textBody", "mediaIds", "messagingTemplate"], "all three named", j)
    for body, what in (({"textBody": ""}, "empty textBody"), ({"textBody": "", "mediaIds": []}, "empty mediaIds")):
        j = expect_field(sim.call("POST", send1, body, token=alice), 400, "bad.request", "textBody", what)
        check([d["fieldName"] for d in j["details"]] == ["textBody", "mediaIds", "messagingTemplate"] and
              all(d["errorCode"] == "required" for d in j["details"]), f"{what}: every possible kind named", j)
    j = expect_field(sim.call("POST", send1, {"textBody": " \n\t "}, token=alice), 400, "bad.request", "textBody",
                     "whitespace-only textBody")
    check("whitespace" in j["message"], "whitespace-only is empty", j)
    a = sim.call("POST", send1, {"mediaIds": [good.id]}, token=alice)
    check(a.status == 200, "mediaIds without textBody: one body kind, accepted (the definition's "
          "required textBody yields to the operation's description)", a.json)
    a = good.send()
    check(a.status == 200 and a.json["media"][0]["mediaType"] == "video/mp4" and
          a.json["normalizedMessage"]["content"][0]["attachment"]["mediaType"] == "Video", "an mp4 is sent", a.json)
    agentless = {"fromAddress": "+15550001000", "toAddress": "+15551230002", "toAddressMessengerType": "sms",
                 "textBody": "", "mediaIds": [good.id], "useExistingActiveConversation": True}
    expect_field(sim.call("POST", "/api/v2/conversations/messages/agentless", agentless, token=service), 400,
                 "invalid.property", "mediaIds", "agentless with mediaIds")
    a = sim.call("GET", up, token=alice)
    expect_error(a, 403, "missing.any.permissions", "the listing needs conversation:messageMedia:view")
    check(a.json["messageParams"]["permissions"] == "[conversation:messageMedia:view]", "names messageMedia:view", a.json)

    # Length limits in UTF-16 code units (an emoji above U+FFFF counts 2)
    smile = "\U0001F600"
    check(sim.call("POST", send1, {"textBody": "x" * 1998 + smile}, token=alice).status == 200,
          "2000 UTF-16 units (1999 code points) accepted")
    a = sim.call("POST", send1, {"textBody": "x" * 1999 + smile}, token=alice)
    j = expect_field(a, 400, "invalid.value", "textBody", "2001 UTF-16 units (2000 code points) refused")
    check("2001 characters" in j["message"] and "(counted in UTF-16 code units)" in j["message"] and
          j["messageParams"]["maxLength"] == "2000", "the message names the unit", j)
    expect_field(sim.call("POST", send1, {"textBody": "x" * 2001}, token=alice), 400, "invalid.value", "textBody",
                 "2001 ASCII characters")
    sms = f"/api/v2/conversations/messages/{C(2)}/communications/{COMM(2, 3)}/messages"
    check(sim.call("POST", sms, {"textBody": smile * 382 + "x"}, token=alice).status == 200, "SMS: 765 units accepted")
    expect_field(sim.call("POST", sms, {"textBody": smile * 383}, token=alice), 400, "invalid.value", "textBody",
                 "SMS: 383 emoji = 766 units refused")
    chat = f"/api/v2/conversations/chats/{C(6)}/communications/{COMM(6, 3)}/messages"
    check(sim.call("POST", chat, {"body": smile * 2000}, token=alice).status == 200, "chat: 4000 units accepted")
    a = sim.call("POST", chat, {"body": smile * 2000 + "x"}, token=alice)
    j = expect_field(a, 400, "invalid.value", "body", "chat: 4001 units refused")
    check("UTF-16 code units" in j["message"], "chat names the unit", j)

    # The default limit exactly: a 10 MiB upload goes through
    big = fake_file("jpeg", 10485760, seed=14)
    m = Media(sim, alice, *c1, big, name="big.jpg")
    check(m.put().status == 200 and [m.get()["status"], m.get()["status"]] == ["uploading", "valid"],
          "10485760 bytes: valid")
    check(sim.call("GET", f"/sim/v1/media/{m.id}").raw == big, "10 MiB stored byte for byte")

    # Other limits: a scenario with its own mediaMaxBytes, mediaTypes, mediaProcessingPolls
    doc = json.loads(json.dumps(scenario_doc))
    doc["limits"].update({"mediaMaxBytes": 1000, "mediaTypes": ["image/png", "text/plain"], "mediaProcessingPolls": 3})
    next(u for u in doc["users"] if u["id"] == ALICE)["permissions"].append("conversation:messageMedia:view")
    check(sim.call("POST", "/sim/v1/scenario", doc).json == {"loaded": True}, "load the media-limits scenario")
    check(sim.call("GET", "/sim/v1/media").json["entities"] == [], "a scenario load drops every media")
    alice = sim.user_token(ALICE)
    a = sim.call("POST", up + "/uploads", {"fileName": "a.png", "contentLengthBytes": 1001}, token=alice)
    j = expect_field(a, 400, "invalid.value", "contentLengthBytes", "over limits.mediaMaxBytes")
    check(j["messageParams"]["maxBytes"] == "1000", "limits.mediaMaxBytes named", j)
    text = "Order 1234: delivered.\n".encode() * 20
    t = Media(sim, alice, *c1, text, name="note.txt")
    check(t.put().status == 200, "a text file uploads")
    check([t.get()["status"] for _ in range(4)] == ["uploading"] * 3 + ["valid"], "three processing polls, then valid")
    check(t.get()["mediaType"] == "text/plain", "text/plain sniffed")
    jp = Media(sim, alice, *c1, fake_file("jpeg", 1000, seed=15), name="photo.jpg")
    check(jp.put().status == 200 and [jp.get()["status"] for _ in range(4)][-1] == "invalid",
          "jpeg is not in this scenario's mediaTypes")
    a = sim.call("GET", up, token=alice)
    check(a.status == 202 and a.json["total"] == 2 and [e["id"] for e in a.json["entities"]] == [t.id, jp.id] and
          a.json["selfUri"] == f"{up}?pageSize=25&pageNumber=1", "listing: 202 MessageMediaListing", a.json)
    a = sim.call("GET", up + "?status=valid", token=alice)
    check(a.status == 202 and [e["id"] for e in a.json["entities"]] == [t.id] and
          a.json["selfUri"] == f"{up}?status=valid&pageSize=25&pageNumber=1", "listing by status", a.json)
    a = sim.call("GET", up + "?pageSize=1&pageNumber=2", token=alice)
    check(a.status == 202 and [e["id"] for e in a.json["entities"]] == [jp.id] and a.json["pageCount"] == 2 and
          "nextUri" not in a.json and a.json["previousUri"].endswith("pageSize=1&pageNumber=1"), "listing paging", a.json)
    expect_field(sim.call("GET", up + "?status=done", token=alice), 400, "invalid.query.param.value", "status",
                 "listing status enum")
    for limits, path in (({"mediaTypes": ["image/heic"]}, "$.limits.mediaTypes[0]"),
                         ({"mediaTypes": ["image/png", "image/png"]}, "$.limits.mediaTypes[1]"),
                         ({"mediaTypes": "image/png"}, "$.limits.mediaTypes"),
                         ({"mediaMaxBytes": 0}, "$.limits.mediaMaxBytes"),
                         ({"mediaMaxBytes": 104857601}, "$.limits.mediaMaxBytes"),
                         ({"mediaProcessingPolls": 101}, "$.limits.mediaProcessingPolls"),
                         ({"mediaPolls": 1}, "$.limits.mediaPolls")):
        a = sim.call("POST", "/sim/v1/scenario", {"limits": limits})
        check(a.status == 400 and a.json["path"] == path, f"scenario limits error at {path}", a.json)
    a = sim.call("POST", "/sim/v1/scenario", {"limits": {"mediaTypes": [], "mediaProcessingPolls": 0}})
    check(a.status == 200, "no allowed types and no processing polls load", a.json)
    check(sim.call("POST", "/sim/v1/scenario", scenario_doc).status == 200, "load the demo back (media)")


def run(sim, scenario_doc):
    a = sim.call("GET", "/sim/v1/health")
    check(a.status == 200 and a.json == {"ok": True, "baseUrl": sim.base, "latencyMs": 0}, "health", a.json)

    # OAuth
    a = sim.token("demo-service", "demo-service-secret")
    check(a.status == 200 and a.json["token_type"] == "bearer" and a.json["expires_in"] == 86400, "token", a.json)
    service = a.json["access_token"]
    a = sim.token("demo-service", "wrong")
    check(a.status == 401 and a.json["error"] == "invalid_client" and "error_description" in a.json, "bad secret", a.json)
    a = sim.call("POST", "/oauth/token", raw=b"grant_type=password",
                 headers={"Authorization": "Basic " + base64.b64encode(b"demo-service:demo-service-secret").decode()})
    check(a.status == 400 and a.json["error"] == "unsupported_grant_type", "unsupported grant", a.json)
    readonly = sim.token("demo-readonly", "demo-readonly-secret").json["access_token"]

    # Tokens
    a = sim.call("GET", "/api/v2/tokens/me", token=service)
    check(a.status == 200 and a.json["OAuthClient"]["id"] == "demo-service", "tokens/me", a.json)
    for h in ("inin-ratelimit-count", "inin-ratelimit-allowed", "inin-ratelimit-reset"):
        check(a.header(h) is not None, f"header {h}", dict(a.headers))
    check(a.header("inin-ratelimit-allowed") == "300", "allowed 300", a.header("inin-ratelimit-allowed"))
    expect_error(sim.call("GET", "/api/v2/tokens/me"), 401, "authentication.required", "no token")
    expect_error(sim.call("GET", "/api/v2/tokens/me", token="nope"), 401, "bad.credentials", "unknown token")
    a = sim.call("GET", "/api/v2/users/me", token=service)
    expect_error(a, 400, "bad.request", "users/me with client credentials")
    check("requires a user context" in a.json["message"], "users/me message", a.json)

    alice = sim.user_token(ALICE)
    a = sim.call("GET", "/api/v2/users/me?expand=authorization", token=alice)
    check(a.status == 200 and a.json["name"] == "Alice Agent" and
          "conversation:message:create" in a.json["authorization"]["permissions"], "users/me expand", a.json)
    check(a.json.get("preferredName") == "Alice", "users/me preferredName", a.json)
    check("preferredName" not in sim.call("GET", "/api/v2/users/me", token=sim.user_token(CAROL)).json,
          "no preferredName when the scenario has none")

    # Conversation GETs
    a = sim.call("GET", f"/api/v2/conversations/{C(1)}", token=service)
    check(a.status == 200 and len(a.json["participants"]) == 3, "GET conversation", a.json)
    agent = a.json["participants"][2]
    check(agent["userId"] == ALICE and agent["messages"][0]["id"] == COMM(1, 3), "agent messages[0].id", agent)
    check(a.json["participants"][0]["attributes"]["CustomerName"] == "Jane", "attributes", a.json)
    a = sim.call("GET", f"/api/v2/conversations/messages/{C(1)}", token=service)
    check(a.status == 200 and a.json["participants"][0]["peer"] == COMM(1, 3), "customer peer = agent comm", a.json)
    expect_error(sim.call("GET", f"/api/v2/conversations/messages/{C(6)}", token=service), 404, "not.found",
                 "messages GET of a chat")
    a = sim.call("GET", f"/api/v2/conversations/chats/{C(7)}", token=service)
    check(a.status == 200 and a.json["participants"][0]["provider"] == "Acme Live Chat", "third-party provider", a.json)
    a = sim.call("GET", f"/api/v2/conversations/{C(7)}", token=service)
    check(a.json["participants"][0]["chats"][0]["provider"] == "Acme Live Chat", "chats[].provider", a.json)
    expect_error(sim.call("GET", f"/api/v2/conversations/chats/{C(1)}", token=service), 404, "not.found",
                 "chats GET of messaging")
    expect_error(sim.call("GET", "/api/v2/conversations/unknown-id", token=service), 404, "not.found", "unknown conv")
    a = sim.call("GET", f"/api/v2/conversations/{C(8)}", token=service)
    check(a.status == 200 and a.json.get("endTime") and
          a.json["participants"][0]["messages"][0]["state"] == "disconnected", "ended conversation", a.json)

    # Agent messaging
    send = f"/api/v2/conversations/messages/{C(1)}/communications/{COMM(1, 3)}"
    a = sim.call("POST", send + "/typing", {"typing": {"type": "On"}}, token=alice)
    check(a.status == 200, "typing 200", a.raw)
    a = sim.call("POST", send + "/messages", {"textBody": "Hello Jane"}, token=alice)
    check(a.status == 200 and a.json["textBody"] == "Hello Jane" and a.json["status"] == "sent" and
          a.json["direction"] == "outbound" and a.json["messengerType"] == "webmessaging", "agent send", a.json)
    entries = sim.transcript(C(1))
    check(len(entries) == 2 and entries[0]["typing"] is True and "text" not in entries[0], "typing entry", entries)
    e = entries[1]
    check(e["route"] == "agent-messaging" and e["text"] == "Hello Jane" and e["id"] == a.json["id"] and
          e["sender"]["userId"] == ALICE and e["sender"]["communicationId"] == COMM(1, 3) and not e["typing"],
          "agent transcript entry", e)
    expect_error(sim.call("POST", send + "/typing", {"typing": {"type": "Off"}}, token=alice), 400, "invalid.value",
                 "typing enum")
    a = sim.call("POST", send + "/messages", {"textBody": "x", "mediaIds": ["m1"]}, token=alice)
    expect_error(a, 400, "bad.request", "two body kinds")
    a = sim.call("POST", send + "/messages", {"textBody": "x", "toAddress": "y"}, token=alice)
    expect_error(a, 400, "invalid.property", "unknown property")
    check(a.json["details"][0]["fieldName"] == "toAddress", "details fieldName", a.json)
    expect_error(sim.call("POST", send + "/messages", {}, token=alice), 400, "bad.request", "textBody required")
    expect_error(sim.call("POST", send + "/messages", raw=b"{nope", token=alice,
                          headers={"Content-Type": "application/json"}), 400, "bad.request", "malformed JSON")
    a = sim.call("POST", send + "/messages", {"textBody": "\u00e9" * 2001}, token=alice)
    expect_error(a, 400, "invalid.value", "webmessaging 2001 BMP characters")
    check(a.json["details"][0]["fieldName"] == "textBody", "length detail", a.json)
    check(sim.call("POST", send + "/messages", {"textBody": "\u00e9" * 2000}, token=alice).status == 200,
          "2000 BMP characters (4000 UTF-8 bytes) accepted")
    sms = f"/api/v2/conversations/messages/{C(2)}/communications/{COMM(2, 3)}/messages"
    expect_error(sim.call("POST", sms, {"textBody": "x" * 766}, token=alice), 400, "invalid.value", "sms 765")
    expect_error(sim.call("POST", send + "/messages", {"textBody": "hi"}, token=service), 400, "bad.request",
                 "client credentials on the agent route")
    carol = sim.user_token(CAROL)
    expect_error(sim.call("POST", send + "/messages", {"textBody": "hi"}, token=carol), 400, "bad.request",
                 "not the owner of the communication")
    expect_error(sim.call("POST", f"/api/v2/conversations/messages/{C(1)}/communications/nope/messages",
                          {"textBody": "hi"}, token=alice), 404, "not.found", "unknown communication")
    bob = sim.user_token(BOB)
    a = sim.call("POST", f"/api/v2/conversations/messages/{C(9)}/communications/{COMM(9, 3)}/messages",
                 {"textBody": "hi"}, token=bob)
    expect_error(a, 403, "missing.any.permissions", "Bob lacks create")
    check("conversation:message:create" in a.json["message"] and
          "conversation:webmessaging:create" in a.json["messageParams"]["permissions"], "403 names permissions", a.json)
    a = sim.call("POST", f"/api/v2/conversations/messages/{C(8)}/communications/{COMM(8, 3)}/messages",
                 {"textBody": "hi"}, token=alice)
    expect_error(a, 400, "bad.request", "ended conversation")
    check("disconnected" in a.json["message"], "ended message says disconnected", a.json)

    # Agentless
    body = {"fromAddress": "+15550001000", "toAddress": "+15551230002", "toAddressMessengerType": "sms",
            "textBody": "Your engineer arrives at 10:00.", "useExistingActiveConversation": True}
    a = sim.call("POST", "/api/v2/conversations/messages/agentless", body, token=service)
    check(a.status == 200 and a.json["conversationId"] == C(2) and a.json["message"]["status"] == "sent",
          "agentless joins the active SMS conversation", a.json)
    e = sim.transcript(C(2))[-1]
    check(e["route"] == "agentless" and e["sender"]["clientId"] == "demo-service" and
          e["text"] == body["textBody"], "agentless transcript entry", e)
    a = sim.call("POST", "/api/v2/conversations/messages/agentless", body, token=readonly)
    expect_error(a, 403, "missing.permissions", "readonly client")
    check(a.json["messageParams"]["permissions"] == "[conversation:message:create]", "ALL names missing", a.json)
    expect_error(sim.call("POST", "/api/v2/conversations/messages/agentless",
                          dict(body, toAddressMessengerType="webmessaging"), token=service), 400, "bad.request",
                 "agentless webmessaging")
    expect_error(sim.call("POST", "/api/v2/conversations/messages/agentless", dict(body, textBody="x" * 766),
                          token=service), 400, "invalid.value", "agentless sms length")
    expect_error(sim.call("POST", "/api/v2/conversations/messages/agentless", body, token=alice), 400, "bad.request",
                 "agentless with a user token")
    wa = {"fromAddress": "+15550002000", "toAddress": "+447700900123", "toAddressMessengerType": "whatsapp",
          "textBody": "Order shipped", "useExistingActiveConversation": True}
    a = sim.call("POST", "/api/v2/conversations/messages/agentless", wa, token=service)
    expect_error(a, 400, "bad.request", "agentless whatsapp text without a template")
    check(a.json["details"][0]["fieldName"] == "messagingTemplate" and "template" in a.json["message"],
          "agentless whatsapp text names messagingTemplate", a.json)

    # Legacy chat and third-party chat
    chat = f"/api/v2/conversations/chats/{C(6)}/communications/{COMM(6, 3)}"
    a = sim.call("POST", chat + "/typing", token=alice)
    check(a.status == 200 and a.json["sender"]["role"] == "AGENT", "chat typing", a.json)
    a = sim.call("POST", chat + "/messages", {"body": "Hello from chat", "bodyType": "standard"}, token=alice)
    check(a.status == 200 and a.json["body"] == "Hello from chat" and a.json["conversation"]["id"] == C(6),
          "legacy chat send", a.json)
    e = sim.transcript(C(6))[-1]
    check(e["route"] == "legacy-chat" and e["bodyType"] == "standard" and e["text"] == "Hello from chat",
          "legacy-chat entry", e)
    expect_error(sim.call("POST", chat + "/messages", {"body": "x" * 4001}, token=alice), 400, "invalid.value",
                 "chat 4000")
    expect_error(sim.call("POST", chat + "/messages", {"body": "x", "bodyType": "loud"}, token=alice), 400,
                 "invalid.value", "bodyType enum")
    expect_error(sim.call("POST", chat + "/messages", {"body": "hi"}, token=carol), 400, "chat.error.member.state",
                 "chat send on another agent's communication")
    expect_error(sim.call("POST", f"/api/v2/conversations/chats/{C(1)}/communications/{COMM(1, 3)}/messages",
                          {"body": "hi"}, token=alice), 404, "not.found", "chat endpoint on a messaging conversation")
    expect_error(sim.call("POST", f"/api/v2/conversations/messages/{C(6)}/communications/{COMM(6, 3)}/messages",
                          {"textBody": "hi"}, token=alice), 404, "not.found", "messaging endpoint on a chat conversation")
    expect_error(sim.call("POST", f"/api/v2/conversations/chats/{C(7)}/communications/{COMM(7, 2)}/messages",
                          {"body": "hi"}, token=alice), 404, "chat.error.not.found", "third-party send")
    a = sim.call("POST", "/api/v2/conversations/chats",
                 {"queueId": "00000000-0000-4000-8000-0000000000f1", "provider": "Acme Live Chat",
                  "customerName": "Nina New", "attributes": {"CustomerName": "Nina"}}, token=service)
    check(a.status == 200 and a.json["participants"][0]["provider"] == "Acme Live Chat", "create third-party chat",
          a.json)
    new_chat, new_comm = a.json["id"], a.json["participants"][1]["id"]
    check(sim.call("GET", f"/api/v2/conversations/chats/{new_chat}", token=service).status == 200, "GET new chat")
    expect_error(sim.call("POST", f"/api/v2/conversations/chats/{new_chat}/communications/{new_comm}/typing",
                          token=alice), 404, "chat.error.not.found", "typing into third-party chat")
    expect_error(sim.call("POST", "/api/v2/conversations/chats", {"queueId": "q"}, token=readonly), 403,
                 "missing.permissions", "webchat create permission")

    # Admin: end, create, customer messages
    check(sim.call("POST", f"/sim/v1/conversations/{C(3)}/end").status == 200, "end c3")
    a = sim.call("POST", f"/api/v2/conversations/messages/{C(3)}/communications/{COMM(3, 3)}/messages",
                 {"textBody": "still there?"}, token=alice)
    expect_error(a, 400, "bad.request", "send after admin end")
    check(sim.call("POST", f"/sim/v1/conversations/{C(6)}/end").status == 200, "end c6")
    expect_error(sim.call("POST", chat + "/messages", {"body": "still there?"}, token=alice), 400,
                 "chat.error.conversation.state", "chat send after admin end")
    a = sim.call("POST", "/sim/v1/conversations", {
        "media": "message", "platform": "sms",
        "participants": [{"purpose": "customer", "name": "Pat", "communication": {"fromAddress": "+1555", "toAddress": "+1666"}},
                         {"purpose": "agent", "userId": ALICE, "communication": {}}]})
    check(a.status == 201 and a.json["participants"][1]["userId"] == ALICE, "admin create conversation", a.json)
    a = sim.call("POST", "/sim/v1/conversations", {"media": "message", "platfrom": "sms", "participants": []})
    check(a.status == 400 and a.json["path"] == "$.platfrom", "admin create: unknown key path", a.json)
    a = sim.call("POST", f"/sim/v1/conversations/{C(1)}/customer-messages", {"text": "Thanks!"})
    check(a.status == 201 and a.json["route"] == "customer" and a.json["direction"] == "inbound", "customer msg", a.json)
    check(sim.call("GET", "/sim/v1/conversations/nope/transcript").status == 404, "transcript 404")

    # Expiry on gcsim's clock
    short = sim.user_token(ALICE, expires=60)
    check(sim.call("GET", "/api/v2/tokens/me", token=short).status == 200, "short token valid")
    a = sim.call("POST", "/sim/v1/clock/advance", {"seconds": 120})
    check(a.status == 200 and "now" in a.json, "clock advance", a.json)
    expect_error(sim.call("GET", "/api/v2/tokens/me", token=short), 401, "credentials.expired", "expired token")

    # Faults
    a = sim.call("POST", "/sim/v1/faults", {"method": "GET", "path": "/api/v2/conversations/*", "status": 503,
                                            "code": "service.unavailable", "message": "Injected outage",
                                            "times": 1, "retryAfter": 2})
    check(a.status == 201, "install fault", a.json)
    a = sim.call("GET", f"/api/v2/conversations/{C(1)}", token=service)
    expect_error(a, 503, "service.unavailable", "fault answer")
    check(a.json["message"] == "Injected outage" and a.header("Retry-After") == "2", "fault message/Retry-After", a.json)
    check(sim.call("GET", f"/api/v2/conversations/{C(1)}", token=service).status == 200, "fault used up")
    sim.call("POST", "/sim/v1/faults", {"path": "/oauth/token", "status": 500, "times": 0})
    check(sim.token("demo-service", "demo-service-secret").status == 500, "oauth fault")
    check(sim.call("DELETE", "/sim/v1/faults").json == {"cleared": 1}, "clear faults")

    # Request log redaction (in memory and on disk)
    log = sim.call("GET", "/sim/v1/requests").json["entries"]
    blob = json.dumps(log)
    for secret in (service, alice, bob, carol, short, readonly, "demo-service-secret", "demo-readonly-secret"):
        check(secret not in blob, "request log holds no token or secret")
    auths = [e["headers"].get("Authorization") for e in log if "Authorization" in e["headers"]]
    check(auths and all(v in ("Bearer <redacted>", "Basic <redacted>") for v in auths), "Authorization redacted", auths)
    tok = next(e for e in log if e["path"] == "/oauth/token" and e["status"] == 200)
    check(tok["requestBody"] == {"grant_type": "client_credentials"} and tok["operation"] is None and
          tok["responseBody"]["access_token"] == "<redacted>", "oauth entry", tok)
    sent = next(e for e in log if e["path"] == send + "/messages" and e["status"] == 200)
    check(sent["operation"] == "postConversationsMessageCommunicationMessages" and
          sent["requestBody"] == {"textBody": "Hello Jane"} and UUID.match(sent["correlationId"]), "send entry", sent)
    with open(sim.log_file) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    check(len(lines) >= len(log) and all(s not in json.dumps(lines) for s in (service, alice, "demo-service-secret")),
          "request-log file redacted", len(lines))

    # Response Management and messaging-template sends (they load other scenarios: tokens end here)
    response_management(sim, scenario_doc, service, readonly, alice, bob)
    template_sends(sim)
    media_uploads(sim, scenario_doc)

    # Rate limit: a tiny-limit scenario, then reset back to the demo
    tiny = json.loads(json.dumps(scenario_doc))
    tiny["limits"]["requestsPerMinutePerToken"] = 2
    check(sim.call("POST", "/sim/v1/scenario", tiny).json == {"loaded": True}, "load tiny scenario")
    t = sim.token("demo-service", "demo-service-secret").json["access_token"]
    check(sim.call("GET", "/api/v2/tokens/me", token=t).status == 200, "rate 1")
    check(sim.call("GET", "/api/v2/tokens/me", token=t).header("inin-ratelimit-count") == "2", "rate 2")
    a = sim.call("GET", "/api/v2/tokens/me", token=t)
    expect_error(a, 429, "too.many.requests.retry.after", "rate limited")
    check(a.header("Retry-After") and int(a.header("Retry-After")) > 0 and a.json["limit"]["value"] == 2,
          "Retry-After and limit", a.json)
    sim.call("POST", "/sim/v1/clock/advance", {"seconds": 61})
    check(sim.call("GET", "/api/v2/tokens/me", token=t).status == 200, "new window after 60 s")
    check(sim.call("POST", "/sim/v1/scenario", {"users": [{"id": "u", "nmae": "x"}]}).json["path"] == "$.users[0].nmae",
          "scenario load error path")
    check(sim.call("POST", "/sim/v1/reset").status == 200, "reset")
    check(sim.call("GET", "/api/v2/tokens/me", token=t).status == 401, "tokens cleared by reset")
    check(sim.transcript(C(1)) == [], "transcripts cleared by reset")
    log = sim.call("GET", "/sim/v1/requests").json["entries"]
    check(log[0]["path"] == "/sim/v1/reset" and log[0]["seq"] == 1, "request log restarts at the reset", log[:2])
    t = sim.token("demo-service", "demo-service-secret").json["access_token"]
    check(sim.call("GET", "/api/v2/tokens/me", token=t).header("inin-ratelimit-allowed") == "2",
          "reset goes back to the last loaded scenario")
    check(sim.call("POST", "/sim/v1/scenario", scenario_doc).status == 200, "load the demo again")
    t = sim.token("demo-service", "demo-service-secret").json["access_token"]
    check(sim.call("GET", "/api/v2/tokens/me", token=t).header("inin-ratelimit-allowed") == "300", "demo limit back")

# ---- Faults -------------------------------------------------------------------------------------

SEND_PATTERN = "/api/v2/conversations/messages/*/communications/*/messages"


def raw_exchange(sim, method, path, body=None, token=None):
    """One request on a fresh socket; returns (every byte received until EOF, the error that ended
    the read or None). A dropped connection gives b"" with EOF or ConnectionResetError."""
    port = int(sim.base.rsplit(":", 1)[1])
    data = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {len(data)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    got, err = b"", None
    with socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT) as s:
        s.sendall(head.encode() + b"\r\n" + data)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError as e:
            err = e
    return got, err


def install(sim, spec, what):
    a = sim.call("POST", "/sim/v1/faults", spec)
    check(a.status == 201 and a.json["installed"] is True, f"install fault: {what}", a.json)
    return a.json["id"]


def log_entries(sim):
    return sim.call("GET", "/sim/v1/requests").json["entries"]


def fault_validation(sim):
    p = "/api/v2/tokens/me"
    cases = [
        ({"path": p, "status": 503, "kindd": "x"}, "kindd"),
        ({"path": p, "kind": "explode"}, "kind"),
        ({"path": p, "kind": "status"}, "status"),
        ({"path": p, "status": 399}, "status"),
        ({"path": p, "status": 503, "probability": 1.5}, "probability"),
        ({"path": p, "status": 503, "probability": "0.5"}, "probability"),
        ({"path": p, "status": 503, "everyNth": 0}, "everyNth"),
        ({"path": p, "status": 503, "everyNth": 2, "probability": 0.5}, "everyNth"),
        ({"path": p, "status": 503, "times": -1}, "times"),
        ({"path": p, "status": 503, "retryAfter": 1.5}, "retryAfter"),
        ({"path": p, "status": 503, "latencyMs": 10}, "latencyMs"),
        ({"path": p, "status": 503, "then": "reset"}, "then"),
        ({"path": p, "status": 503, "method": "get"}, "method"),
        ({"path": p, "status": 503, "id": "has space"}, "id"),
        ({"path": p, "kind": "latency"}, "latencyMs"),
        ({"path": p, "kind": "latency", "latencyMs": 60001}, "latencyMs"),
        ({"path": p, "kind": "latency", "latencyMs": 10, "status": 500}, "status"),
        ({"path": p, "kind": "reset", "code": "x"}, "code"),
        ({"path": p, "kind": "commit-then-fail", "status": 409}, "status"),
        ({"path": p, "kind": "commit-then-fail", "then": "explode"}, "then"),
        ({"path": p, "kind": "commit-then-fail", "then": "reset", "status": 503}, "status"),
        ({"status": 503}, "path"),
        ({"path": "/sim/v1/health", "status": 503}, "path"),
        ({"path": "api/v2/tokens/me", "status": 503}, "path"),
    ]
    for spec, field in cases:
        a = sim.call("POST", "/sim/v1/faults", spec)
        check(a.status == 400 and a.json["path"] == "$." + field and f"'{field}'" in a.json["error"],
              f"fault validation names {field}", {"spec": spec, "answer": a.json})
    install(sim, {"id": "dup", "path": p, "status": 503}, "with an id")
    a = sim.call("POST", "/sim/v1/faults", {"id": "dup", "path": p, "status": 500})
    check(a.status == 400 and a.json["path"] == "$.id", "a fault id is unique", a.json)
    check(sim.call("GET", "/sim/v1/faults").json["faults"][0]["id"] == "dup", "GET faults shows the id")
    check(sim.call("DELETE", "/sim/v1/faults").json == {"cleared": 1}, "only the valid fault was installed")


def fault_kinds(sim):
    service = sim.token("demo-service", "demo-service-secret").json["access_token"]
    alice = sim.user_token(ALICE)
    me = "/api/v2/tokens/me"

    # status: 429 always carries Retry-After (3 by default, as Genesys); a 503 only when asked
    fid = install(sim, {"method": "GET", "path": me, "status": 429}, "429")
    a = sim.call("GET", me, token=service)
    expect_error(a, 429, "too.many.requests", "injected 429")
    check(a.header("Retry-After") == "3", "an injected 429 has Retry-After 3 by default", dict(a.headers))
    install(sim, {"method": "GET", "path": me, "status": 503}, "503 without Retry-After")
    a = sim.call("GET", me, token=service)
    expect_error(a, 503, "service.unavailable", "injected 503")
    check(a.header("Retry-After") is None, "no Retry-After unless asked", dict(a.headers))
    log = [e for e in log_entries(sim) if e["path"] == me][-2:]
    check(log[0]["fault"] == {"id": fid, "kind": "status"} and log[0]["status"] == 429 and
          log[1]["fault"]["kind"] == "status" and log[1]["status"] == 503, "the log names the status faults", log)

    # every Nth, limited by times: fires on the 3rd and 6th matching request, then is gone
    install(sim, {"id": "nth", "method": "GET", "path": me, "status": 500, "everyNth": 3, "times": 2}, "everyNth")
    statuses = [sim.call("GET", me, token=service).status for _ in range(9)]
    check(statuses == [200, 200, 500, 200, 200, 500, 200, 200, 200], "everyNth 3, times 2", statuses)
    check(sim.call("GET", "/sim/v1/faults").json["faults"] == [], "a used-up fault is removed")
    fired = [e.get("fault", {}).get("id") for e in log_entries(sim) if e["path"] == me][-9:]
    check(fired == [None, None, "nth", None, None, "nth", None, None, None], "the log shows every firing", fired)

    # the same fault id, installed again with the same seed, fires on the same requests
    def draw():
        install(sim, {"id": "p", "method": "GET", "path": me, "status": 503, "probability": 0.3}, "probability")
        seq = [sim.call("GET", me, token=service).status for _ in range(30)]
        f = sim.call("GET", "/sim/v1/faults").json["faults"][0]
        check(f["seen"] == 30 and f["fired"] == seq.count(503) and f["probability"] == 0.3, "counters", f)
        sim.call("DELETE", "/sim/v1/faults")
        return seq
    first = draw()
    check(first == draw(), "a fault's draws depend only on --seed and its id", first)
    check(0 < first.count(503) < 30, "probability 0.3 fires on some requests, not all", first)

    # latency: the request waits, other requests go on meanwhile, then it is served normally
    install(sim, {"id": "slow", "method": "GET", "path": me, "kind": "latency", "latencyMs": 2000}, "latency")
    result = {}
    slow = threading.Thread(target=lambda: result.update(a=sim.call("GET", me, token=service)))
    started = time.monotonic()
    slow.start()
    deadline = started + HTTP_TIMEOUT
    # the fault is removed when it fires: poll the admin API (which must answer meanwhile)
    while any(f["id"] == "slow" for f in sim.call("GET", "/sim/v1/faults").json["faults"]):
        check(time.monotonic() < deadline, "the delayed request reached gcsim")
        time.sleep(0.005)
    check(slow.is_alive(), "other requests are answered while a latency fault waits")
    check(sim.call("GET", "/sim/v1/health").status == 200, "health during a latency fault")
    slow.join(HTTP_TIMEOUT)
    elapsed = time.monotonic() - started
    check(not slow.is_alive() and result["a"].status == 200, "served normally after the delay", result)
    check(elapsed >= 1.8, "the delay was about latencyMs", elapsed)
    e = [e for e in log_entries(sim) if e["path"] == me][-1]
    check(e["fault"] == {"id": "slow", "kind": "latency", "latencyMs": 2000} and e["status"] == 200,
          "the log names the latency fault", e)

    # reset: no byte of an answer, logged with status null
    got, _ = raw_exchange(sim, "GET", me, token=service)
    check(got.startswith(b"HTTP/1.1 200"), "raw request without a fault is answered", got[:100])
    install(sim, {"id": "drop", "method": "GET", "path": me, "kind": "reset"}, "reset")
    got, err = raw_exchange(sim, "GET", me, token=service)
    check(got == b"", "reset: the client gets no answer (EOF or ECONNRESET)", {"got": got[:200].decode("latin-1"),
                                                                             "err": str(err)})
    e = [e for e in log_entries(sim) if e["path"] == me][-1]
    check(e["fault"] == {"id": "drop", "kind": "reset"} and e["status"] is None and e["responseBody"] is None,
          "the log shows the dropped request", e)
    check(sim.call("GET", me, token=service).status == 200, "gcsim serves on after a reset")

    # commit-then-fail: the message IS recorded, the client gets a 503
    send = f"/api/v2/conversations/messages/{C(1)}/communications/{COMM(1, 3)}/messages"
    before = len(sim.transcript(C(1)))
    install(sim, {"id": "ctf", "method": "POST", "path": SEND_PATTERN, "kind": "commit-then-fail"}, "ctf")
    a = sim.call("POST", send, {"textBody": "Committed, then 503"}, token=alice)
    expect_error(a, 503, "service.unavailable", "commit-then-fail answer")
    new = sim.transcript(C(1))[before:]
    check(len(new) == 1 and new[0]["text"] == "Committed, then 503" and new[0]["committedThenFailed"] is True and
          new[0]["faultId"] == "ctf", "commit-then-fail: the message is in the transcript, marked", new)
    e = [e for e in log_entries(sim) if e["path"] == send][-1]
    check(e["status"] == 503 and e["responseBody"]["code"] == "service.unavailable" and
          e["fault"] == {"id": "ctf", "kind": "commit-then-fail", "then": "status", "handledStatus": 200},
          "the log shows what the client saw and what was handled", e)
    # ... with its own status and Retry-After
    install(sim, {"id": "ctf500", "method": "POST", "path": SEND_PATTERN, "kind": "commit-then-fail", "status": 502,
                  "code": "bad.gateway", "retryAfter": 5}, "ctf 502")
    a = sim.call("POST", send, {"textBody": "Committed, then 502"}, token=alice)
    expect_error(a, 502, "bad.gateway", "commit-then-fail 502")
    check(a.header("Retry-After") == "5", "commit-then-fail Retry-After", dict(a.headers))
    # ... or a dropped connection
    install(sim, {"id": "ctf-drop", "method": "POST", "path": SEND_PATTERN, "kind": "commit-then-fail",
                  "then": "reset"}, "ctf then reset")
    got, err = raw_exchange(sim, "POST", send, {"textBody": "Committed, then dropped"}, token=alice)
    check(got == b"", "commit-then-fail then reset: no answer", {"got": got[:200].decode("latin-1"), "err": str(err)})
    new = sim.transcript(C(1))[before:]
    check([(n["text"], n["faultId"]) for n in new] ==
          [("Committed, then 503", "ctf"), ("Committed, then 502", "ctf500"), ("Committed, then dropped", "ctf-drop")],
          "every commit-then-fail send is recorded once", new)
    e = [e for e in log_entries(sim) if e["path"] == send][-1]
    check(e["status"] is None and e["fault"]["then"] == "reset" and e["fault"]["handledStatus"] == 200,
          "the log shows the dropped commit", e)
    a = sim.call("POST", send, {"textBody": "No fault"}, token=alice)
    check(a.status == 200 and "committedThenFailed" not in sim.transcript(C(1))[-1], "later sends are not marked",
          sim.transcript(C(1))[-1])
    # a refused request under commit-then-fail: nothing recorded, the client still gets the 503
    install(sim, {"id": "ctf-refused", "method": "POST", "path": SEND_PATTERN, "kind": "commit-then-fail"}, "ctf 400")
    n = len(sim.transcript(C(1)))
    expect_error(sim.call("POST", send, {"textBody": ""}, token=alice), 503, "service.unavailable", "ctf on a 400")
    check(len(sim.transcript(C(1))) == n, "a refused request records nothing")
    e = [e for e in log_entries(sim) if e["path"] == send][-1]
    check(e["fault"]["handledStatus"] == 400, "handledStatus shows the refusal", e)
    check(sim.call("GET", "/sim/v1/faults").json["faults"] == [], "every fault used up")


def fired_sequence(gcsim, scenario, workdir, seed):
    """A fresh gcsim with --seed: which of 40 matching requests a probability fault fires on."""
    os.makedirs(workdir)
    sim = Sim(gcsim, scenario, workdir, seed=seed)
    try:
        t = sim.token("demo-service", "demo-service-secret").json["access_token"]
        install(sim, {"id": "chaos", "path": "/api/v2/tokens/me", "status": 503, "probability": 0.25}, "seeded")
        statuses = [sim.call("GET", "/api/v2/tokens/me", token=t).status for _ in range(40)]
        logged = [e.get("fault", {}).get("id") == "chaos" for e in log_entries(sim) if e["path"] == "/api/v2/tokens/me"]
        check(logged == [s == 503 for s in statuses], "the log shows each firing", logged)
    finally:
        code = sim.stop()
    check(code == 0, "gcsim exits 0 on SIGTERM", code)
    return statuses


def seeded_runs(gcsim, scenario, workdir):
    a = fired_sequence(gcsim, scenario, os.path.join(workdir, "seed-a"), 11)
    b = fired_sequence(gcsim, scenario, os.path.join(workdir, "seed-b"), 11)
    c = fired_sequence(gcsim, scenario, os.path.join(workdir, "seed-c"), 12)
    check(a == b, "same --seed, same requests: the same faults", {"a": a, "b": b})
    check(0 < a.count(503) < 40, "probability 0.25 fires on some requests", a)
    check(a != c, "another seed draws differently", {"a": a, "c": c})


def scenario_faults(gcsim, scenario_doc, workdir):
    d = os.path.join(workdir, "scenario-faults")
    os.makedirs(d)
    doc = json.loads(json.dumps(scenario_doc))
    doc["faults"] = [{"method": "GET", "path": "/api/v2/tokens/me", "status": 503, "everyNth": 2},
                     {"id": "drop-token", "path": "/oauth/token", "kind": "reset"}]
    path = os.path.join(d, "faults.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    sim = Sim(gcsim, path, d)
    try:
        faults = sim.call("GET", "/sim/v1/faults").json["faults"]
        check([(f["id"], f["kind"], f["times"]) for f in faults] == [("s1", "status", 0), ("drop-token", "reset", 1)],
              "scenario faults installed, ids given or s<N>", faults)
        got, _ = raw_exchange(sim, "POST", "/oauth/token")
        check(got == b"", "scenario reset fault on /oauth/token", got[:200])
        t = sim.token("demo-service", "demo-service-secret").json["access_token"]
        statuses = [sim.call("GET", "/api/v2/tokens/me", token=t).status for _ in range(4)]
        check(statuses == [200, 503, 200, 503], "scenario everyNth fault", statuses)
        check(sim.call("POST", "/sim/v1/reset").status == 200, "reset")
        faults = sim.call("GET", "/sim/v1/faults").json["faults"]
        check([(f["id"], f["seen"]) for f in faults] == [("s1", 0), ("drop-token", 0)],
              "reset puts the scenario's faults back, counters at 0", faults)
        check(sim.call("POST", "/sim/v1/scenario", scenario_doc).status == 200, "load a scenario without faults")
        check(len(sim.call("GET", "/sim/v1/faults").json["faults"]) == 2, "a scenario without 'faults' keeps them")
        bad = json.loads(json.dumps(doc))
        bad["faults"][1]["kind"] = "latency"
        a = sim.call("POST", "/sim/v1/scenario", bad)
        check(a.status == 400 and a.json["path"] == "$.faults[1].latencyMs", "admin scenario: bad fault path", a.json)
        no_faults = dict(doc, faults=[])
        check(sim.call("POST", "/sim/v1/scenario", no_faults).status == 200, "load a scenario with faults: []")
        check(sim.call("GET", "/sim/v1/faults").json["faults"] == [], "'faults': [] clears them")
    finally:
        code = sim.stop()
    check(code == 0, "gcsim exits 0 on SIGTERM", code)

    for faults, where in (([{"path": "/api/v2/x", "status": 503, "kindd": "reset"}], "$.faults[0].kindd"),
                          ([{"path": "/x", "status": 503}, {"path": "/x", "status": 503, "probability": 2}],
                           "$.faults[1].probability"),
                          ([{"id": "a", "path": "/x", "status": 503}, {"id": "a", "path": "/y", "status": 500}],
                           "$.faults[1].id"),
                          ({"path": "/x"}, "$.faults")):
        doc["faults"] = faults
        with open(path, "w") as f:
            json.dump(doc, f)
        p = subprocess.run([gcsim, "--scenario", path], capture_output=True, text=True, timeout=30)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2 and len(lines) == 1 and f": {where}: " in lines[0],
              f"bad scenario fault: one line naming {where}", p.stderr)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    gcsim, scenario = sys.argv[1], sys.argv[2]
    with open(scenario) as f:
        scenario_doc = json.load(f)
    with tempfile.TemporaryDirectory(prefix="gcsim-smoke-") as workdir:
        sim = None
        try:
            bad_scenarios(gcsim, scenario, workdir)
            sim = Sim(gcsim, scenario, workdir)
            run(sim, scenario_doc)
            check(sim.call("POST", "/sim/v1/reset").status == 200, "reset before the fault tests")
            fault_validation(sim)
            fault_kinds(sim)
            code = sim.stop()
            keep = os.environ.get("GCSIM_SMOKE_KEEP_LOG")  # for checking the traffic by hand
            if keep:
                with open(sim.log_file) as src, open(keep, "w") as dst:
                    dst.write(src.read())
            sim = None
            check(code == 0, "gcsim exits 0 on SIGTERM", code)
            seeded_runs(gcsim, scenario, workdir)
            scenario_faults(gcsim, scenario_doc, workdir)
        except Failure as e:
            print(f"FAIL: {e}")
            if sim is not None:
                print("gcsim stderr (tail):\n" + sim.stderr_text())
            return 1
        finally:
            if sim is not None:
                try:
                    sim.stop()
                except Failure:
                    pass
    print("PASS sim_smoke")
    return 0


if __name__ == "__main__":
    sys.exit(main())
