"""Evidence kinds, users' own model files, and the independence of the evidence score from the sites.

The synthetic survey lies on the national grid near Hà Nội, in VN-2000 / UTM 48N, aligned to a 5 km
grid (the national grid snaps its corner to multiples of the cell size), so every expected value below
is worked out by hand from the declared formulas, not by the engine.
"""
from __future__ import annotations

import math
import shutil

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import LineString, Point, box

from conftest import run_geo
from geo.errors import CatalogError

RES = 5000.0
X0, Y0, N = 560_000.0, 2_350_000.0, 10  # the survey: 10 x 10 cells of 5 km, upper-left corner
CRS = "EPSG:3405"


def centre(r: int, c: int) -> tuple[float, float]:
    return X0 + (c + 0.5) * RES, Y0 - (r + 0.5) * RES


def dem(r: int, c: int) -> float:
    return 100.0 * c + 10.0 * r


GEOCHEM = [((2, 2), 200.0), ((7, 7), 400.0)]  # (row, col) of the sample's cell centre, Ce ppm


def write_survey(d):
    """A geology map (G west, S east, one B block), a fault, a DEM and two geochemistry samples."""
    gpd.GeoDataFrame({"litho": ["G", "S"]}, geometry=[box(X0, Y0 - N * RES, X0 + 5 * RES, Y0),
                                                      box(X0 + 5 * RES, Y0 - N * RES, X0 + N * RES, Y0)],
                     crs=CRS).to_file(d / "geology.gpkg")
    gpd.GeoDataFrame({"kind": ["fault"]}, geometry=[LineString([centre(-1, 2), centre(N, 2)])],
                     crs=CRS).to_file(d / "faults.gpkg")
    z = np.array([[dem(r, c) for c in range(N)] for r in range(N)], dtype=np.float32)
    with rasterio.open(d / "dem.tif", "w", driver="GTiff", width=N, height=N, count=1, dtype="float32",
                       crs=CRS, transform=Affine(RES, 0, X0, 0, -RES, Y0), nodata=-9999) as ds:
        ds.write(z, 1)
    gpd.GeoDataFrame({"ce_ppm": [v for _, v in GEOCHEM]}, geometry=[Point(*centre(*rc)) for rc, _ in GEOCHEM],
                     crs=CRS).to_file(d / "geochem.gpkg")


MODEL = """
resolution_m = 5000
ensemble_resolution_m = 20000
[style]
score_ramp = ["#000000", "#ffffff"]
uncertainty_ramp = ["#000000", "#ffffff"]
score_legend = { vi = "x", en = "x" }
uncertainty_legend = { vi = "x", en = "x" }
[types.weathering_crust]
operator = "and"
rationale = "test"
refs = ["r"]

[[types.weathering_crust.evidence]]
name = "granite"
kind = "vector_class"
component = "source"
path = "geology.gpkg"
field = "litho"
classes = { G = 0.9, S = 0.2 }
basis = "judgement"
rationale = "test"

[[types.weathering_crust.evidence]]
name = "near_fault"
kind = "vector_distance"
component = "pathway"
path = "faults.gpkg"
max_distance_m = 40000
membership = { function = "linear", x0 = 0, x1 = 40000, mu0 = 1.0, mu1 = 0.0 }
ranges = { "membership.x1" = [30000, 50000] }
basis = "judgement"
rationale = "test"

[[types.weathering_crust.evidence]]
name = "elevation"
kind = "raster"
component = "preservation"
path = "dem.tif"
resampling = "nearest"
membership = { function = "linear", x0 = 0, x1 = 1000 }
basis = "judgement"
rationale = "test"

[[types.weathering_crust.evidence]]
name = "relief"
kind = "raster_derivative"
component = "preservation"
path = "dem.tif"
derivative = "relief"
window_m = 15000
resampling = "nearest"
membership = { function = "linear", x0 = 0, x1 = 440 }
basis = "judgement"
rationale = "test"

[[types.weathering_crust.evidence]]
name = "cerium"
kind = "point_values"
component = "source"
path = "geochem.gpkg"
field = "ce_ppm"
method = "nearest"
radius_m = 6000
membership = { function = "linear", x0 = 0, x1 = 400 }
basis = "judgement"
rationale = "test"
"""


