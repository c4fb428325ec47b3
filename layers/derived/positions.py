"""Every cited position of a site, and the one rule that chooses the site's position (rule v2).

The rule (declared here once, checked against ``deposits.csv`` by :mod:`layers.model.rules`):

1. a position outside Vietnam's land and territorial sea (12 nmi) is never the site's position;
2. a position that conflicts with an administrative unit a source names for the site (commune or
   district centre: farther from it than their combined uncertainty) is not used: the sources agree
   on the name, so the name wins and the conflict is flagged;
3. an onshore site (``setting`` ``onshore`` or ``beach``) lies on land: a position in the sea or a
   lagoon is moved to the nearest land (100 m inside the coast) when that land lies within its
   uncertainty (the uncertainty grows by the distance moved); otherwise it is not used;
4. a position a source publishes as coordinates of the deposit (``published_coordinates``: a paper,
   a survey report) beats every other kind; among the others the most precise (smallest uncertainty)
   wins; ties go to the kind order of :data:`KIND_ORDER`, then to the position id;
5. a site whose positions all fail 2-3 keeps the least implausible one (on land, uncertainty = its
   own plus the distance moved) with ``location_basis = implausible_position``.

A whole-arc-minute database point (``database_point``: the USGS databases) carries an uncertainty
*measured from the data* (:func:`database_point_uncertainty`), not the rounding of its coordinates.

Two positions *conflict* when they are farther apart than the sum of their uncertainties. A beach
placer farther than :data:`BEACH_MAX_SEA_DISTANCE_M` from the open sea is flagged too
(:func:`distance_to_open_sea_m`). Distances are measured in the metric CRS (``geo.crs.METRIC_CRS``).
"""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from shapely.ops import nearest_points

from geo.crs import METRIC_CRS, WEB_CRS
from layers.derived.admin import vietnam_area
from layers.derived.coast import open_sea
from layers.registry import builder, computed

LAYER = "site_locations"
TERRITORIAL_SEA_M = 22_224  # 12 nautical miles
NAMED_UNIT_KINDS = ("commune_centre", "district_centre")
SOURCE_COORDINATES = "published_coordinates"  # a source's coordinates of the deposit itself
DATABASE_POINT = "database_point"  # a deposit database's point given to whole arc-minutes
IMPLAUSIBLE = "implausible_position"  # location_basis of a site whose positions are all implausible
KIND_ORDER = (SOURCE_COORDINATES, "published_map_estimate", "commune_centre", "district_centre", DATABASE_POINT)
ONSHORE_SETTINGS = ("onshore", "beach")
UNCERTAINTY_PERCENTILE = 90  # judgement (the percentile issue 20 proposes)
BEACH_MAX_SEA_DISTANCE_M = 5_000  # judgement (issue 20): a beach/dune placer lies on the shore
INLAND_M = 100  # a position moved to land is put this far inside the coast (point-in-polygon stays exact)
_GEOD = Geod(ellps="WGS84")
_CACHE = "_site_location_choice"  # cache keys in the build's frames (never written out)
_DBU = "_database_point_uncertainty"


def arcminute_uncertainty_m(lon: float, lat: float, minutes: float = 1.0) -> int:
    """Rounding of a point given to whole ``minutes`` of arc: distance from the point to the
    farthest corner of its ±half-step cell (WGS84 ellipsoid), rounded up to 100 m."""
    h = minutes / 120.0
    far = max(_GEOD.inv(lon, lat, lon + sx * h, lat + sy * h)[2] for sx in (-1, 1) for sy in (-1, 1))
    return int(math.ceil(far / 100.0) * 100)


def metric_xy(frame: pd.DataFrame) -> np.ndarray:
    """The positions' coordinates in the metric CRS, as an (n, 2) array."""
    pts = gpd.GeoSeries(gpd.points_from_xy(frame["lon"], frame["lat"]), crs=WEB_CRS).to_crs(METRIC_CRS)
    return np.column_stack([pts.x.values, pts.y.values])


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    p = gpd.GeoSeries([shapely.Point(x, y)], crs=METRIC_CRS).to_crs(WEB_CRS).iloc[0]
    return round(p.x, 6), round(p.y, 6)


