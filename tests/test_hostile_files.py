"""Hostile user files (issue 22): a corpus made in code, each fed to `geo import` as a user would.

Every refusal: exit 2, one line naming the user's file (never a generated one), and the imports
directory byte-identical (hashed before and after, holding an earlier good import). Files that are
odd but fair (a 200,000-character cell, control characters and line breaks in a file name or a
header, UTF-16 or Windows-1258 text with --encoding) are imported and read back exactly.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from conftest import geo_in_process, run_geo
from geo.files.tomlfile import read_toml

HANOI = (105.8342, 21.0278)
DONG_PAO = (103.55, 22.30)


def _sha(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _geojson(path: Path, props: list[dict], encoding: str = "utf-8") -> Path:
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": {"type": "Point", "coordinates": list(HANOI)}} for p in props]}
    path.write_bytes(json.dumps(fc, ensure_ascii=False).encode(encoding))
    return path


def _zip(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _shapefile_zip(path: Path, rows: list[dict], cpg: bool = True, dbf_encoding: str = "UTF-8") -> Path:
    """A zipped Shapefile whose DBF text is in ``dbf_encoding`` (written by GDAL), with or without its .cpg."""
    d = path.parent / f"{path.stem}_parts"
    d.mkdir()
    frame = gpd.GeoDataFrame(rows, geometry=[shapely.Point(HANOI)] * len(rows), crs="EPSG:4326")
    pyogrio.write_dataframe(frame, d / "sites.shp", driver="ESRI Shapefile", encoding=dbf_encoding)
    if not cpg:
        (d / "sites.cpg").unlink(missing_ok=True)
    return _zip(path, {p.name: p.read_bytes() for p in sorted(d.iterdir())})


def _bomb(path: Path, inner: str, mib: int) -> Path:
    """A zip whose one member unpacks to ``mib`` MiB of zeros (packed about 1,000 times)."""
    return _zip(path, {inner: bytes(mib << 20)})


def _corpus(d: Path) -> list[tuple[str, list[str], list[str]]]:
    """(case, CLI args after `import`, strings the one error line must contain)."""
    occ = ["--as", "occurrences"]
    return [
        ("header_only_csv", [str(_csv(d / "header.csv", "id,name,lon,lat\n")), *occ],
         ["header.csv", "no data rows", "only a header"]),
        ("header_and_blank_rows_csv", [str(_csv(d / "blank.csv", "id,name,lon,lat\n,,,\n\n")), *occ],
         ["blank.csv", "no data rows"]),
        ("zero_byte_csv", [str(_csv(d / "zero.csv", "")), *occ], ["zero.csv", "empty file (0 bytes)"]),
        ("zero_byte_geojson", [str(_csv(d / "zero.geojson", "")), *occ], ["zero.geojson", "empty file (0 bytes)"]),
        ("zero_byte_zip", [str(_csv(d / "zero.zip", "")), *occ], ["zero.zip", "empty file (0 bytes)"]),
        ("no_features_geojson", [str(_geojson(d / "none.geojson", [])), *occ], ["none.geojson", "no data rows"]),
        ("not_a_zip", [str(_csv(d / "fake.zip", "id,name,lon,lat\n")), *occ],
         ["fake.zip", "not a zip archive", "zipped Shapefile"]),
        ("not_a_kmz", [str(_csv(d / "fake.kmz", "<kml/>")), *occ], ["fake.kmz", "not a zip archive", "KMZ"]),
        ("zipped_shapefile_bomb", [str(_bomb(d / "bomb.zip", "sites.dbf", 64)), *occ],
         ["bomb.zip", "field 'sites.dbf'", "ratio", "zip bomb"]),
        ("kmz_bomb", [str(_bomb(d / "bomb.kmz", "doc.kml", 64)), *occ], ["bomb.kmz", "field 'doc.kml'", "zip bomb"]),
        ("utf16_geojson", [str(_geojson(d / "utf16.geojson", [{"id": "a", "name": "Đông Pao"}], "utf-16")), *occ],
         ["utf16.geojson", "UTF-16", "RFC 8259"]),
        ("cp1258_geojson", [str(_geojson(d / "cp1258.geojson", [{"id": "a", "name": "Đông Pao"}], "cp1258")), *occ],
         ["cp1258.geojson", "not UTF-8", "line 1"]),
        ("utf16_csv_without_encoding", [str(_csv(d / "utf16.csv", "id,name,lon,lat\na,Đông Pao,103.55,22.3\n",
                                                 "utf-16")), *occ],
         ["utf16.csv", "UTF-16", "--encoding utf-16"]),
        ("cp1258_shapefile_without_cpg", [str(_shapefile_zip(d / "cp1258.zip", [{"id": "a", "name": "Đông Pao"}],
                                                             cpg=False, dbf_encoding="cp1258")), *occ],
         ["cp1258.zip", "row 1", "field 'name'", "no .cpg", "not UTF-8", "--encoding", "cp1258"]),
        ("damaged_zip", [str(_damaged_zip(d / "damaged.zip")), *occ], ["damaged.zip"]),
        ("kmz_whose_headers_lie", [str(_lying_kmz(d / "lie.kmz")), *occ], ["lie.kmz", "GDAL cannot read it", "1000"]),
    ]


def _lying_kmz(path: Path) -> Path:
    """A KMZ whose headers declare 1,000 bytes for a 30 MB doc.kml: GDAL reads no more than declared."""
    kml = b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>' + b" " * (30 << 20)
    _zip(path, {"doc.kml": kml + b"</Document></kml>"})
    raw = bytearray(path.read_bytes())
    struct.pack_into("<I", raw, 22, 1000)  # local header: uncompressed size
    struct.pack_into("<I", raw, raw.rfind(b"PK\x01\x02") + 24, 1000)  # central directory: the same
    path.write_bytes(bytes(raw))
    return path


def _damaged_zip(path: Path) -> Path:
    """A zipped Shapefile with its DBF's bytes flipped inside the archive (CRC no longer matches)."""
    good = _shapefile_zip(path.with_name("for_damage.zip"), [{"id": "a", "name": "A"}], cpg=False)
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("sites.dbf")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start, start + min(info.compress_size, 40)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def imports_dir(tmp_path_factory):
    """An imports directory holding one good earlier import, that every refusal must leave as it is."""
    d = tmp_path_factory.mktemp("hostile")
    good = _csv(d / "earlier.csv", f"id,name,lon,lat\ne1,Đông Pao,{DONG_PAO[0]},{DONG_PAO[1]}\n")
    rc, _, err = geo_in_process("import", str(good), "--as", "occurrences", "--dir", str(d / "imports"))
    assert rc == 0, err
    return d


