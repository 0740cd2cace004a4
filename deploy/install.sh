#!/bin/sh
# Installs the Vigil exporter on this host from its release tarball, without a
# checkout: the program under /opt/vigil/exporter, its systemd unit, and a token
# file only root can read. Prints the command that registers the host with the
# scraper. Run it from the unpacked tarball:
#   tar xzf vigil-exporter-<version>-linux-<arch>.tar.gz
#   sudo ./vigil-exporter/install.sh
set -eu

usage() {
  cat <<'EOF'
Usage: install.sh [options]

Installs the Vigil exporter from this directory (the unpacked release tarball).

  --listen ADDR      address the exporter listens on (default :9110, all interfaces)
  --name NAME        the host's name in Vigil (default: this host's name)
  --url URL          the metrics URL the scraper will use (default http://<this host's name>:<port>/metrics)
  --token-file FILE  use the token in FILE (default: keep /etc/vigil/exporter.token, or make one)
  --prefix DIR       where the program goes (default /opt/vigil)
  --node PATH        the Node.js to run it with (default: node on PATH; 18.20 or later)
  --no-start         install, but neither enable nor start the service
  --console URL      enrol this host with the console at URL by itself (no registration by hand)
  --enrol-token-file FILE
                     the enrolment token (vigil enrol-tokens add, or the console's Admin > Enrolment),
                     kept root's alone in /etc/vigil/enrol.token and handed to the service as a credential
  --connect          connect out to the console and listen on no port (a host behind NAT)
  --labels LABELS    this host's labels, e.g. rack=a,role=db
  -h, --help         this help

Files: DIR/exporter/ (the program), /etc/systemd/system/vigil-exporter.service,
/etc/vigil/exporter.env (settings; see vigil-exporter --help), /etc/vigil/exporter.token
(mode 600, root). Run it again to upgrade: settings and the token are kept.
EOF
}

die() { echo "install.sh: $*" >&2; exit 1; }

listen=:9110
name=
url=
token_file=
prefix=/opt/vigil
node=
start=1
console=
enrol_token_file=
connect=0
labels=
while [ $# -gt 0 ]; do
  case $1 in
    --listen) [ $# -ge 2 ] || die "--listen needs an address"; listen=$2; shift 2 ;;
    --name) [ $# -ge 2 ] || die "--name needs a name"; name=$2; shift 2 ;;
    --url) [ $# -ge 2 ] || die "--url needs a URL"; url=$2; shift 2 ;;
    --token-file) [ $# -ge 2 ] || die "--token-file needs a file"; token_file=$2; shift 2 ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
    --node) [ $# -ge 2 ] || die "--node needs a path"; node=$2; shift 2 ;;
    --no-start) start=0; shift ;;
    --console) [ $# -ge 2 ] || die "--console needs the console's URL"; console=$2; shift 2 ;;
    --enrol-token-file) [ $# -ge 2 ] || die "--enrol-token-file needs a file"; enrol_token_file=$2; shift 2 ;;
    --connect) connect=1; shift ;;
    --labels) [ $# -ge 2 ] || die "--labels needs name=value pairs"; labels=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

case $console in ''|http://*|https://*) ;; *) die "--console $console: expected the console's URL, e.g. https://vigil.example.com" ;; esac
if [ -z "$console" ] && { [ -n "$enrol_token_file" ] || [ "$connect" -eq 1 ]; }; then
  die "--enrol-token-file and --connect need --console URL (the console this host enrols with)"
fi
[ "$(id -u)" -eq 0 ] || die "run it as root (sudo $0): it writes under $prefix, /etc/vigil and /etc/systemd/system"
if [ -n "$console" ] && [ -z "$enrol_token_file" ] && [ ! -s /etc/vigil/enrol.token ]; then
  die "--enrol-token-file FILE is needed the first time: the enrolment token this host joins with (vigil enrol-tokens add)"
fi
[ -z "$enrol_token_file" ] || [ -s "$enrol_token_file" ] || die "--enrol-token-file $enrol_token_file is missing or empty"
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$here/dist/vigil-exporter.mjs" ] && [ -f "$here/release.json" ] \
  || die "$here is not an unpacked vigil-exporter release (no dist/vigil-exporter.mjs); make one with \`npm run release\` in a checkout"

# Node.js 18.20 or later: Debian 12's and Raspberry Pi OS's `apt install nodejs` will do.
[ -n "$node" ] || node=$(command -v node || command -v nodejs || true)
[ -n "$node" ] && [ -x "$node" ] || die "Node.js is not installed: apt install nodejs (18.20 or later), or pass --node PATH"
version=$("$node" -p 'process.versions.node') || die "$node does not run"
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
if [ "$major" -lt 18 ] || { [ "$major" -eq 18 ] && [ "$minor" -lt 20 ]; }; then
  die "Node.js $version at $node is too old: the exporter needs 18.20 or later"
fi
arch=$("$node" -p 'process.arch')
built=$("$node" -p "require('$here/release.json').arch")
[ "$arch" = "$built" ] || die "this release is built for $built, and this host's Node.js is $arch: use the tarball for $arch"

port=${listen##*:}
case $port in ''|*[!0-9]*) die "--listen $listen: expected HOST:PORT or :PORT" ;; esac
[ -n "$name" ] || name=$(hostname)
if [ -z "$url" ]; then
  host=$(hostname -f 2>/dev/null || hostname)
  url="http://$host:$port/metrics"
fi

# The program: replaced as a whole, so an upgrade leaves nothing of the old one.
mkdir -p "$prefix"
rm -rf "$prefix/exporter.new"
cp -R "$here" "$prefix/exporter.new"
rm -f "$prefix/exporter.new/install.sh"
chown -R root:root "$prefix/exporter.new"
chmod -R go-w "$prefix/exporter.new"
rm -rf "$prefix/exporter.old"
[ ! -d "$prefix/exporter" ] || mv "$prefix/exporter" "$prefix/exporter.old"
mv "$prefix/exporter.new" "$prefix/exporter"
rm -rf "$prefix/exporter.old"
echo "installed the exporter ($("$node" -p "require('$prefix/exporter/release.json').version"), for $arch) in $prefix/exporter"

# The token: root's alone; systemd hands it to the service as a credential.
umask 077
mkdir -p /etc/vigil
if [ -n "$token_file" ]; then
  [ -s "$token_file" ] || die "--token-file $token_file is missing or empty"
  cp "$token_file" /etc/vigil/exporter.token
elif [ ! -s /etc/vigil/exporter.token ]; then
  "$node" -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('hex') + '\n')" > /etc/vigil/exporter.token
  echo "made a new token in /etc/vigil/exporter.token"
fi
chown root:root /etc/vigil/exporter.token
chmod 600 /etc/vigil/exporter.token
if [ ! -f /etc/vigil/exporter.env ]; then
  cat > /etc/vigil/exporter.env <<EOF
# The Vigil exporter's settings (vigil-exporter --help lists them all).
# The token is in /etc/vigil/exporter.token, not here.
VIGIL_EXPORTER_LISTEN=$listen
VIGIL_EXPORTER_ID=$name
EOF
fi
chmod 600 /etc/vigil/exporter.env

# Enrolment: the console's URL and this host's name, labels and mode in the
# settings; the token root's alone, handed over as a credential; the host's key
# kept in the service's state directory (/var/lib/vigil-exporter).
dropin=/etc/systemd/system/vigil-exporter.service.d/enrol.conf
if [ -n "$console" ]; then
  sed -i -e '/^VIGIL_CONSOLE_URL=/d' -e '/^VIGIL_HOST_NAME=/d' -e '/^VIGIL_HOST_LABELS=/d' -e '/^VIGIL_CONNECT=/d' -e '/^VIGIL_ADVERTISE_URL=/d' \
    /etc/vigil/exporter.env
  {
    echo "VIGIL_CONSOLE_URL=$console"
    echo "VIGIL_HOST_NAME=$name"
    [ -z "$labels" ] || echo "VIGIL_HOST_LABELS=$labels"
    if [ "$connect" -eq 1 ]; then echo "VIGIL_CONNECT=1"; else echo "VIGIL_ADVERTISE_URL=$url"; fi
  } >> /etc/vigil/exporter.env
  if [ -n "$enrol_token_file" ]; then
    [ -s "$enrol_token_file" ] || die "--enrol-token-file $enrol_token_file is missing or empty"
    cp "$enrol_token_file" /etc/vigil/enrol.token
  fi
  chown root:root /etc/vigil/enrol.token
  chmod 600 /etc/vigil/enrol.token
  mkdir -p "${dropin%/*}"
  cat > "$dropin" <<'DROPIN'
# Written by install.sh --console: this host enrols itself with the console.
[Service]
StateDirectory=vigil-exporter
StateDirectoryMode=0700
Environment=VIGIL_STATE_DIR=/var/lib/vigil-exporter
LoadCredential=enrol-token:/etc/vigil/enrol.token
Environment=VIGIL_ENROL_TOKEN_FILE=%d/enrol-token
DROPIN
  chmod 644 "$dropin"
  if [ "$connect" -eq 1 ]; then echo "this host enrols itself with $console, connecting out (no port listened on)"
  else echo "this host enrols itself with $console, scraped at $url"; fi
fi

# The unit, pointed at this prefix and this Node.js with the exporter's V8 flags
# (bin/node-flags.js), so that it runs as one process.
flags=$("$node" --input-type=module -e "const m = await import('$prefix/exporter/bin/node-flags.js'); console.log(m.NODE_FLAGS.join(' '))") \
  || die "cannot read $prefix/exporter/bin/node-flags.js with $node"
unit=/etc/systemd/system/vigil-exporter.service
mkdir -p /etc/systemd/system
sed -e "s|^ExecStart=/opt/vigil/|ExecStart=$node $flags $prefix/|" -e "s|/opt/vigil|$prefix|g" \
  "$here/vigil-exporter.service" > "$unit.new"
# Without a docker group (no Docker here) the unit would not start: containers are simply not reported.
if ! getent group docker >/dev/null 2>&1; then
  sed -i -e '/^SupplementaryGroups=docker$/d' "$unit.new"
  echo "no docker group on this host: container metrics are off"
fi
chmod 644 "$unit.new"
mv "$unit.new" "$unit"
echo "installed $unit"

if [ "$start" -eq 1 ]; then
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable --now vigil-exporter.service
    systemctl restart vigil-exporter.service
    echo "started vigil-exporter (systemctl status vigil-exporter; journalctl -u vigil-exporter)"
  else
    echo "systemd is not running here: start it yourself with"
    echo "  VIGIL_EXPORTER_TOKEN_FILE=/etc/vigil/exporter.token $prefix/exporter/bin/vigil-exporter.js"
  fi
fi

if [ -n "$console" ]; then
  cat <<EOF

This host enrols itself with $console at each start, as $name: it shows in the
console's fleet (or under Admin > Targets, waiting for approval, when its token
requires it). Its key is in /var/lib/vigil-exporter; journalctl -u vigil-exporter
says how the enrolment went. Once enrolled the token is not used again (a known
key needs none): revoking it in the console does not affect this host.
EOF
  exit 0
fi

cat <<EOF

Register this host with the scraper. Copy its token to the machine that runs
Vigil, into a file only you can read (it is never printed):

  (umask 077 && ssh root@$(hostname) cat /etc/vigil/exporter.token > $name.token)

then, there, from a checkout:

  npx vigil targets add $name $url --token-file $name.token

(or add it on the console's Admin page, with that token).

(With one fleet-wide token instead, put the scraper's VIGIL_EXPORTER_TOKEN in
/etc/vigil/exporter.token here, or pass it with --token-file, and leave
--token-file out of \`vigil targets add\`.)
EOF
