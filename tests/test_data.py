"""The project's own data: cited, placed honestly, and complete enough to be the national map."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.files.table import split_list
from layers.model.rules import model_refs
from layers.load import default_catalog, load_layers
from layers.locate import REF_ID, locate


@pytest.fixture(scope="module")
def frames():
    return load_layers(default_catalog())


@pytest.fixture(scope="module")
def deposits(frames):
    return frames["deposits"]


def test_at_least_20_located_sites_of_every_type(deposits, frames):
    assert len(deposits) >= 20
    dom = default_catalog().domains["deposit_type"]
    assert set(deposits["deposit_type"]) == set(dom.values)
    assert deposits.geometry.notna().all() and not deposits.geometry.is_empty.any()


def test_named_sites_are_present(deposits):
    for site in ("dong_pao", "bac_nam_xe", "nam_nam_xe", "yen_phu"):
        assert site in set(deposits["id"])


def test_every_location_states_basis_uncertainty_and_source(deposits):
    assert deposits["location_uncertainty_m"].gt(0).all()
    refs_ok = [loc in split_list(refs) for loc, refs in zip(deposits["location_ref"], deposits["refs"])]
    assert all(refs_ok), "every row cites the source of its coordinates"


@pytest.mark.parametrize("basis", ["commune_centre", "district_centre"])
def test_admin_centres_match_the_package(deposits, basis):
    rows = deposits[deposits["location_basis"] == basis]
    assert len(rows) > 0
    for _, r in rows.iterrows():
        c = locate(r["province_pre2025"], r["district"], r["commune"] if basis == "commune_centre" else None)
        if "moved" in str(r["location_note"]):  # moved to land by the position rule (rule 3)
            continue
        assert (r["lon"], r["lat"]) == pytest.approx((c.lon, c.lat), abs=1e-6), r["id"]
        assert r["location_ref"] == REF_ID
        assert r["location_uncertainty_m"] >= c.uncertainty_m, r["id"]


def test_resource_figures_carry_unit_and_source(deposits):
    with_figure = deposits[deposits["resource_value"].notna()]
    assert len(with_figure) >= 3
    assert with_figure["resource_unit"].notna().all()
    assert with_figure["resource_ref"].notna().all()


def test_every_reference_is_cited_and_resolves(frames):
    refs = set(frames["references"]["id"])
    cat = default_catalog()
    cited = set(model_refs())  # the prospectivity model spec cites its method sources
    for spec in cat:
        cited |= set(spec.cites)
        frame = frames[spec.name]
        for f in spec.fields:
            if f.foreign_key == "references.id":
                for raw in frame[f.name].dropna():
                    cited |= set(split_list(raw))
    assert cited <= refs
    assert refs <= cited


def test_crosswalk_maps_63_onto_34(frames):
    cw = frames["province_crosswalk"]
    assert len(cw) == 63 and cw["name_2025"].nunique() == 34
    by_name = dict(zip(cw["name_pre2025"], cw["name_2025"]))
    assert by_name["Yên Bái"] == "Lào Cai"
    assert len(frames["provinces_2025"]) == 34 and len(frames["provinces_pre2025"]) == 63


def test_2025_provinces_are_the_dissolved_63(frames):
    p63, p34 = frames["provinces_pre2025"], frames["provinces_2025"]
    assert p34["area_km2"].sum() == pytest.approx(p63["area_km2"].sum(), rel=0.002)
    assert p34.geometry.is_valid.all()
    lao_cai = p34.set_index("name_2025").loc["Lào Cai"]
    assert set(split_list(lao_cai["names_pre2025"])) == {"Lào Cai", "Yên Bái"}


def test_deposits_get_their_2025_province(deposits):
    assert deposits["province_2025"].notna().all()
    yen_phu = deposits.set_index("id").loc["yen_phu"]
    assert (yen_phu["province_pre2025"], yen_phu["province_2025"]) == ("Yên Bái", "Lào Cai")


def test_archipelagos_are_labelled_as_vietnamese(frames):
    arch = frames["archipelagos"].set_index("name_vi")
    assert set(arch.index) == {"Quần đảo Hoàng Sa", "Quần đảo Trường Sa"}
    for _, a in arch.iterrows():
        assert a.geometry.contains(shapely.Point(a["label_lon"], a["label_lat"])) or \
            a.geometry.convex_hull.contains(shapely.Point(a["label_lon"], a["label_lat"]))


def test_places_lie_in_their_2025_province_with_clean_names(frames):
    """GeoNames' admin1 code is the 2025 GSO province code: each city lies in (or, on the coast, within
    10 km of) that province's polygon; names are NFC, with Đ not the Icelandic Ð, and unique per place."""
    import unicodedata
    from geo.crs import METRIC_CRS
    places = frames["places"].to_crs(METRIC_CRS)
    provinces = frames["provinces_2025"].to_crs(METRIC_CRS).set_index("name_2025")
    assert len(places) >= 50 and places["geonameid"].is_unique
    far = {r["name_vi"]: round(provinces.geometry[r["province_2025"]].distance(r.geometry))
           for _, r in places.iterrows() if provinces.geometry[r["province_2025"]].distance(r.geometry) > 10_000}
    assert far == {}
    for col in ("name_vi", "name_en"):
        for name in places[col]:
            assert name == unicodedata.normalize("NFC", name) and "\u00d0" not in name and "\u00f0" not in name
    assert {"Hà Nội", "T.P. Hồ Chí Minh", "Đà Nẵng", "Hải Phòng"} <= set(places["name_vi"])
    assert places.sort_values("population", ascending=False)["min_zoom"].is_monotonic_increasing


