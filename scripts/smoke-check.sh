#!/usr/bin/env bash
# End-to-end check of `kinesis-pusher check` against moto (run under scripts/with-moto.sh):
# a 4-shard stream prints 4 open shards with their ranges; a missing stream, a wrong secret, no credentials (and
# placeholder credentials on loopback) each exit non-zero within 5 seconds with a one-line reason.
set -euo pipefail
bin=${KINESIS_PUSHER_BIN:-.build/debug/kinesis-pusher}
: "${KINESIS_PUSHER_MOTO_URL:?run under scripts/with-moto.sh}"
: "${KINESIS_PUSHER_MOTO_AUTH_URL:?run under scripts/with-moto.sh}"
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true HOME=/nonexistent-smoke-home
stream="smoke-$RANDOM$RANDOM"
failures=0

# A user with full rights on the signature-checking moto (the three free calls), and a 4-shard stream there.
read -r key secret < <(python3 - "$KINESIS_PUSHER_MOTO_AUTH_URL" "$stream" <<'PY'
import json, sys, urllib.request
import boto3
url, stream = sys.argv[1], sys.argv[2]
urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset-auth", data=b"3", headers={"Content-Type": "text/plain"}))
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDSETUP", aws_secret_access_key="x")
iam.create_user(UserName="smoke")
iam.put_user_policy(UserName="smoke", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
k = iam.create_access_key(UserName="smoke")["AccessKey"]
boto3.client("kinesis", endpoint_url=url, region_name="us-east-1", aws_access_key_id=k["AccessKeyId"],
             aws_secret_access_key=k["SecretAccessKey"]).create_stream(StreamName=stream, ShardCount=4)
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
)

expect_failure() { # description, expected fragment, command...
  local description=$1 fragment=$2; shift 2
  local start end output status
  start=$(date +%s.%N)
  set +e; output=$("$@" 2>&1); status=$?; set -e
  end=$(date +%s.%N)
  local seconds; seconds=$(python3 -c "print(f'{$end - $start:.2f}')")
  # A "note:" line (what a loopback endpoint got filled in) does not count against the one-line reason.
  local lines; lines=$(printf '%s\n' "$output" | grep -v '^note: ' | grep -c . || true)
  if [[ $status -ne 0 && $output == *"$fragment"* && $lines -eq 1 ]] && python3 -c "import sys; sys.exit(0 if $seconds < 5 else 1)"; then
    echo "ok   $description: exit $status in ${seconds}s: $output"
  else
    echo "FAIL $description: exit $status in ${seconds}s ($lines lines): $output"; failures=$((failures + 1))
  fi
}

output=$(AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret "$bin" check --stream "$stream" --endpoint "$KINESIS_PUSHER_MOTO_AUTH_URL")
echo "$output"
if [[ $output == *"open shards:     4"* ]] && [[ $(grep -c '^  shardId-' <<<"$output") -eq 4 ]] \
  && [[ $output == *"255211775190703847597530955573826158592 … 340282366920938463463374607431768211455"* ]]; then
  echo "ok   4-shard stream: 4 open shards with their ranges (signed requests accepted by moto's verifier)"
else
  echo "FAIL 4-shard stream output"; failures=$((failures + 1))
fi

expect_failure "missing stream" "stream 'no-such-stream' not found" \
  env AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" "$bin" check --stream no-such-stream --endpoint "$KINESIS_PUSHER_MOTO_AUTH_URL"
expect_failure "wrong secret" "credentials rejected" \
  env AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY=wrong-secret "$bin" check --stream "$stream" --endpoint "$KINESIS_PUSHER_MOTO_AUTH_URL"
# No credentials: a loopback endpoint is signed for with placeholder credentials (which a verifying server
# rejects); any other endpoint fails before any request. 0.0.0.0 is not a loopback endpoint by that rule, and
# nothing is sent to it: the credentials fail first.
expect_failure "no credentials, loopback endpoint: placeholders rejected" "credentials rejected" \
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$bin" check --stream "$stream" --endpoint "$KINESIS_PUSHER_MOTO_AUTH_URL"
expect_failure "no credentials" "no usable credentials" \
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$bin" check --stream "$stream" --endpoint http://0.0.0.0:1
expect_failure "unreachable endpoint" "endpoint unreachable" \
  env AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" "$bin" check --stream "$stream" --endpoint http://127.0.0.1:1

# Put the auth server back into no-auth mode for anything that runs after us.
python3 -c "import urllib.request, sys; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/moto-api/reset-auth', data=b'inf', headers={'Content-Type': 'text/plain'}))" "$KINESIS_PUSHER_MOTO_AUTH_URL"
if [[ $failures -eq 0 ]]; then echo "smoke-check: all passed"; else echo "smoke-check: $failures failed"; exit 1; fi
