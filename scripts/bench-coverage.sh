#!/usr/bin/env bash
# Coverage benchmark: generate deterministic Cobertura reports under ${BENCH_DIR:-/tmp},
# then time, each in its own process, (1) one release-built parse of each report
# (wall, CPU, peak RSS from /proc/self/status VmHWM) and (2) the whole gate, the release
# binary running `coverage --files <report>` locally (wall, CPU, peak RSS from
# /usr/bin/time when installed). Prints numbers; never fails on them.
#
#   scripts/bench-coverage.sh         # ~100 MB: 6,000 files, 2.4 M <line>s
#   scripts/bench-coverage.sh --big   # also ~1 GB twice: 60,000 distinct files, and
#                                     # the same 6,000 files repeated 10 times
#
# Targets (2-core runner, release build, otherwise idle machine), whole gate: 100 MB in
# <= 0.5 s and <= 64 MB peak RSS; a 1 GB report in <= 128 MB. The model keeps about one
# byte per distinct executable line (plus 8 per line with branch data), so the 1 GB
# report with 24 M distinct lines holds ~41 MB of lines; the repeated-files one shows
# that memory follows distinct lines, not input size.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-/tmp}
big=0
[[ "${1:-}" == "--big" ]] && big=1

cargo build --release --quiet --example parse_bench --bin rust-ci-action
bin=target/release/examples/parse_bench
gate=$PWD/target/release/rust-ci-action
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT
timer=()
[[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f "    cpu_s=%U+%S max_rss_kb=%M")

run() { # name, gen args...
  local name=$1; shift
  local f="$dir/coverage-bench-$name.xml"
  [[ -s "$f" ]] || "$bin" gen "$f" "$@"
  echo "== $name ($(du -h "$f" | cut -f1))"
  echo "  parser only:"
  for _ in 1 2 3; do
    "${timer[@]}" "$bin" parse "$f" cobertura
  done
  echo "  whole gate (rust-ci-action coverage --files $f, empty workspace, no GitHub):"
  for _ in 1 2 3; do
    local start end
    start=$(date +%s%N)
    (cd "$ws" && "${timer[@]}" "$gate" coverage --files "$f" --output json 2>&1 >/dev/null \
      | grep -E 'cpu_s=|line coverage' || true)
    end=$(date +%s%N)
    echo "    wall_ms=$(((end - start) / 1000000)) (including process start)"
  done
}

run 100mb 1
if [[ $big == 1 ]]; then
  run 1gb 10
  run 1gb-same-files 10 --same-files
fi
