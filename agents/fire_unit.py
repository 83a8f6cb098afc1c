"""The fire brigade (消防救援, dispatched by the 119 centre): engines and hazmat units at fire stations.

They answer fires and chemical leaks under every policy: the platform changes how the police and the
enterprises respond, not whether the fire service comes. An engine puts out a fire; a hazmat unit
contains a leak (it must be on scene for the whole containment time, sim/model/case.py).
"""

from __future__ import annotations

from typing import Any

from agents.responder import Responder, Timing
from sim.config import DelaysConfig, FleetConfig
from sim.model.incidents import U
from sim.site.site import Site


class FireEngine(Responder):
    unit_kind = "fire_engine"

    @classmethod
    def deploy(cls, model: Any, site: Site, fleet: FleetConfig, delays: DelaysConfig) -> list[Responder]:
        """``fleet.fire_engines_per_station`` engines at every fire station."""
        timing = Timing(delays.turnout_fire, (U.MOB_FIRE_1, U.MOB_FIRE_2), (U.SCENE_FIRE_1, U.SCENE_FIRE_2))
        return cls.at_bases(model, site.fire_stations, fleet.fire_engines_per_station, "F", timing)


class HazmatUnit(Responder):
    unit_kind = "hazmat_unit"
    hazmat = True

    @classmethod
    def deploy(cls, model: Any, site: Site, fleet: FleetConfig, delays: DelaysConfig) -> list[Responder]:
        """``fleet.hazmat_units_per_fire_station`` hazmat units at every fire station."""
        timing = Timing(
            delays.turnout_hazmat,
            (U.MOB_HAZMAT_1, U.MOB_HAZMAT_2),
            (U.SCENE_HAZMAT_1, U.SCENE_HAZMAT_2),
            contain_slots=(U.CONTAIN_HAZMAT_1, U.CONTAIN_HAZMAT_2),
        )
        return cls.at_bases(model, site.fire_stations, fleet.hazmat_units_per_fire_station, "H", timing)
