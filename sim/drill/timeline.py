"""The drill's timeline: what each responder did, and when, under each arm of the drill.

One panel per arm (a policy, or a policy following the trainees), stacked on a shared axis of drill time
(mm:ss from the drill's start). Each lane is a unit that took part, grouped by kind; its bars are the
phases of its work: mobilising (dispatched -> departed), on the way (departed -> on scene), on scene
(-> cleared), returning (-> back at base). A re-route is a mark on its bar; an out-of-service period
(inject ``unit_unavailable`` -> ``unit_back``) is hatched. For each incident shown (by default the scripted
ones, those with a ``label``): a row with its start, its alarm (the first ``reported``, also a dotted line)
and its outcome (and, for a cross-district incident, the moment its two stations were coordinated, by the
county centre or by phone), and each tier's target as a line at alarm + target (start + target with
``count_from="incident"``) in the tier's colour; a dot marks each tier's first unit on scene, with its time
from the same moment. With several arms, a first arrival that differs from the first arm's is drawn bold,
with the difference. Injects are numbered dashed lines. Work on other incidents is faded; beyond
``max_lanes`` units the lanes are capped and the caption says how many are not shown.

Every word on the figure comes from ``labels``: ``DEFAULT_LABELS`` is the catalogue's English set, and
the catalogue gives the same keys in Chinese (``missing_labels`` lists those a dict lacks). Keys, {fields}:

- ``title``; ``caption`` ({incidents}, {moment}, {clock}); ``several_arms`` ({arm}); ``hidden_lanes``
  ({hidden}, {cap}); ``synthetic``; ``x_axis``; ``arm_title`` ({arm}); ``lane`` ({kind}, {unit});
  ``incident_row`` ({incident}, {kind})
- ``target_line`` ({incident}, {tier}, {target}); ``target_short`` ({incident}, {target}: when the long
  labels would not fit); ``inject_line`` ({seq}, {what}, {target}: a road, unit or incident); ``vs_later``
  and ``vs_earlier`` ({diff}, {arm}); ``vs_missing`` ({arm}); ``not_on_scene`` and ``no_tier`` ({tier},
  {arm}, {time})
- durations: ``min_s`` ({m}, {s}), ``min`` ({m}), ``s`` ({s})
- legend: ``legend_faded``, ``legend_off_duty``, ``legend_rerouted``, ``legend_turned_back``,
  ``legend_start``, ``legend_alarm``, ``legend_good``, ``legend_bad``, ``legend_first``, ``legend_inject``,
  ``legend_target`` ({tier}), ``legend_coordinated``
- a cross-district incident's coordination: ``coordinated_county`` and ``coordinated_phone`` ({time}: from
  the alarm)
- ``moment.<alarm|incident>``, ``phase.<mobilising|en_route|on_scene|returning>``, ``unit_kind.<kind>``,
  ``tier.<name>``, ``inject.<type>``, ``incident_kind.<kind>``, ``outcome.<outcome>`` (a name the labels
  lack, e.g. a new tier's, is shown as logged)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MultipleLocator

from sim.drill.catalogue import figure_labels
from sim.fonts import figure_fonts, with_figure_fonts
from sim.plotting import HALO, SYNTHETIC_COLOUR

DEFAULT_LABELS: dict[str, str] = figure_labels("en")  # the keys a caller must give; words: the catalogue

DPI = 120
WIDTH_IN = 12.0
FONT = 8.0
MAX_LANES = 30
MAX_UNLABELLED = 4  # incidents shown by default when none is scripted (a plain model run)
MAX_LONG_LEVELS = 3  # header rows the long target labels may take before the short ones are used
KINDS = ("own_security", "echelon", "police", "fire_engine", "hazmat_unit", "drone")
PHASES = ("mobilising", "en_route", "on_scene", "returning")
PHASE_COLOURS = {
    "mobilising": "#f2c14e",
    "en_route": "#5b8fd1",
    "on_scene": "#3f8f4f",
    "returning": "#c4c4c4",
}
TIER_COLOURS = ("#d62728", "#8e44ad", "#a6611a", "#1b9e77", "#e7298a")
GOOD, BAD = "#1a9850", "#d73027"
COORDINATED = "#f5a623"  # a cross-district incident's two stations coordinated
BAD_OUTCOMES = frozenset({"escaped", "escalated", "flashover", "uncontained", "operator_left"})
NEXT = {"dispatched": "mobilising", "mobilised": "en_route", "arrived": "on_scene", "cleared": "returning"}
STOPPED = ("turned_back", "stranded")  # re-routes that end the drive to the scene
INJECT_LINE = {"color": "#555555", "ls": (0, (4, 3)), "lw": 0.9}
ALARM_LINE = {"color": "black", "ls": (0, (1, 1.5)), "lw": 1.0}
HATCH = {"facecolor": "none", "edgecolor": "#7a7a7a", "hatch": "////", "lw": 0.6}


@dataclass(frozen=True)
class Bar:
    """One phase of one unit's work; ``end_s`` is inf when the log ends first."""

    unit: str
    unit_kind: str
    phase: str
    start_s: float
    end_s: float
    incident: int


