"""Static map sheets with matplotlib, drawn from the same catalog styles as the web maps (no network).

A sheet is A3 portrait: the title on top, the map at the left with a graticule labelled in degrees and the names of the
deposits, cities (``places``, as many as the scale shows by the catalog's zoom rules), provinces and,
on the coastal sheet, the placer zones with their risk symbols; beside it a column with the legend (one
heading per map group), the coastal sheet's table of placer zones, the scale bar and the north arrow,
and an inset for Hoàng Sa and Trường Sa with its own scale bar under it. Names never overlap
each other or a symbol (``Labeller``). PDF with embedded TrueType text (fonttype 42, so the text is
selectable and searchable) and PNG at 300 dpi, in Vietnamese or English. DejaVu Sans (bundled with
matplotlib) covers Vietnamese.

The map is drawn in longitude/latitude with the aspect of the sheet's central latitude (an
equirectangular view); the scale bar is true at that latitude and says so.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import textwrap
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.files.atomic import atomic_path
from geo.catalog import Catalog, Symbol
from geo.crs import METRIC_CRS, WEB_CRS
from geo.simplify import for_web
from maps.composition import Composition
from maps.web.features import groups
from maps.i18n import Labels, load_labels

A3_PORTRAIT_IN = (297 / 25.4, 420 / 25.4)  # the country and the coast are tall: portrait
DPI = 300
FONT = "DejaVu Sans"
PRINT_TOLERANCE_M = 300  # simplification for print: finer than the web map, far below a 0.1 mm line at 1:3M
HATCH = {"diagonal": "////", "back_diagonal": "\\\\\\\\", "cross": "xxxx", "horizontal": "----", "vertical": "||||"}
MARKER = {"circle": "o", "triangle": "^", "square": "s", "diamond": "D", "star": "*", "cross": "P"}  # as maps/symbols.py draws them
# west, south, east, north of the inset: Hoàng Sa and Trường Sa, clear of the mainland (Mũi Đôi 109.46°E),
# Hainan (south cape 18.2°N), Borneo and Palawan (east of 116.5°E south of 8.5°N)
ARCHIPELAGO_BOX = (110.4, 7.0, 116.4, 17.6)
ZONES, RISKS = "coastal_placer_zones", "placer_risks"
KM_PER_DEG = 111.32  # km per degree of latitude (and of longitude at the equator), WGS 84 mean
WEB_MERCATOR_M_PER_PX_Z0 = 156543.03392  # metres per pixel at zoom 0 on the equator (256 px tiles)
PRINT_ZOOM_BONUS = 1.0  # judgement: printed names are smaller than on screen and read closer, so one zoom more
PT_PER_PX = 0.75  # catalog sizes and widths are screen pixels (96 dpi); matplotlib wants points
# sheet extents (west, south, east, north): the mainland and coastal waters; the archipelagos go in the inset
EXTENTS = {"national": (101.8, 8.2, 110.2, 23.6)}
# sheets fitted to a layer: (layer, margins in degrees west, south, east, north); the coastal sheet covers
# every placer zone, with room east of the coast for the zones' names and risk symbols
FIT = {"coastal": (ZONES, (0.35, 0.3, 0.9, 0.3))}


def build_date() -> str:
    """Today, or SOURCE_DATE_EPOCH's date (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    day = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date() if epoch else dt.date.today()
    return day.isoformat()


def setup_matplotlib():
    """Agg backend, DejaVu Sans, TrueType (Type 42) fonts in PDFs; returns pyplot."""
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams.update({"pdf.fonttype": 42, "ps.fonttype": 42, "font.family": FONT,
                                "svg.fonttype": "none", "hatch.linewidth": 0.6})
    import matplotlib.pyplot as plt
    return plt


def _style(sym: Symbol, geometry: str, flagged_stroke: str | None = None, flagged_width: float | None = None) -> dict:
    lw = (flagged_width or sym.stroke_width) * PT_PER_PX
    if "Point" in geometry:
        return {"marker": MARKER.get(sym.marker, "o"), "color": sym.fill, "edgecolor": flagged_stroke or sym.stroke,
                "linewidth": lw, "markersize": (sym.size * PT_PER_PX) ** 2, "alpha": sym.fill_opacity}
    if "Line" in geometry:
        return {"color": sym.stroke, "linewidth": lw + 0.3}
    return {"facecolor": sym.fill if sym.fill_opacity > 0 else "none", "edgecolor": flagged_stroke or sym.stroke,
            "linewidth": lw, "alpha": None, "hatch": HATCH.get(sym.hatch)}


