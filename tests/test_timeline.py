"""The drill's timeline chart (sim/drill/timeline.py): one panel per arm, a lane per unit that took part,
bars at the logged times, target lines at alarm + target, inject lines, differences between arms, and
Chinese labels that draw without missing glyphs."""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.patches import Rectangle

from sim.config import load_config
from sim.drill.timeline import (
    DEFAULT_LABELS,
    bars,
    draw_timeline,
    missing_labels,
    shown_incidents,
    timeline_figure,
)
from sim.experiment import simulate
from sim.model.events import COLUMNS
from sim.model.incidents import N_UNIFORMS, generate_incidents
from sim.model.world import World

START_S = 10 * 3600.0  # drill time 0 = 10:00 on day 0


def _events(arm: str, echelon_arrives_s: float) -> list[tuple]:
    """A drill log of one arm, by hand: scripted incident 0 (I1) at 60 s, its alarm at 100 s; guards,
    an echelon, a police car that re-routes and a drone answer it; a background incident (1) keeps
    another police car busy; echelon E-B-1 is out of service from 30 s to 900 s."""
    t = START_S
    rows = [
        (t + 30, "inject", -1, "E-B-1", "", 0, "unit_unavailable", 1.0),
        (t + 60, "occurred", 0, "", "", 0, "data_leak", math.nan),
        (t + 60, "inject", 0, "", "", 0, "incident", 2.0),
        (t + 100, "reported", 0, "S1", "command_room", 0, "one_key", math.nan),
        (t + 100, "target", 0, "", "", 1, "own_security", 60.0),
        (t + 100, "dispatched", 0, "E1/guards", "own_security", 1, "", math.nan),
        (t + 120, "mobilised", 0, "E1/guards", "own_security", 1, "", math.nan),
        (t + 130, "decided", 0, "S1", "command_room", 0, "", math.nan),
        (t + 130, "target", 0, "", "", 2, "echelon", 180.0),
        (t + 130, "target", 0, "", "", 3, "police", 300.0),
        (t + 130, "dispatched", 0, "E-A-1", "echelon", 2, "", math.nan),
        (t + 130, "dispatched", 0, "P-S1-1", "police", 3, "", math.nan),
        (t + 130, "dispatched", 0, "D-N1-d1", "drone", 0, "", math.nan),
        (t + 150, "arrived", 0, "E1/guards", "own_security", 1, "", math.nan),
        (t + 190, "mobilised", 0, "E-A-1", "echelon", 2, "", math.nan),
        (t + 200, "inject", -1, "Long Bridge", "", 0, "road_closed", 3.0),
        (t + 200, "arrived", 0, "D-N1-d1", "drone", 0, "", math.nan),
        (t + 230, "mobilised", 0, "P-S1-1", "police", 3, "", math.nan),
        (t + 300, "rerouted", 0, "P-S1-1", "police", 3, "via:42", 200.0),
        (t + echelon_arrives_s, "arrived", 0, "E-A-1", "echelon", 2, "", math.nan),
        (t + 400, "outcome", 0, "E-A-1", "echelon", 0, "intercepted", math.nan),
        (t + 500, "arrived", 0, "P-S1-1", "police", 3, "", math.nan),
        (t + 700, "occurred", 1, "", "", 0, "theft", math.nan),
        (t + 720, "reported", 1, "S1", "command_room", 0, "call_110", math.nan),
        (t + 750, "dispatched", 1, "P-S1-2", "police", 1, "", math.nan),
        (t + 800, "mobilised", 1, "P-S1-2", "police", 1, "", math.nan),
        (t + 900, "inject", -1, "E-B-1", "", 0, "unit_back", 4.0),
        (t + 1000, "cleared", 0, "E1/guards", "own_security", 1, "", math.nan),
        (t + 1000, "returned", 0, "E1/guards", "own_security", 1, "", math.nan),
        (t + 1100, "arrived", 1, "P-S1-2", "police", 1, "", math.nan),
        (t + 1200, "cleared", 0, "E-A-1", "echelon", 2, "", math.nan),
        (t + 1300, "cleared", 0, "D-N1-d1", "drone", 0, "", math.nan),
        (t + 1400, "returned", 0, "E-A-1", "echelon", 2, "", math.nan),
        (t + 1500, "returned", 0, "D-N1-d1", "drone", 0, "", math.nan),
        (t + 2400, "cleared", 0, "P-S1-1", "police", 3, "", math.nan),
        (t + 2700, "returned", 0, "P-S1-1", "police", 3, "", math.nan),
    ]
    return [(*row, arm, 0) for row in sorted(rows, key=lambda r: r[0])]


