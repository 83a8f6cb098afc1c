"""Police unit: a patrol car based at a station; the station owns a jurisdiction."""

from __future__ import annotations

from typing import Any

from agents.responder import Responder, Timing
from sim.config import DelaysConfig, FleetConfig
from sim.model.incidents import U
from sim.site.site import Site


class PoliceUnit(Responder):
    unit_kind = "police"

    @classmethod
    def deploy(cls, model: Any, site: Site, fleet: FleetConfig, delays: DelaysConfig) -> list[Responder]:
        """``fleet.police_cars_per_station`` cars at every station."""
        timing = Timing(
            delays.mobilise_police,
            (U.MOB_POLICE_1, U.MOB_POLICE_2),
            (U.HANDLING_POLICE_1, U.HANDLING_POLICE_2),
        )
        return cls.at_bases(model, site.stations, fleet.police_cars_per_station, "P", timing)
