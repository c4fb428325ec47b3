"""Map controls: grouped layer control with basemaps, legend, search box, language switch, minimap and
the standard tools (fullscreen, measure, scale, mouse coordinates). Element names are read when the page
renders, so they follow the sequential ids of ``render._fix_ids``."""
from __future__ import annotations

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, MeasureControl, MiniMap, MousePosition
from jinja2 import Template

from geo.catalog import Text
from maps.escape import safe, script_json
from maps.web.features import SCALE, Group
from maps.i18n import Basemap, Labels, bi
from maps.web.search import entry


OPEN_GROUPS = ("deposits", "zones")  # layer-control groups open on a wide screen; the others start folded
EXCLUSIVE_GROUPS = ("grids",)  # one layer at a time: a second grid replaces the first


class LayerControl(MacroElement):
    """The layer control (``REE.layerControl``): basemaps as exclusive choices and overlays in groups
    that fold (``<details>``), in a panel that never exceeds the window; folded to a button on a phone."""

    _template = Template("""{% macro script(this, kwargs) %}
var {{ this.get_name() }} = REE.layerControl({{ this._parent.get_name() }}, {{ this.config_json() }});
{% endmacro %}""")

    def __init__(self, labels: Labels, basemaps: list[Basemap], default: str,
                 groups: list[tuple[str, list[Group]]], sea: list | None = None):
        """``sea``: [[south, west], [north, east]] of the project's land data, painted in the "none"
        basemap's background colour (outside it the map shows Leaflet's grey: no data)."""
        super().__init__()
        self._name = "LayerControl"
        self.labels, self.basemaps, self.default, self.groups, self.sea = labels, basemaps, default, groups, sea

    def config_json(self) -> str:
        return script_json({
            "title": bi(self.labels.ui["layers"]), "basemapsLabel": bi(self.labels.groups["basemaps"]),
            "basemaps": [{"label": bi(b.label), "url": b.url, "attribution": b.attribution, "maxZoom": b.max_zoom,
                          "default": b.key == self.default, "background": b.background,
                          "sea": self.sea if b.url is None and b.background else None} for b in self.basemaps],
            "groups": [{"key": key, "label": bi(self.labels.groups[key]), "open": key in OPEN_GROUPS,
                        "exclusive": key in EXCLUSIVE_GROUPS,
                        "layers": [[bi(g.label), g.layer.get_name(), safe(getattr(g, "key", "") or "")] for g in gs]}
                       for key, gs in self.groups]})


class Legend(MacroElement):
    """The legend, a control above the scale bar: one heading per layer-control group (Deposits, Zones,
    Grids, Administrative, Base); each row names the layer(s) it explains and ree.js hides it (and an
    empty group's heading) while they are off. Folded to its title on a phone."""

    _template = Template("""{% macro html(this, kwargs) %}{{ this.body() }}{% endmacro %}
{% macro script(this, kwargs) %}REE.legend({{ this._parent.get_name() }});{% endmacro %}""")

    def __init__(self, title: Text, groups: list[tuple[str, Text, list[tuple[str, str, list[Group]]]]]):
        """``groups``: (key, heading, rows) with rows (swatch HTML, label HTML, groups it explains)."""
        super().__init__()
        self._name = "Legend"
        self.title, self.groups = title, groups

    def body(self) -> str:
        parts = []
        for key, heading, rows in self.groups:
            items = "".join(f'<div class="ree-legend-row" data-layer="{" ".join(g.layer.get_name() for g in gs)}">'
                            f'{svg} <span>{label}</span></div>' for svg, label, gs in rows)
            parts.append(f'<div class="ree-legend-group" data-group="{safe(key)}">'
                         f'<div class="ree-legend-heading">{bi(heading)}</div>{items}</div>')
        return (f'<div id="ree-legend" class="ree-legend"><details open><summary class="ree-legend-title">'
                f'{bi(self.title)}</summary><div class="ree-legend-body">{"".join(parts)}</div></details></div>')