def expected() -> dict[str, np.ndarray]:
    """Memberships of the survey's cells worked out by hand (NaN: missing)."""
    out = {k: np.full((N, N), np.nan) for k in ("granite", "near_fault", "elevation", "relief", "cerium")}
    for r in range(N):
        for c in range(N):
            out["granite"][r, c] = 0.9 if c < 5 else 0.2
            out["near_fault"][r, c] = 1 - min(abs(c - 2) * RES, 40000) / 40000
            out["elevation"][r, c] = dem(r, c) / 1000
            nb = [dem(i, j) for i in range(r - 1, r + 2) for j in range(c - 1, c + 2) if 0 <= i < N and 0 <= j < N]
            out["relief"][r, c] = (max(nb) - min(nb)) / 440
            for (i, j), v in GEOCHEM:
                if math.hypot(i - r, j - c) * RES <= 6000:
                    out["cerium"][r, c] = v / 400
    return out


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    d = tmp_path_factory.mktemp("survey")
    write_survey(d)
    (d / "model.toml").write_text(MODEL)
    return d


def test_users_model_memberships_cell_by_cell(survey, project):
    """The tile function's memberships on the survey equal the hand-worked values."""
    from layers.model.evidence import RunContext
    from layers.model.model_spec import load_spec
    from layers.model.prospectivity import bind, national_grid, prepare, score_tile
    from rasterio.windows import Window
    spec = load_spec(survey / "model.toml")
    model = spec.types["weathering_crust"]
    inputs = prepare(project[1])
    grid = national_grid(inputs, RES)
    col, row = round((X0 - grid.x0) / RES), round((grid.y0 - Y0) / RES)
    win = Window(col, row, N, N)
    kinds = bind(model, RunContext(inputs, grid, "weathering_crust"))
    ts = score_tile(inputs, grid, win, {"weathering_crust": (model, kinds)})
    assert ts.national.all(), "the survey must lie on Vietnamese land"
    want = expected()
    for ev, mem in zip(model.evidence, ts.mems["weathering_crust"]):
        np.testing.assert_allclose(mem, want[ev.name], atol=1e-6, err_msg=ev.name)
    assert [k.score for k in kinds] == ["evidence"] * 5
    for k in kinds:
        k.close()


def test_geo_grid_model_scores_cell_by_cell(survey):
    """`geo grid --model` writes the evidence score (fuzzy AND of the present memberships) and the share
    of evidence missing, equal to the hand-worked values in every survey cell."""
    out = survey / "out"
    res = run_geo("grid", "--model", str(survey / "model.toml"), "--resolution", "5000",
                  "--types", "weathering_crust", "--out", str(out), "--jobs", "2")
    assert res.returncode == 0, res.stderr
    want = expected()
    stack = np.stack(list(want.values()))
    score = np.nanmin(stack, axis=0)
    missing = np.isnan(stack).mean(axis=0)
    grids = out / "grids"
    assert not (grids / "proximity_weathering_crust.tif").exists()  # the model has no site-based evidence
    with rasterio.open(grids / "evidence_weathering_crust.tif") as s, \
            rasterio.open(grids / "uncertainty_evidence_weathering_crust.tif") as u:
        win = rasterio.windows.from_bounds(X0, Y0 - N * RES, X0 + N * RES, Y0, s.transform)
        np.testing.assert_allclose(s.read(1, window=win), score, atol=1e-6)
        np.testing.assert_allclose(u.read(1, window=win), missing, atol=1e-6)
        assert s.tags()["evidence"] == "granite,near_fault,elevation,relief,cerium"
    assert (grids / "spread_evidence_weathering_crust.tif").exists()
    assert "too few sites to validate" in res.stderr + res.stdout  # three weathering-crust sites in Vietnam


BAD = MODEL.replace('kind = "point_values"', 'kind = "point_value"') \
           .replace('path = "dem.tif"\nresampling = "nearest"\nmembership = { function = "linear", x0 = 0, x1 = 1000 }',
                    'path = "no_such_dem.tif"\nresampling = "nearest"\nmembership = { function = "linear", x0 = 0, x1 = 1000 }') \
           .replace("classes = { G = 0.9, S = 0.2 }", "classes = { G = 0.9 }") \
           .replace('mu0 = 1.0, mu1 = 0.0 }\nranges = { "membership.x1" = [30000, 50000] }',
                    'mu0 = 1.5, mu1 = 0.0 }\nranges = { "membership.x1" = [45000, 50000] }')


