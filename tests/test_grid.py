"""The raster engine on small synthetic grids: fuzzy operators, land mask, nodata, COG, leave-one-out."""
from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rio_cogeo.cogeo import cog_validate
from shapely.geometry import Point, box

from geo.raster.cog import NODATA, CogWriter
from geo.raster.fuzzy import combine, fuzzy_gamma, linear_decay
from geo.grid import Grid, burn, point_influence
from geo.raster.resample import upsample_bilinear, upsample_nearest

A = np.array([0.2, 0.5, 0.9, np.nan], dtype=np.float32)
B = np.array([0.4, 0.5, 0.1, 0.6], dtype=np.float32)


# Definitions: Bonham-Carter (1994, ch. 9); gamma after Zimmermann & Zysno (1980).
@pytest.mark.parametrize("op, expected", [
    ("and", [min(0.2, 0.4), 0.5, 0.1, 0.6]),
    ("or", [max(0.2, 0.4), 0.5, 0.9, 0.6]),
    ("product", [0.2 * 0.4, 0.25, 0.9 * 0.1, 0.6]),
    ("sum", [1 - 0.8 * 0.6, 1 - 0.25, 1 - 0.1 * 0.9, 0.6]),
])
def test_operators_follow_their_formulas(op, expected):
    np.testing.assert_allclose(combine(op, [A, B]), expected, rtol=1e-6)


def test_gamma_is_sum_to_the_gamma_times_product_to_one_minus_gamma():
    g = 0.7
    s, p = 1 - (1 - 0.2) * (1 - 0.4), 0.2 * 0.4
    assert fuzzy_gamma([A, B], g)[0] == pytest.approx(s ** g * p ** (1 - g), rel=1e-6)
    np.testing.assert_allclose(fuzzy_gamma([A, B], 1.0), combine("sum", [A, B]), rtol=1e-6)
    np.testing.assert_allclose(fuzzy_gamma([A, B], 0.0), combine("product", [A, B]), rtol=1e-6)


def test_gamma_matches_the_power_formula_on_many_values_and_zero_memberships():
    rng = np.random.default_rng(3)
    a, b = rng.random((2, 10_000), dtype=np.float32)
    a[:50] = 0.0  # a zero membership: product 0, so gamma 0 for any g < 1
    for g in (0.2, 0.8):
        s, p = 1 - (1 - a.astype(float)) * (1 - b), a.astype(float) * b
        np.testing.assert_allclose(fuzzy_gamma([a, b], g), s ** g * p ** (1 - g), rtol=1e-5, atol=1e-7)
        assert (fuzzy_gamma([a, b], g)[:50] == 0).all()


def test_all_missing_stays_missing_and_bad_operator_is_refused():
    nan = np.array([np.nan], dtype=np.float32)
    for op in ("and", "or", "product", "sum", "gamma"):
        assert np.isnan(combine(op, [nan, nan], 0.5)[0])
    with pytest.raises(ValueError, match="unknown fuzzy operator"):
        combine("xor", [A])


def test_linear_decay():
    d = np.array([0, 100, 550, 1000, 5000], dtype=np.float32)
    np.testing.assert_allclose(linear_decay(d, 100, 1000, 1.0, 0.1), [1, 1, 0.55, 0.1, 0.1], rtol=1e-6)


GRID = Grid.covering((0, 0, 10_000, 8_000), 100, "EPSG:3405")


def test_grid_covers_bounds_and_burns_the_mask():
    assert (GRID.width, GRID.height) == (100, 80)
    win = next(GRID.tiles(1024))
    mask = burn(GRID, win, [box(2_000, 2_000, 5_000, 4_000)])
    assert mask.sum() == 30 * 20
    assert mask[80 - 30, 25] == 1 and mask[0, 0] == 0  # row 50 is y 3,000-3,100


