"""The ladder: rungs switch on exactly their parts, rung 0 is the baseline, steps and Shapley values add up
to the total (exactly, on random tables and on a real run), intervals stay honest, the command writes its
files."""

from __future__ import annotations

import dataclasses
import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis import ladder
from sim.cli import main
from sim.config import load_config
from sim.errors import ConfigError
from sim.experiment import compare
from sim.ladder import run_ladder, rung_configs

ALL = list(ladder.PARTS)


@pytest.fixture(scope="module")
def policies():
    return {p: load_config([f"policy={p}"]).policy for p in ("police_only", "echelon_135", "echelon_open")}


# ------------------------------------------------------------------------------------------------ config


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (["ladder.steps=[]"], r"'ladder.steps'.*one_key, guards, echelons, drones, county"),
        (["ladder.steps=[one_key,boats]"], r"'ladder.steps'.*parts are one_key, guards.*\['boats'\]"),
        (["ladder.steps=[guards,guards]"], r"'ladder.steps'.*each part once.*one_key, guards, echelons"),
        (["ladder.metrics=[speed_of_light]"], r"'ladder.metrics\[0\]'.*headline metric name"),
        (["ladder.metrics=[escape_rate_ufo]"], r"'ladder.metrics\[0\]'.*incident kind must be one of"),
        (["ladder.metrics=[]"], r"'ladder.metrics'.*at least one"),
        (["ladder.shapley=maybe"], r"'ladder.shapley'.*true or false"),
    ],
)
def test_bad_ladder_config_is_refused_naming_the_key(overrides, match):
    with pytest.raises(ConfigError, match=match):
        load_config(overrides)


def test_steps_reorder_as_a_hydra_override_and_defaults_are_known_metrics():
    cfg = load_config(["ladder.steps=[guards,one_key,echelons,drones,county]"])
    assert cfg.ladder.steps == ["guards", "one_key", "echelons", "drones", "county"]
    default = load_config().ladder
    assert default.steps == ALL and default.shapley and "escape_rate_theft" in default.metrics


# ------------------------------------------------------------------------------------------------- rungs


def test_rung_zero_is_the_baseline_and_all_parts_the_target(policies):
    target, base = policies["echelon_135"], policies["police_only"]
    zero = ladder.rung_policy(target, base, set())
    assert zero.name == "echelon_135"  # the target's dispatch function, serving police tiers only
    assert [t.members for t in zero.tiers] == ["police_station"]
    assert (zero.alarm, zero.coordination, zero.drone_patrols, zero.drone_overwatch) == (
        "call_110",
        "strict",
        False,
        False,
    )
    assert ladder.rung_zero_differences(target, base) == []
    assert ladder.rung_policy(target, base, ALL) == target


@pytest.mark.parametrize(
    ("parts", "alarm", "coordination", "drones", "tiers"),
    [
        ({"one_key"}, "one_key", "strict", False, ["police"]),
        ({"guards"}, "call_110", "strict", False, ["own_security", "police"]),
        ({"echelons"}, "call_110", "strict", False, ["echelon", "police"]),
        ({"drones"}, "call_110", "strict", True, ["police"]),
        ({"county"}, "call_110", "county", False, ["police"]),
        ({"echelons", "guards"}, "call_110", "strict", False, ["own_security", "echelon", "police"]),
    ],
)
def test_each_part_switches_on_only_its_own_settings(policies, parts, alarm, coordination, drones, tiers):
    rung = ladder.rung_policy(policies["echelon_135"], policies["police_only"], parts)
    assert (rung.alarm, rung.coordination) == (alarm, coordination)
    assert rung.drone_patrols == rung.drone_overwatch == drones
    assert [t.name for t in rung.tiers] == tiers  # the target's order is kept


def test_nearest_echelon_tiers_belong_to_the_echelons_part(policies):
    rung = ladder.rung_policy(policies["echelon_open"], policies["police_only"], {"echelons"})
    assert [t.members for t in rung.tiers] == ["nearest_echelon", "police_station"]


