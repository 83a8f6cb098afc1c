"""Dispatch policies: pure functions from a snapshot of the situation to unit assignments.

A policy sees an immutable ``Situation`` (the incident and every unit with its state and estimated time of
arrival) and the tiers it is asked to fill; it returns, per tier, the unit to send or ``None`` when units of
that tier exist but none is free (the request then waits in the queue), or ``UNSERVABLE`` when no unit of
the tier exists or can reach the place (the tier is then missed, not silently dropped). A tier left out of
the answer does not apply to this kind of incident (an illegal drone flight has no own-security tier).
No policy touches the model, the clock or a random stream, so a policy can be tested on hand-made snapshots.

The three readings of 1-3-5 (docs/domain.md) are tier lists in ``conf/policy``, not code forks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from sim.config import BRIGADE_KINDS, PolicyConfig, TierSpec
from sim.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Units:
    """Every pooled unit as columns (one entry per unit): cheap to snapshot, vectorised to query."""

    id: np.ndarray  # str
    kind: np.ndarray  # str: own_security | echelon | police
    station: np.ndarray  # str
    grid: np.ndarray  # str
    free: np.ndarray  # bool
    eta_s: np.ndarray  # float: expected mobilisation + travel to the incident (inf: cannot reach)
    hazmat: np.ndarray  # bool: carries hazmat kit
    # Optional precomputed positions for the fixed columns, keyed "kind:police", "grid:R03C07", "station:S1":
    # the same answers as scanning the columns, without scanning them for every request.
    index: Mapping[str, list[int]] = field(default_factory=dict)

    def where(self, column: str, value: str) -> list[int]:
        """Positions of the units whose ``column`` (kind, grid or station) equals ``value``."""
        found = self.index.get(f"{column}:{value}")
        return found if found is not None else np.flatnonzero(getattr(self, column) == value).tolist()


@dataclass(frozen=True, slots=True)
class Situation:
    incident: int
    kind: str
    station: str  # the jurisdiction the incident lies in
    grid: str
    area_class: str
    cross_district: bool
    police_only: bool  # only police answer this kind (illegal drone flights)
    needs_hazmat: bool  # a leak: echelon tiers prefer a hazmat-capable team
    has_enterprise: bool  # the incident is at an enterprise (it has guards of its own)
    units: Units


@dataclass(frozen=True, slots=True)
class Assignment:
    unit: str
    handoff: bool = False  # the unit belongs to another station: the county centre hands the incident over
    index: int = -1  # the unit's position in the snapshot's columns


UNSERVABLE = "unservable"
Decision = dict[int, Assignment | str | None]  # tier -> assignment; None: wait in the queue; UNSERVABLE
Policy = Callable[[Situation, PolicyConfig, list[int]], Decision]


def tier_target_s(tier: TierSpec, area_class: str) -> float:
    """The tier's target for an incident in this class of area."""
    if tier.target_by_area_s:
        return float(
            tier.target_by_area_s.get(area_class, tier.target_s or max(tier.target_by_area_s.values()))
        )
    return float(tier.target_s)


def _applies(s: Situation, members: str) -> bool:
    """Does a tier of these members apply to this kind of incident at all?"""
    if members == "own_security":
        return s.has_enterprise and not s.police_only
    if members.endswith("echelon"):
        return not s.police_only
    return True


def _eligible(s: Situation, members: str, coordination: str) -> list[int]:
    """Positions of the units that may answer a tier, free or not. Under strict coordination police come
    only from the incident's own station."""
    u = s.units
    if members == "own_security":
        return u.where("kind", "own_security")
    if members == "grid_echelon":
        return [i for i in u.where("grid", s.grid) if u.kind[i] == "echelon"]
    if members in ("nearest_echelon", "grid_then_nearest_echelon"):
        return u.where("kind", "echelon")
    if members in ("police_station", "police_any"):
        police = u.where("kind", "police")
        return [i for i in police if u.station[i] == s.station] if coordination == "strict" else police
    if members in BRIGADE_KINDS:
        return u.where("kind", members)
    raise ValueError(f"unknown tier members {members!r}")  # config validation prevents this


def _pick(s: Situation, members: str, coordination: str, taken: list[int]) -> Assignment | str | bool | None:
    """The nearest free eligible unit; None if all are busy; UNSERVABLE if none exists or reaches the
    place; False if the tier does not apply to this kind of incident.

    Plain loops over the few eligible positions: a tier has one to a few dozen candidates, where numpy's
    per-call cost would exceed the work."""
    if not _applies(s, members):
        return False
    u = s.units
    eta, free = u.eta_s, u.free
    reach = [i for i in _eligible(s, members, coordination) if eta[i] < math.inf]
    if not reach:
        return UNSERVABLE
    ready = [i for i in reach if free[i] and i not in taken]
    if members == "police_station" and coordination == "county":
        own = [i for i in ready if u.station[i] == s.station]
        if own:  # own station first; the county centre hands over only when it has no one free
            ready = own
    if members == "grid_then_nearest_echelon":
        if not any(u.grid[i] == s.grid for i in reach):
            return UNSERVABLE  # a place with no grid team: missed, as under echelon_135
        own = [i for i in ready if u.grid[i] == s.grid]
        ready = own or ready  # the grid's team if one is free; only then the nearest free of another grid
    if s.needs_hazmat and members.endswith("echelon"):
        kit = [i for i in ready if u.hazmat[i]]
        if kit:  # a leak: a team that can contain it, if one is free
            ready = kit
    if not ready:
        return None
    best = min(ready, key=lambda i: (eta[i], u.id[i]))  # nearest; ties broken by unit id
    handoff = bool(u.station[best] != s.station and u.kind[best] == "police")
    return Assignment(str(u.id[best]), handoff=handoff, index=int(best))


def nearest_of_kind(s: Situation, unit_kind: str) -> Assignment | str | None:
    """The fire brigade's rule, the same under every policy: the nearest free unit of this kind (None if
    all are busy, UNSERVABLE if none exists or reaches the place)."""
    pick = _pick(s, unit_kind, "county", [])
    assert pick is not False  # brigade kinds apply to every incident that asks for them
    return pick


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
        if isinstance(pick, Assignment):
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


def echelon_overflow(s: Situation, policy: PolicyConfig, tiers: list[int]) -> Decision:
    """As echelon_135, but when every team of the incident's grid is busy the nearest free team of another
    grid goes instead of the request waiting. Identical to echelon_135 whenever the grid's team is free,
    so the two differ only under load."""
    return dispatch_by_tiers(s, policy, tiers, rewrite={"grid_echelon": "grid_then_nearest_echelon"})


REGISTRY: dict[str, Policy] = {
    "police_only": police_only,
    "echelon_135": echelon_135,
    "echelon_open": echelon_open,
    "echelon_overflow": echelon_overflow,
}


def policy_for(policy: PolicyConfig, where: str = "conf/policy or a command-line override") -> Policy:
    """The registered function a policy config names; a ConfigError naming the allowed ones otherwise."""
    try:
        return REGISTRY[policy.name]
    except KeyError:
        raise ConfigError(
            f"config key 'policy.name' ({where}): registered policies are {', '.join(sorted(REGISTRY))}, "
            f"got {policy.name!r}"
        ) from None
