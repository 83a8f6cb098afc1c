"""Metrics of a run: pure functions of the event log (``EventLog.to_frame()``) and the run's incident table.

Nothing here imports the model, so a log written yesterday, or one read back from CSV, gives the same numbers.

Conventions, kept explicit because the 1-3-5 minute targets mean different things depending on them:

* A tier's arrival is the FIRST ``ARRIVED`` of any unit with that tier (tier >= 1). Drones arrive with tier 0:
  they are overwatch, not a tier, and never count as a tier's arrival.
* A tier is "aimed at" for an incident when the policy emitted a ``TARGET`` for it. A tier aimed at that never
  arrived (before the end of the run) does NOT meet its target; its time is +inf, so percentiles may be inf.
* Time to arrival is counted from one named moment (``count_from``): ``"alarm"`` = the first ``REPORTED``
  (the alarm reaches a command room), ``"incident"`` = the occurrence, ``"dispatch"`` = the tier's first
  ``DISPATCHED``. Every metric name and every figure says which.
* Outcome shares are over the incidents of a kind that HAVE an outcome; ``share_no_outcome`` says how many did
  not (still open at the end of the run).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import pandas as pd

from sim.model.events import COLUMNS, EventKind

COUNT_FROM = ("alarm", "incident", "dispatch")
THRESHOLDS_S = (60.0, 180.0, 300.0)
MOMENT = {
    "alarm": "the alarm (the report reaching a command room)",
    "incident": "the incident's occurrence",
    "dispatch": "the tier's first dispatch",
}
HEADLINE_COUNT_FROM = ("alarm", "incident")
DRONE = "drone"

# Outcomes each incident kind can end in. Headline rates are emitted for all of them (0 when none happened),
# so a replication in which nobody escaped still contributes a 0, not a missing value, to the mean.
KIND_OUTCOMES: dict[str, tuple[str, ...]] = {
    "theft": ("escaped", "intercepted"),
    "data_leak": ("escaped", "intercepted"),
    "dispute": ("escalated", "calmed"),
    "cross_district_dispute": ("escalated", "calmed"),
    "illegal_drone": ("operator_left", "operator_caught"),
    "fire": ("flashover", "controlled"),
    "chemical_leak": ("contained", "uncontained"),
}
RATE_NAME = {
    "escaped": "escape_rate",
    "intercepted": "interception_rate",
    "escalated": "escalation_rate",
    "calmed": "calming_rate",
    "operator_left": "operator_left_rate",
    "operator_caught": "operator_caught_rate",
    "flashover": "flashover_rate",
    "controlled": "controlled_rate",
    "contained": "containment_rate",
    "uncontained": "uncontained_rate",
}
VALUE_NAME = {"chemical_leak": "mean_leak_area_m2"}


# ----------------------------------------------------------------------------------------------- helpers


# Inside ``same_logs()``: results per event log object (id -> (the log, {what: result})); else None.
_PER_LOG: dict[int, tuple[pd.DataFrame, dict[str, object]]] | None = None


@contextmanager
def same_logs() -> Iterator[None]:
    """Within the block, each event log is checked and sorted once, and its queueing table computed once,
    however many metrics read it (``write_results`` asks for every metric of every log, some twice).

    Only for logs that nothing changes in place during the block: a result is found again by the log
    object, not by its content (each log is held until the block ends, so an id is never reused)."""
    global _PER_LOG
    outer = _PER_LOG
    _PER_LOG = {} if outer is None else outer
    try:
        yield
    finally:
        _PER_LOG = outer


def _per_log(
    what: str, events: pd.DataFrame, compute: Callable[[pd.DataFrame], pd.DataFrame]
) -> pd.DataFrame:
    """``compute(events)``, remembered for this log object inside ``same_logs()``."""
    if _PER_LOG is None:
        return compute(events)
    _, results = _PER_LOG.setdefault(id(events), (events, {}))
    if what not in results:
        results[what] = compute(events)
    return results[what]  # type: ignore[return-value]


def _check_events(events: pd.DataFrame) -> pd.DataFrame:
    """The log sorted by time (stable: insertion order breaks ties), so 'first' means first in sim time."""
    return _per_log("checked", events, _checked)


def _checked(events: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(f"not an Echelon event log: missing columns {missing}")
    frame = events[COLUMNS].copy()
    frame["kind"] = frame["kind"].astype(str)
    frame["unit"] = frame["unit"].fillna("").astype(str)
    frame["unit_kind"] = frame["unit_kind"].fillna("").astype(str)
    frame["detail"] = frame["detail"].fillna("").astype(str)
    frame["incident"] = frame["incident"].astype("int64")
    frame["tier"] = frame["tier"].astype("int64")
    frame["t_s"] = frame["t_s"].astype(float)
    frame["value"] = frame["value"].astype(float)
    return frame.sort_values("t_s", kind="stable").reset_index(drop=True)


def _of_kind(events: pd.DataFrame, kind: EventKind) -> pd.DataFrame:
    return events[(events["kind"] == kind.value) & (events["incident"] >= 0)]


def _first(events: pd.DataFrame, kind: EventKind) -> pd.DataFrame:
    """The first event of a kind per incident (all its columns), indexed by incident."""
    return _of_kind(events, kind).drop_duplicates("incident", keep="first").set_index("incident")


def _last(events: pd.DataFrame, kind: EventKind) -> pd.DataFrame:
    """The last event of a kind per incident: an incident's final word (e.g. its outcome)."""
    return _of_kind(events, kind).drop_duplicates("incident", keep="last").set_index("incident")


def _nan_to_none(detail: pd.Series) -> pd.Series:
    """Empty detail strings mean 'not given': show them as missing, not as a category called ''."""
    return detail.where(detail != "")


