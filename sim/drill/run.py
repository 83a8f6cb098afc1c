"""Run a drill: the scenario's incidents and injects replayed under each arm (a policy, or a policy with the
trainees' decisions), on the same incidents with the same luck, into one event log.

config (scenario overrides, then the user's) -> site -> scenario placed on it (sim/drill/resolve.py) ->
one model per arm with the facilitator's process (sim/drill/director.py) -> the event log, with a
``policy`` column naming the arm. Everything after (narrative, timeline, animation, report) reads the log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from sim.config import EchelonConfig
from sim.drill import director
from sim.drill.resolve import Drill, resolve
from sim.drill.scenario import Scenario
from sim.errors import ScenarioError
from sim.model.incidents import incidents_frame
from sim.model.model import EchelonModel
from sim.model.world import World
from sim.site.site import Site

FOLLOW_S = 3 * 3600.0  # after the drill's window, units finish what they started (their work, the drive home)
MAX_INCIDENTS = 50_000  # a drill is a morning or a night, not a year: a guard against a mistyped rate

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Arm:
    label: str  # the log's policy column: echelon_135, or echelon_135+trainees
    policy: str  # the policy file (conf/policy)
    trainees: bool  # follows the trainees' decisions


@dataclass
class DrillRun:
    drill: Drill
    arms: list[Arm]
    cfgs: dict[str, EchelonConfig]  # arm label -> its configuration
    site: Site
    events: pd.DataFrame  # every arm's log, column policy = arm label
    incidents: pd.DataFrame  # with the scenario's labels
    units: pd.DataFrame


def drill_overrides(scenario: Scenario, overrides: Sequence[str]) -> list[str]:
    """The scenario's config overrides, then the user's (which win); the scenario's policies unless the
    user lists run.policies."""
    user = list(overrides)
    mine = [*scenario.config, *user]
    if not any(o.split("=", 1)[0].lstrip("+~") == "run.policies" for o in user):
        mine.append(f"run.policies=[{','.join(scenario.policies)}]")
    return mine


def arms(scenario: Scenario, cfg: EchelonConfig) -> list[Arm]:
    """Each policy; with decisions, the first policy once more following the trainees."""
    out = [Arm(p, p, False) for p in cfg.run.policies]
    if scenario.decisions:
        first = cfg.run.policies[0]
        out.insert(1, Arm(f"{first}+trainees", first, True))
    return out


def run_drill(
    scenario: Scenario,
    cfg: EchelonConfig,
    policy_cfgs: dict[str, EchelonConfig],
    site: Site,
    progress: Progress | None = None,
) -> DrillRun:
    """Replay ``scenario`` under every arm. ``cfg`` is composed with ``drill_overrides``, and
    ``policy_cfgs`` are it with each of its run.policies chosen (as ``echelon compare`` composes them)."""
    world = World.build(site)
    the_arms = arms(scenario, cfg)
    cfgs = {a.label: policy_cfgs[a.policy] for a in the_arms}
    probe = EchelonModel(site, cfgs[the_arms[0].label], [], world=world)
    drill = resolve(scenario, site, world, cfg, [u.unit_id for u in probe.units])
    if len(drill.incidents) > MAX_INCIDENTS:
        raise ScenarioError(
            f"{scenario.path}: the background injects give {len(drill.incidents):,} incidents; a drill "
            f"allows {MAX_INCIDENTS:,}: lower rate_multiplier or shorten the window"
        )
    logs = []
    for k, arm in enumerate(the_arms):
        if progress:
            progress("replaying", k, len(the_arms))
        model = EchelonModel(site, cfgs[arm.label], drill.incidents, world=world)
        if arm.trainees:
            model.decisions = dict(drill.decisions)
        director.start(model, drill)
        model.env.run(until=drill.end_s + FOLLOW_S)
        frame = model.log.to_frame()
        frame["policy"] = arm.label
        frame["replication"] = 0
        logs.append(frame)
    if progress:
        progress("replaying", len(the_arms), len(the_arms))
    incidents = incidents_frame(drill.incidents)
    incidents["replication"] = 0
    incidents["label"] = [drill.labels.get(i, "") for i in incidents["incident"]]
    from sim.drill.unit_table import units_frame

    return DrillRun(
        drill, the_arms, cfgs, site, pd.concat(logs, ignore_index=True), incidents, units_frame(probe)
    )
