"""Turn the catalog's declarations and sources into checked (Geo)DataFrames."""
from __future__ import annotations

from collections.abc import Collection
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pandas as pd

from geo.catalog import Catalog, LayerSpec, load_catalog
from geo.errors import Problem, SourceDataError, raise_if
from geo.points import coordinate_problems, to_points
from geo.files.cache import cached_pickle, digest, files_digest, library_versions
from geo.files.table import check_foreign_keys, read_table
from geo.vector import read_vector
from layers import CATALOG_DIR, ROOT
from layers import registry
from layers.model import rules
import layers.derived  # noqa: F401  (registers the builders)


def default_catalog() -> Catalog:
    """The project's own catalog (``layers/catalog``), sources resolved under ``layers/``."""
    return load_catalog(CATALOG_DIR, ROOT)


def _read_files(catalog: Catalog, spec: LayerSpec) -> tuple[pd.DataFrame, list[Problem]]:
    frames, problems = [], []
    for rel in spec.source.files:
        path = catalog.root / rel
        csv_file = path.suffix.lower() == ".csv"
        frame, found = read_table(path, spec, catalog) if csv_file else read_vector(path, spec)
        if spec.source.lon and not found:  # point layers with coordinate fields, from a table or a vector file
            found += coordinate_problems(frame, spec.source.lon, spec.source.lat,
                                         rules.VIETNAM_BOUNDS, str(path), "Vietnam")
            if not found and csv_file:
                frame = to_points(frame, spec.source.lon, spec.source.lat)
        frames.append(frame)
        problems += found
    if len(frames) == 1:
        return frames[0], problems
    return pd.concat(frames, ignore_index=True), problems


def build_order(catalog: Catalog) -> list[LayerSpec]:
    """Layers ordered so that every builder's inputs come before it."""
    graph = {spec.name: set(spec.source.inputs) for spec in catalog}
    try:
        return [catalog[name] for name in TopologicalSorter(graph).static_order()]
    except CycleError as exc:
        raise SourceDataError(problems=[Problem("catalog", f"layers depend on each other in a cycle: {exc.args[1]}",
                                                fix="break the cycle in source.inputs")]) from exc


def load_sources(names: Collection[str], catalog: Catalog | None = None) -> dict[str, pd.DataFrame]:
    """Read and check only the source layers ``names`` (no builders, computed fields or cross-layer
    rules): for a caller that needs a few layers as they are, e.g. `geo import`'s land and sea."""
    catalog = catalog or default_catalog()
    frames: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for name in names:
        frames[name], found = _read_files(catalog, catalog[name])
        problems += found
    raise_if(problems, SourceDataError)
    return frames


def load_layers(catalog: Catalog | None = None, skip: Collection[str] = ()) -> dict[str, pd.DataFrame]:
    """Read, derive and check every layer; raise one :class:`SourceDataError` with all problems.

    Builders run only when every source read cleanly (they assume checked inputs). Derived layers
    named in ``skip`` are not built (a caller that makes them itself, e.g. the grid tables of
    `geo build`); they are missing from the result. A result is kept in the derived-data cache
    (:mod:`geo.files.cache`) under the digest of everything it is made from (:func:`inputs_digest`):
    measured, 2.1 s (4.1 s with the 2 km grid tables) of every command that reads the layers, against
    0.05 s to read it back. Problems are never cached: bad sources are read and reported every time.
    """
    catalog = catalog or default_catalog()
    return cached_pickle("layers", inputs_digest(catalog, skip), lambda: _load(catalog, skip))


def inputs_digest(catalog: Catalog, skip: Collection[str] = ()) -> str | None:
    """SHA-256 of what :func:`load_layers` reads and runs: the catalog as loaded, every declaration and
    source file, the data folder of a catalog outside the project (its rules, models and rasters), the
    code and data of ``layers/`` and the code of ``geo/``, and the versions of Python and of the libraries
    that compute the layers. None (not cached) for a data folder too large to hash quickly."""
    import geo
    roots = [ROOT, Path(geo.__file__).parent]
    if catalog.root.resolve() != ROOT:
        roots.append(catalog.root)
    files = [p for spec in catalog for p in (spec.path, *(catalog.root / f for f in spec.source.files)) if p]
    content = files_digest([*roots, *files])
    if content is None:
        return None
    return digest(content, repr(catalog), repr(sorted(skip)), *library_versions())


def _load(catalog: Catalog, skip: Collection[str]) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for spec in build_order(catalog):
        if spec.source.files:
            frames[spec.name], found = _read_files(catalog, spec)
            problems += found
    problems += check_foreign_keys(catalog, frames)
    problems += registry.param_problems(catalog)
    raise_if(problems, SourceDataError)
    for spec in build_order(catalog):
        if spec.name in skip and spec.source.builder:
            continue
        if spec.source.builder:
            frames[spec.name] = registry.run(spec, frames)
        registry.fill_computed(spec, frames)
    problems += rules.check(catalog, frames)
    raise_if(problems, SourceDataError)
    return {spec.name: frames[spec.name] for spec in catalog if spec.name in frames}
