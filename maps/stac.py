"""The build's STAC catalog (``OUT/stac/catalog.json``): what each output file is, its licence and the
works it rests on, in four collections (grids, vector package, maps, reports). The generic writer is
``geo.stac``; this module only describes the product, reading the layer catalog, the model spec and the
map compositions (nothing is declared twice)."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pystac

from geo.catalog import Catalog
from geo.stac import AssetSpec, Citation, Group, ItemSpec, write_catalog
from geo.files.table import split_list
from layers.model.model_spec import ModelSpec
from layers.model.overlay import GRIDS_DIR, SCORE_NAMES, grid_layers
from layers.model.record import MODEL_COPY, MODEL_RECORD, MODEL_STEM, build_spec, model_record
from layers.package import ABSTRACT, GPKG_NAME, TITLE, build_stamp
from layers.model.prospectivity import EXPLAIN_DIR

GRIDS_LICENCE = "CC-BY-4.0"  # README, "Data sources and licences": computed by this project's model
PROVIDER = pystac.Provider("Vietnam REE prospect map project", roles=[pystac.ProviderRole.PROCESSOR,
                                                                        pystac.ProviderRole.PRODUCER])
SIDECAR_ROLES = {".qml": ("style", "metadata"), ".sld": ("style", "metadata")}
SIDECAR_TITLES = {".qml": "QGIS style (pseudocolour ramp of the web map)", ".sld": "SLD style"}
REPORT_DIRS = ("reports", "print")  # geo build's validation figures; geo print's sheets and figures


def citations(frames: dict[str, pd.DataFrame], ids) -> tuple[Citation, ...]:
    """The references ``ids`` (in order, once each) as citations with their DOI or URL."""
    refs = frames["references"].set_index("id", drop=False)
    out = []
    for i in dict.fromkeys(ids):
        if i not in refs.index:
            continue
        r = refs.loc[i]
        year = "" if pd.isna(r["year"]) else f" ({int(r['year'])})"
        authors = "" if pd.isna(r["authors"]) else str(r["authors"])
        text = f"{authors}{year}. {r['title']}. {r['publisher']}.".strip(". ") + "."
        doi = None if pd.isna(r.get("doi")) or not str(r.get("doi")).strip() else str(r["doi"]).strip()
        if doi is None and pd.notna(r.get("url")):
            text += f" {r['url']}"
        out.append(Citation(f"{text} [{i}]", doi))
    return tuple(out)


def layer_refs(catalog: Catalog, frames, names) -> list[str]:
    """Every reference id the layers ``names`` cite, for the whole layer or in any row."""
    ids: list[str] = []
    for name in names:
        spec = catalog[name]
        ids += list(spec.cites)
        for f in spec.fields:
            if f.foreign_key == "references.id" and name in frames:
                for raw in frames[name][f.name].dropna():
                    ids += split_list(raw)
    return list(dict.fromkeys(ids))


def package_licence(catalog: Catalog) -> tuple[str, tuple[str, ...], str]:
    """(STAC licence, SPDX identifiers, note) of a product holding every catalog layer: ``other``, the
    layers' SPDX identifiers (each linked), and a note giving each layer's licence as declared (the
    public-domain parts included). STAC's ``license`` takes one identifier, not an expression."""
    spdx = re.compile(r"^[A-Za-z0-9.+-]+$")
    ids = tuple(sorted({s.licence for s in catalog if s.licence and spdx.match(s.licence)}))
    note = "; ".join(f"{s.name}: {s.licence}" for s in catalog)
    return ("other" if len(ids) != 1 else ids[0]), ids, f"Licence of each layer as declared in its catalog entry: {note}."


def _type_refs(spec, t: str) -> list[str]:
    tm = spec.types[t]
    ids = list(tm.refs)
    for e in tm.evidence:
        ids += list(e.refs)
    return ids + list(spec.raw.get("uncertainty_refs", [])) + list(spec.raw.get("validation_refs", []))


def _model_refs(spec) -> list[str]:
    """Every reference of the model, in model order (type by type: a set's order would change run to run)."""
    return [r for t in spec.types for r in _type_refs(spec, t)]


def _by_stem(folder: Path, pattern: str = "*") -> dict[str, list[Path]]:
    """Files of ``folder`` grouped by name stem, the main file first (a raster before its style)."""
    out: dict[str, list[Path]] = {}
    for p in sorted(folder.glob(pattern)):
        if p.is_file() and not p.name.startswith("."):
            out.setdefault(p.stem, []).append(p)
    rank = {".tif": 0, ".gpkg": 0, ".pdf": 1, ".png": 2}
    return {k: sorted(v, key=lambda p: (rank.get(p.suffix, 5), p.name)) for k, v in out.items()}


