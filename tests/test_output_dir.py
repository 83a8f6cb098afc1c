"""Where results go: the Python API reads a relative results_dir against the project folder, the command
line against the current folder (README, "From Python")."""

from __future__ import annotations

import pytest

import sim.config
from sim.cli import main
from sim.config import PROJECT_DIR, load_config, output_dir
from sim.experiment import run, write_results


def test_relative_output_folders_are_the_projects_for_the_api():
    assert output_dir("results") == PROJECT_DIR / "results"
    assert (PROJECT_DIR / "conf" / "config.yaml").exists()  # the project folder is the one holding conf/


def test_absolute_output_folders_are_used_as_given(tmp_path):
    assert output_dir(tmp_path / "out") == tmp_path / "out"


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """The current folder is not the project's; the project folder is a scratch one (not to litter it)."""
    project, cwd = tmp_path / "project", tmp_path / "notebooks"
    project.mkdir()
    cwd.mkdir()
    monkeypatch.setattr(sim.config, "PROJECT_DIR", project)
    monkeypatch.chdir(cwd)
    return project, cwd


def test_the_python_api_writes_where_the_config_says_from_any_folder(elsewhere, daishan_site, cache_dir):
    project, cwd = elsewhere
    cfg = load_config(
        ["results_dir=my-results", f"cache_dir={cache_dir}", "run.days=1", "run.replications=1"]
    )
    reps = run(cfg, daishan_site)
    out = write_results(reps, {"echelon_135": cfg}, daishan_site, None, "api")
    assert out.parent == project / "my-results" and (out / "summary.html").exists()
    assert not any(cwd.iterdir())  # nothing beside the notebook
    again = write_results(reps, {"echelon_135": cfg}, daishan_site, None, "api", results_dir=cwd / "here")
    assert again.parent == cwd / "here"  # an explicit folder wins


def test_the_command_writes_under_the_current_folder(elsewhere, cache_dir, capsys):
    project, cwd = elsewhere
    assert main(["run", "run.days=1", "run.replications=1", f"cache_dir={cache_dir}"]) == 0
    (out,) = (cwd / "results").iterdir()
    assert out.name.startswith("run-echelon_135-daishan-days=1+replications=1-")
    assert not any(project.iterdir())
    printed = capsys.readouterr()
    assert f"wrote results/{out.name}/summary.html" in printed.out  # as the user would type it
    assert "%|" not in printed.err  # no progress bar when stderr is not a terminal
