"""Colour notations of the catalog's '#RRGGBB' + opacity, for the formats that need them."""
from __future__ import annotations


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def qgis_rgba(hex_colour: str, opacity: float = 1.0) -> str:
    """QGIS 'r,g,b,a' with alpha 0-255."""
    return ",".join(map(str, (*rgb(hex_colour), round(255 * opacity))))


def kml_abgr(hex_colour: str, opacity: float = 1.0) -> str:
    """KML 'aabbggrr'."""
    r, g, b = rgb(hex_colour)
    return f"{round(255 * opacity):02x}{b:02x}{g:02x}{r:02x}"


def hex_rgba(hex_colour: str, opacity: float = 1.0) -> str:
    """'#RRGGBBAA' (OGR feature style strings)."""
    return f"{hex_colour.upper()}{round(255 * opacity):02X}"
