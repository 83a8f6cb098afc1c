"""Grid-layout generators a planner picks in config: squares, hexagons, enterprise clusters, network-Voronoi
cells around given posts, police jurisdictions.

Each returns a ``Layout`` made by ``make_layout`` (grids holding no enterprise are dropped, each grid gets one
post) and says in ``source`` how it was made. They cut the same land as the site's own square grids (the
zones, or the enterprises' surroundings when there are none), so layouts differ only in how they divide it.
Ids are read off the map and do not depend on the order anything was computed in: a planner comparing two
runs finds the same grid under the same id.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon, box
from sklearn.cluster import KMeans

from sim.errors import ConfigError
from sim.lab.layout import Layout, make_layout, posts_at_nodes
from sim.site.grids import assign_to_polygons, grid_land, network_bounds_m, square_grids
from sim.site.site import Site
from sim.streams import stream

KMEANS_N_INIT = 10  # restarts of k-means: fixed, so a seed gives one answer whatever sklearn's default


def land_of(site: Site) -> gpd.GeoDataFrame:
    """The zones generated grids are cut from (``grid_land``: the same land as the site's square grids)."""
    return grid_land(site.zones, site.enterprises)


def _id_width(extent: int) -> int:
    """Digits of a zero-padded id number: at least two, like the square ids."""
    return max(2, len(str(extent)))


def _nw_to_se(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Order of points from north-west to south-east (along x - y; ties north first, then west), so
    numbered ids do not depend on the order an algorithm returned the points in."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    return np.lexsort((xs, -ys, xs - ys))


def _envelope(land, xy: np.ndarray) -> Polygon:
    """A box well beyond the land and the points: Voronoi cells are extended to it before clipping, so no
    cell is cut short of the land's edge."""
    minx, miny, maxx, maxy = land.bounds
    if len(xy):
        minx, miny = min(minx, xy[:, 0].min()), min(miny, xy[:, 1].min())
        maxx, maxy = max(maxx, xy[:, 0].max()), max(maxy, xy[:, 1].max())
    margin_m = max(maxx - minx, maxy - miny, 1.0)
    return box(minx - margin_m, miny - margin_m, maxx + margin_m, maxy + margin_m)


def voronoi_cells(xy: np.ndarray, envelope: Polygon) -> np.ndarray:
    """The planar Voronoi cell of each point, in input order, reaching ``envelope`` (points distinct)."""
    if len(xy) == 1:
        return np.array([envelope], dtype=object)
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(xy), extend_to=envelope, ordered=True))
    if len(cells) != len(xy):
        raise ValueError(f"Voronoi gave {len(cells)} cells for {len(xy)} points (points not distinct?)")
    return cells


# -- squares and hexagons ------------------------------------------------------------------------------------


def squares(site: Site, cell_m: float, echelons: int) -> Layout:
    """Square cells of ``cell_m`` over the land, ids R<row>C<column> as the site's own square grids."""
    cells = square_grids(land_of(site), cell_m, network_bounds_m(site.graph))
    return make_layout(
        site, f"squares-{cell_m:g}", f"square cells of {cell_m:,.0f} m", cells, echelons=echelons
    )


def hexagon(x_m: float, y_m: float, cell_m: float) -> Polygon:
    """A pointy-top hexagon centred on (x, y), ``cell_m`` across the flats (east to west)."""
    half_m, radius_m = cell_m / 2.0, cell_m / math.sqrt(3.0)
    return Polygon(
        [
            (x_m, y_m + radius_m),
            (x_m - half_m, y_m + radius_m / 2),
            (x_m - half_m, y_m - radius_m / 2),
            (x_m, y_m - radius_m),
            (x_m + half_m, y_m - radius_m / 2),
            (x_m + half_m, y_m + radius_m / 2),
        ]
    )


