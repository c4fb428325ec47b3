"""Turn a checked table with longitude/latitude columns into a point GeoDataFrame."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.crs import WEB_CRS
from geo.errors import Problem

Bounds = tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max


def coordinate_problems(frame: pd.DataFrame, lon: str, lat: str, bounds: Bounds,
                        file: str, place: str = "the study area") -> list[Problem]:
    """Problems with coordinates outside ``bounds``; swapped longitude/latitude named as such."""
    x0, y0, x1, y1 = bounds
    problems = []
    rows = frame.attrs.get("rows") or range(1, len(frame) + 1)
    for rownum, x, y in zip(rows, frame[lon], frame[lat]):
        if pd.isna(x) or pd.isna(y):
            continue
        if x0 <= x <= x1 and y0 <= y <= y1:
            continue
        if x0 <= y <= x1 and y0 <= x <= y1:
            problems.append(Problem(file, "longitude and latitude look swapped", row=rownum,
                                    field=f"{lon}/{lat}", value=(float(x), float(y)),
                                    fix=f"swap the two values ({lon}={y}, {lat}={x})"))
        else:
            problems.append(Problem(file, f"coordinates outside {place} {bounds}", row=rownum,
                                    field=f"{lon}/{lat}", value=(float(x), float(y)),
                                    fix="give WGS84 decimal degrees (longitude, latitude)"))
    return problems


def to_points(frame: pd.DataFrame, lon: str, lat: str) -> gpd.GeoDataFrame:
    """A WGS84 point GeoDataFrame; rows without coordinates get an empty geometry."""
    geom = gpd.points_from_xy(frame[lon].astype(float), frame[lat].astype(float), crs=WEB_CRS)
    out = gpd.GeoDataFrame(frame.copy(), geometry=geom, crs=WEB_CRS)
    out.attrs = dict(frame.attrs)
    return out
