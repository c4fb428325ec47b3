"""Mutation fuzzing of every source file type: each case ends in success or in one line, exit 2.

Seeded byte flips, line deletions and duplications, column swaps and cell replacements over the
CSV sources, the TOML declarations and rules, the GeoJSON base files (through `geo validate` on a
copy of the catalog and sources), the model TOML (through its loader), a user's model folder (its TOML,
with hostile paths, bands and distances, and the XML of a VRT it reads, with sources swapped for
/etc/passwd, `..` escapes and /vsicurl/ URLs at 127.0.0.1 only) and `geo` command lines (seeded
arguments: non-finite and out-of-range numbers, hostile paths, worker counts). Cases run in-process on
two forked workers until a wall-time budget is spent and at least MIN_CASES ran (at most three budgets) (the seeded sequence is the same everywhere; a
slower machine runs fewer of its cases; the workers compute `validate`'s grid tables at 20 km instead of
the spec's 2 km, the same code on 100x fewer cells). A case that `geo validate` refuses is also run as
`geo build` over a previous build's outputs, which must stay byte-identical.

`geo import` files (issue 22): seeded mutations (byte flips and inserts, truncation, line deletion and
duplication, CSV cells) of good CSV, GeoJSON, KML, KMZ, GeoPackage and zipped Shapefile files, each imported
in this process for ``FUZZ_IMPORT_BUDGET_S`` seconds: exit 0, or exit 2 with one line and nothing written.
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import multiprocessing
import os
import random
import re
import shutil
import time
import zipfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from conftest import ROOT, copy_sources

SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
BUDGET_S = float(os.environ.get("FUZZ_BUDGET_S", "30"))  # make test; a long hunt: FUZZ_BUDGET_S=3600
MAX_CASES = 2000
MIN_CASES = 40  # a slow or busy machine (make test runs modules side by side) runs on until it has these,
HARD_FACTOR = 3  # for at most this many budgets
WORKERS = 2
MUTATIONS = ("byte_flip", "line_delete", "line_duplicate", "column_swap", "cell_replace")
CSV_VALUES = ["", "nan", "NaN", "inf", "-inf", "-1", "0", "1e999", "99999999999999999999999999999999",
              "9223372036854775808", "abc", "Đông\x00Pao", " padded", "x;", ";", '"', "2024-13-45", "true",
              "yes", "🙂", "\x1b[31m", "103.5;22.3", "r1;;r2", "<script>alert(1)</script>", "{{ 7*7 }}"]
TOML_VALUES = ["nan", "inf", "-1", "0", "1e400", "99999999999999999999999", '"x"', '""', "[]", "{}", "true",
               "[1, 2]", '["x", 3]', '{ vi = "a" }', '"Đông\\u0000Pao"', "2024-01-01", '"#GGGGGG"', "-0.5", "1.5"]
JSON_VALUES = [None, "", "x", 0, -1, 1e308, -1e308, 99999999999999999999999, True, [], {}, "Đông\x00Pao", 3.5]
MODEL_VALUES = ['"/etc/passwd"', '"../dem.tif"', '"/vsicurl/http://127.0.0.1:9/x.tif"', '"ok.vrt"', '"dem.tif"',
                '"faults.gpkg"', "0", "2", "1e12", "99999999999999999999", "-5", '"relief"', '"slope"', '"table"',
                "{ function = \"linear\", x0 = 0, x1 = 0 }", "{ function = \"sigmoid\", midpoint = 1, spread = 0 }"]
VRT_SOURCES = ["/etc/passwd", "../dem.tif", "/vsicurl/http://127.0.0.1:9/x.tif", "/vsizip/x.zip/a.tif", "ok.vrt",
               "dem.tif", "faults.gpkg", 'HDF5:"x.h5"://a', "", "\x00", "http://127.0.0.1:9/a.tif"]
# `geo` command lines: a command and options drawn from these (every grid request stays coarse or is refused)
CLI_COMMANDS = {
    "grid": ["--resolution", "--types", "--jobs", "--scheduler", "--evidence", "--model", "--out"],
    "build": ["--resolution", "--jobs", "--out", "--types"],
    "explain": ["--resolution", "--model"],
    "map": ["--out"],
    "export": ["--format", "--layers", "--crs", "--out"],
    "validate": [],
    "layers": [],
}
CLI_VALUES = {
    "--resolution": ["nan", "inf", "-inf", "1e309", "0", "-1", "0.5", "1", "5", "abc", "", "20000", "50000", "1e5",
                     "100001", "9" * 400],
    "--types": ["", ",", "coastal_placer", "nope", "coastal_placer,nope", "\x00"],
    "--jobs": ["0", "-1", "1", "2", "100000", "99999999999999999999999", "x", "1.5"],
    "--scheduler": ["local:0", "local:x", "local:", "local:-1", "nope", ""],
    "--evidence": ["{d}/usermodel/dem.tif", "{d}/usermodel/ok.vrt", "/etc/passwd", "/vsicurl/http://127.0.0.1:9/x",
                   "", "{d}/missing.tif", "{d}"],
    "--model": ["{d}/usermodel/model.toml", "/etc/passwd", "", "/vsicurl/http://127.0.0.1:9/m.toml", "{d}",
                "{d}/usermodel/dem.tif"],
    "--out": ["{d}/out-cli", "", " ", ".", "/vsimem/x", "https://127.0.0.1:9/x", "{d}/usermodel/dem.tif/sub",
              "{project}/maps", "{project}"],
    "--format": ["gpkg", "csv", "nope", ""],
    "--layers": ["deposits", "nope", "", ",", "deposits,deposits"],
    "--crs": ["EPSG:4326", "EPSG:3405", "EPSG:999999", "nope", ""],
}
POSITIONAL = {"explain": [["coastal_placer", "weathering_crust", "nope", ""], ["999", "nan", "105.5", "-inf", "1e309", "x"],
                          ["999", "nan", "21.0", "inf", "-91", "x"]],
              "map": [["coastal", "nope", "", "../x"]]}


def _sha(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _targets(root: Path) -> list[tuple[str, str]]:
    """(kind, path relative to the data root) of every source file the project reads."""
    out = [("csv", str(p.relative_to(root))) for p in sorted((root / "sources").glob("*.csv"))]
    out += [("csv", "base/province_crosswalk.csv"), ("toml", "sources/prospect_zones.toml")]
    out += [("toml", str(p.relative_to(root))) for p in sorted((root / "catalog").glob("*.toml"))]
    out += [("geojson", str(p.relative_to(root))) for p in sorted((root / "base").glob("*.geojson"))]
    out += [("model", "models/prospectivity.toml"), ("usermodel", "usermodel/model.toml"), ("vrt", "usermodel/ok.vrt")]
    return out + [("cli", "")]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


_ASSIGN = re.compile(rb"^(\s*[A-Za-z0-9_.\"-]+\s*=\s*)(.*?)(\r?\n?)$")


def _mutate(rng: random.Random, kind: str, data: bytes) -> tuple[str, bytes]:
    """One seeded mutation of a file's bytes: (description, new bytes)."""
    how = rng.choice(MUTATIONS)
    lines = _lines(data)
    if how == "byte_flip" or not lines:
        pos = rng.randrange(len(data))
        new = rng.choice([rng.randrange(256), data[pos] ^ (1 << rng.randrange(8))])
        return f"byte_flip@{pos}={new}", data[:pos] + bytes([new]) + data[pos + 1:]
    if how in ("line_delete", "line_duplicate"):
        i = rng.randrange(len(lines))
        lines[i:i + 1] = [] if how == "line_delete" else [lines[i], lines[i]]
        return f"{how}@{i + 1}", b"".join(lines)
    if kind == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline="")))
        r = rng.randrange(len(rows)) if rng.random() < 0.2 or len(rows) < 2 else rng.randrange(1, len(rows))
        row = rows[r]
        if not row:
            return "noop", data
        a, b = rng.randrange(len(row)), rng.randrange(len(row))
        if how == "column_swap":
            row[a], row[b] = row[b], row[a]
        else:
            other = rows[rng.randrange(len(rows))]
            row[a] = rng.choice(CSV_VALUES + ([rng.choice(other)] if other else []))
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        return f"{how}@row{r}:{a},{b}", buf.getvalue().encode("utf-8")
    if kind in ("toml", "model", "usermodel"):
        assign = [i for i, line in enumerate(lines) if _ASSIGN.match(line)]
        if len(assign) < 2:
            return "noop", data
        i, j = rng.sample(assign, 2)
        mi, mj = _ASSIGN.match(lines[i]), _ASSIGN.match(lines[j])
        if how == "column_swap":
            lines[i] = mi.group(1) + mj.group(2) + mi.group(3)
            lines[j] = mj.group(1) + mi.group(2) + mj.group(3)
        else:
            values = TOML_VALUES + (MODEL_VALUES * 2 if kind == "usermodel" else [])
            lines[i] = mi.group(1) + rng.choice(values).encode("utf-8") + mi.group(3)
        return f"{how}@line{i + 1}", b"".join(lines)
    if kind == "vrt":  # XML: swap a source for a hostile one, or flip its relativeToVRT
        text = data.decode("utf-8")
        if how in ("cell_replace", "column_swap"):
            src = rng.choice(VRT_SOURCES)
            text = re.sub(r"(<SourceFilename[^>]*>)[^<]*(</SourceFilename>)", lambda m: m[1] + src + m[2], text, count=1)
            if rng.random() < 0.5:
                text = text.replace('relativeToVRT="1"', 'relativeToVRT="0"')
            return f"source={src!r}", text.encode("utf-8")
        return "noop", data
    doc = json.loads(data)  # GeoJSON
    feats = doc.get("features") or []
    if not feats:
        return "noop", data
    k = rng.randrange(len(feats))
    props = feats[k].get("properties") or {}
    keys = list(props)
    if how == "column_swap" and len(keys) >= 2:
        a, b = rng.sample(keys, 2)
        props[a], props[b] = props[b], props[a]
    elif how == "cell_replace" and keys and rng.random() < 0.6:
        props[rng.choice(keys)] = rng.choice(JSON_VALUES)
    else:  # a coordinate, or the whole geometry of another feature
        geom = feats[k].get("geometry")
        if geom and rng.random() < 0.5:
            node = geom["coordinates"]
            while isinstance(node, list) and node and isinstance(node[0], list):
                node = rng.choice(node)
            if isinstance(node, list) and node:
                node[rng.randrange(len(node))] = rng.choice(JSON_VALUES)
        else:
            feats[k]["geometry"] = feats[rng.randrange(len(feats))].get("geometry") if rng.random() < 0.5 else None
    return f"{how}@feature{k}", json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _cases(root: Path, targets):
    """The seeded sequence of cases: (index, kind, file, description, bytes)."""
    rng = random.Random(SEED)
    originals = {rel: (root / rel).read_bytes() for kind, rel in targets if kind != "cli"}
    by_kind: dict[str, list[str]] = {}
    for kind, rel in targets:
        by_kind.setdefault(kind, []).append(rel)
    for i in range(MAX_CASES):
        kind = rng.choice(sorted(by_kind))
        rel = rng.choice(by_kind[kind])
        if kind == "cli":
            args = _cli_args(rng)
            yield i, kind, rel, " ".join(map(repr, args)), json.dumps(args).encode("utf-8")
            continue
        what, data = _mutate(rng, kind, originals[rel])
        yield i, kind, rel, what, data


