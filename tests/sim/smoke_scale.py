#!/usr/bin/env python3
"""Smoke test of gcsim at the scale of `gcmsg bulk`: a scenario of 20,000 conversations loads (within
the ordinary start timeout), every one of them is found, agentless messages join the right one of
many, concurrent keep-alive clients get exactly the answers and transcripts a serial client would,
thousands of tokens are each found, the per-token rate limit counts exactly under concurrency (no
count lost or doubled), and the global injected latency (--latency-ms, limits.latencyMs): the flag
wins over the scenario, health reports the latency in force, the request log names it on every
delayed request (and on none of the admin API's), bad values are refused with one line, and a stop
does not wait for a pending delay.

No assertion on how long anything took: the latency shows in what gcsim reports, not in a clock.

Usage: smoke_scale.py PATH/TO/gcsim
Standard library only. Exit 0 on success, 1 on the first failure (with the reason).
"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading

from simlib import HTTP_TIMEOUT, Failure, Sim, check, expect_error

AGENT = "22222222-0000-4000-8000-00000000d001"
SERVICE, SECRET = "scale-service", "scale-service-secret"
PERMS = ["conversation:message:create", "conversation:webmessaging:create", "conversation:communication:view",
         "conversation:message:view", "conversation:webmessaging:view"]
N_WEB = 20000
BUSINESS = "+15550009999"


def conv_id(i):
    return f"11111111-0000-4000-8000-{i:012d}"


def agent_comm(i):
    return f"44444444-0000-4001-8000-{i:012d}"


def web(i):
    return {"id": conv_id(i), "media": "message", "platform": "webmessaging", "startTime": "2026-11-21T09:00:00Z",
            "participants": [
                {"id": f"33333333-0000-4000-8000-{i:012d}", "purpose": "customer", "name": f"Guest {i}",
                 "communication": {"id": f"44444444-0000-4000-8000-{i:012d}", "fromAddress": f"guest-{i}",
                                   "toAddress": "77777777-0000-4000-8000-000000000001"}},
                {"id": f"33333333-0000-4001-8000-{i:012d}", "purpose": "agent", "userId": AGENT,
                 "communication": {"id": agent_comm(i)}}]}


def sms(i, customer):
    """An SMS conversation whose customer is `customer` (several share one, to test the order)."""
    return {"id": conv_id(i), "media": "message", "platform": "sms", "startTime": "2026-11-21T09:00:00Z",
            "participants": [
                {"id": f"33333333-0000-4000-8000-{i:012d}", "purpose": "customer", "address": customer,
                 "communication": {"id": f"44444444-0000-4000-8000-{i:012d}", "toAddress": BUSINESS}},
                {"id": f"33333333-0000-4001-8000-{i:012d}", "purpose": "agent", "userId": AGENT,
                 "communication": {"id": agent_comm(i)}}]}


def scenario(latency=None, rpm=1000000, window=60):
    limits = {"requestsPerMinutePerToken": rpm, "rateLimitWindowSeconds": window}
    if latency is not None:
        limits["latencyMs"] = latency
    convs = [web(i) for i in range(1, N_WEB + 1)]
    # 3 SMS conversations of one customer (the first will be ended), 1 of another
    convs += [sms(N_WEB + 1, "+15551110001"), sms(N_WEB + 2, "+15551110001"), sms(N_WEB + 3, "+15551110001"),
              sms(N_WEB + 4, "+15551110002")]
    return {"org": {"name": "Scale"}, "limits": limits,
            "clients": [{"id": SERVICE, "secret": SECRET, "permissions": PERMS}],
            "users": [{"id": AGENT, "name": "Dana Agent", "permissions": PERMS}],
            "conversations": convs}


def write(workdir, name, doc):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


class Client:
    """One keep-alive connection (http.client), as a bulk sender holds it."""

    def __init__(self, sim, token):
        host, port = sim.base[len("http://"):].split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=HTTP_TIMEOUT)
        self.h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=self.h)
        r = self.conn.getresponse()
        raw = r.read()
        return r.status, dict(r.getheaders()), json.loads(raw) if raw else None

    def close(self):
        self.conn.close()


def run_threads(n, target):
    errors = []

    def wrap(k):
        try:
            target(k)
        except Exception as e:  # noqa: BLE001 - reported below, with the thread
            errors.append(f"thread {k}: {e!r}")
    threads = [threading.Thread(target=wrap, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HTTP_TIMEOUT * 10)
    check(not errors and not any(t.is_alive() for t in threads), "every client thread finished cleanly", errors[:5])


def log_entries(sim):
    a = sim.call("GET", "/sim/v1/requests")
    check(a.status == 200, "request log 200", a.json)
    return a.json["entries"]


def big_org(sim):
    """20,000 conversations from the scenario: found by id (the last too), with the latency of the scenario."""
    a = sim.call("GET", "/sim/v1/health")
    check(a.status == 200 and a.json["latencyMs"] == 7, "health reports the scenario's limits.latencyMs", a.json)
    user = sim.user_token(AGENT)
    for i in (1, N_WEB // 2, N_WEB):
        a = sim.call("GET", f"/api/v2/conversations/{conv_id(i)}", token=user)
        check(a.status == 200 and a.json["id"] == conv_id(i), f"conversation {i} of {N_WEB} is found", a.json)
    expect_error(sim.call("GET", f"/api/v2/conversations/{conv_id(N_WEB + 99)}", token=user), 404, "not.found",
                 "an unknown conversation among 20,000")
    a = sim.call("POST", "/sim/v1/conversations", web(N_WEB + 99))
    check(a.status == 201, "the admin API adds a conversation to 20,000", a.json)
    check(sim.call("GET", f"/api/v2/conversations/{conv_id(N_WEB + 99)}", token=user).status == 200,
          "the added conversation is found")
    a = sim.call("POST", "/sim/v1/conversations", web(N_WEB))
    check(a.status == 400 and a.json["path"] == "$.id" and "used twice" in a.json["error"],
          "a conversation id already in the org is refused", a.json)
    a = sim.call("POST", "/sim/v1/conversations", dict(web(N_WEB + 98), participants=web(5)["participants"]))
    check(a.status == 400 and a.json["path"].endswith(".communication.id"),
          "a communication id of another of the 20,000 conversations is refused", a.json)


def agentless(sim):
    """An agentless message joins the first connected conversation of that customer (in scenario order)."""
    service = sim.token(SERVICE, SECRET).json["access_token"]
    body = lambda to: {"fromAddress": BUSINESS, "toAddress": to, "toAddressMessengerType": "sms",
                       "textBody": "Your order has shipped.", "useExistingActiveConversation": True}
    path = "/api/v2/conversations/messages/agentless"
    a = sim.call("POST", path, body("+15551110001"), token=service)
    check(a.status == 200 and a.json["conversationId"] == conv_id(N_WEB + 1), "joins the first of three", a.json)
    check(sim.call("POST", f"/sim/v1/conversations/{conv_id(N_WEB + 1)}/end").status == 200, "end the first")
    a = sim.call("POST", path, body("+15551110001"), token=service)
    check(a.status == 200 and a.json["conversationId"] == conv_id(N_WEB + 2),
          "the first is ended: joins the second", a.json)
    a = sim.call("POST", path, body("+15551110002"), token=service)
    check(a.status == 200 and a.json["conversationId"] == conv_id(N_WEB + 4), "another customer's own", a.json)
    a = sim.call("POST", path, body("+15551110003"), token=service)
    new = a.json.get("conversationId") if a.json else None
    check(a.status == 200 and new not in (conv_id(N_WEB + k) for k in range(1, 5)),
          "an unknown customer: a new conversation", a.json)
    a = sim.call("POST", path, body("+15551110003"), token=service)
    check(a.status == 200 and a.json["conversationId"] == new, "which the next message joins", a.json)


def concurrent_sends(sim):
    """16 keep-alive clients, each reading then sending into its own 25 conversations: every answer 200,
    every transcript exactly its messages, every request logged once with the latency it waited."""
    user = sim.user_token(AGENT)
    threads, per = 16, 25

    def client(k):
        cl = Client(sim, user)
        try:
            for j in range(per):
                i = 1 + (k * per + j) * 37 % N_WEB  # spread over the org
                status, _, doc = cl.call("GET", f"/api/v2/conversations/{conv_id(i)}")
                if status != 200 or doc["id"] != conv_id(i):
                    raise Failure(f"GET {i}: {status} {doc}")
                path = f"/api/v2/conversations/messages/{conv_id(i)}/communications/{agent_comm(i)}/messages"
                status, _, doc = cl.call("POST", path, {"textBody": f"message {k}/{j}"})
                if status != 200 or doc["textBody"] != f"message {k}/{j}":
                    raise Failure(f"POST {i}: {status} {doc}")
        finally:
            cl.close()
    run_threads(threads, client)
    for k in (0, threads - 1):
        for j in (0, per - 1):
            i = 1 + (k * per + j) * 37 % N_WEB
            texts = [e.get("text") for e in sim.transcript(conv_id(i))]
            check(texts == [f"message {k}/{j}"], f"conversation {i} holds exactly its message", texts)
    log = log_entries(sim)
    api = [e for e in log if not e["path"].startswith("/sim/")]
    admin = [e for e in log if e["path"].startswith("/sim/")]
    check(len([e for e in api if e["method"] == "POST" and "/communications/" in e["path"]]) == threads * per,
          "every send is logged once", len(api))
    check(all(e.get("latencyMs") == 7 for e in api), "every /oauth and /api/v2 request waited limits.latencyMs",
          [e for e in api if e.get("latencyMs") != 7][:2])
    check(admin and all("latencyMs" not in e for e in admin), "the admin API is not delayed",
          [e for e in admin if "latencyMs" in e][:2])
    seqs = [e["seq"] for e in log]
    check(seqs == sorted(set(seqs)), "log sequence numbers are unique and in order", seqs[:20])


def many_tokens(sim):
    """2,000 tokens handed out: each is found (through the index), a revoked one is not."""
    tokens, lock = [], threading.Lock()

    def mint(k):
        for _ in range(250):
            t = sim.user_token(AGENT)
            with lock:
                tokens.append(t)
    run_threads(8, mint)
    check(len(set(tokens)) == 2000, "2,000 distinct tokens", len(set(tokens)))
    for t in (tokens[0], tokens[999], tokens[-1]):
        check(sim.call("GET", "/api/v2/tokens/me", token=t).status == 200, "a token among 2,000 is found")
    check(sim.call("DELETE", "/api/v2/tokens/me", token=tokens[999]).status == 200, "revoke one")
    expect_error(sim.call("GET", "/api/v2/tokens/me", token=tokens[999]), 401, "bad.credentials", "the revoked one")
    expect_error(sim.call("GET", "/api/v2/tokens/me", token=tokens[0][:-1] + "?"), 401, "bad.credentials",
                 "a token one character off")
    check(sim.call("GET", "/api/v2/tokens/me", token=tokens[1000]).status == 200, "its neighbour still works")


def exact_rate_limit(sim, workdir):
    """600 requests at once against a limit of 400 on one token: exactly 400 pass, 200 get 429, and the
    inin-ratelimit-count values are 1..600, each once."""
    doc = scenario(latency=0, rpm=400, window=3600)
    doc["conversations"] = doc["conversations"][:100]
    check(sim.call("POST", "/sim/v1/scenario", doc).status == 200, "load a 400-per-hour scenario")
    check(sim.call("POST", "/sim/v1/clock/freeze").status == 200, "freeze the clock (one window)")
    user = sim.user_token(AGENT)
    statuses, counts, lock = [], [], threading.Lock()

    def client(k):
        cl = Client(sim, user)
        try:
            for j in range(30):
                status, headers, _ = cl.call("GET", f"/api/v2/conversations/{conv_id(1 + (k * 30 + j) % 100)}")
                with lock:
                    statuses.append(status)
                    counts.append(int(headers["inin-ratelimit-count"]))
        finally:
            cl.close()
    run_threads(20, client)
    check(statuses.count(200) == 400 and statuses.count(429) == 200, "exactly the limit passes",
          {s: statuses.count(s) for s in set(statuses)})
    check(sorted(counts) == list(range(1, 601)), "every request counted once", sorted(counts)[:10])
    check(sim.call("POST", "/sim/v1/clock/resume").status == 200, "resume the clock")


def flag_wins(gcsim, workdir, small7, small):
    sim = Sim(gcsim, small7, os.path.join(workdir, "flag"), extra=("--latency-ms", "0"))
    try:
        a = sim.call("GET", "/sim/v1/health")
        check(a.json["latencyMs"] == 0, "--latency-ms 0 wins over limits.latencyMs 7", a.json)
        doc3 = scenario(latency=3)
        doc3["conversations"] = doc3["conversations"][:3]
        check(sim.call("POST", "/sim/v1/scenario", doc3).status == 200, "load a scenario with latencyMs 3")
        check(sim.call("GET", "/sim/v1/health").json["latencyMs"] == 0, "the flag wins over a loaded scenario too")
        user = sim.user_token(AGENT)
        check(sim.call("GET", f"/api/v2/conversations/{conv_id(1)}", token=user).status == 200, "read")
        e = [e for e in log_entries(sim) if e["path"].startswith("/api/")][-1]
        check("latencyMs" not in e, "no latency: no latencyMs in the log", e)
    finally:
        sim.stop()

    sim = Sim(gcsim, small, os.path.join(workdir, "noflag"))
    try:
        doc3 = scenario(latency=3)
        doc3["conversations"] = doc3["conversations"][:3]
        check(sim.call("POST", "/sim/v1/scenario", doc3).status == 200, "load a scenario with latencyMs 3")
        check(sim.call("GET", "/sim/v1/health").json["latencyMs"] == 3, "without the flag, the loaded scenario's")
        check(sim.call("POST", "/sim/v1/reset").status == 200, "reset")
        check(sim.call("GET", "/sim/v1/health").json["latencyMs"] == 3, "reset keeps the last loaded scenario's")
        del doc3["limits"]["latencyMs"]
        check(sim.call("POST", "/sim/v1/scenario", doc3).status == 200, "load a scenario without latencyMs")
        check(sim.call("GET", "/sim/v1/health").json["latencyMs"] == 0, "default 0")
        for value in (-1, 60001, "5", 2.5, None):
            a = sim.call("POST", "/sim/v1/scenario", {"limits": {"latencyMs": value}})
            check(a.status == 400 and a.json["path"] == "$.limits.latencyMs", f"latencyMs {value!r} refused", a.json)
        check(sim.call("POST", "/sim/v1/scenario", {"limits": {"latencyMs": 60000}}).status == 200, "60000 is fine")
        # a pending 60 s delay does not hold up the stop
        def pending():
            try:
                sim.call("GET", "/api/v2/tokens/me")
            except OSError:
                pass  # the stop drops it
        slow = threading.Thread(target=pending, daemon=True)
        slow.start()
    finally:
        code = sim.stop()  # Failure when gcsim takes more than 15 s to stop
    check(code == 0, "gcsim stops (exit 0) with a 60 s delay pending", code)


def bad_values(gcsim, workdir, small):
    for value in ("-1", "60001", "abc", "", "1.5", "20ms"):
        p = subprocess.run([gcsim, "--scenario", small, "--latency-ms", value], capture_output=True, text=True,
                           timeout=30)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2 and len(lines) == 1 and "--latency-ms" in lines[0] and f"'{value}'" in lines[0],
              f"--latency-ms {value!r}: exit 2, one line naming the flag and the value", p.stderr)
    doc = scenario(latency=60001)
    doc["conversations"] = doc["conversations"][:1]
    bad = write(workdir, "bad.json", doc)
    p = subprocess.run([gcsim, "--scenario", bad], capture_output=True, text=True, timeout=30)
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 2 and len(lines) == 1 and ": $.limits.latencyMs: " in lines[0],
          "limits.latencyMs 60001 in a file: exit 2, one line naming the path", p.stderr)
    p = subprocess.run([gcsim, "--help"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "--latency-ms" in p.stdout, "--help names --latency-ms", p.stdout)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    gcsim = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="gcsim-scale-") as workdir:
        for d in ("main", "flag", "noflag"):
            os.makedirs(os.path.join(workdir, d))
        big = write(workdir, "big.json", scenario(latency=7))
        small_doc = scenario()
        small_doc["conversations"] = small_doc["conversations"][:2]
        small = write(workdir, "small.json", small_doc)
        small_doc["limits"]["latencyMs"] = 7
        small7 = write(workdir, "small7.json", small_doc)
        sim = None
        try:
            bad_values(gcsim, workdir, small)
            sim = Sim(gcsim, big, os.path.join(workdir, "main"))  # a slow load fails here (start timeout)
            big_org(sim)
            agentless(sim)
            concurrent_sends(sim)
            many_tokens(sim)
            exact_rate_limit(sim, workdir)
            code = sim.stop()
            sim = None
            check(code == 0, "gcsim exits 0 on SIGTERM", code)
            flag_wins(gcsim, workdir, small7, small)
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
    print("PASS sim_scale")
    return 0


if __name__ == "__main__":
    sys.exit(main())
