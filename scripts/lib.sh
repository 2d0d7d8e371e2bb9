# Helpers shared by the scripts (source it: `. "$(dirname "$0")/lib.sh"`). One copy of each: free ports, waiting
# for a server, and the Python the scripts and tests need.

# free_ports N: prints N TCP ports on 127.0.0.1 that nothing listens on now, one per line, all different: they are
# bound at once (two free_port calls in a row can print the same port, which the kernel hands out again once the
# probe closes: CI once started both moto_servers on one port). free_port: one.
free_ports() {
  python3 -c 'import socket, sys
probes = [socket.socket() for _ in range(int(sys.argv[1]))]
for probe in probes: probe.bind(("127.0.0.1", 0))
print("\n".join(str(probe.getsockname()[1]) for probe in probes))' "$1"
}
free_port() { free_ports 1; }

# wait_for_url URL [SECONDS [LOG...]]: returns once URL answers 2xx (default within 20 s); otherwise prints why and
# the LOG files (the server's output) and fails.
wait_for_url() {
  local url=$1 seconds=${2:-20}
  shift $(( $# < 2 ? $# : 2 ))
  local deadline=$(( $(date +%s) + seconds ))
  while (( $(date +%s) < deadline )); do
    curl -sf --max-time 1 ${WAIT_FOR_URL_HEADER:+-H "$WAIT_FOR_URL_HEADER"} -o /dev/null "$url" && return 0
    sleep 0.1
  done
  echo "no answer from $url within $seconds s" >&2
  local log
  for log in "$@"; do echo "--- $log:" >&2; tail -n 20 "$log" >&2 || true; done
  return 1
}

# wait_for_status URL STATUS [SECONDS]: returns once URL answers HTTP STATUS (e.g. 401 from an endpoint behind
# Basic Auth; default within 10 s); otherwise says so and fails.
wait_for_status() {
  local url=$1 want=$2 seconds=${3:-10}
  local deadline=$(( $(date +%s) + seconds ))
  while (( $(date +%s) < deadline )); do
    [[ $(curl -s --max-time 1 -o /dev/null -w '%{http_code}' "$url" || true) == "$want" ]] && return 0
    sleep 0.05
  done
  echo "$url did not answer $want within $seconds s" >&2
  return 1
}

# The admin token of every `kinesis-pusher local` the scripts start (pass `--admin-token "$LOCAL_ADMIN_TOKEN"`):
# /_admin requests must send it as `Authorization: Bearer TOKEN` ("${LOCAL_ADMIN_HEADER[@]}" for curl). Exported,
# so the Python helpers the scripts run read it too.
export LOCAL_ADMIN_TOKEN=${LOCAL_ADMIN_TOKEN:-$(python3 -c 'import secrets; print(secrets.token_hex(16))')}
LOCAL_ADMIN_HEADER=(-H "Authorization: Bearer $LOCAL_ADMIN_TOKEN")

# wait_for_local ENDPOINT [LOG...]: returns once KinesisLocal's admin endpoint answers (fails after 20 s).
wait_for_local() {
  local endpoint=$1; shift
  WAIT_FOR_URL_HEADER="Authorization: Bearer $LOCAL_ADMIN_TOKEN" wait_for_url "$endpoint/_admin/stats" 20 "$@"
}

# The Python modules the tests and scripts import, and the pip packages that bring them.
TEST_PYTHON_MODULES="moto.server, flask, boto3, aws_kinesis_agg.deaggregator, google.protobuf, six, cbor2"
# moto pinned: 5.2.6 refuses ListShards follow-up pages that carry only NextToken (as AWS requires), 5.1.22
# reports an EndingHashKey of 2^128.
TEST_PYTHON_PACKAGES=("moto[server]==5.2.0" boto3 aws-kinesis-agg protobuf six cbor2)

# test_python_ready: whether `python3` on PATH imports every module above and `moto_server` is on PATH.
test_python_ready() {
  command -v moto_server >/dev/null 2>&1 && python3 -c "import $TEST_PYTHON_MODULES" 2>/dev/null
}

# ensure_test_python: makes `python3` and `moto_server` on PATH the ones with everything above. Uses the repo's
# private virtual environment, .venv-tests/ (gitignored), when it exists; otherwise the python3 on PATH as it is
# when that has everything; otherwise creates .venv-tests/ with `python3 -m venv` and pip-installs the packages into
# it. Exports PATH with .venv-tests/bin first whenever the venv is used, so commands run afterwards (and
# `python3 scripts/...`) get the same interpreter.
ensure_test_python() {
  local root venv
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  venv=$root/.venv-tests
  if [[ -x $venv/bin/python3 && :$PATH: != *":$venv/bin:"* ]]; then export PATH="$venv/bin:$PATH"; fi
  test_python_ready && return 0
  echo "python3 on PATH lacks some of: moto_server, $TEST_PYTHON_MODULES; installing ${TEST_PYTHON_PACKAGES[*]} into $venv" >&2
  if [[ ! -x $venv/bin/python3 ]]; then
    python3 -m venv "$venv" || { echo "python3 -m venv $venv failed (Debian: apt-get install python3-venv)" >&2; return 1; }
    export PATH="$venv/bin:$PATH"
  fi
  "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "${TEST_PYTHON_PACKAGES[@]}" \
    || { echo "pip could not install ${TEST_PYTHON_PACKAGES[*]} into $venv" >&2; return 1; }
  test_python_ready || { echo "$venv still lacks some of: moto_server, $TEST_PYTHON_MODULES" >&2; return 1; }
}