def _cli_args(rng: random.Random) -> list[str]:
    """A seeded `geo` command line ({d}: the worker's data folder, {project}: the project)."""
    cmd = rng.choice(sorted(CLI_COMMANDS))
    args = [cmd] + [rng.choice(values) for values in POSITIONAL.get(cmd, [])]
    options = CLI_COMMANDS[cmd]
    for opt in rng.sample(options, rng.randint(0, len(options))):
        args += [opt, rng.choice(CLI_VALUES[opt])]
    if cmd in ("grid", "build", "explain") and "--resolution" not in args:
        args += ["--resolution", "20000"]  # the default 250 m would take the case's whole budget
    if cmd in ("grid", "build", "map", "export") and "--out" not in args:
        args += ["--out", "{d}/out-cli"]
    return args


# ---- worker side (forked: the project's modules are already imported) ----
_W: dict = {}


def _init(base: str, out: str) -> None:
    """Each worker gets its own copy of the data root, and the shared outputs of a previous build."""
    root = Path(base) / f"w{os.getpid()}"
    shutil.copytree(Path(base) / "data", root)
    _W.update(root=root, out=Path(out))
    os.chdir(root)  # a command line's relative --out lands in the worker's own folder
    import dataclasses
    import layers.model.model_spec as model_spec
    real = model_spec.load_spec

    def coarse(*args, **kwargs):  # the validation tables at 20 km, not 2 km: same code, 100x fewer cells
        return dataclasses.replace(real(*args, **kwargs), table_resolution_m=20_000.0)
    model_spec.load_spec = coarse


