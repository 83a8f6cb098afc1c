"""What a site fixes for every replication and policy, computed once: travel tables, watched places, the
enterprises as plain records, cross-district partners, drone routes.

Why: a 30-day replication simulates about fifty incidents; building these per replication (pandas rows,
a walk over every road edge, nearest-node searches) used to cost more than the simulation itself. A World
holds only facts of the site, never model state, so one World serves any number of models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.site.bridges import MIN_WATCHED_BRIDGE_M, bridges
from sim.site.site import Site, snap

DRONE_PATROL_RADIUS_M = 6000.0  # a patrol drone's loop takes in the watched places within this of its nest


@dataclass(frozen=True, slots=True)
class EnterpriseRecord:
    """One enterprise's fixed facts, as the model's Enterprise agent needs them."""

    eid: str
    name: str
    kind: str
    node: int
    x_m: float
    y_m: float
    grid: str
    station: str
    workforce: int
    guards_day: int
    guards_evening: int
    guards_night: int
    terminal_online_p: float
    hazmat: bool
    area_class: str


@dataclass(frozen=True)
class UnitBases:
    """Travel times out from every unit base (station, post, fire station) to every node, and back.

    Units wait at fixed bases, so two tables answer every question of a unit at home.
    """

    row: dict[int, int]  # base node -> row
    out_s: np.ndarray  # (bases, nodes): base -> node, free-flow seconds
    back_s: np.ndarray  # (bases, nodes): node -> base


def area_class(hazmat: bool, in_zone: bool) -> str:
    """The area-class reading of 1-3-5: key sites (hazmat enterprises), industrial zones, elsewhere."""
    return "key" if hazmat else ("centre" if in_zone else "other")


def watched_places(site: Site) -> pd.DataFrame:
    """Places the drone control centre watches for illegal flights, chosen by significance: ports,
    cross-water bridges at least MIN_WATCHED_BRIDGE_M long and hazardous-chemical zones (no-fly areas).

    Columns: place, why, point (projected), node. Road overpasses, elevated roads and short bridges are left
    out (see sim/site/bridges.py), and so are plain industrial zones: they would multiply illegal-flight
    incidents on a mainland map without being watched in reality.
    """
    rows = [
        (f"port:{z.name}", "port", z.geometry.representative_point())
        for z in site.zones[site.zones["kind"] == "port"].itertuples()
    ]
    rows += [
        (f"no-fly zone:{z.name}", "chemical zone", z.geometry.representative_point())
        for z in site.zones[site.zones["kind"] == "chemical"].itertuples()
    ]
    for bridge in bridges(site):
        if bridge.crosses_water and bridge.length_m >= MIN_WATCHED_BRIDGE_M:
            rows.append((f"bridge:{bridge.name}", f"bridge {bridge.length_m:,.0f} m", bridge.point))
    frame = pd.DataFrame(rows, columns=["place", "why", "point"])
    if len(frame):
        nodes, _ = snap(site.graph, gpd.GeoSeries(frame["point"], crs=site.crs))
        frame["node"] = nodes
    else:
        frame["node"] = pd.Series(dtype="int64")
    return frame


def _partners(site: Site, max_m: float = 2000.0) -> dict[str, str]:
    """For each enterprise, the station of the nearest enterprise across a jurisdiction boundary, if close:
    a dispute there may straddle two station areas."""
    ent = site.enterprises
    if not len(ent):
        return {}
    xy = np.column_stack([ent.geometry.x, ent.geometry.y])
    stations = ent["station"].astype(str).to_numpy()
    out = {}
    for st in np.unique(stations):
        mine, other = stations == st, stations != st
        if not other.any():
            continue
        d = np.hypot(xy[mine, None, 0] - xy[None, other, 0], xy[mine, None, 1] - xy[None, other, 1])
        nearest = d.argmin(axis=1)
        close = d[np.arange(len(nearest)), nearest] <= max_m
        ids = ent["id"].astype(str).to_numpy()[mine]
        for eid, j, ok in zip(ids, nearest, close, strict=True):
            if ok:
                out[str(eid)] = str(stations[other][j])
    return out


def _enterprise_records(site: Site) -> list[EnterpriseRecord]:
    ent = site.enterprises
    if not len(ent):
        return []
    cols = {c: ent[c].to_numpy() for c in ent.columns if c != "geometry"}
    xs, ys = ent.geometry.x.to_numpy(), ent.geometry.y.to_numpy()
    return [
        EnterpriseRecord(
            str(cols["id"][i]),
            str(cols["name"][i]),
            str(cols["kind"][i]),
            int(cols["node"][i]),
            float(xs[i]),
            float(ys[i]),
            str(cols["grid"][i]),
            str(cols["station"][i]),
            int(cols["workforce"][i]),
            int(cols["guards_day"][i]),
            int(cols["guards_evening"][i]),
            int(cols["guards_night"][i]),
            float(cols["terminal_online_p"][i]),
            bool(cols["hazmat"][i]),
            area_class(bool(cols["hazmat"][i]), bool(cols["zone"][i])),
        )
        for i in range(len(ent))
    ]


def _drone_route(nest_xy: tuple[float, float], targets: list[tuple[float, float]]) -> np.ndarray:
    """The watched places and zones near a nest, visited in order of bearing: one loop per patrol."""
    near = [t for t in targets if math.hypot(t[0] - nest_xy[0], t[1] - nest_xy[1]) <= DRONE_PATROL_RADIUS_M]
    near.sort(key=lambda t: math.atan2(t[1] - nest_xy[1], t[0] - nest_xy[0]))
    return np.array(near, dtype=float).reshape(-1, 2)


@dataclass
class World:
    """A site's fixed facts for the model (built once per site; see the module docstring)."""

    site: Site
    bases: UnitBases
    enterprises: list[EnterpriseRecord]
    places: pd.DataFrame
    partners: dict[str, str]
    nest_routes: list[tuple[str, tuple[float, float], np.ndarray]]  # nest id, nest (x, y), patrol route
    node_index: dict[int, int]
    _from_node: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _rows_of_kinds: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.place_nodes = [int(n) for n in self.places["node"]]
        self.place_xy = [(float(p.x), float(p.y)) for p in self.places["point"]]

    def enterprise_rows(self, kinds: list[str]) -> np.ndarray:
        """Positions in ``enterprises`` of the enterprises of these kinds (all of them for an empty list)."""
        key = tuple(kinds)
        rows = self._rows_of_kinds.get(key)
        if rows is None:
            every = np.arange(len(self.enterprises))
            rows = (
                np.array([i for i in every if self.enterprises[i].kind in kinds], dtype=np.int64)
                if kinds
                else every
            )
            self._rows_of_kinds[key] = rows
        return rows

    @classmethod
    def build(cls, site: Site) -> World:
        fire = site.fire_stations
        homes = [site.stations["node"], site.posts["node"], fire["node"]]
        bases = sorted({int(n) for column in homes for n in column})
        out = site.router.times_from(bases) if bases else np.empty((0, site.router.n_nodes))
        back = site.router.times_to_many(bases) if bases else np.empty((0, site.router.n_nodes))
        places = watched_places(site)
        targets = [(p.x, p.y) for p in places["point"]]
        targets += [(p.x, p.y) for p in site.zones.geometry.representative_point()]
        routes = []
        for nest in site.nests.itertuples():
            xy = (float(nest.geometry.x), float(nest.geometry.y))
            routes.append((str(nest.id), xy, _drone_route(xy, targets)))
        return cls(
            site,
            UnitBases({int(b): i for i, b in enumerate(bases)}, out, back),
            _enterprise_records(site),
            places,
            _partners(site),
            routes,
            {int(n): i for i, n in enumerate(site.router.nodes.tolist())},
        )

    def times_from_node_s(self, node_idx: int) -> np.ndarray:
        """Free-flow seconds from one road node (by router index) to every node; remembered, because
        units leave from the same scenes again and again."""
        row = self._from_node.get(node_idx)
        if row is None:
            node = self.site.router.nodes[node_idx]
            row = self.site.router.times_from([node])[0]
            self._from_node[node_idx] = row
        return row
