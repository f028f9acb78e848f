#!/usr/bin/env bash
# Coverage parser benchmark: generate deterministic Cobertura reports (~100 MB and,
# with --big, ~1 GB) under ${BENCH_DIR:-/tmp} and time one release-built parse of each
# in its own process (wall time and peak RSS from /proc/self/status VmHWM).
# Prints numbers; never fails on them. Targets (2-core runner, release build):
# 100 MB: <= 0.5 s and <= 64 MB peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-/tmp}
big=0
[[ "${1:-}" == "--big" ]] && big=1

cargo build --release --quiet --example parse_bench
bin=target/release/examples/parse_bench

run() { # name scale
  local f="$dir/coverage-bench-$1.xml"
  if [[ ! -s "$f" ]]; then
    "$bin" gen "$f" "$2"
  fi
  echo "== $1 ($(du -h "$f" | cut -f1))"
  for i in 1 2 3; do
    "$bin" parse "$f" cobertura
  done
}

run 100mb 1
if [[ $big == 1 ]]; then
  run 1gb 10
fi
