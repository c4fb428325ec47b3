"""The grid engine on a dask.distributed cluster (``--scheduler``): the same files as the thread pool."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT, run_geo

pytest.importorskip("distributed")  # the test extra installs it (extra `cluster`)


def test_local_cluster_writes_the_same_cogs_and_tables_as_the_thread_pool(tmp_path):
    """`geo grid --scheduler local:2` (two worker processes) against `--jobs 2` (two threads) at 20 km:
    every COG byte for byte, and the validation tables as printed."""
    runs = {}
    for name, opts in (("threads", ["--jobs", "2"]), ("cluster", ["--scheduler", "local:2"])):
        out = tmp_path / name
        r = run_geo("grid", "--resolution", "20000", "--out", str(out), *opts, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        tables = [ln for ln in r.stderr.splitlines() if re.match(r"\s*(deposit_type|alkaline|weathering|coastal)", ln)]
        runs[name] = (out, tables, r.stdout.replace(str(out), "OUT"))
    (a, tables_a, paths_a), (b, tables_b, paths_b) = runs["threads"], runs["cluster"]
    cogs = sorted(p.relative_to(a) for p in (a / "grids").glob("*.tif"))
    assert len(cogs) >= 12 and any(p.name.startswith("proximity_") for p in cogs)
    assert cogs == sorted(p.relative_to(b) for p in (b / "grids").glob("*.tif"))
    for rel in cogs:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), f"{rel} differs between threads and cluster"
    assert paths_a == paths_b
    assert any("pct_sites_in_top" in ln for ln in tables_a) and any("success_auc" in ln for ln in tables_a)
    assert len(tables_a) > 10 and tables_a == tables_b


def test_missing_dask_is_a_one_line_error_naming_the_extra(tmp_path):
    code = ("import sys; sys.modules['distributed'] = None; from maps.cli import main; "
            f"sys.exit(main(['grid', '--resolution', '50000', '--out', {str(tmp_path)!r}, '--scheduler', 'local:1']))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "dask.distributed" in lines[0] and "[cluster]" in lines[0]
    assert not (tmp_path / "grids").exists() or not list((tmp_path / "grids").glob("*.tif"))


@pytest.mark.parametrize("address", ["local:0", "local:two"])
def test_bad_local_worker_count_is_a_one_line_error(tmp_path, address):
    r = run_geo("grid", "--resolution", "50000", "--out", str(tmp_path), "--scheduler", address)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "local:N" in lines[0] and address in lines[0]


def _scaled(i: int, shared: dict) -> int:
    return i * shared["k"]


@pytest.mark.parametrize("kind", ["threads", "dask"])
def test_executor_yields_in_order_with_a_bounded_number_in_flight(kind):
    """Results come in item order; items are drawn only a few ahead of the one consumed; a shared
    dict reaches the function whole (scatter would split a bare dict into keys)."""
    from concurrent.futures import ThreadPoolExecutor

    from geo.executor import DaskExecutor, ThreadExecutor

    drawn, got, ahead = [], [], []

    def items():
        for i in range(30):
            drawn.append(i)
            yield i
    with ThreadPoolExecutor(2) as pool:
        ex = ThreadExecutor(pool, 3) if kind == "threads" else DaskExecutor("local:1")
        try:
            for r in ex.map(_scaled, items(), {"k": 10}):
                ahead.append(len(drawn) - len(got))
                got.append(r)
        finally:
            ex.close()
    assert got == [10 * i for i in range(30)]
    assert max(ahead) == ex.limit + 1


def test_workers_that_cannot_write_the_output_folder_are_a_one_line_error(tmp_path):
    """The workers write the tiles' files into the scratch folder themselves: one they cannot write (here:
    missing, as on a machine without the shared file system) stops the run before any tile, naming it."""
    from geo.executor import ClusterError, DaskExecutor

    ex = DaskExecutor("local:1")
    try:
        ex.check_writable(tmp_path)  # a local worker sees this machine's folders
        with pytest.raises(ClusterError) as err:
            ex.check_writable(tmp_path / "not-mounted")
    finally:
        ex.close()
    msg = str(err.value)
    assert "1 of 1 workers cannot write" in msg and str(tmp_path / "not-mounted") in msg and "fix:" in msg
    assert "\n" not in msg
