"""Bad grid-lab input (`echelon grid`): each refused in one line naming the key or file, before any
simulation, leaving nothing in results_dir (harness: tests/bad_input.py)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from bad_input import Bad, refuse
from shapely.geometry import Point, box


def _overlapping(tmp: Path) -> None:
    """Two grids over the Xiushan park that overlap by 200 m x 1 km (WGS84 file, metres drawn in UTM 51N)."""
    grids = gpd.GeoDataFrame(
        {"id": ["A", "B"]},
        geometry=[box(419000, 3337000, 420200, 3338000), box(420000, 3337000, 421000, 3338000)],
        crs="EPSG:32651",
    ).to_crs("EPSG:4326")
    grids.to_file(tmp / "overlap.geojson", driver="GeoJSON")


def _post_in_no_grid(tmp: Path) -> None:
    grids = gpd.GeoDataFrame(
        {"id": ["A"]}, geometry=[box(419000, 3337000, 421000, 3338000)], crs="EPSG:32651"
    )
    posts = gpd.GeoDataFrame({"grid": ["Z"]}, geometry=[Point(420000, 3337500)], crs="EPSG:32651")
    grids.to_file(tmp / "mine.gpkg", layer="grids", driver="GPKG")
    posts.to_file(tmp / "mine.gpkg", layer="posts", driver="GPKG")


CASES = [
    Bad(
        "unknown generator",
        ("+lab.layouts.x={generator: triangles}",),
        "'lab.layouts.x.generator'",
        command="grid",
    ),
    Bad(
        "negative cell",
        ("lab.layouts.hexagons_1km.cell_m=-5",),
        "'lab.layouts.hexagons_1km.cell_m'",
        command="grid",
    ),
    Bad(
        "missing cell",
        ("~lab.layouts.hexagons_1km.cell_m",),
        "missing for generator hexagons",
        command="grid",
    ),
    Bad(
        "unknown key",
        ("+lab.layouts.squares_1km.colour=red",),
        "'lab.layouts.squares_1km.colour'",
        command="grid",
    ),
    Bad(
        "count not whole",
        ("lab.layouts.clusters_30.count=2.5",),
        "'lab.layouts.clusters_30.count'",
        command="grid",
    ),
    Bad(
        "posts_of unknown",
        ("lab.layouts.voronoi_squares.posts_of=nowhere",),
        "'lab.layouts.voronoi_squares.posts_of'",
        command="grid",
    ),
    Bad("baseline unknown", ("lab.baseline=nope",), "'lab.baseline'", command="grid"),
    Bad("no loads", ("lab.loads=[]",), "'lab.loads'", command="grid"),
    Bad(
        "unknown load",
        ("lab.loads=[default,nope]", "lab.refine_load=default"),
        "unknown incidents",
        command="grid",
    ),
    Bad(
        "refine load not a load",
        ("lab.refine_load=festival_restart", "lab.loads=[stress]"),
        "'lab.refine_load'",
        command="grid",
    ),
    Bad("unknown metric", ("lab.metrics=[tier_echelon_speed]",), "'lab.metrics[0]'", command="grid"),
    Bad("bad on_invalid", ("lab.on_invalid=ignore",), "'lab.on_invalid'", command="grid"),
    Bad("budget too big", ("budget=100000",), "'lab.budget'", command="grid optimise"),
    Bad(
        "a name kept for the optimiser",
        ("+lab.layouts.optimised_5={generator: squares, cell_m: 500}",),
        "kept for `grid optimise`",
        command="grid",
    ),
    Bad(
        "budget above the candidate posts",
        ("budget=200", "site=helsinki", "run.days=1", "run.replications=1"),
        "candidate posts",
        command="grid optimise",
    ),
    Bad("unknown policy", ("lab.policy=nope",), "unknown policy", command="grid"),
    Bad("missing file", ("lab.files={tmp}/none.gpkg",), "'lab.files[0]': file not found", command="grid"),
    Bad(
        "overlapping grids refused",
        ("lab.files={tmp}/overlap.geojson", "lab.layouts={}", "run.days=1", "run.replications=1"),
        "overlap",
        _overlapping,
        command="grid",
    ),
    Bad(
        "post naming no grid",
        ("lab.files={tmp}/mine.gpkg", "lab.layouts={}", "run.days=1", "run.replications=1"),
        "mine.gpkg",
        _post_in_no_grid,
        command="grid",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_refused(case, tmp_path, cache_dir, capsys):
    if " " in case.command:  # `grid optimise`: the action is the first argument
        command, action = case.command.split()
        case = Bad(case.id, (action, *case.args), case.message, case.make, command)
    refuse(case, tmp_path, cache_dir, capsys)
