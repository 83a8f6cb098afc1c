"""A sweep's runs shared with idle workers replication by replication (``sim.shared_replications``): a run
folder is the same byte for byte whoever simulated which replication, a lost helper's replication is
simulated by the run's own worker, and no worker helps before every launched run has begun."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from sim import shared_replications as shared
from sim.cli import main
from sim.site.build import build_site
from sim.sweep import RUNS, expand, job_config, run_job

FILES = ("events.parquet", "incidents.parquet", "metrics_by_replication.csv", "metric_counts.csv")


def _job(cache_dir: Path, tmp_path: Path):
    _, (job,) = expand(
        [
            "incidents=stress",
            "run.days=2",
            "run.replications=4",
            f"cache_dir={cache_dir}",
            f"results_dir={tmp_path}",
        ]
    )
    return job


def _run(folder: Path, job, cwd: Path) -> dict:
    (folder / RUNS).mkdir(parents=True, exist_ok=True)  # as the sweep's plan makes it
    assert run_job(folder, job, cwd) == "done"
    assert not (folder / shared.SHARE / job.name).exists()  # the run's share removed once written
    return json.loads((folder / RUNS / job.name / "run.json").read_text())


def _same_run(a: Path, b: Path, name: str) -> None:
    for file in FILES:
        assert (a / RUNS / name / file).read_bytes() == (b / RUNS / name / file).read_bytes(), file


def _helper(job, cwd: Path):
    """A worker with no run left to start: the run's config and site, as ``sim.sweep._task`` gives them."""
    return lambda name: job_config(job, cwd), build_site


@pytest.fixture
def alone(tmp_path, cache_dir):
    """The run simulated by its own worker alone."""
    job = _job(cache_dir, tmp_path)
    record = _run(tmp_path / "alone", job, tmp_path)
    assert record["helped_replications"] == [] and record["helpers_wall_s"] == 0
    return job, tmp_path / "alone"


def test_replications_a_helper_simulated_leave_the_run_folder_byte_for_byte_the_same(
    alone, tmp_path, monkeypatch
):
    job, reference = alone
    folder = tmp_path / "helped"
    shared.begin(folder, job.name, 4)
    turns = iter([True, True, True, False])  # the helper looks three times (the run, then two replications)
    monkeypatch.setattr(shared, "_all_begun", lambda root, launched: next(turns))
    assert shared.help_others(folder, 1, *_helper(job, tmp_path)) == 2
    assert sorted(p.name for p in (folder / shared.SHARE / job.name).iterdir() if p.is_dir()) == ["2", "3"]
    record = _run(folder, job, tmp_path)
    assert record["helped_replications"] == [2, 3] and record["helpers_wall_s"] > 0  # the last two, read
    _same_run(reference, folder, job.name)


def test_a_lost_helpers_replication_is_simulated_by_the_runs_own_worker(alone, tmp_path, monkeypatch):
    job, reference = alone
    folder = tmp_path / "lost"
    share = shared.begin(folder, job.name, 4)
    (share / "3.claim").write_text(f"{socket.gethostname()} 999999999\n")  # its process on this host is gone
    (share / "2.claim").write_text("another-host 12\n")  # elsewhere: judged by its heartbeat
    monkeypatch.setattr(shared, "STALE_S", 0.3)
    record = _run(folder, job, tmp_path)
    assert record["helped_replications"] == [] and record["waited_s"] >= 0.3
    _same_run(reference, folder, job.name)


def test_a_helper_whose_process_here_has_ended_is_not_waited_for(alone, tmp_path, monkeypatch):
    job, reference = alone
    folder = tmp_path / "dead"
    share = shared.begin(folder, job.name, 4)
    (share / "3.claim").write_text(f"{socket.gethostname()} 999999999\n")
    monkeypatch.setattr(shared, "STALE_S", 60.0)  # only the process check can end the wait soon
    record = _run(folder, job, tmp_path)
    assert record["helped_replications"] == [] and record["waited_s"] < 5
    _same_run(reference, folder, job.name)


def test_skipped_and_refused_runs_count_as_begun(alone, tmp_path, cache_dir):
    """Otherwise the workers would wait for them to begin and never help."""
    job, folder = alone
    begun = folder / shared.SHARE / shared.BEGUN
    shutil.rmtree(begun)
    assert run_job(folder, job, tmp_path) == "skipped"
    assert [p.name for p in begun.iterdir()] == [job.name]
    _, (bad,) = expand(["fleet.echelons_per_grid=-1", f"cache_dir={cache_dir}", f"results_dir={tmp_path}"])
    refused = tmp_path / "refused"
    (refused / RUNS).mkdir(parents=True)
    assert run_job(refused, bad, tmp_path) == "failed"
    assert [p.name for p in (refused / shared.SHARE / shared.BEGUN).iterdir()] == [bad.name]


def test_no_worker_helps_before_every_launched_run_has_begun(tmp_path, cache_dir):
    job = _job(cache_dir, tmp_path)
    share = shared.begin(tmp_path, job.name, 4)
    assert shared.help_others(tmp_path, 2, *_helper(job, tmp_path)) == 0  # one of two begun
    assert not list(share.glob("*.claim"))


def test_a_helper_takes_the_run_with_most_left_from_its_last_replication(tmp_path):
    root = tmp_path / shared.SHARE
    a = shared.begin(tmp_path, "a", 3)
    b = shared.begin(tmp_path, "b", 6)
    (b / "0.claim").write_text("h 1\n")
    (b / "1.claim").write_text("h 1\n")
    assert shared._most_left(root, skip=set()) == "b"  # 4 left in b, 3 in a
    assert shared._claim_last(b) == 5
    assert shared._most_left(root, skip=set()) == "a"  # 3 and 3: the first by name
    assert shared._most_left(root, skip={"a"}) == "b"
    assert shared._claim_last(a) == 2 and (a / "2.claim").read_text().split()[0] == socket.gethostname()
    for share in (a, a, b, b, b):
        assert shared._claim_last(share) is not None
    assert shared._most_left(root, skip=set()) is None  # all nine claimed
    assert shared._claim_last(a) is None


def test_a_run_on_a_site_the_helper_does_not_hold_is_left_to_its_own_worker(tmp_path, cache_dir):
    job = _job(cache_dir, tmp_path)
    share = shared.begin(tmp_path, job.name, 4)
    assert shared.help_others(tmp_path, 1, lambda name: job_config(job, tmp_path), lambda cfg: None) == 0
    assert not list(share.glob("*.claim"))


@pytest.mark.slow
def test_a_two_worker_sweep_shares_its_long_run_and_keeps_the_results_of_one_worker(tmp_path, cache_dir):
    """A short run and a long one on two workers: the short one's worker, with no run left to start, takes
    replications of the long one; every run folder equals the one-worker sweep's byte for byte."""
    args = ["sweep", "run.days=1,30", "incidents=stress", "run.replications=6", f"cache_dir={cache_dir}"]
    folders = {}
    for name, launcher in (("one", ["hydra/launcher=basic"]), ("two", ["hydra.launcher.n_jobs=2"])):
        assert main([*args, f"results_dir={tmp_path / name}", *launcher]) == 0
        (folders[name],) = (tmp_path / name).glob("sweep-*")
        assert not (folders[name] / shared.SHARE).exists()
    long_run = json.loads((folders["two"] / RUNS / "run.days=30" / "run.json").read_text())
    assert long_run["helped_replications"] and long_run["helpers_wall_s"] > 0
    assert long_run["helped_replications"][-1] == 5  # helpers take from the last replication down
    for name in ("run.days=1", "run.days=30"):
        _same_run(folders["one"], folders["two"], name)
