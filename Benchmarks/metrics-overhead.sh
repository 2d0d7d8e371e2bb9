#!/usr/bin/env bash
# What metrics add to the Runner's CPU per record: the same push with metrics off and on, alternated, against one
# KinesisLocal in another process (limits off), medians of each; bench producer's latency sampling is off in both
# (--no-latency), so "off" means no metrics at all. Usage: Benchmarks/metrics-overhead.sh [RECORDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-200000}
rounds=${2:-3}
bin=${KINESIS_PUSHER_BIN:-}
if [[ -z $bin ]]; then
  swift build -c release --product kinesis-pusher >/dev/null
  bin=.build/release/kinesis-pusher
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$bin" local --port "$port" --stream bench:4 --no-shard-limits --retain-records 100000 >/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 1
results=()
for _ in $(seq 1 "$rounds"); do
  results+=("$("$bin" bench producer --endpoint "http://127.0.0.1:$port" --records "$records" --no-latency --json | tr -d '\n')")
  results+=("$("$bin" bench producer --endpoint "http://127.0.0.1:$port" --records "$records" --metrics --no-latency --json | tr -d '\n')")
done
python3 - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(r) for r in sys.argv[1:]]
off = statistics.median(r["cpu_us_per_record"] for r in runs if not r["metrics"])
on = statistics.median(r["cpu_us_per_record"] for r in runs if r["metrics"])
print(f"metrics off: {off:.3f} µs CPU/record (median of {len(runs)//2})")
print(f"metrics on:  {on:.3f} µs CPU/record (median of {len(runs)//2})")
print(f"overhead:    {100 * (on - off) / off:+.1f} %")
PY
