"""The layer catalog: one declaration per layer, loaded from TOML and validated as a whole.

A catalog directory holds ``domains.toml`` (coded-value domains shared by layers) and one
``<layer>.toml`` per layer (dot-files are skipped: they are temporaries or backups). :func:`load_catalog` reads them all and raises a single
:class:`~geo.errors.CatalogError` naming every problem (file and key) it found.
Everything else (GeoPackage writer, QGIS and web styles, legends, exports, tests) reads the
resulting :class:`Catalog` and nothing else.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

from geo.errors import CatalogError, Problem
from geo.files.tomlfile import toml_problems

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
FIELD_TYPES = ("string", "integer", "real", "boolean", "date")
MARKERS = ("circle", "triangle", "square", "diamond", "star", "cross")
HATCHES = ("none", "diagonal", "back_diagonal", "cross", "horizontal", "vertical")
LANGS = ("vi", "en")
HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Text:
    """A bilingual text: Vietnamese first, English second."""

    vi: str
    en: str

    def __getitem__(self, lang: str) -> str:
        return getattr(self, lang)


@dataclass(frozen=True)
class Domain:
    """A coded-value domain: stored code -> bilingual label, in declared order."""

    name: str
    description: Text
    values: dict[str, Text]


@dataclass(frozen=True)
class Symbol:
    """How one feature (or one category of features) is drawn."""

    fill: str
    stroke: str
    fill_opacity: float = 0.8
    stroke_width: float = 1.0
    marker: str = "circle"
    size: float = 8.0  # marker diameter in pixels (points) at its smallest
    hatch: str = "none"
    dash: str | None = None  # e.g. "4 2" for a dashed outline


@dataclass(frozen=True)
class Highlight:
    """Features whose ``field`` equals ``value`` get an extra outline (e.g. radioactivity flag)."""

    field: str
    value: str
    stroke: str
    stroke_width: float
    label: Text


@dataclass(frozen=True)
class Style:
    """A single symbol, or one symbol per value of a categorical field."""

    symbol: Symbol
    category_field: str | None = None
    categories: dict[str, Symbol] = field(default_factory=dict)
    size_field: str | None = None  # numeric field scaling the marker size (sqrt), optional
    label_field: str | None = None
    highlight: Highlight | None = None
    uncertainty_field: str | None = None  # point layers: a field of position uncertainty in metres
    labels_always: bool = False  # show the label field on the map at all times, not only on hover
    # place names: the label field is drawn as a name (a polygon's at a representative point) from this web
    # zoom on, or from each feature's own zoom in ``label_zoom_field`` (maps/web/place_labels.py, the print sheets)
    label_min_zoom: int | None = None
    label_zoom_field: str | None = None

    def symbol_for(self, value: Any) -> Symbol:
        return self.categories.get(value, self.symbol) if self.category_field else self.symbol


@dataclass(frozen=True)
class FieldSpec:
    """One attribute of a layer."""

    name: str
    type: str
    alias: Text
    required: bool = False
    unique: bool = False
    unit: str | None = None
    domain: str | None = None
    is_list: bool = False  # a ';'-separated list of values
    foreign_key: str | None = None  # "layer.field" every (list) value must exist in
    description: Text | None = None
    computed: bool = False  # filled by the build (e.g. from a crosswalk), not read from the source
    min: float | None = None  # numeric fields: the smallest and largest value a source may give
    max: float | None = None


@dataclass(frozen=True)
class Source:
    """Where a layer's features come from: files under the catalog's data root, or a builder."""

    files: tuple[str, ...] = ()
    lon: str | None = None  # point layers from a table: the longitude / latitude columns
    lat: str | None = None
    builder: str | None = None  # name of a function that derives the layer from others
    inputs: tuple[str, ...] = ()  # layers a builder reads
    params: str | None = None  # a plain-text file of a builder's declared rules and parameters


@dataclass(frozen=True)
class LayerSpec:
    """The one declaration of a layer."""

    name: str
    path: Path
    title: Text
    description: Text
    geometry: str | None  # None for a non-spatial table
    fields: tuple[FieldSpec, ...]
    source: Source
    attribution: str
    licence: str
    style: Style | None
    order: int = 100
    cites: tuple[str, ...] = ()  # reference ids that apply to the whole layer (e.g. a base map's source)

    @property
    def spatial(self) -> bool:
        return self.geometry is not None

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def source_fields(self) -> list[FieldSpec]:
        """The fields read from the source files (all but the computed ones)."""
        return [f for f in self.fields if not f.computed]


@dataclass(frozen=True)
class Catalog:
    """Every layer and domain, validated together."""

    root: Path
    layers: dict[str, LayerSpec]
    domains: dict[str, Domain]
    imported: tuple[str, ...] = ()  # layers a user imported (`geo import`), declared outside the catalog

    def __iter__(self) -> Iterator[LayerSpec]:
        return iter(self.layers.values())

    def __getitem__(self, name: str) -> LayerSpec:
        return self.layers[name]

    def domain_of(self, f: FieldSpec) -> Domain | None:
        return self.domains.get(f.domain) if f.domain else None


class _Reader:
    """Pull typed values out of a TOML table, recording problems instead of raising."""

    def __init__(self, path: Path, problems: list[Problem]):
        self.path, self.problems = path, problems

    def problem(self, key: str, message: str, value: Any = None, fix: str | None = None) -> None:
        self.problems.append(Problem(file=str(self.path), field=key, message=message,
                                     value=value, fix=fix))

    def get(self, table: dict, key: str, kind: type | tuple, where: str, required: bool = True,
            default: Any = None, choices: tuple | None = None) -> Any:
        full = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                self.problem(full, "missing required key", fix=f"add '{key} = …'")
            return default
        value = table[key]
        if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.problem(full, f"must be a {names}", value)
            return default
        if choices is not None and value not in choices:
            self.problem(full, "unknown value", value, fix=f"use one of {', '.join(map(str, choices))}")
            return default
        return value

    def text(self, table: dict, key: str, where: str, required: bool = True) -> Text | None:
        sub = self.get(table, key, dict, where, required=required)
        if sub is None:
            return None
        full = f"{where}.{key}" if where else key
        vals = [self.get(sub, lang, str, full) for lang in LANGS]
        return Text(*vals) if all(vals) else None

    def colour(self, table: dict, key: str, where: str, default: str | None = None) -> str | None:
        value = self.get(table, key, str, where, required=default is None, default=default)
        if value is not None and not HEX_COLOUR.match(value):
            self.problem(f"{where}.{key}", "colour must be '#RRGGBB'", value)
        return value

    def unknown_keys(self, table: dict, allowed: set[str], where: str) -> None:
        for key in sorted(set(table) - allowed):
            self.problem(f"{where}.{key}" if where else key, "unknown key",
                         fix=f"remove it or use one of {', '.join(sorted(allowed))}")


TableReader = _Reader  # public name: other TOML loaders check their tables with it


def _symbol(r: _Reader, t: dict, where: str, base: Symbol | None = None) -> Symbol:
    allowed = {"fill", "stroke", "fill_opacity", "stroke_width", "marker", "size", "hatch", "dash"}
    r.unknown_keys(t, allowed, where)
    b = base
    return Symbol(
        fill=r.colour(t, "fill", where, b.fill if b else None) or "#000000",
        stroke=r.colour(t, "stroke", where, b.stroke if b else None) or "#000000",
        fill_opacity=float(r.get(t, "fill_opacity", (int, float), where, False, b.fill_opacity if b else 0.8)),
        stroke_width=float(r.get(t, "stroke_width", (int, float), where, False, b.stroke_width if b else 1.0)),
        marker=r.get(t, "marker", str, where, False, b.marker if b else "circle", MARKERS) or "circle",
        size=float(r.get(t, "size", (int, float), where, False, b.size if b else 8.0)),
        hatch=r.get(t, "hatch", str, where, False, b.hatch if b else "none", HATCHES) or "none",
        dash=r.get(t, "dash", str, where, False, b.dash if b else None),
    )


def _highlight(r: _Reader, t: dict | None) -> Highlight | None:
    if t is None:
        return None
    where = "style.highlight"
    r.unknown_keys(t, {"field", "value", "stroke", "stroke_width", "label"}, where)
    return Highlight(field=r.get(t, "field", str, where) or "", value=r.get(t, "value", str, where) or "",
                     stroke=r.colour(t, "stroke", where) or "#000000",
                     stroke_width=float(r.get(t, "stroke_width", (int, float), where, False, 3.0)),
                     label=r.text(t, "label", where) or Text("", ""))


def _style(r: _Reader, t: dict) -> Style:
    where = "style"
    r.unknown_keys(t, {"symbol", "category_field", "categories", "size_field", "label_field",
                       "highlight", "uncertainty_field", "labels_always", "label_min_zoom",
                       "label_zoom_field"}, where)
    base = _symbol(r, r.get(t, "symbol", dict, where, default={}) or {}, "style.symbol")
    cats = {}
    for code, sub in (r.get(t, "categories", dict, where, required=False, default={}) or {}).items():
        if isinstance(sub, dict):
            cats[code] = _symbol(r, sub, f"style.categories.{code}", base)
        else:
            r.problem(f"style.categories.{code}", "must be a table of symbol keys", sub)
    return Style(symbol=base,
                 category_field=r.get(t, "category_field", str, where, required=bool(cats)),
                 categories=cats,
                 size_field=r.get(t, "size_field", str, where, required=False),
                 label_field=r.get(t, "label_field", str, where, required=False),
                 highlight=_highlight(r, r.get(t, "highlight", dict, where, required=False)),
                 uncertainty_field=r.get(t, "uncertainty_field", str, where, required=False),
                 labels_always=r.get(t, "labels_always", bool, where, False, False),
                 label_min_zoom=r.get(t, "label_min_zoom", int, where, False),
                 label_zoom_field=r.get(t, "label_zoom_field", str, where, False))


def _fields(r: _Reader, items: Any) -> list[FieldSpec]:
    out = []
    if not isinstance(items, list) or not items:
        r.problem("fields", "must be a non-empty array of [[fields]] tables", items)
        return out
    allowed = {"name", "type", "alias", "required", "unique", "unit", "domain", "list",
               "foreign_key", "description", "computed", "min", "max"}
    for i, t in enumerate(items):
        name = t.get("name") if isinstance(t, dict) else None
        where = f"fields[{i}]" + (f" ({name})" if name else "")
        if not isinstance(t, dict):
            r.problem(where, "must be a table", t)
            continue
        r.unknown_keys(t, allowed, where)
        name = r.get(t, "name", str, where)
        if name and not _NAME.match(name):
            r.problem(f"{where}.name", "field names are lower_snake_case ASCII", name)
        out.append(FieldSpec(
            name=name or f"?{i}",
            type=r.get(t, "type", str, where, choices=FIELD_TYPES) or "string",
            alias=r.text(t, "alias", where) or Text("", ""),
            required=r.get(t, "required", bool, where, False, False),
            unique=r.get(t, "unique", bool, where, False, False),
            unit=r.get(t, "unit", str, where, False),
            domain=r.get(t, "domain", str, where, False),
            is_list=r.get(t, "list", bool, where, False, False),
            foreign_key=r.get(t, "foreign_key", str, where, False),
            description=r.text(t, "description", where, required=False),
            computed=r.get(t, "computed", bool, where, False, False),
            min=r.get(t, "min", (int, float), where, False),
            max=r.get(t, "max", (int, float), where, False),
        ))
        f = out[-1]
        if (f.min is not None or f.max is not None) and f.type not in ("integer", "real"):
            r.problem(f"{where}.min", "bounds are for integer or real fields", f.type)
    return out


def _layer(path: Path, data: dict, problems: list[Problem]) -> LayerSpec:
    r = _Reader(path, problems)
    allowed = {"name", "title", "description", "geometry", "fields", "source", "attribution",
               "licence", "style", "order", "cites"}
    r.unknown_keys(data, allowed, "")
    name = r.get(data, "name", str, "") or path.stem
    if name != path.stem:
        r.problem("name", "must equal the file name", name, fix=f"rename to {path.stem!r} or the file")
    geometry = r.get(data, "geometry", str, "", choices=GEOMETRY_TYPES + ("None",))
    src = r.get(data, "source", dict, "") or {}
    r.unknown_keys(src, {"files", "lon", "lat", "builder", "inputs", "params"}, "source")
    source = Source(files=tuple(r.get(src, "files", list, "source", False, [])),
                    lon=r.get(src, "lon", str, "source", False),
                    lat=r.get(src, "lat", str, "source", False),
                    builder=r.get(src, "builder", str, "source", False),
                    inputs=tuple(r.get(src, "inputs", list, "source", False, [])),
                    params=r.get(src, "params", str, "source", False))
    if bool(source.files) == bool(source.builder):
        r.problem("source", "give exactly one of 'files' or 'builder'", src)
    style_t = r.get(data, "style", dict, "", required=geometry not in (None, "None"))
    return LayerSpec(
        name=name, path=path,
        title=r.text(data, "title", "") or Text(name, name),
        description=r.text(data, "description", "") or Text("", ""),
        geometry=None if geometry in (None, "None") else geometry,
        fields=tuple(_fields(r, data.get("fields"))),
        source=source,
        attribution=r.get(data, "attribution", str, "") or "",
        licence=r.get(data, "licence", str, "") or "",
        style=_style(r, style_t) if style_t is not None else None,
        order=r.get(data, "order", int, "", False, 100),
        cites=tuple(r.get(data, "cites", list, "", False, [])),
    )


def _domains(path: Path, data: dict, problems: list[Problem]) -> dict[str, Domain]:
    r = _Reader(path, problems)
    out = {}
    for name, t in data.items():
        if not isinstance(t, dict):
            r.problem(name, "must be a table", t)
            continue
        r.unknown_keys(t, {"description", "values"}, name)
        values = {}
        for code, label in (r.get(t, "values", dict, name) or {}).items():
            text = r.text({code: label}, code, f"{name}.values")
            if text:
                values[code] = text
        out[name] = Domain(name, r.text(t, "description", name) or Text("", ""), values)
    return out


def _cross_check(cat: Catalog, problems: list[Problem]) -> None:
    """Rules that span layers and domains: references, styles against fields, files exist."""
    for layer in cat:
        r = _Reader(layer.path, problems)
        names = layer.field_names
        for dup in sorted({n for n in names if names.count(n) > 1}):
            r.problem("fields", "field declared twice", dup)
        for f in layer.fields:
            if f.domain and f.domain not in cat.domains:
                r.problem(f"fields ({f.name}).domain", "unknown domain", f.domain,
                          fix=f"declare it in domains.toml or use one of {', '.join(cat.domains)}")
            if f.foreign_key:
                tgt, _, col = f.foreign_key.partition(".")
                if tgt not in cat.layers or col not in cat.layers[tgt].field_names:
                    r.problem(f"fields ({f.name}).foreign_key", "does not name 'layer.field'",
                              f.foreign_key)
        for rel in [*layer.source.files, *filter(None, [layer.source.params])]:
            if not (cat.root / rel).is_file():
                r.problem("source.files", "file not found", rel,
                          fix=f"create {cat.root / rel} or correct the path")
        for col in (layer.source.lon, layer.source.lat):
            if col and col not in names:
                r.problem("source", "coordinate column is not a declared field", col)
        for dep in layer.source.inputs:
            if dep not in cat.layers:
                r.problem("source.inputs", "unknown layer", dep)
        st = layer.style
        if st is None:
            continue
        for key in ("category_field", "size_field", "label_field", "highlight", "uncertainty_field",
                    "label_zoom_field"):
            col = getattr(st, key)
            col = col.field if key == "highlight" and col else col
            if col and col not in names:
                r.problem(f"style.{key}", "not a field of this layer", col)
        if (st.label_min_zoom is not None or st.label_zoom_field) and not st.label_field:
            r.problem("style.label_field", "place names need a label field", fix="add 'label_field = …'")
        if st.category_field and st.category_field in names:
            dom = cat.domain_of(layer.field(st.category_field))
            if dom:
                for code in sorted(set(dom.values) - set(st.categories)):
                    r.problem("style.categories", "domain value has no symbol", code)
                for code in sorted(set(st.categories) - set(dom.values)):
                    r.problem(f"style.categories.{code}", "not a value of the field's domain", code)


def declaration_files(directory: Path) -> list[Path]:
    """The ``*.toml`` declarations of ``directory``, sorted; dot-files (an interrupted write's
    ``.NAME.geo-tmp-….toml``, editors' backups) are not declarations."""
    return sorted(p for p in Path(directory).glob("*.toml") if not p.name.startswith("."))


def load_catalog(directory: str | Path, data_root: str | Path | None = None) -> Catalog:
    """Load and validate every declaration in ``directory``; raise one error listing all problems.

    ``data_root`` is where source file paths are resolved (default: the directory's parent).
    """
    directory = Path(directory)
    root = Path(data_root) if data_root else directory.parent
    problems: list[Problem] = []
    domains: dict[str, Domain] = {}
    layers: dict[str, LayerSpec] = {}
    files = declaration_files(directory)
    if not files:
        raise CatalogError(problems=[Problem(str(directory), "no *.toml declarations found")])
    for path in files:
        data, found = toml_problems(path)
        if found:
            problems += found
            continue
        if path.stem == "domains":
            domains.update(_domains(path, data, problems))
        else:
            spec = _layer(path, data, problems)
            layers[spec.name] = spec
    layers = dict(sorted(layers.items(), key=lambda kv: (kv[1].order, kv[0])))
    cat = Catalog(root=root, layers=layers, domains=domains)
    _cross_check(cat, problems)
    for name, spec in layers.items():  # builders get their parameter file as a full path
        if spec.source.params:
            layers[name] = replace(spec, source=replace(spec.source, params=str(root / spec.source.params)))
    if problems:
        raise CatalogError(problems=problems)
    return cat
