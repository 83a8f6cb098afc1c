"""What every ground unit shares: a base, a status, and the time it has spent busy."""

from __future__ import annotations

from enum import Enum

import mesa


class Status(Enum):
    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RETURNING = "returning"


class Responder(mesa.Agent):
    """A unit that waits at ``base_node``, answers one incident at a time and comes back."""

    unit_kind = "responder"

    def __init__(self, model: mesa.Model, unit_id: str, base_node: int, station: str) -> None:
        super().__init__(model)
        self.unit_id = unit_id
        self.base_node = base_node
        self.station = station
        self.status = Status.AVAILABLE
        self.incident: int | None = None
        self._free_mask = None  # the model's array of free flags, one slot per unit (see attach)
        self._slot = -1

    def attach(self, free_mask, slot: int) -> None:
        """Mirror this unit's availability into the model's mask, so a snapshot is a copy, not a scan."""
        self._free_mask, self._slot = free_mask, slot
        free_mask[slot] = self.free

    @property
    def free(self) -> bool:
        return self.status is Status.AVAILABLE

    def assign(self, incident: int) -> None:
        assert self.free, f"{self.unit_id} is not free"
        self.status, self.incident = Status.DISPATCHED, incident
        if self._free_mask is not None:
            self._free_mask[self._slot] = False

    def depart(self) -> None:
        self.status = Status.EN_ROUTE

    def arrive(self) -> None:
        self.status = Status.ON_SCENE

    def release(self) -> None:
        self.status = Status.RETURNING

    def back(self) -> None:
        self.status, self.incident = Status.AVAILABLE, None
        if self._free_mask is not None:
            self._free_mask[self._slot] = True
