"""Popup and tooltip HTML for a feature: every attribute under its human label, with citations."""
from __future__ import annotations

import pandas as pd

from geo.catalog import Catalog, LayerSpec
from geo.table import split_list
from maps.escape import safe

REFERENCES = "references"


def citation(ref: pd.Series) -> str:
    """One reference as safe HTML: authors (year). Title. Publisher. link / DOI."""
    parts = [f"{safe(ref['authors'])} ({safe(ref['year'])}). <i>{safe(ref['title'])}</i>. "
             f"{safe(ref['publisher'])}."]
    if pd.notna(ref.get("doi")) and ref.get("doi"):
        doi = safe(ref["doi"])
        parts.append(f' <a href="https://doi.org/{doi}" target="_blank" rel="noopener">doi:{doi}</a>')
    if pd.notna(ref.get("url")) and ref.get("url"):
        parts.append(f' <a href="{safe(ref["url"])}" target="_blank" rel="noopener">{safe(ref["url"])}</a>')
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
    if f.type == "real" and isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if f.type == "real" or (f.type == "integer" and f.unit):
        text = f"{raw:,}" if isinstance(raw, (int, float)) else str(raw)
    else:
        text = str(raw)
    return safe(text) + (f" {safe(f.unit)}" if f.unit else "")


def popup_html(catalog: Catalog, spec: LayerSpec, row: pd.Series, lang: str,
               refs: pd.DataFrame | None) -> str:
    """An HTML table of every non-empty attribute, labelled in ``lang``."""
    title = row.get(spec.style.label_field) if spec.style and spec.style.label_field else spec.title[lang]
    cells = []
    for f in spec.fields:
        raw = row.get(f.name)
        if raw is None or (not isinstance(raw, (list, tuple)) and pd.isna(raw)) or raw == "":
            continue
        cells.append(f"<tr><th>{safe(f.alias[lang])}</th>"
                     f"<td>{_value(catalog, spec, f.name, raw, lang, refs)}</td></tr>")
    return (f'<div class="ree-popup"><h4>{safe(title)}</h4>'
            f'<table>{"".join(cells)}</table></div>')
