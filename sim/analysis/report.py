"""A summary a planner can read without code: ``summary.md`` and a self-contained ``summary.html``.

The answer comes first, in a few plain sentences (what changed, by how much, how sure, for which incidents,
on what assumptions); then a compact table of the headline metrics, the figures, and the full tables after
a table of contents. Both files are rendered from the same list of blocks, so they never disagree. Every
time says from which moment it is counted; every metric says how it was computed (pooled or averaged over
replications); every difference is paired and says whether it is evidence, and if not, why.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis.metrics import metric_unit
from sim.webfont import with_cjk_font

FIGURES = (
    (
        "outcomes_by_kind.png",
        "How incidents ended, per kind and policy: the share with the bad outcome, with 95% intervals.",
    ),
    (
        "arrival_ecdf.png",
        "Time to first arrival per tier, counted from the alarm and from the incident, each tier's own "
        "target marked; one curve per policy.",
    ),
    ("compliance.png", "Share of incidents meeting each tier's own target, with 95% intervals."),
    ("incident_map.png", "Where incidents happened and whether the echelon tier met its target, per policy."),
)
# The good outcome of a two-outcome kind is the complement of the bad one: shown once, as the bad one.
COMPLEMENT_RATES = r"^(interception|calming|operator_caught|controlled|containment)_rate_"
BAD_OUTCOME = r"^(escape|escalation|operator_left|flashover|uncontained)_rate_(.+)$"
PERCENTILE_WORD = {"median": "median", "p90": "90th-percentile", "p95": "95th-percentile"}
MOMENT_WORD = {"alarm": "the alarm", "incident": "the incident", "dispatch": "the dispatch"}
TIMING_NOTES = (
    "Counted from the alarm: from the moment the report reaches a command room (one-key alarm, 110 call or "
    "the drone control centre), i.e. the first REPORTED event.",
    "Counted from the incident: from the moment the incident occurred; this includes the time until somebody "
    "noticed it and raised the alarm.",
    "A tier's arrival is the first unit of that tier on scene; drones overwatch and are not a tier.",
    "A tier meets its target when its first arrival comes within the tier's own target (e.g. 1, 3 or 5 "
    "minutes). A tier that was aimed at but never arrived before the end of the run counts as missed and as "
    "an infinite time, so a median or 90th percentile can be 'inf' (more than half, or more than 10%, never "
    "arrived).",
    "Shares of counted things (incidents meeting a target, thefts that escaped, requests that waited) are "
    "pooled over replications (all counts over all counts) with a Wilson 95% interval, which stays within "
    "0-100%. Times, utilisation and areas are the mean over replications of each replication's value, with "
    "a Student-t 95% interval cut at the metric's bounds. metrics_summary.csv says which, per row (column "
    "'how'); tier_metrics.csv pools every replication's incidents.",
    "Each replication runs every policy on the same incidents (common random numbers); differences are "
    "averaged per replication and given with a 95% Student-t interval.",
)
ASSUMPTIONS = (
    "Delays, speeds and rates are the sourced defaults of docs/parameters.md; those marked [A] there are "
    "assumptions.",
    "Not modelled: traffic congestion by hour, guards busy with a second incident at the same enterprise, "
    "AI glasses, robots and boats.",
)


@dataclass(frozen=True)
class Block:
    """One piece of the report: kind is h1, h2, h3, p, ul, table, figure, link, toc or details (a table
    folded under a summary line ``text``). ``marks``: (row, column, css class) of table cells to set apart
    (class ``diff`` is also bold in Markdown)."""

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    marks: tuple[tuple[int, int, str], ...] = ()


# --------------------------------------------------------------------------------------------- wording


def _tier_phrase(name: str) -> str:
    return f"the {name.replace('_', ' ')} tier's"


def _role(role: str) -> str:
    """A queueing role in words: a tier's name, or a fire-brigade unit kind."""
    words = role.replace("_", " ")
    return f"a {words}" if role in ("fire_engine", "hazmat_unit") else f"the {words} tier"