@dataclass
class Facts:
    """One incident under one arm: its start, alarm and outcome, and per tier name its target (seconds)
    and first arrival (log time, unit)."""

    start_s: float
    alarm_s: float = math.nan
    outcome: str = ""
    outcome_s: float = math.nan
    targets: dict[str, float] = field(default_factory=dict)
    first: dict[str, tuple[float, str]] = field(default_factory=dict)
    coordinated_s: float = math.nan  # cross-district: the two stations coordinated (first ``coordinated``)
    coordinated_by: str = ""  # county (the county centre handed it over) or phone

    def ref(self, count_from: str) -> float:
        """The moment targets count from."""
        return self.alarm_s if count_from == "alarm" else self.start_s


# ------------------------------------------------------------------------------------------ from the log


def bars(events: pd.DataFrame) -> list[Bar]:
    """One arm's phase bars, from its unit events in time order, per unit and incident (a company's
    guards may be at two incidents at once). A drone flies at once (no ``mobilised``); a unit sent on
    from its way home ends that drive; one turned back by a closed road returns from there; a stranded
    one stops."""
    moves = events[events["kind"].isin([*NEXT, "returned", "rerouted"]) & events["unit"].ne("")]
    moves = moves.sort_values("t_s", kind="stable")
    going: dict[tuple[str, int], tuple[str, float, str]] = {}  # (unit, incident) -> phase, since, kind
    out: list[Bar] = []

    def end(key: tuple[str, int], t: float) -> None:
        phase, start, kind = going.pop(key)
        if t > start:
            out.append(Bar(key[0], kind, phase, float(start), float(t), int(key[1])))

    columns = ["t_s", "kind", "unit", "unit_kind", "incident", "detail"]
    for t, kind, unit, unit_kind, incident, detail in moves[columns].itertuples(index=False):
        if kind == "rerouted" and detail not in STOPPED:
            continue  # a new way to the same place: a mark, not a new phase
        if kind == "dispatched":
            for key in [k for k, v in going.items() if k[0] == unit and v[0] == "returning"]:
                end(key, t)
        if (unit, incident) in going:
            end((unit, incident), t)
        phase = "returning" if detail == "turned_back" else NEXT.get(kind)
        if phase == "mobilising" and unit_kind == "drone":
            phase = "en_route"
        if phase:
            going[(unit, incident)] = (phase, t, unit_kind)
    return out + [Bar(u, k, p, float(s), math.inf, int(i)) for (u, i), (p, s, k) in going.items()]


def off_duty(events: pd.DataFrame) -> list[tuple[str, float, float]]:
    """(unit, from, to) for each out-of-service inject; ``to`` is inf when the unit never comes back."""
    injects = events[events["kind"].eq("inject") & events["detail"].isin(["unit_unavailable", "unit_back"])]
    since: dict[str, float] = {}
    out = []
    for t, detail, unit in injects[["t_s", "detail", "unit"]].itertuples(index=False):
        if detail == "unit_unavailable":
            since.setdefault(unit, float(t))
        elif unit in since:
            out.append((unit, since.pop(unit), float(t)))
    return out + [(u, s, math.inf) for u, s in since.items()]


def facts(events: pd.DataFrame, incidents: pd.DataFrame, shown: Sequence[int]) -> dict[int, Facts]:
    """What happened to each shown incident under one arm. A tier's first arrival is its first unit on
    scene (drones are overwatch, never a tier), as the metrics count it."""
    starts = incidents.drop_duplicates("incident").set_index("incident")["t_s"]
    out: dict[int, Facts] = {}
    for inc in shown:
        ev = events[events["incident"].eq(inc)].sort_values("t_s", kind="stable")
        kinds = ("occurred", "reported", "outcome", "target", "arrived", "coordinated")
        of = {k: ev[ev["kind"].eq(k)] for k in kinds}
        f = Facts(
            float(of["occurred"]["t_s"].iloc[0]) if len(of["occurred"]) else float(starts.get(inc, math.nan))
        )
        if len(of["reported"]):
            f.alarm_s = float(of["reported"]["t_s"].iloc[0])
        if len(of["outcome"]):
            f.outcome, f.outcome_s = (
                str(of["outcome"]["detail"].iloc[-1]),
                float(of["outcome"]["t_s"].iloc[-1]),
            )
        if len(of["coordinated"]):  # detail: county:<a>+<b> or phone:<a>+<b>
            f.coordinated_s = float(of["coordinated"]["t_s"].iloc[0])
            how = str(of["coordinated"]["detail"].iloc[0]).partition(":")[0]
            f.coordinated_by = "county" if how == "county" else "phone"
        names: dict[int, str] = {}
        for tier, name, value in of["target"][["tier", "detail", "value"]].itertuples(index=False):
            if tier > 0 and tier not in names:
                names[int(tier)] = str(name)
                f.targets[str(name)] = float(value)
        arrived = of["arrived"][of["arrived"]["tier"].gt(0) & of["arrived"]["unit_kind"].ne("drone")]
        for tier, t, unit, kind in arrived[["tier", "t_s", "unit", "unit_kind"]].itertuples(index=False):
            f.first.setdefault(names.get(int(tier), str(kind)), (float(t), str(unit)))
        out[inc] = f
    return out


