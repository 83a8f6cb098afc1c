"""Hand-made event logs and incident tables for metric tests: small enough to compute every answer by hand.

A ``Story`` is one incident's life; ``build_log`` turns stories into an ``EventLog`` in time order (as the
model would write it) and ``incidents_frame`` into the run's incident table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from sim.model.events import EventKind, EventLog
from sim.model.incidents import INCIDENT_COLUMNS

ACTOR_TARGETS: dict[int, tuple[str, float]] = {
    1: ("own_security", 60.0),
    2: ("echelon", 180.0),
    3: ("police", 300.0),
}


@dataclass(frozen=True)
class Response:
    """One unit sent to an incident. ``arrived_s`` / ``returned_s`` None = it never got there / back."""

    unit: str
    unit_kind: str
    tier: int
    dispatched_s: float
    arrived_s: float | None
    returned_s: float | None = None


@dataclass(frozen=True)
class Story:
    """One incident from occurrence to outcome; None for a moment that never happened."""

    incident: int
    kind: str
    occurred_s: float
    reported_s: float | None
    detected_s: float | None = None
    detect_mode: str = "staff"
    channel: str = "one_key"
    decided_s: float | None = None
    targets: dict[int, tuple[str, float]] = field(default_factory=dict)
    responses: tuple[Response, ...] = ()
    handoff_s: float | None = None
    outcome: str | None = None
    outcome_value: float = math.nan
    outcome_s: float | None = None
    x_m: float = 0.0
    y_m: float = 0.0
    grid: str = "G1"
    station: str = "S1"
    area_class: str = "other"
    cross_district: bool = False


def _story_events(s: Story) -> list[tuple[float, EventKind, dict]]:
    """The events of one story as (time, kind, fields), in the order the model would emit them."""
    out: list[tuple[float, EventKind, dict]] = [(s.occurred_s, EventKind.OCCURRED, {"detail": s.kind})]
    detected_s = s.detected_s if s.detected_s is not None else s.reported_s
    if detected_s is not None:
        out.append((detected_s, EventKind.DETECTED, {"detail": s.detect_mode}))
    if s.reported_s is not None:
        out.append((s.reported_s, EventKind.REPORTED, {"detail": s.channel}))
        decided_s = s.decided_s if s.decided_s is not None else s.reported_s
        out.append((decided_s, EventKind.DECIDED, {"unit": "CR1", "unit_kind": "command_room"}))
        for tier, (name, target_s) in sorted(s.targets.items()):
            out.append((decided_s, EventKind.TARGET, {"tier": tier, "detail": name, "value": target_s}))
        if s.handoff_s is not None:
            out.append(
                (
                    decided_s,
                    EventKind.HANDOFF,
                    {"unit": "CC", "unit_kind": "county_centre", "value": s.handoff_s},
                )
            )
    for r in s.responses:
        unit = {"unit": r.unit, "unit_kind": r.unit_kind, "tier": r.tier}
        out.append((r.dispatched_s, EventKind.DISPATCHED, unit))
        out.append((r.dispatched_s, EventKind.MOBILISED, unit))
        if r.arrived_s is not None:
            out.append((r.arrived_s, EventKind.ARRIVED, unit))
        if r.returned_s is not None:
            out.append((r.returned_s, EventKind.CLEARED, unit))
            out.append((r.returned_s, EventKind.RETURNED, unit))
    if s.outcome is not None:
        end_s = s.outcome_s if s.outcome_s is not None else max(t for t, _, _ in out)
        out.append((end_s, EventKind.OUTCOME, {"detail": s.outcome, "value": s.outcome_value}))
    return out


def build_log(*stories: Story) -> EventLog:
    """All stories' events in one log, ordered by time (ties keep each story's own order)."""
    events = [
        (t, i, j, kind, f) for i, s in enumerate(stories) for j, (t, kind, f) in enumerate(_story_events(s))
    ]
    log = EventLog()
    for t, i, _, kind, fields in sorted(events, key=lambda e: (e[0], e[1], e[2])):
        log.emit(t, kind, incident=stories[i].incident, **fields)
    return log


def incidents_frame(*stories: Story) -> pd.DataFrame:
    """The run's incident table for these stories (columns as the model writes them)."""
    return pd.DataFrame(
        [
            {
                "incident": s.incident,
                "kind": s.kind,
                "t_s": s.occurred_s,
                "node": 100 + s.incident,
                "x_m": s.x_m,
                "y_m": s.y_m,
                "enterprise": f"E{s.incident}",
                "grid": s.grid,
                "station": s.station,
                "area_class": s.area_class,
                "cross_district": s.cross_district,
                "partner_station": "",
            }
            for s in stories
        ],
        columns=INCIDENT_COLUMNS,
    )


def frames(*stories: Story) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events frame, incidents frame) for these stories: the two inputs every metric takes."""
    return build_log(*stories).to_frame(), incidents_frame(*stories)
