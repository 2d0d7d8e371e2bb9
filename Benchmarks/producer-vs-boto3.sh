#!/usr/bin/env bash
# Producer CPU cost per record, KinesisPusher's Runner against boto3's put_records loop, measured in the same run
# against the same KinesisLocal (another process, limits off, so the server's CPU is not counted).
# Usage: Benchmarks/producer-vs-boto3.sh [RECORDS]   (builds the release binary unless KINESIS_PUSHER_BIN names one)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-200000}
bin=${KINESIS_PUSHER_BIN:-}
if [[ -z $bin ]]; then
  swift build -c release --product kinesis-pusher >/dev/null
  bin=.build/release/kinesis-pusher
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$bin" local --port "$port" --stream bench:4 --stream boto3:4 --no-shard-limits --retain-records 100000 >/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 1
endpoint="http://127.0.0.1:$port"

ours=$("$bin" bench producer --endpoint "$endpoint" --stream bench --records "$records" --json)
theirs=$(python3 - "$endpoint" "$records" <<'PY'
import json, resource, sys, time
import boto3
endpoint, records = sys.argv[1], int(sys.argv[2])
client = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench")
payload = b"a" * 100
keys = [f"partition-key-{i}" for i in range(1000)]
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
before, start, delivered = cpu(), time.monotonic(), 0
batch = []
for i in range(records):
    batch.append({"Data": payload, "PartitionKey": keys[i % 1000]})
    if len(batch) == 500 or i == records - 1:
        pending = batch
        while pending:  # resend failed entries only, as a careful boto3 user would
            answer = client.put_records(StreamName="boto3", Records=pending)
            pending = [r for r, e in zip(pending, answer["Records"]) if "ErrorCode" in e]
            delivered += sum(1 for e in answer["Records"] if "ErrorCode" not in e)
        batch = []
cpu_s, elapsed = cpu() - before, time.monotonic() - start
print(json.dumps({"delivered": delivered, "elapsed_s": round(elapsed, 3), "cpu_s": round(cpu_s, 3),
                  "cpu_us_per_record": round(cpu_s / records * 1e6, 2), "records_per_s": round(delivered / elapsed)}))
PY
)
python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"KinesisPusher Runner (async): {ours['cpu_us_per_record']:8.2f} µs CPU/record, {ours['records_per_s']:>9} records/s, delivered {ours['delivered']}")
print(f"boto3 put_records loop:       {theirs['cpu_us_per_record']:8.2f} µs CPU/record, {theirs['records_per_s']:>9} records/s, delivered {theirs['delivered']}")
print(f"ratio (boto3 / Runner CPU per record): {theirs['cpu_us_per_record'] / ours['cpu_us_per_record']:.1f}x")
PY
