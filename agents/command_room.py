"""The dispatchers: a station's command room (综合指挥室), the county command centre (指挥中心) and the
fire service's 119 centre.

A command room takes an alarm, locates the incident and decides (the delays depend on the channel the
alarm came by), then asks the dispatch board for units tier by tier and may launch a docked drone for
overwatch. The county centre coordinates cross-district incidents and hands incidents to another
station's units. The 119 centre sends the fire brigade to fires and leaks under every policy.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mesa

from sim.distributions import Delay
from sim.model.events import EventKind as K
from sim.model.incidents import U

if TYPE_CHECKING:
    from sim.model.case import Case


@dataclass(frozen=True, slots=True)
class AlarmDelays:
    """From the alarm to the decision, per channel (docs/parameters.md section 2)."""

    one_key_to_screen: Delay
    video_check: Delay
    call_answer: Delay
    call_interview_locate: Delay
    drone_centre_order: Delay


class CommandRoom(mesa.Agent):
    unit_kind = "command_room"

    def __init__(self, model: Any, station: str, name: str, delays: AlarmDelays) -> None:
        super().__init__(model)
        self.station = station
        self.name = name
        self.delays = delays
        self.alarms = 0

    def reset(self) -> None:
        self.alarms = 0

    def _delays(self, case: Case, channel: str) -> tuple[float, float]:
        """Seconds for the alarm to reach the room, and to locate and decide."""
        d, u = self.delays, case.inc.u
        if channel == "one_key":  # precise location; the room checks the enterprise's CCTV before it sends
            return d.one_key_to_screen.median_s_value, d.video_check.quantile(u[U.VIDEO])
        if channel == "drone_centre":  # the station confirms on the drone's live video
            return d.drone_centre_order.median_s_value, d.video_check.quantile(u[U.VIDEO])
        return d.call_answer.quantile(u[U.CALL_ANSWER]), d.call_interview_locate.quantile(u[U.CALL_LOCATE])

    def take_alarm(self, case: Case, channel: str) -> Generator:
        """The alarm arrives, the room decides and dispatches. Guards who pressed a one-key alarm act at
        once, before the room has decided."""
        model = self.model
        env, log, inc, policy = model.env, model.log, case.inc, model.policy_cfg
        report_s, decide_s = self._delays(case, channel)
        yield env.timeout(report_s)
        self.alarms += 1
        log.emit(env.now, K.REPORTED, inc.id, self.name, "command_room", detail=channel)
        if case.reported:  # a second alarm of an incident already in hand: merged with the first
            return
        case.reported = True
        model.fire_control.alerted(case)
        if inc.cross_district:
            model.county.coordinate(case)
        tiers = list(range(1, len(policy.tiers) + 1))
        if channel == "one_key":
            own = [k for k in tiers if policy.tiers[k - 1].members == "own_security"]
            model.board.request(case, own)
            tiers = [k for k in tiers if k not in own]
        yield env.timeout(decide_s)
        log.emit(env.now, K.DECIDED, inc.id, self.name, "command_room")
        model.board.request(case, tiers)
        if model.decided(case, "launch_drone", "", policy.drone_overwatch):
            self.launch_overwatch(case)

    def launch_overwatch(self, case: Case) -> None:
        """One click: the nearest free docked drone within range flies to the scene for live video."""
        inc, now = case.inc, self.model.env.now
        best, best_m = None, self.model.policy_cfg.drone_overwatch_range_m
        for drone in self.model.docked_drones:
            if drone.can_overwatch(now):
                dist_m = math.hypot(drone.nest_xy[0] - inc.x_m, drone.nest_xy[1] - inc.y_m)
                if dist_m <= best_m and (best is None or dist_m < best_m or drone.unit_id < best.unit_id):
                    best, best_m = drone, dist_m
        if best is not None:
            best.overwatch(case, best_m)


class CountyCentre(CommandRoom):
    """Merges information across stations: coordinates cross-district incidents, hands incidents over.
    It also takes alarms from places no station's jurisdiction covers."""

    unit_kind = "county_centre"

    def __init__(self, model: Any, delays: AlarmDelays, handoff: Delay, liaison: Delay) -> None:
        super().__init__(model, "", "county", delays)
        self.handoff, self.liaison = handoff, liaison
        self.handoffs = 0

    def reset(self) -> None:
        self.alarms = self.handoffs = 0

    def hand_over(self, case: Case, tier: int, order: int) -> float:
        """Hand the incident to another station's unit (the ``order``-th of its kind sent here): the delay
        before that unit is told."""
        delay = self.handoff.quantile(case.inc.u[(U.HANDOFF, U.HANDOFF_2)[min(order, 1)]])
        self.handoffs += 1
        self.model.log.emit(
            self.model.env.now, K.HANDOFF, case.inc.id, "county", "county_centre", tier, value=delay
        )
        return delay

    def coordinate(self, case: Case) -> None:
        """A cross-district dispute needs both stations: the county centre merges the two alarms and
        coordinates them, or (strict) the two stations liaise by phone, which takes longer."""
        county = self.model.decided(case, "ask_county", "", self.model.policy_cfg.coordination == "county")
        delay = (self.handoff if county else self.liaison).quantile(case.inc.u[U.COORDINATION])
        case.t_coordinated = self.model.env.now + delay
        self.model.env.process(self._coordinated(case, delay, county))

    def _coordinated(self, case: Case, delay: float, county: bool) -> Generator:
        yield self.model.env.timeout(delay)
        inc = case.inc
        self.model.log.emit(
            self.model.env.now,
            K.COORDINATED,
            inc.id,
            unit="county" if county else "",
            unit_kind="county_centre" if county else "",
            detail=f"{'county' if county else 'liaison'}:{inc.station}+{inc.partner_station}",
            value=delay,
        )


class FireControl(mesa.Agent):
    """The 119 centre: linked with 110, it learns of an incident when the alarm reaches the police and
    sends the brigade units the incident kind needs (any policy)."""

    unit_kind = "fire_control"

    def __init__(self, model: Any, call_process: Delay) -> None:
        super().__init__(model)
        self.call_process = call_process

    def alerted(self, case: Case) -> None:
        """The alarm has reached the police (once per incident): send the brigade if the kind needs it."""
        if case.kind.brigade:
            self.model.env.process(self._send(case))

    def _send(self, case: Case) -> Generator:
        yield self.model.env.timeout(self.call_process.quantile(case.inc.u[U.FIRE_CALL]))
        self.model.board.request_brigade(case, case.kind.brigade)
