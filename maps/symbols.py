"""Catalog symbols drawn as Leaflet vector markers and as legend swatches (one mapping for both)."""
from __future__ import annotations

import folium

from geo.catalog import Symbol

# marker -> (number of sides, rotation in degrees) for folium.RegularPolygonMarker; circle is a CircleMarker
_POLYGONS = {"triangle": (3, 30), "square": (4, 45), "diamond": (4, 0), "star": (5, 18), "cross": (4, 45)}


def path_options(sym: Symbol, stroke: str | None = None, stroke_width: float | None = None) -> dict:
    """Leaflet path options of a symbol (optionally with a highlight outline)."""
    return {"color": stroke or sym.stroke, "weight": stroke_width or sym.stroke_width,
            "fill": True, "fill_color": sym.fill, "fill_opacity": sym.fill_opacity,
            "opacity": 1.0, "dash_array": sym.dash}


def point_marker(lat: float, lon: float, sym: Symbol, **extra) -> folium.Marker:
    """A vector marker with the symbol's shape, colours and size (pixels)."""
    opts = path_options(sym, extra.pop("stroke", None), extra.pop("stroke_width", None))
    if sym.marker == "circle":
        return folium.CircleMarker((lat, lon), radius=sym.size / 2, **opts, **extra)
    sides, rotation = _POLYGONS[sym.marker]
    return folium.RegularPolygonMarker((lat, lon), number_of_sides=sides, rotation=rotation,
                                       radius=sym.size / 2 + 1, **opts, **extra)


def swatch_svg(sym: Symbol, geometry: str, stroke: str | None = None, stroke_width: float | None = None,
               size: int = 18) -> str:
    """An inline SVG legend swatch for a symbol."""
    c, h = size / 2, size / 2 - 2
    st = (f'fill="{sym.fill}" fill-opacity="{sym.fill_opacity}" stroke="{stroke or sym.stroke}" '
          f'stroke-width="{stroke_width or sym.stroke_width}"')
    if "Point" not in geometry:
        shape = f'<rect x="2" y="4" width="{size - 4}" height="{size - 8}" {st}/>'
        if "Line" in geometry:
            shape = f'<line x1="2" y1="{c}" x2="{size - 2}" y2="{c}" stroke="{sym.stroke}" stroke-width="{sym.stroke_width + 1}"/>'
    elif sym.marker == "circle":
        shape = f'<circle cx="{c}" cy="{c}" r="{h}" {st}/>'
    elif sym.marker == "triangle":
        shape = f'<polygon points="{c},2 {size - 2},{size - 3} 2,{size - 3}" {st}/>'
    elif sym.marker == "square":
        shape = f'<rect x="3" y="3" width="{size - 6}" height="{size - 6}" {st}/>'
    else:
        shape = f'<polygon points="{c},1 {size - 1},{c} {c},{size - 1} 1,{c}" {st}/>'
    return f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" aria-hidden="true">{shape}</svg>'
