"""Shared fixtures: small catalogs built in code, and a runner for the real CLI."""
from __future__ import annotations

import csv
import fcntl
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]

DOMAINS = """
[kind]
description = { vi = "Loại", en = "Kind" }
values.a = { vi = "Loại A", en = "Kind A" }
values.b = { vi = "Loại B", en = "Kind B" }
"""

SITES = """
name = "sites"
geometry = "Point"
title = { vi = "Điểm", en = "Sites" }
description = { vi = "Điểm thử", en = "Test sites" }
attribution = "tests"
licence = "CC0-1.0"
source = { files = ["sites.csv"], lon = "lon", lat = "lat" }
style = { category_field = "kind", label_field = "name", symbol = { fill = "#111111", stroke = "#222222" }, categories.a = { fill = "#D55E00", marker = "triangle" }, categories.b = { fill = "#0072B2" } }

[[fields]]
name = "id"
type = "string"
required = true
unique = true
alias = { vi = "Mã", en = "Id" }

[[fields]]
name = "name"
type = "string"
required = true
alias = { vi = "Tên", en = "Name" }

[[fields]]
name = "kind"
type = "string"
required = true
domain = "kind"
alias = { vi = "Loại", en = "Kind" }

[[fields]]
name = "lon"
type = "real"
required = true
alias = { vi = "Kinh độ", en = "Longitude" }

[[fields]]
name = "lat"
type = "real"
required = true
alias = { vi = "Vĩ độ", en = "Latitude" }

[[fields]]
name = "refs"
type = "string"
list = true
foreign_key = "refs.id"
alias = { vi = "Tài liệu", en = "References" }
"""

REFS = """
name = "refs"
geometry = "None"
title = { vi = "Tài liệu", en = "References" }
description = { vi = "Tài liệu", en = "References" }
attribution = "tests"
licence = "CC0-1.0"
source = { files = ["refs.csv"] }

[[fields]]
name = "id"
type = "string"
required = true
unique = true
alias = { vi = "Mã", en = "Id" }

[[fields]]
name = "title"
type = "string"
required = true
alias = { vi = "Tiêu đề", en = "Title" }
"""

GOOD_SITES = [
    {"id": "s1", "name": "Đông Pao", "kind": "a", "lon": "103.55", "lat": "22.30", "refs": "r1"},
    {"id": "s2", "name": "Mường Hum", "kind": "b", "lon": "103.67", "lat": "22.62", "refs": "r1;r2"},
]
GOOD_REFS = [{"id": "r1", "title": "One"}, {"id": "r2", "title": "Two"}]


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


@pytest.fixture
def make_catalog(tmp_path):
    """Build a small catalog directory (domains, a point layer, a table) with the given rows."""
    def make(sites=GOOD_SITES, refs=GOOD_REFS, sites_toml=SITES, refs_toml=REFS) -> Path:
        root = tmp_path / "data"
        (root / "catalog").mkdir(parents=True, exist_ok=True)
        (root / "catalog" / "domains.toml").write_text(textwrap.dedent(DOMAINS), encoding="utf-8")
        (root / "catalog" / "sites.toml").write_text(textwrap.dedent(sites_toml), encoding="utf-8")
        (root / "catalog" / "refs.toml").write_text(textwrap.dedent(refs_toml), encoding="utf-8")
        write_csv(root / "sites.csv", sites)
        write_csv(root / "refs.csv", refs)
        return root / "catalog"
    return make


def run_geo(*args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the real ``geo`` CLI (``python -m geo``) in a subprocess."""
    return subprocess.run([sys.executable, "-m", "geo", *args], cwd=cwd or ROOT, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="session")
def project():
    """The project's catalog, loaded layers and map compositions (loaded once per session)."""
    from geo.catalog import load_catalog
    from layers import CATALOG_DIR
    from layers.load import load_layers
    from maps.composition import load_compositions
    catalog = load_catalog(CATALOG_DIR)
    return catalog, load_layers(catalog), load_compositions(catalog)


@pytest.fixture(scope="session")
def offline_maps(project, tmp_path_factory):
    """The national, coastal and prospectivity maps rendered offline, with 1 km prospectivity grids:
    name -> HTML path."""
    from layers.model.overlay import GRIDS_DIR
    from layers.model.prospectivity import run_grids
    from maps.web.render import render, save_map
    catalog, frames, comps = project
    out = tmp_path_factory.mktemp("maps")
    run_grids(frames, GRID_TEST_RESOLUTION_M, out_dir=out / GRIDS_DIR, explain=True)  # the cell panel's COGs
    return {name: save_map(render(comps[name], catalog, frames, offline=True, grids_dir=out),
                           out / f"{name}.html", offline=True)
            for name in ("national", "coastal", "prospectivity")}


GRID_TEST_RESOLUTION_M = 1000  # the web preview (2.8 km) looks as it does at 250 m


def copy_sources(dest: Path) -> Path:
    """A copy of the project's declarations, sources, base files and model under ``dest``; returns the
    catalog directory to give ``geo --catalog`` (sources resolve beside it)."""
    import shutil
    for part in ("catalog", "sources", "base", "models", "open_evidence"):
        shutil.copytree(ROOT / "layers" / part, dest / part, ignore=shutil.ignore_patterns("research"))
    return dest / "catalog"


def geo_in_process(*args: str) -> tuple[int, str, str]:
    """Run the ``geo`` CLI in this process (no interpreter start-up): (exit status, stdout, stderr)."""
    import contextlib
    import io
    from maps.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(args))
    return rc, out.getvalue(), err.getvalue()


