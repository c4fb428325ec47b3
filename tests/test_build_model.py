"""`geo build --model FILE`: every reader of the build describes the model that made its grids (the
record in OUT/grids/model.toml and model.json, layers/model/record.py), never the project's default:
the web maps' legends and click panel, the STAC items, the GeoPackage's evidence table, and maps redrawn
later (`geo map`, `geo tiles`) after the model file has changed."""
from __future__ import annotations

import hashlib
import json
import re
import shutil

import numpy as np
import pyogrio
import pytest
from affine import Affine

from conftest import geo_in_process
from maps.headless import CHROMIUM
from layers.model.model_spec import load_spec
from test_model_files import write_dem

TYPE = "weathering_crust"  # a type the project's model has too: its default text must not appear
USER_MODEL = """
resolution_m = 20000
ensemble_resolution_m = 20000
table_resolution_m = 20000
[style]
score_ramp = ["#fde725", "#21918c", "#440154"]
uncertainty_ramp = ["#ffffff", "#000000"]
[types.weathering_crust]
title = { vi = "Mô hình người dùng: vỏ phong hoá", en = "User model: weathering crust" }
operator = "and"
rationale = "test"
refs = ["r"]

[[types.weathering_crust.evidence]]
name = "survey_height"
kind = "raster"
path = "dem.tif"
band = 1
membership = { function = "linear", x0 = 0, x1 = 1000 }
basis = "judgement"
rationale = "test"

[evidence_text.survey_height]
title = { vi = "Độ cao khảo sát (người dùng)", en = "Survey height (user)" }
unit = { vi = "m", en = "m" }
"""
USER_TITLE, USER_EVIDENCE = "User model: weathering crust", "Survey height (user)"


def _default_texts() -> set[str]:
    """The project model's English titles of the type and of its evidence."""
    spec = load_spec()
    return {spec.types[TYPE].title.en} | {spec.evidence_title(e.name).en for e in spec.types[TYPE].evidence}


@pytest.fixture(scope="module")
def user_build(tmp_path_factory):
    """A 20 km `geo build --model` with a model whose titles and evidence differ from the project's:
    (model file, build folder)."""
    d = tmp_path_factory.mktemp("user-model")
    # 2° cells over all of Vietnam, 0-1000 m west to east: the membership varies across the country
    write_dem(d / "dem.tif", "EPSG:4326", Affine(2.0, 0, 102.0, 0, -2.0, 24.0),
              np.tile(np.linspace(0, 1000, 10, dtype=np.float32), (10, 1)))
    (d / "model.toml").write_text(USER_MODEL, encoding="utf-8")
    out = d / "out"
    rc, stdout, err = geo_in_process("build", "--model", str(d / "model.toml"), "--resolution", "20000",
                                     "--out", str(out))
    assert rc == 0, err
    assert str(out / "grids" / "model.json") in stdout.split()
    return d / "model.toml", out


