"""The tornado chart: per parameter, the verdict from its low to its high value, sorted by swing.

A pure function of the tornado table (``sim.analysis.sensitivity.tornado_table``). Shares are drawn in
percentage points. Whiskers: each end's paired 95% CI; the vertical line: the verdict at the defaults, its
CI shaded.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import Patch

from sim.analysis.metrics import metric_unit
from sim.analysis.report import describe_metric
from sim.fonts import with_figure_fonts
from sim.plotting import stamp_synthetic

LOW_COLOUR = "#4393c3"
HIGH_COLOUR = "#d6604d"
UNIT_WORD = {"share": "percentage points", "s": "seconds", "m2": "m²", "count": "count"}


def _moment(metric: str) -> str:
    """From which moment the metric counts, in words."""
    about = describe_metric(metric)
    if "counted from" in about:
        return ""
    return " (an outcome share: over the incidents of that kind, whatever the response)"


@with_figure_fonts
def tornado_figure(tornado: pd.DataFrame, meta: Mapping):
    """The figure, open (``plot_tornado`` saves it)."""
    metric = str(meta["metric"])
    unit = metric_unit(metric)
    k = 100.0 if unit == "share" else 1.0
    d = meta["default"]
    centre = float(d["mean_diff"]) * k
    n = len(tornado)
    fig, ax = plt.subplots(figsize=(8.5, 1.2 + 0.55 * max(n, 1)), dpi=120, layout="constrained")
    if math.isfinite(d["ci95_low"]):
        ax.axvspan(d["ci95_low"] * k, d["ci95_high"] * k, color="#dddddd", zorder=0, label="default 95% CI")
    if math.isfinite(centre):
        ax.axvline(centre, color="#222222", linewidth=1.2, label="verdict at the defaults", zorder=3)
    ax.axvline(0, color="#888888", linewidth=0.8, linestyle=":", zorder=1)
    labels = []
    for y, r in enumerate(tornado.to_dict("records")):
        y = n - 1 - y  # largest swing on top
        labels.append(
            (y, f"{r['parameter']}\n{r['low']:g} .. {r['high']:g} (default {r['default_value']:g})")
        )
        for side, colour, off in (("low", LOW_COLOUR, 0.16), ("high", HIGH_COLOUR, -0.16)):
            x = float(r[f"diff_at_{side}"]) * k
            if not math.isfinite(x) or not math.isfinite(centre):
                continue
            ax.barh(y + off, x - centre, left=centre, height=0.3, color=colour, alpha=0.85, zorder=2)
            lo, hi = float(r[f"{side}_ci95_low"]) * k, float(r[f"{side}_ci95_high"]) * k
            if math.isfinite(lo) and math.isfinite(hi):
                ax.errorbar(
                    x, y + off, xerr=[[x - lo], [hi - x]], fmt="none", ecolor="#222222", elinewidth=0.9,
                    capsize=2.5, zorder=4,
                )  # fmt: skip
    handles, _ = ax.get_legend_handles_labels()
    handles += [
        Patch(color=LOW_COLOUR, label="at the low value (upper bar)"),
        Patch(color=HIGH_COLOUR, label="at the high value (lower bar)"),
    ]
    ax.set_yticks([y for y, _ in labels], [t for _, t in labels], fontsize=7.5)
    ax.set_ylim(-0.7, max(n, 1) - 0.3)
    about = describe_metric(metric).removeprefix("the ")
    xlabel = (
        f"{meta['target']} minus {meta['baseline']}: difference in {about}{_moment(metric)}, "
        f"{UNIT_WORD.get(unit, unit)}; whiskers: paired 95% CI"
    )
    ax.set_xlabel(textwrap.fill(xlabel, 110), fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(handles=handles, fontsize=7, loc="best")
    runs = f"{meta['replications']} replications x {meta['days']:g} days per arm"
    ax.set_title(
        textwrap.fill(f"{meta['title']}: {runs}", 100)
        + "\none parameter at a time over its sourced range (docs/parameters.md), sorted by swing",
        fontsize=9,
    )
    if meta.get("synthetic"):
        stamp_synthetic(fig)
    return fig


@with_figure_fonts
def plot_tornado(tornado: pd.DataFrame, meta: Mapping, path: Path) -> Path:
    """``tornado_figure`` saved to ``path``."""
    fig = tornado_figure(tornado, meta)
    path = Path(path)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path
