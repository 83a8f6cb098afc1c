"""Replications in worker processes (run.workers): the same logs, in the same order, for any number of
workers; a restarted model equals a new one for any replication; a stop leaves no worker behind."""

from __future__ import annotations

import hashlib
import signal
import time
from pathlib import Path

import pandas as pd
import pytest
from processes import children, start, stop_leaves_nothing

from sim import parallel
from sim.config import load_config
from sim.errors import ConfigError
from sim.experiment import compare, simulate, simulate_replications
from sim.model.world import World

POLICIES = ("police_only", "echelon_135")


def _short(cache_dir: Path, *extra: str) -> list[str]:
    # busy enough that units queue and are sent on from the road: a restart has state to clear
    busy = ["run.days=4", "run.replications=4", "incidents.rate_multiplier=30"]
    return [f"cache_dir={cache_dir}", *busy, *extra]


def _digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv().encode()).hexdigest()


def test_chunks_are_contiguous_balanced_and_in_order():
    assert parallel.chunks(5, 2) == [range(0, 3), range(3, 5)]
    assert parallel.chunks(4, 4) == [range(k, k + 1) for k in range(4)]
    assert [i for c in parallel.chunks(10, 3) for i in c] == list(range(10))
    assert parallel.chunks(2, 3) == [range(0, 1), range(1, 2)]


def test_worker_count_follows_the_config_and_the_size_of_the_run(monkeypatch):
    monkeypatch.setattr(parallel, "cores", lambda: 8)
    assert parallel.jobs(0, 10, parallel.MIN_PARALLEL_RUNS) == 8
    assert parallel.jobs(0, 10, parallel.MIN_PARALLEL_RUNS - 1) == 1  # small: one process
    assert parallel.jobs(0, 3, 10**9) == 3  # never more workers than replications
    assert parallel.jobs(2, 10, 1) == 2  # asked for: given, however small the run
    assert parallel.jobs(1, 10, 10**9) == 1
    monkeypatch.setattr(parallel.multiprocessing, "parent_process", lambda: object())  # a sweep's job
    assert parallel.jobs(0, 10, 10**9) == 1
    assert parallel.jobs(2, 10, 1) == 2


def test_workers_must_be_a_count(cache_dir):
    with pytest.raises(ConfigError, match=r"run\.workers"):
        load_config([f"cache_dir={cache_dir}", "run.workers=-1"])


def test_one_or_two_workers_write_the_same_logs_in_the_same_order(daishan_site, cache_dir):
    logs = {}
    for workers in (1, 2):
        cfgs = {p: load_config(_short(cache_dir, f"policy={p}", f"run.workers={workers}")) for p in POLICIES}
        logs[workers] = compare(cfgs, daishan_site)
    one, two = logs[1], logs[2]
    assert [(r.policy, r.replication) for r in one] == [(p, k) for k in range(4) for p in POLICIES]
    assert [(r.policy, r.replication) for r in two] == [(r.policy, r.replication) for r in one]
    assert all(r.model is None for r in two)  # a worker's models stay in the worker
    for a, b in zip(one, two, strict=True):
        pd.testing.assert_frame_equal(a.events, b.events)
        pd.testing.assert_frame_equal(a.incidents, b.incidents)
        assert _digest(a.events) == _digest(b.events)
        assert (a.horizon_s, a.units) == (b.horizon_s, b.units)
    assert len({_digest(r.events) for r in one}) == len(one)  # not trivially equal: every log differs


def test_a_model_restarted_up_to_replication_k_equals_a_new_one(daishan_site, cache_dir):
    cfg = load_config(_short(cache_dir))
    world = World.build(daishan_site)
    chain = simulate_replications(daishan_site, {"p": cfg}, range(3), world)
    assert len({id(r.model) for r in chain}) == 1  # one model, restarted twice
    fresh = simulate(daishan_site, cfg, 2, world)
    pd.testing.assert_frame_equal(chain[-1].events, fresh.events)


