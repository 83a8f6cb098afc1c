"""Why an objective fell short, read from the log: the step that took longest, and what the log shows
happened on the way (a 110 call for a terminal offline, a queue, a re-route, a unit out of service, the
trainees' choice...), each with a proposed corrective action, owner and due date.

Why from the log only: the trainer must be able to point at the lines that show it. Each step of a
response (alarm -> decision -> dispatch -> mobilise -> drive) is compared with its usual value, the median
of the same step over every response of that kind in this drill's log (all arms), when there are at least
``MIN_USUAL`` of them; fewer, and no usual value is claimed.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import pandas as pd

from sim.drill.catalogue import duration, msg, term, unit_name
from sim.drill.narrative import clock_of
from sim.drill.objectives import Measure, Result
from sim.drill.record import BAD_OUTCOMES, Record, seq_of
from sim.drill.scenario import Objective, text
from sim.model.events import EventKind as K

MIN_USUAL = 3  # responses of a kind needed before a step's median counts as "usual"
DUE_DAYS = {  # plan key -> days to do it in (0: at the hot wash)
    "terminal_offline": 7,
    "call_110": 90,
    "late_alarm": 30,
    "decide": 30,
    "queue": 30,
    "queue_other": 30,
    "unserved": 90,
    "mobilise": 30,
    "drive": 90,
    "handoff": 30,
    "rerouted": 90,
    "unit_unavailable": 30,
    "trainee_choice": 0,
    "drones_grounded": 30,
    "liaison": 7,
    "too_late": 30,
    "share": 30,
    "review": 30,
}
OWNERS = {  # plan key -> who acts (owner.* keys)
    "terminal_offline": ("command_room", "security_chief"),
    "call_110": ("command_room",),
    "late_alarm": ("security_chief",),
    "decide": ("command_room",),
    "queue": ("command_room", "echelon_leader"),
    "queue_other": ("command_room",),
    "unserved": ("station",),
    "handoff": ("county",),
    "rerouted": ("command_room",),
    "unit_unavailable": ("station",),
    "trainee_choice": ("command_room",),
    "drones_grounded": ("station",),
    "liaison": ("command_room", "county"),
    "too_late": ("command_room",),
    "share": ("command_room",),
    "review": ("planners",),
}
UNIT_OWNER = {"echelon": "echelon_leader", "police": "command_room", "own_security": "security_chief"}


@dataclass(frozen=True)
class Cause:
    """A cause in words, and the proposed action for it (empty when it needs none of its own)."""

    text: str
    action: str = ""
    owner: str = ""
    due: str = ""


class _Say:
    """Words about one incident under one arm: owners named after its station, grid and enterprise."""

    def __init__(self, rec: Record, arm: str, incident: int, lang: str) -> None:
        self.rec, self.arm, self.i, self.lang = rec, arm, incident, lang
        self.ev = rec.of(arm, incident) if incident >= 0 else rec.arm(arm).iloc[0:0]
        self.enterprise, self.grid, self.station_id = rec.place(incident)
        self.station = rec.station_name(arm, incident) if incident >= 0 else ""
        self.stations, self.grids = [self.station], [self.grid]  # owners: one per station (grid) concerned

    def owner(self, keys: tuple[str, ...]) -> str:
        """The owners named: a command room per station, an echelon leader per grid concerned."""
        names = []
        for k in keys:
            if k in ("command_room", "station"):
                names += [msg(f"owner.{k}", self.lang, station=s or "?") for s in self.stations]
            elif k == "echelon_leader":
                names += [msg("owner.echelon_leader", self.lang, grid=g or "?") for g in self.grids]
            else:
                names.append(msg(f"owner.{k}", self.lang, enterprise=self.enterprise or "?"))
        return msg("list.sep", self.lang).join(dict.fromkeys(names))

    def due(self, plan: str) -> str:
        days = DUE_DAYS.get(plan.split(".")[0], 30)
        return msg("due.hot_wash", self.lang) if days == 0 else msg("due.days", self.lang, n=days)

    def cause(self, code: str, plan: str = "", owners: tuple[str, ...] = (), **fields: object) -> Cause:
        text = msg(f"cause.{code}", self.lang, **fields)
        if not plan:
            return Cause(text)
        action = msg(f"plan.{plan}", self.lang, **fields)
        owners = owners or OWNERS.get(plan.split(".")[0], ("planners",))  # plan.one: the same owners
        return Cause(text, action, self.owner(owners), self.due(plan))

    def d(self, seconds: float) -> str:
        return duration(seconds, self.lang)

    def first(self, kind: K, **where: object) -> pd.Series | None:
        rows = self.ev[self.ev["kind"] == kind]
        for col, value in where.items():
            rows = rows[rows[col] == value]
        return rows.iloc[0] if len(rows) else None

    def t(self, kind: K, **where: object) -> float:
        row = self.first(kind, **where)
        return math.nan if row is None else float(row["t_s"])


# ------------------------------------------------------------------------------------------------ steps


def response_steps(ev: pd.DataFrame, unit: str, from_incident: bool = False) -> dict[str, float]:
    """One unit's response at one incident (``ev``: that incident's events), step by step, in seconds:
    detect and report (only ``from_incident``), decide, wait (for a free unit), handoff, mobilise, drive."""

    def t(kind: K, **where: object) -> float:
        rows = ev[ev["kind"] == kind]
        for col, value in where.items():
            rows = rows[rows[col] == value]
        return float(rows["t_s"].iloc[0]) if len(rows) else math.nan

    began, alarm, decided = t(K.OCCURRED), t(K.REPORTED), t(K.DECIDED)
    sent = ev[(ev["kind"] == K.DISPATCHED) & (ev["unit"] == unit)]
    if not len(sent):
        return {}
    t_sent, tier = float(sent["t_s"].iloc[0]), int(sent["tier"].iloc[0])
    steps: dict[str, float] = {}
    if from_incident:
        detected = t(K.DETECTED)
        steps["detect"], steps["report"] = detected - began, alarm - detected
    ready = decided if not math.isnan(decided) and t_sent >= decided else alarm
    if ready > alarm:
        steps["decide"] = decided - alarm
    if t_sent - ready > 0.5:
        steps["wait"] = t_sent - ready
    hand = ev[(ev["kind"] == K.HANDOFF) & (ev["tier"] == tier) & (ev["t_s"] >= t_sent)]
    handoff = float(hand["value"].iloc[0]) if len(hand) and tier > 0 else 0.0
    if handoff > 0:
        steps["handoff"] = handoff
    after = ev[ev["t_s"] >= t_sent]
    mob = after[(after["kind"] == K.MOBILISED) & (after["unit"] == unit)]
    arr = after[(after["kind"] == K.ARRIVED) & (after["unit"] == unit)]
    if len(mob):
        t_mob = float(mob["t_s"].iloc[0])
        if t_mob - t_sent - handoff > 0.5:
            steps["mobilise"] = t_mob - t_sent - handoff
        if len(arr):
            steps["drive"] = float(arr["t_s"].iloc[0]) - t_mob
    return {k: v for k, v in steps.items() if not math.isnan(v)}


def usual_steps(rec: Record, unit_kind: str) -> dict[str, list[float]]:
    """Every response of ``unit_kind`` in the whole log (all arms), its steps gathered by step name."""
    out: dict[str, list[float]] = {}
    ev = rec.events
    sent = ev[(ev["kind"] == K.DISPATCHED) & (ev["unit_kind"] == unit_kind)]
    groups = {key: g for key, g in ev.groupby(["policy", "incident"] if "policy" in ev else ["incident"])}
    for row in sent.itertuples():
        key = (row.policy, row.incident) if "policy" in ev else row.incident
        for step, value in response_steps(groups[key], row.unit).items():
            out.setdefault(step, []).append(value)
    return out


def _steps_cause(say: _Say, unit: str, kind: str, from_incident: bool, propose: bool = True) -> list[Cause]:
    """The response step by step against the usual; ``propose``: an action for the longest step (not when
    the trainees' own pick explains it)."""
    steps = response_steps(say.ev, unit, from_incident)
    if not steps:
        return []
    usual = usual_steps(say.rec, kind)
    parts = []
    for step, value in steps.items():
        known = usual.get(step, [])
        name = msg(f"step.{step}", say.lang)
        if len(known) >= MIN_USUAL:
            parts.append(
                msg(
                    "cause.step_usual",
                    say.lang,
                    step=name,
                    d=say.d(value),
                    usual=say.d(statistics.median(known)),
                    n=len(known),
                )
            )
        else:
            parts.append(msg("cause.step", say.lang, step=name, d=say.d(value)))
    longest = max(steps, key=lambda s: steps[s])
    who = unit_name(unit, kind, say.lang)
    plan = (
        {
            "drive": "drive",
            "mobilise": "mobilise",
            "decide": "decide",
            "handoff": "handoff",
            "detect": "late_alarm",
            "report": "late_alarm",
        }.get(longest, "")
        if propose
        else ""
    )
    owners = (UNIT_OWNER.get(kind, "planners"),) if plan in ("drive", "mobilise") else ()
    return [
        say.cause(
            "steps",
            plan,
            owners,
            steps=msg("list.sep", say.lang).join(parts),
            longest=msg(f"step.{longest}", say.lang),
            who=who,
            d=say.d(steps[longest]),
        )
    ]


# ------------------------------------------------------------------------------------------ what happened


def _alarm_channel(say: _Say) -> list[Cause]:
    rep = say.first(K.REPORTED)
    if rep is None or rep["detail"] != "call_110" or not say.enterprise:
        return []
    off = say.rec.injects_in_log(say.arm, ("terminal_offline", "terminal_online"), float(rep["t_s"]))
    off = off[off["unit"] == say.enterprise]
    if len(off) and off["detail"].iloc[-1] == "terminal_offline":
        return [
            say.cause(
                "terminal_offline", "terminal_offline", enterprise=say.enterprise, seq=seq_of(off.iloc[-1])
            )
        ]
    return [say.cause("call_110", "call_110", enterprise=say.enterprise)]


BRIGADE = ("fire_engine", "hazmat_unit")  # the 119 centre's units serve every station's area


def _queue(say: _Say, kinds: set[str], until_s: float | None = None) -> list[Cause]:
    """Requests for these unit kinds that waited (until a unit of the kind was sent, ``until_s``, or the end
    of the log), or that no unit could ever answer."""
    ev, out = say.ev, []
    names = set(kinds) | {n for k in kinds for n in _tier_names(say, k)}
    for name, g in ev[(ev["kind"] == K.QUEUED) & ev["detail"].isin(names)].groupby("detail", sort=False):
        kind = _kind_of(say, str(name), kinds)
        t0 = float(g["t_s"].iloc[0])
        later = ev[(ev["kind"] == K.DISPATCHED) & (ev["unit_kind"] == kind) & (ev["t_s"] >= t0)]
        end = (
            until_s if until_s is not None else float(later["t_s"].iloc[0]) if len(later) else ev["t_s"].max()
        )
        plan = "queue" if kind == "echelon" else "queue_other"
        what = term("unit_kind", kind, say.lang)
        owners = ("fire_control",) if kind in BRIGADE else ()
        out.append(
            say.cause("queue", plan, owners, kind=what, d=say.d(float(end) - t0), grid=say.grid or "?")
        )
    for name in pd.unique(ev.loc[(ev["kind"] == K.UNSERVED) & ev["detail"].isin(names), "detail"]):
        kind = term("unit_kind", _kind_of(say, str(name), kinds), say.lang)
        tier = term("tier", str(name), say.lang)
        out.append(say.cause("unserved", "unserved", kind=kind, tier=tier, grid=say.grid or "?"))
    return out


def _tier_names(say: _Say, kind: str) -> set[str]:
    """The policy's tiers answered by units of ``kind`` in this arm's log."""
    ev = say.rec.arm(say.arm)
    targets = ev[ev["kind"] == K.TARGET][["incident", "tier", "detail"]]
    sent = ev[(ev["kind"] == K.DISPATCHED) & (ev["unit_kind"] == kind) & (ev["tier"] > 0)]
    both = targets.merge(sent[["incident", "tier"]], on=["incident", "tier"])
    return set(both["detail"])


def _kind_of(say: _Say, name: str, kinds: set[str]) -> str:
    """The unit kind a queued tier (or brigade role) name stands for, among ``kinds``."""
    if name in kinds:
        return name
    return next((k for k in sorted(kinds) if name in _tier_names(say, k)), name)


def _on_the_way(say: _Say, units: set[str], kinds: set[str], until_s: float) -> list[Cause]:
    """Re-routes and turn-backs of these units, a redirected dispatch, and units of these kinds out of
    service before ``until_s`` near the incident (any brigade unit: the 119 centre serves everywhere)."""
    out: list[Cause] = []
    ev = say.ev
    for row in ev[(ev["kind"] == K.DISPATCHED) & ev["unit"].isin(units)].itertuples():
        if row.detail == "redirected":
            out.append(say.cause("redirected", who=unit_name(row.unit, row.unit_kind, say.lang)))
    for row in ev[(ev["kind"] == K.REROUTED) & ev["unit"].isin(units)].itertuples():
        roads = say.rec.injects_in_log(say.arm, ("road_closed", "road_reopened"), float(row.t_s))
        road, seq = (roads["unit"].iloc[-1], seq_of(roads.iloc[-1])) if len(roads) else ("?", 0)
        code = str(row.detail).split(":", 1)[0].replace("via", "rerouted")  # rerouted|turned_back|stranded
        who = unit_name(row.unit, row.unit_kind, say.lang)
        owners = ("command_room", "fire_control") if row.unit_kind in BRIGADE else ()
        out.append(say.cause(code, "rerouted", owners, who=who, road=road, seq=seq))
    toggles = say.rec.injects_in_log(say.arm, ("unit_unavailable", "unit_back"), until_s)
    for target, g in toggles.groupby("unit", sort=False):
        last, row = g.iloc[-1], say.rec.unit_row(str(target))
        kind = str(row.get("unit_kind", ""))
        near = kind in BRIGADE or row.get("station") == say.station_id or row.get("grid") == say.grid
        if last["detail"] == "unit_unavailable" and kind in kinds and near:
            name = unit_name(str(target), kind, say.lang)
            owners = ("fire_control",) if kind in BRIGADE else ()
            out.append(say.cause("unit_unavailable", "unit_unavailable", owners, unit=name, seq=seq_of(last)))
    return out


def _trainees(say: _Say, unit: str, kind: str) -> list[Cause]:
    out = []
    for row in say.ev[say.ev["kind"] == K.DECISION].itertuples():
        parts = str(row.detail).split(";")
        head, _, choice = parts[0].partition("=")
        policy = next((p.split("=", 1)[1] for p in parts if p.startswith("policy=")), "")
        if not head.startswith("dispatch:") or say.rec.unit_kind(choice) not in ("", kind):
            continue
        if "unavailable" in parts:
            out.append(say.cause("trainee_unavailable", choice=choice))
        elif choice != policy and (not unit or choice == unit):
            out.append(say.cause("trainee_choice", "trainee_choice", choice=choice, policy=policy))
    return out


def _point_decisions(say: _Say, point: str) -> bool:
    """Did the trainees say no at this yes/no point (ask_county, launch_drone) of this incident?"""
    rows = say.ev[(say.ev["kind"] == K.DECISION) & say.ev["detail"].str.startswith(f"{point}=no")]
    return bool(len(rows))


def _outcome_causes(say: _Say, m: Measure) -> list[Cause]:
    out: list[Cause] = []
    began, alarm = say.t(K.OCCURRED), say.t(K.REPORTED)
    if not m.outcome:
        return [say.cause("unknown")]
    if m.outcome in BAD_OUTCOMES:
        arrived = say.ev[(say.ev["kind"] == K.ARRIVED) & (say.ev["unit_kind"] != "drone")]
        before = arrived[arrived["t_s"] <= m.end_s]
        after = arrived[arrived["t_s"] > m.end_s]
        if len(before):
            r = before.iloc[0]
            first = msg(
                "cause.first_before",
                say.lang,
                who=unit_name(r["unit"], r["unit_kind"], say.lang),
                at=clock_of(float(r["t_s"])),
            )
        elif len(after):
            r = after.iloc[0]
            first = msg(
                "cause.first_after",
                say.lang,
                who=unit_name(r["unit"], r["unit_kind"], say.lang),
                d=say.d(float(r["t_s"]) - m.end_s),
            )
        else:
            first = msg("cause.nobody", say.lang)
        early = math.isnan(alarm) or m.end_s < alarm  # over before anyone was told
        since = (alarm if not math.isnan(alarm) else m.end_s) - m.end_s if early else m.end_s - alarm
        outcome = term("outcome", m.outcome, say.lang)
        plan = "" if len(before) or early else "too_late"  # someone was there, or nobody was told: see below
        out.append(
            say.cause(
                "too_early" if early else "too_late",
                plan,
                outcome=outcome,
                at=clock_of(m.end_s),
                d=say.d(since),
                first=first,
                label=say.rec.label(say.i),
            )
        )
        if (
            not math.isnan(alarm) and alarm - began > m.end_s - alarm
        ):  # most of the time went before the alarm
            plan = "late_alarm" if say.enterprise else ""  # the enterprise's staff should have told sooner
            out.append(say.cause("late_alarm", plan, d=say.d(alarm - began), enterprise=say.enterprise))
        out += _alarm_channel(say)
        out += _coordination(say, m.end_s, late=True)
        asked = say.ev[say.ev["kind"].isin([K.DISPATCHED, K.QUEUED, K.UNSERVED])]
        kinds = {k for k in asked["unit_kind"] if k and k != "drone"} | set(
            asked.loc[asked["tier"] == 0, "detail"]
        )
        kinds = {k for k in kinds if k and k != "redirected"}
        units = set(asked.loc[asked["kind"] == K.DISPATCHED, "unit"])
        out += _queue(say, kinds, None) + _on_the_way(say, units, kinds, m.end_s)
    return out


def _coordination(say: _Say, by_s: float, late: bool = False) -> list[Cause]:
    """A cross-district incident: coordinated by phone; with ``late``, also when after ``by_s``."""
    co = say.first(K.COORDINATED)
    if not say.rec.incident(say.i).get("cross_district", False):
        return []
    if co is None:
        return [say.cause("coordinated_late", at="-")]
    out = []
    if str(co["detail"]).startswith("liaison"):
        out.append(say.cause("liaison", "liaison", d=say.d(float(co["value"]))))
    if late and float(co["t_s"]) > by_s:
        out.append(say.cause("coordinated_late", at=clock_of(float(co["t_s"]))))
    if _point_decisions(say, "ask_county"):
        out.append(say.cause("trainee_no_county", "liaison", d=say.d(float(co["value"]))))
    return out


# ---------------------------------------------------------------------------------------------- entry


def causes(rec: Record, result: Result, lang: str) -> list[Cause]:
    """What the log shows about why ``result`` (rated S, M or U) fell short."""
    o = result.objective
    if result.every:
        return _share_causes(rec, result, lang)
    if not result.measures:
        return [_Say(rec, result.arm, -1, lang).cause("unknown", "review", id=o.id, text=_text(o, lang))]
    m = result.measures[0]
    say = _Say(rec, result.arm, m.incident, lang)
    out: list[Cause] = []
    if o.measure == "arrival":
        unit = m.who or _first_sent(say, o.unit_kind)
        sent = say.first(K.DISPATCHED, unit=unit) if unit else None
        out += _queue(say, {o.unit_kind}, float(sent["t_s"]) if sent is not None else None)
        if not unit and not out:  # never sent, never asked for: the arm does not send this kind here
            return [say.cause("not_sent", kind=term("unit_kind", o.unit_kind, lang))]
        chosen = _trainees(say, unit, o.unit_kind)
        out += _alarm_channel(say)
        propose = not any(c.action for c in chosen)  # the trainees' pick, not the unit's post, made it late
        out += _steps_cause(say, unit, o.unit_kind, o.count_from == "incident", propose) if unit else []
        until = float(sent["t_s"]) if sent is not None else m.end_s if not math.isnan(m.end_s) else math.inf
        out += _on_the_way(say, {unit} if unit else set(), {o.unit_kind}, until) + chosen
    elif o.measure == "outcome":
        out += _outcome_causes(say, m)
    elif o.measure == "coordinated":
        out += _coordination(say, m.start_s + float(o.target_s or 0.0))
    else:  # detected
        grounded = rec.injects_in_log(
            result.arm, ("drones_grounded", "drones_flying"), m.start_s + (o.target_s or 0)
        )
        if len(grounded) and grounded["detail"].iloc[-1] == "drones_grounded":
            out.append(say.cause("drones_grounded", "drones_grounded", seq=seq_of(grounded.iloc[-1])))
        if m.first_by:
            out.append(say.cause("detected_other", by=term("detected_by", m.first_by, lang)))
        if o.by == "drone" and not (rec.arm(result.arm)["unit_kind"] == "drone").any():
            out.append(say.cause("no_drones"))
    return out or [say.cause("unknown", "review", id=o.id, text=_text(o, lang))]


def _share_causes(rec: Record, result: Result, lang: str) -> list[Cause]:
    """An '*' objective: how many missed, the step that took longest at each (arrivals), how many queued;
    the actions fall to the command rooms of the stations where it missed."""
    o = result.objective
    missed = [m for m in result.measures if not m.met]
    say = _Say(rec, result.arm, missed[0].incident if missed else -1, lang)
    if not missed:
        return [say.cause("unknown", "review", id=o.id, text=_text(o, lang))]
    say.stations = list(dict.fromkeys(rec.station_name(result.arm, m.incident) for m in missed))
    one = ".one" if len(missed) == 1 else ""  # '1 incident', not '1 incidents'
    found = [say.cause(f"share_misses{one}", "share", n=len(missed), id=o.id)]
    if o.measure == "arrival":
        longest: dict[str, int] = {}
        for m in missed:
            ev = rec.of(result.arm, m.incident)
            steps = response_steps(
                ev, m.who or _first_sent(_Say(rec, result.arm, m.incident, lang), o.unit_kind)
            )
            if steps:
                step = max(steps, key=lambda s: steps[s])
                longest[step] = longest.get(step, 0) + 1
        if longest:
            counts = [
                msg("cause.share_count", lang, step=msg(f"step.{k}", lang), n=n)
                for k, n in sorted(longest.items(), key=lambda kv: -kv[1])
            ]
            found.append(say.cause("share_longest", counts=msg("list.sep", lang).join(counts)))
    names = {o.unit_kind} | _tier_names(say, o.unit_kind)  # only this kind's requests: not another tier's

    def queued(m) -> bool:
        ev = rec.of(result.arm, m.incident)
        return bool(((ev["kind"] == K.QUEUED) & ev["detail"].isin(names)).any())

    waited = [m for m in missed if queued(m)]
    if waited:
        say.grids = [g for g in dict.fromkeys(rec.place(m.incident)[1] for m in waited) if g]
        plan = "queue" if o.unit_kind == "echelon" else "queue_other"
        found.append(
            say.cause(
                "share_queued",
                plan,
                n=len(waited),
                kind=term("unit_kind", o.unit_kind, lang),
                grid=msg("list.sep", lang).join(say.grids) or "?",
            )
        )
    return found


def _first_sent(say: _Say, kind: str) -> str:
    row = say.first(K.DISPATCHED, unit_kind=kind)
    return "" if row is None else str(row["unit"])


def _text(o: Objective, lang: str) -> str:
    return text(o.text, lang)
