"""The catalog loader: the project's catalog is valid; a broken one is reported whole."""
from __future__ import annotations

import pytest

from conftest import REFS, SITES, run_geo
from geo.catalog import load_catalog
from geo.errors import CatalogError
from layers.load import default_catalog


def test_project_catalog_is_valid_and_complete():
    cat = default_catalog()
    assert "deposits" in cat.layers and "references" in cat.layers
    for spec in cat:
        assert spec.title.vi and spec.title.en and spec.description.vi and spec.description.en
        assert spec.attribution and spec.licence
        for f in spec.fields:
            assert f.alias.vi and f.alias.en, f"{spec.name}.{f.name} needs both aliases"
        if spec.spatial:
            assert spec.style is not None


def test_every_domain_value_of_a_category_field_has_a_symbol():
    cat = default_catalog()
    for spec in cat:
        if spec.style and spec.style.category_field:
            dom = cat.domain_of(spec.field(spec.style.category_field))
            assert set(spec.style.categories) == set(dom.values)


def test_two_mistakes_reported_together_with_file_and_key(make_catalog):
    broken = SITES.replace('geometry = "Point"', 'geometry = "Pointy"').replace(
        'name = "lat"\ntype = "real"', 'name = "lat"')
    directory = make_catalog(sites_toml=broken)
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    msg = str(info.value)
    assert "sites.toml" in msg
    assert "geometry" in msg and "'Pointy'" in msg
    assert "fields[4] (lat).type" in msg and "missing required key" in msg
    assert len(info.value.problems) == 2
    assert isinstance(info.value, ValueError)


def test_cli_validate_exits_2_with_one_line_naming_both(make_catalog):
    broken = SITES.replace('geometry = "Point"', 'geometry = "Pointy"').replace(
        'name = "lat"\ntype = "real"', 'name = "lat"')
    directory = make_catalog(sites_toml=broken)
    res = run_geo("--catalog", str(directory), "validate")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Pointy" in lines[0] and "(lat).type" in lines[0] and "sites.toml" in lines[0]
    assert "Traceback" not in res.stderr


def test_cli_verbose_shows_traceback(make_catalog):
    directory = make_catalog(sites_toml=SITES.replace('geometry = "Point"', 'geometry = "Pointy"'))
    res = run_geo("-v", "--catalog", str(directory), "validate")
    assert res.returncode == 2 and "Traceback" in res.stderr


def test_unknown_keys_style_and_foreign_key_are_caught(make_catalog):
    bad = (SITES.replace('marker = "triangle"', 'marker = "hexagon"')
           .replace('foreign_key = "refs.id"', 'foreign_key = "nope.id"')
           .replace('licence = "CC0-1.0"', 'licence = "CC0-1.0"\ncolour = "red"'))
    with pytest.raises(CatalogError) as info:
        load_catalog(make_catalog(sites_toml=bad))
    msg = str(info.value)
    assert "'hexagon'" in msg and "'nope.id'" in msg and "field 'colour': unknown key" in msg


def test_style_categories_must_match_domain(make_catalog):
    bad = SITES.replace(', categories.b = { fill = "#0072B2" }', ', categories.c = { fill = "#0072B2" }')
    with pytest.raises(CatalogError) as info:
        load_catalog(make_catalog(sites_toml=bad))
    msg = str(info.value)
    assert "domain value has no symbol (value: 'b')" in msg
    assert "style.categories.c" in msg


def test_refs_layer_is_a_table(make_catalog):
    cat = load_catalog(make_catalog())
    assert not cat["refs"].spatial and cat["sites"].geometry == "Point"
    assert REFS  # the fixture declares the table through the same loader