def pair_stats(xy: np.ndarray, unc: np.ndarray) -> tuple[float, bool]:
    """Largest distance between the positions (m) and whether any two conflict."""
    if len(xy) < 2:
        return 0.0, False
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    return float(d.max()), bool((d > unc[:, None] + unc[None, :]).any())


def database_point_comparisons(locations: pd.DataFrame, frames) -> pd.DataFrame:
    """Each distinct pair (database point, centre of a commune or district that the same site's
    sources name), with their distance (m). Points outside Vietnam's land and territorial sea are
    left out (rule 1 never uses them); one place (to 100 m) given by two records or two databases
    counts once per unit."""
    xy = metric_xy(locations)
    inside = shapely.dwithin(vietnam_area(frames), shapely.points(xy), TERRITORIAL_SEA_M)
    rows, seen = [], set()
    for _, idx in locations.groupby("site_id", sort=False).indices.items():
        units = [j for j in idx if locations["kind"].iat[j] in NAMED_UNIT_KINDS]
        for i in idx:
            if locations["kind"].iat[i] != DATABASE_POINT or not inside[i]:
                continue
            for j in units:
                key = tuple(np.round(np.concatenate([xy[i], xy[j]]) / 100).astype(int))  # same place to 100 m
                if key in seen:
                    continue
                seen.add(key)
                rows.append({"point": locations["id"].iat[i], "unit": locations["id"].iat[j],
                             "distance_m": float(np.hypot(*(xy[i] - xy[j])))})
    return pd.DataFrame(rows, columns=["point", "unit", "distance_m"])


def database_point_uncertainty(locations: pd.DataFrame, frames) -> tuple[int, int]:
    """The uncertainty of a whole-arc-minute database point, measured from the data: the
    :data:`UNCERTAINTY_PERCENTILE` th percentile (linear) of :func:`database_point_comparisons`,
    rounded up to 500 m; and the number of comparisons it rests on."""
    if _DBU in frames and frames[_DBU][0] is locations:
        return frames[_DBU][1]
    comp = database_point_comparisons(locations, frames)
    if comp.empty:
        value = (0, 0)
    else:
        p = float(np.percentile(comp["distance_m"], UNCERTAINTY_PERCENTILE))
        value = (int(math.ceil(p / 500.0) * 500), len(comp))
    frames[_DBU] = (locations, value)
    return value


def distance_to_open_sea_m(frames, xy: np.ndarray) -> np.ndarray:
    """Distance (m) from each metric point to the open sea (:func:`layers.derived.coast.open_sea`, the
    one open-sea rule of the project: estuaries, lagoons' inland arms, lakes and reservoirs are not sea)."""
    return shapely.distance(open_sea(frames), shapely.points(xy))


def nearest_land(frames, x: float, y: float, within_m: float) -> tuple[float, float, float] | None:
    """The land point nearest to (x, y), :data:`INLAND_M` inside the coast, and its distance; None
    when no land lies within ``within_m``."""
    land = vietnam_area(frames)
    pt = shapely.Point(x, y)
    d = shapely.distance(land, pt)
    if d > within_m:
        return None
    r = within_m + 2 * INLAND_M + 1000
    local = shapely.clip_by_rect(land, x - r, y - r, x + r, y + r)
    inner = shapely.buffer(shapely.make_valid(local), -INLAND_M)
    target = inner if not inner.is_empty else local
    near = nearest_points(target, pt)[0]
    return near.x, near.y, float(pt.distance(near))


def _settings(frames) -> dict[str, str]:
    deps = frames.get("deposits")
    if deps is None or "setting" not in deps:
        return {}
    return dict(zip(deps["id"], deps["setting"]))