def _rgba(colour: str, alpha: float):
    from matplotlib.colors import to_rgba
    return to_rgba(colour, alpha)


def draw_layer(ax, frame: gpd.GeoDataFrame, spec, catalog: Catalog, zorder: int) -> list[tuple[str, Symbol, bool]]:
    """Draw one catalog layer with its styles; return its legend entries (kind, symbol, flagged)."""
    out = []
    for g in groups(spec, frame, catalog):
        rows = g.rows[~g.rows.geometry.is_empty & g.rows.geometry.notna()]
        if rows.empty:
            continue
        sym, geom = g.symbol, spec.geometry
        hl = spec.style.highlight
        flagged = rows[hl.field] == hl.value if hl and hl.field in rows else pd.Series(False, index=rows.index)
        for part, is_flagged in ((rows[~flagged], False), (rows[flagged], True)):
            if part.empty:
                continue
            st = _style(sym, geom, hl.stroke if is_flagged else None, hl.stroke_width if is_flagged else None)
            if "Point" in geom:
                ax.scatter(part.geometry.x, part.geometry.y, s=st["markersize"], marker=st["marker"],
                           facecolor=_rgba(st["color"], st["alpha"]), edgecolor=st["edgecolor"],
                           linewidth=st["linewidth"], zorder=zorder + 1)
            elif "Line" in geom:
                part.plot(ax=ax, color=st["color"], linewidth=st["linewidth"], zorder=zorder)
            else:
                part.plot(ax=ax, facecolor=_rgba(sym.fill, sym.fill_opacity) if sym.fill_opacity > 0 else "none",
                          edgecolor=st["edgecolor"], linewidth=st["linewidth"], hatch=st["hatch"], zorder=zorder)
        out.append((g.label, sym, geom))
    return out


def _legend_handle(sym: Symbol, geom: str, stroke: str | None = None, width: float | None = None):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    lw = (width or sym.stroke_width) * PT_PER_PX
    if "Point" in geom:
        return Line2D([], [], linestyle="none", marker=MARKER.get(sym.marker, "o"), markersize=sym.size * PT_PER_PX,
                      markerfacecolor=_rgba(sym.fill, sym.fill_opacity), markeredgecolor=stroke or sym.stroke,
                      markeredgewidth=lw)
    if "Line" in geom:
        return Line2D([], [], color=sym.stroke, linewidth=lw + 0.3)
    return Patch(facecolor=_rgba(sym.fill, sym.fill_opacity) if sym.fill_opacity > 0 else "none",
                 edgecolor=stroke or sym.stroke, linewidth=lw, hatch=HATCH.get(sym.hatch))


def graticule(ax, step: float = 2.0, labelsize: float = 8) -> None:
    """Grid lines every ``step`` degrees, labelled 104°E / 16°N on the frame."""
    import numpy as np
    from matplotlib.ticker import FixedLocator, FuncFormatter
    w, e = ax.get_xlim()
    s, n = ax.get_ylim()
    ax.xaxis.set_major_locator(FixedLocator(np.arange(math.ceil(w / step) * step, e, step)))
    ax.yaxis.set_major_locator(FixedLocator(np.arange(math.ceil(s / step) * step, n, step)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}°E"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}°N"))
    ax.tick_params(labelsize=labelsize, top=True, right=True, labeltop=True, labelright=True, direction="in")
    ax.grid(True, color="#7a8a99", linewidth=0.4, linestyle=(0, (4, 3)), zorder=50)


def km_per_figure_width(fig, ax, lat: float) -> float:
    """Ground kilometres (true at ``lat``) across the whole figure width at ``ax``'s scale."""
    w, e = ax.get_xlim()
    return (e - w) * KM_PER_DEG * math.cos(math.radians(lat)) / ax.get_position().width


