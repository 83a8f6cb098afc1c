"""Roads closing and reopening during a run: names to edges, travel tables against networkx, and units on
the road re-routed, turned back or stranded, with every time checked against networkx on the changed graph.

The model is driven by hand: hand-made incidents (all uniforms 0.5: median delays), the clock stepped until a
unit is on the road, then ``close_roads`` / ``reopen_roads`` as a drill would call them.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from sim.config import load_config
from sim.errors import ScenarioError
from sim.model.events import EventKind as K
from sim.model.incidents import N_UNIFORMS, Incident, generate_incidents
from sim.model.model import EchelonModel
from sim.model.roads import Roads
from sim.model.world import World
from sim.site.roads import edges_named, road_names
from sim.site.routing import Router

W = "travel_time"


@pytest.fixture(scope="module")
def world(daishan_site):
    return World.build(daishan_site)


@pytest.fixture(scope="module")
def cfg(cache_dir):
    return load_config([f"cache_dir={cache_dir}"])


def _without(graph: nx.MultiDiGraph, edges) -> nx.MultiDiGraph:
    cut = graph.copy()
    cut.remove_edges_from(edges)
    return cut


def _nx_s(graph: nx.MultiDiGraph, a, b) -> float:
    try:
        return nx.shortest_path_length(graph, a, b, weight=W)
    except nx.NetworkXNoPath:
        return math.inf


def _at_place(site, i: int, kind: str, t_s: float, node_idx: int) -> Incident:
    """An incident at a road node, away from any enterprise (a passer-by calls it in)."""
    node = int(site.router.nodes[node_idx])
    x, y = site.graph.nodes[node]["x"], site.graph.nodes[node]["y"]
    station = str(site.node_station[node_idx])
    return Incident(i, kind, t_s, node, x, y, "", "", station, "other", False, "", (0.5,) * N_UNIFORMS)


def _at_enterprise(i: int, kind: str, t_s: float, r) -> Incident:
    return Incident(
        i,
        kind,
        t_s,
        r.node,
        r.x_m,
        r.y_m,
        r.eid,
        r.grid,
        r.station,
        r.area_class,
        False,
        "",
        (0.5,) * N_UNIFORMS,
    )


def _step_until(model: EchelonModel, kind: K, unit: str | None = None, unit_kind: str | None = None):
    """Run the clock event by event until the log has such an event; return it."""
    seen = 0
    while model.env.peek() < math.inf:
        model.env.step()
        rows = model.log._rows
        for row in rows[seen:]:
            if row[1] == kind and unit in (None, row[3]) and unit_kind in (None, row[4]):
                return row
        seen = len(rows)
    raise AssertionError(f"no {kind} for {unit or unit_kind}")


def _events(model: EchelonModel, kind: K, unit: str | None = None) -> list[tuple]:
    return [r for r in model.log._rows if r[1] == kind and unit in (None, r[3])]


def _unit(model: EchelonModel, unit_id: str):
    return next(u for u in model.units if u.unit_id == unit_id)


def _next_on_way(way, now_s: float) -> int:
    return next(i for i, (_, t) in enumerate(way) if t >= now_s)


# ---------------------------------------------------------------------------------------------------------
# Names and tables


def test_a_road_is_found_by_name_whatever_its_case_and_blanks(daishan_site):
    graph = daishan_site.graph
    bridge = edges_named(daishan_site, "  yushan BRIDGE ")
    (u, v, _), back = bridge
    assert back[:2] == (v, u)  # both ways of the two-way bridge
    assert all(graph.edges[e]["name"] == "Yushan Bridge" for e in bridge)
    names = road_names(daishan_site)
    assert names == sorted(names) and {"Yushan Bridge", "Xiushan Bridge"} <= set(names)
    listed = next(
        (e, d["name"]) for *e, d in graph.edges(keys=True, data=True) if isinstance(d.get("name"), list)
    )
    edge, several = listed
    for name in several:  # an edge merged from differently named ways answers to each name
        assert tuple(edge) in edges_named(daishan_site, name)


def test_an_unknown_road_name_says_which_names_are_close(daishan_site):
    with pytest.raises(ScenarioError) as err:
        edges_named(daishan_site, "Yushan Brige")
    message = str(err.value)
    assert "\n" not in message and "'Yushan Brige'" in message and "Yushan Bridge" in message
    assert message.count(",") <= 4  # at most five matches


def test_a_router_without_edges_keeps_their_parallel_twins():
    graph = nx.MultiDiGraph()
    graph.add_edge("a", "b", key=0, travel_time=2.0)
    graph.add_edge("a", "b", key=1, travel_time=5.0)
    graph.add_edge("b", "c", key=0, travel_time=1.0)
    assert Router.from_graph(graph, closed=[("a", "b", 0)]).travel_time_s("a", "c") == 6.0
    assert Router.from_graph(graph, closed=[("a", "b", 0), ("a", "b", 1)]).travel_time_s("a", "c") == math.inf
    assert Router.from_graph(graph).travel_time_s("a", "c") == 3.0


def test_closing_a_bridge_changes_the_tables_as_networkx_says_and_reopening_restores_them(
    daishan_site, world, cfg
):
    site, graph = daishan_site, daishan_site.graph
    bridge = edges_named(site, "Yushan Bridge")
    cut = _without(graph, bridge)
    roads = Roads.without(world, frozenset(bridge))
    assert roads.bases.row is world.bases.row
    stations = dict(zip(site.stations["name"], site.stations["node"], strict=True))
    mainland, island = int(stations["Daixi Police Station"]), int(stations["Yushan Police Centre"])
    index = world.node_index
    places = [int(n) for n in site.enterprises["node"].iloc[::40]] + [mainland, island]
    pairs = [
        (b, n) for b in (mainland, island, *[int(n) for n in site.posts["node"].iloc[::15]]) for n in places
    ]
    unreachable = 0
    for base, node in pairs:
        row, j = world.bases.row[base], index[node]
        assert roads.bases.out_s[row, j] == pytest.approx(_nx_s(cut, base, node), rel=1e-9, abs=1e-9)
        assert roads.bases.back_s[row, j] == pytest.approx(_nx_s(cut, node, base), rel=1e-9, abs=1e-9)
        unreachable += math.isinf(roads.bases.out_s[row, j])
    assert unreachable > 0 and math.isinf(roads.bases.out_s[world.bases.row[mainland], index[island]])
    assert math.isfinite(
        world.bases.out_s[world.bases.row[mainland], index[island]]
    )  # the World is untouched
    assert roads.times_from_node_s(index[island])[index[mainland]] == math.inf

    model = EchelonModel(site, cfg, [], 0, world)
    assert model.roads.bases is world.bases  # every road open: the World's own tables, not a copy
    model.close_roads(bridge)
    model.close_roads(edges_named(site, "Xiushan Bridge"))  # cumulative
    assert model.roads.closed == frozenset(bridge) | frozenset(edges_named(site, "Xiushan Bridge"))
    assert model.board.from_base_s(mainland, index[island]) == math.inf
    model.reopen_roads(bridge)
    assert model.roads.closed == frozenset(edges_named(site, "Xiushan Bridge"))
    model.reopen_roads(edges_named(site, "Xiushan Bridge"))
    assert model.roads.bases is world.bases and not model.roads.closed
    assert model.board.from_base_s(mainland, index[island]) == pytest.approx(
        world.bases.out_s[world.bases.row[mainland], index[island]] * model.board.factor
    )
    with pytest.raises(ScenarioError, match="no such edge"):
        model.close_roads([(bridge[0][0], bridge[0][1], 7)])


# ---------------------------------------------------------------------------------------------------------
# Units on the road


def _police_trips(site, world, n: int = 1) -> list[Incident]:
    """Thefts at the same moment at the ``n`` enterprises (of different stations) farthest from their own
    station: its car drives a long way to each."""
    stations = dict(zip(site.stations["id"], site.stations["node"], strict=True))

    def out_s(r) -> float:
        return world.bases.out_s[world.bases.row[int(stations[r.station])], world.node_index[r.node]]

    far, seen = [], set()
    for r in sorted(world.enterprises, key=out_s, reverse=True):
        if r.station not in seen:
            seen.add(r.station)
            far.append(_at_enterprise(len(far), "theft", 600.0, r))
    return far[:n]


def test_a_unit_whose_road_closes_ahead_takes_the_new_shortest_route_and_others_keep_theirs(
    daishan_site, world, cfg
):
    site, graph = daishan_site, daishan_site.graph
    factor = cfg.network.emergency_time_factor
    incidents = _police_trips(site, world, 2)
    model = EchelonModel(site, cfg, incidents, 0, world)
    mobilised = _step_until(model, K.MOBILISED, unit_kind="police")
    police, inc = mobilised[3], incidents[mobilised[2]]
    model.env.run(until=model.env.now + 30.0)
    now = model.env.now
    on_road = {u.unit_id: u for u in model.units if u.status.value == "en_route"}
    assert police in on_road and len(on_road) >= 2  # the other theft's car is on its way too
    way = on_road[police]._drive.way
    k = _next_on_way(way, now)
    others = {
        (a, b)
        for u in on_road.values()
        if u.unit_id != police
        for (a, _), (b, _) in itertools.pairwise(u._drive.way)
    }
    nodes = site.router.nodes
    for (a, _), (b, _) in itertools.pairwise(way[k + 2 :]):  # an edge well ahead, with a way round it
        edges = [(int(nodes[a]), int(nodes[b]), key) for key in graph[nodes[a]][nodes[b]]]
        if (a, b) not in others and math.isfinite(_nx_s(_without(graph, edges), nodes[way[k][0]], inc.node)):
            break
    else:
        raise AssertionError("no edge to close on the police car's way")
    baseline = EchelonModel(site, cfg, incidents, 0, world)
    baseline.env.run(until=20_000)
    model.close_roads(edges)
    model.env.run(until=20_000)

    at, at_s = way[k]
    detour_s = _nx_s(_without(graph, edges), int(nodes[at]), inc.node) * factor
    (rerouted,) = _events(model, K.REROUTED)
    assert rerouted[3] == police and rerouted[6] == f"via:{nodes[at]}" and rerouted[0] == now
    (arrived,) = [r for r in _events(model, K.ARRIVED, police)]
    assert arrived[0] == pytest.approx(at_s + detour_s, rel=1e-9)  # finish the edge, then the detour
    assert rerouted[7] == pytest.approx(arrived[0] - now, rel=1e-9)
    old_arrival = _events(baseline, K.ARRIVED, police)[0][0]
    assert arrived[0] > old_arrival
    for unit in on_road:
        if unit != police:  # its way does not use the closed road: the same arrival, no re-route
            assert _events(model, K.ARRIVED, unit)[0][0] == _events(baseline, K.ARRIVED, unit)[0][0]


def test_a_reopened_road_is_taken_only_when_strictly_faster(daishan_site, world, cfg):
    """Each road of the car's way closed before it sets off, reopened 20 s into its detour: it takes the
    reopened road back only where that is strictly faster from the end of the edge it is on (on this grid
    of parallel roads many detours cost nothing: those must not re-route)."""
    site, graph = daishan_site, daishan_site.graph
    factor = cfg.network.emergency_time_factor
    (inc,) = _police_trips(site, world)
    probe = EchelonModel(site, cfg, [inc], 0, world)
    police = _step_until(probe, K.MOBILISED, unit_kind="police")[3]
    nodes = site.router.nodes
    way = _unit(probe, police)._drive.way
    names = dict.fromkeys(
        graph.edges[int(nodes[a]), int(nodes[b]), 0]["name"] for (a, _), (b, _) in itertools.pairwise(way)
    )
    seen = {"faster": 0, "as fast": 0}
    start = int(nodes[way[0][0]])
    for name in names:
        edges = edges_named(site, name)
        if math.isinf(_nx_s(_without(graph, edges), start, inc.node)):
            continue  # the scene is on that road: a different story (turning back)
        model = EchelonModel(site, cfg, [inc], 0, world)
        model.close_roads(edges)  # closed before anyone leaves: the car sets off on a detour
        _step_until(model, K.MOBILISED, unit=police)
        model.env.run(until=model.env.now + 20.0)
        now = model.env.now
        detour = _unit(model, police)._drive.way
        at, at_s = detour[_next_on_way(detour, now)]
        model.reopen_roads(edges)
        model.env.run(until=20_000)
        open_s = _nx_s(graph, int(nodes[at]), inc.node) * factor
        rerouted = _events(model, K.REROUTED, police)
        arrived = _events(model, K.ARRIVED, police)[0][0]
        if open_s < detour[-1][1] - at_s - 1e-6:
            seen["faster"] += 1
            assert [(r[3], r[6], r[0]) for r in rerouted] == [(police, f"via:{nodes[at]}", now)], name
            assert arrived == pytest.approx(at_s + open_s, rel=1e-9)
        else:
            seen["as fast"] += 1
            assert not rerouted and arrived == detour[-1][1], name
    assert seen["faster"] and seen["as fast"], seen


def _near_yushan_bridge(site, world) -> int:
    """A mainland node whose nearest fire station is the Yushan one, across the bridge."""
    cut = _without(site.graph, edges_named(site, "Yushan Bridge"))
    yushan = int(site.fire_stations["node"].iloc[2])
    island = nx.node_connected_component(cut.to_undirected(as_view=True), yushan)
    rows = [world.bases.row[int(n)] for n in site.fire_stations["node"]]
    nearest = world.bases.out_s[rows].argmin(axis=0)
    for j, node in enumerate(site.router.nodes.tolist()):
        if nearest[j] == 2 and node not in island:
            return j
    raise AssertionError("no mainland node nearest to the Yushan fire station")


def test_a_unit_whose_scene_is_cut_off_turns_back_and_another_unit_is_sent(daishan_site, world, cfg):
    site, graph = daishan_site, daishan_site.graph
    bridge = edges_named(site, "Yushan Bridge")
    inc = _at_place(site, 0, "fire", 100.0, _near_yushan_bridge(site, world))
    model = EchelonModel(site, cfg, [inc], 0, world)
    first = _step_until(model, K.MOBILISED, unit_kind="fire_engine")[3]
    assert first.startswith("F-F3")  # from the island, over the bridge
    model.env.run(until=model.env.now + 5.0)
    now = model.env.now
    way = _unit(model, first)._drive.way
    at, at_s = way[_next_on_way(way, now)]
    case = _unit(model, first)._drive.case
    model.close_roads(bridge)
    model.env.run(until=20_000)

    nodes = site.router.nodes
    home_s = _nx_s(_without(graph, bridge), int(nodes[at]), _unit(model, first).base_node)
    (back,) = _events(model, K.REROUTED, first)
    assert back[6] == "turned_back" and back[2] == inc.id
    assert back[7] == pytest.approx(at_s - now + home_s, rel=1e-9)
    returned = _events(model, K.RETURNED, first)
    assert len(returned) == 1 and returned[0][0] == pytest.approx(now + back[7], rel=1e-9)
    assert not _events(model, K.ARRIVED, first)
    sent = [r for r in _events(model, K.DISPATCHED) if r[4] == "fire_engine"]
    assert sent[0][3] == first and len(sent) == 2 and sent[1][0] == now  # asked again at once
    second = sent[1][3]
    assert not second.startswith("F-F3") and _events(model, K.ARRIVED, second)
    assert len(_events(model, K.OUTCOME)) == 1
    assert case.active == 0 and case.over and not model.board.queue  # nobody is counted as still coming


def _across_xiushan_bridge(site, world):
    """The Xiushan Bridge's edges, and an enterprise on the island it links (no fire station there)."""
    bridge = edges_named(site, "Xiushan Bridge")
    cut = _without(site.graph, bridge)
    island = nx.node_connected_component(cut.to_undirected(as_view=True), bridge[0][1])
    if int(site.fire_stations["node"].iloc[0]) in island:
        island = nx.node_connected_component(cut.to_undirected(as_view=True), bridge[0][0])
    return bridge, next(r for r in world.enterprises if r.node in island)


