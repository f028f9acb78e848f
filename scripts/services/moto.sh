# shellcheck shell=bash
# Sourced by scripts/test.sh (and scripts/dev-image-tests.sh): starts moto_server (an AWS API
# emulator: ECR, Secrets Manager, STS) on a free 127.0.0.1 port, points the AWS SDKs at it,
# and defines `services_moto_down` to stop it.
#
# Exports:
#   AWS_ENDPOINT_URL        http://127.0.0.1:<port> (every AWS SDK honours it)
#   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY   dummies (moto does not check signatures)
#   AWS_REGION / AWS_DEFAULT_REGION             us-east-1
#   AWS_EC2_METADATA_DISABLED=true              no instance-metadata probes off EC2
#   TEST_MOTO_URL           same as AWS_ENDPOINT_URL

_svc_moto_start() {
  if ! command -v moto_server >/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5' boto3
  fi
  local w port i
  w=$(mktemp -d /tmp/moto.XXXXXX)
  _SVC_MOTO_DIR="$w"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  moto_server -H 127.0.0.1 -p "$port" >"$w/moto.log" 2>&1 &
  _SVC_MOTO_PID=$!
  for i in $(seq 1 150); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/moto-api/data.json" && break
    sleep 0.1
  done
  if ! curl -fs -o /dev/null "http://127.0.0.1:$port/moto-api/data.json"; then
    echo "moto_server did not start:" >&2; tail -20 "$w/moto.log" >&2; return 1
  fi
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export TEST_MOTO_URL="$AWS_ENDPOINT_URL"
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true
  echo "services: moto_server (pid $_SVC_MOTO_PID) at $AWS_ENDPOINT_URL" >&2
}

services_moto_down() {
  if [ -n "${_SVC_MOTO_PID:-}" ]; then
    { kill -TERM "$_SVC_MOTO_PID" && wait "$_SVC_MOTO_PID"; } 2>/dev/null || true
    _SVC_MOTO_PID=
  fi
  if [ -n "${_SVC_MOTO_DIR:-}" ]; then rm -rf "$_SVC_MOTO_DIR"; fi
  return 0
}

_svc_moto_start
