#!/usr/bin/env bash
# Fault soak, end to end through `kinesis-pusher local` (per-shard limits on):
#  1. Four pushes at once — sync, async, async --aggregate, async --ordered — each fed by a paced NDJSON generator
#     (RATE records/s, 500 keys, every record a unique id and its key's sequence number) on its own 4-shard stream,
#     with every fault on together: 5 % of records throttled, 3 % InternalFailure, 2 % of requests HTTP 500, 2 %
#     throttled whole, 1 % KMSThrottlingException, 1 % of connections dropped, 20 ms of latency with a spike every
#     period (1.5 s; every third one 7 s, past the client's 6 s timeout, so records stored but unanswered are sent
#     again), a reshard every period (4 → 8 → 4 …), and credentials that expire: the pushes get theirs from a
#     credential_process that hands out a new access key each call, alternately valid for an hour (KinesisLocal's
#     --expire-token-after ends it first: ExpiredTokenException, refresh, retry) and for a few minutes (the cache
#     refreshes it in the background). Records never expire (--record-ttl never). The run fails if a fault that the
#     run length implies did not happen: a controller request failed, a spike or reshard was not applied (each
#     stream's shard count is checked on the server), or fewer credential_process calls or ExpiredTokenException
#     answers than the requests served imply (soak.py faults-check says how). Afterwards every stream is read
#     back KCL-style; per mode: sent, delivered, duplicates, lost (must be 0), order violations (ordered mode:
#     must be 0), and the push's RSS sampled every second (must stay flat: last third's peak within 20 % of the
#     first third's).
#  2. Many producers, one stream: 4 async pushes (default 100 % rate limit) into one 4-shard stream, no faults, for
#     MANY_SECONDS (60; 20 with --quick): together ≥ 85 % of the 4000 records/s limit once started, < 10 % of
#     attempts throttled over the whole run (with --quick in the steady window: 20 s cannot amortize the start,
#     where each producer opens with a full bucket), per-producer shares, nothing lost.
# Usage: scripts/soak.sh [--minutes N | --quick]   (default 10 minutes; --quick: 1 minute and a 20 s phase 2)
# KINESIS_PUSHER_BIN picks the binary (a release build for long runs); RATE, EXPIRE_AFTER, MANY_SECONDS override;
# KEEP_WORK=1 keeps the logs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${KINESIS_PUSHER_BIN:-.build/debug/kinesis-pusher}
minutes=10
quick=0
while (( $# > 0 )); do
  case $1 in
    --quick) quick=1; minutes=1 ;;
    --minutes) minutes=$2; shift ;;
    *) echo "usage: $0 [--minutes N | --quick]" >&2; exit 2 ;;
  esac
  shift
done
seconds=$(python3 -c "print(int(float('$minutes') * 60))")
# Full batches mean a few hundred requests per push a minute: keys expire often enough to rotate several times.
if (( seconds >= 180 )); then period=60; warmup=20; expire_after=${EXPIRE_AFTER:-800}; else period=20; warmup=5; expire_after=${EXPIRE_AFTER:-100}; fi
rate=${RATE:-1000}
many_seconds=${MANY_SECONDS:-$(( quick ? 20 : 60 ))}
modes=(sync async aggregated ordered)

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; if [[ -n ${KEEP_WORK:-} ]]; then echo "logs kept in $work"; else rm -rf "$work"; fi' EXIT
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export AWS_CONFIG_FILE=$work/config AWS_SHARED_CREDENTIALS_FILE=$work/credentials
# The pushes name this profile (which skips the environment's static key, used only to read back and in phase 2).
cat >"$work/config" <<EOF
[profile soak]
credential_process = python3 "$here/soak.py" creds "$work/credentials.log" $((300 + period))
EOF
failures=0

echo "1. fault soak: ${seconds} s, four modes at $rate records/s each, every fault on, a spike and a reshard every ${period} s, keys expire after $expire_after requests"
port=$(free_port)
endpoint=http://127.0.0.1:$port
faults="{\"recordThrottleRate\":0.05,\"recordInternalFailureRate\":0.03,\"requestInternalErrorRate\":0.02,\"requestThrottleRate\":0.02,\
\"kmsThrottlingRate\":0.01,\"dropConnectionRate\":0.01,\"addedLatencyMilliseconds\":20,\"expiredTokenAfterRequests\":$expire_after,\"seed\":7}"
streams=()
for mode in "${modes[@]}"; do streams+=(--stream "soak-$mode:4"); done
"$bin" local --port "$port" "${streams[@]}" --retain-records 50000000 --retain-mib 16384 \
  --throttle-records 0.05 --fail-records 0.03 --fail-requests 0.02 --throttle-requests 0.02 --kms-throttle 0.01 \
  --drop-connections 0.01 --latency-ms 20 --expire-token-after "$expire_after" --seed 7 \
  --admin-token "$LOCAL_ADMIN_TOKEN" >"$work/local.log" 2>&1 &
