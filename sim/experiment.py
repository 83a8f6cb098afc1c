"""Runs and comparisons: config -> site -> incidents -> model -> event log -> metrics -> figures and report.

``run(cfg)`` simulates every replication of one configuration and returns the logs; ``compare(cfgs)``
runs several policies on the *same* incidents (common random numbers: each replication's incident stream
depends only on the seed, the site and the incident settings, never on the policy) and ``write_results``
writes everything a planner opens. All callable without the command line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from sim import parallel
from sim.analysis import metrics
from sim.config import EchelonConfig, output_dir
from sim.config_diff import Setting
from sim.errors import ConfigError, ScenarioError
from sim.model.events import write_log
from sim.model.incidents import Incident, expected_per_replication, generate_incidents, incidents_frame
from sim.model.model import EchelonModel
from sim.model.policies import policy_for
from sim.model.world import World
from sim.result_folder import result_folder
from sim.site.site import Site

Progress = Callable[[str, int, int], None]
"""Told how far a long step has got: ``(stage, done, total)``, e.g. ``("simulating", 3, 30)``; called with
``done=0`` when a stage starts. The engine prints nothing itself: the command line draws a bar."""


def silent(stage: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True)
class Measured:
    """A replication's own metrics, from its log alone: its incident table, headline values with the counts
    behind its shares, and its queueing table. A worker process measures the replications it simulated, so
    that the measuring is shared by every process too."""

    table: pd.DataFrame
    values: dict[str, float]
    counts: dict[str, int]
    queueing: pd.DataFrame


@dataclass(frozen=True)
class Replication:
    policy: str  # the policy's label (its config file name in a comparison)
    replication: int
    events: pd.DataFrame
    incidents: pd.DataFrame
    horizon_s: float
    units: dict[str, int]  # unit kind -> count, so idle units count in utilisation
    model: EchelonModel | None = field(default=None, repr=False, compare=False)  # to restart, not to read
    measured: Measured | None = field(default=None, repr=False, compare=False)  # measured where simulated


def measure(rep: Replication) -> Measured:
    """``rep``'s own metrics (``Measured``), computed from its log."""
    with metrics.same_logs():
        table = metrics.incident_table(rep.events, rep.incidents).assign(replication=rep.replication)
        counts: dict[str, int] = {}
        values = metrics.headline(table, rep.events, rep.horizon_s, rep.units, counts=counts)
        return Measured(table, values, counts, metrics.queueing(rep.events))


def unit_counts(model: EchelonModel) -> dict[str, int]:
    counts: dict[str, int] = {}
    for unit in model.units:
        counts[unit.unit_kind] = counts.get(unit.unit_kind, 0) + 1
    counts["drone"] = len(model.docked_drones)
    if any(t.members == "own_security" for t in model.policy_cfg.tiers):
        counts["own_security"] = len(model.enterprises)  # one guard force per enterprise
    return counts


def simulate(
    site: Site,
    cfg: EchelonConfig,
    replication: int,
    world: World | None = None,
    label: str | None = None,
    model: EchelonModel | None = None,
    incidents: list[Incident] | None = None,
) -> Replication:
    """One replication: the incident stream of (seed, replication), then the model on it.

    Pass the site's ``world`` (sim.model.world) when simulating many replications, and the ``model`` of an
    earlier replication of the same config to restart its agents instead of building them again, and the
    replication's ``incidents`` when another config on the same world has drawn them already."""
    world = world or (model.world if model is not None else World.build(site))
    if incidents is None:
        incidents = generate_incidents(site, cfg, replication, world)
    if model is None:
        model = EchelonModel(site, cfg, incidents, replication, world)
    else:
        model.restart(incidents, replication)
    log = model.run()
    return Replication(
        label or cfg.policy.name,
        replication,
        log.to_frame(),
        incidents_frame(incidents),
        model.horizon_s,
        unit_counts(model),
        model,
    )


def run(
    cfg: EchelonConfig, site: Site | None = None, label: str | None = None, progress: Progress | None = None
) -> list[Replication]:
    """Every replication of one configuration (one model, restarted for each replication)."""
    return compare({label or cfg.policy.name: cfg}, site, progress)


def _same_world(a: EchelonConfig, b: EchelonConfig) -> bool:
    """Configs that differ only in policy see the same incidents."""
    strip = {"policy": None, "choices": {}}
    return dataclasses.replace(a, **strip) == dataclasses.replace(b, **strip)


MAX_INCIDENT_RUNS = 500_000  # incidents x replications x policies: about 11 KB each in memory until written


