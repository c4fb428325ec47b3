"""The GIS round trip in real QGIS (Debian's python3-qgis, headless through /usr/bin/python3): the project
stored in the GeoPackage opens with every layer valid and in its group, the grids carry their .qml
pseudocolour ramps, and a render of the project has the deposits' colours where the deposits are."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pyogrio
import pytest
import rasterio

from conftest import QGIS_PYTHON, ROOT, run_geo, skip_without
from geo.crs import METRIC_CRS
from geo.gpkg.qgis_project import PROJECT_TABLE, read_project_qgs
from geo.gpkg.qml import bilingual
from layers.load import default_catalog
from layers.model.model_spec import load_spec
from layers.model.overlay import grid_layers
from maps.composition import load_compositions
from maps.i18n import load_labels
from maps.qgis_project import QGIS_PROJECT, TREE_ORDER

CHECK = Path(__file__).parent / "qgis" / "check_project.py"
IMPORTED = "field_sites"
IMPORTED_SITE = ("f1", "Điểm thực địa", 105.30, 21.40)  # an imported occurrence in Phú Thọ, away from the deposits


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("qgis")
    f = d / "field_sites.csv"
    f.write_text("id,name,lon,lat\n" + ",".join(map(str, IMPORTED_SITE)) + "\n", encoding="utf-8")
    imports = d / "imports"
    res = run_geo("import", str(f), "--as", "occurrences", "--dir", str(imports))
    assert res.returncode == 0, res.stderr
    out = d / "build"
    res = run_geo("--imports", str(imports), "build", "--out", str(out), "--resolution", "5000", timeout=600)
    assert res.returncode == 0, res.stderr
    return out


@pytest.fixture(scope="module")
def qgis(built):
    skip_without("python3-qgis")
    gpkg = built / "vietnam_ree.gpkg"
    deposits = pyogrio.read_dataframe(gpkg, layer="deposits")
    spec = default_catalog()["deposits"]
    points = [["deposits", g.x, g.y, spec.style.symbol_for(t).fill] for g, t in zip(deposits.geometry, deposits["deposit_type"])]
    points.append([IMPORTED, IMPORTED_SITE[2], IMPORTED_SITE[3], "#E69F00"])
    png = ROOT / "build" / "screenshots" / "qgis_national.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    res = subprocess.run([QGIS_PYTHON, str(CHECK), str(gpkg), QGIS_PROJECT, str(png), json.dumps(points)],
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": "/tmp"})
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1]) | {"png": png}


def test_project_is_stored_as_qgis_stores_it(built):
    gpkg = built / "vietnam_ree.gpkg"
    with sqlite3.connect(gpkg) as con:
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({PROJECT_TABLE})")]
        name, meta, content = con.execute(f"SELECT name, metadata, content FROM {PROJECT_TABLE}").fetchone()
    assert cols == ["name", "metadata", "content"] and name == QGIS_PROJECT
    assert set(json.loads(meta)) == {"last_modified_time", "last_modified_user"}
    assert content.startswith("504b0304")  # hex text of a zip (.qgz), as QGIS writes it
    qgs = ET.fromstring(read_project_qgs(gpkg, QGIS_PROJECT).split("\n", 1)[1])
    assert qgs.find("properties/Paths/Absolute").text == "false"
    sources = [ml.find("datasource").text for ml in qgs.iter("maplayer")]
    assert all(s.startswith("./vietnam_ree.gpkg|layername=") or s.startswith("./grids/") for s in sources), sources


def test_every_layer_opens_valid_in_its_group_in_drawing_order(qgis):
    assert qgis["read"] is True and qgis["qgis"].startswith("3.")
    assert qgis["crs"] == METRIC_CRS  # the project CRS is read (VN-2000 / UTM 48N, geo/crs.py)
    catalog = default_catalog()
    comp = load_compositions(catalog)[QGIS_PROJECT]
    labels = load_labels()
    layers = qgis["layers"]
    assert all(lyr["valid"] for lyr in layers), [lyr["name"] for lyr in layers if not lyr["valid"]]
    group_names = {bilingual(labels.groups[g]): g for g in TREE_ORDER}
    assert [group_names[g] for g in qgis["groups"]] == [g for g in TREE_ORDER if g in {*(m.group for m in comp.layers), "grids"}]
    vectors = [lyr for lyr in layers if lyr.get("renderer") != "singlebandpseudocolor"]
    # QGIS lists the top layer first: the composition's order reversed, group by group
    want = []
    for g in TREE_ORDER:
        want += [(m.layer, g, m.show) for m in reversed(comp.layers) if m.group == g]
    got = [(lyr["source"].rsplit("layername=", 1)[1], group_names[lyr["group"]], lyr["visible"]) for lyr in vectors]
    assert got[0][0] == IMPORTED  # the imported layer is drawn on top, in the deposits group
    assert got[1:] == want
    for lyr in vectors:
        spec = catalog[lyr["source"].rsplit("layername=", 1)[1]] if lyr["source"].rsplit("layername=", 1)[1] in catalog.layers else None
        if spec is not None:
            assert lyr["renderer"] == ("categorizedSymbol" if spec.style.category_field else "singleSymbol")
            assert lyr["name"] == bilingual(spec.title)
    arch = next(lyr for lyr in vectors if lyr["source"].endswith("layername=archipelagos"))
    assert arch["labels"] is True and arch["visible"] is True


def test_grids_are_pseudocolour_from_their_qml_with_band_description_and_unit(qgis, built):
    rasters = [lyr for lyr in qgis["layers"] if lyr["source"] and lyr["source"].endswith(".tif")]
    expected = [gl for gl in grid_layers(built) if gl.path.exists()]
    assert expected == grid_layers(built) and len(rasters) == len(expected)  # every declared grid was written
    for gl, lyr in zip(expected, rasters):
        assert Path(lyr["source"]).resolve() == gl.path.resolve()
        assert lyr["renderer"] == "singlebandpseudocolor" and lyr["visible"] is False
        assert [c for _, c in lyr["ramp"]] == [c.lower() for c in gl.ramp]
        assert [v for v, _ in lyr["ramp"]] == pytest.approx([i / (len(gl.ramp) - 1) for i in range(len(gl.ramp))])
        assert lyr["nodata"] == -9999
        qml = ET.parse(gl.path.with_suffix(".qml")).getroot()
        shader = qml.find("pipe/rasterrenderer")
        assert shader.get("type") == "singlebandpseudocolor"
        assert [i.get("color") for i in qml.iter("item")] == [c.lower() for c in gl.ramp]
        with rasterio.open(gl.path) as src:
            assert src.units[0] == gl.unit and src.descriptions[0]


def test_render_has_deposit_colours_where_the_deposits_are(qgis):
    hits = qgis["hits"]
    assert qgis["size"] == [900, 1200] and qgis["png"].stat().st_size > 10_000
    near = [h for h in hits if h["distance"] <= 30]  # sum of |ΔR|+|ΔG|+|ΔB| within 6 px of the point
    # deposits close together overlap on a national map: nearly all must show their colour
    deposits = [h for h in hits if h["layer"] == "deposits"]
    assert len([h for h in near if h["layer"] == "deposits"]) >= 0.85 * len(deposits), hits
    assert {h["colour"] for h in near if h["layer"] == "deposits"} == {h["colour"] for h in deposits}
    assert [h for h in near if h["layer"] == IMPORTED], hits


def test_a_grid_switched_on_draws_its_ramp_over_vietnam(qgis):
    """The first grid turned on in the same view: many sampled pixels change to colours of its ramp
    (a project whose CRS QGIS cannot read draws no raster at all: measured)."""
    assert qgis["grid"].startswith(("evidence_", "proximity_"))
    assert qgis["grid_pixels"] > 2000, qgis["grid_pixels"]  # of 120,000 sampled pixels; Vietnam is ~8 % of the view