def _log(arms: dict[str, float]) -> pd.DataFrame:
    """Arms -> the echelon's arrival (drill seconds) in each."""
    rows = [row for arm, at in arms.items() for row in _events(arm, at)]
    return pd.DataFrame(rows, columns=[*COLUMNS, "policy", "replication"])


INCIDENTS = pd.DataFrame(
    {
        "incident": [0, 1],
        "kind": ["data_leak", "theft"],
        "t_s": [START_S + 60, START_S + 700],
        "label": ["I1", ""],
    }
)
ONE = {"echelon_135": 310.0}
TWO = {"echelon_135": 310.0, "echelon_open": 390.0}


def _figure(arrivals: dict[str, float], **kwargs):
    return timeline_figure(_log(arrivals), INCIDENTS, start_s=START_S, labels=DEFAULT_LABELS, **kwargs)


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _gid(artist) -> str:
    return artist.get_gid() or ""


def test_one_panel_per_arm_in_order_with_a_shared_time_axis():
    fig = _figure(TWO)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["echelon_135", "echelon_open"]
    assert fig.axes[0].get_xlim() == fig.axes[1].get_xlim()
    assert "mm:ss" in fig.axes[-1].get_xlabel()
    plt.close(fig)
    fig = _figure(TWO, arms=["echelon_open"])
    assert len(fig.axes) == 1
    plt.close(fig)


def test_a_lane_per_unit_that_took_part_grouped_by_kind():
    fig = _figure(ONE)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == [
        "I1 trade-secret leak",
        "enterprise guards E1",
        "echelon E-A-1",
        "echelon E-B-1",  # out of service all along: a lane with its hatched period
        "police P-S1-1",
        "police P-S1-2",  # worked on the background incident
        "drone D-N1-d1",
    ]
    plt.close(fig)


def test_bars_start_and_end_at_the_logged_times():
    fig = _figure(ONE)
    patches = {_gid(p): p for p in fig.axes[0].patches if isinstance(p, Rectangle) and _gid(p)}

    def span(gid: str) -> tuple[float, float]:
        return patches[gid].get_x(), patches[gid].get_x() + patches[gid].get_width()

    assert span("mobilising|E-A-1") == (130, 190)
    assert span("en_route|E-A-1") == (190, 310)
    assert span("on_scene|E-A-1") == (310, 1200)
    assert span("returning|E-A-1") == (1200, 1400)
    assert span("en_route|D-N1-d1") == (130, 200)  # a drone takes off at once: no mobilising
    assert span("on_scene|P-S1-1") == (500, 2400)
    assert span("off|E-B-1") == (30, 900)
    assert "returning|E1/guards" not in patches  # the guards are home when they clear: no drive back
    assert patches["mobilising|P-S1-2"].get_alpha() < 1  # another incident's work is faded
    reroutes = [line for line in fig.axes[0].lines if _gid(line) == "rerouted|P-S1-1"]
    assert [list(line.get_xdata()) for line in reroutes] == [[300]]
    plt.close(fig)


