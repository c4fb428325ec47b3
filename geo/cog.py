"""Write a single-band float32 grid tile by tile, then publish it as a Cloud-Optimized GeoTIFF.

Each tile goes into a sparse, compressed scratch GeoTIFF (unwritten tiles read as nodata), and its
block averages go at once into one scratch GeoTIFF per overview level: an overview cell is the mean
of the valid full-resolution cells under it (nodata left out), the same rule as GDAL's AVERAGE
resampling, but exact and computed while the tile is still in memory. A VRT ties the levels together
and GDAL's COG driver copies them as they are (``OVERVIEWS=FORCE_USE_EXISTING``) with ZSTD level 1
(fastest here; GDAL >= 2.3 and QGIS read it) and the horizontal-differencing predictor, leaving
all-nodata tiles out of the file (``SPARSE_OK``: GDAL reads them as nodata). The final file appears
atomically.

Measured on the national 100 m coastal-placer grid (2 cores): GDAL computing the overviews from the
scratch file took 3-4 s more per layer; the floating-point predictor (3) took 2.15 s of CPU to publish
against 1.17 s for the horizontal one (2), for a file 3 % smaller (17.8 against 18.3 MB). Both
predictors are lossless; libtiff-based readers (GDAL, QGIS, rasterio) read either.
"""
from __future__ import annotations

import math
import os
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.windows import Window

from geo.atomic import atomic_path, output_errors, temp_dir
from geo.grid import Grid

NODATA = -9999.0
BLOCK = 512
COG_OPTIONS = dict(COMPRESS="ZSTD", PREDICTOR="STANDARD", LEVEL=1, BLOCKSIZE=BLOCK, OVERVIEWS="FORCE_USE_EXISTING",
                   SPARSE_OK="TRUE", NUM_THREADS="2", BIGTIFF="IF_SAFER")
SCRATCH = dict(driver="GTiff", count=1, dtype="float32", nodata=NODATA, tiled=True, blockxsize=BLOCK,
               blockysize=BLOCK, compress="ZSTD", zstd_level=1, sparse_ok=True, bigtiff="YES")
# bounds the block cache while writing and copying. In BYTES: rasterio passes an integer to GDALSetCacheMax64,
# so 256 meant 256 bytes (measured: rasterize 15x and the 5 km ensemble 3x slower); GDAL's own "<100000 = MB"
# rule applies only to the environment variable.
GDAL_ENV = dict(GDAL_CACHEMAX=64 * 2**20, GDAL_NUM_THREADS=2)


def overview_factors(width: int, height: int, block: int = BLOCK) -> list[int]:
    """Halve until the grid fits one block, as GDAL's ``OVERVIEWS=AUTO`` does: [2, 4, ...]."""
    factors, f = [], 1
    while max(math.ceil(width / f), math.ceil(height / f)) > block:
        f *= 2
        factors.append(f)
    return factors


def _pool2(a: np.ndarray) -> np.ndarray:
    """Sum 2 x 2 blocks; an odd last row or column is summed with zeros. (Strided adds: 8x faster
    than summing a 4-D reshape over two axes.)"""
    h, w = a.shape
    if h % 2 or w % 2:
        a = np.pad(a, ((0, h % 2), (0, w % 2)))
    out = a[0::2, 0::2] + a[1::2, 0::2]
    out += a[0::2, 1::2]
    out += a[1::2, 1::2]
    return out


def tile_size(grid: Grid, preferred: int = 1024) -> int:
    """The window size to write ``grid`` in: ``preferred``, or the coarsest overview factor if larger."""
    factors = overview_factors(grid.width, grid.height)
    return max(preferred, factors[-1] if factors else 1)


def gdal_env() -> rasterio.Env:
    """GDAL settings for writing: a bounded block cache (GDAL's default is 5 % of RAM)."""
    return rasterio.Env(**GDAL_ENV)


