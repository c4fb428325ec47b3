"""The declared fuzzy prospectivity model (layers/models/prospectivity.toml), loaded and checked."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from geo.catalog import HEX_COLOUR, TableReader, Text
from geo.errors import CatalogError, Problem, raise_if
from geo.raster.fuzzy import OPERATORS
from geo.files.tomlfile import read_toml
from layers.model.evidence import (COMPONENTS, KINDS, MEMBERSHIP_VALUES, Evidence, check_coverage, check_membership,
                             numeric_leaves)
from layers import ROOT

SPEC_PATH = ROOT / "models" / "prospectivity.toml"
RESERVED = ("name", "kind", "rationale", "refs", "component", "basis", "ranges")
# the null of a type's validation (`validation = { null = ... }`): random points on scored land ("land"), or
# on scored land within `null_within_m` of the sea ("near_sea", measured as the shoreline_distance evidence does)
NULLS = ("land", "near_sea")


@dataclass(frozen=True)
class TypeModel:
    name: str
    title: Text
    operator: str
    gamma: float | None
    evidence: tuple[Evidence, ...]
    rationale: str
    refs: tuple[str, ...]
    validation: dict = field(default_factory=dict)  # null, null_within_m, null_rationale, simplest


@dataclass(frozen=True)
class ModelSpec:
    path: Path
    resolution_m: float
    table_resolution_m: float
    top_shares: tuple[float, ...]
    types: dict[str, TypeModel]
    style: dict
    raw: dict = field(repr=False)
    ensemble_runs: int = 20  # members of the parameter ensemble (layers/model/uncertainty.py)
    ensemble_seed: int = 1
    ensemble_resolution_m: float = 5000.0
    content: bytes = field(default=b"", repr=False)  # the file's bytes, as parsed (layers/model/record.py copies them)

    @property
    def sha256(self) -> str:
        """The SHA-256 of the model file's bytes (hex)."""
        return hashlib.sha256(self.content).hexdigest()

    def evidence_title(self, name: str) -> Text:
        """How readers see evidence ``name`` (``[evidence_text.NAME].title``; the id if undeclared)."""
        t = (self.raw.get("evidence_text") or {}).get(name, {}).get("title") or {}
        return Text(t.get("vi", name), t.get("en", name))

    def evidence_unit(self, name: str) -> Text | None:
        """The unit of evidence ``name``'s measured value, if it has one."""
        u = (self.raw.get("evidence_text") or {}).get(name, {}).get("unit")
        return Text(u["vi"], u["en"]) if u else None

    def evidence_classes(self, name: str) -> dict[str, Text]:
        """Class code -> name, for an evidence whose value is a class (e.g. a climate zone)."""
        c = (self.raw.get("evidence_text") or {}).get(name, {}).get("classes") or {}
        return {k: Text(v["vi"], v["en"]) for k, v in c.items()}

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


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


MAX_DISTANCE_M = 2_000_000  # as the zone rules: farther than Vietnam is long
# judgement: distances that pad every tile by as many cells (a relief box, the reach of the shoreline
# distance); beyond 100 km neither is local any more, and the padding would outgrow the tile
MAX_PADDING_M = {"window_m": 100_000, "far_m": 100_000}
MAX_ENSEMBLE_RUNS = 200  # judgement: the spread is stable long before; each run is a full pass at the ensemble grid
RESOLUTION_RANGE_M = {"resolution_m": (1, 100_000), "table_resolution_m": (100, 100_000),
                      "ensemble_resolution_m": (1000, 100_000)}


def distance_limit(key: str) -> float:
    return MAX_PADDING_M.get(key.rsplit(".", 1)[-1], MAX_DISTANCE_M)


