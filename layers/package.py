"""Write the loaded layers into the project's GeoPackage."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.catalog import Catalog
from geo.gpkg import write_gpkg

GPKG_NAME = "vietnam_ree.gpkg"


def write_package(catalog: Catalog, frames: dict[str, pd.DataFrame], target: Path) -> Path:
    """Every catalog layer into ``target`` (atomically: the old file survives any failure)."""
    return write_gpkg(target, ((spec, frames[spec.name]) for spec in catalog))
