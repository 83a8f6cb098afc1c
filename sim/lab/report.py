"""The planner's report of a layout study (``grid.md`` and a self-contained ``grid.html``).

It leads with a recommendation and its trade-off, chosen by a stated rule from the simulated results, then
shows what each layout reaches on the roads (static), what it achieves under each load (simulated, with
95% intervals), whether the differences from the baseline are distinguishable and how many replications
would tell them apart, how the work falls on the teams, and, after ``optimise``, the optimal posts, their
gap to greedy, the simulator's refinement and the curve against the number of teams.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from sim.analysis.metrics import paired_differences
from sim.analysis.report import Block, describe_metric, format_value, to_html, to_markdown
from sim.lab import coverage
from sim.lab.evaluate import summary

COMPLIANCE = "tier_echelon_target_met_from_alarm"
RULE = (
    "Rule: under the heaviest load, take the layouts whose echelon compliance is not distinguishably below "
    "the best one's (paired 95% interval of the difference includes 0, or it is above); among them "
    "recommend the one with the fewest teams, then the highest static coverage."
)


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x * 100:.1f}%"


def _pts(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x * 100:+.1f} pts"


def _estimate(study, load: str, layout: str, metric: str = COMPLIANCE) -> pd.Series | None:
    result = next(r for r in study.loads if r.load == load)
    s = summary(result)
    row = s[(s["policy"] == layout) & (s["metric"] == metric)]
    return row.iloc[0] if len(row) else None


def _diff(study, load: str, layout: str, metric: str = COMPLIANCE) -> pd.Series | None:
    result = next(r for r in study.loads if r.load == load)
    d = result.diffs
    row = d[(d["policy"] == layout) & (d["metric"] == metric)]
    return row.iloc[0] if len(row) else None


def _paired_row(study, load: str, a: str, b: str) -> pd.Series | None:
    """The paired difference a - b in echelon compliance under ``load`` (metrics.paired_differences)."""
    result = next(r for r in study.loads if r.load == load)
    rows = result.rows[result.rows["policy"].isin([a, b])]
    counts = result.counts[result.counts["policy"].isin([a, b])]
    report = study.cfg.report
    d = paired_differences(
        rows[["policy", "replication", COMPLIANCE]], b, counts, report.min_pairs, report.min_counted
    )
    return d.iloc[0] if len(d) else None


def _paired(study, load: str, a: str, b: str) -> tuple[float, float, float]:
    """Mean difference a - b in compliance under ``load`` and its 95% CI, paired by replication."""
    r = _paired_row(study, load, a, b)
    if r is None:
        return (math.nan,) * 3
    return float(r["mean_diff"]), float(r["ci95_low"]), float(r["ci95_high"])


def recommend(study) -> tuple[str, list[str]]:
    """The recommended layout and the sentences that justify it (see ``RULE``)."""
    heaviest = max(study.loads, key=lambda r: r.rate_multiplier)
    load = heaviest.load
    names = [lay.name for lay in study.layouts]
    est = {n: _estimate(study, load, n) for n in names}
    scored = [n for n in names if est[n] is not None and math.isfinite(float(est[n]["estimate"]))]
    if not scored:
        return names[0], [
            "No layout has an echelon compliance under the heaviest load (no incident reached "
            "an echelon): nothing to recommend from simulation."
        ]
    best = max(scored, key=lambda n: float(est[n]["estimate"]))
    teams = {lay.name: lay.n_echelons for lay in study.layouts}
    target = coverage.echelon_target_s(study.cfg)
    static = study.static[study.static["threshold_s"] == target].set_index("layout")["own_risk"]
    close, below, unsure = [], [], []
    for n in scored:
        if n == best:
            close.append(n)
            continue
        r = _paired_row(study, load, n, best)
        if r is not None and r["finding"] and float(r["mean_diff"]) < 0:
            below.append(n)
            continue
        close.append(n)
        if r is None or r["not_evidence"] or not math.isfinite(float(r["ci95_low"])):
            unsure.append(n)
    choice = min(close, key=lambda n: (teams[n], -float(static.get(n, 0.0))))
    lines = [
        f"Recommended: **{choice}** ({teams[choice]} teams): under load '{load}' (rates "
        f"x{heaviest.rate_multiplier:g}) its echelon is on scene within {target / 60:g} min of the alarm "
        f"in {_pct(float(est[choice]['estimate']))} of the incidents that called for one "
        f"(95% CI {_pct(float(est[choice]['ci95_low']))} to {_pct(float(est[choice]['ci95_high']))}); "
        f"statically its own grid's team reaches {_pct(float(static.get(choice, math.nan)))} of the risk "
        f"in {target / 60:g} min.",
    ]
    if choice != best:
        diff, low, high = _paired(study, load, choice, best)
        lines.append(
            f"The best simulated layout, {best} ({teams[best]} teams), is not distinguishable from it: "
            f"{choice} - {best} = {_pts(diff)} (95% CI {_pts(low)} to {_pts(high)}), so the fewer teams win."
        )
    if below:
        worse = ", ".join(f"{n} ({teams[n]} teams)" for n in below)
        lines.append(f"Distinguishably below the best under this load: {worse}.")
    if unsure:
        listed = ", ".join(unsure)
        lines.insert(
            1,
            f"Provisional: {listed} cannot yet be told from the best under load '{load}' for want "
            f"of evidence (fewer than {study.cfg.report.min_pairs} replications, or too few incidents); "
            "with more replications (run.replications) the recommendation may change.",
        )
    base = study.baseline
    if choice != base and base in scored:
        diff, low, high = _paired(study, load, choice, base)
        trade = teams[choice] - teams[base]
        cost = f"{trade:+d} teams" if trade else "the same number of teams"
        lines.append(
            f"Trade-off against the baseline {base}: {_pts(diff)} compliance (95% CI {_pts(low)} to "
            f"{_pts(high)}) with {cost}."
        )
    lines.append(RULE)
    return choice, lines


def _layout_table(study) -> Block:
    rows = []
    bal = study.balance.set_index("layout")
    for lay in study.layouts:
        b = bal.loc[lay.name]
        rows.append(
            (
                lay.name,
                lay.source,
                str(len(lay.grids)),
                str(lay.n_echelons),
                f"{b['risk_per_echelon_cv']:.2f}",
                f"{b['risk_per_echelon_max_over_mean']:.1f}",
                str(len(lay.warnings)),
            )
        )
    header = (
        "layout",
        "how it was made",
        "grids",
        "teams",
        "risk per team: CV",
        "busiest / mean",
        "warnings",
    )
    return Block("table", header=header, rows=tuple(rows))


def _reachable_thresholds(cfg) -> list[float]:
    """The thresholds a team can meet at all: the head start (alarm to driving) is shorter than them."""
    start = coverage.head_start(cfg).seconds
    return [t for t in sorted(cfg.isochrones_s) if t > start]


def _unreachable_note(cfg) -> str:
    """Why the shorter thresholds are missing from the static table."""
    missing = [t for t in sorted(cfg.isochrones_s) if t not in _reachable_thresholds(cfg)]
    if not missing:
        return ""
    listed = ", ".join(f"{t / 60:g} min" for t in missing)
    return (
        f" Not shown: {listed}; no team can arrive that soon, since {coverage.head_start(cfg).seconds:.0f} s "
        "pass between the alarm and the team driving (the 1-minute tier is the enterprise's own guards)."
    )


def _static_table(study) -> Block:
    cfg = study.cfg
    thresholds = _reachable_thresholds(cfg)
    target = coverage.echelon_target_s(cfg)
    s = study.static.set_index(["layout", "threshold_s"])
    rows = []
    for lay in study.layouts:
        cells = [lay.name]
        cells += [_pct(float(s.loc[(lay.name, t), "own_risk"])) for t in thresholds]
        cells += [
            _pct(float(s.loc[(lay.name, target), "any_risk"])),
            _pct(float(s.loc[(lay.name, target), "double_risk"])),
            _pct(float(s.loc[(lay.name, target), "own_enterprises"])),
            _pct(float(s.loc[(lay.name, target), "own_workforce"])),
        ]
        rows.append(tuple(cells))
    header = (
        "layout",
        *(f"risk, own team, {t / 60:g} min" for t in thresholds),
        f"risk, any team, {target / 60:g} min",
        f"risk, 2+ teams, {target / 60:g} min",
        f"enterprises, own team, {target / 60:g} min",
        f"workforce, own team, {target / 60:g} min",
    )
    return Block("table", header=header, rows=tuple(rows))


CHANNELS = {"one_key": "one-key alarm", "call_110": "110 call", "drone_centre": "drone control centre"}


def _empty_note(study, result) -> str:
    """Said when no incident under this load called for an echelon (a quiet load, a short run)."""
    if (summary(result)["metric"] == COMPLIANCE).any():
        return ""
    return (
        f" No incident called for an echelon under this load in {study.cfg.run.replications} replication(s) "
        f"of {study.cfg.run.days:g} days: there is no compliance to compare (lengthen run.days)."
    )


def _channel_sentence(result) -> str:
    """How incidents were first reported under this load: simulated times count from that report."""
    if not result.channels:
        return f"No incident was reported under load '{result.load}'."
    mix = ", ".join(f"{CHANNELS.get(k, k)} {v:.0%}" for k, v in result.channels.items())
    return (
        f"First reports: {mix}. Simulated times count from the first report, whatever its channel; static "
        "coverage assumes a one-key alarm (a 110 call takes longer to answer and locate)."
    )


def _simulated_table(study, result) -> Block:
    s = summary(result)
    metrics = [m for m in study.cfg.lab.metrics if m in set(s["metric"])]
    rows = []
    for lay in study.layouts:
        cells = [lay.name]
        for m in metrics:
            r = s[(s["policy"] == lay.name) & (s["metric"] == m)]
            if len(r) == 0:
                cells.append("n/a")
                continue
            r = r.iloc[0]
            cells.append(
                f"{format_value(m, r['estimate'])} ({format_value(m, r['ci95_low'])} to "
                f"{format_value(m, r['ci95_high'])})"
            )
        rows.append(tuple(cells))
    return Block("table", header=("layout", *(describe_metric(m) for m in metrics)), rows=tuple(rows))


def _verdict(row) -> str:
    """A paired difference in words: distinguishable, not evidence (and why), or not distinguishable."""
    if row["finding"]:
        return "distinguishable"
    if row["not_evidence"]:
        return f"not evidence: {row['not_evidence']}"
    return "not distinguishable"


def _needed(row) -> str:
    """How many replications would tell the two layouts apart, in words."""
    need = float(row["replications_needed"])
    why = str(row["not_evidence"] or "")
    if int(row["n"]) < 2:
        return "no interval: at least 2 replications"
    if row["finding"]:
        return f"{int(row['n'])} (these)"
    if why.startswith("counted over only"):
        return "more incidents first: a longer run.days or a heavier load"
    if need == 0:
        return "none: the same in every replication"
    if math.isfinite(need):
        return f"about {int(need)}"
    return "unknown: the differences cancel out on average; run more"


def _difference_table(study, result) -> Block:
    d = result.diffs
    rows = []
    for lay in study.layouts:
        if lay.name == study.baseline:
            continue
        r = d[(d["policy"] == lay.name) & (d["metric"] == COMPLIANCE)]
        if len(r) == 0:
            continue
        r = r.iloc[0]
        verdict = _verdict(r)
        needed = _needed(r)
        rows.append(
            (
                lay.name,
                _pts(float(r["mean_diff"])),
                f"{_pts(float(r['ci95_low']))} to {_pts(float(r['ci95_high']))}",
                str(int(r["n"])),
                verdict,
                needed,
            )
        )
    header = (
        f"layout - {study.baseline}",
        "echelon compliance difference",
        "95% CI (paired)",
        "pairs",
        "verdict",
        "replications needed to tell apart",
    )
    return Block("table", header=header, rows=tuple(rows))


def _workload_sentence(study) -> str:
    heaviest = max(study.loads, key=lambda r: r.rate_multiplier)
    return (
        f"Under the heaviest load, '{heaviest.load}' (rates x{heaviest.rate_multiplier:g}): the share "
        "of time a team is busy (dispatched until back at its post) and the jobs it takes a day, per team "
        "(a post with two teams: each team's), averaged over the replications; workload.csv has every load."
    )


def _workload_table(study) -> Block:
    heaviest = max(study.loads, key=lambda r: r.rate_multiplier)
    t = heaviest.teams
    rows = []
    for lay in study.layouts:
        sub = t[t["layout"] == lay.name]
        if len(sub) == 0:
            continue
        top = sub.sort_values("busy_share", ascending=False).iloc[0]
        rows.append(
            (
                lay.name,
                _pct(float(sub["busy_share"].mean())),
                f"{top['grid']}: {_pct(float(top['busy_share']))}",
                f"{sub['jobs_per_day'].mean():.2f}",
                f"{sub['jobs_per_day'].max():.2f}",
            )
        )
    header = ("layout", "team busy, mean", "busiest grid's team", "jobs per team per day, mean", "most")
    return Block("table", header=header, rows=tuple(rows))


def _change_summary(moved: tuple[str, ...]) -> str:
    """'14 posts moved, 3 posts with a second team (optimisation.csv lists each)'."""
    opened = sum(m.startswith("new post") for m in moved)
    closed = sum(m.endswith("closed") for m in moved)
    restaffed = len(moved) - opened - closed
    parts = []
    if opened or closed:
        parts.append(f"{closed} post(s) closed, {opened} opened")
    if restaffed:
        parts.append(f"{restaffed} post(s) with a changed number of teams")
    return ", ".join(parts) + " (optimisation.csv lists each)"


def _versus(study, load: str, a: str, b: str) -> str:
    teams = {lay.name: lay.n_echelons for lay in study.layouts}
    r = _paired_row(study, load, a, b)
    head = f"{a} ({teams[a]} teams) - {b} ({teams[b]} teams)"
    if r is None or not math.isfinite(float(r["ci95_low"])):
        return f"{head}: no interval"
    low, high = float(r["ci95_low"]), float(r["ci95_high"])
    return f"{head}: {_pts(float(r['mean_diff']))} (95% CI {_pts(low)} to {_pts(high)}, {_verdict(r)})"


def _optimised_against_generated(study) -> list[str]:
    """The optimised (and refined) posts against the baseline and the best generated layout, per load."""
    mine = list(study.optimisation.names)
    generated = [lay.name for lay in study.layouts if lay.name not in mine]
    target = coverage.echelon_target_s(study.cfg)
    static = study.static[study.static["threshold_s"] == target].set_index("layout")["own_risk"]
    best_static = max(generated, key=lambda n: float(static.get(n, 0.0)))
    lines = [
        f"Static: {mine[0]} reaches {_pct(float(static[mine[0]]))} of the risk in {target / 60:g} min with "
        f"its own team; the best generated layout, {best_static}, {_pct(float(static[best_static]))}."
    ]
    for result in study.loads:
        est = {n: _estimate(study, result.load, n) for n in generated}
        scored = [n for n in generated if est[n] is not None]
        if not scored:
            continue
        best = max(scored, key=lambda n: float(est[n]["estimate"]))
        parts = [_versus(study, result.load, mine[0], best)]
        if study.baseline != best:
            parts.append(_versus(study, result.load, mine[0], study.baseline))
        if len(mine) > 1:
            parts.append(_versus(study, result.load, mine[1], mine[0]))
        lines.append(f"Under load '{result.load}', echelon compliance: " + "; ".join(parts) + ".")
    return lines


def _optimisation_blocks(study) -> list[Block]:
    opt = study.optimisation
    if opt is None:
        return []
    total = float(opt.instance.weights.sum())
    target = coverage.echelon_target_s(study.cfg)
    gap = (opt.exact.objective - opt.greedy.objective) / opt.exact.objective if opt.exact.objective else 0.0
    blocks = [
        Block("h2", "Optimised posts"),
        Block(
            "ul",
            items=(
                f"{opt.budget} teams placed to maximise the risk reached within {target / 60:g} min of "
                "the alarm (maximal covering location model, exact MILP by HiGHS through PuLP) among "
                f"{len(opt.instance.candidates)} candidate road nodes (the enterprises' own nodes: the "
                f"backbones are enterprise staff), {len(opt.instance.weights)} demand points (enterprises on "
                "one road node are one point).",
                f"Optimal: {_pct(opt.exact.objective / total)} of the risk; solver status "
                f"{opt.exact.status}, proven bound {_pct(opt.exact.bound / total)} "
                f"(gap {opt.exact.gap:.2%}).",
                f"Greedy (add the post that reaches the most uncovered risk, {opt.budget} times): "
                f"{_pct(opt.greedy.objective / total)}, {gap:.2%} below the optimum.",
            ),
        ),
    ]
    blocks.append(Block("ul", items=tuple(_optimised_against_generated(study))))
    if opt.refinements:
        rows = tuple(
            (
                str(r.round),
                _pct(r.busy_share),
                _pct(r.busiest),
                _pct(r.expected_before / total),
                f"{_pct(r.expected_after / total)} "
                f"({(r.expected_after - r.expected_before) / total * 100:+.2f} pts)",
                _change_summary(r.moved)
                if r.moved
                else "nothing: at this busy share no second team adds more than the post it would replace",
            )
            for r in opt.refinements
        )
        blocks += [
            Block(
                "p",
                f"Simulator in the loop: each round simulates the current answer under load "
                f"'{study.cfg.lab.refine_load}', measures how often each grid's team is busy, and solves "
                "the "
                "maximal expected covering model again (MEXCLP: a demand point reached by k teams is "
                "covered with probability 1 - q^k, q the busy share of the team that serves it now, so a "
                "second team may go where demand keeps a team busy). MEXCLP lets any covering team "
                f"answer; the simulation below applies the configured policy ({study.cfg.lab.policy}).",
            ),
            Block(
                "table",
                header=(
                    "round",
                    "teams busy (q, risk-weighted mean)",
                    "busiest team",
                    "expected coverage before",
                    "after",
                    "what changed",
                ),
                rows=rows,
            ),
        ]
    if opt.curve is not None:
        loads = [r.load for r in study.loads]
        rows = []
        for r in opt.curve.itertuples():
            row = r._asdict()
            cells = [str(r.echelons), _pct(r.coverage_exact), _pct(r.coverage_greedy)]
            cells += [
                f"{_pct(row[f'compliance_{ld}'])} ({_pct(row[f'compliance_{ld}_low'])} to "
                f"{_pct(row[f'compliance_{ld}_high'])})"
                for ld in loads
            ]
            rows.append(tuple(cells))
        blocks += [
            Block("h3", "How many teams"),
            Block(
                "table",
                header=(
                    "teams",
                    "static, optimal",
                    "static, greedy",
                    *(f"simulated compliance, {ld}" for ld in loads),
                ),
                rows=tuple(rows),
            ),
            Block("figure", "curve.png", items=("Coverage and compliance against the number of teams",)),
        ]
    return blocks


def report_blocks(study) -> list[Block]:
    cfg = study.cfg
    site = study.site
    target = coverage.echelon_target_s(cfg)
    _, lines = recommend(study)
    flagged = site.synthetic and "SYNTHETIC" not in site.label
    title = f"Grid layout study: {site.label}" + (" (SYNTHETIC site)" if flagged else "")
    blocks = [
        Block("h1", title),
        Block("h2", "Recommendation"),
        Block("ul", items=tuple(lines)),
        Block("h2", "What was compared"),
        Block(
            "p",
            f"{len(study.layouts)} layouts on {site.label}, each simulated under {len(study.loads)} "
            f"load(s) ({', '.join(f'{r.load} x{r.rate_multiplier:g}' for r in study.loads)}) with policy "
            f"{cfg.lab.policy}: {cfg.run.replications} replications of {cfg.run.days:g} days, seed "
            f"{cfg.seed}. "
            "Every layout sees the same incidents at the same moments with the same luck (common random "
            "numbers): only the grids and posts differ. Static times are "
            f"{coverage.head_start(cfg).words}; simulated times count from each incident's first report.",
        ),
        _layout_table(study),
        Block(
            "figure",
            "layouts.png",
            items=("The layouts side by side: roads by how soon a team reaches them",),
        ),
        Block("h2", "Static coverage"),
        Block(
            "p",
            "Share of the risk (expected incidents a year at each enterprise) reached by a team in time, on "
            "the road network with median delays and no queueing. 'Own team': the enterprise's own grid's "
            "team, "
            f"the one that answers under {cfg.lab.policy}; 'any team': the nearest post; '2+ teams': a "
            "second team is in reach too (a backup when the first is busy: under echelon_135 only the grid's "
            "own second team answers; under echelon_overflow or echelon_open a neighbour's does too)."
            + _unreachable_note(cfg),
        ),
        _static_table(study),
    ]
    blocks.append(Block("h2", "Under load"))
    blocks.append(
        Block(
            "p",
            f"Simulated: delays drawn from their distributions, teams busy with earlier incidents, the "
            f"{target / 60:g}-minute target counted from the alarm. Estimates with 95% intervals. Fewer "
            "incidents meet the target than the static coverage promises: static coverage takes every delay "
            "at its median, while in the simulation the video check and the mobilisation are often longer "
            f"(their 90th percentiles are {cfg.delays.video_check.quantile(0.9):.0f} s and "
            f"{cfg.delays.mobilise_echelon.quantile(0.9):.0f} s), and a busy team answers late or not at "
            "all.",
        )
    )
    for result in study.loads:
        blocks += [
            Block("h3", f"Load '{result.load}' (rates x{result.rate_multiplier:g})"),
            Block("p", _channel_sentence(result) + _empty_note(study, result)),
            _simulated_table(study, result),
            _difference_table(study, result),
        ]
    blocks += [
        Block("figure", "compliance.png", items=("Echelon compliance by layout and load, 95% CI",)),
        Block("h2", "Workload per team"),
        Block("p", _workload_sentence(study)),
        _workload_table(study),
        Block("figure", "workload.png", items=("Each team's busy share under the heaviest load",)),
    ]
    blocks += _optimisation_blocks(study)
    if study.warnings:
        blocks += [Block("h2", "Warnings"), Block("ul", items=tuple(study.warnings))]
    blocks += [
        Block("h2", "Files"),
        Block(
            "ul",
            items=(
                "layouts/<name>.gpkg (layers grids, posts, reach) and <name>_grids.geojson, "
                "<name>_posts.geojson: open them in QGIS; a planner's edited GeoPackage goes back in "
                "with lab.files=[...].",
                "static_coverage.csv, grids.csv, compliance.csv, differences.csv, workload.csv, "
                "metrics_by_replication.csv"
                + (", optimisation.csv, curve.csv" if study.optimisation else ""),
                "config.yaml: the configuration that made this folder.",
            ),
        ),
    ]
    return blocks


def write_report(folder: Path, study) -> tuple[Path, Path]:
    blocks = report_blocks(study)
    md, page = folder / "grid.md", folder / "grid.html"
    md.write_text(to_markdown(blocks), encoding="utf-8")
    page.write_text(to_html(blocks).replace("**", ""), encoding="utf-8")
    return md, page