def test_bars_follow_a_unit_sent_on_from_its_way_home_and_guards_at_two_incidents():
    rows = [
        (0, "dispatched", 1, "P-1", "police"),
        (10, "mobilised", 1, "P-1", "police"),
        (50, "dispatched", 1, "E/guards", "own_security"),
        (60, "arrived", 1, "E/guards", "own_security"),
        (100, "arrived", 1, "P-1", "police"),
        (200, "cleared", 1, "P-1", "police"),
        (220, "dispatched", 2, "P-1", "police"),  # redirected on its way home
        (220, "mobilised", 2, "P-1", "police"),
        (230, "dispatched", 2, "E/guards", "own_security"),  # the same guards, another incident
        (240, "arrived", 2, "E/guards", "own_security"),
        (300, "cleared", 1, "E/guards", "own_security"),
        (300, "returned", 1, "E/guards", "own_security"),
    ]
    log = pd.DataFrame([(t, k, i, u, uk, 1, "", math.nan) for t, k, i, u, uk in rows], columns=COLUMNS)
    got = {(b.unit, b.incident, b.phase): (b.start_s, b.end_s) for b in bars(log)}
    assert got == {
        ("P-1", 1, "mobilising"): (0, 10),
        ("P-1", 1, "en_route"): (10, 100),
        ("P-1", 1, "on_scene"): (100, 200),
        ("P-1", 1, "returning"): (200, 220),
        ("P-1", 2, "en_route"): (220, math.inf),  # still driving when the log ends
        ("E/guards", 1, "mobilising"): (50, 60),
        ("E/guards", 1, "on_scene"): (60, 300),
        ("E/guards", 2, "mobilising"): (230, 240),
        ("E/guards", 2, "on_scene"): (240, math.inf),
    }


def test_target_lines_sit_at_the_alarm_plus_each_tiers_target():
    fig = _figure(ONE)
    lines = {_gid(line): line.get_xdata()[0] for line in fig.axes[0].lines if _gid(line)}
    assert lines["alarm|I1"] == 100
    assert lines["target|I1|own_security"] == 160
    assert lines["target|I1|echelon"] == 280
    assert lines["target|I1|police"] == 400
    texts = _texts(fig.axes[0])
    assert {" own security 1 min", " echelon 3 min", " police 5 min"} <= set(texts)
    plt.close(fig)
    fig = _figure(ONE, count_from="incident")
    lines = {_gid(line): line.get_xdata()[0] for line in fig.axes[0].lines if _gid(line)}
    assert lines["target|I1|echelon"] == 60 + 180
    plt.close(fig)


def test_injects_are_numbered_dashed_lines_at_their_times():
    fig = _figure(TWO)
    for ax in fig.axes:
        assert sorted(line.get_xdata()[0] for line in ax.lines if _gid(line) == "inject") == [
            30,
            60,
            200,
            900,
        ]
    labels = _texts(fig.axes[0])
    said = {
        "1 unit out of service E-B-1",
        "2 incident I1",
        "3 road closed Long Bridge",
        "4 unit back in service E-B-1",
    }
    assert said <= set(labels)
    assert not said & set(_texts(fig.axes[1]))  # said once, in the top panel
    plt.close(fig)


def test_first_arrivals_are_annotated_and_a_different_one_is_emphasised():
    fig = _figure(TWO)
    notes = [{_gid(t): t.get_text() for t in ax.texts if _gid(t).startswith("note|")} for ax in fig.axes]
    # the guards came at the same time in both arms: a plain note with the time from the alarm
    assert notes[0]["note|first|own_security|0"] == notes[1]["note|first|own_security|0"] == "50 s"
    # the echelon came 80 s later under echelon_open: bold in both panels, the difference said
    assert notes[0]["note|first|echelon|1"] == "3 min 30 s"
    assert notes[1]["note|first|echelon|1"] == "4 min 50 s (+1 min 20 s vs echelon_135)"
    bold = [t for t in fig.axes[1].texts if _gid(t) == "note|first|echelon|1"]
    assert bold[0].get_weight() == "bold"
    plt.close(fig)
    fig = _figure({"echelon_135": 390.0, "echelon_open": 310.0})
    note = next(t.get_text() for t in fig.axes[1].texts if _gid(t) == "note|first|echelon|1")
    assert note.endswith("(-1 min 20 s vs echelon_135)")
    plt.close(fig)


def test_an_arm_without_a_tiers_unit_on_scene_says_so():
    log = _log(TWO)
    log = log[~((log["policy"] == "echelon_open") & (log["unit"] == "E-A-1") & (log["kind"] == "arrived"))]
    fig = timeline_figure(log, INCIDENTS, start_s=START_S, labels=DEFAULT_LABELS)
    notes = {_gid(t): t.get_text() for t in fig.axes[1].texts if _gid(t).startswith("note|")}
    assert notes["note|none|echelon"] == "echelon: none on scene (echelon_135: 3 min 30 s)"
    plt.close(fig)


