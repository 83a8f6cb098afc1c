"""Everything ``echelon site`` writes: a map (PNG), the layers (GeoPackage, for QGIS), the enterprise table
(CSV, for a spreadsheet), a summary (JSON) and the resolved config (YAML).

Files are written into a hidden temporary folder and moved into place at the end, so an interrupted or
failed run leaves no half-written result behind.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from sim.config import EchelonConfig, output_dir
from sim.config_diff import Setting
from sim.result_folder import result_folder
from sim.site.isochrones import isochrone_polygons, jurisdiction_polygons, post_reach_s, road_edges
from sim.site.network import graph_fingerprint
from sim.site.plot_site import draw_site
from sim.site.site import Site


def coverage_by_own_post(site: Site, thresholds_s: list[float], time_factor: float) -> dict[str, float]:
    """Share of enterprises whose own grid's post reaches them within each time (travel only)."""
    ent = site.enterprises[site.enterprises["grid"] != ""]
    if len(ent) == 0 or len(site.posts) == 0:
        return {f"{t:g}": float("nan") for t in thresholds_s}
    times = site.router.times_from(site.posts["node"]) * time_factor
    row = {g: i for i, g in enumerate(site.posts["grid"])}
    t_own = times[[row[g] for g in ent["grid"]], site.router.index(ent["node"])]
    return {f"{t:g}": float(np.mean(t_own <= t)) for t in thresholds_s}


def strict_json(value):
    """``value`` with every NaN or infinity replaced by None: strict JSON has no NaN (a share of no
    enterprises is undefined, and is written as null)."""
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return None
    return value


def site_summary(site: Site, cfg: EchelonConfig, isochrones) -> dict:
    ent = site.enterprises
    bridges = sum(
        1 for *_, b in site.graph.edges(data="bridge") if (b[0] if isinstance(b, list) else b) == "yes"
    )
    length_km = sum(float(d) for *_, d in site.graph.edges(data="length")) / 1000.0
    factor = cfg.network.emergency_time_factor
    return {
        "site": site.name,
        "label": site.label,
        "synthetic": site.synthetic,
        "source": site.source,
        "seed": cfg.seed,
        "crs": str(site.crs),
        "network": {
            "nodes": len(site.graph),
            "edges": site.graph.number_of_edges(),
            "road_km_directed": round(length_km, 1),
            "bridge_edges": bridges,
            "fingerprint": graph_fingerprint(site.graph),
        },
        "counts": {
            "enterprises": len(ent),
            "stations": len(site.stations),
            "fire_stations": len(site.fire_stations),
            "grids": len(site.grids),
            "posts": len(site.posts),
            "drone_nests": len(site.nests),
            "zones": len(site.zones),
        },
        "enterprises_by_kind": {str(k): int(v) for k, v in ent["kind"].value_counts().items()},
        "enterprises_by_station": {str(k): int(v) for k, v in ent["station"].value_counts().items()},
        "isochrones_km2": {f"{r.threshold_s:g}": round(r.area_km2, 3) for r in isochrones.itertuples()},
        "enterprises_within_s_of_own_grid_post": coverage_by_own_post(site, cfg.isochrones_s, factor),
        "measured_as": f"road travel time at emergency speed (free-flow x {factor:g}), from departure; "
        "mobilisation excluded",
        "warnings": list(site.warnings),
    }


def write_site_outputs(
    site: Site,
    cfg: EchelonConfig,
    results_dir: Path | None = None,
    *,
    stem: str | None = None,
    settings: Sequence[Setting] = (),
) -> Path:
    """Write the site's files into a new folder ``<stem>-<date>-<time>`` (stem ``site-<name>`` unless
    given) under ``results_dir``, else the config's (relative: to the project folder, see
    ``sim.config.output_dir``); returns the folder. ``settings`` (what differs from the defaults,
    ``sim.config_diff``) go into summary.json as ``changed_settings``."""
    results_dir = Path(results_dir) if results_dir is not None else output_dir(cfg.results_dir)
    factor = cfg.network.emergency_time_factor
    edges = road_edges(site)
    reach = post_reach_s(site, factor)
    isochrones = isochrone_polygons(site, edges, reach, cfg.isochrones_s)
    jurisdictions = jurisdiction_polygons(site, edges)
    with result_folder(results_dir, stem or f"site-{site.name}") as (tmp, final):
        draw_site(site, edges, isochrones, jurisdictions, factor, tmp / "site.png")
        layers = {
            "roads": edges.assign(reach_from_post_s=np.maximum(reach[edges["u_idx"]], reach[edges["v_idx"]]))[
                [
                    "u",
                    "v",
                    "key",
                    "highway",
                    "bridge",
                    "length",
                    "speed_kph",
                    "travel_time",
                    "reach_from_post_s",
                    "geometry",
                ]
                if "bridge" in edges
                else [
                    "u",
                    "v",
                    "key",
                    "highway",
                    "length",
                    "speed_kph",
                    "travel_time",
                    "reach_from_post_s",
                    "geometry",
                ]
            ],
            "islands": site.islands,
            "zones": site.zones,
            "jurisdictions": jurisdictions,
            "grids": site.grids,
            "enterprises": site.enterprises,
            "stations": site.stations,
            "fire_stations": site.fire_stations,
            "posts": site.posts,
            "drone_nests": site.nests,
            "isochrones": isochrones,
        }
        for layer, frame in layers.items():
            if len(frame):
                frame = frame.copy()
                for col in frame.columns:  # lists (merged OSM attributes) are not a GeoPackage type
                    if col != "geometry" and frame[col].dtype == object:
                        frame[col] = frame[col].map(
                            lambda v: ";".join(map(str, v)) if isinstance(v, list) else v
                        )
                frame.to_file(tmp / "site.gpkg", layer=layer, driver="GPKG")
        site.enterprises.drop(columns="geometry").assign(
            x_m=site.enterprises.geometry.x,
            y_m=site.enterprises.geometry.y,
            lon=site.enterprises.to_crs("EPSG:4326").geometry.x,
            lat=site.enterprises.to_crs("EPSG:4326").geometry.y,
        ).to_csv(tmp / "enterprises.csv", index=False, encoding="utf-8-sig")  # a BOM: Excel then reads UTF-8
        summary = {**site_summary(site, cfg, isochrones), "changed_settings": [s.as_dict() for s in settings]}
        text = json.dumps(strict_json(summary), indent=2, ensure_ascii=False, allow_nan=False)
        (tmp / "summary.json").write_text(text + "\n")
        config = dataclasses.asdict(cfg)
        (tmp / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return final
