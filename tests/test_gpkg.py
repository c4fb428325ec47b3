"""The GeoPackage read back with GDAL: layers, indexes, domains, styles, metadata, relations, validity."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pyogrio
import pytest

from conftest import run_geo, skip_without
from geo.colour import qgis_rgba
from layers.load import default_catalog, load_layers
from layers.package import GPKG_NAME


@pytest.fixture(scope="module")
def gpkg(default_build):
    """The GeoPackage of the run's shared default build (tests/conftest.py)."""
    return default_build.out / GPKG_NAME


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def test_layers_counts_geometry_and_spatial_index(gpkg, catalog):
    frames = load_layers(catalog)
    for spec in catalog:
        info = pyogrio.read_info(gpkg, layer=spec.name)
        assert info["features"] == len(frames[spec.name]), spec.name
        if spec.spatial:
            assert info["geometry_type"] == spec.geometry
            assert info["capabilities"]["fast_spatial_filter"], f"{spec.name} has no spatial index"
            assert info["geometry_name"] == "geom"


def test_written_as_geopackage_1_2_and_gdal_validator_passes(gpkg):
    with gpkg.open("rb") as fh:
        header = fh.read(72)
    assert header[68:72] == b"GPKG" and header[60:64] == (10200).to_bytes(4, "big")  # user_version 1.2
    res = subprocess.run([sys.executable, "-m", "osgeo_utils.samples.validate_gpkg", str(gpkg)],
                         capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip() == "" and res.stderr.strip() == "", res.stdout + res.stderr


def test_validator_catches_a_broken_file(gpkg, tmp_path):
    import sqlite3
    broken = tmp_path / "broken.gpkg"
    shutil.copy(gpkg, broken)
    with sqlite3.connect(broken) as con:
        con.execute("UPDATE gpkg_contents SET srs_id = 999999 WHERE table_name = 'deposits'")
    res = subprocess.run([sys.executable, "-m", "osgeo_utils.samples.validate_gpkg", str(broken)],
                         capture_output=True, text=True)
    assert res.returncode != 0


def test_coded_value_domains_are_attached(gpkg, catalog):
    skip_without("gdal-bin")  # GDAL's ogrinfo
    for spec in catalog:
        fields = [f for f in spec.fields if f.domain and not f.is_list]
        if not fields:
            continue
        out = subprocess.run(["ogrinfo", "-so", "-nomd", str(gpkg), spec.name], capture_output=True,
                             text=True, check=True).stdout
        for f in fields:
            assert f"{f.name}: String" in out and f"domain name={f.domain}" in out, (spec.name, f.name)
    out = subprocess.run(["ogrinfo", str(gpkg), "-sql",
                          "SELECT value FROM gpkg_data_column_constraints WHERE constraint_name='deposit_type'"],
                         capture_output=True, text=True, check=True).stdout
    for code in catalog.domains["deposit_type"].values:
        assert f"value (String) = {code}" in out


def test_one_default_qml_style_per_spatial_layer_matching_the_catalog(gpkg, catalog):
    styles = pyogrio.read_dataframe(gpkg, layer="layer_styles")
    spatial = [s for s in catalog if s.spatial]
    assert sorted(styles["f_table_name"]) == sorted(s.name for s in spatial)
    assert styles["useAsDefault"].astype(bool).all()
    assert (styles["f_geometry_column"] == "geom").all()
    for spec in spatial:
        row = styles[styles["f_table_name"] == spec.name].iloc[0]
        qml = ET.fromstring(row["styleQML"].split("\n", 1)[1])
        colours = {p.get("v") for p in qml.iter("prop") if p.get("k") in ("color", "line_color")}
        st = spec.style
        expected = ([qgis_rgba(s.fill, s.fill_opacity) for s in st.categories.values()] if st.category_field
                    else [qgis_rgba(st.symbol.stroke) if "Line" in spec.geometry
                          else qgis_rgba(st.symbol.fill, st.symbol.fill_opacity)])
        assert set(expected) <= colours, spec.name
        if st.category_field:
            cats = {c.get("value") for c in qml.iter("category")}
            assert cats == set(st.categories)
        aliases = {a.get("field"): a.get("name") for a in qml.iter("alias")}
        for f in spec.fields:
            assert f.alias.vi in aliases[f.name] and f.alias.en in aliases[f.name]
        sld = ET.fromstring(row["styleSLD"].split("\n", 1)[1])
        assert sld.tag.endswith("StyledLayerDescriptor")


def test_metadata_for_gdal_and_qgis(gpkg, catalog):
    info = pyogrio.read_info(gpkg, layer="deposits")
    md = info["layer_metadata"]
    spec = catalog["deposits"]
    assert spec.title.vi in md["TITLE"] and spec.title.en in md["TITLE"]
    assert md["LICENCE"] == spec.licence and md["VERSION"] and md["BUILD_DATE"]
    assert "vietnamadminunits" in md["SOURCES"]
    qgis = [v for k, v in md.items() if k.startswith("GPKG_METADATA_ITEM")]
    assert qgis and ET.fromstring(qgis[0]).find("title").text == md["TITLE"]
    dataset = ET.fromstring(pyogrio.read_info(gpkg, layer="references")["dataset_metadata"]["GPKG_METADATA_ITEM_1"])
    assert "REE" in dataset.find("title").text and dataset.find("license").text


def test_reading_leaves_no_sidecar_files(gpkg):
    pyogrio.list_layers(gpkg)
    pyogrio.read_info(gpkg, layer="deposits")
    assert sorted(p.name for p in gpkg.parent.iterdir() if p.is_file()) == [gpkg.name]


def test_references_are_linked_through_related_tables(gpkg):
    rels = pyogrio.read_dataframe(gpkg, sql="SELECT * FROM gpkgext_relations", sql_dialect="SQLITE")
    assert {"rel_deposits__refs", "rel_prospect_zones__refs"} <= set(rels["mapping_table_name"])
    mapping = pyogrio.read_dataframe(gpkg, layer="rel_deposits__refs")
    deposits = pyogrio.read_dataframe(gpkg, layer="deposits", fid_as_index=True)
    refs = pyogrio.read_dataframe(gpkg, layer="references", fid_as_index=True)
    dong_pao_fid = deposits.index[deposits["id"] == "dong_pao"][0]
    linked = set(refs.loc[mapping[mapping["base_id"] == dong_pao_fid]["related_id"], "id"])
    assert linked == set(deposits.loc[dong_pao_fid, "refs"].split(";"))


def test_two_builds_are_byte_identical(build_5km, tmp_path):
    """A second build of the same sources gives the same GeoPackage, byte for byte (at 5 km: the grids' own
    independence of threads and tiles is tests/test_grid.py's; tests/test_faults.py compares every output file)."""
    res = run_geo("build", "--out", str(tmp_path), "--resolution", "5000", timeout=900)
    assert res.returncode == 0, res.stderr
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(tmp_path / GPKG_NAME) == digest(build_5km.out / GPKG_NAME)


def test_location_spread_and_conflict_recomputed_from_the_geopackage(gpkg):
    """site_locations read back with GDAL: each site's spread and conflict flag follow from its positions."""
    import numpy as np
    from geo.crs import METRIC_CRS
    loc = pyogrio.read_dataframe(gpkg, layer="site_locations").to_crs(METRIC_CRS)
    deps = pyogrio.read_dataframe(gpkg, layer="deposits").set_index("id")
    assert len(loc) >= 40 and set(loc["site_id"]) == set(deps.index)
    for site, grp in loc.groupby("site_id"):
        xy = np.column_stack([grp.geometry.x, grp.geometry.y])
        unc = grp["uncertainty_m"].to_numpy(float)
        d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        assert deps.loc[site, "n_location_sources"] == len(grp)
        assert abs(deps.loc[site, "location_spread_m"] - d.max()) <= 1, site
        conflict = bool((d > unc[:, None] + unc[None, :]).any())
        far_beach = deps.loc[site, "setting"] == "beach" and deps.loc[site, "distance_to_open_sea_m"] > 5000
        assert deps.loc[site, "location_conflict"] == ("yes" if conflict or far_beach else "no"), site
        assert ("disagree" in str(deps.loc[site, "location_conflict_note"])) == conflict, site
        chosen = grp[grp["used"] == "yes"]
        assert len(chosen) == 1, site
    assert deps.loc["cat_khanh_de_gi", "location_conflict"] == "yes"
