"""The per-tile part of the validation: arrays in, arrays out, merged in grid order.

* :class:`SiteCells`: per validation site, the best score among the scored cells whose centre lies
  within a member's location uncertainty (the member's own cell always counts), how many such cells
  there are, and the nearest scored cell within the uncertainty plus half a cell diagonal (a cell that
  touches the disc): where the disc has no scored cell, the site is snapped to that cell, or excluded.
* :class:`Blocks`: per score, the maximum binned score and the number of scored cells and of null-domain
  cells in blocks of ``k`` x ``k`` cells (about :data:`NULL_BLOCK_M`), from which the nulls draw random
  points and take, as for a site, the best value within the same radius (layers/validation/stats.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from geo.raster.zonal import BINS, to_bins

NULL_BLOCK_M = 1000.0  # block of the nulls' random points (a power-of-two number of cells, at most this)


def block_factor(res: float, size: int) -> int:
    """Cells per block side: the largest power of two ``k`` with ``k * res <= NULL_BLOCK_M`` dividing the tile size."""
    k = 1
    while 2 * k * res <= NULL_BLOCK_M and size % (2 * k) == 0:
        k *= 2
    return k


@dataclass
class SiteCells:
    """Per validation site (arrays of one value per site)."""

    best: np.ndarray  # best score in the disc (NaN: no scored cell there)
    n_disc: np.ndarray  # scored cells in the disc (the union of its members' discs: each cell once)
    snap_d: np.ndarray  # distance (m) to the nearest scored cell touching the disc (inf: none)
    snap_v: np.ndarray  # its score

    @classmethod
    def empty(cls, n: int) -> "SiteCells":
        return cls(np.full(n, np.nan), np.zeros(n, np.int64), np.full(n, np.inf), np.full(n, np.nan))

    def add(self, i: int, values: np.ndarray, discs: np.ndarray, dist: np.ndarray) -> None:
        """Add one tile's candidate cells of site ``i`` (:func:`disc_cells`; ``values`` NaN where not
        scored): a scored cell in any member's disc counts once in :attr:`n_disc` (co-located members'
        discs overlap); the nearest scored cell is the snap candidate (ties: the higher value, as between tiles)."""
        ok = ~np.isnan(values)
        disc = ok & (discs > 0)
        if disc.any():
            self.best[i] = np.fmax(self.best[i], float(values[disc].max()))
            self.n_disc[i] += int(disc.sum())
        if ok.any():
            d = np.where(ok, dist, np.inf)
            nearest = d == d.min()
            self._snap(i, float(d.min()), float(values[nearest].max()))

    def _snap(self, i: int, d: float, v: float) -> None:
        if d < self.snap_d[i] or (d == self.snap_d[i] and v > self.snap_v[i]):  # ties: the same for any tile order
            self.snap_d[i], self.snap_v[i] = d, v

    def merge(self, other: "SiteCells") -> None:
        self.best = np.fmax(self.best, other.best)
        self.n_disc += other.n_disc
        for i in np.flatnonzero(np.isfinite(other.snap_d)):
            self._snap(int(i), float(other.snap_d[i]), float(other.snap_v[i]))

    def status(self) -> list[str]:
        """Per site: ``scored`` (a scored cell in its disc), ``snapped`` or ``excluded``."""
        return ["scored" if n else "snapped" if np.isfinite(d) else "excluded" for n, d in zip(self.n_disc, self.snap_d)]

    def values(self) -> np.ndarray:
        """The score each site is validated with: its disc's best, else the snapped cell's, else NaN."""
        return np.where(self.n_disc > 0, self.best, np.where(np.isfinite(self.snap_d), self.snap_v, np.nan))


def disc_cells(grid, win, xy: np.ndarray, u: np.ndarray, members) -> tuple | None:
    """The tile's candidate cells of one validation site, each once, in row-major order: (rows, cols,
    centre x, centre y, discs, distance to the nearest member), tile-relative rows/cols; None when none
    lies in the tile. A cell is a candidate of a member when its centre lies within the member's
    uncertainty plus half a cell diagonal or it holds the member; ``discs`` counts the members whose disc
    holds it (centre within the uncertainty, or its own cell). Members' discs overlap (they are one
    validation site because they do): each cell is scored once, not once per member (the 7-member
    coastal-placer site, discs of 11-43 km, gave up to 7 copies of a 30 m tile's million cells)."""
    res, slack = grid.res, grid.res * math.sqrt(0.5)
    r0, c0, h, w = int(win.row_off), int(win.col_off), int(win.height), int(win.width)
    boxes = []
    for m in members:
        x, y = xy[m]
        reach = u[m] + slack
        cols = (max(c0, math.floor((x - reach - grid.x0) / res)), min(c0 + w, math.ceil((x + reach - grid.x0) / res)))
        rows = (max(r0, math.floor((grid.y0 - y - reach) / res)), min(r0 + h, math.ceil((grid.y0 - y + reach) / res)))
        if cols[0] < cols[1] and rows[0] < rows[1]:
            boxes.append((m, rows, cols))
    if not boxes:
        return None
    # the members' boxes' union box, in tile cells: nearest distance and disc count per cell
    br0, br1 = min(b[1][0] for b in boxes), max(b[1][1] for b in boxes)
    bc0, bc1 = min(b[2][0] for b in boxes), max(b[2][1] for b in boxes)
    near = np.full((br1 - br0, bc1 - bc0), np.inf)
    discs = np.zeros(near.shape, np.int32)
    for m, rows, cols in boxes:
        x, y = xy[m]
        cx = grid.x0 + (np.arange(*cols) + 0.5) * res
        cy = grid.y0 - (np.arange(*rows) + 0.5) * res
        d = np.hypot(cx[None, :] - x, cy[:, None] - y)
        own_r, own_c = grid.cell_of(x, y)
        inside = d <= u[m]
        keep = d <= u[m] + slack
        if rows[0] <= own_r < rows[1] and cols[0] <= own_c < cols[1]:
            inside[own_r - rows[0], own_c - cols[0]] = keep[own_r - rows[0], own_c - cols[0]] = True
        sub = (slice(rows[0] - br0, rows[1] - br0), slice(cols[0] - bc0, cols[1] - bc0))
        np.minimum(near[sub], np.where(keep, d, np.inf), out=near[sub])
        discs[sub] += inside
    R, C = (i.astype(np.int32) for i in np.nonzero(np.isfinite(near)))
    dist, count = near[R, C], discs[R, C]
    R, C = R + br0, C + bc0
    return R - r0, C - c0, grid.x0 + (C + 0.5) * res, grid.y0 - (R + 0.5) * res, count, dist


@dataclass
class Blocks:
    """Per block of ``k`` x ``k`` cells: 1 + the bin of the maximum score (0: none), scored cells, null cells."""

    k: int
    top: np.ndarray  # uint16
    n_land: np.ndarray  # uint8 (uint16 for blocks of more than 255 cells)
    n_null: np.ndarray

    @classmethod
    def national(cls, grid, k: int) -> "Blocks":
        shape = (math.ceil(grid.height / k), math.ceil(grid.width / k))
        count = np.uint8 if k * k <= 255 else np.uint16  # the cell counts of a block
        return cls(k, np.zeros(shape, np.uint16), np.zeros(shape, count), np.zeros(shape, count))

    @staticmethod
    def of_tile(score: np.ndarray, domain: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(top, n_land, n_null) of a tile's 2-D ``score`` (NaN: not scored; scores lie in [0, 1]) and
        null ``domain`` mask. The bin of a block's best score is the best of its cells' bins (binning is
        monotone), so the scores are reduced first and only the block maxima binned."""
        h, w = score.shape
        ok = ~np.isnan(score)
        null = ok & domain
        if h % k or w % k:  # an edge tile: padded with unscored cells
            pad = ((0, -h % k), (0, -w % k))
            score, ok, null = np.pad(score, pad, constant_values=np.nan), np.pad(ok, pad), np.pad(null, pad)

        def blocks(a, op, dtype):  # rows first (each read once, contiguous), then the k-times smaller array's columns
            rows = a[0::k].astype(dtype)
            for i in range(1, k):
                op(rows, a[i::k], out=rows)
            out = rows[:, 0::k].copy()
            for i in range(1, k):
                op(out, rows[:, i::k], out=out)
            return out
        best = blocks(score, np.fmax, np.float32)  # NaN: no scored cell in the block
        top = np.zeros(best.shape, np.uint16)
        scored = ~np.isnan(best)
        top[scored] = to_bins(best[scored]).astype(np.uint16) + 1
        return top, blocks(ok, np.add, np.uint16), blocks(null, np.add, np.uint16)

    def add(self, r0: int, c0: int, part) -> None:
        h, w = part[0].shape
        h, w = min(h, self.top.shape[0] - r0), min(w, self.top.shape[1] - c0)
        for dst, src in zip((self.top, self.n_land, self.n_null), part):
            dst[r0:r0 + h, c0:c0 + w] = src[:h, :w]


@dataclass
class TileValidation:
    """What one tile adds to one score's validation."""

    sites: SiteCells
    variants: dict[str, tuple[np.ndarray, SiteCells]] = field(default_factory=dict)  # ablation: hist, sites
    blocks: tuple | None = None  # (block row, block col, (top, n_land, n_null))


@dataclass
class ScoreValidation:
    """One score's validation, merged over the tiles."""

    sites: SiteCells
    blocks: Blocks
    variants: dict[str, tuple[np.ndarray, SiteCells]] = field(default_factory=dict)

    def merge(self, tv: TileValidation) -> None:
        self.sites.merge(tv.sites)
        for name, (hist, sc) in tv.variants.items():
            if name not in self.variants:
                self.variants[name] = (np.zeros(BINS, np.int64), SiteCells.empty(len(sc.best)))
            self.variants[name][0][:] += hist
            self.variants[name][1].merge(sc)
        if tv.blocks is not None:
            self.blocks.add(*tv.blocks)
