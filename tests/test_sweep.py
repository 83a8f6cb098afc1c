"""Sweeps and collect: Hydra's multirun grammar, one folder per run, results independent of the workers,
resume after a stop, and the tidy tables and paired differences of ``collect``."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from processes import children, echelon

from sim.analysis import metrics
from sim.cli import main
from sim.collect import Options, collect, parse_options, read_sweep
from sim.config import load_config
from sim.errors import ConfigError
from sim.sweep import SWEEPS_DIR, expand, make_plan, spec_overrides, split_overrides

SHORT = ("run.days=2", "run.replications=3")
SWEPT = ("policy=police_only,echelon_135", "fleet.echelons_per_grid=1,2")


def _sweep(tmp_path: Path, cache_dir: Path, *extra: str) -> Path:
    args = ["sweep", *SWEPT, *SHORT, f"results_dir={tmp_path}", f"cache_dir={cache_dir}", *extra]
    assert main(args) == 0
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith("sweep-")]
    return folder


def test_expand_uses_hydras_multirun_grammar_and_names_runs_by_sorted_keys():
    swept, jobs = expand(["seed=range(3)", "policy=police_only,echelon_135", "run.days=2"])
    assert swept == ("policy", "seed")
    assert len(jobs) == 6
    assert {j.name for j in jobs} == {
        f"policy={p},seed={s}" for p in ("police_only", "echelon_135") for s in range(3)
    }
    assert all("run.days=2" in j.overrides for j in jobs)
    again = {j.name for j in expand(["policy=echelon_135,police_only", "run.days=2", "seed=range(3)"])[1]}
    assert again == {j.name for j in jobs}  # another order, the same runs


def test_a_path_value_makes_a_safe_folder_name():
    (job,) = expand(["site.facilities=/data/东港/工厂.csv"])[1]
    assert job.name == "run"  # nothing swept
    _swept, jobs = expand(["site.facilities=/a/b.csv,/c/d.csv"])
    assert all("/" not in j.name for j in jobs) and len({j.name for j in jobs}) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["policy=police_only,"], "bad sweep override"),
        (["seed=range(2", "policy=x"], "bad sweep override"),
        (["policy=police_only,atlantis"], "unknown policy"),
        (["fleet.echelons_per_grid=1,-3"], "fleet.echelons_per_grid"),
        (["sweep=nonesuch"], "shipped sweeps: "),
        (["hydra/launcher=warp"], "allowed: joblib, basic, ray"),
    ],
)
def test_a_bad_sweep_is_one_line_before_any_run(args, message, tmp_path):
    result = subprocess.run(
        [
            *echelon("sweep"),
            *args,
            "run.days=1",
            f"results_dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("echelon: error:") and message in lines[0], result.stderr
    assert not list(tmp_path.glob("sweep-*/runs/*"))


def test_every_shipped_sweep_composes_and_its_first_run_runs_short(tmp_path, cache_dir):
    specs = sorted(SWEEPS_DIR.glob("*.yaml"))
    assert specs
    for spec in specs:
        overrides = spec_overrides(spec.stem)
        plan = make_plan([f"sweep={spec.stem}", "run.days=1", "run.replications=1"], tmp_path, load_config)
        assert len(plan.jobs) > 1 and plan.swept_keys, spec
        first = [o.split("=", 1)[0] + "=" + o.split("=", 1)[1].split(",")[0] for o in overrides]
        first = [o.replace("range(10)", "0").replace("range(5)", "0") for o in first]
        args = [
            "sweep",
            *first,
            "run.days=1",
            "run.replications=1",
            f"results_dir={tmp_path}",
            f"cache_dir={cache_dir}",
        ]
        assert main([*args, "hydra/launcher=basic"]) == 0, spec


def test_command_line_keys_win_over_a_sweep_file():
    experiment, launcher = split_overrides(["sweep=stress_dispatch", "seed=7", "hydra/launcher=basic"])
    assert "seed=7" in experiment and "seed=range(5)" not in experiment
    assert launcher == ["hydra/launcher=basic"]


@pytest.mark.slow
def test_results_do_not_depend_on_the_number_of_workers(tmp_path, cache_dir):
    """The same sweep with one worker (in-process) and two (joblib): event logs byte for byte."""
    one = _sweep(tmp_path / "one", cache_dir, "hydra/launcher=basic")
    two = _sweep(tmp_path / "two", cache_dir, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    _same_runs(one, two)
    names = sorted(p.name for p in (one / "runs").iterdir())
    assert len(names) == 4
    events = pd.read_parquet(one / "runs" / names[0] / "events.parquet")
    assert len(events) > 0 and set(events["replication"]) == {0, 1, 2}


@pytest.mark.slow
def test_a_rerun_skips_finished_runs_and_redoes_the_rest(tmp_path, cache_dir, capsys):
    folder = _sweep(tmp_path, cache_dir, "hydra/launcher=basic")
    runs = sorted((folder / "runs").iterdir())
    kept = {p.name: (p / "run.json").stat().st_mtime_ns for p in runs[1:]}
    for f in runs[0].iterdir():
        f.unlink()
    runs[0].rmdir()
    abandoned = folder / "runs" / f".{runs[0].name}.dead.part"  # a worker killed outright
    abandoned.mkdir()
    (abandoned / ".owner").write_text(f"{os.uname().nodename} 999999999\n")
    capsys.readouterr()
    _sweep(tmp_path, cache_dir, "hydra/launcher=basic")
    assert "4 finished, 3 of them before this command" in capsys.readouterr().out
    assert (folder / "runs" / runs[0].name / "run.json").exists()
    assert {p.name: (p / "run.json").stat().st_mtime_ns for p in runs[1:]} == kept
    assert not abandoned.exists()


@pytest.mark.slow
def test_sigterm_keeps_finished_runs_leaves_nothing_collect_reads_and_resumes(tmp_path, cache_dir):
    args = [
        *echelon("sweep"),
        "policy=police_only,echelon_135,echelon_open", "seed=20251101", "run.days=20", "run.replications=4",
        f"results_dir={tmp_path}", f"cache_dir={cache_dir}", "hydra/launcher=basic",
    ]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    runs = None
    while time.monotonic() < deadline:
        found = list(tmp_path.glob("sweep-*/runs/*/run.json"))
        if found:
            runs = found[0].parent.parent
            break
        time.sleep(0.2)
    assert runs is not None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    finished = [p for p in runs.iterdir() if not p.name.startswith(".")]
    kept = f"the {len(finished)} finished run{' is' if len(finished) == 1 else 's are'} kept"
    assert f"stopped by SIGTERM; {kept}" in err and "Traceback" not in err
    assert finished and all((p / "run.json").exists() for p in finished)
    assert not [p for p in runs.iterdir() if p.name.startswith(".")]  # the run in progress removed
    assert len(finished) < 3
    _, n = collect(runs.parent, Options())  # reads the finished runs only, says what is missing
    assert n["runs"] == len(finished)
    assert "run not finished" in (runs.parent / "collected" / "report.md").read_text()
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and f"{len(finished)} of them before this command" in done.stdout


@pytest.mark.slow
def test_collect_tidy_tables_and_paired_differences(tmp_path, cache_dir):
    folder = _sweep(tmp_path, cache_dir, "hydra/launcher=basic")
    out, n = collect(folder, parse_options(["precision=0.2"]))
    assert n == {"runs": 4, "planned": 4, "failed": 0, "findings": n["findings"]}
    runs = pd.read_parquet(out / "runs.parquet")
    assert {
        "run",
        "policy",
        "fleet.echelons_per_grid",
        "seed",
        "metric",
        "estimate",
        "ci95_low",
        "ci95_high",
    } <= set(runs.columns)
    assert runs["fleet.echelons_per_grid"].dtype.kind == "i"  # a number, as swept
    assert runs.groupby("run")["metric"].nunique().nunique() == 1 and runs["run"].nunique() == 4
    ok = runs.dropna(subset=["ci95_low", "ci95_high"])
    assert ((ok["ci95_low"] <= ok["estimate"] + 1e-12) & (ok["estimate"] <= ok["ci95_high"] + 1e-12)).all()
    reps = pd.read_parquet(out / "replications.parquet")
    assert len(reps) == 4 * 3 * runs["metric"].nunique()
    # the paired difference of one metric by hand: echelon_135 - police_only, same fleet, same replication
    sweep = read_sweep(folder)
    diffs = pd.read_csv(out / "paired_differences.csv")
    metric = "tier_police_median_from_incident_s"
    row = diffs[(diffs["metric"] == metric) & (diffs["fleet.echelons_per_grid"] == 2)].iloc[0]
    by_run = sweep.rows.set_index(["run", "replication"])[metric]
    a = by_run["fleet.echelons_per_grid=2,policy=echelon_135"].to_numpy()
    b = by_run["fleet.echelons_per_grid=2,policy=police_only"].to_numpy()
    d = a - b
    assert row["mean_diff"] == pytest.approx(np.nanmean(d))
    assert row["ci95_high"] - row["mean_diff"] == pytest.approx(metrics.ci95_half_width(d))
    configs = pd.read_csv(out / "configurations.csv")
    assert set(configs["configuration"]) == {
        f"fleet.echelons_per_grid={f} policy={p}" for f in (1, 2) for p in ("police_only", "echelon_135")
    }
    has = configs.dropna(subset=["replications_needed"])
    assert (has["replications_needed"] >= 2).all()
    report = (out / "report.md").read_text()
    assert "Paired differences against policy=police_only" in report and "Replications needed" in report
    collect(folder, Options())  # again: replaced whole, nothing else left behind
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".hydra") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["speed=3"], "'speed=3' is not an option"),
        (["precision=-1"], "precision=-1: a positive number"),
        (["half_width=0.1"], "half_width and metric go together"),
        (["baseline=policy"], "baseline must be key=value"),
    ],
)
def test_collect_options_are_checked(args, message):
    with pytest.raises(ConfigError, match=message):
        parse_options(args)


def test_collect_of_a_folder_that_is_no_sweep_is_one_line(tmp_path, capsys):
    assert main(["collect", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a sweep folder" in err[0]


def test_the_plan_is_written_whole_with_the_swept_keys(tmp_path):
    plan = make_plan(["policy=police_only,echelon_135", "run.days=1"], tmp_path, load_config)
    assert plan.folder.parent == (tmp_path / "results").resolve() and plan.folder.name.startswith(
        "sweep-daishan-"
    )
    data = plan.as_dict()
    assert data["swept_keys"] == ["policy"] and len(data["jobs"]) == 2
    json.dumps(data)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_on_loopback(monkeypatch):
    """A real Ray instance started on this machine, its head on 127.0.0.1 with token authentication (the
    token only in this test's environment), stopped afterwards."""
    import secrets

    ray = Path(sys.executable).parent / "ray"
    port = _free_port()
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_USAGE_STATS_ENABLED": "0"}
    for key, value in auth.items():
        monkeypatch.setenv(key, value)  # the sweep runs in this process and joins the cluster with it
    head = [str(ray), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2"]
    head += ["--object-store-memory=100000000"]  # 100 MB: the runs pass only small results back
    started = subprocess.run(
        [*head, "--include-dashboard=false", "--disable-usage-stats"],
        capture_output=True, text=True, timeout=180, env={**os.environ, **auth},
    )  # fmt: skip
    assert started.returncode == 0, started.stderr[-2000:]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        import ray as ray_api

        ray_api.shutdown()
        subprocess.run(
            [str(ray), "stop", "--force"], capture_output=True, timeout=120, env={**os.environ, **auth}
        )


def _same_runs(a: Path, b: Path) -> None:
    names = sorted(p.name for p in (a / "runs").iterdir())
    assert names and names == sorted(p.name for p in (b / "runs").iterdir())
    for name in names:
        for file in ("events.parquet", "incidents.parquet", "metrics_by_replication.csv"):
            assert (a / "runs" / name / file).read_bytes() == (b / "runs" / name / file).read_bytes(), name


@pytest.mark.slow
def test_the_ray_launcher_runs_a_sweep_on_a_ray_instance_on_loopback(tmp_path, cache_dir, ray_on_loopback):
    local = _sweep(tmp_path / "local", cache_dir, "hydra/launcher=basic")
    on_ray = _sweep(
        tmp_path / "ray",
        cache_dir,
        "hydra/launcher=ray",
        f"hydra.launcher.ray.init.address={ray_on_loopback}",
    )
    _same_runs(local, on_ray)


@pytest.mark.slow
def test_the_submitit_launcher_runs_a_sweep_as_submitted_jobs(tmp_path, cache_dir):
    """submitit_local submits each run as a job the way submitit_slurm submits to SLURM (which this machine
    lacks): the same launcher code, pickled jobs, separate processes."""
    local = _sweep(tmp_path / "local", cache_dir, "hydra/launcher=basic")
    submitted = _sweep(tmp_path / "submitit", cache_dir, "hydra/launcher=submitit_local")
    _same_runs(local, submitted)
    assert (submitted / ".hydra" / ".submitit").is_dir()


@pytest.mark.slow
def test_a_lost_worker_is_one_line_keeps_finished_runs_and_a_rerun_finishes(tmp_path, cache_dir):
    args = [
        *echelon("sweep"),
        "policy=police_only,echelon_135,echelon_open", "fleet.echelons_per_grid=1,2", "run.days=20",
        "run.replications=4", f"results_dir={tmp_path}", f"cache_dir={cache_dir}", "hydra.launcher.n_jobs=2",
    ]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list(tmp_path.glob("sweep-*/runs/*/run.json")):
        time.sleep(0.2)
    workers = children(proc.pid, b"popen_loky_posix")  # not its resource tracker
    assert workers, proc.communicate()
    os.kill(workers[0], signal.SIGKILL)  # as the kernel's out-of-memory killer would
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "a worker was lost" in lines[0] and "run the same command again" in lines[0]
    (runs,) = tmp_path.glob("sweep-*/runs")
    finished = [p for p in runs.iterdir() if not p.name.startswith(".")]
    assert finished and all((p / "run.json").exists() for p in finished)
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "sweep of 6 runs" in done.stdout and "6 finished" in done.stdout
    assert not [p for p in runs.iterdir() if p.name.startswith(".")]  # the killed run's .part removed


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_counts_runs_as_their_folders_appear(tmp_path, monkeypatch):
    from sim.sweep import RUNS, watching

    _, jobs = expand(["policy=police_only,echelon_135"])
    screen = _Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with watching(tmp_path, jobs, every_s=0.05):
        for job in jobs:
            (tmp_path / RUNS / job.name).mkdir(parents=True)
            (tmp_path / RUNS / job.name / "run.json").write_text("{}")
            time.sleep(0.3)
    shown = screen.getvalue()
    assert "runs:" in shown and "1/2" in shown and "2/2" in shown


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path, monkeypatch):
    from sim.sweep import watching

    _, jobs = expand(["policy=police_only,echelon_135"])
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    with watching(tmp_path, jobs, every_s=0.05):
        time.sleep(0.1)
    assert log.getvalue() == ""
