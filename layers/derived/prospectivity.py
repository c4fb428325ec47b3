"""The prospectivity tables of the GeoPackage, per deposit type and score (``evidence``, ``proximity``):
prediction-area validation, success-rate AUCs with both nulls and the verdict, each validation site,
the ablation of the evidence score, the confidence tiers, zonal statistics, and the model's evidence.

`geo build` fills them from its own grid run; without one (validate, export) the builders run the
model at the spec's coarse ``table_resolution_m`` without writing rasters. The numbers are explained
in layers/validation/ (and README.md, "Validation").
"""
from __future__ import annotations

import numpy as np
import pandas as pd

import layers.model.prospectivity as engine  # (module import: layers.model.prospectivity imports the zone rules of this package)
from layers.derived.evidence_table import EVIDENCE, evidence_table
from layers.registry import builder
from layers.validation.stats import (MIN_SITES, NULL_DRAWS, area_above, null_aucs, pa_intersection, ranks,  # noqa: F401
                                     median_score, site_radius, success_auc, summary, verdict)

VALIDATION, ZONAL, AUC = "prospectivity_validation", "prospectivity_zonal", "prospectivity_auc"
SITES, ABLATION, TIERS = "prospectivity_sites", "prospectivity_ablation", "prospectivity_tiers"
GRID_TABLES = (VALIDATION, ZONAL, AUC, SITES, ABLATION, TIERS, EVIDENCE)  # what a grid run gives the GeoPackage
TOO_FEW = f"too few sites to validate (fewer than {MIN_SITES}): each site's percentile rank instead of an AUC"

_cache: dict[tuple, "engine.GridRun"] = {}


def _table_run(frames, spec=None) -> engine.GridRun:
    """The run of ``spec`` (default: the project's model) at its ``table_resolution_m``, kept for the
    builders of one set of frames."""
    if spec is None:
        from layers.model.model_spec import load_spec
        spec = load_spec()
    key = (id(frames["deposits"]), id(frames["prospect_zones"]), spec.sha256)
    if key not in _cache:
        _cache.clear()
        _cache[key] = engine.run_grids(frames, spec.table_resolution_m, spec=spec)
    return _cache[key]


def model_tables(frames, spec) -> dict[str, pd.DataFrame]:
    """The tables of ``GRID_TABLES`` for the model ``spec`` at its ``table_resolution_m``: what the builders
    give for the project's model, for another (e.g. the model that made a build, when a map is redrawn)."""
    return grid_tables(_table_run(frames, spec))


def site_scores(tr, score: str) -> np.ndarray:
    """Per validation site of the type, the value it is validated with (NaN: excluded)."""
    return tr.scores[score].validation.sites.values()


def _shaped(tr, score: str) -> bool:
    return any(k.score == score and type(k).loo is not engine.Kind.loo for k in tr.kinds)


def _loo_note(tr, score: str) -> str:
    return ("each validation site held out of the evidence it shaped, with every site within decay_m of it"
            if _shaped(tr, score) else "no site shaped this score")


def _names(tr, idx) -> str | None:
    return ";".join(tr.clusters[i].name for i in idx) or None


def _counts(tr, score: str) -> dict:
    """n_sites (validation sites), n_scored / n_snapped / n_excluded and the names of the last two."""
    st = tr.scores[score].validation.sites.status()
    return {"n_sites": len(st), "n_scored": st.count("scored"), "n_snapped": st.count("snapped"),
            "n_excluded": st.count("excluded"),
            "sites_snapped": _names(tr, [i for i, s in enumerate(st) if s == "snapped"]),
            "sites_excluded": _names(tr, [i for i, s in enumerate(st) if s == "excluded"])}


def _xyu(run, t):
    s = run.sites[t]
    return s[["x", "y"]].to_numpy(float), s["uncertainty_m"].to_numpy(float)


