"""Lighter geometries for web output: simplified in the metric CRS, rounded in WGS84."""
from __future__ import annotations

import geopandas as gpd
import shapely

from geo.crs import METRIC_CRS, WEB_CRS

WEB_DECIMALS = 5  # 1e-5° ≈ 1.1 m


def for_web(frame: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """``frame`` in WGS84 with lines and polygons simplified by ``tolerance_m`` metres
    (topology-preserving, per feature) and coordinates rounded to :data:`WEB_DECIMALS`."""
    out = frame.to_crs(METRIC_CRS)
    if tolerance_m > 0 and not out.geom_type.str.endswith("Point").all():
        out["geometry"] = out.geometry.simplify(tolerance_m, preserve_topology=True)
    out = out.to_crs(WEB_CRS)
    out["geometry"] = shapely.make_valid(shapely.set_precision(out.geometry.values, 10 ** -WEB_DECIMALS))
    return out