def _cli(args: list[str]) -> tuple[int | str, str]:
    from maps.cli import main
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(args)
    except Exception as exc:  # noqa: BLE001 — an uncaught exception is what this test looks for
        return "uncaught", f"{type(exc).__name__}: {exc}"
    return rc, err.getvalue()


def _run_case(case) -> tuple:
    i, kind, rel, what, data = case
    root: Path = _W["root"]
    if kind == "cli":
        args = [a.replace("{d}", str(root)).replace("{project}", str(ROOT)) for a in json.loads(data)]
        rc, err = _cli(args)
        shutil.rmtree(root / "out-cli", ignore_errors=True)
        return i, kind, rel, what, rc, err, None
    path = root / rel
    original = path.read_bytes()
    path.write_bytes(data)
    try:
        if kind in ("model", "usermodel", "vrt"):
            from geo.errors import GeoError
            from layers.model.model_spec import load_spec
            try:
                load_spec(root / "usermodel" / "model.toml" if kind == "vrt" else path)
                rc, err = 0, ""
                if kind != "model" and _outside_files(root / "usermodel"):
                    rc, err = "uncaught", f"accepted a model reading {_outside_files(root / 'usermodel')}"
            except GeoError as exc:
                rc, err = 2, f"error: {exc}\n"
            except Exception as exc:  # noqa: BLE001
                rc, err = "uncaught", f"{type(exc).__name__}: {exc}"
            return i, kind, rel, what, rc, err, None
        catalog = str(root / "catalog")
        rc, err = _cli(["--catalog", catalog, "validate"])
        build = None
        if rc == 2:  # refused: a build over the previous outputs must be refused the same way, writing nothing
            build = _cli(["-q", "--catalog", catalog, "build", "--out", str(_W["out"]), "--resolution", "20000"])
        return i, kind, rel, what, rc, err, build
    finally:
        path.write_bytes(original)


