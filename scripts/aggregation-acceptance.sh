#!/usr/bin/env bash
# Aggregation and ordered mode, end to end through `kinesis-pusher local` with per-shard limits on:
#  1. RECORDS records of 100 bytes (NDJSON, 1000 partition keys) pushed with --aggregate to a 4-shard stream, resharded
#     to 8 shards in the middle (when half the bytes are in); read back the way the KCL reads (aggregates holding a
#     record outside their shard are dropped whole): every record must be there; the same push without
#     aggregation on a second stream, same reshard; prints the time ratio.
#  2. Ordered mode (async) under 20 % injected record throttling (a second server, limits off, so the throttles are
#     the injected ones), with and without aggregation, resharded in the middle: reading each shard back (parents
#     before children) must show every partition key's records in send order. The same push without --ordered
#     is timed beside them, for the cost of ordering (its order violations are printed, not checked).
# Usage: scripts/aggregation-acceptance.sh [--quick]   (KINESIS_PUSHER_BIN picks the binary; release for timings)
set -euo pipefail
bin=${KINESIS_PUSHER_BIN:-.build/debug/kinesis-pusher}
records=${RECORDS:-200000}
ordered_records=${ORDERED_RECORDS:-50000}
quick=0
if [[ ${1:-} == --quick ]]; then quick=1; records=20000; ordered_records=10000; fi
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
endpoint=http://127.0.0.1:$port
"$bin" local --port "$port" --stream agg:4 --stream raw:4 >"$work/local.log" 2>&1 &
local_pid=$!
port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" local --port "$port2" --no-shard-limits --throttle-records 0.2 \
  --stream ordered-plain:4 --stream ordered-aggregated:4 --stream unordered-plain:4 >"$work/local2.log" 2>&1 &
local2_pid=$!
trap 'kill $local_pid $local2_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "$endpoint/_admin/stats" >/dev/null && curl -sf "http://127.0.0.1:$port2/_admin/stats" >/dev/null && break; sleep 0.1; done

# Records: {"key":"user-K","seq":N,"pad":"x…"} padded to exactly 100 bytes; seq counts per key (for the order check).
python3 - "$records" "$work/records.ndjson" <<'PY'
import sys
count, path = int(sys.argv[1]), sys.argv[2]
seq = {}
with open(path, "w") as f:
    for i in range(count):
        key = f"user-{(i * 7919) % 1000}"
        n = seq.get(key, 0); seq[key] = n + 1
        head = f'{{"key":"{key}","seq":{n},"i":{i},"pad":"'
        f.write(head + "x" * (100 - len(head) - 2) + '"}\n')
PY
half_bytes=$(( $(wc -c <"$work/records.ndjson") / 2 ))

# push STREAM LABEL FLAGS...: pushes the file, reshards STREAM to 8 shards once half its bytes are in.
push() {
  local stream=$1 label=$2; shift 2
  "$bin" push --stream "$stream" --endpoint "$endpoint" --format ndjson --partition-key-field key --async \
    --report json "$@" "$work/records.ndjson" >"$work/$label.json" 2>"$work/$label.err" &
  local push_pid=$!
  while kill -0 $push_pid 2>/dev/null; do
    local accepted
    accepted=$(curl -sf "$endpoint/_admin/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['streams']['$stream']['acceptedBytes'])")
    if (( accepted >= half_bytes )); then
      curl -sf -X POST "$endpoint/_admin/reshard" -d "{\"stream\":\"$stream\",\"shardCount\":8}" >/dev/null
      echo "  $label: resharded $stream 4 -> 8 shards after $accepted bytes"
      break
    fi
    sleep 0.05
  done
  wait $push_pid || { echo "FAIL $label: push exited non-zero"; cat "$work/$label.err"; exit 1; }
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('  %s: %d delivered in %.2f s (%d records/s), %d Kinesis records, %d aggregated, %d reaggregated, %d throttled' % (sys.argv[2], r['delivered'], r['elapsed_s'], r['records_per_s'], r['kinesis_records'], r['aggregated'], r['reaggregated'], r['throttled']))" "$work/$label.json" "$label"
}

