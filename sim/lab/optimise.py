"""Where K echelons should wait: the maximal covering location problem, solved exactly, then refined
with the simulator in the loop.

MCLP (Church and ReVelle, 1974): choose K posts among candidate road nodes to maximise the risk-weighted
demand reached within the echelon target (counted from the alarm, ``sim.lab.coverage``). Solved as a MILP
by HiGHS through PuLP, to proven optimality (or the gap HiGHS proves when a time limit stops it); the
greedy answer is computed too and its gap to the optimum reported, since greedy is what a spreadsheet
planner would do.

A post that covers much demand is also busy more often, and a busy team covers nobody. MEXCLP (Daskin,
1983) maximises *expected* coverage when each team is busy with probability q: a demand reached by k teams
is covered with probability 1 - q^k, so the model may put a second team where demand is dense rather than
a post where it is thin. Here q is not guessed: it is the echelons' busy fraction the simulator measures on
the current answer under the chosen load, and the model is solved again until the answer repeats. MEXCLP
assumes any covering team may answer (as under ``echelon_overflow``); the simulation then tells what the
answer is worth under the configured policy.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pulp

from sim.config import EchelonConfig
from sim.errors import ConfigError
from sim.lab.coverage import arrival_s, demand, echelon_target_s
from sim.lab.generators import network_voronoi
from sim.lab.layout import Layout
from sim.site.site import Site

MAX_TEAMS_AT_A_POST = 3  # MEXCLP may stack teams at a post; more than three at one post is not a grid
LEVELS = 2 * MAX_TEAMS_AT_A_POST  # MEXCLP counts a demand point's covering teams up to this many (q^6 ~ 0)
MAX_CANDIDATES = 2000  # candidate road nodes; beyond it, an even sample of the enterprises' nodes


class OptimisationError(ConfigError):
    """The covering model cannot answer as configured (a budget above the candidates, too short a time
    limit)."""


@dataclass(frozen=True)
class CoverInstance:
    """Demand points (weights), candidate sites (road nodes) and which candidates reach which demand.

    ``cover[j, i]``: a team waiting at candidate j reaches demand i within the target."""

    weights: np.ndarray
    candidates: np.ndarray
    cover: np.ndarray
    demand_nodes: np.ndarray | None = None  # the road node of each demand point (None for a toy case)

    def covered(self, counts: np.ndarray) -> np.ndarray:
        """Per demand: how many teams reach it, for ``counts`` teams at each candidate."""
        return counts.astype(float) @ self.cover


@dataclass(frozen=True)
class Solution:
    counts: np.ndarray  # teams at each candidate
    objective: float  # weighted demand covered (MCLP) or expected covered (MEXCLP)
    bound: float  # the best bound proved; equal to objective when optimal
    status: str

    @property
    def gap(self) -> float:
        return max(0.0, (self.bound - self.objective) / self.bound) if self.bound > 0 else 0.0

    def nodes(self, instance: CoverInstance) -> list[tuple[int, int]]:
        """(road node, teams) of every post used, in candidate order."""
        return [(int(instance.candidates[j]), int(c)) for j, c in enumerate(self.counts) if c > 0]


def candidate_nodes(site: Site, limit: int = MAX_CANDIDATES) -> np.ndarray:
    """Road nodes a team could wait at: the enterprises' own nodes (the backbones are enterprise staff,
    and a post on an enterprise's node always has that enterprise in its grid), thinned evenly in id order
    beyond ``limit``."""
    nodes = np.unique(site.enterprises["node"].to_numpy(dtype=np.int64))
    if len(nodes) > limit:
        nodes = nodes[np.linspace(0, len(nodes) - 1, limit).astype(int)]
    return nodes


def cover_instance(
    site: Site, cfg: EchelonConfig, candidates: np.ndarray, weight: str = "risk"
) -> CoverInstance:
    """The instance on this site: enterprises sharing a road node are one demand point."""
    d = demand(site, cfg)
    times = arrival_s(site, cfg, candidates)
    target = echelon_target_s(cfg)
    nodes, where = np.unique(d["node"].to_numpy(), return_inverse=True)
    weights = np.bincount(where, weights=d[weight].to_numpy(dtype=float), minlength=len(nodes))
    first = np.array([np.flatnonzero(where == k)[0] for k in range(len(nodes))])
    return CoverInstance(weights, candidates, times[:, first] <= target, nodes)


def greedy(instance: CoverInstance, k: int) -> Solution:
    """Add, K times, the candidate that covers the most still-uncovered weight (ties: the first)."""
    counts = np.zeros(len(instance.candidates), dtype=int)
    uncovered = np.ones(len(instance.weights), dtype=bool)
    for _ in range(k):
        gain = instance.cover @ (instance.weights * uncovered)
        gain[counts > 0] = -1.0
        pick = int(np.argmax(gain))
        counts[pick] = 1
        uncovered &= ~instance.cover[pick]
    value = float(instance.weights[~uncovered].sum())
    return Solution(counts, value, math.nan, "greedy")


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Standard output (file descriptor 1, where C libraries print) sent to /dev/null for a while."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _solve(problem: pulp.LpProblem, time_limit_s: float) -> tuple[str, float]:
    """Solve to a proven optimum (relative gap 0) unless the time limit stops HiGHS first; single-threaded so
    the answer does not depend on the machine. Returns HiGHS's stopping reason and the bound it proved."""
    solver = pulp.getSolver(
        "HiGHS", msg=False, gapRel=0.0, timeLimit=time_limit_s, threads=1, output_flag=False
    )
    with _quiet_stdout():  # HiGHS prints its banner on its first model, before any option can silence it
        stats = problem.solve(solver)
    bound = stats.best_bound
    return stats.status.name, float(bound) if bound is not None and math.isfinite(bound) else math.nan


