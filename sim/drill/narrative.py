"""The drill told in plain sentences, one line per thing that happened, from the event log alone.

Why: a trainer debriefing a drill needs "who did what, when" in the words of the room, not a table of
events. Scripted incidents are told step by step (alarm, decision, dispatch, arrival against the tier's
target, outcome), injects quote their message, re-routes and the trainees' decisions are said where they
happened; background incidents get one line each, so a busy morning does not drown the script.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.drill.catalogue import duration, has, indefinite, msg, sentence, term, unit_name
from sim.drill.objectives import arm_events, incident_ids
from sim.drill.scenario import Inject, Scenario, clock, text
from sim.model.events import EventKind as K

DAY_S = 86_400.0
SKIPPED = {K.TARGET, K.CLEARED, K.RETURNED}  # said with the decision, or not worth a line


@dataclass(frozen=True)
class Line:
    """One sentence of the narrative: when (log seconds, clock of day, drill time) and what."""

    t_s: float
    clock: str
    drill: str
    text: str
    incident: int = -1
    inject: bool = False


def clock_of(t_s: float) -> str:
    """hh:mm:ss of the day of log time ``t_s`` (seconds since midnight of day 0)."""
    return clock(t_s % DAY_S)


def drill_time(t_s: float, start_s: float) -> str:
    """hh:mm:ss since the drill began; '-' before it."""
    d = t_s - start_s
    return ("-" if d < -0.5 else "") + clock(abs(d))


def _since(t_s: float, t0_s: float, lang: str, key: str = "nar.after_alarm") -> str:
    """', 1 min 36 s after the alarm' (nothing when the moment counted from never came)."""
    if math.isnan(t0_s) or math.isnan(t_s):
        return ""
    return msg(key, lang, d=duration(t_s - t0_s, lang))


@dataclass
class _Incident:
    """What the narrative needs of one incident while it reads its events."""

    id: int
    label: str
    kind: str
    enterprise: str
    cross: bool
    inject: Inject | None
    node: int = -1
    began_s: float = math.nan
    alarm_s: float = math.nan
    detector: str = ""
    targets: dict[int, tuple[str, float]] | None = None


def _place(inc: _Incident, lang: str) -> str:
    if inc.enterprise:
        ekind = inc.inject.enterprise_kind if inc.inject else ""
        if ekind:
            return msg(
                "nar.at_enterprise_kind",
                lang,
                ekind=term("enterprise_kind", ekind, lang),
                enterprise=inc.enterprise,
            )
        return msg("nar.at_enterprise", lang, enterprise=inc.enterprise)
    place = inc.inject.place if inc.inject and inc.inject.place else ""
    if place:
        return msg("nar.at_place", lang, place=place)
    return msg("nar.at_node", lang, node=inc.node) if inc.node >= 0 else msg("nar.at_somewhere", lang)


def _target_text(inc: _Incident, tier: int, lang: str) -> str:
    if not inc.targets or tier not in inc.targets:
        return ""
    return msg("nar.target", lang, target=duration(inc.targets[tier][1], lang))


def _inject_line(row: pd.Series, injects: Mapping[int, Inject], labels: Mapping[int, str], lang: str) -> str:
    seq = int(row["value"]) if not math.isnan(row["value"]) else 0
    inj = injects.get(seq)
    kind = term("inject", row["detail"], lang)
    route = ""
    if inj is not None and (inj.sender or inj.receiver):
        route += msg(
            "nar.inject_route",
            lang,
            sender=text(inj.sender, lang) or "?",
            receiver=text(inj.receiver, lang) or "?",
        )
    if inj is not None and inj.delivery:
        route += msg("nar.inject_by", lang, delivery=text(inj.delivery, lang))
    message = text(inj.message, lang) if inj is not None else ""
    label = labels.get(int(row["incident"]), "")
    target = label or row["unit"]
    head = msg("nar.inject", lang, seq=seq, kind=f"{kind} {label}" if label else kind, route=route)
    if message:
        return head + msg("nar.quote", lang, message=message)
    return head + (msg("nar.inject_target", lang, target=target) if target else "")


def _reported(row: pd.Series, inc: _Incident, lang: str) -> str:
    room = unit_name(row["unit"], row["unit_kind"], lang)
    channel = row["detail"]
    if not math.isnan(inc.alarm_s) and row["t_s"] > inc.alarm_s:  # a later alarm: merged with the first
        return msg("nar.second_alarm", lang, channel=term("channel", channel, lang), room=room)
    since = _since(row["t_s"], inc.began_s, lang, "nar.after_start")
    if channel == "one_key":
        return msg("nar.one_key", lang, enterprise=inc.enterprise or "?", room=room, since=since)
    if channel == "drone_centre":
        return msg("nar.drone_centre", lang, room=room, since=since)
    caller = (
        msg("nar.caller_passerby", lang)
        if inc.detector == "passerby" or not inc.enterprise
        else (msg("nar.caller_staff", lang, enterprise=inc.enterprise))
    )
    return msg("nar.call_110", lang, caller=caller, room=room, since=since)


def _detected(row: pd.Series, inc: _Incident, lang: str) -> str:
    since = _since(row["t_s"], inc.began_s, lang, "nar.after_start")
    by = row["detail"]
    if by == "drone":
        return msg("nar.detected_drone", lang, unit=row["unit"], since=since)
    if by == "staff":
        return msg("nar.detected_staff", lang, enterprise=row["unit"] or inc.enterprise, since=since)
    return msg("nar.detected_passerby", lang, since=since)


def _decided(row: pd.Series, inc: _Incident, lang: str) -> str:
    room = unit_name(row["unit"], row["unit_kind"], lang)
    said = msg("nar.decided", lang, room=room, since=_since(row["t_s"], inc.alarm_s, lang))
    if inc.targets:
        parts = [
            msg("nar.tier_target", lang, tier=term("tier", name, lang), target=duration(t, lang))
            for _, (name, t) in sorted(inc.targets.items())
        ]
        said += msg("nar.targets", lang, targets=msg("list.sep", lang).join(parts))
    return said


def _dispatched(rows: pd.DataFrame, inc: _Incident, lang: str) -> str:
    parts = []
    for _, r in rows.iterrows():
        who = unit_name(r["unit"], r["unit_kind"], lang)
        if r["unit_kind"] == "drone":
            part = msg("nar.sent_drone", lang, who=who)
        elif int(r["tier"]) > 0 and inc.targets and int(r["tier"]) in inc.targets:
            name = inc.targets[int(r["tier"])][0]
            part = msg("nar.sent_tier", lang, who=who, tier=term("tier", name, lang))
        elif int(r["tier"]) == 0:
            part = msg("nar.sent_brigade", lang, who=who)
        else:
            part = who
        if r["detail"] == "redirected":
            part += msg("nar.redirected", lang)
        parts.append(part)
    return msg("nar.dispatched", lang, units=msg("list.sep", lang).join(parts))


def _outcome(row: pd.Series, inc: _Incident, lang: str) -> str:
    word = row["detail"]
    who = unit_name(row["unit"], row["unit_kind"], lang) if row["unit"] else msg("nar.someone", lang)
    since = _since(row["t_s"], inc.alarm_s, lang) or _since(row["t_s"], inc.began_s, lang, "nar.after_start")
    key = f"nar.outcome.{word}"
    if has(key):
        said = msg(key, lang, who=who, since=since)
    else:
        said = msg("nar.outcome.other", lang, outcome=term("outcome", word, lang), since=since)
    if not math.isnan(row["value"]) and word in ("contained", "uncontained"):
        said += msg("nar.area", lang, area=f"{row['value']:,.0f}")
    return said


def decision_sentence(row: pd.Series, label: str, scenario: Scenario, lang: str) -> str:
    """A ``decision`` event in words: the trainees' choice, the policy's, and the scenario's note."""
    fields = dict(part.split("=", 1) for part in row["detail"].split(";") if "=" in part)
    unavailable = "unavailable" in row["detail"].split(";")
    head = row["detail"].split("=", 1)[0]
    point, _, tier = head.partition(":")
    mine = fields.get(head, "")
    policy = fields.get("policy", "")
    if point == "dispatch":
        said = msg("nar.decision_dispatch", lang, tier=term("tier", tier, lang), choice=mine, policy=policy)
        if unavailable:
            said += msg("nar.decision_unavailable", lang, choice=mine, policy=policy)
    else:
        said = msg(
            f"nar.decision_{point}_{'yes' if mine == 'yes' else 'no'}",
            lang,
            policy=term("yesno", policy, lang),
        )
    note = next(
        (
            d.note
            for d in scenario.decisions
            if d.incident == label and d.point == point and (d.tier or "") == tier
        ),
        "",
    )
    if note and text(note, lang):
        said += msg("nar.note", lang, note=text(note, lang))
    return sentence(said, lang)


