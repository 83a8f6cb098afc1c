"""A sweep's last runs shared, replication by replication, with the workers that have no run left to start.

Why: a sweep hands whole runs to its workers, so near its end a worker whose last run finished would wait
for the others' (runs differ in cost: an echelon policy costs about twice the police alone), one worker idle
for up to a whole run. A run's replications are independent (a replication's incidents and luck depend on
the seed and its index alone, ``sim.streams``), so that worker simulates replications of a run still going,
and the run's own worker takes them from the sweep folder instead of simulating them. The run's folder is
the same, byte for byte, whoever simulated which replication.

All of it goes through files in the sweep folder's ``.share/`` (any worker, any machine that sees it):

- ``begun/<run>``: the run's worker began it. Workers help only once every launched run has begun, so no
  worker helps while it could start a run of its own (helping costs a model built for the helper);
- ``<run>/replications``: how many replications the run has, written by its worker before it begins them;
- ``<run>/<r>.claim``: replication ``r`` is taken (created exclusively, ``<host> <pid>`` inside). The run's
  worker claims upwards from the first, helpers downwards from the last, one at a time, from the run with
  the most left among those on the site the helper holds already;
- ``<run>/<r>/``: a helper's replication, written whole (event log, incidents, metrics). While simulating,
  the helper touches its claim every HEARTBEAT_S. The run's worker waits for it, and simulates the
  replication itself after all if the claim goes untouched for STALE_S or its process on this host ended
  (a helper lost).

The sweep command removes ``.share/`` before it launches and when the launch ends, however it ends.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.every import every

if TYPE_CHECKING:
    import pandas as pd

SHARE = ".share"  # in the sweep folder
BEGUN = "begun"
SIZE_FILE = "replications"
HEARTBEAT_S = 2.0  # a helper touches its claim this often while it simulates
STALE_S = 30.0  # a claim untouched this long is a lost helper's: the run's worker simulates it itself
POLL_S = 0.05  # how often the run's worker looks for a helper's replication


@dataclass(frozen=True)
class Simulated:
    """One replication's share of a run folder: its event log and incidents, its headline metrics and the
    counts behind its shares, and the wall seconds it took (helpers' seconds are reported in run.json)."""

    replication: int
    events: pd.DataFrame
    incidents: pd.DataFrame
    values: dict[str, float]
    counts: dict[str, int]
    wall_s: float
    helped: bool = False  # simulated by another worker


def simulated(rep: Any, wall_s: float) -> Simulated:
    """A replication (``sim.experiment.Replication``) measured from its log, as the run folder stores it.

    Values and counts are plain floats and ints, as they come back from a helper's JSON."""
    from sim.experiment import measure

    measured = rep.measured or measure(rep)  # measured in the worker process that simulated it, or here
    values, counts = measured.values, measured.counts
    return Simulated(
        rep.replication,
        rep.events,
        rep.incidents,
        {k: float(v) for k, v in values.items()},
        {k: int(v) for k, v in counts.items()},
        wall_s,
    )


class _Simulator:
    """Replications of one configuration, one model restarted for each (as a run in one process does)."""

    def __init__(self, cfg: Any, site: Any) -> None:
        from sim.model.world import World

        self.cfg, self.site, self.world, self.model = cfg, site, World.build(site), None

    def __call__(self, r: int, label: str) -> Simulated:
        from sim.experiment import simulate

        start = time.perf_counter()
        rep = simulate(self.site, self.cfg, r, self.world, label, self.model)
        self.model = rep.model
        return simulated(rep, time.perf_counter() - start)


# ---- the run's own worker --------------------------------------------------------------------------------
def begin(folder: Path, name: str, replications: int) -> Path:
    """Say that run ``name`` began with ``replications`` to share (0: none); its share folder."""
    share = Path(folder) / SHARE / name
    share.mkdir(parents=True, exist_ok=True)
    _write_whole(share / SIZE_FILE, str(replications))
    (Path(folder) / SHARE / BEGUN).mkdir(exist_ok=True)
    (Path(folder) / SHARE / BEGUN / name).touch()
    return share


def simulate_run(share: Path, cfg: Any, site: Any, label: str) -> tuple[list[Simulated], float]:
    """Every replication of ``cfg`` in order: those no helper claimed simulated here, the others read from
    their helpers (or simulated here after all if a helper was lost); and the seconds spent waiting for
    helpers."""
    from sim.experiment import check_load
    from sim.model.policies import policy_for

    policy_for(cfg.policy)
    sim = _Simulator(cfg, site)
    check_load(sim.world, cfg, 1)
    done: dict[int, Simulated] = {}
    for r in range(cfg.run.replications):
        if _claim_or_alone(share, r):
            done[r] = sim(r, label)
    start = time.perf_counter()
    from_helpers = _wait_for_helpers(share, [r for r in range(cfg.run.replications) if r not in done])
    waited_s = time.perf_counter() - start
    for r, helped in from_helpers.items():
        done[r] = helped or sim(r, label)  # None: its helper was lost
    return [done[r] for r in range(cfg.run.replications)], waited_s


def finish(share: Path) -> None:
    """The run's folder is written: its shared replications are no longer needed. Renamed out of the
    helpers' sight first (a dot name), so that none claims a replication in a folder half removed."""
    gone = share.with_name(f".{share.name}.{os.getpid()}.done")
    try:
        share.rename(gone)
    except OSError:
        return  # removed already (the sweep command's own clean-up)
    shutil.rmtree(gone, ignore_errors=True)


def _claim_or_alone(share: Path, r: int) -> bool:
    """The run's own worker claims ``r``; if the share is gone (a sweep command cleaning up while a
    cluster job still runs), it simulates everything itself."""
    try:
        return _claim(share, r)
    except FileNotFoundError:
        return True


def _wait_for_helpers(share: Path, pending: list[int]) -> dict[int, Simulated | None]:
    """The helpers' replications ``pending`` as they are written, watched together; None for one whose
    helper was lost (so that several lost claims cost STALE_S in all, not each)."""
    out: dict[int, Simulated | None] = {}
    seen: dict[int, tuple[int, float]] = {}  # claim's mtime, and when it last moved by this clock
    while len(out) < len(pending):
        for r in (r for r in pending if r not in out):
            claim, result = share / f"{r}.claim", share / str(r)
            if result.is_dir():
                out[r] = _read(result, r)
                continue
            try:
                stamp = claim.stat().st_mtime_ns
            except FileNotFoundError:
                out[r] = None
                continue
            if r not in seen or seen[r][0] != stamp:  # the helper's own clock: only whether it moves counts
                seen[r] = (stamp, time.monotonic())
            if time.monotonic() - seen[r][1] > STALE_S or not _claimant_alive(claim):
                out[r] = None
        if len(out) < len(pending):
            time.sleep(POLL_S)
    return out


def _claimant_alive(claim: Path) -> bool:
    from sim.result_folder import process_alive

    try:
        host, pid = claim.read_text().split()
    except (OSError, ValueError):
        return True  # being written, or not ours to judge: the heartbeat decides
    return host != socket.gethostname() or process_alive(int(pid))


# ---- a worker with no run left to start ------------------------------------------------------------------
def help_others(
    folder: Path, launched: int, config_of: Callable[[str], Any], site_of: Callable[[Any], Any]
) -> int:
    """Simulate replications of runs still going, once all ``launched`` runs have begun; how many.

    ``config_of(name)`` is a run's configuration; ``site_of(cfg)`` its site if this worker holds it already,
    else None: a run on another site is left to its own worker (loading a site may take longer than the
    replications left)."""
    root = Path(folder) / SHARE
    sims: dict[str, _Simulator | None] = {}  # per run looked at: a model restarted for each replication
    helped = 0
    while _all_begun(root, launched):
        name = _most_left(root, skip={n for n, sim in sims.items() if sim is None})
        if name is None:
            break
        if name not in sims:
            sims[name] = _helpable(config_of(name), site_of)
            continue
        r = _claim_last(root / name)
        if r is None:
            continue  # taken meanwhile, or the run finished
        with _heartbeat(root / name / f"{r}.claim"):
            simulated_here = sims[name](r, name)
            with suppress(FileNotFoundError):
                # the run's worker took this replication back (this one seemed lost) and finished meanwhile
                _write(root / name / str(r), simulated_here)
                helped += 1
    return helped


def _helpable(cfg: Any, site_of: Callable[[Any], Any]) -> _Simulator | None:
    """A simulator for the run of ``cfg`` if this worker may help it: its site held already, and the checks
    its own worker makes passed (a run its worker will refuse is not simulated here either)."""
    from sim.errors import EchelonError
    from sim.experiment import check_load
    from sim.model.policies import policy_for

    site = site_of(cfg)
    if site is None:
        return None
    try:
        policy_for(cfg.policy)
        sim = _Simulator(cfg, site)
        check_load(sim.world, cfg, 1)
    except EchelonError:
        return None
    return sim


def _all_begun(root: Path, launched: int) -> bool:
    try:
        return len(os.listdir(root / BEGUN)) >= launched
    except FileNotFoundError:
        return False


def _unclaimed(share: Path) -> list[int]:
    """The run's replications nobody has claimed yet ([] for a run finished or not yet sized)."""
    try:
        size = int((share / SIZE_FILE).read_text())
        claimed = {int(p.stem) for p in share.glob("*.claim")}
    except (OSError, ValueError):
        return []
    return [r for r in range(size) if r not in claimed]


def _most_left(root: Path, skip: set[str]) -> str | None:
    """The run with the most replications unclaimed (the first by name of equals), ``skip`` aside."""
    try:
        shares = sorted(p for p in root.iterdir() if not p.name.startswith(".") and p.name not in skip)
    except FileNotFoundError:  # the sweep command cleaned up
        return None
    left = {share.name: len(_unclaimed(share)) for share in shares}
    best = max(left, key=left.__getitem__, default=None)  # the first of equals
    return best if best is not None and left[best] > 0 else None


def _claim_last(share: Path) -> int | None:
    """Claim the run's last unclaimed replication; None if none is left (or the run finished)."""
    for r in reversed(_unclaimed(share)):
        try:
            if _claim(share, r):
                return r
        except FileNotFoundError:  # the run finished meanwhile
            return None
    return None


def _claim(share: Path, r: int) -> bool:
    """Take replication ``r`` (True) unless another worker has (False)."""
    try:
        fd = os.open(share / f"{r}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(f"{socket.gethostname()} {os.getpid()}\n")
    return True


def _heartbeat(claim: Path) -> AbstractContextManager[None]:
    """Touch the claim every HEARTBEAT_S while the block runs: its run's worker sees this helper alive."""

    def touch() -> None:
        with suppress(OSError):  # the run finished meanwhile
            os.utime(claim)

    return every(HEARTBEAT_S, touch)


# ---- a replication on disk -------------------------------------------------------------------------------
def _write(final: Path, sim: Simulated) -> None:
    from sim.result_folder import written_whole

    with written_whole(final) as (tmp, _):
        sim.events.to_parquet(tmp / "events.parquet", index=False)
        sim.incidents.to_parquet(tmp / "incidents.parquet", index=False)
        metrics = {"values": sim.values, "counts": sim.counts, "wall_s": sim.wall_s}
        (tmp / "metrics.json").write_text(json.dumps(metrics))


def _read(folder: Path, r: int) -> Simulated:
    import pandas as pd

    metrics = json.loads((folder / "metrics.json").read_text())
    return Simulated(
        r,
        pd.read_parquet(folder / "events.parquet"),
        pd.read_parquet(folder / "incidents.parquet"),
        metrics["values"],
        metrics["counts"],
        metrics["wall_s"],
        helped=True,
    )


def _write_whole(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text)
    tmp.replace(path)
