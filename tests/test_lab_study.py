"""The layout study under load: common incidents across layouts, a change that must matter under load does
(and does not at today's rates), replications needed, and a whole study written and read back."""

from __future__ import annotations

import dataclasses
import math

import geopandas as gpd
import pyogrio
import pytest

from sim.config import load_config
from sim.lab.evaluate import replications_needed, simulate_layouts
from sim.lab.generators import jurisdictions
from sim.lab.layout_file import read_layout_file
from sim.lab.study import build_layouts, run_study
from sim.lab.write import write_study

COMPLIANCE = "tier_echelon_target_met_from_alarm"


def _cfg(cache_dir, tmp_path, *more):
    return load_config(
        [f"cache_dir={cache_dir}", f"results_dir={tmp_path / 'results'}", "policy=echelon_135", *more]
    )


@pytest.fixture(scope="module")
def one_and_two_teams(daishan_site):
    """The same four jurisdiction grids and posts, one team at each post or two."""
    one = dataclasses.replace(jurisdictions(daishan_site, 1), name="one_team")
    posts = one.posts.assign(echelons=2)
    two = dataclasses.replace(one, name="two_teams", posts=posts)
    return one, two


def _diff(result, metric):
    d = result.diffs
    return d[(d["policy"] == "two_teams") & (d["metric"] == metric)].iloc[0]


def test_a_second_team_at_each_post_matters_under_load(daishan_site, one_and_two_teams, cache_dir, tmp_path):
    cfg = _cfg(cache_dir, tmp_path, "incidents=stress", "run.days=5", "run.replications=5")
    result = simulate_layouts(daishan_site, one_and_two_teams, cfg, "one_team", "stress")
    # the same incidents for both layouts, replication by replication (common random numbers)
    rows = result.rows.set_index(["policy", "replication"])["n_incidents"]
    assert rows["one_team"].equals(rows["two_teams"])
    queued = _diff(result, "queued_share_echelon")
    assert queued["finding"] and queued["mean_diff"] < 0  # fewer requests wait for a busy team
    met = _diff(result, COMPLIANCE)
    assert met["finding"] and met["mean_diff"] > 0
    assert replications_needed(met, 5) == 5


def test_at_todays_rates_the_second_team_is_not_a_finding(
    daishan_site, one_and_two_teams, cache_dir, tmp_path
):
    cfg = _cfg(cache_dir, tmp_path, "run.days=10", "run.replications=5")
    result = simulate_layouts(daishan_site, one_and_two_teams, cfg, "one_team", "default")
    assert not _diff(result, COMPLIANCE)["finding"]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"n": 10, "mean_diff": 0.0, "ci95_low": 0.0, "ci95_high": 0.0, "excludes_0": False}, 0.0),
        ({"n": 10, "mean_diff": 0.0, "ci95_low": -0.1, "ci95_high": 0.1, "excludes_0": False}, math.nan),
        ({"n": 10, "mean_diff": 0.02, "ci95_low": -0.02, "ci95_high": 0.06, "excludes_0": False}, 40.0),
        ({"n": 10, "mean_diff": 0.05, "ci95_low": 0.01, "ci95_high": 0.09, "excludes_0": True}, 10.0),
        ({"n": 3, "mean_diff": 0.05, "ci95_low": 0.04, "ci95_high": 0.06, "excludes_0": True}, 5.0),
    ],
)
def test_replications_needed(row, expected):
    got = replications_needed(row, min_pairs=5)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


@pytest.mark.slow
@pytest.mark.filterwarnings("error::UserWarning")  # a missing glyph (the Chinese layout name) is an error
def test_a_whole_study_with_a_planners_file_is_written_and_reads_back(daishan_site, cache_dir, tmp_path):
    base = _cfg(cache_dir, tmp_path, "run.days=2", "run.replications=2", "lab.curve=[5]")
    # a planner's GeoPackage: the study's hexagons, written and fed back as a file
    first = build_layouts(daishan_site, base)
    from sim.lab.layout_file import write_layout

    planner = tmp_path / "规划"
    planner.mkdir()
    mine = dataclasses.replace(first[1], name="规划网格")
    (written,) = [p for p in write_layout(mine, planner) if p.suffix == ".gpkg"]
    cfg = _cfg(
        cache_dir, tmp_path, "run.days=2", "run.replications=2", "lab.curve=[5]", f"lab.files={written}"
    )
    loads = {
        load: _cfg(cache_dir, tmp_path, "run.days=2", "run.replications=2", f"incidents={load}")
        for load in cfg.lab.loads
    }
    study = run_study(cfg, daishan_site, loads, optimise_posts=True)
    names = [lay.name for lay in study.layouts]
    assert names[-3:] == [written.stem, f"optimised_{study.optimisation.budget}", names[-1]]
    folder = write_study(study, "grid-test")
    for name in (
        "grid.md",
        "grid.html",
        "layouts.png",
        "compliance.png",
        "workload.png",
        "curve.png",
        "static_coverage.csv",
        "differences.csv",
        "optimisation.csv",
        "curve.csv",
        "config.yaml",
    ):
        assert (folder / name).is_file(), name
    assert "Recommended:" in (folder / "grid.md").read_text(encoding="utf-8")
    gpkg = folder / "layouts" / "hexagons_1km.gpkg"
    assert {"grids", "posts", "reach"} <= set(pyogrio.list_layers(gpkg)[:, 0])
    back = read_layout_file(daishan_site, str(gpkg))
    hexes = next(lay for lay in study.layouts if lay.name == "hexagons_1km")
    assert list(back.grids["id"]) == list(hexes.grids["id"])
    assert list(back.posts["node"]) == list(hexes.posts["node"])
    assert gpd.read_file(folder / "layouts" / "hexagons_1km_grids.geojson").crs.to_epsg() == 4326
