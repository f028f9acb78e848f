#!/usr/bin/env bash
# Benchmark: the rollout gate's fail fast against `kubectl rollout status` on the same broken
# rollout (an image that cannot be pulled; a crash loop), two in-process fake clusters ticking
# together (examples/bench_failfast.rs says what is measured and how).
#
# Prints each round, then min/median/max of: the gate's wall time from the first conclusive pod
# state to its verdict (target: under 2 s), and how long kubectl goes on waiting after that same
# state on the fake server's clock (the progress deadline, 600 s by default).
# Usage: scripts/bench-failfast.sh [rounds] (default 5). Needs kubectl on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
command -v kubectl >/dev/null || { echo "kubectl is required" >&2; exit 2; }
cargo build --quiet --bin rust-ci-action
cargo run --quiet --example bench_failfast -- "$PWD/target/debug/rust-ci-action" "$ROUNDS"
