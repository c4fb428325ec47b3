"""Per-2025-province summary: sites by type and prospect-zone area, for a choropleth."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo.crs import METRIC_CRS
from geo.files.table import LIST_SEP
from layers.derived.admin import P2025, pre_to_2025
from layers.registry import builder


@builder("province_summary")
def province_summary(spec, frames) -> gpd.GeoDataFrame:
    provinces = frames[P2025].sort_values("code_2025").reset_index(drop=True)
    deposits = frames["deposits"]
    out = provinces[["code_2025", "name_2025", "names_pre2025", "geometry"]].copy()
    # one count per deposit type: the catalog declares the fields n_<type>
    types = [f.name.removeprefix("n_") for f in spec.fields
             if f.name.startswith("n_") and f.name not in ("n_sites", "n_unlocated", "n_usgs_records")]
    for t in types:
        counts = deposits[deposits["deposit_type"] == t].groupby("province_2025").size()
        out[f"n_{t}"] = out["name_2025"].map(counts).fillna(0).astype("int64")
    out["n_sites"] = out[[f"n_{t}" for t in types]].sum(axis=1).astype("int64")
    un = frames["unlocated_occurrences"]
    un_counts = un["province_pre2025"].map(pre_to_2025(frames)).value_counts()
    out["n_unlocated"] = out["name_2025"].map(un_counts).fillna(0).astype("int64")
    usgs = usgs_records_by_province(frames)
    out["n_usgs_records"] = out["name_2025"].map(usgs).fillna(0).astype("int64")
    out["has_cited_occurrence"] = (out["n_sites"] + out["n_unlocated"] > 0).map({True: "yes", False: "no"})
    pre = pre2025_with_occurrence(frames)
    out["pre2025_with_occurrence"] = [LIST_SEP.join(n for n in names.split(LIST_SEP) if n in pre) or None
                                      for names in out["names_pre2025"]]
    zones = shapely.union_all(frames["prospect_zones"].to_crs(METRIC_CRS).geometry.values)
    metric = out.to_crs(METRIC_CRS)
    zone_km2 = shapely.area(shapely.intersection(metric.geometry.values, zones)) / 1e6
    out["zone_area_km2"] = pd.Series(zone_km2).round(1).values
    out["zone_share_pct"] = (100 * zone_km2 / (metric.area.values / 1e6)).round(2)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=provinces.crs)


USGS_REFS = ("usgs_ofr_02_189_ree", "usgs_major_deposits")  # the USGS deposit databases (one compiler)


def usgs_records_by_province(frames) -> pd.Series:
    """Distinct USGS database records per 2025 province: the positions' records by their site's province,
    plus the record ids of the unlocated occurrences by theirs (a record outside Vietnam counts for the site)."""
    to2025 = pre_to_2025(frames)
    keys: dict[str, set] = {}
    if "site_locations" in frames:
        loc = frames["site_locations"]
        prov = loc["site_id"].map(dict(zip(frames["deposits"]["id"], frames["deposits"]["province_pre2025"])))
        for ref, rec, p in zip(loc["ref"], loc["record_id"], prov.map(to2025)):
            if ref in USGS_REFS and pd.notna(rec) and pd.notna(p):
                keys.setdefault(p, set()).add(f"{ref}:{rec}")
    un = frames["unlocated_occurrences"]
    if "record_ids" in un:
        for recs, p in zip(un["record_ids"], un["province_pre2025"].map(to2025)):
            if pd.notna(recs) and pd.notna(p):
                keys.setdefault(p, set()).update(r for r in str(recs).split(LIST_SEP) if r.startswith("usgs"))
    return pd.Series({p: len(v) for p, v in keys.items()}, dtype="int64")


def pre2025_with_occurrence(frames) -> set[str]:
    """The pre-2025 provinces (the literature's names) with a cited occurrence, located or not."""
    canon = {}
    for name, former in zip(frames["province_crosswalk"]["name_pre2025"], frames["province_crosswalk"]["former_names"]):
        canon[name] = name
        for alias in ([] if pd.isna(former) else str(former).split(LIST_SEP)):
            canon[alias] = name
    names = list(frames["deposits"]["province_pre2025"]) + list(frames["unlocated_occurrences"]["province_pre2025"].dropna())
    return {canon.get(n, n) for n in names}


MINISTER_PROVINCES = 21  # vn_moae_21_provinces_2025, laodong_2025_21_provinces: "deposits distributed across 21 provinces and cities"


def occurrence_statement(frames) -> str:
    """How many of the 34 provinces have a cited REE occurrence, which, against the minister's 21."""
    summary = frames["province_summary"]
    with_occ = summary[summary["has_cited_occurrence"] == "yes"].sort_values("name_2025")
    names = ", ".join(with_occ["name_2025"])
    n = len(with_occ)
    pre = sorted(pre2025_with_occurrence(frames))
    return (f"{n} of the {len(summary)} provinces (2025) have a cited REE occurrence: {names}; "
            f"{len(pre)} of the 63 pre-2025 provinces: {', '.join(pre)}. "
            f"The minister (Trần Đức Thắng, 1 Dec 2025; references vn_moae_21_provinces_2025, laodong_2025_21_provinces) counts "
            f"{MINISTER_PROVINCES} provinces and cities ({MINISTER_PROVINCES - n} more than the 2025 count, "
            f"{MINISTER_PROVINCES - len(pre)} more than the pre-2025 count; he does not say which units he counts); "
            f"which ones is not published in the sources read.")
