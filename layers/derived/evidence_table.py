"""The model's evidence as a GeoPackage table: per type and evidence, what it reads, at what scale, where."""
from __future__ import annotations

import json

import pandas as pd

from geo.files.table import LIST_SEP
from layers.registry import builder


EVIDENCE = "prospectivity_evidence"


@builder(EVIDENCE)
def prospectivity_evidence(spec, frames) -> pd.DataFrame:
    """The project's model (layers/models/prospectivity.toml) as :func:`evidence_table`; a build takes
    the table of the model it ran (layers.derived.prospectivity.grid_tables)."""
    from layers.model.model_spec import load_spec
    return evidence_table(load_spec())


def evidence_table(model) -> pd.DataFrame:
    """One row per declared evidence of every type of ``model`` (a :class:`~layers.model.model_spec.ModelSpec`)."""
    rows = []
    for t in model.types.values():
        for ev in t.evidence:
            p = ev.params
            rows.append({
                "deposit_type": t.name, "evidence": ev.name, "kind": ev.kind,
                "score": "proximity" if ev.kind in ("site_distance", "zone_membership") else "evidence",
                "component": ev.component,
                "source_file": p.get("path"),
                "source_resolution_m": float(p["source_resolution_m"]) if "source_resolution_m" in p else None,
                "coverage": json.dumps(p["coverage"], sort_keys=True) if "coverage" in p else None,
                "basis": ev.basis or None, "refs": LIST_SEP.join(ev.refs) or None,
                "rationale": ev.rationale,
            })
    out = pd.DataFrame(rows)
    out["source_resolution_m"] = out["source_resolution_m"].astype("Float64")
    return out
