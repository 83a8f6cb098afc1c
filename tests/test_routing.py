"""sim.site.routing against hand-made graphs, networkx on random multigraphs, and the shipped sites.

The reference everywhere is networkx's Dijkstra (``single_source_dijkstra_path_length``), which takes the
minimum over parallel edges and treats a missing answer as "unreachable" (``inf`` in the router).
"""

from __future__ import annotations

from collections.abc import Hashable

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import SiteError
from sim.site.routing import Router, TravelTable

W = "travel_time"


def graph_of(edges: list[tuple[Hashable, Hashable, float]], nodes: list[Hashable] = ()) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(nodes)
    for u, v, w in edges:
        graph.add_edge(u, v, **{W: w})
    return graph


def column(router: Router, row: np.ndarray) -> dict[Hashable, float]:
    """A row of router times keyed by node id, to compare with networkx's dicts."""
    return {node: float(t) for node, t in zip(router.nodes.tolist(), row, strict=True)}


def assert_matches_networkx(router: Router, row: np.ndarray, expected: dict[Hashable, float]) -> None:
    """``row`` (router order) equals networkx's ``expected``; nodes missing from ``expected`` are inf."""
    want = np.array([expected.get(node, np.inf) for node in router.nodes.tolist()])
    assert row.shape == want.shape
    assert np.array_equal(np.isinf(row), np.isinf(want)), (row, want)
    finite = np.isfinite(want)
    assert np.allclose(row[finite], want[finite], rtol=1e-9, atol=1e-9), (row, want)


# ---------------------------------------------------------------------------------------------------------
# Hand-made graphs


def test_parallel_edges_take_the_minimum_not_the_sum():
    router = Router.from_graph(graph_of([("a", "b", 7.0), ("a", "b", 2.0), ("a", "b", 5.0)]))
    assert router.travel_time_s("a", "b") == 2.0
    assert router.forward.nnz == 1


def test_parallel_edges_minimum_holds_along_a_path():
    edges = [(0, 1, 10.0), (0, 1, 4.0), (1, 2, 3.0), (1, 2, 30.0), (0, 2, 8.0)]
    router = Router.from_graph(graph_of(edges))
    times = column(router, router.times_from([0])[0])
    assert times == {0: 0.0, 1: 4.0, 2: 7.0}


def test_one_way_edges_respected_forward_and_backward():
    # a -> b -> c one way; c -> a is the only way back, and it is slow.
    router = Router.from_graph(graph_of([("a", "b", 1.0), ("b", "c", 2.0), ("c", "a", 100.0)]))
    from_a = column(router, router.times_from(["a"])[0])
    to_a = column(router, router.times_to("a"))
    assert from_a == {"a": 0.0, "b": 1.0, "c": 3.0}
    assert to_a == {"a": 0.0, "b": 102.0, "c": 100.0}
    assert router.travel_time_s("a", "c") == 3.0
    assert router.travel_time_s("c", "b") == 101.0


def test_one_way_dead_end_is_unreachable_in_reverse():
    router = Router.from_graph(graph_of([("a", "b", 5.0)]))
    assert column(router, router.times_from(["b"])[0]) == {"a": np.inf, "b": 0.0}
    assert column(router, router.times_to("a")) == {"a": 0.0, "b": np.inf}


def test_unreachable_is_inf():
    router = Router.from_graph(graph_of([(1, 2, 3.0), (3, 4, 1.0)], nodes=[5]))
    times = column(router, router.times_from([1])[0])
    assert times == {1: 0.0, 2: 3.0, 3: np.inf, 4: np.inf, 5: np.inf}
    assert router.travel_time_s(1, 5) == np.inf
    assert np.isinf(router.times_to(5)[router.index([1, 2, 3, 4])]).all()


