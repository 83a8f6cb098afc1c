"""The Site: a road network with enterprises, police and fire stations, grids, echelon posts and drone nests.

A plain, frozen record that ``sim.site.build.build_site`` fills and everything downstream (model, metrics,
plots) reads. Geometries are in the graph's projected CRS (metres); every facility carries the road ``node``
it is snapped to and the distance ``snap_m`` to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
from scipy.spatial import cKDTree

from sim.site.routing import Router


@dataclass(frozen=True)
class Site:
    name: str
    label: str
    synthetic: bool
    source: str
    graph: nx.MultiDiGraph
    router: Router
    islands: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame  # id (S1, ...), name, node, snap_m, generated (a placeholder, not a real one)
    enterprises: (
        gpd.GeoDataFrame
    )  # id, name, kind, zone, workforce, guards_*, ..., node, snap_m, station, grid
    grids: gpd.GeoDataFrame  # id, zone, n_enterprises, post, station
    posts: gpd.GeoDataFrame  # id, grid, node, station, snap_m
    nests: gpd.GeoDataFrame  # id, name, node, snap_m
    fire_stations: gpd.GeoDataFrame  # id (F1, ...), name, node, snap_m, generated: fire and hazmat bases
    node_station: (
        np.ndarray
    )  # per router index: the id of the station whose jurisdiction holds it ('' if none)
    warnings: tuple[str, ...] = ()
    water: gpd.GeoDataFrame | None = None  # mapped water (areas, coastline, rivers): bridges that cross it

    @property
    def water_or_empty(self) -> gpd.GeoDataFrame:
        """The mapped water, or an empty frame (a GraphML file carries no map features)."""
        if self.water is None:
            return gpd.GeoDataFrame({"kind": []}, geometry=[], crs=self.crs)
        return self.water

    @property
    def crs(self):
        return self.graph.graph["crs"]


def snap(graph: nx.MultiDiGraph, points: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Nearest road node of each point and the straight-line distance to it, metres (projected graph)."""
    if len(points) == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=float)
    x, y = points.x.to_numpy(), points.y.to_numpy()
    if not pyproj.CRS(graph.graph["crs"]).is_projected:
        import osmnx as ox  # haversine search through scikit-learn: 2 s to import, for degrees only

        nodes, dist = ox.distance.nearest_nodes(graph, x, y, return_dist=True)
        return np.asarray(nodes), np.asarray(dist, dtype=float)
    # What osmnx's nearest_nodes does on a projected graph (a k-d tree over the nodes in graph order, so
    # ties go the same way), without importing osmnx and scikit-learn for it.
    ids = np.asarray(list(graph.nodes))
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    dist, pos = cKDTree(xy).query(np.column_stack([x, y]), k=1)
    return ids[pos], np.asarray(dist, dtype=float)


def facility_table(site: Site) -> pd.DataFrame:
    """Every facility in one flat table (role, id, name, node, snap_m), for validation and export."""
    parts = [
        site.stations.assign(role="station")[["role", "id", "name", "node", "snap_m"]],
        site.enterprises.assign(role="enterprise")[["role", "id", "name", "node", "snap_m"]],
        site.posts.assign(role="post", name=site.posts["id"])[["role", "id", "name", "node", "snap_m"]],
        site.nests.assign(role="nest")[["role", "id", "name", "node", "snap_m"]],
        site.fire_stations.assign(role="fire_station")[["role", "id", "name", "node", "snap_m"]],
    ]
    return pd.concat([p for p in parts if len(p)], ignore_index=True)
