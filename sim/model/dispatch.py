"""The dispatch board: the platform's master console, shared by the command rooms and the 119 centre.

It knows every unit's state and estimated time of arrival, asks the policy (a pure function of a
snapshot, sim/model/policies.py) which unit answers each tier, and sends it, queues the request (FIFO)
when every eligible unit is busy, or records the tier as unserved when no unit can ever answer it. When a
unit comes free the oldest waiting request it can answer gets it. The fire brigade is sent the same way,
without tiers: the nearest free unit of the kind the incident needs.

Travel times come from the model's current roads (sim/model/roads.py): the World's tables while every road
is open, recomputed ones while a drill has roads closed. A unit that turns back because a road closed hands
its tier back here, and the board asks the policy again.
"""

from __future__ import annotations

import math

import numpy as np

from agents.enterprise import GUARDS
from agents.responder import Responder, Status
from sim.config import PolicyConfig
from sim.model.case import Case
from sim.model.events import EventKind as K
from sim.model.policies import (
    UNSERVABLE,
    Assignment,
    Policy,
    Situation,
    Units,
    nearest_of_kind,
    tier_target_s,
)
from sim.model.roads import Roads
from sim.model.world import World

# A bounded search goes this far beyond the time asked for, so a time it leaves out exceeds it by far more
# than rounding: relative, and seconds of free-flow driving.
WITHIN_MARGIN = 1e-3
WITHIN_MARGIN_S = 1.0
BRIGADE_TIER = 0  # the fire brigade is not one of the policy's tiers