def hex_tiling(
    cover_m: tuple[float, float, float, float],
    cell_m: float,
    frame_m: tuple[float, float, float, float],
    crs=None,
) -> gpd.GeoDataFrame:
    """Unclipped hexagons (id, geometry) covering the box ``cover_m``: pointy-top, ``cell_m`` across flats,
    so neighbouring centres are ``cell_m`` apart.

    Centres sit on a lattice fixed to the CRS origin (rows ``cell_m * sqrt(3) / 2`` apart, odd rows shifted
    half a cell east), so a hexagon is the same shape wherever the land ends. Ids ``H<row>-<column>`` count
    rows from the north and columns from the west of ``frame_m`` joined with ``cover_m``, 1-based."""
    row_m = cell_m * math.sqrt(3.0) / 2.0
    radius_m = cell_m / math.sqrt(3.0)
    minx, miny, maxx, maxy = cover_m
    west = math.floor((min(minx, frame_m[0]) - cell_m) / cell_m)
    east = math.ceil((max(maxx, frame_m[2]) + cell_m) / cell_m)
    north = math.ceil((max(maxy, frame_m[3]) + radius_m) / row_m)
    south = math.floor((min(miny, frame_m[1]) - radius_m) / row_m)
    width = _id_width(max(north - south + 1, east - west + 1))
    ids, shapes = [], []
    for j in range(math.floor((miny - radius_m) / row_m), math.ceil((maxy + radius_m) / row_m) + 1):
        shift_m = (j % 2) * cell_m / 2.0
        for i in range(math.floor((minx - cell_m) / cell_m), math.ceil((maxx + cell_m) / cell_m) + 1):
            ids.append(f"H{north - j + 1:0{width}d}-{i - west + 1:0{width}d}")
            shapes.append(hexagon(i * cell_m + shift_m, j * row_m, cell_m))
    return gpd.GeoDataFrame({"id": ids}, geometry=shapes, crs=crs)


def hexagons(site: Site, cell_m: float, echelons: int) -> Layout:
    """Hexagons ``cell_m`` across (see ``hex_tiling``) clipped to the same land as squares."""
    land = land_of(site).geometry.union_all()
    tiles = hex_tiling(land.bounds, cell_m, network_bounds_m(site.graph), site.crs)
    pieces = shapely.intersection(tiles.geometry.to_numpy(), land)
    keep = ~shapely.is_empty(pieces) & (shapely.area(pieces) > 1.0)
    cells = gpd.GeoDataFrame({"id": tiles["id"].to_numpy()[keep]}, geometry=pieces[keep], crs=site.crs)
    return make_layout(
        site, f"hexagons-{cell_m:g}", f"hexagons {cell_m:,.0f} m across", cells, echelons=echelons
    )


# -- clusters ------------------------------------------------------------------------------------------------


def clusters(site: Site, count: int, echelons: int, seed: int) -> Layout:
    """``count`` k-means clusters of the enterprises (weighted by workforce); a grid is the planar Voronoi
    cell of a cluster centre clipped to the land, its post the 1-median of its enterprises.

    Ids K01.. number the centres from north-west to south-east, not in k-means' arbitrary label order."""
    ents = site.enterprises
    xy = np.column_stack([ents.geometry.x.to_numpy(), ents.geometry.y.to_numpy()])
    distinct = len(np.unique(xy, axis=0))
    if count > distinct:
        raise ConfigError(
            f"count: {count} clusters, but the site has {distinct} enterprise places; at most that"
        )
    random_state = int(stream(seed, "lab.clusters").integers(2**31 - 1))
    fit = KMeans(n_clusters=count, n_init=KMEANS_N_INIT, random_state=random_state).fit(
        xy, sample_weight=ents["workforce"].to_numpy(dtype=float)
    )
    centres = fit.cluster_centers_[_nw_to_se(fit.cluster_centers_[:, 0], fit.cluster_centers_[:, 1])]
    land = land_of(site).geometry.union_all()
    pieces = shapely.intersection(voronoi_cells(centres, _envelope(land, centres)), land)
    width = _id_width(count)
    cells = gpd.GeoDataFrame(
        {"id": [f"K{k + 1:0{width}d}" for k in range(count)]}, geometry=pieces, crs=site.crs
    )
    cells = cells[~cells.geometry.is_empty].reset_index(drop=True)
    source = f"{count} clusters of enterprises (k-means, workforce-weighted)"
    return make_layout(site, f"clusters-{count}", source, cells, echelons=echelons)


# -- regions grown on the road network -----------------------------------------------------------------------


