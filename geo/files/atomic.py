"""Write outputs so that a failed or interrupted run leaves the previous file intact.

Every temporary output is named ``.<stem>.geo-tmp-<pid>-<random><suffix>`` (a file, or a scratch
folder) beside its target. A run killed outright (``kill -9``, power loss) cannot remove its own;
the next run that writes into the same directory removes those whose process is gone, and only
those: names of another pattern, and temporaries of a run still alive, are left alone. (Liveness is
checked on this machine: do not share one output folder between machines running builds at once.)
A failure while writing becomes one :class:`~geo.errors.ExportError` naming the output and the
cause (``ENOSPC``, ``EROFS``…), also when GDAL reports it only as "failed to commit".
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pyogrio.errors
import rasterio.errors
from rasterio._err import CPLE_BaseError

from geo.errors import ExportError, GeoError

TEMP_TAG = "geo-tmp"
_TEMP = re.compile(rf"^\..+\.{TEMP_TAG}-(?P<pid>\d+)-[a-z0-9_]{{8}}")
_LOW_SPACE = 1 << 20  # bytes: after a failed write, less free space than this means the disk filled up
WRITE_ERRORS = (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                rasterio.errors.RasterioError, CPLE_BaseError)
_CAUSES = {errno.ENOSPC: "no space left on device (ENOSPC)", errno.EDQUOT: "disk quota exceeded (EDQUOT)",
           errno.EROFS: "read-only file system (EROFS)", errno.EACCES: "permission denied (EACCES)",
           errno.EPERM: "operation not permitted (EPERM)", errno.ENOTDIR: "a path part is a file (ENOTDIR)"}
_FIXES = {errno.ENOSPC: "free some space or give another output directory (--out)",
          errno.EDQUOT: "free some space or give another output directory (--out)"}
_swept: set[Path] = set()


def temp_prefix(target: Path) -> str:
    """The name start of this process's temporaries for ``target``."""
    return f".{target.stem}.{TEMP_TAG}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(directory: str | os.PathLike) -> list[Path]:
    """Remove the temporaries of dead runs in ``directory`` (once per process); return what went."""
    directory = Path(directory)
    key = directory.resolve()
    if key in _swept:
        return []
    _swept.add(key)
    removed = []
    with contextlib.suppress(OSError):
        for entry in directory.iterdir():
            m = _TEMP.match(entry.name)
            if not m or _alive(int(m["pid"])):
                continue
            with contextlib.suppress(OSError):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                removed.append(entry)
    return removed


def _cause(exc: BaseException, directory: Path) -> tuple[str, int | None]:
    """Why a write failed, as ``(text, errno)``: the errno when the error carries one, else what the
    file system says (full, read-only), else the writer's own message."""
    code = exc.errno if isinstance(exc, OSError) and exc.errno in _CAUSES else None
    if code is None:
        with contextlib.suppress(OSError):
            st = os.statvfs(directory)
            if st.f_flag & os.ST_RDONLY:
                code = errno.EROFS
            elif st.f_bavail * st.f_frsize < _LOW_SPACE:
                code = errno.ENOSPC
    if code is not None:
        return _CAUSES[code], code
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split()), None


def export_error(exc: BaseException, target: Path) -> ExportError:
    """One :class:`ExportError` line naming ``target`` and the cause of ``exc``."""
    cause, code = _cause(exc, target.parent if target.parent.exists() else Path("."))
    fix = _FIXES.get(code, "give a writable output directory (--out)")
    return ExportError(f"cannot write {target}: {cause}; fix: {fix}")


@contextlib.contextmanager
def output_errors(target: str | os.PathLike) -> Iterator[None]:
    """Turn a writer's failure (OS, GDAL, pyogrio, rasterio) inside the block into an :class:`ExportError`."""
    try:
        yield
    except GeoError:
        raise
    except WRITE_ERRORS as exc:
        raise export_error(exc, Path(target)) from exc


def temp_dir(target: str | os.PathLike) -> tempfile.TemporaryDirectory:
    """A scratch folder beside ``target`` (removed on exit; by a later run if this one is killed)."""
    target = Path(target)
    with output_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(target.parent)
        return tempfile.TemporaryDirectory(prefix=temp_prefix(target), dir=target.parent)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it over ``target`` only on success.

    The temporary file keeps ``target``'s suffix (GDAL picks drivers by extension) and lives in
    the same directory, so the final ``os.replace`` is atomic on the same filesystem.
    """
    target = Path(target)
    with output_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(target.parent)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=suffix or target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # let writers create it fresh (GDAL refuses to overwrite some formats)
    try:
        with output_errors(target):
            yield tmp_path
            os.replace(tmp_path, target)
    except BaseException:
        for side in tmp_path.parent.iterdir():  # and GDAL's side files (-journal, .dbf…)
            if not side.name.startswith(tmp_path.stem):
                continue
            with contextlib.suppress(OSError):
                side.unlink() if not side.is_dir() else shutil.rmtree(side)
        raise


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def replace_dir(new: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Move the finished folder ``new`` (a scratch folder beside ``target``'s parent entries, on the same
    file system) into place as ``target``; the previous ``target`` is removed only once the new one is
    there, so a reader sees the old folder or the new one, never a half-written one."""
    new, target = Path(new), Path(target)
    old = None
    with output_errors(target):
        if target.exists():
            old = new.parent / f"{new.name}.previous"
            os.replace(target, old)
        os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target
