"""Figures of a comparison of policies: arrival-time ECDFs per tier, compliance with 95% CIs, a map of where
targets were met under each policy, and the bad outcomes per incident kind.

Pure functions of the metric tables (``sim.analysis.metrics``); each figure's title says what is measured
and from which moment time is counted, because "arrived within 3 minutes" means little without it. Every
``plot_*`` function saves a PNG and returns its path; the ``*_figure`` function beside it builds the same
figure and returns it (open: the caller closes it), so tests can read what was drawn.

Sizes: about 10-12 inches wide at 120 dpi (at most ~1450 px) with text of 8.5 pt or more, so that the
figure shown 1000 px wide in a report still has text of about 9 px or more.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.analysis.metrics import (
    KIND_OUTCOMES,
    RATE_NAME,
    moment,
    tier_met,
    tier_name,
    tier_times,
    tiers_in,
)
from sim.fonts import with_figure_fonts
from sim.plotting import HALO, fit_height_to_maps, fit_map, scale_bar, stamp_synthetic, union_bounds, wrap

DPI = 120
MAX_WIDTH_IN = 12.0
POLICY_COLOURS = plt.get_cmap("tab10").colors
LINE_STYLES = ("-", (0, (5, 2)), (0, (6, 2, 1.5, 2)), (0, (1.5, 1.5)), (0, (8, 2, 1.5, 2, 1.5, 2)))
TARGET_STYLE = {"color": "#222222", "linestyle": (0, (1, 1.5)), "linewidth": 1.4}
ECDF_COLUMNS = 3  # tiers side by side in the ECDF figure
X_CAP_S = 1800.0  # the ECDF's x axis stops here so a few very late arrivals do not squash the 1-3-5 region
AREA_WORDS = {"key": "key site", "centre": "industrial zone", "other": "elsewhere"}
MET_CMAP = "RdYlGn"
NO_TARGET_COLOUR = "#9e9e9e"
ROAD_COLOUR = "#c8c8c8"
POLICE_COLOUR, FIRE_COLOUR, POST_COLOUR = "#08306b", "#e31a1c", "#6a3d9a"
BAD_OUTCOMES = ("escaped", "escalated", "flashover", "uncontained", "operator_left")
OUTCOME_WORDS = {
    "escaped": "escaped",
    "escalated": "escalated",
    "flashover": "reached flashover",
    "uncontained": "not contained in time",
    "operator_left": "operator got away",
}


# ----------------------------------------------------------------------------------------------- helpers


def _save(fig, path: Path) -> Path:
    path = Path(path)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _empty_figure(message: str, synthetic: bool = False):
    """A figure that says why there is nothing to draw, rather than a missing file the report links to."""
    fig, ax = plt.subplots(figsize=(7, 2.5), dpi=DPI)
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, wrap=True)
    if synthetic:
        stamp_synthetic(fig)
    return fig


def _finish(fig, title: str, synthetic: bool, note: str = "", maps=(), fontsize: float = 11) -> None:
    """Title (what is measured, from which moment), the run's note under it, and the SYNTHETIC stamp."""
    width = fig.get_figwidth()
    text = wrap(title, width * 0.97, fontsize) + (
        f"\n{wrap(note, width * 0.97, fontsize - 1.5)}" if note else ""
    )
    fig.suptitle(text, fontsize=fontsize, x=0.01, ha="left")
    if synthetic:
        stamp_synthetic(fig, maps)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}".removesuffix(".0") + " min"


def _words(name: str) -> str:
    return str(name).replace("_", " ")


def _tier_number(table: pd.DataFrame, name: str) -> int | None:
    """The number a policy gives the tier called ``name`` (tiers are compared by name across policies)."""
    return next((k for k in tiers_in(table) if (tier_name(table, k) or str(k)) == name), None)