def test_a_model_with_several_mistakes_gets_one_error_naming_all(survey):
    from layers.model.model_spec import load_spec
    bad = survey / "bad.toml"
    bad.write_text(BAD)
    with pytest.raises(CatalogError) as err:
        load_spec(bad)
    text = str(err.value)
    assert text.startswith("5 problems")
    for needle in ("types.weathering_crust.evidence[4].kind", "unknown evidence kind", "'point_value'",
                   "types.weathering_crust.evidence[2].path", "file not found",
                   "types.weathering_crust.evidence[0].classes", "1 class(es) of the file have no membership", "'S'",
                   "types.weathering_crust.evidence[1].membership.mu0", "a membership must lie in [0, 1]",
                   "types.weathering_crust.evidence[1].membership.x1", "outside its declared range"):
        assert needle in text, needle
    assert str(bad) in text
    res = run_geo("grid", "--model", str(bad), "--out", str(survey / "bad_out"))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "unknown evidence kind" in res.stderr and "file not found" in res.stderr


def test_a_raster_without_crs_is_reported(survey):
    from layers.model.model_spec import load_spec
    d = survey / "nocrs"
    d.mkdir()
    with rasterio.open(d / "dem.tif", "w", driver="GTiff", width=2, height=2, count=1, dtype="float32") as ds:
        ds.write(np.zeros((2, 2), np.float32), 1)
    shutil.copy(survey / "geology.gpkg", d)
    model = MODEL.split('[[types.weathering_crust.evidence]]\nname = "near_fault"')[0] + \
        MODEL[MODEL.index('[[types.weathering_crust.evidence]]\nname = "elevation"'):].split(
            '[[types.weathering_crust.evidence]]\nname = "relief"')[0]
    (d / "m.toml").write_text(model)
    with pytest.raises(CatalogError, match="the raster has no CRS"):
        load_spec(d / "m.toml")


def test_every_registered_kind_is_documented_and_every_shipped_parameter_has_a_range_and_component():
    from layers.model.evidence import KINDS, SCORES, numeric_leaves
    from layers.model.model_spec import RESERVED, load_spec
    assert {"raster", "raster_derivative", "vector_distance", "vector_class", "point_values", "site_distance",
            "zone_membership", "shoreline_distance", "unavailable"} <= set(KINDS)
    for name, cls in KINDS.items():
        assert cls.name == name and cls.__doc__ and cls.score in SCORES
    spec = load_spec()
    for t in spec.types.values():
        for ev in t.evidence:
            assert ev.component, f"{t.name}.{ev.name}: no mineral-system component"
            assert ev.refs or ev.basis == "judgement"
            if ev.kind != "unavailable":
                leaves = numeric_leaves({k: v for k, v in ev.params.items() if k not in RESERVED})
                assert ev.ranges, f"{t.name}.{ev.name}: no parameter ranges"
                assert set(ev.ranges) <= set(leaves)


def test_moving_a_known_site_changes_no_byte_of_any_evidence_grid(project, tmp_path):
    """A copy of the sources with one weathering-crust site moved 30 km (its zone drawn again from the
    moved site): every evidence COG and its uncertainty are byte-identical, the proximity COGs differ."""
    from layers.derived.zones import prospect_zones
    from layers.model.prospectivity import run_grids
    catalog, frames, _ = project
    moved = dict(frames)
    deps = frames["deposits"].copy()
    i = deps.index[deps["deposit_type"] == "weathering_crust"][0]
    metric = deps.to_crs(CRS)
    p = metric.geometry.loc[i]
    metric.loc[i, "geometry"] = Point(p.x + 30_000, p.y)
    moved["deposits"] = metric.to_crs(deps.crs)
    moved["prospect_zones"] = prospect_zones(catalog.layers["prospect_zones"], moved)
    runs = {name: run_grids(f, 10_000, types=["weathering_crust", "coastal_placer"], out_dir=tmp_path / name)
            for name, f in (("before", frames), ("after", moved))}
    paths = runs["before"].types["weathering_crust"].paths
    assert {"evidence", "uncertainty_evidence", "proximity"} <= set(paths)
    for t in ("weathering_crust", "coastal_placer"):
        for kind, path in runs["before"].types[t].paths.items():
            same = path.read_bytes() == runs["after"].types[t].paths[kind].read_bytes()
            if kind.endswith("evidence"):
                assert same, f"{t} {kind} changed when a site moved"
    a, b = (runs[k].types["weathering_crust"].paths["proximity"] for k in ("before", "after"))
    assert a.read_bytes() != b.read_bytes()


