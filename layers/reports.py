"""Validation figures of a grid run (PNG, matplotlib): per type and score, the success-rate curve with
its AUC beside the random-point baseline, and the prediction-area plot (Yousefi & Carranza 2015)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo.atomic import atomic_path
from geo.zonal import BINS
from layers.derived.prospectivity import MIN_SITES, TOO_FEW, area_above, site_scores


def _curves(hist: np.ndarray, scores: np.ndarray):
    """(area share, site share) of the success-rate curve and (threshold, % area, % sites) of the P-A plot."""
    a = area_above(hist)
    site_area = np.sort([1.0 if np.isnan(v) else a[min(int(v * BINS), BINS - 1)] for v in scores])
    xs = np.concatenate([[0], site_area, [1]])
    ys = np.concatenate([[0], np.arange(1, len(site_area) + 1) / max(len(site_area), 1), [1]])
    thr = np.arange(BINS) / BINS
    area = np.cumsum(hist[::-1])[::-1] / max(hist.sum(), 1)
    s = np.nan_to_num(scores, nan=-1.0)
    pred = np.array([(s >= x).mean() for x in thr]) if len(s) else np.zeros(BINS)
    return xs, ys, thr, 100 * area, 100 * pred


def write_reports(run, auc: pd.DataFrame, out_dir: Path) -> list[Path]:
    """One PNG per type and score in ``out_dir``; return the paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for t, tr in run.types.items():
        for s, sr in tr.scores.items():
            if not sr.stats.count:
                continue
            row = auc[(auc.deposit_type == t) & (auc.score == s)].iloc[0]
            scores = site_scores(tr, s)
            xs, ys, thr, area, pred = _curves(sr.stats.hist, scores)
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2), dpi=100)
            ax1.step(xs, ys, where="post", color="#3b528b", label="known sites (each left out where it shaped the score)")
            ax1.plot([0, 1], [0, 1], "--", color="#999999", label="random points (expected)")
            ax1.set_xlabel("share of scored land, highest scores first")
            ax1.set_ylabel("share of known sites captured")
            few = len(scores) < MIN_SITES
            verdict = TOO_FEW if few else f"AUC {row.success_auc:.3f}; random {len(scores)}-point sets: 95th pct {row.baseline_auc_p95:.3f}"
            ax1.set_title(f"Success rate, {t} {s} score (n = {len(scores)} sites)\n{verdict}", fontsize=9)
            ax1.legend(fontsize=7, loc="lower right")
            ax2.plot(thr, pred, color="#3b528b", label="% of known sites predicted (score >= threshold)")
            ax2.plot(thr, 100 - area, color="#d95f02", label="100 - % of land with score >= threshold")
            if not few and row.pa_threshold is not None and not np.isnan(row.pa_threshold):
                ax2.axvline(row.pa_threshold, color="#999999", lw=0.8, ls=":")
                ax2.annotate(f"P-A point: {row.pa_pct_sites:.0f} % of sites", (row.pa_threshold, row.pa_pct_sites),
                             fontsize=7, xytext=(5, 5), textcoords="offset points")
            ax2.set_xlabel("score threshold")
            ax2.set_ylabel("%")
            ax2.set_title(f"Prediction-area plot ({run.grid.res:g} m grid)", fontsize=9)
            ax2.legend(fontsize=7)
            fig.tight_layout()
            path = out_dir / f"validation_{s}_{t}.png"
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format="png", metadata={"Software": None})
            plt.close(fig)
            paths.append(path)
    return paths
