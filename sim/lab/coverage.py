"""Static coverage of a grid layout on the road network: who is reached within 1, 3 and 5 minutes.

Counted from the one-key alarm, as the echelon tier of the 1-3-5 policy is: the alarm reaches the screen,
the room checks the video, the team mobilises (each at its median), then drives the fastest road route
(one-way streets and bridges respected, never across water) at emergency speed. Demand is weighed three
ways: enterprises, workforce, and risk (expected incidents a year at the enterprise, from the incident
rates of the kinds that can happen there). No queueing here: a busy team is the simulator's business
(``sim.lab.evaluate``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.config import EchelonConfig
from sim.lab.layout import Layout, apply_layout
from sim.site.isochrones import isochrone_polygons, road_edges
from sim.site.site import Site

WEIGHTS = ("enterprises", "workforce", "risk")


@dataclass(frozen=True)
class HeadStart:
    """Seconds from the one-key alarm until the echelon starts driving (medians), and the words for it."""

    seconds: float
    words: str


def head_start(cfg: EchelonConfig) -> HeadStart:
    d = cfg.delays
    assert d is not None
    parts = {
        "screen": d.one_key_to_screen.median_s_value,
        "video check": d.video_check.median_s_value,
        "mobilisation": d.mobilise_echelon.median_s_value,
    }
    total = sum(parts.values())
    listed = ", ".join(f"{name} {s:.0f} s" for name, s in parts.items())
    return HeadStart(
        total, f"counted from the one-key alarm: {total:.0f} s before the team drives ({listed}, medians)"
    )


def echelon_target_s(cfg: EchelonConfig) -> float:
    """The echelon tier's target (3 minutes under every reading that has one), else 180 s."""
    assert cfg.policy is not None
    for tier in cfg.policy.tiers:
        if tier.members in ("grid_echelon", "nearest_echelon", "grid_then_nearest_echelon"):
            return float(tier.target_s)
    return 180.0


def risk_per_year(site: Site, cfg: EchelonConfig) -> np.ndarray:
    """Expected incidents a year at each enterprise (base rates, before any load multiplier)."""
    assert cfg.incidents is not None
    kinds = site.enterprises["kind"].to_numpy()
    out = np.zeros(len(kinds))
    for kind in cfg.incidents.kinds.values():
        applies = (
            np.isin(kinds, kind.enterprise_kinds) if kind.enterprise_kinds else np.ones(len(kinds), bool)
        )
        out += kind.rate_per_enterprise_year * applies
    return out


def demand(site: Site, cfg: EchelonConfig) -> pd.DataFrame:
    """One row per enterprise: id, node, grid, and its three weights."""
    e = site.enterprises
    return pd.DataFrame(
        {
            "id": e["id"].to_numpy(),
            "node": e["node"].to_numpy(),
            "grid": e["grid"].to_numpy(),
            "enterprises": 1.0,
            "workforce": e["workforce"].to_numpy(dtype=float),
            "risk": risk_per_year(site, cfg),
        }
    )


def arrival_s(site: Site, cfg: EchelonConfig, post_nodes) -> np.ndarray:
    """(posts, enterprises): seconds from the alarm until a team from each post is at each enterprise."""
    travel = site.router.times_from(list(post_nodes))[:, site.router.index(site.enterprises["node"])]
    return head_start(cfg).seconds + travel * cfg.network.emergency_time_factor


def _share(weights: np.ndarray, mask: np.ndarray) -> float:
    total = float(weights.sum())
    return float(weights[mask].sum() / total) if total > 0 else float("nan")


