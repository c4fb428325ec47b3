"""Validation v2 (issue 19) on a real grid run over a synthetic island in VN-2000 / UTM 48N.

The island is a 40 x 30 km box whose edges are multiples of the 250 m cell, so the coast runs along cell
edges and every expected distance below is worked out by hand. Sites are given in metres.
"""
from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from shapely.geometry import LineString, Point, box

CRS = "EPSG:3405"
X0, Y0, X1, Y1 = 500_000.0, 2_200_000.0, 540_000.0, 2_230_000.0  # the island
RES = 250.0
NULL_M = 10_000.0
DECAY_M = 6_000.0

# id: (x, y, uncertainty_m, confidence)
SITES = {
    # 50 m off the east coast, u = 100 m: no cell centre of land within 100 m (the nearest is 175 m away,
    # at x = 539,875), but that cell touches the disc (100 m + half a diagonal, 177 m): snapped
    "off_snap": (540_050.0, 2_215_125.0, 100.0, "multiple_independent"),
    # 600 m off the coast, u = 100 m: nothing within reach: excluded
    "off_far": (540_600.0, 2_212_125.0, 100.0, "secondary_only"),
    # two sites 3 km apart, u = 1.6 km each (combined 3.2 km > 3 km): one validation site
    "pair_a": (505_125.0, 2_205_125.0, 1_600.0, "multiple_independent"),
    "pair_b": (508_125.0, 2_205_125.0, 1_600.0, "single_primary"),
    # a site 4 km from near_a (u = 0: not one site, 4 km > 2 km) but within decay_m of it; far_c 20 km away
    "near_a": (520_125.0, 2_225_125.0, 0.0, "multiple_independent"),
    "near_b": (524_125.0, 2_225_125.0, 0.0, "multiple_independent"),
    "far_c": (520_125.0, 2_210_125.0, 0.0, "multiple_independent"),
}

SPEC = f"""
resolution_m = {RES}
table_resolution_m = 1000
top_shares = [0.05, 0.10, 0.20]
uncertainty_refs = ["r"]
[style]
score_ramp = ["#000000", "#ffffff"]
uncertainty_ramp = ["#000000", "#ffffff"]
[types.coastal_placer]
operator = "gamma"
gamma = 0.8
rationale = "test"
refs = ["r"]
validation = {{ null = "near_sea", null_within_m = {NULL_M}, simplest = ["near_shoreline"], null_rationale = "test" }}
[[types.coastal_placer.evidence]]
name = "near_known_sites"
kind = "site_distance"
decay_m = {DECAY_M}
high = 1.0
low = 0.0
rationale = "test"
refs = ["r"]
[[types.coastal_placer.evidence]]
name = "near_shoreline"
kind = "shoreline_distance"
near_m = 1000
far_m = 10000
high = 1.0
low = 0.05
rationale = "test"
refs = ["r"]
[[types.coastal_placer.evidence]]
name = "north"
kind = "raster"
path = "north.tif"
resampling = "nearest"
membership = {{ function = "identity" }}
rationale = "test"
refs = ["r"]
"""


