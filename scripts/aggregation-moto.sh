#!/usr/bin/env bash
# `push --aggregate` to moto_server, read back with boto3 and deaggregated with AWS's own aws-kinesis-agg: the
# records must come back exactly as sent (keys and data), each once. Run under scripts/with-moto.sh.
# moto loses records under concurrent PutRecords (its own race), so the push is sync.
set -euo pipefail
bin=${KINESIS_PUSHER_BIN:-.build/debug/kinesis-pusher}
records=${RECORDS:-20000}
: "${KINESIS_PUSHER_MOTO_URL:?run under scripts/with-moto.sh}"
export AWS_ACCESS_KEY_ID=moto AWS_SECRET_ACCESS_KEY=moto AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
stream="agg-$RANDOM$RANDOM"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$KINESIS_PUSHER_MOTO_URL" "$stream" "$records" "$work/records.ndjson" <<'PY'
import sys, boto3
url, stream, count, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
boto3.client("kinesis", endpoint_url=url, region_name="us-east-1").create_stream(StreamName=stream, ShardCount=4)
with open(path, "w") as f:
    for i in range(count):
        # Unicode keys and payloads, 300 keys, varied sizes.
        key = f"ключ-{i % 300}"
        f.write(f'{{"key":"{key}","i":{i},"text":"données {"x" * (i % 150)}"}}\n')
PY
"$bin" push --stream "$stream" --endpoint "$KINESIS_PUSHER_MOTO_URL" --format ndjson --partition-key-field key \
  --aggregate --report json "$work/records.ndjson" >"$work/report.json"

python3 - "$KINESIS_PUSHER_MOTO_URL" "$stream" "$work/records.ndjson" "$work/report.json" <<'PY'
import base64, json, sys
from collections import Counter
import boto3
from aws_kinesis_agg.deaggregator import deaggregate_records
url, stream, path, report_path = sys.argv[1:5]
client = boto3.client("kinesis", endpoint_url=url, region_name="us-east-1")
report = json.load(open(report_path))
kinesis_records, user = 0, Counter()
for shard in client.list_shards(StreamName=stream)["Shards"]:
    iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while iterator:
        page = client.get_records(ShardIterator=iterator, Limit=10000)
        if not page["Records"]:
            break
        kinesis_records += len(page["Records"])
        # aws-kinesis-agg's deaggregator takes records in the Lambda event shape (base64 data, camelCase keys).
        event = [{"kinesis": {"data": base64.b64encode(r["Data"]).decode(), "partitionKey": r["PartitionKey"],
                              "sequenceNumber": r["SequenceNumber"], "kinesisSchemaVersion": "1.0",
                              "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp()}} for r in page["Records"]]
        for record in deaggregate_records(event):
            data = base64.b64decode(record["kinesis"]["data"]).decode()
            user[(record["kinesis"]["partitionKey"], data)] += 1
        iterator = page.get("NextShardIterator")
sent = Counter()
for line in open(path):
    line = line.rstrip("\n")
    sent[(json.loads(line)["key"], line)] += 1
missing = sum((sent - user).values())
extra = sum((user - sent).values())
print(f"pushed {report['delivered']} records as {report['kinesis_records']} Kinesis records; read back {kinesis_records} Kinesis records, "
      f"aws-kinesis-agg deaggregated {sum(user.values())} records: missing {missing}, unexpected or duplicated {extra}")
ok = missing == 0 and extra == 0 and report["aggregated"] > 0 and kinesis_records == report["kinesis_records"]
print(("ok   " if ok else "FAIL ") + "aggregated records read back with aws-kinesis-agg, keys and data intact")
sys.exit(0 if ok else 1)
PY
