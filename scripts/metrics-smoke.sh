#!/usr/bin/env bash
# End to end: `push --metrics-port` under injected faults serves /metrics with Basic Auth (401 without or with
# wrong credentials, 200 with the right ones); the exposition has the push-delay histogram and the records counter;
# at the end failed − recovered equals the summary's failed count (zero when all was delivered, non-zero with
# --max-attempts 2); the push that delivers everything exits 0 and the --max-attempts 2 one, whose records fail,
# exits non-zero; promtool accepts the exposition (PROMTOOL names it; skipped with a note when unset, a failure
# with CI=true). Every check is counted; any failed one (or any unexpected error) makes the script exit non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${KINESIS_PUSHER_BIN:-.build/debug/kinesis-pusher}
export AWS_ACCESS_KEY_ID=AKIDSMOKE AWS_SECRET_ACCESS_KEY=smoke AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
work=$(mktemp -d)
{ read -r port; read -r metrics_port; } < <(free_ports 2)
server=""
trap '[[ -n $server ]] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
"$bin" local --port "$port" --stream smoke:4 --no-shard-limits --throttle-records 0.2 --fail-records 0.05 \
  --fail-requests 0.02 --drop-connections 0.01 --admin-token "$LOCAL_ADMIN_TOKEN" >"$work/local.log" 2>&1 &
server=$!
wait_for_local "http://127.0.0.1:$port" "$work/local.log"
failures=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi; }
lost_matches() { # metrics file, report file → prints and checks failed − recovered against the summary
  python3 - "$1" "$2" <<'PY'
import json, re, sys
text, report = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
def value(status):
    m = re.search(r'^kinesis_pusher_records_total\{[^}]*status="%s"[^}]*\} (\S+)$' % status, text, re.M)
    return float(m.group(1)) if m else 0.0
lost = value("failed") - value("recovered")
print(f"     success {value('success'):.0f}, failed {value('failed'):.0f}, recovered {value('recovered'):.0f}; summary delivered {report['delivered']}, failed {report['failed']}")
sys.exit(0 if lost == report["failed"] and value("success") == report["delivered"] else 1)
PY
}

seq 1 50000 >"$work/input.txt"
printf 'pa55-word' >"$work/password"
"$bin" push --stream smoke --endpoint "http://127.0.0.1:$port" --async --no-rate-limit --report json \
  --metrics-port "$metrics_port" --metrics-user prom --metrics-password-file "$work/password" \
  --metrics-textfile "$work/final.prom" "$work/input.txt" >"$work/report.json" 2>"$work/push.log" &
push=$!
url="http://127.0.0.1:$metrics_port/metrics"
wait_for_status "$url" 401 10 || true  # the checks below say what it answered
none=$(curl -s -o /dev/null -w '%{http_code}' "$url") || true
wrong=$(curl -s -o /dev/null -w '%{http_code}' -u prom:wrong "$url") || true
right=$(curl -s -o "$work/live.prom" -w '%{http_code}' -u prom:pa55-word "$url") || true
status=0
wait "$push" || status=$?
check "push under faults exits 0 (got $status)" '[[ $status == 0 ]]'
check "no credentials → 401 (got $none)" '[[ $none == 401 ]]'
check "wrong credentials → 401 (got $wrong)" '[[ $wrong == 401 ]]'
check "right credentials → 200 (got $right)" '[[ $right == 200 ]]'
check "live /metrics has the push-delay histogram" 'grep -q "^kinesis_pusher_push_delay_seconds_bucket" "$work/live.prom"'
check "final metrics have the records counter with success, failed and recovered" \
  'grep -q "status=\"success\"" "$work/final.prom" && grep -q "status=\"failed\"" "$work/final.prom" && grep -q "status=\"recovered\"" "$work/final.prom"'
check "every record delivered: failed − recovered = summary failed = 0" 'lost_matches "$work/final.prom" "$work/report.json"'

seq 1 20000 >"$work/input2.txt"
status2=0
"$bin" push --stream smoke --endpoint "http://127.0.0.1:$port" --async --no-rate-limit --max-attempts 2 --report json \
  --metrics-textfile "$work/final2.prom" "$work/input2.txt" >"$work/report2.json" 2>"$work/push2.log" || status2=$?
check "push with --max-attempts 2, records failed, exits non-zero (got $status2)" '[[ $status2 != 0 ]]'
check "with --max-attempts 2 some records fail: failed − recovered = summary failed" \
  'lost_matches "$work/final2.prom" "$work/report2.json" && python3 -c "import json,sys; sys.exit(0 if json.load(open(\"$work/report2.json\"))[\"failed\"] > 0 else 1)"'

if [[ -n ${PROMTOOL:-} ]]; then
  check "promtool check metrics (live scrape)" '"$PROMTOOL" check metrics <"$work/live.prom"'
  check "promtool check metrics (final)" '"$PROMTOOL" check metrics <"$work/final2.prom"'
elif [[ ${CI:-} == true ]]; then
  check "promtool available in CI (PROMTOOL is unset)" false
else
  echo "note: PROMTOOL not set; promtool check skipped"
fi
if [[ $failures -eq 0 ]]; then echo "metrics-smoke: all passed"; else echo "metrics-smoke: $failures failed"; exit 1; fi