USER_MODEL = """
resolution_m = 5000
ensemble_resolution_m = 20000
[style]
score_ramp = ["#000000", "#ffffff"]
uncertainty_ramp = ["#000000", "#ffffff"]
[types.weathering_crust]
operator = "and"
rationale = "test"
refs = ["r"]

[[types.weathering_crust.evidence]]
name = "elevation"
kind = "raster"
path = "dem.tif"
band = 1
resampling = "nearest"
membership = { function = "linear", x0 = 0, x1 = 100 }
basis = "judgement"
rationale = "test"

[[types.weathering_crust.evidence]]
name = "elevation_vrt"
kind = "raster"
path = "ok.vrt"
membership = { function = "sigmoid", midpoint = 50, spread = 10 }
basis = "judgement"
rationale = "test"

[[types.weathering_crust.evidence]]
name = "relief"
kind = "raster_derivative"
path = "dem.tif"
derivative = "relief"
window_m = 15000
membership = { function = "linear", x0 = 0, x1 = 40 }
basis = "judgement"
rationale = "test"

[[types.weathering_crust.evidence]]
name = "near_fault"
kind = "vector_distance"
path = "faults.gpkg"
max_distance_m = 40000
membership = { function = "linear", x0 = 0, x1 = 40000, mu0 = 1.0, mu1 = 0.0 }
basis = "judgement"
rationale = "test"
"""


