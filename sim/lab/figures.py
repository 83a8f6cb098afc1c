"""The layout study's figures: maps side by side, compliance by layout and load, the team workload, and
compliance against the number of teams. Each says what it measures and from which moment it counts."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from sim.fonts import with_figure_fonts
from sim.lab import coverage
from sim.lab.evaluate import summary
from sim.plotting import fit_map, scale_bar, stamp_synthetic, union_bounds, wrap
from sim.site.isochrones import road_edges

COMPLIANCE = "tier_echelon_target_met_from_alarm"
BAND_COLOURS = ("#1a9850", "#91cf60", "#fee08b")  # within 1, 3, 5 minutes
BEYOND = "#bdbdbd"
MARKERS = ("x", "+", "D", "v", "^", "P", "*", "s", "o", "<", ">")


def _reach_bands(study, layout, edges) -> np.ndarray:
    """Per road edge: the index of the first threshold its far end is reached within (len = beyond)."""
    reach = coverage.reach_s(study.site, layout, study.cfg)
    worst = np.maximum(reach[edges["u_idx"]], reach[edges["v_idx"]])
    thresholds = sorted(study.cfg.isochrones_s)
    return np.searchsorted(np.asarray(thresholds), worst, side="left")


def _save(fig, path: Path, synthetic: bool) -> Path:
    """Stamp a synthetic site's figure, save it whole (the stamp sits above the title) and close it."""
    if synthetic:
        stamp_synthetic(fig)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


@with_figure_fonts
def layout_maps(study, path: Path) -> Path:
    """One panel per layout: roads coloured by how soon the nearest post's team reaches them, grids, posts."""
    site, cfg = study.site, study.cfg
    edges = road_edges(site)
    layouts = study.layouts
    ncols = min(3, len(layouts))
    nrows = math.ceil(len(layouts) / ncols)
    bounds = union_bounds(*[lay.grids for lay in layouts])
    pad = 0.08 * max(bounds[2] - bounds[0], bounds[3] - bounds[1])
    bounds = (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    aspect = (bounds[3] - bounds[1]) / max(bounds[2] - bounds[0], 1.0)
    width = 5.2
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(width * ncols, (width * aspect + 0.75) * nrows + 1.4),
        squeeze=False,
        layout="constrained",
    )
    thresholds = sorted(cfg.isochrones_s)
    static = study.static.set_index(["layout", "threshold_s"])
    target = coverage.echelon_target_s(cfg)
    for ax, layout in zip(axes.flat, layouts, strict=False):
        ax.set_facecolor("#dceefa" if len(site.islands) else "white")
        if len(site.islands):
            site.islands.plot(ax=ax, color="#f4f1e8", edgecolor="#9aa7b0", linewidth=0.5, zorder=1)
        band = _reach_bands(study, layout, edges)
        colours = np.array([*BAND_COLOURS[: len(thresholds)], BEYOND], dtype=object)[
            np.minimum(band, len(thresholds))
        ]
        edges.plot(ax=ax, color=list(colours), linewidth=0.8, zorder=3)
        layout.grids.boundary.plot(ax=ax, color="#252525", linewidth=0.7, zorder=4)
        sizes = 45 + 30 * (layout.posts["echelons"].to_numpy() - 1)
        ax.scatter(
            layout.posts.geometry.x,
            layout.posts.geometry.y,
            s=sizes,
            marker="^",
            c="#2166ac",
            ec="black",
            lw=0.7,
            zorder=6,
        )
        ax.scatter(
            site.enterprises.geometry.x, site.enterprises.geometry.y, s=1.5, c="#6a3d9a", alpha=0.6, zorder=5
        )
        own = (
            static.loc[(layout.name, target), "own_risk"]
            if (layout.name, target) in static.index
            else math.nan
        )
        share = f"{own:.0%}" if math.isfinite(own) else "n/a"
        ax.set_title(
            f"{layout.name}: {len(layout.grids)} grids, {layout.n_echelons} teams\n"
            f"{share} of risk reached by its own grid's team in {target / 60:g} min",
            fontsize=9,
        )
        fit_map(ax, bounds, margin=0.0)
        scale_bar(ax, fontsize=7)
    for ax in list(axes.flat)[len(layouts) :]:
        ax.set_axis_off()
    start_s = coverage.head_start(cfg).seconds
    handles = [
        Line2D([], [], color=c, lw=2, label=f"road reached within {t / 60:g} min")
        for c, t in zip(BAND_COLOURS, thresholds, strict=False)
        if t > start_s  # no team is on the road before the head start: no such band
    ]
    handles += [
        Line2D([], [], color=BEYOND, lw=2, label="later"),
        Line2D([], [], color="#252525", lw=1, label="grid boundary"),
        Line2D([], [], marker="^", ls="", color="#2166ac", label="post (bigger: more teams)"),
        Line2D([], [], marker=".", ls="", color="#6a3d9a", label="enterprise"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    fig.suptitle(
        wrap(
            f"Grid layouts on {site.label}: how soon the nearest post's team reaches each road, "
            f"{coverage.head_start(cfg).words}; travel at emergency speed "
            f"(x{cfg.network.emergency_time_factor:g}).",
            width * ncols,
            10,
        ),
        fontsize=10,
    )
    if site.synthetic:
        stamp_synthetic(fig, maps=list(axes.flat)[: len(layouts)], banner=False)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _estimates(study, metric: str = COMPLIANCE) -> pd.DataFrame:
    parts = [summary(r) for r in study.loads]
    out = pd.concat(parts, ignore_index=True)
    return out[out["metric"] == metric]


@with_figure_fonts
def compliance_figure(study, path: Path) -> Path:
    """Per load: each layout's share of incidents whose echelon was on scene within the target, 95% CI."""
    est = _estimates(study)
    loads = [r.load for r in study.loads]
    names = [lay.name for lay in study.layouts]
    fig, axes = plt.subplots(
        1,
        len(loads),
        figsize=(4.2 * len(loads), 0.45 * len(names) + 1.8),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    target = coverage.echelon_target_s(study.cfg)
    for ax, load in zip(axes[0], loads, strict=True):
        sub = est[est["load"] == load].set_index("policy").reindex(names)
        y = np.arange(len(names))
        low = (sub["estimate"] - sub["ci95_low"]).to_numpy(dtype=float)
        high = (sub["ci95_high"] - sub["estimate"]).to_numpy(dtype=float)
        ax.errorbar(
            sub["estimate"] * 100, y, xerr=[low * 100, high * 100], fmt="o", color="#2166ac", capsize=3
        )
        if sub["estimate"].isna().all():
            ax.text(
                0.5,
                0.5,
                "no incident called\nfor an echelon",
                transform=ax.transAxes,
                ha="center",
                va="center",
            )
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        mult = next(r.rate_multiplier for r in study.loads if r.load == load)
        ax.set_title(f"load: {load} (rates x{mult:g})", fontsize=9)
        ax.set_xlabel(
            f"% of incidents with the echelon on scene\nwithin {target / 60:g} min of the alarm", fontsize=8
        )
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(
        f"Simulated 1-3-5 compliance of the echelon tier by layout ({study.cfg.lab.policy}), 95% CI; counted "
        "from the alarm",
        fontsize=10,
    )
    return _save(fig, path, study.site.synthetic)


@with_figure_fonts
def workload_figure(study, path: Path) -> Path:
    """Under the heaviest load: each team's share of time busy, per layout (one dot per grid)."""
    heaviest = max(study.loads, key=lambda r: r.rate_multiplier)
    teams = heaviest.teams
    names = [lay.name for lay in study.layouts]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(names) + 1.8), layout="constrained")
    for k, name in enumerate(names):
        busy = teams[teams["layout"] == name]["busy_share"].to_numpy(dtype=float) * 100
        jitter = np.linspace(-0.18, 0.18, len(busy)) if len(busy) > 1 else np.zeros(len(busy))
        ax.scatter(busy, k + jitter, s=10, alpha=0.6, color="#b2182b")
        if len(busy):
            ax.plot([busy.mean()] * 2, [k - 0.3, k + 0.3], color="black", lw=1.2)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(
        "% of the time a grid's team is busy (dispatched until back at its post); bar: mean", fontsize=8
    )
    ax.set_title(
        f"Team workload under load '{heaviest.load}' (rates x{heaviest.rate_multiplier:g}), mean over "
        f"{study.cfg.run.replications} replications of {study.cfg.run.days:g} days",
        fontsize=9,
    )
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path, study.site.synthetic)


