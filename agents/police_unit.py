"""Police unit: a patrol car based at a station; the station owns a jurisdiction."""

from __future__ import annotations

from agents.responder import Responder


class PoliceUnit(Responder):
    unit_kind = "police"
