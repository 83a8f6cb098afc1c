"""A site: the road network with enterprises, police and fire stations, grids, echelon posts and drone nests.

``build_site(cfg)`` is the one entry point: config in, a validated ``Site`` out (or a SiteError listing
every problem). Everything downstream (model, metrics, plots) reads the site and never reaches back into
the sources it came from. Geometries are in the graph's projected CRS (metres); every facility carries the
road ``node`` it is snapped to and the distance ``snap_m`` to it.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
from shapely.geometry import Point

from sim.config import EchelonConfig, StationSpec, output_dir
from sim.errors import SiteError
from sim.site import cache as site_cache
from sim.site.enterprises import generate_enterprises
from sim.site.facilities import enterprises_from, kindless_warning, read_facilities
from sim.site.grids import assign_to_polygons, build_grids, network_bounds_m, place_posts, read_grid_file
from sim.site.routing import Router
from sim.site.site import Site, snap
from sim.site.validate import site_problems
from sim.streams import stream


def _with_nodes(frame: gpd.GeoDataFrame, graph: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["node"], frame["snap_m"] = snap(graph, frame.geometry)
    return frame


# role (as in a facilities file) -> (id prefix, what a reader calls it)
STATION_ROLES = {"station": ("S", "police station"), "fire_station": ("F", "fire station")}
STATION_COLUMNS = ["id", "name", "node", "snap_m", "generated", "geometry"]


def _given_stations(
    osm: gpd.GeoDataFrame, specs: list[StationSpec], facilities, role: str, crs
) -> gpd.GeoDataFrame:
    """Stations of one role from the OSM data (read only if the config says so), the config and the
    facilities file, in that order."""
    names = [n or f"{STATION_ROLES[role][1]} {i + 1}" for i, n in enumerate(osm["name"])]
    points = list(osm.geometry)
    for spec in specs:
        names.append(spec.name)
        points.append(Point(spec.lon, spec.lat))
    if facilities is not None:
        rows = facilities[facilities["role"] == role]
        names += list(rows["name"].astype(str))
        points += list(rows.geometry)
    return gpd.GeoDataFrame({"name": names, "generated": False}, geometry=points, crs="EPSG:4326").to_crs(crs)


def _p_median_nodes(graph, router: Router, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` road nodes on the main road piece, by a greedy p-median over a sample of candidate nodes."""
    main = max(nx.strongly_connected_components(graph), key=len)
    nodes = np.array(sorted(main))
    candidates = rng.choice(nodes, size=min(len(nodes), 200), replace=False)
    times = router.times_from(candidates)[:, router.index(nodes)]
    chosen: list[int] = []
    best = np.full(len(nodes), np.inf)
    for _ in range(min(k, len(candidates))):
        totals = np.minimum(times, best).sum(axis=1)
        totals[chosen] = np.inf
        pick = int(np.argmin(totals))
        chosen.append(pick)
        best = np.minimum(best, times[pick])
    return candidates[chosen]


