"""Patrol drone on a dock (nest): patrols ports, bridges and industrial areas, or waits docked for an
overwatch launch. "Discover from the air, handle on the ground."

A patrolling drone's position is a pure function of time (loops of its route at patrol speed for one
endurance, then recharge at the nest), so whether it sees an incident is a question, not a simulation: the
patrol costs no events, yet ``positions`` answers where it is at any moment (for a live map). What it does
after a sighting (report through the drone control centre) and a docked drone's overwatch flight are its
own SimPy processes.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.events import EventKind as K

if TYPE_CHECKING:
    from sim.model.case import Case

SAMPLE_S = 10.0  # resolution of sighting checks along the patrol


class PatrolDrone(mesa.Agent):
    unit_kind = "drone"

    def __init__(
        self,
        model: mesa.Model,
        unit_id: str,
        nest_xy: tuple[float, float],
        route_xy: np.ndarray,
        role: str,
        speed_mps: float,
        endurance_s: float,
        recharge_s: float,
        offset_s: float = 0.0,
        launch_s: float = 45.0,
    ):
        super().__init__(model)
        self.unit_id = unit_id
        self.nest_xy = nest_xy
        self.role = role  # patrol | docked
        self.speed_mps = speed_mps
        self.endurance_s = endurance_s
        self.recharge_s = recharge_s
        self.launch_s = launch_s
        loop = np.vstack([nest_xy, route_xy, nest_xy]) if len(route_xy) else np.array([nest_xy, nest_xy])
        seg = np.hypot(*np.diff(loop, axis=0).T)
        self._loop = loop
        self._cum = np.concatenate([[0.0], np.cumsum(seg)])
        length = float(self._cum[-1])
        loops = max(1, math.floor(endurance_s * speed_mps / length)) if length > 0 else 1
        self.flight_s = min(endurance_s, loops * length / speed_mps) if length > 0 else 0.0
        self.cycle_s = math.ceil((self.flight_s + recharge_s) / SAMPLE_S) * SAMPLE_S  # whole samples
        self.offset_s = offset_s
        self.free_at_s = 0.0  # docked drones: when the last overwatch (and recharge) ends
        self._route_reach_m = float(np.hypot(*(loop - np.asarray(nest_xy)).T).max())
        # One cycle sampled every SAMPLE_S: a sighting check is then one vector of distances, not a flight.
        grid_t = np.arange(0.0, max(self.cycle_s, SAMPLE_S), SAMPLE_S)
        xy, airborne = self.positions(grid_t - self.offset_s)
        self._cycle_xy, self._cycle_airborne = xy, airborne
        self._seen_cache: dict[tuple[float, float, float], np.ndarray] = {}

    def could_see(self, x: float, y: float, radius_m: float) -> bool:
        """Cheap test first: beyond the route's farthest reach plus the camera radius nothing is seen."""
        return self.role == "patrol" and math.hypot(x - self.nest_xy[0], y - self.nest_xy[1]) <= (
            self._route_reach_m + radius_m
        )

    def positions(self, times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of the drone at each time and whether it is airborne (camera on)."""
        phase = (times_s + self.offset_s) % self.cycle_s if self.cycle_s > 0 else np.zeros_like(times_s)
        airborne = phase < self.flight_s
        length = self._cum[-1] if self._cum[-1] > 0 else 1.0
        d = (phase * self.speed_mps) % length
        x = np.interp(d, self._cum, self._loop[:, 0])
        y = np.interp(d, self._cum, self._loop[:, 1])
        return np.column_stack([x, y]), airborne

    def first_sighting(
        self, x: float, y: float, t0_s: float, window_s: float, radius_m: float
    ) -> float | None:
        """First time in [t0, t0 + window] the patrolling drone is airborne within ``radius_m``; else None.

        Resolution SAMPLE_S: the sample at or after t0 is the first checked.
        """
        if self.role != "patrol" or self.flight_s <= 0:
            return None
        n = len(self._cycle_xy)
        key = (x, y, radius_m)  # incidents recur at the same enterprises and places: remember each spot
        seen_in_cycle = self._seen_cache.get(key)
        if seen_in_cycle is None:
            seen_in_cycle = self._cycle_airborne & (
                np.hypot(self._cycle_xy[:, 0] - x, self._cycle_xy[:, 1] - y) <= radius_m
            )
            self._seen_cache[key] = seen_in_cycle
        if not seen_in_cycle.any():
            return None
        start = math.ceil(((t0_s + self.offset_s) % (n * SAMPLE_S)) / SAMPLE_S - 1e-9)
        steps = np.arange(int(window_s // SAMPLE_S) + 1)
        hit = np.flatnonzero(seen_in_cycle[(start + steps) % n])
        if not len(hit):
            return None
        first_phase = (start + hit[0]) * SAMPLE_S
        return float(t0_s + first_phase - ((t0_s + self.offset_s) % (n * SAMPLE_S)))

    def reset(self) -> None:
        """Docked and charged: the start of a replication."""
        self.free_at_s = 0.0

    def can_overwatch(self, now_s: float) -> bool:
        return self.role == "docked" and now_s >= self.free_at_s and not self.model.drones_grounded

    def report(self, case: Case, t_seen_s: float) -> Generator:
        """The patrol sees the incident and streams it to the drone control centre, which orders the
        station's command room to act."""
        env = self.model.env
        yield env.timeout(t_seen_s - env.now)
        if self.model.drones_grounded:  # the wind rose before it came by: whoever else notices, notices
            from sim.model.detection import start_detection  # (detection imports the agents)

            start_detection(self.model, case, drones=False)
            return
        self.model.log.emit(env.now, K.DETECTED, case.inc.id, self.unit_id, "drone", detail="drone")
        yield from self.model.command_room_for(case).take_alarm(case, "drone_centre")

    def overwatch(self, case: Case, distance_m: float) -> None:
        """Launch from the dock, hold over the scene as long as the battery allows (at most the incident's
        typical handling time), fly home and recharge."""
        flight_s = distance_m / self.speed_mps
        hold_s = max(0.0, self.endurance_s - 2 * flight_s - self.launch_s)
        hold_s = min(hold_s, case.kind.handling.median_s_value)
        self.free_at_s = self.model.env.now + self.launch_s + 2 * flight_s + hold_s + self.recharge_s
        self.model.env.process(self._fly(case, self.launch_s + flight_s, hold_s, flight_s))

    def _fly(self, case: Case, out_s: float, hold_s: float, back_s: float) -> Generator:
        env, log, inc = self.model.env, self.model.log, case.inc
        log.emit(env.now, K.DISPATCHED, inc.id, self.unit_id, "drone")
        yield env.timeout(out_s)
        log.emit(env.now, K.ARRIVED, inc.id, self.unit_id, "drone")
        yield env.timeout(hold_s)
        log.emit(env.now, K.CLEARED, inc.id, self.unit_id, "drone")
        yield env.timeout(back_s)
        log.emit(env.now, K.RETURNED, inc.id, self.unit_id, "drone")
