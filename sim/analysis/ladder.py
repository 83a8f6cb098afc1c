"""The ladder: what each part of the police-enterprise platform adds to the baseline. Pure functions.

The platform policy (e.g. ``echelon_135``) differs from the baseline (``police_only``) in five parts at once:
the one-key alarm, the enterprises' own guards as a tier, the 1-3-5 echelons, drones, and county
coordination. ``rung_policy`` builds the target policy with only some parts switched on. Adding parts one
by one (an order) splits the total difference into steps that add up exactly, but a step's size depends
on what came before it (guards help less once echelons are there). The Shapley value averages a part's
step over every order, so it does not depend on any one order, and the parts' values still add up to the
total. Both are computed per replication (the rungs share their incidents) and then averaged, with a
paired 95% Student-t interval.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from sim.analysis.metrics import RATE_NAME, VALUE_NAME, ci95_half_width, metric_unit
from sim.config import LadderConfig, PolicyConfig
from sim.errors import ConfigError

PARTS = LadderConfig.PARTS
PART_OF_MEMBERS = {"own_security": "guards", "grid_echelon": "echelons", "nearest_echelon": "echelons"}
FEW = "n/a: fewer than 2 replications"
NO_DIFFERENCE = "no difference on any replication"
SAME_DIFFERENCE = "the same difference on every replication"
Rung = frozenset[str]


# ------------------------------------------------------------------------------------------------- rungs


def _keeps(members: str, parts_on: Iterable[str]) -> bool:
    """Police tiers (and any tier of no part) stay on every rung; guards and echelons only with their part."""
    part = PART_OF_MEMBERS.get(members)
    return part is None or part in parts_on


def rung_policy(target: PolicyConfig, baseline: PolicyConfig, parts_on: Iterable[str]) -> PolicyConfig:
    """The target policy with only ``parts_on`` switched on; each part switched off is the baseline's.

    The name (dispatch function) stays the target's: with police tiers only it dispatches as police_only."""
    parts_on = set(parts_on)
    unknown = sorted(parts_on - set(PARTS))
    if unknown:
        raise ValueError(f"unknown ladder parts {unknown}; parts are {', '.join(PARTS)}")
    tiers = [t for t in target.tiers if _keeps(t.members, parts_on)]
    if not any(t.members.startswith("police") for t in tiers):
        raise ConfigError(
            f"config key 'policy.tiers': the ladder needs a police tier in policy '{target.name}' "
            "(it stays on every rung), got members " + ", ".join(t.members for t in target.tiers)
        )
    drones = target if "drones" in parts_on else baseline
    return dataclasses.replace(
        target,
        alarm=(target if "one_key" in parts_on else baseline).alarm,
        coordination=(target if "county" in parts_on else baseline).coordination,
        tiers=tiers,
        drone_patrols=drones.drone_patrols,
        drone_overwatch=drones.drone_overwatch,
        drone_overwatch_range_m=drones.drone_overwatch_range_m,
    )


def rung_zero_differences(target: PolicyConfig, baseline: PolicyConfig) -> list[str]:
    """Settings in which rung 0 (no part on) differs from the baseline policy; [] when it behaves alike."""
    zero = rung_policy(target, baseline, set())
    served = [t for t in baseline.tiers if t.members.startswith("police")]  # police_only serves only these
    tiers = served if baseline.name == "police_only" else baseline.tiers
    out = [
        name
        for name in ("alarm", "coordination", "drone_patrols", "drone_overwatch", "count_from")
        if getattr(zero, name) != getattr(baseline, name)
    ]
    if zero.drone_overwatch and zero.drone_overwatch_range_m != baseline.drone_overwatch_range_m:
        out.append("drone_overwatch_range_m")
    if zero.tiers != tiers:
        out.append("tiers (the target's police tiers: " + ", ".join(t.name for t in zero.tiers) + ")")
    return out


def describe_parts(target: PolicyConfig, baseline: PolicyConfig, steps: Sequence[str]) -> dict[str, str]:
    """What switching each part on changes, for this target and baseline, in words for the report."""

    def tiers(part: str) -> str:
        names = [
            t.name if t.name == t.members else f"{t.name} ({t.members})"
            for t in target.tiers
            if PART_OF_MEMBERS.get(t.members) == part
        ]
        return "adds the tier " + ", ".join(names) if names else "nothing: the target has no such tier"

    def switch(name: str) -> str:
        old, new = getattr(baseline, name), getattr(target, name)
        return f"{name} {old} -> {new}" if old != new else f"{name} stays {new}"

    words = {
        "one_key": switch("alarm"),
        "guards": tiers("guards"),
        "echelons": tiers("echelons"),
        "drones": f"{switch('drone_patrols')}, {switch('drone_overwatch')}",
        "county": switch("coordination"),
    }
    return {part: words[part] for part in steps}


