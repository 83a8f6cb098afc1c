"""Where every unit was at any moment, rebuilt from the event log alone (plus the unit and incident tables).

Why: a drill's record is its log; the animation must show what the model did without re-running it. The log
gives the moments (mobilised, arrived, cleared, returned, rerouted) and the model's rules give the way: a
ground unit drives the shortest travel-time path (sim/drill/road_paths.py) at a steady pace over each leg,
so its position between two logged moments is the path cut in proportion to the edges' travel times.

* Ground units (police, echelon, fire_engine, hazmat_unit): mobilised -> arrived to the scene's road node,
  on scene until cleared, cleared -> returned home (normal speed). A unit ``dispatched`` with detail
  ``redirected`` was driving home: it turns off where it is when it mobilises, either back through the scene
  it left or on through its base, whichever is quicker (agents/responder.py, ``travel_s``).
* ``rerouted`` (detail ``via:<node>``, value the seconds still to drive): on along the old path to the via
  node, then the shortest path without the roads closed at that moment. ``turned_back``: back to the last
  node passed, then home.
* Drones fly straight from their nest (dispatched -> arrived, cleared -> returned).
* Guards stay on their premises: shown at the enterprise while on scene (arrived -> cleared).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.drill.road_paths import Closures, Polyline, RoadPaths
from sim.drill.unit_table import GUARDS
from sim.site.site import Site

GROUND = ("police", "echelon", "fire_engine", "hazmat_unit")
MOVES = ("dispatched", "mobilised", "arrived", "cleared", "returned", "rerouted")
HOME_RATE = 1.0  # the drive home is at normal speed: free-flow seconds per second


@dataclass(frozen=True)
class Leg:
    """One drive or flight: along ``line`` from t0 to t1 at a steady pace."""

    t0_s: float
    t1_s: float
    line: Polyline

    def at(self, t_s: np.ndarray) -> np.ndarray:
        span = self.t1_s - self.t0_s
        frac = np.clip((t_s - self.t0_s) / span, 0.0, 1.0) if span > 0 else np.ones_like(t_s)
        return self.line.at(frac * self.line.total)


@dataclass
class Track:
    """A unit's whereabouts: at ``home_xy`` until its first leg, then on or at the end of its last leg.
    ``shown``: the intervals it is out (dispatched -> back home), the only times it is drawn."""

    unit: str
    unit_kind: str
    home_xy: tuple[float, float]
    legs: list[Leg] = field(default_factory=list)
    shown: list[tuple[float, float]] = field(default_factory=list)

    def positions(self, t_s: np.ndarray | float) -> np.ndarray:
        """(x, y) at each time, shape (k, 2); NaN when the unit is not out."""
        t = np.atleast_1d(np.asarray(t_s, dtype=float))
        xy = np.tile(np.asarray(self.home_xy, dtype=float), (len(t), 1))
        for leg in self.legs:
            after = t >= leg.t0_s
            if after.any():
                xy[after] = leg.at(t[after])
        out = np.zeros(len(t), dtype=bool)
        for a, b in self.shown:
            out |= (t >= a) & (t <= b)
        xy[~out] = np.nan
        return xy

    def moves_within(self, start_s: float, end_s: float) -> bool:
        return any(leg.t0_s <= end_s and leg.t1_s >= start_s and leg.line.total > 0 for leg in self.legs)


@dataclass
class _Open:
    """The leg under way: its end time is known only when it ends."""

    t0_s: float
    line: Polyline
    rate: float | None  # weight per second; None: not known yet (emergency driving)
    dest: int
    home: bool


class _Ground:
    """Replays one ground unit's events into legs."""

    def __init__(
        self, track: Track, base: int, paths: RoadPaths, closures: Closures, scene: dict, fallback: float
    ):
        self.track, self.base, self.paths, self.closures, self.scene = track, base, paths, closures, scene
        self.fallback, self.used_fallback, self.rates = fallback, False, []
        self.node: int | None = base  # where it stands, when not driving
        self.open: _Open | None = None
        self.out_since: float | None = None

    def _rate(self, leg: _Open) -> float:
        if leg.rate is not None:
            return leg.rate
        self.used_fallback = True
        return self.fallback

    def _close(self, t: float, w: float | None = None, rate: float | None = None) -> None:
        """End the leg under way at ``t``, or cut it at weight ``w`` reached at ``rate`` (it may have got
        there before ``t``: a unit home before it mobilises again waits there)."""
        leg = self.open
        assert leg is not None
        line = leg.line if w is None else leg.line.cut(0.0, w)
        t1 = min(t, leg.t0_s + w / rate) if w is not None and rate else t
        self.track.legs.append(Leg(leg.t0_s, t1, line))
        if w is None and not leg.home and leg.rate is None and t > leg.t0_s and line.total > 0:
            self.rates.append(line.total / (t - leg.t0_s))
        self.open = None

    def _path(self, a: int, b: int, t: float) -> Polyline:
        line = self.paths.path(a, b, self.closures.at(t))
        return line if line is not None else Polyline.point(self.paths.xy(a), a)

    def run(self, rows: list) -> None:
        for i, ev in enumerate(rows):
            getattr(self, f"_{ev.kind}")(ev, itertools.islice(rows, i + 1, None))
        if self.open is not None:  # the log ends on the road
            leg = self.open
            t1 = leg.t0_s + leg.line.total / self._rate(leg)
            self._close(t1)
            self.track.shown.append(
                (self.out_since if self.out_since is not None else leg.t0_s, t1 if leg.home else math.inf)
            )
        elif self.out_since is not None:
            self.track.shown.append((self.out_since, math.inf))

    def _dispatched(self, ev, rest) -> None:
        if self.out_since is None:
            self.out_since = ev.t_s

    def _mobilised(self, ev, rest) -> None:
        t, dest = ev.t_s, self.scene[ev.incident]
        leg = self.open
        if leg is None:
            line = self._path(self.node if self.node is not None else self.base, dest, t)
        else:  # turned off the road home (redirected), or sent on while driving
            rate = self._rate(leg)
            w = min(rate * (t - leg.t0_s), leg.line.total)
            self._close(t, w, rate)
            line = self._turn_off(leg, w, dest, t)
        self.open = _Open(t, line, None, dest, False)
        self.node = None

    def _turn_off(self, leg: _Open, w: float, dest: int, t: float) -> Polyline:
        """From ``w`` along ``leg``: back through where it came from, or on through where it was going,
        whichever reaches ``dest`` sooner (the model's rule for a unit sent on from the road home)."""
        closed = self.closures.at(t)
        start = leg.line.nodes[0][0] if leg.line.nodes else None
        back = w + self.paths.time_s(start, dest, closed) if start is not None else math.inf
        on = leg.line.total - w + self.paths.time_s(leg.dest, dest, closed)
        if back <= on:
            return leg.line.cut(0.0, w).reversed().then(self._path(start, dest, t))
        return leg.line.cut(w, leg.line.total).then(self._path(leg.dest, dest, t))

    def _arrived(self, ev, rest) -> None:
        if self.open is not None:
            self._close(ev.t_s)
        self.node = self.scene[ev.incident]
        if self.out_since is None:
            self.out_since = ev.t_s

    def _cleared(self, ev, rest) -> None:
        if self.open is None and self.node is not None:
            self.open = _Open(ev.t_s, self._path(self.node, self.base, ev.t_s), HOME_RATE, self.base, True)
            self.node = None

    def _returned(self, ev, rest) -> None:
        if self.open is not None:
            self._close(ev.t_s)
        self.node = self.base
        self.track.shown.append((self.out_since if self.out_since is not None else ev.t_s, ev.t_s))
        self.out_since = None

    def _still_to_drive(self, ev, rest: Iterable, home: bool) -> float | None:
        """Seconds from a reroute to the end of the leg: the logged arrival (or return) when it follows,
        else the event's own estimate."""
        end = "returned" if home else "arrived"
        nxt = next((r for r in rest if r.kind in ("arrived", "returned", "rerouted", "mobilised")), None)
        if nxt is not None and nxt.kind == end:
            return nxt.t_s - ev.t_s
        return float(ev.value) if math.isfinite(ev.value) else None

    def _rerouted(self, ev, rest) -> None:
        leg = self.open
        if leg is None:
            return
        t, detail = ev.t_s, str(ev.detail)
        elapsed = t - leg.t0_s
        if detail.startswith("via:"):
            via = int(detail.removeprefix("via:"))
            w_via = leg.line.weight_at_node(via)
            if w_via is None:  # not on the old path: on to the next node, then the new way
                ahead_node = leg.line.node_after(min(self._rate(leg) * elapsed, leg.line.total))
                via, w_via = ahead_node if ahead_node is not None else (leg.dest, leg.line.total)
            ahead = self._path(via, leg.dest, t)
            remaining = self._still_to_drive(ev, rest, leg.home)
            if remaining is not None and elapsed + remaining > 0:
                rate = (w_via + ahead.total) / (elapsed + remaining)
            else:
                rate = self._rate(leg)
            w = min(rate * elapsed, w_via)
            self._close(t, w, rate)
            self.open = _Open(t, leg.line.cut(w, w_via).then(ahead), rate, leg.dest, leg.home)
            return
        if detail == "turned_back":
            rate = self._rate(leg)
            w = min(rate * elapsed, leg.line.total)
            passed = leg.line.node_before(w)
            self._close(t, w, rate)
            if passed is None:
                back = leg.line.cut(0.0, w).reversed()
                node = leg.line.nodes[0][0] if leg.line.nodes else self.base
            else:
                back = leg.line.cut(passed[1], w).reversed()
                node = passed[0]
            line = back.then(self._path(node, self.base, t))
            remaining = self._still_to_drive(ev, rest, True)
            rate = line.total / remaining if remaining else HOME_RATE
            self.open = _Open(t, line, rate, self.base, True)


