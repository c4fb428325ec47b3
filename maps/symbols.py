"""Catalog symbols as Leaflet path styles, marker icons and legend swatches (one mapping for all)."""
from __future__ import annotations

import math

from geo.catalog import Symbol


def leaflet_style(sym: Symbol, stroke: str | None = None, stroke_width: float | None = None) -> dict:
    """Leaflet path options of a symbol (optionally with a highlight outline)."""
    out = {"color": stroke or sym.stroke, "weight": stroke_width or sym.stroke_width, "opacity": 1.0,
           "fill": sym.fill_opacity > 0, "fillColor": sym.fill, "fillOpacity": sym.fill_opacity}
    if sym.dash:
        out["dashArray"] = sym.dash
    return out


def marker_size(sym: Symbol, stroke_width: float | None = None) -> int:
    """Icon box in pixels: the symbol's size plus room for its outline."""
    return int(round(sym.size + 2 * (stroke_width or sym.stroke_width) + 4))


def swatch_svg(sym: Symbol, geometry: str, stroke: str | None = None, stroke_width: float | None = None,
               size: int = 18) -> str:
    """An inline SVG of a symbol: the legend swatch, and the map marker of point layers."""
    c, h = size / 2, size / 2 - 2
    st = (f'fill="{sym.fill}" fill-opacity="{sym.fill_opacity}" stroke="{stroke or sym.stroke}" '
          f'stroke-width="{stroke_width or sym.stroke_width}"')
    if sym.hatch != "none" and "Point" not in geometry:
        st += f' style="fill-opacity:{min(1.0, sym.fill_opacity * 2.5):.2f}"'
    if "Point" not in geometry:
        shape = f'<rect x="2" y="4" width="{size - 4}" height="{size - 8}" {st}/>'
        if "Line" in geometry:
            shape = (f'<line x1="2" y1="{c}" x2="{size - 2}" y2="{c}" stroke="{sym.stroke}" '
                     f'stroke-width="{sym.stroke_width + 1}"/>')
    elif sym.marker == "circle":
        shape = f'<circle cx="{c}" cy="{c}" r="{h}" {st}/>'
    elif sym.marker == "triangle":
        shape = f'<polygon points="{c},2 {size - 2},{size - 3} 2,{size - 3}" {st}/>'
    elif sym.marker == "square":
        shape = f'<rect x="3" y="3" width="{size - 6}" height="{size - 6}" {st}/>'
    elif sym.marker == "star":  # five points, outer radius h + 1, inner 0.45 of it
        pts = [(c + r * math.sin(math.pi * k / 5), c - r * math.cos(math.pi * k / 5))
               for k, r in zip(range(10), [h + 1, 0.45 * (h + 1)] * 5)]
        shape = f'<polygon points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}" {st}/>'
    elif sym.marker == "cross":
        a, b = c - h / 3, c + h / 3
        shape = (f'<polygon points="{a:.1f},2 {b:.1f},2 {b:.1f},{a:.1f} {size - 2},{a:.1f} {size - 2},{b:.1f} '
                 f'{b:.1f},{b:.1f} {b:.1f},{size - 2} {a:.1f},{size - 2} {a:.1f},{b:.1f} 2,{b:.1f} 2,{a:.1f} '
                 f'{a:.1f},{a:.1f}" {st}/>')
    else:
        shape = f'<polygon points="{c},1 {size - 1},{c} {c},{size - 1} 1,{c}" {st}/>'
    return f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" aria-hidden="true">{shape}</svg>'
