"""Command rooms (综合指挥室), one per station, and the county command centre (指挥中心).

They receive alarms and decide; the delays of locating and deciding depend on the channel the alarm came by.
"""

from __future__ import annotations

import mesa


class CommandRoom(mesa.Agent):
    unit_kind = "command_room"

    def __init__(self, model: mesa.Model, station: str, name: str) -> None:
        super().__init__(model)
        self.station = station
        self.name = name
        self.alarms = 0

    def receive(self) -> None:
        self.alarms += 1


class CountyCentre(mesa.Agent):
    """Merges information across stations and hands incidents over after a delay."""

    unit_kind = "county_centre"

    def __init__(self, model: mesa.Model) -> None:
        super().__init__(model)
        self.handoffs = 0

    def hand_over(self) -> None:
        self.handoffs += 1
