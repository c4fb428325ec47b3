"""Full-resolution tiles of the prospectivity grids (`geo tiles`) and their layer on the web maps.

The tiles are coloured by the overlay's own RGBA function (``maps.web.grids.overlay_rgba``: the model
spec's ramp and the alpha ramp of ``labels.toml`` ``[grids]``), so tiles, preview and legend share one
colour source. A map drawn when current tiles of a grid exist in ``OUT/tiles/<grid>/`` (their
``tilejson.json`` names the SHA-256 of the COG they were cut from) shows them from zoom 10 on, from the
relative address ``../tiles/<grid>/{z}/{x}/{y}.png`` (works from file:// and any static server), and
the 0.025° preview image up to zoom 9."""
from __future__ import annotations

from pathlib import Path

import folium
from branca.element import MacroElement
from jinja2 import Template

from geo.raster.tiles import TileSet, current_tiles, write_tiles
from layers.model.overlay import GridLayer
from maps.i18n import load_labels

TILES_DIR = "tiles"  # OUT/tiles/<grid stem>/{z}/{x}/{y}.png
TILE_MIN_ZOOM = 10  # the full-resolution layer from this zoom on; the preview image below it
TILE_MAX_ZOOM = 12  # deepest zoom cut by default (~38 m pixels at the equator; a 250 m cell is ~7 px)
MAP_MAX_ZOOM = 18  # Leaflet scales the deepest tiles up beyond their zoom
MAP_MIN_ZOOM = 2  # the map's own floor: without it Leaflet takes its layers' lowest minZoom, and a grid's
# tiles (from zoom 10) would then hold the whole map at zoom 10 and above


def grid_colour(gl: GridLayer):
    """values -> uint8 RGBA of the grid ``gl`` exactly as its overlay is drawn."""
    from maps.web.grids import overlay_rgba
    style = load_labels().grids
    return lambda values: overlay_rgba(values, gl.ramp, style)


def write_grid_tiles(gl: GridLayer, tiles_dir: Path, min_zoom: int = TILE_MIN_ZOOM, max_zoom: int = TILE_MAX_ZOOM,
                     jobs: int | None = None) -> TileSet:
    """Cut the tiles of one grid into ``tiles_dir/<grid stem>/``."""
    return write_tiles(gl.path, Path(tiles_dir) / gl.path.stem, grid_colour(gl), min_zoom, max_zoom, jobs=jobs,
                       name=gl.title.en)


class PreviewBelow(MacroElement):
    """Show the preview image only below ``zoom`` (the tiles take over from there)."""

    _template = Template("""{% macro script(this, kwargs) %}
(function () { var m = {{ this._parent.get_name() }}, img = {{ this.image.get_name() }};
  function sync() { img.setOpacity(m.getZoom() >= {{ this.zoom }} ? 0 : 1); }
  m.on("zoomend", sync); sync(); })();
{% endmacro %}""")

    def __init__(self, image, zoom: int):
        super().__init__()
        self._name = "PreviewBelow"
        self.image, self.zoom = image, zoom


def add_tile_layer(m: folium.Map, layer: folium.FeatureGroup, image, grid_path: Path, out_dir: Path,
                   pane: str) -> bool:
    """When current tiles of ``grid_path`` exist under ``out_dir/tiles``, add them to ``layer`` (shown
    and hidden with it) from zoom 10, and show ``image`` (the preview) only below; return whether."""
    tj = current_tiles(Path(out_dir) / TILES_DIR / grid_path.stem, grid_path)
    if tj is None:
        return False
    w, s, e, n = tj["bounds"]
    folium.TileLayer(tiles=f"../{TILES_DIR}/{grid_path.stem}/{{z}}/{{x}}/{{y}}.png", attr=" ", name=grid_path.stem,
                     min_zoom=max(TILE_MIN_ZOOM, int(tj["minzoom"])), max_native_zoom=int(tj["maxzoom"]),
                     max_zoom=MAP_MAX_ZOOM, overlay=True, control=False, pane=pane, bounds=[[s, w], [n, e]],
                     className="ree-grid-tiles").add_to(layer)
    m.add_child(PreviewBelow(image, max(TILE_MIN_ZOOM, int(tj["minzoom"]))))
    return True