def describe_metric(name: str) -> str:
    """Plain words for a headline metric name, saying from which moment a time is counted.

    Tier metrics are named by the tier's role (``tier_<name>_...``), so policies compare like with like."""
    if m := re.fullmatch(r"tier_(.+)_target_met_from_(alarm|incident|dispatch)", name):
        return f"{_tier_phrase(m[1])} compliance with its target, counted from {MOMENT_WORD.get(m[2], m[2])}"
    if m := re.fullmatch(r"tier_(.+)_(median|p90|p95)_from_(alarm|incident|dispatch)_s", name):
        return (
            f"the {PERCENTILE_WORD[m[2]]} arrival time of {_tier_phrase(m[1])} first "
            f"responder, counted from {MOMENT_WORD.get(m[3], m[3])}"
        )
    if m := re.fullmatch(r"tier_(.+)_share_arrived", name):
        return f"the share of incidents where {_tier_phrase(m[1])} responder arrived at all"
    if m := re.fullmatch(r"(.+_rate)_(.+)", name):
        return f"the {m[1].replace('_', ' ')} for {m[2].replace('_', ' ')}"
    if m := re.fullmatch(r"utilisation_(.+)", name):
        return f"{m[1].replace('_', ' ')} utilisation (share of time busy)"
    if m := re.fullmatch(r"queued_share_(.+)", name):
        return f"the share of requests for {_role(m[1])} that had to wait for a busy unit"
    if m := re.fullmatch(r"mean_queue_wait_(.+)_s", name):
        return (
            f"the mean wait for {_role(m[1])}, over all requests (0 when a unit was sent at once; "
            "queueing.csv gives the wait of those that waited)"
        )
    if m := re.fullmatch(r"brigade_(.+)_(median|p90)_from_incident_s", name):
        return (
            f"the {PERCENTILE_WORD[m[2]]} arrival time of the first {m[1].replace('_', ' ')} the 119 centre "
            "sent, counted from the incident"
        )
    if m := re.fullmatch(r"brigade_(.+)_share_arrived", name):
        return f"the share of incidents needing a {m[1].replace('_', ' ')} where one arrived at all"
    fixed = {
        "share_detected_from_air": "the share of incidents first detected from the air (drones)",
        "mean_handoff_s": "the mean cross-station handoff delay",
        "mean_leak_area_m2": "the mean area affected by a chemical leak",
        "n_incidents": "the number of incidents",
        "n_reported": "the number of incidents reported",
        "n_handoffs": "the number of cross-station handoffs",
    }
    return fixed.get(name, name.replace("_", " "))


def _count(n: int, noun: str) -> str:
    """'1 replication', '10 replications'."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _num(x: float, digits: int = 0) -> str:
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:,.{digits}f}"


def _percent(share: float) -> str:
    """A share as a percentage with the digits it needs: 46%, 4.2%, 0.42%, so small values never read 0%."""
    pct = share * 100
    if pct == 0 or abs(pct) >= 10:
        return f"{_num(pct)}%"
    if abs(pct) >= 1:
        return f"{_num(pct, 1)}%"
    return f"{pct:.2g}%"


def format_value(name: str, value: float) -> str:
    """A metric value with its unit: shares as %, seconds as s, areas as m²; 'n/a' and 'inf' bare."""
    unit = metric_unit(name)
    if not math.isfinite(value):
        return _num(value)
    if unit == "share":
        return _percent(value)
    if unit == "s":
        return f"{_num(value)} s"
    if unit == "m2":
        return f"{_num(value)} m²"
    return _num(value, 0 if unit == "count" and float(value).is_integer() else 1)


def _interval(name: str, low: float, high: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return "no interval"
    return f"{format_value(name, low)} to {format_value(name, high)}"


def with_interval(name: str, estimate: float, low: float, high: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return format_value(name, estimate)
    return f"{format_value(name, estimate)} ({_interval(name, low, high)})"


def _diff_digits(*scaled: float) -> int:
    """Whole numbers for differences of 10 or more; one decimal below, so small effects do not read as 0."""
    finite = [abs(x) for x in scaled if math.isfinite(x)]
    return 0 if finite and max(finite) >= 10 else 1


def diff_amount(name: str, x: float) -> str:
    """A difference in the metric's unit: shares in percentage points."""
    unit = metric_unit(name)
    if not math.isfinite(x):
        return _num(x)
    scaled = x * 100 if unit == "share" else x
    number = _num(scaled, _diff_digits(scaled))
    return {"share": f"{number} points", "s": f"{number} s", "m2": f"{number} m²"}.get(unit, number)


