"""Regional prospect zones and the coastal placer zones, derived by the rules in sources/prospect_zones.toml."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo.catalog import Catalog, LayerSpec, TableReader
from geo.crs import METRIC_CRS, WEB_CRS, area_km2
from geo.errors import Problem, SourceDataError, raise_if
from geo.files.table import LIST_SEP
from geo.vector import buffer_parts, promote_to_multi
from layers.derived.admin import P2025, pre_to_2025, vietnam_area
from geo.files.tomlfile import read_toml, toml_problems
from layers.registry import builder, params_check

RISK_ORDER = ("radioactivity", "erosion", "groundwater", "other")
MIN_ZONE_KM2 = 1.0  # slivers of the strip smaller than this in a province are not zones


def _web(geom) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs=METRIC_CRS).to_crs(WEB_CRS).iloc[0]


def _hull_buffer(rule, sites, coast, land, clip=None):
    grow = rule["buffer_m"] + float(sites["location_uncertainty_m"].max())
    return shapely.convex_hull(shapely.union_all(sites.geometry.values)).buffer(grow)


def _site_buffer(rule, sites, coast, land, clip=None):
    radii = rule["buffer_m"] + sites["location_uncertainty_m"].astype(float).to_numpy()
    return shapely.union_all(shapely.buffer(sites.geometry.values, radii))


def _coastal_strip(rule, sites, coast, land, clip=None):
    """The coast between the known sites: a corridor along the chain of sites (north to south),
    cut to their latitude span plus a margin, then the land within ``width_m`` of that coast.
    With ``clip``, only the coast inside that box is widened (exact farther than ``width_m`` from
    the box's edges)."""
    ordered = sites.sort_values("lat", ascending=False).geometry
    chain = shapely.LineString([(p.x, p.y) for p in ordered]) if len(ordered) > 1 else ordered.iloc[0]
    corridor = chain.buffer(rule["corridor_m"], quad_segs=8)
    x0, _, x1, _ = land.bounds
    band = shapely.box(x0, ordered.y.min() - rule["margin_m"], x1, ordered.y.max() + rule["margin_m"])
    reach = corridor.intersection(band)
    shore = coast.intersection(reach).simplify(rule["generalise_m"])
    if clip is not None:
        shore = shapely.clip_by_rect(shore, *clip)
    return buffer_parts(shore, rule["width_m"], quad_segs=4).intersection(reach)


def _evidence_rule(rule, sites, coast, land, clip=None):
    """Cells of the open evidence rasters (layers/open_evidence, in their own ~9 km grid) where the
    elevation lies in [elevation_min_m, elevation_max_m] (no upper bound when not given), the relief (max - min over relief_cells x
    relief_cells) is at most relief_max_m and the Köppen-Geiger class is one of ``climate_classes``,
    simplified by ``generalise_m``; the known sites play no part."""
    import numpy as np
    import rasterio
    from rasterio import features

    from geo.raster.derivative import relief
    base = Path(__file__).resolve().parents[1]
    with rasterio.open(base / rule["elevation"]) as e, rasterio.open(base / rule["climate"]) as c:
        z = e.read(1, masked=True).astype("float32").filled(np.nan)
        k = c.read(1)
        transform, crs = e.transform, e.crs
    keep = ((z >= rule["elevation_min_m"]) & (z <= rule.get("elevation_max_m", np.inf))
            & (relief(z, rule["relief_cells"]) <= rule["relief_max_m"]) & np.isin(k, rule["climate_classes"]))
    polys = [shapely.geometry.shape(g) for g, v in features.shapes(keep.astype("uint8"), mask=keep, transform=transform)]
    area = gpd.GeoSeries([shapely.union_all(polys)], crs=crs).to_crs(METRIC_CRS).iloc[0]
    area = shapely.make_valid(area.simplify(rule["generalise_m"]))  # the cells' staircase, cut at its corners
    return area if clip is None else shapely.clip_by_rect(area, *clip)


METHODS = {"hull_buffer": _hull_buffer, "site_buffer": _site_buffer, "coastal_strip": _coastal_strip,
           "evidence_rule": _evidence_rule}
INDEPENDENT = {"evidence_rule"}  # methods that use no known site


def zone_geometry(rule: dict, deposits: gpd.GeoDataFrame, coast, land, clip=None) -> shapely.Geometry:
    """The zone ``rule`` draws from ``deposits`` (metric CRS), clipped to ``land``; empty without sites.

    ``clip`` (xmin, ymin, xmax, ymax): only the zone inside this box is wanted (much faster for a
    coastal strip); exact at points farther than the rule's widths from the box's edges.
    """
    sites = deposits[deposits["deposit_type"].isin(rule["deposit_types"])]
    if sites.empty and rule["method"] not in INDEPENDENT:
        return shapely.Polygon()
    zone = METHODS[rule["method"]](rule, sites, coast, land, clip)
    zone = zone.intersection(land if clip is None else shapely.clip_by_rect(land, *clip))
    if "clip_generalise_m" in rule:  # the land's border simplified too (the zone may cross it by this much)
        zone = shapely.make_valid(zone.simplify(rule["clip_generalise_m"]))
    if "min_part_km2" in rule:  # slivers of the clip, lone cells and holes of a cell are not zones
        small = rule["min_part_km2"] * 1e6
        parts = [shapely.Polygon(p.exterior, [r for r in p.interiors if shapely.Polygon(r).area >= small])
                 for p in shapely.get_parts(zone) if p.area >= small]
        zone = shapely.union_all(parts)
    return zone


def zone_inputs(frames) -> tuple[gpd.GeoDataFrame, shapely.Geometry, shapely.Geometry]:
    """(deposits, coastline, Vietnam's area), all in the metric CRS: what every zone rule reads."""
    coast = frames["coastline"].to_crs(METRIC_CRS).geometry.iloc[0]
    return frames["deposits"].to_crs(METRIC_CRS), coast, vietnam_area(frames)


METHOD_PARAMS = {  # the numbers (metres) each method of METHODS requires
    "hull_buffer": ("buffer_m",), "site_buffer": ("buffer_m",),
    "coastal_strip": ("width_m", "margin_m", "corridor_m", "generalise_m"),
    "evidence_rule": ("elevation_min_m", "relief_max_m", "generalise_m"),
}
assert METHOD_PARAMS.keys() == METHODS.keys(), "every zone method declares its parameters"
MAX_DISTANCE_M = 2_000_000  # longer than Vietnam: a larger distance is a typing error


def rule_problems(path: Path, data: dict, domains: dict[str, tuple[str, ...]] | None = None) -> list[Problem]:
    """Every structural problem of the zone rules (missing or mistyped keys, unknown methods, distances
    out of range, codes outside ``domains`` (field -> allowed codes)), all at once."""
    problems: list[Problem] = []
    r = TableReader(path, problems)
    zones = r.get(data, "zones", list, "")
    if not zones:
        if zones is not None:
            r.problem("zones", "no zone rule", fix="add a [[zones]] table")
        return problems
    domains = domains or {}
    seen: set[str] = set()
    for i, z in enumerate(zones):
        name = z.get("id") if isinstance(z, dict) else None
        where = f"zones[{i}]" + (f" ({name})" if isinstance(name, str) else "")
        if not isinstance(z, dict):
            r.problem(where, "must be a [[zones]] table", z)
            continue
        zid = r.get(z, "id", str, where)
        if zid in seen:
            r.problem(f"{where}.id", "duplicate zone id", zid, fix="make it unique")
        seen.add(zid)
        for key in ("name", "rule", "gaps"):
            r.text(z, key, where)
        for key in ("deposit_types", "refs"):
            items = r.get(z, key, list, where)
            if items is not None and (not items or not all(isinstance(x, str) and x for x in items)):
                r.problem(f"{where}.{key}", "must be a non-empty list of ids", items, fix=f'write {key} = ["id", …]')
        for code in z.get("deposit_types") or []:
            if isinstance(code, str) and "deposit_type" in domains and code not in domains["deposit_type"]:
                r.problem(f"{where}.deposit_types", "not in domain 'deposit_type'", code,
                          fix=f"use one of {', '.join(domains['deposit_type'])}")
        r.get(z, "confidence", str, where, choices=domains.get("confidence"))
        method = r.get(z, "method", str, where, choices=tuple(METHOD_PARAMS))
        for key in METHOD_PARAMS.get(method, ()):
            value = r.get(z, key, (int, float), where)
            if value is not None and not 0 <= value <= MAX_DISTANCE_M:
                r.problem(f"{where}.{key}", f"a distance in metres must lie in [0, {MAX_DISTANCE_M}]", value)
    return problems


@params_check("prospect_zones")
def check_zone_rules(spec: LayerSpec, catalog: Catalog) -> list[Problem]:
    data, problems = toml_problems(spec.source.params)
    if problems:
        return problems
    domains = {}
    for name in ("deposit_type", "confidence"):
        if name in spec.field_names and (dom := catalog.domain_of(spec.field(name))):
            domains[name] = tuple(dom.values)
    return rule_problems(Path(spec.source.params), data, domains)


def zone_rules(spec) -> list[dict]:
    """The zone rules of ``spec.source.params``, checked (:func:`check_zone_rules` also checks the codes)."""
    path = Path(spec.source.params)
    data = read_toml(path, SourceDataError)
    raise_if(rule_problems(path, data), SourceDataError)
    return data["zones"]


@builder("prospect_zones")
def prospect_zones(spec, frames) -> gpd.GeoDataFrame:
    """One polygon per rule, clipped to Vietnam's land, with the sites it contains."""
    deposits, coast, land = zone_inputs(frames)
    rows, geoms = [], []
    for rule in zone_rules(spec):
        sites = deposits[deposits["deposit_type"].isin(rule["deposit_types"])]
        geom = zone_geometry(rule, deposits, coast, land)
        inside = sites[sites.within(geom)]
        params = {k: v for k, v in rule.items() if k not in ("id", "name", "rule", "gaps", "refs", "confidence")}
        rows.append({
            "id": rule["id"], "name_vi": rule["name"]["vi"], "name_en": rule["name"]["en"],
            "deposit_type": rule["deposit_types"][0], "method": rule["method"],
            "derived_from": "independent_evidence" if rule["method"] in INDEPENDENT else "known_sites",
            "rule_vi": rule["rule"]["vi"], "rule_en": rule["rule"]["en"],
            "parameters": json.dumps(params, ensure_ascii=False, sort_keys=True),
            "n_sites": len(inside), "site_ids": LIST_SEP.join(sorted(inside["id"])) or None,
            "confidence": rule["confidence"], "data_gaps_vi": rule["gaps"]["vi"],
            "data_gaps_en": rule["gaps"]["en"], "refs": LIST_SEP.join(rule["refs"]),
        })
        geoms.append(_web(geom))
    out = gpd.GeoDataFrame(rows, geometry=promote_to_multi(gpd.GeoSeries(geoms).values), crs=WEB_CRS)
    out["area_km2"] = area_km2(out).round(1)
    return out


def _risk_notes(frames, province_2025: str, lang: str) -> tuple[str, list[str]]:
    """Risk findings of the sources for the pre-2025 provinces merged into ``province_2025``."""
    to2025 = pre_to_2025(frames)
    risks = frames["placer_risks"]
    notes, refs = [], []
    for topic in RISK_ORDER:
        for _, r in risks[risks["topic"] == topic].iterrows():
            provs = [] if pd.isna(r["provinces_pre2025"]) else r["provinces_pre2025"].split(LIST_SEP)
            if province_2025 in {to2025.get(p) for p in provs}:
                notes.append(f"[{topic}] {r['text_' + lang]}")
                refs += [x for x in r["refs"].split(LIST_SEP) if x not in refs]
    return " | ".join(notes), refs


@builder("coastal_placer_zones")
def coastal_placer_zones(spec, frames) -> gpd.GeoDataFrame:
    """The coastal placer strip split by 2025 province, with its placer sites and sourced risks."""
    zones = frames["prospect_zones"]
    strip = zones[zones["method"] == "coastal_strip"]
    provinces = frames[P2025]
    deposits = frames["deposits"]
    placers = deposits[deposits["deposit_type"] == "coastal_placer"]
    rows, geoms = [], []
    for _, prov in provinces.sort_values("code_2025").iterrows():
        part = shapely.intersection(prov.geometry, strip.geometry.iloc[0])
        if part.is_empty or area_km2(gpd.GeoSeries([part], crs=WEB_CRS)).iloc[0] < MIN_ZONE_KM2:
            continue
        sites = placers[placers["province_2025"] == prov["name_2025"]]
        notes_en, risk_refs = _risk_notes(frames, prov["name_2025"], "en")
        notes_vi, _ = _risk_notes(frames, prov["name_2025"], "vi")
        flags = set(sites["th_u_flag"])
        refs = list(strip["refs"].iloc[0].split(LIST_SEP))
        for raw in sites["refs"]:
            refs += [x for x in raw.split(LIST_SEP) if x not in refs]
        refs += [x for x in risk_refs if x not in refs]
        rows.append({
            "id": f"placer_{prov['code_2025']}", "province_2025": prov["name_2025"],
            "provinces_pre2025": prov["names_pre2025"],
            "placer_sites": LIST_SEP.join(sorted(sites["id"])) or pd.NA, "n_placer_sites": len(sites),
            "th_u_flag": "yes" if "yes" in flags else "unknown",
            "risk_notes_vi": notes_vi or pd.NA, "risk_notes_en": notes_en or pd.NA,
            "refs": LIST_SEP.join(refs),
        })
        geoms.append(part)
    out = gpd.GeoDataFrame(rows, geometry=promote_to_multi(gpd.GeoSeries(geoms).values), crs=WEB_CRS)
    out["area_km2"] = area_km2(out).round(1)
    return out
