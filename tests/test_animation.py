"""The drill animation: unit tracks rebuilt from the event log follow the roads and the log's moments, and
the GIF, MP4 and still are written (offline, on the default synthetic site)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings

import imageio_ffmpeg
import numpy as np
import pandas as pd
import pytest
import shapely
from PIL import Image

from sim.drill.animation import render_animation, spread, still_frame
from sim.drill.animation_labels import clock_text
from sim.drill.catalogue import figure_labels
from sim.drill.road_paths import Closures, RoadPaths, _edges_named
from sim.drill.scene import frame_times, scene
from sim.drill.tracks import GROUND, unit_tracks
from sim.drill.unit_table import COLUMNS, units_frame
from sim.model.incidents import N_UNIFORMS, Incident, incidents_frame
from sim.model.model import EchelonModel
from sim.model.world import World

START_S = 8 * 3600.0
MEDIAN = tuple([0.5] * N_UNIFORMS)


def _incident(i: int, kind: str, t_s: float, e) -> Incident:
    return Incident(
        i, kind, t_s, e.node, e.x_m, e.y_m, e.eid, e.grid, e.station, e.area_class, False, "", MEDIAN
    )


def _far_from_post(site, world):
    """An enterprise far (by road) from its grid's post, and another of the same grid: the grid's echelon
    drives home long enough from the first to be sent on to the second."""
    post = dict(zip(site.posts["grid"], site.posts["node"], strict=True))
    index, bases = world.node_index, world.bases
    by_grid: dict[str, list] = {}
    for e in world.enterprises:
        if not e.hazmat and e.grid in post:
            by_grid.setdefault(e.grid, []).append(e)
    pairs = [(g, es) for g, es in by_grid.items() if len(es) > 1]

    def home_s(e):
        return bases.back_s[bases.row[int(post[e.grid])], index[e.node]]

    _, members = max(pairs, key=lambda p: max(home_s(e) for e in p[1]))
    first = max(members, key=home_s)
    return first, next(e for e in members if e.eid != first.eid)


@pytest.fixture(scope="module")
def drill(daishan_site, daishan_cfg):
    """A morning on the default site: a theft, a fire, a chemical leak, and a second theft in the first
    one's grid while its echelon drives home (so it is redirected)."""
    site, cfg = daishan_site, daishan_cfg
    world = World.build(site)
    first, second = _far_from_post(site, world)
    hazmat = next(
        e for e in world.enterprises if e.hazmat and e.kind in ("petrochemical", "chemical_storage")
    )
    fire = next(e for e in world.enterprises if e.station != first.station and not e.hazmat)
    incidents = [
        _incident(0, "theft", START_S, first),
        _incident(1, "fire", START_S + 180, fire),
        _incident(2, "chemical_leak", START_S + 360, hazmat),
    ]
    model = EchelonModel(site, cfg, incidents, 0, world)
    model.env.run(until=START_S + 4 * 3600)
    log = model.log.to_frame()
    echelon = log[(log["incident"] == 0) & (log["unit_kind"] == "echelon")].set_index("kind")["t_s"]
    lag_s = echelon["dispatched"] - START_S  # from the theft to the echelon's dispatch
    t_second = (echelon["cleared"] + echelon["returned"]) / 2 - lag_s
    incidents.append(_incident(3, "theft", t_second, second))
    model.restart(incidents, 0)
    model.env.run(until=START_S + 4 * 3600)
    events = model.log.to_frame()
    assert (events["detail"] == "redirected").any(), "the scenario must redirect a unit on its way home"
    return site, cfg, model, events, incidents_frame(incidents), units_frame(model)


@pytest.fixture(scope="module")
def tracks(drill):
    site, _, _, events, incidents, units = drill
    return unit_tracks(events, incidents, units, site)


def _xy(site, node) -> np.ndarray:
    return np.array([site.graph.nodes[node]["x"], site.graph.nodes[node]["y"]])


def _road_line(site, nodes: list[int]) -> shapely.MultiLineString:
    """The graph's own edges between consecutive nodes (every parallel edge), and every edge at the first
    and last node (a leg may begin or end part-way along one, where a unit turned off): where it may be."""
    g = site.graph
    pairs = list(itertools.pairwise(nodes))
    pairs += [(u, v) for end in (nodes[0], nodes[-1]) for u, v in (*g.in_edges(end), *g.out_edges(end))]
    lines = []
    for u, v in pairs:
        for data in g[u][v].values():
            geometry = data.get("geometry")
            lines.append(
                geometry if geometry is not None else shapely.LineString([_xy(site, u), _xy(site, v)])
            )
    return shapely.MultiLineString(lines)


