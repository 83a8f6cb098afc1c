"""Each objective of a drill measured from the event log alone, and rated P/S/M/U by one stated rule.

Why from the log: the rating must be something a trainer can check line by line in ``events.csv`` (the
alarm is the incident's first ``reported``, an arrival the first ``arrived`` of that unit kind...), never a
flag the model set. The rule is fixed and written into the report (``RULES``), so two drills are rated
alike. The words are the catalogue's (sim/drill/catalogue.py); this module returns numbers and codes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from sim.drill.scenario import Objective, Scenario
from sim.model.events import EventKind as K
from sim.model.outcomes import WORDS

RATINGS = ("P", "S", "M", "U")
S_FACTOR = 1.5  # a time within 1.5 x its target rates S
S_SHARE_POINTS = 0.10  # a share at most 10 points below the required share rates S
M_SHARE_POINTS = 0.25  # ... at most 25 points below, M
RULES = ("rule.time", "rule.outcome", "rule.share")  # catalogue keys of the rule, said in the report
ANYONE = ("", "anyone", "any")


@dataclass(frozen=True)
class Measure:
    """One incident's measurement: from ``start_s`` (log time of the moment counted from) to ``end_s``
    (when it was done); NaN when that moment never came. ``who``: the unit (or detector, or how the
    stations were coordinated); ``outcome``: the outcome logged, for outcome objectives."""

    incident: int
    start_s: float = math.nan
    end_s: float = math.nan
    who: str = ""
    who_kind: str = ""
    outcome: str = ""
    met: bool = False
    first_by: str = ""  # detected: who noticed first when it was not the one the objective names

    @property
    def measured_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Result:
    """An objective rated for one arm. ``measures``: one per incident counted (one for a labelled
    incident; every counted incident for ``*``). ``reason``: a catalogue key when nothing could be
    measured (``why.no_incident``, ``why.no_alarm``, ``why.none_counted``)."""

    objective: Objective
    arm: str
    rating: str
    measures: tuple[Measure, ...] = ()
    reason: str = ""

    @property
    def every(self) -> bool:
        return self.objective.incident == "*"

    @property
    def met(self) -> int:
        return sum(m.met for m in self.measures)

    @property
    def share_met(self) -> float:
        return self.met / len(self.measures) if self.measures else math.nan


def arm_events(events: pd.DataFrame, arm: str | None) -> pd.DataFrame:
    """One arm's log (every arm's: None), in log order, with empty strings (not NaN) in its text columns."""
    ev = events[events["policy"] == arm] if arm is not None and "policy" in events.columns else events
    ev = ev.copy()
    for col in ("unit", "unit_kind", "detail"):
        ev[col] = ev[col].fillna("").astype(str)
    return ev


def incident_ids(incidents: pd.DataFrame) -> dict[str, int]:
    """The scenario's labels (I1, D2...) -> incident ids; background incidents have no label."""
    if "label" not in incidents.columns:
        return {}
    labels = incidents["label"].fillna("").astype(str)
    return {lab: int(i) for lab, i in zip(labels, incidents["incident"], strict=True) if lab}


def first_t(ev: pd.DataFrame, kind: K, **where: str) -> float:
    """Time of the first event of ``kind`` (with the given column values) in ``ev``; NaN if none."""
    rows = ev[ev["kind"] == kind]
    for col, value in where.items():
        rows = rows[rows[col] == value]
    return float(rows["t_s"].iloc[0]) if len(rows) else math.nan


def _first(ev: pd.DataFrame, kind: K, **where: str) -> pd.Series | None:
    rows = ev[ev["kind"] == kind]
    for col, value in where.items():
        rows = rows[rows[col] == value]
    return rows.iloc[0] if len(rows) else None


def rate_time(measured_s: float, target_s: float) -> str:
    """P within the target, S within 1.5 x, M later, U never (NaN)."""
    if math.isnan(measured_s):
        return "U"
    if measured_s <= target_s:
        return "P"
    return "S" if measured_s <= S_FACTOR * target_s else "M"


def rate_share(share_met: float, share: float) -> str:
    """P at or above the required share, S up to 10 points below, M up to 25 points below, U lower."""
    if math.isnan(share_met):
        return "U"
    eps = 1e-9
    if share_met >= share - eps:
        return "P"
    if share_met >= share - S_SHARE_POINTS - eps:
        return "S"
    return "M" if share_met >= share - M_SHARE_POINTS - eps else "U"