def _event_line(row: pd.Series, inc: _Incident, scenario: Scenario, lang: str) -> str:
    kind = row["kind"]
    who = unit_name(row["unit"], row["unit_kind"], lang) if row["unit"] else ""
    if kind == K.OCCURRED:
        label = inc.label or f"#{inc.id}"
        cross = msg("nar.cross_district", lang) if inc.cross else ""
        return msg(
            "nar.occurred",
            lang,
            label=label,
            kind=indefinite(term("incident_kind", inc.kind, lang), lang),
            place=_place(inc, lang),
            cross=cross,
        )
    if kind == K.DETECTED:
        return _detected(row, inc, lang)
    if kind == K.REPORTED:
        return _reported(row, inc, lang)
    if kind == K.DECIDED:
        return _decided(row, inc, lang)
    if kind == K.MOBILISED:
        return msg("nar.mobilised", lang, who=who)
    if kind == K.ARRIVED:
        since = _since(row["t_s"], inc.alarm_s, lang)
        if row["unit_kind"] == "drone":
            return msg("nar.arrived_drone", lang, who=who, since=since)
        return msg(
            "nar.arrived", lang, who=who, since=since, target=_target_text(inc, int(row["tier"]), lang)
        )
    tier = term("tier", row["detail"], lang)
    simple = {
        K.QUEUED: ("nar.queued", {"tier": tier}),
        K.UNSERVED: ("nar.unserved", {"tier": tier}),
        K.CANCELLED: ("nar.cancelled", {"tier": tier}),
        K.HANDOFF: ("nar.handoff", {"d": duration(row["value"], lang)}),
        K.CONTAINED: ("nar.contained", {"who": who, "since": _since(row["t_s"], inc.alarm_s, lang)}),
    }
    if kind in simple:
        key, fields = simple[kind]
        return msg(key, lang, **fields)
    if kind == K.COORDINATED:
        how, _, pair = row["detail"].partition(":")
        a, _, b = pair.partition("+")
        key = "nar.coordinated_county" if how == "county" else "nar.coordinated_phone"
        return msg(key, lang, a=a, b=b, since=_since(row["t_s"], inc.alarm_s, lang))
    if kind == K.OUTCOME:
        return _outcome(row, inc, lang)
    if kind == K.DECISION:
        return decision_sentence(row, inc.label, scenario, lang)
    if kind == K.REROUTED:
        return _rerouted(row, lang)
    return msg("nar.other", lang, kind=term("event", str(kind), lang), who=who)


