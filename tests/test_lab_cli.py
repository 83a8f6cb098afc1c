"""`echelon grid` and `echelon grid optimise` from the command line, on the default site and on Helsinki
(real OSM), with generated layouts and a planner's file: what a user types, what they get."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sim.cli import main
from sim.lab.generators import hexagons
from sim.lab.layout_file import write_layout

SHORT = ("run.days=2", "run.replications=2", "lab.curve=[3]", "lab.refine_rounds=1")


def _run(capsys, tmp_path: Path, cache_dir: Path, *args: str) -> tuple[str, Path]:
    code = main([*args, f"results_dir={tmp_path / 'results'}", f"cache_dir={cache_dir}"])
    out = capsys.readouterr().out
    assert code == 0, out
    (folder,) = sorted((tmp_path / "results").iterdir())
    return out, folder


@pytest.mark.slow
def test_grid_on_the_default_site_with_a_planners_file(daishan_site, capsys, tmp_path, cache_dir):
    mine = dataclasses.replace(hexagons(daishan_site, 600.0, 1), name="planner_hex_600")
    drawn = tmp_path / "drawn"
    drawn.mkdir()
    (gpkg,) = [p for p in write_layout(mine, drawn) if p.suffix == ".gpkg"]
    out, folder = _run(capsys, tmp_path, cache_dir, "grid", *SHORT, f"lab.files={gpkg}")
    assert out.startswith("Recommended: ")
    assert "\nProvisional: " in out  # two replications are fewer than report.min_pairs
    assert "planner_hex_600" in (folder / "grid.md").read_text(encoding="utf-8")
    assert (folder / "layouts" / "planner_hex_600.gpkg").is_file()
    assert not (folder / "curve.png").exists()  # no optimisation asked for


@pytest.mark.slow
def test_grid_optimise_on_helsinki(capsys, tmp_path, cache_dir):
    out, folder = _run(
        capsys,
        tmp_path,
        cache_dir,
        "grid",
        "optimise",
        "budget=3",
        "site=helsinki",
        *SHORT,
        "lab.layouts.clusters_30.count=4",
    )
    assert "\nRecommended: " in out  # after the site's warnings
    assert "helsinki" in folder.name and "grid-optimise" in folder.name
    text = (folder / "grid.md").read_text(encoding="utf-8")
    assert "optimised_3" in text and "Greedy" in text
    assert (folder / "curve.png").is_file() and (folder / "layouts" / "optimised_3.gpkg").is_file()
