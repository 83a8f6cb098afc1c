"""A layout study, end to end: layouts -> checks -> static coverage -> simulation under each load ->
(optionally) optimised posts, their refinement and the compliance-against-teams curve.

``run_study`` computes; ``sim.lab.write`` writes the folder a planner opens. The configs of the loads are
composed by the caller (the command line composes them with Hydra), one per incidents config, identical
otherwise, so every layout under every load sees the same incidents.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import EchelonConfig
from sim.errors import ConfigError
from sim.experiment import Progress, silent
from sim.lab import coverage
from sim.lab.checks import check_layout
from sim.lab.evaluate import LoadResult, busy_fraction, simulate_layouts, summary
from sim.lab.generators import check_spec, generate, network_voronoi
from sim.lab.layout import Layout, apply_layout
from sim.lab.layout_file import read_layout_file
from sim.lab.optimise import (
    CoverInstance,
    Solution,
    candidate_nodes,
    cover_instance,
    expected_coverage,
    greedy,
    layout_from_solution,
    mclp,
    mexclp,
)
from sim.site.site import Site

IMPROVEMENT = 1e-4  # a refined answer must add this share of the total risk to expected coverage


@dataclass(frozen=True)
class Refinement:
    """One round of the simulator in the loop: the busy share measured on the answer, the expected-covering
    answer it leads to, and which posts moved."""

    round: int
    busy_share: float  # risk-weighted mean over demand points of their team's simulated busy share
    busiest: float  # the busiest team's share
    expected_before: float
    expected_after: float
    moved: tuple[str, ...]  # plain sentences: "a second team at node 123", "post from 12 to 345"


@dataclass
class Optimisation:
    budget: int
    instance: CoverInstance
    exact: Solution
    greedy: Solution
    refinements: list[Refinement] = field(default_factory=list)
    curve: pd.DataFrame | None = None  # teams, exact, greedy, bound, status, then compliance by load
    names: tuple[str, ...] = ()  # the layouts it made: the optimised one, then the refined one if any


@dataclass
class Study:
    cfg: EchelonConfig
    site: Site
    layouts: list[Layout]
    baseline: str
    static: pd.DataFrame  # layout, threshold_s, own_/any_/double_ x enterprises/workforce/risk
    grids: pd.DataFrame  # layout, per-grid table (sim.lab.coverage.grid_table)
    balance: pd.DataFrame  # layout, risk_per_echelon_cv, risk_per_echelon_max_over_mean
    loads: list[LoadResult]
    optimisation: Optimisation | None = None
    warnings: list[str] = field(default_factory=list)


def _generator_spec(spec: Mapping[str, object]) -> dict[str, object]:
    """Whole numbers given by Hydra as floats (``count: 30`` read as 30.0) back to ints."""
    return {
        k: int(v) if isinstance(v, float) and v.is_integer() and k == "count" else v for k, v in spec.items()
    }


def _config_key_error(name: str, err: ConfigError) -> ConfigError:
    """A generator's 'field: what is wrong' as the config key the user typed."""
    field_name, _, rest = str(err).partition(":")
    where = "conf/lab/default.yaml or a command-line override"
    return ConfigError(f"config key 'lab.layouts.{name}.{field_name}' ({where}):{rest}")


def check_layout_specs(cfg: EchelonConfig) -> None:
    """Every configured layout names a known generator with good parameters; a network-Voronoi names a
    layout listed before it (``posts_of``): said before any road is loaded."""
    seen: list[str] = []
    for name, raw in cfg.lab.layouts.items():
        spec = _generator_spec(raw)
        if spec.get("generator") == "network_voronoi" and "post_nodes" not in spec:
            extra = sorted(set(spec) - {"generator", "posts_of"})
            if extra:
                raise _config_key_error(
                    name, ConfigError(f"{extra[0]}: not a key here; allowed: generator, posts_of")
                )
            if spec.get("posts_of") not in seen:
                listed = ", ".join(seen) or "none is listed before it"
                got = spec.get("posts_of")
                problem = f"posts_of: the name of a layout listed before this one ({listed}), got {got!r}"
                raise _config_key_error(name, ConfigError(problem))
        else:
            try:
                check_spec(spec, cfg.fleet.echelons_per_grid)
            except ConfigError as err:
                raise _config_key_error(name, err) from None
        seen.append(name)
    for i, path in enumerate(cfg.lab.files):
        found = Path(path).expanduser()
        if not found.is_file():
            folder = "a folder; give the .gpkg or .geojson file inside it"
            what = folder if found.is_dir() else "file not found"
            raise ConfigError(f"config key 'lab.files[{i}]': {what}: {found}")