def _tier_names(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    return list(dict.fromkeys(tier_name(t, k) or str(k) for t in tables.values() for k in tiers_in(t)))


def _policy_style(i: int, n: int) -> dict:
    """Colour, dashes and width of policy ``i`` of ``n``: the first is drawn widest and underneath, later
    ones narrower and dashed on top, so two policies with the same curve show as one line inside another."""
    width = 1.4 + min(1.1, 3.0 / max(n - 1, 1)) * (n - 1 - i)  # at most 4.4 pt
    return {
        "color": POLICY_COLOURS[i % 10],
        "linestyle": LINE_STYLES[i % len(LINE_STYLES)],
        "linewidth": width,
        "zorder": 3 + i,
    }


def tier_targets(tables: Mapping[str, pd.DataFrame], name: str) -> list[tuple[float, str]]:
    """The targets the policies set for the tier called ``name``, one (seconds, label) per distinct target,
    from the TARGET events in the incident tables (so a figure marks what the runs used, not a default).

    One target: '3 min'. Targets set by area class (the area-class reading of 1-3-5): each labelled with
    its classes, 'key site 1 min'. Targets that differ between policies: labelled with the policies."""
    by_target: dict[float, tuple[set[str], set[str]]] = {}
    for policy, table in tables.items():
        k = _tier_number(table, name)
        if k is None:
            continue
        aimed = table[table[f"target_s_{k}"].notna()]
        areas = aimed["area_class"].fillna("") if "area_class" in aimed else pd.Series("", index=aimed.index)
        pairs = pd.DataFrame({"target": aimed[f"target_s_{k}"].astype(float), "area": areas.astype(str)})
        for target, area in pairs.drop_duplicates().itertuples(index=False):
            classes, policies = by_target.setdefault(float(target), (set(), set()))
            classes.add(area)
            policies.add(str(policy))
    if len(by_target) <= 1:
        return [(t, _minutes(t)) for t in by_target]
    classes = [c for c, _ in by_target.values()]
    by_area = all(c and "" not in c for c in classes) and not set.intersection(*classes)
    out = []
    for target, (areas, policies) in sorted(by_target.items()):
        if by_area:
            order = [a for a in AREA_WORDS if a in areas] + sorted(areas - set(AREA_WORDS))
            out.append((target, f"{', '.join(AREA_WORDS.get(a, a) for a in order)} {_minutes(target)}"))
        else:
            out.append((target, f"{_minutes(target)} ({', '.join(sorted(policies))})"))
    return out


def target_label(tables: Mapping[str, pd.DataFrame], name: str) -> str:
    """The tier's target(s) in a few words, for an axis label: '3 min', 'key site 1 min / ... 5 min'."""
    return " / ".join(label for _, label in tier_targets(tables, name))


# -------------------------------------------------------------------------------------------------- ECDF


def _times(table: pd.DataFrame, name: str, count_from: str) -> np.ndarray | None:
    k = _tier_number(table, name)
    if k is None:
        return None
    return np.sort(tier_times(table, k, count_from)["time_s"].to_numpy(dtype=float))


def _ecdf_panel(ax, tables: Mapping[str, pd.DataFrame], name: str, count_from: str) -> list[str]:
    """One tier's ECDF per policy, counted from ``count_from``; returns the panel's notes (n, identical
    curves, never arrived)."""
    drawn: dict[str, np.ndarray] = {}
    for i, (policy, table) in enumerate(tables.items()):
        t = _times(table, name, count_from)
        if t is None or len(t) == 0:
            continue
        finite = t[np.isfinite(t)]
        y = np.arange(1, len(finite) + 1) / len(t)  # never-arrived keep the curve below 1
        ax.step(  # the last level runs on to the right edge: a plateau below 1 = never arrived
            np.r_[0.0, finite, 1e9] / 60.0,
            np.r_[0.0, y, y[-1] if len(y) else 0.0],
            where="post",
            **_policy_style(i, len(tables)),
        )
        drawn[policy] = t
    if not drawn:
        return ["n = 0: no incident counted from this moment"]
    notes = []
    sizes = {len(t) for t in drawn.values()}
    if len(sizes) == 1:
        notes.append(f"n = {sizes.pop():,}")
    else:
        notes.append("n = " + ", ".join(f"{len(t):,} ({p})" for p, t in drawn.items()))
    groups: list[list[str]] = []  # policies whose curves are the same, in drawing order
    for policy, t in drawn.items():
        group = next((g for g in groups if np.array_equal(drawn[g[0]], t)), None)
        if group is None:
            groups.append([policy])
        else:
            group.append(policy)
    notes += ["same curve: " + " = ".join(g) for g in groups if len(g) > 1]
    never = {p: int(np.isinf(t).sum()) for p, t in drawn.items() if np.isinf(t).any()}
    if never:
        notes.append("never arrived: " + ", ".join(f"{p} {n}" for p, n in never.items()))
    return notes


def _target_lines(ax, targets: list[tuple[float, str]]) -> None:
    """A vertical line at each of the tier's own targets, labelled at the top (staggered when several)."""
    for j, (target_s, label) in enumerate(targets):
        ax.axvline(target_s / 60.0, **TARGET_STYLE, zorder=2)
        ax.text(
            target_s / 60.0,
            0.98 - 0.1 * j,
            f" target {label}" if len(targets) == 1 else f" {label}",
            ha="left",
            va="top",
            fontsize=8.5,
            color="#222222",
            transform=ax.get_xaxis_transform(),
            path_effects=HALO,
            zorder=9,
        )


def _x_limit_min(tables: Mapping[str, pd.DataFrame], name: str, moments: Sequence[str], targets):
    """Minutes shown on a tier's x axis, and the latest finite arrival (minutes): up to the 98th percentile
    of finite arrivals under any policy and moment (at most ``X_CAP_S``), with room past the largest
    target; so that the few very late arrivals do not squash the minutes around the targets."""
    finite = [np.zeros(1)]
    for table in tables.values():
        for count_from in moments:
            t = _times(table, name, count_from)
            if t is not None:
                finite.append(t[np.isfinite(t)])
    values = np.concatenate(finite)
    shown = min(float(np.quantile(values, 0.98)) * 1.08, X_CAP_S)
    shown = max(shown, max((s for s, _ in targets), default=60.0) * 1.4)
    return shown / 60.0, float(values.max()) / 60.0


@with_figure_fonts
def arrival_ecdf_figure(
    tables: Mapping[str, pd.DataFrame],
    count_from: str | Sequence[str] = ("alarm", "incident"),
    synthetic: bool = False,
    note: str = "",
):
    """One column per tier, one row per moment time is counted from (by default: from the alarm, then from
    the incident): the share of incidents whose tier responder was on scene within t minutes, one curve per
    policy, and a line at the tier's own target(s). A curve levelling off below 1: that tier never arrived
    for the rest."""
    moments = [count_from] if isinstance(count_from, str) else list(count_from)
    tiers = _tier_names(tables)
    if not tiers:
        return _empty_figure("No tier targets in these runs: nothing to draw.", synthetic)
    cols = min(len(tiers), ECDF_COLUMNS)  # more tiers (policies of different readings): more rows
    blocks = math.ceil(len(tiers) / cols)
    width = min(MAX_WIDTH_IN, max(6.5, 0.9 + 3.7 * cols))
    fig, axes = plt.subplots(
        blocks * len(moments),
        cols,
        figsize=(width, 0.6 + 3.1 * blocks * len(moments) + 0.9),
        dpi=DPI,
        squeeze=False,
        layout="constrained",
    )
    in_last_block = len(tiers) - (blocks - 1) * cols
    for ax in axes[-len(moments) :, in_last_block:].flat:
        ax.axis("off")
    for j, name in enumerate(tiers):
        block, c = divmod(j, cols)
        targets = tier_targets(tables, name)
        x_max, latest_min = _x_limit_min(tables, name, moments, targets)
        for r, start in enumerate(moments):
            ax = axes[block * len(moments) + r][c]
            notes = _ecdf_panel(ax, tables, name, start)
            _target_lines(ax, targets)
            cut = x_max < latest_min
            ax.set_xlim(0, x_max)
            ax.set_ylim(0, 1.02)
            title = f"{_words(name)}, from the {start} ({notes[0]})"  # notes under it: never on a curve
            ax.set_title(wrap("\n".join([title, *notes[1:]]), width / cols * 0.95, 9), fontsize=9)
            cut_note = f" (axis cut at {x_max:.0f} min)" if cut else ""
            ax.set_xlabel(f"minutes from the {start}{cut_note}", fontsize=9)
            if c == 0:
                ax.set_ylabel("share of incidents\naimed at this tier", fontsize=9)
            ax.tick_params(labelsize=8.5)
            ax.grid(alpha=0.3)
    handles = [
        Line2D(
            [], [], label=policy, **{k: v for k, v in _policy_style(i, len(tables)).items() if k != "zorder"}
        )
        for i, policy in enumerate(tables)
    ]
    handles.append(Line2D([], [], label="the tier's own target", **TARGET_STYLE))
    fig.legend(
        handles=handles, loc="outside lower center", ncol=min(len(handles), 5), fontsize=9, frameon=False
    )
    counted = " and, in the row below, from ".join(moment(m) for m in moments)
    _finish(
        fig,
        f"Time to the first on-scene arrival of each tier's responder, counted from {counted}.\n"
        "A curve below 1 at the right edge: the rest arrived later than the axis shows, or never (tables: "
        "share arrived).",
        synthetic,
        note,
    )
    return fig


@with_figure_fonts
def plot_arrival_ecdf(
    tables: Mapping[str, pd.DataFrame],
    path: Path,
    count_from: str | Sequence[str] = ("alarm", "incident"),
    synthetic: bool = False,
    note: str = "",
) -> Path:
    """``arrival_ecdf_figure`` saved to ``path``."""
    return _save(arrival_ecdf_figure(tables, count_from, synthetic, note), path)


# -------------------------------------------------------------------------------------------- compliance


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


def _bar(row: pd.Series | None) -> tuple[float, np.ndarray]:
    """A bar's height and whisker lengths (below, above) in percent from one summary row: ``estimate``,
    ``ci95_low``, ``ci95_high`` (a summary with intervals, e.g. pooled Wilson) or ``mean`` +- ``ci95_half``
    (Student t over replications), cut at 0 and 100%. NaN height when there is no row."""
    if row is None:
        return math.nan, np.zeros((2, 1))
    if "estimate" in row.index:
        mean = float(row["estimate"]) * 100
        low, high = float(row["ci95_low"]) * 100, float(row["ci95_high"]) * 100
        below = np.nan_to_num(np.clip(mean - low, 0.0, None)) if np.isfinite(low) else 0.0
        above = np.nan_to_num(np.clip(high - mean, 0.0, None)) if np.isfinite(high) else 0.0
        return mean, np.array([[below], [above]])
    mean = float(row["mean"]) * 100
    return mean, clipped_yerr([mean], [float(row["ci95_half"]) * 100])


def compliance_width_in(n_bars: int, n_tiers: int) -> float:
    """Figure width for ``n_bars`` bars in ``n_tiers`` groups: about 0.6 in a bar, within 6 and 12 in."""
    return float(np.clip(1.6 + 0.6 * n_bars + 0.4 * n_tiers, 6.0, MAX_WIDTH_IN))


def _bar_slots(
    rows: pd.DataFrame, tiers: Sequence[str], policies: Sequence[str]
) -> list[tuple[str, str, float]]:
    """(tier, policy, x) of every bar: one group per tier holding only the policies that have that tier
    (police_only has no echelon: no empty slot for it), groups one unit apart, bars 0.8 / (most bars) wide."""
    value = rows["estimate"] if "estimate" in rows else rows["mean"]
    known = rows[value.notna()]  # a policy without the tier has a row with no value
    have = set(zip(known["tier"], known["policy"], strict=True))
    widest = max(sum((t, p) in have for p in policies) for t in tiers)
    slots = []
    for g, tier in enumerate(tiers):
        mine = [p for p in policies if (tier, p) in have]
        for i, policy in enumerate(mine):
            slots.append((tier, policy, g + (i - (len(mine) - 1) / 2) * 0.8 / widest))
    return slots


@with_figure_fonts
def compliance_figure(
    summary: pd.DataFrame,
    tier_order: Sequence[str] | None = None,
    targets: Mapping[str, str] | None = None,
    synthetic: bool = False,
    note: str = "",
):
    """Bars: the share of incidents whose tier-k responder arrived within the tier's own target, per tier and
    policy, mean over replications with 95% CI; one row of bars per moment time is counted from. ``targets``
    (tier name -> '3 min') puts each tier's target under its name. A policy without a tier has no bar in
    its group."""
    rows = _compliance_rows(summary)
    if rows.empty:
        return _empty_figure("No tier targets in the summary: no compliance to draw.", synthetic)
    targets = dict(targets or {})
    moments = [m for m in ("alarm", "incident", "dispatch") if m in set(rows["count_from"])]
    policies = list(pd.unique(rows["policy"]))
    colour = {p: POLICY_COLOURS[i % 10] for i, p in enumerate(policies)}
    found = list(pd.unique(rows["tier"]))
    tiers = [t for t in (tier_order or []) if t in found] + [t for t in found if t not in (tier_order or [])]
    slots = _bar_slots(rows, tiers, policies)
    width = 0.8 / max(sum(t == k for t, _, _ in slots) for k in tiers)  # as in _bar_slots
    fig, axes = plt.subplots(
        len(moments),
        1,
        figsize=(compliance_width_in(len(slots), len(tiers)), 1.0 + 2.9 * len(moments) + 0.6),
        dpi=DPI,
        squeeze=False,
        layout="constrained",
    )
    for ax, count_from in zip(axes[:, 0], moments, strict=True):
        sub = rows[rows["count_from"] == count_from].set_index(["policy", "tier"])
        for tier, policy, x in slots:
            mean, yerr = _bar(sub.loc[(policy, tier)] if (policy, tier) in sub.index else None)
            if not np.isfinite(mean):
                continue
            ax.bar(x, mean, width * 0.9, color=colour[policy])
            ax.errorbar([x], [mean], yerr=yerr, fmt="none", ecolor="black", capsize=3, linewidth=1)
            # the value above the CI's cap, never on it
            ax.text(x, mean + yerr[1][0] + 1.5, f"{mean:.0f}%", ha="center", va="bottom", fontsize=8.5)
        labels = [_words(t) + (f"\n(target {targets[t]})" if t in targets else "") for t in tiers]
        ax.set_xticks(np.arange(len(tiers)), [wrap(lab, 2.6, 9) for lab in labels], fontsize=9)
        ax.set_xlim(-0.6, len(tiers) - 0.4)
        ax.set_ylim(0, 118)
        ax.set_yticks(range(0, 101, 20))
        ax.tick_params(axis="y", labelsize=8.5)
        ax.set_ylabel("% within the\ntier's target", fontsize=9)
        ax.set_title(f"Counted from {moment(count_from)}", fontsize=10, loc="left")
        ax.grid(axis="y", alpha=0.3)
    handles = [Patch(color=colour[p], label=p) for p in policies]
    fig.legend(
        handles=handles, loc="outside lower center", ncol=min(len(policies), 5), fontsize=9, frameon=False
    )
    drawn = rows[(rows["estimate"] if "estimate" in rows else rows["mean"]).notna()]
    how = "; ".join(sorted(set(drawn["how"].dropna()))) if "how" in rows else ""  # as the summary says
    interval = (
        f"Bars and whiskers: {how}"
        if how
        else "Mean over replications; whiskers: 95% CI (Student t), cut at 0 and 100%; none with fewer "
        "than 2 replications"
    )
    _finish(
        fig,
        "Share of incidents whose responder of each tier was on scene within that tier's own target "
        f"(never arrived = missed), counted from the alarm and from the incident.\n{interval}. "
        "A policy without a tier has no bar in its group.",
        synthetic,
        note,
    )
    return fig


@with_figure_fonts
def plot_compliance(
    summary: pd.DataFrame,
    path: Path,
    tier_order: Sequence[str] | None = None,
    targets: Mapping[str, str] | None = None,
    synthetic: bool = False,
    note: str = "",
) -> Path:
    """``compliance_figure`` saved to ``path``."""
    return _save(compliance_figure(summary, tier_order, targets, synthetic, note), path)


# ------------------------------------------------------------------------------------------- incident map


def _status(table: pd.DataFrame, tier: int, count_from: str) -> pd.Series:
    """Per incident row: 'met', 'missed' (incl. never arrived) or 'none' (the policy set no tier-k target)."""
    met = tier_met(table, tier, count_from)
    by_incident = met.map({True: "met", False: "missed"})
    return table["incident"].map(by_incident).astype(object).fillna("none")


def places(table: pd.DataFrame, tier: int, count_from: str) -> pd.DataFrame:
    """Incidents grouped by where they happened (to the metre): per place x_m, y_m, whether it is a
    watched place of illegal-drone flights, n incidents, how many met / missed the tier's target (missed
    includes never arrived) and how many had no target for that tier; ``share_met`` among met + missed."""
    status = _status(table, tier, count_from)
    frame = pd.DataFrame(
        {
            "x_m": table["x_m"].round(0),
            "y_m": table["y_m"].round(0),
            "drone": table["kind"].eq("illegal_drone").to_numpy(),
            "met": status.eq("met").to_numpy(),
            "missed": status.eq("missed").to_numpy(),
            "none": status.eq("none").to_numpy(),
        }
    )
    out = frame.groupby(["x_m", "y_m", "drone"], as_index=False).agg(
        n=("met", "size"), met=("met", "sum"), missed=("missed", "sum"), none=("none", "sum")
    )
    aimed = out["met"] + out["missed"]
    out["share_met"] = np.where(aimed > 0, out["met"] / aimed.where(aimed > 0, 1), np.nan)
    return out.sort_values("n", ascending=False, kind="stable").reset_index(drop=True)


def _marker_area(n) -> np.ndarray:
    return 6.0 + 10.0 * np.sqrt(np.asarray(n, dtype=float))


def _map_tier(table: pd.DataFrame, wanted: str | int) -> tuple[int | None, str]:
    """The tier number to map for a policy, and a note when the wanted tier is not one of its tiers (then
    its last tier, e.g. police under police_only)."""
    if isinstance(wanted, int):
        return (wanted if wanted in tiers_in(table) else None), ""
    k = _tier_number(table, wanted)
    if k is not None or not tiers_in(table):
        return k, ""
    k = tiers_in(table)[-1]
    return k, f"no {_words(wanted)} tier: {_words(tier_name(table, k) or k)} shown"


def _facilities(ax, facilities: Mapping[str, object], with_posts: bool) -> None:
    styles = {
        "police station": {"marker": "s", "s": 70, "color": POLICE_COLOUR, "zorder": 8},
        "fire station": {"marker": "P", "s": 90, "color": FIRE_COLOUR, "zorder": 8},
        "echelon post": {"marker": "^", "s": 26, "color": POST_COLOUR, "zorder": 4},  # under incidents
    }
    for role, frame in facilities.items():
        if frame is None or not len(frame) or (role == "echelon post" and not with_posts):
            continue
        ax.scatter(
            frame.geometry.x, frame.geometry.y, edgecolor="white", linewidth=0.7, **styles.get(role, {})
        )


def road_segments(edges) -> list[np.ndarray]:
    """The roads of ``edges`` as the x, y vertex arrays of their lines, in the order and direction
    GeoPandas' ``plot`` draws them (normalised lines, multi-part lines split, empty ones left out).

    Why: a map figure draws the same roads in every panel; converting the shapes once, vectorised, instead
    of once per panel shape by shape, was most of the cost of drawing them."""
    import shapely

    geoms = shapely.get_parts(shapely.normalize(np.asarray(edges.geometry.values)))
    geoms = geoms[~shapely.is_empty(geoms)]
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    starts = np.searchsorted(index, np.arange(1, len(geoms)))
    return np.split(coords, starts) if len(geoms) else []


def _roads(ax, segments: list[np.ndarray]) -> None:
    """Roads in light grey under everything, as ``GeoDataFrame.plot(color=..., linewidth=0.5)`` drew them."""
    ax.add_collection(LineCollection(segments, color=ROAD_COLOUR, linewidth=0.5, zorder=1), autolim=True)
    ax.autoscale_view()
    # GeoPandas drew the whole figure here (``draw_idle``); constrained layout carries state from one run to
    # the next, so laying it out here as well keeps every figure's layout, and its PNG, exactly as before.
    ax.figure.draw_without_rendering()


def _map_panel(ax, table, k, count_from, roads, facilities, with_posts, bounds, n_labels=6) -> dict:
    """Roads (``road_segments``), facilities and the incident places of one policy; returns counts for the
    panel's title."""
    if roads:
        _roads(ax, roads)
    fit_map(ax, bounds)
    _facilities(ax, facilities, with_posts)
    if k is None:
        return {"met": 0, "aimed": 0, "n": len(table), "most": 0}
    spots = places(table, k, count_from)
    cmap = plt.get_cmap(MET_CMAP)
    colours = [NO_TARGET_COLOUR if not np.isfinite(s) else cmap(s) for s in spots["share_met"]]
    for drone, marker in ((False, "o"), (True, "D")):
        sel = (spots["drone"] == drone).to_numpy()
        if sel.any():
            ax.scatter(
                spots.loc[sel, "x_m"],
                spots.loc[sel, "y_m"],
                s=_marker_area(spots.loc[sel, "n"]),
                c=[c for c, keep in zip(colours, sel, strict=True) if keep],
                marker=marker,
                edgecolor="#222222",
                linewidth=0.4,
                alpha=0.9,
                zorder=5,
            )
    threshold = max(10, int(spots["n"].iloc[min(n_labels, len(spots)) - 1]) if len(spots) else 10)
    for row in spots[spots["n"] >= threshold].head(n_labels).itertuples():
        ax.annotate(
            f"{row.n:,}",
            (row.x_m, row.y_m),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=8.5,
            weight="bold",
            path_effects=HALO,
            zorder=12,
            annotation_clip=True,
        )
    aimed = int((spots["met"] + spots["missed"]).sum())
    most = int(spots["n"].max()) if len(spots) else 0
    return {"met": int(spots["met"].sum()), "aimed": aimed, "n": len(table), "most": most}


def _grid(n: int) -> tuple[int, int]:
    """Rows and columns of panels: one row up to 3 policies, 2 x 2 for 4, rows of 3 beyond."""
    if n <= 3:
        return 1, n
    if n == 4:
        return 2, 2
    return math.ceil(n / 3), 3


@with_figure_fonts
def incident_map_figure(
    tables: Mapping[str, pd.DataFrame] | pd.DataFrame,
    edges=None,
    tier: str | int | Mapping[str, str | int] = "echelon",
    count_from: str = "alarm",
    note: str = "",
    facilities: Mapping[str, object] | None = None,
    synthetic: bool = False,
    baseline: str | None = None,
    posts_used_by: Collection[str] | None = None,
):
    """One map per policy (the baseline first): incidents where they happened, grouped by place (marker area
    ~ number of incidents there, the largest counts written), coloured by the share whose responder of
    ``tier`` (a tier name, a tier number, or one per policy) arrived within the tier's own target counted
    from ``count_from``: red none, green all; grey = no target for that tier. Diamonds: the watched places
    of illegal-drone flights. ``edges`` (roads, drawn light grey) and ``facilities`` (role -> GeoDataFrame:
    'police station', 'fire station', 'echelon post'; posts only on the maps of ``posts_used_by``) are in
    the same projected CRS, metres; the axes show no coordinates, a scale bar instead."""
    if isinstance(tables, pd.DataFrame):
        tables = {"": tables}
    for table in tables.values():
        missing = [c for c in ("x_m", "y_m", "incident", "kind") if c not in table]
        if missing:
            raise ValueError(f"incident table lacks {missing}: cannot place incidents on a map")
    order = ([baseline] if baseline in tables else []) + [p for p in tables if p != baseline]
    facilities = dict(facilities or {})
    points = [pd.DataFrame({"x": t["x_m"], "y": t["y_m"]}).dropna() for t in tables.values() if len(t)]
    xy = pd.concat(points) if points else pd.DataFrame({"x": [], "y": []})
    box = (xy["x"].min(), xy["y"].min(), xy["x"].max(), xy["y"].max()) if len(xy) else (0, 0, 1, 1)
    layers = union_bounds(edges, *facilities.values()) if edges is not None or facilities else box
    bounds = (min(box[0], layers[0]), min(box[1], layers[1]), max(box[2], layers[2]), max(box[3], layers[3]))
    aspect = float(np.clip((bounds[3] - bounds[1]) / max(bounds[2] - bounds[0], 1.0), 0.4, 2.0))
    roads = road_segments(edges) if edges is not None and len(edges) else []
    rows, cols = _grid(len(order))
    width = MAX_WIDTH_IN if cols > 1 else 8.0
    panel_w = (width - 0.3) / cols
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(width, rows * (panel_w * aspect + 0.55) + 2.3),
        dpi=DPI,
        squeeze=False,
        layout="constrained",
    )
    most = 1
    for ax, policy in zip(axes.flat, order, strict=False):
        table = tables[policy]
        wanted = tier.get(policy, "echelon") if isinstance(tier, Mapping) else tier
        k, fallback = _map_tier(table, wanted)
        with_posts = posts_used_by is None or policy in posts_used_by
        counts = _map_panel(ax, table, k, count_from, roads, facilities, with_posts, bounds)
        most = max(most, counts["most"])
        name = (tier_name(table, k) or str(k)) if k is not None else str(wanted)
        target = target_label({policy: table}, name) if k is not None else "none"
        share = f"{counts['met'] / counts['aimed']:.0%}" if counts["aimed"] else "n/a"
        head = f"{policy}{' (baseline)' if policy == baseline else ''}"
        lines = [head, f"{_words(name)} within {target}: {counts['met']:,} of {counts['aimed']:,} ({share})"]
        if fallback:
            lines.append(f"({fallback})")
        ax.set_title("\n".join(lines), fontsize=9.5)
        scale_bar(ax, fontsize=8.5)
    for ax in list(axes.flat)[len(order) :]:
        ax.axis("off")
    mappable = plt.cm.ScalarMappable(norm=Normalize(0, 100), cmap=MET_CMAP)
    bar = fig.colorbar(mappable, ax=axes, location="bottom", shrink=0.45, aspect=30, pad=0.01, fraction=0.04)
    bar.set_label(
        f"% of the incidents at a place whose responder arrived within the tier's target, counted from the "
        f"{count_from} (one incident: red = missed, green = met)",
        fontsize=8.5,
    )
    bar.ax.tick_params(labelsize=8.5)
    sizes = [v for v in (1, 10, 100, 1000) if v <= most][-3:]
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=math.sqrt(_marker_area(v)),
            markerfacecolor="white",
            markeredgecolor="#222222",
            label=f"{v:,} incident{'s' if v > 1 else ''} at a place",
        )
        for v in sizes
    ]
    handles += [
        Line2D(
            [],
            [],
            marker="D",
            linestyle="",
            markersize=7,
            markerfacecolor="white",
            markeredgecolor="#222222",
            label="watched place (illegal drone flights)",
        ),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=7,
            markerfacecolor=NO_TARGET_COLOUR,
            markeredgecolor="#222222",
            label="no target for that tier",
        ),
        Line2D([], [], marker="s", linestyle="", markersize=8, color=POLICE_COLOUR, label="police station"),
        Line2D([], [], marker="P", linestyle="", markersize=9, color=FIRE_COLOUR, label="fire station"),
        Line2D([], [], marker="^", linestyle="", markersize=6, color=POST_COLOUR, label="echelon post"),
        Line2D([], [], color=ROAD_COLOUR, linewidth=1.5, label="road"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=5, fontsize=8.5, frameon=False)
    _finish(
        fig,
        "Where each policy's responders met their target: incidents by place, coloured by the share whose "
        "responder of the tier named above the map arrived within that tier's own target, counted from "
        f"{moment(count_from)}. Marker area ~ incidents at the place; large counts written.",
        synthetic,
        note,
        maps=list(axes.flat)[: len(order)],
    )
    fit_height_to_maps(fig, list(axes.flat)[: len(order)])
    return fig


