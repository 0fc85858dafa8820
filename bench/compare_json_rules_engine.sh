#!/bin/sh
# opsmaturity against json-rules-engine (the engine behind Backstage Tech Insights), side by
# side in one run: the same criteria (the shipped rule pack, translated automatically by
# peer_export from the compiled rules) on the same synthetic evidence; the peer must decide
# exactly the same criteria as passing, and both are timed after load.
#
# Usage: bench/compare_json_rules_engine.sh [SYSTEMS]   (default 1000; needs build/ and npm)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}
bin=${OPSM_BUILD_DIR:-$root/build}/bench/peer_export
[ -x "$bin" ] || cmake --build "${OPSM_BUILD_DIR:-$root/build}" --target peer_export
[ -d "$root/bench/peer/node_modules/json-rules-engine" ] ||
  npm ci --prefix "$root/bench/peer" --no-audit --no-fund >/dev/null
out=$(mktemp -d "${TMPDIR:-/tmp}/opsm-peer-XXXXXX")
trap 'rm -rf "$out"' EXIT
"$bin" "$n" "$out" >/dev/null
node "$root/bench/peer/run.mjs" "$out"
