#!/bin/sh
# A real Prometheus scraping the agent's /metrics at estate scale: the agent scores N declared
# systems (every item of the shipped pack, so the series per system are what a real estate
# gets), Prometheus scrapes it with the given scrape_timeout, and the script reports what the
# scrape cost on both sides (the first scrape creates every series, the second is what every
# later one costs): up, scrape duration, samples, bytes, the agent's render time and both
# processes' memory. Picks free ports with python3.
#
# Usage: bench/scrape_bench.sh [SYSTEMS] [SCRAPE_TIMEOUT] [EXPORT_CRITERIA_STATES]
#        (defaults 10000, 10s, true; needs build/ and the Debian prometheus package)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000}
timeout=${2:-10s}
states=${3:-true}
agent=${OPSM_BUILD_DIR:-$root/build}/agent/opsmaturity
[ -x "$agent" ] || { echo "build the agent first: cmake --build build" >&2; exit 2; }
command -v prometheus >/dev/null || { echo "prometheus is not installed (scripts/setup)" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/opsm-scrape-XXXXXX")
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
rss_mib() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

agent_port=$(free_port)
prom_port=$(free_port)
{
  echo "rules_dir: $root/rules"
  echo "listen_address: 127.0.0.1:$agent_port"
  echo "export_criteria_states: $states"
  echo "export_item_dimensions: $states"
  echo "export_item_progress: $states"
  echo "systems:"
  i=0
  while [ "$i" -lt "$n" ]; do echo "  - system-$i"; i=$((i + 1)); done
  echo "collectors:"
  echo "  - {name: facts, type: file, path: $dir/facts.yaml}"
} >"$dir/agent.yml"
echo 'facts: [{system: "*", key: file.bench.present, value: true}]' >"$dir/facts.yaml"

"$agent" --log.level warn run -c "$dir/agent.yml" >"$dir/agent.log" 2>&1 &
agent_pid=$!
pids="$agent_pid"
until curl -sf "http://127.0.0.1:$agent_port/-/ready" >/dev/null 2>&1; do
  kill -0 "$agent_pid" 2>/dev/null || { cat "$dir/agent.log" >&2; exit 1; }
  sleep 0.2
done
render=$(curl -s -o "$dir/metrics.txt" -w '%{time_total}' "http://127.0.0.1:$agent_port/metrics")
lines=$(grep -vc '^#' "$dir/metrics.txt")
bytes=$(wc -c <"$dir/metrics.txt")

cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 30s
  scrape_timeout: $timeout
scrape_configs:
  - job_name: opsmaturity
    static_configs: [{targets: ["127.0.0.1:$agent_port"]}]
EOF
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$dir/prometheus.log" 2>&1 &
prom_pid=$!
pids="$agent_pid $prom_pid"

query() {
  curl -s "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
    sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p'
}
# The first scrape: wait until Prometheus has recorded it (up is then 0 or 1).
i=0
while [ -z "$(query 'up{job="opsmaturity"}')" ]; do
  i=$((i + 1))
  [ "$i" -lt 600 ] || { echo "no scrape recorded in 120 s" >&2; cat "$dir/prometheus.log" >&2; exit 1; }
  sleep 0.2
done
up=$(query 'up{job="opsmaturity"}')
duration=$(query 'scrape_duration_seconds{job="opsmaturity"}')
samples=$(query 'scrape_samples_scraped{job="opsmaturity"}')
series=$(curl -s "http://127.0.0.1:$prom_port/api/v1/status/tsdb" |
  sed -n 's/.*"numSeries":\([0-9]*\).*/\1/p')
# The second scrape (series exist now: what every later scrape costs).
i=0
while [ "$(query 'count_over_time(up{job="opsmaturity"}[5m])')" != 2 ]; do
  i=$((i + 1))
  [ "$i" -lt 600 ] || { echo "no second scrape in 120 s" >&2; exit 1; }
  sleep 0.2
done
up2=$(query 'up{job="opsmaturity"}')
duration2=$(query 'scrape_duration_seconds{job="opsmaturity"}')
printf 'systems %s, per-item opt-ins %s: %s series, %s bytes; agent rendered and sent /metrics in %s s (curl)\n' \
  "$n" "$states" "$lines" "$bytes" "$render"
printf 'prometheus (scrape_timeout %s): first scrape up=%s, scrape_duration_seconds=%s; second up=%s, %s s; scrape_samples_scraped=%s, head series %s\n' \
  "$timeout" "$up" "$duration" "$up2" "$duration2" "$samples" "$series"
printf 'peak RSS: agent %s MiB, prometheus %s MiB\n' "$(rss_mib "$agent_pid")" "$(rss_mib "$prom_pid")"
[ "$up" = 1 ] && [ "$up2" = 1 ]
