"""Sweeps: every combination of Hydra multirun overrides, each run in its own folder, resumable.

``echelon sweep policy=police_only,echelon_135 fleet.echelons_per_grid=1,2 seed='range(3)'`` expands the
overrides with Hydra's own multirun grammar (``a,b``, ``range(n)``, ``choice(...)``, ``glob(...)``) into
jobs, checks every distinct configuration before any work, writes the plan (``sweep.json``) and hands the
jobs still to do to a Hydra launcher: ``joblib`` (the default: all cores), ``basic`` (one after another),
``ray`` or ``submitit_slurm`` / ``submitit_local`` (``hydra/launcher=ray``). Each job simulates one
configuration (all its ``run.replications``) and writes ``runs/<swept values>/``, which appears whole or
not at all (``sim.result_folder.written_whole``); ``run.json`` inside it is what marks it finished. The same
command run again finds the same folder (named by a hash of its overrides) and skips what finished, so a
sweep stopped by Ctrl-C, SIGTERM or a lost worker loses only the runs it was in the middle of.

A job's result depends only on its overrides (config and seed), never on the worker or the order: the
incident stream of a replication is drawn from (seed, replication) alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.errors import ConfigError, EchelonError
from sim.shared_replications import SHARE

PLAN_FILE = "sweep.json"  # in the sweep folder: the command's overrides, the launcher, the jobs
RUNS = "runs"  # the sweep folder's subfolder of finished runs
DONE_FILE = "run.json"  # written last in a run's folder: its overrides, values and counts
FAILED = ".failed"  # a run refused by its configuration or inputs: one line per run, a file each
SWEEPS_DIR = Path(__file__).resolve().parent.parent / "conf" / "sweep"  # shipped sweep specifications
LAUNCHERS = ("joblib", "basic", "ray", "submitit_local", "submitit_slurm")
MAX_NAME = 80


@dataclass(frozen=True)
class Job:
    """One run of a sweep: its overrides in the command's order, and the values of the swept keys."""

    overrides: tuple[str, ...]
    swept: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        """The run folder's name: the swept values (``policy=police_only,seed=3``), made safe for a path;
        shortened with a hash of the whole when too long."""
        text = ",".join(f"{k}={v}" for k, v in self.swept) or "run"
        safe = re.sub(r"[^\w.=,+-]+", "_", text)
        if len(safe) <= MAX_NAME and safe == text:
            return safe
        digest = hashlib.sha1("\n".join(self.overrides).encode()).hexdigest()[:8]
        return f"{safe[: MAX_NAME - 9]}-{digest}"


@dataclass(frozen=True)
class Plan:
    """A sweep: the experiment overrides as given, the swept keys, every job, and how to launch them."""

    overrides: tuple[str, ...]
    swept_keys: tuple[str, ...]
    jobs: tuple[Job, ...]
    launcher: tuple[str, ...]  # hydra/... and hydra.... overrides
    folder: Path

    def as_dict(self) -> dict[str, Any]:
        return {
            "overrides": list(self.overrides),
            "swept_keys": list(self.swept_keys),
            "launcher": list(self.launcher),
            "jobs": [
                {"name": j.name, "overrides": list(j.overrides), "swept": dict(j.swept)} for j in self.jobs
            ],
        }


