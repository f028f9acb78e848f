#!/usr/bin/env bash
# Prints two start-up numbers (targets: launcher overhead <= 50 ms, cold start <= 5 ms):
#   1. the binary's start for `--version` (a new process each run, page cache warm);
#   2. the launcher's overhead with the binary in the tool cache: `bash dist/launcher.sh
#      --version` minus 1, the cost every composite-action step pays.
# Usage: scripts/bench-launcher.sh [BINARY]  (default: the static release build, else
# target/release/rust-ci-action). Needs hyperfine (apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-}
if [ -z "$BIN" ]; then
  for c in target/x86_64-unknown-linux-gnu/release/rust-ci-action target/release/rust-ci-action; do
    if [ -x "$c" ]; then BIN=$c; break; fi
  done
fi
[ -n "$BIN" ] && [ -x "$BIN" ] || { echo "bench-launcher: no binary; build one with cargo build --release" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench-launcher: hyperfine missing (apt-get install hyperfine)" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# An action checkout and a tool cache laid out as the launcher leaves them after a download.
mkdir -p "$tmp/action/dist"
cp Cargo.toml "$tmp/action/"
cp dist/launcher.sh dist/checksums.txt "$tmp/action/dist/"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
case "$(uname -m)" in aarch64 | arm64) arch=ARM64 ;; *) arch=X64 ;; esac
arch_id=$(printf '%s' "$arch" | tr '[:upper:]' '[:lower:]')
mkdir -p "$tmp/cache/rust-ci-action/$version/$arch_id"
cp "$BIN" "$tmp/cache/rust-ci-action/$version/$arch_id/rust-ci-action"
: >"$tmp/cache/rust-ci-action/$version/$arch_id.complete"
export RUNNER_OS=Linux RUNNER_ARCH=$arch RUNNER_TOOL_CACHE=$tmp/cache
cached=$tmp/cache/rust-ci-action/$version/$arch_id/rust-ci-action

"$tmp/action/dist/launcher.sh" --version >/dev/null # fails loudly if the cache is not used
hyperfine --shell=none --warmup 20 --runs "${RUNS:-300}" --style basic --export-json "$tmp/bench.json" \
  --command-name "binary --version" "$cached --version" \
  --command-name "launcher (cached) --version" "bash $tmp/action/dist/launcher.sh --version" >&2

python3 - "$tmp/bench.json" "$BIN" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
b, l = r["binary --version"], r["launcher (cached) --version"]
ms = lambda s: s * 1000
print(f"binary: {sys.argv[2]}")
print(f"cold start, --version:        mean {ms(b['mean']):.2f} ms, median {ms(b['median']):.2f} ms, min {ms(b['min']):.2f} ms (target <= 5 ms)")
print(f"launcher overhead (cached):   mean {ms(l['mean'] - b['mean']):.2f} ms, median {ms(l['median'] - b['median']):.2f} ms "
      f"(launcher total mean {ms(l['mean']):.2f} ms; target <= 50 ms)")
PY
