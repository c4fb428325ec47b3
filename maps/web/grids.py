"""The prospectivity grids on the web map: one image overlay per deposit type and its uncertainty
companion, off by default, coloured with the ramps declared in the model spec."""
from __future__ import annotations

import functools
from pathlib import Path

import folium
import numpy as np
from branca.element import MacroElement
from jinja2 import Template

from geo.catalog import Symbol
from geo.raster.preview import mercator_preview, png_data_uri
from layers.model.overlay import grid_layers
from maps.web.features import Group
from maps.i18n import GridStyle, bi, load_labels
from maps.web.tiles import add_tile_layer

# Leaflet panes: the base geography draws below the grids, which draw below every other layer
# (overlayPane, z-index 400); all vector layers otherwise share one canvas and could not interleave.
BASE_PANE, GRID_PANE = ("reeBase", 350), ("reeGrids", 380)
MARK_PANE_Z = 610  # point layers: one pane each from here up, in composition order (Leaflet's tooltips: 650)
PREVIEW_CELL_DEG = 0.025  # ~2.8 km: the web preview of the grid (the COG itself is in build/grids/)
RAMP_WIDTH = 84  # px: the legend's ramp, wide enough for its two end labels under it
PREVIEW_LEVELS = 16  # scores shown in 16 classes: the PNG shrinks about 4x (measured 260 KB -> 67 KB)


class Panes(MacroElement):
    """Create the base and grid panes when the map loads."""

    _template = Template("""{% macro script(this, kwargs) %}
{% for name, z in this.panes %}{{ this._parent.get_name() }}.createPane("{{ name }}").style.zIndex = {{ z }};
{% endfor %}{{ this._parent.get_name() }}.getPane("{{ this.panes[1][0] }}").style.pointerEvents = "none";
{% endmacro %}""")

    def __init__(self):
        super().__init__()
        self._name = "Panes"
        self.panes = [BASE_PANE, GRID_PANE]

    def add(self, name: str, z: int) -> str:
        """One more pane (created with the others when the map loads); returns its name."""
        self.panes.append((name, z))
        return name


def gradient_svg(ramp: tuple[str, ...], style: GridStyle, key: str, width: int = 60, height: int = 12) -> str:
    """A legend swatch: the ramp as a horizontal gradient, low on the left, with the overlay's opacity
    (transparent below the threshold, as on the map) over a chequer that shows what is see-through.
    ``key`` makes the gradient's id unique: Chromium draws nothing for a gradient whose first definition
    in the page lies in a hidden legend row (seen: the shared id left every visible grid swatch blank)."""
    gid = "g-" + "".join(ch if ch.isalnum() else "-" for ch in key)
    n = len(ramp) - 1
    alpha = style.alpha(np.array([i / n for i in range(n + 1)], dtype="float32"))
    cut = style.transparent_below
    stops = (f'<stop offset="0" stop-color="{ramp[0]}" stop-opacity="0"/>'
             f'<stop offset="{cut:.3f}" stop-color="{ramp[0]}" stop-opacity="0"/>'
             + "".join(f'<stop offset="{max(i / n, cut):.3f}" stop-color="{c}" stop-opacity="{a:.2f}"/>'
                       for i, (c, a) in enumerate(zip(ramp, alpha)) if i / n >= cut))
    return (f'<svg class="ree-ramp" width="{width}" height="{height}" aria-hidden="true"><defs>'
            f'<linearGradient id="{gid}">{stops}</linearGradient></defs>'
            f'<rect width="{width}" height="{height}" fill="#fff" stroke="#999" stroke-width="0.5"/>'
            f'<rect width="{width}" height="{height}" fill="url(#{gid})"/></svg>')


def overlay_rgba(values: np.ndarray, ramp: tuple[str, ...], style: GridStyle) -> np.ndarray:
    """RGBA of a grid preview: the ramp's colours with the declared alpha ramp (low values clear), in
    :data:`PREVIEW_LEVELS` classes (``geo.raster.preview.ramp_rgba``)."""
    return style.rgba(values, ramp, PREVIEW_LEVELS)


@functools.lru_cache(maxsize=64)
def _overlay_image(path: str, version: tuple[int, int, int], ramp: tuple[str, ...], style: GridStyle):
    """(PNG data URI of a COG's Web Mercator preview, or None when it holds one value or none; its WGS84
    bounds), once per file version (path; inode, modification time, size) and style: the maps of a build share
    grids. The PNG is written here, byte for byte (folium's mercator_project hands floats to branca's
    write_png, which stretches every channel to its own maximum: never use it)."""
    values, bounds = mercator_preview(Path(path), PREVIEW_CELL_DEG)
    if np.isnan(values).all() or np.nanmin(values) == np.nanmax(values):
        return None, bounds
    return png_data_uri(overlay_rgba(values, ramp, style)), bounds


def grid_groups(m: folium.Map, out_dir: Path, scores: tuple[str, ...] = ("evidence",),
                spec=None) -> list[tuple[Group, str, str]]:
    """Add the overlays of every modelled type whose grids exist under ``out_dir``; return, for the
    layer control and the legend, each overlay's group with its swatch and its legend (HTML naming the
    grid and its score, read from what ``layers.model.overlay.grid_layers`` returns). ``scores``: the scores
    drawn (the national map: the evidence score only, from independent layers); ``spec``: the model that
    made the grids (when not given, the one ``out_dir`` records); each group knows its ``deposit_type``."""
    labels = load_labels()
    style, ui = labels.grids, labels.ui
    rows = []
    for gl in grid_layers(out_dir, scores=scores, spec=spec):
        path, ramp, title, legend = gl.path, gl.ramp, gl.title, gl.legend
        if gl.kind == "spread" or not path.exists():
            continue
        st = path.stat()
        uri, (w, s, e, n) = _overlay_image(str(path), (st.st_ino, st.st_mtime_ns, st.st_size), tuple(ramp), style)
        if uri is None:
            continue  # no evidence anywhere (alkaline-carbonatite: its uncertainty is 1 everywhere)
        layer = folium.FeatureGroup(name=path.stem, show=False, control=False)
        image = folium.raster_layers.ImageOverlay(uri, bounds=[[s, w], [n, e]],
                                                  opacity=1.0, mercator_project=False, interactive=False,
                                                  pane=GRID_PANE[0], className="ree-grid-img").add_to(layer)
        layer.add_to(m)
        add_tile_layer(m, layer, image, path, out_dir, GRID_PANE[0])  # full-resolution tiles (geo tiles), if current
        group = Group(label=title, symbol=Symbol(fill=ramp[-1], stroke=ramp[-1]), rows=None)
        group.layer, group.deposit_type, group.score, group.key = layer, gl.deposit_type, gl.score, path.stem
        # the ramp with its end labels right under its two ends; then the title and the model's legend
        swatch = (f'<span class="ree-ramp-box">{gradient_svg(ramp, style, path.stem, width=RAMP_WIDTH)}<span class="ree-ramp-ends">'
                  f'<span>0 {bi(ui["low"])}</span><span>1 {bi(ui["high"])}</span></span></span>')
        rows.append((group, swatch, f'<b>{bi(title)}</b><br>{bi(legend)}'))
    return rows
