"""The national map against ``GeoDataFrame.explore()`` of the same layers: HTML size and time to
interactive in headless Chromium (``maps/headless.py``), with ratios.

Every page is opened from file:// with no network: in the pages that link CDNs, each link that has a
vendored copy (``maps/web/offline.py``; folium's Leaflet 1.9.3 link gets the vendored 1.9.4) is rewritten to
the file:// URI of that copy and every other script or stylesheet link (jQuery, Bootstrap, Font Awesome)
is dropped, so no page waits on the network. (Playwright's request routing does not see requests made by
a file:// page with Debian's Chromium: the links are rewritten instead. Tile requests of the --cdn page
still fail on DNS.) Time to interactive: ms from navigation start to the second
animation frame after the load event, median of RUNS loads.
Usage: python -m bench.maps [--runs N]
"""
from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from geo.catalog import load_catalog
from layers import CATALOG_DIR
from layers.load import load_layers
from maps.composition import load_compositions
from maps.headless import chromium, time_to_interactive
from maps.web.offline import LOCAL, VENDOR
from layers.model.overlay import GRIDS_DIR
from maps.web.render import page_html, render

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


_LINK = re.compile(r'<script src="(https?://[^"]+)"></script>|<link rel="stylesheet" href="(https?://[^"]+)"\s*/>')


def localise(html: str) -> str:
    """``html`` with CDN links pointing at the vendored files, links with no vendored copy dropped."""
    def sub(m: re.Match) -> str:
        url = m.group(1) or m.group(2)
        local = LOCAL.get(url) or EXTRA.get(url)
        if not local:
            return ""
        uri = (VENDOR / local).as_uri()
        return f'<script src="{uri}"></script>' if m.group(1) else f'<link rel="stylesheet" href="{uri}"/>'
    return _LINK.sub(sub, html)


def measure(ctx, path: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        page = ctx.new_page()
        page.goto(path.as_uri(), wait_until="load")
        times.append(time_to_interactive(page))
        if page.evaluate("() => window.REE !== undefined && REE.ready === null"):
            raise RuntimeError(f"{path}: the map script did not finish")
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
        pages[name].write_text(localise(html), encoding="utf-8")
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
