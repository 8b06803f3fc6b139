#!/usr/bin/env bash
# Re-vendor Apache ECharts from the npm registry at the pinned version (docs/decisions.md: "ECharts, vendored").
# The tarball's integrity is checked by npm itself; the file's SHA-256 is printed for the commit message.
set -euo pipefail
VERSION="${1:-6.1.0}"
DEST="$(cd "$(dirname "$0")/.." && pwd)/frontend/static/frontend/vendor/echarts"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "echarts@${VERSION}" >/dev/null && tar xzf "echarts-${VERSION}.tgz")
cp "$work/package/dist/echarts.common.min.js" "$work/package/LICENSE" "$work/package/NOTICE" \
   "$work/package/licenses/LICENSE-d3" "$DEST/"
echo "$VERSION" > "$DEST/VERSION"
sha256sum "$DEST/echarts.common.min.js"
