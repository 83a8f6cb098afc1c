"""Bad road-network files and cache folders, refused in one line naming the file (see tests/bad_input.py).

Every bad file is written by the test itself, into the case's own folder.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pyrosm
import pytest
from bad_input import Bad, refuse


def _osm(nodes: list[tuple[int, float, float]], ways: list[tuple[list[int], dict[str, str]]]) -> str:
    """OSM XML text: nodes (id, lon, lat) and ways (node ids, tags)."""
    parts = [f'<node id="{i}" lon="{lon}" lat="{lat}"/>' for i, lon, lat in nodes]
    for k, (refs, tags) in enumerate(ways, start=1):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tag_text = "".join(f'<tag k="{key}" v="{value}"/>' for key, value in tags.items())
        parts.append(f'<way id="{k}">{nds}{tag_text}</way>')
    return '<?xml version="1.0"?>\n<osm version="0.6">' + "".join(parts) + "</osm>\n"


ROW = [(i, 122.0 + 0.002 * i, 30.0) for i in range(1, 6)]  # five nodes 200 m apart, west to east


def write(name: str, text: str):
    """A ``make`` that writes ``text`` to ``name`` in the case's folder."""
    return lambda tmp: (tmp / name).write_text(text)


def write_bytes(name: str, data: bytes):
    return lambda tmp: (tmp / name).write_bytes(data)


def pbf_head(name: str, n_bytes: int):
    """The first ``n_bytes`` of pyrosm's shipped test extract: a PBF cut off mid-file."""
    return lambda tmp: (tmp / name).write_bytes(Path(pyrosm.get_data("test_pbf")).read_bytes()[:n_bytes])


def graphml(name: str, graph: nx.Graph):
    return lambda tmp: nx.write_graphml(graph, tmp / name)


def _graph(directed: bool = True, xy: bool = True, highway: bool = True, crs: str | None = "EPSG:4326"):
    """A small road graph: a cross of two two-way roads (not a ring, which osmnx's simplification drops)."""
    graph = nx.MultiDiGraph() if directed else nx.MultiGraph()
    points = {1: (122.0, 30.0), 2: (122.01, 30.0), 3: (122.02, 30.0), 4: (122.01, 29.99), 5: (122.01, 30.01)}
    for node, (x, y) in points.items():
        graph.add_node(node, **({"x": x, "y": y} if xy else {}))
    for u, v in [(1, 2), (2, 3), (4, 2), (2, 5)]:
        attrs = {"highway": "residential"} if highway else {}
        graph.add_edge(u, v, **attrs)
        if directed:
            graph.add_edge(v, u, **attrs)
    if crs:
        graph.graph["crs"] = crs
    return graph


def _projected_without_crs() -> nx.MultiGraph:
    graph = _graph(directed=False, crs=None)
    for _, data in graph.nodes(data=True):
        data["x"], data["y"] = data["x"] * 4000.0, data["y"] * 100000.0  # metres, far outside lon/lat
    return graph


def _one_way_only() -> str:
    return _osm(ROW, [([i, i + 1], {"highway": "residential", "oneway": "yes"}) for i in range(1, 5)])


def _ring_only() -> str:
    square = [(1, 122.0, 30.0), (2, 122.01, 30.0), (3, 122.01, 30.01), (4, 122.0, 30.01)]
    return _osm(square, [([1, 2, 3, 4, 1], {"highway": "residential"})])


