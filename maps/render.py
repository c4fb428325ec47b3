"""Render a map composition with Folium, reading every style and label from the catalog."""
from __future__ import annotations

from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Element, MacroElement
from jinja2 import Template

from geo.atomic import write_text
from geo.catalog import Catalog, LayerSpec
from geo.simplify import for_web
from maps.composition import Composition, MapLayer
from maps.escape import safe
from maps.popup import REFERENCES, popup_html
from maps.symbols import path_options, point_marker, swatch_svg

BASEMAP_TILES = {  # name -> (tile URL, attribution, label vi, label en)
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
            "OpenStreetMap", "OpenStreetMap"),
    "satellite": ("https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
                  "Tiles &copy; Esri &mdash; Source: Esri, Maxar, Earthstar Geographics, and the GIS User Community",
                  "Ảnh vệ tinh (Esri)", "Satellite imagery (Esri)"),
    "topo": ("https://{s}.tile.opentopomap.org/{z}/{x}/{y}.png",
             'Map data: &copy; OpenStreetMap contributors, SRTM | Map style: &copy; '
             '<a href="https://opentopomap.org">OpenTopoMap</a> (CC-BY-SA)',
             "Địa hình (OpenTopoMap)", "Topographic (OpenTopoMap)"),
}
NO_BASEMAP = ("Không nền", "No basemap")


def _basemaps(m: folium.Map, comp: Composition, lang: str) -> None:
    i = 0 if lang == "vi" else 1
    for n, key in enumerate(comp.basemaps):
        if key == "none":
            folium.FeatureGroup(name=NO_BASEMAP[i], overlay=False, show=n == 0).add_to(m)
            continue
        url, attr, vi, en = BASEMAP_TILES[key]
        folium.TileLayer(url, attr=attr, name=(vi, en)[i], overlay=False, show=n == 0,
                         max_zoom=18).add_to(m)


def _groups(spec: LayerSpec, frame: pd.DataFrame, catalog: Catalog, lang: str):
    """(label, symbol, rows) per map layer: one per category for categorised layers."""
    st = spec.style
    if not st.category_field:
        yield spec.title[lang], st.symbol, frame
        return
    dom = catalog.domain_of(spec.field(st.category_field))
    for code, sym in st.categories.items():
        label = dom.values[code][lang] if dom else code
        yield label, sym, frame[frame[st.category_field] == code]


def _add_layer(m: folium.Map, ml: MapLayer, spec: LayerSpec, frame: gpd.GeoDataFrame, catalog: Catalog,
               refs: pd.DataFrame | None, lang: str) -> None:
    st = spec.style
    hl = st.highlight
    for label, sym, rows in _groups(spec, for_web(frame, ml.tolerance_m), catalog, lang):
        group = folium.FeatureGroup(name=safe(label), show=ml.show)
        if not ml.popup:
            opts = path_options(sym)
            folium.GeoJson(rows[["geometry"]].__geo_interface__, style_function=lambda _, o=opts: o,
                           interactive=False).add_to(group)
            group.add_to(m)
            continue
        for _, row in rows.iterrows():
            popup = folium.Popup(popup_html(catalog, spec, row, lang, refs), max_width=420)
            tip = safe(row.get(st.label_field)) if st.label_field else safe(label)
            if spec.geometry.endswith("Point"):
                flagged = hl is not None and row.get(hl.field) == hl.value
                point_marker(row.geometry.y, row.geometry.x, sym, popup=popup, tooltip=tip,
                             stroke=hl.stroke if flagged else None,
                             stroke_width=hl.stroke_width if flagged else None).add_to(group)
            else:
                flagged = hl is not None and row.get(hl.field) == hl.value
                opts = path_options(sym, hl.stroke if flagged else None, hl.stroke_width if flagged else None)
                gj = folium.GeoJson(row.geometry.__geo_interface__, style_function=lambda _, o=opts: o,
                                    tooltip=tip)
                gj.add_child(popup)
                gj.add_to(group)
        group.add_to(m)


class Legend(MacroElement):
    """A fixed legend box built from the catalog's symbols."""

    _template = Template("""{% macro html(this, kwargs) %}{{ this.body }}{% endmacro %}""")

    def __init__(self, body: str):
        super().__init__()
        self._name = "Legend"
        self.body = body


def legend_html(comp: Composition, catalog: Catalog, lang: str) -> str:
    title = {"vi": "Chú giải", "en": "Legend"}[lang]
    rows = []
    for ml in comp.layers:
        spec = catalog[ml.layer]
        st = spec.style
        if not ml.popup:
            continue  # base layers are not explained in the legend
        if st.category_field:
            dom = catalog.domain_of(spec.field(st.category_field))
            for code, sym in st.categories.items():
                rows.append((swatch_svg(sym, spec.geometry), dom.values[code][lang] if dom else code))
        else:
            rows.append((swatch_svg(st.symbol, spec.geometry), spec.title[lang]))
        if st.highlight:
            rows.append((swatch_svg(st.symbol, spec.geometry, st.highlight.stroke, st.highlight.stroke_width),
                         st.highlight.label[lang]))
    items = "".join(f'<div class="ree-legend-row">{svg} <span>{safe(text)}</span></div>' for svg, text in rows)
    return (f'<div id="ree-legend" class="ree-legend" style="position:fixed;bottom:24px;left:12px;z-index:1000;'
            f'background:rgba(255,255,255,.92);padding:8px 10px;border-radius:6px;'
            f'box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.4 sans-serif">'
            f'<div class="ree-legend-title"><b>{safe(title)}</b></div>{items}</div>')


def _fix_ids(m: folium.Map) -> None:
    """Replace folium's random element ids with sequential ones so output is reproducible."""
    counter = 0

    def walk(el):
        nonlocal counter
        el._id = f"{counter:08x}"
        counter += 1
        nested = [getattr(el, a, None) for a in ("header", "html", "script")]
        for child in [*el._children.values(), *(n for n in nested if isinstance(n, Element))]:
            walk(child)
        # children are keyed by the name they had when added; templates read those keys
        el._children = type(el._children)((c.get_name(), c) for c in el._children.values())
    walk(m.get_root())


def render(comp: Composition, catalog: Catalog, frames: dict[str, pd.DataFrame], lang: str = "vi") -> folium.Map:
    """A folium map of ``comp`` drawn from ``frames`` (name -> loaded layer)."""
    m = folium.Map(location=list(comp.center), zoom_start=comp.zoom, tiles=None,
                   prefer_canvas=True, control_scale=True, maxZoom=18)
    m.get_root().header.add_child(Element(f"<title>{safe(comp.title[lang])}</title>"))
    _basemaps(m, comp, lang)
    refs = frames[REFERENCES].set_index("id", drop=False) if REFERENCES in frames else None
    for ml in comp.layers:
        _add_layer(m, ml, catalog[ml.layer], frames[ml.layer], catalog, refs, lang)
    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(Element(legend_html(comp, catalog, lang)))
    _fix_ids(m)
    return m


def save_map(m: folium.Map, target: Path) -> Path:
    """Write the map's HTML atomically."""
    return write_text(target, m.get_root().render())
