"""Road graphs from users' GraphML files, whichever osmnx (or networkx) version wrote them.

``osmnx.load_graphml`` expects exactly the files osmnx 2.x writes: every attribute a string, a directed graph,
``oneway`` spelled "True"/"False". Users bring older files: saved undirected (``ox.get_undirected`` in 1.x,
``ox.convert.to_undirected`` in 2.x), without ``speed_kph``/``travel_time``, written by ``nx.write_graphml``
with typed or string values, without a ``crs`` graph attribute. This module reads any of these into the
directed ``MultiDiGraph`` with float ``x``/``y``/``length`` that ``sim.site.network.prepare_graph`` takes;
speeds and travel times are computed there, as for OSM files. Anything it cannot make sense of is refused
with a ``SiteError`` naming the file and what is needed.
"""

from __future__ import annotations

import ast
import contextlib
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
import pyproj
from shapely import wkt
from shapely.geometry import LineString, Point

from sim.errors import SiteError

WGS84 = "EPSG:4326"
TRUE_WORDS = {"true", "yes", "1", "-1"}  # OSM oneway=-1 is one-way against the drawing direction
FALSE_WORDS = {"false", "no", "0", ""}
BOOL_ATTRS = ("oneway", "reversed")
NUMBER_ATTRS = ("length",)
RECOMPUTED_ATTRS = ("speed_kph", "travel_time")  # prepare_graph computes them as for OSM files


def read_graphml(path: Path) -> nx.MultiDiGraph:
    """The road graph in ``path``: directed, integer node ids, float coordinates and lengths, a ``crs``.

    Notes for the user about what was assumed are kept in ``graph.graph["load_notes"]`` (site warnings).
    """
    try:
        raw = nx.read_graphml(path, force_multigraph=True)
    except ET.ParseError as err:
        raise SiteError(f"{path}: not a GraphML file (not well-formed XML: {err})") from None
    except nx.NetworkXError:  # well-formed XML without a <graphml> root (networkx's only complaint)
        raise SiteError(f"{path}: not a GraphML file (no <graphml> graph in it)") from None
    if len(raw) == 0:
        raise SiteError(
            f"{path}: the GraphML file has no nodes (a road graph needs nodes with x/y, and edges)"
        )
    if raw.number_of_edges() == 0:
        raise SiteError(
            f"{path}: the GraphML file has {len(raw)} node(s) but no edges (no roads to drive on)"
        )
    notes: list[str] = []
    raw = nx.relabel_nodes(raw, _integer_ids(raw), copy=True)
    _parse_nodes(raw, path)
    for _, _, data in raw.edges(data=True):
        _parse_edge(data)
    crs = _graph_crs(raw, path, notes)
    graph = _directed(raw, notes) if not raw.is_directed() else nx.MultiDiGraph(raw)
    graph.graph = {
        "crs": crs,
        "simplified": _as_bool(raw.graph.get("simplified", False)),
        "load_notes": notes,
    }
    _fill_lengths(graph, crs)
    return graph


def _integer_ids(graph: nx.MultiGraph) -> dict[Any, int]:
    """Node id -> integer id. Routing and fingerprints need integers; ids like 'n0' (networkx's own) are
    replaced by the node's ``osmid`` if every node has a distinct integer one, else numbered from 1."""
    for ids in ([*graph.nodes], [graph.nodes[n].get("osmid") for n in graph.nodes]):
        ints = [_as_int(i) for i in ids]
        if None not in ints and len(set(ints)) == len(ints):
            return dict(zip(graph.nodes, ints, strict=True))
    return {n: i + 1 for i, n in enumerate(graph.nodes)}


def _parse_nodes(graph: nx.MultiGraph, path: Path) -> None:
    """Float x/y on every node (strings from old files parsed); a node without them is refused."""
    for node, data in graph.nodes(data=True):
        xy = [_as_float(data.get(k)) for k in ("x", "y")]
        if None in xy:
            raise SiteError(
                f"{path}: node {node} has no numeric x/y coordinates (got x={data.get('x')!r}, "
                f"y={data.get('y')!r}); every GraphML node needs x (longitude or easting) and y (latitude or "
                "northing), as osmnx writes them"
            )
        data["x"], data["y"] = xy
        data.pop("osmid", None)  # the node id already is the osmid where there was one


def _parse_edge(data: dict) -> None:
    """Attribute values as osmnx expects them: lists unpacked, booleans and numbers parsed, geometry read.

    Speeds and travel times are dropped: prepare_graph computes them from maxspeed and the road class, the
    same way for every source, so a file's own (possibly stale or textual) values never mix in.
    """
    data.pop("id", None)  # written by networkx for parallel edges
    for key in RECOMPUTED_ATTRS:
        data.pop(key, None)
    for key, value in list(data.items()):
        if isinstance(value, str) and value[:1] == "[" and value[-1:] == "]":
            with contextlib.suppress(SyntaxError, ValueError):
                data[key] = ast.literal_eval(value)
    for key in BOOL_ATTRS:
        if key in data:
            data[key] = _each(data[key], _as_bool)
    for key in NUMBER_ATTRS:
        if key in data:
            number = _as_float(data[key][0] if isinstance(data[key], list) else data[key])
            if number is None or not math.isfinite(number) or number < 0:
                data.pop(key)  # recomputed from the geometry in _fill_lengths
            else:
                data[key] = number
    if "geometry" in data and isinstance(data["geometry"], str):
        try:
            data["geometry"] = wkt.loads(data["geometry"])
        except Exception:  # unreadable WKT: the straight line between the nodes stands in
            data.pop("geometry")