class CogWriter:
    """``with CogWriter(target, grid, description, tags, tile) as w: w.write(window, array)``.

    Windows are ``tile`` x ``tile`` cells starting on multiples of ``tile`` (``Grid.tiles(tile)``;
    see :func:`tile_size`), so each overview cell lies in one window. Each overview level's scratch
    blocks are as small as a window's share of that level (at least 16 cells), so no block is ever
    written twice: a bounded block cache never has to read one back.
    """

    def __init__(self, target: str | os.PathLike, grid: Grid, description: str, tags: dict[str, str],
                 tile: int = 1024, unit: str | None = None):
        self.target, self.grid, self.description, self.tags = Path(target), grid, description, tags
        self.unit = unit  # the band's unit type (GDAL ``GetUnitType``, shown by QGIS)
        self.factors = overview_factors(grid.width, grid.height)
        if self.factors and tile % self.factors[-1]:
            raise ValueError(f"tile {tile} is not a multiple of the coarsest overview factor {self.factors[-1]}")
        self.tile = tile
        self._lock = threading.Lock()

    def __enter__(self) -> "CogWriter":
        self._tmpdir = temp_dir(self.target)
        try:
            with output_errors(self.target):
                self._open()
        except BaseException:
            self._tmpdir.cleanup()
            self._tmpdir = None
            raise
        return self

    def _open(self) -> None:
        self.scratch = Path(self._tmpdir.name) / "full.tif"
        g = self.grid
        self._ds = rasterio.open(self.scratch, "w", width=g.width, height=g.height, crs=g.crs,
                                 transform=g.transform, **SCRATCH)
        self._ovr = []
        for f in self.factors:
            block = max(16, min(BLOCK, self.tile // f // 16 * 16))
            self._ovr.append(rasterio.open(
                self.scratch.with_name(f"ovr{f}.tif"), "w", width=math.ceil(g.width / f),
                height=math.ceil(g.height / f), crs=g.crs, transform=g.transform @ Affine.scale(f),
                **{**SCRATCH, "blockxsize": block, "blockysize": block}))

    def write(self, win: Window, values: np.ndarray) -> None:
        """Write ``values`` (NaN = nodata) at ``win`` and the window's share of every overview.

        Safe to call from several threads: the arrays are made outside the writer's lock, and windows
        may arrive in any order (the published file is laid out by GDAL, the same for any order).
        """
        col, row = int(win.col_off), int(win.row_off)
        if col % self.tile or row % self.tile:
            raise ValueError(f"window at column {col}, row {row} does not start on a multiple of {self.tile} cells")
        nan = np.isnan(values)
        if nan.all():  # a sparse file reads unwritten blocks (and their overviews) as nodata
            return
        parts = [(self._ds, win, np.where(nan, np.float32(NODATA), values).astype(np.float32, copy=False))]
        total = np.where(nan, np.float32(0), values)  # float32: a 128 x 128 block sum stays exact to 1e-3
        count = (~nan).astype(np.float32)
        for f, ds in zip(self.factors, self._ovr):
            total, count = _pool2(total), _pool2(count)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(count > 0, total / count, NODATA).astype(np.float32)
            parts.append((ds, Window(col // f, row // f, mean.shape[1], mean.shape[0]), mean))
        with self._lock, output_errors(self.target):
            for ds, w, a in parts:
                ds.write(a, 1, window=w)

    def _vrt(self) -> Path:
        """A VRT of the scratch file with the overview files as its overviews, carrying the metadata."""
        g = self.grid
        root = ET.Element("VRTDataset", rasterXSize=str(g.width), rasterYSize=str(g.height))
        ET.SubElement(root, "SRS").text = rasterio.crs.CRS.from_user_input(g.crs).to_wkt()
        ET.SubElement(root, "GeoTransform").text = ", ".join(repr(v) for v in g.transform.to_gdal())
        md = ET.SubElement(root, "Metadata")
        for k, v in self.tags.items():
            ET.SubElement(md, "MDI", key=k).text = v
        band = ET.SubElement(root, "VRTRasterBand", dataType="Float32", band="1")
        ET.SubElement(band, "Description").text = self.description
        if self.unit:
            ET.SubElement(band, "UnitType").text = self.unit
        ET.SubElement(band, "NoDataValue").text = repr(NODATA)
        src = ET.SubElement(band, "SimpleSource")
        ET.SubElement(src, "SourceFilename", relativeToVRT="1").text = self.scratch.name
        ET.SubElement(src, "SourceBand").text = "1"
        for ds in self._ovr:
            ov = ET.SubElement(band, "Overview")
            ET.SubElement(ov, "SourceFilename", relativeToVRT="1").text = Path(ds.name).name
            ET.SubElement(ov, "SourceBand").text = "1"
        path = self.scratch.with_name("grid.vrt")
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=False)
        return path

    def __exit__(self, exc_type, exc, tb) -> None:
        """Publish the COG (no exception) or drop everything (an exception); a second call does nothing."""
        if self._tmpdir is None:
            return
        try:
            failed = None
            for ds in (self._ds, *self._ovr):
                try:
                    ds.close()
                except Exception as e:  # close every dataset; report the first failure
                    failed = failed or e
            if exc_type is None:  # when dropping the files after an error, that error is the one to report
                with output_errors(self.target):
                    if failed is not None:
                        raise failed
                    vrt = self._vrt()
                with atomic_path(self.target) as tmp, gdal_env():
                    rasterio.shutil.copy(vrt, tmp, driver="COG", **COG_OPTIONS)
        finally:
            self._tmpdir.cleanup()
            self._tmpdir = None
