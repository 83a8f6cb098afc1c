"""The model: Mesa holds the agents, SimPy keeps the time, a policy decides, the event log records.

The model builds the site's agents (agents/), wires them to the clock, the dispatch board and the log,
and opens each incident at its time; from then on the agents act: whoever notices first raises the
alarm, a command room decides and asks the board for units, the units respond on their own, and the
outcome (sim/model/outcomes.py) follows from who arrived when. Every random quantity is the incident's
pre-drawn uniform through a configured delay distribution (sim/distributions.py), so policies compared on
the same incidents share their luck. ``step()`` advances the clock by one tick so Mesa's visualisation
can drive the same model. A drill may close and reopen roads during a run (``close_roads``,
``reopen_roads``): travel times then come from the network without them, and units on the road re-route.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable

import mesa
import numpy as np
import simpy

from agents import RESPONDERS
from agents.command_room import AlarmDelays, CommandRoom, CountyCentre, FireControl
from agents.enterprise import Enterprise
from agents.patrol_drone import PatrolDrone
from agents.responder import Responder
from sim.config import EchelonConfig
from sim.errors import ScenarioError
from sim.model import outcomes
from sim.model.case import Case
from sim.model.detection import start_detection
from sim.model.dispatch import DispatchBoard
from sim.model.events import EventKind as K
from sim.model.events import EventLog
from sim.model.incidents import Incident
from sim.model.policies import policy_for
from sim.model.roads import Roads
from sim.model.world import World
from sim.site.roads import Edge
from sim.site.site import Site

TAIL_S = 6 * 3600.0  # after the last day, let incidents in progress finish


class EchelonModel(mesa.Model):
    def __init__(
        self,
        site: Site,
        cfg: EchelonConfig,
        incidents: list[Incident],
        replication: int = 0,
        world: World | None = None,
    ) -> None:
        super().__init__(rng=np.random.default_rng([cfg.seed, replication]))
        assert cfg.policy and cfg.incidents and cfg.delays, "run(cfg) needs policy, incidents and delays"
        self.site, self.cfg, self.world = site, cfg, world or World.build(site)
        self.policy_cfg, self.kinds, self.delays = cfg.policy, cfg.incidents.kinds, cfg.delays
        self.horizon_s = cfg.run.days * 86_400.0
        d = self.delays
        self.guards_eta_s = d.mobilise_own_security.median_s_value + d.on_site_travel.median_s_value
        self.env = simpy.Environment()
        # The trainees' choices in a drill (sim/drill): (incident id, point, tier name) -> choice
        self.decisions: dict[tuple[int, str, str], str] = {}
        self.open_roads = Roads.open(self.world)  # one object: the board keeps its ETA cache across restarts
        self.roads = self.open_roads
        self._build_agents()
        self.log = EventLog()
        self.board = DispatchBoard(
            self,
            self.units,
            self.world,
            cfg.network.emergency_time_factor,
            policy_for(cfg.policy),
            cfg.policy,
            cfg.fleet.redirect_while_returning,
        )
        self.restart(incidents, replication)

    def restart(self, incidents: list[Incident], replication: int) -> None:
        """Begin a replication with the agents already built: a fresh clock, log and dispatch board, every
        unit home and idle. Building a site's agents costs more than a month of incidents, so a run builds
        them once and restarts them for each replication (a test checks a restarted model and a new one
        write the same log)."""
        self.reset_rng([self.cfg.seed, replication])
        self.steps, self.time = 0, 0.0  # Mesa's own counters, as a new model has them
        self.env = simpy.Environment()
        self.log = EventLog()
        self.roads = self.open_roads
        for agent in (
            *self.units,
            *self.patrol_drones,
            *self.docked_drones,
            *self.command_rooms.values(),
            *self.enterprises.values(),
        ):
            agent.reset()
        self.county.reset()
        self.board.reset()
        self.incidents = incidents
        self.cases: dict[int, Case] = {}  # incident id -> its case, from the moment it occurs
        self.drones_grounded = False  # wind (a drill's inject): no drone flies, none is launched
        self.env.process(self._incident_source(incidents))

    # ---- agents -------------------------------------------------------------------------------------------
    def _build_agents(self) -> None:
        site, d, world = self.site, self.delays, self.world
        on_platform = self.policy_cfg.alarm == "one_key"
        self.enterprises = {
            r.eid: Enterprise(self, r, on_platform, d.mobilise_own_security, d.on_site_travel)
            for r in world.enterprises
        }
        alarm = AlarmDelays(
            d.one_key_to_screen, d.video_check, d.call_answer, d.call_interview_locate, d.drone_centre_order
        )
        self.command_rooms = {
            sid: CommandRoom(self, sid, name, alarm)
            for sid, name in zip(site.stations["id"], site.stations["name"], strict=True)
        }
        self.county = CountyCentre(self, alarm, d.county_handoff, d.strict_liaison)
        self.fire_control = FireControl(self, d.fire_call_process)
        self.units: list[Responder] = [
            unit for kind in RESPONDERS for unit in kind.deploy(self, site, self.cfg.fleet, d)
        ]
        self.patrol_drones, self.docked_drones = self._build_drones()

    def _build_drones(self) -> tuple[list[PatrolDrone], list[PatrolDrone]]:
        spec = self.cfg.fleet.drones
        patrol, docked = [], []
        for n, (nest_id, xy, route) in enumerate(self.world.nest_routes):
            for k in range(spec.patrol_per_nest):
                patrol.append(
                    PatrolDrone(
                        self,
                        f"D-{nest_id}-p{k + 1}",
                        xy,
                        route,
                        "patrol",
                        spec.patrol_speed_mps,
                        spec.endurance_s,
                        spec.recharge_s,
                        offset_s=(n * 977.0 + k * 1500.0),
                        launch_s=spec.launch_s,
                    )
                )
            for k in range(spec.docked_per_nest):
                docked.append(
                    PatrolDrone(
                        self,
                        f"D-{nest_id}-d{k + 1}",
                        xy,
                        route,
                        "docked",
                        spec.cruise_speed_mps,
                        spec.endurance_s,
                        spec.recharge_s,
                        launch_s=spec.launch_s,
                    )
                )
        return patrol, docked

    def decided(self, case: Case, point: str, tier: str, policy_choice: bool) -> bool:
        """A yes/no decision point (ask the county centre, launch a drone): the trainees' choice when a
        drill gives one (logged beside the policy's own), else the policy's."""
        choice = self.decisions.get((case.inc.id, point, tier))
        if choice is None:
            return policy_choice
        mine = "yes" if policy_choice else "no"
        self.log.emit(self.env.now, K.DECISION, case.inc.id, detail=f"{point}={choice};policy={mine}")
        return choice == "yes"

    def command_room_for(self, case: Case) -> CommandRoom:
        """The command room of the incident's station; the county centre where no station's area covers it."""
        return self.command_rooms.get(case.inc.station, self.county)

    # ---- roads -------------------------------------------------------------------------------------------
    def close_roads(self, edges: Iterable[Edge]) -> None:
        """Close these directed edges (u, v, key) from now on, on top of those already closed (a drill's
        "road closed"; sim/site/roads.py finds a road's edges by name). Units on the road re-route."""
        edges = {tuple(e) for e in edges}
        unknown = sorted((e for e in edges if len(e) != 3 or not self.site.graph.has_edge(*e)), key=str)
        if unknown:
            raise ScenarioError(
                f"cannot close {unknown[0]}: no such edge (u, v, key) on site {self.site.name!r}"
            )
        self._set_closed(self.roads.closed | edges)

    def reopen_roads(self, edges: Iterable[Edge]) -> None:
        """Open these edges again (edges that are not closed are ignored). Units on the road take a
        reopened road only if it is strictly faster."""
        self._set_closed(self.roads.closed - set(edges))

    def _set_closed(self, closed: frozenset[Edge]) -> None:
        """Travel on the network without ``closed`` from now on: new tables for the board, and every unit on
        the road re-routed (all routes first, then the board's consequences, so no unit is sent on a route
        the change has already broken)."""
        if closed == self.roads.closed:
            return
        old = self.roads
        self.roads = self.open_roads if not closed else Roads.without(self.world, closed)
        self.board.use_roads(self.roads)
        then = [unit.road_change(old, self.roads) for unit in self.units]
        for consequence in then:
            if consequence is not None:
                consequence()
        self.board.serve_queue()  # a reopened road may bring a waiting request within reach

    # ---- running ------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One display tick of simulated time (Mesa's step)."""
        self.env.run(until=self.env.now + self.cfg.run.tick_s)

    def run(self) -> EventLog:
        # The run allocates hundreds of thousands of short-lived events and generators; the cyclic
        # collector would keep re-scanning the whole heap (road graph, tables) for them. Pause it for the
        # run and collect once at the end.
        enabled = gc.isenabled()
        gc.disable()
        try:
            self.env.run(until=self.horizon_s + TAIL_S)
        finally:
            if enabled:
                gc.enable()
        return self.log

    def _incident_source(self, incidents: list[Incident]):
        """Open each incident at its time: one waiting process, not thousands, in the queue."""
        env, index = self.env, self.world.node_index
        for inc in incidents:
            yield env.timeout(inc.t_s - env.now)
            kind = self.kinds[inc.kind.removeprefix("cross_district_")]
            case = Case(inc, index[inc.node], kind, env, self.delays.containment)
            self.cases[inc.id] = case
            self.log.emit(env.now, K.OCCURRED, inc.id, detail=inc.kind)
            outcomes.watch(self, case)
            start_detection(self, case)
