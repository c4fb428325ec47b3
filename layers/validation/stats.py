"""The validation's numbers, from a grid run: per type and score the success-rate AUC of the validation
sites, its two nulls, the ablation, the confidence tiers, each site's percentile rank and the verdict.

A validation site's value is its best cell within its discs (held out where it shaped the score), or the
snapped cell's; its percentile rank is 1 - the share of scored land scoring above it (ties split); the
AUC is the mean rank over the located validation sites (Yousefi & Carranza 2015's success rate, as
before). A null draws as many random points as there are located validation sites, each given, as a site
is, the best value within the same radius (over :class:`~layers.validation.cells.Blocks` that reach the
disc: the null can only gain), 999 seeded times: anywhere on scored land, and in the type's own null
domain (coastal placers: within ``null_within_m`` of the sea).
"""
from __future__ import annotations

import math

import numpy as np

from geo.raster.zonal import BINS

NULL_DRAWS = 999
NULL_SEED = 20261201
MIN_SITES = 5  # fewer located validation sites: each site's percentile rank instead of an AUC
VERDICTS = ("supported", "not_better_than_null", "too_few_sites", "contradicts")  # domain validation_verdict


def area_above(hist: np.ndarray) -> np.ndarray:
    """Per score bin b: share of scored area with a score in a bin above b, plus half the bin's own
    share (ties split evenly); from the score histogram."""
    n = hist.sum()
    above = np.concatenate([np.cumsum(hist[::-1])[::-1][1:], [0]])
    return (above + hist / 2) / max(n, 1)