def test_a_target_without_police_tier_is_refused(policies):
    target = dataclasses.replace(policies["echelon_135"], tiers=policies["echelon_135"].tiers[:2])
    with pytest.raises(ConfigError, match=r"policy\.tiers.*needs a police tier"):
        ladder.rung_policy(target, policies["police_only"], set())


def test_rung_zero_that_differs_from_the_baseline_says_how():
    target = load_config(["policy=echelon_135_police_tiers"]).policy
    differs = ladder.rung_zero_differences(target, load_config(["policy=police_only"]).policy)
    assert len(differs) == 1 and differs[0].startswith("tiers (the target's police tiers: station, district")


def test_every_subset_runs_once_the_ladder_first():
    steps = ["guards", "one_key", "county"]
    rungs = ladder.rungs_to_run(steps, shapley=True)
    assert len(rungs) == len(set(rungs)) == 2**3
    assert rungs[:4] == ladder.rungs_to_run(steps, shapley=False) == ladder.ladder_rungs(steps)
    labels = [ladder.rung_label(r, steps, "police_only") for r in rungs[:4]]
    assert labels == ["police_only", "+guards", "+guards+one_key", "+guards+one_key+county"]
    assert ladder.rung_label({"county", "guards"}, steps, "police_only") == "+guards+county"


def test_rung_zero_gives_the_same_event_log_as_police_only(daishan_site, cache_dir):
    over = [f"cache_dir={cache_dir}", "run.days=5", "run.replications=2"]
    target, base = load_config(over), load_config([*over, "policy=police_only"])
    zero = dataclasses.replace(target, policy=ladder.rung_policy(target.policy, base.policy, set()))
    reps = compare({"police_only": base, "rung0": zero}, daishan_site)
    by = {(r.policy, r.replication): r.events for r in reps}
    assert sum((by["police_only", r]["kind"] == "dispatched").sum() for r in range(2)) > 0  # not vacuous
    for r in range(2):
        pd.testing.assert_frame_equal(by["police_only", r], by["rung0", r])


def test_rung_configs_differ_only_in_policy(cache_dir):
    target = load_config([f"cache_dir={cache_dir}", "ladder.steps=[drones,county]"])
    cfgs = rung_configs(target, load_config([f"cache_dir={cache_dir}", "policy=police_only"]), "police_only")
    assert list(cfgs) == ["police_only", "+drones", "+drones+county", "+county"]
    assert all(
        dataclasses.replace(c, policy=None) == dataclasses.replace(target, policy=None) for c in cfgs.values()
    )


# ------------------------------------------------------------------------------------------------- maths


def _rows(values: dict[frozenset, np.ndarray], steps, metric: str) -> pd.DataFrame:
    """A per-(rung, replication) table as run_ladder makes it, from per-subset values."""
    return pd.DataFrame(
        [
            {"rung": ladder.rung_label(s, steps, "base"), "replication": r, metric: float(x)}
            for s, v in values.items()
            for r, x in enumerate(v)
        ]
    )


@st.composite
def games(draw):
    """Random steps (a random order of a random subset of the parts) and a random value per subset and
    replication; some values missing, as when a replication had no incident of a kind."""
    steps = draw(st.permutations(ALL).map(list))[: draw(st.integers(1, len(ALL)))]
    reps = draw(st.integers(1, 6))
    value = st.floats(0, 1, allow_nan=False) | st.just(math.nan)
    values = {
        frozenset(c): np.array(draw(st.lists(value, min_size=reps, max_size=reps)))
        for size in range(len(steps) + 1)
        for c in combinations(steps, size)
    }
    return steps, values


