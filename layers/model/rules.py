"""Data rules specific to this project, checked on every build and validate."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.catalog import Catalog
from geo.crs import METRIC_CRS, WEB_CRS
from geo.errors import Problem
from geo.files.table import split_list
from layers.derived.admin import pre_to_2025, province_at, vietnam_area
from layers.derived.positions import (DATABASE_POINT, TERRITORIAL_SEA_M, UNCERTAINTY_PERCENTILE, chosen_positions,
                                      database_point_uncertainty, moved_note)
from layers.model.model_spec import SPEC_PATH, load_spec

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
    """Sites lie on Vietnam's land or territorial sea; the province polygon a site's point falls in
    is the province its row names (``province_2025`` is that polygon's 2025 province)."""
    if not {"deposits", "provinces_pre2025", "archipelagos", "province_crosswalk"} <= frames.keys():
        return []
    sites = frames["deposits"]
    src = str(catalog.root / catalog["deposits"].source.files[0])
    rows = sites.attrs.get("rows") or range(1, len(sites) + 1)
    inside = in_vietnam(frames, sites.geometry.values)
    found = province_at(frames, sites.geometry.values)
    to2025 = pre_to_2025(frames)
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
        actual = found.iloc[i]
        if ok and to2025.get(actual) != to2025[stated]:
            where = f"in {actual} ({to2025.get(actual)} since 2025)"
            if site.get("setting") == "offshore":
                where = f"nearest to {actual} ({to2025.get(actual)} since 2025)"
            problems.append(Problem(src, f"point lies {where} by the province polygons", row=row,
                                    field="province_pre2025", value=stated,
                                    fix="correct the province or the position (the position's province decides province_2025)"))
    return problems


# deposits.csv column -> the rule's choice column: the site's position as the declared rule chooses it
POSITION_COLUMNS = {"lon": "lon", "lat": "lat", "location_basis": "location_basis",
                    "location_uncertainty_m": "uncertainty_m", "location_ref": "ref"}


def chosen_position_matches(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """Each site's position in deposits.csv is the one the rule of layers.derived.positions chooses;
    a position moved to land says so in ``location_note``."""
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
                                        fix=f"set it to {want} (position {pick['position_id']})"))
        if pick["moved_m"] > 0:
            note = moved_note(int(pick["moved_m"]), int(pick["uncertainty_m"]))
            if pd.isna(site["location_note"]) or note not in site["location_note"]:
                problems.append(Problem(src, "position moved to land without saying so", row=row,
                                        field="location_note", value=site["location_note"],
                                        fix=f"say '{note}' in the note"))
    return problems