# verify STREAM LABEL [ordered]: reads STREAM back KCL-style and compares with the input.
verify() {
  local stream=$1 label=$2 mode=${3:-}
  "$bin" read --stream "$stream" --endpoint "$endpoint" --deaggregate --summary-file "$work/$label.read.json" \
    >"$work/$label.out" 2>"$work/$label.read.err"
  python3 - "$work/records.ndjson" "$work/$label.out" "$work/$label.read.json" "$label" "$mode" <<'PY'
import json, sys
from collections import Counter, defaultdict
source, out, summary_path, label, mode = sys.argv[1:6]
sent = [line.rstrip("\n") for line in open(source)]
expected = Counter(sent)
got = Counter()
by_key = defaultdict(list)
wrong_key = 0
for line in open(out):
    r = json.loads(line)
    got[r["data"]] += 1
    record = json.loads(r["data"])
    if record["key"] != r["partition_key"]: wrong_key += 1
    by_key[record["key"]].append(record["seq"])
summary = json.load(open(summary_path))
missing = sum((expected - got).values())
duplicates = sum((got - expected).values())
violations = sum(1 for seqs in by_key.values() for a, b in zip(seqs, seqs[1:]) if b <= a)
print(f"  {label}: read {summary['kinesis_records']} Kinesis records ({summary['aggregates']} aggregates) from {summary['shards']} shards: "
      f"{sum(got.values())} records, missing {missing}, duplicates {duplicates}, wrong key {wrong_key}, "
      f"aggregates the KCL drops (landed on a child shard during the reshard, records resent) {summary['dropped_aggregates']} "
      f"holding {summary['dropped_records']} records" + (f", order violations {violations}" if mode else ""))
ok = missing == 0 and wrong_key == 0 and (mode != "ordered" or violations == 0)
print(("ok   " if ok else "FAIL ") + label)
sys.exit(0 if ok else 1)
PY
}

failures=0
echo "1. $records records of 100 bytes, 4 shards with limits on, reshard to 8 in the middle"
push agg aggregated --aggregate
verify agg aggregated || failures=$((failures + 1))
push raw unaggregated
verify raw unaggregated || failures=$((failures + 1))
# The ratio is checked on full runs only: on --quick ones start-up time weighs too much.
python3 - "$work/aggregated.json" "$work/unaggregated.json" "$quick" <<'PY' || failures=$((failures + 1))
import json, sys
a, r = (json.load(open(p)) for p in sys.argv[1:3])
ratio = r["elapsed_s"] / a["elapsed_s"]
print(f"  with aggregation {a['elapsed_s']:.2f} s, without {r['elapsed_s']:.2f} s: {ratio:.1f}x faster")
if sys.argv[3] == "1":
    sys.exit(0)
print(("ok   " if ratio >= 10 else "FAIL ") + "aggregation at least 10x faster")
sys.exit(0 if ratio >= 10 else 1)
PY

echo "2. ordered mode (async) under 20 % injected record throttling, $ordered_records records, reshard to 8 in the middle"
head -n "$ordered_records" "$work/records.ndjson" >"$work/ordered.ndjson" && mv "$work/ordered.ndjson" "$work/records.ndjson"
endpoint=http://127.0.0.1:$port2
half_bytes=$(( $(wc -c <"$work/records.ndjson") / 2 ))
push ordered-plain ordered-plain --ordered --no-rate-limit
verify ordered-plain ordered-plain ordered || failures=$((failures + 1))
push ordered-aggregated ordered-aggregated --ordered --aggregate --no-rate-limit
verify ordered-aggregated ordered-aggregated ordered || failures=$((failures + 1))
push unordered-plain unordered-plain --no-rate-limit
verify unordered-plain unordered-plain report-order || true

if (( failures > 0 )); then echo "$failures check(s) failed"; exit 1; fi
echo "all aggregation checks passed"