def test_a_scene_no_unit_can_reach_while_a_road_is_closed_waits_for_it_to_reopen(daishan_site, world, cfg):
    """Xiushan island has no fire station: with its bridge closed while the engine turns out, no engine
    reaches a fire there. The engine never leaves; the request waits (queued, not missed for good, since
    only the closure keeps the engines out) and an engine goes when the bridge reopens."""
    site = daishan_site
    bridge, r = _across_xiushan_bridge(site, world)
    inc = _at_enterprise(0, "fire", 100.0, r)
    model = EchelonModel(site, cfg, [inc], 0, world)
    engine = _step_until(model, K.DISPATCHED, unit_kind="fire_engine")[3]
    model.env.run(until=model.env.now + 1.0)  # turning out: not on the road yet
    model.close_roads(bridge)
    model.env.run(until=model.env.now + 120.0)  # closed for two minutes, the fire still burning
    (back,) = _events(model, K.REROUTED, engine)
    assert back[6] == "turned_back" and back[7] == 0.0  # still at its base: it stays
    assert _events(model, K.RETURNED, engine)[0][0] == back[0]
    assert not [e for e in _events(model, K.UNSERVED) if e[6] == "fire_engine"]
    queued = [e for e in _events(model, K.QUEUED) if e[6] == "fire_engine"]
    assert len(queued) == 1 and queued[0][0] == back[0] and queued[0][5] == 0
    assert not [e for e in _events(model, K.ARRIVED) if e[4] == "fire_engine"]
    model.reopen_roads(bridge)
    reopened = model.env.now
    model.env.run(until=reopened + 20_000)
    sent = [e for e in _events(model, K.DISPATCHED) if e[4] == "fire_engine" and e[0] >= reopened]
    assert len(sent) == 1 and sent[0][0] == reopened
    assert [e for e in _events(model, K.ARRIVED) if e[4] == "fire_engine"]
    assert [e for e in _events(model, K.ARRIVED) if e[4] == "echelon"]  # the island's own units came too
    assert len(_events(model, K.OUTCOME)) == 1


