#!/usr/bin/env bash
# Coverage parser benchmark: generate deterministic Cobertura reports under
# ${BENCH_DIR:-/tmp} and time one release-built parse of each, each in its own process
# (wall time, CPU time, peak RSS from /proc/self/status VmHWM). Prints numbers; never
# fails on them.
#
#   scripts/bench-coverage.sh         # ~100 MB: 6,000 files, 2.4 M <line>s
#   scripts/bench-coverage.sh --big   # also ~1 GB twice: 60,000 distinct files, and
#                                     # the same 6,000 files repeated 10 times
#
# Targets (2-core runner, release build, otherwise idle machine): 100 MB in <= 0.5 s
# and <= 64 MB peak RSS. A report's model costs 12 bytes per distinct executable line,
# so the 1 GB report with 24 M distinct lines needs >= 275 MB whatever the parser does;
# the repeated-files one shows that memory follows distinct lines, not input size.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-/tmp}
big=0
[[ "${1:-}" == "--big" ]] && big=1

cargo build --release --quiet --example parse_bench
bin=target/release/examples/parse_bench
timer=()
[[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f "    cpu_s=%U+%S max_rss_kb=%M")

run() { # name, gen args...
  local name=$1; shift
  local f="$dir/coverage-bench-$name.xml"
  [[ -s "$f" ]] || "$bin" gen "$f" "$@"
  echo "== $name ($(du -h "$f" | cut -f1))"
  for _ in 1 2 3; do
    "${timer[@]}" "$bin" parse "$f" cobertura
  done
}

run 100mb 1
if [[ $big == 1 ]]; then
  run 1gb 10
  run 1gb-same-files 10 --same-files
fi
