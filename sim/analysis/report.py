"""A summary a planner can read without code: ``summary.md`` and a self-contained ``summary.html``.

Both are rendered from the same list of blocks (heading, paragraph, list, table, figure), so they never
disagree. Every time is said to be counted from a named moment; every difference is paired (same incidents
for both policies) and carries its 95% confidence interval.
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

FIGURES = (
    ("arrival_ecdf.png", "Time to first arrival per tier, counted from {moment}, one curve per policy."),
    ("compliance.png", "Share of incidents meeting each tier's target, with 95% confidence intervals."),
    ("incident_map.png", "Where incidents happened and whether the tier's target was met."),
)
KNOWN_META = (
    "title",
    "policies",
    "baseline",
    "site",
    "days",
    "replications",
    "seed",
    "warnings",
    "figures_count_from",
)
# The second outcome of a two-outcome kind: its difference is minus the first one's, so it is not repeated.
COMPLEMENT_RATES = r"^(interception|calming|operator_caught|controlled|uncontained)_rate_"
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
    "Each replication runs every policy on the same incidents (common random numbers); differences are "
    "averaged per replication and given with a 95% Student-t confidence interval.",
)


@dataclass(frozen=True)
class Block:
    """One piece of the report: kind is h1, h2, p, ul, table or figure."""

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


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
            f"the {PERCENTILE_WORD[m[2]]} arrival time of {_tier_phrase(m[1]).removeprefix('the ')} first "
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


def _num(x: float, digits: int = 0) -> str:
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:,.{digits}f}"


def format_value(name: str, value: float) -> str:
    """A metric value with its unit: shares as %, seconds as s, areas as m²; 'n/a' and 'inf' bare."""
    unit = metric_unit(name)
    if not math.isfinite(value):
        return _num(value)
    if unit == "share":
        return f"{_num(value * 100)}%"
    if unit == "s":
        return f"{_num(value)} s"
    if unit == "m2":
        return f"{_num(value)} m²"
    return _num(value, 0 if unit == "count" and float(value).is_integer() else 1)


def _format_with_ci(name: str, mean: float, half: float) -> str:
    if math.isnan(half):
        return format_value(name, mean)
    return f"{format_value(name, mean)} ± {format_value(name, half)}"


def _diff_digits(*scaled: float) -> int:
    """Whole numbers for differences of 10 or more; one decimal below, so small effects do not read as 0."""
    finite = [abs(x) for x in scaled if math.isfinite(x)]
    return 0 if finite and max(finite) >= 10 else 1


def _diff_amount(name: str, x: float) -> str:
    """A difference in the metric's unit: shares in percentage points."""
    unit = metric_unit(name)
    if not math.isfinite(x):
        return _num(x)
    scaled = x * 100 if unit == "share" else x
    number = _num(scaled, _diff_digits(scaled))
    return {"share": f"{number} points", "s": f"{number} s", "m2": f"{number} m²"}.get(unit, number)


def _diff_range(name: str, low: float, high: float) -> str:
    scale = 100 if metric_unit(name) == "share" else 1
    digits = _diff_digits(low * scale, high * scale)
    return f"{_num(low * scale, digits)} to {_num(high * scale, digits)}"


def difference_sentence(row: Mapping) -> str:
    """'echelon_135 raises tier-2 compliance ... by 41 points (95% CI 35 to 47) compared with police_only.'"""
    name, diff = row["metric"], float(row["mean_diff"])
    verb = "raises" if diff > 0 else "lowers"
    low, high = (row["ci95_low"], row["ci95_high"]) if diff > 0 else (-row["ci95_high"], -row["ci95_low"])
    return (
        f"{row['policy']} {verb} {describe_metric(name)} by {_diff_amount(name, abs(diff))} "
        f"(95% CI {_diff_range(name, low, high)}) compared with {row['baseline']}, "
        f"over {int(row['n'])} paired replications."
    )


# ---------------------------------------------------------------------------------------------- blocks


def _meta_list(meta: Mapping) -> tuple[str, ...]:
    """What was compared, with 'not given' rather than silence when the caller left something out."""

    def get(key: str) -> str:
        value = meta.get(key)
        if value is None or value == "":
            return "not given"
        return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)

    several = len(meta.get("policies") or ()) > 1
    items = [
        f"Policies: {get('policies')} (baseline: {get('baseline')})"
        if several
        else f"Policy: {get('policies')}",
        f"Site: {get('site')}",
        f"Simulated days per replication: {get('days')}",
        f"Replications: {get('replications')}"
        + (" (each runs every policy on the same incidents)" if several else ""),
        f"Seed: {get('seed')}",
    ]
    items += [
        f"{k.replace('_', ' ')}: {v}"
        for k, v in meta.items()
        if k not in KNOWN_META and isinstance(v, str | int | float | bool)
    ]
    return tuple(items)


def _headline_table(summary: pd.DataFrame) -> Block:
    """Metrics as rows, policies as columns; each cell 'mean ± 95% CI half-width'."""
    policies = list(pd.unique(summary["policy"]))
    metrics = list(pd.unique(summary["metric"]))
    cell = {
        (r.policy, r.metric): _format_with_ci(r.metric, r.mean, r.ci95_half) for r in summary.itertuples()
    }
    rows = tuple((m, describe_metric(m), *(cell.get((p, m), "") for p in policies)) for m in metrics)
    return Block("table", header=("metric", "what it measures", *map(str, policies)), rows=rows)


