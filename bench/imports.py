"""Large and hostile imports (issue 22): wall time and peak memory of each as its own child process.

    python -m bench.imports [--rows 1000000] [--resolution 20000] [--bomb-gib 4] [--skip-build]

1. ``geo import`` of a seeded CSV of ROWS sample points inside Vietnam (id, lon, lat, ce_ppm);
2. ``geo import`` of a KMZ zip bomb (one member of BOMB_GIB GiB of zeros): refused from the zip's directory;
3. ``geo build`` at RESOLUTION with the import, against the same build without it (the baseline of the same run).

Each child is timed by ``os.wait4`` (its own peak resident memory; ``RUSAGE_CHILDREN`` keeps the largest
child so far). The machine's load average is printed before and after: on a shared machine the wall
times move with it, the CPU times less.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

CENTRES = ((105.83, 21.03), (103.55, 22.30), (108.0, 12.7), (106.6, 10.8))  # Hà Nội, Đông Pao, highlands, HCMC


def write_points(path: Path, rows: int, seed: int = 1) -> Path:
    import numpy as np
    rng = np.random.default_rng(seed)
    c = np.array(CENTRES)[rng.integers(0, len(CENTRES), rows)]
    lon, lat = c[:, 0] + rng.uniform(-0.15, 0.15, rows), c[:, 1] + rng.uniform(-0.15, 0.15, rows)
    ce = rng.uniform(10, 5000, rows)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id,lon,lat,ce_ppm\n")
        for i in range(0, rows, 100_000):
            j = min(i + 100_000, rows)
            fh.write("".join(f"s{k},{lon[k]:.6f},{lat[k]:.6f},{ce[k]:.2f}\n" for k in range(i, j)))
    return path


def write_bomb(path: Path, gib: float) -> Path:
    """A KMZ whose doc.kml unpacks to ``gib`` GiB of zeros (deflated, about 1,000 times smaller)."""
    size = int(gib * (1 << 30))
    chunk = bytes(1 << 24)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("doc.kml", "w", force_zip64=True) as fh:
            left = size
            while left > 0:
                fh.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)
    return path


def run(args: list[str], cwd: Path) -> tuple[int, float, float, float, str]:
    """(exit status, wall s, CPU s, peak RSS MB, last line of stderr) of ``python -m geo ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "geo", *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                                stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        last = (err.read().decode("utf-8", "replace").strip().splitlines() or [""])[-1]
    return os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, last


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--resolution", type=float, default=20000)
    ap.add_argument("--bomb-gib", type=float, default=4.0)
    ap.add_argument("--skip-build", action="store_true")
    a = ap.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    print(f"load average before: {_load()} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        d = Path(tmp)
        pts = write_points(d / "points.csv", a.rows)
        bomb = write_bomb(d / "bomb.kmz", a.bomb_gib)
        rows = []
        rc, wall, cpu, rss, last = run(["import", str(bomb), "--as", "occurrences", "--dir", str(d / "imports")], root)
        rows.append((f"import KMZ bomb ({a.bomb_gib:g} GiB in {bomb.stat().st_size / 1e6:.1f} MB)", rc, wall, cpu, rss))
        print(f"  bomb refused: {last[:160]}")
        rc, wall, cpu, rss, last = run(["import", str(pts), "--as", "samples", "--dir", str(d / "imports")], root)
        rows.append((f"import CSV of {a.rows:,} points ({pts.stat().st_size / 1e6:.0f} MB)", rc, wall, cpu, rss))
        if not a.skip_build:
            for label, extra in (("build without the import (baseline)", ["--imports", str(d / "none")]),
                                 (f"build with the {a.rows:,}-point import", ["--imports", str(d / "imports")])):
                out = d / ("out_" + str(len(rows)))
                rc, wall, cpu, rss, last = run([*extra, "-q", "build", "--out", str(out), "--resolution",
                                                f"{a.resolution:g}"], root)
                html = out / "maps" / "national.html"
                size = f", national.html {html.stat().st_size / 1e6:.1f} MB" if html.exists() else ""
                if extra[1] == str(d / "imports") and rc == 0:
                    import pyogrio
                    kept = pyogrio.read_info(out / "vietnam_ree.gpkg", layer="points")["features"]
                    size += f", GeoPackage layer 'points' {kept:,} rows"
                rows.append((f"{label} at {a.resolution:g} m{size}", rc, wall, cpu, rss))
    print(f"{'run':<70} {'exit':>4} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}")
    for label, rc, wall, cpu, rss in rows:
        print(f"{label:<70} {rc:>4} {wall:>8.1f} {cpu:>8.1f} {rss:>8.0f}")
    if not a.skip_build and len(rows) == 4:
        print(f"build with / without the import: x{rows[3][2] / rows[2][2]:.2f} wall, x{rows[3][3] / rows[2][3]:.2f} CPU")
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
