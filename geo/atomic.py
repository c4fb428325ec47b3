"""Write outputs so that a failed or interrupted run leaves the previous file intact."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from geo.errors import ExportError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it over ``target`` only on success.

    The temporary file keeps ``target``'s suffix (GDAL picks drivers by extension) and lives in
    the same directory, so the final ``os.replace`` is atomic on the same filesystem.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=suffix or target.suffix, dir=target.parent
        )
    except OSError as exc:
        raise ExportError(f"cannot write to {target.parent}: {exc.strerror or exc}; "
                          "fix: choose a writable output directory") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # let writers create it fresh (GDAL refuses to overwrite some formats)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)
