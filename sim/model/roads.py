"""The roads as they are in one run now: travel tables of the network with some edges closed, and the
drives of units on it.

Why a model-held object: a World is shared by every model on a site and never changes, while a drill
closes a bridge in one run only. The open network reuses the World's own tables and from-node cache (no
cost, the very same numbers); a closure builds a router without those edges and recomputes the base tables,
one Dijkstra call each way from all bases (50-100 ms on the default site, half of it the router).

A unit's drive is resolved to road nodes only when a road changes: runs without closures never pay for a
path (agents/responder.py re-routes).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.model.world import UnitBases, World
from sim.site.roads import Edge
from sim.site.routing import Router

if TYPE_CHECKING:
    from sim.model.case import Case

MAX_LIMIT_S = 1e5  # a bounded search reaching further than this searches the whole network, kept whole
Way = list[tuple[int, float]]  # (router node index, simulated time the unit reaches it), in driving order


@dataclass(frozen=True)
class Roads:
    """Travel on the network with the ``closed`` edges removed; ``bases`` as World.bases (same rows)."""

    closed: frozenset[Edge]
    router: Router
    bases: UnitBases
    _from_node: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _near_node: dict[int, tuple[float, np.ndarray]] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, world: World) -> Roads:
        """Every road open: the World's tables and its from-node cache, shared, not copied."""
        return cls(frozenset(), world.site.router, world.bases, world._from_node)

    @classmethod
    def without(cls, world: World, closed: frozenset[Edge]) -> Roads:
        """The network without the ``closed`` edges (the open one when none is closed)."""
        if not closed:
            return cls.open(world)
        router = Router.from_graph(world.site.graph, closed=closed)
        row = world.bases.row
        bases = sorted(row, key=row.__getitem__)
        empty = np.empty((0, router.n_nodes))
        out = router.times_from(bases) if bases else empty
        back = router.times_to_many(bases) if bases else empty
        return cls(closed, router, UnitBases(row, out, back))

    def times_from_node_s(self, node_idx: int) -> np.ndarray:
        """Seconds from one road node (router index) to every node; remembered, as in World."""
        row = self._from_node.get(node_idx)
        if row is None:
            row = self.router.times_from([self.router.nodes[node_idx]])[0]
            self._from_node[node_idx] = row
        return row

    def time_from_node_within_s(self, origin_idx: int, node_idx: int, limit_s: float) -> float:
        """Seconds from one road node to another (router indices) if at most ``limit_s``: then the very
        number of ``times_from_node_s``; beyond it, that number or inf. Remembered per origin, a search
        widened (at least x4) when a later question reaches further.

        Why: a unit on its way home is timed from the scene it left to every new incident, and only a time
        that could beat driving on home matters; a search over the whole network per scene made CPU per
        incident grow with the network. A node within the bound gets the time an unbounded search gives it
        (see Router.times_to_targets).
        """
        full = self._from_node.get(origin_idx)
        if full is not None:
            return float(full[node_idx])
        near = self._near_node.get(origin_idx)
        if near is None or near[0] < limit_s:
            bound_s = limit_s if near is None else max(limit_s, 4.0 * near[0])
            if bound_s > MAX_LIMIT_S:
                return float(self.times_from_node_s(origin_idx)[node_idx])
            row = dijkstra(self.router.forward, directed=True, indices=origin_idx, limit=bound_s)
            near = (bound_s, row)
            self._near_node[origin_idx] = near
        return float(near[1][node_idx])

    def edge_s(self, a: int, b: int) -> float:
        """Seconds of the fastest open edge a -> b (router indices); inf when there is none."""
        m = self.router.forward
        lo, hi = m.indptr[a], m.indptr[a + 1]
        hit = np.flatnonzero(m.indices[lo:hi] == b)
        return float(m.data[lo + hit[0]]) if len(hit) else np.inf

    def path(self, origin_idx: int, dest_idx: int) -> tuple[list[int], np.ndarray]:
        """The shortest path (router indices, origin first) and the seconds from the origin to each of its
        nodes; ([], empty) when the destination cannot be reached."""
        dist, pred = dijkstra(
            self.router.forward, directed=True, indices=origin_idx, return_predecessors=True
        )
        if not np.isfinite(dist[dest_idx]):
            return [], np.empty(0)
        nodes = [dest_idx]
        while nodes[-1] != origin_idx:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        return nodes, dist[nodes]

    def way(self, origin_idx: int, dest_idx: int, start_s: float, factor: float) -> Way:
        """The shortest drive origin -> dest leaving at ``start_s``, times scaled by ``factor``."""
        nodes, cum_s = self.path(origin_idx, dest_idx)
        return [(n, start_s + float(c) * factor) for n, c in zip(nodes, cum_s, strict=True)]


class Drive:
    """A unit on the road: where to (``dest``), at what speed (``factor`` times free-flow: the emergency
    factor to a scene, 1 home), for which incident and tier, and its way, built on first use."""

    __slots__ = ("_make", "_way", "case", "dest", "factor", "tier")

    def __init__(self, make: Callable[[], Way], dest: int, factor: float, case: Case, tier: int) -> None:
        self._make: Callable[[], Way] | None = make
        self._way: Way | None = None
        self.dest, self.factor, self.case, self.tier = dest, factor, case, tier

    @classmethod
    def known(cls, way: Way, dest: int, factor: float, case: Case, tier: int) -> Drive:
        """A drive whose way is already known (after a re-route)."""
        drive = cls(list, dest, factor, case, tier)
        drive._way, drive._make = way, None
        return drive

    @property
    def way(self) -> Way:
        if self._way is None:
            assert self._make is not None
            self._way, self._make = self._make(), None  # drop the closure: it holds the old roads
        return self._way


class Turn(NamedTuple):
    """Where a re-routed unit leaves its old route: the node ending the edge it is on (``at``, router
    index), when it gets there, and its new way from there ([]: the destination is out of reach)."""

    at: int
    at_s: float
    way: Way


SAME_S = 1e-6  # a new route must be faster by more than this to count as faster (float sums differ)


def position(way: Way, now_s: float) -> int:
    """Index in ``way`` of the node ending the edge the unit is on now (the node it is at, if at one)."""
    return next((i for i, (_, t) in enumerate(way) if t >= now_s), len(way) - 1)


def cut(way: Way, old: Roads, new: Roads) -> bool:
    """Does this stretch of way use an edge the change closed (or made slower)? Pairs with no edge on the
    old roads (a unit driving back the way it came, against a one-way street) are not judged."""
    for (a, _), (b, _) in itertools.pairwise(way):
        before = old.edge_s(a, b)
        if before < np.inf and new.edge_s(a, b) > before:
            return True
    return False


def replan(drive: Drive, old: Roads, new: Roads, now_s: float) -> Turn | None:
    """What a road change does to a drive: None when it keeps its route (no closed edge ahead of the edge
    it is on, and no strictly faster route opened), else where it turns and its new way."""
    way = drive.way
    if not way:
        return None
    k = position(way, now_s)
    at, at_s = way[k]
    broken = cut(way[k:], old, new)
    if not broken and old.closed <= new.closed:
        return None  # closing roads never makes an intact route slower or another one faster
    nodes, cum_s = new.path(at, drive.dest)
    if not nodes:
        return Turn(at, at_s, [])
    if not broken and float(cum_s[-1]) * drive.factor >= way[-1][1] - at_s - SAME_S:
        return None
    return Turn(at, at_s, [(n, at_s + float(c) * drive.factor) for n, c in zip(nodes, cum_s, strict=True)])