@pytest.mark.parametrize("factor", [2, 3, 7, 23, 46])
def test_aligned_upsampling_matches_gdals_warper(factor):
    """The numpy upsampling of a coarser aligned grid (coarse relief, fault distances, coarse raster reads)
    against rasterio.warp.reproject on the same arrays: nearest identical; bilinear within 1e-3 on values
    up to 5,000, with NaN where GDAL leaves NaN (a cell whose own block is missing)."""
    from rasterio.enums import Resampling
    from rasterio.warp import reproject
    from rasterio.windows import Window
    rng = np.random.default_rng(factor)
    grid = Grid("EPSG:32648", 100_130.0, 2_600_000.0, 30.0, 9_000, 9_000)
    for win in (Window(2048, 1024, 1024, 1024), Window(5120, 3072, 1024, 731)):
        coarse, cwin = grid.coarser(win, factor)
        values = (rng.random((int(cwin.height), int(cwin.width))) * 5000).astype(np.float32)
        values[rng.random(values.shape) < 0.15] = np.nan
        for method, ours, tol in (("nearest", upsample_nearest, 0), ("bilinear", upsample_bilinear, 1e-3)):
            gdal = np.full((int(win.height), int(win.width)), np.nan, np.float32)
            reproject(values, gdal, src_transform=coarse.window_transform(cwin), src_crs=grid.crs, src_nodata=np.nan,
                      dst_transform=grid.window_transform(win), dst_crs=grid.crs, dst_nodata=np.nan,
                      resampling=getattr(Resampling, method))
            mine = ours(values, factor, cwin, win)
            assert mine.dtype == np.float32 and mine.shape == gdal.shape
            np.testing.assert_array_equal(np.isnan(mine), np.isnan(gdal))
            assert np.nanmax(np.abs(mine - gdal)) <= tol, method


def test_point_influence_matches_brute_force():
    win = next(GRID.tiles(1024))
    xy = np.array([[1_000.0, 1_000.0], [7_050.0, 6_000.0]])
    far = np.array([3_000.0, 2_000.0])
    mu = point_influence(GRID, win, xy, far, lambda d, k: linear_decay(d, 0, far[k], 1, 0.05), 0.05)
    xs, ys = GRID.centres(win)
    X, Y = np.meshgrid(xs, ys)
    brute = np.maximum.reduce([linear_decay(np.hypot(X - x, Y - y), 0, f, 1, 0.05) for (x, y), f in zip(xy, far)])
    np.testing.assert_allclose(mu, brute, atol=1e-5)


def test_cog_writer_makes_a_valid_cog_with_overviews_and_nodata(tmp_path):
    grid = Grid.covering((0, 0, 130_000, 120_000), 100, "EPSG:3405")  # 1,300 x 1,200: needs overviews
    target = tmp_path / "score.tif"
    with CogWriter(target, grid, "test score", {"model": '{"a": 1}'}, tile=512) as w:
        for win in grid.tiles(512):
            a = np.full((win.height, win.width), 0.5, dtype=np.float32)
            if win.col_off == 0:
                a[:, :10] = np.nan  # "sea"
            w.write(win, a)
    valid, errors, warnings = cog_validate(str(target))
    assert valid, errors
    with rasterio.open(target) as ds:
        assert ds.overviews(1), "no internal overviews"
        assert ds.nodata == NODATA and ds.descriptions == ("test score",)
        assert ds.tags()["model"] == '{"a": 1}'
        assert ds.profile["compress"].lower() == "zstd"
        assert ds.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "2"
        head = ds.read(1, window=((0, 5), (0, 20)))
        assert (head[:, :10] == NODATA).all() and (head[:, 10:] == 0.5).all()
    assert not list(tmp_path.glob(".*")), "scratch files left behind"


# A synthetic country: 0.4 x 0.3 degree land square, two provinces, one zone, three sites of one type.
def _frames():
    crs = "EPSG:4326"
    provinces = gpd.GeoDataFrame({"code_2025": ["01", "02"], "name_2025": ["West", "East"]},
                                 geometry=[box(105.0, 20.0, 105.2, 20.3), box(105.2, 20.0, 105.4, 20.3)], crs=crs)
    sites = gpd.GeoDataFrame({"id": ["s1", "s2", "s3"], "deposit_type": ["kind_a"] * 3,
                              "location_uncertainty_m": [0, 0, 0]},
                             geometry=[Point(105.05, 20.1), Point(105.08, 20.12), Point(105.35, 20.25)], crs=crs)
    zones = gpd.GeoDataFrame({"id": ["z"], "name_en": ["Zone"], "deposit_type": ["kind_a"], "confidence": ["high"]},
                             geometry=[box(105.0, 20.05, 105.1, 20.15)], crs=crs)
    return {"provinces_2025": provinces, "archipelagos": provinces.iloc[:0],
            "land": gpd.GeoDataFrame(geometry=[box(104.5, 19.5, 105.4, 20.8)], crs=crs),
            "prospect_zones": zones, "deposits": sites}


