"""Render a map composition with Folium, reading every style and label from the catalog.

The page carries both languages (``maps/i18n.py``); ``offline=True`` inlines every script and
stylesheet (``maps/web/offline.py``) and opens on the project's own land layer instead of web tiles."""
from __future__ import annotations

from pathlib import Path

import folium
import numpy as np
import pandas as pd
from branca.element import Element

from geo.files.atomic import write_text
from geo.catalog import Catalog
from geo.crs import WEB_CRS
from geo.simplify import for_web
from layers.model.model_spec import ModelSpec
from layers.model.record import build_spec
from layers.package import build_stamp
from maps.web.cell_panel import add_cell_panel, panel_data
from maps.composition import CONTROL_ORDER, Composition
from maps.web.controls import (About, LandMiniMap, Language, LayerControl, Legend, Ready, Scale, Search, Title, View,
                           add_tools, grid_sources, page_assets)
from maps.web.density import density_layer, is_dense
from maps.escape import safe
from maps.web.features import GeoLayer, Group, PopupPieces, collection, geometry_json, groups, options
from maps.web.grids import BASE_PANE, MARK_PANE_Z, Panes, grid_groups
from maps.web.tiles import MAP_MAX_ZOOM, MAP_MIN_ZOOM
from maps.i18n import bi, load_labels
from maps.web.offline import LEAFLET_CSS, LEAFLET_JS, inline
from maps.web.place_labels import PlaceLabels, add_label_assets, has_names, names_only
from maps.web.popup import REFERENCES, Pieces
from maps.web.risk_symbols import RISKS, ZONES, add_risk_layers
from maps.symbols import leaflet_style, swatch_svg

AUC_TABLE = "prospectivity_auc"  # the validation table whose verdicts the cell panel states

STATIC = Path(__file__).resolve().parent.parent / "static"
MINIMAP_TOLERANCE_M, MINIMAP_MIN_AREA_KM2 = 5000, 200  # the overview map's land: coarse and small


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


def _default_basemap(comp: Composition, offline: bool) -> str:
    return "none" if offline and "none" in comp.basemaps else comp.basemaps[0]


