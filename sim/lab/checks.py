"""Checks of a grid layout against the site, and the repairs a planner may ask for instead of a refusal.

A layout is judged as the model will use it: an enterprise belongs to the first grid that holds it, a grid's
team leaves from its post's road node. What is checked (``Issue.kind``):

- ``overlap``: two grids share more than 1 m² (repair: the grid listed first keeps the shared area);
- ``gap``: enterprises in no grid (repair: each joins the nearest grid, whose polygon is stretched to take
  it in); land of the site's zones in no grid is reported too, above 1 %, as information only;
- ``post_outside``: a post a planner placed more than 1 m outside the grid it serves (allowed;
  information);
- ``post_off_network``: a post farther than ``max_snap_m`` from any road node (not repairable: move it);
- ``no_post``: a grid without a post (repair: one at the 1-median of its enterprises);
- ``empty_grid``: a grid holding no enterprise (repair: dropped);
- ``orphan_post``: a post serving a grid the layout does not have (repair: dropped);
- ``unreachable``: an enterprise its grid's post cannot reach by road, e.g. across water without a bridge
  (not repairable: redraw the grid or move the post).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Polygon
from shapely.ops import nearest_points

from sim.errors import ConfigError, SiteError
from sim.lab.layout import GRID_COLUMNS, POST_COLUMNS, Layout, median_posts
from sim.site.grids import assign_to_polygons
from sim.site.site import Site

OVERLAP_M2 = 1.0  # grids sharing less than this (a drawing's slivers) do not overlap
OUTSIDE_M = 1.0  # a post farther than this outside its grid lies outside it
LAND_SHARE = 0.01  # zone land in no grid is reported above this share
REACH_M = 10.0  # half the width of the strip that stretches a grid to an enterprise outside every grid
EXAMPLES = 3
ON_INVALID = ("refuse", "repair")


@dataclass(frozen=True)
class Issue:
    """One finding: its kind (see the module doc), what it says, whether ``repair_layout`` fixes it, and
    whether it stops a layout under on_invalid=refuse (``post_outside`` and uncovered zone land do not)."""

    kind: str
    message: str
    repairable: bool
    blocking: bool = True


def _polygonal(shape):
    """The polygon parts of a shape (a difference can leave lines and points behind), valid."""
    if shape is None or shape.is_empty:
        return Polygon()
    shape = shape if shape.is_valid else shapely.make_valid(shape)
    if shape.geom_type in ("Polygon", "MultiPolygon"):
        return shape
    parts = [g for g in getattr(shape, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else Polygon()


def _examples(rows: pd.DataFrame) -> str:
    """'E0001 (name), E0002 (name), E0003 (name) and 4 more'."""
    named = [f"{i} ({n})" for i, n in zip(rows["id"][:EXAMPLES], rows["name"][:EXAMPLES], strict=True)]
    more = f" and {len(rows) - EXAMPLES} more" if len(rows) > EXAMPLES else ""
    return ", ".join(named) + more


def _overlaps(grids: gpd.GeoDataFrame) -> list[tuple[int, int, float]]:
    """(i, j, shared m²) for each pair of grids i < j sharing more than ``OVERLAP_M2``."""
    shapes = [_polygonal(s) for s in grids.geometry]
    if not shapes:
        return []
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    out = []
    for i, j in sorted(zip(left.tolist(), right.tolist(), strict=True)):
        if i < j:
            area = shapes[i].intersection(shapes[j]).area
            if area > OVERLAP_M2:
                out.append((i, j, area))
    return out


def layout_problems(site: Site, layout: Layout, max_snap_m: float) -> list[Issue]:
    """Everything wrong or odd with a layout on this site, in the order of the module doc."""
    grids, posts, enterprises = layout.grids, layout.posts, site.enterprises
    issues: list[Issue] = []
    for i, j, area in _overlaps(grids):
        a, b = grids["id"].iloc[i], grids["id"].iloc[j]
        issues.append(Issue("overlap", f"grids {a} and {b} overlap by {area:,.0f} m²", True))

    member = assign_to_polygons(enterprises, grids) if len(grids) else pd.Series("", index=enterprises.index)
    loose = enterprises[(member == "").to_numpy()]
    if len(loose):
        issues.append(Issue("gap", f"{len(loose)} enterprise(s) lie in no grid: {_examples(loose)}", True))
    if len(site.zones):
        land = site.zones.geometry.union_all()
        covered = shapely.union_all([_polygonal(s) for s in grids.geometry]) if len(grids) else Polygon()
        bare = land.difference(covered).area
        if land.area > 0 and bare / land.area > LAND_SHARE:
            issues.append(
                Issue(
                    "gap",
                    f"{bare / land.area:.1%} of the zones' land ({bare / 1e6:,.2f} km²) lies in no grid",
                    False,
                    blocking=False,
                )
            )

    shape_of = dict(zip(grids["id"], grids.geometry, strict=True))
    for post in posts.itertuples(index=False):
        if post.grid not in shape_of:
            issues.append(
                Issue(
                    "orphan_post",
                    f"post {post.id} serves grid {post.grid}, which the layout does not have",
                    True,
                )
            )
            continue
        away = shape_of[post.grid].distance(post.geometry)
        # A post placed on a road node by a rule (snap_m 0: the 1-median of the grid's enterprises) sits on
        # the node of an enterprise inside the grid even where the road itself runs just outside it.
        if away > OUTSIDE_M and post.snap_m > 0:
            issues.append(
                Issue(
                    "post_outside",
                    f"post {post.id} lies {away:,.0f} m outside grid {post.grid}, which it serves",
                    False,
                    blocking=False,
                )
            )
        if post.snap_m > max_snap_m:
            issues.append(
                Issue(
                    "post_off_network",
                    f"post {post.id} (grid {post.grid}) is {post.snap_m:,.0f} m from the nearest road node; "
                    f"allowed: up to {max_snap_m:,.0f} m (move it onto a road)",
                    False,
                )
            )

    served = set(posts["grid"])
    held = set(member) - {""}
    for grid_id in grids["id"]:
        if grid_id not in served:
            issues.append(Issue("no_post", f"grid {grid_id} has no post", True))
        if grid_id not in held:
            issues.append(Issue("empty_grid", f"grid {grid_id} holds no enterprise", True))
    issues += _unreachable(site, posts, enterprises, member)
    return issues


def _unreachable(site: Site, posts: gpd.GeoDataFrame, enterprises, member: pd.Series) -> list[Issue]:
    """One issue per grid whose post(s) cannot reach some of its enterprises by road."""
    posts = posts[posts["grid"].isin(set(member))].reset_index(drop=True)
    if len(posts) == 0:
        return []
    times = site.router.times_from(posts["node"])[:, site.router.index(enterprises["node"])]
    out = []
    for grid_id, rows in posts.groupby("grid", sort=False).groups.items():
        rows = posts.index.get_indexer(rows)
        mine = (member == grid_id).to_numpy()
        cut = mine & np.isinf(times[rows].min(axis=0))
        if cut.any():
            post_ids = ", ".join(posts["id"].iloc[rows])
            node_ids = ", ".join(str(n) for n in posts["node"].iloc[rows])
            out.append(
                Issue(
                    "unreachable",
                    f"grid {grid_id}: its post {post_ids} (road node {node_ids}) cannot reach "
                    f"{int(cut.sum())} of its enterprises by road: {_examples(enterprises[cut])} "
                    "(across water without a bridge? redraw the grid or move the post)",
                    False,
                )
            )
    return out


def repair_layout(site: Site, layout: Layout) -> Layout:
    """The layout with what can be repaired repaired, each change said in its warnings: overlaps given to the
    grid listed first, enterprises in no grid taken into the nearest grid, posts of missing grids dropped,
    empty grids dropped, grids without a post given one at their 1-median."""
    notes: list[str] = []
    grids = layout.grids.copy()
    shapes = [_polygonal(s) for s in grids.geometry]

    for i, j, _ in _overlaps(grids):
        shared = shapes[j].intersection(shapes[i]).area
        if shared > OVERLAP_M2:
            a, b = grids["id"].iloc[i], grids["id"].iloc[j]
            shapes[j] = _polygonal(shapes[j].difference(shapes[i]))
            notes.append(
                f"grids {a} and {b} overlapped by {shared:,.0f} m²: the shared area is {a}'s (listed first)"
            )

    grids = grids.set_geometry(gpd.GeoSeries(shapes, index=grids.index, crs=grids.crs))
    member = assign_to_polygons(site.enterprises, grids) if len(grids) else None
    if member is not None and (member == "").any() and not all(s.is_empty for s in shapes):
        for row in site.enterprises[(member == "").to_numpy()].itertuples(index=False):
            k, away = _take_in(shapes, row.geometry)
            notes.append(
                f"enterprise {row.id} ({row.name}) lay in no grid: grid {grids['id'].iloc[k]}, {away:,.0f} m "
                "away, stretched to take it in"
            )
        grids = grids.set_geometry(gpd.GeoSeries(shapes, index=grids.index, crs=grids.crs))

    posts = layout.posts
    orphan = ~posts["grid"].isin(set(grids["id"]))
    notes += [
        f"post {p} served grid {g}, which the layout does not have: dropped"
        for p, g in zip(posts["id"][orphan], posts["grid"][orphan], strict=True)
    ]
    posts = posts[~orphan]

    held = set(assign_to_polygons(site.enterprises, grids)) - {""} if len(grids) else set()
    empty = ~grids["id"].isin(held)
    for grid_id in grids["id"][empty]:
        theirs = posts["id"][posts["grid"] == grid_id].tolist()
        with_post = f" with its post {', '.join(theirs)}" if theirs else ""
        notes.append(f"grid {grid_id} held no enterprise: dropped{with_post}")
    posts = posts[~posts["grid"].isin(set(grids["id"][empty]))]
    grids = grids[~empty].reset_index(drop=True)

    bare = grids[~grids["id"].isin(set(posts["grid"]))]
    if len(bare):
        counts = Counter(posts["echelons"].astype(int))
        echelons = counts.most_common(1)[0][0] if counts else 1
        placed = median_posts(site, bare, echelons)
        notes += [
            f"grid {g} had no post: one placed at the 1-median of its enterprises (road node {n}, {echelons} "
            f"echelon{'s' if echelons != 1 else ''})"
            for g, n in zip(placed["grid"], placed["node"], strict=True)
        ]
        posts = pd.concat([posts, placed], ignore_index=True)
    if not notes:
        return layout
    grids = gpd.GeoDataFrame(grids[GRID_COLUMNS], geometry="geometry", crs=layout.grids.crs)
    posts = gpd.GeoDataFrame(
        posts[POST_COLUMNS].reset_index(drop=True), geometry="geometry", crs=layout.grids.crs
    )
    source = f"{layout.source}, repaired"
    return dataclasses.replace(layout, source=source, grids=grids, posts=posts).with_warnings(notes)


def _take_in(shapes: list, point) -> tuple[int, float]:
    """Stretch the grid nearest to ``point`` to hold it (a strip from the grid to the point, less the other
    grids, so no new overlap); returns (index of that grid, metres it was away). ``shapes`` is updated."""
    away = np.array([s.distance(point) if not s.is_empty else np.inf for s in shapes])
    k = int(np.argmin(away))
    if shapes[k].contains(point):  # taken in already, by the strip to another enterprise
        return k, 0.0
    near = nearest_points(shapes[k], point)[0]
    strip = point.buffer(REACH_M)
    if away[k] > 0:
        strip = strip.union(LineString([near, point]).buffer(REACH_M))
    others = [s for m, s in enumerate(shapes) if m != k and not s.is_empty and s.intersects(strip)]
    if others:
        strip = strip.difference(shapely.union_all(others))
    grown = _polygonal(shapes[k].union(strip))
    if not grown.contains(point):  # the point lies on another grid's edge: a dot below the overlap limit
        grown = _polygonal(shapes[k].union(point.buffer(0.5)))
    shapes[k] = grown
    return k, float(away[k])


def check_layout(site: Site, layout: Layout, on_invalid: str, max_snap_m: float) -> Layout:
    """The layout, checked: ``refuse`` raises a SiteError listing every problem; ``repair`` returns it
    repaired (warnings say what changed) and raises only for what cannot be repaired. Posts outside their
    grid and zone land in no grid are warnings in both modes."""
    if on_invalid not in ON_INVALID:
        raise ConfigError(f"on_invalid: {on_invalid!r} is not allowed; allowed: {', '.join(ON_INVALID)}")
    issues = layout_problems(site, layout, max_snap_m)
    blocking = [i for i in issues if i.blocking]
    if on_invalid == "repair" and any(i.repairable for i in blocking):
        layout = repair_layout(site, layout)
        issues = layout_problems(site, layout, max_snap_m)
        blocking = [i for i in issues if i.blocking]
    if blocking:
        fixable = sum(i.repairable for i in blocking)
        if on_invalid == "refuse" and fixable:
            hint = f"; {fixable} of them can be repaired (on_invalid=repair)"
        elif on_invalid == "repair":
            hint = "; they cannot be repaired (redraw the grids or move the posts)"
        else:
            hint = ""
        head = f"layout {layout.name!r} ({layout.source}): {len(blocking)} problem(s){hint}"
        raise SiteError(head, [i.message for i in blocking])
    return layout.with_warnings([i.message for i in issues])