def diff_range(name: str, low: float, high: float, estimate: float = math.nan) -> str:
    """'2.0 to 12.0 points' style: as many digits as the estimate shows, the unit once, no '-0'."""
    if math.isnan(low) or math.isnan(high):
        return "no interval"
    scale = 100 if metric_unit(name) == "share" else 1
    own = _diff_digits(estimate * scale) if math.isfinite(estimate) else 0
    digits = max(_diff_digits(low * scale, high * scale), own)
    a, b = (_num(x * scale + 0.0, digits).replace("-0.0", "0.0") for x in (low, high))
    a, b = (("0" if x == "-0" else x) for x in (a, b))
    unit = {"s": " s", "m2": " m²"}.get(metric_unit(name), "")
    return f"{a} to {b}{unit}"


def _level(name: str, value: float, diff: float) -> str:
    """A level quoted beside a difference, with as many digits as the difference needs (18.2% to 18.4%)."""
    if metric_unit(name) != "share" or not math.isfinite(value) or abs(diff) * 100 >= 10:
        return format_value(name, value)
    return f"{_num(value * 100, 1)}%"


def difference_sentence(row: Mapping, policies: Sequence[str] = ()) -> str:
    """'echelon_135 lowers the escape rate for theft: from 81% to 46%, by 36 points (95% CI 19 to 52) ...'

    ``policies``: every policy with exactly this difference (said once for all of them)."""
    name, diff = row["metric"], float(row["mean_diff"])
    who = " and ".join(policies) if policies else str(row["policy"])
    verb = ("raises" if diff > 0 else "lowers") if len(policies) < 2 else ("raise" if diff > 0 else "lower")
    low, high = (row["ci95_low"], row["ci95_high"]) if diff > 0 else (-row["ci95_high"], -row["ci95_low"])
    levels = ""
    if "baseline_mean" in row and "policy_mean" in row:
        before, after = _level(name, row["baseline_mean"], diff), _level(name, row["policy_mean"], diff)
        levels = f": from {before} to {after},"
    return (
        f"{who} {verb} {describe_metric(name)}{levels} by {diff_amount(name, abs(diff))} "
        f"(95% CI {diff_range(name, low, high, abs(diff))}) compared with {row['baseline']}, "
        f"over {int(row['n'])} paired replications."
    )


# ---------------------------------------------------------------------------------------------- choosing


def _shown(metric: pd.Series) -> pd.Series:
    """Metrics a reader needs once: not the complement of a two-outcome kind."""
    return ~metric.str.match(COMPLEMENT_RATES)


def _priority(name: str) -> int:
    """Order of findings in the answer: how incidents ended first, then compliance from the incident."""
    order = (
        BAD_OUTCOME,
        r"^mean_leak_area_m2$",
        r"_target_met_from_incident$",
        r"_target_met_from_alarm$",
        r"_from_incident_s$",
        r"_from_alarm_s$",
    )
    return next((i for i, p in enumerate(order) if re.search(p, name)), len(order))


def headline_metrics(summary: pd.DataFrame) -> list[str]:
    """The few metrics of the compact table: bad-outcome rates per kind, the leak area, and per tier its
    compliance from the alarm and its median arrival from the incident."""
    names = list(pd.unique(summary["metric"])) if len(summary) else []
    wanted = [
        n
        for n in names
        if re.match(BAD_OUTCOME, n)
        or n == "mean_leak_area_m2"
        or re.fullmatch(r"tier_.+_(target_met_from_alarm|median_from_incident_s)", n)
    ]
    return sorted(wanted, key=lambda n: (_priority(n), names.index(n)))


def findings(diffs: pd.DataFrame, identical: Mapping[str, str]) -> pd.DataFrame:
    """Differences that are evidence, one per pair of complementary outcomes, most important first."""
    if diffs.empty:
        return diffs
    keep = diffs[diffs["finding"].astype(bool) & _shown(diffs["metric"]) & ~diffs["policy"].isin(identical)]
    return keep.assign(_p=keep["metric"].map(_priority)).sort_values(["policy", "_p"], kind="stable")


# ---------------------------------------------------------------------------------------------- blocks


