"""Static map sheets with matplotlib, drawn from the same catalog styles as the web maps (no network).

A sheet is A3 landscape: the map with a graticule labelled in degrees, a scale bar and a north arrow;
beside it the title, the legend (one heading per map group), an inset for Hoàng Sa and Trường Sa, the
credits and the build date. PDF with embedded TrueType text (fonttype 42, so the text is selectable and
searchable) and PNG at 300 dpi, in Vietnamese or English. DejaVu Sans (bundled with matplotlib) covers
Vietnamese.

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

from geo.atomic import atomic_path
from geo.catalog import Catalog, Symbol
from geo.crs import METRIC_CRS, WEB_CRS
from geo.simplify import for_web
from maps.composition import Composition
from maps.features import groups
from maps.i18n import Labels, load_labels

A3_LANDSCAPE_IN = (420 / 25.4, 297 / 25.4)
DPI = 300
FONT = "DejaVu Sans"
PRINT_TOLERANCE_M = 300  # simplification for print: finer than the web map, far below a 0.1 mm line at 1:3M
HATCH = {"diagonal": "////", "back_diagonal": "\\\\\\\\", "cross": "xxxx", "horizontal": "----", "vertical": "||||"}
MARKER = {"circle": "o", "triangle": "^", "square": "s", "diamond": "D"}
ARCHIPELAGO_BOX = (109.0, 6.0, 117.5, 17.8)  # west, south, east, north of the inset (Hoàng Sa, Trường Sa)
PT_PER_PX = 0.75  # catalog sizes and widths are screen pixels (96 dpi); matplotlib wants points
# sheet extents (west, south, east, north): the mainland and coastal waters; the archipelagos go in the inset
EXTENTS = {"national": (101.8, 8.2, 110.2, 23.6), "coastal": (105.6, 10.2, 110.6, 17.3)}


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


def graticule(ax, step: float = 2.0) -> None:
    """Grid lines every ``step`` degrees, labelled 104°E / 16°N on the frame."""
    import numpy as np
    from matplotlib.ticker import FixedLocator, FuncFormatter
    w, e = ax.get_xlim()
    s, n = ax.get_ylim()
    ax.xaxis.set_major_locator(FixedLocator(np.arange(math.ceil(w / step) * step, e, step)))
    ax.yaxis.set_major_locator(FixedLocator(np.arange(math.ceil(s / step) * step, n, step)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}°E"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}°N"))
    ax.tick_params(labelsize=8, top=True, right=True, labeltop=True, labelright=True, direction="in")
    ax.grid(True, color="#7a8a99", linewidth=0.4, linestyle=(0, (4, 3)), zorder=50)


def scale_bar(ax, lat: float, lang: str) -> None:
    """A two-segment scale bar in km, true at latitude ``lat``, in the lower left of ``ax``."""
    w, e = ax.get_xlim()
    s, n = ax.get_ylim()
    km_per_deg = 111.32 * math.cos(math.radians(lat))
    target = (e - w) * km_per_deg / 5
    length = max(v for v in (10, 20, 25, 50, 100, 200, 250, 500) if v <= max(target, 10))
    x0, y0 = w + (e - w) * 0.04, s + (n - s) * 0.035
    dx, h = length / km_per_deg, (n - s) * 0.006
    ax.add_patch(__import__("matplotlib.patches", fromlist=["Rectangle"]).Rectangle(
        (x0 - (e - w) * 0.015, y0 - (n - s) * 0.012), dx + (e - w) * 0.26, (n - s) * 0.045, facecolor="#ffffffcc",
        edgecolor="none", zorder=59))
    for i, colour in enumerate(("#000000", "#ffffff")):
        ax.add_patch(__import__("matplotlib.patches", fromlist=["Rectangle"]).Rectangle(
            (x0 + i * dx / 2, y0), dx / 2, h, facecolor=colour, edgecolor="#000000", linewidth=0.6, zorder=60))
    for v, x in ((0, x0), (length // 2, x0 + dx / 2), (length, x0 + dx)):
        ax.text(x, y0 + 2 * h, f"{v:g}", ha="center", va="bottom", fontsize=7, zorder=60)
    note = f"km (đúng ở vĩ độ {lat:.0f}°N)" if lang == "vi" else f"km (true at {lat:.0f}°N)"
    ax.text(x0 + dx + (e - w) * 0.01, y0, note, ha="left", va="bottom", fontsize=7, zorder=60)


def north_arrow(ax) -> None:
    ax.annotate("N", xy=(0.95, 0.95), xytext=(0.95, 0.87), xycoords="axes fraction", ha="center", va="center",
                fontsize=12, fontweight="bold", arrowprops={"arrowstyle": "-|>", "color": "#000000", "lw": 1.5},
                zorder=60)


def sheet(name: str, comp: Composition, catalog: Catalog, frames: dict[str, gpd.GeoDataFrame], lang: str,
          labels: Labels | None = None):
    """The matplotlib figure of the map sheet ``name`` (a composition) in ``lang``."""
    from matplotlib.patches import Patch
    plt = setup_matplotlib()
    labels = labels or load_labels()
    fig = plt.figure(figsize=A3_LANDSCAPE_IN)
    w, s, e, n = EXTENTS.get(name) or tuple(frames[comp.layers[-1].layer].to_crs(WEB_CRS).total_bounds)
    lat0 = (s + n) / 2
    aspect = 1 / math.cos(math.radians(lat0))
    sea = labels.basemaps["none"].background if "none" in labels.basemaps else "#D7E7F0"
    ax = fig.add_axes((0.04, 0.06, 0.62, 0.89))

    def frame_(a, box):
        a.set_facecolor(sea)
        a.set_xlim(box[0], box[2])
        a.set_ylim(box[1], box[3])
        a.set_aspect(aspect, adjustable="box")
        a.apply_aspect()
    frame_(ax, (w, s, e, n))
    # the right-hand column (title, legend, inset) starts just right of the map's own width
    left = min(ax.get_position().x1 + 0.055, 0.70)
    inset = fig.add_axes((left, 0.06, 0.975 - left, 0.36))
    frame_(inset, ARCHIPELAGO_BOX)
    legend: dict[str, list] = {}
    credits = []
    for z, ml in enumerate(comp.layers):
        if not ml.show:
            continue
        spec = catalog[ml.layer]
        frame = for_web(frames[ml.layer], max(ml.tolerance_m / 2, PRINT_TOLERANCE_M) if ml.tolerance_m else 0,
                        ml.min_area_km2 / 4)
        entries = draw_layer(ax, frame, spec, catalog, 10 + 2 * z)
        draw_layer(inset, frame, spec, catalog, 10 + 2 * z)
        block = [(_legend_handle(sym, geom), label[lang]) for label, sym, geom in entries]
        if spec.style.highlight:
            hl = spec.style.highlight
            block.append((_legend_handle(spec.style.symbol, spec.geometry, hl.stroke, hl.stroke_width), hl.label[lang]))
        legend.setdefault(ml.group, [])[:0] = block  # top layers first, as on the web map
        credits.append(spec.attribution)
        if spec.style.labels_always and spec.style.label_field:
            field = spec.style.label_field
            if field.endswith("_vi") and f"{field[:-3]}_{lang}" in frame:  # name_vi / name_en
                field = f"{field[:-3]}_{lang}"
            pts = frame.to_crs(METRIC_CRS).geometry.representative_point().to_crs(WEB_CRS)
            for (_, row), p in zip(frame.iterrows(), pts):
                inset.text(p.x, p.y + 0.5, str(row[field]), ha="center", va="bottom", fontsize=8,
                           fontweight="bold", zorder=70)
    for a in (ax, inset):
        a.set_xlabel("")
        a.set_ylabel("")
    graticule(ax)
    graticule(inset, 4.0)
    inset.tick_params(labelsize=6)
    scale_bar(ax, lat0, lang)
    north_arrow(ax)
    inset.set_title("Quần đảo Hoàng Sa và Trường Sa" if lang == "vi" else "Hoàng Sa and Trường Sa archipelagos",
                    fontsize=9)
    # title and legend, top right
    fig.text(left, 0.955, textwrap.fill(comp.title[lang], 34), fontsize=18, fontweight="bold", va="top")
    handles, texts = [], []
    for key in ("deposits", "zones", "grids", "admin", "base"):
        if key not in legend or not legend[key]:
            continue
        handles.append(Patch(visible=False))
        texts.append(labels.groups[key][lang].upper())
        seen = set()
        for h, t in legend[key]:
            if t not in seen:
                seen.add(t)
                handles.append(h)
                texts.append(t)
    leg = fig.legend(handles, texts, loc="upper left", bbox_to_anchor=(left - 0.008, 0.885), frameon=False, fontsize=10,
                     title=labels.ui["legend"][lang], title_fontsize=11, alignment="left", handlelength=2.2)
    for t, h in zip(leg.get_texts(), handles):
        if not h.get_visible():  # a group heading
            t.set_fontweight("bold")
            t.set_fontsize(8)
    src = "Nguồn" if lang == "vi" else "Sources"
    made = "Lập ngày" if lang == "vi" else "Built"
    credit_text = f"{src}: " + "; ".join(dict.fromkeys(c for c in credits if c))
    fig.text(0.04, 0.008, textwrap.fill(f"{labels.ui['credits'][lang]} · {made} {build_date()} · {credit_text}", 230),
             fontsize=6.5, va="bottom", ha="left", color="#333333")
    return fig


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