def test_prospect_zones_are_derived_and_documented(frames, deposits):
    zones = frames["prospect_zones"].set_index("id")
    assert {"northern_hard_rock_belt", "northern_weathering_crust", "central_coastal_placer_strip"} <= set(zones.index)
    for zid, z in zones.iterrows():
        inside = deposits[deposits.within(z.geometry)]
        wanted = set(split_list(z["site_ids"])) if pd.notna(z["site_ids"]) else set()
        assert wanted <= set(inside["id"]), zid
        assert z["n_sites"] == len(wanted) and z["rule_en"] and z["data_gaps_en"] and z["area_km2"] > 0


def test_coastal_zones_cover_every_province_with_a_placer_site(frames, deposits):
    zones = frames["coastal_placer_zones"]
    placer_provinces = set(deposits.loc[deposits["deposit_type"] == "coastal_placer", "province_2025"])
    assert placer_provinces <= set(zones["province_2025"])
    for _, z in zones.iterrows():
        sites = deposits[deposits["province_2025"] == z["province_2025"]]
        sites = sites[sites["deposit_type"] == "coastal_placer"]
        assert z["n_placer_sites"] == len(sites)
        assert z["th_u_flag"] == ("yes" if (sites["th_u_flag"] == "yes").any() else "unknown")


def test_province_summary_counts_every_site_once(frames, deposits):
    s = frames["province_summary"]
    assert len(s) == 34 and s["n_sites"].sum() == len(deposits)
    assert s["n_unlocated"].sum() == frames["unlocated_occurrences"]["province_pre2025"].notna().sum()


def test_reserves_context_has_the_usgs_revision(frames):
    rc = frames["reserves_context"]
    vn = rc[rc["country"] == "Vietnam"].set_index("edition")
    assert vn.loc[2024, "reserves_t_reo"] == 22_000_000
    assert vn.loc[2025, "reserves_t_reo"] == 3_500_000


@pytest.fixture
def project_copy(tmp_path):
    """A copy of the project's catalog and sources that a test may break."""
    import shutil
    from layers import ROOT
    for part in ("catalog", "sources", "base", "open_evidence"):
        shutil.copytree(ROOT / part, tmp_path / part)
    return tmp_path


def _edit_deposit(root, site, **changes):
    import csv
    path = root / "sources" / "deposits.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for r in rows:
        if r["id"] == site:
            r.update(changes)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _problems(root):
    from geo.catalog import load_catalog
    from geo.errors import SourceDataError
    with pytest.raises(SourceDataError) as info:
        load_layers(load_catalog(root / "catalog"))
    return str(info.value)


