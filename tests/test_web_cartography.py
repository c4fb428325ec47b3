"""Cartography of the offline web maps in real headless Chromium (issue 21): overlay pixels against the
legend, the "why" panel, z-order, locale, legend rows, the URL hash and the About panel."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest

from conftest import ROOT
from maps.headless import CHROMIUM

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
SHOTS = ROOT / "build" / "screenshots"
VIEWPORTS = [(1400, 900), (390, 844)]
MAP = "REE.map"


@pytest.fixture(scope="module")
def browser():
    from maps.headless import chromium
    with chromium() as ctx:
        yield ctx


class Page:
    def __init__(self, ctx, url: str, viewport=(1400, 900)):
        self.errors = []
        self.page = p = ctx.new_page()
        p.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        p.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        p.on("pageerror", lambda e: self.errors.append(str(e)))
        p.goto(url, wait_until="load")
        p.wait_for_function("() => window.REE && REE.ready !== null")
        p.wait_for_timeout(200)  # the hash is written 150 ms after the last change

    def js(self, expr: str, arg=None):
        return self.page.evaluate(expr, arg)

    def shot(self, name: str):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"))

    def close(self):
        self.page.close()


def _url(path, hash_: str = "") -> str:
    return path.resolve().as_uri() + hash_


# --- 1. the overlay's pixels are the legend's colours --------------------------------------------------

def _high_cell(path):
    """(lat, lon, value) at the centre of a high cell of the Web Mercator preview inside a high 3x3 block."""
    from geo.raster.preview import mercator_preview
    from maps.web.grids import PREVIEW_CELL_DEG, PREVIEW_LEVELS
    values, (w, s, e, n) = mercator_preview(path, PREVIEW_CELL_DEG)
    q = np.round(np.nan_to_num(values, nan=-1) * PREVIEW_LEVELS) / PREVIEW_LEVELS
    top = q.max()
    ok = q == top
    for r, c in zip(*np.nonzero(ok)):
        if 1 <= r and 1 <= c and ok[r - 1:r + 2, c - 1:c + 2].all():
            return r, c, float(top), values.shape
    raise AssertionError("no high block")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_overlay_pixels_are_the_legend_colours(browser, offline_maps, viewport):
    """The grid image's own pixels are exactly ``geo.raster.preview.ramp_rgba`` of the class value (no rescaling),
    the legend's gradient declares the same colours and opacities, and the pixel on screen is that colour
    blended with its alpha over the map beneath."""
    from PIL import Image

    from geo.colour import rgb
    from layers.model.overlay import overlay
    from maps.web.grids import PREVIEW_LEVELS
    from maps.i18n import load_labels
    style = load_labels().grids
    ov = overlay("coastal_placer", offline_maps["national"].parent)
    r, c, value, shape = _high_cell(ov.path)
    want = style.rgba(np.array([value]), ov.ramp, PREVIEW_LEVELS)[0].tolist()
    assert want[3] > 0
    key = ov.path.stem
    page = Page(browser, _url(offline_maps["national"], f"#layers={key},land"), viewport)
    got = page.js("""async ([r, c, h, w]) => { const img = document.querySelector('.leaflet-reeGrids-pane img');
        await img.decode(); if (img.naturalHeight !== h || img.naturalWidth !== w) return ['size', img.naturalHeight, img.naturalWidth];
        const cv = document.createElement('canvas'); cv.width = w; cv.height = h;
        const g = cv.getContext('2d'); g.drawImage(img, 0, 0); return [...g.getImageData(c, r, 1, 1).data]; }""",
                  [int(r), int(c), *shape])
    assert not isinstance(got[0], str), got
    # the browser's canvas premultiplies alpha (±1 on a translucent pixel); the PNG it was given is exact
    assert np.abs(np.array(got) - want).max() <= 1, (got, want, value)
    import base64
    src = page.js("() => document.querySelector('.leaflet-reeGrids-pane img').src")
    assert src.startswith("data:image/png;base64,")
    png = np.array(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))
    assert png.dtype == np.uint8 and png.shape == (*shape, 4)
    assert png[r, c].tolist() == want, (png[r, c].tolist(), want)
    # the legend row of this grid: its stops are the ramp with the alpha ramp
    stops = page.js("""(key) => [...document.querySelectorAll('linearGradient#g-' + key.replace(/[^A-Za-z0-9]/g, '-') + ' stop')].map(s =>
        [+s.getAttribute('offset'), s.getAttribute('stop-color'), +s.getAttribute('stop-opacity')])""", key)
    assert stops, key
    n = len(ov.ramp) - 1
    for offset, colour, opacity in stops:
        if opacity > 0:
            i = round(offset * n)
            expect = style.rgba(np.array([i / n]), ov.ramp)[0]
            assert list(rgb(colour)) == expect[:3].tolist() and abs(opacity * 255 - expect[3]) <= 1.5, (offset, colour)
    # on screen: the image drawn at the cell's position, blended over what lies beneath
    from geo.raster.preview import mercator_preview  # noqa: F401  (the cell centre below is the image's)
    lat, lon = page.js("""([r, c, h, w]) => { const o = Object.values(%s._layers).find(l => l instanceof L.ImageOverlay);
        const b = o.getBounds(), m = %s, nw = m.project(b.getNorthWest(), 0), se = m.project(b.getSouthEast(), 0);
        const p = L.point(nw.x + (c + 0.5) * (se.x - nw.x) / w, nw.y + (r + 0.5) * (se.y - nw.y) / h);
        const ll = m.unproject(p, 0); return [ll.lat, ll.lng]; }""" % (MAP, MAP), [int(r), int(c), *shape])

    def pixel():
        x, y = page.js(f"""([lat, lon]) => {{ const m = {MAP}; m.setView([lat, lon], 9, {{animate: false}});
            const p = m.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }}""", [lat, lon])
        page.js("""() => Promise.all([...document.querySelectorAll('.leaflet-reeGrids-pane img')].map(i => i.decode()
            .catch(() => null))).then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))))""")
        page.page.wait_for_timeout(150)
        png = page.page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1})
        return np.array(Image.open(io.BytesIO(png)).convert("RGB"))[0, 0].astype(float)

    on = pixel()
    page.shot(f"national-grid-pixels-{viewport[0]}x{viewport[1]}")
    page.js(f"() => {MAP}.removeLayer(REE.controlled['{key}'].layer)")
    off = pixel()
    a = want[3] / 255
    blended = a * np.array(want[:3]) + (1 - a) * off
    assert np.abs(on - blended).max() <= 3, (on, blended, off)
    assert page.errors == []
    page.close()


# --- 2. the "why" panel -------------------------------------------------------------------------------

@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_click_on_a_marker_with_a_grid_on_opens_the_panel_naming_it(browser, offline_maps, viewport):
    from layers.model.model_spec import load_spec
    w, h = viewport
    spec = load_spec()
    page = Page(browser, _url(offline_maps["prospectivity"]), viewport)
    assert page.js("() => document.querySelectorAll('.leaflet-reeGrids-pane img').length") == 1  # opens on a grid
    # Bắc and Nam Nậm Xe (and Thèn Thầu) share a position: click whichever marker is on top there
    name = page.js(f"""() => {{ const m = {MAP};
        const hit = Object.values(REE.features).find(f => f.layer._icon && f.layer.getTooltip().getContent() === 'Nam Nậm Xe');
        m.setView(hit.layer.getLatLng(), 9, {{animate: false}});
        const b = hit.layer._icon.getBoundingClientRect(), el = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
        const top = Object.values(REE.features).find(f => f.layer._icon && f.layer._icon.contains(el));
        window.__top = top.layer._icon; return top.layer.getTooltip().getContent(); }}""")
    page.page.wait_for_timeout(100)
    page.page.evaluate_handle("() => window.__top").as_element().click()
    page.page.wait_for_selector(".ree-cell")
    page.page.wait_for_timeout(500)  # fade-in and autopan
    page.shot(f"prospectivity-marker-panel-{w}x{h}")
    cell = page.page.locator(".ree-cell")
    text = cell.inner_text()
    assert name in page.page.locator(".ree-cell-here").inner_text()
    model = spec.types["coastal_placer"]  # the grid the map opens on
    for ev in model.evidence:
        assert spec.evidence_title(ev.name).vi in text, ev.name
        assert ev.name not in text  # titles, not code ids
    assert re.search(r"gamma 0,8 của \d lớp", text)  # the operator and its parameter, Vietnamese decimal comma
    assert "Kiểm định" in text and "AUC 0," in text  # the verdict with its figure, in the reader's notation
    # beside it, the figures of the null the verdict rests on (coastal placers: points near the sea), not
    # those of the "anywhere on land" null that any near-the-coast layer beats (issue 19)
    assert model.validation.get("null") == "near_sea" and "mô hình rỗng, trên đất liền gần biển" in text
    assert re.search(r"\d\.\d{3} m", text)  # a distance with its unit, thousands grouped with "."
    fits = page.js("""() => { const c = document.querySelector('.ree-cell-popup .leaflet-popup-content');
        const b = document.querySelector('.ree-cell-popup').getBoundingClientRect();
        return {scroll: c.scrollWidth, client: c.clientWidth, l: b.left, r: b.right, t: b.top, b: b.bottom,
                page: document.documentElement.scrollWidth}; }""")
    assert fits["scroll"] <= fits["client"], fits  # no sideways overflow
    assert fits["l"] >= 0 and fits["r"] <= w and fits["t"] >= 0 and fits["b"] <= h and fits["page"] <= w, fits
    page.page.locator(".ree-lang button[data-lang=en]").click()
    en = cell.inner_text()
    assert "fuzzy gamma 0.8 of" in en and spec.evidence_title(model.evidence[0].name).en in en
    page.page.locator(".ree-cell-deposit:visible", has_text=name).first.click()  # the named deposit's own card
    page.page.wait_for_selector(".ree-card h4")
    assert page.page.locator(".ree-card h4").inner_text() == name
    assert page.errors == []
    page.close()


# --- 4. deposits above positions, links and zones --------------------------------------------------------

def test_deposits_draw_above_the_source_positions_and_zones(browser, offline_maps):
    page = Page(browser, _url(offline_maps["national"], "#map=9/18.4/105.9&layers=deposits.0,deposits.1,deposits.2,"
                                                        "deposits.3,site_locations.0,site_locations.1,site_location_links,prospect_zones.2,land"))
    page.shot("national-positions-1400x900")
    hits = page.js(f"""() => {{ const m = {MAP}, size = m.getSize(), out = [];
        for (const f of Object.values(REE.features)) {{
          const icon = f.layer._icon; if (!icon || !m.hasLayer(f.layer)) continue;
          const p = m.latLngToContainerPoint(f.layer.getLatLng());
          if (p.x < 5 || p.y < 60 || p.x > size.x - 5 || p.y > size.y - 5) continue;
          const b = icon.getBoundingClientRect(), el = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
          out.push([f.layer.getTooltip().getContent(), !!el && icon.contains(el)]); }}
        return out; }}""")
    assert page.js(f"() => {MAP}.hasLayer(REE.controlled['site_locations.0'].layer)")  # the positions are on
    assert len(hits) >= 3, hits
    assert all(top for _, top in hits), hits
    z = page.js("""() => [...document.querySelectorAll('.leaflet-pane')].filter(p => /reeMarks/.test(p.className))
        .map(p => [p.className.match(/reeMarks\\d+/)[0], +getComputedStyle(p).zIndex])""")
    assert [v for _, v in z] == sorted(v for _, v in z) and len(z) >= 3, z
    assert page.errors == []
    page.close()


# --- 5. locale ----------------------------------------------------------------------------------------

def _dong_pao_uncertainty_m() -> float:
    """Đông Pao's position uncertainty as the built layers state it."""
    from layers.load import load_layers
    deposits = load_layers()["deposits"]
    return float(deposits.loc[deposits["id"] == "dong_pao", "location_uncertainty_m"].iloc[0])


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_vietnamese_number_format_in_a_card_and_english_first_in_english(browser, offline_maps, viewport):
    w, h = viewport
    page = Page(browser, _url(offline_maps["national"]), viewport)
    page.page.locator(".ree-search input").fill("dong pao")
    page.page.locator(".ree-search li").first.click()
    page.page.locator(".ree-search input").fill("")
    page.page.wait_for_timeout(300)
    facts = page.page.locator(".leaflet-popup-content .ree-facts")
    unc = int(_dong_pao_uncertainty_m())
    assert unc >= 1000  # a value with a thousands group, read from the data
    assert f"± {unc:,} m".replace(",", ".") in facts.inner_text()  # Vietnamese: "." groups thousands
    page.shot(f"national-card-vi-{w}x{h}")
    assert page.page.locator(".leaflet-control-zoom-in").get_attribute("title") == "Phóng to"
    page.page.locator(".ree-lang button[data-lang=en]").click()
    assert f"± {unc:,} m" in facts.inner_text()
    assert page.page.locator(".leaflet-control-zoom-in").get_attribute("title") == "Zoom in"
    assert page.page.locator(".leaflet-control-measure-toggle").get_attribute("title") == "Measure distances and areas"
    page.page.locator(".ree-lang button[data-lang=vi]").click()
    assert page.page.locator(".leaflet-control-measure-toggle").get_attribute("title") == "Đo khoảng cách và diện tích"
    assert page.errors == []
    page.close()