class About(MacroElement):
    """The one-line attribution (a link to this panel) and the "About / Sources" panel: every layer's
    attribution and licence from the catalog, the basemaps' credits from labels.toml."""

    _template = Template("""{% macro html(this, kwargs) %}{{ this.body }}{% endmacro %}
{% macro script(this, kwargs) %}REE.about({{ this._parent.get_name() }}, {{ this.prefix }});{% endmacro %}""")

    def __init__(self, labels: Labels, title: Text, layers: list[tuple[Text, str, str]], basemaps: list[Basemap],
                 grids: list[tuple[Text, list[str]]] = (), built: str = ""):
        """``layers``: (title, attribution, licence) of every layer drawn; ``grids``: (model title,
        citations as safe HTML) of every prospectivity grid on the map; ``built``: the build date."""
        super().__init__()
        self._name = "About"
        ui = labels.ui
        rows = "".join(f"<tr><th>{bi(t)}</th><td>{safe(a)}</td><td>{safe(lic)}</td></tr>" for t, a, lic in layers)
        grid_part = "".join(f"<h4>{bi(t)}</h4><ul>{''.join(f'<li>{c}</li>' for c in cites)}</ul>" for t, cites in grids)
        if grid_part:
            grid_part = f'<section class="ree-about-grids"><h4>{bi(labels.groups["grids"])}</h4>{grid_part}</section>'
        date = f'<p class="ree-built">{bi(ui["built"])}: {safe(built)}</p>' if built else ""
        # basemap credits are the project's own HTML (labels.toml), shown as the tile providers ask
        tiles = "".join(f"<li>{bi(b.label)}: {b.attribution}</li>" for b in basemaps if b.attribution)
        self.body = (f'<div id="ree-about" class="ree-about" role="dialog" hidden>'
                     f'<button type="button" class="ree-about-close" title="{safe(ui["close"].vi)} / '
                     f'{safe(ui["close"].en)}">×</button><h3>{bi(title)}</h3><p>{bi(ui["about_intro"])}</p>'
                     f'<table><tr><th></th><th>{bi(ui["sources"])}</th><th>{bi(ui["licence"])}</th></tr>{rows}</table>'
                     f'{grid_part}<h4>{bi(labels.groups["basemaps"])}</h4><ul>{tiles}</ul>{date}'
                     f'<p>Leaflet 1.9.4 (BSD-2-Clause) · Leaflet.MiniMap (BSD-2-Clause) · leaflet.fullscreen, '
                     f'leaflet-measure, Leaflet.MousePosition (MIT)</p></div>')
        self.prefix = script_json(f'<a href="#" class="ree-about-link">{bi(ui["about"])}</a> · {bi(ui["credits"])}')


def grid_sources(types: list[str], refs, spec) -> list[tuple[Text, list[str]]]:
    """Per modelled type on the map: its title and the citations (safe HTML) of its operator and every
    evidence of its model ``spec`` (the model that made the grids), in model order, each once."""
    from maps.web.popup import citation
    out = []
    for t in types:
        model = spec.types[t]
        ids = list(dict.fromkeys([*model.refs, *(r for e in model.evidence for r in e.refs)]))
        out.append((model.title, [citation(refs.loc[i]) if refs is not None and i in refs.index else safe(i) for i in ids]))
    return out


class Title(MacroElement):
    """The map's title, on the map (a strip across its top; the controls sit below it)."""

    _template = Template("""{% macro html(this, kwargs) %}<div class="ree-title" role="heading" aria-level="1">{{ this.text }}</div>{% endmacro %}
{% macro script(this, kwargs) %}REE.title({{ this._parent.get_name() }});{% endmacro %}""")

    def __init__(self, title: Text):
        super().__init__()
        self._name = "Title"
        self.text = bi(title)


class View(MacroElement):
    """The opening view and the URL hash: ``#map=zoom/lat/lon&lang=..&layers=..`` reopens the same map;
    with no hash the view widens to ``fit`` when it does not hold it (a phone) and ``grid`` is shown."""

    _template = Template("""{% macro script(this, kwargs) %}REE.view({{ this._parent.get_name() }}, {{ this.config }});{% endmacro %}""")

    def __init__(self, fit: list | None, grid: str | None):
        super().__init__()
        self._name = "View"
        self.config = script_json({"fit": fit, "grid": grid})


class Search(MacroElement):
    """The accent-insensitive search box over the features of every group with a label field."""

    _template = Template("""{% macro script(this, kwargs) %}
REE.searchControl({{ this._parent.get_name() }}, {{ this.index_json() }}, {{ this.labels_json() }},
  {{ this.box_json() }});
{% endmacro %}""")

    def __init__(self, labels: Labels, groups: list[Group]):
        super().__init__()
        self._name = "Search"
        self.labels, self.groups = labels, groups

    def index_json(self) -> str:
        rows = [entry(name, key, g.layer.get_name()) for g in self.groups for name, key in g.search]
        return script_json(sorted(rows, key=lambda e: (e["f"], e["k"])))

    def labels_json(self) -> str:
        return script_json({g.layer.get_name(): bi(g.label) for g in self.groups if g.search})

    def box_json(self) -> str:
        t, nm = self.labels.ui["search"], self.labels.ui["no_match"]
        return script_json(f'<input type="search" placeholder="{safe(t.vi)}" data-placeholder-vi="{safe(t.vi)}" '
                           f'data-placeholder-en="{safe(t.en)}" aria-label="{safe(t.vi)} / {safe(t.en)}">'
                           f'<span class="ree-nomatch">{bi(nm)}</span><ul></ul>')


