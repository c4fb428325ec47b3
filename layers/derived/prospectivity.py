"""The prospectivity tables of the GeoPackage: prediction-area validation and zonal statistics.

`geo build` fills them from its own grid run; without one (validate, export) the builders run the
model at the spec's coarse ``table_resolution_m`` without writing rasters.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

import layers.prospectivity as engine  # (module import: layers.prospectivity imports the zone rules of this package)
from layers.registry import builder

VALIDATION, ZONAL = "prospectivity_validation", "prospectivity_zonal"
GRID_TABLES = (VALIDATION, ZONAL)  # what a grid run gives the GeoPackage

_cache: dict[tuple, "engine.GridRun"] = {}


def _table_run(frames) -> engine.GridRun:
    key = (id(frames["deposits"]), id(frames["prospect_zones"]))
    if key not in _cache:
        _cache.clear()
        from layers.model_spec import load_spec
        spec = load_spec()
        _cache[key] = engine.run_grids(frames, spec.table_resolution_m, spec=spec)
    return _cache[key]


def validation_table(run: engine.GridRun) -> pd.DataFrame:
    """Per type: share of its known sites in the top 5/10/20 % of scored land, each site left out."""
    rows = []
    for t, tr in run.types.items():
        scores = np.array([tr.loo_scores.get(s, np.nan) for s in tr.site_ids], dtype=float)
        for share in run.spec.top_shares:
            thr, actual = tr.stats.top_threshold(share)
            hit = int(np.sum(scores >= thr))
            rows.append({
                "deposit_type": t, "top_pct": round(100 * share, 1), "area_pct": round(100 * actual, 2),
                "threshold": round(thr, 4), "n_sites": len(scores), "n_scored": int(np.sum(~np.isnan(scores))),
                "n_in_top": hit, "pct_sites_in_top": round(100 * hit / len(scores), 1) if len(scores) else None,
                "resolution_m": run.grid.res,
                "sites_missed": ";".join(s for s, v in zip(tr.site_ids, scores) if not v >= thr) or None,
            })
    return pd.DataFrame(rows)


def zonal_table(run: engine.GridRun) -> pd.DataFrame:
    """Per type and per 2025 province / prospect zone: mean and max score, area above the 80th percentile."""
    rows = []
    cell = run.grid.cell_area_km2
    for t, tr in run.types.items():
        p80 = tr.stats.percentile(80)
        for z, (kind, uid, name) in enumerate(run.units):
            n = tr.stats.zone_count(z)
            above = tr.stats.zone_cells_at_or_above(z, p80 + 1 / 4096)
            rows.append({
                "deposit_type": t, "unit_kind": kind, "unit_id": uid, "unit_name": name,
                "mean_score": round(tr.stats.zone_sum[z] / n, 4) if n else None,
                "max_score": round(float(tr.stats.zone_max[z]), 4) if n else None,
                "p80_national": round(p80, 4), "scored_km2": round(n * cell, 1),
                "above_p80_km2": round(above * cell, 1),
                "above_p80_pct": round(100 * above / n, 2) if n else None,
                "resolution_m": run.grid.res,
            })
    return pd.DataFrame(rows)


@builder(VALIDATION)
def prospectivity_validation(spec, frames) -> pd.DataFrame:
    return validation_table(_table_run(frames))


@builder(ZONAL)
def prospectivity_zonal(spec, frames) -> pd.DataFrame:
    return zonal_table(_table_run(frames))