@settings(max_examples=60, deadline=None)
@given(games(), st.sampled_from(["escape_rate_theft", "mean_leak_area_m2"]))
def test_ordered_steps_and_shapley_values_add_up_to_the_total(game, metric):
    steps, values = game
    rows = _rows(values, steps, metric)
    contributions = ladder.contributions_table(rows, [metric], steps, "base", shapley=True)
    shapley = ladder.shapley_table(rows, [metric], steps, "base")
    (total,) = ladder.totals_table(rows, [metric], steps, "base", shapley=True).to_dict("records")
    assert list(contributions["step"]) == list(shapley["part"]) == steps
    assert set(contributions["n"]) == set(shapley["n"]) == {total["n"]}  # the same replications everywhere
    if total["n"] == 0:
        assert contributions["mean"].isna().all() and math.isnan(total["mean"])
        return
    assert contributions["mean"].sum() == pytest.approx(total["mean"], abs=1e-9)
    assert shapley["mean"].sum() == pytest.approx(total["mean"], abs=1e-9)
    assert total["full_mean"] - total["baseline_mean"] == pytest.approx(total["mean"], abs=1e-9)
    assert shapley["ordered_mean"].to_numpy() == pytest.approx(contributions["mean"].to_numpy(), abs=1e-12)
    for table in (contributions, shapley):
        finite = table.dropna(subset=["ci95_low"])
        assert (finite["ci95_low"] <= finite["mean"]).all() and (finite["mean"] <= finite["ci95_high"]).all()
        if metric == "escape_rate_theft":  # a difference of shares never leaves [-1, 1]
            assert (finite["ci95_low"] >= -1).all() and (finite["ci95_high"] <= 1).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=5), st.integers(1, 4))
def test_shapley_of_an_additive_game_is_each_parts_own_effect(effects, reps):
    steps = ALL[: len(effects)]
    values = {
        frozenset(c): np.full(reps, sum(effects[steps.index(p)] for p in c))
        for size in range(len(steps) + 1)
        for c in combinations(steps, size)
    }
    phi = ladder.shapley_values(values, steps)
    assert phi == pytest.approx(np.array(effects)[:, None] * np.ones(reps), abs=1e-9)


def test_a_part_that_changes_nothing_gets_nothing_and_its_partner_gets_the_interaction():
    # v = 1 only when both one_key and guards are on: each gets half; county (a dummy) gets 0
    steps = ["one_key", "guards", "county"]
    values = {
        frozenset(c): np.array([1.0 if {"one_key", "guards"} <= set(c) else 0.0])
        for size in range(4)
        for c in combinations(steps, size)
    }
    assert ladder.shapley_values(values, steps)[:, 0] == pytest.approx([0.5, 0.5, 0.0])
    ordered = ladder.ordered_steps(np.array([[0.0], [0.0], [1.0], [1.0]]))
    assert ordered[:, 0].tolist() == [0.0, 1.0, 0.0]  # in order, the second part takes all of it


def test_intervals_say_why_there_is_none_and_stay_within_bounds():
    assert ladder.paired_interval([0.3]).note == ladder.FEW and math.isnan(ladder.paired_interval([0.3]).low)
    assert ladder.paired_interval([]).note == ladder.FEW
    none = ladder.paired_interval([0.0, 0.0, 0.0])
    assert none.note == ladder.NO_DIFFERENCE and none.mean == 0 and math.isnan(none.high)
    assert ladder.paired_interval([0.2, 0.2]).note == ladder.SAME_DIFFERENCE
    wide = ladder.paired_interval([1.0, -1.0, 1.0], ladder.difference_bounds("escape_rate_theft"))
    assert (wide.low, wide.high) == (-1.0, 1.0) and wide.note == ""
    assert ladder.difference_bounds("mean_leak_area_m2") == (-math.inf, math.inf)


def test_metrics_say_which_incidents_they_are_about():
    assert ladder.metric_kind("escape_rate_theft") == "theft"
    assert ladder.metric_kind("operator_left_rate_illegal_drone") == "illegal_drone"
    assert ladder.metric_kind("escalation_rate_cross_district_dispute") == "cross_district_dispute"
    assert ladder.metric_kind("mean_leak_area_m2") == "chemical_leak"
    assert "police tier" in ladder.metric_kind("tier_police_median_from_incident_s")


