"""The incident stream of a replication: when, where, what, and every uniform number its delays will use.

Generated once per replication from the named stream ``incidents/rep<k>``, before any policy runs, so every
policy faces the same incidents with the same luck (common random numbers). Rates come per enterprise (by
enterprise kind) or per place (ports and bridges, for illegal drone flights), shaped by the hour-of-day
profile (a non-homogeneous Poisson process, drawn by thinning).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pandas as pd
from shapely.geometry import Point

from sim.config import EchelonConfig
from sim.site.site import Site, snap
from sim.streams import stream

DAY_S = 86_400.0


class U(IntEnum):
    """Slots of an incident's pre-drawn uniforms: one per random quantity the pipeline may need.

    Unit delays are keyed by (unit kind, order within the incident): the first police car sent to an incident
    uses MOB_POLICE_1 whichever policy sent it, so policies stay comparable (common random numbers) and two
    cars sent to one incident do not share their luck.
    """

    STAFF_DETECT = 0
    PASSERBY_DETECT = 1
    TERMINAL = 2
    CALL_ANSWER = 3
    CALL_LOCATE = 4
    VIDEO = 5
    DEADLINE = 6
    MOB_OWN = 7
    ON_SITE = 8
    HANDLING_OWN = 9
    MOB_ECHELON_1 = 10
    MOB_ECHELON_2 = 11
    SCENE_ECHELON_1 = 12
    SCENE_ECHELON_2 = 13
    MOB_POLICE_1 = 14
    MOB_POLICE_2 = 15
    HANDLING_POLICE_1 = 16
    HANDLING_POLICE_2 = 17
    CONTAIN = 18
    HANDOFF = 19
    COORDINATION = 20
    CROSS = 21


N_UNIFORMS = len(U)


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    kind: str
    t_s: float
    node: int
    x_m: float
    y_m: float
    enterprise: str  # '' for incidents at places
    grid: str
    station: str
    area_class: str  # key | centre | other
    cross_district: bool
    partner_station: str  # cross-district disputes: the other side's station, else ''
    u: tuple[float, ...]  # N_UNIFORMS numbers in (0, 1)


def places(site: Site) -> pd.DataFrame:
    """Ports and bridges: where drones patrol and illegal flights are watched for."""
    rows = [
        (f"port:{z.name}", z.geometry.representative_point())
        for z in site.zones[site.zones["kind"] == "port"].itertuples()
    ]
    seen = set()
    for u, v, data in site.graph.edges(data=True):
        bridge = data.get("bridge")
        bridge = bridge[0] if isinstance(bridge, list) else bridge
        name = data.get("name")
        name = name[0] if isinstance(name, list) else name
        key = name or f"bridge {min(u, v)}-{max(u, v)}"
        if bridge == "yes" and key not in seen:
            seen.add(key)
            mid = data.get("geometry")
            point = (
                mid.interpolate(0.5, normalized=True)
                if mid is not None
                else Point(
                    (site.graph.nodes[u]["x"] + site.graph.nodes[v]["x"]) / 2,
                    (site.graph.nodes[u]["y"] + site.graph.nodes[v]["y"]) / 2,
                )
            )
            rows.append((f"bridge:{key}", point))
    frame = pd.DataFrame(rows, columns=["place", "point"])
    if len(frame):
        import geopandas as gpd

        nodes, _ = snap(site.graph, gpd.GeoSeries(frame["point"], crs=site.crs))
        frame["node"] = nodes
    else:
        frame["node"] = pd.Series(dtype="int64")
    return frame


def _arrival_times(
    rng: np.random.Generator, rate_per_day: float, days: float, profile: np.ndarray
) -> np.ndarray:
    """Non-homogeneous Poisson arrivals over ``days`` by thinning against the hour-of-day profile."""
    peak = float(profile.max())
    if rate_per_day <= 0 or peak <= 0:
        return np.empty(0)
    mean_profile = float(profile.mean())
    n = rng.poisson(rate_per_day / mean_profile * peak * days)
    t = np.sort(rng.uniform(0.0, days * DAY_S, size=n))
    keep = rng.random(n) < profile[((t % DAY_S) // 3600).astype(int)] / peak
    return t[keep]


def _partners(site: Site, max_m: float = 2000.0) -> dict[str, str]:
    """For each enterprise, the station of the nearest enterprise across a jurisdiction boundary, if close."""
    ent = site.enterprises
    xy = np.column_stack([ent.geometry.x, ent.geometry.y])
    stations = ent["station"].to_numpy()
    out = {}
    for i, eid in enumerate(ent["id"]):
        other = stations != stations[i]
        if not other.any():
            continue
        d = np.hypot(*(xy[other] - xy[i]).T)
        j = int(np.argmin(d))
        if d[j] <= max_m:
            out[eid] = str(stations[other][j])
    return out


def area_class(hazmat: bool, in_zone: bool) -> str:
    return "key" if hazmat else ("centre" if in_zone else "other")


def generate_incidents(site: Site, cfg: EchelonConfig, replication: int) -> list[Incident]:
    """All incidents of one replication, sorted by time, ids 0, 1, 2, ..."""
    assert cfg.incidents is not None
    inc_cfg = cfg.incidents
    rng = stream(cfg.seed, f"incidents/rep{replication}")
    profile = np.asarray(inc_cfg.hour_profile, dtype=float)
    days = cfg.run.days
    ent = site.enterprises.reset_index(drop=True)
    partners = _partners(site)
    spots = places(site)
    raw: list[tuple[float, str, int, int]] = []  # (t, kind, enterprise row or -1, place row or -1)
    for kind_name, kind in inc_cfg.kinds.items():  # config order: stable
        if kind.rate_per_enterprise_year > 0 and len(ent):
            rows = (
                np.flatnonzero(ent["kind"].isin(kind.enterprise_kinds).to_numpy())
                if kind.enterprise_kinds
                else np.arange(len(ent))
            )
            rate = kind.rate_per_enterprise_year / 365.0 * len(rows) * inc_cfg.rate_multiplier
            times = _arrival_times(rng, rate, days, profile)
            who = rows[rng.integers(0, len(rows), size=len(times))] if len(rows) else []
            raw += [(float(t), kind_name, int(w), -1) for t, w in zip(times, who, strict=True)]
        if kind.rate_per_place_day > 0 and len(spots):
            times = _arrival_times(
                rng, kind.rate_per_place_day * len(spots) * inc_cfg.rate_multiplier, days, profile
            )
            where = rng.integers(0, len(spots), size=len(times))
            raw += [(float(t), kind_name, -1, int(p)) for t, p in zip(times, where, strict=True)]
    raw.sort(key=lambda r: (r[0], r[1]))
    uniforms = rng.random((len(raw), N_UNIFORMS))
    incidents = []
    node_station = dict(zip(site.router.nodes.tolist(), site.node_station.tolist(), strict=True))
    # Plain columns: one pandas row lookup per incident would cost more than the model run.
    e_node, e_id = ent["node"].to_numpy(), ent["id"].astype(str).to_numpy()
    e_x, e_y = ent.geometry.x.to_numpy(), ent.geometry.y.to_numpy()
    e_grid, e_station = ent["grid"].astype(str).to_numpy(), ent["station"].astype(str).to_numpy()
    e_class = [area_class(bool(h), bool(z)) for h, z in zip(ent["hazmat"], ent["zone"], strict=True)]
    p_node = spots["node"].to_numpy() if len(spots) else []
    p_xy = [(pt.x, pt.y) for pt in spots["point"]] if len(spots) else []
    for i, ((t, kind_name, e, p), u) in enumerate(zip(raw, uniforms, strict=True)):
        if e >= 0:
            node, x, y = int(e_node[e]), float(e_x[e]), float(e_y[e])
            eid, grid, station, cls = str(e_id[e]), str(e_grid[e]), str(e_station[e]), e_class[e]
        else:
            node, (x, y) = int(p_node[p]), p_xy[p]
            eid, grid, station, cls = "", "", str(node_station.get(node, "")), "other"
        cross = kind_name == "dispute" and eid in partners and u[U.CROSS] < inc_cfg.cross_district_share
        kind = "cross_district_dispute" if cross else kind_name
        incidents.append(
            Incident(
                i,
                kind,
                t,
                node,
                x,
                y,
                eid,
                grid,
                station,
                cls,
                bool(cross),
                partners.get(eid, "") if cross else "",
                tuple(u.tolist()),
            )
        )
    return incidents


INCIDENT_COLUMNS = [
    "incident",
    "kind",
    "t_s",
    "node",
    "x_m",
    "y_m",
    "enterprise",
    "grid",
    "station",
    "area_class",
    "cross_district",
]


def incidents_frame(incidents: list[Incident]) -> pd.DataFrame:
    """The incident table written beside the event log (uniforms left out: they are the model's business)."""
    rows = [
        (
            i.id,
            i.kind,
            i.t_s,
            i.node,
            i.x_m,
            i.y_m,
            i.enterprise,
            i.grid,
            i.station,
            i.area_class,
            i.cross_district,
        )
        for i in incidents
    ]
    return pd.DataFrame(rows, columns=INCIDENT_COLUMNS)
