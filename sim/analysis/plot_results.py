"""Figures of a comparison of policies: arrival-time ECDFs per tier, compliance with 95% CIs, incident map.

Pure functions of the metric tables (``sim.analysis.metrics``); each figure's title says what is measured
and from which moment time is counted, because "arrived within 3 minutes" means little without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from sim.analysis.metrics import THRESHOLDS_S, moment, tier_met, tier_name, tier_times, tiers_in
from sim.fonts import with_figure_fonts

POLICY_COLOURS = plt.get_cmap("tab10").colors
THRESHOLD_STYLE = {"color": "#555555", "linestyle": ":", "linewidth": 1.0}
STATUS_COLOURS = {"met": "#1a9850", "missed": "#d73027", "none": "#9e9e9e"}
X_CAP_S = 1800.0  # the ECDF's x axis stops here so a few very late arrivals do not squash the 1-3-5 region
KIND_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h")


def _tier_label(k: int, name: str) -> str:
    return f"tier {k} ({name.replace('_', ' ')})" if name else f"tier {k}"


def _save(fig, path: Path) -> Path:
    path = Path(path)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def _empty(path: Path, message: str) -> Path:
    """A figure that says why there is nothing to draw, rather than a missing file the report links to."""
    fig, ax = plt.subplots(figsize=(7, 2.5), dpi=110)
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, wrap=True)
    return _save(fig, path)


def _tier_number(table: pd.DataFrame, name: str) -> int | None:
    """The number a policy gives the tier called ``name`` (tiers are compared by name across policies)."""
    return next((k for k in tiers_in(table) if (tier_name(table, k) or str(k)) == name), None)


def _ecdf_panel(ax, tables: Mapping[str, pd.DataFrame], name: str, count_from: str) -> float:
    """One tier's ECDF per policy; returns the largest finite time drawn, to size the x axis."""
    x_max = max(THRESHOLDS_S)
    for i, (policy, table) in enumerate(tables.items()):
        k = _tier_number(table, name)
        if k is None:
            continue
        t = tier_times(table, k, count_from)["time_s"].to_numpy(dtype=float)
        if len(t) == 0:
            continue
        finite = np.sort(t[np.isfinite(t)])
        y = np.arange(1, len(finite) + 1) / len(t)  # never-arrived keep the curve below 1
        x_max = max(x_max, float(finite[-1]) if len(finite) else 0.0)
        never = len(t) - len(finite)
        ax.step(  # the last level runs on to the right edge: a plateau below 1 = never arrived
            np.r_[0.0, finite, 1e12],
            np.r_[0.0, y, y[-1] if len(y) else 0.0],
            where="post",
            color=POLICY_COLOURS[i % 10],
            linewidth=1.6,
            label=f"{policy} (n={len(t)}, never arrived {never})",
        )
    for threshold in THRESHOLDS_S:
        ax.axvline(threshold, **THRESHOLD_STYLE)
        ax.text(
            threshold,
            0.985,
            f" {threshold / 60:g} min",
            ha="left",
            va="top",
            fontsize=7,
            color="#555555",
            transform=ax.get_xaxis_transform(),
        )
    return x_max


@with_figure_fonts
def plot_arrival_ecdf(tables: Mapping[str, pd.DataFrame], path: Path, count_from: str = "alarm") -> Path:
    """One panel per tier: the share of incidents whose tier-k responder was on scene within t seconds,
    counted from ``count_from``, one curve per policy. A curve that stops below 1 = the tier never arrived
    for the rest."""
    tiers = list(dict.fromkeys(tier_name(t, k) or str(k) for t in tables.values() for k in tiers_in(t)))
    if not tiers:
        return _empty(path, "No tier targets in these runs: nothing to draw.")
    fig, axes = plt.subplots(
        1, len(tiers), figsize=(5.2 * len(tiers), 4.4), dpi=120, squeeze=False, layout="constrained"
    )
    for ax, name in zip(axes[0], tiers, strict=True):
        x_max = _ecdf_panel(ax, tables, name, count_from)
        cut = x_max > X_CAP_S
        ax.set_xlim(0, min(x_max, X_CAP_S) * 1.05)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"First {name.replace('_', ' ')} arrival", fontsize=10)
        cut_note = f" (axis cut at {X_CAP_S / 60:g} min)" if cut else ""
        ax.set_xlabel(f"seconds from {moment(count_from)}{cut_note}", fontsize=8)
        ax.set_ylabel("share of incidents aimed at this tier")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(
        f"Time to first on-scene arrival per tier, counted from {moment(count_from)}.\n"
        "Curves stopping below 1: incidents where that tier never arrived before the end of the run.",
        fontsize=11,
    )
    return _save(fig, path)


def _compliance_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """The ``tier_<name>_target_met_from_X`` rows of a replication summary, tier name and moment split out."""
    parts = summary["metric"].str.extract(r"^tier_(.+)_target_met_from_(alarm|incident|dispatch)$")
    return summary.assign(tier=parts[0], count_from=parts[1]).dropna(subset=["tier"])


def clipped_yerr(mean: np.ndarray, half: np.ndarray, low: float = 0.0, high: float = 100.0) -> np.ndarray:
    """Error bar lengths (below, above) for ``mean`` +- ``half`` cut to [low, high]: a share's CI is not drawn
    past 0 or 100%. A NaN (no CI: fewer than 2 replications, or no mean) draws no bar."""
    mean, half = np.asarray(mean, dtype=float), np.nan_to_num(np.asarray(half, dtype=float))
    known = np.isfinite(mean)
    below = np.where(known, np.clip(np.minimum(half, mean - low), 0.0, None), 0.0)
    above = np.where(known, np.clip(np.minimum(half, high - mean), 0.0, None), 0.0)
    return np.vstack([below, above])


