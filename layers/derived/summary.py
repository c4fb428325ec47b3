"""Per-2025-province summary: sites by type and prospect-zone area, for a choropleth."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo.crs import METRIC_CRS
from layers.derived.admin import P2025, pre_to_2025
from layers.registry import builder


@builder("province_summary")
def province_summary(spec, frames) -> gpd.GeoDataFrame:
    provinces = frames[P2025].sort_values("code_2025").reset_index(drop=True)
    deposits = frames["deposits"]
    out = provinces[["code_2025", "name_2025", "names_pre2025", "geometry"]].copy()
    # one count per deposit type: the catalog declares the fields n_<type>
    types = [f.name.removeprefix("n_") for f in spec.fields
             if f.name.startswith("n_") and f.name not in ("n_sites", "n_unlocated")]
    for t in types:
        counts = deposits[deposits["deposit_type"] == t].groupby("province_2025").size()
        out[f"n_{t}"] = out["name_2025"].map(counts).fillna(0).astype("int64")
    out["n_sites"] = out[[f"n_{t}" for t in types]].sum(axis=1).astype("int64")
    un = frames["unlocated_occurrences"]
    un_counts = un["province_pre2025"].map(pre_to_2025(frames)).value_counts()
    out["n_unlocated"] = out["name_2025"].map(un_counts).fillna(0).astype("int64")
    zones = shapely.union_all(frames["prospect_zones"].to_crs(METRIC_CRS).geometry.values)
    metric = out.to_crs(METRIC_CRS)
    zone_km2 = shapely.area(shapely.intersection(metric.geometry.values, zones)) / 1e6
    out["zone_area_km2"] = pd.Series(zone_km2).round(1).values
    out["zone_share_pct"] = (100 * zone_km2 / (metric.area.values / 1e6)).round(2)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=provinces.crs)
