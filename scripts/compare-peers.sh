#!/usr/bin/env bash
# Peer comparison: KinesisPusher's Runner against boto3 (put_records loop), aiokpl and async-kinesis, each pushing the
# same records to its own `kinesis-pusher local --no-shard-limits` (the contender pinned to CPU 0, the server to CPU 1);
# records/s, CPU per record, records per CPU-second, delivery checked on the server. Writes docs/benchmarks.md, docs/benchmarks.json and docs/benchmarks.png.
# Usage: scripts/compare-peers.sh [--rounds N] [--quick] [--no-pin]   (KINESIS_PUSHER_BIN names a release binary to use;
# otherwise it is built). The peers go into a private venv, .venv-peers/; one that cannot be installed gets a row
# saying so. Takes about 5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-peers
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
fi
# One at a time, so a peer that cannot be installed leaves the others (and its row says "not installed").
for package in boto3 aiokpl 'async-kinesis[kpl]' matplotlib; do
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$package" \
    || echo "warning: pip could not install $package; its rows will say so" >&2
done

bin=${KINESIS_PUSHER_BIN:-}
if [[ -z $bin ]]; then
  nice -n 5 swift build -c release --product kinesis-pusher --scratch-path .build-release >/dev/null
  bin=.build-release/release/kinesis-pusher
fi
exec nice -n 5 "$venv/bin/python" scripts/compare_peers.py --bin "$bin" "$@"
