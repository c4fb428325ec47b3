"""The derived-data cache of the loaded layers (geo/files/cache.py, layers/load.py): the same inputs give the
same frames back without computing them, any changed input is computed again, problems are never cached,
and a damaged entry is only computed again."""
from __future__ import annotations

import pandas as pd
import pytest

from conftest import copy_sources
from geo.catalog import load_catalog
from geo.errors import SourceDataError
from layers.derived.prospectivity import GRID_TABLES
from layers.load import inputs_digest, load_layers


def _entries(folder):
    return sorted(folder.glob("layers-*.pickle"))


def test_loaded_layers_come_back_from_the_cache_until_an_input_changes(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GEO_CACHE_DIR", str(cache))
    catalog_dir = copy_sources(tmp_path / "data")
    catalog = load_catalog(catalog_dir)
    first = load_layers(catalog, skip=GRID_TABLES)
    [entry] = _entries(cache)
    calls = []
    monkeypatch.setattr("layers.load._load", lambda *a: calls.append(a) or {})  # a hit must not compute
    again = load_layers(catalog, skip=GRID_TABLES)
    assert calls == [] and again.keys() == first.keys()
    for name, frame in first.items():
        pd.testing.assert_frame_equal(again[name], frame)
        assert again[name].attrs == frame.attrs and getattr(again[name], "crs", None) == getattr(frame, "crs", None)
    monkeypatch.undo()
    monkeypatch.setenv("GEO_CACHE_DIR", str(cache))

    # a changed source cell: another key, computed again, and the change is in the result
    csv = tmp_path / "data" / "sources" / "deposits.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("Dong Pao,", "Dong Pao (edited),", 1), encoding="utf-8")
    assert inputs_digest(load_catalog(catalog_dir), GRID_TABLES) != entry.name[len("layers-"):-len(".pickle")]
    edited = load_layers(load_catalog(catalog_dir), skip=GRID_TABLES)
    assert "Dong Pao (edited)" in set(edited["deposits"]["name_en"])
    assert len(_entries(cache)) == 2

    # a damaged entry is computed again and replaced
    newest = max(_entries(cache), key=lambda p: p.stat().st_mtime)
    newest.write_bytes(b"not a pickle")
    assert "Dong Pao (edited)" in set(load_layers(load_catalog(catalog_dir), skip=GRID_TABLES)["deposits"]["name_en"])
    assert newest.read_bytes() != b"not a pickle"


def test_problems_are_never_cached(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GEO_CACHE_DIR", str(cache))
    catalog_dir = copy_sources(tmp_path / "data")
    csv = tmp_path / "data" / "sources" / "deposits.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace(",103", ",1030", 1), encoding="utf-8")  # a longitude off the map
    for _ in range(2):
        with pytest.raises(SourceDataError):
            load_layers(load_catalog(catalog_dir), skip=GRID_TABLES)
    assert _entries(cache) == []


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_CACHE_DIR", "off")
    monkeypatch.chdir(tmp_path)  # the default folder would be ./build/.cache
    load_layers(load_catalog(copy_sources(tmp_path / "data")), skip=GRID_TABLES)
    assert not (tmp_path / "build").exists()


def test_web_geometries_come_back_from_the_cache_as_computed(tmp_path, monkeypatch):
    """for_web's rows and geometries, kept by the digest of the frame's geometries and the arguments: a
    hit in a later process (the per-process memo emptied) equals the computed frame (rows, index,
    attributes, CRS, every coordinate) without computing it; other geometries are computed again."""
    import geopandas as gpd
    import shapely
    from geopandas.testing import assert_geodataframe_equal
    import geo.simplify as simplify
    monkeypatch.setenv("GEO_CACHE_DIR", str(tmp_path / "cache"))
    ring = shapely.Point(106.0, 16.0).buffer(0.5, quad_segs=64)
    frame = gpd.GeoDataFrame({"name": ["big", "tiny", "line", "pt"]}, index=[7, 3, 9, 1], crs="EPSG:4326", geometry=[
        ring, shapely.Point(107.0, 12.0).buffer(0.001), shapely.LineString([(104, 20), (104.3, 20.2), (104.6, 20)]),
        shapely.Point(105.123456, 21.654321)])
    first = simplify.for_web(frame, 500, 1.0)
    assert list(first["name"]) == ["big", "line", "pt"] and len(list((tmp_path / "cache").glob("web-*.pickle"))) == 1
    simplify._MEMO.clear()
    monkeypatch.setattr(gpd.GeoSeries, "to_crs", lambda *a, **k: pytest.fail("a cache hit must not compute"))
    assert_geodataframe_equal(simplify.for_web(frame, 500, 1.0), first, check_less_precise=False)
    assert simplify.for_web(frame, 500, 1.0).geometry.to_wkb().tolist() == first.geometry.to_wkb().tolist()
    moved = frame.set_geometry(frame.geometry.translate(0.01, 0))
    with pytest.raises(pytest.fail.Exception):
        simplify.for_web(moved, 500, 1.0)


def test_a_figure_from_the_cache_is_the_drawn_figure(tmp_path, monkeypatch):
    """A validation figure kept by the digest of its data, its drawing code and matplotlib's settings: the
    same data give the same PNG bytes without drawing; other data are drawn again."""
    import numpy as np
    import layers.model.reports as reports
    monkeypatch.setenv("GEO_CACHE_DIR", str(tmp_path / "cache"))
    data = dict(type="Coastal placers", res=5000.0, use_auc=True, null_p95=0.81, vals=np.array([0.74, 0.70, 0.66]),
                labels=["all evidence", "without shoreline", "only shoreline (simplest)"], models=["all", "without", "only"])
    png = reports._png(reports._ablation_figure, data)
    assert png.startswith(b"\x89PNG") and png == reports._drawn(reports._ablation_figure, data)
    from matplotlib.figure import Figure
    monkeypatch.setattr(Figure, "savefig", lambda *a, **k: pytest.fail("a cache hit must not draw"))
    assert reports._png(reports._ablation_figure, dict(data)) == png
    with pytest.raises(pytest.fail.Exception):
        reports._png(reports._ablation_figure, {**data, "null_p95": 0.82})