def test_a_request_waiting_for_a_closed_road_is_dropped_when_the_incident_is_over(daishan_site, world, cfg):
    """The island's own echelon handles the fire while the bridge stays closed: the engine's request,
    waiting for the road, is cancelled once the incident is over (never counted as unserved)."""
    site = daishan_site
    bridge, r = _across_xiushan_bridge(site, world)
    model = EchelonModel(site, cfg, [_at_enterprise(0, "fire", 100.0, r)], 0, world)
    _step_until(model, K.DISPATCHED, unit_kind="fire_engine")
    model.close_roads(bridge)
    model.env.run(until=30_000)
    assert [e for e in _events(model, K.CANCELLED) if e[6] == "fire_engine"]
    assert not [e for e in _events(model, K.UNSERVED) if e[6] == "fire_engine"]
    assert not model.board.queue


def test_a_unit_cut_off_from_home_waits_where_it_is_and_drives_home_when_the_road_reopens(
    daishan_site, world, cfg
):
    site, graph = daishan_site, daishan_site.graph
    bridge = edges_named(site, "Yushan Bridge")
    inc = _at_place(site, 0, "fire", 100.0, _near_yushan_bridge(site, world))
    model = EchelonModel(site, cfg, [inc], 0, world)
    engine = _step_until(model, K.CLEARED, unit_kind="fire_engine")[3]
    model.env.run(until=model.env.now + 1.0)
    unit = _unit(model, engine)
    way = unit._drive.way
    at, at_s = way[_next_on_way(way, model.env.now)]
    model.close_roads(bridge)
    assert unit.stranded and unit.status.value == "available" and model.board.free[unit.slot]
    nodes = site.router.nodes
    back_to_scene_s = _nx_s(_without(graph, bridge), int(nodes[at]), inc.node)
    assert unit.travel_s(world.node_index[inc.node], model.env.now) == pytest.approx(
        (at_s - model.env.now + back_to_scene_s) * model.board.factor, rel=1e-9
    )  # sent on from where it waits
    model.env.run(until=model.env.now + 600.0)
    assert not _events(model, K.RETURNED, engine)
    reopen_s = model.env.now
    model.reopen_roads(bridge)
    model.env.run(until=30_000)
    stranded, home = _events(model, K.REROUTED, engine)
    assert stranded[6] == "stranded" and home[6] == f"via:{nodes[at]}"
    (returned,) = _events(model, K.RETURNED, engine)
    assert returned[0] == pytest.approx(reopen_s + _nx_s(graph, int(nodes[at]), unit.base_node), rel=1e-9)
    assert unit.status.value == "available" and not unit.stranded


