"""The prospectivity grids on the web map: one image overlay per deposit type and its uncertainty
companion, off by default, coloured with the ramps declared in the model spec."""
from __future__ import annotations

from pathlib import Path

import folium
import numpy as np
from branca.element import MacroElement
from jinja2 import Template

from geo.catalog import Symbol, Text
from geo.preview import colourise, wgs84_preview
from layers.overlay import grid_layers
from maps.features import Group

# Leaflet panes: the base geography draws below the grids, which draw below every other layer
# (overlayPane, z-index 400); all vector layers otherwise share one canvas and could not interleave.
BASE_PANE, GRID_PANE = ("reeBase", 350), ("reeGrids", 380)
PREVIEW_CELL_DEG = 0.025  # ~2.8 km: the web preview of the grid (the COG itself is in build/grids/)
PREVIEW_LEVELS = 16  # scores shown in 16 classes: the PNG shrinks about 4x (measured 260 KB -> 67 KB)
OPACITY = 0.75


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


def gradient_svg(ramp: tuple[str, ...], width: int = 36, height: int = 12) -> str:
    """A legend swatch: the ramp as a horizontal gradient, low on the left."""
    gid = "g" + "".join(c.lstrip("#") for c in ramp)[:24]
    stops = "".join(f'<stop offset="{i / (len(ramp) - 1):.2f}" stop-color="{c}"/>' for i, c in enumerate(ramp))
    return (f'<svg width="{width}" height="{height}" aria-hidden="true"><defs><linearGradient id="{gid}">'
            f'{stops}</linearGradient></defs><rect width="{width}" height="{height}" fill="url(#{gid})"/></svg>')


def grid_groups(m: folium.Map, out_dir: Path) -> list[tuple[Group, str, Text]]:
    """Add the overlays of every modelled type whose grids exist under ``out_dir``; return, for the
    layer control and the legend, each overlay's group with its swatch and legend text."""
    rows = []
    for gl in grid_layers(out_dir):
        path, ramp, title, legend = gl.path, gl.ramp, gl.title, gl.legend
        if not path.exists():
            continue
        values, (w, s, e, n) = wgs84_preview(path, PREVIEW_CELL_DEG)
        values = np.round(values * PREVIEW_LEVELS) / PREVIEW_LEVELS
        layer = folium.FeatureGroup(name=path.stem, show=False, control=False)
        folium.raster_layers.ImageOverlay(colourise(values, ramp), bounds=[[s, w], [n, e]], opacity=OPACITY,
                                          mercator_project=True, interactive=False,
                                          pane=GRID_PANE[0]).add_to(layer)
        layer.add_to(m)
        group = Group(label=title, symbol=Symbol(fill=ramp[-1], stroke=ramp[-1]), rows=None)
        group.layer = layer
        rows.append((group, gradient_svg(ramp), legend))
    return rows
