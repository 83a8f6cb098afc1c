"""Enterprise: a site with a workforce, guards on duty by shift, and a one-key alarm terminal."""

from __future__ import annotations

import mesa

DAY_S = 86_400.0


def shift_at(t_s: float) -> str:
    """day 08-16 h, evening 16-24 h, night 00-08 h."""
    hour = (t_s % DAY_S) / 3600.0
    return "night" if hour < 8 else ("day" if hour < 16 else "evening")


class Enterprise(mesa.Agent):
    def __init__(self, model: mesa.Model, row) -> None:
        super().__init__(model)
        self.eid: str = str(row["id"])
        self.kind: str = str(row["kind"])
        self.node: int = int(row["node"])
        self.grid: str = str(row["grid"])
        self.station: str = str(row["station"])
        self.workforce: int = int(row["workforce"])
        self.guards = {s: int(row[f"guards_{s}"]) for s in ("day", "evening", "night")}
        self.terminal_online_p: float = float(row["terminal_online_p"])
        self.hazmat: bool = bool(row["hazmat"])

    def guards_on_duty(self, t_s: float) -> int:
        return self.guards[shift_at(t_s)]

    def terminal_online(self, u: float) -> bool:
        """Is the one-key terminal online at this incident? ``u`` is the incident's pre-drawn uniform."""
        return u < self.terminal_online_p
