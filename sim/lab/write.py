"""The layout study's folder: tables a spreadsheet opens, layouts a GIS tool opens, figures and the report.

Written into a temporary folder and moved into place when complete (``sim.result_folder``), so a stopped
study leaves nothing half-written."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import yaml

from sim.config import output_dir
from sim.config_diff import Setting
from sim.lab import coverage, figures
from sim.lab.evaluate import summary
from sim.lab.layout_file import write_layout
from sim.lab.report import write_report
from sim.lab.study import Study
from sim.result_folder import result_folder


def _tables(study: Study) -> dict[str, pd.DataFrame]:
    loads = study.loads
    out = {
        "static_coverage.csv": study.static,
        "grids.csv": study.grids,
        "balance.csv": study.balance,
        "compliance.csv": pd.concat([summary(r) for r in loads], ignore_index=True),
        "differences.csv": pd.concat([r.diffs.assign(load=r.load) for r in loads], ignore_index=True),
        "workload.csv": pd.concat([r.teams.assign(load=r.load) for r in loads], ignore_index=True),
        "metrics_by_replication.csv": pd.concat(
            [r.rows.assign(load=r.load) for r in loads], ignore_index=True
        ),
    }
    opt = study.optimisation
    if opt is not None:
        total = float(opt.instance.weights.sum())
        rows = [
            {"method": "exact (MCLP, HiGHS)", "teams": opt.budget, "coverage": opt.exact.objective / total}
            | {"bound": opt.exact.bound / total, "status": opt.exact.status},
            {"method": "greedy", "teams": opt.budget, "coverage": opt.greedy.objective / total}
            | {"bound": float("nan"), "status": "greedy"},
        ]
        rows += [
            {"method": f"refinement round {r.round} (MEXCLP: expected coverage)", "teams": opt.budget}
            | {"coverage": r.expected_after / total, "bound": float("nan")}
            | {"status": f"q mean {r.busy_share:.4f}, max {r.busiest:.4f}"}
            | {"changed": "; ".join(r.moved)}
            for r in opt.refinements
        ]
        out["optimisation.csv"] = pd.DataFrame(rows)
        if opt.curve is not None:
            out["curve.csv"] = opt.curve
    return out


def write_study(study: Study, stem: str, settings: Sequence[Setting] = ()) -> Path:
    """Everything into ``<results_dir>/<stem>-<date>-<time>/``; returns the folder."""
    cfg = study.cfg
    with result_folder(output_dir(cfg.results_dir), stem) as (tmp, final):
        for name, table in _tables(study).items():
            table.to_csv(tmp / name, index=False)
        layouts = tmp / "layouts"
        layouts.mkdir()
        for layout in study.layouts:
            reach = coverage.reach_polygons(study.site, layout, cfg)
            write_layout(layout, layouts, reach=reach, site=study.site)
        figures.layout_maps(study, tmp / "layouts.png")
        figures.compliance_figure(study, tmp / "compliance.png")
        figures.workload_figure(study, tmp / "workload.png")
        if study.optimisation is not None and study.optimisation.curve is not None:
            figures.curve_figure(study, tmp / "curve.png")
        write_report(tmp, study)
        dump = {
            "changed_from_defaults": [s.as_dict() for s in settings],
            "lab": {k: v for k, v in cfg.lab.__dict__.items()},
            "seed": cfg.seed,
            "run": {"days": cfg.run.days, "replications": cfg.run.replications},
            "choices": dict(cfg.choices),
        }
        (tmp / "config.yaml").write_text(yaml.safe_dump(dump, sort_keys=False, allow_unicode=True))
    return final
