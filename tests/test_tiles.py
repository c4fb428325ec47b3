"""`geo tiles`: full-resolution XYZ tiles of a grid, sparse, in the overlay's colours; the prospectivity map
shows them from zoom 10 from relative paths, with no network (real Chromium over Đông Pao at zoom 11)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from PIL import Image
from pyproj import Transformer

from conftest import ROOT
from maps.headless import CHROMIUM

SHOTS = ROOT / "build" / "screenshots"
# the page's main map (the overview map is an L.Map too: never find it by type)
MAP_JS = "REE.map"
TYPE, SCORE = "alkaline_carbonatite", "proximity"  # the score that is high around Đông Pao


@pytest.fixture(scope="module")
def tiled(project, tmp_path_factory):
    """A build folder: 1 km grids, tiles of the proximity grid to zoom 11, the prospectivity map."""
    from layers.model.overlay import GRIDS_DIR, grid_layers
    from layers.model.prospectivity import run_grids
    from maps.web.render import render, save_map
    from maps.web.tiles import TILES_DIR, write_grid_tiles
    catalog, frames, comps = project
    out = tmp_path_factory.mktemp("tiled")
    run_grids(frames, 1000, out_dir=out / GRIDS_DIR, explain=True)
    gl = next(g for g in grid_layers(out) if g.deposit_type == TYPE and g.score == SCORE and g.kind == "score")
    ts = write_grid_tiles(gl, out / TILES_DIR, 10, 11)
    html = save_map(render(comps["prospectivity"], catalog, frames, offline=True, grids_dir=out),
                    out / "maps" / "prospectivity.html", offline=True)
    return out, gl, ts, html


def test_tiles_are_sparse_pngs_of_the_grid_in_its_colours(tiled):
    from maps.web.tiles import grid_colour
    out, gl, ts, _ = tiled
    pngs = sorted(ts.path.rglob("*.png"))
    assert len(pngs) == ts.tiles > 0 and ts.read >= ts.tiles
    assert {p.relative_to(ts.path).parts[0] for p in pngs} == {"10", "11"}
    tj = json.loads((ts.path / "tilejson.json").read_text())
    assert tj["tiles"] == ["{z}/{x}/{y}.png"] and tj["minzoom"] == 10 and tj["maxzoom"] == 11
    for p in pngs:  # sparse: no tile without a drawn pixel
        assert np.asarray(Image.open(p).convert("RGBA"))[..., 3].any(), p
    # a pixel's colour is the overlay colour of the COG's value at that pixel's centre
    colour = grid_colour(gl)
    to_grid = None
    checked = 0
    with rasterio.open(gl.path) as src:
        to_grid = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True)
        for p in pngs[:: max(1, len(pngs) // 6)]:
            z, x, y = int(p.parts[-3]), int(p.parts[-2]), int(p.stem)
            rgba = np.asarray(Image.open(p).convert("RGBA"))
            rows, cols = np.nonzero(rgba[..., 3])
            for r, c in list(zip(rows, cols))[:: max(1, len(rows) // 50)]:
                n = 2 ** z
                around = []  # the pixel's centre and points 0.6 px away: skip pixels on a cell edge
                for dc, dr in ((0, 0), (0.6, 0), (-0.6, 0), (0, 0.6), (0, -0.6)):
                    lon = (x + (c + 0.5 + dc) / 256) / n * 360 - 180
                    lat = np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * (y + (r + 0.5 + dr) / 256) / n))))
                    around.append(to_grid.transform(lon, lat))
                if len({src.index(*q) for q in around}) != 1:
                    continue
                v = next(src.sample([around[0]], masked=True))[0]
                if np.ma.is_masked(v):
                    continue
                want = colour(np.array([float(v)], dtype="float32"))[0]
                assert np.abs(rgba[r, c].astype(int) - want.astype(int)).max() <= 1, (p, r, c, rgba[r, c], want)
                checked += 1
    assert checked > 100


def _visible_tiles(page):
    return page.evaluate("""() => [...document.querySelectorAll('.ree-grid-tiles img.leaflet-tile')].map(i => ({
        src: i.getAttribute('src'), url: i.src, ok: i.complete && i.naturalWidth === 256,
        loaded: i.classList.contains('leaflet-tile-loaded')}))""")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_map_shows_the_tiles_at_zoom_11_over_dong_pao(tiled, project):
    from maps.headless import chromium
    from layers.model.overlay import overlay
    from maps.i18n import load_labels
    from maps.web.grids import overlay_rgba
    out, gl, ts, html = tiled
    deposits = project[1]["deposits"]
    site = deposits[deposits["name_vi"].str.contains("Đông Pao")].geometry.iloc[0]
    title = overlay(TYPE, out, SCORE).title.vi
    requests = []
    with chromium((1400, 900)) as ctx:
        page = ctx.new_page()
        page.on("request", lambda r: requests.append(r.url))
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(html.resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => window.REE && REE.ready !== null")
        page.evaluate("""() => { document.querySelector('.ree-layers').classList.remove('ree-folded');
                                 document.querySelectorAll('.ree-group').forEach(d => d.open = true); }""")
        box = page.locator(".leaflet-control-layers-overlays label").filter(has_text=title).first.locator("input")
        box.check()
        page.evaluate("() => document.querySelector('.ree-layers').classList.add('ree-folded')")
        # only the base geography and the grid: vector layers above would hide the pixels compared
        stops = page.evaluate("""(id) => [...document.querySelectorAll('#' + id + ' stop')].map(
            s => s.getAttribute('stop-color'))""", "g-" + "".join(ch if ch.isalnum() else "-" for ch in gl.path.stem))
        # (the project's own panes too: deposit markers and place names draw above the grid; the title and the
        # overview map are not in the control container's flow)
        hide = page.add_style_tag(content=".leaflet-overlay-pane, .leaflet-marker-pane, .leaflet-shadow-pane,"
                                   ".leaflet-tooltip-pane, .leaflet-popup-pane, .leaflet-control-container,"
                                   ".leaflet-pane[class*='-ree']:not(.leaflet-reeGrids-pane)"
                                   " { visibility: hidden !important; }"
                                   ".ree-title, .leaflet-control-minimap, .ree-place { display: none !important; }")
        page.evaluate("""([lat, lon]) => { const m = """ + MAP_JS + """;
            m.setView([lat, lon], 11, {animate: false}); }""", [site.y, site.x])
        # the grid's tiles start at zoom 10; the map must still zoom out to the whole country (it once could not)
        assert page.evaluate("() => REE.map.getMinZoom()") <= 5
        page.wait_for_function("""() => { const t = [...document.querySelectorAll('.ree-grid-tiles img.leaflet-tile')];
            return t.length && t.every(i => i.complete) && t.some(i => i.classList.contains('leaflet-tile-loaded')); }""")
        page.wait_for_function("""() => [...document.querySelectorAll('.ree-grid-tiles img.leaflet-tile-loaded')]
            .every(i => getComputedStyle(i).opacity === '1')""")  # Leaflet's tile fade-in, however slow the machine
        page.wait_for_timeout(200)
        tiles = _visible_tiles(page)
        preview_opacity = page.evaluate("""() => [...document.querySelectorAll('img.leaflet-image-layer')]
            .filter(i => i.closest('.leaflet-pane') && getComputedStyle(i).display !== 'none').map(i => i.style.opacity)""")
        SHOTS.mkdir(parents=True, exist_ok=True)
        on_png = SHOTS / "tiles-dong-pao-z11-1400x900.png"
        page.screenshot(path=str(on_png))
        # the cells under sample pixels: the pixel and its neighbours 2 px away in the same grid cell
        pts = [(x, y) for x in range(30, 1370, 23) for y in range(30, 870, 23)]
        lonlat = page.evaluate("""(pts) => { const m = """ + MAP_JS + """;
            const o = m.getContainer().getBoundingClientRect();
            return pts.map(([x, y]) => [[0,0],[2,0],[-2,0],[0,2],[0,-2]].map(([dx, dy]) => {
                const ll = m.containerPointToLatLng([x - o.left + dx, y - o.top + dy]); return [ll.lng, ll.lat]; })); }""",
                               pts)
        off = page.add_style_tag(content=".ree-grid-tiles { visibility: hidden !important; }")  # same view, grid off
        page.wait_for_timeout(200)
        off_png = SHOTS / "tiles-dong-pao-z11-off-1400x900.png"
        page.screenshot(path=str(off_png))
        for tag in (hide, off):  # the whole map as a person sees it, for a look
            tag.evaluate("e => e.remove()")
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / "tiles-dong-pao-z11-map-1400x900.png"))
        page.close()
    assert errors == []
    assert stops and {c.lower() for c in stops} == {c.lower() for c in gl.ramp}  # the legend row draws this ramp
    assert [u for u in requests if u.startswith(("http:", "https:"))] == []  # no network
    loaded = [t for t in tiles if t["loaded"]]
    assert loaded and all(t["ok"] for t in loaded)
    tiles_url = (out / "tiles" / gl.path.stem).resolve().as_uri()
    for t in loaded:  # relative addresses, resolved beside the map
        assert t["src"].startswith(f"../tiles/{gl.path.stem}/11/") and t["url"].startswith(tiles_url)
    assert preview_opacity and all(o == "0" for o in preview_opacity)  # the preview gives way above zoom 9

    on = np.asarray(Image.open(on_png).convert("RGB")).astype(float)
    off = np.asarray(Image.open(off_png).convert("RGB")).astype(float)
    style = load_labels().grids
    good = bad = 0
    with rasterio.open(gl.path) as src:
        to_grid = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True)
        for (x, y), lls in zip(pts, lonlat):
            xy = [to_grid.transform(lon, lat) for lon, lat in lls]
            cells = {src.index(*p) for p in xy}
            if len(cells) != 1:  # near a cell edge: the browser may sample either side
                continue
            v = next(src.sample([xy[0]], masked=True))[0]
            if np.ma.is_masked(v):
                continue
            rgba = overlay_rgba(np.array([float(v)], dtype="float32"), gl.ramp, style)[0].astype(float)
            want = off[y, x] * (1 - rgba[3] / 255) + rgba[:3] * rgba[3] / 255
            if np.abs(on[y, x] - want).max() <= 4:
                good += 1
            else:
                bad += 1
    assert good >= 200 and bad <= 0.02 * (good + bad), (good, bad)


def test_geo_tiles_refuses_an_unknown_grid_in_one_line(tiled, tmp_path):
    from conftest import geo_in_process
    out = tiled[0]
    rc, _, err = geo_in_process("tiles", "--grids", "nope", "--build", str(out), "--out", str(tmp_path / "t"))
    assert rc == 2 and "unknown grid nope" in err and "proximity_alkaline_carbonatite" in err
    rc, _, err = geo_in_process("tiles", "--build", str(tmp_path / "empty"), "--out", str(tmp_path / "t"))
    assert rc == 2 and "no grids" in err
    assert not (tmp_path / "t").exists()