class DispatchBoard:
    def __init__(
        self,
        model,
        units: list[Responder],
        world: World,
        factor: float,
        policy: Policy,
        policy_cfg: PolicyConfig,
        redirect_while_returning: bool,
    ) -> None:
        self.model, self.units, self.world, self.factor = model, units, world, factor
        self.policy, self.policy_cfg = policy, policy_cfg
        self.redirect = redirect_while_returning
        bases = world.bases
        for slot, unit in enumerate(units):
            unit.slot = slot
        self.slot_of = {u.unit_id: u.slot for u in units}
        self._rows = np.array([bases.row[u.base_node] for u in units], dtype=np.int64)
        self._mobilise_median = np.array([u.timing.mobilise.median_s_value for u in units])
        self._kind = np.array([u.unit_kind for u in units] + [GUARDS], dtype=object)
        self._id = np.array([u.unit_id for u in units] + [""], dtype=object)
        self._station = np.array([u.station for u in units] + [""], dtype=object)
        self._grid = np.array([getattr(u, "grid", "") for u in units] + [""], dtype=object)
        self._hazmat = np.array([bool(u.hazmat) for u in units] + [False], dtype=bool)
        self._guards_eta_s = model.guards_eta_s
        self._index: dict[str, list[int]] = {}
        for name, column in (("kind", self._kind), ("grid", self._grid), ("station", self._station)):
            for i, value in enumerate(column.tolist()):
                self._index.setdefault(f"{name}:{value}", []).append(i)
        self._eta_home: dict[int, np.ndarray] = {}  # node -> every unit's ETA from home, on ``self.roads``
        self.roads: Roads = model.roads
        self.reset()

    def reset(self) -> None:
        """Every unit free at home, nobody waiting: the start of a replication (the model's clock, log and
        roads are new, so take them again)."""
        self.env, self.log = self.model.env, self.model.log
        self.use_roads(self.model.roads)
        self.queue: list[tuple[Case, int, str]] = []  # (case, tier, brigade unit kind or '')
        self.free = np.ones(len(self.units) + 1, dtype=bool)  # one more column: the incident's guards
        self._returning: dict[int, Responder] = {}

    # ---- travel -----------------------------------------------------------------------------------------
    def use_roads(self, roads: Roads) -> None:
        """Read travel times from these roads from now on (ETAs from home computed on others are dropped)."""
        if roads is not self.roads:
            self.roads = roads
            self._eta_home.clear()

    def from_base_s(self, base_node: int, node_idx: int) -> float:
        """Emergency travel time from a unit base to a road node."""
        bases = self.roads.bases
        return float(bases.out_s[bases.row[base_node], node_idx]) * self.factor

    def home_s(self, base_node: int, node_idx: int) -> float:
        """Normal travel time from a road node back to a base (no lights on the way home)."""
        bases = self.roads.bases
        return float(bases.back_s[bases.row[base_node], node_idx])

    def from_node_s(self, origin_idx: int, node_idx: int, within_s: float = math.inf) -> float:
        """Emergency travel time between road nodes; given ``within_s``, exact when it is at most that,
        else exact or inf (a search bounded a margin beyond ``within_s``: the caller's comparison with
        another time comes out the same)."""
        if not within_s < math.inf or self.factor <= 0:
            return float(self.roads.times_from_node_s(origin_idx)[node_idx]) * self.factor
        limit_s = max(0.0, within_s / self.factor) * (1.0 + WITHIN_MARGIN) + WITHIN_MARGIN_S
        return self.roads.time_from_node_within_s(origin_idx, node_idx, limit_s) * self.factor

    def _eta_s(self, case: Case) -> np.ndarray:
        """Expected mobilisation + travel of every unit to the incident (and inf in the guards' column);
        units on their way home are already mobilised and leave from where they are."""
        home = self._eta_home.get(case.node_idx)
        if home is None:
            home = np.append(
                self._mobilise_median + self.roads.bases.out_s[self._rows, case.node_idx] * self.factor,
                np.inf,
            )
            self._eta_home[case.node_idx] = home
        eta = home.copy()
        now = self.env.now
        for slot, unit in self._returning.items():
            eta[slot] = unit.travel_s(case.node_idx, now)
        return eta

    # ---- the policy's view ------------------------------------------------------------------------------
    def situation(self, case: Case) -> Situation:
        inc = case.inc
        eta = self._eta_s(case)
        ids = self._id
        enterprise = self.model.enterprises.get(inc.enterprise) if inc.enterprise else None
        if enterprise is not None and enterprise.guards_on_duty(self.env.now) > 0:
            eta[-1] = self._guards_eta_s  # the guards column: this enterprise's guards on duty
            ids = ids.copy()
            ids[-1] = enterprise.guards_id
        units = Units(
            ids, self._kind, self._station, self._grid, self.free.copy(), eta, self._hazmat, self._index
        )
        return Situation(
            inc.id,
            inc.kind,
            inc.station,
            inc.grid,
            inc.area_class,
            inc.cross_district,
            case.kind.police_only,
            case.kind.needs_hazmat,
            bool(inc.enterprise),
            units,
        )

    # ---- requests ---------------------------------------------------------------------------------------
    def request(self, case: Case, tiers: list[int]) -> None:
        """Fill these tiers of the policy: dispatch, queue, or record as unserved."""
        if not tiers:
            return
        situation = self.situation(case)
        decision = self.policy(situation, self.policy_cfg, tiers)
        for k in tiers:
            if k not in decision:
                continue  # this tier does not apply to this kind of incident
            spec = self.policy_cfg.tiers[k - 1]
            target = tier_target_s(spec, case.inc.area_class)
            self.log.emit(self.env.now, K.TARGET, case.inc.id, tier=k, detail=spec.name, value=target)
            taken = [a.index for t, a in decision.items() if t != k and isinstance(a, Assignment)]
            self._answer(case, k, "", self._trainees(case, k, spec.name, decision[k], situation, taken))

    def _trainees(self, case: Case, tier: int, name: str, pick, situation: Situation, taken: list[int]):
        """A drill's trainees may choose the unit for a tier: it goes if it is free and can reach the
        scene (else the policy's pick goes, and the log says why). Logged beside the policy's choice."""
        choice = self.model.decisions.get((case.inc.id, "dispatch", name))
        if choice is None:
            return pick
        mine = pick.unit if isinstance(pick, Assignment) else ("queue" if pick is None else str(pick))
        slot = self.slot_of.get(choice)
        units = situation.units
        usable = slot is not None and units.free[slot] and units.eta_s[slot] < np.inf and slot not in taken
        detail = f"dispatch:{name}={choice};policy={mine}" + ("" if usable else ";unavailable")
        self.log.emit(self.env.now, K.DECISION, case.inc.id, choice, tier=tier, detail=detail)
        if not usable:
            return pick
        unit = self.units[slot]
        return Assignment(
            choice, handoff=unit.unit_kind == "police" and unit.station != case.inc.station, index=slot
        )

    # ---- units out of service (a drill's injects) ----------------------------------------------------
    def set_off_duty(self, unit: Responder) -> None:
        """Out of service: not dispatched from now; a job in hand is finished first."""
        unit.off_duty = True
        self.free[unit.slot] = False
        self._returning.pop(unit.slot, None)

    def set_on_duty(self, unit: Responder) -> None:
        """Back in service: free at once if it is idle (at home, or driving home when units may be
        redirected), and the oldest waiting request it can answer gets it."""
        unit.off_duty = False
        if self.free[unit.slot]:
            return
        if unit.status is Status.AVAILABLE:
            self.free[unit.slot] = True
            self._serve_queue()
        elif unit.stranded or (self.redirect and unit.status is Status.RETURNING):
            self.free_on_road(unit)

    def request_brigade(self, case: Case, unit_kinds: list[str]) -> None:
        """The 119 centre: one unit of each kind, the nearest free one."""
        for unit_kind in unit_kinds:
            self._answer(case, BRIGADE_TIER, unit_kind, nearest_of_kind(self.situation(case), unit_kind))

    def _answer(self, case: Case, tier: int, brigade: str, pick) -> None:
        name = brigade or self.policy_cfg.tiers[tier - 1].name
        if pick == UNSERVABLE and self._blocked(case, tier, brigade):  # waits for a road to reopen
            self.log.emit(self.env.now, K.QUEUED, case.inc.id, tier=tier, detail=name)
            self.queue.append((case, tier, brigade))
        elif pick == UNSERVABLE:  # no unit of this tier exists or reaches the place: the tier is missed
            self.log.emit(self.env.now, K.UNSERVED, case.inc.id, tier=tier, detail=name)
        elif pick is None:
            self.log.emit(self.env.now, K.QUEUED, case.inc.id, tier=tier, detail=name)
            self.queue.append((case, tier, brigade))
        else:
            case.active += 1
            if pick.index == len(self.units):  # the enterprise's own guards
                self.model.enterprises[case.inc.enterprise].send_guards(case, tier)
                return
            unit = self.units[pick.index]
            self.free[unit.slot] = False
            self._returning.pop(unit.slot, None)
            unit.dispatch(case, tier, pick.handoff)

    # ---- units coming free ------------------------------------------------------------------------------
    def cleared(self, unit: Responder, case: Case) -> None:
        """A unit has left a scene. With redirection it is free at once, from wherever it is driving."""
        self.closed_if_over(case)
        if self.redirect and unit.status is Status.RETURNING and not unit.off_duty:
            self.free_on_road(unit)

    def free_on_road(self, unit: Responder) -> None:
        """Free where it is (cleared with redirection, or stranded): its ETA counts from there (a unit
        out of service stays off the board)."""
        if unit.off_duty:
            return
        self.free[unit.slot] = True
        self._returning[unit.slot] = unit
        self._serve_queue()

    def heading_home(self, unit: Responder) -> None:
        """A stranded unit drives home (a road reopened): without redirection it is busy until home."""
        if not self.redirect:
            self.free[unit.slot] = False
            self._returning.pop(unit.slot, None)

    def withdrawn(self, unit: Responder, case: Case, tier: int) -> None:
        """``unit`` turned back from ``case`` (a road closed): the tier is asked for again, unless the
        incident is over, and the unit is free as after clearing (at once if home or stranded)."""
        case.withdraw()
        self.closed_if_over(case)
        if not case.over:
            brigade = unit.unit_kind if tier == BRIGADE_TIER else ""
            situation = self.situation(case)
            if brigade:
                pick = nearest_of_kind(situation, brigade)
            else:
                pick = self.policy(situation, self.policy_cfg, [tier]).get(tier)
            self._answer(case, tier, brigade, pick)
        if unit.stranded:
            self.free_on_road(unit)
        elif unit.status is Status.AVAILABLE:
            self.back(unit)
        elif self.redirect and unit.status is Status.RETURNING:
            self.free_on_road(unit)

    def back(self, unit: Responder) -> None:
        """A unit is home."""
        self._returning.pop(unit.slot, None)
        if not self.free[unit.slot] and not unit.off_duty:
            self.free[unit.slot] = True
            self._serve_queue()

    def _blocked(self, case: Case, tier: int, brigade: str) -> bool:
        """Unservable only because roads are closed: on the open network some unit would reach it. Such
        a request waits in the queue for a road to reopen instead of being missed for good."""
        if not self.roads.closed:
            return False
        closed = self.roads
        self.use_roads(self.model.open_roads)
        try:
            situation = self.situation(case)
            if brigade:
                pick = nearest_of_kind(situation, brigade)
            else:
                pick = self.policy(situation, self.policy_cfg, [tier]).get(tier)
        finally:
            self.use_roads(closed)
        return pick != UNSERVABLE

    def serve_queue(self) -> None:
        """The roads changed: requests waiting for a reachable unit may be answered now."""
        self._serve_queue()

    def _serve_queue(self) -> None:
        """The oldest waiting requests get the free units (FIFO)."""
        if not self.queue:
            return
        waiting, self.queue = self.queue, []
        for case, tier, brigade in waiting:
            if brigade:
                pick = nearest_of_kind(self.situation(case), brigade)
            else:
                pick = self.policy(self.situation(case), self.policy_cfg, [tier]).get(tier)
            if pick is None or (pick == UNSERVABLE and self.roads.closed):  # still waiting
                self.queue.append((case, tier, brigade))
            else:
                self._answer(case, tier, brigade, pick)

    def closed_if_over(self, case: Case) -> None:
        """Once the outcome is decided and nobody is on scene or on the way, drop its waiting requests."""
        if not case.over:
            return
        self.model.cases.pop(case.inc.id, None)  # the model keeps only open cases
        if not self.queue:
            return
        keep = []
        for entry in self.queue:
            waiting, tier, brigade = entry
            if waiting is case:
                name = brigade or self.policy_cfg.tiers[tier - 1].name
                self.log.emit(self.env.now, K.CANCELLED, case.inc.id, tier=tier, detail=name)
            else:
                keep.append(entry)
        self.queue = keep
