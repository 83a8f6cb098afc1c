"""The bridges of a site's road network, and which of them cross water.

Why this matters: the drone control centre watches cross-sea bridges for illegal flights (sim/model/world.py).
OSM tags every road overpass, railway crossing and elevated expressway ``bridge=yes`` too; a city extract has
dozens of them, and Chinese elevated roads run for kilometres, so neither the tag nor the length alone tells
a cross-sea bridge. A bridge here is one connected run of bridge edges (the carriageways of one named bridge
taken together), and it crosses water when it meets mapped water (an area, the coastline, a river) or joins
a mapped island to other land.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import networkx as nx
from shapely.geometry import LineString, Point
from shapely.ops import unary_union

from sim.site.site import Site

SAME_BRIDGE_M = 100.0  # the carriageways of one bridge lie closer than this
MIN_WATCHED_BRIDGE_M = 300.0  # cross-water bridges shorter than this are local bridges, not cross-sea links


@dataclass(frozen=True)
class Bridge:
    """One bridge: its name (or 'bridge <node>-<node>'), length, midpoint, and whether it crosses water."""

    name: str
    length_m: float
    point: Point
    crosses_water: bool


def _first(value):
    return value[0] if isinstance(value, list) else value


def _bridge_runs(site: Site) -> list[tuple[str, list[LineString], list[Point]]]:
    """Connected runs of bridge edges: (name, lines, ends). Both directions of a road lie on one line; the
    ends are the run's nodes with one bridge neighbour (all its nodes if the run is a loop)."""
    graph = site.graph
    runs = nx.Graph()
    for u, v, data in graph.edges(data=True):
        if _first(data.get("bridge")) != "yes":
            continue
        line = data.get("geometry") or LineString(
            [(graph.nodes[u]["x"], graph.nodes[u]["y"]), (graph.nodes[v]["x"], graph.nodes[v]["y"])]
        )
        runs.add_edge(u, v)
        runs[u][v].setdefault("lines", []).append(line)
        runs[u][v].setdefault("names", []).append(_first(data.get("name")) or "")
    out = []
    for nodes in nx.connected_components(runs):
        run = runs.subgraph(nodes)
        lines = [line for *_, d in run.edges(data=True) for line in d["lines"]]
        names = sorted({n for *_, d in run.edges(data=True) for n in d["names"] if n})
        ends = [n for n in nodes if run.degree(n) == 1] or list(nodes)
        points = [Point(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in ends]
        out.append((names[0] if names else f"bridge {min(nodes)}-{max(nodes)}", lines, points))
    return out


def _crosses_water(line, ends: list[Point], water: gpd.GeoDataFrame, islands: gpd.GeoDataFrame) -> bool:
    """Whether a bridge meets mapped water, or joins a mapped island to other land (its ends lie on
    different islands, or one on an island and one off every island)."""
    if len(water) and water.sindex.query(line, predicate="intersects").size:
        return True
    if not len(islands):
        return False
    on = {
        int(hits[0]) if hits.size else -1
        for hits in (islands.sindex.query(end, predicate="within") for end in ends)
    }
    return len(on) > 1


def _same_bridge(kept: Bridge, other: Bridge) -> bool:
    """Whether a run of bridge edges is another carriageway of a (longer) bridge of the same name."""
    return kept.point.distance(other.point) <= max(SAME_BRIDGE_M, kept.length_m / 2)


def bridges(site: Site) -> list[Bridge]:
    """Every bridge of the site, sorted by name; carriageways of one named bridge counted once."""
    water, islands = site.water_or_empty, site.islands
    pieces = []
    for name, lines, ends in _bridge_runs(site):
        merged = unary_union(lines)  # both directions of a two-way bridge lie on one line: count it once
        wet = _crosses_water(merged, ends, water, islands)
        pieces.append(Bridge(name, float(merged.length), merged.interpolate(0.5, normalized=True), wet))
    out: list[tuple[str, Bridge]] = []  # (name in the data, bridge as listed)
    for piece in sorted(pieces, key=lambda b: (b.name, -b.length_m)):
        namesakes = [i for i, (name, _) in enumerate(out) if name == piece.name]
        near = [i for i in namesakes if _same_bridge(out[i][1], piece)]
        if near:  # another carriageway of a bridge already listed: the longest stands for both
            kept = out[near[0]][1]
            out[near[0]] = (
                piece.name,
                replace(kept, crosses_water=kept.crosses_water or piece.crosses_water),
            )
        else:
            listed = replace(piece, name=f"{piece.name} ({len(namesakes) + 1})") if namesakes else piece
            out.append((piece.name, listed))
    return [bridge for _, bridge in out]
