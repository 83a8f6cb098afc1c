"""Layouts under load: each simulated on the same incidents (common random numbers), with replications
and paired differences against a baseline layout.

A layout changes only grids and posts, never the enterprises or the incident streams, so replication r of
every layout sees the same incidents at the same moments with the same luck: the paired difference removes
what the layouts share. The verdict says, per metric, whether two layouts are distinguishable at this many
replications and, when they are not, roughly how many would be needed (the interval narrows as
1/sqrt(replications)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis import metrics
from sim.analysis.metrics import replications_needed
from sim.config import EchelonConfig
from sim.experiment import Progress, incident_tables, per_replication, run
from sim.lab.layout import Layout, apply_layout
from sim.site.site import Site


@dataclass(frozen=True)
class LoadResult:
    """One load (an incidents config): per-replication metrics of every layout, their paired differences
    against the baseline layout, and each team's workload."""

    load: str
    rate_multiplier: float
    rows: pd.DataFrame  # policy (= layout name), replication, headline metrics
    counts: pd.DataFrame  # policy, replication, metric, n counted
    diffs: pd.DataFrame  # metrics.DIFF_COLUMNS + replications_needed
    teams: pd.DataFrame  # layout, grid, echelons, busy_share, jobs_per_day
    channels: dict[str, float]  # how incidents were first reported (one_key, call, drone_centre): shares
    summary: pd.DataFrame  # per layout and metric: estimate and 95% CI (metrics.summarise_replications)


def team_workload(reps, layout: Layout) -> pd.DataFrame:
    """Per grid of the layout: its teams' mean busy share and jobs a day, over the replications."""
    rows = []
    for rep in reps:
        busy = metrics.busy_by_unit(rep.events, rep.horizon_s)
        busy = busy[busy["unit_kind"] == "echelon"]
        jobs = rep.events[(rep.events["kind"] == "dispatched") & (rep.events["unit_kind"] == "echelon")]
        per_unit_jobs = jobs.groupby("unit").size()
        for post in layout.posts.itertuples():
            ids = [f"E-{post.grid}-{k + 1}" for k in range(int(post.echelons))]
            busy_s = float(busy["busy_s"].reindex(ids).fillna(0.0).sum())
            rows.append(
                {
                    "layout": layout.name,
                    "grid": post.grid,
                    "replication": rep.replication,
                    "echelons": int(post.echelons),
                    "busy_share": busy_s / (rep.horizon_s * max(1, int(post.echelons))),
                    "jobs_per_day": float(per_unit_jobs.reindex(ids).fillna(0).sum())  # per team
                    / (rep.horizon_s / 86400)
                    / max(1, int(post.echelons)),
                }
            )
    frame = pd.DataFrame(rows)
    return frame.groupby(["layout", "grid", "echelons"], as_index=False)[
        ["busy_share", "jobs_per_day"]
    ].mean()


def report_channels(reps) -> dict[str, float]:
    """Shares of incidents by the channel of their first report: simulated times count from that report,
    whatever its channel, while static coverage assumes a one-key alarm."""
    firsts = []
    for rep in reps:
        reported = rep.events[rep.events["kind"] == "reported"]
        firsts.append(reported.drop_duplicates("incident")["detail"])
    if not firsts:
        return {}
    shares = pd.concat(firsts, ignore_index=True).astype(str).value_counts(normalize=True)
    return {str(k): float(v) for k, v in shares.items()}


def simulate_layouts(
    site: Site,
    layouts: Sequence[Layout],
    cfg: EchelonConfig,
    baseline: str,
    load: str,
    progress: Progress | None = None,
) -> LoadResult:
    """Every layout under one configuration (its incidents config is the load), same incident streams."""
    rows, counts, teams = [], [], []
    channels: dict[str, float] = {}
    for layout in layouts:
        reps = run(cfg, apply_layout(site, layout), layout.name, progress)
        channels = channels or report_channels(reps)  # the same incidents for every layout
        r, c = per_replication(reps, incident_tables(reps))
        rows.append(r)
        counts.append(c)
        teams.append(team_workload(reps, layout))
        del reps  # a stress load's logs are large: keep only the metrics
    all_rows = pd.concat(rows, ignore_index=True)
    all_counts = pd.concat(counts, ignore_index=True)
    diffs = metrics.paired_differences(
        all_rows, baseline, all_counts, cfg.report.min_pairs, cfg.report.min_counted
    )
    need = [replications_needed(d, cfg.report.min_pairs) for _, d in diffs.iterrows()]
    diffs["replications_needed"] = need if len(diffs) else []
    assert cfg.incidents is not None
    teams_frame = pd.concat(teams, ignore_index=True)
    estimates = metrics.summarise_replications(all_rows, all_counts).assign(load=load)  # once per load
    return LoadResult(
        load, cfg.incidents.rate_multiplier, all_rows, all_counts, diffs, teams_frame, channels, estimates
    )


def summary(result: LoadResult) -> pd.DataFrame:
    """Per layout and metric: mean over replications and its 95% interval (pooled shares as in the
    comparison's summary)."""
    return result.summary


def busy_fraction(result: LoadResult, layout: str) -> float:
    """The layout's teams' mean busy share under this load: the q of the expected-covering model."""
    teams = result.teams[result.teams["layout"] == layout]
    if len(teams) == 0:
        return 0.0
    return float(np.average(teams["busy_share"], weights=teams["echelons"]))
