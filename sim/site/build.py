"""A site: the road network with enterprises, police and fire stations, grids, echelon posts and drone nests.

``build_site(cfg)`` is the one entry point: config in, a validated ``Site`` out (or a SiteError listing
every problem). Everything downstream (model, metrics, plots) reads the site and never reaches back into
the sources it came from. Geometries are in the graph's projected CRS (metres); every facility carries the
road ``node`` it is snapped to and the distance ``snap_m`` to it.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
from shapely.geometry import Point

from sim.config import EchelonConfig, StationSpec
from sim.errors import SiteError
from sim.site.enterprises import generate_enterprises
from sim.site.facilities import enterprises_from, read_facilities
from sim.site.grids import assign_to_polygons, build_grids, place_posts
from sim.site.network import WGS84, load_raw, prepare_graph
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
    return gpd.GeoDataFrame({"name": names, "generated": False}, geometry=points, crs=WGS84).to_crs(crs)


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


def _posts(grids, enterprises, facilities, router: Router, graph, crs, source: str) -> gpd.GeoDataFrame:
    given = facilities[facilities["role"] == "post"] if facilities is not None else None
    if given is not None and len(given):
        if "grid" not in given.columns:
            raise SiteError(f"{source}: posts need a 'grid' column naming the grid each post serves")
        frame = gpd.GeoDataFrame(
            {"grid": given["grid"].astype(str).to_numpy()},
            geometry=given.to_crs(crs).geometry.values,
            crs=crs,
        )
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
    return frame


def build_site(cfg: EchelonConfig, *, validate: bool = True) -> Site:
    """Load, process, populate and validate the configured site."""
    cache_dir = Path(cfg.cache_dir)
    raw, features, source = load_raw(cfg.site, cache_dir, cfg.seed)
    graph = prepare_graph(raw, cfg.network, source)
    crs = graph.graph["crs"]
    router = Router.from_graph(graph, weight="travel_time")
    zones = features.zones.to_crs(crs)
    islands = features.islands.to_crs(crs)
    facilities = read_facilities(cfg.site.facilities) if cfg.site.facilities else None

    police = _given_stations(features.police, cfg.site.stations, facilities, "station", crs)
    stations = _stations(police, "station", cfg.site.generate_stations, graph, router, cfg.seed)
    fire = _given_stations(features.fire, cfg.site.fire_stations, facilities, "fire_station", crs)
    fire_stations = _stations(fire, "fire_station", cfg.site.generate_fire_stations, graph, router, cfg.seed)
    if facilities is not None and (facilities["role"] == "enterprise").any():
        enterprises = enterprises_from(
            facilities, cfg.enterprises, stream(cfg.seed, "site.enterprises"), str(cfg.site.facilities)
        ).to_crs(crs)
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

    grids = build_grids(zones, enterprises, cfg.grid)
    enterprises["grid"] = assign_to_polygons(enterprises, grids) if len(grids) else ""
    posts = _posts(grids, enterprises, facilities, router, graph, crs, str(cfg.site.facilities))
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
    if validate and problems:
        shown = problems[:25] + ([f"... and {len(problems) - 25} more"] if len(problems) > 25 else [])
        raise SiteError(f"site '{cfg.site.name}' ({source}) has {len(problems)} problem(s)", shown)
    return Site(
        **{**site.__dict__, "warnings": tuple(problems + warnings) if not validate else tuple(warnings)}
    )
