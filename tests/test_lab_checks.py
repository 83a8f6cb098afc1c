"""Layout checks on the Daishan site: each kind of problem found on a layout made to have it, repaired where
it can be (and the repair saying what it changed), refused in one line where asked or where it cannot be."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from sim.errors import ConfigError, SiteError
from sim.lab.checks import Issue, check_layout, layout_problems, repair_layout
from sim.lab.layout import Layout, posts_at_points, site_layout
from sim.site.grids import assign_to_polygons
from sim.site.roads import edges_named
from sim.site.routing import Router

MAX_SNAP_M = 500.0
REPAIRABLE = {"overlap", "gap", "no_post", "empty_grid"}
BUSY = "R08C12"  # a Daixi grid of 20 enterprises on Daishan island, neighbours on every side
XIUSHAN = "R14C18"  # a grid on Xiushan island, joined to Daishan by the Xiushan Bridge only


@pytest.fixture(scope="module")
def site_layout_(daishan_site) -> Layout:
    return site_layout(daishan_site)


def _with(layout: Layout, name: str, grids=None, posts=None) -> Layout:
    return dataclasses.replace(
        layout,
        name=name,
        source=f"the site's grids, {name}",
        grids=layout.grids.copy() if grids is None else grids.reset_index(drop=True),
        posts=layout.posts.copy() if posts is None else posts.reset_index(drop=True),
    )


def _kinds(issues: list[Issue], blocking_only: bool = False) -> set[str]:
    return {i.kind for i in issues if i.blocking or not blocking_only}


def _of(issues: list[Issue], kind: str) -> list[Issue]:
    return [i for i in issues if i.kind == kind]


def _assert_valid(site, layout: Layout) -> None:
    """No repairable problem is left, and the grids share no land."""
    left = layout_problems(site, layout, MAX_SNAP_M)
    assert not _kinds(left, blocking_only=True) & REPAIRABLE, [i.message for i in left]


def _sea_point(site, east_m: float) -> Point:
    """A point ``east_m`` east of the easternmost road node: open water."""
    xs = [x for _, x in site.graph.nodes(data="x")]
    ys = [y for _, y in site.graph.nodes(data="y")]
    return Point(max(xs) + east_m, (min(ys) + max(ys)) / 2)


def test_the_sites_own_layout_has_no_problem(daishan_site, site_layout_):
    issues = layout_problems(daishan_site, site_layout_, MAX_SNAP_M)
    assert not [i for i in issues if i.blocking], [i.message for i in issues]
    checked = check_layout(daishan_site, site_layout_, "refuse", MAX_SNAP_M)
    assert list(checked.grids["id"]) == list(site_layout_.grids["id"])


def test_an_overlap_names_both_grids_and_the_area_and_the_first_grid_keeps_it(daishan_site, site_layout_):
    grids = site_layout_.grids.copy()
    row = grids.index[grids["id"] == BUSY][0]
    grids.loc[row, "geometry"] = grids.geometry[row].buffer(100.0)
    layout = _with(site_layout_, "overlapping", grids=grids)
    found = _of(layout_problems(daishan_site, layout, MAX_SNAP_M), "overlap")
    assert found and all(i.repairable and i.blocking for i in found)
    assert any("R08C11" in i.message and BUSY in i.message and "m²" in i.message for i in found)
    ids = daishan_site.enterprises["id"]
    before = dict(zip(ids, assign_to_polygons(daishan_site.enterprises, grids), strict=True))

    repaired = repair_layout(daishan_site, layout)
    _assert_valid(daishan_site, repaired)
    assert any("R08C11" in w and BUSY in w and "shared area" in w for w in repaired.warnings)
    assert repaired.source.endswith("repaired")
    after = dict(zip(ids, assign_to_polygons(daishan_site.enterprises, repaired.grids), strict=True))
    assert after == before  # an enterprise in two grids belonged to the first; it still does
    # R08C11 is listed before R08C12 and keeps its whole square; R08C13, after it, gives up a strip
    square = dict(zip(site_layout_.grids["id"], site_layout_.grids.geometry, strict=True))
    fixed = dict(zip(repaired.grids["id"], repaired.grids.geometry, strict=True))
    assert fixed["R08C11"].equals(square["R08C11"])
    assert fixed["R08C13"].area < square["R08C13"].area - 1000


def test_enterprises_in_no_grid_are_a_gap_and_join_the_nearest_grid(daishan_site, site_layout_):
    layout = _with(site_layout_, "holed", grids=site_layout_.grids[site_layout_.grids["id"] != BUSY])
    layout = _with(layout, "holed", posts=site_layout_.posts[site_layout_.posts["grid"] != BUSY])
    issues = layout_problems(daishan_site, layout, MAX_SNAP_M)
    gap, land = (
        [i for i in _of(issues, "gap") if i.blocking],
        [i for i in _of(issues, "gap") if not i.blocking],
    )
    loose = daishan_site.enterprises[daishan_site.enterprises["grid"] == BUSY]
    assert len(gap) == 1 and gap[0].repairable
    assert gap[0].message.startswith(f"{len(loose)} enterprise(s) lie in no grid")
    assert loose["id"].iloc[0] in gap[0].message and loose["name"].iloc[0] in gap[0].message
    assert "more" in gap[0].message  # three examples, the rest counted
    assert len(land) == 1 and "of the zones' land" in land[0].message and not land[0].repairable

    repaired = repair_layout(daishan_site, layout)
    _assert_valid(daishan_site, repaired)
    held = assign_to_polygons(daishan_site.enterprises, repaired.grids)
    assert (held != "").all()
    for eid in loose["id"]:
        assert any(f"enterprise {eid} " in w and "stretched" in w for w in repaired.warnings)
    assert not _of(layout_problems(daishan_site, repaired, MAX_SNAP_M), "overlap")


def test_a_post_outside_its_grid_is_reported_but_allowed(daishan_site, site_layout_):
    grid = site_layout_.grids.set_index("id").geometry[BUSY]
    minx, miny, maxx, _ = grid.bounds
    moved = posts_at_points(
        daishan_site, [BUSY], gpd.GeoSeries([Point((minx + maxx) / 2, miny - 300.0)], crs=daishan_site.crs)
    )
    posts = pd.concat([site_layout_.posts[site_layout_.posts["grid"] != BUSY], moved], ignore_index=True)
    layout = _with(site_layout_, "post moved", posts=gpd.GeoDataFrame(posts, crs=daishan_site.crs))
    outside = _of(layout_problems(daishan_site, layout, MAX_SNAP_M), "post_outside")
    found = [i for i in outside if BUSY in i.message]  # a few 1-median nodes lie just outside their square
    assert len(found) == 1 and not found[0].blocking and not found[0].repairable
    assert f"P-{BUSY}" in found[0].message and "300 m outside grid R08C12" in found[0].message
    for mode in ("refuse", "repair"):
        checked = check_layout(daishan_site, layout, mode, MAX_SNAP_M)
        assert found[0].message in checked.warnings


def test_a_post_far_from_any_road_is_off_the_network_and_not_repaired(daishan_site, site_layout_):
    far = posts_at_points(
        daishan_site, [BUSY], gpd.GeoSeries([_sea_point(daishan_site, 3000.0)], crs=daishan_site.crs)
    )
    posts = pd.concat([site_layout_.posts[site_layout_.posts["grid"] != BUSY], far], ignore_index=True)
    layout = _with(site_layout_, "post at sea", posts=gpd.GeoDataFrame(posts, crs=daishan_site.crs))
    found = _of(layout_problems(daishan_site, layout, MAX_SNAP_M), "post_off_network")
    assert len(found) == 1 and not found[0].repairable and found[0].blocking
    assert f"P-{BUSY}" in found[0].message and "allowed: up to 500 m" in found[0].message
    with pytest.raises(SiteError) as err:
        check_layout(daishan_site, layout, "repair", MAX_SNAP_M)
    assert "cannot be repaired" in str(err.value) and found[0].message in err.value.problems


def test_a_grid_without_a_post_gets_one_at_its_median(daishan_site, site_layout_):
    layout = _with(site_layout_, "postless", posts=site_layout_.posts[site_layout_.posts["grid"] != BUSY])
    found = _of(layout_problems(daishan_site, layout, MAX_SNAP_M), "no_post")
    assert [i.message for i in found] == [f"grid {BUSY} has no post"] and found[0].repairable
    repaired = repair_layout(daishan_site, layout)
    _assert_valid(daishan_site, repaired)
    site_node = site_layout_.posts.set_index("grid")["node"][BUSY]  # the site's posts are 1-medians too
    assert repaired.posts.set_index("grid")["node"][BUSY] == site_node
    assert any(w.startswith(f"grid {BUSY} had no post") and str(site_node) in w for w in repaired.warnings)


def test_a_grid_holding_no_enterprise_is_empty_and_dropped(daishan_site, site_layout_):
    sea = _sea_point(daishan_site, 2000.0)
    extra = gpd.GeoDataFrame(
        {"id": ["空网格"], "zone": [""]},
        geometry=[box(sea.x, sea.y, sea.x + 500, sea.y + 500)],
        crs=daishan_site.crs,
    )
    grids = pd.concat([site_layout_.grids, extra], ignore_index=True)
    layout = _with(site_layout_, "with an empty grid", grids=gpd.GeoDataFrame(grids, crs=daishan_site.crs))
    issues = layout_problems(daishan_site, layout, MAX_SNAP_M)
    assert [i.message for i in _of(issues, "empty_grid")] == ["grid 空网格 holds no enterprise"]
    assert [i.message for i in _of(issues, "no_post")] == ["grid 空网格 has no post"]
    repaired = repair_layout(daishan_site, layout)
    _assert_valid(daishan_site, repaired)
    assert list(repaired.grids["id"]) == list(site_layout_.grids["id"])
    assert "grid 空网格 held no enterprise: dropped" in repaired.warnings


def test_a_post_that_cannot_reach_its_enterprises_by_road_is_unreachable(daishan_site, site_layout_):
    """Without the Xiushan Bridge, a Xiushan grid served from a post on Daishan island is cut off."""
    cut = dataclasses.replace(
        daishan_site,
        router=Router.from_graph(daishan_site.graph, closed=edges_named(daishan_site, "Xiushan Bridge")),
    )
    posts = site_layout_.posts.copy()
    across = posts.index[posts["grid"] == XIUSHAN][0]
    daishan = posts.index[posts["grid"] == BUSY][0]
    posts.loc[across, "node"] = posts.loc[daishan, "node"]
    posts.loc[across, "geometry"] = posts.geometry[daishan]
    layout = _with(site_layout_, "served across the water", posts=posts)
    assert not _of(layout_problems(daishan_site, layout, MAX_SNAP_M), "unreachable")  # the bridge is open

    found = _of(layout_problems(cut, layout, MAX_SNAP_M), "unreachable")
    members = daishan_site.enterprises[daishan_site.enterprises["grid"] == XIUSHAN]
    assert len(found) == 1 and not found[0].repairable
    assert f"grid {XIUSHAN}: its post P-{XIUSHAN}" in found[0].message
    assert f"cannot reach {len(members)} of its enterprises" in found[0].message
    assert members["id"].iloc[0] in found[0].message
    with pytest.raises(SiteError) as err:
        check_layout(cut, layout, "repair", MAX_SNAP_M)
    assert err.value.problems == [found[0].message]


def test_refuse_raises_one_line_naming_the_layout_and_lists_every_problem(daishan_site, site_layout_):
    grids = site_layout_.grids[site_layout_.grids["id"] != BUSY]
    layout = _with(site_layout_, "两处问题", grids=grids, posts=site_layout_.posts.drop(index=0))
    with pytest.raises(SiteError) as err:
        check_layout(daishan_site, layout, "refuse", MAX_SNAP_M)
    head = str(err.value)
    assert "\n" not in head and "两处问题" in head and layout.source in head
    assert "can be repaired (on_invalid=repair)" in head
    assert len(err.value.problems) == 3  # the gap, the post of the missing grid, the grid without a post
    assert any("lie in no grid" in p for p in err.value.problems)
    assert any(p.startswith("post P-R08C12 serves grid R08C12") for p in err.value.problems)
    assert any(p == f"grid {site_layout_.posts['grid'][0]} has no post" for p in err.value.problems)

    repaired = check_layout(daishan_site, layout, "repair", MAX_SNAP_M)
    _assert_valid(daishan_site, repaired)
    assert any("of the zones' land" in w for w in repaired.warnings)  # the dropped square: information only
    assert any("dropped" in w for w in repaired.warnings)


def test_several_problems_are_repaired_together(daishan_site, site_layout_):
    grids = site_layout_.grids[site_layout_.grids["id"] != BUSY].copy()
    first = grids.index[0]
    grids.loc[first, "geometry"] = grids.geometry[first].buffer(150.0)
    sea = _sea_point(daishan_site, 2000.0)
    extra = gpd.GeoDataFrame(
        {"id": ["E"], "zone": [""]}, geometry=[box(sea.x, sea.y, sea.x + 50, sea.y + 50)]
    )
    grids = gpd.GeoDataFrame(pd.concat([grids, extra.set_crs(daishan_site.crs)]), crs=daishan_site.crs)
    posts = site_layout_.posts[~site_layout_.posts["grid"].isin([BUSY, "R06C13"])]
    layout = _with(site_layout_, "messy", grids=grids, posts=posts)
    assert _kinds(layout_problems(daishan_site, layout, MAX_SNAP_M)) >= REPAIRABLE
    repaired = check_layout(daishan_site, layout, "repair", MAX_SNAP_M)
    _assert_valid(daishan_site, repaired)
    assert (assign_to_polygons(daishan_site.enterprises, repaired.grids) != "").all()
    assert set(repaired.posts["grid"]) == set(repaired.grids["id"])


def test_an_unknown_mode_is_refused(daishan_site, site_layout_):
    with pytest.raises(ConfigError, match="on_invalid: 'fix' is not allowed; allowed: refuse, repair"):
        check_layout(daishan_site, site_layout_, "fix", MAX_SNAP_M)
