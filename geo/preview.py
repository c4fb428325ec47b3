"""A raster as a small coloured WGS84 image, for web maps (Leaflet image overlays)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.warp import reproject, transform_bounds

from geo.colour import rgb
from geo.crs import WEB_CRS


def wgs84_preview(path: str | Path, cell_deg: float) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Band 1 of ``path`` resampled (average) to a WGS84 grid of ``cell_deg`` degrees, read from the
    file's overviews; NaN where the raster has nodata. Returns the array and (west, south, east, north)."""
    with rasterio.open(path) as src:
        w, s, e, n = transform_bounds(src.crs, WEB_CRS, *src.bounds)
        width, height = int(np.ceil((e - w) / cell_deg)), int(np.ceil((n - s) / cell_deg))
        out = np.full((height, width), np.nan, dtype="float32")
        reproject(rasterio.band(src, 1), out, dst_transform=from_origin(w, n, cell_deg, cell_deg),
                  dst_crs=WEB_CRS, dst_nodata=np.nan, resampling=Resampling.average)
    return out, (w, n - height * cell_deg, w + width * cell_deg, n)


def colourise(values: np.ndarray, ramp: tuple[str, ...], vmin: float = 0.0, vmax: float = 1.0) -> np.ndarray:
    """RGBA uint8: ``values`` mapped linearly through the colour ``ramp`` (low -> high); NaN transparent."""
    stops = np.array([rgb(c) for c in ramp], dtype="float32")
    t = np.clip((values - vmin) / (vmax - vmin), 0, 1) * (len(ramp) - 1)
    t = np.nan_to_num(t, nan=0.0)
    lo = np.floor(t).astype(int).clip(0, len(ramp) - 2)
    frac = (t - lo)[..., None]
    rgba = np.zeros((*values.shape, 4), dtype="uint8")
    rgba[..., :3] = np.round(stops[lo] * (1 - frac) + stops[lo + 1] * frac).astype("uint8")
    rgba[..., 3] = np.where(np.isnan(values), 0, 255)
    return rgba
