"""``echelon collect <sweep folder>``: a sweep's finished runs as tidy tables and one comparison report.

Reads only what ``echelon sweep`` wrote whole (``runs/<name>/run.json`` marks a finished run; hidden
``.part`` folders are runs in progress or abandoned and are never read), and writes ``collected/`` inside
the sweep folder, replaced whole on each collect:

- ``runs.parquet`` (and .csv): a row per run and metric, every swept key a column; the run's estimate
  over its replications with its 95% interval (``sim.analysis.metrics.summarise_replications``);
- ``replications.parquet``: a row per run, replication and metric (the values the intervals rest on);
- ``configurations.csv``: per configuration (the swept values but the seed) and metric, pooled over every
  seed and replication, with its interval and the replications a chosen half-width needs;
- ``paired_differences.csv``: each value of the compared key against its baseline value, all other swept
  keys equal, paired on (seed, replication): the same incident stream on both sides when only the policy
  differs (common random numbers);
- ``report.md`` and ``report.html``.
"""

from __future__ import annotations

import json
import math
import secrets
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis import metrics
from sim.analysis import report as words
from sim.analysis.report import Block
from sim.errors import ConfigError
from sim.sweep import DONE_FILE, FAILED, RUNS, read_plan

OUT = "collected"
OPTIONS = ("baseline", "precision", "half_width", "metric")


@dataclass(frozen=True)
class Options:
    """``baseline=key=value``: what the others are compared with; ``precision``: the wanted half-width of a
    95% interval as a share of its estimate (0.1: within 10%); ``half_width`` with ``metric``: the same
    as an absolute number in that metric's unit (0.05 for a share, 30 for seconds)."""

    baseline: tuple[str, str] | None = None
    precision: float = 0.1
    half_width: float | None = None
    metric: str | None = None


def parse_options(args: Sequence[str]) -> Options:
    given: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or key not in OPTIONS:
            raise ConfigError(
                f"collect: '{arg}' is not an option; allowed: {', '.join(k + '=...' for k in OPTIONS)}"
            )
        given[key] = value
    baseline = None
    if "baseline" in given:
        key, sep, value = given["baseline"].partition("=")
        if not sep:
            raise ConfigError("collect: baseline must be key=value, e.g. baseline=policy=police_only")
        baseline = (key, value)
    numbers = {}
    for key in ("precision", "half_width"):
        if key in given:
            try:
                numbers[key] = float(given[key])
            except ValueError:
                numbers[key] = math.nan
            if not (math.isfinite(numbers[key]) and numbers[key] > 0):
                raise ConfigError(f"collect: {key}={given[key]}: a positive number is allowed")
    if ("half_width" in given) != ("metric" in given):
        raise ConfigError(
            "collect: half_width and metric go together, e.g. half_width=0.05 metric=escape_rate_theft"
        )
    return Options(baseline, numbers.get("precision", 0.1), numbers.get("half_width"), given.get("metric"))


# ---- reading ---------------------------------------------------------------------------------------------
def _typed(values: pd.Series) -> pd.Series:
    """A swept key's column as numbers when every value is one (grid.cell_m), else as text (policy)."""
    try:
        return pd.to_numeric(values)
    except (ValueError, TypeError):
        return values.astype(str)


@dataclass(frozen=True)
class Sweep:
    """A sweep's finished runs: ``values`` (a row per run: run, the swept keys, seed), ``rows`` (run,
    replication, one column per metric), ``counts`` (run, replication, metric, n: what a share counts)."""

    plan: dict
    values: pd.DataFrame
    rows: pd.DataFrame
    counts: pd.DataFrame
    missing: list[str]

    @property
    def keys(self) -> list[str]:
        """The swept keys but the seed: what makes a configuration."""
        return [k for k in self.plan["swept_keys"] if k != "seed"]


