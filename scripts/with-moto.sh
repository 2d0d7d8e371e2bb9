#!/usr/bin/env bash
# Runs a command with two moto_server instances on free loopback ports:
#   KINESIS_PUSHER_MOTO_URL       signature checking off (moto's default)
#   KINESIS_PUSHER_MOTO_AUTH_URL  signature checking on after 3 free calls (INITIAL_NO_AUTH_ACTION_COUNT)
# What it needs it installs: when moto_server or a Python module the tests and scripts import is missing, it
# creates .venv-tests/ (a private virtual environment, gitignored) with them (scripts/lib.sh ensure_test_python);
# the command runs with that venv first on PATH. The servers stop when the command ends; the command's exit
# status is returned.
# Usage: scripts/with-moto.sh swift test --no-parallel
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
ensure_test_python

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

{ read -r port; read -r auth_port; } < <(free_ports 2)
start_moto "$port" MOTO_PORT="$port"
start_moto "$auth_port" INITIAL_NO_AUTH_ACTION_COUNT=3 MOTO_PORT="$auth_port"
wait_for_url "http://127.0.0.1:$port/moto-api/" 20 "$logdir/moto-$port.log"
wait_for_url "http://127.0.0.1:$auth_port/moto-api/" 20 "$logdir/moto-$auth_port.log"
# Each answered: also the one it started (a server that lost its port to another exits, while the other answers).
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "a moto_server exited at start; its logs:" >&2; cat "$logdir"/moto-*.log >&2; exit 1; }
done

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
