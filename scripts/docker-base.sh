#!/usr/bin/env bash
# Makes, where no image registry can be reached, the base images the Dockerfile
# takes as build arguments, from Debian's packages and this machine's Node.js,
# and prints those arguments. Idempotent: an image already there is kept.
#   docker build $(scripts/docker-base.sh) --target exporter .
#
#   vigil-node:local        NODE_IMAGE: Debian 12 (minbase) and this machine's node
#   vigil-node-build:local  BUILD_IMAGE: the same with npm, Node.js's headers, python3, make, g++
#   vigil-debian12:local    a clean Debian 12 host with Debian's own nodejs (18.20) and
#                           systemd, where deploy/install.sh is tried (printed with --host)
#   vigil-postgres:local    Debian's PostgreSQL 15 started as the official postgres image is
#                           (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB; data in
#                           /var/lib/postgresql/data), for docker-compose.yml (printed with --postgres)
# Needs: docker (DOCKER_HOST), mmdebstrap and Debian's mirror; root.
set -euo pipefail
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${VIGIL_IMAGE_CACHE:-/var/cache/vigil-images}
mkdir -p "$cache"
log() { printf 'docker-base: %s\n' "$*" >&2; }

command -v mmdebstrap >/dev/null || { echo "docker-base: mmdebstrap is missing: apt-get install mmdebstrap" >&2; exit 1; }
docker version >/dev/null 2>&1 || { echo "docker-base: no Docker engine answers at ${DOCKER_HOST:-the default socket}" >&2; exit 1; }
node=$(command -v node)
version=$("$node" -p 'process.versions.node')

# A Debian 12 root as a tarball, kept in the cache: mmdebstrap runs once per package list.
root_tar() { # name, comma-separated packages
  local tar=$cache/$1.tar
  if [ ! -s "$tar" ]; then
    log "mmdebstrap bookworm ($2) into $tar"
    mmdebstrap --quiet --variant=minbase --include="$2" bookworm "$cache/$1.partial.tar" "$mirror" >&2
    mv "$cache/$1.partial.tar" "$tar"
  fi
  echo "$tar"
}

# This machine's node (and npm, headers) added to a root tarball, imported as an image.
with_node() { # image, root tarball, with npm (0/1), docker import --change ...
  local image=$1 tar=$2 npm=$3
  shift 3
  docker image inspect "$image" >/dev/null 2>&1 && return
  log "making $image (Node.js $version)"
  local extra
  extra=$(mktemp -d)
  mkdir -p "$extra/usr/local/bin"
  cp "$node" "$extra/usr/local/bin/node"
  if [ "$npm" = 1 ]; then
    local prefix
    prefix=$(dirname "$(dirname "$node")")
    mkdir -p "$extra/usr/local/lib/node_modules" "$extra/usr/local/include"
    cp -R "$prefix/lib/node_modules/npm" "$extra/usr/local/lib/node_modules/npm"
    cp -R "$prefix/include/node" "$extra/usr/local/include/node"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$extra/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$extra/usr/local/bin/npx"
    # What this machine trusts (a proxy's own CA included), so that npm reaches the registry as it does here.
    mkdir -p "$extra/usr/local/share"
    cp "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$extra/usr/local/share/host-ca-certificates.crt"
  fi
  local combined=$extra.tar
  cp "$tar" "$combined"
  # Only new paths: the root already has /usr/local/{bin,lib,include}, and an image's layer may not list one twice.
  (cd "$extra" && find . -mindepth 4 -maxdepth 4 -print0 | tar -rf "$combined" --owner=0 --group=0 --null --no-recursion -T - \
    && find . -mindepth 4 -maxdepth 4 -type d -print0 | xargs -0 -r -I{} find {} -mindepth 1 -print0 | tar -rf "$combined" --owner=0 --group=0 --null --no-recursion -T -)
  docker import "$@" "$combined" "$image" >/dev/null
  rm -rf "$extra" "$combined"
}

if [ "${1:-}" = --host ]; then
  if ! docker image inspect vigil-debian12:local >/dev/null 2>&1; then
    log "making vigil-debian12:local (Debian's nodejs 18 and systemd)"
    docker import --change 'CMD ["/bin/bash"]' "$(root_tar bookworm-host nodejs,systemd,ca-certificates,procps,sudo,hostname)" vigil-debian12:local >/dev/null
  fi
  echo vigil-debian12:local
  exit 0
fi
if [ "${1:-}" = --postgres ]; then
  if ! docker image inspect vigil-postgres:local >/dev/null 2>&1; then
    log "making vigil-postgres:local (Debian's postgresql-15)"
    extra=$(mktemp -d)
    mkdir -p "$extra/usr/local/bin"
    cat > "$extra/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
# What the official postgres image does on start, for Debian's PostgreSQL 15:
# a first start makes the cluster with POSTGRES_USER's password and POSTGRES_DB.
set -eu
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
bin=/usr/lib/postgresql/15/bin
mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
  user=${POSTGRES_USER:-postgres}
  pwfile=$(mktemp) && printf '%s
' "$POSTGRES_PASSWORD" > "$pwfile" && chown postgres "$pwfile"
  as_postgres "$bin/initdb" -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  db=${POSTGRES_DB:-$user}
  [ "$db" = postgres ] || as_postgres "$bin/psql" -h /run/postgresql -U "$user" -d postgres -qc "create database \"$db\""
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$PGDATA"
SH
    chmod 755 "$extra/usr/local/bin/docker-entrypoint.sh"
    tar=$(root_tar bookworm-postgres postgresql-15,util-linux)
    cp "$tar" "$extra.tar"
    (cd "$extra" && tar -rf "$extra.tar" --owner=0 --group=0 ./usr/local/bin/docker-entrypoint.sh)
    docker import --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
      "$extra.tar" vigil-postgres:local >/dev/null
    rm -rf "$extra" "$extra.tar"
  fi
  echo vigil-postgres:local
  exit 0
fi
runtime=$(root_tar bookworm-runtime ca-certificates)
with_node vigil-node:local "$runtime" 0 --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]'
build=$(root_tar bookworm-build ca-certificates,python3,make,g++,git)
# node-gyp builds node-pty against the headers copied in, as the official image's npm would after downloading them.
with_node vigil-node-build:local "$build" 1 --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV npm_config_nodedir=/usr/local' --change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/host-ca-certificates.crt' \
  --change 'CMD ["node"]'
echo "--build-arg NODE_IMAGE=vigil-node:local --build-arg BUILD_IMAGE=vigil-node-build:local"