def test_hostile_files_exit_2_with_one_line_and_write_nothing(imports_dir):
    d = imports_dir
    before = _sha(d / "imports")
    failures = []
    for case, args, expected in _corpus(d):
        start = time.monotonic()
        rc, _, err = geo_in_process("import", *args, "--dir", str(d / "imports"))
        lines = err.strip().splitlines()
        if rc != 2 or len(lines) != 1 or not lines[0].startswith("error: ") or not all(e in lines[0] for e in expected):
            failures.append(f"{case}: rc={rc} {err.strip()[:400]!r} expected {expected}")
        if "geo-tmp" in err or "staged" in err:
            failures.append(f"{case}: the message names a generated file: {err.strip()[:300]}")
        if time.monotonic() - start > 30:
            failures.append(f"{case}: took {time.monotonic() - start:.0f} s")
    assert not failures, "\n".join(failures)
    assert _sha(d / "imports") == before
    assert not [p for p in (d / "imports").rglob(".*")], "temporaries left behind"


def test_a_refusal_from_a_real_process_is_one_line(tmp_path):
    bomb = _bomb(tmp_path / "bomb.kmz", "doc.kml", 64)
    res = run_geo("import", str(bomb), "--as", "occurrences", "--dir", str(tmp_path / "imports"))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "zip bomb" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "imports").exists()


def test_zip_unpacking_beyond_the_size_limit_is_refused(tmp_path, monkeypatch):
    """The total limit (1 GiB) checked on the zip's directory, before anything is unpacked (lowered here)."""
    import geo.files.userfiles
    monkeypatch.setattr(geo.files.userfiles, "MAX_UNZIPPED_BYTES", 1 << 20)
    big = _zip(tmp_path / "big.zip", {"sites.shp": os.urandom(700_000), "sites.dbf": os.urandom(700_000)},
               zipfile.ZIP_STORED)
    rc, _, err = geo_in_process("import", str(big), "--as", "occurrences", "--dir", str(tmp_path / "imports"))
    assert rc == 2 and "big.zip: would unpack to 1.3 MiB (limit 1.0 MiB)" in err, err


