"""A site: the road network with enterprises, police stations, grids, echelon posts and drone nests on it.

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

from sim.config import EchelonConfig
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


def _stations(cfg: EchelonConfig, police: gpd.GeoDataFrame, facilities, crs) -> gpd.GeoDataFrame:
    names, points = [], []
    if cfg.site.police_from_osm:
        names += [n or f"police {i + 1}" for i, n in enumerate(police["name"])]
        points += list(police.geometry)
    for spec in cfg.site.stations:
        names.append(spec.name)
        points.append(Point(spec.lon, spec.lat))
    if facilities is not None:
        rows = facilities[facilities["role"] == "station"]
        names += list(rows["name"].astype(str))
        points += list(rows.geometry)
    frame = gpd.GeoDataFrame(
        {"id": [f"S{i + 1}" for i in range(len(names))], "name": names}, geometry=points, crs=WGS84
    )
    return frame.to_crs(crs)


def _generated_stations(graph, router: Router, k: int, seed: int, crs) -> gpd.GeoDataFrame:
    """``k`` stations on the main road piece, by a greedy p-median over a sample of candidate nodes.

    For a user's network with no police station in it: a plausible placeholder, named as generated.
    """
    main = max(nx.strongly_connected_components(graph), key=len)
    nodes = np.array(sorted(main))
    rng = stream(seed, "site.generated_stations")
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
    picked = candidates[chosen]
    return gpd.GeoDataFrame(
        {
            "id": [f"S{i + 1}" for i in range(len(picked))],
            "name": [f"generated station {i + 1} (placeholder)" for i in range(len(picked))],
            "node": picked,
            "snap_m": 0.0,
        },
        geometry=[Point(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in picked],
        crs=crs,
    )


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
    graph = prepare_graph(raw, cfg.network)
    if len(graph) == 0 or graph.number_of_edges() == 0:
        raise SiteError(
            f"{source}: the road network is empty after keeping drivable roads "
            f"({', '.join(cfg.network.drivable[:6])}, ...)"
        )
    crs = graph.graph["crs"]
    router = Router.from_graph(graph, weight="travel_time")
    zones = features.zones.to_crs(crs)
    islands = features.islands.to_crs(crs)
    facilities = read_facilities(cfg.site.facilities) if cfg.site.facilities else None

    stations = _with_nodes(_stations(cfg, features.police, facilities, crs), graph)
    if len(stations) == 0 and cfg.site.generate_stations:
        stations = _generated_stations(graph, router, cfg.site.generate_stations, cfg.seed, crs)
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
        node_station=node_station,
    )
    problems, warnings = site_problems(site, cfg)
    if validate and problems:
        shown = problems[:25] + ([f"... and {len(problems) - 25} more"] if len(problems) > 25 else [])
        raise SiteError(f"site '{cfg.site.name}' ({source}) has {len(problems)} problem(s)", shown)
    return Site(
        **{**site.__dict__, "warnings": tuple(problems + warnings) if not validate else tuple(warnings)}
    )
