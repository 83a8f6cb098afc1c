"""Replications on every core: contiguous chunks of a comparison's runs (replication x policy), the first
simulated by the command itself and the others in worker processes at the same time.

Why processes: the simulation is pure Python (SimPy, Mesa) and holds the GIL, so threads would take turns.
Why joblib's reusable loky executor: its workers are started once and reused by every later
call in the same command (a sensitivity analysis compares many times), and they end when the parent stops
or dies, so a Ctrl-C leaves no orphan behind. Each chunk is one task: the site and the configs travel to a
worker once, and the worker builds its World and its models once for all its replications. A command that
will want workers starts them early (``warm_up``), so that their imports overlap its own start.

The result never depends on the number of workers: a replication's incidents and luck depend only on the
seed and its index (``sim.streams``), a restarted model equals a new one, and the chunks come back in order.
"""

from __future__ import annotations

import importlib
import multiprocessing
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any

# Below this many incident-runs (replications x policies x expected incidents per replication), an automatic
# run (run.workers=0) stays in one process. Why: the work a worker is sent costs its share of the site's
# pickle and a World of its own (about 0.5 s), and a worker that was not started early (``warm_up``) first
# imports pandas, GeoPandas, SimPy and Mesa (about 2 s). The simulation runs 3,000 (under load) to 25,000
# (quiet) incident-runs a second. `make run`'s first comparison (10 x 3 x ~24 = ~730) stays in one process;
# its stress comparison (5 x 3 x ~1,580 = ~23,700, about 7 s in one process) uses every core.
MIN_PARALLEL_RUNS = 10_000

# The worker pool this process uses (joblib's reusable executor), and the imports of ``warm_up`` under way.
_POOL: list[Any] = []
_WARMING: list[Future] = []


def cores() -> int:
    """The cores this process may use (joblib reads the CPU affinity and cgroup quota, not only the count)."""
    from joblib import cpu_count

    return max(1, cpu_count())


def jobs(workers: int, replications: int, runs: float) -> int:
    """How many processes simulate: ``workers`` (0: every core, or one for a run of fewer than
    MIN_PARALLEL_RUNS incident-runs unless ``warm_up`` started the workers already, or one inside a worker
    process: a sweep's jobs run in parallel already, and every core per job would oversubscribe the
    machine), never more than replications."""
    if workers == 0:
        inside_worker = multiprocessing.parent_process() is not None
        worth_it = runs >= MIN_PARALLEL_RUNS or warmed() > 0  # warm workers cost nothing more to use
        workers = cores() if worth_it and not inside_worker else 1
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


def _imported(modules: Sequence[str]) -> None:
    for name in modules:
        importlib.import_module(name)


def _pool(n_workers: int):
    """joblib's reusable loky executor with ``n_workers`` workers (the same processes from call to call).
    A joblib ``Parallel`` (a sweep's launcher) asks for other settings and starts workers of its own."""
    from joblib.executor import get_memmapping_executor

    pool = get_memmapping_executor(n_workers, timeout=300)
    _POOL[:] = [pool]
    return pool


def warm_up(n_workers: int, modules: Sequence[str]) -> None:
    """Start ``n_workers`` worker processes now, in the background, each importing ``modules``: a command
    that will want workers (a large run's replications, any run's figures) starts them while it reads its
    config and site and finds them ready (about 2 s of imports each, on the cores the command leaves idle).
    Not inside a worker process: a sweep's jobs are the parallel part there."""
    if n_workers < 1 or _WARMING or multiprocessing.parent_process() is not None:
        return
    pool = _pool(n_workers)
    _WARMING.extend(pool.submit(_imported, modules) for _ in range(n_workers))


def warmed() -> int:
    """How many workers ``warm_up`` started in this process (0: none)."""
    return len(_WARMING)


def forget_warm_up() -> None:
    """The command that warmed the workers is over: the next one in this process (a notebook, a test)
    decides afresh whether workers are worth it (idle workers end after a while)."""
    _WARMING.clear()


def stop_workers() -> None:
    """End the workers at once (a stopped command, or one that is over): what they were doing is not wanted
    any more. Also those of the pool joblib keeps for its ``Parallel`` (a sweep's joblib launcher), which
    Python would otherwise shut down at exit, waiting on each worker (about half a second)."""
    for pool in _POOL:
        pool.shutdown(wait=False, kill_workers=True)
    _POOL.clear()
    _WARMING.clear()
    loky = sys.modules.get("joblib.externals.loky.reusable_executor")  # not imported: nothing started
    executor = getattr(loky, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)


def start_tasks(task: Callable[..., Any], arguments: list[tuple], n_workers: int) -> list[Future]:
    """``task(*a)`` for each ``a`` of ``arguments``, started in ``n_workers`` worker processes; the caller
    goes on with its own work and takes each ``.result()`` when it needs it. ``task`` must be importable by
    name (a module-level function) and return something picklable."""
    pool = _pool(n_workers)
    return [pool.submit(task, *a) for a in arguments]


def run_chunks(task: Callable[..., Any], *args: Any, n_items: int, n_jobs: int) -> Iterator[Any]:
    """``task(*args, chunk)`` for each chunk of ``range(n_items)`` in ``n_jobs`` processes, this one
    included (it takes the first chunk), yielded in chunk order as they finish (so a caller can report
    progress)."""
    parts = chunks(n_items, n_jobs)
    later = start_tasks(task, [(*args, c) for c in parts[1:]], n_jobs - 1) if len(parts) > 1 else []
    yield task(*args, parts[0])
    for future in later:
        yield future.result()
