"""Lighter geometries for web output: small polygons dropped and shapes simplified in the metric CRS,
coordinates rounded in WGS84."""
from __future__ import annotations

import pickle
import weakref

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import METRIC_CRS, WEB_CRS
from geo.files.cache import cached_pickle, digest, library_versions

WEB_DECIMALS = 4  # 1e-4° ≈ 11 m: below every web simplification tolerance (≥ 100 m)


_MEMO: dict[tuple[int, float, float], gpd.GeoDataFrame] = {}  # (id of a live frame, arguments) -> result


def for_web(frame: gpd.GeoDataFrame, tolerance_m: float, min_area_km2: float = 0.0) -> gpd.GeoDataFrame:
    """``frame`` in WGS84 without polygons smaller than ``min_area_km2``, with lines and polygons
    simplified by ``tolerance_m`` metres (topology-preserving, per feature) and coordinates rounded to
    :data:`WEB_DECIMALS`. Computed once per frame object (while it lives) and arguments: a build's maps
    draw many of the same layers (measured: 2.4 of a 5 km build's 20 s); the rows kept and their
    geometries are also kept in the derived-data cache (geo/files/cache.py) by the digest of the frame's
    geometries, CRS, the arguments and the library versions, for the next build. Neither frame may be changed in place
    afterwards (the callers only read them)."""
    key = (id(frame), float(tolerance_m), float(min_area_km2))
    if key not in _MEMO:
        _MEMO[key] = _stored(frame, float(tolerance_m), float(min_area_km2))
        weakref.finalize(frame, _MEMO.pop, key, None)  # the id may be reused once the frame is gone
    return _MEMO[key]


def _stored(frame: gpd.GeoDataFrame, tolerance_m: float, min_area_km2: float) -> gpd.GeoDataFrame:
    geoms = frame.geometry.values
    wkb = shapely.to_wkb(geoms)
    key = digest(pickle.dumps(list(wkb), protocol=5), frame.crs.to_wkt() if frame.crs else "",
                 repr((tolerance_m, min_area_km2, WEB_DECIMALS, METRIC_CRS, WEB_CRS)), *library_versions(),
                 code=(_simplified,))

    def make():
        keep, web = _simplified(frame, tolerance_m, min_area_km2)
        return keep, shapely.to_wkb(web)

    keep, web = cached_pickle("web", key, make, keep=256)  # a build draws ~60 (layer, tolerance) pairs
    out = frame.iloc[keep].set_crs(WEB_CRS, allow_override=True)
    out[frame.geometry.name] = shapely.from_wkb(web)
    return out


def _simplified(frame: gpd.GeoDataFrame, tolerance_m: float, min_area_km2: float) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the rows kept and their web geometries."""
    geoms = frame.geometry.to_crs(METRIC_CRS)
    keep = np.arange(len(frame))
    if min_area_km2 > 0:
        keep = np.flatnonzero(~geoms.geom_type.str.endswith("Polygon").to_numpy() | (geoms.area >= min_area_km2 * 1e6).to_numpy())
        geoms = geoms.iloc[keep]
    if tolerance_m > 0 and not geoms.geom_type.str.endswith("Point").all():
        geoms = geoms.simplify(tolerance_m, preserve_topology=True)
    web = geoms.to_crs(WEB_CRS)
    return keep, shapely.make_valid(shapely.set_precision(web.values, 10 ** -WEB_DECIMALS))