def tiers_in(table: pd.DataFrame) -> list[int]:
    """The tier numbers an incident table has columns for (from ``target_s_k`` / ``arrive_s_k``)."""
    found = {int(m.group(2)) for c in table.columns if (m := re.fullmatch(r"(target_s|arrive_s)_(\d+)", c))}
    return sorted(found)


def tier_name(table: pd.DataFrame, tier: int) -> str:
    """The tier's name as the policy gave it in its TARGET events (e.g. 'echelon'), or '' if unknown."""
    column = f"tier_name_{tier}"
    if column not in table:
        return ""
    names = table[column].dropna()
    return str(names.iloc[0]) if len(names) else ""


def moment(count_from: str) -> str:
    """Plain words for the moment a time is counted from, for titles and reports."""
    _check_count_from(count_from)
    return MOMENT[count_from]


def _check_count_from(count_from: str) -> None:
    if count_from not in COUNT_FROM:
        raise ValueError(f"count_from must be one of {COUNT_FROM}, got {count_from!r}")


def quantile_inf(values: Iterable[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default) that stays honest with +inf: if the quantile falls
    on or next to a never-arrived (+inf) value, it is inf, never a NaN from inf - inf. NaNs are ignored."""
    v = np.sort(np.asarray(list(values), dtype=float))
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return math.nan
    h = (len(v) - 1) * q
    lo, hi = math.floor(h), math.ceil(h)
    if lo == hi or v[lo] == v[hi]:
        return float(v[lo])
    if math.isinf(v[hi]):
        return math.inf
    return float(v[lo] + (v[hi] - v[lo]) * (h - lo))


def ci95_half_width(values: Iterable[float]) -> float:
    """Half-width of the 95% Student-t confidence interval of the mean, ignoring NaNs.

    NaN when fewer than two values remain (no spread to estimate) or any value is infinite."""
    v = np.asarray(list(values), dtype=float)
    v = v[~np.isnan(v)]
    if len(v) < 2 or not np.all(np.isfinite(v)):
        return math.nan
    return float(_t_975(len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))


def _t_975(dof: int) -> float:
    """The Student-t quantile of a 95% two-sided interval: scipy.special's inverse of the t distribution,
    the very number ``scipy.stats.t.ppf(0.975, dof)`` gives, without importing scipy.stats (1.2 s)."""
    from scipy import special

    return float(special.stdtrit(dof, 0.975))


def _nanmean(values: np.ndarray) -> float:
    v = values[~np.isnan(values)]
    return float(v.mean()) if len(v) else math.nan


# ------------------------------------------------------------------------------------------ incident table


def _base_rows(events: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """One row per incident known to either the incident table or the log, with the table's attributes."""
    if "incident" not in incidents.columns:
        raise ValueError("incident table has no 'incident' column")
    attrs = incidents.drop_duplicates("incident").set_index("incident")
    in_log = pd.Index(events.loc[events["incident"] >= 0, "incident"].unique())
    ids = pd.Index(attrs.index.astype("int64")).union(in_log)
    return attrs.reindex(ids).rename_axis("incident")


def _tier_columns(events: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Per tier k: tier_name_k, target_s_k, t_dispatched_k and arrive_s_k (first arrival; NaN if none)."""
    targets = _of_kind(events, EventKind.TARGET)
    targets = targets[targets["tier"] > 0].drop_duplicates(["incident", "tier"], keep="first")
    dispatched = _of_kind(events, EventKind.DISPATCHED)
    dispatched = dispatched[dispatched["tier"] > 0].drop_duplicates(["incident", "tier"], keep="first")
    arrived = _of_kind(events, EventKind.ARRIVED)
    arrived = arrived[(arrived["tier"] > 0) & (arrived["unit_kind"] != DRONE)]
    arrived = arrived.drop_duplicates(["incident", "tier"], keep="first")
    tiers = sorted(set(targets["tier"]) | set(arrived["tier"]))
    columns: dict[str, pd.Series] = {}
    for k in tiers:
        target_k = targets[targets["tier"] == k].set_index("incident")
        arrive_k = arrived[arrived["tier"] == k].set_index("incident")
        names = _nan_to_none(target_k["detail"]).reindex(index)
        columns[f"tier_name_{k}"] = names.fillna(_nan_to_none(arrive_k["unit_kind"]).reindex(index))
        columns[f"target_s_{k}"] = target_k["value"].reindex(index)
        columns[f"t_dispatched_{k}"] = (
            dispatched[dispatched["tier"] == k].set_index("incident")["t_s"].reindex(index)
        )
        columns[f"arrive_s_{k}"] = arrive_k["t_s"].reindex(index)
    return pd.DataFrame(columns, index=index)


def incident_table(events: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """One row per incident: when it happened, was detected, reported and decided; per tier its target and
    first arrival, as absolute time and as time counted from the incident, the alarm and the tier's dispatch;
    how it ended; and the incident table's attributes (kind, grid, station, area_class, ...).

    Missing moments stay NaN (an incident never reported has no ``t_reported``, an open one no ``outcome``).
    """
    ev = _check_events(events)
    rows = _base_rows(ev, incidents)
    index = rows.index
    occurred, detected, reported = (
        _first(ev, k) for k in (EventKind.OCCURRED, EventKind.DETECTED, EventKind.REPORTED)
    )
    outcome = _last(ev, EventKind.OUTCOME)
    handoffs = _of_kind(ev, EventKind.HANDOFF).groupby("incident")["value"].sum(min_count=1)
    t_table = rows["t_s"] if "t_s" in rows else pd.Series(math.nan, index=index)
    kind_table = rows["kind"] if "kind" in rows else pd.Series(None, index=index, dtype=object)
    detect_mode = _nan_to_none(detected["detail"]).reindex(index)
    table = pd.DataFrame(
        {
            "kind": kind_table.where(kind_table.notna(), _nan_to_none(occurred["detail"]).reindex(index)),
            "t_occurred": occurred["t_s"].reindex(index).fillna(t_table.astype(float)),
            "t_detected": detected["t_s"].reindex(index),
            "detect_mode": detect_mode,
            "first_detected_from_air": detect_mode.eq(DRONE).fillna(False).astype(bool),
            "t_reported": reported["t_s"].reindex(index),
            "channel": _nan_to_none(reported["detail"]).reindex(index),
            "t_decided": _first(ev, EventKind.DECIDED)["t_s"].reindex(index),
            "t_contained": _first(ev, EventKind.CONTAINED)["t_s"].reindex(index),
            "handoff_s": handoffs.reindex(index),
            "outcome": _nan_to_none(outcome["detail"]).reindex(index),
            "outcome_value": outcome["value"].reindex(index),
        },
        index=index,
    )
    tiers = _tier_columns(ev, index)
    derived: dict[str, pd.Series] = {}
    for k in tiers_in(tiers):
        arrive = tiers[f"arrive_s_{k}"]
        derived[f"from_incident_s_{k}"] = arrive - table["t_occurred"]
        derived[f"from_alarm_s_{k}"] = arrive - table["t_reported"]
        derived[f"from_dispatch_s_{k}"] = arrive - tiers[f"t_dispatched_{k}"]
    attributes = rows.drop(columns=[c for c in ("t_s", "kind") if c in rows])
    out = pd.concat([table, tiers, pd.DataFrame(derived, index=index), attributes], axis=1)
    return out.reset_index()


# ------------------------------------------------------------------------------------------- tier metrics


def tier_times(table: pd.DataFrame, tier: int, count_from: str = "alarm") -> pd.DataFrame:
    """For the incidents whose policy aimed at ``tier``: time to its first arrival counted from
    ``count_from`` (+inf = never arrived) and the target, indexed by incident.

    Incidents where the tier arrived but the starting moment is unknown (e.g. no alarm in the log) are left
    out: their time cannot be counted from that moment."""
    _check_count_from(count_from)
    target_col = f"target_s_{tier}"
    if target_col not in table:
        return pd.DataFrame({"time_s": pd.Series(dtype=float), "target_s": pd.Series(dtype=float)})
    aimed = table[table[target_col].notna()]
    arrive = aimed[f"arrive_s_{tier}"]
    time_s = aimed[f"from_{count_from}_s_{tier}"].where(arrive.notna(), math.inf)
    keep = time_s.notna()
    out = pd.DataFrame({"time_s": time_s[keep].astype(float), "target_s": aimed.loc[keep, target_col]})
    if "incident" in aimed:
        out.index = aimed.loc[keep, "incident"].to_numpy()
    return out.rename_axis("incident")


def tier_met(table: pd.DataFrame, tier: int, count_from: str = "alarm") -> pd.Series:
    """Per incident aimed at ``tier``: did its first arrival come within the tier's own target?"""
    times = tier_times(table, tier, count_from)
    return (times["time_s"] <= times["target_s"]).rename("met")


def _share(mask: np.ndarray) -> float:
    """Share of True; NaN (not 0) when there is nothing to count, so an unused tier does not read as 0%."""
    return float(np.mean(mask)) if len(mask) else math.nan


def _one_tier(table: pd.DataFrame, tier: int, count_from: str) -> dict[str, object]:
    """One row of ``tier_metrics``."""
    times = tier_times(table, tier, count_from)
    t = times["time_s"].to_numpy(dtype=float)
    n = len(t)
    row: dict[str, object] = {
        "tier": tier,
        "tier_name": tier_name(table, tier),
        "count_from": count_from,
        "n": n,
        "target_s_min": float(times["target_s"].min()) if n else math.nan,
        "target_s_max": float(times["target_s"].max()) if n else math.nan,
        "share_met": _share(t <= times["target_s"].to_numpy(dtype=float)),
    }
    for threshold in THRESHOLDS_S:
        row[f"share_within_{threshold:g}s"] = _share(t <= threshold)
    row["share_arrived"] = _share(np.isfinite(t))
    row["median_s"] = quantile_inf(t, 0.5)
    row["p90_s"] = quantile_inf(t, 0.9)
    row["p95_s"] = quantile_inf(t, 0.95)
    return row


def tier_metrics(table: pd.DataFrame, count_from: str = "alarm") -> pd.DataFrame:
    """Per tier: how many incidents it was aimed at, the share meeting its own target, the shares within
    60/180/300 s, the share where it arrived at all, and median/p90/p95 time (inf where too many never came),
    all counted from ``count_from``."""
    _check_count_from(count_from)
    rows = [_one_tier(table, k, count_from) for k in tiers_in(table)]
    columns = [
        "tier",
        "tier_name",
        "count_from",
        "n",
        "target_s_min",
        "target_s_max",
        "share_met",
        *[f"share_within_{t:g}s" for t in THRESHOLDS_S],
        "share_arrived",
        "median_s",
        "p90_s",
        "p95_s",
    ]
    return pd.DataFrame(rows, columns=columns)


# ------------------------------------------------------------------------------------------------ outcomes


def outcome_rates(table: pd.DataFrame) -> pd.DataFrame:
    """Per incident kind: n incidents, how many have an outcome, the share of each outcome among those, and
    the mean numeric outcome value (e.g. leak area m2; NaN where the kind has none)."""
    if table.empty:
        return pd.DataFrame(columns=["kind", "n", "n_outcome", "share_no_outcome", "mean_outcome_value"])
    kinds = table["kind"].fillna("unknown")
    grouped = table.groupby(kinds, sort=True)
    base = pd.DataFrame(
        {
            "n": grouped.size(),
            "n_outcome": grouped["outcome"].count(),
            "mean_outcome_value": grouped["outcome_value"].mean(),
        }
    )
    base["share_no_outcome"] = 1.0 - base["n_outcome"] / base["n"]
    resolved = table[table["outcome"].notna()]
    shares = pd.crosstab(resolved["kind"].fillna("unknown"), resolved["outcome"], normalize="index")
    shares = shares.reindex(base.index).add_prefix("share_")
    shares.columns.name = None
    out = pd.concat(
        [base[["n", "n_outcome", "share_no_outcome"]], shares, base[["mean_outcome_value"]]], axis=1
    )
    return out.rename_axis("kind").reset_index()


# -------------------------------------------------------------------------------------------------- units


def _busy_s(kinds: Iterable[str], times: Iterable[float], horizon_s: float) -> float:
    """Seconds a unit is committed: from each DISPATCHED to the next RETURNED (or the horizon), clipped to
    [0, horizon]. A re-dispatch before returning continues the same busy spell."""
    busy, since = 0.0, None
    for kind, t in zip(kinds, times, strict=True):
        if kind == EventKind.DISPATCHED.value and since is None:
            since = t
        elif kind == EventKind.RETURNED.value and since is not None:
            busy += max(0.0, min(t, horizon_s) - min(since, horizon_s))
            since = None
    if since is not None:
        busy += max(0.0, horizon_s - min(since, horizon_s))
    return busy


def busy_by_unit(events: pd.DataFrame, horizon_s: float) -> pd.DataFrame:
    """Per unit dispatched in the log (index: unit id): its unit_kind and the seconds it was busy."""
    ev = _check_events(events)
    moves = ev[ev["kind"].isin([EventKind.DISPATCHED.value, EventKind.RETURNED.value]) & (ev["unit"] != "")]
    kind_of = moves[moves["kind"] == EventKind.DISPATCHED.value].drop_duplicates("unit").set_index("unit")
    mine = moves[moves["unit"].isin(kind_of.index)]
    # plain lists, not the frame's columns, in the loop: iterating an Arrow string column is slow
    kinds, times = mine["kind"].tolist(), mine["t_s"].tolist()
    busy = {
        u: _busy_s([kinds[i] for i in at], [times[i] for i in at], horizon_s)
        for u, at in sorted(mine.groupby("unit").indices.items())  # sorted, as groupby iterates
    }
    return pd.DataFrame({"unit_kind": kind_of["unit_kind"], "busy_s": pd.Series(busy, dtype=float)})


def utilisation(
    events: pd.DataFrame, horizon_s: float, units: Mapping[str, int] | None = None
) -> pd.DataFrame:
    """Per unit kind: the mean share of the horizon its units spend busy (dispatched and not yet returned).

    Units are those dispatched in the log; ``units`` (unit_kind -> count) adds the idle ones, which count as
    0 busy, so a quiet fleet is not reported as fully used by its one busy unit."""
    if not horizon_s > 0:
        raise ValueError(f"horizon_s must be > 0, got {horizon_s}")
    per_unit = busy_by_unit(events, horizon_s)
    seen = per_unit.groupby("unit_kind").agg(n_units_in_log=("busy_s", "size"), busy_s=("busy_s", "sum"))
    declared = dict(units or {})
    rows = []
    for unit_kind in sorted(set(seen.index) | set(declared)):
        n_log = int(seen["n_units_in_log"].get(unit_kind, 0))
        n_units = int(declared.get(unit_kind, n_log))
        if n_units < n_log:
            raise ValueError(f"units says {n_units} {unit_kind} unit(s) but the log dispatches {n_log}")
        busy_s = float(seen["busy_s"].get(unit_kind, 0.0))
        share = busy_s / (n_units * horizon_s) if n_units else math.nan
        rows.append(
            {
                "unit_kind": unit_kind,
                "n_units": n_units,
                "n_units_in_log": n_log,
                "busy_s": busy_s,
                "utilisation": share,
            }
        )
    return pd.DataFrame(rows, columns=["unit_kind", "n_units", "n_units_in_log", "busy_s", "utilisation"])


def queueing(events: pd.DataFrame) -> pd.DataFrame:
    """Per role: requests, queued ones and the mean wait (``_queueing``); once per log in ``same_logs``."""
    return _per_log("queueing", events, _queueing)


def _queueing(events: pd.DataFrame) -> pd.DataFrame:
    """Per role (a tier's name, or a fire-brigade unit kind): how many requests there were, how many had to
    wait for a busy unit (QUEUED), and the mean wait over ALL requests (0 for one answered at once), so
    that policies where nothing waits compare as 0, not as missing. A waiting request's wait ends when a
    unit is sent, when it is dropped (CANCELLED: the incident was over first), or, for one still waiting,
    at the end of the log (a lower bound; counted in ``unfinished``).

    A request is one (incident, tier) for the policy's tiers, one (incident, unit kind) for the brigade."""
    ev = _check_events(events)
    end_s = float(ev["t_s"].max()) if len(ev) else 0.0
    ev = ev[ev["incident"] >= 0]
    tiers = ev[(ev["tier"] > 0) & (ev["kind"] == EventKind.TARGET.value)]
    tier_requests = tiers.assign(role=tiers["detail"])[["incident", "tier", "role"]]
    brigade = ev[
        (ev["tier"] == 0)
        & ev["kind"].isin([EventKind.DISPATCHED.value, EventKind.QUEUED.value, EventKind.UNSERVED.value])
        & (ev["unit_kind"] != DRONE)
    ]
    roles = brigade["unit_kind"].where(brigade["kind"] == EventKind.DISPATCHED.value, brigade["detail"])
    brigade_requests = brigade.assign(role=roles)[["incident", "tier", "role"]]
    requests = pd.concat([tier_requests, brigade_requests]).drop_duplicates(["incident", "tier", "role"])
    queued = ev[ev["kind"] == EventKind.QUEUED.value].drop_duplicates(["incident", "tier", "detail"])
    # what ends a wait: a dispatch of that request (for the brigade, of that unit kind) or its cancellation
    ends = ev[ev["kind"].isin([EventKind.DISPATCHED.value, EventKind.CANCELLED.value])]
    ends = ends.assign(role=ends["detail"].where(ends["kind"] == EventKind.CANCELLED.value, ""))
    brigade_sent = (ends["kind"] == EventKind.DISPATCHED.value) & (ends["tier"] == 0)
    ends.loc[brigade_sent, "role"] = ends.loc[brigade_sent, "unit_kind"]
    # each (incident, tier)'s ends in log order, looked up per waiting request instead of filtering the frame
    ends_of: dict[tuple[int, int], list[tuple[float, str]]] = {}
    columns = (ends[c].tolist() for c in ("incident", "tier", "t_s", "role"))
    for inc, tier, t, role in zip(*columns, strict=True):
        ends_of.setdefault((inc, tier), []).append((t, role))
    rows = []
    for role, group in requests.groupby("role", sort=True):
        q = queued[queued["detail"] == role]
        waited, unfinished, n_waited = 0.0, 0, 0
        for inc, tier, t0 in zip(q["incident"].tolist(), q["tier"].tolist(), q["t_s"].tolist(), strict=True):
            end = next(
                (
                    t
                    for t, r in ends_of.get((inc, tier), ())
                    if t >= t0 and (r == role or (r == "" and tier > 0))
                ),
                None,
            )
            if end is not None:
                waited += float(end) - t0
            else:
                waited += end_s - t0
                unfinished += 1
            n_waited += 1
        rows.append(
            {
                "role": role,
                "requests": len(group),
                "queued": len(q),
                "queued_share": len(q) / len(group),
                "mean_wait_s": waited / len(group),
                "mean_wait_when_queued_s": waited / n_waited if n_waited else math.nan,
                "cancelled": int(
                    ((ends["kind"] == EventKind.CANCELLED.value) & (ends["role"] == role)).sum()
                ),
                "unfinished": unfinished,
            }
        )
    columns = [
        "role",
        "requests",
        "queued",
        "queued_share",
        "mean_wait_s",
        "mean_wait_when_queued_s",
        "cancelled",
        "unfinished",
    ]
    return pd.DataFrame(rows, columns=columns)


def brigade_arrivals(events: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Per fire-brigade unit kind: of the incidents the 119 centre sent (or tried to send) one to, the share
    where one arrived, and the median and 90th-percentile time from the incident to the first arrival
    (+inf where none came). The brigade is not a policy tier, so tier metrics leave it out."""
    ev = _check_events(events)
    ev = ev[(ev["incident"] >= 0) & (ev["tier"] == 0) & (ev["unit_kind"] != DRONE)]
    asked = ev[
        ev["kind"].isin([EventKind.DISPATCHED.value, EventKind.QUEUED.value, EventKind.UNSERVED.value])
    ]
    asked = asked.assign(
        role=asked["unit_kind"].where(asked["kind"] == EventKind.DISPATCHED.value, asked["detail"])
    )
    arrived = ev[ev["kind"] == EventKind.ARRIVED.value]
    occurred = table.set_index("incident")["t_occurred"]
    rows = []
    for role, group in asked.groupby("role", sort=True):
        incidents = pd.unique(group["incident"])
        first = arrived[arrived["unit_kind"] == role].groupby("incident")["t_s"].min()
        times = (
            (first.reindex(incidents) - occurred.reindex(incidents).to_numpy()).fillna(math.inf).to_numpy()
        )
        rows.append(
            {
                "unit_kind": role,
                "n": len(incidents),
                "share_arrived": float(np.isfinite(times).mean()),
                "median_from_incident_s": quantile_inf(times, 0.5),
                "p90_from_incident_s": quantile_inf(times, 0.9),
            }
        )
    columns = ["unit_kind", "n", "share_arrived", "median_from_incident_s", "p90_from_incident_s"]
    return pd.DataFrame(rows, columns=columns)


def handoff_delays(events: pd.DataFrame) -> pd.Series:
    """Every cross-station handoff delay (s) in the log, indexed by incident."""
    ev = _of_kind(_check_events(events), EventKind.HANDOFF)
    return pd.Series(
        ev["value"].to_numpy(dtype=float), index=pd.Index(ev["incident"], name="incident"), name="handoff_s"
    )


def share_detected_from_air(table: pd.DataFrame) -> float:
    """Among detected incidents, the share first detected by a drone ("discover from the air")."""
    detected = table["detect_mode"].notna()
    return float(table.loc[detected, "first_detected_from_air"].mean()) if detected.any() else math.nan


# ----------------------------------------------------------------------------------------------- headline


def tier_key(table: pd.DataFrame, tier: int) -> str:
    """Metric prefix of a tier, by its *name* (role), so that policies whose tiers are numbered differently
    (police is tier 1 of police_only but tier 3 of echelon_135) are compared like with like."""
    return f"tier_{tier_name(table, tier) or tier}"


def _tier_headline(table: pd.DataFrame, counts: dict[str, int]) -> dict[str, float]:
    out: dict[str, float] = {}
    for count_from in HEADLINE_COUNT_FROM:
        for row in tier_metrics(table, count_from).itertuples():
            key = tier_key(table, row.tier)
            out[f"{key}_target_met_from_{count_from}"] = row.share_met
            counts[f"{key}_target_met_from_{count_from}"] = row.n
            out[f"{key}_median_from_{count_from}_s"] = row.median_s
            out[f"{key}_p90_from_{count_from}_s"] = row.p90_s
            if count_from == "alarm":  # whether it arrived at all does not depend on the moment
                out[f"{key}_share_arrived"] = row.share_arrived
                counts[f"{key}_share_arrived"] = row.n
    return out


def _outcome_headline(table: pd.DataFrame, counts: dict[str, int]) -> dict[str, float]:
    out: dict[str, float] = {}
    for row in outcome_rates(table).to_dict("records"):
        kind = row["kind"]
        seen = [
            c.removeprefix("share_")
            for c in row
            if c.startswith("share_") and c != "share_no_outcome" and not pd.isna(row[c]) and row[c] > 0
        ]
        for outcome in dict.fromkeys([*KIND_OUTCOMES.get(kind, ()), *seen]):
            share = row.get(f"share_{outcome}", math.nan)
            share = 0.0 if pd.isna(share) and row["n_outcome"] > 0 else share
            name = f"{RATE_NAME.get(outcome, outcome + '_rate')}_{kind}"
            out[name] = float(share)
            counts[name] = int(row["n_outcome"])
        if not pd.isna(row["mean_outcome_value"]) or kind in VALUE_NAME:
            out[VALUE_NAME.get(kind, f"mean_outcome_value_{kind}")] = float(row["mean_outcome_value"])
    return out


def headline(
    table: pd.DataFrame,
    events: pd.DataFrame,
    horizon_s: float,
    units: Mapping[str, int] | None = None,
    counts: dict[str, int] | None = None,
) -> dict[str, float]:
    """A flat dict of the scalar metrics of one replication, named so that the name says what is measured
    and from which moment (``tier2_target_met_from_alarm``, ``escape_rate_theft``, ``utilisation_police``).

    Only the tiers, kinds and unit kinds present in this replication appear; averaging across replications
    (``summarise_replications``) ignores a metric where it is absent. ``counts``, if given, receives for each
    share of counted things (incidents, requests) how many it was counted over: the pooled share and its
    Wilson interval need them."""
    counts = {} if counts is None else counts
    out: dict[str, float] = {
        "n_incidents": float(len(table)),
        "n_reported": float(table["t_reported"].notna().sum()),
    }
    out |= _tier_headline(table, counts)
    out |= _outcome_headline(table, counts)
    out["share_detected_from_air"] = share_detected_from_air(table)
    counts["share_detected_from_air"] = int(table["detect_mode"].notna().sum())
    for row in utilisation(events, horizon_s, units).itertuples():
        out[f"utilisation_{row.unit_kind}"] = float(row.utilisation)
    for row in queueing(events).itertuples():
        out[f"queued_share_{row.role}"] = float(row.queued_share)
        counts[f"queued_share_{row.role}"] = int(row.requests)
        out[f"mean_queue_wait_{row.role}_s"] = float(row.mean_wait_s)
    for row in brigade_arrivals(events, table).itertuples():
        out[f"brigade_{row.unit_kind}_share_arrived"] = float(row.share_arrived)
        counts[f"brigade_{row.unit_kind}_share_arrived"] = int(row.n)
        out[f"brigade_{row.unit_kind}_median_from_incident_s"] = float(row.median_from_incident_s)
        out[f"brigade_{row.unit_kind}_p90_from_incident_s"] = float(row.p90_from_incident_s)
    delays = handoff_delays(events).to_numpy(dtype=float)
    out["n_handoffs"] = float(len(delays))
    out["mean_handoff_s"] = _nanmean(delays)
    return out


# ------------------------------------------------------------------------------------------- replications


def _metric_columns(rows: pd.DataFrame) -> list[str]:
    missing = [c for c in ("policy", "replication") if c not in rows.columns]
    if missing:
        raise ValueError(f"replication rows need columns 'policy' and 'replication'; missing {missing}")
    return [
        c
        for c in rows.columns
        if c not in ("policy", "replication")
        and (pd.api.types.is_numeric_dtype(rows[c]) or pd.api.types.is_bool_dtype(rows[c]))
    ]


Z95 = 1.959963984540054  # standard normal 97.5th percentile

POOLED_WILSON = "pooled over replications (count / count), Wilson 95% interval"
MEAN_T = "mean over replications, Student-t 95% interval"
SUMMARY_COLUMNS = [
    "policy",
    "metric",
    "estimate",
    "ci95_low",
    "ci95_high",
    "how",
    "n_replications",
    "n_counted",
]


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion: always inside [0, 1], sensible at 0 and at n (unlike
    the Wald or Student-t interval, which give '100% ± 0%' from two incidents)."""
    if n <= 0:
        return math.nan, math.nan
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))  # p inside despite rounding


def metric_bounds(name: str) -> tuple[float, float]:
    """The values a metric can take: shares in [0, 1], times, areas and counts >= 0."""
    return (0.0, 1.0) if metric_unit(name) == "share" else (0.0, math.inf)


def _t_interval(values: np.ndarray, bounds: tuple[float, float]) -> tuple[float, float, float]:
    mean, half = _nanmean(values), ci95_half_width(values)
    if math.isnan(half):
        return mean, math.nan, math.nan
    return mean, max(bounds[0], mean - half), min(bounds[1], mean + half)


def summarise_replications(rows: pd.DataFrame, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per policy and metric: the estimate, its 95% interval, how both were computed, and what they rest on.

    A share of counted things (incidents meeting a target, thefts that escaped, requests that waited) is
    pooled over replications, count over count, with a Wilson interval, when ``counts`` (policy,
    replication, metric, n; from ``headline(counts=...)``) gives how many it was counted over. Every other
    metric (times, utilisation, areas) is the mean over replications with a Student-t interval, cut at the
    metric's bounds (no interval from fewer than two replications). Columns: SUMMARY_COLUMNS."""
    metrics = _metric_columns(rows)
    n_of: dict[tuple, float] = {}
    if counts is not None and len(counts):
        n_of = counts.set_index(["policy", "replication", "metric"])["n"].to_dict()
    out = []
    for policy in pd.unique(rows["policy"]):
        sub = rows[rows["policy"] == policy]
        reps = sub["replication"].to_numpy()
        for metric in metrics:
            v = sub[metric].to_numpy(dtype=float)
            defined = ~np.isnan(v)
            n = np.array([n_of.get((policy, r, metric), math.nan) for r in reps], dtype=float)
            row = {"policy": policy, "metric": metric, "n_replications": int(defined.sum())}
            if metric_unit(metric) == "share" and defined.any() and not np.isnan(n[defined]).any():
                total = float(n[defined].sum())
                k = float((v[defined] * n[defined]).sum())
                low, high = wilson_interval(k, total)
                row |= {"estimate": k / total if total else math.nan, "ci95_low": low, "ci95_high": high}
                row |= {"how": POOLED_WILSON, "n_counted": round(total)}
            else:
                est, low, high = _t_interval(v, metric_bounds(metric))
                row |= {"estimate": est, "ci95_low": low, "ci95_high": high, "how": MEAN_T}
                row["n_counted"] = int(np.nansum(n)) if not np.isnan(n).all() else pd.NA
            out.append(row)
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS).astype({"n_counted": "Int64"})


def _paired(policy: np.ndarray, baseline: np.ndarray, bounds: tuple[float, float]) -> dict[str, object]:
    """Mean and 95% CI of the per-replication differences; pairs where either side is NaN are dropped.

    The interval is cut at what a difference can be (a share's difference lies in [-1, 1])."""
    with np.errstate(invalid="ignore"):
        d = policy - baseline
    ok = ~np.isnan(d)
    mean, half = _nanmean(d), ci95_half_width(d)
    span = bounds[1] - bounds[0]
    low, high = (max(-span, mean - half), min(span, mean + half)) if not math.isnan(half) else (math.nan,) * 2
    return {
        "baseline_mean": _nanmean(baseline[ok]),
        "policy_mean": _nanmean(policy[ok]),
        "mean_diff": mean,
        "ci95_low": low,
        "ci95_high": high,
        "n": int(ok.sum()),
        "excludes_0": bool(not math.isnan(half) and (low > 0 or high < 0)),
    }


def _paired_pooled(
    share_a: np.ndarray, n_a: np.ndarray, share_b: np.ndarray, n_b: np.ndarray
) -> dict[str, object] | None:
    """The difference of two pooled shares (policy a - baseline b), paired by replication.

    Each share is all counts over all counts, as in the summary, so the levels a sentence quotes are the
    summary's. The interval treats replications as clusters (the linearised ratio estimator): per
    replication r the residual e_r = (k_a,r - p_a n_a,r) / N_a - (k_b,r - p_b n_b,r) / N_b, variance
    R/(R-1) sum e_r^2, Student t with R-1 degrees of freedom. None when the counts are missing."""
    ok = ~(np.isnan(share_a) | np.isnan(share_b) | np.isnan(n_a) | np.isnan(n_b))
    if not ok.any():
        return None
    ka, kb, na, nb = share_a[ok] * n_a[ok], share_b[ok] * n_b[ok], n_a[ok], n_b[ok]
    total_a, total_b = na.sum(), nb.sum()
    if total_a <= 0 or total_b <= 0:
        return None
    pa, pb = ka.sum() / total_a, kb.sum() / total_b
    diff, r = pa - pb, int(ok.sum())
    low = high = math.nan
    if r >= 2:
        e = (ka - pa * na) / total_a - (kb - pb * nb) / total_b
        half = float(_t_975(r - 1) * math.sqrt(r / (r - 1) * float((e * e).sum())))
        low, high = max(-1.0, diff - half), min(1.0, diff + half)
    return {
        "baseline_mean": pb,
        "policy_mean": pa,
        "mean_diff": diff,
        "ci95_low": low,
        "ci95_high": high,
        "n": r,
        "excludes_0": bool(not math.isnan(low) and (low > 0 or high < 0)),
    }


def _not_evidence(
    pair: dict[str, object],
    policy: np.ndarray,
    baseline: np.ndarray,
    counted: float,
    names: tuple[str, str],
    min_pairs: int,
    min_counted: int,
) -> str:
    """Why a paired difference is not evidence of a policy's effect, or '' when it is.

    Not evidence: too few pairs or too few counted incidents; the same difference in every replication (the
    configuration dictates it, chance has no part); a share stuck at 0% or 100% on one side in every
    replication (a mechanism switched off by the configuration, or too few incidents to vary)."""
    with np.errstate(invalid="ignore"):
        d = policy - baseline
    ok = ~np.isnan(d)
    d = d[ok]
    if pair["n"] < min_pairs:
        return f"only {pair['n']} paired replication(s); at least {min_pairs} needed"
    if not math.isnan(counted) and counted < min_counted:
        return f"counted over only {counted:.0f} incidents or requests; at least {min_counted} needed"
    if len(d) and np.all(d == d[0]):
        return (
            "no difference in any replication"
            if d[0] == 0
            else "the same difference in every replication: set by the configuration, not chance"
        )
    for side, values in zip(names, (policy[ok], baseline[ok]), strict=True):
        if len(values) and np.all(values == values[0]) and values[0] in (0.0, 1.0):
            return f"{side} is {values[0]:.0%} in every replication: set by the configuration or few cases"
    return ""


def identical_to(rows: pd.DataFrame) -> dict[str, str]:
    """Policies whose every metric equals an earlier policy's in every replication: {policy: that policy}.

    Two rules that make the same choices at this load give the same results; a report says so once
    instead of listing the same differences twice."""
    metrics = _metric_columns(rows)
    policies = list(pd.unique(rows["policy"]))
    frames = {p: rows[rows["policy"] == p].set_index("replication")[metrics].sort_index() for p in policies}
    same: dict[str, str] = {}
    for i, policy in enumerate(policies):
        for earlier in policies[:i]:
            if earlier not in same and frames[policy].equals(frames[earlier]):
                same[policy] = earlier
                break
    return same


def paired_differences(
    rows: pd.DataFrame,
    baseline: str,
    counts: pd.DataFrame | None = None,
    min_pairs: int = 5,
    min_counted: int = 20,
) -> pd.DataFrame:
    """For each other policy and metric: the mean of per-replication differences (policy - baseline on the
    same replication, i.e. the same incidents: common random numbers), its 95% CI and n pairs.

    Pairing removes the incident-to-incident noise both policies share, so the CI is far narrower than the
    difference of two independent means. A share with ``counts`` (from ``headline(counts=...)``) is the
    difference of the pooled shares, as in the summary (``_paired_pooled``). ``excludes_0``: the CI
    excludes 0. ``not_evidence`` says why a
    difference is no finding (too few pairs or incidents, dictated by the configuration), blank when it is
    one; ``finding`` = excludes_0 and evidence. ``counts`` (from ``headline(counts=...)``) gives how many
    incidents each share was counted over, summed over both policies' replications."""
    metrics = _metric_columns(rows)
    if baseline not in set(rows["policy"]):
        known = sorted(map(str, pd.unique(rows["policy"])))
        raise ValueError(f"baseline policy {baseline!r} not among {known}")
    if rows.duplicated(["policy", "replication"]).any():
        raise ValueError("each (policy, replication) must appear once")
    base = rows[rows["policy"] == baseline].set_index("replication")
    has_counts = counts is not None and len(counts) > 0
    counted = counts.groupby(["policy", "metric"])["n"].sum().to_dict() if has_counts else {}
    n_of = counts.set_index(["policy", "replication", "metric"])["n"].to_dict() if has_counts else {}
    out = []
    for policy in [p for p in pd.unique(rows["policy"]) if p != baseline]:
        other = rows[rows["policy"] == policy].set_index("replication")
        common = other.index.intersection(base.index)
        for metric in metrics:
            a = other.loc[common, metric].to_numpy(dtype=float)
            b = base.loc[common, metric].to_numpy(dtype=float)
            row = None
            if metric_unit(metric) == "share" and n_of:
                n_a = np.array([n_of.get((policy, r, metric), math.nan) for r in common], dtype=float)
                n_b = np.array([n_of.get((baseline, r, metric), math.nan) for r in common], dtype=float)
                row = _paired_pooled(a, n_a, b, n_b)
            if row is None:
                row = _paired(a, b, metric_bounds(metric))
            n_counted = min(
                counted.get((policy, metric), math.nan), counted.get((baseline, metric), math.nan)
            )
            why = _not_evidence(row, a, b, n_counted, (policy, baseline), min_pairs, min_counted)
            out.append(
                {"policy": policy, "baseline": baseline, "metric": metric, **row, "not_evidence": why}
                | {"finding": bool(row["excludes_0"] and not why)}
            )
    return pd.DataFrame(out, columns=DIFF_COLUMNS)


def replications_needed(row: pd.Series | dict, min_pairs: int = 2) -> float:
    """Replications at which this difference's 95% interval would stop straddling 0, if it stays this
    size: n * (half-width / |difference|)^2, and never fewer than ``min_pairs`` (the report's threshold for
    evidence). 0 when the two layouts gave the same value in every replication (no number of replications
    tells them apart); NaN when the differences cancel out on average (their size is unknown: run more)."""
    n, diff = int(row["n"]), float(row["mean_diff"])
    low, high = float(row["ci95_low"]), float(row["ci95_high"])
    if n < 2 or not (math.isfinite(low) and math.isfinite(high)):
        return math.nan
    if low == high == diff == 0.0:
        return 0.0
    if row["excludes_0"]:
        return float(max(n, min_pairs))
    if diff == 0.0:
        return math.nan
    half = (high - low) / 2.0
    return float(max(min_pairs, math.ceil(n * (half / abs(diff)) ** 2)))


def replications_for_half_width(n: int, half_width: float, target: float) -> float:
    """Replications at which a 95% interval now ``half_width`` wide on each side, from ``n`` replications,
    would shrink to ``target``: half-widths fall as 1/sqrt(n), so n (half / target)^2, at least 2. NaN when
    there is no interval yet or no positive target."""
    if n < 2 or not math.isfinite(half_width) or not (math.isfinite(target) and target > 0):
        return math.nan
    return float(max(2, math.ceil(n * (half_width / target) ** 2)))


DIFF_COLUMNS = [
    "policy",
    "baseline",
    "metric",
    "baseline_mean",
    "policy_mean",
    "mean_diff",
    "ci95_low",
    "ci95_high",
    "n",
    "excludes_0",
    "not_evidence",
    "finding",
]


# ------------------------------------------------------------------------------------------ metric naming


def metric_unit(name: str) -> str:
    """What a headline metric's number is: 'share' (0..1), 's' (seconds), 'm2', 'count' or '' (plain)."""
    if name.endswith("_s"):
        return "s"
    if name.endswith("_m2"):
        return "m2"
    if name.startswith("n_"):
        return "count"
    if re.search(r"target_met|_rate(_|$)|share|utilisation", name):
        return "share"
    return ""
