"""A synthetic street network of a chosen size, written as OSM XML, for measuring how costs grow.

Why OSM XML: the file is loaded by ``site=file`` exactly as a user's extract is (osmnx parse, drivable
roads, simplification, speeds, projection, enterprises, stations, grids, posts, validation), so the set-up
time measured on it is the set-up time of a real site of that size, not of a shortcut.

The network is a jittered square lattice (150 m blocks) with the default site's road classes by line
(a primary every 12th line, a secondary every 6th, a tertiary every 3rd, residential or in-plant service
roads between, some of those missing), industrial zones of about 0.8 km2 every 3 km (chemical,
manufacturing, port: enterprises are generated in them at the configured densities), a police station every
5 km and a fire station every 8 km. Everything grows with the area, so a bigger network is a bigger
district, not a denser one. Positions are made up: it says SYNTHETIC in its generator tag.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
from shapely.geometry import Point, Polygon

from sim.errors import ConfigError
from sim.site.synth_daishan import OsmWriter, road_class
from sim.streams import stream

GENERATOR_VERSION = "1"
SPACING_M = 150.0  # one block
ZONE_EVERY = 20  # lattice lines between industrial zones (3 km)
ZONE_CELLS = (7, 5)  # a zone's width and height in blocks (about 1.05 x 0.75 km)
ZONE_KINDS = ("manufacturing", "chemical", "manufacturing", "port")
POLICE_EVERY = 33  # lines between police stations (about 5 km)
FIRE_EVERY = 53  # lines between fire stations (about 8 km)
MISSING_MINOR_SHARE = 0.15  # residential and service segments left out, so blocks are not all alike
KEPT_AFTER_SIMPLIFY = 0.93  # measured share of lattice points that stay graph nodes (the rest: bends)
MIN_NODES = 100


def lattice_side(nodes: int) -> int:
    """Points per side of the lattice whose simplified graph has about ``nodes`` nodes."""
    if nodes < MIN_NODES:
        raise ConfigError(f"a synthetic network needs at least {MIN_NODES} nodes, got {nodes}")
    return max(3, round(math.sqrt(nodes / KEPT_AFTER_SIMPLIFY)))


def _zones(side: int) -> dict[tuple[int, int], tuple[str, str, Polygon]]:
    """The industrial zones that fit in the lattice, by their block of ZONE_EVERY lines: (name, kind,
    outline in metres)."""
    w, h = ZONE_CELLS
    out = {}
    for n, (i, j) in enumerate(itertools.product(range(0, side, ZONE_EVERY), repeat=2)):
        x0, y0 = (i + 2) * SPACING_M, (j + 2) * SPACING_M
        if i + 2 + w >= side - 1 or j + 2 + h >= side - 1:
            continue
        box = Polygon(
            [
                (x0, y0),
                (x0 + w * SPACING_M, y0),
                (x0 + w * SPACING_M, y0 + h * SPACING_M),
                (x0, y0 + h * SPACING_M),
            ]
        )
        out[i // ZONE_EVERY, j // ZONE_EVERY] = (f"Zone {n + 1}", ZONE_KINDS[n % len(ZONE_KINDS)], box)
    return out


def _points(side: int, every: int) -> list[tuple[float, float]]:
    """One point per ``every`` x ``every`` block of lines, at its centre (one at least)."""
    starts = range(0, side, every)
    centre = [min(s + every // 2, side - 1) * SPACING_M + SPACING_M / 2 for s in starts]
    return list(itertools.product(centre, repeat=2))


def network_osm_xml(nodes: int, seed: int) -> str:
    """The whole synthetic network as OSM XML text; the same (nodes, seed) give the same bytes."""
    side = lattice_side(nodes)
    rng = stream(seed, f"bench.network.{nodes}")
    writer = OsmWriter("bench.synthetic")
    zones = _zones(side)
    jitter = rng.uniform(-0.18, 0.18, size=(side, side, 2)) * SPACING_M
    ids = np.empty((side, side), dtype=np.int64)
    xy = np.empty((side, side, 2))
    for i in range(side):
        for j in range(side):
            x, y = i * SPACING_M + jitter[i, j, 0], j * SPACING_M + jitter[i, j, 1]
            ids[i, j] = writer.node(x, y)
            xy[i, j] = x, y
    keep = rng.random(size=(2, side, side)) > MISSING_MINOR_SHARE

    def in_zone(a: np.ndarray, b: np.ndarray) -> bool:
        """Whether a segment's middle lies in a zone; only the zone of its block can hold it."""
        mid = (a + b) / 2
        zone = zones.get((int(mid[0] // (ZONE_EVERY * SPACING_M)), int(mid[1] // (ZONE_EVERY * SPACING_M))))
        return zone is not None and zone[2].contains(Point(mid))

    # Lines along x (axis 0) and along y (axis 1): runs of kept same-class segments become one named way.
    for axis, line in itertools.product((0, 1), range(side)):
        run: list[int] = []
        run_class = ""
        for k in range(side):
            seg = None
            if k < side - 1:
                a, b = ((k, line), (k + 1, line)) if axis == 0 else ((line, k), (line, k + 1))
                road = road_class(line, in_zone(xy[a], xy[b]))
                if road not in ("residential", "service") or keep[axis, a[0], a[1]]:
                    seg = (int(ids[a]), int(ids[b]), road)
            if seg is None or seg[2] != run_class:
                if len(run) >= 2:
                    tags = {"highway": run_class, "name": f"{'Road' if axis == 0 else 'Street'} {line}"}
                    if run_class == "primary":
                        tags["maxspeed"] = "50"
                    writer.way(run, tags)
                run, run_class = ([seg[0]], seg[2]) if seg is not None else ([], "")
            if seg is not None:
                run.append(seg[1])
    for name, kind, outline in zones.values():
        writer.polygon(
            list(outline.exterior.coords)[:-1], {"landuse": "industrial", "industrial": kind, "name": name}
        )
    for amenity, every in (("police", POLICE_EVERY), ("fire_station", FIRE_EVERY)):
        for n, (x, y) in enumerate(_points(side, every)):
            writer.node(x, y, {"amenity": amenity, "name": f"{amenity.replace('_', ' ')} {n + 1}"})
    return writer.xml()


def network_path(folder: Path, nodes: int, seed: int) -> Path:
    """Where the network of ``nodes`` and ``seed`` is kept in ``folder``."""
    return Path(folder) / f"bench-grid-v{GENERATOR_VERSION}-{nodes}-seed{seed}.osm"


def write_network(folder: Path, nodes: int, seed: int) -> Path:
    """The network's OSM file in ``folder``, written once (a later call reuses it)."""
    path = network_path(folder, nodes, seed)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_text(network_osm_xml(nodes, seed), encoding="utf-8")
        tmp.replace(path)
    return path
