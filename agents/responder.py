"""What every ground unit shares: a base, a status, and its own response process.

A responder is dispatched by the board (sim/model/dispatch.py) and from then on acts on its own: it
mobilises, drives to the scene on the road network, works there (a hazmat-capable unit contains a leak
first), clears, and drives home, where it is free again. With ``redirect_while_returning`` it is free as
soon as it clears: a call on its way home sends it on from where it is, and its trip home is abandoned.

When a road closes or reopens (EchelonModel.close_roads), a unit on the road finishes the edge it is on and
takes the new shortest route if its own now uses a closed edge, or if a reopened road makes a strictly
faster one (logged ``rerouted``, detail ``via:<node>``). A unit that can no longer reach its scene turns
back (``turned_back``) and the board asks again for its tier. A unit that can reach neither its scene nor
home stays at the node it reached (``stranded``): free there, sent on from there, and driving home by itself
once a reopened road leads there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

import mesa
import simpy

from sim.distributions import Delay
from sim.model.events import EventKind as K
from sim.model.roads import Drive, Roads, Way, cut, position, replan

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
        self.base_idx = model.world.node_index[base_node]
        self.station = station
        self.timing = timing
        self.status = Status.AVAILABLE
        self.incident: int | None = None
        self.slot = -1  # this unit's column on the dispatch board
        self._trip = 0  # counts dispatches: a trip home cut short by a new dispatch is abandoned
        # the node it left (the scene, or where a re-route began: router index), when it left (or reaches
        # it), drive home from there, s (inf: stranded there, no road home)
        self._home_from: tuple[int, float, float] | None = None
        self._drive: Drive | None = None  # on the road (or stranded): where to, and the way, for re-routing
        self._proc: simpy.Process | None = None  # the response process, interrupted to re-route

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
        self._drive, self._proc = None, None

    @property
    def stranded(self) -> bool:
        """Cut off from home by closed roads, waiting at a node (see the module docstring)."""
        return self._home_from is not None and math.isinf(self._home_from[2])

    # ---- where it is ------------------------------------------------------------------------------------
    def travel_s(self, node_idx: int, now_s: float) -> float:
        """Emergency travel time from where the unit is now to a road node.

        At home: the base's table. Driving home (or sent on from the road home, until it turns off): the
        better of driving on home and out again, or turning back through the scene it left (the part of the
        trip already driven, driven back)."""
        from_base = self.model.board.from_base_s(self.base_node, node_idx)
        if self._home_from is None:
            return from_base
        return min(self._from_road_s(node_idx, now_s, from_base))

    def _from_road_s(self, node_idx: int, now_s: float, from_base_s: float) -> tuple[float, float]:
        """Seconds to a node from the road home: (back through the node it left, on home and out again).
        After a re-route it first finishes the edge to that node; stranded, it can only go from there."""
        board = self.model.board
        scene, left_s, home_s = self._home_from
        if now_s < left_s or math.isinf(home_s):
            return max(0.0, left_s - now_s) * board.factor + board.from_node_s(scene, node_idx), math.inf
        done = min(1.0, (now_s - left_s) / home_s) if home_s > 0 else 1.0
        lead_s = done * home_s * board.factor
        via_home = (1.0 - done) * home_s * board.factor + from_base_s
        # Only a way back through the scene faster than on home counts: the search stops beyond that.
        via_scene = lead_s + board.from_node_s(scene, node_idx, within_s=via_home - lead_s)
        return via_scene, via_home

    def _drive_to(self, case: Case, tier: int, now_s: float) -> Drive:
        """The drive to a scene that ``travel_s`` timed, its way built only if a road changes on the way."""
        roads, f, dest = self.model.roads, self.model.board.factor, case.node_idx
        if self._home_from is None:
            base = self.base_idx
            return Drive(lambda: roads.way(base, dest, now_s, f), dest, f, case, tier)
        home, hf = self._drive, self._home_from
        from_base = self.model.board.from_base_s(self.base_node, dest)
        via_scene, via_home = self._from_road_s(dest, now_s, from_base)
        back = via_scene <= via_home  # the same choice as travel_s

        def way() -> Way:
            anchor, left_s, home_s = hf
            if now_s < left_s or math.isinf(home_s) or home is None:
                lead = [(anchor, now_s + max(0.0, left_s - now_s) * f)]
            elif back:  # the part already driven, driven back to the node it left
                lead = [(n, now_s + (now_s - t) * f) for n, t in reversed(home.way) if t <= now_s]
            else:
                lead = [(n, now_s + (t - now_s) * f) for n, t in home.way if t > now_s]
                lead = lead or [(self.base_idx, now_s)]
            start, start_s = lead[-1]
            return lead + roads.way(start, dest, start_s, f)[1:]

        return Drive(way, dest, f, case, tier)

    def _home_drive(self, case: Case, tier: int, scene: int, now_s: float) -> Drive:
        roads, base = self.model.roads, self.base_idx
        return Drive(lambda: roads.way(scene, base, now_s, 1.0), base, 1.0, case, tier)

    # ---- the response -----------------------------------------------------------------------------------
    def dispatch(self, case: Case, tier: int, handoff: bool) -> None:
        """Called by the board: take this incident now (from home, or on the way home)."""
        redirected = self.status is Status.RETURNING
        self._trip += 1
        self.status, self.incident = Status.DISPATCHED, case.inc.id
        self._proc = self.model.env.process(self._respond(case, tier, handoff, redirected))

    def _respond(self, case: Case, tier: int, handoff: bool, redirected: bool) -> Generator:
        env, log, inc, trip = self.model.env, self.model.log, case.inc, self._trip
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
        if math.isinf(travel):  # the board never sends a unit that cannot reach; guard against a bad table
            if not self.model.roads.closed:
                raise RuntimeError(f"{self.unit_id} sent to incident {inc.id} it cannot reach")
            yield from self._cannot_go(case, tier, trip)  # a road closed since it was sent
            return
        self._drive = self._drive_to(case, tier, env.now)
        self._home_from = None
        self.status = Status.EN_ROUTE
        log.emit(env.now, K.MOBILISED, inc.id, self.unit_id, self.unit_kind, tier)
        home_s = yield from self._drive_for(travel)
        if home_s is not None:  # turned back on the way (road_change has told the board)
            if math.isfinite(home_s):
                yield from self._home(case, tier, trip, home_s)
            return
        self._drive = None
        self.status = Status.ON_SCENE
        log.emit(env.now, K.ARRIVED, inc.id, self.unit_id, self.unit_kind, tier)
        case.arrive(self.unit_kind, self.unit_id, env.now)
        yield from self.work(case, order, tier)
        log.emit(env.now, K.CLEARED, inc.id, self.unit_id, self.unit_kind, tier)
        case.leave(self.unit_id)
        home_s = self.model.board.home_s(self.base_node, case.node_idx)
        if math.isinf(home_s):  # road networks are trimmed to pieces where every node reaches every other
            if not self.model.roads.closed:
                raise RuntimeError(f"{self.unit_id} has no road home from incident {inc.id}")
            self.incident = None
            self._strand(case, tier, case.node_idx, env.now)
            self.model.board.closed_if_over(case)
            self.model.board.free_on_road(self)
            return
        self.status, self.incident = Status.RETURNING, None
        self._home_from = (case.node_idx, env.now, home_s)
        self._drive = self._home_drive(case, tier, case.node_idx, env.now)
        self.model.board.cleared(self, case)  # may send this unit straight on to a waiting call
        if self._trip != trip:
            return
        yield from self._home(case, tier, trip, home_s)

    def _drive_for(self, travel_s: float) -> Generator:
        """Drive ``travel_s`` seconds; None on arrival. A re-route interrupts with the seconds still to
        drive (float, the drive goes on) or a ``_Back`` (the drive ends: returns its seconds to drive
        home, inf when it stays where it is)."""
        delay = travel_s
        while True:
            try:
                yield self.model.env.timeout(delay)
                return None
            except simpy.Interrupt as stop:
                if isinstance(stop.cause, _Back):
                    return stop.cause.home_s
                delay = stop.cause

    def _home(self, case: Case, tier: int, trip: int, travel_s: float) -> Generator:
        """Drive home; free there unless sent elsewhere on the way."""
        if (yield from self._drive_for(travel_s)) is None and self._trip == trip:
            self.status, self._home_from, self._drive = Status.AVAILABLE, None, None
            self.model.log.emit(
                self.model.env.now, K.RETURNED, case.inc.id, self.unit_id, self.unit_kind, tier
            )
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

    # ---- roads closing and reopening --------------------------------------------------------------------
    def _rerouted(self, incident: int, tier: int, detail: str, value: float) -> None:
        self.model.log.emit(
            self.model.env.now, K.REROUTED, incident, self.unit_id, self.unit_kind, tier, detail, value
        )

    def _strand(self, case: Case, tier: int, node: int, at_s: float) -> None:
        """No road home from ``node`` (reached at ``at_s``): stay there, free (the board is told apart)."""
        self.status = Status.AVAILABLE
        self._home_from = (node, at_s, math.inf)
        self._drive = Drive.known([(node, at_s)], node, 1.0, case, tier)
        self._rerouted(case.inc.id, tier, "stranded", math.nan)

    def road_change(self, old: Roads, new: Roads) -> Callable[[], None] | None:
        """A road has closed or reopened (``old`` -> ``new``, already the model's roads): re-route if on the
        road and the route changes. Returns what the board must then do (ask again for a tier it turned
        back from, free it), run once every unit has its new route."""
        board, drive, now = self.model.board, self._drive, self.model.env.now
        if drive is None or self.status is Status.ON_SCENE:
            return None
        if self.stranded:
            return self._unstrand(new) if self.status is Status.AVAILABLE else None
        turn = replan(drive, old, new, now)
        if turn is None:
            if self.status is not Status.EN_ROUTE:  # on the way home: can it still turn back to the scene?
                k = position(drive.way, now)
                if cut(drive.way[: k + 1], old, new):  # no: reckon from the end of the edge it is on
                    at, at_s = drive.way[k]
                    self._home_from = (at, at_s, drive.way[-1][1] - at_s)
                    self._drive = Drive.known(drive.way[k:], drive.dest, 1.0, drive.case, drive.tier)
            return None
        at, at_s, way = turn
        driving = self.status in (Status.EN_ROUTE, Status.RETURNING)  # else redirected, awaiting a handoff
        case, tier = drive.case, drive.tier
        if way:
            self._drive = Drive.known(way, drive.dest, drive.factor, case, tier)
            delay = way[-1][1] - now
            if self.status is not Status.EN_ROUTE:  # the drive home: travel_s counts from where it turns
                self._home_from = (at, at_s, way[-1][1] - at_s)
            self._rerouted(case.inc.id, tier, f"via:{new.router.nodes[at]}", delay)
            if driving:
                self._proc.interrupt(delay)
            return None
        if self.status is not Status.EN_ROUTE:  # no road home any more
            if not driving:  # it leaves from there when the handoff comes, if it still can
                self._home_from = (at, at_s, math.inf)
                self._drive = Drive.known([(at, at_s)], at, 1.0, case, tier)
                return None
            self._strand(case, tier, at, at_s)
            self._proc.interrupt(_Back(math.inf))
            return lambda: board.free_on_road(self)
        home = new.way(at, self.base_idx, at_s, 1.0)  # the scene is cut off: turn back
        self.incident = None
        if home:
            self.status = Status.RETURNING
            self._home_from = (at, at_s, home[-1][1] - at_s)
            self._drive = Drive.known(home, self.base_idx, 1.0, case, tier)
            self._rerouted(case.inc.id, tier, "turned_back", home[-1][1] - now)
            self._proc.interrupt(_Back(home[-1][1] - now))
        else:
            self._rerouted(case.inc.id, tier, "turned_back", math.nan)
            self._strand(case, tier, at, at_s)
            self._proc.interrupt(_Back(math.inf))
        return lambda: board.withdrawn(self, case, tier)

    def _unstrand(self, new: Roads) -> Callable[[], None] | None:
        """Stranded and free: drive home once a road leads there."""
        at, at_s, _ = self._home_from
        now = self.model.env.now
        start_s = max(at_s, now)
        way = new.way(at, self.base_idx, start_s, 1.0)
        if not way:
            return None
        case, tier = self._drive.case, self._drive.tier
        self.status = Status.RETURNING
        self._home_from = (at, start_s, way[-1][1] - start_s)
        self._drive = Drive.known(way, self.base_idx, 1.0, case, tier)
        self._rerouted(case.inc.id, tier, f"via:{new.router.nodes[at]}", way[-1][1] - now)
        self._proc = self.model.env.process(self._home(case, tier, self._trip, way[-1][1] - now))
        return lambda: self.model.board.heading_home(self)

    def _cannot_go(self, case: Case, tier: int, trip: int) -> Generator:
        """Sent before a road closed, it can no longer reach the scene from where it is: it stays home, heads
        home or stays stranded, and the board asks again for the tier."""
        log, now = self.model.log, self.model.env.now
        self.incident = None
        if self._home_from is None:  # at its base
            self.status, self._drive = Status.AVAILABLE, None
            self._rerouted(case.inc.id, tier, "turned_back", 0.0)
            log.emit(now, K.RETURNED, case.inc.id, self.unit_id, self.unit_kind, tier)
            self.model.board.withdrawn(self, case, tier)
            return
        _, left_s, home_s = self._home_from
        if math.isinf(home_s):  # stranded: stays where it is
            self.status = Status.AVAILABLE
            self._rerouted(case.inc.id, tier, "turned_back", math.nan)
            self.model.board.withdrawn(self, case, tier)
            return
        self.status = Status.RETURNING  # on its way home: drives on home
        home_s = max(0.0, left_s + home_s - now)
        self._rerouted(case.inc.id, tier, "turned_back", home_s)
        self.model.board.withdrawn(self, case, tier)
        yield from self._home(case, tier, trip, home_s)


@dataclass(frozen=True, slots=True)
class _Back:
    """A re-route's word to a drive to a scene: turn back, ``home_s`` seconds to drive home (inf: stay)."""

    home_s: float