def coverage_table(site: Site, layout: Layout, cfg: EchelonConfig) -> pd.DataFrame:
    """A row per threshold (60, 180, 300 s): shares of each weight reached by the enterprise's own grid's
    post, by any post, and by two or more teams (double coverage, a team counted once per echelon)."""
    site = apply_layout(site, layout)
    d = demand(site, cfg)
    times = arrival_s(site, cfg, layout.posts["node"]) if len(layout.posts) else np.full((0, len(d)), np.inf)
    post_row = {g: i for i, g in enumerate(layout.posts["grid"])}
    own_rows = np.array([post_row.get(g, -1) for g in d["grid"]], dtype=int)
    own = np.where(own_rows >= 0, times[np.maximum(own_rows, 0), np.arange(len(d))], np.inf)
    teams = layout.posts["echelons"].to_numpy(dtype=float)[:, None]
    rows = []
    for t in cfg.isochrones_s:
        reach = times <= t
        by_own, by_any = own <= t, reach.any(axis=0)
        double = (reach * teams).sum(axis=0) >= 2
        row = {"threshold_s": float(t)}
        for w in WEIGHTS:
            weights = d[w].to_numpy(dtype=float)
            row[f"own_{w}"] = _share(weights, by_own)
            row[f"any_{w}"] = _share(weights, by_any)
            row[f"double_{w}"] = _share(weights, double)
        rows.append(row)
    return pd.DataFrame(rows)


def grid_table(site: Site, layout: Layout, cfg: EchelonConfig) -> pd.DataFrame:
    """A row per grid: its enterprises, workforce and risk, its teams, the risk each team carries, and how
    fast its own post reaches its enterprises (share within the echelon target, mean and worst seconds)."""
    site = apply_layout(site, layout)
    d = demand(site, cfg)
    target = echelon_target_s(cfg)
    times = arrival_s(site, cfg, layout.posts["node"]) if len(layout.posts) else np.empty((0, len(d)))
    post_row = {g: i for i, g in enumerate(layout.posts["grid"])}
    teams = dict(zip(layout.posts["grid"], layout.posts["echelons"], strict=True))
    rows = []
    for grid_id, zone in zip(layout.grids["id"], layout.grids["zone"], strict=True):
        members = np.flatnonzero(d["grid"].to_numpy() == grid_id)
        own = times[post_row[grid_id], members] if grid_id in post_row else np.full(len(members), np.inf)
        risk = float(d["risk"].to_numpy()[members].sum())
        n_teams = int(teams.get(grid_id, 0))
        rows.append(
            {
                "grid": grid_id,
                "zone": zone,
                "enterprises": len(members),
                "workforce": float(d["workforce"].to_numpy()[members].sum()),
                "risk_per_year": risk,
                "echelons": n_teams,
                "risk_per_echelon_year": risk / n_teams if n_teams else float("inf"),
                "share_within_target": float(np.mean(own <= target)) if len(members) else float("nan"),
                "mean_arrival_s": float(np.mean(own)) if len(members) else float("nan"),
                "worst_arrival_s": float(np.max(own)) if len(members) else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def balance(grids: pd.DataFrame) -> dict[str, float]:
    """How evenly the risk falls on the teams: coefficient of variation and busiest over mean."""
    load = grids["risk_per_echelon_year"].to_numpy(dtype=float)
    load = load[np.isfinite(load)]
    if len(load) == 0 or load.mean() <= 0:
        return {"risk_per_echelon_cv": float("nan"), "risk_per_echelon_max_over_mean": float("nan")}
    return {
        "risk_per_echelon_cv": float(load.std() / load.mean()),
        "risk_per_echelon_max_over_mean": float(load.max() / load.mean()),
    }


def reach_s(site: Site, layout: Layout, cfg: EchelonConfig) -> np.ndarray:
    """Per road node: seconds from the alarm until the nearest post's team is there."""
    if len(layout.posts) == 0:
        return np.full(site.router.n_nodes, np.inf)
    travel, _ = site.router.nearest_source(layout.posts["node"])
    return head_start(cfg).seconds + travel * cfg.network.emergency_time_factor


def reach_polygons(site: Site, layout: Layout, cfg: EchelonConfig, edges: gpd.GeoDataFrame | None = None):
    """The roads some post reaches within each threshold, counted from the alarm, as areas."""
    edges = road_edges(site) if edges is None else edges
    return isochrone_polygons(site, edges, reach_s(site, layout, cfg), list(cfg.isochrones_s))
