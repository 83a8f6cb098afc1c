"""``echelon ladder``: run the platform's parts as rungs on the same incidents and write what each adds.

Orchestration only: the arithmetic (rungs, steps, Shapley values, intervals) is in ``sim.analysis.ladder``,
the figure in ``sim.analysis.plot_ladder``, the report in ``sim.analysis.ladder_report``. Every rung is one
config that differs from the target only in its policy, so ``compare`` runs them all on the same incident
streams (common random numbers) and the differences between rungs are paired by replication.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from sim.analysis import ladder
from sim.config import EchelonConfig, PolicyConfig, output_dir
from sim.config_diff import Setting
from sim.experiment import Progress, compare, incident_tables, per_replication
from sim.result_folder import result_folder
from sim.site.site import Site


@dataclass(frozen=True)
class LadderResult:
    """Everything a ladder run measured, before any file is written."""

    cfg: EchelonConfig  # the target's configuration: site, run and ladder settings
    target_label: str
    baseline_label: str
    rungs: dict[str, ladder.Rung]  # label -> parts on, in run order (the ordered ladder first)
    policies: dict[str, PolicyConfig]  # label -> the rung's policy
    rows: pd.DataFrame  # headline metrics per (rung, replication)
    contributions: pd.DataFrame
    shapley: pd.DataFrame | None
    totals: pd.DataFrame
    incidents_per_rung: int
    warnings: list[str]

    @property
    def steps(self) -> list[str]:
        return list(self.cfg.ladder.steps)

    @property
    def ladder_labels(self) -> list[str]:
        return list(self.rungs)[: len(self.steps) + 1]


def rung_configs(
    target: EchelonConfig, baseline: EchelonConfig, baseline_label: str
) -> dict[str, EchelonConfig]:
    """One config per distinct subset of parts (each run once), labelled '+one_key+guards' etc."""
    steps, shapley = target.ladder.steps, target.ladder.shapley
    return {
        ladder.rung_label(parts, steps, baseline_label): dataclasses.replace(
            target, policy=ladder.rung_policy(target.policy, baseline.policy, parts)
        )
        for parts in ladder.rungs_to_run(steps, shapley)
    }


def _warnings(target: EchelonConfig, baseline: EchelonConfig, baseline_label: str) -> list[str]:
    differs = ladder.rung_zero_differences(target.policy, baseline.policy)
    if not differs:
        return []
    return [
        f"rung 0 (no part on) differs from the baseline policy '{baseline_label}' in "
        + "; ".join(differs)
        + ": the steps start from rung 0, and the total is measured from it, not from the baseline policy"
    ]


def run_ladder(
    target: EchelonConfig,
    baseline: EchelonConfig,
    site: Site | None = None,
    site_warnings: Sequence[str] = (),
    progress: Progress | None = None,
) -> LadderResult:
    """Run every rung once on the same incidents; tables of ordered steps, Shapley values and totals.

    ``progress`` hears the simulation and the measuring of every rung (``sim.experiment.Progress``)."""
    baseline_label = baseline.choices.get("policy", baseline.policy.name)
    target_label = target.choices.get("policy", target.policy.name)
    cfgs = rung_configs(target, baseline, baseline_label)
    reps = compare(cfgs, site, progress)
    rows = per_replication(reps, incident_tables(reps, progress))[0].rename(columns={"policy": "rung"})
    steps, metrics, shapley = target.ladder.steps, target.ladder.metrics, target.ladder.shapley
    first = next(iter(cfgs))
    return LadderResult(
        cfg=target,
        target_label=target_label,
        baseline_label=baseline_label,
        rungs={ladder.rung_label(p, steps, baseline_label): p for p in ladder.rungs_to_run(steps, shapley)},
        policies={label: cfg.policy for label, cfg in cfgs.items()},
        rows=rows,
        contributions=ladder.contributions_table(rows, metrics, steps, baseline_label, shapley),
        shapley=ladder.shapley_table(rows, metrics, steps, baseline_label) if shapley else None,
        totals=ladder.totals_table(rows, metrics, steps, baseline_label, shapley),
        incidents_per_rung=sum(len(r.incidents) for r in reps if r.policy == first),
        warnings=[*_warnings(target, baseline, baseline_label), *site_warnings],
    )


def _rungs_frame(result: LadderResult) -> pd.DataFrame:
    """rungs.csv: which parts each rung has, its place on the ladder (blank off it), then its metrics."""
    labels = result.ladder_labels
    info = pd.DataFrame(
        {
            "rung": list(result.rungs),
            "parts": ["+".join(s for s in result.steps if s in p) for p in result.rungs.values()],
            "ladder_position": [labels.index(r) if r in labels else pd.NA for r in result.rungs],
        }
    ).astype({"ladder_position": "Int64"})
    return info.merge(result.rows, on="rung", how="right")


def _config_dump(result: LadderResult, settings: Sequence[Setting]) -> dict:
    return {
        "changed_settings": [s.as_dict() for s in settings],
        "target": result.target_label,
        "baseline": result.baseline_label,
        "config": dataclasses.asdict(result.cfg),
        "rungs": {label: dataclasses.asdict(policy) for label, policy in result.policies.items()},
    }


def write_ladder(
    result: LadderResult,
    *,
    stem: str | None = None,
    settings: Sequence[Setting] = (),
    results_dir: str | Path | None = None,
) -> Path:
    """Everything into a new folder ``<stem>-<date>-<time>`` (stem ``ladder-<site>`` unless given), moved
    into place when complete; returns the folder.

    The folder is made in ``results_dir``, else the config's ``results_dir`` (a relative one is relative to
    the project folder: ``sim.config.output_dir``). ``settings``: what the run changed from the defaults
    (``sim.config_diff``), put in config.yaml and given to the report as ``meta["settings"]``."""
    from sim.analysis import ladder_report, plot_ladder

    cfg = result.cfg
    folder = Path(results_dir) if results_dir is not None else output_dir(cfg.results_dir)
    with result_folder(folder, stem or f"ladder-{cfg.site.name}") as (tmp, final):
        result.contributions.to_csv(tmp / "contributions.csv", index=False)
        if result.shapley is not None:
            result.shapley.to_csv(tmp / "shapley.csv", index=False)
        _rungs_frame(result).to_csv(tmp / "rungs.csv", index=False)
        dump = yaml.safe_dump(_config_dump(result, settings), sort_keys=False, allow_unicode=True)
        (tmp / "config.yaml").write_text(dump)
        meta = {**_meta(result), "settings": [s.as_dict() for s in settings]}
        plot_ladder.plot_waterfall(
            result.contributions,
            result.totals,
            tmp / "waterfall.png",
            meta["figure_title"],
            meta["full"],
            synthetic=cfg.site.synthetic,
        )
        ladder_report.write_report(tmp, result.contributions, result.shapley, result.totals, meta)
    return final


def _meta(result: LadderResult) -> dict:
    """What the figure and report say about the run (plain values: the report does not import this module)."""
    cfg = result.cfg
    site = f"site '{cfg.site.name}'" + (" (SYNTHETIC)" if cfg.site.synthetic else "")
    order = " -> ".join(result.ladder_labels)
    every_part = set(result.steps) == set(ladder.PARTS)
    runs = f"{cfg.run.replications} replications x {cfg.run.days:g} days"
    baseline_policy = result.policies[result.ladder_labels[0]]
    return {
        "title": f"What each part of {result.target_label} adds to {result.baseline_label}, {site}",
        "figure_title": f"What each part of {result.target_label} adds to {result.baseline_label}: {site}, "
        f"{runs}\ncontributions depend on the order the parts are added in: " + " -> ".join(result.steps),
        "full": f"{result.target_label} (all parts)" if every_part else "all steps",
        "baseline": result.baseline_label,
        "target": result.target_label,
        "site": f"{cfg.site.name}: {cfg.site.label}" if cfg.site.label else cfg.site.name,
        "synthetic": cfg.site.synthetic,
        "steps": result.steps,
        "order": order,
        "parts": ladder.describe_parts(
            result.policies[result.ladder_labels[-1]], baseline_policy, result.steps
        ),
        "replications": cfg.run.replications,
        "days": cfg.run.days,
        "seed": cfg.seed,
        "rungs": len(result.rungs),
        "incidents_per_rung": result.incidents_per_rung,
        "warnings": list(result.warnings),
    }


def summary_line(result: LadderResult) -> str:
    """The one line the command prints: what was laddered, where, how many rungs and replications."""
    cfg, n_steps = result.cfg, len(result.steps)
    extra = len(result.rungs) - n_steps - 1
    rungs = f"{len(result.rungs)} rungs ({n_steps + 1} on the ladder" + (
        f", {extra} more for Shapley values)" if extra else ")"
    )
    return (
        f"ladder {result.baseline_label} -> {result.target_label} on site '{cfg.site.name}'"
        f"{' (SYNTHETIC)' if cfg.site.synthetic else ''}: steps {', '.join(result.steps)}; {rungs}; "
        f"{cfg.run.replications} replications x {cfg.run.days:g} days, {result.incidents_per_rung} "
        "incidents per rung (the same incidents for every rung)"
    )
