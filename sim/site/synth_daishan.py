"""The default site: a *synthetic* archipelago stylised on Daishan county, written as an OSM XML file.

Why synthetic: the report's places (Daixi industrial zone split between two stations, Xiushan island, the
Yushan petrochemical base joined by bridges, a fishing port, the county's fire stations) have no offline OSM
extract, and real Chinese
OSM road tagging is sparse. So we draw a stylised archipelago with realistic road classes and write it as
OSM XML; it is then loaded through osmnx's OSM loader exactly like a real file (sim/network.py), so the
synthetic and real paths share every line after this module.

Shapes and positions are stylised, not surveyed: every figure drawn from this site says "synthetic".
Coordinates are built in metres on a local plane around ORIGIN_LONLAT and written as WGS84.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
from shapely.geometry import LineString, Point, Polygon
from shapely.prepared import prep

GENERATOR_VERSION = "2"  # 2: amenity=fire_station nodes (roads and every other node unchanged)
ORIGIN_LONLAT = (122.15, 30.25)
M_PER_DEG_LAT = 110_900.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(ORIGIN_LONLAT[1]))


@dataclass(frozen=True)
class Island:
    name: str
    outline_km: tuple[tuple[float, float], ...]
    spacing_m: float


@dataclass(frozen=True)
class Zone:
    """An industrial area: written as landuse=industrial with an industrial=* kind."""

    name: str
    kind: str  # OSM industrial=* value: chemical, manufacturing, port
    outline_km: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Bridge:
    name: str
    start_km: tuple[float, float]
    end_km: tuple[float, float]


@dataclass(frozen=True)
class Station:
    name: str
    at_km: tuple[float, float]


ISLANDS = (
    Island(
        "Daishan Island",
        (
            (-6.6, 0.4),
            (-5.6, 2.9),
            (-3.2, 4.1),
            (0.0, 4.3),
            (3.1, 3.9),
            (5.6, 3.0),
            (6.9, 1.0),
            (6.1, -2.0),
            (3.6, -3.7),
            (0.2, -4.1),
            (-3.0, -3.7),
            (-5.8, -2.1),
        ),
        200.0,
    ),
    Island(
        "Yushan Island",
        ((-14.6, 1.6), (-13.8, 3.9), (-11.6, 4.5), (-9.4, 3.6), (-9.2, 1.2), (-10.6, -0.2), (-13.2, -0.1)),
        190.0,
    ),
    Island(
        "Xiushan Island",
        ((-2.6, -8.6), (-1.6, -7.2), (0.8, -6.8), (3.6, -7.3), (4.4, -8.6), (2.6, -9.9), (-0.8, -10.0)),
        190.0,
    ),
)

ZONES = (
    Zone(
        "Yushan Green Petrochemical Base",
        "chemical",
        ((-14.0, 0.5), (-13.5, 3.6), (-11.4, 4.0), (-9.8, 3.2), (-9.8, 1.2), (-10.9, 0.3)),
    ),
    Zone(
        "Daixi Industrial Zone",
        "manufacturing",
        ((-4.6, -2.6), (-4.6, -0.3), (-2.6, 0.4), (-0.6, 0.1), (-0.3, -2.5), (-2.4, -3.2)),
    ),
    Zone("Gaoting Fishing Port", "port", ((2.0, -3.5), (2.2, -2.3), (4.6, -2.0), (5.0, -2.9), (3.6, -3.5))),
    Zone(
        "Xiushan Industrial Park",
        "manufacturing",
        ((0.8, -9.3), (0.9, -7.4), (3.2, -7.6), (3.8, -8.6), (2.6, -9.4)),
    ),
)

BRIDGES = (
    Bridge("Yushan Bridge", (-9.6, 1.9), (-6.3, 0.9)),
    Bridge("Xiushan Bridge", (0.2, -7.2), (0.0, -3.8)),
)

# The Daixi zone straddles the line where Daixi's and Gaoting's nearest-station areas meet.
STATIONS = (
    Station("Daixi Police Station", (-4.9, 0.9)),
    Station("Gaoting Police Station", (1.2, -2.6)),
    Station("Dongsha Police Station", (3.4, 2.4)),
    Station("Yushan Police Centre", (-12.0, 2.6)),
    Station("Xiushan Police Station", (-0.4, -8.2)),
)

# After the real county: its fire rescue brigade in Gaoting, a station serving the Daixi industrial zone, and
# the special-duty fire station of the Yushan petrochemical base (positions stylised, like everything here).
FIRE_STATIONS = (
    Station("Daishan County Fire Rescue Brigade", (1.8, -1.6)),
    Station("Daixi Fire Station", (-2.4, -1.3)),
    Station("Yushan Petrochemical Special Duty Fire Station", (-10.8, 1.8)),
)


def lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    lon0, lat0 = ORIGIN_LONLAT
    return lon0 + x_m / M_PER_DEG_LON, lat0 + y_m / M_PER_DEG_LAT


def _metres(points_km) -> list[tuple[float, float]]:
    return [(x * 1000.0, y * 1000.0) for x, y in points_km]


def road_class(line_index: int, in_zone: bool) -> str:
    """Road class by lattice line: arterials every 12th line, collectors every 6th, and so on."""
    if line_index % 12 == 0:
        return "primary"
    if line_index % 6 == 0:
        return "secondary"
    if line_index % 3 == 0:
        return "tertiary"
    return "service" if in_zone else "residential"


class OsmWriter:
    """Accumulates OSM nodes and ways; ids are sequential so the file is byte-identical per seed."""

    def __init__(self, generator: str = "synth_daishan") -> None:
        self.generator = generator  # the file's generator tag: which of Echelon's generators wrote it
        self.nodes: list[tuple[int, float, float, dict[str, str]]] = []
        self.ways: list[tuple[int, list[int], dict[str, str]]] = []
        self._next_node = 1
        self._next_way = 1

    def node(self, x_m: float, y_m: float, tags: dict[str, str] | None = None) -> int:
        lon, lat = lonlat(x_m, y_m)
        nid = self._next_node
        self._next_node += 1
        self.nodes.append((nid, lon, lat, tags or {}))
        return nid

    def way(self, refs: list[int], tags: dict[str, str]) -> None:
        self.ways.append((self._next_way, refs, tags))
        self._next_way += 1

    def polygon(self, points_m: list[tuple[float, float]], tags: dict[str, str]) -> None:
        refs = [self.node(x, y) for x, y in points_m]
        self.way([*refs, refs[0]], tags)

    def xml(self) -> str:
        def tag_lines(tags: dict[str, str]) -> list[str]:
            return [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items())]

        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<osm version="0.6" generator="echelon {self.generator} (SYNTHETIC data, not surveyed)">',
        ]
        for nid, lon, lat, tags in self.nodes:
            if tags:
                lines += [
                    f'  <node id="{nid}" lat="{lat:.7f}" lon="{lon:.7f}">',
                    *tag_lines(tags),
                    "  </node>",
                ]
            else:
                lines.append(f'  <node id="{nid}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
        for wid, refs, tags in self.ways:
            lines.append(f'  <way id="{wid}">')
            lines += [f'    <nd ref="{r}"/>' for r in refs]
            lines += [*tag_lines(tags), "  </way>"]
        lines.append("</osm>")
        return "\n".join(lines) + "\n"


def _island_roads(
    writer: OsmWriter, island: Island, zones: list[Polygon], rng: np.random.Generator, prefix: str
) -> dict[tuple[int, int], tuple[int, float, float]]:
    """A jittered lattice of roads inside the island; returns lattice cell -> (node id, x, y)."""
    outline = Polygon(_metres(island.outline_km))
    land = prep(outline.buffer(-120.0))
    zone_areas = [prep(z) for z in zones]
    s = island.spacing_m
    minx, miny, maxx, maxy = outline.bounds
    cells: dict[tuple[int, int], tuple[int, float, float]] = {}
    for i in range(int((maxx - minx) // s) + 1):
        for j in range(int((maxy - miny) // s) + 1):
            x = minx + i * s + rng.uniform(-0.18, 0.18) * s
            y = miny + j * s + rng.uniform(-0.18, 0.18) * s
            if land.contains(Point(x, y)):
                cells[(i, j)] = (writer.node(x, y), x, y)

    def in_zone(a, b) -> bool:
        mid = Point((a[1] + b[1]) / 2, (a[2] + b[2]) / 2)
        return any(z.contains(mid) for z in zone_areas)

    # Rows (east-west) and columns (north-south): runs of kept same-class segments become named ways.
    for axis in (0, 1):
        for line in sorted({c[1 - axis] for c in cells}):
            members = sorted(c for c in cells if c[1 - axis] == line)
            segments: list[tuple[int, int, str] | None] = []
            for a, b in itertools.pairwise(members):
                if b[axis] - a[axis] != 1:
                    segments.append(None)
                    continue
                road = road_class(line, in_zone(cells[a], cells[b]))
                keep = road not in ("residential", "service") or rng.random() > 0.22
                segments.append((cells[a][0], cells[b][0], road) if keep else None)
            run: list[int] = []
            run_class = ""
            for seg in [*segments, None]:
                if seg is None or seg[2] != run_class:
                    if len(run) >= 2:
                        tags = {
                            "highway": run_class,
                            "name": f"{prefix} {'Road' if axis == 0 else 'Street'} {line}",
                        }
                        if run_class == "primary":
                            tags["maxspeed"] = "50"
                        writer.way(run, tags)
                    run, run_class = [], ""
                if seg is None:
                    continue
                if not run:
                    run, run_class = [seg[0]], seg[2]
                run.append(seg[1])
    return cells


def _nearest_cell(cells: dict, x: float, y: float) -> tuple[int, float, float]:
    return min(cells.values(), key=lambda c: (c[1] - x) ** 2 + (c[2] - y) ** 2)


def build_osm_xml(seed: int) -> str:
    """The whole synthetic site as OSM XML text; the same seed gives the same bytes."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xDA15]))
    writer = OsmWriter()
    zone_polys = [Polygon(_metres(z.outline_km)) for z in ZONES]
    all_cells: dict[tuple[int, int, int], tuple[int, float, float]] = {}
    for k, island in enumerate(ISLANDS):
        prefix = island.name.split()[0]
        cells = _island_roads(writer, island, zone_polys, rng, prefix)
        all_cells.update({(k, *c): v for c, v in cells.items()})
        writer.polygon(_metres(island.outline_km), {"place": "island", "name": island.name})
    for bridge in BRIDGES:
        a = _nearest_cell(all_cells, *(v * 1000 for v in bridge.start_km))
        b = _nearest_cell(all_cells, *(v * 1000 for v in bridge.end_km))
        span = LineString([(a[1], a[2]), (b[1], b[2])])
        n_inner = max(1, int(span.length // 250))
        inner = [span.interpolate(t / (n_inner + 1), normalized=True) for t in range(1, n_inner + 1)]
        refs = [a[0], *(writer.node(p.x, p.y) for p in inner), b[0]]
        writer.way(
            refs, {"highway": "trunk", "bridge": "yes", "layer": "1", "maxspeed": "60", "name": bridge.name}
        )
    for zone, poly in zip(ZONES, zone_polys, strict=True):
        writer.polygon(
            list(poly.exterior.coords)[:-1],
            {"landuse": "industrial", "industrial": zone.kind, "name": zone.name},
        )
    # Fixed points, written last and drawing nothing from rng: the roads and their node ids stay as they were.
    for amenity, stations in (("police", STATIONS), ("fire_station", FIRE_STATIONS)):
        for station in stations:
            x_m, y_m = (v * 1000 for v in station.at_km)
            writer.node(x_m, y_m, {"amenity": amenity, "name": station.name})
    return writer.xml()


def write_osm(path: Path, seed: int) -> Path:
    """Write the synthetic site to ``path`` atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(build_osm_xml(seed))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