def user_model(d: Path) -> None:
    """A user's model folder near Hà Nội: a DEM, a VRT of it, a fault line and the model reading them."""
    import geopandas as gpd
    import numpy as np
    import rasterio
    from affine import Affine
    from shapely.geometry import LineString
    d.mkdir(parents=True)
    x0, y0, res, n = 560_000.0, 2_350_000.0, 5000.0, 10
    with rasterio.open(d / "dem.tif", "w", driver="GTiff", width=n, height=n, count=1, dtype="float32",
                       crs="EPSG:3405", transform=Affine(res, 0, x0, 0, -res, y0), nodata=-9999) as ds:
        ds.write(np.arange(n * n, dtype=np.float32).reshape(n, n), 1)
    (d / "ok.vrt").write_text(
        f'<VRTDataset rasterXSize="{n}" rasterYSize="{n}"><SRS>EPSG:3405</SRS><GeoTransform>{x0}, {res}, 0, {y0}, 0, '
        f'{-res}</GeoTransform><VRTRasterBand dataType="Float32" band="1"><SimpleSource><SourceFilename '
        f'relativeToVRT="1">dem.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>'
        f'</VRTDataset>\n', encoding="utf-8")
    gpd.GeoDataFrame({"kind": ["fault"]}, geometry=[LineString([(x0, y0), (x0 + n * res, y0 - n * res)])],
                     crs="EPSG:3405").to_file(d / "faults.gpkg")
    (d / "model.toml").write_text(USER_MODEL, encoding="utf-8")


def _outside_files(model_dir: Path) -> list[str]:
    """Files GDAL lists for the model folder's rasters that lie outside it or the project (independently of
    the loader's own check): an accepted model must have none."""
    import rasterio
    allowed = (str(model_dir.resolve()) + os.sep, str((ROOT / "layers").resolve()) + os.sep)
    out = []
    for f in model_dir.glob("*"):
        if f.suffix in (".tif", ".vrt"):
            try:
                with rasterio.open(f) as ds:
                    out += [x for x in ds.files if not str(Path(x).resolve()).startswith(allowed)]
            except (rasterio.errors.RasterioError, UnicodeDecodeError):
                pass
    return out


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory):
    """A copy of the sources and declarations, and a build of them at 20 km (the previous outputs)."""
    base = tmp_path_factory.mktemp("fuzz")
    copy_sources(base / "data")
    user_model(base / "data" / "usermodel")
    out = base / "out"
    from maps.cli import main
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["-q", "--catalog", str(base / "data" / "catalog"), "build", "--out", str(out),
                     "--resolution", "20000"]) == 0
    return base, out