def test_a_busy_morning_caps_the_lanes_and_says_how_many_are_not_shown():
    rows, incidents = [], [(0, "data_leak", START_S + 60, "I1")]
    for k in range(40):  # 40 background thefts, each answered by its own police car
        t = START_S + 120 + 30 * k
        incidents.append((k + 1, "theft", t, ""))
        rows += [
            (t, "occurred", k + 1, "", "", 0, "theft", math.nan),
            (t + 30, "dispatched", k + 1, f"P-X{k}-1", "police", 1, "", math.nan),
            (t + 90, "mobilised", k + 1, f"P-X{k}-1", "police", 1, "", math.nan),
            (t + 400, "arrived", k + 1, f"P-X{k}-1", "police", 1, "", math.nan),
        ]
    log = pd.concat(
        [_log(ONE), pd.DataFrame([(*r, "echelon_135", 0) for r in rows], columns=_log(ONE).columns)]
    )
    table = pd.DataFrame(incidents, columns=["incident", "kind", "t_s", "label"])
    fig = timeline_figure(log, table, start_s=START_S, labels=DEFAULT_LABELS, max_lanes=8)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks[0] == "I1 trade-secret leak" and len(ticks) == 1 + 8  # only the scripted incident's row
    assert {
        "enterprise guards E1",
        "echelon E-A-1",
        "echelon E-B-1",
        "police P-S1-1",
        "drone D-N1-d1",
    } <= set(ticks)
    caption = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "38 more units took part and are not shown (at most 8 lanes)" in caption
    assert "target for I1, counted from the alarm" in caption
    plt.close(fig)


def test_labels_must_give_every_key():
    partial = {k: v for k, v in DEFAULT_LABELS.items() if k not in ("title", "phase.on_scene")}
    assert sorted(missing_labels(partial)) == ["phase.on_scene", "title"]
    with pytest.raises(ValueError, match=r"lack 2 key\(s\): title, phase.on_scene"):
        timeline_figure(_log(ONE), INCIDENTS, start_s=START_S, labels=partial)


def _chinese(text: str) -> str:
    """A label in Chinese characters that keeps the English one's placeholders."""
    return "演练" + "".join(f"{{{name}}}" for name in re.findall(r"{(\w+)}", text)) + "时间线"


def test_chinese_labels_draw_without_missing_glyphs(tmp_path, caplog):
    labels = {key: _chinese(text) for key, text in DEFAULT_LABELS.items()}
    labels |= {
        "min_s": "{m}分{s}秒",
        "min": "{m}分钟",
        "s": "{s}秒",
        "title": "演练时间线：各处置力量何时做了什么",
    }
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING, "matplotlib"):
        warnings.simplefilter("always")
        path = draw_timeline(
            _log(TWO), INCIDENTS, start_s=START_S, labels=labels, out_path=tmp_path / "zh.png", synthetic=True
        )
    assert not [w for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]
    assert path.stat().st_size > 10_000