def scale_bar(fig, ax, lat: float, lang: str, x0: float, y0: float, max_width: float, fontsize: float = 7) -> float:
    """A two-segment scale bar of ``ax`` in km, true at latitude ``lat``, drawn on the sheet (never over the
    map) with its lower left at figure point (``x0``, ``y0``), at most ``max_width`` wide. Returns its height."""
    from matplotlib.patches import Rectangle
    per_fig = km_per_figure_width(fig, ax, lat)
    length = max(v for v in (10, 20, 25, 50, 100, 150, 200, 250, 500, 1000) if v / per_fig <= max_width * 0.75
                 or v == 10)
    dx, h = length / per_fig, 0.006
    for i, colour in enumerate(("#000000", "#ffffff")):
        fig.add_artist(Rectangle((x0 + i * dx / 2, y0), dx / 2, h, facecolor=colour, edgecolor="#000000",
                                 linewidth=0.6, transform=fig.transFigure))
    for v, x in ((0, x0), (length // 2, x0 + dx / 2), (length, x0 + dx)):
        fig.text(x, y0 + 1.6 * h, f"{v:g}", ha="center", va="bottom", fontsize=fontsize)
    note = f"km (đúng ở vĩ độ {lat:.0f}°N)" if lang == "vi" else f"km (true at {lat:.0f}°N)"
    fig.text(x0 + dx + 0.006, y0, note, ha="left", va="bottom", fontsize=fontsize)
    return 0.03


def north_arrow(fig, x: float, y: float) -> None:
    """A north arrow on the sheet (the maps are drawn north up) at figure point (``x``, ``y``)."""
    fig.text(x, y + 0.045, "N", ha="center", va="bottom", fontsize=11, fontweight="bold")
    fig.add_artist(__import__("matplotlib.patches", fromlist=["FancyArrow"]).FancyArrow(
        x, y, 0, 0.04, width=0.0015, head_width=0.008, head_length=0.012, length_includes_head=True,
        color="#000000", transform=fig.transFigure))


def sheet_extent(name: str, frames) -> tuple[float, float, float, float]:
    """The map window (west, south, east, north): fixed, or a layer's bounds with margins (room for the
    names and risk symbols off the coast)."""
    if name in FIT:
        layer, (mw, ms, me, mn) = FIT[name]
        w, s, e, n = (float(v) for v in frames[layer].to_crs(WEB_CRS).total_bounds)
        return w - mw, s - ms, e + me, n + mn
    return EXTENTS[name]


def sheet_zoom(fig, ax, lat: float) -> float:
    """The web zoom whose ground resolution the printed map has (a CSS pixel, 1/96 in, on the sheet), plus
    :data:`PRINT_ZOOM_BONUS`: which place names a sheet shows follows the catalog's zoom rules."""
    m_per_px = km_per_figure_width(fig, ax, lat) * 1000 / (fig.get_figwidth() * 96)
    return math.log2(WEB_MERCATOR_M_PER_PX_Z0 * math.cos(math.radians(lat)) / m_per_px) + PRINT_ZOOM_BONUS


class Labeller:
    """Names placed without overlap: each name tries positions around its point (close first, then further
    out with a leader line) and takes the first that overlaps no name, symbol or frame edge; a name with no
    free position is left out (higher priority names are placed first)."""

    CLOSE = [(5, 0, "left", "center"), (-5, 0, "right", "center"), (0, 5, "center", "bottom"),
             (0, -5, "center", "top"), (4, 4, "left", "bottom"), (-4, 4, "right", "bottom"),
             (4, -4, "left", "top"), (-4, -4, "right", "top")]
    RINGS = (3, 5)  # further out, with a leader line: multiples of the close offsets

    def __init__(self, fig, ax):
        self.fig, self.ax = fig, ax
        self.renderer = fig.canvas.get_renderer()
        self.taken = []  # display-space boxes of names and symbols
        self.items = []  # (priority, order, x, y, text, style, positions)
        self.frame = ax.get_window_extent(self.renderer)

    def obstacle(self, x: float, y: float, size_pt: float) -> None:
        """A symbol at data point (x, y), ``size_pt`` across, that no name may cover."""
        from matplotlib.transforms import Bbox
        px, py = self.ax.transData.transform((x, y))
        r = size_pt / 2 * self.fig.dpi / 72
        self.taken.append(Bbox.from_extents(px - r, py - r, px + r, py + r))

    def add(self, priority: int, x: float, y: float, text: str, centred: bool = False, rings: tuple = RINGS,
            **style):
        """A name at data point (x, y); ``rings``: the multiples of the close offsets tried after them."""
        positions = [(0, 0, "center", "center"), (0, 7, "center", "bottom"), (0, -7, "center", "top")] if centred \
            else self.CLOSE + [(dx * k, dy * k, ha, va) for k in rings for dx, dy, ha, va in self.CLOSE]
        self.items.append((priority, len(self.items), x, y, text, style, positions))

    def place(self) -> list[str]:
        """Place every name in priority order; returns the names placed."""
        import matplotlib.patheffects as pe
        from matplotlib.text import Text
        placed = []
        for _, _, x, y, text, style, positions in sorted(self.items, key=lambda t: (t[0], t[1])):
            if not (self.ax.get_xlim()[0] <= x <= self.ax.get_xlim()[1] and self.ax.get_ylim()[0] <= y <= self.ax.get_ylim()[1]):
                continue
            for dx, dy, ha, va in positions:
                leader = abs(dx) > 8 or abs(dy) > 8
                t = self.ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                                     zorder=80, annotation_clip=False,
                                     arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "#444444",
                                                 "shrinkA": 0, "shrinkB": 2} if leader else None, **style)
                t.update_positions(self.renderer)
                bb = Text.get_window_extent(t, self.renderer).padded(1.0)  # the name only, not its leader
                inside = (bb.x0 >= self.frame.x0 and bb.x1 <= self.frame.x1 and bb.y0 >= self.frame.y0
                          and bb.y1 <= self.frame.y1)
                if inside and not any(bb.overlaps(o) for o in self.taken):
                    self.taken.append(bb)
                    placed.append(text)
                    # the white halo is a second, stroked copy underneath: a path effect on the name itself
                    # would turn it into outlines, and the PDF's text could no longer be searched
                    halo = self.ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha,
                                            va=va, zorder=79, annotation_clip=False, **{**style, "color": "white"})
                    halo.set_path_effects([pe.Stroke(linewidth=2.2, foreground="white")])
                    break
                t.remove()
        return placed


