#!/usr/bin/env bash
# Starts a private Docker engine for tests and benchmarks (Debian's docker.io, no
# iptables, no bridge: containers run with --network none) and imports a tiny
# image from busybox-static. Prints the variables to export. Idempotent.
#   eval "$(scripts/test-docker.sh)"
set -euo pipefail
dir=${VIGIL_TEST_DOCKER_DIR:-/tmp/vigil-docker}
sock=$dir/docker.sock
image=${VIGIL_TEST_DOCKER_IMAGE:-vigil-busybox:test}
export DOCKER_HOST=unix://$sock
mkdir -p "$dir"
if ! docker version >/dev/null 2>&1; then
  command -v dockerd >/dev/null || { echo "dockerd is missing: apt-get install docker.io" >&2; exit 1; }
  # host.docker.internal (compose's host-gateway) is this machine's own address: without
  # the default bridge there is no docker0 for Docker to take it from.
  gateway=$(ip -4 route get 192.0.2.1 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "src") print $(i + 1) }')
  [ -n "$gateway" ] || gateway=$(hostname -I 2>/dev/null | awk '{ print $1 }')
  nohup dockerd --iptables=false --ip6tables=false --bridge=none --host="$DOCKER_HOST" ${gateway:+--host-gateway-ip="$gateway"} \
    --data-root="$dir/data" --exec-root="$dir/exec" --pidfile="$dir/docker.pid" >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
  docker version >/dev/null 2>&1 || { echo "dockerd did not start; see $dir/dockerd.log:" >&2; tail -20 "$dir/dockerd.log" >&2; exit 1; }
fi
# docker-compose.yml mounts the host's root as node_exporter's documentation does
# (/:/host:ro,rslave), which needs / to be a shared mount, as systemd makes it at
# boot; a container or chroot started without systemd may have it private.
if ! awk '$5 == "/" && /shared:/ { found = 1 } END { exit !found }' /proc/self/mountinfo; then
  mount --make-rshared / || echo "test-docker: / is not a shared mount and cannot be made one: the compose test will fail" >&2
fi
if ! docker image inspect "$image" >/dev/null 2>&1; then
  busybox=$(command -v busybox || true)
  [ -n "$busybox" ] || { echo "busybox is missing: apt-get install busybox-static" >&2; exit 1; }
  root=$(mktemp -d)
  mkdir -p "$root/bin"
  cp "$busybox" "$root/bin/busybox"
  for c in sh sleep yes cat echo true false head dd; do ln -s busybox "$root/bin/$c"; done
  tar -C "$root" -c . | docker import - "$image" >/dev/null
  rm -rf "$root"
fi
echo "export VIGIL_TEST_DOCKER_HOST=$DOCKER_HOST VIGIL_TEST_DOCKER_IMAGE=$image"
