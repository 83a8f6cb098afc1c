"""Replications on every core: contiguous chunks of replication indices run in worker processes.

Why processes: the simulation is pure Python (SimPy, Mesa) and holds the GIL, so threads would take turns.
Why joblib's loky backend: its workers are started once and reused by every later call in the same
command (a sensitivity analysis compares many times), and it ends them when the parent stops or dies, so a
Ctrl-C leaves no orphan behind. Each chunk is one task: the site and the configs travel to a worker once,
and the worker builds its World and its models once for all its replications.

The result never depends on the number of workers: a replication's incidents and luck depend only on the
seed and its index (``sim.streams``), a restarted model equals a new one, and the chunks come back in order.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from typing import Any

# Below this many incident-runs (replications x policies x expected incidents per replication), an automatic
# run (run.workers=0) stays in one process. Why: a worker is a new Python that imports pandas, GeoPandas,
# SimPy and Mesa and unpickles the site, about 2 s of CPU each, while the simulation runs about 15,000
# incident-runs a second: below ~40,000 (~3 s of simulation) starting workers costs more than it saves.
# `make run`'s first comparison (10 x 3 x ~240) stays in one process; its stress comparison (5 x 3 x ~7,900)
# uses every core.
MIN_PARALLEL_RUNS = 40_000


def cores() -> int:
    """The cores this process may use (joblib reads the CPU affinity and cgroup quota, not only the count)."""
    from joblib import cpu_count

    return max(1, cpu_count())


def jobs(workers: int, replications: int, runs: float) -> int:
    """How many processes simulate: ``workers`` (0: every core, or one for a run of fewer than
    MIN_PARALLEL_RUNS incident-runs, or one inside a worker process: a sweep's jobs run in parallel
    already, and every core per job would oversubscribe the machine), never more than replications."""
    if workers == 0:
        inside_worker = multiprocessing.parent_process() is not None
        workers = cores() if runs >= MIN_PARALLEL_RUNS and not inside_worker else 1
    return max(1, min(workers, replications))


def chunks(n_items: int, n_jobs: int) -> list[range]:
    """``range(n_items)`` cut into ``n_jobs`` contiguous pieces whose sizes differ by at most one, the
    larger first: concatenated in order they give back ``range(n_items)``."""
    size, extra = divmod(n_items, n_jobs)
    out, start = [], 0
    for k in range(n_jobs):
        stop = start + size + (k < extra)
        if stop > start:
            out.append(range(start, stop))
        start = stop
    return out


def run_chunks(task: Callable[..., Any], *args: Any, n_items: int, n_jobs: int) -> Iterator[Any]:
    """``task(*args, chunk)`` for each chunk of ``range(n_items)`` in ``n_jobs`` worker processes, yielded in
    chunk order as they finish (so a caller can report progress). ``task`` must be importable by name (a
    module-level function) and return something picklable."""
    from joblib import Parallel, delayed

    pool = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")
    yield from pool(delayed(task)(*args, chunk) for chunk in chunks(n_items, n_jobs))


def run_tasks(task: Callable[..., Any], arguments: list[tuple], n_jobs: int) -> list[Any]:
    """``task(*a)`` for each ``a`` of ``arguments`` in ``n_jobs`` worker processes (the workers a
    comparison started, if any), the results in the order of ``arguments``."""
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs, backend="loky")(delayed(task)(*a) for a in arguments)
