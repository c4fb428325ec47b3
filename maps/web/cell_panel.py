"""Click a land cell of a prospectivity overlay: the overlay type's two scores and, for each evidence of
its model, the measured value, membership, mineral-system component and citation at that cell.

Everything is sampled (nearest cell) from the COGs of the grid run — the score COGs and the per-evidence
``membership_*`` / ``value_*`` COGs under ``grids/explain/`` — at the centres of the web preview grid
(``maps.web.grids.PREVIEW_CELL_DEG``), so a value shown is the COG's value at that cell centre, stored as
uint8 (``round(v * QUANT)``, 255 = no data) in one JSON block, base64.
"""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from branca.element import Element, MacroElement
from jinja2 import Template
from pyproj import Transformer
from rasterio.warp import transform_bounds

from geo.catalog import Text
from geo.crs import WEB_CRS
from layers.model.evidence import KINDS
from layers.model.model_spec import ModelSpec
from layers.model.overlay import GRIDS_DIR, SCORE_NAMES, grid_paths
from layers.model.prospectivity import EXPLAIN_DIR
from maps.escape import safe, script_json
from maps.web.grids import PREVIEW_CELL_DEG
from maps.i18n import bi, load_labels

QUANT = 254  # stored step: 1/254 of the score (or of the value's range); 255 = no data
NODATA = 255
TEXT = {  # the panel's labels; {op}, {n}, {k}, {auc}, ... are filled in by ree.js in the reader's language
    "cell": Text("Ô lưới ~2,8 km (0,025°); giá trị tại tâm ô, lượng tử hoá 1/254",
                 "~2.8 km cell (0.025°); values at the cell centre, quantised to 1/254"),
    "evidence": Text("Bằng chứng", "Evidence"), "value": Text("Giá trị", "Value"),
    "membership": Text("Độ thuộc", "Membership"), "component": Text("Thành phần", "Component"),
    "source": Text("Nguồn", "Sources"), "no_data": Text("không có dữ liệu", "no data"),
    "figure": Text("hình", "figure"),
    "gamma": Text("toán tử mờ gamma {g} của {n} lớp", "fuzzy gamma {g} of {n} layers"),
    "operator": Text("toán tử mờ {op} của {n} lớp", "fuzzy {op} of {n} layers"),
    "missing": Text("{k} lớp thiếu dữ liệu, bỏ qua", "{k} missing, left out"),
    "none_missing": Text("không lớp nào thiếu", "none missing"),
    "validation": Text("Kiểm định", "Validation"), "score_of": Text("điểm {s}", "{s} score"),
    "auc": Text("AUC {auc} (mô hình rỗng, {null}: trung vị {med}, phân vị 95 {p95}; {n} điểm)",
                "AUC {auc} (null, {null}: median {med}, 95th percentile {p95}; {n} sites)"),
    "sites": Text("{n} điểm đã biết", "{n} known sites"),
    "deposit_here": Text("Tại vị trí nhấp", "Under the cursor"),
}
# Verdict labels used only while the catalog has no `validation_verdict` domain (layers/catalog/domains.toml)
VERDICTS = {
    "supported": Text("được hỗ trợ (tốt hơn điểm ngẫu nhiên)", "supported (better than random points)"),
    "not_better_than_null": Text("không tốt hơn điểm ngẫu nhiên", "not better than random points"),
    "too_few_sites": Text("quá ít điểm để kiểm định", "too few sites to validate"),
    "contradicts": Text("trái với các điểm đã biết (dưới mức ngẫu nhiên)", "contradicts the known sites (below random)"),
    "not_validated": Text("không có điểm số để kiểm định", "no score to validate"),
}
MIN_SITES = 5  # layers/validation: fewer sites are too few to validate


def _sample(path: Path, lons: np.ndarray, lats: np.ndarray, projected: dict | None = None) -> np.ndarray:
    """Band 1 of ``path`` at each (lon, lat): the value of the cell containing it (NaN: nodata, outside).
    ``projected``: a dict kept by the caller for these same points, holding their coordinates per CRS
    (projecting them took most of the panel's time when repeated for every grid)."""
    projected = {} if projected is None else projected
    with rasterio.open(path) as src:
        key = src.crs.to_wkt()
        if key not in projected:
            projected[key] = Transformer.from_crs(WEB_CRS, src.crs, always_xy=True).transform(lons, lats)
        xs, ys = projected[key]
        rows, cols = rasterio.transform.rowcol(src.transform, xs, ys)
        rows, cols = np.asarray(rows), np.asarray(cols)
        band = src.read(1, masked=True).filled(np.nan).astype("float32")
    inside = (rows >= 0) & (rows < band.shape[0]) & (cols >= 0) & (cols < band.shape[1])
    out = np.full(lons.shape, np.nan, dtype="float32")
    out[inside] = band[rows[inside], cols[inside]]
    return out


