"""The drill's words and its after-action report, on a hand-made log whose every answer is known.

The log below tells four scripted incidents and two background ones under two arms (the policy, and the
replay following the trainees). Each objective of the scenario is built to land on one rating, so the
rule (P within the target, S within 1.5 x, M later, U never; shares against the required share) is
checked case by case; the narrative and the report are checked in English and in Chinese.
"""

from __future__ import annotations

import html
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from webfonts import assert_font_covers_the_page

from sim.drill import catalogue
from sim.drill.aar import write_aar
from sim.drill.catalogue import CATALOGUE, LANGS, duration, fields_of, figure_labels, msg, term
from sim.drill.narrative import narrative
from sim.drill.objectives import evaluate, rate_share, rate_time
from sim.drill.scenario import INJECT_TYPES, scenario_from_dict
from sim.model.events import COLUMNS, EventKind
from sim.model.outcomes import WORDS

ROOT = Path(__file__).resolve().parents[1]
NAN = math.nan
POLICY, TRAINEES = "echelon_135", "echelon_135+trainees"
START_S = 1000.0

# --------------------------------------------------------------------------------------- the catalogue


def test_every_message_has_both_languages_with_the_same_fields():
    assert LANGS == ("en", "zh")
    for key, texts in CATALOGUE.items():
        assert len(texts) == len(LANGS), key
        en, zh = texts
        separator = key.startswith("list.")  # joiners may be blank: '' between Chinese sentences
        assert separator or (en.strip() and zh.strip()), f"{key}: a language is empty"
        assert fields_of(en) == fields_of(zh), f"{key}: {fields_of(en)} != {fields_of(zh)}"


def _used_keys() -> tuple[set[str], set[str]]:
    """Literal keys (msg("x.y") and msg(f"x.{...}") prefixes) the drill's modules ask the catalogue for."""
    literal, prefixes = set(), set()
    for name in ("narrative", "objectives", "aar", "causes", "record"):
        source = (ROOT / "sim" / "drill" / f"{name}.py").read_text(encoding="utf-8")
        literal |= set(re.findall(r"""msg\(\s*"([a-z_.]+)\"""", source))
        literal |= set(
            re.findall(r"""^\s+"((?:nar|aar|obj|cause|why|rule|step)\.[a-z_.]+)",""", source, re.M)
        )
        prefixes |= set(re.findall(r"""msg\(\s*f"([a-z_.]+)\{""", source))
    return literal, prefixes


def test_every_key_the_drill_modules_use_is_in_the_catalogue():
    literal, prefixes = _used_keys()
    assert len(literal) > 50 and prefixes
    missing = sorted(k for k in literal if k not in CATALOGUE)
    assert not missing, f"keys used but not in sim/drill/catalogue.py: {missing}"
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in CATALOGUE), prefix


def test_every_cause_says_itself_and_every_action_has_an_owner_and_a_date():
    from sim.drill import causes

    source = (ROOT / "sim" / "drill" / "causes.py").read_text(encoding="utf-8")
    codes = set(re.findall(r'say\.cause\(\s*"([a-z_.]+)"', source)) | {"rerouted", "turned_back", "stranded"}
    plans = set(re.findall(r'say\.cause\(\s*"[a-z_.]+",\s*"([a-z_.]+)"', source))
    plans |= {k.removeprefix("plan.") for k in CATALOGUE if k.startswith("plan.")}
    assert len(codes) > 15
    for code in codes:
        assert f"cause.{code}" in CATALOGUE, code
    for plan in plans:
        assert f"plan.{plan}" in CATALOGUE, plan
        assert plan in causes.DUE_DAYS, plan
        assert plan in causes.OWNERS or plan in ("drive", "mobilise"), plan  # those: the unit's own chief


def test_the_term_tables_cover_the_model():
    from agents import RESPONDERS

    tables = {
        "event": [str(k) for k in EventKind],
        "inject": list(INJECT_TYPES),
        "outcome": [w for pair in WORDS.values() for w in pair],
        "unit_kind": [k.unit_kind for k in RESPONDERS]
        + ["own_security", "drone", "command_room", "county_centre"],
        "incident_kind": [
            "theft",
            "data_leak",
            "dispute",
            "cross_district_dispute",
            "chemical_leak",
            "fire",
            "illegal_drone",
        ],
        "channel": ["one_key", "call_110", "drone_centre"],
        "detected_by": ["staff", "drone", "passerby"],
        "rating": list("PSMU"),
        "rating_name": list("PSMU"),
        "tier": [
            "own_security",
            "echelon",
            "police",
            "first_responder",
            "patrol_group",
            "station",
            "district",
        ],
    }
    for table, names in tables.items():
        missing = [n for n in names if f"{table}.{n}" not in CATALOGUE]
        assert not missing, f"{table}: {missing}"


def test_the_zhoushan_police_terms():
    assert term("unit_kind", "echelon", "zh") == "应急梯队"
    assert term("unit_kind", "command_room", "zh") == "综合指挥室"
    assert term("unit_kind", "county_centre", "zh") == "县指挥中心"
    assert term("channel", "one_key", "zh") == "一键报警"
    assert term("unit_kind", "own_security", "zh") == "企业保安"
    assert term("tier", "a_users_own_tier", "en") == "a users own tier"  # unknown names shown as they are


