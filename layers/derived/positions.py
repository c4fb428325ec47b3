"""Every cited position of a site, and the one rule that chooses the site's position.

The rule (declared here once, checked against ``deposits.csv`` by :mod:`layers.rules`):

1. a position outside Vietnam's land and territorial sea (12 nmi) is never the site's position;
2. a position that conflicts with an administrative unit a source names for the site (commune or
   district centre: farther from it than their combined uncertainty) is not used: the sources agree
   on the name, so the name wins and the conflict is flagged;
3. of the remaining positions, the most precise (smallest uncertainty) is the site's position;
   ties go to the kind order of :data:`KIND_ORDER`, then to the position id.

Two positions *conflict* when they are farther apart than the sum of their uncertainties.
Distances are measured in the metric CRS (``geo.crs.METRIC_CRS``).
"""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from geo.crs import METRIC_CRS, WEB_CRS
from layers.derived.admin import vietnam_area
from layers.registry import builder, computed

LAYER = "site_locations"
TERRITORIAL_SEA_M = 22_224  # 12 nautical miles
NAMED_UNIT_KINDS = ("commune_centre", "district_centre")
KIND_ORDER = ("published_coordinates", "published_map_estimate", "commune_centre", "district_centre")
_GEOD = Geod(ellps="WGS84")
_CACHE = "_site_location_choice"  # cache key in the build's frames (never written out)


def arcminute_uncertainty_m(lon: float, lat: float, minutes: float = 1.0) -> int:
    """Uncertainty of a point given to whole ``minutes`` of arc: distance from the point to the
    farthest corner of its ±half-step cell (WGS84 ellipsoid), rounded up to 100 m."""
    h = minutes / 120.0
    far = max(_GEOD.inv(lon, lat, lon + sx * h, lat + sy * h)[2] for sx in (-1, 1) for sy in (-1, 1))
    return int(math.ceil(far / 100.0) * 100)


def metric_xy(frame: pd.DataFrame) -> np.ndarray:
    """The positions' coordinates in the metric CRS, as an (n, 2) array."""
    pts = gpd.GeoSeries(gpd.points_from_xy(frame["lon"], frame["lat"]), crs=WEB_CRS).to_crs(METRIC_CRS)
    return np.column_stack([pts.x.values, pts.y.values])


def pair_stats(xy: np.ndarray, unc: np.ndarray) -> tuple[float, bool]:
    """Largest distance between the positions (m) and whether any two conflict."""
    if len(xy) < 2:
        return 0.0, False
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    return float(d.max()), bool((d > unc[:, None] + unc[None, :]).any())


def choose(locations: pd.DataFrame, frames) -> pd.DataFrame:
    """Per position: ``used`` (yes/no), ``reason_not_used`` and ``distance_to_chosen_m``."""
    if _CACHE in frames and frames[_CACHE][0] is locations:
        return frames[_CACHE][1]
    xy = metric_xy(locations)
    unc = locations["uncertainty_m"].astype(float).to_numpy()
    inside = shapely.dwithin(vietnam_area(frames), shapely.points(xy), TERRITORIAL_SEA_M)
    out = pd.DataFrame({"used": "no", "reason_not_used": pd.NA, "distance_to_chosen_m": pd.NA},
                       index=locations.index).astype({"reason_not_used": "object", "distance_to_chosen_m": "object"})
    rank = locations["kind"].map({k: i for i, k in enumerate(KIND_ORDER)})
    for _, idx in locations.groupby("site_id", sort=False).indices.items():
        reasons = {}
        named = [i for i in idx if locations["kind"].iat[i] in NAMED_UNIT_KINDS]
        for i in idx:
            if not inside[i]:
                reasons[i] = "outside Vietnam's land and territorial sea"
                continue
            for j in named:
                d = float(np.hypot(*(xy[i] - xy[j])))
                if i != j and d > unc[i] + unc[j]:
                    reasons[i] = (f"conflicts with the named unit {locations['coordinates_as_given'].iat[j]}: "
                                  f"{d / 1000:.1f} km apart, more than the combined uncertainty "
                                  f"{(unc[i] + unc[j]) / 1000:.1f} km")
                    break
        candidates = sorted((i for i in idx if i not in reasons),
                            key=lambda i: (unc[i], rank.iat[i], locations["id"].iat[i]))
        chosen = candidates[0] if candidates else None
        for i in idx:
            if chosen is None:
                reasons.setdefault(i, "no credible position")
            elif i != chosen:
                reasons.setdefault(i, f"less precise than the chosen position (±{int(unc[chosen])} m)")
            out.iloc[i, 0] = "yes" if i == chosen else "no"
            out.iloc[i, 1] = reasons.get(i, pd.NA)
            if chosen is not None:
                out.iloc[i, 2] = int(round(float(np.hypot(*(xy[i] - xy[chosen])))))
    frames[_CACHE] = (locations, out)
    return out


