#!/usr/bin/env bash
# Lays out docker/rootfs/, the whole file system of the scratch image built by ./Dockerfile:
#   usr/local/bin/rust-ci-action   the statically linked binary (argument 1)
#   usr/local/bin/docker           a statically linked Docker CLI ($DOCKER_CLI, else the first
#                                  static `docker` found), for the image gate
#   etc/ssl/certs/ca-certificates.crt  this machine's CA bundle ($CA_BUNDLE)
#   etc/passwd, etc/group          root and nonroot (65532)
#   tmp/                           mode 1777 (temporary credential files)
# Refuses dynamically linked binaries: nothing in a scratch image could load them.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/x86_64-unknown-linux-gnu/release/rust-ci-action}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
OUT=docker/rootfs

is_static() { # no PT_INTERP program header: nothing to load at run time
  [ -f "$1" ] && ! LC_ALL=C readelf --program-headers --wide "$1" 2>/dev/null | grep -q 'INTERP'
}
[ -f "$BIN" ] || { echo "prepare-context: $BIN not found; build it with RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --target x86_64-unknown-linux-gnu" >&2; exit 1; }
is_static "$BIN" || { echo "prepare-context: $BIN is dynamically linked; build with RUSTFLAGS='-C target-feature=+crt-static'" >&2; exit 1; }
[ -f "$CA_BUNDLE" ] || { echo "prepare-context: CA bundle $CA_BUNDLE not found (apt-get install ca-certificates)" >&2; exit 1; }

cli=${DOCKER_CLI:-}
if [ -z "$cli" ]; then
  for c in $(type -ap docker) /usr/local/bin/docker /usr/bin/docker; do
    if is_static "$c"; then cli=$c; break; fi
  done
fi
[ -n "$cli" ] && is_static "$cli" || { echo "prepare-context: no statically linked Docker CLI found (set DOCKER_CLI); the image gate needs one in the image" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT/usr/local/bin" "$OUT/etc/ssl/certs" "$OUT/tmp" "$OUT/root"
install -m 0755 "$BIN" "$OUT/usr/local/bin/rust-ci-action"
install -m 0755 "$cli" "$OUT/usr/local/bin/docker"
# Debug information is most of the CLI's size; the Go runtime does not need it.
if command -v strip >/dev/null 2>&1; then strip --strip-debug "$OUT/usr/local/bin/docker"; fi
install -m 0644 "$CA_BUNDLE" "$OUT/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin\n' >"$OUT/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$OUT/etc/group"
chmod 1777 "$OUT/tmp"
chmod 0700 "$OUT/root"
echo "prepare-context: $OUT ready ($(du -sh "$OUT" | cut -f1)): binary $BIN, docker CLI $cli, CA bundle $CA_BUNDLE"
