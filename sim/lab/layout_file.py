"""A planner's grid layout drawn in a GIS tool, read into a ``Layout``; and any layout written for one.

What a planner may give (any CRS; a file without one is read as WGS84):

- a GeoPackage with a layer ``grids`` (polygons with an ``id``; optional ``zone`` and ``echelons``) and,
  optionally, a layer ``posts`` (points with ``grid``, the id of the grid the post serves; optional ``id``
  and ``echelons``, the number of teams waiting there, a whole number 1 or more);
- a GeoJSON of grid polygons, which may carry the posts as Point features in the same FeatureCollection;
- either of these with the posts in a separate file (``posts_path``, a GeoJSON or GeoPackage of points).

Ids are kept as written (Chinese too; a number becomes its text: 7, not 7.0), since posts name grids by them.
Posts are snapped to the nearest road node; a grid without a post gets one at the 1-median of its
enterprises. The whole file is checked before anything is built, and every problem in it is reported at
once, each naming the file, the feature (or layer) and the field, and what is allowed.

``write_layout`` writes a layout as a GeoPackage (layers grids, posts and, if given, reach; the site's CRS)
and as two GeoJSON files in WGS84 (RFC 7946), which QGIS opens and ``read_layout_file`` reads back to the
same layout. It never overwrites a file.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import box

from sim.errors import SiteError
from sim.lab.layout import Layout, make_layout, posts_at_points
from sim.site.csv_text import cell_text
from sim.site.grids import _grid_file_problems, assign_to_polygons
from sim.site.site import Site

WGS84 = "EPSG:4326"
GRIDS_LAYER = "grids"
POSTS_LAYER = "posts"
REACH_LAYER = "reach"
LAYERED_SUFFIXES = (".gpkg",)
SHOWN = 25  # problems listed under the error line; the rest are counted
ECHELONS_ALLOWED = "a whole number of teams, 1 or more"
POLYGONS = ("Polygon", "MultiPolygon")
_STAND_IN = box(0.0, 0.0, 1.0, 1.0)  # a post's place in the grid checks, so they number features as the file


@dataclass
class _Part:
    """One layer read from a file: its features (file CRS, columns lower case) and how to name them."""

    path: Path
    layer: str | None  # None for a one-layer file (GeoJSON)
    frame: gpd.GeoDataFrame
    own_file: bool = True  # False when the posts come from a file other than the grids'
    numbers: list[int] = field(default_factory=list)  # 1-based feature numbers as the file counts them

    def where(self, k: int) -> str:
        """'feature 3', "layer 'posts' feature 3" or '/path/posts.geojson feature 3' for row ``k``."""
        text = f"feature {self.numbers[k]}"
        if self.layer is not None:
            text = f"layer {self.layer!r} {text}"
        return text if self.own_file else f"{self.path} {text}"


def read_layout_file(
    site: Site,
    path: str | os.PathLike,
    name: str | None = None,
    echelons: int = 1,
    posts_path: str | os.PathLike | None = None,
) -> Layout:
    """A planner's layout: grid polygons and their posts from a GeoPackage or GeoJSON (see module doc).

    ``echelons`` is the number of teams at a post whose file gives none (and at posts placed at a 1-median
    where the grid gives none). The name defaults to the file's stem (``<name>_grids`` read as ``<name>``,
    as ``write_layout`` names it)."""
    path = _existing_file(path, "layout")
    grid_part, post_parts = _read_layout_parts(path)
    if posts_path is not None:
        other = _existing_file(posts_path, "posts")
        if other.resolve() != path.resolve():  # the layout file's own posts are read already
            post_parts.append(_read_posts_file(other))
    problems, grids, posts, grid_echelons = _checked(grid_part, post_parts, echelons)
    if problems:
        if len(problems) == 1:
            raise SiteError(f"{path}: {problems[0]}")
        shown = problems[:SHOWN] + (
            [f"... and {len(problems) - SHOWN} more"] if len(problems) > SHOWN else []
        )
        raise SiteError(f"{path}: {len(problems)} problems in the layout", shown)

    stem = path.stem
    name = name if name is not None else (stem[: -len("_grids")] if stem.endswith("_grids") else stem)
    source = f"a planner's file, {path}" + (
        f", with posts from {posts_path}" if posts_path is not None else ""
    )
    placed = (
        posts_at_points(site, posts["grid"], posts.geometry, ids=posts["id"], echelons=posts["echelons"])
        if len(posts)
        else None
    )
    layout = make_layout(site, name, source, grids, placed, echelons=echelons, keep_empty=True)
    return _note_median_posts(layout, set(posts["grid"]), grid_echelons)


def _existing_file(path_text: str | os.PathLike, what: str) -> Path:
    path = Path(path_text).expanduser()
    if path.is_dir():
        raise SiteError(f"{path}: is a folder; give the {what} file inside it (.gpkg or .geojson)")
    if not path.is_file():
        raise SiteError(f"{path}: {what} file not found")
    return path


def _layers(path: Path) -> list[str]:
    try:
        return [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as err:
        raise SiteError(
            f"{path}: cannot read the layout ({_short(err)}); give a GeoPackage or GeoJSON"
        ) from None


def _short(err: Exception) -> str:
    return " ".join(str(err).split())[:160]


def _read_layer(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """The features of one layer, in the file's CRS (WGS84 if it has none), column names lower case."""
    try:
        with warnings.catch_warnings():  # GDAL's remarks on a column it reads as text are not the user's
            warnings.simplefilter("ignore")
            frame = gpd.read_file(path, layer=layer) if layer is not None else gpd.read_file(path)
    except Exception as err:
        what = f"layer {layer!r}" if layer is not None else "the layout"
        raise SiteError(f"{path}: cannot read {what} ({_short(err)})") from None
    if frame.crs is None:
        frame = frame.set_crs(WGS84)
    names = [c if c == frame.geometry.name else str(c).strip().lower() for c in frame.columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        where = f"layer {layer!r}: " if layer is not None else ""
        raise SiteError(
            f"{path}: {where}property {', '.join(twice)} appears more than once; keep one of each"
        )
    frame.columns = names
    return frame.reset_index(drop=True)


def _find_layer(layers: list[str], wanted: str) -> str | None:
    return next((name for name in layers if name.strip().lower() == wanted), None)


def _read_layout_parts(path: Path) -> tuple[_Part, list[_Part]]:
    """The grids and the posts of the layout file: two layers of a GeoPackage, or the polygons and the points
    of one GeoJSON."""
    layers = _layers(path)
    if path.suffix.lower() in LAYERED_SUFFIXES or len(layers) > 1:
        grids_layer = _find_layer(layers, GRIDS_LAYER)
        if grids_layer is None and len(layers) == 1:  # a planner's one layer, whatever QGIS named it
            grids_layer = layers[0]
        if grids_layer is None:
            raise SiteError(
                f"{path}: no layer {GRIDS_LAYER!r}; a layout GeoPackage needs a layer 'grids' of polygons "
                f"(and may have a layer 'posts' of points); its layers: {', '.join(layers) or 'none'}"
            )
        grids = _read_layer(path, grids_layer)
        grid_part = _Part(path, grids_layer, grids, numbers=list(range(1, len(grids) + 1)))
        posts_layer = _find_layer(layers, POSTS_LAYER)
        if posts_layer is None:
            return grid_part, []
        posts = _read_layer(path, posts_layer)
        return grid_part, [_Part(path, posts_layer, posts, numbers=list(range(1, len(posts) + 1)))]
    frame = _read_layer(path, None)
    if "id" not in frame.columns:
        ids = _feature_ids(path, len(frame))
        if ids is not None:
            frame.insert(0, "id", ids)
    is_post = [_is_post(row) for row in frame.to_dict("records")] if len(frame) else []
    numbers = np.arange(1, len(frame) + 1)
    mask = np.asarray(is_post, dtype=bool)
    grid_part = _Part(path, None, frame, numbers=numbers.tolist())  # all features: numbering as the file
    post_frame = frame[mask].reset_index(drop=True)
    posts = [_Part(path, None, post_frame, numbers=numbers[mask].tolist())] if mask.any() else []
    grid_part.frame = frame.assign(_post=mask)
    return grid_part, posts


def _feature_ids(path: Path, n: int) -> list[str] | None:
    """The features' own ``id`` members of a GeoJSON without an ``id`` property (GDAL reads a number there
    as the feature number, not as a property), or None if it has none."""
    try:
        features = json.loads(path.read_bytes()).get("features")
    except (ValueError, AttributeError, OSError):
        return None
    if not isinstance(features, list) or len(features) != n:
        return None
    if not any(isinstance(f, dict) and "id" in f for f in features):
        return None
    return [cell_text(f.get("id")) if isinstance(f, dict) else "" for f in features]


def _is_post(row: dict) -> bool:
    """In a GeoJSON of grids, a Point is a post; so is any feature that is not a polygon but names a grid."""
    shape = row.get("geometry")
    kind = None if shape is None else shape.geom_type
    return kind == "Point" or (kind not in POLYGONS and bool(cell_text(row.get("grid"))))


def _read_posts_file(path: Path) -> _Part:
    """Post points from a separate file: its layer 'posts', or its only layer."""
    layers = _layers(path)
    layer = _find_layer(layers, POSTS_LAYER)
    if layer is None and len(layers) != 1:
        raise SiteError(
            f"{path}: no layer {POSTS_LAYER!r}; a posts file has one layer of points, or a layer 'posts'; "
            f"its layers: {', '.join(layers) or 'none'}"
        )
    if layer is None and path.suffix.lower() in LAYERED_SUFFIXES:
        layer = layers[0]
    frame = _read_layer(path, layer)
    return _Part(path, layer, frame, own_file=False, numbers=list(range(1, len(frame) + 1)))


def _echelons(value, default: int) -> tuple[int, str]:
    """(echelons, '') when allowed (``default`` when blank), else (0, what is wrong)."""
    text = cell_text(value)
    if not text:
        return default, ""
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not number.is_integer() or number < 1:
        return 0, f"echelons {text!r} is not allowed; allowed: {ECHELONS_ALLOWED}"
    return int(number), ""


def _checked(
    grid_part: _Part, post_parts: list[_Part], echelons: int
) -> tuple[list[str], gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, int]]:
    """Every problem of the grids and posts, and (when there are none) the grids (id, zone, geometry; the
    file's CRS), the posts (id, grid, echelons, geometry) and the echelons the grids themselves give."""
    problems: list[str] = []
    frame = grid_part.frame
    is_post = frame["_post"].to_numpy(dtype=bool) if "_post" in frame.columns else np.zeros(len(frame), bool)
    where = f"layer {grid_part.layer!r}: " if grid_part.layer is not None else ""
    if "id" not in frame.columns:
        found = [c for c in frame.columns if c not in (frame.geometry.name, "_post")]
        found_text = ", ".join(found) or "no properties"
        problems.append(f"{where}grids need an 'id' property on every polygon; found {found_text}")
        ids = [""] * len(frame)
    else:
        ids = [cell_text(v) for v in frame["id"]]
    shapes = list(frame.geometry)
    if "id" in frame.columns:
        # the site's own grid checks (an id each, one feature per id, polygons); a post stands in as a
        # polygon of its own so that feature numbers stay as the file counts them
        check_ids = [f"\0post {k}" if post else ids[k] for k, post in enumerate(is_post)]
        check_shapes = [_STAND_IN if post else shapes[k] for k, post in enumerate(is_post)]
        problems += [where + p for p in _grid_file_problems(check_ids, check_shapes)]
    if not (~is_post).any():
        problems.append(f"{where}no grid polygons in it")
    grid_rows = np.flatnonzero(~is_post)
    grid_ids = [ids[k] for k in grid_rows]
    known = set(grid_ids) - {""}

    for k in grid_rows:
        shape = shapes[k]
        if shape is not None and shape.geom_type in POLYGONS and _valid(shape).area <= 0:
            problems.append(f"{grid_part.where(k)} ({ids[k]}): the polygon has no area; a grid covers land")

    grid_echelons: dict[str, int] = {}
    if "echelons" in frame.columns:
        for k in grid_rows:
            count, problem = _echelons(frame["echelons"].iloc[k], 0)
            if problem:
                problems.append(f"{grid_part.where(k)} ({ids[k]}): {problem}")
            elif count:
                grid_echelons[ids[k]] = count

    rows = []
    for part in post_parts:
        post_frame = part.frame.to_crs(frame.crs)
        for k, row in enumerate(post_frame.to_dict("records")):
            post_id, grid = cell_text(row.get("id")), cell_text(row.get("grid"))
            label = f"{part.where(k)} (post {post_id})" if post_id else part.where(k)
            shape = row.get(post_frame.geometry.name)
            mine = []
            if shape is None or shape.is_empty:
                mine.append("no geometry; a post is a Point")
            elif shape.geom_type != "Point":
                mine.append(f"a {shape.geom_type}; a post is a Point")
            if not grid:
                mine.append("no 'grid' property; a post names the id of the grid it serves in 'grid'")
            elif known and grid not in known:
                listed = sorted(known)
                more = f" and {len(listed) - 10} more" if len(listed) > 10 else ""
                mine.append(
                    f"grid {grid!r} is not a grid of the layout; grids: {', '.join(listed[:10])}{more}"
                )
            count, problem = _echelons(row.get("echelons"), echelons)
            mine += [problem] if problem else []
            problems += [f"{label}: {p}" for p in mine]
            rows.append({"id": post_id, "grid": grid, "echelons": count, "geometry": shape, "where": label})
    problems += _repeated(rows, "id", "post id {!r} is used by {}; one id per post")
    problems += _repeated(
        rows,
        "grid",
        "grid {!r} has posts in {}; one post per grid (give it echelons: 2 or more for more teams)",
    )
    grids = gpd.GeoDataFrame(
        {
            "id": grid_ids,
            "zone": [cell_text(frame["zone"].iloc[k]) for k in grid_rows] if "zone" in frame.columns else "",
        },
        geometry=[_valid(shapes[k]) if not problems else shapes[k] for k in grid_rows],
        crs=frame.crs,
    )
    posts = gpd.GeoDataFrame(
        {
            "id": pd.Series([r["id"] or f"P-{r['grid']}" for r in rows], dtype=str),
            "grid": pd.Series([r["grid"] for r in rows], dtype=str),
            "echelons": pd.Series([int(r["echelons"]) for r in rows], dtype=int),
        },
        geometry=gpd.GeoSeries([r["geometry"] for r in rows], crs=frame.crs),
        crs=frame.crs,
    )
    return problems, grids, posts, grid_echelons