SPEC = """
resolution_m = 500
table_resolution_m = 1000
top_shares = [0.05, 0.10, 0.20]
uncertainty_refs = ["r"]
[style]
score_ramp = ["#000000", "#ffffff"]
uncertainty_ramp = ["#000000", "#ffffff"]
[types.kind_a]
operator = "or"
rationale = "test"
refs = ["r"]
[[types.kind_a.evidence]]
name = "near"
kind = "site_distance"
decay_m = 6000
high = 1.0
low = 0.0
rationale = "test"
refs = ["r"]
[[types.kind_a.evidence]]
name = "absent"
kind = "unavailable"
rationale = "test"
refs = ["r"]
"""


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    from layers.model.model_spec import load_spec
    from layers.model.prospectivity import run_grids
    d = tmp_path_factory.mktemp("grid")
    (d / "spec.toml").write_text(SPEC)
    return run_grids(_frames(), 250, out_dir=d / "grids", spec=load_spec(d / "spec.toml"))


def test_land_mask_nodata_and_uncertainty(synthetic_run):
    """The site distance feeds the proximity score; the 'absent' layer is the evidence score's only one,
    so that score has no data anywhere and its uncertainty is 1; the two are never mixed."""
    paths = synthetic_run.types["kind_a"].paths
    assert "uncertainty_proximity" not in paths  # site distances are computed everywhere: never missing
    with rasterio.open(paths["proximity"]) as ds, \
            rasterio.open(paths["evidence"]) as ev, rasterio.open(paths["uncertainty_evidence"]) as uev:
        assert cog_validate(str(paths["proximity"]))[0] and cog_validate(str(paths["evidence"]))[0]
        score = ds.read(1)
        land = score != NODATA
        assert 0.9 < land.mean() <= 1.0  # the grid is the land's bounding box
        assert ((score[land] >= 0) & (score[land] <= 1)).all()
        # the sea and abroad are nodata: the cell outside the land square
        x, y = 105.45, 20.1
        from pyproj import Transformer
        ex, ey = Transformer.from_crs("EPSG:4326", "EPSG:3405", always_xy=True).transform(x, y)
        row, col = ds.index(ex, ey)
        assert not (0 <= row < ds.height and 0 <= col < ds.width) or score[row, col] == NODATA
        assert (ev.read(1) == NODATA).all()  # no evidence at any cell: nodata, not zero
        u = uev.read(1)
        np.testing.assert_allclose(u[land], 1.0)
        assert (u[~land] == NODATA).all()
        assert ds.tags()["score"] == "proximity" and "known sites" in ds.tags()["meaning"]


def test_leave_one_out_scores_each_site_without_itself_and_its_neighbours(synthetic_run):
    """s1 and s2 are 3.8 km apart (decay_m 6 km): held out, each takes the other with it, so the site
    distance gives both its `low` (0); with only itself left out s1 would score 1 - 3.8 km / 6 km."""
    from layers.derived.prospectivity import validation_table
    run = synthetic_run
    tr = run.types["kind_a"].scores["proximity"]
    assert [c.key for c in run.types["kind_a"].clusters] == ["s1", "s2", "s3"]  # 3.8 km > 2 km: not one site
    assert [len(c.removed) for c in run.types["kind_a"].clusters] == [2, 2, 1]
    assert tr.loo_scores == pytest.approx({"s1": 0.0, "s2": 0.0, "s3": 0.0}, abs=1e-6)
    table = validation_table(run)
    row = table[(table.top_pct == 20.0) & (table.score == "proximity")].iloc[0]
    assert row.n_sites == 3 and row.n_scored == 3 and row.n_excluded == 0 and row.n_in_top == 0
    assert row.sites_missed == "s1;s2;s3"
    assert pd.isna(row.pct_sites_in_top) and row.note.startswith("too few sites to validate")


def test_zonal_statistics(synthetic_run):
    from layers.derived.prospectivity import zonal_table
    z = zonal_table(synthetic_run)
    z = z[z.score == "proximity"].set_index("unit_id")
    assert set(z.index) == {"01", "02", "z"}
    assert z.loc["01", "max_score"] > 0.95  # a cell centre within ~125 m of a site
    assert z.loc["01", "mean_score"] > z.loc["02", "mean_score"]
    assert z.loc["01", "scored_km2"] + z.loc["02", "scored_km2"] == pytest.approx(
        synthetic_run.types["kind_a"].scores["proximity"].stats.count * 0.0625, abs=0.2)