def test_wrong_province_is_caught_with_the_polygon_name(project_copy):
    _edit_deposit(project_copy, "yen_phu", province_pre2025="Lai Châu")
    msg = _problems(project_copy)
    assert "deposits.csv, row 4, field 'province_pre2025': point lies in Yên Bái" in msg


def test_point_beyond_territorial_sea_is_caught(project_copy):
    _edit_deposit(project_copy, "thuan_an", lon="110.5", lat="16.0")
    assert "point is outside Vietnam's land and territorial sea" in _problems(project_copy)


def test_uncited_reference_is_caught(project_copy):
    with (project_copy / "sources" / "references.csv").open("a", encoding="utf-8") as fh:
        fh.write("orphan_2020,Nobody,2020,Unused,Nowhere,https://example.org,,,\n")
    assert "field 'id': reference is cited by no row of any layer (value: 'orphan_2020')" in _problems(project_copy)


# --- issue 12: every cited position of a site, the choice rule, conflicts, provinces -----------------

USGS_REE_WITH_COORDINATES = {"174", "343", "344", "390", "391", "396", "445", "455", "470", "485", "486", "487",
                             "496", "531", "546", "582", "584"}
USGS_REE_WITHOUT_COORDINATES = {"415", "419", "515", "548", "564", "583", "587", "660"}
USGS_REE_WITHOUT_COORDINATES_ON_SITES = {"qui_nhon": "548", "vung_tau": "587", "muong_hum": "660", "nam_ham_tan": "564"}
USGS_MAJOR_DEPOSITS_VIETNAM = {"459", "463", "464", "465", "466", "467"}  # read; see research/evidence_usgs.md


def test_every_usgs_record_with_coordinates_is_a_position(frames):
    loc = frames["site_locations"]
    ree = set(loc.loc[loc["ref"] == "usgs_ofr_02_189_ree", "record_id"])
    assert ree == USGS_REE_WITH_COORDINATES
    assert set(loc.loc[loc["ref"] == "usgs_major_deposits", "record_id"]) == USGS_MAJOR_DEPOSITS_VIETNAM
    assert loc.loc[loc["ref"].str.startswith("usgs"), "record_id"].notna().all()


def test_every_usgs_ree_record_without_coordinates_is_accounted_for(frames):
    """The 8 REE-database records without coordinates: unlocated occurrences or a note on a site."""
    unloc = {i.split(":")[1] for ids in frames["unlocated_occurrences"]["record_ids"].dropna()
             for i in split_list(ids) if i.startswith("usgs_ofr_02_189_ree:")}
    deps = frames["deposits"].set_index("id")
    noted = {rec for site, rec in USGS_REE_WITHOUT_COORDINATES_ON_SITES.items()
             if f"record {rec}" in deps.loc[site, "notes_en"] and "usgs_ofr_02_189_ree" in deps.loc[site, "refs"]}
    assert unloc | noted == USGS_REE_WITHOUT_COORDINATES
    assert len(USGS_REE_WITH_COORDINATES | USGS_REE_WITHOUT_COORDINATES) == 25


def test_arcminute_positions_carry_the_measured_uncertainty(frames):
    """Database points get the 90th percentile of their distances to the units their sites name, not the rounding."""
    import numpy as np
    from layers.derived.positions import (arcminute_uncertainty_m, database_point_comparisons,
                                          database_point_uncertainty)
    loc = frames["site_locations"]
    arc = loc[loc["precision"] == "arc_minute"]
    assert len(arc) >= 18 and (arc["kind"] == "database_point").all()
    comp = database_point_comparisons(loc, dict(frames))
    measured, n = database_point_uncertainty(loc, dict(frames))
    assert n == len(comp) >= 13
    assert measured == int(np.ceil(np.percentile(comp["distance_m"], 90) / 500) * 500)
    assert comp["distance_m"].max() < 200_000  # the Cambodian Cát Khánh point is left out (never used)
    for _, r in arc.iterrows():
        assert r["uncertainty_m"] == measured > 10 * arcminute_uncertainty_m(r["lon"], r["lat"]), r["id"]
        # whole arc-minutes, given to 3 decimals (±0.0005° = 0.03′) or more
        assert abs(r["lon"] * 60 - round(r["lon"] * 60)) < 0.031 and abs(r["lat"] * 60 - round(r["lat"] * 60)) < 0.031


