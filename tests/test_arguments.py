"""CLI arguments checked where they enter (issue 22): non-finite or out-of-range numbers, coordinates
outside the grid, output folders that are empty or the package's own, grid requests this machine cannot
hold (refused before any work), and worker counts capped at the CPUs. Each refusal: exit 2, one line."""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, geo_in_process
from layers.model.prospectivity import default_jobs


def one_line_error(rc: int, err: str) -> str:
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("error: "), (rc, err)
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("args, text", [
    (["grid", "--resolution", "nan"], "'--resolution': 'nan' is not a finite number"),
    (["grid", "--resolution", "1e309"], "'--resolution': '1e309' is not a finite number"),
    (["grid", "--resolution", "-inf"], "is not a finite number"),
    (["grid", "--resolution", "0.5"], "'0.5' is outside 1 to 100000 m"),
    (["build", "--resolution", "1e6"], "is outside 1 to 100000 m"),
    (["grid", "--resolution", "abc"], "'abc' is not a number"),
    (["grid", "--jobs", "0"], "'--jobs'"),
    (["grid", "--scheduler", "local:0"], "bad worker count 'local:0'"),
    (["explain", "weathering_crust", "999", "999"], "'LON': '999' is outside -180 to 180°"),
    (["explain", "weathering_crust", "105", "nan"], "'LAT': 'nan' is not a finite number"),
    (["explain", "weathering_crust", "105", "21", "--resolution", "inf"], "not a finite number"),
    (["explain", "coastal_placer", "109", "12", "--resolution", "1"], "'1' is outside 5 to 100000 m"),
    (["map", "coastal", "--out", ""], "'--out': an empty path"),
    (["build", "--out", " "], "'--out': an empty path"),
    (["--catalog", "", "validate"], "'--catalog': an empty path"),
    (["--imports", "", "validate"], "'--imports': an empty path"),
    (["grid", "--nope"], "No such option '--nope'"),
])
def test_bad_argument_is_one_line_exit_2(args, text):
    line = one_line_error(*geo_in_process(*args)[::2])
    assert text in line and line.endswith("--help"), line


@pytest.mark.parametrize("out", [".", "maps", "layers/catalog"])
def test_output_into_the_package_is_refused(out, monkeypatch):
    """`--out ''` (the working folder) or `--out .` in the project would write OUT/maps/*.html into the
    package's own maps/; nothing is written."""
    monkeypatch.chdir(ROOT)
    before = sorted(p.name for p in (ROOT / "maps").iterdir())
    line = one_line_error(*geo_in_process("map", "coastal", "--out", out)[::2])
    assert "would write into the project's own" in line
    assert sorted(p.name for p in (ROOT / "maps").iterdir()) == before


def test_explain_outside_the_grid_names_its_extent():
    line = one_line_error(*geo_in_process("explain", "weathering_crust", "10", "10")[::2])
    assert "LON LAT: outside the grid's extent (value: 10.0, 10.0)" in line
    assert "longitude 102.10 to 116.56 and latitude 7.96 to 23.37" in line


# The child reports its own peak (VmHWM, per address space, reset at exec): its ru_maxrss from wait4 also
# counts the parent's resident memory at fork, so a pytest worker grown to 1.5 GB made a 300 MB run read 1.5 GB.
_REPORT_PEAK = ("import atexit, sys\n"
                "def report(path=sys.argv[1]):\n"
                "    kb = next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]\n"
                "    open(path, 'w').write(kb)\n"
                "atexit.register(report)\n"
                "from maps.cli import main\n"
                "sys.exit(main(sys.argv[2:]))\n")


def _peak(args: list[str], timeout: int = 600) -> tuple[int, str, int]:
    """(exit status, stderr, peak resident bytes) of the `geo` CLI with ARGS in a child process."""
    with tempfile.TemporaryDirectory() as d:
        report = Path(d) / "peak"
        p = subprocess.run([sys.executable, "-c", _REPORT_PEAK, str(report), *args], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=timeout)
        return p.returncode, p.stderr, int(report.read_text()) * 1024


def test_a_grid_too_large_is_refused_before_any_work(tmp_path):
    """`--resolution 1`: one line with what it needs and what the machine has, the finest resolution
    that fits, in seconds and in bounded memory (it grew past 5 GB before)."""
    rc, err, peak = _peak(["grid", "--resolution", "1", "--out", str(tmp_path / "out")])
    line = one_line_error(rc, err)
    assert line.startswith("error: --resolution 1 needs about ") and " of disk " in line
    assert "this machine has " in line and "fix: use --resolution " in line and "or coarser" in line
    assert peak < 1e9, peak
    assert not (tmp_path / "out").exists()


def test_the_size_estimate_grows_with_the_grid():
    from geo.budget import need
    a, b = need(3.3e11, 30, 1024, 9, 2), need(3.3e11, 1, 4096, 9, 2)
    assert b.cells == pytest.approx(900 * a.cells, rel=1e-3) and b.disk > 800 * a.disk and b.memory > a.memory


def test_jobs_and_local_workers_are_capped_at_the_cpus(tmp_path):
    """`--jobs 100000` took 3-5 GB: now one note, the machine's CPUs, and the usual bounded memory."""
    rc, err, peak = _peak(["grid", "--resolution", "20000", "--jobs", "100000", "--types", "coastal_placer",
                           "--out", str(tmp_path)])
    assert rc == 0, err
    assert f"note: --jobs 100000 capped at {default_jobs()}, the CPUs this machine gives this process" in err
    assert peak < 2e9, peak


def test_scheduler_local_n_is_capped():
    from maps.arguments import cap_scheduler
    notes: list[str] = []
    assert cap_scheduler("local:500", notes.append) == f"local:{default_jobs()}"
    assert notes == [f"note: --scheduler local:500 capped at local:{default_jobs()}, the CPUs this machine gives "
                     "this process"]
    assert cap_scheduler("tcp://127.0.0.1:9", notes.append) == "tcp://127.0.0.1:9" and len(notes) == 1


def test_map_with_grids_and_none_built_warns(tmp_path):
    rc, out, err = geo_in_process("map", "prospectivity", "--out", str(tmp_path))
    assert rc == 0, err
    assert err.strip().splitlines() == [f"warning: no prospectivity grids in {tmp_path / 'grids'}: the map draws "
                                        f"no score overlays; fix: run `geo grid --out {tmp_path}` first"]
    assert (tmp_path / "maps" / "prospectivity.html").exists()