# ------------------------------------------------------------------------------------------- unit table


def test_units_frame_lists_every_unit_drone_and_guard_force_with_its_base(drill):
    site, _, model, _, _, units = drill
    assert list(units.columns) == COLUMNS
    counts = units["unit_kind"].value_counts()
    for kind in GROUND:
        assert counts[kind] == sum(u.unit_kind == kind for u in model.units)
    assert counts["drone"] == len(model.patrol_drones) + len(model.docked_drones)
    assert counts["own_security"] == len(model.enterprises)
    ground = units[units["unit_kind"].isin(GROUND)]
    for row in ground.itertuples():
        assert np.allclose([row.x_m, row.y_m], _xy(site, row.base_node))
    drones = units[units["unit_kind"] == "drone"]
    assert (drones["base_node"] == -1).all()
    guards = units[units["unit_kind"] == "own_security"]
    assert guards["unit"].str.endswith("/guards").all()


# --------------------------------------------------------------------------------------------- tracks


def test_a_unit_is_at_its_origin_when_it_mobilises_and_on_the_scene_node_when_it_arrives(drill, tracks):
    site, _, _, events, incidents, units = drill
    scene_node = dict(zip(incidents["incident"], incidents["node"], strict=True))
    base = dict(zip(units["unit"], units["base_node"], strict=True))
    redirected = set(
        events.loc[events["detail"] == "redirected", "unit"] + "@" + events["incident"].astype(str)
    )
    ground = events[events["unit_kind"].isin(GROUND)]
    checked = 0
    for row in ground[ground["kind"].isin(["mobilised", "arrived"])].itertuples():
        at = tracks[row.unit].positions(row.t_s)[0]
        if row.kind == "arrived":
            assert np.allclose(at, _xy(site, scene_node[row.incident]), atol=1e-6), row
        elif f"{row.unit}@{row.incident}" not in redirected:  # from home
            assert np.allclose(at, _xy(site, base[row.unit]), atol=1e-6), row
        checked += 1
    assert checked >= 8


def test_positions_lie_on_the_road_edges_of_the_path(drill, tracks):
    site, checked = drill[0], 0
    for track in tracks.values():
        if track.unit_kind not in GROUND:
            continue
        for leg in track.legs:
            if not leg.line.nodes or leg.line.total == 0 or leg.t1_s <= leg.t0_s:
                continue
            roads = _road_line(site, [n for n, _ in leg.line.nodes])
            xy = leg.at(np.linspace(leg.t0_s, leg.t1_s, 60))
            off_m = roads.distance(shapely.points(xy))
            assert np.max(off_m) < 1.0, (track.unit, np.max(off_m))
            checked += 1
    assert checked >= 10


def test_every_leg_is_driven_at_the_models_pace_so_the_path_is_the_models_own(drill, tracks):
    """Out at emergency speed (free-flow seconds / emergency factor per second), home at free flow: a path
    that is not the model's shortest one (or a wrong turn-off of a redirected unit) would not fit the log."""
    cfg = drill[1]
    emergency = 1.0 / cfg.network.emergency_time_factor
    paces = []
    for track in tracks.values():
        if track.unit_kind not in GROUND:
            continue
        for leg in track.legs:
            if leg.t1_s > leg.t0_s and leg.line.total > 0:
                pace = leg.line.total / (leg.t1_s - leg.t0_s)
                assert min(abs(pace - emergency), abs(pace - 1.0)) < 1e-6, (track.unit, pace)
                paces.append(pace)
    assert any(abs(p - emergency) < 1e-6 for p in paces) and any(abs(p - 1.0) < 1e-6 for p in paces)