def check_load(world: World, cfg: EchelonConfig, n_policies: int) -> None:
    """Refuse, before any work, a run where no incident can occur or one too large for memory."""
    per_rep = expected_per_replication(world, cfg)
    choice = cfg.choices.get("incidents", "the incidents config")
    if per_rep <= 0:
        raise ScenarioError(
            f"no incident can occur on site '{cfg.site.name}' with incidents={choice}: "
            f"{len(world.enterprises)} enterprises, {len(world.place_nodes)} watched places and the rates "
            "give 0 incidents per day (add enterprises, e.g. site.facilities=..., or raise the rates)"
        )
    total = per_rep * cfg.run.replications * n_policies
    if total > MAX_INCIDENT_RUNS:
        raise ConfigError(
            f"run.days={cfg.run.days:g} x run.replications={cfg.run.replications} x {n_policies} "
            f"policies would simulate about {total:,.0f} incidents (about {per_rep:,.0f} per replication); "
            f"at most {MAX_INCIDENT_RUNS:,} fit in memory in one run: shorten run.days or lower "
            "run.replications"
        )


def compare(
    cfgs: dict[str, EchelonConfig], site: Site | None = None, progress: Progress | None = None
) -> list[Replication]:
    """Run each labelled config on one site and the same incident streams (common random numbers).

    Replications run in ``run.workers`` processes (``sim.parallel``); the result is the same, in the same
    order (by replication, then policy), whatever the number. ``progress`` hears ``("simulating", done,
    total)`` as replications finish."""
    progress = progress or silent
    first = next(iter(cfgs.values()))
    for label, cfg in cfgs.items():
        if not _same_world(first, cfg):
            raise ConfigError(
                f"policy '{label}': a comparison may change only the policy; site, incidents, fleet, "
                "delays, seed and run settings must be the same for every policy"
            )
    for cfg in cfgs.values():
        policy_for(cfg.policy)
    if site is None:
        from sim.site.build import build_site  # not at the top: a worker process need not load osmnx

        site = build_site(first)
    world = World.build(site)
    check_load(world, first, len(cfgs))
    total = first.run.replications * len(cfgs)
    progress("simulating", 0, total)
    runs = first.run.replications * len(cfgs) * expected_per_replication(world, first)
    n_jobs = parallel.jobs(first.run.workers, total, runs)
    if n_jobs == 1:
        return simulate_replications(site, cfgs, range(first.run.replications), world, progress)
    out: list[Replication] = []
    chunks = parallel.run_chunks(_runs_without_models, site, cfgs, n_items=total, n_jobs=n_jobs)
    for chunk in chunks:
        out += chunk
        progress("simulating", len(out), total)
    return out


def simulate_replications(
    site: Site,
    cfgs: dict[str, EchelonConfig],
    replications: Sequence[int],
    world: World | None = None,
    progress: Progress | None = None,
) -> list[Replication]:
    """Every policy on each of ``replications``, in that order (``simulate_runs``)."""
    n = len(cfgs)
    return simulate_runs(site, cfgs, [r * n + k for r in replications for k in range(n)], world, progress)


def simulate_runs(
    site: Site,
    cfgs: dict[str, EchelonConfig],
    runs: Sequence[int],
    world: World | None = None,
    progress: Progress | None = None,
) -> list[Replication]:
    """Runs of a comparison by number, in that order: run ``i`` is replication ``i // len(cfgs)`` of the
    ``i % len(cfgs)``-th policy. One model per policy, restarted for each replication; the incidents of a
    replication drawn once and shared by its policies. A process of a parallel comparison runs this on its
    chunk of runs (``_runs_without_models``): chunks of runs, not of replications, share the work evenly
    (5 replications of 3 policies: 8 and 7 runs, not 3 and 2 replications)."""
    progress = progress or silent
    world = world or World.build(site)
    first = next(iter(cfgs.values()))
    labels = list(cfgs)
    total = first.run.replications * len(cfgs)
    out = []
    models: dict[str, EchelonModel] = {}
    incidents: tuple[int, list[Incident]] | None = None
    for i in runs:
        r, k = divmod(i, len(labels))
        label = labels[k]
        if incidents is None or incidents[0] != r:  # the same for every policy: drawn once
            incidents = (r, generate_incidents(site, first, r, world))
        rep = simulate(site, cfgs[label], r, world, label, models.get(label), incidents[1])
        models[label] = rep.model
        out.append(rep)
        progress("simulating", len(out), total)
    return out


