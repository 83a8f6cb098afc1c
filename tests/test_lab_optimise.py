"""The covering models: exact answers checked against brute force, greedy's known failure, and the optimised
posts on the default site beating the generated layouts on static coverage."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.lab import coverage
from sim.lab.generators import generate
from sim.lab.optimise import (
    CoverInstance,
    brute_force,
    candidate_nodes,
    cover_instance,
    expected_coverage,
    greedy,
    layout_from_solution,
    mclp,
    mexclp,
)


def _instance(cover: list[list[int]], weights: list[float]) -> CoverInstance:
    return CoverInstance(np.asarray(weights, float), np.arange(len(cover)), np.asarray(cover, bool))


def test_the_exact_answer_beats_greedy_where_greedy_is_known_to_fail():
    # Candidate 0 covers the two heavy middle points; 1 and 2 each cover an end and one middle point.
    # Greedy takes 0 first (2.2) and then can add only one end (3.2); the optimum is 1 + 2 (4.2).
    case = _instance([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]], [1.0, 1.1, 1.1, 1.0])
    first = greedy(case, 2)
    best = mclp(case, 2)
    assert first.objective == pytest.approx(3.2)
    assert best.objective == pytest.approx(4.2) == brute_force(case, 2)
    assert best.status == "Optimal"
    assert best.gap == pytest.approx(0.0, abs=1e-9)
    assert sorted(np.flatnonzero(best.counts)) == [1, 2]


@st.composite
def instances(draw):
    n_cand = draw(st.integers(1, 7))
    n_dem = draw(st.integers(1, 9))
    cover = draw(
        st.lists(st.lists(st.booleans(), min_size=n_dem, max_size=n_dem), min_size=n_cand, max_size=n_cand)
    )
    weights = draw(st.lists(st.integers(0, 20), min_size=n_dem, max_size=n_dem))
    k = draw(st.integers(1, n_cand))
    return _instance(cover, [float(w) for w in weights]), k


@settings(max_examples=40, deadline=None)
@given(instances())
def test_mclp_equals_brute_force_and_greedy_never_beats_it(case):
    instance, k = case
    best = mclp(instance, k)
    assert best.objective == pytest.approx(brute_force(instance, k))
    assert greedy(instance, k).objective <= best.objective + 1e-9
    assert int(best.counts.sum()) == k


@settings(max_examples=25, deadline=None)
@given(instances(), st.sampled_from([0.0, 0.2, 0.6]))
def test_mexclp_is_at_least_as_good_in_expectation_as_the_mclp_answer(case, busy):
    instance, k = case
    plain = mclp(instance, k)
    expected = mexclp(instance, k, busy)
    assert expected.objective >= expected_coverage(instance, plain.counts, busy) - 1e-6
    if busy == 0.0:  # nobody busy: expected coverage is plain coverage
        assert expected.objective == pytest.approx(plain.objective)


def test_a_busy_enough_team_is_doubled_where_demand_is_dense():
    # One dense point (weight 10) reached only from candidate 0; a thin point (1) only from candidate 1.
    # With teams busy half the time, a second team at 0 adds 10 x 0.25 = 2.5 > the thin point's 0.5.
    case = _instance([[1, 0], [0, 1]], [10.0, 1.0])
    assert mexclp(case, 2, 0.5).counts.tolist() == [2, 0]
    assert mexclp(case, 2, 0.01).counts.tolist() == [1, 1]


@pytest.fixture(scope="module")
def daishan_instance(daishan_site, daishan_cfg):
    return cover_instance(daishan_site, daishan_cfg, candidate_nodes(daishan_site))


def test_every_enterprise_node_is_a_candidate(daishan_site, daishan_instance):
    assert set(daishan_site.enterprises["node"]) <= set(daishan_instance.candidates.tolist())


def test_cover_matches_the_alarm_to_arrival_times(daishan_site, daishan_cfg, daishan_instance):
    """A spot check against the router: a covered pair is within the target, an uncovered one is not."""
    inst = daishan_instance
    target = coverage.echelon_target_s(daishan_cfg)
    nodes = np.unique(daishan_site.enterprises["node"])
    times = coverage.arrival_s(daishan_site, daishan_cfg, inst.candidates[:40])
    first = [int(np.flatnonzero(daishan_site.enterprises["node"].to_numpy() == n)[0]) for n in nodes]
    assert np.array_equal(inst.cover[:40], times[:, first] <= target)


def test_the_optimised_posts_beat_the_generated_layouts_on_static_coverage(
    daishan_site, daishan_cfg, daishan_instance
):
    target = coverage.echelon_target_s(daishan_cfg)
    for spec in ({"generator": "squares", "cell_m": 1000.0}, {"generator": "hexagons", "cell_m": 1000.0}):
        layout = generate(daishan_site, spec, 1, daishan_cfg.seed)
        k = layout.n_echelons
        best = mclp(daishan_instance, k)
        optimised = layout_from_solution(daishan_site, daishan_instance, best, "opt", "")
        assert optimised.n_echelons == k
        mine = coverage.coverage_table(daishan_site, optimised, daishan_cfg).set_index("threshold_s")
        theirs = coverage.coverage_table(daishan_site, layout, daishan_cfg).set_index("threshold_s")
        assert mine.loc[target, "own_risk"] >= theirs.loc[target, "own_risk"]
        # the objective is the share the coverage table reports for the optimised posts
        total = daishan_instance.weights.sum()
        assert mine.loc[target, "any_risk"] == pytest.approx(best.objective / total)


def test_more_teams_never_cover_less(daishan_instance):
    values = [mclp(daishan_instance, k).objective for k in (2, 5, 10, 20)]
    assert values == sorted(values)
    assert dataclasses.is_dataclass(mclp(daishan_instance, 2))


def test_a_team_kept_busy_by_its_own_demand_gets_a_second_team():
    """Per demand point busy shares: the dense point's team is busy half the time, the thin points' 1%.
    One busy share for all (their mean, 17%) keeps three posts; the measured ones double the dense post:
    a second team there adds 5 x 0.5 x 0.5 = 1.25, a third post 0.99."""
    case = _instance([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [5.0, 1.0, 1.0])
    local = np.array([0.5, 0.01, 0.01])
    assert mexclp(case, 3, float(local.mean())).counts.tolist() == [1, 1, 1]
    doubled = mexclp(case, 3, local)
    assert doubled.counts[0] == 2 and doubled.counts.sum() == 3
    assert doubled.objective == pytest.approx(5 * (1 - 0.25) + 1 * 0.99)
