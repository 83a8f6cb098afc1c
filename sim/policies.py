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

import numpy as np

from sim.config import PolicyConfig, TierSpec


@dataclass(frozen=True, slots=True)
class Units:
    """Every pooled unit as columns (one entry per unit): cheap to snapshot, vectorised to query."""

    id: np.ndarray  # str
    kind: np.ndarray  # str: own_security | echelon | police
    station: np.ndarray  # str
    grid: np.ndarray  # str
    free: np.ndarray  # bool
    eta_s: np.ndarray  # float: expected mobilisation + travel to the incident (inf: cannot reach)


@dataclass(frozen=True, slots=True)
class Situation:
    incident: int
    kind: str
    station: str  # the jurisdiction the incident lies in
    grid: str
    area_class: str
    cross_district: bool
    police_only: bool  # only police answer this kind (illegal drone flights)
    units: Units


@dataclass(frozen=True, slots=True)
class Assignment:
    unit: str
    handoff: bool = False  # the unit belongs to another station: the county centre hands the incident over
    index: int = -1  # the unit's position in the snapshot's columns


Decision = dict[int, Assignment | None]  # tier number (1-based) -> assignment, or None: wait in the queue
Policy = Callable[[Situation, PolicyConfig, list[int]], Decision]


def tier_target_s(tier: TierSpec, area_class: str) -> float:
    """The tier's target for an incident in this class of area."""
    if tier.target_by_area_s:
        return float(
            tier.target_by_area_s.get(area_class, tier.target_s or max(tier.target_by_area_s.values()))
        )
    return float(tier.target_s)


def _eligible(s: Situation, members: str, coordination: str) -> np.ndarray:
    """Mask of units that may answer a tier, free or not. Under strict coordination police come only from
    the incident's own station (a cross-district dispute then waits for the stations to liaise by phone)."""
    u = s.units
    if members in ("own_security", "grid_echelon", "nearest_echelon") and s.police_only:
        return np.zeros(len(u.id), dtype=bool)
    if members == "own_security":
        return u.kind == "own_security"
    if members == "grid_echelon":
        return (u.kind == "echelon") & (u.grid == s.grid)
    if members == "nearest_echelon":
        return u.kind == "echelon"
    if members in ("police_station", "police_any"):
        police = u.kind == "police"
        return police & (u.station == s.station) if coordination == "strict" else police
    raise ValueError(f"unknown tier members {members!r}")  # config validation prevents this


def _pick(s: Situation, members: str, coordination: str, taken: list[int]) -> Assignment | bool | None:
    """The nearest free eligible unit; None if all are busy; False if none exists at all."""
    u = s.units
    eligible = _eligible(s, members, coordination) & np.isfinite(u.eta_s)
    if not eligible.any():
        return False
    free = eligible & u.free
    if taken:
        free[taken] = False
    if members == "police_station" and coordination == "county":
        own = free & (u.station == s.station)
        if own.any():  # own station first; the county centre hands over only when it has no one free
            free = own
    if not free.any():
        return None
    idx = np.flatnonzero(free)
    best = idx[np.lexsort((u.id[idx], u.eta_s[idx]))[0]]  # nearest; ties broken by id: deterministic
    return Assignment(
        str(u.id[best]),
        handoff=bool(u.station[best] != s.station and u.kind[best] == "police"),
        index=int(best),
    )


def dispatch_by_tiers(
    s: Situation, policy: PolicyConfig, tiers: list[int], rewrite: dict[str, str] | None = None
) -> Decision:
    """Fill each requested tier with the nearest free unit of its members; a unit serves one tier at most."""
    decision: Decision = {}
    taken: list[int] = []
    for k in tiers:
        members = policy.tiers[k - 1].members
        members = (rewrite or {}).get(members, members)
        pick = _pick(s, members, policy.coordination, taken)
        if pick is False:
            continue
        decision[k] = pick
        if pick is not None:
            taken.append(pick.index)
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