def _rerouted(row: pd.Series, lang: str) -> str:
    who = unit_name(row["unit"], row["unit_kind"], lang)
    if row["detail"].startswith("via:"):
        left = duration(row["value"], lang) if not math.isnan(row["value"]) else "?"
        return msg("nar.rerouted", lang, who=who, node=row["detail"][4:], left=left)
    return msg("nar.stranded" if row["detail"] == "stranded" else "nar.turned_back", lang, who=who)


def _background_line(g: pd.DataFrame, inc: _Incident, lang: str) -> str:
    """A background incident in one line: what, where, alarm, first unit on scene, outcome."""
    parts = [
        msg("nar.bg", lang, id=inc.id, kind=term("incident_kind", inc.kind, lang), place=_place(inc, lang))
    ]
    rep = g[g["kind"] == K.REPORTED]
    if len(rep):
        t = float(rep["t_s"].iloc[0])
        parts.append(
            msg("nar.bg_alarm", lang, clock=clock_of(t), channel=term("channel", rep["detail"].iloc[0], lang))
        )
        arr = g[(g["kind"] == K.ARRIVED) & (g["unit_kind"] != "drone")]
        if len(arr):
            first = arr.iloc[0]
            parts.append(
                msg(
                    "nar.bg_first",
                    lang,
                    who=unit_name(first["unit"], first["unit_kind"], lang),
                    d=duration(float(first["t_s"]) - t, lang),
                )
            )
        else:
            parts.append(msg("nar.bg_nobody", lang))
    else:
        parts.append(msg("nar.bg_no_alarm", lang))
    if (g["kind"] == K.QUEUED).any():
        parts.append(msg("nar.bg_queued", lang))
    out = g[g["kind"] == K.OUTCOME]
    if len(out):
        parts.append(term("outcome", out["detail"].iloc[0], lang))
    return msg("list.semi", lang).join(parts)


def _incidents(incidents: pd.DataFrame, scenario: Scenario) -> dict[int, _Incident]:
    by_label = {inj.incident: inj for inj in scenario.injects if inj.type == "incident"}
    labels = {i: lab for lab, i in incident_ids(incidents).items()}
    out = {}
    for r in incidents.to_dict("records"):
        i = int(r["incident"])
        label = labels.get(i, "")
        out[i] = _Incident(
            i,
            label,
            str(r["kind"]),
            str(r.get("enterprise", "") or ""),
            bool(r.get("cross_district", False)),
            by_label.get(label),
            int(r.get("node", -1)),
        )
    return out