def test_a_stressed_week_every_leg_at_the_models_pace_and_every_arrival_on_its_scene(daishan_site, cache_dir):
    """60x the incident rates for a week: units redirected on their way home (some after a county handoff,
    so home before they turn), queued, sent on: the log's every moment fits the rebuilt paths."""
    from sim.config import load_config
    from sim.experiment import simulate

    cfg = load_config([f"cache_dir={cache_dir}", "incidents=stress", "run.days=7"])
    rep = simulate(daishan_site, cfg, 0)
    events = rep.events
    assert (events["detail"] == "redirected").sum() >= 5
    tracks = unit_tracks(events, rep.incidents, units_frame(rep.model), daishan_site)
    emergency = 1.0 / cfg.network.emergency_time_factor
    for track in tracks.values():
        if track.unit_kind in GROUND:
            for leg in track.legs:
                if leg.t1_s > leg.t0_s and leg.line.total > 0:
                    pace = leg.line.total / (leg.t1_s - leg.t0_s)
                    assert min(abs(pace - emergency), abs(pace - 1.0)) < 1e-6, (track.unit, leg.t0_s, pace)
    node = dict(zip(rep.incidents["incident"], rep.incidents["node"], strict=True))
    arrived = events[(events["kind"] == "arrived") & events["unit_kind"].isin(GROUND)]
    for row in arrived.itertuples():
        assert np.allclose(tracks[row.unit].positions(row.t_s)[0], _xy(daishan_site, node[row.incident]))


def test_tracks_refuse_a_log_of_several_policies(drill):
    site, _, _, events, incidents, units = drill
    both = pd.concat([events.assign(policy="a"), events.assign(policy="b")], ignore_index=True)
    with pytest.raises(ValueError, match="filter the events by policy"):
        unit_tracks(both, incidents, units, site)


def test_the_stand_in_finds_a_road_by_any_of_its_names_ignoring_case(daishan_site):
    u, v, k, names = next(
        (u, v, k, n) for u, v, k, n in daishan_site.graph.edges(keys=True, data="name") if isinstance(n, list)
    )
    for name in names:
        assert (u, v, k) in _edges_named(daishan_site, f"  {name.upper()} ")
    assert _edges_named(daishan_site, "no such road") == []


def test_a_redirected_unit_turns_off_from_where_it_was_on_its_way_home(drill, tracks):
    site, _, _, events, incidents, _ = drill
    row = events[events["detail"] == "redirected"].iloc[0]
    track = tracks[row["unit"]]
    mobilised = events[(events["unit"] == row["unit"]) & (events["kind"] == "mobilised")]
    t = float(mobilised[mobilised["incident"] == row["incident"]]["t_s"].iloc[0])
    home_leg = next(g for g in track.legs if g.t1_s == t and g.t0_s < t)
    out_leg = next(g for g in track.legs if g.t0_s == t)
    assert np.allclose(home_leg.at(np.array([t])), out_leg.at(np.array([t])))  # no jump
    assert not np.allclose(out_leg.at(np.array([t]))[0], _xy(site, incidents["node"].iloc[row["incident"]]))
    assert len(track.shown) == 1  # out from the first dispatch until home after the second incident


def test_drones_fly_straight_from_their_nest_and_guards_stay_on_their_premises(drill, tracks):
    _, _, _, events, incidents, units = drill
    place = incidents.set_index("incident")[["x_m", "y_m"]]
    home = units.set_index("unit")[["x_m", "y_m"]]
    drones = events[(events["unit_kind"] == "drone") & events["kind"].isin(["dispatched", "arrived"])]
    assert len(drones)
    for row in drones.itertuples():
        at = tracks[row.unit].positions(row.t_s)[0]
        where = home.loc[row.unit] if row.kind == "dispatched" else place.loc[row.incident]
        assert np.allclose(at, where.to_numpy(), atol=1e-6)
    guards = events[events["unit_kind"] == "own_security"]
    for unit, rows in guards.groupby("unit"):
        on = rows.set_index("kind")["t_s"]
        track = tracks[unit]
        assert np.isnan(track.positions(on["mobilised"])[0]).all()  # not drawn on the way
        assert np.allclose(track.positions((on["arrived"] + on["cleared"]) / 2)[0], home.loc[unit].to_numpy())


