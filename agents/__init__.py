"""Agents: one module per kind, each acting through its own SimPy processes.

``RESPONDERS`` lists the ground unit kinds the model deploys; each says where its units are based and how
many there are (``deploy``). A new kind of unit is a new module and one entry here, not an edit of the model.
"""

from agents.fire_unit import FireEngine, HazmatUnit
from agents.police_unit import PoliceUnit
from agents.response_team import ResponseTeam

RESPONDERS = (ResponseTeam, PoliceUnit, FireEngine, HazmatUnit)
