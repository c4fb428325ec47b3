"""Popup and tooltip HTML for a feature: every attribute under its human label, with citations."""
from __future__ import annotations

import pandas as pd

from geo.catalog import Catalog, LayerSpec
from geo.table import split_list
from maps.escape import safe
from maps.i18n import bi, bi_html

REFERENCES = "references"


def empty(value) -> bool:
    """No value: None, NA/NaN or an empty string."""
    return value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)) or value == ""


def citation(ref: pd.Series) -> str:
    """One reference as safe HTML: authors (year). Title. Publisher. link / DOI."""
    def has(k: str) -> bool:
        return not empty(ref.get(k))
    head = " ".join(x for x in (safe(ref["authors"]) if has("authors") else "",
                                f"({safe(ref['year'])})." if has("year") else "") if x)
    parts = [f"{head} <i>{safe(ref['title'])}</i>." + (f" {safe(ref['publisher'])}." if has("publisher") else "")]
    if has("doi"):
        doi = safe(ref["doi"])
        parts.append(f' <a href="https://doi.org/{doi}" target="_blank" rel="noopener">doi:{doi}</a>')
    if has("url") and str(ref["url"]).lower().startswith(("https://", "http://")):
        parts.append(f' <a href="{safe(ref["url"])}" target="_blank" rel="noopener">{safe(ref["url"])}</a>')
    elif has("url"):  # not a web link: shown, never followed
        parts.append(f" {safe(ref['url'])}")
    return "".join(parts)


def _value(catalog: Catalog, spec: LayerSpec, name: str, raw, lang: str,
           refs: pd.DataFrame | None) -> str:
    f = spec.field(name)
    if f.foreign_key == f"{REFERENCES}.id" and refs is not None:
        ids = split_list(raw) if f.is_list else [raw]
        return "<br>".join(citation(refs.loc[i]) if i in refs.index else safe(i) for i in ids)
    dom = catalog.domain_of(f)
    if dom:
        items = split_list(raw) if f.is_list else [raw]
        return safe("; ".join(dom.values[i][lang] if i in dom.values else i for i in items))
    if f.is_list:
        return safe("; ".join(split_list(raw)))
    if f.type == "real" and isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if f.type == "real" or (f.type == "integer" and f.unit):
        text = f"{raw:,}" if isinstance(raw, (int, float)) else str(raw)
    else:
        text = str(raw)
    return safe(text) + (f" {safe(f.unit)}" if f.unit else "")


def popup_html(catalog: Catalog, spec: LayerSpec, row: pd.Series, refs: pd.DataFrame | None) -> str:
    """An HTML table of every non-empty attribute under its label in both languages; a value is
    written twice only when it reads differently in Vietnamese and English (coded values)."""
    title = row.get(spec.style.label_field) if spec.style and spec.style.label_field else None
    cells = []
    for f in spec.fields:
        raw = row.get(f.name)
        if empty(raw):
            continue
        vi, en = (_value(catalog, spec, f.name, raw, lang, refs) for lang in ("vi", "en"))
        cells.append(f"<tr><th>{bi(f.alias)}</th><td>{vi if vi == en else bi_html(vi, en, 'span')}</td></tr>")
    head = bi(spec.title) if empty(title) else safe(title)
    return f'<div class="ree-popup"><h4>{head}</h4><table>{"".join(cells)}</table></div>'