def _frames():
    island = box(X0, Y0, X1, Y1)
    provinces = gpd.GeoDataFrame({"code_2025": ["01"], "name_2025": ["Island"]}, geometry=[island], crs=CRS)
    ids = list(SITES)
    sites = gpd.GeoDataFrame(
        {"id": ids, "name_vi": [f"Điểm {i}" for i in ids], "deposit_type": ["coastal_placer"] * len(ids),
         "location_uncertainty_m": [SITES[i][2] for i in ids], "confidence": [SITES[i][3] for i in ids]},
        geometry=[Point(SITES[i][0], SITES[i][1]) for i in ids], crs=CRS)
    zones = gpd.GeoDataFrame({"id": ["z"], "name_en": ["Zone"], "deposit_type": ["other"], "confidence": ["low"]},
                             geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000)], crs=CRS)
    return {"provinces_2025": provinces, "archipelagos": provinces.iloc[:0],
            "land": gpd.GeoDataFrame(geometry=[island], crs=CRS), "prospect_zones": zones, "deposits": sites,
            "provinces_pre2025": provinces, "coastline": gpd.GeoDataFrame(geometry=[LineString(island.exterior.coords)], crs=CRS)}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real run (COGs written) of the island: a shoreline evidence, a north-south ramp raster and the sites."""
    import rasterio
    from affine import Affine

    from layers.model.model_spec import load_spec
    from layers.model.prospectivity import run_grids
    d = tmp_path_factory.mktemp("valid")
    ramp = np.repeat(np.linspace(1, 0, 30, dtype=np.float32)[:, None], 40, axis=1)  # 1 in the north, 0 south
    with rasterio.open(d / "north.tif", "w", driver="GTiff", width=40, height=30, count=1, dtype="float32", crs=CRS,
                       transform=Affine(1000, 0, X0, 0, -1000, Y1)) as ds:
        ds.write(ramp, 1)
    (d / "spec.toml").write_text(SPEC)
    return run_grids(_frames(), RES, out_dir=d / "grids", spec=load_spec(d / "spec.toml"))


@pytest.fixture(scope="module")
def tables(run):
    from layers.derived.prospectivity import grid_tables
    return grid_tables(run)


@pytest.fixture(scope="module")
def gpkg(tables, tmp_path_factory):
    """The validation tables written by the project's GeoPackage writer and read back with GDAL."""
    from geo.catalog import load_catalog
    from geo.gpkg.write import DatasetInfo, write_gpkg
    from layers import CATALOG_DIR
    target = tmp_path_factory.mktemp("gpkg") / "v.gpkg"
    info = DatasetInfo("t", "t", "t", "CC0-1.0", "0", dt.datetime(2026, 12, 4, tzinfo=dt.timezone.utc), {})
    write_gpkg(target, load_catalog(CATALOG_DIR), {k: v for k, v in tables.items() if k != "prospectivity_zonal"}, info)
    return {name: pyogrio.read_dataframe(target, layer=name) for name in tables if name != "prospectivity_zonal"}


def _site(gpkg, score, key):
    s = gpkg["prospectivity_sites"]
    return s[(s.score == score) & (s.site_ids == key)].iloc[0]


@pytest.mark.parametrize("score", ["evidence", "proximity"])
def test_a_site_at_sea_is_snapped_or_excluded_and_named_never_scored_zero(gpkg, score):
    snap, far = _site(gpkg, score, "off_snap"), _site(gpkg, score, "off_far")
    assert snap.status == "snapped" and snap.cells_in_disc == 0
    assert snap.snap_distance_m == pytest.approx(175.0, abs=0.1)  # to the land cell centred at x = 539,875
    if score == "evidence":
        assert snap.score_value > 0.5  # the coast cell's score, not a 0 for "at sea"
    else:  # held out with off_far (600 m away, within decay_m): the site distance's `low` there
        assert snap.score_value == pytest.approx(0.0, abs=1e-6) and snap.sites_left_out == "off_snap;off_far"
    assert 0 < snap.pct_rank <= 100
    assert far.status == "excluded" and far.score_value is None or np.isnan(far.score_value)
    assert np.isnan(far.pct_rank)
    auc = gpkg["prospectivity_auc"]
    row = auc[auc.score == score].iloc[0]
    assert (row.n_sites, row.n_scored, row.n_snapped, row.n_excluded) == (6, 4, 1, 1)
    assert row.sites_snapped == "Điểm off_snap" and row.sites_excluded == "Điểm off_far"
    val = gpkg["prospectivity_validation"]
    assert (val[val.score == score].sites_excluded == "Điểm off_far").all()


