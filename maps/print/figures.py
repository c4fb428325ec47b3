"""Figures for reports, from the catalog's tables: Vietnam's REE reserves in each USGS Mineral
Commodity Summaries edition (the largest revision marked) and the cited occurrences by province.
Same fonts, formats and languages as the map sheets (``maps/print/sheet.py``)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.catalog import Catalog
from maps.i18n import load_labels
from maps.print.sheet import build_date, save, setup_matplotlib

FIGURE_IN = (10.0, 6.0)
COUNTRY = "Vietnam"
UNLOCATED = "#BBBBBB"


def reserves_figure(catalog: Catalog, frames, lang: str):
    """Bars of Vietnam's reserves (Mt REO) by MCS edition; the edition with the largest change is
    marked with the values before and after."""
    plt = setup_matplotlib()
    spec = catalog["reserves_context"]
    t = frames["reserves_context"]
    vn = t[t["country"] == COUNTRY].dropna(subset=["reserves_t_reo"]).sort_values("edition")
    mt = vn["reserves_t_reo"].astype(float) / 1e6
    fig, ax = plt.subplots(figsize=FIGURE_IN)
    change = mt.diff().abs()
    revised = change.idxmax() if change.notna().any() and change.max() > 0 else None
    colours = ["#D55E00" if i == revised else "#0072B2" for i in vn.index]
    ax.bar(vn["edition"].astype(str), mt, color=colours)
    for x, v in zip(vn["edition"].astype(str), mt):
        ax.text(x, v, f"{v:g}", ha="center", va="bottom", fontsize=9)
    if revised is not None:
        before = mt.shift(1)[revised]
        note = (f"Sửa đổi: {before:g} → {mt[revised]:g} triệu t" if lang == "vi"
                else f"Revised: {before:g} → {mt[revised]:g} Mt")
        ax.annotate(note, xy=(str(vn.loc[revised, "edition"]), mt[revised]), xytext=(0, 40),
                    textcoords="offset points", ha="center", fontsize=10, color="#D55E00", fontweight="bold",
                    arrowprops={"arrowstyle": "->", "color": "#D55E00"})
    ax.set_xlabel(spec.field("edition").alias[lang])
    ax.set_ylabel(("Trữ lượng (triệu tấn REO)" if lang == "vi" else "Reserves (million t REO)"))
    ax.set_title(f"{spec.title[lang]}: {'Việt Nam' if lang == 'vi' else 'Vietnam'}", fontsize=13, fontweight="bold")
    ax.spines[["top", "right"]].set_visible(False)
    fig.text(0.01, 0.01, f"{spec.attribution} · {build_date()}", fontsize=7, color="#333333")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def occurrences_figure(catalog: Catalog, frames, lang: str):
    """Stacked bars of the located sites by deposit type (catalog colours) and the occurrences not
    placed, per 2025 province (provinces with none left out)."""
    plt = setup_matplotlib()
    summary, deposits = catalog["province_summary"], catalog["deposits"]
    t = frames["province_summary"]
    dom = catalog.domain_of(deposits.field(deposits.style.category_field))
    cols = [(f"n_{code}", dom.values[code][lang] if dom and code in dom.values else code, sym.fill)
            for code, sym in deposits.style.categories.items() if f"n_{code}" in t]
    cols.append(("n_unlocated", summary.field("n_unlocated").alias[lang], UNLOCATED))
    t = t.assign(_total=sum(t[c].fillna(0) for c, _, _ in cols))
    t = t[t["_total"] > 0].sort_values("_total")
    fig, ax = plt.subplots(figsize=(10.0, max(4.0, 0.35 * len(t) + 1.5)))
    left = pd.Series(0.0, index=t.index)
    for col, label, colour in cols:
        v = t[col].fillna(0).astype(float)
        ax.barh(t["name_2025"], v, left=left, color=colour, label=label,
                hatch="///" if col == "n_unlocated" else None, edgecolor="white", linewidth=0.5)
        left += v
    ax.set_xlabel("Số điểm được trích dẫn" if lang == "vi" else "Cited occurrences")
    ax.set_title("Điểm quặng đất hiếm được trích dẫn theo tỉnh (2025)" if lang == "vi"
                 else "Cited REE occurrences by province (2025)", fontsize=13, fontweight="bold")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.text(0.01, 0.01, f"{deposits.attribution} · {build_date()}", fontsize=7, color="#333333")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def print_figures(catalog: Catalog, frames, out_dir: Path, langs=("vi", "en")) -> list[Path]:
    """Write OUT/reserves_LANG and OUT/occurrences_by_province_LANG (.pdf, .png); return the paths."""
    load_labels()
    out = []
    for lang in langs:
        out += save(reserves_figure(catalog, frames, lang), out_dir / f"reserves_{lang}")
        out += save(occurrences_figure(catalog, frames, lang), out_dir / f"occurrences_by_province_{lang}")
    return out
