#!/usr/bin/env bash
# rust-ci-action launcher: runs the prebuilt binary for this runner, with the arguments
# and environment (the INPUT_* variables) it was given, and passes its exit code through.
#
# Where the binary comes from, first match wins:
#   1. dist/bin/rust-ci-action-<target>[.exe] beside this script (a binary shipped with
#      the action, or one a previous step built from source);
#   2. the runner's tool cache: $RUNNER_TOOL_CACHE/rust-ci-action/<version>/<arch>, the
#      layout of @actions/tool-cache, with its <arch>.complete marker;
#   3. the release asset rust-ci-action-v<version>-<target>[.exe], downloaded from
#      $RUST_CI_ACTION_DOWNLOAD_URL/v<version>/ (default: the `# base-url:` line of
#      dist/checksums.txt), verified against dist/checksums.txt (a mismatch is a hard
#      error), then cached as in 2;
#   4. when dist/checksums.txt lists no asset for this platform and cargo is installed,
#      `cargo install --locked --path` of the action's own source into dist/bin.
#
# bash, not sh: every GitHub-hosted runner has it, Windows included (Git Bash).
# The cached path forks nothing (pure bash), so the launcher costs a few milliseconds.
set -euo pipefail

DIST=${BASH_SOURCE[0]%/*}
[ "$DIST" = "${BASH_SOURCE[0]}" ] && DIST=.
ROOT=$DIST/..

# A launcher failure is the tool not doing its job: exit 2 with one ::error line and
# result=error, the contract of the binary itself.
die() {
  local msg=$1
  msg=${msg//'%'/'%25'}
  msg=${msg//$'\r'/'%0D'}
  msg=${msg//$'\n'/'%0A'}
  printf '::error title=rust-ci-action launcher::%s\n' "$msg"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf 'result=error\n' >>"$GITHUB_OUTPUT" || true
  fi
  exit 2
}
note() { printf 'rust-ci-action launcher: %s\n' "$*" >&2; }

# --- platform -------------------------------------------------------------------------
os=${RUNNER_OS:-}
arch=${RUNNER_ARCH:-}
[ -n "$os" ] || os=$(uname -s)
[ -n "$arch" ] || arch=$(uname -m)
ext=
case "$os" in
  Linux) os_id=unknown-linux-gnu ;;
  macOS | Darwin) os_id=apple-darwin ;;
  Windows | MINGW* | MSYS* | CYGWIN*) os_id=pc-windows-msvc ext=.exe ;;
  *) die "unsupported runner OS $os (supported: Linux, macOS, Windows)" ;;
esac
case "$arch" in
  X64 | x86_64 | amd64 | AMD64) cpu=x86_64 arch_id=x64 ;;
  ARM64 | aarch64 | arm64) cpu=aarch64 arch_id=arm64 ;;
  *) die "unsupported runner architecture $arch (supported: X64, ARM64)" ;;
esac
target=$cpu-$os_id
if [ "$os_id" = pc-windows-msvc ] && command -v cygpath >/dev/null 2>&1; then
  # Windows paths (C:\hostedtoolcache\windows) as Git Bash spells them.
  [ -z "${RUNNER_TOOL_CACHE:-}" ] || RUNNER_TOOL_CACHE=$(cygpath -u "$RUNNER_TOOL_CACHE")
fi

# --- version: the action's own Cargo.toml, unless overridden ----------------------------
version=${RUST_CI_ACTION_VERSION:-}
version=${version#v}
if [ -z "$version" ]; then
  section=
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      '['*) section=$line ;;
      'version = "'*) if [ "$section" = '[package]' ]; then
        version=${line#version = \"}
        version=${version%%\"*}
        break
      fi ;;
    esac
  done <"$ROOT/Cargo.toml" || die "cannot read $ROOT/Cargo.toml (the action's version)"
  [ -n "$version" ] || die "no [package] version in $ROOT/Cargo.toml"
fi
asset=rust-ci-action-v$version-$target$ext

# --- 1. a binary in dist/bin --------------------------------------------------------------
bin=$DIST/bin/rust-ci-action-$target$ext
if [ -x "$bin" ]; then
  exec "$bin" "$@"
fi

# --- 2. the tool cache --------------------------------------------------------------------
cache_root=${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}}/rust-ci-action
cache_dir=$cache_root/$version/$arch_id
bin=$cache_dir/rust-ci-action$ext
if [ -f "$cache_dir.complete" ] && [ -x "$bin" ]; then
  exec "$bin" "$@"
fi

# --- 3. download the release asset --------------------------------------------------------
expected=
base_url=
while read -r sum name rest; do
  case "$sum" in
    '#')
      [ "$name" = base-url: ] && base_url=$rest
      ;;
    *) if [ "$name" = "$asset" ] || [ "$name" = "*$asset" ]; then expected=$sum; fi ;;
  esac
done <"$DIST/checksums.txt" || die "cannot read $DIST/checksums.txt"
base_url=${RUST_CI_ACTION_DOWNLOAD_URL:-$base_url}

sha256() {
  local out
  if command -v sha256sum >/dev/null 2>&1; then
    out=$(sha256sum -b "$1")
  elif command -v shasum >/dev/null 2>&1; then
    out=$(shasum -a 256 -b "$1")
  else
    out=$(openssl dgst -sha256 -r "$1")
  fi
  printf '%s' "${out%% *}"
}

if [ -n "$expected" ]; then
  [ -n "$base_url" ] || die "no download URL: set RUST_CI_ACTION_DOWNLOAD_URL or the '# base-url:' line of dist/checksums.txt"
  url=${base_url%/}/v$version/$asset
  mkdir -p "$cache_dir" || die "cannot create the tool cache directory $cache_dir"
  tmp=$cache_dir/.download.$$
  trap 'rm -f "$tmp"' EXIT
  note "downloading $url"
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --retry 3 --connect-timeout 20 --output "$tmp" "$url" ||
      die "download of $url failed (set RUST_CI_ACTION_DOWNLOAD_URL to a mirror on GHES or offline runners)"
  elif command -v wget >/dev/null 2>&1; then
    wget --quiet --tries=3 --output-document="$tmp" "$url" ||
      die "download of $url failed (set RUST_CI_ACTION_DOWNLOAD_URL to a mirror on GHES or offline runners)"
  else
    die "neither curl nor wget is installed: cannot download $url"
  fi
  actual=$(sha256 "$tmp")
  if [ "$actual" != "$expected" ]; then
    rm -f "$tmp"
    die "checksum mismatch for $asset from $url: expected sha256 $expected (dist/checksums.txt), got $actual; refusing to run it"
  fi
  chmod 755 "$tmp"
  mv -f "$tmp" "$bin"
  : >"$cache_dir.complete"
  note "verified sha256 $actual, cached in $cache_dir"
  exec "$bin" "$@"
fi

# --- 4. build from the action's own source --------------------------------------------------
if command -v cargo >/dev/null 2>&1; then
  note "no prebuilt binary for $target at v$version in dist/checksums.txt: building from source with cargo (a few minutes)"
  build_root=$DIST/bin/.cargo-install.$$
  cargo install --locked --quiet --path "$ROOT" --root "$build_root" --bin rust-ci-action >&2 ||
    die "cargo install --locked --path $ROOT failed"
  mv -f "$build_root/bin/rust-ci-action$ext" "$DIST/bin/rust-ci-action-$target$ext"
  rm -rf "$build_root"
  exec "$DIST/bin/rust-ci-action-$target$ext" "$@"
fi
die "no prebuilt binary for $target at v$version (dist/checksums.txt lists none) and cargo is not installed to build one: install Rust before this step, or use the container image"
