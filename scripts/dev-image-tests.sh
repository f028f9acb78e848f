#!/usr/bin/env bash
# The image gate's service tests alone: start the engine, registry and moto, run
# `cargo test --features services --test integration image`, tear everything down.
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'declare -F services_moto_down >/dev/null && services_moto_down; declare -F services_docker_down >/dev/null && services_docker_down; true' EXIT
source scripts/services/docker.sh
source scripts/services/moto.sh
cargo test --features services --test integration image:: "$@"
