"""A drill scenario: metadata, objectives with targets, timed injects and the trainees' decisions, as data.

A scenario is a YAML file in ``scenarios/`` (or anywhere, given by path), read safely and checked field by
field: an unknown field, a time out of order, an inject that lacks what its type needs, or one that names
an incident the scenario never opens is refused with one line naming the file, the inject and the field.
What only the site can tell (does enterprise E0412 exist? is there a road called "Yushan Bridge"?) is
checked when the drill is resolved against its site (sim/drill/resolve.py).

Times are drill times from the start (``"mm:ss"``, ``"hh:mm:ss"`` or seconds); ``start`` is the clock time
the drill begins at (shifts and the hour of day follow it).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from sim.config import PROJECT_DIR, Reader, read_typed
from sim.errors import ScenarioError

SCENARIO_DIR = PROJECT_DIR / "scenarios"
LANGS = ("en", "zh")

InjectType = Literal[
    "incident",
    "second_alarm",
    "terminal_offline",
    "terminal_online",
    "road_closed",
    "road_reopened",
    "drones_grounded",
    "drones_flying",
    "unit_unavailable",
    "unit_back",
    "task_order",
    "background",
]
INJECT_TYPES: tuple[str, ...] = InjectType.__args__  # type: ignore[attr-defined]

# What each inject type must name, and what else it may carry (beyond the MSEL fields every inject has).
NEEDS: dict[str, tuple[str, ...]] = {
    "incident": ("incident", "kind"),
    "second_alarm": ("incident",),
    "terminal_offline": ("enterprise",),
    "terminal_online": ("enterprise",),
    "road_closed": ("road",),
    "road_reopened": ("road",),
    "drones_grounded": (),
    "drones_flying": (),
    "unit_unavailable": ("unit",),
    "unit_back": ("unit",),
    "task_order": (),
    "background": ("rate_multiplier", "until"),
}
MAY: dict[str, tuple[str, ...]] = {
    "incident": ("enterprise", "zone", "enterprise_kind", "place", "cross_district"),
    "second_alarm": ("station", "channel"),
    "task_order": ("enterprises", "zone", "guards_extra", "until"),
}
SPECIFIC = ("incident", "kind", "enterprise", "zone", "enterprise_kind", "place", "cross_district", "station",
            "channel", "road", "unit", "enterprises", "guards_extra", "rate_multiplier", "until")  # fmt: skip

Text = str | dict[str, str]  # the same words in every language, or one per language: {en: ..., zh: ...}
INJECT_TEXTS = ("delivery", "sender", "receiver", "message", "expected_action")  # an inject's Text fields
Clock = str | float  # "hh:mm:ss", "mm:ss" or seconds


@dataclass(frozen=True)
class Objective:
    """What the drill tests, measured from the log and rated P/S/M/U (sim/drill/objectives.py).

    measure ``arrival``: the first unit of ``unit_kind`` on scene at ``incident`` within ``target_s`` of
    ``count_from`` (the alarm or the incident); ``incident: "*"`` asks it of every incident of the drill, met
    for at least ``share`` of them. ``outcome``: the incident ends as ``expect`` (e.g. intercepted, calmed,
    contained). ``coordinated``: a cross-district incident's two stations coordinated within ``target_s`` of
    the alarm. ``detected``: someone (``by``: drone, staff, passerby, or anyone) noticed it within
    ``target_s`` of its start."""

    id: str
    text: Text
    measure: Literal["arrival", "outcome", "coordinated", "detected"]
    incident: str
    unit_kind: str = ""
    count_from: Literal["alarm", "incident"] = "alarm"
    target_s: float | None = None
    share: float = 1.0
    expect: str = ""
    by: str = ""


@dataclass(frozen=True)
class Inject:
    """One MSEL line: when, what, how it is delivered, and what the players are expected to do.

    Type-specific fields (``NEEDS``/``MAY``): an incident names its label, kind and where (an enterprise id,
    the enterprise of a ``zone`` nearest its middle, optionally of an ``enterprise_kind``, or a watched
    ``place``); a road closure names the road as the map does; a unit inject names the unit's id."""

    at: Clock
    type: InjectType
    seq: int = 0  # MSEL sequence number; 0: numbered in order
    incident: str = ""
    kind: str = ""
    enterprise: str = ""
    zone: str = ""
    enterprise_kind: str = ""
    place: str = ""
    cross_district: bool = False
    station: str = ""
    channel: Literal["one_key", "call_110", ""] = ""
    road: str = ""
    unit: str = ""
    enterprises: list[str] = field(default_factory=list)
    guards_extra: int = 0
    rate_multiplier: float = 0.0
    until: Clock = ""
    delivery: Text = ""  # how the inject reaches the players: one-key terminal, phone, radio, video...
    sender: Text = ""  # MSEL "from"
    receiver: Text = ""  # MSEL "to"
    message: Text = ""
    expected_action: Text = ""
    objective: str = ""  # the objective this inject tests


