"""The ladder's waterfall: from the baseline's value, each part's step, to the full platform's value.

A pure function of the ladder tables (``sim.analysis.ladder``). One small panel per metric; shares are drawn
in percent, so their steps read in percentage points. Whiskers are the steps' paired 95% CIs.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import FuncFormatter

from sim.analysis.ladder import NO_DIFFERENCE
from sim.analysis.report import describe_metric
from sim.fonts import with_figure_fonts
from sim.plotting import stamp_synthetic

LEVEL_COLOUR = "#8c8c8c"
UP_COLOUR = "#d6604d"  # the metric goes up (not "worse": for a calming rate up is good)
DOWN_COLOUR = "#4393c3"
COLUMNS = 4
LEGEND = (
    "grey: the baseline and all parts; blue: a step that lowers the metric, red: one that raises it; "
    "whiskers: the step's paired 95% CI; a flat black line: no difference on any replication"
)
Y_LABEL = {"share": "% (steps in percentage points)", "s": "seconds", "m2": "m²", "count": "count"}


def _scale(unit: str) -> float:
    return 100.0 if unit == "share" else 1.0


def _compact(x: float, sign: str = "") -> str:
    """2,010,619 -> '2.01M': large areas stay short enough to sit above a bar."""
    if abs(x) >= 1e6:
        return f"{x / 1e6:{sign}.2f}M"
    if abs(x) >= 1e4:
        return f"{x / 1e3:{sign}.0f}k"
    return f"{x:{sign},.0f}"


def _fmt(unit: str, x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    if unit == "share":
        return f"{x:.0f}%"
    return _compact(x) + {"s": " s", "m2": " m²"}.get(unit, "")


def _fmt_step(unit: str, x: float) -> str:
    if unit == "share":
        return f"{x:+.1f} pts"
    return _compact(x, "+") + {"s": " s", "m2": " m²"}.get(unit, "")


def _whisker(ax, x: float, low: float, high: float, ceiling: float) -> float:
    """A CI whisker kept within what the metric can be (0 to 100% for shares, >= 0 otherwise)."""
    low, high = max(low, 0.0), min(high, ceiling)
    for y in (low, high):
        ax.plot([x - 0.12, x + 0.12], [y, y], color="#222222", linewidth=1.0)
    ax.plot([x, x], [low, high], color="#222222", linewidth=1.0)
    return high


def _panel(ax, steps: pd.DataFrame, total: pd.Series, full_label: str) -> None:
    """Baseline bar, one floating bar per step (whisker = its 95% CI), full-platform bar."""
    unit = str(total["unit"])
    k = _scale(unit)
    ceiling = 100.0 if unit == "share" else math.inf
    base, full = float(total["baseline_mean"]) * k, float(total["full_mean"]) * k
    labels = [str(total["baseline_rung"]), *[f"+{s}" for s in steps["step"]], full_label]
    top = max(base, full)
    ax.bar(0, base, color=LEVEL_COLOUR, width=0.7)
    level = base
    for x, row in enumerate(steps.itertuples(), start=1):
        step = float(row.mean) * k
        ax.plot([x - 1.35, x - 0.35], [level, level], color="#555555", linewidth=0.6, linestyle=":")
        if row.note == NO_DIFFERENCE:
            ax.plot([x - 0.35, x + 0.35], [level, level], color="#333333", linewidth=1.2)
        else:
            ax.bar(x, step, bottom=level, color=UP_COLOUR if step > 0 else DOWN_COLOUR, width=0.7)
            if math.isfinite(row.ci95_low):
                high = _whisker(ax, x, level + row.ci95_low * k, level + row.ci95_high * k, ceiling)
                top = max(top, high)
        level += step
        top = max(top, level)
    end = len(steps) + 1
    ax.plot([end - 1.35, end - 0.35], [level, level], color="#555555", linewidth=0.6, linestyle=":")
    ax.bar(end, full, color=LEVEL_COLOUR, width=0.7)
    ax.set_ylim(0, top * 1.25 if top > 0 else 1)
    ax.text(0, base, _fmt(unit, base), ha="center", va="bottom", fontsize=6.5)
    no_change = total["note"] == NO_DIFFERENCE
    total_text = "no change" if no_change else _fmt_step(unit, float(total["mean"]) * k)
    ax.text(end, full, f"{_fmt(unit, full)}\n({total_text})", ha="center", va="bottom", fontsize=6.5)
    ax.set_xlim(-0.6, end + 0.8)
    ax.set_xticks(range(end + 1), labels, rotation=40, ha="right", fontsize=7)
    ax.set_ylabel(Y_LABEL.get(unit, ""), fontsize=7)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _compact(v)))
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


@with_figure_fonts
def waterfall_figure(
    contributions: pd.DataFrame,
    totals: pd.DataFrame,
    title: str,
    full_label: str = "all parts",
    synthetic: bool = False,
):
    """One panel per metric (in the order of ``totals``); a panel that has no replication says so. Returns
    the figure, open (``plot_waterfall`` saves it)."""
    metrics = list(totals["metric"])
    cols = min(COLUMNS, max(1, len(metrics)))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.3 * cols, 3.1 * rows + 0.9), dpi=120, squeeze=False, layout="constrained"
    )
    for i, (ax, (_, total)) in enumerate(zip(axes.flat, totals.iterrows(), strict=False)):
        name = str(total["metric"])
        wrapped = textwrap.fill(describe_metric(name).removeprefix("the "), 38)
        n = int(total["n"])
        ax.set_title(f"{wrapped}\n(n = {n} replication{'' if n == 1 else 's'})", fontsize=8)
        if int(total["n"]) == 0:
            ax.axis("off")
            ax.text(0.5, 0.5, "not defined on any replication\n(no such incident?)", ha="center", fontsize=8)
            continue
        _panel(ax, contributions[contributions["metric"] == name], total, full_label)
        if i + cols < len(metrics):  # the panel below shows the same rung names
            ax.tick_params(axis="x", labelbottom=False)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    fig.suptitle(title + "\n" + LEGEND, fontsize=9)
    if synthetic:
        stamp_synthetic(fig)
    return fig


@with_figure_fonts
def plot_waterfall(
    contributions: pd.DataFrame,
    totals: pd.DataFrame,
    path: Path,
    title: str,
    full_label: str = "all parts",
    synthetic: bool = False,
) -> Path:
    """``waterfall_figure`` saved to ``path``; ``synthetic`` stamps SYNTHETIC site on it."""
    fig = waterfall_figure(contributions, totals, title, full_label, synthetic)
    path = Path(path)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path