def _evidence(path, where, t, problems, base: Path, files: bool = True) -> Evidence | None:
    """Check one evidence table (generic rules here, the kind's own in its ``check``); relative paths
    start from ``base``; ``files``: also open what it names (coverage, the kind's files)."""
    file = str(path)
    kind = t.get("kind")
    if kind not in KINDS:
        problems.append(_problem(path, f"{where}.kind", "unknown evidence kind", kind, f"use one of {', '.join(KINDS)}"))
        return None
    cls = KINDS[kind]
    for key in ("name", "rationale"):
        if not isinstance(t.get(key), str) or not t.get(key):
            problems.append(_problem(path, f"{where}.{key}", "missing text", t.get(key), f"add '{key} = \"…\"'"))
    if not t.get("refs") and t.get("basis") != "judgement":
        problems.append(_problem(path, f"{where}.refs", "no reference id", None,
                                 "cite an id from sources/references.csv, or say basis = \"judgement\""))
    if "component" in t and t["component"] not in COMPONENTS:
        problems.append(_problem(path, f"{where}.component", "unknown mineral-system component", t["component"],
                                 f"use one of {', '.join(COMPONENTS)}"))
    for key in cls.numbers:
        v = t.get(key)
        if not _is_number(v) or v < 0:
            problems.append(_problem(path, f"{where}.{key}", "must be a non-negative number", v))
        elif key.endswith("_m") and v > (limit := distance_limit(key)):
            problems.append(_problem(path, f"{where}.{key}", f"a distance beyond {limit / 1000:g} km", v,
                                     "give the distance in metres"))
    params = {k: v for k, v in t.items() if k not in RESERVED}
    leaves = numeric_leaves(params)
    for key, v in leaves.items():
        top, _, sub = key.partition(".")
        is_mu = top in cls.memberships or (top == "membership" and sub.split(".")[0] in MEMBERSHIP_VALUES)
        if is_mu and not 0 <= v <= 1:
            problems.append(_problem(path, f"{where}.{key}", "a membership must lie in [0, 1]", v))
    if cls.needs_function:
        check_membership(params.get("membership"), where, file, problems)
    ranges = t.get("ranges") or {}
    for key, r in ranges.items():
        if key not in leaves:
            problems.append(_problem(path, f"{where}.ranges.{key}", "a range for a parameter the evidence does not have",
                                     fix=f"use one of {', '.join(leaves) or '(none)'}"))
        elif not (isinstance(r, list) and len(r) == 2 and all(map(_is_number, r)) and r[0] <= r[1]):
            problems.append(_problem(path, f"{where}.ranges.{key}", "a range is [low, high]", r))
        elif key.endswith("_m") and r[1] > distance_limit(key):
            problems.append(_problem(path, f"{where}.ranges.{key}", f"a distance beyond {distance_limit(key) / 1000:g} km", r))
        elif not r[0] <= leaves[key] <= r[1]:
            problems.append(_problem(path, f"{where}.{key}", f"parameter outside its declared range [{r[0]}, {r[1]}]",
                                     leaves[key]))
    ev = Evidence(t.get("name", "?"), kind, params, t.get("rationale", ""), tuple(t.get("refs", [])),
                  t.get("component", ""), t.get("basis", ""), {k: tuple(v) for k, v in ranges.items()},
                  base)
    if "coverage" in t and files:
        check_coverage(ev, where, file, problems)
    src_res = t.get("source_resolution_m")
    if src_res is not None and (not _is_number(src_res) or src_res <= 0):
        problems.append(_problem(path, f"{where}.source_resolution_m", "must be a positive number of metres", src_res))
    if files:
        cls.check(ev, where, file, problems)
    return ev


def load_spec(path: str | Path = SPEC_PATH, recorded_from: Path | None = None, open_files: bool = True) -> ModelSpec:
    """Read and check the model spec; raise one :class:`CatalogError` naming every problem.
    ``recorded_from``: ``path`` is a build's copy of that model file (layers/model/record.py): relative
    paths start from the original's folder. ``open_files``: also check the files the evidence names
    (describing a build needs none of them; running the model does)."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError:
        content = None  # read_toml names the file and the cause
    raw = read_toml(path, content=content)
    raise_if(structure_problems(path, raw), CatalogError)
    problems: list[Problem] = []
    types = {}
    base = Path(recorded_from or path).resolve().parent  # where the evidence's relative paths start
    named = set()  # every evidence name of every type, as written (a malformed evidence still has its name)
    for name, t in (raw.get("types") or {}).items():
        where = f"types.{name}"
        named.update(e.get("name") for e in t.get("evidence") or [])
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
        evs = [_evidence(path, f"{where}.evidence[{i}]", e, problems, base, open_files)
               for i, e in enumerate(t.get("evidence") or [])]
        if not evs:
            problems.append(_problem(path, f"{where}.evidence", "a type needs at least one evidence"))
        val = dict(t.get("validation") or {})
        _validation_problems(path, f"{where}.validation", val, [e.name for e in evs if e], problems)
        types[name] = TypeModel(name, Text(title.get("vi", name), title.get("en", name)), op or "and",
                                gamma, tuple(e for e in evs if e), t.get("rationale", ""), tuple(t.get("refs", [])),
                                val)
    if not types:
        problems.append(_problem(path, "types", "no deposit type is modelled", fix="add a [types.NAME] table"))
    for name in raw.get("evidence_text") or {}:  # a reader's title for an evidence the model does not have
        if name not in named:
            problems.append(_problem(path, f"evidence_text.{name}", "names no evidence of any type", name,
                                     "use the name of an evidence in [[types.*.evidence]] or remove the table"))
    style = raw.get("style") or {}
    for key in ("score_ramp", "uncertainty_ramp"):
        if not isinstance(style.get(key), list) or len(style[key]) < 2:
            problems.append(_problem(path, f"style.{key}", "needs a list of at least two '#RRGGBB' colours",
                                     style.get(key)))
    runs = raw.get("ensemble_runs", 20)
    if not isinstance(runs, int) or runs < 20:
        problems.append(_problem(path, "ensemble_runs", "the parameter ensemble needs at least 20 runs", runs))
    if problems:
        raise CatalogError(problems=problems)
    return ModelSpec(path, float(raw.get("resolution_m", 250)), float(raw.get("table_resolution_m", 2000)),
                     tuple(raw.get("top_shares", (0.05, 0.10, 0.20))), types, {**_project_legends(path), **style}, raw,
                     runs, int(raw.get("ensemble_seed", 1)), float(raw.get("ensemble_resolution_m", 5000)), content)


def _project_legends(path: Path) -> dict:
    """The project model's legend templates (``[style] *_legend``), for a model file that leaves them out:
    they say what a score means, and :func:`layers.model.overlay.score_legend` fills them with the
    titles of that model's own evidence."""
    if path.resolve() == SPEC_PATH.resolve():
        return {}
    return {k: v for k, v in (read_toml(SPEC_PATH).get("style") or {}).items() if k.endswith("_legend")}


