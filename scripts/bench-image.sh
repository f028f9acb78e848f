#!/usr/bin/env bash
# Benchmark: the image gate against bare `docker login && docker build && docker push` of the
# same kind of image on the same private engine and registry (scripts/services/docker.sh).
#
# Two sizes: tiny (a FROM scratch image holding a static binary and a 16-byte random file)
# and BENCH_MB MiB (default 64: the binary plus a fresh random blob). Every run has fresh
# random content, so every push really uploads a layer, and one tag. The bare baseline logs
# in with a fresh DOCKER_CONFIG each run (`docker login --password-stdin`, timed); the gate's
# time includes everything it does: input parsing, builder choice, private DOCKER_CONFIG,
# credential check, reading the tags before pushing, OCI labels, build, push, digest
# verification against the registry, size, summary. Runs alternate (bare, gate, bare, ...)
# so drift hits both alike; for each size it prints min/median/max of bare, gate and the
# paired difference (each gate run minus the bare run just before it).
#
# Usage: scripts/bench-image.sh [runs per size] (default 5). BENCH_BIN: an already built
# binary (skips the release build). BENCH_REUSE_SERVICES=1: use the engine and registry
# already in DOCKER_HOST/TEST_REGISTRY* instead of starting new ones.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
MB=${BENCH_MB:-64}

trap 'declare -F services_docker_down >/dev/null && services_docker_down; rm -rf "${B:-/nonexistent}"' EXIT
if [ "${BENCH_REUSE_SERVICES:-0}" != 1 ]; then
  source scripts/services/docker.sh
fi
: "${TEST_REGISTRY:?no registry}" "${TEST_REGISTRY_USER:?}" "${TEST_REGISTRY_PASSWORD:?}"

if [ -n "${BENCH_BIN:-}" ]; then
  BIN=$BENCH_BIN
else
  cargo build --release --quiet --bin rust-ci-action
  BIN=$PWD/target/release/rust-ci-action
fi

B=$(mktemp -d /tmp/bench-image.XXXXXX)
gcc -static -O2 -o "$B/hello" tests/fixtures/image/hello.c
mkctx() { # $1 = folder, $2 = MiB of random data (0: 16 bytes)
  mkdir -p "$1"
  cp "$B/hello" "$1/hello"
  if [ "$2" = 0 ]; then head -c 16 /dev/urandom >"$1/blob"; else head -c $(($2 * 1024 * 1024)) /dev/urandom >"$1/blob"; fi
  printf 'FROM scratch\nCOPY hello /hello\nCOPY blob /blob\nENTRYPOINT ["/hello"]\n' >"$1/Dockerfile"
}

now_ms() { date +%s%3N; }
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=(NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "min %d / median %d / max %d ms", a[1], m, a[NR]}'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

bench() { # $1 = label, $2 = MiB
  local label=$1 mb=$2 i t0 out
  local bare_ms=() gate_ms=() diffs=()
  for i in $(seq 1 "$RUNS"); do
    mkctx "$B/bare$i" "$mb"
    local cfg="$B/bare-config$i"; mkdir -p "$cfg"
    t0=$(now_ms)
    printf '%s' "$TEST_REGISTRY_PASSWORD" | DOCKER_CONFIG="$cfg" docker login -u "$TEST_REGISTRY_USER" --password-stdin "$TEST_REGISTRY" >/dev/null 2>&1
    DOCKER_CONFIG="$cfg" docker build -t "$TEST_REGISTRY/bench/bare:$label$i" "$B/bare$i" >/dev/null 2>&1
    DOCKER_CONFIG="$cfg" docker push "$TEST_REGISTRY/bench/bare:$label$i" >/dev/null 2>&1
    bare_ms+=($(( $(now_ms) - t0 )))

    mkctx "$B/gate$i" "$mb"
    out="$B/out$i"; : >"$out"
    t0=$(now_ms)
    env GITHUB_ACTIONS=true GITHUB_OUTPUT="$out" GITHUB_STEP_SUMMARY=/dev/null \
      GITHUB_SHA=ec26c3e57ca3a959ca5aad62de7213c562f8c821 GITHUB_REPOSITORY=octo/hello \
      INPUT_GATE=image INPUT_IMAGE=bench/gate INPUT_REGISTRY="$TEST_REGISTRY" INPUT_TAGS="$label$i" \
      INPUT_REGISTRY-USERNAME="$TEST_REGISTRY_USER" INPUT_REGISTRY-PASSWORD="$TEST_REGISTRY_PASSWORD" \
      INPUT_CONTEXT="$B/gate$i" "$BIN" >"$B/gate$i.log" 2>&1 || { echo "gate run $i failed:"; tail -20 "$B/gate$i.log"; exit 1; }
    gate_ms+=($(( $(now_ms) - t0 )))
    grep -q '^sha256:' "$out" || { echo "gate run $i wrote no digest"; exit 1; }
    diffs+=($(( gate_ms[-1] - bare_ms[-1] )))
    echo "$label run $i: bare ${bare_ms[-1]} ms, gate ${gate_ms[-1]} ms (${diffs[-1]} ms)"
    rm -rf "$B/bare$i" "$B/gate$i" "$cfg"
  done
  local mb_med md
  mb_med=$(median "${bare_ms[@]}"); md=$(median "${diffs[@]}")
  echo "== $label: ${RUNS} paired runs"
  echo "   bare docker login && build && push: $(stats "${bare_ms[@]}")"
  echo "   image gate:                         $(stats "${gate_ms[@]}")"
  echo "   paired difference (gate - bare):    $(stats "${diffs[@]}")"
  awk -v b="$mb_med" -v d="$md" 'BEGIN { printf "   median paired overhead: %+.1f %% (%+d ms)\n", d * 100 / b, d }'
}

bench tiny 0
bench "${MB}mib" "$MB"
