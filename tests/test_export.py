"""`geo export`: every layer in every format, read back with GDAL, validated against its standard."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import geojson_validator
import pandas as pd
import pyogrio
import pytest
from lxml import etree

from conftest import geo_in_process, run_geo
from geo.colour import kml_abgr
from layers.load import default_catalog, load_layers
from maps.export import DBF_TEXT_BYTES, FORMATS

SMALL = "deposits,prospect_zones,coastal_placer_zones,province_summary,references,coastline,reserves_context"


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


@pytest.fixture(scope="module")
def frames(catalog):
    return load_layers(catalog)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    for fmt in FORMATS:  # in this process: the CLI's exit status and one-line errors are tested below
        rc, _, err = geo_in_process("export", "--format", fmt, "--layers", SMALL, "--out", str(out / fmt))
        assert rc == 0, err
    return out


def _norm(v):
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _same_values(spec, expected: pd.DataFrame, got: pd.DataFrame, names=None, cut=None):
    names = names or {}
    assert len(got) == len(expected), spec.name
    key = spec.field_names[0]  # FlatGeobuf's spatial index reorders features: compare by key
    expected = expected.sort_values(key).reset_index(drop=True)
    got = got.sort_values(names.get(key, key)).reset_index(drop=True)
    for f in spec.fields:
        col = names.get(f.name, f.name)
        want = [_norm(v) for v in expected[f.name]]
        have = [_norm(v) for v in got[col]]
        if f.type == "real":
            want = [None if w is None else round(float(w), 6) for w in want]
            have = [None if h is None else round(float(h), 6) for h in have]
        if cut and f.type == "string":
            # dBase cuts at the byte limit and pads with spaces, which readers strip
            want = [w if w is None else w.encode()[:cut].decode("utf-8", "ignore").rstrip() for w in want]
            have = [h if h is None else h.encode()[:cut].decode("utf-8", "ignore").rstrip() for h in have]
        assert have == want, (spec.name, f.name)


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "fgb", "kml", "csv"])
def test_round_trip_keeps_every_feature_and_value(exported, catalog, frames, fmt):
    for name in SMALL.split(","):
        spec = catalog[name]
        path = exported / fmt / f"{name}{FORMATS[fmt][1]}"
        got = pyogrio.read_dataframe(path, **({"layer": name} if fmt == "kml" else {}))
        if fmt == "csv":
            got = pd.read_csv(path, dtype=str, keep_default_na=False).replace({"": None})
        _same_values(spec, frames[name], got)


def test_shapefile_zip_has_prj_cpg_and_truncation_tables(exported, catalog, frames):
    for name in SMALL.split(","):
        spec = catalog[name]
        zpath = exported / "shp" / f"{name}.zip"
        with zipfile.ZipFile(zpath) as zf:
            names = set(zf.namelist())
            assert {f"{name}.dbf", f"{name}.cpg", f"{name}_field_names.csv"} <= names
            if spec.spatial:
                assert {f"{name}.shp", f"{name}.shx", f"{name}.prj"} <= names
            renamed = dict(list(csv.reader(io.StringIO(zf.read(f"{name}_field_names.csv").decode())))[1:])
        inner = f"/vsizip/{zpath}/{name}.{'shp' if spec.spatial else 'dbf'}"
        got = pyogrio.read_dataframe(inner)
        for f in spec.fields:
            assert renamed.get(f.name, f.name) in got.columns
        _same_values(spec, frames[name], got, names=renamed, cut=DBF_TEXT_BYTES)


def test_geojson_is_rfc7946(exported):
    for path in (exported / "geojson").glob("*.geojson"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert "crs" not in data
        structure = geojson_validator.validate_structure(data)
        assert structure == {}, (path.name, structure)
        problems = geojson_validator.validate_geometries(data)
        assert not problems.get("invalid"), (path.name, problems)
        assert "counterclockwise" not in json.dumps(problems.get("problematic", {})), path.name
        for match in __import__("re").findall(r"-?\d+\.\d+", path.read_text())[:2000]:
            assert len(match.split(".")[1]) <= 6


def test_kml_is_valid_ogc_kml_2_2_with_styles_and_bilingual_balloons(exported, catalog):
    import pykml
    schema = etree.XMLSchema(etree.parse(str(Path(pykml.__file__).parent / "schemas" / "ogckml22.xsd")))
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    for path in (exported / "kml").glob("*.kml"):
        doc = etree.parse(str(path))
        assert schema.validate(doc), (path.name, schema.error_log)
    doc = etree.parse(str(exported / "kml" / "deposits.kml"))
    marks = doc.findall(".//k:Placemark", ns)
    assert len(marks) >= 20
    spec = catalog["deposits"]
    colours = {m.findtext(".//k:IconStyle/k:color", namespaces=ns) for m in marks}
    assert colours == {kml_abgr(s.fill) for s in spec.style.categories.values()}
    balloon = marks[0].findtext("k:description", namespaces=ns)
    assert "Kiểu mỏ" in balloon and "Deposit type" in balloon and "href=" in balloon


def test_flatgeobuf_has_a_spatial_index(exported):
    info = pyogrio.read_info(exported / "fgb" / "deposits.fgb")
    assert info["capabilities"]["fast_spatial_filter"]


def test_csv_points_have_lon_lat_and_polygons_wkt(exported):
    pts = pd.read_csv(exported / "csv" / "deposits.csv")
    assert {"lon", "lat"} <= set(pts.columns) and "WKT" not in pts.columns
    zones = pd.read_csv(exported / "csv" / "prospect_zones.csv")
    assert zones["WKT"].str.startswith("MULTIPOLYGON").all()


def test_metric_crs_on_request(tmp_path):
    res = run_geo("export", "--format", "gpkg", "--layers", "deposits", "--crs", "EPSG:3405", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert pyogrio.read_info(tmp_path / "deposits.gpkg")["crs"] == "EPSG:3405"


def test_bad_choices_listed_in_one_line():
    res = run_geo("export", "--format", "dxf", "--layers", "deposits,nope", "--crs", "EPSG:32648")
    assert res.returncode == 2
    line = res.stderr.strip()
    assert "\n" not in line and "'dxf'" in line and "'nope'" in line and "'EPSG:32648'" in line
    assert "gpkg, geojson, kml, fgb, shp, csv" in line and "EPSG:3405" in line


def test_unwritable_output_is_an_error_not_a_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run_geo("export", "--format", "geojson", "--layers", "deposits", "--out", str(blocker / "sub"))
    assert res.returncode == 2 and res.stderr.startswith("error: ") and "Traceback" not in res.stderr


def test_failed_export_leaves_no_partial_file(tmp_path, monkeypatch, catalog, frames):
    from maps import export

    def boom(*args, **kwargs):
        Path(args[1]).write_bytes(b"partial")
        raise pyogrio.errors.DataSourceError("disk full (injected)")

    monkeypatch.setattr(export.pyogrio, "write_dataframe", boom)
    with pytest.raises(OSError):
        export.export_layer(catalog, catalog["deposits"], frames, "geojson", "EPSG:4326", tmp_path)
    assert list(tmp_path.iterdir()) == []
