"""The CLI's arguments checked where they enter: finite numbers in their ranges, coordinates, worker
counts capped at what the machine has, and output folders that are neither empty nor the package's own.

Each refusal is a :class:`click.BadParameter` (one line, exit 2); a cap is a one-line note on stderr.
"""
from __future__ import annotations

import math
from pathlib import Path

import click

from geo.files.paths import safe_user_path
from layers.model.prospectivity import default_jobs  # the CPUs this process may use

MAX_RESOLUTION_M = 100_000.0  # a coarser grid would have a handful of cells over the whole country


class Number(click.ParamType):
    """A finite real number in [``low``, ``high``] (``nan``, ``inf`` and ``1e309`` are refused)."""

    name = "number"

    def __init__(self, low: float, high: float, unit: str = ""):
        self.low, self.high, self.unit = low, high, unit

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            v = float(value)
        else:
            try:
                v = float(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(v):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if not self.low <= v <= self.high:
            self.fail(f"{value!r} is outside {self.low:g} to {self.high:g}{self.unit}", param, ctx)
        return v

    def get_metavar(self, param, ctx=None):
        return None if isinstance(param, click.Argument) else "NUMBER"


RESOLUTION = Number(1, MAX_RESOLUTION_M, " m")
# `geo explain` scores one cell, but an evidence padded by a distance (the shoreline's reach: far_m / res cells
# on each side) burns a box around it: at 1 m, 20,001 x 20,001 cells and their distance transform (3.6 GB)
EXPLAIN_RESOLUTION = Number(5, MAX_RESOLUTION_M, " m")
LONGITUDE = Number(-180, 180, "°")
LATITUDE = Number(-90, 90, "°")


def cap_jobs(jobs: int | None, note) -> int | None:
    """``--jobs`` capped at the CPUs this process may use (more threads only hold more tiles in memory)."""
    cpus = default_jobs()
    if jobs is not None and jobs > cpus:
        note(f"note: --jobs {jobs} capped at {cpus}, the CPUs this machine gives this process")
        return cpus
    return jobs


def cap_scheduler(scheduler: str | None, note) -> str | None:
    """``--scheduler local:N`` capped at the CPUs here (each worker process also reserves its own memory)."""
    if not scheduler or not scheduler.startswith("local:"):
        return scheduler
    n = scheduler.removeprefix("local:")
    if not n.isdigit() or int(n) < 1:
        raise click.BadParameter(f"bad worker count {scheduler!r}; use local:N with N >= 1, or a scheduler "
                                 "address such as tcp://host:8786", param_hint="'--scheduler'")
    cpus = default_jobs()
    if int(n) > cpus:
        note(f"note: --scheduler {scheduler} capped at local:{cpus}, the CPUs this machine gives this process")
        return f"local:{cpus}"
    return scheduler


def _package_dirs() -> list[Path]:
    import geo
    import layers
    import maps
    return [Path(m.__file__).resolve().parent for m in (geo, layers, maps)]


def output_dir(ctx, param, value):
    """An output folder: local, not empty, and not one whose sub-folders (maps/, grids/...) would be the
    project's own packages (``--out ''`` or ``--out .`` in the project would write into ``maps/``)."""
    if value is None:
        return None
    if not str(value).strip():
        raise click.BadParameter("an empty path; give an output folder such as build", ctx, param)
    path = safe_user_path(value, param.opts[0] if param.opts else param.name)
    where = path.resolve()
    for pkg in _package_dirs():
        if where == pkg.parent or where.is_relative_to(pkg):
            raise click.BadParameter(f"{value!r} would write into the project's own {pkg.name}/ package; "
                                     "give an output folder such as build", ctx, param)
    return path
