"""Shared by the delivery tests (chaos, crash, token expiry, webhooks, leaks): a real gcsim
started from a generated scenario, the real gcmsg binary run with a private HOME and store, and
the bookkeeping that turns transcripts and the request log into "lost" and "duplicated".

Nothing here sleeps to synchronise: waits poll a real condition in a bounded loop."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from run_case import Sim, CaseFailure  # noqa: E402,F401

ORG = "55555555-0000-4000-8000-00000000d001"
AGENT = "22222222-0000-4000-8000-00000000d001"
SERVICE, SERVICE_SECRET = "delivery-service", "delivery-service-secret-0123456789abcdef"
MESSAGE_POST = "/api/v2/conversations/messages/*/communications/*/messages"
AGENTLESS_POST = "/api/v2/conversations/messages/agentless"
PERMS = ["conversation:message:create", "conversation:webmessaging:create",
         "conversation:communication:view", "conversation:message:view",
         "conversation:webmessaging:view"]


def conv_id(i):
    return f"11111111-0000-4000-8000-{i:012d}"


def sms_conversation(i):
    """An SMS conversation with a connected agent: the service sends agentless into it."""
    return {
        "id": conv_id(i), "media": "message", "platform": "sms", "state": "connected",
        "startTime": "2026-11-21T09:00:00Z",
        "participants": [
            {"id": f"33333333-0000-4000-8000-{i:012d}", "purpose": "customer", "name": f"Customer {i}",
             "address": f"+1555{i:07d}",
             "communication": {"id": f"44444444-0000-4000-8000-{i:012d}",
                               "fromAddress": f"+1555{i:07d}", "toAddress": "+15550009999"}},
            {"id": f"33333333-0000-4001-8000-{i:012d}", "purpose": "agent", "userId": AGENT,
             "name": "Dana Agent", "communication": {"id": f"44444444-0000-4001-8000-{i:012d}"}},
        ],
    }


def web_conversation(i):
    """A web messaging conversation: only the connected agent's user token can send into it."""
    return {
        "id": conv_id(i), "media": "message", "platform": "webmessaging", "state": "connected",
        "startTime": "2026-11-21T09:00:00Z",
        "participants": [
            {"id": f"33333333-0000-4000-8000-{i:012d}", "purpose": "customer", "name": f"Guest {i}",
             "communication": {"id": f"44444444-0000-4000-8000-{i:012d}",
                               "fromAddress": f"guest-{i}", "toAddress": "77777777-0000-4000-8000-000000000001"}},
            {"id": f"33333333-0000-4001-8000-{i:012d}", "purpose": "agent", "userId": AGENT,
             "name": "Dana Agent", "communication": {"id": f"44444444-0000-4001-8000-{i:012d}"}},
        ],
    }


def scenario(n_sms, n_web, token_lifetime=86400, rate=100000, faults=None, extra=None):
    """Conversations 1..n_sms are SMS (agentless), n_sms+1..n_sms+n_web web messaging (agent)."""
    doc = {
        "org": {"id": ORG, "name": "Delivery Test Org"},
        "limits": {"requestsPerMinutePerToken": rate},
        "clients": [{"id": SERVICE, "secret": SERVICE_SECRET, "name": "Delivery service",
                     "grants": ["client-credentials"], "tokenLifetimeSeconds": token_lifetime,
                     "permissions": PERMS}],
        "users": [{"id": AGENT, "name": "Dana Agent", "email": "dana@example.com", "permissions": PERMS}],
        "conversations": [sms_conversation(i) for i in range(1, n_sms + 1)] +
                         [web_conversation(i) for i in range(n_sms + 1, n_sms + n_web + 1)],
    }
    if faults is not None:
        doc["faults"] = faults
    if extra:
        doc.update(extra)
    return doc


