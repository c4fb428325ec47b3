"""`geo build` writes a GeoPackage GDAL reads back; a failed or killed build keeps the old one."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap

import pyogrio
import pytest

from conftest import ROOT, geo_in_process, run_geo, skip_without
from geo.errors import ExportError
from layers.load import default_catalog, load_layers
from layers.package import GPKG_NAME, write_package


@pytest.fixture(scope="module")
def built(default_build):
    """The run's shared default build (tests/conftest.py): its folder and what it printed."""
    return default_build.out, default_build


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_build_prints_paths_of_what_it_made(built):
    out, res = built
    printed = res.stdout.split()
    assert str(out / GPKG_NAME) in printed
    assert str(out / "maps" / "national.html") in printed
    for p in printed:
        assert (ROOT / p).exists() or __import__("pathlib").Path(p).exists()


def test_every_catalog_layer_is_in_the_geopackage(built):
    out, _ = built
    cat = default_catalog()
    frames = load_layers(cat)
    listed = {name: geom for name, geom in pyogrio.list_layers(out / GPKG_NAME)}
    for spec in cat:
        assert spec.name in listed
        info = pyogrio.read_info(out / GPKG_NAME, layer=spec.name)
        assert info["features"] == len(frames[spec.name])
        if spec.spatial:
            assert listed[spec.name] == spec.geometry
            assert info["crs"] == "EPSG:4326"
        assert set(spec.field_names) <= set(info["fields"])


def test_injected_failure_keeps_previous_geopackage(tmp_path, monkeypatch):
    cat = default_catalog()
    frames = load_layers(cat)
    target = tmp_path / GPKG_NAME
    write_package(cat, frames, target)
    before = _sha(target)
    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device (injected)")
        return real(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", failing)
    with pytest.raises(OSError):
        write_package(cat, frames, target)
    assert _sha(target) == before
    assert set(cat.layers) <= {name for name, _ in pyogrio.list_layers(target)}
    assert sorted(p.name for p in tmp_path.iterdir()) == [GPKG_NAME]  # no temporary left behind


def test_killed_build_keeps_previous_geopackage(tmp_path, default_build):
    shutil.copy2(default_build.out / GPKG_NAME, tmp_path / GPKG_NAME)  # a previous build's GeoPackage
    target = tmp_path / GPKG_NAME
    before = _sha(target)
    script = textwrap.dedent(f"""
        import os, signal, pyogrio
        real = pyogrio.write_dataframe
        def killing(*a, **k):
            real(*a, **k)
            os.kill(os.getpid(), signal.SIGKILL)   # die right after the first layer is written
        pyogrio.write_dataframe = killing
        from maps.cli import main
        main(["build", "--out", {str(tmp_path)!r}, "--resolution", "5000"])  # 5 km: the grids in seconds
    """)
    res = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, timeout=300)
    assert res.returncode == -9
    assert _sha(target) == before
    assert set(default_catalog().layers) <= {name for name, _ in pyogrio.list_layers(target)}


def test_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    res = run_geo("build", "--out", str(blocker / "sub"))
    assert res.returncode == 2
    assert res.stderr.startswith("error: cannot write") and "Traceback" not in res.stderr
    assert str(blocker) in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert issubclass(ExportError, OSError)


def test_default_maps_are_offline_single_files_that_request_nothing(built):
    """`geo build` with no option writes the offline maps: no CDN link, and in Chromium from file://
    the national map loads with no request leaving the page."""
    out, _ = built
    html = (out / "maps" / "national.html").read_text(encoding="utf-8")
    assert '<script src="http' not in html and '<link rel="stylesheet" href="http' not in html
    from maps.headless import chromium
    skip_without("chromium")
    from test_browser import Page
    with chromium((1400, 900)) as ctx:
        page = Page(ctx, out / "maps" / "national.html")
        page.page.wait_for_timeout(500)
        assert page.requests == [] and page.errors == []


def test_cdn_option_links_the_cdn_and_offline_is_still_accepted(tmp_path):
    rc, _, err = geo_in_process("map", "coastal", "--out", str(tmp_path), "--cdn")  # in-process: no start-up
    assert rc == 0, err
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@' in (tmp_path / "maps" / "coastal.html").read_text()
    rc, _, err = geo_in_process("map", "coastal", "--out", str(tmp_path / "o"), "--offline")
    assert rc == 0, err
    assert '<script src="http' not in (tmp_path / "o" / "maps" / "coastal.html").read_text()


def test_build_writes_validation_figures_and_the_aucs_with_their_site_counts(built):
    """Per type and score with data: a PNG in reports/; the AUCs (with n sites) in the GeoPackage; types
    with fewer than 5 sites say so instead of a number."""
    out, _ = built
    auc = pyogrio.read_dataframe(out / GPKG_NAME, layer="prospectivity_auc")
    assert set(zip(auc.deposit_type, auc.score)) >= {("coastal_placer", "evidence"), ("coastal_placer", "proximity"),
                                                     ("weathering_crust", "evidence")}
    for row in auc.itertuples():
        assert row.n_scored + row.n_snapped + row.n_excluded == row.n_sites <= row.n_known_sites
        if row.n_scored + row.n_snapped < 5:
            assert row.success_auc is None or row.success_auc != row.success_auc  # null
            assert "too few sites" in row.note or "no evidence" in row.note
        else:
            assert 0 <= row.success_auc <= 1 and 0 <= row.baseline_auc_p95 <= 1
            png = out / "reports" / f"validation_{row.score}_{row.deposit_type}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    placer = auc[(auc.deposit_type == "coastal_placer") & (auc.score == "proximity")].iloc[0]
    assert "held out" in placer.note  # the sites shaped the proximity score: each was held out
    assert set(auc.verdict.dropna()) <= {"supported", "not_better_than_null", "too_few_sites", "contradicts"}
    assert (out / "reports" / "validation.html").exists() and (out / "reports" / "ablation_coastal_placer.png").exists()
    sites = pyogrio.read_dataframe(out / GPKG_NAME, layer="prospectivity_sites")
    assert set(sites.status) <= {"scored", "snapped", "excluded"}
