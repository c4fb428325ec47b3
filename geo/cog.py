"""Write a single-band float32 grid tile by tile, then publish it as a Cloud-Optimized GeoTIFF.

Tiles go into a sparse, compressed scratch GeoTIFF (unwritten tiles read as nodata); GDAL's COG
driver then adds internal overviews, a floating-point predictor and ZSTD compression (level 1: fastest here; GDAL >= 2.3 and QGIS read it), streaming
through a bounded block cache. The final file appears atomically.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.windows import Window

from geo.atomic import atomic_path
from geo.errors import ExportError
from geo.grid import Grid

NODATA = -9999.0
COG_OPTIONS = dict(COMPRESS="ZSTD", PREDICTOR="YES", LEVEL=1, BLOCKSIZE=512, OVERVIEWS="AUTO",
                   OVERVIEW_RESAMPLING="AVERAGE", RESAMPLING="AVERAGE", NUM_THREADS="2",
                   BIGTIFF="IF_SAFER")
GDAL_ENV = dict(GDAL_CACHEMAX=256, GDAL_NUM_THREADS=2)  # MB: bounds the block cache while copying


class CogWriter:
    """``with CogWriter(target, grid, description, tags) as w: w.write(window, array)``."""

    def __init__(self, target: str | os.PathLike, grid: Grid, description: str, tags: dict[str, str]):
        self.target, self.grid, self.description, self.tags = Path(target), grid, description, tags

    def __enter__(self) -> "CogWriter":
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._tmpdir = tempfile.TemporaryDirectory(prefix=f".{self.target.stem}.", dir=self.target.parent)
        except OSError as exc:
            raise ExportError(f"cannot write to {self.target.parent}: {exc.strerror or exc}; "
                              "fix: choose a writable output directory") from exc
        self.scratch = Path(self._tmpdir.name) / "scratch.tif"
        self._ds = rasterio.open(
            self.scratch, "w", driver="GTiff", width=self.grid.width, height=self.grid.height, count=1,
            dtype="float32", crs=self.grid.crs, transform=self.grid.transform, nodata=NODATA, tiled=True,
            blockxsize=512, blockysize=512, compress="ZSTD", zstd_level=1, predictor=3, sparse_ok=True, bigtiff="YES")
        return self

    def write(self, win: Window, values: np.ndarray) -> None:
        self._ds.write(np.where(np.isnan(values), np.float32(NODATA), values).astype(np.float32), 1,
                       window=win)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._ds.set_band_description(1, self.description)
            self._ds.update_tags(**self.tags)
            self._ds.close()
            if exc_type is None:
                with atomic_path(self.target) as tmp, rasterio.Env(**GDAL_ENV):
                    rasterio.shutil.copy(self.scratch, tmp, driver="COG", **COG_OPTIONS)
        finally:
            self._tmpdir.cleanup()
