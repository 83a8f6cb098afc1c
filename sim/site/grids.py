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
from sim.site.csv_text import cell_text
from sim.site.routing import Router


def network_bounds_m(graph) -> tuple[float, float, float, float]:
    """(min x, min y, max x, max y) of the road nodes, projected metres: the frame grid ids count in."""
    xs = [x for _, x in graph.nodes(data="x")]
    ys = [y for _, y in graph.nodes(data="y")]
    return min(xs), min(ys), max(xs), max(ys)


def cell_id(row: int, col: int, width: int) -> str:
    """'R03C07': the cell's row counted from the north and its column counted from the west, 1-based."""
    return f"R{row:0{width}d}C{col:0{width}d}"


def square_grids(
    zones: gpd.GeoDataFrame, cell_m: float, bounds_m: tuple[float, float, float, float] | None = None
) -> gpd.GeoDataFrame:
    """Square cells (aligned to multiples of ``cell_m``) clipped to the union of the zones, with ids.

    A cell is named after the zone it overlaps most; small neighbouring zones share a cell. Ids are the
    cell's row and column counted from the north-west corner of ``bounds_m`` (the road network) joined with
    the zones, so a cell keeps its id when enterprises are added or removed elsewhere, and a planner can read
    it off the map.
    """
    if len(zones) == 0:
        return gpd.GeoDataFrame({"id": [], "zone": []}, geometry=[], crs=zones.crs)
    land = zones.geometry.union_all()
    minx, miny, maxx, maxy = land.bounds
    frame = land.bounds if bounds_m is None else bounds_m
    west = math.floor(min(minx, frame[0]) / cell_m)
    north = math.ceil(max(maxy, frame[3]) / cell_m)
    extent = max(
        north - math.floor(min(miny, frame[1]) / cell_m), math.ceil(max(maxx, frame[2]) / cell_m) - west
    )
    width = max(2, len(str(extent)))
    rows = []
    for j in range(math.floor(miny / cell_m), math.ceil(maxy / cell_m)):
        for i in range(math.floor(minx / cell_m), math.ceil(maxx / cell_m)):
            square = box(i * cell_m, j * cell_m, (i + 1) * cell_m, (j + 1) * cell_m)
            piece = land.intersection(square)
            if piece.is_empty or piece.area <= 1.0:
                continue
            overlap = zones.geometry.intersection(square).area.to_numpy()
            rows.append(
                {
                    "id": cell_id(north - j, i - west + 1, width),
                    "zone": zones["name"].iloc[int(overlap.argmax())],
                    "geometry": piece,
                }
            )
    return gpd.GeoDataFrame(rows, columns=["id", "zone", "geometry"], geometry="geometry", crs=zones.crs)


def read_grid_file(path_text: str) -> gpd.GeoDataFrame:
    """A planner's grid polygons (id, zone, geometry), in the file's CRS; their ``id`` is kept as written,
    since posts in the facilities file name grids by it. Read before any road is loaded."""
    path = Path(path_text).expanduser()
    if path.is_dir():
        raise ConfigError(f"grid.path: {path} is a folder; give the .geojson file inside it")
    if not path.is_file():
        raise ConfigError(f"grid.path: file not found: {path}")
    try:
        frame = gpd.read_file(path)
    except Exception as err:
        raise SiteError(f"{path}: cannot read grids ({' '.join(str(err).split())[:160]})") from None
    if "id" not in frame.columns:
        raise SiteError(f"{path}: grids need an 'id' property on every polygon; found {list(frame.columns)}")
    ids = [cell_text(v) for v in frame["id"]]
    problems = _grid_file_problems(ids, list(frame.geometry))
    if len(frame) == 0:
        problems.append("no grid polygons in it")
    if problems:
        head = problems[0] if len(problems) == 1 else f"{len(problems)} problems in the grid file"
        raise SiteError(f"{path}: {head}", problems if len(problems) > 1 else [])
    out = gpd.GeoDataFrame({"id": ids, "zone": ""}, geometry=frame.geometry.values, crs=frame.crs)
    return out.set_crs("EPSG:4326") if out.crs is None else out


