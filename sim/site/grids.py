"""Emergency grids (应急网格) as data: polygons, each with an id, its enterprises and one echelon post.

Layouts: square cells over the industrial zones, or polygons a planner drew (GeoJSON). The post of a grid
is the road node among its enterprises' nodes that minimises workforce-weighted travel time to them
(a 1-median), so it always lies inside the grid and on its island.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from sim.config import GridConfig
from sim.errors import ConfigError, SiteError
from sim.site.routing import Router


def square_grids(zones: gpd.GeoDataFrame, cell_m: float) -> gpd.GeoDataFrame:
    """Square cells (aligned to multiples of ``cell_m``) clipped to the union of the zones.

    A cell is named after the zone it overlaps most; small neighbouring zones share a cell.
    """
    if len(zones) == 0:
        return gpd.GeoDataFrame({"zone": []}, geometry=[], crs=zones.crs)
    land = zones.geometry.union_all()
    minx, miny, maxx, maxy = land.bounds
    rows = []
    for j in range(math.floor(miny / cell_m), math.ceil(maxy / cell_m)):
        for i in range(math.floor(minx / cell_m), math.ceil(maxx / cell_m)):
            square = box(i * cell_m, j * cell_m, (i + 1) * cell_m, (j + 1) * cell_m)
            piece = land.intersection(square)
            if piece.is_empty or piece.area <= 1.0:
                continue
            overlap = zones.geometry.intersection(square).area.to_numpy()
            rows.append({"zone": zones["name"].iloc[int(overlap.argmax())], "geometry": piece})
    return gpd.GeoDataFrame(rows, columns=["zone", "geometry"], geometry="geometry", crs=zones.crs)


def grids_from_file(path_text: str, crs) -> gpd.GeoDataFrame:
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise ConfigError(f"grid.path: file not found: {path}")
    try:
        frame = gpd.read_file(path)
    except Exception as err:
        raise SiteError(f"{path}: cannot read grids ({' '.join(str(err).split())[:160]})") from None
    if "id" not in frame.columns:
        raise SiteError(f"{path}: grids need an 'id' property on every polygon; found {list(frame.columns)}")
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    frame = frame[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    out = gpd.GeoDataFrame(
        {"id": frame["id"].astype(str), "zone": ""}, geometry=frame.geometry.values, crs=frame.crs
    )
    return out.to_crs(crs)


def assign_to_polygons(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, id_col: str = "id") -> pd.Series:
    """The id of the first polygon containing each point ('' where none does)."""
    joined = gpd.sjoin(points[["geometry"]], polygons[[id_col, "geometry"]], how="left", predicate="within")
    first = joined[~joined.index.duplicated(keep="first")][id_col]
    return first.reindex(points.index).fillna("").astype(str)


def build_grids(zones: gpd.GeoDataFrame, enterprises: gpd.GeoDataFrame, cfg: GridConfig) -> gpd.GeoDataFrame:
    """Grid polygons with ids G01, G02, ... holding at least ``min_enterprises`` enterprises each."""
    if cfg.layout == "file":
        cells = grids_from_file(str(cfg.path), zones.crs)
    else:
        if len(zones) == 0 and len(enterprises):  # enterprises from a file, no zones: cut their surroundings
            area = enterprises.geometry.union_all().convex_hull.buffer(200.0)
            zones = gpd.GeoDataFrame(
                {"name": ["enterprise area"], "kind": [""]}, geometry=[area], crs=enterprises.crs
            )
        cells = square_grids(zones, cfg.cell_m)
        cells["id"] = [f"cell{i}" for i in range(len(cells))]
    if len(cells) == 0:
        return gpd.GeoDataFrame(
            {"id": pd.Series(dtype=str), "zone": pd.Series(dtype=str), "n_enterprises": pd.Series(dtype=int)},
            geometry=[],
            crs=zones.crs,
        )
    counts = assign_to_polygons(enterprises, cells).value_counts()
    cells["n_enterprises"] = cells["id"].map(counts).fillna(0).astype(int)
    cells = cells[cells["n_enterprises"] >= cfg.min_enterprises].reset_index(drop=True)
    if cfg.layout != "file":
        width = max(2, len(str(len(cells))))
        cells["id"] = [f"G{i + 1:0{width}d}" for i in range(len(cells))]
    return cells[["id", "zone", "n_enterprises", "geometry"]]


def place_posts(grids: gpd.GeoDataFrame, enterprises: pd.DataFrame, router: Router) -> pd.DataFrame:
    """One post node per grid: the 1-median of its enterprises' nodes, weighted by workforce."""
    rows = []
    for grid_id in grids["id"]:
        members = enterprises[enterprises["grid"] == grid_id]
        candidates = np.unique(members["node"].to_numpy())
        times = router.times_from(candidates)[:, router.index(members["node"])]
        weighted = (times * members["workforce"].to_numpy(dtype=float)).sum(axis=1)
        rows.append({"grid": grid_id, "node": candidates[int(np.argmin(weighted))]})
    return pd.DataFrame(rows, columns=["grid", "node"])