@with_figure_fonts
def plot_compliance(summary: pd.DataFrame, path: Path, tier_order: Sequence[str] | None = None) -> Path:
    """Bars: the share of incidents whose tier-k responder arrived within the tier's own target, per tier and
    policy, mean over replications with 95% CI; one panel per moment time is counted from."""
    rows = _compliance_rows(summary)
    if rows.empty:
        return _empty(path, "No tier targets in the summary: no compliance to draw.")
    moments = [m for m in ("alarm", "incident", "dispatch") if m in set(rows["count_from"])]
    policies = list(pd.unique(rows["policy"]))
    found = list(pd.unique(rows["tier"]))
    tiers = [t for t in (tier_order or []) if t in found] + [t for t in found if t not in (tier_order or [])]
    width = 0.8 / len(policies)
    fig, axes = plt.subplots(
        1,
        len(moments),
        figsize=(max(5.5, 1.6 * len(tiers) * len(policies) ** 0.5) * len(moments), 4.6),
        dpi=120,
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    for ax, count_from in zip(axes[0], moments, strict=True):
        sub = rows[rows["count_from"] == count_from].set_index(["policy", "tier"])
        for i, policy in enumerate(policies):
            keys = [(policy, k) for k in tiers]
            mean = np.array([sub["estimate"].get(key, np.nan) for key in keys], dtype=float) * 100
            low = np.array([sub["ci95_low"].get(key, np.nan) for key in keys], dtype=float) * 100
            high = np.array([sub["ci95_high"].get(key, np.nan) for key in keys], dtype=float) * 100
            x = np.arange(len(tiers)) + (i - (len(policies) - 1) / 2) * width
            ax.bar(x, mean, width * 0.92, color=POLICY_COLOURS[i % 10], label=policy)
            yerr = np.clip(np.nan_to_num(np.vstack([mean - low, high - mean])), 0.0, None)
            ax.errorbar(x, mean, yerr=yerr, fmt="none", ecolor="black", capsize=3, linewidth=1)
            for xi, m in zip(x, mean, strict=True):
                if np.isfinite(m):
                    ax.text(xi, m + 1.5, f"{m:.0f}%", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(np.arange(len(tiers)), [t.replace("_", " ") for t in tiers], fontsize=8)
        ax.set_ylim(0, 110)
        ax.set_ylabel("% meeting the tier's target")
        ax.set_title(f"Counted from {moment(count_from)}", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="upper right")
    fig.suptitle(
        "Share of incidents whose responder of each tier was on scene within the tier's target "
        "(never arrived = missed).\nPooled over replications; bars = Wilson 95% interval.",
        fontsize=10,
    )
    return _save(fig, path)


def _status(table: pd.DataFrame, tier: int, count_from: str) -> pd.Series:
    """Per incident row: 'met', 'missed' (incl. never arrived) or 'none' (the policy set no tier-k target)."""
    met = tier_met(table, tier, count_from)
    by_incident = met.map({True: "met", False: "missed"})
    return table["incident"].map(by_incident).astype(object).fillna("none")


@with_figure_fonts
def plot_incident_map(
    table: pd.DataFrame, edges, path: Path, tier: int = 2, count_from: str = "alarm", note: str = ""
) -> Path:
    """Incidents where they happened, coloured by whether tier ``tier`` met its target counted from
    ``count_from`` (missed includes never arrived; grey = no target for that tier); marker = incident kind.
    ``edges`` is a GeoDataFrame of roads drawn faintly underneath, or None."""
    missing = [c for c in ("x_m", "y_m", "incident", "kind") if c not in table]
    if missing:
        raise ValueError(f"incident table lacks {missing}: cannot place incidents on a map")
    status = _status(table, tier, count_from)
    fig, ax = plt.subplots(figsize=(9, 8), dpi=120, layout="constrained")
    if edges is not None and len(edges):
        edges.plot(ax=ax, color="#8c8c8c", linewidth=0.4, alpha=0.5, zorder=1)
    kinds = sorted(table["kind"].fillna("unknown").unique())
    marker = {k: KIND_MARKERS[i % len(KIND_MARKERS)] for i, k in enumerate(kinds)}
    for kind in kinds:
        for state, colour in STATUS_COLOURS.items():
            sel = table["kind"].fillna("unknown").eq(kind) & status.eq(state)
            if sel.any():
                ax.scatter(
                    table.loc[sel, "x_m"],
                    table.loc[sel, "y_m"],
                    marker=marker[kind],
                    s=28,
                    color=colour,
                    edgecolor="black",
                    linewidth=0.3,
                    alpha=0.85,
                    zorder=3,
                )
    counts = status.value_counts()
    name = tier_name(table, tier)
    labels = {
        "met": "target met",
        "missed": "target missed (incl. never arrived)",
        "none": f"no tier-{tier} target",
    }
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            color="w",
            markerfacecolor=colour,
            markersize=8,
            label=f"{labels[state]} ({int(counts.get(state, 0))})",
        )
        for state, colour in STATUS_COLOURS.items()
    ]
    handles += [
        Line2D(
            [],
            [],
            marker=marker[k],
            color="w",
            markerfacecolor="white",
            markeredgecolor="black",
            markersize=7,
            label=k.replace("_", " "),
        )
        for k in kinds
    ]
    ax.legend(handles=handles, fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title(
        f"Incidents by whether the {_tier_label(tier, name)} responder arrived within its target,\n"
        f"time counted from {moment(count_from)}" + (f"\n{note}" if note else ""),
        fontsize=10,
    )
    return _save(fig, path)
