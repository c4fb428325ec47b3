"""A north-up raster grid in a metric CRS, walked tile by tile so no whole-grid array is ever held."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import shapely
from affine import Affine
from rasterio import features
from rasterio.windows import Window
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class Grid:
    """``width`` x ``height`` cells of ``res`` metres, upper-left corner at (``x0``, ``y0``)."""

    crs: str
    x0: float
    y0: float
    res: float
    width: int
    height: int

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], res: float, crs: str) -> "Grid":
        """The grid of ``res`` cells snapped to multiples of ``res`` that covers ``bounds``."""
        if not res > 0:
            raise ValueError(f"resolution must be positive, got {res!r}")
        xmin, ymin, xmax, ymax = bounds
        x0, y0 = math.floor(xmin / res) * res, math.ceil(ymax / res) * res
        width = int(math.ceil((xmax - x0) / res))
        height = int(math.ceil((y0 - ymin) / res))
        return cls(crs, x0, y0, float(res), max(width, 1), max(height, 1))

    @property
    def transform(self) -> Affine:
        return Affine(self.res, 0.0, self.x0, 0.0, -self.res, self.y0)

    @property
    def cell_area_km2(self) -> float:
        return self.res * self.res / 1e6

    def tiles(self, size: int = 1024) -> Iterator[Window]:
        """Windows of at most ``size`` x ``size`` cells, row by row."""
        for r in range(0, self.height, size):
            for c in range(0, self.width, size):
                yield Window(c, r, min(size, self.width - c), min(size, self.height - r))

    def padded(self, win: Window, pad: int) -> Window:
        """``win`` grown by ``pad`` cells on each side (may extend past the grid: cells there are real)."""
        return Window(win.col_off - pad, win.row_off - pad, win.width + 2 * pad, win.height + 2 * pad)

    def coarser(self, win: Window, factor: int) -> tuple["Grid", Window]:
        """The grid of ``factor`` x ``factor`` blocks of this one (same origin) and its window over ``win``,
        grown by one block so that every cell centre of ``win`` has its four neighbouring block centres."""
        f = factor
        coarse = Grid(self.crs, self.x0, self.y0, self.res * f, math.ceil(self.width / f), math.ceil(self.height / f))
        c0, r0 = int(win.col_off) // f, int(win.row_off) // f
        return coarse, coarse.padded(Window(c0, r0, math.ceil((win.col_off + win.width) / f) - c0,
                                            math.ceil((win.row_off + win.height) / f) - r0), 1)

    def bounds(self, win: Window) -> tuple[float, float, float, float]:
        x = self.x0 + win.col_off * self.res
        y = self.y0 - win.row_off * self.res
        return x, y - win.height * self.res, x + win.width * self.res, y

    def window_transform(self, win: Window) -> Affine:
        return self.transform @ Affine.translation(win.col_off, win.row_off)

    def centres(self, win: Window) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre x (per column) and y (per row) of ``win``, float64."""
        xs = self.x0 + (win.col_off + np.arange(win.width) + 0.5) * self.res
        ys = self.y0 - (win.row_off + np.arange(win.height) + 0.5) * self.res
        return xs, ys

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """(row, col) of the cell containing (x, y); may lie outside the grid."""
        return int(math.floor((self.y0 - y) / self.res)), int(math.floor((x - self.x0) / self.res))

    def cell_centre(self, x: float, y: float) -> tuple[float, float]:
        """Centre (x, y) of the cell containing (x, y)."""
        r, c = self.cell_of(x, y)
        return self.x0 + (c + 0.5) * self.res, self.y0 - (r + 0.5) * self.res


class Shapes:
    """Geometries (in the grid's CRS) and their burn values, indexed once for rasterizing many windows."""

    def __init__(self, geoms, values=None):
        geoms = np.asarray(geoms, dtype=object)
        # without values every geometry burns 1: split it into parts, whose envelopes are smaller
        self.geoms = shapely.get_parts(geoms) if values is None else geoms
        self.values = np.ones(len(self.geoms)) if values is None else np.asarray(values)
        if len(self.values) != len(self.geoms):
            raise ValueError(f"{len(self.geoms)} geometries but {len(self.values)} values")
        self.tree = shapely.STRtree(self.geoms)
        # only points: a k-d tree of their coordinates, for exact distances (geo/raster/distance.py)
        kinds = shapely.get_type_id(self.geoms)
        self.points = (cKDTree(shapely.get_coordinates(self.geoms)) if len(self.geoms) and (kinds == 0).all()
                       else None)


def windows_meeting(grid: Grid, windows, shapes: "Shapes") -> list[Window]:
    """The windows that meet at least one of ``shapes`` (the others would burn nothing)."""
    windows = list(windows)
    if not windows:
        return []
    boxes = shapely.box(*np.array([grid.bounds(w) for w in windows]).T)
    hit = np.unique(shapes.tree.query(boxes, predicate="intersects")[0])
    return [windows[i] for i in hit]


def burn(grid: Grid, win: Window, shapes, values=None, fill: float = 0, dtype="uint8") -> np.ndarray:
    """Rasterize ``shapes`` (a :class:`Shapes`, or geometries and ``values``) into ``win`` (cell
    centres inside a geometry take its value); later geometries win where they overlap.

    Only geometries whose envelope meets the window are clipped to it and drawn, so the cost follows
    what lies in the window.
    """
    shapes = shapes if isinstance(shapes, Shapes) else Shapes(shapes, values)
    box = grid.bounds(win)
    pad = grid.res
    hits = np.sort(shapes.tree.query(shapely.box(box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)))
    clipped = shapely.clip_by_rect(shapes.geoms[hits], box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
    keep = ~shapely.is_empty(clipped)
    shape = (int(win.height), int(win.width))
    if not keep.any():
        return np.full(shape, fill, dtype=dtype)
    return features.rasterize(zip(clipped[keep], shapes.values[hits][keep]), out_shape=shape,
                              transform=grid.window_transform(win), fill=fill, dtype=dtype)


def point_influence(grid: Grid, win: Window, xy: np.ndarray, reach: np.ndarray, membership,
                    floor: float = 0.0) -> np.ndarray:
    """Per cell of ``win``, the largest ``membership(distance, k)`` over points ``xy[k]`` within ``reach[k]``.

    Cells beyond every point's reach get ``floor``. Each point is compared only with the cells inside
    its reach (a few numpy rows and columns), so the cost follows the points, not the grid.
    """
    xs, ys = grid.centres(win)
    best = np.full((len(ys), len(xs)), floor, dtype=np.float32)
    for k, ((px, py), r) in enumerate(zip(np.asarray(xy, dtype=float), np.asarray(reach, dtype=float))):
        c0, c1 = np.searchsorted(xs, px - r), np.searchsorted(xs, px + r, side="right")
        r0, r1 = np.searchsorted(-ys, -(py + r)), np.searchsorted(-ys, -(py - r), side="right")
        if c0 >= c1 or r0 >= r1:
            continue
        dx2 = ((xs[c0:c1] - px) ** 2).astype(np.float32)
        dy2 = ((ys[r0:r1] - py) ** 2).astype(np.float32)
        mu = membership(np.sqrt(dy2[:, None] + dx2[None, :]), k)
        np.maximum(best[r0:r1, c0:c1], mu, out=best[r0:r1, c0:c1])
    return best
