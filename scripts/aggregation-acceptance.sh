#!/usr/bin/env bash
# Aggregation and ordered mode, end to end through `kinesis-pusher local` with per-shard limits on:
#  1. RECORDS records of 100 bytes (NDJSON, 1000 partition keys) pushed with --aggregate to a 4-shard stream,
#     resharded to 8 shards mid-run (once half the bytes are in; --quick: a quarter); read back the way the KCL
#     reads (aggregates holding a record outside their shard are dropped whole): every record must be there; the
#     same push without aggregation on a second stream, same reshard; prints the time ratio.
#  2. Ordered mode (async) under 20 % injected record throttling (a second server, limits off, so the throttles are
#     the injected ones), with and without aggregation, resharded mid-run: reading each shard back (parents
#     before children) must show every partition key's records in send order. The same push without --ordered
#     is timed beside them, for the cost of ordering (its order violations are printed, not checked; missing
#     records and duplicates are).
# Every reshard must happen during its push, and the run proves it: the reshard is ordered once the server's stats
# show half the bytes stored (a watcher started before the push polls them every 10 ms; the run fails if the push
# ends first; --quick reshards at a quarter: its pushes last a second or two, and a watcher slowed by a busy
# machine was seen ordering the reshard at 94 %; full runs keep half, the condition of the 10x ratio), and the
# read-back must find records on the 4 parent shards (stored before the reshard) and on the 8 children (after it).
# Each stream has no other writer, so both being non-empty means the push was running on both sides of the reshard.
# Duplicates in the KCL view (read --deaggregate) must be at most MAX_DUPLICATES = 0: nothing in these runs can
# legitimately duplicate. There are no injected drops, 500s or latency, so no call is stored by the server and
# then timed out or failed on the client; throttled entries are not stored; the aggregates that land on a child
# shard during the reshard and are resent are the ones the KCL drops whole.
# Usage: scripts/aggregation-acceptance.sh [--quick]   (KINESIS_PUSHER_BIN picks the binary; release for timings)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${KINESIS_PUSHER_BIN:-.build/debug/kinesis-pusher}
records=${RECORDS:-200000}
ordered_records=${ORDERED_RECORDS:-50000}
max_duplicates=0
quick=0
reshard_divisor=2
if [[ ${1:-} == --quick ]]; then quick=1; records=20000; ordered_records=10000; reshard_divisor=4; fi
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
work=$(mktemp -d)
{ read -r port; read -r port2; } < <(free_ports 2)
endpoint=http://127.0.0.1:$port
"$bin" local --port "$port" --stream agg:4 --stream raw:4 --admin-token "$LOCAL_ADMIN_TOKEN" >"$work/local.log" 2>&1 &
local_pid=$!
"$bin" local --port "$port2" --no-shard-limits --throttle-records 0.2 \
  --stream ordered-plain:4 --stream ordered-aggregated:4 --stream unordered-plain:4 --admin-token "$LOCAL_ADMIN_TOKEN" \
  >"$work/local2.log" 2>&1 &
local2_pid=$!
trap 'kill $local_pid $local2_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
wait_for_local "$endpoint" "$work/local.log"
wait_for_local "http://127.0.0.1:$port2" "$work/local2.log"

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
reshard_bytes=$(( $(wc -c <"$work/records.ndjson") / reshard_divisor ))

# push STREAM LABEL FLAGS...: pushes the file and, once the server's stats show reshard_bytes of it stored,
# reshards STREAM to 8 shards; exits the script if the push ended first (no reshard during it) or exited non-zero.
# The watcher starts before the push (a short push could end before a watcher started after it got going).
push() {
  local stream=$1 label=$2; shift 2
  local ready=$work/$label.ready done=$work/$label.done
  python3 - "$endpoint" "$stream" "$reshard_bytes" "$(wc -c <"$work/records.ndjson")" "$label" "$ready" "$done" <<'PY' &
import json, os, sys, time, urllib.request
endpoint, stream, at, total, label, ready, done = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), *sys.argv[5:8]
admin = {"Authorization": "Bearer " + os.environ["LOCAL_ADMIN_TOKEN"]}
def stored():
    with urllib.request.urlopen(urllib.request.Request(endpoint + "/_admin/stats", headers=admin), timeout=10) as answer:
        return json.load(answer)["streams"][stream]["acceptedBytes"]
stored()
open(ready, "w").close()
deadline = time.monotonic() + 900
while time.monotonic() < deadline:
    ended = os.path.exists(done)  # read before the stats: a reshard ordered below happened while the push ran
    accepted = stored()
    if ended:
        print(f"FAIL {label}: the push ended ({accepted} bytes stored) before the watcher saw {at} of them: no reshard during it", flush=True)
        sys.exit(1)
    if accepted >= at:
        request = urllib.request.Request(endpoint + "/_admin/reshard", method="POST", headers=admin,
                                         data=json.dumps({"stream": stream, "shardCount": 8}).encode())
        with urllib.request.urlopen(request, timeout=10) as answer:
            result = json.load(answer)
        print(f"  {label}: resharded {stream} {result['previousOpenShards']} -> {result['openShards']} shards "
              f"with {accepted} of the push's {total} bytes stored", flush=True)
        sys.exit(0 if result["openShards"] == "8" else 1)
    time.sleep(0.01)