def _repeated(rows: list[dict], key: str, text: str) -> list[str]:
    """A problem for each value of ``key`` that more than one post gives, naming where."""
    values = [r[key] for r in rows]
    return [
        text.format(value, ", ".join(r["where"] for r in rows if r[key] == value))
        for value in sorted({v for v in values if v and values.count(v) > 1})
    ]


def _valid(shape):
    """A drawn polygon as a valid one (a self-touching ring from a GIS tool is mended, its area kept); an
    empty polygon when nothing of it has an area."""
    if shape.is_valid:
        return shape
    mended = shapely.make_valid(shape)
    parts = [g for g in getattr(mended, "geoms", [mended]) if g.geom_type in POLYGONS]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _note_median_posts(layout: Layout, given: set[str], grid_echelons: dict[str, int]) -> Layout:
    """Posts placed at a 1-median take the echelons their grid gives; the warnings say which were placed."""
    posts = layout.posts.copy()
    placed = ~posts["grid"].isin(given)
    for k in np.flatnonzero(placed.to_numpy()):
        grid = posts["grid"].iloc[k]
        if grid in grid_echelons:
            posts.iloc[k, posts.columns.get_loc("echelons")] = grid_echelons[grid]
    notes = []
    if placed.any() and not given:
        notes.append("no posts in the file: every grid's post is placed at the 1-median of its enterprises")
    elif placed.any():
        notes += [
            f"grid {g}: no post in the file; placed at the 1-median of its enterprises (road node {n})"
            for g, n in zip(posts["grid"][placed], posts["node"][placed], strict=True)
        ]
    return replace(layout, posts=posts).with_warnings(notes)