def test_limit_bounds_results():
    # chain 0 -1-> 1 -2-> 2 -3-> 3 -4-> 4 : distances 0, 1, 3, 6, 10
    router = Router.from_graph(graph_of([(i, i + 1, float(i + 1)) for i in range(4)]))
    full = router.times_from([0])[0]
    assert full.tolist() == [0.0, 1.0, 3.0, 6.0, 10.0]
    bounded = router.times_from([0], limit_s=5.0)[0]
    assert bounded.tolist() == [0.0, 1.0, 3.0, np.inf, np.inf]
    assert router.times_from([0], limit_s=6.0)[0].tolist() == [0.0, 1.0, 3.0, 6.0, np.inf]  # inclusive
    assert router.times_to(4, limit_s=7.0).tolist() == [np.inf, np.inf, 7.0, 4.0, 0.0]
    times, which = router.nearest_source([0], limit_s=2.0)
    assert times.tolist() == [0.0, 1.0, np.inf, np.inf, np.inf]
    assert which.tolist() == [0, 0, -1, -1, -1]


def test_nearest_source_picks_the_closest_and_minus_one_when_unreachable():
    #  s1 -1-> x -1-> y <-5- s2 ;  y -1-> z ;  s2 -1-> w ;  island (no edges)
    edges = [("s1", "x", 1.0), ("x", "y", 1.0), ("s2", "y", 5.0), ("y", "z", 1.0), ("s2", "w", 1.0)]
    router = Router.from_graph(graph_of(edges, nodes=["island"]))
    times, which = router.nearest_source(["s2", "s1"])
    got = {node: (float(t), int(k)) for node, t, k in zip(router.nodes.tolist(), times, which, strict=True)}
    assert got == {
        "s1": (0.0, 1),
        "x": (1.0, 1),
        "y": (2.0, 1),
        "z": (3.0, 1),
        "s2": (0.0, 0),
        "w": (1.0, 0),
        "island": (np.inf, -1),
    }


def test_nearest_source_respects_one_way():
    # b can only be reached from a; a can reach nothing else.
    router = Router.from_graph(graph_of([("a", "b", 50.0), ("b", "c", 1.0)]))
    times, which = router.nearest_source(["c", "a"])
    got = {node: (float(t), int(k)) for node, t, k in zip(router.nodes.tolist(), times, which, strict=True)}
    assert got == {"a": (0.0, 1), "b": (50.0, 1), "c": (0.0, 0)}


def test_zero_weight_edges_are_edges():
    router = Router.from_graph(graph_of([(0, 1, 0.0), (1, 2, 0.0), (0, 2, 1.0)]))
    assert router.forward.nnz == 3
    row = router.times_from([0])[0]
    assert np.all(np.isfinite(row))
    assert np.allclose(row, 0.0, rtol=0, atol=1e-12)


def test_self_loops_do_not_change_times():
    router = Router.from_graph(graph_of([(0, 0, 3.0), (0, 1, 2.0), (1, 1, 0.0)]))
    assert router.times_from([0])[0].tolist() == [0.0, 2.0]
    assert np.allclose(router.times_to(1), [2.0, 0.0], rtol=0, atol=1e-12)


def test_times_from_shape_and_order_of_sources():
    router = Router.from_graph(graph_of([(0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0)]))
    times = router.times_from([2, 0, 2])
    assert times.shape == (3, 3)
    assert times.tolist() == [[1.0, 2.0, 0.0], [0.0, 1.0, 2.0], [1.0, 2.0, 0.0]]
    assert router.times_from([]).shape == (0, 3)


def test_travel_table_columns_are_times_to_the_node():
    router = Router.from_graph(graph_of([("p", "i", 4.0), ("s", "i", 9.0), ("i", "p", 1.0)], nodes=["q"]))
    table = TravelTable.build(router, ["p", "s", "q"])
    assert table.times_s.shape == (3, router.n_nodes)
    assert table.to_node("i").tolist() == [4.0, 9.0, np.inf]
    assert table.to_node("p").tolist() == [0.0, 10.0, np.inf]


def test_times_to_many_stacks_times_to():
    graph = graph_of([("a", "b", 2.0), ("b", "c", 3.0), ("c", "a", 1.0), ("a", "c", 9.0)])
    router = Router.from_graph(graph)
    many = router.times_to_many(["c", "a"])
    assert np.array_equal(many, np.vstack([router.times_to("c"), router.times_to("a")]))
    assert router.times_to_many([]).shape == (0, 3)


