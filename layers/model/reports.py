"""Validation figures of a grid run (PNG, matplotlib) and the summary page: per type and score, the
success-rate curve of the validation sites, the prediction-area plot (Yousefi & Carranza 2015) and the
two nulls' AUC distributions beside the sites' AUC (or, with fewer than 5 sites, each site's rank); per
type, the ablation of the evidence score; build/reports/validation.html (layers/validation/page.py)."""
from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from geo.files.atomic import write_bytes
from geo.files.cache import cached_pickle, digest, library_versions
from geo.raster.zonal import BINS
from layers.derived.prospectivity import ABLATION, AUC, MIN_SITES, SITES, TOO_FEW, area_above, site_scores, validation


def _curves(hist: np.ndarray, scores: np.ndarray):
    """(area share, site share) of the success-rate curve and (threshold, % area, % sites) of the P-A plot."""
    a = area_above(hist)
    s = scores[~np.isnan(scores)]
    site_area = np.sort([a[min(int(v * BINS), BINS - 1)] for v in s])
    xs = np.concatenate([[0], site_area, [1]])
    ys = np.concatenate([[0], np.arange(1, len(site_area) + 1) / max(len(site_area), 1), [1]])
    thr = np.arange(BINS) / BINS
    area = np.cumsum(hist[::-1])[::-1] / max(hist.sum(), 1)
    pred = np.array([(s >= x).mean() for x in thr]) if len(s) else np.zeros(BINS)
    return xs, ys, thr, 100 * area, 100 * pred


def _title(run, evidence: str) -> str:
    """The readers' English title of an evidence of the run's model."""
    return run.spec.evidence_title(evidence).en


def _type(run, t: str) -> str:
    """The readers' English title of deposit type ``t`` (the model's ``title``; its id if it has none)."""
    return run.spec.types[t].title.en


def _png(draw, data: dict) -> bytes:
    """``draw(data)``'s figure as PNG bytes, kept in the derived-data cache (geo/files/cache.py) by the
    digest of ``data`` (plain values and arrays), of the drawing code and of matplotlib's version and
    settings: the same data give the same bytes without drawing (a build that changes no validation
    number draws nothing)."""
    import matplotlib
    settings = repr(sorted((k, v) for k, v in dict.items(matplotlib.rcParams) if not k.startswith("backend")))  # Agg is used
    key = digest(pickle.dumps(data, protocol=5), matplotlib.__version__, settings, *library_versions(), code=(draw, _drawn))
    return cached_pickle("figure", key, lambda: _drawn(draw, data), keep=64)


def _drawn(draw, data: dict) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = draw(plt, data)
    try:
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(fig)


def _validation_figure(plt, d: dict):
    """Success rate, prediction-area plot and the nulls (or each site's rank) of one type and score."""
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 4.2), dpi=100)
    ax1.step(d["xs"], d["ys"], where="post", color="#3b528b", label="validation sites (best cell within their uncertainty)")
    ax1.plot([0, 1], [0, 1], "--", color="#999999", label="random single cells (expected)")
    ax1.set_xlabel("share of scored land, highest scores first")
    ax1.set_ylabel("share of validation sites captured")
    head = d["too_few"] if d["few"] else f"AUC {d['auc']:.3f}"
    ax1.set_title(f"Success rate, {d['score']} score: {d['type']}\n{d['n']} of {d['n_sites']} validation sites located; "
                  f"{head}", fontsize=9)
    ax1.legend(fontsize=7, loc="lower right")
    ax2.plot(d["thr"], d["pred"], color="#3b528b", label="% of sites predicted (score >= threshold)")
    ax2.plot(d["thr"], 100 - d["area"], color="#d95f02", label="100 - % of land with score >= threshold")
    if not d["few"] and d["pa_threshold"] is not None and not np.isnan(d["pa_threshold"]):
        ax2.axvline(d["pa_threshold"], color="#999999", lw=0.8, ls=":")
        ax2.annotate(f"P-A point: {d['pa_pct_sites']:.0f} % of sites", (d["pa_threshold"], d["pa_pct_sites"]),
                     fontsize=7, xytext=(5, 5), textcoords="offset points")
    ax2.set_xlabel("score threshold")
    ax2.set_ylabel("%")
    ax2.set_title(f"Prediction-area plot ({d['res']:g} m grid)", fontsize=9)
    ax2.legend(fontsize=7)
    bins = np.linspace(0, 1, 51)
    for values, colour, label in d["nulls"]:
        ax3.hist(values, bins=bins, color=colour, alpha=0.6, label=label)
    if d["few"]:
        for name, rank in d["ranks"]:
            ax3.axvline(rank / 100, color="#3b528b", lw=1.2)
            ax3.annotate(name, (rank / 100, 0.9), xycoords=("data", "axes fraction"),
                         rotation=90, fontsize=7, ha="right", va="top")
        ax3.set_title("each site's percentile rank (blue) over the nulls' AUCs", fontsize=9)
    else:
        ax3.axvline(d["auc"], color="#3b528b", lw=2, label=f"sites: AUC {d['auc']:.3f}")
        ax3.set_title(f"Nulls: AUC of 999 random sets of {d['n']} points, each scored\nas the best cell within its "
                      f"site's radius; verdict: {d['verdict']}", fontsize=9)
    ax3.set_xlim(0, 1)
    ax3.set_xlabel("AUC (percentile rank for single sites)")
    ax3.legend(fontsize=7, loc="upper left")
    return fig