def _answer(x, k: int, status: str, time_limit_s: float) -> np.ndarray:
    """The teams per candidate the solver returned; a plain error when it returned no full answer (stopped
    by the time limit before finding one)."""
    counts = np.array([round(v.value() or 0.0) for v in x], dtype=int)
    if counts.sum() != k:
        raise OptimisationError(
            f"the solver stopped ({status}) after lab.time_limit_s={time_limit_s:g} s without placing all "
            f"{k} teams; raise lab.time_limit_s"
        )
    return counts


def check_budget(instance: CoverInstance, k: int) -> None:
    """K posts need K candidate road nodes (one post per node in the covering model)."""
    if k > len(instance.candidates):
        raise OptimisationError(
            f"lab.budget={k} teams, but the site has only {len(instance.candidates)} candidate posts (the "
            "road nodes of its enterprises); give at most that many"
        )


def mclp(instance: CoverInstance, k: int, time_limit_s: float = 120.0) -> Solution:
    """The exact maximal covering answer for K posts (one team each)."""
    check_budget(instance, k)
    n_cand, n_dem = instance.cover.shape
    problem = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [problem.add_variable(f"x{j}", cat="Binary") for j in range(n_cand)]
    y = [problem.add_variable(f"y{i}", lowBound=0, upBound=1) for i in range(n_dem)]
    problem += pulp.lpSum(float(w) * y[i] for i, w in enumerate(instance.weights))
    for i in range(n_dem):
        near = np.flatnonzero(instance.cover[:, i])
        problem += y[i] <= pulp.lpSum(x[j] for j in near)
    problem += pulp.lpSum(x) == k
    status, bound = _solve(problem, time_limit_s)
    counts = _answer(x, k, status, time_limit_s)
    value = float(instance.weights[instance.covered(counts) > 0].sum())
    return Solution(counts, value, bound if math.isfinite(bound) else value, status)


def expected_coverage(instance: CoverInstance, counts: np.ndarray, busy: float | np.ndarray) -> float:
    """MEXCLP's objective: the weight covered by at least one free team, a team near demand point i busy
    with probability q_i (one q for all, or one per demand point)."""
    k = np.minimum(instance.covered(counts), LEVELS)  # as the model counts them
    q = np.broadcast_to(np.asarray(busy, dtype=float), k.shape)
    return float((instance.weights * (1.0 - q**k)).sum())


def mexclp(
    instance: CoverInstance, k: int, busy: float | np.ndarray, time_limit_s: float = 120.0
) -> Solution:
    """The exact maximal expected covering answer for K teams, up to ``MAX_TEAMS_AT_A_POST`` at a post.

    ``busy``: the probability a team is busy, one for all (Daskin's MEXCLP) or one per demand point (the
    busy share the simulator measured for the team that serves it: dense areas keep their teams busier,
    so a second team there may be worth more than a post elsewhere)."""
    check_budget(instance, k)
    n_cand, n_dem = instance.cover.shape
    q = np.broadcast_to(np.asarray(busy, dtype=float), (n_dem,))
    levels = min(k, LEVELS)
    problem = pulp.LpProblem("mexclp", pulp.LpMaximize)
    x = [
        problem.add_variable(f"x{j}", lowBound=0, upBound=MAX_TEAMS_AT_A_POST, cat="Integer")
        for j in range(n_cand)
    ]
    y = [
        [problem.add_variable(f"y{i}_{m}", lowBound=0, upBound=1) for m in range(levels)]
        for i in range(n_dem)
    ]
    problem += pulp.lpSum(
        float(w * (1.0 - q[i]) * q[i] ** m) * y[i][m]
        for i, w in enumerate(instance.weights)
        for m in range(levels)
    )
    for i in range(n_dem):
        near = np.flatnonzero(instance.cover[:, i])
        problem += pulp.lpSum(y[i]) <= pulp.lpSum(x[j] for j in near)
    problem += pulp.lpSum(x) == k
    status, bound = _solve(problem, time_limit_s)
    counts = _answer(x, k, status, time_limit_s)
    value = expected_coverage(instance, counts, q)
    return Solution(counts, value, bound if math.isfinite(bound) else value, status)


def brute_force(instance: CoverInstance, k: int) -> float:
    """The best covered weight over every set of K candidates: the check on small cases."""
    best = 0.0
    for chosen in itertools.combinations(range(len(instance.candidates)), k):
        hit = instance.cover[list(chosen)].any(axis=0)
        best = max(best, float(instance.weights[hit].sum()))
    return best


def layout_from_solution(
    site: Site, instance: CoverInstance, solution: Solution, name: str, source: str
) -> Layout:
    """Grids cut by road time around the chosen posts, each post with its number of teams."""
    chosen = solution.nodes(instance)
    layout = network_voronoi(site, [n for n, _ in chosen], 1)
    teams = dict(chosen)
    posts = layout.posts.copy()
    posts["echelons"] = [teams[int(n)] for n in posts["node"]]
    return dataclasses.replace(layout, name=name, source=source, posts=posts)