class _Flight:
    """Replays a drone's events: straight flights between its nest and the incident. The flight out
    includes the launch, so the drone lifts off when the rest of it, at the cruise speed of its flights
    home, would get it there on time."""

    def __init__(self, track: Track, place: dict) -> None:
        self.track, self.place = track, place
        self.at: tuple[float, float] = track.home_xy
        self.open: tuple[float, Polyline] | None = None
        self.out_since: float | None = None
        self.cruise: list[float] = []  # m/s of the flights home

    def _land(self, t: float, outbound: bool) -> None:
        assert self.open is not None
        t0, line = self.open
        self.track.legs.append(Leg(t0, t, line))
        if not outbound and t > t0 and line.total > 0:
            self.cruise.append(line.total / (t - t0))
        self.at, self.open = (float(line.xy_m[-1, 0]), float(line.xy_m[-1, 1])), None

    def run(self, rows: list) -> None:
        nest, outbound = self.track.home_xy, True
        for ev in rows:
            t = ev.t_s
            if ev.kind == "dispatched":
                self.out_since = t if self.out_since is None else self.out_since
                self.open, outbound = (t, Polyline.straight(self.at, self.place[ev.incident])), True
            elif ev.kind == "cleared":
                self.open, outbound = (t, Polyline.straight(self.at, nest)), False
            elif ev.kind in ("arrived", "returned") and self.open is not None:
                self._land(t, outbound)
                if ev.kind == "returned":
                    self.track.shown.append((self.out_since if self.out_since is not None else t, t))
                    self.out_since = None
        speed = max(self.cruise) if self.cruise else None
        if self.open is not None:
            t0, line = self.open
            t1 = t0 + line.total / speed if speed else t0
            self.track.legs.append(Leg(t0, t1, line))
            self.track.shown.append((self.out_since if self.out_since is not None else t0, t1))
        elif self.out_since is not None:
            self.track.shown.append((self.out_since, math.inf))
        if speed:  # waiting on the pad through the launch
            self.track.legs = [
                Leg(max(g.t0_s, g.t1_s - g.line.total / speed), g.t1_s, g.line) for g in self.track.legs
            ]