def _ablation_figure(plt, d: dict):
    """The evidence score's AUC (or median site rank) with each evidence left out, and of the simplest model."""
    vals, labels, models = d["vals"], d["labels"], d["models"]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(vals) + 1.4), dpi=100)
    colours = ["#440154" if m == "all" else "#d95f02" if m == "without" else "#21918c" for m in models]
    ax.barh(range(len(vals)), vals, color=colours)
    for i, v in enumerate(vals):
        if np.isfinite(v):
            ax.text(v - 0.01, i, f"{v:.3f}", ha="right", va="center", color="white", fontsize=8)
    ax.set_yticks(range(len(vals)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.axvline(0.5, color="#999999", ls="--", lw=0.8)
    if d["use_auc"] and d["null_p95"] is not None and not np.isnan(d["null_p95"]):
        ax.axvline(d["null_p95"], color="#d95f02", ls=":", lw=1, label=f"type's null, 95th pct {d['null_p95']:.3f}")
        ax.legend(fontsize=7, loc="lower right")
    ax.set_xlabel("success-rate AUC" if d["use_auc"] else "median percentile rank of the sites (fewer than 5: no AUC)")
    ax.set_title(f"Ablation of the evidence score: {d['type']} ({d['res']:g} m grid)", fontsize=9)
    return fig


def _number(v):
    """A table value as a plain float (None stays None): the figures' data pickle the same every run."""
    return None if v is None else float(v)


def write_reports(run, tables: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    """The figures and the summary page in ``out_dir``; return the paths."""
    from layers.validation.page import write_page
    out_dir.mkdir(parents=True, exist_ok=True)
    auc, val = tables[AUC], validation(run)
    paths = []
    for t, tr in run.types.items():
        for s, sr in tr.scores.items():
            if not sr.stats.count:
                continue
            row = auc[(auc.deposit_type == t) & (auc.score == s)].iloc[0]
            scores = site_scores(tr, s)
            n = int((~np.isnan(scores)).sum())
            xs, ys, thr, area, pred = _curves(sr.stats.hist, scores)
            nulls = val.nulls[(t, s)]
            rk = tables[SITES]
            rk = rk[(rk.deposit_type == t) & (rk.score == s)]
            data = dict(score=s, type=_type(run, t), n=n, n_sites=int(row.n_sites), few=n < MIN_SITES,
                        too_few=TOO_FEW.split(":")[0], auc=_number(row.success_auc), verdict=str(row.verdict),
                        pa_threshold=_number(row.pa_threshold), pa_pct_sites=_number(row.pa_pct_sites),
                        res=float(run.grid.res), xs=xs, ys=ys, thr=thr, area=area, pred=pred,
                        nulls=[(np.asarray(nulls[key]), colour, label) for key, colour, label in (
                            ("land", "#999999", "null: random points on land"),
                            ("type", "#d95f02", f"null: {row['null']} (the type's)"))
                            if len(nulls[key]) and not (key == "type" and row["null"] == "land")],
                        ranks=[(str(r.validation_site), float(r.pct_rank)) for r in rk.itertuples()
                               if r.pct_rank is not None and not np.isnan(r.pct_rank)])
            paths.append(write_bytes(out_dir / f"validation_{s}_{t}.png", _png(_validation_figure, data)))
    ab = tables[ABLATION]
    for t in dict.fromkeys(ab.deposit_type) if len(ab) else ():
        rows = ab[ab.deposit_type == t]
        use_auc = bool(rows.success_auc.notna().all())
        r = auc[(auc.deposit_type == t) & (auc.score == "evidence")].iloc[0]
        data = dict(type=_type(run, t), res=float(run.grid.res), use_auc=use_auc, null_p95=_number(r.null_auc_p95),
                    vals=(rows.success_auc if use_auc else rows.median_site_rank / 100).astype(float).to_numpy(),
                    labels=[("all evidence" if m == "all" else f"{m} {_title(run, e)}") + (" (simplest)" if simp else "")
                            for m, e, simp in zip(rows.model, rows.evidence, rows.simplest)],
                    models=[str(m) for m in rows.model])
        paths.append(write_bytes(out_dir / f"ablation_{t}.png", _png(_ablation_figure, data)))
    paths.append(write_page(run, tables, out_dir))
    return paths