def database_point_uncertainties(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """Every database point carries the uncertainty measured from the data (positions.database_point_uncertainty)."""
    if not {"site_locations", "provinces_pre2025", "archipelagos"} <= frames.keys():
        return []
    loc = frames["site_locations"]
    want, n = database_point_uncertainty(loc, frames)
    src = str(catalog.root / catalog["site_locations"].source.files[0])
    rows = loc.attrs.get("rows") or range(1, len(loc) + 1)
    return [Problem(src, f"database point's uncertainty is not the measured one ({UNCERTAINTY_PERCENTILE}th percentile "
                         f"of {n} distances to the named units = {want} m)", row=row, field="uncertainty_m",
                    value=r["uncertainty_m"], fix=f"set it to {want}")
            for row, (_, r) in zip(rows, loc.iterrows())
            if r["kind"] == DATABASE_POINT and int(r["uncertainty_m"]) != want]


def shared_database_records(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """Two sites never rest on one database record as their chosen position."""
    if not {"site_locations", "deposits", "provinces_pre2025", "archipelagos"} <= frames.keys():
        return []
    chosen = chosen_positions(frames)
    src = str(catalog.root / catalog["deposits"].source.files[0])
    problems = []
    for record, grp in chosen[chosen["record"].notna()].groupby("record"):
        if len(grp) > 1:
            problems.append(Problem(src, "two sites use one database record as their position", field="id",
                                    value=", ".join(grp.index), fix=f"merge the sites or place them apart ({record})"))
    return problems


def close_sites(frames: dict[str, pd.DataFrame]) -> list[tuple[str, str, float, float]]:
    """Pairs of sites of one deposit type closer than max(2 km, their combined uncertainty):
    (site a, site b, distance m, threshold m)."""
    deps = frames["deposits"]
    xy = np.column_stack([deps.to_crs(METRIC_CRS).geometry.x, deps.to_crs(METRIC_CRS).geometry.y])
    unc = deps["location_uncertainty_m"].astype(float).to_numpy()
    ids, types = deps["id"].to_numpy(), deps["deposit_type"].to_numpy()
    out = []
    for a in range(len(deps)):
        for b in range(a + 1, len(deps)):
            if types[a] != types[b]:
                continue
            d = float(np.hypot(*(xy[a] - xy[b])))
            limit = max(MIN_SITE_SEPARATION_M, unc[a] + unc[b])
            if d < limit:
                out.append((ids[a], ids[b], d, limit))
    return out


MIN_SITE_SEPARATION_M = 2_000  # judgement (issue 20)


def double_counts(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """Same-type sites closer than max(2 km, combined uncertainty) are merged, or a row of
    distinct_sites says (with its sources) why they are two deposits."""
    if "deposits" not in frames:
        return []
    kept = set()
    if "distinct_sites" in frames:
        kept = {frozenset((a, b)) for a, b in zip(frames["distinct_sites"]["site_a"], frames["distinct_sites"]["site_b"])}
    src = str(catalog.root / catalog["deposits"].source.files[0])
    return [Problem(src, f"{a} and {b} (one deposit type) are {d / 1000:.1f} km apart, closer than "
                         f"{limit / 1000:.1f} km: one deposit counted twice?", field="id", value=f"{a}, {b}",
                    fix="merge them into one row (names in aliases, sources kept) or add a row with a cited "
                        "reason to layers/sources/distinct_sites.csv")
            for a, b, d, limit in close_sites(frames) if frozenset((a, b)) not in kept]


# words that name a deposit type in the notes (en, vi); the codes themselves count too
TYPE_WORDS = {
    "alkaline_carbonatite": ("carbonatit", "alkaline magmatic", "alkaline-carbonatite", "alkaline–carbonatite",
                             "magma kiềm"),
    "weathering_crust": ("weathering crust", "weathering-crust", "ion-adsorption", "ion adsorption",
                         "vỏ phong hóa", "hấp phụ ion", "hấp thụ ion"),
    "coastal_placer": ("placer", "sa khoáng"),
    "hydrothermal_other": ("hydrothermal", "nhiệt dịch"),
}
NOTE_FIELDS = ("subtype", "location_note", "notes_en", "notes_vi")


def types_named(text: str) -> set[str]:
    """The deposit types a text names (by code or by the words of :data:`TYPE_WORDS`)."""
    low = text.lower()
    return {t for t, words in TYPE_WORDS.items() if t in low or any(w in low for w in words)}


def _deposit_rows(catalog: Catalog, frames: dict[str, pd.DataFrame]):
    """(the deposits' source file, (source row number, row) pairs); no rows without a deposits layer."""
    if "deposits" not in frames:
        return "", []
    deps = frames["deposits"]
    numbers = deps.attrs.get("rows") or range(1, len(deps) + 1)
    return (str(catalog.root / catalog["deposits"].source.files[0]),
            [(n, r) for n, (_, r) in zip(numbers, deps.iterrows())])


def note_types(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """A note that names a deposit type names the row's own type and no other."""
    src, rows = _deposit_rows(catalog, frames)
    deps = frames.get("deposits")
    problems = []
    for row, r in rows:
        for f in NOTE_FIELDS:
            if f not in deps or pd.isna(r[f]):
                continue
            other = types_named(str(r[f])) - {r["deposit_type"]}
            if other:
                problems.append(Problem(src, f"note names another deposit type ({', '.join(sorted(other))}) "
                                             f"than the row's ({r['deposit_type']})", row=row, field=f,
                                        value=str(r[f])[:80] + "…",
                                        fix="fix the note or the type; a type doubt goes in type_candidates"))
    return problems


# references that never make a site's sourcing independent: the untraceable textbook excerpt, the
# package of administrative centres, a general encyclopedia entry; the USGS databases count as one source
NOT_A_SOURCE_OF_THE_SITE = {"textbook_quang_titan_zirconi_dat_hiem", "vietnamadminunits_1_0_4", "bachkhoa_monazit"}
ONE_COMPILER = {"usgs_major_deposits": "usgs_ofr_02_189_ree"}


def independent_sources(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """``multiple_independent`` needs two sources that count (not the untraceable textbook excerpt,
    the administrative-centre package or an encyclopedia entry; both USGS databases count once)."""
    src, rows = _deposit_rows(catalog, frames)
    problems = []
    for row, r in rows:
        if r["confidence"] != "multiple_independent":
            continue
        counted = {ONE_COMPILER.get(x, x) for x in split_list(r["refs"])} - NOT_A_SOURCE_OF_THE_SITE
        if len(counted) < 2:
            problems.append(Problem(src, "rated multiple_independent on fewer than two sources that count",
                                    row=row, field="confidence", value=r["confidence"],
                                    fix="rate it single_primary or secondary_only, or cite a second independent source"))
    return problems


def check(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """Every project rule over the loaded layers."""
    return (uncited_references(catalog, frames) + layer_citations(catalog, frames)
            + site_locations(catalog, frames) + chosen_position_matches(catalog, frames)
            + database_point_uncertainties(catalog, frames) + shared_database_records(catalog, frames)
            + double_counts(catalog, frames) + note_types(catalog, frames)
            + independent_sources(catalog, frames))
