"""Single-file offline HTML: every CDN script and stylesheet the map links is replaced by the vendored
copy (``maps/vendor/``, from the npm registry), inlined; images the stylesheets reference become
``data:`` URIs. A link with no vendored copy is an error, so no page can silently need the network."""
from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "vendor"

LEAFLET_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"
LEAFLET_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css"

# every CDN URL the maps link -> vendored file (folium's plugin URLs; see maps/vendor/README.md)
LOCAL = {
    LEAFLET_JS: "leaflet@1.9.4/dist/leaflet.js",
    LEAFLET_CSS: "leaflet@1.9.4/dist/leaflet.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.js":
        "leaflet-groupedlayercontrol@0.6.1/dist/leaflet.groupedlayercontrol.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.css":
        "leaflet-groupedlayercontrol@0.6.1/dist/leaflet.groupedlayercontrol.min.css",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js":
        "leaflet.fullscreen@3.0.0/Control.FullScreen.js",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css":
        "leaflet.fullscreen@3.0.0/Control.FullScreen.css",
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js":
        "leaflet-measure@2.1.7/dist/leaflet-measure.min.js",
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css":
        "leaflet-measure@2.1.7/dist/leaflet-measure.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.js":
        "leaflet-minimap@3.6.1/dist/Control.MiniMap.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.css":
        "leaflet-minimap@3.6.1/dist/Control.MiniMap.min.css",
    "https://cdn.jsdelivr.net/gh/ardhi/Leaflet.MousePosition/src/L.Control.MousePosition.min.js":
        "leaflet-mouse-position@1.2.0/src/L.Control.MousePosition.js",
    "https://cdn.jsdelivr.net/gh/ardhi/Leaflet.MousePosition/src/L.Control.MousePosition.min.css":
        "leaflet-mouse-position@1.2.0/src/L.Control.MousePosition.css",
}

_SCRIPT = re.compile(r'<script src="([^"]+)"></script>')
_CSS = re.compile(r'<link rel="stylesheet" href="([^"]+)"\s*/>')
_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


class OfflineError(ValueError):
    """A linked resource has no vendored copy."""


def vendored(url: str) -> Path:
    if url not in LOCAL:
        raise OfflineError(f"no vendored copy of {url}: add it to maps/vendor (refresh.sh) and maps/web/offline.py")
    return VENDOR / LOCAL[url]


def _data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def inline_css(path: Path) -> str:
    """A vendored stylesheet with its relative images as data URIs."""
    def sub(m: re.Match) -> str:
        ref = m.group(1)
        if ref.startswith(("data:", "#")):
            return m.group(0)
        return f'url("{_data_uri(path.parent / ref)}")'
    return _URL.sub(sub, path.read_text(encoding="utf-8"))


def _script_text(path: Path) -> str:
    return path.read_text(encoding="utf-8").replace("</script", "<\\/script")


def inline(html: str) -> str:
    """``html`` with every linked script and stylesheet inlined."""
    html = _SCRIPT.sub(lambda m: f"<script>{_script_text(vendored(m.group(1)))}</script>", html)
    html = _CSS.sub(lambda m: f"<style>{inline_css(vendored(m.group(1)))}</style>", html)
    left = re.findall(r'(?:src|href)="(https?://[^"]+\.(?:js|css))"', html)
    if left:
        raise OfflineError(f"links left after inlining: {left}")
    return html
