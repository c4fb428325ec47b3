"""Lighter geometries for web output: small polygons dropped and shapes simplified in the metric CRS,
coordinates rounded in WGS84."""
from __future__ import annotations

import weakref

import geopandas as gpd
import shapely

from geo.crs import METRIC_CRS, WEB_CRS

WEB_DECIMALS = 4  # 1e-4° ≈ 11 m: below every web simplification tolerance (≥ 100 m)


_MEMO: dict[tuple[int, float, float], gpd.GeoDataFrame] = {}  # (id of a live frame, arguments) -> result


def for_web(frame: gpd.GeoDataFrame, tolerance_m: float, min_area_km2: float = 0.0) -> gpd.GeoDataFrame:
    """``frame`` in WGS84 without polygons smaller than ``min_area_km2``, with lines and polygons
    simplified by ``tolerance_m`` metres (topology-preserving, per feature) and coordinates rounded to
    :data:`WEB_DECIMALS`. Computed once per frame object (while it lives) and arguments: a build's maps
    draw many of the same layers (measured: 2.4 of a 5 km build's 20 s). Neither frame may be changed
    in place afterwards (the callers only read them)."""
    key = (id(frame), float(tolerance_m), float(min_area_km2))
    if key not in _MEMO:
        _MEMO[key] = _simplified(frame, tolerance_m, min_area_km2)
        weakref.finalize(frame, _MEMO.pop, key, None)  # the id may be reused once the frame is gone
    return _MEMO[key]


def _simplified(frame: gpd.GeoDataFrame, tolerance_m: float, min_area_km2: float) -> gpd.GeoDataFrame:
    out = frame.to_crs(METRIC_CRS)
    if min_area_km2 > 0:
        out = out[~out.geom_type.str.endswith("Polygon") | (out.geometry.area >= min_area_km2 * 1e6)]
    if tolerance_m > 0 and not out.geom_type.str.endswith("Point").all():
        out["geometry"] = out.geometry.simplify(tolerance_m, preserve_topology=True)
    out = out.to_crs(WEB_CRS)
    out["geometry"] = shapely.make_valid(shapely.set_precision(out.geometry.values, 10 ** -WEB_DECIMALS))
    return out