def _runs_without_models(
    site: Site, cfgs: dict[str, EchelonConfig], runs: Sequence[int]
) -> list[Replication]:
    """A process's chunk of runs, measured, without the models (large; a caller that restarts models runs
    in one process)."""
    return [dataclasses.replace(r, model=None, measured=measure(r)) for r in simulate_runs(site, cfgs, runs)]


# ---- metrics of a set of replications ---------------------------------------------------------------------
def incident_tables(reps: list[Replication], progress: Progress | None = None) -> list[pd.DataFrame]:
    """One incident table per replication (the costly step of the metrics: done once, used twice)."""
    progress = progress or silent
    progress("measuring", 0, len(reps))
    out = []
    for r in reps:
        if r.measured is not None:  # measured in the process that simulated it
            out.append(r.measured.table)
        else:
            out.append(metrics.incident_table(r.events, r.incidents).assign(replication=r.replication))
        progress("measuring", len(out), len(reps))
    return out


def per_replication(reps: list[Replication], tables: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row of headline metrics per (policy, replication); and, long, how many incidents or requests each
    share was counted over (policy, replication, metric, n)."""
    rows, counts = [], []
    for rep, table in zip(reps, tables, strict=True):
        if rep.measured is not None:  # measured in the process that simulated it
            values, n = rep.measured.values, rep.measured.counts
        else:
            n = {}
            values = metrics.headline(table, rep.events, rep.horizon_s, rep.units, counts=n)
        rows.append({"policy": rep.policy, "replication": rep.replication, **values})
        counts += [(rep.policy, rep.replication, metric, k) for metric, k in n.items()]
    return pd.DataFrame(rows), pd.DataFrame(counts, columns=["policy", "replication", "metric", "n"])


def pooled_tables(reps: list[Replication], tables: list[pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Per policy: the incident tables of all its replications, stacked."""
    by_policy: dict[str, list[pd.DataFrame]] = {}
    for rep, table in zip(reps, tables, strict=True):
        by_policy.setdefault(rep.policy, []).append(table)
    return {p: pd.concat(t, ignore_index=True) for p, t in by_policy.items()}


def incident_mix(incidents: list[pd.DataFrame]) -> str:
    """The kinds of incident and their shares, in words: pooled tier figures weigh kinds by these."""
    kinds = pd.concat(incidents, ignore_index=True)["kind"] if incidents else pd.Series(dtype=str)
    if kinds.empty:
        return "no incidents"
    shares = kinds.value_counts(normalize=True)
    parts = ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in shares.items())
    return (
        f"{parts} of {len(kinds):,} incidents. Tier figures pool every kind in these shares; "
        "tier_metrics_by_kind.csv and outcome_rates.csv give them per kind"
    )


# ---- files ------------------------------------------------------------------------------------------------
def _map_tier(cfg: EchelonConfig) -> str:
    """The tier an incident map shows for a policy: its first echelon tier (the grid's, the nearest or the
    area-class first responder), else its last tier (police under police_only)."""
    tiers = cfg.policy.tiers
    return next((t.name for t in tiers if t.members.endswith("echelon")), tiers[-1].name if tiers else "")


def _figure_note(cfgs: dict[str, EchelonConfig], tables: dict[str, pd.DataFrame]) -> str:
    first = next(iter(cfgs.values()))
    n_incidents = max((len(t) for t in tables.values()), default=0)
    return (
        f"Site '{first.site.name}'{' (SYNTHETIC)' if first.site.synthetic else ''}; {first.run.replications} "
        f"replication(s) x {first.run.days:g} days, {n_incidents:,} incidents per policy (the same for every "
        "policy)."
    )


def _tier_order(cfgs: dict[str, EchelonConfig]) -> list[str]:
    """Every policy's tier names, the fullest tier list's order first."""
    by_tiers = sorted(cfgs.values(), key=lambda c: -len(c.policy.tiers))
    return list(dict.fromkeys(t.name for cfg in by_tiers for t in cfg.policy.tiers))


