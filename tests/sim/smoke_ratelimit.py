#!/usr/bin/env python3
"""Smoke test of gcsim's rate-limit window (limits.rateLimitWindowSeconds) and the
inin-ratelimit-count/-allowed/-reset headers on every kind of /api/v2/ answer (200, 401, 403, 404,
429 from the limit, an injected fault), with gcsim's clock frozen (POST /sim/v1/clock/freeze) so
that every value is exact; the scenario key's validation; the clock admin calls.

Usage: smoke_ratelimit.py PATH/TO/gcsim PATH/TO/scenarios/demo.json
Standard library only. Exit 0 on success, 1 on the first failure (with the reason).
"""
import json
import sys

from simlib import ALICE, BOB, C, check, expect_error, run_main

ME = "/api/v2/tokens/me"


def headers(a):
    return (a.header("inin-ratelimit-count"), a.header("inin-ratelimit-allowed"), a.header("inin-ratelimit-reset"))


def expect_headers(a, count, allowed, reset, what):
    got = headers(a)
    check(got == (str(count), str(allowed), str(reset)), f"{what}: inin-ratelimit-count/-allowed/-reset "
          f"{count}/{allowed}/{reset}", {"status": a.status, "got": got})


def advance(sim, seconds):
    a = sim.call("POST", "/sim/v1/clock/advance", {"seconds": seconds})
    check(a.status == 200, "clock advance", a.json)


def clock_admin(sim):
    a = sim.call("POST", "/sim/v1/clock/freeze")
    check(a.status == 200 and a.json["frozen"] is True, "freeze the clock", a.json)
    now = a.json["now"]
    check(sim.call("POST", "/sim/v1/clock/freeze").json == {"now": now, "frozen": True}, "frozen: time stands still")
    a = sim.call("POST", "/sim/v1/clock/advance", {"seconds": 1.5})
    check(a.json["now"] > now and sim.call("POST", "/sim/v1/clock/freeze").json["now"] == a.json["now"],
          "advance moves a frozen clock, which then stands still again", a.json)
    a = sim.call("POST", "/sim/v1/clock/resume")
    check(a.status == 200 and a.json["frozen"] is False and a.json["now"] >= now, "resume goes on from there", a.json)
    a = sim.call("POST", "/sim/v1/clock/freeze", {"at": now})
    check(a.status == 400 and a.json["path"] == "$.at", "clock/freeze takes no keys", a.json)
    check(sim.call("POST", "/sim/v1/clock/freeze").status == 200, "freeze again")
    check(sim.call("POST", "/sim/v1/reset").status == 200, "reset")
    check(sim.call("POST", "/sim/v1/clock/resume").json["frozen"] is False, "reset unfroze the clock")


def validation(sim):
    for value in (0, 3601, "5", 2.5, None):
        a = sim.call("POST", "/sim/v1/scenario", {"limits": {"rateLimitWindowSeconds": value}})
        check(a.status == 400 and a.json["path"] == "$.limits.rateLimitWindowSeconds",
              f"rateLimitWindowSeconds {value!r} refused", a.json)
    for value in (1, 3600):
        a = sim.call("POST", "/sim/v1/scenario", {"limits": {"rateLimitWindowSeconds": value}})
        check(a.status == 200, f"rateLimitWindowSeconds {value} accepted", a.json)


def default_window(sim, scenario_doc):
    check(sim.call("POST", "/sim/v1/scenario", scenario_doc).status == 200, "load the demo")
    check(sim.call("POST", "/sim/v1/clock/freeze").status == 200, "freeze")
    service = sim.token("demo-service", "demo-service-secret").json["access_token"]
    expect_headers(sim.call("GET", ME, token=service), 1, 300, 60, "default: a 60-second window")
    advance(sim, 59.001)
    expect_headers(sim.call("GET", ME, token=service), 2, 300, 1, "default: the last second of the window")
    advance(sim, 0.999)
    expect_headers(sim.call("GET", ME, token=service), 1, 300, 60, "default: a new window after 60 s")
    check(sim.call("POST", "/sim/v1/clock/resume").status == 200, "resume")


