#!/usr/bin/env bash
# Installs the Debian 12 packages gcmsg needs to build and test, and only the missing ones.
# Called by `make`, `make test` and `make demo`, so a fresh machine needs nothing by hand.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcurl4-gnutls-dev libjansson-dev libulfius-dev libmicrohttpd-dev
  libwebsockets-dev libsqlite3-dev libpcre2-dev libcmocka-dev
  clang-14 libclang-rt-14-dev python3 curl ca-certificates openssl valgrind
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 3; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
