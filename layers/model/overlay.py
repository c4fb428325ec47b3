"""What a map needs to draw one type's score: the COG paths, colour ramps and legends from the model spec."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geo.catalog import Text
from geo.errors import CatalogError, Problem
from layers.model.evidence import KINDS, MISSABLE, SCORES
from layers.model.model_spec import ModelSpec
from layers.model.record import GRIDS_DIR, build_spec

SCORE_NAMES = {  # how each score is named beside the type's title
    "evidence": Text("bằng chứng", "evidence"),  # the legend text says what each score rests on
    "proximity": Text("lân cận điểm đã biết", "proximity"),
}


@dataclass(frozen=True)
class Overlay:
    deposit_type: str
    title: Text
    path: Path  # build/grids/<score>_<type>.tif
    ramp: tuple[str, ...]  # low -> high
    legend: Text
    uncertainty_path: Path  # share of the score's evidence missing
    uncertainty_ramp: tuple[str, ...]
    uncertainty_legend: Text
    score: str = "evidence"
    spread_path: Path | None = None  # spread of the score over the parameter ensemble


@dataclass(frozen=True)
class GridLayer:
    """One COG of the grids directory as maps and GIS projects show it."""

    path: Path
    title: Text
    ramp: tuple[str, ...]  # low -> high, over [0, 1]
    legend: Text
    unit: str  # the band's unit, written into the COG and shown in GIS tools
    deposit_type: str
    score: str  # evidence | proximity
    kind: str = "score"  # score | uncertainty | spread


def grid_paths(out_dir: str | Path, deposit_type: str, score: str = "evidence") -> tuple[Path, Path]:
    d = Path(out_dir) / GRIDS_DIR
    return d / f"{score}_{deposit_type}.tif", d / f"uncertainty_{score}_{deposit_type}.tif"


def score_legend(spec, deposit_type: str, score: str) -> Text:
    """The legend of a type's score, generated from its model: the style's ``<score>_legend`` template
    with ``{used}`` (titles of the evidence that feeds the score) and ``{missing}`` (declared but
    unavailable evidence) filled in, so it names only what the type's model uses."""
    s = spec.style
    template = s.get(f"{score}_legend", s["score_legend"])
    evs = [e for e in spec.types[deposit_type].evidence if KINDS[e.kind].score == score]
    out = {}
    for lang in ("vi", "en"):
        used = [spec.evidence_title(e.name)[lang] for e in evs if e.kind != "unavailable"]
        missing = [spec.evidence_title(e.name)[lang] for e in evs if e.kind == "unavailable"]
        none = "—"
        out[lang] = template[lang].replace("{used}", ", ".join(used) or none).replace("{missing}", ", ".join(missing) or none)
    return Text(out["vi"], out["en"])


def overlay(deposit_type: str, out_dir: str | Path = "build", score: str = "evidence",
            spec: ModelSpec | None = None) -> Overlay:
    """The ``score`` overlay (``evidence`` or ``proximity``) of ``deposit_type`` as written by
    ``geo grid --out OUT_DIR`` (the files may not exist yet); ``spec``: the model that made them (when not
    given, the one OUT_DIR records: :func:`layers.model.record.build_spec`)."""
    spec = spec or build_spec(out_dir)
    problems = []
    if deposit_type not in spec.types:
        problems.append(Problem(str(spec.path), "no model for this deposit type", field="types",
                                value=deposit_type, fix=f"use one of {', '.join(spec.types)}"))
    if score not in SCORES:
        problems.append(Problem(str(spec.path), "no such score", field="score", value=score,
                                fix=f"use one of {', '.join(SCORES)}"))
    if problems:
        raise CatalogError(problems=problems)
    s = spec.style
    path, unc = grid_paths(out_dir, deposit_type, score)
    t, n = spec.types[deposit_type].title, SCORE_NAMES[score]
    return Overlay(deposit_type, Text(f"{t.vi} ({n.vi})", f"{t.en} ({n.en})"), path, tuple(s["score_ramp"]),
                   score_legend(spec, deposit_type, score), unc, tuple(s["uncertainty_ramp"]),
                   Text(**s["uncertainty_legend"]), score, Path(out_dir) / GRIDS_DIR / f"spread_{score}_{deposit_type}.tif")


def grid_layers(out_dir: str | Path = "build", scores=SCORES, spec: ModelSpec | None = None) -> list[GridLayer]:
    """Every grid ``geo grid --out OUT_DIR`` writes for ``scores``, in model order (per type and score:
    the score, its uncertainty, its ensemble spread), with title, ramp, legend and unit; the files may
    not exist yet. ``spec``: the model that made them (when not given, the one OUT_DIR records)."""
    spec = spec or build_spec(out_dir)
    s = spec.style
    out = []
    for t in spec.types:
        for score in scores:
            ov = overlay(t, out_dir, score, spec)
            out.append(GridLayer(ov.path, ov.title, ov.ramp, ov.legend, s.get("score_unit", ""), t, score))
            if score in MISSABLE:
                out.append(GridLayer(ov.uncertainty_path, Text(f"{ov.title.vi} — độ bất định", f"{ov.title.en} — uncertainty"),
                                     ov.uncertainty_ramp, ov.uncertainty_legend, s.get("uncertainty_unit", ""), t, score,
                                     "uncertainty"))
            out.append(GridLayer(ov.spread_path, Text(f"{ov.title.vi} — độ phân tán", f"{ov.title.en} — spread"),
                                 ov.uncertainty_ramp, Text(**s["spread_legend"]), s.get("score_unit", ""), t, score,
                                 "spread"))
    return out
