"""Configuration: every shipped file composes, unknown keys and bad values are refused by name."""

from __future__ import annotations

import pytest

from sim.config import CONF_DIR, GROUPS, load_config
from sim.errors import ConfigError


def test_default_config_is_daishan_with_a_fixed_seed():
    cfg = load_config()
    assert cfg.site.name == "daishan"
    assert cfg.site.synthetic
    assert cfg.seed == 20251101
    assert cfg.choices["site"] == "daishan"


# Options that are templates: they need the user's path or place before they validate.
NEEDS = {
    ("site", "file"): ["site.path=x.osm"],
    ("site", "place"): ["site.place=Daishan", "site.online=true"],
    ("grid", "file"): ["grid.path=g.geojson"],
}


@pytest.mark.parametrize("group", GROUPS)
def test_every_shipped_config_file_composes_and_validates(group):
    options = sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
    assert options, group
    for option in options:
        cfg = load_config([f"{group}={option}", *NEEDS.get((group, option), [])])
        assert cfg.choices[group] == option


def test_override_reaches_nested_key():
    assert load_config(["grid.cell_m=500", "network.speeds_kph.primary=45"]).grid.cell_m == 500.0


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["site=atlantis"], r"unknown site .*allowed: daishan, file, helsinki, place"),
        (["+bogus=1"], r"unknown config key 'bogus' \(conf/config.yaml"),
        (["+site.bogus=1"], r"unknown config key 'site.bogus' \(conf/site/daishan.yaml"),
        (["bogus=1"], r"unknown config key 'bogus'; allowed here: cache_dir"),
        (
            ["network.speeds_kph.primary=-5"],
            r"'network.speeds_kph.primary' \(conf/network/china_speeds.yaml.*positive",
        ),
        (["network.fallback_speed_kph=0"], r"network.fallback_speed_kph.*positive"),
        (["seed=abc"], r"'seed'.*whole number"),
        (["seed=-1"], r"'seed'.*non-negative"),
        (["grid.cell_m=10"], r"grid.cell_m.*from 50 to 100,000 m"),
        (["site=file"], r"site.path.*needs a path"),
        (["site.source=carrier_pigeon"], r"site.source.*allowed values are"),
        (["site=helsinki", "site.stations.0.lon=500"], r"site.stations\[0\].lon.*longitude"),
        (["enterprises.terminal_online_mean=1.5"], r"terminal_online_mean.*probability"),
    ],
)
def test_bad_config_is_refused_naming_the_key(overrides, match):
    with pytest.raises(ConfigError, match=match):
        load_config(overrides)


def test_error_messages_are_one_line():
    with pytest.raises(ConfigError) as info:
        load_config(["site=atlantis"])
    assert "\n" not in str(info.value)


def _typed(value):
    """A plain config with every value's type: equality that 1 == 1.0 or '1' does not fool."""
    if isinstance(value, dict):
        return ("dict", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, value)


def test_a_kept_composition_is_the_composition_types_and_order_included(tmp_path, monkeypatch):
    from sim import config

    monkeypatch.setattr(config, "COMPOSE_CACHE", tmp_path)
    monkeypatch.setattr(config, "_COMPOSED", {})
    cases = [[f"{g}={p.stem}"] for g in GROUPS for p in sorted((CONF_DIR / g).glob("*.yaml"))]
    cases += [["seed=7", "grid.cell_m=500", "isochrones_s=[60,180]", "site.name=岱山"]]
    for overrides in cases:
        fresh = config._compose_with_retries(overrides)
        config.compose_dict(overrides)  # composed and kept
        config._COMPOSED.clear()
        assert config._kept_composition(config._conf_fingerprint(), overrides) is not None
        assert _typed(list(config.compose_dict(overrides))) == _typed(list(fresh)), overrides


def test_a_damaged_kept_composition_is_composed_again(tmp_path, monkeypatch):
    from sim import config

    monkeypatch.setattr(config, "COMPOSE_CACHE", tmp_path)
    monkeypatch.setattr(config, "_COMPOSED", {})
    overrides = ["seed=11"]
    path = config._kept_path(config._conf_fingerprint(), overrides)
    tmp_path.mkdir(exist_ok=True)
    for damaged in ('[{"seed": 1}', "[1, 2]", ""):
        path.write_text(damaged)
        config._COMPOSED.clear()
        assert load_config(overrides).seed == 11
    assert config._kept_path(config._conf_fingerprint(), ["seed=${oc.env:SEED}"]) is None


@pytest.mark.parametrize(
    "overrides",
    [
        ["results_dir=/tmp/ab", "cache_dir=/tmp/舟山/c", "seed=3"],
        ["results_dir=/a", "results_dir=/b"],
        ["results_dir=/tmp/a b"],
        ["cache_dir='/x/y'"],
        ["results_dir=out"],
    ],
)
def test_output_folders_set_after_composing_equal_hydras(overrides, tmp_path, monkeypatch):
    """results_dir and cache_dir with a plain path are set after composing (one kept composition serves
    every folder); the config is the one Hydra composes with them, and other forms are left to Hydra."""
    from sim import config

    monkeypatch.setattr(config, "COMPOSE_CACHE", tmp_path)
    monkeypatch.setattr(config, "_COMPOSED", {})
    fresh = config._compose_with_retries(overrides)
    assert _typed(list(config.compose_dict(overrides))) == _typed(list(fresh))
