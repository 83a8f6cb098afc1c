"""The benchmark's one figure: a panel per measurement, each titled with what it measures, its units and
its baseline or target, drawn from the JSON record alone (``sim.bench.run``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sim.fonts import with_figure_fonts
from sim.plotting import wrap

ECHELON = "#2166ac"
BASELINE = "#b2182b"
OTHER = "#8c8c8c"
TARGET = "#1b7837"
TITLE_PT = 9.5


def _title(ax, text: str) -> None:
    ax.set_title(wrap(text, 3.9, TITLE_PT), fontsize=TITLE_PT, loc="left")


def _routing(ax, section: dict) -> None:
    rows = section["rows"]
    methods = (
        ("baseline_s", "per-query networkx (baseline)", BASELINE),
        ("networkx_table_s", "networkx tables", OTHER),
        ("echelon_moving_s", "Echelon reverse Dijkstra", "#67a9cf"),
        ("echelon_table_s", "Echelon table", ECHELON),
    )
    x = np.arange(len(rows))
    width = 0.8 / len(methods)
    for k, (key, label, colour) in enumerate(methods):
        ax.bar(x + (k - 1.5) * width, [r[key] for r in rows], width, label=label, color=colour)
    ax.set_yscale("log")
    ax.set_xticks(x, [f"{r['site']}\n{r['nodes']:,} nodes" for r in rows])
    ax.set_ylabel("seconds (log)")
    ratio = ", ".join(f"{r['speedup_table']:,.0f}x ({r['site']})" for r in rows)
    _title(
        ax,
        f"Routing: s for {rows[0]['queries']:,} incidents, times from every unit; Echelon table vs "
        f"per-query nx.shortest_path_length: {ratio}",
    )
    ax.legend(fontsize=7)


def _model(ax, section: dict) -> None:
    rows = section["rows"]
    labels = [f"{r['policy']}\n{r['days']:g} d x {r['replications']}" for r in rows]
    ax.bar(range(len(rows)), [r["incidents_per_cpu_s"] for r in rows], color=ECHELON)
    target = section["target_incidents_per_cpu_s"]
    ax.axhline(target, color=TARGET, ls="--", label=f"target: {target:,.0f} (the issue's bar)")
    ax.set_xticks(range(len(rows)), labels, fontsize=7)
    ax.set_ylabel("incidents per CPU-second")
    _title(ax, "Model throughput on the default site: incidents per CPU-second (higher is better)")
    ax.legend(fontsize=7)


def _target(ax, value: float, label: str) -> None:
    """The issue's target for the 100,000-node site, a marker where the measured line must pass under."""
    ax.plot([100_000], [value], "v", color=TARGET, ms=9, label=label)


def _setup_time(ax, section: dict) -> None:
    rows = section["rows"]
    nodes = [r["nodes"] for r in rows]
    ax.plot(nodes, [r["setup_s"] for r in rows], "o-", color=ECHELON, label="site set-up (build_site)")
    ax.plot(nodes, [r["world_s"] for r in rows], "s-", color=OTHER, label="World build")
    _target(ax, section["targets"].get("setup_s_target", 60.0), "target: 100,000 nodes in < 60 s")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("road nodes (synthetic grid)")
    ax.set_ylabel("wall seconds (log)")
    _title(ax, "Set-up time as the network grows: wall s (lower is better)")
    ax.legend(fontsize=7)


def _memory(ax, section: dict, compare: dict | None) -> None:
    rows = section["rows"]
    nodes = [r["nodes"] for r in rows]
    ax.plot(nodes, [r["setup_peak_rss_mb"] for r in rows], "o-", color=ECHELON, label="after set-up")
    ax.plot(nodes, [r["peak_rss_mb"] for r in rows], "s--", color=OTHER, label="after World and a short run")
    ax.plot(nodes, [r["import_peak_rss_mb"] for r in rows], ":", color=OTHER, label="imports alone")
    _target(ax, section["targets"].get("setup_rss_target_mb", 4096.0), "target: 100,000 nodes in < 4 GB")
    if compare:
        ax.axhline(compare["peak_rss_mb"], color=BASELINE, lw=1, label="default echelon compare")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("road nodes (synthetic grid)")
    ax.set_ylabel("peak RSS, MiB (log)")
    _title(ax, "Peak memory as the network grows: resident MiB of a fresh process (lower is better)")
    ax.legend(fontsize=7)


def _per_incident(ax, rows: list[dict], x_key: str, xlabel: str, title: str) -> None:
    x = [r[x_key] for r in rows]
    y = [r["cpu_ms_per_incident"] for r in rows]
    ax.plot(x, y, "o-", color=ECHELON, label="measured")
    ax.axhline(y[0], color=OTHER, ls="--", lw=1, label="flat: the first point's cost")
    ax.set_xscale("log")
    ax.set_ylim(0, max(y) * 1.25)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("CPU ms per incident")
    _title(ax, title)
    ax.legend(fontsize=7)