def test_measuring_speaks_vietnamese_and_throws_nothing(browser, offline_maps):
    """The measure tool in VI mode: its texts from labels.toml [controls] and its distances in Vietnamese
    notation; a measuring click raised a TypeError while the map preferred canvas (its vertices had no SVG)."""
    page = Page(browser, _url(offline_maps["national"], "#map=9/16.0/107.5&layers=land"))
    p = page.page
    p.hover(".leaflet-control-measure-toggle", force=True)
    p.wait_for_timeout(200)
    p.click(".leaflet-control-measure .js-start", force=True)
    p.mouse.click(600, 400)
    p.wait_for_timeout(150)
    p.mouse.click(800, 500)
    p.wait_for_timeout(300)
    assert "Kết thúc phép đo" in p.locator(".leaflet-control-measure").inner_text()
    p.click(".leaflet-control-measure .js-finish", force=True)
    p.wait_for_timeout(400)
    result = p.locator(".leaflet-measure-resultpopup").inner_text()
    assert "Đo chiều dài" in result and re.search(r"\d+,\d+ km \(\d{1,3}(\.\d{3})+ m\)", result), result
    assert page.errors == []
    page.close()


def test_paired_language_fields_show_the_page_language_first(browser, offline_maps, project):
    catalog, frames, _ = project
    zones = frames["coastal_placer_zones"]
    both = zones[zones["risk_notes_vi"].notna() & zones["risk_notes_en"].notna()]
    if both.empty:
        pytest.skip("no placer zone with risk notes in both languages")
    page = Page(browser, _url(offline_maps["coastal"]))
    page.js(f"""() => {{ const m = {MAP}; for (const f of Object.values(REE.features))
        if (f.layer.getPopup && f.layer.getPopup() && /risk|Rủi ro/i.test(f.layer.getPopup().getContent())) {{
          f.layer.openPopup(f.layer.getBounds ? f.layer.getBounds().getCenter() : undefined); return; }} }}""")
    alias = catalog["coastal_placer_zones"].field("risk_notes_en").alias
    rows = lambda: page.js("""() => [...document.querySelectorAll('.leaflet-popup-content tr')].filter(tr =>
        tr.offsetParent !== null).map(tr => tr.querySelector('th').innerText)""")
    page.page.locator(".ree-lang button[data-lang=en]").click()
    page.page.locator(".leaflet-popup-content details.ree-all summary").first.click()
    en = [r for r in rows() if "Sourced risks" in r]
    assert en and en[0] == alias.en, en
    page.page.locator(".ree-lang button[data-lang=vi]").click()
    vi = [r for r in rows() if "Rủi ro" in r]
    assert vi and vi[0] == catalog["coastal_placer_zones"].field("risk_notes_vi").alias.vi, vi
    page.close()