class Validation:
    """The validation of one grid run: nulls drawn once, every table built from them."""

    def __init__(self, run: engine.GridRun):
        self.run = run
        self.nulls: dict[tuple[str, str], dict[str, np.ndarray]] = {}
        self.site_nulls: dict[tuple[str, str], list[tuple[float, float]]] = {}  # the type's null, per site
        self.land_ranks: dict[tuple[str, str], np.ndarray] = {}  # the land null's median rank, per site
        for t, tr in run.types.items():
            xy, u = _xyu(run, t) if t in run.sites else (None, None)
            for s, sr in tr.scores.items():
                vals = site_scores(tr, s)
                radii = [site_radius(xy, u, c.members) for c, v in zip(tr.clusters, vals) if not np.isnan(v)]
                own = tr.model.validation.get("null", "land")
                which = "land" if own == "land" else "null"
                self.nulls[(t, s)] = {
                    "land": null_aucs(sr.validation.blocks, "land", radii, run.grid.res, sr.stats.hist),
                    "type": null_aucs(sr.validation.blocks, which, radii, run.grid.res, sr.stats.hist)}
                # per validation site: the rank a random point of the type's null reaches with the same radius
                def per_site(null: str) -> list[tuple[float, float]]:
                    return [summary(null_aucs(sr.validation.blocks, null, [site_radius(xy, u, c.members)],
                                              run.grid.res, sr.stats.hist)) if sr.stats.count
                            else (float("nan"), float("nan")) for c in tr.clusters]
                self.site_nulls[(t, s)] = per_site(which)
                self.land_ranks[(t, s)] = np.array([m for m, _ in (per_site("land") if which != "land"
                                                                   else self.site_nulls[(t, s)])])

    def auc_table(self) -> pd.DataFrame:
        """Per type and score: the AUC, both nulls, the counts and names, the verdict."""
        rows = []
        run = self.run
        for t, tr in run.types.items():
            for s, sr in tr.scores.items():
                vals = site_scores(tr, s)
                located = vals[~np.isnan(vals)]
                few = len(located) < MIN_SITES
                has = bool(sr.stats.count)
                auc = success_auc(sr.stats.hist, vals) if has else float("nan")
                land, own = summary(self.nulls[(t, s)]["land"]), summary(self.nulls[(t, s)]["type"])
                thr, pa = pa_intersection(sr.stats.hist, vals) if has else (float("nan"), float("nan"))
                excess = self.rank_excess(t, s)
                v = verdict(s, excess, len(located), auc, own[1]) if has else None
                note = ("no evidence at any cell" if not has else
                        "; ".join(x for x in (TOO_FEW if few else "", _loo_note(tr, s)) if x))
                rows.append({
                    "deposit_type": t, "score": s, **_counts(tr, s), "n_known_sites": len(tr.site_ids),
                    "sites_clustered": ";".join(c.name for c in tr.clusters if len(c.members) > 1) or None,
                    "success_auc": _r(auc, 3, few),
                    "baseline_auc_median": _r(land[0], 3, few), "baseline_auc_p95": _r(land[1], 3, few),
                    "null": tr.model.validation.get("null", "land"),
                    "null_auc_median": _r(own[0], 3, few), "null_auc_p95": _r(own[1], 3, few),
                    "sites_median_score": _r(float(np.median(located)) if len(located) else float("nan"), 4),
                    "land_median_score": _r(median_score(sr.stats.hist) if has else float("nan"), 4),
                    "median_rank_excess": _r(100 * excess, 1),
                    "pa_threshold": _r(thr, 4, few), "pa_pct_sites": _r(pa, 1, few),
                    "verdict": v, "note": note, "resolution_m": run.grid.res,
                })
        return _frame(AUC, rows)

    def rank_excess(self, t: str, s: str) -> float:
        """Median over the located validation sites of (the site's percentile rank - the median rank a
        random point on land reaches with the same radius): below 0, the sites sit below the land's median
        (with no uncertainty, exactly "the sites' median score is below the land median")."""
        tr, sr = self.run.types[t], self.run.types[t].scores[s]
        if not sr.stats.count:
            return float("nan")
        d = ranks(sr.stats.hist, site_scores(tr, s)) - self.land_ranks[(t, s)]
        d = d[~np.isnan(d)]
        return float(np.median(d)) if len(d) else float("nan")

    def sites_table(self) -> pd.DataFrame:
        """One row per type, score and validation site: how it was scored and its percentile rank."""
        rows = []
        run = self.run
        for t, tr in run.types.items():
            xy, u = _xyu(run, t) if t in run.sites else (None, None)
            ids = list(run.sites[t]["id"]) if t in run.sites else []
            for s, sr in tr.scores.items():
                sc = sr.validation.sites
                vals, st = sc.values(), sc.status()
                rk = ranks(sr.stats.hist, vals) if sr.stats.count else np.full(len(vals), np.nan)
                for i, c in enumerate(tr.clusters):
                    rows.append({
                        "deposit_type": t, "score": s, "validation_site": c.name, "site_ids": ";".join(c.ids),
                        "tier": c.tier, "radius_m": round(site_radius(xy, u, c.members), 1), "status": st[i],
                        "cells_in_disc": int(sc.n_disc[i]),
                        "snap_distance_m": round(float(sc.snap_d[i]), 1) if st[i] == "snapped" else None,
                        "score_value": _r(float(vals[i]), 4), "pct_rank": _r(100 * float(rk[i]), 1),
                        "null_rank_median": _r(100 * self.site_nulls[(t, s)][i][0], 1),
                        "null_rank_p95": _r(100 * self.site_nulls[(t, s)][i][1], 1),
                        "land_rank_median": _r(100 * float(self.land_ranks[(t, s)][i]), 1),
                        "sites_left_out": ";".join(ids[j] for j in c.removed) if _shaped(tr, s) else None,
                        "resolution_m": run.grid.res,
                    })
        return _frame(SITES, rows)

    def ablation_table(self) -> pd.DataFrame:
        """Per type, the evidence score with all its evidence, without each, and each alone: the AUC (5 or
        more located sites) and the median percentile rank of the sites, and the gain of each layer."""
        rows = []
        run = self.run
        for t, tr in run.types.items():
            sr = tr.scores.get("evidence")
            if sr is None or not sr.validation.variants or not sr.stats.count:
                continue
            simplest = set(tr.model.validation.get("simplest", []))
            full = site_scores(tr, "evidence")
            full_auc = success_auc(sr.stats.hist, full)
            models = [("all", None, sr.stats.hist, full)]
            for name, (hist, sc) in sr.validation.variants.items():
                how, ev = name.split(":", 1)
                models.append((how, ev, hist, sc.values()))
            for how, ev, hist, vals in models:
                located = vals[~np.isnan(vals)]
                few = len(located) < MIN_SITES
                auc = success_auc(hist, vals) if hist.sum() else float("nan")
                rk = ranks(hist, vals) if hist.sum() else np.full(len(vals), np.nan)
                rows.append({
                    "deposit_type": t, "score": "evidence", "model": how, "evidence": ev,
                    "success_auc": _r(auc, 3, few),
                    "auc_gain": _r(full_auc - auc, 3, few) if how == "without" else None,
                    "median_site_rank": _r(100 * float(np.nanmedian(rk)) if np.isfinite(rk).any() else float("nan"), 1),
                    "n_sites": len(vals), "n_located": len(located), "simplest": how == "only" and ev in simplest,
                    "note": TOO_FEW if few else None, "resolution_m": run.grid.res,
                })
        return _frame(ABLATION, rows)

    def tiers_table(self) -> pd.DataFrame:
        """Per type, score and source-strength tier of the validation sites: the AUC (5 or more located
        sites) or each site's percentile rank."""
        rows = []
        run = self.run
        for t, tr in run.types.items():
            for s, sr in tr.scores.items():
                if not sr.stats.count:
                    continue
                vals = site_scores(tr, s)
                rk = ranks(sr.stats.hist, vals)
                for tier in dict.fromkeys(c.tier for c in tr.clusters):
                    idx = [i for i, c in enumerate(tr.clusters) if c.tier == tier]
                    v = vals[idx]
                    n = int((~np.isnan(v)).sum())
                    rows.append({
                        "deposit_type": t, "score": s, "tier": tier, "n_sites": len(idx), "n_located": n,
                        "success_auc": _r(success_auc(sr.stats.hist, v), 3, n < MIN_SITES),
                        "site_ranks": None if n >= MIN_SITES else ";".join(
                            f"{tr.clusters[i].name}: {'excluded' if np.isnan(rk[i]) else f'{100 * rk[i]:.1f}'}" for i in idx),
                        "resolution_m": run.grid.res,
                    })
        return _frame(TIERS, rows)


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """The rows as the table's declared fields, in declared order (an empty table keeps its columns)."""
    from geo.catalog import load_catalog
    from layers import CATALOG_DIR
    if name not in _fields:
        _fields[name] = load_catalog(CATALOG_DIR)[name].field_names
    return pd.DataFrame(rows, columns=_fields[name])


