"""Popup and tooltip HTML for a feature: every attribute under its human label, with citations."""
from __future__ import annotations

import re

import pandas as pd

from geo.catalog import Catalog, LayerSpec
from geo.files.table import split_list
from maps.escape import safe
from maps.i18n import Card, bi, bi_html, load_labels, number

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
        # in the reader's notation: 1.300 m and 0,85 in Vietnamese, 1,300 m and 0.85 in English
        text = number(raw, lang) if isinstance(raw, (int, float)) else str(raw)
    else:
        text = str(raw)
    return safe(text) + (f" {safe(f.unit)}" if f.unit else "")


def _row(catalog: Catalog, spec: LayerSpec, name: str, raw, refs: pd.DataFrame | None) -> str:
    """One attribute as a table row: its label in both languages and its value (written twice only
    when it reads differently in Vietnamese and English, i.e. coded values)."""
    vi, en = (_value(catalog, spec, name, raw, lang, refs) for lang in ("vi", "en"))
    return f"<tr><th>{bi(spec.field(name).alias)}</th><td>{vi if vi == en else bi_html(vi, en, 'span')}</td></tr>"


def _rows(catalog: Catalog, spec: LayerSpec, names: list[str], row: pd.Series, refs: pd.DataFrame | None) -> str:
    """Rows of ``names``; a pair of fields in both languages (``X_vi`` and ``X_en``, e.g. the sourced risk
    notes) shows the page language's field first (two orders, one shown per language)."""
    out, done = [], set()
    for name in names:
        if name in done:
            continue
        stem, _, lang = name.rpartition("_")
        pair = {"vi": f"{stem}_vi", "en": f"{stem}_en"}
        if lang in pair and all(p in names for p in pair.values()):
            done |= set(pair.values())
            vi_first = "".join(_row(catalog, spec, pair[lg], row[pair[lg]], refs) for lg in ("vi", "en"))
            en_first = "".join(_row(catalog, spec, pair[lg], row[pair[lg]], refs) for lg in ("en", "vi"))
            out.append(f'<tbody class="ree-vi">{vi_first}</tbody><tbody class="ree-en">{en_first}</tbody>')
        else:
            out.append(_row(catalog, spec, name, row[name], refs))
    return "".join(out)


def attribute_table(catalog: Catalog, spec: LayerSpec, row: pd.Series, refs: pd.DataFrame | None) -> str:
    """Every non-empty attribute under its label in both languages, unfolded (KML balloons)."""
    title = row.get(spec.style.label_field) if spec.style and spec.style.label_field else None
    cells = "".join(_row(catalog, spec, f.name, row[f.name], refs) for f in spec.fields if not empty(row.get(f.name)))
    head = bi(spec.title) if empty(title) else safe(title)
    return f'<div class="ree-popup"><h4>{head}</h4><table>{cells}</table></div>'


def _ink(fill: str) -> str:
    """Black or white text on a badge of colour ``fill`` (#RRGGBB), whichever reads better."""
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#fff"


