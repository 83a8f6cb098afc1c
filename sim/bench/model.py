"""Model throughput: incidents simulated per CPU-second on the default site, every agent and the log on.

Two horizons, as `echelon run` uses the model: one replication of 3,650 days (per-incident work dominates),
and 10 replications of 30 days (the default comparison: start-up matters). CPU time is ``time.process_time``
of ``sim.experiment.run`` for one policy: the incident stream of every replication, building the agents
(once per run: later replications restart them), the runs, and turning each log into a table. The site
and its World (travel tables, watched places: built once per site and shared by every policy) are timed
apart and reported in their own column. Best of ``repeat`` runs. ``echelon bench`` runs it (section
"model"), and so does ``benchmarks/bench_model.py``, which rewrites README's ``bench-model`` block from it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim.bench.readme_block import paragraph
from sim.config import load_config
from sim.experiment import run
from sim.model.world import World
from sim.site.build import build_site

OUT = Path("results/bench_model.json")
HORIZONS = ((3650.0, 1), (30.0, 10))  # (days, replications)
TARGET = 2000.0  # incidents per CPU-second (the bar)


def best_cpu_s(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The least CPU time (``time.process_time``) of ``repeat`` calls of ``fn``, and its last result."""
    best, out = None, None
    for _ in range(repeat):
        start = time.process_time()
        out = fn()
        cpu_s = time.process_time() - start
        best = cpu_s if best is None else min(best, cpu_s)
    return best, out


def table(rows: list[dict]) -> str:
    lines = [
        "| site | policy | days x replications | incidents | events logged | CPU s "
        "| incidents per CPU-second | site's World, once, CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        flag = "" if r["incidents_per_cpu_s"] >= TARGET else f" (below {TARGET:,.0f})"
        lines.append(
            f"| {r['site']} | {r['policy']} | {r['days']:g} x {r['replications']} | {r['incidents']:,} "
            f"| {r['events']:,} | {r['cpu_s']:.3f} | {r['incidents_per_cpu_s']:,.0f}{flag} "
            f"| {r['world_cpu_s']:.3f} |"
        )
    return "\n".join(lines)


def readme_block(rows: list[dict], out: Path = OUT) -> str:
    """README's model block, every figure in it from ``rows``: the table, then what the World adds."""
    shortest = min(r["days"] * r["replications"] for r in rows)
    short = [r for r in rows if r["days"] * r["replications"] == shortest]
    with_world = ", ".join(
        f"{r['incidents'] / (r['cpu_s'] + r['world_cpu_s']):,.0f} ({r['policy']})" for r in short
    )
    below = [r for r in rows if r["incidents_per_cpu_s"] < TARGET]
    verdict = (
        f"Every row meets the bar of {TARGET:,.0f} incidents per CPU-second."
        if not below
        else f"{len(below)} of {len(rows)} rows fall below the bar of {TARGET:,.0f} incidents per CPU-second."
    )
    return (
        table(rows)
        + "\n\n"
        + paragraph(
            f"Measured on a {os.cpu_count()}-core machine. {verdict} Counting the site's World in a "
            f"single-policy run (as if nothing else shared it) gives {with_world} incidents per "
            f"CPU-second over {short[0]['days']:g} x {short[0]['replications']}; a comparison builds it "
            "once for every policy. "
            f"`make bench` rewrites this table and paragraph from `{out.as_posix()}`."
        )
    )


def measure(policies: Sequence[str], repeat: int, overrides: Sequence[str] = ()) -> list[dict]:
    """One row per horizon and policy on the default site (plus config ``overrides``)."""
    site = build_site(load_config([*overrides]))
    world_s, _ = best_cpu_s(lambda: World.build(site), repeat)
    rows = []
    for days, reps in HORIZONS:
        for policy in policies:
            cfg = load_config(
                [*overrides, f"policy={policy}", f"run.days={days}", f"run.replications={reps}"]
            )
            cpu_s, out = best_cpu_s(lambda cfg=cfg: run(cfg, site), repeat)
            cpu_s -= world_s  # run() builds the site's World once; reported in its own column
            n = sum(len(r.incidents) for r in out)
            rows.append(
                {
                    "site": site.name,
                    "policy": policy,
                    "days": days,
                    "replications": reps,
                    "incidents": n,
                    "events": sum(len(r.events) for r in out),
                    "cpu_s": cpu_s,
                    "world_cpu_s": world_s,
                    "incidents_per_cpu_s": n / cpu_s,
                }
            )
    return rows