def polygons_from_node_labels(site: Site, labels: np.ndarray) -> gpd.GeoDataFrame:
    """One polygon per label (id = label, sorted): the union of the planar Voronoi cells of the road nodes
    carrying it (``labels`` per router index), clipped to the land.

    Nodes labelled '' (nothing reaches them) belong to no polygon. Where two nodes share a place the first
    one's label holds the cell."""
    labels = np.asarray(labels, dtype=object)
    nodes = site.router.nodes
    xy = np.array([(site.graph.nodes[n]["x"], site.graph.nodes[n]["y"]) for n in nodes], dtype=float)
    places, first = np.unique(xy, axis=0, return_index=True)
    land = land_of(site).geometry.union_all()
    cells = voronoi_cells(places, _envelope(land, places))
    place_labels = labels[first]
    ids, shapes = [], []
    for label in sorted({str(v) for v in place_labels} - {""}):
        piece = shapely.coverage_union_all(cells[place_labels == label]).intersection(land)
        if not piece.is_empty and piece.area > 1.0:
            ids.append(label)
            shapes.append(piece)
    return gpd.GeoDataFrame({"id": ids}, geometry=shapes, crs=site.crs)


def misplaced_warnings(site: Site, grids: gpd.GeoDataFrame, node_labels: np.ndarray, what: str) -> list[str]:
    """Enterprises whose point lies in another grid than the one their road node belongs to (their snapped
    node sits across a cell border), and enterprises on roads nothing reaches: counted, not hidden."""
    ents = site.enterprises
    if len(ents) == 0:
        return []
    wanted = np.asarray(node_labels, dtype=object)[site.router.index(ents["node"])].astype(str)
    held = assign_to_polygons(ents, grids).to_numpy()
    out = []
    unreached = wanted == ""
    if unreached.any():
        out.append(f"{int(unreached.sum())} enterprise(s) sit on roads no {what} reaches by road")
    wrong = ~unreached & (held != "") & (held != wanted)
    if wrong.any():
        out.append(
            f"{int(wrong.sum())} enterprise(s) lie in the grid of another {what} than the one that reaches "
            "their road node first (the point and its snapped node are on two sides of a grid border)"
        )
    return out


def network_voronoi(site: Site, post_nodes: Sequence[int], echelons: int, name_prefix: str = "V") -> Layout:
    """Each road node goes to the post that reaches it first by road (one-way streets and bridges respected,
    water never crossed); a grid is the land nearest that post's roads. Posts are exactly ``post_nodes``.

    Ids V01.. number the posts from north-west to south-east. A post whose grid holds no enterprise is
    dropped with a warning."""
    nodes = [int(n) for n in post_nodes]
    _check_post_nodes(site, nodes)
    xy = np.array([(site.graph.nodes[n]["x"], site.graph.nodes[n]["y"]) for n in nodes], dtype=float)
    order = _nw_to_se(xy[:, 0], xy[:, 1])
    nodes = [nodes[k] for k in order]
    width = _id_width(len(nodes))
    ids = np.array([f"{name_prefix}{k + 1:0{width}d}" for k in range(len(nodes))], dtype=object)
    _, which = site.router.nearest_source(nodes)
    labels = np.where(which >= 0, ids[np.maximum(which, 0)], "")
    grids = polygons_from_node_labels(site, labels)
    posts = posts_at_nodes(site, ids, nodes, echelons)
    source = f"network-Voronoi around {len(nodes)} posts: each road goes to the post that reaches it first"
    layout = make_layout(site, f"voronoi-{len(nodes)}", source, grids, posts, echelons)
    idle = posts[~posts["grid"].isin(set(layout.grids["id"]))]
    kept = layout.posts[layout.posts["grid"].isin(set(layout.grids["id"]))].reset_index(drop=True)
    layout = dataclasses.replace(layout, posts=kept)
    warnings = misplaced_warnings(site, layout.grids, labels, "post")
    if len(idle):
        shown = ", ".join(f"{r.grid} (node {r.node})" for r in idle.head(5).itertuples())
        more = f" and {len(idle) - 5} more" if len(idle) > 5 else ""
        warnings.append(f"{len(idle)} post(s) dropped, their grid holding no enterprise: {shown}{more}")
    return layout.with_warnings(warnings)