def test_msg_refuses_an_unknown_key_or_language():
    with pytest.raises(KeyError, match="no drill message"):
        msg("nar.no_such_message", "en")
    with pytest.raises(ValueError, match="en, zh"):
        msg("aar.h.overview", "fr")


@pytest.mark.parametrize(
    ("seconds", "en", "zh"),
    [
        (45, "45 s", "45秒"),
        (96, "1 min 36 s", "1分36秒"),
        (180, "3 min", "3分钟"),
        (3900, "1 h 05 min", "1小时05分"),
    ],
)
def test_durations_in_words(seconds, en, zh):
    assert duration(seconds, "en") == en
    assert duration(seconds, "zh") == zh


def test_figure_labels_have_the_same_keys_in_both_languages():
    for figure in ("timeline", "animation"):
        en, zh = figure_labels("en", figure), figure_labels("zh", figure)
        assert en.keys() == zh.keys()
        for key in en:
            assert fields_of(en[key]) == fields_of(zh[key]), key
        for key in ("title", "clock_prefix", "alarm", "inject", "target.60", "target.180", "target.300"):
            assert key in en, key
        for phase in ("mobilising", "en_route", "on_scene", "returning"):
            assert f"phase.{phase}" in en
    assert next(iter(figure_labels("en", "timeline"))) == "title"
    assert figure_labels("en", "timeline")["synthetic"] == msg("fig.timeline.synthetic", "en")  # own wins
    timeline = figure_labels("zh", "timeline")
    assert timeline["unit_kind.echelon"] == "应急梯队" and timeline["target.180"] == "3分钟"
    assert figure_labels("en", "animation")["police"] == "police car"
    with pytest.raises(ValueError, match="timeline or animation"):
        figure_labels("en", "poster")


# ------------------------------------------------------------------------------------- a hand-made drill

SCENARIO = {
    "id": "hand_made",
    "title": {"en": "Hand-made drill", "zh": "手工演练"},
    "summary": {"en": "Four incidents, two arms.", "zh": "四起警情，两个方案。"},
    "source": "tests/test_drill_report.py",
    "start": "00:16:40",  # 1000 s
    "duration": "01:30:00",
    "policies": [POLICY],
    "rests_on": [{"en": "every delay at its median", "zh": "各环节时延取中位数"}],
    "objectives": [
        {
            "id": "O1",
            "text": "echelon I1 3 min",
            "measure": "arrival",
            "incident": "I1",
            "unit_kind": "echelon",
            "target_s": 180,
        },
        {
            "id": "O2",
            "text": "echelon I2 3 min",
            "measure": "arrival",
            "incident": "I2",
            "unit_kind": "echelon",
            "target_s": 180,
        },
        {
            "id": "O3",
            "text": "echelon I3 3 min",
            "measure": "arrival",
            "incident": "I3",
            "unit_kind": "echelon",
            "target_s": 180,
        },
        {
            "id": "O4",
            "text": "echelon I4 3 min",
            "measure": "arrival",
            "incident": "I4",
            "unit_kind": "echelon",
            "target_s": 180,
        },
        {
            "id": "O5",
            "text": "I1 intercepted",
            "measure": "outcome",
            "incident": "I1",
            "expect": "intercepted",
        },
        {
            "id": "O6",
            "text": "I2 intercepted",
            "measure": "outcome",
            "incident": "I2",
            "expect": "intercepted",
        },
        {"id": "O7", "text": "I3 coordinated", "measure": "coordinated", "incident": "I3", "target_s": 180},
        {
            "id": "O8",
            "text": "I1 seen by drone",
            "measure": "detected",
            "incident": "I1",
            "by": "drone",
            "target_s": 300,
        },
        {
            "id": "O9",
            "text": "I2 seen by drone",
            "measure": "detected",
            "incident": "I2",
            "by": "drone",
            "target_s": 300,
        },
        {
            "id": "O10",
            "text": "echelons half",
            "measure": "arrival",
            "incident": "*",
            "unit_kind": "echelon",
            "target_s": 300,
            "share": 0.5,
        },
        {
            "id": "O11",
            "text": "echelons 70%",
            "measure": "arrival",
            "incident": "*",
            "unit_kind": "echelon",
            "target_s": 300,
            "share": 0.7,
        },
        {
            "id": "O12",
            "text": "echelons 80%",
            "measure": "arrival",
            "incident": "*",
            "unit_kind": "echelon",
            "target_s": 300,
            "share": 0.8,
        },
        {
            "id": "O13",
            "text": "echelons 90%",
            "measure": "arrival",
            "incident": "*",
            "unit_kind": "echelon",
            "target_s": 300,
            "share": 0.9,
        },
        {
            "id": "O14",
            "text": "police I1 from start",
            "measure": "arrival",
            "incident": "I1",
            "unit_kind": "police",
            "count_from": "incident",
            "target_s": 300,
        },
        {
            "id": "O15",
            "text": "thieves stopped",
            "measure": "outcome",
            "incident": "*",
            "expect": "intercepted",
        },
        {
            "id": "O16",
            "text": "fire controlled",
            "measure": "outcome",
            "incident": "I4",
            "expect": "controlled",
        },
    ],
    "injects": [
        {
            "at": "00:00",
            "type": "incident",
            "incident": "I1",
            "kind": "data_leak",
            "enterprise": "E1",
            "sender": "guard",  # plain words: the same in both languages
            "receiver": {"en": "Xiushan room", "zh": "秀山指挥室"},
            "delivery": {"en": "one-key terminal", "zh": "一键报警终端"},
            "message": {"en": "Files copied to a USB drive.", "zh": "文件被拷入U盘。"},
        },
        {
            "at": "15:00",
            "type": "terminal_offline",
            "enterprise": "E2",
            "message": {"en": "E2's terminal is offline.", "zh": "E2终端离线。"},
        },
        {
            "at": "16:40",
            "type": "incident",
            "incident": "I2",
            "kind": "theft",
            "enterprise": "E2",
            "message": {"en": "Copper coil into a van.", "zh": "铜卷被装上面包车。"},
        },
        {
            "at": "33:20",
            "type": "incident",
            "incident": "I3",
            "kind": "dispute",
            "enterprise": "E3",
            "cross_district": True,
            "message": {"en": "Drivers fight at the bay.", "zh": "司机在装卸区斗殴。"},
        },
        {
            "at": "35:20",
            "type": "second_alarm",
            "incident": "I3",
            "message": {"en": "The other side's guard reports it too.", "zh": "对方保安也报警。"},
        },
        {
            "at": "50:00",
            "type": "incident",
            "incident": "I4",
            "kind": "fire",
            "enterprise": "E4",
            "message": {"en": "Smoke from a dryer.", "zh": "烘干机冒烟。"},
        },
        {
            "at": "01:00:50",
            "type": "road_closed",
            "road": "Yushan Bridge",
            "message": {"en": "The bridge is closed.", "zh": "大桥封闭。"},
        },
    ],
    "decisions": [
        {
            "incident": "I2",
            "point": "dispatch",
            "tier": "echelon",
            "choice": "E-3",
            "note": {"en": "They trust E-3.", "zh": "学员信任E-3。"},
        },
    ],
}


