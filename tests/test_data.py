"""The project's own data: cited, placed honestly, and complete enough to be the national map."""
from __future__ import annotations

import pandas as pd
import pytest
import shapely

from geo.table import split_list
from layers.rules import model_refs
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
    for part in ("catalog", "sources", "base"):
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


def test_arcminute_positions_carry_the_uncertainty_of_their_precision(frames):
    from layers.derived.positions import arcminute_uncertainty_m
    loc = frames["site_locations"]
    arc = loc[loc["precision"] == "arc_minute"]
    assert len(arc) >= 18
    for _, r in arc.iterrows():
        assert r["uncertainty_m"] == arcminute_uncertainty_m(r["lon"], r["lat"]), r["id"]
        # whole arc-minutes, given to 3 decimals (±0.0005° = 0.03′) or more
        assert abs(r["lon"] * 60 - round(r["lon"] * 60)) < 0.031 and abs(r["lat"] * 60 - round(r["lat"] * 60)) < 0.031


def test_unit_centre_positions_match_the_package(frames):
    loc = frames["site_locations"]
    deps = frames["deposits"].set_index("id")
    for _, r in loc[loc["kind"].isin(["commune_centre", "district_centre"])].iterrows():
        assert r["ref"] == REF_ID
        commune, district, province = (r["coordinates_as_given"].split(", ") + [None])[:3] \
            if r["kind"] == "commune_centre" else (None, *r["coordinates_as_given"].split(", ")[-2:])
        if r["site_id"] in ("nam_nam_xe", "cam_con_tan_thuong", "sin_quyen"):  # uncertainty enlarged to two communes
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
    for site, km in {"my_tho": 53, "cam_nhuong": 32, "ky_ninh": 21, "quang_ngan": 9}.items():
        assert d.loc[site, "location_conflict"] == "yes", site
        assert d.loc[site, "location_spread_m"] > km * 1000, site
    assert d.loc["dong_pao", "location_conflict"] == "no" and d.loc["dong_pao", "location_spread_m"] < 2000


def test_at_least_28_located_sites_each_with_a_source_strength(deposits):
    assert len(deposits) >= 28
    assert deposits["confidence"].notna().all()
    weak = deposits[deposits["confidence"] == "secondary_only"]
    assert {"vinh_my", "huong_dien"} <= set(weak["id"])  # rest on the USGS databases alone (they count as one)


def test_province_summary_counts_and_statement(frames):
    from layers.derived.summary import occurrence_statement
    ps = frames["province_summary"]
    assert ps["n_sites"].sum() == len(frames["deposits"])
    assert (ps["has_cited_occurrence"] == "yes").sum() == ((ps["n_sites"] + ps["n_unlocated"]) > 0).sum()
    assert ps["n_usgs_records"].sum() >= 17
    text = occurrence_statement(frames)
    assert text.startswith(f"{(ps['has_cited_occurrence'] == 'yes').sum()} of the 34 provinces") and "21" in text
