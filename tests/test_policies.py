"""Policies are pure functions of a snapshot: checked on hand-made situations."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import PolicyConfig, TierSpec
from sim.model.policies import REGISTRY, UNSERVABLE, Situation, Units, tier_target_s

ACTOR_TIERS = [
    TierSpec("own_security", "own_security", 60.0),
    TierSpec("echelon", "grid_echelon", 180.0),
    TierSpec("police", "police_station", 300.0),
]


def policy(name="echelon_135", coordination="county", tiers=ACTOR_TIERS) -> PolicyConfig:
    return PolicyConfig(name=name, alarm="one_key", coordination=coordination, tiers=list(tiers))


def situation(rows, *, station="S1", grid="G1", police_only=False, needs_hazmat=False) -> Situation:
    """rows: (id, kind, station, grid, free, eta_s); echelons named E-H... carry hazmat kit."""
    cols = list(zip(*rows, strict=True))
    units = Units(
        *(np.array(c, dtype=object) for c in cols[:4]),
        np.array(cols[4], dtype=bool),
        np.array(cols[5], dtype=float),
        np.array([u.startswith("E-H") for u in cols[0]], dtype=bool),
    )
    return Situation(1, "theft", station, grid, "centre", False, police_only, needs_hazmat, True, units)


UNITS = [
    ("E1/guards", "own_security", "S1", "G1", True, 50.0),
    ("E-G1-1", "echelon", "S1", "G1", True, 200.0),
    ("E-G2-1", "echelon", "S2", "G2", True, 90.0),
    ("P-S1-1", "police", "S1", "", True, 400.0),
    ("P-S2-1", "police", "S2", "", True, 250.0),
]


def test_echelon_135_takes_the_grid_echelon_even_if_another_is_nearer():
    d = REGISTRY["echelon_135"](situation(UNITS), policy(), [1, 2, 3])
    assert (d[1].unit, d[2].unit, d[3].unit) == ("E1/guards", "E-G1-1", "P-S1-1")
    assert not d[3].handoff  # own station first under county coordination


def test_echelon_open_takes_the_nearest_echelon():
    d = REGISTRY["echelon_open"](situation(UNITS), policy("echelon_open"), [2])
    assert d[2].unit == "E-G2-1"


def test_police_only_serves_only_police_tiers():
    d = REGISTRY["police_only"](situation(UNITS), policy("police_only"), [1, 2, 3])
    assert list(d) == [3] and d[3].unit == "P-S1-1"


def test_busy_units_queue_and_missing_units_skip_the_tier():
    rows = [(u, k, s, g, False if k == "echelon" else f, t) for u, k, s, g, f, t in UNITS]
    d = REGISTRY["echelon_135"](situation(rows), policy(), [2])
    assert d == {2: None}  # echelons exist but all busy: wait in the queue
    no_grid = situation(UNITS, grid="G9")
    assert REGISTRY["echelon_135"](no_grid, policy(), [2]) == {2: UNSERVABLE}  # no echelon for G9: missed


def test_county_hands_over_to_another_station_when_its_own_police_are_busy():
    rows = [(u, k, s, g, False if u == "P-S1-1" else f, t) for u, k, s, g, f, t in UNITS]
    d = REGISTRY["echelon_135"](situation(rows), policy(), [3])
    assert d[3].unit == "P-S2-1" and d[3].handoff
    strict = REGISTRY["echelon_135"](situation(rows), policy(coordination="strict"), [3])
    assert strict == {3: None}  # strict: waits for its own station


def test_illegal_drone_flights_get_police_only():
    d = REGISTRY["echelon_135"](situation(UNITS, police_only=True), policy(), [1, 2, 3])
    assert list(d) == [3]


def test_a_unit_serves_one_tier_only_and_ties_break_by_id():
    tiers = [TierSpec("a", "police_any", 300.0), TierSpec("b", "police_any", 300.0)]
    rows = [("P2", "police", "S1", "", True, 100.0), ("P1", "police", "S1", "", True, 100.0)]
    d = REGISTRY["echelon_135"](situation(rows), policy(tiers=tiers), [1, 2])
    assert (d[1].unit, d[2].unit) == ("P1", "P2")


def test_unreachable_units_are_never_sent_and_the_tier_is_unserved():
    rows = [("P1", "police", "S1", "", True, float("inf"))]
    assert REGISTRY["echelon_135"](situation(rows), policy(), [3]) == {3: UNSERVABLE}


def test_a_leak_prefers_a_hazmat_team():
    rows = [("E-G2-1", "echelon", "S1", "G2", True, 60.0), ("E-H1-1", "echelon", "S1", "H1", True, 200.0)]
    open_policy = policy("echelon_open")
    assert REGISTRY["echelon_open"](situation(rows), open_policy, [2])[2].unit == "E-G2-1"
    leak = situation(rows, needs_hazmat=True)
    assert REGISTRY["echelon_open"](leak, open_policy, [2])[2].unit == "E-H1-1"


@pytest.mark.parametrize(("area", "target"), [("key", 60.0), ("centre", 180.0), ("other", 300.0)])
def test_area_class_targets(area, target):
    tier = TierSpec("first", "grid_echelon", target_by_area_s={"key": 60.0, "centre": 180.0, "other": 300.0})
    assert tier_target_s(tier, area) == target


def test_policies_do_not_change_their_snapshot():
    s = situation(UNITS)
    before = s.units.free.copy()
    REGISTRY["echelon_135"](s, policy(), [1, 2, 3])
    assert np.array_equal(s.units.free, before)


def test_the_brigade_rule_is_the_nearest_free_unit_of_its_kind():
    from sim.model.policies import nearest_of_kind

    rows = [
        ("F-1", "fire_engine", "F1", "", True, 300.0),
        ("F-2", "fire_engine", "F2", "", True, 200.0),
        ("H-1", "hazmat_unit", "F1", "", True, 100.0),
        ("P-1", "police", "S1", "", True, 50.0),
    ]
    assert nearest_of_kind(situation(rows), "fire_engine").unit == "F-2"
    busy = [r if r[0] != "F-2" else (*r[:4], False, *r[5:]) for r in rows]
    assert nearest_of_kind(situation(busy), "fire_engine").unit == "F-1"
    all_busy = [(*r[:4], False, *r[5:]) for r in rows]
    assert nearest_of_kind(situation(all_busy), "fire_engine") is None
    assert nearest_of_kind(situation(rows[3:]), "hazmat_unit") == UNSERVABLE
