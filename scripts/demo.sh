#!/usr/bin/env bash
# `make demo`: start gcsim on a free loopback port with the demo scenario, then show gcmsg
# inspecting a live web-messaging conversation, finding and rendering a canned response from
# the scenario's Response Management library, a dry run, a real send with typing, the
# transcript the customer received, a WhatsApp template sent by a service, and refusals that
# explain themselves.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${GCMSG_BIN_DIR:-$root/build/bin}
scenario=${GCMSG_DEMO_SCENARIO:-$root/scenarios/demo.json}
work=$(mktemp -d)
# the demo's own store (outbox, audit log): never the user's ~/.gcmsg
export GCMSG_STORE="$work/store"
sim_pid=""

cleanup() {
  if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
    kill -TERM "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() {                  # echo the command as a user would type it, then run it
  local a; printf '$'
  for a in "${@/#$bin\//}"; do
    case "$a" in *[[:space:]\'\"\?\*\$]*) printf ' "%s"' "$a" ;; *) printf ' %s' "$a" ;; esac
  done
  printf '\n'; "$@"
}

# Which conversations and people to use: read from the scenario by role, not by fixed id.
eval "$(python3 - "$scenario" <<'EOF'
import json, shlex, sys
s = json.load(open(sys.argv[1]))
def agent_of(c):
    for p in reversed(c["participants"]):
        if p.get("purpose") == "agent" and p.get("state", c["state"]) == "connected":
            return p.get("userId")
def pick(pred):
    return next(c for c in s["conversations"] if pred(c))
web = pick(lambda c: c["media"] == "message" and c.get("platform") == "webmessaging"
           and c["state"] == "connected" and agent_of(c))
third = pick(lambda c: c["media"] == "chat" and c.get("provider"))
service = next(c for c in s["clients"] if "conversation:message:create" in c.get("permissions", []))
# the canned response to show: the first plain one with declared substitutions
canned = next(r for r in s["responses"] if r.get("substitutions") and not r.get("responseType"))
library = next(l for l in s["libraries"] if l["id"] == canned["libraries"][0])
template = next(r for r in s["responses"] if r.get("responseType") == "MessagingTemplate")
whatsapp = pick(lambda c: c.get("platform") == "whatsapp" and c["state"] == "connected")
sms = pick(lambda c: c.get("platform") == "sms" and c["state"] == "connected")
print("canned=" + shlex.quote(canned["name"]))
print("library=" + shlex.quote(library["name"]))
print("template=" + shlex.quote(template["name"]))
print("whatsapp_conv=" + shlex.quote(whatsapp["id"]))
print("sms_conv=" + shlex.quote(sms["id"]))
print("web_conv=" + shlex.quote(web["id"]))
print("web_agent=" + shlex.quote(agent_of(web)))
print("third_conv=" + shlex.quote(third["id"]))
print("client_id=" + shlex.quote(service["id"]))
print("client_secret=" + shlex.quote(service["secret"]))
EOF
)"

