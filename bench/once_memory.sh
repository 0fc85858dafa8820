#!/usr/bin/env bash
# Peak memory of `opsmaturity once --json` against the number of systems one source reports:
# a facts file of N systems (20 facts each), the shipped rule pack, the output thrown away.
# Prints N, the peak RSS in MiB, and the cost per system between the smallest and largest N.
# Usage: bench/once_memory.sh [BINARY] (default build/agent/opsmaturity)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/agent/opsmaturity}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes=(250 1000 2000 4000)
for n in "${sizes[@]}"; do
  python3 - "$work/facts-$n.json" "$n" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
facts = []
for i in range(n):
    s = f"system-{i:05d}"
    for k in range(20):
        facts.append({"system": s, "key": f"file.cmdb.attr_{k}", "value": f"value {k} of {s}"})
json.dump({"facts": facts}, open(path, "w"))
PY
  cat > "$work/agent-$n.yml" <<YML
rules_dir: $root/rules
collectors:
  - {name: cmdb, type: file, path: $work/facts-$n.json, max_systems: 1000000, timeout: 60s, interval: 60s}
YML
done
declare -A rss
for n in "${sizes[@]}"; do
  for format in json table; do
    kib=$(python3 - "$bin" "$work/agent-$n.yml" "$format" <<'PY'
import resource, subprocess, sys
bin, config, fmt = sys.argv[1:4]
args = [bin, "once", "--config", config] + (["--json"] if fmt == "json" else [])
subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
)
    rss[$n,$format]=$kib
    awk -v n="$n" -v f="$format" -v k="$kib" 'BEGIN { printf "%6d systems  %-5s  peak RSS %7.1f MiB\n", n, f, k / 1024 }'
  done
done
first=${sizes[0]}
last=${sizes[-1]}
for format in json table; do
  per=$(( (rss[$last,$format] - rss[$first,$format]) / (last - first) ))
  echo "once --$format: about $per KiB per system (between $first and $last systems)"
done
