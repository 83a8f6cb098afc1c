"""Who notices an incident first: the enterprise's staff, a patrol drone overhead, or a passer-by.

Each candidate's moment is known in advance (the staff's from the incident's uniform and the shift, a
drone's from its patrol, a passer-by's from the incident's uniform), so only the first one's process
runs: the staff raise the alarm (agents/enterprise.py), the drone reports (agents/patrol_drone.py), or
the passer-by calls 110 (here: a passer-by is not an agent of the model).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from agents.enterprise import shift_at
from sim.model.case import Case
from sim.model.events import EventKind as K
from sim.model.incidents import U


def start_detection(model: Any, case: Case, drones: bool = True) -> None:
    """Start the process of whoever notices the incident first (from now on: a drone grounded before its
    sighting hands the incident back here, without drones)."""
    inc, icfg = case.inc, model.cfg.incidents
    best_t = inc.t_s + icfg.passerby_detection.quantile(inc.u[U.PASSERBY_DETECT])
    best: tuple[str, Any] = ("passerby", None)
    enterprise = model.enterprises.get(inc.enterprise) if inc.enterprise else None
    if enterprise is not None:
        night = icfg.night_staff_detection_factor if shift_at(inc.t_s) == "night" else 1.0
        t = inc.t_s + night * icfg.staff_detection.quantile(inc.u[U.STAFF_DETECT])
        if t <= best_t:  # a tie goes to the staff: they are on site
            best_t, best = t, ("staff", enterprise)
    if case.kind.visible_from_air and model.policy_cfg.drone_patrols and not model.drones_grounded and drones:
        radius = model.cfg.fleet.drones.detect_radius_m
        for drone in model.patrol_drones:
            if drone.could_see(inc.x_m, inc.y_m, radius):
                t = drone.first_sighting(inc.x_m, inc.y_m, inc.t_s, icfg.air_visible_s, radius)
                if t is not None and t < best_t:
                    best_t, best = t, ("drone", drone)
    mode, who = best
    if mode == "staff":
        process = who.notice(case, best_t)
    elif mode == "drone":
        process = who.report(case, best_t)
    else:
        process = _passerby(model, case, best_t)
    model.env.process(process)


def _passerby(model: Any, case: Case, t_s: float) -> Generator:
    env = model.env
    yield env.timeout(t_s - env.now)
    model.log.emit(env.now, K.DETECTED, case.inc.id, detail="passerby")
    yield from model.command_room_for(case).take_alarm(case, "call_110")