def _assets(paths: list[Path], title: str, unit: str | None = None) -> tuple[AssetSpec, ...]:
    main, *rest = paths
    return (AssetSpec(main, title, ("data",), unit),) + tuple(
        AssetSpec(p, SIDECAR_TITLES.get(p.suffix, f"{title} ({p.suffix[1:].upper()})"),
                  SIDECAR_ROLES.get(p.suffix, ("data",))) for p in rest)


def model_item(out: Path, spec: ModelSpec, frames) -> ItemSpec | None:
    """The model that made the grids (layers/model/record.py): its copy, and the record of where it was
    read; no footprint (a text file: the collection's extent stays the grids')."""
    record = model_record(out)
    if record is None:
        return None
    types = "; ".join(f"{t.title.en} ({len(t.evidence)} evidence layer{'s' * (len(t.evidence) != 1)})"
                      for t in spec.types.values())
    desc = (f"The fuzzy prospectivity model file (TOML) that made every grid of this collection, byte for byte "
            f"as read from {record['source']} (SHA-256 {record['sha256']}); {MODEL_RECORD} records that path and "
            f"checksum. The maps' legends and click panel and these items take their text from it. Types: {types}.")
    title = "Prospectivity model that made the grids"
    refs = _model_refs(spec)
    return ItemSpec(MODEL_STEM, title, desc,
                    (AssetSpec(out / GRIDS_DIR / MODEL_COPY, "Model file (TOML)", ("data",)),
                     AssetSpec(out / GRIDS_DIR / MODEL_RECORD, "Where the model file was read and its SHA-256",
                               ("metadata",))),
                    GRIDS_LICENCE, citations(frames, refs), keywords=("prospectivity", "fuzzy logic"))


def grid_items(out: Path, frames, spec: ModelSpec) -> tuple[ItemSpec, ...]:
    """An item per grid COG of ``out`` (with its style), described by ``spec``, the model that made it,
    and an item of that model's file."""
    known = {gl.path.name: gl for gl in grid_layers(out, spec=spec)}
    model = model_item(out, spec, frames)
    items = [model] if model else []
    made_by = f". Made by the model {GRIDS_DIR}/{MODEL_COPY} (SHA-256 {spec.sha256[:12]}…)" if model else ""
    grids = out / GRIDS_DIR
    for stem, paths in _by_stem(grids).items():
        if stem == MODEL_STEM and model:
            continue
        gl = known.get(f"{stem}.tif")
        if gl is not None:
            title, desc, unit = gl.title.en, f"{gl.title.vi}. {gl.legend.en} — {gl.legend.vi}{made_by}", gl.unit
            refs = _type_refs(spec, gl.deposit_type)
        else:
            title, desc, unit = stem.replace("_", " "), f"Prospectivity grid{made_by}", None
            refs = _model_refs(spec)
        items.append(ItemSpec(stem, title, desc, _assets(paths, title, unit), GRIDS_LICENCE,
                              citations(frames, refs), keywords=("prospectivity", "fuzzy logic")))
    for stem, paths in _by_stem(grids / EXPLAIN_DIR).items():
        what, _, rest = stem.partition("_")
        ev_name, type_name = next(((e.name, t) for t, tm in spec.types.items() for e in tm.evidence
                                   if rest == f"{e.name}_{t}"), (rest, None))
        ev = next((e for t, tm in spec.types.items() if t == type_name for e in tm.evidence if e.name == ev_name), None)
        tm = spec.types.get(type_name)
        type_title = tm.title.en if tm else type_name
        named = spec.evidence_title(ev_name).en
        ev_title = f"'{ev_name}'" if ev is None or named == ev_name else f"'{ev_name}' — {named}"
        if what == "membership":
            title = f"{type_title}: fuzzy membership of the evidence {ev_title}"
            desc = "Fuzzy membership (0-1) of one evidence layer at each cell: what the click panel of the prospectivity map shows."
        else:
            title = f"{type_title}: measured value of the evidence {ev_title}"
            desc = "The evidence's measured value at each cell, before its membership function."
        if ev is not None and ev.rationale:
            desc += f" {ev.rationale}"
        items.append(ItemSpec(f"{EXPLAIN_DIR}-{stem}", title, desc, _assets(paths, title), GRIDS_LICENCE,
                              citations(frames, list(ev.refs) if ev else []), keywords=("prospectivity", "evidence")))
    return tuple(items)


