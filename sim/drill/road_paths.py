"""Where on the roads a unit drove: shortest travel-time paths as polylines, without the roads then closed.

Why: the event log says when a unit left and arrived, not which way it went. The model drives every unit on
the shortest ``travel_time`` path (sim/site/routing.py), so the path is recomputed here, once per origin and
set of closed roads, and drawn along the edges' own geometry so a unit stays on the road it uses.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from sim.site.routing import edge_matrix
from sim.site.site import Site

Edge = tuple[int, int, int]  # (u, v, key) of the site's MultiDiGraph
NO_EDGES: frozenset[Edge] = frozenset()


@dataclass(frozen=True)
class Polyline:
    """A line with a running weight at each vertex (free-flow seconds on roads, metres in the air).

    ``nodes``: the road nodes on it with their weight, so a path can be cut at a named node."""

    xy_m: np.ndarray  # (n, 2)
    w: np.ndarray  # (n,), non-decreasing, from 0
    nodes: tuple[tuple[int, float], ...] = ()

    @classmethod
    def point(cls, xy: tuple[float, float], node: int | None = None) -> Polyline:
        return cls(np.array([xy], dtype=float), np.zeros(1), () if node is None else ((node, 0.0),))

    @classmethod
    def straight(cls, a: tuple[float, float], b: tuple[float, float]) -> Polyline:
        """A flight: weight = metres."""
        return cls(np.array([a, b], dtype=float), np.array([0.0, float(np.hypot(b[0] - a[0], b[1] - a[1]))]))

    @property
    def total(self) -> float:
        return float(self.w[-1])

    def at(self, w: np.ndarray | float) -> np.ndarray:
        """Points at these weights (clamped to the line), shape (k, 2)."""
        w = np.atleast_1d(np.asarray(w, dtype=float))
        return np.column_stack([np.interp(w, self.w, self.xy_m[:, 0]), np.interp(w, self.w, self.xy_m[:, 1])])

    def cut(self, w0: float, w1: float) -> Polyline:
        """The part between weights w0 <= w1, its weight counted from w0."""
        w0, w1 = max(0.0, w0), min(self.total, w1)
        if w1 <= w0:
            return Polyline(self.at(w0), np.zeros(1), tuple((n, 0.0) for n, w in self.nodes if w == w0))
        inner = (self.w > w0) & (self.w < w1)
        xy = np.vstack([self.at(w0), self.xy_m[inner], self.at(w1)])
        w = np.concatenate([[w0], self.w[inner], [w1]]) - w0
        return Polyline(xy, w, tuple((n, w - w0) for n, w in self.nodes if w0 <= w <= w1))

    def reversed(self) -> Polyline:
        total = self.total
        return Polyline(
            self.xy_m[::-1].copy(), total - self.w[::-1], tuple((n, total - w) for n, w in self.nodes[::-1])
        )

    def then(self, other: Polyline) -> Polyline:
        """This line, then ``other`` (which starts where this one ends)."""
        shift = self.total
        nodes = self.nodes + tuple(
            (n, w + shift) for n, w in other.nodes if (n, w + shift) not in self.nodes[-1:]
        )
        return Polyline(
            np.vstack([self.xy_m, other.xy_m[1:]]), np.concatenate([self.w, other.w[1:] + shift]), nodes
        )

    @classmethod
    def join(cls, parts: list[Polyline]) -> Polyline:
        """Lines end to end, each starting where the one before ends (a road path's edges)."""
        shifts = np.cumsum([0.0] + [p.total for p in parts[:-1]])
        xy = np.vstack([parts[0].xy_m[:1]] + [p.xy_m[1:] for p in parts])
        w = np.concatenate([[0.0]] + [p.w[1:] + s for p, s in zip(parts, shifts, strict=True)])
        nodes = list(parts[0].nodes[:1])
        for p, s in zip(parts, shifts, strict=True):
            nodes += [(n, v + s) for n, v in p.nodes[1:]]
        return cls(xy, w, tuple(nodes))

    def weight_at_node(self, node: int, after: float = 0.0) -> float | None:
        """The weight of the first visit of ``node`` at or after ``after``."""
        return next((w for n, w in self.nodes if n == node and w >= after - 1e-9), None)

    def node_after(self, w: float) -> tuple[int, float] | None:
        """The next road node ahead at weight ``w``."""
        return next(((n, v) for n, v in self.nodes if v >= w - 1e-9), None)

    def node_before(self, w: float) -> tuple[int, float] | None:
        """The last road node passed at weight ``w``."""
        return next(((n, v) for n, v in reversed(self.nodes) if v <= w + 1e-9), None)


class RoadPaths:
    """Shortest travel-time paths on a site's roads, as polylines; remembered per origin and closed roads."""

    def __init__(self, site: Site, weight: str = "travel_time") -> None:
        self.graph, self.weight = site.graph, weight
        self.nodes = site.router.nodes
        self._ids = self.nodes.tolist()  # graph node ids as Python objects, in the router's order
        self.index = {n: i for i, n in enumerate(self._ids)}
        self._matrix = {NO_EDGES: site.router.forward}
        self._trees: dict[tuple[int, frozenset[Edge]], tuple[np.ndarray, np.ndarray]] = {}
        self._edges: dict[tuple[int, int, frozenset[Edge]], Polyline] = {}

    def xy(self, node: int) -> tuple[float, float]:
        data = self.graph.nodes[node]
        return float(data["x"]), float(data["y"])

    def _tree(self, origin: int, closed: frozenset[Edge]) -> tuple[np.ndarray, np.ndarray]:
        key = (origin, closed)
        if key not in self._trees:
            matrix = self._matrix.get(closed)
            if matrix is None:
                view = nx.restricted_view(self.graph, [], list(closed))
                matrix = self._matrix[closed] = edge_matrix(view, self.nodes, self.weight)
            dist, pred = dijkstra(matrix, directed=True, indices=self.index[origin], return_predecessors=True)
            self._trees[key] = (dist, pred)
        return self._trees[key]

    def time_s(self, origin: int, destination: int, closed: frozenset[Edge] = NO_EDGES) -> float:
        """Free-flow seconds of the shortest path (inf when no road leads there)."""
        return float(self._tree(origin, closed)[0][self.index[destination]])

    def path(self, origin: int, destination: int, closed: frozenset[Edge] = NO_EDGES) -> Polyline | None:
        """The shortest path's polyline along the edges' geometry; None when no road leads there."""
        dist, pred = self._tree(origin, closed)
        j = self.index[destination]
        if not np.isfinite(dist[j]):
            return None
        chain = [j]
        while chain[-1] != self.index[origin]:
            chain.append(int(pred[chain[-1]]))
        ids = [self._ids[i] for i in reversed(chain)]
        if len(ids) == 1:
            return Polyline.point(self.xy(ids[0]), ids[0])
        return Polyline.join([self._edge(u, v, closed) for u, v in itertools.pairwise(ids)])

    def _edge(self, u: int, v: int, closed: frozenset[Edge]) -> Polyline:
        """The fastest open edge u -> v, along its geometry, its travel time spread by length."""
        key = (u, v, closed if any(e[0] == u and e[1] == v for e in closed) else NO_EDGES)
        if key in self._edges:
            return self._edges[key]
        _, data = min(
            ((k, d) for k, d in self.graph[u][v].items() if (u, v, k) not in closed),
            key=lambda kd: float(kd[1][self.weight]),
        )
        a, b = self.xy(u), self.xy(v)
        geometry = data.get("geometry")
        xy = np.asarray(geometry.coords, dtype=float)[:, :2] if geometry is not None else np.array([a, b])
        if np.hypot(*(xy[-1] - a)) < np.hypot(*(xy[0] - a)):
            xy = xy[::-1]
        xy = np.vstack([a, xy[1:-1], b])  # ends exactly on the nodes
        metres = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        seconds = float(data[self.weight])
        w = metres / metres[-1] * seconds if metres[-1] > 0 else np.linspace(0.0, seconds, len(xy))
        line = self._edges[key] = Polyline(xy, w, ((u, 0.0), (v, seconds)))
        return line


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def _edges_named(site: Site, name: str) -> list[Edge]:
    """Stand-in for ``sim.site.roads.edges_named`` (being written elsewhere): the edges whose ``name`` (a
    string or a list of them) equals ``name``, ignoring case and surrounding blanks."""
    wanted = name.strip().casefold()
    return [
        (u, v, k)
        for u, v, k, value in site.graph.edges(keys=True, data="name")
        if any(n.strip().casefold() == wanted for n in _names(value))
    ]


def road_finder() -> Callable[[Site, str], Iterable[Edge]]:
    """The project's ``edges_named`` once it exists, else the stand-in."""
    try:
        from sim.site.roads import edges_named
    except ImportError:
        return _edges_named
    return edges_named


class Closures:
    """Which edges are closed at a moment, from the log's ``inject`` events road_closed / road_reopened
    (``unit`` = the road's name)."""

    def __init__(self, changes: list[tuple[float, frozenset[Edge]]]) -> None:
        self._t = [t for t, _ in changes]
        self._closed = [c for _, c in changes]

    @classmethod
    def from_log(
        cls, events: pd.DataFrame, site: Site, find: Callable[[Site, str], Iterable[Edge]] | None = None
    ):
        find = find or road_finder()
        injects = events[
            (events["kind"] == "inject") & events["detail"].isin(["road_closed", "road_reopened"])
        ]
        shut: dict[str, frozenset[Edge]] = {}
        changes = []
        for row in injects.sort_values("t_s", kind="stable").itertuples():
            name = str(row.unit)
            if row.detail == "road_closed":
                shut[name.strip().casefold()] = frozenset(find(site, name))
            else:
                shut.pop(name.strip().casefold(), None)
            changes.append((float(row.t_s), frozenset().union(*shut.values())))
        return cls(changes)

    def at(self, t_s: float) -> frozenset[Edge]:
        """The edges closed at ``t_s`` (a closure logged at that very moment counts)."""
        k = bisect.bisect_right(self._t, t_s)
        return self._closed[k - 1] if k else NO_EDGES
