#!/usr/bin/env bash
# Peer comparison and the paths users run: KinesisPusher's Runner (`bench producer`) and command line (`push` from a
# file) against boto3 (put_records loop), an aws-sdk-go-v2 PutRecords loop, aiokpl and async-kinesis, each pushing
# the same records to its own `kinesis-pusher local --no-shard-limits` (the contender pinned to CPU 0, the server to
# CPU 1); then a paced push (per-shard limits on) against the unpaced one, and the fault matrix (push sync and
# async, and a Go re-creation of the seed's runner); then issue 13's targets checked against the run's own baselines.
# records/s, CPU per record, records per CPU-second, delivery checked on the server. Writes docs/benchmarks.md,
# docs/benchmarks.json and docs/benchmarks.png.
# Usage: scripts/compare-peers.sh [--rounds N] [--quick] [--no-pin] [--sections peers,paced,faults]
#   (KINESIS_PUSHER_BIN names a release binary to use; otherwise it is built). The Python peers go into a private
# venv, .venv-peers/; the Go contenders (Benchmarks/go-peers) are built offline into .build-go/ from Debian's
# golang-go and golang-github-aws-aws-sdk-go-v2-dev (installed with apt-get when missing and run as root). One that
# cannot be installed or built gets a row saying so. A full run takes about 20 minutes on 2 quiet cores, --quick a
# few (both far longer on a busy machine: the pinned contenders get little of their CPU).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-peers
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
fi
# One at a time, so a peer that cannot be installed leaves the others (and its row says "not installed"). aiobotocore
# (under async-kinesis) pins botocore to a narrow range and boto3 follows botocore's version: boto3 goes last, held
# to the botocore already there, so neither install moves botocore out of the other's range (and pip need not
# backtrack through boto3's releases).
for package in aiokpl 'async-kinesis[kpl]' matplotlib; do
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$package" \
    || echo "warning: pip could not install $package; its rows will say so" >&2
done
botocore=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("botocore"))' 2>/dev/null || true)
boto3=(boto3)
[[ -n $botocore ]] && boto3=("boto3<=$botocore" "botocore==$botocore")
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${boto3[@]}" \
  || echo "warning: pip could not install boto3; its rows will say so" >&2

bin=${KINESIS_PUSHER_BIN:-}
if [[ -z $bin ]]; then
  nice -n 5 swift build -c release --product kinesis-pusher --scratch-path .build-release >/dev/null
  bin=.build-release/release/kinesis-pusher
fi
# The Go contenders: built with no network (GOPROXY=off; go.mod's replace directives point at /usr/share/gocode).
go_out=.build-go
go_sdk=/usr/share/gocode/src/github.com/aws/aws-sdk-go-v2/service/kinesis
mkdir -p "$go_out"
rm -f "$go_out/unavailable.txt"
if { ! command -v go >/dev/null || [[ ! -d $go_sdk ]]; } && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  go_packages=(golang-go golang-github-aws-aws-sdk-go-v2-dev)
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${go_packages[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${go_packages[@]}" >/dev/null 2>&1; } \
    || echo "warning: apt-get could not install ${go_packages[*]}; the Go rows will say so" >&2
fi
if ! command -v go >/dev/null || [[ ! -d $go_sdk ]]; then
  echo "Debian's golang-go and golang-github-aws-aws-sdk-go-v2-dev are not installed" > "$go_out/unavailable.txt"
elif ! (cd Benchmarks/go-peers && GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off \
        nice -n 5 go build -o "../../$go_out/" ./putrecords ./seedrunner) 2> "$go_out/build.log"; then
  echo "go build failed: $(grep -v '^#' "$go_out/build.log" | head -1)" > "$go_out/unavailable.txt"
  rm -f "$go_out/putrecords" "$go_out/seedrunner"
fi
[[ -f $go_out/unavailable.txt ]] && echo "warning: no Go contenders: $(cat "$go_out/unavailable.txt")" >&2

exec nice -n 5 "$venv/bin/python" scripts/compare_peers.py --bin "$bin" --go-bin "$go_out" "$@"