def test_mutated_sources_end_in_success_or_one_line_exit_2(fuzz_root, capsys):
    base, out = fuzz_root
    before = _sha(out)
    targets = _targets(base / "data")
    results, counts = [], Counter()
    # forkserver: a clean process to fork from (forking this one, whose GDAL threads may hold locks, can deadlock)
    ctx = multiprocessing.get_context("forkserver")
    deadline = time.monotonic() + BUDGET_S
    hard = time.monotonic() + HARD_FACTOR * BUDGET_S
    with ProcessPoolExecutor(WORKERS, mp_context=ctx, initializer=_init, initargs=(str(base), str(out))) as pool:
        pending = []
        cases = _cases(base / "data", targets)
        for case in cases:
            now = time.monotonic()
            if now > hard or (now > deadline and sum(f.done() for f in pending) >= MIN_CASES):
                break
            pending.append(pool.submit(_run_case, case))
            while len([f for f in pending if not f.done()]) >= 2 * WORKERS and time.monotonic() <= hard:
                time.sleep(0.02)
        results = sorted(f.result() for f in pending)
    bad = []
    for i, kind, rel, what, rc, err, build in results:
        counts["cases"] += 1
        counts[f"cases_{kind}"] += 1
        lines = err.strip().splitlines()
        if rc == 0:
            counts["accepted"] += 1
        elif rc == 2 and len(lines) == 1 and lines[0].startswith("error: "):
            counts["clean_errors"] += 1
        else:
            counts["uncaught" if rc == "uncaught" else "other"] += 1
            bad.append(f"case {i} {rel} {what}: rc={rc} {err.strip()[:300]}")
        if build is not None:
            brc, berr = build
            blines = berr.strip().splitlines()
            if not (brc == 2 and len(blines) == 1 and blines[0].startswith("error: ")):
                bad.append(f"case {i} {rel} {what}: build rc={brc} {berr.strip()[:300]}")
    with capsys.disabled():
        print(f"\nfuzz (seed {SEED}, {BUDGET_S:g} s): {counts['cases']} cases, {counts['clean_errors']} clean errors, "
              f"{counts['accepted']} accepted, {counts['uncaught']} uncaught, {counts['other']} other; by type: "
              + ", ".join(f"{k[6:]} {v}" for k, v in sorted(counts.items()) if k.startswith("cases_")))
    assert counts["cases"] >= MIN_CASES, "the budget ran out before a useful number of cases"
    assert not bad, "\n".join(bad)
    assert _sha(out) == before, "a refused build changed the previous outputs"
    assert not [p for p in out.rglob(".*")], "temporary files left in the outputs"


# ---- `geo import` files (issue 22): seeded mutations of good files in six formats, run in this process ----

IMPORT_BUDGET_S = float(os.environ.get("FUZZ_IMPORT_BUDGET_S", "20"))
IMPORT_MUTATIONS = ("byte_flip", "truncate", "line_delete", "line_duplicate", "cell_replace", "byte_insert")


def _import_seeds(d: Path) -> list[tuple[Path, str]]:
    """Good files a user might import, made in code: (path, --as)."""
    import geopandas as gpd
    import pyogrio
    import shapely
    rows = [{"id": "g1", "name": "Đông Pao", "ce_ppm": 52000.0}, {"id": "g2", "name": "Hà Nội", "ce_ppm": 180.5},
            {"id": "g3", "name": "Nha Trang", "ce_ppm": 75.0}]
    xy = [(103.55, 22.30), (105.8342, 21.0278), (109.19, 12.24)]
    frame = gpd.GeoDataFrame(rows, geometry=[shapely.Point(p) for p in xy], crs="EPSG:4326")
    seeds = []
    csv_path = d / "seed.csv"
    csv_path.write_text("Mã mẫu,Tên,lon,lat,TREO (ppm)\n" + "".join(
        f"{r['id']},{r['name']},{x},{y},{r['ce_ppm']}\n" for r, (x, y) in zip(rows, xy)), encoding="utf-8")
    seeds.append((csv_path, "samples"))
    for suffix, driver in ((".geojson", "GeoJSON"), (".kml", "KML"), (".kmz", "LIBKML"), (".gpkg", "GPKG")):
        pyogrio.write_dataframe(frame, d / f"seed{suffix}", driver=driver)
        seeds.append((d / f"seed{suffix}", "samples" if suffix != ".kml" else "occurrences"))
    shp = d / "shp"
    shp.mkdir()
    pyogrio.write_dataframe(frame, shp / "seed.shp", driver="ESRI Shapefile")
    with zipfile.ZipFile(d / "seed.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(shp.iterdir()):
            zf.write(part, part.name)
    seeds.append((d / "seed.zip", "samples"))
    return seeds


def _mutate_import(rng: random.Random, data: bytes, is_csv: bool) -> tuple[str, bytes]:
    how = rng.choice(IMPORT_MUTATIONS)
    if how == "truncate":
        cut = rng.randrange(len(data))
        return f"truncate@{cut}", data[:cut]
    if how == "byte_insert":
        pos = rng.randrange(len(data) + 1)
        new = bytes(rng.choice([b"\x00", b"\xff\xfe", b"\r", b"\n", b'"', b",", b"\x7f", "Đ".encode("cp1258"),
                                b"\xef\xbb\xbf", b"PK\x03\x04"]))
        return f"byte_insert@{pos}", data[:pos] + new + data[pos:]
    lines = data.splitlines(keepends=True)
    if how in ("line_delete", "line_duplicate") and len(lines) > 1:
        i = rng.randrange(len(lines))
        lines[i:i + 1] = [] if how == "line_delete" else [lines[i], lines[i]]
        return f"{how}@{i + 1}", b"".join(lines)
    if how == "cell_replace" and is_csv:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline="")))
        r = rng.randrange(len(rows))
        if rows[r]:
            rows[r][rng.randrange(len(rows[r]))] = rng.choice(CSV_VALUES + ["=HYPERLINK(\"x\")", "x" * 200_000])
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        return f"cell_replace@row{r}", buf.getvalue().encode("utf-8")
    pos = rng.randrange(len(data))
    new = rng.choice([rng.randrange(256), data[pos] ^ (1 << rng.randrange(8))])
    return f"byte_flip@{pos}={new}", data[:pos] + bytes([new]) + data[pos + 1:]


