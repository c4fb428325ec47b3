"""build/reports/validation.html: the validation tables and figures on one bilingual page.

Headers are the fields' aliases and coded values their domain labels, both from the catalog (declared
once); every text is escaped. The page links the figures beside it and needs no script or network.
"""
from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd

from geo.files.atomic import write_text
from geo.catalog import load_catalog
from layers import CATALOG_DIR

PAGE = "validation.html"
# per table: the columns shown (all declared in its catalog TOML)
SHOWN = {
    "prospectivity_auc": ["deposit_type", "score", "verdict", "success_auc", "baseline_auc_median", "baseline_auc_p95",
                          "null", "null_auc_median", "null_auc_p95", "n_sites", "n_scored", "n_snapped", "n_excluded",
                          "sites_snapped", "sites_excluded", "sites_clustered", "sites_median_score",
                          "land_median_score", "median_rank_excess", "note"],
    "prospectivity_ablation": ["deposit_type", "model", "evidence", "success_auc", "auc_gain", "median_site_rank",
                               "n_located", "simplest", "note"],
    "prospectivity_tiers": ["deposit_type", "score", "tier", "n_sites", "n_located", "success_auc", "site_ranks"],
    "prospectivity_sites": ["deposit_type", "score", "validation_site", "tier", "radius_m", "status", "cells_in_disc",
                            "snap_distance_m", "score_value", "pct_rank", "land_rank_median", "null_rank_median", "null_rank_p95",
                            "sites_left_out"],
}
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:0;color:#222;background:#fff}
header,main{max-width:1320px;margin:0 auto;padding:12px 16px}
header{border-bottom:1px solid #ddd}
h1{font-size:1.35em;margin:.2em 0}h2{font-size:1.1em;margin:1.4em 0 .4em}
.en{color:#555}.small{font-size:.85em;color:#555}
.wrap{overflow-x:auto;border:1px solid #e3e3e3;border-radius:4px}
table{border-collapse:collapse;font-size:12.5px;min-width:100%}
th,td{padding:4px 7px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f5f5f5;position:sticky;top:0;font-weight:600}
th .en{display:block;font-weight:400}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.v-supported{background:#d9f0d3}.v-not_better_than_null{background:#fde0c5}
.v-too_few_sites{background:#eeeeee}.v-contradicts{background:#f4c7c3}
figure{margin:10px 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 12px}
.card h3{font-size:1em;margin:0 0 6px}
.badge{display:inline-block;padding:3px 8px;border-radius:4px;margin-bottom:6px;font-weight:600}
dl{display:grid;grid-template-columns:minmax(0,1fr) 5em;gap:3px 10px;margin:0;font-size:12.5px}
dt .en{display:block;font-size:.9em}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
dd.text{text-align:left;grid-column:1/-1;padding-left:10px;color:#333}
"""
CARD = ["success_auc", "baseline_auc_median", "baseline_auc_p95", "null", "null_auc_median", "null_auc_p95",
        "n_sites", "n_scored", "n_snapped", "n_excluded", "sites_snapped", "sites_excluded", "median_rank_excess"]


def _e(s) -> str:
    return html.escape(str(s), quote=True)


def _cell(v, field, cat) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return '<td class="small">–</td>'
    dom = cat.domain_of(field) if field is not None else None
    if isinstance(v, (bool,)) or str(v) in ("True", "False"):
        text = {"True": "có / yes", "False": "không / no"}[str(bool(v))]
        return f"<td>{_e(text)}</td>"
    if dom is not None and str(v) in dom.values:
        lab = dom.values[str(v)]
        cls = f' class="v-{_e(v)}"' if field.domain == "validation_verdict" else ""
        return f'<td{cls}>{_e(lab.vi)}<br><span class="en">{_e(lab.en)}</span></td>'
    if isinstance(v, (int, float)):
        return f'<td class="num">{_e(v)}</td>'
    return f"<td>{_e(str(v).replace(';', '; '))}</td>"


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _label(cat, field, v) -> str:
    dom = cat.domain_of(field)
    if dom is not None and str(v) in dom.values:
        return f'{_e(dom.values[str(v)].vi)}<br><span class="en">{_e(dom.values[str(v)].en)}</span>'
    return _e(str(v).replace(";", "; "))


def _cards(tables: dict[str, pd.DataFrame], cat) -> str:
    """One card per type and score: the verdict, the AUC beside both nulls, the counts and names; with
    fewer than 5 sites each site's percentile rank."""
    spec = cat["prospectivity_auc"]
    fields = {f.name: f for f in spec.fields}
    types = cat.domains["deposit_type"].values
    sites = tables.get("prospectivity_sites")
    out = []
    for r in tables["prospectivity_auc"].to_dict("records"):
        t = types.get(r["deposit_type"])
        name = f"{t.vi} – {r['score']}" if t else f"{r['deposit_type']} – {r['score']}"
        v = r.get("verdict")
        badge = (f'<div class="badge v-{_e(v)}">{_label(cat, fields["verdict"], v)}</div>' if not _missing(v)
                 else f'<div class="badge">{_e(r.get("note") or "")}</div>')
        rows = []
        for c in CARD:
            val = r.get(c)
            if _missing(val):
                continue
            dt = f'{_e(fields[c].alias.vi)}<span class="en">{_e(fields[c].alias.en)}</span>'
            if fields[c].is_list or fields[c].domain:  # names and labels: a line of their own
                rows.append(f'<dt>{dt}</dt><dd></dd><dd class="text">{_label(cat, fields[c], val)}</dd>')
            else:
                rows.append(f"<dt>{dt}</dt><dd>{_label(cat, fields[c], val)}</dd>")
        if _missing(r.get("success_auc")) and sites is not None:
            sf = {f.name: f for f in cat["prospectivity_sites"].fields}
            own = sites[(sites.deposit_type == r["deposit_type"]) & (sites.score == r["score"])]
            for s in own.to_dict("records"):
                rank = "–" if _missing(s["pct_rank"]) else f"{s['pct_rank']:.1f} %"
                if not _missing(s.get("null_rank_p95")):
                    rank += f" ({s['null_rank_p95']:.0f})"
                rows.append(f'<dt>{_e(s["validation_site"])}<span class="en">{_e(sf["pct_rank"].alias.vi)} '
                            f'({_e(sf["null_rank_p95"].alias.vi)}) / {_e(sf["pct_rank"].alias.en)} '
                            f'({_e(sf["null_rank_p95"].alias.en)})</span></dt><dd>{_e(rank)}</dd>')
        en = f"{t.en} – {r['score']}" if t else ""
        out.append(f'<div class="card"><h3>{_e(name)}<br><span class="en">{_e(en)}</span></h3>{badge}'
                   f'<dl>{"".join(rows)}</dl></div>')
    return f'<div class="cards">{"".join(out)}</div>'


def _table(name: str, df: pd.DataFrame, cat) -> str:
    spec = cat[name]
    cols = [c for c in SHOWN[name] if c in df.columns]
    fields = {f.name: f for f in spec.fields}
    head = "".join(f'<th>{_e(fields[c].alias.vi)}<span class="en">{_e(fields[c].alias.en)}</span></th>' for c in cols)
    body = "".join("<tr>" + "".join(_cell(r[c], fields[c], cat) for c in cols) + "</tr>"
                   for r in df.to_dict("records"))
    return (f'<h2>{_e(spec.title.vi)}<br><span class="en">{_e(spec.title.en)}</span></h2>'
            f'<p class="small">{_e(spec.description.vi)}<br>{_e(spec.description.en)}</p>'
            f'<div class="wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')


def write_page(run, tables: dict[str, pd.DataFrame], out_dir: Path) -> Path:
    """Write ``out_dir/validation.html`` (figures: the PNGs beside it); return its path."""
    cat = load_catalog(CATALOG_DIR)
    figs = sorted(p.name for p in out_dir.glob("*.png") if p.name.startswith(("validation_", "ablation_")))
    parts = [
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e('Kiểm định mô hình triển vọng đất hiếm / REE prospectivity validation')}</title>",
        f"<style>{CSS}</style></head><body><header>",
        f"<h1>{_e('Kiểm định mô hình triển vọng đất hiếm Việt Nam')}<br>"
        f"<span class=\"en\">{_e('Validation of the Vietnam REE prospectivity model')}</span></h1>",
        f"<p class=\"small\">{_e(f'Lưới {run.grid.res:g} m; mô hình: {run.spec.path.name}.')} "
        f"{_e(f'Grid {run.grid.res:g} m; model: {run.spec.path.name}.')}</p></header><main>",
    ]
    if "prospectivity_auc" in tables and len(tables["prospectivity_auc"]):
        parts.append(f"<h2>{_e('Tóm tắt')}<br><span class=\"en\">{_e('Summary')}</span></h2>")
        parts.append(_cards(tables, cat))
    for name in ("prospectivity_auc", "prospectivity_ablation", "prospectivity_tiers"):
        if name in tables and len(tables[name]):
            parts.append(_table(name, tables[name], cat))
    if figs:
        parts.append(f"<h2>{_e('Hình vẽ')}<br><span class=\"en\">{_e('Figures')}</span></h2>")
        parts += [f'<figure><img src="{_e(f)}" alt="{_e(f)}"><figcaption>{_e(f)}</figcaption></figure>'
                  for f in figs]
    if "prospectivity_sites" in tables and len(tables["prospectivity_sites"]):
        parts.append(_table("prospectivity_sites", tables["prospectivity_sites"], cat))
    parts.append("</main></body></html>\n")
    return write_text(out_dir / PAGE, "".join(parts))
