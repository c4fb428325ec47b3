"""Data rules specific to this project, checked on every build and validate."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.catalog import Catalog
from geo.crs import METRIC_CRS, WEB_CRS
from geo.errors import Problem
from geo.table import split_list
from layers.derived.admin import pre_to_2025, vietnam_area
from layers.derived.positions import TERRITORIAL_SEA_M, chosen_positions
from layers.model_spec import SPEC_PATH, load_spec

# Vietnam with the Hoàng Sa and Trường Sa archipelagos, in WGS84 (lon_min, lat_min, lon_max, lat_max)
VIETNAM_BOUNDS = (102.0, 6.0, 118.0, 23.5)
REFERENCES = "references"


def model_refs() -> set[str]:
    """Reference ids cited by the prospectivity model spec (layers/models/prospectivity.toml)."""
    return load_spec().refs()


def uncited_references(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """A reference that no row of any layer cites is an error (it is either unused or mis-keyed)."""
    if REFERENCES not in frames:
        return []
    cited: set[str] = set(model_refs())
    for spec in catalog:
        cited.update(spec.cites)
        frame = frames.get(spec.name)
        for f in spec.fields:
            if f.foreign_key == f"{REFERENCES}.id" and frame is not None and f.name in frame:
                for raw in frame[f.name].dropna():
                    cited.update(split_list(raw))
    refs = frames[REFERENCES]
    src = str(catalog.root / catalog[REFERENCES].source.files[0])
    rows = refs.attrs.get("rows") or range(1, len(refs) + 1)
    return [Problem(src, "reference is cited by no row of any layer", row=row, field="id", value=ref,
                    fix="cite it where it is used, or remove it")
            for row, ref in zip(rows, refs["id"]) if ref not in cited]


def layer_citations(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """A layer's ``cites`` must name references that exist; every reference needs a URL or DOI."""
    if REFERENCES not in frames:
        return []
    refs = frames[REFERENCES]
    known = set(refs["id"])
    problems = [Problem(str(spec.path), "unknown reference id", field="cites", value=ref,
                        fix=f"add it to {REFERENCES} or correct the id")
                for spec in catalog for ref in spec.cites if ref not in known]
    problems += [Problem(str(SPEC_PATH), "unknown reference id", field="refs", value=ref,
                         fix=f"add it to {REFERENCES} or correct the id")
                 for ref in sorted(model_refs() - known)]
    src = str(catalog.root / catalog[REFERENCES].source.files[0])
    rows = refs.attrs.get("rows") or range(1, len(refs) + 1)
    for row, (_, ref) in zip(rows, refs.iterrows()):
        if pd.isna(ref["url"]) and pd.isna(ref["doi"]):
            problems.append(Problem(src, "reference has neither URL nor DOI", row=row, field="url",
                                    value=ref["id"], fix="give the URL or DOI where the source can be read"))
    return problems


def in_vietnam(frames: dict[str, pd.DataFrame], points) -> np.ndarray:
    """For each WGS84 point: on Vietnam's land (provinces, archipelagos) or within its territorial sea."""
    metric = np.asarray(gpd.GeoSeries(points, crs=WEB_CRS).to_crs(METRIC_CRS).values)
    area = vietnam_area(frames)
    shapely.prepare(area)  # prepared: 1,000,000 points in ~2 s instead of ~5 min
    return shapely.dwithin(area, metric, TERRITORIAL_SEA_M)


def site_locations(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """Sites lie on Vietnam's land or territorial sea, in the pre-2025 province they name.

    A site whose point falls in another province's polygon must say why in ``location_note``.
    """
    if not {"deposits", "provinces_pre2025", "archipelagos", "province_crosswalk"} <= frames.keys():
        return []
    sites, provs = frames["deposits"], frames["provinces_pre2025"]
    src = str(catalog.root / catalog["deposits"].source.files[0])
    rows = sites.attrs.get("rows") or range(1, len(sites) + 1)
    inside = in_vietnam(frames, sites.geometry.values)
    hit = gpd.sjoin(sites[["geometry"]], provs[["name_vi", "geometry"]], how="left", predicate="within")
    found = hit.groupby(level=0)["name_vi"].first()
    canonical = dict(zip(provs["name_vi"], provs["name_vi"]))
    to2025 = pre_to_2025(frames)
    cw = frames["province_crosswalk"]
    for former, name in zip(cw["former_names"], cw["name_pre2025"]):
        for alias in split_list(None if pd.isna(former) else former):
            canonical[alias] = name
    problems = []
    for i, (row, ok) in enumerate(zip(rows, inside)):
        site = sites.iloc[i]
        if not ok:
            problems.append(Problem(src, "point is outside Vietnam's land and territorial sea", row=row,
                                    field="lon/lat", value=(site["lon"], site["lat"]),
                                    fix="check the coordinates and their datum (WGS84)"))
        stated = site["province_pre2025"]
        if stated not in to2025:
            problems.append(Problem(src, "unknown pre-2025 province", row=row, field="province_pre2025",
                                    value=stated, fix="use a name from layers/base/province_crosswalk.csv"))
            continue
        actual = found.get(sites.index[i])
        actual = None if pd.isna(actual) else actual
        if ok and canonical.get(stated) != actual and pd.isna(site.get("location_note")):
            where = f"in {actual}" if actual else "in no province polygon (at sea)"
            problems.append(Problem(src, f"point lies {where} by the province polygons", row=row,
                                    field="province_pre2025", value=stated,
                                    fix="correct the province or the coordinates, or explain in location_note"))
    return problems


# deposits.csv column -> site_locations column: the site's position as the declared rule chooses it
POSITION_COLUMNS = {"lon": "lon", "lat": "lat", "location_basis": "kind",
                    "location_uncertainty_m": "uncertainty_m", "location_ref": "ref"}


def chosen_position_matches(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """Each site's position in deposits.csv is the one the rule of layers.derived.positions chooses."""
    if not {"deposits", "site_locations", "provinces_pre2025", "archipelagos"} <= frames.keys():
        return []
    sites = frames["deposits"]
    chosen = chosen_positions(frames)
    src = str(catalog.root / catalog["deposits"].source.files[0])
    rows = sites.attrs.get("rows") or range(1, len(sites) + 1)
    problems = []
    for row, (_, site) in zip(rows, sites.iterrows()):
        if site["id"] not in chosen.index:
            problems.append(Problem(src, "site has no position in site_locations", row=row, field="id",
                                    value=site["id"], fix="add its positions to layers/sources/site_locations.csv"))
            continue
        pick = chosen.loc[site["id"]]
        for col, loc_col in POSITION_COLUMNS.items():
            want, have = pick[loc_col], site[col]
            same = abs(float(want) - float(have)) < 1e-6 if col in ("lon", "lat") else str(want) == str(have)
            if not same:
                problems.append(Problem(src, "position differs from the one site_locations' rule chooses",
                                        row=row, field=col, value=have,
                                        fix=f"set it to {want} (position {pick['id']})"))
    return problems


def check(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """Every project rule over the loaded layers."""
    return (uncited_references(catalog, frames) + layer_citations(catalog, frames)
            + site_locations(catalog, frames) + chosen_position_matches(catalog, frames))
