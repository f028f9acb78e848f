#!/usr/bin/env bash
# Benchmark: the image gate against a bare `docker build && docker push` of the same kind of
# image on the same private engine and registry (scripts/services/docker.sh).
#
# Each run builds a FROM scratch image holding a static binary and a fresh random blob
# (BENCH_MB MiB, new per run, so every push really uploads a layer), tagged once. The bare
# baseline is already logged in (its `docker login` is not timed); the gate's time includes
# everything it does: input parsing, daemon probe, private DOCKER_CONFIG, credential check,
# OCI labels, build, push, digest verification against the registry, size, summary.
# Runs alternate (bare, gate, bare, ...) so drift hits both alike; medians are printed with
# the overhead in percent. Usage: scripts/bench-image.sh [runs] (default 9); BENCH_MB sets the
# layer size (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-9}
MB=${BENCH_MB:-16}

trap 'declare -F services_docker_down >/dev/null && services_docker_down; rm -rf "${B:-/nonexistent}"' EXIT
source scripts/services/docker.sh

# BENCH_BIN: an already built binary (skips the release build).
if [ -n "${BENCH_BIN:-}" ]; then
  BIN=$BENCH_BIN
else
  cargo build --release --quiet --bin rust-ci-action
  BIN=$PWD/target/release/rust-ci-action
fi

B=$(mktemp -d /tmp/bench-image.XXXXXX)
gcc -static -O2 -o "$B/hello" tests/fixtures/image/hello.c
mkctx() { # $1 = folder
  mkdir -p "$1"
  cp "$B/hello" "$1/hello"
  head -c $((MB * 1024 * 1024)) /dev/urandom >"$1/blob"
  printf 'FROM scratch\nCOPY hello /hello\nCOPY blob /blob\nENTRYPOINT ["/hello"]\n' >"$1/Dockerfile"
}
export DOCKER_CONFIG="$B/bare-config"
mkdir -p "$DOCKER_CONFIG"
printf '%s' "$TEST_REGISTRY_PASSWORD" | docker login -u "$TEST_REGISTRY_USER" --password-stdin "$TEST_REGISTRY" >/dev/null 2>&1

now_ms() { date +%s%3N; }
bare_ms=() gate_ms=()
for i in $(seq 1 "$RUNS"); do
  mkctx "$B/bare$i"
  t0=$(now_ms)
  docker build -t "$TEST_REGISTRY/bench/bare:run$i" "$B/bare$i" >/dev/null 2>&1
  docker push "$TEST_REGISTRY/bench/bare:run$i" >/dev/null 2>&1
  bare_ms+=($(( $(now_ms) - t0 )))

  mkctx "$B/gate$i"
  out="$B/out$i"; : >"$out"
  t0=$(now_ms)
  env -u DOCKER_CONFIG GITHUB_ACTIONS=true GITHUB_OUTPUT="$out" GITHUB_STEP_SUMMARY=/dev/null \
    GITHUB_SHA=ec26c3e57ca3a959ca5aad62de7213c562f8c821 GITHUB_REPOSITORY=octo/hello \
    INPUT_GATE=image INPUT_IMAGE=bench/gate INPUT_REGISTRY="$TEST_REGISTRY" INPUT_TAGS="run$i" \
    INPUT_REGISTRY-USERNAME="$TEST_REGISTRY_USER" INPUT_REGISTRY-PASSWORD="$TEST_REGISTRY_PASSWORD" \
    INPUT_CONTEXT="$B/gate$i" "$BIN" >"$B/gate$i.log" 2>&1 || { echo "gate run $i failed:"; tail -20 "$B/gate$i.log"; exit 1; }
  gate_ms+=($(( $(now_ms) - t0 )))
  grep -q '^sha256:' "$out" || { echo "gate run $i wrote no digest"; exit 1; }
  echo "run $i: bare ${bare_ms[-1]} ms, gate ${gate_ms[-1]} ms"
  rm -rf "$B/bare$i" "$B/gate$i"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mb=$(median "${bare_ms[@]}"); mg=$(median "${gate_ms[@]}")
echo "image: FROM scratch, static binary + ${MB} MiB fresh random layer, 1 tag, ${RUNS} runs each"
echo "bare docker build && docker push: median ${mb} ms"
echo "image gate (build, push, verify):  median ${mg} ms"
awk -v b="$mb" -v g="$mg" 'BEGIN { printf "overhead of the medians: %+.1f %% (%+d ms)\n", (g - b) * 100 / b, g - b }'
# Paired: each gate run against the bare run just before it (less sensitive to load drift
# from other work on the machine).
diffs=(); for i in "${!bare_ms[@]}"; do diffs+=($(( gate_ms[i] - bare_ms[i] ))); done
md=$(median "${diffs[@]}")
awk -v b="$mb" -v d="$md" 'BEGIN { printf "median paired overhead: %+.1f %% (%+d ms)\n", d * 100 / b, d }'