def test_membership_functions_follow_their_formulas():
    from geo.raster.fuzzy import class_table, gaussian, linear_ramp, sigmoid
    x = np.array([0, 50, 100, 150, np.nan], dtype=np.float32)
    np.testing.assert_allclose(linear_ramp(x, 50, 150, 1.0, 0.0), [1, 1, 0.5, 0, np.nan])
    np.testing.assert_allclose(linear_ramp(x, 150, 50, 0.2, 0.8), [0.8, 0.8, 0.5, 0.2, np.nan])
    np.testing.assert_allclose(sigmoid(x, 100, 25), 1 / (1 + np.exp(-(x - 100) / 25)), rtol=1e-6)
    np.testing.assert_allclose(sigmoid(x, 100, 25, increasing=False), 1 - 1 / (1 + np.exp(-(x - 100) / 25)), rtol=1e-6)
    np.testing.assert_allclose(gaussian(x, 100, 50), np.exp(-0.5 * ((x - 100) / 50) ** 2), rtol=1e-6)
    np.testing.assert_allclose(class_table(np.array([1, 2, 3], np.float32), {"1": 0.5, "3": 1.0}), [0.5, np.nan, 1.0])


def test_point_gridding_idw_and_radius():
    from geo.grid import Grid
    from geo.raster.points import PointSamples, grid_points
    grid = Grid.covering((0, 0, 1000, 100), 100, CRS)
    win = next(grid.tiles())
    s = PointSamples(np.array([[50.0, 50.0], [450.0, 50.0]]), np.array([10.0, 20.0]))
    out = grid_points(grid, win, s, 300, "idw", 2)[0]
    assert out[0] == pytest.approx(10.0)  # a sample at the cell centre gives its value
    d1, d2 = 200.0, 200.0  # cell 2 (centre 250): both samples 200 m away
    assert out[2] == pytest.approx((10 / d1 ** 2 + 20 / d2 ** 2) / (1 / d1 ** 2 + 1 / d2 ** 2))
    assert np.isnan(out[9])  # 500 m from the nearest sample: beyond the radius


def test_distance_to_points_is_exact_and_capped():
    from geo.grid import Grid, Shapes
    from geo.raster.distance import feature_distance
    grid = Grid.covering((0, 0, 3000, 2000), 100, CRS)
    win = next(grid.tiles())
    pts = [Point(120.0, 130.0), Point(2500.0, 1500.0)]
    d = feature_distance(grid, win, Shapes(pts), 1000)
    xs, ys = grid.centres(win)
    X, Y = np.meshgrid(xs, ys)
    brute = np.minimum(np.minimum(np.hypot(X - 120, Y - 130), np.hypot(X - 2500, Y - 1500)), 1000)
    np.testing.assert_allclose(d, brute, rtol=1e-6)


def test_explain_a_cell_gives_each_evidence_value_membership_and_the_score(survey, project):
    """`explain` at a survey cell: the raw values, the memberships and the score worked out by hand."""
    from pyproj import Transformer

    from layers.model.explain import explain
    from layers.model.model_spec import load_spec
    r, c = 2, 3
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(*centre(r, c))
    scores, rows = explain(project[1], "weathering_crust", lon, lat, RES, load_spec(survey / "model.toml"))
    want = expected()
    by = {row.evidence: row for row in rows}
    for name, grid in want.items():
        assert by[name].membership == pytest.approx(grid[r, c], abs=1e-6), name
        assert by[name].score == "evidence" and by[name].basis == "judgement"
    assert by["elevation"].value == pytest.approx(dem(r, c))
    assert by["near_fault"].value == pytest.approx(RES)  # one column from the fault
    assert by["granite"].value is None and by["granite"].component == "source"
    assert scores == {"evidence": pytest.approx(min(g[r, c] for g in want.values()), abs=1e-6)}


def test_geo_explain_prints_each_evidence_and_the_scores(survey):
    from pyproj import Transformer
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(*centre(2, 3))
    res = run_geo("explain", "weathering_crust", f"{lon:.6f}", f"{lat:.6f}", "--resolution", "5000",
                  "--model", str(survey / "model.toml"))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split()[:5] == ["evidence", "score", "component", "value", "membership"]
    elevation = next(line.split() for line in lines if line.startswith("elevation "))
    assert elevation[:5] == ["elevation", "evidence", "preservation", "320", "0.32"]
    assert lines[-1] == "evidence score: 0.32"
    bad = run_geo("explain", "no_such_type", "105", "21")
    assert bad.returncode == 2 and "weathering_crust" in bad.stderr
