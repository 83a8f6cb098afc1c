"""Areas reached within given times: from echelon posts (isochrones) and by each station (jurisdictions).

Both are pure functions of the site. Polygons are the union of road edges whose both ends lie within the
time, buffered by ``buffer_m``: what a vehicle can reach, not a circle on the map (water is not crossed).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString

from sim.site.site import Site


def road_edges(site: Site) -> gpd.GeoDataFrame:
    """Edges as lines, with the matrix indices of their two ends (u_idx, v_idx).

    The frame of osmnx's ``graph_to_gdfs(graph, nodes=False, fill_edge_geometry=True).reset_index()``
    (u, v, key, then the attributes; an edge without a geometry drawn straight), made here so that a
    figure of a cached site does not import osmnx and scikit-learn (2 s)."""
    graph = site.graph
    u, v, k, data = zip(*graph.edges(keys=True, data=True), strict=True) if len(graph.edges) else ([],) * 4
    xy = {n: (d["x"], d["y"]) for n, d in graph.nodes(data=True)}
    lines = [
        d["geometry"] if "geometry" in d else LineString((xy[a], xy[b]))
        for a, b, d in zip(u, v, data, strict=True)
    ]
    edges = gpd.GeoDataFrame(list(data), crs=graph.graph["crs"], geometry=lines)
    edges.insert(0, "key", list(k))
    edges.insert(0, "v", list(v))
    edges.insert(0, "u", list(u))
    edges["u_idx"] = site.router.index(edges["u"])
    edges["v_idx"] = site.router.index(edges["v"])
    return edges


def post_reach_s(site: Site, time_factor: float) -> np.ndarray:
    """Per node: seconds from the nearest echelon post, travel times scaled by ``time_factor``."""
    if len(site.posts) == 0:
        return np.full(site.router.n_nodes, np.inf)
    times, _ = site.router.nearest_source(site.posts["node"])
    return times * time_factor


def street_buffer_m(edges: gpd.GeoDataFrame) -> float:
    """Half a typical block: enough to turn a street mesh into an area, not enough to cross a bay."""
    return float(np.clip(0.6 * np.median(edges["length"]), 30.0, 150.0)) if len(edges) else 50.0


def isochrone_polygons(
    site: Site,
    edges: gpd.GeoDataFrame,
    reach_s: np.ndarray,
    thresholds_s: list[float],
    buffer_m: float | None = None,
) -> gpd.GeoDataFrame:
    buffer_m = street_buffer_m(edges) if buffer_m is None else buffer_m
    rows = []
    worst = np.maximum(reach_s[edges["u_idx"]], reach_s[edges["v_idx"]])
    for t in sorted(thresholds_s):
        inside = edges[worst <= t]
        shape = inside.geometry.buffer(buffer_m).union_all() if len(inside) else None
        rows.append(
            {"threshold_s": float(t), "area_km2": (shape.area / 1e6) if shape else 0.0, "geometry": shape}
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=site.crs)


def jurisdiction_polygons(
    site: Site, edges: gpd.GeoDataFrame, buffer_m: float | None = None
) -> gpd.GeoDataFrame:
    """Each station's area: roads whose both ends it reaches first."""
    buffer_m = street_buffer_m(edges) if buffer_m is None else buffer_m
    rows = []
    owner_u = site.node_station[edges["u_idx"]]
    owner_v = site.node_station[edges["v_idx"]]
    for sid, name in zip(site.stations["id"], site.stations["name"], strict=True):
        mine = edges[(owner_u == sid) & (owner_v == sid)]
        shape = mine.geometry.buffer(buffer_m).union_all() if len(mine) else None
        rows.append({"station": sid, "name": name, "geometry": shape})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=site.crs)