def ladder_rungs(steps: Sequence[str]) -> list[Rung]:
    """The ordered ladder: no part, the first step, the first two, ..., all of them."""
    return [frozenset(steps[:k]) for k in range(len(steps) + 1)]


def rungs_to_run(steps: Sequence[str], shapley: bool) -> list[Rung]:
    """Each distinct subset of parts once: the ladder's rungs first, then (for Shapley) every other subset."""
    ladder = ladder_rungs(steps)
    if not shapley:
        return ladder
    every = [frozenset(c) for size in range(len(steps) + 1) for c in combinations(steps, size)]
    return ladder + [s for s in every if s not in ladder]


def rung_label(parts_on: Iterable[str], steps: Sequence[str], baseline_label: str) -> str:
    """'police_only' for no part; else '+one_key+guards' with the parts in the configured order."""
    parts_on = set(parts_on)
    return "".join(f"+{s}" for s in steps if s in parts_on) or baseline_label


# ----------------------------------------------------------------------------------------- contributions


def ordered_steps(ladder: np.ndarray) -> np.ndarray:
    """Per replication, each step's contribution M_k - M_{k-1}; ``ladder`` is (n+1 rungs, replications)."""
    return np.diff(np.asarray(ladder, dtype=float), axis=0)


def shapley_weight(size: int, n: int) -> float:
    """|S|!(n-|S|-1)!/n!: the share of the n! orders in which a part comes right after the set S."""
    return math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)


def shapley_values(values: Mapping[Rung, np.ndarray], parts: Sequence[str]) -> np.ndarray:
    """Per part and replication: phi_i = sum over S without i of w(|S|) (v(S + i) - v(S)).

    ``values`` maps every subset of ``parts`` to its per-replication metric; the result is (parts, reps)."""
    n = len(parts)
    reps = len(np.asarray(values[frozenset()]))
    phi = np.zeros((n, reps))
    for i, part in enumerate(parts):
        others = [p for p in parts if p != part]
        for size in range(n):
            weight = shapley_weight(size, n)
            for subset in combinations(others, size):
                s = frozenset(subset)
                phi[i] += weight * (np.asarray(values[s | {part}], float) - np.asarray(values[s], float))
    return phi


@dataclass(frozen=True)
class Interval:
    """A paired mean with its 95% CI; low/high are NaN when there is no honest interval (see ``note``)."""

    mean: float
    low: float
    high: float
    n: int
    note: str = ""


def paired_interval(diffs: Iterable[float], bounds: tuple[float, float] = (-math.inf, math.inf)) -> Interval:
    """Mean and 95% Student-t CI of per-replication differences, kept inside what is possible (``bounds``).

    Fewer than two pairs, or no spread at all, gives no interval but a note that says why."""
    d = np.asarray(list(diffs), dtype=float)
    n = len(d)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, FEW)
    mean = float(d.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, FEW)
    if np.all(d == 0):
        return Interval(0.0, math.nan, math.nan, n, NO_DIFFERENCE)
    if np.all(d == d[0]):
        return Interval(mean, math.nan, math.nan, n, SAME_DIFFERENCE)
    half = ci95_half_width(d)
    low, high = max(mean - half, bounds[0]), min(mean + half, bounds[1])
    return Interval(mean, low, high, n)


def difference_bounds(metric: str) -> tuple[float, float]:
    """What a difference of two values of this metric can be: shares differ by at most 1 either way."""
    return (-1.0, 1.0) if metric_unit(metric) == "share" else (-math.inf, math.inf)


def metric_kind(metric: str) -> str:
    """Which incidents a headline metric is about, in words for the report."""
    rates = "|".join(map(re.escape, RATE_NAME.values()))
    if m := re.fullmatch(rf"({rates})_(.+)", metric):
        return m[2]
    for kind, name in VALUE_NAME.items():
        if metric == name:
            return kind
    if m := re.fullmatch(r"mean_outcome_value_(.+)", metric):
        return m[1]
    if m := re.fullmatch(r"tier_(.+?)_(target_met|median|p90|share_arrived).*", metric):
        return f"every kind the {m[1].replace('_', ' ')} tier answers"
    if metric.startswith("utilisation_"):
        return "units, not incidents"
    return "every kind"


# ----------------------------------------------------------------------------------------------- tables


