"""A raster as a small coloured image for web maps (Leaflet image overlays, XYZ tiles): resampled to
WGS84 or Web Mercator, coloured with :func:`ramp_rgba` (the one place a colour ramp and an alpha ramp
become RGBA bytes) and written as an exact 8-bit PNG (:func:`png_data_uri`; no rescaling anywhere)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.warp import reproject, transform_bounds
from pyproj import Transformer

from geo.colour import rgb
from geo.crs import WEB_CRS

WEB_MERCATOR = "EPSG:3857"
EQUATOR_M_PER_DEG = 111319.49  # Web Mercator metres per degree of longitude


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


def mercator_preview(path: str | Path, cell_deg: float) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Band 1 of ``path`` resampled (average) to Web Mercator cells as wide as ``cell_deg`` degrees of
    longitude (rows evenly spaced in Mercator y, as Leaflet stretches an image overlay); NaN where the
    raster has nodata. Returns the array and its (west, south, east, north) in degrees."""
    size = cell_deg * EQUATOR_M_PER_DEG
    with rasterio.open(path) as src:
        x0, y0, x1, y1 = transform_bounds(src.crs, WEB_MERCATOR, *src.bounds)
        width, height = int(np.ceil((x1 - x0) / size)), int(np.ceil((y1 - y0) / size))
        out = np.full((height, width), np.nan, dtype="float32")
        reproject(rasterio.band(src, 1), out, dst_transform=from_origin(x0, y1, size, size),
                  dst_crs=WEB_MERCATOR, dst_nodata=np.nan, resampling=Resampling.average)
    lons, lats = Transformer.from_crs(WEB_MERCATOR, WEB_CRS, always_xy=True).transform(
        [x0, x0 + width * size], [y1 - height * size, y1])
    return out, (lons[0], lats[0], lons[1], lats[1])


def ramp_alpha(values: np.ndarray, transparent_below: float = 0.0,
               opacity: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """Opacity 0-1 of each value of [0, 1]: 0 below ``transparent_below`` (and for NaN), then linear from
    ``opacity[0]`` at ``transparent_below`` to ``opacity[1]`` at 1."""
    lo, hi = opacity
    span = (1 - transparent_below) or 1.0
    t = np.clip((values - transparent_below) / span, 0, 1)
    with np.errstate(invalid="ignore"):
        below = np.isnan(values) | (values < transparent_below)
    return np.where(below, 0.0, lo + (hi - lo) * t)


def ramp_rgba(values: np.ndarray, ramp: tuple[str, ...], transparent_below: float = 0.0,
              opacity: tuple[float, float] = (1.0, 1.0), levels: int | None = None) -> np.ndarray:
    """RGBA uint8 of ``values`` in [0, 1]: the colour ``ramp`` (low -> high, linear between its stops)
    and the alpha ramp of :func:`ramp_alpha`; ``levels``: values first rounded to multiples of
    1/levels (classes). Every clear pixel is (0, 0, 0, 0). The maps' image overlays and the XYZ tiles
    both call this, so both draw exactly the legend's colours."""
    values = np.asarray(values, dtype="float32")
    if levels:
        values = np.round(values * levels) / levels
    rgba = colourise(values, ramp)
    rgba[..., 3] = np.round(ramp_alpha(values, transparent_below, opacity) * 255).astype("uint8")
    rgba[rgba[..., 3] == 0] = 0
    return rgba


def png_bytes(rgba: np.ndarray) -> bytes:
    """An (h, w, 4) uint8 array as PNG bytes, written as is (8 bits per channel, no scaling)."""
    import io

    from PIL import Image
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"png_bytes needs an (h, w, 4) uint8 array, got {rgba.dtype} {rgba.shape}")
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def png_data_uri(rgba: np.ndarray) -> str:
    """An (h, w, 4) uint8 array as a ``data:image/png;base64`` URI."""
    import base64
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgba)).decode("ascii")
