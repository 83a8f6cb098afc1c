"""The after-action report of a drill, in the HSEEP structure trainers know: overview, objectives rated
P/S/M/U, strengths, areas for improvement, the trainees' decisions, the arms side by side, an improvement
plan, the narrative and the figures. Markdown and a self-contained HTML page, in English or Chinese.

Why it reads only the record (log, incidents, units, scenario, drill.json): the same report must come out
of a drill just run and of a folder replayed months later. Rendering reuses the planner's report blocks
(sim/analysis/report.py), so both reports look alike; every word comes from sim/drill/catalogue.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from sim.analysis.report import Block, to_html, to_markdown
from sim.drill.catalogue import duration, msg, sentences, term, unit_name
from sim.drill.causes import Cause, causes
from sim.drill.narrative import clock_of, decision_sentence, narrative, write_narrative
from sim.drill.objectives import RULES, Result, evaluate
from sim.drill.record import BAD_OUTCOMES, Record
from sim.drill.scenario import Objective, Scenario, text
from sim.model.events import EventKind as K

KIND_ORDER = ("own_security", "echelon", "police", "fire_engine", "hazmat_unit", "drone")
MAX_MISSED = 5  # incidents named when an '*' objective lists its misses


# --------------------------------------------------------------------------------------------- cells


def target_text(o: Objective, lang: str) -> str:
    share = f"{o.share:.0%}"
    if o.measure == "outcome":
        outcome = term("outcome", o.expect, lang)
        if o.incident == "*":
            return msg("obj.target_outcome_share", lang, outcome=outcome, share=share)
        return msg("obj.target_outcome", lang, outcome=outcome)
    start = {"arrival": o.count_from, "coordinated": "alarm", "detected": "incident"}[o.measure]
    fields = {"target": duration(float(o.target_s or 0.0), lang), "start": term("count_from", start, lang)}
    if o.incident == "*":
        return msg("obj.target_share", lang, share=share, **fields)
    return msg("obj.target_time", lang, **fields)


def measured_text(r: Result, lang: str) -> str:
    o = r.objective
    if r.reason:
        return msg(r.reason, lang)
    if r.every:
        return msg("obj.share", lang, met=r.met, n=len(r.measures), share=f"{r.share_met:.0%}")
    return _one_measured(o, r.measures[0], lang)


def _one_measured(o: Objective, m, lang: str) -> str:
    if o.measure == "outcome":
        return term("outcome", m.outcome, lang) if m.outcome else msg("obj.no_outcome", lang)
    if math.isnan(m.measured_s):
        if o.measure == "arrival":
            return msg("obj.never_arrived", lang, kind=term("unit_kind", o.unit_kind, lang))
        if o.measure == "coordinated":
            return msg("obj.never_coordinated", lang)
        return msg("obj.never_detected", lang, by=term("detected_by", o.by or "anyone", lang))
    d = duration(m.measured_s, lang)
    if o.measure == "coordinated":
        return msg("obj.by_county" if m.who.startswith("county") else "obj.by_phone", lang, d=d)
    if o.measure == "detected":
        return msg("obj.detected_by", lang, d=d, by=term("detected_by", m.who_kind, lang))
    return d


def evidence_text(rec: Record, r: Result, lang: str) -> str:
    """What in the log shows the measured value: who, when, from which moment."""
    o = r.objective
    if r.reason:
        return msg(r.reason, lang)
    if r.every:
        said = msg("aar.ev.share", lang, met=r.met, n=len(r.measures))
        missed = [m for m in r.measures if not m.met]
        if missed:
            items = [
                msg(
                    "aar.ev.missed_item",
                    lang,
                    label=rec.label(m.incident),
                    measured=_one_measured(o, m, lang),
                )
                for m in missed[:MAX_MISSED]
            ]
            if len(missed) > MAX_MISSED:
                items.append(msg("aar.ev.more", lang, n=len(missed) - MAX_MISSED))
            said += msg("list.semi", lang) + msg(
                "aar.ev.missed", lang, items=msg("list.sep", lang).join(items)
            )
        return said
    m = r.measures[0]
    if o.measure == "outcome":
        if not m.outcome:
            return msg("obj.no_outcome", lang)
        by = msg("aar.ev.by", lang, who=unit_name(m.who, m.who_kind, lang)) if m.who else ""
        return msg(
            "aar.ev.outcome", lang, outcome=term("outcome", m.outcome, lang), at=clock_of(m.end_s), by=by
        )
    if math.isnan(m.measured_s):
        return _one_measured(o, m, lang)
    common = {"at": clock_of(m.end_s), "d": duration(m.measured_s, lang), "from_clock": clock_of(m.start_s)}
    if o.measure == "arrival":
        return msg(
            "aar.ev.arrival",
            lang,
            who=unit_name(m.who, o.unit_kind, lang),
            start=term("count_from", o.count_from, lang),
            **common,
        )
    if o.measure == "coordinated":
        return msg("aar.ev.coordinated", lang, **common)
    return msg("aar.ev.detected", lang, by=term("detected_by", m.who_kind, lang), **common)


# ------------------------------------------------------------------------------------------- sections


def overview(rec: Record, lang: str) -> list[Block]:
    s, meta = rec.scenario, rec.meta
    site = str(meta.get("site", "?"))
    arms = []
    for a in meta.get("arms", []) or [{"label": x, "trainees": False} for x in rec.arms]:
        arms.append(msg("aar.ov.arm_trainees", lang, arm=a["label"]) if a.get("trainees") else a["label"])
    labels = sorted(rec.ids, key=rec.ids.get)
    n_all = len(rec.incidents)
    items = [
        msg("aar.ov.scenario", lang, title=text(s.title, lang), id=s.id),
        msg("aar.ov.summary", lang, summary=text(s.summary, lang) or msg("aar.ov.none", lang)),
        msg("aar.ov.source", lang, source=text(s.source, lang) or msg("aar.ov.none", lang)),
        msg("aar.ov.site_synthetic" if meta.get("synthetic") else "aar.ov.site", lang, site=site),
        msg(
            "aar.ov.when",
            lang,
            start=clock_of(rec.start_s),
            duration=duration(rec.end_s - rec.start_s, lang),
            end=clock_of(rec.end_s),
        ),
        msg("aar.ov.arms", lang, arms=msg("list.sep", lang).join(arms)),
        msg("aar.ov.luck", lang, luck=_luck(rec, lang)),
        msg(
            "aar.ov.incidents",
            lang,
            scripted=len(labels),
            labels=msg("list.sep", lang).join(labels) or "-",
            background=n_all - len(labels),
        ),
        msg("aar.ov.times", lang, start=clock_of(rec.start_s)),
    ]
    blocks = [Block("ul", items=tuple(items))]
    if s.rests_on:
        blocks += [
            Block("p", text=msg("aar.ov.rests_on", lang)),
            Block("ul", items=tuple(text(t, lang) for t in s.rests_on)),
        ]
    return blocks


def _luck(rec: Record, lang: str) -> str:
    """How the delays were drawn: the scenario's luck, or (``echelon replay``) the replayed run's."""
    if rec.meta.get("replay_of"):
        return msg("luck.replay", lang, folder=rec.meta["replay_of"])
    return msg(f"luck.{rec.scenario.luck}", lang)


def objectives_table(rec: Record, results: Mapping[str, list[Result]], lang: str) -> list[Block]:
    header = [msg("aar.col.objective", lang), msg("aar.col.target", lang)]
    for arm in rec.arms:
        header += [msg("aar.col.measured", lang, arm=arm), msg("aar.col.rating", lang, arm=arm)]
    rows, marks = [], []
    for k, o in enumerate(rec.scenario.objectives):
        row = [f"{o.id} {text(o.text, lang)}", target_text(o, lang)]
        for arm in rec.arms:
            r = results[arm][k]
            marks.append((k, len(row) + 1, r.rating))
            row += [measured_text(r, lang), msg(f"rating.{r.rating}", lang)]
        rows.append(tuple(row))
    legend = msg("list.sep", lang).join(
        msg("aar.rating_def", lang, code=c, name=msg(f"rating_name.{c}", lang)) for c in "PSMU"
    )
    return [
        Block("p", text=msg("aar.obj.intro", lang)),
        Block("ul", items=tuple(msg(rule, lang) for rule in RULES)),
        Block("table", header=tuple(header), rows=tuple(rows), marks=tuple(marks)),
        Block("p", text=msg("aar.ratings", lang, ratings=legend)),
    ]


def _grouped(
    rec: Record, results: Mapping[str, list[Result]], k: int, keep, said
) -> list[tuple[list[str], Result]]:
    """The arms' results of objective ``k`` that ``keep`` accepts; arms whose results ``said`` (a
    function of the result: its words in the report) says alike are said once, together."""
    groups: dict[tuple, tuple[list[str], Result]] = {}
    for arm in rec.arms:
        r = results[arm][k]
        if keep(r):
            groups.setdefault((r.rating, said(r)), ([], r))[0].append(arm)
    return list(groups.values())


def _item(arms: list[str], r: Result, lang: str) -> str:
    o = r.objective
    return msg(
        "aar.item",
        lang,
        id=o.id,
        text=text(o.text, lang),
        arms=msg("list.sep", lang).join(arms),
        rating=msg(f"rating_name.{r.rating}", lang),
        measured=measured_text(r, lang),
    )


def strengths(rec: Record, results: Mapping[str, list[Result]], lang: str) -> list[Block]:
    items = []
    for k in range(len(rec.scenario.objectives)):
        for arms, r in _grouped(
            rec, results, k, lambda r: r.rating == "P", lambda r: evidence_text(rec, r, lang)
        ):
            items.append(
                sentences(
                    lang,
                    _item(arms, r, lang),
                    msg("aar.evidence", lang, evidence=evidence_text(rec, r, lang)),
                )
            )
    return [Block("ul", items=tuple(items))] if items else [Block("p", text=msg("aar.str.none", lang))]


def improvements(
    rec: Record, results: Mapping[str, list[Result]], lang: str
) -> tuple[list[Block], list[tuple[Result, list[str], Cause]]]:
    """The S/M/U objectives with their measured values and causes; also the causes, for the plan."""
    items: list[str] = []
    found: list[tuple[Result, list[str], Cause]] = []

    def words(r: Result) -> tuple[str, ...]:
        return (evidence_text(rec, r, lang), *(c.text for c in causes(rec, r, lang)))

    for k in range(len(rec.scenario.objectives)):
        for arms, r in _grouped(rec, results, k, lambda r: r.rating != "P", words):
            said = causes(rec, r, lang)
            reasons = msg("list.semi", lang).join(c.text for c in said)
            items.append(
                sentences(
                    lang,
                    _item(arms, r, lang),
                    msg("aar.evidence", lang, evidence=evidence_text(rec, r, lang)),
                    msg("aar.cause", lang, cause=reasons),
                )
            )
            found += [(r, arms, c) for c in said]
    blocks = [Block("ul", items=tuple(items))] if items else [Block("p", text=msg("aar.afi.none", lang))]
    return blocks, found


def plan(found: list[tuple[Result, list[str], Cause]], lang: str) -> list[Block]:
    """One row per proposed action and owner; the issues that lead to it said once each, with the
    objectives and arms they came from."""
    rows: dict[tuple[str, str], tuple[dict[str, tuple[list, list]], str]] = {}
    for r, arms, c in found:
        if not c.action:
            continue
        issues, _ = rows.setdefault((c.action, c.owner), ({}, c.due))
        ids, who = issues.setdefault(c.text, ([], []))
        ids.append(r.objective.id)
        who += arms
    if not rows:
        return [Block("p", text=msg("aar.plan.none", lang))]
    sep = msg("list.sep", lang)
    table = []
    for (action, owner), (issues, due) in rows.items():
        said = [
            msg(
                "aar.issue",
                lang,
                id=sep.join(dict.fromkeys(ids)),
                arm=sep.join(dict.fromkeys(who)),
                cause=cause,
            )
            for cause, (ids, who) in issues.items()
        ]
        table.append((msg("list.semi", lang).join(said), action, owner, due))
    header = tuple(msg(f"aar.col.{c}", lang) for c in ("issue", "action", "owner", "due"))
    return [Block("p", text=msg("aar.plan.intro", lang)), Block("table", header=header, rows=tuple(table))]


def _first_arrivals(ev: pd.DataFrame) -> dict[str, float]:
    """Unit kind -> seconds from the alarm to its first arrival (NaN when it never came)."""
    alarm = ev.loc[ev["kind"] == K.REPORTED, "t_s"]
    t0 = float(alarm.iloc[0]) if len(alarm) else math.nan
    arr = ev[ev["kind"] == K.ARRIVED]
    return {kind: float(g["t_s"].iloc[0]) - t0 for kind, g in arr.groupby("unit_kind", sort=False)}


def _outcome(ev: pd.DataFrame) -> str:
    out = ev.loc[ev["kind"] == K.OUTCOME, "detail"]
    return str(out.iloc[0]) if len(out) else ""


def decisions(rec: Record, results: Mapping[str, list[Result]], lang: str) -> list[Block]:
    if not rec.trainee_arms:
        return [Block("p", text=msg("aar.dec.none", lang))]
    blocks: list[Block] = []
    for mine, base in rec.trainee_arms.items():
        ev = rec.arm(mine)
        rows = ev[ev["kind"] == K.DECISION]
        said = [
            decision_sentence(r, rec.label(int(r["incident"])), rec.scenario, lang)
            for _, r in rows.iterrows()
        ]
        if not len(rows):
            said.append(msg("aar.dec.not_reached", lang))
        if not base:
            blocks.append(Block("ul", items=(*said, msg("aar.dec.no_base", lang, policy=mine))))
            continue
        effects = _effects(rec, mine, base, sorted(set(rows["incident"].astype(int))), lang)
        k_ids = [o.id for o in rec.scenario.objectives]
        for k, oid in enumerate(k_ids):
            a, b = results[mine][k].rating, results[base][k].rating
            if a != b:
                effects.append(msg("aar.dec.effect_rating", lang, id=oid, mine=a, theirs=b))
        if len(rows) and not effects:
            effects.append(msg("aar.dec.no_effect", lang))
        blocks += [
            Block("p", text=msg("aar.dec.compare", lang, trainees=mine, policy=base)),
            Block("ul", items=tuple(said + effects)),
        ]
    return blocks


def _effects(rec: Record, mine: str, base: str, incidents: list[int], lang: str) -> list[str]:
    out = []
    for i in incidents:
        label = rec.label(i)
        a, b = _first_arrivals(rec.of(mine, i)), _first_arrivals(rec.of(base, i))
        for kind in [k for k in KIND_ORDER if k in a or k in b]:
            x, y = a.get(kind, math.nan), b.get(kind, math.nan)
            if (math.isnan(x) and math.isnan(y)) or abs(x - y) < 0.5:
                continue
            diff = ""
            if not (math.isnan(x) or math.isnan(y)):
                shown = abs(round(x) - round(y))  # of the two times as shown (whole seconds): it adds up
                later = msg("aar.dec.later" if x > y else "aar.dec.earlier", lang, d=duration(shown, lang))
                diff = msg("aar.dec.diff", lang, d=later)
            out.append(
                msg(
                    "aar.dec.effect_arrival",
                    lang,
                    label=label,
                    kind=term("unit_kind", kind, lang),
                    mine=_after(x, lang),
                    theirs=_after(y, lang),
                    diff=diff,
                )
            )
        oa, ob = _outcome(rec.of(mine, i)), _outcome(rec.of(base, i))
        if oa != ob:
            out.append(
                msg(
                    "aar.dec.effect_outcome",
                    lang,
                    label=label,
                    mine=term("outcome", oa, lang),
                    theirs=term("outcome", ob, lang),
                )
            )
        elif out:
            out.append(msg("aar.dec.same_outcome", lang, label=label, outcome=term("outcome", oa, lang)))
    return out


def _after(seconds: float, lang: str) -> str:
    if math.isnan(seconds):
        return msg("aar.dec.never", lang)
    return msg("aar.dec.after_alarm", lang, d=duration(seconds, lang))


def _dur(seconds: float, lang: str) -> str:
    return msg("aar.sbs.never", lang) if math.isnan(seconds) else duration(seconds, lang)


def side_by_side(rec: Record, lang: str) -> list[Block]:
    arms = rec.arms
    if len(arms) < 2:
        return [Block("p", text=msg("aar.sbs.one", lang))]
    rows: list[tuple[str, list[str]]] = []
    for label, i in sorted(rec.ids.items(), key=lambda kv: kv[1]):
        firsts = {arm: _first_arrivals(rec.of(arm, i)) for arm in arms}
        for kind in [k for k in KIND_ORDER if any(k in f for f in firsts.values())]:
            name = msg("aar.sbs.first", lang, label=label, kind=term("unit_kind", kind, lang))
            rows.append((name, [_dur(firsts[a].get(kind, math.nan), lang) for a in arms]))
        if rec.incident(i).get("cross_district", False):
            rows.append(
                (msg("aar.sbs.coordinated", lang, label=label), [_coordinated(rec, a, i, lang) for a in arms])
            )
        rows.append(
            (
                msg("aar.sbs.outcome", lang, label=label),
                [term("outcome", _outcome(rec.of(a, i)), lang) or "-" for a in arms],
            )
        )
    background = [int(i) for i in rec.incidents["incident"] if int(i) not in rec.labels]
    if background:
        rows.append((msg("aar.sbs.bg_bad", lang), [str(_bad(rec, a, background)) for a in arms]))
    rows.append(
        (msg("aar.sbs.queued", lang), [str(int((rec.arm(a)["kind"] == K.QUEUED).sum())) for a in arms])
    )
    marks = tuple(
        (r, c + 1, "diff") for r, (_, cells) in enumerate(rows) for c, x in enumerate(cells) if x != cells[0]
    )
    differ = [name for name, cells in rows if len(set(cells)) > 1]
    said = (
        msg("aar.sbs.differ", lang, rows=msg("list.semi", lang).join(differ))
        if differ
        else msg("aar.sbs.same", lang)
    )
    return [
        Block("p", text=msg("aar.sbs.intro", lang, first=arms[0])),
        Block(
            "table",
            header=(msg("aar.col.what", lang), *arms),
            rows=tuple((n, *c) for n, c in rows),
            marks=marks,
        ),
        Block("p", text=said),
    ]


def _coordinated(rec: Record, arm: str, i: int, lang: str) -> str:
    ev = rec.of(arm, i)
    alarm, co = ev[ev["kind"] == K.REPORTED], ev[ev["kind"] == K.COORDINATED]
    if not len(co) or not len(alarm):
        return msg("obj.never_coordinated", lang)
    d = duration(float(co["t_s"].iloc[0]) - float(alarm["t_s"].iloc[0]), lang)
    return msg(
        "obj.by_county" if str(co["detail"].iloc[0]).startswith("county") else "obj.by_phone", lang, d=d
    )


def _bad(rec: Record, arm: str, incidents: list[int]) -> int:
    ev = rec.arm(arm)
    out = ev[(ev["kind"] == K.OUTCOME) & ev["incident"].isin(incidents)]
    return int(out["detail"].isin(BAD_OUTCOMES).sum())


def narrative_blocks(rec: Record, lang: str) -> list[Block]:
    header = (msg("col.clock", lang), msg("col.drill_time", lang), msg("col.what", lang))
    blocks = []
    for arm in rec.arms:
        lines = narrative(rec.events, rec.incidents, rec.units, rec.scenario, rec.meta, arm, lang)
        rows = tuple((line.clock, line.drill, line.text) for line in lines)
        blocks.append(Block("details", text=msg("nar.arm", lang, arm=arm), header=header, rows=rows))
    return blocks


def figures(folder: Path, lang: str) -> list[Block]:
    """The timeline and the animation's still if drawn, and a link to every animation (one per arm)."""
    blocks = [
        Block("figure", text=name, items=(msg(key, lang),))
        for name, key in (("timeline.png", "aar.fig.timeline"), ("animation_still.png", "aar.fig.still"))
        if (folder / name).is_file()
    ]
    blocks += [
        Block("link", text=name, items=(msg("aar.fig.animation", lang, name=name),))
        for name in sorted(p.name for p in folder.glob("animation*") if p.suffix in (".gif", ".mp4"))
    ]
    return blocks or [Block("p", text=msg("aar.fig.none", lang))]


