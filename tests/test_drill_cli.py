"""Every shipped scenario replays from the command line, in Chinese, and is drawn again in English from its
folder alone; a run's folder replays one incident. Short form: a coarse animation step (frame_s)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

from sim.cli import main
from sim.drill.scenario import load_scenario, shipped_names

FILES = ["events.parquet", "incidents.parquet", "units.csv", "drill.json", "scenario.yaml", "config.yaml",
         "timeline.png", "animation.gif", "animation.mp4", "animation_still.png", "narrative.md", "aar.md",
         "aar.html"]  # fmt: skip


def _folder(results: Path, prefix: str) -> Path:
    (folder,) = [p for p in results.iterdir() if p.name.startswith(prefix)]
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("name", shipped_names())
def test_every_shipped_scenario_replays_in_chinese_and_redraws_in_english(name, tmp_path, cache_dir, capsys):
    results = tmp_path / "results"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["drill", f"scenario={name}", "lang=zh", "frame_s=600",
                     f"results_dir={results}", f"cache_dir={cache_dir}"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert not [w for w in caught if "Glyph" in str(w.message)]
    folder = _folder(results, "drill-")
    for f in FILES:
        assert (folder / f).stat().st_size > 0, f
    aar = (folder / "aar.md").read_text(encoding="utf-8")
    assert aar.startswith("# 演练总结评估报告：")
    meta = json.loads((folder / "drill.json").read_text(encoding="utf-8"))
    scenario = load_scenario(name)
    for objective in scenario.objectives:
        assert objective.id in aar
    # the same folder drawn again in English, from the record alone
    from sim.config import load_config
    from sim.drill.outputs import draw_from_log
    from sim.site.build import build_site

    again = tmp_path / "en"
    shutil.copytree(folder, again)
    for f in ("timeline.png", "aar.md", "aar.html", "narrative.md", "animation.gif", "animation.mp4"):
        (again / f).unlink()
    site = build_site(load_config([*scenario.config, f"cache_dir={cache_dir}"]))
    draw_from_log(again, scenario, {**meta, "lang": "en"}, site, "en", frame_s=600)
    english = (again / "aar.md").read_text(encoding="utf-8")
    assert english.startswith("# After-action report")
    assert (again / "timeline.png").stat().st_size > 0


def test_a_run_folder_replays_one_incident_with_every_policy(tmp_path, cache_dir, capsys):
    results = tmp_path / "results"
    code = main(["compare", "run.days=3", "run.replications=1", "run.policies=[police_only,echelon_135]",
                 f"results_dir={results}", f"cache_dir={cache_dir}"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    source = _folder(results, "compare-")
    code = main(["replay", str(source), "incident=0", "lang=zh", f"results_dir={results}",
                 f"cache_dir={cache_dir}"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "police_only, echelon_135" in out.out
    folder = _folder(results, "replay-")
    meta = json.loads((folder / "drill.json").read_text(encoding="utf-8"))
    assert [a["label"] for a in meta["arms"]] == ["police_only", "echelon_135"]
    for f in ("timeline.png", "animation.gif", "aar.html", "narrative.md"):
        assert (folder / f).stat().st_size > 0


def test_replay_refuses_a_missing_incident_in_one_line(tmp_path, cache_dir, capsys):
    code = main(["replay", str(tmp_path), "incident=0", f"results_dir={tmp_path / 'r'}"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("echelon: error: ") and "no events.parquet or events.csv" in err