def test_a_model_run_draws_each_phase_at_its_logged_time(daishan_site, cache_dir, tmp_path):
    """A real log: two hand-placed incidents with every delay at its median, under two policies."""
    world = World.build(daishan_site)
    drawn = generate_incidents(daishan_site, load_config([f"cache_dir={cache_dir}", "run.days=5"]), 0, world)
    base = next(i for i in drawn if i.kind == "data_leak" and i.enterprise)
    median = (0.5,) * N_UNIFORMS
    mine = [
        dataclasses.replace(base, id=0, t_s=START_S + 60, u=median),
        dataclasses.replace(base, id=1, kind="theft", t_s=START_S + 400, u=median),
    ]
    logs = []
    for policy in ("echelon_135", "police_only"):
        cfg = load_config([f"cache_dir={cache_dir}", f"policy={policy}", "run.days=1"])
        events = simulate(daishan_site, cfg, 0, world, incidents=mine).events
        logs.append(events.assign(policy=policy, replication=0))
    log = pd.concat(logs, ignore_index=True)
    table = pd.DataFrame(
        {
            "incident": [0, 1],
            "kind": ["data_leak", "theft"],
            "t_s": [i.t_s for i in mine],
            "label": ["I1", "I2"],
        }
    )
    path = draw_timeline(log, table, start_s=START_S, labels=DEFAULT_LABELS, out_path=tmp_path / "t.png")
    assert path.stat().st_size > 10_000
    fig = timeline_figure(log, table, start_s=START_S, labels=DEFAULT_LABELS)
    worked = set(log.loc[log["kind"] == "dispatched", "unit"].str.removesuffix("/guards"))
    for ax, policy in zip(fig.axes, ("echelon_135", "police_only"), strict=True):
        ticks = [t.get_text() for t in ax.get_yticklabels()]
        assert ticks[:2] == ["I1 trade-secret leak", "I2 theft"]
        assert {t.split(" ")[-1] for t in ticks[2:]} == worked  # the same lanes in both panels
        on_scene = [p for p in ax.patches if _gid(p).startswith("on_scene|")]
        spans = [(_gid(p).split("|")[1], p.get_x(), p.get_x() + p.get_width()) for p in on_scene]
        events = log[log["policy"] == policy]
        arrived = events[events["kind"] == "arrived"]
        cleared = events[events["kind"] == "cleared"]
        assert len(arrived) == len(cleared) == len(spans) > 0, policy
        for unit, t_in in zip(arrived["unit"], arrived["t_s"] - START_S, strict=True):
            t_out = cleared.loc[cleared["unit"] == unit, "t_s"] - START_S  # each bar: arrived -> cleared
            assert any(
                u == unit and math.isclose(a, t_in) and (t_out - b).abs().min() < 1e-6 for u, a, b in spans
            ), (policy, unit)
    plt.close(fig)


def test_the_incidents_shown_are_the_scripted_ones_or_those_asked_for():
    assert shown_incidents(INCIDENTS) == {0: "I1"}
    assert shown_incidents(INCIDENTS.drop(columns="label")) == {0: "#0", 1: "#1"}  # a plain model run
    assert shown_incidents(INCIDENTS, ["I1", 1]) == {0: "I1", 1: "#1"}
    with pytest.raises(ValueError, match=r"lacks: \['I9'\]"):
        shown_incidents(INCIDENTS, ["I9"])


def test_a_cross_district_incident_marks_when_its_stations_were_coordinated():
    """The moment the two stations are coordinated (the log's first ``coordinated``), by the county centre
    in one arm and by phone in the other, is marked on the incident's row with its time from the alarm."""
    from sim.drill.catalogue import figure_labels

    log = _log(TWO)
    rows = [
        (START_S + 220, "coordinated", 0, "", "", 0, "county:S1+S2", math.nan, "echelon_135", 0),
        (START_S + 400, "coordinated", 0, "", "", 0, "phone:S1+S2", math.nan, "echelon_open", 0),
    ]
    log = pd.concat([log, pd.DataFrame(rows, columns=log.columns)]).sort_values("t_s", kind="stable")
    for lang, county, phone in (
        ("en", "coordinated via county centre, 2 min", "coordinated by phone, 5 min"),
        ("zh", "经县指挥中心协调，2分钟", "两所电话协调，5分钟"),
    ):
        fig = timeline_figure(log, INCIDENTS, start_s=START_S, labels=figure_labels(lang, "timeline"))
        for ax, by, note, at in ((fig.axes[0], "county", county, 220), (fig.axes[1], "phone", phone, 400)):
            (mark,) = [line for line in ax.lines if _gid(line).startswith("coordinated|")]
            assert _gid(mark) == f"coordinated|I1|{by}" and mark.get_xdata()[0] == at
            notes = [t.get_text() for t in ax.texts if _gid(t) == f"note|coordinated|{by}"]
            assert notes == [note], (lang, notes)
        legend = [t.get_text() for t in fig.legends[0].get_texts()] if fig.legends else []
        assert figure_labels(lang, "timeline")["legend_coordinated"] in legend
        plt.close(fig)
    fig = _figure(ONE)  # no coordination logged: no mark
    assert not [line for line in fig.axes[0].lines if _gid(line).startswith("coordinated|")]
    plt.close(fig)