def _diff_table(diffs: pd.DataFrame) -> Block:
    rows = tuple(
        (
            str(r.policy),
            r.metric,
            _diff_amount(r.metric, r.mean_diff),
            _diff_range(r.metric, r.ci95_low, r.ci95_high),
            str(int(r.n)),
            "yes" if r.significant else "no",
        )
        for r in diffs.itertuples()
    )
    return Block(
        "table",
        header=("policy", "metric", "difference vs baseline", "95% CI", "pairs", "CI excludes 0"),
        rows=rows,
    )


def _figure_blocks(folder: Path, count_from: str) -> list[Block]:
    """Figures present in the folder, by relative path; a line saying so for each one missing."""
    out = []
    for file, template in FIGURES:
        caption = template.format(moment=MOMENT_WORD.get(count_from, count_from))
        if (folder / file).exists():
            out.append(Block("figure", text=file, items=(caption,)))
        else:
            out.append(Block("p", text=f"{file}: not produced in this run. ({caption})"))
    return out


def report_blocks(folder: Path, summary: pd.DataFrame, diffs: pd.DataFrame, meta: Mapping) -> list[Block]:
    """The report's content, independent of its format."""
    blocks = [
        Block("h1", text=str(meta.get("title") or "Echelon: comparison of response policies")),
        Block("h2", text="What was compared"),
        Block("ul", items=_meta_list(meta)),
        Block("h2", text="How every time is counted"),
        Block("ul", items=TIMING_NOTES),
        Block("h2", text="Headline results"),
        Block(
            "p",
            text="Mean over replications ± half-width of the 95% confidence interval (Student t); "
            "no ± when there is only one replication.",
        ),
        _headline_table(summary) if len(summary) else Block("p", text="No metrics."),
    ]
    if meta.get("baseline"):  # a comparison; a single policy has nothing to differ from
        blocks.append(Block("h2", text=f"Differences against the baseline ({meta['baseline']})"))
        significant = diffs[diffs["significant"]] if len(diffs) else diffs
        if len(significant):  # one sentence per pair: 'escape rate' says what 'interception rate' would
            complement = significant["metric"].str.match(COMPLEMENT_RATES)
            significant = significant[~complement]
        sentences = tuple(difference_sentence(r) for r in significant.to_dict("records"))
        blocks.append(
            Block("ul", items=sentences)
            if sentences
            else Block("p", text="No difference against the baseline is significant at the 95% level.")
        )
        if len(diffs):
            blocks.append(_diff_table(diffs))
    blocks += [
        Block("h2", text="Figures"),
        *_figure_blocks(folder, str(meta.get("figures_count_from", "alarm"))),
        Block("h2", text="Warnings"),
    ]
    warnings = tuple(str(w) for w in meta.get("warnings") or ())
    blocks.append(Block("ul", items=warnings) if warnings else Block("p", text="None."))
    return blocks


# --------------------------------------------------------------------------------------------- rendering


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: Sequence[Block]) -> str:
    """Markdown: headings, bullet lists, pipe tables, images by relative path."""
    out: list[str] = []
    for b in blocks:
        if b.kind in ("h1", "h2"):
            out.append(f"{'#' * int(b.kind[1])} {b.text}")
        elif b.kind == "p":
            out.append(b.text)
        elif b.kind == "ul":
            out.append("\n".join(f"- {item}" for item in b.items))
        elif b.kind == "table":
            lines = ["| " + " | ".join(map(_md_cell, b.header)) + " |", "|" + "---|" * len(b.header)]
            lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in b.rows]
            out.append("\n".join(lines))
        elif b.kind == "figure":
            out.append(f"![{b.items[0]}]({b.text})\n\n*{b.items[0]}*")
    return "\n\n".join(out) + "\n"


CSS = (
    "body{font-family:system-ui,sans-serif;max-width:72em;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
    "th,td{border:1px solid #ccc;padding:0.3em 0.6em;text-align:left;vertical-align:top}"
    "th{background:#f0f0f0}figure{margin:1em 0}img{max-width:100%}figcaption{font-style:italic}"
)


def to_html(blocks: Sequence[Block]) -> str:
    """A self-contained page (inline CSS, no scripts, no remote resources); every text escaped."""
    e = html.escape
    title = next((b.text for b in blocks if b.kind == "h1"), "Echelon report")
    body: list[str] = []
    for b in blocks:
        if b.kind in ("h1", "h2"):
            body.append(f"<{b.kind}>{e(b.text)}</{b.kind}>")
        elif b.kind == "p":
            body.append(f"<p>{e(b.text)}</p>")
        elif b.kind == "ul":
            body.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "table":
            head = "".join(f"<th>{e(h)}</th>" for h in b.header)
            rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in b.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif b.kind == "figure":
            body.append(
                f'<figure><img src="{e(b.text)}" alt="{e(b.items[0])}">'
                f"<figcaption>{e(b.items[0])}</figcaption></figure>"
            )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_summary(
    folder: Path, summary: pd.DataFrame, diffs: pd.DataFrame, meta: Mapping
) -> tuple[Path, Path]:
    """Write ``summary.md`` and ``summary.html`` into ``folder``; figures are linked by relative path.

    ``summary``: from ``sim.analysis.metrics.summarise_replications``; ``diffs``: from ``paired_differences``;
    ``meta``: title, policies, baseline, site, days, replications, seed,
    warnings [str], figures_count_from ("alarm" by default: the moment the arrival ECDF counts from);
    other scalar entries are listed as run settings."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    blocks = report_blocks(folder, summary, diffs, meta)
    md_path, html_path = folder / "summary.md", folder / "summary.html"
    md_path.write_text(to_markdown(blocks), encoding="utf-8")
    html_path.write_text(to_html(blocks), encoding="utf-8")
    return md_path, html_path