# ------------------------------------------------------------------------------------------------ entry


def aar_blocks(folder: Path, rec: Record, lang: str) -> list[Block]:
    results = {arm: evaluate(rec.scenario, rec.events, rec.incidents, arm) for arm in rec.arms}
    afi, found = improvements(rec, results, lang)
    sections = [
        ("aar.h.overview", overview(rec, lang)),
        ("aar.h.objectives", objectives_table(rec, results, lang)),
        ("aar.h.strengths", strengths(rec, results, lang)),
        ("aar.h.afi", afi),
        ("aar.h.decisions", decisions(rec, results, lang)),
        ("aar.h.side_by_side", side_by_side(rec, lang)),
        ("aar.h.plan", plan(found, lang)),
        ("aar.h.figures", figures(folder, lang)),
        ("aar.h.narrative", narrative_blocks(rec, lang)),
    ]
    blocks = [
        Block("h1", text=msg("aar.title", lang, title=text(rec.scenario.title, lang))),
        Block("toc", items=tuple(msg(key, lang) for key, _ in sections)),
    ]
    for key, content in sections:
        blocks += [Block("h2", text=msg(key, lang)), *content]
    return blocks


def write_aar(
    folder: Path,
    scenario: Scenario,
    events: pd.DataFrame,
    incidents: pd.DataFrame,
    units: pd.DataFrame,
    drill_meta: Mapping,
    lang: str,
) -> list[Path]:
    """Write ``narrative.md``, ``aar.md`` and ``aar.html`` into ``folder`` (figures already there are
    shown); return their paths."""
    folder = Path(folder)
    rec = Record(events, incidents, units, scenario, drill_meta)
    blocks = aar_blocks(folder, rec, lang)
    contents = msg("aar.contents", lang)
    md, page = folder / "aar.md", folder / "aar.html"
    story = write_narrative(folder, rec.events, incidents, units, scenario, drill_meta, lang)
    md.write_text(to_markdown(blocks, contents), encoding="utf-8")
    page.write_text(to_html(blocks, lang=lang, contents=contents), encoding="utf-8")
    return [story, md, page]
