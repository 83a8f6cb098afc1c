"""A drill's record as the report reads it: the log, the incidents, the units, the scenario and drill.json.

Why a class: the report asks the same questions many times (this arm's events, this incident's label, the
station that took its alarm, the inject with MSEL seq 3); answering them in one place keeps every section
reading the log the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from sim.drill.objectives import arm_events, incident_ids
from sim.drill.scenario import Inject, Scenario, seconds
from sim.errors import ScenarioError
from sim.model.events import EventKind as K
from sim.model.outcomes import WORDS

BAD_OUTCOMES = frozenset(bad for _, bad in WORDS.values())


@dataclass
class Record:
    events: pd.DataFrame
    incidents: pd.DataFrame
    units: pd.DataFrame
    scenario: Scenario
    meta: Mapping
    _arms: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        """Text columns without NaN (a CSV read back has them), so every comparison is with strings."""
        self.events = arm_events(self.events, None)
        if "policy" not in self.events.columns:
            self.events["policy"] = self.arms[0] if self.meta.get("arms") else ""

    def arm(self, label: str) -> pd.DataFrame:
        """One arm's log (cached)."""
        if label not in self._arms:
            self._arms[label] = arm_events(self.events, label)
        return self._arms[label]

    def of(self, label: str, incident: int) -> pd.DataFrame:
        ev = self.arm(label)
        return ev[ev["incident"] == incident]

    @cached_property
    def arms(self) -> list[str]:
        """The arms in drill.json's order, else as the log lists them."""
        arms = [a["label"] for a in self.meta.get("arms", [])]
        if arms:
            return arms
        return list(pd.unique(self.events["policy"])) if "policy" in self.events.columns else [""]

    @cached_property
    def trainee_arms(self) -> dict[str, str]:
        """Arm following the trainees -> the policy's own arm (same policy, no trainees), if run."""
        arms = list(self.meta.get("arms", []))
        plain = {a["policy"]: a["label"] for a in arms if not a.get("trainees")}
        return {a["label"]: plain.get(a["policy"], "") for a in arms if a.get("trainees")}

    @cached_property
    def ids(self) -> dict[str, int]:
        return incident_ids(self.incidents)

    @cached_property
    def labels(self) -> dict[int, str]:
        return {i: label for label, i in self.ids.items()}

    def label(self, incident: int) -> str:
        return self.labels.get(incident, f"#{incident}")

    @cached_property
    def injects(self) -> dict[int, Inject]:
        return {inj.seq: inj for inj in self.scenario.injects}

    @cached_property
    def start_s(self) -> float:
        if "start_s" in self.meta:
            return float(self.meta["start_s"])
        return seconds(self.scenario.start, "start", _fail)

    @cached_property
    def end_s(self) -> float:
        if "end_s" in self.meta:
            return float(self.meta["end_s"])
        return self.start_s + seconds(self.scenario.duration, "duration", _fail)

    def incident(self, incident: int) -> dict:
        rows = self.incidents[self.incidents["incident"] == incident]
        return rows.iloc[0].to_dict() if len(rows) else {}

    def place(self, incident: int) -> tuple[str, str, str]:
        """(enterprise, grid, station id) of an incident ('' where it has none)."""
        row = self.incident(incident)
        return tuple(str(row.get(k, "") or "") for k in ("enterprise", "grid", "station"))  # type: ignore[return-value]

    def station_name(self, label: str, incident: int) -> str:
        """The station whose command room took the first alarm (its name, as the log says it)."""
        rep = self.of(label, incident)
        rep = rep[(rep["kind"] == K.REPORTED) & (rep["unit_kind"] == "command_room")]
        return str(rep["unit"].iloc[0]) if len(rep) else self.place(incident)[2]

    def unit_kind(self, unit: str) -> str:
        rows = self.units[self.units["unit"] == unit] if len(self.units) else self.units
        return str(rows["unit_kind"].iloc[0]) if len(rows) else ""

    def unit_row(self, unit: str) -> dict:
        rows = self.units[self.units["unit"] == unit] if len(self.units) else self.units
        return rows.iloc[0].to_dict() if len(rows) else {}

    def injects_in_log(self, label: str, kinds: tuple[str, ...], before_s: float = math.inf) -> pd.DataFrame:
        """This arm's inject events of the given types before ``before_s``."""
        ev = self.arm(label)
        return ev[(ev["kind"] == K.INJECT) & ev["detail"].isin(kinds) & (ev["t_s"] <= before_s)]


def _fail(key: str, why: str) -> ScenarioError:
    return ScenarioError(f"{key}: {why}")


def seq_of(row: pd.Series) -> int:
    return 0 if math.isnan(row["value"]) else int(row["value"])
