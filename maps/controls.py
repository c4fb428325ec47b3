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
from maps.features import SCALE, Group
from maps.i18n import Basemap, Labels, bi
from maps.search import entry


class LayerControl(JSCSSMixin, MacroElement):
    """leaflet-groupedlayercontrol: basemaps as exclusive choices, overlays grouped by composition group."""

    default_js = folium.plugins.GroupedLayerControl.default_js
    default_css = folium.plugins.GroupedLayerControl.default_css
    _template = Template("""{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function () {
  var defs = {{ this.basemaps_json() }}, base = {}, map = {{ this._parent.get_name() }};
  map.createPane("reeSea").style.zIndex = 150;
  defs.forEach(function (b) {
    var lyr = b.url ? L.tileLayer(b.url, {attribution: b.attribution, maxZoom: b.maxZoom})
      : b.sea ? L.rectangle(b.sea, {pane: "reeSea", stroke: false, fillColor: b.background, fillOpacity: 1, interactive: false})
      : L.layerGroup();
    base[b.label] = lyr;
    if (b.default) lyr.addTo({{ this._parent.get_name() }});
  });
  var groups = {}, spec = {{ this.groups_json() }};
  spec.forEach(function (g) { groups[g.label] = {}; g.layers.forEach(function (l) { groups[g.label][l[0]] = window[l[1]]; }); });
  return L.control.groupedLayers(base, groups, {collapsed: false}).addTo({{ this._parent.get_name() }});
})();
{% endmacro %}""")

    def __init__(self, basemaps: list[Basemap], default: str, groups: list[tuple[Text, list[Group]]],
                 sea: list | None = None):
        """``sea``: [[south, west], [north, east]] of the project's land data, painted in the "none"
        basemap's background colour (outside it the map shows Leaflet's grey: no data)."""
        super().__init__()
        self._name = "LayerControl"
        self.basemaps, self.default, self.groups, self.sea = basemaps, default, groups, sea

    def basemaps_json(self) -> str:
        return script_json([{"label": bi(b.label), "url": b.url, "attribution": b.attribution,
                             "maxZoom": b.max_zoom, "default": b.key == self.default, "background": b.background,
                             "sea": self.sea if b.url is None and b.background else None} for b in self.basemaps])

    def groups_json(self) -> str:
        return script_json([{"label": bi(label), "layers": [[bi(g.label), g.layer.get_name()] for g in gs]}
                            for label, gs in self.groups])


class Legend(MacroElement):
    """A legend box; each row names the layer(s) it explains and ree.js hides it while they are off."""

    _template = Template("""{% macro html(this, kwargs) %}{{ this.body() }}{% endmacro %}
{% macro script(this, kwargs) %}REE.legend({{ this._parent.get_name() }});{% endmacro %}""")

    def __init__(self, title: Text, rows: list[tuple[str, Text, list[Group]]]):
        super().__init__()
        self._name = "Legend"
        self.title, self.rows = title, rows

    def body(self) -> str:
        items = "".join(f'<div class="ree-legend-row" data-layer="{" ".join(g.layer.get_name() for g in gs)}">'
                        f'{svg} <span>{bi(text)}</span></div>' for svg, text, gs in self.rows)
        return (f'<div id="ree-legend" class="ree-legend"><div class="ree-legend-title">{bi(self.title)}</div>'
                f'{items}</div>')


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
REE.languageControl({{ this._parent.get_name() }}, {{ this.html }});
{% endmacro %}""")

    def __init__(self, label: Text):
        super().__init__()
        self._name = "Language"
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
    """Fullscreen, measure, metric scale bar and mouse coordinates."""
    Scale().add_to(m)
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


def page_assets(m: folium.Map, css: str, js: str, background: str | None) -> None:
    """The project's own stylesheet and script (always inlined: they are part of the map)."""
    extra = f".leaflet-control-minimap{{background:{background}!important}}" if background else ""
    # branca renders an Element's text as a Jinja template: keep the files out of its reach
    m.get_root().header.add_child(Element(f"{{% raw %}}<style>{css}{extra}</style>{{% endraw %}}"), name="ree_css")
    m.get_root().html.add_child(Element(f"{{% raw %}}<script>{js}</script>{{% endraw %}}"), name="ree_js")
