#!/usr/bin/env bash
# Runs the micro-benchmarks (the separate package in Benchmarks/, ordo-one/package-benchmark) in release mode and
# prints one table per metric: time and mallocs per unit of work (each benchmark's name says per what; `*` marks
# values scaled to one unit, mallocs rounded to whole ones). Extra arguments go to the benchmark plugin, e.g.
#   scripts/microbench.sh --filter '.*SigV4.*'    (a regular expression matching the whole name)
#   scripts/microbench.sh --scale                 (per 1000 units, unrounded: package-benchmark 1.38.1 scales by default)
# The first run resolves and builds Benchmarks/.build (all dependencies in release: many minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
exec swift package --package-path Benchmarks benchmark --grouping metric --no-progress "$@"