def metric_matrix(rows: pd.DataFrame, metric: str, labels: Sequence[str]) -> pd.DataFrame:
    """Replications x rungs of one metric, keeping only replications where it is finite on every rung.

    A replication without, say, a fire has no flashover rate on any rung; an infinite median (most never
    arrived) has no difference. Dropping the replication keeps the steps adding up to the total."""
    if metric not in rows:
        return pd.DataFrame(columns=list(labels), dtype=float)
    wide = rows.pivot(index="replication", columns="rung", values=metric).reindex(columns=list(labels))
    wide = wide.astype(float)
    return wide[np.isfinite(wide.to_numpy()).all(axis=1)]


def _interval_row(iv: Interval) -> dict[str, object]:
    return {"mean": iv.mean, "ci95_low": iv.low, "ci95_high": iv.high, "n": iv.n, "note": iv.note}


def _labels(steps: Sequence[str], baseline_label: str, shapley: bool) -> list[str]:
    """Labels of every rung run, the ladder's n+1 first: one list, so every table drops the same
    replications (those where any rung run lacks the metric) and steps, Shapley values and totals agree."""
    return [rung_label(s, steps, baseline_label) for s in rungs_to_run(steps, shapley)]


def contributions_table(
    rows: pd.DataFrame, metrics: Sequence[str], steps: Sequence[str], baseline_label: str, shapley: bool
) -> pd.DataFrame:
    """Per metric and step (in the configured order): the step's mean contribution with its paired CI and
    the means of the rungs before and after it, over the replications where the metric is defined."""
    every = _labels(steps, baseline_label, shapley)
    labels = every[: len(steps) + 1]
    out = []
    for metric in metrics:
        matrix = metric_matrix(rows, metric, every)[labels]
        diffs = ordered_steps(matrix.to_numpy().T)  # steps x replications (none: steps x 0)
        for k, step in enumerate(steps, start=1):
            out.append(
                {
                    "metric": metric,
                    "unit": metric_unit(metric),
                    "kind": metric_kind(metric),
                    "position": k,
                    "step": step,
                    "from_rung": labels[k - 1],
                    "to_rung": labels[k],
                    "from_mean": float(matrix[labels[k - 1]].mean()),
                    "to_mean": float(matrix[labels[k]].mean()),
                    **_interval_row(paired_interval(diffs[k - 1], difference_bounds(metric))),
                }
            )
    return pd.DataFrame(out)


def shapley_table(
    rows: pd.DataFrame, metrics: Sequence[str], steps: Sequence[str], baseline_label: str
) -> pd.DataFrame:
    """Per metric and part: its Shapley value (order-free share of the total) with a paired CI, and beside
    it the part's contribution in the configured order, to show how much the order mattered."""
    subsets = rungs_to_run(steps, shapley=True)
    labels = _labels(steps, baseline_label, shapley=True)
    out = []
    for metric in metrics:
        matrix = metric_matrix(rows, metric, labels)
        values = {s: matrix[label].to_numpy() for s, label in zip(subsets, labels, strict=True)}
        phi = shapley_values(values, steps)  # parts x replications (none: parts x 0)
        ordered = ordered_steps(matrix[labels[: len(steps) + 1]].to_numpy().T)
        for k, part in enumerate(steps):
            out.append(
                {
                    "metric": metric,
                    "unit": metric_unit(metric),
                    "kind": metric_kind(metric),
                    "part": part,
                    "position": k + 1,
                    **_interval_row(paired_interval(phi[k], difference_bounds(metric))),
                    "ordered_mean": float(ordered[k].mean()) if len(matrix) else math.nan,
                }
            )
    return pd.DataFrame(out)


def totals_table(
    rows: pd.DataFrame,
    metrics: Sequence[str],
    steps: Sequence[str],
    baseline_label: str,
    shapley: bool,
) -> pd.DataFrame:
    """Per metric: baseline and full-platform means and their paired difference, over the same replications
    the step tables use (every rung run must have the metric), so the steps add up to this total."""
    labels = _labels(steps, baseline_label, shapley)
    bottom, top = labels[0], labels[len(steps)]
    out = []
    for metric in metrics:
        matrix = metric_matrix(rows, metric, labels)
        diffs = (matrix[top] - matrix[bottom]).to_numpy()
        out.append(
            {
                "metric": metric,
                "unit": metric_unit(metric),
                "kind": metric_kind(metric),
                "baseline_rung": bottom,
                "full_rung": top,
                "baseline_mean": float(matrix[bottom].mean()),
                "full_mean": float(matrix[top].mean()),
                **_interval_row(paired_interval(diffs, difference_bounds(metric))),
            }
        )
    return pd.DataFrame(out)
