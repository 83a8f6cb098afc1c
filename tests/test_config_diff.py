"""Settings that differ from the defaults, and the short labels result folders are named with."""

from __future__ import annotations

import re

import pytest
import yaml

from sim.cli import SITE_IN_NAME, _settings, _stem, load_configs, main
from sim.config import load_config, reference_config
from sim.config_diff import LABEL_MAX, Setting, changed_settings, merge_settings, short_label

SAFE = re.compile(r"[\w=+.\-]*")


def settings_of(overrides: list[str], vary: tuple[str, ...] = ()) -> list[Setting]:
    cfg = load_config(overrides)
    return changed_settings(cfg, reference_config(), reference_config(cfg.choices), vary=vary)


def comparison_settings(overrides: list[str]) -> list[Setting]:
    """As ``echelon compare`` finds them: one config per policy of run.policies, the policy varied."""
    base, _ = load_configs(overrides)
    cfgs = dict(zip(base.run.policies, load_configs(overrides, base.run.policies)[1], strict=True))
    return _settings(cfgs, vary=("policy",), ignore=("ladder",))


def plain(settings: list[Setting]) -> list[tuple]:
    return [(s.key, s.default, s.value) for s in settings]


EXAMPLES = {  # override -> (the one setting it changes, its label)
    "policy.coordination=strict": (("policy.coordination", "county", "strict"), "coordination=strict"),
    "incidents=festival_restart": (
        ("incidents", "default", "festival_restart"),
        "incidents=festival_restart",
    ),
    "fleet.echelons_per_grid=2": (("fleet.echelons_per_grid", 1, 2), "echelons_per_grid=2"),
}


@pytest.mark.parametrize("override", list(EXAMPLES))
def test_each_example_override_is_exactly_one_setting_with_its_own_label(override):
    setting, label = EXAMPLES[override]
    found = settings_of([override])
    assert plain(found) == [setting]
    assert short_label(found) == label


def test_the_three_examples_have_three_different_labels():
    labels = {short_label(settings_of([o])) for o in EXAMPLES}
    assert len(labels) == 3


def test_no_override_changes_nothing():
    assert settings_of([]) == []
    assert short_label([]) == ""
    assert comparison_settings([]) == []


def test_keys_inside_a_changed_group_are_not_listed_but_an_override_on_top_of_it_is():
    # festival_restart sets rate_multiplier 1.8: the group's line says so, not one line per key in the file
    assert plain(settings_of(["incidents=festival_restart", "fleet.echelons_per_grid=2"])) == [
        ("incidents", "default", "festival_restart"),
        ("fleet.echelons_per_grid", 1, 2),
    ]
    assert short_label(settings_of(["incidents=festival_restart", "fleet.echelons_per_grid=2"])) == (
        "incidents=festival_restart+echelons_per_grid=2"
    )
    # stress sets the multiplier to 60; a user's 100 on top of it is a setting of its own, against 60
    assert plain(settings_of(["incidents=stress", "incidents.rate_multiplier=100"])) == [
        ("incidents", "default", "stress"),
        ("incidents.rate_multiplier", 60.0, 100.0),
    ]
    # without a reference config, keys inside a changed group are left out
    cfg = load_config(["incidents=stress", "incidents.rate_multiplier=100"])
    assert plain(changed_settings(cfg, reference_config())) == [("incidents", "default", "stress")]


def test_where_files_go_is_not_a_setting(tmp_path):
    assert settings_of([f"results_dir={tmp_path}", f"cache_dir={tmp_path}/c"]) == []