_fields: dict[str, list[str]] = {}


def _r(v: float, digits: int, hide: bool = False):
    return None if hide or v is None or not np.isfinite(v) else round(float(v), digits)


_validations: dict[int, Validation] = {}


def validation(run: engine.GridRun) -> Validation:
    """The run's validation (nulls drawn once per run)."""
    if id(run) not in _validations:
        _validations.clear()
        _validations[id(run)] = Validation(run)
    return _validations[id(run)]


def validation_table(run: engine.GridRun) -> pd.DataFrame:
    """Per type and score: share of its validation sites in the top 5/10/20 % of scored land, each held
    out wherever a site shaped the score; fewer than 5 located sites: counts only, no percentage."""
    rows = []
    for t, tr in run.types.items():
        for s, sr in tr.scores.items():
            scores = site_scores(tr, s)
            counts = _counts(tr, s)
            few = int((~np.isnan(scores)).sum()) < MIN_SITES
            for share in run.spec.top_shares if sr.stats.count else ():
                thr, actual = sr.stats.top_threshold(share)
                hit = int(np.sum(scores >= thr))
                rows.append({
                    "deposit_type": t, "score": s, "top_pct": round(100 * share, 1), "area_pct": round(100 * actual, 2),
                    "threshold": round(thr, 4), **counts, "n_in_top": hit,
                    "pct_sites_in_top": None if few or not len(scores) else round(100 * hit / len(scores), 1),
                    "note": TOO_FEW if few else _loo_note(tr, s),
                    "resolution_m": run.grid.res,
                    "sites_missed": ";".join(c.name for c, v in zip(tr.clusters, scores) if not v >= thr) or None,
                })
    return _frame(VALIDATION, rows)