# ---------------------------------------------------------------------------------------------- writing


def file_stem(name: str) -> str:
    """A layout name as a file name: characters no file system allows become '_' (Chinese stays)."""
    stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip().strip(".")
    return stem or "layout"


def write_layout(
    layout: Layout, folder: str | os.PathLike, reach: gpd.GeoDataFrame | None = None, site: Site | None = None
) -> list[Path]:
    """Write ``<name>.gpkg`` (layers grids, posts and, if given, reach; the site's CRS) and
    ``<name>_grids.geojson`` and ``<name>_posts.geojson`` (WGS84, RFC 7946) into an existing folder.

    Grids carry id, zone, n_enterprises (when the site is given) and the echelons of their post; posts carry
    id, grid, echelons, node and snap_m. ``reach`` is a frame of reach polygons (grid or post, threshold_s,
    geometry). No file is overwritten: if one of the three exists, nothing is written. Returns the paths."""
    out = Path(folder).expanduser()
    if not out.is_dir():
        raise SiteError(f"{out}: not a folder; write_layout writes into an existing folder")
    stem = file_stem(layout.name)
    targets = [out / f"{stem}.gpkg", out / f"{stem}_grids.geojson", out / f"{stem}_posts.geojson"]
    taken = [p.name for p in targets if p.exists()]
    if taken:
        raise SiteError(
            f"{out}: {', '.join(taken)} already there; not overwritten (give the layout another name)"
        )
    if reach is not None and not isinstance(reach, gpd.GeoDataFrame):
        raise SiteError(f"reach for layout {layout.name!r}: a GeoDataFrame of polygons is needed")
    grids, posts = _grid_table(layout, site), _post_table(layout)

    token = f"{os.getpid()}-{os.urandom(3).hex()}"
    temps = [
        out / f".{stem}.{token}.part.gpkg",
        out / f".{stem}_grids.{token}.part",
        out / f".{stem}_posts.{token}.part",
    ]
    made: list[Path] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL on the temporary names' extensions
            grids.to_file(temps[0], layer=GRIDS_LAYER, driver="GPKG")
            posts.to_file(temps[0], layer=POSTS_LAYER, driver="GPKG", geometry_type="Point")
            if reach is not None:
                reach.to_crs(grids.crs).to_file(temps[0], layer=REACH_LAYER, driver="GPKG")
            for temp, frame, layer in (
                (temps[1], grids, f"{stem}_grids"),
                (temps[2], posts, f"{stem}_posts"),
            ):
                frame.to_crs(WGS84).to_file(
                    temp, layer=layer, driver="GeoJSON", layer_options={"RFC7946": "YES"}
                )
        for temp, target in zip(temps, targets, strict=True):
            try:
                os.link(temp, target)  # unlike a rename, refuses to replace a file that appeared meanwhile
            except FileExistsError:
                raise SiteError(f"{target}: appeared while writing the layout; not overwritten") from None
            made.append(target)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        for target in made:
            target.unlink(missing_ok=True)
        raise SiteError(f"{out}: cannot write layout {layout.name!r} ({_short(err)})") from None
    except BaseException:
        for target in made:
            target.unlink(missing_ok=True)
        raise
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
    return targets


