"""The coordinate reference systems, declared once.

Distances and areas are computed in :data:`METRIC_CRS`; :data:`WEB_CRS` is only for web output and
interchange. VN-2000 / UTM zone 48N covers the mainland best; the far east of the mainland and the
archipelagos lie in zone 49, where zone-48 scale error reaches about 1.5 % at 115° E (used there for
display-grade areas only).
"""
from __future__ import annotations

import geopandas as gpd

WEB_CRS = "EPSG:4326"  # WGS 84 longitude/latitude
METRIC_CRS = "EPSG:3405"  # VN-2000 / UTM zone 48N, metres
EXPORT_CRS = {  # the CRS choices offered to users, by the names they are asked for
    "EPSG:4326": "WGS 84 (longitude/latitude)",
    "EPSG:3405": "VN-2000 / UTM zone 48N",
    "EPSG:3406": "VN-2000 / UTM zone 49N",
}


def to_metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` in the metric CRS (a copy)."""
    return frame.to_crs(METRIC_CRS)


def area_km2(frame: gpd.GeoDataFrame):
    """Area of each geometry in km², measured in the metric CRS."""
    return to_metric(frame).area / 1e6
