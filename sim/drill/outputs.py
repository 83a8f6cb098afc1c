"""A drill's result folder: the log and its tables first, then everything drawn from them.

events (.parquet, .csv), incidents, units.csv, drill.json, scenario.yaml and config.yaml are the record;
the narrative, the timeline, the animation and the after-action report are drawn from that record alone
(``draw_from_log``), which is also what ``echelon replay`` calls on a folder of ``echelon run``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import yaml

from sim.drill.run import DrillRun, Progress
from sim.drill.scenario import dump_scenario
from sim.model.events import write_log
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
    run: DrillRun, results_dir: Path, stem: str, lang: str, settings: list, progress: Progress | None = None
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
        draw_from_log(tmp, run.drill.scenario, meta, run.site, lang, progress)
    return final


def draw_from_log(
    folder: Path, scenario, meta: dict, site, lang: str, progress: Progress | None = None
) -> None:
    """Narrative, timeline, animation and after-action report, from the folder's log and tables."""


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