def _grid_table(layout: Layout, site: Site | None) -> gpd.GeoDataFrame:
    grids = layout.grids
    columns: dict = {"id": grids["id"].astype(str).to_numpy(), "zone": grids["zone"].astype(str).to_numpy()}
    if site is not None:
        counts = assign_to_polygons(site.enterprises, grids).value_counts() if len(grids) else pd.Series()
        columns["n_enterprises"] = grids["id"].map(counts).fillna(0).astype(int).to_numpy()
    per_grid = layout.posts.groupby("grid")["echelons"].sum() if len(layout.posts) else pd.Series(dtype=int)
    columns["echelons"] = pd.array(grids["id"].map(per_grid).to_numpy(), dtype="Int64")  # blank: no post
    return gpd.GeoDataFrame(columns, geometry=grids.geometry.values, crs=grids.crs)


def _post_table(layout: Layout) -> gpd.GeoDataFrame:
    posts = layout.posts
    return gpd.GeoDataFrame(
        {
            "id": posts["id"].astype(str).to_numpy(),
            "grid": posts["grid"].astype(str).to_numpy(),
            "echelons": posts["echelons"].astype(int).to_numpy(),
            "node": posts["node"].astype(np.int64).to_numpy(),
            "snap_m": posts["snap_m"].astype(float).to_numpy(),
        },
        geometry=posts.geometry.values,
        crs=layout.grids.crs if posts.crs is None else posts.crs,
    )