step "Start gcsim, the local Genesys Cloud emulator"
"$bin/gcsim" --listen 127.0.0.1:0 --scenario "$scenario" --port-file "$work/port" --quiet >"$work/gcsim.out" 2>"$work/gcsim.err" &
sim_pid=$!
for _ in $(seq 1 500); do            # bounded wait for the port file (at most ~10 s)
  [ -s "$work/port" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/gcsim.err" >&2; exit 1; }
  sleep 0.02
done
[ -s "$work/port" ] || { echo "demo: gcsim did not start" >&2; exit 1; }
base="http://127.0.0.1:$(cat "$work/port")"
echo "gcsim is serving $scenario at $base"
export GCMSG_API_URL="$base" GCMSG_LOGIN_URL="$base"

step "An agent logs in (gcsim mints the user token her browser login would get)"
agent_token=$(curl -fsS -X POST "$base/sim/v1/users/$web_agent/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
export GENESYSCLOUD_ACCESS_TOKEN="$agent_token"
echo "GENESYSCLOUD_ACCESS_TOKEN is set for user $web_agent (gcmsg never prints it)"

step "Can we send into this conversation, and how?"
show "$bin/gcmsg" inspect "$web_conv"

step "The canned responses of the '$library' library (Genesys Response Management)"
show "$bin/gcmsg" responses list --library "$library"

step "One of them: its text and its substitutions"
show "$bin/gcmsg" responses show "$canned"

step "Rendered for this conversation: built-ins, the customer's attributes, defaults"
show "$bin/gcmsg" responses render "$canned" --conversation "$web_conv"

step "Validated against the content policy, exactly as send will check it"
show "$bin/gcmsg" validate --response "$canned" --conversation "$web_conv" --var ETA="2 hours"

step "Dry run: the rendered text and the exact request, nothing sent"
show "$bin/gcmsg" send "$web_conv" --response "$canned" --var ETA="2 hours" --dry-run

step "Send it, with a typing indicator first"
show "$bin/gcmsg" send "$web_conv" --response "$canned" --var ETA="2 hours" --typing --delay 300

step "An attachment, through Genesys' media upload flow (uploads, PUT, poll, mediaIds)"
python3 -c 'import base64,sys; sys.stdout.buffer.write(base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="))' >"$work/receipt.png"
show "$bin/gcmsg" send "$web_conv" --text "Here is your receipt." --attach "$work/receipt.png"

step "Sent again by mistake (a rerun of the same script): the outbox answers, the customer gets nothing twice"
show "$bin/gcmsg" send "$web_conv" --response "$canned" --var ETA="2 hours"

step "What the customer received (gcsim transcript)"
curl -fsS "$base/sim/v1/conversations/$web_conv/transcript" | python3 -c '
import json, sys
entries = json.load(sys.stdin)["entries"]
for e in entries:
    who = e.get("sender", {}).get("name") or e.get("sender", {}).get("clientId") or "?"
    what = "(typing...)" if e.get("typing") else repr(e.get("text")) if e.get("text") else \
        "[media " + ", ".join(m["name"] + " " + m["mediaType"] for m in e.get("media", [])) + "]"
    print(f"  {e['"'"'time'"'"']}  {e['"'"'route'"'"']:<16} {who:<16} {what}")
sys.exit(0 if any(not e.get("typing") and "{{" not in e.get("text", "") for e in entries) else 1)
'

step "A card number in a message is refused before anything is sent"
set +e
show "$bin/gcmsg" send "$web_conv" --text "Your card 4539 1488 0343 6467 has been blocked."
code=$?
set -e
echo "(exit code $code: refused by the content policy, nothing sent; the number is never echoed)"
[ "$code" -eq 5 ] || { echo "demo: expected exit 5 for the card number" >&2; exit 1; }

step "A value nobody can fill refuses the send: a literal {{...}} never reaches a customer"
set +e
show "$bin/gcmsg" send "$web_conv" --text "Your order {{OrderNumber}} has shipped."
code=$?
set -e
echo "(exit code $code: refused by content rules, nothing sent)"
[ "$code" -eq 5 ] || { echo "demo: expected exit 5 for the unresolved placeholder" >&2; exit 1; }

step "Now as a service with client credentials"
unset GENESYSCLOUD_ACCESS_TOKEN
export GENESYSCLOUD_OAUTHCLIENT_ID="$client_id" GENESYSCLOUD_OAUTHCLIENT_SECRET="$client_secret"
echo "now as the service: GENESYSCLOUD_OAUTHCLIENT_ID=$client_id (client credentials, secret in the environment)"
step "The service sends a WhatsApp template ('$template') through the agentless route"
show "$bin/gcmsg" send "$whatsapp_conv" --response "$template" --var 1=Maria --var 2=A-1042
curl -fsS "$base/sim/v1/conversations/$whatsapp_conv/transcript" | python3 -c '
import json, sys
e = json.load(sys.stdin)["entries"][-1]
print("  the customer received:", repr(e["text"]), "(template", e["messagingTemplate"]["responseId"] + ")")
'

step "A third-party chat cannot receive messages, and gcmsg says why"
set +e
show "$bin/gcmsg" send "$third_conv" --text "Hello?"
code=$?
set -e
echo "(exit code $code: the conversation cannot receive it)"
[ "$code" -eq 6 ] || { echo "demo: expected exit 6 for the third-party chat" >&2; exit 1; }

step "gcsim starts failing: a 429, then a 503 after recording the message (what makes duplicates)"
curl -fsS -X POST "$base/sim/v1/faults" -H 'Content-Type: application/json' -d '{"id": "throttle",
  "method": "POST", "path": "/api/v2/conversations/messages/agentless", "status": 429, "retryAfter": 1}' >/dev/null
curl -fsS -X POST "$base/sim/v1/faults" -H 'Content-Type: application/json' -d '{"id": "commit-then-503",
  "method": "POST", "path": "/api/v2/conversations/messages/agentless", "kind": "commit-then-fail"}' >/dev/null
show "$bin/gcmsg" -v send "$sms_conv" --text "Your parcel arrives tomorrow between 9 and 12." 2>&1 |
  grep -v -e ' -> ' -e '^gcmsg: webhooks'
curl -fsS "$base/sim/v1/conversations/$sms_conv/transcript" | python3 -c '
import json, sys
n = sum(1 for e in json.load(sys.stdin)["entries"] if e.get("text", "").startswith("Your parcel"))
print(f"  the customer received it {n} time(s)")
sys.exit(0 if n == 1 else 1)
'

step "An incident notice to many conversations at once: gcmsg bulk reads a CSV, checks every row first"
ended_conv=00000000-0000-4000-8000-0000000000c8
printf '%s\n' "conversation,text,Window" \
  "$sms_conv,\"Service notice: payments are delayed until {{Window}}. No action is needed.\",14:00" \
  "$ended_conv,\"Service notice: payments are delayed until {{Window}}.\",14:00" \
  "not-a-conversation,Service notice,14:00" > "$work/notice.csv"
cat "$work/notice.csv"
set +e
show "$bin/gcmsg" bulk "$work/notice.csv"
code=$?
set -e
echo "(exit code $code: the good row was sent; the bad ones are named by line, nothing else was sent)"
[ "$code" -eq 9 ] || { echo "demo: expected exit 9 for a bulk file with bad rows" >&2; exit 1; }
step "The same file again (a rerun after a crash, or by mistake): nothing is sent twice"
set +e
show "$bin/gcmsg" bulk "$work/notice.csv" 2>/dev/null
set -e

step "The audit log: every attempt and outcome, the text only as a SHA-256"
show "$bin/gcmsg" audit --conversation "$sms_conv"
show "$bin/gcmsg" stats

step "Done"
echo "gcsim is stopped on exit. Try it yourself: $bin/gcsim --listen 127.0.0.1:0 --scenario $scenario"