def narrative(
    events: pd.DataFrame,
    incidents: pd.DataFrame,
    units: pd.DataFrame,
    scenario: Scenario,
    drill_meta: Mapping,
    arm: str,
    lang: str,
) -> list[Line]:
    """The drill under ``arm`` as lines in log order. ``units`` is the record's unit table (kept for the
    signature every drill output shares; the log names units fully)."""
    del units
    ev = arm_events(events, arm)
    start_s = float(drill_meta.get("start_s", ev["t_s"].min() if len(ev) else 0.0))
    injects = {inj.seq: inj for inj in scenario.injects}
    incs = _incidents(incidents, scenario)
    labels = {i: inc.label for i, inc in incs.items() if inc.label}
    lines: list[Line] = []

    def add(t_s: float, said: str, incident: int = -1, inject: bool = False) -> None:
        lines.append(
            Line(t_s, clock_of(t_s), drill_time(t_s, start_s), sentence(said, lang), incident, inject)
        )

    add(start_s, msg("nar.start", lang, arm=arm, clock=clock_of(start_s)))

    for inc in incs.values():
        _read(inc, ev[ev["incident"] == inc.id])
    for i, g in ev[ev["incident"] >= 0].groupby("incident", sort=False):
        if int(i) not in labels:  # background: one line at its start
            inc = incs.get(int(i)) or _Incident(int(i), "", "", "", False, None)
            add(float(g["t_s"].iloc[0]), _background_line(g, inc, lang), int(i))
    told = ev["incident"].isin(list(labels)) | (ev["incident"] < 0) | (ev["kind"] == K.INJECT)
    rows = ev[told & ~ev["kind"].isin([str(k) for k in SKIPPED])]
    done: set[int] = set()
    for idx, row in rows.iterrows():
        if idx in done:
            continue
        i = int(row["incident"])
        inc = incs.get(i) or _Incident(i, "", "", "", False, None)
        if row["kind"] == K.INJECT:
            said = _inject_line(row, injects, labels, lang)
        elif row["kind"] == K.DISPATCHED:  # every unit sent at that moment, in one line
            same = rows[
                (rows["kind"] == K.DISPATCHED) & (rows["t_s"] == row["t_s"]) & (rows["incident"] == i)
            ]
            done |= set(same.index)
            said = _dispatched(same, inc, lang)
        else:
            said = _event_line(row, inc, scenario, lang)
        add(float(row["t_s"]), said, i, row["kind"] == K.INJECT)
    # in time order; at one moment the start of the drill, then injects (the facilitator speaks first), then
    # the log's order
    opening = lines[0]
    lines.sort(key=lambda line: (line.t_s, 0 if line is opening else 1 if line.inject else 2))
    return lines


def _t(ev: pd.DataFrame, kind: K) -> float:
    rows = ev[ev["kind"] == kind]
    return float(rows["t_s"].iloc[0]) if len(rows) else math.nan


def _read(inc: _Incident, ev: pd.DataFrame) -> None:
    """The moments later sentences count from: start, alarm, who noticed, each tier's target."""
    inc.began_s, inc.alarm_s = _t(ev, K.OCCURRED), _t(ev, K.REPORTED)
    det = ev[ev["kind"] == K.DETECTED]
    inc.detector = det["detail"].iloc[0] if len(det) else ""
    targets = ev[ev["kind"] == K.TARGET]
    inc.targets = {int(r.tier): (str(r.detail), float(r.value)) for r in targets.itertuples()}


def arm_labels(drill_meta: Mapping, events: pd.DataFrame) -> list[str]:
    """The arms in the record's order (drill.json), else as the log lists them."""
    arms = [a["label"] for a in drill_meta.get("arms", [])]
    if arms:
        return arms
    return list(pd.unique(events["policy"])) if "policy" in events.columns else [""]


def narrative_markdown(
    events: pd.DataFrame,
    incidents: pd.DataFrame,
    units: pd.DataFrame,
    scenario: Scenario,
    drill_meta: Mapping,
    lang: str,
) -> str:
    """narrative.md: one table per arm (clock, drill time, what happened)."""
    out = [f"# {msg('nar.title', lang, title=text(scenario.title, lang))}", ""]
    header = (msg("col.clock", lang), msg("col.drill_time", lang), msg("col.what", lang))
    for arm in arm_labels(drill_meta, events):
        out += [f"## {msg('nar.arm', lang, arm=arm)}", ""]
        out += ["| " + " | ".join(header) + " |", "|---|---|---|"]
        for line in narrative(events, incidents, units, scenario, drill_meta, arm, lang):
            out.append(f"| {line.clock} | {line.drill} | {line.text.replace('|', chr(92) + '|')} |")
        out.append("")
    return "\n".join(out)


def write_narrative(
    folder: Path,
    events: pd.DataFrame,
    incidents: pd.DataFrame,
    units: pd.DataFrame,
    scenario: Scenario,
    drill_meta: Mapping,
    lang: str,
) -> Path:
    path = Path(folder) / "narrative.md"
    path.write_text(
        narrative_markdown(events, incidents, units, scenario, drill_meta, lang), encoding="utf-8"
    )
    return path
