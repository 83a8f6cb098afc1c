"""Dispatch policies: pure functions from a snapshot of the situation to unit assignments.

A policy sees an immutable ``Situation`` (the incident and every unit with its state and estimated time of
arrival) and the tiers it is asked to fill; it returns, per tier, the unit to send or ``None`` when units of
that tier exist but none is free (the request then waits in the queue). A tier left out of the answer does not
apply to this incident (no such unit exists, or the incident kind excludes it). No policy touches the model,
the clock or a random stream, so a policy can be tested on hand-made snapshots.

The three readings of 1-3-5 (DOMAIN.md) are tier lists in ``conf/policy``, not code forks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.config import PolicyConfig, TierSpec


@dataclass(frozen=True, slots=True)
class UnitView:
    id: str
    kind: str  # own_security | echelon | police
    station: str
    grid: str
    free: bool
    eta_s: float  # expected mobilisation + travel to the incident, seconds (inf: cannot reach)
    hazmat: bool = False


@dataclass(frozen=True, slots=True)
class Situation:
    incident: int
    kind: str
    station: str  # the jurisdiction the incident lies in
    grid: str
    area_class: str
    cross_district: bool
    police_only: bool  # only police answer this kind (illegal drone flights)
    units: tuple[UnitView, ...]


@dataclass(frozen=True, slots=True)
class Assignment:
    unit: str
    handoff: bool = False  # the unit belongs to another station: the county centre hands the incident over


Decision = dict[int, Assignment | None]  # tier number (1-based) -> assignment, or None: wait in the queue
Policy = Callable[[Situation, PolicyConfig, list[int]], Decision]


def tier_target_s(tier: TierSpec, area_class: str) -> float:
    """The tier's target for an incident in this class of area."""
    if tier.target_by_area_s:
        return float(tier.target_by_area_s.get(area_class, tier.target_s or max(tier.target_by_area_s.values())))
    return float(tier.target_s)


def _eligible(s: Situation, members: str, coordination: str) -> list[UnitView]:
    """Units that may answer a tier, free or not; under strict coordination police come only from the
    incident's own station (a cross-district dispute then waits for the stations to liaise by phone)."""
    own_station_only = coordination == "strict"
    if members == "own_security":
        return [] if s.police_only else [u for u in s.units if u.kind == "own_security"]
    if members == "grid_echelon":
        return [] if s.police_only else [u for u in s.units if u.kind == "echelon" and u.grid == s.grid]
    if members == "nearest_echelon":
        return [] if s.police_only else [u for u in s.units if u.kind == "echelon"]
    if members in ("police_station", "police_any"):
        police = [u for u in s.units if u.kind == "police"]
        return [u for u in police if u.station == s.station] if own_station_only else police
    raise ValueError(f"unknown tier members {members!r}")  # config validation prevents this


def _pick(s: Situation, members: str, coordination: str, taken: set[str]) -> Assignment | None | bool:
    """The nearest free eligible unit; None if all are busy; False if none exists at all."""
    eligible = [u for u in _eligible(s, members, coordination) if u.eta_s < float("inf")]
    if not eligible:
        return False
    free = [u for u in eligible if u.free and u.id not in taken]
    if members == "police_station" and coordination == "county":
        own = [u for u in free if u.station == s.station]
        free = own or free  # own station first; the county centre hands over only when it has no one free
    if not free:
        return None
    best = min(free, key=lambda u: (u.eta_s, u.id))  # ties broken by id: deterministic
    return Assignment(best.id, handoff=best.station != s.station and best.kind == "police")


def dispatch_by_tiers(s: Situation, policy: PolicyConfig, tiers: list[int],
                      rewrite: dict[str, str] | None = None) -> Decision:
    """Fill each requested tier with the nearest free unit of its members; a unit serves one tier at most."""
    decision: Decision = {}
    taken: set[str] = set()
    for k in tiers:
        members = policy.tiers[k - 1].members
        members = (rewrite or {}).get(members, members)
        pick = _pick(s, members, policy.coordination, taken)
        if pick is False:
            continue
        decision[k] = pick
        if pick is not None:
            taken.add(pick.unit)
    return decision


def police_only(s: Situation, policy: PolicyConfig, tiers: list[int]) -> Decision:
    """Before the platform: only police tiers are served, whatever the configuration lists."""
    police_tiers = [k for k in tiers if policy.tiers[k - 1].members.startswith("police")]
    return dispatch_by_tiers(s, policy, police_tiers)


def echelon_135(s: Situation, policy: PolicyConfig, tiers: list[int]) -> Decision:
    """The platform's 1-3-5 echelons: each tier from its configured members (the grid's own echelon)."""
    return dispatch_by_tiers(s, policy, tiers)


def echelon_open(s: Situation, policy: PolicyConfig, tiers: list[int]) -> Decision:
    """As echelon_135, but the nearest free echelon answers, whatever its grid."""
    return dispatch_by_tiers(s, policy, tiers, rewrite={"grid_echelon": "nearest_echelon"})


REGISTRY: dict[str, Policy] = {
    "police_only": police_only,
    "echelon_135": echelon_135,
    "echelon_open": echelon_open,
}
