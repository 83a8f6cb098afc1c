"""The sensitivity analysis's arithmetic: pure functions of the per-arm verdicts (no simulation here).

An arm is one parameter at its low or high value (or every parameter at its default); its verdict is the
paired difference of one metric, target policy minus baseline policy, on the same incidents. The tornado
table puts each parameter's two verdicts side by side, sorted by how far apart they are (the swing).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis import metrics

ARM_COLUMNS = [
    "parameter",
    "side",
    "value",
    "default_value",
    "source",
    "baseline_mean",
    "target_mean",
    "mean_diff",
    "ci95_low",
    "ci95_high",
    "n",
    "not_evidence",
]
DEFAULT = "default"


def arm_value(value: float, default: float) -> int | float:
    """The value as an override writes it: a whole number stays whole when the default is an int."""
    return int(value) if isinstance(default, int) and float(value).is_integer() else float(value)


def override_text(key: str, value: float) -> str:
    """``key=value`` as Hydra reads it back (no exponent Hydra would read as a string)."""
    text = str(value) if isinstance(value, int) else repr(float(value))
    return f"{key}={text}"


def verdict(rows: pd.DataFrame, counts: pd.DataFrame, metric: str, baseline: str, report) -> dict:
    """The paired difference of ``metric`` (rows of ``per_replication``): mean, 95% CI, n, and why it is
    not evidence if it is not; NaN with n = 0 when no replication has the metric (no such incident)."""
    empty = {
        "baseline_mean": math.nan,
        "target_mean": math.nan,
        "mean_diff": math.nan,
        "ci95_low": math.nan,
        "ci95_high": math.nan,
        "n": 0,
        "not_evidence": f"no replication has {metric}",
    }
    if metric not in rows.columns:
        return empty
    table = rows[["policy", "replication", metric]]
    diffs = metrics.paired_differences(table, baseline, counts, report.min_pairs, report.min_counted)
    if diffs.empty:
        return empty
    row = diffs.iloc[0]
    return {
        "baseline_mean": float(row["baseline_mean"]),
        "target_mean": float(row["policy_mean"]),
        "mean_diff": float(row["mean_diff"]),
        "ci95_low": float(row["ci95_low"]),
        "ci95_high": float(row["ci95_high"]),
        "n": int(row["n"]),
        "not_evidence": str(row["not_evidence"] or ""),
    }


def _flips(default_mean: float, low: float, high: float) -> bool:
    """An arm's CI lies wholly on the other side of 0 from the default verdict."""
    if not (math.isfinite(low) and math.isfinite(high) and math.isfinite(default_mean)):
        return False
    if default_mean > 0:
        return high < 0
    if default_mean < 0:
        return low > 0
    return low > 0 or high < 0  # a default of exactly 0: any arm clear of 0 changes the verdict


def tornado_table(arms: pd.DataFrame) -> pd.DataFrame:
    """One row per parameter: its low and high values and verdicts, the swing (|high - low| verdict), the
    largest move from the default verdict, whether an end can flip the verdict's sign, and whether both
    ends stay within the default verdict's CI half-width. Sorted by swing, largest first."""
    default = arms[arms["side"] == DEFAULT].iloc[0]
    d_mean = float(default["mean_diff"])
    half = (float(default["ci95_high"]) - float(default["ci95_low"])) / 2
    out = []
    for key in [p for p in pd.unique(arms["parameter"]) if p != DEFAULT]:
        sub = arms[arms["parameter"] == key].set_index("side")
        lo, hi = sub.loc["low"], sub.loc["high"]
        moves = [abs(float(r["mean_diff"]) - d_mean) for r in (lo, hi)]
        move = max((m for m in moves if math.isfinite(m)), default=math.nan)
        out.append(
            {
                "parameter": key,
                "source": lo["source"],
                "default_value": lo["default_value"],
                "low": lo["value"],
                "high": hi["value"],
                "diff_at_low": float(lo["mean_diff"]),
                "low_ci95_low": float(lo["ci95_low"]),
                "low_ci95_high": float(lo["ci95_high"]),
                "diff_at_high": float(hi["mean_diff"]),
                "high_ci95_low": float(hi["ci95_low"]),
                "high_ci95_high": float(hi["ci95_high"]),
                "swing": abs(float(hi["mean_diff"]) - float(lo["mean_diff"])),
                "largest_move": move,
                "can_flip": any(
                    _flips(d_mean, float(r["ci95_low"]), float(r["ci95_high"])) for r in (lo, hi)
                ),
                "within_default_ci": bool(math.isfinite(half) and math.isfinite(move) and move < half),
            }
        )
    table = pd.DataFrame(out)
    if table.empty:
        return table
    order = np.argsort(-table["swing"].fillna(-1.0).to_numpy(), kind="stable")
    return table.iloc[order].reset_index(drop=True)