def test_two_sites_3_km_apart_with_overlapping_discs_count_once(gpkg, run):
    tr = run.types["coastal_placer"]
    assert [c.key for c in tr.clusters].count("pair_a+pair_b") == 1
    assert len(tr.clusters) == len(SITES) - 1
    row = _site(gpkg, "evidence", "pair_a;pair_b")
    assert row.validation_site == "Điểm pair_a + Điểm pair_b" and row.tier == "multiple_independent"
    assert row.radius_m == pytest.approx(1500 + 1600)  # the disc round their midpoint holding both discs
    auc = gpkg["prospectivity_auc"]
    assert auc.sites_clustered.iloc[0] == "Điểm pair_a + Điểm pair_b"
    from layers.validation.clusters import site_clusters
    import pandas as pd
    apart = pd.DataFrame({"id": ["a", "b"], "x": [0.0, 3000.0], "y": [0.0, 0.0], "uncertainty_m": [1000.0, 1000.0]})
    assert len(site_clusters(apart)) == 2  # 3 km > max(2 km, 2 km): two sites
    assert len(site_clusters(apart.assign(x=[0.0, 1900.0]))) == 1  # closer than 2 km: one


def test_the_best_cell_within_the_disc_is_the_sites_score(run):
    """The north ramp raster rises northward: the pair's best evidence cell lies at the top of its disc."""
    import rasterio
    tr = run.types["coastal_placer"]
    i = [c.key for c in tr.clusters].index("pair_a+pair_b")
    best = tr.scores["evidence"].validation.sites.best[i]
    with rasterio.open(tr.paths["evidence"]) as ds:
        a = ds.read(1, masked=True)
        rows, cols = np.mgrid[0:ds.height, 0:ds.width]
        xs, ys = ds.xy(rows.ravel(), cols.ravel())
        xs, ys = np.asarray(xs).reshape(a.shape), np.asarray(ys).reshape(a.shape)
    disc = np.zeros(a.shape, bool)
    for sid in ("pair_a", "pair_b"):
        x, y, u, _ = SITES[sid]
        disc |= np.hypot(xs - x, ys - y) <= u
    assert best == pytest.approx(float(a[disc].max()), abs=1e-6)
    assert best > float(a[ds.index(*SITES["pair_a"][:2])])  # better than the site's own cell
    # its scored cells: those of the union of the two overlapping discs, each once (not once per disc)
    assert tr.scores["evidence"].validation.sites.n_disc[i] == int((disc & ~np.ma.getmaskarray(a)).sum())


def test_the_placer_null_draws_only_within_10_km_of_the_sea(run):
    """Every block the type's null can draw holds land within null_within_m of the sea; the island's
    interior (farther than that) is on the land null only; the near-sea null beats the land null on a
    shoreline score for free."""
    from layers.validation.stats import null_aucs, summary
    sr = run.types["coastal_placer"].scores["evidence"]
    b = sr.validation.blocks
    size = b.k * run.grid.res
    assert b.k == 4  # 1 km blocks on the 250 m grid
    r, c = np.nonzero(b.n_land)
    cx, cy = run.grid.x0 + (c + 0.5) * size, run.grid.y0 - (r + 0.5) * size
    to_sea = np.minimum.reduce([cx - X0, X1 - cx, cy - Y0, Y1 - cy])  # block centre to the coast
    null = b.n_null[r, c] > 0
    assert null.any() and (~null).any()
    assert (to_sea[null] <= NULL_M + size / 2).all()
    assert (to_sea[~null] >= NULL_M - size / 2).all()
    # cell by cell: a block's null cells are exactly its land cells whose centre lies within 10 km of the
    # nearest sea cell's centre (for a box: straight across the nearest edge, plus half a cell)
    g = run.grid
    rows, cols = np.mgrid[0:g.height, 0:g.width]
    x, y = g.x0 + (cols + 0.5) * g.res, g.y0 - (rows + 0.5) * g.res
    on_land = (x > X0) & (x < X1) & (y > Y0) & (y < Y1)
    near = on_land & (np.minimum.reduce([x - X0, X1 - x, y - Y0, Y1 - y]) + g.res / 2 <= NULL_M)
    H, W = b.n_null.shape
    pad = np.zeros((H * b.k, W * b.k), bool)
    pad[:g.height, :g.width] = near
    np.testing.assert_array_equal(b.n_null, pad.reshape(H, b.k, W, b.k).sum(axis=(1, 3)))
    pad[:g.height, :g.width] = on_land
    np.testing.assert_array_equal(b.n_land, pad.reshape(H, b.k, W, b.k).sum(axis=(1, 3)))
    land = summary(null_aucs(b, "land", [0.0] * 6, run.grid.res, sr.stats.hist))
    sea = summary(null_aucs(b, "null", [0.0] * 6, run.grid.res, sr.stats.hist))
    assert sea[0] > land[0]