def test_mutated_import_files_end_in_success_or_one_line_exit_2(tmp_path, monkeypatch, capsys):
    """Each mutated file through `geo import` (in this process, the project's layers loaded once): exit 0,
    or exit 2 with one line and the imports directory unchanged; never an uncaught exception."""
    import maps.cli
    from layers.load import load_layers
    from maps.cli import main
    frames = load_layers(maps.cli.load_catalog(maps.cli.CATALOG_DIR))
    monkeypatch.setattr(maps.cli, "load_layers", lambda *a, **k: frames)
    seeds = _import_seeds(tmp_path)
    imports = tmp_path / "imports"
    rng = random.Random(SEED)
    counts, bad = Counter(), []
    before = None
    deadline = time.monotonic() + IMPORT_BUDGET_S
    i = 0
    while time.monotonic() < deadline and i < MAX_CASES:
        seed, kind = rng.choice(seeds)
        what, data = _mutate_import(rng, seed.read_bytes(), seed.suffix == ".csv")
        case = tmp_path / "cases" / f"c{i}{seed.suffix}"
        case.parent.mkdir(exist_ok=True)
        case.write_bytes(data)
        before = _sha(imports) if imports.exists() else {}
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                rc = main(["import", str(case), "--as", kind, "--name", f"case_{i}", "--dir", str(imports)])
        except Exception as exc:  # noqa: BLE001 — what this test looks for
            rc = "uncaught"
            err.write(f"{type(exc).__name__}: {exc}")
        lines = err.getvalue().strip().splitlines()
        counts["cases"] += 1
        counts[f"cases_{seed.suffix[1:]}"] += 1
        if rc == 0:
            counts["accepted"] += 1
        elif rc == 2 and len(lines) == 1 and lines[0].startswith("error: "):
            counts["clean_errors"] += 1
            after = _sha(imports) if imports.exists() else {}
            if after != before:
                bad.append(f"case {i} {seed.name} {what}: refused but the imports directory changed")
        else:
            counts["uncaught" if rc == "uncaught" else "other"] += 1
            bad.append(f"case {i} {seed.name} {what}: rc={rc} {err.getvalue().strip()[:300]}")
        i += 1
    with capsys.disabled():
        print(f"\nimport fuzz (seed {SEED}, {IMPORT_BUDGET_S:g} s): {counts['cases']} cases, "
              f"{counts['clean_errors']} clean errors, {counts['accepted']} accepted, {counts['uncaught']} uncaught, "
              f"{counts['other']} other; by format: "
              + ", ".join(f"{k[6:]} {v}" for k, v in sorted(counts.items()) if k.startswith("cases_")))
    assert counts["cases"] >= 30, "the budget ran out before a useful number of cases"
    assert not bad, "\n".join(bad)
    assert not [p for p in imports.rglob(".*")] if imports.exists() else True, "temporaries left behind"
