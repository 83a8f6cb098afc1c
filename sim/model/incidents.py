"""The incident stream of a replication: when, where, what, and every uniform number its delays will use.

Generated once per replication from the named stream ``incidents/rep<k>``, before any policy runs, so every
policy faces the same incidents with the same luck (common random numbers). Rates come per enterprise (by
enterprise kind) or per watched place (ports, cross-sea bridges, chemical zones: illegal drone flights),
shaped by the hour-of-day profile (a non-homogeneous Poisson process, drawn by thinning).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pandas as pd

from sim.config import EchelonConfig
from sim.model.events import strings
from sim.model.world import World
from sim.site.site import Site
from sim.streams import stream

DAY_S = 86_400.0


class U(IntEnum):
    """Slots of an incident's pre-drawn uniforms: one per random quantity the pipeline may need.

    Unit delays are keyed by (unit kind, order within the incident): the first police car sent to an incident
    uses MOB_POLICE_1 whichever policy sent it, so policies stay comparable (common random numbers) and two
    cars sent to one incident do not share their luck. Containment and handoffs are keyed the same way.
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
    CONTAIN_HAZMAT_1 = 18
    HANDOFF = 19
    COORDINATION = 20
    CROSS = 21
    CONTAIN_HAZMAT_2 = 22
    FIRE_CALL = 23
    MOB_FIRE_1 = 24
    MOB_FIRE_2 = 25
    SCENE_FIRE_1 = 26
    SCENE_FIRE_2 = 27
    MOB_HAZMAT_1 = 28
    MOB_HAZMAT_2 = 29
    SCENE_HAZMAT_1 = 30
    SCENE_HAZMAT_2 = 31
    CONTAIN_ECHELON_1 = 32
    CONTAIN_ECHELON_2 = 33
    HANDOFF_2 = 34


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


def _arrival_times(
    rng: np.random.Generator, rate_per_day: float, days: float, profile: np.ndarray, mean: float
) -> np.ndarray:
    """Non-homogeneous Poisson arrivals over ``days`` by thinning against the hour-of-day profile
    (``profile`` already divided by its peak: the share of the peak rate in each hour; ``mean`` its mean)."""
    if rate_per_day <= 0:
        return np.empty(0)
    n = rng.poisson(rate_per_day / mean * days)
    t = np.sort(rng.uniform(0.0, days * DAY_S, size=n))
    keep = rng.random(n) < profile[((t % DAY_S) // 3600).astype(int)]
    return t[keep]


def expected_per_replication(world: World, cfg: EchelonConfig) -> float:
    """The mean number of incidents in one replication: rates x enterprises (or places) x days.

    (Thinning against the hour profile keeps the configured daily rate, so this is exact in expectation.)"""
    assert cfg.incidents is not None
    inc_cfg = cfg.incidents
    if max(inc_cfg.hour_profile) <= 0:
        return 0.0
    per_day = 0.0
    for kind in inc_cfg.kinds.values():
        if world.enterprises:
            per_day += (
                kind.rate_per_enterprise_year / 365.0 * len(world.enterprise_rows(kind.enterprise_kinds))
            )
        per_day += kind.rate_per_place_day * len(world.place_nodes)
    return per_day * inc_cfg.rate_multiplier * cfg.run.days


def generate_incidents(
    site: Site, cfg: EchelonConfig, replication: int, world: World | None = None
) -> list[Incident]:
    """All incidents of one replication, sorted by time, ids 0, 1, 2, ...

    ``world`` (the site's fixed facts, sim.model.world) is built here when not given; pass it when
    generating many replications on one site."""
    assert cfg.incidents is not None
    inc_cfg = cfg.incidents
    rng = stream(cfg.seed, f"incidents/rep{replication}")
    profile = np.asarray(inc_cfg.hour_profile, dtype=float)
    peak = float(profile.max())
    profile = profile / peak if peak > 0 else np.zeros(24)
    mean = float(profile.mean()) or 1.0
    days = cfg.run.days
    world = world or World.build(site)
    records = world.enterprises
    partners = world.partners
    n_places = len(world.place_nodes)
    raw: list[tuple[float, str, int, int]] = []  # (t, kind, enterprise row or -1, place row or -1)
    for kind_name, kind in inc_cfg.kinds.items():  # config order: stable
        if kind.rate_per_enterprise_year > 0 and len(records) and peak > 0:
            rows = world.enterprise_rows(kind.enterprise_kinds)
            rate = kind.rate_per_enterprise_year / 365.0 * len(rows) * inc_cfg.rate_multiplier
            times = _arrival_times(rng, rate, days, profile, mean)
            who = rows[rng.integers(0, len(rows), size=len(times))] if len(rows) else []
            raw += [(float(t), kind_name, int(w), -1) for t, w in zip(times, who, strict=True)]
        if kind.rate_per_place_day > 0 and n_places and peak > 0:
            times = _arrival_times(
                rng, kind.rate_per_place_day * n_places * inc_cfg.rate_multiplier, days, profile, mean
            )
            where = rng.integers(0, n_places, size=len(times))
            raw += [(float(t), kind_name, -1, int(p)) for t, p in zip(times, where, strict=True)]
    raw.sort(key=lambda r: (r[0], r[1]))
    uniforms = rng.random((len(raw), N_UNIFORMS))
    incidents = []
    node_station = site.node_station
    p_node, p_xy = world.place_nodes, world.place_xy
    for i, ((t, kind_name, e, p), u) in enumerate(zip(raw, uniforms, strict=True)):
        if e >= 0:
            r = records[e]
            node, x, y, eid, grid, station, cls = r.node, r.x_m, r.y_m, r.eid, r.grid, r.station, r.area_class
        else:
            node, (x, y) = p_node[p], p_xy[p]
            eid, grid, cls = "", "", "other"
            station = str(node_station[world.node_index[node]])
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
    columns = {
        "incident": np.fromiter((i.id for i in incidents), dtype=np.int64, count=len(incidents)),
        "kind": strings(tuple(i.kind for i in incidents)),
        "t_s": np.fromiter((i.t_s for i in incidents), dtype=float, count=len(incidents)),
        "node": np.fromiter((i.node for i in incidents), dtype=np.int64, count=len(incidents)),
        "x_m": np.fromiter((i.x_m for i in incidents), dtype=float, count=len(incidents)),
        "y_m": np.fromiter((i.y_m for i in incidents), dtype=float, count=len(incidents)),
        "enterprise": strings(tuple(i.enterprise for i in incidents)),
        "grid": strings(tuple(i.grid for i in incidents)),
        "station": strings(tuple(i.station for i in incidents)),
        "area_class": strings(tuple(i.area_class for i in incidents)),
        "cross_district": np.fromiter(
            (i.cross_district for i in incidents), dtype=bool, count=len(incidents)
        ),
    }
    return pd.DataFrame({c: columns[c] for c in INCIDENT_COLUMNS})