def _new_tier_sentences(
    summary: pd.DataFrame, policies: Sequence[str], baseline: str, identical: Mapping[str, str]
) -> list[str]:
    """How the tiers the baseline does not have (guards, echelons) did: no difference can say it."""
    if summary.empty:
        return []
    met = summary[summary["metric"].str.fullmatch(r"tier_.+_target_met_from_alarm")]
    met = met[met["estimate"].notna()]  # a policy without the tier has the column, empty
    base_tiers = set(met.loc[met["policy"] == baseline, "metric"])
    lines = []
    for policy in [p for p in policies if p != baseline and p not in identical]:
        mine = met[(met["policy"] == policy) & ~met["metric"].isin(base_tiers)]
        said = [
            f"{r.metric.removeprefix('tier_').removesuffix('_target_met_from_alarm').replace('_', ' ')} "
            f"{with_interval(r.metric, r.estimate, r.ci95_low, r.ci95_high)}"
            for r in mine.itertuples()
        ]
        if said:
            lines.append(
                f"Under {policy}, the tiers {baseline} lacks met their own targets, counted from the alarm: "
                + "; ".join(said)
                + "."
            )
    return lines


def _finding_sentences(found: pd.DataFrame, per_policy: int = 4) -> list[str]:
    """The most important findings, each said once for every policy that has exactly the same difference."""
    if found.empty:
        return []
    same = ["metric", "mean_diff", "ci95_low", "ci95_high", "baseline_mean", "policy_mean", "n"]
    groups = found.groupby(same, sort=False, dropna=False)["policy"].agg(list).reset_index()
    groups = groups.assign(_p=groups["metric"].map(_priority)).sort_values("_p", kind="stable")
    lines, said = [], {}
    for row in groups.to_dict("records"):
        if all(said.get(p, 0) >= per_policy for p in row["policy"]):
            continue
        for p in row["policy"]:
            said[p] = said.get(p, 0) + 1
        lines.append(difference_sentence({**row, "baseline": found["baseline"].iloc[0]}, row["policy"]))
    left = {p: int((found["policy"] == p).sum()) - n for p, n in said.items()}
    lines += [
        f"{p}: {_count(k, 'more finding')} in the table of differences." for p, k in left.items() if k > 0
    ]
    return lines


def _what_was_compared(meta: Mapping) -> str:
    policies = list(meta.get("policies") or [])
    baseline = meta.get("baseline") or ""
    several = len(policies) > 1
    who = (
        f"{', '.join(policies)} (baseline {baseline})"
        if several
        else f"policy {policies[0] if policies else '?'}"
    )
    n = meta.get("incidents_per_policy")
    per = (
        f", {n:,} incidents{' per policy, the same incidents for every policy' if several else ''}"
        if n
        else ""
    )
    synthetic = " (SYNTHETIC: shapes and positions are not surveyed)" if meta.get("synthetic") else ""
    return (
        f"{'Compared' if several else 'Simulated'} {who} on site {meta.get('site', '?')}{synthetic}: "
        f"{_count(meta.get('replications', 0), 'replication')} x {meta.get('days', 0):g} days{per}."
    )


def _settings_sentence(meta: Mapping) -> str:
    settings = meta.get("settings") or []
    if not settings:
        return "Every setting is the default (conf/)."
    parts = [
        f"{s['key']} = {s['value']} (default {s['default']}"
        + (f"; in {', '.join(s['policies'])}" if s.get("policies") else "")
        + ")"
        for s in settings
    ]
    return "Settings changed from the defaults: " + "; ".join(parts) + "."


