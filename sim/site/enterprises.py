"""Enterprises generated inside industrial zones, deterministically from a seed.

Used when no facilities file lists the enterprises. Counts follow zone area x density; attributes (kind,
workforce, guards on duty by shift, one-key terminal online probability, risk, hazmat) follow
``conf/enterprises``. Positions are uniform in the zone with a minimum spacing.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point
from shapely.prepared import prep

from sim.config import EnterprisesConfig

SHIFTS = ("day", "evening", "night")
ENTERPRISE_COLUMNS = [
    "id",
    "name",
    "kind",
    "zone",
    "workforce",
    *(f"guards_{s}" for s in SHIFTS),
    "terminal_online_p",
    "risk",
    "hazmat",
]


def _points_in(polygon, count: int, min_spacing_m: float, rng: np.random.Generator) -> list[Point]:
    """Uniform points in ``polygon``, at least ``min_spacing_m`` apart while that remains possible."""
    area = prep(polygon)
    minx, miny, maxx, maxy = polygon.bounds
    points: list[Point] = []
    spacing = min_spacing_m
    tries = 0
    while len(points) < count:
        tries += 1
        if tries > 200 * count:  # too crowded for this spacing: relax it rather than loop forever
            spacing, tries = spacing * 0.7, 0
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if area.contains(p) and all(p.distance(q) >= spacing for q in points):
            points.append(p)
    return points


def enterprise_attributes(kinds: list[str], cfg: EnterprisesConfig, rng: np.random.Generator) -> pd.DataFrame:
    """Workforce, guards by shift, terminal and risk for enterprises of the given kinds."""
    rows = []
    a = cfg.terminal_online_mean * cfg.terminal_online_concentration
    b = (1.0 - cfg.terminal_online_mean) * cfg.terminal_online_concentration
    for kind in kinds:
        spec = cfg.kinds[kind]
        workforce = max(5, round(spec.workforce_median * rng.lognormal(0.0, 0.6)))
        guards = workforce * spec.guards_per_100_workers / 100.0
        risks, weights = zip(*spec.risk_weights.items(), strict=True)
        p = np.asarray(weights, dtype=float)
        rows.append(
            {
                "kind": kind,
                "workforce": workforce,
                **{f"guards_{s}": max(1, round(guards * cfg.shift_staff_factor.get(s, 1.0))) for s in SHIFTS},
                "terminal_online_p": float(rng.beta(max(a, 1e-6), max(b, 1e-6))),
                "risk": str(rng.choice(risks, p=p / p.sum())),
                "hazmat": bool(spec.hazmat),
            }
        )
    return pd.DataFrame(rows)


def generate_enterprises(
    zones: gpd.GeoDataFrame, cfg: EnterprisesConfig, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Enterprises inside projected ``zones`` (columns name, kind); ids E0001, E0002, ... in zone order."""
    parts = []
    for zone in zones.itertuples():
        zone_kind = zone.kind if zone.kind in cfg.mix_by_zone else "default"
        density = cfg.density_per_km2.get(zone.kind, cfg.density_per_km2.get("default", 0.0))
        count = round(zone.geometry.area / 1e6 * density)
        mix = cfg.mix_by_zone.get(zone_kind)
        if count == 0 or not mix:
            continue
        names, weights = zip(*mix.items(), strict=True)
        p = np.asarray(weights, dtype=float)
        kinds = [str(k) for k in rng.choice(names, size=count, p=p / p.sum())]
        points = _points_in(zone.geometry, count, cfg.min_spacing_m, rng)
        attrs = enterprise_attributes(kinds, cfg, rng)
        attrs["zone"] = zone.name or f"zone {zone.Index}"
        parts.append(gpd.GeoDataFrame(attrs, geometry=points, crs=zones.crs))
    if not parts:
        return gpd.GeoDataFrame({c: [] for c in ENTERPRISE_COLUMNS}, geometry=[], crs=zones.crs)
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=zones.crs)
    out["id"] = [f"E{i + 1:04d}" for i in range(len(out))]
    out["name"] = [
        f"{kind.replace('_', ' ')} enterprise {i}" for i, kind in zip(out["id"], out["kind"], strict=True)
    ]
    return out[[*ENTERPRISE_COLUMNS, "geometry"]]
