"""The offline maps in real headless Chromium (Debian's /usr/bin/chromium via Playwright) from file://."""
from __future__ import annotations

from pathlib import Path

import pytest

from layers.model_spec import load_spec

from conftest import GOOD_REFS, ROOT
from maps.headless import CHROMIUM

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
SHOTS = ROOT / "build" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    from maps.headless import chromium
    with chromium() as ctx:
        yield ctx


class Page:
    """A page that records console errors, uncaught exceptions, dialogs and network requests."""

    def __init__(self, ctx, path: Path):
        self.errors, self.requests, self.dialogs = [], [], []
        self.page = p = ctx.new_page()
        p.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        p.on("pageerror", lambda e: self.errors.append(str(e)))
        p.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else self.requests.append(r.url))
        p.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        p.goto(path.resolve().as_uri(), wait_until="load")
        p.wait_for_function("() => window.REE && REE.ready !== null")

    def js(self, expr: str, arg=None):
        return self.page.evaluate(expr, arg)


@pytest.fixture(scope="module")
def national(browser, offline_maps):
    page = Page(browser, offline_maps["national"])
    yield page
    page.page.close()


@pytest.mark.parametrize("name", ["national", "coastal"])
def test_offline_map_loads_with_no_network_and_no_errors(browser, offline_maps, name):
    page = Page(browser, offline_maps[name])
    page.page.wait_for_timeout(300)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(SHOTS / f"{name}.png"))
    assert page.errors == [] and page.requests == [] and page.dialogs == []
    assert page.js("() => Object.keys(REE.features).length") > 0
    page.page.close()


def test_every_layer_is_in_the_control_toggles_and_the_legend_follows(national, project):
    catalog, _, comps = project
    # the evidence score and its uncertainty of every modelled type, except alkaline-carbonatite: no open
    # evidence layer bears on it, so its score has no data and its uncertainty is 1 everywhere (not drawn)
    grids = 2 * (len(load_spec().types) - 1)
    expected = sum(len(catalog[ml.layer].style.categories) or 1 for ml in comps["national"].layers) + grids
    inputs = national.page.locator(".leaflet-control-layers-overlays input")
    assert inputs.count() == expected
    state = """(i) => {
      const input = document.querySelectorAll('.leaflet-control-layers-overlays input')[i];
      const rows = [...document.querySelectorAll('.ree-legend-row[data-layer]')].filter(r =>
        r.dataset.layer.split(' ').length === 1 && window[r.dataset.layer]._leaflet_id === input.layerId);
      const map = Object.values(window).find(v => v instanceof L.Map);
      const layer = rows.length ? window[rows[0].dataset.layer] : null;
      return {checked: input.checked, rows: rows.length, on: layer && map.hasLayer(layer),
              shown: rows.length ? rows.every(r => r.style.display !== 'none') : null,
              hidden: rows.every(r => r.style.display === 'none')};
    }"""
    for i in range(expected):
        before = national.js(state, i)
        assert before["rows"] >= 1 and before["on"] == before["checked"] == before["shown"] != before["hidden"]
        inputs.nth(i).click()
        after = national.js(state, i)
        assert after["checked"] != before["checked"], i
        assert after["on"] == after["checked"] == after["shown"] != after["hidden"], i
        inputs.nth(i).click()
    assert national.errors == []


def test_grid_overlay_draws_between_the_land_and_the_zones(national):
    label = national.page.locator(".leaflet-control-layers-overlays label").filter(
        has_text=load_spec().types["weathering_crust"].title.vi).first
    label.locator("input").check()
    panes = national.js("""() => ({
      grid: getComputedStyle(document.querySelector('.leaflet-reeGrids-pane')).zIndex,
      base: getComputedStyle(document.querySelector('.leaflet-reeBase-pane')).zIndex,
      img: document.querySelectorAll('.leaflet-reeGrids-pane img.leaflet-image-layer').length})""")
    assert panes["img"] == 1 and int(panes["base"]) < int(panes["grid"]) < 400
    label.locator("input").uncheck()
    assert national.js("() => document.querySelectorAll('.leaflet-reeGrids-pane img').length") == 0
    assert national.errors == []