ZONE_SPEC = SPEC.split("[[types.kind_a.evidence]]")[0] + """[[types.kind_a.evidence]]
name = "zone"
kind = "zone_membership"
confidence = { high = 0.9, medium = 0.7, low = 0.5 }
outside = 0.1
rationale = "test"
refs = ["r"]
"""


def test_leave_one_out_derives_the_zones_again_without_the_site(tmp_path):
    """A zone drawn around the sites (5 km circles) is drawn again without the site being scored:
    the isolated site s3 falls outside it, s1 stays inside s2's circle (3.8 km away)."""
    import json

    from shapely.geometry import LineString

    from layers.model.model_spec import load_spec
    from layers.model.prospectivity import run_grids
    frames = _frames()
    metric = frames["deposits"].to_crs("EPSG:3405")
    circles = gpd.GeoSeries(metric.buffer(5000).union_all(), crs="EPSG:3405").to_crs("EPSG:4326")
    frames["prospect_zones"] = gpd.GeoDataFrame(
        {"id": ["z"], "name_en": ["Zone"], "deposit_type": ["kind_a"], "confidence": ["high"],
         "method": ["site_buffer"], "parameters": [json.dumps({"buffer_m": 5000, "deposit_types": ["kind_a"]})]},
        geometry=circles.values, crs="EPSG:4326")
    frames["provinces_pre2025"] = frames["provinces_2025"]
    frames["coastline"] = gpd.GeoDataFrame(geometry=[LineString([(104.5, 19.5), (105.4, 19.5)])], crs="EPSG:4326")
    (tmp_path / "spec.toml").write_text(ZONE_SPEC)
    run = run_grids(frames, 250, out_dir=tmp_path / "grids", spec=load_spec(tmp_path / "spec.toml"))
    loo = run.types["kind_a"].scores["proximity"].loo_scores
    assert loo["s1"] == pytest.approx(0.9) and loo["s2"] == pytest.approx(0.9)
    assert loo["s3"] == pytest.approx(0.1)
    with rasterio.open(run.types["kind_a"].paths["proximity"]) as ds:  # the map keeps every site
        x, y = metric.geometry.iloc[2].x, metric.geometry.iloc[2].y
        assert next(ds.sample([(x, y)]))[0] == pytest.approx(0.9)