def answer_blocks(summary: pd.DataFrame, diffs: pd.DataFrame, meta: Mapping) -> list[Block]:
    """The first screen: what was compared, what changed and how sure, what is not evidence, assumptions."""
    identical: Mapping[str, str] = meta.get("identical") or {}
    lines = [_what_was_compared(meta), _settings_sentence(meta)]
    if meta.get("baseline") and len(meta.get("policies") or []) > 1:
        found = findings(diffs, identical)
        for policy in [p for p in meta["policies"] if p != meta["baseline"] and p in identical]:
            lines.append(
                f"{policy} gave exactly the same results as {identical[policy]} in every replication: at "
                "this load the two rules sent the same units (a heavier load, e.g. incidents=stress, may "
                "tell them apart)."
            )
        lines += _finding_sentences(found)
        lines += _new_tier_sentences(summary, meta["policies"], meta["baseline"], identical)
        for policy in [p for p in meta["policies"] if p != meta["baseline"] and p not in identical]:
            if found.empty or not (found["policy"] == policy).any():
                lines.append(f"{policy}: no difference from {meta['baseline']} is evidence at this sample.")
        if len(diffs):
            weak = diffs[diffs["excludes_0"].astype(bool) & (diffs["not_evidence"].fillna("") != "")]
            weak = weak[_shown(weak["metric"]) & ~weak["policy"].isin(identical)]
            if len(weak):
                lines.append(
                    f"{_count(len(weak), 'other difference')} whose interval excludes 0 "
                    f"{'is' if len(weak) == 1 else 'are'} not evidence (too few replications or incidents, "
                    "or set by the configuration); the table of differences says why for each."
                )
    elif len(summary):
        outcomes = summary[summary["metric"].str.match(BAD_OUTCOME)]
        said = [
            f"{describe_metric(r.metric)} {with_interval(r.metric, r.estimate, r.ci95_low, r.ci95_high)}"
            for r in outcomes.itertuples()
        ]
        if said:
            lines.append("How incidents ended: " + "; ".join(said) + ".")
        lines.append("One policy: nothing to compare with; `echelon compare` tells what a change adds.")
    mix = meta.get("incident_mix")
    if mix:
        lines.append(f"Incidents: {mix}.")
    assumptions = list(ASSUMPTIONS)
    if meta.get("baseline") and len(meta.get("policies") or []) > 1:
        assumptions.insert(
            0,
            "A policy's difference is the sum of everything it changes at once (e.g. echelon_135 against "
            "police_only: the one-key alarm, guards, echelons, drones and county coordination); "
            "`echelon ladder` says what each part adds.",
        )
    if meta.get("synthetic"):
        assumptions.insert(0, "The site is SYNTHETIC: a stylised layout, not surveyed roads and facilities.")
    return [
        Block("h2", text="The answer"),
        Block("ul", items=tuple(lines)),
        Block("p", text="It rests on these assumptions:"),
        Block("ul", items=tuple(assumptions)),
    ]


def _headline_table(summary: pd.DataFrame) -> Block:
    """The few headline metrics as rows, policies as columns; each cell 'estimate (95% interval)'."""
    names = headline_metrics(summary)
    policies = list(pd.unique(summary["policy"]))
    cell = {
        (r.policy, r.metric): with_interval(r.metric, r.estimate, r.ci95_low, r.ci95_high)
        for r in summary.itertuples()
    }
    rows = tuple((describe_metric(m), *(cell.get((p, m), "") for p in policies)) for m in names)
    return Block("table", header=("metric", *map(str, policies)), rows=rows)


def _full_table(summary: pd.DataFrame) -> Block:
    """Every metric of every policy, with how it was computed and what it rests on."""
    shown = summary  # every metric, complements included: this is the full list
    rows = tuple(
        (
            str(r.policy),
            r.metric,
            describe_metric(r.metric),
            format_value(r.metric, r.estimate),
            _interval(r.metric, r.ci95_low, r.ci95_high),
            "pooled" if str(r.how).startswith("pooled") else "mean of replications",
            str(r.n_replications),
            "" if pd.isna(r.n_counted) else f"{int(r.n_counted):,}",
        )
        for r in shown.itertuples()
    )
    header = (
        "policy",
        "metric",
        "what it measures",
        "estimate",
        "95% interval",
        "how",
        "replications",
        "counted",
    )
    return Block("table", header=header, rows=rows)


def _diff_table(diffs: pd.DataFrame, identical: Mapping[str, str]) -> Block:
    shown = diffs[(diffs["n"] > 0) & _shown(diffs["metric"]) & ~diffs["policy"].isin(identical)]
    rows = tuple(
        (
            str(r.policy),
            describe_metric(r.metric),
            diff_amount(r.metric, r.mean_diff),
            diff_range(r.metric, r.ci95_low, r.ci95_high, r.mean_diff),
            str(int(r.n)),
            "finding" if r.finding else (r.not_evidence or "CI includes 0"),
        )
        for r in shown.itertuples()
    )
    return Block(
        "table",
        header=("policy", "metric", "difference vs baseline", "95% CI", "pairs", "evidence"),
        rows=rows,
    )


def _figure_blocks(folder: Path) -> list[Block]:
    """Figures present in the folder, by relative path."""
    return [
        Block("figure", text=file, items=(caption,)) for file, caption in FIGURES if (folder / file).exists()
    ]


def _details(meta: Mapping) -> tuple[str, ...]:
    items = [
        f"Site: {meta.get('site', 'not given')}",
        f"Simulated days per replication: {meta.get('days', 'not given')}",
        f"Replications: {meta.get('replications', 'not given')}",
        f"Seed: {meta.get('seed', 'not given')}",
        f"Tier targets counted from: {meta.get('figures_count_from', 'alarm')}",
    ]
    return tuple(items)


