"""The spread of each score when the model's parameters vary within their declared ranges.

A seeded ensemble (``ensemble_runs`` >= 20 members): in each member every parameter with a declared
``ranges`` entry is drawn uniformly from its range, the model is run with those values, and per cell
the standard deviation of the member scores is written as ``spread_<score>_<type>.tif``. The
ensemble runs on its own coarser grid (``ensemble_resolution_m`` in the model file), the same tile
function as the main run; the file's tags say so.
"""
from __future__ import annotations

import dataclasses
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from rasterio.errors import NotGeoreferencedWarning

from geo.raster.cog import CogLayer, CogSet, InProcess, gdal_env, tile_size
from layers.model.evidence import RunContext
from layers.model.model_spec import ModelSpec, TypeModel
from layers.model.prospectivity import (TILE, bind, default_jobs, national_grid, prepare, score_groups, score_tile, tile_at,
                                  user_evidence)


def member_model(model: TypeModel, rng: np.random.Generator) -> TypeModel:
    """``model`` with every ranged parameter drawn uniformly from its range (keys in declaration order)."""
    evs = tuple(ev.with_values({k: float(rng.uniform(lo, hi)) for k, (lo, hi) in ev.ranges.items()})
                if ev.ranges else ev for ev in model.evidence)
    return dataclasses.replace(model, evidence=evs)


def write_spread(frames, spec: ModelSpec, types, out_dir: Path, evidence: Path | None = None,
                 jobs: int | None = None) -> list[Path]:
    """Run the ensemble and write one spread COG per type and score; return the paths."""
    types = list(types or spec.types)
    n, seed = spec.ensemble_runs, spec.ensemble_seed
    inputs = prepare(frames)
    grid = national_grid(inputs, spec.ensemble_resolution_m)
    extra = (user_evidence(evidence),) if evidence else ()
    rngs = [np.random.default_rng([seed, m]) for m in range(n)]
    members = [{t: (m := member_model(spec.types[t], rng), bind(m, RunContext(inputs, grid, t), extra)) for t in types}
               for rng in rngs]
    groups = {t: score_groups(members[0][t][1]) for t in types}
    size = tile_size(grid, TILE)
    layers = {}
    for t in types:
        for s in groups[t]:
            tags = {"deposit_type": t, "score": s, "ensemble_runs": str(n), "ensemble_seed": str(seed),
                    "resolution_m": str(grid.res),
                    "meaning": f"standard deviation of the {s} score over {n} runs, each parameter with a declared "
                               f"range drawn uniformly from it; computed at {grid.res:g} m, coarser than the score grid"}
            layers[(t, s)] = CogLayer(out_dir / f"spread_{s}_{t}.tif", f"{t} {s} score spread (std over {n} runs)",
                                      tags, spec.style.get("score_unit"))
    try:
        with ThreadPoolExecutor(jobs or default_jobs()) as pool, gdal_env(), warnings.catch_warnings(), \
                CogSet(grid, layers, size, InProcess(pool.map)) as cogs:
            warnings.simplefilter("ignore", NotGeoreferencedWarning)  # as in run_grids: rasterio's, from threads
            for win in grid.tiles(size):
                tile = tile_at(inputs, grid, win)  # burnt once for every member
                if tile is None:
                    continue
                # the first member fills the tile's shared caches (rasters read, distances), the others reuse them
                first = score_tile(inputs, grid, win, members[0], tile)
                runs = [first, *pool.map(lambda mem: score_tile(inputs, grid, win, mem, tile), members[1:])]
                spread = {}
                for (t, s) in layers:
                    stack = np.stack([r.scores[(t, s)][0] for r in runs]).astype(np.float64)
                    with warnings.catch_warnings():  # a cell no member scored: NaN, quietly
                        warnings.simplefilter("ignore", RuntimeWarning)
                        sd = np.nanstd(stack, axis=0) if not np.isnan(stack).all() else np.full(stack.shape[1], np.nan)
                    spread[(t, s)] = np.full(tile.national.shape, np.nan, dtype=np.float32)
                    spread[(t, s)][tile.national] = sd
                cogs.write(win, spread)
    finally:
        for mem in members:
            for _, kinds in mem.values():
                for k in kinds:
                    k.close()
    return [layer.target for layer in layers.values()]