def ranks(hist: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Percentile rank (0-1) of each value among the scored cells: 1 - the share of land scoring above
    it, ties split; NaN for NaN (an excluded site)."""
    a = area_above(hist)
    v = np.asarray(values, float)
    out = np.full(v.shape, np.nan)
    ok = ~np.isnan(v)
    out[ok] = 1 - a[np.clip((v[ok] * BINS).astype(int), 0, BINS - 1)]
    return out


def success_auc(hist: np.ndarray, values: np.ndarray) -> float:
    """Area under the success-rate curve of the located sites (NaN values, excluded sites, left out):
    their mean percentile rank. Random sites give 0.5 on average."""
    r = ranks(hist, values)
    r = r[~np.isnan(r)]
    return float(r.mean()) if len(r) else float("nan")


def site_radius(xy: np.ndarray, u: np.ndarray, members) -> float:
    """Radius of the disc round the members' centroid that holds every member's disc (one member: its uncertainty)."""
    m = list(members)
    c = xy[m].mean(axis=0)
    return float(max(np.hypot(*(xy[i] - c)) + u[i] for i in m))


MAX_REACH_BLOCKS = 8  # a null's disc spans at most this many blocks of its level (coarser levels for wider discs)


def _levels(blocks) -> list[np.ndarray]:
    """The blocks' maxima, then maxima of 2 x 2 of those, and so on (cached on ``blocks``)."""
    if "_levels" not in blocks.__dict__:
        levels = [blocks.top]
        while max(levels[-1].shape) > 1:
            a = levels[-1]
            a = np.pad(a, ((0, a.shape[0] % 2), (0, a.shape[1] % 2)))
            levels.append(np.maximum.reduce([a[0::2, 0::2], a[0::2, 1::2], a[1::2, 0::2], a[1::2, 1::2]]))
        blocks.__dict__["_levels"] = levels
    return blocks.__dict__["_levels"]


def null_aucs(blocks, which: str, radii: list[float], res: float, hist: np.ndarray,
              draws: int = NULL_DRAWS, seed: int = NULL_SEED) -> np.ndarray:
    """The AUC of ``draws`` seeded random sets of ``len(radii)`` points on the blocks' scored land
    (``which="land"``) or null domain (``"null"``), point j scored with the best block within
    ``radii[j]`` plus half a block of its block. Blocks are drawn in proportion to their cells; a wide
    disc is read on a coarser level of block maxima (at most :data:`MAX_REACH_BLOCKS` blocks across its
    radius), which only widens it. Empty when there is nothing to draw from."""
    key = f"_cdf_{which}"
    if key not in blocks.__dict__:  # the blocks with cells and their cumulative counts, to draw in proportion
        counts = (blocks.n_land if which == "land" else blocks.n_null).ravel()
        nonzero = np.flatnonzero(counts)
        blocks.__dict__[key] = (nonzero, np.cumsum(counts[nonzero], dtype=np.int64))
    nonzero, cdf = blocks.__dict__[key]
    if not radii or not len(cdf):
        return np.empty(0)
    rng = np.random.default_rng(seed)
    a = area_above(hist)
    levels = _levels(blocks)
    W = blocks.top.shape[1]
    vals = np.empty((draws, len(radii)))
    for j, r in enumerate(radii):
        lev = 0
        while lev + 1 < len(levels) and r > MAX_REACH_BLOCKS * blocks.k * res * 2 ** lev:
            lev += 1
        top, size = levels[lev], blocks.k * res * 2 ** lev
        R = int(math.floor((r + size / 2) / size))
        dy, dx = np.mgrid[-R:R + 1, -R:R + 1]
        keep = np.hypot(dy, dx) * size <= r + size / 2
        keep[R, R] = True
        dy, dx = dy[keep], dx[keep]
        br, bc = np.divmod(nonzero[np.searchsorted(cdf, rng.integers(0, cdf[-1], size=draws), side="right")], W)
        rows, cols = (br >> lev)[:, None] + dy, (bc >> lev)[:, None] + dx
        inside = (rows >= 0) & (rows < top.shape[0]) & (cols >= 0) & (cols < top.shape[1])
        got = np.where(inside, top[np.clip(rows, 0, top.shape[0] - 1), np.clip(cols, 0, top.shape[1] - 1)], 0)
        vals[:, j] = 1 - a[got.max(axis=1).astype(int) - 1]  # >= 1: the point's own block has scored cells
    return vals.mean(axis=1)


def summary(aucs: np.ndarray) -> tuple[float, float]:
    """(median, 95th percentile) of a null's AUCs (NaN when empty)."""
    if not len(aucs):
        return float("nan"), float("nan")
    return float(np.median(aucs)), float(np.percentile(aucs, 95))


def median_score(hist: np.ndarray) -> float:
    """The median score of scored land (centre of its bin)."""
    c = np.cumsum(hist)
    return float((np.searchsorted(c, c[-1] / 2) + 0.5) / BINS) if c[-1] else float("nan")


def verdict(score: str, rank_excess: float, n_located: int, auc: float, null_p95: float) -> str:
    """``contradicts`` (evidence score: the located sites sit, on median, below the land's median, each
    measured against a random point on land scored the same way, i.e. ``rank_excess`` < 0), else
    ``too_few_sites``, ``supported`` (AUC above the type's null 95th percentile) or ``not_better_than_null``."""
    if score == "evidence" and rank_excess < 0:
        return "contradicts"
    if n_located < MIN_SITES:
        return "too_few_sites"
    return "supported" if auc > null_p95 else "not_better_than_null"


def pa_intersection(hist: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Prediction-area plot (Yousefi & Carranza 2015): the threshold where the share of located sites
    predicted (score >= threshold) equals 100 % minus the share of area above it; (threshold, % sites)."""
    s = np.asarray(values, float)
    s = s[~np.isnan(s)]
    n = hist.sum()
    thr = np.arange(BINS) / BINS
    area = np.cumsum(hist[::-1])[::-1] / max(n, 1)
    pred = np.array([(s >= x).mean() for x in thr]) if len(s) else np.full(BINS, np.nan)
    i = int(np.nanargmin(np.abs(pred - (1 - area)))) if len(s) else 0
    return float(thr[i]), float(100 * pred[i])