def popup_html(catalog: Catalog, spec: LayerSpec, row: pd.Series, refs: pd.DataFrame | None,
               card: Card | None = None) -> str:
    """A card: the name, a type badge (and the highlight badge, e.g. Th/U), the location basis ±
    uncertainty and the key facts of ``card``; every other attribute folded under "All other
    attributes" and the citations under "Sources" (``<details>``). Every text is escaped and in both
    languages."""
    ui = load_labels().ui
    card = card or Card()
    st = spec.style
    title = row.get(st.label_field) if st and st.label_field else None
    head = bi(spec.title) if empty(title) else safe(title)
    badges = []
    if st and st.category_field and not empty(row.get(st.category_field)):
        code = row[st.category_field]
        dom = catalog.domain_of(spec.field(st.category_field))
        fill = st.symbol_for(code).fill
        badges.append(f'<span class="ree-badge" style="background:{safe(fill)};color:{_ink(fill)}">'
                      f'{bi(dom.values[code]) if dom and code in dom.values else safe(code)}</span>')
    if st and st.highlight and row.get(st.highlight.field) == st.highlight.value:
        badges.append(f'<span class="ree-badge ree-badge-flag">{bi(st.highlight.label)}</span>')
    plain = [f.name for f in spec.fields if f.foreign_key != f"{REFERENCES}.id" and f.name != "id"
             and f.name not in (st.label_field if st else None, st.category_field if st else None)]
    key = [k for k in (card.key or plain[:4]) if k in spec.field_names and not empty(row.get(k))]
    facts = []
    unc = st.uncertainty_field if st else None
    if card.basis and not empty(row.get(card.basis)):
        vi, en = (_value(catalog, spec, card.basis, row[card.basis], lang, refs) for lang in ("vi", "en"))
        if unc and not empty(row.get(unc)):
            vi += " ± " + _value(catalog, spec, unc, row[unc], "vi", refs)
            en += " ± " + _value(catalog, spec, unc, row[unc], "en", refs)
        facts.append(f"<tr><th>{bi(spec.field(card.basis).alias)}</th>"
                     f"<td>{vi if vi == en else bi_html(vi, en, 'span')}</td></tr>")
    facts.append(_rows(catalog, spec, key, row, refs))
    shown = {*key, card.basis, unc if card.basis else None, st.label_field if st else None,
             st.category_field if st else None}
    every = [_rows(catalog, spec, [f.name for f in spec.fields if f.foreign_key != f"{REFERENCES}.id"
                                   and f.name not in shown and not empty(row.get(f.name))], row, refs)]
    every = [e for e in every if e]
    cites = [_row(catalog, spec, f.name, row[f.name], refs) for f in spec.fields
             if f.foreign_key == f"{REFERENCES}.id" and not empty(row.get(f.name))]
    out = [f'<div class="ree-popup ree-card"><h4>{head}</h4>']
    if badges:
        out.append(f'<div class="ree-badges">{"".join(badges)}</div>')
    if facts:
        out.append(f'<table class="ree-facts">{"".join(facts)}</table>')
    if every:
        out.append(f'<details class="ree-all"><summary>{bi(ui["all_attributes"])}</summary>'
                   f'<table>{"".join(every)}</table></details>')
    if cites:
        out.append(f'<details class="ree-sources"><summary>{bi(ui["sources"])}</summary>'
                   f'<table>{"".join(cites)}</table></details>')
    return "".join(out) + "</div>"


# The pieces a card is cut into: row heads (label in both languages), the row and table ends, fold
# headings, line breaks between citations; what lies between them (values, citations, badges) is a
# piece too. ``"".join(pieces) == html`` always.
_CUT = re.compile(r'(<tr><th>.*?</th><td>|</td></tr>|<br>|<h4>|</h4>|<table[^>]*>|</table>|</details>'
                  r'|<details[^>]*><summary>.*?</summary>)', re.S)


class Pieces:
    """The page's popup cards stored once: every card becomes a list of pieces, and a piece that
    appears in two or more cards (a field label, a coded value in both languages, a citation, the card's
    frame) is stored once in a shared table and named by its index; the rest stays inline. ``ree.js``
    (``REE.card``) joins them back into the same HTML. Indices follow first appearance (deterministic)."""

    def __init__(self):
        self.cards: list[list] = []
        self._table: list[str] | None = None

    def add(self, html: str) -> list:
        """A placeholder list for ``html``; filled by :meth:`table` once every card is known."""
        assert self._table is None, "the table is settled"
        pieces = [p for p in _CUT.split(html) if p]
        assert "".join(pieces) == html
        card = list(pieces)
        self.cards.append(card)
        return card

    def table(self) -> list[str]:
        """Rewrite every card in place (shared pieces as indices, neighbouring inline text merged)
        and return the shared table; settled on the first call (later cards are refused)."""
        if self._table is not None:
            return self._table
        count: dict[str, int] = {}
        for card in self.cards:
            for p in card:
                count[p] = count.get(p, 0) + 1
        index: dict[str, int] = {}
        for card in self.cards:
            out: list = []
            for p in card:
                if count[p] >= 2 and len(p) >= 4:
                    out.append(index.setdefault(p, len(index)))
                elif out and isinstance(out[-1], str):
                    out[-1] += p
                else:
                    out.append(p)
            card[:] = out
        self._table = list(index)
        return self._table
