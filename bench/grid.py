"""Time `geo grid --resolution R` for every type against a plain whole-array numpy/scipy version.

Each run is a child process, so its wall time and peak memory (ru_maxrss) are its own; the runs share a
derived-data cache filled by a 20 km run first (the checked layers and the open sea, as an earlier run leaves
them; never the figures of the resolution timed), `--cold` adds a run with an empty one:

    python -m bench.grid [--resolution 100] [--skip-whole] [--skip-serial] [--cold]

The whole-array version computes the site, zone and shoreline memberships and fuzzy gamma on full national
arrays (scipy's exact distance transform for the shoreline, numpy for distances to sites) and writes
nothing; it predates the evidence kinds (rasters, relief, river mouths) that the tiled run now includes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WHOLE = r'''
import json, sys, time
import numpy as np
from scipy import ndimage
from geo.raster.fuzzy import combine, linear_decay
from geo.grid import burn
from layers.load import load_layers
from layers.model.model_spec import load_spec
from layers.model.prospectivity import national_grid, prepare
from rasterio.windows import Window
res = float(sys.argv[1])
inputs = prepare(load_layers()); spec = load_spec()
t0 = time.perf_counter()
grid = national_grid(inputs, res)
full = Window(0, 0, grid.width, grid.height)
national = burn(grid, full, inputs.areas, dtype="int16") > 0
dry = burn(grid, full, inputs.sea) == 0  # not the open sea (layers/derived/coast.py)
shore = (ndimage.distance_transform_edt(dry) * res).astype(np.float32)
xs, ys = grid.centres(full)
for t, model in spec.types.items():
    mems = []
    for ev in model.evidence:
        p = ev.params
        if ev.kind == "site_distance":
            s = inputs.sites[t]; best = np.full(national.shape, p["low"], np.float32)
            for x, y, u in zip(s.x, s.y, s.uncertainty_m):
                d = np.sqrt(((ys[:, None] - y) ** 2).astype(np.float32) + ((xs[None, :] - x) ** 2).astype(np.float32))
                np.maximum(best, linear_decay(d, u, u + p["decay_m"], p["high"], p["low"]), out=best)
            mems.append(best)
        elif ev.kind == "zone_membership":
            a = np.full(national.shape, p["outside"], np.float32)
            for i in np.flatnonzero(inputs.zones.deposit_type == t):
                a[burn(grid, full, [inputs.zones.geometry.iloc[i]]).astype(bool)] = p["confidence"][inputs.zones.confidence.iloc[i]]
            mems.append(a)
        elif ev.kind == "shoreline_distance":
            mems.append(linear_decay(shore, p["near_m"], p["far_m"], p["high"], p["low"]))
    score = combine(model.operator, mems, model.gamma); score[~national] = np.nan
print(json.dumps({"seconds": time.perf_counter() - t0}))
'''


def child(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd``; return its wall time (s) and its own peak resident memory (MB), read with
    ``os.wait4`` (RUSAGE_CHILDREN would report the largest child so far, e.g. an earlier browser)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        return {"wall_s": wall, "peak_mb": None, "error": (stderr or stdout)[-400:]}
    return {"wall_s": wall, "peak_mb": usage.ru_maxrss / 1024, "out": stdout}


def _tiled(resolution: float, jobs: int | None, cache: str | None = None) -> dict:
    """A tiled run in a child process; ``cache``: its derived-geometry cache folder (geo/files/cache.py)."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "geo", "-q", "grid", "--resolution", str(resolution), "--out", out]
        env = {**os.environ, "GEO_CACHE_DIR": cache} if cache else None
        return child(cmd + (["--jobs", str(jobs)] if jobs else []), env)


def _line(label: str, r: dict) -> str:
    return f"{label}: {r['wall_s']:.1f} s wall, peak {r['peak_mb'] or float('nan'):.0f} MB" + (
        f"\n  failed: {r['error']}" if "error" in r else "")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=float, default=100)
    ap.add_argument("--skip-whole", action="store_true", help="only the tiled runs (e.g. at 30 m)")
    ap.add_argument("--skip-serial", action="store_true", help="no one-thread tiled run")
    ap.add_argument("--cold", action="store_true", help="also a run with an empty derived-geometry cache")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as warm:
        # the derived-data cache as an earlier grid run leaves it (the checked layers, the open sea), never this
        # resolution's figures: a repeated run would find them there and draw nothing
        warmed = _tiled(20_000, None, warm)
        if "error" in warmed:
            print("the 20 km run (to fill the cache) failed:", warmed["error"])
            return
        tiled = _tiled(a.resolution, None, warm)
        print(_line(f"geo grid --resolution {a.resolution:g} (all types, tiled, all CPUs: evidence, proximity, uncertainty and spread COGs, validation figures)", tiled))
        if a.cold:
            with tempfile.TemporaryDirectory() as empty:
                print(_line("  the same with an empty cache (layers read and checked, the open sea computed)",
                            _tiled(a.resolution, None, empty)))
        if not a.skip_serial:
            for figure in Path(warm).glob("figure-*"):  # drawn again, as in the first run
                figure.unlink()
            serial = _tiled(a.resolution, 1, warm)
            print(_line("  the same with --jobs 1", serial))
            print(f"  ratio all CPUs / one thread: time {tiled['wall_s'] / serial['wall_s']:.2f}")
    if a.skip_whole:
        return
    whole = child([sys.executable, "-c", WHOLE, str(a.resolution)])
    if "error" in whole:
        print("whole-array version failed:", whole["error"])
        return
    print(f"whole-array numpy/scipy (same model, no output): {whole['wall_s']:.1f} s wall "
          f"({json.loads(whole['out'])['seconds']:.1f} s compute), peak {whole['peak_mb'] or float('nan'):.0f} MB")
    print(f"ratio tiled / whole: time {tiled['wall_s'] / whole['wall_s']:.2f}, "
          f"memory {(tiled['peak_mb'] or 0) / (whole['peak_mb'] or 1):.2f}")


if __name__ == "__main__":
    main()
