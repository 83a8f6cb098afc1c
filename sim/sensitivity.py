"""``echelon sensitivity``: vary the main delays and rates one at a time and see what moves the verdict.

Orchestration only: the arithmetic is in ``sim.analysis.sensitivity``, the figure in
``sim.analysis.plot_sensitivity``, the report in ``sim.analysis.sensitivity_report``. Each arm (every
parameter at its default, or one parameter at its low or high value) runs both ``sensitivity.policies`` on
the same incidents (``compare``), so its verdict, target minus baseline, is paired by replication. Arms
differ in delays or rates, so each is its own comparison; a site is built once for every arm that does not
change it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from sim.analysis import sensitivity as sa
from sim.config import EchelonConfig, config_value, load_config, output_dir
from sim.config_diff import Setting
from sim.experiment import Progress, compare, incident_tables, per_replication
from sim.result_folder import result_folder
from sim.site.site import Site


@dataclass(frozen=True)
class Arm:
    parameter: str  # the key varied, or "default"
    side: str  # default, low or high
    value: float
    default_value: float
    source: str
    cfgs: dict[str, EchelonConfig]  # baseline label -> config, target label -> config


@dataclass(frozen=True)
class SensitivityResult:
    cfg: EchelonConfig
    baseline: str
    target: str
    arms: pd.DataFrame  # one row per arm: sim.analysis.sensitivity.ARM_COLUMNS
    tornado: pd.DataFrame  # one row per parameter, sorted by swing
    incidents_per_arm: dict[str, int]
    warnings: list[str]

    @property
    def default(self) -> pd.Series:
        return self.arms[self.arms["side"] == sa.DEFAULT].iloc[0]


def arm_overrides(cfg: EchelonConfig, key: str, value: float) -> list[str]:
    """Overrides that set ``key`` to ``value``; a lognormal's ``median_s`` takes its ``p90_s`` along (their
    ratio kept, so the spread stays as sourced and p90 never falls below the median)."""
    default = config_value(cfg, key)
    out = [sa.override_text(key, sa.arm_value(value, default))]
    parent, _, leaf = key.rpartition(".")
    if leaf == "median_s" and parent:
        delay = config_value(cfg, parent)
        if getattr(delay, "dist", None) == "lognormal" and delay.median_s:
            out.append(sa.override_text(f"{parent}.p90_s", float(value) * delay.p90_s / delay.median_s))
    return out


def arm_configs(
    cfg: EchelonConfig,
    overrides: Sequence[str] = (),
    compose: Callable[[list[str]], EchelonConfig] = load_config,
) -> list[Arm]:
    """Every arm's two configs, composed (and so validated: a value out of a key's range is refused here,
    before any simulation). ``compose``: overrides -> config (the command makes paths absolute)."""
    sens = cfg.sensitivity
    baseline, target = sens.policies

    def pair(extra: list[str]) -> dict[str, EchelonConfig]:
        return {p: compose([*overrides, *extra, f"policy={p}"]) for p in (baseline, target)}

    arms = [Arm(sa.DEFAULT, sa.DEFAULT, float("nan"), float("nan"), "", pair([]))]
    for p in sens.parameters:
        default = float(config_value(cfg, p.key))
        for side, value in (("low", p.low), ("high", p.high)):
            arms.append(Arm(p.key, side, value, default, p.source, pair(arm_overrides(cfg, p.key, value))))
    return arms


def _site_key(cfg: EchelonConfig) -> str:
    """What a site is built from: arms that agree on it share one site (the emergency factor is applied
    by the model, not the site)."""
    network = dataclasses.replace(cfg.network, emergency_time_factor=0.0)
    return repr((cfg.site, network, cfg.grid, cfg.enterprises, cfg.drones, cfg.isochrones_s, cfg.cache_dir))


def run_sensitivity(
    cfg: EchelonConfig,
    arms: Sequence[Arm],
    site: Site | None = None,
    site_warnings: Sequence[str] = (),
    progress: Progress | None = None,
    build: Callable[[EchelonConfig], Site] | None = None,
) -> SensitivityResult:
    """Run every arm (both policies on the same incidents) and tabulate its verdict.

    ``site``: the site of ``cfg``, reused by every arm that does not change the site; ``build`` makes one
    for an arm that does (default ``sim.site.build.build_site``)."""
    from sim.site.build import build_site

    build = build or build_site
    baseline, target = cfg.sensitivity.policies
    sites: dict[str, Site] = {_site_key(cfg): site} if site is not None else {}
    rows, incidents = [], {}
    total = len(arms)
    if progress:
        progress("running arms", 0, total)
    for i, arm in enumerate(arms, start=1):
        first = arm.cfgs[baseline]
        key = _site_key(first)
        if key not in sites:
            sites[key] = build(first)
        reps = compare(arm.cfgs, sites[key])
        per_rep, counts = per_replication(reps, incident_tables(reps))
        label = sa.DEFAULT if arm.side == sa.DEFAULT else f"{arm.parameter}={arm.side}"
        incidents[label] = sum(len(r.incidents) for r in reps if r.policy == baseline)
        found = sa.verdict(per_rep, counts, cfg.sensitivity.metric, baseline, cfg.report)
        rows.append(
            {
                "parameter": arm.parameter,
                "side": arm.side,
                "value": arm.value,
                "default_value": arm.default_value,
                "source": arm.source,
                **found,
            }
        )
        if progress:
            progress("running arms", i, total)
    table = pd.DataFrame(rows, columns=sa.ARM_COLUMNS)
    warnings = list(site_warnings)
    if len(sites) > 1:
        warnings.append(f"{len(sites) - 1} arm(s) change the site itself (roads, grids or enterprises)")
    return SensitivityResult(
        cfg=cfg,
        baseline=baseline,
        target=target,
        arms=table,
        tornado=sa.tornado_table(table),
        incidents_per_arm=incidents,
        warnings=warnings,
    )


def _meta(result: SensitivityResult) -> dict:
    """What the figure and report say about the run (plain values)."""
    cfg = result.cfg
    synthetic = " (SYNTHETIC)" if cfg.site.synthetic else ""
    default = result.default
    return {
        "title": f"What moves the verdict {result.target} vs {result.baseline} on site "
        f"'{cfg.site.name}'{synthetic}",
        "metric": cfg.sensitivity.metric,
        "baseline": result.baseline,
        "target": result.target,
        "site": f"{cfg.site.name}: {cfg.site.label}" if cfg.site.label else cfg.site.name,
        "synthetic": cfg.site.synthetic,
        "replications": cfg.run.replications,
        "days": cfg.run.days,
        "seed": cfg.seed,
        "arms": len(result.arms),
        "incidents_default": result.incidents_per_arm.get(sa.DEFAULT, 0),
        "default": {k: default[k] for k in ("mean_diff", "ci95_low", "ci95_high", "n", "not_evidence")}
        | {"baseline_mean": default["baseline_mean"], "target_mean": default["target_mean"]},
        "warnings": list(result.warnings),
    }


def write_sensitivity(
    result: SensitivityResult,
    *,
    stem: str | None = None,
    settings: Sequence[Setting] = (),
    results_dir: str | Path | None = None,
) -> Path:
    """sensitivity.csv, tornado.png, sensitivity.md/.html and config.yaml into a new folder
    ``<stem>-<date>-<time>`` (stem ``sensitivity-<site>`` unless given); returns the folder."""
    from sim.analysis import plot_sensitivity, sensitivity_report

    cfg = result.cfg
    folder = Path(results_dir) if results_dir is not None else output_dir(cfg.results_dir)
    with result_folder(folder, stem or f"sensitivity-{cfg.site.name}") as (tmp, final):
        result.arms.to_csv(tmp / "sensitivity.csv", index=False)
        meta = {**_meta(result), "settings": [s.as_dict() for s in settings]}
        plot_sensitivity.plot_tornado(result.tornado, meta, tmp / "tornado.png")
        dump = {
            "changed_settings": meta["settings"],
            "baseline": result.baseline,
            "target": result.target,
            "config": dataclasses.asdict(cfg),
        }
        (tmp / "config.yaml").write_text(yaml.safe_dump(dump, sort_keys=False, allow_unicode=True))
        sensitivity_report.write_report(tmp, result.tornado, meta)
    return final


def summary_line(result: SensitivityResult) -> str:
    """The line the command prints: the verdict at the defaults and what moves it most."""
    from sim.analysis.sensitivity_report import diff_text

    cfg, default = result.cfg, result.default
    metric = cfg.sensitivity.metric
    top = result.tornado.iloc[0]["parameter"] if len(result.tornado) else "nothing"
    return (
        f"sensitivity of {metric} ({result.target} - {result.baseline}) on site '{cfg.site.name}'"
        f"{' (SYNTHETIC)' if cfg.site.synthetic else ''}: {len(result.tornado)} parameters, "
        f"{len(result.arms)} arms x {cfg.run.replications} replications x {cfg.run.days:g} days; "
        "at the defaults "
        + diff_text(metric, default["mean_diff"], default["ci95_low"], default["ci95_high"])
        + f"; the largest swing: {top}"
    )
