"""The synthetic Daishan generator: deterministic bytes, real OSM XML that osmnx loads like any file."""

from __future__ import annotations

import collections

import osmnx as ox
import pytest

from sim.site.synth_daishan import BRIDGES, ISLANDS, STATIONS, ZONES, build_osm_xml, write_osm


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
        osm_file, tags={"place": "island", "landuse": "industrial", "amenity": "police"}
    )
    assert set(features["name"].dropna()) >= {i.name for i in ISLANDS} | {z.name for z in ZONES} | {
        s.name for s in STATIONS
    }


def test_write_is_atomic_and_leaves_no_part_file(tmp_path):
    write_osm(tmp_path / "x.osm", seed=2)
    assert [p.name for p in tmp_path.iterdir()] == ["x.osm"]
