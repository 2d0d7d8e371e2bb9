#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/<target>/; in the manifest only when KINESIS_PUSHER_FUZZ is set) with
# -sanitize=fuzzer,address in their own scratch path, .build-fuzz, and runs each for N seconds (default 60) on a
# temporary copy of its committed seed corpus, Fuzz/Corpus/<target>/. Exits non-zero when a build prints a warning
# in our code, or when any target crashes, fails one of its checks, hangs or runs out of memory; the input that did
# it is kept in .build-fuzz/artifacts/ and printed in hex.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]
#
# FUZZ_WORK_DIR=DIR keeps the working corpora in DIR (to go on from a previous run) instead of a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"

seconds=${1:-60}
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  # Every target: each Fuzz/<target>/ with a main.swift (a list kept by hand would skip a new one silently).
  for main in Fuzz/*/main.swift; do target=${main#Fuzz/}; targets+=("${target%/main.swift}"); done
  if [[ ${#targets[@]} -eq 0 ]]; then echo "no Fuzz/*/main.swift found" >&2; exit 1; fi
fi
for target in "${targets[@]}"; do
  if [[ ! -d Fuzz/Corpus/$target ]] || ! compgen -G "Fuzz/Corpus/$target/*" >/dev/null; then
    echo "$target has no seed corpus in Fuzz/Corpus/$target/" >&2
    exit 1
  fi
done

export KINESIS_PUSHER_FUZZ=1
build_log=.build-fuzz/build.log
mkdir -p .build-fuzz/artifacts
: > "$build_log"
for target in "${targets[@]}"; do
  echo "== build $target"
  if ! swift build --scratch-path .build-fuzz --force-resolved-versions -c release --product "$target" \
      -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld 2>&1 | tee -a "$build_log" \
      | { grep -E "error|warning: .*/(Sources|Fuzz)/|complete" || true; }; then
    echo "build of $target failed" >&2
    exit 1
  fi
done
if grep -E "^$(pwd)/(Sources|Fuzz)/.*warning:" "$build_log"; then
  echo "the fuzz build printed warnings in Sources/ or Fuzz/" >&2
  exit 1
fi
bin=$(swift build --scratch-path .build-fuzz -c release --show-bin-path)

work=${FUZZ_WORK_DIR:-}
if [[ -z $work ]]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
# Swift's runtime keeps some allocations for the life of the process: leak reports would be noise. Swift's own
# crash backtracer would fight ASan over the crashed process; libFuzzer and ASan report crashes themselves.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} SWIFT_BACKTRACE=enable=no
failed=()
for target in "${targets[@]}"; do
  corpus=$work/$target
  mkdir -p "$corpus"
  for seed in Fuzz/Corpus/"$target"/*; do
    [[ -e $corpus/${seed##*/} ]] || cp "$seed" "$corpus"/
  done
  echo "== fuzz $target for ${seconds}s ($(ls "$corpus" | wc -l) inputs to start from)"
  log=$work/$target.log
  if "$bin/$target" -max_total_time="$seconds" -timeout=10 -detect_leaks=0 -print_final_stats=1 \
      -artifact_prefix=.build-fuzz/artifacts/"$target"- "$corpus" > "$log" 2>&1; then
    grep -E "^(#[0-9]+\s+DONE|Done [0-9]+ runs|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))" "$log" || true
    # A clean exit that ran nothing (no final stats, or zero inputs executed) is a failure too.
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    if [[ -z $runs || $runs == 0 ]]; then
      echo "$target exited 0 but executed ${runs:-no} inputs" >&2
      failed+=("$target")
      tail -n 20 "$log"
    fi
  else
    failed+=("$target")
    tail -n 60 "$log"
    for artifact in $(grep -oE "\.build-fuzz/artifacts/$target-[a-z-]+[0-9a-f]+" "$log" | sort -u); do
      echo "-- $artifact (reproduce: $bin/$target $artifact)"
      od -An -tx1 -v "$artifact" | head -n 40
    done
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzing failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzzing: no failures in ${#targets[@]} targets"
