"""Which model made a build's grids: every grid run writes, beside its COGs, ``model.toml`` (the model
file's bytes, as parsed) and then ``model.json`` (the path it was read from and its SHA-256). Every
reader of a build (legends, click panel, sources, QGIS styles, STAC) takes its model from
:func:`build_spec`, so a map redrawn later describes the model that made its grids, even when the
model file has since changed or gone: the build is self-contained."""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from geo.errors import CatalogError, Problem
from geo.files.atomic import write_bytes, write_text
from layers.model.model_spec import SPEC_PATH, ModelSpec, load_spec

MODEL_STEM = "model"  # one name, two files: the copy and its record (one STAC item, maps/stac.py)
MODEL_COPY, MODEL_RECORD = f"{MODEL_STEM}.toml", f"{MODEL_STEM}.json"
GRIDS_DIR = "grids"  # OUT/grids: the COGs of a grid run, and its model


def record_model(spec: ModelSpec, grids_dir: Path) -> tuple[Path, Path]:
    """Write ``GRIDS_DIR/model.toml`` and ``model.json`` for ``spec`` (each atomically, the record last:
    a run stopped between them leaves a copy that does not match its record, which readers refuse)."""
    copy = write_bytes(Path(grids_dir) / MODEL_COPY, spec.content)
    record = {"model": MODEL_COPY, "sha256": spec.sha256, "source": str(Path(spec.path).resolve())}
    return copy, write_text(Path(grids_dir) / MODEL_RECORD, json.dumps(record, indent=2, ensure_ascii=False) + "\n")


def check_replaceable(spec: ModelSpec, grids_dir: Path, stems: set[str]) -> None:
    """Refuse, before anything is computed, a run of another model than the one ``grids_dir`` records that
    would leave COGs it does not write (``stems``: the file names it writes): the record would then ascribe
    them to this model. A folder without a (readable) record is not judged."""
    try:
        record = model_record(Path(grids_dir).parent)
    except CatalogError:
        return
    if record is None or record["sha256"] == spec.sha256:
        return
    others = sorted(p.name for p in Path(grids_dir).glob("*.tif") if p.stem not in stems)
    if others:
        out = Path(grids_dir).parent
        raise CatalogError(problems=[Problem(
            str(Path(grids_dir) / MODEL_RECORD),
            f"the grids here ({', '.join(others[:3])}{', …' if len(others) > 3 else ''}) were made by another model "
            f"(SHA-256 {record['sha256'][:12]}…) and would be described by {Path(spec.path).name} after this run",
            fix=f"run every type of the model (without --types), or write into another folder (--out, not {out})")])


def _refused(path: Path, message: str) -> CatalogError:
    out = path.parent.parent
    return CatalogError(problems=[Problem(str(path), message,
                                          fix=f"rebuild the grids (geo grid --out {out}, or geo build) or restore "
                                              f"the {GRIDS_DIR}/ folder as the grid run left it")])


def model_record(out_dir: str | Path) -> dict | None:
    """The record of the build in ``out_dir`` (``model``, ``sha256``, ``source``), or None when it has none."""
    path = Path(out_dir) / GRIDS_DIR / MODEL_RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not all(isinstance(record.get(k), str) for k in ("sha256", "source")):
            raise ValueError("sha256 and source must be texts")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError) as exc:
        raise _refused(path, f"not a record of the model that made the grids ({type(exc).__name__}: {exc})")
    return record


def build_spec(out_dir: str | Path, open_files: bool = False) -> ModelSpec:
    """The model that made the grids of the build in ``out_dir``: its recorded copy, checked against the
    record's SHA-256; the default model when the build records none (no grid run yet). ``open_files``:
    also check the files its evidence names, where the grid run read them (to run the model again)."""
    record = model_record(out_dir)
    if record is None:
        return load_spec(open_files=open_files)
    copy, sha = Path(out_dir) / GRIDS_DIR / MODEL_COPY, record["sha256"]
    try:
        found = hashlib.sha256(copy.read_bytes()).hexdigest()
    except OSError as exc:
        raise _refused(copy, f"the copy of the model that made the grids cannot be read ({exc.strerror or exc})")
    if found != sha:
        raise _refused(copy, f"differs from the model that made the grids (SHA-256 {found[:12]}…, recorded "
                             f"{sha[:12]}… in {MODEL_RECORD})")
    try:
        return load_spec(copy, Path(record["source"]), open_files)
    except CatalogError as exc:  # this code no longer reads the copy, or an evidence file has gone
        fix = (f"restore {'what it names where the grid run read it' if open_files else 'the file'}, or rebuild "
               f"the grids (geo grid --out {out_dir}, or geo build)")
        raise CatalogError(problems=[replace(p, fix=fix) for p in exc.problems]) from None


def is_default(spec: ModelSpec) -> bool:
    """Whether ``spec`` is the project's model as it is now (layers/models/prospectivity.toml, byte for byte)."""
    return spec.sha256 == hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest()