def _panel(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="ree-cell-data">(.*?)</script>', html, re.S)
    return json.loads(block.group(1))


def _assert_user_model(out) -> None:
    """The prospectivity map's legend, sources and click panel, and the national map, name the user's model."""
    page = (out / "maps" / "prospectivity.html").read_text(encoding="utf-8")
    panel = _panel(page)["types"][TYPE]
    assert panel["title"]["en"] == USER_TITLE
    rows = [r for g in panel["scores"] for r in g["evidence"]]
    assert [(r["name"], r["title"]["en"]) for r in rows] == [("survey_height", USER_EVIDENCE)]
    national = (out / "maps" / "national.html").read_text(encoding="utf-8")
    for html in (page, national):
        assert USER_TITLE in html and USER_EVIDENCE in html  # the overlay's title and legend
        assert not [t for t in _default_texts() if t in html]


def test_the_build_records_the_model_that_made_its_grids(user_build):
    model, out = user_build
    copy, record = out / "grids" / "model.toml", json.loads((out / "grids" / "model.json").read_text())
    assert copy.read_bytes() == model.read_bytes()
    assert record == {"model": "model.toml", "sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
                      "source": str(model.resolve())}
    evidence = pyogrio.read_dataframe(out / "vietnam_ree.gpkg", layer="prospectivity_evidence")
    assert list(zip(evidence["deposit_type"], evidence["evidence"])) == [(TYPE, "survey_height")]


def test_the_web_maps_describe_the_user_model(user_build):
    _assert_user_model(user_build[1])


def test_the_stac_items_describe_the_user_model(user_build):
    _, out = user_build
    stac = out / "stac" / "grids"
    item = json.loads((stac / f"evidence_{TYPE}" / f"evidence_{TYPE}.json").read_text())
    assert item["properties"]["title"].startswith(USER_TITLE) and USER_EVIDENCE in item["properties"]["description"]
    explain = json.loads((stac / f"explain-membership_survey_height_{TYPE}" /
                          f"explain-membership_survey_height_{TYPE}.json").read_text())
    assert USER_TITLE in explain["properties"]["title"] and USER_EVIDENCE in explain["properties"]["title"]
    model = json.loads((stac / "model" / "model.json").read_text())
    assert {a["href"].rsplit("/", 1)[-1]: a["type"] for a in model["assets"].values()} == {
        "model.toml": "application/toml", "model.json": "application/json"}
    assert USER_TITLE in model["properties"]["description"]
    text = "\n".join(p.read_text() for p in stac.rglob("*.json"))
    assert not [t for t in _default_texts() if t in text]


def test_redrawn_maps_keep_the_model_that_made_the_grids(user_build, tmp_path):
    model, built = user_build
    out = tmp_path / "out"
    shutil.copytree(built, out)
    original = model.read_text(encoding="utf-8")
    try:  # the model file changes after the build: the build keeps its own copy
        model.write_text(original.replace(USER_TITLE, "Edited later").replace(USER_EVIDENCE, "Edited later"),
                         encoding="utf-8")
        for name in ("prospectivity", "national"):
            (out / "maps" / f"{name}.html").unlink()
            rc, _, err = geo_in_process("map", name, "--out", str(out))
            assert rc == 0, err
        _assert_user_model(out)
        rc, _, err = geo_in_process("tiles", "--build", str(out), "--out", str(out / "tiles"), "--min-zoom", "5",
                                    "--max-zoom", "5")  # redraws the maps and the STAC catalog
        assert rc == 0, err
        _assert_user_model(out)
        item = (out / "stac" / "grids" / f"evidence_{TYPE}" / f"evidence_{TYPE}.json").read_text()
        assert USER_EVIDENCE in item and "Edited later" not in item
    finally:
        model.write_text(original, encoding="utf-8")


@pytest.mark.parametrize("damage", ["edited", "missing"])
def test_a_damaged_model_copy_is_refused_in_one_line(user_build, tmp_path, damage):
    out = tmp_path / "out"
    shutil.copytree(user_build[1], out)
    copy = out / "grids" / "model.toml"
    if damage == "edited":
        copy.write_text(copy.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    else:
        copy.unlink()
    rc, _, err = geo_in_process("map", "prospectivity", "--out", str(out))
    assert rc == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: {copy}: ") and f"rebuild the grids (geo grid --out {out}" in err
    assert ("differs from the model that made the grids" if damage == "edited" else "cannot be read") in err


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_a_click_in_chromium_explains_the_cell_with_the_user_model(user_build):
    """The panel of a high mainland cell names the user's type and evidence; an evidence without a
    mineral-system component shows none (no empty "Component:" label)."""
    from geo.raster.preview import wgs84_preview
    from layers.model.overlay import overlay
    from maps.headless import chromium
    from maps.web.grids import PREVIEW_CELL_DEG
    _, out = user_build
    values, (w, _, _, n) = wgs84_preview(overlay(TYPE, out).path, PREVIEW_CELL_DEG)
    values[:, w + (np.arange(values.shape[1]) + 0.5) * PREVIEW_CELL_DEG > 109.5] = np.nan  # the mainland
    high = np.nan_to_num(values, nan=-1) >= np.nanmax(values) - 0.05
    r, c = next((r, c) for r, c in zip(*np.nonzero(high)) if high[r - 2:r + 3, c - 2:c + 3].all())  # inland
    lat, lon = n - (r + 0.5) * PREVIEW_CELL_DEG, w + (c + 0.5) * PREVIEW_CELL_DEG
    with chromium((1400, 900)) as ctx:
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto((out / "maps" / "prospectivity.html").resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => window.REE && REE.ready !== null")
        page.evaluate(f"() => document.querySelector('input[data-key=\"evidence_{TYPE}\"]').click()")
        x, y = page.evaluate("""([lat, lon]) => { const m = REE.map; m.setView([lat, lon], 9, {animate: false});
            const p = m.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }""", [lat, lon])
        page.locator(".ree-lang button[data-lang=en]").click()
        page.mouse.click(x, y)
        text = page.locator(".ree-cell").inner_text(timeout=5000)
    assert errors == []
    assert USER_TITLE in text and USER_EVIDENCE in text and "Component" not in text, text
    assert not [t for t in _default_texts() if t in text]


def test_the_export_describes_the_model_of_the_build(user_build, tmp_path):
    """`geo export --build OUT` exports the evidence table of the model that made OUT's grids (the project's
    model when the build records none)."""
    import pandas as pd
    _, out = user_build
    for build, want in ((out, {"survey_height"}), (tmp_path / "no-build", None)):
        rc, _, err = geo_in_process("export", "--format", "csv", "--layers", "prospectivity_evidence",
                                    "--build", str(build), "--out", str(tmp_path / build.name))
        assert rc == 0, err
        table = pd.read_csv(tmp_path / build.name / "prospectivity_evidence.csv")
        names = set(table.loc[table.deposit_type == TYPE, "evidence"])
        if want:
            assert names == want
        else:
            assert names == {e.name for e in load_spec().types[TYPE].evidence}


def test_another_models_run_of_some_types_is_refused_where_it_would_leave_other_grids(user_build, tmp_path):
    """`geo grid --types` with another model into a build whose other types' grids it would not replace:
    refused in one line before anything is computed (the record would ascribe those grids to this model),
    every file left as it was; the same run into an empty folder works."""
    _, out = user_build
    build = tmp_path / "build"
    shutil.copytree(out / "grids", build / "grids")
    before = {p.name: p.read_bytes() for p in (build / "grids").glob("*") if p.is_file()}
    rc, _, err = geo_in_process("grid", "--types", "coastal_placer", "--resolution", "20000", "--out", str(build))
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert "model.json" in err and f"evidence_{TYPE}.tif" in err and "without --types" in err
    assert {p.name: p.read_bytes() for p in (build / "grids").glob("*") if p.is_file()} == before
    rc, _, err = geo_in_process("grid", "--types", "coastal_placer", "--resolution", "20000", "--out", str(tmp_path / "new"))
    assert rc == 0, err