@dataclass(frozen=True)
class Decision:
    """What the trainees chose at a decision point; the replay follows it and the report compares it with
    the policy's own choice. ``dispatch``: which unit answers tier ``tier`` (its name, e.g. echelon);
    ``ask_county``: whether the county centre coordinates a cross-district incident (yes/no);
    ``launch_drone``: whether a docked drone flies overwatch (yes/no)."""

    incident: str
    point: Literal["dispatch", "ask_county", "launch_drone"]
    choice: str
    tier: str = ""
    note: Text = ""


@dataclass(frozen=True)
class Scenario:
    id: str
    title: Text
    objectives: list[Objective]
    injects: list[Inject]
    summary: Text = ""
    source: Text = ""  # where the case comes from (docs/domain.md)
    config: list[str] = field(default_factory=list)  # Hydra overrides the drill runs with (site, fleet...)
    policies: list[str] = field(default_factory=lambda: ["echelon_135"])
    start: Clock = "09:00:00"
    duration: Clock = "01:00:00"
    luck: Literal["median", "seed"] = "median"  # median: every delay at its median; seed: drawn
    rests_on: list[Text] = field(default_factory=list)  # the assumptions the objectives' results rest on
    decisions: list[Decision] = field(default_factory=list)
    path: str = ""  # the file it was read from (set by the loader)


def text(value: Text, lang: str) -> str:
    """A scenario text in ``lang``: its own translation, else English, else whatever it has."""
    if isinstance(value, str):
        return value
    return value.get(lang) or value.get("en") or next(iter(value.values()), "")


def seconds(value: Clock, where: str, fail) -> float:
    """Drill time as seconds: "hh:mm:ss", "mm:ss" or a number of seconds."""
    if isinstance(value, int | float):
        if value < 0:
            raise fail(where, f"a time >= 0, got {value!r}")
        return float(value)
    match = re.fullmatch(r"\s*(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)\s*", value)
    if not match or float(match.group(3)) >= 60 or (match.group(1) and int(match.group(2)) >= 60):
        raise fail(where, f"a time as hh:mm:ss, mm:ss or seconds, got {value!r}")
    hours, minutes, secs = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(secs)


def clock(t_s: float) -> str:
    """Seconds as hh:mm:ss (the way an MSEL writes times)."""
    whole = round(t_s)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _reader(name: str) -> Reader:
    return Reader(
        lambda key, why: ScenarioError(f"{name}: {key}: {why}"),
        lambda key, allowed: ScenarioError(f"{name}: unknown field '{key}'; allowed here: {allowed}"),
    )


def find_scenario(name_or_path: str) -> Path:
    """A shipped scenario's name (``xiushan_trade_secret_leak``) or a path to a YAML file."""
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ScenarioError(f"scenario file {path} not found")
        return path
    shipped = SCENARIO_DIR / f"{name_or_path}.yaml"
    if not shipped.is_file():
        names = ", ".join(shipped_names()) or "(none)"
        raise ScenarioError(
            f"scenario '{name_or_path}' not found: shipped scenarios are {names}, or give a path"
        )
    return shipped


