#!/usr/bin/env bash
# `kinesis-pusher local --tls`, then `push` over HTTPS trusting the certificate it printed: every line delivered
# and read back; a push that does not trust it fails at once, saying so.
#
# Usage: scripts/tls-push.sh [--bin .build/debug/kinesis-pusher]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
bin=${2:-.build/debug/kinesis-pusher}
[[ ${1:-} == --bin || -z ${1:-} ]] || { echo "usage: $0 [--bin PATH]" >&2; exit 2; }

work=$(mktemp -d)
port=$(free_port)
"$bin" local --port "$port" --stream s:2 --tls --tls-dir "$work/tls" --admin-token "$LOCAL_ADMIN_TOKEN" > "$work/local.out" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "TLS certificate:" "$work/local.out" && break; sleep 0.1; done
cert=$(awk '/TLS certificate:/ {print $3}' "$work/local.out")
endpoint=$(awk '/listening on/ {print $NF}' "$work/local.out")
[[ $endpoint == https://* && -f $cert ]] || { echo "FAIL no https endpoint or certificate in the banner:"; cat "$work/local.out"; exit 1; }

seq 1 2000 | sed 's/^/tls-line-/' > "$work/in.txt"
failed=0
delivered=$("$bin" push --stream s --endpoint "$endpoint" --ca-bundle "$cert" --report json "$work/in.txt" 2>/dev/null \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["delivered"])')
if [[ $delivered == 2000 ]]; then echo "ok   push --ca-bundle over HTTPS: 2000 delivered"; else echo "FAIL push --ca-bundle: delivered $delivered"; failed=1; fi
read_back=$(AWS_CA_BUNDLE=$cert "$bin" read --stream s --endpoint "$endpoint" 2>/dev/null | wc -l)
if [[ $read_back == 2000 ]]; then echo "ok   read with AWS_CA_BUNDLE: 2000 lines"; else echo "FAIL read back $read_back lines"; failed=1; fi
if message=$(timeout 30 "$bin" push --stream s --endpoint "$endpoint" "$work/in.txt" 2>&1); then
  echo "FAIL a push that does not trust the certificate succeeded"; failed=1
elif [[ $message == *"certificate is not trusted"* ]]; then
  echo "ok   without the bundle: refused, saying the certificate is not trusted"
else
  echo "FAIL without the bundle: $message"; failed=1
fi
exit "$failed"
