"""Agents acting on their own, and outcomes that follow from who was on scene: every outcome in the log is
checked against the arrivals that should have caused it ("who caused this?").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis import metrics
from sim.config import load_config
from sim.experiment import compare, run, simulate
from sim.model.events import EventLog
from sim.model.incidents import generate_incidents
from sim.model.model import EchelonModel
from sim.model.world import World

HAZMAT_CAPABLE = {"hazmat_unit", "echelon"}
SUPPRESSION = {"own_security", "echelon", "fire_engine"}


@pytest.fixture(scope="module")
def world(daishan_site):
    return World.build(daishan_site)


def _leaky(cache_dir, policy: str, extra: list[str] = ()) -> list[str]:
    return [
        f"cache_dir={cache_dir}",
        f"policy={policy}",
        "run.days=40",
        "incidents.kinds.chemical_leak.rate_per_enterprise_year=2",
        "incidents.kinds.fire.rate_per_enterprise_year=0.5",
        *extra,
    ]


def _on_scene(ev: pd.DataFrame, incident: int, t_s: float) -> set[tuple[str, str]]:
    """(unit, unit kind) of every unit that had arrived at the incident and not yet cleared at ``t_s``."""
    mine = ev[(ev["incident"] == incident) & (ev["t_s"] <= t_s)]
    present: dict[str, str] = {}
    for t, kind, unit, unit_kind in zip(
        mine["t_s"], mine["kind"], mine["unit"], mine["unit_kind"], strict=True
    ):
        if kind == "arrived":
            present[unit] = unit_kind
        elif kind == "cleared" and t < t_s:
            present.pop(unit, None)
    return set(present.items())


@pytest.mark.parametrize("policy", ["police_only", "echelon_135"])
def test_a_leak_is_contained_only_by_a_hazmat_capable_unit_on_scene(daishan_site, world, cache_dir, policy):
    cfg = load_config(_leaky(cache_dir, policy))
    rep = simulate(daishan_site, cfg, 0, world)
    ev = rep.events
    contained = ev[ev["kind"] == "contained"]
    assert len(contained) > 5
    model = EchelonModel(daishan_site, cfg, [], 0, world)
    hazmat_echelons = {u.unit_id for u in model.units if u.unit_kind == "echelon" and u.hazmat}
    assert hazmat_echelons  # the chemical zone's grids
    for row in contained.itertuples():
        assert row.unit_kind in HAZMAT_CAPABLE, row
        if row.unit_kind == "echelon":
            assert row.unit in hazmat_echelons, f"{row.unit} has no hazmat kit"
        arrived = ev[(ev["incident"] == row.incident) & (ev["unit"] == row.unit) & (ev["kind"] == "arrived")]
        cleared = ev[(ev["incident"] == row.incident) & (ev["unit"] == row.unit) & (ev["kind"] == "cleared")]
        assert arrived["t_s"].min() <= row.t_s  # it was there for its whole containment time...
        assert cleared.empty or cleared["t_s"].min() >= row.t_s  # ...and had not left
    # the outcome follows: contained leaks stop growing at the containment moment, below the full extent
    out = ev[ev["kind"] == "outcome"].set_index("incident")
    icfg = cfg.incidents
    full_area = np.pi * icfg.leak_max_radius_m**2
    for row in contained.itertuples():
        assert out.loc[row.incident, "detail"] == "contained"
        assert out.loc[row.incident, "unit"] == row.unit  # the outcome names the unit that contained it
        radius = (
            icfg.leak_initial_radius_m
            + icfg.leak_growth_m_per_min * (row.t_s - _t_occurred(ev, row.incident)) / 60
        )
        assert out.loc[row.incident, "value"] == pytest.approx(np.pi * radius**2)
        assert out.loc[row.incident, "value"] < full_area
    uncontained = out[out["detail"] == "uncontained"]
    assert np.allclose(uncontained["value"], full_area)
    assert set(contained["incident"]) == set(out.index[out["detail"] == "contained"])


def _t_occurred(ev: pd.DataFrame, incident: int) -> float:
    return float(ev[(ev["incident"] == incident) & (ev["kind"] == "occurred")]["t_s"].iloc[0])


def test_leaks_are_contained_under_police_only_by_the_fire_brigade(daishan_site, world, cache_dir):
    ev = simulate(daishan_site, load_config(_leaky(cache_dir, "police_only")), 0, world).events
    contained = ev[ev["kind"] == "contained"]
    assert len(contained) > 0 and set(contained["unit_kind"]) == {"hazmat_unit"}
    fires = ev[(ev["kind"] == "outcome") & ev["detail"].isin(["controlled", "flashover"])]
    assert len(fires) > 0  # fires are answered by engines, not decided by the configuration


@pytest.mark.parametrize("policy", ["police_only", "echelon_135"])
def test_every_outcome_is_caused_by_who_arrived_before_it(daishan_site, world, cache_dir, policy):
    """Good outcomes coincide with the first arrival of a unit that counts (or with the stations'
    coordination for cross-district disputes); bad ones have no such arrival before them."""
    cfg = load_config(_leaky(cache_dir, policy, ["incidents.rate_multiplier=3"]))
    rep = simulate(daishan_site, cfg, 0, world)
    ev = rep.events
    kinds = rep.incidents.set_index("incident")["kind"]
    arrived = ev[(ev["kind"] == "arrived") & (ev["unit_kind"] != "drone")]
    coordinated = ev[ev["kind"] == "coordinated"].set_index("incident")["t_s"]
    checked = 0
    for row in ev[ev["kind"] == "outcome"].itertuples():
        kind = kinds[row.incident].removeprefix("cross_district_")
        if kind == "chemical_leak":
            continue  # the test above
        counted_by = set(cfg.incidents.kinds[kind].counted_by)
        mine = arrived[(arrived["incident"] == row.incident) & arrived["unit_kind"].isin(counted_by)]
        first = mine["t_s"].min() if len(mine) else np.inf
        if row.detail in ("intercepted", "calmed", "controlled", "operator_caught"):
            moment = (
                max(first, coordinated.get(row.incident, -np.inf))
                if "cross" in kinds[row.incident]
                else first
            )
            assert row.t_s == pytest.approx(moment), row
            # the outcome names who made it: the first unit that counts, and the log shows it arrived then
            assert row.unit == mine.sort_values("t_s", kind="stable").iloc[0]["unit"], row
            assert row.unit_kind in counted_by
        elif "cross" in kinds[row.incident] and first < row.t_s:  # in time, but the stations were not
            assert coordinated.get(row.incident, np.inf) > row.t_s, row
        else:
            assert first >= row.t_s, row  # nobody who counts was there before it went wrong
        checked += 1
    assert checked > 50


def test_fire_is_controlled_by_extinguishers_or_an_engine(daishan_site, world, cache_dir):
    ev = simulate(daishan_site, load_config(_leaky(cache_dir, "echelon_135")), 0, world).events
    controlled = ev[(ev["kind"] == "outcome") & (ev["detail"] == "controlled")]
    assert len(controlled) > 0
    for row in controlled.itertuples():
        there = _on_scene(ev, row.incident, row.t_s)
        assert {k for _, k in there} & SUPPRESSION, row


def test_a_restarted_model_writes_the_same_log_as_a_new_one(daishan_site, world, cache_dir):
    cfg = load_config([f"cache_dir={cache_dir}", "run.days=10", "incidents.rate_multiplier=20"])
    model = EchelonModel(daishan_site, cfg, generate_incidents(daishan_site, cfg, 0, world), 0, world)
    model.run()
    again = simulate(daishan_site, cfg, 1, world, model=model).events
    fresh = simulate(daishan_site, cfg, 1, world).events
    pd.testing.assert_frame_equal(again, fresh)
    assert (again["detail"] == "redirected").any()  # the first run left units mid-trip: reset must clear it


def test_units_are_sent_on_from_the_road_home_only_when_allowed(daishan_site, world, cache_dir):
    base = [f"cache_dir={cache_dir}", "run.days=10", "incidents.rate_multiplier=40"]
    rep = simulate(daishan_site, load_config(base), 0, world)
    on = rep.events
    off = simulate(
        daishan_site, load_config([*base, "fleet.redirect_while_returning=false"]), 0, world
    ).events
    assert not (off["detail"] == "redirected").any()
    redirected = on[(on["kind"] == "dispatched") & (on["detail"] == "redirected")]
    assert len(redirected) > 5
    router, factor = daishan_site.router, load_config(base).network.emergency_time_factor
    homes = {u.unit_id: u.base_node for u in rep.model.units}
    place = rep.incidents.set_index("incident")["node"]
    shorter = 0
    for row in redirected.itertuples():
        mine = on[on["unit"] == row.unit]
        before = mine[(mine["t_s"] <= row.t_s) & mine["kind"].isin(["cleared", "returned"])]
        left = before.iloc[-1]
        assert left["kind"] == "cleared"  # it had left a scene and was not yet home
        trip = mine[(mine["incident"] == row.incident) & mine["kind"].isin(["mobilised", "arrived"])]
        mobilised, arrived = trip["t_s"].iloc[0], trip["t_s"].iloc[1]
        if (on[(on["incident"] == row.incident) & (on["kind"] == "handoff")]).empty:
            assert mobilised == pytest.approx(row.t_s)  # no second turnout: already in the vehicle
        # where it was: part of the way from the scene it left towards home
        scene, home, target = place[left["incident"]], homes[row.unit], place[row.incident]
        home_s = router.travel_time_s(scene, home)
        done = min(1.0, (mobilised - left["t_s"]) / home_s)
        via_scene = (done * home_s + router.travel_time_s(scene, target)) * factor
        via_home = ((1 - done) * home_s + router.travel_time_s(home, target)) * factor
        assert arrived - mobilised == pytest.approx(min(via_scene, via_home), rel=1e-9, abs=1e-6)
        shorter += via_scene < via_home
    assert shorter > 0  # some go straight on from the road, not round by their base


def test_grid_overflow_differs_from_grid_only_under_load_and_not_without(daishan_site, cache_dir):
    """echelon_overflow sends another grid's team only when the grid's own team is busy: at today's rates
    no team is ever busy and the two policies write the same log; under a 60x load they part."""
    pair = ("echelon_135", "echelon_overflow")

    def logs(extra: list[str]) -> list[pd.DataFrame]:
        cfgs = {
            p: load_config([f"cache_dir={cache_dir}", f"policy={p}", "run.days=20", *extra]) for p in pair
        }
        reps = compare(cfgs, daishan_site)
        return [r.events for r in reps if r.replication == 0]

    calm = logs(["run.replications=1"])
    pd.testing.assert_frame_equal(*calm)
    busy = logs(["run.replications=1", "incidents.rate_multiplier=60"])
    assert not busy[0].equals(busy[1])
    grid_only = busy[0]
    assert (grid_only[grid_only["kind"] == "queued"]["detail"] == "echelon").any()
    overflow = busy[1]
    assert not (overflow[overflow["kind"] == "queued"]["detail"] == "echelon").any()


def test_queueing_and_utilisation_are_reported_per_role(daishan_site, world, cache_dir):
    cfg = load_config([f"cache_dir={cache_dir}", "run.days=20", "incidents.rate_multiplier=60"])
    rep = simulate(daishan_site, cfg, 0, world)
    q = metrics.queueing(rep.events).set_index("role")
    assert {"own_security", "echelon", "police"} <= set(q.index)
    assert q.loc["echelon", "queued"] > 0 and q.loc["echelon", "mean_wait_s"] > 0
    assert q.loc["own_security", "queued"] == 0  # guards are on site: never queued
    head = metrics.headline(
        metrics.incident_table(rep.events, rep.incidents), rep.events, rep.horizon_s, rep.units
    )
    assert head["queued_share_echelon"] == pytest.approx(q.loc["echelon", "queued_share"])
    assert 0 < head["utilisation_police"] < 1


def test_a_run_builds_its_agents_once(daishan_site, cache_dir):
    cfg = load_config([f"cache_dir={cache_dir}", "run.days=2", "run.replications=3", "run.workers=1"])
    reps = run(cfg, daishan_site)  # in one process (worker processes return no models)
    assert len({id(r.model) for r in reps}) == 1
    assert [r.replication for r in reps] == [0, 1, 2]


def test_the_log_can_be_read_while_it_grows(daishan_site, world, cache_dir):
    cfg = load_config([f"cache_dir={cache_dir}", "run.days=2", "incidents.rate_multiplier=10"])
    model = EchelonModel(daishan_site, cfg, generate_incidents(daishan_site, cfg, 0, world), 0, world)
    sizes = []
    for _ in range(3):
        for _ in range(600):  # ten simulated hours a time, as a live page would
            model.step()
        sizes.append(len(model.log.to_frame()))
    assert sizes == sorted(sizes) and sizes[0] > 0 and sizes[-1] > sizes[0]
    assert model.env.now == 1800 * cfg.run.tick_s
    assert isinstance(model.log, EventLog)


def test_the_brigade_draws_the_same_containment_time_under_every_policy(daishan_site, cache_dir):
    """Common random numbers for leaks: the brigade's first hazmat unit uses the same uniform whichever
    policy runs and whoever else is on scene, so its time from arrival to containment is the same."""
    cfgs = {p: load_config(_leaky(cache_dir, p)) for p in ("police_only", "echelon_135")}
    logs = {r.policy: r.events for r in compare(cfgs, daishan_site)}

    def work_s(ev: pd.DataFrame) -> pd.Series:
        hazmat = ev[ev["unit_kind"] == "hazmat_unit"]
        arrived = hazmat[hazmat["kind"] == "arrived"].drop_duplicates("incident").set_index("incident")["t_s"]
        done = hazmat[hazmat["kind"] == "contained"].set_index("incident")["t_s"]
        return (done - arrived.reindex(done.index)).dropna()

    a, b = work_s(logs["police_only"]), work_s(logs["echelon_135"])
    both = a.index.intersection(b.index)
    assert len(both) >= 3
    assert np.allclose(a[both], b[both])