def shipped_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def load_scenario(name_or_path: str) -> Scenario:
    path = find_scenario(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text; save the scenario as UTF-8") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ScenarioError(f"{path}: not valid YAML{where}: {getattr(err, 'problem', err)}") from None
    return scenario_from_dict(data, str(path))


def scenario_from_dict(data: Any, name: str) -> Scenario:
    """Validate a plain mapping (a YAML file's contents) into a Scenario; ``name`` names it in errors."""
    reader = _reader(name)
    if not isinstance(data, dict):
        raise ScenarioError(f"{name}: a scenario is a mapping of fields (id, title, objectives, injects...)")
    scenario = read_typed(Scenario, {k: v for k, v in data.items() if k != "path"}, "", reader)
    injects = [dataclasses.replace(inj, seq=inj.seq or k + 1) for k, inj in enumerate(scenario.injects)]
    scenario = dataclasses.replace(scenario, injects=injects, path=name)
    check(scenario, reader.bad)
    return scenario


def inject_where(k: int, inj: Inject) -> str:
    return f"injects[{k}] (seq {inj.seq}, {inj.type})"


def check(s: Scenario, fail) -> None:
    """What a scenario must say of itself, whatever its site: every check names the inject and field."""
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", s.id):
        raise fail("id", f"letters, digits, _ and - only (it names the results folder), got {s.id!r}")
    duration = seconds(s.duration, "duration", fail)
    start = seconds(s.start, "start", fail)
    if not 0 < duration <= 7 * 86_400:
        raise fail("duration", f"more than 0 and at most 7 days, got {s.duration!r}")
    if start >= 86_400:
        raise fail("start", f"a clock time before 24:00:00, got {s.start!r}")
    for key in ("title", "summary", "source"):
        _check_text(getattr(s, key), key, fail)
    if not s.injects:
        raise fail("injects", "at least one inject (an incident)")
    if not s.policies:
        raise fail("policies", "at least one policy")
    seqs = [inj.seq for inj in s.injects]
    twice = sorted({q for q in seqs if seqs.count(q) > 1})
    if twice:
        raise fail("injects", f"each seq once; seq {twice[0]} is used more than once")
    opened: set[str] = set()
    closed: set[str] = set()
    previous = 0.0
    for k, inj in enumerate(s.injects):
        where = inject_where(k, inj)
        at = seconds(inj.at, f"{where}.at", fail)
        if at < previous:
            raise fail(f"{where}.at", f"times in order: {inj.at!r} comes before the inject above it")
        if at > duration:
            raise fail(f"{where}.at", f"within the drill's duration {clock(duration)}, got {inj.at!r}")
        previous = at
        _check_inject(inj, where, at, duration, opened, closed, fail)
        for key in INJECT_TEXTS:
            _check_text(getattr(inj, key), f"{where}.{key}", fail)
    _check_objectives(s, opened, fail)
    for k, d in enumerate(s.decisions):
        where = f"decisions[{k}]"
        if d.incident not in opened:
            raise fail(
                f"{where}.incident", f"an incident the injects open ({_listed(opened)}), got {d.incident!r}"
            )
        if d.point == "dispatch" and not d.tier:
            raise fail(f"{where}.tier", "a dispatch decision names the tier it fills (e.g. echelon, police)")
        if d.point != "dispatch" and d.choice not in ("yes", "no"):
            raise fail(f"{where}.choice", f"yes or no for {d.point}, got {d.choice!r}")
        if d.point != "dispatch" and d.tier:
            raise fail(f"{where}.tier", f"only dispatch decisions name a tier, got {d.tier!r}")
    points = [(d.incident, d.point, d.tier) for d in s.decisions]
    twice = sorted({p for p in points if points.count(p) > 1})
    if twice:
        raise fail("decisions", f"one decision per point; {twice[0]} is decided more than once")


def _check_inject(inj: Inject, where: str, at: float, duration: float, opened, closed, fail) -> None:
    needs, may = NEEDS[inj.type], MAY.get(inj.type, ())
    for key in needs:
        if not getattr(inj, key):
            raise fail(f"{where}.{key}", f"{_a(inj.type)} inject needs '{key}'")
    default = {f.name: _default(f) for f in dataclasses.fields(Inject)}
    for key in SPECIFIC:
        if key not in needs and key not in may and getattr(inj, key) != default[key]:
            allowed = ", ".join((*needs, *may)) or "none"
            raise fail(f"{where}.{key}", f"not used by {_a(inj.type)} inject (its own fields: {allowed})")
    if inj.type == "incident":
        if inj.incident in opened:
            raise fail(f"{where}.incident", f"incident labels are unique; {inj.incident!r} is opened twice")
        opened.add(inj.incident)
        places = [k for k in ("enterprise", "zone", "place") if getattr(inj, k)]
        if len(places) != 1:
            raise fail(
                f"{where}.enterprise", "an incident is at one enterprise, zone or place: give exactly one"
            )
        if inj.enterprise_kind and not inj.zone:
            raise fail(f"{where}.enterprise_kind", "picks an enterprise in a zone: give zone too")
        if inj.cross_district and inj.place:
            raise fail(f"{where}.cross_district", "a cross-district incident is at an enterprise")
    elif inj.type == "second_alarm" and inj.incident not in opened:
        raise fail(f"{where}.incident", f"an incident opened above ({_listed(opened)}), got {inj.incident!r}")
    if inj.type == "road_closed":
        closed.add(inj.road.casefold())
    if inj.type == "road_reopened" and inj.road.casefold() not in closed:
        raise fail(f"{where}.road", f"a road closed above, got {inj.road!r}")
    if inj.type == "background":
        until = seconds(inj.until, f"{where}.until", fail)
        if not at < until <= duration:
            raise fail(
                f"{where}.until", f"after 'at' and within the duration {clock(duration)}, got {inj.until!r}"
            )
        if inj.rate_multiplier <= 0:
            raise fail(
                f"{where}.rate_multiplier",
                f"a positive multiple of the normal rates, got {inj.rate_multiplier!r}",
            )
    if inj.type == "task_order":
        if inj.until and not at < seconds(inj.until, f"{where}.until", fail) <= duration:
            raise fail(f"{where}.until", f"after 'at' and within the duration, got {inj.until!r}")
        if inj.guards_extra < 0:
            raise fail(f"{where}.guards_extra", f"a whole number >= 0, got {inj.guards_extra!r}")
        if inj.enterprises and inj.zone:
            raise fail(f"{where}.zone", "a task order goes to listed enterprises or to a zone, not both")


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _default(f: dataclasses.Field) -> Any:
    """A field's default value (MISSING for a required one)."""
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _check_objectives(s: Scenario, opened: set[str], fail) -> None:
    ids = [o.id for o in s.objectives]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise fail("objectives", f"objective ids are unique; {twice[0]!r} is used twice")
    for k, o in enumerate(s.objectives):
        where = f"objectives[{k}] ({o.id})"
        _check_text(o.text, f"{where}.text", fail)
        if o.incident != "*" and o.incident not in opened:
            raise fail(
                f"{where}.incident",
                f"an incident the injects open ({_listed(opened)}) or '*', got {o.incident!r}",
            )
        if o.measure in ("arrival", "coordinated", "detected") and (o.target_s is None or o.target_s <= 0):
            raise fail(f"{where}.target_s", f"{_a(o.measure)} objective needs a positive target in seconds")
        if o.measure == "arrival" and not o.unit_kind:
            raise fail(f"{where}.unit_kind", "an arrival objective names the unit kind (echelon, police...)")
        if o.measure == "outcome" and not o.expect:
            raise fail(
                f"{where}.expect", "an outcome objective names the outcome expected (e.g. intercepted)"
            )
        if not 0 < o.share <= 1:
            raise fail(f"{where}.share", f"a share in (0, 1], got {o.share!r}")
    known = set(ids)
    for k, inj in enumerate(s.injects):
        if inj.objective and inj.objective not in known:
            raise fail(
                f"{inject_where(k, inj)}.objective",
                f"an objective id ({_listed(known)}), got {inj.objective!r}",
            )


def _check_text(value: Text, where: str, fail) -> None:
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(LANGS))
        if unknown:
            raise fail(where, f"languages are {', '.join(LANGS)}, got {unknown[0]!r}")