def shown_incidents(incidents: pd.DataFrame, wanted: Sequence[int | str] | None = None) -> dict[int, str]:
    """Incident id -> its label, for the incidents whose targets are drawn: ``wanted`` (ids or labels),
    else the scripted ones (those with a label), else the first ``MAX_UNLABELLED``."""
    table = incidents.drop_duplicates("incident").sort_values("t_s", kind="stable")
    given = table["label"].fillna("").astype(str) if "label" in table else pd.Series("", index=table.index)
    names = {int(i): (lab or f"#{int(i)}") for i, lab in zip(table["incident"], given, strict=True)}
    if wanted is None:
        scripted = {i: n for i, n in names.items() if not n.startswith("#")}
        return scripted or dict(list(names.items())[:MAX_UNLABELLED])
    by_label = {n: i for i, n in names.items()}
    ids = [by_label.get(w, -1) if isinstance(w, str) else int(w) for w in wanted]
    if unknown := [w for w, i in zip(wanted, ids, strict=True) if i not in names]:
        raise ValueError(f"incidents_shown names incidents the incident table lacks: {unknown}")
    return {i: names[i] for i in ids}


def lanes(
    arm_bars: Mapping[str, list[Bar]], off: Sequence[str], shown: Sequence[int], cap: int = MAX_LANES
) -> tuple[list[tuple[str, str]], int]:
    """The lanes of every panel, (unit, unit kind), grouped by kind in ``KINDS`` order, then by first
    dispatch; and how many units that took part are left out. Every unit that worked in any arm has a
    lane, up to ``cap``: first those that worked on a shown incident, then those of an out-of-service
    inject, then the earliest."""
    first: dict[str, tuple[float, str]] = {}
    on_shown: set[str] = set()
    for bar in (b for arm in arm_bars.values() for b in arm):
        if bar.unit not in first or bar.start_s < first[bar.unit][0]:
            first[bar.unit] = (bar.start_s, bar.unit_kind)
        if bar.incident in shown:
            on_shown.add(bar.unit)
    for unit in off:
        first.setdefault(unit, (math.inf, _kind_of(unit)))
    kept = sorted(first, key=lambda u: (u not in on_shown, u not in off, first[u][0], u))[:cap]
    order = {k: n for n, k in enumerate(KINDS)}
    kept.sort(key=lambda u: (order.get(first[u][1], len(KINDS)), first[u][1], first[u][0], u))
    return [(u, first[u][1]) for u in kept], len(first) - len(kept)


def _kind_of(unit: str) -> str:
    """The kind of a unit that never worked, from its id as the model names units (E-<grid>-k echelons, P-
    police, F- fire engines, H- hazmat units, D- drones, <enterprise>/guards)."""
    if unit.endswith("/guards"):
        return "own_security"
    prefixes = {"E": "echelon", "P": "police", "F": "fire_engine", "H": "hazmat_unit", "D": "drone"}
    return prefixes.get(unit.split("-", 1)[0], "")


def missing_labels(labels: Mapping[str, str]) -> list[str]:
    """The keys of ``DEFAULT_LABELS`` that ``labels`` lacks."""
    return [k for k in DEFAULT_LABELS if k not in labels]


# ------------------------------------------------------------------------------------------- formatting


def mmss(x: float, _pos: object = None) -> str:
    """Drill seconds as mm:ss (minutes go on past 59)."""
    m, s = divmod(round(abs(x)), 60)
    return f"{'-' if x < 0 else ''}{m:02d}:{s:02d}"


def duration(seconds: float, words: Mapping[str, str]) -> str:
    """'2 min 27 s', '3 min', '40 s' in the labels' language (the sign is dropped)."""
    m, s = divmod(round(abs(seconds)), 60)
    if m and s:
        return words["min_s"].format(m=m, s=s)
    return words["min"].format(m=m) if m else words["s"].format(s=s)


def _word(words: Mapping[str, str], group: str, name: str) -> str:
    return words.get(f"{group}.{name}", name)


def _width_in(text: str, fontsize: float) -> float:
    """Rough width of one line of text, inches: a CJK character is about one em, a Latin one 0.58."""
    return sum(1.0 if ord(c) >= 0x2E80 else 0.58 for c in text) * fontsize / 72


def _wrap(text: str, width_in: float, fontsize: float) -> str:
    """Wrap at spaces, or between any two CJK characters, to about ``width_in`` inches."""
    tokens: list[str] = []
    for c in text:
        if tokens and c in "，。；：、）」！？),.;:!?":  # never at the start of a line
            tokens[-1] += c
        elif ord(c) >= 0x2E80 or c == " " or not tokens or ord(tokens[-1][-1]) >= 0x2E80:
            tokens.append(c)
        else:
            tokens[-1] += c
    lines, line = [], ""
    for token in tokens:
        if line and _width_in(line + token, fontsize) > width_in:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return "\n".join([*lines, line.rstrip()])