class Language(MacroElement):
    """Tiếng Việt / English buttons; Vietnamese is the default."""

    _template = Template("""{% macro script(this, kwargs) %}
REE.languageControl({{ this._parent.get_name() }}, {{ this.html }}, {{ this.controls }});
{% endmacro %}""")

    def __init__(self, label: Text, controls: dict[str, Text] | None = None):
        """``controls``: the plugins' English texts and their two languages (labels.toml [controls])."""
        super().__init__()
        self._name = "Language"
        self.controls = script_json({k: {"vi": v.vi, "en": v.en} for k, v in (controls or {}).items()})
        self.html = script_json(f'<button type="button" data-lang="vi" title="{safe(label.vi)}">VI</button>'
                                f'<button type="button" data-lang="en" title="{safe(label.en)}">EN</button>')


class LandMiniMap(JSCSSMixin, MacroElement):
    """Leaflet-MiniMap over a coarse copy of the project's land layer (no tiles, works offline)."""

    default_js = MiniMap.default_js
    default_css = MiniMap.default_css
    _template = Template("""{% macro script(this, kwargs) %}
var {{ this.get_name() }} = new L.Control.MiniMap(
  REE.geoJSON({{ this.data }}, {{ this.scale }}, {style: {{ this.style }}, interactive: false}),
  {position: "bottomright", toggleDisplay: true, zoomLevelFixed: 3, width: 150, height: 150}
).addTo({{ this._parent.get_name() }});
{% endmacro %}""")

    def __init__(self, data: dict, style: dict):
        super().__init__()
        self._name = "LandMiniMap"
        self.data, self.style, self.scale = script_json(data), script_json(style), SCALE


class Scale(MacroElement):
    """A metric scale bar."""

    _template = Template("""{% macro script(this, kwargs) %}
L.control.scale({imperial: false, position: "bottomleft"}).addTo({{ this._parent.get_name() }});
{% endmacro %}""")

    def __init__(self):
        super().__init__()
        self._name = "Scale"


def add_tools(m: folium.Map) -> None:
    """Fullscreen, measure and mouse coordinates (the scale bar goes in before the legend, below it)."""
    Fullscreen(position="topleft").add_to(m)
    MeasureControl(position="topleft", primary_length_unit="kilometers", secondary_length_unit="meters",
                   primary_area_unit="hectares", secondary_area_unit="sqmeters").add_to(m)
    MousePosition(position="bottomright", separator=" , ", num_digits=4, prefix="WGS84:",
                  empty_string="").add_to(m)


class Ready(MacroElement):
    """Marks the end of the page's map script: ``REE.ready`` is the time everything was drawn."""

    _template = Template("""{% macro script(this, kwargs) %}REE.ready = performance.now();{% endmacro %}""")

    def __init__(self):
        super().__init__()
        self._name = "Ready"


def _default_icon() -> str:
    """Leaflet's default marker images as data URIs (a plugin's transient marker asked for
    ``marker-icon.png`` beside the offline page: a failed request)."""
    import base64
    from maps.web.offline import VENDOR
    d = VENDOR / "leaflet@1.9.4" / "dist" / "images"
    uri = {k: "data:image/png;base64," + base64.b64encode((d / f).read_bytes()).decode("ascii")
           for k, f in (("iconUrl", "marker-icon.png"), ("iconRetinaUrl", "marker-icon-2x.png"),
                        ("shadowUrl", "marker-shadow.png"))}
    return f"L.Icon.Default.imagePath = '';L.Icon.Default.mergeOptions({script_json(uri)});"


def page_assets(m: folium.Map, css: str, js: str, background: str | None) -> None:
    """The project's own stylesheet and script (always inlined: they are part of the map)."""
    extra = f".leaflet-control-minimap{{background:{background}!important}}" if background else ""
    # branca renders an Element's text as a Jinja template: keep the files out of its reach
    m.get_root().header.add_child(Element(f"{{% raw %}}<style>{css}{extra}</style>{{% endraw %}}"), name="ree_css")
    m.get_root().html.add_child(Element(f"{{% raw %}}<script>{js}{_default_icon()}</script>{{% endraw %}}"),
                                name="ree_js")
