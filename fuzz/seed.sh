#!/usr/bin/env bash
# Seed each fuzz target's corpus (fuzz/corpus/<target>/, not committed) with the real
# reports in tests/fixtures/coverage (the diff and tests_report targets: the diffs and test
# reports under tests/fixtures) plus the committed regression inputs in
# fuzz/regressions/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
fx=../tests/fixtures/coverage
seed() { # target, then files
  local t=$1; shift
  mkdir -p "corpus/$t"
  for f in "$@"; do
    [[ -f "$f" ]] && cp "$f" "corpus/$t/$(echo "${f#../tests/fixtures/}" | tr / _)"
  done
  if [[ -d "regressions/$t" ]]; then cp regressions/"$t"/* "corpus/$t/" 2>/dev/null || true; fi
}
shopt -s nullglob
cob=(); lcov=(); jac=(); clo=(); go=()
for d in "$fx"/*/; do
  [[ -f "$d/expected.json" ]] || continue
  fmt=$(sed -n 's/.*"format": *"\([a-z]*\)".*/\1/p' "$d/expected.json" | head -1)
  rep=$(sed -n 's/.*"report": *"\([^"]*\)".*/\1/p' "$d/expected.json" | head -1)
  case $fmt in
    cobertura) cob+=("$d$rep");; lcov) lcov+=("$d$rep");; jacoco) jac+=("$d$rep");;
    clover) clo+=("$d$rep");; go) go+=("$d$rep");;
  esac
done
seed cobertura "${cob[@]}"
seed lcov "${lcov[@]}"
seed jacoco "${jac[@]}"
seed clover "${clo[@]}"
seed go "${go[@]}"
seed detect "${cob[@]}" "${lcov[@]}" "${jac[@]}" "${clo[@]}" "${go[@]}"
# The diff readers: the real git diffs of tests/fixtures/diff.
seed diff ../tests/fixtures/diff/*.diff
# The tests gate's readers: the real JUnit XML and go test -json of tests/fixtures/tests-gate.
seed tests_report ../tests/fixtures/tests-gate/*/*.xml ../tests/fixtures/tests-gate/*/*.json
# Path mapping: its regression inputs (its cases are made up, not a tool's output).
seed paths
for t in corpus/*; do echo "$t: $(ls "$t" | wc -l) seeds"; done