def _names(spec, frame: gpd.GeoDataFrame, lang: str) -> list[tuple[float, float, str]]:
    """(lon, lat, name in ``lang``) of every named feature; polygons at a representative point."""
    from maps.web.place_labels import anchor_points, label_text
    field = spec.style.label_field
    return [(p.x, p.y, label_text(row, field, lang)) for (_, row), p in zip(frame.iterrows(), anchor_points(frame))
            if p is not None and not p.is_empty and not pd.isna(row.get(field))]


def sheet(name: str, comp: Composition, catalog: Catalog, frames: dict[str, gpd.GeoDataFrame], lang: str,
          labels: Labels | None = None):
    """The matplotlib figure of the map sheet ``name`` (a composition) in ``lang``.

    Layout: the map at the left, full height; then a column with the legend, the placer zones' table
    (coastal sheet), the scale bar and the north arrow; then a column with the title and the
    archipelago inset (with its own scale bar). Nothing is drawn over the map but data and names."""
    from matplotlib.patches import Patch
    plt = setup_matplotlib()
    labels = labels or load_labels()
    fig = plt.figure(figsize=A3_PORTRAIT_IN)
    w, s, e, n = sheet_extent(name, frames)
    lat0 = (s + n) / 2
    sea = labels.basemaps["none"].background if "none" in labels.basemaps else "#D7E7F0"
    ax = fig.add_axes((0.045, 0.05, 0.635, 0.895), anchor="NW")

    def frame_(a, box):
        a.set_facecolor(sea)
        a.set_xlim(box[0], box[2])
        a.set_ylim(box[1], box[3])
        a.set_aspect(1 / math.cos(math.radians((box[1] + box[3]) / 2)), adjustable="box")
        a.apply_aspect()
    frame_(ax, (w, s, e, n))
    top = ax.get_position().y1
    col = ax.get_position().x1 + 0.045
    inset = fig.add_axes((col, 0.07, 0.975 - col, 0.3), anchor="S")  # placed for good under the legend below
    frame_(inset, ARCHIPELAGO_BOX)
    zoom = sheet_zoom(fig, ax, lat0)
    names = Labeller(fig, ax)
    legend: dict[str, list] = {}
    credits = []
    for z, ml in enumerate(comp.layers):
        if not ml.show:
            continue
        spec = catalog[ml.layer]
        frame = for_web(frames[ml.layer], max(ml.tolerance_m / 2, PRINT_TOLERANCE_M) if ml.tolerance_m else 0,
                        ml.min_area_km2 / 4)
        st = spec.style
        if st.label_zoom_field:  # places: only those whose names this sheet's scale shows
            frame = frame[frame[st.label_zoom_field].astype(float) <= zoom]
        entries = draw_layer(ax, frame, spec, catalog, 10 + 2 * z)
        if ml.group == "base" or ml.layer == "archipelagos":  # the inset: land and islands, no mainland data
            draw_layer(inset, frame, spec, catalog, 10 + 2 * z)
        block = [(_legend_handle(sym, geom), label[lang]) for label, sym, geom in entries]
        if st.highlight:
            hl = st.highlight
            block.append((_legend_handle(st.symbol, spec.geometry, hl.stroke, hl.stroke_width), hl.label[lang]))
        legend.setdefault(ml.group, [])[:0] = block  # top layers first, as on the web map
        credits.append(spec.attribution)
        if "Point" in spec.geometry:
            for (_, row), p in zip(frame.iterrows(), frame.geometry):
                if p is not None and not p.is_empty:
                    names.obstacle(p.x, p.y, st.symbol_for(row.get(st.category_field)).size * PT_PER_PX)
        if ml.layer == "deposits" and st.label_field:
            for x, y, t in _names(spec, frame, lang):
                names.add(0, x, y, t, fontsize=6, color="#1a1a1a")
        elif st.label_zoom_field and st.label_field:  # cities, the larger first
            for (x, y, t), zmin in zip(_names(spec, frame, lang), frame[st.label_zoom_field]):
                names.add(2 + int(zmin), x, y, t, rings=(), fontsize=6.5, color="#000000", fontstyle="italic")
        elif st.label_min_zoom is not None and st.label_field and (st.label_min_zoom <= zoom or ml.layer == ZONES):
            bold = ml.layer == ZONES
            for x, y, t in _names(spec, frame, lang):
                if bold:  # placer zones: the province's name in the zone's colour, beside the strip
                    names.add(1, x, y, t, rings=(3, 5, 8, 12, 16), fontsize=7, fontweight="bold",
                              color=st.symbol.stroke)
                else:  # province names: centred, grey capitals, below everything else
                    names.add(20, x, y, t.upper(), centred=True, fontsize=5.5, color="#666666")
        if st.labels_always and st.label_field and not st.label_zoom_field:  # the archipelagos' names, in the inset
            for x, y, t in _names(spec, frame, lang):
                inset.text(x, y + 0.5, t, ha="center", va="bottom", fontsize=8, fontweight="bold", zorder=70)
        if ml.layer == ZONES and RISKS in catalog.layers and RISKS in frames:
            legend.setdefault("risks", []).extend(_draw_risks(ax, names, catalog, frames, lang, 11 + 2 * z))
    names.place()
    for a in (ax, inset):
        a.set_xlabel("")
        a.set_ylabel("")
    graticule(ax)
    graticule(inset, 2.0, 6)
    fig.text(0.045, 0.985, comp.title[lang], fontsize=18, fontweight="bold", va="top")
    handles, texts = [], []
    for key in ("deposits", "zones", "risks", "grids", "admin", "base"):
        if key not in legend or not legend[key]:
            continue
        handles.append(Patch(visible=False))
        texts.append((catalog[RISKS].title[lang] if key == "risks" else labels.groups[key][lang]).upper())
        seen = set()
        for h, t in legend[key]:
            if t not in seen:
                seen.add(t)
                handles.append(h)
                texts.append(textwrap.fill(t, 42))
    leg = fig.legend(handles, texts, loc="upper left", bbox_to_anchor=(col - 0.012, top + 0.012), frameon=False,
                     fontsize=7.5, title=labels.ui["legend"][lang], title_fontsize=10, alignment="left",
                     handlelength=2.0, labelspacing=0.4)
    for t, h in zip(leg.get_texts(), handles):
        if not h.get_visible():  # a group heading
            t.set_fontweight("bold")
            t.set_fontsize(6.5)
            t.set_text(textwrap.fill(t.get_text(), 44))
    fig.canvas.draw()
    bottom = leg.get_window_extent().transformed(fig.transFigure.inverted()).y0
    if ZONES in {ml.layer for ml in comp.layers if ml.show}:
        bottom = _zone_table(fig, catalog, frames, lang, col, bottom - 0.008, 0.975 - col)
    # the main map's scale bar and north arrow under the legend; the inset fills what is left below
    fig.text(col, bottom - 0.02, "Tỷ lệ bản đồ chính" if lang == "vi" else "Main map scale", fontsize=7,
             color="#333333", va="top")
    scale_bar(fig, ax, lat0, lang, col, bottom - 0.042, 0.975 - col - 0.06)
    north_arrow(fig, 0.958, top - 0.075)
    # the inset at the foot of the column at its natural size (or smaller, when the column is full); the
    # room between it and the scale bar takes the notes (the catalog's descriptions of the layers shown)
    width = 0.975 - col
    box = ARCHIPELAGO_BOX
    natural = width * fig.get_figwidth() * (box[3] - box[1]) / ((box[2] - box[0]) * math.cos(math.radians(
        (box[1] + box[3]) / 2))) / fig.get_figheight()
    height = max(min(natural, bottom - 0.1 - 0.065), 0.1)
    inset.set_position((col, 0.065, width, height))
    inset.apply_aspect()
    _notes(fig, comp, catalog, lang, col, bottom - 0.075, inset.get_position().y1 + 0.03, width)
    ib = inset.get_position()
    inset.set_title("Quần đảo Hoàng Sa và Trường Sa" if lang == "vi" else "Hoàng Sa and Trường Sa archipelagos",
                    fontsize=8)
    scale_bar(fig, inset, (ARCHIPELAGO_BOX[1] + ARCHIPELAGO_BOX[3]) / 2, lang, ib.x0, ib.y0 - 0.03, ib.width, 6)
    src = "Nguồn" if lang == "vi" else "Sources"
    made = "Lập ngày" if lang == "vi" else "Built"
    credit_text = f"{src}: " + "; ".join(dict.fromkeys(c for c in credits if c))
    fig.text(0.045, 0.006, textwrap.fill(f"{labels.ui['credits'][lang]} · {made} {build_date()} · {credit_text}", 165),
             fontsize=6.5, va="bottom", ha="left", color="#333333")
    return fig