def test_encodings_named_with_encoding_are_decoded(tmp_path):
    """UTF-16 CSV and a Windows-1258 Shapefile without .cpg import with --encoding, 'Đông Pao' intact."""
    csv16 = _csv(tmp_path / "utf16.csv", f"id,name,lon,lat\na,Đông Pao,{DONG_PAO[0]},{DONG_PAO[1]}\n", "utf-16")
    shp = _shapefile_zip(tmp_path / "cp1258.zip", [{"id": "a", "name": "Đông Pao"}], cpg=False, dbf_encoding="cp1258")
    for path, name, enc in ((csv16, "from_csv", "utf-16"), (shp, "from_shp", "cp1258")):
        rc, _, err = geo_in_process("import", str(path), "--as", "occurrences", "--encoding", enc, "--name", name,
                                    "--dir", str(tmp_path / "imports"))
        assert rc == 0, err
        assert list(pyogrio.read_dataframe(tmp_path / "imports" / f"{name}.geojson")["name"]) == ["Đông Pao"]


def test_a_utf8_shapefile_without_cpg_is_read_as_utf8(tmp_path):
    """GDAL would read a DBF with no .cpg as Latin-1 ('Ä\x90Ã´ng'): its UTF-8 text is detected and kept."""
    shp = _shapefile_zip(tmp_path / "utf8.zip", [{"id": "a", "name": "Đông Pao"}], cpg=False)
    rc, _, err = geo_in_process("import", str(shp), "--as", "occurrences", "--dir", str(tmp_path / "imports"))
    assert rc == 0, err
    assert list(pyogrio.read_dataframe(tmp_path / "imports" / "utf8.geojson")["name"]) == ["Đông Pao"]


def test_a_cell_beyond_pythons_csv_field_limit_is_read(tmp_path):
    """Python's csv module stops at 131,072 characters by default: a long description is read whole."""
    long = "Đ" + "a" * 200_000
    text = f'id,name,note,lon,lat\na,A,"{long}",{DONG_PAO[0]},{DONG_PAO[1]}\n'
    rc, _, err = geo_in_process("import", str(_csv(tmp_path / "long.csv", text)), "--as", "occurrences",
                                "--dir", str(tmp_path / "imports"))
    assert rc == 0, err
    assert pyogrio.read_dataframe(tmp_path / "imports" / "long.geojson")["note"][0] == long


def test_a_long_cell_in_the_project_sources_is_read(tmp_path):
    from conftest import copy_sources
    catalog = copy_sources(tmp_path / "layers")
    path = tmp_path / "layers/sources/deposits.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    col = rows[0].index("location_note") if "location_note" in rows[0] else rows[0].index("name_en")
    rows[1][col] = "x" * 200_000
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    rc, _, err = geo_in_process("--catalog", str(catalog), "validate")
    assert rc == 0, err[:500]


def test_a_million_bad_rows_make_one_short_line(tmp_path):
    """At most 20 problems are written out, then the count of the rest (not a 230 MB line)."""
    n = 100_000
    body = "".join(f"s{i},{i},abc\n" for i in range(n))  # lon/lat far outside Vietnam
    f = _csv(tmp_path / "many.csv", "id,lon,lat\n" + body)
    rc, _, err = geo_in_process("import", str(f), "--as", "samples", "--dir", str(tmp_path / "imports"))
    assert rc == 2
    line = err.strip()
    assert len(line.splitlines()) == 1 and len(line) < 20_000, len(line)
    assert "(20) " in line and "(21) " not in line and "more problems (the first 20 are shown)" in line, line[-300:]


def test_a_long_value_is_cut_in_the_message(tmp_path):
    f = _csv(tmp_path / "ctl.csv", f"id,name,lon,lat\na,{'x' * 5000}\x01,{DONG_PAO[0]},{DONG_PAO[1]}\n")
    rc, _, err = geo_in_process("import", str(f), "--as", "occurrences", "--dir", str(tmp_path / "imports"))
    assert rc == 2 and "(5,001 characters)" in err and len(err) < 1500, err


# ---- generated declarations and the catalog's temporaries ----

NASTY_NAME = 'we ird\nna\x7fme\r"q" \\ [x] = 1.csv'
NASTY_HEADER = 'TREO\r\n(ppm)\x7f "q" = [1]'


