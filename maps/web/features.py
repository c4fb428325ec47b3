"""A catalog layer as Leaflet GeoJSON: one GeoJSON layer per map group (per category), with each
feature's popup, tooltip, search key, highlight flag and uncertainty radius as properties that
``static/ree.js`` binds in the browser. Everything shown is escaped here."""
from __future__ import annotations

from dataclasses import dataclass, field

import folium
import numpy as np
import shapely
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from geo.catalog import Catalog, LayerSpec, Symbol, Text
from geo.simplify import WEB_DECIMALS
from maps.escape import safe, script_json
from maps.i18n import Card, bi_html
from maps.web.popup import Pieces, empty, popup_html
from maps.symbols import leaflet_style, marker_size, swatch_svg


SCALE = 10 ** WEB_DECIMALS


def encode_line(coords) -> str:
    """A line or ring as an encoded polyline (Google's algorithm) at :data:`WEB_DECIMALS` decimals,
    x before y; ``REE.decode`` in ``static/ree.js`` reverses it. About 5 bytes a vertex instead of 20."""
    out, px, py = [], 0, 0
    for x, y, *_ in coords:
        ix, iy = int(round(x * SCALE)), int(round(y * SCALE))
        for d in (ix - px, iy - py):
            v = ~(d << 1) if d < 0 else d << 1
            while v >= 0x20:
                out.append(chr((0x20 | (v & 0x1F)) + 63))
                v >>= 5
            out.append(chr(v + 63))
        px, py = ix, iy
    return "".join(out)


def _encode(coords, depth: int):
    return encode_line(coords) if depth == 0 else [_encode(c, depth - 1) for c in coords]


_DEPTH = {"LineString": 0, "MultiLineString": 1, "Polygon": 1, "MultiPolygon": 2}


def geometry_json(geom) -> dict:
    """A shapely geometry as GeoJSON whose lines and rings are encoded polylines (points stay plain)."""
    gi = geom.__geo_interface__
    if gi["type"] == "GeometryCollection":
        return {"type": "GeometryCollection", "geometries": [geometry_json(g) for g in geom.geoms]}
    if gi["type"] in _DEPTH:
        return {"type": gi["type"], "coordinates": _encode(gi["coordinates"], _DEPTH[gi["type"]])}
    return {"type": gi["type"], "coordinates": [[round(v, WEB_DECIMALS) for v in c] for c in gi["coordinates"]]
            if gi["type"] == "MultiPoint" else [round(v, WEB_DECIMALS) for v in gi["coordinates"]]}




def _merged(geoms):
    """All the parts of ``geoms`` as one MultiPolygon / MultiLineString / MultiPoint when they share a
    kind, else a GeometryCollection (no dissolving: every ring stays as it was)."""
    parts = shapely.get_parts(np.array([g for g in geoms if g is not None and not g.is_empty], dtype=object))
    kinds = set(shapely.get_type_id(parts).tolist())
    if kinds <= {3}:
        return shapely.multipolygons(parts)
    if kinds <= {1, 2}:
        return shapely.multilinestrings(parts)
    if kinds <= {0}:
        return shapely.multipoints(parts)
    return shapely.geometrycollections(parts)


@dataclass
class Group:
    """One entry of the layer control: a label, a symbol and the rows drawn with it."""

    label: Text
    symbol: Symbol
    rows: gpd.GeoDataFrame
    layer: folium.FeatureGroup = field(default=None)
    search: list = field(default_factory=list)  # (name, key) of its searchable features


def groups(spec: LayerSpec, frame: gpd.GeoDataFrame, catalog: Catalog) -> list[Group]:
    """One group per category of a categorised layer, else one for the layer."""
    st = spec.style
    if not st.category_field:
        return [Group(spec.title, st.symbol, frame)]
    dom = catalog.domain_of(spec.field(st.category_field))
    return [Group(dom.values[code] if dom else Text(code, code), sym, frame[frame[st.category_field] == code])
            for code, sym in st.categories.items()]