def choose(locations: pd.DataFrame, frames) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rule, applied to every site.

    Returns (per position: ``used``, ``reason_not_used``, ``distance_to_chosen_m``, ``uncertainty_used_m``;
    per site id: ``position_id``, ``lon``, ``lat``, ``location_basis``, ``uncertainty_m``, ``ref``,
    ``record``, ``moved_m``)."""
    if _CACHE in frames and frames[_CACHE][0] is locations:
        return frames[_CACHE][1]
    xy = metric_xy(locations)
    unc = locations["uncertainty_m"].astype(float).to_numpy()
    area = vietnam_area(frames)
    pts = shapely.points(xy)
    inside = shapely.dwithin(area, pts, TERRITORIAL_SEA_M)
    on_land = shapely.intersects(area, pts)
    setting = _settings(frames)
    out = pd.DataFrame({"used": "no", "reason_not_used": pd.NA, "distance_to_chosen_m": pd.NA},
                       index=locations.index).astype({"reason_not_used": "object", "distance_to_chosen_m": "object"})
    rank = locations["kind"].map({k: i for i, k in enumerate(KIND_ORDER)}).fillna(len(KIND_ORDER))
    sites = {}
    for site, idx in locations.groupby("site_id", sort=False).indices.items():
        onshore = setting.get(site, "onshore") in ONSHORE_SETTINGS
        reasons, moved = {}, {}
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
            if onshore and not on_land[i]:
                land = nearest_land(frames, xy[i][0], xy[i][1], unc[i])
                if land is None:
                    reasons.setdefault(i, f"in the sea or a lagoon, farther from land than its uncertainty "
                                          f"({unc[i] / 1000:.1f} km): implausible for an onshore site")
                else:
                    moved[i] = land
        effective = {i: unc[i] + (math.ceil(moved[i][2] / 100.0) * 100 if i in moved else 0) for i in idx}
        candidates = sorted((i for i in idx if i not in reasons),
                            key=lambda i: (locations["kind"].iat[i] != SOURCE_COORDINATES, effective[i],
                                           rank.iat[i], locations["id"].iat[i]))
        basis = None
        if candidates:
            chosen = candidates[0]
        else:  # rule 5: every position is implausible; keep the least implausible one, on land
            fallback = []
            for i in idx:
                if not inside[i]:
                    continue
                land = moved.get(i) or (nearest_land(frames, xy[i][0], xy[i][1], math.inf)
                                        if onshore and not on_land[i] else None)
                if land:
                    moved[i] = land
                    effective[i] = unc[i] + math.ceil(land[2] / 100.0) * 100
                fallback.append(i)
            chosen = min(fallback, key=lambda i: (effective[i], locations["id"].iat[i])) if fallback else None
            basis = IMPLAUSIBLE
        cx, cy = (moved[chosen][:2] if chosen in moved else xy[chosen]) if chosen is not None else (None, None)
        for i in idx:
            if chosen is None:
                reasons.setdefault(i, "no credible position")
            elif i != chosen:
                why = ("a source's coordinates of the deposit are preferred"
                       if locations["kind"].iat[chosen] == SOURCE_COORDINATES
                       else f"less precise than the chosen position (±{int(effective[chosen])} m)")
                reasons.setdefault(i, why)
            out.iloc[i, 0] = "yes" if i == chosen else "no"
            out.iloc[i, 1] = reasons.get(i, pd.NA) if i != chosen or basis is None else \
                "all positions implausible; the least implausible is kept"
            if chosen is not None:
                out.iloc[i, 2] = int(round(float(np.hypot(xy[i][0] - cx, xy[i][1] - cy))))
        if chosen is not None:
            lon, lat = to_lonlat(cx, cy) if chosen in moved else (locations["lon"].iat[chosen], locations["lat"].iat[chosen])
            sites[site] = {"position_id": locations["id"].iat[chosen], "lon": lon, "lat": lat,
                           "location_basis": basis or locations["kind"].iat[chosen],
                           "uncertainty_m": int(effective[chosen]), "ref": locations["ref"].iat[chosen],
                           "record": (f"{locations['ref'].iat[chosen]}:{locations['record_id'].iat[chosen]}"
                                      if pd.notna(locations["record_id"].iat[chosen]) else None),
                           "moved_m": int(round(moved[chosen][2])) if chosen in moved else 0}
    per_site = pd.DataFrame.from_dict(sites, orient="index")
    frames[_CACHE] = (locations, (out, per_site))
    return out, per_site


def chosen_positions(frames) -> pd.DataFrame:
    """The chosen position of each site (after any move to land), indexed by site id."""
    return choose(frames[LAYER], frames)[1]


def moved_note(moved_m: int, uncertainty_m: int) -> str:
    """The sentence ``location_note`` must carry for a position moved to land."""
    return (f"moved {moved_m / 1000:.1f} km from the sea or a lagoon to the nearest land "
            f"(uncertainty now ±{uncertainty_m / 1000:.1f} km)")


@computed(LAYER, "used")
def _used(frame, frames):
    return choose(frame, frames)[0]["used"].astype("string")


@computed(LAYER, "reason_not_used")
def _reason(frame, frames):
    return choose(frame, frames)[0]["reason_not_used"].astype("string")


@computed(LAYER, "distance_to_chosen_m")
def _distance(frame, frames):
    return choose(frame, frames)[0]["distance_to_chosen_m"].astype("Int64")


@computed("deposits", "distance_to_open_sea_m")
def _sea(frame, frames):
    return pd.Series(np.round(distance_to_open_sea_m(frames, metric_xy(frame))), index=frame.index).astype("Int64")


def site_stats(frames) -> pd.DataFrame:
    """Per site id: ``n_location_sources``, ``location_spread_m``, ``location_conflict`` and
    ``location_conflict_note`` (which positions disagree; a beach placer far from the open sea)."""
    cols = ["n_location_sources", "location_spread_m", "location_conflict", "location_conflict_note"]
    if LAYER not in frames:
        return pd.DataFrame(columns=cols)
    loc = frames[LAYER]
    xy, unc = metric_xy(loc), loc["uncertainty_m"].astype(float).to_numpy()
    chosen = chosen_positions(frames)
    deps = frames.get("deposits")
    beach = set(deps.loc[deps["setting"] == "beach", "id"]) if deps is not None and "setting" in deps else set()
    rows = {}
    for site, idx in loc.groupby("site_id", sort=False).indices.items():
        spread, conflict = pair_stats(xy[idx], unc[idx])
        notes = []
        if conflict:
            notes.append(f"the sources' positions disagree: {spread / 1000:.1f} km apart at most, "
                         "more than their combined uncertainty")
        if site in beach and site in chosen.index:
            c = chosen.loc[site]
            cxy = metric_xy(pd.DataFrame({"lon": [c["lon"]], "lat": [c["lat"]]}))
            sea = float(distance_to_open_sea_m(frames, cxy)[0])
            if sea > BEACH_MAX_SEA_DISTANCE_M:
                notes.append(f"beach placer {sea / 1000:.1f} km from the open sea "
                             f"(more than {BEACH_MAX_SEA_DISTANCE_M / 1000:.0f} km)")
        rows[site] = (len(idx), int(round(spread)), "yes" if notes else "no", "; ".join(notes) or None)
    return pd.DataFrame.from_dict(rows, orient="index", columns=cols)


@computed("deposits", "n_location_sources")
def _n_sources(frame, frames):
    return frame["id"].map(site_stats(frames)["n_location_sources"]).fillna(0).astype("Int64")


@computed("deposits", "location_spread_m")
def _spread(frame, frames):
    return frame["id"].map(site_stats(frames)["location_spread_m"]).astype("Int64")


@computed("deposits", "location_conflict")
def _conflict(frame, frames):
    return frame["id"].map(site_stats(frames)["location_conflict"]).fillna("no").astype("string")


@computed("deposits", "location_conflict_note")
def _conflict_note(frame, frames):
    return frame["id"].map(site_stats(frames)["location_conflict_note"]).astype("string")


@builder("site_location_links")
def site_location_links(spec, frames) -> gpd.GeoDataFrame:
    """A line from each position that is not used to its site's chosen position (drawn with the positions)."""
    loc = frames[LAYER]
    pick, chosen = choose(loc, frames)
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
    """The sites whose sources disagree on the position, or whose position is implausible for the
    setting (a mark drawn over the site's symbol)."""
    deps = frames["deposits"]
    stats = site_stats(frames)
    flagged = deps[deps["id"].map(stats["location_conflict"]).eq("yes")]
    out = gpd.GeoDataFrame({"site_id": flagged["id"].values, "name_vi": flagged["name_vi"].values,
                            "n_location_sources": flagged["id"].map(stats["n_location_sources"]).astype("int64").values,
                            "location_spread_m": flagged["id"].map(stats["location_spread_m"]).astype("int64").values,
                            "location_conflict_note": flagged["id"].map(stats["location_conflict_note"]).values},
                           geometry=list(flagged.geometry.values), crs=WEB_CRS)
    return out.reset_index(drop=True)
