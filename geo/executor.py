"""Map a function over work items (e.g. a grid's tiles), yielding the results in order with at most
``limit`` items in flight (bounded memory): on a thread pool, or on a dask.distributed cluster.

``executor.map(fn, items, *shared)`` calls ``fn(item, *shared)``. The ``shared`` objects (large,
read-only inputs) go to each dask worker once (``Client.scatter(..., broadcast=True)``), not once per
item; they must pickle. A thread pool passes them as they are. Items may write files into a folder
every worker can write (``check_writable``): only their small results travel back.

``--scheduler local:N`` starts a ``LocalCluster`` of N worker processes (one thread each, memory
bounded by :data:`WORKER_MEMORY`); any other value is the address of a running scheduler
(``tcp://host:port``). dask.distributed is the optional extra ``cluster``.
"""
from __future__ import annotations

import os
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator

from geo.errors import GeoError

WORKER_MEMORY = "3GiB"  # per LocalCluster worker: dask pauses a worker at 80 %, restarts it at 95 %
CONNECT_TIMEOUT = "20s"
IN_FLIGHT = 4  # items per worker thread: one running, the others queued or on their way back (hides latency)


class ClusterError(GeoError, RuntimeError):
    """The cluster cannot be used: dask.distributed missing, scheduler unreachable, bad address."""


def _ordered(submit: Callable, items: Iterable, limit: int, cancel: Callable,
             result: Callable = lambda f: f.result()) -> Iterator:
    """Submit items a few ahead of the one being consumed; yield results in item order."""
    pending: deque = deque()
    try:
        for item in items:
            pending.append(submit(item))
            if len(pending) > limit:
                yield result(pending.popleft())
        while pending:
            yield result(pending.popleft())
    finally:
        for f in pending:
            cancel(f)


class ThreadExecutor:
    """Items on a thread pool (numpy, scipy, GDAL and GEOS release Python's lock)."""

    def __init__(self, pool: ThreadPoolExecutor, limit: int):
        self.pool, self.limit = pool, limit
        self.remote = False  # results come back in this process: ``fn`` may write to local files

    def map(self, fn: Callable, items: Iterable, *shared) -> Iterator:
        return _ordered(lambda item: self.pool.submit(fn, item, *shared), items, self.limit, lambda f: f.cancel())

    def check_writable(self, folder) -> None:
        pass

    @staticmethod
    def everywhere(fn: Callable, *args) -> list:
        """``fn(*args)`` in every process that ran items: here."""
        return [fn(*args)]

    def close(self) -> None:
        pass


def local_cluster(workers: int):
    """A LocalCluster of ``workers`` processes, one thread each, bounded memory. Its workers do not get
    dask's default ``MALLOC_TRIM_THRESHOLD_=65536``: it disables glibc's adaptive mmap threshold, so
    every large numpy temporary is mapped and zeroed afresh (measured: 1.8x slower array arithmetic)."""
    import dask
    from distributed import LocalCluster
    env = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
           if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=WORKER_MEMORY,
                            dashboard_address=":0")


def _import(modules: tuple[str, ...]) -> None:
    import importlib
    for m in modules:
        importlib.import_module(m)


def _writable(folder: str) -> bool:
    return os.path.isdir(folder) and os.access(folder, os.W_OK)


_SHARED: dict[str, tuple] = {}  # on a worker: the shared inputs of the latest maps, unpickled once


def _apply(fn: Callable, item, packed: tuple[str, bytes]):
    token, blob = packed
    shared = _SHARED.get(token)
    if shared is None:
        import pickle
        while len(_SHARED) >= 2:  # bounded: a map's inputs are dropped two maps later
            _SHARED.pop(next(iter(_SHARED)))
        shared = _SHARED[token] = pickle.loads(blob)
    return fn(item, *shared)


class DaskExecutor:
    """Items on a dask.distributed cluster; results are shipped back to this process."""

    remote = True

    def __init__(self, address: str, warm: tuple[str, ...] = ()):
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError("--scheduler needs dask.distributed; fix: pip install 'vietnam-ree-map[cluster]'") from None
        self.cluster = None
        try:
            if address.startswith("local:"):
                n = address.removeprefix("local:")
                if not n.isdigit() or int(n) < 1:
                    raise ClusterError(f"--scheduler: bad worker count (value: {address!r}); fix: local:N with N >= 1, "
                                       "or a scheduler address such as tcp://host:8786")
                self.cluster = local_cluster(int(n))
                self.client = Client(self.cluster)
            else:
                self.client = Client(address, timeout=CONNECT_TIMEOUT)
        except ClusterError:
            self.close()
            raise
        except (OSError, ValueError, TypeError) as e:  # unreachable or malformed address, time out
            self.close()
            raise ClusterError(f"--scheduler: cannot connect to {address!r}: {e}; fix: start dask-scheduler there, "
                               "or use local:N") from None
        threads = sum(self.client.nthreads().values())
        if not threads:
            self.close()
            raise ClusterError(f"--scheduler {address!r} has no workers; fix: start dask-worker on the machines")
        self.limit = IN_FLIGHT * threads
        # the workers import these now, while this process prepares the work (not waited for; the futures
        # are kept because dask may cancel a task whose future is released)
        self._warm = [self.client.submit(_import, warm, workers=[w], pure=False)
                      for w in (self.client.scheduler_info()["workers"] if warm else ())]

    def map(self, fn: Callable, items: Iterable, *shared) -> Iterator:
        # pickled here as one object, so what its parts share (e.g. every evidence kind's reference to the
        # model's inputs) is pickled once: dask would serialise the parts one by one (measured: 3 s, and a
        # copy of the inputs per part on every worker). One scatter, no hashing (it would pickle it again).
        import cloudpickle
        packed = (uuid.uuid4().hex, cloudpickle.dumps(shared, protocol=5))
        ref = self.client.scatter([packed], broadcast=True, hash=False)[0]
        return _ordered(lambda item: self.client.submit(_apply, fn, item, ref, pure=False), items, self.limit,
                        lambda f: f.cancel(), self._result)

    def everywhere(self, fn: Callable, *args) -> list:
        """``fn(*args)`` on every worker (``Client.run``), the results in a list."""
        return list(self.client.run(fn, *args).values())

    def check_writable(self, folder) -> None:
        """Every worker must be able to write ``folder`` (the items write their files there): on one
        machine it can; across machines it must be a shared file system mounted at the same path."""
        seen = self.client.run(_writable, str(folder))
        blind = sorted(w for w, ok in seen.items() if not ok)
        if blind:
            raise ClusterError(f"--scheduler: {len(blind)} of {len(seen)} workers cannot write {folder} "
                               f"({', '.join(blind[:3])}); fix: give --out on a file system every worker mounts "
                               "at the same path (e.g. NFS), or use local:N")

    @staticmethod
    def _result(future):
        from distributed import KilledWorker
        try:
            return future.result()
        except KilledWorker as e:  # e.g. over its memory limit, several times
            raise ClusterError(f"--scheduler: a worker died running a tile ({e}); fix: give the workers more "
                               f"memory (--memory-limit, now {WORKER_MEMORY} for local:N) or fewer threads") from None

    def close(self) -> None:
        for obj in (getattr(self, "client", None), self.cluster):
            if obj is not None:
                obj.close()


def executor(pool: ThreadPoolExecutor, limit: int, scheduler: str | None = None, warm: tuple[str, ...] = ()):
    """The thread pool (``scheduler`` None), or a dask cluster whose workers start importing the modules
    ``warm`` at once: see the module docstring."""
    return ThreadExecutor(pool, limit) if not scheduler else DaskExecutor(scheduler, warm)
