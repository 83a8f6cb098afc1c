"""What a drill's animation shows, read from the record: where each unit was, each incident's life (and a
leak's affected area), the injects; and which ground the frames must cover.

Why apart from the drawing: the same reading serves the GIF, the MP4, a still and the tests, and it is
pure data (sim/drill/tracks.py does the units' geometry).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.drill.road_paths import Closures, RoadPaths
from sim.drill.tracks import Track, unit_tracks
from sim.site.site import Site

MIN_SPAN_M = 1500.0  # the frame shows at least this much ground
MARGIN = 0.08  # and this share more on every side


@dataclass(frozen=True)
class Scene:
    """What a frame shows, from the record: tracks, incidents (place, when, when over), leaks, injects."""

    tracks: dict[str, Track]
    incidents: pd.DataFrame  # incident, x_m, y_m, t_s, over_s, leak_m (final radius, NaN), outcome_s
    injects: list[tuple[float, str]]
    closures: Closures | None = None  # roads closed by the drill's injects, moment by moment


def _incidents(events: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """Each incident's place, when it occurred, when it was over (its outcome and every unit cleared) and,
    for a chemical leak, the final affected radius (the outcome's value is the area, m2)."""
    table = incidents[["incident", "kind", "x_m", "y_m", "t_s"]].copy()
    outcome = (
        events[events["kind"] == "outcome"]
        .groupby("incident")
        .agg(outcome_s=("t_s", "min"), area=("value", "max"))
    )
    cleared = events[events["kind"] == "cleared"].groupby("incident")["t_s"].max().rename("cleared_s")
    table = table.join(outcome, on="incident").join(cleared, on="incident")
    table["over_s"] = table[["outcome_s", "cleared_s"]].max(axis=1).fillna(np.inf)
    table["leak_m"] = np.sqrt(table["area"] / math.pi)  # NaN where the outcome has no area
    return table


def _injects(events: pd.DataFrame, messages: Mapping[int, str] | None) -> list[tuple[float, str]]:
    """(time, text) of each inject: the caller's message by MSEL seq, else its type and target."""
    rows = events[events["kind"] == "inject"].sort_values("t_s", kind="stable")
    out = []
    for row in rows.itertuples():
        seq = int(row.value) if math.isfinite(row.value) else -1
        text = (messages or {}).get(seq) or f"{str(row.detail).replace('_', ' ')}: {row.unit}".rstrip(": ")
        out.append((float(row.t_s), text))
    return out


def scene(
    events: pd.DataFrame,
    incidents: pd.DataFrame,
    units: pd.DataFrame,
    site: Site,
    messages: Mapping[int, str] | None = None,
    paths: RoadPaths | None = None,
) -> Scene:
    """Everything a frame needs, rebuilt once from the record (one policy and replication)."""
    return Scene(
        unit_tracks(events, incidents, units, site, paths=paths),
        _incidents(events, incidents),
        _injects(events, messages),
        Closures.from_log(events, site),
    )


def frame_times(start_s: float, end_s: float, step_s: float) -> np.ndarray:
    """One frame every ``step_s`` from the start, the end excluded: an hour at 10 s is 360 frames."""
    return start_s + step_s * np.arange(max(1, math.ceil((end_s - start_s) / step_s - 1e-9)))


def extent(
    sc: Scene, times: np.ndarray, start_s: float, end_s: float
) -> tuple[float, float, float, float] | None:
    """The ground the frames must show: every unit that moves within the window, wherever it is at each
    frame, plus the incidents open in the window (with a leak's full circle)."""
    pts = [
        xy
        for tr in sc.tracks.values()
        if tr.moves_within(start_s, end_s)
        for xy in [
            tr.positions(times),
            *(leg.line.xy_m for leg in tr.legs if leg.t0_s <= end_s and leg.t1_s >= start_s),
        ]
    ]
    inc = sc.incidents[(sc.incidents["t_s"] <= end_s) & (sc.incidents["over_s"] >= start_s)]
    r = inc["leak_m"].fillna(0.0).to_numpy()
    x, y = inc["x_m"].to_numpy(), inc["y_m"].to_numpy()
    pts += [np.column_stack([x - r, y - r]), np.column_stack([x + r, y + r])]
    xy = np.vstack(pts)
    xy = xy[np.isfinite(xy).all(axis=1)]
    if not len(xy):
        return None
    return float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max())


def fit_box(bounds: tuple[float, float, float, float], aspect: float) -> tuple[float, float, float, float]:
    """``bounds`` grown by the margin, to at least MIN_SPAN_M, then to the map box's aspect (height/width),
    so the map fills its box."""
    x0, y0, x1, y1 = bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w = max(x1 - x0, MIN_SPAN_M) * (1 + 2 * MARGIN)
    h = max(y1 - y0, MIN_SPAN_M) * (1 + 2 * MARGIN)
    w, h = max(w, h / aspect), max(h, w * aspect)
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
