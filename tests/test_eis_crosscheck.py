"""Our fuzzy memberships, overlay operators and success-rate AUC against EIS Toolkit's on the same arrays.

EIS Toolkit (PyPI ``eis-toolkit`` 1.1.6, EUPL-1.2) is a test-only dependency: it declares Python < 3.11
and pins packages we do not use, so ``make test`` installs it with ``--no-deps --ignore-requires-python``
beside ``beartype<0.14`` (see the Makefile's install step). The differences found, and why, are in the
README ("Checked against EIS Toolkit"); each is asserted here so that a change on either side shows.
"""
from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

try:
    from eis_toolkit.evaluation.calculate_base_metrics import calculate_base_metrics
    from eis_toolkit.evaluation.plot_rate_curve import auc as eis_auc, plot_rate_curve
    from eis_toolkit.prediction import fuzzy_overlay as eis
    from eis_toolkit.transformations.linear import min_max_scaling
    from eis_toolkit.transformations.sigmoid import sigmoid_transform
except ImportError as exc:  # make test installs it; a plain pytest run without it must not pass silently
    raise ImportError(f"EIS Toolkit is not installed ({exc}); run `make test`, or: pip install --no-deps "
                      "--ignore-requires-python eis-toolkit==1.1.6 'beartype<0.14' scikit-learn") from exc

from geo.raster import fuzzy
from geo.raster.zonal import BINS, to_bins
from layers.derived.prospectivity import success_auc

TOL = 1e-6
CRS = "EPSG:3405"
RNG = np.random.default_rng(20261204)


def _raster(array: np.ndarray, nodata=None):
    """A one-band in-memory GeoTIFF of ``array`` (what EIS Toolkit's raster functions take)."""
    mem = MemoryFile()
    with mem.open(driver="GTiff", width=array.shape[1], height=array.shape[0], count=1, dtype=array.dtype,
                  crs=CRS, transform=from_origin(500000, 2500000, 250, 250), nodata=nodata) as dst:
        dst.write(array, 1)
    return mem


def _layers(n=4, shape=(60, 80)):
    """Memberships in [0, 1] with exact 0s and 1s, in float32 as our grids hold them."""
    layers = RNG.random((n, *shape)).astype(np.float32)
    layers[0, :3] = 0.0
    layers[1, -3:] = 1.0
    return layers


def _agree(name: str, ours: np.ndarray, theirs: np.ndarray, tol: float = TOL) -> None:
    diff = float(np.nanmax(np.abs(ours.astype(np.float64) - theirs.astype(np.float64))))
    print(f"{name}: max |ours - EIS| = {diff:.2e}")
    assert np.array_equal(np.isnan(ours), np.isnan(theirs)) and diff <= tol, (name, diff)


@pytest.mark.parametrize("op", ["and", "or", "product", "sum"])
def test_overlays_agree(op):
    layers = _layers()
    ours = fuzzy.combine(op, list(layers))
    theirs = getattr(eis, f"{op}_overlay")(layers.astype(np.float64))  # EIS in float64: the exact reference
    _agree(f"overlay {op}", ours, theirs)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.5, 0.9, 1.0])
def test_gamma_agrees(gamma):
    layers = _layers()
    _agree(f"gamma {gamma}", fuzzy.fuzzy_gamma(list(layers), gamma), eis.gamma_overlay(layers.astype(np.float64), gamma))


def test_missing_evidence_is_left_out_by_us_and_propagates_in_eis():
    """Documented difference: a NaN (no evidence at the cell) is left out of our combination; EIS
    Toolkit's operators propagate it. Where no layer is missing both agree (tests above)."""
    layers = _layers(3).astype(np.float64)
    layers[0, 0, 0] = np.nan
    ours = fuzzy.combine("product", list(layers.astype(np.float32)))
    assert np.isnan(eis.product_overlay(layers)[0, 0])
    assert abs(ours[0, 0] - layers[1, 0, 0] * layers[2, 0, 0]) < TOL


def _truncated(name: str, ours: np.ndarray, published: np.ndarray) -> None:
    """EIS Toolkit's public transformations truncate (toward zero) their output to float32's 6 decimal
    digits and return float32: ours - theirs lies in [0, 1e-6], plus twice float32's spacing near 1 (ours and
    their float32 results: 6e-8 each)."""
    d = ours.astype(np.float64) - published.astype(np.float64)
    assert d.min() >= -1.2e-7 and d.max() <= 1e-6 + 1.2e-7, (name, d.min(), d.max())


def test_linear_membership_agrees_with_min_max_scaling():
    """EIS Toolkit's linear transformation rescales the array's own [min, max] to ``new_range``: our
    ``linear`` ramp from x0 = min to x1 = max (clamped beyond) is the same map."""
    from eis_toolkit.transformations.linear import _min_max_scaling
    x = (RNG.random((50, 70)) * 900 + 100).astype(np.float32)
    x[0, 0], x[-1, -1] = 100.0, 1000.0
    ours = fuzzy.linear_ramp(x, 100.0, 1000.0, 0.1, 0.9)
    _agree("linear (min-max)", ours, _min_max_scaling(x.astype(np.float64), new_range=(0.1, 0.9)))
    with _raster(x) as mem, mem.open() as src:
        _truncated("linear", ours, min_max_scaling(src, new_range=[(0.1, 0.9)])[0][0])