def _listed(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "none yet"


def scenario_to_dict(s: Scenario) -> dict[str, Any]:
    """The scenario as plain data (for YAML), leaving out fields at their defaults so a file stays short."""

    def plain(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            out = {}
            for f in dataclasses.fields(obj):
                value = getattr(obj, f.name)
                default = _default(f)
                if f.name == "path" or (value == default and f.name not in ("at", "type")):
                    continue
                out[f.name] = plain(value)
            return out
        if isinstance(obj, list):
            return [plain(v) for v in obj]
        if isinstance(obj, dict):
            return {k: plain(v) for k, v in obj.items()}
        return obj

    return plain(s)


def dump_scenario(s: Scenario) -> str:
    return yaml.safe_dump(scenario_to_dict(s), allow_unicode=True, sort_keys=False, width=110)


def load_decisions(s: Scenario, path_text: str) -> Scenario:
    """The trainees' decisions from their own file (a YAML list, or a mapping with ``decisions:``) in place
    of the scenario's; checked against the scenario as if they were written in it."""
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise ScenarioError(f"decisions file {path} not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        raise ScenarioError(f"{path}: not a UTF-8 YAML file ({type(err).__name__})") from None
    if isinstance(data, dict) and set(data) == {"decisions"}:
        data = data["decisions"]
    if not isinstance(data, list):
        raise ScenarioError(f"{path}: a list of decisions (incident, point, choice, tier, note)")
    merged = {**scenario_to_dict(s), "decisions": data}
    try:
        return dataclasses.replace(scenario_from_dict(merged, str(path)), path=s.path)
    except ScenarioError as err:
        raise ScenarioError(f"{err} (checked against {s.path})") from None