def _notes(fig, comp: Composition, catalog: Catalog, lang: str, x: float, top: float, bottom: float,
           width: float) -> None:
    """Notes: what the layers shown are (their catalog descriptions, top layer first), as many as fit."""
    size = 7
    line = size * 1.3 / 72 / fig.get_figheight()
    chars = int(width * fig.get_figwidth() * 72 / (size * 0.55))
    paras = [f"{catalog[ml.layer].title[lang]}: {catalog[ml.layer].description[lang]}"
             for ml in reversed(comp.layers) if ml.show and catalog[ml.layer].description[lang]]
    y = top
    if y - 3 * line < bottom or not paras:
        return
    fig.text(x, y, "GHI CHÚ" if lang == "vi" else "NOTES", fontsize=7, fontweight="bold", va="top")
    y -= 1.6 * line
    for p in dict.fromkeys(paras):
        text = textwrap.fill(p, chars)
        n = text.count("\n") + 1
        if y - n * line < bottom:
            break
        fig.text(x, y, text, fontsize=size, va="top", color="#333333", linespacing=1.15)
        y -= (n + 0.6) * line


def _draw_risks(ax, names: Labeller, catalog: Catalog, frames, lang: str, zorder: int) -> list:
    """The risk symbols beside the placer zones (``maps/web/risk_symbols.py``); returns their legend rows."""
    from maps.web.risk_symbols import risk_points
    spec = catalog[RISKS]
    st = spec.style
    pts = risk_points(catalog, frames)
    dom = catalog.domain_of(spec.field(st.category_field))
    rows = []
    for topic, sym in st.categories.items():
        part = pts[pts["topic"] == topic]
        size = sym.size * PT_PER_PX
        if not part.empty:
            ax.scatter(part.geometry.x, part.geometry.y, s=size ** 2, marker=MARKER.get(sym.marker, "o"),
                       facecolor=_rgba(sym.fill, sym.fill_opacity), edgecolor=sym.stroke,
                       linewidth=sym.stroke_width * PT_PER_PX, zorder=zorder + 40)
            for p in part.geometry:
                names.obstacle(p.x, p.y, size)
            label = dom.values[topic][lang] if dom and topic in dom.values else topic
            rows.append((_legend_handle(sym, "Point"), label))
    return rows