def auc_table(run: engine.GridRun) -> pd.DataFrame:
    return validation(run).auc_table()


def sites_table(run: engine.GridRun) -> pd.DataFrame:
    return validation(run).sites_table()


def ablation_table(run: engine.GridRun) -> pd.DataFrame:
    return validation(run).ablation_table()


def tiers_table(run: engine.GridRun) -> pd.DataFrame:
    return validation(run).tiers_table()


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


TABLES = {VALIDATION: validation_table, ZONAL: zonal_table, AUC: auc_table, SITES: sites_table,
          ABLATION: ablation_table, TIERS: tiers_table, EVIDENCE: lambda run: evidence_table(run.spec)}


def grid_tables(run: engine.GridRun) -> dict[str, pd.DataFrame]:
    """Every table a grid run gives the GeoPackage."""
    return {name: fn(run) for name, fn in TABLES.items()}


@builder(VALIDATION)
def prospectivity_validation(spec, frames) -> pd.DataFrame:
    return validation_table(_table_run(frames))


@builder(ZONAL)
def prospectivity_zonal(spec, frames) -> pd.DataFrame:
    return zonal_table(_table_run(frames))


@builder(AUC)
def prospectivity_auc(spec, frames) -> pd.DataFrame:
    return auc_table(_table_run(frames))


@builder(SITES)
def prospectivity_sites(spec, frames) -> pd.DataFrame:
    return sites_table(_table_run(frames))


@builder(ABLATION)
def prospectivity_ablation(spec, frames) -> pd.DataFrame:
    return ablation_table(_table_run(frames))


@builder(TIERS)
def prospectivity_tiers(spec, frames) -> pd.DataFrame:
    return tiers_table(_table_run(frames))
