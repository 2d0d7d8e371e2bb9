#!/usr/bin/env bash
# Runs a command with two moto_server instances on free loopback ports:
#   KINESIS_PUSHER_MOTO_URL       signature checking off (moto's default)
#   KINESIS_PUSHER_MOTO_AUTH_URL  signature checking on after 3 free calls (INITIAL_NO_AUTH_ACTION_COUNT)
# The servers stop when the command ends; the command's exit status is returned.
# Usage: scripts/with-moto.sh swift test
set -euo pipefail

if ! command -v moto_server >/dev/null 2>&1; then
  echo "moto_server not found: pip install 'moto[server]'" >&2
  exit 2
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

logdir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$logdir"
}
trap cleanup EXIT

start_moto() { # port, extra env
  local port=$1; shift
  env "$@" moto_server -H 127.0.0.1 -p "$port" >"$logdir/moto-$port.log" 2>&1 &
  pids+=($!)
}

wait_for() { # url
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  echo "moto_server did not start at $1; its log:" >&2
  cat "$logdir"/*.log >&2
  return 1
}

port=$(free_port)
auth_port=$(free_port)
start_moto "$port" MOTO_PORT="$port"
start_moto "$auth_port" INITIAL_NO_AUTH_ACTION_COUNT=3 MOTO_PORT="$auth_port"
wait_for "http://127.0.0.1:$port/moto-api/"
wait_for "http://127.0.0.1:$auth_port/moto-api/"

export KINESIS_PUSHER_MOTO_URL="http://127.0.0.1:$port"
export KINESIS_PUSHER_MOTO_AUTH_URL="http://127.0.0.1:$auth_port"
# Never reach for a real instance metadata service from a test.
export AWS_EC2_METADATA_DISABLED=true
echo "moto_server at $KINESIS_PUSHER_MOTO_URL (no auth) and $KINESIS_PUSHER_MOTO_AUTH_URL (signature checking)" >&2

set +e
"$@"
status=$?
set -e
exit $status
