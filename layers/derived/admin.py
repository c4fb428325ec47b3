"""Administrative layers derived from the base geography: 2025 provinces, coastline, 2025 names."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo.crs import METRIC_CRS, WEB_CRS, area_km2
from geo.files.table import LIST_SEP
from geo.vector import buffer_parts, promote_to_multi
from layers.registry import builder, computed

CROSSWALK, PRE2025, P2025 = "province_crosswalk", "provinces_pre2025", "provinces_2025"


def pre_to_2025(frames) -> dict[str, str]:
    """Pre-2025 province name (and former name) -> 2025 province name."""
    cw = frames[CROSSWALK]
    out = dict(zip(cw["name_pre2025"], cw["name_2025"]))
    for former, name in zip(cw["former_names"], cw["name_pre2025"]):
        for alias in ([] if pd.isna(former) else former.split(LIST_SEP)):
            out[alias] = out[name]
    return out


def province_at(frames, points) -> pd.Series:
    """The pre-2025 province polygon each WGS84 point falls in (point-in-polygon); a point in no
    polygon (offshore) gets the nearest province. Indexed like ``points``."""
    provs = frames[PRE2025]
    pts = gpd.GeoDataFrame(geometry=gpd.GeoSeries(points), crs=WEB_CRS)
    hit = gpd.sjoin(pts, provs[["name_vi", "geometry"]], how="left", predicate="within")
    found = hit.groupby(level=0)["name_vi"].first()
    missing = found[found.isna()].index
    if len(missing):
        near = gpd.sjoin_nearest(pts.loc[missing].to_crs(METRIC_CRS), provs[["name_vi", "geometry"]].to_crs(METRIC_CRS))
        found.loc[missing] = near.groupby(level=0)["name_vi"].first()
    return found


@computed("deposits", "province_2025")
def deposit_province_2025(frame: pd.DataFrame, frames) -> pd.Series:
    """The 2025 province of the polygon the site's point falls in (checked against province_pre2025)."""
    pre = province_at(frames, frame.geometry.values)
    return pd.Series(pre.values, index=frame.index).map(pre_to_2025(frames)).astype("string")


@builder("provinces_2025")
def provinces_2025(spec, frames) -> gpd.GeoDataFrame:
    """Dissolve the 63 pre-2025 provinces by the crosswalk (the 2025 merger was whole-province)."""
    p63 = frames[PRE2025].merge(frames[CROSSWALK][["code_pre2025", "code_2025", "name_2025"]],
                                left_on="code", right_on="code_pre2025", how="left", validate="1:1")
    parts = p63.sort_values("code").groupby("code_2025", sort=True)
    geoms = parts["geometry"].agg(lambda g: shapely.union_all(g.values))
    out = gpd.GeoDataFrame({
        "code_2025": geoms.index.astype(str),
        "name_2025": parts["name_2025"].first().values,
        "names_pre2025": parts["name_vi"].agg(lambda s: LIST_SEP.join(s)).values,
        "n_pre2025": parts.size().values.astype("int64"),
    }, geometry=list(geoms.values), crs=WEB_CRS)
    out["geometry"] = shapely.make_valid(out.geometry.values)
    out["area_km2"] = area_km2(out).round(1)
    return out.reset_index(drop=True)


VIETNAM_AREA_LAYERS = (PRE2025, "archipelagos")  # what vietnam_area reads
_AREA = "_vietnam_area_metric"  # cache key in the build's frames (never written out)


def vietnam_area(frames) -> shapely.Geometry:
    """Vietnam's provinces and archipelagos as one geometry in the metric CRS (computed once).

    The provinces do not overlap, so a coverage union (fast) is exact; edited boundaries that overlap
    are not a coverage, and get the general union.
    """
    if _AREA not in frames:
        provs = frames[PRE2025].to_crs(METRIC_CRS).geometry.values
        isles = frames["archipelagos"].to_crs(METRIC_CRS).geometry.values
        try:
            land = shapely.coverage_union_all(provs)
        except shapely.errors.GEOSException:
            land = shapely.union_all(provs)
        frames[_AREA] = shapely.union(land, shapely.union_all(isles))
    return frames[_AREA]


@builder("coastline")
def coastline(spec, frames) -> gpd.GeoDataFrame:
    """The shore of the open sea (layers/derived/coast.py) within 2 km of Vietnam's provinces and islands,
    as one line feature: estuary channels, lagoons behind narrow inlets, lakes and reservoirs have no
    coastline; a river mouth is closed by the arc of the rule's disc across it."""
    from layers.derived.coast import open_sea
    near = buffer_parts(vietnam_area(frames).simplify(1000), 2000, quad_segs=4)
    parts = shapely.get_parts(shapely.intersection(shapely.boundary(open_sea(frames)), near))
    lines = shapely.line_merge(shapely.union_all(parts[~shapely.is_empty(parts)]))
    geom = gpd.GeoSeries([lines], crs=METRIC_CRS)
    out = gpd.GeoDataFrame({"name_vi": ["Đường bờ biển Việt Nam"], "name_en": ["Coastline of Vietnam"],
                            "length_km": [round(float(geom.length.iloc[0]) / 1000, 1)]},
                           geometry=geom.to_crs(WEB_CRS), crs=WEB_CRS)
    out["geometry"] = promote_to_multi(out.geometry.values)
    return out