FILE = "site=file"
CASES = [
    Bad(
        "one-way roads only",
        (FILE, "site.path={tmp}/oneway.osm"),
        "oneway.osm: no two-way connected roads remain after trimming one-way stubs",
        write("oneway.osm", _one_way_only()),
    ),
    Bad(
        "a ring of road only",
        (FILE, "site.path={tmp}/ring.osm"),
        "ring.osm: no roads remain after simplification",
        write("ring.osm", _ring_only()),
    ),
    Bad(
        "footways only",
        (FILE, "site.path={tmp}/paths.osm"),
        "paths.osm: the road network is empty after keeping drivable roads",
        write("paths.osm", _osm(ROW[:2], [([1, 2], {"highway": "footway"})])),
    ),
    Bad(
        "nodes and no ways",
        (FILE, "site.path={tmp}/nodes.osm"),
        "nodes.osm: the data has no roads",
        write("nodes.osm", _osm(ROW, [])),
    ),
    Bad(
        "web page saved as .osm",
        (FILE, "site.path={tmp}/page.osm"),
        "page.osm: not an OSM XML file (its root element is <html>, not <osm>)",
        write("page.osm", "<?xml version='1.0'?><html><body>Export failed</body></html>"),
    ),
    Bad(
        "non-OSM .xml",
        (FILE, "site.path={tmp}/data.XML"),
        "data.XML: not an OSM XML file",
        write("data.XML", "<gpx><trk/></gpx>"),
    ),
    Bad(
        "binary data as .osm",
        (FILE, "site.path={tmp}/area.osm"),
        "area.osm: not an OSM XML file (not well-formed XML",
        pbf_head("area.osm", 500),
    ),
    Bad(
        "empty .osm",
        (FILE, "site.path={tmp}/e.osm"),
        "e.osm: the file is empty (0 bytes)",
        write("e.osm", ""),
    ),
    Bad(
        "empty .osm.pbf",
        (FILE, "site.path={tmp}/e.osm.pbf"),
        "e.osm.pbf: the file is empty (0 bytes); expected OSM PBF data",
        write("e.osm.pbf", ""),
    ),
    Bad(
        "truncated .osm.pbf",
        (FILE, "site.path={tmp}/cut.osm.pbf"),
        "cut.osm.pbf: cannot read this file as OSM PBF data",
        pbf_head("cut.osm.pbf", 3000),
    ),
    Bad(
        "truncated upper-case .OSM.PBF names the user's file",
        (FILE, "site.path={tmp}/CUT.OSM.PBF"),
        "CUT.OSM.PBF: cannot read this file as OSM PBF data",
        pbf_head("CUT.OSM.PBF", 3000),
    ),
    Bad(
        "text as .osm.pbf",
        (FILE, "site.path={tmp}/notes.osm.pbf"),
        "this file does not follow the OSM PBF schema (declared BlobHeader size",  # pyrosm's words, uncut
        write("notes.osm.pbf", "not a protobuf\n" * 20),
    ),
    Bad(
        "graphml with no edges",
        (FILE, "site.path={tmp}/lonely.graphml"),
        "lonely.graphml: the GraphML file has 5 node(s) but no edges",
        graphml("lonely.graphml", nx.create_empty_copy(_graph())),
    ),
    Bad(
        "graphml with no nodes",
        (FILE, "site.path={tmp}/void.graphml"),
        "void.graphml: the GraphML file has no nodes",
        graphml("void.graphml", nx.MultiDiGraph()),
    ),
    Bad(
        "graphml without x/y",
        (FILE, "site.path={tmp}/noxy.graphml"),
        "noxy.graphml: node 1 has no numeric x/y coordinates",
        graphml("noxy.graphml", _graph(xy=False)),
    ),
    Bad(
        "graphml in metres without crs",
        (FILE, "site.path={tmp}/metres.graphml"),
        "metres.graphml: the graph has no 'crs' attribute and its x/y are not longitude/latitude",
        graphml("metres.graphml", _projected_without_crs()),
    ),
    Bad(
        "graphml with an unknown crs",
        (FILE, "site.path={tmp}/crs.graphml"),
        "crs.graphml: the graph attribute crs='EPSG:99999' is not a coordinate reference system",
        graphml("crs.graphml", _graph(crs="EPSG:99999")),
    ),
    Bad(
        "graphml without road classes",
        (FILE, "site.path={tmp}/plain.graphml"),
        "plain.graphml: no edge has a 'highway' attribute",
        graphml("plain.graphml", _graph(highway=False)),
    ),
    Bad(
        "text as .graphml",
        (FILE, "site.path={tmp}/junk.graphml"),
        "junk.graphml: not a GraphML file (not well-formed XML",
        write("junk.graphml", "nodes: 1, 2, 3"),
    ),
    Bad(
        "OSM XML as .graphml",
        (FILE, "site.path={tmp}/osm.graphml"),
        "osm.graphml: not a GraphML file (no <graphml> graph in it)",
        write("osm.graphml", _osm(ROW[:2], [([1, 2], {"highway": "residential"})])),
    ),
    Bad(
        "a folder instead of a file",
        (FILE, "site.path={tmp}/area.osm"),
        "is a folder; give a file",
        lambda tmp: (tmp / "area.osm").mkdir(),
    ),
    Bad(
        "unknown extension",
        (FILE, "site.path={tmp}/area.geojson"),
        "site.path: unsupported file type 'area.geojson'; allowed: .osm, .osm.pbf, .graphml",
        write("area.geojson", "{}"),
    ),
    Bad("missing file", (FILE, "site.path={tmp}/nowhere.osm.pbf"), "'site.path': file not found"),
    Bad(
        "cache_dir is a file",
        ("cache_dir={tmp}/cache.txt",),
        "config key 'cache_dir': '",
        write("cache.txt", "not a folder"),
    ),
    Bad(
        "cache_dir inside a file",
        ("cache_dir={tmp}/cache.txt/sub",),
        "config key 'cache_dir': cannot write in",
        write("cache.txt", "not a folder"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_network_input_is_refused_in_one_line(case, tmp_path, cache_dir, capsys):
    line = refuse(case, tmp_path, cache_dir, capsys)
    assert "server response" not in line  # osmnx's words for a download, not a user's file


def test_cache_dir_that_is_a_file_says_what_is_allowed(tmp_path, cache_dir, capsys):
    case = Bad("cache file", ("cache_dir={tmp}/c",), "is a file; it must be a folder", write("c", "x"))
    assert "(made if missing)" in refuse(case, tmp_path, cache_dir, capsys)
