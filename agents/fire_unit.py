"""The fire brigade (消防救援, dispatched by the 119 centre): engines and hazmat units at fire stations.

They answer fires and chemical leaks under every policy: the platform changes how the police and the
enterprises respond, not whether the fire service comes. An engine puts out a fire; a hazmat unit
contains a leak (it must be on scene for the whole containment time, sim/model/case.py).
"""

from __future__ import annotations

from agents.responder import Responder


class FireEngine(Responder):
    unit_kind = "fire_engine"


class HazmatUnit(Responder):
    unit_kind = "hazmat_unit"
    hazmat = True
