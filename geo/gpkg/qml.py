"""QGIS layer style (QML) generated from a catalog declaration.

Written in QGIS's long-standing ``<prop k= v=>`` symbol-layer form, which QGIS 3.22 LTR and later
read; sizes and widths in pixels so QGIS matches the web map. Field aliases are "vi / en", and
coded-value fields get a value map showing the bilingual label.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from geo.catalog import Catalog, Highlight, LayerSpec, Symbol
from geo.colour import qgis_rgba

QGIS_VERSION = "3.22.0"
_HATCH = {"diagonal": "f_diagonal", "back_diagonal": "b_diagonal", "cross": "diagonal_x",
          "horizontal": "horizontal", "vertical": "vertical"}
_GEOMETRY_TYPE = {"Point": "0", "MultiPoint": "0", "LineString": "1", "MultiLineString": "1",
                  "Polygon": "2", "MultiPolygon": "2"}


def bilingual(text) -> str:
    return text.vi if text.vi == text.en else f"{text.vi} — {text.en}"


def _props(layer: ET.Element, props: dict[str, str]) -> None:
    for k, v in props.items():
        ET.SubElement(layer, "prop", k=k, v=str(v))


def _dd_outline(layer: ET.Element, hl: Highlight, base_width: float, base_colour: str, width_key: str,
                colour_key: str) -> None:
    """Data-defined outline for highlighted features (e.g. Th/U flag)."""
    cond = f"\"{hl.field}\" = '{hl.value}'"
    ddp = ET.SubElement(layer, "data_defined_properties")
    root = ET.SubElement(ddp, "Option", type="Map")
    ET.SubElement(root, "Option", name="name", type="QString", value="")
    props = ET.SubElement(root, "Option", name="properties", type="Map")
    for key, expr in ((width_key, f"CASE WHEN {cond} THEN {hl.stroke_width} ELSE {base_width} END"),
                      (colour_key, f"CASE WHEN {cond} THEN '{qgis_rgba(hl.stroke)}' ELSE '{qgis_rgba(base_colour)}' END")):
        p = ET.SubElement(props, "Option", name=key, type="Map")
        ET.SubElement(p, "Option", name="active", type="bool", value="true")
        ET.SubElement(p, "Option", name="expression", type="QString", value=expr)
        ET.SubElement(p, "Option", name="type", type="int", value="3")
    ET.SubElement(root, "Option", name="type", type="QString", value="collection")


def _symbol(parent: ET.Element, name: str, geometry: str, sym: Symbol, hl: Highlight | None) -> None:
    kind = "marker" if "Point" in geometry else "line" if "Line" in geometry else "fill"
    s = ET.SubElement(parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    dash = {"outline_style": "dash"} if sym.dash else {"outline_style": "solid"}
    if kind == "marker":
        lay = ET.SubElement(s, "layer", {"class": "SimpleMarker", "enabled": "1", "locked": "0", "pass": "0"})
        _props(lay, {"name": sym.marker, "color": qgis_rgba(sym.fill, sym.fill_opacity),
                     "outline_color": qgis_rgba(sym.stroke), "outline_width": sym.stroke_width,
                     "outline_width_unit": "Pixel", "size": sym.size, "size_unit": "Pixel",
                     "angle": "0", **dash})
        if hl:
            _dd_outline(lay, hl, sym.stroke_width, sym.stroke, "outlineWidth", "outlineColor")
    elif kind == "line":
        lay = ET.SubElement(s, "layer", {"class": "SimpleLine", "enabled": "1", "locked": "0", "pass": "0"})
        _props(lay, {"line_color": qgis_rgba(sym.stroke), "line_width": sym.stroke_width,
                     "line_width_unit": "Pixel", "line_style": "dash" if sym.dash else "solid"})
    else:
        lay = ET.SubElement(s, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"})
        _props(lay, {"color": qgis_rgba(sym.fill, sym.fill_opacity),
                     "style": "solid" if sym.fill_opacity > 0 else "no",
                     "outline_color": qgis_rgba(sym.stroke), "outline_width": sym.stroke_width,
                     "outline_width_unit": "Pixel", **dash})
        if hl:
            _dd_outline(lay, hl, sym.stroke_width, sym.stroke, "strokeWidth", "strokeColor")
        if sym.hatch != "none":
            hatch = ET.SubElement(s, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"})
            _props(hatch, {"color": qgis_rgba(sym.stroke), "style": _HATCH[sym.hatch],
                           "outline_style": "no", "outline_width": "0", "outline_width_unit": "Pixel"})


def _renderer(root: ET.Element, catalog: Catalog, spec: LayerSpec) -> None:
    st = spec.style
    if st.category_field:
        r = ET.SubElement(root, "renderer-v2", type="categorizedSymbol", attr=st.category_field,
                          symbollevels="0", enableorderby="0", forceraster="0")
        cats, syms = ET.SubElement(r, "categories"), ET.SubElement(r, "symbols")
        dom = catalog.domain_of(spec.field(st.category_field))
        for i, (code, sym) in enumerate(st.categories.items()):
            label = bilingual(dom.values[code]) if dom else code
            ET.SubElement(cats, "category", render="true", symbol=str(i), value=code, label=label)
            _symbol(syms, str(i), spec.geometry, sym, st.highlight)
    else:
        r = ET.SubElement(root, "renderer-v2", type="singleSymbol", symbollevels="0",
                          enableorderby="0", forceraster="0")
        _symbol(ET.SubElement(r, "symbols"), "0", spec.geometry, st.symbol, st.highlight)


def _fields(root: ET.Element, catalog: Catalog, spec: LayerSpec) -> None:
    conf = ET.SubElement(root, "fieldConfiguration")
    for f in spec.fields:
        el = ET.SubElement(conf, "field", name=f.name, configurationFlags="None")
        dom = catalog.domain_of(f)
        if dom and not f.is_list:
            w = ET.SubElement(el, "editWidget", type="ValueMap")
            opt = ET.SubElement(ET.SubElement(w, "config"), "Option", type="Map")
            lst = ET.SubElement(opt, "Option", name="map", type="List")
            for code, text in dom.values.items():
                item = ET.SubElement(lst, "Option", type="Map")
                ET.SubElement(item, "Option", name=bilingual(text), type="QString", value=code)
        else:
            ET.SubElement(el, "editWidget", type="TextEdit")
    aliases = ET.SubElement(root, "aliases")
    for i, f in enumerate(spec.fields):
        unit = f" [{f.unit}]" if f.unit else ""
        ET.SubElement(aliases, "alias", field=f.name, index=str(i), name=bilingual(f.alias) + unit)


def _labels(root: ET.Element, spec: LayerSpec) -> None:
    if not spec.style.label_field:
        return
    lab = ET.SubElement(root, "labeling", type="simple")
    settings = ET.SubElement(lab, "settings", calloutType="simple")
    ET.SubElement(settings, "text-style", fieldName=spec.style.label_field, isExpression="0",
                  fontSize="8", fontSizeUnit="Point", textColor="50,50,50,255", fontFamily="Sans Serif")
    ET.SubElement(settings, "text-buffer", bufferDraw="1", bufferSize="0.8", bufferColor="255,255,255,255")
    ET.SubElement(settings, "placement", placement="1" if "Point" in spec.geometry else "0", dist="1.5")
    always = spec.style.labels_always  # e.g. the archipelagos' names: shown at every scale
    ET.SubElement(settings, "rendering", scaleVisibility="0" if always else "1", scaleMin="1", scaleMax="2000000")
    root.set("labelsEnabled", "1")


def layer_qml(catalog: Catalog, spec: LayerSpec) -> str:
    """The QML document of a spatial layer's catalog style."""
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="AllStyleCategories", labelsEnabled="0")
    _renderer(root, catalog, spec)
    _labels(root, spec)
    _fields(root, catalog, spec)
    ET.SubElement(root, "layerGeometryType").text = _GEOMETRY_TYPE[spec.geometry]
    body = ET.tostring(root, encoding="unicode")
    return f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n{body}\n"


