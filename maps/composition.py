"""Map compositions: which layers a map shows, in what order and groups, and its initial view."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geo.catalog import Catalog, Text
from geo.errors import CatalogError, Problem
from geo.files.tomlfile import toml_problems
from layers.model.evidence import SCORES
from maps import COMPOSITIONS_DIR

GROUPS = ("deposits", "zones", "admin", "base")
CONTROL_ORDER = ("deposits", "zones", "grids", "admin", "base")  # layer control / QGIS layer tree, top first
BASEMAPS = ("osm", "satellite", "topo", "none")


@dataclass(frozen=True)
class MapLayer:
    layer: str
    group: str
    show: bool = True
    popup: bool = True  # per-feature popups and tooltips (off for dense base layers)
    tolerance_m: float = 0.0  # web simplification, metres in the metric CRS
    min_area_km2: float = 0.0  # polygons smaller than this are left out of the web map


@dataclass(frozen=True)
class Composition:
    name: str
    title: Text
    center: tuple[float, float]  # lat, lon
    zoom: int
    layers: tuple[MapLayer, ...]
    basemaps: tuple[str, ...]
    grids: bool = False  # the prospectivity grids (when built) as overlays, off by default
    imports: str | None = None  # the group of the layers users imported (`geo import`), drawn on top
    grid_scores: tuple[str, ...] = ("evidence",)  # `grids = ["evidence", "proximity"]`: the scores drawn
    explain: bool = False  # a click on a land cell explains the grid overlay that is on (maps/web/cell_panel.py)
    fit: tuple[str, ...] = ()  # layers the opening view must include (else it zooms out to them, e.g. on a phone)
    open_grid: str | None = None  # the grid shown as the map opens (its file stem, e.g. "evidence_coastal_placer")


def _one(path: Path, catalog: Catalog, problems: list[Problem]) -> Composition | None:
    d, found = toml_problems(path)
    if found:
        problems += found
        return None
    layers = []
    for i, item in enumerate(d.get("layers", [])):
        name, group = item.get("layer"), item.get("group")
        if name not in catalog.layers:
            problems.append(Problem(str(path), "unknown layer", field=f"layers[{i}].layer", value=name,
                                    fix=f"use one of {', '.join(catalog.layers)}"))
            continue
        if not catalog[name].spatial:
            problems.append(Problem(str(path), "not a spatial layer", field=f"layers[{i}].layer", value=name))
            continue
        if group not in GROUPS:
            problems.append(Problem(str(path), "unknown group", field=f"layers[{i}].group", value=group,
                                    fix=f"use one of {', '.join(GROUPS)}"))
            continue
        layers.append(MapLayer(name, group, bool(item.get("show", True)), bool(item.get("popup", True)),
                               float(item.get("tolerance_m", 0.0)), float(item.get("min_area_km2", 0.0))))
    for b in d.get("basemaps", []):
        if b not in BASEMAPS:
            problems.append(Problem(str(path), "unknown basemap", field="basemaps", value=b,
                                    fix=f"use one of {', '.join(BASEMAPS)}"))
    imports = d.get("imports")
    if imports is not None and imports not in GROUPS:
        problems.append(Problem(str(path), "unknown group", field="imports", value=imports,
                                fix=f"use one of {', '.join(GROUPS)}"))
        imports = None
    if imports:
        layers += [MapLayer(name, imports) for name in catalog.imported if catalog[name].spatial]
    grids = d.get("grids", False)
    scores = tuple(grids) if isinstance(grids, list) else ("evidence",)
    for sc in scores:
        if sc not in SCORES:
            problems.append(Problem(str(path), "unknown score", field="grids", value=sc, fix=f"use some of {', '.join(SCORES)}"))
    fit = [f for f in d.get("fit", []) if isinstance(f, str)]
    for f in fit:
        if f not in {ml.layer for ml in layers}:
            problems.append(Problem(str(path), "a layer to fit that the map does not draw", field="fit", value=f,
                                    fix="name layers of this composition's `layers`"))
    title = d.get("title", {})
    return Composition(name=path.stem, title=Text(title.get("vi", path.stem), title.get("en", path.stem)),
                       center=tuple(d.get("center", (16.0, 106.0))), zoom=int(d.get("zoom", 6)),
                       layers=tuple(layers), basemaps=tuple(d.get("basemaps", BASEMAPS)),
                       grids=bool(d.get("grids", False)), imports=imports,
                       grid_scores=tuple(sc for sc in scores if sc in SCORES),
                       explain=bool(d.get("explain", False)), fit=tuple(fit),
                       open_grid=d.get("open_grid"))


def load_compositions(catalog: Catalog, directory: Path = COMPOSITIONS_DIR) -> dict[str, Composition]:
    """Every composition, checked against the catalog; one error lists every problem.

    A composition naming a layer the catalog does not (yet) declare is an error.
    """
    problems: list[Problem] = []
    out = {}
    for path in sorted(directory.glob("*.toml")):
        comp = _one(path, catalog, problems)
        if comp:
            out[comp.name] = comp
    if problems:
        raise CatalogError(problems=problems)
    return out