def _reroute_log(site, units):
    """A police car mobilised to a far node; a road on its path closes; it is rerouted via the next node."""
    paths = RoadPaths(site)
    unit = units[units["unit_kind"] == "police"].iloc[0]
    base = int(unit.base_node)
    far = max(
        site.graph.nodes, key=lambda n: paths.time_s(base, n) if math.isfinite(paths.time_s(base, n)) else 0
    )
    line = paths.path(base, far)
    nodes = [n for n, _ in line.nodes]
    t0, pace = 1000.0, 1 / 0.75
    for k in range(len(nodes) // 3, len(nodes) - 2):
        via, nxt = nodes[k], nodes[k + 1]
        name = next((d.get("name") for d in site.graph[via][nxt].values() if d.get("name")), None)
        if not isinstance(name, str):
            continue
        closed = frozenset(_edges_named(site, name))
        new = paths.path(via, far, closed)
        if new is not None and new.total > 0:
            break
    w_via = line.weight_at_node(via)
    t_r = t0 + 0.8 * w_via / pace  # before it reaches the via node
    t_a = t_r + (w_via - 0.8 * w_via + new.total) / pace
    incidents = pd.DataFrame({"incident": [0], "node": [far], "x_m": [0.0], "y_m": [0.0], "t_s": [t0 - 300]})
    incidents[["x_m", "y_m"]] = _xy(site, far)
    events = pd.DataFrame(
        [
            (t0 - 60, "dispatched", 0, unit.unit, "police", 3, "", math.nan),
            (t0, "mobilised", 0, unit.unit, "police", 3, "", math.nan),
            (t_r, "inject", -1, name, "", 0, "road_closed", 1.0),
            (t_r, "rerouted", 0, unit.unit, "police", 3, f"via:{via}", t_a - t_r),
            (t_a, "arrived", 0, unit.unit, "police", 3, "", math.nan),
        ],
        columns=["t_s", "kind", "incident", "unit", "unit_kind", "tier", "detail", "value"],
    )
    ahead = [n for n, w in line.nodes if 0.8 * w_via <= w <= w_via]  # the old path's nodes still to drive
    return events, incidents, unit.unit, via, far, closed, ahead, (t0, t_r, t_a)


def test_a_rerouted_unit_drives_on_to_the_via_node_then_around_the_closed_road(drill):
    site, _, _, _, _, units = drill
    events, incidents, unit, via, far, closed, ahead, (_, t_r, t_a) = _reroute_log(site, units)
    track = unit_tracks(events, incidents, units, site)[unit]
    before, after = track.legs
    assert before.t1_s == after.t0_s == t_r
    assert np.allclose(before.at(np.array([t_r])), after.at(np.array([t_r])))  # no jump
    driven = [n for n, _ in after.line.nodes]
    assert driven[: len(ahead)] == ahead and ahead[-1] == via  # on along the old path to the via node
    assert not set(itertools.pairwise(driven[len(ahead) - 1 :])) & {(u, v) for u, v, _ in closed}
    assert np.allclose(track.positions(t_a)[0], _xy(site, far))
    t_via = t_r + after.line.weight_at_node(via) / (after.line.total / (t_a - t_r))
    assert np.allclose(track.positions(t_via)[0], _xy(site, via), atol=1e-6)


def test_a_unit_that_turns_back_drives_home(drill):
    site, _, _, _, _, units = drill
    events, incidents, unit, *_, (_, t_r, _) = _reroute_log(site, units)
    events.loc[events["kind"] == "rerouted", ["detail", "value"]] = ["turned_back", 400.0]
    events.loc[events["kind"] == "arrived", ["kind", "t_s"]] = ["returned", t_r + 400.0]
    track = unit_tracks(events, incidents, units, site)[unit]
    base = int(units.set_index("unit").loc[unit, "base_node"])
    assert np.allclose(track.positions(t_r + 400.0)[0], _xy(site, base))
    assert np.isnan(track.positions(t_r + 401.0)[0]).all()  # home: no longer drawn


def test_closures_follow_the_road_injects():
    site_edges = {"A Road": [(1, 2, 0), (2, 1, 0)]}

    def find(_site, name):
        return site_edges[name]

    log = pd.DataFrame(
        {
            "t_s": [10.0, 50.0],
            "kind": ["inject", "inject"],
            "unit": ["A Road", "A Road"],
            "detail": ["road_closed", "road_reopened"],
        }
    )
    closures = Closures.from_log(log, None, find)
    assert closures.at(5.0) == frozenset()
    assert closures.at(10.0) == frozenset(site_edges["A Road"])
    assert closures.at(50.0) == frozenset()


# ------------------------------------------------------------------------------------------- drawing


def test_frames_clock_and_spread():
    assert len(frame_times(0.0, 3600.0, 10.0)) == 360
    en, zh = figure_labels("en", "animation"), figure_labels("zh", "animation")
    assert clock_text(8 * 3600 + 5 * 60 + 30, en) == "Time 08:05:30"
    assert clock_text(8 * 3600 + 5 * 60 + 30, en, start_s=8 * 3600) == "Time 08:05:30  +05:30"
    assert clock_text(86_400 + 61, zh) == "时刻 00:01:01 (第2天)"
    xy = spread(np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]]), 10.0)
    assert np.allclose(np.hypot(*xy[:2].T), 10.0) and not np.allclose(xy[0], xy[1])
    assert np.allclose(xy[2], [5.0, 5.0])
    beside = spread(np.array([[5.0, 5.0], [9.0, 9.0]]), 10.0, fixed_m=np.array([[5.0, 5.0]]))
    assert np.isclose(np.hypot(*(beside[0] - 5.0)), 10.0) and np.allclose(beside[1], [9.0, 9.0])