def _table_figures(
    cfgs: dict[str, EchelonConfig], site: Site | None, baseline: str | None, tables: dict[str, pd.DataFrame]
) -> list[tuple[str, str, tuple, dict]]:
    """The figures drawn from the incident tables alone, as (file, what draws it, arguments): the incident
    map and the arrival ECDFs. They can be drawn while the metrics are being computed."""
    first = next(iter(cfgs.values()))
    synthetic = bool(first.site.synthetic)
    note = _figure_note(cfgs, tables)
    count_from = first.policy.count_from
    moments = [count_from, *(m for m in ("alarm", "incident") if m != count_from)]
    pooled = {  # all replications on one map: incident numbers made unique across them
        p: t.assign(incident=t["replication"] * 1_000_000 + t["incident"]) for p, t in tables.items()
    }
    facilities = (
        {"police station": site.stations, "fire station": site.fire_stations, "echelon post": site.posts}
        if site is not None
        else None
    )
    map_args = {
        "tier": {label: _map_tier(cfg) for label, cfg in cfgs.items()},
        "count_from": count_from,
        "note": note + " All replications on one map.",
        "facilities": facilities,
        "synthetic": synthetic,
        "baseline": baseline,
        "posts_used_by": [
            p for p, c in cfgs.items() if any(t.members.endswith("echelon") for t in c.policy.tiers)
        ],
    }
    return [  # the map first: it takes as long as the others together
        ("incident_map.png", "incident_map", (pooled, site), map_args),
        ("arrival_ecdf.png", "arrival_ecdf", (tables, moments, synthetic, note), {}),
    ]


def _summary_figures(
    cfgs: dict[str, EchelonConfig], tables: dict[str, pd.DataFrame], summary: pd.DataFrame
) -> list[tuple[str, str, tuple, dict]]:
    """The figures drawn from the replication summary: target compliance and outcomes by kind."""
    synthetic = bool(next(iter(cfgs.values())).site.synthetic)
    note = _figure_note(cfgs, tables)
    return [
        ("compliance.png", "compliance", (summary, tables, _tier_order(cfgs), synthetic, note), {}),
        ("outcomes_by_kind.png", "outcomes_by_kind", (summary, synthetic, note), {}),
    ]


def _draw(which: str, path: Path, *args, **kwargs) -> None:
    """One figure of a run or comparison saved to ``path``: matplotlib is imported only here."""
    from sim.analysis import plot_results

    if which == "incident_map":
        from sim.site.isochrones import road_edges

        pooled, site = args
        edges = road_edges(site) if site is not None else None
        plot_results.plot_incident_map(pooled, edges, path, **kwargs)
    elif which == "arrival_ecdf":
        tables, moments, synthetic, note = args
        plot_results.plot_arrival_ecdf(tables, path, moments, synthetic, note)
    elif which == "compliance":
        summary, tables, tier_order, synthetic, note = args
        targets = {name: plot_results.target_label(tables, name) for name in tier_order}
        plot_results.plot_compliance(
            summary, path, tier_order, {k: v for k, v in targets.items() if v}, synthetic, note
        )
    else:
        summary, synthetic, note = args
        plot_results.plot_outcomes_by_kind(plot_results.outcome_table(summary), path, synthetic, note)