def _zone_table(fig, catalog: Catalog, frames, lang: str, x: float, top: float, width: float) -> float:
    """The placer zones north to south: province, placer sites, Th/U, sourced risk topics (symbols).
    Returns the table's lower edge (figure fraction)."""
    from matplotlib.lines import Line2D
    from maps.web.risk_symbols import unplaced, zone_topics
    spec = catalog[ZONES]
    zones = frames[ZONES]
    order = zones.geometry.to_crs(METRIC_CRS).representative_point().to_crs(WEB_CRS).y.sort_values(ascending=False)
    topics = zone_topics(catalog, frames) if RISKS in frames else {}
    risk_style = catalog[RISKS].style if RISKS in catalog.layers else None
    yes_no = catalog.domain_of(spec.field("th_u_flag"))
    head = "VÙNG SA KHOÁNG THEO TỈNH (BẮC → NAM)" if lang == "vi" else "PLACER ZONES BY PROVINCE (NORTH → SOUTH)"
    fig.text(x, top, head, fontsize=7.5, fontweight="bold", va="top")
    cols = (x, x + width * 0.36, x + width * 0.56, x + width * 0.78)
    y = top - 0.022
    heads = (spec.field("province_2025").alias[lang], spec.field("n_placer_sites").alias[lang],
             spec.field("th_u_flag").alias[lang], "Rủi ro" if lang == "vi" else "Risks")
    for cx, t in zip(cols, heads):
        fig.text(cx, y, textwrap.fill(t, 14), fontsize=6, color="#444444", va="bottom")
    step = 0.0145
    for i in order.index:
        y -= step
        z = zones.loc[i]
        flag = yes_no.values[z["th_u_flag"]][lang] if yes_no and z["th_u_flag"] in yes_no.values else z["th_u_flag"]
        for cx, t in zip(cols, (z["province_2025"], f"{int(z['n_placer_sites'])}", flag)):
            fig.text(cx, y, t, fontsize=7, va="bottom")
        for k, topic in enumerate(topics.get(z["province_2025"], {})):
            sym = risk_style.categories[topic]
            fig.add_artist(Line2D([cols[3] + 0.004 + k * 0.011], [y + 0.004], marker=MARKER.get(sym.marker, "o"),
                                  markersize=sym.size * PT_PER_PX * 0.8, markerfacecolor=sym.fill,
                                  markeredgecolor=sym.stroke, markeredgewidth=0.6, linestyle="none",
                                  transform=fig.transFigure))
    n = unplaced(frames) if RISKS in frames else 0
    if n:
        y -= step
        note = (f"{n} phát hiện rủi ro không nêu tỉnh: không vẽ trên bản đồ" if lang == "vi"
                else f"{n} risk findings name no province: not drawn on the map")
        fig.text(x, y, note, fontsize=6.5, color="#444444", va="bottom", fontstyle="italic")
    return y


def save(fig, stem: Path) -> list[Path]:
    """``stem``.pdf (vector, Type 42 text) and ``stem``.png (300 dpi), each written atomically."""
    import matplotlib.pyplot as plt
    paths = []
    for ext in ("pdf", "png"):
        target = stem.with_suffix(f".{ext}")
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, dpi=DPI)
        paths.append(target)
    plt.close(fig)
    return paths


def print_sheets(catalog: Catalog, frames, comps: dict[str, Composition], out_dir: Path, names=("national", "coastal"),
                 langs=("vi", "en")) -> list[Path]:
    """Write OUT/NAME_LANG.pdf and .png for every sheet and language; return the paths."""
    out = []
    for name in names:
        for lang in langs:
            out += save(sheet(name, comps[name], catalog, frames, lang), out_dir / f"{name}_{lang}")
    return out