def test_string_and_tuple_node_ids_are_kept_whole():
    graph = graph_of([(1, "x", 2.0), ("x", (0, 0), 3.0)])
    router = Router.from_graph(graph)
    assert router.travel_time_s(1, (0, 0)) == 5.0
    assert router.times_to((0, 0))[router.index([1])[0]] == 5.0


def test_unknown_node_raises_site_error():
    router = Router.from_graph(graph_of([(1, 2, 1.0)]))
    with pytest.raises(SiteError, match=r"node 99 is not in the road graph"):
        router.index([1, 99])
    with pytest.raises(SiteError, match=r"node 99 is not in the road graph"):
        router.times_from([99])
    with pytest.raises(SiteError, match=r"node 99 is not in the road graph"):
        router.times_to(99)
    with pytest.raises(SiteError, match=r"node 99 is not in the road graph"):
        router.nearest_source([1, 99])
    with pytest.raises(SiteError, match=r"node 99 is not in the road graph"):
        router.travel_time_s(1, 99)
    with pytest.raises(SiteError, match=r"node 99 is not in the road graph"):
        TravelTable.build(router, [1]).to_node(99)


def test_edge_without_weight_raises_site_error():
    graph = nx.MultiDiGraph()
    graph.add_edge(1, 2)
    with pytest.raises(SiteError, match=r"edge 1->2 has no 'travel_time'"):
        Router.from_graph(graph)


# ---------------------------------------------------------------------------------------------------------
# Property tests: random directed multigraphs against networkx


@st.composite
def multigraphs(draw) -> nx.MultiDiGraph:
    """1-30 nodes; edges drawn with replacement (parallel edges, self loops); weights in [0, 1000]."""
    n = draw(st.integers(min_value=1, max_value=30))
    node = st.integers(min_value=0, max_value=n - 1)
    weight = st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=1000.0, allow_nan=False))
    edges = draw(st.lists(st.tuples(node, node, weight), max_size=4 * n))
    return graph_of(edges, nodes=list(range(n)))


PROPERTY = settings(max_examples=60, deadline=None)


@PROPERTY
@given(graph=multigraphs(), data=st.data())
def test_times_from_equals_networkx(graph: nx.MultiDiGraph, data):
    router = Router.from_graph(graph)
    sources = data.draw(st.lists(st.sampled_from(list(graph.nodes)), min_size=1, max_size=5))
    times = router.times_from(sources)
    assert times.shape == (len(sources), graph.number_of_nodes())
    for row, source in zip(times, sources, strict=True):
        assert_matches_networkx(router, row, nx.single_source_dijkstra_path_length(graph, source, weight=W))


@PROPERTY
@given(graph=multigraphs(), data=st.data())
def test_times_to_equals_networkx_on_reversed_graph(graph: nx.MultiDiGraph, data):
    router = Router.from_graph(graph)
    reverse = graph.reverse(copy=False)
    for target in data.draw(st.lists(st.sampled_from(list(graph.nodes)), min_size=1, max_size=5)):
        expected = nx.single_source_dijkstra_path_length(reverse, target, weight=W)
        assert_matches_networkx(router, router.times_to(target), expected)


@PROPERTY
@given(graph=multigraphs(), data=st.data())
def test_limit_equals_networkx_cutoff(graph: nx.MultiDiGraph, data):
    router = Router.from_graph(graph)
    node = data.draw(st.sampled_from(list(graph.nodes)))
    limit = data.draw(st.floats(min_value=1.0, max_value=3000.0))
    cases = [
        (router.times_from([node], limit_s=limit)[0], graph),
        (router.times_to(node, limit_s=limit), graph.reverse(copy=False)),
    ]
    for row, searched in cases:
        full = nx.single_source_dijkstra_path_length(searched, node, weight=W)
        # A node within rounding of the limit may fall either side of it: leave those out of the comparison.
        near = np.array([abs(full.get(n, np.inf) - limit) <= 1e-9 * limit for n in router.nodes.tolist()])
        expected = {n: t for n, t in full.items() if t < limit * (1 - 1e-9)}
        assert_matches_networkx(router, np.where(near, np.inf, row), expected)


