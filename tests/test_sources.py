"""Source rows are checked cell by cell; every problem is reported with file, row, field, value."""
from __future__ import annotations

import unicodedata

import pytest

from conftest import GOOD_REFS, GOOD_SITES
from geo.catalog import load_catalog
from geo.errors import SourceDataError
from layers.load import load_layers


def _load(make_catalog, **kw):
    return load_layers(load_catalog(make_catalog(**kw)))


def test_good_rows_load_as_points(make_catalog):
    frames = _load(make_catalog)
    sites = frames["sites"]
    assert sites.crs.to_epsg() == 4326 and len(sites) == 2
    assert sites.geometry.iloc[0].x == pytest.approx(103.55)
    assert sites["name"].iloc[0] == "Đông Pao"


def test_all_problems_reported_at_once(make_catalog):
    rows = [dict(r) for r in GOOD_SITES]
    rows[0]["kind"] = "z"            # not in domain
    rows[1]["name"] = ""             # required
    rows.append({"id": "s1", "name": "dup", "kind": "a", "lon": "abc", "lat": "21", "refs": "r9"})
    with pytest.raises(SourceDataError) as info:
        _load(make_catalog, sites=rows)
    msg = str(info.value)
    assert "sites.csv, row 1, field 'kind': not in domain 'kind' (value: 'z')" in msg
    assert "row 2, field 'name': required value is empty" in msg
    assert "row 3, field 'id': duplicate of row 1" in msg
    assert "row 3, field 'lon': not a valid real (value: 'abc')" in msg
    assert isinstance(info.value, ValueError)


def test_swapped_lon_lat_named_as_such(make_catalog):
    rows = [dict(r) for r in GOOD_SITES]
    rows[1]["lon"], rows[1]["lat"] = rows[1]["lat"], rows[1]["lon"]
    with pytest.raises(SourceDataError) as info:
        _load(make_catalog, sites=rows)
    assert "row 2, field 'lon/lat': longitude and latitude look swapped" in str(info.value)


def test_outside_vietnam_is_refused(make_catalog):
    rows = [dict(r) for r in GOOD_SITES]
    rows[0]["lon"], rows[0]["lat"] = "2.35", "48.85"
    with pytest.raises(SourceDataError, match="coordinates outside Vietnam"):
        _load(make_catalog, sites=rows)


def test_unknown_reference_id(make_catalog):
    rows = [dict(r) for r in GOOD_SITES]
    rows[1]["refs"] = "r1;r7"
    with pytest.raises(SourceDataError) as info:
        _load(make_catalog, sites=rows)
    assert "row 2, field 'refs': unknown refs.id (value: 'r7')" in str(info.value)


def test_decomposed_unicode_is_refused(make_catalog):
    rows = [dict(r) for r in GOOD_SITES]
    rows[0]["name"] = unicodedata.normalize("NFD", "Đông Pao")
    with pytest.raises(SourceDataError, match="not Unicode NFC"):
        _load(make_catalog, sites=rows)


def test_non_utf8_file_is_refused(make_catalog):
    directory = make_catalog()
    (directory.parent / "refs.csv").write_bytes("id,title\nr1,Đông\nr2,x\n".encode("cp1258"))
    with pytest.raises(SourceDataError, match=r"refs.csv, row 1: not UTF-8 .*line 2"):
        load_layers(load_catalog(directory))


def test_undeclared_and_missing_columns(make_catalog):
    rows = [{k: v for k, v in r.items() if k != "refs"} | {"extra": "x"} for r in GOOD_SITES]
    with pytest.raises(SourceDataError) as info:
        _load(make_catalog, sites=rows)
    msg = str(info.value)
    assert "field 'refs': declared column missing from header" in msg
    assert "field 'extra': column not declared in the catalog" in msg
    assert GOOD_REFS