# --- 6. legend ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_no_legend_row_without_features_and_ramp_ends_under_the_ramp(browser, offline_maps, viewport):
    w, h = viewport
    page = Page(browser, _url(offline_maps["national"]), viewport)
    # every layer on: every legend row shows, and each row's layers hold at least one feature
    page.js(f"""() => {{ const m = {MAP}; Object.values(REE.controlled).forEach(c => {{ if (!m.hasLayer(c.layer)) m.addLayer(c.layer); }});
        document.querySelector('#ree-legend details').open = true; }}""")
    rows = page.js("""() => [...document.querySelectorAll('.ree-legend-row[data-layer]')].map(r => ({
        text: r.innerText.trim(), n: r.dataset.layer.split(' ').map(n => window[n]).reduce((a, l) =>
          a + l.getLayers().reduce((b, g) => b + (g.getLayers ? g.getLayers().length : 1), 0), 0)}))""")
    assert rows and [r for r in rows if r["n"] == 0] == [], rows
    page.shot(f"national-legend-{w}x{h}")
    ends = page.js("""() => [...document.querySelectorAll('.ree-ramp-box')].filter(b => b.offsetParent).map(b => {
        const s = b.querySelector('svg').getBoundingClientRect(), e = b.querySelectorAll('.ree-ramp-ends > span');
        const l = e[0].getBoundingClientRect(), r = e[1].getBoundingClientRect();
        return [s.left, s.right, s.bottom, l.left, r.right, l.top]; })""")
    assert ends
    for sl, sr, sb, ll, rr, lt in ends:
        assert abs(ll - sl) <= 1 and abs(rr - sr) <= 1 and 0 <= lt - sb <= 4, (sl, sr, sb, ll, rr, lt)
    assert page.errors == []
    page.close()


