"""The prospectivity tables of the GeoPackage: prediction-area validation, success-rate AUCs and zonal
statistics, per deposit type and per score (``evidence``, ``proximity``).

`geo build` fills them from its own grid run; without one (validate, export) the builders run the
model at the spec's coarse ``table_resolution_m`` without writing rasters.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

import layers.prospectivity as engine  # (module import: layers.prospectivity imports the zone rules of this package)
from geo.zonal import BINS
from layers.registry import builder

VALIDATION, ZONAL, AUC = "prospectivity_validation", "prospectivity_zonal", "prospectivity_auc"
GRID_TABLES = (VALIDATION, ZONAL, AUC)  # what a grid run gives the GeoPackage
MIN_SITES = 5  # fewer known sites than this: "too few sites to validate", no percentage
TOO_FEW = f"too few sites to validate (fewer than {MIN_SITES})"
BASELINE_DRAWS = 999  # random site sets drawn for the baseline
BASELINE_SEED = 20261201

_cache: dict[tuple, "engine.GridRun"] = {}


def _table_run(frames) -> engine.GridRun:
    key = (id(frames["deposits"]), id(frames["prospect_zones"]))
    if key not in _cache:
        _cache.clear()
        from layers.model_spec import load_spec
        spec = load_spec()
        _cache[key] = engine.run_grids(frames, spec.table_resolution_m, spec=spec)
    return _cache[key]


def site_scores(tr, score: str) -> np.ndarray:
    return np.array([tr.scores[score].loo_scores.get(s, np.nan) for s in tr.site_ids], dtype=float)


def _loo_note(tr, score: str) -> str:
    shaped = any(k.score == score and type(k).loo is not engine.Kind.loo for k in tr.kinds)
    return "each site left out of the evidence it shaped" if shaped else "no site shaped this score"


def validation_table(run: engine.GridRun) -> pd.DataFrame:
    """Per type and score: share of its known sites in the top 5/10/20 % of scored land, each site left
    out wherever a site shaped the score; fewer than 5 sites: counts only, no percentage."""
    rows = []
    for t, tr in run.types.items():
        for s, sr in tr.scores.items():
            scores = site_scores(tr, s)
            for share in run.spec.top_shares if sr.stats.count else ():
                thr, actual = sr.stats.top_threshold(share)
                hit = int(np.sum(scores >= thr))
                few = len(scores) < MIN_SITES
                rows.append({
                    "deposit_type": t, "score": s, "top_pct": round(100 * share, 1), "area_pct": round(100 * actual, 2),
                    "threshold": round(thr, 4), "n_sites": len(scores), "n_scored": int(np.sum(~np.isnan(scores))),
                    "n_in_top": hit,
                    "pct_sites_in_top": None if few or not len(scores) else round(100 * hit / len(scores), 1),
                    "note": TOO_FEW if few else _loo_note(tr, s),
                    "resolution_m": run.grid.res,
                    "sites_missed": ";".join(x for x, v in zip(tr.site_ids, scores) if not v >= thr) or None,
                })
    return pd.DataFrame(rows)


def area_above(hist: np.ndarray) -> np.ndarray:
    """Per score bin b: share of scored area with a score in a bin above b, plus half the bin's own
    share (ties split evenly); from the score histogram."""
    n = hist.sum()
    above = np.concatenate([np.cumsum(hist[::-1])[::-1][1:], [0]])
    return (above + hist / 2) / max(n, 1)


def success_auc(hist: np.ndarray, scores: np.ndarray) -> float:
    """Area under the success-rate curve (share of sites captured against share of area, highest scores
    first): the mean over sites of 1 - (share of area scoring above the site). A site off the scored land
    (NaN) counts as captured last (0). Random sites give 0.5 on average."""
    a = area_above(hist)
    vals = [0.0 if np.isnan(v) else 1 - a[min(int(v * BINS), BINS - 1)] for v in scores]
    return float(np.mean(vals)) if vals else float("nan")


def baseline(hist: np.ndarray, n: int, draws: int = BASELINE_DRAWS, seed: int = BASELINE_SEED) -> tuple[float, float]:
    """(median, 95th percentile) of the success-rate AUC of ``n`` random points on scored land, over
    ``draws`` seeded draws: what chance alone reaches with as many sites."""
    if n == 0 or hist.sum() == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    a = area_above(hist)
    p = hist / hist.sum()
    bins = rng.choice(len(hist), size=(draws, n), p=p)
    aucs = (1 - a[bins]).mean(axis=1)
    return float(np.median(aucs)), float(np.percentile(aucs, 95))


def pa_intersection(hist: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """Prediction-area plot (Yousefi & Carranza 2015): the threshold where the share of sites predicted
    (score >= threshold) equals 100 % minus the share of area above it; returns (threshold, % sites)."""
    n = hist.sum()
    thr = np.arange(BINS) / BINS
    area = np.cumsum(hist[::-1])[::-1] / max(n, 1)  # share of area with score >= bin
    s = np.nan_to_num(scores, nan=-1.0)
    pred = np.array([(s >= x).mean() if len(s) else np.nan for x in thr])
    i = int(np.argmin(np.abs(pred - (1 - area))))
    return float(thr[i]), float(100 * pred[i])


def auc_table(run: engine.GridRun) -> pd.DataFrame:
    """Per type and score: success-rate AUC with sites left out, the random baseline and the P-A point."""
    rows = []
    for t, tr in run.types.items():
        for s, sr in tr.scores.items():
            scores = site_scores(tr, s)
            few = len(scores) < MIN_SITES
            med, p95 = baseline(sr.stats.hist, len(scores))
            auc = success_auc(sr.stats.hist, scores) if sr.stats.count else float("nan")
            thr, pa = pa_intersection(sr.stats.hist, scores) if sr.stats.count else (float("nan"), float("nan"))
            rows.append({
                "deposit_type": t, "score": s, "n_sites": len(scores), "n_scored": int(np.sum(~np.isnan(scores))),
                "success_auc": None if few or np.isnan(auc) else round(auc, 3),
                "baseline_auc_median": None if few or np.isnan(med) else round(med, 3),
                "baseline_auc_p95": None if few or np.isnan(p95) else round(p95, 3),
                "pa_threshold": None if few or np.isnan(thr) else round(thr, 4),
                "pa_pct_sites": None if few or np.isnan(pa) else round(pa, 1),
                "note": (TOO_FEW if few else _loo_note(tr, s)) if sr.stats.count else "no evidence at any cell",
                "resolution_m": run.grid.res,
            })
    return pd.DataFrame(rows)


def zonal_table(run: engine.GridRun) -> pd.DataFrame:
    """Per type, score and per 2025 province / prospect zone: mean and max score, area above the 80th percentile."""
    rows = []
    cell = run.grid.cell_area_km2
    for t, tr in run.types.items():
        for s, sr in tr.scores.items():
            st = sr.stats
            p80 = st.percentile(80) if st.count else float("nan")
            for z, (kind, uid, name) in enumerate(run.units):
                n = st.zone_count(z)
                above = st.zone_cells_at_or_above(z, p80 + 1 / 4096) if st.count else 0
                rows.append({
                    "deposit_type": t, "score": s, "unit_kind": kind, "unit_id": uid, "unit_name": name,
                    "mean_score": round(st.zone_sum[z] / n, 4) if n else None,
                    "max_score": round(float(st.zone_max[z]), 4) if n else None,
                    "p80_national": round(p80, 4) if st.count else None, "scored_km2": round(n * cell, 1),
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


@builder(AUC)
def prospectivity_auc(spec, frames) -> pd.DataFrame:
    return auc_table(_table_run(frames))