@with_figure_fonts
def curve_figure(study, path: Path) -> Path:
    """Coverage and simulated compliance against the number of teams, optimised posts; layouts as points."""
    opt = study.optimisation
    table = opt.curve
    target = coverage.echelon_target_s(study.cfg)
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    ax.plot(
        table["echelons"],
        table["coverage_exact"] * 100,
        "-o",
        color="black",
        label=f"static: risk reached in {target / 60:g} min, optimal posts (MCLP, median delays)",
    )
    ax.plot(
        table["echelons"], table["coverage_greedy"] * 100, "--", color="grey", label="static: greedy posts"
    )
    colours = plt.get_cmap("tab10")
    est = _estimates(study)
    for k, result in enumerate(study.loads):
        load = result.load
        c = colours(k)
        mid = table[f"compliance_{load}"] * 100
        ax.fill_between(
            table["echelons"],
            table[f"compliance_{load}_low"] * 100,
            table[f"compliance_{load}_high"] * 100,
            color=c,
            alpha=0.2,
        )
        ax.plot(
            table["echelons"],
            mid,
            "-s",
            color=c,
            ms=4,
            label=f"simulated compliance, optimal posts, load {load} (95% CI)",
        )
        for m, lay in enumerate(study.layouts):
            row = est[(est["load"] == load) & (est["policy"] == lay.name)]
            if len(row):
                ax.scatter(
                    lay.n_echelons,
                    row["estimate"].iloc[0] * 100,
                    marker=MARKERS[m % len(MARKERS)],
                    color=c,
                    zorder=5,
                )
    ax.set_xlabel("teams (echelons)")
    ax.set_ylabel(f"within {target / 60:g} min of the alarm: % of risk (static), of incidents (simulated)")
    ax.set_ylim(0, 102)
    ax.grid(alpha=0.3)
    first = ax.legend(fontsize=7, loc="lower right")
    ax.add_artist(first)
    marks = [
        Line2D(
            [],
            [],
            marker=MARKERS[m % len(MARKERS)],
            ls="",
            color="black",
            label=f"{lay.name} ({lay.n_echelons})",
        )
        for m, lay in enumerate(study.layouts)
    ]
    ax.legend(
        handles=marks, fontsize=7, loc="upper left", title="layouts (teams), simulated", title_fontsize=7
    )
    ax.set_title(
        "How many teams: static coverage and simulated echelon compliance against the number of teams "
        "(markers: the study's layouts; colours: loads)",
        fontsize=9,
    )
    return _save(fig, path, study.site.synthetic)
