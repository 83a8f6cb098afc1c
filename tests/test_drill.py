"""Drills on the default site: each inject acts on the agents it names, and the log shows the consequences
(never a flag): who was sent, by which channel the alarm came, who made the outcome."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from sim.cli import load_configs
from sim.drill.run import drill_overrides, run_drill
from sim.drill.scenario import SCENARIO_DIR, load_scenario, scenario_from_dict
from sim.model.events import EventKind as K


def replay(scenario, cache_dir, *overrides):
    """Run a drill as the command does, with the tests' site cache."""
    full = [*drill_overrides(scenario, list(overrides)), f"cache_dir={cache_dir}"]
    cfg, _ = load_configs(full)
    cfgs = dict(zip(cfg.run.policies, load_configs(full, cfg.run.policies)[1], strict=True))
    from sim.site.build import build_site

    return run_drill(scenario, cfg, cfgs, build_site(cfg))


def edited(name: str, change) -> object:
    data = yaml.safe_load((SCENARIO_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    change(data)
    return scenario_from_dict(data, f"{name} (edited)")


def first(events: pd.DataFrame, arm: str, kind: K, **where) -> pd.Series:
    e = events[(events["policy"] == arm) & (events["kind"] == kind)]
    for key, value in where.items():
        e = e[e[key] == value]
    return e.iloc[0] if len(e) else None


@pytest.fixture(scope="module")
def xiushan(cache_dir):
    return replay(load_scenario("xiushan_trade_secret_leak"), cache_dir)


def test_xiushan_echelon_is_on_scene_within_3_minutes_of_the_one_key_alarm(xiushan):
    ev = xiushan.events
    alarm = first(ev, "echelon_135", K.REPORTED)
    assert alarm["detail"] == "one_key"
    arrived = first(ev, "echelon_135", K.ARRIVED, unit_kind="echelon")
    assert arrived["t_s"] - alarm["t_s"] <= 180.0
    assert first(ev, "echelon_135", K.OUTCOME)["detail"] == "intercepted"


def test_a_drill_depends_only_on_its_scenario_and_config(xiushan, cache_dir):
    again = replay(load_scenario("xiushan_trade_secret_leak"), cache_dir)
    pd.testing.assert_frame_equal(xiushan.events, again.events)
    pd.testing.assert_frame_equal(xiushan.incidents, again.incidents)


def test_terminal_offline_sends_the_alarm_by_110_and_online_by_one_key(cache_dir):
    off = replay(load_scenario("night_theft_terminal_offline"), cache_dir)
    assert first(off.events, "echelon_135", K.REPORTED)["detail"] == "call_110"
    on = replay(
        edited(
            "night_theft_terminal_offline", lambda d: d["injects"][0].__setitem__("type", "terminal_online")
        ),
        cache_dir,
    )
    assert first(on.events, "echelon_135", K.REPORTED)["detail"] == "one_key"


def test_trainees_decisions_are_followed_beside_the_policys_own(cache_dir):
    run = replay(load_scenario("night_theft_terminal_offline"), cache_dir)
    assert [a.label for a in run.arms] == ["echelon_135", "echelon_135+trainees"]
    ev = run.events
    policy = first(ev, "echelon_135", K.DISPATCHED, unit_kind="echelon")["unit"]
    trainees = first(ev, "echelon_135+trainees", K.DISPATCHED, unit_kind="echelon")["unit"]
    assert trainees == "E-R08C12-1" != policy
    decision = first(ev, "echelon_135+trainees", K.DECISION, tier=2)
    assert decision["detail"] == f"dispatch:echelon=E-R08C12-1;policy={policy}"
    assert first(ev, "echelon_135", K.DECISION) is None
    drones = ev[(ev["kind"] == K.DISPATCHED) & (ev["unit_kind"] == "drone")]
    assert set(drones["policy"]) == {"echelon_135"}  # the trainees kept the drone on the ground


def test_county_coordination_calms_the_cross_district_dispute_and_strict_liaison_does_not(cache_dir):
    run = replay(load_scenario("cross_district_logistics_dispute"), cache_dir)
    ev = run.events
    assert first(ev, "echelon_135", K.OUTCOME)["detail"] == "calmed"
    assert first(ev, "echelon_135_strict", K.OUTCOME)["detail"] == "escalated"
    county = first(ev, "echelon_135", K.COORDINATED)
    strict = first(ev, "echelon_135_strict", K.COORDINATED)
    assert county["detail"].startswith("county:") and strict["detail"].startswith("liaison:")
    # the second alarm reaches the other station's room and is merged: one decision per incident
    for arm in ("echelon_135", "echelon_135_strict"):
        reported = ev[(ev["policy"] == arm) & (ev["kind"] == K.REPORTED)]
        assert len(set(reported["unit"])) == 2
        assert len(ev[(ev["policy"] == arm) & (ev["kind"] == K.DECIDED)]) == 1


def test_a_unit_out_of_service_is_not_sent_until_it_is_back(cache_dir):
    run = replay(load_scenario("festival_restart_morning"), cache_dir)
    ev = run.events
    start = run.drill.start_s
    for arm in ("echelon_135", "echelon_overflow"):
        sent = ev[(ev["policy"] == arm) & (ev["kind"] == K.DISPATCHED) & (ev["unit"] == "P-S1-1")]
        assert (sent["t_s"] >= start + 7200).all()
    # four alarms in one grid: the grid's single echelon cannot answer them all at once
    queued = ev[(ev["policy"] == "echelon_135") & (ev["kind"] == K.QUEUED) & (ev["detail"] == "echelon")]
    assert len(queued) >= 2
    overflow = ev[
        (ev["policy"] == "echelon_overflow") & (ev["kind"] == K.QUEUED) & (ev["detail"] == "echelon")
    ]
    assert len(overflow) < len(queued)


def test_background_incidents_fall_inside_their_window_and_are_the_same_for_every_arm(cache_dir):
    run = replay(load_scenario("festival_restart_morning"), cache_dir)
    inc = run.incidents
    background = inc[inc["label"] == ""]
    assert len(background) > 0
    assert background["t_s"].between(run.drill.start_s, run.drill.end_s).all()
    occurred = run.events[run.events["kind"] == K.OCCURRED]
    per_arm = occurred.groupby("policy")["incident"].apply(lambda s: tuple(sorted(s)))
    assert per_arm.nunique() == 1 and len(per_arm.iloc[0]) == len(inc)


def test_grounded_drones_see_nothing_and_fly_no_overwatch(cache_dir):
    def ground(d):
        d["injects"].insert(0, {"at": "00:00", "type": "drones_grounded"})

    flying = replay(load_scenario("liuheng_illegal_drone"), cache_dir, "run.policies=[echelon_135]")
    grounded = replay(edited("liuheng_illegal_drone", ground), cache_dir, "run.policies=[echelon_135]")
    assert first(flying.events, "echelon_135", K.DETECTED)["detail"] == "drone"
    assert first(grounded.events, "echelon_135", K.DETECTED)["detail"] == "passerby"
    drones = grounded.events[grounded.events["unit_kind"] == "drone"]
    assert drones.empty
    assert first(grounded.events, "echelon_135", K.OUTCOME)["detail"] == "operator_left"


def test_a_task_order_puts_extra_guards_on_duty_until_it_ends(cache_dir):
    """The order reaches the zone's enterprises; guards on duty rise by guards_extra, then fall back."""
    from sim.drill import director
    from sim.drill.resolve import resolve
    from sim.model.model import EchelonModel
    from sim.model.world import World

    run = replay(load_scenario("festival_restart_morning"), cache_dir, "run.policies=[echelon_135]")
    site, cfg = run.site, run.cfgs["echelon_135"]
    world = World.build(site)
    model = EchelonModel(site, cfg, run.drill.incidents, world=world)
    drill = resolve(run.drill.scenario, site, world, cfg, [u.unit_id for u in model.units])
    director.start(model, drill)
    order = next(p for p in drill.injects if p.inject.type == "task_order")
    one = model.enterprises[order.enterprises[0]]
    before = one.guards_on_duty(drill.start_s + 60)
    model.env.run(until=drill.start_s + 60)
    assert one.guards_on_duty(model.env.now) == before + 1
    model.env.run(until=order.until_s + 1)
    assert one.guards_extra == 0
