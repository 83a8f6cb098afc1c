"""A trainer's scenario file: every mistake refused in one line naming the scenario, the inject and the
field (see tests/bad_input.py). Each bad file is the shipped Xiushan scenario with one thing changed."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from bad_input import Bad, refuse

from sim.drill.scenario import SCENARIO_DIR, load_scenario, scenario_from_dict, shipped_names
from sim.errors import ScenarioError

BASE = yaml.safe_load((SCENARIO_DIR / "xiushan_trade_secret_leak.yaml").read_text(encoding="utf-8"))
INCIDENT = BASE["injects"][0]


def scenario(change, name: str = "drill.yaml"):
    """A maker writing the Xiushan scenario, changed by ``change(data)``, into the case's folder."""

    def make(folder: Path) -> None:
        data = copy.deepcopy(BASE)
        change(data)
        (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    return make


def add(*injects: dict):
    return lambda d: d["injects"].extend(copy.deepcopy(list(injects)))


def setting(key: str, value):
    return lambda d: d.__setitem__(key, value)


def inject0(key: str, value):
    return lambda d: d["injects"][0].__setitem__(key, value)


def drop0(key: str):
    return lambda d: d["injects"][0].pop(key)


def D(*args, **kwargs) -> Bad:
    return Bad(*args, command="drill", **kwargs)


FILE = ("scenario={tmp}/drill.yaml",)
CLOSE_ROAD = {"at": "05:00", "type": "road_closed", "road": "Yushan Bridge"}

CASES = [
    D(
        "no scenario",
        (),
        "echelon drill needs scenario=<name or file.yaml>; shipped scenarios: cross_district",
    ),
    D("unknown scenario", ("scenario=xiushan",), "scenario 'xiushan' not found: shipped scenarios are"),
    D("missing file", ("scenario={tmp}/nope.yaml",), "nope.yaml not found"),
    D("bad lang", ("scenario=xiushan_trade_secret_leak", "lang=fr"), "lang is en or zh, got 'fr'"),
    D(
        "not yaml",
        FILE,
        "not valid YAML (line 2, column 1)",
        make=lambda f: (f / "drill.yaml").write_text("a: [b\n"),
    ),
    D(
        "a list",
        FILE,
        "a scenario is a mapping of fields",
        make=lambda f: (f / "drill.yaml").write_text("- 1\n"),
    ),
    D(
        "unknown field",
        FILE,
        "drill.yaml: unknown field 'wind'; allowed here:",
        make=scenario(setting("wind", 3)),
    ),
    D(
        "unknown inject field",
        FILE,
        "unknown field 'injects[0].speed'; allowed here: at, ",
        make=scenario(inject0("speed", 3)),
    ),
    D(
        "unknown inject type",
        FILE,
        "injects[0].type: allowed values are 'incident'",
        make=scenario(inject0("type", "earthquake")),
    ),
    D(
        "bad time",
        FILE,
        "injects[0] (seq 1, incident).at: a time as hh:mm:ss, mm:ss or seconds, got '1:75'",
        make=scenario(inject0("at", "1:75")),
    ),
    D(
        "times out of order",
        FILE,
        "injects[2] (seq 3, road_reopened).at: times in order: '04:00' comes before the inject above it",
        make=scenario(add(CLOSE_ROAD, {"at": "04:00", "type": "road_reopened", "road": "Yushan Bridge"})),
    ),
    D(
        "after the end",
        FILE,
        "injects[1] (seq 2, road_closed).at: within the drill's duration 01:00:00, got '02:00:00'",
        make=scenario(add({**CLOSE_ROAD, "at": "02:00:00"})),
    ),
    D(
        "incident without kind",
        FILE,
        "injects[0] (seq 1, incident).kind: an incident inject needs 'kind'",
        make=scenario(drop0("kind")),
    ),
    D(
        "a field of another type",
        FILE,
        "injects[0] (seq 1, incident).road: not used by an incident inject (its own fields: incident, kind,",
        make=scenario(inject0("road", "Yushan Bridge")),
    ),
    D(
        "two places",
        FILE,
        "injects[0] (seq 1, incident).enterprise: an incident is at one enterprise, zone or place",
        make=scenario(inject0("enterprise", "E0001")),
    ),
    D(
        "second alarm of nothing",
        FILE,
        "injects[1] (seq 2, second_alarm).incident: an incident opened above (I1), got 'I9'",
        make=scenario(add({"at": "01:00", "type": "second_alarm", "incident": "I9"})),
    ),
    D(
        "reopened never closed",
        FILE,
        "injects[1] (seq 2, road_reopened).road: a road closed above, got 'Yushan Bridge'",
        make=scenario(add({"at": "05:00", "type": "road_reopened", "road": "Yushan Bridge"})),
    ),
    D(
        "objective of no incident",
        FILE,
        "objectives[0] (O1).incident: an incident the injects open (I1) or '*', got 'I2'",
        make=scenario(lambda d: d["objectives"][0].__setitem__("incident", "I2")),
    ),
    D(
        "unknown language",
        FILE,
        "title: languages are en, zh, got 'fr'",
        make=scenario(setting("title", {"en": "x", "fr": "y"})),
    ),
    D(
        "unknown language of an inject's sender",
        FILE,
        "injects[0] (seq 1, incident).sender: languages are en, zh, got 'fr'",
        make=scenario(inject0("sender", {"en": "guard", "fr": "garde"})),
    ),
    D(
        "decision yes or no",
        FILE,
        "decisions[0].choice: yes or no for launch_drone, got 'maybe'",
        make=scenario(setting("decisions", [{"incident": "I1", "point": "launch_drone", "choice": "maybe"}])),
    ),
    # Only the site can tell these: checked once the site is built, still before anything is simulated.
    D(
        "unknown kind",
        FILE,
        "injects[0] (seq 1, incident).kind: incident kinds are theft, data_leak,",
        make=scenario(inject0("kind", "arson")),
    ),
    D(
        "unknown zone",
        FILE,
        "injects[0] (seq 1, incident).zone: no zone 'Xiushan Park' on this site (4 zones); did you mean "
        "Xiushan Industrial Park?",
        make=scenario(inject0("zone", "Xiushan Park")),
    ),
    D(
        "unknown unit",
        FILE,
        "injects[1] (seq 2, unit_unavailable).unit: no unit 'P-S9-1' on this site",
        make=scenario(add({"at": "01:00", "type": "unit_unavailable", "unit": "P-S9-1"})),
    ),
    D(
        "unknown road",
        FILE,
        "injects[1] (seq 2, road_closed).road:",
        make=scenario(add({**CLOSE_ROAD, "road": "Yushan Brige"})),
    ),
    D(
        "unknown policy tier",
        FILE,
        "decisions[0].tier: tiers of the policy are own_security, echelon, police, got 'fire'",
        make=scenario(
            setting(
                "decisions", [{"incident": "I1", "point": "dispatch", "tier": "fire", "choice": "P-S5-1"}]
            )
        ),
    ),
    D(
        "bad decisions file",
        ("scenario=xiushan_trade_secret_leak", "decisions={tmp}/d.yaml"),
        "d.yaml: decisions[0].choice: yes or no for ask_county, got 'later' (checked against",
        make=lambda f: (f / "d.yaml").write_text("- {incident: I1, point: ask_county, choice: later}\n"),
    ),
    D(  # checked on the site: still the decisions file named, where the trainer has to look
        "unknown unit in a decisions file",
        ("scenario=xiushan_trade_secret_leak", "decisions={tmp}/d.yaml"),
        "d.yaml: decisions[0].choice: no unit 'E-NOPE-1' on this site",
        make=lambda f: (f / "d.yaml").write_text(
            "- {incident: I1, point: dispatch, tier: echelon, choice: E-NOPE-1}\n"
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_scenarios_are_refused_in_one_line(case, tmp_path, cache_dir, capsys):
    refuse(case, tmp_path, cache_dir, capsys)


@pytest.mark.parametrize("name", shipped_names())
def test_every_shipped_scenario_loads_and_round_trips_through_yaml(name):
    from sim.drill.scenario import dump_scenario

    s = load_scenario(name)
    again = scenario_from_dict(yaml.safe_load(dump_scenario(s)), s.path)
    assert again == s


def test_seq_numbers_are_given_in_order_and_must_be_unique():
    data = copy.deepcopy(BASE)
    data["injects"].append({**CLOSE_ROAD})
    assert [i.seq for i in scenario_from_dict(data, "x").injects] == [1, 2]
    data["injects"][1]["seq"] = 1
    with pytest.raises(ScenarioError, match="each seq once; seq 1 is used more than once"):
        scenario_from_dict(data, "x")


def test_shipped_scenarios_are_the_cases_of_the_report():
    assert set(shipped_names()) >= {
        "xiushan_trade_secret_leak",
        "cross_district_logistics_dispute",
        "yushan_chemical_leak_bridge_closed",
        "liuheng_illegal_drone",
        "festival_restart_morning",
        "fishing_port_drone_patrol",
        "night_theft_terminal_offline",
    }
    assert INCIDENT["type"] == "incident"
