"""Enterprise: a site with a workforce, guards on duty by shift, and a one-key alarm terminal.

It acts twice in an incident on its premises: its staff notice and raise the alarm (the one-key terminal
when the enterprise is on the platform and the terminal is online, else a 110 call), and its guards on
duty respond on site when the policy has an own-security tier.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import mesa

from sim.distributions import Delay
from sim.model.events import EventKind as K
from sim.model.incidents import U

if TYPE_CHECKING:
    from sim.model.case import Case
    from sim.model.world import EnterpriseRecord

DAY_S = 86_400.0
GUARDS = "own_security"


def shift_at(t_s: float) -> str:
    """day 08-16 h, evening 16-24 h, night 00-08 h."""
    hour = (t_s % DAY_S) / 3600.0
    return "night" if hour < 8 else ("day" if hour < 16 else "evening")


class Enterprise(mesa.Agent):
    unit_kind = "enterprise"

    def __init__(
        self, model: Any, record: EnterpriseRecord, on_platform: bool, mobilise: Delay, on_site: Delay
    ) -> None:
        super().__init__(model)
        self.record = record  # its fixed facts: node, grid, kind, workforce, hazmat...
        self.eid = record.eid
        self.station = record.station
        self.guards = {
            "day": record.guards_day,
            "evening": record.guards_evening,
            "night": record.guards_night,
        }
        self.terminal_online_p = record.terminal_online_p
        self.on_platform = on_platform  # a one-key terminal wired to the station (the platform's policies)
        self.guards_id = f"{record.eid}/guards"
        self._mobilise, self._on_site = mobilise, on_site
        self.reset()

    def reset(self) -> None:
        """The start of a replication: no drill has touched the terminal or the guards yet."""
        self.terminal_forced: bool | None = None  # a drill's inject: the terminal is off (False) or on (True)
        self.guards_extra = 0  # a task order's extra guards on duty

    def guards_on_duty(self, t_s: float) -> int:
        return self.guards[shift_at(t_s)] + self.guards_extra

    def terminal_online(self, u: float) -> bool:
        """Is the one-key terminal online at this incident? ``u`` is the incident's pre-drawn uniform;
        a drill may have switched the terminal off (or back on)."""
        if self.terminal_forced is not None:
            return self.terminal_forced
        return u < self.terminal_online_p

    def notice(self, case: Case, t_detect_s: float) -> Generator:
        """Staff notice the incident, then raise the alarm through the best channel they have."""
        env = self.model.env
        yield env.timeout(t_detect_s - env.now)
        self.model.log.emit(env.now, K.DETECTED, case.inc.id, self.eid, "enterprise", detail="staff")
        channel = (
            "one_key" if self.on_platform and self.terminal_online(case.inc.u[U.TERMINAL]) else "call_110"
        )
        yield from self.model.command_room_for(case).take_alarm(case, channel)

    def send_guards(self, case: Case, tier: int) -> None:
        """The guards on duty go to the scene inside the premises (never queued: they are already here)."""
        self.model.env.process(self._guards(case, tier))

    def _guards(self, case: Case, tier: int) -> Generator:
        env, log, inc = self.model.env, self.model.log, case.inc
        log.emit(env.now, K.DISPATCHED, inc.id, self.guards_id, GUARDS, tier)
        yield env.timeout(self._mobilise.quantile(inc.u[U.MOB_OWN]))
        log.emit(env.now, K.MOBILISED, inc.id, self.guards_id, GUARDS, tier)
        yield env.timeout(self._on_site.quantile(inc.u[U.ON_SITE]))
        log.emit(env.now, K.ARRIVED, inc.id, self.guards_id, GUARDS, tier)
        case.arrive(GUARDS, self.guards_id, env.now)
        yield env.timeout(case.kind.handling.quantile(inc.u[U.HANDLING_OWN]))
        log.emit(env.now, K.CLEARED, inc.id, self.guards_id, GUARDS, tier)
        case.leave(self.guards_id)
        log.emit(env.now, K.RETURNED, inc.id, self.guards_id, GUARDS, tier)  # already home
        self.model.board.closed_if_over(case)
