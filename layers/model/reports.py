"""Validation figures of a grid run (PNG, matplotlib) and the summary page: per type and score, the
success-rate curve of the validation sites, the prediction-area plot (Yousefi & Carranza 2015) and the
two nulls' AUC distributions beside the sites' AUC (or, with fewer than 5 sites, each site's rank); per
type, the ablation of the evidence score; build/reports/validation.html (layers/validation/page.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo.files.atomic import atomic_path
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


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    return path


def write_reports(run, tables: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    """The figures and the summary page in ``out_dir``; return the paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
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
            few = n < MIN_SITES
            xs, ys, thr, area, pred = _curves(sr.stats.hist, scores)
            fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 4.2), dpi=100)
            ax1.step(xs, ys, where="post", color="#3b528b", label="validation sites (best cell within their uncertainty)")
            ax1.plot([0, 1], [0, 1], "--", color="#999999", label="random single cells (expected)")
            ax1.set_xlabel("share of scored land, highest scores first")
            ax1.set_ylabel("share of validation sites captured")
            head = TOO_FEW.split(":")[0] if few else f"AUC {row.success_auc:.3f}"
            ax1.set_title(f"Success rate, {s} score: {_type(run, t)}\n{n} of {row.n_sites} validation sites located; {head}", fontsize=9)
            ax1.legend(fontsize=7, loc="lower right")
            ax2.plot(thr, pred, color="#3b528b", label="% of sites predicted (score >= threshold)")
            ax2.plot(thr, 100 - area, color="#d95f02", label="100 - % of land with score >= threshold")
            if not few and row.pa_threshold is not None and not np.isnan(row.pa_threshold):
                ax2.axvline(row.pa_threshold, color="#999999", lw=0.8, ls=":")
                ax2.annotate(f"P-A point: {row.pa_pct_sites:.0f} % of sites", (row.pa_threshold, row.pa_pct_sites),
                             fontsize=7, xytext=(5, 5), textcoords="offset points")
            ax2.set_xlabel("score threshold")
            ax2.set_ylabel("%")
            ax2.set_title(f"Prediction-area plot ({run.grid.res:g} m grid)", fontsize=9)
            ax2.legend(fontsize=7)
            nulls = val.nulls[(t, s)]
            bins = np.linspace(0, 1, 51)
            for key, colour, label in (("land", "#999999", "null: random points on land"),
                                       ("type", "#d95f02", f"null: {row['null']} (the type's)")):
                if len(nulls[key]) and not (key == "type" and row["null"] == "land"):
                    ax3.hist(nulls[key], bins=bins, color=colour, alpha=0.6, label=label)
            if few:
                rk = tables[SITES]
                rk = rk[(rk.deposit_type == t) & (rk.score == s)]
                for r in rk.itertuples():
                    if r.pct_rank is not None and not np.isnan(r.pct_rank):
                        ax3.axvline(r.pct_rank / 100, color="#3b528b", lw=1.2)
                        ax3.annotate(r.validation_site, (r.pct_rank / 100, 0.9), xycoords=("data", "axes fraction"),
                                     rotation=90, fontsize=7, ha="right", va="top")
                ax3.set_title("each site's percentile rank (blue) over the nulls' AUCs", fontsize=9)
            else:
                ax3.axvline(row.success_auc, color="#3b528b", lw=2, label=f"sites: AUC {row.success_auc:.3f}")
                ax3.set_title(f"Nulls: AUC of 999 random sets of {n} points, each scored\nas the best cell within its "
                              f"site's radius; verdict: {row.verdict}", fontsize=9)
            ax3.set_xlim(0, 1)
            ax3.set_xlabel("AUC (percentile rank for single sites)")
            ax3.legend(fontsize=7, loc="upper left")
            fig.tight_layout()
            paths.append(_save(fig, out_dir / f"validation_{s}_{t}.png"))
            plt.close(fig)
    ab = tables[ABLATION]
    for t in dict.fromkeys(ab.deposit_type) if len(ab) else ():
        rows = ab[ab.deposit_type == t]
        use_auc = rows.success_auc.notna().all()
        vals = (rows.success_auc if use_auc else rows.median_site_rank / 100).astype(float).to_numpy()
        labels = [("all evidence" if m == "all" else f"{m} {_title(run, e)}") + (" (simplest)" if simp else "")
                  for m, e, simp in zip(rows.model, rows.evidence, rows.simplest)]
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.4), dpi=100)
        colours = ["#440154" if m == "all" else "#d95f02" if m == "without" else "#21918c" for m in rows.model]
        ax.barh(range(len(rows)), vals, color=colours)
        for i, v in enumerate(vals):
            if np.isfinite(v):
                ax.text(v - 0.01, i, f"{v:.3f}", ha="right", va="center", color="white", fontsize=8)
        ax.set_yticks(range(len(rows)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.axvline(0.5, color="#999999", ls="--", lw=0.8)
        r = auc[(auc.deposit_type == t) & (auc.score == "evidence")].iloc[0]
        if use_auc and r.null_auc_p95 is not None and not np.isnan(r.null_auc_p95):
            ax.axvline(r.null_auc_p95, color="#d95f02", ls=":", lw=1, label=f"type's null, 95th pct {r.null_auc_p95:.3f}")
            ax.legend(fontsize=7, loc="lower right")
        ax.set_xlabel("success-rate AUC" if use_auc else "median percentile rank of the sites (fewer than 5: no AUC)")
        ax.set_title(f"Ablation of the evidence score: {_type(run, t)} ({run.grid.res:g} m grid)", fontsize=9)
        fig.tight_layout()
        paths.append(_save(fig, out_dir / f"ablation_{t}.png"))
        plt.close(fig)
    paths.append(write_page(run, tables, out_dir))
    return paths