def options(spec: LayerSpec, sym: Symbol, interactive: bool) -> dict:
    """What ree.js needs to draw a group: path styles or marker icons, hatch, highlight, uncertainty."""
    hl = spec.style.highlight
    hs, hw = (hl.stroke, hl.stroke_width) if hl else (None, None)
    # no per-layer attribution: the credits are in the "About / Sources" panel (maps/web/controls.py About)
    out = {"scale": SCALE, "interactive": interactive, "style": leaflet_style(sym), "styleFlag": leaflet_style(sym, hs, hw),
           "hatch": sym.hatch, "uncColor": sym.fill, "labels": spec.style.labels_always}
    if spec.geometry.endswith("Point"):
        out.update(size=marker_size(sym), sizeFlag=marker_size(sym, hw),
                   icon=swatch_svg(sym, spec.geometry, size=marker_size(sym)),
                   iconFlag=swatch_svg(sym, spec.geometry, hs, hw, size=marker_size(sym, hw)))
    return out


def collection(spec: LayerSpec, group: Group, catalog: Catalog, refs: pd.DataFrame | None,
               interactive: bool, next_key, card: Card | None = None, pieces: Pieces | None = None) -> dict:
    """The group's features as a GeoJSON FeatureCollection with properties for ree.js; with
    ``pieces``, each popup is a list of pieces of the page's shared table (``Pieces``)."""
    st = spec.style
    feats = []
    if not interactive:  # a backdrop: one multi-geometry, no properties (one Leaflet path to draw)
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": geometry_json(_merged(group.rows.geometry))}]}
    for _, row in group.rows.iterrows():
        if row.geometry is None or row.geometry.is_empty:
            continue
        name = row.get(st.label_field) if st.label_field else None
        html = popup_html(catalog, spec, row, refs, card)
        props = {"p": pieces.add(html) if pieces is not None else html,
                 "t": safe(name) if not empty(name) else bi_html(safe(group.label.vi), safe(group.label.en), "span")}
        if st.highlight and row.get(st.highlight.field) == st.highlight.value:
            props["h"] = 1
        if st.uncertainty_field and not empty(row.get(st.uncertainty_field)):
            props["u"] = float(row[st.uncertainty_field])
        if not empty(name):
            props["k"] = next_key()
            group.search.append((str(name), props["k"]))
        feats.append({"type": "Feature", "properties": props, "geometry": geometry_json(row.geometry)})
    return {"type": "FeatureCollection", "features": feats}


class GeoLayer(MacroElement):
    """A GeoJSON layer drawn by ``REE.layer`` into its parent FeatureGroup.

    The features travel as a ``<script type="application/json">`` block, which the browser does not
    compile: ``REE.layer`` parses it only when the layer is first shown (hidden layers cost nothing at
    load, and ``JSON.parse`` is faster than a JavaScript literal of the same data)."""

    _template = Template("""{% macro html(this, kwargs) %}<script type="application/json" id="{{ this.get_name() }}_data">
{{- this.data -}}</script>{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = REE.layer({{ this._parent._parent.get_name() }}, {{ this._parent.get_name() }},
  "{{ this.get_name() }}_data", {{ this.opts }});
{% endmacro %}""")

    def __init__(self, data: dict, opts: dict):
        super().__init__()
        self._name = "GeoLayer"
        self._data, self.opts = data, script_json(opts)

    @property
    def data(self) -> str:
        """Serialised when the page is rendered, after the shared popup pieces are settled."""
        return script_json(self._data)


class PopupPieces(MacroElement):
    """The shared table of popup pieces (``maps.web.popup.Pieces``) as ``<script type="application/json"
    id="ree_pieces">``, read by ``REE.card`` when a layer is first built."""

    _template = Template("""{% macro html(this, kwargs) %}<script type="application/json" id="ree_pieces">
{{- this.data -}}</script>{% endmacro %}""")

    def __init__(self, pieces: Pieces):
        super().__init__()
        self._name = "PopupPieces"
        self.pieces = pieces

    @property
    def data(self) -> str:
        return script_json(self.pieces.table())
