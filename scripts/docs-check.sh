#!/usr/bin/env bash
# Loads the API docs pages in headless Chromium with the network cut off and checks that Swagger UI
# rendered every operation: proof that the pages need nothing but this server (the UI is embedded in
# the binary; no CDN). Installs Debian's chromium when missing. Not part of `make test`.
#
#   scripts/docs-check.sh [path/to/maestro-server]      (make docs-check builds it first)
#
# The network is cut off two ways: every host name resolves to nothing (--host-resolver-rules) and
# every non-loopback connection goes to a proxy on a closed port (--proxy-server; Chromium always
# connects to loopback directly). Only the server on 127.0.0.1 is reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-bin/maestro-server}"
[ -x "$bin" ] || { echo "docs-check: $bin not found; run 'make build' first" >&2; exit 1; }

if ! command -v chromium >/dev/null 2>&1; then
  echo "docs-check: installing Debian's chromium (apt-get)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

env -i PATH="$PATH" HOME="$tmp" HOST=127.0.0.1 PORT=0 LOG_FORMAT=json DATA_DIR="$tmp/data" \
  SESSION_DIR="$tmp/sessions" SKILLS_DIR="$tmp/skills" "$bin" serve 2>"$tmp/server.log" &
pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*"msg":"maestro-server listening","addr":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$tmp/server.log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "docs-check: the server did not start:" >&2; cat "$tmp/server.log" >&2; exit 1; }
base="http://127.0.0.1:$port"

status=0
for v in 1 2; do
  want=$(curl -fsS "$base/api/v$v/openapi.json" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
print(sum(1 for item in doc["paths"].values() for m in ("get", "put", "post", "delete", "patch") if m in item))')
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$tmp/profile-$v" \
    --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
    --proxy-server="http://127.0.0.1:9" \
    --virtual-time-budget=20000 --dump-dom "$base/api/v$v/docs" >"$tmp/dom-v$v.html" 2>"$tmp/chromium-v$v.log" || true
  got=$( (grep -o 'class="opblock opblock-' "$tmp/dom-v$v.html" || true) | wc -l)
  if [ "$got" -ge "$want" ] && [ "$want" -gt 0 ]; then
    echo "docs-check: /api/v$v/docs rendered $got of $want operations offline: ok"
  else
    echo "docs-check: /api/v$v/docs rendered $got of $want operations offline: FAILED" >&2
    head -c 2000 "$tmp/dom-v$v.html" >&2
    status=1
  fi
done
exit "$status"