@with_figure_fonts
def plot_incident_map(
    tables: Mapping[str, pd.DataFrame] | pd.DataFrame, edges, path: Path, *args, **kwargs
) -> Path:
    """``incident_map_figure(tables, edges, ...)`` saved to ``path``; the other arguments are its own."""
    return _save(incident_map_figure(tables, edges, *args, **kwargs), path)


# ---------------------------------------------------------------------------------------- bad outcomes


def bad_outcome(kind: str) -> str | None:
    """The outcome of an incident kind that counts as bad (escaped, escalated, flashover, ...)."""
    return next((o for o in KIND_OUTCOMES.get(kind, ()) if o in BAD_OUTCOMES), None)


OUTCOME_COLUMNS = ["policy", "kind", "metric", "mean", "low", "high", "n"]


def outcome_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per policy and incident kind, the share of incidents with the kind's bad outcome, for
    ``plot_outcomes_by_kind``: columns policy, kind, metric, mean, low, high, n, outcome, interval.

    Taken from the replication summary (``metrics.summarise_replications``), so the figure and the report
    quote one number per label: a share pooled over every replication's incidents of the kind that had an
    outcome (n of them) with its Wilson interval, when the summary had the counts; else the summary's
    mean over replications and its Student-t interval."""
    out = []
    for kind in KIND_OUTCOMES:
        outcome = bad_outcome(kind)
        metric = f"{RATE_NAME[outcome]}_{kind}"
        for r in summary[summary["metric"] == metric].itertuples():
            if not np.isfinite(r.estimate):
                continue
            pooled = str(r.how).startswith("pooled")
            out.append(
                {
                    "policy": r.policy,
                    "kind": kind,
                    "metric": metric,
                    "mean": float(r.estimate),
                    "low": float(r.ci95_low),
                    "high": float(r.ci95_high),
                    "n": float(r.n_counted) if pooled and not pd.isna(r.n_counted) else math.nan,
                    "outcome": outcome,
                    "interval": "wilson_pooled" if pooled else "student_t_replications",
                }
            )
    return pd.DataFrame(out, columns=[*OUTCOME_COLUMNS, "outcome", "interval"])


INTERVAL_WORDS = {
    "wilson_pooled": "95% Wilson interval on the incidents of all replications pooled",
    "student_t_replications": "95% CI of the mean over replications (Student t), cut at 0 and 100%",
}


def _interval_words(table: pd.DataFrame) -> str:
    methods = set(table["interval"].dropna()) if "interval" in table else set()
    if len(methods) == 1:
        method = methods.pop()
        return INTERVAL_WORDS.get(method, method)
    return "95% interval (low to high)"


def _outcome_of(metric: str) -> str:
    """'escape_rate_theft' -> 'escaped' (the rate's outcome), '' if unknown."""
    return next((o for o, rate in RATE_NAME.items() if metric.startswith(rate + "_")), "")


@with_figure_fonts
def outcomes_by_kind_figure(table: pd.DataFrame, synthetic: bool = False, note: str = ""):
    """One group of bars per incident kind: the share of its incidents that ended badly (escaped,
    escalated, flashover, leak not contained, drone operator got away) under each policy, with the table's
    interval (``low`` to ``high``) as whiskers. ``table``: policy, kind, metric, mean, low, high (shares
    0..1) and n (incidents of the kind that had an outcome)."""
    missing = [c for c in OUTCOME_COLUMNS if c not in table]
    if missing:
        raise ValueError(f"outcome table lacks {missing}")
    if table.empty:
        return _empty_figure("No incident with an outcome in these runs: nothing to draw.", synthetic)
    policies = list(pd.unique(table["policy"]))
    known = [k for k in KIND_OUTCOMES if k in set(table["kind"])]
    kinds = known + [k for k in pd.unique(table["kind"]) if k not in known]
    gap = 0.9
    height = 1.6 + len(kinds) * (0.23 * len(policies) + 0.28)
    fig, ax = plt.subplots(figsize=(10.0, height), dpi=DPI, layout="constrained")
    centres, labels = [], []
    top = 0.0
    for g, kind in enumerate(kinds):
        rows = table[table["kind"] == kind].set_index("policy")
        base = g * (len(policies) + gap)
        for i, policy in enumerate(policies):
            y = base + i
            if policy not in rows.index:
                ax.text(1, y, "no such incident", va="center", fontsize=8, color="#777777")
                continue
            row = rows.loc[policy]
            mean, low, high = (float(row[c]) * 100 for c in ("mean", "low", "high"))
            ax.barh(y, mean, height=0.8, color=POLICY_COLOURS[i % 10], label=policy if g == 0 else None)
            if np.isfinite(low) and np.isfinite(high):
                ax.errorbar(
                    mean,
                    y,
                    xerr=[[max(mean - low, 0)], [max(high - mean, 0)]],
                    fmt="none",
                    ecolor="black",
                    capsize=2.5,
                    linewidth=1,
                )
            right = high if np.isfinite(high) else mean
            ax.text(right + 1.2, y, f"{mean:.0f}%", va="center", fontsize=8.5)
            top = max(top, right)
        if g:
            ax.axhline(base - (gap + 1) / 2, color="#bbbbbb", linewidth=0.6)
        sub = table[table["kind"] == kind]
        ns = sorted({int(n) for n in sub["n"] if pd.notna(n)})
        n_text = "" if not ns else f"n = {ns[0]:,}" if len(ns) == 1 else f"n = {ns[0]:,}-{ns[-1]:,}"
        outcome = str(sub["outcome"].iloc[0]) if "outcome" in sub else _outcome_of(str(sub["metric"].iloc[0]))
        words = f"{_words(kind)}:\n{OUTCOME_WORDS.get(outcome, _words(outcome))}"
        centres.append(base + (len(policies) - 1) / 2)
        labels.append(words + (f"\n({n_text})" if n_text else ""))
    ax.set_yticks(centres, labels, fontsize=9)
    ax.set_ylim(len(kinds) * (len(policies) + gap) - gap - 0.4, -0.6)  # top to bottom, no blank band
    ax.set_xlim(0, min(115.0, max(top, 10.0) + 12.0))
    ax.set_xlabel("% of the kind's incidents with that outcome (lower is better)", fontsize=9)
    ax.tick_params(axis="x", labelsize=8.5)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    fig.legend(loc="outside lower center", ncol=min(len(policies), 5), fontsize=9, frameon=False)
    _finish(
        fig,
        "Does it help? The share of incidents that ended badly, per incident kind and policy, among the "
        "kind's incidents that had an outcome by the end of the run (n: how many). Outcomes follow from who "
        f"was on scene and when, counted from the incident. Whiskers: {_interval_words(table)}.",
        synthetic,
        note,
    )
    return fig


@with_figure_fonts
def plot_outcomes_by_kind(table: pd.DataFrame, path: Path, synthetic: bool = False, note: str = "") -> Path:
    """``outcomes_by_kind_figure`` saved to ``path``."""
    return _save(outcomes_by_kind_figure(table, synthetic, note), path)