def _levels(items: Sequence[tuple[float, str]], s_per_in: float, gap_s: float) -> list[int]:
    """Rows for labels (x, text) written rightwards from x, as few as let none overlap."""
    ends: list[float] = []
    levels = [0] * len(items)
    for n in sorted(range(len(items)), key=lambda n: items[n][0]):
        x, text = items[n]
        level = next((k for k, end in enumerate(ends) if x > end), len(ends))
        ends[len(ends) : level + 1] = [0.0] * (level + 1 - len(ends))
        ends[level] = x + (_width_in(text, FONT - 0.5) + 0.1) * s_per_in + gap_s  # 0.1: a box's margins
        levels[n] = level
    return levels


# --------------------------------------------------------------------------------------------- the chart

NOTE = {"fontsize": FONT - 0.5, "va": "center", "zorder": 8}
NOTE_BOX = {"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.85}
INJECT_BOX = {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#777777", "lw": 0.6}
MARK = {"ls": "none", "zorder": 5}
STAR = {"marker": "*", "ms": 12, "mec": "black", "mew": 0.5, **MARK}


@dataclass
class _Arm:
    bars: list[Bar]
    off: list[tuple[str, float, float]]
    reroutes: pd.DataFrame
    facts: dict[int, Facts]


@dataclass
class _Chart:
    """What every panel shares."""

    words: Mapping[str, str]
    start_s: float
    count_from: str
    shown: dict[int, str]  # incident id -> label
    kinds: dict[int, str]  # incident id -> kind
    lanes: list[tuple[str, str]]  # (unit, unit kind)
    arms: dict[str, _Arm]  # the first is the one the others are compared with
    injects: pd.DataFrame
    colour: dict[str, str] = field(default_factory=dict)  # tier name -> colour
    x0: float = 0.0
    x1: float = 0.0
    s_per_in: float = 1.0  # drill seconds per inch of the time axis

    @property
    def base(self) -> str:
        return next(iter(self.arms))


@with_figure_fonts
def timeline_figure(
    events: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    start_s: float,
    labels: Mapping[str, str],
    arms: Sequence[str] | None = None,
    incidents_shown: Sequence[int | str] | None = None,
    max_lanes: int = MAX_LANES,
    count_from: str = "alarm",
    end_s: float | None = None,
    synthetic: bool = False,
) -> Figure:
    """The timeline figure (open: the caller closes it; save it inside ``sim.fonts.figure_fonts``).

    ``events``: the drill's log, with ``policy`` naming the arm (the first replication is drawn);
    ``incidents``: its incident table (``label`` marks the scripted ones); ``start_s``: the log time of
    drill time 0; ``arms``: those to draw, in order, the first the one the others are compared with
    (default: every arm, as logged); ``incidents_shown``: ids or labels of the incidents whose targets are
    drawn; ``count_from``: the moment the policies count targets from; ``end_s``: the log time the drill
    ends (the axis reaches it; without it, the axis ends with the shown incidents' work); ``synthetic``:
    say the site is synthetic."""
    if missing := missing_labels(labels):
        raise ValueError(f"timeline labels lack {len(missing)} key(s): {', '.join(missing)}")
    if count_from not in ("alarm", "incident"):
        raise ValueError(f"count_from must be 'alarm' or 'incident', got {count_from!r}")
    chart, hidden = _chart(events, incidents, start_s, labels, arms, incidents_shown, max_lanes, count_from)
    xs = [0.0, *_moments(chart), *([] if end_s is None else [end_s - start_s])]
    pad = 0.015 * max(max(xs) - min(xs), 600.0)
    chart.x0, chart.x1 = min(xs) - pad, max(xs) + 5 * pad
    left_in = 0.3 + max([_width_in(_lane_label(u, k, labels), FONT) for u, k in chart.lanes] + [1.0])
    axes_in = WIDTH_IN - left_in - 0.3
    chart.s_per_in = (chart.x1 - chart.x0) / axes_in
    heads = _headers(chart, pad)
    rows = {a: len(heads[a]) and max(i[3] for i in heads[a]) + 1 for a in chart.arms}
    rows = {a: rows[a] + len(chart.shown) + 0.4 + len(chart.lanes) for a in chart.arms}
    row_in = 0.2 if sum(rows.values()) < 80 else 0.17

    caption = labels["caption"].format(
        incidents=", ".join(chart.shown.values()),
        moment=labels[f"moment.{count_from}"],
        clock=_clock(start_s),
    )
    if len(chart.arms) > 1:
        caption += " " + labels["several_arms"].format(arm=chart.base)
    if hidden:
        caption += " " + labels["hidden_lanes"].format(hidden=hidden, cap=max_lanes)
    caption = _wrap(caption, WIDTH_IN - 0.5, FONT + 1)
    top_in = 0.5 + 0.18 * (caption.count("\n") + 1) + (0.25 if synthetic else 0)
    legend_in = 0.75 + 0.2 * math.ceil((9 + len(chart.colour)) / 4)
    height = top_in + sum(0.32 + r * row_in for r in rows.values()) + legend_in
    fig = plt.figure(figsize=(WIDTH_IN, height), dpi=DPI)
    left = 0.25 / WIDTH_IN
    fig.text(left, 1 - 0.12 / height, labels["title"], fontsize=12, weight="bold", va="top")
    fig.text(left, 1 - 0.42 / height, caption, fontsize=FONT + 1, va="top", linespacing=1.35)
    if synthetic:
        red = {"fontsize": 10, "weight": "bold", "color": SYNTHETIC_COLOUR, "va": "bottom"}
        fig.text(left, 1 - (top_in - 0.12) / height, labels["synthetic"], **red)
    y_in, axes = top_in, []
    for arm in chart.arms:
        y_in += 0.32 + rows[arm] * row_in
        box = (left_in / WIDTH_IN, 1 - y_in / height, axes_in / WIDTH_IN, rows[arm] * row_in / height)
        ax = fig.add_axes(box, sharex=axes[0] if axes else None)
        _panel(ax, chart, arm, heads[arm])
        ax.set_title(labels["arm_title"].format(arm=arm), loc="left", fontsize=10, weight="bold")
        axes.append(ax)
    _time_axis(axes, chart, labels["x_axis"])
    anchor = (left_in / WIDTH_IN, (legend_in - 0.5) / height)
    legend = {"ncol": 4, "fontsize": FONT, "frameon": False, "handlelength": 2.0, "columnspacing": 1.6}
    fig.legend(handles=_legend(chart), loc="upper left", bbox_to_anchor=anchor, **legend)
    return fig


def draw_timeline(
    events: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    start_s: float,
    labels: Mapping[str, str],
    out_path: Path,
    arms: Sequence[str] | None = None,
    incidents_shown: Sequence[int | str] | None = None,
    max_lanes: int = MAX_LANES,
    count_from: str = "alarm",
    end_s: float | None = None,
    synthetic: bool = False,
) -> Path:
    """``timeline_figure`` saved as a PNG at ``out_path``; returns the path."""
    options = {"arms": arms, "incidents_shown": incidents_shown, "max_lanes": max_lanes}
    options |= {"count_from": count_from, "end_s": end_s, "synthetic": synthetic}
    with figure_fonts():
        fig = timeline_figure(events, incidents, start_s=start_s, labels=labels, **options)
        try:
            fig.savefig(out_path, dpi=DPI, bbox_inches="tight")
        finally:
            plt.close(fig)
    return Path(out_path)


# ------------------------------------------------------------------------------------------ chart parts


def _chart(
    events: pd.DataFrame,
    incidents: pd.DataFrame,
    start_s: float,
    labels: Mapping[str, str],
    arms: Sequence[str] | None,
    wanted: Sequence[int | str] | None,
    max_lanes: int,
    count_from: str,
) -> tuple[_Chart, int]:
    """The drawn arms' bars, periods and facts, the lanes, and how many units have no lane. Tiers are
    coloured in the order of the arm with the most tiers (own security, echelon, police)."""
    if "replication" in events and events["replication"].nunique() > 1:
        events = events[events["replication"].eq(events["replication"].min())]
    if "policy" not in events:
        events = events.assign(policy="")
    arms = list(arms) if arms is not None else list(pd.unique(events["policy"]))
    if not arms:
        raise ValueError("no arm to draw: the log is empty")
    shown = shown_incidents(incidents, wanted)
    views = {}
    for arm in arms:
        ev = events[events["policy"].eq(arm)]
        views[arm] = _Arm(
            bars(ev), off_duty(ev), ev[ev["kind"].eq("rerouted")], facts(ev, incidents, list(shown))
        )
    off = list(dict.fromkeys(u for v in views.values() for u, _, _ in v.off))
    lane_list, hidden = lanes({a: v.bars for a, v in views.items()}, off, list(shown), max_lanes)
    injects = events[events["kind"].eq("inject") & events["policy"].eq(arms[0])]
    kinds = incidents.drop_duplicates("incident").set_index("incident")["kind"].astype(str).to_dict()
    chart = _Chart(labels, start_s, count_from, shown, kinds, lane_list, views, injects)
    most_first = sorted(
        views.values(), key=lambda v: -max((len(f.targets) for f in v.facts.values()), default=0)
    )
    tiers = dict.fromkeys(t for v in most_first for f in v.facts.values() for t in f.targets)
    chart.colour = {t: TIER_COLOURS[n % len(TIER_COLOURS)] for n, t in enumerate(tiers)}
    return chart, hidden


def _clock(start_s: float) -> str:
    whole = round(start_s) % 86_400
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}"


def _lane_label(unit: str, kind: str, words: Mapping[str, str]) -> str:
    return words["lane"].format(kind=_word(words, "unit_kind", kind), unit=unit.removesuffix("/guards"))


def _moments(chart: _Chart) -> list[float]:
    """Drill times the x axis must hold: the injects, the shown incidents' moments and their units' work
    (all work when none is shown) and the out-of-service periods; other work may run off the edge."""
    units = {u for u, _ in chart.lanes}
    out = list(chart.injects["t_s"])
    for v in chart.arms.values():
        mine = [b for b in v.bars if b.unit in units and (b.incident in chart.shown or not chart.shown)]
        out += [t for b in mine for t in (b.start_s, b.end_s)]
        out += [t for u, s, e in v.off if u in units for t in (s, e)]
        for f in v.facts.values():
            ref = f.ref(chart.count_from)
            out += [f.start_s, f.alarm_s, f.outcome_s, *(ref + s for s in f.targets.values())]
            out += [t for t, _ in f.first.values()]
    return [t - chart.start_s for t in out if math.isfinite(t)]


def _headers(chart: _Chart, pad: float) -> dict[str, list[tuple[float, str, str, int]]]:
    """Per panel, its header labels (x, text, 'inject' or the tier, row): the injects' in the first panel
    only, then the target lines'; none in a panel whose targets are those of the panel above (the lines
    go on from there)."""
    injects, columns = [], ["t_s", "value", "detail", "incident", "unit"]
    for t, seq, detail, inc, target in chart.injects[columns].itertuples(index=False):
        what = _word(chart.words, "inject", str(detail))
        target = chart.shown.get(inc) or (target if len(target) <= 24 else target[:23] + "…")
        text = chart.words["inject_line"].format(
            seq=int(seq) if math.isfinite(seq) else "", what=what, target=target
        )
        injects.append((t - chart.start_s, text.strip()))
    levels = _levels(injects, chart.s_per_in, pad)
    heads, above = {}, None
    for n, arm in enumerate(chart.arms):
        mine = _target_labels(chart, arm, pad)
        top = max(levels, default=-1) + 1 if n == 0 else 0
        head = [(x, s, "inject", lv) for (x, s), lv in zip(injects, levels, strict=True)] if n == 0 else []
        if [i[:3] for i in mine] != above:
            head += [(x, s, t, lv + top) for x, s, t, lv in mine]
        heads[arm], above = head, [i[:3] for i in mine]
    return heads


def _target_labels(chart: _Chart, arm: str, pad: float) -> list[tuple[float, str, str, int]]:
    """(x, text, tier, row) of each target line of one panel: 'I1 echelon 3 min', or 'I1 3 min' (the
    tier told by its colour) when the long labels would need more than ``MAX_LONG_LEVELS`` rows."""
    words, several = chart.words, len(chart.shown) > 1
    lines = [
        (chart.shown[inc] if several else "", tier, f.ref(chart.count_from) + target - chart.start_s, target)
        for inc, f in chart.arms[arm].facts.items()
        for tier, target in f.targets.items()
        if math.isfinite(f.ref(chart.count_from))
    ]
    for key in ("target_line", "target_short"):
        items = [
            (x, words[key].format(incident=inc, tier=_word(words, "tier", tier), target=duration(s, words)))
            for inc, tier, x, s in lines
        ]
        levels = _levels(items, chart.s_per_in, pad)
        if max(levels, default=0) < MAX_LONG_LEVELS:
            break
    return [(x, text.strip(), line[1], lv) for (x, text), line, lv in zip(items, lines, levels, strict=True)]


def _panel(ax, chart: _Chart, arm: str, head: Sequence[tuple[float, str, str, int]]) -> None:
    """One arm's panel: header labels, incident rows, then the lanes (y grows downwards)."""
    view, s0, x1 = chart.arms[arm], chart.start_s, chart.x1
    top = max((i[3] for i in head), default=-1) + 1
    inc_y = {inc: top + n for n, inc in enumerate(chart.shown)}
    lane0 = top + len(chart.shown) + 0.4
    lane_y = {u: lane0 + n for n, (u, _) in enumerate(chart.lanes)}
    ax.set_ylim(lane0 + len(chart.lanes) - 0.4, -0.6)
    ax.axhline(lane0 - 0.7, color="#888888", lw=0.8, zorder=1)
    kinds = [k for _, k in chart.lanes]
    groups = [n for n in range(len(kinds)) if n == 0 or kinds[n] != kinds[n - 1]] + [len(kinds)]
    for a, b in list(itertools.pairwise(groups))[1::2]:  # every other kind on a grey ground
        ax.axhspan(lane0 + a - 0.5, lane0 + b - 0.5, color="#f0f0f0", zorder=0, lw=0)
    ax.grid(axis="x", which="major", color="#e4e4e4", lw=0.6)
    ax.set_axisbelow(True)
    for unit, s, e in (o for o in view.off if o[0] in lane_y):
        box = (s - s0, lane_y[unit] - 0.42), min(e - s0, x1) - (s - s0), 0.84
        ax.add_patch(Rectangle(*box, **HATCH, zorder=1, gid=f"off|{unit}"))
    for b in (b for b in view.bars if b.unit in lane_y):
        x, width = b.start_s - s0, min(b.end_s - s0, x1) - (b.start_s - s0)
        faded = b.incident not in chart.shown
        style = {"facecolor": PHASE_COLOURS[b.phase], "lw": 0, "alpha": 0.35 if faded else 1.0, "zorder": 2}
        ax.add_patch(Rectangle((x, lane_y[b.unit] - 0.3), width, 0.6, **style, gid=f"{b.phase}|{b.unit}"))
        if len(chart.shown) > 1 and not faded and b.phase == "on_scene" and width > 0.3 * chart.s_per_in:
            small = NOTE | {"fontsize": FONT - 1.5, "color": "white", "clip_on": True}
            ax.text(x + 0.03 * chart.s_per_in, lane_y[b.unit], chart.shown[b.incident], **small)
    for t, unit, detail in view.reroutes[["t_s", "unit", "detail"]].itertuples(index=False):
        if unit in lane_y:
            marker = "X" if detail in STOPPED else "^"
            ax.plot(
                t - s0,
                lane_y[unit],
                marker=marker,
                ms=7,
                mfc="white",
                mec="black",
                **MARK,
                gid=f"rerouted|{unit}",
            )
    for t in chart.injects["t_s"]:
        ax.axvline(t - s0, **INJECT_LINE, zorder=1.5, gid="inject")
    for x, text, style, level in head:
        if style == "inject":
            ax.text(x, level, text, bbox=INJECT_BOX, **NOTE)
        else:
            ax.text(x, level, " " + text, color=chart.colour[style], weight="bold", path_effects=HALO, **NOTE)
    for inc, f in view.facts.items():
        _incident(ax, chart, f, inc_y[inc], chart.shown[inc])
        _arrivals(ax, chart, arm, inc, inc_y[inc], lane_y)
    rows = [_incident_row(chart, inc) for inc in chart.shown]
    lane_labels = [_lane_label(u, k, chart.words) for u, k in chart.lanes]
    ax.set_yticks([*inc_y.values(), *lane_y.values()], rows + lane_labels, fontsize=FONT)
    for label in ax.get_yticklabels()[: len(rows)]:
        label.set_weight("bold")
    ax.tick_params(axis="y", length=0)


def _incident(ax, chart: _Chart, f: Facts, y: float, name: str) -> None:
    """An incident's row (start, alarm, outcome), its alarm line and its target lines."""
    s0 = chart.start_s
    end = f.outcome_s if math.isfinite(f.outcome_s) else chart.x1 + s0
    ax.plot([f.start_s - s0, end - s0], [y, y], color="#999999", lw=1.2, zorder=2)
    ax.plot(f.start_s - s0, y, marker=">", ms=7, color="black", **MARK, gid=f"start|{name}")
    if math.isfinite(f.alarm_s):
        ax.axvline(f.alarm_s - s0, **ALARM_LINE, zorder=2, gid=f"alarm|{name}")
        ax.plot(f.alarm_s - s0, y, marker="D", ms=6, color="black", **MARK)
    if f.outcome:
        colour = BAD if f.outcome in BAD_OUTCOMES else GOOD
        ax.plot(f.outcome_s - s0, y, color=colour, **STAR, gid=f"outcome|{name}|{f.outcome}")
        ax.text(
            f.outcome_s - s0, y, "   " + _word(chart.words, "outcome", f.outcome), path_effects=HALO, **NOTE
        )
    if math.isfinite(f.coordinated_s):
        x, by = f.coordinated_s - s0, f.coordinated_by
        ax.plot(
            x,
            y,
            marker="h",
            ms=8,
            mfc=COORDINATED,
            mec="black",
            mew=0.6,
            **(MARK | {"zorder": 4.5}),  # under an outcome's star at the same moment
            gid=f"coordinated|{name}|{by}",
        )
        since = duration(f.coordinated_s - f.alarm_s, chart.words) if math.isfinite(f.alarm_s) else ""
        ax.annotate(
            chart.words[f"coordinated_{by}"].format(time=since).strip("，, "),
            (x, y),
            xytext=(0, 9),
            textcoords="offset points",
            ha="center",
            color="#333333",
            bbox=NOTE_BOX,
            gid=f"note|coordinated|{by}",
            **NOTE,
        )
    ref = f.ref(chart.count_from)
    for tier, target in f.targets.items() if math.isfinite(ref) else ():
        line = {"color": chart.colour[tier], "lw": 1.3, "alpha": 0.8, "zorder": 2.5}
        ax.axvline(ref + target - s0, **line, gid=f"target|{name}|{tier}")


def _arrivals(ax, chart: _Chart, arm: str, inc: int, row: float, lane_y: Mapping[str, float]) -> None:
    """Each tier's first unit on scene: a dot on its lane (on the incident's row if it has none) with its
    time from the alarm (or the incident's start). With several arms, bold where some arm's differs from
    the first arm's, with the difference; where the first arm had a unit on scene and this one none, a
    cross on that unit's lane says so."""
    words, s0, base = chart.words, chart.start_s, chart.base
    since = {
        a: {t: when - v.facts[inc].ref(chart.count_from) for t, (when, _) in v.facts[inc].first.items()}
        for a, v in chart.arms.items()
    }
    f, prefix = chart.arms[arm].facts[inc], f"{chart.shown[inc]} " if len(chart.shown) > 1 else ""
    for tier in dict.fromkeys([*f.targets, *f.first, *since[base]]):
        colour, mine, theirs = chart.colour.get(tier, "#333333"), since[arm].get(tier), since[base].get(tier)
        if mine is None:
            if theirs is not None and arm != base:
                when, unit = chart.arms[base].facts[inc].first[tier]
                key = "not_on_scene" if tier in f.targets else "no_tier"
                note = words[key].format(
                    tier=_word(words, "tier", tier), arm=base, time=duration(theirs, words)
                )
                _dot(ax, when - s0, lane_y.get(unit, row), prefix + note, colour, "X", True, f"none|{tier}")
            continue
        others = [since[a].get(tier) for a in chart.arms if a != arm] if arm == base else [theirs]
        differs = any(o is None or abs(o - mine) >= 1 for o in others)
        text = prefix + (duration(mine, words) if math.isfinite(mine) else "")
        if differs and arm != base:
            key = "vs_missing" if theirs is None else "vs_later" if mine > theirs else "vs_earlier"
            diff = round(mine) - round(theirs or 0.0)  # of the times as shown (whole seconds): it adds up
            text += f" ({words[key].format(diff=duration(diff, words), arm=base)})"
        when, unit = f.first[tier]
        _dot(ax, when - s0, lane_y.get(unit, row), text, colour, "o", differs, f"first|{tier}|{int(differs)}")


def _dot(ax, x: float, y: float, text: str, colour: str, marker: str, bold: bool, gid: str) -> None:
    """A first arrival's marker (bold: it differs between arms) and its note on a white ground."""
    edge = {"mec": "black", "mew": 1.8, "ms": 8.5} if bold else {"mec": "white", "mew": 0.8, "ms": 6.5}
    ax.plot(x, y, marker=marker, mfc=colour, **edge, ls="none", zorder=6, gid=gid)
    style = {"color": colour, "weight": "bold" if bold else "normal", "bbox": NOTE_BOX, **NOTE}
    ax.annotate(text, (x, y), xytext=(6, 0), textcoords="offset points", gid=f"note|{gid}", **style)


def _incident_row(chart: _Chart, inc: int) -> str:
    kind = chart.kinds.get(inc, "")
    return (
        chart.words["incident_row"]
        .format(incident=chart.shown[inc], kind=_word(chart.words, "incident_kind", kind))
        .strip()
    )


def _time_axis(axes: Sequence, chart: _Chart, label: str) -> None:
    """The shared x range, and mm:ss ticks on the bottom panel (at most about 14)."""
    axes[0].set_xlim(chart.x0, chart.x1)
    span = chart.x1 - chart.x0
    major = next((s for s in (60, 120, 300, 600, 900, 1800, 3600) if span / s <= 14), 7200)
    bottom = axes[-1].xaxis
    bottom.set_major_locator(MultipleLocator(major))
    if major <= 1800:
        bottom.set_minor_locator(MultipleLocator(60 if major <= 600 else 300))
    bottom.set_major_formatter(FuncFormatter(mmss))
    for ax in axes[:-1]:
        ax.tick_params(axis="x", labelbottom=False)
    axes[-1].tick_params(axis="x", labelsize=FONT)
    axes[-1].set_xlabel(label, fontsize=FONT + 1)


def _legend(chart: _Chart) -> list:
    """Legend entries for what the chart holds."""
    words, views = chart.words, chart.arms.values()
    handles: list = [Patch(color=PHASE_COLOURS[p], label=words[f"phase.{p}"]) for p in PHASES]
    if any(b.incident not in chart.shown for v in views for b in v.bars):
        handles.append(Patch(color=PHASE_COLOURS["on_scene"], alpha=0.35, label=words["legend_faded"]))
    if any(v.off for v in views):
        handles.append(Patch(**HATCH, label=words["legend_off_duty"]))
    details = {str(d) for v in views for d in v.reroutes["detail"]}
    if details - set(STOPPED):
        handles.append(
            Line2D([], [], marker="^", mfc="white", mec="black", ls="none", label=words["legend_rerouted"])
        )
    if details & set(STOPPED):
        back = words["legend_turned_back"]
        handles.append(Line2D([], [], marker="X", mfc="white", mec="black", ls="none", label=back))
    handles += [
        Line2D([], [], marker=">", color="black", ls="none", label=words["legend_start"]),
        Line2D([], [], marker="D", **ALARM_LINE, label=words["legend_alarm"]),
        Line2D([], [], color=GOOD, **STAR, label=words["legend_good"]),
        Line2D([], [], color=BAD, **STAR, label=words["legend_bad"]),
        Line2D([], [], marker="o", color="#777777", mec="white", ls="none", label=words["legend_first"]),
    ]
    for tier, colour in chart.colour.items():
        target = words["legend_target"].format(tier=_word(words, "tier", tier))
        handles.append(Line2D([], [], color=colour, lw=1.6, label=target))
    if any(math.isfinite(f.coordinated_s) for v in views for f in v.facts.values()):
        mark = {"marker": "h", "mfc": COORDINATED, "mec": "black", "ls": "none"}
        handles.append(Line2D([], [], **mark, label=words["legend_coordinated"]))
    if len(chart.injects):
        handles.append(Line2D([], [], **INJECT_LINE, label=words["legend_inject"]))
    return handles
