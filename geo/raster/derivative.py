"""Terrain derivatives of an elevation array (float32, NaN = no data)."""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def relief(z: np.ndarray, size: int) -> np.ndarray:
    """Local relief: ``max - min`` of the valid cells in the ``size`` x ``size`` box around each cell
    (van Herk / Gil-Werman running max/min, ``scipy.ndimage``); NaN where the cell itself is NaN."""
    nan = np.isnan(z)
    hi = ndimage.maximum_filter(np.where(nan, -np.inf, z), size=size, mode="nearest")
    lo = ndimage.minimum_filter(np.where(nan, np.inf, z), size=size, mode="nearest")
    out = (hi - lo).astype(np.float32)
    out[nan] = np.nan
    return out


def slope(z: np.ndarray, res: float) -> np.ndarray:
    """Slope in degrees, ``atan(hypot(dz/dx, dz/dy))`` with central differences (``numpy.gradient``)
    over cells of ``res`` metres; NaN next to missing cells."""
    dy, dx = np.gradient(z.astype(np.float32), np.float32(res))
    return np.degrees(np.arctan(np.hypot(dx, dy))).astype(np.float32)
