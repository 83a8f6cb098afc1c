"""osmnx's last three steps of preparing a road graph (edge speeds, travel times, projection to UTM), giving
the very same graph without their GeoDataFrame round trips.

Why: ``ox.add_edge_speeds``, ``ox.add_edge_travel_times`` and ``ox.project_graph`` each turn the whole graph
into GeoDataFrames (a LineString made for every edge, a Point for every node) and ``project_graph`` builds
the graph anew from them value by value; on a 100,000-node network that was most of the site's set-up.
Here each step builds a frame of only the columns it reads, by the same pandas calls (so the same column
dtypes and the same arithmetic), and the projected graph is rebuilt by osmnx's own rules: edges in the same
order with the same attribute order, values converted to Python objects as ``DataFrame.to_numpy`` converts
them, missing values left out, nodes in the order their first edge names them. tests/test_graph_ops.py
checks the result equals osmnx's, node and edge order, attribute order and value types included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
from osmnx.routing import _clean_maxspeed, _collapse_multiple_maxspeed_values

EDGE_INDEX = ("u", "v", "key")  # osmnx's edge frame index; attributes so named do not survive its round trip


def _edge_records(graph: nx.MultiDiGraph, names: tuple[str, ...]) -> pd.DataFrame:
    """The edges' ``names`` attributes (those an edge has), indexed (u, v, key) as osmnx's edge frame is.

    Built from dicts as ``graph_to_gdfs`` builds its frame, so each column gets the dtype it gets there.
    """
    rows, u, v, k = [], [], [], []
    for a, b, key, data in graph.edges(keys=True, data=True):
        rows.append({n: data[n] for n in names if n in data})
        u.append(a)
        v.append(b)
        k.append(key)
    frame = pd.DataFrame(rows)
    frame["u"], frame["v"], frame["key"] = u, v, k
    return frame.set_index(list(EDGE_INDEX))


def _set_edge_values(graph: nx.MultiDiGraph, name: str, values: np.ndarray) -> None:
    """``values`` (in edge order) as attribute ``name`` of every edge, as Python objects, as
    ``nx.set_edge_attributes(G, series.to_dict(), name)`` sets them after osmnx computes them."""
    for (_, _, data), value in zip(graph.edges(data=True), values.tolist(), strict=True):
        data[name] = value


def add_edge_speeds(
    graph: nx.MultiDiGraph,
    hwy_speeds: dict[str, float] | None,
    fallback: float | None,
    agg: Callable[[Any], Any] = np.mean,
) -> nx.MultiDiGraph:
    """``ox.add_edge_speeds(graph, hwy_speeds=..., fallback=...)``: the same statements on a frame of the
    two columns they read (osmnx 2.1's routing.add_edge_speeds); changes ``graph`` in place."""
    if fallback is None:
        fallback = np.nan
    edges = _edge_records(graph, ("highway", "maxspeed"))
    edges["highway"] = edges["highway"].map(lambda x: x[0] if isinstance(x, list) else x)
    if "maxspeed" in edges.columns:
        edges["maxspeed"] = edges["maxspeed"].apply(_collapse_multiple_maxspeed_values, agg=agg)
        edges["speed_kph"] = edges["maxspeed"].astype(str).map(_clean_maxspeed).astype(float)
    else:
        edges["speed_kph"] = None
    hwy_speed_avg = pd.Series(dtype=float) if hwy_speeds is None else pd.Series(hwy_speeds).dropna()
    for hwy, group in edges.groupby("highway"):
        if hwy not in hwy_speed_avg:
            hwy_speed_avg.loc[hwy] = agg(group["speed_kph"])
    hwy_speed_avg = hwy_speed_avg.fillna(fallback).fillna(agg(hwy_speed_avg))
    speed_kph = edges[["highway", "speed_kph"]].set_index("highway").iloc[:, 0].fillna(hwy_speed_avg)
    if pd.isna(speed_kph).all():
        raise ValueError(
            "This graph's edges have no preexisting 'maxspeed' attribute values so you must pass "
            "`hwy_speeds` or `fallback` arguments."
        )
    edges["speed_kph"] = speed_kph.to_numpy()
    _set_edge_values(graph, "speed_kph", edges["speed_kph"].to_numpy())
    return graph


def add_edge_travel_times(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """``ox.add_edge_travel_times(graph)``: seconds from ``length`` and ``speed_kph``, by the same pandas
    arithmetic; changes ``graph`` in place."""
    edges = _edge_records(graph, ("length", "speed_kph"))
    if not ("length" in edges.columns and "speed_kph" in edges.columns):
        raise KeyError("All edges must have 'length' and 'speed_kph' attributes.")
    if pd.isna(edges["length"]).any() or pd.isna(edges["speed_kph"]).any():
        raise ValueError("Edge 'length' and 'speed_kph' values must be non-null.")
    distance_km = edges["length"] / 1000
    speed_km_sec = edges["speed_kph"] / (60 * 60)
    travel_time = distance_km / speed_km_sec
    _set_edge_values(graph, "travel_time", travel_time.to_numpy())
    return graph


def _projected_nodes(graph: nx.MultiDiGraph) -> pd.DataFrame:
    """The node frame of ``ox.project_graph``: every node attribute but geometry a column, x and y in the
    UTM (or UPS) CRS osmnx picks for these points; its ``attrs["crs"]`` is that CRS."""
    ids, data = zip(*graph.nodes(data=True), strict=True)
    # osmnx's node frame has its Points as "geometry", which the rebuild drops: a node's own geometry
    # attribute (pyrosm gives one) does not survive projection.
    frame = pd.DataFrame(data, index=ids).drop(columns="geometry", errors="ignore")
    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([d["x"] for d in data], [d["y"] for d in data]), crs=graph.graph["crs"]
    )
    projected = ox.projection.project_gdf(points)
    frame["x"] = projected.geometry.x.to_numpy()
    frame["y"] = projected.geometry.y.to_numpy()
    frame.index = frame.index.rename("osmid")
    frame.attrs["crs"] = projected.crs
    return frame


def _projected_edges(graph: nx.MultiDiGraph, crs) -> pd.DataFrame:
    """The edge frame of ``ox.project_graph``: every edge attribute a column (an attribute named u, v or key
    replaced by the index, as in osmnx), edge geometries in ``crs``."""
    u, v, k, data = zip(*graph.edges(keys=True, data=True), strict=True)
    frame = pd.DataFrame(data)
    if "geometry" in frame.columns:
        geometry = frame["geometry"].to_numpy(dtype=object)
        present = np.array([g is not None and not (isinstance(g, float) and np.isnan(g)) for g in geometry])
        projected = np.full(len(frame), None, dtype=object)
        if present.any():
            source = gpd.GeoSeries(list(geometry[present]), crs=graph.graph["crs"])
            projected[present] = np.asarray(source.to_crs(crs).array, dtype=object)
        frame["geometry"] = gpd.array.from_shapely(projected, crs=crs)
    frame["u"], frame["v"], frame["key"] = u, v, k
    return frame.set_index(list(EDGE_INDEX))


def _graph_from_frames(nodes: pd.DataFrame, edges: pd.DataFrame, graph_attrs: dict) -> nx.MultiDiGraph:
    """``ox.convert.graph_from_gdfs`` without its per-value ``pd.notna`` calls: the missing-value mask is
    taken per column (the same pandas test), the rest is osmnx's order of building."""
    graph = nx.MultiDiGraph(**graph_attrs)
    names = edges.columns.to_list()
    values = edges.to_numpy()
    present = edges.notna().to_numpy()
    for (u, v, k), row, keep in zip(edges.index, values, present, strict=True):
        graph.add_edge(u, v, key=k, **{n: x for n, x, ok in zip(names, row, keep, strict=True) if ok})
    graph.add_nodes_from(set(nodes.index) - set(graph.nodes))
    for col in nodes.columns:
        nx.set_node_attributes(graph, values=nodes[col].dropna().to_dict(), name=col)
    return graph


def project_graph(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """``ox.project_graph(graph)`` (to the UTM zone of its nodes): a new graph, ``graph`` left as it is."""
    nodes = _projected_nodes(graph)
    crs = nodes.attrs.pop("crs")
    projected = _graph_from_frames(nodes, _projected_edges(graph, crs), graph.graph)
    projected.graph["crs"] = crs
    return projected
