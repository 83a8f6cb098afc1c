"""The faster site set-up gives the very same numbers and graphs as the steps it replaces.

Each shortcut is compared with its reference: bounded searches with full Dijkstra tables, scipy's
components with networkx's, sim.site.graph_ops with osmnx's own functions (node and edge order, attribute
order and value types included), on hand-made graphs, random graphs and the shipped default site.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config import load_config
from sim.site import graph_ops
from sim.site.network import (
    _drop_edges_and_bare_nodes,
    _largest_strong_parts,
    _largest_strong_parts_nx,
    _undrivable_edges,
    load_raw,
    trim_one_way_stubs,
)
from sim.site.routing import Router


def _typed(value):
    """A value with its type, geometries by their exact bytes: equality that 1 == 1.0 does not fool."""
    if hasattr(value, "wkb"):
        return ("geometry", value.wkb)
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def graph_record(graph: nx.MultiDiGraph) -> tuple:
    """Everything of a graph in order: nodes, edges, their attributes (order and types), predecessors."""
    nodes = [(n, [(k, _typed(v)) for k, v in d.items()]) for n, d in graph.nodes(data=True)]
    edges = [
        (u, v, k, [(a, _typed(b)) for a, b in d.items()]) for u, v, k, d in graph.edges(keys=True, data=True)
    ]
    preds = [(n, list(graph.pred[n])) for n in graph]
    attrs = [(k, v if k != "crs" else str(v)) for k, v in graph.graph.items() if k != "created_date"]
    return nodes, edges, preds, attrs


@pytest.fixture(scope="module")
def daishan_raw(cache_dir):
    cfg = load_config([f"cache_dir={cache_dir}"])
    raw, _, _ = load_raw(cfg.site, cache_dir, cfg.seed)
    return raw, cfg.network


def _simplified(raw: nx.MultiDiGraph, net) -> nx.MultiDiGraph:
    graph = _drop_edges_and_bare_nodes(raw.copy(), _undrivable_edges(raw, net.drivable))
    return ox.simplify_graph(graph, edge_attrs_differ=["highway", "bridge"])


def test_graph_ops_equal_osmnx_on_the_default_site(daishan_raw):
    raw, net = daishan_raw
    trimmed = trim_one_way_stubs(_simplified(raw, net))
    speeds = dict(net.speeds_kph)
    ours = graph_ops.add_edge_travel_times(
        graph_ops.add_edge_speeds(trimmed.copy(), speeds, net.fallback_speed_kph)
    )
    theirs = ox.add_edge_travel_times(
        ox.add_edge_speeds(trimmed.copy(), hwy_speeds=speeds, fallback=net.fallback_speed_kph)
    )
    assert graph_record(ours) == graph_record(theirs)
    assert graph_record(graph_ops.project_graph(ours)) == graph_record(ox.project_graph(theirs))


def test_trim_in_place_equals_the_trimmed_copy(daishan_raw):
    raw, net = daishan_raw
    graph = _simplified(raw, net)
    copy = trim_one_way_stubs(graph)
    in_place = trim_one_way_stubs(graph.copy(), in_place=True)
    assert list(copy.nodes) == list(in_place.nodes)
    assert list(copy.edges(keys=True, data=True)) == list(in_place.edges(keys=True, data=True))
    assert copy.graph["trimmed_nodes"] == in_place.graph["trimmed_nodes"]


def test_tied_largest_parts_are_left_to_networkx():
    """Two equal two-way pieces joined one way: networkx's order picks one, so scipy's answer stands down."""
    graph = nx.MultiDiGraph()
    graph.add_edges_from([(1, 2), (2, 1), (3, 4), (4, 3), (2, 3)])
    assert _largest_strong_parts(graph) is None
    assert trim_one_way_stubs(graph).number_of_nodes() == 2


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 25).flatmap(
        lambda n: st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n)
    )
)
def test_largest_strong_parts_equal_networkx(edges):
    graph = nx.MultiDiGraph()
    graph.add_edges_from(edges)
    ours = _largest_strong_parts(graph)
    if ours is not None:
        assert ours == _largest_strong_parts_nx(graph)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 30).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0.0, 500.0)),
                max_size=4 * n,
            ),
        )
    ),
    st.floats(0.5, 200.0),
)
def test_bounded_times_equal_full_tables_on_random_graphs(graph_edges, first_limit_s):
    n, edges = graph_edges
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(range(n))
    for u, v, w in edges:
        graph.add_edge(u, v, travel_time=w)
    router = Router.from_graph(graph)
    sources = list(range(0, n, 2))
    full = router.times_from(sources)
    got = router.times_to_targets(sources, [list(range(n))] * len(sources), first_limit_s, batch=3)
    assert np.array_equal(np.array(got), full)
    assert np.array_equal(router.times_among(sources, range(n), first_limit_s), full)


def test_bounded_times_equal_full_tables_on_the_default_site(daishan_site):
    router = daishan_site.router
    rng = np.random.default_rng(7)
    sources = rng.choice(router.nodes, size=40, replace=False)
    targets = [rng.choice(router.nodes, size=int(rng.integers(1, 30))) for _ in sources]
    full = router.times_from(sources)
    got = router.times_to_targets(sources, targets, first_limit_s=30.0, batch=16)
    for row, want, cols in zip(got, full, targets, strict=True):
        assert np.array_equal(row, want[router.index(cols)])


def test_time_within_a_bound_is_the_full_searchs_time(daishan_site):
    """Within the bound: the unbounded time; beyond it: that time or inf, never a smaller number."""
    from sim.model.roads import Roads
    from sim.model.world import World

    roads = Roads.open(World.build(daishan_site))
    router = daishan_site.router
    rng = np.random.default_rng(3)
    for origin in rng.integers(0, router.n_nodes, size=12):
        full = router.times_from([router.nodes[origin]])[0]
        fresh = Roads(roads.closed, roads.router, roads.bases)  # its own caches
        for node, limit_s in zip(
            rng.integers(0, router.n_nodes, size=25), rng.uniform(0.0, 900.0, size=25), strict=True
        ):
            got = fresh.time_from_node_within_s(int(origin), int(node), float(limit_s))
            if full[node] <= limit_s:
                assert got == full[node]
            else:
                assert got == full[node] or got == np.inf


def test_snap_equals_osmnx_nearest_nodes_ties_included(daishan_site):
    """sim.site.site.snap's k-d tree gives osmnx's nearest node and distance, on and between nodes too."""
    import geopandas as gpd

    from sim.site.site import snap

    graph = daishan_site.graph
    xs = np.array([d["x"] for _, d in graph.nodes(data=True)])
    ys = np.array([d["y"] for _, d in graph.nodes(data=True)])
    rng = np.random.default_rng(7)
    px = np.concatenate([rng.uniform(xs.min(), xs.max(), 500), xs[:50], (xs[:50] + xs[1:51]) / 2])
    py = np.concatenate([rng.uniform(ys.min(), ys.max(), 500), ys[:50], (ys[:50] + ys[1:51]) / 2])
    nodes, dist = snap(graph, gpd.GeoSeries(gpd.points_from_xy(px, py), crs=daishan_site.crs))
    want_nodes, want_dist = ox.distance.nearest_nodes(graph, px, py, return_dist=True)
    assert nodes.tolist() == list(want_nodes)
    np.testing.assert_allclose(dist, want_dist)


def test_road_edges_equal_osmnx_graph_to_gdfs(daishan_site):
    """road_edges builds osmnx's edge frame itself: the same columns, values, CRS and geometries."""
    import pandas as pd

    from sim.site.isochrones import road_edges

    mine = road_edges(daishan_site)
    want = ox.graph_to_gdfs(daishan_site.graph, nodes=False, fill_edge_geometry=True).reset_index()
    assert list(mine.columns[:-2]) == list(want.columns) and mine.crs == want.crs
    pd.testing.assert_frame_equal(
        pd.DataFrame(mine.drop(columns=["geometry", "u_idx", "v_idx"])),
        pd.DataFrame(want.drop(columns="geometry")),
    )
    assert mine.geometry.geom_equals_exact(want.geometry, 0).all()