@pytest.mark.parametrize("redirect", ["true", "false"])
def test_a_busy_run_with_roads_closing_and_reopening_keeps_its_books(
    daishan_site, world, cache_dir, redirect
):
    """Bridges and roads closing and reopening every half hour under a heavy load: every dispatch ends in an
    arrival or a turn back, every incident gets its outcome, nobody is left on the way."""
    cfg = load_config(
        [
            f"cache_dir={cache_dir}",
            "run.days=1",
            "incidents.rate_multiplier=600",
            f"fleet.redirect_while_returning={redirect}",
        ]
    )
    incidents = generate_incidents(daishan_site, cfg, 0, world)
    model = EchelonModel(daishan_site, cfg, incidents, 0, world)
    names = road_names(daishan_site)
    rng = np.random.default_rng(7)

    def drill(env):
        while env.now < 86_400:
            yield env.timeout(1800)
            if rng.random() < 0.6:
                name = (
                    ("Yushan Bridge", "Xiushan Bridge")[rng.integers(2)]
                    if rng.random() < 0.6
                    else names[rng.integers(len(names))]
                )
                model.close_roads(edges_named(daishan_site, name))
            else:
                model.reopen_roads(sorted(model.roads.closed)[::2])

    model.env.process(drill(model.env))
    ev = model.run().to_frame()
    rerouted = ev[ev["kind"] == "rerouted"]
    assert {"via", "turned_back"} <= set(rerouted["detail"].str.split(":").str[0])
    on_way: dict[str, int] = {}
    road = ev[
        ev["kind"].isin(["dispatched", "arrived", "rerouted"])
        & ~ev["unit_kind"].isin(["drone", "own_security"])
    ]
    for row in road.itertuples():
        if row.kind == "dispatched":
            assert row.unit not in on_way, row
            on_way[row.unit] = row.incident
        elif row.kind == "arrived" or row.detail == "turned_back":
            assert on_way.pop(row.unit) == row.incident, row
    assert not on_way
    occurred = set(ev.loc[ev["kind"] == "occurred", "incident"])
    assert occurred == set(ev.loc[ev["kind"] == "outcome", "incident"])


def test_a_unit_driving_home_over_a_bridge_that_closes_behind_it_cannot_turn_back_across_it(
    daishan_site, world, cfg
):
    site = daishan_site
    bridge = edges_named(site, "Yushan Bridge")
    inc = _at_place(site, 0, "fire", 100.0, _near_yushan_bridge(site, world))
    model = EchelonModel(site, cfg, [inc], 0, world)
    engine = _step_until(model, K.CLEARED, unit_kind="fire_engine")[3]
    unit, index = _unit(model, engine), world.node_index
    ends = {(index[u], index[v]) for u, v, _ in bridge}
    across_s = next(tb for (a, _), (b, tb) in itertools.pairwise(unit._drive.way) if (a, b) in ends)
    model.env.run(until=across_s + 1.0)  # just over the bridge, on the island
    scene = index[inc.node]
    assert math.isfinite(unit.travel_s(scene, model.env.now))
    model.close_roads(bridge)
    assert math.isinf(unit.travel_s(scene, model.env.now))  # not back over the closed bridge
    assert not _events(model, K.REROUTED)  # its way home is intact
    model.env.run(until=30_000)
    assert len(_events(model, K.RETURNED, engine)) == 1
