"""`geo build` writes OUT/stac/catalog.json: every output file is an asset of an item, every catalog file
validates against the STAC 1.1 core and extension JSON schemas (offline: pystac-core's copies of the core
schemas, the extension schemas committed in tests/stac_schemas/), checksums and sizes match the files,
and every href is relative."""
from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT7


SCHEMAS = Path(__file__).parent / "stac_schemas"
CORE = "https://schemas.stacspec.org/v1.1.0"
EXTENSIONS = {
    "https://stac-extensions.github.io/projection/v2.0.0/schema.json": "projection-v2.0.0.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json": "raster-v1.1.0.json",
    "https://stac-extensions.github.io/file/v2.1.0/schema.json": "file-v2.1.0.json",
    "https://stac-extensions.github.io/scientific/v1.0.0/schema.json": "scientific-v1.0.0.json",
    "https://proj.org/schemas/v0.7/projjson.schema.json": "projjson-v0.7.json",
}


def _registry() -> Registry:
    """Every schema the catalog's documents refer to, from local files; anything else fails (no network)."""
    base = resources.files("pystac.validation.jsonschemas")
    docs = {}
    for name in ("item", "catalog", "collection"):
        docs[f"{CORE}/{name}-spec/json-schema/{name}.json"] = json.loads(
            base.joinpath(f"stac-spec/v1.1.0/{name}.json").read_text())
    for name in ("bands", "basics", "common", "data-values", "datetime", "instrument", "licensing", "provider"):
        docs[f"{CORE}/item-spec/json-schema/{name}.json"] = json.loads(
            base.joinpath(f"stac-spec/v1.1.0/{name}.json").read_text())
    for name in ("Feature", "Geometry"):
        docs[f"https://geojson.org/schema/{name}.json"] = json.loads(base.joinpath(f"geojson/{name}.json").read_text())
    for uri, file in EXTENSIONS.items():
        docs[uri] = json.loads((SCHEMAS / file).read_text())

    def refuse(uri):
        raise NoSuchResource(ref=uri)
    return Registry(retrieve=refuse).with_resources(
        (uri, Resource.from_contents(doc, default_specification=DRAFT7)) for uri, doc in docs.items())


@pytest.fixture(scope="module")
def built(build_5km):
    """The run's shared 5 km build (tests/conftest.py); read only."""
    assert str(build_5km.out / "stac" / "catalog.json") in build_5km.stdout.split()
    return build_5km.out


def _documents(out: Path) -> list[Path]:
    return sorted((out / "stac").rglob("*.json"))


def test_every_output_file_has_an_item(built):
    hrefs = set()
    for p in _documents(built):
        doc = json.loads(p.read_text())
        for a in doc.get("assets", {}).values():
            hrefs.add((p.parent / a["href"]).resolve())
    wanted = [f for f in (built / "grids").rglob("*") if f.is_file()]
    wanted += [built / "vietnam_ree.gpkg", *(built / "maps").glob("*.html"), *(built / "reports").glob("*.png")]
    assert len(wanted) > 20 and (built / "maps" / "prospectivity.html") in wanted
    missing = [str(f.relative_to(built)) for f in wanted if f.resolve() not in hrefs]
    assert missing == []
    assert all(h.exists() for h in hrefs)  # and no item points at a file that is not there


def test_every_document_validates_offline(built):
    registry = _registry()
    docs = _documents(built)
    kinds = {"Catalog": 0, "Collection": 0, "Feature": 0}
    for p in docs:
        doc = json.loads(p.read_text())
        core = {"Feature": "item", "Collection": "collection", "Catalog": "catalog"}[doc["type"]]
        kinds[doc["type"]] += 1
        for uri in [f"{CORE}/{core}-spec/json-schema/{core}.json", *doc.get("stac_extensions", [])]:
            errors = list(Draft7Validator(registry.contents(uri), registry=registry).iter_errors(doc))
            assert errors == [], (p, uri, [e.message for e in errors[:3]])
    assert kinds["Catalog"] == 1 and kinds["Collection"] == 4 and kinds["Feature"] >= 20
    # the extensions the issue asks for are declared (and so were checked above)
    grid_item = json.loads(next((built / "stac" / "grids").rglob("evidence_coastal_placer.json")).read_text())
    assert {u.split("/")[3] for u in grid_item["stac_extensions"]} >= {"projection", "raster", "file", "scientific"}
    band = grid_item["assets"]["data"]["raster:bands"][0]
    assert band["nodata"] == -9999 and band["data_type"] == "float32" and band["unit"]
    assert 0 <= band["statistics"]["minimum"] <= band["statistics"]["maximum"] <= 1
    assert grid_item["assets"]["data"]["proj:code"] == "EPSG:3405"
    assert grid_item["properties"]["license"] == "CC-BY-4.0" and grid_item["properties"]["sci:publications"]


def test_a_document_with_a_wrong_field_fails_validation(built):
    """The schemas do check: a checksum in upper case and a negative size are refused."""
    registry = _registry()
    p = next((built / "stac" / "grids").rglob("evidence_coastal_placer.json"))
    doc = json.loads(p.read_text())
    doc["assets"]["data"]["file:size"] = -1
    uri = "https://stac-extensions.github.io/file/v2.1.0/schema.json"
    assert list(Draft7Validator(registry.contents(uri), registry=registry).iter_errors(doc))


def test_checksums_and_sizes_match_the_files(built):
    checked = 0
    for p in _documents(built):
        for a in json.loads(p.read_text()).get("assets", {}).values():
            f = p.parent / a["href"]
            assert a["file:size"] == f.stat().st_size
            assert a["file:checksum"] == "1220" + hashlib.sha256(f.read_bytes()).hexdigest()
            checked += 1
    assert checked > 20


def test_links_are_relative_and_the_folder_moves(built, tmp_path):
    import shutil

    import pystac
    for p in _documents(built):
        doc = json.loads(p.read_text())
        for link in doc["links"]:
            if link["rel"] in ("root", "parent", "child", "item", "collection"):
                assert not link["href"].startswith(("/", "file:", "http")), (p, link)
        for a in doc.get("assets", {}).values():
            assert not a["href"].startswith(("/", "file:", "http"))
    moved = tmp_path / "moved"
    shutil.copytree(built, moved)
    cat = pystac.Catalog.from_file(str(moved / "stac" / "catalog.json"))
    items = list(cat.get_items(recursive=True))
    assert items and all(Path(a.get_absolute_href()).is_file() and str(moved) in a.get_absolute_href()
                         for i in items for a in i.assets.values())
