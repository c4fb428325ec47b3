"""A point layer too dense for a web page drawn as a density grid instead of one marker per point.

The pitfalls measured 100,000 markers at 27-77 MB and 4.5-9 s to load; a survey file of a million points
would make the page unusable. Above :data:`MAX_WEB_POINTS` points, a layer is counted into square cells of
:data:`CELL_DEG` degrees and each class of count is one legend row ("density grid: 100–999 points per
cell"), drawn with the layer's own colour, more opaque where more points fall. The GeoPackage and the
exports keep every point; the legend says so.
"""
from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import shapely

from geo.catalog import LayerSpec, Symbol, Text
from geo.crs import WEB_CRS

MAX_WEB_POINTS = 20_000  # above this a point layer is drawn as a density grid (markers stay below ~6 MB)
CELL_DEG = 0.05  # about 5.5 km north-south
CLASSES = ((1, 9), (10, 99), (100, 999), (1000, None))  # points per cell
OPACITY = (0.3, 0.5, 0.7, 0.9)


def is_dense(spec: LayerSpec, frame) -> bool:
    """Whether ``frame`` of point layer ``spec`` is drawn as a density grid."""
    return bool(spec.geometry) and spec.geometry.endswith("Point") and len(frame) > MAX_WEB_POINTS


def density_cells(frame: gpd.GeoDataFrame, cell_deg: float = CELL_DEG) -> gpd.GeoDataFrame:
    """The cells holding at least one point of ``frame``: a WGS 84 square per cell and its ``count``."""
    pts = frame.geometry.to_crs(WEB_CRS) if frame.crs is not None else frame.geometry
    xy = shapely.get_coordinates(pts.values)
    ix, iy = np.floor(xy[:, 0] / cell_deg).astype(np.int64), np.floor(xy[:, 1] / cell_deg).astype(np.int64)
    cells, count = np.unique(np.stack([ix, iy], axis=1), axis=0, return_counts=True)
    x0, y0 = cells[:, 0] * cell_deg, cells[:, 1] * cell_deg
    boxes = shapely.box(x0, y0, x0 + cell_deg, y0 + cell_deg)
    return gpd.GeoDataFrame({"count": count}, geometry=boxes, crs=WEB_CRS)


def _vi(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _label(spec: LayerSpec, low: int, high: int | None, n: int) -> Text:
    vi_range = f"{_vi(low)}–{_vi(high)}" if high else f"≥ {_vi(low)}"
    en_range = f"{low:,}–{high:,}" if high else f"≥ {low:,}"
    km = round(CELL_DEG * 111)
    return Text(f"{spec.title.vi}: lưới mật độ, {vi_range} điểm mỗi ô ~{km} km ({_vi(n)} điểm, đủ trong GeoPackage)",
                f"{spec.title.en}: density grid, {en_range} points per ~{km} km cell ({n:,} points, all in the GeoPackage)")


def density_layer(spec: LayerSpec, frame: gpd.GeoDataFrame):
    """``(spec, groups)`` drawing ``frame`` as a density grid: a polygon spec of the layer's own colour
    and one group (legend row) per class of count, each its cells' squares."""
    from maps.web.features import Group  # maps.web.features imports folium; keep this module light
    cells = density_cells(frame)
    sym = spec.style.symbol
    poly = replace(spec, geometry="MultiPolygon",
                   style=replace(spec.style, category_field=None, categories={}, highlight=None,
                                 uncertainty_field=None, labels_always=False, size_field=None))
    out = []
    for (low, high), alpha in zip(CLASSES, OPACITY):
        mask = (cells["count"] >= low) & ((cells["count"] <= high) if high else True)
        if mask.any():
            out.append(Group(_label(spec, low, high, len(frame)),
                             Symbol(fill=sym.fill, stroke=sym.fill, fill_opacity=alpha, stroke_width=0.5),
                             cells[mask]))
    return poly, out
