"""The model: Mesa holds the agents, SimPy keeps the time, a policy decides, the event log records.

Each incident is a SimPy process walking the pipeline occurrence -> detection -> report -> decision ->
dispatch -> mobilise -> travel -> on scene -> handling -> release and return, logging one typed event per
step. Every random quantity is the incident's pre-drawn uniform passed through a configured delay
distribution (sim/distributions.py), so policies compared on the same incidents share their luck.
``step()`` advances the clock by one tick so Mesa's visualisation can drive the same model.
"""

from __future__ import annotations

import gc
import math
from dataclasses import dataclass, field

import mesa
import numpy as np
import simpy

from agents.command_room import CommandRoom, CountyCentre
from agents.enterprise import Enterprise, shift_at
from agents.patrol_drone import PatrolDrone
from agents.police_unit import PoliceUnit
from agents.responder import Responder
from agents.response_team import ResponseTeam
from sim.config import EchelonConfig, IncidentKind
from sim.model.events import EventKind as K
from sim.model.events import EventLog
from sim.model.incidents import Incident, U, places
from sim.model.policies import UNSERVABLE, Situation, Units, policy_for, tier_target_s
from sim.site.site import Site

TAIL_S = 6 * 3600.0  # after the last day, let incidents in progress finish
DRONE_PATROL_RADIUS_M = 6000.0


@dataclass(frozen=True)
class UnitTables:
    """Travel times out from every unit base to every node, and back from every node to every base.

    Built once per site and reused by every policy and replication: units wait at fixed bases.
    """

    base_row: dict[int, int]
    out_s: np.ndarray  # (bases, nodes): base -> node
    back_s: np.ndarray  # (bases, nodes): node -> base

    @classmethod
    def build(cls, site: Site) -> UnitTables:
        bases = sorted({*site.stations["node"].tolist(), *site.posts["node"].tolist()})
        out = site.router.times_from(bases)
        back = site.router.times_to_many(bases)
        return cls({b: i for i, b in enumerate(bases)}, out, back)


@dataclass
class Case:
    """The model's working state of one incident."""

    inc: Incident
    node_idx: int
    kind: IncidentKind
    counted: simpy.Event  # first arrival of a unit whose kind counts for the outcome (kind.counted_by)
    hazmat: simpy.Event  # first arrival of a hazmat-capable team
    t_counted: float = math.inf
    t_coordinated: float = math.inf
    active: int = 0  # units dispatched and not yet cleared
    resolved: bool = False  # the outcome is decided
    handled: bool = False  # some unit has finished handling it
    sent: dict[str, int] = field(default_factory=dict)  # units sent so far, by kind: picks their uniforms

    @property
    def over(self) -> bool:
        """Outcome decided, handled by someone, and nobody left on scene or on the way: requests still
        waiting are then pointless. An incident nobody has attended keeps waiting for its units."""
        return self.resolved and self.handled and self.active == 0


class OwnSecurity:
    """An enterprise's guards on duty: always there, never queued, one per enterprise."""

    unit_kind = "own_security"
    hazmat = False

    def __init__(self, enterprise: Enterprise) -> None:
        self.unit_id = f"{enterprise.eid}/guards"
        self.station = enterprise.station
        self.base_node = enterprise.node

    def assign(self, incident: int) -> None: ...
    def depart(self) -> None: ...
    def arrive(self) -> None: ...
    def release(self) -> None: ...
    def back(self) -> None: ...


