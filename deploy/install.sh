#!/usr/bin/env bash
# install.sh - install bodycam as the unattended service on a Debian host (run as root).
#   sudo deploy/install.sh [--prefix /opt/bodycam]
# Creates the system user 'bodycam', /etc/bodycam (settings, 0750), /var/lib/bodycam (0700),
# a copy of this checkout in PREFIX with its virtualenv (PREFIX/.venv, the path the unit runs),
# and installs deploy/bodycam-ingest.service (dock hosts) and bodycam-analysis.service (analysis hosts). Safe to run again (an upgrade: then restart).
# It does not start the service: put the settings in /etc/bodycam/bodycam.toml first
# (deploy/bodycam.example.toml), then: systemctl enable --now bodycam-ingest
set -euo pipefail
PREFIX=/opt/bodycam
[[ ${1:-} == --prefix ]] && PREFIX=$2
SRC=$(cd "$(dirname "$0")/.." && pwd)
[[ $(id -u) == 0 ]] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }

command -v ffmpeg >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null \
  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv ffmpeg; }
getent group bodycam >/dev/null || groupadd --system bodycam
getent passwd bodycam >/dev/null || useradd --system --gid bodycam --home-dir /var/lib/bodycam \
  --shell /usr/sbin/nologin --comment "bodycam evidence pipeline" bodycam
install -d -m 0750 -o root -g bodycam /etc/bodycam
install -d -m 0700 -o bodycam -g bodycam /var/lib/bodycam
[[ -f /etc/bodycam/bodycam.toml ]] || install -m 0640 -o root -g bodycam "$SRC/deploy/bodycam.example.toml" \
  /etc/bodycam/bodycam.toml
if [[ $SRC != "$PREFIX" ]]; then
  install -d -m 0755 "$PREFIX"
  tar -C "$SRC" --exclude=.venv --exclude=.git --exclude='*.pyc' -cf - . | tar -C "$PREFIX" -xf -
fi
python3 -m venv "$PREFIX/.venv"
"$PREFIX/.venv/bin/pip" install -q --upgrade pip
"$PREFIX/.venv/bin/pip" install -q "$PREFIX"
for unit in bodycam-ingest.service bodycam-analysis.service; do
  sed "s#/opt/bodycam#$PREFIX#g" "$SRC/deploy/$unit" > "/etc/systemd/system/$unit"
  chmod 0644 "/etc/systemd/system/$unit"
done
systemctl daemon-reload 2>/dev/null || true
echo "installed: $PREFIX (virtualenv $PREFIX/.venv), user bodycam, /etc/bodycam, /var/lib/bodycam"
echo "next: edit /etc/bodycam/bodycam.toml; systemctl edit bodycam-ingest (ReadWritePaths= your dock folders);"
echo "      systemctl enable --now bodycam-ingest    (a dock host)"
echo "      systemctl enable --now bodycam-analysis  (an analysis host)"