def build_layouts(site: Site, cfg: EchelonConfig) -> list[Layout]:
    """The configured layouts in order (generators, then the planner's files), each checked (refused or
    repaired as ``lab.on_invalid`` says)."""
    check_layout_specs(cfg)
    echelons = cfg.fleet.echelons_per_grid
    out: dict[str, Layout] = {}
    for name, raw in cfg.lab.layouts.items():
        spec = _generator_spec(raw)
        try:
            if spec.get("generator") == "network_voronoi" and "posts_of" in spec:
                source = str(spec["posts_of"])
                layout = network_voronoi(site, list(out[source].posts["node"]), echelons)
                layout = dataclasses.replace(layout, source=f"{layout.source}, at the posts of {source}")
            else:
                layout = generate(site, spec, echelons, cfg.seed)
        except ConfigError as err:
            raise _config_key_error(name, err) from None
        out[name] = dataclasses.replace(layout, name=name)
    for path in cfg.lab.files:
        layout = read_layout_file(site, path, name=Path(path).stem, echelons=echelons)
        out[layout.name] = layout
    return [check_layout(site, lay, cfg.lab.on_invalid, cfg.network.max_snap_m) for lay in out.values()]


def static_tables(site: Site, layouts: list[Layout], cfg: EchelonConfig):
    """Coverage, per-grid and balance tables of every layout, stacked with a ``layout`` column."""
    static, grids, balance = [], [], []
    for layout in layouts:
        static.append(coverage.coverage_table(site, layout, cfg).assign(layout=layout.name))
        table = coverage.grid_table(site, layout, cfg).assign(layout=layout.name)
        grids.append(table)
        balance.append({"layout": layout.name, "echelons": layout.n_echelons, **coverage.balance(table)})
    return pd.concat(static, ignore_index=True), pd.concat(grids, ignore_index=True), pd.DataFrame(balance)


def busy_by_demand(site: Site, instance: CoverInstance, layout: Layout, measured: LoadResult) -> np.ndarray:
    """Per demand point: the simulated busy share of the team(s) of the grid that holds it (a post with
    several teams: their mean), the system's mean where a grid had no team in the log."""
    teams = measured.teams.groupby("grid")["busy_share"].mean()
    overall = busy_fraction(measured, layout.name)
    laid = apply_layout(site, layout).enterprises
    grid_of = dict(zip(laid["node"].astype(int), laid["grid"], strict=False))
    nodes = instance.demand_nodes if instance.demand_nodes is not None else []
    return np.array([float(teams.get(grid_of.get(int(n), ""), overall)) for n in nodes], dtype=float)


def _moves(instance: CoverInstance, before: np.ndarray, after: np.ndarray) -> tuple[str, ...]:
    """What changed between two answers, in words."""
    out = []
    for j in np.flatnonzero(before != after):
        node, b, a = int(instance.candidates[j]), int(before[j]), int(after[j])
        if b == 0:
            out.append(f"new post at road node {node} ({a} team{'s' if a > 1 else ''})")
        elif a == 0:
            out.append(f"post at road node {node} closed")
        else:
            out.append(f"road node {node}: {b} -> {a} teams")
    return tuple(out)


