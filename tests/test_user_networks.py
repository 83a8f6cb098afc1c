"""Users' road files as they come: GraphML from osmnx 1.x or 2.x (directed or not, with or without speeds,
numbers as text), upper-case extensions, clipped extracts; and what the site says about them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import networkx as nx
import osmnx as ox
import pyrosm
import pytest

from sim.cli import main
from sim.config import load_config
from sim.model.incidents import generate_incidents
from sim.model.world import watched_places
from sim.site.build import build_site
from sim.site.graphml import read_graphml
from sim.site.network import graph_fingerprint, one_line

DATA = Path(__file__).parent / "data"


def _no_nan(constant: str):
    raise ValueError(f"strict JSON has no {constant}")


def _site(path: Path, cache_dir: Path, *extra: str, validate: bool = True):
    return build_site(
        load_config(["site=file", f"site.path={path}", f"cache_dir={cache_dir}", *extra]), validate=validate
    )


def _echelon_site(path: Path, tmp_path: Path, cache_dir: Path, capsys) -> tuple[dict, str]:
    """``echelon site site=file site.path=<path>``: must succeed; returns the summary (strict JSON) and
    what was printed."""
    results = tmp_path / "results"
    code = main(
        ["site", "site=file", f"site.path={path}", f"results_dir={results}", f"cache_dir={cache_dir}"]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    (out,) = results.iterdir()
    return json.loads((out / "summary.json").read_text(), parse_constant=_no_nan), printed.out


@pytest.fixture(scope="module")
def osmnx_graph() -> nx.MultiDiGraph:
    """The two-island fixture as osmnx 2.x loads it (directed, simplified, with lengths)."""
    return ox.graph_from_xml(DATA / "two_islands.osm", retain_all=True)


def _old_style(graph: nx.MultiGraph) -> nx.MultiGraph:
    """A graph as an older writer left it: every value a string, no crs, no speeds or travel times,
    oneway spelled yes/no."""
    graph = graph.copy()
    graph.graph = {"simplified": "True"}
    for _, data in graph.nodes(data=True):
        for key, value in data.items():
            data[key] = str(value)
    for *_, data in graph.edges(data=True):
        data.pop("speed_kph", None)
        data.pop("travel_time", None)
        data["oneway"] = "yes" if data.get("oneway") is True else "no"
        for key, value in list(data.items()):
            data[key] = str(value)
    return graph


def test_undirected_old_style_graphml_builds_the_same_network_as_the_directed_one(
    osmnx_graph, tmp_path, cache_dir, capsys
):
    directed, undirected = tmp_path / "directed.graphml", tmp_path / "undirected.graphml"
    ox.save_graphml(osmnx_graph, directed)
    nx.write_graphml(_old_style(ox.convert.to_undirected(osmnx_graph)), undirected)
    summary, printed = _echelon_site(undirected, tmp_path, cache_dir, capsys)
    assert summary["network"]["fingerprint"] == graph_fingerprint(_site(directed, cache_dir).graph)
    assert "EPSG:4326 (WGS84) was assumed" in printed and "read as a two-way road" in printed
    # no enterprises (a GraphML file has no land use), so every share is undefined: null, not NaN
    assert set(summary["enterprises_within_s_of_own_grid_post"].values()) == {None}


def test_graphml_without_speeds_with_lengths_as_text_gets_osm_speeds(
    osmnx_graph, tmp_path, cache_dir, capsys
):
    path = tmp_path / "text.graphml"
    nx.write_graphml(_old_style(osmnx_graph), path)
    graph = read_graphml(path)
    assert all(isinstance(d["length"], float) for *_, d in graph.edges(data=True))
    site = _site(path, cache_dir)
    speeds_kph = load_config([]).network.speeds_kph  # no maxspeed in the fixture: by road class
    assert all(d["speed_kph"] == speeds_kph[d["highway"]] for *_, d in site.graph.edges(data=True))
    for *_, data in site.graph.edges(data=True):
        assert data["travel_time"] == pytest.approx(data["length"] / (data["speed_kph"] / 3.6), rel=1e-3)
    summary, _ = _echelon_site(path, tmp_path, cache_dir, capsys)
    assert summary["network"]["edges"] == site.graph.number_of_edges()


def test_networkx_graphml_with_named_nodes_and_typed_values_loads(tmp_path, cache_dir):
    graph = nx.MultiGraph()
    for name, lon in (("west", 122.0), ("middle", 122.01), ("east", 122.02)):
        graph.add_node(name, x=lon, y=30.0)
    graph.add_node("north", x=122.01, y=30.01)
    for u, v in (("west", "middle"), ("middle", "east"), ("middle", "north")):
        graph.add_edge(u, v, highway="tertiary", oneway=False)  # no length: computed from coordinates
    path = tmp_path / "hand.graphml"
    nx.write_graphml(graph, path)
    site = _site(path, cache_dir)
    assert site.graph.number_of_edges() == 6 and all(isinstance(n, int) for n in site.graph.nodes)
    # great-circle metres: 0.01 degrees of longitude at 30 N, and 0.01 degrees of latitude
    assert sorted({round(d["length"]) for *_, d in site.graph.edges(data=True)}) == [963, 1112]


@pytest.mark.parametrize("crs", ["{'init': 'epsg:4326'}", "+init=epsg:4326", "epsg:4326"])
def test_old_osmnx_crs_spellings_are_read(crs, osmnx_graph, tmp_path):
    graph = osmnx_graph.copy()
    graph.graph["crs"] = crs
    ox.save_graphml(graph, tmp_path / "old.graphml")
    assert read_graphml(tmp_path / "old.graphml").graph["crs"] == "EPSG:4326"


def test_projected_graphml_is_used_in_its_own_crs(osmnx_graph, tmp_path, cache_dir):
    ox.save_graphml(ox.project_graph(osmnx_graph), tmp_path / "utm.graphml")
    ox.save_graphml(osmnx_graph, tmp_path / "lonlat.graphml")
    site = _site(tmp_path / "utm.graphml", cache_dir)
    assert str(site.crs).startswith("EPSG:326")  # UTM north, as saved
    assert graph_fingerprint(site.graph) == graph_fingerprint(
        _site(tmp_path / "lonlat.graphml", cache_dir).graph
    )


def test_undirected_osmnx_graph_keeps_a_one_way_street_one_way(tmp_path):
    nodes = "".join(
        f'<node id="{i}" lon="{122 + 0.002 * (i % 3)}" lat="{30 + 0.002 * (i // 3)}"/>' for i in range(6)
    )
    ways = [([0, 1, 2], "no"), ([3, 4, 5], "yes"), ([0, 3], "no"), ([2, 5], "no")]
    text = "".join(
        f'<way id="{k}">{"".join(f"<nd ref={chr(34)}{r}{chr(34)}/>" for r in refs)}'
        f'<tag k="highway" v="residential"/><tag k="oneway" v="{oneway}"/></way>'
        for k, (refs, oneway) in enumerate(ways, start=1)
    )
    (tmp_path / "town.osm").write_text(f'<?xml version="1.0"?><osm version="0.6">{nodes}{text}</osm>')
    graph = ox.graph_from_xml(tmp_path / "town.osm", simplify=False)
    ox.save_graphml(ox.convert.to_undirected(graph), tmp_path / "town.graphml")
    loaded = read_graphml(tmp_path / "town.graphml")
    assert set(loaded.edges()) == set(graph.edges())  # 3->4->5 one way, everything else both ways
    assert loaded.has_edge(3, 4) and not loaded.has_edge(4, 3)


@pytest.mark.parametrize("name", ["TWO_ISLANDS.OSM", "Two.Islands.Xml"])
def test_upper_case_osm_extension_is_accepted(name, tmp_path, cache_dir):
    shutil.copy(DATA / "two_islands.osm", tmp_path / name)
    site = _site(tmp_path / name, cache_dir, "site.stations=[{name: B, lon: 122.022, lat: 30.0}]")
    assert len(site.enterprises) > 0


def test_upper_case_graphml_extension_is_accepted(osmnx_graph, tmp_path, cache_dir, capsys):
    ox.save_graphml(osmnx_graph, tmp_path / "NET.GRAPHML")
    summary, _ = _echelon_site(tmp_path / "NET.GRAPHML", tmp_path, cache_dir, capsys)
    assert summary["network"]["nodes"] > 0


@pytest.mark.slow
def test_upper_case_pbf_extension_is_accepted_and_its_placeholders_are_said(tmp_path, cache_dir, capsys):
    shutil.copy(pyrosm.get_data("test_pbf"), tmp_path / "AREA.OSM.PBF")
    summary, printed = _echelon_site(tmp_path / "AREA.OSM.PBF", tmp_path, cache_dir, capsys)
    assert summary["network"]["nodes"] > 250
    assert "warning: 2 police station(s) are placeholders placed by a greedy p-median" in printed
    assert "site.stations=[{name: ..., lon: ..., lat: ...}] or rows with role=station" in printed
    assert "warning: 1 fire station(s) are placeholders" in printed and "site.fire_stations=" in printed
    # the extract is clipped from a mainland: its separate pieces are said to be cut by the box, not islands
    (pieces,) = [w for w in summary["warnings"] if "separate pieces" in w]
    assert "reach the edge of the extract's bounding box" in pieces and "lie inside" not in pieces


def test_given_stations_are_not_called_placeholders(helsinki_site):
    assert not any("placeholder" in w for w in helsinki_site.warnings)


def _with_bounds(tmp_path: Path, bounds: tuple[float, float, float, float]) -> Path:
    """The two-island fixture with a recorded <bounds> (west, south, east, north)."""
    west, south, east, north = bounds
    text = (DATA / "two_islands.osm").read_text()
    tag = f'<bounds minlat="{south}" minlon="{west}" maxlat="{north}" maxlon="{east}"/>'
    path = tmp_path / "bounded.osm"
    path.write_text(text.replace("<node ", f"{tag}\n  <node ", 1))
    return path


@pytest.mark.parametrize(
    ("bounds", "said"),
    [
        (
            (121.99, 29.99, 122.04, 30.01),
            "1 piece(s) (2 nodes) lie inside the extract's bounding box, an island",
        ),
        (
            (121.999, 29.998, 122.025, 30.005),
            "reach the edge of the extract's bounding box, most likely roads cut",
        ),
        (None, "each is an island without a bridge, or roads cut off where the extract was clipped"),
    ],
)
def test_separate_pieces_are_told_apart_by_the_extract_bounds(bounds, said, tmp_path, cache_dir):
    path = _with_bounds(tmp_path, bounds) if bounds else DATA / "two_islands.osm"
    site = _site(path, cache_dir, validate=False)
    (warning,) = [w for w in site.warnings if "separate pieces" in w]
    assert said in warning
    (problem, *_) = [w for w in site.warnings if "cannot be reached by road from any police station" in w]
    assert "no station lies on its piece of road; " in problem


def test_helsinki_pieces_are_roads_cut_by_the_clip(helsinki_site):
    (warning,) = [w for w in helsinki_site.warnings if "separate pieces" in w]
    assert "reach the edge of the extract's bounding box" in warning and "island" not in warning


def test_summary_json_is_strict_json_on_a_site_without_enterprises(osmnx_graph, tmp_path, cache_dir, capsys):
    ox.save_graphml(osmnx_graph, tmp_path / "net.graphml")
    summary, printed = _echelon_site(tmp_path / "net.graphml", tmp_path, cache_dir, capsys)
    assert summary["counts"]["enterprises"] == 0
    assert summary["enterprises_within_s_of_own_grid_post"] == {"60": None, "180": None, "300": None}
    assert "enterprises reached from their own grid's post" not in printed


def test_a_parser_message_is_cut_only_at_a_word_boundary():
    text = "word " * 200
    cut = one_line(text, limit_chars=52)
    assert cut == "word " * 10 + "..." and "\n" not in one_line("two\nlines")


# Watched places (illegal drone flights): only ports, chemical zones and long bridges over water.


class _OsmText:
    """A tiny OSM XML writer for hand-made test maps."""

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.ways: list[str] = []

    def node(self, lon: float, lat: float, **tags: str) -> int:
        i = len(self.nodes) + 1
        inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        self.nodes.append(f'<node id="{i}" lon="{lon:.6f}" lat="{lat:.6f}">{inner}</node>')
        return i

    def way(self, refs: list[int], **tags: str) -> None:
        inner = "".join(f'<nd ref="{r}"/>' for r in refs) + "".join(
            f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()
        )
        self.ways.append(f'<way id="{len(self.ways) + 1}">{inner}</way>')

    def area(self, corners: list[tuple[float, float]], **tags: str) -> None:
        ring = [self.node(lon, lat) for lon, lat in corners]
        self.way([*ring, ring[0]], **tags)

    def write(self, path: Path) -> Path:
        path.write_text(
            '<?xml version="1.0"?>\n<osm version="0.6">' + "".join(self.nodes + self.ways) + "</osm>\n"
        )
        return path


def _mainland_town(tmp_path: Path, water_bridge: bool) -> Path:
    """A grid town on land (400 m blocks) with a commercial zone and a police station, crossed by three
    elevated roads (bridge=yes, 1.5 km, over land); with ``water_bridge``, also a 630 m bridge across a
    mapped lake east of the town."""
    osm = _OsmText()
    step = 0.004
    grid = {(i, j): osm.node(122 + step * i, 30 + step * j) for i in range(6) for j in range(6)}
    for i in range(6):
        osm.way([grid[i, j] for j in range(6)], highway="residential")
        osm.way([grid[j, i] for j in range(6)], highway="residential")
    for j in (1, 3, 5):  # ramps from the grid onto a viaduct and back down
        a, b = osm.node(122.002, 30 + step * j + 0.001), osm.node(122.018, 30 + step * j + 0.001)
        osm.way([grid[0, j], a], highway="primary")
        osm.way([a, b], highway="primary", bridge="yes", layer="1", name=f"Elevated Road {j}")
        osm.way([b, grid[4, j]], highway="primary")
    osm.area(
        [(122.004, 30.004), (122.012, 30.004), (122.012, 30.012), (122.004, 30.012)], landuse="commercial"
    )
    osm.node(122.0081, 30.0081, amenity="police", name="Town police")
    if water_bridge:
        osm.area([(122.021, 29.99), (122.026, 29.99), (122.026, 30.03), (122.021, 30.03)], natural="water")
        west, east = osm.node(122.0205, 30.008), osm.node(122.027, 30.008)
        north, south = osm.node(122.03, 30.011), osm.node(122.03, 30.005)
        osm.way([grid[5, 2], west], highway="secondary")
        osm.way([west, east], highway="secondary", bridge="yes", name="Lake Bridge")
        osm.way([east, north, south, east], highway="secondary")
    return osm.write(tmp_path / ("lake_town.osm" if water_bridge else "town.osm"))


def test_elevated_roads_on_land_are_not_watched_and_bring_no_drone_incidents(tmp_path, cache_dir):
    site = _site(_mainland_town(tmp_path, water_bridge=False), cache_dir)
    assert len(watched_places(site)) == 0
    assert any("not watched for illegal drone flights" in w for w in site.warnings)  # no water mapped at all
    path = tmp_path / "town.osm"
    cfg = load_config(["site=file", f"site.path={path}", f"cache_dir={cache_dir}", "run.days=365"])
    kinds = [i.kind for i in generate_incidents(site, cfg, 0)]
    assert kinds and "illegal_drone" not in kinds


def test_a_long_bridge_over_mapped_water_is_watched(tmp_path, cache_dir):
    site = _site(_mainland_town(tmp_path, water_bridge=True), cache_dir)
    places = watched_places(site)
    assert list(places["place"]) == ["bridge:Lake Bridge"], places
    assert not any("not watched for illegal drone flights" in w for w in site.warnings)


def test_shipped_sites_watch_only_real_places(daishan_site, helsinki_site):
    assert list(watched_places(daishan_site)["place"]) == [
        "port:Gaoting Fishing Port",
        "no-fly zone:Yushan Green Petrochemical Base",
        "bridge:Xiushan Bridge",
        "bridge:Yushan Bridge",
    ]
    assert len(watched_places(helsinki_site)) == 0  # Pitkasilta crosses water but is 56 m long


@pytest.mark.slow
def test_pyrosm_test_extract_watches_nothing_and_has_no_drone_incidents(cache_dir):
    path = pyrosm.get_data("test_pbf")
    cfg = load_config(["site=file", f"site.path={path}", f"cache_dir={cache_dir}", "run.days=365"])
    site = build_site(cfg)
    assert len(watched_places(site)) == 0
    kinds = [i.kind for i in generate_incidents(site, cfg, 0)]
    assert kinds and "illegal_drone" not in kinds
