"""Validation reports every problem at once, naming the facility and the cause."""

from __future__ import annotations

from pathlib import Path

import osmnx as ox
import pytest

from sim.config import load_config
from sim.errors import SiteError
from sim.site.build import build_site

DATA = Path(__file__).parent / "data"


def _cfg(cache_dir, *extra):
    return load_config(
        ["site=file", f"site.path={DATA / 'two_islands.osm'}", f"cache_dir={cache_dir}", *extra]
    )


def test_island_without_bridge_is_reported_per_enterprise(cache_dir):
    with pytest.raises(SiteError, match=r"has 2 problem\(s\)") as info:
        build_site(_cfg(cache_dir))
    assert len(info.value.problems) == 2
    assert all(
        "Zone B" in p and "cannot be reached by road from any police station" in p
        for p in info.value.problems
    )


def test_footways_are_not_roads(cache_dir):
    site = build_site(_cfg(cache_dir), validate=False)
    assert all(d["highway"] != "footway" for *_, d in site.graph.edges(data=True))


def test_all_problems_come_together(cache_dir, tmp_path):
    facilities = tmp_path / "far.csv"
    facilities.write_text(
        "role,name,lon,lat\nstation,Offshore post,122.3,30.3\nenterprise,Far away Ltd,122.5,30.5\n"
    )
    with pytest.raises(SiteError) as info:
        build_site(_cfg(cache_dir, f"site.facilities={facilities}"))
    text = "\n".join(info.value.problems)
    assert "station S2 (Offshore post) is" in text and "m from the nearest road node" in text
    assert "enterprise E0001 (Far away Ltd)" in text


def test_no_station_and_none_generated_is_a_problem(cache_dir):
    with pytest.raises(SiteError) as info:
        build_site(_cfg(cache_dir, "site.police_from_osm=false", "site.generate_stations=0"))
    assert any("no police station" in p for p in info.value.problems)


def test_graph_with_no_drivable_roads_is_refused(tmp_path, cache_dir):
    path = tmp_path / "paths.osm"
    path.write_text(
        '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="30.0" lon="122.0"/>'
        '<node id="2" lat="30.001" lon="122.0"/><way id="1"><nd ref="1"/><nd ref="2"/>'
        '<tag k="highway" v="footway"/></way></osm>'
    )
    with pytest.raises(SiteError, match=r"paths.osm: the road network is empty after keeping drivable roads"):
        build_site(load_config(["site=file", f"site.path={path}", f"cache_dir={cache_dir}"]))


def test_graphml_files_load(tmp_path, cache_dir):
    graph = ox.graph_from_xml(DATA / "two_islands.osm", retain_all=True)
    path = tmp_path / "net.graphml"
    ox.save_graphml(graph, path)
    site = build_site(load_config(["site=file", f"site.path={path}", f"cache_dir={cache_dir}"]))
    assert len(site.graph) > 0 and len(site.stations) == 2  # generated: a graphml file names no police


def test_facilities_file_with_bad_rows_lists_each(tmp_path, cache_dir):
    facilities = tmp_path / "bad.csv"
    facilities.write_text("role,name,lon,lat\nhospital,H,122.0,30.0\nstation,S,999,30.0\nenterprise,E,,\n")
    with pytest.raises(SiteError, match="3 problem") as info:
        build_site(_cfg(cache_dir, f"site.facilities={facilities}"))
    text = "\n".join(info.value.problems)
    assert "role 'hospital' is not one of" in text
    assert "outside WGS84 range" in text
    assert "no position" in text
