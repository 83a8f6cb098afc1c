"""``echelon sensitivity``: bad parameters refused in one line, the arms' overrides keep a delay's spread, the
tornado table's flags, and a short real run that writes every file, where a parameter that cannot touch the
verdict leaves it as it was and one that must moves it."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sim.analysis import sensitivity as sa
from sim.cli import main
from sim.config import load_config
from sim.sensitivity import arm_overrides
from tests.bad_input import Bad, refuse

TWO = (
    "sensitivity.parameters=[{key: delays.turnout_hazmat.median_s, low: 30, high: 600}, "
    "{key: %s, low: %s, high: %s}]"
)

BAD = [
    Bad(
        "unknown key",
        ("sensitivity.parameters=[{key: delays.mobilise_ufo.median_s, low: 1, high: 2}]",),
        "'sensitivity.parameters[0].key'",
        command="sensitivity",
    ),
    Bad(
        "low not below high",
        ("sensitivity.parameters=[{key: incidents.rate_multiplier, low: 3, high: 0.3}]",),
        "low must be below high (key incidents.rate_multiplier)",
        command="sensitivity",
    ),
    Bad(
        "low equals high",
        ("sensitivity.parameters=[{key: incidents.rate_multiplier, low: 1, high: 1}]",),
        "low must be below high",
        command="sensitivity",
    ),
    Bad("no parameter", ("sensitivity.parameters=[]",), "at least one parameter", command="sensitivity"),
    Bad(
        "value out of the key's range",
        ("sensitivity.parameters=[{key: network.emergency_time_factor, low: 0.7, high: 2.0}]",),
        "'network.emergency_time_factor'",
        command="sensitivity",
    ),
    Bad(
        "unknown metric",
        ("sensitivity.metric=speed_of_light",),
        "'sensitivity.metric'",
        command="sensitivity",
    ),
]


@pytest.mark.parametrize("case", BAD, ids=str)
def test_bad_sensitivity_input_is_refused_in_one_line(case, tmp_path, cache_dir, capsys):
    refuse(case, tmp_path, cache_dir, capsys)


def test_defaults_are_valid_and_sourced():
    sens = load_config().sensitivity
    assert sens.policies == ["police_only", "echelon_135"]
    assert 6 <= len(sens.parameters) <= 10
    assert all(p.low < p.high and p.source.startswith("[") for p in sens.parameters)


def test_a_lognormal_median_takes_its_p90_along():
    cfg = load_config()
    assert arm_overrides(cfg, "delays.mobilise_echelon.median_s", 600) == [
        "delays.mobilise_echelon.median_s=600.0",
        "delays.mobilise_echelon.p90_s=1800.0",
    ]
    assert arm_overrides(cfg, "incidents.rate_multiplier", 3) == ["incidents.rate_multiplier=3.0"]


def _arm(parameter, side, mean, low, high):
    return {"parameter": parameter, "side": side, "value": 1.0, "default_value": 0.5, "source": "[A]"} | {
        "mean_diff": mean,
        "ci95_low": low,
        "ci95_high": high,
        "n": 5,
    }


def test_tornado_sorts_by_swing_and_flags_flips_and_small_moves():
    arms = pd.DataFrame(
        [
            _arm("default", "default", -0.30, -0.40, -0.20),
            _arm("a", "low", -0.32, -0.42, -0.22),
            _arm("a", "high", -0.28, -0.38, -0.18),
            _arm("b", "low", -0.60, -0.70, -0.50),
            _arm("b", "high", 0.20, 0.10, 0.30),  # clear of 0 on the other side: a flip
        ]
    )
    table = sa.tornado_table(arms)
    assert list(table["parameter"]) == ["b", "a"]
    assert table.loc[0, "swing"] == pytest.approx(0.8)
    assert list(table["can_flip"]) == [True, False]
    assert list(table["within_default_ci"]) == [False, True]


@pytest.mark.slow
def test_short_run_writes_every_file_and_moves_only_what_it_must(tmp_path, cache_dir, capsys):
    results = tmp_path / "results"
    # The hazmat unit's turnout cannot touch a theft; a thief who stays ten hours is caught under both
    # policies, so the difference in escapes must vanish.
    args = [
        TWO % ("incidents.kinds.theft.deadline.median_s", 240, 36000),
        "run.days=14",
        "run.replications=3",
        f"results_dir={results}",
        f"cache_dir={cache_dir}",
    ]
    assert main(["sensitivity", *args]) == 0
    out = capsys.readouterr().out
    assert "sensitivity of escape_rate_theft (echelon_135 - police_only)" in out
    (folder,) = results.iterdir()
    for name in ("sensitivity.csv", "tornado.png", "sensitivity.md", "sensitivity.html", "config.yaml"):
        assert (folder / name).stat().st_size > 0, name
    arms = pd.read_csv(folder / "sensitivity.csv")
    assert len(arms) == 5 and set(arms["side"]) == {"default", "low", "high"}
    default = arms[arms["side"] == "default"].iloc[0]
    assert default["mean_diff"] < -0.2  # echelon_135 lets fewer thieves escape
    hazmat = arms[arms["parameter"] == "delays.turnout_hazmat.median_s"]
    assert all(math.isclose(d, default["mean_diff"], abs_tol=1e-9) for d in hazmat["mean_diff"])
    long_stay = arms[(arms["parameter"].str.startswith("incidents.kinds.theft")) & (arms["side"] == "high")]
    assert abs(long_stay.iloc[0]["mean_diff"]) < 0.05
    report = (folder / "sensitivity.md").read_text()
    assert "The verdict at the defaults" in report and "tornado.png" in report
    assert "docs/parameters.md" in report
