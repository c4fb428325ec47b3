"""The national map against ``GeoDataFrame.explore()`` of the same layers: HTML size and time to
interactive in headless Chromium (``maps/headless.py``), with ratios.

Both pages are opened from file:// with the network cut: CDN links that have a vendored copy
(``maps/offline.py``; folium's Leaflet 1.9.3 link is served the vendored 1.9.4) are answered from
``maps/vendor``, every other request (jQuery, Bootstrap, Font Awesome, tiles) is answered empty, so
neither page waits on the network. Time to interactive: ms from navigation start to the second
animation frame after the load event, median of RUNS loads.
Usage: python -m bench.maps [--runs N]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from geo.catalog import load_catalog
from layers import CATALOG_DIR
from layers.load import load_layers
from maps.composition import load_compositions
from maps.headless import chromium, time_to_interactive
from maps.offline import LOCAL, VENDOR
from layers.overlay import GRIDS_DIR
from maps.render import page_html, render

EXTRA = {"https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": LOCAL[next(u for u in LOCAL if u.endswith("leaflet.js"))],
         "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": LOCAL[next(u for u in LOCAL if u.endswith("leaflet.css"))]}


def explore_html(comp, frames) -> str:
    """``explore()`` of every layer of ``comp``, in order, on one map (geopandas defaults, no tiles)."""
    m = None
    for ml in comp.layers:
        gdf = frames[ml.layer]
        kw = {"name": ml.layer, "tiles": None} if m is None else {"m": m, "name": ml.layer}
        m = gdf.explore(**kw)
    return m.get_root().render()


def _route(route):
    url = route.request.url
    local = LOCAL.get(url) or EXTRA.get(url)
    if local:
        body = (VENDOR / local).read_bytes()
        route.fulfill(status=200, body=body, content_type="text/css" if url.endswith(".css") else "text/javascript")
    else:
        route.fulfill(status=200, body=b"")


def measure(ctx, path: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        page = ctx.new_page()
        page.route("http*://**", _route)
        page.goto(path.as_uri(), wait_until="load")
        times.append(time_to_interactive(page))
        page.close()
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    catalog = load_catalog(CATALOG_DIR)
    frames = load_layers(catalog)
    comp = load_compositions(catalog)["national"]
    out = Path(tempfile.mkdtemp(prefix="ree-bench-"))
    pages, build = {}, {}
    grids = Path("build") if (Path("build") / GRIDS_DIR).is_dir() else None  # overlays of the last build, if any
    for name, make in [("national --cdn", lambda: page_html(render(comp, catalog, frames, grids_dir=grids))),
                       ("national offline", lambda: page_html(render(comp, catalog, frames, True, grids), True)),
                       ("explore()", lambda: explore_html(comp, frames))]:
        t = time.perf_counter()
        html = make()
        build[name] = time.perf_counter() - t
        pages[name] = out / (name.split()[0].strip("()") + ("-" + name.split()[1].strip("-") if " " in name else "")
                             + ".html")
        pages[name].write_text(html, encoding="utf-8")
    with chromium() as ctx:
        measure(ctx, pages["explore()"], 1)  # warm the browser once
        tti = {name: measure(ctx, path, args.runs) for name, path in pages.items()}
    size = {name: path.stat().st_size for name, path in pages.items()}
    print(f"{'page':<20} {'HTML bytes':>12} {'build s':>8} {'TTI ms':>8}")
    for name in pages:
        print(f"{name:<20} {size[name]:>12,} {build[name]:>8.2f} {tti[name]:>8.0f}")
    ref = "explore()"
    for name in pages:
        if name != ref:
            print(f"{name} / {ref}: size x{size[name] / size[ref]:.2f}, time to interactive x{tti[name] / tti[ref]:.2f}")
    off = "national offline"
    print(f"TTI ratio, offline national map (the default) / explore(): {tti[off] / tti[ref]:.2f} "
          f"(target <= 0.50), {size[off]:,} bytes (budget <= 1,500,000)")


if __name__ == "__main__":
    main()