def report_items(out: Path, frames, spec: ModelSpec) -> tuple[ItemSpec, ...]:
    """An item per figure of ``out/reports`` (validation of ``spec``'s scores) and ``out/print``."""
    items = []
    for folder in REPORT_DIRS:
        for stem, paths in _by_stem(out / folder).items():
            m = re.fullmatch(r"validation_(\w+?)_(\w+)", stem)
            if folder == "reports" and m and m.group(1) in SCORE_NAMES and m.group(2) in spec.types:
                score, t = m.groups()
                title = f"{spec.types[t].title.en}: validation of the {score} score"
                desc = ("Success-rate curve with its AUC beside the random-point baseline, and the prediction-area "
                        "plot (Yousefi & Carranza 2015), of the known sites against the score.")
                refs = list(spec.raw.get("validation_refs", [])) + _type_refs(spec, t)
            else:
                title, desc, refs = stem.replace("_", " "), f"Figure or map sheet of `geo {folder}`", []
            items.append(ItemSpec(f"{folder}-{stem}", title, desc, _assets(paths, title), GRIDS_LICENCE,
                                  citations(frames, refs)))
    return tuple(items)


def build_groups(out: Path, catalog: Catalog, frames, comps, spec: ModelSpec) -> list[Group]:
    """The four product groups of a build in ``out`` (only the files present are described); ``spec``:
    the model that made its grids."""
    licence, ids, note = package_licence(catalog)
    vn_bbox = _bbox(frames)
    all_refs = list(frames["references"]["id"])
    gpkg = out / GPKG_NAME
    package = (ItemSpec("vietnam_ree", TITLE, f"{ABSTRACT} {note}",
                        (AssetSpec(gpkg, "GeoPackage 1.2 with every layer, its QGIS styles and the QGIS project",
                                   ("data",)),),
                       licence, citations(frames, all_refs), vn_bbox, ids, ("rare earth elements", "Vietnam")),
               ) if gpkg.exists() else ()
    maps = []
    for p in sorted((out / "maps").glob("*.html")):
        comp = comps.get(p.stem)
        names = [ml.layer for ml in comp.layers] if comp else list(catalog.layers)
        title = f"{comp.title.en} — {comp.title.vi}" if comp else p.stem
        maps.append(ItemSpec(f"map-{p.stem}", title, "Interactive web map (Leaflet; one file that works offline "
                             "from file://). " + note, (AssetSpec(p, title, ("data",)),), licence,
                             citations(frames, layer_refs(catalog, frames, names)), vn_bbox, ids))
    return [
        Group("grids", "Prospectivity grids", "Cloud-Optimized GeoTIFFs of the fuzzy prospectivity model: per "
              "deposit type the evidence and proximity scores, their uncertainty and spread, and each evidence's "
              "membership and value, with QGIS styles, and the model file that made them.", GRIDS_LICENCE,
              grid_items(out, frames, spec),
              ("prospectivity", "rare earth elements", "Vietnam"), (PROVIDER,)),
        Group("package", "Vector package", "The GeoPackage of every cited layer. " + note, licence, package,
              ("rare earth elements", "Vietnam"), (PROVIDER,), ids),
        Group("maps", "Web maps", "Interactive Folium/Leaflet maps of the layers and grids. " + note, licence,
              tuple(maps), ("web map",), (PROVIDER,), ids),
        Group("reports", "Reports and figures", "Validation figures of the model, and printed sheets and figures.",
              GRIDS_LICENCE, report_items(out, frames, spec), ("validation",), (PROVIDER,)),
    ]


def _bbox(frames) -> tuple[float, float, float, float] | None:
    boxes = [frames[n].total_bounds for n in ("land", "archipelagos") if n in frames and len(frames[n])]
    if not boxes:
        return None
    return (float(min(b[0] for b in boxes)), float(min(b[1] for b in boxes)),
            float(max(b[2] for b in boxes)), float(max(b[3] for b in boxes)))


def write_build_catalog(out: Path, catalog: Catalog, frames, comps, spec: ModelSpec | None = None) -> Path:
    """Write ``OUT/stac/catalog.json`` for the files of a build; return its path. ``spec``: the model that
    made its grids (when not given, the one the build records: :func:`layers.model.record.build_spec`)."""
    spec = spec or build_spec(out)
    return write_catalog(out, "vietnam-ree", TITLE, ABSTRACT, build_groups(Path(out), catalog, frames, comps, spec),
                         build_stamp())
