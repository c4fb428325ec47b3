"""Data rules specific to this project, checked on every build and validate."""
from __future__ import annotations

import pandas as pd

from geo.catalog import Catalog
from geo.errors import Problem
from geo.table import split_list

# Vietnam with the Hoàng Sa and Trường Sa archipelagos, in WGS84 (lon_min, lat_min, lon_max, lat_max)
VIETNAM_BOUNDS = (102.0, 6.0, 118.0, 23.5)
REFERENCES = "references"


def uncited_references(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """A reference that no row of any layer cites is an error (it is either unused or mis-keyed)."""
    if REFERENCES not in frames:
        return []
    cited: set[str] = set()
    for spec in catalog:
        frame = frames.get(spec.name)
        for f in spec.fields:
            if f.foreign_key == f"{REFERENCES}.id" and frame is not None and f.name in frame:
                for raw in frame[f.name].dropna():
                    cited.update(split_list(raw))
    refs = frames[REFERENCES]
    src = str(catalog.root / catalog[REFERENCES].source.files[0])
    rows = refs.attrs.get("rows") or range(1, len(refs) + 1)
    return [Problem(src, "reference is cited by no row of any layer", row=row, field="id", value=ref,
                    fix="cite it where it is used, or remove it")
            for row, ref in zip(rows, refs["id"]) if ref not in cited]


def check(catalog: Catalog, frames: dict[str, pd.DataFrame]) -> list[Problem]:
    """Every project rule over the loaded layers."""
    return uncited_references(catalog, frames)