# ---- the plan --------------------------------------------------------------------------------------------
def spec_overrides(name: str) -> list[str]:
    """The ``params`` of a shipped sweep (``conf/sweep/<name>.yaml``) or a YAML file, as overrides.

    Read as data (yaml.safe_load): a sweep file names keys and value lists, nothing else."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else SWEEPS_DIR / f"{name}.yaml"
    if not path.is_file():
        shipped = sorted(p.stem for p in SWEEPS_DIR.glob("*.yaml"))
        raise ConfigError(f"sweep '{name}': no such file {path}; shipped sweeps: {', '.join(shipped)}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not readable YAML ({str(err).splitlines()[0]})") from None
    params = data.get("params") if isinstance(data, dict) else None
    if not isinstance(params, dict) or not params:
        raise ConfigError(f"{path}: field 'params' must map config keys to values, e.g. 'seed: range(5)'")
    return [f"{key}={_as_override(value)}" for key, value in params.items()]


def _as_override(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def split_overrides(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """(experiment overrides, launcher overrides): ``hydra/...`` and ``hydra....`` go to Hydra's launcher;
    ``sweep=<name>`` is replaced by that sweep's params (the command line's own keys win)."""
    experiment, launcher = [], []
    for arg in args:
        key = arg.split("=", 1)[0].lstrip("+~")
        if key.startswith(("hydra/", "hydra.")):
            launcher.append(arg)
        elif key == "sweep":
            given = {a.split("=", 1)[0] for a in args}
            spec = spec_overrides(arg.split("=", 1)[1])
            experiment = [o for o in spec if o.split("=", 1)[0] not in given] + experiment
        else:
            experiment.append(arg)
    return experiment, launcher


def expand(overrides: Sequence[str]) -> tuple[tuple[str, ...], list[Job]]:
    """Hydra's multirun grammar: every combination, in Hydra's order (the last key varies fastest).

    Swept keys are named in sorted order, so the same sweep written in another order finds its runs."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    from sim.config import plain_overrides

    parser = OverridesParser.create()

    def parse(override: str) -> Any:
        try:
            return parser.parse_override(override)
        except HydraException:  # a path or name Hydra's lexer refuses unquoted (Chinese, spaces)
            value = override.partition("=")[2]
            quoted = plain_overrides([override])[0]
            if quoted != override and not set(value) & set("()[]{},'\""):  # no sweep syntax to quote away
                return parse(quoted)
            raise ConfigError(
                f"bad sweep override '{override}': not Hydra's multirun grammar; allowed: key=a,b  "
                "key='range(10)'  key='choice(a,b)'  key=value (quote a value holding commas: key='a,b')"
            ) from None

    parsed = [parse(o) for o in overrides]
    try:
        batches = BasicSweeper.split_arguments(parsed, None)[0]
    except HydraException as err:
        raise ConfigError(f"bad sweep overrides: {str(err).splitlines()[0]}") from None
    swept = tuple(sorted(o.get_key_element().lstrip("+~") for o in parsed if o.is_sweep_override()))
    jobs = []
    for batch in batches:
        values = dict(o.split("=", 1) for o in batch)
        jobs.append(Job(tuple(batch), tuple((k, values[k]) for k in swept)))
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ConfigError(f"bad sweep overrides {list(overrides)}: two runs would share a folder")
    return swept, jobs


def sweep_folder(results_dir: Path, site: str, overrides: Sequence[str]) -> Path:
    """``results/sweep-<site>-<hash>``: the same overrides (in any order) find the same folder again."""
    digest = hashlib.sha1("\n".join(sorted(overrides)).encode()).hexdigest()[:10]
    return results_dir / f"sweep-{re.sub(r'[^\w-]+', '_', site)}-{digest}"


def check_jobs(jobs: Sequence[Job], load: Callable[[Sequence[str]], Any]) -> None:
    """Compose every distinct configuration before any work (runs differing only in seed share one check),
    so a bad value ends the sweep in one line instead of one failed run per seed."""
    seen: set[tuple[str, ...]] = set()
    for job in jobs:
        key = tuple(o for o in job.overrides if o.split("=", 1)[0] != "seed")
        if key not in seen:
            seen.add(key)
            load(job.overrides)


def make_plan(args: Sequence[str], cwd: Path, load: Callable[[Sequence[str]], Any]) -> Plan:
    """The sweep of a command line: jobs expanded and checked, the folder named, the launcher chosen."""
    experiment, launcher = split_overrides(args)
    swept, jobs = expand(experiment)
    if not jobs:
        raise ConfigError("the sweep has no runs")
    check_jobs(jobs, load)
    first = load(jobs[0].overrides)
    folder = next((a.split("=", 1)[1] for a in launcher if a.startswith("hydra.sweep.dir=")), None)
    base = Path(first.results_dir)
    path = Path(folder).expanduser() if folder else sweep_folder(base, first.site.name, experiment)
    return Plan(tuple(experiment), swept, tuple(jobs), tuple(launcher), (cwd / path).resolve())


def is_done(folder: Path, job: Job) -> bool:
    """The run finished: its folder exists whole (renamed into place after ``run.json`` was written)."""
    done = folder / RUNS / job.name / DONE_FILE
    try:
        return sorted(json.loads(done.read_text())["overrides"]) == sorted(job.overrides)
    except (OSError, ValueError, KeyError):
        return False


def write_plan(plan: Plan) -> None:
    """``sweep.json``, replaced whole: a second command with other overrides would name another folder."""
    plan.folder.mkdir(parents=True, exist_ok=True)
    (plan.folder / RUNS).mkdir(exist_ok=True)
    tmp = plan.folder / f".{PLAN_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(plan.as_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(plan.folder / PLAN_FILE)