def _graph_crs(graph: nx.MultiGraph, path: Path, notes: list[str]) -> str:
    """The graph's coordinate reference system. Missing: EPSG:4326 if every x/y is a longitude/latitude
    (osmnx writes crs, but hand-made or networkx-written files often do not), else refused."""
    given = graph.graph.get("crs")
    if given not in (None, ""):
        try:
            crs = pyproj.CRS.from_user_input(_modern_crs(given))
            return f"EPSG:{crs.to_epsg()}" if crs.to_epsg() else crs.to_string()
        except (pyproj.exceptions.CRSError, TypeError, ValueError, SyntaxError):
            raise SiteError(
                f"{path}: the graph attribute crs={given!r} is not a coordinate reference system "
                "(expected e.g. EPSG:4326 or EPSG:32651)"
            ) from None
    xs = np.array([d["x"] for _, d in graph.nodes(data=True)])
    ys = np.array([d["y"] for _, d in graph.nodes(data=True)])
    if (np.abs(xs) <= 180).all() and (np.abs(ys) <= 90).all():
        notes.append(
            f"{path.name} has no 'crs' graph attribute; its x/y are within longitude/latitude range, so "
            "EPSG:4326 (WGS84) was assumed"
        )
        return WGS84
    raise SiteError(
        f"{path}: the graph has no 'crs' attribute and its x/y are not longitude/latitude (x from "
        f"{xs.min():.0f} to {xs.max():.0f}); add a graph attribute crs (e.g. EPSG:32651), as osmnx does"
    )


def _modern_crs(given):
    """A CRS as old osmnx wrote it, in today's spelling: osmnx before 0.15 wrote "{'init': 'epsg:4326'}" or
    '+init=epsg:4326', which pyproj reads only with a deprecation warning and without an EPSG code."""
    value = ast.literal_eval(given) if isinstance(given, str) and given.startswith("{") else given
    if isinstance(value, dict) and set(value) == {"init"}:
        value = value["init"]
    if isinstance(value, str) and value.startswith("+init=") and " " not in value.strip():
        value = value.strip().removeprefix("+init=")
    return value


def _directed(graph: nx.MultiGraph, notes: list[str]) -> nx.MultiDiGraph:
    """An undirected road graph as a directed one: each edge becomes two, one each way.

    Why two: an undirected edge is a road you can drive both ways. The exception is an edge osmnx itself
    made undirected (it records ``from``/``to``) that is ``oneway``: it keeps only its recorded direction.
    Each direction gets the edge's geometry drawn from its own start, as osmnx's directed graphs have it.
    """
    directed = nx.MultiDiGraph()
    directed.add_nodes_from(graph.nodes(data=True))
    one_way = 0
    for u, v, data in graph.edges(data=True):
        start, end = _as_int(data.pop("from", None)), _as_int(data.pop("to", None))
        if data.get("oneway") is True and {start, end} == {u, v}:
            ways, one_way = [(start, end)], one_way + 1
        else:
            ways = [(u, v), (v, u)] if u != v else [(u, v)]
        for a, b in ways:
            directed.add_edge(a, b, **_oriented(data, graph.nodes[a]))
    notes.append(
        f"the GraphML graph is undirected: each of its {graph.number_of_edges()} edges was read as a two-way "
        f"road" + (f", except {one_way} marked one-way with a recorded direction" if one_way else "")
    )
    return directed


def _oriented(data: dict, start_node: dict) -> dict:
    """A copy of an edge's attributes whose geometry starts at ``start_node``."""
    out = dict(data)
    line = data.get("geometry")
    if isinstance(line, LineString) and not line.is_empty:
        start = Point(start_node["x"], start_node["y"])
        first, last = Point(line.coords[0]), Point(line.coords[-1])
        if start.distance(last) < start.distance(first):
            out["geometry"] = LineString(line.coords[::-1])
    return out


def _fill_lengths(graph: nx.MultiDiGraph, crs: str) -> None:
    """Metres on every edge that has no valid ``length``: along its geometry, else node to node
    (great-circle in a geographic CRS, straight line in a projected one)."""
    geographic = not ox.projection.is_projected(crs)
    for u, v, data in graph.edges(data=True):
        if "length" in data:
            continue
        line = data.get("geometry")
        if not isinstance(line, LineString):
            nu, nv = graph.nodes[u], graph.nodes[v]
            line = LineString([(nu["x"], nu["y"]), (nv["x"], nv["y"])])
        coords = np.asarray(line.coords)
        if geographic:
            steps = ox.distance.great_circle(coords[:-1, 1], coords[:-1, 0], coords[1:, 1], coords[1:, 0])
            data["length"] = float(np.sum(steps))
        else:
            data["length"] = float(line.length)


def _each(value, parse):
    """``parse`` applied to a value or to each item of a list (osmnx merges attributes into lists)."""
    return [parse(v) for v in value] if isinstance(value, list) else parse(value)


def _as_bool(value) -> bool:
    """Booleans as any writer spelled them: True, "True", "true", "yes", "1" (OSM's -1 too)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return False  # an unknown spelling (e.g. oneway=reversible) is not a fixed one-way street


def _as_float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_int(value) -> int | None:
    """An integer id from an int or a string like "123" or "123.0"; None if it is not one."""
    number = _as_float(value)
    if number is None or not math.isfinite(number) or number != int(number):
        return None
    return int(number)
