"""The declared fuzzy prospectivity model (layers/models/prospectivity.toml), loaded and checked."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from geo.catalog import HEX_COLOUR, TableReader, Text
from geo.errors import CatalogError, Problem, raise_if
from geo.fuzzy import OPERATORS
from geo.tomlfile import read_toml
from layers import ROOT

SPEC_PATH = ROOT / "models" / "prospectivity.toml"
KINDS = {  # evidence kind -> its required numeric parameters
    "site_distance": ("decay_m", "high", "low"),
    "zone_membership": ("outside",),
    "shoreline_distance": ("near_m", "far_m", "high", "low"),
    "unavailable": (),
    "user_raster": (),
}


@dataclass(frozen=True)
class Evidence:
    name: str
    kind: str
    params: dict
    rationale: str
    refs: tuple[str, ...]


@dataclass(frozen=True)
class TypeModel:
    name: str
    title: Text
    operator: str
    gamma: float | None
    evidence: tuple[Evidence, ...]
    rationale: str
    refs: tuple[str, ...]


@dataclass(frozen=True)
class ModelSpec:
    path: Path
    resolution_m: float
    table_resolution_m: float
    top_shares: tuple[float, ...]
    types: dict[str, TypeModel]
    style: dict
    raw: dict = field(repr=False)

    def refs(self) -> set[str]:
        """Every reference id the spec cites."""
        out = set(self.raw.get("uncertainty_refs", [])) | set(self.raw.get("validation_refs", []))
        for t in self.types.values():
            out |= set(t.refs)
            for e in t.evidence:
                out |= set(e.refs)
        return out

    def metadata(self, type_name: str) -> str:
        """The type's model as JSON, for the GeoTIFF metadata."""
        return json.dumps(self.raw["types"][type_name], ensure_ascii=False, sort_keys=True)


def _problem(path, key, message, value=None, fix=None):
    return Problem(str(path), message, field=key, value=value, fix=fix)


