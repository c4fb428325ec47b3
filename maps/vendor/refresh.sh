#!/usr/bin/env bash
# Re-vendor the browser assets of the offline maps from the npm registry (`npm pack`, no install).
# Usage: maps/vendor/refresh.sh   (run from anywhere; needs npm). Review `git diff` afterwards.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
# package@version  then the files to keep (paths inside the package)
PACKAGES=(
  "leaflet@1.9.4 LICENSE dist/leaflet.js dist/leaflet.css dist/images/layers.png dist/images/layers-2x.png dist/images/marker-icon.png dist/images/marker-icon-2x.png dist/images/marker-shadow.png"
  "leaflet-groupedlayercontrol@0.6.1 LICENSE.txt dist/leaflet.groupedlayercontrol.min.js dist/leaflet.groupedlayercontrol.min.css"
  "leaflet.fullscreen@3.0.0 LICENSE Control.FullScreen.js Control.FullScreen.css icon-fullscreen.svg"
  "leaflet-measure@2.1.7 LICENSE dist/leaflet-measure.min.js dist/leaflet-measure.css dist/images/rulers.png dist/images/rulers_@2X.png dist/images/cancel.png dist/images/cancel_@2X.png dist/images/check.png dist/images/check_@2X.png dist/images/focus.png dist/images/focus_@2X.png dist/images/start.png dist/images/start_@2X.png dist/images/trash.png dist/images/trash_@2X.png"
  "leaflet-minimap@3.6.1 LICENSE.txt dist/Control.MiniMap.min.js dist/Control.MiniMap.min.css dist/images/toggle.png dist/images/toggle.svg"
  "leaflet-mouse-position@1.2.0 MIT-LICENCE.txt src/L.Control.MousePosition.js src/L.Control.MousePosition.css"
)
for entry in "${PACKAGES[@]}"; do
  read -r spec files <<<"$entry"
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  tgz="$(ls "$tmp"/*.tgz)"
  dest="$here/$spec"; rm -rf "$dest"; mkdir -p "$dest"
  for f in $files; do
    mkdir -p "$dest/$(dirname "$f")"
    tar -xzOf "$tgz" --warning=no-unknown-keyword "package/$f" >"$dest/$f"
  done
  rm -f "$tgz"
  echo "$spec: $(echo $files | wc -w) files"
done