def read_plan(folder: Path) -> dict[str, Any]:
    path = Path(folder) / PLAN_FILE
    if not path.is_file():
        raise ConfigError(f"'{folder}' is not a sweep folder: no {PLAN_FILE} (made by `echelon sweep`)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: not readable ({err})") from None


# ---- one job ---------------------------------------------------------------------------------------------
def run_job(folder: Path, job: Job, cwd: Path) -> str:
    """Simulate one run and write its folder whole; 'skipped' when a finished one is there already.

    Called in a worker (any process, any machine that sees ``folder``): everything it needs is in its
    arguments. Replications that a worker with nothing left to start claims are taken from it
    (``sim.shared_replications``). A run refused by its inputs leaves one line in ``.failed/<name>`` and no
    run folder."""
    from sim import shared_replications as shared
    from sim.result_folder import remove_abandoned, written_whole

    if is_done(folder, job):
        shared.begin(folder, job.name, 0)
        return "skipped"
    runs = folder / RUNS
    remove_abandoned(runs)
    failed = folder / FAILED / job.name
    failed.unlink(missing_ok=True)
    try:
        cfg = job_config(job, cwd)
    except EchelonError as err:
        shared.begin(folder, job.name, 0)
        return _failed(failed, err)
    # a run in processes of its own (run.workers set) shares nothing: its replications are spread already
    share = shared.begin(folder, job.name, cfg.run.replications if cfg.run.workers == 1 else 0)
    start_cpu, start = time.process_time(), time.perf_counter()
    try:
        with written_whole(runs / job.name) as (tmp, _final):
            reps, waited_s = _simulate(share, cfg, job)
            n = _write_run(tmp, cfg, job, reps)
            helped = [r for r in reps if r.helped]
            done = {
                "overrides": list(job.overrides),
                "swept": dict(job.swept),
                "seed": cfg.seed,
                "site": cfg.site.name,
                "replications": cfg.run.replications,
                "days": cfg.run.days,
                "incidents": n,
                "cpu_s": round(time.process_time() - start_cpu, 3),  # this worker's
                "wall_s": round(time.perf_counter() - start, 3),
                # replications simulated by workers with no run left to start: their wall seconds, and this
                # worker's seconds waiting for them (the run's work: wall_s - waited_s + helpers_wall_s)
                "helped_replications": [r.replication for r in helped],
                "helpers_wall_s": round(sum(r.wall_s for r in helped), 3),
                "waited_s": round(waited_s, 3),
            }
            (tmp / DONE_FILE).write_text(json.dumps(done, indent=1, ensure_ascii=False) + "\n")
    except EchelonError as err:
        return _failed(failed, err)
    finally:
        shared.finish(share)
    return "done"


def job_config(job: Job, cwd: Path) -> Any:
    """The run's configuration, in one process unless the sweep said otherwise: runs are the sweep's parallel
    unit, and a run inside a Ray or SLURM worker taking every core of its machine would oversubscribe it
    (joblib workers already keep to one process)."""
    from sim.config import load_config, paths_from

    cfg = paths_from(load_config(job.overrides), cwd)
    if any(o.split("=", 1)[0].lstrip("+~") == "run.workers" for o in job.overrides):
        return cfg
    return dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, workers=1))


def _failed(path: Path, err: EchelonError) -> str:
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"{err}\n", encoding="utf-8")
    return "failed"


def _simulate(share: Path, cfg: Any, job: Job) -> tuple[list, float]:
    """The run's replications (``Simulated``), in order, and the seconds spent waiting for helpers."""
    from sim import shared_replications as shared
    from sim.experiment import run
    from sim.site.build import build_site

    site = _site_for(cfg, build_site)
    if cfg.run.workers == 1:
        return shared.simulate_run(share, cfg, site, job.name)
    return [shared.simulated(r, float("nan")) for r in run(cfg, site, job.name)], 0.0


