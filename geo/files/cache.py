"""A content-addressed cache of derived geometries, shared by the processes of one user.

A derived geometry or table that takes seconds to compute (e.g. the open sea: a buffer and union of the national
land, 3.2 s) is stored as WKB under a key that is the SHA-256 of everything it is made from: its
inputs, its parameters and the source code of the functions that make it. The same inputs give the
same key and the same bytes back (WKB round-trips exactly); any change of input or code gives
another key, so an entry is never stale. The folder is ``$GEO_CACHE_DIR``, else ``build/.cache`` of
the working directory (where the outputs go by default; ``make clean`` empties it); ``GEO_CACHE_DIR=off``
turns the cache off. Deleting the folder is always safe. An entry that cannot be read is computed
again and replaced; a folder that cannot be written is only not used.
"""
from __future__ import annotations

import contextlib
import hashlib
import inspect
import marshal
import os
import pickle
from pathlib import Path
from typing import Any, Callable

import shapely

from geo.files.atomic import write_bytes

DEFAULT_DIR = "build/.cache"  # beside the default outputs (--out build), never committed


def cache_dir() -> Path | None:
    """The cache folder (None: turned off with ``GEO_CACHE_DIR=off``)."""
    given = os.environ.get("GEO_CACHE_DIR")
    if given:
        return None if given.lower() == "off" else Path(given)
    return Path(DEFAULT_DIR).absolute()


def _code(fn: Callable) -> bytes | str:
    """The source of ``fn``; its compiled code where the source is not shipped."""
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return marshal.dumps(fn.__code__)


def digest(*parts: bytes | str, code: tuple[Callable, ...] = ()) -> str:
    """SHA-256 of ``parts`` and of the source code of the functions ``code``."""
    h = hashlib.sha256()
    for part in (*parts, *map(_code, code)):
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def library_versions() -> list[str]:
    """The versions of Python and of the numerical and geospatial libraries (with GDAL, GEOS and PROJ), for
    keys of values they compute: an upgrade gives other keys, never an entry made by another version."""
    import sys

    import geopandas
    import numpy
    import pandas
    import pyogrio
    import pyproj
    import rasterio
    import scipy
    return [sys.version, numpy.__version__, pandas.__version__, geopandas.__version__, pyogrio.__version__,
            pyogrio.__gdal_version_string__, pyproj.__version__, pyproj.proj_version_str, rasterio.__version__,
            rasterio.__gdal_version__, scipy.__version__, shapely.__version__, shapely.geos_version_string]


def cached_geometry(name: str, key: str, make: Callable[[], shapely.Geometry]) -> shapely.Geometry:
    """The geometry stored as ``NAME-KEY.wkb`` in the cache folder, else ``make()``, stored there."""
    folder = cache_dir()
    path = folder / f"{name}-{key}.wkb" if folder else None
    if path is not None and path.is_file():
        with contextlib.suppress(OSError, shapely.errors.GEOSException):
            return shapely.from_wkb(path.read_bytes())
    geom = make()
    if path is not None:
        with contextlib.suppress(Exception):  # a cache that cannot be written is only not used
            write_bytes(path, shapely.to_wkb(geom))
    return geom


def cached_pickle(name: str, key: str | None, make: Callable[[], Any], keep: int = 16) -> Any:
    """The value stored as ``NAME-KEY.pickle`` in the cache folder, else ``make()``, stored there (the
    ``keep`` newest entries of ``name`` are kept). ``key`` None: not cached. Only this cache's own files
    are unpickled (the folder is the user's own, like the outputs beside it)."""
    folder = cache_dir()
    path = folder / f"{name}-{key}.pickle" if folder and key else None
    if path is not None and path.is_file():
        with contextlib.suppress(Exception):  # unreadable, truncated, or from other library versions: made again
            return pickle.loads(path.read_bytes())
    value = make()
    if path is not None:
        with contextlib.suppress(Exception):
            write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            old = sorted(folder.glob(f"{name}-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)[keep:]
            for stale in old:
                stale.unlink(missing_ok=True)
    return value


def files_digest(paths, limit: int = 2_000, max_bytes: int = 200 << 20) -> bytes | None:
    """SHA-256 over the names and contents of ``paths`` (files, or folders walked without ``__pycache__``
    and hidden entries), in sorted order; None when they exceed ``limit`` files or ``max_bytes``."""
    files: set[Path] = set()
    for p in map(Path, paths):
        if p.is_dir():
            for q in p.rglob("*"):
                if q.is_file() and not any(part == "__pycache__" or part.startswith(".") for part in q.relative_to(p).parts):
                    files.add(q.resolve())
                    if len(files) > limit:
                        return None
        elif p.is_file():
            files.add(p.resolve())
    h, size = hashlib.sha256(), 0
    for f in sorted(files):
        data = f.read_bytes()
        size += len(data)
        if size > max_bytes:
            return None
        for part in (str(f).encode(), data):
            h.update(len(part).to_bytes(8, "little"))
            h.update(part)
    return h.digest()
