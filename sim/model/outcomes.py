"""How each incident ends, decided by who was on scene and when (never by a flag).

* escape (theft, data leak), escalate (disputes), operator (illegal drone flights): the good outcome needs a
  unit of a kind in ``counted_by`` on scene before the incident's deadline (drawn from its uniform); a
  cross-district dispute also needs the two stations coordinated by then.
* fire: controlled if guards or an echelon (extinguishers) or a fire engine arrive before flashover.
* hazard (chemical leak): the affected radius grows from ``leak_initial_radius_m`` at
  ``leak_growth_m_per_min`` until a hazmat-capable unit, on scene for its whole containment time, contains
  it; at ``leak_max_radius_m`` the release has run its course (the ERG large-spill distance) and the leak
  counts as uncontained. The outcome's value is the affected area, m2.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from sim.model.case import Case
from sim.model.events import EventKind as K
from sim.model.incidents import U

WORDS = {  # outcome kind -> (good, bad)
    "escape": ("intercepted", "escaped"),
    "operator": ("operator_caught", "operator_left"),
    "escalate": ("calmed", "escalated"),
    "fire": ("controlled", "flashover"),
    "hazard": ("contained", "uncontained"),
}


def watch(model: Any, case: Case) -> None:
    """Arm the incident's outcome: callbacks on the moments it waits for (cheaper than a process each)."""
    if case.kind.outcome == "hazard":
        _watch_leak(model, case)
    else:
        _watch_deadline(model, case)


def leak_radius_m(model: Any, since_s: float) -> float:
    icfg = model.cfg.incidents
    grown = icfg.leak_initial_radius_m + icfg.leak_growth_m_per_min * since_s / 60.0
    return min(icfg.leak_max_radius_m, grown)


def _watch_leak(model: Any, case: Case) -> None:
    icfg, inc = model.cfg.incidents, case.inc
    full_s = (icfg.leak_max_radius_m - icfg.leak_initial_radius_m) / icfg.leak_growth_m_per_min * 60.0
    case.contained.callbacks.append(partial(_leak_ends, model, case))
    model.env.timeout(max(0.0, inc.t_s + full_s - model.env.now)).callbacks.append(
        partial(_leak_ends, model, case)
    )


def _leak_ends(model: Any, case: Case, _event: object) -> None:
    """Contained by a unit on scene, or grown to its full extent: whichever comes first decides."""
    if case.resolved:
        return
    contained = case.contained.triggered
    radius = leak_radius_m(model, (case.t_contained if contained else model.env.now) - case.inc.t_s)
    who = case.who_contained if contained else ("", "")
    _resolve(model, case, WORDS["hazard"][0 if contained else 1], math.pi * radius**2, who)


def _watch_deadline(model: Any, case: Case) -> None:
    inc, env = case.inc, model.env
    deadline = inc.t_s + case.kind.deadline.quantile(inc.u[U.DEADLINE])
    case.counted.callbacks.append(partial(_counted, model, case, deadline))
    env.timeout(max(0.0, deadline - env.now)).callbacks.append(
        partial(_deadline_passes, model, case, deadline)
    )


def _counted(model: Any, case: Case, deadline: float, _event: object) -> None:
    """A unit that counts is on scene. A cross-district incident also needs the two stations coordinated
    before the deadline; if that is still to come, the outcome waits for it."""
    if case.resolved or case.t_counted > deadline:
        return
    env = model.env
    if not case.inc.cross_district or case.t_coordinated <= env.now:
        _decide(model, case, True)
    elif case.t_coordinated <= deadline:
        env.timeout(case.t_coordinated - env.now).callbacks.append(lambda _e: _decide(model, case, True))


def _deadline_passes(model: Any, case: Case, deadline: float, _event: object) -> None:
    """At the deadline, after whatever else happens at that very moment (an arrival exactly on time is in
    time): still undecided means nobody who counts came in time, or the stations were not coordinated."""
    model.env.timeout(0).callbacks.append(lambda _e: _decide(model, case, _in_time(case, deadline)))


def _in_time(case: Case, deadline: float) -> bool:
    coordinated = not case.inc.cross_district or case.t_coordinated <= deadline
    return case.t_counted <= deadline and coordinated


def _decide(model: Any, case: Case, good: bool) -> None:
    if not case.resolved:  # a good outcome names the unit whose arrival made it
        _resolve(
            model,
            case,
            WORDS[case.kind.outcome][0 if good else 1],
            who=case.who_counted if good else ("", ""),
        )


def _resolve(
    model: Any, case: Case, outcome: str, value: float = math.nan, who: tuple[str, str] = ("", "")
) -> None:
    """Log the outcome (naming the unit that made a good one) and drop requests no longer needed."""
    model.log.emit(model.env.now, K.OUTCOME, case.inc.id, who[0], who[1], detail=outcome, value=value)
    case.resolved = True
    model.board.closed_if_over(case)
