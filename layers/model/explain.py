"""Why is this cell high? Every evidence of a type at one cell: its value, membership, score and citation.

The cell is scored by the same tile function as the grids (``score_tile`` on a one-cell window), so
the memberships and scores equal the COG values at that cell for the same model and resolution.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import Transformer
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from geo.crs import METRIC_CRS
from geo.errors import Problem, SourceDataError
from layers.model.evidence import RunContext
from layers.model.model_spec import ModelSpec, load_spec
from layers.model.prospectivity import bind, national_grid, prepare, score_groups, score_tile


@dataclass(frozen=True)
class Row:
    evidence: str
    kind: str
    score: str
    component: str
    value: float | None  # the measured value before the membership (None: the kind has none)
    membership: float | None  # None: missing at this cell
    basis: str  # reference ids, or "judgement"


def explain(frames, deposit_type: str, lon: float, lat: float, resolution: float = 250,
            spec: ModelSpec | None = None) -> tuple[dict[str, float | None], list[Row]]:
    """({score: value at the cell (None: no data)}, one row per evidence) at (lon, lat) in WGS 84."""
    spec = spec or load_spec()
    model = spec.types[deposit_type]
    inputs = prepare(frames)
    grid = national_grid(inputs, resolution)
    x, y = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True).transform(lon, lat)
    if not (math.isfinite(x) and math.isfinite(y)) or not 0 <= (rc := grid.cell_of(x, y))[0] < grid.height \
            or not 0 <= rc[1] < grid.width:
        w, s, e, n = transform_bounds(METRIC_CRS, "EPSG:4326", *grid.bounds(Window(0, 0, grid.width, grid.height)))
        raise SourceDataError(problems=[Problem("LON LAT", "outside the grid's extent", value=(lon, lat),
                                                fix=f"give a point within longitude {w:.2f} to {e:.2f} and latitude "
                                                    f"{s:.2f} to {n:.2f} (WGS 84, longitude first)")])
    r, c = rc
    win = Window(c, r, 1, 1)
    kinds = bind(model, RunContext(inputs, grid, deposit_type))
    try:
        ts = score_tile(inputs, grid, win, {deposit_type: (model, kinds)})
        rows, scores = [], {}
        if ts is None:  # at sea or abroad
            return {s: None for s in score_groups(kinds)}, rows
        for k, mem in zip(kinds, ts.mems[deposit_type]):
            value = None
            if k.needs_function:
                value = float(k.covered(ts.tile, k.values(ts.tile))[0, 0])
            mu = None if mem is None or np.isnan(mem[0, 0]) else float(mem[0, 0])
            rows.append(Row(k.ev.name, k.ev.kind, k.score, k.ev.component, None if value is None or np.isnan(value) else value,
                            mu, ";".join(k.ev.refs) or k.ev.basis))
        for s in score_groups(kinds):
            v = ts.scores[(deposit_type, s)][0][0]
            scores[s] = None if np.isnan(v) else float(v)
        return scores, rows
    finally:
        for k in kinds:
            k.close()