def measure_one(o: Objective, ev: pd.DataFrame, incident: int) -> Measure:
    """Measure ``o`` on one incident's events ``ev`` (already that incident's and arm's)."""
    alarm = first_t(ev, K.REPORTED)
    began = first_t(ev, K.OCCURRED)
    if o.measure == "outcome":
        row = _first(ev, K.OUTCOME)
        if row is None:
            return Measure(incident, start_s=alarm)
        return Measure(
            incident,
            alarm,
            float(row["t_s"]),
            row["unit"],
            row["unit_kind"],
            row["detail"],
            met=row["detail"] == o.expect,
        )
    if o.measure == "arrival":
        start = alarm if o.count_from == "alarm" else began
        row = _first(ev, K.ARRIVED, unit_kind=o.unit_kind)
        end, who = (float(row["t_s"]), row["unit"]) if row is not None else (math.nan, "")
    elif o.measure == "coordinated":
        start, row = alarm, _first(ev, K.COORDINATED)
        end, who = (float(row["t_s"]), row["detail"]) if row is not None else (math.nan, "")
    else:  # detected
        start = began
        anyone = o.by in ANYONE
        row = _first(ev, K.DETECTED) if anyone else _first(ev, K.DETECTED, detail=o.by)
        end, who = (float(row["t_s"]), row["unit"]) if row is not None else (math.nan, "")
        first = _first(ev, K.DETECTED)
        by = "" if first is None or anyone or first["detail"] == o.by else first["detail"]
        kind = "" if row is None else row["detail"]
        m = Measure(incident, start, end, who, kind, first_by=by)
        return _met(m, o)
    return _met(Measure(incident, start, end, who, o.unit_kind), o)


def _met(m: Measure, o: Objective) -> Measure:
    ok = not math.isnan(m.measured_s) and o.target_s is not None and m.measured_s <= o.target_s
    return Measure(m.incident, m.start_s, m.end_s, m.who, m.who_kind, m.outcome, ok, m.first_by)


def rate_one(o: Objective, m: Measure) -> str:
    if o.measure == "outcome":
        return "P" if m.met else "U"
    return rate_time(m.measured_s, float(o.target_s or 0.0))


def counted(o: Objective, ev: pd.DataFrame, incidents: pd.DataFrame) -> list[int]:
    """The incidents an ``*`` objective counts: those that reached the alarm and that the objective
    applies to (a response with that unit kind; an outcome of the expected pair; a cross-district incident
    for coordination). Detection counts every incident that occurred, reported or not."""
    occurred = [int(i) for i in pd.unique(ev.loc[ev["kind"] == K.OCCURRED, "incident"])]
    if o.measure == "detected":
        return occurred
    alarmed = set(ev.loc[ev["kind"] == K.REPORTED, "incident"].astype(int))
    ids = [i for i in occurred if i in alarmed]
    if o.measure == "coordinated":
        cross = incidents.loc[incidents["cross_district"].astype(bool), "incident"].astype(int)
        return [i for i in ids if i in set(cross)]
    if o.measure == "outcome":
        pair = next((p for p in WORDS.values() if o.expect in p), (o.expect,))
        ended = ev[(ev["kind"] == K.OUTCOME) & ev["detail"].isin(pair)]
        return [i for i in ids if i in set(ended["incident"].astype(int))]
    tiers = _tiers_of_kind(ev, o.unit_kind)
    aimed = ev[(ev["kind"].isin([K.TARGET, K.QUEUED, K.UNSERVED])) & ev["detail"].isin(tiers)]
    sent = ev[(ev["kind"] == K.DISPATCHED) & (ev["unit_kind"] == o.unit_kind)]
    involved = set(aimed["incident"].astype(int)) | set(sent["incident"].astype(int))
    return [i for i in ids if i in involved]


def _tiers_of_kind(ev: pd.DataFrame, unit_kind: str) -> set[str]:
    """Tier names whose units are of ``unit_kind`` in this log (a tier is named by the policy; the log says
    which kind of unit answered it), and the tier named like the kind itself."""
    targets = ev[ev["kind"] == K.TARGET][["incident", "tier", "detail"]]
    sent = ev[(ev["kind"] == K.DISPATCHED) & (ev["tier"] > 0)][["incident", "tier", "unit_kind"]]
    both = targets.merge(sent, on=["incident", "tier"])
    return {unit_kind} | set(both.loc[both["unit_kind"] == unit_kind, "detail"])


def evaluate(scenario: Scenario, events: pd.DataFrame, incidents: pd.DataFrame, arm: str) -> list[Result]:
    """Every objective of ``scenario`` rated for ``arm`` (the log's policy column)."""
    ev = arm_events(events, arm)
    by_incident = {int(i): g for i, g in ev.groupby("incident", sort=False)}
    ids = incident_ids(incidents)
    empty = ev.iloc[0:0]
    out = []
    for o in scenario.objectives:
        if o.incident == "*":
            measures = tuple(measure_one(o, by_incident.get(i, empty), i) for i in counted(o, ev, incidents))
            if not measures:
                out.append(Result(o, arm, "U", (), "why.none_counted"))
                continue
            met = sum(m.met for m in measures) / len(measures)
            out.append(Result(o, arm, rate_share(met, o.share), measures))
            continue
        if o.incident not in ids:
            out.append(Result(o, arm, "U", (), "why.no_incident"))
            continue
        inc = ids[o.incident]
        m = measure_one(o, by_incident.get(inc, empty), inc)
        needs_alarm = o.measure == "coordinated" or (o.measure == "arrival" and o.count_from == "alarm")
        reason = "why.no_alarm" if needs_alarm and math.isnan(m.start_s) else ""
        out.append(Result(o, arm, rate_one(o, m), (m,), reason))
    return out