def _stations(
    given: gpd.GeoDataFrame, role: str, generate: int, graph, router: Router, seed: int
) -> gpd.GeoDataFrame:
    """The given stations snapped to the roads; if there are none, ``generate`` placeholders.

    Placeholders are for a user's network that names no station: a greedy p-median puts them where they
    reach the main road piece fastest, and their name and ``generated`` column say they are not real.
    """
    prefix, label = STATION_ROLES[role]
    if len(given) == 0 and generate:
        picked = _p_median_nodes(graph, router, generate, stream(seed, f"site.generated_{role}s"))
        frame = gpd.GeoDataFrame(
            {
                "name": [f"generated {label} {i + 1} (placeholder)" for i in range(len(picked))],
                "generated": True,
                "node": picked,
                "snap_m": 0.0,
            },
            geometry=[Point(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in picked],
            crs=given.crs,
        )
    else:
        frame = _with_nodes(given, graph)
    frame["id"] = [f"{prefix}{i + 1}" for i in range(len(frame))]
    return frame[STATION_COLUMNS]


def _nests(cfg: EchelonConfig, stations, zones, facilities, crs) -> gpd.GeoDataFrame:
    names, points = [], []
    if cfg.drones.nests_at_stations:
        names += [f"nest at {n}" for n in stations["name"]]
        points += list(stations.geometry)
    if cfg.drones.nests_at_ports:
        ports = zones[zones["kind"] == "port"]
        names += [f"nest at {n or 'port'}" for n in ports["name"]]
        points += list(ports.geometry.representative_point())
    if facilities is not None:
        rows = facilities[facilities["role"] == "nest"].to_crs(crs)
        names += list(rows["name"].astype(str))
        points += list(rows.geometry)
    return gpd.GeoDataFrame(
        {"id": [f"N{i + 1}" for i in range(len(names))], "name": names}, geometry=points, crs=crs
    )


def _grid_list(ids: list[str], shown: int = 20) -> str:
    """The valid grid ids for a message: all of them, or the first ``shown`` and a count."""
    if not ids:
        return "there are no grids (no cell or polygon holds an enterprise)"
    listed = ", ".join(ids[:shown]) + (f", ... ({len(ids)} in all)" if len(ids) > shown else "")
    return f"the {len(ids)} grid(s) are {listed}"


def _post_grid_problems(given: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, source: str) -> SiteError | None:
    """Posts from the file that name no grid of this site, and grids the file gives no post.

    Why here and not in validation: a post naming a grid that does not exist leaves the real grid without a
    post, and "grid R02C03 has no echelon post" would not say which row of the file is wrong.
    """
    ids = list(grids["id"])
    known = set(ids)
    problems = [
        f"{r.source_row} ({r.name}): grid {r.grid!r} does not exist"
        for r in given.itertuples()
        if r.grid not in known
    ]
    served = set(given["grid"])
    problems += [
        f"grid {g} has no post; add a row with role=post and grid={g}" for g in ids if g not in served
    ]
    if not problems:
        return None
    where = (
        f"{_grid_list(ids)} (the grids layer of site.gpkg; a grid holds at least grid.min_enterprises "
        "enterprise(s))"
    )
    if len(problems) == 1:
        (problem,) = problems
        return SiteError(
            f"{source}{'' if problem.startswith(('row ', 'feature ')) else ':'} {problem}; {where}"
        )
    return SiteError(f"{source}: {len(problems)} problems with posts and grids; {where}", problems)


def _posts_outside_grids(posts: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, source: str) -> list[str]:
    """A planner's post far outside the grid it serves is allowed (a post at a station) but is often a
    mistyped grid id, so it is pointed out."""
    shapes = dict(zip(grids["id"], grids.geometry, strict=True))
    out = []
    for post in posts.itertuples():
        gap_m = shapes[post.grid].distance(post.geometry)
        if gap_m > 1.0:
            out.append(f"{post.source_row} ({post.name}) lies {gap_m:.0f} m outside grid {post.grid}")
    if not out:
        return []
    shown = "; ".join(out[:5]) + (f"; and {len(out) - 5} more" if len(out) > 5 else "")
    return [f"{len(out)} post(s) in {source} lie outside the grid they serve (a wrong grid id?): {shown}"]


def _posts(
    grids, enterprises, facilities, router: Router, graph, crs, source: str
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """One post per grid: the file's, checked against the grids, or placed at each grid's 1-median.

    Returns the posts and warnings about them.
    """
    given = facilities[facilities["role"] == "post"].to_crs(crs) if facilities is not None else None
    warnings: list[str] = []
    if given is not None and len(given):
        problem = _post_grid_problems(given, grids, source)
        if problem is not None:
            raise problem
        warnings = _posts_outside_grids(given, grids, source)
        frame = gpd.GeoDataFrame({"grid": given["grid"].to_numpy()}, geometry=given.geometry.values, crs=crs)
        frame = _with_nodes(frame, graph)
    else:
        placed = place_posts(grids, enterprises, router)
        frame = gpd.GeoDataFrame(
            placed,
            geometry=[Point(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in placed["node"]],
            crs=crs,
        )
        frame["snap_m"] = 0.0
    frame.insert(0, "id", [f"P-{g}" for g in frame["grid"]])
    return frame, warnings


def build_site(cfg: EchelonConfig, *, validate: bool = True) -> Site:
    """Load, process, populate and validate the configured site; one built before from the same settings,
    input files and code is read back from ``cache_dir`` (``sim.site.cache``)."""
    site = site_cache.load(cfg, validate)
    if site is None:
        site = _build_site(cfg, validate=validate)
        site_cache.save(site, cfg, validate)
    return site


def _build_site(cfg: EchelonConfig, *, validate: bool = True) -> Site:
    from sim.site.network import load_raw, prepare_graph  # osmnx (2 s): only when not cached

    cache_dir = output_dir(cfg.cache_dir)
    # The planner's file first: its mistakes are reported before any road is loaded.
    facilities = read_facilities(cfg.site.facilities, cfg.enterprises) if cfg.site.facilities else None
    grid_file = read_grid_file(str(cfg.grid.path)) if cfg.grid.layout == "file" else None
    raw, features, source = load_raw(cfg.site, cache_dir, cfg.seed)
    graph = prepare_graph(raw, cfg.network, source)
    crs = graph.graph["crs"]
    router = Router.from_graph(graph, weight="travel_time")
    zones = features.zones.to_crs(crs)
    islands = features.islands.to_crs(crs)

    police = _given_stations(features.police, cfg.site.stations, facilities, "station", crs)
    stations = _stations(police, "station", cfg.site.generate_stations, graph, router, cfg.seed)
    fire = _given_stations(features.fire, cfg.site.fire_stations, facilities, "fire_station", crs)
    fire_stations = _stations(fire, "fire_station", cfg.site.generate_fire_stations, graph, router, cfg.seed)
    kind_warnings: list[str] = []
    if facilities is not None and (facilities["role"] == "enterprise").any():
        enterprises = enterprises_from(
            facilities, cfg.enterprises, stream(cfg.seed, "site.enterprises")
        ).to_crs(crs)
        kind_warnings = kindless_warning(facilities, cfg.enterprises, str(cfg.site.facilities))
    else:
        enterprises = generate_enterprises(zones, cfg.enterprises, stream(cfg.seed, "site.enterprises"))
    enterprises = _with_nodes(enterprises, graph)

    # Jurisdictions: each road node belongs to the station that reaches it first by road.
    node_station = np.full(router.n_nodes, "", dtype=object)
    if len(stations):
        _, which = router.nearest_source(stations["node"])
        ids = stations["id"].to_numpy()
        node_station[which >= 0] = ids[which[which >= 0]]
    enterprises["station"] = node_station[router.index(enterprises["node"])] if len(enterprises) else []

    grids = build_grids(zones, enterprises, cfg.grid, network_bounds_m(graph), grid_file)
    enterprises["grid"] = assign_to_polygons(enterprises, grids) if len(grids) else ""
    posts, post_warnings = _posts(
        grids, enterprises, facilities, router, graph, crs, str(cfg.site.facilities)
    )
    posts["station"] = node_station[router.index(posts["node"])] if len(posts) else []
    grids["post"] = grids["id"].map(dict(zip(posts["grid"], posts["id"], strict=True)))
    grids["station"] = grids["id"].map(dict(zip(posts["grid"], posts["station"], strict=True)))
    nests = _with_nodes(_nests(cfg, stations, zones, facilities, crs), graph)

    site = Site(
        name=cfg.site.name,
        label=cfg.site.label,
        synthetic=cfg.site.synthetic,
        source=source,
        graph=graph,
        router=router,
        islands=islands,
        zones=zones,
        stations=stations,
        enterprises=gpd.GeoDataFrame(enterprises, geometry="geometry", crs=crs),
        grids=grids,
        posts=posts,
        nests=nests,
        fire_stations=fire_stations,
        node_station=node_station,
        water=features.water.to_crs(crs),
    )
    problems, warnings = site_problems(site, cfg)
    warnings = kind_warnings + post_warnings + warnings
    if validate and problems:
        shown = problems[:25] + ([f"... and {len(problems) - 25} more"] if len(problems) > 25 else [])
        raise SiteError(f"site '{cfg.site.name}' ({source}) has {len(problems)} problem(s)", shown)
    return Site(
        **{**site.__dict__, "warnings": tuple(problems + warnings) if not validate else tuple(warnings)}
    )
