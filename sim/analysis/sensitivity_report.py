"""The sensitivity report, ``sensitivity.md`` and a self-contained ``sensitivity.html`` from the same blocks.

It says what was varied and from which source, the verdict at the defaults with its CI, each parameter's
verdict at its low and high values sorted by swing, which parameters can flip the verdict's sign and which
move it less than the default's own uncertainty.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from sim.analysis.ladder_report import _points, _range
from sim.analysis.metrics import metric_unit
from sim.analysis.report import Block, describe_metric, format_value, to_html, to_markdown, warning_blocks

READING = (
    "One parameter at a time is set to the low or the high end of its range; every other parameter stays "
    "at its default. Each setting (an arm) runs both policies on the same incidents (common random "
    "numbers), so its verdict is a paired difference, target minus baseline, averaged over replications "
    "with a 95% confidence interval (shares pooled over replications, in percentage points).",
    "Swing: how far apart the verdicts at the low and at the high value are. A long bar is a parameter "
    "whose uncertainty matters to the verdict; a short one could be left at its default.",
    "Can flip: at one end of its range the parameter's CI lies wholly on the other side of 0 from the "
    "default verdict: the answer to 'does the target do better?' would change.",
    "Within the default CI: neither end moves the verdict by more than half the width of the default "
    "verdict's own 95% CI, i.e. by less than chance alone does at this number of replications.",
    "Arms differ in their incidents where a parameter changes them (incident rates): their verdicts are "
    "not paired with each other, only the two policies within an arm are.",
)


def diff_text(metric: str, mean: float, low: float, high: float) -> str:
    """'+12.3 pts (95% CI 5.0 to 19.6)', or without the interval when there is none."""
    unit = metric_unit(metric)
    if not math.isfinite(mean):
        return "n/a"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{_points(unit, mean)} (no interval)"
    return f"{_points(unit, mean)} (95% CI {_range(unit, low, high)})"


def _value(x: float) -> str:
    return f"{x:g}"


def _rows(tornado: pd.DataFrame, metric: str) -> tuple[tuple[str, ...], ...]:
    unit = metric_unit(metric)
    out = []
    for r in tornado.to_dict("records"):
        out.append(
            (
                str(r["parameter"]),
                _value(r["default_value"]),
                f"{_value(r['low'])}: "
                + diff_text(metric, r["diff_at_low"], r["low_ci95_low"], r["low_ci95_high"]),
                f"{_value(r['high'])}: "
                + diff_text(metric, r["diff_at_high"], r["high_ci95_low"], r["high_ci95_high"]),
                _points(unit, r["swing"]).lstrip("+"),
                "yes" if r["can_flip"] else "no",
                "yes" if r["within_default_ci"] else "no",
            )
        )
    return tuple(out)


def sensitivity_blocks(tornado: pd.DataFrame, meta: Mapping) -> list[Block]:
    """The report's content, independent of its format."""
    metric, d = str(meta["metric"]), meta["default"]
    about = describe_metric(metric)
    default_sentence = (
        f"At the defaults, {meta['target']} minus {meta['baseline']} in {about}: "
        f"{diff_text(metric, d['mean_diff'], d['ci95_low'], d['ci95_high'])}, over {int(d['n'])} paired "
        f"replications ({meta['baseline']} {format_value(metric, d['baseline_mean'])}, {meta['target']} "
        f"{format_value(metric, d['target_mean'])})."
        + (f" Not evidence: {d['not_evidence']}." if d.get("not_evidence") else "")
    )
    flips = [str(p) for p in tornado[tornado["can_flip"]]["parameter"]] if len(tornado) else []
    small = [str(p) for p in tornado[tornado["within_default_ci"]]["parameter"]] if len(tornado) else []
    varied = tuple(
        f"{r['parameter']}: default {_value(r['default_value'])}, varied {_value(r['low'])} to "
        f"{_value(r['high'])}; source: {r['source'] or 'not given'}"
        for r in tornado.to_dict("records")
    )
    header = (
        "parameter",
        "default",
        "low: verdict",
        "high: verdict",
        "swing",
        "can flip",
        "within default CI",
    )
    blocks = [
        Block("h1", text=str(meta["title"])),
        Block("h2", text="What was varied"),
        Block(
            "p",
            text=f"The verdict: {meta['target']} minus {meta['baseline']} in {about} ({metric}). Each "
            "parameter below was set to its low and its high value, one at a time (a lognormal delay's "
            "90th percentile moves with its median, their ratio kept). Ranges and sources are those of "
            "docs/parameters.md; [S] read in a cited source, [S2] secondary, [A] assumption.",
        ),
        Block("ul", items=varied),
        Block(
            "p",
            text=f"Site: {meta['site']}{' (SYNTHETIC)' if meta.get('synthetic') else ''}; "
            f"{meta['replications']} replications x {meta['days']:g} days per arm, seed {meta['seed']}; "
            f"{meta['arms']} arms; {meta['incidents_default']} incidents per policy at the defaults.",
        ),
        Block("h2", text="The verdict at the defaults"),
        Block("p", text=default_sentence),
        Block("h2", text="What moves the verdict (sorted by swing)"),
        Block("table", header=header, rows=_rows(tornado, metric)),
        Block(
            "figure",
            text="tornado.png",
            items=(
                "Each parameter's verdict from its low to its high value; the line is the default verdict.",
            ),
        ),
        Block("h2", text="Can any parameter flip the verdict?"),
        Block(
            "p",
            text=(
                "Yes: " + ", ".join(flips) + ". At one end of its range the verdict's CI lies on the other "
                "side of 0 from the default verdict."
            )
            if flips
            else "No: no arm's CI lies wholly on the other side of 0 from the default verdict.",
        ),
        Block("h2", text="Which parameters barely move it?"),
        Block(
            "p",
            text=(
                ", ".join(small) + ": neither end moves the verdict by more than half the default CI's width."
            )
            if small
            else "None: every parameter moves the verdict by more than half the default CI's width "
            "at one end.",
        ),
        Block("h2", text="How to read the numbers"),
        Block("ul", items=READING),
    ]
    return blocks + warning_blocks(meta.get("warnings"))


def write_report(folder: Path, tornado: pd.DataFrame, meta: Mapping) -> tuple[Path, Path]:
    """Write ``sensitivity.md`` and ``sensitivity.html``; the figure is linked by relative path."""
    blocks = sensitivity_blocks(tornado, meta)
    md_path, html_path = Path(folder) / "sensitivity.md", Path(folder) / "sensitivity.html"
    md_path.write_text(to_markdown(blocks), encoding="utf-8")
    html_path.write_text(to_html(blocks), encoding="utf-8")
    return md_path, html_path