@PROPERTY
@given(graph=multigraphs(), data=st.data())
def test_nearest_source_equals_networkx_multi_source(graph: nx.MultiDiGraph, data):
    router = Router.from_graph(graph)
    sources = data.draw(st.lists(st.sampled_from(list(graph.nodes)), min_size=1, max_size=5, unique=True))
    times, which = router.nearest_source(sources)
    expected = nx.multi_source_dijkstra_path_length(graph, set(sources), weight=W)
    assert_matches_networkx(router, times, expected)
    assert np.array_equal(which < 0, np.isinf(times))
    # The source named is one that achieves the minimum.
    each = router.times_from(sources)
    reached = np.flatnonzero(which >= 0)
    assert np.allclose(each[which[reached], reached], times[reached], rtol=1e-9, atol=1e-9)


@PROPERTY
@given(graph=multigraphs(), data=st.data())
def test_travel_table_equals_point_queries(graph: nx.MultiDiGraph, data):
    router = Router.from_graph(graph)
    nodes = list(graph.nodes)
    sources = data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=5))
    target = data.draw(st.sampled_from(nodes))
    table = TravelTable.build(router, sources)
    from_reverse = router.times_to(target)[router.index(sources)]
    point = np.array([router.travel_time_s(s, target) for s in sources])
    for got in (table.to_node(target), from_reverse):
        assert np.array_equal(np.isinf(got), np.isinf(point))
        assert np.allclose(got[np.isfinite(point)], point[np.isfinite(point)], rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------------------------------------
# The shipped sites: the router equals networkx on the real graphs


@pytest.fixture(params=["daishan_site", "helsinki_site"])
def site(request):
    """The shipped sites, built once per session (tests/conftest.py)."""
    return request.getfixturevalue(request.param)


def _sample_nodes(site, k: int, seed: int) -> list[Hashable]:
    nodes = site.router.nodes
    rng = np.random.default_rng(seed)
    return nodes[rng.choice(len(nodes), size=min(k, len(nodes)), replace=False)].tolist()


def test_site_router_covers_the_graph(site):
    router = site.router
    assert router.n_nodes == site.graph.number_of_nodes()
    assert set(router.nodes.tolist()) == set(site.graph.nodes)
    assert router.forward.nnz == len({(u, v) for u, v in site.graph.edges()})


def test_site_times_from_equals_networkx(site):
    sources = _sample_nodes(site, 20, seed=12345)
    times = site.router.times_from(sources)
    for row, source in zip(times, sources, strict=True):
        expected = nx.single_source_dijkstra_path_length(site.graph, source, weight=W)
        assert_matches_networkx(site.router, row, expected)


def test_site_times_to_equals_networkx(site):
    reverse = site.graph.reverse(copy=False)
    for target in _sample_nodes(site, 5, seed=54321):
        expected = nx.single_source_dijkstra_path_length(reverse, target, weight=W)
        assert_matches_networkx(site.router, site.router.times_to(target), expected)


def test_site_tables_from_posts_and_stations_equal_networkx(site):
    units = [*site.posts["node"].tolist(), *site.stations["node"].tolist()]
    table = TravelTable.build(site.router, units)
    for incident in _sample_nodes(site, 5, seed=777):
        expected = nx.single_source_dijkstra_path_length(site.graph.reverse(copy=False), incident, weight=W)
        want = np.array([expected.get(u, np.inf) for u in units])
        for got in (table.to_node(incident), site.router.times_to(incident)[site.router.index(units)]):
            assert np.array_equal(np.isinf(got), np.isinf(want))
            assert np.allclose(got[np.isfinite(want)], want[np.isfinite(want)], rtol=1e-9, atol=0)