def test_leave_one_out_of_the_proximity_score_removes_the_neighbours_within_decay(run, gpkg):
    """near_a and near_b are 4 km apart (decay_m 6 km): held out, each takes the other with it, so the
    site distance gives them the `low` 0 (the shoreline raises the score only through the evidence score);
    far_c is 15 km from both and keeps them."""
    tr = run.types["coastal_placer"]
    by = {c.key: c for c in tr.clusters}
    ids = list(run.sites["coastal_placer"]["id"])
    assert {ids[j] for j in by["near_a"].removed} == {"near_a", "near_b"}
    assert {ids[j] for j in by["far_c"].removed} == {"far_c"}
    loo = tr.scores["proximity"].loo_scores
    assert loo["near_a"] == pytest.approx(0.0, abs=1e-6) and loo["near_b"] == pytest.approx(0.0, abs=1e-6)
    # without the removal near_b would give near_a 1 - 4 km / 6 km
    with_b = 1 - 4000 / DECAY_M
    assert loo["near_a"] < with_b - 0.3
    assert _site(gpkg, "proximity", "near_a").sites_left_out == "near_a;near_b"


def test_auc_table_has_both_nulls_the_verdict_and_the_ablation(gpkg, run):
    from geo.catalog import load_catalog
    from layers import CATALOG_DIR
    auc = gpkg["prospectivity_auc"]
    codes = set(load_catalog(CATALOG_DIR).domains["validation_verdict"].values)
    assert codes == {"supported", "not_better_than_null", "too_few_sites", "contradicts"}
    ev = auc[auc.score == "evidence"].iloc[0]
    assert ev.verdict in codes and ev["null"] == "near_sea"
    for col in ("success_auc", "baseline_auc_median", "baseline_auc_p95", "null_auc_median", "null_auc_p95"):
        assert 0 <= ev[col] <= 1
    assert ev.null_auc_median >= ev.baseline_auc_median  # the near-sea points score higher on a shoreline score
    ab = gpkg["prospectivity_ablation"]
    assert set(zip(ab.model, ab.evidence.fillna(""))) == {
        ("all", ""), ("without", "near_shoreline"), ("without", "north"), ("only", "near_shoreline"), ("only", "north")}
    assert ab[ab.simplest.astype(bool)].evidence.tolist() == ["near_shoreline"]
    full = ab[ab.model == "all"].success_auc.iloc[0]
    assert full == pytest.approx(ev.success_auc, abs=1e-3)
    without = ab[(ab.model == "without") & (ab.evidence == "north")].iloc[0]
    assert without.auc_gain == pytest.approx(full - without.success_auc, abs=2e-3)
    tiers = gpkg["prospectivity_tiers"]
    sec = tiers[(tiers.score == "evidence") & (tiers.tier == "secondary_only")].iloc[0]
    assert sec.n_sites == 1 and sec.site_ranks == "Điểm off_far: excluded"


