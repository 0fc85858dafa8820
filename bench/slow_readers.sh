#!/usr/bin/env bash
# /-/healthy latency while 100 slow readers pull the largest answer (/api/v1/evidence of the
# whole estate, or its first page when the agent pages it): an agent over a facts file of N
# systems (20 facts each) on 127.0.0.1, 100 connections that ask for the evidence and read a
# few bytes a second, and 200 sequential GETs of /-/healthy. Prints p50, p99 and max, and the
# agent's peak RSS.
# Usage: bench/slow_readers.sh [BINARY] [SYSTEMS] (default build/agent/opsmaturity 2000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/agent/opsmaturity}
n=${2:-2000}
work=$(mktemp -d)
trap 'kill $agent 2>/dev/null || true; rm -rf "$work"' EXIT
python3 - "$work/facts.json" "$n" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
facts = [{"system": f"system-{i:05d}", "key": f"file.cmdb.attr_{k}", "value": f"value {k} of system {i}"}
         for i in range(n) for k in range(20)]
json.dump({"facts": facts}, open(path, "w"))
PY
cat > "$work/agent.yml" <<YML
listen_address: 127.0.0.1:0
rules_dir: $root/rules
collectors:
  - {name: cmdb, type: file, path: $work/facts.json, max_systems: 1000000, timeout: 60s, interval: 600s}
YML
"$bin" run --config "$work/agent.yml" > "$work/agent.log" 2>&1 &
agent=$!
port=""
for _ in $(seq 600); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$work/agent.log" | head -1)
  [ -n "$port" ] && curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
python3 - "$port" "$agent" <<'PY'
import socket, sys, threading, time
port, pid = int(sys.argv[1]), sys.argv[2]
stop = time.time() + 30
def slow():
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"GET /api/v1/evidence HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    while time.time() < stop:
        try:
            if not s.recv(16):
                break
        except OSError:
            break
        time.sleep(1)
    s.close()
readers = [threading.Thread(target=slow, daemon=True) for _ in range(100)]
for t in readers: t.start()
time.sleep(0.2)
lat = []
for _ in range(200):
    t0 = time.time()
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    while s.recv(4096):
        pass
    s.close()
    lat.append(time.time() - t0)
    time.sleep(0.02)
lat.sort()
hwm = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM")][0].split()[1]
print(f"/-/healthy over 200 GETs with 100 slow readers: p50 {lat[100]*1000:.1f} ms, "
      f"p99 {lat[197]*1000:.1f} ms, max {lat[-1]*1000:.1f} ms; agent peak RSS {int(hwm)//1024} MiB")
PY