# ---------------------------------------------------------------------------------------------- real run


@pytest.fixture(scope="module")
def short_ladder(daishan_site, cache_dir):
    over = [f"cache_dir={cache_dir}", "run.days=5", "run.replications=3"]
    return run_ladder(load_config(over), load_config([*over, "policy=police_only"]), daishan_site)


@pytest.mark.slow
def test_a_real_ladder_adds_up_exactly(short_ladder):
    result = short_ladder
    assert len(result.rungs) == 32 and result.ladder_labels[0] == "police_only"
    assert set(result.rows["rung"]) == set(result.rungs) and len(result.rows) == 32 * 3
    steps_sum = result.contributions.groupby("metric", sort=False)["mean"].sum(min_count=1)
    phi_sum = result.shapley.groupby("metric", sort=False)["mean"].sum(min_count=1)
    totals = result.totals.set_index("metric")["mean"]
    defined = totals.notna()
    assert defined.sum() >= 4  # thefts, disputes, drone flights and police times happen in 3 x 5 days
    np.testing.assert_allclose(steps_sum[defined], totals[defined], rtol=0, atol=1e-9)
    np.testing.assert_allclose(phi_sum[defined], totals[defined], rtol=0, atol=1e-9)
    full = result.rows[result.rows["rung"] == result.ladder_labels[-1]].set_index("replication")
    base = result.rows[result.rows["rung"] == "police_only"].set_index("replication")
    theft = (full["escape_rate_theft"] - base["escape_rate_theft"]).dropna().mean()
    assert totals["escape_rate_theft"] == pytest.approx(theft, abs=1e-12)


# ---------------------------------------------------------------------------------------------- command


def test_echelon_ladder_writes_its_files(tmp_path, cache_dir, capsys):
    args = [
        "ladder",
        f"results_dir={tmp_path}",
        f"cache_dir={cache_dir}",
        "run.days=2",
        "run.replications=2",
        "ladder.steps=[county,one_key]",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    (out,) = tmp_path.iterdir()
    assert out.name.startswith("ladder-daishan-")
    assert "ladder police_only -> echelon_135 on site 'daishan' (SYNTHETIC)" in printed
    assert "4 rungs (3 on the ladder, 1 more for Shapley values)" in printed
    assert "2 replications x 2 days" in printed and f"wrote {out}/ladder.html" in printed
    for name in ("contributions.csv", "shapley.csv", "rungs.csv", "config.yaml", "ladder.md", "ladder.html"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "waterfall.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    contributions = pd.read_csv(out / "contributions.csv")
    assert list(contributions[contributions["metric"] == "escape_rate_theft"]["step"]) == [
        "county",
        "one_key",
    ]
    assert {
        "metric",
        "step",
        "position",
        "mean",
        "ci95_low",
        "ci95_high",
        "n",
        "from_mean",
        "to_mean",
    } <= set(contributions.columns)
    rungs = pd.read_csv(out / "rungs.csv")
    assert set(rungs["rung"]) == {"police_only", "+county", "+county+one_key", "+one_key"}
    report = (out / "ladder.md").read_text()
    assert "depends on the order" in report and "Shapley" in report and "about" in report
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_echelon_ladder_without_shapley_runs_only_the_ladder(tmp_path, cache_dir, capsys):
    args = [
        "ladder",
        f"results_dir={tmp_path}",
        f"cache_dir={cache_dir}",
        "run.days=1",
        "run.replications=1",
        "ladder.steps=[guards,one_key,echelons,drones,county]",
        "ladder.shapley=false",
    ]
    assert main(args) == 0
    assert "6 rungs (6 on the ladder)" in capsys.readouterr().out
    (out,) = tmp_path.iterdir()
    assert not (out / "shapley.csv").exists()
    contributions = pd.read_csv(out / "contributions.csv")
    assert set(contributions["note"].dropna()) <= {ladder.FEW}  # one replication: no interval, said so
    assert "Shapley" in (out / "ladder.md").read_text()  # the order note still explains what it would do