def _running(pid: int) -> bool:
    """Alive and not a zombie (an ended child its new parent has yet to reap)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads worker processes from /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_stopped_parallel_comparison_leaves_nothing_and_no_worker(sig, tmp_path, cache_dir):
    proc = start(
        "compare",
        "run.days=20",
        "run.replications=4",
        "run.workers=2",
        f"results_dir={tmp_path / 'results'}",
        f"cache_dir={cache_dir}",
    )
    deadline = time.monotonic() + 120
    while len(children(proc.pid)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)  # until the workers are up: the stop lands while they simulate
    workers = children(proc.pid)
    assert len(workers) >= 2, "the workers never started"
    stop_leaves_nothing(proc, sig, tmp_path / "results")
    deadline = time.monotonic() + 10
    while any(_running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if _running(w)], "worker processes outlived the command"


def test_one_or_two_workers_write_the_same_folder(daishan_site, cache_dir, tmp_path):
    """Replications measured in the process that simulated them, and figures drawn in a worker while the
    metrics are computed, give every file byte for byte (config.yaml says how many workers)."""
    from sim.experiment import write_results

    folders = {}
    for workers in (1, 2):
        cfgs = {p: load_config(_short(cache_dir, f"policy={p}", f"run.workers={workers}")) for p in POLICIES}
        reps = compare(cfgs, daishan_site)
        assert all((r.measured is not None) == (workers == 2) for r in reps)
        folders[workers] = write_results(
            reps, cfgs, daishan_site, POLICIES[0], "same", results_dir=tmp_path / str(workers)
        )
    names = sorted(p.name for p in folders[1].iterdir())
    assert names == sorted(p.name for p in folders[2].iterdir()) and "incident_map.png" in names
    for name in names:
        if name != "config.yaml":
            assert (folders[1] / name).read_bytes() == (folders[2] / name).read_bytes(), name


def _tiny_compare(results: Path, cache_dir: Path) -> list[str]:
    """`echelon compare` at its smallest: two days, two replications."""
    return ["compare", "run.days=2", "run.replications=2", f"results_dir={results}", f"cache_dir={cache_dir}"]


def test_the_command_line_starts_workers_early_and_uses_them(monkeypatch, tmp_path, cache_dir):
    """`echelon compare` on two cores warms one worker at its start and still has it when the figures are
    drawn (a warm-up forgotten on the way would leave the command alone in one process)."""
    from sim import cli

    monkeypatch.setattr(parallel, "cores", lambda: 2)
    sent: list[int] = []
    start_tasks = parallel.start_tasks

    def spy(task, arguments, n_workers):
        sent.append(n_workers)
        return start_tasks(task, arguments, n_workers)

    monkeypatch.setattr(parallel, "start_tasks", spy)
    assert cli.main(_tiny_compare(tmp_path, cache_dir)) == 0
    assert sent and all(n == 1 for n in sent)  # the simulation's chunk and the figures went to the worker
    assert parallel.warmed() == 0  # forgotten once the command is over


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads worker processes from /proc")
def test_the_script_ends_its_workers_when_its_command_ends(monkeypatch, tmp_path, cache_dir):
    """The ``echelon`` script's process is about to end: its idle workers are ended at once, not left for
    the interpreter's exit to join one by one (nor for their idle timeout, in a process that goes on)."""
    import os
    import sys

    from sim import entry

    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(sys, "argv", ["echelon", *_tiny_compare(tmp_path, cache_dir)])
    workers: list[int] = []
    start_tasks = parallel.start_tasks

    def spy(task, arguments, n_workers):
        futures = start_tasks(task, arguments, n_workers)
        workers.extend(children(os.getpid(), b"popen_loky"))  # not loky's resource tracker
        return futures

    monkeypatch.setattr(parallel, "start_tasks", spy)
    assert entry.main() == 0
    assert workers, "the command used no worker"
    deadline = time.monotonic() + 10
    while any(_running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if _running(w)], "workers outlived the command"
