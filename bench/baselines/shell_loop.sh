#!/usr/bin/env bash
# Baseline: `gcmsg send` once per message in a shell loop, as a user scripts it without `bulk`.
#
# Usage: shell_loop.sh GCMSG FILE
#   FILE: one message per line, "conversationId<TAB>text".
#   gcmsg takes its credentials and gcsim's address from the environment (GCMSG_API_URL,
#   GCMSG_LOGIN_URL, GENESYSCLOUD_ACCESS_TOKEN or GENESYSCLOUD_OAUTHCLIENT_ID/_SECRET, GCMSG_STORE).
# Prints one summary line on stderr; exits 1 when any send failed.
gcmsg=$1
file=$2
sent=0
failed=0
while IFS=$'\t' read -r conv text; do
  if "$gcmsg" -q send "$conv" --text "$text"; then
    sent=$((sent + 1))
  else
    failed=$((failed + 1))
  fi
done < "$file"
echo "shell_loop: sent $sent, failed $failed" >&2
[ "$failed" -eq 0 ]
