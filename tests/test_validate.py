"""Validation reports every problem at once, naming the facility and the cause."""

from __future__ import annotations

from pathlib import Path

import osmnx as ox
import pytest

from sim.config import load_config
from sim.errors import ConfigError, SiteError
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


def test_enterprises_no_fire_station_reaches_are_a_warning_not_a_problem(cache_dir):
    # Island B gets a police station, so the site is valid; its only fire station is generated on island A.
    site = build_site(_cfg(cache_dir, "site.stations=[{name: Island B police, lon: 122.022, lat: 30.0}]"))
    assert site.fire_stations["generated"].all()
    (warning,) = [w for w in site.warnings if "from any fire station" in w]
    zone_b = site.enterprises[site.enterprises["zone"] == "Zone B"]
    assert warning.startswith(f"{len(zone_b)} enterprise(s) cannot be reached by road from any fire station")
    assert all(f"{e.id} ({e.name})" in warning for e in zone_b.itertuples())


def test_footways_are_not_roads(cache_dir):
    site = build_site(_cfg(cache_dir), validate=False)
    assert all(d["highway"] != "footway" for *_, d in site.graph.edges(data=True))


def test_all_problems_come_together(cache_dir, tmp_path):
    facilities = tmp_path / "far.csv"
    facilities.write_text(
        "role,name,lon,lat\nstation,Offshore post,122.3,30.3\nenterprise,Far away Ltd,122.5,30.5\n"
        "fire_station,Fireboat berth,122.4,30.4\n"
    )
    with pytest.raises(SiteError) as info:
        build_site(_cfg(cache_dir, f"site.facilities={facilities}"))
    text = "\n".join(info.value.problems)
    assert "station S2 (Offshore post) is" in text and "m from the nearest road node" in text
    assert "enterprise E0001 (Far away Ltd)" in text
    assert "fire_station F1 (Fireboat berth) is" in text


def test_no_station_and_none_generated_is_a_problem(cache_dir):
    with pytest.raises(SiteError) as info:
        build_site(_cfg(cache_dir, "site.police_from_osm=false", "site.generate_stations=0"))
    assert any("no police station" in p for p in info.value.problems)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("site.generate_fire_stations=51", r"site.generate_fire_stations.*from 0 to 50"),
        ("site.fire_stations=[{name: x, lon: 500, lat: 0}]", r"site.fire_stations\[0\].lon.*longitude"),
    ],
)
def test_fire_station_settings_out_of_range_are_refused(override, key, cache_dir):
    with pytest.raises(ConfigError, match=key):
        _cfg(cache_dir, override)


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