def test_contradicting_evidence_is_flagged():
    from layers.validation.stats import verdict
    assert verdict("evidence", -0.1, 2, float("nan"), 0.9) == "contradicts"  # even with too few sites
    assert verdict("evidence", 0.1, 2, float("nan"), 0.9) == "too_few_sites"
    assert verdict("proximity", -0.1, 5, 0.95, 0.9) == "supported"  # the median rule reads the evidence score only
    assert verdict("evidence", 0.2, 5, 0.85, 0.9) == "not_better_than_null"


def test_the_median_rule_compares_each_site_with_a_random_point_of_the_same_radius(run, tables):
    """With no uncertainty the rule is "the sites' median below the land median"; a site with a disc is
    compared with random land points given the same disc (the best cell in it), not with single cells."""
    v = __import__("layers.derived.prospectivity", fromlist=["validation"]).validation(run)
    sites = tables["prospectivity_sites"]
    ev = sites[(sites.score == "evidence") & sites.pct_rank.notna()]
    zero = ev[ev.radius_m == 0]
    assert len(zero) and (zero.land_rank_median.between(40, 60)).all()  # a random single cell: about the median
    pair = ev[ev.site_ids == "pair_a;pair_b"].iloc[0]
    assert pair.land_rank_median > zero.land_rank_median.max()  # a 3.1 km disc's best cell ranks higher
    want = np.median(ev.pct_rank - ev.land_rank_median)
    assert tables["prospectivity_auc"].set_index("score").loc["evidence", "median_rank_excess"] == pytest.approx(want, abs=0.11)
    assert v.rank_excess("coastal_placer", "evidence") == pytest.approx(want / 100, abs=1e-3)


def test_the_summary_page_escapes_and_shows_the_tables(run, tables, tmp_path):
    from layers.model.reports import write_reports
    paths = write_reports(run, tables, tmp_path)
    page = tmp_path / "validation.html"
    assert page in paths and (tmp_path / "ablation_coastal_placer.png").exists()
    text = page.read_text()
    assert "Điểm off_far" in text and "Kết luận kiểm định" in text and "Validation verdict" in text
    assert "<script" not in text and text.count("<img ") == len(list(tmp_path.glob("*.png")))


def test_the_page_escapes_text_from_the_sources(run, tables, tmp_path):
    """A site name with markup reaches the page as text."""
    bad = {k: v.copy() for k, v in tables.items()}
    bad["prospectivity_auc"]["sites_excluded"] = '<img src=x onerror="alert(1)">'
    from layers.validation.page import write_page
    text = write_page(run, bad, tmp_path).read_text()
    assert '<img src=x' not in text and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in text


@pytest.mark.parametrize("viewport", [(1400, 900), (390, 844)])
def test_the_summary_page_in_chromium(run, tables, tmp_path, viewport):
    """The page in real headless Chromium: every figure loads, the page never scrolls sideways (wide tables
    scroll in their own box), and the verdict cell shows the domain's labels."""
    from maps.headless import CHROMIUM, chromium
    from layers.model.reports import write_reports
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium (.ci/run installs it)")
    write_reports(run, tables, tmp_path)
    with chromium(viewport) as ctx:
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((tmp_path / "validation.html").as_uri())
        page.wait_for_load_state("load")
        assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        assert page.evaluate("document.images.length") == len(list(tmp_path.glob("*.png")))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        verdict = tables["prospectivity_auc"].verdict.iloc[0]
        cell = page.locator(f"td.v-{verdict}").first
        assert cell.is_visible() and "Validation verdict" in page.content()
        from geo.catalog import load_catalog
        from layers import CATALOG_DIR
        label = load_catalog(CATALOG_DIR).domains["validation_verdict"].values[verdict]
        assert label.en in cell.inner_text() and label.vi in cell.inner_text()
        page.screenshot(path=str(tmp_path / f"validation_{viewport[0]}.png"), full_page=False)
        assert errors == []
