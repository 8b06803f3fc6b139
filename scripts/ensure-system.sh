#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when any is missing: a CJK font, Chromium for the
# browser tests, poppler (pdffonts/pdftotext), gettext (msgfmt), the libraries WeasyPrint loads, and Node
# (Debian's nodejs) for the unit tests of the room's scripts (tests/js) when no node is on the PATH, and the
# media server's packages: Janus (the SFU), janus.js with adapter.js, coturn (TURN), socat and iproute2 for
# the media namespace (scripts/media-netns.sh).
# The janus and coturn packages enable system services with public default secrets (admin secret
# "janusoverlord", no TURN auth): they are never started from the package's configuration. A policy-rc.d
# refuses the start during the install, and the units are then stopped, disabled and masked. The project
# runs its own instances with its own generated configuration (manage.py media_config, docs/deployment.md).
# Idempotent and silent when everything is present. Installing needs root; otherwise it says what to run.
set -euo pipefail

packages=(fonts-noto-cjk chromium poppler-utils gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b)
packages+=(janus janus-tools libjs-janus-gateway libjs-webrtc-adapter coturn socat iproute2 nftables ffmpeg)
packages+=("$@")  # callers may add more (ensure-services.sh adds postgresql, redis-server)
command -v node >/dev/null || packages+=(nodejs)

if ! command -v dpkg-query >/dev/null; then
  echo "ensure-system: not a Debian-based system; install the equivalents of: ${packages[*]}" >&2
  exit 1
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# The packaged janus/coturn services, with Debian's default secrets, must never run.
mask_default_services() {
  command -v systemctl >/dev/null || return 0
  for unit in janus.service coturn.service; do
    systemctl stop "$unit" >/dev/null 2>&1 || true
    systemctl disable "$unit" >/dev/null 2>&1 || true
    systemctl mask "$unit" >/dev/null 2>&1 || true
  done
}

missing=()
for pkg in "${packages[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  [ "$(id -u)" -ne 0 ] || mask_default_services  # installed by someone else: masked all the same
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-system: missing packages: ${missing[*]}" >&2
  echo "ensure-system: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

log=$(mktemp)
# No service starts during the install (invoke-rc.d asks policy-rc.d; 101 = "action forbidden"), unless the
# machine already has a policy of its own.
policy=/usr/sbin/policy-rc.d own_policy=
if [ ! -e "$policy" ]; then
  own_policy=1
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
fi
cleanup() { rm -f "$log"; [ -z "$own_policy" ] || rm -f "$policy"; }
trap cleanup EXIT
echo "ensure-system: apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -q && apt-get install -y -q "${missing[@]}"; } </dev/null >"$log" 2>&1; then
  cat "$log" >&2
  echo "ensure-system: apt-get failed (output above)" >&2
  exit 1
fi
mask_default_services