pids+=($!)
wait_for_local "$endpoint"
curl -sf "${LOCAL_ADMIN_HEADER[@]}" -X POST "$endpoint/_admin/faults" -d "$faults" >/dev/null  # the same set the controller toggles around

declare -A push_pid
for mode in "${modes[@]}"; do
  case $mode in
    sync) flags=() ;;
    async) flags=(--async) ;;
    aggregated) flags=(--async --aggregate) ;;
    ordered) flags=(--async --ordered) ;;
  esac
  python3 "$here/soak.py" gen "$rate" "$seconds" 500 "$work/$mode.count" \
    | "$bin" push --stream "soak-$mode" --endpoint "$endpoint" --profile soak --format ndjson --partition-key-field key \
        --record-ttl never --shutdown-timeout 10m --debug --report json "${flags[@]}" >"$work/$mode.json" 2>"$work/$mode.log" &
  push_pid[$mode]=$!
  pids+=($!)
  python3 "$here/soak.py" mem "${push_pid[$mode]}" "$work/$mode.mem" &
  pids+=($!)
done
python3 "$here/soak.py" chaos "$endpoint" "$seconds" "$period" "$faults" "$work/chaos.json" "${modes[@]/#/soak-}" >"$work/chaos.log" &
chaos_pid=$!
pids+=($chaos_pid)
declare -A push_status
for mode in "${modes[@]}"; do
  status=0
  wait "${push_pid[$mode]}" || status=$?
  push_status[$mode]=$status
done
# The controller's last change is due before the generators stop, so it has finished (or is finishing) by now.
chaos_status=0
wait "$chaos_pid" || chaos_status=$?
if (( chaos_status != 0 )); then
  echo "  FAIL fault controller exited $chaos_status:"; grep failed "$work/chaos.log" || tail -n 5 "$work/chaos.log"
  failures=$((failures + 1))
fi
# Checked before the read-back, whose requests would count against the credentials' bound.
python3 "$here/soak.py" faults-check "$endpoint" "$seconds" "$period" "$faults" "$work/chaos.json" \
  "$work/credentials.log" "${modes[@]/#/soak-}" || failures=$((failures + 1))
curl -sf "${LOCAL_ADMIN_HEADER[@]}" -X POST "$endpoint/_admin/faults" -d '{}' >/dev/null  # faults off for the read-back
for mode in "${modes[@]}"; do
  "$bin" read --stream "soak-$mode" --endpoint "$endpoint" --deaggregate --summary-file "$work/$mode.read.json" \
    >"$work/$mode.out" 2>"$work/$mode.read.err"
  python3 "$here/soak.py" verify "$mode" "$work/$mode.count" "$work/$mode.out" "$work/$mode.read.json" "$work/$mode.json" \
    "$work/$mode.mem" "$seconds" "$warmup" "$([[ $mode == ordered ]] && echo 1 || echo '')" "${push_status[$mode]}" "$work/$mode.log" \
    || { failures=$((failures + 1)); tail -n 5 "$work/$mode.log"; }
done
rm -f "$work"/*.out

echo "2. many producers, one stream: 4 async pushes into 4 shards with limits on (4000 records/s), no faults, ${many_seconds} s"
port2=$(free_port)
endpoint2=http://127.0.0.1:$port2
"$bin" local --port "$port2" --stream many:4 --retain-records 50000000 --retain-mib 16384 --admin-token "$LOCAL_ADMIN_TOKEN" \
  >"$work/local2.log" 2>&1 &
pids+=($!)
wait_for_local "$endpoint2"
producers=()
declare -A many_pid
for p in 0 1 2 3; do
  python3 "$here/soak.py" gen-fast "$p" "$many_seconds" "$work/many$p.count" \
    | "$bin" push --stream many --endpoint "$endpoint2" --async --format ndjson --partition-key-field key --report json \
        >"$work/many$p.json" 2>"$work/many$p.log" &
  many_pid[$p]=$!
  pids+=($!)
done
python3 "$here/soak.py" stats-watch "$endpoint2" many "$many_seconds" "$work/many.samples"
for p in 0 1 2 3; do
  status=0
  wait "${many_pid[$p]}" || status=$?
  producers+=("$p:$work/many$p.count:$work/many$p.json:$status")
done
"$bin" read --stream many --endpoint "$endpoint2" --summary-file "$work/many.read.json" >"$work/many.out" 2>"$work/many.read.err"
python3 "$here/soak.py" many "$endpoint2" many "$work/many.samples" "$(( quick ? 3 : 5 ))" \
  "$( (( quick )) && echo window || echo run)" "$work/many.out" "${producers[@]}" \
  || failures=$((failures + 1))

if (( failures > 0 )); then echo "$failures check(s) failed"; exit 1; fi
echo "all soak checks passed"
