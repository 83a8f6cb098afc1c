"""A map animation of a drill: units driving the roads, incidents appearing, a clock, the injects.

Drawn from the record alone (event log, incident table, unit table; sim/drill/tracks.py rebuilds where each
unit was), so a replayed folder animates exactly like a fresh drill. Why it is fast: the roads, land, bases,
legend and title are drawn once into a picture; every frame is that picture plus a handful of moving
artists (set_offsets / set_radius / set_text), and each of the two writers renders only that.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import imageio_ffmpeg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import animation
from matplotlib.artist import Artist
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch

from sim.drill.animation_labels import clock_text
from sim.drill.catalogue import figure_labels
from sim.drill.gif import GifWriter, gif_palette
from sim.drill.scene import Scene, extent, fit_box, frame_times, scene
from sim.fonts import figure_fonts
from sim.plotting import fit_map, scale_bar, stamp_synthetic, wrap
from sim.site.plot_site import ROAD_WIDTH
from sim.site.site import Site

Progress = Callable[[str, int, int], None]
FRAME_IN, DPI = (8.0, 6.0), 100  # 800 x 600 pixels: even sides for H.264
MAP_RECT = (0.01, 0.115, 0.98, 0.815)  # the map's box in the frame (left, bottom, width, height)
RING = 0.011  # units at one spot are drawn on a ring this share of the map's width across
INJECT_HOLD_S = 600.0  # an inject's message stays on screen this long (or until the next one)
ROAD_COLOUR, INCIDENT_COLOUR, OVER_COLOUR = "#c8c8c8", "#e7298a", "#9e9e9e"
CLOSED_COLOUR = "#d7191c"  # a road closed by an inject
LEAK_COLOUR, LEAK_EDGE = "#fd8d3c", "#d94801"
UNIT_STYLE = {  # kind: (colour, marker)
    "police": ("#2166ac", "o"),
    "echelon": ("#f1a340", "o"),
    "fire_engine": ("#d7191c", "s"),
    "hazmat_unit": ("#1a9641", "s"),
    "drone": ("#7b3294", "^"),
    "own_security": ("#8c510a", "D"),
}
BASES = (("stations", "police"), ("posts", "echelon"), ("fire_stations", "fire_engine"), ("nests", "drone"))


# ------------------------------------------------------------------------------------------- background


def _edge_xy(site: Site, u, v, data) -> np.ndarray:
    nodes = site.graph.nodes
    geometry = data.get("geometry")
    if geometry is not None:
        return np.asarray(geometry.coords)[:, :2]
    return np.array([[nodes[u]["x"], nodes[u]["y"]], [nodes[v]["x"], nodes[v]["y"]]])


def _closed_lines(site: Site, edges) -> list[np.ndarray]:
    """The polylines of closed edges (u, v, key), drawn over the roads while they are closed."""
    graph = site.graph
    return [_edge_xy(site, u, v, graph.edges[u, v, k]) for u, v, k in edges if graph.has_edge(u, v, k)]


def _roads(site: Site, box: tuple[float, float, float, float]) -> LineCollection:
    x0, y0, x1, y1 = box
    lines, widths = [], []
    for u, v, data in site.graph.edges(data=True):
        xy = _edge_xy(site, u, v, data)
        if xy[:, 0].max() < x0 or xy[:, 0].min() > x1 or xy[:, 1].max() < y0 or xy[:, 1].min() > y1:
            continue
        highway = data.get("highway")
        highway = highway[0] if isinstance(highway, list) else highway
        lines.append(xy)
        widths.append(ROAD_WIDTH.get(str(highway), 0.35) * 0.8 + 0.3)
    return LineCollection(lines, colors=ROAD_COLOUR, linewidths=widths, zorder=2, capstyle="round")


def _legend_handles(kinds: list[str], labels: Mapping[str, str], leaks: bool, closed: bool = False) -> list:
    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker=UNIT_STYLE[k][1],
            ms=8,
            mfc=UNIT_STYLE[k][0],
            mec="black",
            mew=0.6,
            label=labels[k],
        )
        for k in kinds
    ]
    handles += [
        Line2D([], [], ls="", marker="o", ms=7, mfc="none", mec="#555555", mew=1.2, label=labels["base"]),
        *(
            Line2D([], [], ls="", marker="*", ms=12, mfc=colour, mec="black", mew=0.5, label=labels[key])
            for colour, key in ((INCIDENT_COLOUR, "incident"), (OVER_COLOUR, "incident_over"))
        ),
    ]
    if leaks:
        handles.append(Patch(fc=LEAK_COLOUR, ec=LEAK_EDGE, alpha=0.4, label=labels["leak"]))
    handles.append(Line2D([], [], color=ROAD_COLOUR, lw=2, label=labels["road"]))
    if closed:
        handles.append(Line2D([], [], color=CLOSED_COLOUR, lw=3, label=labels["road_closed"]))
    return handles


def _background(site: Site, box, kinds: list[str], labels: Mapping[str, str], leaks: bool, closed: bool):
    """The still part of every frame as pixels, and the map's exact box in the frame."""
    fig = plt.figure(figsize=FRAME_IN, dpi=DPI)
    ax = fig.add_axes(MAP_RECT)
    if len(site.islands):
        ax.set_facecolor("#dceefa")
        site.islands.plot(ax=ax, color="#f4f1e8", edgecolor="#9aa7b0", linewidth=0.6, zorder=1)
    ax.add_collection(_roads(site, box))
    for layer, kind in BASES:
        frame = getattr(site, layer)
        if len(frame):
            colour, marker = UNIT_STYLE[kind]
            ax.scatter(
                frame.geometry.x,
                frame.geometry.y,
                s=46,
                marker=marker,
                fc="none",
                ec=colour,
                lw=1.2,
                zorder=3,
            )
    fit_map(ax, box, margin=0.0)
    scale_bar(ax)
    title = f"{labels['title']}: {site.name}" + (f" ({labels['synthetic']})" if site.synthetic else "")
    fig.text(0.012, 0.985, wrap(title, FRAME_IN[0] * 0.95, 12), fontsize=12, weight="bold", va="top")
    fig.legend(
        handles=_legend_handles(kinds, labels, leaks, closed),
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=5,
        fontsize=8,
        frameon=False,
        handletextpad=0.3,
        columnspacing=1.0,
    )
    if site.synthetic:
        stamp_synthetic(fig, maps=[ax], banner=False, zorder=1.5)  # over the islands (1), under the roads (2)
    fig.canvas.draw()
    region = fig.canvas.copy_from_bbox(fig.bbox)
    pixels = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()
    position = ax.get_position().bounds
    plt.close(fig)
    return region, pixels, position