def _evidence(path, where, t, problems) -> Evidence | None:
    kind = t.get("kind")
    if kind not in KINDS:
        problems.append(_problem(path, f"{where}.kind", "unknown evidence kind", kind,
                                 f"use one of {', '.join(KINDS)}"))
        return None
    for key in ("name", "rationale"):
        if not isinstance(t.get(key), str) or not t.get(key):
            problems.append(_problem(path, f"{where}.{key}", "missing text", t.get(key), f"add '{key} = \"…\"'"))
    if not t.get("refs"):
        problems.append(_problem(path, f"{where}.refs", "no reference id", None,
                                 "cite at least one id from sources/references.csv"))
    for key in KINDS[kind]:
        v = t.get(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
            problems.append(_problem(path, f"{where}.{key}", "must be a non-negative number", v))
    for key in ("high", "low", "outside"):
        if key in t and isinstance(t[key], (int, float)) and not 0 <= t[key] <= 1:
            problems.append(_problem(path, f"{where}.{key}", "a membership must lie in [0, 1]", t[key]))
    if kind == "zone_membership":
        conf = t.get("confidence") or {}
        for level in ("high", "medium", "low"):
            if not isinstance(conf.get(level), (int, float)) or not 0 <= conf[level] <= 1:
                problems.append(_problem(path, f"{where}.confidence.{level}", "a membership in [0, 1] is needed",
                                         conf.get(level)))
    params = {k: v for k, v in t.items() if k not in ("name", "kind", "rationale", "refs")}
    return Evidence(t.get("name", "?"), kind, params, t.get("rationale", ""), tuple(t.get("refs", [])))


def load_spec(path: str | Path = SPEC_PATH) -> ModelSpec:
    """Read and check the model spec; raise one :class:`CatalogError` naming every problem."""
    path = Path(path)
    raw = read_toml(path)
    raise_if(structure_problems(path, raw), CatalogError)
    problems: list[Problem] = []
    types = {}
    for name, t in (raw.get("types") or {}).items():
        where = f"types.{name}"
        op = t.get("operator")
        if op not in OPERATORS:
            problems.append(_problem(path, f"{where}.operator", "unknown fuzzy operator", op,
                                     f"use one of {', '.join(OPERATORS)}"))
        gamma = t.get("gamma")
        if op == "gamma" and not (isinstance(gamma, (int, float)) and 0 <= gamma <= 1):
            problems.append(_problem(path, f"{where}.gamma", "gamma must lie in [0, 1]", gamma))
        if not t.get("rationale") or not t.get("refs"):
            problems.append(_problem(path, where, "the operator needs a rationale and refs", None,
                                     "add 'rationale = \"…\"' and 'refs = [\"id\"]'"))
        title = t.get("title") or {}
        evs = [_evidence(path, f"{where}.evidence[{i}]", e, problems) for i, e in enumerate(t.get("evidence") or [])]
        if not evs:
            problems.append(_problem(path, f"{where}.evidence", "a type needs at least one evidence"))
        types[name] = TypeModel(name, Text(title.get("vi", name), title.get("en", name)), op or "and",
                                gamma, tuple(e for e in evs if e), t.get("rationale", ""), tuple(t.get("refs", [])))
    if not types:
        problems.append(_problem(path, "types", "no deposit type is modelled", fix="add a [types.NAME] table"))
    style = raw.get("style") or {}
    for key in ("score_ramp", "uncertainty_ramp"):
        if not isinstance(style.get(key), list) or len(style[key]) < 2:
            problems.append(_problem(path, f"style.{key}", "needs a list of at least two '#RRGGBB' colours",
                                     style.get(key)))
    if problems:
        raise CatalogError(problems=problems)
    return ModelSpec(path, float(raw.get("resolution_m", 250)), float(raw.get("table_resolution_m", 2000)),
                     tuple(raw.get("top_shares", (0.05, 0.10, 0.20))), types, style, raw)


def _ids(r: TableReader, t: dict, key: str, where: str) -> None:
    ids = r.get(t, key, list, where, required=False)
    if ids is not None and not all(isinstance(i, str) and i for i in ids):
        r.problem(f"{where}.{key}" if where else key, "must be a list of reference ids", ids,
                  fix=f'write {key} = ["id", …]')


def structure_problems(path: Path, raw: dict) -> list[Problem]:
    """Tables, lists, texts and numbers where the spec declares them, checked before the model is read
    (so a mistyped key is reported with its place, never met as a crash later)."""
    problems: list[Problem] = []
    r = TableReader(path, problems)
    for key in ("resolution_m", "table_resolution_m"):
        v = r.get(raw, key, (int, float), "", required=False)
        if v is not None and v <= 0:
            r.problem(key, "must be a positive number of metres", v)
    shares = r.get(raw, "top_shares", list, "", required=False)
    if shares is not None and not (shares and all(isinstance(s, (int, float)) and not isinstance(s, bool)
                                                  and 0 < s < 1 for s in shares)):
        r.problem("top_shares", "must be a list of shares between 0 and 1", shares)
    for key in ("uncertainty_refs", "validation_refs"):
        _ids(r, raw, key, "")
    style = r.get(raw, "style", dict, "", required=False) or {}
    for key in ("score_ramp", "uncertainty_ramp"):
        ramp = style.get(key)
        if isinstance(ramp, list) and not all(isinstance(c, str) and HEX_COLOUR.match(c) for c in ramp):
            r.problem(f"style.{key}", "colours must be '#RRGGBB'", ramp)
    for name, t in (r.get(raw, "types", dict, "", required=False) or {}).items():
        where = f"types.{name}"
        if not isinstance(t, dict):
            r.problem(where, "must be a table", t)
            continue
        title = r.get(t, "title", dict, where, required=False)
        for lang in ("vi", "en"):
            if title is not None:
                r.get(title, lang, str, f"{where}.title", required=False)
        for key in ("operator", "rationale"):
            r.get(t, key, str, where, required=False)
        r.get(t, "gamma", (int, float), where, required=False)
        _ids(r, t, "refs", where)
        for i, e in enumerate(r.get(t, "evidence", list, where, required=False) or []):
            w = f"{where}.evidence[{i}]"
            if not isinstance(e, dict):
                r.problem(w, "must be a table", e)
                continue
            for key in ("name", "kind", "rationale"):
                r.get(e, key, str, w, required=False)
            _ids(r, e, "refs", w)
            r.get(e, "confidence", dict, w, required=False)
    return problems
