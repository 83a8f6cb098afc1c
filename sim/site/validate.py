"""Site validation, gathered in one place so that every problem is reported at once.

Problems stop a run (the site cannot serve its purpose); warnings are printed and written beside the
results. Separate pieces of road are the usual cause: an island without a bridge, or roads cut off where an
extract was clipped, and an enterprise there that no unit meant to serve it can reach.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from sim.config import EchelonConfig
from sim.site.bridges import MIN_WATCHED_BRIDGE_M, bridges
from sim.site.routing import Router
from sim.site.site import Site, facility_table

# Why a piece of road is separate from the largest, by whether it reaches the extract's recorded bounding box
# (None: the file records none, so it cannot be told).
APART_BECAUSE = {
    True: "it reaches the edge of the extract's bounding box: most likely roads cut off where the extract "
    "was clipped",
    False: "it lies inside the extract's bounding box: an island without a bridge, or roads joined to the "
    "rest only by ways that are not drivable",
    None: "an island without a bridge, or roads cut off where the extract was clipped",
}
PLACEHOLDER_HELP = {  # role -> (what, how to give real ones)
    "station": (
        "police station",
        "site.stations=[{name: ..., lon: ..., lat: ...}] or rows with role=station in a site.facilities file",
    ),
    "fire_station": (
        "fire station",
        "site.fire_stations=[{name: ..., lon: ..., lat: ...}] or rows with role=fire_station in a "
        "site.facilities file",
    ),
}


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


def separate_pieces(site: Site) -> list[tuple[set, bool | None]]:
    """The road pieces apart from the largest, each with whether it reaches the extract's recorded bounding
    box (None when the file records none): a clipped extract has such pieces as surely as an archipelago."""
    components = sorted(nx.strongly_connected_components(site.graph), key=len, reverse=True)
    at_edge = site.graph.graph.get("nodes_at_extract_edge")
    return [(piece, None if at_edge is None else bool(piece & at_edge)) for piece in components[1:]]


def _apart_because(nodes, pieces: list[tuple[set, bool | None]]) -> str:
    """Why these road nodes are cut off from the rest, from the separate pieces they lie on, as '; <why>'
    ('' when they lie on the largest piece: then it is the stations that are cut off)."""
    kinds = {at_edge for piece, at_edge in pieces if piece & set(nodes)}
    if not kinds:
        return ""
    return f"; {APART_BECAUSE[kinds.pop() if len(kinds) == 1 else None]}"


def _pieces_warning(site: Site, pieces: list[tuple[set, bool | None]]) -> list[str]:
    """One warning on the separate road pieces, saying for each kind what it most likely is."""
    if not pieces:
        return []
    cut = sum(len(p) for p, _ in pieces)
    head = (
        f"the road network has {len(pieces) + 1} separate pieces; {cut} of {len(site.graph)} nodes lie "
        "outside the largest"
    )
    if all(at_edge is None for _, at_edge in pieces):
        return [
            f"{head}: each is {APART_BECAUSE[None]} (the file records no bounding box to tell which); "
            "facilities there are checked above"
        ]
    parts = []
    for at_edge, where in ((True, "reach the edge of"), (False, "lie inside")):
        mine = [p for p, kind in pieces if kind is at_edge]
        if mine:
            why = APART_BECAUSE[at_edge].split(": ", 1)[1]
            parts.append(
                f"{len(mine)} piece(s) ({sum(map(len, mine))} nodes) {where} the extract's bounding box, "
                f"{why}"
            )
    return [f"{head}: {'; '.join(parts)}; facilities there are checked above"]


def _placeholder_warnings(site: Site) -> list[str]:
    """Stations placed as placeholders: every response time measured from them is made up, so say so."""
    out = []
    for role, frame in (("station", site.stations), ("fire_station", site.fire_stations)):
        placed = frame[frame["generated"].astype(bool)] if len(frame) else frame
        if len(placed):
            what, how = PLACEHOLDER_HELP[role]
            out.append(
                f"{len(placed)} {what}(s) are placeholders placed by a greedy p-median, because the data, "
                f"the config and the facilities name none: times from them are not real; give real ones "
                f"with {how}"
            )
    return out


def _bridge_warnings(site: Site) -> list[str]:
    """Long bridges in data that maps no water: they cannot be told from overpasses, so none is watched."""
    if len(site.water_or_empty) or len(site.islands):
        return []
    long = [b for b in bridges(site) if b.length_m >= MIN_WATCHED_BRIDGE_M]
    if not long:
        return []
    return [
        f"{len(long)} bridge(s) of {MIN_WATCHED_BRIDGE_M:.0f} m or more (e.g. {long[0].name}) are not "
        "watched for illegal drone flights: the data maps no water or islands, so a cross-water bridge "
        "cannot be told from an overpass"
    ]


def _fire_warnings(site: Site, pieces: list[tuple[set, bool | None]], shown: int = 3) -> list[str]:
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
    why = _apart_because(unreached["node"], pieces)
    return [
        f"{len(unreached)} enterprise(s) cannot be reached by road from any fire station (no fire station "
        f"lies on their piece of road{why}): {examples}{more}"
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


def _reachable(router: Router, sources: list, targets: list) -> np.ndarray:
    """Whether each target node can be reached by road from the source node paired with it: what
    ``isfinite(router.times_from(sources))`` says, from bounded searches, one per source over only its own
    targets (Router.times_to_targets), not a Dijkstra over the whole network per station and per post."""
    out = np.zeros(len(sources), dtype=bool)
    rows_of: dict = {}
    for i, source in enumerate(sources):
        rows_of.setdefault(source, []).append(i)
    times = router.times_to_targets(list(rows_of), [[targets[i] for i in rows] for rows in rows_of.values()])
    for rows, found in zip(rows_of.values(), times, strict=True):
        out[rows] = np.isfinite(found)
    return out


def site_problems(site: Site, cfg: EchelonConfig) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a built site."""
    problems = _edge_problems(site)
    warnings: list[str] = list(site.graph.graph.get("load_notes", []))
    pieces = separate_pieces(site)
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
        router.index(site.stations["node"])  # a station off the graph is refused, as a table of it would be
        station_node = dict(zip(site.stations["id"], site.stations["node"], strict=True))
        ents = list(site.enterprises.itertuples())
        owned = [k for k, row in enumerate(ents) if row.station]
        reached = np.zeros(len(ents), dtype=bool)
        reached[owned] = _reachable(
            router, [station_node[ents[k].station] for k in owned], [ents[k].node for k in owned]
        )
        for k, row in enumerate(ents):
            if not row.station:
                problems.append(
                    f"enterprise {row.id} ({row.zone}) cannot be reached by road from any police "
                    f"station (no station lies on its piece of road{_apart_because([row.node], pieces)})"
                )
            elif not reached[k]:
                problems.append(f"enterprise {row.id} unreachable from its station {row.station}")
    if len(site.posts):
        router.index(site.posts["node"])
        post_node = dict(zip(site.posts["grid"], site.posts["node"], strict=True))
        ents = list(site.enterprises[site.enterprises["grid"] != ""].itertuples())
        served = [k for k, row in enumerate(ents) if row.grid in post_node]
        reached = np.zeros(len(ents), dtype=bool)
        reached[served] = _reachable(
            router, [post_node[ents[k].grid] for k in served], [ents[k].node for k in served]
        )
        for k, row in enumerate(ents):
            if row.grid not in post_node:
                problems.append(f"enterprise {row.id} is in grid {row.grid}, which has no echelon post")
                continue
            if not reached[k]:
                problems.append(
                    f"enterprise {row.id} cannot be reached by road from the post of its grid {row.grid}"
                )
        unserved = site.grids[~site.grids["id"].isin(site.posts["grid"])]
        problems += [f"grid {g} has no echelon post" for g in unserved["id"]]

    warnings += _ungridded_warnings(site)
    warnings += _placeholder_warnings(site)
    warnings += _fire_warnings(site, pieces)
    trimmed = site.graph.graph.get("trimmed_nodes", 0)
    if trimmed:
        warnings.append(
            f"{trimmed} road node(s) on one-way stubs (enter-only or leave-only, usually where the "
            "extract is clipped) were left out of the network"
        )
    warnings += _pieces_warning(site, pieces)
    warnings += _bridge_warnings(site)
    return problems, warnings
