#!/bin/sh
# opsmaturity against Cedar (@cedar-policy/cedar-wasm: the Rust engine compiled to WebAssembly),
# side by side in one run: the shipped rule pack translated into Cedar policies by peer_export
# (one per criterion, from the compiled rules), the same synthetic evidence as the request
# context; Cedar must decide exactly the same criteria as passing, and both are timed after load.
#
# Usage: bench/compare_cedar.sh [SYSTEMS]   (default 1000; needs build/ and npm)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}
bin=${OPSM_BUILD_DIR:-$root/build}/bench/peer_export
[ -x "$bin" ] || cmake --build "${OPSM_BUILD_DIR:-$root/build}" --target peer_export
[ -d "$root/bench/peer/node_modules/@cedar-policy/cedar-wasm" ] ||
  npm ci --prefix "$root/bench/peer" --no-audit --no-fund >/dev/null
out=$(mktemp -d "${TMPDIR:-/tmp}/opsm-peer-XXXXXX")
trap 'rm -rf "$out"' EXIT
"$bin" "$n" "$out" >/dev/null
node "$root/bench/peer/cedar.mjs" "$out"
