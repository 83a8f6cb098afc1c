"""The model's working state of one incident: who is on scene, and the moments outcomes wait for.

Outcomes (sim/model/outcomes.py) wait on two events a case fires: ``counted`` (the first arrival of a unit
whose kind counts for this incident kind) and ``contained`` (a hazmat-capable unit on scene has finished
containing a leak). Both are fired by the units themselves as they arrive and work, never by a flag.
"""

from __future__ import annotations

import math

import simpy

from sim.config import IncidentKind
from sim.distributions import Delay
from sim.model.incidents import Incident


class Case:
    __slots__ = (
        "_containment",
        "_orders",
        "active",
        "contained",
        "counted",
        "handled",
        "inc",
        "kind",
        "node_idx",
        "present",
        "reported",
        "resolved",
        "t_contained",
        "t_coordinated",
        "t_counted",
        "who_contained",
        "who_counted",
    )

    def __init__(
        self, inc: Incident, node_idx: int, kind: IncidentKind, env: simpy.Environment, containment: Delay
    ) -> None:
        self.inc, self.node_idx, self.kind = inc, node_idx, kind
        self.counted = env.event()
        self.contained = env.event()
        self.t_counted = math.inf
        self.t_coordinated = math.inf
        self.t_contained = math.inf
        self.who_counted: tuple[str, str] = ("", "")  # (unit id, unit kind) of the first arrival that counts
        self.who_contained: tuple[str, str] = ("", "")
        self.active = 0  # units sent and not yet cleared
        self.resolved = False  # the outcome is decided
        self.handled = False  # some unit has finished its work on scene
        self.reported = False  # an alarm has reached a command room (a later alarm is a repeat: merged)
        self.present: dict[str, str] = {}  # unit id -> unit kind, for the units on scene now
        self._orders: dict[str, int] = {}
        self._containment = containment

    @property
    def over(self) -> bool:
        """Outcome decided, handled by someone, and nobody left on scene or on the way: requests still
        waiting are then pointless. An incident nobody has attended keeps waiting for its units."""
        return self.resolved and self.handled and self.active == 0

    @property
    def leaking(self) -> bool:
        return self.kind.needs_hazmat and not self.contained.triggered and not self.resolved

    def take_order(self, unit_kind: str) -> int:
        """0 for the first unit of this kind sent here, 1 for the second...: picks its uniforms."""
        order = self._orders.get(unit_kind, 0)
        self._orders[unit_kind] = order + 1
        return order

    def arrive(self, unit_kind: str, unit_id: str, t_s: float) -> None:
        """A unit is on scene: it may be the first whose kind counts for the outcome."""
        self.present[unit_id] = unit_kind
        if unit_kind in self.kind.counted_by and not self.counted.triggered:
            self.t_counted = t_s
            self.who_counted = (unit_id, unit_kind)
            self.counted.succeed()

    def leave(self, unit_id: str) -> None:
        """A unit has finished its work on scene."""
        self.present.pop(unit_id, None)
        self.active -= 1
        self.handled = True

    def withdraw(self) -> None:
        """A unit sent here will not come after all (a road closed on its way): it is no longer on the way."""
        self.active -= 1

    def containment_s(self, slot: int) -> float:
        """How long a hazmat-capable unit needs on scene to contain this leak; ``slot`` is its uniform,
        chosen by the unit's kind and order (the brigade's first hazmat unit draws the same number under
        every policy)."""
        return self._containment.quantile(self.inc.u[slot])

    def contain(self, unit_id: str, t_s: float) -> bool:
        """A unit on scene has finished containing: the leak stops growing now, if it still grows."""
        if not self.leaking or unit_id not in self.present:
            return False
        self.t_contained = t_s
        self.who_contained = (unit_id, self.present[unit_id])
        self.contained.succeed()
        return True