def short_window(sim, scenario_doc):
    doc = json.loads(json.dumps(scenario_doc))
    doc["limits"].update({"requestsPerMinutePerToken": 3, "rateLimitWindowSeconds": 5})
    check(sim.call("POST", "/sim/v1/scenario", doc).status == 200, "load a 3-per-5-seconds scenario")
    check(sim.call("POST", "/sim/v1/clock/freeze").status == 200, "freeze")
    service = sim.token("demo-service", "demo-service-secret").json["access_token"]
    readonly = sim.token("demo-readonly", "demo-readonly-secret").json["access_token"]
    bob = sim.user_token(BOB)

    # answers without a valid token: count 0, a whole window
    expect_headers(sim.call("GET", ME), 0, 3, 5, "401 without a token")
    expect_headers(sim.call("GET", ME, token="nope"), 0, 3, 5, "401 with an unknown token")
    expect_headers(sim.call("GET", "/api/v2/no/such/route", token=service), 0, 3, 5, "404 of an unknown path")
    a = sim.call("POST", "/sim/v1/faults", {"method": "GET", "path": ME, "status": 503, "times": 1})
    check(a.status == 201, "install a fault", a.json)
    a = sim.call("GET", ME, token=service)
    check(a.status == 503, "faulted", a.json)
    expect_headers(a, 0, 3, 5, "503 from a fault (before authentication)")

    # the window opens with the token's first counted request
    expect_headers(sim.call("GET", ME, token=service), 1, 3, 5, "first request")
    advance(sim, 2)
    expect_headers(sim.call("HEAD", ME, token=service), 2, 3, 3, "HEAD counts, 3 s left")
    a = sim.call("GET", f"/api/v2/conversations/{C(1)}", token=bob)
    check(a.status == 200, "Bob reads a conversation", a.json)
    expect_headers(a, 1, 3, 5, "another token has its own window")
    expect_headers(sim.call("GET", ME, token=service), 3, 3, 3, "third request: at the limit")
    a = sim.call("GET", ME, token=service)
    expect_error(a, 429, "too.many.requests.retry.after", "fourth request in the window")
    expect_headers(a, 4, 3, 3, "429")
    check(a.header("Retry-After") == "3", "Retry-After = seconds left in the window", a.header("Retry-After"))
    check("3 requests per 5 seconds" in a.json["message"] and a.json["messageParams"]["retryAfter"] == "3" and
          a.json["limit"] == {"key": "token.rate.per.minute", "namespace": "platform.api", "value": 3},
          "429 body names the limit and the window", a.json)
    advance(sim, 2.5)
    a = sim.call("POST", f"/api/v2/conversations/messages/{C(1)}/messages/bulk", [], token=service)
    expect_error(a, 429, "too.many.requests.retry.after", "still throttled half a second before the end")
    expect_headers(a, 5, 3, 1, "429, reset rounds the half second up")
    advance(sim, 0.5)
    a = sim.call("GET", ME, token=service)
    check(a.status == 200, "a new window after 5 s", a.json)
    expect_headers(a, 1, 3, 5, "new window")
    a = sim.call("POST", f"/api/v2/conversations/messages/{C(9)}/communications/x/messages", {"textBody": "hi"},
                 token=readonly)
    expect_error(a, 403, "missing.any.permissions", "a 403")
    expect_headers(a, 1, 3, 5, "403 (counted: permissions come after the rate limit)")
    a = sim.call("GET", "/api/v2/users/me", token=readonly)
    expect_error(a, 400, "bad.request", "a 400")
    expect_headers(a, 2, 3, 5, "400")
    alice = sim.user_token(ALICE)
    check(sim.call("DELETE", ME, token=alice).status == 200, "DELETE tokens/me")
    expect_headers(sim.call("GET", ME, token=alice), 0, 3, 5, "401 of the revoked token")


def body(sim, gcsim, scenario_doc, workdir):
    clock_admin(sim)
    validation(sim)
    default_window(sim, scenario_doc)
    short_window(sim, scenario_doc)
    check(sim.call("POST", "/sim/v1/reset").status == 200, "reset")


if __name__ == "__main__":
    sys.exit(run_main("sim_ratelimit", __doc__, body))
