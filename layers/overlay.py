"""What a map needs to draw one type's grid: the COG paths, colour ramps and legends from the model spec."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geo.catalog import Text
from geo.errors import CatalogError, Problem
from layers.model_spec import load_spec

GRIDS_DIR = "grids"


@dataclass(frozen=True)
class Overlay:
    deposit_type: str
    title: Text
    path: Path  # build/grids/prospectivity_<type>.tif
    ramp: tuple[str, ...]  # low -> high
    legend: Text
    uncertainty_path: Path
    uncertainty_ramp: tuple[str, ...]
    uncertainty_legend: Text


@dataclass(frozen=True)
class GridLayer:
    """One COG of the grids directory as maps and GIS projects show it."""

    path: Path
    title: Text
    ramp: tuple[str, ...]  # low -> high, over [0, 1]
    legend: Text
    unit: str  # the band's unit, written into the COG and shown in GIS tools
    deposit_type: str


def grid_paths(out_dir: str | Path, deposit_type: str) -> tuple[Path, Path]:
    d = Path(out_dir) / GRIDS_DIR
    return d / f"prospectivity_{deposit_type}.tif", d / f"uncertainty_{deposit_type}.tif"


def overlay(deposit_type: str, out_dir: str | Path = "build") -> Overlay:
    """The overlay of ``deposit_type`` as written by ``geo grid --out OUT_DIR`` (the file may not exist yet)."""
    spec = load_spec()
    if deposit_type not in spec.types:
        raise CatalogError(problems=[Problem(str(spec.path), "no model for this deposit type", field="types",
                                             value=deposit_type, fix=f"use one of {', '.join(spec.types)}")])
    s = spec.style
    path, unc = grid_paths(out_dir, deposit_type)
    return Overlay(deposit_type, spec.types[deposit_type].title, path, tuple(s["score_ramp"]),
                   Text(**s["score_legend"]), unc, tuple(s["uncertainty_ramp"]), Text(**s["uncertainty_legend"]))


def grid_layers(out_dir: str | Path = "build") -> list[GridLayer]:
    """Every grid ``geo grid --out OUT_DIR`` writes, in model order (score, then its uncertainty), with
    its title, ramp, legend and unit; the files may not exist yet."""
    s = load_spec().style
    out = []
    for t in load_spec().types:
        ov = overlay(t, out_dir)
        out += [GridLayer(ov.path, ov.title, ov.ramp, ov.legend, s.get("score_unit", ""), t),
                GridLayer(ov.uncertainty_path, Text(f"{ov.title.vi} — độ bất định", f"{ov.title.en} — uncertainty"),
                          ov.uncertainty_ramp, ov.uncertainty_legend, s.get("uncertainty_unit", ""), t)]
    return out
