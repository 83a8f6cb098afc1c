"""Shortest travel times on a road graph, with scipy's sparse-graph Dijkstra.

Why not networkx per query: a dispatch decision asks "how long from every candidate unit to this
incident?" thousands of times a run. Here the graph becomes one CSR matrix once; tables from fixed posts
and stations are computed in one call, and a moving unit's time to an incident comes from one bounded
*reverse* Dijkstra rooted at the incident. Answers equal networkx's (tests/test_routing.py); the
speed-up is measured by benchmarks/bench_routing.py.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from sim.errors import SiteError


def edge_matrix(
    graph: nx.MultiDiGraph, nodes: np.ndarray, weight: str, closed: Collection[tuple] = ()
) -> sparse.csr_array:
    """CSR matrix of edge weights, keeping the *minimum* over parallel edges, leaving out the ``closed``
    edges (u, v, key): a closed road's parallel twin, if any, still carries traffic.

    networkx's ``to_scipy_sparse_array`` sums parallel edges, which is wrong for travel times. A zero
    weight would read as "no edge" in a sparse matrix, so it is stored as the smallest positive float.
    """
    index = {node: i for i, node in enumerate(nodes)}
    rows, cols, weights = [], [], []
    shut = set(closed)
    for u, v, k, w in graph.edges(keys=True, data=weight):
        if shut and (u, v, k) in shut:
            continue
        if w is None:
            raise SiteError(f"edge {u}->{v} has no '{weight}'; prepare it with sim.site.network first")
        rows.append(index[u])
        cols.append(index[v])
        weights.append(float(w))
    n = len(nodes)
    if not rows:
        return sparse.csr_array((n, n), dtype=float)
    order = np.lexsort((np.asarray(weights), np.asarray(cols), np.asarray(rows)))
    r, c, w = np.asarray(rows)[order], np.asarray(cols)[order], np.asarray(weights)[order]
    first = np.ones(len(r), dtype=bool)  # after the sort, the first of each (row, col) run is its minimum
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    w = np.maximum(w[first], np.finfo(float).tiny)
    return sparse.csr_array((w, (r[first], c[first])), shape=(n, n))


@dataclass(frozen=True)
class Router:
    """Travel times between graph nodes, in seconds.

    ``nodes`` lists the graph's node ids in matrix order; unreachable answers are ``inf``.
    """

    nodes: np.ndarray
    forward: sparse.csr_array
    backward: sparse.csr_array
    _index: dict[Hashable, int]

    @classmethod
    def from_graph(
        cls, graph: nx.MultiDiGraph, weight: str = "travel_time", closed: Collection[tuple] = ()
    ) -> Router:
        """The router of ``graph``, without the ``closed`` edges (u, v, key); node order is the graph's,
        closed or not, so tables of both line up."""
        ids = list(graph.nodes)
        if all(isinstance(n, int | np.integer) for n in ids):
            nodes = np.array(ids, dtype=np.int64)
        else:  # strings, tuples, mixed: keep each id whole
            nodes = np.empty(len(ids), dtype=object)
            for i, n in enumerate(ids):
                nodes[i] = n
        forward = edge_matrix(graph, nodes, weight, closed)
        return cls(nodes, forward, forward.T.tocsr(), {node: i for i, node in enumerate(nodes)})

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    def index(self, node_ids: Iterable[Hashable]) -> np.ndarray:
        """Matrix indices of graph node ids."""
        try:
            return np.array([self._index[n] for n in node_ids], dtype=np.int64)
        except KeyError as err:
            raise SiteError(f"node {err.args[0]} is not in the road graph") from None

    def times_from(self, sources: Iterable[Hashable], limit_s: float = np.inf) -> np.ndarray:
        """Travel time from each source node to every node: shape (len(sources), n_nodes)."""
        idx = self.index(sources)
        if len(idx) == 0:
            return np.empty((0, self.n_nodes))
        return np.atleast_2d(dijkstra(self.forward, directed=True, indices=idx, limit=limit_s))

    def times_among(
        self, sources: Iterable[Hashable], targets: Iterable[Hashable], first_limit_s: float = 600.0
    ) -> np.ndarray:
        """Travel time from each source to each target: ``times_from(sources)[:, index(targets)]``, the very
        same numbers, from bounded searches (see ``times_to_targets``)."""
        sources, targets = list(sources), list(targets)
        rows = self.times_to_targets(sources, [targets] * len(sources), first_limit_s)
        return np.array(rows, dtype=float).reshape(len(sources), len(targets))

    def times_to_targets(
        self,
        sources: Sequence[Hashable],
        targets: Sequence[Sequence[Hashable]],
        first_limit_s: float = 600.0,
        batch: int = 64,
    ) -> list[np.ndarray]:
        """For each source, the travel times to its own ``targets`` (the same numbers as rows of
        ``times_from``), from Dijkstras bounded by a limit that grows (x4) only for sources whose targets
        it left out, so compact sets of places (a grid's enterprises) never search the whole network;
        sources go ``batch`` to a call, since each call costs a pass over the whole matrix.

        Why the numbers are the same: the time Dijkstra gives a node is the least, over the nodes that
        lead into it, of their time plus the edge's, whatever order it settles nodes in; a limit only leaves
        out sums above it, never one a node within the limit takes.
        """
        rows = self.index(sources)
        cols = [self.index(t) for t in targets]
        out: list[np.ndarray] = [np.empty(0)] * len(rows)
        todo = np.arange(len(rows))
        limit_s = first_limit_s
        while len(todo):
            if limit_s > 1e9:
                limit_s = np.inf
            left = []
            for start in range(0, len(todo), batch):
                chunk = todo[start : start + batch]
                times = np.atleast_2d(
                    dijkstra(self.forward, directed=True, indices=rows[chunk], limit=limit_s)
                )
                for i, row in zip(chunk, times, strict=True):
                    found = row[cols[i]]
                    if limit_s == np.inf or np.isfinite(found).all():
                        out[i] = found
                    else:
                        left.append(i)
            todo = np.array(left, dtype=np.int64)
            limit_s *= 4.0
        return out

    def times_to(self, target: Hashable, limit_s: float = np.inf) -> np.ndarray:
        """Travel time from every node to ``target``: one reverse Dijkstra, bounded by ``limit_s``.

        This is the query for moving units: wherever they are, their time to the incident is one lookup.
        """
        try:
            idx = self._index[target]  # one dict lookup: this is the per-incident hot path
        except KeyError:
            raise SiteError(f"node {target} is not in the road graph") from None
        return dijkstra(self.backward, directed=True, indices=idx, limit=limit_s)

    def times_to_many(self, targets: Iterable[Hashable], limit_s: float = np.inf) -> np.ndarray:
        """Travel time from every node to each target: shape (len(targets), n_nodes), one reverse call."""
        idx = self.index(targets)
        if len(idx) == 0:
            return np.empty((0, self.n_nodes))
        return np.atleast_2d(dijkstra(self.backward, directed=True, indices=idx, limit=limit_s))

    def nearest_source(
        self, sources: Iterable[Hashable], limit_s: float = np.inf
    ) -> tuple[np.ndarray, np.ndarray]:
        """For every node, the time from its nearest source and that source's position in ``sources``.

        One multi-source Dijkstra; nodes no source reaches get ``inf`` and ``-1``.
        """
        idx = self.index(sources)
        times, _, origin = dijkstra(
            self.forward, directed=True, indices=idx, limit=limit_s, min_only=True, return_predecessors=True
        )
        position = {int(v): k for k, v in enumerate(idx)}
        which = np.array([position.get(int(o), -1) for o in origin], dtype=np.int64)
        return times, which

    def travel_time_s(self, origin: Hashable, destination: Hashable) -> float:
        """One origin-destination time (convenience; tables are the fast path)."""
        (j,) = self.index([destination])
        return float(self.times_from([origin])[0, j])


@dataclass(frozen=True)
class TravelTable:
    """Precomputed travel times from fixed places (posts, stations) to every node."""

    router: Router
    source_nodes: tuple[Hashable, ...]
    times_s: np.ndarray  # (len(source_nodes), n_nodes)

    @classmethod
    def build(cls, router: Router, source_nodes: Iterable[Hashable]) -> TravelTable:
        sources = tuple(source_nodes)
        return cls(router, sources, router.times_from(sources))

    def to_node(self, node: Hashable) -> np.ndarray:
        """Times from every source to ``node``."""
        (j,) = self.router.index([node])
        return self.times_s[:, j]
