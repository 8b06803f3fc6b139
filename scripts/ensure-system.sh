#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when any is missing: a CJK font, Chromium for the
# browser tests, poppler (pdffonts/pdftotext), gettext (msgfmt), the libraries WeasyPrint loads, and Node
# (Debian's nodejs) for the unit tests of the room's scripts (tests/js) when no node is on the PATH.
# Idempotent and silent when everything is present. Installing needs root; otherwise it says what to run.
set -euo pipefail

packages=(fonts-noto-cjk chromium poppler-utils gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b)
packages+=("$@")  # callers may add more (ensure-services.sh adds postgresql, redis-server)
command -v node >/dev/null || packages+=(nodejs)

if ! command -v dpkg-query >/dev/null; then
  echo "ensure-system: not a Debian-based system; install the equivalents of: ${packages[*]}" >&2
  exit 1
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-system: missing packages: ${missing[*]}" >&2
  echo "ensure-system: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "ensure-system: apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -q && apt-get install -y -q "${missing[@]}"; } </dev/null >"$log" 2>&1; then
  cat "$log" >&2
  echo "ensure-system: apt-get failed (output above)" >&2
  exit 1
fi
