"""The grid engine on a dask.distributed LocalCluster of 1 and of 2 workers against the thread pool, in one run:

    python -m bench.cluster [--resolution 30] [--repeat 1]

Each case runs the grid pass (``run_grids``: every type's scores and uncertainty COGs and statistics,
not the parameter ensemble, which stays on the client's threads) in a child process, timed around
``run_grids`` alone (the layers are read before the clock starts). The thread-pool cases use
``--jobs 1`` and ``--jobs 2``. For a cluster case this script starts a LocalCluster (worker processes,
one thread each, memory limit as ``geo grid --scheduler local:N``) and passes its address to the child,
as ``--scheduler tcp://...`` would; the cluster's start-up is not timed (a real cluster is already
running). Peak memory: the child's own (``os.wait4``) and each worker's own peak resident set
(``getrusage`` run on the worker). Prints ``uptime``: the machine may be shared.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from bench.grid import child
from geo.executor import local_cluster

RUN = r'''
import json, sys, time, tempfile
from layers.derived.prospectivity import GRID_TABLES
from layers.load import load_layers
from layers.model.prospectivity import run_grids
res, jobs, scheduler = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3] or None
frames = load_layers(skip=GRID_TABLES)
with tempfile.TemporaryDirectory() as out:
    t0 = time.perf_counter()
    run_grids(frames, res, out_dir=__import__("pathlib").Path(out), jobs=jobs, scheduler=scheduler)
    print(json.dumps({"seconds": time.perf_counter() - t0}))
'''


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _case(resolution: float, jobs: int, scheduler: str = "") -> dict:
    r = child([sys.executable, "-c", RUN, str(resolution), str(jobs), scheduler])
    if "error" not in r:
        r["grid_s"] = json.loads(r["out"].strip().splitlines()[-1])["seconds"]
    return r


def _cluster_case(resolution: float, workers: int) -> dict:
    from distributed import Client
    with local_cluster(workers) as cluster, Client(cluster) as client:
        r = _case(resolution, 1, cluster.scheduler_address)
        r["worker_peak_mb"] = sorted(client.run(_peak_rss_mb).values())
    return r


def _line(label: str, r: dict) -> str:
    if "error" in r:
        return f"{label}: failed: {r['error']}"
    text = f"{label}: grid pass {r['grid_s']:.1f} s (child wall {r['wall_s']:.1f} s), client peak {r['peak_mb']:.0f} MB"
    if "worker_peak_mb" in r:
        text += ", worker peak " + " / ".join(f"{m:.0f}" for m in r["worker_peak_mb"]) + " MB"
    return text


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=float, default=30)
    a = ap.parse_args(argv)
    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    t0 = time.perf_counter()
    res = {}
    for label, run in (("threads, --jobs 1", lambda: _case(a.resolution, 1)),
                       ("threads, --jobs 2", lambda: _case(a.resolution, 2)),
                       ("LocalCluster, 1 worker", lambda: _cluster_case(a.resolution, 1)),
                       ("LocalCluster, 2 workers", lambda: _cluster_case(a.resolution, 2))):
        res[label] = run()
        print(_line(f"{a.resolution:g} m, {label}", res[label]), flush=True)
    ok = all("error" not in r for r in res.values())
    if ok:
        t = {k: r["grid_s"] for k, r in res.items()}
        print(f"speed-up 1 -> 2 threads: {t['threads, --jobs 1'] / t['threads, --jobs 2']:.2f}x; "
              f"1 -> 2 workers: {t['LocalCluster, 1 worker'] / t['LocalCluster, 2 workers']:.2f}x (target >= 1.6x); "
              f"2 workers / 2 threads: time {t['LocalCluster, 2 workers'] / t['threads, --jobs 2']:.2f}")
    print("load after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
          f"({time.perf_counter() - t0:.0f} s in all)")


if __name__ == "__main__":
    main()