def report_blocks(folder: Path, summary: pd.DataFrame, diffs: pd.DataFrame, meta: Mapping) -> list[Block]:
    """The report's content, independent of its format."""
    identical: Mapping[str, str] = meta.get("identical") or {}
    comparison = bool(meta.get("baseline")) and len(meta.get("policies") or []) > 1
    title = str(meta.get("title") or ("Comparison of response policies" if comparison else "One policy"))
    sections: list[tuple[str, list[Block]]] = [
        (
            "Headline metrics",
            [
                Block(
                    "p",
                    text="Estimate (95% interval). Shares are pooled over replications (Wilson interval); "
                    "times are the mean over replications (Student-t interval).",
                ),
                _headline_table(summary) if len(summary) else Block("p", text="No metrics."),
            ],
        ),
        ("Figures", _figure_blocks(folder) or [Block("p", text="No figures.")]),
    ]
    if comparison:
        sections.append(
            (
                f"Differences against the baseline ({meta['baseline']})",
                [
                    Block(
                        "p",
                        text="Paired by replication (same incidents). 'finding': the 95% CI excludes 0, the "
                        "difference rests on enough pairs and incidents, and the configuration does not "
                        "dictate it; otherwise the reason.",
                    ),
                    _diff_table(diffs, identical) if len(diffs) else Block("p", text="No differences."),
                ],
            )
        )
    sections += [
        ("All metrics", [_full_table(summary) if len(summary) else Block("p", text="No metrics.")]),
        ("How every time is counted", [Block("ul", items=TIMING_NOTES)]),
        ("Run details", [Block("ul", items=_details(meta))]),
        (
            "Warnings",
            [
                Block("ul", items=tuple(str(w) for w in meta["warnings"]))
                if meta.get("warnings")
                else Block("p", text="None.")
            ],
        ),
    ]
    blocks = [Block("h1", text=title), *answer_blocks(summary, diffs, meta)]
    blocks.append(Block("toc", items=tuple(name for name, _ in sections)))
    for name, content in sections:
        blocks += [Block("h2", text=name), *content]
    return blocks


# --------------------------------------------------------------------------------------------- rendering


def warning_blocks(warnings) -> list[Block]:
    """A report's closing 'Warnings' section: the list, or 'None.'"""
    items = tuple(str(w) for w in warnings or ())
    return [Block("h2", text="Warnings"), Block("ul", items=items) if items else Block("p", text="None.")]