def _write_run(tmp: Path, cfg: Any, job: Job, reps: Sequence[Any]) -> int:
    """The run's event log, incidents, per-replication metrics and config: what ``collect`` reads."""
    import pandas as pd

    events = pd.concat([r.events.assign(replication=r.replication) for r in reps], ignore_index=True)
    events.to_parquet(tmp / "events.parquet", index=False)
    incidents = pd.concat([r.incidents.assign(replication=r.replication) for r in reps], ignore_index=True)
    incidents.to_parquet(tmp / "incidents.parquet", index=False)
    rows = pd.DataFrame([{"replication": r.replication, **r.values} for r in reps])
    rows.to_csv(tmp / "metrics_by_replication.csv", index=False)
    counts = pd.DataFrame(
        [(r.replication, metric, n) for r in reps for metric, n in r.counts.items()],
        columns=["replication", "metric", "n"],
    )
    counts.to_csv(tmp / "metric_counts.csv", index=False)
    config = {"overrides": list(job.overrides), **dataclasses.asdict(cfg)}
    (tmp / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return len(incidents)


_SITES: dict[str, Any] = {}  # a worker's last site: the runs of a sweep mostly share one


def _site_for(cfg: Any, build: Callable[[Any], Any]) -> Any:
    """The site of ``cfg``, built once per worker process for all the runs that share it (a sweep over
    policies, fleets or seeds of a real site): building a site costs seconds, a run often less."""
    key = _site_key(cfg)
    if key not in _SITES:
        _SITES.clear()
        _SITES[key] = build(cfg)
    return _SITES[key]


def _site_key(cfg: Any) -> str:
    parts = (cfg.site, cfg.network, cfg.grid, cfg.enterprises, cfg.drones, cfg.seed, cfg.isochrones_s)
    return repr((*parts, cfg.cache_dir, cfg.results_dir))


# ---- launching -------------------------------------------------------------------------------------------
def _task(cfg: Any) -> str:
    """Hydra's task function: the job's index into the plan, the plan's folder, the caller's folder and how
    many jobs were launched. Once its run is written, a worker with no run left to start helps the runs
    still going (``sim.shared_replications``)."""
    from sim import shared_replications as shared

    folder, cwd = Path(cfg.folder), Path(cfg.cwd)
    plan = json.loads((folder / PLAN_FILE).read_text(encoding="utf-8"))
    jobs = {e["name"]: Job(tuple(e["overrides"]), tuple(e["swept"].items())) for e in plan["jobs"]}
    job = list(jobs.values())[int(cfg.job)]
    with _own_hydra():
        status = run_job(folder, job, cwd)
        config_of = lambda name: job_config(jobs[name], cwd)  # noqa: E731
        shared.help_others(folder, int(cfg.launched), config_of, lambda c: _SITES.get(_site_key(c)))
    return status


@contextmanager
def _own_hydra() -> Iterator[None]:
    """Hydra's global state set aside and put back: a job composes its config as ``echelon run`` does
    (``sim.config`` initialises Hydra itself) inside a launcher that has its own, and the launch itself
    leaves none behind for the next compose."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.initialize import get_gh_backup, restore_gh_from_backup

    backup = get_gh_backup()
    GlobalHydra.instance().clear()
    try:
        yield
    finally:
        restore_gh_from_backup(backup)


def launcher_overrides(given: Sequence[str], workers: int) -> list[str]:
    """Hydra's settings for the launch: joblib on every core unless the command chose a launcher; no
    logging of Hydra's own (a line per finished run is printed instead)."""
    chosen = next((a.split("=", 1)[1] for a in given if a.split("=", 1)[0] == "hydra/launcher"), None)
    if chosen is not None and chosen not in LAUNCHERS:
        raise ConfigError(f"hydra/launcher={chosen}: allowed: {', '.join(LAUNCHERS)}")
    out = ["hydra/hydra_logging=disabled", "hydra/job_logging=disabled"]
    if chosen is None:
        out += ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={workers}"]
    if chosen == "ray":
        out += _ray_overrides(given)
    return out + [a for a in given if not a.startswith("hydra.sweep.dir=")]


def _ray_overrides(given: Sequence[str]) -> list[str]:
    """Ray: with no cluster named, Ray starts one for this sweep on the loopback address, no dashboard.
    Joining a cluster (``hydra.launcher.ray.init.address=host:port``): hydra-ray-launcher 1.2.2 always sets
    ``object_store_memory``, which Ray refuses when joining; unset it (``null``) unless the user set it."""
    if not any(a.startswith("hydra.launcher.ray.init.address=") for a in given):
        return [
            "+hydra.launcher.ray.init.include_dashboard=false",
            "+hydra.launcher.ray.init._node_ip_address=127.0.0.1",
        ]
    if any("hydra.launcher.ray.init.object_store_memory=" in a for a in given):
        return []
    return ["+hydra.launcher.ray.init.object_store_memory=null"]


LOST_WORKER = {  # what a launcher raises when a worker dies under it (by name: Ray need not be imported)
    "TerminatedWorkerError",  # joblib (loky): a worker killed, out of memory, a segfault
    "BrokenProcessPool",
    "WorkerCrashedError",  # Ray
    "NodeDiedError",
    "ActorDiedError",
    "RaySystemError",
    "UncompletedJobError",  # submitit: a job preempted, timed out or cancelled
    "FailedJobError",
}


def launch(plan: Plan, todo: Sequence[int], cwd: Path, workers: int) -> None:
    """Hand the jobs ``todo`` (indices into the plan) to the Hydra launcher (Hydra's multirun, called
    directly so its errors reach the command line as one line, not printed by Hydra)."""
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    overrides = [
        f"+job={','.join(map(str, todo))}",
        f"+launched={len(todo)}",
        f"+folder='{plan.folder}'",
        f"+cwd='{cwd}'",
        f"hydra.sweep.dir='{plan.folder / '.hydra'}'",
        "hydra.sweep.subdir=${hydra.job.num}",
        # said outright, not left to the version base a composition in the same process happened to set
        # (a kept composition sets none, and each job would then warn of Hydra 1.1's change of folder)
        "hydra.job.chdir=False",
        "hydra.mode=MULTIRUN",
        *launcher_overrides(plan.launcher, workers),
    ]
    shutil.rmtree(plan.folder / SHARE, ignore_errors=True)  # left by a command stopped outright
    try:
        with _own_hydra():
            search_path = create_config_search_path(None)
            app = Hydra.create_main_hydra2(task_name="echelon-sweep", config_search_path=search_path)
            app.multirun(config_name=None, task_function=_task, overrides=overrides)
    except (HydraException, OmegaConfBaseException) as err:
        raise ConfigError(f"the launcher refused {list(plan.launcher)}: {str(err).splitlines()[0]}") from None
    except Exception as err:
        if type(err).__name__ not in LOST_WORKER:
            raise  # a fault of the simulation itself: its traceback is the report
        done = sum(is_done(plan.folder, job) for job in plan.jobs)
        raise SweepStopped(
            f"a worker was lost ({type(err).__name__}: {str(err).splitlines()[0]}); {_kept(done)}: run the "
            "same command again to do the rest"
        ) from None
    finally:
        shutil.rmtree(plan.folder / SHARE, ignore_errors=True)


def _kept(done: int) -> str:
    return f"the {done} finished run{' is' if done == 1 else 's are'} kept"


class SweepStopped(EchelonError):
    """The launcher lost a worker: finished runs stay, a rerun does the rest."""


@contextmanager
def watching(folder: Path, jobs: Sequence[Job], every_s: float = 0.5) -> Iterator[None]:
    """A progress bar of finished runs, from the runs folder (so it counts runs of any launcher, any
    worker); quiet when stderr is not a terminal."""
    from tqdm import tqdm

    from sim.every import every

    names = {j.name for j in jobs}
    bar = tqdm(total=len(names), desc="runs", unit="run", file=sys.stderr, disable=None, leave=False)

    def poll() -> None:
        bar.update(sum(1 for n in names if (folder / RUNS / n / DONE_FILE).exists()) - bar.n)

    try:
        with every(every_s, poll):
            yield
    finally:
        bar.close()


def sweep(args: Sequence[str], cwd: Path, load: Callable[[Sequence[str]], Any]) -> tuple[Plan, dict]:
    """Plan, skip what finished, launch the rest; return the plan and counts of done/skipped/failed."""
    plan = make_plan(args, cwd, load)
    write_plan(plan)
    todo = [i for i, job in enumerate(plan.jobs) if not is_done(plan.folder, job)]
    counts = {"runs": len(plan.jobs), "finished_before": len(plan.jobs) - len(todo)}
    if todo:
        workers = min(len(todo), os.cpu_count() or 1)
        try:
            with watching(plan.folder, [plan.jobs[i] for i in todo]):
                launch(plan, todo, cwd, workers)
        except KeyboardInterrupt as stop:  # Ctrl-C, SIGTERM: say what stays, for the one line printed
            done = sum(is_done(plan.folder, job) for job in plan.jobs)
            stop.kept = f"{_kept(done)}: run the same command again to do the rest"
            raise
    failed = sorted((plan.folder / FAILED).glob("*")) if (plan.folder / FAILED).is_dir() else []
    counts["failed"] = {p.name: p.read_text(encoding="utf-8").strip() for p in failed}
    counts["done"] = sum(is_done(plan.folder, j) for j in plan.jobs)
    return plan, counts
