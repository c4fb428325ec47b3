"""Registry of derived layers and computed fields, looked up by the names the catalog gives them."""
from __future__ import annotations

from typing import Callable

import pandas as pd

from geo.catalog import Catalog, LayerSpec
from geo.errors import CatalogError, Problem

Frames = dict[str, pd.DataFrame]

BUILDERS: dict[str, Callable[[LayerSpec, Frames], pd.DataFrame]] = {}
COMPUTED: dict[tuple[str, str], Callable[[pd.DataFrame, Frames], pd.Series]] = {}
PARAMS: dict[str, Callable[[LayerSpec, Catalog], list[Problem]]] = {}


def builder(name: str):
    """Register a function building a whole layer from its input layers."""
    def register(fn):
        BUILDERS[name] = fn
        return fn
    return register


def computed(layer: str, field: str):
    """Register a function filling one computed field of a layer."""
    def register(fn):
        COMPUTED[(layer, field)] = fn
        return fn
    return register


def params_check(name: str):
    """Register a function checking builder ``name``'s parameter file (``source.params``) before any
    builder runs: ``fn(spec, catalog) -> problems``."""
    def register(fn):
        PARAMS[name] = fn
        return fn
    return register


def param_problems(catalog: Catalog) -> list[Problem]:
    """Every problem of every builder's parameter file."""
    return [p for spec in catalog if spec.source.params and spec.source.builder in PARAMS
            for p in PARAMS[spec.source.builder](spec, catalog)]


def run(spec: LayerSpec, frames: Frames) -> pd.DataFrame:
    try:
        fn = BUILDERS[spec.source.builder]
    except KeyError:
        raise CatalogError(problems=[Problem(str(spec.path), "unknown builder", field="source.builder",
                                             value=spec.source.builder,
                                             fix=f"use one of {', '.join(sorted(BUILDERS))}")]) from None
    return fn(spec, frames)


def fill_computed(spec: LayerSpec, frames: Frames) -> None:
    """Fill the layer's computed fields in place (empty where no function is registered yet)."""
    frame = frames.get(spec.name)
    if frame is None:
        return
    for f in spec.fields:
        if f.computed:
            fn = COMPUTED.get((spec.name, f.name))
            frame[f.name] = fn(frame, frames) if fn else pd.Series(pd.NA, index=frame.index,
                                                                   dtype="string")
