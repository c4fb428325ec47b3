"""Click a land cell of a prospectivity overlay: the overlay type's two scores and, for each evidence of
its model, the measured value, membership, mineral-system component and citation at that cell.

Everything is sampled (nearest cell) from the COGs of the grid run — the score COGs and the per-evidence
``membership_*`` / ``value_*`` COGs under ``grids/explain/`` — at the centres of the web preview grid
(``maps.grids.PREVIEW_CELL_DEG``), so a value shown is the COG's value at that cell centre, stored as
uint8 (``round(v * QUANT)``, 255 = no data) in one JSON block, base64.
"""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import rasterio
from branca.element import Element, MacroElement
from jinja2 import Template
from pyproj import Transformer
from rasterio.warp import transform_bounds

from geo.catalog import Text
from geo.crs import WEB_CRS
from layers.model_spec import load_spec
from layers.overlay import GRIDS_DIR, SCORE_NAMES, grid_paths
from layers.prospectivity import EXPLAIN_DIR
from maps.escape import safe, script_json
from maps.grids import PREVIEW_CELL_DEG
from maps.i18n import bi

QUANT = 254  # stored step: 1/254 of the score (or of the value's range); 255 = no data
NODATA = 255
TEXT = {  # the panel's labels
    "cell": Text("Ô lưới ~2,8 km (0,025°); giá trị tại tâm ô, lượng tử hoá 1/254",
                 "~2.8 km cell (0.025°); values at the cell centre, quantised to 1/254"),
    "evidence": Text("Bằng chứng", "Evidence"), "value": Text("Giá trị", "Value"),
    "membership": Text("Độ thuộc", "Membership"), "component": Text("Thành phần", "Component"),
    "source": Text("Nguồn", "Source"), "no_data": Text("không có dữ liệu", "no data"),
    "figures": Text("Hình kiểm định", "Validation figures"),
}


def _sample(path: Path, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Band 1 of ``path`` at each (lon, lat): the value of the cell containing it (NaN: nodata, outside)."""
    with rasterio.open(path) as src:
        xs, ys = Transformer.from_crs(WEB_CRS, src.crs, always_xy=True).transform(lons, lats)
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


def panel_data(out_dir: Path, types: list[str]) -> dict | None:
    """The panel's data for ``types`` (those with an overlay on the map), or None when no grid exists."""
    spec = load_spec()
    firsts = [grid_paths(out_dir, t, s)[0] for t in types for s in SCORE_NAMES]
    first = next((p for p in firsts if p.exists()), None)
    if first is None:
        return None
    with rasterio.open(first) as src:
        w, s, e, n = transform_bounds(src.crs, WEB_CRS, *src.bounds)
    width, height = int(np.ceil((e - w) / PREVIEW_CELL_DEG)), int(np.ceil((n - s) / PREVIEW_CELL_DEG))
    lon, lat = np.meshgrid(w + (np.arange(width) + 0.5) * PREVIEW_CELL_DEG, n - (np.arange(height) + 0.5) * PREVIEW_CELL_DEG)
    # the grid's national cells: wherever some score has a value (a type with no evidence has none)
    land = np.logical_or.reduce([~np.isnan(_sample(p, lon.ravel(), lat.ravel())) for p in firsts if p.exists()])
    lon, lat = lon.ravel()[land], lat.ravel()[land]
    explain = out_dir / GRIDS_DIR / EXPLAIN_DIR
    reports = out_dir / "reports"
    data = {"w": w, "n": n, "cell": PREVIEW_CELL_DEG, "width": width, "height": height, "q": QUANT,
            "mask": base64.b64encode(np.packbits(land).tobytes()).decode("ascii"),
            "ui": {k: bi(v) for k, v in TEXT.items()}, "types": {}}
    for t in types:
        model = spec.types[t]
        scores = [{"label": bi(SCORE_NAMES[sc]), "data": _pack(_sample(p, lon, lat))}
                  for sc in SCORE_NAMES if (p := grid_paths(out_dir, t, sc)[0]).exists()]
        rows = []
        for ev in model.evidence:
            mu_path, v_path = explain / f"membership_{ev.name}_{t}.tif", explain / f"value_{ev.name}_{t}.tif"
            row = {"name": safe(ev.name), "component": safe(ev.component), "refs": safe(", ".join(ev.refs) or ev.basis),
                   "mu": _pack(_sample(mu_path, lon, lat)) if mu_path.exists() else None, "value": None}
            if v_path.exists():
                v = _sample(v_path, lon, lat)
                lo, hi = (float(np.nanmin(v)), float(np.nanmax(v))) if not np.isnan(v).all() else (0.0, 1.0)
                row.update(value=_pack(v, lo, hi), lo=lo, hi=hi)
            rows.append(row)
        figures = [[safe(p.stem), safe(f"../reports/{p.name}")] for p in sorted(reports.glob(f"validation_*_{t}.png"))]
        data["types"][t] = {"title": bi(model.title), "scores": scores, "evidence": rows, "figures": figures}
    return data


class CellPanel(MacroElement):
    """The click handler: on a land cell, the panel of the grid overlay that is on (if any)."""

    _template = Template("""{% macro script(this, kwargs) %}
REE.cellPanel({{ this._parent.get_name() }}, [{% for layer, t in this.overlays %}[{{ layer.get_name() }}, {{ t }}],{% endfor %}],
  JSON.parse(document.getElementById("ree-cell-data").textContent));
{% endmacro %}""")

    def __init__(self, data: dict, overlays: list[tuple]):
        super().__init__()
        self._name = "CellPanel"
        self.overlays = [(layer, script_json(t)) for layer, t in overlays]


def add_cell_panel(m, data: dict, overlays: list[tuple]) -> None:
    """``overlays``: (folium layer, deposit type). The panel's data as a JSON block (not compiled by the browser) and its click handler."""
    m.get_root().html.add_child(Element('{% raw %}<script type="application/json" id="ree-cell-data">'
                                        f'{script_json(data)}</script>{{% endraw %}}'), name="ree_cell_data")
    CellPanel(data, overlays).add_to(m)
