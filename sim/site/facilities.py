"""A user's own enterprises, police and fire stations, posts and drone nests, from a GeoJSON or CSV file.

One row per facility with a ``role`` (enterprise, station, fire_station, post, nest) and a ``name``;
position from the GeoJSON geometry or the CSV's ``lon``/``lat`` columns (WGS84). Enterprise attributes a row
leaves out (workforce, guards, terminal, risk) are drawn as for generated enterprises, from the seed.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from sim.config import EnterprisesConfig
from sim.errors import ConfigError, SiteError
from sim.site.enterprises import ENTERPRISE_COLUMNS, enterprise_attributes

ROLES = ("enterprise", "station", "fire_station", "post", "nest")
WGS84 = "EPSG:4326"


def read_facilities(path_text: str) -> gpd.GeoDataFrame:
    """Read and check the file; every problem in it is reported at once."""
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise ConfigError(f"site.facilities: file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            table = pd.read_csv(path)
            missing = [c for c in ("lon", "lat") if c not in table.columns]
            if missing:
                raise SiteError(f"{path}: a CSV of facilities needs columns lon and lat; missing {missing}")
            lon = pd.to_numeric(table["lon"], errors="coerce")
            lat = pd.to_numeric(table["lat"], errors="coerce")
            frame = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=WGS84)
        elif suffix in (".geojson", ".json", ".gpkg"):
            frame = gpd.read_file(path)
            frame = frame.set_crs(WGS84) if frame.crs is None else frame.to_crs(WGS84)
        else:
            raise ConfigError(
                f"site.facilities: unsupported file type '{path.name}'; allowed: .geojson, .csv"
            )
    except (SiteError, ConfigError):
        raise
    except Exception as err:
        raise SiteError(f"{path}: cannot read facilities ({' '.join(str(err).split())[:160]})") from None
    problems = []
    for col in ("role", "name"):
        if col not in frame.columns:
            problems.append(f"{path}: missing column '{col}'")
    if problems:
        raise SiteError(f"{path}: {len(problems)} problem(s) in the facilities file", problems)
    for i, row in frame.iterrows():
        where = f"{path} row {i + 1} ({row['name']})"
        if row["role"] not in ROLES:
            problems.append(f"{where}: role {row['role']!r} is not one of {', '.join(ROLES)}")
        geom = row.geometry
        if geom is None or geom.is_empty or not np.isfinite([geom.centroid.x, geom.centroid.y]).all():
            problems.append(f"{where}: no position (needs a geometry or lon/lat)")
        elif not (-180 <= geom.centroid.x <= 180 and -90 <= geom.centroid.y <= 90):
            problems.append(f"{where}: lon/lat ({geom.centroid.x}, {geom.centroid.y}) is outside WGS84 range")
    if problems:
        raise SiteError(f"{path}: {len(problems)} problem(s) in the facilities file", problems)
    frame["geometry"] = frame.geometry.representative_point()
    return frame


def enterprises_from(
    frame: gpd.GeoDataFrame, cfg: EnterprisesConfig, rng: np.random.Generator, source: str
) -> gpd.GeoDataFrame:
    """Rows with role=enterprise as the site's enterprise table, filling attributes the file leaves out."""
    rows = frame[frame["role"] == "enterprise"].reset_index(drop=True)
    if "kind" not in rows.columns:
        rows["kind"] = next(iter(cfg.kinds))
    rows["kind"] = rows["kind"].fillna(next(iter(cfg.kinds))).astype(str)
    unknown = sorted(set(rows["kind"]) - set(cfg.kinds))
    if unknown:
        raise SiteError(
            f"{source}: enterprise kind(s) {unknown} not defined; allowed: {', '.join(cfg.kinds)}"
        )
    drawn = enterprise_attributes(list(rows["kind"]), cfg, rng)
    for col in drawn.columns:
        if col in rows.columns:
            drawn[col] = rows[col].where(rows[col].notna(), drawn[col]).astype(drawn[col].dtype)
    drawn["id"] = (
        rows["id"].astype(str) if "id" in rows.columns else [f"E{i + 1:04d}" for i in range(len(rows))]
    )
    drawn["name"] = rows["name"].astype(str)
    drawn["zone"] = rows["zone"].astype(str) if "zone" in rows.columns else ""
    return gpd.GeoDataFrame(drawn[ENTERPRISE_COLUMNS], geometry=rows.geometry.values, crs=WGS84)
