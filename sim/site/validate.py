"""Site validation, gathered in one place so that every problem is reported at once.

Problems stop a run (the site cannot serve its purpose); warnings are printed and written beside the
results. Islands are the usual cause: a piece of road joined to nothing, an enterprise that no unit meant to
serve it can reach.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from sim.config import EchelonConfig
from sim.site.site import Site, facility_table


def _edge_problems(site: Site) -> list[str]:
    bad_speed, bad_time = [], []
    for u, v, data in site.graph.edges(data=True):
        speed = data.get("speed_kph")
        if speed is None or not np.isfinite(speed) or speed <= 0:
            bad_speed.append((u, v, speed))
        t = data.get("travel_time")
        if t is None or not np.isfinite(t) or t < 0:
            bad_time.append((u, v, t))
    problems = []
    if bad_speed:
        u, v, s = bad_speed[0]
        problems.append(
            f"{len(bad_speed)} road edge(s) have a missing or non-positive speed "
            f"(e.g. {u}->{v}: {s}); check maxspeed tags and network.speeds_kph"
        )
    if bad_time:
        u, v, t = bad_time[0]
        problems.append(f"{len(bad_time)} road edge(s) have no valid travel time (e.g. {u}->{v}: {t})")
    return problems


def _fire_warnings(site: Site, shown: int = 3) -> list[str]:
    """Enterprises no fire station reaches by road: a finding (the model reports them unserved), not an error.

    Why not a problem: fire brigades cover a county, not a jurisdiction, and an island without a bridge and
    without a fire station of its own is exactly what a planner wants to see in the results.
    """
    if len(site.fire_stations) == 0:
        return [
            "no fire station: add site.fire_stations (name, lon, lat), rows with role=fire_station in "
            "site.facilities, or site.generate_fire_stations >= 1"
        ]
    if len(site.enterprises) == 0:
        return []
    times_s, _ = site.router.nearest_source(site.fire_stations["node"])
    unreached = site.enterprises[~np.isfinite(times_s[site.router.index(site.enterprises["node"])])]
    if len(unreached) == 0:
        return []
    examples = ", ".join(f"{r.id} ({r.name})" for r in unreached.head(shown).itertuples())
    more = f" and {len(unreached) - shown} more" if len(unreached) > shown else ""
    return [
        f"{len(unreached)} enterprise(s) cannot be reached by road from any fire station (an island "
        f"without a bridge?): {examples}{more}"
    ]


def _ungridded_warnings(site: Site, shown: int = 3) -> list[str]:
    """Enterprises in no grid: no echelon is theirs, so under echelon_135 their tier 2 is missed.

    A warning, not an error: a planner's grids may leave some enterprises out on purpose; but a listed
    enterprise outside the zones the square cells are cut over is more often a surprise.
    """
    if len(site.enterprises) == 0:
        return []
    outside = site.enterprises[site.enterprises["grid"] == ""]
    if len(outside) == 0:
        return []
    examples = ", ".join(f"{r.id} ({r.name})" for r in outside.head(shown).itertuples())
    more = f" and {len(outside) - shown} more" if len(outside) > shown else ""
    return [
        f"{len(outside)} enterprise(s) lie outside every grid, so no echelon is theirs: {examples}{more} "
        "(square grids cover the site.zone_tags areas and keep cells with at least grid.min_enterprises "
        "enterprises; grid=file covers its polygons)"
    ]


def site_problems(site: Site, cfg: EchelonConfig) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a built site."""
    problems = _edge_problems(site)
    warnings: list[str] = []
    if len(site.stations) == 0:
        problems.append(
            "no police station: the OSM data has no amenity=police; add site.stations "
            "(name, lon, lat) or rows with role=station in site.facilities"
        )
    if len(site.enterprises) == 0:
        warnings.append("no enterprises: no zones matched site.zone_tags and no facilities file lists any")

    facilities = facility_table(site)
    far = facilities[facilities["snap_m"] > cfg.network.max_snap_m]
    for row in far.itertuples():
        problems.append(
            f"{row.role} {row.id} ({row.name}) is {row.snap_m:.0f} m from the nearest road node "
            f"(network.max_snap_m = {cfg.network.max_snap_m:.0f})"
        )

    router = site.router
    if len(site.enterprises) and len(site.stations):
        station_times = router.times_from(site.stations["node"])
        station_pos = {sid: i for i, sid in enumerate(site.stations["id"])}
        ent_idx = router.index(site.enterprises["node"])
        for k, row in enumerate(site.enterprises.itertuples()):
            if not row.station:
                problems.append(
                    f"enterprise {row.id} ({row.zone}) cannot be reached by road from any police "
                    "station (an island without a bridge?)"
                )
            elif not np.isfinite(station_times[station_pos[row.station], ent_idx[k]]):
                problems.append(f"enterprise {row.id} unreachable from its station {row.station}")
    if len(site.posts):
        post_times = router.times_from(site.posts["node"])
        post_pos = {g: i for i, g in enumerate(site.posts["grid"])}
        for row in site.enterprises[site.enterprises["grid"] != ""].itertuples():
            if row.grid not in post_pos:
                problems.append(f"enterprise {row.id} is in grid {row.grid}, which has no echelon post")
                continue
            (j,) = router.index([row.node])
            if not np.isfinite(post_times[post_pos[row.grid], j]):
                problems.append(
                    f"enterprise {row.id} cannot be reached by road from the post of its grid {row.grid}"
                )
        unserved = site.grids[~site.grids["id"].isin(site.posts["grid"])]
        problems += [f"grid {g} has no echelon post" for g in unserved["id"]]

    warnings += _ungridded_warnings(site)
    warnings += _fire_warnings(site)
    trimmed = site.graph.graph.get("trimmed_nodes", 0)
    if trimmed:
        warnings.append(
            f"{trimmed} road node(s) on one-way stubs (enter-only or leave-only, usually where the "
            "extract is clipped) were left out of the network"
        )
    components = sorted(nx.strongly_connected_components(site.graph), key=len, reverse=True)
    if len(components) > 1:
        cut = sum(len(c) for c in components[1:])
        warnings.append(
            f"the road network has {len(components)} separate pieces; {cut} of {len(site.graph)} "
            "nodes lie outside the largest (islands without a bridge?); facilities there are checked "
            "above"
        )
    return problems, warnings
