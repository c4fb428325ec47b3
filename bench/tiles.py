"""`python -m bench.tiles [--build build] [--grid evidence_coastal_placer] [--max-zoom 12]`: time and bytes of
`geo tiles` for one grid (zooms 10 to --max-zoom), and, on a sample of the same tiles, our tile cutting
against rio-tiler's plain ``Reader(path).tile`` (the baseline) in the same run.

Needs a build (`geo build`, 250 m by default). Prints one line per measure."""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rio_tiler.io import Reader

from geo.raster.tiles import TILE_SIZE, candidate_tiles, mercator_vrt
from layers.model.overlay import grid_layers
from maps.web.tiles import grid_colour, write_grid_tiles

SAMPLE = 200  # tiles timed both ways


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--grid", default="evidence_coastal_placer")
    ap.add_argument("--max-zoom", type=int, default=12)
    ap.add_argument("--sample-only", action="store_true", help="Skip the full tile set; time the sample only.")
    args = ap.parse_args(argv)
    gl = next(g for g in grid_layers(args.build) if g.path.stem == args.grid)
    with rasterio.open(gl.path) as src:
        res = abs(src.transform.a)
    print(f"grid {gl.path} ({res:g} m), load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not args.sample_only:
        with tempfile.TemporaryDirectory(prefix="bench-tiles-") as tmp:
            ts = write_grid_tiles(gl, Path(tmp), 10, args.max_zoom)
        print(f"geo tiles zooms 10-{args.max_zoom}: {ts.seconds:.1f} s, {ts.tiles} tiles written ({ts.read} read), "
              f"{ts.bytes / 1e6:.2f} MB ({ts.bytes / max(ts.tiles, 1) / 1e3:.1f} kB a tile)")
    colour = grid_colour(gl)
    z = args.max_zoom
    with rasterio.open(gl.path) as src:
        tiles = sorted(candidate_tiles(src, z, keep=lambda v: colour(v)[..., 3] > 0))
    sample = tiles[:: max(1, len(tiles) // SAMPLE)][:SAMPLE]
    times = {}
    with Reader(str(gl.path)) as r:  # baseline: rio-tiler as documented
        t = time.perf_counter()
        base = [r.tile(x, y, z, tilesize=TILE_SIZE, resampling_method="nearest", reproject_method="nearest").array
                for x, y in sample]
        times["baseline"] = time.perf_counter() - t
    with rasterio.open(gl.path) as src, mercator_vrt(src, z) as vrt, Reader(str(gl.path), dataset=vrt) as r:
        t = time.perf_counter()
        ours = [r.tile(x, y, z, tilesize=TILE_SIZE, resampling_method="nearest", reproject_method="nearest").array
                for x, y in sample]
        times["ours"] = time.perf_counter() - t
    exact = {k: _exact_share(gl.path, sample, z, arrays) for k, arrays in (("baseline", base), ("ours", ours))}
    print(f"{len(sample)} tiles at zoom {z}: rio-tiler Reader.tile {times['baseline'] / len(sample) * 1e3:.1f} ms a tile, "
          f"on the Mercator view {times['ours'] / len(sample) * 1e3:.1f} ms (x{times['ours'] / times['baseline']:.2f}); "
          f"pixels holding the value of the cell under their centre: baseline {100 * exact['baseline']:.1f} %, "
          f"ours {100 * exact['ours']:.1f} %")


def _exact_share(path, tiles, z, arrays, per_tile: int = 20) -> float:
    """Share of sampled valid pixels whose value is the COG's value at the pixel's centre."""
    from pyproj import Transformer
    rng = np.random.default_rng(1)
    hits = total = 0
    with rasterio.open(path) as src:
        to_grid = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True)
        n = 2 ** z
        for (x, y), a in zip(tiles, arrays):
            rows, cols = np.nonzero(~np.ma.getmaskarray(a[0]))
            if not len(rows):
                continue
            pick = rng.choice(len(rows), min(per_tile, len(rows)), replace=False)
            for r, c in zip(rows[pick], cols[pick]):
                lon = (x + (c + 0.5) / TILE_SIZE) / n * 360 - 180
                lat = np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * (y + (r + 0.5) / TILE_SIZE) / n))))
                v = next(src.sample([to_grid.transform(lon, lat)], masked=True))[0]
                hits += (not np.ma.is_masked(v)) and float(v) == float(a[0][r, c])
                total += 1
    return hits / max(total, 1)

if __name__ == "__main__":
    main()
