"""The facilitator: one SimPy process that delivers each inject at its time to the agents it acts on.

An inject changes the world, never an outcome: a terminal goes off, a unit leaves service, a road closes
(units on the road re-route), the wind grounds the drones, a second alarm reaches another command room,
a task order puts more guards on duty. What follows is up to the agents, and the log records both the
inject (``inject``, its MSEL seq as value) and whatever the agents then did.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from sim.drill.resolve import Drill, Placed
from sim.model.events import EventKind as K


def start(model: Any, drill: Drill) -> None:
    model.env.process(_deliver(model, drill.injects))


def _deliver(model: Any, injects: list[Placed]) -> Generator:
    env = model.env
    for placed in injects:
        yield env.timeout(max(0.0, placed.t_s - env.now))
        inj = placed.inject
        model.log.emit(
            env.now, K.INJECT, placed.incident, placed.target, detail=inj.type, value=float(inj.seq)
        )
        _act(model, placed)


def _act(model: Any, placed: Placed) -> None:
    kind, target = placed.inject.type, placed.target
    if kind in ("terminal_offline", "terminal_online"):
        model.enterprises[target].terminal_forced = kind == "terminal_online"
    elif kind in ("unit_unavailable", "unit_back"):
        unit = model.units[model.board.slot_of[target]]
        (model.board.set_off_duty if kind == "unit_unavailable" else model.board.set_on_duty)(unit)
    elif kind in ("drones_grounded", "drones_flying"):
        model.drones_grounded = kind == "drones_grounded"
    elif kind in ("road_closed", "road_reopened"):
        from sim.site.roads import edges_named

        edges = edges_named(model.site, target)
        (model.close_roads if kind == "road_closed" else model.reopen_roads)(edges)
    elif kind == "second_alarm":
        _second_alarm(model, placed)
    elif kind == "task_order":
        _task_order(model, placed)
    # incident: the model opens it at its time; background: drawn in advance (sim/drill/resolve.py)


def _second_alarm(model: Any, placed: Placed) -> None:
    """Another party raises the alarm too: the other side's station in a cross-district incident (unless
    the inject names a station), by one-key terminal unless it says otherwise. An incident already over
    needs no alarm: nothing happens."""
    case = model.cases.get(placed.incident)
    if case is None:
        return
    inc = case.inc
    station = placed.target or inc.partner_station or inc.station
    room = model.command_rooms.get(station, model.county)
    channel = placed.inject.channel or "one_key"
    model.env.process(room.take_alarm(case, channel))


def _task_order(model: Any, placed: Placed) -> None:
    """Pushed to the enterprises' terminals: those online put ``guards_extra`` more guards on duty until
    the order ends (a terminal a drill switched off does not receive it)."""
    extra = placed.inject.guards_extra
    if not extra:
        return
    reached = [
        model.enterprises[e] for e in placed.enterprises if model.enterprises[e].terminal_forced is not False
    ]
    for enterprise in reached:
        enterprise.guards_extra += extra
    if placed.until_s == placed.until_s:  # not NaN: the order ends
        model.env.process(_end_order(model, reached, extra, placed.until_s))


def _end_order(model: Any, reached: list, extra: int, until_s: float) -> Generator:
    yield model.env.timeout(max(0.0, until_s - model.env.now))
    for enterprise in reached:
        enterprise.guards_extra -= extra