def test_unit_centre_positions_match_the_package(frames):
    loc = frames["site_locations"]
    deps = frames["deposits"].set_index("id")
    for _, r in loc[loc["kind"].isin(["commune_centre", "district_centre"])].iterrows():
        assert r["ref"] == REF_ID
        commune, district, province = (r["coordinates_as_given"].split(", ") + [None])[:3] \
            if r["kind"] == "commune_centre" else (None, *r["coordinates_as_given"].split(", ")[-2:])
        if r["site_id"] in ("nam_nam_xe", "cam_con_tan_thuong", "sin_quyen", "then_thau"):  # uncertainty enlarged to two communes
            continue
        c = locate(province, district, commune)
        assert (r["lon"], r["lat"], r["uncertainty_m"]) == pytest.approx((c.lon, c.lat, c.uncertainty_m), abs=1e-6), r["id"]
        assert r["site_id"] in deps.index


def test_one_chosen_position_per_site_inside_vietnam(frames):
    loc, deps = frames["site_locations"], frames["deposits"]
    used = loc[loc["used"] == "yes"]
    assert sorted(used["site_id"]) == sorted(deps["id"])
    cat = loc[loc["site_id"] == "cat_khanh_de_gi"]
    usgs = cat[cat["ref"].str.startswith("usgs")]
    assert len(usgs) == 2 and (usgs["used"] == "no").all()
    assert usgs["reason_not_used"].str.contains("outside Vietnam").all()
    assert (deps.set_index("id").loc["cat_khanh_de_gi", "lon"]) > 108  # never the Cambodian point
    assert loc.loc[loc["used"] == "no", "reason_not_used"].notna().all()


def test_named_disagreements_are_conflicts(deposits):
    d = deposits.set_index("id")
    for site, km in {"cat_khanh_de_gi": 434, "sin_quyen": 77}.items():
        assert d.loc[site, "location_conflict"] == "yes", site
        assert d.loc[site, "location_spread_m"] > km * 1000, site
        assert "disagree" in d.loc[site, "location_conflict_note"]
    # with the measured database uncertainty these no longer exceed the combined uncertainty
    for site in ("my_tho", "cam_nhuong", "ky_ninh", "quang_ngan", "dong_pao"):
        assert "disagree" not in str(d.loc[site, "location_conflict_note"]), site


def test_at_least_28_located_sites_each_with_a_source_strength(deposits):
    assert len(deposits) >= 28
    assert deposits["confidence"].notna().all()
    weak = deposits[deposits["confidence"] == "secondary_only"]
    assert {"vinh_my", "ke_sung", "cam_nhuong"} <= set(weak["id"])  # rest on the USGS databases alone (they count as one)


def test_province_summary_counts_and_statement(frames):
    from layers.derived.summary import occurrence_statement
    ps = frames["province_summary"]
    assert ps["n_sites"].sum() == len(frames["deposits"])
    assert (ps["has_cited_occurrence"] == "yes").sum() == ((ps["n_sites"] + ps["n_unlocated"]) > 0).sum()
    assert ps["n_usgs_records"].sum() >= 17
    text = occurrence_statement(frames)
    assert text.startswith(f"{(ps['has_cited_occurrence'] == 'yes').sum()} of the 34 provinces") and "21" in text


# --- issue 20: position rule v2, no double counts, honest fields ----------------------------------------

def _fresh(frames):
    """The build's frames without the rule's caches."""
    return {k: v for k, v in frames.items() if not k.startswith("_")}


def _positions(*rows):
    cols = ["id", "site_id", "name_as_given", "ref", "record_id", "kind", "lon", "lat", "coordinates_as_given",
            "precision", "uncertainty_m"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows])


def test_a_source_coordinate_beats_an_arcminute_point(frames):
    from layers.derived.positions import choose
    loc = _positions(
        ("t__db", "t", "T", "usgs_ofr_02_189_ree", "1", "database_point", 106.0, 18.2, "POINT", "arc_minute", 1300),
        ("t__paper", "t", "T", "van_luyen_2000_hamtan", None, "published_coordinates", 106.1, 18.25, "10°N",
         "stated_extent", 20_000))
    per_position, per_site = choose(loc, _fresh(frames))
    assert per_site.loc["t", "position_id"] == "t__paper"  # even with the larger uncertainty
    assert list(per_position["used"]) == ["no", "yes"]
    assert "coordinates of the deposit are preferred" in per_position["reason_not_used"].iloc[0]