def test_a_comparisons_policy_choice_is_not_listed_but_a_policy_key_is():
    assert plain(settings_of(["policy=echelon_open"])) == [("policy", "echelon_135", "echelon_open")]
    assert settings_of(["policy=echelon_open"], vary=("policy",)) == []
    assert comparison_settings(["policy=echelon_open"]) == []  # compare sets each policy itself
    (coordination,) = comparison_settings(["policy.coordination=strict"])
    # police_only is strict already: the setting changes the other two policies only, and says so
    assert (coordination.key, coordination.default, coordination.value) == (
        "policy.coordination",
        "county",
        "strict",
    )
    assert coordination.policies == ("echelon_135", "echelon_open")
    assert coordination.as_dict() == {
        "key": "policy.coordination",
        "default": "county",
        "value": "strict",
        "policies": ["echelon_135", "echelon_open"],
    }
    # run.policies and run.baseline are what a comparison compares: listed, but not in the folder's name
    found = comparison_settings(
        ["incidents=stress", "run.policies=[echelon_135,echelon_open]", "run.baseline=echelon_135"]
    )
    assert [s.key for s in found] == ["incidents", "run.policies", "run.baseline"]
    assert _stem("compare", "daishan", settings=found, skip=("run.policies", "run.baseline")) == (
        "compare-daishan-incidents=stress"
    )


def test_merged_settings_shared_by_every_config_name_no_policy():
    a, b = Setting("fleet.echelons_per_grid", 1, 2), Setting("policy.alarm", "one_key", "call_110")
    group = Setting("policy", "echelon_135", "echelon_open")
    merged = merge_settings({"x": [a, b, group], "y": [a]})
    # config order (group choices first, then policy before fleet); a group choice names no policy
    assert merged == [group, Setting(b.key, b.default, b.value, ("x",)), a]


def test_the_site_is_left_out_of_the_label_the_folder_names_it_already():
    found = settings_of(["site=helsinki", "grid.cell_m=500"])
    assert plain(found) == [("site", "daishan", "helsinki"), ("grid.cell_m", 1000.0, 500.0)]
    assert short_label(found, skip=SITE_IN_NAME) == "cell_m=500"


def test_a_deep_key_keeps_its_parent_in_the_label():
    found = settings_of(["delays.mobilise_echelon.dist=fixed", "++delays.mobilise_echelon.value_s=90"])
    assert short_label(found).startswith("mobilise_echelon.dist=fixed")


def test_long_values_give_a_short_label_with_a_hash_and_never_the_same_label():
    one = settings_of(["site.label=" + "a" * 300])
    two = settings_of(["site.label=" + "a" * 299 + "b"])
    labels = [short_label(one), short_label(two)]
    assert all(len(label) <= LABEL_MAX for label in labels)
    assert labels[0] != labels[1]
    assert all(SAFE.fullmatch(label) for label in labels)
    # several settings: whole ones while they fit, then the hash of them all
    many = settings_of(["fleet.echelons_per_grid=2", "policy.coordination=strict", "run.days=7", "seed=5"])
    label = short_label(many)
    assert len(label) <= LABEL_MAX and re.fullmatch(r"[\w=+.]+-[0-9a-f]{6}", label), label


def test_labels_keep_letters_of_any_script_and_drop_what_a_file_name_cannot_hold():
    found = settings_of(["site.label=舟山 (东区)/岱山's"])
    label = short_label(found)
    assert label == "label=舟山-东区-岱山-s"
    assert SAFE.fullmatch(label)


def test_compare_names_its_folder_and_writes_the_settings_in_config_yaml(tmp_path, cache_dir):
    args = ["compare", "policy.coordination=strict", "run.days=2", "run.replications=1"]
    assert main([*args, f"results_dir={tmp_path}", f"cache_dir={cache_dir}"]) == 0
    (out,) = tmp_path.iterdir()
    assert re.fullmatch(r"compare-daishan-coordination=strict\+days=2\+replications=1-\d{8}-\d{6}", out.name)
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert next(iter(config)) == "changed_settings"
    assert {s["key"] for s in config["changed_settings"]} == {
        "policy.coordination",
        "run.days",
        "run.replications",
    }
    assert {"police_only", "echelon_135", "echelon_open"} <= set(config)
