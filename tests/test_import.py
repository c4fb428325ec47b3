"""`geo import`: users' occurrence and sample files in five formats, checked by the project's rules.

Every fixture is built here. Bad files go through the real CLI (exit 2, one line naming file, row,
field and value); good files are imported, built and exported, and read back with GDAL.
"""
from __future__ import annotations

import json
import unicodedata
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from conftest import geo_in_process, run_geo, skip_without
from layers.imports import KINDS

HANOI = (105.8342, 21.0278)
DONG_PAO = (103.55, 22.30)
NHA_TRANG = (109.19, 12.24)
VN_TO_WGS = Transformer.from_crs("EPSG:4756", "EPSG:4326", always_xy=True)
WGS_TO_UTM48 = Transformer.from_crs("EPSG:4326", "EPSG:3405", always_xy=True)


def csv_file(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def geojson_file(path: Path, features: list[tuple[dict, dict | None]]) -> Path:
    """``features``: (properties, geometry) pairs, written as text (so NFD or mixed types survive as given)."""
    fc = {"type": "FeatureCollection",
          "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]}
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    return path


def pt(lon, lat) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def vector_file(path: Path, rows: list[dict], geoms, crs: str | None = "EPSG:4326", driver: str | None = None) -> Path:
    frame = gpd.GeoDataFrame(rows, geometry=list(geoms), crs=crs)
    pyogrio.write_dataframe(frame, path, driver=driver)
    return path


def zipped_shapefile(path: Path, rows: list[dict], geoms, crs: str | None = "EPSG:4326") -> Path:
    shp_dir = path.parent / f"{path.stem}_shp"
    shp_dir.mkdir()
    vector_file(shp_dir / f"{path.stem}.shp", rows, geoms, crs, "ESRI Shapefile")
    if crs is None:
        (shp_dir / f"{path.stem}.prj").unlink(missing_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for part in sorted(shp_dir.iterdir()):
            zf.write(part, part.name)
    return path


def _bad_cases(d: Path) -> list[tuple[str, list[str], list[str]]]:
    """(name, CLI args, strings the one error line must contain) for every rule, several formats."""
    P = shapely.Point
    nfd = unicodedata.normalize("NFD", "Điểm Đông")
    cases = [
        ("outside_vietnam_csv", [str(csv_file(d / "thai.csv", "id,name,lon,lat\na1,ok,105.83,21.03\na2,Ubon,104.5,15.5\n")),
                                 "--as", "occurrences"], ["thai.csv", "row 2", "'lon/lat'", "(value: 104.5, 15.5)", "outside Vietnam"]),
        ("outside_vietnam_geojson", [str(geojson_file(d / "phnom_penh.geojson", [({"id": "p1", "name": "PP"}, pt(104.92, 11.56))])),
                                     "--as", "occurrences"], ["phnom_penh.geojson", "row 1", "'lon/lat'", "(value: 104.92, 11.56)", "outside Vietnam"]),
        ("outside_bounds_csv", [str(csv_file(d / "far.csv", "id,name,lon,lat\na1,far,140.0,35.0\n")), "--as", "occurrences"],
         ["far.csv", "row 1", "'lon/lat'", "(value: 140.0, 35.0)", "outside Vietnam"]),
        ("swapped_csv", [str(csv_file(d / "swapped.csv", "id,name,lon,lat\na1,Hà Nội,21.03,105.83\n")), "--as", "occurrences"],
         ["swapped.csv", "row 1", "'lon/lat'", "(value: 21.03, 105.83)", "swapped"]),
        ("swapped_kml", [str(vector_file(d / "swapped.kml", [{"Name": "k1", "id": "k1"}], [P(21.03, 105.83)], driver="KML")),
                         "--as", "samples"], ["swapped.kml", "row 1", "'lon/lat'", "swapped"]),
        ("xy_without_crs_csv", [str(csv_file(d / "utm.csv", "id,name,x,y\nu1,A,585000,2326000\n")), "--as", "occurrences"],
         ["utm.csv", "'x/y'", "without a coordinate reference system"]),
        ("shapefile_without_prj", [str(zipped_shapefile(d / "noprj.zip", [{"id": "s1", "name": "A"}], [P(*HANOI)], None)),
                                   "--as", "occurrences"], ["noprj.zip", "'geometry'", "no coordinate reference system"]),
        ("crs_contradicts_gpkg", [str(vector_file(d / "wgs.gpkg", [{"id": "g1", "name": "A"}], [P(*HANOI)])),
                                  "--as", "occurrences", "--crs", "EPSG:3405"], ["wgs.gpkg", "'geometry'", "contradicts", "EPSG:3405"]),
        ("wrong_zone_csv", [str(csv_file(d / "zone.csv", "id,name,x,y\nz1,A,2326000,585000\n")), "--as", "occurrences",
                            "--crs", "EPSG:3405"], ["zone.csv", "row 1", "'x/y'", "EPSG:3405"]),
        ("unknown_crs_csv", [str(csv_file(d / "crs.csv", "id,name,lon,lat\nc1,A,105.8,21.0\n")), "--as", "occurrences",
                             "--crs", "EPSG:99999"], ["--crs", "EPSG:99999", "unknown coordinate reference system"]),
        ("required_empty_csv", [str(csv_file(d / "noname.csv", "id,name,lon,lat\nn1,A,105.8,21.0\nn2,,105.9,21.1\n")),
                                "--as", "occurrences"], ["noname.csv", "row 2", "'name'", "required value is empty"]),
        ("required_null_geojson", [str(geojson_file(d / "nullname.geojson", [({"id": "g1", "name": None}, pt(*HANOI))])),
                                   "--as", "occurrences"], ["nullname.geojson", "row 1", "'name'", "required value is empty"]),
        ("required_column_missing_gpkg", [str(vector_file(d / "noid.gpkg", [{"label": "A"}], [P(*HANOI)])), "--as", "occurrences"],
         ["noid.gpkg", "'id'", "required field missing"]),
        ("duplicate_id_csv", [str(csv_file(d / "dup.csv", "id,name,lon,lat\nd1,A,105.8,21.0\nd1,B,105.9,21.1\n")),
                              "--as", "occurrences"], ["dup.csv", "row 2", "'id'", "'d1'", "duplicate of row 1"]),
        ("duplicate_id_shapefile", [str(zipped_shapefile(d / "dup.zip", [{"id": "s1", "au": 1.0}, {"id": "s1", "au": 2.0}],
                                                         [P(*HANOI), P(*DONG_PAO)])), "--as", "samples"],
         ["dup.zip", "row 2", "'id'", "'s1'", "duplicate"]),
        ("not_utf8_csv", [str(csv_file(d / "cp1258.csv", "id,name,lon,lat\nc1,Đông,105.8,21.0\n", "cp1258")),
                          "--as", "occurrences"], ["cp1258.csv", "row 1", "not UTF-8", "line 2", "value:"]),
        ("nfd_csv", [str(csv_file(d / "nfd.csv", f"id,name,lon,lat\nn1,{nfd},105.8,21.0\n")), "--as", "occurrences"],
         ["nfd.csv", "row 1", "'name'", "NFC", repr(nfd)]),
        ("nfd_geojson", [str(geojson_file(d / "nfd.geojson", [({"id": "n1", "name": nfd}, pt(*HANOI))])), "--as", "occurrences"],
         ["nfd.geojson", "row 1", "'name'", "NFC"]),
        ("not_a_number_csv", [str(csv_file(d / "ppm.csv", "id,lon,lat,ce_ppm\ns1,105.8,21.0,1200\ns2,105.9,21.1,12 ppm\n"
                                                          "s3,106.0,21.2,30\n")), "--as", "samples"],
         ["ppm.csv", "row 2", "'ce_ppm'", "'12 ppm'", "not a valid real"]),
        ("not_a_number_geojson", [str(geojson_file(d / "lt.geojson", [({"id": "s1", "la_ppm": 10.5}, pt(*HANOI)),
                                                                       ({"id": "s2", "la_ppm": "<0.5"}, pt(*DONG_PAO)),
                                                                       ({"id": "s3", "la_ppm": 7}, pt(*NHA_TRANG))])),
                                  "--as", "samples"], ["lt.geojson", "row 2", "'la_ppm'", "'<0.5'", "not a valid real"]),
        ("decimal_comma_kml", [str(vector_file(d / "comma.kml", [{"id": "k1", "ce": "1,5"}, {"id": "k2", "ce": "2.5"},
                                                                 {"id": "k3", "ce": "3"}],
                                               [P(*HANOI), P(*DONG_PAO), P(*NHA_TRANG)], driver="KML")),
                               "--as", "samples"], ["comma.kml", "row 1", "'ce'", "'1,5'", "not a valid real"]),
        ("no_numeric_field_csv", [str(csv_file(d / "words.csv", "id,lon,lat,note\ns1,105.8,21.0,red\n")), "--as", "samples"],
         ["words.csv", "'id,lon,lat,note'", "numeric field"]),
        ("line_geometry_kml", [str(vector_file(d / "line.kml", [{"id": "l1", "Name": "L"}],
                                               [shapely.LineString([HANOI, DONG_PAO])], driver="KML")),
                               "--as", "occurrences"], ["line.kml", "row 1", "'geometry'", "'LineString'", "not a point"]),
        ("vsi_path", ["/vsicurl/https://example.com/sites.csv", "--as", "occurrences"],
         ["/vsicurl/https://example.com/sites.csv", "'FILE'", "remote or virtual"]),
        ("url_path", ["https://example.com/sites.geojson", "--as", "occurrences"],
         ["https://example.com/sites.geojson", "'FILE'", "remote or virtual"]),
        ("unsupported_format", [str(csv_file(d / "sheet.xlsx", "x")), "--as", "occurrences"],
         ["sheet.xlsx", "unsupported file type", "'.xlsx'"]),
        ("unknown_encoding", [str(csv_file(d / "enc.csv", "id,name,lon,lat\ne1,A,105.8,21.0\n")), "--as", "occurrences",
                              "--encoding", "klingon"], ["--encoding", "'klingon'"]),
        ("project_layer_name", [str(csv_file(d / "deposits.csv", "id,name,lon,lat\ne1,A,105.8,21.0\n")), "--as", "occurrences"],
         ["--name", "'deposits'", "project layer"]),
    ]
    return cases


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("bad")


def test_every_bad_file_exits_2_with_one_line_naming_it(bad_dir):
    cases = _bad_cases(bad_dir)
    assert len(cases) >= 20
    failures = []
    for name, args, expected in cases:  # in this process (the exit status of a real process: the tests below)
        rc, _, err = geo_in_process("import", *args, "--dir", str(bad_dir / "imports"))
        lines = err.strip().splitlines()
        if rc != 2 or len(lines) != 1 or not lines[0].startswith("error: ") \
                or not all(e in lines[0] for e in expected) or "Traceback" in err:
            failures.append(f"{name}: rc={rc} stderr={err.strip()!r} expected {expected}")
    assert not failures, "\n".join(failures)
    assert not (bad_dir / "imports").exists(), "a refused file must write nothing"


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    f = csv_file(tmp_path / "many.csv", "id,name,lon,lat,ce_ppm\n"
                 "a1,A,105.8,21.0,10\na1,,21.0,105.8,20\na3,C,104.5,15.5,x\na4,D,106.0,21.5,40\n")
    res = run_geo("import", str(f), "--as", "samples", "--dir", str(tmp_path / "imports"))
    assert res.returncode == 2
    line = res.stderr.strip()
    assert line.startswith("error: 4 problems"), line
    for expected in ("row 2, field 'id'", "row 2, field 'lon/lat'", "row 3, field 'lon/lat'", "row 3, field 'ce_ppm'"):
        assert expected in line


def test_traceback_only_with_verbose(tmp_path):
    f = csv_file(tmp_path / "dup.csv", "id,name,lon,lat\nd1,A,105.8,21.0\nd1,B,105.9,21.1\n")
    res = run_geo("-v", "import", str(f), "--as", "occurrences", "--dir", str(tmp_path / "imports"))
    assert res.returncode == 2 and "Traceback" in res.stderr


def test_vn2000_coordinates_are_transformed_not_read_as_wgs84(tmp_path):
    """VN-2000 geographic (EPSG:4756) read as WGS 84 would be ~200 m off near Hanoi (pitfalls)."""
    f = csv_file(tmp_path / "vn2000.csv", f"id,name,lon,lat\nh1,Hà Nội,{HANOI[0]},{HANOI[1]}\n")
    res = run_geo("import", str(f), "--as", "occurrences", "--crs", "EPSG:4756", "--dir", str(tmp_path / "imports"))
    assert res.returncode == 0, res.stderr
    got = pyogrio.read_dataframe(tmp_path / "imports" / "vn2000.geojson")
    want = VN_TO_WGS.transform(*HANOI)
    assert got.geometry[0].x == pytest.approx(want[0], abs=1e-6) and got.geometry[0].y == pytest.approx(want[1], abs=1e-6)
    shift = gpd.GeoSeries([shapely.Point(HANOI), got.geometry[0]], crs="EPSG:4326").to_crs("EPSG:3405")
    assert 100 < shift[0].distance(shift[1]) < 400  # metres: the datum shift was applied
    assert got.loc[0, "lon"] == pytest.approx(want[0], abs=1e-6)


GOOD_SAMPLES = [("g1", "Đông Pao", DONG_PAO, 52000.0), ("g2", "Hà Nội", HANOI, 180.5), ("g3", "Nha Trang", NHA_TRANG, 75.0)]


@pytest.fixture(scope="module")
def good_build(tmp_path_factory):
    """Five good files (CSV in VN-2000 / UTM 48N, GeoJSON, KMZ, GeoPackage, zipped Shapefile) imported,
    then a build and exports with the imports directory."""
    d = tmp_path_factory.mktemp("good")
    imports = d / "imports"
    P = shapely.Point
    utm = [WGS_TO_UTM48.transform(*xy) for _, _, xy, _ in GOOD_SAMPLES]  # VN-2000 / UTM 48N, datum shift included
    csv_text = "Mã mẫu,Tên,easting,northing,TREO (ppm)\n" + "".join(
        f"{i},{n},{x:.2f},{y:.2f},{v}\n" for (i, n, _, v), (x, y) in zip(GOOD_SAMPLES, utm))
    files = {
        "field_csv": (csv_file(d / "field samples.csv", csv_text), ["--as", "samples", "--name", "field_csv",
                                                                    "--x", "easting", "--y", "northing", "--crs", "EPSG:3405"]),
        "field_geojson": (geojson_file(d / "field.geojson", [({"id": i, "name": n, "ce_ppm": v}, pt(*xy))
                                                             for i, n, xy, v in GOOD_SAMPLES]),
                          ["--as", "samples", "--name", "field_geojson"]),
        "field_kmz": (vector_file(d / "field.kmz", [{"id": i, "name": n} for i, n, _, _ in GOOD_SAMPLES],
                                  [P(*xy) for _, _, xy, _ in GOOD_SAMPLES], driver="LIBKML"),
                      ["--as", "occurrences", "--name", "field_kmz"]),
        "field_gpkg": (vector_file(d / "field.gpkg", [{"id": i, "name": n, "la_ppm": v} for i, n, _, v in GOOD_SAMPLES],
                                   [P(*WGS_TO_UTM48.transform(*xy)) for _, _, xy, _ in GOOD_SAMPLES], "EPSG:3405"),
                       ["--as", "samples", "--name", "field_gpkg"]),
        "field_shp": (zipped_shapefile(d / "field_shp.zip", [{"id": i, "name": n} for i, n, _, _ in GOOD_SAMPLES],
                                       [P(*xy) for _, _, xy, _ in GOOD_SAMPLES]),
                      ["--as", "occurrences"]),
    }
    for name, (path, args) in files.items():  # imports and exports in this process (the CLI's exit status: above)
        rc, stdout, err = geo_in_process("import", str(path), *args, "--dir", str(imports))
        assert rc == 0, f"{name}: {err}"
        assert stdout.split() == [str(imports / f"{name}.geojson"), str(imports / "catalog" / f"{name}.toml")]
    out = d / "build"
    res = run_geo("--imports", str(imports), "build", "--out", str(out), "--resolution", "5000", "--offline",
                  timeout=600)
    assert res.returncode == 0, res.stderr
    exports = {}
    for fmt in ("geojson", "kml", "shp", "csv"):
        rc, stdout, err = geo_in_process("--imports", str(imports), "export", "--format", fmt, "--layers",
                                         ",".join(files), "--out", str(d / "export" / fmt))
        assert rc == 0, err
        exports[fmt] = [Path(p) for p in stdout.split()]
    return files, imports, out, exports


def test_good_files_in_five_formats_reach_the_geopackage(good_build):
    files, imports, out, _ = good_build
    gpkg = out / "vietnam_ree.gpkg"
    for name in files:
        frame = pyogrio.read_dataframe(gpkg, layer=name)
        assert len(frame) == 3, name
        assert sorted(frame["id"]) == ["g1", "g2", "g3"], name
        assert frame.crs.to_epsg() == 4326
        for (i, n, xy, _), (_, row) in zip(GOOD_SAMPLES, frame.sort_values("id").iterrows()):
            # every format lands within 1 m of the site (the CSV went through VN-2000 / UTM 48N)
            assert abs(row.geometry.x - xy[0]) < 1e-5 and abs(row.geometry.y - xy[1]) < 1e-5, (name, i)
            assert row["name"] == n if "name" in frame else True
    info = pyogrio.read_info(gpkg, layer="field_csv")
    types = dict(zip(info["fields"], info["dtypes"]))
    assert types["treo_ppm"] == "float64" and types["name"] == "object"
    styles = pyogrio.read_dataframe(gpkg, layer="layer_styles")
    assert set(files) <= set(styles["f_table_name"])


def test_imported_samples_are_a_typed_vector_file_for_point_values(good_build):
    """The file a user model reads as `point_values` evidence: GDAL-readable, numbers typed as numbers."""
    _, imports, _, _ = good_build
    info = pyogrio.read_info(imports / "field_geojson.geojson")
    assert info["geometry_type"] == "Point" and info["crs"] == "EPSG:4326"
    assert dict(zip(info["fields"], info["dtypes"]))["ce_ppm"] == "float64"
    frame = pyogrio.read_dataframe(imports / "field_geojson.geojson")
    assert sorted(frame["ce_ppm"]) == [75.0, 180.5, 52000.0]


def test_good_files_appear_on_the_national_map_with_a_legend_row(good_build):
    files, imports, out, _ = good_build
    html = (out / "maps" / "national.html").read_text(encoding="utf-8")
    for name, (_, args) in files.items():
        kind = args[args.index("--as") + 1]
        assert f"Imported {kind}: {name}" in html, name
    assert "Nha Trang" in html and "#E69F00" in html and "#56B4E9" in html


def test_good_files_appear_in_the_exports(good_build):
    files, _, _, exports = good_build
    for fmt, paths in exports.items():
        assert sorted(p.stem for p in paths) == sorted(files), fmt
        for p in paths:
            assert p.is_file() and p.stat().st_size > 0
    for p in exports["geojson"]:
        frame = pyogrio.read_dataframe(p)
        assert len(frame) == 3 and frame.crs.to_epsg() == 4326
    kml = exports["kml"][0].read_text(encoding="utf-8")
    assert "<Placemark" in kml and "Đông Pao" in kml


def test_validate_checks_the_imported_layers(good_build):
    _, imports, _, _ = good_build
    res = run_geo("--imports", str(imports), "validate")
    assert res.returncode == 0, res.stderr
    assert "layers" in res.stdout


@pytest.mark.parametrize("viewport", [(1400, 900), (390, 844)])
def test_imported_layers_in_the_browser_legend_and_control(good_build, viewport):
    """The offline national map in headless Chromium: the imported layers have their legend rows and
    layer-control entries, and the page loads without errors (screenshots in build/screenshots/)."""
    from conftest import ROOT
    from maps.headless import chromium
    skip_without("chromium")
    files, _, out, _ = good_build
    with chromium(viewport) as ctx:
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((out / "maps" / "national.html").resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => window.REE && REE.ready !== null")
        # text, not rendered text: on a phone the legend and the layer control start folded
        legend = page.locator(".ree-legend-row").all_text_contents()
        control = page.locator(".leaflet-control-layers-overlays").text_content()
        shots = ROOT / "build" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"national_imports_{viewport[0]}x{viewport[1]}.png"))
    assert errors == []
    for name, (_, args) in files.items():
        kind = args[args.index("--as") + 1]
        title = f"{KINDS[kind].title.vi}: {name}"  # Vietnamese is the page's default language
        assert any(title in row for row in legend), (name, legend)
        assert title in control, name