def test_an_onshore_site_given_only_a_sea_position_is_moved_to_land_or_kept_as_implausible(frames):
    import shapely
    from layers.derived.admin import province_at, vietnam_area
    from layers.derived.positions import IMPLAUSIBLE, choose, metric_xy
    fr = _fresh(frames)
    # about 1 km off the Thuận An shore (Huế) and about 10 km off it (inside the territorial sea)
    loc = _positions(("near__db", "near", "N", "usgs_ofr_02_189_ree", "9", "database_point", 107.68, 16.58, "P",
                      "arc_minute", 5000),
                     ("far__db", "far", "F", "usgs_ofr_02_189_ree", "8", "database_point", 107.78, 16.68, "P",
                      "arc_minute", 3000))
    land = vietnam_area(fr)
    start = metric_xy(loc)
    assert not shapely.intersects(land, shapely.points(start)).any()
    _, site = choose(loc, fr)
    near, far = site.loc["near"], site.loc["far"]
    moved = metric_xy(pd.DataFrame({"lon": [near["lon"], far["lon"]], "lat": [near["lat"], far["lat"]]}))
    assert shapely.intersects(land, shapely.points(moved)).all()
    d_near = float(np.hypot(*(moved[0] - start[0])))
    assert d_near <= 5000 and near["moved_m"] == pytest.approx(d_near, abs=1)
    assert near["location_basis"] == "database_point" and near["uncertainty_m"] >= 5000 + d_near
    assert far["location_basis"] == IMPLAUSIBLE and far["moved_m"] > 3000  # beyond its uncertainty
    assert far["uncertainty_m"] >= 3000 + far["moved_m"]
    pts = gpd.GeoSeries(gpd.points_from_xy([near["lon"], far["lon"]], [near["lat"], far["lat"]]), crs="EPSG:4326")
    assert list(province_at(fr, pts.values)) == ["Huế", "Huế"]  # the package's name of Thừa Thiên Huế


def test_sites_moved_to_land_say_so(deposits):
    moved = deposits[deposits["location_note"].fillna("").str.contains("moved .* to the nearest land", regex=True)]
    assert {"mui_ne", "vung_tau"} <= set(moved["id"])


def test_province_2025_is_the_polygon_the_point_falls_in(frames, deposits):
    p34 = frames["provinces_2025"]
    hit = gpd.sjoin(deposits[["id", "geometry"]], p34[["name_2025", "geometry"]], how="left", predicate="within")
    assert hit["name_2025"].notna().all()  # every onshore site is on land, inside a province
    assert list(hit.sort_index()["name_2025"]) == list(deposits["province_2025"])


def test_beach_placers_far_from_the_sea_are_flagged(deposits):
    from layers.derived.positions import BEACH_MAX_SEA_DISTANCE_M
    beach = deposits[deposits["setting"] == "beach"]
    far = beach[beach["distance_to_open_sea_m"] > BEACH_MAX_SEA_DISTANCE_M]
    assert {"cua_tung_cua_viet", "cam_hoa", "nam_ham_tan"} <= set(far["id"])
    assert (far["location_conflict"] == "yes").all()
    assert far["location_conflict_note"].str.contains("km from the open sea").all()
    near = beach[beach["distance_to_open_sea_m"] <= BEACH_MAX_SEA_DISTANCE_M]
    assert not near["location_conflict_note"].fillna("").str.contains("open sea").any()