def _check_post_nodes(site: Site, nodes: list[int]) -> None:
    """Post nodes must be distinct road nodes of this site (one post per grid)."""
    if not nodes:
        raise ConfigError("post_nodes: empty; give at least one road node id")
    twice = sorted({n for n in nodes if nodes.count(n) > 1})
    if twice:
        raise ConfigError(f"post_nodes: node {twice[0]} is given twice; one post per node")
    missing = [n for n in nodes if n not in site.graph]
    if missing:
        raise ConfigError(f"post_nodes: node {missing[0]} is not a road node of site '{site.name}'")


def jurisdictions(site: Site, echelons: int) -> Layout:
    """One grid per police station: the land nearest the roads its station reaches first (the site's
    ``node_station``), ids the station ids, posts at the 1-median of each grid's enterprises."""
    labels = np.asarray(site.node_station, dtype=object)
    grids = polygons_from_node_labels(site, labels)
    layout = make_layout(
        site, "jurisdictions", "one grid per police station jurisdiction", grids, echelons=echelons
    )
    return layout.with_warnings(misplaced_warnings(site, layout.grids, labels, "police station"))


# -- the registry the config reader validates against --------------------------------------------------------

Generator = Callable[..., Layout]

GENERATORS: dict[str, tuple[Generator, tuple[str, ...], str]] = {
    "squares": (squares, ("cell_m",), "square cells cell_m metres on a side, ids R<row>C<column>"),
    "hexagons": (hexagons, ("cell_m",), "hexagons cell_m metres across the flats, ids H<row>-<column>"),
    "clusters": (
        clusters,
        ("count",),
        "count k-means clusters of enterprises (workforce-weighted), ids K01..",
    ),
    "network_voronoi": (
        network_voronoi,
        ("post_nodes",),
        "posts on the given road nodes; each road goes to the post that reaches it first, ids V01..",
    ),
    "jurisdictions": (jurisdictions, (), "one grid per police station jurisdiction, ids the station ids"),
}

# parameter -> (is it allowed, what is allowed, in words)
_PARAMETERS: dict[str, tuple[Callable[[object], bool], str]] = {
    "cell_m": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0,
        "a positive number of metres",
    ),
    "count": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0, "a positive whole number"),
    "post_nodes": (
        lambda v: (
            isinstance(v, list | tuple)
            and len(v) > 0
            and all(isinstance(n, int) and not isinstance(n, bool) for n in v)
        ),
        "a non-empty list of road node ids",
    ),
}


def generate(site: Site, spec: dict, echelons: int, seed: int) -> Layout:
    """The layout ``spec`` asks for, e.g. ``{"generator": "hexagons", "cell_m": 800}``; a ConfigError (one
    line naming the field and what is allowed) for an unknown generator, key or a bad parameter."""
    function, params = check_spec(spec, echelons)
    if "seed" in inspect.signature(function).parameters:
        params["seed"] = seed
    return function(site, echelons=echelons, **params)


def check_spec(spec: dict, echelons: int = 1) -> tuple[Generator, dict]:
    """The generator a spec names and its parameters, checked without a site (so a mistyped layout is
    refused before any road is loaded)."""
    names = ", ".join(GENERATORS)
    if not isinstance(spec, dict):
        raise ConfigError(f"layout: {spec!r} is not a mapping; give generator: one of {names}")
    name = spec.get("generator")
    if name not in GENERATORS:
        given = "missing" if name is None else f"{name!r} is not a generator"
        raise ConfigError(f"generator: {given}; one of {names}")
    function, required, _ = GENERATORS[name]
    allowed = ("generator", *required)
    unknown = [k for k in spec if k not in allowed]
    if unknown:
        raise ConfigError(f"{unknown[0]}: not a key of generator {name}; allowed: {', '.join(allowed)}")
    for key in required:
        check, wanted = _PARAMETERS[key]
        if key not in spec:
            raise ConfigError(f"{key}: missing for generator {name}; give {wanted}")
        if not check(spec[key]):
            raise ConfigError(f"{key}: {spec[key]!r} is not allowed for generator {name}; give {wanted}")
    if isinstance(echelons, bool) or not isinstance(echelons, int) or echelons < 1:
        raise ConfigError(f"echelons: {echelons!r} is not allowed; give a positive whole number of teams")
    return function, {key: spec[key] for key in required}