print(f"FAIL {label}: no reshard within 900 s", flush=True)
sys.exit(1)
PY
  local watcher=$! resharded=0 status=0
  for _ in $(seq 300); do [[ -e $ready ]] && break; kill -0 $watcher 2>/dev/null || break; sleep 0.1; done
  [[ -e $ready ]] || { echo "FAIL $label: the reshard watcher did not start"; kill $watcher 2>/dev/null; exit 1; }
  "$bin" push --stream "$stream" --endpoint "$endpoint" --format ndjson --partition-key-field key --async \
    --report json "$@" "$work/records.ndjson" >"$work/$label.json" 2>"$work/$label.err" || status=$?
  touch "$done"
  wait $watcher || resharded=$?
  (( status == 0 )) || { echo "FAIL $label: push exited $status"; cat "$work/$label.err"; exit 1; }
  (( resharded == 0 )) || exit 1
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('  %s: %d delivered in %.2f s (%d records/s), %d Kinesis records, %d aggregated, %d reaggregated, %d throttled' % (sys.argv[2], r['delivered'], r['elapsed_s'], r['records_per_s'], r['kinesis_records'], r['aggregated'], r['reaggregated'], r['throttled']))" "$work/$label.json" "$label"
}

# verify STREAM LABEL [ordered|report-order]: reads STREAM back KCL-style and compares with the input: nothing
# missing, at most max_duplicates duplicates, keys right, records on both sides of the reshard; with "ordered"
# every key's records in send order (with "report-order" violations are printed only).
verify() {
  local stream=$1 label=$2 mode=${3:-}
  "$bin" read --stream "$stream" --endpoint "$endpoint" --deaggregate --summary-file "$work/$label.read.json" \
    >"$work/$label.out" 2>"$work/$label.read.err"
  python3 - "$work/records.ndjson" "$work/$label.out" "$work/$label.read.json" "$label" "$mode" "$max_duplicates" <<'PY'
import json, sys
from collections import Counter, defaultdict
source, out, summary_path, label, mode, max_duplicates = sys.argv[1:7]
max_duplicates = int(max_duplicates)
parents = {f"shardId-{i:012d}" for i in range(4)}  # the stream's first 4 shards, closed by the reshard
sent = [line.rstrip("\n") for line in open(source)]
expected = Counter(sent)
got = Counter()
by_key = defaultdict(list)
wrong_key = on_parents = on_children = 0
for line in open(out):
    r = json.loads(line)
    got[r["data"]] += 1
    if r["shard_id"] in parents:
        on_parents += 1
    else:
        on_children += 1
    record = json.loads(r["data"])
    if record["key"] != r["partition_key"]: wrong_key += 1
    by_key[record["key"]].append(record["seq"])
summary = json.load(open(summary_path))
missing = sum((expected - got).values())
duplicates = sum((got - expected).values())
violations = sum(1 for seqs in by_key.values() for a, b in zip(seqs, seqs[1:]) if b <= a)
print(f"  {label}: read {summary['kinesis_records']} Kinesis records ({summary['aggregates']} aggregates) from {summary['shards']} shards: "
      f"{sum(got.values())} records, missing {missing}, duplicates {duplicates} (bound {max_duplicates}), wrong key {wrong_key}, "
      f"aggregates the KCL drops (landed on a child shard during the reshard, records resent) {summary['dropped_aggregates']} "
      f"holding {summary['dropped_records']} records" + (f", order violations {violations}" if mode else ""))
print(f"  {label}: {on_parents} records on the 4 parent shards (stored before the reshard), {on_children} on the 8 children (after it)")
problems = []
if missing: problems.append(f"{missing} missing")
if duplicates > max_duplicates: problems.append(f"{duplicates} duplicates, above the bound of {max_duplicates}")
if wrong_key: problems.append(f"{wrong_key} under the wrong key")
if mode == "ordered" and violations: problems.append(f"{violations} order violations")
if summary["shards"] != 12: problems.append(f"{summary['shards']} shards, not 4 parents + 8 children")
if on_parents == 0 or on_children == 0: problems.append("records on one side of the reshard only: it did not happen during the push")
print(("ok   " + label) if not problems else ("FAIL " + label + ": " + "; ".join(problems)))
sys.exit(0 if not problems else 1)
PY
}

failures=0
echo "1. $records records of 100 bytes, 4 shards with limits on, reshard to 8 mid-run"
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

echo "2. ordered mode (async) under 20 % injected record throttling, $ordered_records records, reshard to 8 mid-run"
head -n "$ordered_records" "$work/records.ndjson" >"$work/ordered.ndjson" && mv "$work/ordered.ndjson" "$work/records.ndjson"
endpoint=http://127.0.0.1:$port2
reshard_bytes=$(( $(wc -c <"$work/records.ndjson") / reshard_divisor ))
push ordered-plain ordered-plain --ordered --no-rate-limit
verify ordered-plain ordered-plain ordered || failures=$((failures + 1))
push ordered-aggregated ordered-aggregated --ordered --aggregate --no-rate-limit
verify ordered-aggregated ordered-aggregated ordered || failures=$((failures + 1))
push unordered-plain unordered-plain --no-rate-limit
verify unordered-plain unordered-plain report-order || failures=$((failures + 1))

if (( failures > 0 )); then echo "$failures check(s) failed"; exit 1; fi
echo "all aggregation checks passed"