def raster_qml(ramp: tuple[str, ...], title: str, vmin: float = 0.0, vmax: float = 1.0, opacity: float = 1.0) -> str:
    """A single-band pseudocolour QML: ``ramp`` (low -> high, evenly spaced over [vmin, vmax]) interpolated,
    the band's nodata transparent. QGIS applies it as the default style of ``NAME.tif`` when it lies
    beside it as ``NAME.qml``."""
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="AllStyleCategories",
                      hasScaleBasedVisibilityFlag="0", minScale="1e+08", maxScale="0")
    pipe = ET.SubElement(root, "pipe")
    rr = ET.SubElement(pipe, "rasterrenderer", type="singlebandpseudocolor", band="1", opacity=f"{opacity:g}",
                       alphaBand="-1", classificationMin=f"{vmin:g}", classificationMax=f"{vmax:g}", nodataColor="")
    ET.SubElement(rr, "rasterTransparency")
    mmo = ET.SubElement(rr, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"), ("statAccuracy", "Estimated"),
                      ("cumulativeCutLower", "0.02"), ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(mmo, tag).text = text
    shader = ET.SubElement(ET.SubElement(rr, "rastershader"), "colorrampshader", colorRampType="INTERPOLATED",
                           classificationMode="1", clip="0", minimumValue=f"{vmin:g}", maximumValue=f"{vmax:g}",
                           labelPrecision="2")
    stops = [vmin + (vmax - vmin) * i / (len(ramp) - 1) for i in range(len(ramp))]
    cramp = ET.SubElement(shader, "colorramp", type="gradient", name="[source]")
    inner = ";".join(f"{(v - vmin) / (vmax - vmin):g};{qgis_rgba(c)}" for v, c in zip(stops[1:-1], ramp[1:-1]))
    _props(cramp, {"color1": qgis_rgba(ramp[0]), "color2": qgis_rgba(ramp[-1]), "discrete": "0",
                   "rampType": "gradient", "stops": inner})
    for v, c in zip(stops, ramp):
        ET.SubElement(shader, "item", alpha="255", value=f"{v:g}", label=f"{v:g}", color=c.lower())
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(pipe, "huesaturation", saturation="0", grayscaleMode="0", colorizeOn="0", colorizeRed="255",
                  colorizeGreen="128", colorizeBlue="128", colorizeStrength="100", invertColors="0")
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(root, "blendMode").text = "0"
    md = ET.SubElement(root, "layerMetadata")
    ET.SubElement(md, "title").text = title
    body = ET.tostring(root, encoding="unicode")
    return f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n{body}\n"