def _commands(ax, section: dict | None) -> None:
    """`make run`'s two commands, stacked, beside the 35 s before, the baseline code timed in the same minutes
    and the 1.6x target (against the baseline when it was timed)."""
    if section is None:
        ax.set_axis_off()
        return
    before = section["parameters"]["before_s"]
    ratio = section["targets"]["ratio_target_min"]
    bottom = 0.0
    for label, wall in zip(("default comparison", "stress comparison"), section["wall_s"], strict=False):
        ax.bar(["now"], [wall], bottom=bottom, label=label)
        bottom += wall
    ax.bar(["before (issue)"], [before], color="0.7")
    base = section.get("baseline", {})
    title = (
        f"`make run` (warm cache): {section['total_s']:.1f} s, {section['faster_than_before']:.2f}x faster"
    )
    judged, name = before, f"{before:g} s"
    if "speedup" in base:  # the code of the day the target was set, timed in the same minutes: judged on it
        ax.bar([f"{base['commit']}\n(same minutes)"], [base["total_s"]], color="0.45")
        judged, name = base["total_s"], base["commit"]
        ax.plot([2] * len(base["passes_wall_s"]), [sum(p) for p in base["passes_wall_s"]], "k.", markersize=4)
        title = (
            f"`make run` (warm cache): {section['total_s']:.1f} s; {base['speedup']:.2f}x faster than "
            f"{base['commit']} timed beside it (median of the passes' ratios), "
            f"{section['faster_than_before']:.2f}x than {before:g} s"
        )
    passes = section.get("passes_wall_s", [])  # each pass's total: how much the timing wandered
    ax.plot([0] * len(passes), [sum(p) for p in passes], "k.", markersize=4)
    target = judged / ratio
    ax.axhline(target, color="tab:red", linestyle="--", label=f"target: {name} / {ratio:g} = {target:.1f} s")
    ax.set_ylabel("wall seconds, median of the passes")
    ax.legend(fontsize=8)
    _title(ax, title)


def _workers(ax, section: dict | None) -> None:
    """Wall time of the same 10-run sweep on 1 and 2 workers, with the speed-up."""
    if section is None:
        ax.set_axis_off()
        return
    rows = section["rows"]
    ax.bar([f"{r['workers']} worker(s)" for r in rows], [r["wall_s"] for r in rows], color="tab:blue")
    for i, r in enumerate(rows):
        passes = r.get("passes_wall_s", [])
        top = max([r["wall_s"], *passes])
        ax.annotate(
            f"{r['speedup']:.2f}x",
            (i, top),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
        )
        ax.plot([i] * len(passes), passes, "k.", markersize=4)  # each pass: how much the timing wandered
    ceiling = section.get("ceiling", {}).get("speedup")
    if ceiling:  # the runs' work as long as it took side by side, shared evenly: what the machine left
        ax.axhline(rows[0]["wall_s"] / ceiling, color="tab:red", linestyle=":", linewidth=1)
        ax.annotate(
            f"the runs' work side by side, shared evenly: {ceiling:.2f}x",
            (0.5, rows[0]["wall_s"] / ceiling),
            xytext=(0, -3),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8,
            color="tab:red",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )
    ax.set_ylabel("wall seconds, median of the passes (lower is better)")
    command = section["parameters"]["command"]  # what each run is: its size sets the speed-up
    ax.set_xlabel(command.replace(" fleet.", "\nfleet.").replace(" hydra.", "\nhydra."), fontsize=7)
    target = section["targets"]["speedup_target_min"]
    _title(
        ax,
        f"A sweep of {rows[0]['runs']} runs (echelon sweep, joblib): speed-up against 1 worker "
        f"(target {target:g}x on 2)",
    )


@with_figure_fonts
def draw(record: dict, path: Path) -> Path:
    """The figure of a benchmark record, saved as PNG at ``path``."""
    s = record["sections"]
    fig, axes = plt.subplots(2, 4, figsize=(20, 9.5))
    _routing(axes[0, 0], s["routing"])
    _model(axes[0, 1], s["model"])
    net = s["network_growth"]
    _per_incident(
        axes[0, 2],
        s["incident_growth"]["rows"],
        "incidents",
        "incidents in one replication (default site, log)",
        "Cost as incidents grow: CPU ms per incident, echelon_135 on the default site (flat is the target; "
        f"{s['incident_growth']['targets']['per_incident_ratio_last_over_first']:.2f}x last vs first)",
    )
    _setup_time(axes[1, 0], net)
    _memory(axes[1, 1], net, s.get("compare_memory"))
    _per_incident(
        axes[1, 2],
        net["rows"],
        "nodes",
        "road nodes (synthetic grid, log)",
        f"Simulation cost as the network grows: CPU ms per incident, about "
        f"{net['parameters']['short_run_incidents']:,} incidents each (lower is better)",
    )
    _commands(axes[0, 3], s.get("make_run"))
    _workers(axes[1, 3], s.get("workers"))
    m = record["machine"]
    fig.suptitle(
        f"echelon bench: {m['cpu_count']} CPUs, Python {m['python']}, {m['date']}"
        f"{' (quick)' if record['quick'] else ''}; synthetic sites only",
        fontsize=11,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