def E(t, kind, inc=-1, unit="", unit_kind="", tier=0, detail="", value=NAN):
    return (float(t), str(kind), inc, unit, unit_kind, tier, detail, value)


def _arm_events(trainees: bool) -> list[tuple]:
    K = EventKind
    room, other = "Xiushan Police Station", "Gaoting Police Station"
    i2_echelon = ("E-3", 2100 + 550) if trainees else ("E-2", 2100 + 250)
    ev = [
        # I1 (id 0): drone sees it; echelon 150 s after the alarm (P); police 355 s after the start (S)
        E(1000, K.OCCURRED, 0, detail="data_leak"),
        E(1000, K.INJECT, 0, detail="incident", value=1),
        E(1060, K.DETECTED, 0, "D-1", "drone", detail="drone"),
        E(1065, K.REPORTED, 0, room, "command_room", detail="one_key"),
        E(1065, K.TARGET, 0, tier=1, detail="own_security", value=60),
        E(1065, K.DISPATCHED, 0, "E1/guards", "own_security", 1),
        E(1095, K.DECIDED, 0, room, "command_room"),
        E(1095, K.TARGET, 0, tier=2, detail="echelon", value=180),
        E(1095, K.TARGET, 0, tier=3, detail="police", value=300),
        E(1095, K.DISPATCHED, 0, "E-1", "echelon", 2),
        E(1095, K.DISPATCHED, 0, "P-1", "police", 3),
        E(1155, K.MOBILISED, 0, "E-1", "echelon", 2),
        E(1215, K.ARRIVED, 0, "E-1", "echelon", 2),
        E(1215, K.OUTCOME, 0, "E-1", "echelon", detail="intercepted"),
        E(1215, K.MOBILISED, 0, "P-1", "police", 3),
        E(1355, K.ARRIVED, 0, "P-1", "police", 3),
        # background (id 4): echelon 110 s after the alarm
        E(1500, K.OCCURRED, 4, detail="theft"),
        E(1590, K.REPORTED, 4, room, "command_room", detail="one_key"),
        E(1620, K.TARGET, 4, tier=2, detail="echelon", value=180),
        E(1620, K.DISPATCHED, 4, "E-5", "echelon", 2),
        E(1700, K.ARRIVED, 4, "E-5", "echelon", 2),
        E(1700, K.OUTCOME, 4, "E-5", "echelon", detail="intercepted"),
        # I2 (id 1): terminal offline -> 110 call; echelon 250 s (S), the trainees' pick 550 s (M); escaped
        E(1900, K.INJECT, -1, "E2", detail="terminal_offline", value=2),
        E(2000, K.OCCURRED, 1, detail="theft"),
        E(2000, K.INJECT, 1, detail="incident", value=3),
        E(2090, K.DETECTED, 1, "E2", "enterprise", detail="staff"),
        E(2100, K.REPORTED, 1, room, "command_room", detail="call_110"),
        E(2160, K.DECIDED, 1, room, "command_room"),
        E(2160, K.TARGET, 1, tier=2, detail="echelon", value=180),
        E(2160, K.DISPATCHED, 1, i2_echelon[0], "echelon", 2),
        E(2220, K.MOBILISED, 1, i2_echelon[0], "echelon", 2),
        E(2300, K.OUTCOME, 1, detail="escaped"),
        E(i2_echelon[1], K.ARRIVED, 1, i2_echelon[0], "echelon", 2),
        # I3 (id 2): cross-district; second alarm; echelon queued, 400 s (M); coordinated by phone in 600 s
        E(3000, K.OCCURRED, 2, detail="cross_district_dispute"),
        E(3000, K.INJECT, 2, detail="incident", value=4),
        E(3090, K.DETECTED, 2, "E3", "enterprise", detail="staff"),
        E(3095, K.REPORTED, 2, room, "command_room", detail="one_key"),
        E(3120, K.INJECT, 2, detail="second_alarm", value=5),
        E(3125, K.REPORTED, 2, other, "command_room", detail="one_key"),
        E(3125, K.DECIDED, 2, room, "command_room"),
        E(3125, K.TARGET, 2, tier=2, detail="echelon", value=180),
        E(3125, K.QUEUED, 2, tier=2, detail="echelon"),
        E(3180, K.OUTCOME, 2, detail="escalated"),
        E(3300, K.DISPATCHED, 2, "E-1", "echelon", 2, "redirected"),
        E(3495, K.ARRIVED, 2, "E-1", "echelon", 2),
        E(3695, K.COORDINATED, 2, detail="liaison:S1+S2", value=600),
        # I4 (id 3): fire seen by a passer-by after flashover; no echelon can come; the engine re-routes
        E(4000, K.OCCURRED, 3, detail="fire"),
        E(4000, K.INJECT, 3, detail="incident", value=6),
        E(4540, K.OUTCOME, 3, detail="flashover"),
        E(4600, K.DETECTED, 3, detail="passerby"),
        E(4606, K.REPORTED, 3, room, "command_room", detail="call_110"),
        E(4666, K.DECIDED, 3, room, "command_room"),
        E(4666, K.TARGET, 3, tier=2, detail="echelon", value=180),
        E(4666, K.UNSERVED, 3, tier=2, detail="echelon"),
        E(4640, K.DISPATCHED, 3, "F-1", "fire_engine", 0),
        E(4700, K.MOBILISED, 3, "F-1", "fire_engine", 0),
        E(4650, K.INJECT, -1, "Yushan Bridge", detail="road_closed", value=7),
        E(4710, K.REROUTED, 3, "F-1", "fire_engine", detail="via:123", value=300),
        E(5010, K.ARRIVED, 3, "F-1", "fire_engine", 0),
        # background (id 5): never reported
        E(5000, K.OCCURRED, 5, detail="dispute"),
        E(5180, K.OUTCOME, 5, detail="escalated"),
    ]
    if trainees:
        ev.append(E(2160, K.DECISION, 1, "E-3", tier=2, detail="dispatch:echelon=E-3;policy=E-2"))
    return sorted(ev, key=lambda e: e[0])


