"""What a tiled grid run needs (cells, memory, disk) against what this machine has, checked before any work.

The figures are estimates from measurements of this project's grid engine (``layers/model/prospectivity.py``
on :mod:`geo.raster.cog`), kept here with their basis:

- memory: a base for the inputs and the process (:data:`BASE_MEMORY`), plus, per worker thread, one tile
  being computed at :data:`BYTES_PER_TILE_CELL` per cell (measured: 30 m with one thread 665 MB peak,
  two threads 883 MB, tiles of 1,024 x 1,024 cells: ~210 bytes per cell per thread). Tiles grow with the
  grid (:func:`geo.raster.cog.tile_size`: each overview cell must lie in one tile): 4,096 x 4,096 cells at 1 m.
- disk: each COG at :data:`BYTES_PER_CELL` per cell of the country, overviews included (measured at 500 m
  over 30 layers: 1.0 on average, 4.3 for the densest layer), and the tiles' scratch files as much again
  until the COGs are published.
"""
from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from geo.errors import GeoError

BASE_MEMORY = 600e6
BYTES_PER_TILE_CELL = 256
BYTES_PER_CELL = 2.0
SCRATCH_FACTOR = 2  # scratch parts and the published COGs exist side by side
CANDIDATES_M = (2.5, 5, 10, 20, 25, 30, 50, 100, 250, 500, 1000)  # resolutions offered in a refusal


class GridTooLargeError(GeoError, MemoryError):
    """A grid request this machine cannot hold (memory) or store (disk)."""


@dataclass(frozen=True)
class Need:
    cells: int  # cells of the country (scored, written)
    memory: float  # bytes, peak resident
    disk: float  # bytes, peak on the output's file system


def need(area_m2: float, res: float, tile: int, layers: int, threads: int) -> Need:
    """The estimate for ``layers`` COGs over ``area_m2`` of country at ``res`` metres, tiles of ``tile``
    cells a side computed on ``threads`` threads."""
    cells = int(area_m2 / (res * res))
    return Need(cells, BASE_MEMORY + threads * tile * tile * BYTES_PER_TILE_CELL,
                SCRATCH_FACTOR * BYTES_PER_CELL * cells * layers)


def available_memory() -> float:
    """Bytes of memory available to a new allocation (``MemAvailable``, else the physical memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def free_disk(folder: Path) -> float:
    """Free bytes on the file system that ``folder`` is (or would be created) on."""
    p = Path(folder).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return float(shutil.disk_usage(p).free)


def gb(n: float) -> str:
    v = n / 1e9
    return f"{v:,.0f} GB" if v >= 10 else f"{v:.1f} GB" if v >= 0.1 else f"{v:.2f} GB"


def check_fits(estimate, res: float, out_dir: Path | None, threads: int) -> None:
    """Raise :class:`GridTooLargeError` (one line: need, what the machine has, the finest resolution that
    fits) when the run at ``res`` would not fit. ``estimate(res)`` returns that resolution's :class:`Need`
    (its disk is ignored when nothing is written, ``out_dir`` None)."""
    mem, disk = available_memory(), (free_disk(out_dir) if out_dir is not None else math.inf)

    def fits(n: Need) -> bool:
        return n.memory <= mem and (out_dir is None or n.disk <= disk)
    n = estimate(res)
    if fits(n):
        return
    finest = next((r for r in CANDIDATES_M if r > res and fits(estimate(r))), None)
    needs = f"{gb(n.memory)} of memory" + (f" and {gb(n.disk)} of disk" if out_dir is not None else "")
    has = f"{gb(mem)} of memory available" + (f" and {gb(disk)} free in {out_dir}" if out_dir is not None else "")
    fix = f"use --resolution {finest:g} or coarser" if finest else "use a coarser --resolution"
    fix += (f" (or fewer --jobs than {threads}, or a cluster with --scheduler)" if n.memory > mem
            else ", or --out on a larger disk")
    raise GridTooLargeError(f"--resolution {res:g} needs about {needs} ({n.cells:,} cells of the country); "
                            f"this machine has {has}; fix: {fix}")