class _Backdrop(Artist):
    """The background's pixels put back as they were (a copy, no resampling): what a frame draws first."""

    def __init__(self, region) -> None:
        super().__init__()
        self.region = region
        self.set_zorder(-10)

    def draw(self, renderer) -> None:
        renderer.restore_region(self.region)


# ------------------------------------------------------------------------------------------------ frames


class _Frames:
    """The frame figure: the background picture, then the moving artists, updated in place."""

    def __init__(
        self,
        sc: Scene,
        site: Site,
        times: np.ndarray,
        start_s: float,
        end_s: float,
        labels: Mapping[str, str],
    ):
        self.sc, self.labels, self.start_s = sc, labels, start_s
        ground = extent(sc, times, start_s, end_s)
        if ground is None:  # nothing happens: the whole road network
            xs = [d["x"] for _, d in site.graph.nodes(data=True)]
            ys = [d["y"] for _, d in site.graph.nodes(data=True)]
            ground = (min(xs), min(ys), max(xs), max(ys))
        aspect = (MAP_RECT[3] * FRAME_IN[1]) / (MAP_RECT[2] * FRAME_IN[0])
        box = fit_box(ground, aspect)
        shown = {
            u: tr for u, tr in sc.tracks.items() if any(a <= end_s and b >= start_s for a, b in tr.shown)
        }
        self.kinds = [k for k in UNIT_STYLE if any(tr.unit_kind == k for tr in shown.values())]
        inc = sc.incidents[sc.incidents["over_s"] >= start_s]  # what ended before the window is not shown
        leaks = inc["leak_m"].notna()
        closures = sc.closures
        closed_any = closures is not None and any(closures.at(t) for t in times)
        region, self.background, position = _background(
            site, box, self.kinds, labels, bool(leaks.any()), closed_any
        )
        self.site, self._closed_now = site, frozenset()
        self.fig = fig = plt.figure(figsize=FRAME_IN, dpi=DPI)
        fig.add_artist(_Backdrop(region))
        self.ax = ax = fig.add_axes(position)
        ax.set_xlim(box[0], box[2])
        ax.set_ylim(box[1], box[3])
        ax.set_axis_off()
        self.units = {
            k: (
                [tr for tr in shown.values() if tr.unit_kind == k],
                ax.scatter(
                    [],
                    [],
                    s=70 if k != "own_security" else 40,
                    marker=UNIT_STYLE[k][1],
                    fc=UNIT_STYLE[k][0],
                    ec="black",
                    lw=0.7,
                    zorder=6,
                ),
            )
            for k in self.kinds
        }
        self.inc_xy = inc[["x_m", "y_m"]].to_numpy(dtype=float)
        self.inc_from_s, self.inc_over_s = (
            inc["t_s"].to_numpy(dtype=float),
            inc["over_s"].to_numpy(dtype=float),
        )
        self.closed = ax.add_collection(
            LineCollection([], colors=CLOSED_COLOUR, linewidths=3.0, zorder=3, capstyle="round")
        )
        self.incidents = ax.scatter([], [], s=190, marker="*", ec="black", lw=0.5, zorder=5)
        self.leaks = [
            (
                row,
                ax.add_patch(
                    Circle(
                        (row.x_m, row.y_m), 0.0, fc=LEAK_COLOUR, ec=LEAK_EDGE, alpha=0.35, lw=1.2, zorder=4
                    )
                ),
            )
            for row in inc[leaks].itertuples()
        ]
        box_style = {"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#888888", "alpha": 0.9}
        self.clock = ax.text(
            0.012,
            0.985,
            "",
            transform=ax.transAxes,
            fontsize=13,
            weight="bold",
            va="top",
            bbox=box_style,
            zorder=9,
        )
        self.inject = ax.text(
            0.012, 0.9, "", transform=ax.transAxes, fontsize=9.5, va="top", bbox=box_style, zorder=9
        )
        self.inject.set_visible(False)
        self._positions = {k: self._at(k, times) for k in self.kinds}
        self.ring_m = RING * (box[2] - box[0])

    def _at(self, kind: str, times: np.ndarray) -> np.ndarray:
        """Positions of a kind's units at these times: (frames, units, 2)."""
        tracks = self.units[kind][0]
        if not tracks:
            return np.empty((len(times), 0, 2))
        return np.stack([tr.positions(times) for tr in tracks], axis=1)

    def show(self, t_s: float, frame: int | None = None) -> None:
        """Move every artist to time ``t_s`` (``frame``: its row in the precomputed positions)."""
        spots = []
        for kind in self.kinds:
            xy = self._positions[kind][frame] if frame is not None else self._at(kind, np.array([t_s]))[0]
            spots.append(xy[np.isfinite(xy).all(axis=1)])
        if spots:
            ring = spread(np.vstack(spots), self.ring_m, self.inc_xy[self.inc_from_s <= t_s])
            placed = np.split(ring, np.cumsum([len(p) for p in spots])[:-1])
            for kind, xy in zip(self.kinds, placed, strict=True):
                self.units[kind][1].set_offsets(xy)
        seen = self.inc_from_s <= t_s
        self.incidents.set_offsets(self.inc_xy[seen])
        self.incidents.set_facecolors(np.where(self.inc_over_s[seen] > t_s, INCIDENT_COLOUR, OVER_COLOUR))
        for row, circle in self.leaks:
            span = row.outcome_s - row.t_s
            grown = 1.0 if span <= 0 else min(1.0, max(0.0, (t_s - row.t_s) / span))
            circle.set_radius(row.leak_m * grown)  # the model's radius grows linearly until the outcome
            circle.set_visible(t_s >= row.t_s)
        self.clock.set_text(clock_text(t_s, self.labels, self.start_s))
        closed = self.sc.closures.at(t_s) if self.sc.closures is not None else frozenset()
        if closed != self._closed_now:  # redrawn only when a road closes or reopens
            self.closed.set_segments(_closed_lines(self.site, closed))
            self._closed_now = closed
        message = next((m for t, m in reversed(self.sc.injects) if t <= t_s), None)
        latest = next((t for t, _ in reversed(self.sc.injects) if t <= t_s), -math.inf)
        on = message is not None and t_s - latest <= INJECT_HOLD_S
        self.inject.set_visible(on)
        if on:
            self.inject.set_text(wrap(f"{self.labels['inject']}: {message}", FRAME_IN[0] * 0.55, 9.5))


