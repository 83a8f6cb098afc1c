"""Replay one incident of an ``echelon run`` or ``compare`` folder as a drill: the same narrative, timeline,
animation and after-action report, drawn from that folder's log alone.

The objectives are the policy's own tier targets (as the log's ``target`` events give them) and the good
outcome of the incident's kind; every policy in the folder is shown side by side, since they faced the
same incident with the same luck.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from sim.config import EchelonConfig, config_from_dict
from sim.drill.catalogue import duration, msg, term
from sim.drill.scenario import LANGS, Inject, Objective, Scenario
from sim.errors import ScenarioError
from sim.model.events import EventKind as K
from sim.model.events import read_log
from sim.model.outcomes import WORDS

LEAD_S = 60.0  # the replay starts this long before the incident


@dataclass
class Source:
    folder: Path
    events: pd.DataFrame  # one incident's events, every policy, with policy and replication columns
    incidents: pd.DataFrame  # that incident's row, with label
    cfgs: dict[str, EchelonConfig]  # policy label -> its configuration
    scenario: Scenario
    meta: dict


def _table(folder: Path, stem: str) -> pd.DataFrame:
    for suffix in (".parquet", ".csv"):
        path = folder / f"{stem}{suffix}"
        if path.is_file():
            return read_log(path) if stem == "events" else _read(path)
    raise ScenarioError(
        f"{folder}: no {stem}.parquet or {stem}.csv; give a folder written by echelon run or compare"
    )


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, keep_default_na=False)


def _configs(folder: Path) -> dict[str, EchelonConfig]:
    path = folder / "config.yaml"
    if not path.is_file():
        raise ScenarioError(f"{folder}: no config.yaml; give a folder written by echelon run or compare")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfgs = {}
    for label, value in data.items():
        if label == "changed_settings" or not isinstance(value, dict):
            continue
        value = dict(value)
        choices = value.pop("choices", {})
        cfgs[label] = config_from_dict(value, choices)
    if not cfgs:
        raise ScenarioError(f"{path}: names no configuration")
    return cfgs


def load_source(folder_text: str, incident: str, replication: str, policies: list[str]) -> Source:
    folder = Path(folder_text).expanduser()
    if not folder.is_dir():
        raise ScenarioError(f"results folder {folder} not found")
    events, incidents, cfgs = _table(folder, "events"), _table(folder, "incidents"), _configs(folder)
    try:
        rep, inc_id = int(replication), int(incident)
    except ValueError:
        raise ScenarioError(
            f"echelon replay: incident and replication are whole numbers, got {incident!r}, {replication!r}"
        ) from None
    if "replication" in incidents:
        incidents = incidents[incidents["replication"] == rep]
        events = events[events["replication"] == rep]
    if not len(incidents):
        raise ScenarioError(f"{folder}: no replication {rep} (the folder has {_span(events)})")
    row = incidents[incidents["incident"] == inc_id]
    if not len(row):
        ids = incidents["incident"].astype(int)
        raise ScenarioError(
            f"{folder}: replication {rep} has no incident {inc_id}; "
            f"its incidents are {ids.min()} to {ids.max()}"
        )
    mine = events[events["incident"] == inc_id].copy()
    if "policy" not in mine:
        mine["policy"] = next(iter(cfgs))
    known = list(dict.fromkeys(mine["policy"]))
    if policies:
        unknown = [p for p in policies if p not in known]
        if unknown:
            raise ScenarioError(f"{folder}: policies in this log are {', '.join(known)}, got {unknown[0]!r}")
        mine = mine[mine["policy"].isin(policies)]
    row = row.copy()
    row["label"] = f"#{inc_id}"
    scenario = _scenario(folder, row.iloc[0], mine, cfgs)
    t0 = float(row["t_s"].iloc[0])
    meta = {
        "scenario": scenario.id,
        "start_s": t0 - LEAD_S,
        "end_s": float(mine["t_s"].max()),
        "arms": [{"label": p, "policy": p, "trainees": False} for p in dict.fromkeys(mine["policy"])],
        "replay_of": str(folder),
        "incidents": {f"#{inc_id}": inc_id},
    }
    return Source(folder, mine, row, cfgs, scenario, meta)


def _span(events: pd.DataFrame) -> str:
    reps = sorted(set(events["replication"].astype(int))) if "replication" in events else [0]
    return f"replications {reps[0]} to {reps[-1]}" if reps else "no replication"


def _both(key: str, **fields) -> dict[str, str]:
    return {lang: msg(key, lang, **fields) for lang in LANGS}


def _scenario(folder: Path, inc: pd.Series, events: pd.DataFrame, cfgs: dict[str, EchelonConfig]) -> Scenario:
    """The incident as a one-inject scenario whose objectives are the tiers' targets (each policy's own
    tiers, one objective per tier name and unit kind) and the good outcome of its kind."""
    label = f"#{int(inc['incident'])}"
    kind = str(inc["kind"])
    cfg = next(iter(cfgs.values()))
    objectives, seen = [], set()
    for _, mine in events.groupby("policy", sort=False):
        for _, t in mine[mine["kind"] == K.TARGET].iterrows():
            sent = mine[(mine["kind"] == K.DISPATCHED) & (mine["tier"] == t["tier"])]
            unit_kind = str(sent["unit_kind"].iloc[0]) if len(sent) else ""
            key = (str(t["detail"]), unit_kind, float(t["value"]))
            if not unit_kind or key in seen:
                continue
            seen.add(key)
            tier = {lang: term("tier", key[0], lang) for lang in LANGS}
            target = {lang: duration(key[2], lang) for lang in LANGS}
            text = {lang: msg("replay.arrival", lang, tier=tier[lang], target=target[lang]) for lang in LANGS}
            objectives.append(
                Objective(
                    f"T{len(objectives) + 1}", text, "arrival", label, unit_kind=unit_kind, target_s=key[2]
                )
            )
    outcome = cfg.incidents.kinds[kind.removeprefix("cross_district_")].outcome if cfg.incidents else ""
    if outcome:
        good = WORDS[outcome][0]
        text = {lang: msg("replay.outcome", lang, outcome=term("outcome", good, lang)) for lang in LANGS}
        objectives.append(Objective("O", text, "outcome", label, expect=good))
    node = int(inc["node"])
    where = {lang: str(inc["enterprise"]) or msg("replay.node", lang, node=node) for lang in LANGS}
    message = {lang: msg("replay.inject", lang, kind=term("incident_kind", kind, lang), where=where[lang])
               for lang in LANGS}  # fmt: skip
    inject = Inject(
        at=LEAD_S, type="incident", seq=1, incident=label, kind=kind, enterprise=str(inc["enterprise"]),
        message=message,
    )  # fmt: skip
    title = {
        lang: msg(
            "replay.title", lang, label=label, kind=term("incident_kind", kind, lang), folder=folder.name
        )
        for lang in LANGS
    }
    return Scenario(
        id=f"replay-{folder.name}-incident{int(inc['incident'])}",
        title=title, objectives=objectives, injects=[inject], source=str(folder),
        policies=list(dict.fromkeys(events["policy"])), start=(float(inc["t_s"]) - LEAD_S) % 86_400.0,
        duration=max(1.0, float(events["t_s"].max() - inc["t_s"]) + LEAD_S), path=str(folder),
    )  # fmt: skip


def write_meta(folder: Path, meta: dict) -> None:
    (folder / "drill.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
