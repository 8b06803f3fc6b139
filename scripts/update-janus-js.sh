#!/usr/bin/env bash
# Re-vendor janus.js (Meetecho, MIT) and adapter.js (webrtc/adapter, BSD-3-Clause) from Debian's packages
# libjs-janus-gateway and libjs-webrtc-adapter into our static files (docs/decisions.md: "janus.js and
# adapter.js, vendored from Debian"). The room page loads them from our own origin, and only when the
# welcome says the room runs on the SFU (frontend/static/frontend/room/sfu.js); no CDN.
# Installs the two packages when missing (needs root then). Prints the files' SHA-256 for the commit message.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/scripts/ensure-system.sh" libjs-janus-gateway libjs-webrtc-adapter
DEST="$ROOT/frontend/static/frontend/vendor/janus"
mkdir -p "$DEST"
cp /usr/share/javascript/janus-gateway/janus.min.js "$DEST/janus.min.js"
cp /usr/share/javascript/webrtc-adapter/adapter.min.js "$DEST/adapter.min.js"
# The source map is not shipped: drop its reference (the manifest storage would look for it at collectstatic).
sed -i '/^\/\/# sourceMappingURL=/d' "$DEST/janus.min.js"
cp /usr/share/doc/libjs-janus-gateway/copyright "$DEST/COPYRIGHT-janus-gateway"
cp /usr/share/doc/libjs-webrtc-adapter/copyright "$DEST/COPYRIGHT-webrtc-adapter"
{
  echo "libjs-janus-gateway $(dpkg-query -W -f='${Version}' libjs-janus-gateway)"
  echo "libjs-webrtc-adapter $(dpkg-query -W -f='${Version}' libjs-webrtc-adapter)"
} > "$DEST/VERSION"
sha256sum "$DEST/janus.min.js" "$DEST/adapter.min.js"
