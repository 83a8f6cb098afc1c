"""A scenario placed on its site: incidents at real enterprises and places, injects on real units and roads.

What the scenario file cannot know by itself is checked here, with one line naming the scenario, the
inject and the field: the enterprise, zone, place, unit, station or road must exist on the site the drill
runs on, and a cross-district incident needs an enterprise near another station's area.

Scripted incidents get their uniforms (the luck of every delay) from the scenario: all 0.5 (each delay at
its median) or drawn from the named stream ``drill/<scenario>/<label>``; background incidents come from the
configured incident mix for the inject's window. Every policy (arm) replays the same incidents.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from sim.config import EchelonConfig
from sim.drill.scenario import Inject, Scenario, inject_where, seconds
from sim.errors import ScenarioError
from sim.model.incidents import DAY_S, N_UNIFORMS, Incident, generate_incidents
from sim.model.world import EnterpriseRecord, World
from sim.site.site import Site
from sim.streams import stream


@dataclass(frozen=True)
class Placed:
    """An inject placed in time (log seconds) and on the site."""

    t_s: float
    inject: Inject
    target: str  # what it acts on: unit id, enterprise id, road name, station id, incident id...
    incident: int = -1  # the incident it concerns (incident, second_alarm), else -1
    enterprises: tuple[str, ...] = ()  # task orders: the enterprises that receive it
    until_s: float = math.nan  # background and task orders: when it ends


@dataclass(frozen=True)
class Drill:
    scenario: Scenario
    start_s: float  # log time of drill time 0 (the clock time of the start, on day 0)
    end_s: float
    incidents: list[Incident]  # scripted and background, in time order, ids 0, 1, 2...
    labels: dict[int, str]  # incident id -> the scenario's label (scripted incidents only)
    injects: list[Placed]
    decisions: dict[tuple[int, str, str], str]  # (incident id, point, tier) -> choice


def _fail(s: Scenario):
    return lambda key, why: ScenarioError(f"{s.path}: {key}: {why}")


def resolve(scenario: Scenario, site: Site, world: World, cfg: EchelonConfig, unit_ids: list[str]) -> Drill:
    """Place ``scenario`` on ``site``; ``unit_ids`` are the units the model built (for unit injects)."""
    fail = _fail(scenario)
    start_s = seconds(scenario.start, "start", fail)
    end_s = start_s + seconds(scenario.duration, "duration", fail)
    kinds = cfg.incidents.kinds if cfg.incidents else {}
    by_eid = {r.eid: r for r in world.enterprises}
    scripted: list[tuple[float, str, Incident]] = []
    where_of: dict[str, EnterpriseRecord | None] = {}
    for k, inj in enumerate(scenario.injects):
        if inj.type != "incident":
            continue
        where = inject_where(k, inj)
        base = inj.kind.removeprefix("cross_district_")
        if base not in kinds:
            raise fail(f"{where}.kind", f"incident kinds are {', '.join(kinds)}, got {inj.kind!r}")
        t_s = start_s + seconds(inj.at, f"{where}.at", fail)
        record = _enterprise(inj, where, site, world, by_eid, fail) if not inj.place else None
        where_of[inj.incident] = record
        scripted.append(
            (t_s, inj.incident, _incident(inj, where, t_s, record, site, world, cfg, scenario, fail))
        )
    background = _background(scenario, start_s, world, site, cfg, fail)
    ordered = sorted([(t, 0, label, inc) for t, label, inc in scripted] + [
        (inc.t_s, 1, "", inc) for inc in background
    ], key=lambda r: (r[0], r[1]))  # fmt: skip
    incidents, labels, ids = [], {}, {}
    for new_id, (_, _, label, inc) in enumerate(ordered):
        incidents.append(dataclasses.replace(inc, id=new_id))
        if label:
            labels[new_id], ids[label] = label, new_id
    placed = [
        _place(k, inj, start_s, ids, where_of, by_eid, site, world, unit_ids, fail)
        for k, inj in enumerate(scenario.injects)
    ]
    decisions = {(ids[d.incident], d.point, d.tier): d.choice for d in scenario.decisions}
    for k, d in enumerate(scenario.decisions):
        if d.point == "dispatch" and d.choice not in unit_ids:
            raise fail(f"decisions[{k}].choice", _unknown("unit", d.choice, unit_ids))
        tiers = [t.name for t in cfg.policy.tiers] if cfg.policy else []
        if d.point == "dispatch" and d.tier not in tiers:
            raise fail(f"decisions[{k}].tier", f"tiers of the policy are {', '.join(tiers)}, got {d.tier!r}")
    return Drill(scenario, start_s, end_s, incidents, labels, placed, decisions)


def _unknown(what: str, value: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(value, known, n=4, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; e.g. {', '.join(sorted(known)[:4])}"
    return f"no {what} {value!r} on this site ({len(known)} {what}s){hint}"


def _enterprise(inj: Inject, where: str, site: Site, world: World, by_eid, fail) -> EnterpriseRecord:
    """The incident's enterprise: named by id, or the one of a zone nearest the zone's middle (of the
    given kind; with a partner across a station boundary when the incident is cross-district)."""
    if inj.enterprise:
        if inj.enterprise not in by_eid:
            raise fail(f"{where}.enterprise", _unknown("enterprise", inj.enterprise, list(by_eid)))
        record = by_eid[inj.enterprise]
        if inj.cross_district and record.eid not in world.partners:
            raise fail(
                f"{where}.cross_district",
                f"enterprise {record.eid} is not within 2 km of another station's area; pick one near a "
                "boundary",
            )
        return record
    zones = site.zones
    match = zones[zones["name"].astype(str).str.casefold() == inj.zone.casefold()]
    if not len(match):
        raise fail(f"{where}.zone", _unknown("zone", inj.zone, [str(z) for z in zones["name"]]))
    middle = match.geometry.iloc[0].representative_point()
    ent = site.enterprises
    rows = ent[ent["zone"].astype(str).str.casefold() == inj.zone.casefold()]
    if inj.enterprise_kind:
        rows = rows[rows["kind"] == inj.enterprise_kind]
    if inj.cross_district:
        rows = rows[rows["id"].astype(str).isin(world.partners)]
    if not len(rows):
        what = f" of kind {inj.enterprise_kind!r}" if inj.enterprise_kind else ""
        near = " near another station's area" if inj.cross_district else ""
        raise fail(f"{where}.zone", f"no enterprise{what}{near} in zone {inj.zone!r}")
    d = np.hypot(rows.geometry.x - middle.x, rows.geometry.y - middle.y).to_numpy()
    return by_eid[str(rows["id"].iloc[int(np.argmin(d))])]


def _incident(inj, where, t_s, record, site, world, cfg, scenario, fail) -> Incident:
    if scenario.luck == "median":
        u = (0.5,) * N_UNIFORMS
    else:
        u = tuple(stream(cfg.seed, f"drill/{scenario.id}/{inj.incident}").random(N_UNIFORMS).tolist())
    base = inj.kind.removeprefix("cross_district_")
    if record is not None:
        cross = inj.cross_district or inj.kind.startswith("cross_district_")
        return Incident(
            -1, f"cross_district_{base}" if cross else base, t_s, record.node, record.x_m, record.y_m,
            record.eid, record.grid, record.station, record.area_class, cross,
            world.partners.get(record.eid, "") if cross else "", u,
        )  # fmt: skip
    places = [str(p) for p in world.places["place"]]
    found = [
        i
        for i, p in enumerate(places)
        if inj.place.casefold() in (p.casefold(), p.split(":", 1)[-1].casefold())
    ]
    if not found:
        raise fail(f"{where}.place", _unknown("watched place", inj.place, places))
    i = found[0]
    node, (x, y) = world.place_nodes[i], world.place_xy[i]
    station = str(site.node_station[world.node_index[node]])
    return Incident(-1, base, t_s, node, x, y, "", "", station, "other", False, "", u)


def _background(scenario: Scenario, start_s: float, world, site, cfg, fail) -> list[Incident]:
    """Ordinary incidents of the configured mix, at ``rate_multiplier`` times the normal rates, during each
    background inject's window (a busy night)."""
    out: list[Incident] = []
    for k, inj in enumerate(scenario.injects):
        if inj.type != "background":
            continue
        t0 = start_s + seconds(inj.at, f"{inject_where(k, inj)}.at", fail)
        t1 = start_s + seconds(inj.until, f"{inject_where(k, inj)}.until", fail)
        inc_cfg = dataclasses.replace(
            cfg.incidents, rate_multiplier=cfg.incidents.rate_multiplier * inj.rate_multiplier
        )
        days = math.ceil(t1 / DAY_S + 1e-9)
        gen_cfg = dataclasses.replace(
            cfg, incidents=inc_cfg, run=dataclasses.replace(cfg.run, days=float(days))
        )
        # the inject's own stream: another background inject, or another scenario, draws other incidents
        drawn = generate_incidents(site, gen_cfg, 10_000 + inj.seq, world)
        out += [inc for inc in drawn if t0 <= inc.t_s < t1]
    return out