def test_two_same_type_sites_3_km_apart_fail_unless_merged_or_reasoned(frames):
    from layers.model.rules import double_counts
    fr = _fresh(frames)
    deps = frames["deposits"]
    twin = deps[deps["id"] == "cam_nhuong"].copy()
    twin["id"] = "cam_nhuong_twin"
    metric = twin.geometry.to_crs("EPSG:3405").translate(xoff=3000)
    twin["geometry"] = metric.to_crs("EPSG:4326").values
    fr["deposits"] = pd.concat([deps, twin], ignore_index=True)  # both ±2.5 km: combined 5 km > 3 km
    msgs = [p.message for p in double_counts(default_catalog(), fr)]
    assert any("cam_nhuong and cam_nhuong_twin" in m and "3.0 km apart" in m for m in msgs)
    fr["distinct_sites"] = pd.concat([frames["distinct_sites"], pd.DataFrame([{
        "site_a": "cam_nhuong_twin", "site_b": "cam_nhuong", "reason_en": "x", "reason_vi": "x",
        "refs": "usgs_ofr_02_189_ree"}])], ignore_index=True)
    assert not any("cam_nhuong and cam_nhuong_twin" in p.message for p in double_counts(default_catalog(), fr))


def test_the_project_has_no_unexplained_double_count_and_no_shared_record(frames):
    from layers.derived.positions import chosen_positions
    from layers.model.rules import close_sites
    pairs = {frozenset(p[:2]) for p in close_sites(frames)}
    kept = {frozenset(p) for p in zip(frames["distinct_sites"]["site_a"], frames["distinct_sites"]["site_b"])}
    assert pairs == kept  # every kept pair is still close (no stale reasons)
    records = chosen_positions(_fresh(frames))["record"].dropna()
    assert records.is_unique
    d = frames["deposits"].set_index("id")
    assert "huong_dien" not in d.index and "Hương Điền" in d.loc["quang_ngan", "aliases"]


def test_a_note_naming_another_type_fails(project_copy):
    _edit_deposit(project_copy, "ben_den", notes_en="A carbonatite-related deposit.")
    assert "field 'notes_en': note names another deposit type (alkaline_carbonatite)" in _problems(project_copy)


def test_the_textbook_excerpt_does_not_make_sources_independent(project_copy, deposits):
    assert deposits.set_index("id").loc["cam_nhuong", "confidence"] == "secondary_only"
    _edit_deposit(project_copy, "cam_nhuong", confidence="multiple_independent")
    assert "rated multiple_independent on fewer than two sources that count" in _problems(project_copy)


def test_ree_minerals_state_their_basis(deposits):
    with_minerals = deposits[deposits["ree_minerals"].notna()]
    assert with_minerals["ree_minerals_basis"].notna().all()
    assert deposits.loc[deposits["ree_minerals"].isna(), "ree_minerals_basis"].isna().all()
    inferred = set(deposits.loc[deposits["ree_minerals_basis"] == "inferred_from_type", "id"])
    assert {"vinh_my", "phan_thiet", "vinh_cam_ranh", "vung_tau", "qui_nhon", "ky_khang"} <= inferred


def test_added_occurrences_are_cited_and_placed(deposits, frames):
    d = deposits.set_index("id")
    assert d.loc["then_thau", "district"] == "Phong Thổ" and "theinvestor_treasure" in d.loc["then_thau", "refs"]
    for site in ("red_sand_tuy_phong", "red_sand_bac_binh", "red_sand_ham_thuan_nam"):
        assert d.loc[site, "location_basis"] == "district_centre" and d.loc[site, "setting"] == "onshore"
        assert "nguyen_quang_loc_2012_cat_do" in d.loc[site, "refs"]
    assert "then_thau" not in set(frames["unlocated_occurrences"]["id"])


def test_province_counts_against_the_minister(frames):
    from layers.derived.summary import occurrence_statement, pre2025_with_occurrence
    text = occurrence_statement(frames)
    pre = pre2025_with_occurrence(frames)
    assert f"{len(pre)} of the 63 pre-2025 provinces" in text and "21 provinces" in text
    assert {"Lai Châu", "Bình Thuận", "Yên Bái"} <= pre


def test_regional_analogues_are_cited_and_never_mixed_with_vietnam_sites(frames):
    ra = frames["regional_analogues"]
    assert set(ra["country"]) == {"China", "Laos"} and len(ra) >= 3
    assert not set(ra["id"]) & set(frames["deposits"]["id"])
    assert "geometry" not in ra  # context only: not placed, counted in no summary
    assert frames["province_summary"]["n_sites"].sum() == len(frames["deposits"])
    refs = set(frames["references"]["id"])
    assert all(set(split_list(r)) <= refs for r in ra["refs"])