def _pack(values: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> str:
    q = np.where(np.isnan(values), NODATA, np.round((np.nan_to_num(values) - lo) / ((hi - lo) or 1) * QUANT))
    return base64.b64encode(q.clip(0, NODATA).astype("uint8").tobytes()).decode("ascii")


def _verdict(row, domain, nulls=None) -> dict | None:
    """The validation verdict of one ``prospectivity_auc`` row: its ``verdict`` code when the table has
    one (labels from the ``validation_verdict`` domain), else derived from the AUC and its random-point
    baseline the same way (AUC above the 95th percentile: supported; below 0.5: contradicts). The figures
    shown beside it are those of the null the verdict rests on (the type's own, e.g. near the sea for
    coastal placers, when it has one; labels from the ``validation_null`` domain ``nulls``)."""
    if row is None:
        return None
    num = lambda k: None if k not in row or pd.isna(row[k]) else float(row[k])
    auc, med, p95 = num("success_auc"), num("baseline_auc_median"), num("baseline_auc_p95")
    null = "land"
    if num("null_auc_p95") is not None and "null" in row and not pd.isna(row["null"]):
        null, med, p95 = str(row["null"]), num("null_auc_median"), num("null_auc_p95")
    null_label = nulls.values[null] if nulls is not None and null in nulls.values else Text(null, null)
    code = row.get("verdict") if "verdict" in row and not pd.isna(row.get("verdict")) else None
    if code is None:
        n = num("n_scored") or 0
        code = ("too_few_sites" if auc is None and n < MIN_SITES and n > 0 else "not_validated" if auc is None
                else "supported" if p95 is not None and auc > p95 else "contradicts" if auc < 0.5
                else "not_better_than_null")
    label = domain.values[code] if domain is not None and code in domain.values else VERDICTS.get(code, Text(code, code))
    return {"code": safe(code), "label": bi(label), "auc": auc, "med": med, "p95": p95,
            "null": {"vi": safe(null_label.vi.lower()), "en": safe(null_label.en.lower())},
            "n": int(num("n_scored") or 0), "sites": int(num("n_sites") or 0)}


def _short(ref) -> tuple[str, str, str]:
    """(short title, link, full title) of a reference row: first author's name (year): title, cut."""
    def text(k: str) -> str:
        v = ref.get(k)
        return "" if v is None or pd.isna(v) else str(v).strip()
    authors = text("authors").split(";")[0].split(",")[0].strip()
    year = text("year").removesuffix(".0")
    title = text("title")
    short = title if len(title) <= 60 else title[:57].rsplit(" ", 1)[0] + "…"
    head = " ".join(x for x in (authors, f"({year})" if year else "") if x)
    link = ""
    if text("doi"):
        link = f"https://doi.org/{text('doi')}"
    elif text("url").lower().startswith(("https://", "http://")):
        link = text("url")
    return (f"{head}: {short}" if head else short), link, title


def panel_data(out_dir: Path, types: list[str], spec: ModelSpec, refs: pd.DataFrame | None = None,
               auc: pd.DataFrame | None = None, verdicts=None, nulls=None) -> dict | None:
    """The panel's data for ``types`` (those with an overlay on the map), or None when no grid exists.
    ``spec``: the model that made the grids of ``out_dir``; ``refs``: the references table (citations as
    short titles with links); ``auc``: the ``prospectivity_auc`` table (the validation verdict of each
    score); ``verdicts``: the catalog's ``validation_verdict`` domain, if declared; ``nulls``: its
    ``validation_null`` domain."""
    firsts = [grid_paths(out_dir, t, s)[0] for t in types for s in SCORE_NAMES]
    first = next((p for p in firsts if p.exists()), None)
    if first is None:
        return None
    with rasterio.open(first) as src:
        w, s, e, n = transform_bounds(src.crs, WEB_CRS, *src.bounds)
    width, height = int(np.ceil((e - w) / PREVIEW_CELL_DEG)), int(np.ceil((n - s) / PREVIEW_CELL_DEG))
    lon, lat = np.meshgrid(w + (np.arange(width) + 0.5) * PREVIEW_CELL_DEG, n - (np.arange(height) + 0.5) * PREVIEW_CELL_DEG)
    # the grid's national cells: wherever some score has a value (a type with no evidence has none)
    mesh: dict = {}
    land = np.logical_or.reduce([~np.isnan(_sample(p, lon.ravel(), lat.ravel(), mesh)) for p in firsts if p.exists()])
    lon, lat = lon.ravel()[land], lat.ravel()[land]
    at: dict = {}  # the land points' coordinates per CRS, for every _sample below
    explain = out_dir / GRIDS_DIR / EXPLAIN_DIR
    reports = out_dir / "reports"
    refs = refs.set_index("id", drop=False) if refs is not None and "id" in refs else None
    cites: dict[str, list] = {}  # reference id -> [short title, link, full title], stored once

    def cite(ids) -> list[str]:
        for i in ids:
            if i not in cites:
                cites[i] = [safe(x) for x in _short(refs.loc[i])] if refs is not None and i in refs.index else [safe(i), "", ""]
        return list(ids)

    components = load_labels().components
    data = {"w": w, "n": n, "cell": PREVIEW_CELL_DEG, "width": width, "height": height, "q": QUANT,
            "mask": base64.b64encode(np.packbits(land).tobytes()).decode("ascii"),
            "ui": {k: {"vi": safe(v.vi), "en": safe(v.en)} for k, v in TEXT.items()}, "types": {}, "refs": cites}
    for t in types:
        model = spec.types[t]
        groups = []
        for sc in SCORE_NAMES:
            p = grid_paths(out_dir, t, sc)[0]
            if not p.exists():
                continue
            rows = []
            for ev in (ev for ev in model.evidence if KINDS[ev.kind].score == sc):
                mu_path, v_path = explain / f"membership_{ev.name}_{t}.tif", explain / f"value_{ev.name}_{t}.tif"
                title, unit, classes = spec.evidence_title(ev.name), spec.evidence_unit(ev.name), spec.evidence_classes(ev.name)
                comp = components.get(ev.component, Text(ev.component, ev.component))
                row = {"name": safe(ev.name), "title": {"vi": safe(title.vi), "en": safe(title.en)},
                       "component": {"vi": safe(comp.vi), "en": safe(comp.en)},
                       "unit": {"vi": safe(unit.vi), "en": safe(unit.en)} if unit else None,
                       "classes": {k: {"vi": safe(v.vi), "en": safe(v.en)} for k, v in classes.items()} or None,
                       "refs": cite(ev.refs), "basis": safe(ev.basis),
                       "mu": _pack(_sample(mu_path, lon, lat, at)) if mu_path.exists() else None, "value": None}
                if v_path.exists():
                    v = _sample(v_path, lon, lat, at)
                    lo, hi = (float(np.nanmin(v)), float(np.nanmax(v))) if not np.isnan(v).all() else (0.0, 1.0)
                    row.update(value=_pack(v, lo, hi), lo=lo, hi=hi)
                rows.append(row)
            hit = None
            if auc is not None and len(auc):
                m = auc[(auc["deposit_type"] == t) & (auc["score"] == sc)]
                hit = m.iloc[0] if len(m) else None
            fig = reports / f"validation_{sc}_{t}.png"  # the success-rate and prediction-area figure
            groups.append({"score": sc, "label": {"vi": safe(SCORE_NAMES[sc].vi), "en": safe(SCORE_NAMES[sc].en)},
                           "data": _pack(_sample(p, lon, lat, at)), "evidence": rows, "verdict": _verdict(hit, verdicts, nulls),
                           "figure": safe(f"../reports/{fig.name}") if fig.exists() else None})
        data["types"][t] = {"title": {"vi": safe(model.title.vi), "en": safe(model.title.en)},
                            "operator": safe(model.operator), "gamma": model.gamma, "refs": cite(model.refs),
                            "scores": groups}
    return data


class CellPanel(MacroElement):
    """The click handler: on a land cell, the panel of the grid overlay that is on (if any)."""

    _template = Template("""{% macro script(this, kwargs) %}
REE.cellPanel({{ this._parent.get_name() }}, [{% for layer, t, sc in this.overlays %}[{{ layer.get_name() }}, {{ t }}, {{ sc }}],{% endfor %}],
  JSON.parse(document.getElementById("ree-cell-data").textContent));
{% endmacro %}""")

    def __init__(self, data: dict, overlays: list[tuple]):
        super().__init__()
        self._name = "CellPanel"
        self.overlays = [(layer, script_json(t), script_json(sc)) for layer, t, sc in overlays]


def add_cell_panel(m, data: dict, overlays: list[tuple]) -> None:
    """``overlays``: (folium layer, deposit type, score). The panel's data as a JSON block (not compiled by the browser) and its click handler."""
    m.get_root().html.add_child(Element('{% raw %}<script type="application/json" id="ree-cell-data">'
                                        f'{script_json(data)}</script>{{% endraw %}}'), name="ree_cell_data")
    CellPanel(data, overlays).add_to(m)
