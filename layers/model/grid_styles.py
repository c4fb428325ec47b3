"""A QGIS style (``.qml``) beside each grid COG: the web map's colour ramp (the model spec's ``[style]``,
read through :func:`layers.model.overlay.grid_layers`), pseudocolour, nodata transparent."""
from __future__ import annotations

from pathlib import Path

from geo.files.atomic import write_text
from geo.gpkg.qml import bilingual, raster_qml
from layers.model.model_spec import ModelSpec
from layers.model.overlay import GridLayer, grid_layers


def qml_path(cog: Path) -> Path:
    """Where QGIS looks for a raster's default style: the same name with ``.qml``."""
    return cog.with_suffix(".qml")


def grid_qml(layer: GridLayer) -> str:
    return raster_qml(layer.ramp, f"{bilingual(layer.title)} [{layer.unit}]")


def write_grid_styles(out_dir: str | Path, spec: ModelSpec | None = None) -> list[Path]:
    """Write ``NAME.qml`` beside every grid of ``out_dir`` that exists; return the paths written.
    ``spec``: the model that made the grids (when not given, the one ``out_dir`` records)."""
    return [write_text(qml_path(gl.path), grid_qml(gl)) for gl in grid_layers(out_dir, spec=spec) if gl.path.exists()]