def _anchor(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(b: Block) -> str:
    bold = {(r, c) for r, c, cls in b.marks if cls == "diff"}

    def cell(r: int, c: int, text: str) -> str:
        return f"**{_md_cell(text)}**" if (r, c) in bold and text else _md_cell(text)

    lines = ["| " + " | ".join(map(_md_cell, b.header)) + " |", "|" + "---|" * len(b.header)]
    lines += [
        "| " + " | ".join(cell(r, c, t) for c, t in enumerate(row)) + " |" for r, row in enumerate(b.rows)
    ]
    return "\n".join(lines)


def to_markdown(blocks: Sequence[Block], contents: str = "Contents") -> str:
    """Markdown: headings, bullet lists, pipe tables, images and links by relative path."""
    out: list[str] = []
    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            out.append(f"{'#' * int(b.kind[1])} {b.text}")
        elif b.kind == "p":
            out.append(b.text)
        elif b.kind == "ul":
            out.append("\n".join(f"- {item}" for item in b.items))
        elif b.kind == "toc":
            out.append(f"{contents}: " + " · ".join(f"[{t}](#{_anchor(t)})" for t in b.items))
        elif b.kind == "table":
            out.append(_md_table(b))
        elif b.kind == "details":
            out.append(f"**{b.text}**\n\n{_md_table(b)}")
        elif b.kind == "figure":
            out.append(f"![{b.items[0]}]({b.text})\n\n*{b.items[0]}*")
        elif b.kind == "link":
            out.append(f"[{b.items[0]}]({b.text})")
    return "\n\n".join(out) + "\n"


# Latin first, then the CJK faces of each platform, so Chinese pages never fall back to boxes or serifs.
FONTS = (
    "system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,'PingFang SC','Hiragino Sans GB',"
    "'Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei',sans-serif"
)
CSS = (
    f"body{{font-family:{FONTS};max-width:64em;margin:1.5em auto;padding:0 1em;color:#222;"
    "line-height:1.45}"
    "h2{border-bottom:1px solid #ddd;padding-bottom:0.2em;margin-top:1.6em}"
    ".scroll{overflow-x:auto;max-width:100%}"
    "table{border-collapse:collapse;margin:0.6em 0;font-size:0.88em}"
    "th,td{border:1px solid #ccc;padding:0.25em 0.5em;text-align:left;vertical-align:top}"
    "th{background:#f0f0f0}figure{margin:1em 0}img{max-width:100%;height:auto}"
    "figcaption{font-style:italic;font-size:0.9em}nav{margin:1em 0;font-size:0.95em}"
    "nav a{margin-right:1em}ul.answer li{margin:0.3em 0}"
    "td.diff{background:#fff3bf;font-weight:bold}td.P{background:#d3f9d8}td.S{background:#fff3bf}"
    "td.M{background:#ffd8a8}td.U{background:#ffc9c9}details{margin:0.8em 0}"
    "summary{cursor:pointer;font-weight:bold}"
    "@media (max-width:40em){body{margin:0.5em auto;padding:0 0.5em}table{font-size:0.8em}}"
)


def _html_table(b: Block) -> str:
    e = html.escape
    marks = {(r, c): cls for r, c, cls in b.marks}

    def td(r: int, c: int, text: str) -> str:
        cls = marks.get((r, c))
        return f'<td class="{e(cls)}">{e(text)}</td>' if cls else f"<td>{e(text)}</td>"

    head = "".join(f"<th>{e(h)}</th>" for h in b.header)
    rows = "".join(
        "<tr>" + "".join(td(r, c, t) for c, t in enumerate(row)) + "</tr>" for r, row in enumerate(b.rows)
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'


def to_html(blocks: Sequence[Block], lang: str = "en", contents: str = "Contents") -> str:
    """A self-contained page (inline CSS, no scripts, no remote resources); every text escaped."""
    e = html.escape
    title = next((b.text for b in blocks if b.kind == "h1"), "Echelon report")
    body: list[str] = []
    first_list = True
    for b in blocks:
        if b.kind == "h1":
            body.append(f"<h1>{e(b.text)}</h1>")
        elif b.kind in ("h2", "h3"):
            body.append(f'<{b.kind} id="{_anchor(b.text)}">{e(b.text)}</{b.kind}>')
        elif b.kind == "p":
            body.append(f"<p>{e(b.text)}</p>")
        elif b.kind == "ul":
            cls = ' class="answer"' if first_list else ""
            first_list = False
            body.append(f"<ul{cls}>" + "".join(f"<li>{e(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "toc":
            links = "".join(f'<a href="#{_anchor(t)}">{e(t)}</a>' for t in b.items)
            body.append(f"<nav>{e(contents)}: {links}</nav>")
        elif b.kind == "table":
            body.append(_html_table(b))
        elif b.kind == "details":
            body.append(f"<details><summary>{e(b.text)}</summary>{_html_table(b)}</details>")
        elif b.kind == "link":
            body.append(f'<p><a href="{e(b.text)}">{e(b.items[0])}</a></p>')
        elif b.kind == "figure":
            body.append(
                f'<figure><img src="{e(b.text)}" alt="{e(b.items[0])}">'
                f"<figcaption>{e(b.items[0])}</figcaption></figure>"
            )
    page = (
        f'<!DOCTYPE html>\n<html lang="{e(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title>'
        f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    return with_cjk_font(page, FONTS)  # Chinese text: the page carries the glyphs it needs


def write_summary(
    folder: Path, summary: pd.DataFrame, diffs: pd.DataFrame, meta: Mapping
) -> tuple[Path, Path]:
    """Write ``summary.md`` and ``summary.html`` into ``folder``; figures are linked by relative path.

    ``summary``: from ``sim.analysis.metrics.summarise_replications``; ``diffs``: from ``paired_differences``
    (empty for a single policy); ``meta``: title, policies, baseline, site, synthetic, days, replications,
    seed, incidents_per_policy, incident_mix, settings [{key, default, value}], identical {policy: same as},
    warnings [str], figures_count_from."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    blocks = report_blocks(folder, summary, diffs, meta)
    md_path, html_path = folder / "summary.md", folder / "summary.html"
    md_path.write_text(to_markdown(blocks), encoding="utf-8")
    html_path.write_text(to_html(blocks), encoding="utf-8")
    return md_path, html_path