class EchelonModel(mesa.Model):
    def __init__(
        self,
        site: Site,
        cfg: EchelonConfig,
        incidents: list[Incident],
        replication: int = 0,
        tables: UnitTables | None = None,
    ) -> None:
        super().__init__(rng=np.random.default_rng([cfg.seed, replication]))
        assert cfg.policy and cfg.incidents and cfg.delays, "run(cfg) needs policy, incidents and delays"
        self.site, self.cfg = site, cfg
        self.policy_cfg, self.kinds, self.delays = cfg.policy, cfg.incidents.kinds, cfg.delays
        self.policy = policy_for(cfg.policy)
        self.factor = cfg.network.emergency_time_factor
        self.tables = tables or UnitTables.build(site)
        self.env = simpy.Environment()
        self.log = EventLog()
        self.queue: list[tuple[Case, int]] = []
        self.horizon_s = cfg.run.days * 86_400.0
        self._build_agents()
        self.incidents = incidents
        self.env.process(self._incident_source(incidents))

    # ---- agents -------------------------------------------------------------------------------------------
    def _build_agents(self) -> None:
        site, fleet = self.site, self.cfg.fleet
        self.enterprises = {str(r["id"]): Enterprise(self, r) for _, r in site.enterprises.iterrows()}
        self.guards = {eid: OwnSecurity(e) for eid, e in self.enterprises.items()}
        self.command_rooms = {
            sid: CommandRoom(self, sid, name)
            for sid, name in zip(site.stations["id"], site.stations["name"], strict=True)
        }
        self.county = CountyCentre(self)
        zone_kind = dict(zip(site.zones["name"], site.zones["kind"], strict=False))
        self.units: list[Responder] = []
        for post in site.posts.itertuples():
            grid_zone = site.grids.loc[site.grids["id"] == post.grid, "zone"]
            hazmat = (
                zone_kind.get(grid_zone.iloc[0] if len(grid_zone) else "", "")
                in fleet.hazmat_echelon_zone_kinds
            )
            for k in range(fleet.echelons_per_grid):
                self.units.append(
                    ResponseTeam(
                        self,
                        f"E-{post.grid}-{k + 1}",
                        int(post.node),
                        post.station,
                        post.grid,
                        fleet.echelon_backbones,
                        fleet.echelon_volunteers,
                        hazmat,
                    )
                )
        for st in site.stations.itertuples():
            for k in range(fleet.police_cars_per_station):
                self.units.append(PoliceUnit(self, f"P-{st.id}-{k + 1}", int(st.node), st.id))
        self.by_id: dict[str, Responder | OwnSecurity] = {u.unit_id: u for u in self.units}
        self.by_id.update({g.unit_id: g for g in self.guards.values()})
        self._unit_rows = np.array([self.tables.base_row[u.base_node] for u in self.units], dtype=np.int64)
        d = self.delays
        mob = {"echelon": d.mobilise_echelon.quantile(0.5), "police": d.mobilise_police.quantile(0.5)}
        self._mobilise_median = np.array([mob[u.unit_kind] for u in self.units])
        self._guards_eta = d.mobilise_own_security.quantile(0.5) + d.on_site_travel.quantile(0.5)
        # per unit kind: (mobilisation delay, its uniform slots by order of dispatch, on-scene slots)
        self._slots = {
            "own_security": (d.mobilise_own_security, (U.MOB_OWN,), (U.HANDLING_OWN,)),
            "echelon": (
                d.mobilise_echelon,
                (U.MOB_ECHELON_1, U.MOB_ECHELON_2),
                (U.SCENE_ECHELON_1, U.SCENE_ECHELON_2),
            ),
            "police": (
                d.mobilise_police,
                (U.MOB_POLICE_1, U.MOB_POLICE_2),
                (U.HANDLING_POLICE_1, U.HANDLING_POLICE_2),
            ),
        }
        self._static = Units(
            np.array([u.unit_id for u in self.units], dtype=object),
            np.array([u.unit_kind for u in self.units], dtype=object),
            np.array([u.station for u in self.units], dtype=object),
            np.array([getattr(u, "grid", "") for u in self.units], dtype=object),
            np.zeros(len(self.units), dtype=bool),
            np.zeros(len(self.units)),
            np.array([bool(u.hazmat) for u in self.units], dtype=bool),
        )
        self._free = np.ones(len(self.units), dtype=bool)
        for slot, unit in enumerate(self.units):
            unit.attach(self._free, slot)
        st = self._static  # the same columns with one more slot for the incident's own guards
        self._static_with_guards = Units(
            np.append(st.id, ""),
            np.append(st.kind, "own_security"),
            np.append(st.station, ""),
            np.append(st.grid, ""),
            st.free,
            st.eta_s,
            np.append(st.hazmat, False),
        )
        self.drones = self._build_drones()

    def _build_drones(self) -> list[PatrolDrone]:
        spec = self.cfg.fleet.drones
        spots = places(self.site)
        targets = [(p.x, p.y) for p in spots["point"]] if len(spots) else []
        targets += [(p.x, p.y) for p in self.site.zones.geometry.representative_point()]
        drones = []
        for n, nest in enumerate(self.site.nests.itertuples()):
            nx_, ny_ = nest.geometry.x, nest.geometry.y
            near = [t for t in targets if math.hypot(t[0] - nx_, t[1] - ny_) <= DRONE_PATROL_RADIUS_M]
            near.sort(key=lambda t: math.atan2(t[1] - ny_, t[0] - nx_))
            route = np.array(near, dtype=float).reshape(-1, 2)
            for k in range(spec.patrol_per_nest):
                drones.append(
                    PatrolDrone(
                        self,
                        f"D-{nest.id}-p{k + 1}",
                        (nx_, ny_),
                        route,
                        "patrol",
                        spec.patrol_speed_mps,
                        spec.endurance_s,
                        spec.recharge_s,
                        offset_s=(n * 977.0 + k * 1500.0),
                    )
                )
            for k in range(spec.docked_per_nest):
                drones.append(
                    PatrolDrone(
                        self,
                        f"D-{nest.id}-d{k + 1}",
                        (nx_, ny_),
                        route,
                        "docked",
                        spec.cruise_speed_mps,
                        spec.endurance_s,
                        spec.recharge_s,
                    )
                )
        return drones

    # ---- running ------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One display tick of simulated time (Mesa's step)."""
        self.env.run(until=self.env.now + self.cfg.run.tick_s)

    def run(self) -> EventLog:
        # The run allocates hundreds of thousands of short-lived events; with the default thresholds the
        # cyclic collector keeps re-scanning the whole heap (road graph, tables): collect in larger batches.
        thresholds = gc.get_threshold()
        gc.set_threshold(100_000, 50, 100)
        try:
            self.env.run(until=self.horizon_s + TAIL_S)
        finally:
            gc.set_threshold(*thresholds)
        return self.log

    # ---- the pipeline -------------------------------------------------------------------------------------
    def _incident_source(self, incidents: list[Incident]):
        """Start each incident's process at its time: one waiting process, not thousands, in the queue."""
        for inc in incidents:
            yield self.env.timeout(inc.t_s - self.env.now)
            self.env.process(self._incident(inc))

    def _incident(self, inc: Incident):
        env, log = self.env, self.log
        kind = self.kinds[inc.kind.removeprefix("cross_district_")]
        case = Case(inc, int(self.site.router.index([inc.node])[0]), kind, env.event(), env.event())
        log.emit(env.now, K.OCCURRED, inc.id, detail=inc.kind)
        env.process(self._outcome(case))

        mode, t_detect = self._detection(inc, kind)
        yield env.timeout(t_detect - env.now)
        log.emit(env.now, K.DETECTED, inc.id, detail=mode)

        channel, report_s, decide_s = self._report(inc, mode)
        yield env.timeout(report_s)
        room = self.command_rooms.get(inc.station)
        if room:
            room.receive()
        log.emit(
            env.now,
            K.REPORTED,
            inc.id,
            unit=room.name if room else "county",
            unit_kind="command_room",
            detail=channel,
        )
        if inc.cross_district:
            self._coordinate(case)
        tiers = list(range(1, len(self.policy_cfg.tiers) + 1))
        own_first = [k for k in tiers if self.policy_cfg.tiers[k - 1].members == "own_security"]
        if channel == "one_key":  # the guards pressed the alarm: they act at once
            self._request(case, own_first)
            tiers = [k for k in tiers if k not in own_first]
        yield env.timeout(decide_s)
        log.emit(env.now, K.DECIDED, inc.id, unit=room.name if room else "county", unit_kind="command_room")
        self._request(case, tiers)
        if self.policy_cfg.drone_overwatch:
            self._overwatch(case)

    def _detection(self, inc: Incident, kind) -> tuple[str, float]:
        """Who notices first: staff on site, a patrol drone overhead, or a passer-by."""
        icfg = self.cfg.incidents
        options = [("passerby", inc.t_s + icfg.passerby_detection.quantile(inc.u[U.PASSERBY_DETECT]))]
        if inc.enterprise:
            night = icfg.night_staff_detection_factor if shift_at(inc.t_s) == "night" else 1.0
            options.append(("staff", inc.t_s + night * icfg.staff_detection.quantile(inc.u[U.STAFF_DETECT])))
        if kind.visible_from_air and self.policy_cfg.drone_patrols:
            radius = self.cfg.fleet.drones.detect_radius_m
            sightings = [
                t
                for d in self.drones
                if d.could_see(inc.x_m, inc.y_m, radius)
                and (t := d.first_sighting(inc.x_m, inc.y_m, inc.t_s, icfg.air_visible_s, radius)) is not None
            ]
            if sightings:
                options.append(("drone", min(sightings)))
        return min(options, key=lambda o: (o[1], o[0]))

    def _report(self, inc: Incident, mode: str) -> tuple[str, float, float]:
        """The alarm's channel, its delay to the command room, and the delay to locate and decide."""
        d, u = self.delays, inc.u
        if mode == "drone":
            # the station confirms on the drone's live video before it dispatches
            return "drone_centre", d.drone_centre_order.quantile(0.5), d.video_check.quantile(u[U.VIDEO])
        ent = self.enterprises.get(inc.enterprise)
        if (
            mode == "staff"
            and ent is not None
            and self.policy_cfg.alarm == "one_key"
            and ent.terminal_online(u[U.TERMINAL])
        ):
            return "one_key", d.one_key_to_screen.quantile(0.5), d.video_check.quantile(u[U.VIDEO])
        return (
            "call_110",
            d.call_answer.quantile(u[U.CALL_ANSWER]),
            d.call_interview_locate.quantile(u[U.CALL_LOCATE]),
        )

    def _coordinate(self, case: Case) -> None:
        """A cross-district dispute needs both stations: the county centre merges the two alarms and
        coordinates them, or (strict) the two stations liaise by phone, which takes longer."""
        inc, d = case.inc, self.delays
        county = self.policy_cfg.coordination == "county"
        delay = (d.county_handoff if county else d.strict_liaison).quantile(inc.u[U.COORDINATION])
        if county:
            self.county.hand_over()
        case.t_coordinated = self.env.now + delay
        self.env.process(self._coordinated(case, delay, "county" if county else "liaison"))

    def _coordinated(self, case: Case, delay: float, how: str):
        yield self.env.timeout(delay)
        self.log.emit(
            self.env.now,
            K.COORDINATED,
            case.inc.id,
            unit="county" if how == "county" else "",
            unit_kind="county_centre" if how == "county" else "",
            detail=f"{how}:{case.inc.station}+{case.inc.partner_station}",
            value=delay,
        )

    # ---- dispatch -----------------------------------------------------------------------------------------
    def _situation(self, case: Case) -> Situation:
        inc = case.inc
        eta = self._mobilise_median + self.tables.out_s[self._unit_rows, case.node_idx] * self.factor
        free = self._free.copy()
        st = self._static
        guards = self.guards.get(inc.enterprise)
        if guards is not None:  # the enterprise's own guards join the snapshot as one more, always free, unit
            ext = self._static_with_guards
            ids, stations, grids = ext.id.copy(), ext.station.copy(), ext.grid.copy()
            ids[-1], stations[-1], grids[-1] = guards.unit_id, guards.station, inc.grid
            units = Units(
                ids,
                ext.kind,
                stations,
                grids,
                np.append(free, True),
                np.append(eta, self._guards_eta),
                ext.hazmat,
            )
        else:
            units = Units(st.id, st.kind, st.station, st.grid, free, eta, st.hazmat)
        return Situation(
            inc.id,
            inc.kind,
            inc.station,
            inc.grid,
            inc.area_class,
            inc.cross_district,
            case.kind.police_only,
            case.kind.needs_hazmat,
            bool(inc.enterprise),
            units,
        )

    def _request(self, case: Case, tiers: list[int]) -> None:
        """Ask the policy for units for these tiers; dispatch them, queue them, or record them as unserved."""
        if not tiers:
            return
        decision = self.policy(self._situation(case), self.policy_cfg, tiers)
        for k in tiers:
            if k not in decision:
                continue  # this tier does not apply to this kind of incident
            spec = self.policy_cfg.tiers[k - 1]
            target = tier_target_s(spec, case.inc.area_class)
            self.log.emit(self.env.now, K.TARGET, case.inc.id, tier=k, detail=spec.name, value=target)
            self._dispatch_or_queue(case, k, decision[k])

    def _dispatch_or_queue(self, case: Case, tier: int, pick) -> None:
        name = self.policy_cfg.tiers[tier - 1].name
        if pick == UNSERVABLE:  # no unit of this tier exists or reaches the place: the tier is missed
            self.log.emit(self.env.now, K.UNSERVED, case.inc.id, tier=tier, detail=name)
        elif pick is None:
            self.log.emit(self.env.now, K.QUEUED, case.inc.id, tier=tier, detail=name)
            self.queue.append((case, tier))
        else:
            unit = self.by_id[pick.unit]
            unit.assign(case.inc.id)
            case.active += 1
            self.env.process(self._respond(case, tier, unit, pick.handoff))

    def _serve_queue(self) -> None:
        """A unit came free: the oldest waiting request it can answer gets it (FIFO)."""
        waiting, self.queue = self.queue, []
        for case, tier in waiting:
            decision = self.policy(self._situation(case), self.policy_cfg, [tier])
            pick = decision.get(tier)
            if pick is None:
                self.queue.append((case, tier))
            else:
                self._dispatch_or_queue(case, tier, pick)

    def _close_if_over(self, case: Case) -> None:
        """Once the outcome is decided and nobody is on scene, drop the incident's waiting requests."""
        if not case.over or not self.queue:
            return
        keep = []
        for waiting, tier in self.queue:
            if waiting is case:
                self.log.emit(
                    self.env.now,
                    K.CANCELLED,
                    case.inc.id,
                    tier=tier,
                    detail=self.policy_cfg.tiers[tier - 1].name,
                )
            else:
                keep.append((waiting, tier))
        self.queue = keep

    def _respond(self, case: Case, tier: int, unit, handoff: bool):
        env, log, d, inc = self.env, self.log, self.delays, case.inc
        kind_name = unit.unit_kind
        order = case.sent.get(kind_name, 0)
        case.sent[kind_name] = order + 1
        mobilise, mob_slots, scene_slots = self._slots[kind_name]
        log.emit(env.now, K.DISPATCHED, inc.id, unit.unit_id, kind_name, tier)
        if handoff:
            delay = d.county_handoff.quantile(inc.u[U.HANDOFF])
            self.county.hand_over()
            log.emit(env.now, K.HANDOFF, inc.id, "county", "county_centre", tier, value=delay)
            yield env.timeout(delay)
        yield env.timeout(mobilise.quantile(inc.u[mob_slots[min(order, len(mob_slots) - 1)]]))
        unit.depart()
        log.emit(env.now, K.MOBILISED, inc.id, unit.unit_id, kind_name, tier)
        if kind_name == "own_security":
            travel = d.on_site_travel.quantile(inc.u[U.ON_SITE])
        else:
            row = self.tables.base_row[unit.base_node]
            travel = float(self.tables.out_s[row, case.node_idx]) * self.factor
        yield env.timeout(travel)
        unit.arrive()
        log.emit(env.now, K.ARRIVED, inc.id, unit.unit_id, kind_name, tier)
        self._arrived(case, unit)
        scene = d.echelon_on_scene if kind_name == "echelon" else case.kind.handling
        yield env.timeout(scene.quantile(inc.u[scene_slots[min(order, len(scene_slots) - 1)]]))
        log.emit(env.now, K.CLEARED, inc.id, unit.unit_id, kind_name, tier)
        case.active -= 1
        case.handled = True
        unit.release()
        if kind_name != "own_security":  # guards are already home; cars and teams drive back
            yield env.timeout(float(self.tables.back_s[self.tables.base_row[unit.base_node], case.node_idx]))
        unit.back()
        log.emit(env.now, K.RETURNED, inc.id, unit.unit_id, kind_name, tier)
        self._close_if_over(case)
        self._serve_queue()

    def _arrived(self, case: Case, unit) -> None:
        if unit.unit_kind in case.kind.counted_by and not case.counted.triggered:
            case.t_counted = self.env.now
            case.counted.succeed()
        if unit.hazmat and not case.hazmat.triggered:
            case.hazmat.succeed()

    def _overwatch(self, case: Case) -> None:
        """Launch the nearest free docked drone within range for live video over the scene."""
        inc, now = case.inc, self.env.now
        spec = self.cfg.fleet.drones
        free = [
            (math.hypot(dr.nest_xy[0] - inc.x_m, dr.nest_xy[1] - inc.y_m), dr.unit_id, dr)
            for dr in self.drones
            if dr.can_overwatch(now)
        ]
        free = [f for f in free if f[0] <= self.policy_cfg.drone_overwatch_range_m]
        if not free:
            return
        dist, _, drone = min(free)
        flight = dist / spec.cruise_speed_mps
        hold = max(0.0, spec.endurance_s - 2 * flight - spec.launch_s)
        hold = min(hold, self.kinds[inc.kind.removeprefix("cross_district_")].handling.quantile(0.5))
        drone.free_at_s = now + spec.launch_s + 2 * flight + hold + spec.recharge_s
        self.env.process(self._fly(case, drone, spec.launch_s + flight, hold, flight))

    def _fly(self, case: Case, drone: PatrolDrone, out_s: float, hold_s: float, back_s: float):
        env, log, inc = self.env, self.log, case.inc
        log.emit(env.now, K.DISPATCHED, inc.id, drone.unit_id, "drone")
        yield env.timeout(out_s)
        log.emit(env.now, K.ARRIVED, inc.id, drone.unit_id, "drone")
        yield env.timeout(hold_s)
        log.emit(env.now, K.CLEARED, inc.id, drone.unit_id, "drone")
        yield env.timeout(back_s)
        log.emit(env.now, K.RETURNED, inc.id, drone.unit_id, "drone")

    # ---- outcomes -----------------------------------------------------------------------------------------
    def _outcome(self, case: Case):
        """Whether the response came in time: escape, escalation, a growing hazard, a departing operator."""
        env, inc, kind = self.env, case.inc, case.kind
        icfg = self.cfg.incidents
        if kind.outcome == "hazard":
            grow_s = (icfg.leak_max_radius_m - icfg.leak_initial_radius_m) / icfg.leak_growth_m_per_min * 60.0
            yield env.any_of([case.hazmat, env.timeout(grow_s)])
            contained = case.hazmat.triggered
            if contained:
                yield env.timeout(self.delays.containment.quantile(inc.u[U.CONTAIN]))
                self.log.emit(env.now, K.CONTAINED, inc.id)
            radius = min(
                icfg.leak_max_radius_m,
                icfg.leak_initial_radius_m + icfg.leak_growth_m_per_min * (env.now - inc.t_s) / 60.0,
            )
            self._resolve(case, "contained" if contained else "uncontained", math.pi * radius**2)
            return
        deadline = inc.t_s + kind.deadline.quantile(inc.u[U.DEADLINE])
        yield env.any_of([case.counted, env.timeout(deadline - env.now)])
        in_time = case.t_counted <= deadline
        if inc.cross_district:
            if in_time and case.t_coordinated > env.now:  # on scene; the stations are not yet coordinated
                yield env.timeout(max(0.0, min(case.t_coordinated, deadline) - env.now))
            in_time = in_time and case.t_coordinated <= deadline
        words = {
            "escape": ("intercepted", "escaped"),
            "operator": ("operator_caught", "operator_left"),
            "escalate": ("calmed", "escalated") if "dispute" in inc.kind else ("controlled", "flashover"),
        }
        good, bad = words[kind.outcome]
        self._resolve(case, good if in_time else bad)

    def _resolve(self, case: Case, outcome: str, value: float = math.nan) -> None:
        self.log.emit(self.env.now, K.OUTCOME, case.inc.id, detail=outcome, value=value)
        case.resolved = True
        self._close_if_over(case)
