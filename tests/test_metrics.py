"""Metrics on hand-made logs whose every answer is computed by hand; plots and report as smoke tests."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from logs import ACTOR_TARGETS, Response, Story, frames
from scipy import stats
from shapely.geometry import LineString

from sim.analysis import metrics
from sim.analysis.plot_results import clipped_yerr, plot_arrival_ecdf, plot_compliance, plot_incident_map
from sim.analysis.report import difference_sentence, write_summary
from sim.model.events import read_log, write_log

ECHELON_ONLY = {2: ("echelon", 180.0)}


def _table(*stories: Story) -> pd.DataFrame:
    events, incidents = frames(*stories)
    return metrics.incident_table(events, incidents)


# ------------------------------------------------------------------------------------------ incident table


def test_tier_arrival_is_the_first_unit_of_that_tier_and_drones_are_not_a_tier():
    story = Story(
        0,
        "theft",
        occurred_s=100.0,
        reported_s=140.0,
        targets=ECHELON_ONLY,
        responses=(
            Response("E1", "echelon", 2, dispatched_s=150.0, arrived_s=330.0),
            Response("E2", "echelon", 2, dispatched_s=160.0, arrived_s=300.0),
            Response("D1", "drone", 0, dispatched_s=141.0, arrived_s=200.0),
        ),
    )
    row = _table(story).iloc[0]
    assert row["arrive_s_2"] == 300.0
    assert row["from_alarm_s_2"] == 160.0
    assert row["from_incident_s_2"] == 200.0
    assert row["from_dispatch_s_2"] == 150.0  # counted from the tier's FIRST dispatch (E1 at 150 s)
    assert row["target_s_2"] == 180.0
    assert row["tier_name_2"] == "echelon"
    assert metrics.tiers_in(_table(story)) == [2]


def test_incident_moments_and_attributes():
    story = Story(
        3,
        "chemical_leak",
        occurred_s=10.0,
        detected_s=25.0,
        detect_mode="drone",
        reported_s=40.0,
        channel="drone_centre",
        decided_s=70.0,
        targets=ECHELON_ONLY,
        handoff_s=45.0,
        outcome="contained",
        outcome_value=1234.0,
        grid="G7",
        station="S2",
        area_class="key",
        cross_district=True,
    )
    row = _table(story).iloc[0]
    assert (
        row["incident"],
        row["kind"],
        row["t_occurred"],
        row["t_detected"],
        row["t_reported"],
        row["t_decided"],
    ) == (3, "chemical_leak", 10.0, 25.0, 40.0, 70.0)
    assert (row["detect_mode"], row["channel"], row["outcome"], row["outcome_value"]) == (
        "drone",
        "drone_centre",
        "contained",
        1234.0,
    )
    assert row["first_detected_from_air"]
    assert row["handoff_s"] == 45.0
    assert (row["grid"], row["station"], row["area_class"], row["cross_district"]) == (
        "G7",
        "S2",
        "key",
        True,
    )
    assert math.isnan(row["arrive_s_2"])


def test_unreported_and_open_incidents_keep_nan():
    row = _table(Story(0, "dispute", occurred_s=5.0, reported_s=None)).iloc[0]
    assert row["t_occurred"] == 5.0
    for column in ("t_detected", "t_reported", "t_decided", "outcome_value"):
        assert math.isnan(row[column])
    assert pd.isna(row["outcome"]) and pd.isna(row["channel"])
    assert not row["first_detected_from_air"]


def test_table_is_the_same_after_a_csv_round_trip(tmp_path):
    story = Story(
        0,
        "theft",
        0.0,
        30.0,
        targets=ACTOR_TARGETS,
        outcome="escaped",
        responses=(Response("G1", "own_security", 1, 35.0, 80.0, 300.0),),
    )
    events, incidents = frames(story)
    write_log(events, tmp_path)
    again = metrics.incident_table(read_log(tmp_path / "events.csv"), incidents)
    pd.testing.assert_frame_equal(metrics.incident_table(events, incidents), again)


def test_not_an_event_log_is_refused():
    with pytest.raises(ValueError, match="missing columns"):
        metrics.incident_table(pd.DataFrame({"t_s": [1.0]}), pd.DataFrame({"incident": [0]}))
    events, _ = frames(Story(0, "theft", 0.0, 1.0))
    with pytest.raises(ValueError, match="no 'incident' column"):
        metrics.incident_table(events, pd.DataFrame({"id": [0]}))


# ------------------------------------------------------------------------------------------- tier metrics


def _three_echelon_calls() -> pd.DataFrame:
    """Alarm 40 s after each incident; the echelon arrives 170 s, 100 s after the alarm, or never."""
    return _table(
        Story(
            0,
            "theft",
            0.0,
            40.0,
            targets=ECHELON_ONLY,
            responses=(Response("E1", "echelon", 2, 50.0, 210.0),),
        ),
        Story(
            1,
            "theft",
            1000.0,
            1040.0,
            targets=ECHELON_ONLY,
            responses=(Response("E1", "echelon", 2, 1050.0, 1140.0),),
        ),
        Story(
            2,
            "theft",
            2000.0,
            2040.0,
            targets=ECHELON_ONLY,
            responses=(Response("E2", "echelon", 2, 2050.0, None),),
        ),
    )


def test_never_arrived_counts_as_missed_and_as_infinite_time():
    row = metrics.tier_metrics(_three_echelon_calls(), "alarm").iloc[0]
    assert (row["tier"], row["tier_name"], row["n"]) == (2, "echelon", 3)
    assert row["share_met"] == pytest.approx(2 / 3)
    assert row["share_arrived"] == pytest.approx(2 / 3)
    assert row["median_s"] == 170.0  # sorted: 100, 170, inf
    assert row["p90_s"] == math.inf
    assert row["share_within_60s"] == 0.0
    assert row["share_within_180s"] == pytest.approx(2 / 3)


def test_counting_from_the_alarm_or_the_incident_gives_different_answers():
    table = _three_echelon_calls()
    alarm = metrics.tier_metrics(table, "alarm").iloc[0]
    incident = metrics.tier_metrics(table, "incident").iloc[0]
    assert alarm["share_met"] == pytest.approx(2 / 3)  # 170 s and 100 s <= 180 s
    assert incident["share_met"] == pytest.approx(1 / 3)  # 210 s > 180 s; 140 s <= 180 s
    assert incident["median_s"] == 210.0
    assert metrics.tier_met(table, 2, "incident").to_dict() == {0: False, 1: True, 2: False}


def test_target_per_incident_is_used_not_a_fixed_threshold():
    table = _table(
        Story(
            0,
            "theft",
            0.0,
            0.0,
            targets={2: ("echelon", 60.0)},
            responses=(Response("E1", "echelon", 2, 0.0, 90.0),),
        )
    )
    row = metrics.tier_metrics(table).iloc[0]
    assert row["share_met"] == 0.0 and row["share_within_180s"] == 1.0
    assert row["target_s_min"] == row["target_s_max"] == 60.0


def test_unknown_count_from_is_refused():
    with pytest.raises(ValueError, match="count_from must be one of"):
        metrics.tier_metrics(_three_echelon_calls(), "arrival")


def test_quantile_matches_numpy_on_finite_values_and_stays_inf_otherwise():
    values = [3.0, 1.0, 7.0, 2.0, 10.0]
    for q in (0.0, 0.5, 0.9, 0.95, 1.0):
        assert metrics.quantile_inf(values, q) == pytest.approx(np.quantile(values, q))
    assert metrics.quantile_inf([1.0, math.inf, math.inf], 0.9) == math.inf
    assert metrics.quantile_inf([1.0, 2.0, math.inf], 0.5) == 2.0
    assert math.isnan(metrics.quantile_inf([], 0.5))


# ----------------------------------------------------------------------------------- outcomes, units, air


def _mixed_outcomes() -> pd.DataFrame:
    return _table(
        Story(0, "theft", 0.0, 10.0, outcome="escaped"),
        Story(1, "theft", 5.0, 20.0, outcome="escaped"),
        Story(2, "theft", 9.0, 30.0, outcome="intercepted", detect_mode="drone"),
        Story(3, "theft", 12.0, None),
        Story(4, "chemical_leak", 20.0, 40.0, outcome="contained", outcome_value=100.0),
        Story(5, "chemical_leak", 30.0, 50.0, outcome="contained", outcome_value=300.0, detect_mode="drone"),
    )


def test_outcome_shares_are_among_incidents_with_an_outcome():
    rates = metrics.outcome_rates(_mixed_outcomes()).set_index("kind")
    theft = rates.loc["theft"]
    assert (theft["n"], theft["n_outcome"], theft["share_no_outcome"]) == (4, 3, 0.25)
    assert theft["share_escaped"] == pytest.approx(2 / 3)
    assert theft["share_intercepted"] == pytest.approx(1 / 3)
    assert math.isnan(theft["mean_outcome_value"])
    assert rates.loc["chemical_leak", "mean_outcome_value"] == 200.0
    assert rates.loc["chemical_leak", "share_escaped"] == 0.0


def test_share_detected_from_air_is_among_detected_incidents():
    assert metrics.share_detected_from_air(_mixed_outcomes()) == pytest.approx(2 / 5)  # incident 3 unseen


def test_a_unit_busy_half_the_horizon_has_utilisation_one_half():
    events, _ = frames(
        Story(0, "theft", 0.0, 90.0, responses=(Response("P1", "police", 3, 100.0, 300.0, 600.0),)),
        Story(1, "theft", 400.0, 450.0, responses=(Response("P2", "police", 3, 500.0, 700.0, None),)),
    )
    table = metrics.utilisation(events, horizon_s=1000.0).set_index("unit_kind")
    assert table.loc["police", "utilisation"] == 0.5  # P1 100-600, P2 500-horizon: (500 + 500) / (2 * 1000)
    idle = metrics.utilisation(events, 1000.0, units={"police": 4, "echelon": 3}).set_index("unit_kind")
    assert idle.loc["police", "utilisation"] == 0.25
    assert idle.loc["echelon", "utilisation"] == 0.0
    with pytest.raises(ValueError, match="units says 1 police unit"):
        metrics.utilisation(events, 1000.0, units={"police": 1})
    with pytest.raises(ValueError, match="horizon_s must be > 0"):
        metrics.utilisation(events, 0.0)


def test_busy_time_is_clipped_to_the_horizon():
    events, _ = frames(
        Story(0, "theft", 0.0, 0.0, responses=(Response("E1", "echelon", 2, 800.0, 900.0, 1500.0),))
    )
    assert metrics.utilisation(events, 1000.0)["utilisation"].iloc[0] == pytest.approx(0.2)


def test_handoff_delays_by_incident():
    events, _ = frames(
        Story(0, "dispute", 0.0, 10.0, handoff_s=45.0),
        Story(1, "dispute", 5.0, 20.0),
        Story(2, "dispute", 9.0, 30.0, handoff_s=15.0),
    )
    assert metrics.handoff_delays(events).to_dict() == {0: 45.0, 2: 15.0}


def test_headline_names_say_what_and_from_when():
    stories = (
        Story(
            0,
            "theft",
            0.0,
            40.0,
            targets=ECHELON_ONLY,
            outcome="escaped",
            handoff_s=30.0,
            responses=(Response("E1", "echelon", 2, 50.0, 210.0, 500.0),),
        ),
        Story(
            1, "chemical_leak", 100.0, 120.0, targets=ECHELON_ONLY, outcome="contained", outcome_value=80.0
        ),
    )
    events, incidents = frames(*stories)
    h = metrics.headline(metrics.incident_table(events, incidents), events, horizon_s=1000.0)
    assert h["tier_echelon_target_met_from_alarm"] == 0.5  # tiers are named by role, not number
    assert h["tier_echelon_target_met_from_incident"] == 0.0
    assert h["tier_echelon_median_from_alarm_s"] == math.inf  # one of two never arrived
    assert h["tier_echelon_share_arrived"] == 0.5
    assert h["escape_rate_theft"] == 1.0
    assert h["interception_rate_theft"] == 0.0
    assert h["mean_leak_area_m2"] == 80.0
    assert h["utilisation_echelon"] == pytest.approx(0.45)
    assert (h["n_handoffs"], h["mean_handoff_s"]) == (1.0, 30.0)
    assert h["share_detected_from_air"] == 0.0
    assert all(isinstance(v, float) for v in h.values())


# ------------------------------------------------------------------------------------------- replications


def test_ci_half_width_matches_scipy_student_t():
    sample = [2.0, 4.0, 4.0, 5.0, 7.0]
    low, high = stats.t.interval(0.95, df=4, loc=np.mean(sample), scale=stats.sem(sample))
    assert metrics.ci95_half_width(sample) == pytest.approx((high - low) / 2)
    assert metrics.ci95_half_width([*sample, math.nan]) == pytest.approx((high - low) / 2)
    rows = pd.DataFrame({"policy": "a", "replication": range(5), "m": sample})
    summary = metrics.summarise_replications(rows).iloc[0]
    assert (summary["metric"], summary["estimate"], summary["n_replications"]) == ("m", 4.4, 5)
    assert (summary["ci95_low"], summary["ci95_high"]) == (pytest.approx(low), pytest.approx(high))
    assert summary["how"] == metrics.MEAN_T


def test_one_replication_has_no_ci_and_missing_values_are_skipped():
    rows = pd.DataFrame({"policy": ["a", "b", "b"], "replication": [0, 0, 1], "m": [1.0, 2.0, math.nan]})
    summary = metrics.summarise_replications(rows).set_index("policy")
    assert math.isnan(summary.loc["a", "ci95_low"]) and math.isnan(summary.loc["a", "ci95_high"])
    assert (summary.loc["b", "estimate"], summary.loc["b", "n_replications"]) == (2.0, 1)


def test_paired_differences_of_identical_policies_are_zero_with_zero_ci():
    values = [0.3, 0.5, 0.45, 0.6]
    rows = pd.DataFrame(
        {"policy": ["base"] * 4 + ["same"] * 4, "replication": [0, 1, 2, 3] * 2, "m": values * 2}
    )
    diff = metrics.paired_differences(rows, baseline="base").iloc[0]
    assert (diff["policy"], diff["mean_diff"], diff["ci95_low"], diff["ci95_high"], diff["n"]) == (
        "same",
        0.0,
        0.0,
        0.0,
        4,
    )
    assert not diff["excludes_0"] and not diff["finding"]
    assert metrics.paired_differences(rows, "base", min_pairs=2).iloc[0]["not_evidence"] == (
        "no difference in any replication"
    )


def test_paired_differences_pair_by_replication():
    rows = pd.DataFrame(
        {
            "policy": ["b", "b", "b", "a", "a", "a"],
            "replication": [2, 0, 1, 0, 1, 2],
            "m": [11.5, 12.0, 12.5, 10.0, 10.0, 10.0],  # differences 2.0, 2.5, 1.5 on replications 0, 1, 2
        }
    )
    diff = metrics.paired_differences(rows, baseline="a").iloc[0]
    assert diff["mean_diff"] == 2.0
    half = stats.t.ppf(0.975, 2) * 0.5 / math.sqrt(3)
    assert (diff["ci95_low"], diff["ci95_high"]) == (pytest.approx(2.0 - half), pytest.approx(2.0 + half))
    assert (diff["baseline_mean"], diff["policy_mean"]) == (10.0, 12.0)
    assert diff["excludes_0"] and diff["not_evidence"] == "only 3 paired replication(s); at least 5 needed"
    assert metrics.paired_differences(rows, baseline="a", min_pairs=3).iloc[0]["finding"]


def test_paired_differences_refuse_bad_input():
    rows = pd.DataFrame({"policy": ["a", "b"], "replication": [0, 0], "m": [1.0, 2.0]})
    with pytest.raises(ValueError, match="baseline policy 'c' not among"):
        metrics.paired_differences(rows, baseline="c")
    with pytest.raises(ValueError, match="must appear once"):
        metrics.paired_differences(pd.concat([rows, rows]), baseline="a")
    with pytest.raises(ValueError, match="missing \\['replication'\\]"):
        metrics.summarise_replications(rows.drop(columns="replication"))


# ---------------------------------------------------------------------------------------- report, figures


def test_difference_sentence_reads_plainly():
    row = {
        "policy": "echelon_135",
        "baseline": "police_only",
        "metric": "tier_echelon_target_met_from_alarm",
        "mean_diff": 0.41,
        "ci95_low": 0.35,
        "ci95_high": 0.47,
        "n": 5,
    }
    assert difference_sentence(row) == (
        "echelon_135 raises the echelon tier's compliance with its target, counted from the alarm by 41 "
        "points (95% CI 35 to 47) compared with police_only, over 5 paired replications."
    )
    both = difference_sentence({**row, "baseline_mean": 0.2, "policy_mean": 0.61}, ["a", "b"])
    assert (
        both.startswith("a and b raise the echelon tier's compliance") and ": from 20% to 61%, by 41" in both
    )


def _replicated(policy: str, shift_s: float) -> tuple[pd.DataFrame, list[dict]]:
    """Two replications of one policy whose echelon is ``shift_s`` slower."""
    rows, table = [], None
    for rep in range(2):
        stories = [
            Story(
                i,
                kind,
                100.0 * i,
                100.0 * i + 30.0,
                targets=ACTOR_TARGETS,
                x_m=50.0 * i,
                y_m=20.0 * i,
                outcome="escaped" if i % 2 else "intercepted",
                responses=(
                    Response(f"G{i}", "own_security", 1, 100.0 * i + 35, 100.0 * i + 80 + rep, 900.0),
                    Response(f"E{i}", "echelon", 2, 100.0 * i + 40, 100.0 * i + 150 + shift_s + i, 950.0),
                ),
            )
            for i, kind in enumerate(["theft", "data_leak", "theft", "theft"])
        ]
        events, incidents = frames(*stories)
        table = metrics.incident_table(events, incidents)
        rows.append({"policy": policy, "replication": rep} | metrics.headline(table, events, 2000.0))
    return table, rows


def test_plots_and_report_write_non_empty_files(tmp_path):
    fast, fast_rows = _replicated("echelon_135", 0.0)
    slow, slow_rows = _replicated("police_<only>", 60.0)
    rows = pd.DataFrame(fast_rows + slow_rows)
    summary = metrics.summarise_replications(rows)
    diffs = metrics.paired_differences(rows, baseline="police_<only>", min_pairs=2, min_counted=1)
    roads = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (150, 60)])], crs="EPSG:32651")
    paths = [
        plot_arrival_ecdf({"echelon_135": fast, "police_<only>": slow}, tmp_path / "arrival_ecdf.png"),
        plot_compliance(summary, tmp_path / "compliance.png", tier_order=["own_security", "echelon"]),
        plot_incident_map(fast, roads, tmp_path / "incident_map.png", tier=2),
    ]
    meta = {
        "policies": ["echelon_135", "police_<only>"],
        "baseline": "police_<only>",
        "site": "daishan",
        "days": 1,
        "replications": 2,
        "seed": 7,
        "warnings": ["synthetic site <b>not real</b>"],
    }
    md, page = write_summary(tmp_path, summary, diffs, meta)
    for path in [*paths, md, page]:
        assert path.exists() and path.stat().st_size > 0
    text, markup = md.read_text(), page.read_text()
    assert "counted from the alarm" in text and "![" in text and "arrival_ecdf.png" in text
    answer = text.split("## Headline metrics")[0]  # the answer comes first
    # the fixture's echelon is exactly 60 s faster in every replication: dictated, not a finding
    assert "echelon_135: no difference from police_<only> is evidence" in answer
    assert "whose interval excludes 0 are not evidence" in answer
    assert "the same difference in every replication: set by the configuration, not chance" in text
    assert "&lt;b&gt;not real&lt;/b&gt;" in markup and "<b>" not in markup
    assert "police_&lt;only&gt;" in markup and 'src="compliance.png"' in markup
    assert "http" not in markup


def test_compliance_error_bars_are_drawn_within_0_and_100_percent():
    mean = np.array([98.0, 3.0, 50.0, np.nan, 100.0])
    half = np.array([5.0, 5.0, np.nan, 5.0, 0.0])  # NaN: fewer than 2 replications, no bar
    below, above = clipped_yerr(mean, half)
    assert below.tolist() == [5.0, 3.0, 0.0, 0.0, 0.0]
    assert above.tolist() == [2.0, 5.0, 0.0, 0.0, 0.0]
    assert ((mean - below)[np.isfinite(mean)] >= 0).all() and ((mean + above)[np.isfinite(mean)] <= 100).all()


def test_incident_map_needs_coordinates(tmp_path):
    table = _three_echelon_calls().drop(columns=["x_m"])
    with pytest.raises(ValueError, match="lacks \\['x_m'\\]"):
        plot_incident_map(table, None, tmp_path / "map.png")


# ---------------------------------------------------------------------------------- honest intervals


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(0, 2, 0.0, 0.6576), (2, 2, 0.3424, 1.0), (86, 100, 0.7786, 0.9147), (1, 1, 0.2065, 1.0)],
)
def test_wilson_interval_matches_known_values_and_stays_in_bounds(k, n, low, high):
    lo, hi = metrics.wilson_interval(k, n)
    assert (lo, hi) == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def _share_rows(values: dict[str, list[float]], n: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = pd.DataFrame(
        [
            {"policy": p, "replication": r, "escape_rate_theft": v}
            for p, vs in values.items()
            for r, v in enumerate(vs)
        ]
    )
    counts = pd.DataFrame(
        [(p, r, "escape_rate_theft", n[r]) for p in values for r in range(len(n))],
        columns=["policy", "replication", "metric", "n"],
    )
    return rows, counts


def test_shares_are_pooled_with_a_wilson_interval_never_past_100_percent():
    rows, counts = _share_rows({"a": [1.0, 1.0]}, [1, 1])  # two thefts, both escaped
    (row,) = metrics.summarise_replications(rows, counts).to_dict("records")
    assert (row["estimate"], row["n_counted"], row["how"]) == (1.0, 2, metrics.POOLED_WILSON)
    assert row["ci95_high"] == 1.0 and row["ci95_low"] == pytest.approx(0.3424, abs=1e-4)  # not '100% ± 0'
    rows, counts = _share_rows({"a": [0.5, 1.0, 0.0]}, [2, 1, 1])  # 2 of 4 escaped; replications differ in n
    (row,) = metrics.summarise_replications(rows, counts).to_dict("records")
    assert row["estimate"] == 0.5  # pooled 2/4, not the mean of replication shares (0.5)... nor 0.4
    rows, counts = _share_rows({"a": [0.25, 1.0]}, [4, 1])  # 1 of 4 and 1 of 1: pooled 2/5
    (row,) = metrics.summarise_replications(rows, counts).to_dict("records")
    assert row["estimate"] == pytest.approx(0.4)


def test_paired_share_difference_is_of_pooled_shares_and_within_minus_one_to_one():
    values = {"base": [0.9, 0.8, 1.0, 0.7, 0.9, 0.8], "new": [0.4, 0.5, 0.3, 0.6, 0.2, 0.4]}
    rows, counts = _share_rows(values, [10, 10, 10, 10, 10, 10])
    (d,) = metrics.paired_differences(rows, "base", counts).to_dict("records")
    assert (d["baseline_mean"], d["policy_mean"]) == (pytest.approx(0.85), pytest.approx(0.4))
    assert d["mean_diff"] == pytest.approx(-0.45) and -1.0 <= d["ci95_low"] < d["ci95_high"] < 0
    assert d["finding"] and d["not_evidence"] == ""
    summary = metrics.summarise_replications(rows, counts).set_index("policy")
    assert summary.loc["new", "estimate"] == pytest.approx(d["policy_mean"])  # one number per label


@pytest.mark.parametrize(
    ("values", "n", "why"),
    [
        (
            {"base": [1.0] * 6, "new": [0.5, 0.4, 0.6, 0.5, 0.3, 0.5]},
            [10] * 6,
            "base is 100% in every replication",
        ),
        (
            {"base": [0.5, 0.6, 0.4, 0.5, 0.7, 0.5], "new": [0.1, 0.2, 0.0, 0.1, 0.3, 0.1]},
            [2] * 6,
            "counted over only 12",
        ),
        ({"base": [0.9, 0.8, 0.7], "new": [0.1, 0.2, 0.1]}, [20] * 3, "only 3 paired replication(s)"),
    ],
)
def test_differences_that_are_no_evidence_say_why(values, n, why):
    rows, counts = _share_rows(values, n)
    (d,) = metrics.paired_differences(rows, "base", counts).to_dict("records")
    assert why in d["not_evidence"] and not d["finding"]


def test_identical_policies_are_found_once():
    rows = pd.DataFrame(
        {
            "policy": ["a", "a", "b", "b", "c", "c", "d", "d"],
            "replication": [0, 1] * 4,
            "m": [1.0, 2.0, 1.0, 3.0, 1.0, 3.0, 1.0, 2.0],
        }
    )
    assert metrics.identical_to(rows) == {"c": "b", "d": "a"}


def test_t_quantile_is_scipy_stats_own():
    """The 95% Student-t quantile taken from scipy.special is scipy.stats' number, bit for bit."""
    from scipy import stats

    from sim.analysis.metrics import _t_975

    for dof in [*range(1, 300), 1_000, 100_000]:
        assert _t_975(dof) == float(stats.t.ppf(0.975, dof))
