"""Sample points with a value (e.g. geochemistry) gridded onto a window.

``nearest``: the value of the nearest sample within ``radius``. ``idw``: inverse-distance weighting
(Shepard 1968), ``sum(v_i / d_i**p) / sum(1 / d_i**p)`` over the samples within ``radius`` (a sample
at a cell centre gives its value). Cells with no sample within ``radius`` are NaN (missing evidence).
"""
from __future__ import annotations

import numpy as np
from rasterio.windows import Window
from scipy.spatial import cKDTree

from geo.grid import Grid

METHODS = ("nearest", "idw")


class PointSamples:
    """Sample coordinates (grid CRS) and values, indexed once."""

    def __init__(self, xy: np.ndarray, values: np.ndarray):
        self.xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        self.values = np.asarray(values, dtype=np.float64)
        self.tree = cKDTree(self.xy) if len(self.xy) else None


def grid_points(grid: Grid, win: Window, samples: PointSamples, radius: float, method: str = "nearest",
                power: float = 2.0, k: int = 12) -> np.ndarray:
    """The samples gridded onto ``win`` (float32, NaN beyond ``radius``); ``idw`` uses the ``k`` nearest."""
    xs, ys = grid.centres(win)
    out = np.full((len(ys), len(xs)), np.nan, dtype=np.float32)
    if samples.tree is None:
        return out
    # only the cells near the samples are queried
    (px0, py0), (px1, py1) = samples.xy.min(axis=0) - radius, samples.xy.max(axis=0) + radius
    cols = np.flatnonzero((xs >= px0) & (xs <= px1))
    rows = np.flatnonzero((ys >= py0) & (ys <= py1))
    if not len(cols) or not len(rows):
        return out
    X, Y = np.meshgrid(xs[cols], ys[rows])
    q = np.column_stack([X.ravel(), Y.ravel()])
    if method == "nearest":
        d, i = samples.tree.query(q, distance_upper_bound=radius)
        ok = np.isfinite(d)
        vals = np.full(len(q), np.nan)
        vals[ok] = samples.values[i[ok]]
    elif method == "idw":
        k = min(k, len(samples.xy))
        d, i = samples.tree.query(q, k=k, distance_upper_bound=radius)
        d, i = d.reshape(len(q), k), i.reshape(len(q), k)
        ok = np.isfinite(d)
        v = np.where(ok, samples.values[np.minimum(i, len(samples.values) - 1)], 0.0)
        with np.errstate(divide="ignore"):
            w = np.where(ok, 1.0 / np.maximum(d, 1e-9) ** power, 0.0)
        exact = ok & (d < 1e-9)
        sw = w.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            vals = np.where(sw > 0, (w * v).sum(axis=1) / sw, np.nan)
        hit = exact.any(axis=1)
        vals[hit] = v[hit, exact[hit].argmax(axis=1)]
    else:
        raise ValueError(f"unknown point gridding method {method!r}; use one of {', '.join(METHODS)}")
    out[np.ix_(rows, cols)] = vals.reshape(len(rows), len(cols)).astype(np.float32)
    return out
