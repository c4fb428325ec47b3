"""The `prospectivity` composition (issue 11 item 6): offline size, and a click on a land cell of an
evidence overlay in real Chromium shows the scores and memberships the COGs hold at that cell."""
from __future__ import annotations

import re

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from conftest import ROOT
from maps.headless import CHROMIUM

SHOTS = ROOT / "build" / "screenshots"
STEP = 1 / 254  # maps/web/cell_panel.py QUANT


def test_prospectivity_map_is_one_offline_file_under_3_mb(offline_maps):
    html = offline_maps["prospectivity"].read_text(encoding="utf-8")
    assert len(html.encode()) <= 3_000_000
    assert 'id="ree-cell-data"' in html and "cdn.jsdelivr" not in html


def _cog(path, lon, lat):
    with rasterio.open(path) as src:
        x, y = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True).transform(lon, lat)
        v = next(src.sample([(x, y)], masked=True))[0]
    return None if np.ma.is_masked(v) else float(v)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
@pytest.mark.parametrize("viewport", [(1400, 900), (390, 844)])
def test_click_on_a_high_cell_shows_the_cog_values(offline_maps, project, viewport):
    from geo.raster.preview import wgs84_preview
    from layers.model.model_spec import load_spec
    from layers.model.overlay import GRIDS_DIR, overlay
    from layers.model.prospectivity import EXPLAIN_DIR
    from maps.web.grids import PREVIEW_CELL_DEG
    from maps.headless import chromium

    out = offline_maps["prospectivity"].parent
    deposits = project[1]["deposits"]
    spec = load_spec()
    for t in spec.types:  # the first type with an evidence score that varies
        ov = overlay(t, out)
        values, (w, s, e, n) = wgs84_preview(ov.path, PREVIEW_CELL_DEG)
        if not np.isnan(values).all() and np.nanmin(values) < np.nanmax(values):
            break
    ok = np.nan_to_num(values, nan=-1) >= np.nanmax(values) - 0.1
    for r, c in zip(*np.nonzero(ok)):  # a high cell inside a high 5x5 block, away from any deposit symbol
        lat, lon = n - (r + 0.5) * PREVIEW_CELL_DEG, w + (c + 0.5) * PREVIEW_CELL_DEG
        far = np.hypot(deposits.geometry.x - lon, deposits.geometry.y - lat).min() > 0.1
        if r >= 2 and c >= 2 and ok[r - 2:r + 3, c - 2:c + 3].all() and far:
            break
    else:
        raise AssertionError("no high cell")
    expected = {"evidence": _cog(ov.path, lon, lat), "proximity": _cog(overlay(t, out, "proximity").path, lon, lat)}
    assert expected["evidence"] is not None and expected["evidence"] >= 0.5

    with chromium() as ctx:
        page = ctx.new_page()
        page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(offline_maps["prospectivity"].resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => window.REE && REE.ready !== null")
        page.evaluate("""() => { document.querySelector('.ree-layers').classList.remove('ree-folded');
                                 document.querySelectorAll('.ree-group').forEach(d => d.open = true); }""")
        label = page.locator(".leaflet-control-layers-overlays label").filter(has_text=ov.title.vi).first
        label.locator("input").check()
        page.evaluate("() => document.querySelector('.ree-layers').classList.add('ree-folded')")
        x, y = page.evaluate("""([lat, lon]) => { const m = REE.map;
            m.setView([lat, lon], 9, {animate: false}); const p = m.latLngToContainerPoint([lat, lon]);
            return [p.x, p.y]; }""", [lat, lon])
        page.mouse.click(x, y)
        page.wait_for_selector(".ree-cell")
        page.wait_for_timeout(400)  # the popup's fade-in
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"prospectivity-cell-{viewport[0]}x{viewport[1]}.png"))
        shown = page.evaluate("""() => ({
            scores: [...document.querySelectorAll('.ree-cell-score td')].map(td => td.dataset.v ?? null),
            mu: Object.fromEntries([...document.querySelectorAll('.ree-cell-ev [data-evidence]')].map(
                li => [li.dataset.evidence, li.querySelector('.ree-mu').dataset.v ?? null])),
            text: document.querySelector('.ree-cell').innerText })""")
        page.close()
    assert errors == []
    assert "2.8 km" in shown["text"] or "2,8 km" in shown["text"]
    for got, want in zip(shown["scores"], expected.values()):
        assert want is not None and got is not None and abs(float(got) - want) <= STEP / 2 + 1e-6, (got, want)
    model = spec.types[t]
    assert set(shown["mu"]) == {ev.name for ev in model.evidence}
    checked = 0
    for ev in model.evidence:
        path = out / GRIDS_DIR / EXPLAIN_DIR / f"membership_{ev.name}_{t}.tif"
        want = _cog(path, lon, lat) if path.exists() else None
        got = shown["mu"][ev.name]
        if want is None:
            assert got is None, (ev.name, got)
        else:
            assert got is not None and abs(float(got) - want) <= STEP / 2 + 1e-6, (ev.name, got, want)
            checked += 1
    assert checked >= 2
    assert re.search(r"\d", shown["text"])
