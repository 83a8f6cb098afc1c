"""A user's own enterprises, police and fire stations, posts and drone nests, from a GeoJSON or CSV file.

One row per facility with a ``role`` (enterprise, station, fire_station, post, nest) and a ``name``;
position from the GeoJSON geometry or the CSV's ``lon``/``lat`` columns (WGS84). Enterprise attributes a row
leaves out (workforce, guards, terminal, risk) are drawn as for generated enterprises, from the seed.

The whole file is checked before any road is loaded, and every problem in it is reported at once, each
naming the row a spreadsheet shows (the header is row 1), the facility, the column and what is allowed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from sim.config import EnterprisesConfig
from sim.errors import ConfigError, SiteError
from sim.site.csv_text import cell_text as _text
from sim.site.csv_text import read_csv_rows
from sim.site.enterprises import ENTERPRISE_COLUMNS, SHIFTS, enterprise_attributes

ROLES = ("enterprise", "station", "fire_station", "post", "nest")
POINT_ROLES = {
    "station": "a police station",
    "fire_station": "a fire station",
    "post": "a post",
    "nest": "a nest",
}
AREA_TYPES = ("Point", "Polygon", "MultiPolygon")  # an enterprise may be drawn as its footprint
UNIQUE_NAMES = {"enterprise": "enterprise", "station": "police station", "fire_station": "fire station"}
GEO_SUFFIXES = (".geojson", ".json", ".gpkg")
WGS84 = "EPSG:4326"
SHOWN = 25  # problems listed under the error line; the rest are counted
TRUE_WORDS = {"true", "yes", "y", "t", "1", "是", "有"}
FALSE_WORDS = {"false", "no", "n", "f", "0", "否", "无"}


@dataclass(frozen=True)
class Number:
    """A numeric column: the range a value must lie in and how to say so to a planner."""

    low: float
    high: float
    allowed: str
    whole: bool = False
    outside: str = "is out of range"


POSITION = {
    "lon": Number(
        -180, 180, "a longitude in decimal degrees (WGS84), -180 to 180", outside="is outside WGS84 range"
    ),
    "lat": Number(
        -90, 90, "a latitude in decimal degrees (WGS84), -90 to 90", outside="is outside WGS84 range"
    ),
}
ENTERPRISE_NUMBERS = {
    "workforce": Number(0, math.inf, "a whole number of people, 0 or more", whole=True),
    **{
        f"guards_{s}": Number(
            0, math.inf, f"a whole number of guards on duty ({s} shift), 0 or more", whole=True
        )
        for s in SHIFTS
    },
    "terminal_online_p": Number(0, 1, "a probability from 0 to 1 (write 0.85 for 85%)"),
}


def _number(column: str, value, spec: Number) -> tuple[float, str]:
    """(value, '') when ``value`` is allowed (NaN when blank), else (NaN, what is wrong with it)."""
    text = _text(value)
    if not text:
        return math.nan, ""
    try:
        number = float(text)
    except ValueError:
        return math.nan, f"{column} {text!r} is not a number; allowed: {spec.allowed}"
    if not math.isfinite(number):
        return math.nan, f"{column} {text!r} is not a number; allowed: {spec.allowed}"
    if not spec.low <= number <= spec.high:
        return math.nan, f"{column} {text} {spec.outside}; allowed: {spec.allowed}"
    if spec.whole and not number.is_integer():
        return math.nan, f"{column} {text} is not a whole number; allowed: {spec.allowed}"
    return number, ""


def _facilities_path(path_text: str) -> Path:
    """The file, refused in one line if it is missing, a folder or of a type that cannot be read."""
    path = Path(path_text).expanduser()
    if path.is_dir():
        raise ConfigError(f"site.facilities: {path} is a folder; give the .csv or .geojson file inside it")
    if not path.is_file():
        raise ConfigError(f"site.facilities: file not found: {path}")
    if path.suffix.lower() not in (".csv", *GEO_SUFFIXES):
        raise ConfigError(
            f"site.facilities: unsupported file type '{path.name}'; allowed: .csv, .geojson (or .json, .gpkg)"
        )
    return path


def _csv_table(path: Path) -> pd.DataFrame:
    """The CSV as text cells, with ``source_row`` naming each row as a spreadsheet numbers it."""
    csv = read_csv_rows(path)
    width = len(csv.header)
    if csv.rows and all(any(cell.strip() for cell in row[width:]) for row in csv.rows):
        raise SiteError(
            f"{path} row {csv.header_line}: the header has {width} cell(s) but every row has more; the first "
            "line must name the columns (role,name,lon,lat,...), not hold a title"
        )
    problems = [
        f"row {line}: {len(row)} cells but the header has {width} (an unquoted comma in a name?)"
        for row, line in zip(csv.rows, csv.lines, strict=True)
        if any(cell.strip() for cell in row[width:])
    ]
    if problems:
        raise _file_problems(path, problems)
    _refuse_repeated_columns(path, csv.header)
    cells = [(row + [""] * width)[:width] for row in csv.rows]
    table = pd.DataFrame(cells, columns=csv.header, dtype=object)
    table = table.loc[:, [c for c in table.columns if c]]  # cells under an unnamed column are not read
    table["source_row"] = [f"row {line}" for line in csv.lines]
    return table


def _geo_table(path: Path) -> gpd.GeoDataFrame:
    """The GeoJSON (or GeoPackage) features in WGS84, with ``source_row`` naming each as 'feature N'."""
    try:
        frame = gpd.read_file(path)
    except Exception as err:
        raise SiteError(f"{path}: cannot read facilities ({' '.join(str(err).split())[:160]})") from None
    frame = frame.set_crs(WGS84) if frame.crs is None else frame.to_crs(WGS84)
    names = [c if c == "geometry" else str(c).strip().lower() for c in frame.columns]
    _refuse_repeated_columns(path, names)
    frame.columns = names
    frame["source_row"] = [f"feature {i + 1}" for i in range(len(frame))]
    return frame


def _refuse_repeated_columns(path: Path, names: list[str]) -> None:
    """Two columns of one name (after trimming and lower case): which one holds the value is a guess."""
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        raise SiteError(f"{path}: column(s) {', '.join(twice)} appear more than once; keep one of each")


def _require_columns(path: Path, table: pd.DataFrame, is_csv: bool) -> None:
    """role and name always; lon and lat in a CSV. Names the columns found: a typo is the usual cause."""
    needed = ["role", "name", *(["lon", "lat"] if is_csv else [])]
    missing = [c for c in needed if c not in table.columns]
    if not missing:
        return
    found = [c for c in table.columns if c not in ("source_row", "geometry")]
    hint = ""
    if is_csv and len(found) == 1 and (";" in found[0] or "\t" in found[0]):
        hint = " (the columns look separated by ';' or tabs: save it with commas)"
    raise SiteError(
        f"{path}: a facilities {'CSV' if is_csv else 'file'} needs columns {', '.join(needed)}; missing "
        f"{', '.join(missing)}; found {', '.join(found) or 'none'}{hint}"
    )


def _role(value) -> str:
    """'Fire station', 'fire-station' and 'fire_station' are one role."""
    return _text(value).lower().replace(" ", "_").replace("-", "_")


def _csv_position(row: dict) -> tuple[Point | None, list[str]]:
    """The point of a CSV row, or the problems with its lon/lat (a swapped pair is pointed out)."""
    lon, lon_problem = _number("lon", row["lon"], POSITION["lon"])
    lat, lat_problem = _number("lat", row["lat"], POSITION["lat"])
    _, not_even_lon = _number("lat", row["lat"], POSITION["lon"])
    if lat_problem and not not_even_lon and not lon_problem and abs(lon) <= 90:
        lat_problem += " (lon and lat swapped?)"
    problems = [p for p in (lon_problem, lat_problem) if p]
    if problems:
        return None, problems
    if math.isnan(lon) or math.isnan(lat):
        return None, ["no position: lon and lat must both be given"]
    return Point(lon, lat), []


def _geo_position(row: dict, role: str) -> tuple[Point | None, list[str]]:
    """The point of a feature: posts, stations and nests are points; an enterprise may be its footprint."""
    geom = row["geometry"]
    if geom is None or geom.is_empty:
        return None, ["no position (the feature has no geometry)"]
    allowed = ("Point",) if role in POINT_ROLES else AREA_TYPES
    if role in ROLES and geom.geom_type not in allowed:
        what = POINT_ROLES.get(role, "an enterprise")
        return None, [f"geometry is a {geom.geom_type}; {what} needs {' or '.join(allowed)}"]
    point = geom if geom.geom_type == "Point" else geom.representative_point()
    if not np.isfinite([point.x, point.y]).all():
        return None, ["no position (the geometry has no finite coordinates)"]
    if not (-180 <= point.x <= 180 and -90 <= point.y <= 90):
        return None, [f"lon/lat ({point.x}, {point.y}) is outside WGS84 range"]
    return point, []


def _flag(value) -> tuple[object, str]:
    """hazmat as True/False (None when blank), or what is wrong with it."""
    text = _text(value).lower()
    if not text:
        return None, ""
    if text in TRUE_WORDS or text in FALSE_WORDS:
        return text in TRUE_WORDS, ""
    return None, f"hazmat {_text(value)!r} is not allowed; allowed: true/false, yes/no, 1/0, 是/否"


def _enterprise_values(row: dict, cfg: EnterprisesConfig) -> tuple[dict, list[str]]:
    """An enterprise row's attributes, converted, and the problems with those that are not allowed."""
    values: dict = {}
    problems: list[str] = []
    for column, spec in ENTERPRISE_NUMBERS.items():
        if column in row:
            values[column], problem = _number(column, row[column], spec)
            problems += [problem] if problem else []
    if "kind" in row:
        values["kind"] = _text(row["kind"]).lower() or None
        if values["kind"] and values["kind"] not in cfg.kinds:
            problems.append(f"kind {values['kind']!r} is not defined; allowed: {', '.join(cfg.kinds)}")
    if "risk" in row:
        risks = sorted({r for spec in cfg.kinds.values() for r in spec.risk_weights})
        values["risk"] = _text(row["risk"]).lower() or None
        if values["risk"] and values["risk"] not in risks:
            problems.append(f"risk {_text(row['risk'])!r} is not allowed; allowed: {', '.join(risks)}")
    if "hazmat" in row:
        values["hazmat"], problem = _flag(row["hazmat"])
        problems += [problem] if problem else []
    if "id" in row and not _text(row["id"]):
        problems.append("id is empty; give every enterprise an id, or leave the id column out")
    return values, problems


