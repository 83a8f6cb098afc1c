"""Emergency echelon (应急梯队): security backbones and volunteer police of one grid, at its post."""

from __future__ import annotations

from typing import Any

from agents.responder import Responder, Timing


class ResponseTeam(Responder):
    unit_kind = "echelon"

    def __init__(
        self,
        model: Any,
        unit_id: str,
        post_node: int,
        station: str,
        timing: Timing,
        grid: str,
        backbones: int,
        volunteers: int,
        hazmat: bool,
    ) -> None:
        super().__init__(model, unit_id, post_node, station, timing)
        self.grid = grid
        self.backbones = backbones
        self.volunteers = volunteers  # slower to mobilise than paid guards: in the mobilisation delay
        self.hazmat = hazmat  # teams of chemical-zone grids carry hazmat kit and training