def read_sweep(folder: Path) -> Sweep:
    """The plan, the per-replication metrics and counts of every finished run, and what is missing."""
    plan = read_plan(folder)
    values, rows, counts, missing = [], [], [], []
    for job in plan["jobs"]:
        run = folder / RUNS / job["name"]
        try:
            done = json.loads((run / DONE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            missing.append(job["name"])
            continue
        values.append(
            {"run": job["name"], **{k: job["swept"][k] for k in plan["swept_keys"]}, "seed": done["seed"]}
        )
        rows.append(pd.read_csv(run / "metrics_by_replication.csv").assign(run=job["name"]))
        counts.append(pd.read_csv(run / "metric_counts.csv").assign(run=job["name"]))
    if not rows:
        raise ConfigError(f"'{folder}': no finished run yet (run `echelon sweep` with the same overrides)")
    table = pd.DataFrame(values)
    for key in table.columns[1:]:
        table[key] = _typed(table[key])
    metric_rows = pd.concat(rows, ignore_index=True)
    metric_rows = metric_rows[
        ["run", "replication", *(c for c in metric_rows.columns if c not in ("run", "replication"))]
    ]
    return Sweep(plan, table, metric_rows, pd.concat(counts, ignore_index=True), missing)


def _label(row: Mapping, keys: Sequence[str]) -> str:
    return " ".join(f"{k}={row[k]}" for k in keys) or "all runs"


# ---- tables ----------------------------------------------------------------------------------------------
def tidy(sweep: Sweep) -> pd.DataFrame:
    """A row per run, replication and metric: run, the swept keys, seed, replication, metric, value, n."""
    long = sweep.rows.melt(id_vars=["run", "replication"], var_name="metric")
    n = sweep.counts.rename(columns={"n": "n_counted"})
    long = long.merge(n, on=["run", "replication", "metric"], how="left").astype({"n_counted": "Int64"})
    return sweep.values.merge(long, on="run")


def per_run(sweep: Sweep) -> pd.DataFrame:
    """A row per run and metric: its estimate over its replications with the 95% interval."""
    summary = metrics.summarise_replications(
        sweep.rows.rename(columns={"run": "policy"}), sweep.counts.rename(columns={"run": "policy"})
    ).rename(columns={"policy": "run"})
    return sweep.values.merge(summary, on="run")


def _keyed(sweep: Sweep, runs: Sequence[str], label: Mapping[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows and counts of ``runs`` keyed as ``summarise_replications`` and ``paired_differences``
    expect: policy = ``label[run]``, replication = 'seed/replication' (what pairs two runs)."""
    seed = sweep.values.set_index("run")["seed"].astype(str)
    out = []
    for frame in (sweep.rows, sweep.counts):
        sub = frame[frame["run"].isin(runs)]
        pair = sub["run"].map(seed) + "/" + sub["replication"].astype(str)
        out.append(sub.assign(policy=sub["run"].map(label), replication=pair).drop(columns="run"))
    return out[0], out[1]


def configurations(sweep: Sweep, options: Options) -> pd.DataFrame:
    """Per configuration and metric, pooled over seeds and replications, and the replications a 95%
    interval of the wanted half-width needs (``replications_needed``, counted as seeds x replications)."""
    label = {r["run"]: _label(r, sweep.keys) for r in sweep.values.to_dict("records")}
    rows, counts = _keyed(sweep, list(label), label)
    summary = metrics.summarise_replications(rows, counts).rename(columns={"policy": "configuration"})
    half = (summary["ci95_high"] - summary["ci95_low"]) / 2
    target = options.precision * summary["estimate"].abs()
    if options.metric is not None:
        target = target.where(summary["metric"] != options.metric, options.half_width)
    summary["half_width"] = half
    summary["target_half_width"] = target
    summary["replications_needed"] = [
        metrics.replications_for_half_width(int(n), h, t)
        for n, h, t in zip(summary["n_replications"], half, target, strict=True)
    ]
    return summary


def choose_baseline(sweep: Sweep, options: Options) -> tuple[str, str] | None:
    """The compared key and its baseline value: as asked, else the policy (or the first swept key) and its
    first value in the sweep."""
    keys = sweep.keys
    if options.baseline is not None:
        key, value = options.baseline
        if key not in keys:
            raise ConfigError(
                f"collect: baseline key '{key}' is not swept here; swept: {', '.join(keys) or 'none'}"
            )
        values = sorted(map(str, sweep.values[key].unique()))
        if value not in values:
            raise ConfigError(f"collect: baseline {key}={value}: no run has it; values: {', '.join(values)}")
        return key, value
    if not keys:
        return None
    key = "policy" if "policy" in keys else keys[0]
    return key, str(sweep.values[key].iloc[0])


def paired(sweep: Sweep, base: tuple[str, str], min_pairs: int, min_counted: int) -> pd.DataFrame:
    """Each other value of the compared key against the baseline value, within each combination of the
    other swept keys, paired on (seed, replication); with the replications needed to tell them apart."""
    key, value = base
    others = [k for k in sweep.keys if k != key]
    out = []
    groups = sweep.values.groupby(others, sort=False) if others else [((), sweep.values)]
    for group, sub in groups:
        label = dict(zip(sub["run"], sub[key].astype(str), strict=True))
        if value not in label.values() or len(set(label.values())) < 2:
            continue
        rows, counts = _keyed(sweep, list(label), label)
        diffs = metrics.paired_differences(rows, value, counts, min_pairs, min_counted)
        fixed = dict(zip(others, group if isinstance(group, tuple) else (group,), strict=True))
        out.append(diffs.assign(compared=key, **fixed))
    columns = ["compared", *others, *metrics.DIFF_COLUMNS, "replications_needed"]
    if not out:
        return pd.DataFrame(columns=columns)
    diffs = pd.concat(out, ignore_index=True)
    diffs["replications_needed"] = [metrics.replications_needed(r, min_pairs) for _, r in diffs.iterrows()]
    return diffs[columns]


# ---- the report ------------------------------------------------------------------------------------------
def _values_sentence(sweep: Sweep) -> str:
    plan = sweep.plan
    parts = [f"{k} = {', '.join(map(str, pd.unique(sweep.values[k])))}" for k in plan["swept_keys"]]
    fixed = [o for o in plan["overrides"] if o.split("=", 1)[0].lstrip("+~") not in plan["swept_keys"]]
    text = "Swept: " + ("; ".join(parts) if parts else "nothing") + "."
    return text + (
        f" Set for every run: {', '.join(fixed)}." if fixed else " Every other key at its default."
    )


def _config_table(summary: pd.DataFrame, names: Sequence[str]) -> Block:
    """Headline metrics as rows, configurations as columns; each cell 'estimate (95% interval)'."""
    configs = list(pd.unique(summary["configuration"]))
    cell = {
        (r.configuration, r.metric): words.with_interval(r.metric, r.estimate, r.ci95_low, r.ci95_high)
        for r in summary.itertuples()
    }
    rows = tuple((words.describe_metric(m), *(cell.get((c, m), "") for c in configs)) for m in names)
    return Block("table", header=("metric", *configs), rows=rows)


def _need_table(summary: pd.DataFrame, names: Sequence[str], options: Options) -> Block:
    shown = summary[summary["metric"].isin(names) & (summary["n_replications"] > 0)]
    rows = []
    for r in shown.itertuples():
        need = f"{r.replications_needed:.0f}"
        if math.isnan(r.replications_needed):
            need = "no interval yet" if r.n_replications < 2 else "estimate 0: give half_width= metric="
        rows.append(
            (
                r.configuration,
                words.describe_metric(r.metric),
                words.with_interval(r.metric, r.estimate, r.ci95_low, r.ci95_high),
                str(r.n_replications),
                words.format_value(r.metric, r.target_half_width)
                if math.isfinite(r.target_half_width)
                else "",
                need,
            )
        )
    header = (
        "configuration",
        "metric",
        "estimate (95% CI)",
        "replications now",
        "wanted half-width",
        "replications needed",
    )
    return Block("table", header=header, rows=tuple(rows))


def _diff_table(diffs: pd.DataFrame, names: Sequence[str], others: Sequence[str]) -> Block:
    """A row per compared value and headline metric (and combination of the other swept keys, if any)."""
    rows = []
    for _, r in diffs[diffs["metric"].isin(names) & (diffs["n"] > 0)].iterrows():
        name, low, high = r["metric"], float(r["ci95_low"]), float(r["ci95_high"])
        verdict = "finding" if r["finding"] else (r["not_evidence"] or "interval includes 0")
        need = "" if math.isnan(r["replications_needed"]) else f"{r['replications_needed']:.0f}"
        rows.append(
            (
                *([_label(r, others)] if others else []),
                str(r["policy"]),
                words.describe_metric(name),
                " -> ".join(words.format_value(name, r[k]) for k in ("baseline_mean", "policy_mean")),
                words.diff_amount(name, float(r["mean_diff"])),
                words.diff_range(name, low, high, float(r["mean_diff"])),
                str(int(r["n"])),
                verdict,
                need,
            )
        )
    header = (
        "value",
        "metric",
        "baseline -> value",
        "difference",
        "95% CI",
        "pairs",
        "verdict",
        "pairs to tell apart",
    )
    return Block("table", header=(*(["other swept keys"] if others else []), *header), rows=tuple(rows))


def report_blocks(
    folder: Path,
    sweep: Sweep,
    summary: pd.DataFrame,
    diffs: pd.DataFrame,
    base: tuple[str, str] | None,
    failed: Mapping[str, str],
    options: Options,
) -> list[Block]:
    names = words.headline_metrics(summary.rename(columns={"configuration": "policy"}))
    reps = sorted(sweep.rows.groupby("run")["replication"].nunique().unique())
    blocks = [
        Block("h1", text=f"Sweep {folder.name}: {len(sweep.values)} of {len(sweep.plan['jobs'])} runs"),
        Block("p", text=_values_sentence(sweep)),
        Block(
            "p",
            text=f"Each run simulates {' or '.join(map(str, reps))} replication(s); a configuration's "
            "estimate pools every seed and replication of it (a share: count over count with a Wilson "
            "interval; any other metric: the mean over replications with a Student-t interval). Times "
            "count from the moment each metric's name says (alarm or incident).",
        ),
        Block("h2", text="Configurations"),
        _config_table(summary, names),
    ]
    if base is not None:
        key, value = base
        others = [k for k in sweep.keys if k != key]
        blocks += [
            Block("h2", text=f"Paired differences against {key}={value}"),
            Block(
                "p",
                text=f"Each other {key} against {key}={value}, every other swept key equal, paired on seed "
                "and replication: both sides saw the same incident stream when only the policy differs "
                "(common random numbers); another key (a grid, a fleet) changes what happens, so the "
                "pairing then only shares the seed. 'pairs to tell apart': the pairs at which the interval "
                "would stop straddling 0 if the difference stays this size.",
            ),
            _diff_table(diffs, names, others),
        ]
    target = f"{options.precision:.0%} of its estimate" + (
        f" ({options.half_width:g} for {options.metric})" if options.metric else ""
    )
    blocks += [
        Block("h2", text="Replications needed"),
        Block(
            "p",
            text=f"For a 95% interval within {target}: half-widths shrink as 1/sqrt(n), so n (half-width / "
            "wanted)^2 seeds x replications (collect precision=0.05, or half_width=... metric=...).",
        ),
        _need_table(summary, names, options),
        Block("h2", text="Files"),
        Block(
            "ul",
            items=(
                "runs.parquet / runs.csv: a row per run and metric (every swept key a column)",
                "replications.parquet: a row per run, replication and metric",
                "configurations.csv: per configuration and metric, pooled, with the replications needed",
                "paired_differences.csv: every metric, not only the headline ones above",
            ),
        ),
    ]
    warnings = [
        f"run not finished (rerun `echelon sweep` with the same overrides): {m}" for m in sweep.missing
    ]
    warnings += [f"run failed: {name}: {why}" for name, why in failed.items()]
    return blocks + words.warning_blocks(warnings)


# ---- writing ---------------------------------------------------------------------------------------------
def collect(folder: Path, options: Options) -> tuple[Path, dict]:
    """Gather a sweep folder into ``collected/`` (replaced whole); return it and a few counts."""
    from sim.config import reference_config

    folder = Path(folder)
    sweep = read_sweep(folder)
    report_cfg = reference_config().report
    summary = configurations(sweep, options)
    base = choose_baseline(sweep, options)
    diffs = paired(sweep, base, report_cfg.min_pairs, report_cfg.min_counted) if base else pd.DataFrame()
    failed_dir = folder / FAILED
    failed = {p.name: p.read_text(encoding="utf-8").strip() for p in sorted(failed_dir.glob("*"))}
    final = folder / OUT
    tmp = folder / f".{OUT}.{secrets.token_hex(4)}.part"
    tmp.mkdir()
    try:
        runs = per_run(sweep)
        runs.to_parquet(tmp / "runs.parquet", index=False)
        runs.to_csv(tmp / "runs.csv", index=False)
        tidy(sweep).to_parquet(tmp / "replications.parquet", index=False)
        summary.to_csv(tmp / "configurations.csv", index=False)
        if base:
            diffs.to_csv(tmp / "paired_differences.csv", index=False)
        blocks = report_blocks(folder, sweep, summary, diffs, base, failed, options)
        (tmp / "report.md").write_text(words.to_markdown(blocks), encoding="utf-8")
        (tmp / "report.html").write_text(words.to_html(blocks), encoding="utf-8")
        old = folder / f".{OUT}.{secrets.token_hex(4)}.old"
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    found = int(diffs["finding"].sum()) if len(diffs) else 0
    return final, {
        "runs": len(sweep.values),
        "planned": len(sweep.plan["jobs"]),
        "failed": len(failed),
        "findings": found,
    }