def chosen_positions(frames) -> pd.DataFrame:
    """The chosen position of each site, indexed by site id."""
    loc = frames[LAYER]
    used = choose(loc, frames)["used"] == "yes"
    return loc[used.values].set_index("site_id")


@computed(LAYER, "used")
def _used(frame, frames):
    return choose(frame, frames)["used"].astype("string")


@computed(LAYER, "reason_not_used")
def _reason(frame, frames):
    return choose(frame, frames)["reason_not_used"].astype("string")


@computed(LAYER, "distance_to_chosen_m")
def _distance(frame, frames):
    return choose(frame, frames)["distance_to_chosen_m"].astype("Int64")


def site_stats(frames) -> pd.DataFrame:
    """Per site id: ``n_location_sources``, ``location_spread_m``, ``location_conflict``."""
    if LAYER not in frames:
        return pd.DataFrame(columns=["n_location_sources", "location_spread_m", "location_conflict"])
    loc = frames[LAYER]
    xy, unc = metric_xy(loc), loc["uncertainty_m"].astype(float).to_numpy()
    rows = {}
    for site, idx in loc.groupby("site_id", sort=False).indices.items():
        spread, conflict = pair_stats(xy[idx], unc[idx])
        rows[site] = (len(idx), int(round(spread)), "yes" if conflict else "no")
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=["n_location_sources", "location_spread_m", "location_conflict"])


@computed("deposits", "n_location_sources")
def _n_sources(frame, frames):
    return frame["id"].map(site_stats(frames)["n_location_sources"]).fillna(0).astype("Int64")


@computed("deposits", "location_spread_m")
def _spread(frame, frames):
    return frame["id"].map(site_stats(frames)["location_spread_m"]).astype("Int64")


@computed("deposits", "location_conflict")
def _conflict(frame, frames):
    return frame["id"].map(site_stats(frames)["location_conflict"]).fillna("no").astype("string")


@builder("site_location_links")
def site_location_links(spec, frames) -> gpd.GeoDataFrame:
    """A line from each position that is not used to its site's chosen position (drawn with the positions)."""
    loc = frames[LAYER]
    pick = choose(loc, frames)
    chosen = loc[(pick["used"] == "yes").values].set_index("site_id")
    rows = []
    for (_, r), used, reason, dist in zip(loc.iterrows(), pick["used"], pick["reason_not_used"],
                                          pick["distance_to_chosen_m"]):
        if used == "yes" or r["site_id"] not in chosen.index:
            continue
        c = chosen.loc[r["site_id"]]
        rows.append({"id": r["id"], "site_id": r["site_id"], "ref": r["ref"], "reason_not_used": reason,
                     "distance_m": int(dist),
                     "geometry": shapely.MultiLineString([[(r["lon"], r["lat"]), (c["lon"], c["lat"])]])})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WEB_CRS)


@builder("location_conflicts")
def location_conflicts(spec, frames) -> gpd.GeoDataFrame:
    """The sites whose sources disagree on the position (a mark drawn over the site's symbol)."""
    deps = frames["deposits"]
    stats = site_stats(frames)
    flagged = deps[deps["id"].map(stats["location_conflict"]).eq("yes")]
    out = gpd.GeoDataFrame({"site_id": flagged["id"].values, "name_vi": flagged["name_vi"].values,
                            "n_location_sources": flagged["id"].map(stats["n_location_sources"]).astype("int64").values,
                            "location_spread_m": flagged["id"].map(stats["location_spread_m"]).astype("int64").values},
                           geometry=list(flagged.geometry.values), crs=WEB_CRS)
    return out.reset_index(drop=True)