def test_overviews_are_exact_means_of_the_valid_cells(tmp_path):
    grid = Grid.covering((0, 0, 204_800, 153_600), 100, "EPSG:3405")  # 2,048 x 1,536 cells: 2 levels
    rng = np.random.default_rng(7)
    full = rng.random((grid.height, grid.width), dtype=np.float32)
    full[rng.random(full.shape) < 0.3] = np.nan
    full[:700, :900] = np.nan  # whole blocks of nodata
    full[:1024, 1024:] = rng.random((1024, 1024), dtype=np.float32)  # a tile with every cell valid (no count kept)
    with CogWriter(tmp_path / "g.tif", grid, "x", {}, tile=1024) as w:
        for win in grid.tiles(1024):
            w.write(win, full[win.toslices()])
    with rasterio.open(tmp_path / "g.tif") as ds:
        assert ds.overviews(1) == [2, 4]
        np.testing.assert_array_equal(ds.read(1, masked=True).filled(np.nan), full)
        for level, f in enumerate(ds.overviews(1)):
            with rasterio.open(tmp_path / "g.tif", overview_level=level) as ov:
                got = ov.read(1, masked=True).filled(np.nan)
            blocks = full.reshape(grid.height // f, f, grid.width // f, f)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-nodata blocks: mean of nothing
                want = np.nanmean(blocks, axis=(1, 3))
            np.testing.assert_allclose(got, want, rtol=1e-5)


def test_grids_do_not_depend_on_the_number_of_threads(tmp_path):
    from layers.model.model_spec import load_spec
    from layers.model.prospectivity import run_grids
    (tmp_path / "spec.toml").write_text(SPEC)
    spec = load_spec(tmp_path / "spec.toml")
    runs = {j: run_grids(_frames(), 20, out_dir=tmp_path / f"j{j}", spec=spec, jobs=j) for j in (1, 2)}
    assert runs[1].grid.width > 1024 and runs[1].grid.height > 1024  # several tiles, so threads interleave
    assert len(runs[1].types["kind_a"].paths) == 3
    for kind in runs[1].types["kind_a"].paths:
        one, two = (runs[j].types["kind_a"].paths[kind].read_bytes() for j in (1, 2))
        assert one == two
    one, two = (runs[j].types["kind_a"].scores["proximity"] for j in (1, 2))
    assert one.loo_scores == two.loo_scores
    np.testing.assert_array_equal(one.stats.zone_sum, two.stats.zone_sum)


def test_user_evidence_raster_is_reprojected_and_its_nodata_counts_as_missing(tmp_path):
    """A WGS84 user raster (0.8 on the west half, nodata on the east) joins the evidence score (with the
    'absent' layer), never the proximity score."""
    from affine import Affine

    from layers.model.model_spec import load_spec
    from layers.model.prospectivity import run_grids
    user = tmp_path / "user.tif"
    a = np.full((60, 80), -1.0, dtype=np.float32)
    a[:, :40] = 0.8  # lon 104.9-105.2
    with rasterio.open(user, "w", driver="GTiff", width=80, height=60, count=1, dtype="float32", nodata=-1.0,
                       crs="EPSG:4326", transform=Affine.translation(104.9, 20.4) @ Affine.scale(0.6 / 80, -0.5 / 60)) as ds:
        ds.write(a, 1)
    (tmp_path / "spec.toml").write_text(SPEC)
    run = run_grids(_frames(), 250, out_dir=tmp_path / "g", evidence=user, spec=load_spec(tmp_path / "spec.toml"),
                    jobs=2)
    from pyproj import Transformer
    to_metric = Transformer.from_crs("EPSG:4326", "EPSG:3405", always_xy=True)
    paths = run.types["kind_a"].paths
    with rasterio.open(paths["evidence"]) as s, rasterio.open(paths["uncertainty_evidence"]) as u, \
            rasterio.open(paths["proximity"]) as p:
        assert "user_raster" in s.tags()["evidence"] and "user_raster" not in p.tags()["evidence"]
        west, east = to_metric.transform(105.15, 20.28), to_metric.transform(105.3, 20.05)
        (sw,), (se,) = s.sample([west]), s.sample([east])
        (uw,), (ue,) = u.sample([west]), u.sample([east])
        (pe,) = p.sample([east])
    assert sw == pytest.approx(0.8, abs=1e-4)  # the user's 0.8 (the only evidence with data there)
    assert se == NODATA  # no evidence with data east: missing, not zero
    assert uw == pytest.approx(1 / 2) and ue == pytest.approx(1.0)  # 'absent' always, the user raster east
    assert pe == pytest.approx(0.0, abs=1e-6)  # proximity: the nearest site is ~6 km away or more


def test_bad_user_evidence_raster_is_a_clear_error(tmp_path):
    from geo.errors import SourceDataError
    from layers.model.model_spec import load_spec
    from layers.model.prospectivity import run_grids
    bad = tmp_path / "not_a_raster.tif"
    bad.write_text("hello")
    (tmp_path / "spec.toml").write_text(SPEC)
    with pytest.raises(SourceDataError, match="cannot open the evidence raster"):
        run_grids(_frames(), 250, out_dir=tmp_path / "g", evidence=bad, spec=load_spec(tmp_path / "spec.toml"))
    assert not (tmp_path / "g").exists() or not list((tmp_path / "g").iterdir())


def test_statistics_without_files_match_the_run_that_writes_them(synthetic_run, tmp_path):
    """``run_grids`` with no output folder (the GeoPackage tables' run) writes nothing and counts the same."""
    from layers.model.model_spec import load_spec
    from layers.model.prospectivity import run_grids
    (tmp_path / "spec.toml").write_text(SPEC)
    run = run_grids(_frames(), 250, spec=load_spec(tmp_path / "spec.toml"))
    assert run.types["kind_a"].paths == {} and list(tmp_path.iterdir()) == [tmp_path / "spec.toml"]
    for s, sr in run.types["kind_a"].scores.items():
        want = synthetic_run.types["kind_a"].scores[s]
        np.testing.assert_array_equal(sr.stats.zone_sum, want.stats.zone_sum)
        assert sr.loo_scores.keys() == want.loo_scores.keys()
        np.testing.assert_array_equal(list(sr.loo_scores.values()), list(want.loo_scores.values()))  # NaN == NaN


def test_histogram_bins_as_the_plain_formula_and_leaves_nan_out():
    from geo.raster.zonal import BINS, ScoreStats, histogram, to_bins
    rng = np.random.default_rng(3)
    v = rng.random(100_000, dtype=np.float32)
    v[:50] = [0, 1, 1.5, -0.2, 1e-9] * 10  # the ends and beyond
    v[rng.random(v.size) < 0.2] = np.nan
    valid = v[~np.isnan(v)]
    want = np.bincount(np.clip((valid * BINS).astype(np.int64), 0, BINS - 1), minlength=BINS)
    np.testing.assert_array_equal(histogram(v), want)
    assert to_bins(np.array([np.nan], np.float32))[0] == BINS  # one past the end: never counted
    labels = rng.integers(-1, 3, v.size).astype(np.int32)
    stats, again = ScoreStats(3), ScoreStats(3)
    stats.add(v, labels)
    again.add(v, offsets=ScoreStats.label_offsets(labels))
    np.testing.assert_array_equal(stats.hist, want)
    np.testing.assert_array_equal(again.zone_hist, stats.zone_hist)
    for z in range(3):
        inside = v[(labels == z) & ~np.isnan(v)]
        np.testing.assert_array_equal(stats.zone_hist[z], histogram(inside))
        assert stats.zone_sum[z] == inside.sum(dtype=np.float64) and stats.zone_max[z] == inside.max()


@pytest.mark.parametrize("k", [1, 2, 8, 32])
@pytest.mark.parametrize("shape", [(1024, 1024), (1000, 700)])
def test_null_blocks_are_the_plain_block_maxima_and_counts(k, shape):
    from geo.raster.zonal import to_bins
    from layers.validation.cells import Blocks
    rng = np.random.default_rng(k)
    score = rng.random(shape, dtype=np.float32)
    score[rng.random(shape) < 0.3] = np.nan
    score[:100] = np.nan  # whole blocks unscored
    domain = rng.random(shape) < 0.5
    top, n_land, n_null = Blocks.of_tile(score, domain, k)
    H, W = -(-shape[0] // k) * k, -(-shape[1] // k) * k
    padded = np.full((H, W), np.nan, np.float32)
    padded[:shape[0], :shape[1]] = score
    dom = np.zeros((H, W), bool)
    dom[:shape[0], :shape[1]] = domain
    blocks = padded.reshape(H // k, k, W // k, k)
    ok = ~np.isnan(blocks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks
        best = np.nanmax(blocks, axis=(1, 3))
    want_top = np.where(np.isnan(best), 0, to_bins(np.nan_to_num(best)) + 1)
    np.testing.assert_array_equal(top, want_top)
    np.testing.assert_array_equal(n_land, ok.sum(axis=(1, 3)))
    np.testing.assert_array_equal(n_null, (ok & dom.reshape(blocks.shape)).sum(axis=(1, 3)))


@pytest.mark.parametrize("transform", ["edt", "scipy"])
def test_sea_distance_over_the_box_of_window_and_sea_equals_the_whole_padded_window(transform, monkeypatch):
    """layers.derived.coast.open_sea_distance transforms only the box of the window and the sea cells:
    the dry margin beyond them changes no distance; edt's transform (windows whose squared distances its
    float32 holds exactly) and scipy's (larger windows) give scipy's values to the bit."""
    from scipy import ndimage
    from geo.raster import distance
    from geo.raster.distance import inner_distance
    if transform == "scipy":
        monkeypatch.setattr(distance, "FLOAT32_EXACT", 0)
    rng = np.random.default_rng(5)
    pad, h, w = 40, 60, 50
    dry = np.ones((h + 2 * pad, w + 2 * pad), bool)
    dry[70:, 100:] = rng.random((dry.shape[0] - 70, dry.shape[1] - 100)) < 0.2  # sea to the south-east only
    want = ndimage.distance_transform_edt(dry)[pad:pad + h, pad:pad + w]
    r, c = np.flatnonzero((~dry).any(axis=1)), np.flatnonzero((~dry).any(axis=0))
    r0, c0 = min(r[0], pad), min(c[0], pad)
    box = dry[r0:max(r[-1] + 1, pad + h), c0:max(c[-1] + 1, pad + w)]
    assert box.size < dry.size / 2
    np.testing.assert_array_equal(inner_distance(box, pad - r0, pad - c0, h, w), want)
