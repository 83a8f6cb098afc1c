"""Emergency echelon (应急梯队): security backbones and volunteer police of one grid, at its post."""

from __future__ import annotations

from typing import Any

from agents.responder import Responder, Timing
from sim.config import DelaysConfig, FleetConfig
from sim.model.incidents import U
from sim.site.site import Site


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

    @classmethod
    def deploy(cls, model: Any, site: Site, fleet: FleetConfig, delays: DelaysConfig) -> list[Responder]:
        """``fleet.echelons_per_grid`` teams at every grid's post (or the post's own ``echelons`` count,
        when a grid layout gives one); those of grids in zones of the kinds
        ``fleet.hazmat_echelon_zone_kinds`` carry hazmat kit."""
        timing = Timing(
            delays.mobilise_echelon,
            (U.MOB_ECHELON_1, U.MOB_ECHELON_2),
            (U.SCENE_ECHELON_1, U.SCENE_ECHELON_2),
            delays.echelon_on_scene,
            (U.CONTAIN_ECHELON_1, U.CONTAIN_ECHELON_2),
        )
        kit = hazmat_grids(site, fleet.hazmat_echelon_zone_kinds)
        return [
            cls(
                model,
                f"E-{post.grid}-{k + 1}",
                int(post.node),
                post.station,
                timing,
                post.grid,
                fleet.echelon_backbones,
                fleet.echelon_volunteers,
                post.grid in kit,
            )
            for post in site.posts.itertuples()
            for k in range(int(getattr(post, "echelons", fleet.echelons_per_grid)))
        ]


def hazmat_grids(site: Site, zone_kinds: list[str]) -> set[str]:
    """Grids whose echelon carries hazmat kit: those in zones of these kinds."""
    zone_kind = dict(zip(site.zones["name"], site.zones["kind"], strict=False))
    grids = site.grids
    return {
        str(g) for g, z in zip(grids["id"], grids["zone"], strict=True) if zone_kind.get(z, "") in zone_kinds
    }
