"""Score statistics accumulated tile by tile: a global histogram and per-zone sums, maxima and histograms.

Scores in [0, 1] are binned to 1/BINS, so percentiles and "area above a percentile" are exact for the
binned scores and within 1/BINS of the true values.
"""
from __future__ import annotations

import numpy as np

BINS = 4096


def to_bins(values: np.ndarray) -> np.ndarray:
    """Each value's bin, 0 .. BINS - 1 (values beyond [0, 1] in the end bins); NaN: ``BINS``, one past the
    end (so NaN cells need not be taken out first: a compaction is the slowest pass of a histogram)."""
    b = np.multiply(values, np.float32(BINS))
    np.clip(b, 0, BINS - 1, out=b)  # NaN stays NaN (in place: 4x faster than clip's own output here)
    np.fmin(b, BINS, out=b)  # NaN -> BINS
    return b.astype(np.intp)  # as bincount wants it


def histogram(values: np.ndarray) -> np.ndarray:
    """Cells per bin (NaN left out)."""
    return np.bincount(to_bins(values), minlength=BINS + 1)[:BINS]


class ScoreStats:
    """Histogram of every scored cell, plus per-zone statistics for ``n_zones`` zones."""

    def __init__(self, n_zones: int = 0):
        self.hist = np.zeros(BINS, dtype=np.int64)
        self.zone_hist = np.zeros((n_zones, BINS), dtype=np.int64)
        self.zone_sum = np.zeros(n_zones, dtype=np.float64)
        self.zone_max = np.full(n_zones, np.nan)

    def add(self, scores: np.ndarray, labels: np.ndarray | None = None, offsets: np.ndarray | None = None) -> None:
        """Count the scores (1-D, NaN: not scored) in the histogram and, with ``labels`` (parallel: the zone of
        each score, < 0 = none) or their ``offsets`` (:meth:`label_offsets`), in their zones' statistics."""
        if labels is None and offsets is None:
            self.hist += histogram(scores)
            return
        n = len(self.zone_hist)  # one bincount of (zone, bin) pairs; row 0: no zone, column BINS: not scored
        offsets = self.label_offsets(labels) if offsets is None else offsets
        pairs = np.bincount(offsets + to_bins(scores), minlength=(n + 1) * (BINS + 1)).reshape(n + 1, BINS + 1)
        self.hist += pairs[:, :BINS].sum(axis=0)
        counts = pairs[1:, :BINS]
        self.zone_hist += counts
        ok = None
        for z in np.flatnonzero(counts.any(axis=1)):
            ok = ~np.isnan(scores) if ok is None else ok
            self._sum_max(int(z), scores[(offsets == (z + 1) * (BINS + 1)) & ok])

    @staticmethod
    def label_offsets(labels: np.ndarray) -> np.ndarray:
        """Each zone label's row in the (zone, bin) pairs (intp): computed once for the scores of one tile."""
        return (labels.astype(np.intp) + 1) * (BINS + 1)

    def add_zone(self, zone: int, scores: np.ndarray) -> None:
        """Add the scores (1-D, valid cells only) that fall in ``zone``."""
        if scores.size == 0:
            return
        self.zone_hist[zone] += histogram(scores)
        self._sum_max(zone, scores)

    def _sum_max(self, zone: int, scores: np.ndarray) -> None:
        self.zone_sum[zone] += float(scores.sum(dtype=np.float64))
        top = float(scores.max())
        self.zone_max[zone] = top if np.isnan(self.zone_max[zone]) else max(self.zone_max[zone], top)

    def merge(self, other: "ScoreStats") -> None:
        """Add another tile's statistics to these."""
        self.hist += other.hist
        self.zone_hist += other.zone_hist
        self.zone_sum += other.zone_sum
        self.zone_max = np.fmax(self.zone_max, other.zone_max)

    @property
    def count(self) -> int:
        return int(self.hist.sum())

    def top_threshold(self, share: float) -> tuple[float, float]:
        """(threshold, actual share): the lowest binned score such that the cells at or above it are
        at most ``share`` (0-1) of scored cells. Ties never push the area past ``share``."""
        cum_from_top = np.cumsum(self.hist[::-1])
        k = int(np.searchsorted(cum_from_top, share * self.count, side="right"))
        if k == 0:
            return 1.0 + 1.0 / BINS, 0.0
        return (BINS - k) / BINS, float(cum_from_top[k - 1]) / max(self.count, 1)

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100) of scored cells (lower edge of its bin)."""
        return self.top_threshold(1 - q / 100)[0]

    def zone_cells_at_or_above(self, zone: int, threshold: float) -> int:
        return int(self.zone_hist[zone, min(int(round(threshold * BINS)), BINS):].sum())

    def zone_count(self, zone: int) -> int:
        return int(self.zone_hist[zone].sum())
