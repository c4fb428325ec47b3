"""OGC SLD 1.1 / Symbology Encoding style generated from a catalog declaration, for non-QGIS tools."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from geo.catalog import Catalog, LayerSpec, Symbol
from geo.gpkg.qml import bilingual

SLD, SE, OGC = "http://www.opengis.net/sld", "http://www.opengis.net/se", "http://www.opengis.net/ogc"
for _prefix, _uri in (("sld", SLD), ("se", SE), ("ogc", OGC),
                      ("xlink", "http://www.w3.org/1999/xlink"), ("xsi", "http://www.w3.org/2001/XMLSchema-instance")):
    ET.register_namespace(_prefix, _uri)
_WKN = {"circle": ("circle", 0), "triangle": ("triangle", 0), "square": ("square", 0),
        "diamond": ("square", 45), "star": ("star", 0), "cross": ("cross", 0)}


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _param(parent: ET.Element, name: str, value) -> None:
    ET.SubElement(parent, _q(SE, "SvgParameter"), name=name).text = str(value)


def _fill_stroke(parent: ET.Element, sym: Symbol, stroke: str | None = None, width: float | None = None) -> None:
    if sym.fill_opacity > 0:
        fill = ET.SubElement(parent, _q(SE, "Fill"))
        _param(fill, "fill", sym.fill)
        _param(fill, "fill-opacity", sym.fill_opacity)
    st = ET.SubElement(parent, _q(SE, "Stroke"))
    _param(st, "stroke", stroke or sym.stroke)
    _param(st, "stroke-width", width or sym.stroke_width)
    if sym.dash:
        _param(st, "stroke-dasharray", sym.dash)


def _symbolizer(rule: ET.Element, geometry: str, sym: Symbol, stroke=None, width=None) -> None:
    if "Point" in geometry:
        graphic = ET.SubElement(ET.SubElement(rule, _q(SE, "PointSymbolizer")), _q(SE, "Graphic"))
        name, rotation = _WKN[sym.marker]
        mark = ET.SubElement(graphic, _q(SE, "Mark"))
        ET.SubElement(mark, _q(SE, "WellKnownName")).text = name
        _fill_stroke(mark, sym, stroke, width)
        ET.SubElement(graphic, _q(SE, "Size")).text = str(sym.size)
        if rotation:
            ET.SubElement(graphic, _q(SE, "Rotation")).text = str(rotation)
    elif "Line" in geometry:
        line = ET.SubElement(rule, _q(SE, "LineSymbolizer"))
        st = ET.SubElement(line, _q(SE, "Stroke"))
        _param(st, "stroke", sym.stroke)
        _param(st, "stroke-width", sym.stroke_width)
    else:
        _fill_stroke(ET.SubElement(rule, _q(SE, "PolygonSymbolizer")), sym, stroke, width)


def _equals(rule: ET.Element, pairs: list[tuple[str, str]], negate_last: bool = False) -> None:
    flt = ET.SubElement(rule, _q(OGC, "Filter"))
    parent = ET.SubElement(flt, _q(OGC, "And")) if len(pairs) > 1 else flt
    for i, (field, value) in enumerate(pairs):
        tag = "PropertyIsNotEqualTo" if negate_last and i == len(pairs) - 1 else "PropertyIsEqualTo"
        cmp = ET.SubElement(parent, _q(OGC, tag))
        ET.SubElement(cmp, _q(OGC, "PropertyName")).text = field
        ET.SubElement(cmp, _q(OGC, "Literal")).text = value


def _rule(fts: ET.Element, title: str, geometry: str, sym: Symbol, pairs: list, negate_last=False,
          stroke=None, width=None) -> None:
    rule = ET.SubElement(fts, _q(SE, "Rule"))
    ET.SubElement(rule, _q(SE, "Name")).text = title
    ET.SubElement(ET.SubElement(rule, _q(SE, "Description")), _q(SE, "Title")).text = title
    if pairs:
        _equals(rule, pairs, negate_last)
    _symbolizer(rule, geometry, sym, stroke, width)


def layer_sld(catalog: Catalog, spec: LayerSpec) -> str:
    """The SLD 1.1 document of a spatial layer's catalog style (one rule per category and highlight)."""
    root = ET.Element(_q(SLD, "StyledLayerDescriptor"), version="1.1.0")
    root.set("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation",
             "http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd")
    layer = ET.SubElement(root, _q(SLD, "NamedLayer"))
    ET.SubElement(layer, _q(SE, "Name")).text = spec.name
    style = ET.SubElement(layer, _q(SLD, "UserStyle"))
    ET.SubElement(style, _q(SE, "Name")).text = spec.name
    fts = ET.SubElement(style, _q(SE, "FeatureTypeStyle"))
    st, hl = spec.style, spec.style.highlight
    if st.category_field:
        dom = catalog.domain_of(spec.field(st.category_field))
        groups = [(bilingual(dom.values[c]) if dom else c, s, [(st.category_field, c)])
                  for c, s in st.categories.items()]
    else:
        groups = [(bilingual(spec.title), st.symbol, [])]
    for title, sym, pairs in groups:
        if hl:
            _rule(fts, title, spec.geometry, sym, pairs + [(hl.field, hl.value)], negate_last=True)
            _rule(fts, f"{title} — {bilingual(hl.label)}", spec.geometry, sym, pairs + [(hl.field, hl.value)],
                  stroke=hl.stroke, width=hl.stroke_width)
        else:
            _rule(fts, title, spec.geometry, sym, pairs)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