def _png(which: str, args: tuple, kwargs: dict) -> bytes:
    """A figure drawn in a worker process: its PNG file's bytes."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "figure.png"
        _draw(which, path, *args, **kwargs)
        return path.read_bytes()


def write_results(
    reps: list[Replication],
    cfgs: dict[str, EchelonConfig],
    site: Site | None,
    baseline: str | None,
    stem: str,
    warnings: list[str] | None = None,
    *,
    settings: Sequence[Setting] = (),
    results_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Everything of a run or comparison into a new folder ``<stem>-<date>-<time>``, moved into place when
    complete; returns the folder.

    The folder is made in ``results_dir``, else the config's ``results_dir`` (a relative one is relative to
    the project folder: ``sim.config.output_dir``). ``settings``: what the run changed from the defaults
    (``sim.config_diff``), put in config.yaml and given to the report."""
    from sim.analysis import report

    first = next(iter(cfgs.values()))
    progress = progress or silent
    steps = iter(range(1, 6))
    progress("writing", 0, 5)

    def step() -> None:
        progress("writing", next(steps), 5)

    folder = Path(results_dir) if results_dir is not None else output_dir(first.results_dir)
    with result_folder(folder, stem) as (tmp, final):
        events = pd.concat(
            [r.events.assign(policy=r.policy, replication=r.replication) for r in reps], ignore_index=True
        )
        write_log(events, tmp, "events")
        seen = set()
        incidents = []
        for r in reps:
            if r.replication not in seen:  # the same incidents for every policy of a replication
                seen.add(r.replication)
                incidents.append(r.incidents.assign(replication=r.replication))
        write_log(pd.concat(incidents, ignore_index=True), tmp, "incidents")
        step()

        with metrics.same_logs():  # each log checked and its queues counted once, not per metric
            per_rep_tables = incident_tables(reps)
            step()
            tables = pooled_tables(reps, per_rep_tables)
            # Figures of every run or comparison say what they measure, from which moment, on which run. With
            # worker processes, the incident map (the longest) starts in one at once, the ECDFs too when
            # there are two, the outcomes once the summary is known; the rest are drawn here beside them.
            # Each comes back as its PNG's bytes (only this process writes into the folder, so a stopped
            # run's folder is never touched by a worker).
            runs = sum(len(r.incidents) for r in reps)
            n_workers = max(parallel.jobs(first.run.workers, len(reps), runs) - 1, parallel.warmed())
            early = _table_figures(cfgs, site, baseline, tables)
            sent = early[: min(n_workers, len(early))]
            drawing = parallel.start_tasks(_png, [f[1:] for f in sent], n_workers) if sent else []
            rows, counts = per_replication(reps, per_rep_tables)
            rows.to_csv(tmp / "metrics_by_replication.csv", index=False)
            counts.to_csv(tmp / "metric_counts.csv", index=False)
            summary = metrics.summarise_replications(rows, counts)
            summary.to_csv(tmp / "metrics_summary.csv", index=False)
            comparison = baseline is not None and len(cfgs) > 1
            diffs = (
                metrics.paired_differences(
                    rows, baseline, counts, first.report.min_pairs, first.report.min_counted
                )
                if comparison
                else pd.DataFrame(columns=metrics.DIFF_COLUMNS)
            )
            if comparison:  # a single policy has nothing to differ from: no file that pretends otherwise
                diffs.to_csv(tmp / "paired_differences.csv", index=False)
            count_from = first.policy.count_from
            pooled_note = "pooled over every replication's incidents"
            pd.concat(
                [
                    metrics.tier_metrics(t, count_from).assign(policy=p, how=pooled_note)
                    for p, t in tables.items()
                ],
                ignore_index=True,
            ).to_csv(tmp / "tier_metrics.csv", index=False)
            pd.concat(
                [metrics.outcome_rates(t).assign(policy=p) for p, t in tables.items()], ignore_index=True
            ).to_csv(tmp / "outcome_rates.csv", index=False)
            by_kind = [
                metrics.tier_metrics(t[t["kind"] == kind], count_from).assign(policy=p, kind=kind)
                for p, t in tables.items()
                for kind in sorted(t["kind"].dropna().unique())
            ]
            if by_kind:
                by_kind_table = pd.concat(by_kind, ignore_index=True)
                by_kind_table = by_kind_table[by_kind_table["n"] > 0]  # tiers that do not apply to a kind
                by_kind_table.to_csv(tmp / "tier_metrics_by_kind.csv", index=False)
            pd.concat(
                [
                    (metrics.queueing(r.events) if r.measured is None else r.measured.queueing).assign(
                        policy=r.policy, replication=r.replication
                    )
                    for r in reps
                ],
                ignore_index=True,
            ).to_csv(tmp / "queueing.csv", index=False)
            step()

        late = _summary_figures(cfgs, tables, summary)
        if n_workers:
            sent += late[-1:]
            drawing += parallel.start_tasks(_png, [f[1:] for f in late[-1:]], n_workers)
        for name, which, args, kwargs in early + late:
            if name not in {f[0] for f in sent}:
                _draw(which, tmp / name, *args, **kwargs)
        for (name, *_), png in zip(sent, drawing, strict=True):
            (tmp / name).write_bytes(png.result())
        step()
        changed = [s.as_dict() for s in settings]
        config = {"changed_settings": changed}
        config.update({label: dataclasses.asdict(cfg) for label, cfg in cfgs.items()})
        (tmp / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
        synthetic = " (SYNTHETIC)" if first.site.synthetic else ""
        meta = {
            "title": f"Dispatch policies on site '{first.site.name}'{synthetic}"
            if comparison
            else f"Policy {next(iter(cfgs))} on site '{first.site.name}'{synthetic}",
            "policies": list(cfgs),
            "baseline": baseline or "",
            "site": first.site.name,
            "synthetic": first.site.synthetic,
            "days": first.run.days,
            "replications": first.run.replications,
            "seed": first.seed,
            "incidents_per_policy": int(sum(len(t) for t in incidents)),
            "identical": metrics.identical_to(rows) if comparison else {},
            "warnings": list(warnings or []),
            "figures_count_from": count_from,
            "incident_mix": incident_mix(incidents),
            "settings": changed,  # [{key, default, value(, policies)}]: what differs from the defaults
        }
        report.write_summary(tmp, summary, diffs, meta)
        step()
    return final
