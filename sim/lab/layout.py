"""A grid layout: emergency grids (polygons with ids) and the posts where their echelons wait.

The grid design lab compares layouts on one built site. A layout is data: generators (``sim.lab.generators``),
a planner's file (``sim.lab.layout_file``) and the optimiser (``sim.lab.optimise``) all make one, and
``apply_layout`` puts it on the site, so the model, the metrics and the figures read it exactly as they read
the site's own grids. Everything else on the site (roads, enterprises, stations) stays as it was, so two
layouts see the same incidents (common random numbers).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from sim.site.grids import assign_to_polygons, place_posts
from sim.site.site import Site, snap

GRID_COLUMNS = ["id", "zone", "geometry"]
POST_COLUMNS = ["id", "grid", "node", "echelons", "snap_m", "geometry"]


@dataclass(frozen=True)
class Layout:
    """Grids (id, zone, geometry) and posts (id, grid, node, echelons, snap_m, geometry), in the site's CRS.

    ``echelons`` is the number of teams waiting at a post. ``source`` says in words how the layout was made
    ("square cells of 1,000 m"); ``warnings`` what was repaired or looks odd."""

    name: str
    source: str
    grids: gpd.GeoDataFrame
    posts: gpd.GeoDataFrame
    warnings: tuple[str, ...] = ()

    @property
    def n_echelons(self) -> int:
        return int(self.posts["echelons"].sum()) if len(self.posts) else 0

    def with_warnings(self, more: list[str]) -> Layout:
        return dataclasses.replace(self, warnings=self.warnings + tuple(more))


def _node_points(site: Site, nodes) -> list[Point]:
    return [Point(site.graph.nodes[int(n)]["x"], site.graph.nodes[int(n)]["y"]) for n in nodes]


def posts_at_nodes(site: Site, grid_ids, nodes, echelons=1) -> gpd.GeoDataFrame:
    """Posts on given road nodes, one per grid id (ids ``P-<grid>``)."""
    grid_ids = [str(g) for g in grid_ids]
    nodes = [int(n) for n in nodes]
    counts = np.broadcast_to(np.asarray(echelons, dtype=int), (len(nodes),))
    return gpd.GeoDataFrame(
        {
            "id": [f"P-{g}" for g in grid_ids],
            "grid": grid_ids,
            "node": np.asarray(nodes, dtype=np.int64),
            "echelons": counts.astype(int),
            "snap_m": 0.0,
        },
        geometry=_node_points(site, nodes),
        crs=site.crs,
    )[POST_COLUMNS]


def posts_at_points(site: Site, grid_ids, points: gpd.GeoSeries, ids=None, echelons=1) -> gpd.GeoDataFrame:
    """Posts a planner placed (points, any CRS), snapped to the nearest road node."""
    points = points.to_crs(site.crs)
    nodes, snap_m = snap(site.graph, points)
    out = posts_at_nodes(site, grid_ids, nodes, echelons)
    if ids is not None:
        out["id"] = [str(i) for i in ids]
    out["snap_m"] = snap_m
    out["geometry"] = points.values
    return out


def median_posts(site: Site, grids: gpd.GeoDataFrame, echelons: int = 1) -> gpd.GeoDataFrame:
    """A post in every grid holding enterprises: the road node among its enterprises' nodes that minimises
    workforce-weighted travel time to them (the same 1-median rule as the site's own grids)."""
    members = site.enterprises.assign(grid=assign_to_polygons(site.enterprises, grids))
    held = [g for g in grids["id"] if (members["grid"] == g).any()]
    placed = place_posts(grids[grids["id"].isin(held)], members, site.router)
    return posts_at_nodes(site, placed["grid"], placed["node"], echelons)


def make_layout(
    site: Site,
    name: str,
    source: str,
    grids: gpd.GeoDataFrame,
    posts: gpd.GeoDataFrame | None = None,
    echelons: int = 1,
    keep_empty: bool = False,
) -> Layout:
    """A layout from grid polygons and (optionally) posts; grids without a post get one at their 1-median.

    Grids holding no enterprise are dropped unless ``keep_empty`` (a planner's empty grid is kept and
    reported by the checks, not silently removed)."""
    grids = grids.to_crs(site.crs)
    grids = gpd.GeoDataFrame(
        {"id": grids["id"].astype(str).to_numpy(), "zone": _zones(site, grids)},
        geometry=grids.geometry.values,
        crs=site.crs,
    )
    if not keep_empty:
        held = set(assign_to_polygons(site.enterprises, grids)) - {""}
        grids = grids[grids["id"].isin(held)].reset_index(drop=True)
    if posts is None or len(posts) == 0:
        posts = median_posts(site, grids, echelons)
    else:
        posts = posts.to_crs(site.crs)
        missing = grids[~grids["id"].isin(set(posts["grid"]))]
        if len(missing):
            posts = pd.concat([posts, median_posts(site, missing, echelons)], ignore_index=True)
        posts = gpd.GeoDataFrame(posts, geometry="geometry", crs=site.crs)
    return Layout(name, source, grids[GRID_COLUMNS], posts[POST_COLUMNS].reset_index(drop=True))


def _zones(site: Site, grids: gpd.GeoDataFrame) -> list[str]:
    """Each grid's zone: the one it overlaps most (hazmat kit follows the zone's kind), or a given one."""
    given = grids["zone"].astype(str).tolist() if "zone" in grids.columns else [""] * len(grids)
    if len(site.zones) == 0:
        return given
    out = []
    for text, shape in zip(given, grids.geometry, strict=True):
        if text and text != "nan":
            out.append(text)
            continue
        overlap = site.zones.geometry.intersection(shape).area.to_numpy()
        out.append(str(site.zones["name"].iloc[int(overlap.argmax())]) if overlap.max() > 0 else "")
    return out


def site_layout(site: Site, name: str = "site", source: str = "the site's own grids and posts") -> Layout:
    """The layout the site was built with (``grid.*`` and the facilities file's posts)."""
    posts = site.posts.copy()
    if "echelons" not in posts.columns:
        posts["echelons"] = 1
    return Layout(name, source, site.grids[GRID_COLUMNS].copy(), posts[POST_COLUMNS].copy())


def apply_layout(site: Site, layout: Layout) -> Site:
    """The site with this layout's grids and posts; enterprises re-assigned to the grid that holds them.

    Posts keep the station whose jurisdiction holds their node (the cross-district rules read it)."""
    grids = layout.grids.copy()
    posts = layout.posts.copy()
    enterprises = site.enterprises.copy()
    enterprises["grid"] = assign_to_polygons(enterprises, grids) if len(grids) else ""
    counts = enterprises["grid"].value_counts()
    grids["n_enterprises"] = grids["id"].map(counts).fillna(0).astype(int)
    posts["station"] = site.node_station[site.router.index(posts["node"])] if len(posts) else []
    grids["post"] = grids["id"].map(dict(zip(posts["grid"], posts["id"], strict=True)))
    grids["station"] = grids["id"].map(dict(zip(posts["grid"], posts["station"], strict=True)))
    return dataclasses.replace(site, grids=grids, posts=posts, enterprises=enterprises)