def optimise(
    site: Site,
    cfg: EchelonConfig,
    budget: int,
    refine_cfg: EchelonConfig,
    baseline: Layout,
    progress: Progress,
) -> tuple[Optimisation, list[Layout]]:
    """The exact MCLP answer for ``budget`` teams, its greedy rival, and the simulator-refined answer."""
    lab = cfg.lab
    progress("optimising", 0, 1)
    instance = cover_instance(site, cfg, candidate_nodes(site))
    exact = mclp(instance, budget, lab.time_limit_s)
    opt = Optimisation(budget, instance, exact, greedy(instance, budget))
    progress("optimising", 1, 1)
    name = f"optimised_{budget}"
    target = coverage.echelon_target_s(cfg)
    layouts = [
        layout_from_solution(
            site,
            instance,
            exact,
            name,
            f"{budget} posts maximising risk-weighted {target / 60:g}-minute coverage (MCLP, HiGHS, "
            f"{exact.status.lower()})",
        )
    ]
    current = exact
    for r in range(1, lab.refine_rounds + 1):
        measured = simulate_layouts(
            site, [layouts[-1]], refine_cfg, layouts[-1].name, lab.refine_load, progress
        )
        q = busy_by_demand(site, instance, layouts[-1], measured)
        better = mexclp(instance, budget, q, lab.time_limit_s)
        before = expected_coverage(instance, current.counts, q)
        # another answer only if it is better, not one of several equally good ones
        worth = better.objective > before + IMPROVEMENT * float(instance.weights.sum())
        moved = _moves(instance, current.counts, better.counts) if worth else ()
        weights = instance.weights
        mean_q = float(np.average(q, weights=weights)) if weights.sum() > 0 else float(q.mean())
        after = better.objective if worth else before  # a rejected answer changes nothing
        opt.refinements.append(Refinement(r, mean_q, float(q.max()), before, after, moved))
        if not moved:
            break
        current = better
        layouts.append(
            layout_from_solution(
                site,
                instance,
                better,
                f"refined_{budget}",
                f"{budget} teams maximising expected coverage, each demand point's team busy as often as "
                f"simulated under {lab.refine_load} (risk-weighted mean {mean_q:.1%}; MEXCLP, round {r})",
            )
        )
        layouts = [layouts[0], layouts[-1]]
    opt.names = tuple(layout.name for layout in layouts)
    return opt, layouts


def curve(
    site: Site,
    cfg: EchelonConfig,
    opt: Optimisation,
    load_cfgs: Mapping[str, EchelonConfig],
    progress: Progress,
) -> pd.DataFrame:
    """Coverage (exact and greedy) and simulated compliance of the optimised posts at each team count."""
    rows = []
    metric = "tier_echelon_target_met_from_alarm"
    total = float(opt.instance.weights.sum())
    # one post per candidate node: larger team counts are left out of the curve (the report says so)
    for k in sorted(k for k in {*cfg.lab.curve, opt.budget} if k <= len(opt.instance.candidates)):
        progress("optimising", 0, 1)
        exact, first = mclp(opt.instance, k, cfg.lab.time_limit_s), greedy(opt.instance, k)
        progress("optimising", 1, 1)
        row = {
            "echelons": k,
            "coverage_exact": exact.objective / total,
            "coverage_greedy": first.objective / total,
            "bound": exact.bound / total,
            "status": exact.status,
        }
        layout = layout_from_solution(site, opt.instance, exact, f"optimised_{k}", "")
        for load, load_cfg in load_cfgs.items():
            result = simulate_layouts(site, [layout], load_cfg, layout.name, load, progress)
            table = summary(result).set_index("metric")
            for key, column in (("", "estimate"), ("_low", "ci95_low"), ("_high", "ci95_high")):
                # no incident reached an echelon (a quiet load, a short run): no estimate
                value = table.loc[metric, column] if metric in table.index else float("nan")
                row[f"compliance_{load}{key}"] = float(value)
        rows.append(row)
    return pd.DataFrame(rows)


def run_study(
    cfg: EchelonConfig,
    site: Site,
    load_cfgs: Mapping[str, EchelonConfig],
    *,
    optimise_posts: bool = False,
    progress: Progress | None = None,
) -> Study:
    """Everything ``echelon grid`` (and ``echelon grid optimise``) reports, computed."""
    progress = progress or silent
    lab = cfg.lab
    progress("laying out grids", 0, 1)
    layouts = build_layouts(site, cfg)
    progress("laying out grids", 1, 1)
    baseline = lab.baseline or layouts[0].name
    opt = None
    if optimise_posts:
        base = next(lay for lay in layouts if lay.name == baseline)
        budget = lab.budget or base.n_echelons
        refine_cfg = load_cfgs[lab.refine_load]  # the config checks it is one of lab.loads
        opt, found = optimise(site, cfg, budget, refine_cfg, base, progress)
        layouts += found
    static, grids, balance = static_tables(site, layouts, cfg)
    loads = [
        simulate_layouts(site, layouts, load_cfg, baseline, load, progress)
        for load, load_cfg in load_cfgs.items()
    ]
    if opt is not None:
        opt.curve = curve(site, cfg, opt, load_cfgs, progress)
    warnings = [f"{lay.name}: {w}" for lay in layouts for w in lay.warnings]
    return Study(cfg, site, layouts, baseline, static, grids, balance, loads, opt, warnings)