def spread(xy_m: np.ndarray, radius_m: float, fixed_m: np.ndarray | None = None) -> np.ndarray:
    """Markers at the same spot (to the metre) set on a small ring around it, so that every unit on a
    scene can be seen; a spot taken by a ``fixed_m`` point (an incident's marker) puts the units there on
    the ring too. The tracks themselves are not moved."""
    out = np.array(xy_m, dtype=float)
    fixed = np.empty((0, 2)) if fixed_m is None else np.asarray(fixed_m, dtype=float).reshape(-1, 2)
    if not len(out) or len(out) + len(fixed) < 2:
        return out
    spots = np.round(np.vstack([out, fixed]))
    _, group, counts = np.unique(spots, axis=0, return_inverse=True, return_counts=True)
    group = group.ravel()
    for g in np.flatnonzero(counts > 1):
        members = np.flatnonzero(group[: len(out)] == g)
        angle = 2 * np.pi * np.arange(len(members)) / len(members) + np.pi / 2
        out[members] += radius_m * np.column_stack([np.cos(angle), np.sin(angle)])
    return out


def _labels(lang: str, labels: Mapping[str, str] | None) -> dict[str, str]:
    return {**figure_labels(lang, "animation"), **(labels or {})}


def render_animation(
    events: pd.DataFrame,
    incidents: pd.DataFrame,
    units: pd.DataFrame,
    site: Site,
    out_dir: Path,
    *,
    start_s: float,
    end_s: float,
    step_s: float = 10.0,
    fps: int = 12,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    stem: str = "animation",
    messages: Mapping[int, str] | None = None,
    prepared: Scene | None = None,
) -> list[Path]:
    """``<stem>.gif`` and ``<stem>.mp4`` in ``out_dir``: one frame every ``step_s`` of drill time from
    ``start_s`` to ``end_s``, ``fps`` frames a second. ``events`` is one policy's and replication's log.
    ``labels`` override the catalogue's ``lang`` words (sim/drill/catalogue.py); ``messages``: inject texts by
    MSEL seq; ``progress(stage, done, total)`` is told of every frame."""
    out_dir = Path(out_dir)
    sc = prepared or scene(events, incidents, units, site, messages)
    times = frame_times(start_s, end_s, step_s)
    gif, mp4 = out_dir / f"{stem}.gif", out_dir / f"{stem}.mp4"
    rc = {"animation.ffmpeg_path": imageio_ffmpeg.get_ffmpeg_exe()}
    with figure_fonts(), matplotlib.rc_context(rc):
        frames = _Frames(sc, site, times, start_s, end_s, _labels(lang, labels))
        marks = [*(c for c, _ in UNIT_STYLE.values()), INCIDENT_COLOUR, OVER_COLOUR, LEAK_COLOUR, LEAK_EDGE]
        gif_writer = GifWriter(gif_palette(frames.background, marks), fps)
        mp4_writer = animation.FFMpegWriter(fps=fps, codec="h264")
        try:
            with gif_writer.saving(frames.fig, gif, DPI), mp4_writer.saving(frames.fig, mp4, DPI):
                for k, t in enumerate(times):
                    frames.show(float(t), k)
                    mp4_writer.grab_frame()  # draws the frame on the figure's canvas
                    gif_writer.grab_drawn()
                    if progress:
                        progress("animation", k + 1, len(times))
        finally:
            plt.close(frames.fig)
    return [gif, mp4]


def still_frame(
    events: pd.DataFrame,
    incidents: pd.DataFrame,
    units: pd.DataFrame,
    site: Site,
    path: Path,
    *,
    t_s: float,
    start_s: float | None = None,
    end_s: float | None = None,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
    messages: Mapping[int, str] | None = None,
    prepared: Scene | None = None,
) -> Path:
    """One frame at ``t_s`` as a PNG, framed like the animation of ``start_s``-``end_s`` (default: the
    log's whole span)."""
    sc = prepared or scene(events, incidents, units, site, messages)
    start = float(events["t_s"].min()) if start_s is None else start_s
    end = float(events["t_s"].max()) if end_s is None else end_s
    with figure_fonts():
        frames = _Frames(
            sc,
            site,
            frame_times(start, end, max((end - start) / 360, 1.0)),
            start,
            end,
            _labels(lang, labels),
        )
        try:
            frames.show(t_s)
            frames.fig.savefig(path, dpi=DPI)
        finally:
            plt.close(frames.fig)
    return Path(path)