def _validation_problems(path, where: str, val: dict, names: list[str], problems: list[Problem]) -> None:
    """The type's validation settings: a known null (with its distance and rationale) and evidence names."""
    null = val.setdefault("null", "land")
    if null not in NULLS:
        problems.append(_problem(path, f"{where}.null", "unknown validation null", null, f"use one of {', '.join(NULLS)}"))
    if null == "near_sea" and not (_is_number(val.get("null_within_m")) and val["null_within_m"] > 0):
        problems.append(_problem(path, f"{where}.null_within_m", "the near_sea null needs a positive distance in metres",
                                 val.get("null_within_m")))
    if null != "land" and not val.get("null_rationale"):
        problems.append(_problem(path, f"{where}.null_rationale", "say why this null", None, 'add null_rationale = "…"'))
    unknown = [n for n in val.get("simplest", []) if n not in names]
    if unknown:
        problems.append(_problem(path, f"{where}.simplest", "no such evidence in the type", ", ".join(map(str, unknown)),
                                 f"use some of {', '.join(names)}"))


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
    for key, (low, high) in RESOLUTION_RANGE_M.items():
        v = r.get(raw, key, (int, float), "", required=False)
        if v is not None and not low <= v <= high:
            r.problem(key, f"must be a number of metres from {low:g} to {high:g}", v)
    runs = r.get(raw, "ensemble_runs", int, "", required=False)
    if runs is not None and runs > MAX_ENSEMBLE_RUNS:
        r.problem("ensemble_runs", f"at most {MAX_ENSEMBLE_RUNS} runs", runs)
    seed = r.get(raw, "ensemble_seed", int, "", required=False)
    if seed is not None and not 0 <= seed < 2**32:
        r.problem("ensemble_seed", "a seed from 0 to 4294967295", seed)
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
    for key in (k for k in style if str(k).endswith("_legend")):  # a reader's text: { vi = "…", en = "…" }
        r.text(style, key, "style")
    for name, t in (r.get(raw, "evidence_text", dict, "", required=False) or {}).items():
        where = f"evidence_text.{name}"
        if not isinstance(t, dict):
            r.problem(where, "must be a table", t)
            continue
        for key in ("title", "unit"):
            text = r.get(t, key, dict, where, required=key == "title")
            for lang in ("vi", "en") if text is not None else ():
                r.get(text, lang, str, f"{where}.{key}")
        for code, text in (r.get(t, "classes", dict, where, required=False) or {}).items():
            for lang in ("vi", "en"):
                r.get(text if isinstance(text, dict) else {}, lang, str, f"{where}.classes.{code}")
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
            r.get(e, "ranges", dict, w, required=False)
            flt = r.get(e, "filter", dict, w, required=False)
            if flt is not None:
                r.get(flt, "field", str, f"{w}.filter")
                r.get(flt, "values", list, f"{w}.filter")
        val = r.get(t, "validation", dict, where, required=False) or {}
        r.get(val, "null", str, f"{where}.validation", required=False)
        r.get(val, "null_within_m", (int, float), f"{where}.validation", required=False)
        r.get(val, "null_rationale", str, f"{where}.validation", required=False)
        simplest = r.get(val, "simplest", list, f"{where}.validation", required=False)
        if simplest is not None and not all(isinstance(x, str) for x in simplest):
            r.problem(f"{where}.validation.simplest", "must be a list of evidence names", simplest)
    return problems
