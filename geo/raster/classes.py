"""Polygon classes rasterised to per-cell values (e.g. lithology code -> membership)."""
from __future__ import annotations

import numpy as np
from rasterio.windows import Window

from geo.grid import Grid, Shapes, burn


def class_values(grid: Grid, win: Window, shapes: Shapes) -> np.ndarray:
    """Each cell takes the value of the polygon containing its centre (later polygons win where they
    overlap); cells in no polygon are NaN (no data, not "zero")."""
    return burn(grid, win, shapes, fill=np.nan, dtype="float32")
