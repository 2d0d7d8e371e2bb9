#!/usr/bin/env bash
# A scripted AWS CLI session against `kinesis-pusher local`: the commands an operator types to set up, inspect,
# reshard, tag and tear down a stream, each answer checked. The AWS CLI (v1, PyPI `awscli`) goes into its own venv,
# .venv-awscli/ (gitignored), so its pinned botocore does not move the tests' boto3.
#
# Usage: scripts/awscli-session.sh [--bin .build/debug/kinesis-pusher]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

bin=.build/debug/kinesis-pusher
while (( $# )); do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    *) echo "usage: $0 [--bin PATH]" >&2; exit 2 ;;
  esac
done

venv=$PWD/.venv-awscli
if ! "$venv/bin/aws" --version >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check awscli
fi
echo "# $("$venv/bin/aws" --version 2>&1)"

port=$(free_port)
log=$(mktemp)
"$bin" local --port "$port" --admin-token "$LOCAL_ADMIN_TOKEN" > "$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT
endpoint=http://127.0.0.1:$port
wait_for_local "$endpoint" "$log"

export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KINESIS HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
aws() { "$venv/bin/aws" --endpoint-url "$endpoint" --output text "$@"; }

passed=0
failed=0
# check NAME EXPECTED ACTUAL
check() {
  if [[ $2 == "$3" ]]; then
    passed=$((passed + 1)); echo "ok   $1"
  else
    failed=$((failed + 1)); echo "FAIL $1: expected '$2', got '$3'"
  fi
}

aws kinesis create-stream --stream-name cli --shard-count 2
aws kinesis wait stream-exists --stream-name cli
check "create-stream, wait stream-exists: 2 open shards" 2 \
  "$(aws kinesis describe-stream-summary --stream-name cli --query StreamDescriptionSummary.OpenShardCount)"
arn=$(aws kinesis describe-stream-summary --stream-name cli --query StreamDescriptionSummary.StreamARN)
check "the ARN carries region and account" "arn:aws:kinesis:us-east-1:123456789012:stream/cli" "$arn"
check "list-streams" cli "$(aws kinesis list-streams --query 'StreamNames[0]')"

shard=$(aws kinesis put-record --stream-name cli --partition-key k --data hello --query ShardId)
check "put-record answers a shard" shardId-00000000000 "${shard%?}"
aws kinesis put-records --stream-name cli --records Data=one,PartitionKey=a Data=two,PartitionKey=b >/dev/null
iterator=$(aws kinesis get-shard-iterator --stream-name cli --shard-id "$shard" --shard-iterator-type TRIM_HORIZON --query ShardIterator)
check "get-records: the first record's data (base64 of 'hello')" aGVsbG8= \
  "$(aws kinesis get-records --shard-iterator "$iterator" --query 'Records[0].Data')"

aws kinesis update-shard-count --stream-name cli --target-shard-count 4 --scaling-type UNIFORM_SCALING >/dev/null
check "update-shard-count 2 → 4: 4 open" 4 \
  "$(aws kinesis list-shards --stream-name cli --shard-filter Type=AT_LATEST --query 'length(Shards)')"
first_open=$(aws kinesis list-shards --stream-name cli --shard-filter Type=AT_LATEST --query 'Shards[0].ShardId')
second_open=$(aws kinesis list-shards --stream-name cli --shard-filter Type=AT_LATEST --query 'Shards[1].ShardId')
aws kinesis merge-shards --stream-name cli --shard-to-merge "$first_open" --adjacent-shard-to-merge "$second_open"
check "merge-shards: 3 open" 3 \
  "$(aws kinesis list-shards --stream-name cli --shard-filter Type=AT_LATEST --query 'length(Shards)')"

aws kinesis add-tags-to-stream --stream-name cli --tags team=data,env=test
check "add-tags-to-stream, list-tags-for-stream" "env	test" \
  "$(aws kinesis list-tags-for-stream --stream-name cli --query 'Tags[0].[Key,Value]')"
aws kinesis increase-stream-retention-period --stream-name cli --retention-period-hours 48
check "increase-stream-retention-period" 48 \
  "$(aws kinesis describe-stream-summary --stream-name cli --query StreamDescriptionSummary.RetentionPeriodHours)"
aws kinesis register-stream-consumer --stream-arn "$arn" --consumer-name reader >/dev/null
check "register-stream-consumer, list-stream-consumers" reader \
  "$(aws kinesis list-stream-consumers --stream-arn "$arn" --query 'Consumers[0].ConsumerName')"
check "describe-limits: open shards" 3 "$(aws kinesis describe-limits --query OpenShardCount)"

if aws kinesis delete-stream --stream-name cli 2>/dev/null; then
  check "delete-stream with a consumer is refused" refused deleted
else
  check "delete-stream with a consumer is refused" refused refused
fi
aws kinesis delete-stream --stream-name cli --enforce-consumer-deletion
aws kinesis wait stream-not-exists --stream-name cli
check "delete-stream --enforce-consumer-deletion, wait stream-not-exists" "" "$(aws kinesis list-streams --query 'StreamNames')"

echo "$passed passed, $failed failed"
(( failed == 0 ))
