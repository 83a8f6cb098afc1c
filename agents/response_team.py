"""Emergency echelon (应急梯队): security backbones and volunteer police of one grid, at its post."""

from __future__ import annotations

import mesa

from agents.responder import Responder


class ResponseTeam(Responder):
    unit_kind = "echelon"

    def __init__(
        self,
        model: mesa.Model,
        unit_id: str,
        post_node: int,
        station: str,
        grid: str,
        backbones: int,
        volunteers: int,
        hazmat: bool,
    ) -> None:
        super().__init__(model, unit_id, post_node, station)
        self.grid = grid
        self.backbones = backbones
        self.volunteers = volunteers  # slower to mobilise than paid guards: in the mobilisation delay
        self.hazmat = hazmat