# ---- what the Debian packages give (.ci/debian-packages installs them when it can; else the tests skip) ----
QGIS_PYTHON = "/usr/bin/python3"  # Debian's python3-qgis (QGIS 3.22 on Debian 12)


def missing_debian(package: str) -> str | None:
    """Why a test that drives ``package`` must skip (one line naming what to install), or None."""
    if package == "chromium":
        from maps.headless import CHROMIUM
        ok = CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)
    elif package == "gdal-bin":
        ok = shutil.which("ogrinfo") is not None
    elif package == "poppler-utils":
        ok = shutil.which("pdftotext") is not None
    elif package == "python3-qgis":
        ok = Path(QGIS_PYTHON).exists() and subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"],
                                                           capture_output=True).returncode == 0
    else:
        raise ValueError(package)
    return None if ok else (f"needs Debian's {package}: sudo apt-get install {package} "
                            "(make test installs it when run as root or with sudo without a password)")


def skip_without(package: str) -> None:
    why = missing_debian(package)
    if why:
        pytest.skip(why)


# ---- builds shared by every module of a run, also across pytest-xdist workers ----
def shared_dir(tmp_path_factory, name: str, make) -> Path:
    """A folder made once per test run by ``make(folder)``, even when several xdist workers ask for it (the
    first builds it under a lock, the others wait and reuse it). Tests must only read it."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of this run
    folder = base / f"shared-{name}"
    with open(base / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (folder / ".done").touch()
    return folder


@pytest.fixture(scope="session")
def default_build(tmp_path_factory):
    """`geo build --out OUT` with the defaults (250 m grids), once per run: out, stdout, stderr."""
    def make(folder: Path) -> None:
        res = run_geo("build", "--out", str(folder / "out"), timeout=900)
        assert res.returncode == 0, res.stderr
        (folder / "stdout.txt").write_text(res.stdout, encoding="utf-8")
        (folder / "stderr.txt").write_text(res.stderr, encoding="utf-8")
    folder = shared_dir(tmp_path_factory, "default-build", make)
    return SimpleNamespace(out=folder / "out", stdout=(folder / "stdout.txt").read_text(encoding="utf-8"),
                           stderr=(folder / "stderr.txt").read_text(encoding="utf-8"))



@pytest.fixture(scope="session")
def build_5km(tmp_path_factory):
    """`geo build --out OUT --resolution 5000` (every phase in seconds), once per run: out, stdout.
    Tests that change outputs copy it first."""
    def make(folder: Path) -> None:
        res = run_geo("build", "--out", str(folder / "out"), "--resolution", "5000", timeout=600)
        assert res.returncode == 0, res.stderr
        (folder / "stdout.txt").write_text(res.stdout, encoding="utf-8")
    folder = shared_dir(tmp_path_factory, "build-5km", make)
    return SimpleNamespace(out=folder / "out", stdout=(folder / "stdout.txt").read_text(encoding="utf-8"))


# ---- pytest-xdist (`make test` runs `-n auto --dist loadfile`): a module's tests on one worker, so its module
# fixtures are built once; the slowest modules start first. (`--dist loadgroup` with xdist_group marks did not
# group anything with pytest-xdist 3.8.0 and pytest 9.2, measured: the session builds shared by several
# modules use shared_dir above instead, which builds once across workers.) Longest first, by each module's
# measured time in a whole run (2026-12-05: 195 s for test_faults down to 5 s), so short ones fill the end. ----
SLOW_FIRST = ("test_faults", "test_build", "test_fuzz", "test_import", "test_browser", "test_hostile_files",
              "test_web_cartography", "test_export", "test_cluster", "test_gpkg", "test_print", "test_cli",
              "test_bad_input", "test_data", "test_qgis", "test_arguments", "test_evidence", "test_tiles", "test_maps",
              "test_model_files", "test_validation", "test_prospectivity_map", "test_coast", "test_grid")  # then the rest


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PYTEST_XDIST_WORKER"):  # an xdist worker (workers collect; the controller schedules)
        rank = {m: i for i, m in enumerate(SLOW_FIRST)}
        items.sort(key=lambda item: rank.get(item.module.__name__, len(rank)))  # stable: tests keep their order