def test_gif_and_mp4_are_written_with_one_frame_per_step(drill, tmp_path):
    site, _, _, events, incidents, units = drill
    told = []
    paths = render_animation(
        events,
        incidents,
        units,
        site,
        tmp_path,
        start_s=START_S,
        end_s=START_S + 1200,
        step_s=60,
        progress=lambda stage, done, total: told.append((done, total)),
    )
    gif, mp4 = paths
    assert (gif.name, mp4.name) == ("animation.gif", "animation.mp4")
    assert gif.stat().st_size > 0 and mp4.stat().st_size > 0
    assert Image.open(gif).n_frames == 20
    assert imageio_ffmpeg.count_frames_and_secs(str(mp4))[0] == 20
    assert told[-1] == (20, 20) and len(told) == 20


def test_chinese_labels_draw_without_missing_glyph_warnings(drill, tmp_path):
    site, _, _, events, incidents, units = drill
    labels = {"title": "演练回放：岱山", "inject": "注入"}
    inject = pd.DataFrame(
        [(START_S + 100, "inject", -1, "E0001", "", 0, "terminal_offline", 3.0)], columns=events.columns
    )
    log = pd.concat([events, inject], ignore_index=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = still_frame(
            log,
            incidents,
            units,
            site,
            tmp_path / "still.png",
            t_s=START_S + 400,
            start_s=START_S,
            end_s=START_S + 3600,
            lang="zh",
            labels=labels,
            messages={3: "企业一键报警终端离线"},
        )
    assert not [w for w in caught if "missing from font" in str(w.message)]
    assert path.stat().st_size > 0


def test_the_scene_reads_a_leaks_area_and_the_injects(drill):
    site, _, _, events, incidents, units = drill
    sc = scene(events, incidents, units, site)
    leak = sc.incidents.set_index("incident").loc[2]
    area = events[(events["incident"] == 2) & (events["kind"] == "outcome")]["value"].iloc[0]
    assert math.isclose(math.pi * leak["leak_m"] ** 2, area)
    assert sc.injects == []
    assert dataclasses.is_dataclass(sc)


@pytest.mark.slow
def test_a_one_hour_drill_renders_360_frames(drill, tmp_path):
    site, _, _, events, incidents, units = drill
    gif, mp4 = render_animation(
        events, incidents, units, site, tmp_path, start_s=START_S, end_s=START_S + 3600
    )
    assert Image.open(gif).n_frames == 360
    assert imageio_ffmpeg.count_frames_and_secs(str(mp4))[0] == 360


def test_the_synthetic_watermark_shows_over_land(daishan_site):
    """A drill around one enterprise shows land only: the SYNTHETIC watermark must not hide under it."""
    from shapely.geometry import box as square

    from sim.drill.animation import FRAME_IN, _background

    island = max(daishan_site.islands.geometry, key=lambda g: g.area)
    x, y = island.representative_point().coords[0]
    area = (x - 600, y - 450, x + 600, y + 450)
    assert island.contains(square(*area)), "the test needs a box on land"
    _, pixels, (left, bottom, width, height) = _background(
        daishan_site, area, [], figure_labels("en", "animation"), False, False
    )
    rows, cols = pixels.shape[:2]
    assert (cols, rows) == (FRAME_IN[0] * 100, FRAME_IN[1] * 100)
    top = int(rows * (1 - bottom - 0.12 * height))  # the corner's band: the watermark's lower right
    corner = pixels[
        top : int(rows * (1 - bottom)), int(cols * (left + 0.6 * width)) : int(cols * (left + width))
    ]
    r, g, b = (corner[:, :, k].astype(int) for k in range(3))
    reddish = (r - g > 25) & (abs(g - b) < 20)  # the red watermark at 30% over beige land, not orange posts
    assert reddish.sum() > 200
