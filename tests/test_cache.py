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