def test_control_characters_and_newlines_round_trip_through_the_declaration(tmp_path):
    """A file name and a header with a newline, CR, DEL, quotes, brackets and '=' (the probe's finding 5: an
    extra key, an unreadable declaration): the declaration is written by a TOML writer and reads back exactly."""
    f = tmp_path / NASTY_NAME
    with f.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([["id", "name", NASTY_HEADER, "lon", "lat"],
                                                        ["a", "Đông Pao", "5200", DONG_PAO[0], DONG_PAO[1]]])
    imports = tmp_path / "imports"
    rc, out, err = geo_in_process("import", str(f), "--as", "occurrences", "--name", "nasty", "--dir", str(imports))
    assert rc == 0, err
    decl = read_toml(imports / "catalog" / "nasty.toml")
    assert decl["attribution"] == f"{NASTY_NAME} (user data)"
    assert NASTY_NAME in decl["description"]["en"]
    assert set(decl) == {"name", "geometry", "title", "description", "attribution", "licence", "order", "source",
                         "style", "fields"}, "a user's text added a key"
    aliases = {fd["name"]: fd["alias"]["en"] for fd in decl["fields"]}
    assert aliases["treo_ppm_q_1"] == NASTY_HEADER
    rc, _, err = geo_in_process("--imports", str(imports), "validate")
    assert rc == 0, err


def test_the_declaration_is_written_by_a_toml_writer():
    import layers.imports
    src = Path(layers.imports.__file__).read_text(encoding="utf-8")
    assert "tomli_w.dumps" in src and "_toml_text" not in src


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_killed_imports_temporary_is_not_a_declaration_and_is_swept(tmp_path):
    """An import killed between its renames left `.NAME.geo-tmp-PID-….toml`: the catalog skips dot-files, so
    every command still works, and the next import's sweep removes it."""
    imports = tmp_path / "imports"
    good = _csv(tmp_path / "first.csv", f"id,name,lon,lat\na,A,{DONG_PAO[0]},{DONG_PAO[1]}\n")
    assert geo_in_process("import", str(good), "--as", "occurrences", "--dir", str(imports))[0] == 0
    dead = imports / "catalog" / f".first.geo-tmp-{_dead_pid()}-abcd1234.toml"
    dead.write_text('name = "half written', encoding="utf-8")
    rc, _, err = geo_in_process("--imports", str(imports), "validate")
    assert rc == 0, err
    second = _csv(tmp_path / "second.csv", f"id,name,lon,lat\nb,B,{HANOI[0]},{HANOI[1]}\n")
    res = run_geo("import", str(second), "--as", "occurrences", "--dir", str(imports))  # a new process sweeps
    assert res.returncode == 0, res.stderr
    assert not dead.exists()


def test_a_declaration_that_would_not_load_publishes_nothing(tmp_path, monkeypatch):
    """All or nothing: the staged data and declaration are checked together; a declaration the catalog
    refuses leaves the earlier layer as it was, and the message names the user's file."""
    import layers.imports
    imports = tmp_path / "imports"
    first = _csv(tmp_path / "sites.csv", f"id,name,lon,lat\na,A,{DONG_PAO[0]},{DONG_PAO[1]}\n")
    assert geo_in_process("import", str(first), "--as", "occurrences", "--dir", str(imports))[0] == 0
    before = _sha(imports)
    real = layers.imports.declaration
    monkeypatch.setattr(layers.imports, "declaration", lambda *a: real(*a).replace('geometry = "Point"',
                                                                                 'geometry = "Blob"'))
    second = _csv(tmp_path / "sites2.csv", f"id,name,lon,lat\nb,B,{HANOI[0]},{HANOI[1]}\n")
    rc, _, err = geo_in_process("import", str(second), "--as", "occurrences", "--name", "sites", "--dir", str(imports))
    assert rc == 2 and err.startswith(f"error: {second}: cannot be kept as a layer"), err
    assert "geo-tmp" not in err and len(err.strip().splitlines()) == 1
    assert _sha(imports) == before
    assert not [p for p in imports.rglob(".*")]