def test_each_grid_legend_names_only_its_models_evidence():
    from layers.model.evidence import KINDS
    from layers.model.model_spec import load_spec
    from layers.model.overlay import overlay
    spec = load_spec()
    titles = {e.name: spec.evidence_title(e.name) for t in spec.types.values() for e in t.evidence}
    assert all(t.vi != name and t.en != name for name, t in titles.items()), "an evidence without a declared title"
    for name, model in spec.types.items():
        for score in ("evidence", "proximity"):
            legend = overlay(name, "build", score).legend
            mine = {e.name for e in model.evidence if KINDS[e.kind].score == score}
            for ev in mine:
                assert titles[ev].vi in legend.vi and titles[ev].en in legend.en, (name, score, ev)
            for ev in set(titles) - mine:  # another type's evidence is never named
                assert titles[ev].en not in legend.en, (name, score, ev)


# --- 8. URL hash and About ---------------------------------------------------------------------------

@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_url_hash_reopens_the_same_map(browser, offline_maps, viewport):
    page = Page(browser, _url(offline_maps["national"]), viewport)
    page.js(f"""() => {{ const m = {MAP}; m.setView([21.5, 104.2], 8, {{animate: false}});
        m.removeLayer(REE.controlled['deposits.2'].layer);
        m.addLayer(REE.controlled[Object.keys(REE.controlled).find(k => k.startsWith('site_locations'))].layer); }}""")
    page.page.locator(".ree-lang button[data-lang=en]").click()
    page.page.wait_for_timeout(400)
    state = """() => { const m = %s, c = m.getCenter();
        return {z: m.getZoom(), lat: +c.lat.toFixed(3), lon: +c.lng.toFixed(3), lang: document.documentElement.lang,
                on: Object.keys(REE.controlled).filter(k => m.hasLayer(REE.controlled[k].layer)).sort()}; }""" % MAP
    before, hash_ = page.js(state), page.js("() => location.hash")
    assert "lang=en" in hash_ and "site_locations" in hash_ and "deposits.2" not in hash_, hash_
    page.close()
    again = Page(browser, _url(offline_maps["national"], hash_), viewport)
    after = again.js(state)
    assert after == before, (before, after)
    assert again.page.locator(".ree-legend-title").inner_text() == "Legend"
    assert again.errors == []
    again.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_about_lists_grid_sources_and_build_date_and_closes_on_escape_or_outside(browser, offline_maps, project,
                                                                                 viewport):
    from layers.model.model_spec import load_spec
    refs = project[1]["references"].set_index("id")
    page = Page(browser, _url(offline_maps["prospectivity"]), viewport)
    panel = page.page.locator("#ree-about")
    page.page.locator(".ree-about-link").first.click()
    assert panel.is_visible()
    page.shot(f"prospectivity-about-{viewport[0]}x{viewport[1]}")
    assert page.js("() => { const p = document.getElementById('ree-about'); return p.scrollWidth <= p.clientWidth; }")
    text = panel.inner_text()
    assert re.search(r"\d{4}-\d{2}-\d{2}", page.page.locator(".ree-built").inner_text())
    spec = load_spec()
    for t in ("coastal_placer", "weathering_crust"):
        for ev in spec.types[t].evidence:
            for r in ev.refs:
                assert str(refs.loc[r, "title"])[:30] in text, (t, ev.name, r)
    page.page.keyboard.press("Escape")
    assert not panel.is_visible()
    page.page.locator(".ree-about-link").first.click()
    assert panel.is_visible()
    box = panel.bounding_box()
    page.page.mouse.click(max(2, box["x"] - 20) if box["x"] > 4 else box["x"] + box["width"] / 2,
                          box["y"] + box["height"] + 5 if box["x"] <= 4 else box["y"] + box["height"] / 2)  # outside
    assert not panel.is_visible()
    assert page.errors == []
    page.close()


# --- screenshots of every map at both sizes ------------------------------------------------------------

@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("name", ["national", "coastal", "prospectivity"])
def test_screenshot_of_every_map_as_it_opens(browser, offline_maps, name, viewport):
    w, h = viewport
    page = Page(browser, _url(offline_maps[name]), viewport)
    page.page.wait_for_timeout(300)
    page.shot(f"{name}-open-{w}x{h}")
    bounds = page.js(f"() => {MAP}.getBounds().toBBoxString()").split(",")
    west, south, east, north = map(float, bounds)
    assert west <= 109.5 and east >= 111.5 and south <= 9.0 and north >= 16.0  # both archipelagos in view
    assert page.page.locator(".ree-title").is_visible()
    bg = page.js(f"() => getComputedStyle({MAP}.getContainer()).backgroundColor")
    assert bg not in ("rgb(221, 221, 221)", "rgba(0, 0, 0, 0)"), bg  # the sea colour, not Leaflet's grey
    assert page.errors == []
    page.close()