class Run:
    """A gcsim with a scenario, a private HOME/store for gcmsg, and helpers to drive both."""

    def __init__(self, gcsim, gcmsg, name, scenario_doc, log_dir=None):
        self.gcmsg = gcmsg
        self.workdir = tempfile.mkdtemp(prefix=f"gcmsg-{name}-")
        self.home = os.path.join(self.workdir, "home")
        self.store = os.path.join(self.workdir, "store")
        os.makedirs(self.home)
        path = os.path.join(self.workdir, "scenario.json")
        with open(path, "w") as f:
            json.dump(scenario_doc, f)
        log = os.path.join(log_dir or self.workdir, name + ".jsonl")
        if log_dir:
            os.makedirs(log_dir, exist_ok=True)
        self.sim = Sim(gcsim, path, log, self.workdir)
        self.agent_token = None

    def env(self, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESYSCLOUD_", "GCMSG_"))}
        env.update({"HOME": self.home, "GCMSG_API_URL": self.sim.base_url,
                    "GCMSG_LOGIN_URL": self.sim.base_url, "GCMSG_STORE": self.store})
        env.update(extra or {})
        return env

    def service_args(self):
        return ["--client-id", SERVICE, "--client-secret", SERVICE_SECRET]

    def agent_args(self):
        if self.agent_token is None:
            status, doc = self.sim.admin("POST", f"/sim/v1/users/{AGENT}/token", {"expiresIn": 86400})
            if status != 201:
                raise CaseFailure(f"minting the agent's token answered {status}")
            self.agent_token = doc["access_token"]
        return ["--access-token", self.agent_token]

    def gcmsg_argv(self, args):
        return [self.gcmsg] + args

    def run(self, args, env=None, timeout=120, check=None):
        proc = subprocess.run(self.gcmsg_argv(args), env=self.env(env), capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
        if check is not None and proc.returncode != check:
            raise CaseFailure(f"gcmsg {' '.join(args)} exited {proc.returncode}, expected {check}\n"
                              f"stdout: {out}\nstderr: {err}")
        return proc.returncode, out, err

    def popen(self, args, env=None):
        return subprocess.Popen(self.gcmsg_argv(args), env=self.env(env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def transcript(self, conv):
        status, doc = self.sim.admin("GET", f"/sim/v1/conversations/{conv}/transcript")
        if status != 200:
            raise CaseFailure(f"transcript of {conv} answered {status}")
        return doc["entries"]

    def requests(self):
        status, doc = self.sim.admin("GET", "/sim/v1/requests")
        if status != 200:
            raise CaseFailure(f"the request log answered {status}")
        return doc["entries"]

    def wait_fired(self, fault_id, timeout=30):
        """Until gcsim has taken a request with the fault: it counts the firing, and removes a fault
        whose `times` are used up, so either sign will do. Bounded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, doc = self.sim.admin("GET", "/sim/v1/faults")
            mine = [f for f in doc.get("faults", []) if f.get("id") == fault_id]
            if not mine or mine[0].get("fired", 0) >= 1:
                return
            time.sleep(0.02)
        raise CaseFailure(f"fault {fault_id} never fired")

    def cached_tokens(self):
        """Every token gcmsg keeps in its token cache (<store>/tokens/*.json), to search outputs for."""
        found = []
        tokens = os.path.join(self.store, "tokens")
        for name in sorted(os.listdir(tokens)) if os.path.isdir(tokens) else []:
            if name.endswith(".json"):
                with open(os.path.join(tokens, name)) as f:
                    doc = json.load(f)
                found += [doc[k] for k in ("accessToken", "refreshToken") if doc.get(k)]
        return found

    def wait_for_request(self, predicate, timeout=30):
        """Poll the request log until an entry matches; bounded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.requests():
                if predicate(e):
                    return e
            time.sleep(0.02)
        raise CaseFailure("the expected request never reached gcsim")

    def close(self):
        import shutil
        try:
            self.sim.stop()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


def outbound_texts(entries):
    """Texts of the outbound (agent or agentless) messages of a transcript."""
    return [e.get("text") for e in entries if e.get("direction", "outbound") == "outbound"
            and e.get("route") != "customer" and not e.get("typing")]


def count_copies(run, expected):
    """expected: {conversation id: text}. Returns (lost, duplicated, stray) lists."""
    lost, dup, stray = [], [], []
    for conv, text in expected.items():
        texts = outbound_texts(run.transcript(conv))
        n = texts.count(text)
        if n == 0:
            lost.append(conv)
        elif n > 1:
            dup.append((conv, n))
        if len(texts) != n:
            stray.append((conv, texts))
    return lost, dup, stray


def test_main(name, make_scenario, body, add_args=None):
    """The main of a delivery test: --gcsim, --gcmsg, --log-dir (and add_args(parser)'s), a Run of
    make_scenario(args), then body(run, args); a CaseFailure prints FAIL and gcsim's stderr.
    Returns the exit code."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--gcsim", required=True)
    ap.add_argument("--gcmsg", required=True)
    ap.add_argument("--log-dir")
    if add_args:
        add_args(ap)
    args = ap.parse_args()
    run = Run(args.gcsim, args.gcmsg, name, make_scenario(args), args.log_dir)
    try:
        return body(run, args)
    except CaseFailure as e:
        print(f"FAIL {name}: {e}")
        print("gcsim stderr (tail):\n" + run.sim.stderr_text())
        return 1
    finally:
        run.close()