@pytest.mark.parametrize("increasing", [True, False])
def test_sigmoid_membership_agrees(increasing):
    """EIS: lower + (upper - lower) / (1 + exp(-slope x)), centred on the array's mean; ours:
    1 / (1 + exp(-(x - midpoint) / spread)): the same with slope = ±1/spread and midpoint = the mean."""
    x = (RNG.random((50, 70)) * 3000).astype(np.float32)
    spread = 400.0
    from eis_toolkit.transformations.sigmoid import _sigmoid_transform
    slope = (1 if increasing else -1) / spread
    ours = fuzzy.sigmoid(x, float(np.mean(x.astype(np.float64))), spread, increasing)
    _agree(f"sigmoid increasing={increasing}", ours,
           _sigmoid_transform(x.astype(np.float64), bounds=(0, 1), slope=slope, center=True))
    with _raster(x) as mem, mem.open() as src:
        _truncated(f"sigmoid increasing={increasing}", ours,
                   sigmoid_transform(src, bounds=[(0, 1)], slope=[slope], center=True)[0][0])


def _eis_success_curve(scores: np.ndarray, rows, cols):
    """EIS Toolkit's success-rate curve (true-positive rate against proportion of area, thresholds at the
    sites' scores) from ``calculate_base_metrics`` on the raster and the sites as points."""
    import geopandas as gpd
    t = from_origin(500000, 2500000, 250, 250)
    xs, ys = rasterio.transform.xy(t, rows, cols)
    sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=CRS)
    with _raster(scores) as mem, mem.open() as src:
        m = calculate_base_metrics(src, sites)
    return m["proportion_of_area_values"].to_numpy(), m["true_positive_rate_values"].to_numpy()


def _ours(scores: np.ndarray, rows, cols) -> float:
    hist = np.bincount(to_bins(scores.ravel()), minlength=BINS)
    return success_auc(hist, scores[rows, cols].astype(float))


def test_success_rate_auc_agrees_when_every_score_level_has_a_site():
    """Scores on bin centres, and a site at every distinct score: EIS's curve then has a point at every
    level, and its trapezoids split each tie of cells and sites evenly, as ours does. EIS's curve starts
    at its highest threshold, not at (0, 0): closed at the origin, its AUC (sklearn's trapezoids, as
    ``plot_rate_curve`` computes it) equals ours."""
    levels = (np.arange(0, BINS, 97) + 0.5) / BINS  # 43 distinct scores
    scores = RNG.choice(levels, size=(60, 80)).astype(np.float32)
    rows, cols = [], []
    for v in levels:  # one site on each level, a second on every third level
        r, c = np.argwhere(scores == np.float32(v))[: 1 + (int(v * BINS) % 3 == 0)].T
        rows += list(r)
        cols += list(c)
    area, tpr = _eis_success_curve(scores, rows, cols)
    eis_value = float(eis_auc(np.r_[0.0, area], np.r_[0.0, tpr]))
    ours = _ours(scores, rows, cols)
    assert abs(ours - eis_value) <= TOL, (ours, eis_value)
    open_curve = float(eis_auc(area, tpr))  # as EIS plots it: the first segment from the origin is missing
    assert abs((ours - open_curve) - area[0] * tpr[0] / 2) <= TOL
    fig = plot_rate_curve(np.r_[0.0, area], np.r_[0.0, tpr])  # EIS's own figure prints the same AUC
    shown = [t.get_text() for t in fig.axes[0].texts]
    import matplotlib.pyplot as plt
    plt.close(fig)
    assert f"AUC: {round(ours, 2)}" in shown


def test_success_rate_auc_difference_with_sparse_thresholds_is_the_corner_cut():
    """Continuous scores and few sites (the usual case): EIS's curve has points only at the sites' scores
    and joins them by straight lines, so it cuts the corner of each step of the true curve (ours, exact
    for the binned scores) and is higher; closing its curve at the origin, the difference equals the
    triangles cut: sum over steps of (area step) x (rate step) / 2, which we check."""
    scores = ((to_bins(RNG.random((80, 100)).astype(np.float32)) + 0.5) / BINS).astype(np.float32)
    idx = RNG.choice(scores.size, 12, replace=False)
    rows, cols = np.unravel_index(idx, scores.shape)
    area, tpr = _eis_success_curve(scores, list(rows), list(cols))
    a, t = np.r_[0.0, area], np.r_[0.0, tpr]
    eis_value = float(eis_auc(a, t))
    ours = _ours(scores, list(rows), list(cols))
    # exact step curve between EIS's points: the rate rises only at a site's score (ties split), so each
    # segment's trapezoid exceeds the step by half the rectangle of (area rise without the site's own
    # tie) x (rate rise); rebuild that from the same arrays
    flat = scores.ravel().astype(np.float64)
    site = np.sort(scores[rows, cols].astype(np.float64))[::-1]
    cut = 0.0
    # EIS adds a point at the data's maximum, (area of that top value, 0): its curve starts there
    prev_area = float(np.mean(flat == flat.max())) if flat.max() > site.max() else 0.0
    for thr in np.unique(site)[::-1]:
        tie_area = np.mean(flat == thr)
        rise_area = np.mean(flat >= thr) - prev_area - tie_area
        cut += rise_area * np.mean(site == thr) / 2
        prev_area = np.mean(flat >= thr)
    print(f"EIS {eis_value:.6f} ours {ours:.6f} difference {eis_value - ours:.6f} corner cut {cut:.6f}")
    assert eis_value > ours
    assert abs((eis_value - ours) - cut) <= TOL