def _grid_file_problems(ids: list[str], shapes: list) -> list[str]:
    """Every polygon needs an id of its own (posts name grids by it) and must be a polygon."""
    problems = []
    for k, (grid_id, shape) in enumerate(zip(ids, shapes, strict=True)):
        if not grid_id:
            problems.append(f"feature {k + 1}: id is empty; every grid needs one")
        if shape is None or shape.geom_type not in ("Polygon", "MultiPolygon"):
            kind = "no geometry" if shape is None else f"a {shape.geom_type}"
            problems.append(f"feature {k + 1} ({grid_id}): {kind}; a grid is a Polygon or MultiPolygon")
    for grid_id in sorted({i for i in ids if i and ids.count(i) > 1}):
        features = [str(k + 1) for k, i in enumerate(ids) if i == grid_id]
        problems.append(
            f"id {grid_id!r} is used by features {', '.join(features)}; one feature per grid "
            "(merge the parts into one MultiPolygon)"
        )
    return problems


def assign_to_polygons(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, id_col: str = "id") -> pd.Series:
    """The id of the first polygon containing each point ('' where none does)."""
    joined = gpd.sjoin(points[["geometry"]], polygons[[id_col, "geometry"]], how="left", predicate="within")
    first = joined[~joined.index.duplicated(keep="first")][id_col]
    return first.reindex(points.index).fillna("").astype(str)


def grid_land(zones: gpd.GeoDataFrame, enterprises: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The land that generated grids cut: the zones, or, when enterprises come from a file and the site has
    no zones, their convex hull buffered 200 m (one zone named "enterprise area")."""
    if len(zones) == 0 and len(enterprises):
        area = enterprises.geometry.union_all().convex_hull.buffer(200.0)
        return gpd.GeoDataFrame(
            {"name": ["enterprise area"], "kind": [""]}, geometry=[area], crs=enterprises.crs
        )
    return zones


def build_grids(
    zones: gpd.GeoDataFrame,
    enterprises: gpd.GeoDataFrame,
    cfg: GridConfig,
    bounds_m: tuple[float, float, float, float] | None = None,
    grid_file: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Grid polygons holding at least ``min_enterprises`` enterprises each: the planner's ``grid_file``
    (ids as written) or square cells (ids R<row>C<column>, see ``square_grids``)."""
    if cfg.layout == "file":
        if grid_file is None:
            grid_file = read_grid_file(str(cfg.path))
        cells = grid_file.to_crs(zones.crs)
    else:
        zones = grid_land(zones, enterprises)
        cells = square_grids(zones, cfg.cell_m, bounds_m)
    if len(cells) == 0:
        return gpd.GeoDataFrame(
            {"id": pd.Series(dtype=str), "zone": pd.Series(dtype=str), "n_enterprises": pd.Series(dtype=int)},
            geometry=[],
            crs=zones.crs,
        )
    counts = assign_to_polygons(enterprises, cells).value_counts()
    cells["n_enterprises"] = cells["id"].map(counts).fillna(0).astype(int)
    cells = cells[cells["n_enterprises"] >= cfg.min_enterprises].reset_index(drop=True)
    return cells[["id", "zone", "n_enterprises", "geometry"]]


def place_posts(grids: gpd.GeoDataFrame, enterprises: pd.DataFrame, router: Router) -> pd.DataFrame:
    """One post node per grid: the 1-median of its enterprises' nodes, weighted by workforce."""
    members = [enterprises[enterprises["grid"] == grid_id] for grid_id in grids["id"]]
    candidates = [np.unique(m["node"].to_numpy()) for m in members]
    # Every grid's candidates in one batched, bounded search (a grid's times lie within the grid).
    times = router.times_to_targets(
        [c for cands in candidates for c in cands],
        [m["node"].to_numpy() for m, cands in zip(members, candidates, strict=True) for _ in cands],
    )
    rows, start = [], 0
    for grid_id, m, cands in zip(grids["id"], members, candidates, strict=True):
        table = np.array(times[start : start + len(cands)], dtype=float).reshape(len(cands), len(m))
        start += len(cands)
        weighted = (table * m["workforce"].to_numpy(dtype=float)).sum(axis=1)
        rows.append({"grid": grid_id, "node": cands[int(np.argmin(weighted))]})
    return pd.DataFrame(rows, columns=["grid", "node"])
