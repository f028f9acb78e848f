# shellcheck shell=bash
# Sourced by scripts/test.sh (and scripts/dev-image-tests.sh, scripts/bench-image.sh):
# starts a private Docker engine and an htpasswd-protected registry on 127.0.0.1, exports
# their coordinates, and defines `services_docker_down` to stop them.
#
# Recipe: ../shared/docker-on-ci.md. dockerd runs with --iptables=false (no NAT: builds and
# containers reach nothing outside), a bridge of its own when one can be made (else
# --bridge=none), the vfs storage driver, and a short --exec-root (containerd's socket path must stay under ~108
# bytes). Nothing can be pulled, so images are FROM scratch or on a `docker import`ed base.
#
# Exports:
#   DOCKER_HOST             unix socket of the private engine
#   PATH                    with Debian's /usr/bin/docker first (the 20.10 CLI that can use the
#                           engine's BuildKit; /usr/local/bin/docker only has the legacy builder)
#   DOCKER_BUILDKIT=1
#   TEST_REGISTRY           127.0.0.1:<port> (plain HTTP: docker treats loopback as insecure)
#   TEST_REGISTRY_USER / TEST_REGISTRY_PASSWORD   a bcrypt htpasswd user
#   TEST_ECR_PASSWORD       the password moto's ECR GetAuthorizationToken hands out
#                           (`<account>-auth-token`, user `AWS`), also in the htpasswd file,
#                           so the ECR path can push to this registry
#   TEST_DOCKER_DIR         the folder holding everything (removed by services_docker_down)
#   TEST_DOCKER_BRIDGE      1 when the engine has a bridge network (RUN steps can start), else 0

_svc_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

_svc_docker_start() {
  if ! command -v dockerd >/dev/null || ! command -v docker-registry >/dev/null \
     || ! command -v htpasswd >/dev/null || [ ! -x /usr/bin/docker ] || [ ! -x /bin/busybox ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-registry apache2-utils busybox-static >/dev/null
  fi
  command -v gcc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null

  local w
  w=$(mktemp -d /tmp/dk.XXXXXX)
  export TEST_DOCKER_DIR="$w"
  mkdir -p "$w"/{root,exec,bin,reg}
  ln -s /usr/bin/docker "$w/bin/docker"
  export PATH="$w/bin:$PATH"
  export DOCKER_BUILDKIT=1

  printf '{"deprecated-key-path":"%s/key.json"}\n' "$w" >"$w/daemon.json"
  export DOCKER_HOST="unix://$w/d.sock"
  # A bridge network lets a build's RUN steps start (the image gate's tests need a RUN
  # step that fails on its own). Each engine gets a bridge of its own, never docker0:
  # engines started side by side (two test runs) would share docker0, and the first one
  # torn down would take it from the others. Where no bridge can be made, --bridge=none,
  # and TEST_DOCKER_BRIDGE says so, so the tests that need RUN fail loudly.
  _SVC_BRIDGE="dk$(basename "$w" | tr -dc 'a-zA-Z0-9' | tail -c 10)"
  local bridge="--bridge=none" i n
  for n in $(shuf -i 16-250 -n 20 2>/dev/null || seq 16 35); do
    ip route | grep -q "^10\.213\.$n\." && continue
    if ip link add "$_SVC_BRIDGE" type bridge 2>/dev/null; then
      if ip addr add "10.213.$n.1/24" dev "$_SVC_BRIDGE" && ip link set "$_SVC_BRIDGE" up; then
        bridge="--bridge=$_SVC_BRIDGE"
      else
        ip link del "$_SVC_BRIDGE" 2>/dev/null || true
      fi
    fi
    break
  done
  [ "$bridge" = "--bridge=none" ] && _SVC_BRIDGE=
  export TEST_DOCKER_BRIDGE=$([ -n "$_SVC_BRIDGE" ] && echo 1 || echo 0)
  dockerd --config-file "$w/daemon.json" --data-root "$w/root" --exec-root "$w/exec" \
    --pidfile "$w/dockerd.pid" -H "$DOCKER_HOST" "$bridge" \
    --iptables=false --ip6tables=false --storage-driver=vfs >"$w/dockerd.log" 2>&1 &
  _SVC_DOCKERD_PID=$!
  for i in $(seq 1 300); do /usr/bin/docker info >/dev/null 2>&1 && break; sleep 0.1; done
  if ! /usr/bin/docker info >/dev/null 2>&1; then
    echo "dockerd did not start:" >&2; tail -20 "$w/dockerd.log" >&2; return 1
  fi

  local port
  port=$(_svc_free_port)
  export TEST_REGISTRY="127.0.0.1:$port"
  export TEST_REGISTRY_USER=ciuser
  TEST_REGISTRY_PASSWORD=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  export TEST_REGISTRY_PASSWORD
  export TEST_ECR_PASSWORD="${MOTO_ACCOUNT_ID:-123456789012}-auth-token"
  htpasswd -Bbn "$TEST_REGISTRY_USER" "$TEST_REGISTRY_PASSWORD" >"$w/htpasswd"
  htpasswd -Bbn AWS "$TEST_ECR_PASSWORD" >>"$w/htpasswd"
  cat >"$w/registry.yml" <<YML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $w/reg}, delete: {enabled: true}}
http: {addr: $TEST_REGISTRY}
auth: {htpasswd: {realm: ci, path: $w/htpasswd}}
YML
  docker-registry serve "$w/registry.yml" >"$w/registry.log" 2>&1 &
  _SVC_REGISTRY_PID=$!
  for i in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$TEST_REGISTRY/v2/")" = 401 ] && break
    sleep 0.1
  done
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$TEST_REGISTRY/v2/")" != 401 ]; then
    echo "registry did not start:" >&2; tail -20 "$w/registry.log" >&2; return 1
  fi
  echo "services: dockerd (pid $_SVC_DOCKERD_PID) at $DOCKER_HOST, registry (pid $_SVC_REGISTRY_PID) at $TEST_REGISTRY" >&2
}

services_docker_down() {
  local w="${TEST_DOCKER_DIR:-}"
  if [ -n "${_SVC_REGISTRY_PID:-}" ]; then
    { kill -TERM "$_SVC_REGISTRY_PID" && wait "$_SVC_REGISTRY_PID"; } 2>/dev/null || true
    _SVC_REGISTRY_PID=
  fi
  if [ -n "${_SVC_DOCKERD_PID:-}" ]; then
    /usr/bin/docker ps -aq 2>/dev/null | xargs -r /usr/bin/docker rm -f >/dev/null 2>&1 || true
    { kill -TERM "$_SVC_DOCKERD_PID" && wait "$_SVC_DOCKERD_PID"; } 2>/dev/null || true
    _SVC_DOCKERD_PID=
  fi
  if [ -n "${_SVC_BRIDGE:-}" ]; then
    ip link del "$_SVC_BRIDGE" 2>/dev/null || true
    _SVC_BRIDGE=
  fi
  if [ -n "$w" ] && [ -d "$w" ]; then
    # A killed dockerd leaves its root bind-mounted; unmount before removing.
    awk -v w="$w" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount 2>/dev/null || true
    rm -rf "$w"
  fi
  return 0
}

_svc_docker_start
