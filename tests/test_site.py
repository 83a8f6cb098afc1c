"""The shipped sites: what a planner expects to find on them, and that they are deterministic."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest

from sim.config import load_config
from sim.site.build import build_site
from sim.site.enterprises import SHIFTS
from sim.site.outputs import write_site_outputs
from sim.site.site import facility_table
from sim.site.synth_daishan import FIRE_STATIONS

DATA = Path(__file__).parent / "data"
# A police station on island B too, so that the two-island fixture is a valid site.
ISLAND_B_POLICE = "site.stations=[{name: Island B police, lon: 122.022, lat: 30.0}]"


def test_daishan_has_the_places_of_the_report(daishan_site):
    site = daishan_site
    assert site.synthetic and "SYNTHETIC" in site.label
    assert 2000 <= len(site.graph) <= 6000  # "a few thousand road nodes"
    assert {"Yushan Island", "Xiushan Island", "Daishan Island"} <= set(site.islands["name"])
    bridges = {d.get("name") for *_, d in site.graph.edges(data=True) if d.get("bridge") == "yes"}
    assert {"Yushan Bridge", "Xiushan Bridge"} <= bridges
    assert "Gaoting Fishing Port" in set(site.zones["name"])
    assert len(site.stations) == 5


def test_daishan_fire_stations_come_from_the_osm_file(daishan_site):
    fire = daishan_site.fire_stations
    assert list(fire["id"]) == ["F1", "F2", "F3"]
    assert list(fire["name"]) == [s.name for s in FIRE_STATIONS]
    assert "Yushan Petrochemical Special Duty Fire Station" in set(fire["name"])
    assert not fire["generated"].any()
    assert np.isfinite(daishan_site.router.times_from(fire["node"])).any(axis=0).all()  # every node reached


def test_daishan_enterprises_match_the_reported_orders_of_magnitude(daishan_site):
    ent = daishan_site.enterprises
    assert 300 <= len(ent) <= 900  # hundreds
    assert (ent["zone"] == "Yushan Green Petrochemical Base").sum() >= 200  # "200+ petrochemical enterprises"
    assert ent["id"].is_unique
    assert (ent["workforce"] >= 5).all()
    for shift in SHIFTS:
        assert (ent[f"guards_{shift}"] >= 1).all()
    assert (ent["guards_night"] <= ent["guards_day"]).all()
    assert ent["terminal_online_p"].between(0, 1).all()
    assert set(ent["risk"]) <= {"low", "medium", "high"}
    assert ent.loc[ent["kind"] == "petrochemical", "hazmat"].all()


def test_daixi_zone_is_split_between_two_station_jurisdictions(daishan_site):
    site = daishan_site
    daixi = site.enterprises[site.enterprises["zone"] == "Daixi Industrial Zone"]
    names = dict(zip(site.stations["id"], site.stations["name"], strict=True))
    served_by = {names[s] for s in daixi["station"]}
    assert {"Daixi Police Station", "Gaoting Police Station"} <= served_by


def test_every_enterprise_has_a_station_a_grid_and_the_grid_a_post(daishan_site):
    site = daishan_site
    assert (site.enterprises["station"] != "").all()
    assert (site.enterprises["grid"] != "").all()
    assert set(site.grids["id"]) == set(site.posts["grid"])
    assert site.grids["post"].notna().all()
    assert site.grids["n_enterprises"].sum() == len(site.enterprises)


def test_posts_lie_inside_their_grid_and_reach_its_enterprises(daishan_site):
    site = daishan_site
    grids = site.grids.set_index("id")
    for post in site.posts.itertuples():
        assert grids.loc[post.grid, "geometry"].buffer(250).contains(post.geometry), post.grid
    times = site.router.times_from(site.posts["node"])
    row = {g: i for i, g in enumerate(site.posts["grid"])}
    own = times[[row[g] for g in site.enterprises["grid"]], site.router.index(site.enterprises["node"])]
    assert np.isfinite(own).all()


def test_facilities_are_snapped_close_to_roads(daishan_site, daishan_cfg):
    table = facility_table(daishan_site)
    assert (table["snap_m"] <= daishan_cfg.network.max_snap_m).all()
    assert set(table["role"]) == {"station", "enterprise", "post", "nest", "fire_station"}


def test_drone_nests_at_stations_and_the_port(daishan_site):
    names = list(daishan_site.nests["name"])
    assert len(names) == len(daishan_site.stations) + 1
    assert "nest at Gaoting Fishing Port" in names


def test_edges_have_positive_speeds_and_travel_times(daishan_site):
    for *_, d in daishan_site.graph.edges(data=True):
        assert d["speed_kph"] > 0 and d["travel_time"] > 0
    assert str(daishan_site.crs).startswith("EPSG:326")  # UTM, metres


def test_same_seed_same_site_other_seed_other_enterprises(daishan_site, cache_dir):
    again = build_site(load_config([f"cache_dir={cache_dir}"]))
    cols = ["id", "kind", "workforce", "node", "station", "grid"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.enterprises[cols]), pd.DataFrame(daishan_site.enterprises[cols])
    )
    other = build_site(load_config([f"cache_dir={cache_dir}", "seed=7"]))
    assert not other.enterprises[cols].equals(daishan_site.enterprises[cols])


def test_grid_cell_size_changes_the_number_of_grids(daishan_site, cache_dir):
    coarse = build_site(load_config([f"cache_dir={cache_dir}", "grid.cell_m=2000"]))
    assert 0 < len(coarse.grids) < len(daishan_site.grids)


def test_helsinki_is_the_real_extract_with_configured_stations(helsinki_site):
    site = helsinki_site
    assert not site.synthetic
    assert "Helsinki.osm.pbf" in site.source
    assert len(site.graph) > 200
    assert len(site.stations) == 2 and all("placed by config" in n for n in site.stations["name"])
    assert len(site.enterprises) > 20
    assert (site.enterprises["station"] != "").all()
    # mapped in the extract: the Central Fire Station (Keskuspaloasema), none placed by config
    assert list(site.fire_stations["name"]) == ["Erottajan paloasema"]
    assert site.fire_stations["snap_m"].iloc[0] < 200


def _two_islands(cache_dir, *extra: str):
    return load_config(
        [
            "site=file",
            f"site.path={DATA / 'two_islands.osm'}",
            f"cache_dir={cache_dir}",
            ISLAND_B_POLICE,
            *extra,
        ]
    )


def test_fire_stations_from_config_and_facilities_file(cache_dir, tmp_path):
    facilities = tmp_path / "fire.csv"
    facilities.write_text("role,name,lon,lat\nfire_station,Island B fire post,122.024,30.0\n")
    site = build_site(
        _two_islands(
            cache_dir,
            "site.fire_stations=[{name: Island A fire station, lon: 122.002, lat: 30.002}]",
            f"site.facilities={facilities}",
        )
    )
    fire = site.fire_stations
    assert list(fire["id"]) == ["F1", "F2"]
    assert list(fire["name"]) == ["Island A fire station", "Island B fire post"]  # config first, then file
    assert not fire["generated"].any() and (fire["snap_m"] < 100).all()
    assert not any("fire station" in w for w in site.warnings)  # one on each island: every enterprise reached
    assert (facility_table(site)["role"] == "fire_station").sum() == 2


def test_no_fire_station_anywhere_places_a_generated_placeholder(cache_dir):
    site = build_site(_two_islands(cache_dir, "site.fire_from_osm=false"))
    fire = site.fire_stations
    assert list(fire["id"]) == ["F1"]
    assert list(fire["name"]) == ["generated fire station 1 (placeholder)"]
    assert fire["generated"].all() and fire["snap_m"].eq(0).all()
    assert fire["node"].iloc[0] in site.graph
    two = build_site(_two_islands(cache_dir, "site.generate_fire_stations=2"))
    assert len(two.fire_stations) == 2 and two.fire_stations["node"].is_unique
    none = build_site(_two_islands(cache_dir, "site.generate_fire_stations=0"))
    assert len(none.fire_stations) == 0
    assert any(w.startswith("no fire station") for w in none.warnings)


def test_site_files_carry_the_fire_stations(cache_dir, tmp_path):
    cfg = _two_islands(cache_dir, f"results_dir={tmp_path}")
    out = write_site_outputs(build_site(cfg), cfg)
    assert "fire_stations" in set(pyogrio.list_layers(out / "site.gpkg")[:, 0])
    layer = pyogrio.read_dataframe(out / "site.gpkg", layer="fire_stations")
    assert list(layer["id"]) == ["F1"] and bool(layer["generated"].iloc[0])
    assert json.loads((out / "summary.json").read_text())["counts"]["fire_stations"] == 1


def test_site_map_draws_chinese_facility_names_without_glyph_warnings(cache_dir, tmp_path, caplog):
    """A real user's facilities file names its stations in Chinese: the map draws them in the shipped CJK
    font (no boxes, no "Glyph ... missing from font" warnings, no font log lines)."""
    facilities = tmp_path / "facilities.csv"
    facilities.write_text(
        "role,name,lon,lat\n"
        "station,岱山县公安局高亭派出所,122.022,30.0\n"
        "fire_station,岱山县消防救援大队,122.024,30.0\n",
        encoding="utf-8",
    )
    cfg = _two_islands(cache_dir, f"site.facilities={facilities}", f"results_dir={tmp_path}")
    site = build_site(cfg)
    assert "岱山县公安局高亭派出所" in set(site.stations["name"])
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING, "matplotlib"):
        warnings.simplefilter("always")
        out = write_site_outputs(site, cfg)
    assert not [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not [r.getMessage() for r in caplog.records if "findfont" in r.getMessage()]
    assert (out / "site.png").stat().st_size > 0


@pytest.mark.slow
def test_user_pbf_by_path_gets_generated_stations(tmp_path, cache_dir):
    import shutil

    import pyrosm

    path = tmp_path / "my town.osm.pbf"
    shutil.copy(pyrosm.get_data("test_pbf"), path)
    site = build_site(load_config(["site=file", f"site.path={path}", f"cache_dir={cache_dir}"]))
    assert len(site.stations) == 2
    assert all("generated" in n for n in site.stations["name"])
    assert len(site.fire_stations) == 1 and site.fire_stations["generated"].all()
