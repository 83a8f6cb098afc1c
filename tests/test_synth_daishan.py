"""The synthetic Daishan generator: deterministic bytes, real OSM XML that osmnx loads like any file."""

from __future__ import annotations

import collections
import re

import numpy as np
import osmnx as ox
import pytest
from shapely.geometry import Point, Polygon

from sim.site import synth_daishan
from sim.site.synth_daishan import (
    BRIDGES,
    FIRE_STATIONS,
    ISLANDS,
    M_PER_DEG_LAT,
    M_PER_DEG_LON,
    ORIGIN_LONLAT,
    STATIONS,
    ZONES,
    build_osm_xml,
    write_osm,
)


def test_same_seed_same_bytes_other_seed_other_bytes():
    assert build_osm_xml(5) == build_osm_xml(5)
    assert build_osm_xml(5) != build_osm_xml(6)


def test_it_is_labelled_synthetic():
    assert "SYNTHETIC" in build_osm_xml(1)[:200]


@pytest.fixture(scope="module")
def osm_file(tmp_path_factory):
    return write_osm(tmp_path_factory.mktemp("synth") / "daishan.osm", seed=1)


def test_osmnx_loads_it_with_bridges_and_road_classes(osm_file):
    graph = ox.graph_from_xml(osm_file, simplify=False, retain_all=True)
    ways = collections.Counter(d.get("highway") for *_, d in graph.edges(data=True))
    for road_class in ("trunk", "primary", "secondary", "tertiary", "residential", "service"):
        assert ways[road_class] > 0, road_class
    bridge_names = {d.get("name") for *_, d in graph.edges(data=True) if d.get("bridge") == "yes"}
    assert bridge_names == {b.name for b in BRIDGES}


def test_features_carry_islands_zones_and_stations(osm_file):
    features = ox.features_from_xml(
        osm_file, tags={"place": "island", "landuse": "industrial", "amenity": ["police", "fire_station"]}
    )
    assert set(features["name"].dropna()) >= {i.name for i in ISLANDS} | {z.name for z in ZONES} | {
        s.name for s in STATIONS
    }
    fire = features[features["amenity"] == "fire_station"]
    assert sorted(fire["name"]) == sorted(s.name for s in FIRE_STATIONS)


def test_fire_stations_stand_on_their_islands_near_a_road(osm_file):
    graph = ox.graph_from_xml(osm_file, simplify=False, retain_all=True)
    lon0, lat0 = ORIGIN_LONLAT
    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)])
    road_m = (xy - (lon0, lat0)) * (M_PER_DEG_LON, M_PER_DEG_LAT)
    land = {i.name: Polygon([(x * 1000, y * 1000) for x, y in i.outline_km]) for i in ISLANDS}
    on_island = {}
    for station in FIRE_STATIONS:
        x_m, y_m = (v * 1000 for v in station.at_km)
        on_island[station.name] = [name for name, poly in land.items() if poly.contains(Point(x_m, y_m))]
        assert np.hypot(road_m[:, 0] - x_m, road_m[:, 1] - y_m).min() < 250, station.name
    assert on_island == {
        "Daishan County Fire Rescue Brigade": ["Daishan Island"],
        "Daixi Fire Station": ["Daishan Island"],
        "Yushan Petrochemical Special Duty Fire Station": ["Yushan Island"],
    }


def test_fire_stations_leave_everything_else_byte_identical(monkeypatch):
    """Written last, drawing no random numbers: roads and node ids (and so golden runs) stay as they were."""
    with_fire = build_osm_xml(3)
    monkeypatch.setattr(synth_daishan, "FIRE_STATIONS", ())
    fire_node = (
        r'  <node id="\d+" lat="[^"]+" lon="[^"]+">\n    <tag k="amenity" v="fire_station"/>\n'
        r'    <tag k="name" v="[^"]+"/>\n  </node>\n'
    )
    stripped, n = re.subn(fire_node, "", with_fire)
    assert n == len(FIRE_STATIONS) and stripped == build_osm_xml(3)


def test_write_is_atomic_and_leaves_no_part_file(tmp_path):
    write_osm(tmp_path / "x.osm", seed=2)
    assert [p.name for p in tmp_path.iterdir()] == ["x.osm"]