def test_a_reimport_killed_between_renames_leaves_no_mismatched_layer(tmp_path, monkeypatch):
    """The old declaration goes first, then the data, then the new declaration: a failure between the two
    moves leaves a data file without a declaration (no layer), never a declaration of other fields."""
    import layers.imports
    imports = tmp_path / "imports"
    first = _csv(tmp_path / "sites.csv", f"id,name,lon,lat\na,A,{DONG_PAO[0]},{DONG_PAO[1]}\n")
    assert geo_in_process("import", str(first), "--as", "occurrences", "--dir", str(imports))[0] == 0
    calls = []
    real = os.replace

    def dies_on_second(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise RuntimeError("killed")  # as a kill between the two renames
        real(src, dst)
    monkeypatch.setattr(layers.imports.os, "replace", dies_on_second)
    second = _csv(tmp_path / "sites2.csv", f"id,name,extra,lon,lat\nb,B,x,{HANOI[0]},{HANOI[1]}\n")
    with pytest.raises(RuntimeError, match="killed"):
        geo_in_process("import", str(second), "--as", "occurrences", "--name", "sites", "--dir", str(imports))
    monkeypatch.undo()
    assert not (imports / "catalog" / "sites.toml").exists()
    rc, _, err = geo_in_process("--imports", str(imports), "validate")
    assert rc == 0, err


# ---- CSV exports: spreadsheet-safe ----

FORMULAS = ['=HYPERLINK("http://127.0.0.1/x","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3*cmd"]


@pytest.fixture(scope="module")
def formula_imports(tmp_path_factory):
    d = tmp_path_factory.mktemp("formulas")
    lines = ["id,name,ce_ppm,lon,lat"]
    lines += [f'f{i},"{v.replace(chr(34), chr(34) * 2)}",{-5.5 + i},{DONG_PAO[0] + i / 100},{DONG_PAO[1]}'
              for i, v in enumerate(FORMULAS)]
    lines.append(f"-12.5,plain,7,{HANOI[0]},{HANOI[1]}")
    f = _csv(d / "formulas.csv", "\n".join(lines) + "\n")
    rc, _, err = geo_in_process("import", str(f), "--as", "samples", "--dir", str(d / "imports"))
    assert rc == 0, err
    return d


@pytest.mark.parametrize("raw", [False, True])
def test_csv_export_neutralises_formula_cells_unless_raw(formula_imports, raw):
    d = formula_imports
    out = d / f"export_{raw}"
    rc, stdout, err = geo_in_process("--imports", str(d / "imports"), "export", "--format", "csv", "--layers",
                                     "formulas", "--out", str(out), *(["--raw"] if raw else []))
    assert rc == 0, err
    rows = list(csv.DictReader(io.StringIO((out / "formulas.csv").read_text(encoding="utf-8"), newline="")))
    names = [r["name"] for r in rows]
    assert names == [*(FORMULAS if raw else ["'" + v for v in FORMULAS]), "plain"]
    assert [r["id"] for r in rows][-1] == "-12.5", "a number in a text column is not a formula"
    assert [float(r["ce_ppm"]) for r in rows] == [-5.5, -4.5, -3.5, -2.5, 7.0], "numbers stay numbers"
    assert all(not r["ce_ppm"].startswith("'") for r in rows)


def test_spreadsheet_safe_covers_tab_and_carriage_return():
    from maps.export import spreadsheet_safe
    assert spreadsheet_safe("\tx") == "'\tx" and spreadsheet_safe("\r=1") == "'\r=1"
    assert spreadsheet_safe("-1e5") == "-1e5" and spreadsheet_safe(-3.0) == -3.0 and spreadsheet_safe("Đông") == "Đông"


# ---- a dense imported layer on the web map ----

def test_a_dense_point_layer_is_a_density_grid_with_its_legend_row(tmp_path, monkeypatch, project):
    """Above MAX_WEB_POINTS a point layer is drawn as counted cells (lowered here to 50 points), said in the
    legend; the page does not carry one marker per point."""
    import maps.web.density
    from layers.imports import with_imports
    from maps.composition import load_compositions
    from maps.web.render import page_html, render
    catalog, frames, _ = project
    n = 60
    lines = ["id,lon,lat,ce_ppm"] + [f"p{i},{DONG_PAO[0] + (i % 10) / 500},{DONG_PAO[1] + (i // 10) / 500},{i}"
                                     for i in range(n)]
    f = _csv(tmp_path / "dense.csv", "\n".join(lines) + "\n")
    assert geo_in_process("import", str(f), "--as", "samples", "--dir", str(tmp_path / "imports"))[0] == 0
    cat = with_imports(catalog, tmp_path / "imports")
    monkeypatch.setattr(maps.web.density, "MAX_WEB_POINTS", 50)
    from layers.load import load_layers
    dense = load_layers(cat)["dense"]
    html = page_html(render(load_compositions(cat)["national"], cat, {**frames, "dense": dense}, offline=False))
    assert "density grid, 10–99 points per ~6 km cell (60 points, all in the GeoPackage)" in html
    assert "p59" not in html, "one marker per point was drawn"
