"""A drill's result folder: the log and its tables first, then everything drawn from them.

events (.parquet, .csv), incidents, units.csv, drill.json, scenario.yaml and config.yaml are the record;
the narrative, the timeline, the animation and the after-action report are drawn from that record alone
(``draw_from_log``), which is also what ``echelon replay`` calls on a folder of ``echelon run``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pandas as pd
import yaml

from sim.drill.aar import write_aar
from sim.drill.animation import render_animation, still_frame
from sim.drill.catalogue import figure_labels
from sim.drill.run import DrillRun, Progress
from sim.drill.scenario import dump_scenario, text
from sim.drill.scene import scene
from sim.drill.timeline import draw_timeline
from sim.model.events import EventKind as K
from sim.model.events import read_log, write_log
from sim.result_folder import result_folder


def drill_meta(run: DrillRun, lang: str) -> dict:
    d = run.drill
    return {
        "scenario": d.scenario.id,
        "start_s": d.start_s,
        "end_s": d.end_s,
        "arms": [dataclasses.asdict(a) for a in run.arms],
        "site": run.site.name,
        "synthetic": bool(run.site.synthetic),
        "lang": lang,
        "incidents": {label: int(i) for i, label in d.labels.items()},
    }


def write_drill(
    run: DrillRun,
    results_dir: Path,
    stem: str,
    lang: str,
    settings: list,
    progress: Progress | None = None,
    frame_s: float | None = None,
) -> Path:
    with result_folder(results_dir, stem) as (tmp, final):
        write_log(run.events, tmp)
        write_log(run.incidents, tmp, "incidents")
        run.units.to_csv(tmp / "units.csv", index=False)
        meta = drill_meta(run, lang)
        (tmp / "drill.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
        (tmp / "scenario.yaml").write_text(dump_scenario(run.drill.scenario), encoding="utf-8")
        config = {"changed_settings": [s.as_dict() for s in settings]}
        config.update({label: dataclasses.asdict(cfg) for label, cfg in run.cfgs.items()})
        (tmp / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
        draw_from_log(tmp, run.drill.scenario, meta, run.site, lang, progress, frame_s)
    return final


def draw_from_log(
    folder: Path,
    scenario,
    meta: dict,
    site,
    lang: str,
    progress: Progress | None = None,
    frame_s: float | None = None,
) -> None:
    """Narrative, timeline, animation and after-action report, from the folder's log and tables."""
    events = read_log(folder / "events.parquet")
    incidents = pd.read_parquet(folder / "incidents.parquet")
    units = pd.read_csv(folder / "units.csv", keep_default_na=False)
    arms = [a["label"] for a in meta["arms"]]
    start_s, end_s = float(meta["start_s"]), float(meta["end_s"])
    draw_timeline(
        events,
        incidents,
        start_s=start_s,
        end_s=end_s,
        labels=figure_labels(lang),
        out_path=folder / "timeline.png",
        arms=arms,
        synthetic=bool(meta.get("synthetic")),
    )
    messages = {inj.seq: text(inj.message, lang) for inj in scenario.injects if inj.message}
    step_s = frame_s or max(10.0, math.ceil((end_s - start_s) / MAX_FRAMES / 10.0) * 10.0)
    words = figure_labels(lang, "animation")
    for k, arm in enumerate(arms):
        mine = events[events["policy"] == arm]
        stem = "animation" if k == 0 else f"animation_{_safe(arm)}"
        stage = f"animating {arm}"
        told = (lambda _s, done, total, stage=stage: progress(stage, done, total)) if progress else None
        sc = scene(mine, incidents, units, site, messages)
        frames = {"start_s": start_s, "end_s": end_s, "lang": lang, "labels": words, "messages": messages}
        render_animation(
            mine,
            incidents,
            units,
            site,
            folder,
            step_s=step_s,
            stem=stem,
            prepared=sc,
            progress=told,
            **frames,
        )
        if k == 0:
            moment = _still_moment(mine, incidents)
            still_frame(
                mine,
                incidents,
                units,
                site,
                folder / "animation_still.png",
                t_s=moment,
                prepared=sc,
                **frames,
            )
    if progress:
        progress("writing the report", 0, 1)
    write_aar(folder, scenario, events, incidents, units, meta, lang)
    if progress:
        progress("writing the report", 1, 1)


MAX_FRAMES = 600  # a long drill is drawn at a coarser step, so the animation renders in about a minute


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in label)


def _still_moment(events: pd.DataFrame, incidents: pd.DataFrame) -> float:
    """A moment with a unit on the road: halfway through the drive of the first unit (not the guards, who
    are on the premises) to reach the first scripted incident."""
    labels = incidents["label"] if "label" in incidents else pd.Series([""] * len(incidents))
    scripted = incidents["incident"][labels.astype(str) != ""]
    first = int(scripted.iloc[0]) if len(scripted) else int(incidents["incident"].iloc[0])
    mine = events[(events["incident"] == first) & (events["unit_kind"] != "own_security")]
    for _, there in mine[mine["kind"] == K.ARRIVED].iterrows():
        left = mine[
            (mine["kind"] == K.MOBILISED) & (mine["unit"] == there["unit"]) & (mine["t_s"] <= there["t_s"])
        ]
        if len(left):
            return (float(left["t_s"].iloc[-1]) + float(there["t_s"])) / 2.0
    return float(events[events["incident"] == first]["t_s"].min())


def write_replay(source, cfg, site, results_dir: Path, lang: str, progress: Progress | None = None) -> Path:
    """``echelon replay``: one incident of a run or compare folder, drawn as a drill."""
    from sim.drill.unit_table import units_frame
    from sim.model.model import EchelonModel

    units = units_frame(EchelonModel(site, cfg, []))
    meta = {**source.meta, "site": site.name, "synthetic": bool(site.synthetic), "lang": lang}
    with result_folder(results_dir, source.scenario.id) as (tmp, final):
        write_log(source.events.reset_index(drop=True), tmp)
        write_log(source.incidents.reset_index(drop=True), tmp, "incidents")
        units.to_csv(tmp / "units.csv", index=False)
        (tmp / "drill.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
        draw_from_log(tmp, source.scenario, meta, site, lang, progress)
    return final
