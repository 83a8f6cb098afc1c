"""Routing: unit-to-incident travel times with sim.site.routing against per-query networkx.

Workload, per site: Q incidents at random road nodes (fixed seed); for each, the travel time from every
echelon post and every police station ("units") to the incident.

* baseline (the naive way): ``nx.shortest_path_length(G, unit, incident, weight="travel_time")`` for every
  (incident, unit) pair. It is slow, so it runs on the first ``baseline_queries`` incidents and its
  per-query time is scaled to Q (the output says when it was).
* Echelon, fixed units: ``TravelTable.build(router, units)`` once (its build time is included), then
  ``table.to_node(incident)`` per incident.
* Echelon, moving units: ``router.times_to(incident)`` (one reverse Dijkstra) per incident, then a lookup
  of the units' nodes.

Answers from all three are checked equal (np.isclose) before any time is reported; a mismatch raises.
Sites are built with validation off: routing is measured, not the facility checks. ``echelon bench`` runs
it (section "routing"), and so does ``benchmarks/bench_routing.py``, which rewrites README's ``bench``
block from it (``readme_block``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

import networkx as nx
import numpy as np

from sim.bench.readme_block import paragraph, sig
from sim.config import load_config
from sim.site.build import build_site
from sim.site.routing import Router, TravelTable

WEIGHT = "travel_time"
SEED = 20251101
OUT = Path("results/bench_routing.json")
META = {
    "seed": SEED,
    "weight": WEIGHT,
    "timer": "time.perf_counter",
    "baseline": "nx.shortest_path_length per (unit, incident) pair",
    "second_baseline": "nx.single_source_dijkstra_path_length per unit, then lookups",
}


def baseline(graph: nx.MultiDiGraph, units: list[Hashable], incidents: list[Hashable]) -> np.ndarray:
    """Per-pair networkx: one Dijkstra per (incident, unit); unreachable pairs are inf."""
    out = np.empty((len(incidents), len(units)))
    for q, incident in enumerate(incidents):
        for k, unit in enumerate(units):
            try:
                out[q, k] = nx.shortest_path_length(graph, unit, incident, weight=WEIGHT)
            except nx.NetworkXNoPath:
                out[q, k] = np.inf
    return out


def networkx_table(graph: nx.MultiDiGraph, units: list[Hashable], incidents: list[Hashable]) -> np.ndarray:
    """networkx at its best, a stronger second baseline: one single-source Dijkstra per unit, then lookups."""
    tables = [nx.single_source_dijkstra_path_length(graph, unit, weight=WEIGHT) for unit in units]
    return np.array([[t.get(incident, np.inf) for t in tables] for incident in incidents])


def echelon_table(router: Router, units: list[Hashable], incidents: list[Hashable]) -> np.ndarray:
    """Fixed units: one table from all units (built here, so timed), then one column per incident."""
    table = TravelTable.build(router, units)
    return np.stack([table.to_node(incident) for incident in incidents])


def echelon_moving(router: Router, units: list[Hashable], incidents: list[Hashable]) -> np.ndarray:
    """Moving units: one reverse Dijkstra per incident, then a lookup wherever the units are."""
    where = router.index(units)
    return np.stack([router.times_to(incident)[where] for incident in incidents])


def timed(fn: Callable[[], np.ndarray], repeat: int) -> tuple[float, np.ndarray]:
    """Best wall time of ``repeat`` runs (perf_counter) and the result."""
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


class Mismatch(RuntimeError):
    """Two routing methods gave different travel times: a bug, so no time is reported."""


def check_equal(name: str, got: np.ndarray, want: np.ndarray) -> None:
    same_inf = np.array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    if not (same_inf and np.allclose(got[finite], want[finite], rtol=1e-9, atol=1e-9)):
        bad = np.argwhere(~np.isclose(got, want, rtol=1e-9, atol=1e-9) & ~(np.isinf(got) & np.isinf(want)))
        q, k = bad[0]
        raise Mismatch(
            f"{name} differs from the networkx baseline at {len(bad)} (incident, unit) pairs; "
            f"first at incident #{q}, unit #{k}: {float(got[q, k])} != {float(want[q, k])}"
        )


def bench_site(
    name: str, queries: int, baseline_queries: int, repeat: int, overrides: Sequence[str] = ()
) -> dict:
    """Every method on one shipped site (``site=name``, plus config ``overrides``), times and ratios."""
    site = build_site(load_config([f"site={name}", *overrides]), validate=False)
    graph, router = site.graph, site.router
    units = [*site.posts["node"].tolist(), *site.stations["node"].tolist()]
    rng = np.random.default_rng(SEED)
    incidents = router.nodes[rng.integers(0, router.n_nodes, size=queries)].tolist()
    sub = incidents[: min(baseline_queries, queries)]

    # Warm both libraries up (imports, first-call overheads) outside the timings.
    nx.shortest_path_length(graph, units[0], units[0], weight=WEIGHT)
    router.times_to(units[0])

    base_s, base = timed(lambda: baseline(graph, units, sub), repeat=1)
    nxtable_s, nxtable = timed(lambda: networkx_table(graph, units, incidents), repeat=1)
    table_s, table = timed(lambda: echelon_table(router, units, incidents), repeat)
    moving_s, moving = timed(lambda: echelon_moving(router, units, incidents), repeat)

    check_equal("TravelTable.to_node", table[: len(sub)], base)
    check_equal("Router.times_to", moving[: len(sub)], base)
    check_equal("Router.times_to vs TravelTable (all incidents)", moving, table)
    check_equal("TravelTable vs networkx tables (all incidents)", table, nxtable)

    scaled = base_s / len(sub) * queries
    return {
        "site": name,
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "units": len(units),
        "queries": queries,
        "baseline_queries_timed": len(sub),
        "baseline_scaled": len(sub) < queries,
        "baseline_s": scaled,
        "networkx_table_s": nxtable_s,
        "echelon_table_s": table_s,
        "echelon_moving_s": moving_s,
        "speedup_table": scaled / table_s,
        "speedup_moving": scaled / moving_s,
        "speedup_table_vs_networkx_table": nxtable_s / table_s,
        "unreachable_pairs": int(np.isinf(table).sum()),
    }


def markdown(rows: list[dict]) -> str:
    head = (
        "| site | nodes | edges | units | queries | per-query networkx s "
        "| Echelon table s (incl. build) | ratio | Echelon reverse Dijkstra s | ratio "
        "| networkx tables s | Echelon table vs networkx tables |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        star = "*" if r["baseline_scaled"] else ""
        lines.append(
            f"| {r['site']} | {r['nodes']} | {r['edges']} | {r['units']} | {r['queries']} "
            f"| {r['baseline_s']:.3f}{star} | {r['echelon_table_s']:.4f} | {r['speedup_table']:.0f}x "
            f"| {r['echelon_moving_s']:.4f} | {r['speedup_moving']:.0f}x "
            f"| {r['networkx_table_s']:.3f} | {r['speedup_table_vs_networkx_table']:.0f}x |"
        )
    notes = [
        f"* baseline timed on {r['baseline_queries_timed']} of {r['queries']} queries for {r['site']} "
        f"and scaled per query"
        for r in rows
        if r["baseline_scaled"]
    ]
    return "\n".join(lines + (["", *notes] if notes else []))


def readme_block(rows: list[dict], out: Path = OUT) -> str:
    """README's routing block, every figure in it from ``rows`` (``bench_site``'s measurements)."""
    queries = rows[0]["queries"]
    lines = [
        paragraph(
            f"Measured on a {os.cpu_count()}-core machine (`make bench`, {queries:,} incidents at random "
            f"road nodes, seed {SEED}; times from every post and station to each incident; answers checked "
            "identical before timing):"
        ),
        "",
        "| site | nodes | edges | units | per-query networkx s | Echelon table s (incl. build) | ratio "
        "| Echelon reverse Dijkstra s | ratio | networkx one-Dijkstra-per-unit tables s "
        "| Echelon table vs those |",
        "|" + "---|" * 11,
    ]
    for r in rows:
        star = "*" if r["baseline_scaled"] else ""
        lines.append(
            f"| {r['site']} | {r['nodes']:,} | {r['edges']:,} | {r['units']} | {sig(r['baseline_s'])}{star} "
            f"| {sig(r['echelon_table_s'], 2)} | {r['speedup_table']:,.0f}x "
            f"| {sig(r['echelon_moving_s'], 2)} "
            f"| {r['speedup_moving']:,.0f}x | {sig(r['networkx_table_s'], 2)} "
            f"| {r['speedup_table_vs_networkx_table']:,.0f}x |"
        )
    notes = []
    scaled = [r for r in rows if r["baseline_scaled"]]
    if scaled:
        counts = {r["baseline_queries_timed"] for r in scaled}
        timed_on = (
            f"{counts.pop():,}"
            if len(counts) == 1
            else ", ".join(f"{r['baseline_queries_timed']:,} ({r['site']})" for r in scaled)
        )
        notes.append(
            "\\* per-query networkx (`nx.shortest_path_length` for every unit-incident pair, the named "
            f"baseline) timed on the first {timed_on} of the {queries:,} incidents and scaled per query."
        )
    notes.append("The last two columns are a stronger baseline, networkx's own single-source tables.")
    if len(rows) > 1:
        small = min(rows, key=lambda r: r["nodes"])
        others = [r for r in rows if r is not small]
        big = max(others, key=lambda r: r["nodes"])
        per_call_us = small["echelon_moving_s"] / small["queries"] * 1e6
        notes.append(
            f"On the smallest network, {small['site']} ({small['nodes']:,} nodes, {small['units']} units), "
            f"the reverse Dijkstra for moving units is {small['speedup_moving']:,.0f}x per-query networkx, "
            f"against {big['speedup_moving']:,.0f}x on {big['site']} ({big['nodes']:,} nodes): a call costs "
            f"about {per_call_us:,.0f} microseconds there, and on so small a graph most of that is scipy's "
            "fixed cost per call."
        )
    notes.append(
        f"Figures vary from run to run; `{out.as_posix()}` holds the last run, and `make bench` rewrites "
        "this paragraph and table from it."
    )
    return "\n".join([*lines, "", paragraph(" ".join(notes))])