def _row_problems(table: pd.DataFrame, cfg: EnterprisesConfig, is_csv: bool) -> tuple[list[dict], list[str]]:
    """Every row checked and converted: (clean rows, problems each naming the row and the facility)."""
    clean, problems = [], []
    for row in table.to_dict("records"):
        name, role = _text(row["name"]), _role(row["role"])
        where = f"{row['source_row']} ({name})" if name else row["source_row"]
        mine = [] if name else ["name is empty; every facility needs one"]
        if not role:
            mine.append(f"role is empty; allowed: {', '.join(ROLES)}")
        elif role not in ROLES:
            mine.append(f"role {_text(row['role'])!r} is not one of {', '.join(ROLES)}")
        point, position_problems = _csv_position(row) if is_csv else _geo_position(row, role)
        mine += position_problems
        values: dict = {}
        if role == "enterprise":
            values, enterprise_problems = _enterprise_values(row, cfg)
            mine += enterprise_problems
        if role == "post" and "grid" in row and not _text(row["grid"]):
            mine.append("grid is empty; a post names the grid it serves (an id from site.gpkg's grids layer)")
        problems += [f"{where}: {p}" for p in mine]
        text_columns = {c: _text(row[c]) for c in ("grid", "zone", "id") if c in row}
        clean.append({**row, **text_columns, **values, "role": role, "name": name, "geometry": point})
    return clean, problems


