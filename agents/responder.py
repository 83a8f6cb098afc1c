"""What every ground unit shares: a base, a status, and its own response process.

A responder is dispatched by the board (sim/model/dispatch.py) and from then on acts on its own: it
mobilises, drives to the scene on the road network, works there (a hazmat-capable unit contains a leak
first), clears, and drives home, where it is free again. With ``redirect_while_returning`` it is free as
soon as it clears: a call on its way home sends it on from where it is, and its trip home is abandoned.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

import mesa

from sim.distributions import Delay
from sim.model.events import EventKind as K

if TYPE_CHECKING:
    from sim.model.case import Case


class Status(Enum):
    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RETURNING = "returning"


@dataclass(frozen=True, slots=True)
class Timing:
    """A unit kind's delays and the incident uniforms they draw on, by the unit's order at the incident
    (the first police car uses the first slot under every policy: common random numbers)."""

    mobilise: Delay
    mobilise_slots: tuple[int, ...]
    scene_slots: tuple[int, ...]
    scene: Delay | None = None  # fixed on-scene time (echelons); None: the incident kind's handling time
    contain_slots: tuple[int, ...] = ()  # hazmat-capable kinds: the uniforms of their containment time


class Responder(mesa.Agent):
    """A unit that waits at ``base_node``, answers one incident at a time and comes back."""

    unit_kind = "responder"
    hazmat = False  # can contain a chemical leak

    def __init__(self, model: Any, unit_id: str, base_node: int, station: str, timing: Timing) -> None:
        super().__init__(model)
        self.unit_id = unit_id
        self.base_node = base_node
        self.station = station
        self.timing = timing
        self.status = Status.AVAILABLE
        self.incident: int | None = None
        self.slot = -1  # this unit's column on the dispatch board
        self._trip = 0  # counts dispatches: a trip home cut short by a new dispatch is abandoned
        self._home_from: tuple[int, float, float] | None = None  # scene node index, left at, drive home s

    @classmethod
    def at_bases(cls, model: Any, bases: Any, count: int, prefix: str, timing: Timing) -> list[Responder]:
        """``count`` units of this kind at each base (rows with ``id`` and ``node``), named
        ``<prefix>-<base id>-<k>``; each unit's station is its base."""
        return [
            cls(model, f"{prefix}-{b.id}-{k + 1}", int(b.node), str(b.id), timing)
            for b in bases.itertuples()
            for k in range(count)
        ]

    def reset(self) -> None:
        """Home and idle: the start of a replication."""
        self.status, self.incident, self._trip, self._home_from = Status.AVAILABLE, None, 0, None
        self.off_duty = False  # a drill's inject: taken out of service (it finishes a job it is on)

    # ---- where it is ------------------------------------------------------------------------------------
    def travel_s(self, node_idx: int, now_s: float) -> float:
        """Emergency travel time from where the unit is now to a road node.

        At home: the base's table. Driving home (or sent on from the road home, until it turns off): the
        better of driving on home and out again, or turning back through the scene it left (the part of the
        trip already driven, driven back)."""
        board = self.model.board
        from_base = board.from_base_s(self.base_node, node_idx)
        if self._home_from is None:
            return from_base
        scene, left_s, home_s = self._home_from
        done = min(1.0, (now_s - left_s) / home_s) if home_s > 0 else 1.0
        via_scene = done * home_s * board.factor + board.from_node_s(scene, node_idx)
        return min(via_scene, (1.0 - done) * home_s * board.factor + from_base)

    # ---- the response -----------------------------------------------------------------------------------
    def dispatch(self, case: Case, tier: int, handoff: bool) -> None:
        """Called by the board: take this incident now (from home, or on the way home)."""
        redirected = self.status is Status.RETURNING
        self._trip += 1
        self.status, self.incident = Status.DISPATCHED, case.inc.id
        self.model.env.process(self._respond(case, tier, handoff, redirected))

    def _respond(self, case: Case, tier: int, handoff: bool, redirected: bool) -> Generator:
        env, log, inc = self.model.env, self.model.log, case.inc
        order = case.take_order(self.unit_kind)
        log.emit(
            env.now,
            K.DISPATCHED,
            inc.id,
            self.unit_id,
            self.unit_kind,
            tier,
            "redirected" if redirected else "",
        )
        if handoff:  # the unit hears of it only when the county centre has handed it over
            yield env.timeout(self.model.county.hand_over(case, tier, order))
        if not redirected:  # a unit on its way home is already in its vehicle
            slots = self.timing.mobilise_slots
            yield env.timeout(self.timing.mobilise.quantile(inc.u[slots[min(order, len(slots) - 1)]]))
        travel = self.travel_s(case.node_idx, env.now)  # from where it is when it turns off (or home)
        self._home_from = None
        self.status = Status.EN_ROUTE
        log.emit(env.now, K.MOBILISED, inc.id, self.unit_id, self.unit_kind, tier)
        if math.isinf(travel):  # the board never sends a unit that cannot reach; guard against a bad table
            raise RuntimeError(f"{self.unit_id} sent to incident {inc.id} it cannot reach")
        yield env.timeout(travel)
        self.status = Status.ON_SCENE
        log.emit(env.now, K.ARRIVED, inc.id, self.unit_id, self.unit_kind, tier)
        case.arrive(self.unit_kind, self.unit_id, env.now)
        yield from self.work(case, order, tier)
        log.emit(env.now, K.CLEARED, inc.id, self.unit_id, self.unit_kind, tier)
        case.leave(self.unit_id)
        home_s = self.model.board.home_s(self.base_node, case.node_idx)
        if math.isinf(home_s):  # road networks are trimmed to pieces where every node reaches every other
            raise RuntimeError(f"{self.unit_id} has no road home from incident {inc.id}")
        self.status, self.incident = Status.RETURNING, None
        self._home_from = (case.node_idx, env.now, home_s)
        trip = self._trip
        self.model.board.cleared(self, case)  # may send this unit straight on to a waiting call
        if self._trip != trip:
            return
        yield env.timeout(home_s)
        if self._trip == trip:  # not sent elsewhere on the way
            self.status, self._home_from = Status.AVAILABLE, None
            log.emit(env.now, K.RETURNED, inc.id, self.unit_id, self.unit_kind, tier)
            self.model.board.back(self)

    def work(self, case: Case, order: int, tier: int) -> Generator:
        """On scene: a hazmat-capable unit at a leak contains it first; then the unit's own scene time."""
        env, inc, slots = self.model.env, case.inc, self.timing.scene_slots
        if self.hazmat and case.kind.needs_hazmat and case.leaking:
            contain = self.timing.contain_slots
            yield env.timeout(case.containment_s(contain[min(order, len(contain) - 1)]))
            if case.contain(self.unit_id, env.now):
                self.model.log.emit(env.now, K.CONTAINED, inc.id, self.unit_id, self.unit_kind, tier)
        scene = self.timing.scene or case.kind.handling
        yield env.timeout(scene.quantile(inc.u[slots[min(order, len(slots) - 1)]]))
