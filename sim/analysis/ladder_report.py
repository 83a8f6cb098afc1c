"""The ladder's report, ``ladder.md`` and a self-contained ``ladder.html`` from the same blocks.

It says what was compared, each part's contribution in the configured order and its order-free share
(Shapley value), each with a paired 95% CI or a plain reason why there is none, and which incidents each
metric is about.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from sim.analysis.ladder import FEW, NO_DIFFERENCE
from sim.analysis.report import Block, describe_metric, format_value, to_html, to_markdown, warning_blocks

ORDER_NOTE = (
    "A part's contribution depends on the order the parts are added in: a part added after another that "
    "already does much of its work adds less than it would on its own (guards on site matter less once an "
    "echelon is three minutes away). The steps in this order add up exactly to the total difference "
    "between the full platform and the baseline. The Shapley value removes the dependence on the order: "
    "it is each part's step averaged over every order of adding the parts (from runs of every subset of "
    "parts), and the parts' Shapley values also add up exactly to the total."
)
READING = (
    "Every rung runs on the same incidents (common random numbers); steps are differences between two rungs "
    "on the same replication, averaged over replications, with a 95% Student-t confidence interval.",
    "Shares are in percent; their differences in percentage points, with intervals kept within what a "
    "difference of shares can be (-100 to +100 points).",
    "A replication in which a metric is undefined on some rung (no incident of that kind, or a median time "
    "that is infinite because most responders never arrived) is left out of that metric; n says how many "
    "replications remain.",
    "'n/a' means fewer than 2 replications: no interval. 'no difference on any replication' means the two "
    "rungs gave the same value on every replication: there is nothing to put an interval around.",
)


def _points(unit: str, x: float) -> str:
    """A difference in the metric's unit: shares in percentage points."""
    if not math.isfinite(x):
        return "n/a"
    if unit == "share":
        return f"{x * 100:+.1f} pts"
    digits = 0 if abs(x) >= 10 else 1
    return f"{x:+,.{digits}f}" + {"s": " s", "m2": " m²"}.get(unit, "")


def _range(unit: str, low: float, high: float) -> str:
    scale = 100 if unit == "share" else 1
    digits = 1 if unit == "share" or max(abs(low), abs(high)) < 10 else 0
    return f"{low * scale:,.{digits}f} to {high * scale:,.{digits}f}"


def step_cell(row: Mapping) -> str:
    """'-12.3 pts (95% CI -18.0 to -6.5)', or the reason there is no interval."""
    unit, note = str(row["unit"]), str(row["note"] or "")
    if int(row["n"]) == 0:
        return "n/a (no replication has it)"
    if note == NO_DIFFERENCE:
        return note
    value = _points(unit, float(row["mean"]))
    if note == FEW:
        return f"{value} (n/a: 1 replication)"
    if note:
        return f"{value} ({note})"
    return f"{value} (95% CI {_range(unit, float(row['ci95_low']), float(row['ci95_high']))})"


def _wide(table: pd.DataFrame, column: str, totals: pd.DataFrame, meta: Mapping) -> Block:
    """Metrics as rows, steps (or parts) as columns, then baseline, full platform and total."""
    parts = list(pd.unique(table[column]))
    rows = []
    for total in totals.to_dict("records"):
        metric = total["metric"]
        cells = {r[column]: step_cell(r) for r in table[table["metric"] == metric].to_dict("records")}
        rows.append(
            (
                metric,
                str(total["kind"]),
                format_value(metric, float(total["baseline_mean"])),
                *(cells.get(p, "") for p in parts),
                format_value(metric, float(total["full_mean"])),
                step_cell(total),
                str(int(total["n"])),
            )
        )
    header = (
        "metric",
        "about",
        str(meta["baseline"]),
        *(f"+{p}" if column == "step" else p for p in parts),
        "all parts",
        "total",
        "n",
    )
    return Block("table", header=header, rows=tuple(rows))


def _about(total: Mapping) -> str:
    return f"{total['metric']}: {describe_metric(total['metric'])}; about: {total['kind']}."


def _compared(meta: Mapping) -> tuple[str, ...]:
    parts = meta.get("parts", {})
    return (
        f"Baseline: {meta['baseline']}; target: {meta['target']} (the platform).",
        "Parts, in the order they are added: "
        + "; ".join(f"{p} ({parts.get(p, '')})" for p in meta["steps"])
        + ". Police tiers stay on every rung.",
        f"Ladder: {meta['order']}.",
        f"Site: {meta['site']}"
        + (" (SYNTHETIC)" if meta.get("synthetic") and "SYNTHETIC" not in meta["site"] else ""),
        f"{meta['replications']} replications x {meta['days']:g} days, seed {meta['seed']}; "
        f"{meta['rungs']} rungs run, {meta['incidents_per_rung']} incidents each (the same for every rung).",
    )


def ladder_blocks(
    contributions: pd.DataFrame, shapley: pd.DataFrame | None, totals: pd.DataFrame, meta: Mapping
) -> list[Block]:
    """The report's content, independent of its format."""
    blocks = [
        Block("h1", text=str(meta["title"])),
        Block("h2", text="What was compared"),
        Block("ul", items=_compared(meta)),
        Block("h2", text=f"Contributions in this order ({meta['order']})"),
        Block("p", text=ORDER_NOTE),
        _wide(contributions, "step", totals, meta),
        Block("figure", text="waterfall.png", items=("From the baseline through each step to all parts.",)),
    ]
    if shapley is not None:
        blocks += [
            Block("h2", text="Order-free shares (Shapley values)"),
            Block(
                "p",
                text="Each part's step averaged over every order of adding the parts; they add up to the "
                "same total as the steps above.",
            ),
            _wide(shapley, "part", totals, meta),
        ]
    else:
        blocks.append(Block("p", text="Shapley values were not computed (ladder.shapley: false)."))
    blocks += [
        Block("h2", text="What each metric is about"),
        Block("ul", items=tuple(_about(r) for r in totals.to_dict("records"))),
        Block("h2", text="How to read the numbers"),
        Block("ul", items=READING),
    ]
    return blocks + warning_blocks(meta.get("warnings"))


def write_report(
    folder: Path,
    contributions: pd.DataFrame,
    shapley: pd.DataFrame | None,
    totals: pd.DataFrame,
    meta: Mapping,
) -> tuple[Path, Path]:
    """Write ``ladder.md`` and ``ladder.html``; the figure is linked by relative path."""
    blocks = ladder_blocks(contributions, shapley, totals, meta)
    md_path, html_path = Path(folder) / "ladder.md", Path(folder) / "ladder.html"
    md_path.write_text(to_markdown(blocks), encoding="utf-8")
    html_path.write_text(to_html(blocks), encoding="utf-8")
    return md_path, html_path