def test_search_finds_dong_pao_without_accents(national):
    box = national.page.locator(".ree-search input")
    box.fill("dong pao")
    hit = national.page.locator(".ree-search li").first
    assert "Đông Pao" in hit.inner_text()
    hit.click()
    assert "Đông Pao" in national.page.locator(".leaflet-popup-content h4").inner_text()
    box.fill("")


def test_clicking_a_deposit_shows_its_citation_and_uncertainty(national, project):
    catalog, frames, _ = project
    dep = frames["deposits"].set_index("id").loc["dong_pao"]
    refs = frames["references"].set_index("id")
    title = refs.loc[dep["refs"].split(";")[0], "title"]
    national.js("() => { Object.values(window).find(v => v instanceof L.Map).closePopup(); }")
    key = national.js("""() => { for (const [k, v] of Object.entries(REE.features))
        if (v.layer.getTooltip && v.layer.getTooltip().getContent() === 'Đông Pao' && v.layer._icon) return k; }""")
    icon = national.page.evaluate_handle("(k) => REE.features[k].layer._icon", key)
    icon.as_element().click()
    popup = national.page.locator(".leaflet-popup-content")
    assert title.split(":")[0][:40] in popup.inner_text()
    assert popup.locator("a[href^='http']").count() >= 1
    circles = national.js("() => { const m = Object.values(window).find(v => v instanceof L.Map); let n = 0;"
                          " m.eachLayer(l => { if (l instanceof L.Circle) n++; }); return n; }")
    assert circles == 1  # the location-uncertainty radius while selected


def test_language_switch_changes_legend_and_controls(national):
    title = national.page.locator(".ree-legend-title")
    assert title.inner_text() == "Chú giải"
    national.page.locator(".ree-lang button[data-lang=en]").click()
    assert title.inner_text() == "Legend"
    assert "Deposits by type" in national.page.locator(".leaflet-control-layers").inner_text()
    assert national.page.locator(".ree-search input").get_attribute("placeholder").startswith("Find")
    national.page.locator(".ree-lang button[data-lang=vi]").click()
    assert title.inner_text() == "Chú giải"


PAYLOADS = ["<img src=x onerror=alert(1)>", "${alert(1)}", "a`b`", "</script><script>alert(2)</script>",
            "{{ 7*7 }} {% if 1 %}x{% endif %}"]


def test_script_payloads_in_sources_show_as_text(make_catalog, tmp_path, browser):
    from geo.catalog import Text, load_catalog
    from layers.load import load_layers
    from maps.composition import Composition, MapLayer
    from maps.render import render, save_map
    sites = [{"id": f"s{i}", "name": p, "kind": "ab"[i % 2], "lon": str(103.5 + i * 0.05), "lat": "22.3",
              "refs": "r1"} for i, p in enumerate(PAYLOADS)]
    cat_dir = make_catalog(sites=sites, refs=GOOD_REFS)
    domains = cat_dir / "domains.toml"
    domains.write_text(domains.read_text().replace('vi = "Loại A"', 'vi = "<img src=y onerror=alert(3)>"'))
    catalog = load_catalog(cat_dir)
    comp = Composition("xss", Text("<b>x</b>", "${x}"), (22.3, 103.6), 10, (MapLayer("sites", "deposits"),),
                       ("none",))
    path = save_map(render(comp, catalog, load_layers(catalog), offline=True), tmp_path / "xss.html", offline=True)
    page = Page(browser, path)
    names = page.js("""() => Object.values(REE.features).map(f => { f.layer.openPopup();
        const t = f.layer.getPopup().getElement().querySelector('h4').textContent; f.layer.closePopup(); return t; })""")
    assert page.errors == []
    assert sorted(names) == sorted(PAYLOADS)
    assert "<img src=y onerror=alert(3)>" in page.page.locator(".ree-legend").inner_text()
    assert page.page.locator("img[src=x], img[src=y]").count() == 0
    page.page.wait_for_timeout(200)
    assert page.dialogs == [] and page.errors == []