def _place(k, inj: Inject, start_s, ids, where_of, by_eid, site, world, unit_ids, fail) -> Placed:
    where = inject_where(k, inj)
    t_s = start_s + seconds(inj.at, f"{where}.at", fail)
    until = start_s + seconds(inj.until, f"{where}.until", fail) if inj.until != "" else math.nan

    def enterprise(name: str, key: str) -> str:
        if name in where_of:  # an incident's label: that incident's enterprise
            record = where_of[name]
            if record is None:
                raise fail(f"{where}.{key}", f"incident {name} is at a place, not an enterprise")
            return record.eid
        if name not in by_eid:
            raise fail(f"{where}.{key}", _unknown("enterprise", name, list(by_eid)))
        return name

    if inj.type in ("incident", "second_alarm"):
        target = ""
        if inj.type == "second_alarm":
            stations = {
                str(i): str(n) for i, n in zip(site.stations["id"], site.stations["name"], strict=True)
            }
            target = inj.station
            if target and target not in stations:
                by_name = {n.casefold(): i for i, n in stations.items()}
                if target.casefold() not in by_name:
                    raise fail(
                        f"{where}.station", _unknown("station", target, [*stations, *stations.values()])
                    )
                target = by_name[target.casefold()]
        return Placed(t_s, inj, target, ids[inj.incident])
    if inj.type in ("terminal_offline", "terminal_online"):
        return Placed(t_s, inj, enterprise(inj.enterprise, "enterprise"))
    if inj.type in ("unit_unavailable", "unit_back"):
        if inj.unit not in unit_ids:
            raise fail(f"{where}.unit", _unknown("unit", inj.unit, unit_ids))
        return Placed(t_s, inj, inj.unit)
    if inj.type in ("road_closed", "road_reopened"):
        from sim.site.roads import edges_named

        try:
            edges_named(site, inj.road)
        except ScenarioError as err:
            raise fail(f"{where}.road", str(err)) from None
        return Placed(t_s, inj, inj.road)
    if inj.type == "task_order":
        if inj.enterprises:
            chosen = tuple(enterprise(e, "enterprises") for e in inj.enterprises)
        elif inj.zone:
            ent = site.enterprises
            rows = ent[ent["zone"].astype(str).str.casefold() == inj.zone.casefold()]
            if not len(rows):
                raise fail(f"{where}.zone", _unknown("zone", inj.zone, sorted({str(z) for z in ent["zone"]})))
            chosen = tuple(str(e) for e in rows["id"])
        else:
            chosen = tuple(by_eid)
        return Placed(t_s, inj, f"{len(chosen)} enterprises", enterprises=chosen, until_s=until)
    return Placed(t_s, inj, "", until_s=until)  # drones, background
