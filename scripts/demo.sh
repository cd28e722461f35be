#!/usr/bin/env bash
# `make demo`: start gcsim on a free loopback port with the demo scenario, then show gcmsg
# inspecting a live web-messaging conversation, a dry run, a real send with typing, the
# transcript line the customer received, and two refusals that explain themselves.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${GCMSG_BIN_DIR:-$root/build/bin}
scenario=${GCMSG_DEMO_SCENARIO:-$root/scenarios/demo.json}
work=$(mktemp -d)
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

step "Dry run: the exact request, nothing sent"
show "$bin/gcmsg" send "$web_conv" --text "Hi, thanks for waiting - an agent is with you now." --dry-run

step "Send it, with a typing indicator first"
show "$bin/gcmsg" send "$web_conv" --typing --delay 300 --text "Hi, thanks for waiting - an agent is with you now."

step "What the customer received (gcsim transcript)"
curl -fsS "$base/sim/v1/conversations/$web_conv/transcript" | python3 -c '
import json, sys
entries = json.load(sys.stdin)["entries"]
for e in entries:
    who = e.get("sender", {}).get("name") or e.get("sender", {}).get("clientId") or "?"
    what = "(typing...)" if e.get("typing") else repr(e.get("text"))
    print(f"  {e['"'"'time'"'"']}  {e['"'"'route'"'"']:<16} {who:<16} {what}")
sys.exit(0 if any(not e.get("typing") for e in entries) else 1)
'

step "A third-party chat cannot receive messages, and gcmsg says why"
unset GENESYSCLOUD_ACCESS_TOKEN
export GENESYSCLOUD_OAUTHCLIENT_ID="$client_id" GENESYSCLOUD_OAUTHCLIENT_SECRET="$client_secret"
echo "now as the service: GENESYSCLOUD_OAUTHCLIENT_ID=$client_id (client credentials, secret in the environment)"
set +e
show "$bin/gcmsg" send "$third_conv" --text "Hello?"
code=$?
set -e
echo "(exit code $code: the conversation cannot receive it)"
[ "$code" -eq 6 ] || { echo "demo: expected exit 6 for the third-party chat" >&2; exit 1; }

step "Done"
echo "gcsim is stopped on exit. Try it yourself: $bin/gcsim --listen 127.0.0.1:0 --scenario $scenario"
