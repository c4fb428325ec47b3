"""Place names on the web maps: a catalog layer's label field drawn as text from a zoom on.

A layer whose style has ``label_zoom_field`` (the ``places`` layer: each feature its own zoom) is drawn as
dots with names only; a layer with ``label_min_zoom`` (province polygons) keeps its shapes and popups and
gets its names at a representative point. The names sit in the layer's own FeatureGroup, so the layer
control switches them with the layer; ``static/labels.js`` shows each from its zoom and hides one that
would overlap a name of higher priority (lower zoom, then listed first). Text is escaped here."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from branca.element import Element, MacroElement
from jinja2 import Template

from geo.catalog import LayerSpec
from geo.crs import METRIC_CRS, WEB_CRS
from geo.simplify import WEB_DECIMALS
from maps.escape import safe, script_json
from maps.i18n import bi_html

STATIC = Path(__file__).resolve().parent.parent / "static"


def names_only(spec: LayerSpec) -> bool:
    """True for a layer drawn as names (and dots) by zoom, with no cards: ``places``."""
    return bool(spec.style and spec.style.label_zoom_field)


def has_names(spec: LayerSpec) -> bool:
    return bool(spec.style and spec.style.label_field
                and (spec.style.label_zoom_field or spec.style.label_min_zoom is not None))


def label_text(row, field: str, lang: str) -> str:
    """The label in ``lang``: ``name_vi`` / ``name_en`` pairs give each language its own field."""
    if field.endswith("_vi") and f"{field[:-3]}_{lang}" in row.index and not pd.isna(row[f"{field[:-3]}_{lang}"]):
        field = f"{field[:-3]}_{lang}"
    return str(row[field])


def anchor_points(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Points as they are; polygons at a representative point (computed in metres, always inside)."""
    if frame.empty or frame.geometry.geom_type.str.endswith("Point").all():
        return frame.geometry
    return frame.geometry.to_crs(METRIC_CRS).representative_point().to_crs(WEB_CRS)


def label_rows(spec: LayerSpec, frame: gpd.GeoDataFrame) -> list[list]:
    """``[lat, lon, min_zoom, html]`` per named feature, lowest zoom first (the feature order within a zoom)."""
    st = spec.style
    rows = []
    for (_, row), p in zip(frame.iterrows(), anchor_points(frame)):
        if p is None or p.is_empty or pd.isna(row.get(st.label_field)):
            continue
        zoom = int(row[st.label_zoom_field]) if st.label_zoom_field else int(st.label_min_zoom)
        vi, en = label_text(row, st.label_field, "vi"), label_text(row, st.label_field, "en")
        html = safe(vi) if vi == en else bi_html(safe(vi), safe(en), "span")
        rows.append([round(p.y, WEB_DECIMALS), round(p.x, WEB_DECIMALS), zoom, html])
    return sorted(rows, key=lambda r: r[2])


class PlaceLabels(MacroElement):
    """The names of one layer group, drawn by ``REE.labels`` into its parent FeatureGroup."""

    _template = Template("""{% macro script(this, kwargs) %}
REE.labels({{ this._parent._parent.get_name() }}, {{ this._parent.get_name() }}, {{ this.data }}, {{ this.opts }});
{% endmacro %}""")

    def __init__(self, spec: LayerSpec, frame: gpd.GeoDataFrame):
        super().__init__()
        self._name = "PlaceLabels"
        sym = spec.style.symbol
        dot = None
        if names_only(spec):  # the place's dot, from the catalog symbol
            d = sym.size
            dot = (f"width:{d:g}px;height:{d:g}px;background:{sym.fill};"
                   f"border:{sym.stroke_width:g}px solid {sym.stroke}")
        # outline-only areas (provinces): grey capitals; filled areas (placer zones): bold, in their outline colour
        filled = not names_only(spec) and sym.fill_opacity > 0
        cls = "ree-place-point" if names_only(spec) else "ree-place-zone" if filled else "ree-place-area"
        self.data = script_json(label_rows(spec, frame))
        self.opts = script_json({"cls": cls, "dot": dot, "ink": sym.stroke if filled else None})


def add_label_assets(m) -> None:
    """``static/labels.js`` and ``labels.css`` once per page, after the project's own script."""
    js = (STATIC / "labels.js").read_text(encoding="utf-8")
    css = (STATIC / "labels.css").read_text(encoding="utf-8")
    m.get_root().header.add_child(Element(f"{{% raw %}}<style>{css}</style>{{% endraw %}}"), name="ree_labels_css")
    m.get_root().html.add_child(Element(f"{{% raw %}}<script>{js}</script>{{% endraw %}}"), name="ree_labels_js")