def _listed(labels: list[str]) -> str:
    """'row 3 and row 7', 'row 3, row 7 and row 9'."""
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"


def _duplicate_problems(rows: list[dict]) -> list[str]:
    """Names a reader tells facilities apart by, ids the model keys on, and one post per grid."""
    problems = []
    seen: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for row in rows:
        if row["role"] in UNIQUE_NAMES and row["name"]:
            seen[("name", row["role"], row["name"])].append(row["source_row"])
        if row["role"] == "enterprise" and row.get("id"):
            seen[("id", "enterprise", row["id"])].append(row["source_row"])
    for (what, role, value), labels in seen.items():
        if len(labels) > 1:
            problems.append(
                f"{UNIQUE_NAMES[role]} {what} {value!r} is used {len(labels)} times, on {_listed(labels)}; "
                f"each {UNIQUE_NAMES[role]} needs its own {what}"
            )
    by_grid: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row["role"] == "post" and row.get("grid"):
            by_grid[row["grid"]].append(f"{row['name']!r} ({row['source_row']})")
    for grid, posts in by_grid.items():
        if len(posts) > 1:
            every = "both" if len(posts) == 2 else "all"
            problems.append(f"posts {_listed(posts)} {every} serve grid {grid!r}; a grid has one post")
    return problems