def _frame(rows: list[tuple], arm: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.assign(policy=arm, replication=0)


def hand_made_drill():
    """(scenario, events, incidents, units, drill.json) of the hand-made drill."""
    scenario = scenario_from_dict(SCENARIO, "hand_made")
    events = pd.concat(
        [_frame(_arm_events(False), POLICY), _frame(_arm_events(True), TRAINEES)], ignore_index=True
    )
    kinds = ["data_leak", "theft", "cross_district_dispute", "fire", "theft", "dispute"]
    incidents = pd.DataFrame(
        {
            "incident": range(6),
            "kind": kinds,
            "t_s": [1000.0, 2000, 3000, 4000, 1500, 5000],
            "node": [11, 12, 13, 14, 15, 16],
            "x_m": 0.0,
            "y_m": 0.0,
            "enterprise": ["E1", "E2", "E3", "E4", "E5", "E6"],
            "grid": ["G1", "G2", "G3", "G4", "G5", "G6"],
            "station": "S1",
            "area_class": "other",
            "cross_district": [False, False, True, False, False, False],
            "label": ["I1", "I2", "I3", "I4", "", ""],
        }
    )
    units = pd.DataFrame(
        [("E-1", "echelon", 1, 0.0, 0.0, "S1", "G1"), ("P-1", "police", 2, 0.0, 0.0, "S1", "")],
        columns=["unit", "unit_kind", "base_node", "x_m", "y_m", "station", "grid"],
    )
    meta = {
        "scenario": "hand_made",
        "start_s": START_S,
        "end_s": START_S + 5400,
        "site": "testville",
        "synthetic": True,
        "lang": "en",
        "arms": [
            {"label": POLICY, "policy": POLICY, "trainees": False},
            {"label": TRAINEES, "policy": POLICY, "trainees": True},
        ],
    }
    return scenario, events, incidents, units, meta


@pytest.fixture(scope="module")
def drill():
    return hand_made_drill()


# --------------------------------------------------------------------------------------------- objectives

EXPECTED = {  # objective -> rating under the policy, under the trainees' replay
    "O1": ("P", "P"),
    "O2": ("S", "M"),
    "O3": ("M", "M"),
    "O4": ("U", "U"),
    "O5": ("P", "P"),
    "O6": ("U", "U"),
    "O7": ("M", "M"),
    "O8": ("P", "P"),
    "O9": ("U", "U"),
    "O10": ("P", "S"),
    "O11": ("S", "U"),
    "O12": ("M", "U"),
    "O13": ("U", "U"),
    "O14": ("S", "S"),
    "O15": ("U", "U"),
    "O16": ("U", "U"),
}


def test_each_objective_is_rated_by_the_stated_rule(drill):
    scenario, events, incidents, _, _ = drill
    for arm, k in ((POLICY, 0), (TRAINEES, 1)):
        got = {r.objective.id: r.rating for r in evaluate(scenario, events, incidents, arm)}
        assert got == {o: ratings[k] for o, ratings in EXPECTED.items()}, arm


def test_measured_values_come_from_the_log(drill):
    scenario, events, incidents, _, _ = drill
    r = {x.objective.id: x for x in evaluate(scenario, events, incidents, POLICY)}
    assert r["O1"].measures[0].measured_s == 150 and r["O1"].measures[0].who == "E-1"  # alarm = first report
    assert r["O2"].measures[0].measured_s == 250
    assert r["O3"].measures[0].measured_s == 400  # from the first alarm (3095), not the second (3125)
    assert math.isnan(r["O4"].measures[0].measured_s)  # no echelon ever on scene
    assert r["O6"].measures[0].outcome == "escaped"
    assert r["O7"].measures[0].measured_s == 600 and r["O7"].measures[0].who.startswith("liaison")
    assert r["O8"].measures[0].measured_s == 60
    assert r["O9"].measures[0].first_by == "staff"  # noticed, but not by a drone
    assert r["O14"].measures[0].measured_s == 355  # police, counted from the incident's start
    # '*': the incidents that reached the alarm and had an echelon sent or aimed at; id 5 was never reported
    assert sorted(m.incident for m in r["O10"].measures) == [0, 1, 2, 3, 4]
    assert (r["O10"].met, r["O10"].share_met) == (3, 0.6)
    trainees = {x.objective.id: x for x in evaluate(scenario, events, incidents, TRAINEES)}
    assert trainees["O10"].share_met == 0.4  # their echelon came to I2 after 550 s
    assert sorted(m.incident for m in r["O15"].measures) == [0, 1, 4]  # escape-or-intercept incidents


def test_the_rule_itself():
    assert [rate_time(x, 180) for x in (180, 181, 270, 271, 5000, NAN)] == ["P", "S", "S", "M", "M", "U"]
    assert [rate_share(x, 0.8) for x in (0.8, 0.7, 0.55, 0.54, NAN)] == ["P", "S", "M", "U", "U"]


def test_an_incident_missing_from_the_log_is_rated_u_with_the_reason(drill):
    scenario, events, incidents, _, _ = drill
    results = evaluate(scenario, events, incidents[incidents["label"] != "I4"], POLICY)
    o4 = next(r for r in results if r.objective.id == "O4")
    assert (o4.rating, o4.reason) == ("U", "why.no_incident")


# ---------------------------------------------------------------------------------------------- narrative


@pytest.mark.parametrize("lang", LANGS)
def test_the_narrative_mentions_every_inject_and_every_outcome(drill, lang):
    scenario, events, incidents, units, meta = drill
    for arm in (POLICY, TRAINEES):
        lines = narrative(events, incidents, units, scenario, meta, arm, lang)
        texts = [line.text for line in lines]
        assert [line.t_s for line in lines] == sorted(line.t_s for line in lines)
        for inj in scenario.injects:
            said = msg("nar.inject", lang, seq=inj.seq, kind="", route="").split("(")[0].split("（")[0]
            quoted = [t for t in texts if t.startswith(said) and inj.message[lang] in t]
            assert len(quoted) == 1, (lang, inj.seq)
        ev = events[(events["policy"] == arm) & (events["kind"] == "outcome")]
        for row in ev.itertuples():
            mine = [line for line in lines if line.incident == row.incident]
            word = term("outcome", row.detail, lang)
            told = [line for line in mine if line.t_s == row.t_s] or [
                line for line in mine if word in line.text
            ]
            assert told, (lang, arm, row.incident, row.detail)
        background = [t for t in texts if t.startswith(msg("nar.bg", lang, id="", kind="", place="")[:4])]
        assert len(background) == 2  # one line per background incident, not every event of it
        assert not any("{" in t or "}" in t for t in texts)


def test_the_narrative_tells_the_steps_in_plain_sentences(drill):
    scenario, events, incidents, units, meta = drill
    texts = [line.text for line in narrative(events, incidents, units, scenario, meta, TRAINEES, "en")]
    one = "\n".join(texts)
    assert "The guards of enterprise E1 pressed the one-key alarm" in one
    assert "the command room of Xiushan Police Station received it" in one
    assert "Echelon E-1 arrived on scene, 2 min 30 s after the alarm (target 3 min)." in one
    assert "The suspect was stopped (intercepted) by echelon E-1" in one
    assert "A second alarm (one-key alarm) reached the command room of Gaoting Police Station" in one
    assert "Fire engine F-1 re-routed via road node 123 (5 min still to drive)." in one
    assert 'Trainees\' decision: E-3 for the echelon tier (the policy: E-2) ("They trust E-3.").' in one
    assert "Stations S1 and S2 coordinated by phone, 10 min after the alarm." in one
    zh = "\n".join(line.text for line in narrative(events, incidents, units, scenario, meta, TRAINEES, "zh"))
    assert "E1企业保安按下一键报警" in zh and "Xiushan Police Station 综合指挥室接警" in zh
    assert (
        "，guard→秀山指挥室，经一键报警终端" in zh
        and ", from guard to Xiushan room, by one-key terminal" in one
    )
    for english in ("arrived", "Inject", "the alarm", "Trainees"):
        assert english not in zh


# ------------------------------------------------------------------------------------- after-action report


class _Tags(HTMLParser):
    """Counts open and closed tags, and the text outside <style>."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.lang = ""

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.lang = dict(attrs).get("lang", "")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()

    def handle_data(self, data):
        if not self.stack or self.stack[-1] != "style":
            self.text.append(data)


HEADINGS = [k for k in CATALOGUE if k.startswith("aar.h.")]


@pytest.mark.parametrize("lang", LANGS)
def test_the_aar_is_written_in_the_chosen_language(drill, tmp_path, lang):
    scenario, events, incidents, units, meta = drill
    (tmp_path / "timeline.png").write_bytes(b"png")
    (tmp_path / "animation.gif").write_bytes(b"gif")
    (tmp_path / "animation_echelon_135_trainees.mp4").write_bytes(b"mp4")
    paths = write_aar(tmp_path, scenario, events, incidents, units, meta, lang)
    assert [p.name for p in paths] == ["narrative.md", "aar.md", "aar.html"]
    md, page = (tmp_path / "aar.md").read_text("utf-8"), (tmp_path / "aar.html").read_text("utf-8")
    other = "en" if lang == "zh" else "zh"
    for key in HEADINGS:
        assert f"## {msg(key, lang)}" in md, key
        assert f"## {msg(key, other)}" not in md, key
        assert f">{html.escape(msg(key, lang))}</h2>" in page
    assert "{" not in md and "}" not in md
    tags = _Tags()
    tags.feed(page)
    tags.close()
    assert tags.stack == [] and tags.lang == lang
    text = "".join(tags.text)
    assert "{" not in text and "}" not in text
    assert "<details><summary>" in page and 'src="timeline.png"' in page and 'href="animation.gif"' in page
    assert 'href="animation_echelon_135_trainees.mp4"' in page
    assert "Noto Sans CJK SC" in page  # the CJK font stack
    if lang == "zh":  # the page carries its own CJK font, cut down to its characters
        assert_font_covers_the_page(page)
    else:
        assert "@font-face" not in page or re.search(r"[\u4e00-\u9fff]", text)
    for rating in ("P", "S", "M", "U"):
        assert f'<td class="{rating}">{rating}</td>' in page
    assert msg("rule.time", lang) in md  # the rule is stated


def test_the_aar_says_why_and_what_to_do(drill, tmp_path):
    scenario, events, incidents, units, meta = drill
    write_aar(tmp_path, scenario, events, incidents, units, meta, "en")
    md = (tmp_path / "aar.md").read_text("utf-8")
    afi = md.split("## Areas for improvement")[1].split("## ")[0]
    assert "the terminal of enterprise E2 was offline (inject 2)" in afi  # I2's 110 call, read from the log
    assert "the echelon request waited 2 min 55 s in the queue: no free unit could come" in afi  # I3
    assert "the two stations coordinated by phone (10 min)" in afi
    assert "1 min 6 s before any alarm reached a command room" in afi  # I4's flashover
    assert "the trainees sent E-3 where the policy would have sent E-2" in afi
    assert "no echelon could answer the echelon tier" in afi
    decisions = md.split("## The trainees' decisions and their effect")[1].split("## ")[0]
    assert (
        "I2: first echelon on scene 9 min 10 s after the alarm, against 4 min 10 s after the alarm"
        in decisions
    )
    assert "(5 min later)" in decisions and "objective O2: M against S" in decisions
    side = md.split("## Side by side")[1].split("## ")[0]
    assert "| I2: first echelon on scene (from the alarm) | 4 min 10 s | **9 min 10 s** |" in side
    plan = md.split("## Improvement plan")[1].split("## ")[0]
    assert "proposals" in plan.lower() and "at the hot wash after the drill" in plan
    assert "Xiushan Police Station command room" in plan and "within 7 days" in plan


def test_the_aar_says_so_when_the_decisions_changed_nothing(drill, tmp_path):
    scenario, events, incidents, units, meta = drill
    same = events.copy()
    policy_i2 = same[(same["policy"] == POLICY) & (same["incident"] == 1)]
    trainee_rows = same[(same["policy"] == TRAINEES) & (same["kind"] == "decision")]
    same = pd.concat(
        [
            same[~((same["policy"] == TRAINEES) & (same["incident"] == 1))],
            policy_i2.assign(policy=TRAINEES),
            trainee_rows,
        ],
        ignore_index=True,
    ).sort_values("t_s", kind="stable")
    write_aar(tmp_path, scenario, same, incidents, units, meta, "en")
    decisions = (
        (tmp_path / "aar.md").read_text("utf-8").split("## The trainees' decisions")[1].split("## ")[0]
    )
    assert msg("aar.dec.no_effect", "en") in decisions


def test_a_drill_with_one_arm_and_no_decisions(drill, tmp_path):
    scenario, events, incidents, units, meta = drill
    one = {**meta, "arms": meta["arms"][:1]}
    write_aar(tmp_path, scenario, events[events["policy"] == POLICY], incidents, units, one, "zh")
    md = (tmp_path / "aar.md").read_text("utf-8")
    assert msg("aar.dec.none", "zh") in md and msg("aar.sbs.one", "zh") in md


def test_a_queue_is_a_cause_only_for_the_kind_of_unit_that_waited(drill, tmp_path):
    """I3's echelon request queued; its police car did not wait: a police '*' objective that I3 misses
    must not blame the queue, nor propose who covers for busy police."""
    _, events, incidents, units, meta = drill
    K = EventKind
    police_i3 = [
        E(3125, K.TARGET, 2, tier=3, detail="police", value=300),
        E(3125, K.DISPATCHED, 2, "P-1", "police", 3),
        E(3600, K.ARRIVED, 2, "P-1", "police", 3),
    ]
    more = pd.concat([events, _frame(police_i3, POLICY)], ignore_index=True).sort_values("t_s", kind="stable")
    police = {"id": "O17", "text": "police everywhere", "measure": "arrival", "incident": "*"}
    police |= {"unit_kind": "police", "target_s": 60, "share": 0.8}
    one = scenario_from_dict({**SCENARIO, "objectives": [*SCENARIO["objectives"], police]}, "hand_made")
    arm = {**meta, "arms": meta["arms"][:1]}
    write_aar(tmp_path, one, more[more["policy"] == POLICY], incidents, units, arm, "en")
    afi = (tmp_path / "aar.md").read_text("utf-8").split("## Areas for improvement")[1].split("## ")[0]
    lines = {line.split(" ")[1]: line for line in afi.splitlines() if line.startswith("- O")}
    assert "missed" in lines["O17"] and "waited in the queue" not in lines["O17"]
    assert "1 of the incidents that missed waited in the queue" in lines["O12"]  # the echelons' own queue


def test_a_difference_of_two_times_is_the_difference_of_the_times_shown(drill, tmp_path):
    """4 min 10 s against 9 min 10 s is 5 min later, whatever the fractions of a second behind them."""
    scenario, events, incidents, units, meta = drill
    moved = events.copy()
    i2_arrival = (moved["incident"] == 1) & (moved["kind"] == "arrived")
    moved.loc[i2_arrival & (moved["policy"] == POLICY), "t_s"] += 0.4  # 250.4 s: shown 4 min 10 s
    moved.loc[i2_arrival & (moved["policy"] == TRAINEES), "t_s"] -= 0.4  # 549.6 s: shown 9 min 10 s
    write_aar(tmp_path, scenario, moved, incidents, units, meta, "en")
    decisions = (
        (tmp_path / "aar.md").read_text("utf-8").split("## The trainees' decisions")[1].split("## ")[0]
    )
    assert "9 min 10 s after the alarm, against 4 min 10 s after the alarm" in decisions
    assert "(5 min later)" in decisions


def test_english_articles_and_queue_sentences_read_right(drill):
    from sim.drill.catalogue import indefinite

    assert indefinite("illegal drone flight", "en") == "an illegal drone flight"
    assert indefinite("theft", "en") == "a theft" and indefinite("盗窃", "zh") == "盗窃"
    scenario, events, incidents, units, meta = drill
    one = "\n".join(line.text for line in narrative(events, incidents, units, scenario, meta, POLICY, "en"))
    assert "I1: a trade-secret leak begins at" in one
    assert "No unit was free for the echelon request: it waits in the queue." in one
    assert "unit unit" not in msg("nar.queued", "en", tier=term("tier", "hazmat_unit", "en"))


def test_catalogue_module_is_the_only_place_with_drill_words():
    """The report modules ask the catalogue for every sentence: no English sentence literals of their own."""
    for name in ("narrative", "objectives", "aar", "causes", "record"):
        source = (ROOT / "sim" / "drill" / f"{name}.py").read_text(encoding="utf-8")
        code = re.sub(r'"""[\s\S]*?"""', "", source)  # docstrings are for programmers
        code = re.sub(r"#.*", "", code)
        words = re.findall(r'"([A-Z][a-z]+ [a-z]+ [a-z]+[^"]*)"', code)
        assert not words, f"{name}.py: {words}"
    assert catalogue.LANGS == LANGS


# ------------------------------------------------------------------------------------------ a real drill


def _run(name: str, cache_dir):
    """A shipped scenario replayed as `echelon drill` does, with the tests' site cache."""
    from sim.cli import load_configs
    from sim.drill.outputs import drill_meta
    from sim.drill.run import drill_overrides, run_drill
    from sim.drill.scenario import load_scenario
    from sim.site.build import build_site

    scenario = load_scenario(name)
    full = [*drill_overrides(scenario, []), f"cache_dir={cache_dir}"]
    cfg, _ = load_configs(full)
    cfgs = dict(zip(cfg.run.policies, load_configs(full, cfg.run.policies)[1], strict=True))
    run = run_drill(scenario, cfg, cfgs, build_site(cfg))
    return scenario, run, drill_meta(run, "en")


def test_the_xiushan_drill_reports_the_echelon_within_3_minutes(cache_dir, tmp_path):
    scenario, run, meta = _run("xiushan_trade_secret_leak", cache_dir)
    got = {r.objective.id: r.rating for r in evaluate(scenario, run.events, run.incidents, "echelon_135")}
    assert got["O1"] == "P" and got["O3"] == "P"  # the report's case: echelon within 3 min, suspect stopped
    for lang in LANGS:
        folder = tmp_path / lang
        folder.mkdir()
        write_aar(folder, scenario, run.events, run.incidents, run.units, meta, lang)
        md = (folder / "aar.md").read_text("utf-8")
        assert msg("aar.h.strengths", lang) in md and "{" not in md


def test_a_drill_with_trainees_and_a_closed_road_reports_them(cache_dir, tmp_path):
    scenario, run, meta = _run("night_theft_terminal_offline", cache_dir)
    write_aar(tmp_path, scenario, run.events, run.incidents, run.units, meta, "en")
    md = (tmp_path / "aar.md").read_text("utf-8")
    assert "the terminal of enterprise" in md and "was offline (inject 1)" in md
    assert "the trainees sent E-R08C12-1 where the policy would have sent" in md
    scenario, run, meta = _run("yushan_chemical_leak_bridge_closed", cache_dir)
    write_aar(tmp_path, scenario, run.events, run.incidents, run.units, meta, "zh")
    story = (tmp_path / "narrative.md").read_text("utf-8")
    assert "返回：无道路可达现场" in story  # the hazmat unit turned back at the closed bridge


def test_every_shipped_scenario_says_its_texts_in_chinese():
    """lang=zh shows no English from a shipped scenario: every text it has is given in both languages."""
    from sim.drill.scenario import INJECT_TEXTS, load_scenario, shipped_names

    for name in shipped_names():
        s = load_scenario(name)
        texts = {"title": s.title, "summary": s.summary, "source": s.source}
        texts |= {f"objective {o.id}": o.text for o in s.objectives}
        texts |= {f"rests_on[{k}]": t for k, t in enumerate(s.rests_on)}
        texts |= {f"decision {d.incident} {d.point}": d.note for d in s.decisions if d.note}
        for inj in s.injects:
            texts |= {f"seq {inj.seq} {key}": getattr(inj, key) for key in INJECT_TEXTS if getattr(inj, key)}
        for where, value in texts.items():
            assert (
                isinstance(value, dict)
                and value.get("en")
                and re.search(r"[\u4e00-\u9fff]", value.get("zh", ""))
            ), f"{name}: {where} is not given in Chinese: {value!r}"


def test_every_shipped_objective_says_what_is_measured():
    """An objective's words name what sim/drill/objectives.py measures: the unit kind, the target, the
    moment counted from, the share of incidents, who detects; in both languages."""
    from sim.drill.scenario import load_scenario, shipped_names

    kinds = {"echelon": ("echelon", "应急梯队"), "police": ("police", "民警"), "drone": ("drone", "无人机")}
    for name in shipped_names():
        for o in load_scenario(name).objectives:
            en, zh = o.text["en"], o.text["zh"]
            where = f"{name} {o.id}: {en} / {zh}"
            if o.measure == "outcome":
                continue
            minutes = f"{o.target_s / 60:g}"
            assert f"{minutes} minutes" in en and f"{minutes}分钟" in zh, where
            start = "incident" if o.measure == "detected" else "alarm" if o.measure == "coordinated" else None
            start = start or o.count_from
            if start == "alarm":
                assert re.search(r"of the (first |one-key )?alarm", en), where
                assert "报警后" in zh, where
            else:
                assert "of its start" in en and re.search("(发生|开始)后", zh), where
            word = kinds.get(o.unit_kind if o.measure == "arrival" else o.by)
            if word:
                assert word[0] in en.lower() and word[1] in zh, where
            if o.incident == "*":
                assert f"{o.share:.0%}" in en and f"{o.share:.0%}" in zh, where
            assert "hazmat-capable" not in en and "order" not in en.replace("control centre's order", ""), (
                where
            )