def _guards(track: Track, rows: list) -> None:
    start = None
    for ev in rows:
        if ev.kind == "arrived":
            start = ev.t_s
        elif ev.kind == "cleared" and start is not None:
            track.shown.append((start, ev.t_s))
            start = None
    if start is not None:
        track.shown.append((start, math.inf))


def unit_tracks(
    events: pd.DataFrame,
    incidents: pd.DataFrame,
    units: pd.DataFrame,
    site: Site,
    closures: Closures | None = None,
    paths: RoadPaths | None = None,
) -> dict[str, Track]:
    """Every unit's track (unit id -> Track), from one policy's and replication's log (filter first).

    ``closures``: which roads are closed when; by default read from the log's road injects. ``paths``: a
    RoadPaths of ``site`` to share its cache between calls."""
    paths = paths or RoadPaths(site)
    closures = closures or Closures.from_log(events, site)
    scene = dict(zip(incidents["incident"].astype(int), incidents["node"].astype(int), strict=True))
    place = {
        int(i): (float(x), float(y))
        for i, x, y in zip(incidents["incident"], incidents["x_m"], incidents["y_m"], strict=True)
    }
    for column in ("policy", "replication"):
        if column in events and events[column].nunique() > 1:
            raise ValueError(f"unit_tracks reads one run's log: filter the events by {column} first")
    if incidents["incident"].duplicated().any():
        raise ValueError("unit_tracks needs each incident once: filter the incidents by replication first")
    moves = events[events["kind"].isin(MOVES)].sort_values("t_s", kind="stable")
    by_unit = {u: list(g.itertuples(index=False)) for u, g in moves.groupby("unit", sort=False)}
    table = units.set_index("unit")

    def build(fallback: float) -> tuple[dict[str, Track], list[float], bool]:
        tracks, rates, used = {}, [], False
        for unit, rows in by_unit.items():
            kind = str(rows[0].unit_kind)
            known = unit in table.index
            if kind == GUARDS:
                xy = (
                    (float(table.at[unit, "x_m"]), float(table.at[unit, "y_m"]))
                    if known
                    else place[rows[0].incident]
                )
                tracks[unit] = track = Track(unit, kind, xy)
                _guards(track, rows)
            elif kind == "drone" and known:
                tracks[unit] = track = Track(
                    unit, kind, (float(table.at[unit, "x_m"]), float(table.at[unit, "y_m"]))
                )
                _Flight(track, place).run(rows)
            elif kind in GROUND and known:
                base = int(table.at[unit, "base_node"])
                tracks[unit] = track = Track(unit, kind, paths.xy(base))
                ground = _Ground(track, base, paths, closures, scene, fallback)
                ground.run(rows)
                rates += ground.rates
                used |= ground.used_fallback
        return tracks, rates, used

    tracks, rates, used = build(1.0)
    if used and rates:  # a leg with no logged end: drive it at the pace the others drove
        tracks, _, _ = build(float(np.median(rates)))
    return tracks