def _file_problems(path: Path, problems: list[str]) -> SiteError:
    """One problem: one line. More: a count, then each below it (the first ``SHOWN``)."""
    if len(problems) == 1:
        (problem,) = problems
        return SiteError(
            f"{path} {problem}" if problem.startswith(("row ", "feature ")) else f"{path}: {problem}"
        )
    shown = problems[:SHOWN] + ([f"... and {len(problems) - SHOWN} more"] if len(problems) > SHOWN else [])
    return SiteError(f"{path}: {len(problems)} problems in the facilities file", shown)


def read_facilities(path_text: str, cfg: EnterprisesConfig) -> gpd.GeoDataFrame:
    """Read and check the file; every problem in it is reported at once.

    Returns one WGS84 point per facility with ``role`` and ``name`` normalised, numbers as floats (NaN
    where the file leaves them blank), and ``source_row`` ('row 5', 'feature 3') for later messages.
    """
    path = _facilities_path(path_text)
    is_csv = path.suffix.lower() == ".csv"
    table = _csv_table(path) if is_csv else _geo_table(path)
    if len(table) == 0:
        empty = "a header and no rows" if is_csv else "no features"
        raise SiteError(f"{path}: no facilities in it ({empty}); add one row per facility")
    _require_columns(path, table, is_csv)
    rows, problems = _row_problems(table, cfg, is_csv)
    problems += _duplicate_problems(rows)
    if any(r["role"] == "post" for r in rows) and "grid" not in table.columns:
        problems.append(
            "posts need a 'grid' column naming the grid each serves (ids from site.gpkg's grids layer)"
        )
    if problems:
        raise _file_problems(path, problems)
    frame = pd.DataFrame(rows)
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=list(frame["geometry"]), crs=WGS84)


def kindless_warning(frame: gpd.GeoDataFrame, cfg: EnterprisesConfig, path: str) -> list[str]:
    """A warning when enterprises name no kind: the kind decides which incidents (leaks, fires) they have."""
    rows = frame[frame["role"] == "enterprise"]
    missing = int(rows["kind"].isna().sum()) if "kind" in rows.columns else len(rows)
    if not missing:
        return []
    return [
        f"{missing} enterprise(s) in {path} name no kind and are treated as '{cfg.default_kind}' "
        f"(enterprises.default_kind); add a kind column ({', '.join(cfg.kinds)}) so hazards follow the site"
    ]


def enterprises_from(
    frame: gpd.GeoDataFrame, cfg: EnterprisesConfig, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Rows with role=enterprise as the site's enterprise table, filling attributes the file leaves out."""
    rows = frame[frame["role"] == "enterprise"].reset_index(drop=True)
    default = cfg.default_kind  # not the first kind listed: that is petrochemical, a hazmat site
    kinds = rows["kind"].fillna(default) if "kind" in rows.columns else [default] * len(rows)
    drawn = enterprise_attributes(list(kinds), cfg, rng)
    for col in drawn.columns:
        if col in rows.columns:
            drawn[col] = rows[col].where(rows[col].notna(), drawn[col]).astype(drawn[col].dtype)
    drawn["id"] = list(rows["id"]) if "id" in rows.columns else [f"E{i + 1:04d}" for i in range(len(rows))]
    drawn["name"] = list(rows["name"])
    drawn["zone"] = list(rows["zone"]) if "zone" in rows.columns else ""
    return gpd.GeoDataFrame(drawn[ENTERPRISE_COLUMNS], geometry=rows.geometry.values, crs=WGS84)