def render(comp: Composition, catalog: Catalog, frames: dict[str, pd.DataFrame], offline: bool = False,
           grids_dir: Path | None = None, model: ModelSpec | None = None) -> folium.Map:
    """A folium map of ``comp`` drawn from ``frames`` (name -> loaded layer), in both languages.

    ``grids_dir``: the build directory whose ``grids/`` holds the prospectivity grids; when the
    composition asks for them and they exist there, each is an overlay (off by default) above the
    base geography, described (legend, sources, click panel) by ``model``, the model that made them
    (when not given, the one the build records: :func:`layers.model.record.build_spec`)."""
    labels = load_labels()
    # the project's layers draw on canvas renderers of their own (REE.layer); not preferCanvas, under which
    # leaflet-measure's vertices have no SVG path and every measuring click threw a TypeError
    m = folium.Map(location=list(comp.center), zoom_start=comp.zoom, tiles=None, prefer_canvas=False,
                   control_scale=False, minZoom=MAP_MIN_ZOOM, maxZoom=MAP_MAX_ZOOM)  # not min_zoom: folium gives
    # that to its default tiles only
    m.default_js, m.default_css = [("leaflet", LEAFLET_JS)], [("leaflet_css", LEAFLET_CSS)]
    m.get_root().header.add_child(Element(f"<title>{safe(comp.title.vi)} | {safe(comp.title.en)}</title>"),
                                  name="title")
    none = labels.basemaps.get("none")
    page_assets(m, (STATIC / "ree.css").read_text(encoding="utf-8"), (STATIC / "ree.js").read_text(encoding="utf-8"),
                none.background if none else None)
    refs = frames[REFERENCES].set_index("id", drop=False) if REFERENCES in frames else None
    panes = Panes()
    panes.add_to(m)
    keys = iter(range(1, 1 << 30))
    pieces = Pieces()  # popup text shared between cards, stored once
    order = CONTROL_ORDER
    by_group: dict[str, list[Group]] = {g: [] for g in order}
    legend: dict[str, list] = {g: [] for g in order}  # per group, top layers first
    credits, minimap, sea = [], None, None
    grids_pending = comp.grids and grids_dir is not None
    if grids_pending:
        model = model or build_spec(grids_dir)
    grid_rows = []
    fit = []  # bounds of the layers the opening view must include (composition `fit`)
    marks = 0  # point layers get a pane each, in composition order: later layers always draw on top
    for ml in comp.layers:
        if grids_pending and ml.group != "base":  # above the land, below everything else
            grid_rows = grid_groups(m, grids_dir, comp.grid_scores, model)
            by_group["grids"] = [g for g, _, _ in grid_rows]
            legend["grids"] = [(svg, label, [g]) for g, svg, label in grid_rows]
            grids_pending = False
        spec = catalog[ml.layer]
        credits.append((spec.title, spec.attribution, spec.licence))
        interactive = ml.popup
        if is_dense(spec, frames[ml.layer]):  # too many points for a page: a density grid (maps/web/density.py)
            spec, layer_groups = density_layer(spec, frames[ml.layer])
            interactive = False
        else:
            web = for_web(frames[ml.layer], ml.tolerance_m, ml.min_area_km2)
            layer_groups = groups(spec, web, catalog)
        if ml.layer in comp.fit and len(frames[ml.layer]):
            fit.append(frames[ml.layer].to_crs(WEB_CRS).total_bounds)
        mark_pane = None
        if spec.geometry.endswith("Point") and ml.group != "base":
            mark_pane = panes.add(f"reeMarks{marks}", MARK_PANE_Z + marks)
            marks += 1
        rows = []
        for i, g in enumerate(layer_groups):
            g.key = spec.name if len(layer_groups) == 1 else f"{spec.name}.{i}"  # stable id in the URL hash
            g.layer = folium.FeatureGroup(name=spec.name, show=ml.show, control=False)
            data = None if names_only(spec) else collection(spec, g, catalog, refs, interactive, lambda: next(keys),
                                                            labels.cards.get(spec.name), pieces)
            opts = options(spec, g.symbol, interactive)
            if ml.group == "base":
                opts["pane"] = BASE_PANE[0]
            if mark_pane:
                opts["markerPane"] = mark_pane
            if has_names(spec):  # names by zoom (maps/web/place_labels.py), not permanent tooltips
                opts["labels"] = False
                add_label_assets(m)
                PlaceLabels(spec, g.rows).add_to(g.layer)
            if data is not None:
                GeoLayer(data, opts).add_to(g.layer)
            g.layer.add_to(m)
            by_group[ml.group].append(g)
            if len(g.rows):  # a legend row only for what is drawn (an empty zone class has none)
                rows.append((swatch_svg(g.symbol, spec.geometry), bi(g.label), [g]))
        if ml.layer == ZONES and RISKS in frames and catalog.layers.get(RISKS) and catalog[RISKS].style:
            risk_groups = add_risk_layers(m, catalog, frames, refs, lambda: next(keys), pieces, ml.show)
            by_group[ml.group] += risk_groups
            rows[:0] = [(swatch_svg(g.symbol, "Point"), bi(g.label), [g]) for g in risk_groups if len(g.rows)]
        hl = spec.style.highlight
        if hl and any(len(g.rows) and (g.rows[hl.field] == hl.value).any() for g in layer_groups):
            rows.append((swatch_svg(spec.style.symbol, spec.geometry, hl.stroke, hl.stroke_width), bi(hl.label),
                         layer_groups))
        legend[ml.group][:0] = rows
        if ml.group == "base" and minimap is None and "Polygon" in spec.geometry:
            w, so, e, n = (float(v) for v in frames[ml.layer].to_crs(WEB_CRS).total_bounds)
            sea = [[so, w], [n, e]]
            coarse = for_web(frames[ml.layer], MINIMAP_TOLERANCE_M, MINIMAP_MIN_AREA_KM2)
            minimap = LandMiniMap({"type": "GeometryCollection",
                                   "geometries": [geometry_json(g) for g in coarse.geometry if not g.is_empty]},
                                  {**leaflet_style(spec.style.symbol), "weight": 0.5})
    Language(labels.ui["language"], labels.controls).add_to(m)  # first in the top-right corner, above the layer control
    LayerControl(labels, [labels.basemaps[b] for b in comp.basemaps], _default_basemap(comp, offline),
                 [(k, by_group[k]) for k in order if by_group[k]], sea).add_to(m)
    Search(labels, [g for k in order for g in by_group[k]]).add_to(m)
    add_tools(m)
    Scale().add_to(m)  # bottom left, below the legend
    Legend(labels.ui["legend"], [(k, labels.groups[k], _unique(legend[k])) for k in order if legend[k]]).add_to(m)
    grid_types = list(dict.fromkeys(g.deposit_type for g, _, _ in grid_rows))
    About(labels, comp.title, credits, [labels.basemaps[b] for b in comp.basemaps],
          grid_sources(grid_types, refs, model), build_stamp().date().isoformat()).add_to(m)
    Title(comp.title).add_to(m)
    if fit:
        b = np.array(fit)
        fit_bounds = [[float(b[:, 1].min()), float(b[:, 0].min())], [float(b[:, 3].max()), float(b[:, 2].max())]]
    else:
        fit_bounds = None
    opening = next((g.key for g, _, _ in grid_rows if g.key == comp.open_grid), None)
    View(fit_bounds, opening).add_to(m)
    if minimap:
        minimap.add_to(m)
    if comp.explain and grid_rows:
        types = list(dict.fromkeys(g.deposit_type for g, _, _ in grid_rows))
        data = panel_data(grids_dir, types, model, frames.get(REFERENCES), frames.get(AUC_TABLE),
                          catalog.domains.get("validation_verdict"), catalog.domains.get("validation_null"))
        if data:
            add_cell_panel(m, data, [(g.layer, g.deposit_type, g.score) for g, _, _ in grid_rows])
    pieces.table()  # settle the cards before any layer's data is written
    PopupPieces(pieces).add_to(m)
    Ready().add_to(m)
    _fix_ids(m)
    return m


def _unique(rows: list) -> list:
    """Legend rows with the same swatch and text merged into one row that follows all their layers
    (e.g. the Th/U outline of two layers in one group)."""
    out: dict[tuple[str, str], tuple] = {}
    for svg, label, gs in rows:
        if (svg, label) in out:
            out[svg, label][2].extend(g for g in gs if g not in out[svg, label][2])
        else:
            out[svg, label] = (svg, label, list(gs))
    return list(out.values())


def page_html(m: folium.Map, offline: bool = False) -> str:
    """The map's HTML, with every script and stylesheet inlined when ``offline``."""
    html = m.get_root().render()
    return inline(html) if offline else html


def save_map(m: folium.Map, target: Path, offline: bool = False) -> Path:
    """Write the map's HTML atomically."""
    return write_text(target, page_html(m, offline))
